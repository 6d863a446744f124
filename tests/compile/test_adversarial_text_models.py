"""Adversarial small text models, compiled the way NLP tutorials write them: a vocabulary built in
Python (``stoi``/``itos``), strings encoded inside or outside the step, batches padded with a pad
index (``nn.Embedding(padding_idx=0)``, ``pad_sequence``), masks from ``ids != pad`` used in masked
mean pooling, recurrent layers with carried (detached) states, transformer encoders and multi-head
attention with padding masks, language-model losses with ``ignore_index`` rows that change between
calls (some batches all padding), label smoothing, ``EmbeddingBag`` with offsets, sentiment
classification with ``pos_weight``, a seq2seq GRU with teacher forcing chosen by a Python bool, and
greedy decoding. Each workflow runs eagerly and compiled, from the
same seed, over several calls whose data changes, and is compared bit for bit after every call:
the result (or the error raised), parameters, gradients, optimizer state, carried state and the
random stream. Running eagerly from some call on, with one warning, is allowed; anything else that
differs is a bug. A few workflows are also compared with real PyTorch (values, not bits).
"""
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.nn.utils.rnn import pad_sequence
from tests.compile.bitwise import assert_identical

CALLS = 5
PAD = 0

CORPUS = ["the cat sat", "a dog ran far", "cats nap", "the dog sat on a mat", "we ran", "hi",
          "a cat and a dog", "no", "the mat is red", "dogs bark at cats"]
CHARS = sorted(set("".join(CORPUS)))
STOI = {"<pad>": 0, "<bos>": 1, "<eos>": 2, **{c: i + 3 for i, c in enumerate(CHARS)}}
ITOS = {i: c for c, i in STOI.items()}
V = len(STOI)
WORDS = sorted(set(" ".join(CORPUS).split()))
WSTOI = {"<pad>": 0, **{w: i + 1 for i, w in enumerate(WORDS)}}
WV = len(WSTOI)


def _plain(value):
    if isinstance(value, torch.Tensor):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _model_state(*modules, opt=None):
    def state():
        out = []
        for module in modules:
            for name, p in module.named_parameters():
                out.append((name, p, p.grad))
            for name, b in module.named_buffers():
                out.append((name, b))
        if opt is not None:
            out.append([{k: v for k, v in s.items()} for s in opt.state.values()])
        return out
    return state


def _run(setup, compiled, calls=CALLS):
    torch.manual_seed(0)
    case = setup()
    step = torch.compile(case["step"]) if compiled else case["step"]
    state = case.get("state", lambda: [])
    records = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            try:
                if "call" in case:
                    result = ("returned", _plain(case["call"](step, i)))
                else:
                    result = ("returned", _plain(step(*case["args"](i))))
            except Exception as error:
                result = ("raised", type(error).__name__, str(error))
            records.append((result, _plain(state()), torch.random.default_generator.state_bytes()))
    compile_warnings = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return records, compile_warnings


def check(setup, calls=CALLS):
    # (eager is not run twice to see that it is deterministic: a run that was not would differ from
    # the compiled one below, which starts from the same seed)
    eager, _ = _run(setup, compiled=False, calls=calls)
    compiled, compile_warnings = _run(setup, compiled=True, calls=calls)
    assert len(compile_warnings) <= 1, compile_warnings
    for i, (mine, theirs) in enumerate(zip(compiled, eager)):
        assert_identical(mine, theirs, f"call {i}")
    return eager, compile_warnings


def _encode(text, bos=False, eos=False):
    return ([STOI["<bos>"]] if bos else []) + [STOI[c] for c in text] + ([STOI["<eos>"]] if eos else [])


def _batch_texts(i, n=3):
    rng = np.random.default_rng(i)
    return [CORPUS[k] for k in rng.choice(len(CORPUS), n, replace=False)]


def _padded(texts, **kw):
    return pad_sequence([torch.tensor(_encode(t, **kw)) for t in texts], batch_first=True, padding_value=PAD)


def _fixed_padded(i, n=3, length=8, **kw):
    """Same shape each call: texts cut/padded to a fixed length, so only the values change."""
    rows = []
    for t in _batch_texts(i, n):
        ids = _encode(t, **kw)[:length]
        rows.append(ids + [PAD] * (length - len(ids)))
    return torch.tensor(rows)


# ------------------------------------------------------------------ sentiment with masked pooling
class MaskedPoolClassifier(nn.Module):
    def __init__(self, kind="gru"):
        super().__init__()
        self.emb = nn.Embedding(V, 6, padding_idx=PAD)
        rnn = nn.GRU if kind == "gru" else nn.LSTM
        self.rnn = rnn(6, 5, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Linear(10, 1)

    def forward(self, ids):
        mask = (ids != PAD).float()
        h, _ = self.rnn(self.emb(ids))
        pooled = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return self.head(pooled).squeeze(-1)


def _labels(texts):
    return torch.tensor([1.0 if "cat" in t else 0.0 for t in texts])


@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("padding", ["outside", "outside_varying", "inside_fixed", "inside_varying"])
def test_sentiment_masked_mean_pooling(kind, padding):
    def setup():
        model = MaskedPoolClassifier(kind)
        opt = torch.optim.Adam(model.parameters(), lr=0.02)
        loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.5]))

        def step(batch, y):
            if padding == "inside_varying":
                ids = pad_sequence([torch.tensor([STOI[c] for c in t]) for t in batch],
                                   batch_first=True, padding_value=PAD)
            elif padding == "inside_fixed":
                ids = torch.tensor([([STOI[c] for c in t] + [PAD] * 12)[:12] for t in batch])
            else:
                ids = batch
            opt.zero_grad()
            logits = model(ids)
            loss = loss_fn(logits, y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            acc = ((torch.sigmoid(logits) > 0.5).float() == y).float().mean()
            return loss.detach(), acc, model.emb.weight.grad[PAD].clone()

        def args(i):
            texts = _batch_texts(i, 4)
            batch = {"outside": lambda: _fixed_padded(i, 4, 12),
                     "outside_varying": lambda: _padded(texts)}.get(padding, lambda: texts)()
            return batch, _labels(texts)

        return {"step": step, "args": args, "state": _model_state(model, opt=opt)}

    eager, _ = check(setup)
    for (result, _, _) in eager:  # the padding row's gradient stays zero
        assert not result[1][2].any()


# ------------------------------------------------------------------ LSTM language model, truncated BPTT
@pytest.mark.parametrize("bidirectional", [False, True])
def test_char_lm_lstm_carried_state_ignore_index_smoothing(bidirectional):
    D = 2 if bidirectional else 1

    def setup():
        emb = nn.Embedding(V, 8, padding_idx=PAD)
        lstm = nn.LSTM(8, 8, num_layers=2, batch_first=True, bidirectional=bidirectional)
        head = nn.Linear(8 * D, V)
        params = [*emb.parameters(), *lstm.parameters(), *head.parameters()]
        opt = torch.optim.SGD(params, lr=0.3, momentum=0.9)
        carried = {}

        def step(x, y, h0, c0):
            opt.zero_grad()
            out, (h, c) = lstm(emb(x), (h0, c0))
            logits = head(out)
            loss = F.cross_entropy(logits.view(-1, V), y.view(-1), ignore_index=PAD, label_smoothing=0.1)
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            return loss.detach(), h.detach(), c.detach()

        def call(step_fn, i):
            if i == 0 or i == 3:  # new document: fresh zero state
                carried["h"] = torch.zeros(2 * D, 3, 8)
                carried["c"] = torch.zeros(2 * D, 3, 8)
            ids = _fixed_padded(i, 3, 9, bos=True, eos=True)
            x, y = ids[:, :-1], ids[:, 1:].clone()
            if i == 2:
                y[1] = PAD  # one sequence contributes nothing
            loss, carried["h"], carried["c"] = step_fn(x, y, carried["h"], carried["c"])
            return loss, carried["h"], carried["c"]

        return {"step": step, "call": call, "state": _model_state(emb, lstm, head, opt=opt)}

    check(setup)


def test_all_padding_batch_gives_nan_loss_like_torch():
    """A batch whose targets are all padding: mean over zero targets is NaN (PyTorch gives nan)."""
    def setup():
        emb = nn.Embedding(V, 4, padding_idx=PAD)
        head = nn.Linear(4, V)
        params = [*emb.parameters(), *head.parameters()]

        def step(x, y):
            for p in params:
                p.grad = None
            loss = F.cross_entropy(head(emb(x)).view(-1, V), y.view(-1), ignore_index=PAD)
            loss.backward()
            return loss.detach(), head.weight.grad.clone()

        def args(i):
            x = _fixed_padded(i, 2, 5)
            y = _fixed_padded(i + 50, 2, 5)
            if i in (1, 3):
                y = torch.zeros_like(y)
            return x, y

        return {"step": step, "args": args, "state": _model_state(emb, head)}

    eager, _ = check(setup)
    assert np.isnan(eager[1][0][1][0])
    import torch as real_torch
    logits = real_torch.zeros(4, V, requires_grad=True)
    loss = real_torch.nn.functional.cross_entropy(logits, real_torch.zeros(4, dtype=real_torch.long), ignore_index=0)
    assert np.isnan(loss.item())


# ------------------------------------------------------------------ transformer encoder with masks
@pytest.mark.parametrize("causal", [False, True])
def test_transformer_encoder_key_padding_and_causal(causal):
    def setup():
        emb = nn.Embedding(V, 8, padding_idx=PAD)
        pos = nn.Parameter(torch.randn(10, 8) * 0.1)
        layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1, batch_first=True)
        enc = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        head = nn.Linear(8, V)
        params = [pos, *emb.parameters(), *enc.parameters(), *head.parameters()]
        opt = torch.optim.AdamW(params, lr=0.01)

        def step(ids):
            x, y = ids[:, :-1], ids[:, 1:]
            T = x.size(1)
            pad_mask = x == PAD
            mask = nn.Transformer.generate_square_subsequent_mask(T) if causal else None
            h = enc(emb(x) + pos[:T], mask=mask, src_key_padding_mask=pad_mask)
            logits = head(h)
            loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1), ignore_index=PAD)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            return loss.detach(), logits.detach().argmax(-1)

        def args(i):
            return (_fixed_padded(i, 3, 10, bos=True),)

        return {"step": step, "args": args, "state": _model_state(emb, enc, head, opt=opt)}

    check(setup)


# ------------------------------------------------------------------ multi-head attention pooling
@pytest.mark.parametrize("average", [True, False])
def test_mha_key_padding_mask_need_weights(average):
    def setup():
        emb = nn.Embedding(V, 8, padding_idx=PAD)
        mha = nn.MultiheadAttention(8, 2, batch_first=True)
        query = nn.Parameter(torch.randn(1, 1, 8))
        head = nn.Linear(8, 2)
        params = [query, *emb.parameters(), *mha.parameters(), *head.parameters()]
        opt = torch.optim.Adam(params, lr=0.01)

        def step(ids, y):
            x = emb(ids)
            q = query.expand(ids.size(0), -1, -1)
            out, w = mha(q, x, x, key_padding_mask=ids == PAD, need_weights=True,
                         average_attn_weights=average)
            loss = F.cross_entropy(head(out[:, 0]), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach(), w.detach()

        def args(i):
            texts = _batch_texts(i, 3)
            return _fixed_padded(i, 3, 10), _labels(texts).long()

        return {"step": step, "args": args, "state": _model_state(emb, mha, head, opt=opt)}

    eager, _ = check(setup)
    for i, (result, _, _) in enumerate(eager):  # padded keys get zero attention weight
        weights = result[1][1]
        pad = (_fixed_padded(i, 3, 10) == PAD).numpy()
        pad = pad[:, None, :] if average else pad[:, None, None, :]
        assert not np.broadcast_to(pad, weights.shape).__and__(weights != 0).any()


# ------------------------------------------------------------------ EmbeddingBag text classifier
class BagClassifier(nn.Module):
    """The PyTorch text classification tutorial's model."""
    def __init__(self, mode):
        super().__init__()
        self.embedding = nn.EmbeddingBag(WV, 6, mode=mode)
        self.fc = nn.Linear(6, 3)
        initrange = 0.5
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.fc.weight.data.uniform_(-initrange, initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        return self.fc(self.embedding(text, offsets))


def _bag_batch(i, n=4):
    texts = _batch_texts(i + 7, n)
    labels = torch.tensor([len(t) % 3 for t in texts])
    pieces = [torch.tensor([WSTOI[w] for w in t.split()]) for t in texts]
    offsets = torch.tensor([0] + [len(p) for p in pieces[:-1]]).cumsum(dim=0)
    return torch.cat(pieces), offsets, labels


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("offsets_where", ["outside", "inside"])
def test_embedding_bag_offsets_classifier(mode, offsets_where):
    def setup():
        model = BagClassifier(mode)
        opt = torch.optim.SGD(model.parameters(), lr=5.0)

        def step(*batch):
            if offsets_where == "inside":
                texts, labels = batch
                pieces = [torch.tensor([WSTOI[w] for w in t.split()]) for t in texts]
                offsets = torch.tensor([0] + [len(p) for p in pieces[:-1]]).cumsum(dim=0)
                text = torch.cat(pieces)
            else:
                text, offsets, labels = batch
            opt.zero_grad()
            logits = model(text, offsets)
            loss = F.cross_entropy(logits, labels)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            opt.step()
            return loss.detach(), (logits.argmax(1) == labels).sum()

        def args(i):
            if offsets_where == "inside":
                texts = _batch_texts(i + 7, 4)
                return texts, torch.tensor([len(t) % 3 for t in texts])
            return _bag_batch(i)

        return {"step": step, "args": args, "state": _model_state(model, opt=opt)}

    check(setup)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_pytorch(mode):
    import torch as real_torch
    torch.manual_seed(0)
    ours = nn.EmbeddingBag(WV, 4, mode=mode).double()
    theirs = real_torch.nn.EmbeddingBag(WV, 4, mode=mode).double()
    with real_torch.no_grad():
        theirs.weight.copy_(real_torch.from_numpy(ours.weight.detach().numpy().copy()))
    for i in range(3):
        text, offsets, _ = _bag_batch(i)
        out = ours(text, offsets)
        out.pow(2).sum().backward()
        ref = theirs(real_torch.from_numpy(text.numpy().copy()), real_torch.from_numpy(offsets.numpy().copy()))
        ref.pow(2).sum().backward()
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)


# ------------------------------------------------------------------ seq2seq GRU, teacher forcing flag
class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.src_emb = nn.Embedding(V, 6, padding_idx=PAD)
        self.tgt_emb = nn.Embedding(V, 6, padding_idx=PAD)
        self.encoder = nn.GRU(6, 8, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(16, 8)
        self.decoder = nn.GRU(6, 8, batch_first=True)
        self.out = nn.Linear(8, V)

    def encode(self, src):
        _, h = self.encoder(self.src_emb(src))
        return torch.tanh(self.bridge(torch.cat([h[0], h[1]], dim=-1)))[None]

    def forward(self, src, tgt, teacher_forcing):
        h = self.encode(src)
        token = tgt[:, 0]
        outputs = []
        for t in range(1, tgt.size(1)):
            o, h = self.decoder(self.tgt_emb(token)[:, None], h)
            logits = self.out(o[:, 0])
            outputs.append(logits)
            token = tgt[:, t] if teacher_forcing else logits.argmax(-1)
        return torch.stack(outputs, dim=1)

    @torch.no_grad()
    def greedy(self, src, max_len=6):
        h = self.encode(src)
        token = torch.full((src.size(0),), STOI["<bos>"], dtype=torch.long)
        tokens = []
        for _ in range(max_len):
            o, h = self.decoder(self.tgt_emb(token)[:, None], h)
            token = self.out(o[:, 0]).argmax(-1)
            tokens.append(token)
        return torch.stack(tokens, dim=1)


def _reverse_pair(i):
    src = _fixed_padded(i, 3, 6)
    tgt = torch.flip(src, dims=[1])
    tgt = torch.cat([torch.full((3, 1), STOI["<bos>"], dtype=torch.long), tgt], dim=1)
    return src, tgt


@pytest.mark.parametrize("schedule", ["alternating", "always", "never"])
def test_seq2seq_teacher_forcing_python_bool(schedule):
    def setup():
        model = Seq2Seq()
        opt = torch.optim.Adam(model.parameters(), lr=0.01)

        def step(src, tgt, teacher_forcing):
            model.train()
            opt.zero_grad()
            logits = model(src, tgt, teacher_forcing)
            loss = F.cross_entropy(logits.reshape(-1, V), tgt[:, 1:].reshape(-1), ignore_index=PAD)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            return loss.detach(), model.greedy(src)

        def args(i):
            flag = {"alternating": i % 2 == 0, "always": True, "never": False}[schedule]
            return (*_reverse_pair(i), flag)

        return {"step": step, "args": args, "state": _model_state(model, opt=opt)}

    check(setup, calls=6)


def test_teacher_forcing_decided_by_random_inside_step():
    """``random.random() < ratio`` inside the step, the tutorial way, with Python's random seeded."""
    import random

    def setup():
        random.seed(3)
        model = Seq2Seq()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        def step(src, tgt):
            teacher_forcing = random.random() < 0.5
            opt.zero_grad()
            logits = model(src, tgt, teacher_forcing)
            loss = F.cross_entropy(logits.reshape(-1, V), tgt[:, 1:].reshape(-1), ignore_index=PAD)
            loss.backward()
            opt.step()
            return loss.detach(), teacher_forcing

        return {"step": step, "args": _reverse_pair,
                "state": lambda: [_model_state(model)(), random.getstate()]}

    check(setup, calls=6)


def test_greedy_decode_to_strings_with_itos():
    """Decoding turns ids into a Python string through ``itos`` and stops at <eos>."""
    def setup():
        model = Seq2Seq()

        def decode(src):
            ids = model.greedy(src, max_len=5)
            words = []
            for row in ids.tolist():
                chars = []
                for k in row:
                    if k == STOI["<eos>"]:
                        break
                    chars.append(ITOS[k])
                words.append("".join(chars))
            return words, ids

        def call(step_fn, i):
            with torch.no_grad():  # the weights change between calls: decoding must follow
                for p in model.parameters():
                    p.add_(0.3 * torch.sin(torch.arange(p.numel(), dtype=p.dtype).reshape(p.shape) + i))
            return step_fn(_reverse_pair(i)[0])

        return {"step": decode, "call": call, "state": _model_state(model)}

    check(setup)


# ------------------------------------------------------------------ vocabulary grown between calls
def test_vocabulary_dict_grown_between_calls():
    """The step encodes with a module-level dict that the caller extends (unknowns map to <unk>)."""
    def setup():
        stoi = {"<pad>": 0, "<unk>": 1, "the": 2, "cat": 3}
        emb = nn.Embedding(12, 4, padding_idx=0)
        head = nn.Linear(4, 2)
        opt = torch.optim.SGD([*emb.parameters(), *head.parameters()], lr=0.5)

        def step(sentences, y):
            rows = [[stoi.get(w, 1) for w in s.split()] for s in sentences]
            width = 5
            ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])
            mask = (ids != 0).float()
            pooled = (emb(ids) * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
            loss = F.cross_entropy(head(pooled), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach(), ids

        def call(step_fn, i):
            if i >= 1:
                stoi.setdefault(["dog", "sat", "mat", "ran"][i - 1], len(stoi))
            sentences = ["the cat sat", "a dog ran", "the mat"]
            return step_fn(sentences, torch.tensor([i % 2, 1, 0]))

        return {"step": step, "call": call, "state": _model_state(emb, head, opt=opt)}

    check(setup)


# ------------------------------------------------------------------ eager against real PyTorch
def test_padded_gru_lm_matches_pytorch():
    """Embedding(padding_idx) -> 2-layer bidirectional GRU -> masked mean -> BCE(pos_weight),
    the same weights in chainrule and PyTorch: loss, gradients (zero pad row) agree."""
    import torch as real_torch
    torch.manual_seed(0)
    ours = MaskedPoolClassifier("gru").double()
    real_torch.manual_seed(0)

    class Theirs(real_torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = real_torch.nn.Embedding(V, 6, padding_idx=PAD)
            self.rnn = real_torch.nn.GRU(6, 5, num_layers=2, bidirectional=True, batch_first=True)
            self.head = real_torch.nn.Linear(10, 1)

        def forward(self, ids):
            mask = (ids != PAD).double()
            h, _ = self.rnn(self.emb(ids))
            pooled = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
            return self.head(pooled).squeeze(-1)

    theirs = Theirs().double()
    theirs.load_state_dict({k: real_torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    texts = _batch_texts(1, 4)
    ids = _padded(texts)
    y = _labels(texts).double()
    loss = F.binary_cross_entropy_with_logits(ours(ids), y, pos_weight=torch.tensor([2.5]).double())
    loss.backward()
    ref = real_torch.nn.functional.binary_cross_entropy_with_logits(
        theirs(real_torch.from_numpy(ids.numpy().copy())), real_torch.from_numpy(y.numpy().copy()),
        pos_weight=real_torch.tensor([2.5]).double())
    ref.backward()
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-10)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)
    assert not ours.emb.weight.grad[PAD].numpy().any()


def test_cross_entropy_ignore_index_smoothing_matches_pytorch():
    import torch as real_torch
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((12, V))
    for i, targets in enumerate([rng.integers(0, V, 12), np.zeros(12, dtype=np.int64), np.r_[np.zeros(11), 4].astype(np.int64)]):
        for smoothing in (0.0, 0.2):
            ours_x = torch.tensor(logits, requires_grad=True)
            loss = F.cross_entropy(ours_x, torch.tensor(targets), ignore_index=PAD, label_smoothing=smoothing)
            loss.backward()
            their_x = real_torch.tensor(logits, requires_grad=True)
            ref = real_torch.nn.functional.cross_entropy(their_x, real_torch.tensor(targets), ignore_index=PAD,
                                                          label_smoothing=smoothing)
            ref.backward()
            np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-10, err_msg=f"{i} {smoothing}")
            np.testing.assert_allclose(ours_x.grad.numpy(), their_x.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_mha_weights_match_pytorch_key_padding():
    import torch as real_torch
    torch.manual_seed(0)
    ours = nn.MultiheadAttention(8, 2, batch_first=True).double()
    theirs = real_torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    theirs.load_state_dict({k: real_torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    ids = _fixed_padded(2, 3, 7)
    x = np.random.default_rng(1).standard_normal((3, 7, 8))
    for average in (True, False):
        out, w = ours(torch.tensor(x), torch.tensor(x), torch.tensor(x), key_padding_mask=ids == PAD,
                      average_attn_weights=average)
        rx = real_torch.tensor(x)
        rout, rw = theirs(rx, rx, rx, key_padding_mask=real_torch.from_numpy((ids == PAD).numpy().copy()),
                          average_attn_weights=average)
        np.testing.assert_allclose(out.detach().numpy(), rout.detach().numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(w.detach().numpy(), rw.detach().numpy(), rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ more padding-dependent counts
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_2d_padding_idx_counts_change(mode):
    """Fixed-length bags padded with padding_idx: mean divides by the non-pad count, which changes
    per call; a bag of only padding gives zeros."""
    def setup():
        bag = nn.EmbeddingBag(WV, 4, mode=mode, padding_idx=PAD)
        fc = nn.Linear(4, 2)
        opt = torch.optim.Adam([*bag.parameters(), *fc.parameters()], lr=0.05)

        def step(ids, y):
            opt.zero_grad()
            logits = fc(bag(ids))
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            return loss.detach(), logits.detach()

        def args(i):
            rng = np.random.default_rng(i)
            ids = rng.integers(1, WV, (4, 5))
            for r in range(4):
                ids[r, rng.integers(0, 6):] = PAD
            if i == 2:
                ids[1] = PAD
            return torch.from_numpy(ids), torch.from_numpy(rng.integers(0, 2, 4))

        return {"step": step, "args": args, "state": _model_state(bag, fc, opt=opt)}

    _, fell_back = check(setup)
    assert fell_back == []  # the bags' mask is each call's ids != padding_idx, computed again on each replay


def test_embedding_bag_2d_padding_idx_matches_pytorch():
    import torch as real_torch
    ids = np.array([[3, 4, 0, 0], [0, 0, 0, 0], [5, 5, 5, 1]])
    for mode in ("sum", "mean", "max"):
        torch.manual_seed(0)
        ours = nn.EmbeddingBag(WV, 3, mode=mode, padding_idx=PAD).double()
        theirs = real_torch.nn.EmbeddingBag(WV, 3, mode=mode, padding_idx=PAD).double()
        with real_torch.no_grad():
            theirs.weight.copy_(real_torch.from_numpy(ours.weight.detach().numpy().copy()))
        out = ours(torch.from_numpy(ids))
        out.pow(2).sum().backward()
        ref = theirs(real_torch.from_numpy(ids))
        ref.pow(2).sum().backward()
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12, err_msg=mode)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12, err_msg=mode)


@pytest.mark.parametrize("guard", ["isfinite_branch", "clamped_count"])
def test_manual_masked_token_loss_with_all_padding_batch(guard):
    """``(ce(reduction='none') * mask).sum() / mask.sum()``: an all-padding batch gives 0/0, skipped
    by a Python branch on ``isfinite``, or avoided by ``mask.sum().clamp(min=1)``."""
    def setup():
        emb = nn.Embedding(V, 6, padding_idx=PAD)
        gru = nn.GRU(6, 6, batch_first=True)
        head = nn.Linear(6, V)
        params = [*emb.parameters(), *gru.parameters(), *head.parameters()]
        opt = torch.optim.SGD(params, lr=0.2)

        def step(ids, targets):
            mask = (targets != PAD).float()
            out, _ = gru(emb(ids))
            per_token = F.cross_entropy(head(out).transpose(1, 2), targets, reduction="none")
            count = mask.sum() if guard == "isfinite_branch" else mask.sum().clamp(min=1)
            loss = (per_token * mask).sum() / count
            opt.zero_grad()
            loss.backward()
            if guard == "clamped_count" or torch.isfinite(loss):
                opt.step()
            return loss.detach(), per_token.detach()

        def args(i):
            ids = _fixed_padded(i, 3, 6)
            targets = torch.roll(ids, -1, dims=1)
            if i == 3:
                targets = torch.zeros_like(targets)
            return ids, targets

        return {"step": step, "args": args, "state": _model_state(emb, gru, head, opt=opt)}

    check(setup)


def test_greedy_decode_stops_early_when_all_eos():
    """``if (token == eos).all(): break`` ends the loop at a data-dependent step."""
    def setup():
        model = Seq2Seq()

        @torch.no_grad()
        def decode(src, max_len=6):
            h = model.encode(src)
            token = torch.full((src.size(0),), STOI["<bos>"], dtype=torch.long)
            tokens = []
            for _ in range(max_len):
                o, h = model.decoder(model.tgt_emb(token)[:, None], h)
                token = model.out(o[:, 0]).argmax(-1)
                tokens.append(token)
                if (token == STOI["<eos>"]).all():
                    break
            return torch.stack(tokens, dim=1)

        def call(step_fn, i):
            with torch.no_grad():  # make <eos> win from a call-dependent step on
                model.out.bias.zero_()
                model.out.bias[STOI["<eos>"]] = [0.0, 50.0, -50.0, 50.0, 0.0][i]
            return step_fn(_reverse_pair(i)[0])

        return {"step": decode, "call": call, "state": _model_state(model)}

    eager, _ = check(setup)
    assert [r[0][1].shape[1] for r in eager] == [6, 1, 6, 1, 6]
