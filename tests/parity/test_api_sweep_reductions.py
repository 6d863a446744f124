"""A sweep of reductions, statistics and elementwise math against PyTorch (the oracle): result dtypes of
``sum`` / ``prod`` / ``cumsum`` on integer and bool inputs, ``dtype=`` / ``keepdim`` / dim tuples and
negative dims, empty and 0-d inputs, ``std`` / ``var`` corrections, order statistics (``median``,
``kthvalue``, ``mode``, ``topk``, ``sort``, ``unique``, ``cummax``), ``quantile`` interpolation modes,
norms, ``bincount`` / ``histc``, ``clamp`` / ``round`` / ``fmod`` / ``remainder`` / ``lerp``, and the
gradients of each differentiable one (ties included: ``amax`` splits evenly, ``max(dim)`` does not).

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences
found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import bug, outcome, raises_as_torch


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
    elif isinstance(expected, float) and math.isnan(expected):
        assert isinstance(actual, float) and math.isnan(actual), actual
    else:
        assert actual == expected, (actual, expected)


def same_in_both(run, rtol=1e-5, atol=1e-6):
    """PyTorch's outcome (value, or exception type when it raises) is chainrule's too."""
    torch.manual_seed(0)
    kind, expected = outcome(lambda: run(torch))
    if kind == "raises":
        raises_as_torch(run)
        return
    chainrule.manual_seed(0)
    kind, actual = outcome(lambda: run(chainrule))
    assert kind == "ok", f"PyTorch returns {plain(expected)!r}; chainrule raises {actual.__name__}"
    assert_same(plain(actual), plain(expected), rtol, atol)


def cases(table, xfails=None):
    xfails = xfails or {}
    return [pytest.param(name, marks=bug(xfails[name]) if name in xfails else (), id=name) for name in table]


def weights_for(lib, out):
    """Distinct upstream gradients, so a gradient sent to the wrong element shows."""
    return lib.linspace(1.0, 2.0, max(out.numel(), 1), dtype=out.dtype)[: out.numel()].reshape(out.shape)


def grad_of(lib, fn, data, dtype="float64"):
    x = lib.tensor(data, dtype=getattr(lib, dtype), requires_grad=True)
    out = fn(lib, x)
    if isinstance(out, (tuple, list)):
        out = out[0]
    (out * weights_for(lib, out)).sum().backward()
    return out, x.grad


F = [[1.0, -2.0, 3.0], [4.0, 0.5, -6.0]]
I32 = [[1, -2, 3], [4, 5, -6]]


def t(lib, data, dtype="float32"):
    return lib.tensor(data, dtype=getattr(lib, dtype))


# --- sum / mean / prod ------------------------------------------------------------------------

SUM_MEAN_PROD = {
    "sum_int32_is_int64": lambda L: t(L, I32, "int32").sum(),
    "sum_uint8_is_int64": lambda L: t(L, [200, 100], "uint8").sum(),
    "sum_int8_dtype_int8_wraps": lambda L: t(L, [100, 100], "int8").sum(dtype=L.int8),
    "sum_bool_is_int64": lambda L: t(L, [True, False, True], "bool").sum(),
    "sum_bool_dim": lambda L: t(L, [[True, False], [True, True]], "bool").sum(0),
    "sum_float_dtype_float64": lambda L: t(L, F).sum(dtype=L.float64),
    "sum_int_dtype_float": lambda L: t(L, I32, "int32").sum(1, dtype=L.float32),
    "sum_dim_tuple_keepdim": lambda L: L.arange(24.0).reshape(2, 3, 4).sum((0, -1), keepdim=True),
    "sum_dim_list_negative": lambda L: L.arange(24.0).reshape(2, 3, 4).sum([-1, -2]),
    "sum_dim_keyword_dim": lambda L: L.sum(t(L, F), dim=-1, keepdim=True),
    "sum_dim_repeated_raises": lambda L: t(L, F).sum((0, 0)),
    "sum_dim_out_of_range_raises": lambda L: t(L, F).sum(2),
    "sum_0d_dim0": lambda L: L.tensor(3.0).sum(0),
    "sum_0d_dim_minus1_keepdim": lambda L: L.tensor(3.0).sum(-1, keepdim=True),
    "sum_empty": lambda L: L.zeros(0).sum(),
    "sum_empty_int": lambda L: L.zeros(0, dtype=L.int32).sum(),
    "sum_empty_dim0": lambda L: L.zeros(0, 3).sum(0),
    "sum_empty_dim1": lambda L: L.zeros(0, 3).sum(1),
    "prod_empty": lambda L: L.zeros(0).prod(),
    "prod_int32_is_int64": lambda L: t(L, I32, "int32").prod(),
    "prod_bool_is_int64": lambda L: t(L, [True, True], "bool").prod(),
    "prod_dim_keepdim": lambda L: t(L, F).prod(1, keepdim=True),
    "prod_dim_negative": lambda L: t(L, F).prod(-2),
    "prod_dim_tuple_raises": lambda L: t(L, F).prod((0, 1)),
    "prod_dtype_float64": lambda L: t(L, I32, "int32").prod(dtype=L.float64),
    "mean_int_raises": lambda L: t(L, I32, "int32").mean(),
    "mean_bool_raises": lambda L: t(L, [True], "bool").mean(),
    "mean_int_dtype_float": lambda L: t(L, I32, "int32").mean(dtype=L.float32),
    "mean_empty_nan": lambda L: L.zeros(0).mean(),
    "mean_empty_dim0": lambda L: L.zeros(0, 3).mean(0),
    "mean_dim_tuple": lambda L: L.arange(24.0).reshape(2, 3, 4).mean((0, 2)),
    "mean_float16": lambda L: t(L, F, "float16").mean(),
    "mean_float16_dtype": lambda L: t(L, F, "float16").mean(dtype=L.float32),
    "nansum": lambda L: t(L, [[1.0, float("nan")], [float("nan"), float("nan")]]).nansum(1),
    "nansum_int": lambda L: t(L, I32, "int32").nansum(),
    "nanmean": lambda L: t(L, [[1.0, float("nan")], [float("nan"), float("nan")]]).nanmean(1),
    "nanmean_int_raises": lambda L: t(L, I32, "int32").nanmean(),
    "count_nonzero": lambda L: L.count_nonzero(t(L, [[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])),
    "count_nonzero_dim_tuple": lambda L: L.count_nonzero(t(L, [[[0, 1], [2, 0]]], "int32"), dim=(0, 2)),
    "count_nonzero_bool_dim": lambda L: t(L, [[True, False], [True, True]], "bool").count_nonzero(dim=0),
    "all_dim": lambda L: t(L, F).all(dim=1),
    "all_dim_tuple_keepdim": lambda L: L.ones(2, 3, 4).all(dim=(0, 2), keepdim=True),
    "any_uint8_is_uint8": lambda L: t(L, [0, 3], "uint8").any(),
    "all_uint8_dim_is_uint8": lambda L: t(L, [[0, 3], [1, 1]], "uint8").all(1),
    "any_empty_false": lambda L: L.zeros(0).any(),
    "all_empty_true": lambda L: L.zeros(0).all(),
    "sum_tensor_method_keyword_axis": lambda L: t(L, F).sum(axis=0),
}


@pytest.mark.parametrize("name", cases(SUM_MEAN_PROD))
def test_sum_mean_prod(name):
    same_in_both(SUM_MEAN_PROD[name])


# --- max / min / argmax / amax / aminmax ------------------------------------------------------

TIES = [[3.0, 1.0, 3.0], [2.0, 2.0, 0.0]]

MAX_MIN = {
    "max_full": lambda L: t(L, F).max(),
    "max_dim_first_tie": lambda L: t(L, TIES).max(1),
    "min_dim_first_tie": lambda L: t(L, TIES).min(1, keepdim=True),
    "max_dim_result_access": lambda L: (lambda r: (type(r).__name__, r.values, r.indices, r[0], len(r)))(t(L, TIES).max(dim=-1)),
    "max_dim_repr": lambda L: repr(t(L, TIES).max(1)).replace("chainrule.", "torch."),
    "argmax_first_tie": lambda L: t(L, TIES).argmax(1),
    "argmin_full_flat": lambda L: t(L, TIES).argmin(),
    "argmax_keepdim": lambda L: t(L, TIES).argmax(dim=0, keepdim=True),
    "max_nan_propagates": lambda L: t(L, [1.0, float("nan"), 3.0]).max(0),
    "argmax_nan": lambda L: t(L, [1.0, float("nan"), 3.0]).argmax(),
    "max_int_dim": lambda L: t(L, I32, "int32").max(0),
    "max_bool": lambda L: t(L, [False, True], "bool").max(),
    "max_empty_raises": lambda L: L.zeros(0).max(),
    "max_empty_dim_raises": lambda L: L.zeros(0, 3).max(0),
    "max_empty_other_dim_ok": lambda L: L.zeros(0, 3).max(1),
    "argmax_empty_raises": lambda L: L.zeros(0).argmax(),
    "amax_empty_raises": lambda L: L.zeros(0).amax(),
    "max_0d_dim0": lambda L: L.tensor(2.0).max(0),
    "amax_dim_tuple": lambda L: L.arange(24.0).reshape(2, 3, 4).amax((0, -1)),
    "amin_keepdim": lambda L: t(L, F).amin(-1, keepdim=True),
    "amax_default_all": lambda L: t(L, F).amax(),
    "maximum_two": lambda L: L.maximum(t(L, F), t(L, [[0.0], [1.0]])),
    "maximum_scalar_other_raises": lambda L: L.maximum(t(L, [1.0, -1.0]), 0.5),
    "maximum_nan": lambda L: L.maximum(t(L, [1.0, float("nan")]), t(L, [float("nan"), 0.0])),
    "fmax_ignores_nan": lambda L: L.fmax(t(L, [1.0, float("nan")]), t(L, [float("nan"), 0.0])),
    "minimum_promotes": lambda L: L.minimum(t(L, [1, 5], "int32"), t(L, [2.5, 0.5])),
    "max_of_two_tensors": lambda L: L.max(t(L, [1.0, 5.0]), t(L, [3.0, 2.0])),
    "min_of_two_tensors": lambda L: L.min(t(L, [1.0, 5.0]), t(L, [3.0, 2.0])),
    "aminmax": lambda L: L.aminmax(t(L, F)),
    "aminmax_dim_keepdim": lambda L: L.aminmax(t(L, F), dim=1, keepdim=True),
    "aminmax_result_access": lambda L: (lambda r: (type(r).__name__, r.min, r.max, r[1]))(L.aminmax(t(L, F))),
    "aminmax_empty_raises": lambda L: L.aminmax(L.zeros(0)),
    "aminmax_int": lambda L: t(L, I32, "int32").aminmax(),
}


@pytest.mark.parametrize("name", cases(MAX_MIN))
def test_max_min(name):
    same_in_both(MAX_MIN[name])


# --- std / var --------------------------------------------------------------------------------

STD_VAR = {
    "std_default": lambda L: t(L, F).std(),
    "std_correction0": lambda L: t(L, F).std(correction=0),
    "std_correction2_dim": lambda L: t(L, F).std(1, correction=2),
    "var_unbiased_false": lambda L: t(L, F).var(unbiased=False),
    "var_dim_unbiased_positional": lambda L: t(L, F).var(0, False),
    "var_dim_tuple_keepdim": lambda L: L.arange(24.0).reshape(2, 3, 4).var((0, 2), keepdim=True),
    "var_correction_float": lambda L: t(L, F).var(correction=0.5),
    "std_single_element_nan": lambda L: L.tensor([1.0]).std(),
    "var_empty_nan": lambda L: L.zeros(0).var(),
    "std_int_raises": lambda L: t(L, I32, "int32").std(),
    "std_mean": lambda L: L.std_mean(t(L, F), dim=1),
    "var_mean_correction0": lambda L: L.var_mean(t(L, F), 0, correction=0, keepdim=True),
    "var_mean_unbiased_false": lambda L: L.var_mean(t(L, F), unbiased=False),
    "std_mean_is_tuple": lambda L: type(L.std_mean(t(L, F))).__name__,
    "var_float64": lambda L: t(L, F, "float64").var(),
    "var_0d": lambda L: L.tensor(2.0).var(correction=0),
    "std_unbiased_and_correction_raises": lambda L: L.std(t(L, F), unbiased=True, correction=0),
    "var_unbiased_and_correction_raises": lambda L: t(L, F).var(0, unbiased=False, correction=1),
}


@pytest.mark.parametrize("name", cases(STD_VAR))
def test_std_var(name):
    same_in_both(STD_VAR[name])


@pytest.mark.parametrize("lib_name", ["std", "var"])
def test_std_var_single_element_warns(lib_name):
    def warned(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            getattr(lib.tensor([1.0]), lib_name)()
        return sorted({w.category.__name__ for w in caught})

    assert warned(chainrule) == warned(torch)


# --- order statistics --------------------------------------------------------------------------

V = [[5.0, 1.0, 4.0, 2.0], [0.0, -3.0, 7.0, 6.0]]

ORDER = {
    "median_full_even_lower": lambda L: t(L, [4.0, 1.0, 3.0, 2.0]).median(),
    "median_dim": lambda L: t(L, V).median(1),
    "median_dim_keepdim": lambda L: t(L, V).median(dim=0, keepdim=True),
    "median_nan": lambda L: t(L, [1.0, float("nan"), 2.0]).median(),
    "median_dim_nan_index": lambda L: t(L, [1.0, float("nan"), 2.0]).median(0),
    "nanmedian": lambda L: t(L, [1.0, float("nan"), 2.0, 5.0]).nanmedian(),
    "nanmedian_dim": lambda L: t(L, [[1.0, float("nan"), 2.0], [float("nan")] * 3]).nanmedian(1),
    "median_int": lambda L: t(L, I32, "int32").median(1),
    "median_empty_nan": lambda L: L.zeros(0).median(),
    "median_empty_dim_raises": lambda L: L.zeros(0, 2).median(0),
    "median_result_access": lambda L: (lambda r: (type(r).__name__, r.values, r.indices))(t(L, V).median(1)),
    "kthvalue": lambda L: t(L, V).kthvalue(2, 1),
    "kthvalue_default_last_dim_keepdim": lambda L: t(L, V).kthvalue(1, keepdim=True),
    "kthvalue_k_too_big_raises": lambda L: t(L, V).kthvalue(5),
    "kthvalue_k0_raises": lambda L: t(L, V).kthvalue(0),
    "mode_values": lambda L: t(L, [[1.0, 2.0, 2.0, 3.0, 3.0], [4.0, 4.0, 1.0, 1.0, 1.0]]).mode(1).values,
    "mode_int": lambda L: t(L, [3, 3, 1, 1, 2], "int64").mode().values,
    "topk": lambda L: t(L, V).topk(2),
    "topk_smallest": lambda L: t(L, V).topk(2, largest=False),
    "topk_dim0": lambda L: t(L, V).topk(1, dim=0),
    "topk_k0": lambda L: t(L, V).topk(0),
    "topk_k_too_big_raises": lambda L: t(L, V).topk(5),
    "topk_nan_largest": lambda L: t(L, [1.0, float("nan"), 3.0]).topk(1),
    "topk_int": lambda L: t(L, I32, "int32").topk(2, largest=False),
    "sort": lambda L: t(L, V).sort(),
    "sort_descending_dim0": lambda L: t(L, V).sort(dim=0, descending=True),
    "sort_stable_ties": lambda L: t(L, [2.0, 1.0, 2.0, 1.0, 2.0]).sort(stable=True),
    "sort_stable_descending_ties": lambda L: t(L, [2.0, 1.0, 2.0, 1.0, 2.0]).sort(stable=True, descending=True),
    "sort_stable_positional_keyword_only": lambda L: L.sort(t(L, [2.0, 1.0, 2.0]), stable=True, dim=0),
    "sort_nan_last": lambda L: t(L, [3.0, float("nan"), 1.0]).sort(),
    "sort_nan_descending_first": lambda L: t(L, [3.0, float("nan"), 1.0]).sort(descending=True),
    "sort_bool": lambda L: t(L, [True, False, True], "bool").sort(),
    "sort_0d": lambda L: L.tensor(2.0).sort(),
    "sort_empty": lambda L: L.zeros(0).sort(),
    "argsort_stable": lambda L: t(L, [1, 0, 1, 0, 1], "int64").argsort(stable=True),
    "argsort_stable_descending": lambda L: L.argsort(t(L, [1, 0, 1, 0, 1], "int64"), descending=True, stable=True),
    "argsort_dim0": lambda L: t(L, V).argsort(0),
    "msort": lambda L: L.msort(t(L, V)),
}

# PyTorch leaves which index among equal values unspecified for median / kthvalue / mode / topk;
# these are checked as a property (the index points at the value), not bit for bit.
TIE_INDEX = {
    "median_dim_ties": ("median", (1,), [[1.0, 2.0, 2.0, 3.0], [5.0, 5.0, 5.0, 5.0]]),
    "kthvalue_ties": ("kthvalue", (3, 1), [[2.0, 1.0, 2.0, 1.0]]),
    "mode_ties": ("mode", (1,), [[1.0, 2.0, 2.0, 3.0, 3.0], [4.0, 4.0, 1.0, 1.0, 1.0]]),
    "topk_ties": ("topk", (2,), [[2.0, 5.0, 5.0, 1.0]]),
    "nanmedian_ties": ("nanmedian", (1,), [[float("nan"), 2.0, 2.0, 2.0]]),
}


@pytest.mark.parametrize("name", cases(ORDER))
def test_order_statistics(name):
    same_in_both(ORDER[name])


@pytest.mark.parametrize("name", cases(TIE_INDEX))
def test_tie_indices_point_at_values(name):
    method, args, data = TIE_INDEX[name]
    tv, ti = getattr(torch.tensor(data), method)(*args)
    cv, ci = getattr(chainrule.tensor(data), method)(*args)
    assert_same(plain(cv), plain(tv))
    assert plain(ci)[:2] == plain(ti)[:2]
    gathered = np.take_along_axis(np.array(data), ci.numpy().reshape(len(data), -1), axis=1)
    np.testing.assert_array_equal(gathered.reshape(tuple(cv.shape)), cv.numpy())


# --- unique -------------------------------------------------------------------------------------

U = [3, 1, 2, 3, 1, 1]

UNIQUE = {
    "unique_sorted": lambda L: L.unique(t(L, U, "int64")),
    "unique_inverse_counts": lambda L: L.unique(t(L, U, "int64"), return_inverse=True, return_counts=True),
    "unique_method_counts": lambda L: t(L, U, "int64").unique(return_counts=True),
    "unique_2d_flattens": lambda L: L.unique(t(L, [[2, 1], [1, 2]], "int64"), return_inverse=True),
    "unique_dim0": lambda L: L.unique(t(L, [[1, 2], [0, 5], [1, 2]], "int64"), dim=0, return_inverse=True, return_counts=True),
    "unique_dim1": lambda L: L.unique(t(L, [[1, 0, 1], [2, 5, 2]], "int64"), dim=1),
    "unique_float": lambda L: L.unique(t(L, [0.5, -1.0, 0.5])),
    "unique_bool": lambda L: L.unique(t(L, [True, False, True], "bool"), return_counts=True),
    "unique_empty": lambda L: L.unique(L.zeros(0), return_inverse=True, return_counts=True),
    "unique_consecutive": lambda L: L.unique_consecutive(t(L, [1, 1, 2, 2, 3, 1, 1], "int64")),
    "unique_consecutive_all": lambda L: L.unique_consecutive(t(L, [1, 1, 2, 2, 3, 1, 1], "int64"), return_inverse=True, return_counts=True),
    "unique_consecutive_dim0": lambda L: L.unique_consecutive(t(L, [[1, 2], [1, 2], [3, 4], [1, 2]], "int64"), dim=0, return_counts=True),
    "unique_consecutive_method": lambda L: t(L, [5, 5, 4], "int64").unique_consecutive(return_counts=True),
}


@pytest.mark.parametrize("name", cases(UNIQUE))
def test_unique(name):
    same_in_both(UNIQUE[name])


# --- cumulative ---------------------------------------------------------------------------------

CUMULATIVE = {
    "cumsum_int32_is_int64": lambda L: t(L, I32, "int32").cumsum(1),
    "cumsum_bool_is_int64": lambda L: t(L, [True, True, False], "bool").cumsum(0),
    "cumsum_uint8_is_int64": lambda L: t(L, [200, 100], "uint8").cumsum(0),
    "cumsum_dtype": lambda L: t(L, I32, "int32").cumsum(0, dtype=L.float64),
    "cumsum_negative_dim": lambda L: L.cumsum(t(L, F), dim=-2),
    "cumsum_0d": lambda L: L.tensor(2.0).cumsum(0),
    "cumsum_empty": lambda L: L.zeros(0, 2).cumsum(0),
    "cumsum_requires_dim_raises": lambda L: L.cumsum(t(L, F)),
    "cumprod_int32_is_int64": lambda L: t(L, I32, "int32").cumprod(1),
    "cumprod_dtype": lambda L: t(L, F).cumprod(-1, dtype=L.float64),
    "cummax_ties_index": lambda L: t(L, [1.0, 3.0, 2.0, 3.0, 0.0, 3.0]).cummax(0),
    "cummin_ties_index": lambda L: t(L, [3.0, 1.0, 2.0, 1.0, 5.0, 1.0]).cummin(0),
    "cummax_nan": lambda L: t(L, [1.0, float("nan"), 3.0]).cummax(0),
    "cummax_2d_dim1": lambda L: L.cummax(t(L, TIES), dim=1),
    "cummin_int": lambda L: t(L, [4, 2, 2, 5, 1], "int32").cummin(0),
    "cummax_result_access": lambda L: (lambda r: (type(r).__name__, r.values, r.indices))(t(L, F).cummax(0)),
    "logcumsumexp": lambda L: t(L, F).logcumsumexp(1),
    "logcumsumexp_neg_inf": lambda L: t(L, [float("-inf"), float("-inf"), 0.0, float("-inf")]).logcumsumexp(0),
    "logcumsumexp_pos_inf": lambda L: t(L, [0.0, float("inf"), 1.0]).logcumsumexp(0),
    "logsumexp": lambda L: t(L, F).logsumexp(1),
    "logsumexp_dim_tuple_keepdim": lambda L: L.logsumexp(t(L, F), (0, 1), keepdim=True),
    "logsumexp_all_neg_inf": lambda L: L.logsumexp(t(L, [float("-inf"), float("-inf")]), 0),
    "logsumexp_pos_inf": lambda L: L.logsumexp(t(L, [float("inf"), 1.0]), 0),
    "logsumexp_int_is_float": lambda L: L.logsumexp(t(L, [1, 2, 3], "int64"), 0),
    "logsumexp_empty": lambda L: L.logsumexp(L.zeros(0), 0),
    "diff_default": lambda L: L.diff(t(L, F)),
    "diff_n2_dim0": lambda L: L.diff(t(L, [[1.0, 4.0], [2.0, 9.0], [7.0, 0.0]]), n=2, dim=0),
    "diff_prepend_append": lambda L: L.diff(t(L, [1.0, 4.0, 9.0]), prepend=t(L, [0.0]), append=t(L, [20.0, 30.0])),
    "diff_bool_xor": lambda L: L.diff(t(L, [True, True, False], "bool")),
    "diff_int": lambda L: t(L, [1, 4, 9], "int32").diff(),
    "diff_n_bigger_than_size": lambda L: L.diff(t(L, [1.0, 4.0]), n=3),
    "diff_0d_raises": lambda L: L.diff(L.tensor(1.0)),
}


@pytest.mark.parametrize("name", cases(CUMULATIVE))
def test_cumulative_and_logsumexp(name):
    same_in_both(CUMULATIVE[name])


# --- quantile -----------------------------------------------------------------------------------

Q = [[1.0, 7.0, 3.0, 4.0], [float("nan"), 2.0, 8.0, 0.0]]


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("q", [0.5, 0.25, 0.4, 1.0])
def test_quantile_interpolation(interpolation, q):
    same_in_both(lambda L: L.quantile(t(L, [4.0, 1.0, 3.0, 2.0]), q, interpolation=interpolation))


QUANTILE = {
    "q_tensor": lambda L: L.quantile(t(L, Q[:1]), t(L, [0.1, 0.5, 0.9]), dim=1),
    "q_tensor_keepdim": lambda L: L.quantile(t(L, Q[:1]), t(L, [0.1, 0.9]), dim=1, keepdim=True),
    "q_0d_tensor": lambda L: L.quantile(t(L, [4.0, 1.0, 3.0]), L.tensor(0.5)),
    "nan_propagates": lambda L: L.quantile(t(L, Q), 0.5, dim=1),
    "nanquantile": lambda L: L.nanquantile(t(L, Q), 0.5, dim=1),
    "nanquantile_all_nan": lambda L: L.nanquantile(t(L, [float("nan")] * 2), 0.5),
    "method": lambda L: t(L, Q).nanquantile(t(L, [0.25, 0.75]), dim=-1, interpolation="midpoint"),
    "q_out_of_range_raises": lambda L: L.quantile(t(L, [1.0, 2.0]), 1.5),
    "int_input_raises": lambda L: L.quantile(t(L, [1, 2], "int64"), 0.5),
    "q_dtype_mismatch_raises": lambda L: L.quantile(t(L, [1.0, 2.0]), t(L, [0.5], "float64")),
    "bad_interpolation_raises": lambda L: L.quantile(t(L, [1.0, 2.0]), 0.5, interpolation="cubic"),
    "empty_nan": lambda L: L.quantile(L.zeros(0), 0.5),
    "float64": lambda L: L.quantile(t(L, Q, "float64"), 0.3, dim=0),
}


@pytest.mark.parametrize("name", cases(QUANTILE))
def test_quantile(name):
    same_in_both(QUANTILE[name])


# --- norms --------------------------------------------------------------------------------------

M = [[1.0, -2.0, 0.0], [3.0, 0.5, -4.0]]

NORMS = {
    "norm_default": lambda L: L.norm(t(L, M)),
    "norm_fro": lambda L: L.norm(t(L, M), p="fro"),
    "norm_nuc": lambda L: L.norm(t(L, M), p="nuc"),
    "norm_p_inf_dim": lambda L: t(L, M).norm(float("inf"), dim=1),
    "norm_p_neg_inf": lambda L: t(L, M).norm(p=float("-inf")),
    "norm_p0": lambda L: t(L, M).norm(p=0),
    "norm_p1_keepdim": lambda L: t(L, M).norm(1, dim=0, keepdim=True),
    "norm_p3": lambda L: t(L, M).norm(3),
    "norm_dtype": lambda L: L.norm(t(L, M), dtype=L.float64),
    "norm_int_raises": lambda L: L.norm(t(L, [3, 4], "int64")),
    "vector_norm_default": lambda L: L.linalg.vector_norm(t(L, M)),
    "vector_norm_inf": lambda L: L.linalg.vector_norm(t(L, M), ord=float("inf")),
    "vector_norm_neg_inf_dim": lambda L: L.linalg.vector_norm(t(L, M), float("-inf"), dim=1),
    "vector_norm_0": lambda L: L.linalg.vector_norm(t(L, M), ord=0, dim=-1, keepdim=True),
    "vector_norm_3_5": lambda L: L.linalg.vector_norm(t(L, M), ord=3.5),
    "vector_norm_neg_1": lambda L: L.linalg.vector_norm(t(L, [1.0, 2.0]), ord=-1),
    "vector_norm_dim_tuple": lambda L: L.linalg.vector_norm(L.arange(24.0).reshape(2, 3, 4), dim=(0, 2)),
    "vector_norm_dtype": lambda L: L.linalg.vector_norm(t(L, M), dtype=L.float64),
    "vector_norm_int_raises": lambda L: L.linalg.vector_norm(t(L, [3, 4], "int64")),
    "vector_norm_empty": lambda L: L.linalg.vector_norm(L.zeros(0)),
    "vector_norm_empty_inf_raises": lambda L: L.linalg.vector_norm(L.zeros(0), ord=float("inf")),
    "matrix_norm_fro": lambda L: L.linalg.matrix_norm(t(L, M)),
    "matrix_norm_nuc": lambda L: L.linalg.matrix_norm(t(L, M), ord="nuc"),
    "matrix_norm_inf": lambda L: L.linalg.matrix_norm(t(L, M), ord=float("inf")),
    "matrix_norm_neg_inf": lambda L: L.linalg.matrix_norm(t(L, M), ord=float("-inf")),
    "matrix_norm_1": lambda L: L.linalg.matrix_norm(t(L, M), ord=1),
    "matrix_norm_neg_1": lambda L: L.linalg.matrix_norm(t(L, M), ord=-1),
    "matrix_norm_2": lambda L: L.linalg.matrix_norm(t(L, M), ord=2),
    "matrix_norm_neg_2": lambda L: L.linalg.matrix_norm(t(L, M), ord=-2),
    "matrix_norm_batched_keepdim": lambda L: L.linalg.matrix_norm(L.arange(12.0).reshape(3, 2, 2), keepdim=True),
    "matrix_norm_bad_ord_raises": lambda L: L.linalg.matrix_norm(t(L, M), ord=3),
    "matrix_norm_1d_raises": lambda L: L.linalg.matrix_norm(t(L, [1.0, 2.0])),
    "linalg_norm_vector": lambda L: L.linalg.norm(t(L, [3.0, 4.0]), ord=float("inf")),
    "linalg_norm_matrix_ord": lambda L: L.linalg.norm(t(L, M), ord="fro"),
    "linalg_norm_matrix_inf": lambda L: L.linalg.norm(t(L, M), ord=float("inf")),
    "dist_default": lambda L: L.dist(t(L, M), t(L, [[0.0, 0.0, 1.0]])),
    "dist_p1": lambda L: L.dist(t(L, M), t(L, [[0.0, 0.0, 1.0]]), 1),
    "dist_p_inf": lambda L: t(L, M).dist(t(L, [[0.0, 0.0, 1.0]]), p=float("inf")),
    "dist_p0": lambda L: L.dist(t(L, M), t(L, [[1.0, 0.0, 0.0]]), p=0),
    "trace": lambda L: L.trace(t(L, M)),
    "trace_int_is_int64": lambda L: L.trace(t(L, [[1, 2], [3, 4]], "int32")),
    "trace_1d_raises": lambda L: L.trace(t(L, [1.0, 2.0])),
}


@pytest.mark.parametrize("name", cases(NORMS))
def test_norms(name):
    same_in_both(NORMS[name], rtol=1e-5, atol=1e-5)


# --- comparison, counting, histograms ------------------------------------------------------------

COMPARE = {
    "allclose": lambda L: L.allclose(t(L, [1.0, 2.0]), t(L, [1.0, 2.0 + 1e-9])),
    "allclose_nan_default_false": lambda L: L.allclose(t(L, [float("nan")]), t(L, [float("nan")])),
    "allclose_equal_nan": lambda L: t(L, [float("nan")]).allclose(t(L, [float("nan")]), equal_nan=True),
    "allclose_rtol_atol": lambda L: L.allclose(t(L, [1.0]), t(L, [1.1]), rtol=0.0, atol=0.2),
    "allclose_returns_bool_type": lambda L: type(L.allclose(t(L, [1.0]), t(L, [1.0]))).__name__,
    "allclose_dtype_mismatch_raises": lambda L: L.allclose(t(L, [1.0]), t(L, [1.0], "float64")),
    "allclose_broadcasts": lambda L: L.allclose(t(L, [[1.0, 1.0]]), t(L, [1.0])),
    "isclose": lambda L: L.isclose(t(L, [1.0, 2.0, float("nan"), float("inf")]), t(L, [1.0 + 1e-9, 2.1, float("nan"), float("inf")])),
    "isclose_equal_nan": lambda L: L.isclose(t(L, [float("nan"), 1.0]), t(L, [float("nan"), float("nan")]), equal_nan=True),
    "isclose_inf_signs": lambda L: L.isclose(t(L, [float("inf")]), t(L, [float("-inf")])),
    "isclose_int": lambda L: L.isclose(t(L, [1, 2], "int64"), t(L, [1, 3], "int64")),
    "isclose_negative_rtol_raises": lambda L: L.isclose(t(L, [1.0]), t(L, [1.0]), rtol=-1.0),
    "isclose_negative_atol_raises": lambda L: L.isclose(t(L, [1.0]), t(L, [1.0]), atol=-1.0),
    "allclose_negative_rtol_raises": lambda L: L.allclose(t(L, [1.0]), t(L, [1.0]), rtol=-1.0),
    "bincount": lambda L: L.bincount(t(L, [0, 2, 2, 5], "int64")),
    "bincount_minlength": lambda L: L.bincount(t(L, [1, 1], "int64"), minlength=5),
    "bincount_weights_float32": lambda L: L.bincount(t(L, [0, 2, 2], "int64"), weights=t(L, [0.5, 1.0, 2.0])),
    "bincount_weights_float64": lambda L: L.bincount(t(L, [0, 2, 2], "int64"), weights=t(L, [0.5, 1.0, 2.0], "float64"), minlength=4),
    "bincount_weights_int": lambda L: L.bincount(t(L, [0, 2, 2], "int64"), weights=t(L, [1, 2, 3], "int64")),
    "bincount_weights_float16_is_float64": lambda L: L.bincount(t(L, [0, 1], "int64"), weights=t(L, [1.0, 2.0], "float16")),
    "bincount_weights_length_mismatch_raises": lambda L: L.bincount(t(L, [0, 1], "int64"), weights=t(L, [1.0])),
    "bincount_negative_minlength_raises": lambda L: L.bincount(t(L, [0, 1], "int64"), minlength=-1),
    "bincount_empty": lambda L: L.bincount(L.zeros(0, dtype=L.int64)),
    "bincount_empty_minlength": lambda L: L.bincount(L.zeros(0, dtype=L.int64), minlength=3),
    "bincount_int32": lambda L: L.bincount(t(L, [1, 3], "int32")),
    "bincount_negative_raises": lambda L: L.bincount(t(L, [-1, 2], "int64")),
    "bincount_float_raises": lambda L: L.bincount(t(L, [1.0, 2.0])),
    "bincount_2d_raises": lambda L: L.bincount(t(L, [[1, 2]], "int64")),
    "bincount_method": lambda L: t(L, [3, 3], "int64").bincount(minlength=2),
    "histc": lambda L: L.histc(t(L, [1.0, 2.0, 1.0, 4.0, 2.5]), bins=4, min=0, max=4),
    "histc_default_range": lambda L: L.histc(t(L, [1.0, 2.0, 1.0, 4.0, 2.5]), bins=3),
    "histc_out_of_range_ignored": lambda L: t(L, [-1.0, 0.0, 0.5, 1.0, 2.0]).histc(bins=2, min=0.0, max=1.0),
    "histc_all_equal": lambda L: L.histc(t(L, [2.0, 2.0]), bins=4),
    "histc_float64": lambda L: L.histc(t(L, [0.1, 0.9], "float64"), bins=2, min=0, max=1),
    "histc_int_raises": lambda L: L.histc(t(L, [1, 2], "int64"), bins=2),
    "histc_min_gt_max_raises": lambda L: L.histc(t(L, [1.0]), bins=2, min=2, max=1),
    "histc_nan_input_raises": lambda L: L.histc(t(L, [1.0, float("nan")]), bins=2),
    "histc_inf_input_raises": lambda L: L.histc(t(L, [1.0, float("inf")]), bins=2),
    "histc_nan_with_range": lambda L: L.histc(t(L, [0.5, float("nan")]), bins=2, min=0, max=1),
}


@pytest.mark.parametrize("name", cases(COMPARE))
def test_compare_count_hist(name):
    same_in_both(COMPARE[name])


# --- elementwise math ---------------------------------------------------------------------------

A = [-7.0, -3.5, 0.0, 3.5, 7.0]
B = [2.0, -2.0, 3.0, -1.5, -3.0]
AI = [-7, -3, 0, 3, 7]
BI = [2, -2, 3, -2, -3]

ELEMENTWISE = {
    "clamp_scalars": lambda L: t(L, A).clamp(-1.0, 2.0),
    "clamp_min_only": lambda L: L.clamp(t(L, A), min=0.0),
    "clamp_max_keyword": lambda L: t(L, A).clamp(max=1),
    "clamp_tensor_bounds": lambda L: L.clamp(t(L, A), min=t(L, B), max=t(L, [3.0] * 5)),
    "clamp_min_gt_max": lambda L: t(L, A).clamp(2.0, 1.0),
    "clamp_int_float_bound_promotes": lambda L: t(L, AI, "int64").clamp(min=0.5),
    "clamp_int_tensor_bound_float": lambda L: t(L, AI, "int64").clamp(min=t(L, [0.5] * 5)),
    "clamp_no_bounds_raises": lambda L: t(L, A).clamp(),
    "clamp_nan_stays": lambda L: t(L, [float("nan"), 5.0]).clamp(0.0, 1.0),
    "clip_alias": lambda L: L.clip(t(L, A), -1, 1),
    "clamp_tensor_min_scalar_max_raises": lambda L: L.clamp(t(L, A), min=t(L, B), max=1.0),
    "clamp_int8_bound_overflow_raises": lambda L: t(L, [1, 2], "int8").clamp(min=300),
    "clamp_int32_bound_overflow_raises": lambda L: t(L, [1, 2], "int32").clamp(max=2**40),
    "clamp_uint8_negative_bound_wraps": lambda L: t(L, [1, 2], "uint8").clamp(min=-1),
    "clamp_tensor_bound_broadcast": lambda L: L.clamp(t(L, [[1.0, 5.0], [-2.0, 9.0]]), max=t(L, [0.0, 4.0])),
    "round_half_even": lambda L: t(L, [0.5, 1.5, 2.5, -0.5, -2.5]).round(),
    "round_decimals": lambda L: L.round(t(L, [1.2345, -2.675, 0.125], "float64"), decimals=2),
    "round_negative_decimals": lambda L: t(L, [1234.5, 1250.0, -1350.0]).round(decimals=-2),
    "round_int": lambda L: t(L, AI, "int64").round(),
    "fmod_float": lambda L: L.fmod(t(L, A), t(L, B)),
    "fmod_scalar": lambda L: L.fmod(t(L, A), -2),
    "fmod_int": lambda L: L.fmod(t(L, AI, "int64"), t(L, BI, "int64")),
    "fmod_float_by_zero": lambda L: L.fmod(t(L, [1.0, -1.0]), 0.0),
    "fmod_int_by_zero_raises": lambda L: L.fmod(t(L, [1, 2], "int64"), 0),
    "remainder_float": lambda L: L.remainder(t(L, A), t(L, B)),
    "remainder_int": lambda L: L.remainder(t(L, AI, "int64"), t(L, BI, "int64")),
    "remainder_scalar_first": lambda L: L.remainder(5, t(L, [3.0, -3.0])),
    "remainder_operator": lambda L: t(L, AI, "int64") % -3,
    "remainder_int_by_zero_raises": lambda L: L.remainder(t(L, [1, 2], "int64"), t(L, [0, 1], "int64")),
    "remainder_float_by_zero": lambda L: L.remainder(t(L, [1.0, -1.0]), 0.0),
    "remainder_int_float_promotes": lambda L: L.remainder(t(L, AI, "int64"), 2.5),
    "floor_divide_float": lambda L: L.floor_divide(t(L, A), t(L, B)),
    "floor_divide_int": lambda L: L.floor_divide(t(L, AI, "int64"), t(L, BI, "int64")),
    "floor_divide_operator": lambda L: t(L, AI, "int32") // 2,
    "floor_divide_int_by_zero_raises": lambda L: L.floor_divide(t(L, [1], "int64"), 0),
    "floor_divide_float_by_zero": lambda L: L.floor_divide(t(L, [1.0, -1.0, 0.0]), 0.0),
    "true_divide_int_is_float": lambda L: L.true_divide(t(L, AI, "int64"), t(L, BI, "int64")),
    "true_divide_scalar": lambda L: t(L, AI, "int32").true_divide(2),
    "div_rounding_trunc": lambda L: L.div(t(L, A), t(L, B), rounding_mode="trunc"),
    "div_rounding_floor_int": lambda L: L.div(t(L, AI, "int64"), t(L, BI, "int64"), rounding_mode="floor"),
    "frac": lambda L: t(L, [-2.5, -0.25, 0.0, 1.75]).frac(),
    "frac_int_raises": lambda L: t(L, AI, "int64").frac(),
    "lerp_scalar": lambda L: L.lerp(t(L, A), t(L, B), 0.25),
    "lerp_tensor_weight": lambda L: L.lerp(t(L, A), t(L, B), t(L, [0.0, 0.25, 0.5, 0.75, 1.0])),
    "lerp_method_broadcast": lambda L: t(L, [[0.0], [1.0]]).lerp(t(L, [10.0, 20.0]), t(L, [0.5])),
    "lerp_int_raises": lambda L: L.lerp(t(L, AI, "int64"), t(L, BI, "int64"), 0.5),
    "lerp_dtype_mismatch_raises": lambda L: L.lerp(t(L, A), t(L, B, "float64"), 0.5),
}


@pytest.mark.parametrize("name", cases(ELEMENTWISE))
def test_elementwise_math(name):
    same_in_both(ELEMENTWISE[name])


# --- gradients ----------------------------------------------------------------------------------

G = [[1.0, -2.0, 3.0, 0.5], [4.0, 0.25, -6.0, 2.0]]
GT = [[3.0, 1.0, 3.0, 2.0], [2.0, 2.0, 0.0, 2.0]]  # ties

GRADIENTS = {
    "sum_dim_tuple": (lambda L, x: x.sum((0, 1), keepdim=True), G),
    "sum_dtype": (lambda L, x: x.sum(1, dtype=L.float32), G),
    "mean_dim": (lambda L, x: x.mean(-1), G),
    "prod": (lambda L, x: x.prod(1), G),
    "prod_one_zero": (lambda L, x: x.prod(), [[1.0, 0.0, 3.0], [2.0, 4.0, 5.0]]),
    "prod_two_zeros": (lambda L, x: x.prod(1), [[0.0, 0.0, 3.0], [2.0, 0.0, 5.0]]),
    "prod_full_two_zeros": (lambda L, x: x.prod(), [[0.0, 0.0, 3.0]]),
    "std_correction0": (lambda L, x: x.std(1, correction=0), G),
    "var_correction2": (lambda L, x: x.var(correction=2), G),
    "std_mean": (lambda L, x: L.std_mean(x, 1)[0] + L.std_mean(x, 1)[1], G),
    "var_mean": (lambda L, x: L.stack(L.var_mean(x, 0, unbiased=False)), G),
    "amax_ties_split": (lambda L, x: x.amax(1), GT),
    "amin_ties_split": (lambda L, x: x.amin((0, 1)), GT),
    "max_full_ties_split": (lambda L, x: x.max(), GT),
    "min_full_ties_split": (lambda L, x: x.min(), [[0.0, 1.0, 0.0]]),
    "max_dim_ties_first_only": (lambda L, x: x.max(1).values, GT),
    "min_dim_keepdim": (lambda L, x: x.min(0, keepdim=True)[0], GT),
    "maximum_ties_half": (lambda L, x: L.maximum(x[0], x[1]), GT),
    "minimum_ties_half": (lambda L, x: L.minimum(x[0], x[1]), GT),
    "max_of_two_tensors": (lambda L, x: L.max(x[0], x[1]), GT),
    "fmax": (lambda L, x: L.fmax(x[0], x[1]), GT),
    "aminmax": (lambda L, x: L.stack(L.aminmax(x, dim=1)), G),
    "median_full": (lambda L, x: x.median(), G),
    "median_dim": (lambda L, x: x.median(1).values, G),
    "nanmedian": (lambda L, x: x.nanmedian(), [[1.0, float("nan"), 3.0, 2.0]]),
    "kthvalue": (lambda L, x: x.kthvalue(2, 1).values, G),
    "mode": (lambda L, x: x.mode(1).values, [[1.0, 2.0, 2.0, 3.0], [4.0, 4.0, 5.0, 5.0]]),
    "topk": (lambda L, x: x.topk(2, largest=False).values, G),
    "sort_values": (lambda L, x: x.sort(1, descending=True).values, G),
    "cumsum": (lambda L, x: x.cumsum(1), G),
    "cumprod": (lambda L, x: x.cumprod(1), G),
    "cumprod_with_zero": (lambda L, x: x.cumprod(1), [[2.0, 0.0, 3.0, 4.0]]),
    "cummax_ties": (lambda L, x: x.cummax(1).values, GT),
    "cummin": (lambda L, x: x.cummin(1).values, G),
    "logsumexp": (lambda L, x: x.logsumexp(1), G),
    "logsumexp_neg_inf_row": (lambda L, x: x.logsumexp(1), [[float("-inf"), float("-inf")], [0.0, float("-inf")]]),
    "logcumsumexp": (lambda L, x: x.logcumsumexp(1), G),
    "logcumsumexp_neg_inf": (lambda L, x: x.logcumsumexp(0), [float("-inf"), 0.0, float("-inf"), 1.0]),
    "nansum": (lambda L, x: x.nansum(1), [[1.0, float("nan")], [2.0, 3.0]]),
    "nanmean": (lambda L, x: x.nanmean(1), [[1.0, float("nan")], [2.0, 3.0]]),
    "quantile_linear": (lambda L, x: L.quantile(x, 0.4, dim=1), G),
    "quantile_tensor_q": (lambda L, x: L.quantile(x, L.tensor([0.25, 0.5], dtype=L.float64), dim=1), G),
    "quantile_midpoint": (lambda L, x: L.quantile(x, 0.5, interpolation="midpoint"), G),
    "nanquantile": (lambda L, x: L.nanquantile(x, 0.5, dim=1), [[1.0, float("nan"), 3.0], [2.0, 5.0, 4.0]]),
    "diff_prepend": (lambda L, x: L.diff(x, n=2, dim=1, prepend=x[:, :1]), G),
    "norm_fro": (lambda L, x: x.norm(), G),
    "norm_at_zero": (lambda L, x: x.norm(), [[0.0, 0.0]]),
    "norm_inf_ties_split": (lambda L, x: x.norm(float("inf")), [[3.0, -3.0, 1.0]]),
    "norm_1": (lambda L, x: x.norm(1, dim=1), [[1.0, 0.0, -3.0]]),
    "vector_norm_3": (lambda L, x: L.linalg.vector_norm(x, 3, dim=1), G),
    "vector_norm_0": (lambda L, x: L.linalg.vector_norm(x, 0), G),
    "vector_norm_neg_inf": (lambda L, x: L.linalg.vector_norm(x, float("-inf")), [[3.0, -1.0, 1.0]]),
    "matrix_norm_nuc": (lambda L, x: L.linalg.matrix_norm(x, "nuc"), G),
    "matrix_norm_inf": (lambda L, x: L.linalg.matrix_norm(x, float("inf")), G),
    "matrix_norm_2": (lambda L, x: L.linalg.matrix_norm(x, 2), G),
    "dist": (lambda L, x: L.dist(x[0], x[1]), G),
    "dist_inf": (lambda L, x: L.dist(x[0], x[1], float("inf")), G),
    "trace": (lambda L, x: x.trace(), G),
    "clamp_at_bounds": (lambda L, x: x.clamp(-1.0, 3.0), [[-1.0, 3.0, 0.0, 5.0, -2.0]]),
    "clamp_tensor_bounds": (lambda L, x: L.clamp(x[0], min=x[1]), GT),
    "clamp_min_gt_max": (lambda L, x: x.clamp(2.0, 1.0), [[0.0, 1.5, 3.0]]),
    "round_decimals": (lambda L, x: x.round(decimals=1), G),
    "frac": (lambda L, x: x.frac(), G),
    "fmod": (lambda L, x: L.fmod(x[0], x[1]), G),
    "remainder": (lambda L, x: L.remainder(x[0], x[1]), G),
    "remainder_scalar": (lambda L, x: L.remainder(x, 1.5), G),
    "lerp_tensor_weight": (lambda L, x: L.lerp(x[0], x[1], L.tensor([0.0, 0.25, 0.5, 1.0], dtype=L.float64)), G),
    "lerp_weight_grad": (lambda L, x: L.lerp(L.tensor([1.0, 2.0], dtype=L.float64), L.tensor([5.0, -2.0], dtype=L.float64), x[0, :2]), G),
    "true_divide": (lambda L, x: L.true_divide(x[0], x[1]), G),
    "floor_divide": (lambda L, x: L.floor_divide(x[0], x[1]), G),
}


@pytest.mark.parametrize("name", cases(GRADIENTS))
def test_gradients(name):
    fn, data = GRADIENTS[name]
    same_in_both(lambda L: grad_of(L, fn, data), rtol=1e-6, atol=1e-8)


def test_unique_of_requires_grad_input():
    assert lib_unique_requires_grad(chainrule) == lib_unique_requires_grad(torch)
    raises_as_torch(lambda lib: (lib.unique(lib.tensor([1.0, 2.0, 1.0], requires_grad=True)) * 1).sum().backward())


def lib_unique_requires_grad(lib):
    return lib.unique(lib.tensor([1.0, 2.0, 1.0], requires_grad=True)).requires_grad


def test_indices_outputs_do_not_require_grad():
    def run(lib):
        x = lib.tensor(G, requires_grad=True)
        return [x.max(1).indices.requires_grad, x.sort(1).indices.requires_grad, x.argmax().requires_grad,
                x.topk(1).indices.requires_grad, x.cummax(1).indices.requires_grad, x.count_nonzero().requires_grad,
                x.all().requires_grad, x.round().requires_grad, x.sum().requires_grad]

    same_in_both(run)


def test_integer_reductions_refuse_requires_grad():
    raises_as_torch(lambda lib: lib.tensor([1, 2], requires_grad=True))


def test_reprs_of_reduction_results():
    def run(lib):
        x = t(lib, F)
        results = [x.sum(), t(lib, I32, "int32").sum(0), x.mean(1, keepdim=True), lib.std_mean(x), x.sort(1), lib.aminmax(x),
                   x.median(), lib.unique(t(lib, U, "int64"), return_counts=True), x.all(), lib.linalg.vector_norm(x)]
        return [repr(each).replace("chainrule.", "torch.") for each in results]

    same_in_both(run)
