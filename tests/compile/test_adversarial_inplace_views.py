"""chainrule.compile against eager execution on IN-PLACE OPERATIONS AND VIEWS inside compiled steps:
add_/mul_/clamp_/sub_/div_/masked_fill_/copy_/zero_/fill_ written through slices, narrow, select,
view, reshape, transpose, unsqueeze and expand views of parameters, buffers and intermediates;
nn.ReLU(inplace=True), F.dropout(inplace=True), LeakyReLU(inplace=True); ``x[idx] += ...``,
``x[:, 0] = ...``, ``index_put_(..., accumulate=True)``; hand-written SGD under no_grad
(``p -= lr * p.grad``, ``p.data.add_``); tied weights and parameters sharing storage, ``.data``
aliasing, ``.detach()`` sharing storage then modified; the version-counter error ("one of the
variables needed for gradient computation has been modified by an inplace operation") raised by a
compiled step exactly as eagerly.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises (type and message), parameters
(values, grads, version counters), buffers, optimizer state, tensors the caller holds, Python side
effects and the random stream after each call. A compiled run may record anew or fall back to eager
with at most one warning (an in-place write through a view of a tensor that needs grad is a
documented reason to fall back).
"""
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
        # a replayed call returns its tensors without their spent history (README): requires_grad not compared
        return ("tensor", str(value.dtype), arr(value), None if value.grad is None else arr(value.grad))
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
        "params": [(name, str(p.dtype), bool(p.requires_grad), arr(p), None if p.grad is None else arr(p.grad),
                    p._version) for name, p in model.named_parameters()],
        "buffers": [(name, str(b.dtype), arr(b), b._version) for name, b in model.named_buffers()],
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
    def __init__(self, step, observe, inputs=None, before=None):
        self.step, self.observe = step, observe
        self.inputs = inputs or default_inputs
        self.before = before or (lambda i: None)


BATCHES = [8, 8, 8, 8, 5, 8, 8, 3]  # a smaller last batch of an epoch, then the next epoch


def default_inputs(i, n_in=4, n_out=2, dtype=np.float64):
    g = np.random.default_rng(100 + i)
    n = BATCHES[i % len(BATCHES)]
    return (chainrule.tensor(g.standard_normal((n, n_in)).astype(dtype)),
            chainrule.tensor(g.standard_normal((n, n_out)).astype(dtype)))


def run(compiled, setup, calls):
    chainrule.manual_seed(0)
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
            history.append(("args", snap(args)))
            history.append(observe(case.observe()))
    history.append(("random", default_generator.state_bytes()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages


def same_as_eager(setup, calls=7):
    eager, eager_messages = run(False, setup, calls)
    compiled, messages = run(True, setup, calls)
    assert not eager_messages
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages
    return messages


def train_step(net, opt, loss_fn=F.mse_loss):
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


VERSION_ERROR = "one of the variables needed for gradient computation has been modified by an inplace operation"


# ----------------------------------------------------------------------------- in-place activations
def test_relu_inplace_mlp_with_sgd_momentum_and_a_smaller_last_batch():
    def setup():
        net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(inplace=True), nn.Linear(16, 16), nn.ReLU(inplace=True),
                            nn.Linear(16, 2)).double()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        return Case(train_step(net, opt), lambda: [net, opt])

    same_as_eager(setup, calls=8)


def test_leaky_relu_inplace_slope_changed_between_calls_float32():
    def setup():
        act = nn.LeakyReLU(0.01, inplace=True)
        net = nn.Sequential(nn.Linear(4, 8), act, nn.Linear(8, 2))
        opt = optim.Adam(net.parameters(), lr=1e-2)

        def before(i):
            act.negative_slope = [0.01, 0.01, 0.2, 0.2, 0.01, 0.1, 0.1][i]
        return Case(train_step(net, opt), lambda: [net, opt], before=before,
                    inputs=lambda i: default_inputs(i, dtype=np.float32))

    same_as_eager(setup)


def test_functional_relu_and_leaky_relu_inplace_on_batchnorm_output_train_eval():
    def setup():
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.bn, self.fc2 = nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2)

            def forward(self, x):
                h = self.bn(self.fc1(x))
                h = F.relu(h, inplace=True) if self.training else F.leaky_relu_(h, 0.05)
                return self.fc2(h)
        net = Net().double()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            if net.training:
                loss.backward()
                opt.step()
            return loss

        def before(i):
            net.train(i not in (2, 5))
        return Case(step, lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_dropout_inplace_functional_p_and_training_flag_vary():
    def setup():
        fc1, fc2 = nn.Linear(4, 12).double(), nn.Linear(12, 2).double()
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.1)
        ps = [0.5, 0.5, 0.2, 0.0, 0.5, 0.3, 0.5]

        def step(x, y, p, training):
            opt.zero_grad()
            h = fc1(x)                       # a linear output: nothing saved it, so dropping in place is fine
            h = F.dropout(h, p=p, training=training, inplace=True)
            loss = F.mse_loss(fc2(chainrule.tanh(h)), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [fc1, fc2, opt], inputs=lambda i: default_inputs(i) + (ps[i], i != 4))

    same_as_eager(setup)


def test_dropout_module_inplace_after_relu_inplace_with_eval_calls():
    def setup():
        net = nn.Sequential(nn.Linear(4, 10), nn.ReLU(inplace=True), nn.Dropout(0.4, inplace=True),
                            nn.Linear(10, 2)).double()
        opt = optim.Adam(net.parameters(), lr=1e-2)

        def before(i):
            net.train(i % 3 != 2)
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_resnet_style_residual_add_inplace_then_relu_inplace():
    def setup():
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.fc2 = nn.Linear(6, 6), nn.Linear(6, 6)
                self.relu = nn.ReLU(inplace=True)

            def forward(self, x):
                identity = x
                out = self.relu(self.fc1(x))
                out = self.fc2(out)
                out += identity
                return self.relu(out)
        net = nn.Sequential(nn.Linear(4, 6), Block(), Block(), nn.Linear(6, 2)).double()
        opt = optim.SGD(net.parameters(), lr=0.02, momentum=0.5, nesterov=True)
        return Case(train_step(net, opt), lambda: [net, opt])

    same_as_eager(setup, calls=8)


# ----------------------------------------------------------------------------- hand-written updates under no_grad
def test_manual_sgd_minus_equals_with_grad_zero_and_lr_tensor():
    def setup():
        w = chainrule.randn(4, 2, dtype=chainrule.float64, requires_grad=True)
        b = chainrule.zeros(2, dtype=chainrule.float64, requires_grad=True)

        def step(x, y, lr):
            loss = ((x @ w + b - y) ** 2).mean()
            loss.backward()
            with chainrule.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
                w.grad.zero_()
                b.grad.zero_()
            return loss

        lrs = [0.1, 0.1, 0.05, 0.05, 0.02, 0.02, 0.01]
        return Case(step, lambda: [w, b, w._version, b._version],
                    inputs=lambda i: default_inputs(i) + (chainrule.tensor(lrs[i], dtype=chainrule.float64),))

    same_as_eager(setup)


def test_manual_update_through_data_add_and_grad_data_zero():
    def setup():
        net = nn.Sequential(nn.Linear(4, 5), nn.Sigmoid(), nn.Linear(5, 2)).double()

        def step(x, y, lr):
            out = net(x)
            loss = F.mse_loss(out, y)
            loss.backward()
            for p in net.parameters():
                p.data.add_(p.grad.data, alpha=-lr)
                p.grad.data.zero_()
            return loss, out

        return Case(step, lambda: [net], inputs=lambda i: default_inputs(i) + ([0.5, 0.5, 0.5, 0.25, 0.25, 0.1, 0.1][i],))

    same_as_eager(setup)


def test_wgan_weight_clipping_clamp_on_data_with_clip_value_varying():
    def setup():
        critic = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2, inplace=True), nn.Linear(8, 1)).double()
        opt = optim.RMSprop(critic.parameters(), lr=5e-3)

        def step(real, fake, clip):
            opt.zero_grad()
            loss = critic(fake).mean() - critic(real).mean()
            loss.backward()
            opt.step()
            for p in critic.parameters():
                p.data.clamp_(-clip, clip)
            return loss

        clips = [0.01, 0.01, 0.05, 0.05, 0.01, 0.3, 0.3]
        return Case(step, lambda: [critic, opt], inputs=lambda i: default_inputs(i, n_out=4) + (clips[i],))

    same_as_eager(setup)


def test_weight_clamp_inplace_under_no_grad_on_parameter_views():
    def setup():
        net = nn.Linear(4, 3).double()
        opt = optim.SGD(net.parameters(), lr=0.3)

        def step(x, y, col):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                net.weight[:, col].clamp_(-0.2, 0.2)          # basic slice of a leaf
                net.weight.narrow(1, 3 - col, 1).mul_(0.9)    # narrow
                net.weight.select(0, 2).div_(1.5)             # select
                net.weight.t()[col].sub_(0.01)                # transpose view
                net.bias.unsqueeze(0)[0, 1:].add_(0.5)        # unsqueeze view
                net.weight.view(-1)[::5].fill_(0.0)           # view then strided slice
                net.bias.reshape(3)[0].zero_()                # reshape (a view for contiguous)
            return loss

        return Case(step, lambda: [net, opt], inputs=lambda i: default_inputs(i, n_out=3) + ([0, 0, 1, 1, 2, 0, 3][i],))

    same_as_eager(setup)


def test_gradient_column_frozen_by_zeroing_a_grad_view_and_grad_scaled_in_place():
    def setup():
        net = nn.Linear(4, 3).double()
        opt = optim.Adam(net.parameters(), lr=0.05)

        def step(x, y, frozen):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            net.weight.grad[:, frozen] = 0.0
            net.bias.grad[frozen % 3].zero_()
            net.weight.grad.div_(x.shape[0])
            nn.utils.clip_grad_norm_(net.parameters(), 0.5)
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], inputs=lambda i: default_inputs(i, n_out=3) + ([0, 0, 2, 2, 1, 3, 3][i],))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- buffers written in place
def test_buffer_running_mean_updated_with_mul_add_inplace_under_no_grad():
    def setup():
        class Norm(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)
                self.register_buffer("mean", chainrule.zeros(4))
                self.register_buffer("seen", chainrule.zeros((), dtype=chainrule.int64))
                self.momentum = 0.1

            def forward(self, x):
                if self.training:
                    with chainrule.no_grad():
                        self.mean.mul_(1 - self.momentum).add_(x.mean(0), alpha=self.momentum)
                        self.seen += x.shape[0]
                return self.fc(x - self.mean)
        net = Norm().double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            net.momentum = [0.1, 0.1, 0.1, 0.5, 0.5, 0.1, 0.1][i]
            net.train(i != 3)
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_rolling_memory_buffer_shifted_with_copy_into_slices():
    def setup():
        class Memory(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)
                self.register_buffer("memory", chainrule.zeros(3, 4))

            def forward(self, x):
                context = self.memory.mean(0)
                out = self.fc(x + context)
                with chainrule.no_grad():
                    self.memory[:-1].copy_(self.memory[1:].clone())
                    self.memory[-1].copy_(x.mean(0))
                return out
        net = Memory().double()
        opt = optim.SGD(net.parameters(), lr=0.1)
        return Case(train_step(net, opt), lambda: [net, opt])

    same_as_eager(setup)


def test_histogram_buffer_index_put_accumulate_with_repeated_indices():
    def setup():
        class Counter(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(6, 3)
                self.fc = nn.Linear(3, 2)
                self.register_buffer("counts", chainrule.zeros(6, dtype=chainrule.float64))

            def forward(self, idx):
                self.counts.index_put_((idx,), chainrule.ones(idx.shape[0], dtype=chainrule.float64), accumulate=True)
                return self.fc(self.emb(idx))
        net = Counter().double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def inputs(i):
            g = np.random.default_rng(i)
            n = BATCHES[i]
            idx = chainrule.tensor(g.integers(0, 6, size=n) if i != 2 else np.array([1] * n))
            return idx, chainrule.tensor(g.standard_normal((n, 2)))
        return Case(train_step(net, opt), lambda: [net, opt], inputs=inputs)

    same_as_eager(setup)


def test_padding_row_of_embedding_kept_zero_by_fill_and_index_put():
    def setup():
        emb = nn.Embedding(8, 4).double()
        fc = nn.Linear(4, 2).double()
        opt = optim.SGD(list(emb.parameters()) + list(fc.parameters()), lr=0.5)

        def step(idx, y, pad):
            opt.zero_grad()
            loss = F.mse_loss(fc(emb(idx).mean(1)), y)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                emb.weight[pad].fill_(0.0)
                emb.weight.index_put_((chainrule.tensor([7]),), chainrule.zeros(1, 4, dtype=chainrule.float64))
            return loss

        def inputs(i):
            g = np.random.default_rng(i)
            n = BATCHES[i]
            return (chainrule.tensor(g.integers(0, 8, size=(n, 3))), chainrule.tensor(g.standard_normal((n, 2))),
                    [0, 0, 0, 1, 1, 0, 0][i])
        return Case(step, lambda: [emb, fc, opt], inputs=inputs)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- intermediates and inputs written in place
def test_intermediate_written_through_column_assignment_and_index_add():
    # a write through a view of a tensor that needs grad: recorded or a documented fall-back
    def setup():
        fc1, fc2 = nn.Linear(4, 5).double(), nn.Linear(5, 2).double()
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.1)

        def step(x, y, col):
            opt.zero_grad()
            h = fc1(x)
            h[:, col] = 0.0
            h[0] += 1.0
            loss = F.mse_loss(fc2(chainrule.tanh(h)), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [fc1, fc2, opt], inputs=lambda i: default_inputs(i) + ([0, 0, 0, 4, 4, 2, 2][i],))

    same_as_eager(setup)


def test_index_put_accumulate_on_an_intermediate_needing_grad():
    def setup():
        w = chainrule.randn(6, dtype=chainrule.float64, requires_grad=True)
        opt = optim.SGD([w], lr=0.05)

        def step(idx, scale):
            opt.zero_grad()
            h = w * scale
            h.index_put_((idx,), w[:idx.shape[0]] * 2, accumulate=True)
            loss = (h ** 2).sum()
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            idx = [[0, 0, 3], [0, 0, 3], [1, 2, 2, 5], [4], [0, 0, 3], [5, 5, 5, 5], [0, 0, 3]][i]
            return chainrule.tensor(idx), [1.0, 1.0, 1.0, 2.0, 2.0, 1.0, 1.0][i]
        return Case(step, lambda: [w, opt], inputs=inputs)

    same_as_eager(setup)


def test_causal_attention_scores_masked_fill_inplace_with_varying_lengths():
    def setup():
        class Attention(nn.Module):
            def __init__(self):
                super().__init__()
                self.qkv = nn.Linear(4, 12)
                self.out = nn.Linear(4, 2)
                self.register_buffer("tril", chainrule.tril(chainrule.ones(6, 6)))

            def forward(self, x):
                T = x.shape[1]
                q, k, v = self.qkv(x).split(4, dim=-1)
                att = q @ k.transpose(-2, -1) / 2.0
                att.masked_fill_(self.tril[:T, :T] == 0, float("-inf"))
                att = F.softmax(att, dim=-1)
                return self.out(att @ v)
        net = Attention().double()
        opt = optim.AdamW(net.parameters(), lr=1e-2)

        def inputs(i):
            g = np.random.default_rng(i)
            T = [6, 6, 4, 6, 3, 6, 6][i]
            return chainrule.tensor(g.standard_normal((2, T, 4))), chainrule.tensor(g.standard_normal((2, T, 2)))
        return Case(train_step(net, opt), lambda: [net, opt], inputs=inputs)

    same_as_eager(setup)


def test_features_built_in_zeros_with_column_assignment_and_bias_column():
    def setup():
        w = nn.Parameter(chainrule.randn(5, 2, dtype=chainrule.float64) * 0.1)
        opt = optim.SGD([w], lr=0.1)

        def step(x, y):
            opt.zero_grad()
            feats = chainrule.zeros(x.shape[0], 5, dtype=chainrule.float64)
            feats[:, :4] = x
            feats[:, 4] = 1.0
            feats[:, 0] *= 2
            loss = F.mse_loss(feats @ w, y)
            loss.backward()
            opt.step()
            return loss, feats
        return Case(step, lambda: [w, opt])

    same_as_eager(setup)


def test_input_normalized_in_place_changes_the_callers_tensor():
    def setup():
        net = nn.Linear(4, 2).double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            x.sub_(x.mean(0)).div_(x.std(0) + 1e-5)
            y[y > 1.0] = 1.0
            x[:, 1:3] *= 0.5
            return train_step(net, opt)(x, y)
        return Case(step, lambda: [net, opt])

    same_as_eager(setup)


def test_inplace_on_non_view_intermediate_clamp_relu_add_chain():
    def setup():
        fc1, fc2 = nn.Linear(4, 6).double(), nn.Linear(6, 2).double()
        opt = optim.Adam(list(fc1.parameters()) + list(fc2.parameters()), lr=1e-2)

        def step(x, y, lo, hi):
            opt.zero_grad()
            h = fc1(x)
            h.mul_(2.0).add_(0.1).clamp_(lo, hi)
            h.relu_()
            loss = F.mse_loss(fc2(h), y)
            loss.backward()
            opt.step()
            return loss
        values = [(-1.0, 1.0), (-1.0, 1.0), (-0.5, 0.5), (-0.5, 0.5), (-1.0, 2.0), (-1.0, 1.0), (-1.0, 1.0)]
        return Case(step, lambda: [fc1, fc2, opt], inputs=lambda i: default_inputs(i) + values[i])

    same_as_eager(setup)


def test_clone_of_parameter_row_zeroed_then_used_dropconnect_style():
    def setup():
        class Masked(nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = nn.Parameter(chainrule.randn(2, 4) * 0.3)
                self.drop = 0

            def forward(self, x):
                w = self.weight.clone()
                w[:, self.drop] = 0.0
                return x @ w.t()
        net = Masked().double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            net.drop = [0, 0, 1, 1, 3, 0, 0][i]
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- expand views
def test_expand_view_written_in_place_raises_as_eager_on_some_calls():
    def setup():
        net = nn.Linear(4, 3).double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y, bad):
            opt.zero_grad()
            out = net(x)
            base = chainrule.zeros(1, 3, dtype=chainrule.float64)
            shift = base.expand(x.shape[0], 3)
            if bad:
                shift.add_(chainrule.ones(x.shape[0], 3, dtype=chainrule.float64))
            loss = F.mse_loss(out + shift, y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], inputs=lambda i: default_inputs(i, n_out=3) + (i in (2, 5),))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- version counters
def test_sigmoid_output_modified_in_place_raises_version_error_on_flagged_calls():
    def setup():
        fc1, fc2 = nn.Linear(4, 5).double(), nn.Linear(5, 2).double()
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.1)

        def step(x, y, bad):
            opt.zero_grad()
            h = chainrule.sigmoid(fc1(x))
            if bad:
                h.mul_(2.0)
            else:
                h = h * 2.0
            loss = F.mse_loss(fc2(h), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [fc1, fc2, opt], inputs=lambda i: default_inputs(i) + (i in (1, 4),))

    same_as_eager(setup)


def test_exp_output_increased_in_place_raises_but_data_write_does_not():
    def setup():
        w = nn.Parameter(chainrule.randn(4, 2, dtype=chainrule.float64) * 0.2)
        opt = optim.SGD([w], lr=0.05)

        def step(x, y, how):
            opt.zero_grad()
            e = chainrule.exp(x @ w)
            if how == "inplace":
                e += 1.0
            elif how == "data":
                e.data.add_(1.0)
            else:
                e = e + 1.0
            loss = F.mse_loss(chainrule.log(e), y)
            loss.backward()
            opt.step()
            return loss
        hows = ["plain", "data", "inplace", "data", "plain", "inplace", "plain"]
        return Case(step, lambda: [w, opt], inputs=lambda i: default_inputs(i) + (hows[i],))

    same_as_eager(setup)


def test_detached_alias_zeroed_raises_version_error_and_detached_copy_does_not():
    def setup():
        fc1, fc2 = nn.Linear(4, 5).double(), nn.Linear(5, 2).double()
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.1)

        def step(x, y, alias):
            opt.zero_grad()
            h = chainrule.tanh(fc1(x))
            kept = h.detach() if alias else h.detach().clone()
            kept[:, 0] = 0.0
            loss = F.mse_loss(fc2(h), y) + 0.0 * kept.sum()
            loss.backward()
            opt.step()
            return loss, kept
        return Case(step, lambda: [fc1, fc2, opt], inputs=lambda i: default_inputs(i) + (i in (2, 3),))

    same_as_eager(setup)


def test_parameter_scaled_between_forward_and_backward_raises_version_error():
    def setup():
        w = nn.Parameter(chainrule.randn(4, 3, dtype=chainrule.float64))
        opt = optim.SGD([w], lr=0.01)

        def step(x, y, decay_early):
            opt.zero_grad()
            out = chainrule.tanh(x @ w) * w.sum(0)   # w saved for backward by the product
            if decay_early:
                with chainrule.no_grad():
                    w.mul_(0.99)
            loss = F.mse_loss(out, y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [w, opt], inputs=lambda i: default_inputs(i, n_out=3) + (i in (3, 4),))

    same_as_eager(setup)


def test_leaf_requiring_grad_modified_in_place_outside_no_grad_raises():
    def setup():
        w = chainrule.randn(4, 2, dtype=chainrule.float64, requires_grad=True)

        def step(x, y, lr):
            loss = F.mse_loss(x @ w, y)
            loss.backward()
            if lr > 0.2:
                w.sub_(lr * w.grad)          # forgot no_grad: raises
            else:
                with chainrule.no_grad():
                    w.sub_(lr * w.grad)
            w.grad = None
            return loss
        return Case(step, lambda: [w], inputs=lambda i: default_inputs(i) + ([0.1, 0.1, 0.5, 0.1, 0.5, 0.1, 0.1][i],))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- shared storage
def test_tied_encoder_decoder_weight_with_adam():
    def setup():
        class TiedAE(nn.Module):
            def __init__(self):
                super().__init__()
                self.enc = nn.Linear(4, 3)
                self.dec = nn.Linear(3, 4)
                self.dec.weight = nn.Parameter(self.enc.weight.t())   # a parameter viewing another's storage

            def forward(self, x):
                return self.dec(chainrule.tanh(self.enc(x)))
        net = TiedAE().double()
        opt = optim.Adam(net.parameters(), lr=1e-2)

        def step(x, _y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), x)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, opt])

    same_as_eager(setup)


def test_tied_embedding_and_lm_head_same_parameter_with_manual_sgd():
    def setup():
        class TinyLM(nn.Module):
            def __init__(self):
                super().__init__()
                self.wte = nn.Embedding(7, 4)
                self.ln = nn.LayerNorm(4)
                self.lm_head = nn.Linear(4, 7, bias=False)
                self.wte.weight = self.lm_head.weight

            def forward(self, idx):
                return self.lm_head(self.ln(self.wte(idx)))
        net = TinyLM().double()

        def step(idx, targets, lr):
            logits = net(idx)
            loss = F.cross_entropy(logits.view(-1, 7), targets.view(-1))
            loss.backward()
            with chainrule.no_grad():
                for p in net.parameters():
                    p -= lr * p.grad
                    p.grad = None
            return loss

        def inputs(i):
            g = np.random.default_rng(i)
            T = [5, 5, 5, 3, 5, 5, 2][i]
            data = g.integers(0, 7, size=(2, T + 1))
            return chainrule.tensor(data[:, :-1]), chainrule.tensor(data[:, 1:]), [0.5, 0.5, 0.5, 0.5, 0.2, 0.2, 0.2][i]
        return Case(step, lambda: [net], inputs=inputs)

    same_as_eager(setup)


def test_two_parameters_sharing_one_storage_through_data_views():
    def setup():
        base = chainrule.randn(2, 6, dtype=chainrule.float64)
        a = nn.Parameter(base[:, :3])
        b = nn.Parameter(base[:, 3:])
        opt = optim.SGD([a, b], lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(x[:, :3] @ a.t() + chainrule.sin(x[:, 1:] @ b.t()), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [a, b, base, opt], inputs=lambda i: default_inputs(i, n_in=4))

    same_as_eager(setup)


def test_data_alias_taken_before_the_loop_and_written_inside_the_step():
    def setup():
        net = nn.Linear(4, 2).double()
        opt = optim.SGD(net.parameters(), lr=0.1)
        alias = net.weight.data
        snapshot = net.weight.detach()

        def step(x, y, shrink):
            loss = train_step(net, opt)(x, y)
            alias.mul_(shrink)              # the same storage as net.weight
            return loss, snapshot
        return Case(step, lambda: [net, opt, alias, snapshot],
                    inputs=lambda i: default_inputs(i) + ([1.0, 0.9, 0.9, 1.0, 0.5, 0.9, 0.9][i],))

    same_as_eager(setup)


def test_target_network_soft_update_with_lerp_and_copy_in_place():
    def setup():
        online = nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=True), nn.Linear(8, 2)).double()
        target = nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=True), nn.Linear(8, 2)).double()
        target.load_state_dict(online.state_dict())
        for p in target.parameters():
            p.requires_grad_(False)
        opt = optim.Adam(online.parameters(), lr=1e-2)

        def step(x, y, tau, hard):
            opt.zero_grad()
            with chainrule.no_grad():
                bootstrap = target(x)
            loss = F.smooth_l1_loss(online(x), 0.5 * y + 0.5 * bootstrap)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                for tp, op in zip(target.parameters(), online.parameters()):
                    if hard:
                        tp.copy_(op)
                    else:
                        tp.mul_(1 - tau).add_(tau * op)
            return loss
        taus = [0.1, 0.1, 0.1, 0.05, 0.05, 0.1, 0.1]
        return Case(step, lambda: [online, target, opt], inputs=lambda i: default_inputs(i) + (taus[i], i == 4))

    same_as_eager(setup)


def test_reshape_view_of_parameter_updated_with_flat_gradient_vector():
    def setup():
        net = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).double()

        def step(x, y, lr):
            loss = F.mse_loss(net(x), y)
            grads = chainrule.autograd.grad(loss, list(net.parameters()))
            flat = chainrule.cat([g.reshape(-1) for g in grads])
            flat.div_(flat.norm() + 1e-8)
            offset = 0
            with chainrule.no_grad():
                for p in net.parameters():
                    n = p.numel()
                    p.view(-1).sub_(lr * flat[offset:offset + n])
                    offset += n
            return loss, flat
        return Case(step, lambda: [net], inputs=lambda i: default_inputs(i) + ([0.1, 0.1, 0.05, 0.05, 0.1, 0.2, 0.2][i],))

    same_as_eager(setup)


def test_transposed_parameter_view_used_in_forward_and_zeroed_by_narrow_each_step():
    def setup():
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.W = nn.Parameter(chainrule.randn(2, 4) * 0.5)
                self.k = 1

            def forward(self, x):
                return x @ self.W.t()
        net = Net().float()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            loss = train_step(net, opt)(x, y)
            with chainrule.no_grad():
                net.W.t().narrow(0, 4 - net.k, net.k).zero_()
            return loss

        def before(i):
            net.k = [1, 1, 2, 2, 1, 3, 3][i]
        return Case(step, lambda: [net, opt], before=before, inputs=lambda i: default_inputs(i, dtype=np.float32))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- more views of intermediates and leaves
def test_eager_raises_like_pytorch_for_an_unnamed_chain_of_inplace_ops_on_a_saved_output():
    def setup():
        w = nn.Parameter(chainrule.ones(3, dtype=chainrule.float64))

        def step(scale):
            w.grad = None
            loss = (w * scale).sigmoid_().mul_(2).sum()
            loss.backward()
            return loss
        return Case(step, lambda: [w], inputs=lambda i: (float(i + 1),))

    eager, _ = run(False, setup, 2)
    assert eager[0][0] == "raised" and VERSION_ERROR in eager[0][2], eager[0]


def test_intermediate_written_through_transpose_narrow_and_unsqueeze_views():
    def setup():
        fc1, fc2 = nn.Linear(4, 3).double(), nn.Linear(3, 2).double()
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.05)

        def step(x, y, hi):
            opt.zero_grad()
            h = fc1(x) * 1.5
            h.t()[0].mul_(2.0)
            h.narrow(1, 1, 2).clamp_(max=hi)
            h.unsqueeze(0)[0, :, 2].sub_(0.25)
            loss = F.mse_loss(fc2(h), y)
            loss.backward()
            opt.step()
            return loss, h
        return Case(step, lambda: [fc1, fc2, opt], inputs=lambda i: default_inputs(i) + ([0.5, 0.5, 1.0, 1.0, 0.5, 0.2, 0.2][i],))

    same_as_eager(setup)


def test_view_of_intermediate_read_after_base_modified_in_place():
    def setup():
        fc = nn.Linear(4, 3).double()
        opt = optim.Adam(fc.parameters(), lr=1e-2)

        def step(x, y):
            opt.zero_grad()
            h = fc(x)
            head = h[:, :2]
            h.relu_()                         # the view now reads the rectified values
            loss = F.mse_loss(head, y) + 0.1 * h.sum()
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [fc, opt])

    same_as_eager(setup)


def test_straight_through_clamp_in_place_under_no_grad_on_an_intermediate():
    def setup():
        fc1, fc2 = nn.Linear(4, 6).double(), nn.Linear(6, 2).double()
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.1)

        def step(x, y, limit):
            opt.zero_grad()
            h = fc1(x)
            with chainrule.no_grad():
                h.clamp_(-limit, limit)       # gradient passes as if nothing happened
                h[:, 0].zero_()
            loss = F.mse_loss(fc2(h), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [fc1, fc2, opt], inputs=lambda i: default_inputs(i) + ([0.5, 0.5, 0.5, 1.0, 1.0, 0.1, 0.5][i],))

    same_as_eager(setup)


def test_view_of_a_parameter_kept_as_attribute_at_init_follows_the_updates():
    def setup():
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = nn.Parameter(chainrule.randn(3, 4, dtype=chainrule.float64) * 0.5)
                self.first_row = self.weight[0]           # a view kept from __init__
                self.cols = self.weight.t()[1:]

            def forward(self, x):
                return chainrule.stack([x @ self.first_row, (x @ self.cols.t()).sum(1)], 1)
        net = Net()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        return Case(train_step(net, opt), lambda: [net, opt, net.first_row, net.cols])

    same_as_eager(setup)


def test_init_functions_on_parameter_slices_inside_the_step_draw_random_numbers():
    def setup():
        net = nn.Linear(4, 6).double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y, k):
            opt.zero_grad()
            loss = F.mse_loss(net(x)[:, :2], y)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                nn.init.normal_(net.weight[k:k + 2], std=0.01)   # re-initialise dead units
                nn.init.zeros_(net.bias[k:k + 2])
                nn.init.uniform_(net.weight.t()[0], -0.1, 0.1)
            return loss
        return Case(step, lambda: [net, opt], inputs=lambda i: default_inputs(i) + ([2, 2, 4, 4, 2, 3, 3][i],))

    same_as_eager(setup)


def test_magnitude_pruning_masked_fill_on_weights_and_grads():
    def setup():
        net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=True), nn.Linear(8, 2)).double()
        opt = optim.SGD(net.parameters(), lr=0.2, momentum=0.9)

        def step(x, y, threshold):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            for layer in (net[0], net[2]):
                mask = layer.weight.abs() < threshold
                layer.weight.grad.masked_fill_(mask, 0.0)
                with chainrule.no_grad():
                    layer.weight.masked_fill_(mask, 0.0)
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], inputs=lambda i: default_inputs(i) + ([0.05, 0.05, 0.1, 0.1, 0.2, 0.05, 0.05][i],))

    same_as_eager(setup)


def test_overlapping_views_of_one_parameter_added_into_each_other():
    def setup():
        w = nn.Parameter(chainrule.randn(3, 3, dtype=chainrule.float64))
        opt = optim.SGD([w], lr=0.05)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(x[:, :3] @ w, y.repeat(1, 2)[:, :3])
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                w[0].add_(w[:, 0], alpha=0.1)       # row 0 and column 0 share w[0, 0]
                w.t()[1:, 2].mul_(0.99)
            return loss
        return Case(step, lambda: [w, opt])

    same_as_eager(setup)


def test_advanced_index_plus_equals_on_an_intermediate_with_index_tensor():
    def setup():
        fc1, fc2 = nn.Linear(4, 5).double(), nn.Linear(5, 2).double()
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.05)

        def step(x, y, rows):
            opt.zero_grad()
            h = fc1(x)
            h[rows] += 1.0
            h[rows, 1:3] *= 0.5
            loss = F.mse_loss(fc2(chainrule.sigmoid(h)), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            rows = [[0, 2], [0, 2], [1, 3, 4], [0], [4, 1], [1, 2], [0, 2]][i]
            return default_inputs(i) + (chainrule.tensor(rows),)
        return Case(step, lambda: [fc1, fc2, opt], inputs=inputs)

    same_as_eager(setup)


def test_hopfield_style_no_self_connections_by_zeroing_the_diagonal_view():
    def setup():
        W = nn.Parameter(chainrule.randn(4, 4, dtype=chainrule.float64) * 0.3)
        opt = optim.SGD([W], lr=0.05)

        def step(x, y, keep):
            opt.zero_grad()
            loss = F.mse_loss(chainrule.tanh(x @ W)[:, :2], y)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                W.diagonal().mul_(keep)            # 0.0: no self-connections; else shrink them
            return loss
        return Case(step, lambda: [W, opt], inputs=lambda i: default_inputs(i) + ([0.0, 0.0, 0.0, 0.5, 0.5, 0.0, 0.0][i],))

    same_as_eager(setup)
