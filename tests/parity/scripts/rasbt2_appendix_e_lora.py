# Source: Sebastian Raschka, "Build a Large Language Model (From Scratch)", appendix E ("Parameter-efficient
# fine-tuning with LoRA"): LoRALayer (nn.Parameter(torch.empty(...)) + nn.init.kaiming_uniform_(a=sqrt(5)),
# torch.zeros B, x @ A @ B), LinearWithLoRA, replace_linear_with_lora (named_children, isinstance, setattr
# recursion), freezing with requires_grad = False and counting trainable parameters, print(model) of the
# LoRA model, replacing out_head with a 2-class nn.Linear, calc_accuracy_loader and train_classifier_simple
# with AdamW on the frozen model.
#   https://github.com/rasbt/LLMs-from-scratch  appendix-E/01_main-chapter-code/appendix-E.ipynb
#   (GPTModel, generate_text_simple, text_to_token_ids, token_ids_to_text, calc_accuracy_loader,
#   train_classifier_simple from the book's package pkg/llms_from_scratch/ch04.py, ch05.py and ch06.py,
#   copied in llms_from_scratch/ beside this file; SpamDataset from ch06.py is written here, see below)
# Shrunk: the SMS Spam Collection (downloaded, balanced and split with pandas) is replaced by 24 short
# hand-written messages already split 16/2/6 and written to train/validation/test.csv with the csv module;
# SpamDataset reads them with csv.DictReader instead of pd.read_csv (self.data[index]["Label"] instead of
# self.data.iloc[index]["Label"]); tiktoken's GPT-2 BPE is replaced by a character tokenizer
# (llms_from_scratch/char_tokenizer.py, <|endoftext|> = id 96 is passed as pad_token_id); the pretrained
# GPT-2 small (download_and_load_gpt2, load_weights_into_gpt) is replaced by a tiny randomly initialised
# GPTModel (context 128, 32-dim embeddings, 4 heads, 2 layers; in_features=32 for the new out_head);
# num_epochs 5 -> 2, eval_freq 50 -> 1; timing prints and plot_values are dropped; files are written to a
# temporary folder.
import csv
import os
import tempfile

from llms_from_scratch.char_tokenizer import CharTokenizer

os.chdir(tempfile.mkdtemp())

messages = [
    ("ham", "Ok lar... Joking wif u oni..."),
    ("spam", "WINNER!! You have won a 900 prize. Call 09061701461 now"),
    ("ham", "I'm gonna be home soon, see you at dinner"),
    ("spam", "FREE entry to win FA Cup tickets! Text WIN to 87121"),
    ("ham", "Did you catch the bus? Are you ok?"),
    ("spam", "URGENT! Your mobile won a 2000 bonus. Call 0800 now!"),
    ("ham", "Sorry, I'll call later in the meeting"),
    ("spam", "Claim your FREE ringtone now! Reply YES to 8007"),
    ("ham", "Lol your always so convincing."),
    ("spam", "Congrats! 1 year special cinema pass for 2 is yours. Call"),
    ("ham", "Just forced myself to eat a slice."),
    ("spam", "SIX chances to win CASH! From 100 to 20,000 pounds txt"),
    ("ham", "Yeah he got in at 2 and was v apologetic."),
    ("spam", "PRIVATE! Your 2003 Account Statement shows 800 points"),
    ("ham", "Going for dinner. msg you after."),
    ("spam", "You are a winner! Claim your cash prize, text CLAIM now"),
    ("ham", "K. I will sent it again"),
    ("spam", "Free msg: your mobile is due an upgrade. Call free 0800"),
    ("ham", "Where are you? I'm waiting outside."),
    ("spam", "Win a 1000 cash prize or a prize worth 5000! Txt GO"),
    ("ham", "Hey, what time is the movie tonight?"),
    ("spam", "Your free entry in 2 a wkly comp to win cash! Text now"),
    ("ham", "Thanks for the lovely dinner yesterday"),
    ("spam", "URGENT! Call 09061 to claim your 5000 cash award today"),
]
rows = [{"Label": {"ham": 0, "spam": 1}[label], "Text": text} for label, text in messages]
for name, part in (("train.csv", rows[:16]), ("validation.csv", rows[16:18]), ("test.csv", rows[18:])):
    with open(name, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["Label", "Text"])
        writer.writeheader()
        writer.writerows(part)

import torch
from torch.utils.data import Dataset


class SpamDataset(Dataset):
    def __init__(self, csv_file, tokenizer, max_length=None, pad_token_id=50256):
        with open(csv_file, newline="") as f:  # the book: self.data = pd.read_csv(csv_file)
            self.data = list(csv.DictReader(f))

        # Pre-tokenize texts
        self.encoded_texts = [
            tokenizer.encode(row["Text"]) for row in self.data
        ]

        if max_length is None:
            self.max_length = self._longest_encoded_length()
        else:
            self.max_length = max_length
            # Truncate sequences if they are longer than max_length
            self.encoded_texts = [
                encoded_text[:self.max_length]
                for encoded_text in self.encoded_texts
            ]

        # Pad sequences to the longest sequence
        self.encoded_texts = [
            encoded_text + [pad_token_id] * (self.max_length - len(encoded_text))
            for encoded_text in self.encoded_texts
        ]

    def __getitem__(self, index):
        encoded = self.encoded_texts[index]
        label = int(self.data[index]["Label"])  # the book: self.data.iloc[index]["Label"]
        return (
            torch.tensor(encoded, dtype=torch.long),
            torch.tensor(label, dtype=torch.long)
        )

    def __len__(self):
        return len(self.data)

    def _longest_encoded_length(self):
        max_length = 0
        for encoded_text in self.encoded_texts:
            encoded_length = len(encoded_text)
            if encoded_length > max_length:
                max_length = encoded_length
        return max_length


tokenizer = CharTokenizer()  # the book: tiktoken.get_encoding("gpt2")
PAD = tokenizer.eot_token  # the book's default pad_token_id=50256 is GPT-2's <|endoftext|>
train_dataset = SpamDataset("train.csv", max_length=None, tokenizer=tokenizer, pad_token_id=PAD)
val_dataset = SpamDataset("validation.csv", max_length=train_dataset.max_length, tokenizer=tokenizer, pad_token_id=PAD)
test_dataset = SpamDataset("test.csv", max_length=train_dataset.max_length, tokenizer=tokenizer, pad_token_id=PAD)

from torch.utils.data import DataLoader

num_workers = 0
batch_size = 8

torch.manual_seed(123)

train_loader = DataLoader(
    dataset=train_dataset,
    batch_size=batch_size,
    shuffle=True,
    num_workers=num_workers,
    drop_last=True,
)

val_loader = DataLoader(
    dataset=val_dataset,
    batch_size=batch_size,
    num_workers=num_workers,
    drop_last=False,
)

test_loader = DataLoader(
    dataset=test_dataset,
    batch_size=batch_size,
    num_workers=num_workers,
    drop_last=False,
)

print("Train loader:")
for input_batch, target_batch in train_loader:
    pass

print("Input batch dimensions:", input_batch.shape)
print("Label batch dimensions", target_batch.shape)

print(f"{len(train_loader)} training batches")
print(f"{len(val_loader)} validation batches")
print(f"{len(test_loader)} test batches")

from llms_from_scratch.ch04 import GPTModel



CHOOSE_MODEL = "gpt2-tiny"  # here instead of "gpt2-small (124M)"
INPUT_PROMPT = "Every effort moves"

BASE_CONFIG = {
    "vocab_size": tokenizer.n_vocab,  # Vocabulary size (the book: 50257)
    "context_length": 128,   # Context length (the book: 1024)
    "drop_rate": 0.0,        # Dropout rate
    "qkv_bias": True         # Query-key-value bias
}

model_configs = {
    "gpt2-tiny": {"emb_dim": 32, "n_layers": 2, "n_heads": 4},
}

BASE_CONFIG.update(model_configs[CHOOSE_MODEL])

torch.manual_seed(123)
model = GPTModel(BASE_CONFIG)
model.eval();

from llms_from_scratch.ch04 import generate_text_simple
from llms_from_scratch.ch05 import (
    text_to_token_ids,
    token_ids_to_text
)


text_1 = "Every effort moves you"

token_ids = generate_text_simple(
    model=model,
    idx=text_to_token_ids(text_1, tokenizer),
    max_new_tokens=15,
    context_size=BASE_CONFIG["context_length"]
)

print(token_ids_to_text(token_ids, tokenizer))

torch.manual_seed(123)

num_classes = 2
model.out_head = torch.nn.Linear(in_features=32, out_features=num_classes)

device = torch.device("cpu")

print("Device:", device)

model.to(device);  # no assignment model = model.to(device) necessary for nn.Module classes

from llms_from_scratch.ch06 import calc_accuracy_loader



torch.manual_seed(123)
train_accuracy = calc_accuracy_loader(train_loader, model, device, num_batches=10)
val_accuracy = calc_accuracy_loader(val_loader, model, device, num_batches=10)
test_accuracy = calc_accuracy_loader(test_loader, model, device, num_batches=10)

print(f"Training accuracy: {train_accuracy*100:.2f}%")
print(f"Validation accuracy: {val_accuracy*100:.2f}%")
print(f"Test accuracy: {test_accuracy*100:.2f}%")

import math

class LoRALayer(torch.nn.Module):
    def __init__(self, in_dim, out_dim, rank, alpha):
        super().__init__()
        self.A = torch.nn.Parameter(torch.empty(in_dim, rank))
        torch.nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))  # similar to standard weight initialization
        self.B = torch.nn.Parameter(torch.zeros(rank, out_dim))
        self.alpha = alpha
        self.rank = rank

    def forward(self, x):
        # Note: The original chapter didn't include the scaling by self.rank
        # This scaling is not necessary, but it's more canonical and convenient
        # as this lets us compare runs across different ranks without retuning learning rates
        x = (self.alpha / self.rank) * (x @ self.A @ self.B)
        return x


class LinearWithLoRA(torch.nn.Module):
    def __init__(self, linear, rank, alpha):
        super().__init__()
        self.linear = linear
        self.lora = LoRALayer(
            linear.in_features, linear.out_features, rank, alpha
        )

    def forward(self, x):
        return self.linear(x) + self.lora(x)


def replace_linear_with_lora(model, rank, alpha):
    for name, module in model.named_children():
        if isinstance(module, torch.nn.Linear):
            # Replace the Linear layer with LinearWithLoRA
            setattr(model, name, LinearWithLoRA(module, rank, alpha))
        else:
            # Recursively apply the same function to child modules
            replace_linear_with_lora(module, rank, alpha)


total_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"Total trainable parameters before: {total_params:,}")

for param in model.parameters():
    param.requires_grad = False

total_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"Total trainable parameters after: {total_params:,}")

replace_linear_with_lora(model, rank=16, alpha=16)

total_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"Total trainable LoRA parameters: {total_params:,}")

model.to(device)

print(model)
print(model.trf_blocks[0].att.W_query.lora.A[:2])  # extra

torch.manual_seed(123)
train_accuracy = calc_accuracy_loader(train_loader, model, device, num_batches=10)
val_accuracy = calc_accuracy_loader(val_loader, model, device, num_batches=10)
test_accuracy = calc_accuracy_loader(test_loader, model, device, num_batches=10)

print(f"Training accuracy: {train_accuracy*100:.2f}%")
print(f"Validation accuracy: {val_accuracy*100:.2f}%")
print(f"Test accuracy: {test_accuracy*100:.2f}%")

from llms_from_scratch.ch06 import train_classifier_simple


torch.manual_seed(123)

optimizer = torch.optim.AdamW(model.parameters(), lr=8e-4, weight_decay=0.1)

num_epochs = 2
train_losses, val_losses, train_accs, val_accs, examples_seen = train_classifier_simple(
    model, train_loader, val_loader, optimizer, device,
    num_epochs=num_epochs, eval_freq=1, eval_iter=5,
)
print(train_losses, val_losses, train_accs, val_accs, examples_seen)
print(model.trf_blocks[0].att.W_query.lora.B[:2, :4])  # extra: the trained LoRA B
print(model.trf_blocks[0].att.W_query.linear.weight.grad)  # extra: frozen, None

epochs_tensor = torch.linspace(0, num_epochs, len(train_losses))
examples_seen_tensor = torch.linspace(0, examples_seen, len(train_losses))
print(epochs_tensor, examples_seen_tensor)

train_accuracy = calc_accuracy_loader(train_loader, model, device)
val_accuracy = calc_accuracy_loader(val_loader, model, device)
test_accuracy = calc_accuracy_loader(test_loader, model, device)

print(f"Training accuracy: {train_accuracy*100:.2f}%")
print(f"Validation accuracy: {val_accuracy*100:.2f}%")
print(f"Test accuracy: {test_accuracy*100:.2f}%")
