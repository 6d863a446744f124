"""chainrule.compile against eager execution for steps built to stress the simplifier's rewrites
(compile/simplify.py): a repeated ``a * b`` computed once (the backward of ``x * x``), a 0-d
gradient's broadcast dropped when read by + - * / (``(p * p).sum()`` penalties), ``if``s with
identical branches collapsed (a mean's ``if count:``), and folded ``ndim`` tests.

Each case is trained for several calls from the same seed and compared bit for bit (losses,
parameters, gradients, optimizer state) with the harness of test_adversarial_tensor_state.py.
"""
import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.test_adversarial_replay import normal
from tests.compile.test_adversarial_tensor_state import Case, assert_same_as_eager


# ----------------------------------------------------------------------------- helpers
class Params(nn.Module):
    """Bare parameters of the given shapes (0-d and size-1 included), from the seeded generator."""

    def __init__(self, shapes, dtype=chainrule.float32):
        super().__init__()
        self.ps = nn.ParameterList([nn.Parameter(chainrule.randn(shape).to(dtype)) for shape in shapes])

    def __iter__(self):
        return iter(self.ps)


SHAPES = [(), (1,), (1, 1), (3,), (2, 3), (3, 1)]


def training(loss_fn, shapes=SHAPES, dtype=chainrule.float32, inputs=None, optimizer="sgd"):
    """A setup: parameters of ``shapes``, a step ``loss_fn(params, *inputs)`` -> loss, backward,
    optimizer step; it returns the loss."""

    def setup():
        params = Params(shapes, dtype)
        opt = (optim.SGD(params.parameters(), lr=0.05, momentum=0.9) if optimizer == "sgd"
               else optim.Adam(params.parameters(), lr=0.01))

        def step(*args):
            opt.zero_grad()
            loss = loss_fn(list(params), *args)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [params, opt], inputs=inputs or (lambda i: (normal((4, 3), 10 + i, np.float32),)))

    return setup


def same_as_eager(loss_fn, **settings):
    return assert_same_as_eager(training(loss_fn, **settings), calls=4)


def same_error_every_call(step, args, error, calls=3):
    """Eagerly and compiled, each call raises ``error`` (the same message)."""
    with pytest.raises(error) as eager:
        step(*args)
    compiled = chainrule.compile(step)
    for _ in range(calls):
        with pytest.raises(error) as replayed:
            compiled(*args)
        assert str(replayed.value) == str(eager.value)


# ----------------------------------------------------------------------------- x * x and its relatives
@pytest.mark.parametrize("square", [
    "mul_self", "pow2", "square", "mul_view_as", "mul_double_transpose", "mul_detached", "mul_reshaped_alias",
])
def test_sum_of_a_parameter_times_itself_or_an_alias(square):
    forms = {
        "mul_self": lambda p: p * p,
        "pow2": lambda p: p.pow(2),
        "square": lambda p: p.square(),
        "mul_view_as": lambda p: p * p.view_as(p),
        "mul_double_transpose": lambda p: p * p.T.T if p.ndim <= 2 else p * p,
        "mul_detached": lambda p: p * p.detach(),
        "mul_reshaped_alias": lambda p: p * p.reshape(-1).reshape(p.shape),
    }

    def loss_fn(params, x):
        return (x.sum() * params[0]) + 1e-2 * sum(forms[square](p).sum() for p in params)

    same_as_eager(loss_fn)


@pytest.mark.parametrize("dtype", [chainrule.float16, chainrule.float32, chainrule.float64])
def test_l2_penalty_in_each_float_dtype_with_adam(dtype):
    def loss_fn(params, x):
        data = (x.to(dtype) @ params[4].T).tanh().mean()
        return data + 1e-3 * sum((p * p).sum() for p in params)

    same_as_eager(loss_fn, dtype=dtype, optimizer="adam")


def test_x_times_x_of_an_input_and_an_activation_both_needing_grad():
    def loss_fn(params, x):
        h = x @ params[4].T  # (4, 2)
        a = h * h  # grad * h twice, then added
        b = (h * h) * (h * h)
        return a.mean() + b.sum() * 1e-3 + (params[3] * params[3]).sum()

    same_as_eager(loss_fn)


def test_same_product_twice_in_a_row_with_one_changed_in_place():
    """Two identical products where the second is then written in place: sharing one array
    would show up in the first."""

    def loss_fn(params, x):
        p = params[4]
        a = p * p
        b = p * p
        b.mul_(3.0)
        b.add_(a)
        return a.sum() + b.sum() * 0.5

    same_as_eager(loss_fn)


def test_inplace_ops_on_results_of_x_times_x():
    def loss_fn(params, x):
        p = params[4]
        q = p * p
        q.add_(1.0).mul_(x.mean())
        r = params[5] * params[5]
        r.clamp_(max=0.5)
        return q.sum() + r.sum() + (params[1] * params[1]).sum()

    same_as_eager(loss_fn)


def test_x_times_x_returned_alongside_the_loss():
    """The product is kept by the caller (handed out), so its array must not be shared."""

    def setup():
        params = Params(SHAPES)
        opt = optim.SGD(params.parameters(), lr=0.05)

        def step(x):
            opt.zero_grad()
            sq1 = params.ps[4] * params.ps[4]
            sq2 = params.ps[4] * params.ps[4]
            loss = (sq1 * x[:2]).sum() + sq2.sum()
            loss.backward()
            opt.step()
            return loss, sq1.detach(), sq2.detach()

        return Case(step, lambda: [params, opt], inputs=lambda i: (normal((2, 3), 10 + i, np.float32),))

    assert_same_as_eager(setup, calls=4)


# ----------------------------------------------------------------------------- broadcasts of 0-d gradients
def test_zero_d_loss_times_a_shape_1_tensor():
    """A 0-d loss times a (1,) tensor is (1,): the result, and the gradient, grow a dimension."""

    def loss_fn(params, x):
        total = (params[4] * params[4]).sum()  # 0-d
        scaled = total * params[1]  # (1,)
        scaled2 = params[2] * (params[3] * params[3]).sum()  # (1, 1)
        return (scaled + scaled2).sum()

    same_as_eager(loss_fn)


def test_sum_gradient_beside_operands_of_other_shapes():
    """The broadcast of a sum's gradient read by + - * / beside a (1,), a (3, 1) and a 0-d
    array: dropping it would change the gradient's shape."""

    def loss_fn(params, x):
        s = params[4].sum()  # grad of s broadcast to (2, 3)
        t = (params[4] * params[5].T).sum()  # (2,3) * (1,3)
        u = (params[4] / (params[1] + 3.0)).sum() + (params[4] - params[0]).sum()
        w = (params[5] + params[3]).sum()  # (3,1) + (3,) -> (3,3)
        return s * s + t + u * params[0] + w

    same_as_eager(loss_fn)


def test_loss_whose_shape_is_1_backward_through_sums():
    def setup():
        params = Params(SHAPES)
        opt = optim.SGD(params.parameters(), lr=0.05)

        def step(x):
            opt.zero_grad()
            loss = (params.ps[4] * params.ps[4]).sum() * params.ps[1] - params.ps[0] * params.ps[3].sum()
            assert loss.shape == (1,)
            loss.backward(chainrule.ones(1))
            opt.step()
            return loss

        return Case(step, lambda: [params, opt], inputs=lambda i: (normal((4, 3), 10 + i, np.float32),))

    assert_same_as_eager(setup, calls=4)


def test_mixed_dtypes_promoted_in_the_penalty():
    """float32 parameters times float64 and float16 tensors and integer tensors: promotion
    decides each gradient's dtype."""

    def setup():
        params = Params(SHAPES)
        opt = optim.SGD(params.parameters(), lr=0.05)
        ints = chainrule.tensor(np.arange(6).reshape(2, 3))
        halves = chainrule.tensor(np.float16([0.5, -1.5, 2.0]))

        def step(x):
            opt.zero_grad()
            a = (params.ps[4] * ints).sum()  # float32 * int64
            b = (params.ps[3] * halves).sum()  # float32 * float16
            c = (params.ps[4].double() * params.ps[4].double()).sum()  # float64 penalty
            d = (params.ps[0] * x).sum()  # 0-d float32 * float64 (4, 3)
            loss = a + b + c + d + 2 * params.ps[1].sum()
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [params, opt], inputs=lambda i: (normal((4, 3), 10 + i, np.float64),))

    assert_same_as_eager(setup, calls=4)


def test_integer_input_squared_and_summed():
    def setup():
        params = Params(SHAPES)
        opt = optim.SGD(params.parameters(), lr=0.01)

        def step(k):
            opt.zero_grad()
            kk = (k * k).sum()  # integer, no grad
            loss = (params.ps[4] * params.ps[4]).sum() * kk + (k.pow(2) * params.ps[4]).mean()
            loss.backward()
            opt.step()
            return loss, kk

        inputs = lambda i: (chainrule.tensor(np.arange(6).reshape(2, 3) - i),)
        return Case(step, lambda: [params, opt], inputs=inputs)

    assert_same_as_eager(setup, calls=4)


def test_bfloat16_raises_as_eager():
    def step(x):
        return x.to(chainrule.bfloat16) * x

    same_error_every_call(step, (chainrule.ones(3),), TypeError)


# ----------------------------------------------------------------------------- means: empty and size-1 dims, nan, inf
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
def test_mean_over_size_1_dims_of_a_squared_parameter(dim):
    def loss_fn(params, x):
        q = params[5] * params[5]  # (3, 1)
        m = q.mean() if dim is None else q.mean(dim=dim)
        return m.sum() + (params[2] * params[2]).mean(dim=0).sum()

    same_as_eager(loss_fn)


def test_mean_over_an_empty_dim_gives_nan():
    """A mean over 0 elements divides by count 0 (the ``if count`` collapsed as the same either way)."""

    def setup():
        params = Params(SHAPES)
        opt = optim.SGD(params.parameters(), lr=0.05)

        def step(x):
            opt.zero_grad()
            empty = (params.ps[4][:, :0] * params.ps[4][:, :0]).mean()  # nan
            per_row = x[:, :0].mean(dim=1)  # nan for each row
            loss = (params.ps[4] * params.ps[4]).mean() + empty * 0.0 + per_row.sum()
            loss.backward()
            opt.step()
            return loss, empty, per_row

        return Case(step, lambda: [params, opt], inputs=lambda i: (normal((4, 3), 10 + i, np.float32),))

    assert_same_as_eager(setup, calls=4)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_inputs_through_squares_and_means(bad):
    def inputs(i):
        x = np.random.default_rng(10 + i).normal(size=(4, 3)).astype(np.float32)
        if i % 2:
            x[1, 2] = bad
        return (chainrule.tensor(x),)

    def loss_fn(params, x):
        h = x @ params[4].T
        return (h * h).mean() + (params[0] * params[0]).sum() + x.mean(dim=0).sum() * params[1].sum()

    same_as_eager(loss_fn, inputs=inputs)


# ----------------------------------------------------------------------------- cross_entropy
def classifier_setup(loss, classes=4, targets=None, dtype=np.float32):
    """A linear classifier trained with ``loss(logits, target)``; ``targets(i)`` gives call i's target."""

    def setup():
        net = nn.Linear(3, classes).to(chainrule.float32 if dtype == np.float32 else chainrule.float64)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, target):
            opt.zero_grad()
            out = loss(net(x), target)
            out.sum().backward() if out.ndim else out.backward()
            opt.step()
            return out

        def inputs(i):
            return normal((5, 3), 10 + i, dtype), targets(i)

        return Case(step, lambda: [net, opt], inputs=inputs)

    return setup


def class_indices(i, classes=4, n=5):
    return chainrule.tensor(np.random.default_rng(30 + i).integers(0, classes, n))


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_with_indices(reduction, smoothing, weighted):
    weight = chainrule.tensor(np.float32([0.5, 2.0, 1.0, 0.25])) if weighted else None

    def loss(logits, target):
        return F.cross_entropy(logits, target, weight=weight, reduction=reduction, label_smoothing=smoothing)

    assert_same_as_eager(classifier_setup(loss, targets=class_indices), calls=3)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_with_class_probabilities(reduction, smoothing):
    def probabilities(i):
        p = np.random.default_rng(40 + i).random((5, 4)).astype(np.float32)
        return chainrule.tensor(p / p.sum(axis=1, keepdims=True))

    weight = chainrule.tensor(np.float32([0.5, 2.0, 1.0, 0.25]))

    def loss(logits, target):
        return F.cross_entropy(logits, target, weight=weight, reduction=reduction, label_smoothing=smoothing)

    assert_same_as_eager(classifier_setup(loss, targets=probabilities), calls=3)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_ignore_index_some_then_all_ignored(reduction, weighted):
    """Call 1 ignores every target: the mean divides 0 by a total weight of 0 (nan)."""
    weight = chainrule.tensor(np.float32([0.5, 2.0, 1.0, 0.25])) if weighted else None

    def targets(i):
        t = class_indices(i).numpy().copy()
        t[::2] = -100
        if i == 1:
            t[:] = -100
        return chainrule.tensor(t)

    def loss(logits, target):
        return F.cross_entropy(logits, target, weight=weight, reduction=reduction, label_smoothing=0.1)

    assert_same_as_eager(classifier_setup(loss, targets=targets), calls=4)


def test_cross_entropy_custom_ignore_index_inside_the_class_range():
    def loss(logits, target):
        return F.cross_entropy(logits, target, ignore_index=2)

    assert_same_as_eager(classifier_setup(loss, targets=class_indices), calls=4)


def test_cross_entropy_all_ignored_on_every_call():
    def loss(logits, target):
        return F.cross_entropy(logits, target, ignore_index=1) + 0.0 * logits.sum()

    assert_same_as_eager(classifier_setup(loss, targets=lambda i: chainrule.tensor(np.ones(5, np.int64))), calls=3)


def test_cross_entropy_with_an_l2_penalty_float64():
    def loss(logits, target):
        return F.cross_entropy(logits, target, label_smoothing=0.1) + 1e-3 * (logits * logits).mean()

    assert_same_as_eager(classifier_setup(loss, targets=class_indices, dtype=np.float64), calls=4)


@pytest.mark.parametrize("bad", [4, -1, 7, -100 + 1])
def test_cross_entropy_target_outside_the_classes_raises_every_call(bad):
    logits = normal((5, 4), 1, np.float32, requires_grad=True)

    def step(x, target):
        loss = F.cross_entropy(x, target)
        loss.backward()
        return loss

    target = class_indices(0).numpy().copy()
    target[2] = bad
    same_error_every_call(step, (logits, chainrule.tensor(target)), IndexError)


def test_cross_entropy_target_goes_out_of_range_after_recording():
    """Recorded with good targets; a later call's target is out of range: it raises IndexError
    as eager does (not a stale or wrapped result), and later good calls match eager again."""
    net_eager, net_compiled = nn.Linear(3, 4), nn.Linear(3, 4)
    net_compiled.load_state_dict(net_eager.state_dict())

    def make_step(net):
        def step(x, target):
            net.zero_grad()
            loss = F.cross_entropy(net(x), target, reduction="sum")
            loss.backward()
            return loss.detach()

        return step

    eager, compiled = make_step(net_eager), chainrule.compile(make_step(net_compiled))
    x = normal((5, 3), 3, np.float32)
    good, bad = class_indices(0), chainrule.tensor(np.int64([0, 1, 4, 2, 3]))
    for target in (good, good, bad, good, bad):
        if target is bad:
            with pytest.raises(IndexError):
                eager(x, target)
            with pytest.raises(IndexError):
                compiled(x, target)
        else:
            assert compiled(x, target).numpy().tobytes() == eager(x, target).numpy().tobytes()
            for p, q in zip(net_compiled.parameters(), net_eager.parameters()):
                assert p.grad.numpy().tobytes() == q.grad.numpy().tobytes()


# ----------------------------------------------------------------------------- layouts and dtypes beside a dropped broadcast
def test_penalty_over_transposed_views_then_reduced_again():
    """The 0-d gradient times an F-ordered view: the layout of the product decides the order of a
    later sum (pairwise summation), so it must match eager's."""

    def loss_fn(params, x):
        w = params[4].T  # (3, 2), not C-contiguous
        pen = (w * w).sum()
        h = (x @ w) * (x @ w)
        return pen + h.sum() + (h.T * h.T).mean()

    same_as_eager(loss_fn)


def test_penalty_on_float16_parameters_with_a_float32_loss():
    """The sum's 0-d gradient is float32 (the loss was promoted), the parameters float16: the
    product promotes to float32 with or without the broadcast."""

    def loss_fn(params, x):
        return x.float().mean() * params[0].float() + sum((p * p).sum().float() for p in params)

    same_as_eager(loss_fn, dtype=chainrule.float16)


def test_products_in_both_orders_and_a_square_of_a_sum():
    def loss_fn(params, x):
        p, q = params[4], params[5]
        a = (p * q.T).sum() + (q.T * p).sum()  # a * b then b * a: not the same expression
        s = p.sum()
        return a + s * s + (s * s) * (s * s)

    same_as_eager(loss_fn)
