"""Sorting and selecting by order: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode,
quantile, nanquantile; and counting values: histc, histogram, unique, unique_consecutive.

Each of the first eight decides, on the arrays, *which* element of x goes to each output position
along one dimension (an index array), then reads those elements: out = x at the chosen positions. Reading is
``GetItem``'s work (``ops/index.py``), and so is the gradient: each output's gradient goes back to
the position it was read from, 0 elsewhere. The classes below only give each reading PyTorch's node
name (``SortBackward0``, ``TopkBackward0``, ...) and its formula.

Order follows PyTorch: nan counts as larger than every number (last when ascending, first when
descending). Equal elements are ordered as PyTorch's CPU kernels order them: ``sort(stable=True)``
keeps their order; ``sort``, ``argsort`` and ``topk`` otherwise follow libstdc++'s algorithms, and
``kthvalue`` PyTorch's own quickselect, replayed in ``cpu_sort_order.py``; ``median`` breaks ties
by position, as a stable sort does. The values agree with PyTorch's in every case, and the gradient
goes to the returned index.

``quantile`` interpolates between sorted values, so its gradient flows through ``sort``. The
counting functions give counts and distinct values, without gradient.
"""
import builtins
import math
import operator

from chainrule import dtypes
from chainrule.autograd.function import array_from_shapes, computed_without_gradient, made_from_arguments, made_from_values, shaped_by_values, written_in_python
from chainrule.backend import add_at, as_array, running_maximum, stable_argsort, xp
from chainrule.creation import evenly_spaced
from chainrule.ops import cpu_sort_order
from chainrule.ops.broadcast import expand
from chainrule.ops.elementwise import lerp, selected
from chainrule.ops.index import GetItem, _along_dim_key, gather
from chainrule.ops.op import Op
from chainrule.ops.reduce import one_axis, require_nonempty
from chainrule.ops.registry import SAME_DTYPE, public
from chainrule.ops.shape import reshape, squeeze, unsqueeze
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.return_types import return_type

#: What PyTorch's ``torch.return_types`` hold: ``values, indices = x.sort()``.
sort_result = return_type("sort", ["values", "indices"])
topk_result = return_type("topk", ["values", "indices"])
kthvalue_result = return_type("kthvalue", ["values", "indices"])
median_result = return_type("median", ["values", "indices"])
nanmedian_result = return_type("nanmedian", ["values", "indices"])
mode_result = return_type("mode", ["values", "indices"])


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
    """``(values, indices)``: x read at ``indices`` along ``axis`` by the ChosenAlongDim subclass
    ``kind``. ``indices``: int64, of x's number of dimensions, or without ``keepdim`` with ``axis``
    dropped (it was size 1); found by ``computed_without_gradient``, so that a compiled program
    finds them again. ``repeats``: a position may be chosen more than once (its gradients then
    add). A 0-d x has one element, read as itself."""
    if x._array.ndim == 0:
        return kind.apply(x, (), False), made_from_arguments(xp.zeros((), dtype=dtypes.int64))
    return kind.apply(x, _reading_key(indices, axis, keepdim), repeats), tensor_from_array(indices)


def _reading_key(indices, axis, keepdim):
    """The key that reads x at ``indices`` along ``axis`` (see ``read_chosen``): the other axes'
    grids, made from shapes alone, lose ``axis`` too without ``keepdim``."""
    if keepdim:
        return _along_dim_key(indices, axis)
    grids = _along_dim_key(xp.expand_dims(indices, axis), axis)
    return tuple(indices if each == axis else array_from_shapes(xp.squeeze(grid, axis)) for each, grid in enumerate(grids))


def sorting_positions(array, axis, descending=False, stable=True):
    """The positions that sort ``array`` along ``axis``, nan counted as largest.

    Stable: equal elements keep their order. Descending: the array is reversed, sorted ascending
    (stable) and the order reversed back, which puts nan first and keeps equal elements in their
    original order, as PyTorch does. Not ``stable`` (PyTorch's default): equal elements in the order
    PyTorch's CPU sort leaves them, libstdc++'s ``std::sort`` (``cpu_sort_order``), which keeps it
    for 16 elements or fewer, and for its radix sort of a 1-d integer tensor of 32768 or more
    ascending.
    """
    if not descending:
        positions = as_array(stable_argsort(array, axis), dtypes.int64)
    else:
        last = array.shape[axis] - 1
        positions = as_array(last - xp.flip(stable_argsort(xp.flip(array, axis), axis), axis), dtypes.int64)
    size = array.shape[axis] if array.ndim else 1
    radix_sorted = array.ndim == 1 and array.dtype.kind in "iu" and not descending and size >= 32768
    if stable or size <= 16 or radix_sorted:
        return positions
    return _ties_in_cpu_order(array, axis, positions, descending, cpu_sort_order.sort_order)


def top_positions(array, axis, k, largest):
    """The positions of the ``k`` largest (smallest) elements of ``array`` along ``axis``, in
    order; among equal values, those PyTorch's CPU ``topk`` picks, in its order (``cpu_sort_order``)."""
    positions = xp.take(sorting_positions(array, axis, descending=largest), xp.arange(k), axis=axis)
    return _ties_in_cpu_order(array, axis, positions, largest, lambda keys: cpu_sort_order.top_order(keys, k), within=k + 1)


#: The most elements whose order ``_ties_in_cpu_order`` replays in Python (about a third of a
#: second): beyond, equal elements keep the stable order, a bound on the cost of a large tied sort.
_REPLAYED_AT_MOST = 2**17


def _ties_in_cpu_order(array, axis, positions, descending, order, within=None):
    """``positions`` (from a stable sort, along ``axis``) with each line of ``array`` that holds
    equal values ordered by ``order(keys)`` instead: the keys rank the line's values (nan one rank,
    the largest), negated when ``descending``, as PyTorch's comparators order them. Up to
    ``_REPLAYED_AT_MOST`` elements in those lines; a larger tied sort keeps the stable order.
    ``within``: only equal values among a line's first ``within`` in order decide (a topk of k
    is decided by its k and the next: multinomial's many zero weights rarely reach them)."""
    if array.shape[axis] < 2 or not array.size:
        return positions
    lines = xp.moveaxis(array, axis, -1).reshape(-1, array.shape[axis])
    ordered = xp.sort(lines, axis=1)
    if within is not None and within < ordered.shape[1]:  # (nan sorts last: the largest, first when descending)
        ordered = ordered[:, -within:] if descending else ordered[:, :within]
    equal = (ordered[:, 1:] == ordered[:, :-1]) | ((ordered[:, 1:] != ordered[:, 1:]) & (ordered[:, :-1] != ordered[:, :-1]))
    tied = xp.flatnonzero(equal.any(axis=1))
    if not tied.size or tied.size * lines.shape[1] > _REPLAYED_AT_MOST:
        return positions
    result = xp.moveaxis(positions, axis, -1)
    shape = result.shape
    result = result.reshape(-1, shape[-1]).copy()
    for line in tied.tolist():
        ranks = xp.unique(lines[line], return_inverse=True)[1].reshape(-1)
        result[line] = order((-ranks if descending else ranks).tolist())
    return xp.moveaxis(result.reshape(shape), -1, axis)


def _positions(function, input, **keywords):
    """``function(input's array, **keywords)``: positions the values decide, found outside any
    operation; a compiled program hears of it and finds them again on each call."""
    return computed_without_gradient(function, [input], keywords)._array


def _size_along(x, axis):
    return x._array.shape[axis] if x._array.ndim else 1


# ----------------------------------------------------------------------------- sort, argsort, msort, topk
@public(out=SAME_DTYPE)
def sort(input, dim=-1, descending=False, stable=None):
    """``(values, indices)``: input sorted along ``dim`` (ascending unless ``descending``), and where
    each value was. Equal elements keep their order with ``stable=True``, else they lie as PyTorch's
    CPU sort leaves them (``sorting_positions``); nan sorts as the largest value. The gradient of
    each value goes back to the position it came from.
    """
    axis = one_axis(input, dim, "sort")
    kind = Sort if stable is None else StableSort
    if input._array.ndim == 0:
        return sort_result(read_chosen(kind, input, None, 0))
    positions = _positions(sorting_positions, input, axis=axis, descending=descending, stable=bool(stable))
    return sort_result(read_chosen(kind, input, positions, axis))


@public
def argsort(input, dim=-1, descending=False, stable=False):
    """The int64 positions that sort input along ``dim``: ``sort(input, dim).indices`` (no gradient)."""
    axis = one_axis(input, dim, "argsort")
    if input._array.ndim == 0:
        return tensor_from_array(xp.zeros((), dtype=dtypes.int64))
    return computed_without_gradient(sorting_positions, [input], {"axis": axis, "descending": descending, "stable": stable})


@public(out=SAME_DTYPE)
def msort(input):
    """input sorted along its first dimension: ``sort(input, dim=0).values``."""
    return sort(input, 0).values


@public(out=SAME_DTYPE)
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
            f"selected index k out of range (topk: k = {k}, but dimension {dim} of the input "
            f"of shape {tuple(input._array.shape)} has {size} elements; choose 0 <= k <= {size})"
        )
    if input._array.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU; convert first, e.g. x.int()")
    if input._array.ndim == 0:
        return topk_result(read_chosen(Topk, input, None, 0))
    return topk_result(read_chosen(Topk, input, _positions(top_positions, input, axis=axis, k=k, largest=largest), axis))


# ----------------------------------------------------------------------------- kthvalue, median, mode
def _chosen_rank(kind, result, input, dim, keepdim, operation, positions, **keywords):
    """The element of input along ``dim`` at the positions ``positions(input's array, axis,
    keepdim, **keywords)`` (the rank it picks in input sorted along ``dim``), read by ``kind`` and
    returned as the named tuple ``result``."""
    axis = one_axis(input, dim, operation)
    require_nonempty(input, (axis,) if input._array.ndim else (), operation)
    if input._array.ndim == 0:
        return result(read_chosen(kind, input, None, 0))
    chosen = _positions(positions, input, axis=axis, keepdim=keepdim, **keywords)
    return result(read_chosen(kind, input, chosen, axis, keepdim))


def _ranked_positions(array, axis, keepdim, rank_of):
    """Where, along ``axis``, is the element of rank ``rank_of(sorted array, axis)`` (int, size 1
    along axis) in ``array`` sorted along ``axis``; without ``keepdim``, axis dropped."""
    positions = sorting_positions(array, axis)
    ranks = rank_of(xp.take_along_axis(array, positions, axis), axis)
    chosen = xp.take_along_axis(positions, ranks, axis)
    return chosen if keepdim else xp.squeeze(chosen, axis)


def kth_positions(array, axis, keepdim, k):
    """Where the ``k``-th smallest element of ``array`` along ``axis`` is; among equal values, the
    one PyTorch's CPU quickselect reports (``cpu_sort_order.kth_position``)."""
    chosen = _ranked_positions(array, axis, True, _constant_rank(k - 1))
    chosen = _ties_in_cpu_order(array, axis, chosen, False, lambda keys: [cpu_sort_order.kth_position(keys, k - 1)])
    return chosen if keepdim else xp.squeeze(chosen, axis)


def median_positions(array, axis, keepdim):
    """Where the median of ``array`` along ``axis`` is (a slice's first nan where it has one)."""
    return _ranked_positions(array, axis, keepdim, _median_rank)


def nanmedian_positions(array, axis, keepdim):
    """Where the median of the non-nan elements of ``array`` along ``axis`` is."""
    return _ranked_positions(array, axis, keepdim, _nanmedian_rank)


def mode_positions(array, axis, keepdim):
    """Where the last occurrence of the most frequent value of ``array`` along ``axis`` is."""
    return _ranked_positions(array, axis, keepdim, _mode_rank)


def _refuse_bool(input, dim, kernel):
    """PyTorch has no bool version of median's and kthvalue's ``kernel``. It looks for an empty
    reduction first (the median of no elements, an empty ``dim``), which is answered elsewhere."""
    if input._array.dtype.kind != "b":
        return
    array = input._array
    if dim is None:
        has_elements = array.size > 0
    else:
        has_elements = array.ndim == 0 or array.shape[one_axis(input, dim, kernel)] > 0
    if has_elements:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'; convert first, e.g. x.int()')


def _constant_rank(rank):
    def rank_of(sorted_array, axis):
        shape = list(sorted_array.shape)
        shape[axis] = 1
        return xp.full(shape, rank, dtype=dtypes.int64)

    return rank_of


def _numbers_in(sorted_array, axis):
    """How many elements of each slice along ``axis`` are not nan (size 1 along axis)."""
    if sorted_array.dtype.kind == "f":
        return xp.sum(~xp.isnan(sorted_array), axis=axis, keepdims=True)
    shape = list(sorted_array.shape)
    shape[axis] = 1
    return xp.full(shape, sorted_array.shape[axis], dtype=dtypes.int64)


def _median_rank(sorted_array, axis):
    """The lower middle rank, or the rank of the first nan where a slice has one (its median is nan)."""
    size = sorted_array.shape[axis]
    numbers = _numbers_in(sorted_array, axis)
    return as_array(xp.where(numbers < size, numbers, (size - 1) // 2), dtypes.int64)


def _nanmedian_rank(sorted_array, axis):
    """The lower middle rank among the non-nan elements (0 where all are nan)."""
    return as_array(xp.maximum((_numbers_in(sorted_array, axis) - 1) // 2, 0), dtypes.int64)


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


@public(out=SAME_DTYPE)
def kthvalue(input, k, dim=-1, keepdim=False):
    """``(values, indices)``: the ``k``-th smallest element along ``dim`` (k = 1 is the smallest)."""
    axis = one_axis(input, dim, "kthvalue")
    size = _size_along(input, axis)
    k = operator.index(k)
    if size and not 1 <= k <= size:
        raise RuntimeError(
            f"kthvalue(): selected number k out of range for dimension {axis} (k = {k}, but it has "
            f"{size} elements; choose 1 <= k <= {size})"
        )
    if input._array.ndim:  # a 0-d input is its own k-th value, even a bool
        _refuse_bool(input, dim, "kthvalue_cpu")
    return _chosen_rank(Kthvalue, kthvalue_result, input, dim, keepdim, "kthvalue", kth_positions, k=k)


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
    if input._array.size == 0:
        return tensor_from_array(xp.full((), xp.nan, dtype=input._array.dtype))
    return kind.apply(input, ignore_nan)


@public(out=SAME_DTYPE)
def median(input, dim=None, keepdim=False):
    """Without ``dim``: the median of every element, a 0-d tensor (the lower of the two middle ones
    for an even count; nan if there is a nan). With ``dim``: ``(values, indices)`` along ``dim``."""
    _refuse_bool(input, dim, "median_cpu" if dim is None else "median_out")
    if dim is None:
        return _median_of_all(MedianAll, input, ignore_nan=False)
    return _chosen_rank(Median, median_result, input, dim, keepdim, "median", median_positions)


@public(out=SAME_DTYPE)
def nanmedian(input, dim=None, keepdim=False):
    """``median`` ignoring nan: the median of the other elements (nan only where all are nan)."""
    _refuse_bool(input, dim, "median_cpu" if dim is None else "median_out")
    if dim is None:
        return _median_of_all(NanmedianAll, input, ignore_nan=True)
    return _chosen_rank(Nanmedian, nanmedian_result, input, dim, keepdim, "nanmedian", nanmedian_positions)


@public(out=SAME_DTYPE)
def mode(input, dim=-1, keepdim=False):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest of equally frequent
    ones) and the position of its last occurrence."""
    return _chosen_rank(Mode, mode_result, input, dim, keepdim, "mode", mode_positions)



# ----------------------------------------------------------------------------- quantile, nanquantile
QUANTILE_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, operation, ignore_nan):
    """The q-quantiles of input along ``dim`` (of every element when None): input is sorted, and
    each quantile reads the sorted values at rank q (N - 1), interpolated between the two ranks
    around it. The gradient goes through that interpolation and the sort back to the two elements.
    ``q`` (a number or a 1-D tensor of Q numbers) adds a first dimension of size Q when a tensor.
    """
    _check_quantile_arguments(input, q, interpolation, operation)
    if isinstance(q, Tensor):  # its values are checked on each compiled call too
        keywords = {"dtype": input._array.dtype, "operation": operation}
        fractions = computed_without_gradient(_checked_fractions, [q], keywords)
    else:
        fractions = made_from_values(as_array(q, input._array.dtype), written_in_python(q))  # ranks in input's precision, as PyTorch
    if dim is None:
        work, axis = reshape(input, -1), 0
    else:
        axis = one_axis(input, dim, operation)
        work, axis = (reshape(input, 1), 0) if input._array.ndim == 0 else (input, axis)
    ordered = sort(work, axis).values  # nan last
    # The ranks read the values (how many are nan): a compiled program computes them again on each call
    ranks = [
        computed_without_gradient(_quantile_ranks, [ordered, fractions], {"axis": axis, "interpolation": interpolation,
                                                                          "ignore_nan": ignore_nan, "part": part})
        for part in (["low", "high", "weight"] if interpolation in ("linear", "midpoint") else ["low", "high"])
    ]
    count = fractions._array.size
    stacked = expand(unsqueeze(ordered, 0), (count,) + tuple(ordered._array.shape))
    low_values, high_values = (gather(stacked, axis + 1, each) for each in ranks[:2])
    result = low_values if len(ranks) == 2 else lerp(low_values, high_values, ranks[2])
    if dim is None:
        result = reshape(result, (count,) + (1,) * input._array.ndim if keepdim else (count,))
    elif not keepdim or input._array.ndim == 0:
        result = squeeze(result, axis + 1)
    return result if fractions._array.ndim else squeeze(result, 0)


def _checked_fractions(q, dtype, operation):
    """The array ``q`` in ``dtype`` (the input's precision, as PyTorch), once its values are checked
    to lie in [0, 1]."""
    if not ((q >= 0) & (q <= 1)).all():
        raise RuntimeError(f"{operation}() q values must be in the range [0, 1] (got {q.tolist()})")
    return as_array(q, dtype)


def _quantile_ranks(ordered, fractions, axis, interpolation, ignore_nan, part):
    """One ``part`` of the interpolation of the quantiles at ``fractions`` along ``axis`` of the
    sorted array ``ordered`` (see ``_interpolation_ranks``): the ``low`` or ``high`` ranks (int64,
    shaped for ``gather`` on ordered with a first dimension of the quantiles) or the ``weight``."""
    size = ordered.shape[axis]
    numbers = xp.sum(~xp.isnan(ordered), axis=axis, keepdims=True)  # (..., 1, ...)
    ranks_shape = (fractions.size,) + (1,) * ordered.ndim
    positions = fractions.reshape(ranks_shape) * as_array(numbers - 1 if ignore_nan else size - 1, fractions.dtype)
    low, high, weight = _interpolation_ranks(xp.maximum(positions, 0), interpolation)
    if part == "weight":
        return weight
    if not ignore_nan:  # a slice with a nan has the quantile nan: read its last (nan) element
        has_nan = numbers < size
        low, high = xp.where(has_nan, size - 1, low), xp.where(has_nan, size - 1, high)
    return as_array(low if part == "low" else high, dtypes.int64)


def _interpolation_ranks(positions, interpolation):
    """``(low, high, weight)``: the quantile is lerp(sorted[low], sorted[high], weight), or sorted[low]
    itself when weight is None (lower, higher, nearest), so that an infinite value is read as it is.
    midpoint's weight is 0.5 between ranks and 0 on one, as in PyTorch."""
    low, high = xp.floor(positions), xp.ceil(positions)
    if interpolation == "linear":
        return low, high, positions - low
    if interpolation == "midpoint":
        return low, high, xp.where(positions > low, 0.5, 0.0).astype(positions.dtype)
    chosen = {"lower": low, "higher": high, "nearest": xp.round(positions)}[interpolation]  # round: half to even
    return chosen, chosen, None


def _check_quantile_arguments(input, q, interpolation, operation):
    """PyTorch's checks, in its order: interpolation, a number q, the input, a tensor q."""
    if interpolation not in QUANTILE_INTERPOLATIONS:
        raise RuntimeError(
            f"{operation}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
            f"but got {interpolation}"
        )
    if not isinstance(q, Tensor) and not 0 <= q <= 1:
        raise RuntimeError(f"{operation}() q must be in the range [0, 1] but got {q}")
    if input._array.size == 0:
        raise RuntimeError(f"{operation}() input tensor must be non-empty (input shape {tuple(input._array.shape)})")
    if isinstance(q, Tensor) and q._array.ndim > 1:
        raise RuntimeError(f"{operation}() q must be a scalar or 1D tensor (got shape {tuple(q._array.shape)})")
    if input._array.dtype not in (xp.float32, xp.float64):  # (float16 too is refused)
        raise RuntimeError(
            f"{operation}() input tensor must be either float or double dtype (got "
            f"{dtypes.dtype_name(input._array.dtype)}); convert it first, e.g. x.float()"
        )
    if isinstance(q, Tensor) and q._array.dtype != input._array.dtype:
        raise RuntimeError(
            f"{operation}() q tensor must be same dtype as the input tensor (q is {dtypes.dtype_name(q._array.dtype)}, "
            f"input {dtypes.dtype_name(input._array.dtype)}); convert q, e.g. q.to(input.dtype)"
        )


@public(out=SAME_DTYPE)
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-quantile(s) of input along ``dim`` (of every element when None): the value below
    which a fraction q of the sorted elements lies, at rank q (N - 1) of the sorted values,
    interpolated between neighbours (``interpolation``: linear, lower, higher, midpoint, nearest).
    nan where a slice has a nan. A 1-D tensor ``q`` gives a first dimension of len(q).
    """
    return _quantile(input, q, dim, keepdim, interpolation, "quantile", ignore_nan=False)


@public(out=SAME_DTYPE)
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` of the elements that are not nan (nan where a slice has only nan)."""
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile", ignore_nan=True)


# ----------------------------------------------------------------------------- counting values
histogram_result = return_type("histogram", ["hist", "bin_edges"])


@public(out=True)
def histc(input, bins=100, min=0, max=0):
    """How many elements fall in each of ``bins`` equal bins spanning [min, max] (the last bin
    includes max; elements outside are not counted). min = max = 0 spans the data's own range, and
    an empty range is widened by 1 each side; a range that is not finite (given so, or read from
    data holding nan or inf) is a RuntimeError. Floating tensors only; no gradient.
    """
    _check_histogram_input(input, "histc")
    low, high = float(min), float(max)
    if low > high:
        raise RuntimeError(f"torch.histc: max must be larger than min (got min={low}, max={high})")
    # counts the values decide, which a compiled program computes again on each call
    return computed_without_gradient(_counts_in_bins, [input], {"bins": _bin_count(bins, "histc"), "low": low, "high": high})


def _counts_in_bins(values, bins, low, high):
    """histc's counts of ``values`` in ``bins`` equal bins over [low, high] (the data's own range
    when low = high, widened by 1 each side where it is empty). A range that is not finite (nan or
    inf in the data it is read from) is a RuntimeError, as in PyTorch."""
    if low == high and values.size:
        low, high = float(values.min()), float(values.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(
            f"torch.histc: range of [{low:g}, {high:g}] is not finite; pass finite min and max, or drop the "
            f"nan and inf elements first (x[x.isfinite()])"
        )
    if low == high:
        low, high = low - 1, high + 1
    counts, _ = xp.histogram(values, bins=bins, range=(low, high))
    return counts.astype(values.dtype)


@public(out=True)
def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """The named tuple ``(hist, bin_edges)``: how many elements (or how much ``weight``, one per
    element) fall in each bin. ``bins`` is a count of equal bins over ``range`` (the data's range
    when None), or a 1-D tensor of increasing edges. With ``density`` the histogram integrates to 1.
    No gradient.
    """
    _check_histogram_input(input, "histogram")
    if weight is not None:
        _check_histogram_weight(input, weight)
    if isinstance(bins, Tensor) and bins._array.dtype != input._array.dtype:
        raise RuntimeError(
            f"torch.histogramdd: input tensor and bins tensors should have the same dtype, but got input "
            f"with dtype {input._array.dtype.name} and bins with dtype {bins._array.dtype.name}; convert the bins"
        )
    dtype = input._array.dtype
    if isinstance(bins, Tensor):
        if range is not None:
            raise TypeError("histogram() received an invalid combination of arguments: range goes with a count of bins, not with a tensor of edges")
        edges = bins._array
    else:  # PyTorch's linspace between the outer edges, in input's dtype: an element on an edge falls as there
        low, high = _outer_edges(input._array, range)
        edges = evenly_spaced(low, high, _bin_count(bins, "histogram") + 1, dtype)
    hist = _binned(input._array.reshape(-1), edges, None if weight is None else weight._array.reshape(-1))
    if density:  # in input's dtype, divided as PyTorch divides: by the total, then by each bin's width
        hist = hist / hist.sum() / xp.diff(edges).astype(dtype)
    return histogram_result((tensor_from_array(hist), tensor_from_array(as_array(edges, dtype))))


def _outer_edges(values, range):
    """The first and last edge of histogram's bins: ``range``, else the values' own (0 and 1 for
    none), widened by 0.5 each way where they meet, as PyTorch's histogramdd."""
    if range is not None:
        low, high = range
    else:
        low, high = (values.min(), values.max()) if values.size else (0.0, 1.0)
    if low > high:
        raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {low:g} max {high:g} for dimension 0")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"torch.histogramdd: dimension 0's range [{low:g}, {high:g}] is not finite; give range=(min, max) or drop the non-finite values")
    return (low - 0.5, high + 0.5) if low == high else (low, high)


def _binned(values, edges, weights):
    """The histogram of ``values`` over the increasing ``edges`` (the last bin closed, values outside
    left out): each value's weight (1 without ``weights``) added into its bin one after another, in
    the values' dtype, as PyTorch adds them."""
    bins = xp.searchsorted(edges, values, side="right") - 1
    bins[values == edges[-1]] = len(edges) - 2
    inside = (bins >= 0) & (bins < len(edges) - 1)
    hist = xp.zeros(len(edges) - 1, dtype=values.dtype)
    add_at(hist, bins[inside], 1 if weights is None else weights[inside])
    return hist


def _check_histogram_input(input, operation):
    if input._array.dtype.kind != "f":
        raise NotImplementedError(
            f'"{operation}" not implemented for {input._array.dtype.name} tensors; convert it first, e.g. x.float()'
        )


def _check_histogram_weight(input, weight):
    """histogram's ``weight`` holds one number per element of input, in input's dtype (PyTorch's
    histogramdd, which histogram calls, reads input as points (N, 1) and weight as N numbers)."""
    points, weights = [input._array.size, 1], [weight._array.size]
    if weights[0] != points[0]:
        raise RuntimeError(
            f"torch.histogramdd: if weight tensor is provided it should have the same shape as the input tensor "
            f"excluding its innermost dimension, but got input with shape {points} and weight with shape {weights}"
        )
    if weight._array.dtype != input._array.dtype:
        raise RuntimeError(
            f"torch.histogramdd: if weight tensor is provided, input tensor and weight tensor should have the same "
            f"dtype, but got input({input._array.dtype.name}), and weight({weight._array.dtype.name}); convert the "
            f"weight, e.g. weight.to(input.dtype)"
        )


def _bin_count(bins, operation):
    bins = operator.index(bins)
    if bins <= 0:
        raise RuntimeError(f"torch.{operation}(): bins must be > 0, but got {bins} for dimension 0")
    return bins


class Distinct(Op):
    """unique's and unique_consecutive's (values, inverse, counts) of x's array, by ``counting``
    (``distinct_values`` or ``consecutive_runs``) along ``axis`` (None: of the flattened x). As in
    PyTorch, the values of an x that requires grad require grad too, but have no derivative: the
    backward raises NotImplementedError naming PyTorch's operation (``_unique2``, ``unique_dim``,
    ``unique_consecutive``), with the node named after it (``Unique2Backward0``...)."""

    node_name = "Unique2Backward0"
    formula = "the distinct values of x (or of its runs of equal values), where each element is among them, how often each occurs"
    derivatives = ("not implemented (as in PyTorch)", None, None, None)

    @staticmethod
    def forward(ctx, x, counting, axis, operation):
        ctx.operation = operation
        return counting(x, axis)

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError(f"the derivative for '{ctx.operation}' is not implemented.")


#: PyTorch's operation behind each kind of call, and the name of its node
_DISTINCT_NODES = {"_unique2": "Unique2Backward0", "unique_dim": "UniqueDimBackward0", "unique_consecutive": "UniqueConsecutiveBackward0"}


@public
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of input, sorted (or, with ``dim``, its distinct slices along dim).
    ``return_inverse`` adds where each element (slice) of input is among them, ``return_counts``
    how often each occurs: a tuple then, as in PyTorch. No gradient: the values of an input that
    requires grad require grad, and their backward raises NotImplementedError, as in PyTorch.
    """
    shaped_by_values("unique", input)
    axis = None if dim is None else _unique_axis(input, dim, "unique")
    operation = "_unique2" if dim is None else "unique_dim"
    results = Distinct.shown_as(_DISTINCT_NODES[operation]).apply(input, distinct_values, axis, operation)
    return _unique_results(results, return_inverse, return_counts)


def distinct_values(array, axis):
    """``unique``'s (values, inverse, counts) of ``array`` along ``axis`` (None: its elements)."""
    if axis is not None:
        values, inverse, counts = xp.unique(array, return_inverse=True, return_counts=True, axis=axis)
        return values, as_array(inverse.reshape(-1), dtypes.int64), as_array(counts, dtypes.int64)
    # Each nan is distinct (nan != nan), as in PyTorch; NumPy would merge them.
    values, inverse, counts = xp.unique(array.reshape(-1), return_inverse=True, return_counts=True, equal_nan=False)
    return values, as_array(inverse.reshape(array.shape), dtypes.int64), as_array(counts, dtypes.int64)


@public
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """input with each run of equal consecutive values (slices along ``dim``) kept once:
    [1, 1, 2, 2, 3, 1] gives [1, 2, 3, 1]. ``return_inverse`` and ``return_counts`` as for
    ``unique``. No gradient, as for ``unique``.
    """
    shaped_by_values("unique_consecutive", input)
    axis = None if dim is None else _unique_axis(input, dim, "unique_consecutive")
    results = Distinct.shown_as(_DISTINCT_NODES["unique_consecutive"]).apply(input, consecutive_runs, axis, "unique_consecutive")
    return _unique_results(results, return_inverse, return_counts)


def consecutive_runs(array, axis):
    """``unique_consecutive``'s (values, inverse, counts) of ``array`` along ``axis`` (None: its elements)."""
    work = array.reshape(-1) if axis is None else xp.moveaxis(array, axis, 0)
    length = work.shape[0]
    changes = (work[1:] != work[:-1]).reshape(builtins.max(length - 1, 0), math.prod(work.shape[1:])).any(axis=1)
    starts = xp.concatenate([xp.ones(builtins.min(length, 1), dtype=bool), changes.astype(bool)])
    values = work[starts] if axis is None else xp.moveaxis(work[starts], 0, axis)
    inverse = xp.cumsum(starts) - 1
    counts = xp.diff(xp.concatenate([xp.flatnonzero(starts), xp.full(1, length)]))
    inverse = inverse.reshape(array.shape) if axis is None else inverse
    return values, as_array(inverse, dtypes.int64), as_array(counts, dtypes.int64)


def _unique_axis(input, dim, operation):
    """``dim`` as an axis along which slices can be compared: PyTorch refuses an empty dimension
    other than the one chosen, where the slices would have no elements to tell them apart."""
    axis = one_axis(input, dim, operation)
    empty = [each for each, size in enumerate(input._array.shape) if size == 0]
    if len(empty) > 1:
        raise RuntimeError(
            f"Number of zero sized dimensions is more than one, so unique cannot be applied (input shape "
            f"{tuple(input._array.shape)})"
        )
    if empty and empty != [axis]:
        raise RuntimeError(
            f"There are 0 sized dimensions, and they aren't selected, so unique cannot be applied (input shape "
            f"{tuple(input._array.shape)}, dim {dim}); choose the empty dim"
        )
    return axis


def _unique_results(results, return_inverse, return_counts):
    """The values, with the inverse and the counts asked for: a tuple then, else the values alone."""
    values, inverse, counts = results
    asked = (values, *([inverse] if return_inverse else []), *([counts] if return_counts else []))
    return asked[0] if len(asked) == 1 else asked
