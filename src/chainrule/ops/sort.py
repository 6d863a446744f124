"""Sorting and selecting by order: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode.

Each of them decides, on the arrays, *which* element of x goes to each output position along one
dimension (an index array), then reads those elements: out = x at the chosen positions. Reading is
``GetItem``'s work (``ops/index.py``), and so is the gradient: each output's gradient goes back to
the position it was read from, 0 elsewhere. The classes below only give each reading PyTorch's node
name (``SortBackward0``, ``TopkBackward0``, ...) and its formula.

Order follows PyTorch: nan counts as larger than every number (last when ascending, first when
descending), and sorting is stable, so that equal elements keep their order. Where several
positions hold the value that ``topk``, ``kthvalue`` or ``median`` choose, PyTorch's choice depends
on its selection algorithm; here it is the one a stable sort puts at that rank. The values agree
with PyTorch's in every case, and the gradient goes to the returned index.
"""
import operator
from collections import namedtuple

from chainrule import dtypes
from chainrule.backend import as_array, running_maximum, stable_argsort, xp
from chainrule.ops.elementwise import selected
from chainrule.ops.index import GetItem, _along_dim_key
from chainrule.ops.op import Op
from chainrule.ops.reduce import one_axis
from chainrule.ops.registry import public
from chainrule.tensor import tensor_from_array

#: What PyTorch's ``torch.return_types`` hold: ``values, indices = x.sort()``.
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
nanmedian_result = namedtuple("nanmedian", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])


# ----------------------------------------------------------------------------- reading chosen positions
class ChosenAlongDim(GetItem):
    """x read at positions chosen along one dimension: the gradient goes back to those positions."""

    formula = "x at the positions chosen along dim"
    derivatives = ("grad at the chosen positions, 0 elsewhere", None, None)


class Sort(ChosenAlongDim):
    formula = "x sorted along dim"


class StableSort(Sort):
    node_name = "SortBackward1"  # PyTorch's node when ``stable=`` is given


class Topk(ChosenAlongDim):
    formula = "the k largest (or smallest) elements of x along dim"


class Kthvalue(ChosenAlongDim):
    formula = "the k-th smallest element of x along dim"


class Median(ChosenAlongDim):
    node_name = "MedianBackward1"
    formula = "the middle element of x sorted along dim (the lower one for an even count)"


class Nanmedian(ChosenAlongDim):
    node_name = "NanmedianBackward1"
    formula = "the middle element of the non-nan elements of x sorted along dim"


class Mode(ChosenAlongDim):
    formula = "the most frequent element of x along dim (the smallest among equally frequent ones)"


def read_chosen(kind, x, indices, axis, keepdim=True, repeats=False):
    """``(values, indices)``: x read at ``indices`` along ``axis`` (an int64 array with x's number of
    dimensions) by the ChosenAlongDim subclass ``kind``; without ``keepdim`` the size-1 ``axis`` of
    both is dropped. ``repeats``: a position may be chosen more than once (its gradients then add).
    A 0-d x has one element, read as itself."""
    if x.array.ndim == 0:
        return kind.apply(x, (), False), tensor_from_array(xp.zeros((), dtype=dtypes.int64))
    key = _along_dim_key(indices, axis)
    if not keepdim:
        key = tuple(xp.squeeze(part, axis) for part in key)
        indices = xp.squeeze(indices, axis)
    return kind.apply(x, key, repeats), tensor_from_array(indices)


def sorting_positions(array, axis, descending=False):
    """The positions that sort ``array`` along ``axis``, stable, nan counted as largest.

    Descending: the array is reversed, sorted ascending (stable) and the order reversed back, which
    puts nan first and keeps equal elements in their original order, as PyTorch does.
    """
    if not descending:
        return as_array(stable_argsort(array, axis), dtypes.int64)
    last = array.shape[axis] - 1
    reversed_order = stable_argsort(xp.flip(array, axis), axis)
    return as_array(last - xp.flip(reversed_order, axis), dtypes.int64)


def _require_nonempty_dim(x, axis, operation):
    if x.array.ndim and x.array.shape[axis] == 0:
        raise IndexError(
            f"{operation}(): Expected reduction dim {axis} to have non-zero size (input shape "
            f"{tuple(x.array.shape)}); choose a non-empty dimension"
        )


def _size_along(x, axis):
    return x.array.shape[axis] if x.array.ndim else 1


# ----------------------------------------------------------------------------- sort, argsort, msort, topk
@public
def sort(input, dim=-1, descending=False, stable=None):
    """``(values, indices)``: input sorted along ``dim`` (ascending unless ``descending``), and where
    each value was. Equal elements keep their order (the sort is always stable); nan sorts as the
    largest value. The gradient of each value goes back to the position it came from.
    """
    axis = one_axis(input, dim, "sort")
    kind = Sort if stable is None else StableSort
    if input.array.ndim == 0:
        return sort_result(*read_chosen(kind, input, None, 0))
    return sort_result(*read_chosen(kind, input, sorting_positions(input.array, axis, descending), axis))


@public
def argsort(input, dim=-1, descending=False, stable=False):
    """The int64 positions that sort input along ``dim``: ``sort(input, dim).indices`` (no gradient)."""
    axis = one_axis(input, dim, "argsort")
    if input.array.ndim == 0:
        return tensor_from_array(xp.zeros((), dtype=dtypes.int64))
    return tensor_from_array(sorting_positions(input.array, axis, descending))


@public
def msort(input):
    """input sorted along its first dimension: ``sort(input, dim=0).values``."""
    return sort(input, 0).values


@public
def topk(input, k, dim=-1, largest=True, sorted=True):
    """``(values, indices)`` of the ``k`` largest elements along ``dim`` (the smallest with
    ``largest=False``), largest first (smallest first). ``sorted=False`` is accepted; the values
    come sorted all the same. The gradient goes back to the chosen positions.
    """
    axis = one_axis(input, dim, "topk")
    size = _size_along(input, axis)
    k = operator.index(k)
    if not 0 <= k <= size:
        raise RuntimeError(
            f"topk(): selected index k out of range: k = {k}, but dimension {dim} of the input "
            f"(shape {tuple(input.array.shape)}) has {size} elements; choose 0 <= k <= {size}"
        )
    if input.array.ndim == 0:
        return topk_result(*read_chosen(Topk, input, None, 0))
    positions = sorting_positions(input.array, axis, descending=largest)
    return topk_result(*read_chosen(Topk, input, xp.take(positions, xp.arange(k), axis=axis), axis))


# ----------------------------------------------------------------------------- kthvalue, median, mode
def _chosen_rank(kind, result, input, dim, keepdim, operation, rank_of):
    """The element of rank ``rank_of(sorted array, axis)`` (int array, size 1 along axis) in input
    sorted along ``dim``, read by ``kind`` and returned as the named tuple ``result``."""
    axis = one_axis(input, dim, operation)
    _require_nonempty_dim(input, axis, operation)
    if input.array.ndim == 0:
        return result(*read_chosen(kind, input, None, 0))
    positions = sorting_positions(input.array, axis)
    ranks = rank_of(xp.take_along_axis(input.array, positions, axis), axis)
    return result(*read_chosen(kind, input, xp.take_along_axis(positions, ranks, axis), axis, keepdim))


def _constant_rank(rank):
    def rank_of(sorted_array, axis):
        shape = list(sorted_array.shape)
        shape[axis] = 1
        return xp.full(shape, rank, dtype=dtypes.int64)

    return rank_of


def _median_rank(sorted_array, axis):
    """The lower middle rank, or the rank of the first nan where a slice has one (its median is nan)."""
    size = sorted_array.shape[axis]
    numbers = xp.sum(~xp.isnan(sorted_array), axis=axis, keepdims=True) if sorted_array.dtype.kind == "f" else size
    return as_array(xp.where(numbers < size, numbers, (size - 1) // 2), dtypes.int64)


def _nanmedian_rank(sorted_array, axis):
    """The lower middle rank among the non-nan elements (0 where all are nan)."""
    numbers = xp.sum(~xp.isnan(sorted_array), axis=axis, keepdims=True) if sorted_array.dtype.kind == "f" else sorted_array.shape[axis]
    return as_array(xp.maximum((numbers - 1) // 2, 0), dtypes.int64)


def _mode_rank(sorted_array, axis):
    """The rank of the last element of the longest run of equal values in the sorted array (the
    first such run, so the smallest value). A stable sort puts that value's last occurrence there,
    which is the index PyTorch returns."""
    size = sorted_array.shape[axis]
    ranks = xp.arange(size).reshape([size if each == axis else 1 for each in range(sorted_array.ndim)])
    previous = xp.take(sorted_array, xp.maximum(xp.arange(size) - 1, 0), axis=axis)
    run_starts = (ranks == 0) | (sorted_array != previous)
    run_start = running_maximum(xp.where(run_starts, ranks, 0), axis)  # the latest start at or before each rank
    run_length_so_far = ranks - run_start + 1
    return as_array(xp.argmax(run_length_so_far, axis=axis, keepdims=True), dtypes.int64)


@public
def kthvalue(input, k, dim=-1, keepdim=False):
    """``(values, indices)``: the ``k``-th smallest element along ``dim`` (k = 1 is the smallest)."""
    axis = one_axis(input, dim, "kthvalue")
    size = _size_along(input, axis)
    k = operator.index(k)
    if size and not 1 <= k <= size:
        raise RuntimeError(
            f"kthvalue(): selected number k out of range for dimension {dim}: k = {k}, but it has "
            f"{size} elements; choose 1 <= k <= {size}"
        )
    return _chosen_rank(Kthvalue, kthvalue_result, input, dim, keepdim, "kthvalue", _constant_rank(k - 1))


class MedianAll(Op):
    """The median of every element. Where several elements equal it, they share its gradient evenly
    (PyTorch's rule for a reduction over all elements; a nan median goes to the nan elements)."""

    node_name = "MedianBackward0"
    formula = "the middle element of x sorted (the lower one for an even count)"
    derivatives = ("1/k at each of the k elements equal to out, else 0", None)

    @staticmethod
    def forward(ctx, x, ignore_nan):
        flat = x.reshape(-1)
        ordered = xp.take(flat, sorting_positions(flat, 0))
        rank = (_nanmedian_rank if ignore_nan else _median_rank)(ordered, 0)
        result = xp.take(ordered, rank.reshape(()))
        chosen = (x == result) | (xp.isnan(x) & xp.isnan(result))
        ctx.share = (chosen / xp.sum(chosen)).astype(x.dtype)
        ctx.chosen = chosen
        return result

    @staticmethod
    def backward(ctx, grad_output):
        return selected(ctx.xp, ctx.chosen, grad_output * ctx.share), None


class NanmedianAll(MedianAll):
    node_name = "NanmedianBackward0"
    formula = "the middle element of the non-nan elements of x sorted"


def _median_of_all(kind, input, ignore_nan):
    if input.array.size == 0:
        return tensor_from_array(xp.full((), xp.nan, dtype=input.array.dtype))
    return kind.apply(input, ignore_nan)


@public
def median(input, dim=None, keepdim=False):
    """Without ``dim``: the median of every element, a 0-d tensor (the lower of the two middle ones
    for an even count; nan if there is a nan). With ``dim``: ``(values, indices)`` along ``dim``."""
    if dim is None:
        return _median_of_all(MedianAll, input, ignore_nan=False)
    return _chosen_rank(Median, median_result, input, dim, keepdim, "median", _median_rank)


@public
def nanmedian(input, dim=None, keepdim=False):
    """``median`` ignoring nan: the median of the other elements (nan only where all are nan)."""
    if dim is None:
        return _median_of_all(NanmedianAll, input, ignore_nan=True)
    return _chosen_rank(Nanmedian, nanmedian_result, input, dim, keepdim, "nanmedian", _nanmedian_rank)


@public
def mode(input, dim=-1, keepdim=False):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest of equally frequent
    ones) and the position of its last occurrence."""
    return _chosen_rank(Mode, mode_result, input, dim, keepdim, "mode", _mode_rank)

