# Source: Sebastian Raschka, "Build a Large Language Model (From Scratch)", chapter 7 ("Fine-tuning to
# follow instructions"): format_input, InstructionDataset, the three collate functions (padding with
# <|endoftext|>, shifted targets, masking all but the first padding token with ignore_index=-100 via
# torch.nonzero(...).squeeze() and index assignment, allowed_max_length truncation), cross_entropy with
# -100 targets, DataLoader with functools.partial(custom_collate_fn, ...), the loss before finetuning,
# train_model_simple with AdamW, generate(..., eos_id=...), the model's responses, saving the state dict.
#   https://github.com/rasbt/LLMs-from-scratch  ch07/01_main-chapter-code/ch07.ipynb
#   (GPTModel, generate, train_model_simple, calc_loss_loader, text_to_token_ids, token_ids_to_text from the
#   book's package pkg/llms_from_scratch/ch04.py and ch05.py, copied in llms_from_scratch/ beside this file)
# Shrunk: instruction-data.json (1,100 entries, downloaded) is replaced by 12 of its own entries, written
# below (10 short ASCII ones and the notebook's two examples data[50] and data[999], which become data[10]
# and data[11]); tiktoken's GPT-2 BPE is replaced by a character tokenizer (llms_from_scratch/
# char_tokenizer.py, <|endoftext|> = id 96 instead of 50256, so the collate function's pad_token_id is passed
# through the partial and the toy batches use it); the pretrained GPT-2 medium (download_and_load_gpt2,
# load_weights_into_gpt) is replaced by a tiny randomly initialised GPTModel (context 256, 32-dim
# embeddings, 4 heads, 2 layers); 2 epochs with eval_freq=1, max_new_tokens 35/256 -> 10, the test loop
# over all of test_data and its JSON file, the timing prints, plot_losses and the Ollama evaluation
# (section 7.8) are dropped; files are written to a temporary folder.
import json
import os
import tempfile

from llms_from_scratch.char_tokenizer import CharTokenizer

os.chdir(tempfile.mkdtemp())

data = [
    {"instruction": "Convert 45 kilometers to meters.", "input": "", "output": "45 kilometers is 45000 meters."},
    {"instruction": "What is the capital of Indonesia?", "input": "", "output": "The capital of Indonesia is Jakarta."},
    {"instruction": "Provide a synonym for 'bright'.", "input": "", "output": "A synonym for 'bright' is 'radiant'."},
    {"instruction": "Suggest an alternate word for 'happy'.", "input": "", "output": "joyful."},
    {"instruction": "Name three types of biomes.", "input": "", "output": "Forest, desert, and grassland."},
    {"instruction": "What is the opposite of 'thin'?", "input": "", "output": "The opposite of 'thin' is 'thick'."},
    {"instruction": "What is the past tense of 'draw'?", "input": "", "output": "The past tense of 'draw' is 'drew.'"},
    {"instruction": "What is the atomic number of oxygen?", "input": "", "output": "The atomic number of oxygen is 8."},
    {"instruction": "What is a synonym of 'luminous'?", "input": "", "output": "A synonym for 'luminous' is 'bright'."},
    {"instruction": "Provide a synonym for 'happy'.", "input": "", "output": "A synonym for 'happy' is 'content'."},
    {"instruction": "Identify the correct spelling of the following word.", "input": "Ocassion", "output": "The correct spelling is 'Occasion.'"},
    {"instruction": "What is an antonym of 'complicated'?", "input": "", "output": "An antonym of 'complicated' is 'simple'."},
]
print("Number of entries:", len(data))

print("Example entry:\n", data[10])

print("Another example entry:\n", data[11])


def format_input(entry):
    instruction_text = (
        f"Below is an instruction that describes a task. "
        f"Write a response that appropriately completes the request."
        f"\n\n### Instruction:\n{entry['instruction']}"
    )

    input_text = f"\n\n### Input:\n{entry['input']}" if entry["input"] else ""

    return instruction_text + input_text


model_input = format_input(data[10])
desired_response = f"\n\n### Response:\n{data[10]['output']}"

print(model_input + desired_response)

model_input = format_input(data[11])
desired_response = f"\n\n### Response:\n{data[11]['output']}"

print(model_input + desired_response)

train_portion = int(len(data) * 0.85)  # 85% for training
test_portion = int(len(data) * 0.1)    # 10% for testing
val_portion = len(data) - train_portion - test_portion  # Remaining 5% for validation

train_data = data[:train_portion]
test_data = data[train_portion:train_portion + test_portion]
val_data = data[train_portion + test_portion:]

print("Training set length:", len(train_data))
print("Validation set length:", len(val_data))
print("Test set length:", len(test_data))

import torch
from torch.utils.data import Dataset


class InstructionDataset(Dataset):
    def __init__(self, data, tokenizer):
        self.data = data

        # Pre-tokenize texts
        self.encoded_texts = []
        for entry in data:
            instruction_plus_input = format_input(entry)
            response_text = f"\n\n### Response:\n{entry['output']}"
            full_text = instruction_plus_input + response_text
            self.encoded_texts.append(
                tokenizer.encode(full_text)
            )

    def __getitem__(self, index):
        return self.encoded_texts[index]

    def __len__(self):
        return len(self.data)


tokenizer = CharTokenizer()  # the book: tiktoken.get_encoding("gpt2")

print(tokenizer.encode("<|endoftext|>", allowed_special={"<|endoftext|>"}))

PAD = tokenizer.eot_token  # the book's default pad_token_id=50256 is GPT-2's <|endoftext|>


def custom_collate_draft_1(
    batch,
    pad_token_id=50256,
    device="cpu"
):
    # Find the longest sequence in the batch
    # and increase the max length by +1, which will add one extra
    # padding token below
    batch_max_length = max(len(item)+1 for item in batch)

    # Pad and prepare inputs
    inputs_lst = []

    for item in batch:
        new_item = item.copy()
        # Add an <|endoftext|> token
        new_item += [pad_token_id]
        # Pad sequences to batch_max_length
        padded = (
            new_item + [pad_token_id] *
            (batch_max_length - len(new_item))
        )
        # Via padded[:-1], we remove the extra padded token
        # that has been added via the +1 setting in batch_max_length
        # (the extra padding token will be relevant in later codes)
        inputs = torch.tensor(padded[:-1])
        inputs_lst.append(inputs)

    # Convert list of inputs to tensor and transfer to target device
    inputs_tensor = torch.stack(inputs_lst).to(device)
    return inputs_tensor


inputs_1 = [0, 1, 2, 3, 4]
inputs_2 = [5, 6]
inputs_3 = [7, 8, 9]

batch = (
    inputs_1,
    inputs_2,
    inputs_3
)

print(custom_collate_draft_1(batch))
print(custom_collate_draft_1(batch, pad_token_id=PAD))


def custom_collate_draft_2(
    batch,
    pad_token_id=50256,
    device="cpu"
):
    # Find the longest sequence in the batch
    batch_max_length = max(len(item)+1 for item in batch)

    # Pad and prepare inputs
    inputs_lst, targets_lst = [], []

    for item in batch:
        new_item = item.copy()
        # Add an <|endoftext|> token
        new_item += [pad_token_id]
        # Pad sequences to max_length
        padded = (
            new_item + [pad_token_id] *
            (batch_max_length - len(new_item))
        )
        inputs = torch.tensor(padded[:-1])  # Truncate the last token for inputs
        targets = torch.tensor(padded[1:])  # Shift +1 to the right for targets
        inputs_lst.append(inputs)
        targets_lst.append(targets)

    # Convert list of inputs to tensor and transfer to target device
    inputs_tensor = torch.stack(inputs_lst).to(device)
    targets_tensor = torch.stack(targets_lst).to(device)
    return inputs_tensor, targets_tensor


inputs, targets = custom_collate_draft_2(batch)
print(inputs)
print(targets)


def custom_collate_fn(
    batch,
    pad_token_id=50256,
    ignore_index=-100,
    allowed_max_length=None,
    device="cpu"
):
    # Find the longest sequence in the batch
    batch_max_length = max(len(item)+1 for item in batch)

    # Pad and prepare inputs and targets
    inputs_lst, targets_lst = [], []

    for item in batch:
        new_item = item.copy()
        # Add an <|endoftext|> token
        new_item += [pad_token_id]
        # Pad sequences to max_length
        padded = (
            new_item + [pad_token_id] *
            (batch_max_length - len(new_item))
        )
        inputs = torch.tensor(padded[:-1])  # Truncate the last token for inputs
        targets = torch.tensor(padded[1:])  # Shift +1 to the right for targets

        # New: Replace all but the first padding tokens in targets by ignore_index
        mask = targets == pad_token_id
        indices = torch.nonzero(mask).squeeze()
        if indices.numel() > 1:
            targets[indices[1:]] = ignore_index

        # New: Optionally truncate to maximum sequence length
        if allowed_max_length is not None:
            inputs = inputs[:allowed_max_length]
            targets = targets[:allowed_max_length]

        inputs_lst.append(inputs)
        targets_lst.append(targets)

    # Convert list of inputs and targets to tensors and transfer to target device
    inputs_tensor = torch.stack(inputs_lst).to(device)
    targets_tensor = torch.stack(targets_lst).to(device)

    return inputs_tensor, targets_tensor


inputs, targets = custom_collate_fn(batch)
print(inputs)
print(targets)
inputs, targets = custom_collate_fn(batch, pad_token_id=PAD, allowed_max_length=4)
print(inputs)
print(targets)

logits_1 = torch.tensor(
    [[-1.0, 1.0],  # 1st training example
     [-0.5, 1.5]]  # 2nd training example
)
targets_1 = torch.tensor([0, 1])


loss_1 = torch.nn.functional.cross_entropy(logits_1, targets_1)
print(loss_1)

logits_2 = torch.tensor(
    [[-1.0, 1.0],
     [-0.5, 1.5],
     [-0.5, 1.5]]  # New 3rd training example
)
targets_2 = torch.tensor([0, 1, 1])

loss_2 = torch.nn.functional.cross_entropy(logits_2, targets_2)
print(loss_2)

targets_3 = torch.tensor([0, 1, -100])

loss_3 = torch.nn.functional.cross_entropy(logits_2, targets_3)
print(loss_3)
print("loss_1 == loss_3:", loss_1 == loss_3)

device = torch.device("cpu")

print("Device:", device)

from functools import partial

customized_collate_fn = partial(
    custom_collate_fn,
    pad_token_id=PAD,  # here: the character tokenizer's <|endoftext|>
    device=device,
    allowed_max_length=1024
)

from torch.utils.data import DataLoader


num_workers = 0
batch_size = 8

torch.manual_seed(123)

train_dataset = InstructionDataset(train_data, tokenizer)
train_loader = DataLoader(
    train_dataset,
    batch_size=batch_size,
    collate_fn=customized_collate_fn,
    shuffle=True,
    drop_last=True,
    num_workers=num_workers
)

val_dataset = InstructionDataset(val_data, tokenizer)
val_loader = DataLoader(
    val_dataset,
    batch_size=batch_size,
    collate_fn=customized_collate_fn,
    shuffle=False,
    drop_last=False,
    num_workers=num_workers
)

test_dataset = InstructionDataset(test_data, tokenizer)
test_loader = DataLoader(
    test_dataset,
    batch_size=batch_size,
    collate_fn=customized_collate_fn,
    shuffle=False,
    drop_last=False,
    num_workers=num_workers
)

print("Train loader:")
for inputs, targets in train_loader:
    print(inputs.shape, targets.shape)

print(inputs[0])

print(targets[0])

from llms_from_scratch.ch04 import GPTModel


BASE_CONFIG = {
    "vocab_size": tokenizer.n_vocab,  # Vocabulary size (the book: 50257)
    "context_length": 256,   # Context length (the book: 1024)
    "drop_rate": 0.0,        # Dropout rate
    "qkv_bias": True         # Query-key-value bias
}

model_configs = {
    "gpt2-tiny": {"emb_dim": 32, "n_layers": 2, "n_heads": 4},  # here instead of gpt2-small...gpt2-xl
}

CHOOSE_MODEL = "gpt2-tiny"

BASE_CONFIG.update(model_configs[CHOOSE_MODEL])

torch.manual_seed(123)
model = GPTModel(BASE_CONFIG)
model.eval();

torch.manual_seed(123)

input_text = format_input(val_data[0])
print(input_text)

from llms_from_scratch.ch05 import (
    generate,
    text_to_token_ids,
    token_ids_to_text
)


token_ids = generate(
    model=model,
    idx=text_to_token_ids(input_text, tokenizer),
    max_new_tokens=10,
    context_size=BASE_CONFIG["context_length"],
    eos_id=PAD,
)
generated_text = token_ids_to_text(token_ids, tokenizer)

response_text = (
    generated_text[len(input_text):]
    .replace("### Response:", "")
    .strip()
)
print(repr(response_text))

from llms_from_scratch.ch05 import (
    calc_loss_loader,
    train_model_simple
)

model.to(device)

torch.manual_seed(123)

with torch.no_grad():
    train_loss = calc_loss_loader(train_loader, model, device, num_batches=5)
    val_loss = calc_loss_loader(val_loader, model, device, num_batches=5)

print("Training loss:", train_loss)
print("Validation loss:", val_loss)

torch.manual_seed(123)

optimizer = torch.optim.AdamW(model.parameters(), lr=0.00005, weight_decay=0.1)

num_epochs = 2

train_losses, val_losses, tokens_seen = train_model_simple(
    model, train_loader, val_loader, optimizer, device,
    num_epochs=num_epochs, eval_freq=1, eval_iter=5,
    start_context=format_input(val_data[0]), tokenizer=tokenizer
)
print(train_losses, val_losses, tokens_seen)

epochs_tensor = torch.linspace(0, num_epochs, len(train_losses))
print(epochs_tensor)

torch.manual_seed(123)


for entry in test_data[:3]:

    input_text = format_input(entry)

    token_ids = generate(
        model=model,
        idx=text_to_token_ids(input_text, tokenizer).to(device),
        max_new_tokens=10,
        context_size=BASE_CONFIG["context_length"],
        eos_id=PAD
    )
    generated_text = token_ids_to_text(token_ids, tokenizer)
    response_text = (
        generated_text[len(input_text):]
        .replace("### Response:", "")
        .strip()
)

    print(input_text)
    print(f"\nCorrect response:\n>> {entry['output']}")
    print(f"\nModel response:\n>> {response_text.strip()}")
    print("-------------------------------------")

import re


file_name = f"{re.sub(r'[ ()]', '', CHOOSE_MODEL) }-sft.pth"
torch.save(model.state_dict(), file_name)
print(f"Model saved as {file_name}")

model.load_state_dict(torch.load(file_name))
print(sorted(model.state_dict().keys())[:4], model.out_head.weight[0, :4])
