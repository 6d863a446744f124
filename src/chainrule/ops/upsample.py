"""Resizing images and signals: ``interpolate`` with nearest or (bi)linear interpolation.

Both are linear in the input and work one dimension at a time. Nearest reads, for each output
position, one input position (``index_select``); linear mixes the two nearest input positions, a
fixed matrix A (out, in) with two nonzero weights per row, so that in 2-d ``out = A_h @ x @ A_wᵀ``.
The gradients are those of reading and of matrix products.
"""
import math

from chainrule.backend import xp
from chainrule.ops.index import index_select
from chainrule.tensor import tensor_from_array

_MODES = ("nearest", "linear", "bilinear")


def _source_positions(size, out, scale, align_corners):
    """Where output positions 0 .. out-1 fall in the input, as PyTorch computes it: with
    ``align_corners`` the corner pixels' centres line up; otherwise pixel areas do
    ((i + 0.5) · scale - 0.5, not below 0)."""
    index = xp.arange(out, dtype=xp.float64)
    if align_corners:
        return index * ((size - 1) / (out - 1) if out > 1 else 0.0)
    return xp.maximum((index + 0.5) * scale - 0.5, 0.0)


def _linear_matrix(size, out, scale, align_corners, dtype):
    """A (out, size): row i mixes the two input positions around output i's source position."""
    source = _source_positions(size, out, scale, align_corners)
    low = xp.minimum(xp.floor(source).astype(xp.int64), size - 1)
    high = xp.minimum(low + 1, size - 1)
    weight_high = source - low
    matrix = xp.zeros((out, size))
    rows = xp.arange(out)
    matrix[rows, low] += 1.0 - weight_high
    matrix[rows, high] += weight_high
    return tensor_from_array(matrix.astype(dtype))


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L) or (N, C, H, W) to ``size`` (or the sizes times ``scale_factor``, rounded
    down), with ``mode`` 'nearest' (each output copies the input at floor(i · scale)) or
    'linear'/'bilinear' (a weighted mean of the two nearest inputs per dimension)."""
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode '{mode}' is not available in chainrule; use one of {', '.join(_MODES)}")
    if antialias:
        raise NotImplementedError("interpolate: antialias is not available in chainrule")
    spatial = input.ndim - 2
    if spatial not in (1, 2) or (mode == "linear" and spatial != 1) or (mode == "bilinear" and spatial != 2):
        raise ValueError(
            f"interpolate: mode '{mode}' expects {'3D (N, C, L)' if mode == 'linear' else '4D (N, C, H, W)' if mode == 'bilinear' else '3D or 4D'} "
            f"input, got input of size {list(input.shape)}"
        )
    if align_corners is not None and mode == "nearest":
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    sizes = tuple(input.shape[2:])
    if size is not None:
        outs = (size,) * spatial if isinstance(size, int) else tuple(size)
        scales = tuple(s / o for s, o in zip(sizes, outs))
    else:
        factors = (scale_factor,) * spatial if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
        outs = tuple(math.floor(s * f) for s, f in zip(sizes, factors))
        scales = tuple(s / o if recompute_scale_factor else 1.0 / f for s, o, f in zip(sizes, outs, factors))
    if len(outs) != spatial or any(o < 1 for o in outs):
        raise ValueError(f"interpolate: output size {outs} must have {spatial} positive sizes (input {list(input.shape)})")
    output = input
    for axis, (size_in, out, scale) in enumerate(zip(sizes, outs, scales)):
        dim = 2 + axis
        if mode == "nearest":
            source = xp.minimum(xp.floor(xp.arange(out, dtype=xp.float64) * scale).astype(xp.int64), size_in - 1)
            output = index_select(output, dim, source)
        else:
            matrix = _linear_matrix(size_in, out, scale, bool(align_corners), input.dtype)
            output = (output.swapaxes(dim, -1) @ matrix.T).swapaxes(dim, -1)
    return output
