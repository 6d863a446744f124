# Source: François Fleuret (EPFL EE-559 / UNIGE 14x050 "Deep Learning", https://fleuret.org/dlc),
#   his from-scratch GPT with a key/value cache over "bracketed sequences" (mygpt.py, "Written by
#   Francois Fleuret", public domain), its basic cache check (mygpt.py __main__), the
#   ProblemTwoTargets toy task (problems.py), the training loop and masked_inplace_autoregression
#   of his picoclvr experiments, as mirrored in:
#   https://github.com/morgangiraud/ffleuret_picoclvr  mygpt.py, problems.py, tasks.py, main.py
# Shrunk: dim_model 32, 2 blocks, 160 training / 40 test sequences, 3 epochs; tqdm progress bars
#   and logging to a file dropped; the generation is run both deterministically and by sampling.
import math

import torch

from torch import nn
from torch.nn import functional as F

######################################################################
# mygpt.py


class BracketedSequence:
    def __init__(self, x, first=None, nb=None):
        self.x = x
        self.first = 0 if first is None else first
        self.nb = x.size(1) if nb is None else nb

    def slice(self):
        return self.x[:, self.first : self.first + self.nb]

    def complete(self):
        return self.first == 0 and self.nb == self.x.size(1)


class CacheWrapper(nn.Module):
    def __init__(self, *f):
        super().__init__()
        self.f = f[0] if len(f) == 1 else nn.Sequential(*f)

    def forward(self, bs):
        if bs.first == 0:
            y = self.f(bs.slice())
            self.cache_y = y.new(*((y.size(0), bs.x.size(1)) + y.size()[2:]))
            self.cache_y[:, bs.first : bs.first + bs.nb] = y
        else:
            self.cache_y[:, bs.first : bs.first + bs.nb] = self.f(bs.slice())

        return BracketedSequence(self.cache_y, bs.first, bs.nb)


class WithResidual(nn.Module):
    def __init__(self, *f):
        super().__init__()
        self.f = f[0] if len(f) == 1 else nn.Sequential(*f)

    def forward(self, bs):
        return BracketedSequence(bs.x + self.f(bs).x, bs.first, bs.nb)


class AddPositionalEncoding(nn.Module):
    def __init__(self, len_max):
        super().__init__()
        self.len_max = len_max

    # [Vaswani et al 2018] PE_{t,2i} = sin(t/(L^{2i/D})), PE_{t,2i+1} = cos(t/(L^{2i/D}))

    def forward(self, bs):
        if bs.first == 0:
            t = torch.arange(bs.x.size(1), dtype=bs.x.dtype, device=bs.x.device)[
                :, None
            ]
            j = torch.arange(bs.x.size(2), dtype=bs.x.dtype, device=bs.x.device)[
                None, :
            ]
            k = j % 2
            self.pe = torch.sin(
                t / (self.len_max ** ((j - k) / bs.x.size(2))) + math.pi / 2 * k
            )
            self.cache_y = bs.x.new(bs.x.size())

        self.cache_y[:, bs.first : bs.first + bs.nb] = (
            bs.slice() + self.pe[bs.first : bs.first + bs.nb]
        )

        return BracketedSequence(self.cache_y, bs.first, bs.nb)


class QKVAttention(nn.Module):
    def __init__(
        self,
        dim_in,
        dim_qk,
        dim_v,
        nb_heads=1,
        causal=False,
        attention_dropout=0.0,
    ):
        super().__init__()

        def randw(*d):
            return nn.Parameter(torch.randn(*d) / math.sqrt(d[-1]))

        self.causal = causal
        self.attention_dropout = attention_dropout
        self.record_attention = False

        self.w_q = randw(nb_heads, dim_qk, dim_in)
        self.w_k = randw(nb_heads, dim_qk, dim_in)
        self.w_v = randw(nb_heads, dim_v, dim_in)
        self.w_o = randw(dim_v * nb_heads, dim_in)

    def forward(self, bs_q):
        x_q = bs_q.x

        assert (
            self.causal or bs_q.complete()
        ), "Partial evaluation is only possible for causal models"

        if bs_q.first == 0:
            self.cache_k = x_q.new_zeros(
                x_q.size(0), self.w_k.size(0), x_q.size(1), self.w_k.size(1)
            )
            self.cache_v = x_q.new_zeros(
                x_q.size(0), self.w_v.size(0), x_q.size(1), self.w_v.size(1)
            )
            self.cache_y = x_q.new_zeros(x_q.size(0), x_q.size(1), self.w_o.size(1))

        q = torch.einsum(
            "ntc,hdc->nhtd", x_q[:, bs_q.first : bs_q.first + bs_q.nb], self.w_q
        )

        self.cache_k[:, :, bs_q.first : bs_q.first + bs_q.nb] = torch.einsum(
            "ntc,hdc->nhtd", x_q[:, bs_q.first : bs_q.first + bs_q.nb], self.w_k
        )
        self.cache_v[:, :, bs_q.first : bs_q.first + bs_q.nb] = torch.einsum(
            "ntc,hdc->nhtd", x_q[:, bs_q.first : bs_q.first + bs_q.nb], self.w_v
        )

        a = torch.einsum(
            "nhtd,nhsd->nhts", q, self.cache_k[:, :, : bs_q.first + bs_q.nb]
        ) / math.sqrt(self.w_q.size(1))

        if self.causal:
            if bs_q.first == 0:
                self.cache_attzero = (
                    torch.arange(x_q.size(1), device=q.device)[None, None, :, None]
                    < torch.arange(x_q.size(1), device=q.device)[None, None, None, :]
                )
            a = a.masked_fill(
                self.cache_attzero[
                    :, :, bs_q.first : bs_q.first + bs_q.nb, : bs_q.first + bs_q.nb
                ],
                float("-inf"),
            )

        a = a.softmax(dim=3)

        if self.record_attention:
            self.a = a

        a = F.dropout(a, self.attention_dropout, self.training)

        y = torch.einsum(
            "nhts,nhsd->nthd", a, self.cache_v[:, :, : bs_q.first + bs_q.nb]
        ).flatten(2)

        self.cache_y[:, bs_q.first : bs_q.first + bs_q.nb] = y @ self.w_o

        return BracketedSequence(self.cache_y, bs_q.first, bs_q.nb)


class NoiseInjector(nn.Module):
    def __init__(self, identifier=None):
        super().__init__()
        self.noise_std = 0.0
        self.identifier = identifier

    def forward(self, x):
        if self.noise_std > 0:
            x = x * (
                1 - 2 * (torch.rand(x.size(), device=x.device) < self.noise_std).long()
            )
        return x


class MyGPT(nn.Module):
    def __init__(
        self,
        vocabulary_size,
        dim_model,
        dim_keys,
        dim_hidden,
        nb_heads,
        nb_blocks,
        causal=False,
        dropout=0.0,
        len_max=1e5,
    ):
        super().__init__()

        assert dim_model % nb_heads == 0

        self.temperature = 1.0

        self.embedding = nn.Sequential(
            CacheWrapper(nn.Embedding(vocabulary_size, dim_model), nn.Dropout(dropout)),
            AddPositionalEncoding(len_max),
        )

        trunk_blocks = []

        for b in range(nb_blocks):
            trunk_blocks += [
                WithResidual(
                    CacheWrapper(
                        nn.LayerNorm((dim_model,)),
                        NoiseInjector(identifier=("attention", b)),
                    ),
                    QKVAttention(
                        dim_in=dim_model,
                        dim_qk=dim_keys,
                        dim_v=dim_model // nb_heads,
                        nb_heads=nb_heads,
                        causal=causal,
                        attention_dropout=dropout,
                    ),
                ),
                WithResidual(
                    CacheWrapper(
                        nn.LayerNorm((dim_model,)),
                        NoiseInjector(identifier=("ffw", b)),
                        nn.Linear(in_features=dim_model, out_features=dim_hidden),
                        nn.ReLU(),
                        nn.Linear(in_features=dim_hidden, out_features=dim_model),
                        nn.Dropout(dropout),
                    ),
                ),
            ]

        self.trunk = nn.Sequential(*trunk_blocks)

        self.readout = CacheWrapper(
            nn.Linear(in_features=dim_model, out_features=vocabulary_size)
        )

        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.Embedding):
                    m.weight.normal_(mean=0, std=2e-2)
                elif isinstance(m, nn.LayerNorm):
                    m.bias.zero_()
                    m.weight.fill_(1.0)

    def forward(self, bs):
        bs = BracketedSequence(F.pad(bs.x, (1, -1)), bs.first, bs.nb)
        bs = self.embedding(bs)
        bs = self.trunk(bs)
        bs = self.readout(bs)
        bs.x[:, bs.first : bs.first + bs.nb] /= self.temperature
        return bs

    def masked_inplace_autoregression(
        self,
        input,
        ar_mask,
        forbidden_tokens=None,
        deterministic_synthesis=False,
    ):
        to_generate = (ar_mask.sum(0) > 0).nonzero()
        if to_generate.min() > 0:
            self(
                BracketedSequence(input, 0, to_generate.min())
            )  # Needed to initialize the model's cache
        for s in range(to_generate.min(), to_generate.max() + 1):
            output = self(BracketedSequence(input, s, 1)).x
            logits = output[:, s]
            if forbidden_tokens is not None:
                logits = logits.masked_fill(forbidden_tokens, float("-inf"))
            if deterministic_synthesis:
                t_next = logits.argmax(1)
            else:
                dist = torch.distributions.categorical.Categorical(logits=logits)
                t_next = dist.sample()
            input[:, s] = ar_mask[:, s] * t_next + (1 - ar_mask[:, s]) * input[:, s]

    def reset_transformations(self):
        self.temperature = 1.0
        for m in self.modules():
            if isinstance(m, NoiseInjector):
                m.noise_std = 0.0

    def set_noise_injection(self, noise_std, identifier=None):
        for m in self.modules():
            if isinstance(m, NoiseInjector):
                if identifier is None or identifier == m.identifier:
                    m.noise_std = noise_std

    def record_attention(self, v=True):
        for m in self.modules():
            if isinstance(m, QKVAttention):
                m.record_attention = v

    def retrieve_attention(self):
        a = []
        for m in self.modules():
            if isinstance(m, QKVAttention):
                a.append(m.a)
        return a


######################################################################
# mygpt.py __main__: the cached evaluation one token at a time matches the full one

print("Basic check.")

vocabulary_size = 3
x = torch.randint(vocabulary_size, (1, 5))

model = MyGPT(
    vocabulary_size=vocabulary_size,
    dim_model=4,
    dim_keys=2,
    dim_hidden=2,
    nb_heads=2,
    nb_blocks=2,
    dropout=0.1,
    causal=True,
)

model.eval()
y1 = model(BracketedSequence(x)).x
y2 = torch.randn_like(y1)
for s in range(x.size(1)):
    z = model(BracketedSequence(x, s, 1))
    y2[:, s] = z.slice()

print(f"error={((y1 - y2).norm() / (y1.norm() + y2.norm())).item():.6f}")
print(y1)

######################################################################
# problems.py


class Problem:
    def generate_sequences(self, nb):
        pass

    def seq2str(self, seq):
        return "[NOT IMPLEMENTED]"

    def compute_nb_correct(self, input, ar_mask, result):
        nb_total = ar_mask.sum().item()
        nb_correct = ((result == input).long() * ar_mask).sum().item()
        return nb_total, nb_correct


class ProblemTwoTargets(Problem):
    def __init__(self, len_total=10, len_targets=3):
        assert len_targets >= 3
        assert len_total >= 3 * len_targets - 1
        self.len_total = len_total
        self.len_targets = len_targets

    def generate_sequences(self, nb):
        k = torch.arange(self.len_total)[None, :]
        s = torch.randint(10, (nb, self.len_total))
        l = torch.rand(nb, self.len_total)
        l = l * (k <= self.len_total - self.len_targets).long()
        k1 = l.argmax(dim=1, keepdim=True)
        m = (k != k1).long() * (k != k1 + self.len_targets - 1).long()
        s = s * m + 10 * (1 - m)
        l = l * (
            1
            - (k + self.len_targets - 1 >= k1).long()
            * (k < k1 + self.len_targets).long()
        )
        k2 = l.argmax(dim=1, keepdim=True)
        m = (k != k2).long() * (k != k2 + self.len_targets - 1).long()
        s = s * m + 11 * (1 - m)
        a1 = s.gather(dim=1, index=k1 + 1 + torch.arange(self.len_targets - 2)[None, :])
        a2 = s.gather(dim=1, index=k2 + 1 + torch.arange(self.len_targets - 2)[None, :])
        sequences = torch.cat(
            (
                s,
                torch.full((nb, 1), 12),
                a1,
                torch.full((nb, 1), 12),
                a2,
                torch.full((nb, 1), 12),
            ),
            1,
        )
        ar_mask = (sequences == 12).long()
        ar_mask = (ar_mask.cumsum(1) - ar_mask).clamp(max=1)
        return sequences, ar_mask

    def seq2str(self, seq):
        return "".join("0123456789-+|"[x.item()] for x in seq)


######################################################################
# main.py / tasks.py: train on the problem, then generate the answers with the cache

problem = ProblemTwoTargets(len_total=10, len_targets=3)
train_input, train_ar_mask = problem.generate_sequences(160)
test_input, test_ar_mask = problem.generate_sequences(40)
print(train_input.size(), train_input.dtype, train_ar_mask[0])
for seq in train_input[:3]:
    print(problem.seq2str(seq))

vocabulary_size = max(train_input.max(), test_input.max()) + 1
print("vocabulary_size", vocabulary_size)

model = MyGPT(
    vocabulary_size=vocabulary_size,
    dim_model=32,
    dim_keys=16,
    dim_hidden=64,
    nb_heads=2,
    nb_blocks=2,
    causal=True,
    dropout=0.1,
)

nb_parameters = sum(p.numel() for p in model.parameters())
print(f"nb_parameters {nb_parameters} ({int(nb_parameters/1e6)}M)")
print(model.trunk[0])

optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
batch_size = 20

for n_epoch in range(3):
    model.train()

    nb_train_samples, acc_train_loss = 0, 0.0

    for input in train_input.split(batch_size):
        output = model(BracketedSequence(input)).x
        loss = F.cross_entropy(output.transpose(1, 2), input)
        acc_train_loss += loss.item() * input.size(0)
        nb_train_samples += input.size(0)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    with torch.autograd.no_grad():
        model.eval()

        nb_test_samples, acc_test_loss = 0, 0.0

        for input in test_input.split(batch_size):
            output = model(BracketedSequence(input)).x
            loss = F.cross_entropy(output.transpose(1, 2), input)
            acc_test_loss += loss.item() * input.size(0)
            nb_test_samples += input.size(0)

        train_perplexity = math.exp(min(100, acc_train_loss / nb_train_samples))
        test_perplexity = math.exp(min(100, acc_test_loss / nb_test_samples))

        print(
            f"perplexity {n_epoch} train_set {train_perplexity:.4f} test_prediction {test_perplexity:.4f}"
        )

print(model.readout.f.weight.grad.norm().item())
print(model.trunk[0].f[1].w_q.grad.abs().sum().item())


def masked_inplace_autoregression(
    model,
    batch_size,
    input,
    ar_mask,
    deterministic_synthesis,
    forbidden_tokens=None,
):
    assert input.size() == ar_mask.size()

    batches = zip(input.split(batch_size), ar_mask.split(batch_size))

    with torch.autograd.no_grad():
        t = model.training
        model.eval()

        for input, ar_mask in batches:
            model.masked_inplace_autoregression(
                input, ar_mask, forbidden_tokens, deterministic_synthesis
            )

        model.train(t)


for deterministic_synthesis in [True, False]:
    result = test_input.clone()
    result = (1 - test_ar_mask) * result + test_ar_mask * (-1)
    print(result[0])
    masked_inplace_autoregression(
        model, batch_size, result, test_ar_mask, deterministic_synthesis
    )
    nb_total, nb_correct = problem.compute_nb_correct(test_input, test_ar_mask, result)
    print(
        f"deterministic_synthesis={deterministic_synthesis} accuracy test nb_total {nb_total} "
        f"nb_correct {nb_correct} accuracy {(100.0*nb_correct)/nb_total:0.2f}%"
    )
    for seq, target in zip(result[:3], test_input[:3]):
        print(problem.seq2str(seq), problem.seq2str(target))

model.record_attention(True)
model.eval()
with torch.no_grad():
    model(BracketedSequence(test_input[:2]))
attention = model.retrieve_attention()
print(len(attention), attention[0].size())
print(attention[0][0, 0, :4, :4])
print(attention[1][0, 1].sum(dim=1))

model.set_noise_injection(0.05, ("ffw", 0))
print([m.noise_std for m in model.modules() if isinstance(m, NoiseInjector)])
with torch.no_grad():
    noisy = model(BracketedSequence(test_input[:2])).x
print(noisy.argmax(2)[0])
model.reset_transformations()
