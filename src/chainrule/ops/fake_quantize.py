"""Fake quantization: a float tensor rounded onto a quantized grid and back, with the
straight-through gradient that quantization-aware training trains through.

For a scale ``s`` and a zero point ``z`` (per tensor, or one per channel along ``axis``)::

    q   = round(x / s) + z                          (round half to even)
    out = (clamp(q, quant_min, quant_max) - z) · s

``round`` has derivative 0 almost everywhere, which would stop training; the straight-through
estimator passes the gradient through it unchanged instead, so d out / d x is 1 where ``q`` lies in
``[quant_min, quant_max]`` and 0 where the clamp cut it (PyTorch keeps that mask from forward: its
``cachemask`` operations).

The arithmetic is PyTorch's CPU kernels', so the values agree to the last bit: the scale is a
float32, ``x / s`` is ``x · (1 / s)`` with the reciprocal taken in float32, and float16 input is
computed in float32. Where ``q`` is no number (x is nan, or ±inf) the per-tensor kernel saturates
(nan goes to quant_min), while the per-channel one converts to an integer first, where every value
beyond int64 becomes int64's smallest, so quant_min.
"""
from chainrule.backend import ignoring_float_errors, xp
from chainrule.dtypes import scalar_type_name
from chainrule.ops.elementwise import selected
from chainrule.ops.op import Pointwise
from chainrule.tensor import Tensor, check_dim

#: float64 values beyond this do not fit an int64 (PyTorch's conversion makes them int64's smallest).
INT64_LIMIT = 2.0**63


class FakeQuantizePerTensorAffineCachemask(Pointwise):
    formula = "(clamp(round(x / scale) + zero_point, quant_min, quant_max) - zero_point) · scale"
    derivatives = ("1 where quant_min ≤ round(x / scale) + zero_point ≤ quant_max, else 0", None, None, None, None)

    @staticmethod
    def forward(ctx, x, scale, zero_point, quant_min, quant_max):
        output, ctx.inside = fake_quantized(x, scale, zero_point, quant_min, quant_max, per_tensor=True)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        return selected(ctx.xp, ctx.inside, grad_output), None, None, None, None


class FakeQuantizePerChannelAffineCachemask(FakeQuantizePerTensorAffineCachemask):
    """``scale`` and ``zero_point`` are arrays shaped to broadcast along the channel axis; the
    backward is the per-tensor one's (the mask kept from forward)."""

    formula = "(clamp(round(x / scale[c]) + zero_point[c], quant_min, quant_max) - zero_point[c]) · scale[c]"
    derivatives = ("1 where quant_min ≤ round(x / scale[c]) + zero_point[c] ≤ quant_max, else 0", None, None, None, None)

    @staticmethod
    def forward(ctx, x, scale, zero_point, quant_min, quant_max):
        output, ctx.inside = fake_quantized(x, scale, zero_point, quant_min, quant_max, per_tensor=False)
        return output


class FakeQuantizeLearnablePerTensorAffine(Pointwise):
    """Fake quantization whose scale and zero point learn too (LSQ, "Learned Step Size
    Quantization"): with ``q = round(x / s) + z`` and the zero point rounded into the range,
    d out / d s is ``round(x / s) - x / s`` inside the range and ``quant_min - z`` or ``quant_max - z``
    where the clamp cut, d out / d z is ``-s`` where it cut, 0 inside; both summed over the elements
    and scaled by ``grad_factor``. The factors are found in forward, as PyTorch's kernel finds them."""

    formula = "(clamp(round(x / scale) + zero_point, quant_min, quant_max) - zero_point) · scale"
    derivatives = (
        "1 where quant_min ≤ round(x / scale) + zero_point ≤ quant_max, else 0",
        "grad_factor · Σ (round(x / scale) - x / scale inside; quant_min - zero_point or quant_max - zero_point outside)",
        "grad_factor · Σ (0 inside; -scale outside)",
        None, None, None,
    )

    @staticmethod
    def forward(ctx, x, scale, zero_point, quant_min, quant_max, grad_factor):
        scale_value = xp.float32(scale.reshape(-1)[0])
        zero_point_value = int(min(max(xp.rint(xp.float32(zero_point.reshape(-1)[0])), quant_min), quant_max))
        output, _ = fake_quantized(x, scale_value, zero_point_value, quant_min, quant_max, per_tensor=True)
        # PyTorch's backward takes the zero point as int(z + 0.5), not round(z): they differ below 0
        zero_point_value = int(min(max(xp.float32(zero_point.reshape(-1)[0]) + xp.float32(0.5), quant_min), quant_max))
        inverse_scale = xp.float32(1) / scale_value
        values = x.astype(xp.float32)
        with ignoring_float_errors():
            q = xp.rint(xp.float32(zero_point_value) + values * inverse_scale)
            fake_quantized_values = (xp.clip(q, quant_min, quant_max) - xp.float32(zero_point_value)) * scale_value
            rounding = (fake_quantized_values - values) * inverse_scale
        below, above = q < quant_min, q > quant_max
        cut_at = xp.where(below, quant_min - zero_point_value, quant_max - zero_point_value)
        ctx.inside, ctx.scale_shape, ctx.zero_point_shape = ~(below | above), scale.shape, zero_point.shape
        ctx.scale_factor = (xp.where(below | above, cut_at, rounding) * grad_factor).astype(x.dtype)
        ctx.zero_point_factor = (xp.where(below | above, -scale_value, 0.0) * grad_factor).astype(x.dtype)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        grad_scale = (grad_output * ctx.scale_factor).sum().reshape(ctx.scale_shape)
        grad_zero_point = (grad_output * ctx.zero_point_factor).sum().reshape(ctx.zero_point_shape)
        return selected(ctx.xp, ctx.inside, grad_output), grad_scale, grad_zero_point, None, None, None


def fake_quantized(x, scale, zero_point, quant_min, quant_max, per_tensor):
    """``(output, inside)`` on arrays: the fake-quantized ``x`` and the mask of the elements whose
    ``q`` lies in ``[quant_min, quant_max]``. ``scale`` and ``zero_point`` are numbers or arrays that
    broadcast against ``x``; a floating zero point (PyTorch's float qparams) is added before the
    rounding, an integer one after it. PyTorch's two kernels differ beyond the non-numbers (see the
    top): the ``per_tensor`` one computes the output ``(k - z) · s`` in float32 for float64 input
    too, the per-channel one in float64."""
    computed_in = xp.float64 if x.dtype == xp.float64 else xp.float32
    scale = xp.asarray(scale, dtype=xp.float32)
    inverse_scale = (xp.float32(1) / scale).astype(computed_in)
    zero_point = xp.asarray(zero_point)
    with ignoring_float_errors():
        scaled = x.astype(computed_in) * inverse_scale
        if zero_point.dtype.kind == "f":
            q = xp.rint(scaled + zero_point.astype(computed_in))
        else:
            q = xp.rint(scaled) + zero_point
        inside = (q >= quant_min) & (q <= quant_max)
        if per_tensor:
            q = xp.where(xp.isnan(q), quant_min, q)
        else:
            q = xp.where(xp.abs(q) < INT64_LIMIT, q, -INT64_LIMIT)
        clamped = xp.clip(q, quant_min, quant_max)
        output_in = xp.float32 if per_tensor else xp.float64
        output = (clamped.astype(output_in) - zero_point.astype(output_in)) * scale.astype(output_in)
    return output.astype(x.dtype), inside


# ----------------------------------------------------------------------------- checks
def check_range(zero_point, quant_min, quant_max):
    """PyTorch's RuntimeErrors for an empty range and for an integer zero point outside it."""
    if quant_min > quant_max:
        raise RuntimeError(
            f"`quant_min` should be less than or         equal to `quant_max`. (got quant_min={quant_min}, "
            f"quant_max={quant_max}: swap them)"
        )
    zero_points = xp.asarray(zero_point)
    if zero_points.dtype.kind != "f" and zero_points.size and (zero_points.min() < quant_min or zero_points.max() > quant_max):
        raise RuntimeError(
            f"`zero_point` must be between `quant_min` and `quant_max`. (zero_point {zero_points.tolist()}, "
            f"range [{quant_min}, {quant_max}])"
        )


def check_floating(input, kernel, operation):
    """PyTorch's NotImplementedError for a fake quantization of a tensor that is not floating point."""
    if input._array.dtype.kind != "f":
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{scalar_type_name(input._array.dtype)}\' ({operation} rounds floats: '
            f"convert the input first, e.g. x.float())"
        )


def check_no_gradient(operation, **parameters):
    """PyTorch's RuntimeError for a quantization parameter that requires grad: these operations have
    no gradient for it (the learnable forms have: ``_fake_quantize_learnable_*``)."""
    for name, value in parameters.items():
        if isinstance(value, Tensor) and value.requires_grad:
            raise RuntimeError(
                f"The function '{operation}' is not differentiable with respect to argument '{name}'. This input "
                f"cannot have requires_grad True. (pass {name}.detach())"
            )


def array_of(value):
    """The array of a tensor, or a number as it is."""
    return value._array if isinstance(value, Tensor) else value


# ----------------------------------------------------------------------------- public functions
def fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min, quant_max):
    """``input`` quantized with one ``scale`` and ``zero_point`` (numbers, or one-element tensors)
    and dequantized again: same shape and dtype, values on the grid ``(k - zero_point) · scale`` for
    integers ``k`` in ``[quant_min, quant_max]``. Gradient: 1 where the clamp did not cut, else 0."""
    operation = FakeQuantizePerTensorAffineCachemask
    if isinstance(scale, Tensor) or isinstance(zero_point, Tensor):
        check_no_gradient("_fake_quantize_per_tensor_affine_cachemask_tensor_qparams", scale=scale, zero_point=zero_point)
        scale, zero_point = float(scale), int(zero_point)
        operation = operation.shown_as("FakeQuantizePerTensorAffineCachemaskTensorQparamsBackward0")
    elif isinstance(zero_point, float):
        raise TypeError(
            "fake_quantize_per_tensor_affine(): zero_point must be an int with a number scale, got "
            f"{zero_point!r} (round it, e.g. int(round(zero_point)), or pass scale and zero_point as tensors)"
        )
    check_floating(input, "fake_quantize_tensor_cachemask_kernel_type_handling", "fake_quantize_per_tensor_affine")
    check_range(zero_point, quant_min, quant_max)
    return operation.apply(input, float(scale), int(zero_point), quant_min, quant_max)


def fake_quantize_per_channel_affine(input, scale, zero_point, axis, quant_min, quant_max):
    """``input`` quantized and dequantized with ``scale[c]`` and ``zero_point[c]`` (1-d tensors of
    ``input.shape[axis]`` elements: float32 scales, int32 or floating zero points) for the slice
    ``c`` along ``axis``. Gradient: 1 where the clamp did not cut, else 0."""
    operation = "fake_quantize_per_channel_affine"
    check_no_gradient("fake_quantize_per_channel_affine_cachemask", scale=scale, zero_point=zero_point)
    if scale.dtype != xp.float32:
        raise RuntimeError(f"Scale must be Float or BFloat16, found {scalar_type_name(scale.dtype)} ({operation}: use scale.float())")
    if zero_point.dtype not in (xp.int32, xp.float32, xp.float16):
        raise RuntimeError(
            f"Zero-point must be Int32, Float or Half, found {scalar_type_name(zero_point.dtype)} ({operation}: use "
            "zero_point.int())"
        )
    if scale.dim() != 1:
        raise RuntimeError(f"scale should be a 1-D tensor ({operation}: got shape {tuple(scale.shape)})")
    if zero_point.dim() != 1:
        raise RuntimeError(f"zero point should be a 1-D tensor ({operation}: got shape {tuple(zero_point.shape)})")
    if scale.numel() != zero_point.numel():
        raise RuntimeError(
            f"scale and zero-point need to have the same dimensions ({operation}: {scale.numel()} scales, "
            f"{zero_point.numel()} zero points)"
        )
    if input.dim() == 0:
        raise IndexError(f"Dimension specified as {axis} but tensor has no dimensions ({operation} needs a channel axis)")
    check_dim(axis, input.dim(), operation)
    if axis < 0:
        raise RuntimeError(
            f"`axis` must be between 0 and number of dimensions of input ({operation}: got {axis}; use "
            f"{axis % input.dim()} for it)"
        )
    if scale.numel() != input.shape[axis]:
        raise RuntimeError(
            f"dimensions of scale and zero-point are not consistent with input tensor ({operation}: "
            f"{scale.numel()} parameters for {input.shape[axis]} channels along axis {axis})"
        )
    check_floating(input, "fake_quantize_channel_cachemask_cpu_type_handling", operation)
    check_range(zero_point._array, quant_min, quant_max)
    along_axis = (-1,) + (1,) * (input.dim() - axis - 1)
    return FakeQuantizePerChannelAffineCachemask.apply(
        input, scale._array.reshape(along_axis), zero_point._array.reshape(along_axis), quant_min, quant_max
    )


def fake_quantize_learnable_per_tensor_affine(input, scale, zero_point, quant_min, quant_max, grad_factor):
    """Fake quantization with a learnable ``scale`` and ``zero_point`` (one-element float tensors,
    the zero point rounded and clamped into the range): gradients reach all three (see
    FakeQuantizeLearnablePerTensorAffine)."""
    check_floating(input, "fake_quantize_learnable_per_tensor_affine", "_fake_quantize_learnable_per_tensor_affine")
    check_range(0 if quant_min <= 0 <= quant_max else quant_min, quant_min, quant_max)
    if scale.dim() == 0 or zero_point.dim() == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor. (_fake_quantize_learnable_per_tensor_affine: "
                         "give scale and zero_point one dimension, e.g. scale.reshape(1))")
    return FakeQuantizeLearnablePerTensorAffine.apply(input, scale, zero_point, quant_min, quant_max, grad_factor)
