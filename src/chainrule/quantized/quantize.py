"""Making quantized tensors: ``quantize_per_tensor``, ``quantize_per_channel``,
``quantize_per_tensor_dynamic``, and ``dequantize`` back to floats.

``q = clamp(round(x / scale + zero_point), lowest, highest)`` for the range of the dtype (quint8
0..255, qint8 -128..127, qint32 its int32 range), rounding half to even. The arithmetic is PyTorch's
CPU kernels', so the integers agree to the last one: ``x / scale`` is ``x · (1 / scale)`` with the
reciprocal in float32, and the zero point is added before the rounding, in one fused step for the
8-bit dtypes per tensor (FBGEMM's fused multiply-add), after rounding the product to float32 for
the others.
"""
from chainrule import dtypes
from chainrule.backend import xp
from chainrule.caller_warnings import warn_at_caller
from chainrule.quantized import schemes
from chainrule.quantized.array import QuantizedArray
from chainrule.quantized.tensor import INTEGERS_OF, QuantizedTensor, quantized_tensor
from chainrule.tensor import Tensor

DEPRECATION = (
    "torch.quantize_per_tensor, torch.quantize_per_channel and other quantized tensor creation functions that "
    "produce tensors with dtype torch.quint8, torch.qint8, and torch.qint32 are deprecated and will be removed in a "
    "future PyTorch release. Please see https://github.com/pytorch/pytorch/issues/184982 for more information."
)
_warned = []  # PyTorch warns once a process


def warn_deprecated_once():
    """PyTorch 2.13's UserWarning that its quantized tensors are deprecated, the first time one is made."""
    if not _warned:
        _warned.append(True)
        warn_at_caller(DEPRECATION)


def integer_range(qdtype, operation):
    """``(lowest, highest)`` of a quantized dtype; PyTorch's RuntimeError for any other dtype."""
    integers = INTEGERS_OF.get(qdtype)
    if integers is None:
        named = qdtype.name if isinstance(qdtype, dtypes.DtypeWithoutArrays) else dtypes.scalar_type_name(dtypes.of(qdtype).dtype)
        raise RuntimeError(
            f"ScalarType {named} is not supported in new_qtensor. ({operation}: give one of chainrule.quint8, "
            "chainrule.qint8, chainrule.qint32)"
        )
    limits = xp.iinfo(integers)
    return int(limits.min), int(limits.max)


def check_float_input(input, operation):
    """PyTorch's RuntimeError: only float32 tensors are quantized."""
    if input._array.dtype != xp.float32:
        raise RuntimeError(
            f"Quantize only works on Float Tensor, got {dtypes.scalar_type_name(input._array.dtype)} ({operation}: "
            "convert it first, e.g. x.float())"
        )


def rounded(values, scale, zero_point, qdtype, fused):
    """The integers of float32 ``values`` for ``scale`` and ``zero_point`` (numbers or arrays that
    broadcast), clamped to the range of ``qdtype``. ``fused``: ``values · (1/scale) + zero_point``
    rounded once to float32 (a fused multiply-add: the product of two float32 is exact in float64),
    else the product rounded to float32 first."""
    inverse_scale = xp.float32(1) / xp.asarray(scale, dtype=xp.float32)
    zero_point = xp.asarray(zero_point)
    if fused:
        shifted = (values.astype(xp.float64) * inverse_scale + zero_point).astype(xp.float32)
    else:
        shifted = values * inverse_scale + zero_point.astype(xp.float32)
    lowest, highest = integer_range(qdtype, "quantize")
    return xp.clip(xp.rint(shifted), lowest, highest).astype(INTEGERS_OF[qdtype])


def quantize_per_tensor(input, scale, zero_point, dtype):
    """``input`` (float32) quantized with one ``scale`` and ``zero_point`` (numbers, or one-element
    tensors) to ``dtype`` (chainrule.quint8, qint8, qint32). A list of tensors gives a tuple, one
    quantized tensor each (then ``scale`` and ``zero_point`` are tensors, one element per input)."""
    if isinstance(input, (list, tuple)):
        return tuple(
            quantize_per_tensor(each, float(scale[position]), int(zero_point[position]), dtype)
            for position, each in enumerate(input)
        )
    operation = "quantize_per_tensor"
    if isinstance(scale, Tensor):  # PyTorch reads a tensor's scale as the float32 it holds
        scale = float(xp.float32(scale.item()))
    integer_range(dtype, operation)
    check_float_input(input, operation)
    warn_deprecated_once()
    integers = rounded(input._array, scale, int(zero_point), dtype, fused=dtype != dtypes.qint32)
    return quantized_tensor(QuantizedArray(integers, dtype, schemes.per_tensor_affine, float(scale), int(zero_point)))


def quantize_per_channel(input, scales, zero_points, axis, dtype):
    """``input`` (float32) quantized with ``scales[c]`` and ``zero_points[c]`` (1-d tensors, one per
    slice along ``axis``) to ``dtype``. Floating zero points give the scheme
    ``per_channel_affine_float_qparams``; integer ones ``per_channel_affine``."""
    operation = "quantize_per_channel"
    integer_range(dtype, operation)
    check_float_input(input, operation)
    if scales.dim() != 1 or zero_points.dim() != 1 or scales.numel() != zero_points.numel():
        raise RuntimeError(
            f"{operation}: scales and zero_points must be 1-d tensors of one size (got shapes "
            f"{tuple(scales.shape)} and {tuple(zero_points.shape)})"
        )
    if not -input.dim() <= axis < input.dim() or scales.numel() != input.shape[axis]:
        raise RuntimeError(
            f"{operation}: length of scales must equal the size of the axis: {scales.numel()} scales for axis {axis} "
            f"of a tensor of shape {tuple(input.shape)}"
        )
    axis = axis % input.dim()
    warn_deprecated_once()
    float_qparams = zero_points._array.dtype.kind == "f"
    scale = scales._array.astype(xp.float32 if float_qparams else xp.float64)
    zero_point = zero_points._array.astype(xp.float32 if float_qparams else xp.int64)
    along_axis = (-1,) + (1,) * (input.dim() - axis - 1)
    integers = rounded(input._array, scale.reshape(along_axis), zero_point.reshape(along_axis), dtype, fused=False)
    scheme = schemes.per_channel_affine_float_qparams if float_qparams else schemes.per_channel_affine
    return quantized_tensor(QuantizedArray(integers, dtype, scheme, scale, zero_point, axis))


def choose_qparams(low, high, quant_min, quant_max, reduce_range=False):
    """``(scale, zero_point)`` that map ``[low, high]`` (widened to hold 0, so that 0 is exact) onto
    the integers ``[quant_min, quant_max]``, as PyTorch's dynamic quantization chooses them
    (``quant_utils::ChooseQuantizationParams``): halved ranges with ``reduce_range``, a scale of at
    least 2^-14, the zero point from whichever end loses less, rounded and clamped into the range."""
    low, high = min(float(xp.float32(low)), 0.0), max(float(xp.float32(high)), 0.0)
    if reduce_range:
        quant_min, quant_max = quant_min // 2, quant_max // 2
    scale = (high - low) / (quant_max - quant_min)
    if float(xp.float32(scale)) == 0.0 or not xp.isfinite(xp.float32(1) / xp.float32(scale)):
        scale = 0.1
    smallest_scale = 6.1e-5
    if scale < float(xp.float32(smallest_scale)):
        amplifier = float(xp.float32(smallest_scale)) / scale
        scale = float(xp.float32(smallest_scale))
        if low == 0.0:
            high = scale * (quant_max - quant_min)
        elif high == 0.0:
            low = -scale * (quant_max - quant_min)
        else:
            low, high = low * amplifier, high * amplifier
    from_low, from_high = quant_min - low / scale, quant_max - high / scale
    low_error, high_error = abs(quant_min) - abs(low / scale), abs(quant_max) - abs(high / scale)
    initial = from_low if low_error < high_error else from_high
    zero_point = quant_min if initial < quant_min else quant_max if initial > quant_max else int(xp.rint(initial))
    return scale, zero_point


def quantize_per_tensor_dynamic(input, dtype, reduce_range):
    """``input`` quantized per tensor with the scale and zero point its own range calls for
    (``choose_qparams`` of its min and max): chainrule.quint8 or qint8."""
    lowest, highest = integer_range(dtype, "quantize_per_tensor_dynamic")
    check_float_input(input, "quantize_per_tensor_dynamic")
    values = input._array
    low, high = (values.min(), values.max()) if values.size else (0.0, 0.0)
    scale, zero_point = choose_qparams(low, high, lowest, highest, reduce_range)
    return quantize_per_tensor(input, scale, zero_point, dtype)


def dequantize(tensor):
    """The real numbers of a quantized tensor (a float32 tensor); a list of them gives a tuple; a
    plain tensor is itself."""
    if isinstance(tensor, (list, tuple)):
        return tuple(dequantize(each) for each in tensor)
    return tensor.dequantize() if isinstance(tensor, QuantizedTensor) else tensor
