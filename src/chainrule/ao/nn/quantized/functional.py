"""``torch.ao.nn.quantized.functional``: the functional forms of quantized layers, on quantized
tensors (per tensor). Those PyTorch gives output qparams take them (``hardswish(x, scale,
zero_point)``); the others keep the input's and are the same kernels ``chainrule.nn.functional``
reaches for a quantized tensor (``chainrule.quantized``'s pooling, activations, resampling)."""
from chainrule.quantized import activations, resampling
from chainrule.quantized.kernels import KERNELS

__all__ = [
    "adaptive_avg_pool2d", "adaptive_avg_pool3d", "avg_pool2d", "avg_pool3d", "celu", "clamp", "elu", "hardsigmoid",
    "hardswish", "hardtanh", "interpolate", "leaky_relu", "max_pool1d", "max_pool2d", "threshold", "upsample",
    "upsample_bilinear", "upsample_nearest",
]

avg_pool2d, avg_pool3d = KERNELS["avg_pool2d"], KERNELS["avg_pool3d"]
adaptive_avg_pool2d, adaptive_avg_pool3d = KERNELS["adaptive_avg_pool2d"], KERNELS["adaptive_avg_pool3d"]
max_pool1d, max_pool2d = KERNELS["max_pool1d"], KERNELS["max_pool2d"]
hardswish, elu, celu = activations.hardswish, activations.elu, activations.celu
hardtanh, hardsigmoid = activations.hardtanh, activations.hardsigmoid
upsample_bilinear, upsample_nearest = resampling.upsample_bilinear, resampling.upsample_nearest


def _quantized_input(input, operation):
    if not input.is_quantized:
        raise ValueError(f"Input to 'quantized.{operation}' must be quantized! (quantize it first, e.g. chainrule.quantize_per_tensor)")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """``F.interpolate`` of a quantized tensor: modes ``nearest`` and ``bilinear`` only."""
    _quantized_input(input, "interpolate")
    return resampling.interpolate(input, size, scale_factor, mode, align_corners)


upsample = interpolate


def leaky_relu(input, negative_slope=0.01, inplace=False, scale=None, zero_point=None):
    """``leaky_relu`` quantized with ``scale`` and ``zero_point`` (the input's when not given)."""
    if scale is not None and zero_point is not None:
        return activations.leaky_relu_to(input, negative_slope, scale, zero_point)
    return activations.leaky_relu(input, negative_slope)


def threshold(input, threshold, value):
    """x where x > threshold, else ``value``; the input's qparams."""
    _quantized_input(input, "threshold")
    if threshold is None or value is None:
        raise ValueError("Input to 'threshold' must be specified!")
    return activations.threshold(input, threshold, value)


def clamp(input, min_, max_):
    """min(max(x, min_), max_) on the integers; the input's qparams."""
    _quantized_input(input, "clamp")
    return activations.clamp(input, min_, max_)


