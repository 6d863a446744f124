"""Resizing quantized tensors (per tensor), as PyTorch's QuantizedCPU upsampling kernels:
``interpolate`` (and ``upsample``, ``upsample_nearest``, ``upsample_bilinear``) with mode
``nearest`` or ``nearest-exact`` for (N, C, H, W) and (N, C, D, H, W) inputs (each output
position copies an input integer), or ``bilinear`` for (N, C, H, W) (the integers interpolated in
float32, the zero point taken off and added back before rounding half to even, as PyTorch's
``quantize_val``); same scale and zero
point. The other modes and sizes have no quantized kernel in PyTorch: refused as there.
"""
from chainrule.backend import xp
from chainrule.ops import upsample
from chainrule.quantized.array import unsupported
from chainrule.quantized.kernels import per_tensor, kernel, quantized_like, through_integers

#: The dense kernel PyTorch names for each (mode, spatial dimensions) without a quantized one.
_KERNEL_NAMES = {"nearest": "upsample_nearest", "nearest-exact": "_upsample_nearest_exact", "linear": "upsample_linear",
                 "bilinear": "upsample_bilinear", "bicubic": "upsample_bicubic", "trilinear": "upsample_trilinear"}


@kernel("interpolate", "upsample")
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None, antialias=False):
    """``input`` resized as ``F.interpolate``: nearest modes copy integers; bilinear interpolates them
    (see the module's docstring). Same scale and zero point."""
    array = per_tensor(input, "interpolate")
    spatial = array.ndim - 2
    supported = (mode in ("nearest", "nearest-exact") and spatial in (2, 3)) or (mode == "bilinear" and spatial == 2)
    if not supported:
        raise unsupported(f"{_KERNEL_NAMES.get(mode, 'upsample')}{spatial}d.out")
    resize = (size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    if mode != "bilinear":
        return through_integers(upsample.interpolate, input, *resize)
    sizes = size if size is not None else [None, None]
    sizes = (sizes, sizes) if isinstance(sizes, int) else sizes
    factors = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor, scale_factor)
    if recompute_scale_factor:
        factors = (None, None)
    rows = _bilinear_taps(array.shape[2], size and sizes[0], scale_factor and factors[0], align_corners, recompute_scale_factor)
    columns = _bilinear_taps(array.shape[3], size and sizes[1], scale_factor and factors[1], align_corners, recompute_scale_factor)
    if (len(rows[0]), len(columns[0])) == array.shape[2:]:
        return quantized_like(array, array.integers)  # the same size: PyTorch copies the integers
    integers = array.integers.astype(xp.float32)
    (top, down, top_weight, down_weight), (left, right, left_weight, right_weight) = rows, columns
    upper, lower = integers[:, :, top], integers[:, :, top + down]
    along_upper = left_weight * upper[..., left] + right_weight * upper[..., left + right]
    along_lower = left_weight * lower[..., left] + right_weight * lower[..., left + right]
    shifted = top_weight[:, None] * along_upper + down_weight[:, None] * along_lower - xp.float32(array.zero_point)
    limits = xp.iinfo(array.integers.dtype)
    return quantized_like(array, xp.clip(xp.rint(shifted + xp.float32(array.zero_point)), limits.min, limits.max))


def _bilinear_taps(size, out, scale_factor, align_corners, recompute_scale_factor):
    """Along one dimension of ``size``: each output position's lower input position, the step to the
    upper one (0 at the edge) and their float32 weights (1 - λ, λ), as PyTorch's kernel computes them
    (source = ratio·(i + 0.5) - 0.5, at least 0, or ratio·i with ``align_corners``)."""
    if out is None:
        out = int(size * scale_factor)
    if align_corners:
        ratio = xp.float32(size - 1) / xp.float32(out - 1) if out > 1 else xp.float32(0)
    elif scale_factor and not recompute_scale_factor:
        ratio = xp.float32(1.0 / scale_factor)
    else:
        ratio = xp.float32(size) / xp.float32(out)
    position = xp.arange(out).astype(xp.float32)
    source = ratio * position if align_corners else xp.maximum(ratio * (position + xp.float32(0.5)) - xp.float32(0.5), xp.float32(0))
    lower = source.astype(xp.int64)
    upper_weight = (source - lower).astype(xp.float32)
    return lower, (lower < size - 1).astype(xp.int64), xp.float32(1) - upper_weight, upper_weight


@kernel("upsample_nearest")
def upsample_nearest(input, size=None, scale_factor=None):
    """``interpolate(input, size, scale_factor, "nearest")``."""
    return interpolate(input, size, scale_factor, "nearest")


@kernel("upsample_bilinear")
def upsample_bilinear(input, size=None, scale_factor=None):
    """``interpolate(input, size, scale_factor, "bilinear", align_corners=True)``."""
    return interpolate(input, size, scale_factor, "bilinear", align_corners=True)
