"""chainrule.compile against eager execution on RECURRENT LANGUAGE MODELS as tutorials write them:
char-RNN/LSTM LMs trained with truncated backprop through time (the hidden state (h, c) returned
detached and passed into the next compiled call, reset to zeros at an epoch start), nn.LSTM/nn.GRU
with two layers and dropout, batch_first both ways, weight tying, embedding dropout,
clip_grad_norm_, a last batch shorter in sequence length, perplexity as exp of the loss, sampling
with a temperature and torch.multinomial under no_grad (a compiled generation step), LSTMCell and
GRUCell unrolled by hand in a Python loop, bidirectional taggers with CrossEntropyLoss over
flattened outputs and ignore_index.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, Python side effects and the random stream after each call. The inputs of a call
may be built from what the previous call returned (the hidden state carried along). A compiled run
may record anew or fall back to eager with at most one warning.
"""
import math
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.random import default_generator
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def arr(t):
    return np.array(t.detach().numpy(), copy=True)


def snap(value):
    if isinstance(value, chainrule.Tensor):
        return ("tensor", str(value.dtype), tuple(value.shape), arr(value))
    if isinstance(value, (list, tuple)):
        return tuple(snap(v) for v in value)
    if isinstance(value, dict):
        return {k: snap(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return np.asarray(value)
    if isinstance(value, nn.Module):
        return module_state(value)
    return value


def module_state(model):
    return {
        "modules": [(name, type(m).__name__, bool(m.training)) for name, m in model.named_modules()],
        "params": [(name, str(p.dtype), bool(p.requires_grad), arr(p), None if p.grad is None else arr(p.grad))
                   for name, p in model.named_parameters()],
        "buffers": [(name, str(b.dtype), arr(b)) for name, b in model.named_buffers()],
    }


def observe(objects):
    out = []
    for thing in objects:
        if isinstance(thing, optim.Optimizer):
            out.append([{k: snap(v) for k, v in s.items()} for s in thing.state.values()])
        else:
            out.append(snap(thing))
    return out


class Case:
    """``inputs(i, last)`` builds call i's arguments from what call i-1 returned (None at first)."""

    def __init__(self, step, observe, inputs, before=None, compile_module=None):
        self.step, self.observe, self.inputs = step, observe, inputs
        self.before = before or (lambda i: None)
        self.compile_module = compile_module      # compiled runs call its .compile() instead


def run(compiled, setup, calls):
    chainrule.manual_seed(0)
    case = setup()
    function = chainrule.compile(case.step) if compiled and case.compile_module is None else case.step
    if compiled and case.compile_module is not None:
        case.compile_module.compile()
    history, last = [], None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            case.before(i)
            args = case.inputs(i, last)
            try:
                last = function(*args)
                history.append(("ok", snap(last)))
            except Exception as error:  # compared: type and message
                last = None
                history.append(("raised", type(error).__name__, str(error)))
            history.append(observe(case.observe()))
            history.append(("random", default_generator.state_bytes()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages


def same_as_eager(setup, calls=6):
    eager, eager_messages = run(False, setup, calls)
    compiled, messages = run(True, setup, calls)
    assert not eager_messages
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages
    return messages


# ----------------------------------------------------------------------------- data
VOCAB = 11
TEXT = np.random.default_rng(7).integers(0, VOCAB, size=400)


def batchify(data, bsz):
    """The word_language_model example's batchify: (nbatch, bsz) columns, seq first."""
    nbatch = len(data) // bsz
    return chainrule.tensor(data[: nbatch * bsz].reshape(bsz, nbatch).T.copy())


TRAIN = batchify(TEXT, 4)            # (100, 4)


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].reshape(-1)


def chunk_starts(bptt, calls, total=None):
    """Offsets of calls 0..calls-1, the last chunk of each 'epoch' shorter (a second epoch after)."""
    total = total or (bptt * 3 + 3)
    starts = list(range(0, total - 1, bptt))
    return [starts[i % len(starts)] for i in range(calls)], len(starts)


def detach_hidden(h):
    """The tutorials' repackage_hidden."""
    if isinstance(h, chainrule.Tensor):
        return h.detach()
    return tuple(detach_hidden(v) for v in h)


# ----------------------------------------------------------------------------- the word LM example
class RNNModel(nn.Module):
    """pytorch/examples word_language_model, as written there."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ["LSTM", "GRU"]:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


def word_lm_case(rnn_type, tie, bptt=5, lr=0.5, clip=0.25, dropout=0.2, calls=7, manual_sgd=True):
    starts, per_epoch = chunk_starts(bptt, calls)
    model = RNNModel(rnn_type, VOCAB, 6, 6, 2, dropout=dropout, tie_weights=tie)
    criterion = nn.NLLLoss()
    opt = None if manual_sgd else optim.SGD(model.parameters(), lr=lr)

    def step(data, targets, hidden):
        model.train()
        if opt is None:
            model.zero_grad()
        else:
            opt.zero_grad()
        hidden = detach_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        if opt is None:
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
        else:
            opt.step()
        return loss, hidden

    def inputs(i, last):
        data, targets = get_batch(TRAIN, starts[i], bptt)
        hidden = model.init_hidden(4) if i % per_epoch == 0 or last is None else last[1]
        return data, targets, hidden

    return Case(step, lambda: [model] + ([] if opt is None else [opt]), inputs)


@pytest.mark.parametrize("rnn_type", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
def test_word_language_model_tbptt_manual_sgd_clip(rnn_type):
    same_as_eager(lambda: word_lm_case(rnn_type, tie=False), calls=7)


@pytest.mark.parametrize("rnn_type", ["LSTM", "GRU"])
def test_word_language_model_tied_weights_with_sgd(rnn_type):
    same_as_eager(lambda: word_lm_case(rnn_type, tie=True, manual_sgd=False), calls=7)


def test_word_language_model_lr_annealed_as_python_float_between_epochs():
    def setup():
        case = word_lm_case("LSTM", tie=True, bptt=6, calls=8)
        state = {"lr": 0.5}
        model = case.observe()[0]
        clip = 0.25

        def step(data, targets, hidden, lr):
            model.zero_grad()
            hidden = detach_hidden(hidden)
            output, hidden = model(data, hidden)
            loss = F.nll_loss(output, targets)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
            return loss, hidden

        inner = case.inputs

        def inputs(i, last):
            if i == 4:
                state["lr"] /= 4.0
            return inner(i, last) + (state["lr"],)
        return Case(step, case.observe, inputs)

    same_as_eager(setup, calls=8)


def test_word_language_model_eval_perplexity_between_train_calls():
    """Train chunks, with an evaluation call (eval(), no_grad, exp of the loss) every third call."""
    def setup():
        model = RNNModel("LSTM", VOCAB, 6, 6, 2, dropout=0.3)
        opt = optim.Adam(model.parameters(), lr=0.01)
        starts, per_epoch = chunk_starts(4, 8)

        def step(data, targets, hidden, train):
            if train:
                model.train()
                opt.zero_grad()
                output, hidden = model(data, hidden)
                loss = F.nll_loss(output, targets)
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 0.5)
                opt.step()
            else:
                model.eval()
                with chainrule.no_grad():
                    output, hidden = model(data, hidden)
                    loss = F.nll_loss(output, targets, reduction="sum") / len(targets)
            return loss, chainrule.exp(loss), detach_hidden(hidden)

        def inputs(i, last):
            data, targets = get_batch(TRAIN, starts[i], 4)
            hidden = model.init_hidden(4) if i % per_epoch == 0 or last is None else last[2]
            return data, targets, hidden, i % 3 != 2
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup, calls=8)


# ----------------------------------------------------------------------------- char LSTM, batch_first
class CharLSTM(nn.Module):
    def __init__(self, vocab, emb=5, hidden=7, layers=2, dropout=0.25, emb_dropout=0.1, batch_first=True,
                 cell="LSTM"):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.emb_drop = nn.Dropout(emb_dropout)
        self.rnn = getattr(nn, cell)(emb, hidden, num_layers=layers, dropout=dropout, batch_first=batch_first)
        self.fc = nn.Linear(hidden, vocab)
        self.hidden_size, self.layers = hidden, layers

    def forward(self, x, hidden=None):
        out, hidden = self.rnn(self.emb_drop(self.embed(x)), hidden)
        return self.fc(out), hidden

    def init_hidden(self, batch, dtype=chainrule.float32):
        z = chainrule.zeros(self.layers, batch, self.hidden_size, dtype=dtype)
        return (z, z.clone()) if isinstance(self.rnn, nn.LSTM) else z


def char_batches_first(i, seq_lens, batch=3):
    """(batch, seq) windows of TEXT; the last of each epoch shorter."""
    s = seq_lens[i % len(seq_lens)]
    off = sum(seq_lens[: i % len(seq_lens)])
    rows = [TEXT[k * 100 + off: k * 100 + off + s + 1] for k in range(batch)]
    x = chainrule.tensor(np.stack([r[:-1] for r in rows]))
    y = chainrule.tensor(np.stack([r[1:] for r in rows]))
    return x, y


def char_lstm_case(cell="LSTM", seq_lens=(6, 6, 3), dtype=chainrule.float32, return_ppl=True):
    net = CharLSTM(VOCAB, cell=cell).to(dtype)
    opt = optim.Adam(net.parameters(), lr=0.003)
    criterion = nn.CrossEntropyLoss()

    def step(x, y, hidden):
        opt.zero_grad()
        logits, hidden = net(x, hidden)
        loss = criterion(logits.reshape(-1, VOCAB), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), max_norm=1.0)
        opt.step()
        if isinstance(hidden, tuple):
            hidden = tuple(h.detach() for h in hidden)
        else:
            hidden = hidden.detach()
        return (loss, loss.exp(), hidden) if return_ppl else (loss, hidden)

    def inputs(i, last):
        x, y = char_batches_first(i, list(seq_lens))
        hidden = net.init_hidden(3, dtype) if i % len(seq_lens) == 0 else last[-1]
        return x, y, hidden

    return Case(step, lambda: [net, opt], inputs)


def test_char_lstm_batch_first_tbptt_short_last_chunk_epoch_reset():
    same_as_eager(lambda: char_lstm_case(), calls=7)


def test_char_gru_batch_first_tbptt_short_last_chunk_epoch_reset():
    same_as_eager(lambda: char_lstm_case(cell="GRU", seq_lens=(5, 5, 5, 2)), calls=8)


def test_char_lstm_float64_without_perplexity():
    same_as_eager(lambda: char_lstm_case(dtype=chainrule.float64, return_ppl=False, seq_lens=(4, 2)), calls=6)


def test_char_lstm_hidden_none_at_epoch_start():
    """hidden=None on the first call of each epoch, a tuple after: two kinds of argument."""
    def setup():
        case = char_lstm_case(seq_lens=(5, 5, 2))
        inner = case.inputs

        def inputs(i, last):
            x, y, hidden = inner(i, last)
            return x, y, (None if i % 3 == 0 else hidden)
        return Case(case.step, case.observe, inputs)

    same_as_eager(setup, calls=7)


def test_char_lstm_hidden_kept_on_the_module_attribute():
    """self.hidden = tuple(h.detach() ...) inside the step; reset to zeros by hand between epochs."""
    def setup():
        net = CharLSTM(VOCAB, layers=1, dropout=0.0)
        net.hidden = None
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            logits, hidden = net(x, net.hidden)
            net.hidden = tuple(h.detach() for h in hidden)
            loss = F.cross_entropy(logits.view(-1, VOCAB), y.view(-1))
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 5)
            opt.step()
            return loss

        def before(i):
            if i % 3 == 0:
                net.hidden = net.init_hidden(3)

        return Case(step, lambda: [net, opt, net.hidden], lambda i, last: char_batches_first(i, [4, 4, 2]), before)

    same_as_eager(setup, calls=7)


def test_char_lstm_hidden_returned_with_history_detached_outside():
    """The step returns the hidden state still attached; the loop detaches it before the next call."""
    def setup():
        net = CharLSTM(VOCAB, layers=2, dropout=0.0, emb_dropout=0.0)
        opt = optim.RMSprop(net.parameters(), lr=0.01)

        def step(x, y, hidden):
            opt.zero_grad()
            logits, hidden = net(x, hidden)
            loss = F.cross_entropy(logits.transpose(1, 2), y)
            loss.backward()
            opt.step()
            return loss, hidden

        def inputs(i, last):
            x, y = char_batches_first(i, [3, 3, 1])
            hidden = net.init_hidden(3) if i % 3 == 0 else tuple(h.detach() for h in last[1])
            return x, y, hidden
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


def test_char_lstm_several_tbptt_chunks_inside_one_compiled_call():
    def setup():
        net = CharLSTM(VOCAB, layers=2, dropout=0.1)
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y, bptt):
            hidden = net.init_hidden(x.shape[0])
            losses = []
            for t in range(0, x.shape[1], bptt):
                opt.zero_grad()
                hidden = tuple(h.detach() for h in hidden)
                logits, hidden = net(x[:, t:t + bptt], hidden)
                loss = F.cross_entropy(logits.reshape(-1, VOCAB), y[:, t:t + bptt].reshape(-1))
                loss.backward()
                nn.utils.clip_grad_norm_(net.parameters(), 0.5)
                opt.step()
                losses.append(loss.detach())
            return chainrule.stack(losses).mean().exp()

        def inputs(i, last):
            x, y = char_batches_first(i, [9, 9, 7], batch=3)
            return x, y, [4, 4, 3][i % 3]
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=6)


def test_dropout_probability_of_the_lstm_changed_between_calls():
    def setup():
        case = char_lstm_case(seq_lens=(4, 4, 2))
        net = case.observe()[0]

        def before(i):
            net.rnn.dropout = [0.25, 0.25, 0.0, 0.5, 0.5, 0.1, 0.25][i]
            net.emb_drop.p = [0.1, 0.3, 0.3, 0.0, 0.1, 0.1, 0.1][i]
        return Case(case.step, case.observe, case.inputs, before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- seq-first LSTM, tied weights
class TiedLM(nn.Module):
    def __init__(self, vocab=VOCAB, d=6, layers=2, dropout=0.3, edrop=0.1, batch_first=False):
        super().__init__()
        self.encoder = nn.Embedding(vocab, d)
        self.lstm = nn.LSTM(d, d, layers, dropout=dropout, batch_first=batch_first)
        self.decoder = nn.Linear(d, vocab)
        self.decoder.weight = self.encoder.weight
        self.edrop = edrop

    def embedded_dropout(self, words):
        """AWD-LSTM's embedding dropout: whole rows of the embedding matrix dropped."""
        weight = self.encoder.weight
        if self.training and self.edrop:
            mask = weight.new_empty((weight.size(0), 1)).bernoulli_(1 - self.edrop) / (1 - self.edrop)
            weight = mask.expand_as(weight) * weight
        return F.embedding(words, weight)

    def forward(self, words, hidden):
        out, hidden = self.lstm(self.embedded_dropout(words), hidden)
        return self.decoder(out), hidden


def test_tied_lstm_seq_first_embedding_dropout_rows():
    def setup():
        net = TiedLM()
        opt = optim.AdamW(net.parameters(), lr=0.01, weight_decay=0.1)
        starts, per_epoch = chunk_starts(5, 7)

        def step(data, targets, hidden):
            opt.zero_grad()
            out, hidden = net(data, hidden)
            loss = F.cross_entropy(out.view(-1, out.size(-1)), targets)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(net.parameters(), 0.25)
            opt.step()
            return loss, norm, (hidden[0].detach(), hidden[1].detach())

        def inputs(i, last):
            data, targets = get_batch(TRAIN, starts[i], 5)
            if i % per_epoch == 0:
                z = chainrule.zeros(2, 4, 6)
                return data, targets, (z, z)
            return data, targets, last[2]
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


def test_tied_lstm_batch_first_train_eval_toggled():
    def setup():
        net = TiedLM(batch_first=True, edrop=0.2).double()
        opt = optim.SGD(net.parameters(), lr=0.5)

        def step(x, y, hidden):
            out, hidden = net(x, hidden)
            loss = F.cross_entropy(out.flatten(0, 1), y.flatten())
            if net.training:
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(net.parameters(), 1.0, norm_type=2.0)
                opt.step()
            return loss.detach(), math.e ** 0 * chainrule.exp(loss.detach()), detach_hidden(hidden)

        def before(i):
            net.train(i % 4 != 3)

        def inputs(i, last):
            x, y = char_batches_first(i, [5, 5, 3], batch=2)
            if i % 3 == 0:
                z = chainrule.zeros(2, 2, 6, dtype=chainrule.float64)
                return x, y, (z, z.clone())
            return x, y, last[2]
        return Case(step, lambda: [net, opt], inputs, before)

    same_as_eager(setup, calls=8)


def test_weight_tying_reapplied_between_calls():
    """A learner unties and reties the decoder between epochs (outside the step)."""
    def setup():
        net = TiedLM(dropout=0.0, edrop=0.0, layers=1)
        opt = optim.SGD(net.parameters(), lr=0.2)
        starts, per_epoch = chunk_starts(4, 7)

        def step(data, targets, hidden):
            opt.zero_grad()
            out, hidden = net(data, hidden)
            loss = F.cross_entropy(out.view(-1, VOCAB), targets)
            loss.backward()
            opt.step()
            return loss, detach_hidden(hidden)

        def before(i):
            if i == 3:
                net.decoder.weight = nn.Parameter(net.encoder.weight.detach().clone())
                opt.add_param_group({"params": [net.decoder.weight]})

        def inputs(i, last):
            data, targets = get_batch(TRAIN, starts[i], 4)
            return data, targets, (None if i % per_epoch == 0 else last[1])
        return Case(step, lambda: [net, opt], inputs, before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- sampling
def sample_case(temps, top_k=None, greedy_at=(), dtype=chainrule.float32, num_samples=1):
    net = CharLSTM(VOCAB, dropout=0.2).to(dtype)
    net.eval()

    @chainrule.no_grad()
    def generate(token, hidden, temperature):
        logits, hidden = net(token, hidden)
        logits = logits[:, -1, :] / temperature
        if top_k is not None:
            v, _ = chainrule.topk(logits, top_k)
            logits[logits < v[:, [-1]]] = -float("Inf")
        probs = F.softmax(logits, dim=-1)
        nxt = chainrule.multinomial(probs, num_samples=num_samples, replacement=num_samples > 1)
        return nxt[:, :1], hidden, probs

    def inputs(i, last):
        if last is None:
            token = chainrule.tensor([[1, 4, 2], [3, 3, 0]])   # the prompt
            hidden = None
        else:
            token, hidden = last[0], last[1]
        return token, hidden, temps[i % len(temps)]

    return Case(generate, lambda: [net], inputs)


def test_sampling_loop_with_multinomial_fixed_temperature():
    same_as_eager(lambda: sample_case([0.8]), calls=8)


def test_sampling_loop_temperature_changed_per_call():
    same_as_eager(lambda: sample_case([1.0, 0.5, 1.0, 2.0]), calls=8)


def test_sampling_loop_top_k_mask_and_several_samples_float64():
    same_as_eager(lambda: sample_case([0.9], top_k=4, dtype=chainrule.float64, num_samples=3), calls=7)


def test_sampling_temperature_as_module_attribute():
    def setup():
        net = nn.GRU(4, 5, num_layers=2, dropout=0.5)
        head = nn.Linear(5, VOCAB)
        emb = nn.Embedding(VOCAB, 4)
        holder = nn.ModuleList([emb, net, head])
        holder.eval()
        holder.temperature = 1.0
        chars = []

        def generate(x, h):
            with chainrule.no_grad():
                out, h = net(emb(x), h)
                probs = (head(out[-1]) / holder.temperature).softmax(-1)
                idx = chainrule.multinomial(probs, 1)
            return idx.T, h

        def before(i):
            holder.temperature = [1.0, 1.0, 0.7, 0.7, 1.3, 1.0, 1.0][i]

        def inputs(i, last):
            if last is None:
                return chainrule.tensor([[2, 5, 1]]), chainrule.zeros(2, 3, 5)
            return last[0], last[1]
        return Case(generate, lambda: [holder], inputs, before)

    same_as_eager(setup, calls=7)


def test_sampling_with_a_seeded_generator_object():
    def setup():
        net = CharLSTM(VOCAB, layers=1, dropout=0.0)
        gen = chainrule.Generator().manual_seed(123)

        def generate(x, hidden, temperature=0.7):
            with chainrule.no_grad():
                logits, hidden = net(x, hidden)
                probs = chainrule.softmax(logits[:, -1] / temperature, dim=-1)
                return chainrule.multinomial(probs, 1, generator=gen), hidden

        def inputs(i, last):
            if last is None:
                return chainrule.tensor([[1, 2], [3, 4]]), None
            return last[0], last[1]
        return Case(generate, lambda: [net, gen.get_state()], inputs)

    same_as_eager(setup, calls=7)


def test_sampling_then_training_step_share_the_model():
    """A generation call (eval, no_grad) between two train calls of one compiled function."""
    def setup():
        net = CharLSTM(VOCAB, layers=2, dropout=0.2)
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y, mode):
            if mode == "sample":
                net.eval()
                with chainrule.no_grad():
                    logits, _ = net(x)
                    return chainrule.multinomial(F.softmax(logits[:, -1] / 0.8, -1), 1)
            net.train()
            opt.zero_grad()
            logits, _ = net(x)
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
            loss.backward()
            opt.step()
            return loss

        def inputs(i, last):
            x, y = char_batches_first(i, [5, 5, 3])
            return x, y, "sample" if i % 3 == 2 else "train"
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- cells unrolled by hand
class CellLM(nn.Module):
    def __init__(self, cell="LSTMCell", vocab=VOCAB, emb=4, hidden=6):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.cell = getattr(nn, cell)(emb, hidden)
        self.out = nn.Linear(hidden, vocab)
        self.hidden = hidden

    def forward(self, x, state=None):           # x: (seq, batch)
        outputs = []
        for t in range(x.size(0)):
            state = self.cell(self.embed(x[t]), state)
            h = state[0] if isinstance(state, tuple) else state
            outputs.append(self.out(h))
        return chainrule.stack(outputs), state


def cell_case(cell, seq_lens, opt_name="Adam", dtype=chainrule.float32):
    net = CellLM(cell).to(dtype)
    opt = getattr(optim, opt_name)(net.parameters(), lr=0.01)
    offsets = [sum(seq_lens[:k]) for k in range(len(seq_lens))]

    def step(x, y, state):
        opt.zero_grad()
        logits, state = net(x, state)
        loss = F.cross_entropy(logits.view(-1, VOCAB), y.view(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        return loss, detach_hidden(state)

    def inputs(i, last):
        k = i % len(seq_lens)
        x, y = get_batch(TRAIN, offsets[k], seq_lens[k])
        if k == 0:
            z = chainrule.zeros(4, 6, dtype=dtype)
            state = (z, z.clone()) if cell == "LSTMCell" else z
        else:
            state = last[1]
        return x, y.view(seq_lens[k], 4), state

    return Case(step, lambda: [net, opt], inputs)


def test_lstmcell_unrolled_python_loop_tbptt():
    same_as_eager(lambda: cell_case("LSTMCell", [5, 5, 2]), calls=7)


def test_grucell_unrolled_python_loop_tbptt():
    same_as_eager(lambda: cell_case("GRUCell", [4, 4, 4, 1], opt_name="SGD"), calls=8)


def test_rnncell_unrolled_float64():
    same_as_eager(lambda: cell_case("RNNCell", [3, 6], opt_name="RMSprop", dtype=chainrule.float64), calls=6)


def test_lstmcell_first_state_none_then_tuple():
    def setup():
        case = cell_case("LSTMCell", [4, 4, 3])
        inner = case.inputs

        def inputs(i, last):
            x, y, state = inner(i, last)
            return x, y, (None if i % 3 == 0 else state)
        return Case(case.step, case.observe, inputs)

    same_as_eager(setup, calls=7)


def test_two_stacked_lstmcells_with_dropout_between():
    def setup():
        c1, c2 = nn.LSTMCell(4, 6), nn.LSTMCell(6, 6)
        emb, out, drop = nn.Embedding(VOCAB, 4), nn.Linear(6, VOCAB), nn.Dropout(0.3)
        model = nn.ModuleList([emb, c1, c2, out, drop])
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y, s1, s2):
            opt.zero_grad()
            loss = 0
            for t in range(x.shape[1]):
                s1 = c1(emb(x[:, t]), s1)
                s2 = c2(drop(s1[0]), s2)
                loss = loss + F.cross_entropy(out(drop(s2[0])), y[:, t])
            loss = loss / x.shape[1]
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            return loss, [s.detach() for s in s1], [s.detach() for s in s2]

        def inputs(i, last):
            x, y = char_batches_first(i, [4, 4, 2])
            if i % 3 == 0:
                z = chainrule.zeros(3, 6)
                return x, y, (z, z), (z, z)
            return x, y, tuple(last[1]), tuple(last[2])
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup, calls=7)


def test_grucell_with_learned_initial_state_expanded():
    def setup():
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.h0 = nn.Parameter(chainrule.zeros(1, 6))
                self.embed = nn.Embedding(VOCAB, 4)
                self.cell = nn.GRUCell(4, 6)
                self.out = nn.Linear(6, VOCAB)

            def forward(self, x):
                h = self.h0.expand(x.size(1), -1)
                logits = []
                for xt in x:
                    h = self.cell(self.embed(xt), h)
                    logits.append(self.out(h))
                return chainrule.stack(logits, dim=1)

        net = Net()
        opt = optim.Adam(net.parameters(), lr=0.02)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(net(x).transpose(1, 2), y.T)
            loss.backward()
            opt.step()
            return loss

        def inputs(i, last):
            x, y = get_batch(TRAIN, 6 * i, [6, 6, 6, 2][i % 4])
            return x, y.view(x.shape)
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- bidirectional taggers
TAGS = 5


class BiLSTMTagger(nn.Module):
    def __init__(self, vocab=VOCAB, emb=5, hidden=4, layers=1, batch_first=True, dropout=0.0, cell="LSTM"):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        self.rnn = getattr(nn, cell)(emb, hidden, num_layers=layers, bidirectional=True, batch_first=batch_first,
                                     dropout=dropout)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(hidden * 2, TAGS)

    def forward(self, text):
        embedded = self.dropout(self.embedding(text))
        outputs, _ = self.rnn(embedded)
        return self.fc(self.dropout(outputs))


def tagger_batch(i, batch_first=True, pad_tag=-100):
    g = np.random.default_rng(50 + i)
    lengths = g.integers(2, 7, size=3)
    seq = int([6, 6, 4][i % 3])
    lengths = np.minimum(lengths, seq)
    text = np.zeros((3, seq), dtype=np.int64)
    tags = np.full((3, seq), pad_tag, dtype=np.int64)
    for b, n in enumerate(lengths):
        text[b, :n] = g.integers(1, VOCAB, size=n)
        tags[b, :n] = g.integers(1 if pad_tag == 0 else 0, TAGS, size=n)
    if not batch_first:
        text, tags = text.T.copy(), tags.T.copy()
    return chainrule.tensor(text), chainrule.tensor(tags)


def tagger_case(batch_first=True, pad_tag=-100, layers=1, cell="LSTM", dtype=chainrule.float32):
    model = BiLSTMTagger(batch_first=batch_first, layers=layers, dropout=0.2 if layers > 1 else 0.0,
                         cell=cell).to(dtype)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss(ignore_index=pad_tag)

    def categorical_accuracy(preds, y):
        max_preds = preds.argmax(dim=1, keepdim=True)
        non_pad = (y != pad_tag).nonzero()
        correct = max_preds[non_pad].squeeze(1).eq(y[non_pad])
        return correct.sum() / y[non_pad].shape[0]

    def step(text, tags, with_acc):
        optimizer.zero_grad()
        predictions = model(text)
        predictions = predictions.view(-1, predictions.shape[-1])
        tags = tags.view(-1)
        loss = criterion(predictions, tags)
        loss.backward()
        optimizer.step()
        if with_acc:
            return loss, categorical_accuracy(predictions, tags)
        return loss

    return Case(step, lambda: [model, optimizer],
                lambda i, last: tagger_batch(i, batch_first, pad_tag) + (False,))


def test_bilstm_tagger_flattened_cross_entropy_ignore_index_batch_first():
    same_as_eager(lambda: tagger_case(), calls=7)


def test_bilstm_tagger_seq_first_two_layers_dropout_pad_tag_zero():
    same_as_eager(lambda: tagger_case(batch_first=False, pad_tag=0, layers=2), calls=7)


def test_bigru_tagger_float64():
    same_as_eager(lambda: tagger_case(cell="GRU", dtype=chainrule.float64, layers=2), calls=6)


def test_bilstm_tagger_accuracy_over_non_pad_tokens_with_nonzero():
    """The bentrevett tutorial's categorical_accuracy uses nonzero: documented to run eagerly."""
    def setup():
        case = tagger_case()
        inner = case.inputs
        return Case(case.step, case.observe, lambda i, last: inner(i, last)[:2] + (True,))

    same_as_eager(setup, calls=6)


def test_bilstm_tagger_packed_padded_sequences():
    def setup():
        class Tagger(BiLSTMTagger):
            def forward(self, text, lengths):
                embedded = self.dropout(self.embedding(text))
                packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths, batch_first=True,
                                                           enforce_sorted=False)
                out, _ = self.rnn(packed)
                out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=text.shape[1])
                return self.fc(self.dropout(out))

        model = Tagger()
        opt = optim.Adam(model.parameters(), lr=0.01)
        criterion = nn.CrossEntropyLoss(ignore_index=-100)

        def step(text, tags, lengths):
            opt.zero_grad()
            pred = model(text, lengths)
            loss = criterion(pred.reshape(-1, TAGS), tags.reshape(-1))
            loss.backward()
            opt.step()
            return loss

        def inputs(i, last):
            text, tags = tagger_batch(i)
            lengths = (tags != -100).sum(1)
            return text, tags, lengths
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup, calls=6)


def test_bilstm_final_hidden_concatenated_for_sequence_labels():
    """h_n of both directions, hidden[-2] and hidden[-1], concatenated (the sentiment tutorial)."""
    def setup():
        emb = nn.Embedding(VOCAB, 5, padding_idx=0)
        rnn = nn.LSTM(5, 4, num_layers=2, bidirectional=True, dropout=0.3)
        fc = nn.Linear(8, 2)
        model = nn.ModuleList([emb, rnn, fc])
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(text, label):
            opt.zero_grad()
            _, (hidden, cell) = rnn(emb(text))
            hidden = chainrule.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)
            loss = F.cross_entropy(fc(hidden), label, label_smoothing=0.1)
            loss.backward()
            opt.step()
            return loss

        def inputs(i, last):
            text, tags = tagger_batch(i, batch_first=False)
            return text, tags[0].clamp(0, 1)
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- learners' mistakes and edges
def test_hidden_not_detached_backward_through_freed_graph_raises():
    """The classic mistake: the hidden state passed on with its history; eagerly the second call's
    backward reaches the first call's freed graph and raises."""
    def setup():
        net = CharLSTM(VOCAB, layers=1, dropout=0.0, emb_dropout=0.0, cell="GRU")
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y, hidden):
            opt.zero_grad()
            logits, hidden = net(x, hidden)
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
            loss.backward()
            opt.step()
            return loss, hidden

        def inputs(i, last):
            x, y = char_batches_first(i, [4, 4, 4, 4])
            return x, y, (net.init_hidden(3) if last is None else last[1])
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


def test_smaller_last_batch_with_carried_hidden_raises_then_is_resized():
    """The last batch has fewer sequences: the carried hidden state no longer fits (eager raises),
    then the loop slices it to the batch."""
    def setup():
        net = CharLSTM(VOCAB, layers=2, dropout=0.2)
        opt = optim.Adam(net.parameters(), lr=0.01)
        sizes = [3, 3, 2, 3, 2, 2, 3]

        def step(x, y, hidden):
            opt.zero_grad()
            logits, hidden = net(x, hidden)
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
            loss.backward()
            opt.step()
            return loss, detach_hidden(hidden)

        state = {"h": None}

        def inputs(i, last):
            x, y = char_batches_first(i, [4, 4, 3], batch=3)
            x, y = x[: sizes[i]], y[: sizes[i]]
            if last is not None:
                state["h"] = last[1]
            h = state["h"] or net.init_hidden(3)
            if i >= 4:       # the fix, after seeing the error
                h = tuple(v[:, : sizes[i]].contiguous() for v in h)
                if h[0].shape[1] < sizes[i]:
                    h = net.init_hidden(sizes[i])
            return x, y, h
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


def test_clip_grad_norm_error_if_nonfinite_after_a_diverging_lr():
    def setup():
        net = CharLSTM(VOCAB, layers=1, dropout=0.0, emb_dropout=0.0)
        opt = optim.SGD(net.parameters(), lr=1.0)

        def step(x, y, hidden, lr):
            for group in opt.param_groups:
                group["lr"] = lr
            opt.zero_grad()
            logits, hidden = net(x, hidden)
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
            loss.backward()
            norm = nn.utils.clip_grad_norm_(net.parameters(), 1.0, error_if_nonfinite=True)
            opt.step()
            return loss, norm, detach_hidden(hidden)

        lrs = [0.1, 0.1, 0.1, float("inf"), 0.1, 0.1, 0.1]

        def inputs(i, last):
            x, y = char_batches_first(i, [4, 4, 4])
            return x, y, (net.init_hidden(3) if last is None else last[2]), chainrule.tensor(lrs[i])
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


def test_sampling_temperature_as_tensor_zero_gives_nan_probabilities():
    """Temperature passed as a 0-d tensor (no re-recording); 0 makes inf/nan probabilities and
    multinomial raises eagerly."""
    def setup():
        net = CharLSTM(VOCAB, layers=1, dropout=0.0)
        net.eval()

        @chainrule.no_grad()
        def generate(x, hidden, temperature):
            logits, hidden = net(x, hidden)
            probs = F.softmax(logits[:, -1] / temperature, dim=-1)
            return chainrule.multinomial(probs, 1), hidden

        temps = [1.0, 0.7, 0.0, 0.5, -0.0, 1.2, 0.9]

        def inputs(i, last):
            token = chainrule.tensor([[1, 2], [3, 4]]) if last is None else last[0]
            return token, (None if last is None else last[1]), chainrule.tensor(temps[i])
        return Case(generate, lambda: [net], inputs)

    same_as_eager(setup, calls=7)


def test_tagger_batch_of_only_padding_gives_nan_loss():
    def setup():
        case = tagger_case()
        inner = case.inputs

        def inputs(i, last):
            text, tags, flag = inner(i, last)
            if i in (2, 5):
                tags = chainrule.full_like(tags, -100)
            return text, tags, flag
        return Case(case.step, case.observe, inputs)

    same_as_eager(setup, calls=7)


def test_forget_gate_bias_set_in_place_between_calls():
    def setup():
        case = char_lstm_case(seq_lens=(4, 4, 2))
        net = case.observe()[0]

        def before(i):
            if i == 2:
                for name, p in net.rnn.named_parameters():
                    if "bias" in name:
                        n = p.size(0)
                        p.data[n // 4:n // 2].fill_(1.0)
            if i == 4:
                nn.init.orthogonal_(net.rnn.weight_hh_l0)
        return Case(case.step, case.observe, case.inputs, before)

    same_as_eager(setup, calls=7)


def test_char_rnn_generate_string_with_tensor_indexing_a_python_string():
    """Sean Robertson's char-rnn generate(): predicted characters looked up with a tensor index."""
    all_characters = "abcdefghijk"

    def setup():
        class CharRNN(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = nn.Embedding(VOCAB, 6)
                self.gru = nn.GRU(6, 6, 2)
                self.decoder = nn.Linear(6, VOCAB)

            def forward(self, inp, hidden):
                out, hidden = self.gru(self.encoder(inp.view(1, -1)).view(1, 1, -1), hidden)
                return self.decoder(out.view(1, -1)), hidden

        decoder = CharRNN()

        def char_tensor(s):
            return chainrule.tensor([all_characters.index(c) for c in s], dtype=chainrule.long)

        def generate(prime_str, predict_len, temperature):
            hidden = chainrule.zeros(2, 1, 6)
            prime_input = char_tensor(prime_str)
            predicted = prime_str
            for p in range(len(prime_str) - 1):
                _, hidden = decoder(prime_input[p], hidden)
            inp = prime_input[-1]
            for p in range(predict_len):
                output, hidden = decoder(inp, hidden)
                output_dist = output.data.view(-1).div(temperature).exp()
                top_i = chainrule.multinomial(output_dist, 1)[0]
                predicted_char = all_characters[top_i]
                predicted += predicted_char
                inp = char_tensor(predicted_char)
            return predicted

        prompts = [("ab", 5, 0.8), ("ab", 5, 0.8), ("kj", 4, 0.8), ("ab", 6, 0.5), ("ab", 5, 0.8)]
        return Case(generate, lambda: [decoder], lambda i, last: prompts[i])

    same_as_eager(setup, calls=5)


def test_old_style_init_hidden_with_weight_new_and_hidden_data():
    def setup():
        class OldLM(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(VOCAB, 5)
                self.rnn = nn.LSTM(5, 6, 2, dropout=0.5)
                self.linear = nn.Linear(6, VOCAB)

            def forward(self, x, h):
                self.rnn.flatten_parameters()
                out, h = self.rnn(self.embed(x), h)
                out = out.contiguous().view(out.size(0) * out.size(1), out.size(2))
                return self.linear(out), h

            def init_hidden(self, bsz):
                weight = next(self.parameters()).data
                return (weight.new(2, bsz, 6).zero_(), weight.new(2, bsz, 6).zero_())

        model = OldLM()
        opt = optim.Adagrad(model.parameters(), lr=0.05)
        starts, per_epoch = chunk_starts(5, 7)

        def step(inputs, targets, states):
            states = [state.data for state in states]
            outputs, states = model(inputs, tuple(states))
            loss = nn.CrossEntropyLoss()(outputs, targets)
            model.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm(model.parameters(), 0.5)
            opt.step()
            return loss, states

        def inputs(i, last):
            data, targets = get_batch(TRAIN, starts[i], 5)
            return data, targets, (model.init_hidden(4) if i % per_epoch == 0 else last[1])
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup, calls=7)


def test_gru_hidden_kept_as_a_tensor_attribute_reset_to_none():
    """self.hidden = hidden.detach() (one tensor, as the README's example); None at each epoch start."""
    def setup():
        net = CharLSTM(VOCAB, layers=2, dropout=0.2, cell="GRU")
        net.hidden = None
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            logits, hidden = net(x, net.hidden)
            net.hidden = hidden.detach()
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
            loss.backward()
            opt.step()
            return loss.exp()

        def before(i):
            if i % 3 == 0:
                net.hidden = None
        return Case(step, lambda: [net, opt, net.hidden], lambda i, last: char_batches_first(i, [4, 4, 2]), before)

    same_as_eager(setup, calls=7)


def test_awd_lstm_random_bptt_lengths_and_rescaled_lr():
    """AWD-LSTM draws a sequence length per batch (NumPy, outside the step) and rescales the lr:
    more distinct lengths than a compiled function keeps recordings for."""
    def setup():
        model = RNNModel("LSTM", VOCAB, 6, 6, 2, dropout=0.2, tie_weights=True)
        opt = optim.SGD(model.parameters(), lr=1.0, weight_decay=1.2e-6)
        lens = [9, 3, 7, 5, 8, 4, 6, 2, 10, 1]
        offsets = [sum(lens[:k]) for k in range(len(lens))]

        def step(data, targets, hidden, seq_len):
            hidden = detach_hidden(hidden)
            opt.zero_grad()
            output, hidden = model(data, hidden)
            raw_loss = F.nll_loss(output, targets)
            raw_loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            opt.step()
            return raw_loss, hidden

        def before(i):
            opt.param_groups[0]["lr"] = 1.0 * lens[i] / 5

        def inputs(i, last):
            data, targets = get_batch(TRAIN, offsets[i], lens[i])
            return data, targets, (model.init_hidden(4) if last is None else last[1]), lens[i]
        return Case(step, lambda: [model, opt], inputs, before)

    same_as_eager(setup, calls=10)


def test_module_compile_lm_forward_loss_outside_tbptt():
    """model.compile() on the LM; the loss, backward, clipping and step run outside, each call."""
    def setup():
        net = CharLSTM(VOCAB, layers=2, dropout=0.2)
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y, hidden):
            logits, hidden = net(x, hidden)
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 0.5)
            opt.step()
            return loss, tuple(h.detach() for h in hidden)

        def inputs(i, last):
            x, y = char_batches_first(i, [5, 5, 2])
            return x, y, (net.init_hidden(3) if i % 3 == 0 else last[1])
        return Case(step, lambda: [net, opt], inputs, compile_module=net)

    same_as_eager(setup, calls=7)


def test_module_compile_generation_under_no_grad():
    def setup():
        net = CharLSTM(VOCAB, layers=2, dropout=0.2, cell="GRU")
        net.eval()

        def generate(token, hidden, temperature):
            with chainrule.no_grad():
                logits, hidden = net(token, hidden)
                probs = F.softmax(logits[:, -1] / temperature, dim=-1)
                return chainrule.multinomial(probs, 1), hidden

        def inputs(i, last):
            if last is None:
                return chainrule.tensor([[1, 4, 2], [3, 3, 0]]), None, 0.8
            return last[0], last[1], 0.8
        return Case(generate, lambda: [net], inputs, compile_module=net)

    same_as_eager(setup, calls=7)


def test_tagger_sentences_padded_with_pad_sequence_inside_the_step():
    def setup():
        model = BiLSTMTagger(batch_first=True)
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(sentences, tag_lists):
            opt.zero_grad()
            text = nn.utils.rnn.pad_sequence(sentences, batch_first=True, padding_value=0)
            tags = nn.utils.rnn.pad_sequence(tag_lists, batch_first=True, padding_value=-100)
            logits = model(text)
            loss = F.cross_entropy(logits.view(-1, TAGS), tags.view(-1), ignore_index=-100)
            loss.backward()
            opt.step()
            return loss

        def inputs(i, last):
            g = np.random.default_rng(i % 3)
            lens = g.integers(1, 6, size=3 if i != 5 else 2)
            sents = [chainrule.tensor(g.integers(1, VOCAB, size=n)) for n in lens]
            tags = [chainrule.tensor(g.integers(0, TAGS, size=n)) for n in lens]
            return sents, tags
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup, calls=7)


def test_masked_token_loss_with_reduction_none():
    def setup():
        model = BiLSTMTagger(batch_first=False, layers=2, dropout=0.3)
        opt = optim.SGD(model.parameters(), lr=0.3, nesterov=True, momentum=0.9)
        criterion = nn.CrossEntropyLoss(reduction="none", ignore_index=-100)

        def step(text, tags):
            opt.zero_grad()
            logits = model(text)                        # (seq, batch, tags)
            per_token = criterion(logits.permute(1, 2, 0), tags.T)
            mask = (tags.T != -100).float()
            loss = (per_token * mask).sum() / mask.sum().clamp(min=1)
            loss.backward()
            opt.step()
            return loss, per_token

        return Case(step, lambda: [model, opt], lambda i, last: tagger_batch(i, batch_first=False))

    same_as_eager(setup, calls=6)


def test_embedding_max_norm_renormalizes_rows_in_the_forward():
    def setup():
        net = CharLSTM(VOCAB, layers=1, dropout=0.0)
        net.embed = nn.Embedding(VOCAB, 5, max_norm=1.0)
        nn.init.normal_(net.embed.weight, std=2.0)
        opt = optim.Adam(net.parameters(), lr=0.05)
        return Case(_plain_step(net, opt), lambda: [net, opt],
                    lambda i, last: char_batches_first(i, [4, 4, 2]) + ((net.init_hidden(3) if i % 3 == 0 else last[1]),))

    same_as_eager(setup, calls=7)


def _plain_step(net, opt):
    def step(x, y, hidden):
        opt.zero_grad()
        logits, hidden = net(x, hidden)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss, detach_hidden(hidden)
    return step


def test_hidden_detached_in_place_on_the_argument():
    """for h in hidden: h.detach_() on the tensors passed in, then the step goes on with them."""
    def setup():
        net = CharLSTM(VOCAB, layers=2, dropout=0.1)
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y, hidden):
            for h in hidden:
                h.detach_()
            opt.zero_grad()
            logits, hidden = net(x, hidden)
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
            loss.backward()
            opt.step()
            return loss, hidden

        def inputs(i, last):
            x, y = char_batches_first(i, [4, 4, 2])
            return x, y, (net.init_hidden(3) if i % 3 == 0 else last[1])
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


def test_lstm_hidden_without_the_layer_dimension_raises_as_pytorch():
    """init_hidden forgetting the num_layers dimension: every call raises, compiled as eagerly,
    with PyTorch's message."""
    def setup():
        net = CharLSTM(VOCAB, layers=1, dropout=0.0)
        return Case(_plain_step(net, optim.SGD(net.parameters(), lr=0.1)), lambda: [net],
                    lambda i, last: char_batches_first(i, [4, 2]) + ((chainrule.zeros(3, 7), chainrule.zeros(3, 7)),))

    same_as_eager(setup, calls=3)
    history, _ = run(False, setup, 1)
    assert history[0] == ("raised", "RuntimeError",
                          "For batched 3-D input, hx and cx should also be 3-D but got (2-D, 2-D) tensors")
