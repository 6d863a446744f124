"""chainrule.compile against eager execution for dtype and device handling as course code writes it:
the ``device = torch.device("cuda" if torch.cuda.is_available() else "cpu")`` idiom, ``.to(device,
non_blocking=True)``, ``.cuda()`` raising as PyTorch does without CUDA, ``.double()``/``.float()``/
``.half()`` on the model and the data between calls, ``x.type(...)`` and ``x.type()`` strings, the
legacy constructors (``torch.FloatTensor``, ``torch.LongTensor``, ``torch.Tensor(n, m)``) and
``Variable``, ``set_default_dtype`` switched between calls with factories inside the step, int/bool
promotion, ``.item()``/``.tolist()`` types, ``finfo``/``iinfo``, ``new_*`` factories, mixed-dtype
errors and ``autocast`` on the CPU.

Each workflow runs eagerly and compiled once, for several calls whose
values change, and everything observable is compared bit for bit (errors by type and message).
"""
import os
import warnings

import numpy as np
import pytest
import torch as real_torch

import chainrule as torch
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.bitwise import assert_identical

CALLS = 5


# ----------------------------------------------------------------------------- harness
def snap(value, returned=False):
    """Everything observable of ``value`` as plain arrays, strings and Python values. Of a
    ``returned`` tensor the graph flags are left out: a replay returns values without their graph,
    whose backward already ran inside the step (as the other compile tests accept)."""
    if isinstance(value, torch.Tensor):
        if returned:
            return {"dtype": str(value.dtype), "device": str(value.device), "value": np.array(value.detach().numpy(), copy=True)}
        grad = None if value.grad is None else snap(value.grad)
        return {"dtype": str(value.dtype), "device": str(value.device), "requires_grad": value.requires_grad,
                "leaf": value.is_leaf, "value": np.array(value.detach().numpy(), copy=True), "grad": grad}
    if isinstance(value, nn.Module):
        return {"state": snap(dict(value.state_dict())),
                "grads": {name: snap(p.grad) for name, p in value.named_parameters()},
                "training": value.training}
    if isinstance(value, optim.Optimizer):
        state = value.state_dict()
        return {"state": snap(state["state"]), "groups": snap([{k: v for k, v in g.items() if k != "params"} for g in state["param_groups"]])}
    if isinstance(value, dict):
        return {key: snap(item, returned) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(snap(item, returned) for item in value)
    if isinstance(value, (torch.dtype, torch.device)):
        return ("dtype/device", str(value))
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, np.generic):
        return ("numpy scalar", type(value).__name__, value.item())
    return value


class Case:
    def __init__(self, step, inputs, observe=lambda: [], before=None, cleanup=None):
        self.step, self.inputs, self.observe = step, inputs, observe
        self.before = before or (lambda index: None)
        self.cleanup = cleanup or (lambda: None)


FALLBACKS = {}


def run(setup, compiled, calls):
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_default_dtype(torch.float32)
    case = setup()
    function = torch.compile(case.step) if compiled else case.step
    results = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            for index in range(calls):
                case.before(index)
                arguments = case.inputs(index)
                try:
                    result = snap(function(*arguments), returned=True)
                except Exception as error:  # compared by type and message
                    result = ("raised", type(error).__name__, str(error))
                results.append([result, snap(arguments), snap(case.observe()), snap(torch.get_rng_state())])
        finally:
            case.cleanup()
            torch.set_default_dtype(torch.float32)
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return results, messages


def check(setup, calls=CALLS):
    first, eager_messages = run(setup, False, calls)
    compiled, messages = run(setup, True, calls)
    assert not eager_messages
    assert len(messages) <= 1, messages
    assert_identical(compiled, first, "compiled")
    if messages:
        FALLBACKS[os.environ.get("PYTEST_CURRENT_TEST", setup.__qualname__).split("::")[-1].split(" ")[0]] = messages[0]
    return first, messages


def raised(results):
    return [r[0][1] if isinstance(r[0], tuple) and r[0] and r[0][0] == "raised" else None for r in results]


def data(shape, seed, dtype=np.float32):
    return torch.tensor(np.random.default_rng(seed).normal(size=shape).astype(dtype))


def labels(n, classes, seed):
    return torch.tensor(np.random.default_rng(seed).integers(0, classes, n))


# ----------------------------------------------------------------------------- devices
def test_course_device_idiom_with_non_blocking_moves_and_device_comparisons():
    def setup():
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 3)).to(device)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            x, y = x.to(device, non_blocking=True), y.to(device=device)
            opt.zero_grad()
            out = model(x)
            loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            same = out.device == device and x.device.type == "cpu" and not x.is_cuda and x.device != torch.device("cpu", 0)
            moved = x.to(device=device, dtype=torch.float64)
            return loss.cpu(), moved * 2, str(out.device), same, next(model.parameters()).device.type, loss.detach().cpu()

        return Case(step, lambda i: (data((6, 3), i), labels(6, 3, 50 + i)), lambda: [model, opt])

    check(setup)


def test_cpu_device_with_index_zero_as_an_argument_and_a_global():
    def setup():
        model = nn.Linear(3, 2)
        opt = optim.Adam(model.parameters(), lr=0.05)
        devices = [torch.device("cpu", 0), "cpu", torch.device("cpu"), torch.device("cpu:0"), "cpu"]

        def step(x, y, dev):
            model.to(dev)
            opt.zero_grad()
            loss = F.mse_loss(model(x.to(dev)), y.to(dev, torch.float32))
            loss.backward()
            opt.step()
            return loss, str(dev), torch.zeros(2, device=dev), x.new_ones(1, device=dev).device.type

        return Case(step, lambda i: (data((4, 3), i), data((4, 2), 20 + i, np.float64), devices[i]), lambda: [model, opt])

    check(setup)


def test_cuda_calls_raise_as_pytorch_does_without_cuda():
    flags = {}

    def setup():
        model = nn.Linear(3, 2)
        opt = optim.SGD(model.parameters(), lr=0.1)
        flags["how"] = None

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            opt.step()
            if flags["how"] == "cuda":
                x = x.cuda()
            elif flags["how"] == "to":
                x = x.to("cuda:0")
            elif flags["how"] == "model":
                model.cuda()
            elif flags["how"] == "type":
                x = x.type("torch.cuda.FloatTensor")
            return loss, x * 3

        def before(index):
            flags["how"] = [None, "cuda", None, "to", "model", "type", None][index]

        return Case(step, lambda i: (data((4, 3), i),), lambda: [model, opt], before=before)

    results, _ = check(setup, calls=7)
    kinds = raised(results)
    assert kinds[:5] + kinds[6:] == [None, "AssertionError", None, "AssertionError", "AssertionError", None]
    assert kinds[5] is not None  # x.type("torch.cuda.FloatTensor"): PyTorch's error depends on its build
    with pytest.raises(AssertionError):
        real_torch.ones(2).cuda()
    with pytest.raises(AssertionError):
        real_torch.nn.Linear(2, 2).cuda()


# ----------------------------------------------------------------------------- dtype switches between calls
def test_model_and_data_dtype_switched_between_calls_keep_the_optimizer():
    order = [torch.float32, torch.float64, torch.float64, torch.float16, torch.float32, torch.float64]

    def setup():
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
        converters = {torch.float32: model.float, torch.float64: model.double, torch.float16: model.half}

        def before(index):
            converters[order[index]]()

        def step(x, y):
            dtype = next(model.parameters()).dtype
            opt.zero_grad()
            loss = F.mse_loss(model(x.to(dtype)), y.type(dtype))
            loss.backward()
            opt.step()
            return loss, str(loss.dtype), x.type(), y.to(dtype).type()

        return Case(step, lambda i: (data((4, 3), i, np.float64), data((4, 2), 30 + i)), lambda: [model, opt], before=before)

    check(setup, calls=len(order))


def test_model_to_device_and_dtype_keywords_between_calls():
    def setup():
        device = torch.device("cpu")
        model = nn.Linear(3, 2)
        opt = optim.Adam(model.parameters(), lr=0.01)

        def before(index):
            model.to(device=device, dtype=torch.float64 if index % 2 else torch.float32)

        def step(x):
            p = model.weight
            opt.zero_grad()
            out = model(x.to(p))
            out.sum().backward()
            opt.step()
            return out, str(p.dtype), str(torch.get_default_dtype()), out.type()

        return Case(step, lambda i: (data((2, 3), i, np.float16),), lambda: [model, opt], before=before)

    check(setup)


def test_type_calls_and_type_strings_branch_inside_the_step():
    dtypes = [np.float32, np.float64, np.int64, np.float32, np.int32]

    def setup():
        w = torch.ones(3, requires_grad=True)

        def step(x):
            kind = x.type()
            if kind == "chainrule.LongTensor" or kind == "chainrule.IntTensor":
                xf = x.type(torch.FloatTensor)
            elif kind == "chainrule.DoubleTensor":
                xf = x.float()
            else:
                xf = x
            out = (xf * w).sum()
            out.backward()
            as_long = (xf * 2.5).type(torch.LongTensor)
            return out, kind, as_long, as_long.type(), xf.type(torch.DoubleTensor), x.type("torch.FloatTensor")

        def inputs(i):
            return (torch.tensor((np.random.default_rng(i).normal(size=3) * 4).astype(dtypes[i])),)

        return Case(step, inputs, lambda: [w])

    check(setup)


# ----------------------------------------------------------------------------- legacy constructors
def test_legacy_constructors_and_variable_inside_the_step():
    def setup():
        model = nn.Linear(3, 2)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(rows, targets):
            x = torch.autograd.Variable(torch.FloatTensor(rows), requires_grad=True)
            y = torch.LongTensor(targets)
            noise = torch.Tensor(len(rows), 3).normal_(0, 0.01)
            scratch = torch.Tensor(2, 2).fill_(0.5)
            opt.zero_grad()
            loss = F.cross_entropy(model(x + noise), y)
            loss.backward()
            opt.step()
            return loss, x.grad, y, scratch, str(noise.dtype), str(y.dtype), x.is_leaf

        def inputs(i):
            rng = np.random.default_rng(i)
            return rng.normal(size=(4, 3)).tolist(), rng.integers(0, 2, 4).tolist()

        return Case(step, inputs, lambda: [model, opt])

    check(setup)


def test_variable_wrapping_outside_the_step_then_passed_in():
    def setup():
        w = torch.autograd.Variable(torch.Tensor([[0.5, -0.2, 0.1]]), requires_grad=True)

        def step(x):
            x = torch.autograd.Variable(x)
            loss = ((x @ w.t()) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                w -= 0.1 * w.grad
            g = w.grad.clone()
            w.grad.zero_()
            return loss, g, x.requires_grad

        return Case(step, lambda i: (torch.FloatTensor(np.random.default_rng(i).normal(size=(4, 3)).tolist()),), lambda: [w])

    check(setup)


# ----------------------------------------------------------------------------- default dtype
@pytest.mark.parametrize("legacy", [False, True], ids=["factories", "legacy_Tensor"])
def test_factories_inside_the_step_follow_the_default_dtype_switched_between_calls(legacy):
    wide = [False, True, True, False, True]

    def setup():
        def before(index):
            torch.set_default_dtype(torch.float64 if wide[index] else torch.float32)

        def step(x):
            a = torch.zeros(3) + torch.ones(3) * 0.1
            b = torch.tensor([1.0, 2.5, 1.0 / 3]) if legacy else torch.tensor(1.0 / 3) * torch.ones(3)
            c = torch.as_tensor([0.1, 0.2, 0.3]) if legacy else torch.as_tensor(0.1) + torch.zeros(3)
            d = torch.arange(0.0, 3.0) / 7
            e = torch.full((3,), 1.0 / 3)
            f = torch.Tensor(3).fill_(0.7) if legacy else torch.ones(3) * 0.7
            g = torch.FloatTensor([0.1, 0.2, 0.3]) if legacy else torch.ones(3, dtype=torch.float32) * 0.1 + torch.tensor(0.2, dtype=torch.float32)
            h = torch.linspace(0, 1, 3) + torch.tensor(1.0 / 7)
            r = torch.randn(3)
            ints = torch.arange(3) + torch.tensor(2)
            promoted = (ints * 0.5, ints / 2, (x > 0) * 1.5, ints.sum() * 1.0, torch.sigmoid(ints), ints + torch.tensor(0.5))
            total = x + a + b + c + d + e + f + g + h + r
            return total, ints, str(torch.get_default_dtype()), [str(t.dtype) for t in (a, b, c, d, e, f, g, h, r, total, *promoted)], promoted

        return Case(step, lambda i: (data((3,), i),), before=before)

    first, _ = check(setup)
    assert [r[0][2] for r in first] == ["chainrule.float64" if w else "chainrule.float32" for w in wide]


def test_default_dtype_changes_a_model_built_inside_the_step():
    wide = [True, False, True, True, False]

    def setup():
        def before(index):
            torch.set_default_dtype(torch.float64 if wide[index] else torch.float32)

        def step(x, seed):
            torch.manual_seed(seed)
            model = nn.Linear(3, 2)
            out = model(x.to(torch.get_default_dtype()))
            out.sum().backward()
            return out, model.weight.grad, str(model.weight.dtype)

        return Case(step, lambda i: (data((2, 3), i), 7), before=before)

    check(setup)


# ----------------------------------------------------------------------------- promotion and Python values
@pytest.mark.parametrize("read", [False, True], ids=["tensors", "item_tolist"])
def test_int_and_bool_promotion_accuracy_counting(read):
    def setup():
        model = nn.Linear(4, 3)
        opt = optim.SGD(model.parameters(), lr=0.5)

        def step(x, y, mask):
            opt.zero_grad()
            out = model(x)
            loss = F.cross_entropy(out, y, reduction="none")
            loss = (loss * mask.float()).sum() / mask.long().sum().clamp(min=1)
            loss.backward()
            opt.step()
            pred = out.argmax(1)
            correct = (pred == y).sum()
            extra = (y * 1.5, y / 2, y // 2, mask + 1, mask.sum(), y.float().mean(), mask.long() * y, (pred == y).float().mean())
            if read:
                return loss, correct, str(correct.dtype), correct.item(), correct.item() / y.shape[0], pred.tolist(), out.tolist(), extra
            return loss, correct, str(correct.dtype), correct / y.shape[0], correct.double() / len(y), extra

        def inputs(i):
            rng = np.random.default_rng(i)
            return data((6, 4), i), labels(6, 3, 40 + i), torch.tensor(rng.random(6) < 0.6)

        return Case(step, inputs, lambda: [model, opt])

    results, _ = check(setup)
    if read:
        for r in results:
            assert type(r[0][3]) is int and type(r[0][4]) is float and type(r[0][5][0]) is int and type(r[0][6][0][0]) is float


def test_tensor_of_python_lists_with_explicit_dtypes_inside_the_step():
    def setup():
        w = torch.zeros(3, dtype=torch.float64, requires_grad=True)

        def step(values, ints):
            a = torch.tensor(values, dtype=torch.float64)
            b = torch.as_tensor(ints)
            c = torch.tensor(ints, dtype=torch.float32)
            d = torch.as_tensor(values, dtype=torch.float16)
            e = torch.tensor([v > 0 for v in values])
            loss = ((a * w).sum() - b.sum()) ** 2 + (c.double() * w).sum() + d.double().sum() * e.sum()
            loss.backward()
            with torch.no_grad():
                w.sub_(0.01 * w.grad)
                w.grad = None
            return loss, a, b, c, d, e, str(b.dtype)

        def inputs(i):
            rng = np.random.default_rng(i)
            return rng.normal(size=3).tolist(), rng.integers(-4, 4, 3).tolist()

        return Case(step, inputs, lambda: [w])

    check(setup)


def test_item_and_tolist_types_of_values_read_inside_the_step():
    def setup():
        model = nn.Linear(2, 1).double()
        opt = optim.SGD(model.parameters(), lr=0.1)
        history = []

        def step(x, y, count):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            history.append((loss.item(), count.item(), count.tolist(), y.argmax().item(), (y > 0).any().item(), x.shape[0]))
            return x.sum().item() * count.item(), float(loss), int(count), bool(count > 2)

        def inputs(i):
            return data((3, 2), i, np.float64), data((3, 1), 60 + i, np.float64), torch.tensor(i + 1)

        return Case(step, inputs, lambda: [model, opt, list(history)])

    check(setup)


# ----------------------------------------------------------------------------- finfo / iinfo / new_*
def test_finfo_and_iinfo_follow_the_input_dtype_between_calls():
    dtypes = [np.float32, np.float64, np.float16, np.float64, np.float32]

    def setup():
        def step(x, y):
            info = torch.finfo(x.dtype)
            p = x.abs() / (x.abs().sum() + info.eps)
            log_p = p.clamp(min=info.tiny).log()
            big = y.masked_fill(y < 0, torch.iinfo(y.dtype).max)
            low = y.clamp(max=torch.iinfo(torch.int32).max)
            return log_p, big, low, info.eps, info.max, torch.finfo().eps, torch.iinfo(y.dtype).min

        def inputs(i):
            rng = np.random.default_rng(i)
            ints = rng.integers(-3, 3, 4).astype(np.int64 if i % 2 else np.int32)
            return torch.tensor(rng.normal(size=4).astype(dtypes[i])), torch.tensor(ints)

        return Case(step, inputs)

    check(setup)


def test_new_factories_and_like_factories_with_dtype_switching_between_calls():
    dtypes = [np.float32, np.float64, np.float64, np.float16, np.int64]

    def setup():
        def step(x):
            a = x.new_zeros((2, 2))
            b = x.new_full((2,), 3)
            c = x.new_zeros(2) + x.new_ones(1)
            d = x.new_ones(3, dtype=torch.float64)
            e = torch.zeros_like(x, dtype=torch.int32)
            f = torch.ones_like(x, dtype=torch.float64) * x.double()
            g = torch.full_like(x, 7)
            h = x.new_ones(2) * 7
            i = x.new_tensor(x)
            return a, b, c, d, e, f, g, h, i, str(i.dtype) + str(e.dtype)

        def inputs(i):
            return (torch.tensor((np.random.default_rng(i).normal(size=3) * 3).astype(dtypes[i])),)

        return Case(step, inputs)

    check(setup)


# ----------------------------------------------------------------------------- errors and mixed dtypes
def test_float32_model_with_float64_data_raises_as_pytorch_on_some_calls():
    wide = [False, False, True, False, True, False]

    def setup():
        model = nn.Linear(3, 2)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            return data((4, 3), i, np.float64 if wide[i] else np.float32), data((4, 2), 20 + i)

        return Case(step, inputs, lambda: [model, opt])

    results, _ = check(setup, calls=len(wide))
    assert raised(results) == [None, None, "RuntimeError", None, "RuntimeError", None]
    with pytest.raises(RuntimeError):
        real_torch.nn.Linear(3, 2)(real_torch.ones(4, 3, dtype=real_torch.float64))


def test_dtype_errors_inside_the_step_match_pytorch_types():
    def setup():
        def step(x, y, which):
            if which == 0:
                return x.long().mean()
            if which == 1:
                return F.cross_entropy(x, y.int())
            if which == 2:
                return F.cross_entropy(x, y.float())
            if which == 3:
                return x.bfloat16()
            return F.cross_entropy(x, y)

        return Case(step, lambda i: (data((3, 4), i), labels(3, 4, i), i))

    results, _ = check(setup)
    kinds = raised(results)
    torch_kinds = []
    for which in range(4):
        x, y = real_torch.ones(3, 4), real_torch.tensor([0, 1, 2])
        try:
            [lambda: x.long().mean(), lambda: real_torch.nn.functional.cross_entropy(x, y.int()),
             lambda: real_torch.nn.functional.cross_entropy(x, y.float()), lambda: None][which]()
            torch_kinds.append(None)
        except Exception as error:
            torch_kinds.append(type(error).__name__)
    assert kinds[:3] == torch_kinds[:3]
    assert kinds[3] == "TypeError" and kinds[4] is None  # bfloat16: documented as unsupported


def test_float64_gradients_flow_back_to_float32_leaves():
    def setup():
        w = torch.tensor([0.3, -0.7, 0.2], requires_grad=True)

        def step(x):
            out = (w.double() * x).sum() + (w.half().float() * 2).sum()
            out.backward()
            return out, str(w.grad.dtype), w.grad.clone()

        return Case(step, lambda i: (data((3,), i, np.float64),), lambda: [w])

    results, _ = check(setup)
    x = real_torch.tensor(np.random.default_rng(0).normal(size=3))
    w = real_torch.tensor([0.3, -0.7, 0.2], requires_grad=True)
    ((w.double() * x).sum() + (w.half().float() * 2).sum()).backward()
    np.testing.assert_allclose(results[0][0][2]["value"], w.grad.numpy(), rtol=1e-6)
    assert results[0][0][1] == "chainrule.float32"


def test_numpy_round_trip_inside_the_step_keeps_float64():
    def setup():
        model = nn.Linear(3, 1)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            features = x.cpu().numpy() * 2.0
            raw = torch.from_numpy(features.astype(np.float64))  # float64 from NumPy
            feats = torch.from_numpy(np.ascontiguousarray(features)).float()
            opt.zero_grad()
            loss = model(feats).pow(2).mean() + raw.sum().float() * 0
            loss.backward()
            opt.step()
            return loss, str(raw.dtype), str(feats.dtype), raw

        return Case(step, lambda i: (data((4, 3), i),), lambda: [model, opt])

    check(setup)


# ----------------------------------------------------------------------------- autocast
def test_autocast_bfloat16_forward_with_dtype_reported_and_model_switches():
    def setup():
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model = nn.Linear(3, 2).to(device)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def before(index):
            if index == 3:
                model.double()

        def step(x, y, enabled):
            dtype = model.weight.dtype
            opt.zero_grad()
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled):
                out = model(x.to(dtype))
                inside = (str(out.dtype), torch.is_autocast_enabled())
            loss = F.mse_loss(out.to(dtype), y.to(dtype))
            loss.backward()
            opt.step()
            return loss, inside, str(out.dtype)

        return Case(step, lambda i: (data((4, 3), i), data((4, 2), 20 + i), i % 2 == 0), lambda: [model, opt], before=before)

    check(setup)


def test_dtype_passed_as_an_argument_and_type_with_gradients():
    chosen = [torch.float32, torch.float64, torch.float64, torch.float16, torch.float32]

    def setup():
        w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
        opt = optim.Adam([w], lr=0.1)

        def step(x, dtype):
            opt.zero_grad()
            v = w.to(dtype) if dtype != torch.float16 else w.type(torch.HalfTensor)
            loss = (v * x.type(dtype)).sum().float() ** 2
            loss.backward()
            opt.step()
            return loss, v.detach(), x.to(dtype=dtype).type()

        return Case(step, lambda i: (data((3,), i, np.float64), chosen[i]), lambda: [w, opt])

    check(setup)


def test_half_model_with_adam_between_float_calls():
    def setup():
        model = nn.Linear(3, 2)
        opt = optim.Adam(model.parameters(), lr=0.01)

        def before(index):
            if index == 2:
                model.half()
            if index == 4:
                model.float()

        def step(x, y):
            dtype = model.weight.dtype
            opt.zero_grad()
            loss = F.mse_loss(model(x.to(dtype)), y.to(dtype))
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda i: (data((4, 3), i), data((4, 2), 20 + i)), lambda: [model, opt], before=before)

    check(setup)


def test_model_dtype_changed_inside_the_step_from_an_argument():
    wanted = [torch.float32, torch.float32, torch.float64, torch.float64, torch.float32, torch.float16]

    def setup():
        device = torch.device("cpu")
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y, dtype):
            model.to(device)
            if model[0].weight.dtype != dtype:
                model.to(dtype=dtype)
            opt.zero_grad()
            loss = F.mse_loss(model(x.to(device, dtype, non_blocking=True)), y.to(dtype))
            loss.double().backward()
            opt.step()
            return loss, x.to(model[2].weight)

        return Case(step, lambda i: (data((5, 3), i), data((5, 1), 40 + i), wanted[i]), lambda: [model, opt])

    check(setup, calls=len(wanted))


def test_default_dtype_set_inside_the_step_and_restored():
    def setup():
        model = nn.Linear(2, 2).double()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, wide):
            previous = torch.get_default_dtype()
            torch.set_default_dtype(torch.float64 if wide else torch.float32)
            try:
                bias = torch.ones(2) * 0.25 + torch.arange(2) / 3
                opt.zero_grad()
                loss = (model(x.double()) + bias).pow(2).mean()
                loss.backward()
                opt.step()
            finally:
                torch.set_default_dtype(previous)
            return loss, bias

        return Case(step, lambda i: (data((3, 2), i), i % 3 == 1), lambda: [model, opt, str(torch.get_default_dtype())])

    check(setup)


def test_cuda_legacy_tensor_types_exist_and_raise_on_use_as_pytorch():
    assert isinstance(real_torch.cuda.FloatTensor, type)
    with pytest.raises(TypeError):
        real_torch.cuda.FloatTensor([1.0])
    assert isinstance(torch.cuda.FloatTensor, type) and isinstance(torch.cuda.LongTensor, type)
    with pytest.raises(TypeError):
        torch.cuda.FloatTensor([1.0])
    for name in [n for n in dir(real_torch.cuda) if n.endswith("Tensor") and n != "BFloat16Tensor"]:  # no bfloat16 here
        assert isinstance(getattr(torch.cuda, name), type), name
        assert not isinstance(torch.ones(2).to(getattr(torch, name).dtype), getattr(torch.cuda, name))
        assert not isinstance(real_torch.ones(2).to(getattr(real_torch, name).dtype), getattr(real_torch.cuda, name))


def test_report_fallbacks():
    """Prints the fall-backs seen by the tests above (run with -s)."""
    for name, message in FALLBACKS.items():
        print(f"\nFALLBACK {name}: {message}")
