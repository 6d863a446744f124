"""Elementwise arithmetic: each output element depends on the matching input elements only.

Every backward here is the derivative of a one-variable (or two-variable) function, multiplied
elementwise by the gradient arriving from above. Broadcast inputs get their gradient summed back to
their own shape by the engine, so no operation here deals with that.
"""
import math

from chainrule import dtypes
from chainrule.autograd.function import computed_without_gradient, made_from_values
from chainrule.caller_warnings import warn_at_caller, warn_once
from chainrule.backend import as_array, half_in_float32, ignoring_float_errors, is_array, is_contiguous, is_scalar, meta_array, ndarray, xp
from chainrule.memory_layout import check_rank, copied_in_order, dimension_order, preserve_format, suggested_memory_format
from chainrule.memory_layout import memory_format as memory_format_type
from chainrule.ops.complex_refusals import complex_refused
from chainrule.ops.half_precision import computed_in_float32, for_input
from chainrule.ops.inplace import write_in_place
from chainrule.ops.op import Op, Pointwise
from chainrule.ops.operands import (
    as_floating, as_tensor_like, binary_operands, broadcast_failure, common_dtype, constant, floating_operands, refuse_numbers_only,
    require_tensor_input, require_tensors, with_deprecated_forms, write_error,
)
from chainrule.ops.registry import SAME_DTYPE, formula_form, functions, install_method, operator_form, public, reflected
from chainrule.device import check_device
from chainrule.device import device as as_device
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.return_types import return_type

#: The default of a keyword whose absence PyTorch tells from every value it may take: ``div(x, y,
#: rounding_mode=None)`` and ``round(x, decimals=0)`` are other overloads than ``div(x, y)`` and
#: ``round(x)``, with other node names (and ``round`` of integers refuses the second).
_NOT_GIVEN = object()


# ----------------------------------------------------------------------------- binary arithmetic
class Add(Pointwise):
    formula = "a + b"
    derivatives = ("1", "1")

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output


class Sub(Pointwise):
    formula = "a - b"
    derivatives = ("1", "-1")

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, -grad_output


class Rsub(Sub):
    """``number - tensor``, which PyTorch computes (and names) as its own node."""

    node_name = "RsubBackward1"


class ScaledAdd(Pointwise):
    """input + alpha · other of float16 tensors (add's and, alpha negated, sub's and rsub's, shown
    as their nodes), as PyTorch's kernel computes it: in float32 (``computed_in_float32``), alpha
    taken in float16 (0.3 is 0.2998...), so that alpha · other is exact and the sum is rounded to
    float16 once. Its backward, PyTorch's, multiplies the gradient by alpha as a number (0.3)."""

    node_name = "AddBackward0"
    formula = "input + alpha · other"
    derivatives = ("1", "alpha", None)

    @staticmethod
    def forward(ctx, input, other, alpha):
        ctx.alpha = alpha
        return input + float(xp.float16(alpha)) * other

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output * ctx.alpha, None


class Mul(Pointwise):
    # a float16 tensor times a number, computed in float32 (``_half_with_number``): PyTorch's
    # MulBackward0 multiplies by tensor operations, in float16 (half_precision.py)
    half_backward_rounds_each_step = True
    formula = "a · b"
    derivatives = ("b", "a")

    @staticmethod
    def forward(ctx, a, b):
        needs_a, needs_b = ctx.needs_input_grad or (False, False)
        # each gradient needs the other; b first, in the order PyTorch's MulBackward0 saves (and packs) them
        ctx.save_for_backward(b if needs_a else None, a if needs_b else None)
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        b, a = ctx.saved_tensors
        # (complex numbers: grad · conj(derivative), PyTorch's convention; a real array is its own conj)
        grad_a = grad_output * ctx.xp.conj(b) if ctx.needs_input_grad[0] else None
        grad_b = grad_output * ctx.xp.conj(a) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Pointwise):
    half_backward_rounds_each_step = True  # as Mul's
    formula = "a / b"
    derivatives = ("1/b", "-a/b²")

    @staticmethod
    def forward(ctx, a, b):
        needs_a, needs_b = ctx.needs_input_grad or (False, False)
        ctx.save_for_backward(b, a if needs_b else None)  # in the order PyTorch's DivBackward0 saves them
        return _true_divide(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        b, a = ctx.saved_tensors
        grad_a = grad_output / ctx.xp.conj(b) if ctx.needs_input_grad[0] else None
        # (a / b) / b, as PyTorch: b · b would overflow for |b| > 1.8e19 in float32 where the quotient does not
        grad_b = -grad_output * ctx.xp.conj(a / b / b) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Pow(Pointwise):
    """``exponent`` is a Python number (the common ``x ** 2``) or a tensor."""

    formula = "x^exponent"
    derivatives = ("exponent · x^(exponent - 1)", "out · ln x")

    @staticmethod
    def forward(ctx, x, exponent):
        result = _power(x, exponent)
        if isinstance(exponent, (int, float)):
            ctx.exponent = exponent
            ctx.save_for_backward(x)
        else:
            ctx.save_for_backward(x, result, exponent)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        saved = ctx.saved_tensors  # read once: under saved_tensors_hooks each read unpacks
        if len(saved) == 1:  # a number exponent
            (x,) = saved
            exponent = ctx.exponent
            if exponent == 0:
                return ctx.xp.zeros_like(grad_output), None
            return grad_output * ctx.xp.conj(exponent * power(x, exponent - 1)), None
        x, result, exponent = saved
        grad_x = grad_exponent = None
        if ctx.needs_input_grad[0]:  # 0 where the exponent is 0, even where x^-1 is inf or nan
            grad_x = ctx.xp.where(exponent == 0, 0.0, grad_output * ctx.xp.conj(exponent * x ** (exponent - 1)))
        if ctx.needs_input_grad[1]:
            # PyTorch's convention: where x == 0 and exponent ≥ 0 the gradient is 0, not 0 · -inf = nan
            # (for exponent < 0 it is inf · -inf).
            at_zero = (x == 0) & (exponent >= 0)
            safe_log = ctx.xp.where(at_zero, 0.0, ctx.xp.log(ctx.xp.where(at_zero, 1.0, x)))
            grad_exponent = grad_output * ctx.xp.conj(ctx.xp.where(at_zero, 0.0, result * safe_log))
        return grad_x, grad_exponent


class PowOfTensors(Pow):
    """``tensor ** tensor``: PyTorch's second overload of pow."""

    node_name = "PowBackward1"


class PowOfNumber(Pow):
    """``number ** tensor`` (``2 ** x``): PyTorch's third overload of pow, whose result is row-major
    whatever the exponents' layout."""

    node_name = "PowBackward2"
    keeps_layout = None


class Maximum(Pointwise):
    """The gradient goes to the larger input, split evenly on ties (and to both where one is nan)."""

    formula = "max(a, b)"
    derivatives = ("0 where a < b, ½ where a = b, else 1", "0 where a > b, ½ where a = b, else 1")

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_loses, ctx.b_loses, ctx.tie = a < b, a > b, a == b
        return xp.maximum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        return split_between(ctx, grad_output)


class Minimum(Pointwise):
    """The gradient goes to the smaller input, split evenly on ties (and to both where one is nan)."""

    formula = "min(a, b)"
    derivatives = ("0 where a > b, ½ where a = b, else 1", "0 where a < b, ½ where a = b, else 1")

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_loses, ctx.b_loses, ctx.tie = a > b, a < b, a == b
        return xp.minimum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        return split_between(ctx, grad_output)


class Where(Pointwise):
    formula = "a where condition, else b"
    derivatives = (None, "1 where condition, else 0", "0 where condition, else 1")

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        return xp.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad_output):
        return None, selected(ctx.xp, ctx.condition, grad_output), selected(ctx.xp, ~ctx.condition, grad_output)


class Remainder(Pointwise):
    """The remainder has the sign of b, as Python's %. Floats are computed as PyTorch does, from
    fmod(a, b) moved by b where the signs differ, so that a 0 keeps the sign of a (0.0 % -1 is 0.0)."""

    formula = "a mod b"
    derivatives = ("1", "-floor(a / b)")

    @staticmethod
    def forward(ctx, a, b):
        _refuse_integer_division_by_zero("remainder", a, b)
        with ignoring_float_errors():  # x % 0.0 and inf % 2.0 are nan, the lowest integer % -1 is 0, silently
            ctx.quotient = xp.floor_divide(a, b)
            if xp.result_type(a, b).kind != "f":
                return xp.remainder(a, b)
            truncated = xp.fmod(a, b)
            return xp.where((truncated != 0) & ((b < 0) != (truncated < 0)), truncated + b, truncated)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, -grad_output * ctx.quotient


# ----------------------------------------------------------------------------- one-input functions
class Neg(Pointwise):
    formula = "-x"
    derivatives = ("-1",)

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output


class Abs(Pointwise):
    """The derivative is 0 at x = 0, and at nan (PyTorch's sign of nan is 0)."""

    formula = "|x|"
    derivatives = ("sign(x)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.abs(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        if x.dtype.kind == "c":  # |z| is not holomorphic: its gradient is grad · z/|z| (0 at 0)
            return grad_output * ctx.xp.sgn(x)
        return grad_output * ctx.xp.nan_to_num(ctx.xp.sign(x), nan=0.0)


class Sign(Pointwise):
    formula = "sign(x)"
    derivatives = ("0",)

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind == "b":  # a bool is its own sign
            return x.copy()
        return xp.nan_to_num(xp.sign(x), nan=0.0) if x.dtype.kind == "f" else xp.sign(x)

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.xp.zeros_like(grad_output)


class Exp(Pointwise):
    formula = "e^x"
    derivatives = ("e^x = out",)

    @staticmethod
    def forward(ctx, x):
        with ignoring_float_errors():  # overflow gives inf, as in PyTorch
            result = xp.exp(as_floating(x))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * ctx.xp.conj(result)


class Log(Pointwise):
    formula = "ln x"
    derivatives = ("1/x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ignoring_float_errors():  # ln 0 = -inf, ln of a negative number = nan, as in PyTorch
            return xp.log(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / ctx.xp.conj(x)


class Log1p(Pointwise):
    """Accurate for small x."""

    node_name = "Log1PBackward0"

    formula = "ln(1 + x)"
    derivatives = ("1/(1 + x)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ignoring_float_errors():
            return xp.log1p(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / ctx.xp.conj(x + 1.0)


class Sqrt(Pointwise):
    formula = "√x"
    derivatives = ("1/(2√x) = 0.5/out",)

    @staticmethod
    def forward(ctx, x):
        with ignoring_float_errors():
            result = xp.sqrt(as_floating(x))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * 0.5 / ctx.xp.conj(result)


class Reciprocal(Pointwise):
    formula = "1/x"
    derivatives = ("-1/x² = -out²",)

    @staticmethod
    def forward(ctx, x):
        with ignoring_float_errors():
            result = 1 / as_floating(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return -grad_output * ctx.xp.conj(result * result)


class Sin(Pointwise):
    formula = "sin x"
    derivatives = ("cos x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.sin(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * ctx.xp.conj(ctx.xp.cos(x))


class Cos(Pointwise):
    formula = "cos x"
    derivatives = ("-sin x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.cos(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return -grad_output * ctx.xp.conj(ctx.xp.sin(x))


class Tan(Pointwise):
    formula = "tan x"
    derivatives = ("1 + tan²x = 1 + out²",)

    @staticmethod
    def forward(ctx, x):
        result = xp.tan(as_floating(x))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * ctx.xp.conj(result * result + 1.0)


class Atan(Pointwise):
    formula = "arctan x"
    derivatives = ("1/(1 + x²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.arctan(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / ctx.xp.conj(x * x + 1.0)


class Asin(Pointwise):
    formula = "arcsin x"
    derivatives = ("1/√(1 - x²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ignoring_float_errors():
            return xp.arcsin(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / ctx.xp.conj(ctx.xp.sqrt(1.0 - x * x))


class Acos(Pointwise):
    formula = "arccos x"
    derivatives = ("-1/√(1 - x²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ignoring_float_errors():
            return xp.arccos(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return -grad_output / ctx.xp.conj(ctx.xp.sqrt(1.0 - x * x))


class Atan2(Pointwise):
    """The angle of the point (b, a), in (-π, π]."""

    formula = "atan2(a, b)"
    derivatives = ("b/(a² + b²) (0 at the origin)", "-a/(a² + b²) (0 at the origin)")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp.arctan2(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        squares = a * a + b * b
        scale = grad_output / ctx.xp.where(squares == 0, 1, squares)  # at the origin both derivatives are 0, as in PyTorch
        return scale * b, -scale * a


class Sinh(Pointwise):
    formula = "sinh x"
    derivatives = ("cosh x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ignoring_float_errors():
            return xp.sinh(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * ctx.xp.conj(ctx.xp.cosh(x))


class Cosh(Pointwise):
    formula = "cosh x"
    derivatives = ("sinh x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ignoring_float_errors():
            return xp.cosh(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * ctx.xp.conj(ctx.xp.sinh(x))


class Asinh(Pointwise):
    formula = "arsinh x"
    derivatives = ("1/√(x² + 1)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.arcsinh(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / ctx.xp.conj(ctx.xp.sqrt(x * x + 1.0))


class Acosh(Pointwise):
    formula = "arcosh x"
    derivatives = ("1/√(x² - 1)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ignoring_float_errors():
            return xp.arccosh(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        if x.dtype.kind == "c":  # √(x - 1) √(x + 1): the branch of acosh itself, where √(x² - 1) may take the other
            return grad_output / ctx.xp.conj(ctx.xp.sqrt(x - 1.0) * ctx.xp.sqrt(x + 1.0))
        return grad_output / ctx.xp.sqrt(x * x - 1.0)


class Atanh(Pointwise):
    formula = "artanh x"
    derivatives = ("1/(1 - x²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ignoring_float_errors():
            return xp.arctanh(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / ctx.xp.conj(1.0 - x * x)


class Expm1(Pointwise):
    """Accurate for small x."""

    formula = "e^x - 1"
    derivatives = ("e^x = out + 1",)

    @staticmethod
    def forward(ctx, x):
        with ignoring_float_errors():
            result = xp.expm1(as_floating(x))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * ctx.xp.conj(result + 1.0)


class Exp2(Pointwise):
    formula = "2^x"
    derivatives = ("2^x · ln 2 = out · ln 2",)

    @staticmethod
    def forward(ctx, x):
        with ignoring_float_errors():
            result = xp.exp2(as_floating(x))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * ctx.xp.conj(result) * LN_2


def rounded_once(function, x):
    """``function(x)`` for a float array, computed in float64 and rounded once to x's precision:
    PyTorch's float32 log2 and log10 (SLEEF's, within 1 ulp) are the correctly rounded value all
    but a few times in 10^5, where NumPy's float32 loops miss it by an ulp half the time (log10(1e-3)
    = -3.0000002). float64 is slower (4 ms against 0.3 for 10^6 values), so only these take it."""
    if x.dtype.itemsize >= 8:
        return function(x)
    rounded = function(x.astype(xp.float64)).astype(xp.float32)
    return rounded if x.dtype == xp.float32 else rounded.astype(x.dtype)  # float16 through float32, as PyTorch's


class Log2(Pointwise):
    formula = "log₂ x"
    derivatives = ("1/(x · ln 2)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ignoring_float_errors():
            return rounded_once(xp.log2, as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / ctx.xp.conj(x * LN_2)


class Log10(Pointwise):
    formula = "log₁₀ x"
    derivatives = ("1/(x · ln 10)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ignoring_float_errors():
            return rounded_once(xp.log10, as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / ctx.xp.conj(x * LN_10)


#: 1/√x of an array; of float16, computed in float32 and rounded once (rounding √x first rounds twice)
reciprocal_square_root = half_in_float32(lambda x: 1.0 / xp.sqrt(x))


class Rsqrt(Pointwise):
    formula = "1/√x"
    derivatives = ("-1/(2 x√x) = -out³/2",)

    @staticmethod
    def forward(ctx, x):
        with ignoring_float_errors():
            result = reciprocal_square_root(as_floating(x))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        result = ctx.xp.conj(result)
        return grad_output * -0.5 * result * result * result


class Logit(Pointwise):
    """With ``eps`` >= 0, x is first clamped as PyTorch clamps it: eps where x < eps, else 1 - eps
    where x > 1 - eps (so with eps > 0.5, where the bounds cross, every x goes to one of them), and
    gets no gradient there. A negative ``eps`` clamps nothing, as None; unclamped, the gradient is
    nan outside [0, 1], as PyTorch's (where 1/(x (1 - x)) is a number).

    The gradient is PyTorch's vectorized kernel's: grad / -0.0 at x = -0.0 (-inf for a positive
    grad), and, clamped, 0 at x = nan. Its scalar loop, which takes the elements left over after a
    row's last full vectors (all of a small tensor), gives grad · inf and nan there: PyTorch's
    answer depends on the element's position and the CPU's vector width, chainrule's does not."""

    formula = "ln(x / (1 - x))"
    derivatives = ("1/(x (1 - x))", None)

    @staticmethod
    def forward(ctx, x, eps):
        ctx.save_for_backward(x)
        x = as_floating(x)
        ctx.bounds = None
        if eps is not None and eps >= 0:
            low = x.dtype.type(eps)
            ctx.bounds = low, 1 - low
            x = xp.where(x < low, low, xp.minimum(x, 1 - low))
        with ignoring_float_errors():
            return xp.log(x / (1 - x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with ignoring_float_errors():
            slope = grad_output / (x * (1.0 - x))
        if ctx.bounds is None:
            return ctx.xp.where((x < 0) | (x > 1), math.nan, slope), None
        low, high = ctx.bounds
        return ctx.xp.where((x >= low) & (x <= high), slope, 0.0), None


class PiecewiseConstant(Pointwise):
    """An operation whose output jumps between flat steps: its derivative is 0 wherever it exists,
    and PyTorch sends back zeros."""

    @staticmethod
    def backward(ctx, grad_output):
        return (ctx.xp.zeros_like(grad_output),) + (None,) * (len(ctx.needs_input_grad) - 1)


class RoundedQuotient(Pointwise):
    """``div`` with a rounding mode: a step function of both inputs, whose gradients PyTorch sends
    back as zeros (to each input, even where a or b is nan or b is 0)."""

    node_name = "DivBackward2"
    formula = "trunc(a / b) or floor(a / b)"
    derivatives = ("0", "0", None)

    @staticmethod
    def forward(ctx, a, b, rounding_mode):
        with ignoring_float_errors():
            return xp.trunc(a / b) if rounding_mode == "trunc" else xp.floor_divide(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        zeros = ctx.xp.zeros_like(grad_output)
        return zeros, zeros, None


class Floor(PiecewiseConstant):
    formula = "⌊x⌋"
    derivatives = ("0",)

    @staticmethod
    def forward(ctx, x):
        return xp.floor(x)


class Ceil(PiecewiseConstant):
    formula = "⌈x⌉"
    derivatives = ("0",)

    @staticmethod
    def forward(ctx, x):
        return xp.ceil(x)


class Trunc(PiecewiseConstant):
    formula = "x rounded toward 0"
    derivatives = ("0",)

    @staticmethod
    def forward(ctx, x):
        return xp.trunc(x)


class Round(PiecewiseConstant):
    """Halves round to the even neighbour, as in PyTorch. x · 10^decimals beyond the dtype's range
    gives inf or nan without a warning, as in PyTorch."""

    formula = "x rounded to decimals places"
    derivatives = ("0", None)

    @staticmethod
    def forward(ctx, x, decimals):
        with ignoring_float_errors():
            return round_array(x, decimals)


class Frac(Pointwise):
    formula = "x - trunc(x)"
    derivatives = ("1",)

    @staticmethod
    def forward(ctx, x):
        return x - xp.trunc(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class Fmod(Pointwise):
    """The remainder has the sign of a (C's fmod), unlike ``remainder``."""

    formula = "a - trunc(a / b) · b"
    derivatives = ("1", "-trunc(a / b)")

    @staticmethod
    def forward(ctx, a, b):
        _refuse_integer_division_by_zero("fmod", a, b)
        with ignoring_float_errors():
            ctx.quotient = xp.trunc(a / b) if a.dtype.kind == "f" or b.dtype.kind == "f" else None
            return xp.fmod(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, -grad_output * ctx.quotient


class Hypot(Pointwise):
    formula = "√(a² + b²)"
    derivatives = ("a/out", "b/out")

    @staticmethod
    def forward(ctx, a, b):
        result = xp.hypot(a, b)
        ctx.save_for_backward(a, b, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        a, b, result = ctx.saved_tensors
        scale = grad_output / result
        return scale * a, scale * b


class LogAddExp(Pointwise):
    """The slopes are written as PyTorch's, from a - b: at a = inf, b = -inf the slope to a is
    1 / (1 + e^-inf) = 1, where e^(a - out) would be e^(inf - inf) = nan."""

    node_name = "LogaddexpBackward0"
    formula = "ln(e^a + e^b)"
    derivatives = ("1 / (1 + e^(b - a))", "1 / (1 + e^(a - b))")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp.logaddexp(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        with ignoring_float_errors():  # e^(b - a) overflows to inf: the slope is then 0
            return grad_output / (1 + ctx.xp.exp(b - a)), grad_output / (1 + ctx.xp.exp(a - b))


class Lerp(Pointwise):
    """Computed from the nearer end, as PyTorch does: start + weight (end - start) for |weight| < 0.5,
    end - (1 - weight) (end - start) otherwise, so weight 1 gives exactly ``end``."""

    half_backward_rounds_each_step = True  # a derivative of tensor operations in PyTorch (half_precision.py)

    formula = "start + weight · (end - start)"
    derivatives = ("conj(1 - weight)", "conj(weight)", "conj(end - start)")

    @staticmethod
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        with ignoring_float_errors():  # inf - inf = nan, as in PyTorch, which does not warn
            difference = end - start
            return xp.where(xp.abs(weight) < 0.5, start + weight * difference, end - difference * (1 - weight))

    @staticmethod
    def backward(ctx, grad_output):
        start, end, weight = ctx.saved_tensors
        weight = ctx.xp.conj(weight)
        grad_weight = grad_output * ctx.xp.conj(end - start) if ctx.needs_input_grad[2] else None
        return grad_output * (1.0 - weight), grad_output * weight, grad_weight


class FusedLerp(Lerp):
    """Lerp as PyTorch's vectorized CPU kernel computes it, each result one fused multiply-add
    rounded once: (weight or weight - 1) · (end - start) + (start or end). Used for float16
    tensors, computed in float32 (``computed_in_float32``), where it gives PyTorch's results to the
    bit: the sum is taken in float64, where the product of two float32 numbers is exact."""

    node_name = "LerpBackward0"

    @staticmethod
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        with ignoring_float_errors():  # inf - inf = nan, as in PyTorch, which does not warn
            difference = end - start
            near_start = xp.abs(weight) < 0.5
            coefficient = xp.where(near_start, weight, weight - 1).astype(xp.float64)
            return (coefficient * difference + xp.where(near_start, start, end)).astype(difference.dtype)


class Addcmul(Pointwise):
    half_backward_rounds_each_step = True  # a derivative of tensor operations in PyTorch (half_precision.py)
    formula = "input + value · tensor1 · tensor2"
    derivatives = ("1", "conj(value · tensor2)", "conj(value · tensor1)", None)

    @staticmethod
    def forward(ctx, input, tensor1, tensor2, value):
        ctx.value = value
        ctx.save_for_backward(tensor1, tensor2)
        return input + value * tensor1 * tensor2

    @staticmethod
    def backward(ctx, grad_output):
        tensor1, tensor2 = ctx.saved_tensors
        scaled = grad_output * ctx.value.conjugate()
        return grad_output, scaled * ctx.xp.conj(tensor2), scaled * ctx.xp.conj(tensor1), None


class Addcdiv(Pointwise):
    half_backward_rounds_each_step = True  # a derivative of tensor operations in PyTorch (half_precision.py)
    formula = "input + value · tensor1 / tensor2"
    derivatives = ("1", "conj(value / tensor2)", "-conj(value · tensor1 / tensor2²)", None)

    @staticmethod
    def forward(ctx, input, tensor1, tensor2, value):
        ctx.value = value
        ctx.save_for_backward(tensor1, tensor2)
        with ignoring_float_errors():
            return input + value * tensor1 / tensor2

    @staticmethod
    def backward(ctx, grad_output):
        tensor1, tensor2 = ctx.saved_tensors
        with ignoring_float_errors():  # PyTorch's order: tensor2² overflows to inf where |tensor2| > 1.8e19 (float32)
            value, tensor1, tensor2 = ctx.value.conjugate(), ctx.xp.conj(tensor1), ctx.xp.conj(tensor2)
            grad_tensor2 = -grad_output * value * tensor1 / (tensor2 * tensor2)
            return grad_output, grad_output * value / tensor2, grad_tensor2, None


class Xlogy(Pointwise):
    """0 where x = 0 (even where ln y is infinite), but nan where y is nan, as in PyTorch and
    SciPy; so is the derivative in x, ln y, where x = 0 and y <= 0."""

    formula = "x · ln y"
    derivatives = ("ln y (0 where x = 0 and y <= 0)", "x / y")

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with ignoring_float_errors():
            return xp.where((x == 0) & ~xp.isnan(y), 0.0, x * xp.log(y)).astype(xp.result_type(x, y))

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        grad_x = ctx.xp.where((x == 0) & (y <= 0), 0.0, grad_output * ctx.xp.log(y)) if ctx.needs_input_grad[0] else None
        grad_y = grad_output * x / y if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


class Sinc(Pointwise):
    formula = "sin(πx) / (πx), 1 at x = 0"
    derivatives = ("(cos(πx) πx - sin(πx)) / (πx²), 0 at x = 0",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return sinc_array(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        # 0 where π x² is 0, as PyTorch's: at x = 0, and where x² underflows (|x| < 1e-23 in float32)
        at_zero = x * x * PI == 0
        safe = ctx.xp.where(at_zero, 1.0, x)
        angle = safe * PI
        slope_times_grad = grad_output * (angle * ctx.xp.cos(angle) - ctx.xp.sin(angle)) / (safe * safe * PI)
        return ctx.xp.where(at_zero, 0.0, slope_times_grad)


class Clamp(Pointwise):
    """A bound may be None, a number or an array (a tensor bound gets gradients too). The masks are
    PyTorch's (clamp_backward, clamp_backward_min_max): x gets the gradient where low ≤ x ≤ high,
    so not where x is nan; with low > high every output is high, whose gradient it is."""

    formula = "min(max(x, low), high)"
    derivatives = ("1 where low ≤ x ≤ high, else 0", "1 where x < low < high", "1 where x > high or high < low")

    @staticmethod
    def forward(ctx, x, low, high):
        result = x
        inside = to_low = to_high = True
        if low is not None:
            inside, to_low = x >= low, x < low
            result = _on_tie_taking(xp.maximum, result, low)
        if high is not None:
            inside, to_high = inside & (x <= high), x > high
            result = _on_tie_taking(xp.minimum, result, high)
        if low is not None and high is not None:
            to_low, to_high = to_low & (low < high), to_high | (high < low)
        ctx.inside, ctx.to_low, ctx.to_high = inside, to_low, to_high
        return result if result is not x else result.copy()

    @staticmethod
    def backward(ctx, grad_output):
        needs = ctx.needs_input_grad
        grad_low = selected(ctx.xp, ctx.to_low, grad_output) if needs[1] else None
        grad_high = selected(ctx.xp, ctx.to_high, grad_output) if needs[2] else None
        return selected(ctx.xp, ctx.inside, grad_output), grad_low, grad_high


def _on_tie_taking(extremum, x, bound):
    """``extremum`` (maximum or minimum) of x and a clamp bound, taking what PyTorch takes where they
    are equal (which differ only as -0.0 and 0.0): x for a number bound, the bound for a tensor
    (NumPy's maximum and minimum take their second argument on a tie)."""
    return extremum(x, bound) if isinstance(bound, xp.ndarray) else extremum(bound, x)


class Cast(Op):
    """The gradient is converted back to x's dtype (by the engine)."""

    node_name = "ToCopyBackward0"  # x.to(dtype), x.float(), x.double() in PyTorch

    formula = "x as another dtype"
    derivatives = ("1", None)

    @staticmethod
    def forward(ctx, x, dtype):
        target = xp.dtype(dtype)
        # floats to integers (nan, inf, out of range) or to a narrower float (1e6 as float16 is inf):
        # no warning, as in PyTorch
        if x.dtype.kind == "c" and target.kind != "c":
            warn_at_caller("Casting complex values to real discards the imaginary part")  # PyTorch's UserWarning
            x = x.real
        if target.itemsize < x.dtype.itemsize or (x.dtype.kind == "f" and target.kind in "iub"):
            with ignoring_float_errors():
                return x.astype(target)
        return x.astype(target)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


class CastInOrder(Cast):
    """``Cast`` into new memory laid out in ``order`` (outermost dimension first; None:
    row-major): ``x.to(dtype, memory_format=...)``, and the conversion of a tensor whose layout
    PyTorch's would keep (``x.t().double()`` is transposed too)."""

    node_name = "ToCopyBackward0"
    derivatives = ("1", None, None)

    @staticmethod
    def forward(ctx, x, dtype, order):
        with ignoring_float_errors():  # values beyond the new dtype's range: no warning, as Cast's
            return copied_in_order(x, order, dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None, None


class Clone(Op):
    formula = "a copy of x"
    derivatives = ("1", None)

    @staticmethod
    def forward(ctx, x, order=None):
        return x.copy() if order is None else copied_in_order(x, order)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


class Fill(Pointwise):
    """``fill``, ``fill_`` and ``zero_``: ``value`` (a number or a 0-d tensor) everywhere in x's
    shape. Each element is the value: its gradient is the sum of the output's."""

    formula = "value everywhere, in x's shape"
    derivatives = ("0", "Σ grad")

    @staticmethod
    def forward(ctx, x, value):
        ctx.value_dtype = getattr(value, "dtype", None)
        with ignoring_float_errors():  # 1e6 into float16 is inf, as in PyTorch
            return xp.full(x.shape, value, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        grad_value = grad_output.sum().astype(ctx.value_dtype) if ctx.needs_input_grad[1] else None
        return ctx.xp.zeros_like(grad_output), grad_value


class CopyFrom(Op):
    """``copy_``: the gradient goes to the source; x's old values are gone."""

    node_name = "CopyBackwards"  # PyTorch's name, plural

    formula = "source, broadcast to x's shape and dtype"
    derivatives = ("0", "1")

    @staticmethod
    def forward(ctx, x, source):
        try:
            return xp.broadcast_to(source, x.shape).astype(x.dtype)
        except ValueError:
            raise write_error(x.shape, source.shape, "copy_") from None

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.xp.zeros_like(grad_output), grad_output


# ----------------------------------------------------------------------------- more of PyTorch's elementwise functions
class Sgn(Sign):
    """PyTorch's sign that also takes complex numbers (z / |z|, 0 at 0); on real numbers it is ``sign``."""

    derivatives = ("(grad - sgn z · Re(conj(sgn z) · grad)) / |z| for complex z (0 at 0); 0 for real x",)

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind != "c":
            return Sign.forward(ctx, x)
        ctx.save_for_backward(x)
        return xp.sign(x)

    @staticmethod
    def backward(ctx, grad_output):
        if not ctx.saved_tensors:
            return ctx.xp.zeros_like(grad_output)
        (z,) = ctx.saved_tensors
        magnitude = ctx.xp.abs(z)
        direction = ctx.xp.sgn(z)
        # the change of z/|z| is the part of dz/|z| across the direction: the component along it is taken out
        along = (ctx.xp.conj(direction) * grad_output).real
        at_zero = magnitude == 0
        return ctx.xp.where(at_zero, 0.0, (grad_output - direction * along) / ctx.xp.where(at_zero, 1.0, magnitude))


class ConstantFactor(Pointwise):
    """x times a fixed number (``factor``): the unit conversions deg2rad and rad2deg."""

    formula = "factor · x"
    derivatives = ("factor", None)

    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        return as_floating(x) * factor

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.factor, None


class Deg2Rad(ConstantFactor):
    formula = "x · π/180"


class Rad2Deg(ConstantFactor):
    formula = "x · 180/π"


class Copysign(Pointwise):
    """The gradient to b is 0: only b's sign matters, and it changes in jumps."""

    formula = "|a| with the sign of b"
    derivatives = ("out / a (0 where a = 0)", "0")

    @staticmethod
    def forward(ctx, a, b):
        result = xp.copysign(a, b)
        with ignoring_float_errors():
            ctx.ratio = xp.where(a == 0, 0.0, result / xp.where(a == 0, 1.0, a)).astype(result.dtype)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.ratio, ctx.xp.zeros_like(grad_output)


class NanIgnoringExtremum(Pointwise):
    """fmax and fmin: like maximum and minimum, but a nan loses to a number. The gradient goes to
    the input taken (to a on ties, as in PyTorch)."""

    @staticmethod
    def backward(ctx, grad_output):
        return selected(ctx.xp, ctx.a_taken, grad_output), selected(ctx.xp, ~ctx.a_taken, grad_output)


class Fmax(NanIgnoringExtremum):
    formula = "max(a, b), ignoring nan"
    derivatives = ("1 where a ≥ b or b is nan, else 0", "1 where b > a or b is nan, else 0")

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_taken = xp.isnan(b) | (a >= b)
        return xp.where(ctx.a_taken, a, b)


class Fmin(NanIgnoringExtremum):
    formula = "min(a, b), ignoring nan"
    derivatives = ("1 where a ≤ b or b is nan, else 0", "1 where b < a or a is nan, else 0")

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_taken = xp.isnan(b) | (a <= b)
        return xp.where(ctx.a_taken, a, b)


class Logaddexp2(Pointwise):
    """The slopes are written from a - b, as PyTorch's (see LogAddExp)."""

    formula = "log₂(2^a + 2^b)"
    derivatives = ("1 / (1 + 2^(b - a))", "1 / (1 + 2^(a - b))")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp.logaddexp2(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        with ignoring_float_errors():  # 2^(b - a) overflows to inf: the slope is then 0
            return grad_output / (1 + ctx.xp.exp2(b - a)), grad_output / (1 + ctx.xp.exp2(a - b))


class NanToNum(Pointwise):
    """The gradient passes where x is finite, and is 0 where x was replaced."""

    formula = "x, with nan, +inf and -inf replaced by numbers"
    derivatives = ("1 where x is finite, else 0", None, None, None)

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.finite = xp.isfinite(x)
        return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad_output):
        return selected(ctx.xp, ctx.finite, grad_output), None, None, None


class Nextafter(Pointwise):
    """A step of one unit in the last place: PyTorch passes the gradient through to a as if it were a."""

    formula = "the next floating-point number after a toward b"
    derivatives = ("1", "0")

    @staticmethod
    def forward(ctx, a, b):
        return xp.nextafter(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, ctx.xp.zeros_like(grad_output)


class Frexp(Op):
    formula = "mantissa, exponent with x = mantissa · 2^exponent, ½ <= |mantissa| < 1"
    derivatives = ("2^-exponent (of the mantissa)",)

    @staticmethod
    def forward(ctx, x):
        mantissa, exponent = xp.frexp(x)
        with ignoring_float_errors():  # 2^-exponent overflows for subnormal x: an infinite slope, as in PyTorch
            ctx.scale = xp.exp2(-exponent.astype(x.dtype))
        return mantissa, exponent.astype(dtypes.int32)

    @staticmethod
    def backward(ctx, grad_mantissa, grad_exponent):
        return grad_mantissa * ctx.scale


class Ldexp(Pointwise):
    formula = "a · 2^b"
    derivatives = ("2^b", "a · 2^b · ln 2")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with ignoring_float_errors():
            return a * xp.exp2(b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        scaled = grad_output * ctx.xp.exp2(b)
        return scaled, scaled * a * LN_2 if ctx.needs_input_grad[1] else None


# ----------------------------------------------------------------------------- helpers
PI = 3.141592653589793
LN_2 = 0.6931471805599453
LN_10 = 2.302585092994046
# float16 computed in float32 and rounded once, as PyTorch's CPU kernels do: in float16 itself sin(πx)
# loses its digits for large x, and x · 10^decimals overflows.
sinc_array = half_in_float32(xp.sinc)
round_array = half_in_float32(xp.round)


def selected(xp, mask, grad, source=None):
    """The gradient where ``mask`` (a boolean array) holds, 0 elsewhere: a selection, not a product,
    so that an infinite gradient on the side not taken gives 0, not inf * 0 = nan (as in PyTorch).
    ``source``: the tensor the mask was read from, which a recorded backward keeps as an input of
    the selection (see ``connected_to``).

    On an unpredictable mask a product is about 10x faster than ``where`` from a few thousand
    elements on, and differs from it only where the gradient is inf or nan (and in the sign of a
    0). So the product is taken first and kept when it is finite everywhere, which one BLAS dot
    product of it with itself tells (a sum of squares is finite only if every term is; it may
    overflow and send a finite product to ``where`` after all, which is then merely slower).
    Below that size ``where`` alone is the faster.
    """
    if xp is functions and source is not None:
        return ConstantOnPieces.apply(selected(xp, mask, grad), source)
    if math.prod(grad.shape) > SMALL_SELECTION:
        product = grad * mask
        if type(product) is ndarray:
            finite = math.isfinite(xp.vdot(product, product))
        else:  # a gradient being recorded (create_graph): its values are checked outside the graph
            finite = bool(xp.isfinite(product).all())
        if finite:
            return product
    return xp.where(mask, grad, 0.0)


SMALL_SELECTION = 512  # elements: up to here where() costs less than the product and its check


def connected_to(xp, gradient, source):
    """``gradient``, the gradient of a piecewise-linear function (relu, hardtanh, leaky_relu ...):
    the arriving one times the slope of the piece each element of ``source`` (its input, or its
    output) lies on. In a plain backward it is returned as it is; in a recorded one
    (``create_graph``) it is made a function of ``source`` too, with derivative 0 (the slope is
    constant on each piece), as PyTorch records it (ThresholdBackwardBackward0 ...). So it stays
    connected to x, and differentiating it again gives zeros rather than finding x unused."""
    if xp is functions:
        return ConstantOnPieces.apply(gradient, source)
    return gradient


class ConstantOnPieces(Pointwise):
    """``gradient`` again, as a function of ``gradient`` and of ``source`` (see ``connected_to``)."""

    formula = "gradient, whatever source is on each piece"
    derivatives = ("1", "0")

    @staticmethod
    def forward(ctx, gradient, source):
        return gradient.copy()  # a tensor of its own: an in-place change to it leaves gradient alone

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, ctx.xp.zeros_like(grad_output)


def above(x, bound):
    """x > bound, with nan counted as above: not (x ≤ bound), PyTorch's test in threshold_backward
    (``x <= threshold ? 0 : grad``) and its kin, which lets the gradient of a nan through. On arrays
    and tensors alike."""
    return ~(x <= bound)


def not_at_least(x, bound):
    """x < bound, with nan counted as below: not (x ≥ bound). On arrays and tensors alike."""
    return ~(x >= bound)


def split_between(ctx, grad_output):
    """The gradient of maximum/minimum as PyTorch's formula: each input gets it unless it lost
    (``ctx.a_loses``, ``ctx.b_loses``), half of it on a tie. A nan loses to nothing, so where
    either input is nan both get the whole gradient."""
    share = ctx.xp.where(ctx.tie, grad_output * 0.5, grad_output)
    return selected(ctx.xp, ~ctx.a_loses, share), selected(ctx.xp, ~ctx.b_loses, share)


def _true_divide(a, b):
    """a / b of floating arrays (``div`` converts integers first), division by zero giving inf or
    nan without a warning, as in PyTorch."""
    with ignoring_float_errors():
        return a / b


def _power(base, exponent):
    if isinstance(exponent, bool):  # PyTorch's shortcuts, which keep x's dtype (a bool x has no other power)
        return base.copy() if exponent else xp.ones_like(base)
    if base.dtype.kind in "biu" and getattr(exponent, "dtype", xp.dtype(bool)).kind in "iu":
        return _integer_power(base, exponent)
    with ignoring_float_errors():
        if isinstance(exponent, (int, float)) and exponent in PYTORCH_POWERS and base.dtype.kind == "f":
            result = PYTORCH_POWERS[exponent](base).astype(base.dtype, copy=False)
        else:
            result = xp.power(base, exponent)
    if isinstance(exponent, float) and base.dtype.kind not in "fc":  # integers to the float power
        result = result.astype(dtypes.get_default_dtype())
    return result


#: The number exponents PyTorch computes without pow, and how: the results differ from pow's in the
#: last bit for some x, and in the sign of 1/0 or nan for x = -0.0 or -inf (rsqrt(-0.0) = -inf).
#: (Of float16, computed in float32 and rounded once, as PyTorch's CPU kernels compute them.)
PYTORCH_POWERS = {
    2: half_in_float32(lambda x: x * x),
    3: half_in_float32(lambda x: x * x * x),
    0.5: xp.sqrt,
    -0.5: reciprocal_square_root,
    -1: lambda x: 1 / x,
    -2: half_in_float32(lambda x: 1 / (x * x)),
}


def power(x, exponent):
    """x ** exponent as PyTorch computes it (see ``PYTORCH_POWERS``), of an array (in a plain
    backward) or of a tensor (in a recorded one)."""
    return x ** exponent if isinstance(x, Tensor) else _power(x, exponent)


def _integer_power(base, exponent):
    """base ** exponent for integer arrays, wrapping on overflow; a negative exponent gives PyTorch's
    truncated reciprocal: 1 for a base of 1, (-1)^exponent for -1, and 0 for any other base."""
    negative = exponent < 0
    if not negative.any():
        return xp.power(base, exponent)
    result = xp.power(base, xp.where(negative, 0, exponent))
    odd = (exponent & 1).astype(bool)
    reciprocal = xp.where(base == 1, 1, xp.where(base == -1, xp.where(odd, -1, 1), 0))
    return xp.where(negative, reciprocal, result).astype(result.dtype)


def broadcasting(function, *operands, operation=None):
    """``function.apply(*operands)``, with NumPy's broadcast failure told in PyTorch's words, naming
    ``operation`` (by default the function's name)."""
    try:
        return function.apply(*operands)
    except ValueError as error:
        raise broadcast_failure(error, operation or function.__name__.lower(), operands) from None


def without_gradient_broadcasting(array_function, operation, *operands):
    """``array_function`` of the operands' arrays as a tensor without gradient (the integer
    quotients), with NumPy's broadcast failure told in PyTorch's words, naming ``operation``."""
    try:
        return computed_without_gradient(array_function, operands)
    except ValueError as error:
        raise broadcast_failure(error, operation, operands) from None


def _half_with_number(function, input, other):
    """``function`` (Mul, Div) of a float16 tensor and a number as PyTorch's CPU computes it: in
    float32, the number taken in float32, the result rounded to float16 once (rounding 0.7 to
    float16 first puts a third of ``x * 0.7`` one float16 step off); its gradient so too. The
    number is a Python float or int (of 64 bits: a larger one keeps its OverflowError), or a 0-d
    tensor of another real dtype as ``other`` (``x / torch.tensor(0.7071)``): PyTorch's kernels read
    a second operand of one element as a number, unrounded. None where the operands are no such
    pair. (PyTorch's sums and differences round the number to float16 first, as NumPy does.)"""
    if isinstance(input, Tensor):  # first, as cheaply as can be: most products are of no float16 tensor
        if input._array.dtype is not _HALF:
            return None
        tensor, number = input, other
        if not _is_number(other):
            if not (isinstance(other, Tensor) and other._array.ndim == 0 and other._array.dtype.kind in "iuf"):
                return None
            if not tensor._array.ndim or other._array.dtype is _HALF:  # the result is float32 / the number exact
                return None
            number = other if other._array.dtype is _SINGLE else other.to(dtypes.float32)
    elif _is_number(input) and isinstance(other, Tensor) and other._array.dtype is _HALF:
        tensor, number = other, input
    else:
        return None
    if not isinstance(number, Tensor):
        number = constant(number, xp.float32)
    operands = (tensor, number) if tensor is input else (number, tensor)
    return broadcasting(computed_in_float32(function), *operands)


_HALF, _SINGLE = xp.dtype(xp.float16), xp.dtype(xp.float32)


def _is_number(operand):
    """Whether ``operand`` is a Python float, or an int that PyTorch reads as a 64-bit one."""
    return type(operand) is float or (type(operand) is int and -(2**63) <= operand < 2**63)


# ----------------------------------------------------------------------------- public functions
@public(inplace=True, out=True)
def add(input, other, *, alpha=1):
    """input + alpha * other, broadcasting."""
    if alpha == 1 and alpha is not True:
        return broadcasting(Add, *binary_operands(input, other))
    return _plus_scaled(Add, input, other, alpha)


@public(inplace=True, out=True, aliases=("subtract",))
def sub(input, other, *, alpha=1):
    """input - alpha * other, broadcasting. PyTorch refuses bool operands (a tensor or a Python
    bool): ``1 - mask`` is written ``~mask`` or ``logical_not(mask)``."""
    if _is_bool(input) or _is_bool(other):
        raise _bool_subtraction_error(_is_bool(input) and _is_bool(other))
    function = Rsub if isinstance(other, Tensor) and not isinstance(input, Tensor) else Sub
    if alpha == 1 and alpha is not True:
        return broadcasting(function, *binary_operands(input, other))
    return _plus_scaled(function, input, other, alpha)


def _plus_scaled(function, input, other, alpha):
    """``function`` (Add, Sub, Rsub) of input and alpha · other, in their common dtype: the product
    is taken after promotion, as in PyTorch (int8 - 2 · uint8 is computed in int16, not wrapped in
    uint8). A float alpha needs a floating result and a bool alpha a bool one, as PyTorch checks,
    and alpha must fit the common dtype (``dtypes.checked_scalar``: alpha=1000 of int8 tensors, or
    1e6 of float16 ones, is a RuntimeError, where ``int8_x + 1000`` wraps). Of float16 tensors,
    the sum is rounded once, as PyTorch computes it (``ScaledAdd``)."""
    input, other = binary_operands(input, other)
    common = xp.result_type(input._array, other._array)
    if isinstance(alpha, bool) and common.kind != "b":
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if isinstance(alpha, float) and common.kind in "biu":
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number. (convert the "
            "tensors with .float() first, or give an integer alpha)"
        )
    alpha = dtypes.checked_scalar(alpha, common)
    if common == xp.float16:
        scaled_add = computed_in_float32(ScaledAdd.shown_as(function._backward_cls.__name__))
        return broadcasting(scaled_add, input, other.to(common), alpha if function is Add else -alpha, operation=function.__name__.lower())
    return broadcasting(function, input, mul(other.to(common), bool(alpha) if common.kind == "b" else alpha))


def _is_bool(operand):
    """Whether an operand is a bool tensor or a Python bool."""
    return operand._array.dtype.kind == "b" if isinstance(operand, Tensor) else isinstance(operand, bool)


def _bool_subtraction_error(both):
    """PyTorch's refusal of ``-`` with a bool operand, saying what to use instead."""
    if both:
        return RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` "
            "operator instead."
        )
    return RuntimeError(
        "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, "
        "use the `~` or `logical_not()` operator instead."
    )


@public(inplace=True, out=True, aliases=("multiply",))
def mul(input, other):
    """input * other, broadcasting."""
    in_half = _half_with_number(Mul, input, other)
    if in_half is not None:
        return in_half
    input, other = binary_operands(input, other)
    return broadcasting(Mul, input, other)


@public(inplace=True, out=True, aliases=("divide", "true_divide"))
def div(input, other, *, rounding_mode=_NOT_GIVEN):
    """input / other, broadcasting; integer division gives floats, as in PyTorch.

    ``rounding_mode="trunc"`` rounds the quotient toward zero, ``"floor"`` down (as ``//``);
    ``rounding_mode=None`` gives the same quotient as none given, with PyTorch's node of that form
    (DivBackward2).
    """
    if rounding_mode is _NOT_GIVEN:
        in_half = _half_with_number(Div, input, other)
        if in_half is not None:
            return in_half
        return broadcasting(Div, *floating_operands(input, other))
    if rounding_mode is None:
        return broadcasting(Div.shown_as("DivBackward2"), *floating_operands(input, other), operation="div")
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
    input, other = binary_operands(input, other)
    if input._array.dtype.kind in "iub" and other._array.dtype.kind in "iub":
        if rounding_mode == "floor":
            return floor_divide(input, other)
        _refuse_bool("div_trunc_cpu", input, other)
        return without_gradient_broadcasting(_truncated_quotient, "div", input, other)
    return broadcasting(RoundedQuotient, input, other, rounding_mode, operation="div")


def _truncated_quotient(numerator, denominator):
    """The integer quotient rounded toward zero, exact for every int64 (a division in floats would
    round large numerators): Python's floor division, plus one where the signs differ and it left a
    remainder. The lowest integer divided by -1 wraps around, as in PyTorch."""
    _refuse_integer_division_by_zero("div", numerator, denominator)
    with ignoring_float_errors():
        floored = xp.floor_divide(numerator, denominator)
        inexact = (floored * denominator != numerator) & ((numerator < 0) != (denominator < 0))
        return floored + inexact.astype(floored.dtype)


@public(inplace=True, out=True)
def floor_divide(input, other):
    """floor(input / other) (no gradient: it is piecewise constant)."""
    input, other = binary_operands(input, other)
    _refuse_bool("div_floor_cpu", input, other)
    return without_gradient_broadcasting(_floored_quotient, "floor_divide", input, other)


def _floored_quotient(numerator, denominator):
    """floor(numerator / denominator) of two arrays (a compiled program calls it on each call, so
    that an integer divisor of 0 raises there too)."""
    _refuse_integer_division_by_zero("floor_divide", numerator, denominator)
    with ignoring_float_errors():
        return xp.floor_divide(numerator, denominator)


@public(inplace=True, out=True)
def remainder(input, other):
    """input mod other, with the sign of other; a number on either side of a tensor (``7 % x``), not
    two numbers (a TypeError, as in PyTorch)."""
    if not isinstance(input, Tensor):
        refuse_numbers_only("remainder", input, other)
    function = _by_operand_kind(Remainder, other)
    input, other = binary_operands(input, other)
    _refuse_bool("remainder_cpu", input, other)
    return broadcasting(function, input, other)


@public(inplace=True, out=True)
def pow(input=None, exponent=None, *, self=None):
    """input ** exponent, for a number or tensor exponent, and a number to a tensor power
    (``2 ** x``, ``pow(2, x)``, or by PyTorch's keyword for that form, ``pow(self=2, exponent=x)``);
    two numbers are refused (TypeError), as in PyTorch.

    Integers to a negative power: a number exponent is refused, as in PyTorch; a tensor exponent
    gives the reciprocal truncated to an integer (1 for a base of 1, ±1 for -1, else 0). A bool
    exponent keeps the tensor's dtype: ``x ** True`` is x, ``x ** False`` ones (bool masks too).
    A number exponent must fit the dtype PyTorch converts it to (see ``_check_exponent``)."""
    if isinstance(exponent, (int, float)) and isinstance(input, Tensor):
        if not 0 <= exponent <= 127:  # every dtype holds 0..127: x ** 2 and x ** 0.5 skip the checks
            _check_exponent(input, exponent)
        return Pow.apply(input, exponent)
    if isinstance(input, Tensor) and self is None:
        function = PowOfTensors
    else:
        input, function = _number_base(input, exponent, self), PowOfNumber
    input, exponent = binary_operands(input, exponent)
    _refuse_bool("pow", input, exponent)
    return broadcasting(function, input, exponent, operation="pow")


def _check_exponent(base, exponent):
    """PyTorch's checks of the number ``exponent`` of a tensor ``base``: integers (and bools) to a
    negative integer power are refused; an int exponent of integers must fit their dtype (int64 for
    bools, whose powers are int64): int8 ** 1000 is a RuntimeError; a float16 base takes exponents
    in float16's range; an int beyond 64 bits is an OverflowError (see ``dtypes.checked_scalar``)."""
    dtype = base._array.dtype
    if dtype.kind in "biu" and isinstance(exponent, int):
        if exponent < 0:
            raise RuntimeError(
                f"Integers to negative integer powers are not allowed. (pow: {dtype.name} tensor ** {exponent}; "
                f"convert the base with .float() first)"
            )
        dtypes.checked_scalar(exponent, dtypes.int64 if dtype.kind == "b" else dtype)
    else:
        dtypes.checked_scalar(exponent, dtype if dtype == dtypes.float16 else dtypes.float64)


def _number_base(input, exponent, self):
    """The number base of ``pow(2, x)`` (or ``pow(self=2, exponent=x)``); PyTorch's TypeError where
    the exponent is no tensor either, or the base is given both ways, or ``self`` is a tensor
    (PyTorch's keyword of the number-base form only)."""
    if self is not None:
        if input is not None or isinstance(self, Tensor):
            raise TypeError(
                f"pow() received an invalid combination of arguments - got input={type(input).__name__} and "
                f"self={type(self).__name__}: self= is the keyword of a number base (pow(self=2, exponent=x)); "
                f"give a tensor base as input"
            )
        input = self
    refuse_numbers_only("pow", input, exponent)
    return input


def elementwise_maximum(input, other):
    """Elementwise larger of input and other, tensors or numbers: the form that backward formulas call
    (``xp.maximum(z, 0)``, as NumPy's) and ``_foreach_maximum(tensors, 0.5)``, which PyTorch allows."""
    return broadcasting(Maximum, *binary_operands(input, other))


def elementwise_minimum(input, other):
    """Elementwise smaller of input and other, tensors or numbers (see ``elementwise_maximum``)."""
    return broadcasting(Minimum, *binary_operands(input, other))


@public(out=True)
def maximum(input, other):
    """Elementwise larger of input and other, two tensors (a number is a TypeError, as in PyTorch)."""
    require_tensors("maximum", input, other)
    if input._array.dtype.kind == "c" or other._array.dtype.kind == "c":  # complex numbers have no order
        raise complex_refused("maximum", input._array.dtype)
    return elementwise_maximum(input, other)


@public(out=True)
def minimum(input, other):
    """Elementwise smaller of input and other, two tensors (a number is a TypeError, as in PyTorch)."""
    require_tensors("minimum", input, other)
    if input._array.dtype.kind == "c" or other._array.dtype.kind == "c":  # complex numbers have no order
        raise complex_refused("minimum", input._array.dtype)
    return elementwise_minimum(input, other)


formula_form("maximum", elementwise_maximum)
formula_form("minimum", elementwise_minimum)


def _out_of_where(condition, input=None, other=None):
    """where's rule for ``out=`` (see ``public``): only its form with three tensors has one, which
    takes an out of the result's dtype only, as in PyTorch."""
    for position, (name, value) in enumerate((("input", input), ("other", other)), start=2):
        if not isinstance(value, Tensor):
            raise TypeError(
                f"where(): argument '{name}' (position {position}) must be Tensor, not {type(value).__name__} (with out=, "
                f"input and other are tensors; wrap a number: chainrule.tensor(value))"
            )
    return True


def _where_method(self, condition, other):
    """``x.where(condition, other)``: x's elements where ``condition`` holds, other's elsewhere."""
    return where(condition, self, other)


@public(method=_where_method, out=_out_of_where)
def where(condition, input=None, other=None):
    """Elements of input where ``condition`` (a bool tensor) is true, of other elsewhere
    (broadcasting all three); input and other are tensors or numbers.

    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``, as in PyTorch.
    """
    if input is None and other is None:
        return functions.nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError(
            f"where(): argument 'condition' (position 1) must be Tensor, not {type(condition).__name__}; make the mask "
            f"a tensor, e.g. where(x > 0, ...) or chainrule.tensor(mask)"
        )
    condition = condition._array
    if condition.dtype == xp.uint8:  # PyTorch still reads a uint8 mask (nonzero is true), with a warning
        warn_once(
            "where uint8 condition",
            "where received a uint8 condition tensor. This behavior is deprecated and will be removed in a future "
            "version of PyTorch. Use a boolean condition instead.",
        )
        condition = condition != 0
    if condition.dtype != bool:
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{dtypes.scalar_type_name(condition.dtype)}; compare first, e.g. where(x > 0, ...)"
        )
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        input, other = _where_operands(input, other)
    input, other = binary_operands(input, other)
    return broadcasting(Where, condition, input, other)


#: The largest finite float32: a number of ``where`` past it, given float32 data, is PyTorch's RuntimeError.
FLOAT32_LARGEST = float(xp.finfo(xp.float32).max)


def _where_operands(input, other):
    """where's input and other when one is a number (or both are, which then make a tensor of the
    first's own dtype; a NumPy number counts as the Python number it holds). A Python number is
    checked as PyTorch converts it to the result's dtype: an int must fit an integer dtype
    (``where(mask, int8_x, 1000)`` is a RuntimeError, where ``int8_x + 1000`` wraps), a float
    float32's range (float16 and float64 take any, beyond range as inf)."""
    for position, (name, value) in enumerate((("input", input), ("other", other)), start=2):
        if not isinstance(value, (Tensor, int, float, complex)) and not is_scalar(value):  # a list, None: PyTorch's TypeError
            raise TypeError(
                f"where(): argument '{name}' (position {position}) must be Tensor or Number, not {type(value).__name__}; "
                f"make a list a tensor first (chainrule.tensor(values))"
            )
    # a NumPy number is the Python number it holds, as PyTorch reads it (np.float64(1.5) gives float32)
    input, other = (value.item() if is_scalar(value) else value for value in (input, other))
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        return made_from_values(as_array(input, dtypes.infer_dtype(input))), other
    tensor, number = (input, other) if isinstance(input, Tensor) else (other, input)
    if isinstance(number, int) and tensor._array.dtype.kind in "biu":
        dtypes.checked_scalar(number, dtypes.scalar_result_dtype(tensor._array.dtype, number))
    elif isinstance(number, float) and (number > FLOAT32_LARGEST or number < -FLOAT32_LARGEST):
        dtype = dtypes.scalar_result_dtype(tensor._array.dtype, number)
        if dtype == xp.float32:
            dtypes.checked_scalar(number, dtype)
    return input, other


def where_of_mask(condition, input, other):
    """``where`` as backward formulas and other operations call it (``functions.where``,
    ``ctx.xp.where``): the condition may also be a bool array (a mask that forward saved), and
    input and other arrays."""
    if not isinstance(condition, Tensor):
        condition = tensor_from_array(as_array(condition))
    input, other = (made_from_values(each) if is_array(each) else each for each in (input, other))
    return where(condition, input, other)


formula_form("where", where_of_mask)


@public(inplace=True, aliases=("negative",), out=SAME_DTYPE)
def neg(input):
    """-x elementwise (``negative`` too);   d/dx = -1."""
    if input._array.dtype == bool:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
            "invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return Neg.apply(input)


@public(inplace=True, out=SAME_DTYPE, aliases=("absolute",))
def abs(input):
    """|x| elementwise (``absolute`` too);   d/dx = sign(x) (0 at 0)."""
    _refuse_bool("abs_cpu", input)
    return Abs.apply(input)


@public(inplace=True, out=SAME_DTYPE)
def sign(input):
    """The sign of each element: -1, 0 or 1 (0 at nan);   d/dx = 0."""
    if input._array.dtype.kind == "c":
        raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex numbers. Please use torch.sgn instead.")
    return Sign.apply(input)


@public(inplace=True, out=True)
def exp(input):
    """eˣ elementwise;   d/dx = eˣ (the output itself)."""
    return Exp.apply(input)


@public(inplace=True, out=True)
def log(input):
    """The natural logarithm ln x elementwise (nan below 0, -inf at 0);   d/dx = 1/x."""
    return Log.apply(input)


@public(inplace=True, out=True)
def log1p(input):
    """ln(1 + x) elementwise, exact for small x;   d/dx = 1 / (1 + x)."""
    return Log1p.apply(input)


@public(inplace=True, out=True)
def sqrt(input):
    """√x elementwise (nan below 0);   d/dx = 1 / (2√x)."""
    return Sqrt.apply(input)


@public(inplace=True, out=True)
def sin(input):
    """sin x elementwise (x in radians);   d/dx = cos x."""
    return Sin.apply(input)


@public(inplace=True, out=True)
def cos(input):
    """cos x elementwise (x in radians);   d/dx = -sin x."""
    return Cos.apply(input)


@public(inplace=True, out=True)
def tan(input):
    """tan x elementwise (x in radians);   d/dx = 1 + tan² x."""
    return Tan.apply(input)


@public(inplace=True, aliases=("arctan",), out=True)
def atan(input):
    """arctan x elementwise (``arctan`` too), in (-π/2, π/2);   d/dx = 1 / (1 + x²)."""
    return Atan.apply(input)


@public(inplace=True, aliases=("arcsin",), out=True)
def asin(input):
    """arcsin x elementwise (``arcsin`` too), in [-π/2, π/2];   d/dx = 1 / √(1 - x²)."""
    return Asin.apply(input)


@public(inplace=True, aliases=("arccos",), out=True)
def acos(input):
    """arccos x elementwise (``arccos`` too), in [0, π];   d/dx = -1 / √(1 - x²)."""
    return Acos.apply(input)


@public(inplace=True, aliases=("arctan2",), out=True)
def atan2(input, other):
    """The angle of the point (other, input) in radians, in (-π, π]; broadcasting; two tensors."""
    require_tensors("atan2", input, other)
    return broadcasting(Atan2, *floating_operands(input, other))


@public(inplace=True, out=True)
def sinh(input):
    """sinh x = (eˣ - e⁻ˣ)/2 elementwise;   d/dx = cosh x."""
    return Sinh.apply(input)


@public(inplace=True, out=True)
def cosh(input):
    """cosh x = (eˣ + e⁻ˣ)/2 elementwise;   d/dx = sinh x."""
    return Cosh.apply(input)


@public(inplace=True, aliases=("arcsinh",), out=True)
def asinh(input):
    """arsinh x elementwise (``arcsinh`` too);   d/dx = 1 / √(x² + 1)."""
    return Asinh.apply(input)


@public(inplace=True, aliases=("arccosh",), out=True)
def acosh(input):
    """arcosh x elementwise (``arccosh`` too), x ≥ 1;   d/dx = 1 / √(x² - 1)."""
    return Acosh.apply(input)


@public(inplace=True, aliases=("arctanh",), out=True)
def atanh(input):
    """artanh x elementwise (``arctanh`` too), |x| < 1;   d/dx = 1 / (1 - x²)."""
    return Atanh.apply(input)


@public(inplace=True, out=True)
def expm1(input):
    """eˣ - 1 elementwise, exact for small x (where exp(x) - 1 loses its digits);   d/dx = eˣ."""
    return Expm1.apply(input)


@public(inplace=True, out=True)
def exp2(input):
    """2ˣ elementwise;   d/dx = 2ˣ ln 2."""
    return Exp2.apply(input)


@public(inplace=True, out=True)
def log2(input):
    """log₂ x elementwise;   d/dx = 1 / (x ln 2)."""
    return Log2.apply(input)


@public(inplace=True, out=True)
def log10(input):
    """log₁₀ x elementwise;   d/dx = 1 / (x ln 10)."""
    return Log10.apply(input)


@public(inplace=True, out=True)
def rsqrt(input):
    """1/√x elementwise;   d/dx = -1 / (2 x√x)."""
    return Rsqrt.apply(input)


@public(inplace=True, out=True)
def logit(input, eps=None):
    """ln(input / (1 - input)), the inverse of the sigmoid; with ``eps``, input is clamped to [eps, 1 - eps] first."""
    return Logit.apply(input, eps)


@public(inplace=True, out=SAME_DTYPE)
def floor(input):
    """The largest whole number <= input (integers are returned as they are; bools are refused, as in PyTorch)."""
    _refuse_bool("floor_vml_cpu", input)
    return Floor.apply(input) if input._array.dtype.kind == "f" else input.clone()


@public(inplace=True, out=SAME_DTYPE)
def ceil(input):
    """The smallest whole number >= input (integers as they are; bools refused)."""
    _refuse_bool("ceil_vml_cpu", input)
    return Ceil.apply(input) if input._array.dtype.kind == "f" else input.clone()


@public(inplace=True, aliases=("fix",), out=SAME_DTYPE)
def trunc(input):
    """input rounded toward zero (integers as they are; bools refused)."""
    _refuse_bool("trunc_vml_cpu", input)
    return Trunc.apply(input) if input._array.dtype.kind == "f" else input.clone()


@public(inplace=True, out=SAME_DTYPE)
def round(input, *, decimals=_NOT_GIVEN):
    """input rounded to ``decimals`` places (by default to whole numbers); halves go to the even
    neighbour (2.5 -> 2), as in PyTorch. Integers come back as they are, but only without
    ``decimals``, even ``decimals=0``: PyTorch has no integer kernel for that form (its node is
    RoundBackward1)."""
    if decimals is _NOT_GIVEN:
        _refuse_bool("round_vml_cpu", input)
        return Round.apply(input, 0) if input._array.dtype.kind == "f" else input.clone()
    if input._array.dtype.kind != "f":
        kernel = "round_vml_cpu" if decimals == 0 else "round_cpu"
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{dtypes.scalar_type_name(input._array.dtype)}\' (round with decimals); '
            f'convert first, e.g. x.float(), or leave decimals out to get integers back as they are'
        )
    return Round.shown_as("RoundBackward1").apply(input, decimals)


@public(inplace=True, out=SAME_DTYPE)
def frac(input):
    """input - trunc(input): the fractional part, for floating tensors only (as in PyTorch)."""
    _require_floating("frac", input)
    return Frac.apply(input)


@public(inplace=True, out=True)
def fmod(input, other):
    """input - trunc(input / other) other: the remainder with the sign of input (``remainder`` takes other's sign).
    input is a tensor, other a tensor or a number, as in PyTorch."""
    require_tensor_input("fmod", input)
    function = _by_operand_kind(Fmod, other)
    input, other = binary_operands(input, other)
    _refuse_bool("fmod_cpu", input, other)
    return broadcasting(function, input, other)


@public(inplace=True, out=True)
def hypot(input, other):
    """√(a² + b²) without overflow for large input, other; broadcasting; two tensors, floating
    point (an integer one meeting a floating one is promoted)."""
    require_tensors("hypot", input, other)
    input, other = binary_operands(input, other)
    _require_floating("hypot", input, other)
    return broadcasting(Hypot, input, other)


@public(out=True)
def logaddexp(input, other):
    """ln(e^input + e^other), computed without overflow; broadcasting; two tensors, floating point
    (an integer one meeting a floating one is promoted)."""
    require_tensors("logaddexp", input, other)
    input, other = binary_operands(input, other)
    _require_floating("logaddexp", input, other)
    return broadcasting(LogAddExp, input, other)


@public(inplace=True, out=True)
def lerp(input, end, weight):
    """input + weight (end - input): linear interpolation; ``weight`` a number or a tensor. Floating
    or complex tensors only, ``end`` (and a ``weight`` tensor with dimensions) of input's dtype, as in PyTorch."""
    require_tensors("lerp", input, end, other_name="end")
    if input._array.dtype.kind not in "fc":
        raise NotImplementedError(
            f'"lerp_kernel_scalar" not implemented for \'{dtypes.scalar_type_name(input._array.dtype)}\'; convert first, e.g. x.float()'
        )
    for name, operand in (("end", end), ("weight", weight)):
        if isinstance(operand, Tensor) and operand._array.dtype != input._array.dtype and (name == "end" or operand._array.ndim):
            raise RuntimeError(
                f"expected dtype {input._array.dtype.name} for `{name}` but got dtype {operand._array.dtype.name} (lerp "
                f"takes tensors of one dtype; convert first, e.g. {name}.to(input.dtype))"
            )
    input, end = binary_operands(input, end)
    if input._array.dtype == xp.float16:  # computed in float32 as PyTorch's kernel, a float weight too
        operation = computed_in_float32(_by_operand_kind(FusedLerp, weight))
        weight = constant(weight, xp.float32) if isinstance(weight, float) else as_tensor_like(weight, input).to(input.dtype)
        return broadcasting(operation, input, end, weight)
    return broadcasting(_by_operand_kind(Lerp, weight), input, end, as_tensor_like(weight, input).to(input.dtype))


def _by_operand_kind(operation, operand):
    """``operation``, its node named for PyTorch's overload: ...Backward0 with a number operand,
    ...Backward1 with a tensor (fmod, remainder, lerp)."""
    name = operation._backward_cls.__name__.removesuffix("0")
    return operation.shown_as(name + ("1" if isinstance(operand, Tensor) else "0"))


@public(inplace=True, out=True)
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value · tensor1 · tensor2, broadcasting; computed in the three tensors' common dtype
    (``value`` converted to it: 0.5 is 0 for integers, as in PyTorch)."""
    operands = _fused_operands("addcmul", input, tensor1, tensor2, value)
    return broadcasting(for_input(Addcmul, operands[0]), *operands)


@public(inplace=True, out=True)
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value · tensor1 / tensor2, broadcasting; as addcmul for dtypes. Integer (or bool)
    tensor1 and tensor2 are refused, as in PyTorch: their quotient would be truncated."""
    if tensor1._array.dtype.kind in "biu" and tensor2._array.dtype.kind in "biu":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a "
            "true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + "
            "value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * "
            "tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes."
        )
    operands = _fused_operands("addcdiv", input, tensor1, tensor2, value)
    return broadcasting(for_input(Addcdiv, operands[0]), *operands)


def _fused_operands(operation, input, tensor1, tensor2, value):
    """addcmul's and addcdiv's operands in their common dtype, ``value`` a number of that kind."""
    dtype = common_dtype(input, tensor1, tensor2)
    if dtype.kind == "b":
        raise NotImplementedError(f'"{operation}_cpu_out" not implemented for \'Bool\'; convert the tensors first, e.g. x.float()')
    input, tensor1, tensor2 = (each if each._array.dtype == dtype else each.to(dtype) for each in (input, tensor1, tensor2))
    return input, tensor1, tensor2, int(value) if dtype.kind in "iu" else value


@public(inplace=True, out=True)
def xlogy(input, other):
    """input · ln other, and 0 where input = 0 (the convention of entropy terms); a number on either
    side of a tensor, not two numbers (a TypeError, as in PyTorch)."""
    if not isinstance(input, Tensor):
        refuse_numbers_only("xlogy", input, other)
    return broadcasting(Xlogy, *floating_operands(input, other))


@public(inplace=True, out=True)
def sinc(input):
    """sin(πx) / (πx) elementwise, 1 at 0 (the normalized sinc);   d/dx = (cos(πx) - sinc x) / x, 0 at 0."""
    return Sinc.apply(input)


def _refuse_bool(kernel, *operands):
    """PyTorch's refusal of an arithmetic operation on bools alone (``//``, ``%``, ``**`` of two
    masks, ``abs`` or ``floor`` of one): it has no bool version of ``kernel``."""
    for operand in operands:
        if operand._array.dtype.kind != "b":
            return
    raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool': convert with .long() or .float() first")


def _refuse_integer_division_by_zero(operation, numerator, divisor):
    """PyTorch raises for an integer division by zero (floats give inf and nan); an empty operand
    makes an empty result, where nothing is divided. On arrays: an operation's ``forward`` checks,
    so that a compiled program checks on each call."""
    integers = all(operand.dtype.kind in "iub" and operand.size for operand in (numerator, divisor))
    if integers and (divisor == 0).any():
        raise RuntimeError(f"ZeroDivisionError: {operation} of integers by zero (use floating point tensors to get inf or nan)")


def _require_floating(operation, *operands):
    """PyTorch's refusal of integer and bool operands where an operation is defined on floats only."""
    for operand in operands:
        if operand._array.dtype.kind != "f":
            raise NotImplementedError(
                f"\"{operation}_cpu\" not implemented for '{dtypes.scalar_type_name(operand._array.dtype)}' ({operation}: "
                f"the operands are {dtypes.dtype_name(operand._array.dtype)}; convert them with .float() first)"
            )


def _floating(input):
    """input itself if floating, else converted to the default float dtype."""
    return input if input._array.dtype.kind == "f" else cast(input, dtypes.get_default_dtype())


@public(inplace=True, out=True)
def square(input):
    """x² elementwise;   d/dx = 2x."""
    return Pow.apply(input, 2)


@public(inplace=True, out=True)
def reciprocal(input):
    """1 / input, elementwise (integers give floats)."""
    return Reciprocal.apply(input)


def _out_of_clamp(input, *bounds, **named_bounds):
    """The rule for ``out=`` of clamp, clip, clamp_min and clamp_max (see ``public``): with number
    bounds out must have the result's dtype, as PyTorch's Scalar forms require; with a tensor bound
    it takes any dtype the result casts to."""
    return not any(isinstance(bound, Tensor) for bound in (*bounds, *named_bounds.values()))


@public(inplace=True, out=_out_of_clamp)
def clamp_min(input, min):
    """input limited from below: max(input, min) (a number or a tensor)."""
    function = Clamp.shown_as("ClampMinBackward0" if not isinstance(min, Tensor) else "ClampMinBackward1")
    return broadcasting(function, *_clamp_operands("clamp_min", input, min, None), operation="clamp_min")


@public(inplace=True, out=_out_of_clamp)
def clamp_max(input, max):
    """input limited from above: min(input, max) (a number or a tensor)."""
    function = Clamp.shown_as("ClampMaxBackward0" if not isinstance(max, Tensor) else "ClampMaxBackward1")
    return broadcasting(function, *_clamp_operands("clamp_max", input, None, max), operation="clamp_max")


@public(inplace=True, aliases=('clip',), out=_out_of_clamp)
def clamp(input, min=None, max=None):
    """input limited to [min, max] (either bound may be None, a number or a tensor, but not a tensor and
    a number together unless the tensor is 0-d, read as a number, as PyTorch's overloads allow:
    otherwise a TypeError). An integer input with a floating
    bound gives floats, as PyTorch promotes; an integer bound that does not fit the input's integer
    dtype is a RuntimeError (int8 data with min=300), as in PyTorch."""
    if min is None and max is None:
        raise RuntimeError("chainrule.clamp: At least one of 'min' or 'max' must not be None")
    # PyTorch's overloads: ClampBackward0 with a tensor bound, ClampBackward1 with numbers only
    numbers_only = not isinstance(min, Tensor) and not isinstance(max, Tensor)
    if not numbers_only and min is not None and max is not None and not (isinstance(min, Tensor) and isinstance(max, Tensor)):
        bound = min if isinstance(min, Tensor) else max
        if bound._array.ndim or bound.requires_grad:
            raise TypeError(
                f"clamp(): min and max must both be tensors or both be numbers, got min={type(min).__name__} and "
                f"max={type(max).__name__}; pass both as tensors or both as numbers"
            )
        # a 0-d tensor beside a number is read as a number, as PyTorch's Scalar overload reads it
        min, max = (value.item() if isinstance(value, Tensor) else value for value in (min, max))
        numbers_only = True
    return broadcasting(Clamp.shown_as("ClampBackward1") if numbers_only else Clamp, *_clamp_operands("clamp", input, min, max))


def _clamp_operands(operation, input, low, high):
    """input (a tensor: a number is PyTorch's TypeError) and its bounds (None, numbers or tensors)
    of ``operation``, in the dtype PyTorch promotes all three to:
    an integer input with a float bound gives floats, while a 0-d float64 bound leaves float32 data
    float32 and a 0-d int8 bound of a uint8 input is read as uint8. A number bound of floating data
    stays a number (NumPy keeps the array's dtype); on integers it becomes a constant of their dtype,
    converted as PyTorch converts it (``dtypes.checked_scalar``: uint8 takes -1 as 255, int8 refuses 300)."""
    require_tensor_input(operation, input)
    tensor_bounds = [bound for bound in (low, high) if isinstance(bound, Tensor)]
    if tensor_bounds:  # all three promoted at once: a 0-d float64 bound beside float32 ones leaves float32
        common = common_dtype(input, *tensor_bounds)
        if common != input._array.dtype:
            input = input.to(common)
    for bound in (low, high):
        if bound is not None and not tensor_bounds:
            input, promoted_bound = binary_operands(input, bound)
            common = xp.result_type(input._array, promoted_bound._array)
            if common != input._array.dtype:
                input = input.to(common)
    if input._array.dtype.kind == "c":  # complex numbers have no order
        raise complex_refused(operation, input._array.dtype)
    return input, _bound_like(low, input), _bound_like(high, input)


def _bound_like(bound, input):
    """A clamp bound in input's dtype (see ``_clamp_operands``)."""
    if isinstance(bound, Tensor):
        return bound.to(input._array.dtype)
    if bound is None:
        return bound
    if input._array.dtype.kind == "f":
        return dtypes.checked_scalar(bound, input._array.dtype)  # 1e6 does not fit float16: a RuntimeError
    if input._array.dtype.kind == "b":  # a bool number bound of a bool tensor: PyTorch has no such kernel
        raise NotImplementedError("\"clamp_scalar_cpu\" not implemented for 'Bool': convert with .long() first")
    return as_tensor_like(dtypes.checked_scalar(bound, input._array.dtype), input)


# ----------------------------------------------------------------------------- more of PyTorch's elementwise functions
@public(inplace=True, out=SAME_DTYPE)
def sgn(input):
    """The sign of input (-1, 0 or 1); for real numbers the same as ``sign`` (a bool tensor is its own sign)."""
    return input.clone() if input._array.dtype == bool else Sgn.apply(input)


@public
def positive(input):
    """+input: the tensor itself (as PyTorch returns it, not a copy)."""
    if input._array.dtype == bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


@public(inplace=True, out=True)
def deg2rad(input):
    """input, an angle in degrees, in radians: input · π/180."""
    return Deg2Rad.apply(input, PI / 180)


@public(inplace=True, out=True)
def rad2deg(input):
    """input, an angle in radians, in degrees: input · 180/π."""
    return Rad2Deg.apply(input, 180 / PI)


@public(inplace=True, out=True)
def copysign(input, other):
    """|input| with the sign of other (-0.0 counts as negative); broadcasting, integers give floats.
    input is a tensor, other a tensor or a number (PyTorch's second form, its node CopysignBackward1)."""
    require_tensor_input("copysign", input)
    function = Copysign if isinstance(other, Tensor) else Copysign.shown_as("CopysignBackward1")
    return broadcasting(function, *floating_operands(input, other), operation="copysign")


@public(out=True)
def fmax(input, other):
    """Elementwise larger of input and other, where a nan loses to a number (``maximum`` gives nan);
    two tensors (a number is a TypeError, as in PyTorch)."""
    require_tensors("fmax", input, other)
    input, other = binary_operands(input, other)
    return broadcasting(Fmax, input, other)


@public(out=True)
def fmin(input, other):
    """Elementwise smaller of input and other, where a nan loses to a number (``minimum`` gives nan);
    two tensors (a number is a TypeError, as in PyTorch)."""
    require_tensors("fmin", input, other)
    input, other = binary_operands(input, other)
    return broadcasting(Fmin, input, other)


@public(out=SAME_DTYPE)
def float_power(input, exponent):
    """input ** exponent computed in double precision: float64, or complex128 where either operand is
    complex (whatever the inputs' own dtypes); a number on either side of a tensor, not two numbers
    (a TypeError, as in PyTorch)."""
    refuse_numbers_only("float_power", input, exponent)
    complex_operands = any(
        isinstance(value, complex) or isinstance(value, Tensor) and value._array.dtype.kind == "c" for value in (input, exponent)
    )
    double, convert = (dtypes.complex128, complex) if complex_operands else (dtypes.float64, float)
    return pow(*[cast(value, double) if isinstance(value, Tensor) else convert(value) for value in (input, exponent)])


def float_power_(self, exponent):
    """In-place float_power: the tensor must already be float64, as in PyTorch."""
    if self._array.dtype != dtypes.float64:
        raise RuntimeError(
            f"the base given to float_power_ has dtype {dtypes.scalar_type_name(self._array.dtype)} but the "
            f"operation's result requires dtype Double; convert it first with .double()"
        )
    return write_in_place(self, float_power, exponent)


install_method("float_power_", float_power_)

#: PyTorch's C++ names of the dtypes, as its dtype errors write them.


@public(inplace=True, out=True)
def heaviside(input, values):
    """The step function: ``values`` where input == 0, else 1 where input > 0 and 0 elsewhere (a nan
    input gives 0, as in PyTorch); two tensors of one dtype, no gradient."""
    require_tensors("heaviside", input, values, other_name="values")
    if input._array.dtype != values._array.dtype:
        raise RuntimeError(
            f"heaviside is not yet implemented for tensors with different dtypes. (heaviside: {dtypes.dtype_name(input._array.dtype)} "
            f"and {dtypes.dtype_name(values._array.dtype)}; convert values with .to(input.dtype))"
        )
    return without_gradient_broadcasting(_step_values, "heaviside", *binary_operands(input, values))


def _step_values(input, values):
    return xp.where(input == 0, values, input > 0).astype(input.dtype)


@public(out=True)
def logaddexp2(input, other):
    """log₂(2^input + 2^other), computed without overflow; broadcasting; two tensors, floating point only."""
    require_tensors("logaddexp2", input, other)
    input, other = binary_operands(input, other)
    _require_floating("logaddexp2", input, other)
    return broadcasting(Logaddexp2, input, other)


@public(inplace=True, out=SAME_DTYPE)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """input with nan replaced by ``nan`` (None: 0), +inf by ``posinf`` and -inf by ``neginf`` (by
    default the largest and the smallest number of input's dtype)."""
    if input._array.dtype.kind != "f":
        return input.clone()
    return NanToNum.apply(input, 0.0 if nan is None else nan, posinf, neginf)


@public(inplace=True, out=True)
def nextafter(input, other):
    """The next floating-point number after input in the direction of other; two floating tensors."""
    require_tensors("nextafter", input, other)
    input, other = binary_operands(input, other)
    _require_floating("nextafter", input, other)
    return broadcasting(Nextafter, input, other)


@public(inplace=True, out=True)
def ldexp(input, other):
    """input · 2^other (other usually integers); broadcasting, integers give floats; two tensors."""
    require_tensors("ldexp", input, other)
    input, other = binary_operands(input, other)
    input = _floating(input)
    return broadcasting(Ldexp, input, cast(other, input.dtype) if other._array.dtype.kind != "f" else other)


frexp_result = return_type("frexp", ["mantissa", "exponent"])


@public(out=SAME_DTYPE)
def frexp(input):
    """(mantissa, exponent) with input = mantissa · 2^exponent, 0.5 <= |mantissa| < 1 (or 0);
    the exponent is int32 (and has no gradient)."""
    if input._array.dtype.kind != "f":
        raise RuntimeError(f"torch.frexp() only supports floating-point dtypes, got {dtypes.dtype_name(input._array.dtype)}; convert with .float()")
    return frexp_result(Frexp.apply(input))


def cast(x, dtype):
    """x converted to ``dtype`` (differentiable between floating dtypes)."""
    return Cast.apply(x, dtype)


@public
def clone(x, *, memory_format=None):
    """A copy of x in new memory, in the graph (its gradient flows back to x), laid out as
    ``memory_format`` says: by default as x is (``preserve_format``: a transposed x gives a
    transposed copy, as PyTorch's), ``contiguous_format`` row-major, ``channels_last`` (N, H, W, C)."""
    if memory_format is None and is_contiguous(x._array):  # the common case: a row-major copy
        return Clone.apply(x)
    if memory_format is not None:
        check_rank(memory_format, x._array.ndim)
    order = dimension_order(x, memory_format)
    copied = Clone.apply(x, order)
    copied._chosen_strides = order is not None
    return copied


def fill(input, value):
    """A new tensor of input's shape and dtype holding ``value`` (a number, or a 0-d tensor whose
    gradient is then the sum of the result's) everywhere: ``torch.fill``."""
    value = _fill_value(input, value)
    return _filled(input, value, "FillBackward1" if isinstance(value, Tensor) else "FillBackward0")


def _filled(x, value, node_name):
    """``value`` everywhere in x's shape, its node named ``node_name``: PyTorch's name for the form
    that calls it (FillBackward2 for ``fill_(number)``, ZeroBackward0 for ``zero_``)."""
    return Fill.shown_as(node_name).apply(x, value)


def _fill_value(input, value):
    """``value`` checked for filling ``input``: a number that fits its dtype (see
    ``dtypes.checked_scalar``), or a 0-d tensor (PyTorch's message names fill_ for fill too)."""
    value = dtypes.checked_scalar(value, input._array.dtype)
    if isinstance(value, Tensor) and value._array.ndim:
        raise RuntimeError(
            f"fill_ only supports 0-dimension value tensor but got tensor with {value._array.ndim} dimensions. "
            f"(fill_: pass a number or a 0-d tensor)"
        )
    return value


def copy_from(x, source):
    return CopyFrom.apply(x, as_tensor_like(source, x))


# ----------------------------------------------------------------------------- conversions
def to(self, *args, **kwargs):
    """``to(dtype)`` converts (differentiably); ``to("cpu")`` is accepted and changes nothing;
    ``to("meta")`` keeps the shape and dtype only (a meta tensor, which has no values). The three
    forms are PyTorch's: ``to(dtype, non_blocking, copy)``, ``to(device, dtype, non_blocking, copy)``
    and ``to(other_tensor, non_blocking, copy)``; ``non_blocking`` has nothing to wait for on the
    CPU; with ``copy=True`` the result is a new tensor even when nothing changes, as it is for a
    device with an index (``'cpu:0'`` is not the device of a tensor, ``'cpu'``: PyTorch copies).

    ``memory_format`` (a keyword) lays the result out as PyTorch's: by default
    (``preserve_format``) as x is laid out (``x.t().double()`` is transposed too); ``channels_last``
    (a 4-d x, N, H, W, C in memory), ``channels_last_3d`` (5-d) or ``contiguous_format`` give x
    itself when its strides suggest that format already (see ``suggested_memory_format``), else a
    copy laid out so."""
    device, dtype, _, copy = to_arguments(args, kwargs)
    if device is not None:
        if device.startswith("meta"):
            moved = tensor_from_array(meta_array(self._array.shape, self._array.dtype if dtype is None else xp.dtype(dtype)))
            moved.requires_grad = self.requires_grad
            return moved
        check_device(device)
        if self.is_meta:
            raise NotImplementedError("Cannot copy out of meta tensor; no data!")
        copy = copy or ":" in device
    if kwargs and kwargs.get("memory_format") not in (None, preserve_format):
        return _to_memory_format(self, dtype, copy, kwargs["memory_format"])
    if dtype is None or xp.dtype(dtype) == self._array.dtype:
        if not copy:
            return self
        dtype = self._array.dtype  # a copy is a ToCopyBackward0, as in PyTorch
    if self._chosen_strides or self._base is not None:  # strides of PyTorch's own, which the result keeps
        return _converted_in_order(self, dtype, dimension_order(self, preserve_format))
    return cast(self, xp.dtype(dtype))


def _to_memory_format(x, dtype, copy, memory_format):
    """``x.to(dtype, copy=copy, memory_format=...)`` for ``channels_last``, ``channels_last_3d`` or
    ``contiguous_format``: x itself when nothing changes (its dtype, and the format its strides
    suggest), else a copy laid out in that format (PyTorch's error for a channels-last format
    on a tensor of another rank)."""
    if dtype is None or xp.dtype(dtype) == x._array.dtype:
        if not copy and suggested_memory_format(x) is memory_format:
            return x
        dtype = x._array.dtype
    check_rank(memory_format, x._array.ndim)
    return _converted_in_order(x, dtype, dimension_order(x, memory_format))


def _converted_in_order(x, dtype, order):
    """x converted to ``dtype`` (differentiably) in new memory, its dimensions laid out in ``order``
    (outermost first; None: row-major), which its strides then report."""
    converted = CastInOrder.apply(x, xp.dtype(dtype), order)
    converted._chosen_strides = order is not None
    return converted


_TO_FORMS = (
    "to(dtype, non_blocking=False, copy=False), to(device=None, dtype=None, non_blocking=False, copy=False) "
    "or to(other_tensor, non_blocking=False, copy=False)"
)
#: The Python types PyTorch reads as dtypes: x.to(float) is x.to(torch.float64)
_PYTHON_DTYPES = (bool, int, float)
_FLAG_KEYWORDS = frozenset({"non_blocking", "copy", "memory_format"})
#: The keywords of to(device, dtype, ...) after 0, 1 and 2 positional arguments
_DEVICE_FORM_KEYWORDS = (_FLAG_KEYWORDS | {"device", "dtype"}, _FLAG_KEYWORDS | {"dtype"}, _FLAG_KEYWORDS)


def _is_dtype(value):
    """A chainrule dtype (or the NumPy dtype it stands for), or a Python type PyTorch reads as one."""
    return isinstance(value, (dtypes.dtype, xp.dtype)) or isinstance(value, type) and value in _PYTHON_DTYPES


def to_arguments(args, kwargs):
    """``(device, dtype, non_blocking, copy)`` of a ``to`` call in one of PyTorch's three forms (see ``to``);
    a call that fits none (two dtypes, a NumPy type, a string for a dtype, a flag that is not a
    bool, an unknown keyword) raises PyTorch's TypeError."""
    first = args[0] if args else None
    if isinstance(first, Tensor):  # its dtype and device
        device, dtype, flags, keywords = first.device, first.dtype, args[1:], _FLAG_KEYWORDS
    elif _is_dtype(first):
        device, dtype, flags, keywords = None, first, args[1:], _FLAG_KEYWORDS
    else:
        device = first if args else kwargs.get("device")
        dtype = args[1] if len(args) > 1 else kwargs.get("dtype")
        flags, keywords = args[2:], _DEVICE_FORM_KEYWORDS[min(len(args), 2)]
        if dtype is not None and not _is_dtype(dtype) or device is not None and not isinstance(device, str):
            if isinstance(device, bool) or not isinstance(device, (str, int)) or dtype is not None and not _is_dtype(dtype):
                _refuse_to_arguments(args, kwargs)
            device = as_device(device)  # an index names an accelerator: PyTorch's RuntimeError
    if flags and (len(flags) > 2 or not all(isinstance(flag, bool) for flag in flags)):
        _refuse_to_arguments(args, kwargs)
    if not kwargs:
        return device, dtype, bool(flags) and flags[0], len(flags) > 1 and flags[1]
    non_blocking = flags[0] if flags else kwargs.get("non_blocking", False)
    copy = flags[1] if len(flags) > 1 else kwargs.get("copy", False)
    if (
        not kwargs.keys() <= keywords or not isinstance(copy, bool) or not isinstance(non_blocking, bool)
        or not isinstance(kwargs.get("memory_format", preserve_format), (memory_format_type, type(None)))
    ):
        _refuse_to_arguments(args, kwargs)
    return device, dtype, non_blocking, copy


def _refuse_to_arguments(args, kwargs):
    given = [type(arg).__name__ for arg in args] + [f"{key}={type(value).__name__}" for key, value in kwargs.items()]
    raise TypeError(f"to() received an invalid combination of arguments - got ({', '.join(given)}), but expected {_TO_FORMS}")


install_method("to", to)


def type_as(self, other):
    """``self.to(other.dtype)``: this tensor in the dtype of ``other``."""
    return to(self, other.dtype)


install_method("type_as", type_as)


def converter(dtype):
    """``x.float()``, ``x.long()``...: ``x.to(dtype)`` (``memory_format`` accepted, as PyTorch's)."""

    def convert(self, memory_format=None):
        if memory_format is None:
            return to(self, dtype)
        return to(self, dtype, memory_format=memory_format)

    convert.__doc__ = f"``self.to({dtype})``: this tensor itself when it already is of that dtype, else a converted copy."
    return convert


for _name, _dtype in [("float", dtypes.float32), ("double", dtypes.float64), ("half", dtypes.float16),
                      ("long", dtypes.int64), ("int", dtypes.int32), ("bool", dtypes.bool_),
                      ("short", dtypes.int16), ("byte", dtypes.uint8), ("char", dtypes.int8),
                      ("cfloat", dtypes.complex64), ("cdouble", dtypes.complex128), ("chalf", dtypes.complex32)]:
    install_method(_name, converter(_dtype))


def fill_(input, value):
    """Every element of ``input`` set to ``value``, in place (a number that does not fit input's
    dtype is refused, as in PyTorch; see ``dtypes.checked_scalar``)."""
    value = _fill_value(input, value)
    return write_in_place(input, _filled, value, node_name="FillBackward3" if isinstance(value, Tensor) else "FillBackward2")


def zero_(input):
    """Every element of ``input`` set to 0, in place."""
    return write_in_place(input, _filled, 0, node_name="ZeroBackward0")


for _function in (fill_, zero_):  # methods, and chainrule.fill_/zero_ as PyTorch has them
    install_method(_function.__name__, _function)
    setattr(functions, _function.__name__, _function)
functions.fill = fill  # torch.fill, a function only


def copy_(self, other, non_blocking=False):
    """``other``'s values (a tensor or a number, broadcast to this tensor's shape and converted to its
    dtype) written into this tensor. ``non_blocking``, a bool, has nothing to wait for on the CPU."""
    if non_blocking is not False and non_blocking is not True:
        raise TypeError(f"copy_(): argument 'non_blocking' (position 2) must be bool, not {type(non_blocking).__name__}")
    return write_in_place(self, copy_from, other)


install_method("copy_", copy_)

# ----------------------------------------------------------------------------- deprecated number-first forms
def accept_deprecated_forms(name, *forms, out_dtype=False):
    """``chainrule.NAME``, ``Tensor.NAME`` and ``Tensor.NAME_`` also taking PyTorch's deprecated
    number-first ``forms``, ``p.add_(-lr, grad)`` (see ``operands.with_deprecated_forms``)."""
    setattr(functions, name, with_deprecated_forms(getattr(functions, name), name, forms, method=False, out_dtype=out_dtype))
    for method_name in (name, name + "_"):
        install_method(method_name, with_deprecated_forms(getattr(Tensor, method_name), method_name, forms, method=True))


accept_deprecated_forms("add", ("input", "alpha", "other"))
accept_deprecated_forms("sub", ("input", "alpha", "other"))  # not its alias subtract, which PyTorch never had so
accept_deprecated_forms("addcmul", ("input", "value", "tensor1", "tensor2"))
accept_deprecated_forms("addcdiv", ("input", "value", "tensor1", "tensor2"))

# ----------------------------------------------------------------------------- Python's operators
def divide_into(self, other):
    """``other / tensor``: for a number, PyTorch's ``tensor.reciprocal() * other`` (its rounding, its
    nodes: MulBackward0 after ReciprocalBackward0); for anything else ``div(other, tensor)``."""
    if isinstance(other, (int, float)) and not isinstance(other, bool) and self._array.dtype.kind == "f":
        return mul(reciprocal(self), other)
    return div(other, self)


install_method("__add__", operator_form(add))
install_method("__radd__", operator_form(add))  # 2 + t is add(t, 2), as PyTorch computes it: its node reads t first
install_method("__sub__", operator_form(sub))
install_method("__rsub__", operator_form(reflected(sub)))
def times(self, other):
    """``tensor * other`` and ``other * tensor``: ``mul(tensor, other)`` (2 * t is mul(t, 2), as in
    PyTorch: the same bits, both commute exactly); a list, tuple or string is left to repeat itself
    (``[0.0] * torch.tensor(3)`` is ``[0.0, 0.0, 0.0]``, as Python repeats it by ``__index__``)."""
    if isinstance(other, (list, tuple, str)):
        return NotImplemented
    return mul(self, other)


install_method("__mul__", operator_form(times))
install_method("__rmul__", operator_form(times))
install_method("__truediv__", operator_form(div))
install_method("__rtruediv__", operator_form(divide_into))
install_method("__floordiv__", operator_form(floor_divide))
install_method("__rfloordiv__", operator_form(reflected(floor_divide)))
install_method("__mod__", operator_form(remainder))
install_method("__rmod__", operator_form(reflected(remainder)))
install_method("__pow__", operator_form(pow))
install_method("__rpow__", operator_form(reflected(pow)))
install_method("__neg__", neg)
install_method("__pos__", positive)
install_method("__abs__", abs)
for _operator, _method in [("__iadd__", "add_"), ("__isub__", "sub_"), ("__imul__", "mul_"), ("__itruediv__", "div_"),
                           ("__ifloordiv__", "floor_divide_"), ("__imod__", "remainder_"), ("__ipow__", "pow_")]:
    install_method(_operator, operator_form(getattr(Tensor, _method)))
