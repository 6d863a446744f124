"""Special functions of analysis: erfc, erfinv, lgamma, digamma, polygamma, mvlgamma, i0, and the
regularized incomplete gamma functions igamma and igammac.

NumPy has none of these (and SciPy is no dependency), so each is computed here on arrays from
well-known expansions, accurate to about 1e-15 relative in float64:

- lgamma, digamma, polygamma: the argument is shifted up by the recurrences
  Γ(x + 1) = x Γ(x), ψ(x + 1) = ψ(x) + 1/x until it is large, where the asymptotic (Stirling)
  series converges fast; negative arguments use the reflection formulas.
- erfc: Cody's rational approximations (shared with erf in ``activation.py``), exact in the tails
  where 1 - erf(x) would round to 0.
- erfinv: a single-precision rational first guess (Giles, 2010), then Newton steps on erf.
- i0 (and its derivative i1): the power series for |x| <= 30, the asymptotic series beyond.
- igamma, igammac: the power series of P(a, x) for x < a + 1, the continued fraction of Q(a, x)
  beyond (see ``regularized_gamma_arrays``).

The derivative of each is another special function (lgamma' = digamma, digamma' = polygamma(1, ·),
i0' = i1), so the nodes here see those functions on arrays through ``ctx.xp`` in a plain backward,
and chainrule's own (recorded, differentiable again) under ``create_graph``.
"""
import math

from chainrule.autograd import grad_mode
from chainrule.backend import ignoring_float_errors, xp
from chainrule.ops import registry
from chainrule.ops.activation import erf_array, erfc_of_magnitude
from chainrule.ops.op import OpNode, Pointwise
from chainrule.ops.elementwise import broadcasting
from chainrule.ops.operands import as_floating, binary_operands
from chainrule.ops.registry import public
from chainrule.tensor import Tensor

SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2
TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)

# Bernoulli numbers B₂, B₄, ..., B₁₆: the coefficients of the asymptotic series of ln Γ and ψ.
BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)
# Where the asymptotic series take over: the terms above are then below 1e-17 of the sum.
ASYMPTOTIC_FROM = 10.0
# The most recurrence steps taken (polygamma of x < 0 steps up to x = 10 + 2n): below x = -65000
# polygamma loses accuracy rather than looping for ever. lgamma and digamma reflect instead.
MAX_SHIFTS = 1 << 16


class _Functions:
    """A namespace: ``base``'s functions, and this family's own under their public names."""

    def __init__(self, base):
        self.base, self.own = base, {}

    def __getattr__(self, name):
        own = self.__dict__["own"]
        return own[name] if name in own else getattr(self.base, name)


on_arrays = _Functions(xp)
on_tensors = _Functions(registry.functions)


class SpecialNode(OpNode):
    """The node of a special function: its ``xp`` knows the special functions too."""

    @staticmethod
    def plain_backward_xp(ctx):
        """On arrays (in a plain backward, and in a compiled program's replay of it)."""
        return on_arrays

    @property
    def xp(self):
        return on_tensors if grad_mode.is_grad_enabled() else on_arrays


class SpecialOp(Pointwise):
    """An ``Op`` whose backward may call ``ctx.xp.digamma``, ``ctx.xp.polygamma``, ``ctx.xp.i1``..."""

    _node_base = SpecialNode


# ----------------------------------------------------------------------------- on arrays
def in_float64(function):
    """``function`` computed in float64 and returned in its argument's dtype: the series and
    recurrences here cancel digits that float32 does not have (lgamma(2) would be 1e-6, not 0)."""

    def computed_in_float64(*args, **options):
        *others, x = args
        return function(*others, x.astype(xp.float64, copy=False), **options).astype(x.dtype, copy=False)

    computed_in_float64.__name__ = function.__name__
    computed_in_float64.__doc__ = function.__doc__
    return computed_in_float64


@in_float64
def erfc_array(x):
    """erfc x = 1 - erf x, keeping its full precision for large x (erfc 10 = 2.1e-45)."""
    with ignoring_float_errors():
        magnitude = xp.abs(x)
        tail = erfc_of_magnitude(magnitude)
        return xp.where(magnitude <= 0.46875, 1 - erf_array(x), xp.where(x > 0, tail, 2 - tail))


@in_float64
def erfinv_array(y):
    """The x with erf x = y, for -1 <= y <= 1 (±inf at ±1, nan outside).

    M. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2010) gives x to about 1e-7
    (less far out in the tails); Newton steps then make it full double precision: on erf x - y for
    |y| <= 1/2, and in the tails on ln erfc x - ln(1 - |y|), which stays nearly quadratic where
    erfc x falls off as e^(-x²) and keeps its digits where erf x and y both round near 1.
    """
    with ignoring_float_errors():
        magnitude = xp.abs(y).reshape(-1)  # 1-D, so that its parts can be refined in place
        w = -xp.log((1 - magnitude) * (1 + magnitude))
        guess = xp.where(w < 5, _horner(w - 2.5, _GILES_CENTRAL), _horner(xp.sqrt(w) - 3, _GILES_TAIL)) * magnitude
        central = magnitude <= 0.5
        for _ in range(2):  # the first guess is good to 1e-7 here: two steps reach 1e-16
            x = guess[central]
            guess[central] = x - (erf_array(x) - magnitude[central]) / (TWO_OVER_SQRT_PI * xp.exp(-x * x))
        in_tail = ~central
        for _ in range(4):  # far out (1 - |y| < 1e-7) the first guess is off by up to 0.5
            x = guess[in_tail]
            complement = erfc_array(x)
            guess[in_tail] = x + (xp.log(complement) - xp.log(1 - magnitude[in_tail])) * complement / (TWO_OVER_SQRT_PI * xp.exp(-x * x))
        guess = xp.where(magnitude == 1, xp.inf, xp.where(magnitude > 1, xp.nan, guess)).reshape(y.shape)
        return xp.copysign(guess, y)  # erfinv(-0.0) = -0.0, as PyTorch's


_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
               -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _horner(t, coefficients):
    """The polynomial with ``coefficients`` (highest power first) at t."""
    result = xp.zeros_like(t) + coefficients[0]
    for coefficient in coefficients[1:]:
        result = result * t + coefficient
    return result


@in_float64
def lgamma_array(x):
    """ln |Γ(x)|: Stirling's series after shifting x up to at least 10, and for x < 0 the
    reflection ln |Γ(x)| = ln(π / |sin πx|) - ln Γ(1 - x). +inf at 0, the negative integers and ±inf."""
    with ignoring_float_errors():
        negative = x < 0
        z = xp.where(negative, 1 - x, x)
        z, product = _shifted_up(z, lambda total, term: total * term, 1.0)
        inverse, inverse_square = 1 / z, 1 / (z * z)
        series = xp.zeros_like(z)
        for k in range(len(BERNOULLI), 0, -1):
            series = series * inverse_square + BERNOULLI[k - 1] / (2 * k * (2 * k - 1))
        positive = (z - 0.5) * xp.log(z) - z + HALF_LOG_TWO_PI + series * inverse - xp.log(xp.abs(product))
        reflected = math.log(math.pi) - xp.log(xp.abs(_sin_pi(x))) - positive
        result = xp.where(negative, reflected, positive)
        result = xp.where((x == 1) | (x == 2), 0.0, result)  # Γ(1) = Γ(2) = 1 exactly; the shift leaves 1e-15 there
        return xp.where(xp.isinf(x) | (negative & (x == xp.floor(x))), xp.inf, result)


@in_float64
def digamma_array(x):
    """ψ(x) = d/dx ln Γ(x): the asymptotic series after shifting x up to at least 10, and for x < 0
    the reflection ψ(x) = ψ(1 - x) - π / tan πx. -inf at 0 (+inf at -0), nan at the negative integers."""
    with ignoring_float_errors():
        negative = x < 0
        z = xp.where(negative, 1 - x, x)
        z, reciprocals = _shifted_up(z, lambda total, term: total + 1 / term, 0.0)
        inverse_square = 1 / (z * z)
        series = xp.zeros_like(z)
        for k in range(len(BERNOULLI), 0, -1):
            series = series * inverse_square + BERNOULLI[k - 1] / (2 * k)
        positive = xp.log(z) - 0.5 / z - series * inverse_square - reciprocals
        nearest = x - xp.round(x)
        reflected = positive - math.pi / xp.tan(math.pi * nearest)
        result = xp.where(negative, xp.where(nearest == 0, xp.nan, reflected), positive)
        return xp.where(x == 0, xp.copysign(xp.inf, -x), result)  # -inf at +0, +inf at -0 (the limits from each side)


@in_float64
def polygamma_array(n, x):
    """ψ⁽ⁿ⁾(x), the n-th derivative of ψ: for n >= 1,
    ψ⁽ⁿ⁾(x) = (-1)^(n+1) n! Σₖ 1/(x + k)^(n+1), summed term by term until x + k >= 10 + 2n, the rest
    by its asymptotic series (-1)^(n+1) [(n-1)!/z^n + n!/(2 z^(n+1)) + Σₖ B₂ₖ (2k+n-1)!/((2k)! z^(2k+n))]."""
    if n == 0:
        return digamma_array(x)
    with ignoring_float_errors():
        z, partial_sum = _shifted_up(x, lambda total, term: total + term ** -(n + 1.0), 0.0, ASYMPTOTIC_FROM + 2 * n)
        inverse, inverse_square = 1 / z, 1 / (z * z)
        series = xp.zeros_like(z)
        for k in range(len(BERNOULLI), 0, -1):
            series = series * inverse_square + BERNOULLI[k - 1] * math.factorial(2 * k + n - 1) / math.factorial(2 * k)
        tail = inverse ** n * (math.factorial(n - 1) + math.factorial(n) * 0.5 * inverse + series * inverse_square)
        sign = 1.0 if n % 2 else -1.0
        result = sign * (math.factorial(n) * partial_sum + tail)
        # At the infinities, PyTorch's kernels: trigamma is 0 at +inf and nan at -inf (its reflection
        # takes sin(-inf)); for n >= 2, n! ζ(n + 1, x) is nan at +inf (inf · 0 in its Euler-Maclaurin
        # terms) and a pole at -inf.
        if n == 1:
            return xp.where(x == -xp.inf, xp.nan, result)
        return xp.where(xp.isinf(x), xp.where(x > 0, xp.nan, sign * xp.inf), result)


def _shifted_up(z, accumulate, start, until=ASYMPTOTIC_FROM):
    """z moved up by whole steps to at least ``until``, and ``accumulate`` folded over the values
    it passed (z, z + 1, ...): (the shifted z, the folded total). Infinite and nan z stay put."""
    total = xp.zeros_like(z) + start
    finite = z[xp.isfinite(z)]
    steps = int(min(MAX_SHIFTS, max(0.0, math.ceil(until - float(finite.min()))))) if finite.size else 0
    for _ in range(steps):
        below = z < until
        total = xp.where(below, accumulate(total, z), total)
        z = xp.where(below, z + 1, z)
    return z, total


def _sin_pi(x):
    """sin πx, exactly 0 at the integers (π x rounds, so sin(π x) would not be)."""
    nearest_even = 2 * xp.round(x / 2)
    return xp.where(x == xp.floor(x), 0.0, xp.sin(math.pi * (x - nearest_even)))


@in_float64
def bessel_i_array(order, x, scaled=False):
    """Iᵥ(x), the modified Bessel function of the first kind, for order 0 or 1:
    Σₖ (x/2)^(2k+v) / (k! (k+v)!) for |x| <= 30, else e^|x| / √(2π|x|) Σₖ aₖ / |x|^k with
    aₖ = Πⱼ₌₁ᵏ ((2j - 1)² - 4v²) / (k! 8^k). I₀ is even, I₁ odd. With ``scaled``, e^(-|x|) Iᵥ(x)
    (PyTorch's i0e, i1e), finite for every finite x."""
    with ignoring_float_errors():
        magnitude = xp.abs(x)
        half_square = (magnitude / 2) ** 2
        term = (magnitude / 2) ** order
        power_series = term
        for k in range(1, 60):  # at |x| = 30 the terms fall below 1e-25 of the sum by k = 55
            term = term * half_square / (k * (k + order))
            power_series = power_series + term
        large = xp.maximum(magnitude, 30.0)
        coefficient, asymptotic = 1.0, xp.ones_like(large)
        for k in range(1, 20):
            coefficient *= -(4 * order * order - (2 * k - 1) ** 2) / (k * 8)
            asymptotic = asymptotic + coefficient / large ** k
        growth = 1.0 if scaled else xp.exp(large)
        asymptotic = growth / xp.sqrt(2 * math.pi * large) * asymptotic
        if scaled:
            power_series = power_series * xp.exp(-xp.minimum(magnitude, 30.0))
        result = xp.where(magnitude <= 30, power_series, asymptotic)  # nan at ±inf (inf / inf), as PyTorch gives
        return xp.where(x < 0, -result, result) if order % 2 else result


# Past this many terms the series and the continued fraction of the incomplete gamma function stop
# (they converge to 1e-16 within a few hundred for a up to about 10^5).
MOST_TERMS = 100_000
TINY = 1e-300  # keeps the continued fraction's denominators away from 0 (Lentz's method)


def regularized_gamma_arrays(a, x):
    """(P(a, x), Q(a, x)): the regularized incomplete gamma functions, in float64,

        P(a, x) = γ(a, x) / Γ(a) = 1/Γ(a) ∫₀ˣ tᵃ⁻¹ e⁻ᵗ dt,    Q(a, x) = 1 - P(a, x),

    for a, x >= 0 (nan elsewhere). Where x < a + 1, P from its power series
    P = xᵃ e⁻ˣ / Γ(a + 1) Σₙ xⁿ / ((a + 1) ... (a + n)); elsewhere Q from its continued fraction
    Q = xᵃ e⁻ˣ / Γ(a) · 1/(x + 1 - a - 1·(1 - a)/(x + 3 - a - 2·(2 - a)/(x + 5 - a - ...))) (Numerical
    Recipes, 6.2), each where it converges fast, the other as 1 minus it. As PyTorch:
    P(0, x > 0) = 1, P(a, 0) = 0, P(a, inf) = 1, P(inf, x) = 0.
    """
    a, x = xp.broadcast_arrays(a.astype(xp.float64), x.astype(xp.float64))
    with ignoring_float_errors():
        regular = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
        safe_a, safe_x = xp.where(regular, a, 1.0), xp.where(regular, x, 1.0)
        log_front = safe_a * xp.log(safe_x) - safe_x - lgamma_array(safe_a)
        by_series = safe_x < safe_a + 1
        term = total = 1 / safe_a
        denominator = safe_a
        for _ in range(MOST_TERMS):
            denominator = denominator + 1
            term = term * safe_x / denominator
            total = total + term
            if not (xp.abs(term) > xp.abs(total) * 1e-17)[by_series].any():
                break
        lower = total * xp.exp(log_front)
        b = safe_x + 1 - safe_a
        c, d = xp.full_like(b, 1 / TINY), 1 / b
        fraction = d
        for step in range(1, MOST_TERMS):
            numerator = -step * (step - safe_a)
            b = b + 2
            d = numerator * d + b
            d = 1 / xp.where(xp.abs(d) < TINY, TINY, d)
            c = b + numerator / c
            c = xp.where(xp.abs(c) < TINY, TINY, c)
            change = d * c
            fraction = fraction * change
            if not (xp.abs(change - 1) > 1e-15)[~by_series].any():  # 1e-16 is below rounding: it would never stop
                break
        upper = fraction * xp.exp(log_front)
        p = xp.where(by_series, lower, 1 - upper)
        p = xp.where(regular, p, _regularized_gamma_at_limits(a, x))
        return p, xp.where(regular & ~by_series, upper, 1 - p)


def _regularized_gamma_at_limits(a, x):
    """P(a, x) where a or x is 0, infinite, negative or nan (PyTorch's values)."""
    limits = xp.full_like(a, xp.nan)
    limits = xp.where((x == 0) & (a > 0), 0.0, limits)
    limits = xp.where((a == 0) & (x > 0), 1.0, limits)
    limits = xp.where(xp.isinf(x) & (x > 0) & (a > 0) & xp.isfinite(a), 1.0, limits)
    limits = xp.where(xp.isinf(a) & (a > 0) & (x >= 0) & xp.isfinite(x), 0.0, limits)
    return limits


# ----------------------------------------------------------------------------- operations
class Erfc(SpecialOp):
    formula = "erfc x = 1 - erf x"
    derivatives = ("-2/√π e^(-x²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erfc_array(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with ignoring_float_errors():  # x² overflows to inf for huge |x|, and e^-inf = 0
            return -grad_output * ctx.xp.exp(-x * x) * TWO_OVER_SQRT_PI


class Erfinv(SpecialOp):
    formula = "erf⁻¹ x"
    derivatives = ("√π/2 e^(out²)",)

    @staticmethod
    def forward(ctx, x):
        result = erfinv_array(as_floating(x))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        with ignoring_float_errors():
            return grad_output * ctx.xp.exp(result * result) * SQRT_PI_OVER_2


class Lgamma(SpecialOp):
    formula = "ln |Γ(x)|"
    derivatives = ("ψ(x) (digamma)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return lgamma_array(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * ctx.xp.digamma(x)


class Digamma(SpecialOp):
    formula = "ψ(x) = d/dx ln Γ(x)"
    derivatives = ("ψ⁽¹⁾(x) (polygamma(1, x))",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return digamma_array(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * ctx.xp.polygamma(1, x)


class Polygamma(SpecialOp):
    formula = "ψ⁽ⁿ⁾(x) = dⁿ/dxⁿ ψ(x)"
    derivatives = (None, "ψ⁽ⁿ⁺¹⁾(x)")

    @staticmethod
    def forward(ctx, n, x):
        ctx.n = n
        ctx.save_for_backward(x)
        return polygamma_array(n, as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return None, grad_output * ctx.xp.polygamma(ctx.n + 1, x)


class I0(SpecialOp):
    formula = "I₀(x) = Σₖ (x/2)^(2k) / (k!)²"
    derivatives = ("I₁(x)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return bessel_i_array(0, as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * ctx.xp.i1(x)


class I1(SpecialOp):
    """The derivative of i0 (PyTorch's ``special.i1``), here so that i0 differentiates twice."""

    node_name = "SpecialI1Backward0"
    formula = "I₁(x) = Σₖ (x/2)^(2k+1) / (k! (k+1)!)"
    derivatives = ("I₀(x) - I₁(x)/x (½ at x = 0)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return bessel_i_array(1, as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        at_zero = x == 0
        safe = ctx.xp.where(at_zero, 1.0, x)
        return grad_output * ctx.xp.where(at_zero, 0.5, ctx.xp.i0(x) - ctx.xp.i1(safe) / safe)


class Igamma(SpecialOp):
    """P(a, x), or with ``upper`` Q(a, x) = 1 - P(a, x), whose derivative is P's negated."""

    formula = "P(a, x) = 1/Γ(a) ∫₀ˣ tᵃ⁻¹ e⁻ᵗ dt"
    derivatives = ("not implemented, as in PyTorch", "xᵃ⁻¹ e⁻ˣ / Γ(a)", None)

    @staticmethod
    def forward(ctx, a, x, upper):
        ctx.upper = upper
        ctx.save_for_backward(a, x)
        return _regularized(a, x)[1 if upper else 0]

    @staticmethod
    def backward(ctx, grad_output):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            operation = "igammac" if ctx.upper else "igamma"
            raise NotImplementedError(
                f"the derivative for '{operation}: input' is not implemented (PyTorch has none either); "
                f"only the second argument, x, gets a gradient: detach a first"
            )
        density = _density(ctx.xp, a, x)
        return None, -grad_output * density if ctx.upper else grad_output * density, None


class Igammac(Igamma):
    formula = "Q(a, x) = 1 - P(a, x) = 1/Γ(a) ∫ₓ^∞ tᵃ⁻¹ e⁻ᵗ dt"
    derivatives = ("not implemented, as in PyTorch", "-xᵃ⁻¹ e⁻ˣ / Γ(a)", None)


def _regularized(a, x):
    """(P, Q) in the operands' common dtype."""
    dtype = xp.result_type(a, x)
    return tuple(part.astype(dtype, copy=False) for part in regularized_gamma_arrays(a, x))


def _density(functions, a, x):
    """d P(a, x) / dx = xᵃ⁻¹ e⁻ˣ / Γ(a), the gamma distribution's density, with ``functions``."""
    return functions.exp((a - 1) * functions.log(x) - x - functions.lgamma(a))


on_arrays.own.update(digamma=digamma_array, polygamma=polygamma_array, i0=lambda x: bessel_i_array(0, x),
                     i1=lambda x: bessel_i_array(1, x), lgamma=lgamma_array)
on_tensors.own.update(i1=I1.apply)


# ----------------------------------------------------------------------------- public functions
@public(inplace=True, out=True)
def erfc(input):
    """The complementary error function 1 - erf x, accurate in the tails (erfc 10 = 2.1e-45)."""
    return Erfc.apply(input)


@public(inplace=True, out=True)
def erfinv(input):
    """The inverse of erf: the x in (-inf, inf) with erf x = input, for input in [-1, 1]."""
    return Erfinv.apply(input)


@public(inplace=True, out=True)
def lgamma(input):
    """ln |Γ(input)|, the log of the gamma function's magnitude (Γ(n) = (n - 1)! for whole n)."""
    return Lgamma.apply(input)


@public(inplace=True, out=True)
def digamma(input):
    """ψ(input) = Γ'(input) / Γ(input), the derivative of lgamma."""
    return Digamma.apply(input)


def _polygamma_method(self, n):
    """``x.polygamma(n)``: ψ⁽ⁿ⁾(x), the n-th derivative of digamma (the tensor comes first here)."""
    return polygamma(n, self)


@public(inplace=True, out=True, method=_polygamma_method)
def polygamma(n, input):
    """ψ⁽ⁿ⁾(input), the n-th derivative of digamma (n = 0 is digamma itself)."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n (got n={n}); n counts derivatives: 0, 1, 2, ...")
    return Polygamma.apply(n, input)


@public(inplace=True, out=True)
def mvlgamma(input, p):
    """The multivariate log-gamma function of dimension p:
    ln Γₚ(x) = p (p - 1)/4 ln π + Σᵢ₌₀^(p-1) ln Γ(x - i/2). ``input`` keeps its shape."""
    if p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1, got p={p}")
    total = lgamma(input)
    for i in range(1, p):
        total = total + lgamma(input - i / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)


@public(inplace=True, out=True)
def i0(input):
    """I₀(input), the modified Bessel function of the first kind of order 0: Σₖ (x/2)^(2k) / (k!)²."""
    return I0.apply(input)


def _gamma_operands(input, other, operation):
    """Both as tensors of one floating dtype (integer tensors promoted as PyTorch does)."""
    for position, (name, value) in enumerate((("input", input), ("other", other)), start=1):
        if not isinstance(value, Tensor):
            raise TypeError(f"{operation}(): argument '{name}' (position {position}) must be Tensor, not {type(value).__name__}")
    input, other = binary_operands(input, other)
    if input._array.dtype.kind != "f":
        raise NotImplementedError(f'"{operation}_cpu" not implemented for {input._array.dtype.name} tensors; convert them first, e.g. a.float()')
    return input, other


@public(inplace=True, out=True)
def igamma(input, other):
    """The regularized lower incomplete gamma function P(a, x) = γ(a, x) / Γ(a) of a = input and
    x = other (broadcast): the probability that a Gamma(a, 1) variable is at most x. The gradient
    is taken with respect to x only (xᵃ⁻¹ e⁻ˣ / Γ(a)), as in PyTorch."""
    return broadcasting(Igamma, *_gamma_operands(input, other, "igamma"), False, operation="igamma")


@public(inplace=True, out=True)
def igammac(input, other):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x) of a = input and
    x = other (broadcast), accurate where it is tiny. The gradient is taken with respect to x only."""
    return broadcasting(Igammac, *_gamma_operands(input, other, "igammac"), True, operation="igammac")
