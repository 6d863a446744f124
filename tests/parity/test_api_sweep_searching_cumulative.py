"""A sweep of searching, sorting and cumulative functions against PyTorch (the oracle):
``searchsorted`` / ``bucketize`` (``right``, ``side``, ``sorter``, ``out_int32``, scalars, N-D),
``sort`` / ``argsort`` / ``msort`` / ``topk`` (stable tie order, NaN placement), order statistics
(``kthvalue``, ``mode``, ``median``, ``nanmedian``), ``cumsum`` / ``cumprod`` dtype promotion,
``cummax`` / ``cummin`` tie indices, ``logcumsumexp``, ``diff``, ``gradient``, ``trapezoid`` /
``cumulative_trapezoid``, ``count_nonzero``, ``histogram`` / ``histogramdd`` / ``histc``,
``unique`` / ``unique_consecutive``, ``flip`` / ``fliplr`` / ``flipud`` / ``roll`` / ``rot90``, the
error types PyTorch raises for bad input, and float64 gradients of the differentiable ones.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, names or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are
differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import assert_same, bug, bundle, outcome, plain, raises_as_torch, same_in_both

NAN = float("nan")
INF = float("inf")


S = [1.0, 3.0, 5.0, 7.0, 9.0]
X = [[3.0, 1.0, 2.0, 1.0], [NAN, 0.0, -1.0, NAN]]
A = [[1, 2, 3], [4, 5, 6]]
Y = [[1.0, 2.0, 4.0, 8.0], [10.0, 20.0, 40.0, 80.0], [3.0, 1.0, 4.0, 1.0]]
H = [1.0, 2.0, 1.0, 2.5, 4.0, 0.5, 3.9]


# --- values, dtypes and shapes ------------------------------------------------------------------

VALUE_CASES = {
    # searchsorted / bucketize
    "searchsorted_left_right_side": bundle(
        lambda L: L.searchsorted(L.tensor(S), L.tensor([3.0, 6.0, 9.0, 0.0, 10.0])),
        lambda L: L.searchsorted(L.tensor(S), L.tensor([3.0, 6.0, 9.0]), right=True),
        lambda L: L.searchsorted(L.tensor(S), L.tensor([3.0, 6.0, 9.0]), side="right"),
        lambda L: L.searchsorted(L.tensor([1.0, 2.0, 2.0, 2.0, 3.0]), L.tensor([2.0])),
        lambda L: L.searchsorted(L.tensor([1.0, 2.0, 2.0, 2.0, 3.0]), L.tensor([2.0]), right=True),
    ),
    "searchsorted_sorter_int32": bundle(
        lambda L: L.searchsorted(L.tensor([5.0, 1.0, 9.0, 3.0, 7.0]), L.tensor([3.0, 6.0]), sorter=L.tensor([1, 3, 0, 4, 2])),
        lambda L: L.searchsorted(L.tensor(S), L.tensor([3.0, 6.0]), out_int32=True),
        lambda L: L.searchsorted(L.tensor([[1, 3, 5], [2, 4, 6]]), L.tensor([[3], [4]]), right=True, out_int32=True),
    ),
    "searchsorted_scalar_0d_empty": bundle(
        lambda L: L.searchsorted(L.tensor(S), 6.0),
        lambda L: L.searchsorted(L.tensor([1, 3, 5]), 3),
        lambda L: L.searchsorted(L.tensor(S), L.tensor(4.0)),
        lambda L: L.searchsorted(L.tensor(S), L.tensor([])),
        lambda L: L.searchsorted(L.tensor([]), L.tensor([1.0, 2.0])),
        lambda L: L.searchsorted(L.tensor([1, 3, 5]), L.tensor([2.5, 3.0])),
    ),
    "searchsorted_nd": bundle(
        lambda L: L.searchsorted(L.tensor(S), L.tensor([[3.0, 6.0], [0.0, 100.0]])),
        lambda L: L.searchsorted(L.tensor([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]), L.tensor([[3.0, 6.0], [0.0, 4.0]])),
    ),
    "bucketize": bundle(
        lambda L: L.bucketize(L.tensor([3.0, 6.0, 9.0, 0.0]), L.tensor(S)),
        lambda L: L.bucketize(L.tensor([3.0, 6.0, 9.0]), L.tensor(S), right=True),
        lambda L: L.bucketize(L.tensor([[3.0, 6.0], [9.0, 1.0]]), L.tensor(S), out_int32=True),
        lambda L: L.bucketize(4.0, L.tensor(S)),
        lambda L: L.bucketize(L.tensor(4.0), L.tensor(S)),
        lambda L: L.bucketize(L.tensor([4, 5]), L.tensor(S)),
        lambda L: L.bucketize(L.tensor([2.5, 3.0]), L.tensor([1, 3, 5])),
    ),
    # sort / argsort / msort / topk
    "sort_nan_dims_desc": bundle(
        lambda L: tuple(L.sort(L.tensor(X))),
        lambda L: tuple(L.sort(L.tensor(X), descending=True)),
        lambda L: tuple(L.sort(L.tensor(X), dim=0)),
        lambda L: tuple(L.sort(L.tensor([1.0, NAN, 3.0, -NAN]), descending=True, stable=True)),
    ),
    "sort_stable_ties": bundle(
        lambda L: tuple(L.sort(L.tensor([2, 1, 2, 1, 2, 1, 0]), stable=True)),
        lambda L: tuple(L.sort(L.tensor([2, 1, 2, 1, 2, 1, 0]), stable=True, descending=True)),
        lambda L: tuple(L.sort(L.tensor([True, False, True]), stable=True)),
        lambda L: tuple(L.tensor([3, 1, 2]).sort(stable=True, dim=-1)),
    ),
    "sort_0d_empty_namedtuple": bundle(
        lambda L: tuple(L.sort(L.tensor(5.0))),
        lambda L: tuple(L.sort(L.zeros(0, 3), dim=0)),
        lambda L: (lambda r: (type(r).__name__, r.values, r.indices))(L.sort(L.tensor([3, 1, 2]))),
    ),
    "sort_out": lambda L: (lambda v, i: (L.sort(L.tensor([3.0, 1.0, 2.0]), out=(v, i)), v, i)[1:])(
        L.empty(3), L.empty(3, dtype=L.long)),
    "argsort_msort": bundle(
        lambda L: L.argsort(L.tensor(X), dim=1, descending=True, stable=True),
        lambda L: L.argsort(L.tensor([1, 0, 1, 0]), stable=True),
        lambda L: L.tensor([1, 0, 1, 0]).argsort(stable=True, descending=True),
        lambda L: L.argsort(L.tensor([NAN, 1.0, NAN, 0.0]), stable=True),
        lambda L: L.argsort(L.tensor([[2, 1], [0, 3]]), 0, True),
        lambda L: L.msort(L.tensor(X)),
    ),
    "topk": bundle(
        lambda L: tuple(L.topk(L.tensor([1.0, 5.0, 3.0, 4.0, 2.0]), 2)),
        lambda L: tuple(L.topk(L.tensor([1.0, 5.0, 3.0, 4.0, 2.0]), 3, largest=False)),
        lambda L: tuple(L.topk(L.tensor([[1.0, 5.0], [3.0, 4.0]]), 1, dim=0)),
        lambda L: tuple(L.topk(L.tensor([1.0, 2.0]), 0)),
        lambda L: tuple(L.topk(L.tensor([1.0, NAN, 3.0]), 2)),
        lambda L: tuple(L.topk(L.tensor([1.0, NAN, 3.0]), 2, largest=False)),
        lambda L: tuple(L.topk(L.tensor(3.0), 1)),
        lambda L: tuple(L.topk(L.tensor([1, 5, 3]), 2)),
        lambda L: type(L.topk(L.tensor([3, 1, 2]), 1)).__name__,
    ),
    "topk_out": lambda L: (lambda v, i: (L.topk(L.tensor([3.0, 1.0, 2.0]), 2, out=(v, i)), v, i)[1:])(
        L.empty(2), L.empty(2, dtype=L.long)),
    # order statistics
    "kthvalue_mode": bundle(
        lambda L: tuple(L.kthvalue(L.tensor([[3.0, 1.0, 2.0], [6.0, 5.0, 4.0]]), 2, dim=0, keepdim=True)),
        lambda L: tuple(L.kthvalue(L.tensor([3.0, NAN, 2.0]), 3)),
        lambda L: tuple(L.kthvalue(L.tensor(3.0), 1)),
        lambda L: tuple(L.mode(L.tensor([[1, 2, 2, 3], [4, 4, 5, 5]]))),
        lambda L: tuple(L.mode(L.tensor([[1, 2], [1, 3], [2, 3]]), dim=0, keepdim=True)),
        lambda L: tuple(L.mode(L.tensor(2.0))),
        lambda L: tuple(L.mode(L.tensor([1.5, 2.5, 2.5, 1.5, 0.0]))),
    ),
    "median_nanmedian": bundle(
        lambda L: L.median(L.tensor([4.0, 1.0, 3.0, 2.0])),
        lambda L: tuple(L.median(L.tensor([[4.0, 1.0, 3.0, 2.0]]), dim=1)),
        lambda L: L.median(L.tensor([4, 1, 3, 2])),
        lambda L: tuple(L.median(L.tensor(3.0), 0)),
        lambda L: tuple(L.tensor([[4.0, 1.0, 3.0], [1.0, 1.0, 1.0]]).median(-1, keepdim=True)),
        lambda L: tuple(L.nanmedian(L.tensor([[NAN, NAN], [1.0, NAN]]), 1)),
        lambda L: L.nanmedian(L.tensor([NAN, 1.0, 2.0, 3.0, NAN])),
    ),
    # cumulative
    "cumsum_promotion": bundle(
        lambda L: L.cumsum(L.tensor([1, 2, 3], dtype=L.int32), 0),
        lambda L: L.tensor([100, 100], dtype=L.int8).cumsum(0),
        lambda L: L.tensor([200, 100], dtype=L.uint8).cumsum(0),
        lambda L: L.cumsum(L.tensor([True, True, False]), dim=0),
        lambda L: L.cumsum(L.tensor([1.0, 2.0], dtype=L.float16), 0),
        lambda L: L.count_nonzero(L.tensor([1, 0, 1], dtype=L.int8)),
    ),
    "cumsum_dtype_kw": bundle(
        lambda L: L.cumsum(L.tensor([1, 2, 3]), 0, dtype=L.float32),
        lambda L: L.cumsum(L.tensor([1.5, 2.5]), 0, dtype=L.int32),
        lambda L: L.tensor([1.0, 2.0]).cumsum(dim=0, dtype=L.float64),
    ),
    "cumsum_shapes_inplace_out": bundle(
        lambda L: L.cumsum(L.tensor(3), 0),
        lambda L: L.cumsum(L.tensor(3.0), -1),
        lambda L: L.cumsum(L.zeros(0, 2), 0),
        lambda L: L.cumsum(L.tensor([[1, 2], [3, 4]]), -1),
        lambda L: (lambda t: (t.cumsum_(0), t)[1])(L.tensor([1.0, 2.0, 3.0])),
        lambda L: (lambda o: (L.cumsum(L.tensor([1.0, 2.0, 3.0]), 0, out=o) is o, o))(L.empty(3)),
    ),
    "cumprod": bundle(
        lambda L: L.cumprod(L.tensor([1, 2, 3], dtype=L.int16), 0),
        lambda L: L.cumprod(L.tensor([True, True, False, True]), 0),
        lambda L: L.cumprod(L.tensor([1, 2, 3]), 0, dtype=L.float64),
        lambda L: L.cumprod(L.tensor([2.0, 0.0, 3.0]), 0),
    ),
    "cummax_cummin_ties_nan": bundle(
        lambda L: tuple(L.cummax(L.tensor([1.0, 3.0, 3.0, 2.0, 3.0, 5.0]), 0)),
        lambda L: tuple(L.cummin(L.tensor([3.0, 1.0, 1.0, 2.0, 1.0, 0.0]), 0)),
        lambda L: tuple(L.cummax(L.tensor([1.0, NAN, 3.0, NAN, 0.0]), 0)),
        lambda L: tuple(L.cummin(L.tensor([1.0, NAN, 0.0]), 0)),
        lambda L: tuple(L.cummax(L.tensor([1, 1, 1], dtype=L.int32), 0)),
    ),
    "cummax_dtypes_shapes": bundle(
        lambda L: tuple(L.cummax(L.tensor([[1, 3], [2, 2]]), dim=1)),
        lambda L: tuple(L.cummax(L.tensor([False, True, True]), 0)),
        lambda L: tuple(L.cummax(L.tensor(1.0), 0)),
        lambda L: tuple(L.cummax(L.zeros(0), 0)),
        lambda L: type(L.cummax(L.tensor([1, 2]), 0)).__name__,
    ),
    "logcumsumexp": bundle(
        lambda L: L.logcumsumexp(L.tensor([0.0, 1.0, -INF, 1000.0]), 0),
        lambda L: L.logcumsumexp(L.tensor([[0.0, 1.0], [2.0, 3.0]], dtype=L.float64), dim=1),
        lambda L: L.logcumsumexp(L.tensor([-INF, -INF]), 0),
        lambda L: L.logcumsumexp(L.tensor([INF, 1.0, INF]), 0),
        lambda L: L.logcumsumexp(L.tensor([1.0, NAN, 2.0]), 0),
        lambda L: L.logcumsumexp(L.tensor(2.0), 0),
        lambda L: L.logcumsumexp(L.zeros(0), 0),
    ),
    "diff": bundle(
        lambda L: L.diff(L.tensor([1, 4, 9, 16])),
        lambda L: L.diff(L.tensor([1.0, 4.0, 9.0, 16.0]), n=2),
        lambda L: L.diff(L.tensor([1.0, 4.0]), n=5),
        lambda L: L.diff(L.tensor([1.0, 4.0]), n=0),
        lambda L: L.diff(L.tensor([[1, 2], [4, 8]]), dim=0),
        lambda L: L.tensor([1, 4, 9]).diff(dim=-1),
    ),
    "diff_prepend_append_dtypes": bundle(
        lambda L: L.diff(L.tensor([1.0, 4.0]), prepend=L.tensor([0.0]), append=L.tensor([10.0, 20.0])),
        lambda L: L.diff(L.tensor([[1, 2], [4, 8]]), dim=1, prepend=L.tensor([[0], [0]])),
        lambda L: L.diff(L.tensor([True, False, False, True])),
        lambda L: L.diff(L.tensor([5, 3], dtype=L.uint8)),
        lambda L: L.diff(L.tensor([1, 4]), prepend=L.tensor([0.5])),
    ),
    "gradient_spacing": bundle(
        lambda L: L.gradient(L.tensor([1.0, 4.0, 9.0, 16.0])),
        lambda L: L.gradient(L.tensor(Y)),
        lambda L: L.gradient(L.tensor(Y), spacing=2.0),
        lambda L: L.gradient(L.tensor(Y), spacing=[2.0, 0.5]),
        lambda L: L.gradient(L.tensor(Y), spacing=(L.tensor([0.0, 1.0, 3.0]), L.tensor([0.0, 1.0, 1.5, 3.5]))),
        lambda L: L.gradient(L.tensor([1.0, 4.0, 9.0]), spacing=(L.tensor([0.0, 1.0, 3.0]),)),
        lambda L: type(L.gradient(L.tensor([1.0, 4.0, 9.0]))).__name__,
    ),
    "gradient_edge_order_dim": bundle(
        lambda L: L.gradient(L.tensor([1.0, 4.0, 9.0, 16.0]), edge_order=2),
        lambda L: L.gradient(L.tensor(Y), spacing=(L.tensor([0.0, 1.0, 3.0]), L.tensor([0.0, 1.0, 1.5, 3.5])), edge_order=2),
        lambda L: L.gradient(L.tensor(Y), dim=1),
        lambda L: L.gradient(L.tensor(Y), dim=[1], spacing=[3.0]),
        lambda L: L.gradient(L.tensor(Y), dim=-1, spacing=2),
        lambda L: L.gradient(L.tensor([1, 4, 9, 16])),
    ),
    "trapezoid": bundle(
        lambda L: L.trapezoid(L.tensor([1.0, 2.0, 3.0])),
        lambda L: L.trapezoid(L.tensor([1.0, 2.0, 3.0]), dx=0.5),
        lambda L: L.trapezoid(L.tensor([1.0, 2.0, 3.0]), L.tensor([0.0, 1.0, 3.0])),
        lambda L: L.trapezoid(L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), x=L.tensor([0.0, 1.0, 3.0]), dim=1),
        lambda L: L.trapezoid(L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), dim=0),
        lambda L: L.trapezoid(L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), L.tensor([[0.0, 1.0, 3.0], [0.0, 2.0, 3.0]])),
        lambda L: L.trapezoid(L.tensor([1, 2, 4])),
        lambda L: L.trapezoid(L.tensor([1, 2, 4]), L.tensor([0, 1, 3])),
        lambda L: L.trapezoid(L.zeros(0)),
        lambda L: L.trapezoid(L.tensor([5.0])),
        lambda L: L.trapz(L.tensor([1.0, 2.0, 3.0]), dx=2.0),
    ),
    "cumulative_trapezoid": bundle(
        lambda L: L.cumulative_trapezoid(L.tensor([1.0, 2.0, 3.0, 5.0])),
        lambda L: L.cumulative_trapezoid(L.tensor([1.0, 2.0, 3.0]), L.tensor([0.0, 1.0, 3.0])),
        lambda L: L.cumulative_trapezoid(L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), dx=2.0, dim=0),
        lambda L: L.cumulative_trapezoid(L.tensor([1, 2, 4])),
        lambda L: L.cumulative_trapezoid(L.tensor([5.0])),
        lambda L: L.cumulative_trapezoid(L.zeros(0)),
    ),
    "count_nonzero": bundle(
        lambda L: L.count_nonzero(L.tensor([[0, 1, 2], [0, 0, 3]])),
        lambda L: L.count_nonzero(L.tensor([[0, 1, 2], [0, 0, 3]]), dim=0),
        lambda L: L.count_nonzero(L.tensor([[[0, 1], [2, 0]]]), dim=(0, 2)),
        lambda L: L.count_nonzero(L.tensor([NAN, 0.0, -0.0, 1.0])),
        lambda L: L.tensor([True, False]).count_nonzero(),
        lambda L: L.count_nonzero(L.zeros(0, 3), dim=1),
        lambda L: L.count_nonzero(L.tensor(3.0), dim=0),
        lambda L: L.count_nonzero(L.zeros(2, 3), dim=-1),
    ),
    # histograms
    "histogram_bins_range": bundle(
        lambda L: tuple(L.histogram(L.tensor(H), bins=4)),
        lambda L: tuple(L.histogram(L.tensor(H), bins=3, range=(0.0, 3.0))),
        lambda L: tuple(L.histogram(L.tensor([-1.0, 0.5, 5.0]), 2, range=(0.0, 1.0))),
        lambda L: tuple(L.histogram(L.tensor(H, dtype=L.float64), bins=2)),
        lambda L: tuple(L.histogram(L.tensor([2.0, 2.0, 2.0]), bins=4)),
        lambda L: tuple(L.histogram(L.zeros(0), bins=3)),
        lambda L: tuple(L.histogram(L.tensor([[1.0, 2.0], [3.0, 4.0]]), bins=3)),
        lambda L: tuple(L.tensor(H).histogram(3)),
    ),
    "histogram_weight_density_edges": bundle(
        lambda L: tuple(L.histogram(L.tensor(H), bins=3, weight=L.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]))),
        lambda L: tuple(L.histogram(L.tensor(H), bins=3, density=True)),
        lambda L: tuple(L.histogram(L.tensor(H), bins=L.tensor([0.0, 1.0, 2.5, 5.0]))),
        lambda L: tuple(L.histogram(L.tensor(H), L.tensor([0.0, 1.0, 2.5, 5.0]), density=True)),
        lambda L: tuple(L.histogram(L.tensor([0.0, 1.0, 2.0, 3.0]), L.tensor([0.0, 1.0, 3.0]))),
        lambda L: tuple(L.tensor([1.0, 2.0, 3.0]).histogram(bins=L.tensor([0.0, 2.0, 4.0]), weight=L.tensor([1.0, 1.0, 2.0]))),
        lambda L: (lambda r: (type(r).__name__, r.hist, r.bin_edges, len(r)))(L.histogram(L.tensor([1.0, 2.0]), 3)),
    ),
    "histogram_default_bins_100": bundle(lambda L: tuple(L.histogram(L.tensor(H))), lambda L: tuple(L.tensor(H).histogram())),
    "histogramdd_histc": bundle(
        lambda L: tuple(L.histogramdd(L.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]]), bins=[2, 2])),
        lambda L: tuple(L.histogramdd(L.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]]), bins=3)),
        lambda L: tuple(L.histogramdd(L.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]]), bins=[2, 3], range=[0.0, 2.0, 0.0, 1.0],
                                      weight=L.tensor([1.0, 2.0, 3.0]), density=True)),
        lambda L: tuple(L.histogramdd(L.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]]),
                                      bins=[L.tensor([0.0, 1.0, 2.0]), L.tensor([0.0, 0.6, 1.0])])),
        lambda L: (lambda r: (type(r).__name__, type(r.bin_edges).__name__, len(r.bin_edges)))(
            L.histogramdd(L.tensor([[0.0, 0.0], [1.0, 1.0]]), bins=2)),
        lambda L: L.histc(L.tensor(H), bins=4, min=0, max=4),
        lambda L: L.histc(L.tensor(H)),
    ),
    # unique
    "unique": bundle(
        lambda L: L.unique(L.tensor([3, 1, 2, 3, 1, 1, 0]), sorted=False, return_inverse=True, return_counts=True),
        lambda L: L.unique(L.tensor([1.0, NAN, 1.0, NAN]), return_counts=True),
        lambda L: L.unique(L.tensor([], dtype=L.int64), return_inverse=True, return_counts=True),
        lambda L: L.unique(L.tensor(3), return_inverse=True, return_counts=True),
        lambda L: L.unique(L.tensor([True, False, True]), return_counts=True),
        lambda L: L.unique(L.tensor([[3, 1], [1, 2]]), return_inverse=True),
        lambda L: L.unique(L.tensor([2, 1]), True, True),
        lambda L: (lambda r: (type(r).__name__, len(r)))(L.unique(L.tensor([2, 1]), return_inverse=True)),
    ),
    "unique_dim": bundle(
        lambda L: L.unique(L.tensor([[1, 2], [1, 2], [0, 9]]), dim=0, return_inverse=True, return_counts=True),
        lambda L: L.unique(L.tensor([[1, 0, 1], [2, 5, 2]]), dim=-1, return_inverse=True),
        lambda L: L.unique(L.zeros(0, 2), dim=0, return_counts=True),
        lambda L: L.tensor([[1, 2], [1, 2]]).unique(dim=0, return_counts=True),
    ),
    "unique_consecutive": bundle(
        lambda L: L.unique_consecutive(L.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True, return_counts=True),
        lambda L: L.unique_consecutive(L.tensor([1, 1, 2, 2, 3, 1, 1, 2])),
        lambda L: L.unique_consecutive(L.tensor([[1, 1], [1, 1], [2, 3], [1, 1]]), dim=0, return_inverse=True, return_counts=True),
        lambda L: L.unique_consecutive(L.tensor([[1, 1, 2], [3, 3, 4]]), dim=1, return_counts=True),
        lambda L: L.unique_consecutive(L.tensor([[1, 1], [2, 2]]), return_inverse=True),
        lambda L: L.unique_consecutive(L.tensor([], dtype=L.float32), return_inverse=True, return_counts=True),
        lambda L: L.unique_consecutive(L.tensor(5.0), return_inverse=True, return_counts=True),
        lambda L: L.tensor([1, 1, 2]).unique_consecutive(return_counts=True),
        lambda L: L.unique_consecutive(L.tensor([NAN, NAN, 1.0]), return_counts=True),
    ),
    # flip / roll / rot90
    "flip": bundle(
        lambda L: L.flip(L.tensor(A), dims=(0, 1)),
        lambda L: L.flip(L.tensor(A), [-1]),
        lambda L: L.tensor(A).flip(0, 1),
        lambda L: L.tensor(A).flip(1),
        lambda L: L.flip(L.tensor(A), ()),
        lambda L: L.flip(L.tensor(3.0), (0,)),
        lambda L: L.fliplr(L.tensor(A)),
        lambda L: L.flipud(L.tensor([1, 2, 3])),
        lambda L: (lambda t: (lambda f: (t.__setitem__(0, 9.0), f)[1])(L.flip(t, (0,))))(L.tensor([1.0, 2.0])),
    ),
    "roll": bundle(
        lambda L: L.roll(L.tensor(A), 1),
        lambda L: L.roll(L.tensor(A), -4),
        lambda L: L.roll(L.tensor(A), 1, 1),
        lambda L: L.roll(L.tensor(A), shifts=(1, -1), dims=(0, 1)),
        lambda L: L.roll(L.tensor(A), shifts=(1, 1), dims=(1, 1)),
        lambda L: L.roll(L.tensor(A), 7, 1),
        lambda L: L.roll(L.zeros(0, 3), 1, 0),
        lambda L: L.roll(L.tensor(1.0), 1),
        lambda L: L.tensor(A).roll(1, dims=0),
    ),
    "rot90": bundle(
        lambda L: L.rot90(L.tensor(A)),
        lambda L: L.rot90(L.tensor(A), 2),
        lambda L: L.rot90(L.tensor(A), -1),
        lambda L: L.rot90(L.tensor(A), 5, [0, 1]),
        lambda L: L.rot90(L.tensor(A), 1, (1, 0)),
        lambda L: L.rot90(L.arange(8).reshape(2, 2, 2), 1, (0, 2)),
        lambda L: L.tensor(A).rot90(k=3, dims=[0, 1]),
        lambda L: L.rot90(L.tensor(A), 1, (-2, -1)),
    ),
    "searchsorted_out": lambda L: (lambda o: (L.searchsorted(L.tensor([1.0, 2.0, 3.0]), L.tensor([1.5, 2.5]), out=o), o)[1])(
            L.empty(2, dtype=L.long)),
    "searchsorted_bucketize_out_int32": bundle(
        lambda L: (lambda o: (L.searchsorted(L.tensor([1.0, 2.0, 3.0]), L.tensor([1.5, 2.5]), out_int32=True, out=o), o)[1])(
            L.empty(2, dtype=L.int32)),
        lambda L: (lambda o: (L.bucketize(L.tensor([1.5, 2.5]), L.tensor([1.0, 2.0, 3.0]), out=o), o)[1])(L.empty(2, dtype=L.long)),
    ),
    "flip_method_dims_forms": bundle(
        lambda L: L.tensor(A).flip(1), lambda L: L.tensor(A).flip(1, 0), lambda L: L.tensor(A).flip([1]),
        lambda L: L.tensor(A).flip(dims=[0]), lambda L: L.flip(L.tensor(A), dims=(0, 1)),
    ),
}


@pytest.mark.parametrize("run", list(VALUE_CASES.values()), ids=list(VALUE_CASES))
def test_same_values(run):
    same_in_both(run)


# --- bad input: PyTorch's exception type --------------------------------------------------------

RAISES_CASES = {
    "searchsorted_right_and_side_left": lambda L: L.searchsorted(L.tensor(S), L.tensor([3.0]), right=True, side="left"),
    "searchsorted_leading_dims_mismatch": lambda L: L.searchsorted(L.tensor([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]), L.tensor([[3.0, 6.0]])),
    "searchsorted_sorter_int32": lambda L: L.searchsorted(L.tensor([5.0, 1.0, 9.0]), L.tensor([3.0]), sorter=L.tensor([1, 0, 2], dtype=L.int32)),
    "searchsorted_sorter_bad_shape": lambda L: L.searchsorted(L.tensor([5.0, 1.0, 9.0]), L.tensor([3.0]), sorter=L.tensor([1, 0])),
    "searchsorted_side_bad": lambda L: L.searchsorted(L.tensor(S), L.tensor([3.0]), side="middle"),
    "searchsorted_0d_sequence": lambda L: L.searchsorted(L.tensor(1.0), L.tensor([2.0])),
    "bucketize_2d_boundaries": lambda L: L.bucketize(L.tensor([3.0]), L.tensor([[1.0, 2.0], [3.0, 4.0]])),
    "sort_dim_out_of_range": lambda L: L.sort(L.tensor([3, 1, 2]), dim=1),
    "topk_k_too_big": lambda L: L.topk(L.tensor([1.0, 2.0]), 3),
    "topk_k_negative": lambda L: L.topk(L.tensor([1.0, 2.0]), -1),
    "topk_bool": lambda L: L.topk(L.tensor([True, False, True]), 1),
    "kthvalue_empty": lambda L: L.kthvalue(L.zeros(0), 1),
    "mode_empty": lambda L: L.mode(L.zeros(0)),
    "median_bool": lambda L: L.median(L.tensor([True, False, True])),
    "cumsum_no_dim": lambda L: L.cumsum(L.tensor([1, 2])),
    "cumsum_0d_dim1": lambda L: L.cumsum(L.tensor(3.0), 1),
    "cumprod_method_no_dim": lambda L: L.tensor([1, 2]).cumprod(),
    "logcumsumexp_int": lambda L: L.logcumsumexp(L.tensor([1, 2]), 0),
    "diff_0d": lambda L: L.diff(L.tensor(1.0)),
    "diff_negative_n": lambda L: L.diff(L.tensor([1.0, 2.0]), n=-1),
    "diff_prepend_0d": lambda L: L.diff(L.tensor([1.0, 4.0]), prepend=L.tensor(0.0)),
    "diff_append_shape_mismatch": lambda L: L.diff(L.tensor([[1.0, 2.0]]), append=L.tensor([3.0])),
    "gradient_too_few_points": lambda L: L.gradient(L.tensor([1.0])),
    "gradient_edge_order2_two_points": lambda L: L.gradient(L.tensor([1.0, 2.0]), edge_order=2),
    "gradient_edge_order3": lambda L: L.gradient(L.tensor([1.0, 2.0, 3.0, 4.0]), edge_order=3),
    "gradient_spacing_wrong_length": lambda L: L.gradient(L.tensor(Y), spacing=[1.0, 2.0, 3.0]),
    "trapezoid_0d": lambda L: L.trapezoid(L.tensor(5.0)),
    "trapezoid_x_length_mismatch": lambda L: L.trapezoid(L.tensor([1.0, 2.0, 3.0]), L.tensor([0.0, 1.0])),
    "trapezoid_x_and_dx": lambda L: L.trapezoid(L.tensor([1.0, 2.0]), L.tensor([0.0, 1.0]), dx=2.0),
    "count_nonzero_duplicate_dims": lambda L: L.count_nonzero(L.zeros(2, 3), dim=(0, 0)),
    "histogram_int_input": lambda L: L.histogram(L.tensor([1, 2, 3]), bins=2),
    "histogram_bins_zero": lambda L: L.histogram(L.tensor([1.0, 2.0, 3.0]), 0),
    "histogram_reversed_range": lambda L: L.histogram(L.tensor(H), bins=3, range=(3.0, 1.0)),
    "histogram_inf_input": lambda L: L.histogram(L.tensor([1.0, INF]), bins=3),
    "histogram_weight_shape_mismatch": lambda L: L.histogram(L.tensor([1.0, 2.0, 3.0]), 2, weight=L.tensor([1.0, 1.0])),
    "histc_int_input": lambda L: L.histc(L.tensor([1, 2, 3]), bins=3),
    "unique_dim_out_of_range": lambda L: L.unique(L.tensor([[1, 2]]), dim=2),
    "flip_duplicate_dims": lambda L: L.flip(L.tensor(A), (0, 0)),
    "flip_dim_out_of_range": lambda L: L.flip(L.tensor(A), (2,)),
    "flip_int_dims_function": lambda L: L.flip(L.tensor(A), 1),
    "fliplr_1d": lambda L: L.fliplr(L.tensor([1, 2])),
    "flipud_0d": lambda L: L.flipud(L.tensor(1)),
    "roll_shifts_dims_mismatch": lambda L: L.roll(L.tensor(A), shifts=(1, 2), dims=(0,)),
    "roll_tuple_shifts_no_dims": lambda L: L.roll(L.tensor(A), (1, 2)),
    "roll_0d_with_dim": lambda L: L.roll(L.tensor(1.0), 1, 0),
    "roll_dim_out_of_range": lambda L: L.roll(L.tensor(A), 1, 2),
    "rot90_same_dims": lambda L: L.rot90(L.tensor(A), 1, (0, 0)),
    "rot90_one_dim": lambda L: L.rot90(L.tensor(A), 1, (0,)),
    "rot90_1d": lambda L: L.rot90(L.tensor([1, 2])),
    "rot90_dims_out_of_range": lambda L: L.rot90(L.tensor(A), 1, (0, 2)),
    "rot90_float_k": lambda L: L.rot90(L.tensor(A), 1.0),
    "rot90_bool_k": lambda L: L.rot90(L.tensor(A), True),
    "flip_no_dims": lambda L: L.tensor(A).flip(),
    "searchsorted_out_int32_without_flag": lambda L: L.searchsorted(L.tensor(S), L.tensor([3.0]), out=L.empty(1, dtype=L.int32)),
    "searchsorted_0d_input_2d_sequence": lambda L: L.searchsorted(L.tensor([S]), L.tensor(3.0)),
    "trapezoid_number_x": lambda L: L.trapezoid(L.tensor([1.0, 2.0]), 2.0),
    "cumulative_trapezoid_x_and_dx": lambda L: L.cumulative_trapezoid(L.tensor([1.0, 2.0]), L.tensor([0.0, 1.0]), dx=2.0),
    "histogram_weight_dtype_mismatch": lambda L: L.histogram(L.tensor([1.0, 2.0]), 2, weight=L.tensor([1.0, 1.0], dtype=L.float64)),
}


@pytest.mark.parametrize("run", list(RAISES_CASES.values()), ids=list(RAISES_CASES))
def test_raises_as_torch(run):
    raises_as_torch(run)


# --- gradients (float64) ------------------------------------------------------------------------

D = [[0.3, -1.2, 2.0, 0.7], [1.5, 0.0, -0.4, 2.2]]
Z = [[2.0, 0.0, 3.0, 0.0], [1.5, -2.0, 0.5, 4.0]]


def grad_of(function, data):
    """The gradient of ``sum(w * function(x))`` with distinct weights ``w``, so misrouting shows."""
    def run(L):
        x = L.tensor(data, dtype=L.float64, requires_grad=True)
        y = function(x, L)
        w = L.tensor(np.arange(1, y.numel() + 1, dtype=np.float64).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        return x.grad
    return run


GRAD_FUNCTIONS = {
    "sort_topk_kthvalue": lambda x, L: L.cat([L.sort(x, dim=1, descending=True)[0].flatten(), L.topk(x, 2, dim=1)[0].flatten(),
                                             L.kthvalue(x, 2, dim=1)[0], L.msort(x).flatten()]),
    "median_mode_nanmedian": lambda x, L: L.cat([L.median(x, dim=1)[0], L.median(x).reshape(1), L.mode(L.round(x), 1)[0],
                                                L.nanmedian(x, 1)[0]]),
    "cumsum_cumprod": lambda x, L: L.cat([L.cumsum(x, 1), L.cumsum(x, 0, dtype=L.float64), L.cumprod(x, 1)]),
    "cummax_cummin_logcumsumexp": lambda x, L: L.cat([L.cummax(x, 1)[0], L.cummin(x, 0)[0], L.logcumsumexp(x, 1)]),
    "diff_gradient": lambda x, L: L.cat([L.diff(x, n=2, dim=1, prepend=x[:, :1]).flatten(),
                                         L.gradient(x, spacing=[2.0, 0.5])[1].flatten(),
                                         L.gradient(x, spacing=(L.tensor([0.0, 1.0, 3.0, 4.0], dtype=L.float64),), edge_order=2, dim=1)[0].flatten()]),
    "trapezoid": lambda x, L: L.cat([L.trapezoid(x, L.tensor([0.0, 1.0, 3.0, 4.0], dtype=L.float64)),
                                     L.cumulative_trapezoid(x, dx=0.5).flatten()]),
    "flip_roll_rot90": lambda x, L: L.cat([L.flip(x, (0, 1)).flatten(), L.roll(x, (1, -1), (0, 1)).flatten(),
                                           L.roll(x, 3).flatten(), L.rot90(x, -1).flatten()]),
}

GRAD_CASES = {f"{name}_{label}": grad_of(function, data)
              for name, function in GRAD_FUNCTIONS.items() for label, data in (("plain", D), ("zeros", Z))}
GRAD_CASES.update({
    "cummax_ties": grad_of(lambda x, L: L.cummax(x, 0)[0], [1.0, 3.0, 3.0, 2.0, 3.0]),
    "cumprod_two_zeros": grad_of(lambda x, L: L.cumprod(x, 0), [2.0, 0.0, 3.0, 0.0, 5.0]),
    "logcumsumexp_neg_inf": grad_of(lambda x, L: L.logcumsumexp(x, 0), [-INF, 1.0, 2.0]),
    "sort_stable_ties": grad_of(lambda x, L: L.sort(x, stable=True)[0], [1.0, 1.0, 0.0, 1.0]),
})


def _trapezoid_x_grad(L):
    x = L.tensor([0.0, 1.0, 3.0], dtype=L.float64, requires_grad=True)
    L.trapezoid(L.tensor([[1.0, 2.0, 4.0]], dtype=L.float64), x).sum().backward()
    return x.grad


GRAD_CASES["trapezoid_wrt_x"] = _trapezoid_x_grad


@pytest.mark.parametrize("run", list(GRAD_CASES.values()), ids=list(GRAD_CASES))
def test_same_gradients(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)
