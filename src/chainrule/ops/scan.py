"""Scans: running reductions along one dimension, out[i] computed from x[0], ..., x[i].

cumsum, cumprod, cummax, cummin and logcumsumexp keep x's shape. In backward, x[j] influenced every
out[i] with i >= j, so its gradient gathers grad[i] for i >= j: a running sum *from the other end*
(``running_sum_from_end``), weighted by each scan's local derivative. cummax and cummin read x at
the position of the running extreme, so their gradient goes back to those positions (added where
one position holds the extreme for several i), as for ``sort`` (``ops/sort.py``).

A 0-d x is one element: each scan gives it back (and dim must be 0 or -1).

Differences and integrals along a dimension (``diff``, ``gradient``, ``trapezoid``,
``cumulative_trapezoid``) are composed of slices, subtraction, ``cat``, ``sum`` and ``cumsum``.
"""

from chainrule import dtypes
from chainrule.autograd.function import computed_without_gradient, made_from_arguments
from chainrule.backend import array_functions, as_array, ignoring_float_errors, is_array, running_logaddexp, running_maximum, running_minimum, xp
from chainrule.ops.elementwise import ConstantFactor, to
from chainrule.ops.join import cat
from chainrule.ops.op import Op
from chainrule.ops.reduce import accumulated, along_one_axis, one_axis
from chainrule.ops.registry import IN_DTYPE_OF_OUT, SAME_DTYPE, public
from chainrule.ops.sort import ChosenAlongDim, read_chosen
from chainrule.tensor import Tensor
from chainrule.return_types import return_type

#: What ``cummax`` and ``cummin`` return: ``values, indices = x.cummax(0)``.
cummax_result = return_type("cummax", ["values", "indices"])
cummin_result = return_type("cummin", ["values", "indices"])


def running_sum_from_end(functions, values, axis):
    """out[j] = values[j] + ... + values[last] along ``axis``, with ``functions`` (NumPy or chainrule)."""
    return functions.flip(functions.cumsum(functions.flip(values, (axis,)), axis=axis), (axis,))


def scanned(ctx, x, axis, running):
    """``running(x, axis=axis)`` (a scan of the array library, float16 accumulated in float32 as
    PyTorch does) in x's shape and dtype (NumPy widens int32 and bool running sums), a 0-d x read
    as 1-d; the axis is kept on ctx for backward."""
    ctx.axis = axis
    work, axis = along_one_axis(x, axis)
    return running(work, axis=axis).reshape(x.shape).astype(x.dtype, copy=False)


# ----------------------------------------------------------------------------- cumsum, cumprod
class Cumsum(Op):
    formula = "x_0 + x_1 + ... + x_i along axis"
    derivatives = ("grad_i + ... + grad_last: the running sum of grad from the other end", None)

    @staticmethod
    def forward(ctx, x, axis):
        return scanned(ctx, x, axis, array_functions.cumsum)

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output.ndim == 0:
            return grad_output, None
        return running_sum_from_end(ctx.xp, grad_output, ctx.axis), None


class Cumprod(Op):
    """With no zero in x, d out_i / d x_j = out_i / x_j. A zero makes that 0 / 0, and its derivative
    would miss how the later products depend on the zero: the products without x_j are then built
    explicitly (``products_without_each``), exact to every order, as ``prod`` does."""

    formula = "x_0 · x_1 · ... · x_i along axis"
    derivatives = ("Σ over i ≥ j of grad_i · conj(the product of x_0 ... x_i without x_j) = Σ grad_i · conj(out_i / x_j)", None)

    @staticmethod
    def forward(ctx, x, axis):
        result = scanned(ctx, x, axis, array_functions.cumprod)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        if x.ndim == 0:
            return grad_output, None
        if (x == 0).any():
            return products_without_each(ctx, x, grad_output), None
        return running_sum_from_end(ctx.xp, grad_output * ctx.xp.conj(result), ctx.axis) / ctx.xp.conj(x), None


def products_without_each(ctx, x, grad_output):
    """Σ_{i ≥ j} grad_i · conj(Π_{k ≤ i, k ≠ j} x_k) for each j along ``ctx.axis``, with the functions of
    ``ctx.xp``: the axis is moved last (n long), row j of an n x n block is x with x_j set to 1, its
    running product is taken, and the entries i ≥ j are weighted by grad_i and summed. O(n²) per
    slice, so Cumprod uses it only when x has zeros."""
    functions, axis = ctx.xp, ctx.axis
    size = x.shape[axis]
    moved = functions.moveaxis(x, axis, -1)
    lead = tuple(moved.shape[:-1])
    rows = functions.broadcast_to(moved.reshape(lead + (1, size)), lead + (size, size))
    products = functions.cumprod(functions.where(xp.eye(size, dtype=bool), 1.0, rows), axis=-1)
    weighted = functions.conj(products) * functions.moveaxis(grad_output, axis, -1).reshape(lead + (1, size))
    at_or_after = xp.triu(xp.ones((size, size), dtype=bool))  # [j, i]: i >= j
    return functions.moveaxis(functions.sum(functions.where(at_or_after, weighted, 0.0), axis=-1), -1, axis)


# ----------------------------------------------------------------------------- cummax, cummin
class Cummax(ChosenAlongDim):
    formula = "max(x_0, ..., x_i) along dim"


class Cummin(ChosenAlongDim):
    formula = "min(x_0, ..., x_i) along dim"


def _running_extreme(kind, result, input, dim, operation, largest):
    """``result((values, indices))``: the running maximum (``largest``) or minimum along ``dim``, read
    at the positions ``running_extreme_positions`` finds (again on each call of a compiled program)."""
    axis = one_axis(input, dim, operation)
    if input._array.ndim == 0:
        return result(read_chosen(kind, input, None, 0))
    indices = computed_without_gradient(running_extreme_positions, [input], {"axis": axis, "largest": largest})._array
    return result(read_chosen(kind, input, indices, axis, repeats=True))


def running_extreme_positions(array, axis, largest):
    """For each i along ``axis``, the last position j <= i holding max(x[0], ..., x[i]) (``largest``)
    or the min (PyTorch's choice on ties); a nan stays the extreme from where it appears. The
    positions where x equals its own running extreme are marked, and the running maximum of the
    marked positions is the latest one."""
    extremes = (running_maximum if largest else running_minimum)(array, axis)
    size = array.shape[axis]
    positions = xp.arange(size, dtype=dtypes.int64).reshape([size if each == axis else 1 for each in range(array.ndim)])
    reached = array == extremes
    if array.dtype.kind in "fc":
        reached = reached | (xp.isnan(array) & xp.isnan(extremes))
    return as_array(running_maximum(xp.where(reached, positions, 0), axis), dtypes.int64)


@public(out=SAME_DTYPE)
def cummax(input, dim):
    """``(values, indices)``: values[i] = max(x[0], ..., x[i]) along ``dim`` and where it is (the
    latest position on ties). The gradient goes to that position."""
    return _running_extreme(Cummax, cummax_result, input, dim, "cummax", largest=True)


@public(out=SAME_DTYPE)
def cummin(input, dim):
    """``(values, indices)``: values[i] = min(x[0], ..., x[i]) along ``dim`` and where it is (the
    latest position on ties). The gradient goes to that position."""
    return _running_extreme(Cummin, cummin_result, input, dim, "cummin", largest=False)


# ----------------------------------------------------------------------------- logcumsumexp
class Logcumsumexp(Op):
    """Each step is log(e^a + e^b) = max + log(1 + e^(min - max)), so nothing overflows at x = 1000.

    d out_i / d x_j = e^(x_j - out_i) for i >= j. The gradient Σ_{i ≥ j} grad_i e^(x_j - out_i) is
    summed in log space as PyTorch does, the positive and negative parts of grad apart:
    e^(x_j + logsumexp_{i ≥ j}(log grad⁺_i - out_i)) - the same for grad⁻, so no e^(-out_i) overflows
    (log 0 taken as the dtype's lowest finite number, as PyTorch takes it).
    Where out_j = -inf (x_0 ... x_j all -inf) the gradient is nan, as PyTorch's (-inf + inf there).
    """

    formula = "log(e^x_0 + ... + e^x_i) along axis"
    derivatives = ("Σ over i ≥ j of grad_i · conj(e^(x_j - out_i))", None)

    @staticmethod
    def forward(ctx, x, axis):
        with ignoring_float_errors():  # -inf - -inf inside logaddexp where a slice starts at -inf
            result = scanned(ctx, x, axis, running_logaddexp)
        # out_i = -inf only where x_0 ... x_i are all -inf: those terms are left out of the sums, so
        # that no -inf - -inf = nan enters the other elements' gradients, nor a recorded backward.
        ctx.reached = result.real > -xp.inf
        ctx.lowest = xp.finfo(x.dtype).min  # log 0 in the backward's sums: finite, as PyTorch's
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        if x.ndim == 0:
            return grad_output, None
        functions, axis, reached = ctx.xp, ctx.axis, ctx.reached
        if x.dtype.kind == "c":  # no signs to take apart: conj(e^(x_j + log Σ_{i ≥ j} e^(log conj grad_i - out_i))), PyTorch's
            with ignoring_float_errors():  # log 0 = -inf where grad_i is 0: its term is e^-inf = 0
                weights = functions.log(functions.conj(grad_output)) - result
                return functions.conj(functions.exp(x + log_sum_exp_from_end(functions, weights, axis))), None
        finite_result = functions.where(reached, result, 0.0)
        gradient = functions.zeros_like(x)
        for sign in (1.0, -1.0):
            part = sign * grad_output
            if not (part > 0).any():  # this part is 0: it adds nothing
                continue
            weights = functions.where(reached, log_of_positive(functions, part, ctx.lowest) - finite_result, ctx.lowest)
            gradient = gradient + sign * functions.exp(x + log_sum_exp_from_end(functions, weights, axis))
        return functions.where(reached, gradient, xp.nan), None


def log_of_positive(functions, values, lowest):
    """log(values) where values > 0, ``lowest`` (the dtype's most negative finite number) elsewhere;
    the log is taken of 1 where it is not used, so that a recorded backward sends no nan through it.
    Finite, not -inf: the recorded backward's own logcumsumexp of these then has no leading -inf,
    whose gradient is nan."""
    positive = values > 0
    return functions.where(positive, functions.log(functions.where(positive, values, 1.0)), lowest)


def log_sum_exp_from_end(functions, values, axis):
    """out[j] = log(e^values[j] + ... + e^values[last]) along ``axis``.

    The one place a backward here asks what it computes on: NumPy has no logcumsumexp, so arrays go
    to the backend's running logaddexp, tensors (a recorded backward) to chainrule's logcumsumexp.
    """
    flipped = functions.flip(values, (axis,))
    running = running_logaddexp(flipped, axis) if is_array(flipped) else logcumsumexp(flipped, axis)
    return functions.flip(running, (axis,))


# ----------------------------------------------------------------------------- public functions
@public(inplace=True, out=IN_DTYPE_OF_OUT)
def cumsum(input, dim, *, dtype=None):
    """Running sums along ``dim``: out[i] = x[0] + ... + x[i]. Integers and bools give int64 (or
    ``dtype``, to which input is converted first)."""
    input = _running_dtype(input, dtype, "cumsum")
    return Cumsum.apply(input, one_axis(input, dim, "cumsum"))


@public(inplace=True, out=IN_DTYPE_OF_OUT)
def cumprod(input, dim, *, dtype=None):
    """Running products along ``dim``: out[i] = x[0] · ... · x[i]. The gradient is exact with zeros
    in x. Integers and bools give int64 (or ``dtype``, to which input is converted first)."""
    input = _running_dtype(input, dtype, "cumprod")
    return Cumprod.apply(input, one_axis(input, dim, "cumprod"))


def _running_dtype(input, dtype, operation):
    """input in the dtype its running sums or products are taken in (see ``accumulated``); PyTorch
    has no bool kernel for them, so ``dtype=bool`` is refused."""
    input = accumulated(input, dtype, operation)
    if input._array.dtype.kind == "b":
        raise NotImplementedError(f"\"{operation}_out_cpu\" not implemented for 'Bool'; choose an integer dtype, e.g. dtype=torch.long")
    return input


@public(out=SAME_DTYPE)
def logcumsumexp(input, dim):
    """out[i] = log(e^x[0] + ... + e^x[i]) along ``dim``, without overflow for large x (e.g. 1000).
    Floating tensors only, as in PyTorch."""
    if input._array.dtype.kind not in "fc":
        raise NotImplementedError(
            f'"logcumsumexp" not implemented for {input._array.dtype.name} tensors; '
            f"convert it first, e.g. x.float()"
        )
    return Logcumsumexp.apply(input, one_axis(input, dim, "logcumsumexp"))


# ----------------------------------------------------------------------------- differences and integrals along a dimension
# Composites of slices, subtraction, cat, sum and cumsum: their gradients come from those operations.
def _neighbours(input, dim):
    """(x[1:], x[:-1]) along ``dim``: each element and the one before it."""
    size = input.shape[dim]
    return input.narrow(dim, 1, size - 1), input.narrow(dim, 0, size - 1)


@public(out=True)
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim``: out[i] = x[i+1] - x[i], taken n times (each
    time one element shorter; an empty result once n reaches the length). ``prepend`` and
    ``append`` (tensors of input's dimensions) are joined to input's ends first; n = 0 gives input
    itself, without them, as in PyTorch. Bools give x[i+1] != x[i]. (*, m, *) -> (*, m - n, *)."""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional; reshape a 0-d tensor with .reshape(1)")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    dim = one_axis(input, dim, "diff")
    for extra in (prepend, append):
        if extra is not None and extra.ndim != input.ndim:
            raise RuntimeError(
                f"diff expects prepend or append to be the same dimension as input (input has {input.ndim}, "
                f"got a tensor of shape {list(extra.shape)})"
            )
    if n == 0:
        return input
    if prepend is not None or append is not None:
        input = cat([part for part in (prepend, input, append) if part is not None], dim)
    for _ in range(n):
        if input.shape[dim] == 0:
            break
        later, earlier = _neighbours(input, dim)
        input = later != earlier if input._array.dtype.kind == "b" else later - earlier
    return input


def _as_floating(y):
    """y, converted to the default float dtype when it holds integers or bools (a complex y is integrated as it is)."""
    return y if y.is_floating_point() or y.is_complex() else to(y, dtypes.get_default_dtype())


def _integration_operands(y, x, dx, dim, operation):
    """``(y, x, dx, dim)`` for ``trapezoid`` and ``cumulative_trapezoid`` after PyTorch's checks:
    y floating (integers converted), dim non-negative, the sample positions ``x`` viewed with y's
    number of dimensions (a 1-D x laid along dim, fewer dimensions padded in front), dx a number."""
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{operation}(): x must be a tensor of sample positions, not {type(x).__name__}; give a spacing as dx=")
    if x is not None and dx is not None:
        raise TypeError(f"{operation}(): give the sample positions x or their spacing dx, not both")
    if y.dtype is dtypes.bool_ or x is not None and x.dtype is dtypes.bool_:
        raise RuntimeError(f"{operation}: received a bool input for `x` or `y`, but bool is not supported; convert it, e.g. y.float()")
    y = _as_floating(y)
    if y.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions; integrate a tensor of at least 1 dimension")
    dim = one_axis(y, dim, operation)
    if x is not None and x.ndim == 1:
        if x.shape[0] != y.shape[dim]:
            raise RuntimeError(
                f"{operation}: There must be one `x` value for each sample point (x has {x.shape[0]}, "
                f"y has {y.shape[dim]} along dim {dim})"
            )
        x = x.view([-1 if each == dim else 1 for each in range(y.ndim)])
    elif x is not None and x.ndim < y.ndim:
        x = x.view((1,) * (y.ndim - x.ndim) + tuple(x.shape))
    dx = 1 if dx is None else dx.item() if isinstance(dx, Tensor) else dx
    return y, x, dx, dim


def _scaled(x, factor, node_name="MulBackward1"):
    """x times the number ``factor``: one node with one input, as PyTorch's product with a Scalar
    (``MulBackward1``; ``DivBackward1`` for its quotient by one, here a product by its inverse)."""
    return ConstantFactor.shown_as(node_name).apply(x, factor)


@public(method=False, aliases=("trapz",))
def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of y along ``dim`` by the trapezoidal rule: Σ (y[i+1] + y[i]) / 2 · (x[i+1] - x[i]),
    the samples at positions ``x`` (1-D, or y's shape) or ``dx`` apart (1 by default). (*, m, *) -> (*, *);
    0 where m is 0 or 1. Computed as PyTorch does: with even steps, (Σ y - (y[0] + y[m-1]) / 2) · dx."""
    y, x, dx, dim = _integration_operands(y, x, dx, dim, "trapezoid")
    if y.shape[dim] == 0:  # no samples: 0, as NumPy's
        return made_from_arguments(xp.zeros(y.shape[:dim] + y.shape[dim + 1 :], dtype=y._array.dtype))
    if x is None:
        ends = y.select(dim, 0) + y.select(dim, -1)
        return _scaled(y.sum(dim) - _scaled(ends, 0.5), dx)
    later, earlier = _neighbours(y, dim)
    steps = _differences(x, dim)
    return _scaled(((earlier + later) * steps).sum(dim), 0.5, "DivBackward1")


@public(method=False)
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running integral of y along ``dim`` by the trapezoidal rule: out[i] = the integral from
    sample 0 to sample i+1, as ``trapezoid``. (*, m, *) -> (*, m - 1, *)."""
    y, x, dx, dim = _integration_operands(y, x, dx, dim, "cumulative_trapezoid")
    later, earlier = _neighbours(y, dim) if y.shape[dim] else (y, y)
    if x is None:
        return _scaled(earlier + later, dx / 2).cumsum(dim)
    return _scaled(((earlier + later) * _differences(x, dim)).cumsum(dim), 0.5, "DivBackward1")


def _differences(x, dim):
    """x[i+1] - x[i] along ``dim``."""
    later, earlier = _neighbours(x, dim)
    return later - earlier


@public(method=False)
def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimates of the derivative of the sampled function ``input`` along each of ``dim`` (every
    dimension by default): a tuple of tensors of input's shape.

    Inside, the second-order central difference, which for uniform steps h is
    (f[i+1] - f[i-1]) / 2h; at the two ends a one-sided difference of order ``edge_order`` (1 or 2).
    ``spacing`` is the step (one number for all dimensions, or one per dimension) or one 1-D tensor
    of sample coordinates per dimension (uneven steps allowed).
    """
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = tuple(range(input.ndim)) if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(one_axis(input, each, "gradient") for each in dims)
    steps = _spacing_per_dim(spacing, dims, input.ndim, dim is None)
    values = _as_floating(input)
    return tuple(_derivative_along(values, each, step, edge_order) for each, step in zip(dims, steps))


def _spacing_per_dim(spacing, dims, ndim, every_dim):
    if not isinstance(spacing, (list, tuple)):
        return [float(spacing.item() if isinstance(spacing, Tensor) else spacing)] * len(dims)
    if len(spacing) == len(dims):
        return list(spacing)
    where = f"'self.dim() = {ndim}', since dim argument was not given" if every_dim else f"the number of dims ({len(dims)})"
    raise RuntimeError(
        f"torch.gradient expected spacing to be unspecified, a scalar, or a list of length equal to {where}, "
        f"but got a list of length {len(spacing)}"
    )


def _derivative_along(f, dim, step, edge_order):
    """The derivative estimate of f along ``dim`` (see ``gradient``), with the weights of the three
    samples at each point computed from the steps h between sample coordinates (numbers, no gradient)."""
    size = f.shape[dim]
    if size < edge_order + 1:
        raise RuntimeError(
            f"torch.gradient expected each dimension size to be at least edge_order+1 (dimension {dim} has "
            f"size {size}, edge_order is {edge_order})"
        )
    if isinstance(step, Tensor):
        if step.ndim != 1:
            raise RuntimeError(
                f"torch.gradient expected each element of spacing to have one dimension, but got an element "
                f"with {step.ndim} dimensions! Give the {size} sample coordinates along dim {dim} as a 1-D tensor"
            )
        if step.shape[0] != size:
            raise RuntimeError(
                f"torch.gradient expected the coordinates of dim {dim} to hold one value per sample ({size}), "
                f"but got {step.shape[0]}"
            )
        h = computed_without_gradient(_steps_between, [step], {"dtype": f._array.dtype})  # each call's coordinates
    else:
        h = made_from_arguments(xp.full(size - 1, float(step), dtype=f._array.dtype))
    shape = tuple(-1 if each == dim else 1 for each in range(f.ndim))

    def weights(rule, count=3):
        """The ``count`` weights of ``rule``, each a tensor along ``dim`` (computed again on each compiled call)."""
        keywords = [{"rule": rule, "index": index, "dtype": f._array.dtype, "shape": shape} for index in range(count)]
        return [computed_without_gradient(_sample_weights, [h], each) for each in keywords]

    def samples(start, count):
        return f.narrow(dim, start, count)

    if not isinstance(step, Tensor):  # an even step: PyTorch's formulas, which an infinite sample keeps infinite
        return _even_step_derivative(f, dim, step, edge_order)
    if edge_order == 1 or size == 2:
        first_step, last_step = weights("one-sided", 2)
        first = (samples(1, 1) - samples(0, 1)) / first_step
        last = (samples(size - 1, 1) - samples(size - 2, 1)) / last_step
    else:
        first = _three_point(samples(0, 1), samples(1, 1), samples(2, 1), weights("start"))
        last = _three_point(samples(size - 3, 1), samples(size - 2, 1), samples(size - 1, 1), weights("end"))
    if size == 2:
        return cat([first, last], dim)
    interior = _three_point(samples(0, size - 2), samples(1, size - 2), samples(2, size - 2), weights("interior"))
    return cat([first, interior, last], dim)


def _even_step_derivative(f, dim, step, edge_order):
    """``gradient`` along ``dim`` for samples ``step`` apart: (f[i+1] - f[i-1]) / step / 2 inside;
    at the ends (f[1] - f[0]) / step, or with ``edge_order`` 2 (-1.5 f[0] + 2 f[1] - 0.5 f[2]) / step
    and its mirror, in PyTorch's order of operations."""
    size = f.shape[dim]

    def samples(start, count):
        return f.narrow(dim, start, count)

    if edge_order == 1 or size == 2:
        first = (samples(1, 1) - samples(0, 1)) / step
        last = (samples(size - 1, 1) - samples(size - 2, 1)) / step
    else:
        first = (-1.5 * samples(0, 1) + 2 * samples(1, 1) - 0.5 * samples(2, 1)) / step
        last = (0.5 * samples(size - 3, 1) - 2 * samples(size - 2, 1) + 1.5 * samples(size - 1, 1)) / step
    if size == 2:
        return cat([first, last], dim)
    return cat([first, (samples(2, size - 2) - samples(0, size - 2)) / step / 2, last], dim)


def _steps_between(coordinates, dtype):
    """The steps h between neighbouring sample coordinates (a 1-D array), in ``dtype``."""
    return xp.diff(coordinates.astype(dtype))


def _sample_weights(h, rule, index, dtype, shape):
    """Weight ``index`` of the samples in ``rule`` (``one-sided``: the first and the last step;
    ``start``, ``end``: the second-order one-sided weights; ``interior``: the central ones) for the
    steps ``h``, in ``dtype`` and reshaped to ``shape``."""
    if rule == "one-sided":
        chosen = (h[:1], h[-1:])
    elif rule == "start":
        chosen = _start_weights(h[0:1], h[1:2])
    elif rule == "end":
        chosen = _end_weights(h[-2:-1], h[-1:])
    else:
        before, after = h[:-1], h[1:]
        chosen = (
            -after / (before * (before + after)), (after - before) / (before * after), before / (after * (before + after)),
        )
    return chosen[index].astype(dtype).reshape(shape)


def _three_point(left, middle, right, weights):
    left_weight, middle_weight, right_weight = weights
    return left_weight * left + middle_weight * middle + right_weight * right


def _start_weights(first, second):
    """Second-order one-sided weights of f[0], f[1], f[2] for steps ``first`` and ``second``."""
    return (
        -(2 * first + second) / (first * (first + second)), (first + second) / (first * second),
        -first / (second * (first + second)),
    )


def _end_weights(before, last):
    """Second-order one-sided weights of f[-3], f[-2], f[-1] for steps ``before`` and ``last``."""
    return last / (before * (before + last)), -(last + before) / (before * last), (2 * last + before) / (last * (before + last))
