"""chainrule.compile against eager execution on SEQUENCE-TO-SEQUENCE training steps as PyTorch's
'NLP from scratch' tutorials (translation, chatbot) and CTC recipes write them: GRU encoder/decoder with
Bahdanau and Luong attention (bmm, softmax over encoder outputs, masked_fill with -inf on padding),
teacher forcing by a Python argument or by ``random.random() < ratio`` (documented fallback), a decoder
loop over a target length that changes between calls, greedy decoding with topk/argmax fed back
detached, an EOS ``.item()`` break (documented fallback), pack_padded_sequence/pad_packed_sequence with
enforce_sorted=False, nn.CTCLoss, label smoothing with ignore_index, gradient clipping and NLLLoss over
log_softmax outputs accumulated step by step.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, Python side effects and the random stream after each call. A compiled run may
record anew or fall back to eager with at most one warning.
"""
import random
import warnings

import numpy as np
import pytest

import chainrule
import chainrule as torch
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from chainrule.random import default_generator
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def arr(t):
    return np.array(t.detach().numpy(), copy=True)


def snap(value):
    if isinstance(value, chainrule.Tensor):
        return ("tensor", str(value.dtype), arr(value))
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
    def __init__(self, step, observe, inputs, before=None):
        self.step, self.observe, self.inputs = step, observe, inputs
        self.before = before or (lambda i: None)


def run(compiled, setup, calls):
    chainrule.manual_seed(0)
    random.seed(0)
    case = setup()
    function = chainrule.compile(case.step) if compiled else case.step
    history = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            case.before(i)
            args = case.inputs(i)
            try:
                result = function(*args)
                history.append(("ok", snap(result)))
            except Exception as error:  # compared: type and message
                history.append(("raised", type(error).__name__, str(error)))
            history.append(observe(case.observe()))
    history.append(("random", default_generator.state_bytes(), random.getstate()))
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
PAD, SOS, EOS = 0, 1, 2
IN_VOCAB, OUT_VOCAB, H = 11, 9, 6
BATCHES = [4, 4, 3, 4, 2, 1, 4, 3]          # a smaller last batch, a batch of one
SRC_LENS = [4, 3, 5, 4, 3, 4, 5, 4]
TGT_LENS = [3, 4, 2, 3, 4, 2, 3, 4]         # the decoder loop length changes between calls


def pair_batch(i, batch_first=True, padded=True):
    """A padded batch as the 2023 translation tutorial's DataLoader gives it: src and tgt ending in EOS."""
    g = np.random.default_rng(300 + i)
    n, s, t = BATCHES[i % 8], SRC_LENS[i % 8], TGT_LENS[i % 8]
    src = g.integers(3, IN_VOCAB, (n, s))
    tgt = g.integers(3, OUT_VOCAB, (n, t))
    src_len = np.sort(g.integers(2, s + 1, n))[::-1].copy() if padded else np.full(n, s)
    src_len[0] = s
    perm = g.permutation(n)                 # not sorted by length: enforce_sorted=False
    src_len = src_len[perm]
    for b in range(n):
        src[b, src_len[b] - 1] = EOS
        src[b, src_len[b]:] = PAD
        cut = t if b == 0 or not padded else int(g.integers(2, t + 1))
        tgt[b, cut - 1] = EOS
        tgt[b, cut:] = PAD
    src, tgt = torch.tensor(src), torch.tensor(tgt)
    if not batch_first:
        src, tgt = src.t().contiguous(), tgt.t().contiguous()
    return src, torch.tensor(src_len), tgt


# ----------------------------------------------------------------------------- 2023 tutorial models
class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        embedded = self.dropout(self.embedding(input))
        output, hidden = self.gru(embedded)
        return output, hidden


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super().__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys, mask=None):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)
        if mask is not None:
            scores = scores.masked_fill(mask.unsqueeze(1), float("-inf"))
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)
        return context, weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1, max_length=5):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)
        self.max_length = max_length

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None, mask=None, teacher_forcing=True):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long).fill_(SOS)
        decoder_hidden = encoder_hidden
        decoder_outputs = []
        attentions = []
        steps = target_tensor.size(1) if target_tensor is not None else self.max_length
        for i in range(steps):
            decoder_output, decoder_hidden, attn_weights = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs, mask)
            decoder_outputs.append(decoder_output)
            attentions.append(attn_weights)
            if target_tensor is not None and teacher_forcing:
                decoder_input = target_tensor[:, i].unsqueeze(1)  # Teacher forcing
            else:
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()  # detach from history as input
        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
        attentions = torch.cat(attentions, dim=1)
        return decoder_outputs, decoder_hidden, attentions

    def forward_step(self, input, hidden, encoder_outputs, mask=None):
        embedded = self.dropout(self.embedding(input))
        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs, mask)
        input_gru = torch.cat((embedded, context), dim=2)
        output, hidden = self.gru(input_gru, hidden)
        output = self.out(output)
        return output, hidden, attn_weights


def translation_setup(opt_cls=optim.Adam, lr=0.01, masked=False, teacher_forcing=None, clip=None,
                      criterion=None, returns_attn=False, dtype=None):
    """The tutorial's train_epoch body as one compiled step; teacher_forcing None: the batch's argument."""
    def setup():
        encoder = EncoderRNN(IN_VOCAB, H)
        decoder = AttnDecoderRNN(H, OUT_VOCAB)
        if dtype is not None:
            encoder.to(dtype)
            decoder.to(dtype)
        enc_opt = opt_cls(encoder.parameters(), lr=lr)
        dec_opt = opt_cls(decoder.parameters(), lr=lr)
        loss_fn = criterion() if criterion else nn.NLLLoss()

        def step(input_tensor, target_tensor, tf=True):
            enc_opt.zero_grad()
            dec_opt.zero_grad()
            encoder_outputs, encoder_hidden = encoder(input_tensor)
            mask = (input_tensor == PAD) if masked else None
            decoder_outputs, _, attn = decoder(encoder_outputs, encoder_hidden, target_tensor, mask=mask,
                                               teacher_forcing=tf)
            loss = loss_fn(decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1))
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(encoder.parameters(), clip)
                nn.utils.clip_grad_norm_(decoder.parameters(), clip)
            enc_opt.step()
            dec_opt.step()
            return (loss, attn) if returns_attn else loss

        def inputs(i):
            src, _, tgt = pair_batch(i)
            tf = [True, True, False, True, False, False, True, True][i] if teacher_forcing is None else teacher_forcing
            return src, tgt, tf
        return Case(step, lambda: [encoder, decoder, enc_opt, dec_opt], inputs)
    return setup


def test_bahdanau_teacher_forcing_target_length_varies_adam():
    same_as_eager(translation_setup(teacher_forcing=True), calls=6)


def test_bahdanau_greedy_topk_detach_without_teacher_forcing():
    same_as_eager(translation_setup(teacher_forcing=False), calls=6)


def test_bahdanau_teacher_forcing_by_python_argument_alternating():
    same_as_eager(translation_setup(opt_cls=optim.SGD, lr=0.1), calls=6)


def test_bahdanau_masked_fill_neg_inf_on_source_padding_with_attention_returned():
    same_as_eager(translation_setup(masked=True, returns_attn=True), calls=6)


def test_bahdanau_nllloss_ignore_index_pad_with_clipping():
    same_as_eager(translation_setup(masked=True, clip=1.0, criterion=lambda: nn.NLLLoss(ignore_index=PAD)),
                  calls=6)


def test_bahdanau_float64_with_cross_entropy_label_smoothing_ignore_index():
    # CrossEntropyLoss over the decoder's log_softmax outputs, as learners replace NLLLoss with it
    crit = lambda: nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=0.1)  # noqa: E731
    same_as_eager(translation_setup(criterion=crit, dtype=torch.float64, masked=True), calls=6)


def test_teacher_forcing_decided_by_random_random_inside_the_step():
    """``use_teacher_forcing = True if random.random() < ratio else False`` inside the step: documented
    fallback (Python's random stream changed by the step) with at most one warning."""
    def setup():
        encoder = EncoderRNN(IN_VOCAB, H)
        decoder = AttnDecoderRNN(H, OUT_VOCAB)
        params = list(encoder.parameters()) + list(decoder.parameters())
        opt = optim.Adam(params, lr=0.01)
        criterion = nn.NLLLoss()
        teacher_forcing_ratio = 0.5
        used = []

        def step(src, tgt):
            opt.zero_grad()
            use_teacher_forcing = True if random.random() < teacher_forcing_ratio else False
            encoder_outputs, encoder_hidden = encoder(src)
            out, _, _ = decoder(encoder_outputs, encoder_hidden, tgt, teacher_forcing=use_teacher_forcing)
            loss = criterion(out.view(-1, OUT_VOCAB), tgt.view(-1))
            loss.backward()
            opt.step()
            return loss, use_teacher_forcing

        def inputs(i):
            src, _, tgt = pair_batch(i)
            return src, tgt
        return Case(step, lambda: [encoder, decoder, opt, used], inputs)

    same_as_eager(setup, calls=6)


def test_greedy_inference_under_no_grad_in_eval_between_training_calls():
    def setup():
        encoder = EncoderRNN(IN_VOCAB, H)
        decoder = AttnDecoderRNN(H, OUT_VOCAB, max_length=4)
        opt = optim.SGD(list(encoder.parameters()) + list(decoder.parameters()), lr=0.1, momentum=0.9)

        def step(src, tgt, train):
            if not train:
                encoder.eval()
                decoder.eval()
                with torch.no_grad():
                    encoder_outputs, encoder_hidden = encoder(src)
                    decoder_outputs, _, attn = decoder(encoder_outputs, encoder_hidden)
                    _, topi = decoder_outputs.topk(1)
                    decoded_ids = topi.squeeze()
                encoder.train()
                decoder.train()
                return decoded_ids, attn
            opt.zero_grad()
            encoder_outputs, encoder_hidden = encoder(src)
            out, _, _ = decoder(encoder_outputs, encoder_hidden, tgt)
            loss = F.nll_loss(out.view(-1, out.size(-1)), tgt.view(-1))
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            src, _, tgt = pair_batch(i)
            return src, tgt, i % 3 != 2
        return Case(step, lambda: [encoder, decoder, opt], inputs)

    same_as_eager(setup, calls=6)


def test_decoder_max_length_and_dropout_p_changed_between_calls():
    def setup():
        encoder = EncoderRNN(IN_VOCAB, H)
        decoder = AttnDecoderRNN(H, OUT_VOCAB)
        opt = optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=0.01)

        def step(src, tgt):
            opt.zero_grad()
            eo, eh = encoder(src)
            out, _, _ = decoder(eo, eh)          # free running for max_length steps
            n = min(out.size(1), tgt.size(1))
            loss = F.nll_loss(out[:, :n].reshape(-1, OUT_VOCAB), tgt[:, :n].reshape(-1), ignore_index=PAD)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            decoder.max_length = [3, 5, 3, 2, 5, 4][i]
            decoder.dropout.p = [0.1, 0.1, 0.3, 0.0, 0.1, 0.3][i]

        def inputs(i):
            src, _, tgt = pair_batch(i)
            return src, tgt
        return Case(step, lambda: [encoder, decoder, opt], inputs, before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- the 2017 tutorial, batch of one
MAX_LENGTH = 7


class OldEncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size)

    def forward(self, input, hidden):
        embedded = self.embedding(input).view(1, 1, -1)
        output = embedded
        output, hidden = self.gru(output, hidden)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, 1, self.hidden_size)


class OldAttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1, max_length=MAX_LENGTH):
        super().__init__()
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.dropout_p = dropout_p
        self.max_length = max_length
        self.embedding = nn.Embedding(self.output_size, self.hidden_size)
        self.attn = nn.Linear(self.hidden_size * 2, self.max_length)
        self.attn_combine = nn.Linear(self.hidden_size * 2, self.hidden_size)
        self.dropout = nn.Dropout(self.dropout_p)
        self.gru = nn.GRU(self.hidden_size, self.hidden_size)
        self.out = nn.Linear(self.hidden_size, self.output_size)

    def forward(self, input, hidden, encoder_outputs):
        embedded = self.embedding(input).view(1, 1, -1)
        embedded = self.dropout(embedded)
        attn_weights = F.softmax(self.attn(torch.cat((embedded[0], hidden[0]), 1)), dim=1)
        attn_applied = torch.bmm(attn_weights.unsqueeze(0), encoder_outputs.unsqueeze(0))
        output = torch.cat((embedded[0], attn_applied[0]), 1)
        output = self.attn_combine(output).unsqueeze(0)
        output = F.relu(output)
        output, hidden = self.gru(output, hidden)
        output = F.log_softmax(self.out(output[0]), dim=1)
        return output, hidden, attn_weights


def one_pair(i):
    g = np.random.default_rng(500 + i)
    s, t = [3, 5, 2, 4, 6, 2, 4, 3][i % 8], [3, 4, 2, 2, 4, 3, 4, 3][i % 8]
    src = list(g.integers(3, IN_VOCAB, s - 1)) + [EOS]
    tgt = list(g.integers(3, OUT_VOCAB, t - 1)) + [EOS]
    if i % 3 == 1:
        tgt[1] = EOS                      # an EOS early in the target
    return (torch.tensor(src, dtype=torch.long).view(-1, 1), torch.tensor(tgt, dtype=torch.long).view(-1, 1))


def old_setup(mode, eos_break=False, returns_item=False, teacher_forcing_ratio=0.5, opt_cls=optim.SGD):
    def setup():
        encoder = OldEncoderRNN(IN_VOCAB, H)
        decoder = OldAttnDecoderRNN(H, OUT_VOCAB)
        encoder_optimizer = opt_cls(encoder.parameters(), lr=0.05)
        decoder_optimizer = opt_cls(decoder.parameters(), lr=0.05)
        criterion = nn.NLLLoss()

        def train(input_tensor, target_tensor, use_tf=None, max_length=MAX_LENGTH):
            encoder_hidden = encoder.initHidden()
            encoder_optimizer.zero_grad()
            decoder_optimizer.zero_grad()
            input_length = input_tensor.size(0)
            target_length = target_tensor.size(0)
            encoder_outputs = torch.zeros(max_length, encoder.hidden_size)
            loss = 0
            for ei in range(input_length):
                encoder_output, encoder_hidden = encoder(input_tensor[ei], encoder_hidden)
                encoder_outputs[ei] = encoder_output[0, 0]
            decoder_input = torch.tensor([[SOS]])
            decoder_hidden = encoder_hidden
            if mode == "random":
                use_teacher_forcing = True if random.random() < teacher_forcing_ratio else False
            else:
                use_teacher_forcing = use_tf
            if use_teacher_forcing:
                for di in range(target_length):
                    decoder_output, decoder_hidden, decoder_attention = decoder(
                        decoder_input, decoder_hidden, encoder_outputs)
                    loss += criterion(decoder_output, target_tensor[di])
                    decoder_input = target_tensor[di]  # Teacher forcing
            else:
                for di in range(target_length):
                    decoder_output, decoder_hidden, decoder_attention = decoder(
                        decoder_input, decoder_hidden, encoder_outputs)
                    topv, topi = decoder_output.topk(1)
                    decoder_input = topi.squeeze().detach()  # detach from history as input
                    loss += criterion(decoder_output, target_tensor[di])
                    if eos_break and decoder_input.item() == EOS:
                        break
            loss.backward()
            encoder_optimizer.step()
            decoder_optimizer.step()
            if returns_item:
                return loss.item() / target_length
            return loss / target_length

        def inputs(i):
            src, tgt = one_pair(i)
            return (src, tgt) if mode == "random" else (src, tgt, [True, False, False, True, False, True, False, True][i])
        return Case(train, lambda: [encoder, decoder, encoder_optimizer, decoder_optimizer], inputs)
    return setup


def test_old_tutorial_batch_of_one_teacher_forcing_argument_loss_accumulated():
    same_as_eager(old_setup("argument"), calls=6)


def test_old_tutorial_eos_item_break_in_greedy_loop_falls_back():
    same_as_eager(old_setup("argument", eos_break=True), calls=6)


def test_old_tutorial_random_teacher_forcing_and_loss_item_returned():
    same_as_eager(old_setup("random", eos_break=True, returns_item=True), calls=6)


def test_old_tutorial_with_adam_teacher_forcing_argument():
    same_as_eager(old_setup("argument", opt_cls=optim.Adam), calls=6)


def test_old_tutorial_source_longer_than_max_length_raises_in_a_later_call():
    """encoder_outputs[ei] = ... with ei == MAX_LENGTH raises IndexError in the call with a long source."""
    def setup():
        case = old_setup("argument")()
        inner = case.inputs

        def inputs(i):
            src, tgt, tf = inner(i)
            if i == 3:
                src = torch.cat([src, src], 0)      # 10 tokens > MAX_LENGTH
            return src, tgt, tf
        case.inputs = inputs
        return case

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- chatbot tutorial: packed, Luong
class Attn(nn.Module):
    def __init__(self, method, hidden_size):
        super().__init__()
        self.method = method
        self.hidden_size = hidden_size
        self.attn = nn.Linear(self.hidden_size, hidden_size)
        self.attn_c = nn.Linear(self.hidden_size * 2, hidden_size)
        self.v = nn.Parameter(torch.randn(hidden_size) * 0.1)

    def dot_score(self, hidden, encoder_output):
        return torch.sum(hidden * encoder_output, dim=2)

    def general_score(self, hidden, encoder_output):
        energy = self.attn(encoder_output)
        return torch.sum(hidden * energy, dim=2)

    def concat_score(self, hidden, encoder_output):
        energy = self.attn_c(torch.cat((hidden.expand(encoder_output.size(0), -1, -1), encoder_output), 2)).tanh()
        return torch.sum(self.v * energy, dim=2)

    def forward(self, hidden, encoder_outputs, mask=None):
        if self.method == "general":
            attn_energies = self.general_score(hidden, encoder_outputs)
        elif self.method == "concat":
            attn_energies = self.concat_score(hidden, encoder_outputs)
        elif self.method == "dot":
            attn_energies = self.dot_score(hidden, encoder_outputs)
        attn_energies = attn_energies.t()
        if mask is not None:
            attn_energies = attn_energies.masked_fill(mask, float("-inf"))
        return F.softmax(attn_energies, dim=1).unsqueeze(1)


class ChatEncoderRNN(nn.Module):
    def __init__(self, hidden_size, embedding, n_layers=1, dropout=0):
        super().__init__()
        self.n_layers = n_layers
        self.hidden_size = hidden_size
        self.embedding = embedding
        self.gru = nn.GRU(hidden_size, hidden_size, n_layers,
                          dropout=(0 if n_layers == 1 else dropout), bidirectional=True)

    def forward(self, input_seq, input_lengths, hidden=None):
        embedded = self.embedding(input_seq)
        packed = nn.utils.rnn.pack_padded_sequence(embedded, input_lengths, enforce_sorted=False)
        outputs, hidden = self.gru(packed, hidden)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs)
        outputs = outputs[:, :, :self.hidden_size] + outputs[:, :, self.hidden_size:]
        return outputs, hidden


class LuongAttnDecoderRNN(nn.Module):
    def __init__(self, attn_model, embedding, hidden_size, output_size, n_layers=1, dropout=0.1):
        super().__init__()
        self.n_layers = n_layers
        self.embedding = embedding
        self.embedding_dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(hidden_size, hidden_size, n_layers, dropout=(0 if n_layers == 1 else dropout))
        self.concat = nn.Linear(hidden_size * 2, hidden_size)
        self.out = nn.Linear(hidden_size, output_size)
        self.attn = Attn(attn_model, hidden_size)

    def forward(self, input_step, last_hidden, encoder_outputs, mask=None):
        embedded = self.embedding(input_step)
        embedded = self.embedding_dropout(embedded)
        rnn_output, hidden = self.gru(embedded, last_hidden)
        attn_weights = self.attn(rnn_output, encoder_outputs, mask)
        context = attn_weights.bmm(encoder_outputs.transpose(0, 1))
        rnn_output = rnn_output.squeeze(0)
        context = context.squeeze(1)
        concat_input = torch.cat((rnn_output, context), 1)
        concat_output = torch.tanh(self.concat(concat_input))
        output = self.out(concat_output)
        output = F.softmax(output, dim=1)
        return output, hidden


def maskNLLLoss(inp, target, mask):
    nTotal = mask.sum()
    crossEntropy = -torch.log(torch.gather(inp, 1, target.view(-1, 1)).squeeze(1))
    loss = crossEntropy.masked_select(mask).mean()
    return loss, nTotal.item()


def masked_nll_no_item(inp, target, mask):
    crossEntropy = -torch.log(torch.gather(inp, 1, target.view(-1, 1)).squeeze(1))
    return (crossEntropy * mask).sum() / mask.sum()


def chatbot_setup(method="dot", faithful=False, n_layers=1, clip=50.0, methods=None, use_mask=False,
                  tf_random=False, lengths_as_list=False):
    def setup():
        embedding = nn.Embedding(IN_VOCAB, H)
        encoder = ChatEncoderRNN(H, embedding, n_layers, dropout=0.1)
        decoder = LuongAttnDecoderRNN(method, embedding, H, IN_VOCAB, n_layers, dropout=0.1)
        encoder_optimizer = optim.Adam(encoder.parameters(), lr=0.001)
        decoder_optimizer = optim.Adam(decoder.parameters(), lr=0.005)

        def train(input_variable, lengths, target_variable, mask, max_target_len, use_teacher_forcing=True):
            encoder_optimizer.zero_grad()
            decoder_optimizer.zero_grad()
            batch_size = input_variable.size(1)
            loss = 0
            print_losses = []
            n_totals = 0
            encoder_outputs, encoder_hidden = encoder(input_variable, lengths)
            decoder_input = torch.LongTensor([[SOS for _ in range(batch_size)]])
            decoder_hidden = encoder_hidden[:decoder.n_layers]
            src_mask = (input_variable == PAD).t()[:, :encoder_outputs.size(0)] if use_mask else None
            if tf_random:
                use_teacher_forcing = True if random.random() < 0.5 else False
            for t in range(max_target_len):
                decoder_output, decoder_hidden = decoder(decoder_input, decoder_hidden, encoder_outputs, src_mask)
                if use_teacher_forcing:
                    decoder_input = target_variable[t].view(1, -1)
                elif faithful:
                    _, topi = decoder_output.topk(1)
                    decoder_input = torch.LongTensor([[topi[i][0] for i in range(batch_size)]])
                else:
                    decoder_input = decoder_output.argmax(dim=1).view(1, -1).detach()
                if faithful:
                    mask_loss, nTotal = maskNLLLoss(decoder_output, target_variable[t], mask[t])
                    loss += mask_loss
                    print_losses.append(mask_loss.item() * nTotal)
                    n_totals += nTotal
                else:
                    loss = loss + masked_nll_no_item(decoder_output, target_variable[t], mask[t])
            loss.backward()
            _ = nn.utils.clip_grad_norm_(encoder.parameters(), clip)
            _ = nn.utils.clip_grad_norm_(decoder.parameters(), clip)
            encoder_optimizer.step()
            decoder_optimizer.step()
            if faithful:
                return sum(print_losses) / n_totals
            return loss / max_target_len

        def inputs(i):
            src, lengths, tgt = pair_batch(i, batch_first=False)
            mask = tgt != PAD
            lens = [int(v) for v in lengths.tolist()] if lengths_as_list else lengths
            return src, lens, tgt, mask, tgt.size(0), [True, False, True, True, False, True, False, True][i]

        def before(i):
            if methods is not None:
                decoder.attn.method = methods[i % len(methods)]
        return Case(train, lambda: [encoder, decoder, encoder_optimizer, decoder_optimizer], inputs, before)
    return setup


def test_chatbot_packed_bidirectional_encoder_dot_attention_argmax_decoding():
    same_as_eager(chatbot_setup("dot"), calls=6)


def test_chatbot_general_attention_two_layers_with_clip():
    same_as_eager(chatbot_setup("general", n_layers=2, clip=0.5), calls=6)


def test_chatbot_concat_attention_lengths_as_python_list():
    same_as_eager(chatbot_setup("concat", lengths_as_list=True), calls=6)


def test_chatbot_luong_method_attribute_changed_between_calls():
    same_as_eager(chatbot_setup("dot", methods=["dot", "general", "concat", "dot", "concat", "general"]), calls=6)


def test_chatbot_source_padding_masked_fill_neg_inf():
    same_as_eager(chatbot_setup("general", use_mask=True, clip=1.0), calls=6)


def test_chatbot_faithful_masknllloss_masked_select_item_and_longtensor_from_topi():
    """The tutorial as written: masked_select, nTotal.item(), print_losses of floats and
    torch.LongTensor of a list of tensors: documented fallbacks, one warning at most."""
    same_as_eager(chatbot_setup("dot", faithful=True), calls=6)


def test_chatbot_teacher_forcing_by_random_random():
    same_as_eager(chatbot_setup("dot", tf_random=True), calls=6)


# ----------------------------------------------------------------------------- packing details
def test_pack_padded_enforce_sorted_false_gru_hidden_order_and_total_length():
    def setup():
        emb = nn.Embedding(IN_VOCAB, 5)
        gru = nn.GRU(5, 4, batch_first=True, bidirectional=True)
        head = nn.Linear(8, 3)
        params = list(emb.parameters()) + list(gru.parameters()) + list(head.parameters())
        opt = optim.RMSprop(params, lr=0.01)

        def step(src, lengths, total_length):
            opt.zero_grad()
            packed = pack_padded_sequence(emb(src), lengths, batch_first=True, enforce_sorted=False)
            out, h_n = gru(packed)
            out, out_lens = pad_packed_sequence(out, batch_first=True, padding_value=0.0, total_length=total_length)
            last = torch.cat([h_n[-2], h_n[-1]], dim=1)        # hidden back in the batch's order
            logits = head(last)
            loss = logits.logsumexp(1).mean() + out.pow(2).mean()
            loss.backward()
            opt.step()
            return loss, out, out_lens, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices

        def inputs(i):
            src, lengths, _ = pair_batch(i)
            return src, lengths, [None, 8, None, 7, 8, None, 6][i]
        return Case(step, lambda: [emb, gru, head, opt], inputs)

    same_as_eager(setup, calls=6)


def test_packed_sequence_data_rewrapped_and_rnn_output_gathered_at_lengths_minus_one():
    def setup():
        emb = nn.Embedding(IN_VOCAB, 5)
        gru = nn.GRU(5, 4, num_layers=2, batch_first=True)
        head = nn.Linear(4, 2)
        opt = optim.Adam(list(emb.parameters()) + list(gru.parameters()) + list(head.parameters()), lr=0.01)

        def step(src, lengths, y):
            opt.zero_grad()
            packed = pack_padded_sequence(emb(src), lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, _ = gru(packed)
            out, _ = pad_packed_sequence(out, batch_first=True)
            idx = (lengths - 1).view(-1, 1, 1).expand(-1, 1, out.size(2))
            last = out.gather(1, idx).squeeze(1)
            loss = F.cross_entropy(head(last), y)
            loss.backward()
            nn.utils.clip_grad_value_(gru.parameters(), 0.05)
            opt.step()
            return loss

        def inputs(i):
            src, lengths, _ = pair_batch(i)
            return src, lengths, torch.tensor(np.random.default_rng(i).integers(0, 2, src.size(0)))
        return Case(step, lambda: [emb, gru, head, opt], inputs)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- CTC
class SpeechGRU(nn.Module):
    def __init__(self, n_feats=5, hidden=6, n_class=6):
        super().__init__()
        self.proj = nn.Linear(n_feats, hidden)
        self.rnn = nn.GRU(hidden, hidden, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, n_class)

    def forward(self, x):
        x = F.relu(self.proj(x))
        x, _ = self.rnn(x)
        return F.log_softmax(self.fc(x), dim=2)      # (T, N, C)


def ctc_batch(i, concatenated=False):
    g = np.random.default_rng(700 + i)
    n, t = [3, 3, 2, 3, 1, 3, 2][i % 7], [9, 8, 10, 9, 7, 9, 8][i % 7]
    x = torch.tensor(g.standard_normal((t, n, 5)).astype(np.float32))
    in_lens = np.sort(g.integers(t - 3, t + 1, n))[::-1].copy()
    in_lens[0] = t
    tgt_lens = g.integers(1, 4, n)
    if i == 3:
        tgt_lens[-1] = 0                           # an empty transcript
    targets = g.integers(1, 6, (n, 3))
    if concatenated:
        targets = np.concatenate([targets[b, :tgt_lens[b]] for b in range(n)])
    return x, torch.tensor(targets), torch.tensor(in_lens), torch.tensor(tgt_lens)


def ctc_setup(reduction="mean", zero_infinity=False, concatenated=False, clip=None, lens_as_tuple=False):
    def setup():
        model = SpeechGRU()
        criterion = nn.CTCLoss(blank=0, reduction=reduction, zero_infinity=zero_infinity)
        opt = optim.AdamW(model.parameters(), lr=0.005)

        def step(x, targets, input_lengths, target_lengths):
            opt.zero_grad()
            log_probs = model(x)
            loss = criterion(log_probs, targets, input_lengths, target_lengths)
            if reduction == "none":
                loss = (loss / target_lengths.clamp(min=1)).mean()
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            return loss

        def inputs(i):
            x, tg, il, tl = ctc_batch(i, concatenated)
            if lens_as_tuple:
                il, tl = tuple(int(v) for v in il.tolist()), tuple(int(v) for v in tl.tolist())
            return x, tg, il, tl
        return Case(step, lambda: [model, opt], inputs)
    return setup


def test_ctc_loss_padded_targets_mean_reduction():
    same_as_eager(ctc_setup(), calls=6)


def test_ctc_loss_concatenated_targets_with_clip():
    same_as_eager(ctc_setup(concatenated=True, clip=1.0), calls=6)


def test_ctc_loss_reduction_none_divided_by_target_lengths_zero_infinity():
    same_as_eager(ctc_setup(reduction="none", zero_infinity=True), calls=6)


def test_ctc_loss_lengths_as_python_tuples_sum_reduction():
    same_as_eager(ctc_setup(reduction="sum", lens_as_tuple=True), calls=6)


def test_ctc_impossible_alignment_gives_inf_and_zero_infinity_toggled_between_calls():
    def setup():
        model = SpeechGRU()
        criterion = nn.CTCLoss(blank=0, zero_infinity=True)
        opt = optim.SGD(model.parameters(), lr=0.05)

        def step(x, targets, il, tl):
            opt.zero_grad()
            loss = criterion(model(x), targets, il, tl)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            x, tg, il, tl = ctc_batch(i)
            if i in (1, 4):
                il = torch.ones_like(il)       # one frame cannot emit 2+ labels: infinite loss
                tl = tl.clamp(min=2)
            return x, tg, il, tl

        def before(i):
            criterion.zero_infinity = i != 4
        return Case(step, lambda: [model, opt], inputs, before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- losses accumulated step by step
def fairseq_label_smoothed_nll_loss(lprobs, target, epsilon, ignore_index=None, reduce=True):
    if target.dim() == lprobs.dim() - 1:
        target = target.unsqueeze(-1)
    nll_loss = -lprobs.gather(dim=-1, index=target)
    smooth_loss = -lprobs.sum(dim=-1, keepdim=True)
    if ignore_index is not None:
        pad_mask = target.eq(ignore_index)
        nll_loss.masked_fill_(pad_mask, 0.0)
        smooth_loss.masked_fill_(pad_mask, 0.0)
    else:
        nll_loss = nll_loss.squeeze(-1)
        smooth_loss = smooth_loss.squeeze(-1)
    if reduce:
        nll_loss = nll_loss.sum()
        smooth_loss = smooth_loss.sum()
    eps_i = epsilon / (lprobs.size(-1) - 1)
    loss = (1.0 - epsilon - eps_i) * nll_loss + eps_i * smooth_loss
    return loss, nll_loss


class GRUCellAttnDecoder(nn.Module):
    """Bahdanau decoder on nn.GRUCell, as the 'attention from scratch' blog posts write it."""
    def __init__(self, vocab, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, hidden, padding_idx=PAD)
        self.W1 = nn.Linear(hidden, hidden, bias=False)
        self.W2 = nn.Linear(hidden, hidden, bias=False)
        self.V = nn.Linear(hidden, 1, bias=False)
        self.cell = nn.GRUCell(2 * hidden, hidden)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, y_prev, h, enc, src_mask):
        score = self.V(torch.tanh(self.W1(enc) + self.W2(h).unsqueeze(1))).squeeze(-1)   # (B, S)
        score = score.masked_fill(src_mask, -float("inf"))
        alpha = torch.softmax(score, dim=1)
        ctx = torch.bmm(alpha.unsqueeze(1), enc).squeeze(1)
        h = self.cell(torch.cat([self.embedding(y_prev), ctx], dim=1), h)
        return F.log_softmax(self.fc(h), dim=-1), h, alpha


def cell_setup(loss_kind, epsilon=0.1, dtype=None, argmax_feed=False):
    def setup():
        enc_emb = nn.Embedding(IN_VOCAB, H, padding_idx=PAD)
        encoder = nn.GRU(H, H, batch_first=True)
        decoder = GRUCellAttnDecoder(OUT_VOCAB, H)
        modules = nn.ModuleList([enc_emb, encoder, decoder])
        if dtype is not None:
            modules.to(dtype)
        opt = optim.Adam(modules.parameters(), lr=0.01)
        nll = nn.NLLLoss(ignore_index=PAD, reduction="sum")

        def step(src, tgt, eps, tf_ratio):
            opt.zero_grad()
            enc, h = encoder(enc_emb(src))
            h = h.squeeze(0)
            src_mask = src == PAD
            y = torch.full((src.size(0),), SOS, dtype=torch.long)
            loss = 0.0
            n_tokens = (tgt != PAD).sum()
            alphas = []
            for t in range(tgt.size(1)):
                logp, h, alpha = decoder(y, h, enc, src_mask)
                alphas.append(alpha)
                if loss_kind == "fairseq":
                    l, _ = fairseq_label_smoothed_nll_loss(logp, tgt[:, t], eps, ignore_index=PAD)
                    loss = loss + l
                else:
                    loss = loss + nll(logp, tgt[:, t])
                if argmax_feed:
                    # scheduled sampling: per-example coin from chainrule's own stream
                    coin = torch.rand(tgt.size(0)) < tf_ratio
                    y = torch.where(coin, tgt[:, t], logp.argmax(-1).detach())
                else:
                    y = tgt[:, t]
            loss = loss / n_tokens
            loss.backward()
            total_norm = nn.utils.clip_grad_norm_(modules.parameters(), max_norm=1.0)
            opt.step()
            return loss, total_norm, torch.stack(alphas, 1)

        def inputs(i):
            src, _, tgt = pair_batch(i)
            return src, tgt, [0.1, 0.1, 0.2, 0.1, 0.0, 0.1][i % 6], [1.0, 0.75, 0.5, 0.5, 0.25, 0.0][i % 6]
        return Case(step, lambda: [modules, opt], inputs)
    return setup


def test_grucell_decoder_nllloss_ignore_index_sum_accumulated_per_step_over_tokens():
    same_as_eager(cell_setup("nll"), calls=6)


def test_grucell_decoder_fairseq_label_smoothed_nll_epsilon_argument_changes():
    same_as_eager(cell_setup("fairseq"), calls=6)


def test_grucell_decoder_float64_scheduled_sampling_with_rand_coins_and_argmax():
    same_as_eager(cell_setup("nll", dtype=torch.float64, argmax_feed=True), calls=6)


def test_losses_list_appended_inside_the_step_falls_back():
    """``epoch_losses.append(loss.item())`` and ``plot_attentions.append(attn)`` inside the step: documented
    fallback, and the lists must hold what eager left."""
    def setup():
        encoder = EncoderRNN(IN_VOCAB, H)
        decoder = AttnDecoderRNN(H, OUT_VOCAB)
        opt = optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=0.01)
        plot_losses, plot_attn = [], []

        def step(src, tgt):
            opt.zero_grad()
            eo, eh = encoder(src)
            out, _, attn = decoder(eo, eh, tgt)
            loss = F.nll_loss(out.view(-1, OUT_VOCAB), tgt.view(-1))
            loss.backward()
            opt.step()
            plot_attn.append(attn.detach())
            plot_losses.append(loss.item())
            return loss

        def inputs(i):
            src, _, tgt = pair_batch(i)
            return src, tgt
        return Case(step, lambda: [encoder, decoder, opt, list(plot_losses), list(plot_attn)], inputs)

    same_as_eager(setup, calls=6)


def test_attention_over_fully_padded_row_gives_nan_as_eager():
    """A source row that is all padding: softmax over -inf only gives nan, eagerly and compiled alike."""
    def setup():
        attention = BahdanauAttention(H)
        opt = optim.SGD(attention.parameters(), lr=0.1)

        def step(query, keys, mask):
            opt.zero_grad()
            context, weights = attention(query, keys, mask)
            loss = torch.nan_to_num(context).pow(2).sum()
            loss.backward()
            opt.step()
            return loss, weights

        def inputs(i):
            g = np.random.default_rng(900 + i)
            n, s = [3, 3, 2, 3, 3, 1][i], [4, 5, 4, 4, 3, 4][i]
            mask = np.zeros((n, s), dtype=bool)
            mask[:, s - 1] = True
            if i in (2, 4):
                mask[0, :] = True
            return (torch.tensor(g.standard_normal((n, 1, H)).astype(np.float32)),
                    torch.tensor(g.standard_normal((n, s, H)).astype(np.float32)), torch.tensor(mask))
        return Case(step, lambda: [attention, opt], inputs)

    same_as_eager(setup, calls=6)


def test_encoder_hidden_carried_across_calls_detached_truncated_bptt_style():
    """A state kept on the model between calls (``self.h = h.detach()``), reset when the batch shrinks."""
    def setup():
        encoder = EncoderRNN(IN_VOCAB, H, dropout_p=0.0)
        decoder = AttnDecoderRNN(H, OUT_VOCAB, dropout_p=0.0)
        opt = optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=0.01)
        encoder.h = None

        def step(src, tgt):
            opt.zero_grad()
            emb = encoder.embedding(src)
            h0 = encoder.h if encoder.h is not None and encoder.h.size(1) == src.size(0) else None
            eo, eh = encoder.gru(emb, h0)
            out, dh, _ = decoder(eo, eh, tgt, mask=src == PAD)
            loss = F.nll_loss(out.reshape(-1, OUT_VOCAB), tgt.reshape(-1), ignore_index=PAD)
            loss.backward()
            opt.step()
            encoder.h = dh.detach()
            return loss

        def inputs(i):
            src, _, tgt = pair_batch(i)
            return src, tgt
        return Case(step, lambda: [encoder, decoder, opt, encoder.h], inputs)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- bentrevett's pytorch-seq2seq
class BEncoder(nn.Module):
    def __init__(self, input_dim, emb_dim, enc_hid_dim, dec_hid_dim, dropout):
        super().__init__()
        self.embedding = nn.Embedding(input_dim, emb_dim)
        self.rnn = nn.GRU(emb_dim, enc_hid_dim, bidirectional=True)
        self.fc = nn.Linear(enc_hid_dim * 2, dec_hid_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, src):
        embedded = self.dropout(self.embedding(src))
        outputs, hidden = self.rnn(embedded)
        hidden = torch.tanh(self.fc(torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)))
        return outputs, hidden


class BAttention(nn.Module):
    def __init__(self, enc_hid_dim, dec_hid_dim):
        super().__init__()
        self.attn = nn.Linear((enc_hid_dim * 2) + dec_hid_dim, dec_hid_dim)
        self.v = nn.Linear(dec_hid_dim, 1, bias=False)

    def forward(self, hidden, encoder_outputs, mask):
        src_len = encoder_outputs.shape[0]
        hidden = hidden.unsqueeze(1).repeat(1, src_len, 1)
        encoder_outputs = encoder_outputs.permute(1, 0, 2)
        energy = torch.tanh(self.attn(torch.cat((hidden, encoder_outputs), dim=2)))
        attention = self.v(energy).squeeze(2)
        attention = attention.masked_fill(mask == 0, -1e10)
        return F.softmax(attention, dim=1)


class BDecoder(nn.Module):
    def __init__(self, output_dim, emb_dim, enc_hid_dim, dec_hid_dim, dropout, attention):
        super().__init__()
        self.output_dim = output_dim
        self.attention = attention
        self.embedding = nn.Embedding(output_dim, emb_dim)
        self.rnn = nn.GRU((enc_hid_dim * 2) + emb_dim, dec_hid_dim)
        self.fc_out = nn.Linear((enc_hid_dim * 2) + dec_hid_dim + emb_dim, output_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, input, hidden, encoder_outputs, mask):
        input = input.unsqueeze(0)
        embedded = self.dropout(self.embedding(input))
        a = self.attention(hidden, encoder_outputs, mask)
        a = a.unsqueeze(1)
        encoder_outputs = encoder_outputs.permute(1, 0, 2)
        weighted = torch.bmm(a, encoder_outputs)
        weighted = weighted.permute(1, 0, 2)
        rnn_input = torch.cat((embedded, weighted), dim=2)
        output, hidden = self.rnn(rnn_input, hidden.unsqueeze(0))
        embedded = embedded.squeeze(0)
        output = output.squeeze(0)
        weighted = weighted.squeeze(0)
        prediction = self.fc_out(torch.cat((output, weighted, embedded), dim=1))
        return prediction, hidden.squeeze(0), a.squeeze(1)


class Seq2Seq(nn.Module):
    def __init__(self, encoder, decoder, src_pad_idx, per_step_random=True):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.src_pad_idx = src_pad_idx
        self.per_step_random = per_step_random

    def create_mask(self, src):
        return (src != self.src_pad_idx).permute(1, 0)

    def forward(self, src, trg, teacher_forcing_ratio=0.5):
        batch_size = src.shape[1]
        trg_len = trg.shape[0]
        trg_vocab_size = self.decoder.output_dim
        outputs = torch.zeros(trg_len, batch_size, trg_vocab_size)
        encoder_outputs, hidden = self.encoder(src)
        input = trg[0, :]
        mask = self.create_mask(src)
        for t in range(1, trg_len):
            output, hidden, _ = self.decoder(input, hidden, encoder_outputs, mask)
            outputs[t] = output
            if self.per_step_random:
                teacher_force = random.random() < teacher_forcing_ratio
            else:
                teacher_force = teacher_forcing_ratio[t - 1]     # a schedule passed as a list of bools
            top1 = output.argmax(1)
            input = trg[t] if teacher_force else top1
        return outputs


def init_weights(m):
    for name, param in m.named_parameters():
        if "weight" in name:
            nn.init.normal_(param.data, mean=0, std=0.01)
        else:
            nn.init.constant_(param.data, 0)


def bentrevett_setup(per_step_random):
    def setup():
        attn = BAttention(4, 5)
        enc = BEncoder(IN_VOCAB, 3, 4, 5, 0.5)
        dec = BDecoder(OUT_VOCAB, 3, 4, 5, 0.5, attn)
        model = Seq2Seq(enc, dec, PAD, per_step_random)
        model.apply(init_weights)
        optimizer = optim.Adam(model.parameters())
        criterion = nn.CrossEntropyLoss(ignore_index=PAD)

        def train_batch(src, trg, ratio, clip=1):
            model.train()
            optimizer.zero_grad()
            output = model(src, trg, ratio)
            output_dim = output.shape[-1]
            output = output[1:].view(-1, output_dim)
            trg = trg[1:].view(-1)
            loss = criterion(output, trg)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            return loss

        def inputs(i):
            src, _, tgt = pair_batch(i, batch_first=False)
            trg = torch.cat([torch.full((1, tgt.size(1)), SOS, dtype=torch.long), tgt], 0)
            ratio = 0.5 if per_step_random else [[True, False, True, True, False][k % 5 - i % 2] for k in range(tgt.size(0))]
            return src, trg, ratio
        return Case(train_batch, lambda: [model, optimizer], inputs)
    return setup


def test_bentrevett_outputs_written_into_zeros_per_step_random_teacher_forcing():
    same_as_eager(bentrevett_setup(True), calls=6)


def test_bentrevett_outputs_written_into_zeros_teacher_forcing_schedule_list_argument():
    same_as_eager(bentrevett_setup(False), calls=6)


# ----------------------------------------------------------------------------- more step-by-step patterns
def test_backward_per_decoder_step_with_retain_graph():
    """A learner's loop calling backward on each step's loss (retain_graph=True) before one optimizer step."""
    def setup():
        encoder = EncoderRNN(IN_VOCAB, H, dropout_p=0.0)
        decoder = AttnDecoderRNN(H, OUT_VOCAB, dropout_p=0.0)
        opt = optim.SGD(list(encoder.parameters()) + list(decoder.parameters()), lr=0.1)

        def step(src, tgt):
            opt.zero_grad()
            eo, h = encoder(src)
            y = torch.full((src.size(0), 1), SOS, dtype=torch.long)
            total = 0.0
            for t in range(tgt.size(1)):
                out, h, _ = decoder.forward_step(y, h, eo)
                step_loss = F.nll_loss(F.log_softmax(out.squeeze(1), -1), tgt[:, t], ignore_index=PAD)
                step_loss.backward(retain_graph=True)
                total = total + step_loss.detach()
                y = tgt[:, t:t + 1]
            opt.step()
            return total / tgt.size(1)

        def inputs(i):
            src, _, tgt = pair_batch(i)
            return src, tgt
        return Case(step, lambda: [encoder, decoder, opt], inputs)

    same_as_eager(setup, calls=6)


def test_greedy_decode_until_all_sequences_hit_eos_breaks_on_tensor_bool():
    """``if (decoded == EOS).all(): break`` inside the compiled decode: a value read into Python, documented
    fallback."""
    def setup():
        encoder = EncoderRNN(IN_VOCAB, H)
        decoder = AttnDecoderRNN(H, OUT_VOCAB)
        encoder.eval()
        decoder.eval()
        with torch.no_grad():
            decoder.out.bias[EOS] = 1.5        # EOS comes soon for some inputs

        @torch.no_grad()
        def decode(src, max_len):
            eo, h = encoder(src)
            y = torch.full((src.size(0), 1), SOS, dtype=torch.long)
            finished = torch.zeros(src.size(0), dtype=torch.bool)
            tokens = []
            for _ in range(max_len):
                out, h, _ = decoder.forward_step(y, h, eo, src == PAD)
                y = out.argmax(-1)
                tokens.append(y.masked_fill(finished.unsqueeze(1), PAD))
                finished = finished | (y.squeeze(1) == EOS)
                if finished.all():
                    break
            return torch.cat(tokens, 1)

        def inputs(i):
            src, _, _ = pair_batch(i)
            return src, [4, 6, 4, 3, 6, 5][i]
        return Case(decode, lambda: [encoder, decoder], inputs)

    same_as_eager(setup, calls=6)


def test_max_target_len_read_with_int_of_tensor_max_inside_the_step():
    def setup():
        case = chatbot_setup("dot")()
        inner = case.step

        def step(src, lengths, tgt, mask, _max_len, tf):
            max_target_len = int((tgt != PAD).sum(0).max())      # a value read into Python
            return inner(src, lengths, tgt, mask, max_target_len, tf)
        case.step = step
        return case

    same_as_eager(setup, calls=5)


def test_clip_grad_norm_error_if_nonfinite_raises_on_a_fully_padded_source():
    """A batch whose first source is all padding: softmax over -inf gives nan grads and
    clip_grad_norm_(error_if_nonfinite=True) raises in that call only."""
    def setup():
        encoder = EncoderRNN(IN_VOCAB, H, dropout_p=0.0)
        decoder = AttnDecoderRNN(H, OUT_VOCAB, dropout_p=0.0)
        params = list(encoder.parameters()) + list(decoder.parameters())
        opt = optim.SGD(params, lr=0.1)

        def step(src, tgt):
            opt.zero_grad()
            eo, eh = encoder(src)
            out, _, _ = decoder(eo, eh, tgt, mask=src == PAD)
            loss = F.nll_loss(out.view(-1, OUT_VOCAB), tgt.view(-1), ignore_index=PAD)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
            opt.step()
            return loss, norm

        def inputs(i):
            src, _, tgt = pair_batch(i)
            if i == 3:
                src = src.clone()
                src[0] = PAD
            return src, tgt
        return Case(step, lambda: [encoder, decoder, opt], inputs)

    same_as_eager(setup, calls=6)


class LabelSmoothing(nn.Module):
    """The Annotated Transformer's label smoothing (KLDivLoss, nonzero over padding)."""
    def __init__(self, size, padding_idx, smoothing=0.0, use_nonzero=True):
        super().__init__()
        self.criterion = nn.KLDivLoss(reduction="sum")
        self.padding_idx = padding_idx
        self.confidence = 1.0 - smoothing
        self.smoothing = smoothing
        self.size = size
        self.true_dist = None
        self.use_nonzero = use_nonzero

    def forward(self, x, target):
        assert x.size(1) == self.size
        true_dist = x.data.clone()
        true_dist.fill_(self.smoothing / (self.size - 2))
        true_dist.scatter_(1, target.data.unsqueeze(1), self.confidence)
        true_dist[:, self.padding_idx] = 0
        if self.use_nonzero:
            mask = torch.nonzero(target.data == self.padding_idx)
            if mask.dim() > 0:
                true_dist.index_fill_(0, mask.squeeze(), 0.0)
        else:
            true_dist = true_dist.masked_fill((target == self.padding_idx).unsqueeze(1), 0.0)
        self.true_dist = true_dist
        return self.criterion(x, true_dist.clone().detach())


@pytest.mark.parametrize("use_nonzero", [True, False])
def test_annotated_transformer_label_smoothing_kldiv_over_gru_decoder(use_nonzero):
    def setup():
        encoder = EncoderRNN(IN_VOCAB, H)
        decoder = AttnDecoderRNN(H, OUT_VOCAB)
        crit = LabelSmoothing(OUT_VOCAB, PAD, smoothing=0.1, use_nonzero=use_nonzero)
        opt = optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=0.01, betas=(0.9, 0.98), eps=1e-9)

        def step(src, tgt):
            opt.zero_grad()
            eo, eh = encoder(src)
            out, _, _ = decoder(eo, eh, tgt, mask=src == PAD)
            ntokens = (tgt != PAD).sum()
            loss = crit(out.reshape(-1, OUT_VOCAB), tgt.reshape(-1)) / ntokens
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            src, _, tgt = pair_batch(i)
            return src, tgt
        return Case(step, lambda: [encoder, decoder, opt, crit.true_dist], inputs)

    same_as_eager(setup, calls=6)


def test_attention_maps_kept_on_the_model_for_plotting():
    def setup():
        encoder = EncoderRNN(IN_VOCAB, H)
        decoder = AttnDecoderRNN(H, OUT_VOCAB)
        opt = optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=0.01)

        def step(src, tgt):
            opt.zero_grad()
            eo, eh = encoder(src)
            out, _, attn = decoder(eo, eh, tgt, mask=src == PAD)
            decoder.last_attention = attn.detach()[0]
            loss = F.nll_loss(out.view(-1, OUT_VOCAB), tgt.view(-1), ignore_index=PAD)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            src, _, tgt = pair_batch(i)
            return src, tgt
        return Case(step, lambda: [encoder, decoder, opt, getattr(decoder, "last_attention", None)], inputs)

    same_as_eager(setup, calls=6)


def test_decoder_input_buffer_overwritten_in_place_raises_as_pytorch():
    """``decoder_input[:, 0] = tgt[:, t]`` into one preallocated index tensor: PyTorch's backward raises
    (the embedding saved the indices, now at a newer version); each call must raise, eagerly and compiled."""
    def setup():
        encoder = EncoderRNN(IN_VOCAB, H, dropout_p=0.0)
        decoder = AttnDecoderRNN(H, OUT_VOCAB, dropout_p=0.0)
        opt = optim.SGD(list(encoder.parameters()) + list(decoder.parameters()), lr=0.1)

        def step(src, tgt):
            opt.zero_grad()
            eo, h = encoder(src)
            decoder_input = torch.full((src.size(0), 1), SOS, dtype=torch.long)
            outs = []
            for t in range(tgt.size(1)):
                out, h, _ = decoder.forward_step(decoder_input, h, eo)
                outs.append(out)
                decoder_input[:, 0] = tgt[:, t]
            logp = F.log_softmax(torch.cat(outs, 1), -1)
            loss = F.nll_loss(logp.view(-1, OUT_VOCAB), tgt.view(-1))
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            src, _, tgt = pair_batch(i)
            return src, tgt
        return Case(step, lambda: [encoder, decoder, opt], inputs)

    eager, _ = run(False, setup, 3)
    for k in range(3):
        assert eager[2 * k][0] == "raised" and "modified by an inplace operation" in eager[2 * k][2], eager[2 * k][:1]
    same_as_eager(setup, calls=3)
