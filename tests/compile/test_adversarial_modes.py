"""chainrule.compile against eager execution where a step's result hangs on GLOBAL MODES and
NESTING: autocast, inference_mode, no_grad/enable_grad nesting, set_grad_enabled from an argument
or as a decorator, anomaly detection and deterministic algorithms toggled between calls, compiled
functions and modules called inside compiled steps, recursion, try/except around operations that
raise on some inputs, custom context managers that change a global, generators passed as
arguments, manual_seed from an argument, default dtype changed inside the step, and tensors
formatted to strings. Each test compares eager and compiled runs bit for bit; a compiled run may
record anew or fall back to eager with at most one warning, never return a different result."""
import contextlib

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.test_adversarial_replay import normal
from tests.compile.test_adversarial_tensor_state import Case, assert_same_as_eager, mse_step


def linear(inputs=3, outputs=2):
    return nn.Linear(inputs, outputs).double()


def sgd(net):
    return optim.SGD(net.parameters(), lr=0.1)


def trained(loss_of, inputs=None, before=None, cleanup=None, extra=()):
    """A Case whose step zeroes grads, computes ``loss_of(net, *args)``, steps, returns the loss."""

    def setup():
        net = linear()
        opt = sgd(net)

        def step(*args):
            opt.zero_grad()
            loss = loss_of(net, *args)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt, *extra], before=before, cleanup=cleanup, inputs=inputs)

    return setup


# ----------------------------------------------------------------------------- autocast
def test_autocast_inside_the_step():
    def loss_of(net, x, y):
        with chainrule.autocast("cpu", dtype=chainrule.bfloat16):
            out = net(x.float())
        return F.mse_loss(out.double(), y)

    def setup():
        net = nn.Linear(3, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = loss_of(net, x, y)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


def test_autocast_toggled_by_a_global_between_calls():
    flags = {"amp": False}

    def setup():
        net = nn.Linear(3, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            with chainrule.autocast("cpu", dtype=chainrule.bfloat16, enabled=flags["amp"]):
                out = net(x.float())
            loss = F.mse_loss(out.float(), y.float())
            loss.backward()
            opt.step()
            return loss

        def before(index):
            flags["amp"] = index % 2 == 1

        return Case(step, lambda: [net, opt], before=before, cleanup=lambda: flags.update(amp=False))

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- grad modes
def test_inference_mode_inside_the_step():
    def setup():
        net, teacher = linear(), linear()
        opt = sgd(net)

        def step(x, y):
            opt.zero_grad()
            with chainrule.inference_mode():
                target = teacher(x) + y
            loss = F.mse_loss(net(x), target.clone())
            loss.backward()
            opt.step()
            return loss, target

        return Case(step, lambda: [net, teacher, opt])

    assert_same_as_eager(setup)


def test_enable_grad_inside_no_grad_inside_the_step():
    def loss_of(net, x, y):
        with chainrule.no_grad():
            scale = x.abs().mean()
            with chainrule.enable_grad():
                out = net(x) * scale
            side = net(x)
        return F.mse_loss(out, y) + side.sum() * 0.0

    assert_same_as_eager(trained(loss_of))


def test_set_grad_enabled_from_an_argument():
    def setup():
        net = linear()
        opt = sgd(net)

        def step(x, y, flag):
            opt.zero_grad()
            with chainrule.set_grad_enabled(flag):
                loss = F.mse_loss(net(x), y)
            if loss.requires_grad:
                loss.backward()
                opt.step()
            return loss, loss.requires_grad

        def inputs(index):
            return normal((4, 3), 10 + index), normal((4, 2), 20 + index), index % 3 != 1

        return Case(step, lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)


def test_set_grad_enabled_as_a_decorator_on_the_step():
    def setup():
        net = linear()
        opt = sgd(net)

        @chainrule.autograd.set_grad_enabled(False)
        def evaluate(x, y):
            return F.mse_loss(net(x), y)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss, evaluate(x, y), chainrule.is_grad_enabled()

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


def test_decorated_step_itself_compiled():
    def setup():
        net = linear()

        @chainrule.autograd.set_grad_enabled(False)
        def step(x, y):
            out = net(x)
            return F.mse_loss(out, y), out.requires_grad, chainrule.is_grad_enabled()

        return Case(step, lambda: [net])

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- global switches between calls
def test_detect_anomaly_toggled_between_calls():
    def before(index):
        chainrule.autograd.set_detect_anomaly(index % 2 == 1)

    def loss_of(net, x, y):
        return F.mse_loss(net(x), y) + chainrule.tensor(float(chainrule.is_anomaly_enabled()), dtype=chainrule.float64)

    assert_same_as_eager(trained(loss_of, before=before, cleanup=lambda: chainrule.autograd.set_detect_anomaly(False)))


def test_deterministic_algorithms_toggled_between_calls():
    def before(index):
        chainrule.use_deterministic_algorithms(index % 2 == 1)

    def loss_of(net, x, y):
        extra = 1.0 if chainrule.are_deterministic_algorithms_enabled() else 2.0
        return F.mse_loss(net(x), y) * extra

    assert_same_as_eager(trained(loss_of, before=before, cleanup=lambda: chainrule.use_deterministic_algorithms(False)))


# ----------------------------------------------------------------------------- nesting
def test_compiled_function_calling_a_compiled_function():
    def setup():
        net = linear()
        opt = sgd(net)
        inner = chainrule.compile(lambda a, b: F.mse_loss(net(a), b) + F.dropout(a, 0.3).sum() * 0.01)

        def step(x, y):
            opt.zero_grad()
            loss = inner(x, y)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


def test_compiled_module_called_inside_a_compiled_step():
    def setup():
        net = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.25), nn.ReLU(), nn.Linear(4, 2)).double()
        compiled_net = chainrule.compile(net)
        opt = optim.Adam(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(compiled_net(x), y)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


def test_recursive_step_on_a_smaller_input():
    def setup():
        net = linear()
        opt = sgd(net)

        def total(x, y):
            if x.shape[0] <= 1:
                return F.mse_loss(net(x), y)
            return F.mse_loss(net(x[:1]), y[:1]) + total(x[1:], y[1:])

        def step(x, y):
            opt.zero_grad()
            loss = total(x, y)
            loss.backward()
            opt.step()
            return loss

        def inputs(index):
            rows = 2 + index % 3
            return normal((rows, 3), 10 + index), normal((rows, 2), 20 + index)

        return Case(step, lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)


def test_compiled_step_calling_itself():
    holder = {}

    def setup():
        net = linear()

        def step(x, depth):
            out = net(x).sum()
            if depth > 0:
                return out + holder["self"](x * 0.5, depth - 1)
            return out

        holder["self"] = chainrule.compile(step)

        def inputs(index):
            return normal((2, 3), 10 + index), index % 3

        return Case(step, lambda: [net], inputs=inputs)

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- try/except
def test_try_except_around_item_of_a_multi_element_tensor():
    def setup():
        net = linear(3, 1)
        opt = sgd(net)

        def step(x, y):
            opt.zero_grad()
            out = net(x)
            try:
                scale = out.mean(dim=1).item()
            except (RuntimeError, ValueError):
                scale = -1.0
            loss = F.mse_loss(out, y) * (2.0 if scale > 0 else 1.0)
            loss.backward()
            opt.step()
            return loss, scale

        def inputs(index):
            rows = 1 if index % 2 == 0 else 3
            return normal((rows, 3), 10 + index), normal((rows, 1), 20 + index)

        return Case(step, lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)


def test_try_except_around_a_shape_error():
    def setup():
        net = linear()
        opt = sgd(net)

        def step(x, y, extra):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            try:
                loss = loss + (x @ extra).sum() * 0.01
                used = True
            except Exception:
                used = False
            loss.backward()
            opt.step()
            return loss, used

        def inputs(index):
            rows = 3 if index % 2 == 0 else 5
            return normal((4, 3), 10 + index), normal((4, 2), 20 + index), normal((rows, 2), 30 + index)

        return Case(step, lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- custom context manager
SCALE = {"value": 1.0}


@contextlib.contextmanager
def scaled(value):
    old = SCALE["value"]
    SCALE["value"] = value
    try:
        yield
    finally:
        SCALE["value"] = old


def test_custom_context_manager_changing_a_global_scale():
    def setup():
        net = linear()
        opt = sgd(net)

        def step(x, y, factor):
            opt.zero_grad()
            with scaled(factor):
                loss = F.mse_loss(net(x), y) * SCALE["value"]
            loss.backward()
            opt.step()
            return loss, SCALE["value"]

        def inputs(index):
            return normal((4, 3), 10 + index), normal((4, 2), 20 + index), 1.0 + index % 3

        return Case(step, lambda: [net, opt], inputs=inputs, cleanup=lambda: SCALE.update(value=1.0))

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- generators and seeds
class Generator(chainrule.Generator):
    """A generator the harness can compare across runs: equal when its state is (the harness
    snapshots arguments as they are, and plain generators compare by identity)."""

    def __eq__(self, other):
        return isinstance(other, chainrule.Generator) and self.state_bytes() == other.state_bytes()

    __hash__ = object.__hash__


@pytest.mark.parametrize("how", ["fresh", "reseeded"])
def test_generator_passed_as_an_argument(how):
    def setup():
        net = linear()
        opt = sgd(net)
        shared = Generator()

        def step(x, y, g):
            opt.zero_grad()
            noise = chainrule.randn(4, 3, generator=g, dtype=chainrule.float64)
            keep = chainrule.rand(4, 3, generator=g, dtype=chainrule.float64) > 0.3
            loss = F.mse_loss(net(x + noise * 0.1) , y) + (x * keep).sum() * 0.01 + F.dropout(x, 0.5).sum() * 0.01
            loss.backward()
            opt.step()
            return loss, noise

        def inputs(index):
            if how == "fresh":
                g = Generator()
                g.manual_seed(100 + index)
            else:
                g = shared.manual_seed(100 + index % 2)
            return normal((4, 3), 10 + index), normal((4, 2), 20 + index), g

        return Case(step, lambda: [net, opt, shared.get_state()], inputs=inputs,
                    after=lambda index, result: chainrule.default_generator.get_state())

    assert_same_as_eager(setup)


def test_manual_seed_from_an_argument():
    def setup():
        net = linear()
        opt = sgd(net)

        def step(x, y, seed):
            chainrule.manual_seed(seed)
            opt.zero_grad()
            loss = F.mse_loss(F.dropout(net(x), 0.4), y) + chainrule.randn(1, dtype=chainrule.float64).sum()
            loss.backward()
            opt.step()
            return loss

        def inputs(index):
            return normal((4, 3), 10 + index), normal((4, 2), 20 + index), [7, 7, 8, 9, 7, 8][index]

        return Case(step, lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- default dtype and formatting
def test_default_dtype_changed_inside_the_step():
    def setup():
        net = linear()
        opt = sgd(net)

        def step(x, y, wide):
            opt.zero_grad()
            old = chainrule.get_default_dtype()
            chainrule.set_default_dtype(chainrule.float64 if wide else chainrule.float32)
            try:
                offset = chainrule.tensor([0.1, 0.2]) + chainrule.ones(2)
            finally:
                chainrule.set_default_dtype(old)
            loss = F.mse_loss(net(x), y) + offset.double().sum()
            loss.backward()
            opt.step()
            return loss, offset

        def inputs(index):
            return normal((4, 3), 10 + index), normal((4, 2), 20 + index), index % 2 == 0

        return Case(step, lambda: [net, opt], inputs=inputs, cleanup=lambda: chainrule.set_default_dtype(chainrule.float32))

    assert_same_as_eager(setup)


def test_tensor_formatted_inside_the_step():
    def setup():
        net = linear()
        opt = sgd(net)
        log = []

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            text = f"{loss:.3f} {net.bias}"
            log.append(text)
            return loss, text

        return Case(step, lambda: [net, opt, list(log)])

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- modes set around the call
def test_global_grad_mode_toggled_around_the_call():
    def before(index):
        chainrule.set_grad_enabled(index % 3 != 2)

    def setup():
        net = linear()

        def step(x, y):
            out = F.mse_loss(net(x), y)
            return out, out.requires_grad

        return Case(step, lambda: [net], before=before, cleanup=lambda: chainrule.set_grad_enabled(True))

    assert_same_as_eager(setup)


def test_inference_mode_queried_inside_the_step():
    state = {"mode": None}

    def before(index):
        if state["mode"] is not None:
            state["mode"].__exit__(None, None, None)
        state["mode"] = chainrule.inference_mode(index % 2 == 1)
        state["mode"].__enter__()

    def cleanup():
        if state["mode"] is not None:
            state["mode"].__exit__(None, None, None)
            state["mode"] = None

    def setup():
        net = linear()

        def step(x, y):
            scale = 3.0 if chainrule.is_inference_mode_enabled() else 1.0
            return F.mse_loss(net(x), y) * scale

        return Case(step, lambda: [net], before=before, cleanup=cleanup)

    assert_same_as_eager(setup)


def test_detect_anomaly_turned_on_after_replays_catches_nan_backward():
    def setup():
        weight = chainrule.tensor([1.0, -1.0], dtype=chainrule.float64, requires_grad=True)

        def step(x):
            weight.grad = None
            total = (weight.sqrt() * x).sum()
            total.backward()
            return total

        def guarded(x):
            try:
                return step(x)
            except RuntimeError:
                return "raised"

        def before(index):
            chainrule.autograd.set_detect_anomaly(index >= 4)

        return Case(guarded, lambda: [weight], before=before,
                    cleanup=lambda: chainrule.autograd.set_detect_anomaly(False),
                    inputs=lambda index: (normal((2,), 10 + index),))

    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert_same_as_eager(setup)
