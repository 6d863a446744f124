"""Sampling an image at arbitrary points: ``affine_grid`` makes the points of an affine
transformation, ``grid_sample`` reads the input there (spatial transformer networks).

Each is one operation, as in PyTorch (``AffineGridGeneratorBackward0``, ``GridSampler2DBackward0``,
``GridSampler3DBackward0``), with its gradients written beside it:

- ``affine_grid`` is a batched matrix product of a fixed grid of (x, y[, z], 1) with θᵀ; the
  gradient of θ is the product of the grid's gradient with that fixed grid.
- ``grid_sample``: each grid point becomes a position in the input along each spatial axis
  (unnormalized, then moved inside by the padding mode), and reads a few pixels there, the *taps*
  (2 per axis for 'bilinear', 1 for 'nearest', 4 for 'bicubic'), mixed with weights that are
  functions of the position's fractional part t:

      out[n, c, p] = Σ_k w_k(t[n, p]) · input[n, c, tap_k[n, p]]

  The input's gradient adds ``grad · w_k`` back at each tap; the grid's is
  Σ_c,k grad · input[tap_k] · ∂w_k/∂t, times ∂t/∂grid: the unnormalizing scale, 0 where the
  padding clipped the point to the border (a point exactly on it included, as PyTorch's
  ``clip_coordinates_set_grad``) and -1 where a reflection mirrored it. The taps (integer
  positions) carry no gradient. Recorded (``create_graph``), the backward is a function of the
  grid too, so that second derivatives flow.
"""
import itertools
import math

from chainrule.caller_warnings import warn_at_caller
from chainrule.backend import ignoring_float_errors, xp
from chainrule.dtypes import scalar_type_name
from chainrule.ops.op import Op
from chainrule.tensor import Tensor

_ALIGN_CORNERS_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please specify "
    "align_corners=True if the old behavior is desired. See the documentation of grid_sample for details."
)
_CUBIC_A = -0.75  # the cubic convolution's free parameter, as PyTorch (and OpenCV) choose it


def _align_corners_given(align_corners):
    if align_corners is None:
        warn_at_caller(_ALIGN_CORNERS_WARNING)
        return False
    return bool(align_corners)


# ----------------------------------------------------------------------------- affine_grid
def _steps_from_minus_one(steps, align_corners, dtype):
    """``steps`` evenly spaced positions in [-1, 1]: the pixel corners with ``align_corners``,
    else the pixel centres (shrunk by (steps - 1) / steps); one step is the centre, 0."""
    if steps <= 1:
        return xp.zeros(1, dtype=dtype)
    from chainrule.creation import evenly_spaced  # creation's module imports the ops

    positions = evenly_spaced(-1, 1, steps, xp.dtype(dtype))  # PyTorch's linspace, in θ's dtype
    if not align_corners:  # rounded in θ's dtype at each step, as PyTorch's: a centre may be 1 ulp off
        positions = positions * positions.dtype.type(steps - 1) / positions.dtype.type(steps)
    return positions


class AffineGridGenerator(Op):
    """The points of affine transformations: θ (N, d, d + 1) -> grid (N, *sizes, d), point p of
    sample n being θ[n] @ (x_p, y_p[, z_p], 1) for the output pixel's own position (x_p, ...)."""

    formula = "out[n, p] = θ[n] @ base[p],  base[p] = (x_p, y_p[, z_p], 1)"
    derivatives = ("Σ_p grad[n, p] ⊗ base[p]", None, None)

    @staticmethod
    def forward(ctx, theta, size, align_corners):
        spatial = len(size) - 2
        axes = [_steps_from_minus_one(steps, align_corners, theta.dtype) for steps in size[2:]]  # (D,) H, W
        mesh = xp.meshgrid(*axes, indexing="ij")
        points = xp.stack([*mesh[::-1], xp.ones(mesh[0].shape, dtype=theta.dtype)], axis=-1)  # (..., x y [z] 1)
        ctx.base = points.reshape(1, -1, spatial + 1)
        return (ctx.base @ xp.swapaxes(theta, 1, 2)).reshape((size[0], *size[2:], spatial))

    @staticmethod
    def backward(ctx, grad_output):
        batch, spatial = grad_output.shape[0], grad_output.shape[-1]
        grad_points = grad_output.reshape(batch, -1, spatial)  # (N, P, d)
        return ctx.xp.swapaxes(grad_points, 1, 2) @ ctx.base, None, None


def affine_grid(theta, size, align_corners=None):
    """The sampling points of affine transformations: θ (N, 2, 3) and size (N, C, H, W) ->
    grid (N, H, W, 2), or θ (N, 3, 4) and size (N, C, D, H, W) -> grid (N, D, H, W, 3).

    Point [n, i, j] is θ[n] @ (x_j, y_i, 1): the output pixel's own position in [-1, 1] (x across
    the width first, as ``grid_sample`` reads it), moved by the transformation. The gradient with
    respect to θ is that of the matrix product.
    """
    align_corners = _align_corners_given(align_corners)
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    given, size = size, tuple(size)  # PyTorch's messages show the size as given (a list, a Size)
    if len(size) not in (4, 5):
        raise NotImplementedError(
            f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. Got size {given}."
        )
    spatial = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (spatial, spatial + 1):
        raise ValueError(
            f"Expected a batch of {spatial}D affine matrices of shape Nx{spatial}x{spatial + 1} for size {given}. "
            f"Got {theta.shape}."
        )
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {given}")
    if align_corners and min(size[2:]) == 1:
        warn_at_caller(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when align_corners=True. "
            "This is not an intended use case of affine_grid. See the documentation of affine_grid for details.",
        )
    if theta.shape[0] != size[0]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{size[0]}, {spatial + 1}] "
            f"but got: [{theta.shape[0]}, {spatial + 1}]."
        )
    return AffineGridGenerator.apply(theta, size, align_corners)


# ----------------------------------------------------------------------------- grid_sample: where a point reads
def _unnormalized(coordinate, size, align_corners, spatial):
    """A grid coordinate in [-1, 1] as a pixel position in [0, size - 1] (corners) or
    [-0.5, size - 0.5] (pixel areas), rounded as PyTorch's 2-d (vectorized) or 3-d kernel rounds it
    (a position that lands on a half pixel decides which pixel 'nearest' reads)."""
    if spatial == 2:
        return (coordinate + 1) * ((size - 1) / 2) if align_corners else (coordinate + 1) * (size / 2) - 0.5
    return (coordinate + 1) / 2 * (size - 1) if align_corners else ((coordinate + 1) * size - 1) / 2


def _reflected(position, size, align_corners):
    """``position`` mirrored at the borders (the corner pixels' centres with ``align_corners``, else
    their outer edges) until it lies between them, as PyTorch's ``reflect_coordinates``, and
    d reflected / d position: -1 where an odd number of mirrorings turned it around, else 1."""
    low, twice_span = (0.0, 2 * (size - 1)) if align_corners else (-0.5, 2 * size)
    if twice_span == 0:  # one pixel between corners: every position is that pixel, fixed
        return xp.zeros_like(position), xp.zeros_like(position)
    shifted = position - low
    extra = xp.fmod(xp.abs(shifted), twice_span)  # where in one period of two mirror images
    turned = extra > twice_span - extra
    slope = xp.where(turned != (shifted < 0), -1, 1).astype(position.dtype)
    return xp.where(turned, twice_span - extra, extra) + low, slope


def _clipped(position, size, nan_to_far_border):
    """``position`` clipped to [0, size - 1], and d clipped / d position: 0 where it was clipped,
    a point exactly on a border included (PyTorch counts the borders as outside for the gradient).
    nan goes to pixel 0, or to size - 1 with ``nan_to_far_border``: PyTorch's vectorized 2-d
    kernel clamps with max(0, x) (nan gives 0), its 3-d kernel with min(size - 1, max(x, 0))."""
    lowest = xp.maximum(position, 0) if nan_to_far_border else xp.where(position > 0, position, 0)
    clipped = xp.where(lowest < size - 1, lowest, size - 1)  # nan compares False
    return clipped, ((clipped > 0) & (clipped < size - 1)).astype(position.dtype)


def _padded(position, size, padding_mode, align_corners, nan_to_far_border):
    """Where a pixel position reads under ``padding_mode``, and d that / d position: as it is
    ('zeros': outside reads 0), clipped to the border, or reflected at the border, then clipped."""
    if padding_mode == "zeros":
        return position, 1
    slope = 1
    if padding_mode == "reflection":
        position, slope = _reflected(position, size, align_corners)
    position, clip_slope = _clipped(position, size, nan_to_far_border)
    return position, slope * clip_slope


def _cubic_weights(t):
    """The four weights of the cubic convolution (Keys, a = -0.75) of the pixels at offsets
    -1, 0, 1, 2 from the floor of a position with fractional part t, and their derivatives in t."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    def near_slope(x):
        return (3 * (a + 2) * x - 2 * (a + 3)) * x

    def far_slope(x):
        return (3 * a * x - 10 * a) * x + 8 * a

    weights = [far(t + 1), near(t), near(1 - t), far(2 - t)]
    slopes = [far_slope(t + 1), near_slope(t), -near_slope(1 - t), -far_slope(2 - t)]
    return weights, slopes


def _tap_weights(mode, t):
    """The weights of one axis's taps for fractional parts ``t`` (an array, or a tensor in a
    recorded backward), and their derivatives in t (the weights' slopes)."""
    if mode == "bicubic":
        return _cubic_weights(t)
    if mode == "bilinear":
        return [1 - t, t], [-1, 1]
    # nearest: one tap, of weight 1 wherever the point lies (its t is 0), written with t so that a
    # recorded backward stays a function of the grid, as PyTorch's does
    return [1 - t], [0 * t]


class _Taps:
    """Where the points of a grid (N, *out_sizes, d) read an input (N, C, *sizes), computed once
    in forward for backward too. A corner k is a combination of one tap per axis:

    - ``places[k]`` (N, 1, Q): the pixel corner k reads, as an index into a sample's pixels
      followed by one zero (``_padded_pixels``): ``pixels`` for a corner outside the input;
    - ``corners[k]``: which tap of each axis corner k takes;
    - ``fractions[a]`` (N, Q): the fractional part t of the position along spatial axis a, from
      which the weights follow (``_tap_weights``);
    - ``grid_slopes[a]``: d t / d grid coordinate along axis a (the unnormalizing scale times the
      padding's slope).
    """

    def __init__(self, input_shape, grid, mode, padding_mode, align_corners):
        self.batch, sizes = input_shape[0], input_shape[2:]
        self.mode, self.spatial = mode, len(sizes)
        self.pixels, self.points = math.prod(sizes), math.prod(grid.shape[1:-1])
        coordinates = grid.reshape(self.batch, self.points, self.spatial)
        self.fractions, self.grid_slopes, positions, inside = [], [], [], []
        for axis, size in enumerate(sizes):
            # the grid's last axis is (x, y[, z]): the input's spatial dimensions in reverse order
            taps, fraction, slope = self._axis(coordinates[..., self.spatial - 1 - axis], size, padding_mode, align_corners)
            self.fractions.append(fraction)
            self.grid_slopes.append(slope)
            inside.append([(tap >= 0) & (tap < size) for tap in taps])  # nan compares False: outside
            positions.append([xp.where(tap_inside, tap, 0).astype(xp.int64) for tap, tap_inside in zip(taps, inside[-1])])
        strides = [math.prod(sizes[axis + 1 :]) for axis in range(self.spatial)]
        self.corners = list(itertools.product(*[range(len(taps)) for taps in positions]))
        self.places, self.inside = [], []
        for corner in self.corners:
            place, corner_inside = 0, True
            for axis, tap in enumerate(corner):
                place = place + positions[axis][tap] * strides[axis]
                corner_inside = corner_inside & inside[axis][tap]
            self.places.append(xp.where(corner_inside, place, self.pixels).reshape(self.batch, 1, self.points))
            self.inside.append(corner_inside)

    def _axis(self, coordinate, size, padding_mode, align_corners):
        """The taps of one axis (pixel positions as floats, each (N, Q)), the fractional part
        t and d t / d coordinate."""
        scale = (size - 1) / 2 if align_corners else size / 2
        position = _unnormalized(coordinate, size, align_corners, self.spatial)
        nan_to_far_border = self.spatial == 3
        if self.mode == "bicubic":  # each of the 4 taps is padded on its own, as PyTorch's get_value_bounded
            low = xp.floor(position)
            taps = [
                xp.trunc(_padded(low + offset, size, padding_mode, align_corners, nan_to_far_border)[0]) for offset in (-1, 0, 1, 2)
            ]
            return taps, position - low, scale
        position, slope = _padded(position, size, padding_mode, align_corners, nan_to_far_border)
        if self.mode == "nearest":
            return [xp.rint(position)], xp.zeros_like(position), 0  # rounding half to even, as PyTorch
        low = xp.floor(position)
        return [low, low + 1], position - low, slope * scale

    def weights(self, grid):
        """Per axis, the weights of its taps and their derivatives in t: arrays, or in a recorded
        backward (``grid`` a tensor) tensors that are functions of the grid, t = t₀ + slope ·
        (grid - grid₀) (t's value, with its derivative), so that second derivatives flow."""
        fractions = self.fractions
        if isinstance(grid, Tensor):
            coordinates = grid.reshape(self.batch, self.points, self.spatial)
            moved = coordinates - coordinates.detach()  # zeros, whose derivative is the grid's
            fractions = [
                moved[..., self.spatial - 1 - axis] * slope + t
                for axis, (t, slope) in enumerate(zip(fractions, self.grid_slopes))
            ]
        per_axis = [_tap_weights(self.mode, t) for t in fractions]
        return [weights for weights, _ in per_axis], [derivatives for _, derivatives in per_axis]

    def corner_weight(self, k, weights, values):
        """The weight of corner k, (N, 1, Q): the product of its taps' weights. PyTorch's 3-d kernel
        skips a corner outside the input (its weight, even a nan one, counts 0); the 2-d kernel
        multiplies the 0 it reads there by the weight (nan stays nan)."""
        weight = 1
        for axis, tap in enumerate(self.corners[k]):
            weight = weight * weights[axis][tap]
        if self.spatial == 3:
            weight = values.where(self.inside[k], weight, 0.0)
        return weight.reshape(self.batch, 1, self.points)

    def starts(self, channels):
        """Where each (sample, channel)'s pixels start in ``_padded_pixels``: (N, C, 1)."""
        return (xp.arange(self.batch * channels) * (self.pixels + 1)).reshape(self.batch, channels, 1)


def _padded_pixels(input, pixels, values):
    """The input (N, C, *sizes) flat, each (sample, channel)'s pixels followed by a zero, which
    the taps outside the input read: (N · C · (pixels + 1),)."""
    batch, channels = input.shape[:2]
    rows = input.reshape(batch, channels, pixels)
    return values.concatenate((rows, values.zeros((batch, channels, 1), dtype=input.dtype)), -1).reshape(-1)


class GridSampler(Op):
    """``grid_sample``: input (N, C, *sizes) read at the points of grid (N, *out_sizes, d) ->
    (N, C, *out_sizes); see the module's docstring for the mathematics."""

    formula = "out[n, c, p] = Σ_k w_k(t[n, p]) · input[n, c, tap_k[n, p]]"
    derivatives = (
        "grad[n, c, p] · w_k(t[n, p]) added at input[n, c, tap_k[n, p]]",
        "Σ_c,k grad[n, c, p] · input[n, c, tap_k[n, p]] · ∂w_k/∂t · ∂t/∂grid[n, p]",
        None, None, None,
    )

    @staticmethod
    def forward(ctx, input, grid, mode, padding_mode, align_corners):
        channels = input.shape[1]
        with ignoring_float_errors():  # non-finite grid points: inf - inf, fmod of inf
            taps = _Taps(input.shape, grid, mode, padding_mode, align_corners)
            weights, _ = taps.weights(grid)
            pixels, starts = _padded_pixels(input, taps.pixels, xp), taps.starts(channels)
            output = pixels[starts + taps.places[0]] * taps.corner_weight(0, weights, xp)  # (N, C, Q)
            for k in range(1, len(taps.places)):
                output += pixels[starts + taps.places[k]] * taps.corner_weight(k, weights, xp)
        ctx.save_for_backward(input, grid)
        ctx.taps = taps
        return output.reshape((taps.batch, channels, *grid.shape[1:-1]))

    @staticmethod
    def backward(ctx, grad_output):
        input, grid = ctx.saved_tensors
        values, taps = ctx.xp, ctx.taps
        channels = input.shape[1]
        grad_output = grad_output.reshape(taps.batch, channels, taps.points)
        weights, weight_slopes = taps.weights(grid)
        starts = taps.starts(channels)
        grad_input = grad_grid = None
        if ctx.needs_input_grad[0]:  # each corner's grad · weight added at the pixel it read
            length, sums = taps.batch * channels * (taps.pixels + 1), 0
            for k, place in enumerate(taps.places):
                spread = grad_output * taps.corner_weight(k, weights, values)
                sums = sums + values.bincount((starts + place).reshape(-1), weights=spread.reshape(-1), minlength=length)
            grad_input = sums.reshape(taps.batch, channels, taps.pixels + 1)[..., : taps.pixels].reshape(input.shape)
        if ctx.needs_input_grad[1]:
            if taps.mode == "nearest":  # the weight is 1 wherever the point lies: zeros, as PyTorch gives
                grad_grid = values.zeros_like(grid)
            else:
                pixels = _padded_pixels(input, taps.pixels, values)
                grad_fractions = [0] * taps.spatial
                for k, corner in enumerate(taps.corners):
                    read = (pixels[starts + taps.places[k]] * grad_output).sum(1)  # Σ_c grad · input at corner k: (N, Q)
                    for axis in range(taps.spatial):  # ∂w_k/∂t_axis: that axis's slope, the others' weights
                        term = read * weight_slopes[axis][corner[axis]]
                        for other, tap in enumerate(corner):
                            if other != axis:
                                term = term * weights[other][tap]
                        grad_fractions[axis] = grad_fractions[axis] + term
                per_coordinate = [grad_fractions[axis] * taps.grid_slopes[axis] for axis in reversed(range(taps.spatial))]
                grad_grid = values.stack(per_coordinate, -1).reshape(grid.shape)
        return grad_input, grad_grid, None, None, None


# ----------------------------------------------------------------------------- grid_sample
def _check_grid_sample(input, grid, mode, padding_mode):
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', "
            f"but got: '{padding_mode}'"
        )
    spatial = input.ndim - 2
    if input.ndim not in (4, 5) or grid.ndim != input.ndim or grid.shape[-1] != spatial:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {spatial} in last dimension, but got grid with sizes "
            f"{list(grid.shape)} (input {list(input.shape)}: (N, C, H, W) with grid (N, H_out, W_out, 2), or "
            f"(N, C, D, H, W) with grid (N, D_out, H_out, W_out, 3))"
        )
    if grid.shape[0] != input.shape[0]:
        raise RuntimeError(
            "grid_sampler(): expected grid and input to have same batch size, but got input with sizes "
            f"{list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    if any(side == 0 for side in input.shape[2:]):
        raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input has sizes {list(input.shape)}")
    if mode == "bicubic" and spatial != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if not input.is_floating_point():
        kernel = "grid_sampler_2d_cpu_kernel_impl" if spatial == 2 else "grid_sampler3d_cpu"
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{scalar_type_name(input._array.dtype)}' (grid_sample reads floating-point "
            f"input with a floating-point grid; convert both with .float())"
        )
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, got {input.dtype} and {grid.dtype}")


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """The input read at the grid's points: input (N, C, H, W) and grid (N, H_out, W_out, 2) ->
    (N, C, H_out, W_out); or (N, C, D, H, W) and (N, D_out, H_out, W_out, 3) -> (N, C, D_out, H_out, W_out).

    A grid point (x, y[, z]) in [-1, 1] names a place of the input: x = -1 the left edge, 1 the
    right (the corner pixels' centres with ``align_corners``, else their outer edges). ``mode``
    'bilinear' mixes the neighbouring pixels (trilinear in 3-d), 'nearest' reads the closest one,
    'bicubic' (4-D only) mixes 4 x 4 pixels. Places outside read ``padding_mode``: 'zeros', the
    'border' pixels, or the input mirrored at its border ('reflection'). Gradients flow to the input
    and, except for 'nearest' (zeros), to the grid. A grid point that is nan or infinite reads nan,
    or with 'border' and 'reflection' a border pixel, without NumPy's warnings, as PyTorch.
    """
    _check_grid_sample(input, grid, mode, padding_mode)
    align_corners = _align_corners_given(align_corners)
    node = "GridSampler2DBackward0" if input.ndim == 4 else "GridSampler3DBackward0"
    return GridSampler.shown_as(node).apply(input, grid, mode, padding_mode, align_corners)
