# Source: Stanford CS336 "Language Modeling from Scratch" (Spring 2025), assignment 1 "basics"
# (https://github.com/stanford-cs336/assignment1-basics), as solved by Brandon Snider:
#   https://github.com/brandon-snider/cs336-a1  cs336_basics/train.py (train(): parameter groups with
#   and without weight decay, the gradient-accumulation loop, gradient clipping, cosine LR set in the
#   param groups, evaluate() under torch.no_grad, get_perplexity, checkpoint + resume) and
#   cs336_basics/decoding.py (decode: temperature + top-p sampling with sort/cumsum/searchsorted/
#   multinomial); the model, AdamW, loss, clipping, schedule, get_batch and checkpointing are the
#   repository's own, in cs336_basics/ beside this script.
# Shrunk: the YAML config becomes a few constants (d_model 32, 2 layers, 4 heads, d_ff 64, vocab 40,
# context 16, batch 8, 8 steps, grad_accum 2, eval every 4 steps of 1 batch); the np.memmap'd
# TinyStories token files become np.random.randint token ids (an np.uint16 array, as the memmap's
# dtype); wandb/Logger/time/tokens-per-second/torch.compile/run directories left out, the checkpoint
# goes to an io.BytesIO; dtype is float32 (the original's CPU choice; bfloat16 only on CUDA). The BPE
# Tokenizer (cs336_basics/tokenizer.py) is replaced by a 40-symbol character tokenizer written here,
# with id 0 for "<|endoftext|>", so decode() runs as written.
import io
import math

import numpy as np
import torch

from cs336_basics.model import Transformer
from cs336_basics.adamw import AdamW
from cs336_basics.data_loader import get_batch
from cs336_basics.loss import cross_entropy_loss
from cs336_basics.gradient_clip import gradient_clip
from cs336_basics.lr_schedule import lr_cosine_schedule
from cs336_basics.checkpointing import save_checkpoint, load_checkpoint


def get_perplexity(loss):
    """Calculate perplexity from cross-entropy loss"""
    return math.exp(min(loss, 20))  # Cap at 20 to avoid overflow


class CharTokenizer:  # stand-in for the BPE Tokenizer
    def __init__(self):
        self.itos = ["<|endoftext|>"] + list(" abcdefghijklmnopqrstuvwxyz.,!?'0123456789")[:39]
        self.stoi = {s: i for i, s in enumerate(self.itos)}

    def encode(self, text):
        if text == "<|endoftext|>":
            return [0]
        return [self.stoi[c] for c in text]

    def decode(self, ids):
        return "".join(self.itos[i] for i in ids)


def decode(model, tokenizer, prompt, max_new_tokens=32, temperature=0.7, top_p=0.9):
    end_id = tokenizer.encode("<|endoftext|>")[0]
    input_ids = tokenizer.encode(prompt)
    device = next(model.parameters()).device
    context_length = model.context_length

    with torch.no_grad():
        for _ in range(max_new_tokens):
            window_input_ids = input_ids[-context_length:] if len(input_ids) >= context_length else input_ids
            x = torch.tensor([window_input_ids], dtype=torch.long, device=device)

            logits = model(x)
            next_logits = logits[0, -1, :]

            scaled = next_logits / temperature
            stable = scaled - scaled.max()
            exp_vals = stable.exp()
            probs = exp_vals / exp_vals.sum()

            sorted_probs, sorted_idxs = torch.sort(probs, descending=True)
            cumsum = torch.cumsum(sorted_probs, dim=0)
            cutoff_idx = torch.searchsorted(cumsum, top_p)
            trimmed_probs = sorted_probs[: cutoff_idx + 1]
            trimmed_idxs = sorted_idxs[: cutoff_idx + 1]
            trimmed_probs /= trimmed_probs.sum()

            next_token = trimmed_idxs[torch.multinomial(trimmed_probs, 1).item()]
            if next_token.item() == end_id:
                break
            input_ids.append(next_token.item())

    return tokenizer.decode(input_ids)


# ---- config (configs/default.yml, shrunk)
model_config = dict(d_model=32, num_heads=4, d_ff=64, vocab_size=40, context_length=16, num_layers=2,
                    rope_theta=10000.0)
optimizer_config = dict(lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
batch_size, eval_batch_size, max_steps, eval_interval, eval_steps, grad_accum_steps = 8, 8, 8, 4, 1, 2
lr_max, lr_min, warmup_ratio, max_l2_norm = 3e-3, 3e-4, 0.25, 1.0
device = "cpu"
dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32

train_data = np.random.randint(0, model_config["vocab_size"], size=4000).astype(np.uint16)
valid_data = np.random.randint(0, model_config["vocab_size"], size=1000).astype(np.uint16)

# ---- train()
model = Transformer(**model_config, device=device, dtype=dtype)
model.to(device)

print(f"Trainable params: {sum(p.numel() for p in model.parameters() if p.requires_grad)}")

# Only decay 2D parameters (i.e. not layernorms)
param_dict = {pn: p for pn, p in model.named_parameters() if p.requires_grad}
decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
optim_groups = [
    {"params": decay_params, **optimizer_config},
    {"params": nodecay_params, **optimizer_config, "weight_decay": 0.0},
]
num_decay_params = sum(p.numel() for p in decay_params)
num_nodecay_params = sum(p.numel() for p in nodecay_params)
print(f"Decayed parameter tensors: {len(decay_params)}, with {num_decay_params:,} parameters")
print(f"Non-decayed parameter tensors: {len(nodecay_params)}, with {num_nodecay_params:,} parameters")

optimizer = AdamW(optim_groups, **optimizer_config)

warmup_iters = int(warmup_ratio * max_steps)
cosine_cycle_iters = max_steps


def evaluate(step, is_last_step=False):
    n_eval_steps = eval_steps
    if is_last_step:
        n_eval_steps = n_eval_steps * 3

    model.eval()
    with torch.no_grad():
        val_loss = 0.0
        for _ in range(n_eval_steps):
            x, y = get_batch(valid_data, eval_batch_size, model_config["context_length"], device)
            with torch.autocast(device_type=device, dtype=dtype):
                logits = model(x)
            loss = cross_entropy_loss(logits, y)
            val_loss += loss.item()
        val_loss /= n_eval_steps

    print(f"step {step}/{max_steps} v_loss {val_loss:.4f} v_ppl {get_perplexity(val_loss):.2f}")
    model.train()


evaluate(0)

x, y = get_batch(train_data, batch_size, model_config["context_length"], device)
print("batch", x.shape, x.dtype, x[0, :8].tolist(), y[0, :8].tolist())

model.train()


def train_steps(start_step, last_step):
    global x, y
    for step in range(start_step, last_step + 1):
        is_last_step = step == max_steps
        loss_accum = 0.0

        for _ in range(grad_accum_steps):
            with torch.autocast(device_type=device, dtype=dtype):
                logits = model(x)

            loss = cross_entropy_loss(logits, y) / grad_accum_steps

            x, y = get_batch(train_data, batch_size, model_config["context_length"], device)

            loss_accum += loss.detach()
            loss.backward()

        norm = gradient_clip(model.parameters(), max_l2_norm)

        lr = lr_cosine_schedule(step, lr_max, lr_min, warmup_iters, cosine_cycle_iters)

        for param_group in optimizer.param_groups:
            param_group["lr"] = lr

        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

        train_loss = loss_accum.item()
        print(f"step {step}/{max_steps} loss {train_loss:.4f} ppl {get_perplexity(train_loss):.2f} "
              f"lr {lr:.2e} norm {norm.item():.4f}")

        if step % eval_interval == 0 or is_last_step:
            evaluate(step, is_last_step)


train_steps(1, 5)

# checkpoint, then resume into a fresh model and optimizer (config.training.resume)
checkpoint = io.BytesIO()
save_checkpoint(model, optimizer, 5, checkpoint)
checkpoint.seek(0)
model = Transformer(**model_config, device=device, dtype=dtype)
param_dict = {pn: p for pn, p in model.named_parameters() if p.requires_grad}
optimizer = AdamW([
    {"params": [p for n, p in param_dict.items() if p.dim() >= 2], **optimizer_config},
    {"params": [p for n, p in param_dict.items() if p.dim() < 2], **optimizer_config, "weight_decay": 0.0},
], **optimizer_config)
start_step = load_checkpoint(checkpoint, model, optimizer) + 1
print(f"Resuming training from step {start_step}", optimizer.state[model.lm_head.weight]["t"],
      optimizer.param_groups[1]["weight_decay"], f"{optimizer.param_groups[0]['lr']:.2e}")
train_steps(start_step, max_steps)

# ---- decoding.py
tokenizer = CharTokenizer()
torch.manual_seed(0)
print(repr(decode(model, tokenizer, "once upon a time", max_new_tokens=12, temperature=0.7, top_p=0.9)))
print(repr(decode(model, tokenizer, "the", max_new_tokens=8, temperature=1.0, top_p=0.5)))
