"""Random MODEL ARCHITECTURES and forward patterns, trained eagerly and compiled, bit for bit.

Each seed builds a program: an input kind (vectors, images, 1-d signals, float sequences or token
ids), a random chain of blocks that keeps track of the shape (Linear, Conv1d/Conv2d with stride,
padding, dilation and groups, ConvTranspose2d, pooling, batch/layer/group norm, dropout, embeddings
with a padding index, RNN/GRU/LSTM with their last state or all outputs, MultiheadAttention with a
causal mask, TransformerEncoderLayer, hand-written causal attention with ``masked_fill``, residual
connections, concatenation, chunk/split, flatten/unflatten, permute/transpose, gather/indexing of
the sequence dimension, Sequential/ModuleList/ModuleDict containers and modules branching in Python
on shapes and config attributes), a head (maybe tied to the embedding), a random loss, optimizer and
scheduler. The training step is compiled whole (``chainrule.compile(step)``) or only the model is
(``chainrule.compile(model)``, backward and update outside); eval-mode calls under ``no_grad`` come
between steps, and the last batch is sometimes smaller.

Everything observable after each call (results, parameters, gradients, buffers, optimizer and
scheduler state, the random stream) must be eager's bit for bit. Falling back to eager with at most
one warning per compiled function is allowed; a difference, or an error eager does not raise, is a
bug.
"""
import random
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.bitwise import assert_identical

VOCAB = 11


def arr(value):
    if isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype), value._array.copy())
    if isinstance(value, (list, tuple)):
        return type(value)(arr(item) for item in value)
    if isinstance(value, dict):
        return {key: arr(item) for key, item in value.items()}
    return value


def activation(r):
    name = r.choice(["ReLU", "GELU", "SiLU", "Tanh", "Sigmoid", "LeakyReLU", "ELU", "Softplus", "Mish", "Hardswish"])
    return getattr(nn, name)()


def conv_out(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


# ----------------------------------------------------------------------------- custom blocks
class Residual(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class Glu(nn.Module):
    """chunk in two along ``dim``: a * sigmoid(b)."""

    def __init__(self, dim, split):
        super().__init__()
        self.dim, self.split = dim, split

    def forward(self, x):
        if self.split:
            half = x.shape[self.dim] // 2
            a, b = torch.split(x, half, dim=self.dim)
        else:
            a, b = x.chunk(2, dim=self.dim)
        return a * torch.sigmoid(b)


class ConcatBranch(nn.Module):
    def __init__(self, branch, dim):
        super().__init__()
        self.branch, self.dim = branch, dim

    def forward(self, x):
        return torch.cat([self.branch(x), x], dim=self.dim)


class Branchy(nn.Module):
    """Python control flow on a config attribute and on shapes; a ModuleDict of paths."""

    def __init__(self, d, mode):
        super().__init__()
        self.mode = mode
        self.paths = nn.ModuleDict({"a": nn.Linear(d, d), "b": nn.Sequential(nn.Linear(d, d), nn.Tanh())})

    def forward(self, x):
        y = self.paths[self.mode](x)
        if x.shape[0] > 3:
            y = y * 0.5
        else:
            y = y - 0.1
        if x.dim() == 3 and x.shape[1] % 2 == 1:
            y = y + x[:, :1]
        return F.relu(y) + x


class Stack(nn.Module):
    """A ModuleList looped over in Python, with a residual every other layer."""

    def __init__(self, d, n, r):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(d, d) for _ in range(n)])
        self.act = activation(r)

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            y = self.act(layer(x))
            x = x + y if i % 2 == 0 else y
        return x


class RecurrentBlock(nn.Module):
    def __init__(self, kind, d, h, layers, bidirectional, batch_first, use, dropout):
        super().__init__()
        self.rnn = getattr(nn, kind)(d, h, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first,
                                     dropout=dropout if layers > 1 else 0.0)
        self.kind, self.batch_first, self.use, self.bidirectional = kind, batch_first, use, bidirectional

    def forward(self, x):
        if not self.batch_first:
            x = x.transpose(0, 1)
        out, h = self.rnn(x)
        if self.kind == "LSTM":
            h = h[0]
        if self.use == "all":
            return out if self.batch_first else out.transpose(0, 1).contiguous()
        if self.bidirectional:
            return torch.cat([h[-2], h[-1]], dim=1)
        return h[-1]


class Attention(nn.Module):
    def __init__(self, d, heads, batch_first, causal, need_weights, average, dropout):
        super().__init__()
        self.mha = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=batch_first)
        self.batch_first, self.causal, self.need_weights, self.average = batch_first, causal, need_weights, average

    def forward(self, x):
        t = x.shape[1]
        mask = torch.triu(torch.ones(t, t), diagonal=1).bool() if self.causal else None
        q = x if self.batch_first else x.transpose(0, 1)
        out, w = self.mha(q, q, q, attn_mask=mask, need_weights=self.need_weights, average_attn_weights=self.average)
        if not self.batch_first:
            out = out.transpose(0, 1)
        y = x + out
        if w is not None:
            if not self.average:
                w = w.mean(1)
            y = y + w[:, :, :1]
        return y


class HandAttention(nn.Module):
    """Causal self-attention written by hand: masked_fill with a tril buffer."""

    def __init__(self, d, t, dropout):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.proj = nn.Linear(d, d)
        self.drop = nn.Dropout(dropout)
        self.register_buffer("tril", torch.tril(torch.ones(t, t)))

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        att = q @ k.transpose(-2, -1) * d ** -0.5
        att = att.masked_fill(self.tril[:t, :t] == 0, float("-inf"))
        att = self.drop(F.softmax(att, dim=-1))
        return x + self.proj(att @ v)


class Encoder(nn.Module):
    def __init__(self, d, heads, ff, dropout, act, norm_first, causal):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=ff, dropout=dropout, activation=act,
                                                batch_first=True, norm_first=norm_first)
        self.causal = causal

    def forward(self, x):
        t = x.shape[1]
        if self.causal:
            mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
            return self.layer(x, src_mask=mask)
        return self.layer(x)


class Permuted(nn.Module):
    """A sequence layer applied over time as channels: (B, T, D) -> conv1d over T -> (B, T, D')."""

    def __init__(self, d, d2, k):
        super().__init__()
        self.conv = nn.Conv1d(d, d2, k, padding=k // 2)

    def forward(self, x):
        return self.conv(x.permute(0, 2, 1)).permute(0, 2, 1).contiguous()


class SeqToVec(nn.Module):
    def __init__(self, how, t):
        super().__init__()
        self.how = how
        self.register_buffer("positions", torch.tensor([0, t - 1]))

    def forward(self, x):
        if self.how == "last":
            return x[:, -1]
        if self.how == "mean":
            return x.mean(1)
        if self.how == "max":
            return x.max(dim=1).values
        if self.how == "gather":
            index = self.positions.view(1, 2, 1).expand(x.shape[0], 2, x.shape[2])
            return x.gather(1, index).flatten(1)
        if self.how == "index_select":
            return x.index_select(1, self.positions).reshape(x.shape[0], -1)
        return x.flatten(1)


class TokenFront(nn.Module):
    """Token embedding, maybe a positional embedding of ``arange(t)``, maybe a padding mask made
    from the ids: a key padding mask for attention, or a masked mean over the sequence."""

    def __init__(self, emb, positional, padding, r):
        super().__init__()
        self.emb, self.positional, self.padding = emb, positional, padding
        d = emb.embedding_dim
        if positional:
            self.pos = nn.Embedding(16, d)
        if padding == "mha":
            self.mha = nn.MultiheadAttention(d, r.choice([h for h in (1, 2) if d % h == 0]), batch_first=True)

    def forward(self, ids):
        b, t = ids.shape
        x = self.emb(ids)
        if self.positional:
            x = x + self.pos(torch.arange(t))
        if self.padding == "mha":
            pad = ids == 0
            pad[:, 0] = False  # every row attends somewhere
            out, _ = self.mha(x, x, x, key_padding_mask=pad, need_weights=False)
            x = x + out
        elif self.padding == "masked_mean":
            mask = (ids != 0).float().unsqueeze(-1)
            return (x * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return x


class Upsample(nn.Module):
    def __init__(self, mode):
        super().__init__()
        self.mode = mode

    def forward(self, x):
        return F.interpolate(x, scale_factor=2, mode=self.mode)


class CellLoop(nn.Module):
    """An RNNCell/GRUCell/LSTMCell unrolled over time in Python, outputs appended and stacked,
    maybe a state carried over to the next call (truncated BPTT)."""

    def __init__(self, kind, d, h, carry, use):
        super().__init__()
        self.cell = getattr(nn, kind)(d, h)
        self.kind, self.carry, self.use = kind, carry, use
        self.h = None

    def forward(self, x):
        b, t, _ = x.shape
        h = self.h if self.carry and self.h is not None and self.h.shape[0] == b else x.new_zeros(b, self.cell.hidden_size)
        c = torch.zeros_like(h)
        outs = []
        for i in range(t):
            if self.kind == "LSTMCell":
                h, c = self.cell(x[:, i], (h, c))
            else:
                h = self.cell(x[:, i], h)
            outs.append(h)
        if self.carry and self.training:
            self.h = h.detach()
        if self.use == "all":
            return torch.stack(outs, dim=1)
        return h


class InplaceRes(nn.Module):
    """A ResNet basic block with in-place ReLU and ``out += identity``."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class TiedAutoencoder(nn.Module):
    """Decoder weight the encoder's transposed, a learned temperature, a stop-gradient branch."""

    def __init__(self, d, h):
        super().__init__()
        self.enc = nn.Linear(d, h)
        self.bias = nn.Parameter(torch.zeros(d))
        self.log_t = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        z = torch.tanh(self.enc(x))
        with torch.no_grad():
            scale = z.abs().mean()
        recon = F.linear(z, self.enc.weight.t(), self.bias)
        return x + recon * self.log_t.exp().clamp(max=5.0) - scale


class TokenMask(nn.Module):
    """BERT-style: a random mask of the ids during training, filled with a mask id."""

    def forward(self, ids):
        if self.training:
            mask = torch.rand(ids.shape) < 0.2
            ids = ids.masked_fill(mask, VOCAB - 1)
        return ids


class ImageToSeq(nn.Module):
    def forward(self, x):
        return x.flatten(2).transpose(1, 2)


class Transpose(nn.Module):
    def forward(self, x):
        return x.transpose(1, 2)


# ----------------------------------------------------------------------------- the model builder
def build_model(r):
    """A random model and its description; the state is (kind, shape without batch)."""
    kind = r.choice(["vec", "image", "signal", "seq", "tokens"])
    desc = [kind]
    blocks = []
    tied = None
    if kind == "vec":
        shape = (6,)
    elif kind == "image":
        shape = (3, 8, 8)
    elif kind == "signal":
        shape = (4, 12)
    elif kind == "seq":
        shape = (7, 6)
    else:
        d = r.choice([4, 6, 8])
        emb = nn.Embedding(VOCAB, d, padding_idx=r.choice([None, 0]), max_norm=r.choice([None, None, 1.0]),
                           scale_grad_by_freq=r.random() < 0.2)
        if r.random() < 0.3:
            blocks.append(TokenMask())
            desc.append("token_mask")
        front = TokenFront(emb, r.random() < 0.5, r.choice([None, None, "mha", "masked_mean"]), r)
        blocks.append(front)
        desc.append(("embedding", d, emb.padding_idx, emb.max_norm, emb.scale_grad_by_freq, front.positional, front.padding))
        if front.padding == "masked_mean":
            kind, shape = "vec", (d,)
        else:
            tied = emb if r.random() < 0.4 else None
            kind, shape = "seq", (7, d)
    input_kind = desc[0]
    for _ in range(r.randint(1, 4)):
        if kind == "image":
            c, h, w = shape
            choice = r.choice(["conv", "conv", "res", "pool", "convT", "norm", "drop", "concat", "glu", "act", "up", "inplace_res"])
            if choice == "conv":
                k, s, p, dl = r.choice([1, 2, 3]), r.choice([1, 1, 2]), r.choice([0, 1]), r.choice([1, 1, 2])
                g = r.choice([g for g in (1, 2, 3) if c % g == 0])
                c2 = g * r.choice([1, 2, 3])
                h2, w2 = conv_out(h, k, s, p, dl), conv_out(w, k, s, p, dl)
                if h2 < 1:
                    continue
                blocks.append(nn.Sequential(nn.Conv2d(c, c2, k, stride=s, padding=p, dilation=dl, groups=g,
                                                      bias=r.random() < 0.7), activation(r)))
                desc.append(("conv2d", c, c2, k, s, p, dl, g))
                shape = (c2, h2, w2)
            elif choice == "res":
                blocks.append(Residual(nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), activation(r))))
                desc.append("resconv")
            elif choice == "pool" and h >= 2:
                which = r.choice(["max", "avg", "adaptive"])
                if which == "max":
                    blocks.append(nn.MaxPool2d(2))
                    shape = (c, h // 2, w // 2)
                elif which == "avg":
                    blocks.append(nn.AvgPool2d(2, stride=r.choice([1, 2])))
                    s = blocks[-1].stride
                    s = s if isinstance(s, int) else s[0]
                    shape = (c, (h - 2) // s + 1, (w - 2) // s + 1)
                else:
                    blocks.append(nn.AdaptiveAvgPool2d(2))
                    shape = (c, 2, 2)
                desc.append(("pool", which))
            elif choice == "convT" and h <= 8:
                c2 = r.choice([2, 3, 4])
                k = r.choice([2, 3])
                blocks.append(nn.ConvTranspose2d(c, c2, k, stride=2, padding=r.choice([0, 1]) if k == 3 else 0))
                p = blocks[-1].padding[0] if isinstance(blocks[-1].padding, tuple) else blocks[-1].padding
                shape = (c2, (h - 1) * 2 - 2 * p + k, (w - 1) * 2 - 2 * p + k)
                desc.append(("convT", c, c2, k, p))
            elif choice == "inplace_res":
                blocks.append(InplaceRes(c))
                desc.append("inplace_res")
            elif choice == "up" and h <= 4:
                blocks.append(Upsample(r.choice(["nearest", "bilinear"])))
                shape = (c, 2 * h, 2 * w)
                desc.append(("upsample", blocks[-1].mode))
            elif choice == "norm":
                g = r.choice([g for g in (1, 2, 3) if c % g == 0])
                blocks.append(r.choice([nn.BatchNorm2d(c), nn.GroupNorm(g, c), nn.InstanceNorm2d(c, affine=True),
                                        nn.BatchNorm2d(c, momentum=None), nn.BatchNorm2d(c, track_running_stats=False)]))
                desc.append(("norm2d", type(blocks[-1]).__name__))
            elif choice == "drop":
                blocks.append(r.choice([nn.Dropout2d(0.3), nn.Dropout(0.2)]))
                desc.append("drop2d")
            elif choice == "concat":
                blocks.append(ConcatBranch(nn.Conv2d(c, 2, 3, padding=1), 1))
                shape = (c + 2, h, w)
                desc.append("concat")
            elif choice == "glu" and c % 2 == 0:
                blocks.append(Glu(1, r.random() < 0.5))
                shape = (c // 2, h, w)
                desc.append("glu")
            else:
                blocks.append(activation(r))
                desc.append("act")
        elif kind == "signal":
            c, length = shape
            choice = r.choice(["conv", "conv", "pool", "bn", "act", "toseq"])
            if choice == "conv":
                k, s, p, dl = r.choice([1, 3]), r.choice([1, 2]), r.choice([0, 1, 2]), r.choice([1, 2])
                g = r.choice([g for g in (1, 2, 4) if c % g == 0])
                c2 = g * r.choice([1, 2])
                l2 = conv_out(length, k, s, p, dl)
                if l2 < 2:
                    continue
                blocks.append(nn.Conv1d(c, c2, k, stride=s, padding=p, dilation=dl, groups=g))
                desc.append(("conv1d", c, c2, k, s, p, dl, g))
                shape = (c2, l2)
            elif choice == "pool" and length >= 4:
                blocks.append(r.choice([nn.MaxPool1d(2), nn.AvgPool1d(2)]))
                shape = (c, length // 2)
                desc.append(("pool1d", type(blocks[-1]).__name__))
            elif choice == "bn":
                blocks.append(nn.BatchNorm1d(c))
                desc.append("bn1d")
            elif choice == "toseq":
                blocks.append(Transpose())
                kind, shape = "seq", (length, c)
                desc.append("signal->seq")
            else:
                blocks.append(activation(r))
                desc.append("act")
        elif kind == "seq":
            t, d = shape
            choice = r.choice(["linear", "ln", "rnn", "rnn", "mha", "encoder", "hand", "conv", "branchy", "drop", "act", "cell"])
            if choice == "linear":
                d2 = r.choice([4, 6, 8])
                blocks.append(nn.Linear(d, d2))
                shape = (t, d2)
                desc.append(("linear", d, d2))
            elif choice == "ln":
                blocks.append(nn.LayerNorm(d, elementwise_affine=r.random() < 0.8))
                desc.append("ln")
            elif choice == "rnn":
                cell = r.choice(["RNN", "GRU", "LSTM"])
                h = r.choice([3, 5])
                layers, bidir, bf = r.choice([1, 1, 2]), r.random() < 0.4, r.random() < 0.6
                use = r.choice(["all", "last"])
                blocks.append(RecurrentBlock(cell, d, h, layers, bidir, bf, use, r.choice([0.0, 0.3])))
                desc.append((cell, d, h, layers, bidir, bf, use, blocks[-1].rnn.dropout))
                if use == "all":
                    shape = (t, h * (2 if bidir else 1))
                else:
                    kind, shape = "vec", (h * (2 if bidir else 1),)
            elif choice == "cell":
                cell = r.choice(["RNNCell", "GRUCell", "LSTMCell"])
                h, carry, use = r.choice([3, 5]), r.random() < 0.5, r.choice(["all", "last"])
                blocks.append(CellLoop(cell, d, h, carry, use))
                desc.append((cell, d, h, carry, use))
                if use == "all":
                    shape = (t, h)
                else:
                    kind, shape = "vec", (h,)
            elif choice == "mha":
                heads = r.choice([hd for hd in (1, 2) if d % hd == 0])
                blocks.append(Attention(d, heads, r.random() < 0.5, r.random() < 0.6, r.random() < 0.5,
                                        r.random() < 0.5, r.choice([0.0, 0.0, 0.2])))
                b = blocks[-1]
                desc.append(("mha", d, heads, b.batch_first, b.causal, b.need_weights, b.average, b.mha.dropout))
            elif choice == "encoder":
                heads = r.choice([hd for hd in (1, 2) if d % hd == 0])
                blocks.append(Encoder(d, heads, r.choice([8, 12]), r.choice([0.0, 0.1]), r.choice(["relu", "gelu"]),
                                      r.random() < 0.5, r.random() < 0.5))
                desc.append(("encoder", d, heads))
            elif choice == "hand":
                blocks.append(HandAttention(d, t, r.choice([0.0, 0.2])))
                desc.append("hand_attention")
            elif choice == "conv":
                d2 = r.choice([4, 6])
                blocks.append(Permuted(d, d2, r.choice([1, 3])))
                shape = (t, d2)
                desc.append(("permuted_conv", d, d2))
            elif choice == "branchy":
                blocks.append(Branchy(d, r.choice(["a", "b"])))
                desc.append("branchy")
            elif choice == "drop":
                blocks.append(nn.Dropout(0.25))
                desc.append("drop")
            else:
                blocks.append(activation(r))
                desc.append("act")
        else:  # vec
            (d,) = shape
            choice = r.choice(["linear", "bn", "ln", "drop", "stack", "branchy", "unflatten", "act", "autoencoder"])
            if choice == "linear":
                d2 = r.choice([4, 6, 8])
                blocks.append(nn.Sequential(nn.Linear(d, d2), activation(r)))
                shape = (d2,)
                desc.append(("linear", d, d2))
            elif choice == "bn":
                blocks.append(nn.BatchNorm1d(d, momentum=r.choice([0.1, None])))
                desc.append("bn1d")
            elif choice == "ln":
                blocks.append(nn.LayerNorm(d))
                desc.append("ln")
            elif choice == "drop":
                blocks.append(nn.Dropout(0.3))
                desc.append("drop")
            elif choice == "stack":
                blocks.append(Stack(d, r.choice([2, 3]), r))
                desc.append("stack")
            elif choice == "branchy":
                blocks.append(Branchy(d, r.choice(["a", "b"])))
                desc.append("branchy")
            elif choice == "autoencoder":
                blocks.append(TiedAutoencoder(d, r.choice([3, 5])))
                desc.append("tied_autoencoder")
            elif choice == "unflatten" and d % 2 == 0:
                blocks.append(nn.Unflatten(1, (2, d // 2)))
                kind, shape = "signal", (2, d // 2)
                desc.append("unflatten")
            else:
                blocks.append(activation(r))
                desc.append("act")
    # to the head
    per_token = False
    if tied is not None and kind == "seq" and shape[1] == tied.embedding_dim:
        per_token = True
        head = nn.Linear(shape[1], VOCAB, bias=False)
        head.weight = tied.weight
        desc.append("tied_head")
        return nn.Sequential(*blocks, head), desc, input_kind, per_token, VOCAB
    if kind == "image":
        if r.random() < 0.5:
            blocks.append(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()))
            shape = (shape[0],)
        elif r.random() < 0.5:
            blocks.append(ImageToSeq())
            blocks.append(SeqToVec("mean", 1))
            shape = (shape[0],)
        else:
            blocks.append(nn.Flatten())
            shape = (int(np.prod(shape)),)
        desc.append("image->vec")
    elif kind == "signal":
        if r.random() < 0.5:
            blocks.append(nn.Sequential(nn.AdaptiveAvgPool1d(1), nn.Flatten()))
            shape = (shape[0],)
        else:
            blocks.append(nn.Flatten())
            shape = (shape[0] * shape[1],)
        desc.append("signal->vec")
    elif kind == "seq":
        how = r.choice(["last", "mean", "max", "gather", "index_select", "flatten"])
        blocks.append(SeqToVec(how, shape[0]))
        shape = (shape[1] * (2 if how in ("gather", "index_select") else shape[0] if how == "flatten" else 1),)
        desc.append(("seq->vec", how))
    k = r.choice([3, 4])
    blocks.append(nn.Linear(shape[0], k))
    container = r.choice(["sequential", "modulelist"])
    if container == "sequential":
        model = nn.Sequential(*blocks)
    else:
        model = ListModel(blocks)
    return model, desc, input_kind, per_token, k


class ListModel(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x


# ----------------------------------------------------------------------------- losses and optimizers
def make_loss(r, per_token, k):
    """(name, loss(out, target), target(rng, batch))."""
    if per_token:
        smoothing = r.choice([0.0, 0.1])

        def loss(out, y):
            return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1), ignore_index=0, label_smoothing=smoothing)

        return ("token_ce", smoothing), loss, lambda rng, b: torch.tensor(rng.integers(0, VOCAB, size=(b, 7)))
    name = r.choice(["ce", "ce_ignore", "nll", "mse", "l1", "smooth_l1", "huber", "bce", "kl", "cosine", "ce_weighted",
                     "ce_soft", "nll_weighted", "masked_none", "multilabel", "poisson", "gaussian"])
    classes = lambda rng, b: torch.tensor(rng.integers(0, k, size=(b,)))  # noqa: E731
    floats = lambda rng, b: torch.tensor(rng.normal(size=(b, k)).astype(np.float32))  # noqa: E731
    if name == "ce":
        s = r.choice([0.0, 0.2])
        return (name, s), (lambda o, y: F.cross_entropy(o, y, label_smoothing=s)), classes
    if name == "ce_weighted":
        weight = torch.linspace(0.5, 1.5, k)
        s = r.choice([0.0, 0.1])
        return (name, s), (lambda o, y: F.cross_entropy(o, y, weight=weight, ignore_index=2, label_smoothing=s)), classes
    if name == "ce_soft":
        return (name,), (lambda o, y: F.cross_entropy(o, F.softmax(y, dim=1), label_smoothing=0.1)), floats
    if name == "nll_weighted":
        weight = torch.linspace(1.5, 0.5, k)
        return (name,), (lambda o, y: F.nll_loss(F.log_softmax(o, dim=1), y, weight=weight, ignore_index=0)), classes
    if name == "masked_none":
        def masked(o, y):
            per = F.mse_loss(o, y, reduction="none").sum(1)
            mask = (y[:, 0] > -0.5).float()
            return (per * mask).sum() / mask.sum().clamp(min=1.0)
        return (name,), masked, floats
    if name == "multilabel":
        return ((name,), F.multilabel_soft_margin_loss,
                lambda rng, b: torch.tensor((rng.random(size=(b, k)) < 0.5).astype(np.float32)))
    if name == "poisson":
        return (name,), (lambda o, y: F.poisson_nll_loss(o, y.abs())), floats
    if name == "gaussian":
        return (name,), (lambda o, y: F.gaussian_nll_loss(o, y, F.softplus(o.detach()) + 0.1)), floats
    if name == "ce_ignore":
        return (name,), (lambda o, y: F.cross_entropy(o, y, ignore_index=1)), classes
    if name == "nll":
        return (name,), (lambda o, y: F.nll_loss(F.log_softmax(o, dim=1), y)), classes
    if name == "mse":
        return (name,), F.mse_loss, floats
    if name == "l1":
        return (name,), F.l1_loss, floats
    if name == "smooth_l1":
        return (name,), (lambda o, y: F.smooth_l1_loss(o, y, beta=0.5)), floats
    if name == "huber":
        return (name,), (lambda o, y: F.huber_loss(o, y, delta=0.7)), floats
    if name == "bce":
        pos_weight = torch.linspace(0.5, 2.0, k) if r.random() < 0.5 else None
        return ((name, pos_weight is not None), (lambda o, y: F.binary_cross_entropy_with_logits(o, y, pos_weight=pos_weight)),
                lambda rng, b: torch.tensor((rng.random(size=(b, k)) < 0.5).astype(np.float32)))
    if name == "kl":
        return ((name,), (lambda o, y: F.kl_div(F.log_softmax(o, dim=1), F.softmax(y, dim=1), reduction="batchmean")),
                floats)
    margin = r.choice([0.0, 0.3])

    def cosine(o, y):
        sign = torch.where(y[:, 0] > 0, torch.ones(o.shape[0]), -torch.ones(o.shape[0]))
        return F.cosine_embedding_loss(o, y, sign, margin=margin)

    return (name, margin), cosine, floats


def make_optimizer(r):
    name = r.choice(["sgd", "momentum", "nesterov", "adam", "adamw", "amsgrad", "rmsprop", "adagrad", "adadelta",
                     "adamax", "nadam", "radam"])
    scheduler = r.choice([None, None, "step", "exp", "cosine", "lambda"])
    clip = r.random() < 0.3

    def make(params):
        if name == "sgd":
            opt = optim.SGD(params, lr=0.05, weight_decay=1e-3)
        elif name == "momentum":
            opt = optim.SGD(params, lr=0.05, momentum=0.9, dampening=0.1)
        elif name == "nesterov":
            opt = optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
        elif name == "adam":
            opt = optim.Adam(params, lr=0.01)
        elif name == "adamw":
            opt = optim.AdamW(params, lr=0.01, weight_decay=0.1)
        elif name == "amsgrad":
            opt = optim.Adam(params, lr=0.01, amsgrad=True, weight_decay=1e-2, maximize=True)
        elif name == "rmsprop":
            opt = optim.RMSprop(params, lr=0.01, momentum=0.5, centered=True)
        elif name == "adagrad":
            opt = optim.Adagrad(params, lr=0.05, lr_decay=0.01, weight_decay=1e-3)
        elif name == "adadelta":
            opt = optim.Adadelta(params, lr=1.0)
        elif name == "adamax":
            opt = optim.Adamax(params, lr=0.02, weight_decay=1e-2)
        elif name == "nadam":
            opt = optim.NAdam(params, lr=0.01, weight_decay=0.01, decoupled_weight_decay=True)
        else:
            opt = optim.RAdam(params, lr=0.01, weight_decay=0.01)
        sched = None
        if scheduler == "step":
            sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        elif scheduler == "exp":
            sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        elif scheduler == "cosine":
            sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
        elif scheduler == "lambda":
            sched = optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1.0 / (1 + epoch))
        return opt, sched

    return (name, scheduler, clip), make, clip


def make_input(rng, kind, b):
    if kind == "vec":
        return torch.tensor(rng.normal(size=(b, 6)).astype(np.float32))
    if kind == "image":
        return torch.tensor(rng.normal(size=(b, 3, 8, 8)).astype(np.float32))
    if kind == "signal":
        return torch.tensor(rng.normal(size=(b, 4, 12)).astype(np.float32))
    if kind == "seq":
        return torch.tensor(rng.normal(size=(b, 7, 6)).astype(np.float32))
    ids = rng.integers(0, VOCAB, size=(b, 7))
    ids[:, -2:] = 0
    return torch.tensor(ids)


# ----------------------------------------------------------------------------- programs
CALLS = 6


def build(seed):
    r = random.Random(seed)
    spec = {"seed": seed}
    spec["model_rng_state"] = r.getstate()
    _, spec["model"], spec["input"], spec["per_token"], spec["k"] = build_model(r)
    spec["loss_rng_state"] = r.getstate()
    spec["loss"], _, _ = make_loss(r, spec["per_token"], spec["k"])
    spec["opt_rng_state"] = r.getstate()
    spec["optimizer"], _, _ = make_optimizer(r)
    spec["variant"] = r.choice(["step", "step", "model"])
    spec["eval_between"] = [r.random() < 0.3 for _ in range(CALLS)]
    spec["eval_compiled"] = r.random() < 0.5
    spec["small_last"] = r.random() < 0.5
    spec["driver"] = [[a for a in ("lr", "seed", "snapshot", "load", "zero_outside", "eval_train", "batch3")
                       if r.random() < 0.08] for _ in range(CALLS)]
    spec["extras"] = {
        "groups": r.random() < 0.2,
        "scheduler": r.choice([None, None, None, "onecycle", "plateau"]),
        "freeze_first": r.random() < 0.1,
        "accumulate": r.random() < 0.2,
        "set_to_none": r.random() < 0.7,
        "activation_l2": r.random() < 0.2,
        "eval_inside": r.random() < 0.2,
        "clip": r.choice([None, None, "norm", "value"]),
        "returns": r.choice(["loss", "loss", "tuple", "dict"]),
        "dropout_p": r.random() < 0.2,
        "freeze_between": r.random() < 0.15,
    }
    return spec


def observe(model, opt, sched):
    seen = {
        "params": dict(model.named_parameters()),
        "grads": {name: p.grad for name, p in model.named_parameters()},
        "buffers": dict(model.named_buffers()),
        "optimizer": opt.state_dict(),
    }
    if sched is not None:
        seen["scheduler"] = sched.state_dict()
    return arr(seen)


def run(spec, compiled):
    seed = spec["seed"]
    r = random.Random()
    torch.manual_seed(seed)
    r.setstate(spec["model_rng_state"])
    model, _, kind, per_token, k = build_model(r)
    r.setstate(spec["loss_rng_state"])
    _, loss_fn, target = make_loss(r, per_token, k)
    r.setstate(spec["opt_rng_state"])
    _, make_opt, _ = make_optimizer(r)
    opt, sched = make_opt(model.parameters())
    params = list(model.parameters())

    extras = spec["extras"]
    if extras["groups"]:
        decay = [p for p in params if p.dim() > 1]
        plain = [p for p in params if p.dim() <= 1]
        opt, sched = make_opt([{"params": decay}, {"params": plain, "weight_decay": 0.0, "lr": 0.02}] if plain else decay)
    if extras["scheduler"] == "onecycle":
        cycle = any(key in opt.defaults for key in ("momentum", "betas")) and opt.defaults.get("momentum", 1) != 0
        sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=CALLS + 2, cycle_momentum=cycle)
    elif extras["scheduler"] == "plateau":
        sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    plateau = extras["scheduler"] == "plateau"
    if extras["freeze_first"]:
        params[0].requires_grad_(False)
    net = torch.compile(model) if compiled and spec["variant"] == "model" else model

    def step(x, y):
        if not extras["accumulate"]:
            opt.zero_grad(set_to_none=extras["set_to_none"])
        out = net(x)
        loss = loss_fn(out, y)
        if extras["activation_l2"]:
            loss = loss + 1e-3 * (out ** 2).mean()
        if extras["eval_inside"]:
            model.eval()
            with torch.no_grad():
                evaluated = net(x[:2]).sum()
            model.train()
        loss.backward()
        norm = None
        if extras["clip"] == "norm":
            norm = nn.utils.clip_grad_norm_(params, 0.5)
        elif extras["clip"] == "value":
            nn.utils.clip_grad_value_(params, 0.1)
        opt.step()
        if sched is not None and not plateau:
            sched.step()
        returns = extras["returns"]
        if returns == "loss":
            return loss.detach()
        if returns == "tuple":
            return loss.detach(), out.detach(), norm
        result = {"loss": loss.detach()}
        if not per_token and out.dim() == 2 and y.dtype == torch.int64:
            result["accuracy"] = (out.argmax(1) == y).float().mean()
        if extras["eval_inside"]:
            result["eval"] = evaluated
        return result

    if spec["variant"] == "model":
        run_step = step
        evaluate = net
    else:
        run_step = torch.compile(step) if compiled else step
        evaluate = torch.compile(model) if compiled and spec["eval_compiled"] else model

    rng = np.random.default_rng(seed)
    log = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.manual_seed(1000 + seed)
        snapshot = None
        for call in range(CALLS):
            b = 3 if spec["small_last"] and call == CALLS - 1 else 4
            x, y = make_input(rng, kind, b), target(rng, b)
            for action in spec["driver"][call]:
                if action == "lr":
                    opt.param_groups[0]["lr"] *= 0.5
                elif action == "seed":
                    torch.manual_seed(call)
                elif action == "snapshot":
                    snapshot = ({key: value.clone() for key, value in model.state_dict().items()}, opt.state_dict())
                elif action == "load" and snapshot is not None:
                    model.load_state_dict(snapshot[0])
                    opt.load_state_dict(snapshot[1])
                elif action == "zero_outside":
                    model.zero_grad()
                elif action == "eval_train":
                    model.train(not model.training)
                elif action == "batch3":
                    b = 3
                    x, y = make_input(rng, kind, b), target(rng, b)
            if extras["accumulate"] and call % 2 == 0:
                opt.zero_grad()
            if extras["dropout_p"] and call == 3:
                for module in model.modules():
                    if isinstance(module, nn.Dropout):
                        module.p = 0.5
            if extras["freeze_between"] and call == 2:
                params[-1].requires_grad_(False)
            if extras["freeze_between"] and call == 4:
                params[-1].requires_grad_(True)
            try:
                result = run_step(x, y)
                log.append(("ok", arr(result)))
                if plateau:
                    sched.step(float(result[0] if isinstance(result, tuple) else result["loss"] if isinstance(result, dict) else result))
            except Exception as error:  # noqa: BLE001
                log.append(("error", type(error).__name__, str(error)[:60]))
            log.append(observe(model, opt, sched))
            if spec["eval_between"][call]:
                xe = make_input(rng, kind, 2)
                model.eval()
                try:
                    with torch.no_grad():
                        log.append(("eval", arr(evaluate(xe))))
                except Exception as error:  # noqa: BLE001
                    log.append(("eval error", type(error).__name__, str(error)[:60]))
                model.train()
                log.append(observe(model, opt, sched))
    log.append(("random", torch.default_generator.state_bytes()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return log, messages


def check(seed):
    spec = build(seed)
    eager, eager_messages = run(spec, False)
    compiled, messages = run(spec, True)
    assert not eager_messages
    functions = 2 if spec["variant"] == "step" and spec["eval_compiled"] else 1
    assert len(messages) <= functions, (spec["model"], messages)
    assert_identical(compiled, eager, f"log of {spec['model']} {spec['loss']} {spec['optimizer']} {spec['variant']} {spec['extras']}")
    return messages


SEEDS = [*range(40), 120, 209]  # 240 until session 21, 160 in session 21, 122 until session 26, 82 until session 32: trimmed for CI's 10 minutes (35, 120 and 209 carry an RNN state across a smaller batch: see the test below)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_random_architecture_trained_compiled_is_eager_bit_for_bit(seed):
    check(seed)


# ----------------------------------------------------------------------------- minimal reproducers
def test_a_branch_on_the_shape_of_a_tensor_attribute_is_guarded():
    # the replay must not keep the branch the recording took (truncated BPTT state carried after a
    # smaller batch would be dropped): a shape read in Python guards the tensor it was read of
    class Carry(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.h = torch.zeros(3, 2)  # a state left by a smaller batch

        def forward(self, x):
            h = self.h if self.h.shape[0] == x.shape[0] else torch.zeros_like(x)
            out = self.lin(x) + h
            self.h = out.detach()
            return out

    def make_run(wrap):
        torch.manual_seed(0)
        model = Carry()
        step = wrap(lambda x: model(x).sum())
        return [arr(step(torch.ones(4, 2))) for _ in range(3)]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        eager = make_run(lambda function: function)
        compiled = make_run(torch.compile)
    assert len([w for w in caught if "chainrule.compile" in str(w.message)]) <= 1
    # eager: -3.24, -6.49, -9.73 (the state is carried from the second call on); compiled: -3.24 three times
    assert_identical(compiled, eager)
