"""The special functions that PyTorch offers only in ``torch.special``: entr, erfcx, the normal
distribution's log_ndtr and ndtri, xlog1py, and the scaled Bessel functions i0e, i1e (with i1).

They are not ``chainrule.NAME`` (PyTorch has no ``torch.entr``): ``chainrule.special`` exports
them. Each is an Op with its derivative, computed in float64 on arrays from:

- erfcx x = e^(x²) erfc x: for x <= 25, e^(x²) (split as Cody does, so that x² does not round)
  times erfc, which keeps its digits in the tail; beyond, the asymptotic series
  1/(x√π) Σₖ (-1)^k (2k-1)!! / (2x²)^k; for x < 0, 2 e^(x²) - erfcx(-x).
- log_ndtr x = ln Φ(x), Φ the standard normal's cdf: ln(erfcx(-x/√2) / 2) - x²/2 for x < -1 (Φ
  underflows there long before its logarithm does), ln1p(-Φ(-x)) for x > 0, ln Φ(x) between.
- ndtri p = Φ⁻¹(p): √2 erfinv(2p - 1) as a first guess (or -√(-2 ln p) where 2p - 1 rounds to -1),
  then Newton steps on ln Φ(x) - ln p in the lower tail; Φ⁻¹(1 - q) = -Φ⁻¹(q) above ½.
"""
import math

from chainrule.backend import ignoring_float_errors, xp
from chainrule.ops.elementwise import binary_operands
from chainrule.ops.operands import as_floating
from chainrule.ops.special import (
    SpecialOp,
    bessel_i_array,
    erfc_array,
    erfinv_array,
    in_float64,
    on_arrays,
    on_tensors,
)

SQRT_HALF = math.sqrt(0.5)
SQRT_TWO = math.sqrt(2.0)
SQRT_TWO_PI = math.sqrt(2 * math.pi)
TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
# Past this, e^(x²) overflows: erfcx takes its asymptotic series.
ERFCX_ASYMPTOTIC_FROM = 25.0


# ----------------------------------------------------------------------------- on arrays
def _exp_square(x):
    """e^(x²) without the rounding of x² (whose error e^(x²) would multiply by x²): x = r + (x - r)
    with r = x rounded to sixteenths, so x² = r² + (x - r)(x + r) and r² is exact."""
    rounded = xp.trunc(x * 16) / 16
    return xp.where(xp.isinf(x), xp.inf, xp.exp(rounded * rounded) * xp.exp((x - rounded) * (x + rounded)))


@in_float64
def erfcx_array(x):
    """e^(x²) erfc x, the scaled complementary error function (about 1/(x√π) for large x)."""
    with ignoring_float_errors():
        magnitude = xp.abs(x)
        near = xp.minimum(magnitude, ERFCX_ASYMPTOTIC_FROM)
        direct = _exp_square(near) * erfc_array(near)
        far = xp.maximum(magnitude, ERFCX_ASYMPTOTIC_FROM)
        term, series = xp.ones_like(far), xp.ones_like(far)
        for k in range(1, 12):  # at x = 25 the 12th term is below 1e-30 of the sum
            term = -term * (2 * k - 1) / (2 * far * far)
            series = series + term
        positive = xp.where(magnitude <= ERFCX_ASYMPTOTIC_FROM, direct, series / (far * math.sqrt(math.pi)))
        return xp.where(x < 0, 2 * _exp_square(x) - positive, positive)


@in_float64
def log_ndtr_array(x):
    """ln Φ(x), the log of the standard normal's cdf, accurate far into both tails."""
    with ignoring_float_errors():
        lower_x = xp.minimum(x, -1.0)
        lower = xp.log(erfcx_array(-lower_x * SQRT_HALF) / 2) - lower_x * lower_x / 2
        middle = xp.log(erfc_array(-x * SQRT_HALF) / 2)
        upper = xp.log1p(-erfc_array(xp.maximum(x, 0.0) * SQRT_HALF) / 2)
        return xp.where(x < -1, lower, xp.where(x > 0, upper, middle))


@in_float64
def ndtri_array(p):
    """Φ⁻¹(p), the standard normal's quantile: the x with Φ(x) = p (±inf at 1 and 0, nan outside)."""
    with ignoring_float_errors():
        lower_tail = xp.minimum(p, 1 - p)  # exact: 1 - p rounds to nothing for p >= ½
        guess = SQRT_TWO * erfinv_array(2 * lower_tail - 1)
        guess = xp.where(xp.isfinite(guess), guess, -xp.sqrt(-2 * xp.log(lower_tail)))
        in_tail = (lower_tail < 0.1) & (lower_tail > 0)
        x = xp.where(in_tail, guess, -1.0)
        for _ in range(6):  # Newton doubles the digits: from erfinv's guess (1e-7) or -√(-2 ln p) (0.3 off)
            log_cdf = log_ndtr_array(x)
            x = x - (log_cdf - xp.log(xp.where(in_tail, lower_tail, 0.5))) * SQRT_TWO_PI * xp.exp(log_cdf + x * x / 2)
        quantile = xp.where(in_tail, x, guess)
        quantile = xp.where(lower_tail == 0, -xp.inf, quantile)
        quantile = xp.where(p > 0.5, -quantile, quantile)
        return xp.where((p < 0) | (p > 1) | xp.isnan(p), xp.nan, quantile)


# ----------------------------------------------------------------------------- operations
class Entr(SpecialOp):
    node_name = "SpecialEntrBackward0"
    formula = "-x ln x (0 at x = 0, -inf for x < 0)"
    derivatives = ("-(ln x + 1)",)

    @staticmethod
    def forward(ctx, x):
        x = as_floating(x)
        ctx.save_for_backward(x)
        with ignoring_float_errors():
            outside = xp.where(x == 0, 0.0, xp.where(x < 0, -xp.inf, x))  # nan stays nan
            return xp.where(x > 0, -x * xp.log(xp.where(x > 0, x, 1.0)), outside).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with ignoring_float_errors():
            return -grad_output * (ctx.xp.log(x) + 1)


class Erfcx(SpecialOp):
    node_name = "SpecialErfcxBackward0"
    formula = "erfcx x = e^(x²) erfc x"
    derivatives = ("2x erfcx x - 2/√π",)

    @staticmethod
    def forward(ctx, x):
        result = erfcx_array(as_floating(x))
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        return grad_output * (2 * x * result - TWO_OVER_SQRT_PI)


class LogNdtr(SpecialOp):
    node_name = "SpecialLogNdtrBackward0"
    formula = "ln Φ(x) = ln ½ erfc(-x/√2)"
    derivatives = ("φ(x) / Φ(x) = e^(-x²/2 - out) / √(2π)",)

    @staticmethod
    def forward(ctx, x):
        result = log_ndtr_array(as_floating(x))
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        with ignoring_float_errors():
            return grad_output * ctx.xp.exp(-x * x / 2 - result) / SQRT_TWO_PI


class Ndtri(SpecialOp):
    node_name = "SpecialNdtriBackward0"
    formula = "Φ⁻¹(p)"
    derivatives = ("√(2π) e^(out²/2)",)

    @staticmethod
    def forward(ctx, p):
        result = ndtri_array(as_floating(p))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        with ignoring_float_errors():
            return grad_output * ctx.xp.exp(result * result / 2) * SQRT_TWO_PI


class Xlog1py(SpecialOp):
    """0 where x = 0 (even where ln(1 + y) is not finite), as xlogy."""

    node_name = "SpecialXlog1PyBackward0"
    formula = "x · ln(1 + y)"
    derivatives = ("ln(1 + y) (0 where x = 0)", "x / (1 + y)")

    @staticmethod
    def forward(ctx, x, y):
        x, y = as_floating(x), as_floating(y)
        ctx.save_for_backward(x, y)
        ctx.x_is_zero = x == 0
        with ignoring_float_errors():
            return xp.where(ctx.x_is_zero, 0.0, x * xp.log1p(y)).astype(xp.result_type(x, y))

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        grad_x = ctx.xp.where(ctx.x_is_zero, 0.0, grad_output * ctx.xp.log1p(y)) if ctx.needs_input_grad[0] else None
        grad_y = grad_output * x / (1 + y) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


class I0e(SpecialOp):
    node_name = "SpecialI0EBackward0"
    formula = "e^(-|x|) I₀(x)"
    derivatives = ("i1e(x) - sign(x) i0e(x)",)

    @staticmethod
    def forward(ctx, x):
        result = bessel_i_array(0, as_floating(x), scaled=True)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        return grad_output * (ctx.xp.i1e(x) - ctx.xp.sign(x) * result)


class I1e(SpecialOp):
    node_name = "SpecialI1EBackward0"
    formula = "e^(-|x|) I₁(x)"
    derivatives = ("i0e(x) - i1e(x) (sign(x) + 1/x) (½ at x = 0)",)

    @staticmethod
    def forward(ctx, x):
        result = bessel_i_array(1, as_floating(x), scaled=True)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        at_zero = x == 0
        safe = ctx.xp.where(at_zero, 1.0, x)
        slope = ctx.xp.i0e(x) - result * (ctx.xp.sign(x) + 1 / safe)
        return grad_output * ctx.xp.where(at_zero, 0.5, slope)


on_arrays.own.update(i0e=lambda x: bessel_i_array(0, x, scaled=True), i1e=lambda x: bessel_i_array(1, x, scaled=True))
on_tensors.own.update(i0e=I0e.apply, i1e=I1e.apply)


# ----------------------------------------------------------------------------- functions
def entr(input):
    """-x ln x elementwise (the entropy term of a probability x): 0 at 0, -inf for x < 0."""
    return Entr.apply(input)


def erfcx(input):
    """e^(x²) erfc x, finite (about 1/(x√π)) where erfc x underflows."""
    return Erfcx.apply(input)


def log_ndtr(input):
    """ln Φ(x), Φ the standard normal's cdf, accurate in both tails (log_ndtr(-40) = -804.6)."""
    return LogNdtr.apply(input)


def ndtri(input):
    """Φ⁻¹(p), the standard normal's quantile function, for p in [0, 1]."""
    return Ndtri.apply(input)


def xlog1py(input, other):
    """input · ln(1 + other), and 0 where input = 0."""
    input, other = binary_operands(input, other)
    return Xlog1py.apply(input, other)


def i0e(input):
    """e^(-|x|) I₀(x), the exponentially scaled modified Bessel function of order 0."""
    return I0e.apply(input)


def i1e(input):
    """e^(-|x|) I₁(x), the exponentially scaled modified Bessel function of order 1."""
    return I1e.apply(input)
