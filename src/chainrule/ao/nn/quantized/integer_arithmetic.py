"""The integer arithmetic of quantized layers, as FBGEMM does it.

With ``x = (qx - zx) · sx`` and ``w = (qw - zw) · sw`` (``sw`` per output channel or one),

    y = Σ x w + b = sx · sw · Σ (qx - zx)(qw - zw) + b

so the layer multiplies integers, accumulating exactly (int32 in FBGEMM; here float64, exact for
these integers), and scales the accumulator once: ``y = acc · (sx · sw) + b`` in float32, with the
product of the scales rounded to float32 and one rounding for the multiply-add, as FBGEMM's fused
multiply-add. A static layer quantizes ``y`` again to its output's scale and zero point.

A layer without bias is requantized in one step instead (``requantized_without_bias``): the
accumulator times one float32 multiplier ``M = float32(sx · sw) / so`` per output channel, rounded,
plus the output's zero point (FBGEMM's integer requantization; it can differ by one step).
"""
from chainrule.backend import xp
from chainrule.quantized.array import QuantizedArray
from chainrule.quantized.quantize import rounded
from chainrule.quantized.schemes import per_tensor_affine
from chainrule.quantized.tensor import quantized_tensor
from chainrule.dtypes import quint8
from chainrule.tensor import tensor_from_array


def centered(quantized):
    """``(q - zero_point)`` of a quantized tensor as float64 (exact), and its scales as float32
    (one element per tensor, one per channel of axis 0 for per-channel weights)."""
    array = quantized._array
    if array.axis is None:
        return array.integers.astype(xp.float64) - array.zero_point, xp.asarray([array.scale], dtype=xp.float32)
    if array.axis != 0:
        raise RuntimeError(f"quantized weights must be per channel along axis 0 (the output channels), not {array.axis}")
    zero_points = array.zero_point.reshape((-1,) + (1,) * (array.ndim - 1))
    return array.integers.astype(xp.float64) - zero_points, array.scale.astype(xp.float32)


def scaled_accumulator(accumulator, input_scale, weight_scales, bias, channel_axis):
    """``accumulator · float32(input_scale · weight_scales) + bias`` rounded once to float32, the
    scales and bias lying along ``channel_axis`` of the accumulator (its output channels)."""
    along = (-1,) + (1,) * (accumulator.ndim - channel_axis - 1)
    multipliers = (xp.float32(input_scale) * weight_scales).astype(xp.float64).reshape(along)
    result = accumulator * multipliers
    if bias is not None:
        result = result + bias.detach()._array.astype(xp.float64).reshape(along)
    return result.astype(xp.float32)


def requantized(values, scale, zero_point):
    """float32 ``values`` quantized per tensor to quint8 (a layer's output)."""
    integers = rounded(values, scale, zero_point, quint8, fused=True)
    return quantized_tensor(QuantizedArray(integers, quint8, per_tensor_affine, float(scale), int(zero_point)))


def requantized_without_bias(accumulator, input_scale, weight_scales, channel_axis, activation, scale, zero_point):
    """quint8 ``round(activation(acc · M)) + zero_point`` with ``M = float32(sx · sw) / scale`` per
    channel (along ``channel_axis``); ``activation`` (ReLU or none) commutes with the rounding."""
    along = (-1,) + (1,) * (accumulator.ndim - channel_axis - 1)
    multipliers = ((xp.float32(input_scale) * weight_scales) / xp.float32(scale)).astype(xp.float32).reshape(along)
    values = activation(accumulator.astype(xp.float32) * multipliers)
    integers = xp.clip(xp.rint(values) + int(zero_point), 0, 255).astype(xp.uint8)
    return quantized_tensor(QuantizedArray(integers, quint8, per_tensor_affine, float(scale), int(zero_point)))


def as_tensor(array):
    """A float64 array of integers as a tensor, for chainrule's own convolution to accumulate."""
    return tensor_from_array(array)
