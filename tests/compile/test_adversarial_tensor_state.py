"""chainrule.compile against eager execution where a step's result hangs on TENSOR state and
aliasing: tensors written in place under no_grad (EMA teachers, clipping, hand normalization),
gradients edited by hand, arguments written in place or aliasing each other, views returned to the
caller and changed afterwards, tensors kept across calls, detach/``.data`` mixes, no-op dtype and
layout conversions, and several backward passes in one step.

Each test runs the same calls twice from the same seed, with fresh state each time, once eagerly
and once compiled, and compares bit for bit what each call returns, what its arguments hold after
it, what the caller keeps, and the modules', optimizers' and kept tensors' state. A compiled run
may record anew or fall back to eager with at most one warning, never return a different result.
"""
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.test_adversarial_replay import assert_identical, normal, snapshot, state_of


# ----------------------------------------------------------------------------- the harness
class Case:
    """What a test's ``setup`` builds: the ``step``; what to ``observe`` after each call (modules,
    optimizers, tensors, values); what to do ``before`` call ``index``; what to undo at the end
    (``cleanup``); the ``inputs`` of call ``index``; and what the caller does ``after`` it with its
    result (what it returns is kept and compared). Shared by test_adversarial_python_state.py."""

    def __init__(self, step, observe, before=None, cleanup=None, inputs=None, after=None):
        self.step = step
        self.observe = observe
        self.before = before or (lambda index: None)
        self.cleanup = cleanup or (lambda: None)
        self.inputs = inputs or default_inputs
        self.after = after or (lambda index, result: None)


def default_inputs(index):
    return (normal((4, 3), 10 + index), normal((4, 2), 20 + index))


def observed(objects):
    found = []
    for thing in objects:
        if isinstance(thing, (nn.Module, optim.Optimizer)):
            found.append(state_of(thing))
        else:
            found.append(snapshot(thing))
    return found


def run(compiled, setup, calls):
    chainrule.manual_seed(0)
    case = setup()
    function = chainrule.compile(case.step) if compiled else case.step
    history = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for index in range(calls):
                case.before(index)
                args = case.inputs(index)
                result = function(*args)
                history.append(snapshot(result, returned=True))
                history.append(snapshot(args))
                history.append(snapshot(case.after(index, result), returned=True))
                history.append(observed(case.observe()))
    finally:
        case.cleanup()
    history.append(("random", chainrule.default_generator.state_bytes()))
    messages = [str(warning.message) for warning in caught if "chainrule.compile" in str(warning.message)]
    return history, messages, function


def assert_same_as_eager(setup, calls=6):
    eager, eager_messages, _ = run(False, setup, calls)
    compiled, messages, function = run(True, setup, calls)
    assert not eager_messages
    assert len(eager) == len(compiled)
    parts = ("result", "arguments", "kept by the caller", "state")
    for index, (first, second) in enumerate(zip(eager, compiled)):
        assert_identical(first, second, f"call {index // 4}, {parts[index % 4] if index < 4 * calls else 'random'}")
    assert len(messages) <= 1, messages
    return function


def linear(inputs=3, outputs=2):
    return nn.Linear(inputs, outputs).double()


def sgd(net, **settings):
    return optim.SGD(net.parameters(), **({"lr": 0.1} | settings))


def adam(net, lr):
    return optim.Adam(net.parameters(), lr=lr)


def mse_step(net, opt, after_update=None):
    """The step most tests build on: ``opt.zero_grad()``, the MSE loss of ``net(x)`` against ``y``,
    backward, ``opt.step()``, then the test's own ``after_update(net, loss)``. The step returns what
    that hook returns, or the loss where it returns None."""

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        returned = after_update(net, loss) if after_update else None
        return loss if returned is None else returned

    return step


def assert_mse_training_same_as_eager(optimizer, after_update=None):
    """``assert_same_as_eager`` on a ``linear()`` model and its ``optimizer(net)`` trained by
    ``mse_step(net, opt, after_update)``, observing the model and the optimizer."""

    def setup():
        net = linear()
        opt = optimizer(net)
        return Case(mse_step(net, opt, after_update), lambda: [net, opt])

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- parameters written in place
def test_ema_teacher_updated_in_place_under_no_grad():
    def setup():
        net, teacher = linear(), linear()
        opt = optim.Adam(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            with chainrule.no_grad():
                target = teacher(x) * 0.5 + y * 0.5
            loss = F.mse_loss(net(x), target)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                for ema, p in zip(teacher.parameters(), net.parameters()):
                    ema.mul_(0.99).add_(p, alpha=0.01)
            return loss

        return Case(step, lambda: [net, teacher, opt])

    assert_same_as_eager(setup)


def test_ema_teacher_updated_through_data_and_lerp():
    def setup():
        net, teacher = linear(), linear()
        for p in teacher.parameters():
            p.requires_grad_(False)
        opt = sgd(net, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), teacher(x).detach() + y)
            loss.backward()
            opt.step()
            teacher.weight.data.lerp_(net.weight.data, 0.1)
            teacher.bias.data.mul_(0.9).add_(net.bias.data * 0.1)
            return loss

        return Case(step, lambda: [net, teacher, opt])

    assert_same_as_eager(setup)


@pytest.mark.parametrize("how", ["clamp_", "data.clamp_", "no_grad clamp_", "copy_ clamp"])
def test_weight_clipping_after_the_step(how):
    def clip(net, loss):
        for p in net.parameters():
            if how == "clamp_":
                with chainrule.no_grad():
                    p.clamp_(-0.3, 0.3)
            elif how == "data.clamp_":
                p.data.clamp_(-0.3, 0.3)
            elif how == "no_grad clamp_":
                with chainrule.no_grad():
                    p.clamp_(min=-0.3).clamp_(max=0.3)
            else:
                with chainrule.no_grad():
                    p.copy_(p.clamp(-0.3, 0.3))

    assert_mse_training_same_as_eager(lambda net: sgd(net, lr=2.0), clip)


def test_weight_normalized_by_hand_each_step():
    def normalize(net, loss):
        with chainrule.no_grad():
            net.weight.div_(net.weight.norm())
            net.bias.div_(net.bias.norm(dim=0, keepdim=True) + 1.0)
        return loss, net.weight

    assert_mse_training_same_as_eager(lambda net: adam(net, lr=0.1), normalize)


def test_gradient_noise_and_clipping_by_value_by_hand():
    def setup():
        net = linear()
        opt = sgd(net, momentum=0.5)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            for p in net.parameters():
                p.grad.add_(chainrule.randn_like(p.grad) * 0.01)
                p.grad.clamp_(-0.05, 0.05)
            opt.step()
            return loss

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


def test_gradient_clipping_utilities_and_grad_data_scaled():
    def setup():
        net = linear()
        opt = sgd(net)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y) * 10
            loss.backward()
            net.weight.grad.data.mul_(0.5)
            chainrule.nn.utils.clip_grad_value_(net.parameters(), 0.3)
            norm = chainrule.nn.utils.clip_grad_norm_(net.parameters(), 0.4)
            opt.step()
            return loss, norm

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


@pytest.mark.parametrize("how", ["zero_", "none", "mul_ 0", "fill_"])
def test_gradients_cleared_by_hand(how):
    def setup():
        net = linear()
        F.mse_loss(net(normal((4, 3), 1)), normal((4, 2), 2)).backward()  # every .grad exists from the start

        def step(x, y):
            for p in net.parameters():
                if p.grad is not None:
                    if how == "zero_":
                        p.grad.zero_()
                    elif how == "none":
                        p.grad = None
                    elif how == "mul_ 0":
                        p.grad.mul_(0)
                    else:
                        p.grad.fill_(0.25)
            loss = F.mse_loss(net(x), y)
            loss.backward()
            with chainrule.no_grad():
                for p in net.parameters():
                    p -= 0.1 * p.grad
            return loss

        return Case(step, lambda: [net])

    assert_same_as_eager(setup)


def test_gradient_accumulated_over_calls_without_zero_grad_and_stepped_every_other_call():
    def setup():
        net = linear()
        opt = optim.Adam(net.parameters(), lr=0.1)

        def step(x, y):
            loss = F.mse_loss(net(x), y) / 2
            loss.backward()
            return loss

        def after(index, result):
            if index % 2 == 1:
                opt.step()
                opt.zero_grad()

        return Case(step, lambda: [net, opt], after=after)

    assert_same_as_eager(setup)


def test_returned_gradient_changed_by_the_caller():
    def setup():
        net = linear()
        opt = sgd(net)

        def step(x, y):
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss, net.weight.grad

        def after(index, result):
            result[1].mul_(0.5)  # what the next call accumulates into
            return result[1]

        return Case(step, lambda: [net, opt], after=after)

    assert_same_as_eager(setup)


@pytest.mark.parametrize("how", ["zero_", "none"])
def test_gradient_cleared_only_when_it_exists(how):
    def setup():
        weight = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64, requires_grad=True)

        def step(x, y):
            if weight.grad is not None:
                if how == "zero_":
                    weight.grad.zero_()
                else:
                    weight.grad = None
            (weight * x[0, :2]).sum().backward()
            return weight.grad.clone()

        return Case(step, lambda: [weight])

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- arguments written in place, aliased
@pytest.mark.parametrize("how", ["add_", "view setitem", "mul_ under no_grad", "clamp_ then div_", "t_", "transpose_", "resize_", "unsqueeze_"])
def test_argument_written_in_place_by_the_step(how):
    def setup():
        net = linear()
        opt = sgd(net)

        def step(x, y):
            opt.zero_grad()
            if how == "add_":
                x.add_(1.0)
            elif how == "view setitem":
                x[0] = 0.0
                x[:, 1] *= 2.0
            elif how == "mul_ under no_grad":
                with chainrule.no_grad():
                    x.mul_(0.5)
            elif how == "clamp_ then div_":
                x.clamp_(-1.0, 1.0).div_(2.0)
            elif how == "t_":
                y.t_()
                y = y.t()
            elif how == "transpose_":
                y.transpose_(0, 1)
                y = y.transpose(0, 1)
            elif how == "resize_":
                y.resize_(8)
                y = y.reshape(4, 2)
            else:
                y.unsqueeze_(0)
                y = y[0]
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss, x

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


def test_argument_written_in_place_then_used_by_the_next_call():
    def setup():
        net = linear()
        state = normal((4, 3), 5)

        def step(h, y):
            out = net(h)
            loss = F.mse_loss(out, y)
            loss.backward()
            with chainrule.no_grad():
                h.mul_(0.9).add_(out.sum(1, keepdim=True) * 0.1)
            return loss

        return Case(step, lambda: [net, state], inputs=lambda index: (state, normal((4, 2), 20 + index)))

    assert_same_as_eager(setup)


@pytest.mark.parametrize("how", ["x, x[1:]", "x, x.t()", "x, x", "x, x.view", "x, x.detach()", "x, x[::2]"])
def test_arguments_aliasing_each_other(how):
    def setup():
        net = linear(3, 3)
        opt = sgd(net)

        def inputs(index):
            x = normal((3, 3), 30 + index, requires_grad=(how == "x, x"))
            if how == "x, x[1:]":
                return x, x[1:]
            if how == "x, x.t()":
                return x, x.t()
            if how == "x, x":
                return x, x
            if how == "x, x.view":
                return x, x.view(9)[:3]
            if how == "x, x.detach()":
                return x, x.detach()
            return x, x[::2]

        def step(a, b):
            opt.zero_grad()
            loss = (net(a).tanh().sum() + (b * b).sum()) / 3
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)


@pytest.mark.parametrize("how", ["x, x[1:]", "x, x.t()", "x, x.detach()"])
def test_aliasing_arguments_one_written_in_place(how):
    def setup():
        net = linear(3, 3)

        def inputs(index):
            x = normal((3, 3), 30 + index)
            return (x, x[1:]) if how == "x, x[1:]" else (x, x.t()) if how == "x, x.t()" else (x, x.detach())

        def step(a, b):
            b.mul_(2.0)
            out = net(a).sum() + b.sum()
            out.backward()
            a.add_(1.0)
            with chainrule.no_grad():
                return out.detach(), a * 1.0, b * 1.0, net(b).sum()

        return Case(step, lambda: [net], inputs=inputs, before=lambda index: net.zero_grad())

    assert_same_as_eager(setup)


def assert_first_argument_doubled_same_as_eager(aliased):
    """A step that doubles its first argument in place and backpropagates through ``net(a + b)``,
    called with ``(x, x)`` where ``aliased(index)`` and with two distinct tensors elsewhere."""

    def setup():
        net = linear(3, 3)

        def inputs(index):
            x = normal((3, 3), 30 + index)
            return (x, x) if aliased(index) else (x, normal((3, 3), 60 + index))

        def step(a, b):
            a.mul_(2.0)
            out = net(a + b).sum()
            out.backward()
            return out, b.sum()

        return Case(step, lambda: [net], inputs=inputs)

    assert_same_as_eager(setup)


def test_aliased_arguments_recorded_then_distinct_arguments():
    assert_first_argument_doubled_same_as_eager(lambda index: index < 2 or index == 4)


def test_distinct_arguments_recorded_then_aliased_arguments():
    assert_first_argument_doubled_same_as_eager(lambda index: index >= 2)


def test_distinct_arguments_recorded_then_a_view_of_the_other():
    def setup():
        def inputs(index):
            x = normal((3, 3), 30 + index)
            return (x, normal((3, 3), 60 + index)) if index < 2 else (x, x.t())

        def step(a, b):
            a.add_(1.0)
            return (b * 2.0).sum(), b + 0.0

        return Case(step, lambda: [], inputs=inputs)

    assert_same_as_eager(setup)


def test_parameter_data_passed_as_the_argument_and_written():
    def setup():
        net = linear()

        def step(w, x):
            w.mul_(0.5)
            out = net(x).sum()
            out.backward()
            return out

        def inputs(index):
            return (net.weight.data, normal((4, 3), 10 + index))

        return Case(step, lambda: [net], inputs=inputs)

    assert_same_as_eager(setup)


def test_parameter_passed_as_the_argument_and_used_through_the_model():
    def setup():
        net = linear()
        opt = sgd(net, momentum=0.9)

        def step(w, x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y) + (w * w).sum() * 0.01
            loss.backward()
            opt.step()
            return loss, w

        return Case(step, lambda: [net, opt], inputs=lambda index: (net.weight, *default_inputs(index)))

    assert_same_as_eager(setup)


def test_parameter_passed_as_the_argument_then_a_copy_of_it():
    def setup():
        net = linear()
        opt = sgd(net)

        def step(w, x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y) + (w * w).sum() * 0.01
            loss.backward()
            opt.step()
            return loss

        def inputs(index):
            w = net.weight if index % 2 == 0 else net.weight.detach().clone().requires_grad_()
            return (w, *default_inputs(index))

        return Case(step, lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- what the step returns, changed by the caller
@pytest.mark.parametrize("what", ["weight", "weight view", "weight.data", "weight.detach()", "argument", "argument view", "same twice", "grad", "loss twice"])
def test_returned_tensor_changed_by_the_caller_then_called_again(what):
    def setup():
        net = linear()
        opt = sgd(net)

        def step(x, y):
            opt.zero_grad()
            out = net(x)
            loss = F.mse_loss(out, y)
            loss.backward()
            opt.step()
            if what == "weight":
                return loss, net.weight
            if what == "weight view":
                return loss, net.weight[0]
            if what == "weight.data":
                return loss, net.weight.data
            if what == "weight.detach()":
                return loss, net.weight.detach()
            if what == "argument":
                return loss, x
            if what == "argument view":
                return loss, x[:, 1:]
            if what == "same twice":
                hidden = out.detach()
                return hidden, hidden
            if what == "grad":
                return loss, net.bias.grad
            return loss, loss

        def after(index, result):
            first, second = result
            with chainrule.no_grad():
                second.add_(0.5)
                if what == "same twice":
                    first.mul_(2.0)
            return [first * 1.0, second * 1.0]

        return Case(step, lambda: [net, opt], after=after)

    assert_same_as_eager(setup)


def test_returned_output_kept_by_the_caller_survives_later_calls():
    def setup():
        net = linear()
        kept = []

        def step(x, y):
            out = net(x)
            F.mse_loss(out, y).backward()
            return out.detach(), net.weight.grad

        def after(index, result):
            kept.append(result)
            return kept

        return Case(step, lambda: [net], after=after, before=lambda index: net.zero_grad() if index == 3 else None)

    assert_same_as_eager(setup)


def test_returned_intermediates_and_their_views_kept_across_calls():
    def setup():
        net = linear()
        kept = []

        def step(x, y):
            out = net(x)
            flat = out.view(-1)
            loss = F.mse_loss(out, y)
            loss.backward()
            return flat[:3], out.t(), loss.detach()

        def after(index, result):
            kept.append(result)
            result[1][0, 0] = -1.0  # a write through the caller's view
            return kept

        return Case(step, lambda: [net], after=after)

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- tensors kept across calls by the step
def test_global_running_sum_written_in_place():
    running = {"sum": chainrule.zeros((), dtype=chainrule.float64), "count": chainrule.zeros((), dtype=chainrule.int64)}

    def setup():
        running["sum"] = chainrule.zeros((), dtype=chainrule.float64)
        running["count"] = chainrule.zeros((), dtype=chainrule.int64)
        net = linear()
        opt = sgd(net)
        total = running["sum"]
        count = running["count"]

        def add_to_the_running_sum(net, loss):
            nonlocal total
            total += loss.detach()
            count.add_(1)
            return total / count

        return Case(mse_step(net, opt, add_to_the_running_sum), lambda: [net, opt, total, count])

    assert_same_as_eager(setup)


def test_buffers_updated_with_copy_index_put_and_a_step_counter():
    class Tracked(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = linear()
            self.register_buffer("mean", chainrule.zeros(2, dtype=chainrule.float64))
            self.register_buffer("seen", chainrule.zeros(4, dtype=chainrule.float64))
            self.register_buffer("steps", chainrule.zeros((), dtype=chainrule.int64))

        def forward(self, x):
            out = self.layer(x)
            if self.training:
                with chainrule.no_grad():
                    self.steps += 1
                    self.mean.copy_(self.mean * 0.9 + out.mean(0) * 0.1)
                    self.seen.index_put_((chainrule.tensor([0, 2]),), out[:2, 0], accumulate=True)
            return out - self.mean

    def setup():
        net = Tracked()
        opt = optim.Adam(net.parameters(), lr=0.05)
        return Case(mse_step(net, opt), lambda: [net, opt], before=lambda index: net.train(index != 4))

    assert_same_as_eager(setup)


def test_bias_correction_by_hand_with_a_counter_tensor():
    def setup():
        net = linear()
        step_count = chainrule.zeros((), dtype=chainrule.float64)
        averages = [chainrule.zeros_like(p) for p in net.parameters()]

        def step(x, y):
            net.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            with chainrule.no_grad():
                step_count.add_(1)
                for p, m in zip(net.parameters(), averages):
                    m.mul_(0.9).add_(p.grad, alpha=0.1)
                    p.sub_(0.1 * m / (1 - 0.9 ** step_count))
            return loss

        return Case(step, lambda: [net, step_count, averages])

    assert_same_as_eager(setup)


def test_kept_tensor_rebound_to_the_step_s_result():
    def setup():
        net = linear()
        memory = {"last": chainrule.zeros(4, 2, dtype=chainrule.float64)}

        def step(x, y):
            out = net(x) + memory["last"] * 0.5
            F.mse_loss(out, y).backward()
            memory["last"].copy_(out.detach())
            return out

        return Case(step, lambda: [net, memory])

    assert_same_as_eager(setup)


def test_global_tensor_written_in_place_between_calls_by_the_caller():
    def setup():
        net = linear()
        scale = chainrule.ones(2, dtype=chainrule.float64)

        def step(x, y):
            loss = F.mse_loss(net(x) * scale, y)
            loss.backward()
            return loss

        def before(index):
            with chainrule.no_grad():
                scale.mul_(1.5)
                scale[0] = float(index)

        return Case(step, lambda: [net, scale], before=before)

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- detach, clone, .data
def test_detached_alias_written_changes_the_argument():
    def setup():
        net = linear()

        def step(x, y):
            view = x.detach()
            view.mul_(2.0)
            data = y.data
            data.add_(1.0)
            loss = F.mse_loss(net(x), y)
            loss.backward()
            return loss, view, data

        return Case(step, lambda: [net], before=lambda index: net.zero_grad())

    assert_same_as_eager(setup)


def test_detached_alias_of_a_parameter_written_inside_the_step():
    def write_through_detached_aliases(net, loss):
        net.weight.detach().mul_(0.5)
        frozen = net.bias.detach()
        frozen[0] = 0.0

    assert_mse_training_same_as_eager(sgd, write_through_detached_aliases)


def test_parameter_data_rebound_inside_the_step():
    def rebind_the_weight_data(net, loss):
        net.weight.data = net.weight.data.clamp(-0.2, 0.2)

    assert_mse_training_same_as_eager(lambda net: sgd(net, momentum=0.9), rebind_the_weight_data)


def test_closure_view_of_a_parameter_made_before_compiling():
    def setup():
        net = linear()
        opt = sgd(net)
        row = net.weight[0]
        flat = net.bias.view(2, 1)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y) + (row.detach() * 0.1).sum() + flat.detach().sum()
            loss.backward()
            opt.step()
            return loss, row.detach() * 1.0

        return Case(step, lambda: [net, opt, row, flat])

    assert_same_as_eager(setup)


def test_no_grad_write_into_a_tensor_that_requires_grad_later_used():
    def setup():
        net = linear()
        gate = chainrule.ones(2, dtype=chainrule.float64, requires_grad=True)
        opt = optim.SGD([*net.parameters(), gate], lr=0.1)

        def step(x, y):
            opt.zero_grad()
            with chainrule.no_grad():
                gate.clamp_(0.5, 1.5)
                gate[1] = gate[0] * 0.5 + 0.5
            loss = F.mse_loss(net(x) * gate, y)
            loss.backward()
            opt.step()
            return loss, gate.grad

        return Case(step, lambda: [net, opt, gate])

    assert_same_as_eager(setup)


def test_requires_grad_made_inside_the_step_on_new_tensors_and_arguments():
    def setup():
        net = linear()

        def step(x, y):
            shift = (y * 0.1).detach().requires_grad_()
            x.requires_grad_()
            loss = F.mse_loss(net(x) + shift, y)
            loss.backward()
            return loss, shift.grad, x.grad, shift

        return Case(step, lambda: [net], before=lambda index: net.zero_grad())

    assert_same_as_eager(setup)


def test_retain_grad_of_non_leaves_read_inside_the_step():
    def setup():
        net = nn.Sequential(linear(3, 4), nn.Tanh(), linear(4, 2))
        opt = sgd(net)

        def step(x, y):
            opt.zero_grad()
            hidden = net[1](net[0](x))
            hidden.retain_grad()
            out = net[2](hidden)
            out.retain_grad()
            loss = F.mse_loss(out, y)
            loss.backward()
            with chainrule.no_grad():
                net[0].bias.grad.add_(hidden.grad.sum(0) * 0.1)
            opt.step()
            return loss, hidden.grad, out.grad * 2

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


def test_detach_in_place_on_an_intermediate():
    def setup():
        net = linear()

        def step(x, y):
            out = net(x)
            target = out * 0.5
            target.detach_()
            loss = F.mse_loss(out, target + y)
            loss.backward()
            return loss, target

        return Case(step, lambda: [net], before=lambda index: net.zero_grad())

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- dtype and layout no-ops
@pytest.mark.parametrize("how", ["to float64", "to same dtype", "contiguous", "clone contiguous_format", "clone preserve_format", "double()", "type_as"])
def test_no_op_conversions_of_parameters_inside_the_step(how):
    def setup():
        net = linear()
        opt = sgd(net, momentum=0.9)

        def convert(t):
            if how == "to float64":
                return t.to(chainrule.float64)
            if how == "to same dtype":
                return t.to(dtype=t.dtype, copy=False)
            if how == "contiguous":
                return t.contiguous()
            if how == "clone contiguous_format":
                return t.clone(memory_format=chainrule.contiguous_format)
            if how == "clone preserve_format":
                return t.clone(memory_format=chainrule.preserve_format)
            if how == "double()":
                return t.double()
            return t.type_as(t)

        def step(x, y):
            opt.zero_grad()
            w = convert(net.weight)
            b = convert(net.bias)
            loss = F.mse_loss(convert(x) @ w.t() + b, y)
            loss.backward()
            with chainrule.no_grad():
                w.mul_(1.0)  # an alias (no-op conversion) or a copy: eager decides
            opt.step()
            with chainrule.no_grad():
                convert(net.weight).mul_(0.9)
            return loss

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


def test_float32_model_stepped_with_a_float64_copy():
    def setup():
        net = nn.Linear(3, 2)
        opt = sgd(net)

        def step(x, y):
            opt.zero_grad()
            w = net.weight.to(chainrule.float64)
            loss = F.mse_loss(x @ w.t() + net.bias.double(), y)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                net.weight.float().mul_(0.99)
            return loss

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- several backward passes
def test_two_backwards_with_retain_graph_then_an_edit_of_the_gradient():
    def setup():
        net = linear()
        opt = optim.Adam(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward(retain_graph=True)
            first = net.weight.grad.clone()
            net.weight.grad.mul_(-1.0)
            loss.backward()
            opt.step()
            return loss.detach(), first, net.weight.grad

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


@pytest.mark.parametrize("how", ["autograd.grad", "create_graph", "double backward"])
def test_higher_order_gradients_inside_the_step_fall_back(how):
    def setup():
        net = linear()
        opt = sgd(net)

        def step(x, y):
            opt.zero_grad()
            x.requires_grad_()
            loss = F.mse_loss(net(x).tanh(), y)
            if how == "autograd.grad":
                (gx,) = chainrule.autograd.grad(loss, [x], create_graph=True)
                (loss + gx.pow(2).sum()).backward()
            elif how == "create_graph":
                loss.backward(create_graph=True)
                net.weight.grad.pow(2).sum().backward()
            else:
                (gw,) = chainrule.autograd.grad(loss, [net.weight], create_graph=True)
                (ggw,) = chainrule.autograd.grad(gw.sum(), [net.weight])
                net.weight.grad = ggw
            opt.step()
            return loss

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


def test_gradient_made_by_hand_when_missing_then_rebound():
    def setup():
        net = linear()
        opt = sgd(net, momentum=0.5)

        def step(x, y):
            for p in net.parameters():
                if p.grad is None:
                    p.grad = chainrule.zeros_like(p)
            loss = F.mse_loss(net(x), y)
            loss.backward()
            net.weight.grad = net.weight.grad * 0.5
            opt.step()
            opt.zero_grad(set_to_none=False)
            return loss

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


def test_gradient_set_to_none_by_the_caller_between_calls():
    def setup():
        net = linear()

        def step(x, y):
            loss = F.mse_loss(net(x), y)
            loss.backward()
            with chainrule.no_grad():
                net.weight.sub_(net.weight.grad * 0.1)
            return loss, net.weight.grad * 1.0

        def before(index):
            if index in (2, 3):
                net.weight.grad = None
            if index == 4:
                net.weight.grad = chainrule.ones_like(net.weight)

        return Case(step, lambda: [net], before=before)

    assert_same_as_eager(setup)


@pytest.mark.parametrize("how", ["is", "data_ptr"])
def test_python_branch_on_arguments_being_the_same_tensor(how):
    def setup():
        weight = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64, requires_grad=True)

        def step(a, b):
            same = a is b if how == "is" else a.data_ptr() == b.data_ptr()
            out = (weight * a).sum() * (2.0 if same else 3.0) + b.sum()
            out.backward()
            return out.detach()

        def inputs(index):
            a = normal((2,), 70 + index)
            return (a, a) if index in (0, 3, 5) else (a, normal((2,), 80 + index))

        return Case(step, lambda: [weight], inputs=inputs)

    assert_same_as_eager(setup)
