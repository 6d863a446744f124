"""Activations of quantized tensors (per tensor), as PyTorch's QuantizedCPU kernels.

Those that only cut the real line (``relu``, ``relu6``, ``hardtanh``, ``clamp``) clamp the integers
between the bounds quantized (``zero_point + round(bound / scale)``), same scale and zero point.
The others compute on the real values: ``x = q·s - z·s`` (float32, one rounding, as PyTorch's
vectorized dequantize), the activation in float32, and ``round(y / s_out) + z_out`` clamped to the
dtype (rounding half to even). Their output qparams are PyTorch's:

- the input's for ``leaky_relu``, ``threshold``, ``gelu`` (or those given, for the
  ``ao.nn.quantized.functional`` forms: ``hardswish``, ``elu``, ``celu``, ``leaky_relu``);
- fixed ones for the bounded curves: ``sigmoid`` and ``hardsigmoid`` 1/256 with zero point 0
  (quint8) or -128 (qint8); ``tanh`` 2/256 with 128 (quint8) or 0 (qint8).
"""
import numbers

from chainrule import dtypes
from chainrule.backend import xp
from chainrule.ops import activation
from chainrule.quantized.kernels import kernel, per_tensor, quantized_like, quantized_with
from chainrule.quantized.quantize import integer_range
from chainrule.tensor import tensor_from_array

#: The fixed output qparams of the bounded curves: (scale, zero point) by dtype.
SIGMOID_QPARAMS = {dtypes.quint8: (1.0 / 256, 0), dtypes.qint8: (1.0 / 256, -128), dtypes.qint32: (1.0 / 256, 0)}
TANH_QPARAMS = {dtypes.quint8: (2.0 / 256, 128), dtypes.qint8: (2.0 / 256, 0), dtypes.qint32: (2.0 / 256, 0)}


def real_values(array):
    """The float32 real values ``q·s + (-z·s)`` of a per-tensor array, rounded once (a fused
    multiply-add, as PyTorch's vectorized dequantize)."""
    shift = xp.float32(array.scale) * xp.float32(-array.zero_point)
    return (array.integers.astype(xp.float64) * xp.float32(array.scale) + shift).astype(xp.float32)


def quantized_values(values, qdtype, scale, zero_point):
    """``round(values · (1/scale)) + zero_point`` (half to even, in float32), clamped: a per-tensor
    quantized tensor (PyTorch's ``quantize_val`` and vectorized quantize, zero point added after
    the rounding)."""
    inverse_scale = xp.float32(1.0) / xp.float32(scale)
    return quantized_with(xp.rint(values.astype(xp.float32) * inverse_scale) + int(zero_point), qdtype, scale, zero_point)


def through_reals(input, operation, activation, scale=None, zero_point=None):
    """``activation`` (float32 array -> float32 array) of ``input``'s real values, quantized with
    ``scale`` and ``zero_point`` (the input's where None)."""
    array = per_tensor(input, operation)
    scale = array.scale if scale is None else scale
    zero_point = array.zero_point if zero_point is None else zero_point
    return quantized_values(activation(real_values(array)), array.qdtype, scale, zero_point)


def quantized_bound(array, bound):
    """The integer that stands for the real ``bound``: ``zero_point + round(bound / scale)``."""
    inverse_scale = xp.float32(1.0) / xp.float32(array.scale)
    return int(array.zero_point + xp.rint(xp.float32(bound) * inverse_scale))


def _clamped(array, low, high):
    """The integers clamped to the quantized bounds (None: no bound)."""
    lowest = None if low is None else quantized_bound(array, low)
    highest = None if high is None else quantized_bound(array, high)
    return quantized_like(array, xp.clip(array.integers.astype(xp.int64), lowest, highest))


@kernel("relu", "relu_")
def relu(input, inplace=False):
    """max(x, 0): the integers at least the zero point (which stands for 0); same qparams."""
    array = per_tensor(input, "relu")
    return quantized_like(array, xp.maximum(array.integers, array.zero_point))


@kernel("hardtanh")
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """min(max(x, min_val), max_val) on the integers, the bounds quantized; same qparams."""
    return _clamped(per_tensor(input, "hardtanh"), min_val, max_val)


@kernel("relu6")
def relu6(input, inplace=False):
    """min(max(x, 0), 6) on the integers; same qparams."""
    return _clamped(per_tensor(input, "relu6"), 0.0, 6.0)


@kernel("clamp", "clip")
def clamp(input, min=None, max=None):
    """min(max(x, min), max) on the integers, the bounds (numbers) quantized; same qparams."""
    if not all(bound is None or isinstance(bound, numbers.Real) for bound in (min, max)):
        raise NotImplementedError(
            "Could not run 'aten::clamp.Tensor' with arguments from the 'QuantizedCPU' backend: a quantized tensor is "
            "clamped between numbers (give min and max as Python numbers)"
        )
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return _clamped(per_tensor(input, "clamp"), min, max)


@kernel("threshold")
def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else ``value``; same qparams."""
    return through_reals(input, "threshold", lambda x: xp.where(x > xp.float32(threshold), x, xp.float32(value)))


@kernel("leaky_relu")
def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, ``negative_slope``·x below; same qparams."""
    return through_reals(input, "leaky_relu", lambda x: xp.where(x > 0, x, x * xp.float32(negative_slope)))


@kernel("sigmoid")
def sigmoid(input):
    """1 / (1 + exp(-x)), quantized with scale 1/256 (zero point 0 for quint8, -128 for qint8)."""
    qparams = SIGMOID_QPARAMS[input.dtype]
    return through_reals(input, "sigmoid", lambda x: xp.float32(1) / (xp.float32(1) + xp.exp(-x)), *qparams)


@kernel("tanh")
def tanh(input):
    """tanh(x), quantized with scale 2/256 (zero point 128 for quint8, 0 for qint8)."""
    return through_reals(input, "tanh", xp.tanh, *TANH_QPARAMS[input.dtype])


@kernel("hardsigmoid")
def hardsigmoid(input, inplace=False):
    """min(max(x + 3, 0), 6) / 6, quantized with scale 1/256 (as ``sigmoid``)."""
    return through_reals(input, "hardsigmoid", _hardsigmoid, *SIGMOID_QPARAMS[input.dtype])


def _hardsigmoid(x):
    return xp.clip(x + xp.float32(3), 0, 6).astype(xp.float32) / xp.float32(6)


@kernel("gelu")
def gelu(input, approximate="none"):
    """x·Φ(x) (erf form) or its tanh approximation; the input's qparams, the scale rounded to float32."""
    scale = float(xp.float32(per_tensor(input, "gelu").scale))
    return through_reals(input, "gelu", lambda x: activation.gelu(tensor_from_array(x), approximate)._array, scale)


# ----------------------------------------------------------------------------- with output qparams given
# (``torch.ao.nn.quantized.functional`` and its activation modules: PyTorch's ``quantized::`` ops)
def hardswish(input, scale, zero_point):
    """x · min(max(x + 3, 0), 6) / 6, quantized with ``scale`` and ``zero_point``."""
    return through_reals(input, "hardswish", lambda x: x * _hardsigmoid(x), scale, zero_point)


def elu(input, scale, zero_point, alpha=1.0):
    """x for x > 0, alpha·(exp(x) - 1) below, quantized with ``scale`` and ``zero_point``."""
    alpha = xp.float32(alpha)
    return through_reals(input, "elu", lambda x: xp.where(x > 0, x, alpha * xp.expm1(x)), scale, zero_point)


def celu(input, scale, zero_point, alpha=1.0):
    """x for x > 0, alpha·(exp(x / alpha) - 1) below, quantized with ``scale`` and ``zero_point``."""
    alpha = xp.float32(alpha)
    return through_reals(input, "celu", lambda x: xp.where(x > 0, x, alpha * xp.expm1(x / alpha)), scale, zero_point)


def leaky_relu_to(input, negative_slope, scale, zero_point):
    """``leaky_relu`` quantized with ``scale`` and ``zero_point``."""
    slope = xp.float32(negative_slope)
    return through_reals(input, "leaky_relu", lambda x: xp.where(x > 0, x, x * slope), scale, zero_point)


def sigmoid_to(input, scale, zero_point):
    """``sigmoid`` quantized with ``scale`` and ``zero_point``."""
    return through_reals(input, "sigmoid", lambda x: xp.float32(1) / (xp.float32(1) + xp.exp(-x)), scale, zero_point)


def softmax_to(input, dim, scale, zero_point):
    """e^x / Σ e^x along ``dim`` of the real values, quantized with ``scale`` and ``zero_point``
    (PyTorch's ``quantized::softmax`` on x86: dequantize, float32 softmax, quantize)."""
    return through_reals(input, "softmax", lambda x: activation.softmax(tensor_from_array(x), dim)._array, scale, zero_point)


def prelu(input, weight, scale, zero_point):
    """PReLU on the integers (PyTorch's ``quantized::prelu``), ``input (N, C, *)`` with a quantized
    ``weight (C,)`` or ``(1,)`` of slopes, quantized with ``scale`` and ``zero_point``.

    With ``qx`` split at its zero point ``zx`` into the part above and the part below,

        acc = (max(qx, zx) - zx) · (q₁ - zw) + (min(qx, zx) - zx) · (qw - zw)

    where ``q₁`` is the weight's quantized 1 (clamped into its dtype, as PyTorch's: a weight scale
    under 1/255 makes the positive slope less than 1), then ``round(acc · M) + zero_point`` with
    ``M = float32(sx · sw) · float32(1 / scale)`` in float32, half to even, clamped."""
    array, slopes = per_tensor(input, "prelu"), per_tensor(weight, "prelu")
    if array.qdtype != slopes.qdtype:
        raise RuntimeError(
            f"Found dtype {slopes.qdtype.name} but expected {array.qdtype.name} (quantized prelu: quantize the input "
            "and the weight to the same dtype)"
        )
    lowest, highest = integer_range(array.qdtype, "prelu")
    inverse_weight_scale = xp.float32(1) / xp.float32(slopes.scale)
    quantized_one = min(max(int(slopes.zero_point + xp.rint(inverse_weight_scale)), lowest), highest)
    weight_integers = slopes.integers.astype(xp.int64) - slopes.zero_point
    if array.ndim != slopes.ndim:
        weight_integers = weight_integers.reshape([1, weight_integers.size] + [1] * (array.ndim - 2))
    if array.ndim > 1 and weight_integers.shape[1] not in (1, array.shape[1]):
        raise RuntimeError(
            f"The size of tensor a ({array.shape[1]}) must match the size of tensor b ({weight_integers.shape[1]}) at "
            "non-singleton dimension 1 (quantized prelu: one slope, or one per channel of the input's dim 1)"
        )
    integers = array.integers.astype(xp.int64)
    accumulator = (xp.maximum(integers, array.zero_point) - array.zero_point) * (quantized_one - slopes.zero_point)
    accumulator = accumulator + (xp.minimum(integers, array.zero_point) - array.zero_point) * weight_integers
    multiplier = xp.float32(array.scale) * xp.float32(slopes.scale) * (xp.float32(1) / xp.float32(scale))
    return quantized_with(xp.rint(accumulator.astype(xp.float32) * multiplier) + int(zero_point), array.qdtype, scale, zero_point)
