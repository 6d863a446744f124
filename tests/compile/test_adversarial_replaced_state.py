"""chainrule.compile against eager execution where a step REPLACES state rather than writing into
it (the features of test_state_rebound.py): a plain tensor attribute rebound to a tensor the call
computed, ``p.data = ...`` replayed, a Python ``range`` in an index taken as a constant, and a
compiled ``functools.partial``.

Each case builds fresh state from the same seed twice, runs CALLS calls eagerly and compiled, and
compares bit for bit what each call returns (values only: a replayed call returns its tensors
without history, as the README says), the state the case observes after each call (values,
requires_grad, .grad), an exception's type where eager raises, and the random stream afterwards.
Falling back to eager with one warning is allowed; a different value is not."""
import functools
import warnings

import pytest

import chainrule as torch
from chainrule import nn
from tests.compile.bitwise import assert_identical

CALLS = 8


# ----------------------------------------------------------------------------- the harness
class Holder:
    """A plain object holding state, as makemore's layers do."""


def _snap(value, history=True):
    if isinstance(value, torch.Tensor):
        grad = None if value.grad is None else value.grad.numpy().copy()
        return ("tensor", value.detach().numpy().copy(), value.requires_grad if history else None, grad)
    if isinstance(value, (list, tuple)):
        return type(value)(_snap(item, history) for item in value)
    if isinstance(value, dict):
        return {key: _snap(item, history) for key, item in value.items()}
    return value


def _default_call(step, index):
    return step(torch.randn(4, 3))


def _run(case, compiled):
    """``case(compile)`` returns (step, observe, call): call(step, index) makes call ``index``."""
    torch.manual_seed(0)
    step, observe, call = case(torch.compile if compiled else (lambda function: function))
    log = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for index in range(CALLS):
            try:
                log.append(("returned", _snap(call(step, index), history=False), _snap(observe())))
            except Exception as error:  # noqa: BLE001 (compared: compiled must raise where eager raises)
                log.append(("raised", type(error).__name__, _snap(observe())))
    log.append(("random stream after", _snap(torch.rand(3))))
    return log, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]


def check(case, raises=False):
    """Compiled agrees with eager bit for bit; at most one fallback warning. Unless ``raises``, eager
    must not raise (so a case that breaks itself cannot pass vacuously)."""
    eager, _ = _run(case, compiled=False)
    if not raises:
        assert all(entry[0] != "raised" for entry in eager), eager
    compiled, warned = _run(case, compiled=True)
    assert_identical(compiled, eager)
    assert len(warned) <= 1, warned
    return warned


# ----------------------------------------------------------------------------- 1. state rebound
def rebound_to_constant(compile):
    h = Holder()
    h.x = torch.ones(3)

    def step(x):
        y = (x * h.x).sum()
        h.x = torch.zeros(3)
        h.x += x.mean(0)
        return y

    return compile(step), lambda: [h.x], _default_call


def rebound_to_view_of_other_state(compile):
    h = Holder()
    h.x, h.buf = torch.zeros(3), torch.zeros(4, 3)

    def step(x):
        y = (x * h.x).sum()
        with torch.no_grad():
            h.buf += x
        h.x = h.buf[1]
        return y

    def call(step, index):
        result = step(torch.randn(4, 3))
        h.buf.mul_(0.5)  # eagerly h.x, a view of buf, sees it
        return result

    return compile(step), lambda: [h.x, h.buf], call


def rebound_to_argument(compile):
    h = Holder()
    h.x = torch.zeros(4, 3)

    def step(x):
        y = (x + h.x).sum()
        h.x = x
        return y

    def call(step, index):
        x = torch.randn(4, 3)
        result = step(x)
        x.add_(1.0)  # the caller writes its argument, which eagerly is h.x
        return result

    return compile(step), lambda: [h.x], call


def rebound_to_parameter(compile):
    lin = nn.Linear(3, 3)
    h = Holder()
    h.x = torch.zeros(3)

    def step(x):
        y = (lin(x) + h.x).sum()
        h.x = lin.bias
        return y

    return compile(step), lambda: [h.x, *lin.parameters()], _default_call


def rebound_requiring_grad(compile):
    h = Holder()
    h.x = torch.zeros(3)
    w = torch.randn(3, requires_grad=True)

    def step(x):
        y = (x * h.x + w).sum()
        h.x = (h.x + x.mean(0)) * w
        return y

    return compile(step), lambda: [h.x, w], _default_call


def swapped_computed(compile):
    h = Holder()
    h.x, h.y = torch.zeros(3), torch.ones(3)

    def step(x):
        y = (x * h.x - h.y).sum()
        h.x, h.y = h.y + 1, h.x * 2
        return y

    return compile(step), lambda: [h.x, h.y], _default_call


def read_after_rebinding(compile):
    h = Holder()
    h.x = torch.zeros(3)

    def step(x):
        h.x = h.x * 0.5 + x.mean(0)
        y = (x * h.x).sum()
        h.x = h.x + 1
        return y, h.x

    return compile(step), lambda: [h.x], _default_call


def rebound_on_some_calls(compile):
    h = Holder()
    h.x, h.training = torch.zeros(3), True

    def step(x):
        if h.training:
            h.x = h.x * 0.5 + x.mean(0)
        return (x * h.x).sum()

    def call(step, index):
        h.training = index % 3 != 2
        return step(torch.randn(4, 3))

    return compile(step), lambda: [h.x], call


def module_train_eval(compile):
    class Running(nn.Module):
        def __init__(self):
            super().__init__()
            self.h = torch.zeros(3)

        def forward(self, x):
            if self.training:
                self.h = 0.9 * self.h + 0.1 * x.mean(0)
            return x - self.h

    m = Running()

    def call(step, index):
        m.train(index % 2 == 0)
        return step(torch.randn(4, 3))

    return compile(lambda x: m(x).sum()), lambda: [m.h], call


def holder_swapped(compile):
    holders = [Holder(), Holder()]
    for k, holder in enumerate(holders):
        holder.x = torch.full((3,), float(k))
    box = {"h": holders[0]}

    def step(x):
        h = box["h"]
        h.x = h.x * 0.5 + x.mean(0)
        return (x * h.x).sum()

    def call(step, index):
        box["h"] = holders[index % 2]
        return step(torch.randn(4, 3))

    return compile(step), lambda: [holder.x for holder in holders], call


def set_and_deleted_by_caller(compile):
    h = Holder()
    h.x = torch.zeros(3)

    def step(x):
        h.x = h.x * 0.5 + x.mean(0)
        return (x * h.x).sum()

    def call(step, index):
        if index == 2:
            h.x = torch.ones(3)
        if index == 3:
            del h.x
        if index == 4:
            h.x = torch.zeros(3, dtype=torch.float64)
        if index == 6:
            h.x = torch.zeros(3)
        return step(torch.randn(4, 3))

    return compile(step), lambda: [getattr(h, "x", None)], call


def returned_then_changed_by_caller(compile):
    h = Holder()
    h.x = torch.zeros(3)
    kept = []

    def step(x):
        h.x = h.x * 0.5 + x.mean(0)
        return (x * h.x).sum(), h.x

    def call(step, index):
        result, state = step(torch.randn(4, 3))
        state.mul_(2)  # eagerly h.x itself
        if kept:
            kept[-1].add_(100.0)  # an earlier state, no longer h.x
        kept.append(state)
        return result

    return compile(step), lambda: [h.x, list(kept)], call


def other_dtype_and_shape(compile):
    h = Holder()
    h.x, h.y = torch.zeros(3), torch.zeros(3)

    def step(x):
        y = (x * h.x).sum() + (x * h.y).sum()
        h.x = (h.x * 0.5 + x.mean(0)).double()
        h.y = (h.y[-3:] * 0.5 + x.mean(0)).unsqueeze(0)
        return y

    return compile(step), lambda: [h.x, h.y], _default_call


def rebound_in_dict(compile):
    state = {"h": torch.zeros(3)}

    def step(x):
        state["h"] = (state["h"] * 0.5 + x.mean(0)).detach()
        return (x * state["h"]).sum()

    return compile(step), lambda: dict(state), _default_call


def rebound_in_module_list(compile):
    m = nn.Module()
    m.hs = [torch.zeros(3)]

    def step(x):
        m.hs[0] = (m.hs[0] * 0.5 + x.mean(0)).detach()
        return (x * m.hs[0]).sum()

    return compile(step), lambda: list(m.hs), _default_call


def snapshot_then_optimizer(compile):
    lin = nn.Linear(3, 2)
    h = Holder()
    h.snap = torch.zeros(2, 3)
    opt = torch.optim.SGD(lin.parameters(), lr=0.1, momentum=0.5)

    def step(x):
        opt.zero_grad()
        loss = lin(x).pow(2).sum() + (h.snap * lin.weight).sum()
        loss.backward()
        h.snap = lin.weight.detach().clone()
        opt.step()
        h.grad = lin.weight.grad.detach()
        return loss

    h.grad = torch.zeros(2, 3)
    return compile(step), lambda: [h.snap, h.grad, *lin.parameters(), opt.state_dict()], _default_call


def two_compiled_share_holder(compile):
    h = Holder()
    h.x = torch.zeros(3)

    def f(x):
        h.x = h.x * 0.5 + x.mean(0)
        return (x * h.x).sum()

    def g(x):
        h.x = h.x - x.sum(0)
        return h.x.sum()

    first, second = compile(f), compile(g)
    return None, lambda: [h.x], lambda step, index: (first(torch.randn(4, 3)), second(torch.randn(4, 3)))


def batchnorm_train_eval(compile):
    class BatchNorm:
        def __init__(self):
            self.running, self.training = torch.zeros(3), True

        def __call__(self, x):
            if self.training:
                mean = x.mean(0)
                with torch.no_grad():
                    self.running = 0.9 * self.running + 0.1 * mean
            else:
                mean = self.running
            return x - mean

    bn, w = BatchNorm(), torch.randn(3, 3, requires_grad=True)

    def step(x):
        w.grad = None
        loss = bn(x @ w).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.01 * w.grad)
        return loss

    def call(step, index):
        bn.training = index not in (3, 6)
        return step(torch.randn(4, 3))

    return compile(step), lambda: [bn.running, w], call


REBOUND = {
    "to a constant, then written in place": rebound_to_constant,
    "to a view of other state the caller then writes": rebound_to_view_of_other_state,
    "to the argument the caller then writes": rebound_to_argument,
    "to a parameter": rebound_to_parameter,
    "to a tensor that requires grad": rebound_requiring_grad,
    "two attributes swapped (computed)": swapped_computed,
    "read again after the rebinding": read_after_rebinding,
    "only on some calls (a Python flag)": rebound_on_some_calls,
    "train() / eval() of a module": module_train_eval,
    "the holder swapped between calls": holder_swapped,
    "set or deleted by the caller between calls": set_and_deleted_by_caller,
    "returned and changed in place by the caller": returned_then_changed_by_caller,
    "another dtype and shape": other_dtype_and_shape,
    "a dict item": rebound_in_dict,
    "a list item on a module": rebound_in_module_list,
    "a snapshot and a grad beside an optimizer": snapshot_then_optimizer,
    "two compiled functions share the holder": two_compiled_share_holder,
    "a BatchNorm class switched to eval": batchnorm_train_eval,
}


RAISES = {"set or deleted by the caller between calls", "another dtype"}  # eager raises on some calls too


@pytest.mark.parametrize("name", REBOUND)
def test_rebound_attribute_replays_as_eager(name):
    check(REBOUND[name], raises=name in RAISES)


# -- wrong replays found
def swapped(compile):
    h = Holder()
    h.x, h.y = torch.zeros(3), torch.ones(3)

    def step(x):
        y = (x * h.x - h.y).sum()
        h.x, h.y = h.y, h.x
        return y

    return compile(step), lambda: [h.x, h.y], _default_call


def old_read_through_another_attribute(compile):
    h = Holder()
    h.x = torch.zeros(3)
    h.first = h.x

    def step(x):
        y = (x * h.first).sum()
        h.x = h.x + x.mean(0)
        return y

    return compile(step), lambda: [h.x, h.first], _default_call


def old_read_through_a_list(compile):
    h = Holder()
    h.x = torch.zeros(3)
    history = [h.x]

    def step(x):
        y = (x * history[0]).sum()
        h.x = h.x + x.mean(0)
        return y

    return compile(step), lambda: [h.x], _default_call


def old_read_through_another_holder(compile):
    a, b = Holder(), Holder()
    a.x = b.x = torch.zeros(3)

    def step(x):
        y = (x * b.x).sum()
        a.x = a.x + x.mean(0)
        return y

    return compile(step), lambda: [a.x, b.x], _default_call


def old_returned(holder):
    def case(compile):
        h = holder()
        h.x = torch.zeros(3)

        def step(x):
            old = h.x
            h.x = old * 0.5 + x.mean(0)
            return old

        return compile(step), lambda: [h.x], _default_call

    return case


def new_attribute_beside_a_rebound_one(compile):
    h = Holder()
    h.x = torch.zeros(3)

    def step(x):
        y = (x * h.x).sum()
        h.buf = x * 2  # an attribute the object did not have before the first call
        h.x = h.x + 1
        return y

    return compile(step), lambda: [h.x, h.buf], _default_call


def new_attribute_on_a_plain_object(compile):
    h = Holder()
    h.x = torch.zeros(3)

    def step(x):
        h.buf = x * 2
        return (x * h.x).sum()

    return compile(step), lambda: [h.x, h.buf], _default_call


def test_two_attributes_swapped():
    check(swapped)


def test_old_tensor_read_through_another_attribute():
    check(old_read_through_another_attribute)


def test_old_tensor_read_through_a_list():
    check(old_read_through_a_list)


def test_old_tensor_read_through_another_holder():
    check(old_read_through_another_holder)


@pytest.mark.parametrize("holder", [Holder, nn.Module], ids=["plain object", "module"])
def test_old_tensor_returned_after_rebinding(holder):
    check(old_returned(holder))


def test_new_attribute_beside_a_rebound_one():
    check(new_attribute_beside_a_rebound_one)


def test_new_attribute_on_a_plain_object():
    check(new_attribute_on_a_plain_object)


# ----------------------------------------------------------------------------- 2. .data assigned
def by_hand(update, momentum=False):
    def case(compile):
        lin = nn.Linear(3, 2)
        opt = torch.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9) if momentum else None

        def step(x):
            lin.zero_grad()
            loss = lin(x).pow(2).mean()
            loss.backward()
            update(lin, x, opt)
            return loss

        observe = lambda: [*lin.parameters()] + ([opt.state_dict()] if opt else [])  # noqa: E731
        return compile(step), observe, _default_call

    return case


def _other_shape(lin, x, opt):
    lin.bias.data = lin.bias.data[:1] * 1.0 if lin.bias.shape[0] == 2 else torch.zeros(2)


def _other_dtype(lin, x, opt):
    lin.bias.data = lin.bias.data.double() - 0.1 * lin.bias.grad.double()


def _views_taken_before(lin, x, opt):
    view = lin.weight.data[0]
    lin.weight.data = lin.weight.data - 0.1 * lin.weight.grad
    view.mul_(0.5)  # the old array
    lin.weight.data.add_(0.01)
    with torch.no_grad():
        lin.weight.mul_(0.99)
        lin.weight[0] += 1


def _twice_with_old(lin, x, opt):
    old = lin.weight.data
    lin.weight.data = lin.weight.data - 0.1 * lin.weight.grad
    lin.weight.data = old * 0.9 + lin.weight.data


def _self(lin, x, opt):
    lin.weight.data = lin.weight.data
    lin.weight.data.sub_(0.1 * lin.weight.grad)
    lin.bias.data = lin.bias


def _grad_data(lin, x, opt):
    lin.weight.grad.data = lin.weight.grad.data * 0.5
    lin.bias.grad.data = lin.bias.grad.data.clamp(-0.1, 0.1)
    opt.step()


def _then_optimizer(lin, x, opt):
    lin.weight.data = lin.weight.data.clamp(-0.3, 0.3)
    opt.step()
    lin.bias.data = lin.bias.data * 0.5


def _argument_data(lin, x, opt):
    lin.weight.data = x.data[:2]


def _with_grad(lin, x, opt):
    lin.bias.data = lin.bias - 0.1 * lin.bias.grad


def _of_a_view(lin, x, opt):
    view = lin.weight[0]
    view.data = view.data * 0.5


def _random(lin, x, opt):
    lin.bias.data = lin.bias.data + 0.01 * torch.randn(2)


def _new_array_then_written(lin, x, opt):
    new = lin.weight.data - 0.1 * lin.weight.grad
    lin.weight.data = new
    new.mul_(2)


def _non_contiguous(lin, x, opt):
    lin.weight.data = torch.cat([lin.weight.data, lin.weight.data], 1)[:, ::2] * 0.9


def _non_tensor(lin, x, opt):
    try:
        lin.bias.data = 3.0
    except (TypeError, AttributeError):
        pass


DATA = {
    "another shape": by_hand(_other_shape),
    "another dtype": by_hand(_other_dtype),
    "a non-tensor": by_hand(_non_tensor),
    "views of p taken before, written after": by_hand(_views_taken_before),
    "set twice, the old array read": by_hand(_twice_with_old),
    "p.data = p.data; p.data = p": by_hand(_self),
    "the grad's .data, then momentum": by_hand(_grad_data, momentum=True),
    "then optimizer.step() with momentum": by_hand(_then_optimizer, momentum=True),
    "an argument's data": by_hand(_argument_data),
    "a tensor computed with grad": by_hand(_with_grad),
    ".data of a view": by_hand(_of_a_view),
    "random numbers": by_hand(_random),
    "the new array written after": by_hand(_new_array_then_written),
    "a non-contiguous array": by_hand(_non_contiguous),
}


@pytest.mark.parametrize("name", DATA)
def test_data_assignment_replays_as_eager(name):
    check(DATA[name], raises=name in RAISES)


def aliased_parameters(compile):
    a, b = nn.Linear(3, 3), nn.Linear(3, 3)
    opt = torch.optim.SGD([*a.parameters(), *b.parameters()], lr=0.1, momentum=0.9)

    def step(x):
        opt.zero_grad()
        loss = b(a(x)).pow(2).mean()
        loss.backward()
        opt.step()
        a.weight.data = b.weight.data
        b.weight.data.mul_(0.9)
        return loss

    return compile(step), lambda: [*a.parameters(), *b.parameters(), opt.state_dict()], _default_call


def view_held_by_caller(compile):
    lin = nn.Linear(3, 2)
    view = lin.weight.data[0]
    h = Holder()
    h.v = lin.weight.data[1]

    def step(x):
        lin.zero_grad()
        loss = lin(x).pow(2).sum() + (x * h.v).sum()
        loss.backward()
        lin.weight.data = lin.weight.data - 0.1 * lin.weight.grad
        return loss

    def call(step, index):
        result = step(torch.randn(4, 3))
        view.add_(1.0)
        return result, view

    return compile(step), lambda: [*lin.parameters(), h.v], call


def data_of_a_state_attribute(compile):
    h = Holder()
    h.buf = torch.zeros(3)
    h.old = h.buf

    def step(x):
        h.buf.data = h.buf.data * 0.5 + x.mean(0)
        h.buf = h.buf * 0.5
        return (x * h.buf).sum()

    return compile(step), lambda: [h.buf, h.old], _default_call


def rebound_then_data(compile):
    h = Holder()
    h.buf = torch.zeros(3)

    def step(x):
        h.buf = h.buf * 0.5 + x.mean(0)
        h.buf.data = h.buf.data.clamp(-0.2, 0.2)
        return (x * h.buf).sum()

    return compile(step), lambda: [h.buf], _default_call


@pytest.mark.parametrize("case", [aliased_parameters, view_held_by_caller, data_of_a_state_attribute, rebound_then_data])
def test_data_assignment_with_aliases_replays_as_eager(case):
    check(case)


# ----------------------------------------------------------------------------- 3. a range as an index
SEQUENCE = [4, 4, 3, 4, 2, 2, 5, 4]
GLOBAL_N = 4


def indexed(body):
    def case(compile):
        w = torch.randn(6, 5, requires_grad=True)

        def step(x, y, n):
            w.grad = None
            out = body(w * x, y, n)
            out.sum().backward()
            return out

        def call(step, index):
            global GLOBAL_N
            GLOBAL_N = SEQUENCE[index]
            return step(torch.randn(6, 5), torch.randint(0, 5, (6,)), SEQUENCE[index])

        return compile(step), lambda: [w, w.grad], call

    return case


def _set(x, y, n):
    z = x.clone()
    z[range(n), y[:n]] = 0.0
    return z


def _set_negative(x, y, n):
    z = x.clone()
    z[range(-n, 0), y[:n]] -= 1
    return z


RANGES = {
    "x[range(6), y]": lambda x, y, n: x[range(6), y],
    "a step": lambda x, y, n: x[range(0, 6, 2), y[::2]],
    "negative numbers": lambda x, y, n: x[range(-3, 0), y[:3]],
    "a negative step": lambda x, y, n: x[range(5, -1, -2), y[:3]],
    "empty": lambda x, y, n: x[range(0), y[:0]],
    "an argument n": lambda x, y, n: x[range(n), y[:n]],
    "a global n": lambda x, y, n: x[range(GLOBAL_N), y[:GLOBAL_N]],
    "in a list": lambda x, y, n: x[list(range(n)), y[:n]],
    "with a slice": lambda x, y, n: x[range(n), 1:3],
    "after a slice": lambda x, y, n: x[1:, range(n)],
    "with None": lambda x, y, n: x[None, range(n), y[:n]],
    "with Ellipsis": lambda x, y, n: x[..., range(n)],
    "two ranges": lambda x, y, n: x[range(n), range(n)],
    "broadcast with a tensor": lambda x, y, n: x[torch.arange(n)[:, None], range(n)],
    "setitem": _set,
    "setitem -= with negatives": _set_negative,
}


@pytest.mark.parametrize("name", RANGES)
def test_range_index_replays_as_eager(name):
    check(indexed(RANGES[name]))


def range_kept(where):
    def case(compile):
        w = torch.randn(4, 3, requires_grad=True)
        config, table = Holder(), {}

        def step(x, y):
            rows = config.rows if where == "attribute" else table["rows"]
            w.grad = None
            out = (w * x)[rows, y]
            out.sum().backward()
            return out

        def call(step, index):
            config.rows = table["rows"] = [range(2), range(1, 3), range(0, 4, 2)][index % 3]
            return step(torch.randn(4, 3), torch.tensor([0, 1]))

        return compile(step), lambda: [w, w.grad], call

    return case


@pytest.mark.parametrize("where", ["attribute", "dict"])
def test_range_kept_in_state_changes_between_calls(where):
    check(range_kept(where))


# ----------------------------------------------------------------------------- 4. functools.partial
def _base_step(model, opt, x, weight=None, scale=1.0):
    opt.zero_grad()
    out = model(x)
    if weight is not None:
        out = out * weight
    loss = out.pow(2).mean() * scale
    loss.backward()
    opt.step()
    return loss


def partial_weight_written(compile):
    lin = nn.Linear(3, 2)
    opt = torch.optim.SGD(lin.parameters(), lr=0.1)
    weight = torch.ones(2)

    def call(step, index):
        result = step(torch.randn(4, 3))
        weight.mul_(1.5)
        return result

    return compile(functools.partial(_base_step, lin, opt, weight=weight)), lambda: [*lin.parameters()], call


def partial_keywords_changed(compile):
    lin = nn.Linear(3, 2)
    opt = torch.optim.SGD(lin.parameters(), lr=0.1)
    bound = functools.partial(_base_step, lin, opt, weight=torch.ones(2), scale=1.0)

    def call(step, index):
        result = step(torch.randn(4, 3))
        bound.keywords["scale"] = float(index % 3)
        bound.keywords["weight"] = torch.full((2,), float(index))
        return result

    return compile(bound), lambda: [*lin.parameters()], call


def partial_keyword_overridden(compile):
    lin = nn.Linear(3, 2)
    opt = torch.optim.SGD(lin.parameters(), lr=0.1)
    call = lambda step, index: step(torch.randn(4, 3), scale=float(index % 3))  # noqa: E731
    return compile(functools.partial(_base_step, lin, opt, scale=1.0)), lambda: [*lin.parameters()], call


def partial_nested(compile):
    lin = nn.Linear(3, 2)
    opt = torch.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
    weight = torch.ones(2)
    inner = functools.partial(_base_step, lin, weight=weight)

    def call(step, index):
        result = step(torch.randn(4, 3))
        weight.add_(0.1)
        inner.keywords["scale"] = 3.0  # partial(inner, ...) flattened it: not read, as eagerly
        return result

    return compile(functools.partial(inner, opt, scale=0.5)), lambda: [*lin.parameters(), opt.state_dict()], call


class Trainer:
    def __init__(self):
        self.model = nn.Linear(3, 2)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1)
        self.scale, self.h = 1.0, torch.zeros(2)

    def step(self, x, weight):
        self.opt.zero_grad()
        out = self.model(x) * weight + self.h
        loss = out.pow(2).mean() * self.scale
        loss.backward()
        self.opt.step()
        self.h = out.mean(0).detach()
        return loss


def partial_bound_method(compile):
    trainer, weight = Trainer(), torch.ones(2)

    def call(step, index):
        result = step(torch.randn(4, 3))
        weight.mul_(0.9)
        trainer.scale = [1.0, 2.0][index % 2]
        return result

    return compile(functools.partial(trainer.step, weight=weight)), lambda: [trainer.h, *trainer.model.parameters()], call


def partial_bound_method_model_swapped(compile):
    trainer, weight = Trainer(), torch.ones(2)
    models = [trainer.model, nn.Linear(3, 2)]

    def call(step, index):
        result = step(torch.randn(4, 3))
        trainer.model = models[(index + 1) % 2]
        trainer.opt = torch.optim.SGD(trainer.model.parameters(), lr=0.1)
        return result

    observe = lambda: [trainer.h, *models[0].parameters(), *models[1].parameters()]  # noqa: E731
    return compile(functools.partial(trainer.step, weight=weight)), observe, call


def partial_dict_argument_changed(compile):
    lin = nn.Linear(3, 2)
    opt = torch.optim.SGD(lin.parameters(), lr=0.1)
    config = {"scale": 1.0}

    def step(model, config, x):
        opt.zero_grad()
        loss = model(x).pow(2).mean() * config["scale"]
        loss.backward()
        opt.step()
        return loss

    def call(step, index):
        result = step(torch.randn(4, 3))
        config["scale"] = float(index % 3)
        return result

    return compile(functools.partial(step, lin, config)), lambda: [*lin.parameters()], call


def partial_state_keyword(compile):
    h = Holder()
    h.s = torch.zeros(3)

    def step(x, state):
        state.s = state.s * 0.5 + x.mean(0)
        return (x * state.s).sum()

    return compile(functools.partial(step, state=h)), lambda: [h.s], _default_call


PARTIALS = {
    "a keyword tensor written in place": partial_weight_written,
    "keywords changed": partial_keywords_changed,
    "a keyword overridden by the call": partial_keyword_overridden,
    "nested": partial_nested,
    "a bound method": partial_bound_method,
    "a bound method whose model is swapped": partial_bound_method_model_swapped,
    "a dict argument changed": partial_dict_argument_changed,
    "state rebound on a keyword's object": partial_state_keyword,
}


@pytest.mark.parametrize("name", PARTIALS)
def test_partial_replays_as_eager(name):
    check(PARTIALS[name])


def partial_function_replaced(compile):
    lin = nn.Linear(3, 2)
    bound = functools.partial(lambda m, x: m(x).sum(), lin)

    def call(step, index):
        result = step(torch.randn(4, 3))
        function = (lambda m, x: m(x).mean()) if index % 2 == 0 else (lambda m, x: m(x).sum())
        bound.__setstate__((function, bound.args, bound.keywords, None))
        return result

    return compile(bound), lambda: [*lin.parameters()], call


def test_partial_function_replaced():
    check(partial_function_replaced)
