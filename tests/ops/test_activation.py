"""Activations: the table runs gradcheck and the PyTorch comparison; then erf, stability at +/-1000,
second derivatives and errors."""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule
from tests.ops.oracle import OpCase, library_case, one_shape, sizes, table_test
from tests.ops.second_order import second_order_test


def away_from(*kinks):
    """A domain: values spread over about [-7, 7], each at least 0.1 away from ``kinks`` (finite
    differences must not straddle one)."""

    def domain(array):
        array = array * 2.5
        for kink in kinks:
            array = np.where(np.abs(array - kink) < 0.1, array + 0.25, array)
        return array

    return domain


away_from_kinks = away_from(0.0, 1.0, -1.0, 6.0)


def wide(array):
    """Values spread over [-12, 12], to reach the saturated ends and softplus's linear part."""
    return array * 4.0


def functional_case(name, function, shapes, domain=None, **kwargs):
    """chainrule.<function>(a, **kwargs) against torch.nn.functional.<function>(a, **kwargs)."""
    return OpCase(
        name,
        lambda a: getattr(chainrule, function)(a, **kwargs),
        lambda a: getattr(F, function)(a, **kwargs),
        shapes,
        domain,
    )


ANY = one_shape()

CASES = [
    functional_case("sigmoid", "sigmoid", ANY, wide),
    library_case("sigmoid_method", lambda lib, a: a.sigmoid(), ANY),
    functional_case("tanh", "tanh", ANY, wide),
    library_case("tanh_method", lambda lib, a: a.tanh(), ANY),
    functional_case("relu", "relu", ANY, away_from_kinks),
    library_case("relu_method", lambda lib, a: a.relu(), ANY, domain=away_from_kinks),
    functional_case("relu6", "relu6", ANY, away_from_kinks),
    functional_case("hardtanh", "hardtanh", ANY, away_from_kinks),
    functional_case("hardtanh_range", "hardtanh", ANY, away_from_kinks, min_val=-0.5, max_val=2.0),
    functional_case("leaky_relu", "leaky_relu", ANY, away_from_kinks),
    functional_case("leaky_relu_slope", "leaky_relu", ANY, away_from_kinks, negative_slope=0.2),
    functional_case("elu", "elu", ANY, away_from_kinks),
    functional_case("elu_alpha", "elu", ANY, away_from_kinks, alpha=0.5),
    functional_case("gelu", "gelu", ANY, wide),
    functional_case("gelu_tanh", "gelu", ANY, wide, approximate="tanh"),
    functional_case("silu", "silu", ANY, wide),
    functional_case("softplus", "softplus", ANY, wide),
    functional_case("softplus_beta", "softplus", ANY, away_from_kinks, beta=2.0, threshold=5.0),
    library_case("erf", lambda lib, a: lib.erf(a), ANY),
    functional_case("softmax_last", "softmax", ANY, dim=-1),
    library_case("softmax_first", lambda lib, a: lib.softmax(a, dim=0), ANY),
    library_case("softmax_method", lambda lib, a: a.softmax(1), one_shape(min_dims=2)),
    functional_case("softmax_large_logits", "softmax", ANY, lambda a: a * 300, dim=-1),
    functional_case("log_softmax_last", "log_softmax", ANY, dim=-1),
    library_case("log_softmax_first", lambda lib, a: a.log_softmax(0), ANY),
    library_case("log_softmax_middle", lambda lib, a: lib.log_softmax(a, 1), one_shape(min_dims=3)),
]

#: Input (N, C, *) with a weight of one slope per channel, and any input with one shared slope.
PER_CHANNEL = sizes(min_dims=2).map(lambda shape: (shape, (shape[1],)))
SHARED_SLOPE = sizes().map(lambda shape: (shape, (1,)))
#: A last dimension of even size, for glu's two halves.
EVEN_LAST = sizes(min_dims=1).map(lambda shape: (shape[:-1] + (2 * shape[-1],),))
EVEN_FIRST = sizes(min_dims=1).map(lambda shape: ((2 * shape[0],) + shape[1:],))

#: Issue 10's activations; all but hardsigmoid (PyTorch has no second derivative for it) also
#: run the second-order check.
MORE_CASES = [
    functional_case("logsigmoid", "logsigmoid", ANY, wide),
    functional_case("softsign", "softsign", ANY, away_from_kinks),
    functional_case("selu", "selu", ANY, away_from_kinks),
    library_case("selu_top_level", lambda lib, a: lib.selu(a), ANY, domain=away_from_kinks),
    functional_case("celu", "celu", ANY, away_from_kinks),
    library_case("celu_alpha", lambda lib, a: lib.celu(a, 0.4), ANY, domain=away_from_kinks),
    functional_case("mish", "mish", ANY, wide),
    functional_case("hardswish", "hardswish", ANY, away_from(-3.0, 3.0)),
    functional_case("threshold", "threshold", ANY, away_from(0.5), threshold=0.5, value=-2.0),
    library_case("threshold_top_level", lambda lib, a: lib.threshold(a, -1.0, 3.0), ANY, domain=away_from(-1.0)),
    functional_case("hardshrink", "hardshrink", ANY, away_from(-0.5, 0.5)),
    library_case("hardshrink_method", lambda lib, a: a.hardshrink(1.5), ANY, domain=away_from(-1.5, 1.5)),
    functional_case("softshrink", "softshrink", ANY, away_from(-1.0, 1.0), lambd=1.0),
    functional_case("tanhshrink", "tanhshrink", ANY, wide),
    functional_case("rrelu_evaluation", "rrelu", ANY, away_from_kinks),
    library_case("rrelu_bounds", lambda lib, a: lib.rrelu(a, 0.1, 0.6), ANY, domain=away_from_kinks),
    functional_case("glu", "glu", EVEN_LAST, wide),
    library_case("glu_first_dim", lambda lib, a: (F if lib is torch else lib).glu(a, 0), EVEN_FIRST, domain=wide),
    functional_case("softmin", "softmin", ANY, dim=-1),
    library_case("softmin_first_float32", lambda lib, a: (F if lib is torch else lib).softmin(a, 0, dtype=lib.float32), ANY, gradcheck=False),
    library_case("prelu_per_channel", lambda lib, a, w: (F if lib is torch else lib).prelu(a, w), PER_CHANNEL, domain=away_from_kinks),
    library_case("prelu_shared", lambda lib, a, w: lib.prelu(a, w), SHARED_SLOPE, domain=away_from_kinks),
    library_case("prelu_method", lambda lib, a, w: a.prelu(w), PER_CHANNEL, domain=away_from_kinks),
]
NO_SECOND_DERIVATIVE_IN_PYTORCH = [functional_case("hardsigmoid", "hardsigmoid", ANY, away_from(-3.0, 3.0))]

test_op = table_test(CASES + MORE_CASES + NO_SECOND_DERIVATIVE_IN_PYTORCH)
test_second_order = second_order_test(MORE_CASES)


# ----------------------------------------------------------------------------- erf
def test_erf_matches_math_erf_to_1e_15_in_float64():
    points = np.concatenate([np.linspace(-7, 7, 20001), [0.0, 1e-300, -1e-10, 0.46875, 4.0, 26.0, -30.0]])
    ours = chainrule.erf(chainrule.tensor(points))._array
    expected = np.array([math.erf(point) for point in points])
    np.testing.assert_allclose(ours, expected, rtol=1e-15, atol=1e-16)


def test_erf_at_infinities_and_nan():
    ours = chainrule.erf(chainrule.tensor([math.inf, -math.inf, math.nan], dtype=chainrule.float64))._array
    assert ours[0] == 1.0 and ours[1] == -1.0 and math.isnan(ours[2])


# ----------------------------------------------------------------------------- stability
@pytest.mark.parametrize("name, call", [
    ("sigmoid", lambda lib, a: lib.sigmoid(a)),
    ("tanh", lambda lib, a: lib.tanh(a)),
    ("softmax", lambda lib, a: lib.softmax(a, -1)),
    ("log_softmax", lambda lib, a: lib.log_softmax(a, -1)),
    ("softplus", lambda lib, a: torch.nn.functional.softplus(a) if lib is torch else lib.softplus(a)),
    ("silu", lambda lib, a: torch.nn.functional.silu(a) if lib is torch else lib.silu(a)),
    ("elu", lambda lib, a: torch.nn.functional.elu(a) if lib is torch else lib.elu(a)),
    ("gelu", lambda lib, a: torch.nn.functional.gelu(a) if lib is torch else lib.gelu(a)),
])
def test_no_overflow_or_nan_at_plus_and_minus_1000(name, call):
    data = [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]]
    for dtype in ("float32", "float64"):
        ours = chainrule.tensor(np.array(data, dtype=dtype), requires_grad=True)
        theirs = torch.tensor(np.array(data, dtype=dtype), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an overflow warning from NumPy fails the test
            out = call(chainrule, ours)
            weights = np.arange(6.0).reshape(2, 3)
            (out * chainrule.tensor(weights)).sum().backward()
        expected = call(torch, theirs)
        (expected * torch.tensor(weights)).sum().backward()
        assert out.dtype == ours.dtype
        np.testing.assert_allclose(out._array, expected.detach().numpy(), rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(ours.grad._array, theirs.grad.numpy(), rtol=1e-6, atol=1e-5, err_msg=name)


def test_relu_gradient_at_zero_is_zero_like_pytorch():
    x = chainrule.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    chainrule.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad._array, [0.0, 0.0, 1.0])


@pytest.mark.parametrize("shape", [(4096,), (64, 100), (3, 50, 31), (4095,)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_relu_of_large_arrays_gives_pytorchs_bits(shape, dtype):
    """From 4096 elements ReLU compares against a row of zeros (backend.at_least_zero): the same
    bits as PyTorch's, -0.0, nan and inf included, and transposed inputs too."""
    values = np.random.default_rng(1).standard_normal(shape) * 3
    if dtype != "int64":
        values.reshape(-1)[:5] = [-0.0, 0.0, np.nan, np.inf, -np.inf]
    values = values.astype(dtype)
    for array in (values, values.T):
        ours = chainrule.relu(chainrule.tensor(array)).numpy()
        theirs = torch.relu(torch.tensor(array)).numpy()
        assert ours.dtype == theirs.dtype and ours.tobytes() == np.ascontiguousarray(theirs).tobytes()


KINKS = [
    ("hardtanh", lambda lib, a: lib.hardtanh(a)),
    ("relu6", lambda lib, a: lib.relu6(a)),
    ("leaky_relu", lambda lib, a: lib.leaky_relu(a, 0.1)),
    ("hardswish", lambda lib, a: lib.hardswish(a)),
    ("hardsigmoid", lambda lib, a: lib.hardsigmoid(a)),
    ("threshold", lambda lib, a: lib.threshold(a, 1.0, -2.0)),
    ("threshold_at_0", lambda lib, a: lib.threshold(a, 0.0, 0.0)),
    ("hardshrink", lambda lib, a: lib.hardshrink(a, 0.5)),
    ("softshrink", lambda lib, a: lib.softshrink(a, 0.5)),
    ("selu", lambda lib, a: lib.selu(a)),
    ("celu", lambda lib, a: lib.celu(a, 0.5)),
    ("rrelu", lambda lib, a: lib.rrelu(a)),
    ("prelu", lambda lib, a: lib.prelu(a, a.new_full((1,), 0.3))),
    ("softsign", lambda lib, a: lib.softsign(a)),
    ("tanhshrink", lambda lib, a: lib.tanhshrink(a)),
]


@pytest.mark.parametrize("name, call", KINKS, ids=[case[0] for case in KINKS])
def test_gradients_exactly_at_the_kinks_match_pytorch(name, call):
    """At a kink PyTorch picks one side's slope (hardtanh 0 at ±1, hardswish 0 at -3 and 1 at 3,
    threshold 0 at the threshold, rrelu and prelu the negative side's at 0)."""
    data = [-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0]
    ours = chainrule.tensor(data, requires_grad=True)
    theirs = torch.tensor(data, requires_grad=True)
    call(chainrule, ours).sum().backward()
    call(F, theirs).sum().backward()
    np.testing.assert_allclose(ours.grad._array, theirs.grad.numpy(), rtol=1e-6, err_msg=name)


SECOND_ORDER_KINKS = [case for case in KINKS if case[0] != "hardsigmoid"] + [("elu", lambda lib, a: lib.elu(a, 0.7))]


@pytest.mark.parametrize("name, call", SECOND_ORDER_KINKS, ids=[case[0] for case in SECOND_ORDER_KINKS])
def test_second_derivatives_exactly_at_the_kinks_match_pytorch(name, call):
    """d/dx Σ x (d Σ w·f / dx)² at the kinks: the slope's own slope there is PyTorch's (0 for elu at 0)."""
    data = [-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0]
    results = []
    for lib, functions in ((chainrule, chainrule), (torch, F)):
        x = lib.tensor(data, dtype=lib.float64, requires_grad=True)
        (first,) = lib.autograd.grad((call(functions, x) * lib.arange(9.0, dtype=lib.float64)).sum(), x, create_graph=True)
        (second,) = lib.autograd.grad((first * first * x).sum(), x)
        results.append(second.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-12, err_msg=name)


# ----------------------------------------------------------------------------- second derivatives
@pytest.mark.parametrize("name, call", [
    ("tanh", lambda lib, a: lib.tanh(a)),
    ("sigmoid", lambda lib, a: lib.sigmoid(a)),
    ("gelu", lambda lib, a: (F if lib is torch else lib).gelu(a)),
    ("gelu_tanh", lambda lib, a: (F if lib is torch else lib).gelu(a, approximate="tanh")),
    ("silu", lambda lib, a: (F if lib is torch else lib).silu(a)),
    ("softplus", lambda lib, a: (F if lib is torch else lib).softplus(a, beta=1.5)),
    ("elu", lambda lib, a: (F if lib is torch else lib).elu(a, 0.7)),
    ("erf", lambda lib, a: lib.erf(a)),
    ("softmax", lambda lib, a: lib.softmax(a, 1) * lib.arange(4.0, dtype=a.dtype)),
    ("log_softmax", lambda lib, a: lib.log_softmax(a, 0) * lib.arange(4.0, dtype=a.dtype)),
])
def test_second_derivatives_match_pytorch(name, call):
    data = np.random.default_rng(5).standard_normal((3, 4)) * 2
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(data.copy(), requires_grad=True)
        (first,) = lib.autograd.grad(call(lib, x).sum(), x, create_graph=True)
        (second,) = lib.autograd.grad((first * first).sum(), x)
        results.append(second.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-10, err_msg=name)


SECOND_ORDER = [
    ("relu", lambda lib, a: lib.relu(a)),
    ("relu6", lambda lib, a: (F if lib is torch else lib).relu6(a * 4)),
    ("leaky_relu", lambda lib, a: (F if lib is torch else lib).leaky_relu(a, 0.2)),
    ("hardtanh", lambda lib, a: (F if lib is torch else lib).hardtanh(a, -0.5, 2.0)),
    ("elu", lambda lib, a: (F if lib is torch else lib).elu(a, 0.7)),
    ("gelu", lambda lib, a: (F if lib is torch else lib).gelu(a)),
    ("gelu_tanh", lambda lib, a: (F if lib is torch else lib).gelu(a, approximate="tanh")),
    ("silu", lambda lib, a: (F if lib is torch else lib).silu(a)),
    ("softplus_linear_part", lambda lib, a: (F if lib is torch else lib).softplus(a, beta=1.5, threshold=2.0)),
    ("sigmoid", lambda lib, a: lib.sigmoid(a)),
    ("tanh", lambda lib, a: lib.tanh(a)),
    ("erf", lambda lib, a: lib.erf(a)),
    ("softmax", lambda lib, a: lib.softmax(a, 0)),
    ("log_softmax", lambda lib, a: lib.log_softmax(a, 1)),
]


@pytest.mark.parametrize("name, call", SECOND_ORDER, ids=[case[0] for case in SECOND_ORDER])
def test_every_activation_differentiates_twice_like_pytorch(name, call):
    """d/dx of Σ x · (d Σ w·f / dx)²: the recorded backward of every activation, kinks included
    (where PyTorch's second derivative is 0, and a first gradient that is constant in x has no graph)."""
    data = np.random.default_rng(7).standard_normal((3, 4)) * 2
    weights = np.random.default_rng(8).standard_normal((3, 4))
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(data.copy(), requires_grad=True)
        (first,) = lib.autograd.grad((call(lib, x) * lib.tensor(weights)).sum(), x, create_graph=True)
        (second,) = lib.autograd.grad((first * first * x).sum(), x)
        results.append(second.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-10, err_msg=name)


# ----------------------------------------------------------------------------- extreme inputs
EXTREMES = [
    ("sigmoid", lambda lib, a: lib.sigmoid(a)),
    ("tanh", lambda lib, a: lib.tanh(a)),
    ("softplus", lambda lib, a: (F if lib is torch else lib).softplus(a)),
    ("softplus_beta", lambda lib, a: (F if lib is torch else lib).softplus(a, beta=0.5, threshold=30.0)),
    ("silu", lambda lib, a: (F if lib is torch else lib).silu(a)),
    ("elu", lambda lib, a: (F if lib is torch else lib).elu(a)),
    ("gelu", lambda lib, a: (F if lib is torch else lib).gelu(a)),
    ("gelu_tanh", lambda lib, a: (F if lib is torch else lib).gelu(a, approximate="tanh")),
    ("erf", lambda lib, a: lib.erf(a)),
    ("relu", lambda lib, a: lib.relu(a)),
    ("leaky_relu", lambda lib, a: (F if lib is torch else lib).leaky_relu(a)),
    ("softmax", lambda lib, a: lib.softmax(a, -1)),
    ("log_softmax", lambda lib, a: lib.log_softmax(a, -1)),
    ("softmax_columns", lambda lib, a: lib.softmax(a, 0)),
    ("log_softmax_columns", lambda lib, a: lib.log_softmax(a, 0)),
    ("logsigmoid", lambda lib, a: (F if lib is torch else lib).logsigmoid(a)),
    ("selu", lambda lib, a: lib.selu(a)),
    ("celu", lambda lib, a: lib.celu(a, 0.5)),
    ("mish", lambda lib, a: (F if lib is torch else lib).mish(a)),
    ("hardswish", lambda lib, a: (F if lib is torch else lib).hardswish(a)),
    ("hardsigmoid", lambda lib, a: (F if lib is torch else lib).hardsigmoid(a)),
    ("threshold", lambda lib, a: lib.threshold(a, 0.5, -1.0)),
    ("hardshrink", lambda lib, a: lib.hardshrink(a)),
    ("softshrink", lambda lib, a: (F if lib is torch else lib).softshrink(a)),
    ("tanhshrink", lambda lib, a: (F if lib is torch else lib).tanhshrink(a)),
    ("softsign", lambda lib, a: (F if lib is torch else lib).softsign(a)),
    ("rrelu", lambda lib, a: lib.rrelu(a)),
    ("prelu", lambda lib, a: lib.prelu(a, lib.tensor([0.25], dtype=a.dtype))),
    ("glu", lambda lib, a: (F if lib is torch else lib).glu(lib.cat([a, a]), 0)),
    ("softmin", lambda lib, a: (F if lib is torch else lib).softmin(a, -1)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, call", EXTREMES, ids=[case[0] for case in EXTREMES])
def test_the_largest_floats_compute_silently_like_pytorch(name, call, dtype):
    """±3e38 (float32's largest) and ±1.7e308 (float64's): PyTorch computes these without a word,
    so NumPy's overflow and invalid-value warnings must not leak (they fail the test here); values
    and gradients, nan included, are PyTorch's."""
    big = np.finfo(dtype).max
    data = np.array([[big, -big, 0.0], [-big, -big, 1.0], [big, big, -2.0]], dtype=dtype)
    weights = np.arange(9.0).reshape(3, 3).astype(dtype)
    ours = chainrule.tensor(data, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = call(chainrule, ours)
        out.backward(chainrule.tensor(weights))  # not (out * weights).sum(): that sum may overflow itself
    theirs = torch.tensor(data, requires_grad=True)
    expected = call(torch, theirs)
    expected.backward(torch.tensor(weights))
    expected_values = expected.detach().numpy()
    # PyTorch's float32 gelu computes x · (1 + erf) before halving, which overflows at x = 3.4e38
    # to inf; the true value there is x itself, which chainrule gives.
    overflowed = np.isinf(expected_values) & (out._array == data)
    expected_values = np.where(overflowed, data, expected_values)
    rtol = 1e-5 if dtype == "float32" else 1e-6
    np.testing.assert_allclose(out._array, expected_values, rtol=rtol, err_msg=name)
    np.testing.assert_allclose(ours.grad._array, theirs.grad.numpy(), rtol=rtol, err_msg=name)


# ----------------------------------------------------------------------------- declarations
def test_every_operation_declares_its_formula_and_one_derivative_per_input():
    from chainrule.ops import activation
    from chainrule.ops.op import Op

    operations = [value for value in vars(activation).values() if isinstance(value, type) and issubclass(value, Op) and "forward" in vars(value)]
    assert len(operations) == 23
    for operation in operations:
        assert operation.formula, operation.__name__
        assert len(operation.derivatives) == len(operation.input_names()), operation.__name__


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.sigmoid(x), lambda lib, x: lib.tanh(x), lambda lib, x: lib.relu(x), lambda lib, x: lib.erf(x),
    lambda lib, x: (F if lib is torch else lib).leaky_relu(x), lambda lib, x: (F if lib is torch else lib).hardtanh(x),
    lambda lib, x: (F if lib is torch else lib).relu6(x), lambda lib, x: (F if lib is torch else lib).elu(x),
    lambda lib, x: (F if lib is torch else lib).gelu(x), lambda lib, x: (F if lib is torch else lib).silu(x),
    lambda lib, x: (F if lib is torch else lib).softplus(x), lambda lib, x: lib.softmax(x, 1), lambda lib, x: lib.log_softmax(x, 1),
    *(lambda lib, x, name=name: getattr(F if lib is torch else lib, name)(x) for name in (
        "logsigmoid", "softsign", "selu", "celu", "mish", "hardswish", "hardsigmoid", "hardshrink", "softshrink",
        "tanhshrink", "rrelu",
    )),
    lambda lib, x: lib.threshold(x, 0.5, 2.0), lambda lib, x: lib.rrelu(x, training=True), lambda lib, x: lib.prelu(x, lib.ones(3)),
    lambda lib, x: (F if lib is torch else lib).glu(x, 0), lambda lib, x: (F if lib is torch else lib).softmin(x, 1),
])
def test_nodes_are_named_as_pytorch_names_them(call):
    ours, theirs = call(chainrule, chainrule.ones(2, 3, requires_grad=True)), call(torch, torch.ones(2, 3, requires_grad=True))
    assert ours.grad_fn.name() == theirs.grad_fn.name()


# ----------------------------------------------------------------------------- arguments and errors
def test_float32_stays_float32_and_integers_become_float():
    x = chainrule.randn(2, 3)
    for function in (chainrule.sigmoid, chainrule.tanh, chainrule.relu, chainrule.gelu, chainrule.silu,
                     chainrule.softplus, chainrule.elu, chainrule.leaky_relu, chainrule.hardtanh, chainrule.erf):
        assert function(x).dtype == chainrule.float32, function.__name__
    assert chainrule.softmax(x, 1).dtype == chainrule.float32
    assert chainrule.sigmoid(chainrule.tensor([0, 1])).dtype == chainrule.float32
    assert chainrule.softmax(chainrule.tensor([0, 1]), 0, dtype=chainrule.float64).dtype == chainrule.float64


def test_softmax_without_dim_warns_and_picks_pytorchs_dim():
    data = np.random.default_rng(0).standard_normal((2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        ours = chainrule.nn.functional.softmax(chainrule.tensor(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = F.softmax(torch.tensor(data))
    np.testing.assert_allclose(ours._array, expected.numpy())


def test_in_place_activations():
    x = chainrule.tensor([-1.0, 0.5])
    x.relu_()
    np.testing.assert_array_equal(x._array, [0.0, 0.5])
    np.testing.assert_allclose(x.sigmoid_()._array, [0.5, 1 / (1 + math.exp(-0.5))])


@pytest.mark.parametrize("name, call", [
    ("hardtanh", lambda lib, x: lib.hardtanh(x, 1.0, -1.0)),
    ("softshrink", lambda lib, x: lib.softshrink(x, -0.5)),
    ("rrelu", lambda lib, x: lib.rrelu(x, 0.5, 0.1)),
    ("rrelu", lambda lib, x: lib.rrelu(x, 0.5, 0.1, training=True)),
    ("celu", lambda lib, x: lib.celu(x, 0.0)),
    ("glu", lambda lib, x: lib.glu(x[0, 0])),
    ("glu", lambda lib, x: lib.glu(x)),
    ("glu", lambda lib, x: lib.glu(x, 2)),
    ("prelu", lambda lib, x: lib.prelu(x, x[:, :1])),
    ("prelu", lambda lib, x: lib.prelu(x, x[0, :2])),
    ("prelu", lambda lib, x: lib.prelu(x.double(), x[0])),
    ("mish", lambda lib, x: lib.mish(x.long())),
    ("selu", lambda lib, x: lib.selu(x.bool())),
    ("logsigmoid", lambda lib, x: lib.logsigmoid(x.int())),
    ("hardshrink", lambda lib, x: lib.hardshrink(x.long())),
    ("rrelu", lambda lib, x: lib.rrelu(x.long())),
])
def test_errors_are_pytorchs_and_name_the_operation(name, call):
    with pytest.raises(Exception) as expected:
        call(F, torch.ones(2, 3))
    with pytest.raises(expected.type, match=name):
        call(chainrule, chainrule.ones(2, 3))


def test_integer_inputs_keep_or_change_their_dtype_as_in_pytorch():
    for call in (lambda lib, x: lib.hardtanh(x), lambda lib, x: lib.relu6(x), lambda lib, x: lib.threshold(x, 1.5, 0.5),
                 lambda lib, x: lib.softsign(x), lambda lib, x: lib.tanhshrink(x)):
        ours, theirs = call(chainrule, chainrule.tensor([-3, 0, 2, 7])), call(F, torch.tensor([-3, 0, 2, 7]))
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_allclose(ours._array, theirs.numpy(), rtol=1e-6)


IN_PLACE = [
    ("relu_", lambda lib, x: lib.relu_(x)),
    ("F.relu_", lambda lib, x: (F if lib is torch else lib.nn.functional).relu_(x)),
    ("elu_", lambda lib, x: (F if lib is torch else lib.nn.functional).elu_(x, 0.5)),
    ("leaky_relu_", lambda lib, x: (F if lib is torch else lib.nn.functional).leaky_relu_(x, 0.2)),
    ("hardtanh_", lambda lib, x: (F if lib is torch else lib.nn.functional).hardtanh_(x, -0.5, 0.5)),
    ("threshold_", lambda lib, x: lib.threshold_(x, 0.1, 9.0)),
    ("selu_", lambda lib, x: lib.selu_(x)),
    ("celu_", lambda lib, x: lib.celu_(x, 0.5)),
    ("rrelu_", lambda lib, x: lib.rrelu_(x)),
    *(
        (f"{name}(inplace=True)", lambda lib, x, name=name: getattr(F if lib is torch else lib.nn.functional, name)(x, inplace=True))
        for name in ("hardtanh", "relu6", "selu", "celu", "mish", "hardswish", "hardsigmoid", "rrelu")
    ),
    ("threshold(inplace=True)", lambda lib, x: (F if lib is torch else lib.nn.functional).threshold(x, 0.1, 9.0, True)),
]


@pytest.mark.parametrize("name, call", IN_PLACE, ids=[case[0] for case in IN_PLACE])
def test_in_place_forms_write_into_their_input_and_differentiate_like_pytorch(name, call):
    data = np.array([[-2.0, -0.3, 0.0], [0.4, 1.5, 7.0]])
    results = []
    for lib in (chainrule, torch):
        leaf = lib.tensor(data.copy(), requires_grad=True)
        x = leaf * 1.0
        assert call(lib, x) is x
        (x * lib.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
        results.append((x.detach().numpy(), leaf.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6, err_msg=name)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6, err_msg=name)


def test_rrelu_in_training_draws_one_slope_per_negative_element_from_lower_to_upper():
    chainrule.manual_seed(0)
    x = chainrule.full((200, 100), -2.0, requires_grad=True)
    out = chainrule.rrelu(x, 0.1, 0.3, training=True)
    slopes = out._array / -2.0
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert slopes.mean() == pytest.approx(0.2, abs=0.002)
    assert slopes.std() == pytest.approx(0.2 / math.sqrt(12), rel=0.02)  # U(a, b) has std (b - a) / √12
    out.sum().backward()
    np.testing.assert_allclose(x.grad._array, slopes, rtol=1e-6)
    positive = chainrule.tensor([0.5, 3.0])
    np.testing.assert_array_equal(chainrule.rrelu(positive, training=True)._array, positive._array)
    chainrule.manual_seed(0)
    np.testing.assert_array_equal(chainrule.rrelu(x, 0.1, 0.3, training=True)._array, out._array)


def test_prelu_gradient_of_the_weight_sums_over_all_but_the_channels():
    data = np.random.default_rng(3).standard_normal((4, 3, 5))
    weights = np.random.default_rng(4).standard_normal((4, 3, 5))
    for slope in ([0.1, 0.2, 0.3], [0.25], 0.25):
        grads = []
        for lib in (chainrule, torch):
            x, weight = lib.tensor(data.copy(), requires_grad=True), lib.tensor(slope, dtype=lib.float64, requires_grad=True)
            (lib.prelu(x, weight) * lib.tensor(weights)).sum().backward()
            grads.append((x.grad.numpy(), weight.grad.numpy()))
        np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-10)
        np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-10)
        assert grads[0][1].shape == np.shape(slope)


@pytest.mark.parametrize("call, error, words", [
    (lambda x: chainrule.gelu(x, approximate="fast"), RuntimeError, "approximate argument must be either none or tanh"),
    (lambda x: chainrule.softmax(x.long(), 0), NotImplementedError, r"^\"softmax_kernel_impl\" not implemented for 'Long' \(softmax: the input is .*int64"),
    (lambda x: chainrule.log_softmax(x, 2), IndexError, r"^Dimension out of range.*\[-2, 1\].*got 2\) \(in log_softmax"),
    (lambda x: chainrule.hardtanh(x, 1.0, -1.0), ValueError, "min_val"),
])
def test_errors_name_the_operation_and_the_problem(call, error, words):
    with pytest.raises(error, match=words):
        call(chainrule.ones(2, 3))


EMPTY_AND_SCALAR = KINKS + [
    ("logsigmoid", lambda lib, a: lib.logsigmoid(a)),
    ("mish", lambda lib, a: lib.mish(a)),
    ("rrelu_training", lambda lib, a: lib.rrelu(a, training=True) * 0),
    ("softmin", lambda lib, a: lib.softmin(a, -1)),
]


@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3)])
@pytest.mark.parametrize("name, call", EMPTY_AND_SCALAR, ids=[case[0] for case in EMPTY_AND_SCALAR])
def test_empty_and_0d_inputs_give_pytorchs_shapes_dtypes_and_gradients(name, call, shape):
    data = np.random.default_rng(0).standard_normal(shape)
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(data.copy(), requires_grad=True)
        out = call(lib if lib is chainrule else F, x)
        out.sum().backward()
        results.append((tuple(out.shape), str(out.dtype).split(".")[-1], x.grad.numpy()))
    assert results[0][:2] == results[1][:2], name
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-6, err_msg=name)


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_float32_gradients_round_as_pytorch_s(name):
    """Where the two libraries' forward values agree (their tanh and sigmoid may differ in the last
    bit), the float32 gradients agree bit for bit: PyTorch's tanh backward rounds 1 - y² once (a
    fused multiply-add) and its sigmoid backward multiplies g · (1 - y) · y in that order; a learner
    comparing a hand-written backward with autograd (makemore part 4) sees what PyTorch shows."""
    generator = np.random.default_rng(0)
    x, g = (generator.standard_normal(20_000).astype(np.float32) for _ in range(2))
    ours, theirs = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    our_output, their_output = getattr(chainrule, name)(ours), getattr(torch, name)(theirs)
    our_output.backward(chainrule.tensor(g))
    their_output.backward(torch.tensor(g))
    same_forward = our_output.detach().numpy() == their_output.detach().numpy()
    assert same_forward.mean() > 0.5
    np.testing.assert_array_equal(ours.grad.numpy()[same_forward], theirs.grad.numpy()[same_forward])
