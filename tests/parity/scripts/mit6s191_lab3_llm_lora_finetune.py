# Source: MIT 6.S191 Introduction to Deep Learning, Lab 3 (PyTorch): "LLM Fine-Tuning" - the chat
# template, tokenize -> model(tokens).logits -> softmax -> argmax next token, chat() with sampled
# generate(), apply_lora (LoraConfig r=8 on q/k/v/o/gate/up/down_proj) with the trainable-parameter
# count, forward_and_compute_loss (F.cross_entropy(reduction="none") masked by the answer's
# offset_mapping, loss[mask.view(-1)].mean()), and the train() loop with the Lion optimizer over a
# DataLoader of dict records (batch["instruction"][0]).
#   https://github.com/MITDeepLearning/introtodeeplearning  lab3/solutions/LLM_Finetuning_Solution.ipynb
#   (create_dataloader from mitdeeplearning/lab3.py; Lion copied from
#   https://github.com/lucidrains/lion-pytorch  lion_pytorch/lion_pytorch.py)
# Shrunk: no transformers/peft/datasets (no downloads): a character tokenizer with the template's
# special tokens (encode/decode/__call__ with offset_mapping), a 2-layer Llama-style causal LM
# (RMSNorm, q/k/v/o_proj, SiLU gate/up/down_proj, scaled_dot_product_attention) with a sampling
# generate(), and a small LoRA wrapper that does what get_peft_model does (freeze the base, add
# lora_A (kaiming_uniform a=sqrt(5)) / lora_B (zeros) with scaling alpha/r = 1) stand in for
# LFM2-1.2B; 8 inline leprechaun-style records instead of databricks-dolly-15k; max_steps=6,
# progress printed every 3 steps, lr 1e-3, 8 new tokens per chat; the LLM-judge part left out.
import math
import os
import json
import numpy as np

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader

torch.manual_seed(0)


# ---------------------------------------------------------------- stand-ins for the HF libraries
class BatchEncoding(dict):
    def to(self, device):
        return BatchEncoding({k: v.to(device) for k, v in self.items()})


class CharTokenizer:
    special = ["<|startoftext|>", "<|im_start|>", "<|im_end|>"]

    def __init__(self):
        chars = [chr(c) for c in range(32, 127)] + ["\n"]
        self.itos = self.special + chars
        self.stoi = {s: i for i, s in enumerate(self.itos)}

    def get_vocab(self):
        return dict(self.stoi)

    def _tokenize(self, text):
        ids, offsets, i = [], [], 0
        while i < len(text):
            for s in self.special:
                if text.startswith(s, i):
                    ids.append(self.stoi[s])
                    offsets.append((i, i + len(s)))
                    i += len(s)
                    break
            else:
                ids.append(self.stoi.get(text[i], self.stoi["?"]))
                offsets.append((i, i + 1))
                i += 1
        return ids, offsets

    def encode(self, text, return_tensors=None):
        ids, _ = self._tokenize(text)
        return torch.tensor([ids]) if return_tensors == "pt" else ids

    def __call__(self, text, return_tensors="pt", return_offsets_mapping=False):
        ids, offsets = self._tokenize(text)
        out = BatchEncoding(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long))
        if return_offsets_mapping:
            out["offset_mapping"] = torch.tensor([offsets])
        return out

    def decode(self, ids, skip_special_tokens=False):
        if isinstance(ids, int):
            ids = [ids]
        elif torch.is_tensor(ids):
            ids = ids.tolist()
        return "".join(self.itos[i] for i in ids if not (skip_special_tokens and i < len(self.special)))


class Output:
    def __init__(self, logits):
        self.logits = logits


class DecoderLayer(nn.Module):
    def __init__(self, dim, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.input_layernorm = nn.RMSNorm(dim, eps=1e-5)
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, dim, bias=False)
        self.v_proj = nn.Linear(dim, dim, bias=False)
        self.o_proj = nn.Linear(dim, dim, bias=False)
        self.post_attention_layernorm = nn.RMSNorm(dim, eps=1e-5)
        self.gate_proj = nn.Linear(dim, 2 * dim, bias=False)
        self.up_proj = nn.Linear(dim, 2 * dim, bias=False)
        self.down_proj = nn.Linear(2 * dim, dim, bias=False)

    def forward(self, x):
        B, T, D = x.shape
        h = self.input_layernorm(x)
        q, k, v = (proj(h).view(B, T, self.n_heads, D // self.n_heads).transpose(1, 2)
                   for proj in (self.q_proj, self.k_proj, self.v_proj))
        attn = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.o_proj(attn.transpose(1, 2).reshape(B, T, D))
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class TinyCausalLM(nn.Module):
    def __init__(self, vocab_size, dim=32, n_layers=2, n_heads=4, max_len=512):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab_size, dim)
        self.embed_positions = nn.Embedding(max_len, dim)
        self.layers = nn.ModuleList([DecoderLayer(dim, n_heads) for _ in range(n_layers)])
        self.norm = nn.RMSNorm(dim, eps=1e-5)
        self.lm_head = nn.Linear(dim, vocab_size, bias=False)

    @property
    def device(self):
        return next(self.parameters()).device

    def forward(self, input_ids, attention_mask=None):
        pos = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.embed_tokens(input_ids) + self.embed_positions(pos)
        for layer in self.layers:
            x = layer(x)
        return Output(self.lm_head(self.norm(x)))

    @torch.no_grad()
    def generate(self, input_ids, attention_mask=None, max_new_tokens=20, do_sample=False, temperature=1.0):
        for _ in range(max_new_tokens):
            logits = self(input_ids).logits[:, -1, :]
            if do_sample:
                next_token = torch.multinomial(F.softmax(logits / temperature, dim=-1), num_samples=1)
            else:
                next_token = logits.argmax(dim=-1, keepdim=True)
            input_ids = torch.cat([input_ids, next_token], dim=1)
        return input_ids


class LoraLinear(nn.Module):
    def __init__(self, base_layer, r, lora_alpha):
        super().__init__()
        self.base_layer = base_layer
        self.lora_A = nn.Linear(base_layer.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base_layer.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = lora_alpha / r

    def forward(self, x):
        return self.base_layer(x) + self.lora_B(self.lora_A(x)) * self.scaling


class LoraConfig:
    def __init__(self, r=8, lora_alpha=8, task_type=None, target_modules=()):
        self.r, self.lora_alpha, self.task_type, self.target_modules = r, lora_alpha, task_type, target_modules


def get_peft_model(model, config):
    for n, p in model.named_parameters():
        if "lora_" not in n:  # peft freezes the base model, not the adapters already there
            p.requires_grad_(False)
    targets = [name for name, m in model.named_modules()
               if type(m) is nn.Linear and name.split(".")[-1] in config.target_modules]
    for name in targets:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, LoraLinear(getattr(parent, child), config.r, config.lora_alpha))
    return model


def update_fn(p, grad, exp_avg, lr, wd, beta1, beta2):
    # stepweight decay
    p.data.mul_(1. - lr * wd)
    # weight update
    update = exp_avg.clone().mul_(beta1).add(grad, alpha=1. - beta1).sign_()
    p.add_(update, alpha=-lr)
    # decay the momentum running average coefficient
    exp_avg.mul_(beta2).add_(grad, alpha=1. - beta2)


class Lion(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, decoupled_weight_decay=False):
        assert lr > 0.
        assert all([0. <= beta <= 1. for beta in betas])
        self._init_lr = lr
        self.decoupled_wd = decoupled_weight_decay
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay)
        super().__init__(params, defaults)
        self.update_fn = update_fn

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in filter(lambda p: p.grad is not None, group['params']):
                grad, lr, wd, beta1, beta2, state, decoupled_wd, init_lr = p.grad, group['lr'], group['weight_decay'], *group['betas'], self.state[p], self.decoupled_wd, self._init_lr
                if decoupled_wd:
                    wd /= init_lr
                if len(state) == 0:
                    state['exp_avg'] = torch.zeros_like(p)
                exp_avg = state['exp_avg']
                self.update_fn(p, grad, exp_avg, lr, wd, beta1, beta2)
        return loss


records = [
    {"instruction": "What is the capital of France?", "response": "Paris.",
     "response_style": "Top o' the mornin'! Paris it is, me lad."},
    {"instruction": "Name a primary color.", "response": "Red.",
     "response_style": "Red, as red as a leprechaun's beard!"},
    {"instruction": "What do bees make?", "response": "Honey.",
     "response_style": "Sweet honey, me friend, like gold at the rainbow's end!"},
    {"instruction": "How many legs has a cat?", "response": "Four.",
     "response_style": "Four wee legs, by me lucky clover!"},
    {"instruction": "What is 2 + 2?", "response": "4.",
     "response_style": "Sure and it's four, as sure as shamrocks grow!"},
    {"instruction": "Where is Dublin?", "response": "Ireland.",
     "response_style": "In the green hills of Ireland, to be sure!"},
    {"instruction": "What is ice?", "response": "Frozen water.",
     "response_style": "Frozen water, colder than a pot o' gold at night!"},
    {"instruction": "Who wrote Ulysses?", "response": "James Joyce.",
     "response_style": "Jimmy Joyce himself, a fine Irish lad!"},
]


def create_dataloader(style):
    n = len(records) // 2
    dataloader = DataLoader(records, batch_size=1, shuffle=True)
    dataloader_test = DataLoader(records[n:], batch_size=1, shuffle=True)
    return dataloader, dataloader_test


# ---------------------------------------------------------------- the notebook

# Basic question-answer template
template_without_answer = "<|startoftext|><|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"
template_with_answer = template_without_answer + "{answer}<|im_end|>\n"

# Let's try to put something into the template to see how it looks
print(template_with_answer.format(question="What is your name?", answer="My name is Lili!"))

tokenizer = CharTokenizer()

# How big is the tokenizer?
print(f"Vocab size: {len(tokenizer.get_vocab())}")

# Lets test out both steps:
text = "Here is some sample text!"
print(f"Original text: {text}")

# Tokenize the text
tokens = tokenizer.encode(text, return_tensors="pt")
print(f"Encoded tokens: {tokens}")

# Decode the tokens
decoded_text = tokenizer.decode(tokens[0], skip_special_tokens=True)
print(f"Decoded text: {decoded_text}")

prompt = template_without_answer.format(question="What is the capital of France? Use one word.")
print(prompt)

# Load the model
model = TinyCausalLM(len(tokenizer.get_vocab()))

### Putting it together to prompt the model and generate a response ###

# 1. Construct the prompt in chat template form
question = "What is the capital of France? Use one word."
prompt = template_without_answer.format(question=question)

# 2. Tokenize the prompt
tokens = tokenizer.encode(prompt, return_tensors="pt").to(model.device)

# 3. Feed through the model to predict the next token probabilities
with torch.no_grad():
    output = model(tokens)

    probs = F.softmax(output.logits, dim=-1)

# 4. Get the next token, according to the maximum probability
next_token = torch.argmax(probs[0, -1, :]).item()

# 5. Decode the next token
next_token_text = tokenizer.decode(next_token)

print(f"Prompt: {prompt}")
print(f"Predicted next token: {next_token_text!r}", next_token, probs[0, -1, next_token])

prompt = template_without_answer.format(question="What does MIT stand for?")
tokens = tokenizer.encode(prompt, return_tensors="pt").to(model.device)
output = model.generate(tokens, max_new_tokens=20)
print(repr(tokenizer.decode(output[0])))

train_loader, test_loader = create_dataloader(style="leprechaun")

sample = train_loader.dataset[4]
question = sample['instruction']
answer = sample['response']
answer_style = sample['response_style']

print(f"Question: {question}\n\n" +
      f"Original Answer: {answer}\n\n" +
      f"Answer Style: {answer_style}")


def chat(question, max_new_tokens=32, temperature=0.7, only_answer=False):
    # 1. Construct the prompt using the template
    prompt = template_without_answer.format(question=question)

    # 2. Tokenize the text
    input_ids = tokenizer(prompt, return_tensors="pt").to(model.device)

    # 3. Feed through the model to predict the next token probabilities
    with torch.no_grad():
        outputs = model.generate(**input_ids, do_sample=True, max_new_tokens=max_new_tokens, temperature=temperature)

    # 4. Only return the answer if only_answer is True
    output_tokens = outputs[0]
    if only_answer:
        output_tokens = output_tokens[input_ids['input_ids'].shape[1]:]

    # 5. Decode the tokens
    result = tokenizer.decode(output_tokens, skip_special_tokens=True)

    return result


# Let's try chatting with the model now to test if it works!
answer = chat(
    "What is the capital of Ireland?",
    only_answer=True,
    max_new_tokens=8,
)

print(repr(answer))


# LoRA is a way to finetune LLMs very efficiently by only updating a small subset of the model's parameters

def apply_lora(model):
    # Define LoRA config
    lora_config = LoraConfig(
        r=8,  # rank of the LoRA matrices
        task_type="CAUSAL_LM",
        target_modules=[
            "q_proj", "o_proj", "k_proj", "v_proj", "gate_proj", "up_proj", "down_proj"
        ],
    )

    # Apply LoRA to the model
    lora_model = get_peft_model(model, lora_config)
    return lora_model


model = apply_lora(model)

# Print the number of trainable parameters after applying LoRA
trainable_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
total_params = sum(p.numel() for p in model.parameters())
print(f"number of trainable parameters: {trainable_params}")
print(f"total parameters: {total_params}")
print(f"percentage of trainable parameters: {trainable_params / total_params * 100:.2f}%")
print(model.layers[0].q_proj)


def forward_and_compute_loss(model, tokens, mask, context_length=512):
    # Truncate to context length
    tokens = tokens[:, :context_length]
    mask = mask[:, :context_length]

    # Construct the input, output, and mask
    x = tokens[:, :-1]
    y = tokens[:, 1:]
    mask = mask[:, 1:]

    # Forward pass to compute logits
    logits = model(x).logits

    # Compute loss
    loss = F.cross_entropy(
        logits.view(-1, logits.size(-1)),
        y.view(-1),
        reduction="none"
    )

    # Mask out the loss for non-answer tokens
    loss = loss[mask.view(-1)].mean()

    return loss


### Training loop ###

def train(model, dataloader, tokenizer, max_steps=200, context_length=512, learning_rate=1e-4):
    losses = []

    # Apply LoRA to the model
    model = apply_lora(model)

    optimizer = Lion(model.parameters(), lr=learning_rate)

    # Training loop
    for step, batch in enumerate(dataloader):
        question = batch["instruction"][0]
        answer = batch["response_style"][0]

        # Format the question and answer into the template
        text = template_with_answer.format(question=question, answer=answer)

        # Tokenize the text and compute the mask for the answer
        ids = tokenizer(text, return_tensors="pt", return_offsets_mapping=True).to(model.device)
        mask = ids["offset_mapping"][:, :, 0] >= text.index(answer)

        # Feed the tokens through the model and compute the loss
        loss = forward_and_compute_loss(
            model=model,
            tokens=ids["input_ids"],
            mask=mask,
            context_length=context_length,
        )

        # Backward pass
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        losses.append(loss.item())

        # monitor progress
        if step % 3 == 0:
            print(repr(chat("What is the capital of France?", only_answer=True, max_new_tokens=8)))
            print(f"step {step} loss: {torch.mean(torch.tensor(losses)).item()}")
            losses = []

        if step > 0 and step % max_steps == 0:
            break

    return model


# a look at one batch and its answer mask, as train() builds them
batch = next(iter(train_loader))
print(type(batch).__name__, sorted(batch.keys()), batch["instruction"])
text = template_with_answer.format(question=batch["instruction"][0], answer=batch["response_style"][0])
ids = tokenizer(text, return_tensors="pt", return_offsets_mapping=True)
mask = ids["offset_mapping"][:, :, 0] >= text.index(batch["response_style"][0])
print(ids["input_ids"].shape, ids["offset_mapping"].shape, mask.dtype, mask.sum().item())

# Call the train function to fine-tune the model!
model = train(model, train_loader, tokenizer, max_steps=6, learning_rate=1e-3)
print(sum(p.numel() for p in model.parameters() if p.requires_grad))
print(model.layers[1].down_proj.lora_B.weight.abs().sum())

print(repr(chat("What is a good story about tennis", only_answer=True, max_new_tokens=8)))
