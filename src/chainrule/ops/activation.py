"""Activation functions: the nonlinearities between layers, and softmax / log_softmax.

Each is one Function whose backward multiplies the incoming gradient by the activation's slope at
x. The slopes are written with tensor operations (often from the saved output: sigmoid' = s (1 - s),
tanh' = 1 - t^2), so second derivatives work too. The formulas are arranged so that large inputs
(+/-1000) neither overflow nor produce nan.
"""
import math
import warnings

from chainrule.autograd.function import Function
from chainrule.backend import xp
from chainrule.ops.elementwise import exp, selected, where
from chainrule.ops.operands import as_floating
from chainrule.ops.reduce import Sum, max_shift, reduction_axes, require_floating
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.ops import registry
from chainrule.ops.registry import public


_SQRT_HALF = math.sqrt(0.5)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_ONE_OVER_SQRT_TWO_PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_TANH_SCALE = math.sqrt(2.0 / math.pi)
_GELU_TANH_CUBIC = 0.044715


# ----------------------------------------------------------------------------- smooth activations
class Sigmoid(Function):
    """out = 1 / (1 + e^-x);   d out / d x = out (1 - out)"""

    @staticmethod
    def forward(ctx, x):
        result = tensor_from_array(_sigmoid_array(as_floating(x.array)))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, grad_output = ctx.operands(*ctx.saved_tensors, grad_output)
        return grad_output * result * (1.0 - result)


def _sigmoid_array(array):
    """1 / (1 + e^-x) without overflow: e^-|x| is at most 1, and for x < 0, s = e^x / (1 + e^x)."""
    small_exp = xp.exp(-xp.abs(array))
    return xp.where(array >= 0, 1 / (1 + small_exp), small_exp / (1 + small_exp))


class Tanh(Function):
    """out = tanh x = (e^x - e^-x) / (e^x + e^-x);   d out / d x = 1 - out^2"""

    @staticmethod
    def forward(ctx, x):
        result = tensor_from_array(xp.tanh(as_floating(x.array)))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, grad_output = ctx.operands(*ctx.saved_tensors, grad_output)
        return grad_output * (1.0 - result * result)


class ELU(Function):
    """out = x for x > 0, alpha (e^x - 1) otherwise;   d out / d x = 1 for x > 0, out + alpha otherwise"""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha, ctx.positive = alpha, x.array > 0
        result = xp.where(ctx.positive, x.array, alpha * xp.expm1(xp.minimum(x.array, 0)))
        result = tensor_from_array(result)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * where(ctx.positive, 1.0, result + ctx.alpha), None


class GELU(Function):
    """Gaussian error linear unit: x times the probability that a standard normal is below x.

    exact:  out = x Phi(x),  Phi(x) = (1 + erf(x / sqrt 2)) / 2;
            d out / d x = Phi(x) + x phi(x),  phi(x) = e^(-x^2 / 2) / sqrt(2 pi)
    tanh:   out = x (1 + tanh u) / 2,  u = sqrt(2 / pi) (x + 0.044715 x^3);
            d out / d x = (1 + tanh u) / 2 + x (1 - tanh^2 u) sqrt(2 / pi) (1 + 3 * 0.044715 x^2) / 2
    """

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        array = x.array
        if approximate == "tanh":
            return 0.5 * array * (1 + xp.tanh(_GELU_TANH_SCALE * (array + _GELU_TANH_CUBIC * array**3)))
        return 0.5 * array * (1 + _erf_array(array * _SQRT_HALF))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            tanh_u = tanh(_GELU_TANH_SCALE * (x + _GELU_TANH_CUBIC * x**3))
            du_dx = _GELU_TANH_SCALE * (1.0 + 3 * _GELU_TANH_CUBIC * x * x)
            slope = 0.5 * (1.0 + tanh_u) + 0.5 * x * (1.0 - tanh_u * tanh_u) * du_dx
        else:
            slope = 0.5 * (1.0 + erf(x * _SQRT_HALF)) + x * exp(-0.5 * x * x) * _ONE_OVER_SQRT_TWO_PI
        return grad_output * slope, None


class SiLU(Function):
    """out = x sigmoid(x)   (also called swish);   d out / d x = s (1 + x (1 - s)),  s = sigmoid(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.array * _sigmoid_array(x.array)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        sigmoid_x = sigmoid(x)
        return grad_output * sigmoid_x * (1.0 + x * (1.0 - sigmoid_x))


class Softplus(Function):
    """out = log(1 + e^(beta x)) / beta, and out = x where beta x > threshold (there they agree to
    float precision);   d out / d x = sigmoid(beta x), and 1 where beta x > threshold"""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        scaled = x.array * beta
        ctx.beta, ctx.linear = beta, scaled > threshold
        # log(1 + e^z) = log(1 + e^-|z|) + max(z, 0): the exponent never exceeds 0.
        smooth = (xp.log1p(xp.exp(-xp.abs(scaled))) + xp.maximum(scaled, 0)) / beta
        return xp.where(ctx.linear, x.array, smooth)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * where(ctx.linear, 1.0, sigmoid(x * ctx.beta)), None, None


class Erf(Function):
    """out = erf x = 2 / sqrt(pi) * integral from 0 to x of e^(-t^2) dt;   d out / d x = 2 / sqrt(pi) e^(-x^2)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf_array(as_floating(x.array))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * exp(-x * x) * _TWO_OVER_SQRT_PI


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


def _erf_array(array):
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
    with xp.errstate(all="ignore"):
        small = array * _cody_ratio(array * array, *_ERF_SMALL)
        magnitude = xp.abs(array)
        return xp.where(magnitude <= 0.46875, small, xp.sign(array) * (1 - erfc_of_magnitude(magnitude)))


def erfc_of_magnitude(magnitude):
    """erfc(|x|) = 1 - erf(|x|) for |x| > 0.46875 (Cody's second and third ranges, see _erf_array),
    accurate down to the smallest doubles, where 1 - erf would round to 0."""
    with xp.errstate(all="ignore"):
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
class PiecewiseLinear(Function):
    """Activations made of straight pieces (relu, leaky_relu, hardtanh): forward stores the slope of
    the piece each element fell on in ``ctx.slope``;   d out / d x = that slope.

    The Nones stand for the number arguments (negative_slope, min_val, max_val); the engine drops
    those beyond a subclass's own arguments.
    """

    @staticmethod
    def backward(ctx, grad_output):
        (grad_output,) = ctx.operands(grad_output)
        if ctx.slope.dtype == bool:  # slopes of 1 and 0: select, so that inf * 0 gives 0, not nan
            # issue 11 (until activation.py is an Op): selected() now takes the namespace to compute with
            namespace = registry.functions if isinstance(grad_output, Tensor) else xp
            return selected(namespace, ctx.slope, grad_output), None, None
        return grad_output * ctx.slope.astype(grad_output.dtype, copy=False), None, None


class ReLU(PiecewiseLinear):
    """out = max(x, 0);   d out / d x = 1 where x > 0, else 0 (0 at x = 0, as in PyTorch)"""

    @staticmethod
    def forward(ctx, x):
        ctx.slope = x.array > 0
        return xp.maximum(x.array, 0)


class LeakyReLU(PiecewiseLinear):
    """out = x for x > 0, negative_slope * x otherwise;   d out / d x = 1 or negative_slope"""

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.slope = xp.where(x.array > 0, 1.0, negative_slope).astype(x.array.dtype)
        return x.array * ctx.slope


class Hardtanh(PiecewiseLinear):
    """out = x clipped to [min_val, max_val];   d out / d x = 1 strictly inside, 0 outside and at the ends"""

    @staticmethod
    def forward(ctx, x, min_val, max_val):
        ctx.slope = (x.array > min_val) & (x.array < max_val)
        return xp.clip(x.array, min_val, max_val)


# ----------------------------------------------------------------------------- softmax
def shifted_exponentials(array, axes):
    """``(x - m, e^(x - m), sum of e^(x - m))`` along ``axes``, m the maximum (max_shift): the
    pieces of softmax = e^(x - m) / sum and log_softmax = (x - m) - log sum. Every exponent is at
    most 0, so nothing overflows, and the sum is at least 1 unless a slice is all -inf."""
    shifted = array - max_shift(array, axes)
    exponentials = xp.exp(shifted)
    return shifted, exponentials, exponentials.sum(axis=axes, keepdims=True)


class Softmax(Function):
    """out_i = e^(x_i) / sum_j e^(x_j) along ``axes``, computed from x - max(x) so that nothing
    overflows;   d loss / d x = out * (grad - sum(grad * out))   (the Jacobian diag(out) - out out^T
    applied to grad)"""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        _, exponentials, total = shifted_exponentials(x.array, axes)
        with xp.errstate(invalid="ignore"):  # a slice of -inf only: 0 / 0 gives nan, as in PyTorch
            result = tensor_from_array(exponentials / total)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return result * (grad_output - Sum.apply(grad_output * result, ctx.axes, True)), None


class LogSoftmax(Function):
    """out_i = x_i - log sum_j e^(x_j) along ``axes`` (with the max subtracted first, so 1000 and
    -1000 are fine);   d loss / d x = grad - softmax(x) * sum(grad),  softmax(x) = e^out"""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        shifted, _, total = shifted_exponentials(x.array, axes)
        with xp.errstate(divide="ignore"):
            result = tensor_from_array(shifted - xp.log(total))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output - exp(result) * Sum.apply(grad_output, ctx.axes, True), None


# ----------------------------------------------------------------------------- public functions
@public(inplace=True)
def sigmoid(x):
    """1 / (1 + e^-x), elementwise; stable for any x."""
    return Sigmoid.apply(x)


@public(inplace=True)
def tanh(x):
    return Tanh.apply(x)


@public(inplace=True)
def relu(x):
    """max(x, 0), elementwise."""
    return ReLU.apply(x)


@public(inplace=True)
def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise."""
    return LeakyReLU.apply(x, negative_slope)


@public(inplace=True)
def elu(x, alpha=1.0):
    """x for x > 0, alpha (e^x - 1) otherwise."""
    return ELU.apply(x, alpha)


@public
def gelu(x, approximate="none"):
    """x Phi(x) with Phi the standard normal CDF; ``approximate='tanh'`` uses the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either none or tanh, got {approximate!r}")
    return GELU.apply(x, approximate)


@public(inplace=True)
def silu(x):
    """x sigmoid(x)."""
    return SiLU.apply(x)


@public
def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta: a smooth relu; linear where beta x > threshold."""
    return Softplus.apply(x, beta, threshold)


@public(inplace=True)
def hardtanh(x, min_val=-1.0, max_val=1.0):
    """x clipped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return Hardtanh.apply(x, min_val, max_val)


@public(inplace=True)
def relu6(x):
    """min(max(x, 0), 6)."""
    return Hardtanh.apply(x, 0.0, 6.0)


@public(inplace=True)
def erf(x):
    """The error function, elementwise (accurate to about 1e-16 in float64)."""
    return Erf.apply(x)


@public
def softmax(x, dim=None, dtype=None):
    """e^x / sum(e^x) along ``dim``: turns scores into probabilities that sum to 1 along ``dim``."""
    x, axes = _softmax_operands(x, dim, dtype, "softmax")
    return Softmax.apply(x, axes)


@public
def log_softmax(x, dim=None, dtype=None):
    """log(softmax(x)) along ``dim``, computed directly (accurate where softmax rounds to 0)."""
    x, axes = _softmax_operands(x, dim, dtype, "log_softmax")
    return LogSoftmax.apply(x, axes)


def _softmax_operands(x, dim, dtype, operation):
    if dtype is not None:
        x = x.to(dtype)
    require_floating(x, operation, "softmax needs a floating point tensor")
    if dim is None:
        # PyTorch's deprecated implicit choice, kept so that old course code runs the same.
        warnings.warn(
            f"Implicit dimension choice for {operation} has been deprecated. Change the call to "
            f"include dim=X as an argument.",
            UserWarning,
            stacklevel=3,
        )
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return x, reduction_axes(x, int(dim), operation)
