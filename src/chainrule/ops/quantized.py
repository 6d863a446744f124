"""``torch.ops.quantized``: the quantized operations that graph mode quantization's converted
models call (``chainrule.ops.quantized.add(x, y, scale, zero_point)``): additions and products
(below), ``matmul``, the layers as functions (``linear`` and ``conv1d/2d/3d`` on weights packed by
``linear_prepack`` / ``conv2d_prepack``..., ``_relu`` forms), and the activations and layer norm
given their output's parameters (``hardswish``, ``elu``, ``leaky_relu``, ``layer_norm``). The
layers run the quantized modules' code (``chainrule.ao.nn.quantized``), the activations the
functions of ``chainrule.quantized``: the same integers as PyTorch's kernels.

With two quantized tensors, ``add`` adds the real values in float32 and quantizes the sum to the
output's ``scale`` and ``zero_point``; ``mul`` multiplies the centered integers exactly and scales
the product by one float32 multiplier ``sa · sb / scale`` before rounding, as PyTorch's kernels
do. With a number ``c`` instead of the second tensor, the result keeps
the input's integers where it can and moves its parameters instead, as PyTorch's kernels do:

- ``add``: ``c`` rounded to ``c_q = round(c / scale)`` steps shifts the zero point,
  ``zero_point' = zero_point - c_q``; where that leaves the range of the dtype the zero point is
  clamped to its end and the scale widened so the values still fit (requantized);
- ``mul``: the scale is multiplied by ``|c|`` (for ``c < 0`` the integers are mirrored,
  ``q' = q_max + q_min - q``; for ``c = 0`` everything is 0 on scale 1).

``add_relu`` and ``mul_relu`` clamp the result at zero (at the zero point).
"""
import numbers

import chainrule
from chainrule.ao.nn import quantized as nnq
from chainrule.ao.nn.intrinsic import quantized as nniq
from chainrule.ao.nn.quantized.normalization import layer_norm as _layer_norm
from chainrule.ao.nn.quantized.integer_arithmetic import requantized
from chainrule.backend import xp
from chainrule.quantized import activations
from chainrule.quantized.array import QuantizedArray
from chainrule.quantized.quantize import integer_range
from chainrule.quantized.schemes import per_tensor_affine
from chainrule.quantized.tensor import quantized_tensor


def _with_parameters(integers, like, scale, zero_point):
    array = like._array
    return quantized_tensor(QuantizedArray(integers.astype(array.integers.dtype), array.qdtype, per_tensor_affine, float(scale), int(zero_point)))


def _relu(quantized):
    array = quantized._array
    return _with_parameters(xp.maximum(array.integers, array.zero_point), quantized, array.scale, array.zero_point)


def _add_scalar(qa, c):
    """``qa + c`` on a grid shifted by ``c`` (see the module docstring)."""
    array = qa._array
    scale, zero_point = array.scale, array.zero_point
    lowest, highest = integer_range(array.qdtype, "add")
    steps = int(round(c / scale))
    if lowest <= zero_point - steps <= highest:
        return _with_parameters(array.integers, qa, scale, zero_point - steps)
    if zero_point - steps < lowest:
        new_scale, new_zero_point = (highest - (zero_point - steps)) / (highest - lowest) * scale, lowest
    else:
        new_scale, new_zero_point = ((zero_point - steps) - lowest) / (highest - lowest) * scale, highest
    multiplier = xp.float32(scale) * (xp.float32(1) / xp.float32(new_scale))  # float32, as PyTorch's kernel computes it
    shifted = (array.integers.astype(xp.int64) - zero_point + steps).astype(xp.float32) * multiplier
    return _with_parameters(xp.clip(new_zero_point + xp.rint(shifted), lowest, highest), qa, new_scale, new_zero_point)


def _mul_scalar(qa, c):
    """``qa * c`` by a new scale (see the module docstring)."""
    array = qa._array
    lowest, highest = integer_range(array.qdtype, "mul")
    if c > 0:
        return _with_parameters(array.integers, qa, c * array.scale, array.zero_point)
    if c == 0:
        return _with_parameters(xp.zeros_like(array.integers), qa, 1.0, 0)
    return _with_parameters(highest + lowest - array.integers.astype(xp.int64), qa, -c * array.scale, highest - (array.zero_point - lowest))


def _add_tensors(qa, qb, scale, zero_point):
    """The real values added in float32, quantized to ``scale`` and ``zero_point``."""
    return requantized((qa.dequantize() + qb.dequantize())._array.astype(xp.float32), float(scale), int(zero_point))


def _mul_tensors(qa, qb, scale, zero_point):
    """The integer product ``(qa - za)(qb - zb)`` (exact) times the float32 multiplier
    ``sa · sb · (1 / scale)``, rounded half to even, plus ``zero_point``: PyTorch's kernel."""
    a, b = qa._array, qb._array
    product = (a.integers.astype(xp.int64) - a.zero_point) * (b.integers.astype(xp.int64) - b.zero_point)
    multiplier = xp.float32(a.scale) * xp.float32(b.scale) * (xp.float32(1) / xp.float32(scale))
    lowest, highest = integer_range(a.qdtype, "mul")
    integers = xp.clip(xp.rint(product.astype(xp.float32) * multiplier) + int(zero_point), lowest, highest)
    return quantized_tensor(QuantizedArray(integers.astype(a.integers.dtype), a.qdtype, per_tensor_affine, float(scale), int(zero_point)))


def _binary(name, tensors_operation, scalar_operation, relu):
    def operation(qa, qb, scale=None, zero_point=None):
        result = scalar_operation(qa, qb) if isinstance(qb, numbers.Number) else tensors_operation(qa, qb, scale, zero_point)
        return _relu(result) if relu else result

    operation.__name__ = operation.__qualname__ = name
    operation.__doc__ = (
        f"``quantized::{name}``: quantized ``qa`` {'+' if 'add' in name else '×'} quantized ``qb`` to ``scale`` and "
        f"``zero_point``{', clamped at 0' if relu else ''}; ``qb`` a number: see the module docstring. Shapes broadcast."
    )
    return operation


add = _binary("add", _add_tensors, _add_scalar, relu=False)
add_relu = _binary("add_relu", _add_tensors, _add_scalar, relu=True)
mul = _binary("mul", _mul_tensors, _mul_scalar, relu=False)
mul_relu = _binary("mul_relu", _mul_tensors, _mul_scalar, relu=True)


def matmul(qa, qb, scale, zero_point):
    """``quantized::matmul``: the real values multiplied in float32 (``qa (…, n, k) @ qb (…, k, m)``),
    quantized to ``scale`` and ``zero_point`` (PyTorch's CPU kernel dequantizes too)."""
    return chainrule.quantize_per_tensor(chainrule.matmul(qa.dequantize(), qb.dequantize()), float(scale), int(zero_point), qa.dtype)


# ----------------------------------------------------------------------------- layers as functions
class PackedWeight:
    """What ``linear_prepack`` / ``convNd_prepack`` return (PyTorch's packed parameters): a
    quantized weight, its float bias and, for a convolution, its geometry. ``unpack()`` gives
    ``(weight, bias)`` back."""

    def __init__(self, weight, bias, geometry=None):
        self.weight, self.bias, self.geometry = weight, bias, geometry

    def unpack(self):
        return self.weight, self.bias

    def __repr__(self):
        return f"PackedWeight(weight {tuple(self.weight.shape)}, bias={self.bias is not None})"

    def layer(self, layer_type, scale, zero_point):
        """The quantized layer of ``layer_type`` holding these weights, its output quantized to
        ``scale`` and ``zero_point``."""
        out_channels, in_channels = self.weight.shape[:2]
        if self.geometry is None:
            layer = layer_type(in_channels, out_channels, self.bias is not None)
        else:
            stride, padding, dilation, groups = self.geometry
            layer = layer_type(in_channels * groups, out_channels, tuple(self.weight.shape[2:]), stride, padding, dilation,
                               groups, bias=self.bias is not None)
        layer.set_weight_bias(self.weight, self.bias)
        layer.scale, layer.zero_point = float(scale), int(zero_point)
        return layer


def linear_prepack(weight, bias=None):
    """``quantized::linear_prepack``: a qint8 ``weight (out_features, in_features)`` and a float ``bias``."""
    return PackedWeight(weight, bias)


def _conv_prepack(spatial):
    def prepack(weight, bias, stride, padding, dilation, groups):
        return PackedWeight(weight, bias, (tuple(stride), tuple(padding), tuple(dilation), int(groups)))

    prepack.__name__ = prepack.__qualname__ = f"conv{spatial}d_prepack"
    prepack.__doc__ = (f"``quantized::conv{spatial}d_prepack``: a qint8 ``weight (C_out, C_in / groups, *kernel)``, a "
                       "float ``bias`` and the convolution's stride, padding, dilation and groups.")
    return prepack


def _layer_function(name, layer_type):
    def operation(input, packed_weight, scale, zero_point):
        return packed_weight.layer(layer_type, scale, zero_point)(input)

    operation.__name__ = operation.__qualname__ = name
    operation.__doc__ = (f"``quantized::{name}``: quantized ``input`` through the packed weights, as "
                         f"``{layer_type.__module__.replace('chainrule.ao.nn.', '')}.{layer_type.__name__}`` with output "
                         "``scale`` and ``zero_point``.")
    return operation


linear = _layer_function("linear", nnq.Linear)
linear_relu = _layer_function("linear_relu", nniq.LinearReLU)
conv1d_prepack, conv2d_prepack, conv3d_prepack = (_conv_prepack(spatial) for spatial in (1, 2, 3))
conv1d, conv2d, conv3d = (_layer_function(f"conv{spatial}d", getattr(nnq, f"Conv{spatial}d")) for spatial in (1, 2, 3))
conv1d_relu, conv2d_relu, conv3d_relu = (_layer_function(f"conv{spatial}d_relu", getattr(nniq, f"ConvReLU{spatial}d")) for spatial in (1, 2, 3))


# ----------------------------------------------------------------------------- activations with output parameters
def hardswish(input, output_scale, output_zero_point):
    """``quantized::hardswish``: ``x · relu6(x + 3) / 6`` quantized to the output's parameters."""
    return activations.hardswish(input, float(output_scale), int(output_zero_point))


def elu(input, output_scale, output_zero_point, alpha=1.0):
    """``quantized::elu``: ``x`` above 0, ``alpha (e^x - 1)`` below, quantized to the output's parameters."""
    return activations.elu(input, float(output_scale), int(output_zero_point), alpha)


def leaky_relu(input, negative_slope, inplace, output_scale, output_zero_point):
    """``quantized::leaky_relu``: ``x`` above 0, ``negative_slope · x`` below, quantized to the output's parameters."""
    return activations.leaky_relu_to(input, negative_slope, float(output_scale), int(output_zero_point))


def layer_norm(input, normalized_shape, weight, bias, eps, output_scale, output_zero_point):
    """``quantized::layer_norm``: ``input (*, *normalized_shape)`` normalized over its last dimensions
    (float ``weight`` and ``bias``), quantized to the output's parameters."""
    return _layer_norm(input, normalized_shape, weight, bias, eps, float(output_scale), int(output_zero_point))
