"""chainrule.compile against eager execution on a SMALL nanoGPT / makemore CHARACTER LANGUAGE MODEL
trained as Karpathy's code writes it.

nanoGPT's model.py (GPTConfig dataclass, LayerNorm with an optional bias, CausalSelfAttention with a
registered ``bias`` tril buffer and ``masked_fill(... == 0, float('-inf'))`` or the
``scaled_dot_product_attention(is_causal=True, dropout_p=...)`` path, attention and residual dropout,
weight tying, ``_init_weights`` by ``self.apply`` with the scaled ``c_proj.weight`` init,
configure_optimizers with decay / no-decay groups for AdamW, ``generate`` with cropping, temperature,
top_k by ``torch.topk`` and ``torch.multinomial``) and train.py's loop (``get_lr`` warmup + cosine
written into every param group, gradient accumulation, ``clip_grad_norm_``, ``zero_grad(set_to_none=True)``,
``get_batch`` by ``torch.randint`` + ``torch.stack``, ``estimate_loss`` under ``@torch.no_grad()`` with
eval/train toggles); and makemore part 5's WaveNet with hand-written layers (Embedding, FlattenConsecutive,
BatchNorm1d over dims (0, 1) with running stats rebound under no_grad, Tanh, Linear without bias).

Each case runs from the same seeds eagerly and with the model, the
train step or generate compiled, and everything observable (returns, parameters, grads, optimizer state,
buffers, the random streams, Python values the loop read) must agree bit for bit; a compiled run may
fall back to eager with at most one warning per compiled function, never give a different result.
Some values are also checked against real PyTorch (close, not bit for bit).
"""
import inspect
import math
import random
import warnings
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pytest

import chainrule
import chainrule as torch  # nanoGPT's spelling
from chainrule import nn
from chainrule.nn import functional as F
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def plain(value):
    """``value`` with every tensor replaced by a NumPy copy, recursively."""
    if isinstance(value, chainrule.Tensor):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items() if not callable(item)}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    return value


def run(case, compiled):
    chainrule.manual_seed(1337)
    np.random.seed(0)
    random.seed(0)
    made = []

    def compile_(function, **kwargs):
        made.append(chainrule.compile(function, **kwargs))
        return made[-1]

    compile_.compiling = True

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = plain(case(compile_ if compiled else (lambda function, **kwargs: function)))
    streams = (np.array(torch.rand(4).numpy(), copy=True), random.random(), float(np.random.random()))
    fallbacks = [str(w.message) for w in caught if str(w.message).startswith("chainrule.compile")]
    others = sorted({str(w.message) for w in caught if not str(w.message).startswith("chainrule.compile")})
    return (result, streams, others), fallbacks, made


def assert_same_as_eager(case):
    eager, eager_fallbacks, _ = run(case, compiled=False)
    assert not eager_fallbacks
    compiled, fallbacks, made = run(case, compiled=True)
    assert made, "the case compiled nothing"
    assert len(fallbacks) <= len(made), fallbacks
    assert_identical(compiled, eager, "compiled against eager")
    return fallbacks


# ----------------------------------------------------------------------------- nanoGPT model.py
@dataclass
class GPTConfig:
    block_size: int = 8
    vocab_size: int = 11
    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 16
    dropout: float = 0.1
    bias: bool = True
    flash: bool = False
    by_list: bool = True  # Karpathy's x[:, [-1], :] and v[:, [-1]]; False: the same by slices -1:


class LayerNorm(nn.Module):
    """LayerNorm but with an optional bias. PyTorch doesn't support simply bias=False"""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, input):
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.flash = config.flash and hasattr(torch.nn.functional, "scaled_dot_product_attention")
        if not self.flash:
            self.register_buffer("bias", torch.tril(torch.ones(config.block_size, config.block_size))
                                 .view(1, 1, config.block_size, config.block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if self.flash:
            y = torch.nn.functional.scaled_dot_product_attention(
                q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            att = self.attn_dropout(att)
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # https://paperswithcode.com/method/weight-tying
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def crop_block_size(self, block_size):
        assert block_size <= self.config.block_size
        self.config.block_size = block_size
        self.transformer.wpe.weight = nn.Parameter(self.transformer.wpe.weight[:block_size])
        for block in self.transformer.h:
            if hasattr(block.attn, "bias"):
                block.attn.bias = block.attn.bias[:, :, :block_size, :block_size]

    def get_num_params(self, non_embedding=True):
        n_params = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n_params -= self.transformer.wpe.weight.numel()
        return n_params

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        device = idx.device
        b, t = idx.size()
        assert t <= self.config.block_size, f"Cannot forward sequence of length {t}, block size is only {self.config.block_size}"
        pos = torch.arange(0, t, dtype=torch.long, device=device)
        tok_emb = self.transformer.wte(idx)
        pos_emb = self.transformer.wpe(pos)
        x = self.transformer.drop(tok_emb + pos_emb)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        else:
            if self.config.by_list:
                logits = self.lm_head(x[:, [-1], :])  # note: using list [-1] to preserve the time dim
            else:
                logits = self.lm_head(x[:, -1:, :])
            loss = None
        return logits, loss

    def configure_optimizers(self, weight_decay, learning_rate, betas, device_type, **extra):
        param_dict = {pn: p for pn, p in self.named_parameters()}
        param_dict = {pn: p for pn, p in param_dict.items() if p.requires_grad}
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [
            {"params": decay_params, "weight_decay": weight_decay},
            {"params": nodecay_params, "weight_decay": 0.0},
        ]
        fused_available = "fused" in inspect.signature(torch.optim.AdamW).parameters
        use_fused = fused_available and device_type == "cuda"
        extra_args = dict(fused=True) if use_fused else dict()
        extra_args.update(extra)
        return torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas, **extra_args)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= self.config.block_size else idx[:, -self.config.block_size:]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < (v[:, [-1]] if self.config.by_list else v[:, -1:])] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            idx_next = torch.multinomial(probs, num_samples=1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


# ----------------------------------------------------------------------------- nanoGPT train.py
BATCH = 3
CORPUS = np.random.default_rng(7).integers(0, 11, size=64).astype(np.uint16)  # the memmap'd train.bin
VAL = np.random.default_rng(8).integers(0, 11, size=24).astype(np.uint16)
TRAIN_T = torch.from_numpy(CORPUS.astype(np.int64))
VAL_T = torch.from_numpy(VAL.astype(np.int64))


def get_batch(split, block_size=8, how="stack"):
    """nanoGPT's get_batch: torch.randint offsets, then torch.stack of slices."""
    data = TRAIN_T if split == "train" else VAL_T
    ix = torch.randint(len(data) - block_size, (BATCH,))
    if how == "stack":
        x = torch.stack([data[i:i + block_size] for i in ix])
        y = torch.stack([data[i + 1:i + 1 + block_size] for i in ix])
    else:  # the same by gathering, no Python loop over the drawn offsets
        offsets = ix[:, None] + torch.arange(block_size)
        x, y = data[offsets], data[offsets + 1]
    return x, y


def get_batch_numpy(split, block_size=8):
    """train.py's literal form: slices of a NumPy array at the drawn tensor offsets."""
    data = CORPUS if split == "train" else VAL
    ix = torch.randint(len(data) - block_size, (BATCH,))
    x = torch.stack([torch.from_numpy((data[i:i + block_size]).astype(np.int64)) for i in ix])
    y = torch.stack([torch.from_numpy((data[i + 1:i + 1 + block_size]).astype(np.int64)) for i in ix])
    return x, y


learning_rate, min_lr, warmup_iters, lr_decay_iters = 6e-3, 6e-4, 2, 5


def get_lr(it):
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    assert 0 <= decay_ratio <= 1
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (learning_rate - min_lr)


def everything(model, optimizer=None):
    found = {"state": model.state_dict(), "grads": [p.grad for p in model.parameters()],
             "training": [m.training for m in model.modules()],
             "tied": model.transformer.wte.weight is model.lm_head.weight}
    if optimizer is not None:
        found["optimizer"] = optimizer.state_dict()
        found["lrs"] = [g["lr"] for g in optimizer.param_groups]
    return found


def nanogpt_train(compile, config=GPTConfig(), how="stack", inside=True, grad_accum=2, iters=6,
                  compile_model=False, optimizer_kwargs=None, eval_every=2, grad_clip=1.0, lr_outside=False,
                  item=True, scaler=False):
    """train.py's loop: the step (lr schedule, micro-steps, clip, step, zero_grad) compiled; batches
    drawn inside the step (prefetching the next as train.py does) or passed in."""
    torch.manual_seed(1337)
    model = GPT(config)
    if compile_model:
        model = compile(model)
    raw = model._orig_mod if hasattr(model, "_orig_mod") else model
    optimizer = raw.configure_optimizers(0.1, learning_rate, (0.9, 0.95), "cpu", **(optimizer_kwargs or {}))
    ctx = nullcontext()
    grad_scaler = torch.amp.GradScaler("cpu", enabled=False) if scaler else None
    batcher = get_batch_numpy if how == "numpy" else (lambda split: get_batch(split, config.block_size, how))

    @torch.no_grad()
    def estimate_loss():
        out = {}
        model.eval()
        for split in ["train", "val"]:
            losses = torch.zeros(2)
            for k in range(2):
                X, Y = batcher(split)
                with ctx:
                    logits, loss = model(X, Y)
                losses[k] = loss.item() if item else loss
            out[split] = losses.mean()
        model.train()
        return out

    state = {}
    state["X"], state["Y"] = batcher("train")

    def train_step(iter_num, X=None, Y=None):
        lr = get_lr(iter_num)
        if not lr_outside:
            for param_group in optimizer.param_groups:
                param_group["lr"] = lr
        for micro_step in range(grad_accum):
            if inside:
                X, Y = state["X"], state["Y"]
            with ctx:
                logits, loss = model(X, Y)
                loss = loss / grad_accum
            if inside:
                state["X"], state["Y"] = batcher("train")
            if scaler:
                grad_scaler.scale(loss).backward()
            else:
                loss.backward()
        norm = None
        if grad_clip != 0.0:
            if scaler:
                grad_scaler.unscale_(optimizer)
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        if scaler:
            grad_scaler.step(optimizer)
            grad_scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss, norm, lr

    step = train_step if compile_model else compile(train_step)
    history = []
    for iter_num in range(iters):
        if eval_every and iter_num % eval_every == 0:
            history.append(estimate_loss())
        if lr_outside:
            for param_group in optimizer.param_groups:
                param_group["lr"] = get_lr(iter_num)
        if inside:
            loss, norm, lr = step(iter_num)
        else:
            X, Y = batcher("train")
            loss, norm, lr = step(iter_num, X, Y)
        lossf = loss.item() * grad_accum
        history.append((lossf, norm, lr, plain(loss)))
    return history, everything(raw, optimizer), plain(state)


def test_nanogpt_train_step_with_batches_gathered_inside_replays_bit_for_bit():
    assert_same_as_eager(lambda compile: nanogpt_train(compile, how="gather"))


def test_nanogpt_train_step_with_torch_stack_of_slices_inside():
    assert_same_as_eager(lambda compile: nanogpt_train(compile, how="stack"))


def test_nanogpt_train_step_with_numpy_memmap_slices_inside():
    assert_same_as_eager(lambda compile: nanogpt_train(compile, how="numpy"))


def test_nanogpt_train_step_with_stacked_batches_passed_in_and_three_micro_steps():
    assert_same_as_eager(lambda compile: nanogpt_train(compile, how="stack", inside=False, grad_accum=3))


def test_nanogpt_flash_attention_path_without_bias_and_foreach_adamw():
    config = GPTConfig(flash=True, bias=False, dropout=0.2)
    assert_same_as_eager(lambda compile: nanogpt_train(
        compile, config=config, how="gather", optimizer_kwargs=dict(foreach=False, fused=False)))


def test_nanogpt_compiled_model_with_training_loop_outside():
    """torch.compile(model); backward, clip, step eager around it; estimate_loss through the compiled
    model in eval mode under no_grad."""
    assert_same_as_eager(lambda compile: nanogpt_train(compile, how="gather", inside=False, compile_model=True))


@pytest.mark.parametrize("how", ["gather", "stack"])
def test_nanogpt_train_step_with_lr_schedule_written_outside(how):
    assert_same_as_eager(lambda compile: nanogpt_train(compile, how=how, inside=False, lr_outside=True, item=False))


def test_nanogpt_train_step_lr_outside_batches_inside_three_micro_steps_flash():
    config = GPTConfig(flash=True, bias=False, dropout=0.2)
    assert_same_as_eager(lambda compile: nanogpt_train(compile, config=config, how="gather", lr_outside=True,
                                                       grad_accum=3, optimizer_kwargs=dict(foreach=True)))


def test_nanogpt_compiled_model_with_eval_loss_kept_as_tensors():
    assert_same_as_eager(lambda compile: nanogpt_train(compile, how="gather", inside=False, compile_model=True,
                                                       item=False, config=GPTConfig(by_list=False)))


def test_nanogpt_train_step_with_disabled_grad_scaler_as_train_py_writes_it():
    assert_same_as_eager(lambda compile: nanogpt_train(compile, how="gather", inside=False, lr_outside=True, scaler=True))


def test_nanogpt_model_compile_with_slices_generates_through_the_compiled_forward():
    def case(compile):
        torch.manual_seed(1337)
        model = GPT(GPTConfig(by_list=False))
        compile(lambda: None)  # counts as one compiled function for the harness
        if getattr(compile, "compiling", False):
            model.compile()
        optimizer = model.configure_optimizers(0.1, learning_rate, (0.9, 0.95), "cpu")
        out = []
        idx = torch.zeros((1, 1), dtype=torch.long)
        for it in range(4):
            model.train()
            X, Y = get_batch("train", how="gather")
            logits, loss = model(X[:, :8 - it].contiguous(), Y[:, :8 - it].contiguous())  # a shorter context each step
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            model.eval()
            idx = model.generate(idx, 3, 0.9 + 0.1 * it, (None, 3, 5, 2)[it])
            out.extend([loss, logits, idx])
        return out, everything(model, optimizer)

    assert_same_as_eager(case)


def test_nanogpt_crop_block_size_and_retie_between_compiled_steps():
    """model.crop_block_size (a new wpe Parameter, buffers sliced) and the tying broken then restored,
    between calls of a compiled step; the optimizer is rebuilt each time as nanoGPT's resume does."""

    def case(compile):
        torch.manual_seed(1337)
        config = GPTConfig()
        model = GPT(config)
        holder = {"opt": model.configure_optimizers(0.1, 1e-2, (0.9, 0.95), "cpu")}

        def step(X, Y):
            logits, loss = model(X, Y)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            holder["opt"].step()
            holder["opt"].zero_grad(set_to_none=True)
            return loss, norm, logits

        step = compile(step)
        out = []
        for it in range(6):
            if it == 2:
                model.crop_block_size(6)
                holder["opt"] = model.configure_optimizers(0.1, 1e-2, (0.9, 0.95), "cpu")
            if it == 3:
                model.transformer.wte.weight = nn.Parameter(model.lm_head.weight.detach().clone())
                holder["opt"] = model.configure_optimizers(0.1, 1e-2, (0.9, 0.95), "cpu")
            if it == 5:
                model.transformer.wte.weight = model.lm_head.weight
                holder["opt"] = model.configure_optimizers(0.1, 1e-2, (0.9, 0.95), "cpu")
            X, Y = get_batch("train", config.block_size, "gather")
            out.append(step(X, Y))
            out.append(everything(model, holder["opt"]))
        return out

    assert_same_as_eager(case)


def test_nanogpt_no_dropout_no_clip_one_micro_step():
    config = GPTConfig(dropout=0.0)
    assert_same_as_eager(lambda compile: nanogpt_train(compile, config=config, how="gather", grad_accum=1,
                                                       grad_clip=0.0, eval_every=0))


def test_nanogpt_model_compile_method_in_place_then_generate():
    """model.compile() in place: train a few steps through it, then generate (cropping, top_k)."""

    def case(compile):
        torch.manual_seed(1337)
        config = GPTConfig()
        model = GPT(config)
        if getattr(compile, "compiling", False):
            model.compile()
            compile(lambda: None)  # counts as one compiled function for the harness
        optimizer = model.configure_optimizers(0.1, learning_rate, (0.9, 0.95), "cpu")
        out = []
        for it in range(4):
            X, Y = get_batch("train", how="gather")
            logits, loss = model(X, Y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            out.append(loss)
        model.eval()
        for n, temperature, top_k in [(3, 1.0, None), (6, 0.8, 3), (10, 1.3, 5)]:
            out.append(model.generate(torch.zeros((1, 1), dtype=torch.long), n, temperature, top_k))
        return out, everything(model, optimizer)

    assert_same_as_eager(case)


# ----------------------------------------------------------------------------- generate compiled
def trained_gpt(config=GPTConfig()):
    torch.manual_seed(1337)
    model = GPT(config)
    optimizer = model.configure_optimizers(0.1, 1e-2, (0.9, 0.95), "cpu")
    for _ in range(3):
        X, Y = get_batch("train", config.block_size, "gather")
        _, loss = model(X, Y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return model


@pytest.mark.parametrize("flash,by_list", [(False, True), (True, True), (False, False), (True, False)])
def test_generate_compiled_with_growing_sequences_cropping_temperature_and_top_k(flash, by_list):
    def case(compile):
        model = trained_gpt(GPTConfig(flash=flash, by_list=by_list))
        model.eval()
        generate = compile(model.generate)
        out = []
        idx = torch.zeros((2, 1), dtype=torch.long)
        for n, temperature, top_k in [(2, 1.0, None), (3, 0.7, 4), (5, 1.0, 4), (4, 1.5, None), (7, 0.9, 2)]:
            idx = generate(idx, max_new_tokens=n, temperature=temperature, top_k=top_k)
            out.append(idx)
        return out, everything(model)

    assert_same_as_eager(case)


def test_generate_one_token_step_compiled_in_a_python_loop_with_training_in_between():
    """The sampling step alone compiled (new lengths each call, cropped at block_size), the model
    trained between samples (the weights change under the compiled step)."""

    def case(compile):
        config = GPTConfig(dropout=0.0, by_list=False)
        model = trained_gpt(config)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)

        @torch.no_grad()
        def sample_next(idx, temperature, top_k):
            idx_cond = idx if idx.size(1) <= config.block_size else idx[:, -config.block_size:]
            logits, _ = model(idx_cond)
            logits = logits[:, -1, :] / temperature
            v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
            logits[logits < v[:, -1:]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            return torch.multinomial(probs, num_samples=1)

        sample_next = compile(sample_next)
        idx = torch.tensor([[1], [2]])
        out = []
        for i in range(11):
            model.eval()
            idx = torch.cat((idx, sample_next(idx, 1.0 + 0.1 * (i % 3), 3 + i % 2)), dim=1)
            out.append(idx)
            if i % 4 == 3:
                model.train()
                X, Y = get_batch("train", config.block_size, "gather")
                _, loss = model(X, Y)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                out.append(loss)
        return out, everything(model, optimizer)

    assert_same_as_eager(case)


@pytest.mark.parametrize("item", [True, False])
def test_estimate_loss_compiled_alone_with_eval_train_toggles_and_weights_changed_between(item):
    def case(compile):
        config = GPTConfig()
        model = trained_gpt(config)
        optimizer = model.configure_optimizers(0.1, 1e-2, (0.9, 0.95), "cpu")

        @torch.no_grad()
        def estimate_loss(eval_iters, item):
            out = {}
            model.eval()
            for split in ["train", "val"]:
                losses = torch.zeros(eval_iters)
                for k in range(eval_iters):
                    X, Y = get_batch(split, config.block_size, "gather")
                    logits, loss = model(X, Y)
                    losses[k] = loss.item() if item else loss
                out[split] = losses.mean()
            model.train()
            return out

        estimate_loss = compile(estimate_loss)
        out = []
        for it in range(5):
            out.append(estimate_loss(2 + it % 2, item))
            X, Y = get_batch("train", config.block_size, "gather")
            _, loss = model(X, Y)
            loss.backward()
            out.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5))
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return out, everything(model, optimizer)

    assert_same_as_eager(case)


# ----------------------------------------------------------------------------- against real PyTorch
def test_nanogpt_forward_loss_grads_and_one_adamw_step_match_real_pytorch():
    real = pytest.importorskip("torch")
    config = GPTConfig(dropout=0.0)
    torch.manual_seed(1337)
    model = GPT(config)
    X, Y = get_batch("train", config.block_size, "gather")
    logits, loss = model(X, Y)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer = model.configure_optimizers(0.1, 1e-2, (0.9, 0.95), "cpu")
    optimizer.step()

    # the same model in real PyTorch, from the same initial weights
    torch.manual_seed(1337)
    start = GPT(config).state_dict()
    names = list(start)
    assert "transformer.wte.weight" in names and "lm_head.weight" in names

    class RealLN(real.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.weight, self.bias = real.nn.Parameter(real.ones(n)), real.nn.Parameter(real.zeros(n))

    rt = lambda a: real.tensor(np.array(a.numpy(), copy=True))
    params = {k: real.nn.Parameter(rt(v)) for k, v in start.items() if not k.endswith(".attn.bias")}
    params["transformer.wte.weight"] = params["lm_head.weight"]  # tied
    xr, yr = rt(X), rt(Y)
    RF = real.nn.functional

    def forward():
        B, T = xr.shape
        h = params["transformer.wte.weight"][xr] + params["transformer.wpe.weight"][real.arange(T)]
        for i in range(config.n_layer):
            p = lambda n: params[f"transformer.h.{i}.{n}"]
            a = RF.layer_norm(h, (config.n_embd,), p("ln_1.weight"), p("ln_1.bias"), 1e-5)
            q, k, v = RF.linear(a, p("attn.c_attn.weight"), p("attn.c_attn.bias")).split(config.n_embd, dim=2)
            q, k, v = (t.view(B, T, config.n_head, -1).transpose(1, 2) for t in (q, k, v))
            att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
            att = att.masked_fill(real.tril(real.ones(T, T)) == 0, float("-inf")).softmax(-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, -1)
            h = h + RF.linear(y, p("attn.c_proj.weight"), p("attn.c_proj.bias"))
            m = RF.layer_norm(h, (config.n_embd,), p("ln_2.weight"), p("ln_2.bias"), 1e-5)
            m = RF.linear(RF.gelu(RF.linear(m, p("mlp.c_fc.weight"), p("mlp.c_fc.bias"))), p("mlp.c_proj.weight"), p("mlp.c_proj.bias"))
            h = h + m
        h = RF.layer_norm(h, (config.n_embd,), params["transformer.ln_f.weight"], params["transformer.ln_f.bias"], 1e-5)
        lg = RF.linear(h, params["lm_head.weight"])
        return lg, RF.cross_entropy(lg.view(-1, lg.size(-1)), yr.view(-1), ignore_index=-1)

    real_logits, real_loss = forward()
    real_loss.backward()
    unique = list({id(p): p for p in params.values()}.values())
    real_norm = real.nn.utils.clip_grad_norm_(unique, 1.0)
    real_opt = real.optim.AdamW([{"params": [p for p in unique if p.dim() >= 2], "weight_decay": 0.1},
                                 {"params": [p for p in unique if p.dim() < 2], "weight_decay": 0.0}],
                                lr=1e-2, betas=(0.9, 0.95))
    real_opt.step()
    np.testing.assert_allclose(logits.detach().numpy(), real_logits.detach().numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(loss.item(), real_loss.item(), rtol=1e-5)
    np.testing.assert_allclose(norm.item(), real_norm.item(), rtol=1e-4)
    after = model.state_dict()
    for key, value in params.items():
        np.testing.assert_allclose(after[key].numpy(), value.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=key)  # key biases get round-off grads only
    # weight tying: one parameter fewer than named entries, as in PyTorch
    assert len(list(model.parameters())) == len(unique)
    assert [len(g["params"]) for g in optimizer.param_groups] == [len(g["params"]) for g in real_opt.param_groups]
    # the lr schedule is pure Python: same numbers as written
    assert [get_lr(i) for i in range(8)][0] == learning_rate / 3 and get_lr(7) == min_lr


# ----------------------------------------------------------------------------- makemore part 5: WaveNet
KEEP_OUT = {"on": True}  # the lecture keeps every layer's output in .out; off: not kept


def keep(layer, value):
    if KEEP_OUT["on"]:
        layer.out = value
    return value

class Linear:
    def __init__(self, fan_in, fan_out, bias=True):
        self.weight = torch.randn((fan_in, fan_out)) / fan_in ** 0.5  # note: kaiming init
        self.bias = torch.zeros(fan_out) if bias else None

    def __call__(self, x):
        out = x @ self.weight
        if self.bias is not None:
            out += self.bias
        return keep(self, out)

    def parameters(self):
        return [self.weight] + ([] if self.bias is None else [self.bias])


class BatchNorm1d:
    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps = eps
        self.momentum = momentum
        self.training = True
        self.gamma = torch.ones(dim)
        self.beta = torch.zeros(dim)
        self.running_mean = torch.zeros(dim)
        self.running_var = torch.ones(dim)

    def __call__(self, x):
        if self.training:
            if x.ndim == 2:
                dim = 0
            elif x.ndim == 3:
                dim = (0, 1)
            xmean = x.mean(dim, keepdim=True)
            xvar = x.var(dim, keepdim=True)
        else:
            xmean = self.running_mean
            xvar = self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)
        out = keep(self, self.gamma * xhat + self.beta)
        if self.training:
            with torch.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
        return out

    def parameters(self):
        return [self.gamma, self.beta]


class Tanh:
    def __call__(self, x):
        return keep(self, torch.tanh(x))

    def parameters(self):
        return []


class Embedding:
    def __init__(self, num_embeddings, embedding_dim):
        self.weight = torch.randn((num_embeddings, embedding_dim))

    def __call__(self, IX):
        return keep(self, self.weight[IX])

    def parameters(self):
        return [self.weight]


class FlattenConsecutive:
    def __init__(self, n):
        self.n = n

    def __call__(self, x):
        B, T, C = x.shape
        x = x.view(B, T // self.n, C * self.n)
        if x.shape[1] == 1:
            x = x.squeeze(1)
        return keep(self, x)

    def parameters(self):
        return []


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return keep(self, x)

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def names_dataset(block_size=8, vocab_size=11):
    rng = np.random.default_rng(3)
    words = ["".join(chr(97 + c) for c in rng.integers(0, vocab_size - 1, size=rng.integers(2, 7))) for _ in range(12)]
    stoi = {chr(97 + i): i + 1 for i in range(vocab_size - 1)}
    stoi["."] = 0
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


def wavenet(compile, compile_what="step", batch_inside=True, keep_out=True):
    KEEP_OUT["on"] = keep_out
    try:
        return _wavenet(compile, compile_what, batch_inside)
    finally:
        KEEP_OUT["on"] = True


def _wavenet(compile, compile_what, batch_inside):
    vocab_size, block_size, n_embd, n_hidden = 11, 8, 6, 12
    Xtr, Ytr = names_dataset(block_size, vocab_size)
    g = torch.Generator().manual_seed(2147483647)
    torch.manual_seed(42)
    model = Sequential([
        Embedding(vocab_size, n_embd),
        FlattenConsecutive(2), Linear(n_embd * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        Linear(n_hidden, vocab_size),
    ])
    with torch.no_grad():
        model.layers[-1].weight *= 0.1  # last layer make less confident
    parameters = model.parameters()
    for p in parameters:
        p.requires_grad = True

    def step(i, Xb=None, Yb=None):
        if batch_inside:
            ix = torch.randint(0, Xtr.shape[0], (5,), generator=g)
            Xb, Yb = Xtr[ix], Ytr[ix]
        logits = model(Xb)
        loss = F.cross_entropy(logits, Yb)
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 3 else 0.01  # step learning rate decay
        for p in parameters:
            p.data += -lr * p.grad
        return loss

    @torch.no_grad()
    def split_loss(x, y):
        logits = model(x)
        return F.cross_entropy(logits, y)

    if compile_what == "step":
        step = compile(step)
    else:
        split_loss = compile(split_loss)
    lossi, seen = [], []
    for i in range(6):
        if batch_inside:
            loss = step(i)
        else:
            ix = torch.randint(0, Xtr.shape[0], (4 + i % 2,), generator=g)
            loss = step(i, Xtr[ix], Ytr[ix])
        lossi.append(loss.log10().item())
        seen.append([layer.out for layer in model.layers] if KEEP_OUT["on"] else None)
        if i % 2 == 1:
            for layer in model.layers:
                layer.training = False
            lossi.append(split_loss(Xtr[:7], Ytr[:7]))
            for layer in model.layers:
                layer.training = True
    stats = [(layer.running_mean, layer.running_var) for layer in model.layers if isinstance(layer, BatchNorm1d)]
    return lossi, seen, parameters, [p.grad for p in parameters], stats, g.get_state()


def test_makemore_wavenet_step_compiled_with_minibatch_drawn_inside():
    assert_same_as_eager(wavenet)


def test_makemore_wavenet_step_compiled_with_batches_of_changing_size_passed_in():
    assert_same_as_eager(lambda compile: wavenet(compile, batch_inside=False))


def test_makemore_wavenet_split_loss_compiled_in_eval_mode_with_keepdim_running_stats():
    """The lecture's running stats end up (1, 1, C) by keepdim over (0, 1); eval must broadcast them."""
    assert_same_as_eager(lambda compile: wavenet(compile, compile_what="split"))


@pytest.mark.parametrize("what,inside", [("step", True), ("step", False), ("split", True)])
def test_makemore_wavenet_without_kept_outputs(what, inside):
    assert_same_as_eager(lambda compile: wavenet(compile, compile_what=what, batch_inside=inside, keep_out=False))


def test_makemore_wavenet_torchified_modules_compiled_with_model_compile():
    """Part 5's end: the same net from torch.nn modules (FlattenConsecutive as an nn.Module,
    nn.BatchNorm1d over (B, C, T) by transposes), model.compile(), SGD with a lr step."""

    class FlattenConsecutiveM(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.n = n

        def forward(self, x):  # reshape: after BN's transposes x is a transposed layout, which view refuses as in PyTorch
            B, T, C = x.shape
            x = x.reshape(B, T // self.n, C * self.n)
            if x.shape[1] == 1:
                x = x.squeeze(1)
            return x

    class BN(nn.BatchNorm1d):
        def forward(self, x):
            return super().forward(x.transpose(1, 2)).transpose(1, 2) if x.ndim == 3 else super().forward(x)

    def case(compile):
        Xtr, Ytr = names_dataset()
        torch.manual_seed(42)
        model = nn.Sequential(
            nn.Embedding(11, 6),
            FlattenConsecutiveM(2), nn.Linear(12, 12, bias=False), BN(12), nn.Tanh(),
            FlattenConsecutiveM(2), nn.Linear(24, 12, bias=False), BN(12), nn.Tanh(),
            FlattenConsecutiveM(2), nn.Linear(24, 12, bias=False), BN(12), nn.Tanh(),
            nn.Linear(12, 11),
        )
        net = compile(model)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        out = []
        for i in range(6):
            ix = torch.randint(0, Xtr.shape[0], (5,))
            loss = F.cross_entropy(net(Xtr[ix]), Ytr[ix])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            out.append(loss)
            if i % 2:
                model.eval()
                with torch.no_grad():
                    out.append(net(Xtr[:6]))
                model.train()
        return out, model.state_dict(), optimizer.state_dict(), [p.grad for p in model.parameters()]

    assert_same_as_eager(case)


# ----------------------------------------------------------------------------- the caller changes things between steps
def nanogpt_knobs(compile, change):
    """A replaying train step (lr written outside) whose Python-level knobs the caller turns between
    calls: the micro-step count and clip norm as arguments, the attention modules' dropout floats,
    AdamW's betas / weight decay in the param groups, the model's training flag, zero_grad's form."""
    config = GPTConfig(flash=change == "flash_dropout", dropout=0.2)
    torch.manual_seed(1337)
    model = GPT(config)
    optimizer = model.configure_optimizers(0.1, learning_rate, (0.9, 0.95), "cpu")
    knobs = {"set_to_none": True}

    def train_step(X, Y, grad_accum, max_norm):
        for micro_step in range(grad_accum):
            rows = X.shape[0] // grad_accum
            logits, loss = model(X[micro_step * rows:(micro_step + 1) * rows], Y[micro_step * rows:(micro_step + 1) * rows])
            loss = loss / grad_accum
            loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=knobs["set_to_none"])
        return loss, norm

    step = compile(train_step)
    out = []
    for it in range(6):
        for g in optimizer.param_groups:
            g["lr"] = get_lr(it)
        grad_accum, max_norm = 1, 1.0
        if change == "args":
            grad_accum, max_norm = (1, 2, 3, 1, 3, 2)[it], (1.0, 0.05, 1.0, 0.01, 0.5, 1.0)[it]
        elif change in ("dropout", "flash_dropout"):
            for block in model.transformer.h:
                block.attn.dropout = (0.2, 0.0, 0.5, 0.2, 0.0, 0.3)[it]
                block.attn.attn_dropout.p = (0.2, 0.0, 0.5, 0.2, 0.0, 0.3)[it]
        elif change == "betas":
            optimizer.param_groups[0]["betas"] = ((0.9, 0.95), (0.8, 0.9), (0.9, 0.95))[it % 3]
            optimizer.param_groups[1]["weight_decay"] = (0.0, 0.1, 0.0)[it % 3]
        elif change == "eval":
            model.train(it % 2 == 0)
        elif change == "set_to_none":
            knobs["set_to_none"] = it % 2 == 0
        X, Y = get_batch("train", config.block_size, "gather")
        X, Y = torch.cat([X, X.flip(0)]), torch.cat([Y, Y.flip(0)])  # six rows: 1, 2 or 3 micro-steps
        out.append(step(X, Y, grad_accum, max_norm))
        out.append([p.grad for p in model.parameters()])
    return out, everything(model, optimizer)


@pytest.mark.parametrize("change", ["args", "dropout", "flash_dropout", "betas", "eval", "set_to_none"])
def test_nanogpt_step_with_knobs_turned_between_calls(change):
    assert_same_as_eager(lambda compile: nanogpt_knobs(compile, change))


def test_makemore_wavenet_loss_grads_and_running_stats_match_real_pytorch():
    real = pytest.importorskip("torch")
    Xtr, Ytr = names_dataset()
    torch.manual_seed(42)
    n_embd, n_hidden = 6, 12
    model = Sequential([
        Embedding(11, n_embd), FlattenConsecutive(2), Linear(n_embd * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(4), Linear(n_hidden * 4, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        Linear(n_hidden, 11),
    ])
    parameters = model.parameters()
    for p in parameters:
        p.requires_grad = True
    loss = F.cross_entropy(model(Xtr[:9]), Ytr[:9])
    loss.backward()

    rt = lambda a: real.tensor(np.array(a.detach().numpy(), copy=True))
    C, W1, g1, b1, W2, g2, b2, W3, c3 = (rt(p).requires_grad_() for p in parameters)
    x = C[rt(Xtr[:9])].view(9, 4, 2 * n_embd) @ W1
    m, v = x.mean((0, 1), keepdim=True), x.var((0, 1), keepdim=True)
    x = (g1 * (x - m) / real.sqrt(v + 1e-5) + b1).tanh()
    x = x.view(9, 1, 4 * n_hidden).squeeze(1) @ W2
    m2, v2 = x.mean(0, keepdim=True), x.var(0, keepdim=True)
    x = (g2 * (x - m2) / real.sqrt(v2 + 1e-5) + b2).tanh()
    real_loss = real.nn.functional.cross_entropy(x @ W3 + c3, rt(Ytr[:9]))
    real_loss.backward()
    np.testing.assert_allclose(loss.item(), real_loss.item(), rtol=1e-5)
    for ours, theirs in zip(parameters, (C, W1, g1, b1, W2, g2, b2, W3, c3)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-6)
    bn = [layer for layer in model.layers if isinstance(layer, BatchNorm1d)]
    assert bn[0].running_mean.shape == (1, 1, n_hidden)  # the lecture's keepdim over (0, 1)
    np.testing.assert_allclose(bn[0].running_var.numpy(), (0.9 + 0.1 * v).detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(bn[1].running_mean.numpy(), (0.1 * m2).detach().numpy(), rtol=1e-5, atol=1e-7)
