"""Reductions: many input elements give one output element (sum, mean, max, var, norm, ...).

Reducing over ``dim`` removes that dimension (or keeps it with size 1 when ``keepdim=True``). In
backward the gradient of each output element has to reach every input element it was computed
from, so it is first *spread back*: reshaped to the kept-dims shape and broadcast to the input's
shape (``spread``). Each reduction then multiplies it by its own local derivative: 1 for sum, 1/N
for mean, a 0/1 mask for max, ...

``dim`` may be an int, a tuple of ints (negative counts from the end) or None (every dimension).
Every reduction also takes NumPy's names ``axis=`` and ``keepdims=``, as PyTorch does, so that a
backward formula calls ``ctx.xp.sum(g, axis=..., keepdims=True)`` alike on arrays and on tensors.

PyTorch names the node of a reduction over every element differently from one over given
dimensions (``x.sum()`` makes ``SumBackward0``, ``x.sum(0)`` ``SumBackward1``): the tiny subclasses
``SumAll``, ``MeanAll``, ... carry those names and nothing else.
"""
import builtins
import math

from chainrule import dtypes
from chainrule.caller_warnings import warn_at_caller
from chainrule.backend import array_functions, as_array, half_in_float32, ignoring_float_errors, xp
from chainrule.creation import checked_dtype
from chainrule.ops.complex_refusals import complex_refused
from chainrule.ops.elementwise import abs, maximum, minimum, selected, to
from chainrule.ops.op import Op
from chainrule.ops.operands import as_floating
from chainrule.ops.registry import IN_DTYPE_OF_OUT, SAME_DTYPE, public
from chainrule.autograd.function import computed_without_gradient
from chainrule.tensor import Tensor, check_dim, tensor_from_array
from chainrule.return_types import return_type


#: What ``max(x, dim)`` and ``min(x, dim)`` return: ``values, indices = x.max(dim=1)``.
max_result = return_type("max", ["values", "indices"])
min_result = return_type("min", ["values", "indices"])
aminmax_result = return_type("aminmax", ["min", "max"])


# ----------------------------------------------------------------------------- spreading back
def remember_reduction(ctx, x, axes, keepdim):
    """Keep on ctx what ``spread`` needs: the input's shape, the reduced axes, whether they were kept."""
    ctx.input_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim


def spread(ctx, reduced):
    """``reduced`` (of the reduction's output shape) broadcast back to the input's shape, its reduced
    axes first put back as size 1: how one gradient of an output reaches every input it came from.
    The same on arrays and on tensors (a broadcast view, no copy)."""
    if not ctx.keepdim and reduced.ndim:  # a 0-d value (every axis reduced) broadcasts as it is
        reduced = reduced.reshape(tuple(1 if axis in ctx.axes else size for axis, size in enumerate(ctx.input_shape)))
    return ctx.xp.broadcast_to(reduced, ctx.input_shape)


def _count(shape, axes):
    """How many input elements each output element of a reduction over ``axes`` combines."""
    return math.prod(shape[axis] for axis in axes)


# ----------------------------------------------------------------------------- sum, mean, prod
class Sum(Op):
    node_name = "SumBackward1"
    formula = "Σ x over axes"
    derivatives = ("1", None, None)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        remember_reduction(ctx, x, axes, keepdim)
        # (the ufunc itself, not ndarray.sum's Python wrapper: its float errors are chainrule's, which
        # backend.py silences; NumPy would widen int32 and bool sums without the dtype)
        return xp.add.reduce(x, axis=axes, dtype=x.dtype, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_output):
        return spread(ctx, grad_output), None, None


class SumAll(Sum):
    node_name = "SumBackward0"


class HalfSum(Sum):
    """A float16 sum, accumulated in float32 and rounded once (``half_in_float32``). A class of its
    own, chosen when the sum is called, so that a compiled program keeps ``Sum``'s plain ``x.sum``
    for the other dtypes, which it computes in place (``compile/simplify.py``)."""

    node_name = Sum.node_name

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        remember_reduction(ctx, x, axes, keepdim)
        return summed(x, axes, keepdim)


@half_in_float32
def summed(array, axes, keepdim):
    """The sum of ``array`` over ``axes`` (float16 accumulated in float32)."""
    return array.sum(axis=axes, keepdims=keepdim)


class Mean(Op):
    """An empty slice gives nan, as in PyTorch."""

    node_name = "MeanBackward1"
    formula = "Σ x over axes / N"
    derivatives = ("1/N", None, None)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        remember_reduction(ctx, x, axes, keepdim)
        ctx.count = _count(x.shape, axes)
        total = xp.add.reduce(x, axis=axes, keepdims=keepdim)  # (the ufunc itself, as Sum's)
        if ctx.count:
            return total / ctx.count
        with ignoring_float_errors():  # nothing to average: 0 / 0 = nan
            return total / ctx.count

    @staticmethod
    def backward(ctx, grad_output):
        return spread(ctx, grad_output / ctx.count), None, None


class MeanAll(Mean):
    node_name = "MeanBackward0"


class HalfMean(Mean):
    """A float16 mean, accumulated in float32 and rounded once; a class of its own for the reason
    ``HalfSum`` is (a compiled program keeps ``Mean``'s body, inlined, for the other dtypes)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        remember_reduction(ctx, x, axes, keepdim)
        ctx.count = _count(x.shape, axes)
        return averaged(x, axes, keepdim)


@half_in_float32
def averaged(array, axes, keepdim):
    """The mean of ``array`` (an array, or a tensor in a recorded backward) over ``axes``: its sum
    divided once by the count (nan when empty)."""
    total, count = array.sum(axis=axes, keepdims=keepdim), _count(array.shape, axes)
    if count:
        return total / count
    with ignoring_float_errors():  # nothing to average: 0 / 0 = nan
        return total / count


class Prod(Op):
    """With no zero in x, the product of the others is out / x. With zeros, out / x is 0 / 0 where
    the zero is, and its derivative would miss how the others depend on that zero: the product of
    the others is then built explicitly (``product_of_others``), exact to every order."""

    node_name = "ProdBackward1"
    formula = "Π x over axes"
    derivatives = ("product of the other elements = out / x", None, None)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        remember_reduction(ctx, x, axes, keepdim)
        with ignoring_float_errors():  # an overflow to inf passes silently, as in PyTorch
            result = xp.prod(x, axis=axes, keepdims=keepdim, dtype=x.dtype)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        if x.ndim == 0:  # no other elements: their product is 1 (out / x would be nan at x = inf)
            return grad_output, None, None
        if (x == 0).any():
            others = product_of_others(ctx, x)
        else:
            others = spread(ctx, result) / x
        return spread(ctx, grad_output) * ctx.xp.conj(others), None, None


class ProdAll(Prod):
    node_name = "ProdBackward0"


def product_of_others(ctx, x):
    """For each element of x, the product of the other elements of its slice over the reduced axes,
    with the functions of ``ctx.xp`` (differentiable on tensors, exact with zeros): the reduced axes
    are moved last and flattened to n, each element's row is repeated n times with that element set
    to 1, and each repeat is multiplied out. O(n²) per slice, so Prod uses it only when x has zeros.
    """
    axes, functions = ctx.axes, ctx.xp
    count = _count(x.shape, axes)
    last = tuple(range(x.ndim - len(axes), x.ndim))
    moved = functions.moveaxis(x, axes, last)
    kept_shape = tuple(moved.shape[: x.ndim - len(axes)])
    repeats = functions.broadcast_to(moved.reshape(kept_shape + (1, count)), kept_shape + (count, count))
    others = functions.prod(functions.where(xp.eye(count, dtype=bool), 1.0, repeats), axis=-1)
    return functions.moveaxis(others.reshape(tuple(moved.shape)), last, axes)


# ----------------------------------------------------------------------------- max and min
class Amax(Op):
    """Ties share the gradient evenly, as in PyTorch (a nan maximum gives nan)."""

    formula = "max of x over axes"
    derivatives = ("1/k at each of the k elements equal to out, else 0", None, None)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        return _extreme(ctx, x, axes, keepdim, xp.max)

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        return shared_among_ties(ctx, x, result, grad_output), None, None


class Amin(Amax):
    formula = "min of x over axes"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        return _extreme(ctx, x, axes, keepdim, xp.min)


def shared_among_ties(ctx, x, result, grad_output):
    """The gradient of a max or min over ``ctx.axes``: each output's gradient shared evenly among
    the k elements of x equal to it (1/k each), 0 elsewhere."""
    is_extreme = x == spread(ctx, result)
    ties = is_extreme.sum(axis=ctx.axes, keepdims=True)
    return is_extreme * (spread(ctx, grad_output) / ties)


class Aminmax(Op):
    """Both extremes in one pass; each shares its gradient among its ties, as amin and amax do."""

    formula = "min of x, max of x over axes"
    derivatives = ("1/k at each of the k elements equal to the min (times its grad), the same for the max", None, None)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        remember_reduction(ctx, x, axes, keepdim)
        smallest, largest = xp.min(x, axis=axes, keepdims=keepdim), xp.max(x, axis=axes, keepdims=keepdim)
        ctx.save_for_backward(x, smallest, largest)
        return smallest, largest

    @staticmethod
    def backward(ctx, grad_min, grad_max):
        x, smallest, largest = ctx.saved_tensors
        return shared_among_ties(ctx, x, smallest, grad_min) + shared_among_ties(ctx, x, largest, grad_max), None, None


def _extreme(ctx, x, axes, keepdim, reduce_array):
    remember_reduction(ctx, x, axes, keepdim)
    result = reduce_array(x, axis=axes, keepdims=keepdim)
    ctx.save_for_backward(x, result)
    return result


class MaxAll(Amax):
    """``x.max()`` of all elements: PyTorch shares its gradient among the elements equal to the
    result, and among the nans where the result is nan (amax gives nan everywhere then)."""

    node_name = "MaxBackward1"
    derivatives = ("1/k at each of the k elements equal to out (the nans if out is nan), else 0", None, None)

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        is_extreme = ctx.xp.isnan(x) if ctx.xp.isnan(result) else x == result
        return ctx.xp.where(is_extreme, grad_output / is_extreme.sum(), 0.0), None, None


class MinAll(MaxAll):
    node_name = "MinBackward1"
    formula = Amin.formula
    forward = staticmethod(Amin.forward)


class Max(Op):
    """``indices`` are the first position on ties and get no gradient."""

    formula = "values, indices = max of x along dim, where it is"
    derivatives = ("1 at the returned index, else 0", None, None)

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        return _extreme_with_index(ctx, x, dim, keepdim, xp.argmax)

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        positions = xp.arange(ctx.work_shape[ctx.work_axis]).reshape(
            tuple(-1 if axis == ctx.work_axis else 1 for axis in range(len(ctx.work_shape)))
        )
        chosen = (positions == ctx.indices).reshape(ctx.input_shape)
        return selected(ctx.xp, chosen, spread(ctx, grad_values)), None, None


class Min(Max):
    formula = "values, indices = min of x along dim, where it is"

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        return _extreme_with_index(ctx, x, dim, keepdim, xp.argmin)


def _extreme_with_index(ctx, x, dim, keepdim, pick_index):
    work, axis = along_one_axis(x, dim)
    indices = as_array(pick_index(work, axis=axis, keepdims=True), dtypes.int64)
    values = xp.take_along_axis(work, indices, axis)
    remember_reduction(ctx, x, (axis,) if x.ndim else (), keepdim)
    ctx.work_shape, ctx.work_axis, ctx.indices = work.shape, axis, indices
    if x.ndim == 0:
        return values.reshape(()), indices.reshape(())
    if not keepdim:
        values, indices = xp.squeeze(values, axis), xp.squeeze(indices, axis)
    return values, indices


def along_one_axis(array, dim):
    """``array`` and the axis ``dim`` names, a 0-d array seen as 1-d (PyTorch accepts dim 0 or -1)."""
    if array.ndim == 0:
        return array.reshape(1), 0
    return array, dim


# ----------------------------------------------------------------------------- spread: var, std, norm
class Var(Op):
    formula = "Σ (x - mean)² / (N - correction)"
    derivatives = ("2 (x - mean) / (N - correction)", None, None, None)

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        ctx.save_for_backward(x)
        return variance(x, axes, keepdim, _remember_variance(ctx, x, axes, keepdim, correction))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return _variance_gradient(ctx, x, grad_output), None, None, None


class Std(Op):
    """The gradient is 0 where out = 0, as in PyTorch."""

    formula = "√var"
    derivatives = ("(x - mean) / ((N - correction) · out)", None, None, None)

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        result = standard_deviation(x, axes, keepdim, _remember_variance(ctx, x, axes, keepdim, correction))
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        grad_variance = divide_where_nonzero(ctx.xp, grad_output, 2.0 * result)  # d √v / d v = 1 / (2 √v)
        return _variance_gradient(ctx, x, grad_variance), None, None, None


class VarMean(Op):
    """``var`` and ``mean`` over the same axes, computed together; their gradients add."""

    formula = "var(x), mean(x) over axes"
    derivatives = ("2 (x - mean) / (N - correction) · grad_var + grad_mean / N", None, None, None)

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        with ignoring_float_errors():  # an overflowing sum gives inf silently, as in PyTorch
            return Var.forward(ctx, x, axes, keepdim, correction), averaged(x, axes, keepdim)

    @staticmethod
    def backward(ctx, grad_variance, grad_mean):
        grad_x = Var.backward(ctx, grad_variance)[0] + spread(ctx, grad_mean / ctx.count)
        return grad_x, None, None, None


class StdMean(Op):
    """``std`` and ``mean`` over the same axes, computed together; their gradients add."""

    formula = "√var(x), mean(x) over axes"
    derivatives = ("(x - mean) / ((N - correction) · std) · grad_std + grad_mean / N", None, None, None)

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        with ignoring_float_errors():  # an overflowing sum gives inf silently, as in PyTorch
            return Std.forward(ctx, x, axes, keepdim, correction), averaged(x, axes, keepdim)

    @staticmethod
    def backward(ctx, grad_std, grad_mean):
        grad_x = Std.backward(ctx, grad_std)[0] + spread(ctx, grad_mean / ctx.count)
        return grad_x, None, None, None


def _remember_variance(ctx, x, axes, keepdim, correction):
    """Keep on ctx what the gradient of a variance needs; return the forward's divisor,
    max(N - correction, 0)."""
    remember_reduction(ctx, x, axes, keepdim)
    ctx.count = _count(x.shape, axes)
    ctx.degrees_of_freedom = ctx.count - correction
    return builtins.max(ctx.degrees_of_freedom, 0)


@half_in_float32
def variance(array, axes, keepdim, divisor):
    """Σ (x - mean)² / divisor over ``axes`` of ``array`` (float16 computed in float32 throughout,
    as PyTorch does: the squares would overflow float16 past |x - mean| = 256)."""
    with ignoring_float_errors():
        centered = array - array.sum(axis=axes, keepdims=True) / _count(array.shape, axes)
        if centered.dtype.kind == "c":  # |x - mean|², a real variance (the parts' variances added), as PyTorch's
            centered = xp.abs(centered)
        return (centered * centered).sum(axis=axes, keepdims=keepdim) / divisor


@half_in_float32
def standard_deviation(array, axes, keepdim, divisor):
    """√variance, float16 rounded once after the square root."""
    with ignoring_float_errors():
        return xp.sqrt(variance(array, axes, keepdim, divisor))


def _variance_gradient(ctx, x, grad_variance):
    """d var / d x times ``grad_variance`` (the same on arrays and on tensors). The forward divides
    by max(N - correction, 0); the gradient, as PyTorch's, by N - correction itself (finite when
    the correction exceeds N)."""
    with ignoring_float_errors():
        centered = x - averaged(x, ctx.axes, True)  # on arrays and on tensors alike
        return spread(ctx, grad_variance) * centered * 2.0 / ctx.degrees_of_freedom


def divide_where_nonzero(xp, numerator, denominator):
    """numerator / denominator, and 0 where the denominator is 0: PyTorch's choice of gradient at
    the kinks of std and norm (at x = 0, where the true derivative does not exist)."""
    is_zero = denominator == 0
    return xp.where(is_zero, 0.0, numerator / xp.where(is_zero, 1.0, denominator))


class Norm(Op):
    """p = 0 counts the nonzero elements: no gradient at all (x.grad stays None, as PyTorch's
    backward gives an undefined gradient there, the count being piecewise constant); for p = 2 the gradient is x / out, the unit
    vector in x's direction. The gradient is 0 where out = 0, as in PyTorch."""

    node_name = "LinalgVectorNormBackward0"
    formula = "(Σ |x|^p)^(1/p) over axes"
    derivatives = ("sign(x) |x|^(p-1) / out^(p-1)", None, None, None)

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        remember_reduction(ctx, x, axes, keepdim)
        ctx.p = p
        result = vector_norm(x, p, axes, keepdim)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return None, None, None, None
        scale = divide_where_nonzero(ctx.xp, grad_output, result ** (p - 1))
        direction = x if p == 2 else ctx.xp.where(x == 0, 0.0, ctx.xp.sign(x) * ctx.xp.abs(x) ** (p - 1))
        return spread(ctx, scale) * direction, None, None, None


@half_in_float32
def vector_norm(array, p, axes, keepdim):
    """(Σ |x|^p)^(1/p) over ``axes`` of ``array``, p a number other than ±inf (float16 computed in
    float32 throughout, as PyTorch does: the squares would overflow float16 past |x| = 256)."""
    magnitude = xp.abs(array)
    if p == 0:
        return xp.sum(magnitude != 0, axis=axes, keepdims=keepdim).astype(magnitude.dtype)  # real for complex x
    if p == 1:
        return xp.sum(magnitude, axis=axes, keepdims=keepdim)
    if p == 2:
        return xp.sqrt(xp.sum(magnitude * magnitude, axis=axes, keepdims=keepdim))
    return xp.sum(magnitude**p, axis=axes, keepdims=keepdim) ** (1.0 / p)


# ----------------------------------------------------------------------------- nansum
class Nansum(Op):
    node_name = "NansumBackward0"
    formula = "Σ x over axes, nan counted as 0"
    derivatives = ("1, and 0 where x is nan", None, None)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        remember_reduction(ctx, x, axes, keepdim)
        ctx.is_number = ~xp.isnan(x)
        with ignoring_float_errors():  # an overflowing sum gives inf silently, as in PyTorch
            return array_functions.nansum(x, axis=axes, keepdims=keepdim).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        # A product, as PyTorch's: an infinite gradient (nanmean of only nan divides by 0) gives nan at the nan.
        return spread(ctx, grad_output) * ctx.is_number, None, None


# ----------------------------------------------------------------------------- logsumexp
class LogSumExp(Op):
    """Computed as m + log Σ e^(x - m) with m = max x (of complex x, the largest real part, as
    PyTorch's), so that no exponential overflows."""

    node_name = "LogsumexpBackward0"
    formula = "log Σ e^x over axes"
    derivatives = ("conj(e^(x - out)) = conj(softmax(x))", None, None)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        remember_reduction(ctx, x, axes, keepdim)
        x = as_floating(x)
        shift = finite_max_shift(x.real if x.dtype.kind == "c" else x, axes)
        with ignoring_float_errors():  # log 0 = -inf for an empty or all -inf slice
            result = xp.log(array_functions.sum(xp.exp(x - shift), axis=axes, keepdims=True)) + shift
        result = result if keepdim else xp.squeeze(result, axes)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        return spread(ctx, grad_output) * ctx.xp.conj(ctx.xp.exp(x - spread(ctx, result))), None, None


def max_shift(array, axes):
    """The maximum over ``axes``, kept as size-1 dims: what softmax, log_softmax and cross-entropy
    subtract before ``exp``, so that every exponent is at most 0 and nothing overflows (the shift
    cancels). A slice holding +inf or nan, or only -inf, then computes inf - inf: nan throughout,
    as in PyTorch (logsumexp, which PyTorch answers there, shifts by ``finite_max_shift``).
    """
    # The method (NumPy's function form costs 1 us more); an empty slice has no maximum but the
    # initial -inf (which costs 1 us more too, so only there).
    if 0 in array.shape:
        return array.max(axis=axes, keepdims=True, initial=-xp.inf)
    return array.max(axis=axes, keepdims=True)


def finite_max_shift(array, axes):
    """``max_shift``, but 0 where the maximum is not finite: logsumexp of a slice holding +inf is
    +inf, of one of -inf only -inf, as PyTorch's."""
    shift = max_shift(array, axes)
    # The common case: no slice of infinities or nan to neutralize. A sum of squares is finite only
    # if every term is (one BLAS call, half the time of isfinite(...).all(); an overflow merely
    # takes the longer way below, which keeps finite maxima as they are).
    if math.isfinite(xp.vdot(shift, shift)):
        return shift
    return xp.where(xp.isfinite(shift), shift, 0).astype(array.dtype)


# ----------------------------------------------------------------------------- checks
def reduction_axes(x, dim, operation):
    """``dim`` (None, an int or a sequence of ints) as a tuple of non-negative axes of ``x``.

    None and an empty sequence mean every axis; a 0-d tensor accepts dim 0 or -1 (and has no axes).
    """
    ndim = x._array.ndim
    if dim is None:
        return tuple(range(ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if not dims:
        return tuple(range(ndim))
    axes = tuple(check_dim(d, ndim, operation) for d in dims)
    if len(set(axes)) != len(axes):
        repeated = next(axis for axis in axes if axes.count(axis) > 1)
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims ({operation}: dims {tuple(dims)})")
    return axes if ndim else ()


def one_axis(x, dim, operation):
    """``dim`` as a non-negative axis; it must be a single int, as for argmax or cumsum."""
    require_single_dim(dim, operation)
    return check_dim(dim, x._array.ndim, operation)


def require_single_dim(dim, operation):
    """PyTorch's TypeError for a tuple or list ``dim`` given to an operation that takes one int."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{operation}(): argument 'dim' must be int, not {type(dim).__name__}; reduce one dim at a time")


def names_every_dim(dim):
    """Whether ``dim`` (None or an empty sequence) asks a reduction for every dimension."""
    return dim is None or (isinstance(dim, (tuple, list)) and not dim)


def require_nonempty(x, axes, operation, every_dim=False):
    """PyTorch refuses max-like reductions with nothing to choose from: a RuntimeError when no dim
    was named (``every_dim``), an IndexError naming the empty dim otherwise."""
    if every_dim and x._array.size == 0:
        raise RuntimeError(
            f"{operation}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
            f"reduction dim with the 'dim' argument. (input shape {tuple(x._array.shape)})"
        )
    for axis in axes:
        if x._array.shape[axis] == 0:
            raise IndexError(
                f"{operation}(): Expected reduction dim {axis} to have non-zero size. (input shape "
                f"{tuple(x._array.shape)}: reduce over a non-empty dimension)"
            )


FLOATING_INPUT = "Expected a floating point or complex tensor as input. Got {type}"  # PyTorch's words, after the operation's name


def require_floating(x, words, operation, error=RuntimeError):
    """``error`` (the exception type PyTorch raises for ``operation``) in PyTorch's ``words``
    (``{type}`` in them: its name of x's dtype, Long, Bool...) unless ``x`` is floating or complex."""
    if x._array.dtype.kind not in "fc":
        raise error(
            f"{words.format(type=dtypes.scalar_type_name(x._array.dtype))} ({operation}: the input is "
            f"{dtypes.dtype_name(x._array.dtype)}; convert it first, e.g. x.float())"
        )


# ----------------------------------------------------------------------------- public functions
def converted_without_narrowing(x, dtype, operation):
    """x in the floating ``dtype`` given to a norm as ``dtype=``, which may widen x's dtype but not
    narrow it (PyTorch's checks, in its words)."""
    if not dtype.is_floating_point:
        raise RuntimeError(f"{operation}: dtype should be floating point or complex, but got {dtypes.scalar_type_name(dtype.dtype)}")
    if dtypes.promote_types(x.dtype, dtype) != dtype:
        raise RuntimeError(
            f"{operation}: the dtype of the input ({dtypes.scalar_type_name(x._array.dtype)}) should be convertible "
            f"without narrowing to the specified dtype ({dtypes.scalar_type_name(dtype.dtype)})"
        )
    return to(x, dtype)


def in_dtype(x, dtype, operation):
    """x converted to ``dtype`` first, as PyTorch's ``dtype=`` of ``operation`` does (None keeps
    it; a dtype's name, ``dtype="float32"``, is PyTorch's TypeError naming the operation)."""
    return x if dtype is None else to(x, checked_dtype(dtype, operation))


def accumulated(x, dtype, operation):
    """x as sums and products take it: converted to ``dtype`` when given, else bools and integers
    of every width to int64, which PyTorch accumulates them in (a uint8 sum of 200 + 100 is 300)."""
    if dtype is None and x._array.dtype.kind in "biu" and x._array.dtype != dtypes.int64:
        dtype = dtypes.int64
    return in_dtype(x, dtype, operation)


@public(out=IN_DTYPE_OF_OUT)
def sum(x, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (all dimensions when None). Integer and bool tensors give int64 (or
    ``dtype``, to which x is converted first)."""
    if dtype is not None or x._array.dtype.kind in "biu":
        x = accumulated(x, dtype, "sum")
    if x._array.dtype == dtypes.float16:
        kind = HalfSum if dim is not None else HalfSum.shown_as(SumAll.node_name)
    else:
        kind = SumAll if dim is None else Sum
    return kind.apply(x, reduction_axes(x, dim, "sum"), keepdim)


@public(out=IN_DTYPE_OF_OUT)
def mean(x, dim=None, keepdim=False, *, dtype=None):
    """Average over ``dim`` (all dimensions when None); floating tensors only (or ``dtype``, to which
    x is converted first); empty gives nan."""
    given = "Optional" if dtype is not None else "Input"  # PyTorch names what decided the dtype
    x = in_dtype(x, dtype, "mean")
    require_floating(x, f"mean(): could not infer output dtype. {given} dtype must be either a floating point or complex dtype. Got: {{type}}", "mean")
    if x._array.dtype == dtypes.float16:
        kind = HalfMean if dim is not None else HalfMean.shown_as(MeanAll.node_name)
    else:
        kind = MeanAll if dim is None else Mean
    return kind.apply(x, reduction_axes(x, dim, "mean"), keepdim)


@public(out=IN_DTYPE_OF_OUT)
def prod(x, dim=None, keepdim=False, *, dtype=None):
    """Product over ``dim`` (one int; all dimensions when None: a tuple is a TypeError, as in PyTorch);
    the gradient is exact with zeros in x. Integer and bool tensors give int64 (or ``dtype``, to
    which x is converted first)."""
    require_single_dim(dim, "prod")
    x = accumulated(x, dtype, "prod")
    return (ProdAll if dim is None else Prod).apply(x, reduction_axes(x, dim, "prod"), keepdim)


def _out_of_one_dim(x, dim=None, keepdim=False, *, other=None):
    """Whether ``max``/``min`` are called along a dim: their (values, indices) out= must have the
    result's dtypes there, as PyTorch's; the whole-tensor and two-tensor forms cast into out."""
    return isinstance(dim, int)


@public(out=_out_of_one_dim)
def max(x, dim=None, keepdim=False, *, other=None):
    """Without ``dim``: the largest element, a 0-d tensor (ties share the gradient evenly).

    With ``dim``: a named tuple ``(values, indices)``, where ``indices`` (int64) says where each
    maximum is along ``dim``; the gradient goes to that element. ``max(x, other_tensor)`` (or
    ``max(x, other=other_tensor)``) is ``maximum(x, other)``, as in PyTorch.
    """
    if other is not None:
        dim = _in_place_of_dim("max", dim, keepdim, other)
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    if dim is None:
        return _extreme_of_all(MaxAll, x, "max")
    return max_result(_extreme_along(Max, x, dim, keepdim, "max"))


@public(out=_out_of_one_dim)
def min(x, dim=None, keepdim=False, *, other=None):
    """Like ``max``, for the smallest element: a 0-d tensor, or ``(values, indices)`` along ``dim``;
    ``min(x, other_tensor)`` (or ``other=``) is ``minimum(x, other)``."""
    if other is not None:
        dim = _in_place_of_dim("min", dim, keepdim, other)
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    if dim is None:
        return _extreme_of_all(MinAll, x, "min")
    return min_result(_extreme_along(Min, x, dim, keepdim, "min"))


def _in_place_of_dim(operation, dim, keepdim, other):
    """``other`` of ``max(x, other=y)`` or ``min(x, other=y)``, which takes dim's place as in
    ``max(x, y)`` (the tensor compared with x elementwise); PyTorch's TypeError where it is not a
    tensor, or comes with a dim or keepdim, which belong to the reduction."""
    if not isinstance(other, Tensor) or dim is not None or keepdim is not False:
        raise TypeError(
            f"{operation}() received an invalid combination of arguments - got other={type(other).__name__} with "
            f"dim={dim!r}, keepdim={keepdim!r}: {operation}(input, other) compares with a tensor elementwise, "
            f"{operation}(input, dim, keepdim) reduces; give one form (wrap a number: chainrule.tensor(value))"
        )
    return other


def _extreme_of_all(function, x, operation):
    if x._array.dtype.kind == "c":  # complex numbers have no order
        raise complex_refused(operation, x._array.dtype, whole=True)
    require_nonempty(x, tuple(range(x._array.ndim)), operation, every_dim=True)
    return function.apply(x, tuple(range(x._array.ndim)), False)


def _extreme_along(function, x, dim, keepdim, operation):
    if x._array.dtype.kind == "c":
        raise complex_refused(operation, x._array.dtype)
    axis = one_axis(x, dim, operation)
    require_nonempty(x, (axis,) if x._array.ndim else (), operation)
    return function.apply(x, axis, keepdim)


@public(out=SAME_DTYPE)
def amax(x, dim=(), keepdim=False):
    """The largest elements over ``dim`` (int or tuple; all when None or empty); ties share the gradient."""
    if x._array.dtype.kind == "c":
        raise complex_refused("amax", x._array.dtype)
    axes = reduction_axes(x, dim, "amax")
    require_nonempty(x, axes, "amax", every_dim=names_every_dim(dim))
    return Amax.apply(x, axes, keepdim)


@public(out=SAME_DTYPE)
def amin(x, dim=(), keepdim=False):
    """The smallest elements over ``dim`` (int or tuple; all when None or empty); ties share the gradient."""
    if x._array.dtype.kind == "c":
        raise complex_refused("amin", x._array.dtype)
    axes = reduction_axes(x, dim, "amin")
    require_nonempty(x, axes, "amin", every_dim=names_every_dim(dim))
    return Amin.apply(x, axes, keepdim)


@public(out=SAME_DTYPE)
def argmax(x, dim=None, keepdim=False):
    """Where the largest element is (int64, no gradient): along ``dim``, or in the flattened tensor."""
    return _index_of_extreme(x, dim, keepdim, xp.argmax, "argmax")


@public(out=SAME_DTYPE)
def argmin(x, dim=None, keepdim=False):
    """Where the smallest element is (int64, no gradient): along ``dim``, or in the flattened tensor."""
    return _index_of_extreme(x, dim, keepdim, xp.argmin, "argmin")


def _index_of_extreme(x, dim, keepdim, pick_index, operation):
    """The index tensor, computed as one call on the array (that a compiled program repeats)."""
    if x._array.dtype.kind == "b":
        raise RuntimeError(f"{operation}(): does not support bool input; convert it first, e.g. x.int()")
    if dim is None:
        if x._array.size == 0:
            raise IndexError(
                f"{operation}(): Expected reduction dim to be specified for input.numel() == 0. (input "
                f"shape {tuple(x._array.shape)}: pass dim=...)"
            )
        return computed_without_gradient(_index_in_flattened, (x,), {"pick_index": pick_index, "keepdim": keepdim})
    axis = one_axis(x, dim, operation)
    require_nonempty(x, (axis,) if x._array.ndim else (), operation)
    return computed_without_gradient(_index_along, (x,), {"pick_index": pick_index, "axis": axis, "keepdim": keepdim})


def _index_in_flattened(array, pick_index, keepdim):
    index = as_array(pick_index(array), dtypes.int64)
    return index.reshape((1,) * array.ndim) if keepdim else index


def _index_along(array, pick_index, axis, keepdim):
    work, axis = along_one_axis(array, axis)
    indices = as_array(pick_index(work, axis=axis, keepdims=keepdim and array.ndim > 0), dtypes.int64)
    return indices.reshape(()) if array.ndim == 0 else indices


@public(out=True)
def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim``: sum((x - mean)^2) / (N - correction).

    ``correction`` defaults to 1 (Bessel's correction, the unbiased estimate); ``unbiased=False``
    means correction 0, dividing by N. ``var(x, False)`` is read as ``unbiased=False``, as in PyTorch.
    Giving both ``unbiased`` and ``correction`` is a TypeError, as in PyTorch.
    """
    return _spread_over(Var, x, dim, unbiased, keepdim, correction, "var")


@public(out=True)
def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim``: sqrt(var(x, dim, ...)); arguments as for ``var``."""
    return _spread_over(Std, x, dim, unbiased, keepdim, correction, "std")


@public(method=False)
def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The tuple ``(var(x, dim, ...), mean(x, dim))``, computed together; arguments as for ``var``."""
    return _spread_over(VarMean, x, dim, unbiased, keepdim, correction, "var_mean")


@public(method=False)
def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The tuple ``(std(x, dim, ...), mean(x, dim))``, computed together; arguments as for ``var``."""
    return _spread_over(StdMean, x, dim, unbiased, keepdim, correction, "std_mean")


def _spread_over(kind, x, dim, unbiased, keepdim, correction, operation):
    """``kind`` (Var, Std, VarMean or StdMean) over ``dim``, PyTorch's arguments read."""
    require_floating(x, f"{'std and var' if operation in ('std', 'var') else operation} only support floating point and complex dtypes", operation)
    if isinstance(dim, bool):  # var(x, False): the second argument is unbiased
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(
            f"{operation}(): unbiased and correction cannot be given together (PyTorch has no such overload); "
            f"pass correction alone (unbiased=False is correction=0, unbiased=True is correction=1)"
        )
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = reduction_axes(x, dim, operation)
    if _count(x._array.shape, axes) - correction <= 0:  # nan or inf follows, as in PyTorch, which warns
        warn_at_caller(
            f"{operation}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
            f"factor (input numel divided by output numel)."
        )
    return kind.apply(x, axes, keepdim, correction)


@public(out=SAME_DTYPE)
def aminmax(x, *, dim=None, keepdim=False):
    """The named tuple ``(min, max)`` over ``dim`` (one int; every element when None). Each shares
    its gradient evenly among the elements equal to it, as amin and amax do."""
    require_single_dim(dim, "aminmax")
    axes = reduction_axes(x, dim, "aminmax")
    if dim is None and x._array.size == 0:
        raise RuntimeError(
            f"aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity "
            f"(input shape {tuple(x._array.shape)}); reduce over a non-empty dimension"
        )
    require_nonempty(x, axes, "aminmax")
    return aminmax_result(Aminmax.apply(x, axes, keepdim))


@public
def count_nonzero(x, dim=None):
    """How many elements over ``dim`` (an int, a tuple, or all when None) are not 0: int64, no gradient."""
    counts = xp.count_nonzero(x._array, axis=reduction_axes(x, dim, "count_nonzero"))
    return tensor_from_array(as_array(counts, dtypes.int64))


@public(out=IN_DTYPE_OF_OUT)
def nansum(x, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (all dimensions when None) counting nan as 0; the gradient is 0 at the nan.
    Integers and bools give int64 (or ``dtype``, to which x is converted first)."""
    x = accumulated(x, dtype, "nansum")
    axes = reduction_axes(x, dim, "nansum")
    return (Sum if x._array.dtype.kind in "biu" else Nansum).apply(x, axes, keepdim)


@public(out=IN_DTYPE_OF_OUT)
def nanmean(x, dim=None, keepdim=False, *, dtype=None):
    """The mean over ``dim`` of the elements that are not nan: nansum / their count (nan where all are)."""
    require_floating(x, "nanmean(): expected input to have floating point or complex dtype but got {type}", "nanmean")
    x = in_dtype(x, dtype, "nanmean")  # the input is checked first, then the dtype it is given
    require_floating(x, "nanmean(): could not infer output dtype. Optional dtype must be either a floating point or complex dtype. Got: {type}", "nanmean")
    axes = reduction_axes(x, dim, "nanmean")
    numbers = computed_without_gradient(_count_not_nan, [x], {"axes": axes, "keepdim": keepdim})
    with ignoring_float_errors():
        return nansum(x, dim, keepdim) / numbers


def _count_not_nan(x, axes, keepdim):
    """How many elements of the array x over ``axes`` are not nan, in x's dtype (nanmean's divisor)."""
    return xp.sum(~xp.isnan(x), axis=axes, keepdims=keepdim).astype(x.dtype)


@public(out=True)
def norm(x, p="fro", dim=None, keepdim=False, dtype=None):
    """The p-norm over ``dim`` (all elements when None): p = 2 or 'fro' (default), 1, inf, -inf, 0 or
    any other number; 'nuc', the sum of the singular values, of the matrices in the two dims ``dim``
    (both dims of a matrix when None, as PyTorch, which refuses other shapes then). The gradient
    of the 2-norm at x = 0 is 0, as in PyTorch."""
    require_floating(x, f"linalg.vector_norm: {FLOATING_INPUT}", "linalg.vector_norm")
    if dtype is not None:
        x = converted_without_narrowing(x, dtypes.of(dtype), "linalg.vector_norm")
    if p == "fro":
        if isinstance(dim, (tuple, list)) and len(dim) > 2:  # PyTorch takes 'fro' over dims as a matrix norm then
            raise RuntimeError(
                f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))} (norm with p='fro'; for "
                f"the 2-norm over more dims give p=2)"
            )
        p = 2
    elif p == "nuc":
        from chainrule.linalg import matrix_norm  # linalg builds on these reductions

        return matrix_norm(x, "nuc", dim=tuple(range(x.ndim)) if dim is None else dim, keepdim=keepdim)
    elif isinstance(p, str):
        raise RuntimeError(f"norm: p={p!r} is not supported; use p='fro', 'nuc' or a number (2, 1, inf, ...)")
    return norm_over(x, p, reduction_axes(x, dim, "norm"), keepdim)


def norm_over(x, p, axes, keepdim, node_name="LinalgVectorNormBackward0"):
    """The ``p``-norm of ``x`` over ``axes`` (a number p; inf and -inf are the largest and the
    smallest |x|, the gradient shared among ties), its node named ``node_name`` as PyTorch names
    the node of the function computing it (``dist``'s is DistBackward0)."""
    if p == xp.inf or p == -xp.inf:
        if builtins.any(x.shape[axis] == 0 for axis in axes):
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {p} norm on an empty tensor because the operation does not "
                f"have an identity (input shape {tuple(x.shape)}, dims {axes})"
            )
        return (Amax if p > 0 else Amin).shown_as(node_name).apply(abs(x), axes, keepdim)
    return Norm.shown_as(node_name).apply(x, p, axes, keepdim)


def nonzero_count(difference, dim):
    """Σ min(⌈|d|⌉, 1) along ``dim``: the p = 0 distance as PyTorch's pdist and cdist kernels count
    it, whose gradient is zero (a tensor of zeros, where norm's p = 0 gives no gradient at all)."""
    return difference.abs().ceil().clamp(max=1).sum(dim)


@public(out=True)
def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, without overflow for large x (e.g. 1000). ``dim=()`` reduces
    every dimension; as in PyTorch, only with keepdim=True unless x is 0-d or empty."""
    axes = reduction_axes(x, dim, "logsumexp")
    if not keepdim and x._array.ndim and x._array.size and isinstance(dim, (tuple, list)) and not dim:
        kept = [1] * x._array.ndim
        raise RuntimeError(
            f"output with shape [] doesn't match the broadcast shape {kept} (logsumexp with dim=() of a tensor "
            f"of shape {tuple(x.shape)}; pass keepdim=True or name the dims to reduce)"
        )
    return LogSumExp.apply(x, axes, keepdim)


@public(out=SAME_DTYPE)
def all(x, dim=None, keepdim=False):
    """True where every element over ``dim`` is nonzero (no gradient); see ``_logical_reduction``."""
    return _logical_reduction(xp.all, x, dim, keepdim, "all")


@public(out=SAME_DTYPE)
def any(x, dim=None, keepdim=False):
    """True where some element over ``dim`` is nonzero (no gradient); see ``_logical_reduction``."""
    return _logical_reduction(xp.any, x, dim, keepdim, "any")


def _logical_reduction(reduce_array, x, dim, keepdim, operation):
    """all or any over ``dim``: every dimension when None, none when an empty tuple (unlike sum).
    The result is bool, except uint8 for a uint8 input (PyTorch keeps that legacy mask dtype)."""
    axes = () if dim is not None and names_every_dim(dim) else reduction_axes(x, dim, operation)
    result = computed_without_gradient(reduce_array, (x,), {"axis": axes, "keepdims": keepdim})
    return to(result, dtypes.uint8) if x._array.dtype == dtypes.uint8 else result
