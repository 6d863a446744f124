"""Activations: the table runs gradcheck and the PyTorch comparison; then erf, stability at +/-1000,
second derivatives and errors."""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule
from tests.ops.oracle import OpCase, library_case, one_shape, table_test


def away_from_kinks(array):
    """Values at least 0.1 away from the kinks at 0, +/-1 and 6 (finite differences must not straddle one)."""
    array = array * 2.5
    for kink in (0.0, 1.0, -1.0, 6.0):
        array = np.where(np.abs(array - kink) < 0.1, array + 0.25, array)
    return array


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


test_op = table_test(CASES)


# ----------------------------------------------------------------------------- erf
def test_erf_matches_math_erf_to_1e_15_in_float64():
    points = np.concatenate([np.linspace(-7, 7, 20001), [0.0, 1e-300, -1e-10, 0.46875, 4.0, 26.0, -30.0]])
    ours = chainrule.erf(chainrule.tensor(points)).array
    expected = np.array([math.erf(point) for point in points])
    np.testing.assert_allclose(ours, expected, rtol=1e-15, atol=1e-16)


def test_erf_at_infinities_and_nan():
    ours = chainrule.erf(chainrule.tensor([math.inf, -math.inf, math.nan], dtype=chainrule.float64)).array
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
        np.testing.assert_allclose(out.array, expected.detach().numpy(), rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), rtol=1e-6, atol=1e-5, err_msg=name)


def test_relu_gradient_at_zero_is_zero_like_pytorch():
    x = chainrule.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    chainrule.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [0.0, 0.0, 1.0])


def test_hardtanh_and_leaky_relu_at_their_kinks_match_pytorch():
    data = [-1.0, 0.0, 1.0, 6.0]
    for call in (lambda lib, a: lib.hardtanh(a), lambda lib, a: lib.relu6(a), lambda lib, a: lib.leaky_relu(a, 0.1)):
        ours = chainrule.tensor(data, requires_grad=True)
        theirs = torch.tensor(data, requires_grad=True)
        call(chainrule, ours).sum().backward()
        call(F, theirs).sum().backward()
        np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy())


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
    overflowed = np.isinf(expected_values) & (out.array == data)
    expected_values = np.where(overflowed, data, expected_values)
    rtol = 1e-5 if dtype == "float32" else 1e-6
    np.testing.assert_allclose(out.array, expected_values, rtol=rtol, err_msg=name)
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), rtol=rtol, err_msg=name)


# ----------------------------------------------------------------------------- declarations
def test_every_operation_declares_its_formula_and_one_derivative_per_input():
    from chainrule.ops import activation
    from chainrule.ops.op import Op

    operations = [value for value in vars(activation).values() if isinstance(value, type) and issubclass(value, Op) and "forward" in vars(value)]
    assert len(operations) == 21
    for operation in operations:
        assert operation.formula, operation.__name__
        assert len(operation.derivatives) == len(operation.input_names()), operation.__name__


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.sigmoid(x), lambda lib, x: lib.tanh(x), lambda lib, x: lib.relu(x), lambda lib, x: lib.erf(x),
    lambda lib, x: (F if lib is torch else lib).leaky_relu(x), lambda lib, x: (F if lib is torch else lib).hardtanh(x),
    lambda lib, x: (F if lib is torch else lib).relu6(x), lambda lib, x: (F if lib is torch else lib).elu(x),
    lambda lib, x: (F if lib is torch else lib).gelu(x), lambda lib, x: (F if lib is torch else lib).silu(x),
    lambda lib, x: (F if lib is torch else lib).softplus(x), lambda lib, x: lib.softmax(x, 1), lambda lib, x: lib.log_softmax(x, 1),
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
        ours = chainrule.softmax(chainrule.tensor(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = F.softmax(torch.tensor(data))
    np.testing.assert_allclose(ours.array, expected.numpy())


def test_in_place_activations():
    x = chainrule.tensor([-1.0, 0.5])
    x.relu_()
    np.testing.assert_array_equal(x.array, [0.0, 0.5])
    np.testing.assert_allclose(x.sigmoid_().array, [0.5, 1 / (1 + math.exp(-0.5))])


@pytest.mark.parametrize("call, error, words", [
    (lambda x: chainrule.gelu(x, approximate="fast"), RuntimeError, "approximate argument must be either none or tanh"),
    (lambda x: chainrule.softmax(x.long(), 0), RuntimeError, "softmax.*floating point.*int64"),
    (lambda x: chainrule.log_softmax(x, 2), IndexError, r"log_softmax.*\[-2, 1\].*got 2"),
    (lambda x: chainrule.hardtanh(x, 1.0, -1.0), ValueError, "min_val"),
])
def test_errors_name_the_operation_and_the_problem(call, error, words):
    with pytest.raises(error, match=words):
        call(chainrule.ones(2, 3))
