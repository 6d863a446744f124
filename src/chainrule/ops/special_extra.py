"""The special functions that PyTorch offers only in ``torch.special``.

They are not ``chainrule.NAME`` (PyTorch has no ``torch.entr``): ``chainrule.special`` exports
them. With derivatives, as Ops computed in float64 on arrays:

- entr, xlog1py, and the scaled Bessel functions i0e, i1e (i1 is in ``special.py``);
- erfcx x = e^(x²) erfc x: for x <= 25, e^(x²) (split as Cody does, so that x² does not round)
  times erfc, which keeps its digits in the tail; beyond, the asymptotic series
  1/(x√π) Σₖ (-1)^k (2k-1)!! / (2x²)^k; for x < 0, 2 e^(x²) - erfcx(-x).
- log_ndtr x = ln Φ(x), Φ the standard normal's cdf: ln(erfcx(-x/√2) / 2) - x²/2 for x < -1 (Φ
  underflows there long before its logarithm does), ln1p(-Φ(-x)) for x > 0, ln Φ(x) between.
- ndtri p = Φ⁻¹(p): √2 erfinv(2p - 1) as a first guess (or -√(-2 ln p) where 2p - 1 rounds to -1),
  then Newton steps on ln Φ(x) - ln p in the lower tail; Φ⁻¹(1 - q) = -Φ⁻¹(q) above ½.
- zeta (Euler-Maclaurin), which PyTorch differentiates in its second argument only (gammainc and
  gammaincc are ``igamma`` and ``igammac`` of ``special.py``).

Without derivatives, as in PyTorch: the orthogonal polynomials (three-term recurrences), the
Bessel functions J, Y, K of order 0 and 1 (see the notes above ``bessel_jy_array``), the spherical
j₀, and Airy's Ai (see the notes above ``airy_ai_array``).
"""
import math

from chainrule import dtypes
from chainrule.autograd.function import computed_without_gradient
from chainrule.backend import ignoring_float_errors, xp
from chainrule.ops.elementwise import binary_operands, broadcasting
from chainrule.ops.operands import as_floating, broadcast_failure
from chainrule.ops.registry import with_out, with_pytorch_keywords
from chainrule.ops.special import (
    SpecialOp,
    bessel_i_array,
    digamma_array,
    erfc_array,
    erfinv_array,
    in_float64,
    lgamma_array,
    on_arrays,
    on_tensors,
)
from chainrule.tensor import Tensor

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


# Where the Hurwitz zeta sum stops: a term below this fraction of the sum (Cephes' MACHEP, 2⁻⁵³).
MACHEP = 1.11022302462515654042e-16
# The Euler-Maclaurin corrections of the Hurwitz zeta sum: (2k)! / B₂ₖ, k = 1..12 (Cephes' zeta.c).
_ZETA_CORRECTIONS = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
                     -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
                     1.8152105401943546773e17, -7.1661652561756670113e18)


def zeta_array(x, q):
    """ζ(x, q) = Σₖ₌₀^∞ (q + k)^(-x), the Hurwitz zeta function, for x > 1: the first terms summed
    until q + k > 9 (at least ten), the rest by the Euler-Maclaurin formula, unless a term falls
    below MACHEP of the sum first, where the sum stops (as Cephes and PyTorch: ζ(inf, 1) = 1, where
    the Euler-Maclaurin terms would be inf · 0). inf at x = 1 and at q = 0, -1, -2, ...; nan for
    x < 1 and for q < 0 with x not whole (as Cephes and PyTorch)."""
    x, q = xp.broadcast_arrays(x.astype(xp.float64), q.astype(xp.float64))
    with ignoring_float_errors():
        total, term, position = q ** -x, q ** -x, q
        finite = q[xp.isfinite(q)]
        steps = max(9, int(math.ceil(10 - float(finite.min()))) if finite.size else 9)
        converged = xp.zeros(total.shape, dtype=bool)
        for step in range(steps):
            active = ((step < 9) | (position <= 9)) & ~converged
            position = xp.where(active, position + 1, position)
            term = xp.where(active, position ** -x, term)
            total = xp.where(active, total + term, total)
            converged = converged | (active & (-MACHEP * total < term) & (term < MACHEP * total))
        summed = total
        total = total + term * position / (x - 1) - 0.5 * term
        rising, power = xp.ones_like(x), term
        for k, correction in enumerate(_ZETA_CORRECTIONS):  # rising = x (x+1) ... (x+2k), power = w^(-x-2k-1)
            rising = rising * (x + 2 * k)
            power = power / position
            total = total + rising * power / correction
            rising = rising * (x + 2 * k + 1)
            power = power / position
        total = xp.where(converged, summed, total)
        whole_pole = (q <= 0) & (q == xp.floor(q))
        total = xp.where(whole_pole | (x == 1), xp.inf, total)
        return xp.where((x < 1) | ((q < 0) & ~whole_pole & (x != xp.floor(x))), xp.nan, total)


def gamma_sample_slope_array(a, x):
    """dz/da at a sample z = x of Gamma(a, 1) held at the same quantile (implicit
    reparameterization): -(∂P/∂a)(a, x) / p(x; a). From P's series Σₙ Tₙ, Tₙ = x^(a+n) e^(-x) / Γ(a+n+1),
    ∂P/∂a = Σₙ Tₙ (ln x - ψ(a+n+1)); divided by the density p = T₀ a / x, with Rₙ = Tₙ/T₀ = Πⱼ₌₁ⁿ x/(a+j):
    dz/da = -(x/a) Σₙ Rₙ (ln x - ψ(a+1) - Σⱼ₌₁ⁿ 1/(a+j)). Accurate where samples fall (the terms
    cancel only far in the upper tail, x - a >> √a)."""
    a, x = xp.broadcast_arrays(a.astype(xp.float64), x.astype(xp.float64))
    with ignoring_float_errors():
        log_x_less_digamma = xp.log(x) - digamma_array(a + 1)
        ratio, total = xp.ones_like(x), log_x_less_digamma
        for n in range(1, 100000):
            ratio = ratio * x / (a + n)
            log_x_less_digamma = log_x_less_digamma - 1 / (a + n)
            term = ratio * log_x_less_digamma
            total = total + term
            if not bool(xp.any(xp.abs(term) > 1e-17 * xp.abs(total))) and bool(xp.all(a + n > x)):
                break
        return xp.where(x > 0, -x / a * total, 0.0)


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


class Ndtr(SpecialOp):
    """Its node is named as the last of PyTorch's, whose ndtr is the composition (1 + erf(x/√2)) · 0.5."""

    node_name = "MulBackward1"
    formula = "Φ(x) = ½ erfc(-x/√2)"
    derivatives = ("φ(x) = e^(-x²/2) / √(2π)",)

    @staticmethod
    def forward(ctx, x):
        x = as_floating(x)
        ctx.save_for_backward(x)
        return erfc_array(x * -SQRT_HALF) * 0.5

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * ctx.xp.exp(-x * x / 2) / SQRT_TWO_PI


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
    """0 where x = 0 (even where ln(1 + y) is infinite or nan), but nan where y is nan, as in
    PyTorch; so is the derivative in x, ln(1 + y), where x = 0 and y <= -1."""

    node_name = "SpecialXlog1PyBackward0"
    formula = "x · ln(1 + y)"
    derivatives = ("ln(1 + y) (0 where x = 0 and y <= -1)", "x / (1 + y)")

    @staticmethod
    def forward(ctx, x, y):
        x, y = as_floating(x), as_floating(y)
        ctx.save_for_backward(x, y)
        with ignoring_float_errors():
            return xp.where((x == 0) & ~xp.isnan(y), 0.0, x * xp.log1p(y)).astype(xp.result_type(x, y))

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_x = ctx.xp.where((x == 0) & (y <= -1), 0.0, grad_output * ctx.xp.log1p(y))
        if ctx.needs_input_grad[1]:
            grad_y = grad_output * x / (1 + y)
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



class Zeta(SpecialOp):
    node_name = "SpecialZetaBackward0"
    formula = "ζ(x, q) = Σₖ (q + k)^(-x)"
    derivatives = ("not implemented (as in PyTorch)", "-x ζ(x + 1, q)")

    @staticmethod
    def forward(ctx, x, q):
        x, q = as_floating(x), as_floating(q)
        ctx.save_for_backward(x, q)
        return zeta_array(x, q).astype(xp.result_type(x, q), copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        x, q = ctx.saved_tensors
        return None, -grad_output * x * ctx.xp.zeta(x + 1, q)


class StandardGamma(SpecialOp):
    """Samples of Gamma(concentration, 1), drawn by the caller, with their implicit gradient:
    each sample moves with the concentration so as to stay at the same quantile."""

    node_name = "StandardGammaBackward0"
    formula = "z ~ Gamma(a, 1)"
    derivatives = ("dz/da = -(∂P/∂a)(a, z) / p(z; a)",)

    @staticmethod
    def forward(ctx, concentration, samples):
        ctx.slope = gamma_sample_slope_array(concentration, samples).astype(samples.dtype, copy=False)
        return samples

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.slope, None

on_arrays.own.update(i0e=lambda x: bessel_i_array(0, x, scaled=True), i1e=lambda x: bessel_i_array(1, x, scaled=True), zeta=zeta_array,
                     lgamma=lgamma_array)
on_tensors.own.update(i0e=I0e.apply, i1e=I1e.apply, zeta=Zeta.apply)


# ----------------------------------------------------------------------------- functions
@with_out
def entr(input):
    """-x ln x elementwise (the entropy term of a probability x): 0 at 0, -inf for x < 0."""
    return Entr.apply(input)


def of_a_tensor(function):
    """``function`` with ``out=``, refusing an input that is not a tensor with PyTorch's TypeError."""
    return with_out(function, tensor_input=True)


@of_a_tensor
def erfcx(input):
    """e^(x²) erfc x, finite (about 1/(x√π)) where erfc x underflows."""
    refuse_half("erfcx", input._array.dtype)
    return Erfcx.apply(input)


@of_a_tensor
def log_ndtr(input):
    """ln Φ(x), Φ the standard normal's cdf, accurate in both tails (log_ndtr(-40) = -804.6)."""
    refuse_half("log_ndtr", input._array.dtype)
    return LogNdtr.apply(input)


@of_a_tensor
def ndtr(input):
    """Φ(x) = ½ erfc(-x/√2), the cumulative distribution function of the standard normal."""
    return Ndtr.apply(input)


@of_a_tensor
def ndtri(input):
    """Φ⁻¹(p), the standard normal's quantile function, for p in [0, 1]."""
    refuse_half("ndtri", input._array.dtype)
    return Ndtri.apply(input)


@with_out
def xlog1py(input, other):
    """input · ln(1 + other), and 0 where input = 0 (unless other is nan)."""
    refuse_two_numbers("xlog1py", input, other)
    return broadcasting(Xlog1py, *binary_operands(input, other), operation="xlog1py")


@with_out
def i0e(input):
    """e^(-|x|) I₀(x), the exponentially scaled modified Bessel function of order 0."""
    return I0e.apply(input)


@with_out
def i1e(input):
    """e^(-|x|) I₁(x), the exponentially scaled modified Bessel function of order 1."""
    return I1e.apply(input)


@with_out
def zeta(input, other):
    """ζ(input, other), the Hurwitz zeta function Σₖ (other + k)^(-input) (ζ(x, 1) is Riemann's)."""
    refuse_two_numbers("zeta", input, other)
    input, other = binary_operands(input, other)
    refuse_half("zeta", xp.result_type(input._array, other._array))
    return broadcasting(Zeta, input, other, operation="zeta")


def standard_gamma(concentration, samples):
    """``samples`` (an array drawn from Gamma(concentration, 1), of concentration's shape) as a
    tensor whose gradient flows back to ``concentration``."""
    return StandardGamma.apply(concentration, samples)


# ----------------------------------------------------------------------------- without gradients
# PyTorch gives these no derivative: their results never require grad, as there. As PyTorch's CPU
# kernels they take tensors (a Python number is a TypeError; the polynomials' n may be one) and
# have no float16 form; they compute here in float64 and give the operands' floating dtype.
def refuse_half(kernel, dtype):
    """PyTorch's NotImplementedError for a ``dtype`` of float16, which its CPU kernel ``kernel`` lacks."""
    if dtype == xp.float16:
        raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for 'Half'; convert first, e.g. x.float()")


def refuse_two_numbers(operation, first, second, names=("input", "other")):
    """PyTorch's TypeError for a binary operation given two numbers: it takes two tensors, or a
    tensor and a number."""
    if not isinstance(first, Tensor) and not isinstance(second, Tensor):
        one, other = names
        raise TypeError(
            f"special_{operation}() received an invalid combination of arguments - got ({type(first).__name__}, "
            f"{type(second).__name__}), but expected one of: (Tensor {one}, Tensor {other}), (Number {one}, Tensor {other}), "
            f"(Tensor {one}, Number {other}); make one of them a tensor with chainrule.tensor(...)"
        )


def _evaluated_in_float64(*arrays, array_function, dtype):
    """``array_function`` of ``arrays`` taken in float64, its result in ``dtype``."""
    return array_function(*[array.astype(xp.float64) for array in arrays]).astype(dtype, copy=False)


def computed_in_float64(array_function, operation, operands):
    """``array_function`` of the tensors' arrays as a tensor without gradient, in their floating
    result dtype (the default float for integers and bool)."""
    dtype = xp.result_type(*[operand._array for operand in operands])
    dtype = dtype if dtype.kind == "f" else xp.dtype(dtypes.get_default_dtype())
    refuse_half(operation, dtype)
    try:
        return computed_without_gradient(_evaluated_in_float64, operands, {"array_function": array_function, "dtype": dtype})
    except ValueError as error:
        raise broadcast_failure(error, operation, operands) from None


def function_of_x(array_function, name, doc, input_keyword=False):
    """The public function ``name(x, *, out=None)``: ``array_function`` of the tensor x's array.
    With ``input_keyword``, x may be given as ``input=`` too, as PyTorch allows for some."""

    def function(x):
        if not isinstance(x, Tensor):
            raise TypeError(f"special_{name}(): argument 'x' (position 1) must be Tensor, not {type(x).__name__}")
        return computed_in_float64(array_function, name, (x,))

    function.__name__, function.__qualname__, function.__doc__ = name, name, doc
    return with_out(with_pytorch_keywords(function) if input_keyword else function)


def polynomial_of_x(array_function, name, doc):
    """The public function ``name(x, n, *, out=None)``: ``array_function`` of x and n (tensors, or
    one of them a number), broadcast together."""

    def function(x, n):
        refuse_two_numbers(name, x, n, names=("x", "n"))
        return computed_in_float64(array_function, name, binary_operands(x, n))

    function.__name__, function.__qualname__, function.__doc__ = name, name, doc
    return with_out(function)


def three_term_recurrence(first, step, x, n):
    """pₙ(x) for the polynomials with p₀ = 1, p₁ = first(x), pₖ₊₁ = step(k, x, pₖ, pₖ₋₁);
    0 for n < 0. x and n broadcast; n is read as whole numbers."""
    x, n = xp.broadcast_arrays(x, n.astype(xp.int64))
    previous, current = xp.ones_like(x), first(x)
    result = xp.where(n == 0, previous, xp.where(n == 1, current, 0.0))
    for k in range(1, int(n.max(initial=1))):
        previous, current = current, step(k, x, current, previous)
        result = xp.where(n == k + 1, current, result)
    return result


def _chebyshev(first, shifted=False):
    def polynomial(x, n):
        argument = 2 * x - 1 if shifted else x
        return three_term_recurrence(first, lambda k, t, p, q: 2 * t * p - q, argument, n)

    return polynomial


_CHEBYSHEV_FIRST = {"t": lambda t: t, "u": lambda t: 2 * t, "v": lambda t: 2 * t - 1, "w": lambda t: 2 * t + 1}
chebyshev_polynomial_t, chebyshev_polynomial_u, chebyshev_polynomial_v, chebyshev_polynomial_w = (
    polynomial_of_x(_chebyshev(_CHEBYSHEV_FIRST[kind]), f"chebyshev_polynomial_{kind}",
                    f"The Chebyshev polynomial {kind.upper()}ₙ(x) of the {kind.upper()} kind: Pₖ₊₁ = 2x Pₖ - Pₖ₋₁.")
    for kind in "tuvw"
)
shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v, shifted_chebyshev_polynomial_w = (
    polynomial_of_x(_chebyshev(_CHEBYSHEV_FIRST[kind], shifted=True), f"shifted_chebyshev_polynomial_{kind}",
                    f"{kind.upper()}ₙ(2x - 1), the Chebyshev polynomial shifted to [0, 1].")
    for kind in "tuvw"
)
hermite_polynomial_h = polynomial_of_x(
    lambda x, n: three_term_recurrence(lambda t: 2 * t, lambda k, t, p, q: 2 * t * p - 2 * k * q, x, n),
    "hermite_polynomial_h", "The physicists' Hermite polynomial Hₙ(x): Hₖ₊₁ = 2x Hₖ - 2k Hₖ₋₁.")
hermite_polynomial_he = polynomial_of_x(
    lambda x, n: three_term_recurrence(lambda t: t, lambda k, t, p, q: t * p - k * q, x, n),
    "hermite_polynomial_he", "The probabilists' Hermite polynomial Heₙ(x): Heₖ₊₁ = x Heₖ - k Heₖ₋₁.")
laguerre_polynomial_l = polynomial_of_x(
    lambda x, n: three_term_recurrence(lambda t: 1 - t, lambda k, t, p, q: ((2 * k + 1 - t) * p - k * q) / (k + 1), x, n),
    "laguerre_polynomial_l", "The Laguerre polynomial Lₙ(x): (k+1) Lₖ₊₁ = (2k + 1 - x) Lₖ - k Lₖ₋₁.")
legendre_polynomial_p = polynomial_of_x(
    lambda x, n: three_term_recurrence(lambda t: t, lambda k, t, p, q: ((2 * k + 1) * t * p - k * q) / (k + 1), x, n),
    "legendre_polynomial_p", "The Legendre polynomial Pₙ(x): (k+1) Pₖ₊₁ = (2k + 1) x Pₖ - k Pₖ₋₁.")


def spherical_bessel_j0_array(x):
    """j₀(x) = sin x / x: 1 at 0, and 0 at ±inf (the limit, as PyTorch gives)."""
    with ignoring_float_errors():
        quotient = xp.sin(x) / xp.where(x == 0, 1.0, x)
        return xp.where(x == 0, 1.0, xp.where(xp.isinf(x), 0.0, quotient))


spherical_bessel_j0 = function_of_x(
    spherical_bessel_j0_array, "spherical_bessel_j0",
    "j₀(x) = sin x / x (1 at 0), the spherical Bessel function of the first kind of order 0.")
modified_bessel_i0 = function_of_x(
    lambda x: bessel_i_array(0, x), "modified_bessel_i0",
    "I₀(x) as ``i0``, without a gradient (as PyTorch's special.modified_bessel_i0).", input_keyword=True)
modified_bessel_i1 = function_of_x(
    lambda x: bessel_i_array(1, x), "modified_bessel_i1",
    "I₁(x) as ``i1``, without a gradient (as PyTorch's special.modified_bessel_i1).", input_keyword=True)


# The Bessel functions of integer order ν = 0, 1 (no gradients, as in PyTorch), on three ranges:
# - J: the trapezoidal rule on Jₘ(x) = 1/2π ∫₀²ᵖ cos(mθ - x sin θ) dθ (periodic and analytic, so
#   that equally spaced points converge exponentially), for |x| <= 25;
# - Y: Neumann's series in those Jₘ, Y₀(x) = 2/π (ln(x/2) + γ) J₀(x) - 4/π Σₖ (-1)ᵏ J₂ₖ(x)/k, and
#   its derivative Y₁ = -Y₀', for 0 < x <= 25;
# - K: the power series for x <= 2, the trapezoidal rule on Kᵥ(x) = ∫₀^∞ e^(-x cosh t) cosh(νt) dt
#   for 2 < x <= 25;
# - beyond 25, Hankel's asymptotic series, whose terms there fall below 1e-17 before diverging.
BESSEL_ASYMPTOTIC_FROM = 25.0
EULER_GAMMA = 0.5772156649015329
_POINTS = 256  # on the circle: the aliased Jₘ₊₂₅₆(25) is far below double precision
_ORDERS = 64  # Jₘ(25) for m >= 64 is below 1e-17: Neumann's series stops there


def _bessel_j_orders(x):
    """Jₘ(x) for m = 0 .. _ORDERS - 1, by the trapezoidal rule: shape x.shape + (_ORDERS,)."""
    angles = xp.arange(_POINTS) * (2 * math.pi / _POINTS)
    phase = x[..., None] * xp.sin(angles)  # (..., points)
    orders = xp.arange(_ORDERS)[:, None] * angles  # (orders, points)
    return (xp.cos(phase) @ xp.cos(orders).T + xp.sin(phase) @ xp.sin(orders).T) / _POINTS


def _hankel_coefficients(order, count=20):
    """aₖ(ν) = Πⱼ₌₁ᵏ (4ν² - (2j - 1)²) / (k! 8ᵏ), k = 0 .. count - 1."""
    coefficients, value = [1.0], 1.0
    for k in range(1, count):
        value *= (4 * order * order - (2 * k - 1) ** 2) / (k * 8)
        coefficients.append(value)
    return coefficients


def _hankel(order, x):
    """(Jᵥ(x), Yᵥ(x)) for large x > 0: √(2/(πx)) (P cos χ - Q sin χ), √(2/(πx)) (P sin χ + Q cos χ),
    χ = x - (ν/2 + 1/4)π, P = Σ (-1)ᵏ a₂ₖ / x²ᵏ, Q = Σ (-1)ᵏ a₂ₖ₊₁ / x²ᵏ⁺¹."""
    even, odd = xp.zeros_like(x), xp.zeros_like(x)
    for k, coefficient in enumerate(_hankel_coefficients(order)):
        term = coefficient / x ** k * (-1) ** (k // 2)
        even, odd = (even + term, odd) if k % 2 == 0 else (even, odd + term)
    chi = x - (order / 2 + 0.25) * math.pi
    scale = xp.sqrt(2 / (math.pi * x))
    return scale * (even * xp.cos(chi) - odd * xp.sin(chi)), scale * (even * xp.sin(chi) + odd * xp.cos(chi))


def bessel_jy_array(order, x, second_kind):
    """Jᵥ(x) (first kind) or Yᵥ(x) (second kind), ν = 0 or 1."""
    x = x.astype(xp.float64)
    with ignoring_float_errors():
        magnitude = xp.abs(x)
        near = xp.minimum(magnitude, BESSEL_ASYMPTOTIC_FROM)
        j = _bessel_j_orders(near)
        far = _hankel(order, xp.maximum(magnitude, BESSEL_ASYMPTOTIC_FROM))[second_kind]
        if not second_kind:
            result = xp.where(magnitude <= BESSEL_ASYMPTOTIC_FROM, j[..., order], far)
            return xp.where(x < 0, -result, result) if order else result
        logarithm = xp.log(near / 2) + EULER_GAMMA
        k = xp.arange(1, _ORDERS // 2 - 1)
        signs = (-1.0) ** k
        if order == 0:
            near_value = 2 / math.pi * logarithm * j[..., 0] - 4 / math.pi * (j[..., 2 * k] * (signs / k)).sum(-1)
        else:
            differences = (j[..., 2 * k - 1] - j[..., 2 * k + 1]) * (signs / k)
            near_value = -2 / (math.pi * near) * j[..., 0] + 2 / math.pi * logarithm * j[..., 1] + 2 / math.pi * differences.sum(-1)
        result = xp.where(magnitude <= BESSEL_ASYMPTOTIC_FROM, near_value, far)
        result = xp.where(x == 0, -xp.inf, result)
        return xp.where(x < 0, xp.nan, result)  # nan at inf too, as PyTorch gives


def bessel_k_array(order, x, scaled):
    """Kᵥ(x), ν = 0 or 1, the modified Bessel function of the second kind (e^x Kᵥ(x) when ``scaled``)."""
    x = x.astype(xp.float64)
    with ignoring_float_errors():
        small = xp.clip(x, 1e-300, 2.0)
        logarithm = xp.log(small / 2) + EULER_GAMMA
        quarter_square = small * small / 4
        term, harmonic, total = xp.ones_like(small), 0.0, xp.zeros_like(small)
        for k in range(0, 30):  # at x = 2 the terms fall below 1e-17 by k = 20
            if k:
                term = term * quarter_square / (k * (k + order))
            if order == 0:
                harmonic += 1 / k if k else 0.0
                total = total + term * harmonic
            else:  # ψ(k+1) + ψ(k+2) + 2γ = H_k + H_(k+1)
                total = total + term * (2 * harmonic + 1 / (k + 1))
                harmonic += 1 / (k + 1)
        if order == 0:
            series = -logarithm * bessel_i_array(0, small) + total
        else:
            series = 1 / small + logarithm * bessel_i_array(1, small) - small / 4 * total
        step = 0.02
        t = xp.arange(0, 6.0, step)
        middle_x = xp.clip(x, 2.0, BESSEL_ASYMPTOTIC_FROM)[..., None]
        integrand = xp.exp(-middle_x * (xp.cosh(t) - 1)) * xp.cosh(order * t)  # e^x Kᵥ, scaled
        trapezoid = step * (integrand.sum(-1) - integrand[..., 0] / 2)
        large = xp.maximum(x, BESSEL_ASYMPTOTIC_FROM)
        asymptotic = sum(coefficient / large ** k for k, coefficient in enumerate(_hankel_coefficients(order)))
        asymptotic = xp.sqrt(math.pi / (2 * large)) * asymptotic
        scaled_value = xp.where(x <= 2, series * xp.exp(small), xp.where(x <= BESSEL_ASYMPTOTIC_FROM, trapezoid, asymptotic))
        result = scaled_value if scaled else scaled_value * xp.exp(-x)
        result = xp.where(x == 0, xp.inf, xp.where(xp.isinf(x), 0.0, result))
        return xp.where((x < 0) | xp.isnan(x), xp.nan, result)


bessel_j0 = function_of_x(lambda x: bessel_jy_array(0, x, False), "bessel_j0",
                          "J₀(x), the Bessel function of the first kind of order 0.", input_keyword=True)
bessel_j1 = function_of_x(lambda x: bessel_jy_array(1, x, False), "bessel_j1",
                          "J₁(x), the Bessel function of the first kind of order 1.", input_keyword=True)
bessel_y0 = function_of_x(lambda x: bessel_jy_array(0, x, True), "bessel_y0",
                          "Y₀(x), the Bessel function of the second kind of order 0.", input_keyword=True)
bessel_y1 = function_of_x(lambda x: bessel_jy_array(1, x, True), "bessel_y1",
                          "Y₁(x), the Bessel function of the second kind of order 1.", input_keyword=True)
modified_bessel_k0 = function_of_x(lambda x: bessel_k_array(0, x, False), "modified_bessel_k0",
                                   "K₀(x), the modified Bessel function of the second kind.", input_keyword=True)
modified_bessel_k1 = function_of_x(lambda x: bessel_k_array(1, x, False), "modified_bessel_k1",
                                   "K₁(x), the modified Bessel function of the second kind.", input_keyword=True)
scaled_modified_bessel_k0 = function_of_x(lambda x: bessel_k_array(0, x, True), "scaled_modified_bessel_k0", "eˣ K₀(x).")
scaled_modified_bessel_k1 = function_of_x(lambda x: bessel_k_array(1, x, True), "scaled_modified_bessel_k1", "eˣ K₁(x).")


# Airy's function Ai, the solution of y'' = x y that decays as x -> +inf (no gradient, as in PyTorch),
# to about 1e-15 (PyTorch's float64 kernel is off by up to 3e-6 for x in [-3, -2.09]):
# - beyond |x| = AIRY_ASYMPTOTIC_FROM, its asymptotic series (DLMF 9.7.5, 9.7.9), whose smallest
#   term there is below 1e-17;
# - between, Taylor's series of y'' = x y about the nearest point of a grid with step AIRY_STEP,
#   whose values and slopes are found once by Taylor steps along that equation: from the known
#   Ai(0), Ai'(0) towards -inf (where Ai oscillates, so errors do not grow) and from the
#   asymptotic Ai, Ai' at the far end back towards 0 (where Ai grows, so errors shrink).
AIRY_ASYMPTOTIC_FROM = 9.5
AIRY_STEP = 0.25
AIRY_TAYLOR_TERMS = 30  # at |x| = 9.5 a step's terms fall below 1e-17 by the 25th
AIRY_UNDERFLOWS_FROM = 103.892  # Ai(x) is below the smallest normal double beyond, and PyTorch gives 0
INVERSE_SQRT_PI = 1 / math.sqrt(math.pi)


def _airy_asymptotic_coefficients(count=36):
    """uₖ = (2k+1)(2k+3)···(6k-1) / (216ᵏ k!) and vₖ = -(6k+1)/(6k-1) uₖ, k = 0 .. count - 1: the
    coefficients of Ai's and Ai''s asymptotic series in 1/ζ, ζ = ⅔ |x|^(3/2)."""
    u = [1.0]
    for k in range(1, count):
        u.append(u[-1] * (6 * k - 5) * (6 * k - 3) * (6 * k - 1) / ((2 * k - 1) * 216 * k))
    return u, [-(6 * k + 1) / (6 * k - 1) * each for k, each in enumerate(u)]


AIRY_U, AIRY_V = _airy_asymptotic_coefficients()


def _airy_taylor_coefficients(center, value, slope):
    """aₖ with y(center + d) = Σₖ aₖ dᵏ for the solution of y'' = x y through (value, slope) at
    center: (k+1)(k+2) aₖ₊₂ = center aₖ + aₖ₋₁. ``center`` may be an array (one series each)."""
    coefficients = [value, slope]
    for k in range(AIRY_TAYLOR_TERMS - 2):
        below = coefficients[k - 1] if k else 0.0
        coefficients.append((center * coefficients[k] + below) / ((k + 1) * (k + 2)))
    return coefficients


def _airy_taylor_step(center, value, slope, step):
    """(y, y') at center + step, from (value, slope) at center."""
    coefficients = _airy_taylor_coefficients(center, value, slope)
    return (sum(a * step ** k for k, a in enumerate(coefficients)),
            sum(k * a * step ** (k - 1) for k, a in enumerate(coefficients) if k))


def _airy_decaying_series(x):
    """(Ai(x), Ai'(x)) for large x > 0: e^(-ζ)/(2√π) (x^(-1/4) Σ (-1)ᵏ uₖ/ζᵏ, -x^(1/4) Σ (-1)ᵏ vₖ/ζᵏ)."""
    zeta = 2.0 * x * xp.sqrt(x) / 3.0  # as PyTorch orders it, so that e^(-ζ) rounds alike
    value_sum = sum((-1) ** k * u / zeta ** k for k, u in enumerate(AIRY_U))
    slope_sum = sum((-1) ** k * v / zeta ** k for k, v in enumerate(AIRY_V))
    fourth_root = xp.sqrt(xp.sqrt(x))
    value = INVERSE_SQRT_PI * value_sum / (2.0 * fourth_root * xp.exp(zeta))
    slope = -INVERSE_SQRT_PI * fourth_root * slope_sum / (2.0 * xp.exp(zeta))
    return value, slope


def _airy_oscillating_series(x):
    """Ai(x) for large x < 0: (sin t Σ (-1)ᵏ u₂ₖ/ζ²ᵏ - cos t Σ (-1)ᵏ u₂ₖ₊₁/ζ²ᵏ⁺¹) / (√π |x|^(1/4)),
    t = ζ + π/4."""
    zeta = -2.0 * x * xp.sqrt(-x) / 3.0
    even = sum((-1) ** (k // 2) * u / zeta ** k for k, u in enumerate(AIRY_U) if k % 2 == 0)
    odd = sum((-1) ** (k // 2) * u / zeta ** k for k, u in enumerate(AIRY_U) if k % 2 == 1)
    phase = zeta + 0.25 * math.pi
    return INVERSE_SQRT_PI / xp.sqrt(xp.sqrt(-x)) * (xp.sin(phase) * even - xp.cos(phase) * odd)


def _airy_grid():
    """(points, Ai at them, Ai' at them) on the grid from -AIRY_ASYMPTOTIC_FROM to AIRY_ASYMPTOTIC_FROM."""
    count = round(AIRY_ASYMPTOTIC_FROM / AIRY_STEP)
    value, slope = 1 / (3 ** (2 / 3) * math.gamma(2 / 3)), -1 / (3 ** (1 / 3) * math.gamma(1 / 3))
    rows = [(value, slope)]
    for j in range(count):  # 0 -> -inf
        value, slope = _airy_taylor_step(-j * AIRY_STEP, value, slope, -AIRY_STEP)
        rows.insert(0, (value, slope))
    far_value, far_slope = _airy_decaying_series(xp.array(count * AIRY_STEP))
    value, slope = float(far_value), float(far_slope)
    positive = [(value, slope)]
    for j in range(count, 1, -1):  # the far end -> 0
        value, slope = _airy_taylor_step(j * AIRY_STEP, value, slope, -AIRY_STEP)
        positive.insert(0, (value, slope))
    table = xp.array(rows + positive)
    return xp.arange(-count, count + 1) * AIRY_STEP, table[:, 0], table[:, 1]


AIRY_POINTS, AIRY_VALUES, AIRY_SLOPES = _airy_grid()


def airy_ai_array(x):
    """Ai(x), the Airy function: 1/π ∫₀^∞ cos(t³/3 + x t) dt. 0 beyond x = 103.892 (as PyTorch,
    where it would be subnormal); nan at ±inf, as PyTorch gives."""
    with ignoring_float_errors():
        inside = xp.nan_to_num(xp.clip(x, -AIRY_ASYMPTOTIC_FROM, AIRY_ASYMPTOTIC_FROM))
        nearest = xp.rint((inside - AIRY_POINTS[0]) / AIRY_STEP).astype(xp.int64)
        center = AIRY_POINTS[nearest]
        coefficients = _airy_taylor_coefficients(center, AIRY_VALUES[nearest], AIRY_SLOPES[nearest])
        distance, near = inside - center, coefficients[-1]
        for coefficient in coefficients[-2::-1]:
            near = near * distance + coefficient
        decaying = _airy_decaying_series(xp.maximum(x, AIRY_ASYMPTOTIC_FROM))[0]
        oscillating = _airy_oscillating_series(xp.minimum(x, -AIRY_ASYMPTOTIC_FROM))
        result = xp.where(x > AIRY_ASYMPTOTIC_FROM, decaying, xp.where(x < -AIRY_ASYMPTOTIC_FROM, oscillating, near))
        result = xp.where(x > AIRY_UNDERFLOWS_FROM, 0.0, result)
        return xp.where(xp.isinf(x) | xp.isnan(x), xp.nan, result)


airy_ai = function_of_x(airy_ai_array, "airy_ai", "Ai(x), the Airy function of the first kind (the solution of y'' = x y "
                        "that decays as x -> inf).")
