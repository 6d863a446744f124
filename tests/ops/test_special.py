"""Special functions: the op table (gradcheck, values and gradients against PyTorch, second order),
and their accuracy in float64 against PyTorch over wide ranges, tails and special values."""
import math

import numpy as np
import pytest
import torch

import chainrule
from hypothesis import strategies as st
from tests.ops.oracle import library_case, one_shape, table_test
from tests.ops.second_order import second_order_test


def positive(array):
    return np.abs(array) * 2 + 0.1


def between_poles(array):
    """Negative and positive values at least 0.2 from the poles of Γ at 0, -1, -2, ..."""
    return np.floor(array * 2) + 0.2 + 0.6 * (array - np.floor(array))


def inside_unit_interval(array):
    return np.tanh(array) * 0.95


CASES = [
    library_case("erfc", lambda lib, x: lib.erfc(x), one_shape()),
    library_case("erfinv", lambda lib, x: lib.erfinv(x), one_shape(), domain=inside_unit_interval),
    library_case("lgamma", lambda lib, x: lib.lgamma(x), one_shape(), domain=between_poles),
    library_case("digamma", lambda lib, x: lib.digamma(x), one_shape(), domain=between_poles),
    library_case("polygamma_1", lambda lib, x: lib.polygamma(1, x), one_shape(), domain=positive, rtol=1e-4),
    library_case("polygamma_3", lambda lib, x: x.polygamma(3), one_shape(), domain=positive),
    library_case("mvlgamma", lambda lib, x: lib.mvlgamma(x, p=3), one_shape(), domain=lambda a: positive(a) + 1.0),
    library_case("i0", lambda lib, x: lib.i0(x), one_shape()),
]
EMPTY = st.sampled_from([((0,),), ((2, 0),)])
CASES += [
    library_case("lgamma_empty", lambda lib, x: lib.lgamma(x), EMPTY),
    library_case("polygamma_empty", lambda lib, x: lib.polygamma(2, x), EMPTY),
    library_case("erfinv_empty", lambda lib, x: lib.erfinv(x), EMPTY),
    library_case("i0_empty", lambda lib, x: lib.i0(x), EMPTY),
]

test_op = table_test(CASES)
test_second_order = second_order_test(CASES)

WIDE = np.concatenate([
    np.random.default_rng(0).standard_normal(500) * 5,
    np.random.default_rng(1).uniform(-60, 60, 500),
    np.linspace(1e-6, 1e-3, 20),
    [1e-300, 0.5, 1.0, 2.0, 3.0, 170.5, 1e10],
])
SPECIAL_VALUES = [0.0, -1.0, -2.0, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize(
    "name, call, values, rtol",
    [
        ("erfc", lambda lib, x: lib.erfc(x), np.concatenate([WIDE, np.linspace(-30, 30, 301)]), 1e-12),
        ("erfinv", lambda lib, x: lib.erfinv(x), np.concatenate([np.tanh(WIDE), 1 - np.logspace(-16, -1, 60), [-1.0, 1.0, 1.5]]), 1e-12),
        ("lgamma", lambda lib, x: lib.lgamma(x), WIDE, 1e-12),
        ("digamma", lambda lib, x: lib.digamma(x), WIDE, 1e-11),
        ("polygamma_1", lambda lib, x: lib.polygamma(1, x), np.abs(WIDE) + 0.01, 1e-8),  # PyTorch's trigamma is good to about 1e-9
        ("polygamma_2", lambda lib, x: lib.polygamma(2, x), np.abs(WIDE) + 0.01, 1e-12),
        ("polygamma_5", lambda lib, x: lib.polygamma(5, x), np.abs(WIDE) + 0.01, 1e-12),
        ("i0", lambda lib, x: lib.i0(x), np.concatenate([WIDE, [700.0, -700.0]]), 1e-12),
        ("mvlgamma", lambda lib, x: lib.mvlgamma(x, 4), np.abs(WIDE) + 1.6, 1e-12),
    ],
)
def test_float64_values_match_pytorch_over_wide_ranges(name, call, values, rtol):
    ours = call(chainrule, chainrule.tensor(values))._array
    theirs = call(torch, torch.tensor(values)).numpy()
    scale = np.maximum(np.abs(theirs), 1.0)  # near a zero of the function, compare absolutely
    finite = np.isfinite(theirs)
    error = np.abs(ours[finite] - theirs[finite]) / scale[finite]
    np.testing.assert_array_less(error, rtol, err_msg=name)
    np.testing.assert_array_equal(ours[~finite], theirs[~finite], err_msg=name)


@pytest.mark.parametrize("name", ["erfc", "erfinv", "lgamma", "digamma", "i0"])
def test_special_values_and_dtypes_match_pytorch(name):
    for values in (SPECIAL_VALUES, [0, 1, 3]):
        ours = getattr(chainrule, name)(chainrule.tensor(values))
        theirs = getattr(torch, name)(torch.tensor(values))
        assert ours.dtype == chainrule.float32
        np.testing.assert_allclose(ours._array, theirs.numpy(), rtol=1e-6, atol=1e-12, equal_nan=True, err_msg=name)


def test_erfc_keeps_its_digits_in_the_tail():
    x = chainrule.tensor([10.0, 26.0], dtype=chainrule.float64)
    np.testing.assert_allclose(chainrule.erfc(x)._array, [2.088487583762545e-45, 5.663192408856143e-296], rtol=1e-13)


def test_in_place_and_method_forms():
    x = chainrule.tensor([0.5, 1.5, 2.5])
    expected = torch.polygamma(2, torch.tensor([0.5, 1.5, 2.5])).numpy()
    np.testing.assert_allclose(x.polygamma(2)._array, expected, rtol=1e-6)
    x.polygamma_(2)
    np.testing.assert_allclose(x._array, expected, rtol=1e-6)
    y = chainrule.tensor([0.1, -0.3])
    y.erfinv_()
    np.testing.assert_allclose(y._array, torch.erfinv(torch.tensor([0.1, -0.3])).numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["ErfcBackward0", "ErfinvBackward0", "LgammaBackward0", "DigammaBackward0", "PolygammaBackward0", "I0Backward0"])
def test_nodes_are_named_as_in_pytorch(name):
    function = name.removesuffix("Backward0").lower()
    call = (lambda lib, x: lib.polygamma(2, x)) if function == "polygamma" else (lambda lib, x: getattr(lib, function)(x))
    for lib in (chainrule, torch):
        assert call(lib, lib.tensor([0.5], requires_grad=True)).grad_fn.name() == name


def test_polygamma_refuses_a_negative_order():
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match=r"polygamma\(n, x\) does not support negative n"):
            lib.polygamma(-1, lib.tensor([1.0]))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda lib: lib.polygamma(1.5, lib.tensor([1.0])), TypeError, r"polygamma\(\): argument 'n' \(position 1\) must be int, not float"),
        (lambda lib: lib.mvlgamma(lib.tensor([2.5]), 0), RuntimeError, "p has to be greater than or equal to 1"),
        (lambda lib: lib.tensor([1]).erfc_(), RuntimeError, "can't be cast to the desired output type"),
    ],
)
def test_errors_match_pytorch(call, error, message):
    for lib in (chainrule, torch):
        with pytest.raises(error, match=message):
            call(lib)


def test_integer_and_bool_inputs_give_float32_as_in_pytorch():
    for call in (lambda lib: lib.lgamma(lib.tensor([True, False])), lambda lib: lib.erfinv(lib.tensor([1, 0])),
                 lambda lib: lib.mvlgamma(lib.tensor([3]), 2), lambda lib: lib.polygamma(1, lib.tensor([1, 2]))):
        ours, theirs = call(chainrule), call(torch)
        assert ours.dtype == chainrule.float32 and theirs.dtype == torch.float32
        np.testing.assert_allclose(ours._array, theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["erfc", "erfinv", "lgamma", "digamma", "i0"])
def test_out_receives_the_result(name):
    values = [0.25, 0.5]
    results = []
    for lib in (chainrule, torch):
        out = lib.empty(2)
        assert getattr(lib, name)(lib.tensor(values), out=out) is out
        results.append(out.numpy())
    np.testing.assert_allclose(*results, rtol=1e-6)


# ----------------------------------------------------------------------------- igamma, igammac
def gamma_pair(lib, a, x, name):
    """``name``(a, x) with a > 0 and x > 0 spread over small and large values."""
    return getattr(lib, name)(a.abs() * 3 + 0.1, x.abs() * 4 + 0.05)


SHAPE_PAIRS = st.sampled_from([((3,), (3,)), ((2, 3), (3,)), ((), (2, 2)), ((2, 1), (1, 4)), ((0,), (0,))])

GAMMA_CASES = [
    library_case("igamma", lambda lib, a, x: gamma_pair(lib, a, x, "igamma"), SHAPE_PAIRS, differentiable=[False, True]),
    library_case("igammac", lambda lib, a, x: gamma_pair(lib, a, x, "igammac"), SHAPE_PAIRS, differentiable=[False, True]),
    library_case("igamma_method", lambda lib, a, x: (a.abs() + 0.5).igamma(x.abs() + 0.1), SHAPE_PAIRS, differentiable=[False, True]),
    library_case("igammac_in_place", lambda lib, a, x: (a.abs() + 2.0).igammac_(x.abs() * 3 + 0.1), st.just(((3, 2), (2,))), differentiable=[False, True]),
]

test_gamma_op = table_test(GAMMA_CASES)
test_gamma_second_order = second_order_test(GAMMA_CASES)


@pytest.mark.parametrize("a_range, x_spread, rtol", [
    ((-5, 3), None, 1e-11),
    # For a > 200 PyTorch switches to an asymptotic expansion that is good to about 2e-9 (SciPy
    # agrees with chainrule there to 2e-12).
    ((-3, 7), 0.5, 5e-9),
])
def test_igamma_and_igammac_are_accurate_in_float64_over_wide_ranges(a_range, x_spread, rtol):
    rng = np.random.default_rng(3)
    a = np.exp(rng.uniform(*a_range, 4000))
    x = np.exp(rng.uniform(-8, 5, 4000)) if x_spread is None else a * np.exp(rng.normal(0, x_spread, 4000))
    results = {}
    for name in ("igamma", "igammac"):
        results[name] = getattr(chainrule, name)(chainrule.tensor(a), chainrule.tensor(x))._array
        theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(x)).numpy()
        np.testing.assert_allclose(results[name], theirs, rtol=rtol, atol=1e-300, err_msg=name)
    np.testing.assert_allclose(results["igamma"] + results["igammac"], 1.0, rtol=1e-13)


def test_igamma_limits_and_dtypes_are_pytorchs():
    inf, nan = math.inf, math.nan
    a = [0.0, 0.0, -1.0, 1.0, 1.0, 2.0, inf, 1.0, inf, nan, 3.0]
    x = [0.0, 1.0, 1.0, -1.0, 0.0, inf, 1.0, nan, inf, 1.0, 1e-8]
    for name in ("igamma", "igammac"):
        ours = getattr(chainrule, name)(chainrule.tensor(a), chainrule.tensor(x))
        theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(x))
        np.testing.assert_allclose(ours._array, theirs.numpy(), rtol=1e-6, atol=1e-30)
    assert chainrule.igamma(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1, 2])).dtype == chainrule.float32
    assert chainrule.igammac(chainrule.tensor([1.0], dtype=chainrule.float64), chainrule.tensor(1.0)).dtype == chainrule.float64
    out = chainrule.empty(2)
    assert chainrule.igamma(chainrule.tensor([1.0, 2.0]), chainrule.tensor([0.5, 1.0]), out=out) is out
    np.testing.assert_allclose(out._array, torch.igamma(torch.tensor([1.0, 2.0]), torch.tensor([0.5, 1.0])).numpy())


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_igamma_refuses_integers_and_the_gradient_of_a_as_pytorch_does(name):
    for lib in (chainrule, torch):
        with pytest.raises(NotImplementedError, match=f"{name}_cpu"):
            getattr(lib, name)(lib.tensor([1, 2]), lib.tensor([1, 2]))
        with pytest.raises(TypeError, match=f"{name}\\(\\): argument 'other' \\(position 2\\) must be Tensor, not float"):
            getattr(lib, name)(lib.tensor([1.0, 2.0]), 1.0)
        a, x = lib.tensor([0.5, 2.0], requires_grad=True), lib.tensor([1.0, 3.0], requires_grad=True)
        result = getattr(lib, name)(a, x)
        with pytest.raises(NotImplementedError, match=f"the derivative for '{name}: input' is not implemented"):
            result.sum().backward()
    assert getattr(chainrule, name)(chainrule.ones(1), chainrule.ones(1, requires_grad=True)).grad_fn.name() == \
        getattr(torch, name)(torch.ones(1), torch.ones(1, requires_grad=True)).grad_fn.name()
