"""Tensor math against PyTorch where a differential fuzz found them apart: result dtypes of
reductions with ``dtype=``, all/any of uint8, the errors PyTorch raises (bool argmax, empty amax,
mixed-dtype isclose, integer addcdiv, overflowing fill values...), quantile and lerp at infinities,
and a seeded fuzz over a representative set of reductions and elementwise functions.

Each case builds its inputs from explicit NumPy arrays in both libraries and compares exception
types, dtypes, shapes, values and (float64) gradients; changed differentiable operations also pass
a finite-difference check.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule

LIBRARIES = (torch, chainrule)


def _tensor(lib, value, requires_grad=False):
    assert not isinstance(value, np.generic), "pass 0-d inputs as arrays (np.asarray), not NumPy scalars"
    if isinstance(value, np.ndarray):
        made = torch.from_numpy(value.copy()) if lib is torch else chainrule.tensor(value.copy())
        return made.requires_grad_(True) if requires_grad else made
    if isinstance(value, tuple):
        return tuple(_tensor(lib, each, requires_grad) for each in value)
    return value


def _dtype_name(dtype):
    return str(dtype).split(".")[-1]


def _outcome(lib, function, arrays, requires_grad=False):
    """``function(lib, *tensors)``: its result, or the exception it raised, and its leaf tensors."""
    leaves = [_tensor(lib, array, requires_grad and array.dtype == np.float64) for array in arrays]
    try:
        return function(lib, *leaves), leaves
    except Exception as error:  # the exception type is what is compared
        return error, leaves


def _assert_same_value(theirs, ours, where="result"):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), where
        if hasattr(theirs, "_fields") or type(theirs).__module__.startswith("torch"):
            assert [name for name in ("values", "indices", "min", "max", "hist", "bin_edges") if hasattr(theirs, name)] == [
                name for name in ("values", "indices", "min", "max", "hist", "bin_edges") if hasattr(ours, name)
            ], where
        for index, (their, our) in enumerate(zip(theirs, ours)):
            _assert_same_value(their, our, f"{where}[{index}]")
        return
    if not isinstance(theirs, torch.Tensor):
        assert type(ours) is type(theirs) and (ours == theirs or (ours != ours and theirs != theirs)), where
        return
    assert _dtype_name(ours.dtype) == _dtype_name(theirs.dtype), where
    assert tuple(ours.shape) == tuple(theirs.shape), where
    expected, actual = theirs.detach().numpy(), ours.detach().numpy()
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6, equal_nan=True, err_msg=where)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=where)


def assert_like_torch(function, *arrays, gradients=True):
    """``function(lib, *tensors)`` behaves alike for torch and chainrule: the same exception type,
    or the same result, and the same float64 gradients of a random weighting of its outputs."""
    theirs, their_leaves = _outcome(torch, function, arrays, gradients)
    ours, our_leaves = _outcome(chainrule, function, arrays, gradients)
    if isinstance(theirs, Exception) or isinstance(ours, Exception):
        assert type(ours).__name__ == type(theirs).__name__, f"torch: {theirs!r}; chainrule: {ours!r}"
        return ours
    _assert_same_value(theirs, ours)
    their_outputs = [each for each in (theirs if isinstance(theirs, tuple) else (theirs,))
                     if isinstance(each, torch.Tensor) and each.requires_grad]
    their_inputs = [leaf for leaf in their_leaves if leaf.requires_grad]
    if gradients and their_outputs and their_inputs:
        our_outputs = [each for each in (ours if isinstance(ours, tuple) else (ours,)) if getattr(each, "requires_grad", False)]
        weights = [np.random.default_rng(0).standard_normal(tuple(output.shape)) for output in their_outputs]
        their_grads = torch.autograd.grad(sum((output * torch.from_numpy(weight)).sum() for output, weight in zip(their_outputs, weights)), their_inputs)
        our_inputs = [leaf for leaf in our_leaves if leaf.requires_grad]
        our_grads = chainrule.autograd.grad(sum((output * chainrule.tensor(weight)).sum() for output, weight in zip(our_outputs, weights)), our_inputs)
        for index, (their, our) in enumerate(zip(their_grads, our_grads)):
            _assert_same_value(their, our, f"grad[{index}]")
    return ours


def floats(*shape, seed=0, dtype="float64"):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def integers(*shape, seed=0, dtype="int64", low=-5, high=6):
    return np.asarray(np.random.default_rng(seed).integers(low, high, size=shape), dtype=dtype)


# ----------------------------------------------------------------------------- reductions with dtype=
@pytest.mark.parametrize("name", ["sum", "nansum", "prod"])
@pytest.mark.parametrize("dtype", ["int32", "uint8", "bool", "int64", "float64", "float32"])
@pytest.mark.parametrize("input_dtype", ["int64", "uint8", "bool", "float32"])
@pytest.mark.parametrize("dim", [None, 0, (0, -1)])
def test_reduction_dtype_argument_gives_that_dtype(name, dtype, input_dtype, dim):
    array = integers(3, 4, low=0, high=3, dtype=input_dtype)
    keywords = {} if dim is None else {"dim": dim}
    if name == "prod" and isinstance(dim, tuple):
        keywords = {"dim": 0}
    assert_like_torch(lambda lib, x: getattr(lib, name)(x, dtype=getattr(lib, dtype), **keywords), array)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", ["int32", "uint8", "int64", "float64", "bool", None])
@pytest.mark.parametrize("input_dtype", ["int32", "uint8", "bool", "float32"])
def test_scan_dtype_argument_gives_that_dtype(name, dtype, input_dtype):
    array = integers(3, 4, low=0, high=3, dtype=input_dtype)
    assert_like_torch(lambda lib, x: getattr(lib, name)(x, 1, dtype=None if dtype is None else getattr(lib, dtype)), array)


# ----------------------------------------------------------------------------- all, any, argmax, extremes of nothing
@pytest.mark.parametrize("name", ["all", "any"])
@pytest.mark.parametrize("input_dtype", ["uint8", "int64", "bool", "float32"])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 1), ()])
@pytest.mark.parametrize("keepdim", [False, True])
def test_all_any_keep_uint8_and_reduce_nothing_over_empty_dims(name, input_dtype, dim, keepdim):
    array = integers(2, 3, low=0, high=2, dtype=input_dtype)
    if dim is None:
        assert_like_torch(lambda lib, x: getattr(lib, name)(x), array)
    else:
        assert_like_torch(lambda lib, x: getattr(lib, name)(x, dim=dim, keepdim=keepdim), array)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0])
def test_argmax_of_bool_is_refused(name, dim):
    with pytest.raises(RuntimeError, match=f"{name}\\(\\): does not support bool input"):
        getattr(chainrule, name)(chainrule.tensor([True, False]), dim)
    assert_like_torch(lambda lib, x: getattr(lib, name)(x, dim), np.array([True, False]))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.amax(x), lambda lib, x: lib.amin(x, ()), lambda lib, x: lib.amax(x, 0),
        lambda lib, x: lib.amin(x, 1), lambda lib, x: lib.max(x), lambda lib, x: lib.aminmax(x),
        lambda lib, x: lib.aminmax(x, dim=0), lambda lib, x: lib.aminmax(x, dim=1), lambda lib, x: lib.argmax(x),
        lambda lib, x: lib.norm(x, float("inf")), lambda lib, x: lib.norm(x, float("-inf"), dim=0),
        lambda lib, x: lib.norm(x, float("inf"), dim=1), lambda lib, x: lib.norm(x, 2),
    ],
)
def test_extremes_of_empty_tensors_raise_as_in_pytorch(call):
    assert_like_torch(call, np.zeros((0, 2)))


@pytest.mark.parametrize("shape", [(3, 2, 2), (2, 3), (2,), ()])
def test_nuclear_norm_without_dim_needs_a_matrix(shape):
    assert_like_torch(lambda lib, x: lib.norm(x, "nuc"), floats(*shape))


def test_empty_amax_without_dim_says_to_name_one():
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified for input.numel\\(\\) == 0"):
        chainrule.amax(chainrule.zeros(0, 2))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.median(x), lambda lib, x: lib.median(x, 0), lambda lib, x: lib.nanmedian(x, -1),
        lambda lib, x: lib.kthvalue(x, 1, 0), lambda lib, x: lib.topk(x, 1), lambda lib, x: lib.mode(x, 0),
        lambda lib, x: lib.sort(x, 0), lambda lib, x: lib.searchsorted(x[0], x[1]), lambda lib, x: lib.searchsorted(x[0], x[1].long()),
    ],
)
@pytest.mark.parametrize("shape", [(2, 3), (0, 3), (2, 0), (1, 0)])
def test_selections_of_bools_follow_pytorch(call, shape):
    assert_like_torch(call, integers(*shape, low=0, high=2, dtype="bool"))


def test_a_zero_dimensional_bool_is_its_own_kth_value():
    assert_like_torch(lambda lib, x: lib.kthvalue(x, 1), np.array(True))


@pytest.mark.parametrize("value", [2.0, np.inf, -np.inf, 0.0])
def test_product_of_one_0d_element_has_gradient_one(value):
    assert_like_torch(lambda lib, x: lib.prod(x), np.array(value))


# ----------------------------------------------------------------------------- dtype checks of nanmean and norm
@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.nanmean(x, dtype=lib.float32), lambda lib, x: lib.nanmean(x.float(), dtype=lib.int32),
        lambda lib, x: lib.norm(x, dtype=lib.float64), lambda lib, x: lib.norm(x.double(), dtype=lib.float32),
        lambda lib, x: lib.nanmean(x.double(), dtype=lib.float32),
    ],
)
def test_dtype_argument_does_not_make_integers_acceptable(call):
    assert_like_torch(call, integers(3, 2))


# ----------------------------------------------------------------------------- var with a large correction
@pytest.mark.filterwarnings("ignore:invalid value encountered")  # summing the weighted inf and -inf variances
@pytest.mark.parametrize("shape, dim, correction", [((2, 1), -1, 2), ((2, 3), 1, 4), ((3,), 0, 3), ((4, 2), 0, 5)])
def test_variance_gradient_divides_by_n_minus_correction(shape, dim, correction):
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert_like_torch(lambda lib, x: lib.var(x, dim, correction=correction), floats(*shape))


# ----------------------------------------------------------------------------- quantile and lerp at infinities
INFINITE_ROWS = np.array([[-np.inf, -np.inf, 1.0, 2.0], [0.5, np.inf, np.inf, np.inf], [-np.inf, 0.0, 1.0, np.inf]])


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("q", [0.0, 0.25, 0.5, 1.0, "tensor"])
def test_quantile_reads_infinite_values_as_they_are(name, interpolation, q):
    quantiles = np.array([0.0, 0.3, 1 / 3, 0.5, 1.0]) if q == "tensor" else q

    def call(lib, x):
        return getattr(lib, name)(x, _tensor(lib, quantiles) if q == "tensor" else q, dim=1, interpolation=interpolation)

    assert_like_torch(call, INFINITE_ROWS, gradients=False)


@pytest.mark.parametrize("interpolation", ["linear", "midpoint", "lower", "nearest"])
def test_quantile_gradient_matches_finite_differences(interpolation):
    x = chainrule.tensor(floats(3, 5, seed=3), requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda x: chainrule.quantile(x, chainrule.tensor([0.2, 0.5, 0.75], dtype=chainrule.float64), dim=1, interpolation=interpolation), (x,))
    assert_like_torch(lambda lib, x: lib.quantile(x, 0.4, dim=0, interpolation=interpolation), floats(4, 3, seed=4))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda lib: lib.quantile(lib.ones(2, 3), lib.tensor([0.5], dtype=lib.float64)), "q tensor must be same dtype"),
        (lambda lib: lib.quantile(lib.ones(0), 1.5), "q must be in the range"),
        (lambda lib: lib.quantile(lib.ones(0), lib.tensor([1.5])), "input tensor must be non-empty"),
        (lambda lib: lib.quantile(lib.ones(2), lib.tensor([1.5])), "q values must be in the range"),
        (lambda lib: lib.quantile(lib.ones(2, dtype=lib.long), 1.5), "q must be in the range"),
        (lambda lib: lib.quantile(lib.ones(0), lib.ones(2, 2) * 0.5), "input tensor must be non-empty"),
        (lambda lib: lib.quantile(lib.ones(2, dtype=lib.long), 0.5, interpolation="foo"), "interpolation must be one of"),
        (lambda lib: lib.topk(lib.tensor([True]), 2), "selected index k out of range"),
        (lambda lib: lib.kthvalue(lib.tensor([True]), 2), "kthvalue\\(\\): selected number k out of range"),
    ],
)
def test_argument_checks_come_in_pytorch_order(call, message):
    for lib in LIBRARIES:
        with pytest.raises(RuntimeError, match=message):
            call(lib)


@pytest.mark.parametrize("weight", [0.0, 0.25, 0.5, 0.75, 1.0, -0.5, 2.0, "tensor"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lerp_is_computed_from_the_nearer_end(weight, dtype):
    start = np.array([0.0, 1.0, np.inf, -np.inf, 1e30, 3.3], dtype=dtype)
    end = np.array([1.0, np.inf, np.inf, 2.0, -1e30, 7.7], dtype=dtype)
    weights = np.linspace(0, 1, 6).astype(dtype) if weight == "tensor" else weight
    assert_like_torch(lambda lib, a, b: lib.lerp(a, b, _tensor(lib, weights)), start, end)


def test_lerp_gradients_and_finite_differences():
    start, end, weight = floats(3, 4, seed=1), floats(4, seed=2), np.random.default_rng(3).random((3, 1))
    assert_like_torch(lambda lib, a, b, w: lib.lerp(a, b, w), start, end, weight)
    tensors = [chainrule.tensor(array, requires_grad=True) for array in (start, end, weight)]
    assert chainrule.autograd.gradcheck(chainrule.lerp, tuple(tensors))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, a: lib.lerp(a, a.double(), 0.5), lambda lib, a: lib.lerp(a, a.long(), 0.5),
        lambda lib, a: lib.lerp(a, a, a.double()), lambda lib, a: lib.lerp(a, a, lib.tensor(0.5, dtype=lib.float64)),
        lambda lib, a: lib.lerp(a.long(), a.long(), 0.5),
    ],
)
def test_lerp_takes_tensors_of_one_floating_dtype(call):
    assert_like_torch(call, floats(3, dtype="float32"))


# ----------------------------------------------------------------------------- addcmul, addcdiv
DTYPE_TRIPLES = [
    ("float32", "float32", "int64"), ("float32", "int64", "float32"), ("int64", "int64", "int64"),
    ("int64", "float32", "int64"), ("float64", "float32", "int64"), ("bool", "bool", "bool"),
    ("int64", "int64", "float64"), ("uint8", "int32", "int32"),
]


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
@pytest.mark.parametrize("dtypes", DTYPE_TRIPLES)
@pytest.mark.parametrize("value", [1, 0.5, 2, -3])
def test_addcmul_addcdiv_compute_in_the_common_dtype(name, dtypes, value):
    arrays = [integers(2, 3, seed=seed, low=1, high=4, dtype=dtype) for seed, dtype in enumerate(dtypes)]
    assert_like_torch(lambda lib, a, b, c: getattr(lib, name)(a, b, c, value=value), *arrays)


@pytest.mark.parametrize("dtypes", DTYPE_TRIPLES + [("int64", "float64", "float32"), ("float32", "float64", "int64"), ("bool", "int32", "uint8")])
@pytest.mark.parametrize("shapes", [((2,), (), (2,)), ((), (2,), ()), ((), (), ()), ((2,), (), ())])
def test_addcmul_dtype_with_0d_operands(dtypes, shapes):
    arrays = [integers(*shape, seed=seed, low=1, high=4, dtype=dtype) for seed, (shape, dtype) in enumerate(zip(shapes, dtypes))]
    assert_like_torch(lambda lib, a, b, c: lib.addcmul(a, b, c), *arrays)


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_addcmul_addcdiv_gradients(name):
    arrays = floats(2, 3, seed=1), floats(3, seed=2), floats(2, 1, seed=3) + 3
    assert_like_torch(lambda lib, a, b, c: getattr(lib, name)(a, b, c, value=0.5), *arrays)
    tensors = tuple(chainrule.tensor(array, requires_grad=True) for array in arrays)
    assert chainrule.autograd.gradcheck(lambda a, b, c: getattr(chainrule, name)(a, b, c, value=0.5), tensors)


def test_integer_addcdiv_is_refused_with_pytorch_message():
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
        chainrule.addcdiv(chainrule.ones(2), chainrule.ones(2, dtype=chainrule.long), chainrule.ones(2, dtype=chainrule.long))


# ----------------------------------------------------------------------------- isclose, allclose
@pytest.mark.parametrize("name", ["isclose", "allclose"])
@pytest.mark.parametrize("other", [("float32", (3,)), ("int64", (3,)), ("float64", (3,)), ("float32", (2,)), ("float32", (2, 3))])
def test_isclose_needs_one_dtype_and_broadcastable_shapes(name, other):
    dtype, shape = other
    assert_like_torch(lambda lib, a, b: getattr(lib, name)(a, b), floats(3, dtype="float32"), np.ones(shape, dtype=dtype))


# ----------------------------------------------------------------------------- unique, unique_consecutive, searchsorted, diff
@pytest.mark.parametrize("name", ["unique", "unique_consecutive"])
@pytest.mark.parametrize("shape, dim", [((), None), ((0,), None), ((0, 2), 0), ((2, 0), 1), ((2, 0), 0), ((0, 0), 0), ((3, 2), 1)])
@pytest.mark.parametrize("flags", [(False, False), (True, False), (True, True)])
def test_unique_of_0d_and_empty_inputs(name, shape, dim, flags):
    array = integers(*shape, low=0, high=2)
    keywords = {"return_inverse": flags[0], "return_counts": flags[1], "dim": dim}
    assert_like_torch(lambda lib, x: getattr(lib, name)(x, **keywords), array)


@pytest.mark.parametrize("sequence_shape, values_shape", [((2, 0), (2, 3)), ((2, 3, 0), (2, 3, 1)), ((0, 3), (0, 2)), ((2, 4), (2, 3))])
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_with_rows_of_no_boundaries(sequence_shape, values_shape, right):
    sequence = np.sort(floats(*sequence_shape, seed=1), axis=-1)
    assert_like_torch(lambda lib, s, v: lib.searchsorted(s, v, right=right), sequence, floats(*values_shape, seed=2))


@pytest.mark.parametrize("n", [0, 1, 2])
@pytest.mark.parametrize("dtype", ["float64", "int64", "bool"])
def test_diff_of_order_zero_is_the_input_without_prepend_or_append(n, dtype):
    x, before, after = (integers(3, size, seed=size, low=0, high=3, dtype=dtype) for size in (4, 2, 1))
    # n = 0 leaves prepend and append out of the graph: PyTorch's grad refuses such inputs
    assert_like_torch(lambda lib, x, a, b: lib.diff(x, n=n, dim=1, prepend=a, append=b), x, before, after, gradients=n > 0)


# ----------------------------------------------------------------------------- integer division, round, fill_
@pytest.mark.parametrize("name", ["floor_divide", "remainder", "fmod", "div"])
@pytest.mark.parametrize("shapes", [((0,), ()), ((0, 2), (2,)), ((2,), ()), ((1, 0), (3, 1))])
def test_integer_division_by_zero_raises_only_when_something_is_divided(name, shapes):
    keywords = {"rounding_mode": "trunc"} if name == "div" else {}
    assert_like_torch(lambda lib, a, b: getattr(lib, name)(a, b, **keywords), integers(*shapes[0], dtype="int32"), np.zeros(shapes[1], dtype="int32"))


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "float32"])
@pytest.mark.parametrize("decimals", [None, 1, -1])
def test_round_with_decimals_is_for_floating_tensors(dtype, decimals):
    keywords = {} if decimals is None else {"decimals": decimals}
    assert_like_torch(lambda lib, x: lib.round(x, **keywords), integers(2, 3, low=-50, high=50, dtype=dtype) * 1)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "bool"])
@pytest.mark.parametrize("value", [-3, -255, -256, 300, 2**31, 2**63 - 1, -0.5, 3.5, 1e6, 1e39, -1e39, 65504.0, 65519.0, float("nan"), float("inf"), True])
def test_fill_refuses_values_that_overflow_the_dtype(dtype, value):
    assert_like_torch(lambda lib, x: x.fill_(value), np.zeros(2, dtype=dtype))


@pytest.mark.parametrize("shape", [(), (0,), (1,), (2, 3), (2, 0, 3)])
@pytest.mark.parametrize("value", [2.5, -1, "0-d tensor"])
def test_fill_as_a_function_takes_a_number_or_a_0d_tensor(shape, value):
    """torch.fill: a new tensor; a 0-d tensor value gets the sum of the result's gradients."""
    if value == "0-d tensor":
        assert_like_torch(lambda lib, x, v: lib.fill(x, v), floats(*shape), floats(seed=1))
    else:
        assert_like_torch(lambda lib, x: lib.fill(x, value), floats(*shape))


def test_fill_in_place_with_a_0d_tensor_passes_it_the_gradients_summed():
    assert_like_torch(lambda lib, x, v: (x * 1).fill_(v), floats(2, 3), floats(seed=1, dtype="float32"))
    value = chainrule.tensor(0.5, dtype=chainrule.float64, requires_grad=True)
    weights = floats(2, 3, seed=2)
    (chainrule.fill(chainrule.zeros(2, 3), value) * chainrule.tensor(weights)).sum().backward()
    assert value.grad.item() == pytest.approx(weights.sum())  # d/dv Σ w_i v = Σ w_i
    names = [(lib.fill(lib.ones(2), 1.0).grad_fn, lib.fill(lib.ones(2, requires_grad=True), lib.tensor(1.0)).grad_fn.name(),
              (lib.ones(2, requires_grad=True) * 1).fill_(lib.tensor(1.0)).grad_fn.name()) for lib in (torch, chainrule)]
    assert names[0][1:] == names[1][1:] == ("FillBackward1", "FillBackward3") and names[0][0] is names[1][0] is None


@pytest.mark.parametrize("fill", [lambda lib, x, v: lib.fill(x, v), lambda lib, x, v: (x * 1).fill_(v)])
def test_fill_refuses_a_value_tensor_with_dimensions(fill):
    with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension value tensor but got tensor with 1 dimensions"):
        fill(chainrule, chainrule.zeros(3), chainrule.ones(2))
    assert_like_torch(fill, floats(3), floats(2))


# ----------------------------------------------------------------------------- promote_types, can_cast with bfloat16
DTYPE_NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]


@pytest.mark.parametrize("first", DTYPE_NAMES)
@pytest.mark.parametrize("second", DTYPE_NAMES)
def test_promote_types_and_can_cast(first, second):
    expected = torch.promote_types(getattr(torch, first), getattr(torch, second))
    assert _dtype_name(chainrule.promote_types(getattr(chainrule, first), getattr(chainrule, second))) == _dtype_name(expected)
    assert chainrule.can_cast(getattr(chainrule, first), getattr(chainrule, second)) == torch.can_cast(getattr(torch, first), getattr(torch, second))


# ----------------------------------------------------------------------------- a seeded fuzz over a representative subset
DTYPES = ["float32", "float64", "int64", "int32", "uint8", "bool"]


def _random_shape(rng):
    return tuple(int(rng.choice([0, 1, 2, 3, 4], p=[0.1, 0.2, 0.25, 0.25, 0.2])) for _ in range(rng.integers(0, 4)))


def _random_array(rng, shape, dtype):
    if dtype == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if dtype in ("float32", "float64"):
        values = rng.integers(-3, 4, size=shape) if rng.random() < 0.4 else rng.standard_normal(shape)
        values = np.asarray(values, dtype=dtype)
        if values.size and rng.random() < 0.2:
            values.reshape(-1)[rng.integers(values.size)] = rng.choice([np.nan, np.inf, -np.inf])
        return values
    return np.asarray(rng.integers(0 if dtype == "uint8" else -5, 6, size=shape), dtype=dtype)


def _random_dim(rng, ndim, single=False):
    if rng.random() < 0.25 and not single:
        return None
    if ndim and rng.random() < 0.3 and not single:
        return tuple(int(axis) - ndim * int(rng.integers(2)) for axis in rng.choice(ndim, rng.integers(1, ndim + 1), replace=False))
    return int(rng.integers(-max(ndim, 1), max(ndim, 1)))


def _fuzz_case(rng):
    name = rng.choice(["sum", "mean", "nansum", "prod", "amax", "std", "var", "logsumexp", "all", "any", "cumsum",
                       "argmax", "max", "sort", "median", "quantile", "count_nonzero", "lerp", "addcmul", "isclose"])
    dtype = rng.choice(DTYPES)
    x = _random_array(rng, _random_shape(rng), dtype)
    keepdim = bool(rng.random() < 0.5)
    if name in ("cumsum", "argmax", "max", "sort", "median", "prod"):
        dim = _random_dim(rng, x.ndim, single=True)
        if name == "cumsum":
            return name, (lambda lib, x: lib.cumsum(x, dim)), (x,)
        if name == "sort":
            return name, (lambda lib, x: lib.sort(x, dim=dim, descending=keepdim, stable=True)), (x,)
        return name, (lambda lib, x: getattr(lib, name)(x, dim, keepdim)), (x,)
    if name == "quantile":
        x = x.astype("float64")
        return name, (lambda lib, x: lib.quantile(x, 0.3, dim=_random_dim(np.random.default_rng(x.size), x.ndim, True), keepdim=keepdim)), (x,)
    if name in ("lerp", "addcmul", "isclose"):
        other = _random_array(rng, x.shape[int(rng.integers(0, x.ndim + 1)):], dtype)
        if name == "lerp":
            return name, (lambda lib, a, b: lib.lerp(a, b, 0.3)), (x, other)
        if name == "addcmul":
            return name, (lambda lib, a, b: lib.addcmul(a, b, a, value=2)), (x, other)
        return name, (lambda lib, a, b: lib.isclose(a, b)), (x, other)
    dim = _random_dim(rng, x.ndim)
    if name == "count_nonzero":
        return name, (lambda lib, x: lib.count_nonzero(x, dim)), (x,)
    if dim is None:
        return name, (lambda lib, x: getattr(lib, name)(x)), (x,)
    return name, (lambda lib, x: getattr(lib, name)(x, dim, keepdim=keepdim)), (x,)


@pytest.mark.parametrize("seed", range(300))
def test_seeded_fuzz_against_pytorch(seed):
    name, call, arrays = _fuzz_case(np.random.default_rng(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both libraries warn of degrees of freedom <= 0 in var and std
        assert_like_torch(call, *arrays)
