"""chainrule.compile against eager execution where a step puts TENSORS into attributes of modules
and of the caller's objects (``_attributes_set`` in recorder.py; the README's "A tensor the step
puts in an attribute is put there again by each replay"): activations kept for statistics
(makemore's ``self.out``), forward hooks keeping outputs, attributes set twice, to views, to
integer tensors, on dataclasses, through properties and ``__setattr__`` overrides, on optimizers
and schedulers, and eager code that later uses those attributes (an auxiliary loss backpropagated
through a kept activation).

Each case builds fresh state from the same seed twice, runs CALLS calls eagerly and compiled and
compares bit for bit what each call returns (values only: a replayed call returns its tensors
without history), what the caller computes from the attributes, the state it observes, an
exception's type where eager raises, and the random stream afterwards. Falling back to eager with
one warning is allowed; a different value, or an exception eager does not raise, is not.
Attributes are compared by value, dtype and shape: the README documents that a replay puts them
there without their spent history (``requires_grad`` False where eager's has a ``grad_fn``)."""
import warnings
from dataclasses import dataclass

import pytest

import chainrule as torch
from chainrule import nn
from tests.compile.bitwise import assert_identical

CALLS = 8


# ----------------------------------------------------------------------------- the harness
class Holder:
    """A plain object holding state, as makemore's layers do."""


def _snap(value, history):
    if isinstance(value, torch.Tensor):
        grad = None if value.grad is None else value.grad.numpy().copy()
        flags = (value.requires_grad, value.grad_fn is not None) if history else None
        return ("tensor", value.detach().numpy().copy(), flags, grad)
    if isinstance(value, (list, tuple)):
        return type(value)(_snap(item, history) for item in value)
    if isinstance(value, dict):
        return {key: _snap(item, history) for key, item in value.items()}
    return value


def _x():
    return torch.randn(4, 3)


def _default_call(step, index):
    return step(_x()), ()


def _run(case, compiled, history):
    """``case(compile)`` returns (step, observe, call); call(step, index) returns (what the step
    returned, what the caller computed after it)."""
    torch.manual_seed(0)
    step, observe, call = case(torch.compile if compiled else (lambda function: function))
    log = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for index in range(CALLS):
            try:
                returned, computed = call(step, index)
                log.append(("returned", _snap(returned, False), _snap(computed, history), _snap(observe(), history)))
            except Exception as error:  # noqa: BLE001 (compared: compiled must raise where eager raises)
                log.append(("raised", type(error).__name__, _snap(observe(), False)))
    log.append(("random stream after", _snap(torch.rand(3), False)))
    return log, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]


def check(case, history=False, raises=False):
    """Compiled agrees with eager bit for bit, with at most one fallback warning. ``history``
    compares requires_grad and grad_fn's presence too. Unless ``raises``, eager must not raise."""
    eager, _ = _run(case, compiled=False, history=history)
    if not raises:
        assert all(entry[0] != "raised" for entry in eager), eager
    compiled, warned = _run(case, compiled=True, history=history)
    assert_identical(compiled, eager)
    assert len(warned) <= 1, warned
    return warned


# ----------------------------------------------------------------------------- makemore-style layers
class Linear:
    def __init__(self, fan_in, fan_out):
        self.weight = torch.randn(fan_in, fan_out) / fan_in**0.5
        self.bias = torch.zeros(fan_out)

    def __call__(self, x):
        self.out = x @ self.weight + self.bias
        return self.out

    def parameters(self):
        return [self.weight, self.bias]


class Tanh:
    def __call__(self, x):
        self.out = torch.tanh(x)
        return self.out

    def parameters(self):
        return []


def makemore(retain=False, histogram=False):
    def case(compile):
        layers = [Linear(3, 5), Tanh(), Linear(5, 2)]
        params = [p for layer in layers for p in layer.parameters()]
        for p in params:
            p.requires_grad = True

        def step(x):
            h = x
            for layer in layers:
                h = layer(h)
            if retain:
                for layer in layers:
                    layer.out.retain_grad()
            loss = h.pow(2).mean()
            for p in params:
                p.grad = None
            loss.backward()
            for p in params:
                p.data += -0.1 * p.grad
            return loss

        def call(step, index):
            loss = step(_x())
            stats = [(layer.out.mean(), layer.out.std(), (layer.out.abs() > 0.5).float().mean()) for layer in layers]
            if histogram:
                stats.append([torch.histc(layer.out, bins=5, min=-2, max=2) for layer in layers])
            if retain:
                stats.append([layer.out.grad.std() for layer in layers])
            return loss, stats

        return compile(step), lambda: [params, [layer.out for layer in layers]], call

    return case


def hooks_keep_outputs(how):
    def case(compile):
        net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        if how == "lambda setattr on the parent":
            net.acts = torch.zeros(1)
            net[1].register_forward_hook(lambda module, inputs, output: setattr(net, "acts", output))
            kept = lambda: [net.acts]  # noqa: E731
        else:
            def hook(module, inputs, output):
                module.last = output

            for module in net:
                module.register_forward_hook(hook)
            kept = lambda: [module.last for module in net]  # noqa: E731
        opt = torch.optim.Adam(net.parameters(), lr=0.01)

        def step(x):
            opt.zero_grad()
            loss = net(x).pow(2).mean()
            loss.backward()
            opt.step()
            return loss

        def call(step, index):
            loss = step(_x())
            return loss, [(t.mean(), t.max()) for t in kept()]

        return compile(step), lambda: [kept(), list(net.parameters()), opt.state_dict()], call

    return case


def set_twice(compile):
    h = Holder()
    h.a = torch.zeros(3)

    def step(x):
        h.a = x.mean(0)
        t = h.a * 2
        h.a = t + h.a
        return t.sum()

    return compile(step), lambda: [h.a], _default_call


def set_to_views(compile):
    h = Holder()

    def step(x):
        y = x * 3
        h.first, h.col, h.T = y[0], y[:, 1], y.t()
        y.add_(1)  # the views see it
        return y.sum()

    def call(step, index):
        result = step(_x())
        h.col.mul_(2)  # eagerly h.T and h.first share it
        return result, ()

    return compile(step), lambda: [h.first, h.col, h.T], call


def set_to_view_of_argument(compile):
    h = Holder()

    def step(x):
        h.first = x[0]
        return x.sum()

    def call(step, index):
        x = _x()
        result = step(x)
        x.mul_(2)  # eagerly h.first is a view of x
        return result, ()

    return compile(step), lambda: [h.first], call


def set_to_slices_of_a_parameter(compile):
    lin = nn.Linear(3, 2)
    opt = torch.optim.SGD(lin.parameters(), lr=0.1)
    h = Holder()

    def step(x):
        opt.zero_grad()
        loss = lin(x).pow(2).mean()
        loss.backward()
        h.row = lin.weight[0]
        h.detached = lin.weight.detach()[1]
        opt.step()  # eagerly both views follow the step
        return loss

    def call(step, index):
        result = step(_x())
        if index == 4:
            with torch.no_grad():
                lin.weight.mul_(2)
        return result, ()

    return compile(step), lambda: [h.row, h.detached, list(lin.parameters())], call


def set_to_integer_and_boolean_tensors(compile):
    h = Holder()

    def step(x):
        h.idx, h.count, h.mask = x.argmax(1), (x > 0).sum(), x > 0
        return x.sum()

    return compile(step), lambda: [h.idx, h.count, h.mask], _default_call


def with_and_without_grad(compile):
    w = torch.randn(3, requires_grad=True)
    h = Holder()

    def step(x):
        with torch.no_grad():
            h.a = x * w
        h.b = x * w
        h.c = (x * w).detach()
        loss = h.b.sum()
        w.grad = None
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
        return loss

    return compile(step), lambda: [h.a, h.b, h.c, w], _default_call


def on_a_dataclass(compile):
    @dataclass
    class State:
        x: object
        n: int = 1

    h = State(torch.zeros(3))

    def step(x):
        h.x = h.x * 0.5 + x.mean(0)
        return (x * h.x).sum()

    return compile(step), lambda: [h.x, h.n], _default_call


def through_a_property_setter(compile):
    class State:
        def __init__(self):
            self._v = torch.zeros(3)

        @property
        def v(self):
            return self._v

        @v.setter
        def v(self, t):
            self._v = t + 1

    h = State()

    def step(x):
        h.v = h.v * 0.5 + x.mean(0)
        return (x * h.v).sum()

    return compile(step), lambda: [h.v], _default_call


def shadowing_a_method(compile):
    class State:
        def out(self):
            return 1

    h = State()

    def step(x):
        h.out = x * 2
        return x.sum()

    return compile(step), lambda: [h.out], _default_call


def holders_in_a_list_and_a_dict(compile):
    holders, named = [Holder(), Holder()], {"a": Holder()}
    for holder in holders:
        holder.x = torch.zeros(3)
    named["a"].x = torch.ones(3)

    def step(x):
        holders[0].x = holders[0].x + x.mean(0)
        holders[1].x = holders[0].x * 2
        named["a"].x = named["a"].x * holders[1].x
        return named["a"].x.sum()

    return compile(step), lambda: [holder.x for holder in holders] + [named["a"].x], _default_call


def reset_by_the_caller(compile):
    h = Holder()
    h.out = None

    def step(x):
        h.out = x * 2
        return x.sum()

    def call(step, index):
        result = step(_x())
        kept = h.out
        if index % 2:
            h.out = None
        if index == 5:
            h.out = torch.ones(2)
        return result, kept

    return compile(step), lambda: [h.out], call


def deleted_then_set(compile):
    h = Holder()
    h.x = torch.zeros(3)

    def step(x):
        y = (x * h.x).sum()
        del h.x
        h.x = x.mean(0)
        return y

    return compile(step), lambda: [h.x], _default_call


def only_in_train_mode(compile):
    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.m = nn.Linear(3, 3)
            self.last = torch.zeros(1)

        def forward(self, x):
            y = self.m(x)
            if self.training:
                self.last = y.detach()
            return y.sum()

    w = Wrapper()

    def call(step, index):
        w.train(index % 3 != 1)
        return step(_x()), ()

    return compile(lambda x: w(x)), lambda: [w.last], call


def detached_cache_in_a_compiled_model(compile):
    class Inner(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            h = torch.relu(self.fc(x))
            self.cache = h.detach()
            return h

    net = nn.Sequential(Inner(), nn.Linear(3, 1))
    run = compile(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)

    def call(step, index):
        opt.zero_grad()
        loss = run(_x()).pow(2).mean()
        loss.backward()
        opt.step()
        return loss, net[0].cache

    return None, lambda: [list(net.parameters())], call


# cases that must fall back (or replay) with the same values
def retain_grad_in_forward(compile):
    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 4)

        def forward(self, x):
            self.out = self.lin(x)
            self.out.retain_grad()
            return self.out.tanh()

    m = Layer()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = m(x).sum()
        loss.backward()
        opt.step()
        return loss

    def call(step, index):
        return step(_x()), m.out.grad

    return compile(step), lambda: [list(m.parameters()), m.out], call


def counted_by_setattr(compile):
    class Counting:
        def __setattr__(self, key, value):
            object.__setattr__(self, key, value)
            object.__setattr__(self, "n_" + key, getattr(self, "n_" + key, 0) + 1)

    h = Counting()
    h.x = torch.zeros(3)

    def step(x):
        h.x = h.x * 0.5 + x.mean(0)
        return (x * h.x).sum()

    return compile(step), lambda: [h.x, h.n_x], _default_call


def on_a_slotted_object(compile):
    class Slotted:
        __slots__ = ("x",)

    h = Slotted()
    h.x = torch.zeros(3)

    def step(x):
        h.x = h.x * 0.5 + x.mean(0)
        return (x * h.x).sum()

    return compile(step), lambda: [h.x], _default_call


def appended_object_made_in_the_call(compile):
    made = []

    def step(x):
        o = Holder()
        o.t = x * 2
        made.append(o)
        return x.sum()

    return compile(step), lambda: [o.t for o in made], _default_call


CASES = {
    "makemore self.out statistics": makemore(),
    "makemore self.out histograms": makemore(histogram=True),
    "makemore self.out.retain_grad()": makemore(retain=True),
    "forward hooks keep module.last": hooks_keep_outputs("module.last"),
    "a lambda hook sets the parent's attribute": hooks_keep_outputs("lambda setattr on the parent"),
    "set twice in one call": set_twice,
    "set to views, written in place after": set_to_views,
    "set to a view of the argument": set_to_view_of_argument,
    "set to slices of a parameter": set_to_slices_of_a_parameter,
    "integer and boolean tensors": set_to_integer_and_boolean_tensors,
    "under no_grad, with grad, detached": with_and_without_grad,
    "a dataclass": on_a_dataclass,
    "a property setter": through_a_property_setter,
    "an attribute shadowing a method": shadowing_a_method,
    "holders in a list and a dict": holders_in_a_list_and_a_dict,
    "reset to None by the caller": reset_by_the_caller,
    "deleted then set again": deleted_then_set,
    "set only in train mode": only_in_train_mode,
    "a detached cache in compile(model)": detached_cache_in_a_compiled_model,
    "retain_grad on self.out in forward": retain_grad_in_forward,
    "a __setattr__ that counts": counted_by_setattr,
    "a __slots__ object": on_a_slotted_object,
    "objects made in the call, appended": appended_object_made_in_the_call,
}


@pytest.mark.parametrize("name", CASES)
def test_attribute_replays_as_eager(name):
    check(CASES[name])


def test_detached_attributes_keep_eager_flags():
    # with history compared: detached / no_grad / integer attributes have eager's flags exactly
    def case(compile):
        w = torch.randn(3, requires_grad=True)
        h = Holder()

        def step(x):
            with torch.no_grad():
                h.a = x * w
            h.c = (x * w).detach()
            h.i = x.argmax(1)
            loss = (x * w).sum()
            w.grad = None
            loss.backward()
            return loss

        return compile(step), lambda: [h.a, h.c, h.i, w], _default_call

    check(case, history=True)


# ----------------------------------------------------------------------------- bugs found
def aux_loss_through_a_kept_activation(compile):
    # the step does not backward: the activation's history is not spent, and the caller adds a
    # penalty on it (activation regularization) to the returned loss
    lin = nn.Linear(3, 4)
    h = Holder()

    def step(x):
        h.out = lin(x).tanh()
        return h.out.sum()

    def call(step, index):
        lin.zero_grad()
        loss = step(_x()) + h.out.pow(2).sum()
        loss.backward()
        return loss, lin.weight.grad

    return compile(step), lambda: [list(lin.parameters())], call


def test_auxiliary_loss_through_an_activation_kept_by_a_compiled_function():
    check(aux_loss_through_a_kept_activation)


def backward_only_through_a_kept_activation(compile):
    lin = nn.Linear(3, 4)
    h = Holder()

    def step(x):
        h.out = lin(x)
        return h.out.detach().sum()

    def call(step, index):
        lin.zero_grad()
        result = step(_x())
        (h.out ** 2).sum().backward()
        return result, lin.weight.grad

    return compile(step), lambda: [list(lin.parameters())], call


def test_backward_through_an_activation_kept_by_a_compiled_function():
    check(backward_only_through_a_kept_activation)


class CachingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(3, 4), nn.Linear(4, 2)

    def forward(self, x):
        self.cache = torch.tanh(self.fc1(x))
        return self.fc2(self.cache)


def compiled_model_with_a_cache_penalty(how):
    def case(compile):
        net = CachingNet()
        run = net
        if compile is torch.compile:
            if how == "chainrule.compile(model)":
                run = torch.compile(net)
            else:
                net.compile()
        opt = torch.optim.SGD(net.parameters(), lr=0.1)

        def call(step, index):
            opt.zero_grad()
            loss = run(_x()).pow(2).mean() + 0.5 * net.cache.pow(2).mean()
            loss.backward()
            opt.step()
            return loss, ()

        return None, lambda: [list(net.parameters())], call

    return case


@pytest.mark.parametrize("how", ["chainrule.compile(model)", "model.compile()"])
def test_compiled_model_forward_cache_used_in_an_auxiliary_loss(how):
    check(compiled_model_with_a_cache_penalty(how))


def test_returned_attribute_is_the_attribute_tensor():
    lin = nn.Linear(3, 4)
    h = Holder()

    def step(x):
        h.out = lin(x)
        return h.out

    compiled = torch.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert all(compiled(_x()) is h.out for _ in range(4))


def modified_in_place_after_use(compile):
    w = torch.randn(3, requires_grad=True)
    h = Holder()

    def step(x):
        h.buf = x * 2
        h.buf.add_(1)
        y = (h.buf * w).sum()  # saves h.buf for w's gradient
        h.buf.mul_(3)  # eagerly fine until someone calls y.backward()
        return y

    return compile(step), lambda: [h.buf, w], _default_call


def test_attribute_changed_in_place_after_a_use_that_needs_grad():
    check(modified_in_place_after_use)


def transforming_setattr(compile):
    class Doubling:
        def __setattr__(self, key, value):
            if isinstance(value, torch.Tensor):
                value = value * 2
            object.__setattr__(self, key, value)

    h = Doubling()
    h.x = torch.zeros(3)

    def step(x):
        h.x = h.x * 0.5 + x.mean(0)
        return (x * h.x).sum()

    return compile(step), lambda: [h.x], _default_call


def test_attribute_set_through_a_transforming_setattr():
    check(transforming_setattr)


def kept_on_the_optimizer(on):
    def case(compile):
        lin = nn.Linear(3, 2)
        opt = torch.optim.SGD(lin.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.StepLR(opt, 2, 0.5)
        holder = opt if on == "optimizer" else sched

        def step(x):
            opt.zero_grad()
            loss = lin(x).pow(2).mean()
            loss.backward()
            opt.step()
            sched.step()
            holder.last_loss = loss.detach()
            return loss

        return compile(step), lambda: [holder.last_loss, list(lin.parameters()), opt.state_dict()], _default_call

    return case


@pytest.mark.parametrize("on", ["optimizer", "scheduler"])
def test_attribute_kept_on_the_optimizer_or_scheduler(on):
    check(kept_on_the_optimizer(on))
