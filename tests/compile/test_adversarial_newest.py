"""Adversarial checks of the newest chainrule.compile features: requires_grad set in a step,
.grad set by hand, shape/dtype reads guarding state, generators watched, 0-d reads by the library,
buffers rebound. Each case runs eagerly and compiled from the same seed and compares bit for bit."""
import warnings

import numpy as np
import pytest
import chainrule as torch
from chainrule import nn
from tests.compile.bitwise import assert_identical

CALLS = 6
CASES = []
RAISES = {'toggle_then_raise', 'grad_set_wrong_shape', 'grad_set_wrong_dtype', 'grad_assigned_int_tensor'}


def case(f):
    CASES.append(f)
    return f


class H:
    pass


def snap(v, full=True):
    if isinstance(v, torch.Tensor):
        if not full:
            return ("T", v.detach().numpy().copy(), str(v.dtype))
        return ("T", v.detach().numpy().copy(), str(v.dtype), v.requires_grad, None if v.grad is None else snap(v.grad))
    if isinstance(v, torch.Generator):
        return ("G", np.frombuffer(v.get_state().numpy().tobytes(), np.uint8).copy())
    if isinstance(v, (list, tuple)):
        return type(v)(snap(i, full) for i in v)
    if isinstance(v, dict):
        return {k: snap(i, full) for k, i in v.items()}
    if isinstance(v, nn.Module):
        return {"p": [(n, snap(p)) for n, p in v.named_parameters()], "b": [(n, snap(b)) for n, b in v.named_buffers()]}
    if isinstance(v, torch.optim.Optimizer):
        return snap(v.state_dict())
    return v

def run(case, compiled):
    torch.manual_seed(0)
    step, observe, call = case(torch.compile if compiled else (lambda f: f))
    log = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(CALLS):
            try:
                r = call(step, i)
                log.append(("ret", snap(r, False), snap(observe())))
            except Exception as e:
                log.append(("raised", type(e).__name__, snap(observe())))
    log.append(("rng", snap(torch.rand(3))))
    return log, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]

def check(case, raises=False):
    eager, _ = run(case, False)
    if not raises:
        assert all(e[0] != "raised" for e in eager), eager
    comp, warned = run(case, True)
    assert_identical(comp, eager)
    assert len(warned) <= 1, warned
    return warned

# ---------------------------------------------------------------- c1

# (a) requires_grad toggled on a parameter the optimizer then steps
@case
def freeze_then_step(compile):
    m = nn.Linear(3, 2); opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    def step(x):
        m.bias.requires_grad = False
        loss = m(x).sum(); opt.zero_grad(); loss.backward(); opt.step()
        m.bias.requires_grad = True
        return loss
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3))

@case
def freeze_alternating_inside(compile):
    m = nn.Linear(3, 2); opt = torch.optim.Adam(m.parameters(), lr=0.1)
    n = [0]
    def step(x):
        loss = m(x).sum(); opt.zero_grad(); loss.backward(); opt.step()
        m.weight.requires_grad = not m.weight.requires_grad
        return loss
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3))

@case
def caller_toggles(compile):
    m = nn.Linear(3, 2); opt = torch.optim.Adam(m.parameters(), lr=0.1)
    def step(x):
        loss = m(x).sum(); opt.zero_grad(); loss.backward(); opt.step()
        return loss
    s = compile(step)
    def call(s, i):
        m.weight.requires_grad = [True, False, False, True, True, False][i]
        m.bias.requires_grad = [True, True, True, False, True, True][i]
        return s(torch.randn(4, 3))
    return s, lambda: (m, opt), call

@case
def toggled_loop_params(compile):
    m = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1)); opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.5)
    def step(x, k):
        for j, p in enumerate(m.parameters()):
            p.requires_grad_(j != k)
        loss = m(x).sum(); opt.zero_grad(); loss.backward(); opt.step()
        for p in m.parameters():
            p.requires_grad = True
        return loss
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3), i % 4)

@case
def toggled_on_argument(compile):
    w = torch.randn(3)
    def step(x):
        x.requires_grad = True
        y = (x * w).sum()
        y.backward()
        return y, x.grad
    return compile(step), lambda: (w,), lambda s, i: s(torch.randn(3))

@case
def toggled_on_argument_kept(compile):
    x = torch.randn(3)
    def step(w):
        x.requires_grad_(True)
        y = (x * w).sum()
        y.backward()
        x.requires_grad_(False)
        return y
    return compile(step), lambda: (x,), lambda s, i: s(torch.randn(3))

@case
def toggled_made_in_call(compile):
    w = nn.Parameter(torch.randn(3))
    def step(x):
        t = x * 2
        t.requires_grad = True   # t is a leaf (x has no history)
        y = (t * w).sum(); y.backward()
        return t.grad, w.grad
    return compile(step), lambda: (w,), lambda s, i: s(torch.randn(3))

@case
def toggle_then_raise(compile):
    m = nn.Linear(3, 2)
    def step(x):
        m.weight.requires_grad = False
        if x.shape[0] == 5:
            raise ValueError("bad")
        y = m(x).sum()
        m.weight.requires_grad = True
        return y
    return compile(step), lambda: (m,), lambda s, i: s(torch.randn(5 if i in (2, 4) else 4, 3))

@case
def toggle_requires_grad_false_on_nonleaf_raises(compile):
    w = nn.Parameter(torch.randn(3))
    def step(x):
        y = w * x
        if x.sum() > 100: pass
        return y.sum()
    return compile(step), lambda: (w,), lambda s, i: s(torch.randn(3))

@case
def requires_grad_read_in_python(compile):
    m = nn.Linear(3, 2); opt = torch.optim.SGD(m.parameters(), lr=0.1)
    def step(x):
        loss = m(x).sum(); opt.zero_grad(); loss.backward(); opt.step()
        m.bias.requires_grad = False if m.bias.requires_grad else True
        return loss
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3))

@case
def freeze_whole_model_gan(compile):
    g = nn.Linear(2, 3); d = nn.Linear(3, 1)
    og = torch.optim.Adam(g.parameters(), lr=0.01); od = torch.optim.Adam(d.parameters(), lr=0.01)
    def step(z, real):
        d.requires_grad_(True)
        od.zero_grad(); (d(real).mean() - d(g(z).detach()).mean()).backward(); od.step()
        d.requires_grad_(False)
        og.zero_grad(); (-d(g(z)).mean()).backward(); og.step()
        return [p.grad for p in d.parameters()]
    return compile(step), lambda: (g, d, og, od), lambda s, i: s(torch.randn(4, 2), torch.randn(4, 3))

# ---------------------------------------------------------------- c2

def lin(opt_cls=torch.optim.SGD, **kw):
    m = nn.Linear(3, 2); kw = kw or {"lr": 0.1, "momentum": 0.9}
    return m, opt_cls(m.parameters(), **kw)

@case
def grad_set_to_argument(compile):
    m, opt = lin()
    def step(x, g):
        loss = m(x).sum(); opt.zero_grad(); loss.backward()
        m.bias.grad = g
        opt.step()
        return loss
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3), torch.randn(2))

@case
def grad_set_to_argument_then_mutated_by_caller(compile):
    m, opt = lin()
    keep = []
    def step(x, g):
        loss = m(x).sum(); opt.zero_grad(); loss.backward()
        m.bias.grad = g
        opt.step()
        return loss
    def call(s, i):
        g = torch.randn(2); keep.append(g)
        r = s(torch.randn(4, 3), g)
        g.add_(1.0)  # caller changes the tensor it gave: the same tensor is .grad
        return r
    return compile(step), lambda: (m, opt, m.bias.grad is keep[-1]), call

@case
def grad_set_to_view_of_other_grad(compile):
    m, opt = lin()
    def step(x):
        loss = m(x).sum(); opt.zero_grad(); loss.backward()
        with torch.no_grad():
            m.bias.grad = m.weight.grad[:, 0]
        opt.step()
        return loss
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3))

@case
def grad_set_view_then_written(compile):
    m, opt = lin()
    def step(x):
        loss = m(x).sum(); opt.zero_grad(); loss.backward()
        m.bias.grad = m.weight.grad[:, 0]
        m.weight.grad.mul_(2)   # the view sees it
        opt.step()
        return loss
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3))

@case
def grad_set_wrong_shape(compile):
    m, opt = lin()
    def step(x):
        loss = m(x).sum(); opt.zero_grad(); loss.backward()
        m.bias.grad = torch.zeros(3)
        opt.step()
        return loss
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3))

@case
def grad_set_wrong_dtype(compile):
    m, opt = lin()
    def step(x):
        loss = m(x).sum(); opt.zero_grad(); loss.backward()
        m.bias.grad = torch.zeros(2, dtype=torch.float64)
        opt.step()
        return loss
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3))

@case
def grad_same_tensor_twice(compile):
    m, opt = lin()
    def step(x):
        loss = m(x).sum(); opt.zero_grad(); loss.backward()
        with torch.no_grad():
            g = torch.ones(2)
            m.bias.grad = g
            m.bias.grad = g
            g.mul_(3)
        opt.step()
        return loss
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3))

@case
def grad_same_tensor_two_params(compile):
    m = nn.Linear(2, 2); opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    def step(x):
        loss = m(x).sum(); opt.zero_grad(); loss.backward()
        g = torch.ones(2)
        m.bias.grad = g
        m.weight.grad = torch.ones(2, 2)
        m.weight.grad[0].add_(g)
        m.bias.grad.mul_(2)
        opt.step()
        return loss
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 2))

@case
def grad_set_then_second_backward(compile):
    m, opt = lin()
    def step(x):
        opt.zero_grad()
        m.bias.grad = torch.zeros_like(m.bias)
        m.weight.grad = torch.full_like(m.weight, 0.5)
        loss = m(x).sum(); loss.backward()
        opt.step()
        return loss
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3))

@case
def grad_set_kept_local_then_backward(compile):
    m, opt = lin()
    def step(x):
        opt.zero_grad()
        z = torch.zeros_like(m.bias)
        m.bias.grad = z
        loss = m(x).sum(); loss.backward()
        r = z.clone()   # accumulation: in place into z? (torch: in place if not shared)
        opt.step()
        return loss, r, z
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3))

@case
def grad_set_arg_then_backward(compile):
    m, opt = lin()
    def step(x, z):
        opt.zero_grad()
        m.bias.grad = z
        loss = m(x).sum(); loss.backward()
        opt.step()
        return loss
    zs = []
    def call(s, i):
        z = torch.zeros(2); zs.append(z)
        return s(torch.randn(4, 3), z)
    return compile(step), lambda: (m, opt, zs[-1]), call

@case
def grad_on_param_not_in_opt(compile):
    m = nn.Linear(3, 2); opt = torch.optim.SGD([m.weight], lr=0.1, momentum=0.9)
    def step(x):
        loss = m(x).sum(); opt.zero_grad(); loss.backward()
        with torch.no_grad():
            m.bias.grad = m.bias.grad + 1
        opt.step()
        return loss
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3))

@case
def grad_noise_adam_clip(compile):
    m, opt = lin(torch.optim.Adam, lr=0.01)
    def step(x):
        loss = m(x).sum(); opt.zero_grad(); loss.backward()
        with torch.no_grad():
            for p in m.parameters():
                p.grad = p.grad + 0.01 * torch.randn_like(p)
        n = torch.nn.utils.clip_grad_norm_(m.parameters(), 0.5)
        opt.step()
        return loss, n
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3))

@case
def grad_set_none_vs_zeros(compile):
    m, opt = lin(torch.optim.Adam, lr=0.01)
    def step(x, k):
        loss = m(x).sum(); opt.zero_grad(); loss.backward()
        if k:
            m.weight.grad = torch.zeros_like(m.weight)
        opt.step()
        return loss
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(4, 3), i % 2 == 0)

@case
def grad_set_constant_returned(compile):
    m, opt = lin()
    def step(x):
        loss = m(x).sum(); opt.zero_grad(); loss.backward()
        m.bias.grad = torch.ones(2)
        opt.step()
        return m.bias.grad
    s = compile(step)
    def call(s, i):
        r = s(torch.randn(4, 3))
        r.add_(5.0)    # caller writes into what it got: is it a shared constant?
        return r
    return s, lambda: (m, opt), call

@case
def grad_zeros_then_caller_mutates(compile):
    m, opt = lin()
    def step(x):
        loss = m(x).sum()
        m.bias.grad = torch.zeros(2)
        loss.backward()
        opt.step()
        return loss
    def call(s, i):
        r = s(torch.randn(4, 3))
        m.bias.grad.add_(100.0)
        m.weight.grad = None
        return r
    return compile(step), lambda: (m, opt), call

@case
def grad_assigned_int_tensor(compile):
    w = nn.Parameter(torch.randn(3))
    def step(x):
        (w * x).sum().backward()
        w.grad = torch.zeros(3, dtype=torch.int64)
        return w.grad
    return compile(step), lambda: (w,), lambda s, i: s(torch.randn(3))

@case
def grad_set_on_non_leaf(compile):
    w = nn.Parameter(torch.randn(3))
    def step(x):
        y = w * x
        y.retain_grad()
        y.sum().backward()
        y.grad = torch.ones(3)
        w.grad = None
        return y.grad
    return compile(step), lambda: (w,), lambda s, i: s(torch.randn(3))

@case
def grad_set_on_buffer(compile):
    m = nn.BatchNorm1d(2)
    def step(x):
        m.running_mean.grad = x[0].clone()
        return m(x).sum()
    return compile(step), lambda: (m, m.running_mean.grad), lambda s, i: s(torch.randn(4, 2))

# ---------------------------------------------------------------- c3

@case
def shape_of_attribute_replaced(compile):
    h = H(); h.s = torch.zeros(4)
    def step(x):
        if h.s.shape[0] == 4:
            return x * 2
        return x * 3
    def call(s, i):
        h.s = torch.zeros(4 if i % 2 == 0 else 5)
        return s(torch.randn(3))
    return compile(step), lambda: (), call

@case
def resize_inplace(compile):
    h = H(); h.s = torch.zeros(4)
    def step(x):
        if h.s.size(0) == 4:
            return x * 2
        return x * 3
    def call(s, i):
        h.s.resize_(4 if i % 2 == 0 else 5)
        return s(torch.randn(3))
    return compile(step), lambda: (), call

@case
def len_of_buffer(compile):
    m = nn.Module(); m.register_buffer("b", torch.zeros(4))
    def step(x):
        return x * len(m.b)
    def call(s, i):
        m.b = torch.zeros(i + 1)
        return s(torch.randn(3))
    return compile(step), lambda: (m,), call

@case
def dim_of_buffer(compile):
    m = nn.Module(); m.register_buffer("b", torch.zeros(4))
    def step(x):
        return x * m.b.dim() + m.b.numel()
    def call(s, i):
        m.b = torch.zeros(2, 2) if i % 2 else torch.zeros(4)
        return s(torch.randn(3))
    return compile(step), lambda: (m,), call

@case
def dtype_of_param(compile):
    m = nn.Linear(2, 2)
    def step(x):
        return x * (2.0 if m.weight.dtype == torch.float64 else 3.0)
    def call(s, i):
        if i == 2: m.double()
        if i == 4: m.float()
        return s(torch.randn(3))
    return compile(step), lambda: (m,), call

@case
def grad_shape_read(compile):
    w = nn.Parameter(torch.randn(3))
    def step(x):
        return x * (1.0 if w.grad is None else float(w.grad.shape[0]))
    def call(s, i):
        if i == 1: w.grad = torch.zeros(3)
        if i == 3: w.grad = None
        return s(torch.randn(3))
    return compile(step), lambda: (w,), call

@case
def grad_dtype_read_caller_swaps(compile):
    w = nn.Parameter(torch.randn(3, dtype=torch.float64))
    w.grad = torch.zeros(3, dtype=torch.float64)
    def step(x):
        return x * (1.0 if w.grad.is_floating_point() else 2.0) + w.grad.ndim
    def call(s, i):
        if i == 2:
            with torch.no_grad():
                w.grad = torch.zeros(1, 3, dtype=torch.float64)[0]
        return s(torch.randn(3))
    return compile(step), lambda: (w,), call

@case
def shape_of_list_element(compile):
    h = H(); h.items = [torch.zeros(2), torch.zeros(3)]
    def step(x):
        return x * sum(t.shape[0] for t in h.items)
    def call(s, i):
        if i == 2: h.items[0] = torch.zeros(7)
        if i == 4: h.items.append(torch.zeros(1))
        return s(torch.randn(3))
    return compile(step), lambda: (), call

@case
def shape_of_dict_value(compile):
    h = {"a": torch.zeros(2)}
    def step(x):
        return x * h["a"].nelement()
    def call(s, i):
        if i == 3: h["a"] = torch.zeros(5)
        return s(torch.randn(3))
    return compile(step), lambda: (), call

@case
def shape_of_optimizer_state(compile):
    m = nn.Linear(2, 2); opt = torch.optim.Adam(m.parameters(), lr=0.1)
    def step(x):
        loss = m(x).sum(); opt.zero_grad(); loss.backward(); opt.step()
        st = opt.state[m.weight]
        return loss * st["exp_avg"].shape[0]
    return compile(step), lambda: (m, opt), lambda s, i: s(torch.randn(3, 2))

@case
def shape_of_view_of_buffer(compile):
    h = H(); h.base = torch.zeros(6); h.v = h.base[:3]
    def step(x):
        return x * h.v.shape[0]
    def call(s, i):
        if i == 2: h.v = h.base[:2]
        if i == 4: h.base.resize_(2); 
        return s(torch.randn(3))
    return compile(step), lambda: (), call

@case
def size_method_whole(compile):
    h = H(); h.s = torch.zeros(2, 3)
    def step(x):
        return x.reshape(h.s.size())
    def call(s, i):
        if i == 2: h.s = torch.zeros(3, 2)
        if i == 4: h.s = torch.zeros(6)
        return s(torch.randn(6))
    return compile(step), lambda: (), call

@case
def shape_read_via_data(compile):
    h = H(); h.s = torch.zeros(4)
    def step(x):
        return x * h.s.data.shape[0]
    def call(s, i):
        if i == 2: h.s.data = torch.zeros(5)
        return s(torch.randn(3))
    return compile(step), lambda: (), call

@case
def shape_read_via_T(compile):
    h = H(); h.s = torch.zeros(2, 4)
    def step(x):
        return x * h.s.T.shape[0]
    def call(s, i):
        if i == 2: h.s.data = torch.zeros(3, 4)
        if i == 4: h.s.resize_(5, 4)
        return s(torch.randn(3))
    return compile(step), lambda: (), call

@case
def shape_of_parameter_data_set(compile):
    m = nn.Linear(2, 2)
    def step(x):
        return x * m.weight.shape[0]
    def call(s, i):
        if i == 2: m.weight.data = torch.zeros(3, 2)
        return s(torch.randn(3))
    return compile(step), lambda: (m,), call

@case
def shape_stride_read(compile):
    h = H(); h.s = torch.zeros(2, 3)
    def step(x):
        return x * (1.0 if h.s.is_contiguous() else 2.0) * h.s.stride(0)
    def call(s, i):
        if i == 2: h.s = torch.zeros(3, 2).t()
        return s(torch.randn(3))
    return compile(step), lambda: (), call

@case
def device_or_layout_read(compile):
    h = H(); h.s = torch.zeros(2, 3)
    def step(x):
        return x * h.s.element_size()
    def call(s, i):
        if i == 2: h.s = torch.zeros(2, 3, dtype=torch.float64)
        return s(torch.randn(3))
    return compile(step), lambda: (), call

@case
def itemsize_read(compile):
    h = H(); h.s = torch.zeros(2, 3)
    def step(x):
        return x * h.s.dtype.itemsize
    def call(s, i):
        if i == 2: h.s = torch.zeros(2, 3, dtype=torch.float64)
        return s(torch.randn(3))
    return compile(step), lambda: (), call

@case
def shape_via_iter(compile):
    h = H(); h.s = torch.zeros(2, 3)
    def step(x):
        return x * sum(1 for _ in h.s)
    def call(s, i):
        if i == 2: h.s = torch.zeros(4, 3)
        return s(torch.randn(3))
    return compile(step), lambda: (), call

@case
def shape_via_unbind(compile):
    h = H(); h.s = torch.zeros(2, 3)
    def step(x):
        return x * len(h.s.unbind(0))
    def call(s, i):
        if i == 2: h.s = torch.zeros(4, 3)
        return s(torch.randn(3))
    return compile(step), lambda: (), call

@case
def shape_via_requires_grad_and_is_leaf(compile):
    h = H(); h.s = torch.zeros(2)
    def step(x):
        return x * (2.0 if h.s.is_leaf else 3.0) * (5.0 if h.s.requires_grad else 7.0)
    def call(s, i):
        if i == 2: h.s = torch.zeros(2, requires_grad=True)
        if i == 4: h.s = torch.zeros(2, requires_grad=True) * 1
        return s(torch.randn(3))
    return compile(step), lambda: (), call

# ---------------------------------------------------------------- c4

@case
def requires_grad_flag_read(compile):
    h = H(); h.s = torch.zeros(2)
    def step(x):
        return x * (5.0 if h.s.requires_grad else 7.0)
    def call(s, i):
        if i == 2: h.s.requires_grad_(True)
        if i == 4: h.s.requires_grad_(False)
        return s(torch.randn(3))
    return compile(step), lambda: (), call

@case
def is_leaf_read(compile):
    h = H(); h.s = torch.zeros(2)
    def step(x):
        return x * (2.0 if h.s.is_leaf else 3.0)
    def call(s, i):
        if i == 2: h.s = torch.zeros(2, requires_grad=True) * 1
        return s(torch.randn(3))
    return compile(step), lambda: (), call

@case
def gen_argument(compile):
    def step(x, g):
        return x + torch.randn(3, generator=g)
    g = torch.Generator().manual_seed(1)
    def call(s, i):
        if i == 3: g.manual_seed(5)
        return s(torch.randn(3), g)
    return compile(step), lambda: (g,), call

@case
def gen_argument_swapped(compile):
    def step(x, g):
        return x + torch.rand(3, generator=g)
    gs = [torch.Generator().manual_seed(k) for k in range(2)]
    return compile(step), lambda: tuple(gs), lambda s, i: s(torch.randn(3), gs[i % 2])

@case
def gen_in_module(compile):
    m = nn.Linear(3, 3); m.gen = torch.Generator().manual_seed(3)
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    def step(x):
        noise = torch.randn(x.shape, generator=m.gen)
        loss = m(x + noise).sum(); opt.zero_grad(); loss.backward(); opt.step()
        return loss
    def call(s, i):
        if i == 2: torch.randn(2, generator=m.gen)     # used outside
        if i == 4: m.gen.set_state(torch.Generator().manual_seed(9).get_state())
        return s(torch.randn(2, 3))
    return compile(step), lambda: (m, opt, m.gen), call

@case
def gen_shared_two_compiled(compile):
    g = torch.Generator().manual_seed(7)
    f1 = compile(lambda x: x + torch.rand(3, generator=g))
    f2 = compile(lambda x: x * torch.rand(3, generator=g))
    def call(s, i):
        return f1(torch.ones(3)), f2(torch.ones(3))
    return None, lambda: (g,), call

@case
def gen_made_in_call(compile):
    def step(x):
        g = torch.Generator().manual_seed(int(3))
        return x + torch.rand(3, generator=g)
    return compile(step), lambda: (), lambda s, i: s(torch.randn(3))

@case
def gen_global_and_local(compile):
    g = torch.Generator().manual_seed(11)
    def step(x):
        a = torch.rand(3, generator=g)
        b = torch.rand(3)
        c = torch.randint(0, 5, (3,), generator=g)
        return x + a + b + c
    def call(s, i):
        if i == 3: torch.manual_seed(1)
        if i == 4: g.manual_seed(2)
        return s(torch.randn(3))
    return compile(step), lambda: (g,), call

@case
def gen_reached_unused(compile):
    h = H(); h.g = torch.Generator().manual_seed(1)
    def step(x):
        return x * 2 + torch.rand(3)
    def call(s, i):
        torch.rand(1, generator=h.g)
        return s(torch.randn(3))
    return compile(step), lambda: (h.g,), call

@case
def gen_dropout_module_with_generator(compile):
    g = torch.Generator().manual_seed(4)
    def step(x):
        return torch.nn.functional.dropout(x, 0.5) + torch.bernoulli(torch.full((3,), 0.5), generator=g)
    return compile(step), lambda: (g,), lambda s, i: s(torch.randn(3))

@case
def gen_randperm_multinomial(compile):
    g = torch.Generator().manual_seed(4)
    def step(x):
        p = torch.randperm(3, generator=g)
        k = torch.multinomial(torch.ones(3), 2, generator=g)
        return x[p] + x[k].sum()
    def call(s, i):
        if i == 2: g.manual_seed(4)
        return s(torch.randn(3))
    return compile(step), lambda: (g,), call

@case
def gen_normal_inplace(compile):
    g = torch.Generator().manual_seed(4)
    w = torch.zeros(3)
    def step(x):
        w.normal_(0, 1, generator=g)
        w.uniform_(generator=g) if False else None
        return x + w
    return compile(step), lambda: (g, w), lambda s, i: s(torch.randn(3))

@case
def item_read_library(compile):
    m = nn.Linear(3, 1); opt = torch.optim.SGD(m.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    def step(x):
        loss = m(x).pow(2).mean(); opt.zero_grad(); loss.backward(); opt.step()
        sched.step(loss)
        return loss
    return compile(step), lambda: (m, opt, opt.param_groups[0]["lr"]), lambda s, i: s(torch.randn(4, 3))

@case
def item_read_normal_std_tensor(compile):
    def step(x, s):
        return x + torch.normal(0.0, s, size=(3,))
    return compile(step), lambda: (), lambda s, i: s(torch.randn(3), torch.tensor(float(i + 1)))

@case
def item_read_clip_value_tensor(compile):
    m = nn.Linear(3, 1)
    def step(x, c):
        m(x).sum().backward()
        nn.utils.clip_grad_norm_(m.parameters(), c)
        g = [p.grad.clone() for p in m.parameters()]
        m.zero_grad()
        return g
    return compile(step), lambda: (m,), lambda s, i: s(torch.randn(4, 3), torch.tensor(0.1 * (i + 1)))

@case
def item_read_lr_tensor(compile):
    m = nn.Linear(3, 1); opt = torch.optim.SGD(m.parameters(), lr=0.1)
    lr = torch.tensor(0.1)
    def step(x):
        loss = m(x).sum(); opt.zero_grad(); loss.backward()
        for grp in opt.param_groups: grp["lr"] = lr * 1.0
        opt.step()
        return loss
    def call(s, i):
        lr.fill_(0.01 * (i + 1))
        return s(torch.randn(4, 3))
    return compile(step), lambda: (m, opt), call

@case
def item_read_topk_k(compile):
    def step(x, k):
        return torch.topk(x, k).values
    return compile(step), lambda: (), lambda s, i: s(torch.randn(5), torch.tensor(1 + i % 3))

@case
def item_read_arange_tensor_end(compile):
    def step(x, n):
        return x[: n] * torch.arange(n)
    return compile(step), lambda: (), lambda s, i: s(torch.randn(6), torch.tensor(1 + i % 3))

@case
def item_read_full_fill(compile):
    def step(x, v):
        return x + torch.full((3,), v)
    return compile(step), lambda: (), lambda s, i: s(torch.randn(3), torch.tensor(float(i)))

@case
def item_read_range_python(compile):
    def step(x, n):
        out = x
        for _ in range(n):
            out = out * 2
        return out
    return compile(step), lambda: (), lambda s, i: s(torch.randn(3), torch.tensor(i % 3))

# ---------------------------------------------------------------- c5

class M(nn.Module):
    def __init__(self):
        super().__init__(); self.lin = nn.Linear(3, 3); self.register_buffer("avg", torch.zeros(3))

@case
def buffer_rebound_other_shape(compile):
    m = M()
    def step(x):
        y = m.lin(x)
        m.avg = torch.cat([m.avg, y.detach().mean(0)])[-3 * (1 + (m.avg.shape[0] // 3 % 2)):]
        return y.sum()
    return compile(step), lambda: (m,), lambda s, i: s(torch.randn(2, 3))

@case
def buffer_rebound_none(compile):
    m = M()
    def step(x):
        y = m.lin(x) + (0 if m.avg is None else m.avg)
        m.avg = None if m.avg is not None else y.detach().mean(0)
        return y.sum()
    return compile(step), lambda: (m,), lambda s, i: s(torch.randn(2, 3))

@case
def buffer_registered_in_step(compile):
    m = M()
    def step(x):
        y = m.lin(x)
        if "extra" not in m._buffers:
            m.register_buffer("extra", y.detach().sum(0))
        else:
            m.extra = m.extra + 1
        return y.sum()
    return compile(step), lambda: (m,), lambda s, i: s(torch.randn(2, 3))

@case
def buffer_deleted(compile):
    m = M()
    def step(x):
        y = m.lin(x)
        if hasattr(m, "avg"):
            y = y + m.avg
            del m.avg
        else:
            m.register_buffer("avg", y.detach().mean(0))
        return y.sum()
    return compile(step), lambda: (m,), lambda s, i: s(torch.randn(2, 3))

@case
def buffer_rebound_ema_compiled_model(compile):
    m = M(); opt = torch.optim.SGD(m.parameters(), lr=0.1)
    orig = m.forward
    def fwd(x):
        y = m.lin(x)
        m.avg = 0.9 * m.avg + 0.1 * y.detach().mean(0)
        return y
    m.forward = fwd
    cm = compile(m)
    def call(s, i):
        loss = s(torch.randn(2, 3)).pow(2).sum(); opt.zero_grad(); loss.backward(); opt.step()
        return loss
    return cm, lambda: (m, opt), call

@case
def buffer_rebound_caller_swaps(compile):
    m = M()
    def step(x):
        m.avg = m.avg * 0.5 + x.mean(0)
        return m.lin(x).sum() + m.avg.sum()
    def call(s, i):
        if i == 2: m.avg = torch.ones(3)
        if i == 4: m.avg.mul_(3)
        return s(torch.randn(2, 3))
    return compile(step), lambda: (m,), call

@case
def buffer_rebound_to_argument(compile):
    m = M()
    def step(x, b):
        y = m.lin(x).sum() + m.avg.sum()
        m.avg = b
        return y
    bs = []
    def call(s, i):
        b = torch.randn(3); bs.append(b)
        r = s(torch.randn(2, 3), b)
        b.add_(1)
        return r
    return compile(step), lambda: (m, m.avg is bs[-1]), call

@case
def buffer_rebound_to_param_view(compile):
    m = M()
    def step(x):
        y = m.lin(x).sum() + m.avg.sum()
        m.avg = m.lin.bias.detach()
        return y
    def call(s, i):
        r = s(torch.randn(2, 3))
        with torch.no_grad(): m.lin.bias.add_(1)
        return r
    return compile(step), lambda: (m,), call

@case
def buffer_rebound_twice_same_tensor(compile):
    m = M(); m.register_buffer("b2", torch.zeros(3))
    def step(x):
        t = x.mean(0)
        m.avg = t
        m.b2 = t
        m.avg.add_(1)
        return m.lin(x).sum()
    return compile(step), lambda: (m, m.avg is m.b2), lambda s, i: s(torch.randn(2, 3))

@case
def buffer_rebound_nonpersistent_state_dict(compile):
    m = M(); m.register_buffer("np", torch.zeros(3), persistent=False)
    def step(x):
        m.np = m.np + x.mean(0)
        return m.lin(x).sum()
    return compile(step), lambda: (m, list(m.state_dict().keys())), lambda s, i: s(torch.randn(2, 3))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_agrees_with_eager(case):
    check(case, raises=case.__name__ in RAISES)


def _recordings(compiled):
    assert compiled.eager_reason is None, compiled.eager_reason
    return sum(map(len, compiled.recordings.values()))


@pytest.mark.parametrize("where", ["global", "argument", "module"])
def test_generator_step_replays(where):
    g = torch.Generator().manual_seed(7)
    m = nn.Module()
    m.gen = g
    if where == "argument":
        f = torch.compile(lambda x, g: x + torch.rand(3, generator=g))
        call = lambda: f(torch.ones(3), g)
    elif where == "module":
        f = torch.compile(lambda x: x + torch.rand(3, generator=m.gen))
        call = lambda: f(torch.ones(3))
    else:
        f = torch.compile(lambda x: x + torch.rand(3, generator=g))
        call = lambda: f(torch.ones(3))
    for _ in range(4):
        call()
    assert _recordings(f) == 1


def test_default_generator_step_replays():
    f = torch.compile(lambda x: x + torch.rand(3))
    for _ in range(4):
        f(torch.ones(3))
    assert _recordings(f) == 1
