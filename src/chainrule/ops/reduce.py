"""Reductions: many input elements give one output element (sum, mean, max, var, norm, ...).

Reducing over ``dim`` removes that dimension (or keeps it with size 1 when ``keepdim=True``). In
backward the gradient of each output element has to reach every input element it was computed
from, so it is first *spread back*: reshaped to the kept-dims shape and broadcast to the input's
shape (``ExpandReduced``, the mirror image of ``Sum``). Each reduction then multiplies it by its own
local derivative: 1 for sum, 1/N for mean, a 0/1 mask for max, ...

``dim`` may be an int, a tuple of ints (negative counts from the end) or None (every dimension).
"""
import builtins
import math
import operator
from collections import namedtuple

from chainrule import dtypes
from chainrule.autograd import grad_mode
from chainrule.autograd.function import Function
from chainrule.backend import as_array, xp
from chainrule.ops import shape
from chainrule.ops.broadcast import broadcast_to
from chainrule.ops.elementwise import abs, exp, maximum, minimum, selected, sign, where
from chainrule.ops.operands import as_floating
from chainrule.tensor import Tensor, check_dim, tensor_from_array
from chainrule.ops import registry
from chainrule.ops.registry import public


#: What ``max(x, dim)`` and ``min(x, dim)`` return: ``values, indices = x.max(dim=1)``.
max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])


# ----------------------------------------------------------------------------- spreading back
class ExpandReduced(Function):
    """out = a reduced tensor broadcast back to the shape it was reduced from;
    d loss / d reduced = the gradient summed over the reduced axes.

    ``reduced`` has the reduction's output shape; ``axes`` are the reduced axes of the input shape
    ``shape``. This is how every reduction's backward sends one gradient to many inputs.
    """

    @staticmethod
    def forward(ctx, reduced, shape, axes, keepdim):
        ctx.axes, ctx.keepdim = axes, keepdim
        return _expanded(reduced.array, shape, axes, keepdim)

    @staticmethod
    def backward(ctx, grad_output):
        return Sum.apply(grad_output, ctx.axes, ctx.keepdim), None, None, None


def _with_kept_dims(array, input_shape, axes, keepdim):
    """The reduced ``array`` with its reduced axes present again as size 1 (keepdim's shape)."""
    if keepdim:
        return array
    return array.reshape(tuple(1 if axis in axes else size for axis, size in enumerate(input_shape)))


def _remember_reduction(ctx, x, axes, keepdim):
    ctx.input_shape, ctx.axes, ctx.keepdim = x.array.shape, axes, keepdim


def _expanded(reduced, shape, axes, keepdim):
    """The array ``reduced`` broadcast back to ``shape`` (a read-only view, no copy)."""
    return xp.broadcast_to(_with_kept_dims(reduced, shape, axes, keepdim), shape)


def _spread(ctx, reduced):
    """``reduced`` (of the output's shape) broadcast back to the input's shape: on arrays in a plain
    backward, with the recorded ExpandReduced when the backward is itself recorded."""
    (values,) = ctx.operands(reduced)
    if isinstance(values, Tensor):
        return ExpandReduced.apply(values, ctx.input_shape, ctx.axes, ctx.keepdim)
    return _expanded(values, ctx.input_shape, ctx.axes, ctx.keepdim)


def _count(shape, axes):
    """How many input elements each output element of a reduction over ``axes`` combines."""
    return math.prod(shape[axis] for axis in axes)


# ----------------------------------------------------------------------------- sum, mean, prod
class Sum(Function):
    """out = sum of x over ``axes``;   d out / d x = 1 for every element that was summed"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        _remember_reduction(ctx, x, axes, keepdim)
        return x.array.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_output):
        return _spread(ctx, grad_output), None, None


class Mean(Function):
    """out = sum of x over ``axes`` / N;   d out / d x = 1 / N   (N elements per output; empty gives nan)"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        _remember_reduction(ctx, x, axes, keepdim)
        ctx.count = _count(x.array.shape, axes)
        total = x.array.sum(axis=axes, keepdims=keepdim)
        if ctx.count:
            return total / ctx.count
        with xp.errstate(divide="ignore", invalid="ignore"):  # nothing to average: nan, as in PyTorch
            return total / ctx.count

    @staticmethod
    def backward(ctx, grad_output):
        (grad_output,) = ctx.operands(grad_output)
        return _spread(ctx, grad_output / ctx.count), None, None


class Prod(Function):
    """out = product of x over ``axes``;   d out / d x_i = product of all the other elements.

    "All the others" is the product of the slice's nonzero elements divided by x_i (by 1 for a zero),
    kept only where no *other* element of the slice is zero. So zeros in x are handled: with one zero
    in a slice only that zero gets a gradient (the product of the rest), with two or more none does.
    """

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        _remember_reduction(ctx, x, axes, keepdim)
        ctx.save_for_backward(x)
        return xp.prod(x.array, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        is_zero = x.array == 0
        if grad_mode.is_grad_enabled() and is_zero.any():
            # Recorded (create_graph) with zeros: the masked formula below would hide how the
            # product of the others depends on the zero itself, so build that product explicitly.
            return _spread(ctx, grad_output) * _product_of_others(x, ctx.axes), None, None
        zeros_among_others = xp.sum(is_zero, axis=ctx.axes, keepdims=True) - is_zero
        nonzero_x = where(is_zero, 1.0, x)
        product_of_others = Prod.apply(nonzero_x, ctx.axes, True) / nonzero_x
        return _spread(ctx, grad_output) * product_of_others * tensor_from_array(zeros_among_others == 0), None, None


def _product_of_others(x, axes):
    """For each element, the product of the other elements of its slice over ``axes``, with
    tensor operations (differentiable, exact with zeros): the reduced axes are moved last and
    flattened to n, each element's row is repeated n times with that element set to 1, and each
    repeat is multiplied out. O(n^2): used only for higher-order gradients of products with zeros.
    """
    kept = [axis for axis in range(x.array.ndim) if axis not in axes]
    order = kept + list(axes)
    moved = shape.permute(x, *order)
    kept_shape = tuple(moved.array.shape[: len(kept)])
    count = math.prod(moved.array.shape[len(kept) :])
    rows = shape.reshape(moved, kept_shape + (1, count))
    grid = where(xp.eye(count, dtype=bool), 1.0, broadcast_to(rows, kept_shape + (count, count)))
    others = shape.reshape(Prod.apply(grid, (len(kept_shape) + 1,), False), moved.array.shape)
    return shape.permute(others, *(order.index(axis) for axis in range(len(order))))


# ----------------------------------------------------------------------------- max and min
class Amax(Function):
    """out = the largest element over ``axes``;   d out / d x = 1/k at each of the k elements equal to
    it (ties share the gradient evenly, as in PyTorch), 0 elsewhere"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        return _extreme_forward(ctx, x, axes, keepdim, xp.max)

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        is_extreme = x.array == _with_kept_dims(result.array, ctx.input_shape, ctx.axes, ctx.keepdim)
        with xp.errstate(invalid="ignore"):  # a nan maximum equals no element: 0 / 0 gives nan, as in PyTorch
            share = is_extreme / xp.sum(is_extreme, axis=ctx.axes, keepdims=True)
        return _spread(ctx, grad_output) * tensor_from_array(share.astype(x.array.dtype)), None, None


class Amin(Amax):
    """out = the smallest element over ``axes``;   d out / d x as for ``Amax``"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        return _extreme_forward(ctx, x, axes, keepdim, xp.min)


def _extreme_forward(ctx, x, axes, keepdim, reduce_array):
    _remember_reduction(ctx, x, axes, keepdim)
    result = tensor_from_array(reduce_array(x.array, axis=axes, keepdims=keepdim))
    ctx.save_for_backward(x, result)
    return result


class Max(Function):
    """values, indices = the largest element along ``dim`` and its position (the first, on ties);
    d values / d x = 1 at the returned index, 0 elsewhere (``indices`` get no gradient)"""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        return _extreme_with_index_forward(ctx, x, dim, keepdim, xp.argmax)

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        chosen = xp.zeros(ctx.work_shape, dtype=bool)
        xp.put_along_axis(chosen, ctx.indices, True, ctx.work_axis)
        grad = _spread(ctx, grad_values)
        # issue 11 (until reduce.py is an Op): selected() now takes the namespace to compute with
        namespace = registry.functions if isinstance(grad, Tensor) else xp
        return selected(namespace, chosen.reshape(ctx.input_shape), grad), None, None


class Min(Max):
    """values, indices = the smallest element along ``dim`` and its position;   gradient as for ``Max``"""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        return _extreme_with_index_forward(ctx, x, dim, keepdim, xp.argmin)


def _extreme_with_index_forward(ctx, x, dim, keepdim, pick_index):
    work, axis = _along_one_axis(x.array, dim)
    indices = as_array(pick_index(work, axis=axis, keepdims=True), dtypes.int64)
    values = xp.take_along_axis(work, indices, axis)
    _remember_reduction(ctx, x, (axis,) if x.array.ndim else (), keepdim)
    ctx.work_shape, ctx.work_axis, ctx.indices = work.shape, axis, indices
    if x.array.ndim == 0:
        return values.reshape(()), indices.reshape(())
    if not keepdim:
        values, indices = xp.squeeze(values, axis), xp.squeeze(indices, axis)
    return values, indices


def _along_one_axis(array, dim):
    """``array`` and the axis ``dim`` names, a 0-d array seen as 1-d (PyTorch accepts dim 0 or -1)."""
    if array.ndim == 0:
        return array.reshape(1), 0
    return array, dim


# ----------------------------------------------------------------------------- spread: var, std, norm
class Var(Function):
    """out = sum((x - mean)^2) / (N - correction);   d out / d x = 2 (x - mean) / (N - correction)"""

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        ctx.save_for_backward(x)
        return _variance_forward(ctx, x, axes, keepdim, correction)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return _variance_backward(ctx, x, grad_output), None, None, None


class Std(Function):
    """out = sqrt(var);   d out / d x = (d var / d x) / (2 out) = (x - mean) / ((N - correction) out)
    (0 where out = 0, as in PyTorch)"""

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        with xp.errstate(invalid="ignore"):
            result = tensor_from_array(xp.sqrt(_variance_forward(ctx, x, axes, keepdim, correction)))
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        return _variance_backward(ctx, x, _divide_where_nonzero(grad_output, 2.0 * result)), None, None, None


def _variance_forward(ctx, x, axes, keepdim, correction):
    _remember_reduction(ctx, x, axes, keepdim)
    ctx.divisor = builtins.max(_count(x.array.shape, axes) - correction, 0)
    with xp.errstate(divide="ignore", invalid="ignore"):
        centered = x.array - xp.sum(x.array, axis=axes, keepdims=True) / _count(x.array.shape, axes)
        return xp.sum(centered * centered, axis=axes, keepdims=keepdim) / ctx.divisor


def _variance_backward(ctx, x, grad_variance):
    centered = x - Mean.apply(x, ctx.axes, True)
    return _spread(ctx, grad_variance) * centered * 2.0 / ctx.divisor


def _divide_where_nonzero(numerator, denominator):
    """numerator / denominator, and 0 where the denominator is 0: PyTorch's choice of gradient at
    the kinks of std and norm (at x = 0, where the true derivative does not exist)."""
    is_zero = denominator.array == 0
    return where(is_zero, 0.0, numerator / where(is_zero, 1.0, denominator))


class Norm(Function):
    """out = (sum |x|^p)^(1/p) over ``axes``   (p = 0 counts the nonzero elements);
    d out / d x = sign(x) |x|^(p-1) / out^(p-1)   (0 where out = 0, as in PyTorch; 0 for p = 0).

    For p = 2 this is x / out: the unit vector in x's direction.
    """

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        _remember_reduction(ctx, x, axes, keepdim)
        ctx.p = p
        magnitude = xp.abs(x.array)
        if p == 0:
            result = xp.sum(magnitude != 0, axis=axes, keepdims=keepdim).astype(x.array.dtype)
        elif p == 1:
            result = xp.sum(magnitude, axis=axes, keepdims=keepdim)
        elif p == 2:
            result = xp.sqrt(xp.sum(magnitude * magnitude, axis=axes, keepdims=keepdim))
        else:
            result = xp.sum(magnitude**p, axis=axes, keepdims=keepdim) ** (1.0 / p)
        result = tensor_from_array(result)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        if ctx.p == 0:
            return _spread(ctx, grad_output) * 0.0, None, None, None
        scale = _divide_where_nonzero(grad_output, result ** (ctx.p - 1))
        direction = x if ctx.p == 2 else where(x.array == 0, 0.0, sign(x) * abs(x) ** (ctx.p - 1))
        return _spread(ctx, scale) * direction, None, None, None


# ----------------------------------------------------------------------------- logsumexp, cumsum
class LogSumExp(Function):
    """out = log(sum(exp(x))) over ``axes``, computed as m + log(sum(exp(x - m))) with m = max(x) so
    that no exp overflows;   d out / d x = exp(x - out) = softmax(x)"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        _remember_reduction(ctx, x, axes, keepdim)
        array = as_floating(x.array)
        shift = max_shift(array, axes)
        with xp.errstate(divide="ignore"):
            result = xp.log(xp.sum(xp.exp(array - shift), axis=axes, keepdims=True)) + shift
        result = tensor_from_array(result if keepdim else xp.squeeze(result, axes))
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        return _spread(ctx, grad_output) * exp(x - _spread(ctx, result)), None, None


def max_shift(array, axes):
    """The maximum over ``axes`` (kept as size-1 dims), 0 where it is not finite.

    Subtracting it before ``exp`` keeps every exponent at most 0, so nothing overflows; the results
    (softmax, logsumexp) do not change, since the shift cancels.
    """
    shift = array.max(axis=axes, keepdims=True, initial=-xp.inf)  # the method: NumPy's function form costs 1 us more
    if xp.isfinite(shift).all():  # the common case: no slice of infinities or nan to neutralize
        return shift
    return xp.where(xp.isfinite(shift), shift, 0).astype(array.dtype)


class Cumsum(Function):
    """out_i = x_0 + x_1 + ... + x_i along ``axis`` (from the other end when ``reverse``);
    d loss / d x_i = grad_i + ... + grad_last: a cumulative sum of the gradient from the other end."""

    @staticmethod
    def forward(ctx, x, axis, reverse):
        ctx.axis, ctx.reverse = axis, reverse
        work, axis = _along_one_axis(x.array, axis)
        if reverse:
            return xp.flip(xp.cumsum(xp.flip(work, axis), axis=axis), axis).reshape(x.array.shape)
        return xp.cumsum(work, axis=axis).reshape(x.array.shape)

    @staticmethod
    def backward(ctx, grad_output):
        return Cumsum.apply(grad_output, ctx.axis, not ctx.reverse), None, None


# ----------------------------------------------------------------------------- checks
def reduction_axes(x, dim, operation):
    """``dim`` (None, an int or a sequence of ints) as a tuple of non-negative axes of ``x``.

    None and an empty sequence mean every axis; a 0-d tensor accepts dim 0 or -1 (and has no axes).
    """
    ndim = x.array.ndim
    if dim is None:
        return tuple(range(ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if not dims:
        return tuple(range(ndim))
    axes = tuple(check_dim(operator.index(d), ndim, operation) for d in dims)
    if len(set(axes)) != len(axes):
        repeated = next(axis for axis in axes if axes.count(axis) > 1)
        raise RuntimeError(f"{operation}: dim {repeated} appears multiple times in the list of dims {tuple(dims)}")
    return axes if ndim else ()


def _one_axis(x, dim, operation):
    """``dim`` as a non-negative axis; it must be a single int, as for argmax or cumsum."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{operation}(): argument 'dim' must be int, not {type(dim).__name__}")
    return check_dim(operator.index(dim), x.array.ndim, operation)


def _require_nonempty(x, axes, operation):
    """PyTorch refuses max-like reductions with nothing to choose from."""
    for axis in axes:
        if x.array.shape[axis] == 0:
            raise IndexError(
                f"{operation}(): Expected reduction dim {axis} to have non-zero size (input shape "
                f"{tuple(x.array.shape)}); reduce over a non-empty dimension"
            )


def require_floating(x, operation, message="Input dtype must be either a floating point or complex dtype"):
    if x.array.dtype.kind not in "fc":
        raise RuntimeError(
            f"{operation}: {message}. Got: {dtypes.dtype_name(x.array.dtype)}; convert the tensor "
            f"first, e.g. x.float()"
        )


# ----------------------------------------------------------------------------- public functions
@public
def sum(x, dim=None, keepdim=False):
    """Sum over ``dim`` (all dimensions when None). Integer and bool tensors give int64."""
    return Sum.apply(x, reduction_axes(x, dim, "sum"), keepdim)


@public
def mean(x, dim=None, keepdim=False):
    """Average over ``dim`` (all dimensions when None); floating tensors only; empty gives nan."""
    require_floating(x, "mean(): could not infer output dtype")
    return Mean.apply(x, reduction_axes(x, dim, "mean"), keepdim)


@public
def prod(x, dim=None, keepdim=False):
    """Product over ``dim`` (all dimensions when None); the gradient is exact with zeros in x."""
    return Prod.apply(x, reduction_axes(x, dim, "prod"), keepdim)


@public
def max(x, dim=None, keepdim=False):
    """Without ``dim``: the largest element, a 0-d tensor (ties share the gradient evenly).

    With ``dim``: a named tuple ``(values, indices)``, where ``indices`` (int64) says where each
    maximum is along ``dim``; the gradient goes to that element. ``max(x, other_tensor)`` is
    ``maximum(x, other)``, as in PyTorch.
    """
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    if dim is None:
        return _extreme_of_all(Amax, x, "max")
    return max_result(*_extreme_with_index(Max, x, dim, keepdim, "max"))


@public
def min(x, dim=None, keepdim=False):
    """Like ``max``, for the smallest element: a 0-d tensor, or ``(values, indices)`` along ``dim``."""
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    if dim is None:
        return _extreme_of_all(Amin, x, "min")
    return min_result(*_extreme_with_index(Min, x, dim, keepdim, "min"))


def _extreme_of_all(function, x, operation):
    if x.array.size == 0:
        raise RuntimeError(
            f"{operation}(): Expected reduction dim to be specified for input.numel() == 0 (input shape "
            f"{tuple(x.array.shape)}). Specify the reduction dim with the 'dim' argument."
        )
    return function.apply(x, tuple(range(x.array.ndim)), False)


def _extreme_with_index(function, x, dim, keepdim, operation):
    axis = _one_axis(x, dim, operation)
    _require_nonempty(x, (axis,) if x.array.ndim else (), operation)
    return function.apply(x, axis, keepdim)


@public
def amax(x, dim=(), keepdim=False):
    """The largest elements over ``dim`` (int or tuple; all when None or empty); ties share the gradient."""
    axes = reduction_axes(x, dim, "amax")
    _require_nonempty(x, axes, "amax")
    return Amax.apply(x, axes, keepdim)


@public
def amin(x, dim=(), keepdim=False):
    """The smallest elements over ``dim`` (int or tuple; all when None or empty); ties share the gradient."""
    axes = reduction_axes(x, dim, "amin")
    _require_nonempty(x, axes, "amin")
    return Amin.apply(x, axes, keepdim)


@public
def argmax(x, dim=None, keepdim=False):
    """Where the largest element is (int64, no gradient): along ``dim``, or in the flattened tensor."""
    return _index_of_extreme(x, dim, keepdim, xp.argmax, "argmax")


@public
def argmin(x, dim=None, keepdim=False):
    """Where the smallest element is (int64, no gradient): along ``dim``, or in the flattened tensor."""
    return _index_of_extreme(x, dim, keepdim, xp.argmin, "argmin")


def _index_of_extreme(x, dim, keepdim, pick_index, operation):
    if dim is None:
        if x.array.size == 0:
            raise IndexError(
                f"{operation}(): Expected reduction dim to be specified for input.numel() == 0 (input "
                f"shape {tuple(x.array.shape)}); pass dim=..."
            )
        index = as_array(pick_index(x.array), dtypes.int64)
        return tensor_from_array(index.reshape((1,) * x.array.ndim) if keepdim else index)
    axis = _one_axis(x, dim, operation)
    _require_nonempty(x, (axis,) if x.array.ndim else (), operation)
    work, axis = _along_one_axis(x.array, axis)
    indices = as_array(pick_index(work, axis=axis, keepdims=keepdim and x.array.ndim > 0), dtypes.int64)
    return tensor_from_array(indices.reshape(()) if x.array.ndim == 0 else indices)


@public
def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim``: sum((x - mean)^2) / (N - correction).

    ``correction`` defaults to 1 (Bessel's correction, the unbiased estimate); ``unbiased=False``
    means correction 0, dividing by N. ``var(x, False)`` is read as ``unbiased=False``, as in PyTorch.
    """
    require_floating(x, "var", "std and var only support floating point and complex dtypes")
    dim, correction = _variance_arguments(dim, unbiased, correction)
    return Var.apply(x, reduction_axes(x, dim, "var"), keepdim, correction)


@public
def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim``: sqrt(var(x, dim, ...)); arguments as for ``var``."""
    require_floating(x, "std", "std and var only support floating point and complex dtypes")
    dim, correction = _variance_arguments(dim, unbiased, correction)
    return Std.apply(x, reduction_axes(x, dim, "std"), keepdim, correction)


def _variance_arguments(dim, unbiased, correction):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dim, correction


@public
def norm(x, p="fro", dim=None, keepdim=False):
    """The p-norm over ``dim`` (all elements when None): p = 2 or 'fro' (default), 1, inf, -inf, 0 or
    any other number. The gradient of the 2-norm at x = 0 is 0, as in PyTorch."""
    require_floating(x, "linalg.vector_norm", "Expected a floating point or complex tensor as input")
    if p == "fro":
        p = 2
    elif isinstance(p, str):
        raise RuntimeError(f"norm: p={p!r} is not supported; use p='fro' or a number (2, 1, inf, ...)")
    axes = reduction_axes(x, dim, "norm")
    if p == xp.inf:
        return amax(abs(x), axes, keepdim)
    if p == -xp.inf:
        return amin(abs(x), axes, keepdim)
    return Norm.apply(x, p, axes, keepdim)


@public
def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, without overflow for large x (e.g. 1000)."""
    return LogSumExp.apply(x, reduction_axes(x, dim, "logsumexp"), keepdim)


@public
def cumsum(x, dim):
    """Running sums along ``dim``: out[i] = x[0] + ... + x[i]."""
    return Cumsum.apply(x, _one_axis(x, dim, "cumsum"), False)


@public
def all(x, dim=None, keepdim=False):
    """True where every element over ``dim`` is nonzero (bool, no gradient)."""
    return tensor_from_array(xp.all(x.array, axis=reduction_axes(x, dim, "all"), keepdims=keepdim))


@public
def any(x, dim=None, keepdim=False):
    """True where some element over ``dim`` is nonzero (bool, no gradient)."""
    return tensor_from_array(xp.any(x.array, axis=reduction_axes(x, dim, "any"), keepdims=keepdim))
