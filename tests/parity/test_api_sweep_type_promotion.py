"""A sweep of dtype promotion and integer / bool semantics against PyTorch (the oracle):
``torch.promote_types`` / ``can_cast`` / ``result_type`` over every pair of dtypes, binary ops that mix
dimensioned tensors, 0-d tensors and Python scalars, the division family (``div`` rounding modes,
``floor_divide``, ``remainder`` and ``fmod`` of negatives, integer division by zero), ``pow`` of
integers, bitwise and shift operators, in-place ops whose result cannot be cast back, the effect of
``set_default_dtype``, reduction dtypes, ``where`` / ``clamp`` / ``lerp`` / ``addcmul`` promotion,
conversions (``to`` / ``type`` / ``float`` / ``long`` / ``bool``), NaN comparisons and the reprs of
tensors of each dtype.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences
found: each turns into an XPASS failure the day it is fixed, and the mark must go.

``bfloat16`` is only a name in chainrule (NumPy holds no bfloat16 arrays), so it is swept through
``promote_types`` / ``can_cast`` / ``finfo`` and left out of the tensor tests.
"""
import operator
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import outcome, raises_as_torch

NAN = float("nan")
INF = float("inf")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
TENSOR_DTYPES = [name for name in DTYPES if name != "bfloat16"]
INTEGERS = ["uint8", "int8", "int16", "int32", "int64"]


def plain(value):
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return str(value.dtype).split(".")[-1], tuple(value.shape), np.asarray(value.detach().numpy(), dtype=np.float64)
    if isinstance(value, (torch.dtype, chainrule.dtype)):
        return "dtype:" + str(value).split(".")[-1]
    if isinstance(value, (tuple, list)):
        return [plain(each) for each in value]
    if isinstance(value, str):
        return value.replace("chainrule.", "torch.")
    return value


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, tuple):
        assert isinstance(actual, tuple) and actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol)
    elif isinstance(expected, float) and np.isnan(expected):
        assert isinstance(actual, float) and np.isnan(actual)
    else:
        assert actual == expected and type(actual) is type(expected), (actual, expected)


def same_in_both(run, rtol=1e-5, atol=1e-6):
    torch.manual_seed(0)
    expected = plain(run(torch))
    chainrule.manual_seed(0)
    actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


def mismatch(run, rtol=1e-5, atol=1e-6):
    """None when ``run(lib)`` agrees (same value, or same exception type), else a description."""
    kind, expected = outcome(lambda: plain(run(torch)))
    our_kind, actual = outcome(lambda: plain(run(chainrule)))
    if kind == "raises":
        if our_kind != "raises":
            return f"PyTorch raises {expected.__name__}; chainrule returns {actual!r}"
        if not issubclass(actual, expected):
            return f"PyTorch raises {expected.__name__}; chainrule raises {actual.__name__}"
        return None
    if our_kind == "raises":
        return f"PyTorch returns {expected!r}; chainrule raises {actual.__name__}"
    try:
        assert_same(actual, expected, rtol, atol)
    except AssertionError as error:
        return f"PyTorch {expected!r}; chainrule {actual!r} ({error})"
    return None


def assert_cases(cases, rtol=1e-5, atol=1e-6):
    """Compare every ``name: run`` of a table; fail listing all that differ."""
    differences = {}
    for name, run in cases.items():
        found = mismatch(run, rtol, atol)
        if found is not None:
            differences[name] = found
    assert differences == {}


# float16 results may differ in the last bit of a half (PyTorch rounds intermediates its own way).
_HALF_TOLERANCE = {"float16": {"rtol": 2e-3, "atol": 1e-5}}


def T(lib, values, dtype):
    return lib.tensor(values, dtype=getattr(lib, dtype))


# --- promote_types / can_cast / result_type over every pair ------------------------------------------


@pytest.mark.parametrize("first", DTYPES)
def test_promote_types_of_every_pair(first):
    assert_cases({second: (lambda lib, second=second: lib.promote_types(getattr(lib, first), getattr(lib, second))) for second in DTYPES})


@pytest.mark.parametrize("first", DTYPES)
def test_can_cast_of_every_pair(first):
    assert_cases({second: (lambda lib, second=second: lib.can_cast(getattr(lib, first), getattr(lib, second))) for second in DTYPES})


def _operand(lib, dtype, dimensioned):
    return (lib.tensor([1, 0, 1]) if dimensioned else lib.tensor(1)).to(getattr(lib, dtype))


@pytest.mark.parametrize("first", TENSOR_DTYPES)
def test_binary_ops_mixing_dimensioned_and_zero_dim_tensors(first):
    """A 0-d tensor of a higher category wins, of the same category it loses to a dimensioned one."""
    cases = {}
    for second in TENSOR_DTYPES:
        for dims in [(1, 1), (1, 0), (0, 1), (0, 0)]:
            def add(lib, second=second, dims=dims):
                return _operand(lib, first, dims[0]) + _operand(lib, second, dims[1])

            def result_type(lib, second=second, dims=dims):
                return lib.result_type(_operand(lib, first, dims[0]), _operand(lib, second, dims[1]))

            cases[f"{second} {dims} add"] = add
            cases[f"{second} {dims} result_type"] = result_type
    assert_cases(cases)


@pytest.mark.parametrize("dtype", TENSOR_DTYPES)
def test_python_scalars_promote_only_across_categories(dtype):
    cases = {}
    for scalar in [True, 2, 2.5, -3, 1000]:
        cases[f"* {scalar!r}"] = lambda lib, scalar=scalar: T(lib, [1, 0, 1], dtype) * scalar
        cases[f"{scalar!r} *"] = lambda lib, scalar=scalar: scalar * T(lib, [1, 0, 1], dtype)
        cases[f"- {scalar!r}"] = lambda lib, scalar=scalar: T(lib, [1, 0, 1], dtype) - scalar
        cases[f"result_type {scalar!r}"] = lambda lib, scalar=scalar: lib.result_type(T(lib, [1, 0, 1], dtype), scalar)
        cases[f"0-d result_type {scalar!r}"] = lambda lib, scalar=scalar: lib.result_type(T(lib, 1, dtype), scalar)
    assert_cases(cases)


def test_result_type_promote_types_and_can_cast_keywords_scalars_and_bad_input():
    assert_cases({
        "result_type int, float": lambda lib: lib.result_type(1, 2.0),
        "result_type int, int": lambda lib: lib.result_type(1, 2),
        "result_type bool, bool": lambda lib: lib.result_type(True, False),
        "result_type bool, int": lambda lib: lib.result_type(True, 2),
        "result_type keywords": lambda lib: lib.result_type(tensor=T(lib, [1], "int8"), other=2.0),
        "promote_types keywords": lambda lib: lib.promote_types(type1=lib.int8, type2=lib.uint8),
        "can_cast keywords": lambda lib: lib.can_cast(from_=lib.int8, to=lib.uint8),
        "promote_types of a string": lambda lib: lib.promote_types(lib.int8, "int16"),
        "result_type with None": lambda lib: lib.result_type(T(lib, [1], "int8"), None),
        "result_type with a string": lambda lib: lib.result_type(T(lib, [1], "int8"), "a"),
    })


def test_promote_types_and_can_cast_take_python_types_as_dtypes():
    same_in_both(lambda lib: [lib.promote_types(lib.int8, int), lib.promote_types(float, lib.int8), lib.promote_types(bool, lib.uint8),
                              lib.can_cast(lib.int8, int), lib.can_cast(lib.float32, int), lib.can_cast(int, lib.float32)])


def test_promote_types_and_can_cast_of_python_types_and_other_values():
    assert_cases({
        **{f"promote_types({first.__name__}, {second.__name__})": (lambda lib, first=first, second=second: lib.promote_types(first, second))
           for first in (bool, int, float) for second in (bool, int, float)},
        "promote_types(str, int8)": lambda lib: lib.promote_types(str, lib.int8),
        "promote_types(object, int8)": lambda lib: lib.promote_types(object, lib.int8),
        "promote_types(int8, numpy.float32)": lambda lib: lib.promote_types(lib.int8, np.float32),
        "can_cast(float, int)": lambda lib: lib.can_cast(float, int),
        "can_cast(bool, float16)": lambda lib: lib.can_cast(bool, lib.float16),
        "result_type of a type": lambda lib: lib.result_type(T(lib, [1], "int8"), int),
    })


# --- the division family ------------------------------------------------------------------------------


def _numerator(lib, dtype):
    return T(lib, [7, 1, 0, 3, 5, 6] if dtype in ("bool", "uint8") else [-7, 7, -7, 7, 5, -5], dtype)


def _denominator(lib, dtype):
    return T(lib, [2, 1, 1, 2, 3, 3] if dtype in ("bool", "uint8") else [2, -2, -2, 2, 3, 3], dtype)


_DIVISIONS = {
    "div": lambda lib, a, b: lib.div(a, b),
    "div trunc": lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
    "div floor": lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
    "div None": lambda lib, a, b: lib.div(a, b, rounding_mode=None),
    "divide trunc": lambda lib, a, b: lib.divide(a, b, rounding_mode="trunc"),
    "div bad rounding_mode": lambda lib, a, b: lib.div(a, b, rounding_mode="round"),
    "true_divide": lambda lib, a, b: lib.true_divide(a, b),
    "floor_divide": lambda lib, a, b: lib.floor_divide(a, b),
    "//": lambda lib, a, b: a // b,
    "/": lambda lib, a, b: a / b,
    "%": lambda lib, a, b: a % b,
    "remainder": lambda lib, a, b: lib.remainder(a, b),
    "fmod": lambda lib, a, b: lib.fmod(a, b),
    "fmod by -3": lambda lib, a, b: lib.fmod(a, -3),
    "remainder by -3": lambda lib, a, b: lib.remainder(a, -3),
    "remainder by 2.5": lambda lib, a, b: lib.remainder(a, 2.5),
    "fmod by 2.5": lambda lib, a, b: lib.fmod(a, 2.5),
    "7 // b": lambda lib, a, b: 7 // b,
    "7 % b": lambda lib, a, b: 7 % b,
    "-7.5 % b": lambda lib, a, b: -7.5 % b,
    "7 / b": lambda lib, a, b: 7 / b,
    "// 2.0": lambda lib, a, b: a // 2.0,
    "% 2.0": lambda lib, a, b: a % 2.0,
    "div floor by 2": lambda lib, a, b: lib.div(a, 2, rounding_mode="floor"),
    "div trunc by 2.5": lambda lib, a, b: lib.div(a, 2.5, rounding_mode="trunc"),
    "remainder(-7, b)": lambda lib, a, b: lib.remainder(-7, b),
    "div by 0-d float64": lambda lib, a, b: a / lib.tensor(2.0, dtype=lib.float64),
    "floor by zeros": lambda lib, a, b: lib.div(a, a * 0, rounding_mode="floor"),
    "trunc by zeros": lambda lib, a, b: lib.div(a, a * 0, rounding_mode="trunc"),
    "remainder by zeros": lambda lib, a, b: lib.remainder(a, a * 0),
    "fmod by zeros": lambda lib, a, b: lib.fmod(a, a * 0),
    "/ by zeros": lambda lib, a, b: a / (a * 0),
    "/ by 0": lambda lib, a, b: a / 0,
}


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"])
def test_division_family_rounding_signs_and_zero_divisors(dtype):
    assert_cases({name: (lambda lib, op=op: op(lib, _numerator(lib, dtype), _denominator(lib, dtype))) for name, op in _DIVISIONS.items()})


def test_division_edge_cases_of_floats_and_integer_limits():
    assert_cases({
        "floor_divide -0.0": lambda lib: lib.floor_divide(T(lib, [-0.0, 1.0], "float32"), -1.0),
        "floor_divide by 0.0": lambda lib: lib.floor_divide(T(lib, [-1.0, 1.0, 0.0], "float32"), 0.0),
        "remainder by 0.0": lambda lib: lib.remainder(T(lib, [-1.0, 1.0], "float32"), 0.0),
        "fmod by 0.0": lambda lib: lib.fmod(T(lib, [-1.0, 1.0], "float32"), 0.0),
        "remainder negative floats": lambda lib: lib.remainder(T(lib, [-3.5, 3.5], "float32"), -2),
        "fmod negative floats": lambda lib: lib.fmod(T(lib, [-3.5, 3.5], "float32"), -2),
        "div floor float by 0": lambda lib: lib.div(T(lib, [7.0, 0.0, -7.0], "float32"), 0, rounding_mode="floor"),
        "div trunc float by 0": lambda lib: lib.div(T(lib, [7.0, 0.0, -7.0], "float32"), 0, rounding_mode="trunc"),
        "uint8 floor by -2": lambda lib: lib.div(T(lib, [7], "uint8"), -2, rounding_mode="floor"),
        "int8 -128 floor by -1": lambda lib: lib.div(T(lib, [-128], "int8"), -1, rounding_mode="floor"),
        "div_ floor int": lambda lib: T(lib, [7, -7], "int64").div_(2, rounding_mode="floor"),
        "div_ trunc int": lambda lib: T(lib, [7, -7], "int64").div_(2, rounding_mode="trunc"),
        "true_divide bool": lambda lib: lib.true_divide(T(lib, [True], "bool"), T(lib, [True], "bool")),
        "int // float16 tensor": lambda lib: T(lib, [7, -7], "int64") // T(lib, [2.0], "float16"),
        "7.5 // int": lambda lib: 7.5 // T(lib, [2, -2], "int64"),
        "fmod int by float64 tensor": lambda lib: lib.fmod(T(lib, [-7, 7], "int64"), T(lib, [2.5], "float64")),
        "0-d int // 2": lambda lib: lib.tensor(7) // 2,
        "div out int64 (true division)": lambda lib: lib.div(T(lib, [1, 0], "int64"), 2, out=lib.empty(2, dtype=lib.int64)),
        "div out int64 floor": lambda lib: lib.div(T(lib, [3, 0], "int64"), 2, rounding_mode="floor", out=lib.empty(2, dtype=lib.int64)),
        "remainder out": lambda lib: lib.remainder(T(lib, [1, 5], "int64"), 3, out=lib.empty(2, dtype=lib.int64)),
    })


# --- pow of integers and bools ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int32", "int64", "float32"])
def test_pow_of_each_dtype_with_int_float_and_negative_exponents(dtype):
    assert_cases({
        "** 2": lambda lib: _numerator(lib, dtype) ** 2,
        "** -1": lambda lib: _numerator(lib, dtype) ** -1,
        "** -1.0": lambda lib: _numerator(lib, dtype) ** -1.0,
        "** 0.5": lambda lib: _numerator(lib, dtype).abs() ** 0.5 if dtype != "bool" else _numerator(lib, dtype) ** 0.5,
        "** int64 tensor of -1": lambda lib: lib.pow(_numerator(lib, dtype), T(lib, [-1] * 6, "int64")),
        "** 0-d -1": lambda lib: _numerator(lib, dtype) ** lib.tensor(-1),
        "** own dtype": lambda lib: lib.pow(_numerator(lib, dtype), _denominator(lib, dtype)),
        "2 **": lambda lib: 2 ** _denominator(lib, dtype),
        "2.0 **": lambda lib: 2.0 ** _denominator(lib, dtype),
        "pow(2, t)": lambda lib: lib.pow(2, _denominator(lib, dtype)),
        "pow_ 0.5": lambda lib: _numerator(lib, dtype).pow_(0.5),
        "__ipow__ 2": lambda lib: _numerator(lib, dtype).__ipow__(2),
        "__ipow__ -1": lambda lib: _numerator(lib, dtype).__ipow__(-1),
        "float_power": lambda lib: lib.float_power(_numerator(lib, dtype), 2),
        "float_power -1": lambda lib: lib.float_power(_numerator(lib, dtype), -1),
        "square": lambda lib: lib.square(_numerator(lib, dtype)),
    })


def test_pow_integer_edge_cases():
    assert_cases({
        "0-d 2 ** 0-d -1": lambda lib: lib.tensor(2) ** lib.tensor(-1),
        "0 ** 0": lambda lib: T(lib, [0], "int64") ** 0,
        "3 ** 40": lambda lib: T(lib, [3], "int64") ** 40,
        "int8 wraps": lambda lib: T(lib, [3], "int8") ** 5,
        "uint8 wraps": lambda lib: T(lib, [3], "uint8") ** 6,
        "negative base": lambda lib: T(lib, [-2], "int64") ** 3,
        "int ** float tensor -1": lambda lib: T(lib, [2], "int64") ** T(lib, [-1], "float32"),
        "+-1 ** -1": lambda lib: T(lib, [1, -1], "int64") ** -1,
        "2 ** negative int tensor": lambda lib: 2 ** T(lib, [-1, 2], "int64"),
        "2.5 ** int tensor": lambda lib: 2.5 ** T(lib, [-1, 2], "int64"),
        "0 ** int tensor": lambda lib: 0 ** T(lib, [0, 1, 2], "int64"),
        "negative float ** (1/3)": lambda lib: T(lib, [-8.0], "float32") ** (1 / 3),
        "pow(2, float16)": lambda lib: lib.pow(2, T(lib, [0.5], "float16")),
        "square int8 wraps": lambda lib: lib.square(T(lib, [100], "int8")),
        "pow out int64": lambda lib: lib.pow(T(lib, [1, 5], "int64"), 2, out=lib.empty(2, dtype=lib.int64)),
    })


def test_bool_tensor_to_a_bool_power_stays_bool():
    same_in_both(lambda lib: [T(lib, [True, False], "bool") ** True, T(lib, [True, False], "bool") ** False])


def test_bool_exponents_keep_the_dtype_and_bool_tensor_exponents_are_refused():
    assert_cases({
        "int8 ** True": lambda lib: T(lib, [2, 3], "int8") ** True,
        "float ** False of nan": lambda lib: T(lib, [NAN, 2], "float32") ** False,
        "pow(bool, True, out=)": lambda lib: lib.pow(T(lib, [True, False], "bool"), True, out=lib.empty(2, dtype=lib.bool)),
        "bool.pow_(False)": lambda lib: T(lib, [True, False], "bool").pow_(False),
        "bool ** bool tensor": lambda lib: T(lib, [True, False], "bool") ** T(lib, [True, True], "bool"),
        "bool ** 0-d True": lambda lib: T(lib, [True, False], "bool") ** lib.tensor(True),
        "True ** bool": lambda lib: True ** T(lib, [True, False], "bool"),
        "grad of x ** True": lambda lib: _grad_of_power(lib, True),
        "grad of x ** False": lambda lib: _grad_of_power(lib, False),
    })


def _grad_of_power(lib, exponent):
    x = T(lib, [2.0, 3.0], "float32").requires_grad_()
    (x ** exponent).sum().backward()
    return x.grad


# --- unary ops, bitwise and shifts --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", TENSOR_DTYPES)
def test_unary_math_of_each_dtype(dtype):
    cases = {}
    for name in ["neg", "abs", "sqrt", "exp", "log", "log2", "sigmoid", "round", "floor", "ceil", "trunc", "frac", "sign",
                 "sgn", "reciprocal", "square", "isnan", "isfinite", "isinf", "nan_to_num", "logical_not", "bitwise_not"]:
        cases[name] = lambda lib, name=name: getattr(lib, name)(_numerator(lib, dtype))
    cases["-x"] = lambda lib: -_numerator(lib, dtype)
    cases["~x"] = lambda lib: ~_numerator(lib, dtype)
    cases["round decimals=1"] = lambda lib: lib.round(_numerator(lib, dtype), decimals=1)
    assert_cases(cases, **_HALF_TOLERANCE.get(dtype, {}))


@pytest.mark.parametrize("dtype", TENSOR_DTYPES)
def test_bitwise_and_shift_operators_of_each_dtype(dtype):
    assert_cases({
        "&": lambda lib: _numerator(lib, dtype) & _denominator(lib, dtype),
        "| 1": lambda lib: _numerator(lib, dtype) | 1,
        "^": lambda lib: _numerator(lib, dtype) ^ _denominator(lib, dtype),
        "& 1.5": lambda lib: _numerator(lib, dtype) & 1.5,
        "& True": lambda lib: _numerator(lib, dtype) & True,
        "3 &": lambda lib: 3 & _numerator(lib, dtype),
        "bitwise_and(3, t)": lambda lib: lib.bitwise_and(3, _numerator(lib, dtype)),
        "<< 1": lambda lib: _numerator(lib, dtype) << 1,
        ">> 1": lambda lib: _numerator(lib, dtype) >> 1,
        "1 <<": lambda lib: 1 << _denominator(lib, dtype),
        "logical_and": lambda lib: lib.logical_and(_numerator(lib, dtype), _denominator(lib, dtype)),
        "logical_xor float": lambda lib: lib.logical_xor(_numerator(lib, dtype), T(lib, [0.0, 2, 0, 1, 0, 3], "float32")),
    })


def test_bitwise_and_shift_edge_cases():
    assert_cases({
        ">> -1": lambda lib: T(lib, [8], "int64") >> -1,
        "int8 << overflows": lambda lib: T(lib, [64], "int8") << 1,
        "int32 << 40": lambda lib: T(lib, [1], "int32") << 40,
        "negative >> 1": lambda lib: T(lib, [-8], "int32") >> 1,
        "uint8 >> 9": lambda lib: T(lib, [255], "uint8") >> 9,
        "bool << 1": lambda lib: T(lib, [True], "bool") << 1,
        "int8 << int64 tensor": lambda lib: T(lib, [1], "int8") << T(lib, [1], "int64"),
        "bool & 3": lambda lib: T(lib, [True, False], "bool") & 3,
        "bool | int8 tensor": lambda lib: T(lib, [True, False], "bool") | T(lib, [2, 4], "int8"),
        "uint8 ^ int8": lambda lib: T(lib, [255], "uint8") ^ T(lib, [-1], "int8"),
        "~uint8": lambda lib: ~T(lib, [0, 1], "uint8"),
        "~bool": lambda lib: ~T(lib, [True, False], "bool"),
        "~int32": lambda lib: ~T(lib, [0, -1], "int32"),
        "logical_not of nan": lambda lib: lib.logical_not(T(lib, [0.0, NAN], "float32")),
        "abs int8 min": lambda lib: lib.abs(T(lib, [-128], "int8")),
        "neg int8 min": lambda lib: -T(lib, [-128], "int8"),
        "neg uint8": lambda lib: -T(lib, [1], "uint8"),
        "round half to even": lambda lib: lib.round(T(lib, [0.5, 1.5, 2.5, -0.5], "float32")),
        "round decimals=-1": lambda lib: lib.round(T(lib, [1.2345, 123.5], "float32"), decimals=-1),
    })


# --- integer overflow and bool arithmetic ---------------------------------------------------------------


def test_integer_wraparound_and_bool_arithmetic():
    assert_cases({
        "uint8 250 + 10": lambda lib: T(lib, [250], "uint8") + 10,
        "uint8 0 - 1": lambda lib: T(lib, [0], "uint8") - 1,
        "int8 100 * 2": lambda lib: T(lib, [100], "int8") * 2,
        "int8 + 1000": lambda lib: T(lib, [1], "int8") + 1000,
        "uint8 + -3": lambda lib: T(lib, [1], "uint8") + (-3),
        "int8 + 0-d 1000": lambda lib: T(lib, [1, 2], "int8") + lib.tensor(1000),
        "0-d 300 * uint8": lambda lib: lib.tensor(300) * T(lib, [1], "uint8"),
        "bool + bool": lambda lib: T(lib, [True, False], "bool") + T(lib, [True, True], "bool"),
        "bool - bool": lambda lib: T(lib, [True, False], "bool") - T(lib, [True, True], "bool"),
        "bool - True": lambda lib: T(lib, [True], "bool") - True,
        "-bool": lambda lib: -T(lib, [True, False], "bool"),
        "1 - bool": lambda lib: 1 - T(lib, [True, False], "bool"),
        "bool * bool": lambda lib: T(lib, [True, False], "bool") * T(lib, [True, True], "bool"),
        "bool + True": lambda lib: T(lib, [True, False], "bool") + True,
        "bool + 1": lambda lib: T(lib, [True, False], "bool") + 1,
        "bool / bool": lambda lib: T(lib, [True, False], "bool") / T(lib, [True, True], "bool"),
        "0-d True * 2.5": lambda lib: lib.tensor(True) * 2.5,
        "add alpha=0.5 on ints": lambda lib: lib.add(T(lib, [1, 5], "int64"), T(lib, [1, 5], "int64"), alpha=0.5),
        "add alpha=2 on bools": lambda lib: lib.add(T(lib, [True], "bool"), T(lib, [True], "bool"), alpha=2),
        "add alpha=0.5 float + int": lambda lib: lib.add(T(lib, [1, 5], "float32"), T(lib, [1, 5], "int64"), alpha=0.5),
        "int64 + float16": lambda lib: T(lib, [1, 2], "float16") + T(lib, [1, 2], "int64"),
        "float16 + 0-d float64": lambda lib: T(lib, [1, 2], "float16") + lib.tensor(1.5, dtype=lib.float64),
        "int8 + 0-d float64": lambda lib: T(lib, [1, 2], "int8") + lib.tensor(1.5, dtype=lib.float64),
        "0-d float16 * int64": lambda lib: lib.tensor(2.0, dtype=lib.float16) * T(lib, [1], "int64"),
        "0-d float64 * 0-d int32": lambda lib: lib.tensor(2.0, dtype=lib.float64) * lib.tensor(1, dtype=lib.int32),
        "numpy float64 scalar * tensor": lambda lib: lib.ones(2) * np.float64(2.0),
        "tensor * numpy float64 scalar (reflected)": lambda lib: np.float64(2.0) * lib.ones(2),
        "int32 * numpy int64 scalar": lambda lib: lib.ones(2, dtype=lib.int32) * np.int64(2),
        "from_numpy float64 + 1.0": lambda lib: lib.from_numpy(np.ones(2)) + 1.0,
        "add out int64 of a float result": lambda lib: lib.add(T(lib, [1, 5], "int64"), 1.5, out=lib.empty(2, dtype=lib.int64)),
        "add out float64": lambda lib: lib.add(T(lib, [1, 5], "int64"), 1.5, out=lib.empty(2, dtype=lib.float64)),
        "add out int32 from int64": lambda lib: lib.add(T(lib, [1, 5], "int64"), 1, out=lib.empty(2, dtype=lib.int32)),
        "mul out float32": lambda lib: lib.mul(T(lib, [1, 0], "int64"), 2, out=lib.empty(2, dtype=lib.float32)),
        "cat int64 + float32": lambda lib: lib.cat([T(lib, [1], "int64"), T(lib, [1.5], "float32")]),
        "cat bool + uint8": lambda lib: lib.cat([T(lib, [True], "bool"), T(lib, [2], "uint8")]),
        "stack int8 + float64": lambda lib: lib.stack([T(lib, [1], "int8"), T(lib, [1.5], "float64")]),
        "cat empty float64 + int32": lambda lib: lib.cat([T(lib, [], "float64"), T(lib, [1], "int32")]),
    })


# --- in-place ops that cannot cast the result ------------------------------------------------------------


_IN_PLACE = {
    "add_(1.5)": lambda lib, t: t.add_(1.5),
    "mul_(float tensor)": lambda lib, t: t.mul_(lib.ones(t.shape) * 1.5),
    "div_(own dtype)": lambda lib, t: t.div_(t + 1),
    "div_(floor)": lambda lib, t: t.div_(t + 1, rounding_mode="floor"),
    "+= True": lambda lib, t: t.__iadd__(True),
    "+= 0-d float": lambda lib, t: t.add_(lib.tensor(1.5)),
    "+= 0-d int64": lambda lib, t: t.__iadd__(lib.tensor(2, dtype=lib.int64)),
    "-= own dtype": lambda lib, t: t.sub_(t),
    "pow_(0.5)": lambda lib, t: t.pow_(0.5),
    "//= 2": lambda lib, t: t.__ifloordiv__(2),
    "//= 2.0": lambda lib, t: t.__ifloordiv__(2.0),
    "%= 2.5": lambda lib, t: t.__imod__(2.5),
    "/= 2": lambda lib, t: t.__itruediv__(2),
    "+= int64 tensor": lambda lib, t: t.add_(lib.ones(t.shape, dtype=lib.int64)),
    "+= float64 tensor": lambda lib, t: t.add_(lib.ones(t.shape, dtype=lib.float64)),
    "*= int tensor": lambda lib, t: t.mul_(lib.full(t.shape, 2)),
    "clamp_(1.5, 3.5)": lambda lib, t: t.clamp_(1.5, 3.5),
    "addcmul_ float32": lambda lib, t: t.addcmul_(lib.ones(t.shape), lib.ones(t.shape)),
    "|= bool": lambda lib, t: t.__ior__(lib.zeros(t.shape, dtype=lib.bool)),
    "&= int64": lambda lib, t: t.__iand__(lib.full(t.shape, 3)),
    "copy_ float": lambda lib, t: t.copy_(lib.full(t.shape, -1.7)),
    "fill_(2.9)": lambda lib, t: t.fill_(2.9),
    "fill_(-1)": lambda lib, t: t.fill_(-1),
    "masked_fill 2.7": lambda lib, t: t.masked_fill(lib.ones(t.shape, dtype=lib.bool), 2.7),
    "masked_fill 0-d 2.7": lambda lib, t: t.masked_fill(lib.ones(t.shape, dtype=lib.bool), lib.tensor(2.7)),
    "setitem 2.9": lambda lib, t: (t.__setitem__(0, 2.9), t)[1],
    "setitem 0-d 2.9": lambda lib, t: (t.__setitem__(0, lib.tensor(2.9)), t)[1],
    "0-d += dimensioned": lambda lib, t: t[0].clone().__iadd__(t),
}


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int32", "int64", "float16", "float32"])
def test_in_place_ops_refuse_results_they_cannot_hold(dtype):
    assert_cases({name: (lambda lib, op=op: op(lib, T(lib, [7, 1], dtype))) for name, op in _IN_PLACE.items()})


def test_in_place_add_of_a_float_into_an_int_tensor_raises_runtime_error():
    raises_as_torch(lambda lib: lib.arange(3).add_(0.5))
    raises_as_torch(lambda lib: lib.zeros(2, dtype=lib.bool).add_(1))


# --- set_default_dtype ----------------------------------------------------------------------------------


def _with_default(dtype, run):
    def wrapped(lib):
        old = lib.get_default_dtype()
        lib.set_default_dtype(getattr(lib, dtype))
        try:
            return run(lib)
        finally:
            lib.set_default_dtype(old)
    return wrapped


_UNDER_DEFAULT = {
    "tensor of floats": lambda lib: lib.tensor([1.5, 2]),
    "tensor of ints": lambda lib: lib.tensor([1, 2]),
    "tensor of bool, int, float": lambda lib: lib.tensor([True, 1, 2.5]),
    "tensor(1.5)": lambda lib: lib.tensor(1.5),
    "int + 1.5": lambda lib: T(lib, [1, 2], "int64") + 1.5,
    "int / 2": lambda lib: T(lib, [1, 2], "int64") / 2,
    "int ** 0.5": lambda lib: T(lib, [1, 2], "int64") ** 0.5,
    "0-d int * 1.5": lambda lib: lib.tensor(2) * 1.5,
    "float32 + 1.5": lambda lib: T(lib, [1, 2], "float32") + 1.5,
    "zeros": lambda lib: lib.zeros(2),
    "ones(dtype=None)": lambda lib: lib.ones(2, dtype=None),
    "ones_like(int)": lambda lib: lib.ones_like(T(lib, [1, 2], "int64")),
    "arange floats": lambda lib: lib.arange(0.0, 2.0),
    "arange ints": lambda lib: lib.arange(2),
    "linspace": lambda lib: lib.linspace(0, 1, 3),
    "full 1.5": lambda lib: lib.full((2,), 1.5),
    "full 3": lambda lib: lib.full((2,), 3),
    "scalar_tensor": lambda lib: lib.scalar_tensor(1),
    "rand dtype": lambda lib: lib.rand(2).dtype,
    "empty dtype": lambda lib: lib.empty(2).dtype,
    "result_type(int tensor, 1.0)": lambda lib: lib.result_type(T(lib, [1], "int64"), 1.0),
    "result_type(1, 1.0)": lambda lib: lib.result_type(1, 1.0),
    "sqrt of ints": lambda lib: lib.sqrt(T(lib, [1, 4], "int64")),
    "from_numpy float64": lambda lib: lib.from_numpy(np.ones(2)).dtype,
    "tensor(numpy float64)": lambda lib: lib.tensor(np.ones(2)).dtype,
    "as_tensor(numpy float32)": lambda lib: lib.as_tensor(np.ones(2, dtype=np.float32)).dtype,
    "Linear weight": lambda lib: lib.nn.Linear(2, 2).weight.dtype,
    "Tensor([1, 2])": lambda lib: lib.Tensor([1, 2]),
    "FloatTensor([1, 2])": lambda lib: lib.FloatTensor([1, 2]),
    "get_default_dtype": lambda lib: lib.get_default_dtype(),
}


@pytest.mark.parametrize("default", ["float64", "float16", "float32"])
def test_set_default_dtype_governs_python_floats_and_factories(default):
    assert_cases({name: _with_default(default, run) for name, run in _UNDER_DEFAULT.items()})


def test_set_default_dtype_refuses_non_floating_dtypes_and_default_tensor_type_round_trips():
    assert_cases({
        **{f"set_default_dtype({bad})": (lambda lib, bad=bad: lib.set_default_dtype(getattr(lib, bad))) for bad in ["int64", "int32", "bool", "uint8"]},
        "set_default_dtype of a string": lambda lib: lib.set_default_dtype("float64"),
        "set_default_tensor_type(DoubleTensor)": lambda lib: (lib.set_default_tensor_type(lib.DoubleTensor), lib.get_default_dtype(),
                                                              lib.tensor(1.5), lib.set_default_tensor_type(lib.FloatTensor))[1:3],
    })
    assert torch.get_default_dtype() is torch.float32 and chainrule.get_default_dtype() is chainrule.float32


# --- tensor(...) of Python values with a dtype ---------------------------------------------------------


def test_tensor_of_python_values_infers_and_converts_dtypes():
    assert_cases({
        "[1, 2.5]": lambda lib: lib.tensor([1, 2.5]),
        "[True, 2]": lambda lib: lib.tensor([True, 2]),
        "[]": lambda lib: lib.tensor([]),
        "[[]]": lambda lib: lib.tensor([[]]),
        "[2**40]": lambda lib: lib.tensor([2**40]),
        "[2**63]": lambda lib: lib.tensor([2**63]),
        "[1.7, -1.7] as int64": lambda lib: lib.tensor([1.7, -1.7], dtype=lib.int64),
        "[70000.0] as float16": lambda lib: lib.tensor([70000.0], dtype=lib.float16),
        "True": lambda lib: lib.tensor(True),
        "3.0": lambda lib: lib.tensor(3.0),
        "numpy float64": lambda lib: lib.tensor(np.array([1.0])),
        "0-d of a numpy scalar + ones": lambda lib: lib.tensor(np.float64(1.0)) + lib.ones(2),
        "as_tensor of ints": lambda lib: lib.as_tensor([1, 2]),
        "object()": lambda lib: lib.tensor(object()),
    })


def test_tensor_of_a_negative_int_as_uint8_wraps():
    same_in_both(lambda lib: [lib.tensor([-1], dtype=lib.uint8), lib.tensor(-1, dtype=lib.uint8)])


@pytest.mark.parametrize("values, dtype", [([300], "uint8"), ([-129], "int8"), ([2**40], "int32"), ([NAN], "int64"), ([INF], "int32"), ([1e10], "int32")])
def test_tensor_of_an_out_of_range_value_raises_runtime_error(values, dtype):
    raises_as_torch(lambda lib: lib.tensor(values, dtype=getattr(lib, dtype)))


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32"])
def test_tensor_of_python_numbers_wraps_or_refuses_each_like_pytorch(dtype):
    values = [-1, 300, -129, 255, -255, -256, 2**31, 2**40, 2**63, NAN, INF, 1e10, -1.5, 255.5, 70000.0, 1e39]
    cases = {f"[{value!r}]": (lambda lib, value=value: lib.tensor([value], dtype=getattr(lib, dtype))) for value in values}
    cases.update({f"{value!r}": (lambda lib, value=value: lib.tensor(value, dtype=getattr(lib, dtype))) for value in values})
    cases["[-1, 2.5]"] = lambda lib: lib.tensor([-1, 2.5], dtype=getattr(lib, dtype))
    cases["[[1, -1], [True, 3]]"] = lambda lib: lib.tensor([[1, -1], [True, 3]], dtype=getattr(lib, dtype))
    cases["numpy array of 300.0 (cast unchecked)"] = lambda lib: lib.tensor(np.array([300.0]), dtype=getattr(lib, dtype))
    assert_cases(cases)


# --- reductions' dtypes ----------------------------------------------------------------------------------


_REDUCTIONS = {
    "sum": lambda lib, t: t.sum(),
    "sum(0)": lambda lib, t: t.sum(0),
    "sum(dtype=int32)": lambda lib, t: t.sum(dtype=lib.int32),
    "sum(dtype=float32)": lambda lib, t: t.sum(dtype=lib.float32),
    "nansum": lambda lib, t: t.nansum(),
    "prod": lambda lib, t: t.prod(),
    "prod(dtype=float32)": lambda lib, t: t.prod(dtype=lib.float32),
    "cumsum": lambda lib, t: t.cumsum(0),
    "cumsum(dtype=float64)": lambda lib, t: t.cumsum(0, dtype=lib.float64),
    "cumprod": lambda lib, t: t.cumprod(0),
    "mean": lambda lib, t: t.mean(),
    "mean(dtype=float64)": lambda lib, t: t.mean(dtype=lib.float64),
    "mean(dtype=int64)": lambda lib, t: t.mean(dtype=lib.int64),
    "std": lambda lib, t: t.std(),
    "var": lambda lib, t: t.var(),
    "std_mean": lambda lib, t: lib.std_mean(t),
    "norm": lambda lib, t: t.norm(),
    "max": lambda lib, t: t.max(),
    "amax": lambda lib, t: t.amax(),
    "argmax": lambda lib, t: t.argmax(),
    "min(dim=0)": lambda lib, t: list(t.view(2, 3).min(dim=0)),
    "median": lambda lib, t: t.median(),
    "any": lambda lib, t: t.any(),
    "all(dim=1)": lambda lib, t: t.view(2, 3).all(dim=1),
    "count_nonzero": lambda lib, t: lib.count_nonzero(t),
    "softmax": lambda lib, t: lib.softmax(t, 0),
    "softmax(dtype=float32)": lambda lib, t: lib.softmax(t, 0, dtype=lib.float32),
    "logsumexp": lambda lib, t: lib.logsumexp(t, 0),
    "quantile": lambda lib, t: lib.quantile(t, 0.5),
    "sort": lambda lib, t: list(t.sort()),
    "topk": lambda lib, t: list(t.topk(2)),
    "unique counts": lambda lib, t: list(lib.unique(t, return_counts=True)),
    "nonzero": lambda lib, t: lib.nonzero(t),
}


@pytest.mark.parametrize("dtype", TENSOR_DTYPES)
def test_reductions_dtypes_of_each_dtype(dtype):
    cases = {name: (lambda lib, op=op: op(lib, _numerator(lib, dtype))) for name, op in _REDUCTIONS.items()}
    if dtype == "float16":
        del cases["quantile"]  # test_quantile_of_float16_raises
    assert_cases(cases, **_HALF_TOLERANCE.get(dtype, {}))


def test_quantile_of_float16_raises():
    raises_as_torch(lambda lib: lib.quantile(T(lib, [1, 2, 3], "float16"), 0.5))


def test_reductions_of_empty_overflowing_and_small_dtypes():
    assert_cases({
        "sum of empty int32": lambda lib: T(lib, [], "int32").sum(),
        "sum of empty bool": lambda lib: T(lib, [], "bool").sum(),
        "mean of empty": lambda lib: T(lib, [], "float32").mean(),
        "max of empty": lambda lib: T(lib, [], "float32").max(),
        "prod of empty int8": lambda lib: T(lib, [], "int8").prod(),
        "int8 sum does not wrap": lambda lib: T(lib, [100, 100], "int8").sum(),
        "uint8 sum": lambda lib: T(lib, [200, 200], "uint8").sum(),
        "uint8 cumsum": lambda lib: T(lib, [200, 200], "uint8").cumsum(0),
        "uint8 cumprod": lambda lib: T(lib, [200, 2], "uint8").cumprod(0),
        "int32 sum of 2**30 twice": lambda lib: T(lib, [2**30, 2**30], "int32").sum(),
        "sum(dtype=bool)": lambda lib: T(lib, [1, 2], "int64").sum(dtype=lib.bool),
        "float16 sum overflows": lambda lib: T(lib, [60000, 60000], "float16").sum(),
        "float16 mean": lambda lib: T(lib, [60000, 60000], "float16").mean(),
        "float16 var": lambda lib: T(lib, [1, 2], "float16").var(),
        "bool sum keepdim": lambda lib: T(lib, [[True, False], [True, True]], "bool").sum(1, keepdim=True),
        "bool prod(dim=0)": lambda lib: T(lib, [True, True], "bool").prod(dim=0),
        "int mean(1, dtype=float64)": lambda lib: T(lib, [[1, 2]], "int32").mean(1, dtype=lib.float64),
        "uint8 sum((0, 1))": lambda lib: T(lib, [[1, 2]], "uint8").sum((0, 1)),
        "histc of ints": lambda lib: lib.histc(T(lib, [3, 1, 2, 4], "int64"), bins=2),
        "bincount of floats": lambda lib: lib.bincount(T(lib, [1.0, 2], "float32")),
        "bincount int weights": lambda lib: lib.bincount(T(lib, [1, 2], "int64"), weights=T(lib, [1, 2], "int32")),
        "bincount uint8": lambda lib: lib.bincount(T(lib, [1, 2], "uint8")),
        "argmax float16": lambda lib: T(lib, [1.0, 2.0], "float16").argmax(),
    })


# --- matrix products ---------------------------------------------------------------------------------------


def test_matrix_products_of_integer_and_mixed_dtypes():
    assert_cases({
        "int64 @ int64": lambda lib: lib.ones(2, 2, dtype=lib.int64) @ lib.ones(2, 2, dtype=lib.int64),
        "uint8 @ uint8": lambda lib: lib.ones(2, 2, dtype=lib.uint8) @ lib.ones(2, 2, dtype=lib.uint8),
        "float16 @ float16": lambda lib: lib.ones(2, 2, dtype=lib.float16) @ lib.ones(2, 2, dtype=lib.float16),
        "bmm int32": lambda lib: lib.bmm(lib.ones(1, 2, 2, dtype=lib.int32), lib.ones(1, 2, 2, dtype=lib.int32)),
        "mm int8 wraps": lambda lib: lib.mm(T(lib, [[100]], "int8"), T(lib, [[3]], "int8")),
        "int32 1-d @ 1-d": lambda lib: T(lib, [1, 2], "int32") @ T(lib, [3, 4], "int32"),
        "int64 @ float32 refuses": lambda lib: T(lib, [[1, 2]], "int64") @ T(lib, [[1.0], [2.0]], "float32"),
        "float64 @ float32 refuses": lambda lib: T(lib, [[1, 2]], "float64") @ T(lib, [[1.0], [2.0]], "float32"),
        "dot int64, float32 refuses": lambda lib: lib.dot(T(lib, [1, 2], "int64"), T(lib, [1.0, 2], "float32")),
        "outer int32, float32": lambda lib: lib.outer(T(lib, [1, 2], "int32"), T(lib, [3, 4], "float32")),
        "einsum int32": lambda lib: lib.einsum("i,i->", T(lib, [1, 2], "int32"), T(lib, [3, 4], "int32")),
        "einsum int32, float32": lambda lib: lib.einsum("i,i->", T(lib, [1, 2], "int32"), T(lib, [3, 4], "float32")),
    })


@pytest.mark.parametrize("op", ["matmul", "mm", "mv", "dot"])
def test_matrix_products_of_bool_tensors_raise(op):
    shapes = {"matmul": ((2, 2), (2, 2)), "mm": ((2, 2), (2, 2)), "mv": ((2, 2), (2,)), "dot": ((2,), (2,))}[op]
    raises_as_torch(lambda lib: getattr(lib, op)(lib.ones(*shapes[0], dtype=lib.bool), lib.ones(*shapes[1], dtype=lib.bool)))


def test_matrix_products_of_bool_and_integer_tensors_like_pytorch():
    ones = lambda lib, *shape, dtype="bool": lib.ones(*shape, dtype=getattr(lib, dtype))  # noqa: E731
    assert_cases({
        "bmm": lambda lib: lib.bmm(ones(lib, 1, 2, 2), ones(lib, 1, 2, 2)),
        "addmm": lambda lib: lib.addmm(ones(lib, 2, 2), ones(lib, 2, 2), ones(lib, 2, 2)),
        "addmv": lambda lib: lib.addmv(ones(lib, 2), ones(lib, 2, 2), ones(lib, 2)),
        "baddbmm": lambda lib: lib.baddbmm(ones(lib, 1, 2, 2), ones(lib, 1, 2, 2), ones(lib, 1, 2, 2)),
        "addbmm": lambda lib: lib.addbmm(ones(lib, 2, 2), ones(lib, 1, 2, 2), ones(lib, 1, 2, 2)),
        "linear": lambda lib: lib.nn.functional.linear(ones(lib, 2, 2), ones(lib, 2, 2)),
        "matmul 3-d @ 2-d": lambda lib: lib.matmul(ones(lib, 2, 2, 2), ones(lib, 2, 2)),
        "mm of empty matrices": lambda lib: lib.mm(ones(lib, 0, 2), ones(lib, 2, 2)),
        "mm with an inner size of 0": lambda lib: lib.mm(ones(lib, 2, 0), ones(lib, 0, 2)),
        "dot of empty vectors": lambda lib: lib.dot(ones(lib, 0), ones(lib, 0)),
        "mm of bool and float": lambda lib: lib.mm(ones(lib, 2, 2), ones(lib, 2, 2, dtype="float32")),
        "addbmm uint8 keeps uint8": lambda lib: lib.addbmm(ones(lib, 2, 2, dtype="uint8"), ones(lib, 1, 2, 2, dtype="uint8"), ones(lib, 1, 2, 2, dtype="uint8")),
        "addbmm int32 keeps int32": lambda lib: lib.addbmm(ones(lib, 2, 2, dtype="int32"), ones(lib, 1, 2, 2, dtype="int32"), ones(lib, 1, 2, 2, dtype="int32")),
    })


# --- where / clamp / lerp / addcmul / maximum -------------------------------------------------------------


def test_where_clamp_lerp_addcmul_and_maximum_promote_like_pytorch():
    cond = lambda lib: T(lib, [True, False], "bool")  # noqa: E731
    assert_cases({
        "where int64, float32": lambda lib: lib.where(cond(lib), T(lib, [1, 2], "int64"), T(lib, [1.5, 2.5], "float32")),
        "where int8, 0-d float64": lambda lib: lib.where(cond(lib), T(lib, [1, 2], "int8"), lib.tensor(2.5, dtype=lib.float64)),
        "where int8, int16": lambda lib: lib.where(cond(lib), T(lib, [1, 2], "int8"), T(lib, [3, 4], "int16")),
        "where float16, 3.5": lambda lib: lib.where(cond(lib), T(lib, [1, 2], "float16"), 3.5),
        "where int, 0.5": lambda lib: lib.where(cond(lib), T(lib, [1, 2], "int64"), 0.5),
        "where int32, 0": lambda lib: lib.where(cond(lib), T(lib, [1, 2], "int32"), 0),
        "where 1, 0": lambda lib: lib.where(cond(lib), 1, 0),
        "where 1.0, 0": lambda lib: lib.where(cond(lib), 1.0, 0),
        "where 1.0, 0.0": lambda lib: lib.where(cond(lib), 1.0, 0.0),
        "where bool, False": lambda lib: lib.where(cond(lib), T(lib, [True, True], "bool"), False),
        "where of an int64 condition": lambda lib: lib.where(T(lib, [1, 0], "int64"), 1.0, 0.0),
        "where of a uint8 condition": lambda lib: lib.where(T(lib, [1, 0], "uint8"), T(lib, [1.0, 2.0], "float32"), T(lib, [3.0, 4.0], "float32")),
        "where(condition) of ints": lambda lib: list(lib.where(T(lib, [1, 0, 3], "int64"))),
        "clamp int by floats": lambda lib: T(lib, [1, 5], "int64").clamp(1.5, 3.5),
        "clamp int by ints": lambda lib: T(lib, [1, 5], "int64").clamp(0, 3),
        "clamp int min=int32 tensor": lambda lib: T(lib, [1, 5], "int64").clamp(min=T(lib, [2, 2], "int32")),
        "clamp int min=float32 tensor": lambda lib: T(lib, [1, 5], "int64").clamp(min=T(lib, [2.5, 2.5], "float32")),
        "clamp float16 max=float32 tensor": lambda lib: T(lib, [1, 5], "float16").clamp(max=T(lib, [2, 2], "float32")),
        "clamp without bounds": lambda lib: T(lib, [1, 5], "float16").clamp(),
        "clamp uint8 min=-1": lambda lib: T(lib, [1, 5], "uint8").clamp(min=-1),
        "clamp bool": lambda lib: T(lib, [True, False], "bool").clamp(0, 1),
        "clamp min > max": lambda lib: T(lib, [1.0, 5.0], "float32").clamp(4, 2),
        "clamp nan": lambda lib: T(lib, [NAN, 1.0], "float32").clamp(0, 0.5),
        "clip int max=2.5": lambda lib: T(lib, [1, 5], "int32").clip(max=2.5),
        "clamp out": lambda lib: lib.clamp(T(lib, [1, 5], "int64"), 2, 3, out=lib.empty(2, dtype=lib.int64)),
        "lerp of ints": lambda lib: lib.lerp(T(lib, [1, 5], "int64"), T(lib, [2, 2], "int64"), 0.5),
        "lerp float16, float32": lambda lib: lib.lerp(T(lib, [1, 5], "float16"), T(lib, [2, 2], "float32"), 0.5),
        "lerp weight float64 tensor": lambda lib: lib.lerp(T(lib, [1, 5], "float32"), T(lib, [2, 2], "float32"), T(lib, [0.5, 0.5], "float64")),
        "lerp weight 0-d float64": lambda lib: lib.lerp(T(lib, [1, 5], "float32"), T(lib, [2, 2], "float32"), lib.tensor(0.5, dtype=lib.float64)),
        "lerp weight int": lambda lib: lib.lerp(T(lib, [1, 5], "float32"), T(lib, [2, 2], "float32"), 1),
        "addcmul float32, int64, float64": lambda lib: lib.addcmul(T(lib, [1, 5], "float32"), T(lib, [2, 2], "int64"), T(lib, [2, 2], "float64")),
        "addcmul ints value=0.5": lambda lib: lib.addcmul(T(lib, [1, 5], "int64"), T(lib, [2, 2], "int64"), T(lib, [2, 2], "int64"), value=0.5),
        "addcmul ints value=2": lambda lib: lib.addcmul(T(lib, [1, 5], "int64"), T(lib, [2, 2], "int64"), T(lib, [2, 2], "int64"), value=2),
        "addcdiv of ints": lambda lib: lib.addcdiv(T(lib, [1, 5], "int64"), T(lib, [2, 2], "int64"), T(lib, [2, 2], "int64")),
        "addcdiv float32 by ints": lambda lib: lib.addcdiv(T(lib, [1, 5], "float32"), T(lib, [2, 2], "int64"), T(lib, [3, 3], "int64")),
        "minimum int8, float16": lambda lib: lib.minimum(T(lib, [1, 2], "int8"), T(lib, [1.5, 1.5], "float16")),
        "maximum int8, 0-d float": lambda lib: lib.maximum(T(lib, [1, 2], "int8"), lib.tensor(1.5)),
        "max int64, float32": lambda lib: lib.max(T(lib, [1, 2], "int64"), T(lib, [1.5, 1.5], "float32")),
        "maximum out": lambda lib: lib.maximum(T(lib, [1, 5], "int64"), T(lib, [2, 2], "int64"), out=lib.empty(2, dtype=lib.int64)),
    })


def test_maximum_of_a_python_number_raises_type_error():
    raises_as_torch(lambda lib: lib.maximum(T(lib, [1, 2], "int64"), 1))
    raises_as_torch(lambda lib: lib.minimum(T(lib, [1.0, 2.0], "float32"), 1.5))


# --- comparisons and NaN -------------------------------------------------------------------------------


def test_comparisons_across_dtypes_and_with_nan():
    nan_pair = lambda lib: T(lib, [NAN, 1.0], "float32")  # noqa: E731
    assert_cases({
        "nan < 2": lambda lib: nan_pair(lib) < 2,
        "nan == nan": lambda lib: nan_pair(lib) == nan_pair(lib),
        "nan != nan": lambda lib: nan_pair(lib) != nan_pair(lib),
        ">= nan": lambda lib: nan_pair(lib) >= NAN,
        "max propagates nan": lambda lib: nan_pair(lib).max(),
        "min(dim) propagates nan": lambda lib: T(lib, [[1.0, NAN], [0, 2]], "float32").min(1).values,
        "argmax of nan": lambda lib: T(lib, [1.0, NAN, 2.0], "float32").argmax(),
        "maximum propagates nan": lambda lib: lib.maximum(nan_pair(lib), T(lib, [0, NAN], "float32")),
        "fmax ignores nan": lambda lib: lib.fmax(nan_pair(lib), T(lib, [0, NAN], "float32")),
        "sort puts nan last": lambda lib: T(lib, [NAN, 1.0, -1], "float32").sort().values,
        "equal of nan": lambda lib: lib.equal(T(lib, [NAN], "float32"), T(lib, [NAN], "float32")),
        "isclose equal_nan": lambda lib: lib.isclose(T(lib, [NAN], "float32"), T(lib, [NAN], "float32"), equal_nan=True),
        "allclose of nan": lambda lib: lib.allclose(T(lib, [NAN], "float32"), T(lib, [NAN], "float32")),
        "median with nan": lambda lib: T(lib, [NAN, 1, 2], "float32").median(),
        "nanmedian": lambda lib: T(lib, [NAN, 1, 2], "float32").nanmedian(),
        "topk with nan": lambda lib: T(lib, [NAN, 1, 2], "float32").topk(2).values,
        "bool(nan)": lambda lib: bool(T(lib, [NAN], "float32")),
        "nan as bool": lambda lib: T(lib, [0.0, -0.0, 0.1, NAN], "float32").bool(),
        "int == 1.0": lambda lib: T(lib, [1, 2], "int64") == 1.0,
        "int == 1.5": lambda lib: T(lib, [1, 2], "int64") == 1.5,
        "uint8 < -1": lambda lib: T(lib, [1, 2], "uint8") < -1,
        "int8 == 300": lambda lib: T(lib, [44], "int8") == 300,
        "bool == 1": lambda lib: T(lib, [True, False], "bool") == 1,
        "bool == 2": lambda lib: T(lib, [True, False], "bool") == 2,
        "bool != 0.5": lambda lib: T(lib, [True], "bool") != 0.5,
        "int8 < float64 tensor": lambda lib: T(lib, [1, 2], "int8") < T(lib, [1.5, 1.5], "float64"),
        "eq(t, 2)": lambda lib: lib.eq(T(lib, [1, 2], "int64"), 2),
        "isclose int, float refuses": lambda lib: lib.isclose(T(lib, [1, 5], "int64"), T(lib, [1.0, 5.0], "float32")),
        "allclose int, float refuses": lambda lib: lib.allclose(T(lib, [1, 5], "int64"), T(lib, [1.0, 5.0], "float32")),
        "equal int, float": lambda lib: lib.equal(T(lib, [1, 5], "int64"), T(lib, [1.0, 5.0], "float32")),
        "isclose of ints": lambda lib: lib.isclose(T(lib, [1, 5], "int64"), T(lib, [1, 6], "int64")),
    })


@pytest.mark.parametrize("op", ["gt", "lt", "eq", "logical_and", "logical_or", "logical_not", "bitwise_and"])
def test_comparison_logical_and_bitwise_functions_take_out(op):
    def run(lib):
        a, b = T(lib, [1, 0], "int64"), T(lib, [1, 1], "int64")
        out = lib.empty(2, dtype=lib.float32 if op != "bitwise_and" else lib.int64)
        result = getattr(lib, op)(a, out=out) if op == "logical_not" else getattr(lib, op)(a, b, out=out)
        assert result is out
        return out
    same_in_both(run)


@pytest.mark.parametrize("op", ["eq", "ne", "le", "ge", "greater", "less_equal", "not_equal", "logical_xor", "logical_not",
                                "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "signbit"])
def test_out_of_comparison_logical_and_bitwise_functions_casts_like_pytorch(op):
    def run(lib, dtype, out_dtype, shape):
        a, b = T(lib, [1, 0, 3], dtype), T(lib, [1, 1, 2], dtype)
        out = lib.zeros(shape, dtype=getattr(lib, out_dtype))
        one_input = op in ("logical_not", "bitwise_not", "signbit")
        result = getattr(lib, op)(a, out=out) if one_input else getattr(lib, op)(a, b, out=out)
        assert result is out
        return out
    cases = {}
    for dtype, out_dtype in [("int64", "float32"), ("int64", "int32"), ("int64", "uint8"), ("bool", "bool"), ("int64", "bool"), ("int64", "int64")]:
        for shape in [3, 1]:
            cases[f"{dtype} into {out_dtype} of {shape}"] = lambda lib, dtype=dtype, out_dtype=out_dtype, shape=shape: run(lib, dtype, out_dtype, shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's warning of a resized out
        assert_cases(cases)


# --- conversions -----------------------------------------------------------------------------------------


def test_conversions_to_type_float_long_bool_and_friends():
    assert_cases({
        "float to long truncates": lambda lib: (T(lib, [-7, 7, 5], "float32") * 1.7).long(),
        "int to int8 wraps": lambda lib: (T(lib, [-7, 7, 5], "int64") * 50).to(lib.int8),
        "type()": lambda lib: [T(lib, [1], dtype).type() for dtype in TENSOR_DTYPES],
        "type(float64)": lambda lib: T(lib, [1, 2], "int32").type(lib.float64),
        "type('torch.FloatTensor')": lambda lib: T(lib, [1, 2], "int32").type("torch.FloatTensor"),
        "type('torch.LongTensor')": lambda lib: T(lib, [1.5], "float64").type("torch.LongTensor"),
        "type of an unknown name": lambda lib: T(lib, [1.5], "float64").type("torch.Nope"),
        "type(IntTensor)": lambda lib: T(lib, [1.5], "float64").type(lib.IntTensor),
        "to(float)": lambda lib: T(lib, [1, 2], "int32").to(float),
        "zeros(dtype=float)": lambda lib: lib.zeros(2, dtype=float),
        "tensor(dtype=int)": lambda lib: lib.tensor([1.5], dtype=int),
        "sum(dtype=float)": lambda lib: T(lib, [1, 2], "int32").sum(dtype=float),
        "to('float32')": lambda lib: T(lib, [1.5], "float64").to("float32"),
        "type_as": lambda lib: T(lib, [1.7, 2], "float32").type_as(T(lib, [1, 2], "int8")),
        "to(other tensor)": lambda lib: T(lib, [1.7, 2], "float32").to(T(lib, [1, 2], "int16")),
        "to(dtype=float16)": lambda lib: T(lib, [1.7, 2], "float32").to(dtype=lib.float16),
        "to('cpu', float64)": lambda lib: T(lib, [1.7, 2], "float32").to("cpu", lib.float64),
        "half overflows": lambda lib: T(lib, [1.7, 70000], "float32").half(),
        "double of int8": lambda lib: T(lib, [1, 2], "int8").double(),
        "int of negatives": lambda lib: T(lib, [-1.5, 2.5], "float32").int(),
        "char of 200": lambda lib: T(lib, [200], "int32").char(),
        "byte of -1": lambda lib: T(lib, [-1], "int32").byte(),
        "short of 70000": lambda lib: T(lib, [70000], "int64").short(),
        "copy_ float into int32": lambda lib: lib.empty(2, dtype=lib.int32).copy_(T(lib, [1.7, -1.7], "float32")),
        "zeros_like(dtype=float16)": lambda lib: lib.zeros_like(T(lib, [1, 2], "int64"), dtype=lib.float16),
        "full_like(int, 2.5)": lambda lib: lib.full_like(T(lib, [1, 2], "int64"), 2.5),
        "full True": lambda lib: lib.full((2,), True),
        "arange(0, 3.0)": lambda lib: lib.arange(0, 3.0),
        "arange(0-d tensor)": lambda lib: lib.arange(lib.tensor(3)),
        "linspace int64": lambda lib: lib.linspace(0, 10, 4, dtype=lib.int64),
        "randint dtype": lambda lib: lib.randint(0, 5, (3,)).dtype,
        "randperm dtype": lambda lib: lib.randperm(3).dtype,
        "is_floating_point": lambda lib: [T(lib, [1], dtype).is_floating_point() for dtype in TENSOR_DTYPES],
        "torch.is_floating_point": lambda lib: lib.is_floating_point(T(lib, [1], "int8")),
        "is_nonzero(0.0)": lambda lib: lib.is_nonzero(T(lib, [0.0], "float32")),
    })


def test_python_number_conversions_of_tensors():
    assert_cases({
        "item types": lambda lib: [type(T(lib, [1], dtype).item()).__name__ for dtype in TENSOR_DTYPES],
        "item values": lambda lib: [T(lib, [1.1], dtype).item() for dtype in ["float16", "float32", "float64"]],
        "tolist types": lambda lib: [type(T(lib, [1], dtype).tolist()[0]).__name__ for dtype in TENSOR_DTYPES],
        "int(-2.7)": lambda lib: int(T(lib, [-2.7], "float32")),
        "float(int tensor)": lambda lib: float(T(lib, [3], "int64")),
        "bool of two elements": lambda lib: bool(T(lib, [1, 2], "int64")),
        "bool of empty": lambda lib: bool(T(lib, [], "int64")),
        "list index by int tensor": lambda lib: [10, 20, 30][T(lib, [1], "int64")],
        "list index by float tensor": lambda lib: [10, 20, 30][T(lib, [1], "float32")],
        "list index by bool tensor": lambda lib: [10, 20, 30][lib.tensor(True)],
        "range(0-d)": lambda lib: list(range(lib.tensor(3))),
        "hex(0-d)": lambda lib: hex(lib.tensor(255)),
        "operator.index(int8)": lambda lib: operator.index(T(lib, [5], "int8")),
    })


def test_tensor_type_of_a_python_type_raises_value_error():
    raises_as_torch(lambda lib: lib.ones(1, dtype=lib.int64).type(float))


def test_tensor_type_takes_dtypes_legacy_types_and_their_names_only():
    assert_cases({
        str(argument): (lambda lib, argument=argument: lib.ones(1, dtype=lib.int64).type(argument(lib) if callable(argument) and not isinstance(argument, type) else argument))
        for argument in [int, bool, complex, np.float32, "float", "torch.float32", "FloatTensor", "torch.DoubleTensor", "torch.Tensor", 1,
                         np.dtype("float32"), lambda lib: lib.Tensor, lambda lib: lib.HalfTensor, lambda lib: lib.float16]
    })


# --- dtype objects, finfo and iinfo ---------------------------------------------------------------------


def test_dtype_attributes_finfo_and_iinfo():
    assert_cases({
        "is_floating_point": lambda lib: [getattr(lib, name).is_floating_point for name in DTYPES],
        "is_signed": lambda lib: [getattr(lib, name).is_signed for name in DTYPES],
        "itemsize": lambda lib: [getattr(lib, name).itemsize for name in DTYPES],
        "is_complex": lambda lib: [getattr(lib, name).is_complex for name in DTYPES],
        "reprs of aliases": lambda lib: [repr(getattr(lib, name)) for name in ["bool", "uint8", "half", "float", "double", "long", "int", "short", "bfloat16"]],
        "aliases are the same object": lambda lib: [lib.float is lib.float32, lib.long is lib.int64, lib.half is lib.float16, lib.double is lib.float64],
        "iinfo uint8 / int8": lambda lib: [lib.iinfo(lib.uint8).max, lib.iinfo(lib.uint8).min, lib.iinfo(lib.int8).bits, str(lib.iinfo(lib.int16).dtype)],
        "iinfo of a float": lambda lib: lib.iinfo(lib.float32),
        "finfo of an int": lambda lib: lib.finfo(lib.int32),
        "finfo float16": lambda lib: [lib.finfo(lib.float16).eps, lib.finfo(lib.float16).max, lib.finfo(lib.float16).tiny],
        "finfo bfloat16": lambda lib: [lib.finfo(lib.bfloat16).eps, lib.finfo(lib.bfloat16).max],
        "finfo() default": lambda lib: lib.finfo().eps,
        "finfo dtype": lambda lib: str(lib.finfo(lib.float32).dtype),
    })


# --- reprs tutorials print ---------------------------------------------------------------------------------


def test_reprs_of_tensors_of_each_dtype():
    assert_cases({name: (lambda lib, run=run: repr(run(lib))) for name, run in {
        "int64": lambda lib: T(lib, [1, 2], "int64"),
        "int32": lambda lib: T(lib, [1, 2], "int32"),
        "uint8": lambda lib: T(lib, [1, 2], "uint8"),
        "int16 negatives": lambda lib: T(lib, [-1, 20, 300], "int16"),
        "bool": lambda lib: T(lib, [True, False], "bool"),
        "float16": lambda lib: T(lib, [1.5, 2], "float16"),
        "float64": lambda lib: T(lib, [1.5, 2], "float64"),
        "float32 whole values": lambda lib: T(lib, [1.0, 2], "float32"),
        "nan and inf": lambda lib: T(lib, [NAN, INF, -INF, 1.5], "float32"),
        "0-d int": lambda lib: lib.tensor(3),
        "0-d bool": lambda lib: lib.tensor(True),
        "0-d float64": lambda lib: lib.tensor(3.0, dtype=lib.float64),
        "empty int32": lambda lib: T(lib, [], "int32"),
        "empty float32": lambda lib: T(lib, [], "float32"),
        "empty 0x3 int64": lambda lib: lib.zeros(0, 3, dtype=lib.int64),
        "large float32": lambda lib: T(lib, [1e10, 1.0], "float32"),
        "small float32": lambda lib: T(lib, [1e-5, 1.0], "float32"),
        "int / 3": lambda lib: T(lib, [1, 2, 3], "int64") / 3,
        "int // 2": lambda lib: T(lib, [7, -7], "int64") // 2,
        "float16 sum": lambda lib: T(lib, [1, 2], "float16").sum(),
        "comparison": lambda lib: T(lib, [1, 2], "int64") > 1,
    }.items()})


# --- warnings PyTorch gives ----------------------------------------------------------------------------------
# (where() of a uint8 condition warns once per process in both libraries, so it is not tested here.)


def test_indexing_with_a_uint8_mask_warns_like_pytorch():
    for lib in (torch, chainrule):
        with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
            result = lib.arange(3)[T(lib, [1, 0, 1], "uint8")]
        assert result.tolist() == [0, 2]


def _warnings_and_outcome(lib, run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = run(lib)
            outcome_ = plain(result) if result is not None else None
        except Exception as error:  # noqa: BLE001 - compared with PyTorch's
            outcome_ = type(error).__name__
    return [str(each.message)[:50] for each in caught if "uint8" in str(each.message)], outcome_


@pytest.mark.parametrize("name, run", {
    "getitem of two masks": lambda lib: lib.arange(4).reshape(2, 2)[T(lib, [1, 0], "uint8"), T(lib, [0, 1], "uint8")],
    "getitem of a 0-d uint8": lambda lib: lib.arange(3)[lib.tensor(1, dtype=lib.uint8)],
    "setitem of a tensor": lambda lib: lib.arange(3).__setitem__(T(lib, [1, 0, 1], "uint8"), T(lib, [7, 8], "int64")),
    "setitem of a number (masked_fill_ refuses)": lambda lib: lib.arange(3).__setitem__(T(lib, [1, 0, 1], "uint8"), 5),
    "index_put_ of one value (masked_fill_ refuses)": lambda lib: lib.arange(3).index_put_((T(lib, [1, 0, 1], "uint8"),), lib.tensor(5)),
    "index_put_ accumulate": lambda lib: lib.arange(3).index_put_((T(lib, [1, 0, 1], "uint8"),), lib.tensor(5), accumulate=True),
    "int8 index refused": lambda lib: lib.arange(3)[T(lib, [1], "int8")],
    "0-d int16 index": lambda lib: lib.arange(3)[lib.tensor(1, dtype=lib.int16)],
}.items())
def test_uint8_and_small_integer_indices_like_pytorch(name, run):
    expected = _warnings_and_outcome(torch, run)
    actual = _warnings_and_outcome(chainrule, run)
    assert actual[0] == expected[0]
    if isinstance(expected[1], str):
        assert actual[1] == expected[1]
    else:
        assert_same(actual[1], expected[1])


# --- dtypes through nn, autograd, state_dict and indexing ------------------------------------------------


def _grad(lib, dtype, other):
    x = T(lib, [1, 2], dtype).requires_grad_()
    (x * other).sum().backward()
    return x.grad


def _load_float32_state_into_double(lib):
    model = lib.nn.Linear(2, 2).double()
    model.load_state_dict(lib.nn.Linear(2, 2).state_dict())
    return [model.weight.dtype, model.bias.dtype]


def test_dtypes_through_nn_autograd_state_dict_and_indexing():
    assert_cases({
        "load a float32 state_dict into a double model": _load_float32_state_into_double,
        "BatchNorm num_batches_tracked stays int64 under half()": lambda lib: [lib.nn.BatchNorm1d(2).half().num_batches_tracked.dtype, lib.nn.BatchNorm1d(2).half().running_mean.dtype],
        "Embedding of int32 indices": lambda lib: lib.nn.Embedding(5, 2)(T(lib, [1], "int32")).dtype,
        "Embedding of float indices": lambda lib: lib.nn.Embedding(5, 2)(T(lib, [1.0], "float32")),
        "Linear of an int input": lambda lib: lib.nn.Linear(2, 2)(T(lib, [[1, 2]], "int64")),
        "Linear of a float64 input": lambda lib: lib.nn.Linear(2, 2)(T(lib, [[1, 2]], "float64")),
        "cross_entropy of int32 targets": lambda lib: lib.nn.functional.cross_entropy(lib.zeros(2, 3), T(lib, [1, 2], "int32")),
        "mse_loss float32, float64": lambda lib: lib.nn.functional.mse_loss(T(lib, [1, 2], "float32"), T(lib, [1, 3], "float64")),
        "relu of ints": lambda lib: lib.relu(T(lib, [-1, 2], "int64")),
        "one_hot of int32": lambda lib: lib.nn.functional.one_hot(T(lib, [1, 2], "int32")),
        "accuracy idiom": lambda lib: (T(lib, [[1.0, 2]], "float32").argmax(1) == T(lib, [1], "int64")).float().mean(),
        "sum of matches .item()": lambda lib: (T(lib, [1, 2], "int64") == T(lib, [1, 3], "int64")).sum().item(),
        "requires_grad_ on ints": lambda lib: T(lib, [1, 2], "int64").requires_grad_(),
        "tensor(ints, requires_grad=True)": lambda lib: lib.tensor([1, 2], requires_grad=True),
        "grad of float16": lambda lib: _grad(lib, "float16", 1),
        "grad of float64 times float32": lambda lib: _grad(lib, "float64", T(lib, [1.0, 2], "float32")),
        "grad of float32 times float64": lambda lib: _grad(lib, "float32", T(lib, [1.0, 2], "float64")),
        "grad of float32 times int64": lambda lib: _grad(lib, "float32", T(lib, [1, 2], "int64")),
        "diff of bool": lambda lib: lib.diff(T(lib, [True, False, True], "bool")),
        "diff of uint8": lambda lib: lib.diff(T(lib, [3, 1], "uint8")),
        "searchsorted int64, float32": lambda lib: lib.searchsorted(T(lib, [1, 2], "int64"), T(lib, [1.5], "float32")),
        "searchsorted out_int32": lambda lib: lib.searchsorted(T(lib, [1, 2], "int64"), T(lib, [1], "int64"), out_int32=True),
        "gather int32 index": lambda lib: lib.gather(T(lib, [1, 2], "int64"), 0, T(lib, [0], "int32")),
        "scatter_add float64 into float32": lambda lib: lib.zeros(3).scatter_add(0, T(lib, [0], "int64"), T(lib, [1.0], "float64")),
        "index_add float64 into float32": lambda lib: lib.zeros(3).index_add(0, T(lib, [0], "int64"), T(lib, [1.0], "float64")),
        "scatter 2.5 into int64": lambda lib: lib.zeros(3, dtype=lib.int64).scatter(0, T(lib, [0], "int64"), 2.5),
        "setitem float64 into int32": lambda lib: (lambda t: (t.__setitem__(T(lib, [0], "int64"), T(lib, [3.0], "float64")), t)[1])(lib.zeros(2, dtype=lib.int32)),
    })


def test_cross_entropy_with_float64_probability_target_promotes():
    same_in_both(lambda lib: lib.nn.functional.cross_entropy(lib.zeros(2, 3), T(lib, [[0.0, 1, 0], [1, 0, 0]], "float64")))


def test_cdist_of_mixed_float_dtypes_raises():
    raises_as_torch(lambda lib: lib.cdist(T(lib, [[1.0, 2]], "float32"), T(lib, [[1, 2]], "float64")))


def test_cdist_dtypes_like_pytorch():
    assert_cases({
        f"{first}, {second}": (lambda lib, first=first, second=second: lib.cdist(T(lib, [[1.0, 2]], first), T(lib, [[1, 3]], second)))
        for first in ["float16", "float32", "float64", "int64"] for second in ["float16", "float32", "float64", "int64"]
    })
