"""chainrule.compile against eager execution for custom autograd Functions and hooks whose Python
logic depends on tensor values or on Python state outside the step: value-dependent branches in
forward and backward, ctx attributes computed with .item(), globals and class counters, mark_dirty,
mark_non_differentiable, set_materialize_grads(False), once_differentiable, setup_context, tuple
outputs, tensor hooks and retain_grad inside the step, module hooks, post-accumulate-grad hooks.

Each test compares ~6 calls compiled against eager, bit for bit, through ``assert_same_as_eager``.
"""
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.autograd.function import once_differentiable
from chainrule.nn import functional as F
from tests.compile.test_adversarial_tensor_state import Case, assert_same_as_eager, linear, mse_step, sgd

Function = chainrule.autograd.Function


def fn_case(apply, before=None, extra=lambda: []):
    """Linear net whose output goes through ``apply(out)`` before the MSE loss, trained by SGD."""
    net = linear()
    opt = sgd(net)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(apply(net(x)), y)
        loss.backward()
        opt.step()
        return loss

    return Case(step, lambda: [net, opt, *extra()], before)


def signed_inputs(index):
    from tests.compile.test_adversarial_replay import normal
    sign = 1.0 if index % 2 == 0 else -1.0
    return (normal((4, 3), 10 + index) * sign + sign * 3.0, normal((4, 2), 20 + index))


# ----------------------------------------------------------------------------- values decide the Python
class SumBranch(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        if x.sum() > 0:
            return x * 2
        return x * -3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 if x.sum() > 0 else g * -3


def test_forward_and_backward_branch_on_the_sum_of_the_values():
    def setup():
        case = fn_case(SumBranch.apply)
        case.inputs = signed_inputs
        return case

    assert_same_as_eager(setup)


class MaxScaled(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.m = float(x.max().item())
        return x / ctx.m

    @staticmethod
    def backward(ctx, g):
        return g * (1.0 / ctx.m) * 1.25


def test_a_float_from_max_item_kept_on_ctx_and_used_in_backward():
    assert_same_as_eager(lambda: fn_case(lambda t: MaxScaled.apply(t.abs() + 1.0)))


# ----------------------------------------------------------------------------- Python state outside
SCALE = {"value": 1.0}


class GlobalScaledBackward(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, g):
        return g * SCALE["value"]


def test_a_global_scale_read_in_backward_changed_between_calls():
    def before(index):
        SCALE["value"] = [1.0, 2.0, 0.5, -1.0, 3.0, 0.25][index]

    def setup():
        SCALE["value"] = 1.0
        return fn_case(GlobalScaledBackward.apply, before=before)

    assert_same_as_eager(setup)


class Counting(Function):
    calls = 0

    @staticmethod
    def forward(ctx, x):
        Counting.calls += 1
        ctx.n = Counting.calls
        return x * float(Counting.calls)

    @staticmethod
    def backward(ctx, g):
        return g * float(ctx.n)


def test_a_class_attribute_counter_incremented_in_forward():
    def setup():
        Counting.calls = 0
        case = fn_case(Counting.apply)
        case.after = lambda index, result: Counting.calls
        return case

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- ctx features
class AddOneInPlace(Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1.0)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 1.0


def test_mark_dirty_in_place_function():
    assert_same_as_eager(lambda: fn_case(lambda t: AddOneInPlace.apply(t * 1.0)))


class SortedWithIndex(Function):
    @staticmethod
    def forward(ctx, x):
        idx = (x > 0).double()
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)
        return x * idx + x * 0.5, idx

    @staticmethod
    def backward(ctx, g, g_idx):
        (idx,) = ctx.saved_tensors
        return g * (idx + 0.5)


def test_mark_non_differentiable_second_output_unused():
    def apply(t):
        out, idx = SortedWithIndex.apply(t)
        assert not idx.requires_grad
        return out

    assert_same_as_eager(lambda: fn_case(apply))


class TwoOutputsNoMaterialize(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, g1, g2):
        grad = None
        if g1 is not None:
            grad = g1 * 2
        if g2 is not None:
            grad = g2 * 3 if grad is None else grad + g2 * 3
        return grad


@pytest.mark.parametrize("use", ["first", "second", "alternate"])
def test_set_materialize_grads_false_with_one_output_used(use):
    def setup():
        state = {"i": 0}

        def apply(t):
            a, b = TwoOutputsNoMaterialize.apply(t)
            pick = {"first": 0, "second": 1, "alternate": state["i"] % 2}[use]
            state["i"] += 1
            return a if pick == 0 else b

        return fn_case(apply)

    assert_same_as_eager(setup)


class OnceSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x


def test_once_differentiable_backward():
    assert_same_as_eager(lambda: fn_case(OnceSquare.apply))


class CubeSetup(Function):
    @staticmethod
    def forward(x, k):
        return x * x * x * k

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, k = inputs
        ctx.save_for_backward(x)
        ctx.k = k

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x * ctx.k, None


def test_setup_context_style_with_a_python_scalar_changing_between_calls():
    def setup():
        ks = [1.0, 2.0, 1.0, 0.5, 0.5, -1.0]
        state = {"k": 1.0}
        case = fn_case(lambda t: CubeSetup.apply(t, state["k"]))
        case.before = lambda index: state.update(k=ks[index])
        return case

    assert_same_as_eager(setup)


def test_python_scalar_argument_passed_through_the_step():
    def setup():
        net = linear()
        opt = sgd(net)

        def step(x, y, k):
            opt.zero_grad()
            loss = F.mse_loss(CubeSetup.apply(net(x), k), y)
            loss.backward()
            opt.step()
            return loss

        case = Case(step, lambda: [net, opt])
        from tests.compile.test_adversarial_tensor_state import default_inputs
        case.inputs = lambda index: (*default_inputs(index), [1.0, 2.0, 2.0, 0.5, 1.0, 3.0][index])
        return case

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- hooks
def test_tensor_hook_registered_inside_the_step():
    def apply(t):
        t.register_hook(lambda g: g * 2)
        return t

    assert_same_as_eager(lambda: fn_case(apply))


def test_retain_grad_and_hook_inside_the_step_return_the_grad():
    def setup():
        net = linear()
        opt = sgd(net)

        def step(x, y):
            opt.zero_grad()
            h = net(x)
            h.retain_grad()
            h.register_hook(lambda g: g * 3)
            loss = F.mse_loss(h, y)
            loss.backward()
            opt.step()
            return loss, h.grad

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


def test_hook_whose_closure_counter_changes():
    def setup():
        count = {"n": 0}

        def hook(g):
            count["n"] += 1
            return g * float(count["n"])

        def apply(t):
            t.register_hook(hook)
            return t

        case = fn_case(apply)
        case.after = lambda index, result: count["n"]
        return case

    assert_same_as_eager(setup)


def test_persistent_tensor_hook_with_a_closure_counter_on_a_parameter():
    def setup():
        count = {"n": 0}
        net = linear()
        opt = sgd(net)

        def hook(g):
            count["n"] += 1
            return g * float(count["n"])

        net.weight.register_hook(hook)
        case = Case(mse_step(net, opt), lambda: [net, opt])
        case.after = lambda index, result: count["n"]
        return case

    assert_same_as_eager(setup)


def test_module_forward_hook_modifying_outputs_and_full_backward_hook():
    def setup():
        net = linear()
        opt = sgd(net)
        seen = []
        state = {"scale": 1.0}
        net.register_forward_hook(lambda m, inp, out: out * state["scale"])
        net.register_full_backward_hook(lambda m, gin, gout: (gin[0] * 2,) if gin[0] is not None else None)

        def record(m, gin, gout):
            seen.append(float(gout[0].sum().item()))

        net.register_full_backward_hook(record)

        def before(index):
            state["scale"] = [1.0, 2.0, 2.0, -1.0, 0.5, 1.0][index]

        def step(x, y):
            opt.zero_grad()
            x = x * 1.0
            x.requires_grad_(True)
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss, x.grad

        return Case(step, lambda: [net, opt, list(seen)], before)

    assert_same_as_eager(setup)


def test_post_accumulate_grad_hook_optimizer_in_backward():
    def setup():
        net = linear()
        opts = {p: optim.SGD([p], lr=0.1, momentum=0.9) for p in net.parameters()}

        def hook(p):
            opts[p].step()
            opts[p].zero_grad()

        for p in net.parameters():
            p.register_post_accumulate_grad_hook(hook)

        def step(x, y):
            loss = F.mse_loss(net(x), y)
            loss.backward()
            return loss

        return Case(step, lambda: [net, *opts.values()])

    assert_same_as_eager(setup)
