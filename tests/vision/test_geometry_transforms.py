"""rotate, affine, perspective and their random transforms against torchvision's behaviour.

The tensor path is compared with the same computation done in PyTorch (torchvision's
``_gen_affine_grid`` and ``_apply_grid_transform``, written out below with ``torch`` and its
``grid_sample``), PIL images with Pillow's own ``rotate`` and ``transform``, and a few results with
values worked out by hand."""
import math

import numpy
import pytest
import torch
from PIL import Image

import chainrule
from chainrule.vision import transforms
from chainrule.vision.transforms import InterpolationMode
from chainrule.vision.transforms import functional as F


def pixels(height=6, width=7, channels=3, seed=0):
    shape = (height, width) if channels is None else (height, width, channels)
    return numpy.random.default_rng(seed).integers(0, 256, shape, dtype=numpy.uint8)


def chw(array):
    return numpy.ascontiguousarray(array.transpose(2, 0, 1))


# ---------------------------------------------------------------- the oracle: torchvision's tensor path in torch
def torch_inverse_matrix(center, angle, translate, scale, shear):
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [x / scale for x in [d, -b, 0.0, -c, a, 0.0]]
    (cx, cy), (tx, ty) = center, translate
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    return m


def torch_grid(theta, w, h, ow, oh):
    base = torch.empty(1, oh, ow, 3, dtype=theta.dtype)
    base[..., 0].copy_(torch.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, steps=ow))
    base[..., 1].copy_(torch.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, steps=oh).unsqueeze_(-1))
    base[..., 2].fill_(1)
    rescaled = theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h], dtype=theta.dtype)
    return base.view(1, oh * ow, 3).bmm(rescaled).view(1, oh, ow, 2)


def torch_apply_grid(img, grid, mode, fill):
    squeeze = img.ndim < 4
    batch = img.unsqueeze(0) if squeeze else img
    out_dtype = batch.dtype
    batch = batch.to(grid.dtype)
    grid = grid.expand(batch.shape[0], *grid.shape[1:])
    if fill is not None:
        batch = torch.cat((batch, torch.ones(batch.shape[0], 1, *batch.shape[2:], dtype=batch.dtype)), dim=1)
    batch = torch.nn.functional.grid_sample(batch, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        mask, batch = batch[:, -1:].expand_as(batch[:, :-1]), batch[:, :-1]
        fill_img = torch.tensor(fill, dtype=batch.dtype).view(1, len(fill), 1, 1).expand_as(batch)
        if mode == "nearest":
            batch = torch.where(mask < 0.5, fill_img, batch)
        else:
            batch = batch * mask + (1.0 - mask) * fill_img
    if squeeze:
        batch = batch.squeeze(0)
    if not out_dtype.is_floating_point:
        batch = torch.round(batch)
    return batch.to(out_dtype)


def torch_affine(img, matrix, mode, fill, output_size=None):
    dtype = img.dtype if img.dtype.is_floating_point else torch.float32
    theta = torch.tensor(matrix, dtype=dtype).reshape(1, 2, 3)
    w, h = img.shape[-1], img.shape[-2]
    ow, oh = output_size or (w, h)
    return torch_apply_grid(img, torch_grid(theta, w, h, ow, oh), mode, fill)


def assert_same(result, expected, atol=0.0):
    assert result.dtype == getattr(chainrule, str(expected.dtype).split(".")[1])
    assert tuple(result.shape) == tuple(expected.shape)
    numpy.testing.assert_allclose(result.numpy().astype(float), expected.numpy().astype(float), rtol=0, atol=atol)


# ---------------------------------------------------------------- the inverse affine matrix
def test_inverse_matrix_of_a_quarter_turn_by_hand():
    # rotate(90) turns counter-clockwise: output (x, y) reads input (-y, x) about the centre
    matrix = F.functional_geometry.inverse_affine_matrix([0.0, 0.0], -90.0, [0.0, 0.0], 1.0, [0.0, 0.0])
    numpy.testing.assert_allclose(matrix, [0, -1, 0, 1, 0, 0], atol=1e-15)
    forward = F.functional_geometry.inverse_affine_matrix([2.0, 3.0], 30.0, [1.0, -2.0], 1.5, [10.0, 5.0], inverted=False)
    inverse = F.functional_geometry.inverse_affine_matrix([2.0, 3.0], 30.0, [1.0, -2.0], 1.5, [10.0, 5.0])
    # the two maps undo each other
    as_3x3 = lambda m: numpy.array([m[:3], m[3:], [0, 0, 1]])  # noqa: E731
    numpy.testing.assert_allclose(as_3x3(forward) @ as_3x3(inverse), numpy.eye(3), atol=1e-12)
    assert inverse == pytest.approx(torch_inverse_matrix([2.0, 3.0], 30.0, [1.0, -2.0], 1.5, [10.0, 5.0]))


# ---------------------------------------------------------------- rotate
def test_rotate_by_a_quarter_turn_is_rot90():
    image = chainrule.arange(16.0).reshape(1, 4, 4)
    assert F.rotate(image, 90).tolist() == numpy.rot90(image.numpy(), 1, axes=(1, 2)).tolist()
    assert F.rotate(image, -90, InterpolationMode.BILINEAR).tolist() == numpy.rot90(image.numpy(), -1, axes=(1, 2)).tolist()


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("angle, expand, center", [(30.0, False, None), (-47.5, True, None), (110, False, [1, 2]),
                                                   (12.0, True, [0, 0])])
def test_rotate_of_a_float_tensor_matches_grid_sample(mode, angle, expand, center):
    values = numpy.random.default_rng(1).random((3, 6, 9), dtype=numpy.float32)
    result = F.rotate(chainrule.tensor(values), angle, InterpolationMode(mode), expand, center)
    center_f = [0.0, 0.0] if center is None else [c - s * 0.5 for c, s in zip(center, [9, 6])]
    matrix = torch_inverse_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    size = F.functional_geometry.affine_output_size(matrix, 9, 6) if expand else None
    assert_same(result, torch_affine(torch.tensor(values), matrix, mode, None, size), atol=2e-6)


def test_rotate_expand_size_is_pillows():
    image = Image.fromarray(pixels(6, 9))
    for angle in (0, 30, 45, 135.5, -60):
        assert F.rotate(chainrule.zeros(1, 6, 9), angle, expand=True).shape[-2:] == image.rotate(angle, expand=True).size[::-1]
    # Pillow transposes for a quarter turn; the tensor path, as torchvision's, computes the box of the
    # corners about the input's centre: x in [1.5, 7.5] and y in [-1.5, 7.5] give 7 x 10
    assert F.rotate(chainrule.zeros(1, 6, 9), 90, expand=True).shape == (1, 10, 7)


@pytest.mark.parametrize("fill", [[0.0, 0.0, 0.0], [7.0], [10.0, 20.0, 30.0]])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_rotate_of_a_uint8_batch_fills_and_rounds(fill, mode):
    values = numpy.random.default_rng(2).integers(0, 256, (2, 3, 5, 8), dtype=numpy.uint8)
    result = F.rotate(chainrule.from_numpy(values), 33.0, InterpolationMode(mode), fill=fill)
    matrix = torch_inverse_matrix([0.0, 0.0], -33.0, [0.0, 0.0], 1.0, [0.0, 0.0])
    assert_same(result, torch_affine(torch.from_numpy(values), matrix, mode, fill), atol=1)


def test_rotate_of_a_pil_image_is_pillows_rotate():
    image = Image.fromarray(pixels(6, 9))
    for kwargs in ({}, {"expand": True}, {"center": (1, 2)}, {"fill": (1, 2, 3)}, {"fill": 5}):
        expected = image.rotate(25.0, Image.Resampling.NEAREST, kwargs.get("expand", False), kwargs.get("center"),
                                fillcolor=(lambda f: f if isinstance(f, tuple) else (f,) * 3)(kwargs.get("fill", 0)))
        numpy.testing.assert_array_equal(numpy.asarray(F.rotate(image, 25.0, **kwargs)), numpy.asarray(expected))
    bilinear = F.rotate(image, 25.0, InterpolationMode.BILINEAR)
    numpy.testing.assert_array_equal(numpy.asarray(bilinear), numpy.asarray(image.rotate(25.0, Image.Resampling.BILINEAR)))


def test_rotate_of_an_array_goes_through_the_tensor_path():
    array = pixels(6, 9)
    expected = F.rotate(chainrule.from_numpy(chw(array)), 40.0, expand=True).numpy().transpose(1, 2, 0)
    numpy.testing.assert_array_equal(F.rotate(array, 40.0, expand=True), expected)


def test_rotate_errors():
    image = chainrule.zeros(3, 4, 4)
    with pytest.raises(TypeError, match="Argument angle should be int or float"):
        F.rotate(image, "30")
    with pytest.raises(TypeError, match="Argument center should be a sequence"):
        F.rotate(image, 30, center=2)
    with pytest.raises(TypeError, match="Argument interpolation should be a InterpolationMode"):
        F.rotate(image, 30, interpolation="bilinear")
    with pytest.raises(ValueError, match="Interpolation mode 'bicubic' is unsupported with Tensor input"):
        F.rotate(image, 30, InterpolationMode.BICUBIC)
    with pytest.raises(ValueError, match=r"cannot broadcast to match the number of channels of the image \(2 != 3\)"):
        F.rotate(image, 30, fill=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"does not match the number of channels of the image \(2 != 3\)"):
        F.rotate(Image.fromarray(pixels()), 30, fill=[1, 2])


def test_rotate_keeps_the_graph_and_passes_gradcheck():
    image = chainrule.rand(1, 2, 4, 5, dtype=chainrule.float64, requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda x: F.rotate(x, 20.0, InterpolationMode.BILINEAR, fill=[0.5]), (image,))
    assert chainrule.autograd.gradcheck(
        lambda x: F.affine(x, 10.0, [1, 0], 0.8, [5.0, 3.0], InterpolationMode.BILINEAR), (image,))


# ---------------------------------------------------------------- affine
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("angle, translate, scale, shear, center", [
    (0.0, [0, 0], 1.0, [0.0, 0.0], None),
    (25.0, [2, -1], 0.7, [10.0, 0.0], None),
    (-70, [0, 3], 1.3, [5.0, -20.0], None),
    (15.0, [1, 1], 1.1, [0.0, 0.0], [2, 5]),
])
def test_affine_of_a_tensor_matches_grid_sample(mode, angle, translate, scale, shear, center):
    values = numpy.random.default_rng(3).random((2, 3, 7, 8))
    fill = [0.25, 0.5, 0.75]
    result = F.affine(chainrule.tensor(values), angle, translate, scale, shear, InterpolationMode(mode), fill, center)
    center_f = [0.0, 0.0] if center is None else [c - s * 0.5 for c, s in zip(center, [8, 7])]
    matrix = torch_inverse_matrix(center_f, angle, translate, scale, shear)
    assert_same(result, torch_affine(torch.tensor(values), matrix, mode, fill), atol=1e-12)


def test_affine_translation_by_whole_pixels_shifts_the_image():
    image = chainrule.arange(1.0, 13.0).reshape(1, 3, 4)
    moved = F.affine(image, 0.0, [1, 1], 1.0, 0.0)
    expected = numpy.zeros((1, 3, 4))
    expected[0, 1:, 1:] = image.numpy()[0, :-1, :-1]
    assert moved.tolist() == expected.tolist()


def test_affine_shear_forms():
    image = chainrule.rand(1, 5, 5)
    assert F.affine(image, 0, [0, 0], 1.0, 12.0).tolist() == F.affine(image, 0, [0, 0], 1.0, [12.0, 0.0]).tolist()
    assert F.affine(image, 0, [0, 0], 1.0, [12.0]).tolist() == F.affine(image, 0, [0, 0], 1.0, [12.0, 12.0]).tolist()


def test_affine_of_a_pil_image_is_pillows_transform():
    image = Image.fromarray(pixels(7, 8))
    matrix = torch_inverse_matrix([4.0, 3.5], 25.0, [2, -1], 0.7, [10.0, 3.0])
    for interpolation, resample in ((InterpolationMode.NEAREST, 0), (InterpolationMode.BILINEAR, 2)):
        expected = image.transform((8, 7), Image.Transform.AFFINE, matrix, resample, fillcolor=(9, 9, 9))
        result = F.affine(image, 25.0, (2, -1), 0.7, (10.0, 3.0), interpolation, fill=9)
        numpy.testing.assert_array_equal(numpy.asarray(result), numpy.asarray(expected))


def test_affine_errors():
    image = chainrule.zeros(1, 4, 4)
    with pytest.raises(TypeError, match="Argument translate should be a sequence"):
        F.affine(image, 0, 1, 1.0, 0)
    with pytest.raises(ValueError, match="Argument translate should be a sequence of length 2"):
        F.affine(image, 0, [1], 1.0, 0)
    with pytest.raises(ValueError, match="Argument scale should be positive"):
        F.affine(image, 0, [0, 0], 0.0, 0)
    with pytest.raises(TypeError, match="Shear should be either a single value or a sequence of two values"):
        F.affine(image, 0, [0, 0], 1.0, "x")
    with pytest.raises(ValueError, match="Shear should be a sequence containing two values"):
        F.affine(image, 0, [0, 0], 1.0, [1, 2, 3])


# ---------------------------------------------------------------- perspective
def test_perspective_of_a_tensor_matches_the_torch_computation():
    values = numpy.random.default_rng(4).random((3, 6, 8), dtype=numpy.float32)
    start = [[0, 0], [7, 0], [7, 5], [0, 5]]
    end = [[1, 0], [7, 1], [6, 5], [0, 4]]
    result = F.perspective(chainrule.tensor(values), start, end, fill=[0.0])
    a = torch.zeros(8, 8, dtype=torch.float64)
    for i, (p1, p2) in enumerate(zip(end, start)):
        a[2 * i] = torch.tensor([p1[0], p1[1], 1, 0, 0, 0, -p2[0] * p1[0], -p2[0] * p1[1]])
        a[2 * i + 1] = torch.tensor([0, 0, 0, p1[0], p1[1], 1, -p2[1] * p1[0], -p2[1] * p1[1]])
    coeffs = torch.linalg.lstsq(a, torch.tensor(start, dtype=torch.float64).view(8), driver="gels").solution
    coeffs = coeffs.to(torch.float32).tolist()
    theta1 = torch.tensor([[coeffs[:3], coeffs[3:6]]])
    theta2 = torch.tensor([[[coeffs[6], coeffs[7], 1.0], [coeffs[6], coeffs[7], 1.0]]])
    base = torch.empty(1, 6, 8, 3)
    base[..., 0].copy_(torch.linspace(0.5, 7.5, steps=8))
    base[..., 1].copy_(torch.linspace(0.5, 5.5, steps=6).unsqueeze_(-1))
    base[..., 2].fill_(1)
    grid1 = base.view(1, 48, 3).bmm(theta1.transpose(1, 2) / torch.tensor([4.0, 3.0]))
    grid = (grid1 / base.view(1, 48, 3).bmm(theta2.transpose(1, 2)) - 1.0).view(1, 6, 8, 2)
    assert_same(result, torch_apply_grid(torch.tensor(values), grid, "bilinear", [0.0]), atol=2e-6)
    pil = Image.fromarray(pixels(6, 8))
    numpy.testing.assert_array_equal(
        numpy.asarray(F.perspective(pil, start, end)),
        numpy.asarray(pil.transform((8, 6), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR)))
    with pytest.raises(ValueError, match="Please provide exactly four corners, got 3 startpoints and 4 endpoints."):
        F.perspective(pil, start[:3], end)


# ---------------------------------------------------------------- RandomRotation, RandomAffine, RandomPerspective
def test_random_rotation_draws_its_angle_with_uniform():
    image = chainrule.rand(3, 6, 7)
    rotation = transforms.RandomRotation(30, fill=2)
    assert rotation.degrees == [-30.0, 30.0]
    chainrule.manual_seed(4)
    result = rotation(image)
    chainrule.manual_seed(4)
    angle = chainrule.empty(1).uniform_(-30.0, 30.0).item()
    assert -30 <= angle <= 30
    assert result.tolist() == F.rotate(image, angle, fill=[2.0, 2.0, 2.0]).tolist()
    chainrule.manual_seed(4)
    assert transforms.RandomRotation.get_params([-30.0, 30.0]) == angle


def test_random_rotation_of_pil_images_and_settings():
    image = Image.fromarray(pixels(6, 7))
    rotation = transforms.RandomRotation((10, 20), interpolation=InterpolationMode.BILINEAR, expand=True, center=(1, 1))
    chainrule.manual_seed(0)
    first = numpy.asarray(rotation(image))
    chainrule.manual_seed(0)
    angle = transforms.RandomRotation.get_params(rotation.degrees)
    numpy.testing.assert_array_equal(first, numpy.asarray(image.rotate(angle, Image.Resampling.BILINEAR, True, (1, 1))))
    assert transforms.RandomRotation(5, interpolation=2).interpolation == InterpolationMode.BILINEAR
    assert repr(rotation) == "RandomRotation(degrees=[10.0, 20.0], interpolation=bilinear, expand=True, center=(1, 1), fill=0)"


def test_random_rotation_errors():
    with pytest.raises(ValueError, match="If degrees is a single number, it must be positive."):
        transforms.RandomRotation(-5)
    with pytest.raises(ValueError, match="degrees should be a sequence of length 2."):
        transforms.RandomRotation([1, 2, 3])
    with pytest.raises(TypeError, match="degrees should be a sequence of length 2."):
        transforms.RandomRotation({1, 2})
    with pytest.raises(ValueError, match="center should be a sequence of length 2."):
        transforms.RandomRotation(5, center=[1])
    with pytest.raises(TypeError, match="Fill should be either a sequence or a number."):
        transforms.RandomRotation(5, fill={})


def test_random_affine_draws_angle_translation_scale_and_shear_in_order():
    chainrule.manual_seed(9)
    params = transforms.RandomAffine.get_params([-10.0, 10.0], [0.2, 0.1], [0.8, 1.2], [-5.0, 5.0, -3.0, 3.0], [20, 30])
    chainrule.manual_seed(9)
    draw = lambda low, high: chainrule.empty(1).uniform_(low, high).item()  # noqa: E731
    angle = draw(-10.0, 10.0)
    translations = (int(round(draw(-4.0, 4.0))), int(round(draw(-3.0, 3.0))))
    scale, shear_x, shear_y = draw(0.8, 1.2), draw(-5.0, 5.0), draw(-3.0, 3.0)
    assert params == (angle, translations, scale, (shear_x, shear_y))
    assert transforms.RandomAffine.get_params([0.0, 0.0], None, None, None, [5, 5]) == (0.0, (0, 0), 1.0, (0.0, 0.0))


def test_random_affine_forward_and_repr():
    image = chainrule.rand(3, 8, 9)
    affine = transforms.RandomAffine(15, translate=(0.1, 0.2), scale=(0.9, 1.1), shear=8, fill=(1, 2, 3))
    assert affine.shear == [-8.0, 8.0]
    chainrule.manual_seed(1)
    result = affine(image)
    chainrule.manual_seed(1)
    params = transforms.RandomAffine.get_params(affine.degrees, affine.translate, affine.scale, affine.shear, [9, 8])
    assert result.tolist() == F.affine(image, *params, fill=[1.0, 2.0, 3.0]).tolist()
    assert repr(affine) == ("RandomAffine(degrees=[-15.0, 15.0], translate=(0.1, 0.2), scale=(0.9, 1.1), "
                            "shear=[-8.0, 8.0], fill=(1, 2, 3))")
    assert repr(transforms.RandomAffine(0, interpolation=InterpolationMode.BILINEAR)) == (
        "RandomAffine(degrees=[0.0, 0.0], interpolation=bilinear)")
    pil = transforms.RandomAffine(10, shear=(1, 2, 3, 4))(Image.fromarray(pixels(8, 9)))
    assert pil.size == (9, 8)


def test_random_affine_errors():
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        transforms.RandomAffine(0, translate=(0.5, 1.5))
    with pytest.raises(ValueError, match="scale values should be positive"):
        transforms.RandomAffine(0, scale=(0.0, 1.0))
    with pytest.raises(ValueError, match="shear should be a sequence of length 2 or 4."):
        transforms.RandomAffine(0, shear=(1, 2, 3))
    with pytest.raises(ValueError, match="If shear is a single number, it must be positive."):
        transforms.RandomAffine(0, shear=-1)
    with pytest.raises(TypeError, match="translate should be a sequence of length 2."):
        transforms.RandomAffine(0, translate=0.5)


def test_random_perspective_draws_corners_with_randint():
    chainrule.manual_seed(2)
    start, end = transforms.RandomPerspective.get_params(10, 8, 0.5)
    assert start == [[0, 0], [9, 0], [9, 7], [0, 7]]
    (tl, tr, br, bl) = end
    assert 0 <= tl[0] <= 2 and 0 <= tl[1] <= 2 and 7 <= tr[0] <= 9 and 5 <= br[1] <= 7 and 0 <= bl[0] <= 2
    image = chainrule.rand(3, 8, 10)
    assert transforms.RandomPerspective(p=0.0)(image) is image
    chainrule.manual_seed(6)
    result = transforms.RandomPerspective(p=1.0, fill=1)(image)
    chainrule.manual_seed(6)
    chainrule.rand(1)
    start, end = transforms.RandomPerspective.get_params(10, 8, 0.5)
    assert result.tolist() == F.perspective(image, start, end, fill=[1.0, 1.0, 1.0]).tolist()
