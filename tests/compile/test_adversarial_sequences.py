"""Adversarial sequence models: compiled training steps through recurrent layers (carried hidden
states, packed sequences whose lengths change per batch), cells unrolled in Python, attention with
masks that change per batch, transformers, scaled dot-product attention and CTC with lengths that
change per batch. Each scenario runs eagerly and compiled over several calls from the same seed,
with the data-dependent parts (lengths, masks, targets) changing while shapes stay the same, and is
compared bit for bit after every call: the result (or the error raised), parameters, gradients,
carried states and the random stream. Running eagerly from some call on, with one warning, is
allowed; anything else that differs is a bug.
"""
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.nn.utils import rnn as rnn_utils
from tests.compile.bitwise import assert_identical

CALLS = 5


def _plain(value):
    if isinstance(value, torch.Tensor):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, rnn_utils.PackedSequence):
        return tuple(_plain(item) for item in value)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _params_and_grads(*modules):
    def state():
        out = []
        for module in modules:
            for name, p in module.named_parameters():
                out.append((name, p, p.grad))
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
    compile_warnings = [str(w.message) for w in caught if "compile" in str(w.message)]
    return records, compile_warnings


def check(setup, calls=CALLS):
    # (eager is not run twice to see that it is deterministic: a run that was not would differ from
    # the compiled one below, which starts from the same seed)
    eager, _ = _run(setup, compiled=False, calls=calls)
    compiled, compile_warnings = _run(setup, compiled=True, calls=calls)
    assert len(compile_warnings) <= 1, compile_warnings
    for i, (mine, theirs) in enumerate(zip(compiled, eager)):
        assert_identical(mine, theirs, f"call {i}")
    return compile_warnings


def _data(seed, *shape):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def _ints(seed, high, *shape):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, high, shape).astype(np.int64))


# ----------------------------------------------------------------- recurrent layers, carried state
RNN_CONFIGS = {
    "lstm_2layer_bidir_batch_first_dropout": dict(kind=nn.LSTM, kw=dict(num_layers=2, bidirectional=True, batch_first=True, dropout=0.3)),
    "lstm_proj_seq_first": dict(kind=nn.LSTM, kw=dict(num_layers=2, proj_size=3)),
    "lstm_proj_bidir_batch_first": dict(kind=nn.LSTM, kw=dict(num_layers=1, proj_size=2, bidirectional=True, batch_first=True)),
    "gru_2layer_dropout": dict(kind=nn.GRU, kw=dict(num_layers=2, dropout=0.5)),
    "gru_bidir_batch_first": dict(kind=nn.GRU, kw=dict(bidirectional=True, batch_first=True)),
    "rnn_relu_2layer_bidir": dict(kind=nn.RNN, kw=dict(num_layers=2, bidirectional=True, nonlinearity="relu")),
}


def _carried_in_attribute(kind, kw):
    """Truncated BPTT: the state lives in a module attribute, detached, starting as None."""
    def setup():
        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = kind(4, 5, **kw)
                out = (kw.get("proj_size") or 5) * (2 if kw.get("bidirectional") else 1)
                self.head = nn.Linear(out, 3)
                self.h = None

            def forward(self, x):
                y, h = self.rnn(x, self.h)
                self.h = tuple(part.detach() for part in h) if isinstance(h, tuple) else h.detach()
                return self.head(y)

        model = Model()
        opt = torch.optim.Adam(model.parameters(), lr=0.01)

        def step(x, target):
            opt.zero_grad()
            loss = F.mse_loss(model(x), target)
            loss.backward()
            opt.step()
            return loss.detach()

        def args(i):
            shape = (2, 6) if kw.get("batch_first") else (6, 2)
            return _data(i, *shape, 4), _data(100 + i, *shape, 3)

        return {"step": step, "args": args,
                "state": lambda: [_params_and_grads(model)(), model.h]}
    return setup


@pytest.mark.parametrize("name", list(RNN_CONFIGS))
def test_truncated_bptt_state_in_attribute(name):
    check(_carried_in_attribute(**RNN_CONFIGS[name]))


def _carried_by_caller(kind, kw, given_first):
    """The caller keeps the state: passed in, returned detached; None on the first call or not."""
    def setup():
        rnn = kind(3, 4, **kw)
        opt = torch.optim.SGD(rnn.parameters(), lr=0.1, momentum=0.9)
        layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        holder = {"h": None}
        if given_first:
            h0 = _data(7, layers, 2, kw.get("proj_size") or 4)
            holder["h"] = (h0, _data(8, layers, 2, 4)) if kind is nn.LSTM else h0

        def step(x, h):
            opt.zero_grad()
            y, h = rnn(x, h)
            loss = (y ** 2).mean()
            loss.backward()
            opt.step()
            detached = tuple(p.detach() for p in h) if isinstance(h, tuple) else h.detach()
            return loss.detach(), detached

        def call(step, i):
            loss, h = step(_data(i, 5, 2, 3), holder["h"])
            holder["h"] = h
            return loss, h

        return {"step": step, "call": call, "state": lambda: [_params_and_grads(rnn)(), holder["h"]]}
    return setup


@pytest.mark.parametrize("given_first", [False, True])
@pytest.mark.parametrize("name", ["lstm_2layer_bidir", "gru_2layer", "lstm_proj"])
def test_state_carried_by_caller(name, given_first):
    kind, kw = {"lstm_2layer_bidir": (nn.LSTM, dict(num_layers=2, bidirectional=True)),
                "gru_2layer": (nn.GRU, dict(num_layers=2, dropout=0.2)),
                "lstm_proj": (nn.LSTM, dict(proj_size=2))}[name]
    check(_carried_by_caller(kind, kw, given_first))


def test_varying_sequence_length_between_calls():
    def setup():
        rnn = nn.GRU(3, 4, num_layers=2)
        opt = torch.optim.SGD(rnn.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            y, h = rnn(x)
            loss = y.sum() + h.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach(), y.detach()

        return {"step": step, "args": lambda i: (_data(i, [3, 5, 3, 7, 5][i], 2, 3),),
                "state": _params_and_grads(rnn)}
    check(setup)


# ----------------------------------------------------------------- packed sequences: lengths are data
PACK_LENGTHS = [[5, 3, 2], [5, 5, 1], [4, 2, 2], [5, 1, 1], [3, 3, 3]]
UNSORTED_LENGTHS = [[2, 5, 3], [5, 1, 4], [1, 1, 5], [3, 5, 2], [4, 4, 4]]


def _packed(kind, kw, lengths_table, enforce_sorted, lengths_as, batch_first=False, total_length=None):
    def setup():
        rnn = kind(3, 4, batch_first=batch_first, **kw)
        opt = torch.optim.SGD(rnn.parameters(), lr=0.1)

        def step(x, lengths):
            opt.zero_grad()
            packed = rnn_utils.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
            out, h = rnn(packed)
            padded, out_lengths = rnn_utils.pad_packed_sequence(out, batch_first=batch_first, total_length=total_length)
            hn = h[0] if isinstance(h, tuple) else h
            loss = padded.pow(2).sum() + hn.sum()
            loss.backward()
            opt.step()
            return loss.detach(), padded.detach(), out_lengths, hn.detach()

        def args(i):
            shape = (3, 5) if batch_first else (5, 3)
            lengths = lengths_table[i]
            if lengths_as == "tensor":
                lengths = torch.tensor(lengths)
            return _data(i, *shape, 3), lengths

        return {"step": step, "args": args, "state": _params_and_grads(rnn)}
    return setup


@pytest.mark.parametrize("lengths_as", ["tensor", "list"])
@pytest.mark.parametrize("name", ["lstm_sorted", "gru_unsorted_batch_first", "lstm_bidir_unsorted", "rnn_unsorted_total_length"])
def test_packed_sequence_lengths_change_per_batch(name, lengths_as):
    kind, kw, table, sort, bf, total = {
        "lstm_sorted": (nn.LSTM, dict(num_layers=2), PACK_LENGTHS, True, False, None),
        "gru_unsorted_batch_first": (nn.GRU, dict(), UNSORTED_LENGTHS, False, True, None),
        "lstm_bidir_unsorted": (nn.LSTM, dict(bidirectional=True, num_layers=2), UNSORTED_LENGTHS, False, False, None),
        "rnn_unsorted_total_length": (nn.RNN, dict(), UNSORTED_LENGTHS, False, False, 5),
    }[name]
    check(_packed(kind, kw, table, sort, lengths_as, bf, total))


def test_packed_lengths_error_in_a_later_batch():
    # unsorted lengths with enforce_sorted=True in call 2: the same error as eagerly
    table = [[5, 3, 2], [4, 3, 1], [2, 5, 3], [5, 4, 4], [3, 2, 1]]
    check(_packed(nn.LSTM, dict(), table, True, "tensor"))


def test_pad_sequence_from_varying_pieces():
    def setup():
        rnn = nn.LSTM(2, 3)
        opt = torch.optim.SGD(rnn.parameters(), lr=0.1)

        def step(pieces, lengths):
            opt.zero_grad()
            padded = rnn_utils.pad_sequence(pieces)
            packed = rnn_utils.pack_padded_sequence(padded, lengths, enforce_sorted=False)
            _, (h, c) = rnn(packed)
            loss = h.sum() + c.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach(), h.detach()

        tables = [[4, 2, 3], [4, 4, 1], [1, 4, 2], [3, 4, 3], [4, 1, 1]]

        def args(i):
            lengths = tables[i]
            return [_data(10 * i + b, n, 2) for b, n in enumerate(lengths)], torch.tensor(lengths)

        return {"step": step, "args": args, "state": _params_and_grads(rnn)}
    check(setup)


# ----------------------------------------------------------------- language model, teacher forcing
def test_embedding_lstm_language_model_teacher_forcing():
    def setup():
        class CharRNN(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(11, 6)
                self.lstm = nn.LSTM(6, 8, num_layers=2, batch_first=True, dropout=0.25)
                self.out = nn.Linear(8, 11)

            def forward(self, idx, h=None):
                y, h = self.lstm(self.emb(idx), h)
                return self.out(y), h

        model = CharRNN()
        opt = torch.optim.AdamW(model.parameters(), lr=0.01)
        box = {"h": None}

        def step(tokens):
            opt.zero_grad()
            logits, h = model(tokens[:, :-1], box["h"])
            box["h"] = tuple(p.detach() for p in h)
            loss = F.cross_entropy(logits.reshape(-1, 11), tokens[:, 1:].reshape(-1), ignore_index=0)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            return loss.detach()

        return {"step": step, "args": lambda i: (_ints(i, 11, 3, 7),),
                "state": lambda: [_params_and_grads(model)(), box["h"]]}
    check(setup)


# ----------------------------------------------------------------- cells unrolled in Python
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_cell_unrolled_over_time(cell):
    def setup():
        module = {"rnn": nn.RNNCell(3, 4), "lstm": nn.LSTMCell(3, 4), "gru": nn.GRUCell(3, 4)}[cell]
        head = nn.Linear(4, 2)
        opt = torch.optim.RMSprop(list(module.parameters()) + list(head.parameters()), lr=0.01)

        def step(x, y, mask):
            opt.zero_grad()
            state = None
            outs = []
            for t in range(x.shape[0]):
                state = module(x[t], state)
                h = state[0] if isinstance(state, tuple) else state
                outs.append(head(h))
            pred = torch.stack(outs)
            loss = ((pred - y) ** 2 * mask[..., None]).sum() / mask.sum()
            loss.backward()
            opt.step()
            return loss.detach(), pred.detach()

        def args(i):
            length = [4, 4, 6, 4, 6][i]
            mask = (_data(50 + i, length, 2) > 0).float()
            return _data(i, length, 2, 3), _data(20 + i, length, 2, 2), mask

        return {"step": step, "args": args, "state": _params_and_grads(module, head)}
    check(setup)


def test_masked_recurrence_with_where_on_lengths():
    """Lengths as a tensor decide (through masks) which steps update the state."""
    def setup():
        cell = nn.GRUCell(3, 4)
        opt = torch.optim.SGD(cell.parameters(), lr=0.1)

        def step(x, lengths):
            opt.zero_grad()
            h = torch.zeros(x.shape[1], 4)
            for t in range(x.shape[0]):
                new = cell(x[t], h)
                alive = (lengths > t).unsqueeze(1)
                h = torch.where(alive, new, h)
            loss = h.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach(), h.detach()

        return {"step": step, "args": lambda i: (_data(i, 5, 3, 3), torch.tensor(PACK_LENGTHS[i])),
                "state": _params_and_grads(cell)}
    check(setup)


# ----------------------------------------------------------------- attention with changing masks
def _mha(mask_kind, need_weights, average, batch_first):
    def setup():
        mha = nn.MultiheadAttention(8, 2, dropout=0.1, batch_first=batch_first)
        opt = torch.optim.Adam(mha.parameters(), lr=0.01)

        def step(x, key_padding_mask, attn_mask):
            opt.zero_grad()
            out, weights = mha(x, x, x, key_padding_mask=key_padding_mask, attn_mask=attn_mask,
                               need_weights=need_weights, average_attn_weights=average)
            loss = out.pow(2).mean()
            loss.backward()
            opt.step()
            return loss.detach(), out.detach(), None if weights is None else weights.detach()

        def args(i):
            shape = (2, 5, 8) if batch_first else (5, 2, 8)
            rng = np.random.default_rng(30 + i)
            kpm = rng.random((2, 5)) < 0.4
            kpm[:, 0] = False
            am = rng.random((5, 5)) < 0.3
            np.fill_diagonal(am, False)
            if mask_kind == "bool":
                return _data(i, *shape), torch.from_numpy(kpm), torch.from_numpy(am)
            if mask_kind == "float":
                return (_data(i, *shape), torch.from_numpy(np.where(kpm, -np.inf, 0.0).astype(np.float32)),
                        torch.from_numpy(np.where(am, -1e9, rng.standard_normal((5, 5))).astype(np.float32)))
            return _data(i, *shape), torch.from_numpy(kpm), None

        return {"step": step, "args": args, "state": _params_and_grads(mha)}
    return setup


@pytest.mark.parametrize("mask_kind,need_weights,average,batch_first", [
    ("bool", True, True, False),
    ("bool", True, False, True),
    ("float", True, True, True),
    ("float", False, True, False),
    ("kpm_only", True, False, False),
    ("kpm_only", False, True, True),
])
def test_multihead_attention_masks_change_per_batch(mask_kind, need_weights, average, batch_first):
    check(_mha(mask_kind, need_weights, average, batch_first))


def test_multihead_attention_fully_masked_row_nan():
    """A row whose keys are all padded gives NaN eagerly: the same bits compiled."""
    def setup():
        mha = nn.MultiheadAttention(4, 1, batch_first=True)

        def step(x, kpm):
            out, w = mha(x, x, x, key_padding_mask=kpm)
            out.sum().backward()
            return out.detach(), w.detach()

        def args(i):
            kpm = np.zeros((2, 3), bool)
            kpm[i % 2] = True if i >= 2 else [False, True, True]
            return _data(i, 2, 3, 4), torch.from_numpy(kpm)

        return {"step": step, "args": args, "state": _params_and_grads(mha)}
    check(setup)


def test_transformer_encoder_padding_mask_and_causal():
    def setup():
        layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1, batch_first=True)
        enc = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        head = nn.Linear(8, 5)
        opt = torch.optim.Adam(list(enc.parameters()) + list(head.parameters()), lr=0.01)

        def step(x, pad, targets):
            opt.zero_grad()
            causal = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
            h = enc(x, mask=causal, src_key_padding_mask=pad, is_causal=True)
            logits = head(h)
            targets = targets.masked_fill(pad, -100)
            loss = F.cross_entropy(logits.reshape(-1, 5), targets.reshape(-1), ignore_index=-100)
            loss.backward()
            opt.step()
            return loss.detach(), h.detach()

        def args(i):
            lengths = torch.tensor(PACK_LENGTHS[i])
            pad = torch.arange(5)[None, :] >= lengths[:, None]
            return _data(i, 3, 5, 8), pad, _ints(40 + i, 5, 3, 5)

        return {"step": step, "args": args, "state": _params_and_grads(enc, head)}
    check(setup)


def test_transformer_decoder_with_memory_masks():
    def setup():
        layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
        dec = nn.TransformerDecoder(layer, num_layers=2)
        opt = torch.optim.SGD(dec.parameters(), lr=0.05)

        def step(tgt, memory, tgt_pad, mem_pad):
            opt.zero_grad()
            tgt_mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[0])
            out = dec(tgt, memory, tgt_mask=tgt_mask, tgt_key_padding_mask=tgt_pad,
                      memory_key_padding_mask=mem_pad, tgt_is_causal=True)
            loss = out.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach(), out.detach()

        def args(i):
            tl = torch.tensor(PACK_LENGTHS[i])
            ml = torch.tensor(UNSORTED_LENGTHS[i])
            return (_data(i, 5, 3, 8), _data(60 + i, 5, 3, 8),
                    torch.arange(5)[None, :] >= tl[:, None], torch.arange(5)[None, :] >= ml[:, None])

        return {"step": step, "args": args, "state": _params_and_grads(dec)}
    check(setup)


@pytest.mark.parametrize("variant", ["causal_dropout", "bool_mask", "float_mask_scale", "gqa_like_broadcast"])
def test_scaled_dot_product_attention(variant):
    def setup():
        proj = nn.Linear(8, 24)
        opt = torch.optim.SGD(proj.parameters(), lr=0.1)

        def step(x, mask):
            opt.zero_grad()
            q, k, v = proj(x).view(2, 5, 3, 2, 4).permute(2, 0, 3, 1, 4)
            if variant == "causal_dropout":
                out = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=0.2)
            elif variant == "bool_mask":
                out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.1)
            elif variant == "float_mask_scale":
                out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask.float() * -1e4, scale=0.3)
            else:
                out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
            loss = out.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach(), out.detach()

        def args(i):
            rng = np.random.default_rng(70 + i)
            if variant == "gqa_like_broadcast":
                m = rng.random((2, 5)) < 0.6
                m[:, 0] = True
            else:
                m = rng.random((5, 5)) < 0.6
                np.fill_diagonal(m, True)
            return _data(i, 2, 5, 8), torch.from_numpy(m)

        return {"step": step, "args": args, "state": _params_and_grads(proj)}
    check(setup)


# ----------------------------------------------------------------- CTC with lengths per batch
@pytest.mark.parametrize("targets_form", ["padded", "concatenated"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ctc_lengths_change_per_batch(targets_form, reduction):
    def setup():
        rnn = nn.GRU(4, 6, bidirectional=True)
        head = nn.Linear(12, 5)
        opt = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=0.01)

        def step(x, targets, input_lengths, target_lengths):
            opt.zero_grad()
            y, _ = rnn(x)
            log_probs = head(y).log_softmax(-1)
            loss = F.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction=reduction, zero_infinity=True)
            loss.sum().backward()
            opt.step()
            return loss.detach()

        in_table = [[8, 6, 7], [8, 8, 3], [5, 8, 2], [7, 7, 7], [8, 1, 6]]
        tg_table = [[3, 2, 1], [1, 3, 2], [2, 2, 3], [3, 3, 3], [1, 2, 1]]

        def args(i):
            tl = tg_table[i]
            padded = _ints(80 + i, 4, 3, 3) + 1
            if targets_form == "padded":
                targets = padded
            else:  # concatenated: the shape follows the lengths, keep the total fixed? no: it changes
                targets = torch.cat([padded[b, :n] for b, n in enumerate(tl)])
            return _data(i, 8, 3, 4), targets, torch.tensor(in_table[i]), torch.tensor(tl)

        return {"step": step, "args": args, "state": _params_and_grads(rnn, head)}
    check(setup)


def test_ctc_lengths_as_python_tuples():
    def setup():
        w = nn.Parameter(_data(1, 4, 5))

        def step(x, targets, input_lengths, target_lengths):
            log_probs = (x @ w).log_softmax(-1)
            loss = F.ctc_loss(log_probs, targets, input_lengths, target_lengths)
            loss.backward()
            return loss.detach()

        tl_table = [(2, 1), (1, 2), (2, 2), (1, 1), (2, 2)]

        def args(i):
            return _data(i, 6, 2, 4), _ints(90 + i, 4, 2, 2) + 1, (6, [6, 4, 5, 3, 6][i]), tl_table[i]

        return {"step": step, "args": args, "state": lambda: [w, w.grad]}
    check(setup)


# ----------------------------------------------------------------- rows fully masked in some batches only
@pytest.mark.parametrize("float_mask", [False, True])
def test_sdpa_rows_blocked_only_in_later_batches(float_mask):
    """Call 0 (recorded) has no fully-masked query row; later calls do, and SDPA gives those rows zeros."""
    def setup():
        proj = nn.Linear(4, 12)
        opt = torch.optim.SGD(proj.parameters(), lr=0.1)

        def step(x, mask):
            opt.zero_grad()
            q, k, v = proj(x).chunk(3, -1)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            loss = out.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach(), out.detach()

        def args(i):
            m = np.ones((2, 4, 4), bool)
            if i >= 1:
                m[i % 2, i % 4] = False
            if i == 3:
                m[0] = False
            mask = torch.from_numpy(m)
            if float_mask:
                mask = torch.from_numpy(np.where(m, 0.0, -np.inf).astype(np.float32))
            return _data(i, 2, 4, 4), mask

        return {"step": step, "args": args, "state": _params_and_grads(proj)}
    check(setup)


@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_padding_rows_blocked_only_in_later_batches(need_weights):
    def setup():
        mha = nn.MultiheadAttention(4, 2, batch_first=True)
        opt = torch.optim.SGD(mha.parameters(), lr=0.1)

        def step(q, kv, kpm):
            opt.zero_grad()
            out, w = mha(q, kv, kv, key_padding_mask=kpm, need_weights=need_weights)
            loss = torch.nan_to_num(out).pow(2).sum()
            loss.backward()
            opt.step()
            return out.detach(), None if w is None else w.detach()

        def args(i):
            kpm = np.zeros((2, 3), bool)
            if i in (2, 4):
                kpm[1] = True
            if i == 3:
                kpm[0, 1:] = True
            return _data(i, 2, 2, 4), _data(30 + i, 2, 3, 4), torch.from_numpy(kpm)

        return {"step": step, "args": args, "state": _params_and_grads(mha)}
    check(setup)


@pytest.mark.parametrize("kpm_kind", ["bool", "none"])
def test_mha_inference_path_eval_no_grad(kpm_kind):
    def setup():
        mha = nn.MultiheadAttention(8, 2, batch_first=True).eval()

        def step(x, kpm):
            with torch.no_grad():
                out, w = mha(x, x, x, key_padding_mask=kpm)
            return out, w

        def args(i):
            kpm = None
            if kpm_kind == "bool":
                lengths = torch.tensor(PACK_LENGTHS[i])
                kpm = torch.arange(5)[None, :] >= lengths[:, None]
            return _data(i, 3, 5, 8), kpm

        return {"step": step, "args": args}
    check(setup)


def test_encoder_inference_nested_tensor_padding_changes():
    """Eval + no_grad batch-first encoder zeroes padded outputs only when padding is trailing."""
    def setup():
        layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
        enc = nn.TransformerEncoder(layer, num_layers=2, norm=nn.LayerNorm(8)).eval()

        def step(x, pad):
            with torch.no_grad():
                return enc(x, src_key_padding_mask=pad)

        pads = [
            [[0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [0, 1, 1, 1, 1]],   # trailing: packed
            [[0, 1, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],   # a hole: not packed
            [[0, 0, 1, 1, 1], [0, 0, 0, 1, 1], [0, 0, 0, 0, 1]],
            [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
            [[1, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 1, 1]],
        ]
        return {"step": step, "args": lambda i: (_data(i, 3, 5, 8), torch.tensor(pads[i]).bool())}
    check(setup)


def test_encoder_causal_detected_from_mask_changes():
    """is_causal left None: eagerly detected from the mask's values; the mask alternates causal / not."""
    def setup():
        layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
        enc = nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)
        opt = torch.optim.SGD(enc.parameters(), lr=0.1)

        def step(x, mask):
            opt.zero_grad()
            out = enc(x, mask=mask)
            loss = out.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach(), out.detach()

        def args(i):
            causal = nn.Transformer.generate_square_subsequent_mask(4)
            other = torch.zeros(4, 4)
            other[0, 3] = float("-inf")
            return _data(i, 4, 2, 8), [causal, other, causal, other, causal][i]

        return {"step": step, "args": args, "state": _params_and_grads(enc)}
    check(setup)


def test_mha_is_causal_hint_need_weights_false():
    def setup():
        mha = nn.MultiheadAttention(8, 2)
        opt = torch.optim.SGD(mha.parameters(), lr=0.1)

        def step(x, mask):
            opt.zero_grad()
            out, _ = mha(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)
            loss = out.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach(), out.detach()

        causal = nn.Transformer.generate_square_subsequent_mask(4)
        return {"step": step, "args": lambda i: (_data(i, 4, 2, 8), causal), "state": _params_and_grads(mha)}
    check(setup)


def test_full_transformer_seq2seq_with_masks_made_inside():
    def setup():
        model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                               dim_feedforward=16, dropout=0.1, batch_first=True)
        emb = nn.Embedding(9, 8, padding_idx=0)
        head = nn.Linear(8, 9)
        params = list(model.parameters()) + list(emb.parameters()) + list(head.parameters())
        opt = torch.optim.Adam(params, lr=0.01)

        def step(src, tgt):
            opt.zero_grad()
            src_pad = src == 0
            tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]
            tgt_pad = tgt_in == 0
            causal = nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[1])
            out = model(emb(src), emb(tgt_in), tgt_mask=causal, src_key_padding_mask=src_pad,
                        tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad)
            loss = F.cross_entropy(head(out).reshape(-1, 9), tgt_out.reshape(-1), ignore_index=0)
            loss.backward()
            opt.step()
            return loss.detach()

        def args(i):
            src = _ints(i, 8, 2, 5) + 1
            tgt = _ints(20 + i, 8, 2, 6) + 1
            src[0, 5 - (i % 3) - 1:] = 0
            tgt[1, 6 - (i % 4) - 1:] = 0
            return src, tgt

        return {"step": step, "args": args, "state": lambda: [p for p in params] + [p.grad for p in params]}
    check(setup)


# ----------------------------------------------------------------- state bookkeeping patterns
def test_state_reset_when_batch_size_changes():
    """``if self.h is None or self.h.shape[1] != x.shape[1]``: a branch on a carried tensor's shape."""
    def setup():
        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.GRU(3, 4, num_layers=2)
                self.h = None

            def forward(self, x):
                if self.h is None or self.h.shape[1] != x.shape[1]:
                    self.h = torch.zeros(2, x.shape[1], 4)
                y, h = self.rnn(x, self.h)
                self.h = h.detach()
                return y

        model = Model()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            opt.step()
            return loss.detach()

        sizes = [4, 4, 3, 3, 4, 4]
        return {"step": step, "args": lambda i: (_data(i, 5, sizes[i], 3),),
                "state": lambda: [_params_and_grads(model)(), model.h]}
    check(setup, calls=6)


def test_state_reset_flag_argument():
    """The caller asks for a fresh state on some calls (a new document): a Python bool argument."""
    def setup():
        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(3, 4)
                self.h = torch.zeros(1, 2, 4)
                self.c = torch.zeros(1, 2, 4)

            def forward(self, x, reset):
                if reset:
                    self.h, self.c = torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)
                y, (h, c) = self.lstm(x, (self.h, self.c))
                self.h, self.c = h.detach(), c.detach()
                return y

        model = Model()
        opt = torch.optim.Adam(model.parameters(), lr=0.01)

        def step(x, reset):
            opt.zero_grad()
            loss = model(x, reset).sum()
            loss.backward()
            opt.step()
            return loss.detach()

        resets = [True, False, False, True, False, False]
        return {"step": step, "args": lambda i: (_data(i, 4, 2, 3), resets[i]),
                "state": lambda: [_params_and_grads(model)(), model.h, model.c]}
    check(setup, calls=6)


def test_learned_initial_state_expanded():
    def setup():
        rnn = nn.GRU(3, 4, batch_first=True, bidirectional=True)
        h0 = nn.Parameter(torch.zeros(2, 1, 4))
        params = list(rnn.parameters()) + [h0]
        opt = torch.optim.Adam(params, lr=0.05)

        def step(x):
            opt.zero_grad()
            y, h = rnn(x, h0.expand(-1, x.shape[0], -1).contiguous())
            loss = y.pow(2).mean() + h.sum()
            loss.backward()
            opt.step()
            return loss.detach()

        return {"step": step, "args": lambda i: (_data(i, 3, 4, 3),),
                "state": lambda: [p for p in params] + [p.grad for p in params]}
    check(setup)


def test_weight_dropped_lstm_awd_style():
    """AWD-LSTM's WeightDrop: the recurrent weight replaced each call by a dropout of a raw one."""
    def setup():
        lstm = nn.LSTM(3, 4)
        raw = nn.Parameter(lstm.weight_hh_l0.detach().clone())
        del lstm._parameters["weight_hh_l0"]
        params = list(lstm.parameters()) + [raw]
        opt = torch.optim.SGD(params, lr=0.1)

        def step(x):
            opt.zero_grad()
            setattr(lstm, "weight_hh_l0", F.dropout(raw, 0.5, training=True))
            y, _ = lstm(x)
            loss = y.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach()

        return {"step": step, "args": lambda i: (_data(i, 4, 2, 3),),
                "state": lambda: [p for p in params] + [p.grad for p in params]}
    check(setup)


def test_train_eval_toggle_with_inter_layer_dropout():
    def setup():
        lstm = nn.LSTM(3, 4, num_layers=3, dropout=0.5)
        opt = torch.optim.SGD(lstm.parameters(), lr=0.1)

        def step(x, train):
            lstm.train(train)
            opt.zero_grad()
            y, (h, c) = lstm(x)
            loss = y.pow(2).sum() + c.sum()
            loss.backward()
            opt.step()
            return loss.detach(), y.detach()

        modes = [True, False, True, True, False, True]
        return {"step": step, "args": lambda i: (_data(i, 4, 2, 3), modes[i]), "state": _params_and_grads(lstm)}
    check(setup, calls=6)


def test_greedy_decoder_feeds_back_its_argmax():
    """Seq2seq without teacher forcing: the next input is the embedding of the argmax (data-dependent)."""
    def setup():
        emb = nn.Embedding(7, 4)
        cell = nn.GRUCell(4, 6)
        out = nn.Linear(6, 7)
        params = list(emb.parameters()) + list(cell.parameters()) + list(out.parameters())
        opt = torch.optim.Adam(params, lr=0.05)

        def step(h0, targets, use_teacher):
            opt.zero_grad()
            h = h0
            tok = torch.zeros(h0.shape[0], dtype=torch.long)
            loss = 0
            preds = []
            for t in range(targets.shape[1]):
                h = cell(emb(tok), h)
                logits = out(h)
                loss = loss + F.cross_entropy(logits, targets[:, t])
                pred = logits.argmax(-1)
                preds.append(pred)
                tok = targets[:, t] if use_teacher[t] else pred
            loss.backward()
            opt.step()
            return loss.detach(), torch.stack(preds, 1)

        teach = [(True, False, True), (False, False, False), (True, False, True), (True, True, False), (False, True, False)]
        return {"step": step, "args": lambda i: (_data(i, 3, 6), _ints(10 + i, 7, 3, 3), teach[i]),
                "state": lambda: [p for p in params] + [p.grad for p in params]}
    check(setup)


def test_learned_float_attention_bias_gets_gradient():
    def setup():
        mha = nn.MultiheadAttention(8, 2, batch_first=True)
        bias = nn.Parameter(torch.zeros(5, 5))
        params = list(mha.parameters()) + [bias]
        opt = torch.optim.SGD(params, lr=0.1)

        def step(x, pad):
            opt.zero_grad()
            out, w = mha(x, x, x, attn_mask=bias, key_padding_mask=pad, average_attn_weights=False)
            loss = out.pow(2).sum() + w.sum()
            loss.backward()
            opt.step()
            return loss.detach(), w.detach()

        def args(i):
            lengths = torch.tensor(UNSORTED_LENGTHS[i])
            return _data(i, 3, 5, 8), (torch.arange(5)[None, :] >= lengths[:, None]).float() * -1e9

        return {"step": step, "args": args, "state": lambda: [p for p in params] + [p.grad for p in params]}
    check(setup)


def test_mha_3d_attn_mask_per_head_changes():
    def setup():
        mha = nn.MultiheadAttention(4, 2, bias=False, add_bias_kv=True, add_zero_attn=True)
        opt = torch.optim.SGD(mha.parameters(), lr=0.1)

        def step(q, kv, mask, kpm):
            opt.zero_grad()
            out, w = mha(q, kv, kv, attn_mask=mask, key_padding_mask=kpm)
            loss = out.pow(2).sum()
            loss.backward()
            opt.step()
            return out.detach(), w.detach()

        def args(i):
            rng = np.random.default_rng(200 + i)
            return (_data(i, 3, 2, 4), _data(40 + i, 4, 2, 4), torch.from_numpy(rng.random((4, 3, 4)) < 0.5),
                    torch.from_numpy(rng.random((2, 4)) < 0.5))

        return {"step": step, "args": args, "state": _params_and_grads(mha)}
    check(setup)


def test_mixed_mask_types_error_or_warning_parity():
    def setup():
        mha = nn.MultiheadAttention(4, 1)

        def step(x, mask, kpm):
            out, _ = mha(x, x, x, attn_mask=mask, key_padding_mask=kpm)
            out.sum().backward()
            return out.detach()

        def args(i):
            mask = torch.zeros(3, 3) if i % 2 else torch.zeros(3, 3).bool()
            return _data(i, 3, 2, 4), mask, torch.tensor([[False, False, i == 2], [False, True, False]])

        return {"step": step, "args": args, "state": _params_and_grads(mha)}
    check(setup)


def test_sdpa_gqa_and_dropout_with_causal():
    def setup():
        proj = nn.Linear(8, 16)
        opt = torch.optim.SGD(proj.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            qkv = proj(x)
            q = qkv[..., :8].view(2, 5, 4, 2).transpose(1, 2)
            k = qkv[..., 8:12].view(2, 5, 2, 2).transpose(1, 2)
            v = qkv[..., 12:].view(2, 5, 2, 2).transpose(1, 2)
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=0.3, enable_gqa=True)
            loss = out.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach(), out.detach()

        return {"step": step, "args": lambda i: (_data(i, 2, 5, 8),), "state": _params_and_grads(proj)}
    check(setup)


# ----------------------------------------------------------------- the caller changes masks / state between calls
def _between_run(setup, compiled, calls=CALLS):
    torch.manual_seed(0)
    case = setup()
    step = torch.compile(case["step"]) if compiled else case["step"]
    records = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            case["between"](i)
            try:
                result = ("returned", _plain(step(*case["args"](i))))
            except Exception as error:
                result = ("raised", type(error).__name__, str(error))
            records.append((result, _plain(case["state"]()), torch.random.default_generator.state_bytes()))
    return records, [str(w.message) for w in caught if "compile" in str(w.message)]


def check_between(setup, calls=CALLS):
    eager, _ = _between_run(setup, False, calls)
    compiled, compile_warnings = _between_run(setup, True, calls)
    assert len(compile_warnings) <= 1, compile_warnings
    for i, (mine, theirs) in enumerate(zip(compiled, eager)):
        assert_identical(mine, theirs, f"call {i}")


@pytest.mark.parametrize("how", ["copy_", "setitem", "masked_fill_", "rebind_global"])
def test_closure_padding_mask_changed_in_place_between_calls(how):
    def setup():
        mha = nn.MultiheadAttention(4, 1, batch_first=True)
        opt = torch.optim.SGD(mha.parameters(), lr=0.1)
        box = {"pad": torch.zeros(2, 3, dtype=torch.bool)}
        pad = box["pad"]

        def step(x):
            opt.zero_grad()
            out, w = mha(x, x, x, key_padding_mask=pad if how != "rebind_global" else box["pad"])
            loss = out.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach(), w.detach()

        def between(i):
            new = torch.tensor([[False, i % 2 == 1, i >= 2], [False, False, i % 3 == 0]])
            if how == "copy_":
                pad.copy_(new)
            elif how == "setitem":
                pad[:] = new
            elif how == "masked_fill_":
                pad.zero_()
                pad.masked_fill_(new, True)
            else:
                box["pad"] = new

        return {"step": step, "between": between, "args": lambda i: (_data(i, 2, 3, 4),),
                "state": _params_and_grads(mha)}
    check_between(setup)


@pytest.mark.parametrize("how", ["zero_", "set_none", "rebind", "data"])
def test_carried_state_touched_by_caller(how):
    def setup():
        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.GRU(3, 4)
                self.h = None

            def forward(self, x):
                y, h = self.rnn(x, self.h)
                self.h = h.detach()
                return y

        model = Model()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach()

        def between(i):
            if i in (2, 4) and model.h is not None:
                if how == "zero_":
                    model.h.zero_()
                elif how == "set_none":
                    model.h = None
                elif how == "rebind":
                    model.h = torch.full((1, 2, 4), 0.5)
                else:
                    model.h.data = model.h.data * 0.5

        return {"step": step, "between": between, "args": lambda i: (_data(i, 4, 2, 3),),
                "state": lambda: [_params_and_grads(model)(), model.h]}
    check_between(setup)


def test_causal_mask_buffer_changed_between_calls():
    """A causal mask registered as a buffer (nanoGPT style), changed by the caller (a window)."""
    def setup():
        class Attn(nn.Module):
            def __init__(self):
                super().__init__()
                self.qkv = nn.Linear(4, 12)
                self.register_buffer("bias", torch.tril(torch.ones(5, 5)).view(1, 5, 5))

            def forward(self, x):
                q, k, v = self.qkv(x).chunk(3, -1)
                att = (q @ k.transpose(-2, -1)) * 0.5
                T = x.shape[1]
                att = att.masked_fill(self.bias[:, :T, :T] == 0, float("-inf"))
                return F.softmax(att, -1) @ v

        model = Attn()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach()

        def between(i):
            if i == 2:
                model.bias.copy_(torch.tril(torch.ones(5, 5)).triu(-1).view(1, 5, 5))
            if i == 4:
                model.bias = torch.ones(1, 5, 5)

        return {"step": step, "between": between, "args": lambda i: (_data(i, 2, [5, 5, 4, 5, 5][i], 4),),
                "state": lambda: [_params_and_grads(model)(), model.bias]}
    check_between(setup)


def test_lengths_list_in_closure_mutated_between_calls():
    """Lengths in a list the caller changes in place, used to build the mask inside the step."""
    def setup():
        cell = nn.GRUCell(3, 4)
        opt = torch.optim.SGD(cell.parameters(), lr=0.1)
        lengths = [5, 3, 2]

        def step(x):
            opt.zero_grad()
            lens = torch.tensor(lengths)
            h = torch.zeros(3, 4)
            for t in range(x.shape[0]):
                h = torch.where((lens > t)[:, None], cell(x[t], h), h)
            loss = h.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach(), h.detach()

        def between(i):
            lengths[:] = PACK_LENGTHS[i]

        return {"step": step, "between": between, "args": lambda i: (_data(i, 5, 3, 3),), "state": _params_and_grads(cell)}
    check_between(setup)


# ----------------------------------------------------------------- a PackedSequence argument, same shapes
def test_packed_sequence_argument_batch_sizes_change_same_shapes():
    """Lengths [5,3,2] then [5,4,1]...: data (10, 3) and batch_sizes (5,) keep their shapes."""
    tables = [[5, 3, 2], [5, 4, 1], [2, 5, 3], [1, 4, 5], [3, 3, 4]]  # the last: a new max length

    def setup():
        lstm = nn.LSTM(3, 4, bidirectional=True)
        opt = torch.optim.SGD(lstm.parameters(), lr=0.1)

        def step(packed):
            opt.zero_grad()
            out, (h, c) = lstm(packed)
            loss = out.data.pow(2).sum() + h.sum()
            loss.backward()
            opt.step()
            return loss.detach(), out.data.detach(), h.detach()

        def args(i):
            lengths = torch.tensor(tables[i])
            return (rnn_utils.pack_padded_sequence(_data(i, 5, 3, 3), lengths, enforce_sorted=False),)

        return {"step": step, "args": args, "state": _params_and_grads(lstm)}
    check(setup)


# ----------------------------------------------------------------- compiled modules, backward outside
@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("detach", [True, False])
def test_compiled_rnn_module_state_across_calls(kind, detach):
    def run(compiled):
        torch.manual_seed(0)
        rnn = nn.GRU(3, 4, num_layers=2) if kind == "gru" else nn.LSTM(3, 4, num_layers=2)
        model = torch.compile(rnn) if compiled else rnn
        opt = torch.optim.SGD(rnn.parameters(), lr=0.1)
        h = None
        records = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(4):
                opt.zero_grad()
                y, h = model(_data(i, 4, 2, 3), h)
                loss = y.pow(2).sum() + (h[0] if isinstance(h, tuple) else h).sum()
                loss.backward(retain_graph=not detach)
                opt.step()
                if detach:
                    h = tuple(p.detach() for p in h) if isinstance(h, tuple) else h.detach()
                records.append((_plain(loss), _plain(h), _plain(_params_and_grads(rnn)())))
        return records, [str(w.message) for w in caught if "compile" in str(w.message)]

    def guarded(compiled):
        try:
            return run(compiled)
        except Exception as error:
            return ("raised", type(error).__name__, str(error)), []

    eager, _ = guarded(False)
    compiled, compile_warnings = guarded(True)
    assert len(compile_warnings) <= 1, compile_warnings
    assert_identical(compiled, eager)


def test_compiled_mha_module_masks_change():
    def run(compiled):
        torch.manual_seed(0)
        mha = nn.MultiheadAttention(8, 2, dropout=0.2, batch_first=True)
        model = torch.compile(mha) if compiled else mha
        opt = torch.optim.Adam(mha.parameters(), lr=0.01)
        records = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(5):
                opt.zero_grad()
                x = _data(i, 3, 5, 8)
                lengths = torch.tensor(UNSORTED_LENGTHS[i])
                kpm = torch.arange(5)[None, :] >= lengths[:, None]
                causal = nn.Transformer.generate_square_subsequent_mask(5)
                out, w = model(x, x, x, key_padding_mask=kpm, attn_mask=causal)
                loss = torch.nan_to_num(out).pow(2).sum()
                loss.backward()
                opt.step()
                records.append((_plain(out), _plain(w), _plain(_params_and_grads(mha)()),
                                torch.random.default_generator.state_bytes()))
        return records, [str(w.message) for w in caught if "compile" in str(w.message)]

    eager, _ = run(False)
    compiled, compile_warnings = run(True)
    assert len(compile_warnings) <= 1, compile_warnings
    assert_identical(compiled, eager)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "mha"])
def test_unbatched_inputs(kind):
    def setup():
        module = {"rnn": nn.RNN(3, 3, num_layers=2), "lstm": nn.LSTM(3, 3, proj_size=2),
                  "mha": nn.MultiheadAttention(3, 1)}[kind]
        opt = torch.optim.SGD(module.parameters(), lr=0.1)

        def step(x, mask):
            opt.zero_grad()
            if kind == "mha":
                out, _ = module(x, x, x, key_padding_mask=mask)
            else:
                out, _ = module(x)
            loss = out.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach(), out.detach()

        return {"step": step, "args": lambda i: (_data(i, 4, 3), torch.tensor([False, i % 2 == 0, False, i > 2])),
                "state": _params_and_grads(module)}
    check(setup)
