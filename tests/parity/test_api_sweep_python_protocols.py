"""A sweep of how tensors behave with Python and NumPy protocols, against PyTorch (the oracle):
``bool``/``int``/``float``/``complex`` of tensors, ``__index__`` (tensors as list indices, in
``range`` and slices), ``len`` and iteration, ``in``, hashing, ``==``/``!=`` with tensors, numbers,
``None`` and arbitrary objects, ``round``/``abs``/``divmod``/``pow``/``math.*`` of 0-d tensors,
``np.asarray``/``np.array``/``__array__`` (memory sharing and copies), NumPy scalars and arrays on
either side of an operator, ``Tensor.numpy`` (sharing, ``requires_grad``, ``no_grad``),
``tolist``/``item`` types, ``copy``/``deepcopy``/``pickle``, ``str``/``repr``/``format`` and
f-strings, ``set_printoptions`` and the repr of float/int/bool/empty/nan/inf tensors with
``requires_grad`` and ``grad_fn``.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
Python types, reprs or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are
differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import copy
import math
import operator
import pickle
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import outcome, raises_as_torch


def plain(value):
    """A library-neutral form of a result: tensors as (dtype name, shape, float64 array), library
    names in strings and dtypes replaced by a neutral prefix, Python types by their names."""
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return str(value.dtype).split(".")[-1], tuple(value.shape), np.asarray(value.detach().numpy(), dtype=np.float64)
    if isinstance(value, (torch.dtype, chainrule.dtype)):
        return "dtype:" + str(value).split(".")[-1]
    if isinstance(value, (tuple, list)):
        return [plain(each) for each in value]
    if isinstance(value, str):
        return value.replace("torch.", "LIB.").replace("chainrule.", "LIB.")
    if isinstance(value, np.ndarray):
        return "ndarray", value.dtype.name, value.shape, value.tolist()
    if isinstance(value, type):
        return "type:" + value.__name__
    return value


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, tuple) and len(expected) == 3 and isinstance(expected[2], np.ndarray):
        assert isinstance(actual, tuple) and len(actual) == 3, (actual, expected)
        assert actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol)
    elif isinstance(expected, float) and math.isnan(expected):
        assert isinstance(actual, float) and math.isnan(actual), actual
    else:
        assert type(actual) is type(expected), (actual, expected)
        assert actual == expected, (actual, expected)


def same_in_both(run, rtol=1e-5, atol=1e-6):
    """``run(lib)`` gives the same value in both libraries, or raises the same exception type."""
    kind, expected = outcome(lambda: run(torch))
    actual_kind, actual = outcome(lambda: run(chainrule))
    if kind == "raises":
        assert actual_kind == "raises", f"PyTorch raises {expected.__name__}; chainrule returns {actual!r}"
        assert issubclass(actual, expected), f"PyTorch raises {expected.__name__}; chainrule raises {actual.__name__}"
        return
    assert actual_kind == "ok", f"PyTorch returns {expected!r}; chainrule raises {actual.__name__}"
    assert_same(plain(actual), plain(expected), rtol, atol)


def typed(value):
    """A value with its Python type name, so 2 and 2.0 and True differ."""
    return type(value).__name__, value


def bug(reason):
    return pytest.mark.xfail(strict=True, reason="BUG: " + reason)


def cases(table):
    """pytest parameters from a {name: run or pytest.param(run, marks=...)} table, named by key."""
    params = []
    for name, case in sorted(table.items()):
        if isinstance(case, type(pytest.param(None))):
            params.append(pytest.param(*case.values, marks=case.marks, id=name))
        else:
            params.append(pytest.param(case, id=name))
    return params


# --------------------------------------------------------------------------- bool / int / float


CONVERSIONS = {
    "bool_0d_zero": lambda L: typed(bool(L.tensor(0.0))),
    "bool_0d_nan": lambda L: typed(bool(L.tensor(float("nan")))),
    "bool_1x1": lambda L: typed(bool(L.tensor([[3]]))),
    "bool_requires_grad": lambda L: typed(bool(L.tensor(2.5, requires_grad=True))),
    "bool_multi": lambda L: bool(L.tensor([1, 2])),
    "bool_empty": lambda L: bool(L.tensor([])),
    "if_tensor": lambda L: "yes" if L.tensor([0.0]) else "no",
    "not_tensor": lambda L: not L.tensor(0),
    "int_of_float": lambda L: typed(int(L.tensor(2.7))),
    "int_of_negative": lambda L: typed(int(L.tensor(-2.7))),
    "int_of_bool": lambda L: typed(int(L.tensor(True))),
    "int_of_uint8": lambda L: typed(int(L.tensor(255, dtype=L.uint8))),
    "int_of_big": lambda L: typed(int(L.tensor(2**62))),
    "int_of_nan": lambda L: int(L.tensor(float("nan"))),
    "int_of_inf": lambda L: int(L.tensor(float("inf"))),
    "int_of_multi": lambda L: int(L.tensor([1, 2])),
    "int_of_empty": lambda L: int(L.tensor([])),
    "int_of_non_leaf": lambda L: typed(int(L.tensor(2.5, requires_grad=True) * 2)),
    "float_of_int": lambda L: typed(float(L.tensor(3))),
    "float_of_float16": lambda L: typed(float(L.tensor(0.1, dtype=L.float16))),
    "float_of_1elem": lambda L: typed(float(L.tensor([[1.5]]))),
    "float_of_multi": lambda L: float(L.tensor([1.0, 2.0])),
    "float_of_non_leaf": lambda L: typed(float(L.tensor(2.5, requires_grad=True) * 2)),
    "complex_of_float": lambda L: typed(complex(L.tensor(1.5))),
    "complex_of_int": lambda L: typed(complex(L.tensor(2))),
}


@pytest.mark.parametrize("run", cases(CONVERSIONS))
def test_scalar_conversions(run):
    same_in_both(run)


# --------------------------------------------------------------------------- __index__


INDEXING = {
    "list_index": lambda L: [10, 20, 30][L.tensor(1)],
    "list_index_int32": lambda L: [10, 20, 30][L.tensor(1, dtype=L.int32)],
    "list_index_uint8": lambda L: [10, 20, 30][L.tensor(1, dtype=L.uint8)],
    "list_index_negative_int8": lambda L: [10, 20, 30][L.tensor(-1, dtype=L.int8)],
    "list_index_1elem": lambda L: [10, 20, 30][L.tensor([2])],
    "list_index_bool": lambda L: [10, 20, 30][L.tensor(True)],
    "list_index_float": lambda L: [10, 20, 30][L.tensor(1.0)],
    "list_index_2elem": lambda L: [10, 20, 30][L.tensor([1, 2])],
    "range": lambda L: list(range(L.tensor(3))),
    "range_start_stop": lambda L: list(range(L.tensor(1), L.tensor(4))),
    "range_float": lambda L: list(range(L.tensor(3.0))),
    "slice": lambda L: [0, 1, 2, 3, 4][L.tensor(1):L.tensor(3)],
    "operator_index": lambda L: typed(operator.index(L.tensor(5, dtype=L.int32))),
    "operator_index_2d": lambda L: operator.index(L.tensor([[1]])),
    "operator_index_empty": lambda L: operator.index(L.tensor([], dtype=L.long)),
    "hex": lambda L: hex(L.tensor(255)),
    "bin": lambda L: bin(L.tensor(5)),
    "string_repeat": lambda L: "ab" * L.tensor(2),
    "list_repeat": lambda L: [0] * L.tensor(3),
    "numpy_index_with_tensor": lambda L: typed(np.arange(5)[L.tensor(2)]),
    "tensor_index_with_numpy_scalar": lambda L: L.tensor([5, 6, 7])[np.int64(1)],
    "tensor_index_with_numpy_0d": lambda L: L.tensor([5, 6, 7])[np.array(1)],
}


@pytest.mark.parametrize("run", cases(INDEXING))
def test_index_protocol(run):
    same_in_both(run)


# --------------------------------------------------------------------------- len / iter / in / hash


CONTAINERS = {
    "len_2d": lambda L: len(L.zeros(3, 2)),
    "len_empty": lambda L: len(L.zeros(0, 2)),
    "len_0d": lambda L: len(L.tensor(1.0)),
    "iter_0d": lambda L: list(L.tensor(1.0)),
    "iter_rows": lambda L: list(L.arange(6).reshape(2, 3)),
    "iter_empty": lambda L: list(L.zeros(0, 3)),
    "iter_next": lambda L: next(iter(L.tensor([[1, 2], [3, 4]]))),
    "unpack_rows": lambda L: (lambda a, b: [a, b])(*L.tensor([[1, 2], [3, 4]])),
    "reversed": lambda L: list(reversed(L.tensor([1, 2, 3]))),
    "reversed_0d": lambda L: reversed(L.tensor(1.0)),
    "zip": lambda L: [(int(a), int(b)) for a, b in zip(L.tensor([1, 2]), L.tensor([3, 4]))],
    "builtin_sum": lambda L: sum(L.tensor([1, 2, 3])),
    "builtin_max": lambda L: max(L.tensor([1, 5, 3])),
    "builtin_sorted": lambda L: [int(x) for x in sorted(L.tensor([3, 1, 2]))],
    "builtin_any": lambda L: any(L.tensor([0, 1])),
    "in_number": lambda L: 2 in L.tensor([1, 2, 3]),
    "not_in_number": lambda L: 5 in L.tensor([1, 2, 3]),
    "in_float": lambda L: 2.0 in L.tensor([1, 2, 3]),
    "in_bool": lambda L: True in L.tensor([1, 2, 3]),
    "in_nan": lambda L: float("nan") in L.tensor([float("nan")]),
    "in_empty": lambda L: 1 in L.tensor([]),
    "in_0d": lambda L: 1 in L.tensor(1),
    "in_row_tensor": lambda L: L.tensor([1, 2]) in L.tensor([[1, 2], [3, 4]]),
    "in_string": lambda L: "a" in L.tensor([1, 2]),
    "in_none": lambda L: None in L.tensor([1, 2]),
    "tensor_in_list": lambda L: L.tensor(1) in [L.tensor(2), L.tensor(1)],
    "tensor_in_list_multi": lambda L: L.tensor([1, 2]) in [L.tensor([1, 2])],
    "hash_of_equal_tensors": lambda L: len({L.tensor(1.0), L.tensor(1.0)}),
    "dict_key": lambda L: (lambda t: {t: 1}[t])(L.tensor([1.0])),
}


@pytest.mark.parametrize("run", cases(CONTAINERS))
def test_container_protocols(run):
    same_in_both(run)


def test_iteration_grad_fn():
    same_in_both(lambda L: [type(row.grad_fn).__name__ for row in L.ones(2, 3, requires_grad=True)])


# --------------------------------------------------------------------------- comparisons


COMPARISONS = {
    "eq_tensor": lambda L: L.tensor([1, 2]) == L.tensor([1, 3]),
    "ne_number": lambda L: L.tensor([1, 2]) != 2,
    "eq_none": lambda L: L.tensor([1, 2]) == None,  # noqa: E711 - the protocol is what is tested
    "ne_none": lambda L: L.tensor([1, 2]) != None,  # noqa: E711
    "lt_none": lambda L: L.tensor([1, 2]) < None,
    "lt_string": lambda L: L.tensor([1.0]) < "a",
    "eq_string": lambda L: L.tensor([1, 2]) == "a",
    "eq_list": lambda L: L.tensor([1, 2]) == [1, 2],
    "lt_float_on_ints": lambda L: L.tensor([1, 2]) < 1.5,
    "eq_0d_number": lambda L: typed(bool(L.tensor(1.0) == 1)),
    "eq_numpy_array": lambda L: L.tensor([1.0, 2.0]) == np.array([1.0, 2.0]),
    "numpy_array_eq": lambda L: np.array([1.0, 2.0]) == L.tensor([1.0, 2.0]),
    "numpy_scalar_eq": lambda L: np.float64(1.0) == L.tensor([1.0, 2.0]),
    "eq_object": lambda L: L.tensor([1.0]) == object(),
    "dunder_eq_object": lambda L: L.tensor([1.0]).__eq__(object()) is NotImplemented,
    "ne_object": lambda L: L.tensor([1.0]) != object(),
    "eq_none_list_string": lambda L: (L.tensor([1.0]) == None, L.tensor([1.0]) != None, L.tensor([1.0]) == [1.0], L.tensor([1.0]) != "a"),  # noqa: E711
}


@pytest.mark.parametrize("run", cases(COMPARISONS))
def test_comparison_protocols(run):
    same_in_both(run)


# --------------------------------------------------------------------------- numeric builtins


NUMERIC = {
    "round": lambda L: typed(round(L.tensor(2.5))),
    "round_negative_half": lambda L: typed(round(L.tensor(-1.5))),
    "round_int": lambda L: round(L.tensor(7)),
    "round_vector": lambda L: round(L.tensor([0.5, 1.5, 2.5, -0.5])),
    "round_ndigits": lambda L: round(L.tensor([2.567, 1.25]), 1),
    "round_ndigits_0d": lambda L: round(L.tensor(2.567), 2),
    "round_negative_ndigits": lambda L: round(L.tensor(1234.5), -2),
    "round_int_ndigits": lambda L: round(L.tensor([15, 25]), -1),
    "round_bool": lambda L: round(L.tensor([True])),
    "abs": lambda L: abs(L.tensor(-2)),
    "abs_bool": lambda L: abs(L.tensor([True])),
    "abs_int8_min": lambda L: abs(L.tensor([-128], dtype=L.int8)),
    "divmod_float": lambda L: list(divmod(L.tensor([-7.5, 7.5]), L.tensor(2.0))),
    "divmod_int": lambda L: list(divmod(L.tensor(-7), 2)),
    "rdivmod": lambda L: list(divmod(7, L.tensor(2))),
    "divmod_by_zero_int": lambda L: divmod(L.tensor(7), 0),
    "floordiv_negative": lambda L: L.tensor(-7) // 2,
    "rfloordiv": lambda L: 7 // L.tensor(2),
    "mod_negative": lambda L: L.tensor(-7) % 3,
    "rmod": lambda L: 7 % L.tensor(-3),
    "floordiv_float_by_zero": lambda L: L.tensor([7.0, -7.0, 0.0]) // 0,
    "pow": lambda L: pow(L.tensor(3), 2),
    "pow_mod": lambda L: pow(L.tensor(3), 2, 5),
    "rpow_int": lambda L: 2 ** L.tensor(3),
    "rpow_float": lambda L: 2.0 ** L.tensor(3),
    "int_to_negative_power_0d": lambda L: L.tensor(2) ** -1,
    "int_to_negative_power": lambda L: L.tensor([2]) ** -1,
    "math_floor": lambda L: typed(math.floor(L.tensor(2.7))),
    "math_ceil": lambda L: typed(math.ceil(L.tensor(2.2))),
    "math_trunc": lambda L: typed(math.trunc(L.tensor(-2.7))),
    "math_floor_1elem": lambda L: typed(math.floor(L.tensor([2.7]))),
    "math_isclose": lambda L: math.isclose(L.tensor(0.1) + L.tensor(0.2), 0.3, rel_tol=1e-6),
    "math_sqrt": lambda L: typed(math.sqrt(L.tensor(4.0))),
    "math_isnan": lambda L: math.isnan(L.tensor(float("nan"))),
    "math_exp_multi": lambda L: math.exp(L.tensor([1.0, 2.0])),
    "invert_float": lambda L: ~L.tensor(1.0),
    "invert_bool": lambda L: ~L.tensor([True, False]),
    "negate_bool": lambda L: -L.tensor([True]),
    "and_int": lambda L: 3 & L.tensor([6]),
    "lshift": lambda L: 1 << L.tensor([2]),
    "and_float": lambda L: L.tensor([1.0]) & 1,
    "list_matmul": lambda L: [1, 2] @ L.tensor([1, 2]),
}


@pytest.mark.parametrize("run", cases(NUMERIC))
def test_numeric_builtins(run):
    same_in_both(run)


# --------------------------------------------------------------------------- NumPy interop


NUMPY_VALUES = {
    "asarray": lambda L: np.asarray(L.tensor([1.0, 2.0])),
    "asarray_0d": lambda L: np.array(L.tensor(1)),
    "array_dtype": lambda L: np.array(L.tensor([1.5, 2.0]), dtype=np.int32),
    "asarray_dtype_int_to_float": lambda L: np.asarray(L.tensor([1, 2]), dtype=np.float32),
    "asarray_requires_grad": lambda L: np.asarray(L.tensor([1.0], requires_grad=True)),
    "dunder_array": lambda L: L.tensor([1, 2]).__array__(),
    "dunder_array_dtype": lambda L: L.tensor([1, 2]).__array__(np.float32),
    "array_priority": lambda L: L.Tensor.__array_priority__,
    "numpy_scalar_times_tensor": lambda L: np.float64(2) * L.tensor([1.0, 2.0]),
    "numpy_float32_times_int_tensor": lambda L: np.float32(2) * L.tensor([1, 2]),
    "numpy_int64_plus_int8_tensor": lambda L: np.int64(2) + L.tensor([1, 2], dtype=L.int8),
    "numpy_scalar_minus_tensor": lambda L: np.float64(2) - L.tensor([1.0, 2.0]),
    "numpy_scalar_over_tensor": lambda L: np.float64(2) / L.tensor([1.0, 2.0]),
    "numpy_scalar_pow_tensor": lambda L: np.float64(2) ** L.tensor([1.0, 2.0]),
    "numpy_scalar_times_0d": lambda L: np.float32(2) * L.tensor(3),
    "tensor_times_numpy_scalar": lambda L: L.tensor([1.0, 2.0]) * np.float64(2),
    "tensor_plus_float64_array": lambda L: L.tensor([1.0, 2.0]) + np.array([1.0, 2.0]),
    "tensor_plus_int16_array": lambda L: L.tensor([1, 2], dtype=L.int8) + np.array([1, 2], dtype=np.int16),
    "float16_tensor_times_float32_array": lambda L: L.tensor([1.0, 2.0], dtype=L.float16) * np.array([1.0, 2.0], dtype=np.float32),
    "tensor_plus_float64_0d_array": pytest.param(
        lambda L: L.tensor([1.0, 2.0]) + np.array(2.0),
        marks=bug("float32 tensor + np.array(2.0) gives float32; PyTorch (via NumPy) gives float64")),
    "float_tensor_plus_int64_array": pytest.param(
        lambda L: L.tensor([1.0, 2.0]) + np.array([1, 2]),
        marks=bug("float32 tensor + int64 ndarray gives float32; PyTorch (via NumPy) gives float64")),
    "int_tensor_times_float32_array": pytest.param(
        lambda L: L.tensor([1, 2]) * np.array([1.0, 2.0], dtype=np.float32),
        marks=bug("int64 tensor * float32 ndarray gives float32; PyTorch (via NumPy) gives float64")),
    "requires_grad_tensor_times_array": pytest.param(
        lambda L: L.tensor([1.0, 2.0], requires_grad=True) * np.array([1.0, 2.0], dtype=np.float32),
        marks=bug("requires_grad tensor * ndarray returns a tensor; PyTorch raises RuntimeError")),
    "numpy_ufunc_exp": lambda L: np.exp(L.tensor([0.0, 1.0])),
    "numpy_allclose": lambda L: np.allclose(L.tensor([1.0]), L.tensor([1.0])),
    "numpy_float64_of_tensor": lambda L: typed(np.float64(L.tensor(2.5))),
    "tensor_from_numpy_scalar": lambda L: L.tensor(np.float32(1.5)),
    "tensor_from_list_of_numpy_scalars": lambda L: L.tensor([np.float32(1.5), np.float32(2)]),
    "tensor_from_list_of_0d_tensors": lambda L: L.tensor([L.tensor(1.5), L.tensor(2.0)]),
    "from_numpy_uint16": lambda L: L.from_numpy(np.array([1], dtype=np.uint16)),
    "from_numpy_object": lambda L: L.from_numpy(np.array([1], dtype=object)),
    "from_numpy_list": lambda L: L.from_numpy([1, 2]),
}


@pytest.mark.parametrize("run", cases(NUMPY_VALUES))
def test_numpy_values(run):
    same_in_both(run)


@pytest.mark.parametrize("op", [operator.add, operator.mul, operator.sub, operator.lt])
@bug("ndarray <op> tensor returns a tensor; PyTorch's reflected operators refuse ndarrays, so it raises TypeError")
def test_numpy_array_on_the_left_of_an_operator(op):
    raises_as_torch(lambda L: op(np.array([1.0, 2.0]), L.tensor([1.0, 2.0])))


SHARING = {
    "numpy_shares": lambda L: (lambda t: (t.numpy().__setitem__(0, 9.0), t.tolist())[1])(L.tensor([1.0, 2.0])),
    "numpy_sees_inplace": lambda L: (lambda t: (t.add_(1), t.numpy().tolist())[1])(L.tensor([1.0, 2.0])),
    "numpy_of_a_slice_shares": lambda L: (lambda t: (t[1:].numpy().__setitem__(0, 9.0), t.tolist())[1])(L.tensor([1.0, 2.0, 3.0])),
    "numpy_of_a_transpose_shares": lambda L: (lambda t: (t.T.numpy().__setitem__((0, 1), 9.0), t.tolist())[1])(L.zeros(2, 2)),
    "numpy_of_a_flip": lambda L: L.tensor([1.0, 2.0]).flip(0).numpy().tolist(),
    "numpy_detach_shares": lambda L: (lambda t: (t.detach().numpy().__setitem__(0, 5.0), t.tolist())[1])(L.ones(2, requires_grad=True)),
    "numpy_force_shares": lambda L: (lambda t: (t.numpy(force=True).__setitem__(0, 9.0), t.tolist())[1])(L.ones(2)),
    "numpy_force_requires_grad": lambda L: L.tensor([1.0], requires_grad=True).numpy(force=True).tolist(),
    "numpy_requires_grad": lambda L: L.tensor([1.0], requires_grad=True).numpy(),
    "numpy_non_leaf": lambda L: (L.ones(2, requires_grad=True) * 2).numpy(),
    "numpy_0d": lambda L: L.tensor(1.0).numpy(),
    "numpy_dtypes": lambda L: [L.tensor([1], dtype=d).numpy().dtype.name for d in (L.int16, L.bool, L.uint8, L.float16, L.float64)],
    "asarray_shares": lambda L: (lambda t: (np.asarray(t).__setitem__(0, 9.0), t.tolist())[1])(L.ones(2)),
    "asarray_same_dtype_shares": lambda L: (lambda t: (np.asarray(t, dtype=np.float32).__setitem__(0, 3.0), t.tolist())[1])(L.ones(2)),
    "dunder_array_shares": lambda L: (lambda t: (t.__array__().__setitem__(0, 7.0), t.tolist())[1])(L.ones(2)),
    "array_copies": lambda L: (lambda t: (np.array(t).__setitem__(0, 9.0), t.tolist())[1])(L.ones(2)),
    "array_copy_true_copies": lambda L: (lambda t: (np.array(t, copy=True).__setitem__(0, 9.0), t.tolist())[1])(L.ones(2)),
    "array_same_dtype_copies": lambda L: (lambda t: (np.array(t, dtype=np.float32).__setitem__(0, 9.0), t.tolist())[1])(L.ones(2)),
    "asarray_copy_true_copies": lambda L: (lambda t: (np.asarray(t, copy=True).__setitem__(0, 9.0), t.tolist())[1])(L.ones(2)),
    "asarray_other_dtype_copies": lambda L: (lambda t: (np.asarray(t, dtype=np.float64).__setitem__(0, 9.0), t.tolist())[1])(L.ones(2)),
    "array_of_a_transpose_copies": lambda L: (lambda t: (np.array(t.T).__setitem__((0, 1), 9.0), t.tolist())[1])(L.zeros(2, 2)),
    "from_numpy_shares": lambda L: (lambda a: (L.from_numpy(a).add_(1), a.tolist())[1])(np.array([1.0, 2.0])),
    "as_tensor_shares": lambda L: (lambda a: (L.as_tensor(a).add_(1), a.tolist())[1])(np.array([1.0, 2.0])),
    "tensor_of_array_copies": lambda L: (lambda a: (L.tensor(a).add_(1), a.tolist())[1])(np.array([1.0, 2.0])),
}


@pytest.mark.parametrize("run", cases(SHARING))
def test_numpy_memory_sharing_and_errors(run):
    same_in_both(run)


def test_numpy_of_a_requires_grad_tensor_under_no_grad():
    def run(L):
        t = L.ones(2, requires_grad=True)
        with L.no_grad():
            return t.numpy().tolist()

    same_in_both(run)


def test_numpy_from_dlpack():
    same_in_both(lambda L: np.from_dlpack(L.tensor([1.0, 2.0])))


DLPACK = {
    "shares": lambda L: (lambda t: (np.from_dlpack(t).__setitem__(0, 9.0), t.tolist())[1])(L.ones(2)),
    "transpose": lambda L: np.from_dlpack(L.arange(6.0).reshape(2, 3).T),
    "bool": lambda L: np.from_dlpack(L.tensor([True, False])),
    "copy": lambda L: (lambda t: (np.from_dlpack(t, copy=True).__setitem__(0, 9.0), t.tolist())[1])(L.ones(2)),
    "requires_grad": lambda L: np.from_dlpack(L.ones(2, requires_grad=True)),
    "device": lambda L: tuple(int(part) for part in L.ones(2).__dlpack_device__()),
}


@pytest.mark.parametrize("run", cases(DLPACK))
def test_dlpack(run):
    same_in_both(run)


def test_numpy_under_no_grad_and_inference_mode():
    def run(L):
        t = L.ones(2, requires_grad=True)
        with L.no_grad():
            under_no_grad = np.asarray(t).tolist()
        with L.inference_mode():
            under_inference = t.numpy().tolist()
        return under_no_grad, under_inference

    same_in_both(run)
    raises_as_torch(lambda L: L.ones(2, requires_grad=True).numpy())


def test_iteration_rows_share_one_unbind_node():
    def run(L):
        x = L.arange(6.0).reshape(3, 2).requires_grad_()
        rows = list(x)
        (rows[1] * 2).sum().backward()
        return [rows[0].grad_fn is rows[2].grad_fn, x.grad]

    same_in_both(run)


# --------------------------------------------------------------------------- tolist / item


ITEMS = {
    "tolist_types": lambda L: [typed(L.tensor([v], dtype=d).tolist()[0]) for v, d in ((1, L.int64), (1, L.int8), (1.0, L.float32), (True, L.bool))],
    "tolist_0d": lambda L: typed(L.tensor(1.5).tolist()),
    "tolist_float32_value": lambda L: L.tensor([0.1]).tolist(),
    "tolist_float16_value": lambda L: L.tensor([0.1], dtype=L.float16).tolist(),
    "tolist_empty_2d": lambda L: L.zeros(2, 0).tolist(),
    "item_types": lambda L: [typed(L.tensor(v).item()) for v in (1, 1.0, True)],
    "item_float16": lambda L: L.tensor(0.1, dtype=L.float16).item(),
    "item_uint8": lambda L: typed(L.tensor(200, dtype=L.uint8).item()),
    "item_1elem": lambda L: typed(L.tensor([[7]]).item()),
    "item_non_leaf": lambda L: typed((L.tensor(2.0, requires_grad=True) * 2).item()),
    "item_multi": lambda L: L.tensor([1, 2]).item(),
    "item_empty": lambda L: L.tensor([]).item(),
    "tolist_requires_grad": lambda L: L.ones(2, requires_grad=True).tolist(),
}


@pytest.mark.parametrize("run", cases(ITEMS))
def test_tolist_and_item(run):
    same_in_both(run)


# --------------------------------------------------------------------------- copy / pickle


def _leaf_with_grad(L):
    t = L.ones(2, requires_grad=True)
    (t * 3).sum().backward()
    return t


COPIES = {
    "copy_is_new_object": lambda L: (lambda t: (lambda c: [c is t, c.requires_grad, c.is_leaf])(copy.copy(t)))(L.ones(2, requires_grad=True)),
    "copy_shares_memory": lambda L: (lambda t: (copy.copy(t).add_(1), t.tolist())[1])(L.ones(2)),
    "copy_of_non_leaf": lambda L: (lambda c: [c.requires_grad, c.grad_fn is not None])(copy.copy(L.ones(2, requires_grad=True) * 2)),
    "deepcopy_with_grad": lambda L: (lambda t: (lambda c: [c.requires_grad, c.grad, c.grad is t.grad, c.is_leaf])(copy.deepcopy(t)))(_leaf_with_grad(L)),
    "deepcopy_is_independent": lambda L: (lambda t: (copy.deepcopy(t).add_(1), t.tolist())[1])(L.ones(2)),
    "deepcopy_memo": lambda L: (lambda t: (lambda c: c[0] is c[1])(copy.deepcopy([t, t])))(L.ones(2)),
    "deepcopy_attribute": lambda L: (lambda t: (setattr(t, "note", 3), copy.deepcopy(t).note)[1])(L.ones(2)),
    "deepcopy_non_leaf": lambda L: copy.deepcopy(L.ones(2, requires_grad=True) * 2),
    "deepcopy_parameter": lambda L: (lambda p: [type(p).__name__, p.requires_grad])(copy.deepcopy(L.nn.Parameter(L.ones(2)))),
    "pickle_leaf_with_grad": lambda L: (lambda c: [c.requires_grad, c.is_leaf, c.grad, c])(pickle.loads(pickle.dumps(_leaf_with_grad(L)))),
    "pickle_non_leaf": lambda L: (lambda c: [c.requires_grad, c.is_leaf, c.grad_fn, c])(pickle.loads(pickle.dumps(L.ones(2, requires_grad=True) * 2))),
    "pickle_int16": lambda L: pickle.loads(pickle.dumps(L.tensor([1, 2], dtype=L.int16))),
    "pickle_0d": lambda L: pickle.loads(pickle.dumps(L.tensor(3.5))),
    "pickle_dtype_identity": lambda L: pickle.loads(pickle.dumps(L.float16)) is L.float16,
    "pickle_size": lambda L: (lambda s: [type(s).__name__, tuple(s)])(pickle.loads(pickle.dumps(L.Size([2, 3])))),
    "pickle_device": lambda L: str(pickle.loads(pickle.dumps(L.device("cpu")))),
    "pickle_parameter": lambda L: (lambda p: [type(p).__name__, p.requires_grad])(pickle.loads(pickle.dumps(L.nn.Parameter(L.ones(2))))),
}


@pytest.mark.parametrize("run", cases(COPIES))
def test_copy_and_pickle(run):
    same_in_both(run)


# --------------------------------------------------------------------------- str / repr / format


FORMATS = {
    "str_0d": lambda L: str(L.tensor(2.5)),
    "repr_0d_int": lambda L: repr(L.tensor(3)),
    "format_2f": lambda L: format(L.tensor(2.5), ".2f"),
    "format_03d": lambda L: format(L.tensor(3), "03d"),
    "format_empty_spec": lambda L: format(L.tensor(2.5), ""),
    "format_vector_empty_spec": lambda L: format(L.tensor([2.5]), ""),
    "format_vector_spec": lambda L: format(L.tensor([1.0, 2.0]), ".2f"),
    "format_1elem_spec": lambda L: format(L.tensor([[1.5]]), ".2f"),
    "format_int_as_float": lambda L: format(L.tensor(3), ".2f"),
    "format_float_as_d": lambda L: format(L.tensor(3.0), "d"),
    "format_bool": lambda L: format(L.tensor(True), ""),
    "format_bool_aligned": lambda L: f"{L.tensor(True):>5}",
    "format_exponent": lambda L: format(L.tensor(12345.678), ".2e"),
    "format_percent": lambda L: f"{L.tensor(0.25):.1%}",
    "fstring": lambda L: f"{L.tensor(1 / 3):.3f} {L.tensor(1 / 3)}",
    "fstring_requires_grad": lambda L: f"{L.tensor(1 / 3, requires_grad=True):.3f}",
    "fstring_repr": lambda L: f"{L.tensor([1, 2])!r}",
    "str_requires_grad": lambda L: str(L.tensor(2.5, requires_grad=True)),
    "str_float64": lambda L: str(L.tensor(1.5, dtype=L.float64)),
    "str_large_0d": lambda L: str(L.tensor(123456789.0)),
    "str_small_0d": lambda L: str(L.tensor(1e-5)),
}


@pytest.mark.parametrize("run", cases(FORMATS))
def test_str_and_format(run):
    same_in_both(run)


REPRS = {
    "float64": lambda L: L.tensor([1.5, 2.0], dtype=L.float64),
    "float16": lambda L: L.tensor([1.5, 2.0], dtype=L.float16),
    "float16_0d": lambda L: L.tensor(0.1, dtype=L.float16),
    "int32": lambda L: L.tensor([1, 2], dtype=L.int32),
    "int8": lambda L: L.tensor([1, -2], dtype=L.int8),
    "uint8": lambda L: L.tensor([1, 2], dtype=L.uint8),
    "int64_extremes": lambda L: L.tensor([2**63 - 1, -(2**63)]),
    "bool": lambda L: L.tensor([True, False]),
    "bool_0d": lambda L: L.tensor(True),
    "bool_2d": lambda L: L.zeros(2, 3, dtype=L.bool),
    "empty": lambda L: L.tensor([]),
    "empty_2d": lambda L: L.zeros(0, 3),
    "empty_3d": lambda L: L.zeros(2, 0, 3),
    "empty_int": lambda L: L.zeros(2, 0, dtype=L.long),
    "empty_bool": lambda L: L.zeros(0, dtype=L.bool),
    "empty_float64": lambda L: L.zeros(0, dtype=L.float64),
    "empty_requires_grad": lambda L: L.zeros(0, requires_grad=True),
    "nan_inf": lambda L: L.tensor([float("nan"), float("inf"), -float("inf"), 1.5]),
    "all_nan": lambda L: L.tensor([float("nan")] * 3),
    "nan_and_whole": lambda L: L.tensor([float("nan"), 1.0, 2.0]),
    "inf_and_large": lambda L: L.tensor([float("inf"), 1e10]),
    "whole_floats": lambda L: L.tensor([1.0, 2.0, 3.0]),
    "negative_zero": lambda L: L.tensor([-0.0, 1.0]),
    "zeros": lambda L: L.tensor([0.0, 0.0]),
    "large": lambda L: L.tensor([1e10, 1.0]),
    "1e8": lambda L: L.tensor([1e8, 1.0]),
    "1e7": lambda L: L.tensor([1e7, 1.0]),
    "small": lambda L: L.tensor([1e-10, 1.0]),
    "1e-4": lambda L: L.tensor([1e-4, 1.0]),
    "1e-5": lambda L: L.tensor([1e-5, 1.0]),
    "mixed": lambda L: L.tensor([123456.789, 0.001]),
    "wide_range": lambda L: L.tensor([1e9, 1e-9]),
    "0d_large": lambda L: L.tensor(1e20),
    "0d_small": lambda L: L.tensor(1e-20),
    "0d_nan": lambda L: L.tensor(float("nan")),
    "0d_negative_inf": lambda L: L.tensor(-float("inf")),
    "0d_negative_int": lambda L: L.tensor(-5),
    "big_ints": lambda L: L.tensor([10**15, -3]),
    "2d": lambda L: L.arange(6.0).reshape(2, 3),
    "3d": lambda L: L.arange(8).reshape(2, 2, 2),
    "4d": lambda L: L.zeros(1, 1, 2, 2),
    "column": lambda L: L.arange(3.0).reshape(3, 1),
    "summarized_ints": lambda L: L.arange(2000),
    "summarized_floats": lambda L: L.arange(2000.0) / 7,
    "summarized_2d": lambda L: L.arange(5000).reshape(50, 100),
    "wrapped_floats": lambda L: L.arange(30.0) * 1.5,
    "wrapped_ints": lambda L: L.arange(40),
    "thirds": lambda L: L.tensor([1 / 3, 2 / 3]),
    "float16_requires_grad": lambda L: L.tensor([1 / 3], dtype=L.float16, requires_grad=True),
    "float64_grad_fn": lambda L: L.tensor([1 / 3], dtype=L.float64, requires_grad=True) * 2,
    "parameter": lambda L: L.nn.Parameter(L.ones(2)),
    "parameter_frozen": lambda L: L.nn.Parameter(L.ones(2), requires_grad=False),
    "detached": lambda L: L.ones(1, requires_grad=True).detach(),
    "dtype": lambda L: L.int64,
    "size": lambda L: L.zeros(2, 3).shape,
    "size_0d": lambda L: L.zeros(()).shape,
    "device": lambda L: L.device("cpu"),
    "device_index": lambda L: L.device("cpu", 0),
}


@pytest.mark.parametrize("make", cases(REPRS))
def test_repr(make):
    same_in_both(lambda L: repr(make(L)))


GRAD_FNS = {
    "mul": lambda L: L.tensor([1.0, 2.0], requires_grad=True) * 2,
    "add_scalar": lambda L: L.tensor([1.0, 2.0], requires_grad=True) + 1,
    "rsub": lambda L: 1 - L.ones(2, requires_grad=True),
    "div": lambda L: L.ones(2, requires_grad=True) / 3,
    "neg": lambda L: -L.ones(2, requires_grad=True),
    "pow": lambda L: L.ones(2, requires_grad=True) ** 2,
    "pow_float": lambda L: L.ones(2, requires_grad=True) ** 2.5,
    "sum": lambda L: L.tensor([1.0, 2.0], requires_grad=True).sum(),
    "sum_dim_keepdim": lambda L: L.ones(2, requires_grad=True).sum(dim=0, keepdim=True),
    "mean": lambda L: L.tensor([1.0, 2.0], requires_grad=True).mean(),
    "mean_dim": lambda L: L.ones(2, 2, requires_grad=True).mean(0),
    "max": lambda L: L.ones(2, 2, requires_grad=True).max(),
    "norm": lambda L: L.ones(2, requires_grad=True).norm(),
    "view": lambda L: L.tensor([1.0, 2.0], requires_grad=True).view(2, 1),
    "reshape": lambda L: L.ones(2, 2, requires_grad=True).reshape(4),
    "flatten": lambda L: L.ones(2, 2, requires_grad=True).flatten(),
    "index": lambda L: L.tensor([1.0, 2.0], requires_grad=True)[0],
    "none_index": lambda L: L.ones(2, requires_grad=True)[None],
    "unsqueeze": lambda L: L.ones(2, requires_grad=True).unsqueeze(0),
    "expand": lambda L: L.ones(2, requires_grad=True).expand(2, 2),
    "transpose": lambda L: L.ones(2, 2, requires_grad=True).T,
    "t": lambda L: L.ones(2, 2, requires_grad=True).t(),
    "relu": lambda L: L.tensor([1.0, 2.0], requires_grad=True).relu(),
    "sigmoid": lambda L: L.ones(2, requires_grad=True).sigmoid(),
    "tanh": lambda L: L.ones(2, requires_grad=True).tanh(),
    "softmax": lambda L: L.ones(2, requires_grad=True).softmax(0),
    "exp": lambda L: L.ones(2, requires_grad=True).exp(),
    "log": lambda L: L.ones(2, requires_grad=True).log(),
    "clamp": lambda L: L.ones(2, requires_grad=True).clamp(0, 1),
    "matmul_mm": lambda L: L.ones(2, 2, requires_grad=True) @ L.ones(2, 2),
    "matmul_mv": lambda L: L.ones(2, 2, requires_grad=True) @ L.ones(2),
    "matmul_dot": lambda L: L.ones(2, requires_grad=True) @ L.ones(2),
    "cat": lambda L: L.cat([L.ones(1, requires_grad=True), L.ones(1)]),
    "stack": lambda L: L.stack([L.ones(1, requires_grad=True), L.ones(1)]),
    "where": lambda L: L.where(L.ones(2) > 0, L.ones(2, requires_grad=True), 0.0),
    "clone": lambda L: L.ones(1, requires_grad=True).clone(),
    "to_float64": lambda L: L.ones(1, requires_grad=True).to(L.float64),
    "half": lambda L: L.ones(2, requires_grad=True).half(),
    "linear_batch": lambda L: L.nn.functional.linear(L.ones(3, 2), L.ones(1, 2, requires_grad=True), L.zeros(1)),
    # one sample through a layer is still one node, named as PyTorch's last step (the view of the product)
    "linear_1d": lambda L: L.nn.functional.linear(L.ones(2), L.ones(1, 2, requires_grad=True), L.zeros(1)),
}


@pytest.mark.parametrize("make", cases(GRAD_FNS))
def test_repr_with_grad_fn(make):
    same_in_both(lambda L: repr(make(L)))


# --------------------------------------------------------------------------- set_printoptions


PRINT_OPTIONS = [
    dict(precision=2), dict(precision=8), dict(precision=0), dict(sci_mode=True), dict(sci_mode=False),
    dict(threshold=5), dict(threshold=5, edgeitems=1), dict(threshold=10, edgeitems=2), dict(linewidth=20),
    dict(linewidth=200), dict(profile="short"), dict(profile="full"), dict(precision=2, sci_mode=True),
    dict(threshold=float("inf")),
]

PRINTED = {
    "floats": lambda L: L.tensor([1 / 3, 2.5, -100.125]),
    "float_0d": lambda L: L.tensor(1 / 3),
    "ints": lambda L: L.arange(12),
    "bools": lambda L: L.arange(12) % 2 == 0,
    "large": lambda L: L.tensor([1e10, 1.5]),
    "small": lambda L: L.tensor([1e-10, 1.5]),
    "nan_inf": lambda L: L.tensor([float("nan"), float("inf"), 0.1234567]),
    "long": lambda L: L.arange(30.0) / 3,
    "matrix": lambda L: (L.arange(48.0) / 7).reshape(6, 8),
    "cube": lambda L: L.arange(60).reshape(3, 4, 5),
    "grad_fn": lambda L: L.tensor([1 / 3, 2.0], requires_grad=True) * 3,
    "float64": lambda L: L.tensor([1 / 3, 1e-3], dtype=L.float64),
    "empty": lambda L: L.zeros(0, 3),
    "whole_floats": lambda L: L.tensor([1.0, 20.0, 300.0]),
}


@pytest.mark.parametrize("options", PRINT_OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_set_printoptions(options):
    def run(L):
        try:
            L.set_printoptions(**options)
            return [repr(make(L)) for _, make in sorted(PRINTED.items())]
        finally:
            L.set_printoptions(profile="default")
            L.set_printoptions(sci_mode=None)

    same_in_both(run)


def test_set_printoptions_without_arguments_keeps_the_options():
    def run(L):
        try:
            L.set_printoptions(precision=2)
            L.set_printoptions()
            return repr(L.tensor([1 / 3]))
        finally:
            L.set_printoptions(profile="default")

    same_in_both(run)


def test_default_profile_restores_the_repr():
    def run(L):
        L.set_printoptions(precision=1, threshold=3, edgeitems=1, linewidth=10, sci_mode=True)
        L.set_printoptions(profile="default")
        L.set_printoptions(sci_mode=None)
        return [repr(make(L)) for _, make in sorted(PRINTED.items())]

    same_in_both(run)


# --------------------------------------------------------------------------- warnings


@pytest.mark.parametrize("make", [
    lambda L: L.tensor(L.ones(2)),
    lambda L: L.from_numpy(np.broadcast_to(np.ones(1), (3,))),
    lambda L: L.as_tensor(np.broadcast_to(np.ones(1), (3,))),
    lambda L: L.tensor([L.ones(1), L.ones(1)]),
], ids=["tensor_of_tensor", "from_numpy_read_only", "as_tensor_read_only", "tensor_of_list_of_tensors"])
def test_warnings(make):
    def run(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            make(L)
        return sorted({each.category.__name__ for each in caught})

    assert run(chainrule) == run(torch)


class _Reflecting:
    """A user's class that answers Python's reflected operators itself."""

    def __radd__(self, other):
        return "radd"

    def __rsub__(self, other):
        return "rsub"

    def __rmul__(self, other):
        return "rmul"

    def __rtruediv__(self, other):
        return "rtruediv"

    def __rpow__(self, other):
        return "rpow"

    def __rmatmul__(self, other):
        return "rmatmul"

    def __rand__(self, other):
        return "rand"

    def __gt__(self, other):
        return "gt"


def test_operators_hand_an_unknown_operand_to_python_as_pytorch():
    """A tensor's operators answer NotImplemented for what is no tensor, number or array: the other
    operand's reflected operator runs, and otherwise Python's own TypeError names both types."""
    def run(lib):
        t, other = lib.ones(2), _Reflecting()
        reflected = [t + other, t - other, t * other, t / other, t ** other, t @ other, t.bool() & other, t < other]
        errors = []
        for operation in (lambda: t + None, lambda: t < None, lambda: t @ None, lambda: None - t, lambda: t + [1, 2]):
            try:
                operation()
            except TypeError as error:
                errors.append(str(error))
        in_place = lib.ones(2)
        try:
            in_place += None
        except TypeError as error:
            errors.append(str(error))
        return reflected, t.__add__(object()) is NotImplemented, errors
    assert run(chainrule) == run(torch)
