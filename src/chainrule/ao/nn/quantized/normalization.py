"""Quantized LayerNorm, GroupNorm and InstanceNorm1d/2d/3d: quantized input -> quantized output
(same shape and dtype) with the layer's own ``scale`` and ``zero_point`` (buffers, as in PyTorch).

Each normalizes groups of ``n`` input integers ``q`` (a sample's last dimensions for layer norm; a
sample's channels in ``num_groups`` groups for group norm; each channel of a sample for instance
norm, which is group norm with one channel per group). With ``x = q - zero_point`` in input-scale
units, PyTorch's CPU kernel computes, in float32 and in this order:

    shifted_mean = Σq / n                        (integer sums, exact)
    mean = shifted_mean - zero_point             variance = max(Σq² / n - shifted_mean², 0)
    scale_over_std = input_scale / sqrt(variance · input_scale² + eps)     (the last two in float64)
    y = ((x - mean) · scale_over_std) · weight + bias        (group norm: (x - mean) · (scale_over_std · weight) + bias)

and quantizes ``y`` as ``round(y · (1 / output_scale)) + output_zero_point``, clamped to the dtype.
The same operations in the same order here give PyTorch's integers.
"""
import chainrule
from chainrule.backend import xp
from chainrule.nn import GroupNorm as FloatGroupNorm
from chainrule.nn import InstanceNorm1d as FloatInstanceNorm1d
from chainrule.nn import InstanceNorm2d as FloatInstanceNorm2d
from chainrule.nn import InstanceNorm3d as FloatInstanceNorm3d
from chainrule.nn import LayerNorm as FloatLayerNorm
from chainrule.quantized.array import QuantizedArray
from chainrule.quantized.quantize import integer_range
from chainrule.quantized.schemes import per_tensor_affine
from chainrule.quantized.tensor import INTEGERS_OF, QuantizedTensor, quantized_tensor

float32 = xp.float32


def check_quantized(input, operation):
    """PyTorch's NotImplementedError for a plain (float) tensor given to a quantized kernel."""
    if not isinstance(input, QuantizedTensor):
        raise NotImplementedError(
            f"Could not run 'quantized::{operation}' with arguments from the 'CPU' backend: the quantized layer takes a "
            "quantized tensor; quantize the input first (a QuantStub before it, or chainrule.quantize_per_tensor)"
        )


def with_output_integers(units, scale, zero_point, like):
    """A tensor quantized per tensor like ``like`` (same dtype) whose integers are
    ``round(units) + zero_point`` (half to even), clamped to the dtype's range."""
    qdtype = like._array.qdtype
    lowest, highest = integer_range(qdtype, "quantized normalization")
    integers = xp.clip(xp.rint(units) + zero_point, lowest, highest).astype(INTEGERS_OF[qdtype])
    return quantized_tensor(QuantizedArray(integers, qdtype, per_tensor_affine, float(scale), int(zero_point)))


def group_statistics(groups, zero_point, input_scale, eps):
    """``(mean, scale_over_std)`` (float32, one per row) of ``groups`` (M, n), rows of input
    integers: the mean in input-scale units, as PyTorch's kernel computes them (module docstring)."""
    count = float32(groups.shape[1])
    integers = groups.astype(xp.int64)
    shifted_mean = integers.sum(axis=1).astype(float32) / count
    mean = shifted_mean - float32(zero_point)
    variance = xp.maximum((integers * integers).sum(axis=1).astype(float32) / count - shifted_mean * shifted_mean, float32(0))
    input_scale = float32(input_scale)
    scaled_variance = (variance * input_scale * input_scale).astype(xp.float64)
    return mean, (xp.float64(input_scale) / xp.sqrt(scaled_variance + eps)).astype(float32)


def output_units(values, output_scale):
    """float32 ``values`` in units of the output scale, as the kernel rounds them: ``values · (1 / scale)``."""
    return values * (float32(1) / float32(output_scale))


def parameter_array(parameter, size, fill):
    """A weight or bias as a float32 array, or ``fill`` repeated ``size`` times where there is none."""
    if parameter is None:
        return xp.full(size, fill, dtype=float32)
    return parameter.detach()._array.astype(float32).reshape(-1)


def layer_norm(input, normalized_shape, weight, bias, eps, scale, zero_point):
    """``quantized::layer_norm``: ``input (*, *normalized_shape)`` normalized over its last dimensions."""
    check_quantized(input, "layer_norm")
    normalized_shape = tuple(normalized_shape)
    if tuple(input.shape[input.dim() - len(normalized_shape):]) != normalized_shape:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape [*, "
            f"{', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)} (quantized LayerNorm "
            "normalizes the input's last dimensions)"
        )
    array = input._array
    count = 1
    for size in normalized_shape:
        count *= size
    rows = array.integers.reshape(-1, count)
    mean, scale_over_std = group_statistics(rows, array.zero_point, array.scale, eps)
    centered = (rows.astype(xp.int64) - array.zero_point).astype(float32)
    values = (centered - mean[:, None]) * scale_over_std[:, None] * parameter_array(weight, count, 1)
    values = values + parameter_array(bias, count, 0)
    return with_output_integers(output_units(values, scale).reshape(array.shape), scale, zero_point, input)


def group_norm(input, num_groups, weight, bias, eps, scale, zero_point):
    """``quantized::group_norm``: ``input (N, C, *)`` normalized over each sample's ``num_groups``
    groups of ``C / num_groups`` channels; ``weight`` and ``bias`` per channel."""
    check_quantized(input, "group_norm")
    if input.dim() < 3:
        raise RuntimeError(
            f"Expected normalized_shape to be at least 3-dimensional (quantized group and instance norm take (N, C, *) "
            f"input, got shape {tuple(input.shape)}; add a batch dimension with unsqueeze(0))"
        )
    batches, channels = input.shape[0], input.shape[1]
    if channels % num_groups:
        raise RuntimeError(f"Expected channels to be divisible by groups ({channels} channels, {num_groups} groups)")
    array = input._array
    groups = array.integers.reshape(batches * num_groups, -1)
    mean, scale_over_std = group_statistics(groups, array.zero_point, array.scale, eps)
    per_channel = (batches, num_groups, channels // num_groups)
    channel_scales = scale_over_std.reshape(batches, num_groups, 1) * parameter_array(weight, channels, 1).reshape(per_channel[1:])
    centered = (groups.astype(xp.int64) - array.zero_point).astype(float32) - mean[:, None]
    values = centered.reshape(batches, channels, -1) * channel_scales.reshape(batches, channels, 1)
    values = values + parameter_array(bias, channels, 0).reshape(1, channels, 1)
    return with_output_integers(output_units(values, scale).reshape(array.shape), scale, zero_point, input)


def register_output_parameters(module, weight, bias, scale, zero_point):
    """The quantized layer's ``weight`` and ``bias`` (those of the float layer) and its output
    ``scale`` and ``zero_point`` as buffers (a float32 and an int64 tensor, as PyTorch's)."""
    module.weight, module.bias = weight, bias
    module.register_buffer("scale", chainrule.tensor(scale))
    module.register_buffer("zero_point", chainrule.tensor(zero_point))


def output_parameters(mod):
    """``(scale, zero_point)`` of a calibrated float layer's output observer, as Python numbers."""
    scale, zero_point = mod.activation_post_process.calculate_qparams()
    return float(scale), int(zero_point)


class LayerNorm(FloatLayerNorm):
    """``QuantizedLayerNorm``: ``input (*, *normalized_shape) quantized -> output quantized``."""

    def __init__(self, normalized_shape, weight, bias, scale, zero_point, eps=1e-5, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__(normalized_shape, eps=eps, elementwise_affine=elementwise_affine, device=device, dtype=dtype)
        register_output_parameters(self, weight, bias, scale, zero_point)

    def _get_name(self):
        return "QuantizedLayerNorm"

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps, float(self.scale), int(self.zero_point))

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return cls(mod.normalized_shape, mod.weight, mod.bias, *output_parameters(mod), mod.eps, mod.elementwise_affine)


class GroupNorm(FloatGroupNorm):
    """``QuantizedGroupNorm``: ``input (N, C, *) quantized -> output quantized``."""

    def __init__(self, num_groups, num_channels, weight, bias, scale, zero_point, eps=1e-5, affine=True, device=None,
                 dtype=None):
        super().__init__(num_groups, num_channels, eps, affine, device, dtype)
        register_output_parameters(self, weight, bias, scale, zero_point)

    def _get_name(self):
        return "QuantizedGroupNorm"

    def forward(self, input):
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps, float(self.scale), int(self.zero_point))

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return cls(mod.num_groups, mod.num_channels, mod.weight, mod.bias, *output_parameters(mod), mod.eps, mod.affine)


class QuantizedInstanceNorm:
    """What the quantized instance norms add to the float ones: the output parameters, a forward
    that is group norm with one channel per group (any number of channels, batched input only, as
    PyTorch's kernel), and ``from_float``."""

    def __init__(self, num_features, weight, bias, scale, zero_point, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        register_output_parameters(self, weight, bias, scale, zero_point)

    def _get_name(self):
        return "Quantized" + type(self).__name__

    def forward(self, input):
        check_quantized(input, "instance_norm")
        channels = input.shape[1] if input.dim() >= 2 else 0
        return group_norm(input, max(channels, 1), self.weight, self.bias, self.eps, float(self.scale), int(self.zero_point))

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return cls(mod.num_features, mod.weight, mod.bias, *output_parameters(mod), mod.eps, mod.affine)


class InstanceNorm1d(QuantizedInstanceNorm, FloatInstanceNorm1d):
    """``QuantizedInstanceNorm1d``: ``input (N, C, L) quantized -> output quantized``."""


class InstanceNorm2d(QuantizedInstanceNorm, FloatInstanceNorm2d):
    """``QuantizedInstanceNorm2d``: ``input (N, C, H, W) quantized -> output quantized``."""


class InstanceNorm3d(QuantizedInstanceNorm, FloatInstanceNorm3d):
    """``QuantizedInstanceNorm3d``: ``input (N, C, D, H, W) quantized -> output quantized``."""
