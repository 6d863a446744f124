"""Sampling an image at arbitrary points: ``affine_grid`` makes the points of an affine
transformation, ``grid_sample`` reads the input there (spatial transformer networks).

Both are composed of existing operations, so their gradients come free: ``affine_grid`` is a batched
matrix product of a fixed grid of (x, y, 1) with θᵀ; ``grid_sample`` turns each grid point into
input coordinates (tensor arithmetic, so differentiable in the grid), reads the neighbouring pixels
with ``gather`` (whose gradient adds back where it read) and mixes them with weights that are
polynomials of the fractional parts. Integer positions (``floor``, ``round``) carry no gradient,
as in PyTorch's own kernels.
"""
import warnings

from chainrule.backend import ignoring_float_errors, xp
from chainrule.ops.elementwise import fmod, where
from chainrule.ops.index import gather
from chainrule.tensor import tensor_from_array

_ALIGN_CORNERS_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please specify "
    "align_corners=True if the old behavior is desired. See the documentation of grid_sample for details."
)
_CUBIC_A = -0.75  # the cubic convolution's free parameter, as PyTorch (and OpenCV) choose it


def _align_corners_given(align_corners):
    if align_corners is None:
        warnings.warn(_ALIGN_CORNERS_WARNING, UserWarning, stacklevel=3)
        return False
    return bool(align_corners)


# ----------------------------------------------------------------------------- affine_grid
def _steps_from_minus_one(steps, align_corners, dtype):
    """``steps`` evenly spaced positions in [-1, 1]: the pixel corners with ``align_corners``,
    else the pixel centres (shrunk by (steps - 1) / steps); one step is the centre, 0."""
    if steps <= 1:
        return xp.zeros(1, dtype=dtype)
    positions = xp.linspace(-1.0, 1.0, steps)
    if not align_corners:
        positions = positions * (steps - 1) / steps
    return positions.astype(dtype)


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
    size = tuple(size)
    if len(size) not in (4, 5):
        raise NotImplementedError(
            f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. Got size {size}."
        )
    spatial = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (spatial, spatial + 1):
        raise ValueError(
            f"Expected a batch of {spatial}D affine matrices of shape Nx{spatial}x{spatial + 1} for size {size}. "
            f"Got {theta.shape}."
        )
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if align_corners and min(size[2:]) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when align_corners=True. "
            "This is not an intended use case of affine_grid. See the documentation of affine_grid for details.",
            UserWarning,
            stacklevel=2,
        )
    if theta.shape[0] != size[0]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{size[0]}, {spatial + 1}] "
            f"but got: [{theta.shape[0]}, {spatial + 1}]."
        )
    dtype = theta.array.dtype
    axes = [_steps_from_minus_one(steps, align_corners, dtype) for steps in size[2:]]  # (D,) H, W
    mesh = xp.meshgrid(*axes, indexing="ij")
    points = xp.stack([*mesh[::-1], xp.ones(mesh[0].shape, dtype=dtype)], axis=-1)  # (..., x y [z] 1)
    base = tensor_from_array(points.reshape(1, -1, spatial + 1))
    return (base @ theta.transpose(1, 2)).reshape((size[0], *size[2:], spatial))


# ----------------------------------------------------------------------------- grid_sample
def _unnormalized(coordinate, size, align_corners):
    """A grid coordinate in [-1, 1] as a pixel position in [0, size - 1] (corners) or
    [-0.5, size - 0.5] (pixel areas)."""
    if align_corners:
        return (coordinate + 1) / 2 * (size - 1)
    return ((coordinate + 1) * size - 1) / 2


def _reflected(coordinate, twice_low, twice_high):
    """``coordinate`` mirrored at low and high (given doubled, so that half pixels are integers)
    until it lies between them, as PyTorch's ``reflect_coordinates``."""
    if twice_low == twice_high:
        return coordinate * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    distance = (coordinate - low).abs()
    extra = fmod(distance, span)
    even_flips = xp.floor(distance.array / span) % 2 == 0
    return where(tensor_from_array(even_flips), extra + low, span - extra + low)


def _padded(coordinate, size, padding_mode, align_corners):
    """Where a pixel position reads under ``padding_mode``: as it is ('zeros': outside reads 0),
    clipped to the border, or reflected at the border (then clipped)."""
    if padding_mode == "border":
        return coordinate.clamp(0, size - 1)
    if padding_mode == "reflection":
        twice = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        return _reflected(coordinate, *twice).clamp(0, size - 1)
    return coordinate


class _Reader:
    """Reads (N, C, *sizes) input at integer positions, one array (N, Q) per spatial dimension:
    positions outside the input read 0 (after padding only the zeros mode has any)."""

    def __init__(self, input):
        self.batch, self.channels = input.shape[:2]
        self.sizes = tuple(input.shape[2:])
        self.flat = input.reshape(self.batch, self.channels, -1)

    def __call__(self, positions):
        inside = xp.ones(positions[0].shape, dtype=bool)
        flat_index = xp.zeros(positions[0].shape, dtype=xp.int64)
        for position, size in zip(positions, self.sizes):
            inside &= (position >= 0) & (position < size)
            flat_index = flat_index * size + xp.clip(position, 0, size - 1).astype(xp.int64)
        index = xp.broadcast_to(flat_index[:, None, :], (self.batch, self.channels, flat_index.shape[1]))
        values = gather(self.flat, 2, tensor_from_array(xp.ascontiguousarray(index)))
        return where(tensor_from_array(inside[:, None, :]), values, 0.0)  # where, not a product: 0 · inf is nan


def _linear(read, coordinates):
    """The (bi/tri)linear mix of the 2^d pixels around each point, weights from the fractional parts."""
    lows = [xp.floor(coordinate.array) for coordinate in coordinates]
    output = None
    for corner in range(2 ** len(coordinates)):
        weight, positions = None, []
        for axis, (coordinate, low) in enumerate(zip(coordinates, lows)):
            high_side = (corner >> axis) & 1
            factor = coordinate - low if high_side else (low + 1) - coordinate
            weight = factor if weight is None else weight * factor
            positions.append((low + high_side).astype(xp.int64))
        term = read(positions) * weight.unsqueeze(1)
        output = term if output is None else output + term
    return output


def _cubic_coefficients(fraction):
    """The four weights of the cubic convolution (Keys, a = -0.75) for points at distance
    1 + t, t, 1 - t, 2 - t from the sampled position."""
    a = _CUBIC_A

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(fraction + 1), near(fraction), near(1 - fraction), far(2 - fraction)]


def _bicubic(read, coordinates, sizes, padding_mode, align_corners):
    """The 4 x 4 pixels around each point mixed by cubic weights; each pixel position (an integer)
    padded on its own, as PyTorch's ``get_value_bounded``."""
    y, x = coordinates  # in the input's order: rows, then columns
    y_low, x_low = (xp.floor(coordinate.array) for coordinate in coordinates)
    x_weights, y_weights = _cubic_coefficients(x - x_low), _cubic_coefficients(y - y_low)
    height, width = sizes

    def padded_position(position, size):
        padded = _padded(tensor_from_array(position), size, padding_mode, align_corners).array
        return xp.trunc(padded).astype(xp.int64)

    output = None
    for row in range(4):
        rows = padded_position(y_low - 1 + row, height)
        for column in range(4):
            columns = padded_position(x_low - 1 + column, width)
            term = read([rows, columns]) * (x_weights[column] * y_weights[row]).unsqueeze(1)
            output = term if output is None else output + term
    return output


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
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, got {input.dtype} and {grid.dtype}")
    if any(side == 0 for side in input.shape[2:]):
        raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input has sizes {list(input.shape)}")
    if mode == "bicubic" and spatial != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """The input read at the grid's points: input (N, C, H, W) and grid (N, H_out, W_out, 2) ->
    (N, C, H_out, W_out); or (N, C, D, H, W) and (N, D_out, H_out, W_out, 3) -> (N, C, D_out, H_out, W_out).

    A grid point (x, y[, z]) in [-1, 1] names a place of the input: x = -1 the left edge, 1 the
    right (the corner pixels' centres with ``align_corners``, else their outer edges). ``mode``
    'bilinear' mixes the neighbouring pixels (trilinear in 3-d), 'nearest' reads the closest one,
    'bicubic' (4-D only) mixes 4 x 4 pixels. Places outside read ``padding_mode``: 'zeros', the
    'border' pixels, or the input mirrored at its border ('reflection'). Gradients flow to the input
    and, except for 'nearest', to the grid. A grid point that is nan or infinite reads nan (or the
    padding), without NumPy's warnings, as PyTorch.
    """
    _check_grid_sample(input, grid, mode, padding_mode)
    align_corners = _align_corners_given(align_corners)
    with ignoring_float_errors():  # non-finite grid points: casts of nan to positions, inf - inf
        return _sampled(input, grid, mode, padding_mode, align_corners)


def _sampled(input, grid, mode, padding_mode, align_corners):
    """``grid_sample`` after its checks."""
    batch, channels = input.shape[:2]
    sizes = tuple(input.shape[2:])
    out_sizes = tuple(grid.shape[1:-1])
    points = grid.reshape(batch, -1, len(sizes))
    # grid's last axis is (x, y[, z]): the input's spatial dimensions in reverse order
    raw = [_unnormalized(points[..., len(sizes) - 1 - axis], size, align_corners) for axis, size in enumerate(sizes)]
    read = _Reader(input)
    if mode == "bicubic":
        output = _bicubic(read, raw, sizes, padding_mode, align_corners)
    else:
        coordinates = [_padded(coordinate, size, padding_mode, align_corners) for coordinate, size in zip(raw, sizes)]
        if mode == "nearest":
            output = read([xp.round(coordinate.array).astype(xp.int64) for coordinate in coordinates])
            # PyTorch gives the grid a zero gradient here, not none: a branch never taken gives it one
            output = where(tensor_from_array(xp.zeros((), dtype=bool)), points[..., 0].unsqueeze(1), output)
        else:
            output = _linear(read, coordinates)
    return output.reshape((batch, channels, *out_sizes))

