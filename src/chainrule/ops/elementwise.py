"""Elementwise arithmetic: each output element depends on the matching input elements only.

Every backward here is the derivative of a one-variable (or two-variable) function, multiplied
elementwise by the gradient arriving from above. Broadcast inputs get their gradient summed back to
their own shape by the engine (see ops/broadcast.py), so no operation here deals with that.
"""
from chainrule import dtypes
from chainrule.autograd.function import Function
from chainrule.backend import as_array, xp
from chainrule.ops.operands import as_floating, as_tensor_like, binary_operands
from chainrule.tensor import Tensor, tensor_from_array

# The names chainrule exports at the top level (chainrule.exp, ...); see chainrule/functional.py.
__all__ = [
    "abs",
    "add",
    "clamp",
    "clip",
    "clone",
    "cos",
    "div",
    "exp",
    "floor_divide",
    "log",
    "log1p",
    "maximum",
    "minimum",
    "mul",
    "neg",
    "pow",
    "remainder",
    "sign",
    "sin",
    "sqrt",
    "square",
    "sub",
    "tan",
    "where",
]


# ----------------------------------------------------------------------------- binary arithmetic
class Add(Function):
    """out = a + b;   d out / d a = 1,   d out / d b = 1"""

    @staticmethod
    def forward(ctx, a, b):
        return a.array + b.array

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output


class Sub(Function):
    """out = a - b;   d out / d a = 1,   d out / d b = -1"""

    @staticmethod
    def forward(ctx, a, b):
        return a.array - b.array

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, -grad_output


class Mul(Function):
    """out = a * b;   d out / d a = b,   d out / d b = a"""

    @staticmethod
    def forward(ctx, a, b):
        needs_a, needs_b = ctx.needs_input_grad or (False, False)
        ctx.save_for_backward(a if needs_b else None, b if needs_a else None)  # each gradient needs the other
        return a.array * b.array

    @staticmethod
    def backward(ctx, grad_output):
        a, b, grad_output = ctx.operands(*ctx.saved_tensors, grad_output)
        grad_a = grad_output * b if ctx.needs_input_grad[0] else None
        grad_b = grad_output * a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    """out = a / b;   d out / d a = 1 / b,   d out / d b = -a / b^2"""

    @staticmethod
    def forward(ctx, a, b):
        needs_a, needs_b = ctx.needs_input_grad or (False, False)
        ctx.save_for_backward(a if needs_b else None, b)  # 1 / b for a; -a / b^2 for b
        return _true_divide(a.array, b.array)

    @staticmethod
    def backward(ctx, grad_output):
        a, b, grad_output = ctx.operands(*ctx.saved_tensors, grad_output)
        grad_a = grad_output / b if ctx.needs_input_grad[0] else None
        grad_b = -grad_output * a / (b * b) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Pow(Function):
    """out = x ** p;   d out / d x = p * x ** (p - 1),   d out / d p = out * log(x)

    ``p`` is a Python number (the common ``x ** 2``) or a tensor.
    """

    @staticmethod
    def forward(ctx, x, exponent):
        result = tensor_from_array(_power(x.array, exponent.array if isinstance(exponent, Tensor) else exponent))
        ctx.save_for_backward(x, result, exponent if isinstance(exponent, Tensor) else None)
        ctx.exponent = exponent
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result, exponent_tensor = ctx.saved_tensors
        exponent = exponent_tensor if exponent_tensor is not None else ctx.exponent
        grad_x = grad_exponent = None
        if ctx.needs_input_grad[0] and exponent_tensor is None:
            x_value, grad_value = ctx.operands(x, grad_output)
            grad_x = grad_value * 0.0 if exponent == 0 else grad_value * (exponent * x_value ** (exponent - 1))
        elif ctx.needs_input_grad[0]:
            grad_x = grad_output * exponent * x ** (exponent - 1)
        if exponent_tensor is not None and ctx.needs_input_grad[1]:
            # PyTorch's convention: where x == 0 (and the power is defined) the gradient is 0, not nan.
            safe_log = where(x == 0, 0.0, log(where(x == 0, 1.0, x)))
            grad_exponent = grad_output * result * safe_log
        return grad_x, grad_exponent


class Maximum(Function):
    """out = max(a, b);   the gradient goes to the larger input, split evenly on ties."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_wins, ctx.tie = a.array > b.array, a.array == b.array
        return xp.maximum(a.array, b.array)

    @staticmethod
    def backward(ctx, grad_output):
        return _split_between(ctx, grad_output)


class Minimum(Function):
    """out = min(a, b);   the gradient goes to the smaller input, split evenly on ties."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_wins, ctx.tie = a.array < b.array, a.array == b.array
        return xp.minimum(a.array, b.array)

    @staticmethod
    def backward(ctx, grad_output):
        return _split_between(ctx, grad_output)


class Where(Function):
    """out = a where condition else b;   d out / d a = condition,   d out / d b = not condition"""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        return xp.where(condition, a.array, b.array)

    @staticmethod
    def backward(ctx, grad_output):
        (grad_output,) = ctx.operands(grad_output)
        return None, selected(ctx.condition, grad_output), selected(~ctx.condition, grad_output)


class Remainder(Function):
    """out = a mod b (sign of b, as Python's %);   d out / d a = 1,   d out / d b = -floor(a / b)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.quotient = xp.floor_divide(a.array, b.array)
        return xp.remainder(a.array, b.array)

    @staticmethod
    def backward(ctx, grad_output):
        (grad_output,) = ctx.operands(grad_output)
        return grad_output, -grad_output * ctx.quotient


# ----------------------------------------------------------------------------- one-input functions
class Neg(Function):
    """out = -x;   d out / d x = -1"""

    @staticmethod
    def forward(ctx, x):
        return -x.array

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output


class Abs(Function):
    """out = |x|;   d out / d x = sign(x)  (0 at x = 0, as in PyTorch)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.abs(x.array)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * sign(x)


class Sign(Function):
    """out = sign(x) in {-1, 0, 1};   d out / d x = 0 everywhere it is defined"""

    @staticmethod
    def forward(ctx, x):
        return xp.sign(x.array)

    @staticmethod
    def backward(ctx, grad_output):
        return zeros_for(grad_output.array)


class Exp(Function):
    """out = e^x;   d out / d x = e^x = out"""

    @staticmethod
    def forward(ctx, x):
        result = tensor_from_array(xp.exp(as_floating(x.array)))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, grad_output = ctx.operands(*ctx.saved_tensors, grad_output)
        return grad_output * result


class Log(Function):
    """out = ln x;   d out / d x = 1 / x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.log(as_floating(x.array))

    @staticmethod
    def backward(ctx, grad_output):
        x, grad_output = ctx.operands(*ctx.saved_tensors, grad_output)
        return grad_output / x


class Log1p(Function):
    """out = ln(1 + x), accurate for small x;   d out / d x = 1 / (1 + x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.log1p(as_floating(x.array))

    @staticmethod
    def backward(ctx, grad_output):
        x, grad_output = ctx.operands(*ctx.saved_tensors, grad_output)
        return grad_output / (x + 1.0)


class Sqrt(Function):
    """out = sqrt(x);   d out / d x = 1 / (2 sqrt(x)) = 0.5 / out"""

    @staticmethod
    def forward(ctx, x):
        with xp.errstate(invalid="ignore"):
            result = tensor_from_array(xp.sqrt(as_floating(x.array)))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, grad_output = ctx.operands(*ctx.saved_tensors, grad_output)
        return grad_output * 0.5 / result


class Sin(Function):
    """out = sin x;   d out / d x = cos x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.sin(as_floating(x.array))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * cos(x)


class Cos(Function):
    """out = cos x;   d out / d x = -sin x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.cos(as_floating(x.array))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return -grad_output * sin(x)


class Tan(Function):
    """out = tan x;   d out / d x = 1 + tan^2 x"""

    @staticmethod
    def forward(ctx, x):
        result = tensor_from_array(xp.tan(as_floating(x.array)))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, grad_output = ctx.operands(*ctx.saved_tensors, grad_output)
        return grad_output * (result * result + 1.0)


class Clamp(Function):
    """out = min(max(x, low), high);   d out / d x = 1 where low <= x <= high, else 0;
    for tensor bounds, d out / d low = 1 where x < low and d out / d high = 1 where x > high."""

    @staticmethod
    def forward(ctx, x, low, high):
        low_array = low.array if isinstance(low, Tensor) else low
        high_array = high.array if isinstance(high, Tensor) else high
        below = x.array < low_array if low_array is not None else False
        above = x.array > high_array if high_array is not None else False
        ctx.below, ctx.above = below, above
        result = x.array
        if low_array is not None:
            result = xp.maximum(result, low_array)
        if high_array is not None:
            result = xp.minimum(result, high_array)
        return result if result is not x.array else result.copy()

    @staticmethod
    def backward(ctx, grad_output):
        (grad_output,) = ctx.operands(grad_output)
        inside = ~(ctx.below | ctx.above)
        needs = ctx.needs_input_grad
        grad_low = selected(ctx.below & ~ctx.above, grad_output) if needs[1] else None
        grad_high = selected(ctx.above, grad_output) if needs[2] else None
        return selected(inside, grad_output), grad_low, grad_high


class Cast(Function):
    """out = x converted to another dtype;   the gradient is converted back (by the engine)."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.array.astype(dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


class Clone(Function):
    """out = a copy of x;   d out / d x = 1"""

    @staticmethod
    def forward(ctx, x):
        return x.array.copy()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class Fill(Function):
    """out = a tensor like x filled with ``value``;   d out / d x = 0 (used by ``fill_``, ``zero_``)"""

    @staticmethod
    def forward(ctx, x, value):
        return xp.full(x.array.shape, value.array if isinstance(value, Tensor) else value, dtype=x.array.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return zeros_for(grad_output.array), None


class CopyFrom(Function):
    """out = ``source`` broadcast to x's shape and dtype;   gradient to source, none to x (``copy_``)."""

    @staticmethod
    def forward(ctx, x, source):
        return xp.broadcast_to(source.array, x.array.shape).astype(x.array.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return zeros_for(grad_output.array), grad_output


# ----------------------------------------------------------------------------- helpers
def selected(mask, grad):
    """The gradient where ``mask`` (a boolean array) holds, 0 elsewhere: a selection, not a product,
    so that an infinite gradient on the side not taken gives 0, not inf * 0 = nan (as in PyTorch).
    Works on arrays (plain backward) and tensors (recorded backward)."""
    if isinstance(grad, Tensor):
        return Where.apply(mask, grad, tensor_from_array(xp.zeros((), grad.array.dtype)))
    # A product is ~20x faster than xp.where on an unpredictable mask, and differs from it only
    # where the gradient is inf or nan: one cheap pass tells whether to select after all.
    if xp.isfinite(grad).all():
        return grad * mask
    return xp.where(mask, grad, grad.dtype.type(0))


def zeros_for(grad):
    """A zero gradient of ``grad``'s shape and dtype (for operations whose derivative is 0)."""
    return xp.zeros(grad.shape, grad.dtype)


def _true_divide(a, b):
    """a / b, keeping a floating dtype (int / int gives the default float, as in PyTorch)."""
    with xp.errstate(divide="ignore", invalid="ignore"):
        result = a / b
    if a.dtype.kind != "f" and b.dtype.kind != "f":
        result = result.astype(dtypes.get_default_dtype())
    return result


def _power(base, exponent):
    with xp.errstate(divide="ignore", invalid="ignore"):
        result = xp.power(base, exponent)
    if isinstance(exponent, float) and base.dtype.kind != "f":
        result = result.astype(dtypes.get_default_dtype())
    return result


def _split_between(ctx, grad_output):
    """The gradient to the winner of max/min, half of it to each on a tie."""
    (grad_output,) = ctx.operands(grad_output)
    half = selected(ctx.tie, grad_output * 0.5)
    b_wins = ~(ctx.a_wins | ctx.tie)
    return selected(ctx.a_wins, grad_output) + half, selected(b_wins, grad_output) + half


def _broadcasting(function, a, b):
    """``function.apply(a, b)``, with NumPy's broadcast failure told in PyTorch's words."""
    try:
        return function.apply(a, b)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        a_shape, b_shape = a.array.shape, b.array.shape
        for dim in range(-1, -min(len(a_shape), len(b_shape)) - 1, -1):
            if a_shape[dim] != b_shape[dim] and 1 not in (a_shape[dim], b_shape[dim]):
                break
        raise RuntimeError(
            f"{function.__name__.lower()}: The size of tensor a ({a_shape[dim]}) must match the size of "
            f"tensor b ({b_shape[dim]}) at non-singleton dimension {dim % max(len(a_shape), len(b_shape))}: "
            f"shapes {tuple(a_shape)} and {tuple(b_shape)} cannot be broadcast together"
        ) from None


# ----------------------------------------------------------------------------- public functions
def add(a, b, *, alpha=1):
    """a + alpha * b, broadcasting."""
    a, b = binary_operands(a, b if alpha == 1 else b * alpha)
    return _broadcasting(Add, a, b)


def sub(a, b, *, alpha=1):
    """a - alpha * b, broadcasting."""
    a, b = binary_operands(a, b if alpha == 1 else b * alpha)
    return _broadcasting(Sub, a, b)


def mul(a, b):
    """a * b, broadcasting."""
    a, b = binary_operands(a, b)
    return _broadcasting(Mul, a, b)


def div(a, b):
    """a / b, broadcasting; integer division gives floats, as in PyTorch."""
    a, b = binary_operands(a, b)
    return _broadcasting(Div, a, b)


def floor_divide(a, b):
    """floor(a / b) (no gradient: it is piecewise constant)."""
    a, b = binary_operands(a, b)
    return tensor_from_array(xp.floor_divide(a.array, b.array))


def remainder(a, b):
    """a mod b, with the sign of b."""
    a, b = binary_operands(a, b)
    return _broadcasting(Remainder, a, b)


def pow(x, exponent):
    """x ** exponent, for a number or tensor exponent (and ``2 ** tensor``)."""
    if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
        if not isinstance(x, Tensor):
            x = tensor_from_array(as_array(x, dtypes.infer_dtype(x)))
        return Pow.apply(x, exponent)
    x, exponent = binary_operands(x, exponent)
    return Pow.apply(x, exponent)


def maximum(a, b):
    """Elementwise larger of a and b."""
    a, b = binary_operands(a, b)
    return _broadcasting(Maximum, a, b)


def minimum(a, b):
    """Elementwise smaller of a and b."""
    a, b = binary_operands(a, b)
    return _broadcasting(Minimum, a, b)


def where(condition, a, b):
    """Elements of a where ``condition`` is true, of b elsewhere (broadcasting all three)."""
    condition = condition.array if isinstance(condition, Tensor) else as_array(condition)
    if condition.dtype != bool:
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{dtypes.dtype_name(condition.dtype)}; compare first, e.g. where(x > 0, ...)"
        )
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = tensor_from_array(as_array(a, dtypes.infer_dtype(a)))
    a, b = binary_operands(a, b)
    return Where.apply(condition, a, b)


def neg(x):
    return Neg.apply(x)


def abs(x):
    return Abs.apply(x)


def sign(x):
    return Sign.apply(x)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def log1p(x):
    return Log1p.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def sin(x):
    return Sin.apply(x)


def cos(x):
    return Cos.apply(x)


def tan(x):
    return Tan.apply(x)


def square(x):
    return Pow.apply(x, 2)


def clamp(x, min=None, max=None):
    """x limited to [min, max] (either bound may be None, a number or a tensor). An integer x with
    a floating bound gives floats, as PyTorch promotes."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    for bound in (min, max):
        if bound is not None:
            x, _ = binary_operands(x, bound)
    return Clamp.apply(x, min, max)


clip = clamp


def cast(x, dtype):
    """x converted to ``dtype`` (differentiable between floating dtypes)."""
    return Cast.apply(x, dtype)


def clone(x):
    return Clone.apply(x)


def fill(x, value):
    return Fill.apply(x, value)


def copy_from(x, source):
    return CopyFrom.apply(x, as_tensor_like(source, x))
