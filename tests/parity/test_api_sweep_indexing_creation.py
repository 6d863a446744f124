"""A sweep of tensor indexing and creation against PyTorch (the oracle): advanced indexing with lists,
integer tensors and boolean masks mixed with slices, ``None`` and ``Ellipsis``; index errors;
``__setitem__`` with broadcast, tensor, list and boolean-mask values; ``index_put_`` with
``accumulate``; ``index_select`` / ``index_copy_`` / ``index_fill_`` / ``masked_fill``; ``take``,
``take_along_dim``, ``gather`` / ``scatter`` with negative dims; ``nonzero``, ``argwhere``,
``where``; and the factories (``arange``, ``linspace``, ``logspace``, ``full``, ``zeros``, ``eye``,
``tril_indices``, ``meshgrid``, ``cartesian_prod``, ``combinations``, ``randint``, ``randn``,
``as_tensor``, ``from_numpy``, ``tensor``) with their dtype inference and the default dtype.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences
found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import outcome, raises_as_torch


def plain(value):
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return str(value.dtype).split(".")[-1], tuple(value.shape), np.asarray(value.detach().numpy(), dtype=np.float64)
    if isinstance(value, (tuple, list)):
        return [plain(each) for each in value]
    if isinstance(value, (torch.dtype, chainrule.dtype)):
        return str(value).split(".")[-1]
    return value


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, tuple):
        assert isinstance(actual, tuple), (actual, expected)
        assert actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol)
    else:
        assert actual == expected


def same_in_both(run, rtol=1e-5, atol=1e-6):
    torch.manual_seed(0)
    expected = plain(run(torch))
    chainrule.manual_seed(0)
    actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


def caught_warnings(run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [each.category for each in caught]


def grid(lib, *shape, dtype=None):
    n = int(np.prod(shape))
    return lib.arange(n, dtype=dtype or lib.float32).reshape(*shape)


# --- advanced indexing --------------------------------------------------------------------------

GET_INDEXES = {
    "list": lambda lib: [0, 2],
    "negative_list": lambda lib: [-1, -3],
    "int_tensor": lambda lib: lib.tensor([[0, 1], [2, 0]]),
    "bool_mask_first_dim": lambda lib: lib.tensor([True, False, True]),
    "bool_mask_full": lambda lib: lib.arange(60).reshape(3, 4, 5) % 7 == 0,
    "bool_mask_two_dims": lambda lib: lib.arange(12).reshape(3, 4) % 3 == 0,
    "list_and_slice": lambda lib: ([0, 2], slice(1, 3)),
    "slice_and_list": lambda lib: (slice(None), [3, 0, 1]),
    "none_and_list": lambda lib: (None, [1, 2]),
    "ellipsis_and_list": lambda lib: (Ellipsis, [4, 0]),
    "list_ellipsis": lambda lib: ([1], Ellipsis),
    "two_adjacent_lists": lambda lib: ([0, 1], [1, 2]),
    "broadcast_index_tensors": lambda lib: (lib.tensor([[0], [2]]), lib.tensor([1, 3])),
    "non_adjacent_advanced": lambda lib: ([0, 2], slice(None), [1, 4]),
    "non_adjacent_with_none": lambda lib: ([0, 1], None, [2, 3]),
    "int_and_list_non_adjacent": lambda lib: (1, slice(None), [0, 2]),
    "int_then_list": lambda lib: (0, [1, 3]),
    "bool_0d_true": lambda lib: True,
    "bool_0d_false": lambda lib: False,
    "none_only": lambda lib: None,
    "ellipsis_none": lambda lib: (Ellipsis, None),
    "0d_int_tensor": lambda lib: lib.tensor(1),
    "empty_list": lambda lib: [],
    "empty_long_tensor": lambda lib: lib.tensor([], dtype=lib.long),
    "negative_step_free_slices": lambda lib: (slice(-2, None), slice(None, -1), -1),
    "slice_past_end": lambda lib: slice(2, 100),
    "mask_and_slice": lambda lib: (lib.tensor([True, False, True]), slice(1, 3)),
    "slice_and_mask": lambda lib: (slice(None), lib.tensor([True, False, True, False])),
    "tuple_as_list_of_lists": lambda lib: [[0, 1], [1, 2]],
    "int32_index": lambda lib: lib.tensor([2, 0], dtype=lib.int32),
    "uint8_mask": lambda lib: lib.tensor([1, 0, 1], dtype=lib.uint8),
    "bool_list": lambda lib: [True, False, True],
    "numpy_int_array": lambda lib: np.array([2, 0]),
    "numpy_bool_array": lambda lib: np.array([False, True, True]),
    "list_with_0d_tensor": lambda lib: [lib.tensor(1), 2],
    "negative_tensor_index": lambda lib: (slice(None), lib.tensor([-1, -4])),
    "none_ellipsis_none": lambda lib: (None, Ellipsis, None),
    "middle_ellipsis": lambda lib: (0, Ellipsis, 1),
    "2d_mask_then_int": lambda lib: (lib.arange(12).reshape(3, 4) > 6, 2),
    "advanced_then_none_then_advanced_3": lambda lib: (lib.tensor([0, 1]), None, slice(1, 3), lib.tensor([1, 0])),
    "mask_all_false": lambda lib: lib.zeros(3, 4, 5, dtype=lib.bool),
    "step_slice": lambda lib: (slice(None, None, 2), slice(3, 0, -1) if False else slice(None, None, 3)),
}


@pytest.mark.parametrize("name", sorted(GET_INDEXES))
def test_getitem(name):
    same_in_both(lambda lib: grid(lib, 3, 4, 5)[GET_INDEXES[name](lib)])


INDEX_ERRORS = {
    "int_past_end": lambda lib: grid(lib, 3, 4)[3],
    "negative_past_start": lambda lib: grid(lib, 3, 4)[-4],
    "list_past_end": lambda lib: grid(lib, 3, 4)[[0, 5]],
    "tensor_past_end": lambda lib: grid(lib, 3, 4)[:, lib.tensor([4])],
    "too_many_indices": lambda lib: grid(lib, 3, 4)[0, 0, 0],
    "mask_wrong_shape": lambda lib: grid(lib, 3, 4)[lib.tensor([True, False])],
    "float_index": lambda lib: grid(lib, 3, 4)[1.0],
    "float_tensor_index": lambda lib: grid(lib, 3, 4)[lib.tensor([1.0])],
    "index_0d_tensor": lambda lib: lib.tensor(5.0)[0],
    "unbroadcastable_index_tensors": lambda lib: grid(lib, 3, 4)[[0, 1], [0, 1, 2]],
    "string_index": lambda lib: grid(lib, 3, 4)["a"],
    "setitem_past_end": lambda lib: grid(lib, 3, 4).__setitem__(3, 0.0),
    "setitem_bad_shape": lambda lib: grid(lib, 3, 4).__setitem__(0, lib.zeros(3)),
    "setitem_numpy_value": lambda lib: grid(lib, 3, 4).__setitem__(0, np.array([1.0, 2.0, 3.0, 4.0])),
    "setitem_on_leaf_requiring_grad": lambda lib: lib.zeros(3, requires_grad=True).__setitem__(0, 1.0),
    "setitem_python_list_value": lambda lib: grid(lib, 3, 4).__setitem__(1, [1, 2, 3, 4]),
    "setitem_nested_list_value": lambda lib: grid(lib, 3, 4).__setitem__(slice(0, 2), [[1, 2, 3, 4], [5, 6, 7, 8]]),
}


@pytest.mark.parametrize("run", list(INDEX_ERRORS.values()), ids=list(INDEX_ERRORS))
def test_index_errors(run):
    raises_as_torch(run)


# --- __setitem__ --------------------------------------------------------------------------------

SETITEMS = {
    "broadcast_row": lambda lib, x: x.__setitem__(slice(None), lib.tensor([10.0, 20.0, 30.0, 40.0])),
    "broadcast_column": lambda lib, x: x.__setitem__((slice(None), slice(0, 2)), lib.tensor([[7.0], [8.0], [9.0]])),
    "scalar_on_list": lambda lib, x: x.__setitem__([0, 2], -1.0),
    "tensor_value_advanced": lambda lib, x: x.__setitem__(([0, 1], [1, 2]), lib.tensor([100.0, 200.0])),
    "bool_mask_scalar": lambda lib, x: x.__setitem__(x > 5, 0.0),
    "bool_mask_tensor_value": lambda lib, x: x.__setitem__(x > 8, lib.tensor([-1.0, -2.0, -3.0])),
    "bool_mask_0d_tensor": lambda lib, x: x.__setitem__(x < 3, lib.tensor(9.0)),
    "row_mask": lambda lib, x: x.__setitem__(lib.tensor([True, False, True]), lib.tensor([1.0, 2.0, 3.0, 4.0])),
    "ellipsis": lambda lib, x: x.__setitem__(Ellipsis, 3.0),
    "none": lambda lib, x: x.__setitem__((None, 0), 5.0),
    "negative_index": lambda lib, x: x.__setitem__((-1, -1), 42.0),
    "double_value_into_float": lambda lib, x: x.__setitem__(0, lib.tensor([1.5, 2.5, 3.5, 4.5], dtype=lib.float64)),
    "duplicates_last_wins_scalar": lambda lib, x: x.__setitem__(([0, 0], [1, 1]), 5.0),
    "augmented_with_duplicates": lambda lib, x: x.__setitem__([0, 0, 2], x[[0, 0, 2]] + 1),
    "mask_on_column": lambda lib, x: x.__setitem__((slice(None), lib.tensor([True, False, False, True])), 0.0),
    "int_tensor_value_into_float": lambda lib, x: x.__setitem__(2, lib.tensor([1, 2, 3, 4])),
    "non_adjacent_advanced": lambda lib, x: x.__setitem__(([0, 2], slice(None), [1, 3]) if x.dim() == 3 else ([0, 2], [1, 3]), lib.tensor([1.0, 2.0])),
}


@pytest.mark.parametrize("name", sorted(SETITEMS))
def test_setitem(name):
    def run(lib):
        x = grid(lib, 3, 4)
        SETITEMS[name](lib, x)
        return x

    same_in_both(run)


@pytest.mark.parametrize("value", [2.7, -2.7, True, 2**31 - 1])
def test_setitem_python_scalar_into_int_tensor(value):
    def run(lib):
        x = lib.zeros(3, dtype=lib.int32)
        x[1] = value
        return x

    same_in_both(run)


@pytest.mark.parametrize("value", [1e10, 2**31, -(2**31) - 1])
def test_setitem_python_scalar_overflowing_int32(value):
    raises_as_torch(lambda lib: lib.zeros(3, dtype=lib.int32).__setitem__(1, value))


def test_setitem_float_tensor_into_int_tensor_truncates():
    def run(lib):
        x = lib.zeros(4, dtype=lib.int64)
        x[:] = lib.tensor([1.9, -1.9, 2.5, -0.5])
        return x

    same_in_both(run)


def test_setitem_into_bool_tensor():
    def run(lib):
        x = lib.zeros(3, dtype=lib.bool)
        x[0] = 2
        x[1] = 0.5
        return x

    same_in_both(run)


def test_setitem_through_view_writes_base():
    def run(lib):
        x = grid(lib, 3, 4)
        y = x[1]
        y[:] = 0
        x[:, 0][1] = 99  # basic index chain writes through
        x[[0]][0, 0] = -5  # advanced index makes a copy: no write
        return x

    same_in_both(run)


# --- index_put_, index_select, index_copy_, index_fill_, masked_fill ----------------------------


@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_with_duplicates(accumulate):
    def run(lib):
        x = lib.zeros(5)
        index = lib.tensor([0, 1, 1, 3, 3, 3])
        x.index_put_((index,), lib.ones(6), accumulate=accumulate)
        return x

    same_in_both(run)


def test_index_put_two_dims_accumulate_broadcast_value():
    def run(lib):
        x = lib.zeros(3, 3)
        out = x.index_put((lib.tensor([0, 0, 2]), lib.tensor([1, 1, 0])), lib.tensor(2.0), accumulate=True)
        x.index_put_((lib.tensor([1]),), lib.tensor([5.0, 6.0, 7.0]))
        return [out, x]

    same_in_both(run)


def test_index_put_bool_mask():
    def run(lib):
        x = grid(lib, 2, 3)
        x.index_put_((x > 2,), lib.tensor(-1.0))
        return x

    same_in_both(run)


def test_index_put_wants_a_tuple():
    raises_as_torch(lambda lib: lib.zeros(3).index_put_(lib.tensor([0]), lib.tensor(1.0)))


INDEX_OPS = {
    "index_select_dim0": lambda lib: lib.index_select(grid(lib, 3, 4), 0, lib.tensor([2, 0, 2])),
    "index_select_neg_dim": lambda lib: grid(lib, 3, 4).index_select(-1, lib.tensor([3, 1])),
    "index_select_0d_index": lambda lib: grid(lib, 3, 4).index_select(1, lib.tensor(2)),
    "index_select_empty": lambda lib: grid(lib, 3, 4).index_select(0, lib.tensor([], dtype=lib.long)),
    "index_select_0d_input": lambda lib: lib.tensor(3.0).index_select(0, lib.tensor([0])),
    "index_copy_": lambda lib: grid(lib, 3, 4).index_copy_(0, lib.tensor([2, 0]), lib.ones(2, 4)),
    "index_copy_neg_dim": lambda lib: grid(lib, 3, 4).index_copy(-1, lib.tensor([3]), lib.zeros(3, 1)),
    "index_fill_scalar": lambda lib: grid(lib, 3, 4).index_fill_(1, lib.tensor([0, 2]), -1),
    "index_fill_0d_tensor": lambda lib: grid(lib, 3, 4).index_fill_(0, lib.tensor([1]), lib.tensor(7.5)),
    "index_fill_int_tensor_float_value": lambda lib: grid(lib, 3, 4, dtype=lib.int64).index_fill(0, lib.tensor([1]), 2.9),
    "masked_fill_scalar": lambda lib: grid(lib, 3, 4).masked_fill(grid(lib, 3, 4) > 5, 0.5),
    "masked_fill_0d_tensor": lambda lib: grid(lib, 3, 4).masked_fill(grid(lib, 3, 4) > 5, lib.tensor(-2.0)),
    "masked_fill_broadcast_mask": lambda lib: grid(lib, 3, 4).masked_fill(lib.tensor([True, False, False, True]), float("-inf")),
    "masked_fill_int_with_float": lambda lib: grid(lib, 3, 4, dtype=lib.int64).masked_fill(lib.tensor([True, False, False, True]), 1.7),
    "masked_fill_": lambda lib: grid(lib, 2, 2).masked_fill_(lib.tensor([[True, False], [False, True]]), 9),
    "masked_select": lambda lib: lib.masked_select(grid(lib, 3, 4), grid(lib, 3, 4) % 2 == 0),
    "masked_scatter": lambda lib: lib.zeros(2, 3).masked_scatter(lib.tensor([[True, False, True], [False, True, False]]), grid(lib, 2, 3)),
    "index_add": lambda lib: lib.zeros(3, 2).index_add(0, lib.tensor([0, 0, 2]), lib.ones(3, 2), alpha=2),
    "index_reduce_amax": lambda lib: lib.zeros(3).index_reduce(0, lib.tensor([0, 0, 2]), lib.tensor([5.0, -1.0, 3.0]), "amax"),
}


@pytest.mark.parametrize("name", sorted(INDEX_OPS))
def test_index_ops(name):
    same_in_both(INDEX_OPS[name])


INDEX_OP_ERRORS = {
    "index_select_float_index": lambda lib: grid(lib, 3, 4).index_select(0, lib.tensor([0.0])),
    "index_select_2d_index": lambda lib: grid(lib, 3, 4).index_select(0, lib.tensor([[0]])),
    "index_select_out_of_range": lambda lib: grid(lib, 3, 4).index_select(0, lib.tensor([3])),
    "index_select_bad_dim": lambda lib: grid(lib, 3, 4).index_select(2, lib.tensor([0])),
    "masked_fill_non_bool_mask": lambda lib: grid(lib, 3, 4).masked_fill(lib.ones(3, 4), 0.0),
    "masked_fill_1d_tensor_value": lambda lib: grid(lib, 3, 4).masked_fill(grid(lib, 3, 4) > 1, lib.tensor([1.0])),
    "index_fill_1d_tensor_value": lambda lib: grid(lib, 3, 4).index_fill(0, lib.tensor([0]), lib.tensor([1.0])),
    "take_out_of_range": lambda lib: lib.take(grid(lib, 2, 2), lib.tensor([4])),
    "gather_out_of_range": lambda lib: lib.gather(grid(lib, 2, 2), 1, lib.tensor([[2]])),
    "gather_dim_mismatch": lambda lib: lib.gather(grid(lib, 2, 2), 1, lib.tensor([0])),
}


@pytest.mark.parametrize("name", sorted(INDEX_OP_ERRORS))
def test_index_op_errors(name):
    raises_as_torch(INDEX_OP_ERRORS[name])


# --- take, take_along_dim, gather, scatter ------------------------------------------------------

GATHERS = {
    "take": lambda lib: lib.take(grid(lib, 3, 4), lib.tensor([[0, -1], [5, 11]])),
    "take_method_0d": lambda lib: grid(lib, 3, 4).take(lib.tensor(7)),
    "take_along_dim": lambda lib: lib.take_along_dim(grid(lib, 3, 4), lib.tensor([[0], [3], [1]]), dim=1),
    "take_along_dim_neg": lambda lib: lib.take_along_dim(grid(lib, 3, 4), lib.tensor([[2, 0, 1, 1]]), dim=-2),
    "take_along_dim_argsort": lambda lib: lib.take_along_dim(-grid(lib, 3, 4), grid(lib, 3, 4).argsort(dim=1), dim=1),
    "take_along_dim_no_dim": lambda lib: lib.take_along_dim(grid(lib, 3, 4), lib.tensor([11, 0])),
    "take_along_dim_broadcast": lambda lib: lib.take_along_dim(grid(lib, 3, 4), lib.tensor([[1]]), dim=1),
    "gather_neg_dim": lambda lib: lib.gather(grid(lib, 3, 4), -1, lib.tensor([[0, 0], [3, 2], [1, 1]])),
    "gather_int32_index": lambda lib: lib.gather(grid(lib, 2, 2), 1, lib.tensor([[1], [0]], dtype=lib.int32)),
    "gather_smaller_index": lambda lib: grid(lib, 3, 4).gather(0, lib.tensor([[2, 1]])),
    "scatter_neg_dim": lambda lib: lib.zeros(3, 4).scatter(-1, lib.tensor([[1], [3], [0]]), grid(lib, 3, 1) + 1),
    "scatter_scalar_value": lambda lib: lib.zeros(3, 4).scatter_(0, lib.tensor([[2, 1, 0, 2]]), 5.0),
    "scatter_add_dup": lambda lib: lib.zeros(5).scatter_add(0, lib.tensor([0, 0, 4, 4, 4]), lib.ones(5)),
    "scatter_reduce_sum": lambda lib: lib.ones(3).scatter_reduce(0, lib.tensor([0, 0, 2]), lib.tensor([1.0, 2.0, 3.0]), "sum"),
    "scatter_reduce_mean_exclude": lambda lib: lib.ones(3).scatter_reduce(0, lib.tensor([0, 0, 2]), lib.tensor([1.0, 2.0, 3.0]), "mean", include_self=False),
    "scatter_reduce_amax": lambda lib: lib.zeros(2).scatter_reduce(-1, lib.tensor([1, 1]), lib.tensor([-3.0, -4.0]), "amax"),
    "scatter_reduce_multiply_kw": lambda lib: lib.full((3,), 2.0).scatter_(0, lib.tensor([0, 0]), lib.tensor([3.0, 4.0]), reduce="multiply"),
    "one_hot_idiom": lambda lib: lib.zeros(4, 3).scatter_(1, lib.tensor([[0], [2], [1], [2]]), 1),
}


@pytest.mark.parametrize("name", sorted(GATHERS))
def test_gather_scatter(name):
    same_in_both(GATHERS[name])


# --- nonzero, argwhere, where -------------------------------------------------------------------

QUERIES = {
    "nonzero": lambda lib: lib.nonzero(lib.tensor([[0, 1], [2, 0]])),
    "nonzero_as_tuple": lambda lib: list(lib.nonzero(lib.tensor([[0, 1], [2, 0]]), as_tuple=True)),
    "nonzero_as_tuple_is_tuple": lambda lib: type(lib.tensor([1, 0]).nonzero(as_tuple=True)).__name__,
    "nonzero_0d": lambda lib: lib.tensor(3).nonzero(),
    "nonzero_0d_as_tuple": lambda lib: list(lib.tensor(3).nonzero(as_tuple=True)),
    "nonzero_0d_zero_as_tuple": lambda lib: list(lib.tensor(0.0).nonzero(as_tuple=True)),
    "nonzero_empty": lambda lib: lib.zeros(0, 3).nonzero(),
    "nonzero_all_zero": lambda lib: lib.zeros(2, 3).nonzero(),
    "nonzero_bool": lambda lib: lib.tensor([True, False, True]).nonzero(),
    "nonzero_nan": lambda lib: lib.tensor([0.0, float("nan"), -0.0]).nonzero(),
    "argwhere": lambda lib: lib.argwhere(lib.tensor([[0, 1], [2, 0]])),
    "argwhere_0d": lambda lib: lib.argwhere(lib.tensor(1.0)),
    "where_one_arg": lambda lib: list(lib.where(lib.tensor([[0, 1], [2, 0]]))),
    "where_one_arg_type": lambda lib: type(lib.where(lib.tensor([0, 1]))).__name__,
    "where_scalars": lambda lib: lib.where(lib.tensor([True, False]), 1.0, 0.0),
    "where_int_scalars": lambda lib: lib.where(lib.tensor([True, False]), 1, 0),
    "where_int_and_float_scalars": lambda lib: lib.where(lib.tensor([True, False]), 1, 0.5),
    "where_tensor_and_scalar": lambda lib: lib.where(lib.tensor([True, False]), lib.tensor([1, 2], dtype=lib.int32), 0.5),
    "where_float64_tensor_and_scalar": lambda lib: lib.where(lib.tensor([True, False]), lib.tensor([1.0, 2.0], dtype=lib.float64), 7),
    "where_half_and_float": lambda lib: lib.where(lib.tensor([True, False]), lib.ones(2, dtype=lib.float16), lib.zeros(2)),
    "where_int_tensor_and_bool_scalar": lambda lib: lib.where(lib.tensor([True, False]), lib.tensor([3, 4]), True),
    "where_broadcast": lambda lib: lib.where(lib.tensor([[True], [False]]), lib.tensor([1.0, 2.0, 3.0]), lib.tensor(0.0)),
    "where_method": lambda lib: grid(lib, 2, 2).where(grid(lib, 2, 2) > 1, -1.0),
    "where_non_bool_condition_float": lambda lib: lib.where(lib.tensor([1.0, 0.0]), 1.0, 2.0),
    "where_uint8_condition": lambda lib: lib.where(lib.tensor([1, 0], dtype=lib.uint8), 1.0, 2.0),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_queries(name):
    expected_kind, expected = outcome(lambda: plain(QUERIES[name](torch)))
    actual_kind, actual = outcome(lambda: plain(QUERIES[name](chainrule)))
    assert actual_kind == expected_kind, (actual, expected)
    if expected_kind == "raises":
        assert issubclass(actual, expected), (actual, expected)
    else:
        assert_same(actual, expected)


# --- factories ----------------------------------------------------------------------------------

FACTORIES = {
    "arange_int": lambda lib: lib.arange(5),
    "arange_float": lambda lib: lib.arange(5.0),
    "arange_start_end": lambda lib: lib.arange(2, 7),
    "arange_float_step": lambda lib: lib.arange(0, 1, 0.1),
    "arange_float_step_rounding": lambda lib: lib.arange(1, 2.5, 0.5),
    "arange_float_step_3": lambda lib: lib.arange(0, 0.9, 0.3),
    "arange_int_endpoints_float_step": lambda lib: lib.arange(0, 3, 0.7),
    "arange_negative_step": lambda lib: lib.arange(5, 0, -1),
    "arange_symmetric_float_step": lambda lib: lib.arange(-1, 1, 0.2),
    "arange_float64_step": lambda lib: lib.arange(0, 1, 0.1, dtype=lib.float64),
    "arange_len_len": lambda lib: lib.arange(0, 10, 3),
    "arange_int_tensor_bounds": lambda lib: lib.arange(lib.tensor(1), lib.tensor(7), lib.tensor(2)),
    "arange_float_tensor_end": lambda lib: lib.arange(lib.tensor(2.5)),
    "arange_negative_float_step": lambda lib: lib.arange(1.0, -1.0, -0.5),
    "arange_empty": lambda lib: lib.arange(0),
    "arange_start_equals_end": lambda lib: lib.arange(3, 3),
    "arange_dtype": lambda lib: lib.arange(5, dtype=lib.float64),
    "arange_float_dtype_int": lambda lib: lib.arange(0.5, 4.5, dtype=lib.int64),
    "arange_tensor_end": lambda lib: lib.arange(lib.tensor(4)),
    "arange_kw_end": lambda lib: lib.arange(end=3),
    "linspace": lambda lib: lib.linspace(0, 1, 5),
    "linspace_steps_1": lambda lib: lib.linspace(2, 7, 1),
    "linspace_steps_0": lambda lib: lib.linspace(2, 7, 0),
    "linspace_int_dtype": lambda lib: lib.linspace(0, 10, 4, dtype=lib.int64),
    "linspace_reversed": lambda lib: lib.linspace(1, -1, 3),
    "linspace_kw": lambda lib: lib.linspace(start=0, end=2, steps=3),
    "linspace_tensor_bounds": lambda lib: lib.linspace(lib.tensor(0.0), lib.tensor(1.0), 3),
    "linspace_float64": lambda lib: lib.linspace(0, 1, 7, dtype=lib.float64),
    "linspace_int_dtype_negative": lambda lib: lib.linspace(-5, 5, 4, dtype=lib.int32),
    "logspace": lambda lib: lib.logspace(0, 2, 3),
    "logspace_base2": lambda lib: lib.logspace(0, 3, 4, base=2),
    "logspace_steps_1": lambda lib: lib.logspace(1, 3, 1),
    "logspace_steps_0": lambda lib: lib.logspace(1, 3, 0),
    "full_int": lambda lib: lib.full((2, 2), 7),
    "full_float": lambda lib: lib.full((2,), 1.5),
    "full_bool": lambda lib: lib.full((3,), True),
    "full_dtype": lambda lib: lib.full([2], 3, dtype=lib.float16),
    "full_list_size": lambda lib: lib.full([2, 1], -1),
    "full_0d_size": lambda lib: lib.full((), 4.0),
    "full_like_int_fill_float": lambda lib: lib.full_like(lib.zeros(2, dtype=lib.int32), 2.7),
    "zeros_tuple": lambda lib: lib.zeros((2, 3)),
    "zeros_varargs": lambda lib: lib.zeros(2, 3),
    "zeros_size": lambda lib: lib.zeros(lib.Size([2, 3])),
    "zeros_list": lambda lib: lib.zeros([2, 3]),
    "zeros_kw_size": lambda lib: lib.zeros(size=(1, 2)),
    "zeros_0d": lambda lib: lib.zeros(()),
    "zeros_zero_dim": lambda lib: lib.zeros(2, 0, 3),
    "ones_dtype_int": lambda lib: lib.ones(3, dtype=lib.int8),
    "empty_0": lambda lib: lib.empty(0).shape,
    "empty_dtype": lambda lib: (lib.empty(2, 3, dtype=lib.int16).dtype, tuple(lib.empty(2, 3).shape)),
    "eye": lambda lib: lib.eye(3),
    "eye_rect": lambda lib: lib.eye(2, 4),
    "eye_rect_tall": lambda lib: lib.eye(4, 2, dtype=lib.int64),
    "eye_0": lambda lib: lib.eye(0),
    "eye_kw_m": lambda lib: lib.eye(3, m=1),
    "tril_indices": lambda lib: lib.tril_indices(3, 3),
    "tril_indices_offset": lambda lib: lib.tril_indices(4, 3, 1),
    "tril_indices_neg_offset": lambda lib: lib.tril_indices(3, 4, offset=-1),
    "triu_indices": lambda lib: lib.triu_indices(3, 3),
    "triu_indices_offset": lambda lib: lib.triu_indices(3, 5, 2),
    "triu_indices_neg_offset": lambda lib: lib.triu_indices(4, 4, offset=-2),
    "tril_indices_empty": lambda lib: lib.tril_indices(0, 0),
    "triu_indices_dtype": lambda lib: lib.triu_indices(2, 2, dtype=lib.int32),
    "meshgrid_ij": lambda lib: list(lib.meshgrid(lib.arange(3), lib.arange(2), indexing="ij")),
    "meshgrid_xy": lambda lib: list(lib.meshgrid(lib.arange(3), lib.arange(2), indexing="xy")),
    "meshgrid_default": lambda lib: list(lib.meshgrid(lib.arange(3), lib.arange(2))),
    "meshgrid_list_arg": lambda lib: list(lib.meshgrid([lib.arange(2), lib.arange(3)], indexing="ij")),
    "meshgrid_three_xy": lambda lib: list(lib.meshgrid(lib.arange(2), lib.arange(3), lib.arange(4), indexing="xy")),
    "meshgrid_0d": lambda lib: list(lib.meshgrid(lib.tensor(1), lib.arange(2), indexing="ij")),
    "cartesian_prod": lambda lib: lib.cartesian_prod(lib.tensor([1, 2]), lib.tensor([3, 4, 5])),
    "cartesian_prod_one": lambda lib: lib.cartesian_prod(lib.tensor([1, 2])),
    "cartesian_prod_three": lambda lib: lib.cartesian_prod(lib.arange(2), lib.arange(2), lib.arange(2)),
    "combinations": lambda lib: lib.combinations(lib.tensor([1, 2, 3, 4])),
    "combinations_r3": lambda lib: lib.combinations(lib.tensor([1.0, 2.0, 3.0, 4.0]), r=3),
    "combinations_replacement": lambda lib: lib.combinations(lib.tensor([1, 2, 3]), with_replacement=True),
    "combinations_r_too_big": lambda lib: lib.combinations(lib.tensor([1, 2]), r=3),
    "combinations_r0": lambda lib: lib.combinations(lib.tensor([1, 2]), r=0),
    "randint_high_only": lambda lib: lib.randint(10, (6,)),
    "randint_low_high": lambda lib: lib.randint(3, 10, (2, 3)),
    "randint_dtype": lambda lib: lib.randint(0, 2, (4,), dtype=lib.bool),
    "randint_size_kw": lambda lib: lib.randint(5, size=(3,)),
    "randint_like": lambda lib: lib.randint_like(lib.zeros(3), 4),
    "randn_generator": lambda lib: lib.randn(2, 3, generator=lib.Generator().manual_seed(5)),
    "rand_generator_tuple": lambda lib: lib.rand((4,), generator=lib.Generator().manual_seed(3)),
    "randn_dtype": lambda lib: lib.randn(3, dtype=lib.float64),
    "randperm": lambda lib: lib.randperm(6),
    "new_tensor": lambda lib: lib.zeros(2, dtype=lib.float64).new_tensor([1, 2]),
    "new_full": lambda lib: lib.zeros(2, dtype=lib.int32).new_full((2, 2), 3.7),
    "new_zeros_varargs": lambda lib: lib.zeros(2, dtype=lib.float16).new_zeros(2, 3),
    "new_ones_size": lambda lib: lib.zeros(2, dtype=lib.int8).new_ones(lib.Size([3])),
    "new_empty_shape": lambda lib: tuple(lib.zeros(2, dtype=lib.int8).new_empty((0, 2)).shape),
    "zeros_like_dtype": lambda lib: lib.zeros_like(lib.ones(2, 2, dtype=lib.int64), dtype=lib.float32),
    "ones_like_bool": lambda lib: lib.ones_like(lib.zeros(3, dtype=lib.bool)),
    "full_like_bool": lambda lib: lib.full_like(lib.zeros(2), True),
    "empty_like_shape_dtype": lambda lib: (tuple(lib.empty_like(lib.zeros(2, 3, dtype=lib.int16)).shape), lib.empty_like(lib.zeros(1, dtype=lib.int16)).dtype),
    "rand_like": lambda lib: lib.rand_like(lib.zeros(2, 2, dtype=lib.float64)),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factories(name):
    same_in_both(FACTORIES[name])


FACTORY_ERRORS = {
    "arange_zero_step": lambda lib: lib.arange(0, 5, 0),
    "arange_wrong_sign_step": lambda lib: lib.arange(0, 5, -1),
    "linspace_negative_steps": lambda lib: lib.linspace(0, 1, -1),
    "linspace_no_steps": lambda lib: lib.linspace(0, 1),
    "zeros_negative": lambda lib: lib.zeros(-1),
    "zeros_float_size": lambda lib: lib.zeros(2.0),
    "full_no_fill": lambda lib: lib.full((2,)),
    "full_int_size": lambda lib: lib.full(2, 1.0),
    "eye_negative": lambda lib: lib.eye(-1),
    "randint_no_size": lambda lib: lib.randint(5),
    "randint_empty_range": lambda lib: lib.randint(5, 5, (2,)),
    "meshgrid_bad_indexing": lambda lib: lib.meshgrid(lib.arange(2), indexing="xx"),
    "meshgrid_2d_input": lambda lib: lib.meshgrid(lib.zeros(2, 2), indexing="ij"),
    "tensor_ragged": lambda lib: lib.tensor([[1, 2], [3]]),
    "meshgrid_mixed_dtypes": lambda lib: lib.meshgrid(lib.arange(2), lib.arange(3.0), indexing="ij"),
    "tensor_string": lambda lib: lib.tensor(["a"]),
    "tensor_multi_element_tensor_in_list": lambda lib: lib.tensor([lib.tensor([1, 2]), lib.tensor([3, 4])]),
}


@pytest.mark.parametrize("run", list(FACTORY_ERRORS.values()), ids=list(FACTORY_ERRORS))
def test_factory_errors(run):
    raises_as_torch(run)


def test_meshgrid_warns_without_indexing():
    # PyTorch warns once per process (TORCH_WARN_ONCE), so only the category and text are compared.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chainrule.meshgrid(chainrule.arange(2), chainrule.arange(3))
    assert [each.category for each in caught] == [UserWarning]
    assert "indexing argument" in str(caught[0].message)


def test_meshgrid_with_indexing_does_not_warn():
    assert caught_warnings(lambda: chainrule.meshgrid(chainrule.arange(2), chainrule.arange(3), indexing="ij")) == []


# --- torch.tensor, as_tensor, from_numpy --------------------------------------------------------

TENSOR_DATA = {
    "bool_int": [True, 2],
    "bool_float": [False, 1.5],
    "int_float": [1, 2.0],
    "bool_int_float": [True, 1, 2.5],
    "bool_only": [True, False],
    "nested_tuples": ((1, 2), (3, 4)),
    "tuple_of_lists": ([1.0], [2.0]),
    "empty": [],
    "empty_nested": [[], []],
    "scalar_int": 3,
    "scalar_float": 3.0,
    "scalar_bool": True,
    "big_int": [2**40],
    "numpy_scalars": [np.float64(1.0), np.int32(2)],
    "numpy_float32_scalars": [np.float32(1.0), np.float32(2.0)],
    "range": range(4),
}


@pytest.mark.parametrize("name", sorted(TENSOR_DATA))
def test_tensor_dtype_inference(name):
    same_in_both(lambda lib: lib.tensor(TENSOR_DATA[name]))


TENSOR_OF_TENSORS = {
    "list_of_0d_int": lambda lib: lib.tensor([lib.tensor(1), lib.tensor(2)]),
    "list_of_0d_float": lambda lib: lib.tensor([lib.tensor(1.5), lib.tensor(2.5)]),
    "list_of_0d_float64": lambda lib: lib.tensor([lib.tensor(1.5, dtype=lib.float64), lib.tensor(2.5, dtype=lib.float64)]),
    "list_of_0d_mixed": lambda lib: lib.tensor([lib.tensor(1), lib.tensor(2.5)]),
    "list_of_0d_and_python": lambda lib: lib.tensor([lib.tensor(1), 2.5]),
    "list_of_0d_int_and_python_int": lambda lib: lib.tensor([lib.tensor(1, dtype=lib.int8), 2]),
    "list_of_1_element_1d": lambda lib: lib.tensor([lib.tensor([1.0]), lib.tensor([2.0])]),
    "tensor_of_a_tensor": lambda lib: lib.tensor(lib.tensor([1, 2])),
    "tensor_of_a_tensor_dtype": lambda lib: lib.tensor(lib.tensor([1, 2]), dtype=lib.float32),
    "tensor_numpy_array": lambda lib: lib.tensor(np.array([1, 2], dtype=np.int16)),
    "tensor_list_of_numpy_arrays": lambda lib: lib.tensor([np.array([1.0, 2.0]), np.array([3.0, 4.0])]),
    "tensor_dtype_truncates": lambda lib: lib.tensor([1.7, -1.7], dtype=lib.int64),
    "as_tensor_list": lambda lib: lib.as_tensor([1, 2.0]),
    "as_tensor_dtype": lambda lib: lib.as_tensor([1, 2], dtype=lib.float64),
}


@pytest.mark.parametrize("name", sorted(TENSOR_OF_TENSORS))
def test_tensor_of_tensors(name):
    same_in_both(TENSOR_OF_TENSORS[name])


def test_tensor_of_a_tensor_warns():
    expected = caught_warnings(lambda: torch.tensor(torch.ones(2)))
    actual = caught_warnings(lambda: chainrule.tensor(chainrule.ones(2)))
    assert UserWarning in expected
    assert UserWarning in actual, actual


def _sharing(lib, make, dtype=None):
    array = np.arange(4, dtype=np.float32)
    t = make(lib, array)
    array[0] = 100.0
    t[1] = -7.0
    return float(t[0]), float(array[1])


SHARING = {
    "as_tensor": lambda lib, a: lib.as_tensor(a),
    "as_tensor_same_dtype": lambda lib, a: lib.as_tensor(a, dtype=lib.float32),
    "as_tensor_other_dtype": lambda lib, a: lib.as_tensor(a, dtype=lib.float64),
    "from_numpy": lambda lib, a: lib.from_numpy(a),
    "tensor_copies": lambda lib, a: lib.tensor(a),
    "asarray": lambda lib, a: lib.asarray(a),
}


@pytest.mark.parametrize("name", sorted(SHARING))
def test_numpy_memory_sharing(name):
    assert _sharing(chainrule, SHARING[name]) == _sharing(torch, SHARING[name])


def test_as_tensor_of_a_tensor_is_the_same_object():
    for lib in (torch, chainrule):
        t = lib.ones(2)
        assert lib.as_tensor(t) is t, lib.__name__
        assert lib.as_tensor(t, dtype=lib.float32) is t, lib.__name__


def test_from_numpy_of_a_non_writable_array_warns():
    def make(lib):
        array = np.arange(3.0)
        array.flags.writeable = False
        return lambda: lib.from_numpy(array)

    expected = caught_warnings(make(torch))
    actual = caught_warnings(make(chainrule))
    assert UserWarning in expected
    assert UserWarning in actual, actual


def test_from_numpy_errors():
    raises_as_torch(lambda lib: lib.from_numpy([1, 2]))
    raises_as_torch(lambda lib: lib.from_numpy(np.array(["a"])))


def test_from_numpy_dtypes():
    for dtype in (np.float16, np.float64, np.int8, np.uint8, np.int32, np.bool_):
        same_in_both(lambda lib: lib.from_numpy(np.zeros(2, dtype=dtype)).dtype)


# --- the default dtype --------------------------------------------------------------------------


def _with_default_float64(lib, run):
    previous = lib.get_default_dtype()
    lib.set_default_dtype(lib.float64)
    try:
        return run(lib)
    finally:
        lib.set_default_dtype(previous)


DEFAULT_DTYPE_CASES = {
    "arange_float": lambda lib: lib.arange(5.0),
    "arange_int": lambda lib: lib.arange(5),
    "arange_float_step": lambda lib: lib.arange(0, 1, 0.25),
    "tensor_float_list": lambda lib: lib.tensor([1.0]),
    "tensor_int_list": lambda lib: lib.tensor([1]),
    "zeros": lambda lib: lib.zeros(2),
    "full_float": lambda lib: lib.full((2,), 1.5),
    "full_int": lambda lib: lib.full((2,), 1),
    "linspace": lambda lib: lib.linspace(0, 1, 3),
    "randn": lambda lib: lib.randn(2),
    "eye": lambda lib: lib.eye(2),
    "float32_tensor_plus_python_float": lambda lib: lib.ones(2, dtype=lib.float32) + 1.5,
    "int_tensor_times_python_float": lambda lib: lib.ones(2, dtype=lib.int64) * 1.5,
    "where_scalars": lambda lib: lib.where(lib.tensor([True]), 1.0, 0.0),
    "get_default_dtype": lambda lib: lib.get_default_dtype(),
}


@pytest.mark.parametrize("name", sorted(DEFAULT_DTYPE_CASES))
def test_default_dtype_float64(name):
    torch.manual_seed(0)
    expected = plain(_with_default_float64(torch, DEFAULT_DTYPE_CASES[name]))
    chainrule.manual_seed(0)
    actual = plain(_with_default_float64(chainrule, DEFAULT_DTYPE_CASES[name]))
    assert_same(actual, expected)
    assert chainrule.get_default_dtype() == chainrule.float32
    assert chainrule.tensor([1.0]).dtype == chainrule.float32


def test_set_default_dtype_refuses_integer_types():
    def run(lib):
        try:
            lib.set_default_dtype(lib.int64)
        finally:
            lib.set_default_dtype(lib.float32)

    raises_as_torch(run)
