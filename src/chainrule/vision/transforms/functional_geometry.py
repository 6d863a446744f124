"""The tensor side of ``rotate``, ``affine`` and ``perspective``, as torchvision's tensor path:
each output pixel's centre is mapped back into the input by the *inverse* transformation, and the
input is read there with ``grid_sample`` (nearest or bilinear, zeros outside, ``align_corners=False``).

Positions are pixel coordinates measured from the image's centre, (x, y) with x to the right and y
down; ``grid_sample`` wants them divided by half the input's width and height. Pixels that fall
outside the input get ``fill``: a channel of ones is sampled along with the image, and where it
comes back below 1 the fill shows through (blended by it for bilinear, where it is below 0.5 for
nearest). Everything is chainrule operations, so a float image keeps its graph.
"""
import math

import chainrule
import chainrule.nn.functional as nn_functional
from chainrule.vision.transforms.float_batch import as_float_batch, image_channels, working_dtype


def inverse_affine_matrix(center, angle, translate, scale, shear, inverted=True):
    """[a, b, c, d, e, f]: the map (x, y) -> (a·x + b·y + c, d·x + e·y + f) of the affine
    transformation M = T · C · R(angle) · S(scale) · SHy(shear_y) · SHx(shear_x) · C⁻¹ (translate
    by ``translate`` after turning about ``center``; angles in degrees, clockwise in image
    coordinates), or of M⁻¹ when ``inverted`` (what Pillow and ``grid_sample`` need: where each
    output pixel reads the input). The rotation-shear part has determinant 1, so its inverse is
    its adjugate divided by ``scale``."""
    rotation = math.radians(angle)
    shear_x, shear_y = math.radians(shear[0]), math.radians(shear[1])
    center_x, center_y = center
    translate_x, translate_y = translate
    a = math.cos(rotation - shear_y) / math.cos(shear_y)
    b = -math.cos(rotation - shear_y) * math.tan(shear_x) / math.cos(shear_y) - math.sin(rotation)
    c = math.sin(rotation - shear_y) / math.cos(shear_y)
    d = -math.sin(rotation - shear_y) * math.tan(shear_x) / math.cos(shear_y) + math.cos(rotation)
    if inverted:
        matrix = [value / scale for value in (d, -b, 0.0, -c, a, 0.0)]
        # C · RSS⁻¹ · C⁻¹ · T⁻¹
        matrix[2] += matrix[0] * (-center_x - translate_x) + matrix[1] * (-center_y - translate_y)
        matrix[5] += matrix[3] * (-center_x - translate_x) + matrix[4] * (-center_y - translate_y)
        matrix[2] += center_x
        matrix[5] += center_y
    else:
        matrix = [value * scale for value in (a, b, 0.0, c, d, 0.0)]
        # T · C · RSS · C⁻¹
        matrix[2] += matrix[0] * (-center_x) + matrix[1] * (-center_y)
        matrix[5] += matrix[3] * (-center_x) + matrix[4] * (-center_y)
        matrix[2] += center_x + translate_x
        matrix[5] += center_y + translate_y
    return matrix


def affine_output_size(matrix, width, height):
    """(width, height) of the box that holds the image's four corners moved by ``matrix`` (the
    ``expand`` of a rotation, as Pillow computes it), in float32 and cut to 1e-4 before rounding
    outwards so that 1e-15 of rounding error does not add a pixel."""
    corners = chainrule.tensor([
        [-0.5 * width, -0.5 * height, 1.0],
        [-0.5 * width, 0.5 * height, 1.0],
        [0.5 * width, 0.5 * height, 1.0],
        [0.5 * width, -0.5 * height, 1.0],
    ])
    theta = chainrule.tensor(matrix, dtype=chainrule.float32).view(2, 3)
    moved = corners @ theta.T
    half_size = chainrule.tensor((width * 0.5, height * 0.5))
    lowest = moved.min(dim=0).values + half_size
    highest = moved.max(dim=0).values + half_size
    tolerance = 1e-4
    size = chainrule.ceil(chainrule.trunc(highest / tolerance) * tolerance) - chainrule.floor(
        chainrule.trunc(lowest / tolerance) * tolerance)
    return int(size[0]), int(size[1])


def _pixel_centres(output_width, output_height, dtype, offset_x, offset_y):
    """(1, H·W, 3): the rows (x, y, 1) of the output's pixel centres, x = offset_x + 0.5 + j and
    y = offset_y + 0.5 + i, row by row."""
    xs = chainrule.linspace(offset_x + 0.5, offset_x + output_width - 0.5, steps=output_width, dtype=dtype)
    ys = chainrule.linspace(offset_y + 0.5, offset_y + output_height - 0.5, steps=output_height, dtype=dtype)
    grid_x = xs.expand(output_height, output_width)
    grid_y = ys.unsqueeze(-1).expand(output_height, output_width)
    ones = chainrule.ones(output_height, output_width, dtype=dtype)
    return chainrule.stack([grid_x, grid_y, ones], dim=-1).reshape(1, output_height * output_width, 3)


def affine_grid(theta, width, height, output_width, output_height):
    """The ``grid_sample`` grid (1, H_out, W_out, 2) of the inverse map ``theta`` (1, 2, 3), which
    takes centred output positions to centred input positions: unlike ``nn.functional.affine_grid``
    the positions are normalized by the *input*'s half size after the map, so the output may be
    larger than the input (``expand``)."""
    centres = _pixel_centres(output_width, output_height, theta.dtype, -output_width * 0.5, -output_height * 0.5)
    half_size = chainrule.tensor([0.5 * width, 0.5 * height], dtype=theta.dtype)
    grid = centres.bmm(theta.transpose(1, 2) / half_size)
    return grid.view(1, output_height, output_width, 2)


def perspective_grid(coefficients, output_width, output_height, dtype):
    """The ``grid_sample`` grid (1, H, W, 2) of Pillow's PERSPECTIVE map: corner-based position
    (x, y) reads ((a·x + b·y + c) / (g·x + h·y + 1), (d·x + e·y + f) / (g·x + h·y + 1))."""
    a, b, c, d, e, f, g, h = coefficients
    numerators = chainrule.tensor([[[a, b, c], [d, e, f]]], dtype=dtype)
    denominators = chainrule.tensor([[[g, h, 1.0], [g, h, 1.0]]], dtype=dtype)
    centres = _pixel_centres(output_width, output_height, dtype, 0.0, 0.0)
    half_size = chainrule.tensor([0.5 * output_width, 0.5 * output_height], dtype=dtype)
    grid = centres.bmm(numerators.transpose(1, 2) / half_size) / centres.bmm(denominators.transpose(1, 2)) - 1.0
    return grid.view(1, output_height, output_width, 2)


def check_grid_transform_inputs(img, interpolation, fill):
    """TypeError unless ``img`` is a tensor image; ValueError for a ``fill`` with neither 1 nor C
    values, or an interpolation other than nearest and bilinear (torchvision's messages)."""
    if not isinstance(img, chainrule.Tensor):
        raise TypeError("Input img should be Tensor")
    if img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")
    channels = image_channels(img)
    if isinstance(fill, (tuple, list)) and len(fill) > 1 and len(fill) != channels:
        raise ValueError(
            "The number of elements in 'fill' cannot broadcast to match the number of channels of the image "
            f"({len(fill)} != {channels})"
        )
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input")


def apply_grid(img, grid, mode, fill):
    """``img`` (..., C, H, W) read at ``grid`` (1, H', W', 2) -> (..., C, H', W'), ``fill`` (None:
    zeros; a number; one per channel) where the grid points outside the image."""
    batch, restore = as_float_batch(img, grid.dtype)
    grid = grid.expand(batch.shape[0], *grid.shape[1:])
    if fill is not None:
        inside = chainrule.ones(batch.shape[0], 1, batch.shape[2], batch.shape[3], dtype=batch.dtype)
        batch = chainrule.cat((batch, inside), dim=1)
    batch = nn_functional.grid_sample(batch, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        inside = batch[:, -1:].expand(batch.shape[0], batch.shape[1] - 1, *batch.shape[2:])
        batch = batch[:, :-1]
        values = list(fill) if isinstance(fill, (tuple, list)) else [float(fill)]
        fill_image = chainrule.tensor(values, dtype=batch.dtype).view(1, len(values), 1, 1).expand(*batch.shape)
        if mode == "nearest":
            batch = chainrule.where(inside < 0.5, fill_image, batch)
        else:
            batch = batch * inside + (1.0 - inside) * fill_image
    return restore(batch)


def affine(img, matrix, interpolation="nearest", fill=None):
    """``img`` transformed by the inverse map ``matrix`` (6 numbers about the centre), same size."""
    check_grid_transform_inputs(img, interpolation, fill)
    theta = chainrule.tensor(matrix, dtype=working_dtype(img)).reshape(1, 2, 3)
    width, height = img.shape[-1], img.shape[-2]
    return apply_grid(img, affine_grid(theta, width, height, width, height), interpolation, fill)


def rotate(img, matrix, interpolation="nearest", expand=False, fill=None):
    """``img`` transformed by the inverse rotation ``matrix``, enlarged to hold it all if ``expand``."""
    check_grid_transform_inputs(img, interpolation, fill)
    width, height = img.shape[-1], img.shape[-2]
    output_width, output_height = affine_output_size(matrix, width, height) if expand else (width, height)
    theta = chainrule.tensor(matrix, dtype=working_dtype(img)).reshape(1, 2, 3)
    return apply_grid(img, affine_grid(theta, width, height, output_width, output_height), interpolation, fill)


def perspective(img, coefficients, interpolation="bilinear", fill=None):
    """``img`` transformed by Pillow's 8 PERSPECTIVE ``coefficients``, same size."""
    check_grid_transform_inputs(img, interpolation, fill)
    if len(coefficients) != 8:
        raise ValueError("Argument coeffs should have 8 float values")
    width, height = img.shape[-1], img.shape[-2]
    return apply_grid(img, perspective_grid(coefficients, width, height, working_dtype(img)), interpolation, fill)
