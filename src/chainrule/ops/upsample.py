"""Resizing signals, images and volumes: ``interpolate`` in PyTorch's modes.

Every mode but 'area' is separable and linear in the input: each spatial dimension in turn is
resampled by a fixed plan, so the whole resize is one operation, ``Resample``, whose gradient is
the same operation with each plan replaced by its adjoint.

- nearest, nearest-exact: output i reads one input position (a ``Gather``); its adjoint sums the
  gradient of the outputs that read each input (``SumBack``), whose adjoint is the gather again.
- linear, bilinear, trilinear, bicubic and the antialiased filters (bilinear, bicubic, lanczos):
  a matrix A (out, in) with a few weights per row (``Mix``), out = A_h @ x @ A_wᵀ for an image;
  its adjoint is Aᵀ.

'area' is adaptive average pooling to the output size, as in PyTorch.
"""
import math

from chainrule.backend import add_at, is_scalar, xp
from chainrule.creation import as_integer
from chainrule.dtypes import scalar_type_name, uint8
from chainrule.memory_layout import CHANNELS_LAST_OF_ANY_INPUT
from chainrule.ops.half_precision import for_input
from chainrule.ops.op import Op
from chainrule.ops.pool import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d
from chainrule.tensor import Tensor

_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "lanczos", "area", "nearest-exact")
#: The modes that take ``align_corners`` and the spatial dimensions each needs.
_INTERPOLATING = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_NODE_NAMES = {
    "nearest": "UpsampleNearest{}DBackward0",
    "nearest-exact": "UpsampleNearestExact{}DBackward0",
    "linear": "UpsampleLinear1DBackward0",
    "bilinear": "UpsampleBilinear2DBackward0",
    "trilinear": "UpsampleTrilinear3DBackward0",
    "bicubic": "UpsampleBicubic2DBackward0",
    "lanczos": "UpsampleLanczos2DBackward0",  # antialiased only: shown as UpsampleLanczos2DAaBackward0
}


# ----------------------------------------------------------------------------- plans: one per dimension
class Gather:
    """Output i along the dimension is input ``index[i]`` (a non-decreasing index, as nearest
    modes make); ``repeats`` when every input is read that many times in a row (integer
    upsampling), which its adjoint sums fastest."""

    def __init__(self, index, size):
        self.index, self.size = index, size
        out = len(index)
        self.repeats = out // size if out % size == 0 and xp.array_equal(index, xp.arange(out) // (out // size)) else None

    def applied(self, values, axis):
        if self.repeats == 1:
            return values
        return xp.take(values, self.index, axis=axis)

    def adjoint(self):
        return SumBack(self.index, self.size, self.repeats)


#: Up to this many inputs along a dimension, summing runs back is a product with a 0/1 matrix.
_SMALL_SIDE = 256


class SumBack:
    """The adjoint of ``Gather``: input j along the dimension (of ``size``) gets the sum of the
    outputs that read it, never by a scatter: for ``repeats``, by adding strided views; along a
    short dimension, as a product with the 0/1 matrix of the gather; else runs of equal indices
    summed with ``add.reduceat``."""

    def __init__(self, index, size, repeats):
        self.index, self.size, self.repeats = index, size, repeats

    def applied(self, values, axis):
        if self.repeats == 1:
            return values
        shape = values.shape
        if self.repeats is not None:
            grouped = values.reshape(shape[:axis] + (self.size, self.repeats) + shape[axis + 1 :])
            lead = (slice(None),) * (axis + 1)
            total = grouped[lead + (0,)].copy()
            for offset in range(1, self.repeats):
                total += grouped[lead + (offset,)]
            return total
        if self.size <= _SMALL_SIDE:  # a product with the 0/1 matrix: BLAS beats any reduction here
            selection = xp.zeros((len(self.index), self.size), dtype=values.dtype)
            selection[xp.arange(len(self.index)), self.index] = 1
            return Mix(selection.T).applied(values, axis)
        starts = xp.flatnonzero(xp.diff(self.index, prepend=-1))  # where each run of one source begins
        runs = xp.add.reduceat(values, starts, axis=axis) if len(starts) < len(self.index) else values
        if len(starts) == self.size:  # every input read at least once, in order
            return runs
        total = xp.zeros(shape[:axis] + (self.size,) + shape[axis + 1 :], dtype=values.dtype)
        total[(slice(None),) * axis + (self.index[starts],)] = runs
        return total

    def adjoint(self):
        return Gather(self.index, self.size)


class Mix:
    """Output i along the dimension is Σ_j matrix[i, j] · input j: ``matrix`` (out, in)."""

    def __init__(self, matrix):
        self.matrix = matrix

    def applied(self, values, axis):
        matrix = self.matrix.astype(values.dtype, copy=False)
        if axis == values.ndim - 1:
            return values @ matrix.T
        return xp.moveaxis(matrix @ xp.moveaxis(values, axis, -2), -2, axis)

    def adjoint(self):
        return Mix(self.matrix.T)


def resampled(values, plans, last_first=False):
    """``values`` (N, C, *size) with plan k applied along spatial dimension k, for each k (from the
    last one with ``last_first``): a new array, also where every plan keeps its dimension."""
    steps = list(enumerate(plans, start=2))
    resized = values
    for axis, plan in reversed(steps) if last_first else steps:
        resized = plan.applied(resized, axis)
    return resized.copy() if resized is values else xp.ascontiguousarray(resized)


class Resample(Op):
    """A separable resize: each spatial dimension resampled by its plan (a gather for the nearest
    modes, a matrix for the interpolating ones). The gradient is the adjoint resize."""

    keeps_layout = CHANNELS_LAST_OF_ANY_INPUT

    formula = "out[n, c, i, j] = Σ_p,q A_h[i, p] · A_w[j, q] · input[n, c, p, q]"
    derivatives = ("Σ_i,j A_h[i, p] · A_w[j, q] · grad[n, c, i, j]",)

    @staticmethod
    def forward(ctx, input, plans):
        ctx.plans = plans
        return resampled(input, plans)

    @staticmethod
    def backward(ctx, grad_output):
        adjoints = [plan.adjoint() for plan in ctx.plans]
        # the adjoint is this same operation, recorded as one when the backward is (create_graph)
        if isinstance(grad_output, Tensor):
            return Resample.shown_as(ctx.name().removesuffix("0") + "Backward0").apply(grad_output, adjoints), None
        return resampled(grad_output, adjoints), None


# ----------------------------------------------------------------------------- where outputs read the input
def _compute_dtype(input):
    """PyTorch computes positions and weights in float64 for float64 input, else in float32."""
    return xp.float64 if input.dtype == xp.float64 else xp.float32


def _scale(size, out, scale_factor, align_corners, dtype):
    """Input positions per output position, as PyTorch's area_pixel_compute_scale: with
    ``align_corners`` the corner pixels' centres line up; otherwise 1 / scale_factor when given,
    else size / out."""
    if align_corners:
        return dtype((size - 1) / (out - 1) if out > 1 else 0.0)
    if scale_factor is not None and scale_factor > 0:
        return dtype(1.0 / scale_factor)
    return dtype(size) / dtype(out)


def _source_positions(scale, out, align_corners, cubic, dtype):
    """Where outputs 0 .. out-1 fall in the input: i · scale with ``align_corners``, else pixel
    areas line up, (i + 0.5) · scale - 0.5 (not below 0, except for cubic)."""
    index = xp.arange(out).astype(dtype)
    if align_corners:
        return scale * index
    source = scale * (index + dtype(0.5)) - dtype(0.5)
    return source if cubic else xp.maximum(source, dtype(0))


def _nearest_plan(size, out, scale_factor, exact, images, dtype):
    """'nearest' reads input floor(i · scale) (OpenCV's INTER_NEAREST); 'nearest-exact'
    floor((i + 0.5) · scale), pixel centres (Pillow's and SciPy's), computed as PyTorch does.
    PyTorch's kernel for ``images`` (4-D input) reads input i for out = size and i // 2 for
    out = 2 size whatever the scale factor; its 1-d and 3-d kernels do not."""
    if images and not exact and out in (size, 2 * size):
        return Gather(xp.arange(out) // (out // size), size)
    scale = _scale(size, out, scale_factor, False, dtype)
    if exact:
        source = _source_positions(scale, out, False, False, dtype) + dtype(0.5)
    else:
        source = _source_positions(scale, out, True, False, dtype)
    return Gather(xp.minimum(xp.floor(source).astype(xp.int64), size - 1), size)


def _kept(size):
    """The plan that leaves a dimension as it is."""
    return Gather(xp.arange(size), size)


def _matrix(size, rows, columns, weights):
    """A (out, size) with ``weights[i, t]`` added at (i, ``columns[i, t]``) (repeated columns add)."""
    matrix = xp.zeros((len(rows), size))
    add_at(matrix, (xp.repeat(rows, columns.shape[1]), columns.reshape(-1)), weights.reshape(-1))
    return matrix


def _linear_taps(size, out, scale_factor, align_corners, dtype):
    """Row i mixes the two input positions around output i's source position: their columns and
    weights, each (out, 2)."""
    source = _source_positions(_scale(size, out, scale_factor, align_corners, dtype), out, align_corners, False, dtype)
    low = xp.minimum(xp.floor(source).astype(xp.int64), size - 1)
    weight_high = xp.clip(source - low, 0, 1).astype(xp.float64)
    high = xp.minimum(low + 1, size - 1)
    return xp.stack([low, high], 1), xp.stack([1 - weight_high, weight_high], 1)


def _cubic_coefficients(t, a):
    """Keys' cubic convolution weights of the four inputs at offsets -1, 0, 1, 2 from a source
    position t (0 <= t <= 1) past the second."""

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return xp.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], 1)


def _cubic_taps(size, out, scale_factor, align_corners, dtype):
    """Row i weights the four inputs around output i's source position by cubic convolution
    (A = -0.75); positions past the border read the border. Columns and weights, each (out, 4)."""
    source = _source_positions(_scale(size, out, scale_factor, align_corners, dtype), out, align_corners, True, dtype)
    low = xp.minimum(xp.floor(source).astype(xp.int64), size - 1)
    t = xp.clip(source - low, 0, 1).astype(xp.float64)
    columns = xp.clip(low[:, None] + xp.arange(-1, 3), 0, size - 1)
    return columns, _cubic_coefficients(t, -0.75)


def _triangle(x):
    return xp.maximum(1 - xp.abs(x), 0)


def _keys_cubic(x):
    """The cubic convolution kernel with a = -0.5, as PyTorch's (and Pillow's) antialiasing uses."""
    a, x = -0.5, xp.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return xp.where(x < 1, near, xp.where(x < 2, far, 0.0))


def _lanczos(x):
    """The Lanczos-3 window, sinc(x) · sinc(x / 3) for |x| < 3 (Pillow's LANCZOS, as PyTorch's)."""
    return xp.where(xp.abs(x) < 3, xp.sinc(x) * xp.sinc(x / 3), 0.0)


#: The antialiasing filters by mode: how many inputs they span at scale 1, and the kernel.
_ANTIALIAS_FILTERS = {"bilinear": (2, _triangle), "bicubic": (4, _keys_cubic), "lanczos": (6, _lanczos)}


def _antialias_taps(size, out, scale_factor, align_corners, mode, dtype):
    """PyTorch's (and Pillow's) antialiased resampling: the filter stretched by the scale when
    downsampling (so that every input inside it counts), each row's weights normalized to sum 1.
    Columns and weights, each (out, taps)."""
    scale = float(_scale(size, out, scale_factor, align_corners, dtype))
    taps, kernel = _ANTIALIAS_FILTERS[mode]
    support = taps * 0.5 * scale if scale >= 1.0 else taps * 0.5
    width = math.ceil(support) * 2 + 1
    inverse = 1.0 / scale if scale >= 1.0 else 1.0
    center = scale * (xp.arange(out) + 0.5)
    first = xp.maximum((center - support + 0.5).astype(xp.int64), 0)
    count = xp.clip(xp.minimum((center + support + 0.5).astype(xp.int64), size) - first, 0, width)
    offsets = xp.arange(width)
    weights = kernel((first[:, None] + offsets - center[:, None] + 0.5) * inverse) * (offsets < count[:, None])
    total = weights.sum(1, keepdims=True)
    return xp.minimum(first[:, None] + offsets, size - 1), weights / xp.where(total == 0, 1, total)


def _taps(size, out, scale_factor, align_corners, mode, antialias, dtype):
    """The columns and weights (each (out, taps)) of an interpolating mode along one dimension."""
    if antialias:
        return _antialias_taps(size, out, scale_factor, align_corners, mode, dtype)
    if mode == "bicubic":
        return _cubic_taps(size, out, scale_factor, align_corners, dtype)
    return _linear_taps(size, out, scale_factor, align_corners, dtype)


def _mix_plan(size, taps):
    """The plan of ``taps``: the matrix A (out, size) that sums each row's weights into its columns."""
    columns, weights = taps
    return Mix(_matrix(size, xp.arange(len(columns)), columns, weights))


# ----------------------------------------------------------------------------- uint8 images
class FixedPointMix:
    """A ``Mix`` of uint8 values as PyTorch (after Pillow) computes it: in integers, with the
    weights scaled by 2^precision and rounded (half away from zero),

        out[i] = clamp((Σ_j W[i, j] · input[j] + 2^(precision - 1)) >> precision, 0, 255)

    that is the weighted sum rounded half up, clamped to the uint8 range (bicubic overshoots).
    ``precision`` is the most bits that keep the largest weight (a partial sum of a border
    input's weights included, as PyTorch accumulates them) below 2^15."""

    def __init__(self, size, taps):
        columns, weights = taps
        largest = running = weights[:, 0]
        for tap in range(1, weights.shape[1]):  # weights summed into one border column, as they are added
            running = xp.where(columns[:, tap] == columns[:, tap - 1], running + weights[:, tap], weights[:, tap])
            largest = xp.maximum(largest, running)
        largest = float(largest.max())
        self.precision = 0
        while self.precision < 22 and math.floor(0.5 + largest * 2 ** (self.precision + 1)) < 2**15:
            self.precision += 1
        scaled = _matrix(size, xp.arange(len(columns)), columns, weights) * 2**self.precision
        self.matrix = xp.trunc(scaled + xp.copysign(0.5, scaled))

    def applied(self, values, axis):
        # the sums of uint8 values times int16 weights are exact in float64 (far below 2^53)
        total = Mix(self.matrix).applied(values.astype(xp.float64), axis)
        return xp.clip(xp.floor((total + 2 ** (self.precision - 1)) / 2**self.precision), 0, 255).astype(xp.uint8)


class ResampleImage(Op):
    """A uint8 image resized in fixed point (``FixedPointMix``), as PyTorch does: its width first,
    then its height, each pass rounded to uint8; a dimension whose size stays is left as it is.
    Integers have no gradient."""

    keeps_layout = CHANNELS_LAST_OF_ANY_INPUT

    formula = "out[n, c, i, j] = round(Σ_p A_h[i, p] · round(Σ_q A_w[j, q] · input[n, c, p, q]))"
    derivatives = (None, None)

    @staticmethod
    def forward(ctx, input, plans):
        return resampled(input, plans, last_first=True)


# ----------------------------------------------------------------------------- interpolate
def _check_mode(input, mode, antialias, align_corners):
    """PyTorch's checks of the mode against the input (after those of the sizes), with its errors."""
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D tensor as input")
    if mode in _INTERPOLATING and input.ndim in (3, 4, 5) and input.ndim != _INTERPOLATING[mode] + 2 and mode != "bicubic":
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_INTERPOLATING[mode] + 2}D input")
    if mode not in _MODES or input.ndim not in (3, 4, 5) or (mode in ("bicubic", "lanczos") and input.ndim != 4):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the modes: "
            f"nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got {mode})"
        )
    if mode == "lanczos":
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")


#: PyTorch's kernel named in its error for an input dtype that the mode does not take, per input dimensions.
_KERNEL_NAMES = {
    "nearest": {4: "upsample_nearest2d_channels_last"},
    "linear": {}, "trilinear": {},
    "bilinear": {4: "upsample_bilinear2d_channels_last"},
    "bicubic": {4: "compute_indices_weights_cubic"},
}
_KERNEL_NAMES["nearest-exact"] = _KERNEL_NAMES["nearest"]
#: The modes that take uint8 images too.
_UINT8_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic", "lanczos")


def _check_dtype(input, mode, antialias):
    """The dtypes PyTorch's kernels take, with its error for the others: floating point for every
    mode (only float32 and float64 with ``antialias``), and uint8 (images' dtype) for the nearest
    modes and the bilinear and bicubic ones."""
    name = input._array.dtype.name
    if antialias:
        kernel, taken = "compute_index_ranges_weights", name in ("float32", "float64", "uint8")
    else:
        default = "compute_indices_weights_nearest" if mode.startswith("nearest") else "compute_indices_weights_linear"
        kernel = _KERNEL_NAMES[mode].get(input.ndim, default)
        taken = input.is_floating_point() or (name == "uint8" and mode in _UINT8_MODES)
    if not taken:
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{scalar_type_name(input._array.dtype)}\': interpolate in mode '
            f"'{mode}'{' with antialias' if antialias else ''} takes "
            f"{'float32, float64' if antialias else 'floating-point'}{' or uint8' if mode in _UINT8_MODES else ''} "
            f"input; convert it with .float()"
        )


def _output_sizes(input, size, scale_factor, recompute_scale_factor):
    """The output's spatial sizes and the scale factors PyTorch's kernels get (None where the
    sizes decide the scale), after PyTorch's checks of ``size`` and ``scale_factor``."""
    spatial = input.ndim - 2
    sizes = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != spatial:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {sizes} and output size of {size}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format."
                )
        entries = list(size) if isinstance(size, (list, tuple)) else [size] * spatial
        outs = [as_integer(each) for each in entries]  # ints, NumPy integers, one-element integer tensors
        if None in outs:
            raise TypeError(
                "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                f"Tuple[int, int, int], but got size with types {[type(each) for each in entries]} (interpolate: "
                f"give the output size as ints, or a float scale as scale_factor)"
            )
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        return outs, [None] * spatial
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != spatial:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {sizes} and "
                f"scale_factor of shape {scale_factor}. "
                "Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                "scale_factor in (s1, s2, ...,sK) format."
            )
        factors = [_scale_factor(each, scale_factor) for each in scale_factor]
    else:
        factors = [_scale_factor(scale_factor, scale_factor)] * spatial
    outs = [int(s * f) for s, f in zip(sizes, factors)]
    return outs, [None] * spatial if recompute_scale_factor else factors


def _scale_factor(value, given):
    """``value`` (one of ``given``, the scale_factor argument) as a float, where PyTorch takes it
    for one: a Python or NumPy real number (a bool too); anything else, a tensor included, is a
    TypeError, as PyTorch's argument parser raises."""
    if isinstance(value, (int, float)) or (is_scalar(value) and value.dtype.kind in "biuf"):
        return float(value)
    raise TypeError(
        f"interpolate(): scale_factor must be a float or a tuple of floats, but got {given!r} "
        f"(of type {type(value).__name__}); pass Python numbers (a tensor's with .item())"
    )


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size``, or to the sizes times
    ``scale_factor`` (rounded down), as ``torch.nn.functional.interpolate``.

    ``mode``: 'nearest' (output i copies input floor(i · scale)), 'nearest-exact' (input
    floor((i + 0.5) · scale)), 'linear' / 'bilinear' / 'trilinear' (the weighted mean of the two
    nearest inputs per dimension), 'bicubic' (cubic convolution of four inputs per dimension,
    A = -0.75), 'lanczos' (4-D, with ``antialias`` only: the Lanczos-3 window sinc(x) · sinc(x / 3)
    over six inputs per dimension, Pillow's LANCZOS), 'area' (the mean of each output's window:
    adaptive average pooling). Here scale = in / out, or 1 / scale_factor when that is given and
    ``recompute_scale_factor`` is not set. ``align_corners`` (interpolating modes) makes the corner
    pixels' centres line up instead of the pixel areas' edges. ``antialias`` (bilinear, bicubic,
    lanczos) widens the filter by the scale when downsampling, so that every input counts.
    """
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")
    outs, factors = _output_sizes(input, size, scale_factor, recompute_scale_factor)
    _check_mode(input, mode, antialias, align_corners)
    sizes = tuple(input.shape[2:])
    if mode == "area":
        pool = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[len(sizes) - 1]
        return pool(input, outs[0] if len(sizes) == 1 else tuple(outs))
    if any(side <= 0 for side in (*sizes, *outs)):
        names = ("D", "H", "W")[-len(sizes) :]
        raise RuntimeError(
            "Input and output sizes should be greater than 0, but got input "
            f"({', '.join(f'{name}: {s}' for name, s in zip(names, sizes))}) output "
            f"({', '.join(f'{name}: {o}' for name, o in zip(names, outs))})"
        )
    if input.shape[1] == 0:
        raise RuntimeError(
            f"Non-empty {input.ndim}D data tensor expected but got a tensor with sizes {list(input.shape)} "
            f"(interpolate needs at least one channel; only the batch may be empty)"
        )
    _check_dtype(input, mode, antialias)
    dtype, corners = _compute_dtype(input), bool(align_corners)
    # PyTorch's linear and antialiased kernels copy a dimension whose size stays, whatever the
    # scale factor (its bicubic kernel copies only in its backward, when both sizes stay)
    if mode in ("nearest", "nearest-exact"):
        plans = [_nearest_plan(s, o, f, mode == "nearest-exact", input.ndim == 4, dtype) for s, o, f in zip(sizes, outs, factors)]
        return Resample.shown_as(_NODE_NAMES[mode].format(len(sizes))).apply(input, plans)
    if input.dtype == uint8:  # its weights computed in float64 (as PyTorch does), then in fixed point
        plans = [FixedPointMix(s, _taps(s, o, f, corners, mode, antialias, xp.float64)) if s != o else _kept(s) for s, o, f in zip(sizes, outs, factors)]
        return ResampleImage.apply(input, plans)
    plans = [
        _mix_plan(s, _taps(s, o, f, corners, mode, antialias, dtype)) if s != o or (mode == "bicubic" and not antialias) else _kept(s)
        for s, o, f in zip(sizes, outs, factors)
    ]
    resample = Resample.shown_as(_NODE_NAMES[mode].replace("2D", "2DAa") if antialias else _NODE_NAMES[mode])
    return for_input(resample, input).apply(input, plans)  # float16: mixed in float32, rounded once, as PyTorch's
