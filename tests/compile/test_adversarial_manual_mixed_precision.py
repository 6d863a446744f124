"""chainrule.compile against eager execution on MIXED PRECISION and NUMERICS WRITTEN BY HAND:
float16 model copies with float32 master weights (grads copied to the masters, a step on the masters,
copied back with ``.data.copy_`` or under ``no_grad``), static and dynamic loss scaling by hand
(``loss * scale``, ``p.grad.div_(scale)`` / ``mul_(1 / scale)``, overflow checks as tensors with
``torch.isfinite(g).all()`` used through ``torch.where`` or read with ``.item()``), ``amp.GradScaler``,
``model.half() / .float() / .double()`` between calls, inputs ``.to(dtype)`` changing between calls,
float16 gradients accumulated over micro-batches, ``clip_grad_norm_`` on float16 grads, Kahan-compensated
updates, stochastic rounding, ``finfo(dtype).eps / tiny / max`` in formulas, denormals and inf / nan
flowing through steps (``nan_to_num``, ``clamp``) and integer step counters kept as tensors.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, Python side effects and the random stream after each call. A compiled run may
record anew or fall back to eager with at most one warning.
"""
import math

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.harness import Case, arr, lin, same_as_eager, snap, train_step


def regress(i, n=8, d=5, o=3, dtype="float64", big=None, bad=None):
    """A regression batch; ``big`` multiplies the input on those calls, ``bad`` plants an inf / nan."""
    g = np.random.default_rng(700 + i)
    x = g.standard_normal((n, d))
    y = g.standard_normal((n, o))
    if big and i in big:
        x = x * big[i]
    if bad and i in bad:
        x[0, 0] = bad[i]
    return torch.tensor(x.astype(dtype)), torch.tensor(y.astype(dtype))


def inputs_of(**kw):
    sizes = kw.pop("sizes", None)
    dtypes = kw.pop("dtypes", None)

    def inputs(i):
        k = dict(kw)
        if sizes:
            k["n"] = sizes[i % len(sizes)]
        if dtypes:
            k["dtype"] = dtypes[i % len(dtypes)]
        return regress(i, **k)
    return inputs


class MLP(nn.Module):
    def __init__(self, d=5, h=7, o=3):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, h), nn.Linear(h, o)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


def masters_of(model, dtype=torch.float32):
    return [p.detach().clone().to(dtype).requires_grad_(True) for p in model.parameters()]


# ----------------------------------------------------------------------------- master weights
def test_fp16_model_fp32_masters_grad_copy_and_data_copy_back():
    def setup():
        model = MLP().half()
        masters = masters_of(model)
        opt = optim.SGD(masters, lr=0.05, momentum=0.9)

        def step(x, y):
            model.zero_grad()
            out = model(x.half())
            loss = F.mse_loss(out.float(), y)
            loss.backward()
            for m, p in zip(masters, model.parameters()):
                m.grad = p.grad.detach().float()
            opt.step()
            for m, p in zip(masters, model.parameters()):
                p.data.copy_(m.data)
            return loss
        return Case(step, lambda: [model, opt, masters], inputs=inputs_of(dtype="float32"))

    same_as_eager(setup, calls=6)


def test_fp16_model_fp32_masters_no_grad_copy_with_adam_and_lr_change():
    def setup():
        model = MLP(h=6).half()
        masters = masters_of(model)
        opt = optim.Adam(masters, lr=1e-2)

        def step(x, y):
            for p in model.parameters():
                p.grad = None
            loss = F.mse_loss(model(x.half()).float(), y)
            loss.backward()
            with torch.no_grad():
                for m, p in zip(masters, model.parameters()):
                    if m.grad is None:
                        m.grad = torch.zeros_like(m)
                    m.grad.copy_(p.grad)
            opt.step()
            with torch.no_grad():
                for m, p in zip(masters, model.parameters()):
                    p.copy_(m)
            return loss.detach(), [m.grad.abs().max() for m in masters]

        def before(i):
            if i == 3:
                for group in opt.param_groups:
                    group["lr"] = 3e-3
        return Case(step, lambda: [model, opt, masters], inputs=inputs_of(dtype="float32"), before=before)

    same_as_eager(setup, calls=7)


def test_fp32_model_fp64_masters_flat_buffer():
    """Masters kept as one flat float64 vector (apex-style), viewed back into the params."""
    def setup():
        model = MLP().float()
        flat = torch.cat([p.detach().reshape(-1).double() for p in model.parameters()])
        shapes = [p.shape for p in model.parameters()]
        state = {"lr": 0.1}

        def step(x, y):
            model.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            g = torch.cat([p.grad.reshape(-1).double() for p in model.parameters()])
            flat.sub_(state["lr"] * g)
            offset = 0
            with torch.no_grad():
                for p, shape in zip(model.parameters(), shapes):
                    n = p.numel()
                    p.copy_(flat[offset:offset + n].view(shape))
                    offset += n
            return loss, g.norm()

        def before(i):
            state["lr"] = [0.1, 0.1, 0.05, 0.05, 0.2][i % 5]
        return Case(step, lambda: [model, flat], inputs=inputs_of(dtype="float32"), before=before)

    same_as_eager(setup, calls=6)


def test_masters_with_loss_scaling_and_unscale_into_master_grad():
    def setup():
        model = MLP().half()
        masters = masters_of(model)
        opt = optim.SGD(masters, lr=0.1)
        scale = 1024.0

        def step(x, y):
            model.zero_grad()
            loss = F.mse_loss(model(x.half()).float(), y)
            (loss * scale).backward()
            for m, p in zip(masters, model.parameters()):
                m.grad = p.grad.float() / scale
            opt.step()
            with torch.no_grad():
                for m, p in zip(masters, model.parameters()):
                    p.copy_(m.half())
            return loss
        return Case(step, lambda: [model, opt, masters], inputs=inputs_of(dtype="float32"))

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- static / dynamic scaling
def test_static_loss_scale_div_grad_in_place():
    def setup():
        net = lin(5, 3)
        opt = optim.SGD(net.parameters(), lr=0.1)
        scale = 128.0

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            (loss * scale).backward()
            for p in net.parameters():
                p.grad.div_(scale)
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], inputs=inputs_of())

    same_as_eager(setup, calls=6)


def test_static_loss_scale_attribute_changed_between_calls_mul_inverse():
    def setup():
        net = MLP().half()
        opt = optim.SGD(net.parameters(), lr=0.05)
        cfg = {"scale": 256.0}

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x.half()).float(), y)
            (loss * cfg["scale"]).backward()
            for p in net.parameters():
                p.grad.mul_(1.0 / cfg["scale"])
            opt.step()
            return loss, [p.grad for p in net.parameters()]

        def before(i):
            cfg["scale"] = [256.0, 256.0, 8.0, 65536.0, 1.0, 256.0][i]
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float32"), before=before)

    same_as_eager(setup, calls=6)


def test_scale_as_tensor_changed_in_place_between_calls():
    def setup():
        net = lin(5, 3).float()
        opt = optim.SGD(net.parameters(), lr=0.1)
        scale = torch.tensor(64.0)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            (loss * scale).backward()
            for p in net.parameters():
                p.grad.div_(scale)
            opt.step()
            return loss

        def before(i):
            if i in (2, 4):
                scale.mul_(4.0)
        return Case(step, lambda: [net, opt, scale], inputs=inputs_of(dtype="float32"), before=before)

    same_as_eager(setup, calls=6)


def test_dynamic_scale_tensor_where_skip_update():
    """Overflow check as a tensor; skip, back off and grow all with torch.where, no Python if."""
    def setup():
        net = MLP().half()
        scale = torch.tensor(2.0 ** 14)
        good_steps = torch.tensor(0)
        lr = 0.05

        def step(x, y):
            net.zero_grad()
            loss = F.mse_loss(net(x.half()).float(), y)
            (loss * scale).backward()
            grads = [p.grad for p in net.parameters()]
            finite = torch.stack([torch.isfinite(g).all() for g in grads]).all()
            with torch.no_grad():
                for p, g in zip(net.parameters(), grads):
                    upd = p - lr * (g.float() / scale).half()
                    p.copy_(torch.where(finite, upd, p))
                good_steps.copy_(torch.where(finite, good_steps + 1, torch.zeros_like(good_steps)))
                grow = good_steps >= 2
                scale.copy_(torch.where(finite, torch.where(grow, scale * 2, scale), scale * 0.5))
                good_steps.copy_(torch.where(grow, torch.zeros_like(good_steps), good_steps))
            return loss, finite
        return Case(step, lambda: [net, scale, good_steps],
                    inputs=inputs_of(dtype="float32", big={2: 3000.0, 4: 200.0}))

    same_as_eager(setup, calls=7)


def test_dynamic_scale_item_check_python_if():
    """The overflow check read with .item() into a Python if: compiled must fall back or guard on it."""
    def setup():
        net = MLP().half()
        opt = optim.SGD(net.parameters(), lr=0.05)
        st = {"scale": 2.0 ** 12, "skipped": 0, "good": 0}

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x.half()).float(), y)
            (loss * st["scale"]).backward()
            overflow = not torch.stack([torch.isfinite(p.grad).all() for p in net.parameters()]).all().item()
            if overflow:
                st["scale"] /= 2
                st["skipped"] += 1
                st["good"] = 0
                return loss, True
            for p in net.parameters():
                p.grad.div_(st["scale"])
            opt.step()
            st["good"] += 1
            if st["good"] % 3 == 0:
                st["scale"] *= 2
            return loss, False
        return Case(step, lambda: [net, opt, dict(st)],
                    inputs=inputs_of(dtype="float32", big={1: 5000.0, 4: 5000.0}))

    same_as_eager(setup, calls=7)


def test_dynamic_scale_bool_of_tensor_check():
    """``if not torch.isfinite(loss):`` (bool of a 0-d tensor) to skip the step."""
    def setup():
        net = lin(5, 3).float()
        opt = optim.SGD(net.parameters(), lr=0.05)
        log = []

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            if not torch.isfinite(loss):
                log.append("skip")
                return loss
            loss.backward()
            opt.step()
            log.append("step")
            return loss
        return Case(step, lambda: [net, opt, list(log)],
                    inputs=inputs_of(dtype="float32", bad={2: float("inf"), 5: float("nan")}))

    same_as_eager(setup, calls=7)


def test_gradscaler_cpu_with_fp16_model_and_overflow_input():
    def setup():
        net = MLP().half()
        opt = optim.SGD(net.parameters(), lr=0.05)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x.half()).float(), y)
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            scaler.step(opt)
            scaler.update()
            return loss, scaler.get_scale()
        return Case(step, lambda: [net, opt, scaler.state_dict()],
                    inputs=inputs_of(dtype="float32", big={3: 1e4}))

    same_as_eager(setup, calls=7)


def test_gradscaler_autocast_toggled_enabled_between_calls():
    def setup():
        net = MLP().float()
        opt = optim.Adam(net.parameters(), lr=1e-2)
        scaler = torch.amp.GradScaler("cpu", init_scale=256.0, growth_interval=3)
        cfg = {"amp": True}

        def step(x, y):
            opt.zero_grad()
            with torch.autocast("cpu", dtype=torch.float16, enabled=cfg["amp"]):
                loss = F.mse_loss(net(x), y)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            return loss

        def before(i):
            cfg["amp"] = i % 3 != 2
        return Case(step, lambda: [net, opt, scaler.state_dict()], inputs=inputs_of(dtype="float32"), before=before)

    same_as_eager(setup, calls=6)


def test_growth_tracker_tensor_in_place_add():
    """Growth counter as an integer tensor updated with += inside the step."""
    def setup():
        net = lin(5, 3)
        opt = optim.SGD(net.parameters(), lr=0.1)
        scale = torch.tensor(16.0, dtype=torch.float64)
        tracker = torch.zeros((), dtype=torch.int64)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            (loss * scale).backward()
            with torch.no_grad():
                for p in net.parameters():
                    p.grad /= scale
            opt.step()
            tracker += 1
            grow = tracker % 2 == 0
            scale.mul_(torch.where(grow, 2.0, 1.0))
            return loss, tracker.clone()
        return Case(step, lambda: [net, opt, scale, tracker], inputs=inputs_of())

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- dtype switches
def test_model_half_float_double_between_calls():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            p0 = next(net.parameters())
            loss = F.mse_loss(net(x.to(p0.dtype)), y.to(p0.dtype))
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 2:
                net.half()
            elif i == 4:
                net.double()
            elif i == 5:
                net.float()
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float32"), before=before)

    same_as_eager(setup, calls=7)


def test_model_double_between_calls_with_adam_state():
    def setup():
        net = MLP().float()
        opt = optim.Adam(net.parameters(), lr=1e-2)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 3:
                net.double()
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtypes=["float32"] * 3 + ["float64"] * 4),
                    before=before)

    same_as_eager(setup, calls=7)


def test_input_dtype_changes_model_casts_inside():
    def setup():
        net = lin(5, 3)
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            out = net(x.double())
            loss = F.mse_loss(out, y.to(out.dtype))
            loss.backward()
            opt.step()
            return loss, x.dtype
        return Case(step, lambda: [net, opt],
                    inputs=inputs_of(dtypes=["float64", "float32", "float16", "float32", "float64", "float16"]))

    same_as_eager(setup, calls=6)


def test_input_dtype_mismatch_raises_like_eager():
    def setup():
        net = lin(5, 3).float()
        opt = optim.SGD(net.parameters(), lr=0.05)
        return Case(train_step(net, opt), lambda: [net, opt],
                    inputs=inputs_of(dtypes=["float32", "float32", "float16", "float32", "float64", "float32"]))

    same_as_eager(setup, calls=6)


def test_set_default_dtype_between_calls_constants_inside():
    def setup():
        net = lin(5, 3)
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            w = torch.tensor(0.1)
            loss = F.mse_loss(net(x), y) + (w * net.weight.float()).pow(2).sum().to(x.dtype)
            loss.backward()
            opt.step()
            return loss, w

        def before(i):
            torch.set_default_dtype(torch.float64 if i in (2, 3) else torch.float32)
        return Case(step, lambda: [net, opt], inputs=inputs_of(), before=before)

    try:
        same_as_eager(setup, calls=6)
    finally:
        torch.set_default_dtype(torch.float32)


def test_half_except_layernorm_in_float():
    """model.half() and then the norm layers back to float (the usual fp16 recipe), cast around them."""
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(5, 6)
            self.norm = nn.LayerNorm(6)
            self.out = nn.Linear(6, 3)

        def forward(self, x):
            h = self.fc(x)
            h = self.norm(h.float()).to(h.dtype)
            return self.out(F.relu(h))

    def setup():
        net = Block().half()
        net.norm.float()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x.half()).float(), y)
            loss.backward()
            opt.step()
            return loss, [str(p.grad.dtype) for p in net.parameters()]
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float32"))

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- fp16 grads
def test_fp16_grad_accumulation_over_microbatches():
    def setup():
        net = MLP().half()
        opt = optim.SGD(net.parameters(), lr=0.1)
        cfg = {"chunks": 2}

        def step(x, y):
            opt.zero_grad()
            total = 0.0
            for xs, ys in zip(x.chunk(cfg["chunks"]), y.chunk(cfg["chunks"])):
                loss = F.mse_loss(net(xs), ys) / cfg["chunks"]
                loss.backward()
                total += loss.item()
            opt.step()
            return total

        def before(i):
            cfg["chunks"] = [2, 2, 4, 4, 1, 2][i]
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float16"), before=before)

    same_as_eager(setup, calls=6)


def test_fp16_grad_accumulation_detached_loss_sum():
    def setup():
        net = MLP().half()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            running = torch.zeros((), dtype=torch.float32)
            for xs, ys in zip(x.split(3), y.split(3)):
                loss = F.mse_loss(net(xs).float(), ys.float())
                (loss * 64.0).backward()
                running += loss.detach()
            for p in net.parameters():
                p.grad.div_(64.0)
            opt.step()
            return running
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float16", sizes=[8, 8, 7, 9, 8, 6]))

    same_as_eager(setup, calls=6)


def test_clip_grad_norm_on_fp16_grads():
    def setup():
        net = MLP().half()
        opt = optim.SGD(net.parameters(), lr=0.1)
        cfg = {"max": 0.5}

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(net.parameters(), cfg["max"])
            opt.step()
            return loss, norm

        def before(i):
            cfg["max"] = [0.5, 0.5, 0.01, 10.0, 0.5, 0.5][i]
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float16", big={3: 20.0}), before=before)

    same_as_eager(setup, calls=6)


def test_clip_grad_norm_fp16_overflowing_norm_inf_type():
    def setup():
        net = lin(5, 3).half()
        opt = optim.SGD(net.parameters(), lr=1e-3)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            n2 = nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            ninf = nn.utils.clip_grad_norm_(net.parameters(), 1.0, norm_type="inf")
            opt.step()
            return loss, n2, ninf
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float16", big={2: 100.0, 3: 300.0}))

    same_as_eager(setup, calls=6)


def test_grad_nan_to_num_in_place_then_clamp():
    def setup():
        net = MLP().float()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            for p in net.parameters():
                p.grad.nan_to_num_(nan=0.0, posinf=1.0, neginf=-1.0)
                p.grad.clamp_(-1.0, 1.0)
            opt.step()
            return loss
        return Case(step, lambda: [net, opt],
                    inputs=inputs_of(dtype="float32", bad={2: float("nan"), 4: float("inf")}))

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- finfo in formulas
def test_hand_adam_eps_from_finfo_model_dtype_changes():
    def setup():
        net = lin(5, 3)
        state = [{"m": torch.zeros_like(p), "v": torch.zeros_like(p)} for p in net.parameters()]
        t = torch.zeros((), dtype=torch.int64)

        def step(x, y):
            for p in net.parameters():
                p.grad = None
            dt = net.weight.dtype
            loss = F.mse_loss(net(x.to(dt)), y.to(dt))
            loss.backward()
            eps = torch.finfo(dt).eps
            t.add_(1)
            with torch.no_grad():
                for p, s in zip(net.parameters(), state):
                    s["m"].mul_(0.9).add_(p.grad, alpha=0.1)
                    s["v"].mul_(0.999).addcmul_(p.grad, p.grad, value=0.001)
                    mh = s["m"] / (1 - 0.9 ** t)
                    vh = s["v"] / (1 - 0.999 ** t)
                    p.sub_(0.01 * mh / (vh.sqrt() + eps))
            return loss, eps

        def before(i):
            if i == 3:
                net.float()
                for s in state:
                    s["m"] = s["m"].float()
                    s["v"] = s["v"].float()
        return Case(step, lambda: [net, state, t], inputs=inputs_of(), before=before)

    same_as_eager(setup, calls=6)


def test_finfo_tiny_clamp_before_log():
    def setup():
        net = lin(5, 3).float()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            p = torch.softmax(net(x) * 40.0, dim=-1)
            tiny = torch.finfo(p.dtype).tiny
            loss = -(y.softmax(-1) * p.clamp(min=tiny).log()).sum(-1).mean()
            loss.backward()
            opt.step()
            return loss, p.min()
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float32", big={2: 50.0}))

    same_as_eager(setup, calls=6)


def test_finfo_max_clamp_before_half_cast():
    def setup():
        net = MLP().float()
        opt = optim.SGD(net.parameters(), lr=0.01)
        fmax = torch.finfo(torch.float16).max

        def step(x, y):
            opt.zero_grad()
            h = net(x) * 1e4
            h16 = h.clamp(-fmax, fmax).half()
            loss = F.mse_loss(h16.float() / 1e4, y)
            loss.backward()
            opt.step()
            return loss, torch.isinf(h.half()).sum()
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float32", big={1: 10.0, 3: 100.0}))

    same_as_eager(setup, calls=6)


def test_eps_of_input_dtype_in_normalisation():
    """Manual layer norm with eps = finfo(x.dtype).eps; inputs change dtype between calls."""
    class ManualNorm(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.g = nn.Parameter(torch.ones(d, dtype=torch.float64))

        def forward(self, x):
            eps = torch.finfo(x.dtype).eps
            mu = x.mean(-1, keepdim=True)
            var = ((x - mu) ** 2).mean(-1, keepdim=True)
            return ((x - mu) / (var + eps).sqrt()).double() * self.g

    def setup():
        norm = ManualNorm(5)
        head = lin(5, 3)
        opt = optim.SGD(list(norm.parameters()) + list(head.parameters()), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(head(norm(x)), y.double())
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [norm, head, opt],
                    inputs=inputs_of(dtypes=["float64", "float64", "float32", "float16", "float32", "float64"]))

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- kahan / stochastic rounding
def test_kahan_compensated_sgd_fp16_weights():
    def setup():
        net = MLP().half()
        comp = [torch.zeros_like(p) for p in net.parameters()]
        cfg = {"lr": 1e-3}

        def step(x, y):
            net.zero_grad()
            loss = F.mse_loss(net(x).float(), y.float())
            loss.backward()
            with torch.no_grad():
                for p, c in zip(net.parameters(), comp):
                    upd = -cfg["lr"] * p.grad - c
                    new = p + upd
                    c.copy_((new - p) - upd)
                    p.copy_(new)
            return loss

        def before(i):
            cfg["lr"] = [1e-3, 1e-3, 1e-4, 1e-4, 5e-3, 1e-3][i]
        return Case(step, lambda: [net, comp], inputs=inputs_of(dtype="float16"), before=before)

    same_as_eager(setup, calls=6)


def test_kahan_sum_of_losses_across_microbatches():
    def setup():
        net = lin(5, 3).float()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            s = torch.zeros((), dtype=torch.float32)
            c = torch.zeros((), dtype=torch.float32)
            for xs, ys in zip(x.split(2), y.split(2)):
                loss = F.mse_loss(net(xs), ys)
                loss.backward()
                yk = loss.detach() - c
                t = s + yk
                c = (t - s) - yk
                s = t
            opt.step()
            return s, c
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float32", sizes=[8, 6, 8, 10, 8, 8]))

    same_as_eager(setup, calls=6)


def test_stochastic_rounding_fp32_masters_to_fp16():
    """Round masters to float16 stochastically with rand_like: uses the random stream each call."""
    def setup():
        model = lin(5, 3).half()
        masters = masters_of(model)
        opt = optim.SGD(masters, lr=0.05)

        def sround(t):
            down = t.half().float()
            up = torch.nextafter(down.half(), torch.full_like(down, float("inf")).half()).float()
            up = torch.where(down > t, down, up)
            down = torch.where(down > t, torch.nextafter(down.half(), torch.full_like(down, -float("inf")).half()).float(), down)
            frac = (t - down) / (up - down).clamp(min=1e-30)
            return torch.where(torch.rand_like(t) < frac, up, down).half()

        def step(x, y):
            model.zero_grad()
            loss = F.mse_loss(model(x.half()).float(), y)
            loss.backward()
            for m, p in zip(masters, model.parameters()):
                m.grad = p.grad.float()
            opt.step()
            with torch.no_grad():
                for m, p in zip(masters, model.parameters()):
                    p.copy_(sround(m))
            return loss
        return Case(step, lambda: [model, opt, masters], inputs=inputs_of(dtype="float32"))

    same_as_eager(setup, calls=6)


def test_stochastic_rounding_by_noise_bits_int_view():
    """Stochastic rounding of float32 weights to a bfloat16 grid by adding random low bits (int32 view)."""
    def setup():
        net = lin(5, 3).float()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            with torch.no_grad():
                for p in net.parameters():
                    bits = p.view(torch.int32)
                    noise = torch.randint(0, 1 << 16, p.shape, dtype=torch.int32)
                    rounded = (bits + noise) & -65536
                    p.copy_(rounded.view(torch.float32))
            return loss
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float32"))

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- inf / nan / denormals
def test_fp16_forward_overflow_nan_to_num_activations():
    def setup():
        net = MLP().half()
        opt = optim.SGD(net.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            h = net(x.half() * 300.0)
            h = torch.nan_to_num(h, nan=0.0, posinf=1e4, neginf=-1e4)
            loss = F.mse_loss(h.float() / 300.0, y)
            loss.backward()
            opt.step()
            return loss, torch.isinf(net(x.half() * 300.0)).any()
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float32", big={2: 50.0, 4: 1e3}))

    same_as_eager(setup, calls=6)


def test_denormal_fp16_inputs_and_grads():
    def setup():
        net = lin(5, 3).half()
        opt = optim.SGD(net.parameters(), lr=1.0)

        def step(x, y):
            opt.zero_grad()
            tiny = torch.finfo(torch.float16).tiny
            out = net(x * tiny)
            loss = (out.float() - y.float() * tiny).pow(2).mean() * 1e6
            loss.backward()
            opt.step()
            return loss, (net.weight.grad.abs() < tiny).sum()
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float16"))

    same_as_eager(setup, calls=6)


def test_nan_loss_guard_where_keeps_params():
    def setup():
        net = lin(5, 3)
        lr = 0.1

        def step(x, y):
            net.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            ok = torch.isfinite(loss) & torch.stack([torch.isfinite(p.grad).all() for p in net.parameters()]).all()
            with torch.no_grad():
                for p in net.parameters():
                    p.copy_(torch.where(ok, p - lr * torch.nan_to_num(p.grad), p))
            return loss, ok
        return Case(step, lambda: [net], inputs=inputs_of(bad={1: float("nan"), 3: float("inf"), 4: -float("inf")}))

    same_as_eager(setup, calls=6)


def test_inf_in_params_between_calls_recovered_with_nan_to_num():
    def setup():
        net = lin(5, 3).float()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            with torch.no_grad():
                for p in net.parameters():
                    p.nan_to_num_(nan=0.0, posinf=1.0, neginf=-1.0)
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i in (2, 4):
                with torch.no_grad():
                    net.weight[0, 0] = float("inf") if i == 2 else float("nan")
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float32"), before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- step counters
def test_int_step_counter_tensor_bias_correction_pow():
    def setup():
        net = lin(5, 3)
        m = [torch.zeros_like(p) for p in net.parameters()]
        step_t = torch.tensor(0)

        def step(x, y):
            net.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            step_t += 1
            corr = 1 - 0.9 ** step_t.double()
            with torch.no_grad():
                for p, mm in zip(net.parameters(), m):
                    mm.mul_(0.9).add_(0.1 * p.grad)
                    p.sub_(0.1 * mm / corr)
            return loss, step_t, corr
        return Case(step, lambda: [net, m, step_t], inputs=inputs_of())

    same_as_eager(setup, calls=6)


def test_int_step_counter_read_with_item_for_warmup():
    def setup():
        net = lin(5, 3)
        opt = optim.SGD(net.parameters(), lr=0.1)
        counter = torch.zeros(1, dtype=torch.int32)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            counter.add_(1)
            k = int(counter.item())
            for g in opt.param_groups:
                g["lr"] = 0.1 * min(1.0, k / 3)
            opt.step()
            return loss, k
        return Case(step, lambda: [net, opt, counter], inputs=inputs_of())

    same_as_eager(setup, calls=6)


def test_step_counter_buffer_in_module_fp16():
    class Counted(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(5, 3)
            self.register_buffer("steps", torch.zeros((), dtype=torch.int64))

        def forward(self, x):
            if self.training:
                self.steps += 1
            decay = 1.0 / (1.0 + self.steps.to(x.dtype))
            return self.fc(x) * decay

    def setup():
        net = Counted().half()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x).float(), y.float())
            loss.backward()
            opt.step()
            return loss

        def before(i):
            net.train(i != 3)
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float16"), before=before)

    same_as_eager(setup, calls=6)


def test_ema_fp32_shadow_of_fp16_model():
    def setup():
        net = MLP().half()
        opt = optim.SGD(net.parameters(), lr=0.1)
        shadow = [p.detach().float().clone() for p in net.parameters()]
        cfg = {"decay": 0.9}

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x).float(), y.float())
            loss.backward()
            opt.step()
            with torch.no_grad():
                for s, p in zip(shadow, net.parameters()):
                    s.mul_(cfg["decay"]).add_(p.float(), alpha=1 - cfg["decay"])
            return loss

        def before(i):
            cfg["decay"] = 0.9 if i < 3 else 0.99
        return Case(step, lambda: [net, opt, shadow], inputs=inputs_of(dtype="float16"), before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- dtypes of scalars and defaults
@pytest.fixture
def default_float32():
    torch.set_default_dtype(torch.float32)
    yield
    torch.set_default_dtype(torch.float32)


def test_int_counter_pow_follows_default_dtype_changed_between_calls(default_float32):
    """``0.9 ** step`` of an int64 counter is a tensor of the default dtype."""
    def setup():
        torch.set_default_dtype(torch.float32)
        net = lin(5, 3)
        opt = optim.SGD(net.parameters(), lr=0.05)
        counter = torch.tensor(0)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            counter.add_(1)
            correction = 1 - 0.9 ** counter
            for p in net.parameters():
                p.grad.div_(correction)
            opt.step()
            return loss, correction

        def before(i):
            torch.set_default_dtype(torch.float64 if i in (2, 3, 5) else torch.float32)
        return Case(step, lambda: [net, opt, counter], inputs=inputs_of(), before=before)

    same_as_eager(setup, calls=7)


def test_finfo_of_default_dtype_in_python_formula(default_float32):
    def setup():
        torch.set_default_dtype(torch.float32)
        net = lin(5, 3)
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            eps = torch.finfo(torch.get_default_dtype()).eps
            loss = F.mse_loss(net(x), y) + eps * 1e6 * net.weight.abs().sum()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            torch.set_default_dtype(torch.float64 if i in (2, 3) else torch.float32)
        return Case(step, lambda: [net, opt], inputs=inputs_of(), before=before)

    same_as_eager(setup, calls=6)


def test_scale_tensor_made_from_python_and_numpy_scalars_of_changing_type():
    """``torch.tensor(s)`` of 512.0, 512, np.float16(512) ...: equal values, different dtypes."""
    values = [512.0, 512.0, 512, np.float16(512.0), np.float64(512.0), np.int32(512), True]

    def setup():
        net = lin(5, 3).half()
        opt = optim.SGD(net.parameters(), lr=0.05)
        cfg = {"s": values[0]}

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            s = torch.tensor(cfg["s"])
            (loss * s).backward()
            for p in net.parameters():
                p.grad.div_(s)
            opt.step()
            return loss, s

        def before(i):
            cfg["s"] = values[i]
        return Case(step, lambda: [net, opt], inputs=inputs_of(dtype="float16"), before=before)

    same_as_eager(setup, calls=7)


def test_scale_tensor_data_rebound_to_other_dtype_between_calls():
    def setup():
        net = lin(5, 3).half()
        opt = optim.SGD(net.parameters(), lr=0.05)
        scale = torch.tensor(256.0, dtype=torch.float16)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            (loss * scale).backward()
            grads = [p.grad / scale for p in net.parameters()]
            for p, g in zip(net.parameters(), grads):
                p.grad.copy_(g)
            opt.step()
            return loss, grads

        def before(i):
            if i == 2:
                scale.data = scale.data.double()
            if i == 4:
                scale.data = torch.tensor(70000.0, dtype=torch.float32)
        return Case(step, lambda: [net, opt, scale], inputs=inputs_of(dtype="float16"), before=before)

    same_as_eager(setup, calls=6)


def test_master_weights_promoted_to_float64_between_calls():
    def setup():
        model = lin(5, 3).half()
        masters = masters_of(model)
        opt = optim.SGD(masters, lr=0.1, momentum=0.9)

        def step(x, y):
            model.zero_grad()
            loss = F.mse_loss(model(x.half()).float(), y)
            loss.backward()
            for m, p in zip(masters, model.parameters()):
                m.grad = p.grad.to(m.dtype)
            opt.step()
            with torch.no_grad():
                for m, p in zip(masters, model.parameters()):
                    p.copy_(m)
            return loss

        def before(i):
            if i == 3:
                for m in masters:
                    m.data = m.data.double()
        return Case(step, lambda: [model, opt, masters], inputs=inputs_of(dtype="float32"), before=before)

    same_as_eager(setup, calls=6)
