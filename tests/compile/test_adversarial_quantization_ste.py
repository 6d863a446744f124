"""chainrule.compile against eager execution on QUANTIZATION-AWARE TRAINING and STRAIGHT-THROUGH
ESTIMATORS: fake quantization written by hand (x + (round(x*s)/s - x).detach()), round / floor /
sign / trunc with detach tricks and custom autograd Functions, binarized (BinaryConnect, XNOR) and
ternary (TWN) weights, learned step sizes (LSQ) per tensor and per channel, PACT clipping, DoReFa,
stochastic rounding with rand_like, Quant-Noise with bernoulli masks, observers keeping running
min/max in buffers updated in place under no_grad, enable flags kept in buffers as torch.ao does,
bit widths changed between calls, quantized inference in eval mode, mixed float32/float64.
(chainrule has no fake_quantize_per_tensor_affine: not tested here.)

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, Python side effects and the random stream after each call. A compiled run may
record anew or fall back to eager with at most one warning.
"""
import math

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.harness import Case, lin, same_as_eager, train_step


# ----------------------------------------------------------------------------- inputs
def regress(n=8, d=6, o=3, dtype="float64", sizes=None, seed=700):
    def inputs(i):
        m = sizes[i % len(sizes)] if sizes else n
        g = np.random.default_rng(seed + i)
        return (chainrule.tensor(g.standard_normal((m, d)).astype(dtype)),
                chainrule.tensor(g.standard_normal((m, o)).astype(dtype)))
    return inputs


def classify(n=8, d=6, classes=4, dtype="float64", sizes=None, seed=900):
    def inputs(i):
        m = sizes[i % len(sizes)] if sizes else n
        g = np.random.default_rng(seed + i)
        return (chainrule.tensor(g.standard_normal((m, d)).astype(dtype)),
                chainrule.tensor(g.integers(0, classes, size=m)))
    return inputs


def images(n=4, c=2, hw=5, classes=3, seed=300):
    def inputs(i):
        g = np.random.default_rng(seed + i)
        return (chainrule.tensor(g.standard_normal((n, c, hw, hw))),
                chainrule.tensor(g.integers(0, classes, size=n)))
    return inputs


def sgd_step(model, opt, loss_fn=F.mse_loss, extra=None):
    def step(x, y):
        opt.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        if extra is not None:
            loss = loss + extra()
        loss.backward()
        opt.step()
        return loss, out
    return step


# ----------------------------------------------------------------------------- quantizers
def round_ste(x):
    return x + (chainrule.round(x) - x).detach()


def fake_quant(x, bits, scale=None):
    """Symmetric per-tensor fake quantization with the detach trick."""
    qmax = 2 ** (bits - 1) - 1
    if scale is None:
        scale = x.detach().abs().max().clamp(min=1e-8) / qmax
    q = chainrule.clamp(chainrule.round(x / scale), -qmax - 1, qmax) * scale
    return x + (q - x).detach()


class RoundSTE(chainrule.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return chainrule.round(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class ClippedSignSTE(chainrule.autograd.Function):
    """BNN sign with the hardtanh-clipped straight-through gradient (Hubara et al.)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return chainrule.where(x >= 0, chainrule.ones_like(x), -chainrule.ones_like(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).to(grad.dtype)


class QuantLinear(nn.Linear):
    def __init__(self, i, o, bits=8, act_bits=None, bias=True):
        super().__init__(i, o, bias=bias)
        self.bits, self.act_bits = bits, act_bits

    def forward(self, x):
        if self.act_bits is not None:
            x = fake_quant(x, self.act_bits)
        return F.linear(x, fake_quant(self.weight, self.bits), self.bias)


# ----------------------------------------------------------------------------- hand-written fake quant


def test_bit_width_python_int_changed_between_calls():
    def setup():
        q1, q2 = QuantLinear(6, 8, bits=8, act_bits=8), QuantLinear(8, 3, bits=8)
        model = nn.Sequential(q1, nn.Tanh(), q2).double()
        opt = optim.Adam(model.parameters(), lr=0.01)
        schedule = [8, 8, 4, 4, 2, 8, 3]

        def before(i):
            q1.bits = q2.bits = schedule[i]
            q1.act_bits = schedule[i] + 1

        return Case(sgd_step(model, opt), lambda: [model, opt], inputs=regress(), before=before)

    same_as_eager(setup, calls=7)


def test_activation_fake_quant_hardtanh_float32_adam():
    class Net(nn.Module):
        def __init__(self, bits=4):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(6, 10), nn.Linear(10, 3)
            self.bits = bits

        def forward(self, x):
            h = F.hardtanh(self.fc1(x))
            levels = 2 ** self.bits - 1
            h = h + (chainrule.round((h + 1) / 2 * levels) / levels * 2 - 1 - h).detach()
            return self.fc2(h)

    def setup():
        model = Net()
        opt = optim.Adam(model.parameters(), lr=0.02)
        return Case(sgd_step(model, opt), lambda: [model, opt], inputs=regress(dtype="float32"))

    same_as_eager(setup, calls=6)


def test_custom_function_round_ste_and_clipped_sign():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(6, 8), nn.Linear(8, 4)
            self.scale = 4.0

        def forward(self, x):
            h = RoundSTE.apply(self.fc1(x) * self.scale) / self.scale
            h = ClippedSignSTE.apply(h)
            return self.fc2(h)

    def setup():
        model = Net().double()
        opt = optim.SGD(model.parameters(), lr=0.05)

        def before(i):
            model.scale = [4.0, 4.0, 8.0, 2.0, 2.0, 16.0][i]

        return Case(sgd_step(model, opt, F.cross_entropy), lambda: [model, opt], inputs=classify(), before=before)

    same_as_eager(setup, calls=6)


def test_round_with_decimals_and_trunc_floor_ste():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(6, 3)
            self.mode = "round"

        def forward(self, x):
            w = self.weight_q()
            return F.linear(x, w, self.fc.bias)

        def weight_q(self):
            w = self.fc.weight
            if self.mode == "round":
                q = chainrule.round(w, decimals=1)
            elif self.mode == "trunc":
                q = chainrule.trunc(w * 8) / 8
            else:
                q = chainrule.floor(w * 8 + 0.5) / 8
            return w + (q - w).detach()

    def setup():
        model = Net().double()
        opt = optim.SGD(model.parameters(), lr=0.2)

        def before(i):
            model.mode = ["round", "trunc", "floor", "round", "floor", "trunc"][i]

        return Case(sgd_step(model, opt), lambda: [model, opt], inputs=regress(), before=before)

    same_as_eager(setup, calls=6)


def test_asymmetric_uint8_with_zero_point_tensor():
    def quant_asym(x, bits):
        qmin, qmax = 0, 2 ** bits - 1
        lo, hi = x.detach().min().clamp(max=0.0), x.detach().max().clamp(min=0.0)
        scale = (hi - lo).clamp(min=1e-8) / (qmax - qmin)
        zero = chainrule.round(qmin - lo / scale).clamp(qmin, qmax)
        q = (chainrule.clamp(chainrule.round(x / scale) + zero, qmin, qmax) - zero) * scale
        return x + (q - x).detach()

    def setup():
        fc1, fc2 = lin(6, 8), lin(8, 3)
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.05)
        bits = {"n": 8}

        def step(x, y):
            opt.zero_grad()
            h = quant_asym(F.relu(fc1(x)), bits["n"])
            loss = F.mse_loss(fc2(h), y)
            loss.backward()
            opt.step()
            return loss, h

        def before(i):
            bits["n"] = [8, 8, 4, 4, 2, 3][i]

        return Case(step, lambda: [fc1, fc2, opt], inputs=regress(), before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- binary / ternary
class BinaryLinear(nn.Linear):
    """XNOR-Net style: sign(W) * mean|W| per output channel, STE on sign, binarized inputs."""

    def __init__(self, i, o, binarize_input=True):
        super().__init__(i, o, bias=False)
        self.binarize_input = binarize_input

    def forward(self, x):
        w = self.weight
        alpha = w.abs().mean(dim=1, keepdim=True).detach()
        wb = w + (chainrule.sign(w) * alpha - w).detach()
        if self.binarize_input:
            x = F.hardtanh(x)
            x = x + (chainrule.sign(x) - x).detach()
        return F.linear(x, wb)


def test_xnor_binary_linear_with_batchnorm():
    def setup():
        model = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), BinaryLinear(16, 16),
                              nn.BatchNorm1d(16), BinaryLinear(16, 4)).double()
        opt = optim.Adam(model.parameters(), lr=0.01)
        return Case(sgd_step(model, opt, F.cross_entropy), lambda: [model, opt], inputs=classify())

    same_as_eager(setup, calls=6)


def test_binaryconnect_swap_data_and_clip_latent_weights():
    """The BinaryConnect recipe of the tutorials: keep the real weights in p.org, put sign(p) in
    p.data for forward/backward, restore, step, then clip the latent weights in place."""

    def setup():
        model = nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 4)).double()
        opt = optim.SGD(model.parameters(), lr=0.05)
        weights = [p for n, p in model.named_parameters() if n.endswith("weight")]

        def step(x, y):
            for p in weights:
                if not hasattr(p, "org"):
                    p.org = p.data.clone()
                p.org.copy_(p.data)
                p.data = chainrule.sign(p.data)
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            for p in weights:
                p.data.copy_(p.org)
            opt.step()
            for p in weights:
                p.org.copy_(p.data.clamp_(-1, 1))
            return loss

        return Case(step, lambda: [model, opt], inputs=classify())

    same_as_eager(setup, calls=6)


class TernaryLinear(nn.Linear):
    """TWN: threshold 0.7 * mean|W|, alpha = mean of |W| over the kept entries."""

    def __init__(self, i, o, ratio=0.7):
        super().__init__(i, o)
        self.ratio = ratio

    def forward(self, x):
        w = self.weight
        with chainrule.no_grad():
            delta = self.ratio * w.abs().mean()
            mask = (w.abs() > delta).to(w.dtype)
            alpha = (w.abs() * mask).sum() / mask.sum().clamp(min=1.0)
            wt = alpha * chainrule.sign(w) * mask
        return F.linear(x, w + (wt - w).detach(), self.bias)


def test_ternary_weight_network_ratio_changed():
    def setup():
        t1, t2 = TernaryLinear(6, 12), TernaryLinear(12, 4)
        model = nn.Sequential(t1, nn.ReLU(), t2).double()
        opt = optim.SGD(model.parameters(), lr=0.1, weight_decay=1e-4)

        def before(i):
            t1.ratio = t2.ratio = [0.7, 0.7, 0.5, 0.9, 0.9, 0.7][i]

        return Case(sgd_step(model, opt, F.cross_entropy), lambda: [model, opt], inputs=classify(), before=before)

    same_as_eager(setup, calls=6)


def test_ternary_activation_with_where_and_threshold_float32():
    def ternary(x, t=0.5):
        q = chainrule.where(x > t, 1.0, chainrule.where(x < -t, -1.0, 0.0)).to(x.dtype)
        return x + (q - x).detach()

    def setup():
        fc1, fc2 = nn.Linear(6, 10), nn.Linear(10, 3)
        opt = optim.RMSprop(list(fc1.parameters()) + list(fc2.parameters()), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            out = fc2(ternary(F.hardtanh(fc1(x))))
            loss = F.mse_loss(out, y)
            loss.backward()
            opt.step()
            return loss, out

        return Case(step, lambda: [fc1, fc2, opt], inputs=regress(dtype="float32"))

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- LSQ / PACT / DoReFa
def grad_scale(x, scale):
    y = x * scale
    return (x - y).detach() + y


class LSQQuantizer(nn.Module):
    """Learned Step Size Quantization (Esser et al.), step initialized from the first batch."""

    def __init__(self, bits=4, signed=True, per_channel=0):
        super().__init__()
        self.bits, self.signed = bits, signed
        shape = (per_channel, 1) if per_channel else ()
        self.step = nn.Parameter(chainrule.ones(shape))
        self.initialized = False

    def forward(self, x):
        if self.signed:
            qn, qp = -(2 ** (self.bits - 1)), 2 ** (self.bits - 1) - 1
        else:
            qn, qp = 0, 2 ** self.bits - 1
        if not self.initialized:
            with chainrule.no_grad():
                if self.step.dim() == 0:
                    self.step.copy_(2 * x.abs().mean() / math.sqrt(qp))
                else:
                    self.step.copy_(2 * x.abs().mean(dim=1, keepdim=True) / math.sqrt(qp))
            self.initialized = True
        g = 1.0 / math.sqrt(x.numel() * qp)
        s = grad_scale(self.step, g)
        return round_ste(chainrule.clamp(x / s, qn, qp)) * s


class LSQLinear(nn.Linear):
    def __init__(self, i, o, bits=4, per_channel=False):
        super().__init__(i, o)
        self.wq = LSQQuantizer(bits, signed=True, per_channel=o if per_channel else 0)
        self.aq = LSQQuantizer(bits, signed=False)

    def forward(self, x):
        return F.linear(self.aq(x), self.wq(self.weight), self.bias)


def test_lsq_step_initialized_from_first_batch():
    def setup():
        model = nn.Sequential(nn.Linear(6, 10), nn.ReLU(), LSQLinear(10, 3)).double()
        opt = optim.Adam(model.parameters(), lr=0.01)
        return Case(sgd_step(model, opt), lambda: [model, opt], inputs=regress())

    same_as_eager(setup, calls=7)


def test_lsq_per_channel_step_parameters_bits_changed():
    def setup():
        q = LSQLinear(10, 4, bits=4, per_channel=True)
        model = nn.Sequential(nn.Linear(6, 10), nn.ReLU(), q).double()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        def before(i):
            q.wq.bits = q.aq.bits = [4, 4, 3, 3, 2, 4][i]

        return Case(sgd_step(model, opt, F.cross_entropy), lambda: [model, opt], inputs=classify(), before=before)

    same_as_eager(setup, calls=6)


class PACT(nn.Module):
    """PACT: y = clamp(x, 0, alpha) with a learned alpha, then k-bit uniform quantization."""

    def __init__(self, bits=4, alpha=6.0):
        super().__init__()
        self.bits = bits
        self.alpha = nn.Parameter(chainrule.tensor(alpha))

    def forward(self, x):
        y = 0.5 * (x.abs() - (x - self.alpha).abs() + self.alpha)
        scale = (2 ** self.bits - 1) / self.alpha
        return y + (chainrule.round(y * scale) / scale - y).detach()


def test_pact_alpha_via_clamp_with_tensor_bounds_float32():
    class ClampPACT(nn.Module):
        def __init__(self):
            super().__init__()
            self.alpha = nn.Parameter(chainrule.tensor(3.0))
            self.bits = 4

        def forward(self, x):
            y = chainrule.minimum(F.relu(x), self.alpha)
            s = self.alpha.detach() / (2 ** self.bits - 1)
            return y + (chainrule.round(y / s) * s - y).detach()

    def setup():
        act = ClampPACT()
        model = nn.Sequential(nn.Linear(6, 8), act, nn.Linear(8, 3))
        opt = optim.Adam(model.parameters(), lr=0.05)

        def before(i):
            act.bits = [4, 4, 2, 8, 2, 4][i]

        return Case(sgd_step(model, opt), lambda: [model, opt], inputs=regress(dtype="float32"), before=before)

    same_as_eager(setup, calls=6)


def test_dorefa_weight_quantization_with_tanh():
    def dorefa_w(w, k):
        n = 2 ** k - 1
        t = chainrule.tanh(w)
        t = t / (2 * t.abs().max().detach()) + 0.5
        return 2 * (t + (chainrule.round(t * n) / n - t).detach()) - 1

    def setup():
        fc1, fc2 = lin(6, 10), lin(10, 4)
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.1, nesterov=True, momentum=0.9)
        state = {"k": 2}

        def step(x, y):
            opt.zero_grad()
            h = F.relu(F.linear(x, dorefa_w(fc1.weight, state["k"]), fc1.bias))
            logits = F.linear(h, dorefa_w(fc2.weight, state["k"]), fc2.bias)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            return loss, logits.argmax(1)

        def before(i):
            state["k"] = [2, 2, 3, 1, 1, 2][i]

        return Case(step, lambda: [fc1, fc2, opt], inputs=classify(), before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- stochastic rounding / noise
def test_stochastic_rounding_with_rand_like():
    def stochastic_quant(x, bits):
        scale = x.detach().abs().max() / (2 ** (bits - 1) - 1)
        v = x / scale
        q = chainrule.floor(v + chainrule.rand_like(v)) * scale
        return x + (q - x).detach()

    def setup():
        fc1, fc2 = lin(6, 8), lin(8, 3)
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            h = stochastic_quant(F.relu(fc1(x)), 4)
            out = F.linear(h, stochastic_quant(fc2.weight, 4), fc2.bias)
            loss = F.mse_loss(out, y)
            loss.backward()
            opt.step()
            return loss, out

        return Case(step, lambda: [fc1, fc2, opt], inputs=regress())

    same_as_eager(setup, calls=6)


def test_quant_noise_bernoulli_mask_on_weights():
    class QuantNoiseLinear(nn.Linear):
        def __init__(self, i, o, p=0.5, bits=4):
            super().__init__(i, o)
            self.p, self.bits = p, bits

        def forward(self, x):
            w = self.weight
            if self.training:
                mask = chainrule.bernoulli(chainrule.full_like(w, self.p))
                qw = fake_quant(w, self.bits)
                w = w + ((qw - w) * mask).detach()
            else:
                w = fake_quant(w, self.bits)
            return F.linear(x, w, self.bias)

    def setup():
        q = QuantNoiseLinear(6, 4, p=0.5)
        model = nn.Sequential(q).double()
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            if model.training:
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                return loss
            with chainrule.no_grad():
                return model(x).argmax(1)

        def before(i):
            q.p = [0.5, 0.5, 0.25, 1.0, 0.25, 0.5, 0.5][i]
            model.train(i != 5)

        return Case(step, lambda: [model, opt], inputs=classify(), before=before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- observers
class MinMaxObserver(nn.Module):
    def __init__(self, bits=8, dtype=chainrule.float64):
        super().__init__()
        self.bits = bits
        self.register_buffer("min_val", chainrule.tensor(float("inf"), dtype=dtype))
        self.register_buffer("max_val", chainrule.tensor(float("-inf"), dtype=dtype))

    def forward(self, x):
        if self.training:
            with chainrule.no_grad():
                self.min_val.copy_(chainrule.minimum(self.min_val, x.min()))
                self.max_val.copy_(chainrule.maximum(self.max_val, x.max()))
        qmax = 2 ** self.bits - 1
        scale = ((self.max_val - self.min_val) / qmax).clamp(min=1e-8)
        zero = chainrule.round(-self.min_val / scale)
        q = (chainrule.clamp(chainrule.round(x / scale) + zero, 0, qmax) - zero) * scale
        return x + (q - x).detach()


def obs_net(obs_dtype=chainrule.float64, bits=8):
    obs = MinMaxObserver(bits, dtype=obs_dtype)
    return nn.Sequential(nn.Linear(6, 10), nn.ReLU(), obs, nn.Linear(10, 3)).double(), obs


def test_minmax_observer_buffers_in_place_under_no_grad():
    def setup():
        model, obs = obs_net()
        opt = optim.SGD(model.parameters(), lr=0.05)
        return Case(sgd_step(model, opt), lambda: [model, opt], inputs=regress())

    same_as_eager(setup, calls=6)


def test_observer_train_then_quantized_eval_inference():
    def setup():
        model, obs = obs_net(bits=4)
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            if model.training:
                opt.zero_grad()
                loss = F.mse_loss(model(x), y)
                loss.backward()
                opt.step()
                return loss
            with chainrule.no_grad():
                return model(x)

        def before(i):
            model.train(i not in (3, 4, 6))

        return Case(step, lambda: [model, opt], inputs=regress(), before=before)

    same_as_eager(setup, calls=7)


def test_observer_rebinds_buffers_instead_of_copy():
    class RebindObserver(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("lo", chainrule.tensor(0.0, dtype=chainrule.float64))
            self.register_buffer("hi", chainrule.tensor(0.0, dtype=chainrule.float64))

        def forward(self, x):
            with chainrule.no_grad():
                self.lo = chainrule.minimum(self.lo, x.detach().min())
                self.hi = chainrule.maximum(self.hi, x.detach().max())
            scale = (self.hi - self.lo) / 15
            q = chainrule.round((x - self.lo) / scale) * scale + self.lo
            return x + (q - x).detach()

    def setup():
        obs = RebindObserver()
        model = nn.Sequential(nn.Linear(6, 8), obs, nn.Linear(8, 3)).double()
        opt = optim.SGD(model.parameters(), lr=0.05)
        return Case(sgd_step(model, opt), lambda: [model, opt, obs.lo, obs.hi], inputs=regress())

    same_as_eager(setup, calls=6)


def test_fake_quant_enabled_flags_in_uint8_buffers_like_torch_ao():
    class FakeQuantize(nn.Module):
        def __init__(self, bits=8):
            super().__init__()
            self.bits = bits
            self.register_buffer("fake_quant_enabled", chainrule.tensor([1], dtype=chainrule.uint8))
            self.register_buffer("observer_enabled", chainrule.tensor([1], dtype=chainrule.uint8))
            self.register_buffer("scale", chainrule.tensor([1.0]))
            self.register_buffer("amax", chainrule.tensor([0.0]))

        def forward(self, x):
            if self.observer_enabled[0] == 1:
                with chainrule.no_grad():
                    self.amax.copy_(chainrule.maximum(self.amax, x.detach().abs().max()))
                    self.scale.copy_(self.amax / (2 ** (self.bits - 1) - 1))
            if self.fake_quant_enabled[0] == 1:
                x = x + (chainrule.round(x / self.scale) * self.scale - x).detach()
            return x

    def setup():
        fq = FakeQuantize()
        model = nn.Sequential(nn.Linear(6, 8), fq, nn.ReLU(), nn.Linear(8, 3)).double()
        opt = optim.SGD(model.parameters(), lr=0.05)

        def before(i):
            fq.observer_enabled[0] = 0 if i >= 3 else 1   # freeze the observer after 3 steps
            fq.fake_quant_enabled[0] = 0 if i == 4 else 1

        return Case(sgd_step(model, opt), lambda: [model, opt], inputs=regress(), before=before)

    same_as_eager(setup, calls=7)


def test_float32_observer_buffers_with_float64_model():
    def setup():
        model, obs = obs_net(obs_dtype=chainrule.float32)
        opt = optim.SGD(model.parameters(), lr=0.05)
        return Case(sgd_step(model, opt), lambda: [model, opt], inputs=regress())

    same_as_eager(setup, calls=6)


def test_percentile_clipping_observer_with_quantile_and_kthvalue():
    def setup():
        model = lin(6, 3)
        opt = optim.SGD(model.parameters(), lr=0.1)
        state = {"q": 0.9}

        def step(x, y):
            opt.zero_grad()
            with chainrule.no_grad():
                amax = chainrule.quantile(x.abs().flatten(), state["q"])
                k = max(1, int(0.5 * x.numel()))
                med = x.abs().flatten().kthvalue(k).values
            xc = chainrule.clamp(x, -amax, amax)
            s = amax / 7
            xq = xc + (chainrule.round(xc / s) * s - xc).detach()
            loss = F.mse_loss(model(xq), y) + 0 * med
            loss.backward()
            opt.step()
            return loss, med

        def before(i):
            state["q"] = [0.9, 0.9, 0.99, 0.5, 0.5, 0.9][i]

        return Case(step, lambda: [model, opt], inputs=regress(), before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- convolutions, mixed dtypes
class QConv2d(nn.Conv2d):
    """Per-output-channel symmetric fake quantization of the conv weight."""

    def __init__(self, *a, bits=8, **kw):
        super().__init__(*a, **kw)
        self.bits = bits

    def forward(self, x):
        w = self.weight
        qmax = 2 ** (self.bits - 1) - 1
        scale = w.detach().abs().amax(dim=(1, 2, 3), keepdim=True).clamp(min=1e-8) / qmax
        wq = w + (chainrule.round(w / scale).clamp(-qmax - 1, qmax) * scale - w).detach()
        return self._conv_forward(x, wq, self.bias) if hasattr(self, "_conv_forward") else F.conv2d(
            x, wq, self.bias, self.stride, self.padding)


def test_per_channel_quantized_conv_bn_relu():
    def setup():
        conv = QConv2d(2, 4, 3, padding=1, bits=4)
        model = nn.Sequential(conv, nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                              nn.Linear(4, 3)).double()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        def before(i):
            conv.bits = [4, 4, 4, 8, 8, 2][i]

        return Case(sgd_step(model, opt, F.cross_entropy), lambda: [model, opt], inputs=images(), before=before)

    same_as_eager(setup, calls=6)


def test_per_channel_scale_parameters_float32_model_float64_scales():
    class ScaledQuantLinear(nn.Module):
        def __init__(self, i, o):
            super().__init__()
            self.fc = nn.Linear(i, o)
            self.log_scale = nn.Parameter(chainrule.full((o, 1), -3.0, dtype=chainrule.float64))

        def forward(self, x):
            s = chainrule.exp(self.log_scale)
            w = self.fc.weight
            q = round_ste((w / s).clamp(-8, 7)) * s
            return F.linear(x, q.to(x.dtype), self.fc.bias)

    def setup():
        model = ScaledQuantLinear(6, 3)
        opt = optim.Adam(model.parameters(), lr=0.01)
        return Case(sgd_step(model, opt), lambda: [model, opt], inputs=regress(dtype="float32"))

    same_as_eager(setup, calls=6)


def test_mixed_dtype_inputs_between_calls_same_quantizer():
    def setup():
        model = nn.Sequential(QuantLinear(6, 6, bits=4, act_bits=6), nn.ReLU(), QuantLinear(6, 3, bits=4))
        opt = optim.SGD(model.parameters(), lr=0.05)

        def inputs(i):
            dtype = "float64" if i in (2, 3) else "float32"
            x, y = regress(dtype=dtype)(i)
            return x, y

        def before(i):
            if i == 2:
                model.double()
            if i == 4:
                model.float()

        return Case(sgd_step(model, opt), lambda: [model, opt], inputs=inputs, before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- training loop details
def test_lr_and_batch_size_changed_with_fake_quant():
    def setup():
        model = nn.Sequential(QuantLinear(6, 8, bits=4, act_bits=4), nn.GELU(), QuantLinear(8, 3, bits=4)).double()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def before(i):
            for g in opt.param_groups:
                g["lr"] = [0.1, 0.1, 0.05, 0.05, 0.01, 0.2][i]

        return Case(sgd_step(model, opt), lambda: [model, opt],
                    inputs=regress(sizes=[8, 8, 5, 8, 3, 5]), before=before)

    same_as_eager(setup, calls=6)


def test_compiled_quantized_module_forward_only_eval():
    def setup():
        model, obs = obs_net(bits=4)
        model.eval()
        compiled_forward = {"f": None}

        def step(x, y):
            with chainrule.no_grad():
                out = model(x)
            return out, F.mse_loss(out, y)

        def before(i):
            if i == 2:
                with chainrule.no_grad():
                    obs.min_val.fill_(-0.5)
                    obs.max_val.fill_(2.0)
            if i == 4:
                obs.bits = 2

        del compiled_forward
        return Case(step, lambda: [model], inputs=regress(), before=before)

    same_as_eager(setup, calls=6)


def test_straight_through_sign_via_heaviside_and_sgn():
    def setup():
        fc1, fc2 = lin(6, 8), lin(8, 3)
        opt = optim.Adagrad(list(fc1.parameters()) + list(fc2.parameters()), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            h = F.hardtanh(fc1(x))
            b = 2 * chainrule.heaviside(h, chainrule.tensor(1.0, dtype=h.dtype)) - 1
            h = h + (b - h).detach()
            w = fc2.weight
            w = w + (chainrule.sgn(w) * w.abs().mean().detach() - w).detach()
            out = F.linear(h, w, fc2.bias)
            loss = F.mse_loss(out, y)
            loss.backward()
            opt.step()
            return loss, out

        return Case(step, lambda: [fc1, fc2, opt], inputs=regress())

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- more adversarial state
def test_random_bit_width_per_step_from_python_random():
    """Any-precision / random-precision training: the bit width is drawn by Python's random module."""
    import random

    def setup():
        rng = random.Random(0)
        model = nn.Sequential(QuantLinear(6, 8, bits=8), nn.ReLU(), QuantLinear(8, 3, bits=8)).double()
        opt = optim.SGD(model.parameters(), lr=0.05)
        drawn = []

        def step(x, y):
            bits = rng.choice([2, 3, 4, 8])
            drawn.append(bits)
            for m in model:
                if isinstance(m, QuantLinear):
                    m.bits = bits
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [model, opt, drawn], inputs=regress())

    same_as_eager(setup, calls=6)


def test_scale_plain_tensor_attribute_changed_in_place_between_calls():
    class Q(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(6, 3)
            self.scale = chainrule.tensor(0.1, dtype=chainrule.float64)   # not a buffer

        def forward(self, x):
            w = self.fc.weight
            return F.linear(x, w + (chainrule.round(w / self.scale) * self.scale - w).detach(), self.fc.bias)

    def setup():
        model = Q().double()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def before(i):
            model.scale.fill_([0.1, 0.1, 0.05, 0.3, 0.3, 0.02][i])

        return Case(sgd_step(model, opt), lambda: [model, opt], inputs=regress(), before=before)

    same_as_eager(setup, calls=6)


def test_bits_kept_in_integer_buffer_changed_in_place():
    class Q(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(6, 3)
            self.register_buffer("bits", chainrule.tensor(8))

        def forward(self, x):
            w = self.fc.weight
            qmax = (2 ** (self.bits - 1) - 1).to(w.dtype)
            s = w.detach().abs().max() / qmax
            return F.linear(x, w + (chainrule.round(w / s) * s - w).detach(), self.fc.bias)

    def setup():
        model = Q().double()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def before(i):
            model.bits.fill_([8, 8, 4, 4, 2, 8][i])

        return Case(sgd_step(model, opt), lambda: [model, opt], inputs=regress(), before=before)

    same_as_eager(setup, calls=6)


def test_custom_function_with_python_bits_argument_and_ctx_attribute():
    class FakeQuantFn(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x, bits, clip):
            qmax = 2 ** (bits - 1) - 1
            s = clip / qmax
            ctx.clip = clip
            ctx.save_for_backward(x)
            return chainrule.round(x.clamp(-clip, clip) / s) * s

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * (x.abs() <= ctx.clip).to(grad.dtype), None, None

    def setup():
        fc1, fc2 = lin(6, 8), lin(8, 3)
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.05)
        cfg = {"bits": 4, "clip": 1.0}

        def step(x, y):
            opt.zero_grad()
            h = FakeQuantFn.apply(fc1(x), cfg["bits"], cfg["clip"])
            loss = F.mse_loss(fc2(h), y)
            loss.backward()
            opt.step()
            return loss, h

        def before(i):
            cfg["bits"] = [4, 4, 2, 8, 8, 3][i]
            cfg["clip"] = [1.0, 0.5, 0.5, 2.0, 1.0, 1.0][i]

        return Case(step, lambda: [fc1, fc2, opt], inputs=regress(), before=before)

    same_as_eager(setup, calls=6)


def test_intermediate_in_place_round_under_no_grad():
    def setup():
        fc1, fc2 = lin(6, 8), lin(8, 3)
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            h = chainrule.sigmoid(fc1(x))
            with chainrule.no_grad():
                h.mul_(7).round_().div_(7)
            loss = F.mse_loss(fc2(h), y)
            loss.backward()
            opt.step()
            return loss, h

        return Case(step, lambda: [fc1, fc2, opt], inputs=regress())

    same_as_eager(setup, calls=6)


def test_weights_snapped_to_grid_between_calls_via_data_rebinding():
    def setup():
        model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).double()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        def before(i):
            if i in (2, 4):
                for p in model.parameters():
                    p.data = chainrule.round(p.data * 16) / 16

        return Case(train_step(model, opt), lambda: [model, opt], inputs=regress(), before=before)

    same_as_eager(setup, calls=6)


def test_convert_swaps_linear_for_quantized_module_between_calls():
    def setup():
        model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).double()
        opt = optim.SGD(model.parameters(), lr=0.05)

        def before(i):
            if i == 3:   # prepare_qat: swap in QuantLinear sharing the same parameters
                for idx in (0, 2):
                    old = model[idx]
                    new = QuantLinear(old.in_features, old.out_features, bits=4).double()
                    new.weight, new.bias = old.weight, old.bias
                    model[idx] = new

        return Case(train_step(model, opt), lambda: [model, opt], inputs=regress(), before=before)

    same_as_eager(setup, calls=6)


def test_fake_quant_forward_hook_added_and_removed_between_calls():
    def setup():
        model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).double()
        opt = optim.SGD(model.parameters(), lr=0.05)
        handles = []

        def quant_hook(module, inputs, output):
            return output + (chainrule.round(output * 8) / 8 - output).detach()

        def before(i):
            if i == 2:
                handles.append(model[1].register_forward_hook(quant_hook))
            if i == 4:
                handles.pop().remove()

        return Case(train_step(model, opt), lambda: [model, opt], inputs=regress(), before=before)

    same_as_eager(setup, calls=6)


def test_observer_as_forward_pre_hook_updating_buffers():
    def setup():
        model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).double()
        model[2].register_buffer("act_max", chainrule.zeros((), dtype=chainrule.float64))

        def observe_hook(module, inputs):
            (x,) = inputs
            with chainrule.no_grad():
                module.act_max.copy_(chainrule.maximum(module.act_max, x.abs().max()))
            s = module.act_max / 127
            return (x + (chainrule.round(x / s) * s - x).detach(),)

        model[2].register_forward_pre_hook(observe_hook)
        opt = optim.Adam(model.parameters(), lr=0.01)
        return Case(train_step(model, opt), lambda: [model, opt], inputs=regress())

    same_as_eager(setup, calls=6)


def test_stochastic_rounding_with_own_generator():
    def setup():
        g = chainrule.Generator().manual_seed(7)
        model = lin(6, 3)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            w = model.weight * 8
            q = chainrule.floor(w + chainrule.rand(w.shape, generator=g, dtype=w.dtype)) / 8
            loss = F.mse_loss(F.linear(x, model.weight + (q - model.weight).detach(), model.bias), y)
            loss.backward()
            opt.step()
            return loss, q

        def before(i):
            if i == 3:
                g.manual_seed(7)

        return Case(step, lambda: [model, opt], inputs=regress())

    same_as_eager(setup, calls=6)


def test_half_precision_simulation_ste_float16_bfloat16():
    def setup():
        fc1, fc2 = lin(6, 8), lin(8, 3)
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.05)
        cfg = {"dtype": chainrule.float16}

        def step(x, y):
            opt.zero_grad()
            h = fc1(x)
            h = h + (h.to(cfg["dtype"]).to(h.dtype) - h).detach()
            loss = F.mse_loss(fc2(h), y)
            loss.backward()
            opt.step()
            return loss, h

        def before(i):
            cfg["dtype"] = chainrule.bfloat16 if i >= 3 else chainrule.float16

        return Case(step, lambda: [fc1, fc2, opt], inputs=regress())

    same_as_eager(setup, calls=6)


def test_kmeans_codebook_weight_sharing_with_argmin():
    """Deep Compression style weight sharing: each weight uses its nearest centroid; the centroids
    are parameters that get the summed gradient of their weights."""

    class SharedLinear(nn.Module):
        def __init__(self, i, o, k=4):
            super().__init__()
            self.fc = nn.Linear(i, o)
            self.centroids = nn.Parameter(chainrule.linspace(-0.4, 0.4, k))

        def forward(self, x):
            w = self.fc.weight
            idx = (w.detach().unsqueeze(-1) - self.centroids.detach()).abs().argmin(-1)
            shared = self.centroids[idx]
            return F.linear(x, shared, self.fc.bias)

    def setup():
        model = SharedLinear(6, 3).double()
        opt = optim.SGD(model.parameters(), lr=0.05)
        return Case(sgd_step(model, opt), lambda: [model, opt], inputs=regress())

    same_as_eager(setup, calls=6)


def test_integer_inference_int32_matmul_in_eval():
    def setup():
        model = lin(6, 3)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            if model.training:
                opt.zero_grad()
                loss = F.mse_loss(F.linear(x, fake_quant(model.weight, 8), model.bias), y)
                loss.backward()
                opt.step()
                return loss
            with chainrule.inference_mode():
                sw = model.weight.abs().max() / 127
                sx = x.abs().max() / 127
                wq = chainrule.round(model.weight / sw).to(chainrule.int32)
                xq = chainrule.round(x / sx).to(chainrule.int32)
                acc = xq @ wq.t()
                return acc, acc.to(x.dtype) * (sw * sx) + model.bias

        def before(i):
            model.train(i % 2 == 0)

        return Case(step, lambda: [model, opt], inputs=regress())

    same_as_eager(setup, calls=6)


def test_optimizer_param_group_for_scales_added_later():
    def setup():
        pact = PACT(bits=4, alpha=3.0)
        model = nn.Sequential(nn.Linear(6, 8), pact, nn.Linear(8, 3)).double()
        body = [p for n, p in model.named_parameters() if not n.endswith("alpha")]
        opt = optim.SGD(body, lr=0.05)

        def before(i):
            if i == 3:
                opt.add_param_group({"params": [pact.alpha], "lr": 0.01})

        return Case(train_step(model, opt), lambda: [model, opt], inputs=regress(), before=before)

    same_as_eager(setup, calls=6)


STE_CLIP = 1.0


class GlobalClipSTE(chainrule.autograd.Function):
    """An STE whose backward reads a module-level clipping threshold."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return chainrule.round(x * 4) / 4

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= STE_CLIP).to(grad.dtype)


def test_custom_ste_backward_reads_module_global_changed_between_calls():
    def setup():
        global STE_CLIP
        STE_CLIP = 1.0
        fc1, fc2 = lin(6, 8), lin(8, 3)
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(fc2(GlobalClipSTE.apply(fc1(x))), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            global STE_CLIP
            STE_CLIP = [1.0, 1.0, 0.5, 0.5, 2.0, 0.1][i]

        return Case(step, lambda: [fc1, fc2, opt], inputs=regress(), before=before)

    same_as_eager(setup, calls=6)


def test_bnn_grad_mask_on_latent_weights_and_clamp_after_step():
    """Courbariaux et al.'s BNN loop: swap in sign(W), backward, restore, cancel the gradient
    where |W| > 1 through p.grad.data, step, clip."""

    def setup():
        model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
        opt = optim.Adam(model.parameters(), lr=0.05)
        ws = [model[0].weight, model[2].weight]

        def step(x, y):
            opt.zero_grad()
            saved = [w.data.clone() for w in ws]
            for w in ws:
                w.data.copy_(chainrule.sign(w.data))
            loss = F.mse_loss(model(x), y)
            loss.backward()
            for w, s in zip(ws, saved):
                w.data.copy_(s)
                w.grad.data *= (w.data.abs() <= 1).to(w.dtype)
            opt.step()
            for w in ws:
                w.data.clamp_(-1, 1)
            return loss

        return Case(step, lambda: [model, opt], inputs=regress())

    same_as_eager(setup, calls=6)


class ConvBnQAT(nn.Module):
    """torch.ao's ConvBn2d approximate forward: BN folded into the conv weight by the running std,
    fake-quantized, the conv output rescaled, then the BN; BN frozen later (freeze_bn)."""

    def __init__(self, cin, cout, bits=8):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.bits = bits

    def forward(self, x):
        running_std = chainrule.sqrt(self.bn.running_var + self.bn.eps)
        scale = self.bn.weight / running_std
        w = fake_quant(self.conv.weight * scale.reshape(-1, 1, 1, 1), self.bits)
        y = F.conv2d(x, w, None, 1, 1) / scale.reshape(1, -1, 1, 1)
        return self.bn(y)


def test_conv_bn_folding_qat_with_freeze_bn():
    def setup():
        block = ConvBnQAT(2, 4, bits=4)
        model = nn.Sequential(block, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)).double()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        def before(i):
            if i == 4:
                block.bn.eval()   # freeze_bn_stats
            block.bits = 8 if i == 5 else 4

        return Case(sgd_step(model, opt, F.cross_entropy), lambda: [model, opt], inputs=images(), before=before)

    same_as_eager(setup, calls=6)


def test_scale_made_with_new_tensor_from_computed_amax():
    def quantize(h, bits=4):
        amax = h.detach().abs().max()
        scale = h.new_tensor(amax) / (2 ** (bits - 1) - 1)   # "make sure it is a tensor of h's dtype"
        return h + (chainrule.round(h / scale) * scale - h).detach()

    def setup():
        fc1, fc2 = lin(6, 8), lin(8, 3)
        opt = optim.SGD(list(fc1.parameters()) + list(fc2.parameters()), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            h = quantize(fc1(x))
            loss = F.mse_loss(fc2(h), y)
            loss.backward()
            opt.step()
            return loss, h

        return Case(step, lambda: [fc1, fc2, opt], inputs=regress())

    same_as_eager(setup, calls=6)
