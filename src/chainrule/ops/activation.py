"""Activation functions: the nonlinearities between layers, and softmax / log_softmax.

Each is one ``Op`` whose backward multiplies the arriving gradient by the activation's slope at x,
often read from the saved output (sigmoid' = out (1 - out), tanh' = 1 - out²), so that a recorded
backward differentiates again. The formulas are arranged so that no input, up to the largest
floats (±3e38), overflows, warns or produces nan where PyTorch gives a number.
"""
import math
import operator

from chainrule.backend import at_least_zero, half_in_float32, ignoring_float_errors, ndarray, xp
from chainrule.caller_warnings import warn_at_caller
from chainrule.dtypes import dtype_name, scalar_type_name
from chainrule.ops.complex_refusals import REFUSED_ON_COMPLEX, complex_refused
from chainrule.ops.op import Op, Pointwise
from chainrule.ops.operands import as_floating
from chainrule.ops.elementwise import above, connected_to, not_at_least, selected
from chainrule.ops.half_precision import for_input
from chainrule.ops.inplace import write_in_place
from chainrule.ops.reduce import max_shift, reduction_axes, require_floating
from chainrule.ops import registry
from chainrule.ops.registry import in_place_form, public
from chainrule.random import drawn
from chainrule.sampling_algorithms import rrelu_slopes
from chainrule.tensor import check_dim
from chainrule.utils.operation_mode import operands_in_modes

SQRT_HALF = math.sqrt(0.5)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
ONE_OVER_SQRT_TWO_PI = 1.0 / math.sqrt(2.0 * math.pi)
GELU_TANH_SCALE = math.sqrt(2.0 / math.pi)
GELU_TANH_CUBIC = 0.044715
#: PyTorch's hardsigmoid backward multiplies by 1.0f / 6.0f, a float32 constant, for float64 too.
ONE_SIXTH_IN_FLOAT32 = float(xp.float32(1) / xp.float32(6))


# ----------------------------------------------------------------------------- smooth activations
class Sigmoid(Pointwise):
    half_backward_rounds_each_step = True  # PyTorch's sigmoid_backward kernel computes Half in Half (half_precision.py)
    formula = "σ(x) = 1 / (1 + e^-x)"
    derivatives = ("out (1 - out)",)

    @staticmethod
    def forward(ctx, x):
        result = sigmoid_array(as_floating(x))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        # PyTorch's order, so the same roundings (conjugated for complex numbers; reals unchanged)
        return grad_output * ctx.xp.conj(1.0 - result) * ctx.xp.conj(result)


class Tanh(Pointwise):
    formula = "tanh x = (e^x - e^-x) / (e^x + e^-x)"
    derivatives = ("1 - out²",)

    @staticmethod
    def forward(ctx, x):
        result = xp.tanh(as_floating(x))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * ctx.xp.conj(ctx.xp.one_minus_square(result))


def one_minus_square(x):
    """1 - x² of a tensor: what ``ctx.xp.one_minus_square`` computes when a backward is recorded
    (the plain backward's, on arrays, is ``backend.ArrayFunctions.one_minus_square``). Rounded
    once, as that one: formed in float64 for narrower floats, so that a recorded backward
    (create_graph, jacrev, hessian) gives the plain backward's bits, as PyTorch's does."""
    if x._array.dtype.itemsize >= 8:
        return 1.0 - x * x
    wide = x.double()
    return (1.0 - wide * wide).to(x.dtype)


registry.functions.one_minus_square = one_minus_square


class ELU(Pointwise):
    """The ELU family as PyTorch computes it, with a scale on the output and on the exponent's input:
    elu is scale = input_scale = 1, selu PyTorch's fixed alpha and scale, celu input_scale = 1 / alpha
    (see CELU). The slope is computed from x, as PyTorch does: from the output it would be
    input_scale (out + scale alpha), which loses digits to cancellation where out is near -scale alpha."""

    node_name = "EluBackward0"
    formula = "scale x where x > 0, else scale alpha (e^(input_scale x) - 1)"
    derivatives = ("scale where x > 0, else input_scale scale alpha e^(input_scale x)", None, None, None)

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.alpha, ctx.scale, ctx.input_scale, ctx.positive = alpha, scale, input_scale, x > 0
        ctx.negative = not_at_least(x, 0)
        ctx.save_for_backward(x)
        return elu_array(x, ctx.negative, alpha, scale, input_scale)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        # x where x < 0 (or nan, whose slope is nan as in PyTorch's vectorized kernel), else 0: a
        # selection, so that the slope's own slope is 0 at x = 0, as PyTorch's
        negative_x = ctx.xp.where(ctx.negative, x, 0.0)
        negative_slope = (ctx.input_scale * ctx.scale * ctx.alpha) * ctx.xp.exp(ctx.input_scale * negative_x)
        return grad_output * ctx.xp.where(ctx.positive, ctx.scale, negative_slope), None, None, None


class CELU(ELU):
    """ELU with the exponent's input divided by alpha, so that the slope is continuous at 0 for any alpha."""

    node_name = "CeluBackward0"
    formula = "max(0, x) + min(0, alpha (e^(x / alpha) - 1))"
    derivatives = ("1 where x > 0, else e^(x / alpha)", None, None, None)


class ELUInPlace(ELU):
    """``elu_`` (and ``selu_``): PyTorch's node of the in-place form keeps the result, not a copy of
    x, and reads the slope from it: scale where out > 0, else input_scale (out + scale alpha),
    which needs alpha ≥ 0 (backward refuses the others)."""

    node_name = "EluBackward1"
    derivatives = ("scale where out > 0, else input_scale (out + scale alpha)", None, None, None)

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.alpha, ctx.scale, ctx.input_scale = alpha, scale, input_scale
        result = elu_array(x, not_at_least(x, 0), alpha, scale, input_scale)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.alpha < 0:
            raise RuntimeError(
                "In-place elu backward calculation is triggered with a negative slope which is not supported. "
                "This is caused by calling in-place forward function with a negative slope, please call "
                f"out-of-place version instead (alpha={ctx.alpha})."
            )
        (result,) = ctx.saved_tensors
        negative = grad_output * ctx.input_scale * (result + ctx.scale * ctx.alpha)  # PyTorch's order of products
        return ctx.xp.where(result > 0, grad_output * ctx.scale, negative), None, None, None


class CELUInPlace(ELUInPlace):
    """``celu_``: as ``elu_``, with CELU's input scale 1 / alpha."""

    node_name = "CeluBackward1"
    formula = CELU.formula
    derivatives = ("1 where out > 0, else (out + alpha) / alpha", None, None, None)


def elu_array(x, negative, alpha, scale, input_scale):
    """The ELU family on an array: scale alpha (e^(input_scale x) - 1) where ``negative`` (x < 0, or
    nan), else scale x (so that -0.0 stays -0.0, as in PyTorch)."""
    with ignoring_float_errors():  # scale x overflows to inf for the largest floats, as in PyTorch
        exponential_part = (scale * alpha) * xp.expm1(input_scale * xp.minimum(x, 0))
        return xp.where(negative, exponential_part, scale * x)


class GELU(Pointwise):
    """x times the probability that a standard normal is below x; ``approximate='tanh'`` uses
    Φ(x) ≈ (1 + tanh u) / 2 with u = √(2/π) (x + 0.044715 x³), whose slope is
    (1 + tanh u) / 2 + x (1 - tanh² u) √(2/π) (1 + 3 · 0.044715 x²) / 2."""

    node_name = "GeluBackward0"
    formula = "x Φ(x),  Φ(x) = (1 + erf(x / √2)) / 2"
    derivatives = ("Φ(x) + x φ(x),  φ(x) = e^(-x²/2) / √(2π)", None)

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        with ignoring_float_errors():  # x³ overflows to inf for |x| > 5e12 in float32: tanh(±inf) = ±1
            if approximate == "tanh":
                return 0.5 * x * (1 + xp.tanh(GELU_TANH_SCALE * (x + GELU_TANH_CUBIC * x**3)))
            return 0.5 * x * (1 + erf_array(x * SQRT_HALF))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with ignoring_float_errors():  # x² and x³ overflow harmlessly for huge |x|
            if ctx.approximate == "tanh":
                tanh_u = ctx.xp.tanh(GELU_TANH_SCALE * (x + GELU_TANH_CUBIC * x**3))
                du_dx = GELU_TANH_SCALE * (1.0 + 3 * GELU_TANH_CUBIC * x * x)
                slope = 0.5 * (1.0 + tanh_u) + 0.5 * x * (1.0 - tanh_u * tanh_u) * du_dx
            else:
                cdf = 0.5 * (1.0 + special(ctx.xp, "erf")(x * SQRT_HALF))
                slope = cdf + x * ctx.xp.exp(-0.5 * x * x) * ONE_OVER_SQRT_TWO_PI
        return grad_output * slope, None


class SiLU(Pointwise):
    """Also called swish."""

    node_name = "SiluBackward0"
    formula = "x σ(x)"
    derivatives = ("σ(x) (1 + x (1 - σ(x)))",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ignoring_float_errors():  # e^-x overflows to inf for x below about -88 (float32): x / inf = -0.0
            return x / (1 + xp.exp(-x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        sigmoid_x = special(ctx.xp, "sigmoid")(x)
        return grad_output * sigmoid_x * (1.0 + x * (1.0 - sigmoid_x))


class Softplus(Pointwise):
    """Where beta x > threshold the output is x itself (the two agree to float precision there)."""

    formula = "ln(1 + e^(beta x)) / beta"
    derivatives = ("σ(beta x), and 1 where beta x > threshold", None, None)

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        with ignoring_float_errors():  # beta x may overflow to ±inf, which the formula handles
            scaled = x * beta
            ctx.beta, ctx.linear = beta, scaled > threshold
            return xp.where(ctx.linear, x, log_one_plus_exp(xp, scaled) / beta)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * ctx.xp.where(ctx.linear, 1.0, special(ctx.xp, "sigmoid")(x * ctx.beta)), None, None


class LogSigmoid(Pointwise):
    """Computed as min(x, 0) - ln(1 + e^-|x|), whose exponent is never above 0."""

    formula = "ln σ(x) = -ln(1 + e^-x)"
    derivatives = ("σ(-x) = 1 - σ(x)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        # σ(-x) from e^-|x| ≤ 1, as PyTorch's kernel: subnormal, not 0, for x above about 88 (float32).
        # A recorded backward writes -|x| as x or -x, whose slope at 0 is -1 (abs has 0 there), for
        # PyTorch's second derivative -σ(x) σ(-x) = -1/4 at 0; on arrays abs is three times faster.
        negative = x < 0
        minus_magnitude = -abs(x) if isinstance(x, ndarray) else ctx.xp.where(negative, x, -x)
        small_exp = ctx.xp.exp(minus_magnitude)
        share = small_exp / (1 + small_exp)
        return grad_output * ctx.xp.where(negative, 1 - share, share)


class Mish(Pointwise):
    """x tanh(softplus(x)); softplus is computed without overflow (``log_one_plus_exp``)."""

    formula = "x tanh(ln(1 + e^x))"
    derivatives = ("tanh(sp) + x σ(x) (1 - tanh²(sp)),  sp = ln(1 + e^x)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ignoring_float_errors():  # -3e38 · tanh(0) is 0; inf · 0 only for inf itself
            return x * xp.tanh(log_one_plus_exp(xp, x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        tanh_softplus = ctx.xp.tanh(log_one_plus_exp(ctx.xp, x))
        slope = tanh_softplus + x * special(ctx.xp, "sigmoid")(x) * (1.0 - tanh_softplus * tanh_softplus)
        return grad_output * slope


class Hardswish(Pointwise):
    """x relu6(x + 3) / 6: 0 up to -3, x (x + 3) / 6 between, x from 3. At the joins PyTorch's slope
    is that of the outer piece: 0 at -3, 1 at 3; a nan falls in the middle piece (slope nan), as
    in PyTorch's vectorized kernel."""

    formula = "x min(max(x + 3, 0), 6) / 6"
    derivatives = ("0 where x ≤ -3, x / 3 + 1/2 where -3 < x < 3, 1 where x ≥ 3",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.not_lower, ctx.upper = above(x, -3), x >= 3
        with ignoring_float_errors():  # -inf · 0 = nan, as in PyTorch
            return x * (xp.clip(x + 3, 0, 6) / 6)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return selected(ctx.xp, ctx.not_lower, grad_output * ctx.xp.where(ctx.upper, 1.0, x / 3 + 0.5))


class Erf(Pointwise):
    formula = "erf x = 2/√π ∫₀ˣ e^(-t²) dt"
    derivatives = ("2/√π e^(-x²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(as_floating(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with ignoring_float_errors():  # x² overflows to inf for huge |x|, and e^-inf = 0
            return grad_output * ctx.xp.exp(-x * x) * TWO_OVER_SQRT_PI


def sigmoid_array(array):
    """σ(x) = 1 / (1 + e^-x) on an array, as PyTorch computes it: for x below about -88 (float32)
    e^-x overflows to inf and σ is 0, not the subnormal e^x."""
    with ignoring_float_errors():
        return 1 / (1 + xp.exp(-array))


def log_one_plus_exp(xp, z):
    """ln(1 + e^z) (softplus) as max(z, 0) + ln(1 + e^-|z|): the exponent is never above 0. Written
    with functions NumPy and chainrule share, so ``xp`` may be either (and its slope at z = 0 is
    ½ + 0 = σ(0), as maximum shares a tie evenly)."""
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))


def special(xp, name):
    """The function ``name`` (erf or sigmoid) for a backward formula: NumPy has neither, so in a
    plain backward (``xp`` is the array library) it is the array form of this file; in a recorded
    one ``xp`` holds chainrule's own, which is recorded and differentiates again."""
    function = getattr(xp, name, None)
    return function if function is not None else ARRAY_FORMS[name]


# W. J. Cody's coefficients (SPECFUN's CALERF): numerators end with the leading coefficient, and
# each denominator is monic (its leading coefficient 1 is left out).
_ERF_SMALL = (
    (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
     1.85777706184603153e-1),
    (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03),
)
_ERFC_MIDDLE = (
    (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
     8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
     2.15311535474403846e-8),
    (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
     3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03),
)
_ERFC_LARGE = (
    (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
     6.58749161529837803e-4, 1.63153871373020978e-2),
    (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
     2.33520497626869185e-3),
)


@half_in_float32  # Cody's polynomials overflow float16 past |x| of 2; PyTorch computes half in float32 too
def erf_array(array):
    """erf elementwise, within about 2e-16 of the true value in float64 (NumPy has no erf).

    W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969),
    631-637: one rational function per range of |x|,

    - |x| <= 0.46875:       erf(x) = x P(x^2) / Q(x^2)
    - 0.46875 < |x| <= 4:   erfc(|x|) = e^(-x^2) P(|x|) / Q(|x|)
    - |x| > 4:              erfc(|x|) = e^(-x^2) / |x| (1 / sqrt(pi) - z P(z) / Q(z)),  z = 1 / x^2

    and erf(x) = sign(x) (1 - erfc(|x|)) beyond the first range. e^(-x^2) is computed as
    e^(-r^2) e^(-(|x| - r)(|x| + r)) with r = |x| rounded down to a multiple of 1/16, which keeps
    the rounding error of the large exponent out of the result. Every range is evaluated on the
    whole array and the right one picked per element, so the others may overflow harmlessly.
    """
    with ignoring_float_errors():
        small = array * _cody_ratio(array * array, *_ERF_SMALL)
        magnitude = xp.abs(array)
        return xp.where(magnitude <= 0.46875, small, xp.sign(array) * (1 - erfc_of_magnitude(magnitude)))


def erfc_of_magnitude(magnitude):
    """erfc(|x|) = 1 - erf(|x|) for |x| > 0.46875 (Cody's second and third ranges, see erf_array),
    accurate down to the smallest doubles, where 1 - erf would round to 0."""
    with ignoring_float_errors():
        # erfc(30) is below the smallest double: clipping there keeps |x| = inf from giving inf - inf.
        magnitude = xp.minimum(magnitude, 30)
        inverse_square = 1 / (magnitude * magnitude)
        large = (1 / math.sqrt(math.pi) - inverse_square * _cody_ratio(inverse_square, *_ERFC_LARGE)) / magnitude
        ratio = xp.where(magnitude <= 4, _cody_ratio(magnitude, *_ERFC_MIDDLE), large)
        rounded = xp.trunc(magnitude * 16) / 16
        return xp.exp(-rounded * rounded) * xp.exp(-(magnitude - rounded) * (magnitude + rounded)) * ratio


def _cody_ratio(t, numerator, denominator):
    """numerator(t) / denominator(t) by Horner's rule, in the coefficient order of Cody's tables."""
    top, bottom = numerator[-1] * t, t
    for numerator_coefficient, denominator_coefficient in zip(numerator[:-2], denominator[:-1]):
        top = (top + numerator_coefficient) * t
        bottom = (bottom + denominator_coefficient) * t
    return (top + numerator[-2]) / (bottom + denominator[-1])


# ----------------------------------------------------------------------------- piecewise linear
# The activations made of straight pieces (relu, hardtanh...) find in backward the piece each
# element fell on, from what forward saved: the input or the result, whichever PyTorch's node keeps
# (leaky_relu keeps the slopes it found in forward, and saves that tensor only to check it). An in-place change to that tensor before backward then raises PyTorch's error ("... is at
# version 1; expected version 0"), where a mask kept aside would give a gradient for values no
# longer there. (An in-place form computes on a copy of its input, which stays unchanged.)
class ReLU(Pointwise):
    node_name = "ReluBackward0"
    formula = "max(x, 0)"
    derivatives = ("1 where x > 0, else 0",)

    @staticmethod
    def forward(ctx, x):
        result = at_least_zero(x)  # x on a tie, as PyTorch's: relu(-0.0) is -0.0
        ctx.save_for_backward(result)  # as PyTorch's ReluBackward0: out > 0 exactly where x > 0
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        # PyTorch's test is out ≤ 0 ? 0 : grad, so a nan passes its gradient; out is ≥ 0 or nan, where
        # that is out != 0, one comparison. A selection: inf · 0 gives 0, not nan.
        return selected(ctx.xp, result != 0, grad_output, result)


class LeakyReLU(Pointwise):
    node_name = "LeakyReluBackward0"
    formula = "x where x > 0, else negative_slope · x"
    derivatives = ("1 where x > 0, else negative_slope", None)

    @staticmethod
    def forward(ctx, x, negative_slope):
        # rrelu's slopes drawn in training (an array) go where x ≤ 0, PyTorch's test there, so a nan
        # keeps slope 1; leaky_relu's test is x > 0, which gives a nan negative_slope.
        positive = above(x, 0) if isinstance(negative_slope, ndarray) else x > 0
        ctx.slope = xp.where(positive, 1.0, negative_slope).astype(x.dtype)
        ctx.save_for_backward(x)
        return x * ctx.slope

    @staticmethod
    def backward(ctx, grad_output):
        # The slopes were found in forward (one pass over x less here); what PyTorch's node keeps is
        # saved all the same, and reading it raises if it was changed in place since.
        (source,) = ctx.saved_tensors
        return connected_to(ctx.xp, grad_output * ctx.slope, source), None


class LeakyReLUInPlace(LeakyReLU):
    """``leaky_relu_``: PyTorch's node of the in-place form keeps the result, not a copy of x, and
    reads the sign of x from it, which a negative slope would flip: its backward refuses a
    negative_slope < 0, and so does this one (whose slopes were kept from forward)."""

    node_name = "LeakyReluBackward1"

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.negative_slope = negative_slope
        result = LeakyReLU.forward(ctx, x, negative_slope)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        slopes = xp.asarray(ctx.negative_slope)  # a number, or rrelu's slopes drawn in training
        if (slopes < 0).any():
            shown = ctx.negative_slope if slopes.ndim == 0 else f"slopes from {slopes.min()}"
            raise RuntimeError(
                "In-place leakyReLu backward calculation is triggered with a negative slope which is not supported. "
                "This is caused by calling in-place forward function with a negative slope, please call out-of-place "
                f"version instead (negative_slope={shown})."
            )
        return LeakyReLU.backward(ctx, grad_output)


class Hardtanh(Pointwise):
    formula = "min(max(x, min_val), max_val)"
    derivatives = ("1 where min_val < x < max_val, else 0", None, None)

    @staticmethod
    def forward(ctx, x, min_val, max_val):
        ctx.save_for_backward(x)
        ctx.bounds = (min_val, max_val)
        return xp.clip(x, min_val, max_val).astype(x.dtype)  # integers stay integers, as in PyTorch

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        min_val, max_val = ctx.bounds
        return selected(ctx.xp, (x > min_val) & (x < max_val), grad_output, x), None, None


class Hardsigmoid(Pointwise):
    formula = "min(max(x + 3, 0), 6) / 6"
    derivatives = ("1/6 where -3 < x < 3, else 0",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return selected(ctx.xp, (x > -3) & (x < 3), grad_output * ONE_SIXTH_IN_FLOAT32)


class Threshold(Pointwise):
    """PyTorch's test is x ≤ threshold, so a nan passes through with its gradient."""

    formula = "value where x ≤ threshold, else x"
    derivatives = ("0 where x ≤ threshold, else 1", None, None)

    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        return xp.where(x <= threshold, value, x).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return selected(ctx.xp, above(x, ctx.threshold), grad_output, x), None, None


class Shrink(Pointwise):
    """hardshrink and softshrink: both pass the gradient where |x| > lambd and stop it elsewhere."""

    derivatives = ("1 where |x| > lambd, else 0", None)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return selected(ctx.xp, abs(x) > ctx.lambd, grad_output, x), None


class Hardshrink(Shrink):
    """PyTorch's test is -lambd ≤ x ≤ lambd, so a nan passes through."""

    formula = "0 where |x| ≤ lambd, else x"

    @staticmethod
    def forward(ctx, x, lambd):
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        return xp.where(xp.abs(x) <= lambd, 0, x)


class Softshrink(Shrink):
    """x moved towards 0 by lambd, and 0 within lambd of 0: x - clip(x, -lambd, lambd)."""

    formula = "x - lambd where x > lambd, x + lambd where x < -lambd, else 0"

    @staticmethod
    def forward(ctx, x, lambd):
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        return x - xp.clip(x, -lambd, lambd)


class RReLU(LeakyReLU):
    """leaky_relu with a random negative slope: one slope per element drawn from U(lower, upper) in
    training, their mean (lower + upper) / 2 in evaluation (``negative_slope`` is then an array of
    slopes or that number)."""

    node_name = "RreluWithNoiseBackward0"
    formula = "x where x > 0, else a x,  a ~ U(lower, upper) (training), (lower + upper) / 2 (evaluation)"
    derivatives = ("1 where x > 0, else a", None)


class RReLUInPlace(LeakyReLUInPlace):
    """``rrelu_``: as ``leaky_relu_``, the result kept and the slopes refused below 0."""

    node_name = "RreluWithNoiseBackward1"
    formula, derivatives = RReLU.formula, RReLU.derivatives


class PReLU(Pointwise):
    """leaky_relu with a learned slope ``weight``: one number, or one per channel (dim 1), shaped
    for broadcasting by ``view``. Its gradient is the arriving one times x where x ≤ 0, summed over
    everything but the channels."""

    node_name = "PreluKernelBackward0"
    formula = "x where x > 0, else weight · x  (weight per channel, dim 1)"
    derivatives = ("1 where x > 0, else weight", "Σ grad · x where x ≤ 0, over all but the channel dim", None)

    @staticmethod
    def forward(ctx, x, weight, view):
        ctx.save_for_backward(x, weight)
        ctx.positive, ctx.view = x > 0, view
        ctx.summed_axes = tuple(axis for axis in range(x.ndim) if axis != 1 or not view)  # view () for one weight
        return xp.where(ctx.positive, x, weight.reshape(view) * x)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_x = connected_to(ctx.xp, grad_output * ctx.xp.where(ctx.positive, 1.0, weight.reshape(ctx.view)), x)
        grad_weight = (grad_output * ctx.xp.where(ctx.positive, 0.0, x)).sum(axis=ctx.summed_axes)
        return grad_x, grad_weight.reshape(weight.shape), None


# ----------------------------------------------------------------------------- softmax
class Softmax(Op):
    """Computed from x - max(x) (``max_shift``), so that every exponent is at most 0 and nothing
    overflows. The gradient is the Jacobian diag(out) - out outᵀ applied to grad. float16 is
    computed in float32 and rounded once, forward and backward, as PyTorch does."""

    formula = "e^x / Σ e^x  (along dim)"
    derivatives = ("out (grad - Σ grad · out)", None)

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        result = softmax_array(x, axes)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return softmax_gradient(result, grad_output, ctx.axes), None


@half_in_float32
def softmax_array(x, axes):
    with ignoring_float_errors():  # x - max is -inf beyond the float range; a slice of -inf only: 0 / 0 = nan
        exponentials = xp.exp(x - max_shift(x, axes))
        return exponentials / exponentials.sum(axis=axes, keepdims=True)


@half_in_float32
def softmax_gradient(result, grad_output, axes):
    """out (grad - Σ grad · out) along ``axes``, on arrays or on tensors."""
    return result * (grad_output - (grad_output * result).sum(axis=axes, keepdims=True))


class LogSoftmax(Op):
    """Computed as (x - max) - ln Σ e^(x - max), so that 1000 and -1000 are fine. float16 is
    computed in float32 and rounded once, forward and backward, as PyTorch does."""

    formula = "x - ln Σ e^x  (along dim)"
    derivatives = ("grad - e^out Σ grad", None)

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        result = log_softmax_array(x, axes)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return log_softmax_gradient(result, grad_output, ctx.axes, ctx.xp), None


@half_in_float32
def log_softmax_array(x, axes):
    with ignoring_float_errors():  # x - max is -inf beyond the float range; a slice of -inf only: ln 0
        shifted = x - max_shift(x, axes)
        return shifted - xp.log(xp.exp(shifted).sum(axis=axes, keepdims=True))


@half_in_float32
def log_softmax_gradient(result, grad_output, axes, functions):
    """grad - e^out Σ grad along ``axes``, with ``functions`` (NumPy or chainrule)."""
    return grad_output - functions.exp(result) * grad_output.sum(axis=axes, keepdims=True)


class GLU(Op):
    """The gated linear unit: x split in two halves a and b along ``axis``, a gated by σ(b)."""

    node_name = "GluBackward0"
    formula = "a σ(b),  a, b = the halves of x along dim"
    derivatives = ("σ(b) grad for a, joined along dim with a σ(b) (1 - σ(b)) grad for b", None)

    @staticmethod
    def forward(ctx, x, axis):
        ctx.save_for_backward(x)
        ctx.axis, ctx.halves = axis, halves(axis, x.shape[axis] // 2)
        return x[ctx.halves[0]] * sigmoid_array(x[ctx.halves[1]])

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        first, gate = x[ctx.halves[0]], special(ctx.xp, "sigmoid")(x[ctx.halves[1]])
        grad_first = grad_output * gate
        # first · (1 - σ(b)) before the gradient: for a huge b it is huge · 0 = 0, never inf · 0
        return ctx.xp.concatenate([grad_first, grad_first * (first * (1.0 - gate))], ctx.axis), None


def halves(axis, half):
    """The index expressions of the first and the second half of ``axis`` (of length 2 · half)."""
    before = (slice(None),) * axis
    return before + (slice(0, half),), before + (slice(half, 2 * half),)


#: The array forms of the functions that ``special`` offers to backward formulas.
ARRAY_FORMS = {"erf": erf_array, "sigmoid": sigmoid_array}


# ----------------------------------------------------------------------------- public functions
@public(inplace=True, out=True)
def sigmoid(x):
    """1 / (1 + e^-x), elementwise; stable for any x."""
    return for_input(Sigmoid, x).apply(x)


@public(inplace=True, out=True)
def tanh(x):
    """tanh x = (eˣ - e⁻ˣ) / (eˣ + e⁻ˣ) elementwise, in (-1, 1);   d/dx = 1 - tanh² x."""
    return Tanh.apply(x)


@public(inplace=True)
def relu(x):
    """max(x, 0), elementwise."""
    refuse_bool_input(x, "Boolean inputs not supported for relu", "relu")
    return ReLU.apply(x)


@public
def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise."""
    require_float_input(x, "leaky_relu")
    return for_input(LeakyReLU, x).apply(x, negative_slope)


@public
def leaky_relu_(x, negative_slope=0.01):
    """leaky_relu written into x itself (its node keeps the result: negative_slope ≥ 0 only)."""
    require_float_input(x, "leaky_relu")
    return applied(LeakyReLU, x, True, negative_slope)


@public
def elu(x, alpha=1.0):
    """x for x > 0, alpha (e^x - 1) otherwise."""
    require_float_input(x, "elu")
    return for_input(ELU, x).apply(x, alpha, 1.0, 1.0)


@public
def elu_(x, alpha=1.0):
    """elu written into x itself (its node keeps the result: alpha ≥ 0 only)."""
    require_float_input(x, "elu")
    return applied(ELU, x, True, alpha, 1.0, 1.0)


@public
def gelu(x, approximate="none"):
    """x Phi(x) with Phi the standard normal CDF; ``approximate='tanh'`` uses the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh. (gelu: got {approximate!r})")
    require_float_input(x, "gelu")
    return for_input(GELU, x).apply(x, approximate)


@public(inplace=True)
def silu(x):
    """x sigmoid(x)."""
    require_float_input(x, "silu")
    return for_input(SiLU, x).apply(x)


@public
def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta: a smooth relu; linear where beta x > threshold."""
    require_float_input(x, "softplus")
    return for_input(Softplus, x).apply(x, beta, threshold)


@public(method=False)
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clipped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    refuse_bool_input(input, "Bool inputs not supported for hardtanh")
    return applied(Hardtanh, input, inplace, min_val, max_val)


@public(method=False)
def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """``hardtanh`` written into ``input``. Unlike ``hardtanh`` it does not check that min_val <=
    max_val, as PyTorch's in-place op does not: with min_val > max_val every element becomes max_val."""
    refuse_bool_input(input, "Bool inputs not supported for hardtanh")
    return applied(Hardtanh, input, True, min_val, max_val)


@public(method=False)
def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    refuse_bool_input(input, "Bool inputs not supported for hardtanh")
    return applied(Hardtanh, input, inplace, 0.0, 6.0)


@public(inplace=True, out=True)
def erf(x):
    """The error function, elementwise (accurate to about 1e-16 in float64)."""
    return Erf.apply(x)


@public(out=True)
def softmax(x, dim, dtype=None):
    """e^x / sum(e^x) along ``dim``: turns scores into probabilities that sum to 1 along ``dim``."""
    x, axes = _softmax_operands(x, dim, dtype, "softmax")
    return Softmax.apply(x, axes)


@public(out=True)
def log_softmax(x, dim, dtype=None):
    """log(softmax(x)) along ``dim``, computed directly (accurate where softmax rounds to 0)."""
    x, axes = _softmax_operands(x, dim, dtype, "log_softmax")
    return LogSoftmax.apply(x, axes)


def _softmax_operands(x, dim, dtype, operation):
    if dtype is not None:
        x = x.to(dtype)
    kernel = "softmax" if operation == "softmin" else operation  # softmin is softmax(-x)
    last = x.ndim <= 1 or isinstance(dim, int) and dim in (-1, x.ndim - 1)
    require_floating(x, f"\"{kernel}{'_lastdim' * last}_kernel_impl\" not implemented for '{{type}}'", operation, NotImplementedError)
    if x._array.dtype.kind == "c":
        raise complex_refused(operation, x._array.dtype)
    try:
        if type(dim) is bool:
            raise TypeError
        axis = operator.index(dim)
    except TypeError:
        raise TypeError(
            f"{operation}(): argument 'dim' must be int, not {type(dim).__name__}: give the dimension whose "
            f"entries are normalized, e.g. dim=-1"
        ) from None
    return x, reduction_axes(x, axis, operation)


def implicit_softmax_dim(operation, ndim):
    """The dim PyTorch's F.softmax, F.softmin and F.log_softmax choose when called without one (a
    deprecated choice, kept so that old course code runs the same): 0 for a 0-, 1- or 3-dimensional
    input, else 1. Its warning is shown at the caller's line."""
    warn_at_caller(
        f"Implicit dimension choice for {operation} has been deprecated. Change the call to include dim=X as an argument."
    )
    return 0 if ndim in (0, 1, 3) else 1


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@public(method=False)
def logsigmoid(input):
    """ln σ(x) = -ln(1 + e^-x), elementwise; stable for any x (ln σ(-1000) = -1000)."""
    require_float_input(input, "logsigmoid")
    return for_input(LogSigmoid, input).apply(input)


@public(method=False)
def softsign(input):
    """x / (1 + |x|): a slower-saturating tanh, in (-1, 1)."""
    return input / (1 + input.abs())


@public(method=False)
def selu(input, inplace=False):
    """scale · elu(x, alpha) with PyTorch's fixed alpha ≈ 1.6733 and scale ≈ 1.0507 (self-normalizing)."""
    require_float_input(input, "selu")
    return applied(ELU, input, inplace, SELU_ALPHA, SELU_SCALE, 1.0)


@public(method=False)
def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha (e^(x / alpha) - 1)): elu with a slope continuous at 0 for any alpha."""
    require_float_input(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU (celu divides x by alpha)")
    return applied(CELU, input, inplace, alpha, 1.0, 1.0 / alpha)


@public(method=False)
def mish(input, inplace=False):
    """x tanh(softplus(x)), elementwise."""
    require_float_input(input, "mish")
    return applied(Mish, input, inplace)


@public(method=False)
def hardswish(input, inplace=False):
    """x relu6(x + 3) / 6: 0 below -3, x above 3, a parabola between."""
    require_float_input(input, "hardswish")
    return applied(Hardswish, input, inplace)


@public(method=False)
def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, a straight line between."""
    require_float_input(input, "hardsigmoid")
    return applied(Hardsigmoid, input, inplace)


@public(method=False)
def threshold(input, threshold, value, inplace=False):
    """``value`` where x ≤ threshold, else x (a nan passes through, as in PyTorch)."""
    if input._array.dtype.kind == "b":
        raise NotImplementedError('"threshold_cpu" not implemented for \'Bool\': convert the tensor first, e.g. x.float()')
    return applied(Threshold, input, inplace, threshold, value)


@public
def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    require_float_input(input, "hardshrink")
    return Hardshrink.apply(input, lambd)


@public(method=False)
def softshrink(input, lambd=0.5):
    """x moved towards 0 by lambd (x - lambd above lambd, x + lambd below -lambd), 0 in between."""
    require_float_input(input, "softshrink")
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be in range [0, inf) (it is a distance from 0), but found to be {lambd}")
    return Softshrink.apply(input, lambd)


@public(method=False)
def tanhshrink(input):
    """x - tanh(x)."""
    return input - Tanh.apply(input)


@public(method=False)
def glu(input, dim=-1):
    """The gated linear unit: input (*, 2n, *) split along ``dim`` into a and b of size n -> a σ(b) (*, n, *)."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even (give it a tensor whose dim has an even size)")
    axis = check_dim(dim, input.ndim, "glu")
    if input.shape[axis] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size {input.shape[axis]} (glu splits it into two halves)")
    require_float_input(input, "glu")
    return for_input(GLU, input).apply(input, axis)


@public(method=False)
def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``: probabilities that favour the smallest entries. (``_stacklevel``
    is taken, and unused, so that PyTorch's positional ``dtype`` lands right.)"""
    if dim is None:
        dim = implicit_softmax_dim("softmin", input.ndim)
    input, axes = _softmax_operands(input, dim, dtype, "softmin")
    return Softmax.apply(-input, axes)


@public
def prelu(input, weight):
    """x where x > 0, else weight · x, with a learned ``weight``: one number (shape (1,) or ()), or
    one per channel, (C,) for input (N, C, *)."""
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    count = weight.numel()
    if count not in (1, channels):
        raise RuntimeError(
            f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {count} and "
            f"channel size = {channels}. (prelu's weight holds one number, or one per channel: dim 1 of the input.)"
        )
    require_float_input(input, "prelu")
    if weight.dtype != input.dtype:
        input, weight = operands_in_modes("prelu", (input, weight))  # autocast casts both, as PyTorch's
        if weight.dtype != input.dtype:
            raise RuntimeError(
                f"prelu: Type promoting not supported. Got {dtype_name(input._array.dtype)} and "
                f"{dtype_name(weight._array.dtype)}; convert the weight with .to(input.dtype)"
            )
    view = () if count == 1 else (1, channels) + (1,) * (input.ndim - 2)
    return PReLU.apply(input, weight, view)


@public(method=False)
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """leaky_relu with a random negative slope: in training each element x ≤ 0 gets a slope drawn
    from U(lower, upper) (PyTorch's draws from the global generator: ``sampling_algorithms.rrelu_slopes``),
    in evaluation the slope is their mean (lower + upper) / 2."""
    if lower > upper:
        raise RuntimeError(f"rrelu: Lower bound should be less than or equal to the upper bound (got lower={lower}, upper={upper})")
    require_float_input(input, "rrelu")
    if training:
        if input._array.dtype == xp.float16:
            raise NotImplementedError('"rrelu_with_noise_out_cpu" not implemented for \'Half\' (in training); convert with .float()')
        slopes = drawn(rrelu_slopes, None, input._array, lower, upper)
    else:
        slopes = (lower + upper) / 2
    return applied(RReLU, input, inplace, slopes)


# The in-place forms PyTorch offers as functions (F.relu_, torch.selu_): each writes into its input.
def in_place_function(function):
    """``function(input, ..., inplace=True)`` under the name PyTorch gives it, ``NAME_``."""

    def in_place(input, *args, **kwargs):
        return function(input, *args, inplace=True, **kwargs)

    in_place.__name__ = function.__name__ + "_"
    in_place.__doc__ = f"In-place form of ``{function.__name__}``: the result is written into ``input``."
    return in_place


relu_ = public(in_place_form(relu), method=False)
threshold_ = public(in_place_function(threshold), method=False)
selu_ = public(in_place_function(selu), method=False)
celu_ = public(in_place_function(celu), method=False)
rrelu_ = public(in_place_function(rrelu), method=False)

#: The operations whose in-place form PyTorch records with a node of its own: one keeping the
#: result instead of a copy of the input (LeakyReluBackward1, EluBackward1...), or only named apart.
IN_PLACE_FORMS = {
    LeakyReLU: LeakyReLUInPlace,
    RReLU: RReLUInPlace,
    ELU: ELUInPlace,
    CELU: CELUInPlace,
    Threshold: Threshold.shown_as("ThresholdBackward1"),
}


def applied(operation, input, inplace, *args):
    """``operation`` on ``input`` and the number arguments ``args``, written into ``input`` itself
    when ``inplace`` (PyTorch's ``inplace=True``, which saves allocating the result), recorded as
    PyTorch records the in-place form."""
    if inplace:
        return write_in_place(input, for_input(IN_PLACE_FORMS.get(operation, operation), input).apply, *args)
    return for_input(operation, input).apply(input, *args)


def refuse_bool_input(x, message, operation=None):
    """PyTorch's RuntimeError for a bool tensor where it computes on numbers (relu, hardtanh), and
    with ``operation`` its refusal of complex numbers, which have no order (relu)."""
    kind = x._array.dtype.kind
    if kind == "b":
        raise RuntimeError(f"{message}: convert the tensor first, e.g. x.float()")
    if kind == "c" and operation is not None:
        raise complex_refused(operation, x._array.dtype)


def require_float_input(x, operation):
    """PyTorch's refusal of integer, bool and complex tensors where it computes with floats only."""
    if x._array.dtype.kind != "f":
        if x._array.dtype.kind == "c" and operation in REFUSED_ON_COMPLEX:
            raise complex_refused(operation, x._array.dtype)
        kernel = _KERNELS.get(operation, f"{operation}_cpu")
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{scalar_type_name(x._array.dtype)}\' ({operation} needs a floating point '
            f"tensor, this is {dtype_name(x._array.dtype)}: convert it first, e.g. x.float())"
        )


_KERNELS = {  # the ATen kernel whose name PyTorch's refusal of integers says, where it is not OPERATION_cpu
    "selu": "elu_cpu", "celu": "elu_cpu", "gelu": "GeluKernelImpl", "softshrink": "softshrink_check",
    "logsigmoid": "log_sigmoid_cpu", "rrelu": "leaky_relu_cpu",
}
