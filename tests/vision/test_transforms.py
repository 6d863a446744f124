"""chainrule.vision.transforms against torchvision's documented behaviour: values computed by hand,
resizing compared with PyTorch's ``interpolate`` (what torchvision's tensor path calls), and PIL
images compared with Pillow's own operations."""
import numpy
import pytest
import torch
from PIL import Image

import chainrule
from chainrule.vision import transforms
from chainrule.vision.transforms import InterpolationMode
from chainrule.vision.transforms import functional as F


def pixels(height=5, width=7, channels=3, seed=0):
    shape = (height, width) if channels is None else (height, width, channels)
    return numpy.random.default_rng(seed).integers(0, 256, shape, dtype=numpy.uint8)


# ToTensor, PILToTensor, ToPILImage


@pytest.mark.parametrize("channels", [None, 1, 3])
def test_to_tensor_of_a_uint8_array_is_float32_chw_in_0_1(channels):
    array = pixels(channels=channels)
    tensor = transforms.ToTensor()(array)
    expected = (array if array.ndim == 3 else array[:, :, None]).transpose(2, 0, 1).astype(numpy.float32) / numpy.float32(255)
    assert tensor.dtype == chainrule.float32 and tuple(tensor.shape) == expected.shape
    numpy.testing.assert_array_equal(tensor.numpy(), expected)


def test_to_tensor_keeps_other_dtypes_unscaled():
    array = numpy.arange(12, dtype=numpy.int32).reshape(2, 2, 3)
    tensor = F.to_tensor(array)
    assert tensor.dtype == chainrule.int32
    numpy.testing.assert_array_equal(tensor.numpy(), array.transpose(2, 0, 1))
    floats = numpy.full((2, 3), 7.5, dtype=numpy.float64)
    assert F.to_tensor(floats).dtype == chainrule.float64 and F.to_tensor(floats).shape == (1, 2, 3)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_to_tensor_of_a_pil_image_equals_the_array_path(mode):
    array = pixels(channels={"L": None, "RGB": 3, "RGBA": 4}[mode])
    image = Image.fromarray(array, mode=mode)
    numpy.testing.assert_array_equal(F.to_tensor(image).numpy(), F.to_tensor(array).numpy())


def test_to_tensor_of_wide_pil_modes_keeps_values_and_binary_images_become_0_1():
    assert F.to_tensor(Image.fromarray(numpy.array([[1, 70000]], dtype=numpy.int32), mode="I")).dtype == chainrule.int32
    floats = F.to_tensor(Image.fromarray(numpy.array([[0.25, 3.0]], dtype=numpy.float32), mode="F"))
    assert floats.dtype == chainrule.float32 and floats.tolist() == [[[0.25, 3.0]]]
    binary = Image.fromarray(numpy.array([[True, False]]))
    assert F.to_tensor(binary).tolist() == [[[1.0, 0.0]]]


def test_to_tensor_errors():
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        F.to_tensor([[1, 2]])
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 4 dimensions."):
        F.to_tensor(numpy.zeros((1, 2, 3, 4), numpy.uint8))


def test_pil_to_tensor_keeps_dtype_and_values():
    array = pixels()
    tensor = transforms.PILToTensor()(Image.fromarray(array))
    assert tensor.dtype == chainrule.uint8
    numpy.testing.assert_array_equal(tensor.numpy(), array.transpose(2, 0, 1))
    with pytest.raises(TypeError, match="pic should be PIL Image"):
        F.pil_to_tensor(array)


def test_to_pil_image_round_trips_and_picks_the_mode():
    array = pixels()
    image = transforms.ToPILImage()(chainrule.from_numpy(array.transpose(2, 0, 1).copy()))
    assert image.mode == "RGB"
    numpy.testing.assert_array_equal(numpy.asarray(image), array)
    gray = F.to_pil_image(chainrule.tensor([[[0.0, 0.5, 1.0]]]))
    assert gray.mode == "L" and numpy.asarray(gray).tolist() == [[0, 127, 255]]
    assert F.to_pil_image(numpy.zeros((2, 2, 2), numpy.uint8)).mode == "LA"
    assert F.to_pil_image(numpy.zeros((2, 2), numpy.float32), mode="F").mode == "F"


def test_to_pil_image_errors():
    with pytest.raises(TypeError, match="pic should be Tensor or ndarray"):
        F.to_pil_image([1])
    with pytest.raises(ValueError, match="pic should not have > 4 channels. Got 5 channels."):
        F.to_pil_image(numpy.zeros((2, 2, 5), numpy.uint8))
    with pytest.raises(ValueError, match="Only modes"):
        F.to_pil_image(numpy.zeros((2, 2, 3), numpy.uint8), mode="RGBA")
    with pytest.raises(TypeError, match="Input type int64 is not supported"):
        F.to_pil_image(numpy.zeros((2, 2, 3), numpy.int64))


# Normalize


def test_normalize_matches_torch_per_channel():
    values = numpy.random.default_rng(1).random((3, 4, 5), dtype=numpy.float32)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    result = transforms.Normalize(mean, std)(chainrule.tensor(values))
    expected = (torch.tensor(values) - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(std).view(-1, 1, 1)
    assert result.dtype == chainrule.float32
    numpy.testing.assert_array_equal(result.numpy(), expected.numpy())


def test_normalize_is_out_of_place_unless_inplace():
    image = chainrule.ones(1, 2, 2)
    assert transforms.Normalize((0.5,), (0.5,))(image) is not image and image.tolist() == [[[1.0, 1.0], [1.0, 1.0]]]
    result = transforms.Normalize((0.5,), (0.25,), inplace=True)(image)
    assert result is image and image.tolist() == [[[2.0, 2.0], [2.0, 2.0]]]


def test_normalize_broadcasts_over_a_batch_and_keeps_the_graph():
    batch = chainrule.ones(4, 1, 2, 2, requires_grad=True)
    F.normalize(batch, [0.5], [2.0]).sum().backward()
    assert batch.grad.tolist() == numpy.full((4, 1, 2, 2), 0.5).tolist()


def test_normalize_errors():
    with pytest.raises(ValueError, match="std evaluated to zero after conversion to chainrule.float32"):
        F.normalize(chainrule.ones(2, 2, 2), [0.0, 0.0], [1.0, 0.0])
    with pytest.raises(TypeError, match="Input tensor should be a float tensor. Got chainrule.uint8."):
        F.normalize(chainrule.ones(1, 2, 2, dtype=chainrule.uint8), [0.0], [1.0])
    with pytest.raises(ValueError, match=r"Expected tensor to be a tensor image of size \(..., C, H, W\)"):
        F.normalize(chainrule.ones(2, 2), [0.0], [1.0])
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        F.normalize(numpy.ones((1, 2, 2), numpy.float32), [0.0], [1.0])


# Resize


@pytest.mark.parametrize("shape, size, expected", [
    ((3, 20, 30), 10, (10, 15)), ((3, 30, 20), 10, (15, 10)), ((1, 9, 13), [7], (7, 10)),
    ((3, 20, 30), (8, 40), (8, 40)), ((2, 3, 20, 30), 10, (10, 15)),
])
def test_resize_of_a_tensor_is_antialiased_bilinear_interpolate(shape, size, expected):
    values = numpy.random.default_rng(2).random(shape, dtype=numpy.float32)
    result = transforms.Resize(size)(chainrule.tensor(values))
    batch = torch.tensor(values).reshape(-1, *shape[-3:])
    reference = torch.nn.functional.interpolate(batch, size=expected, mode="bilinear", antialias=True, align_corners=False)
    assert tuple(result.shape) == shape[:-2] + expected
    numpy.testing.assert_allclose(result.numpy(), reference.reshape(*shape[:-2], *expected).numpy(), atol=1e-6)


def test_resize_of_a_uint8_tensor_rounds_and_keeps_uint8():
    values = pixels(8, 12, 3).transpose(2, 0, 1).copy()
    result = F.resize(chainrule.from_numpy(values), [5, 7])
    reference = torch.nn.functional.interpolate(torch.tensor(values)[None].float(), size=(5, 7), mode="bilinear",
                                                antialias=True, align_corners=False).round().to(torch.uint8)[0]
    assert result.dtype == chainrule.uint8
    numpy.testing.assert_array_equal(result.numpy(), reference.numpy())


def test_resize_without_antialias_and_nearest_match_interpolate():
    values = numpy.random.default_rng(3).random((1, 10, 10), dtype=numpy.float32)
    plain = F.resize(chainrule.tensor(values), [4, 4], antialias=False)
    reference = torch.nn.functional.interpolate(torch.tensor(values)[None], size=(4, 4), mode="bilinear", align_corners=False)[0]
    numpy.testing.assert_allclose(plain.numpy(), reference.numpy(), atol=1e-6)
    nearest = F.resize(chainrule.tensor(values), [4, 4], interpolation=InterpolationMode.NEAREST)
    reference = torch.nn.functional.interpolate(torch.tensor(values)[None], size=(4, 4), mode="nearest")[0]
    numpy.testing.assert_array_equal(nearest.numpy(), reference.numpy())


def test_resize_of_a_pil_image_is_pillows_resize():
    image = Image.fromarray(pixels(20, 30, 3))
    result = transforms.Resize(10)(image)
    assert result.size == (15, 10)
    numpy.testing.assert_array_equal(numpy.asarray(result), numpy.asarray(image.resize((15, 10), Image.BILINEAR)))
    nearest = transforms.Resize((4, 6), interpolation=InterpolationMode.NEAREST)(image)
    numpy.testing.assert_array_equal(numpy.asarray(nearest), numpy.asarray(image.resize((6, 4), Image.NEAREST)))
    assert transforms.Resize(5, interpolation=0).interpolation is InterpolationMode.NEAREST
    with pytest.warns(UserWarning, match="Anti-alias option is always applied for PIL Image input"):
        F.resize(image, 10, antialias=False)


def test_resize_of_an_array_goes_through_the_tensor_path():
    array = pixels(20, 30, 3)
    result = F.resize(array, 10)
    assert isinstance(result, numpy.ndarray) and result.shape == (10, 15, 3) and result.dtype == numpy.uint8
    # close to Pillow's own antialiased bilinear, which PyTorch's antialiasing follows
    pillow = numpy.asarray(Image.fromarray(array).resize((15, 10), Image.BILINEAR)).astype(int)
    assert numpy.abs(result.astype(int) - pillow).max() <= 1


def test_resize_max_size_and_errors():
    assert F.resize(chainrule.zeros(1, 10, 40), 5, max_size=12).shape == (1, 3, 12)
    with pytest.raises(ValueError, match="max_size = 5 must be strictly greater"):
        F.resize(chainrule.zeros(1, 10, 40), 5, max_size=5)
    with pytest.raises(ValueError, match="max_size should only be passed if size specifies the length of the smaller edge"):
        F.resize(chainrule.zeros(1, 10, 40), [5, 6], max_size=12)
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        transforms.Resize(2.5)
    with pytest.raises(ValueError, match="If size is a sequence, it should have 1 or 2 values"):
        transforms.Resize([1, 2, 3])
    with pytest.raises(TypeError, match="Argument interpolation should be a InterpolationMode"):
        F.resize(chainrule.zeros(1, 4, 4), 2, interpolation="bilinear")


def test_resize_returns_the_image_itself_at_its_size():
    image = chainrule.zeros(1, 4, 6)
    assert F.resize(image, 4) is image


# crops, pads, flips


def test_center_crop_takes_the_middle_and_pads_a_small_image():
    image = chainrule.arange(30.0).reshape(1, 5, 6)
    assert transforms.CenterCrop(3)(image).tolist() == image[:, 1:4, 2:5].tolist()
    assert transforms.CenterCrop((2, 4))(image).tolist() == image[:, 2:4, 1:5].tolist()
    padded = F.center_crop(chainrule.ones(1, 2, 2), [4, 5])
    expected = numpy.zeros((1, 4, 5))
    expected[:, 1:3, 1:3] = 1
    assert padded.tolist() == expected.tolist()


@pytest.mark.parametrize("kind", ["tensor", "pil", "array"])
def test_center_crop_is_the_same_for_every_kind_of_image(kind):
    array = pixels(9, 8, 3)
    image = {"tensor": chainrule.from_numpy(array.transpose(2, 0, 1).copy()), "pil": Image.fromarray(array), "array": array}[kind]
    result = F.center_crop(image, [5, 10])
    result = result.numpy().transpose(1, 2, 0) if kind == "tensor" else numpy.asarray(result)
    expected = numpy.zeros((5, 10, 3), numpy.uint8)
    expected[:, 1:9] = array[2:7]
    numpy.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("mode, torch_mode", [("constant", "constant"), ("edge", "replicate"), ("reflect", "reflect")])
def test_pad_of_a_tensor_matches_torch_pad(mode, torch_mode):
    values = numpy.random.default_rng(4).random((3, 4, 5), dtype=numpy.float32)
    result = transforms.Pad((1, 2, 3, 0), padding_mode=mode)(chainrule.tensor(values))
    reference = torch.nn.functional.pad(torch.tensor(values)[None], (1, 3, 2, 0), mode=torch_mode)[0]
    numpy.testing.assert_array_equal(result.numpy(), reference.numpy())


def test_pad_symmetric_repeats_the_edge_and_reflect_does_not():
    row = chainrule.tensor([[[1.0, 2.0, 3.0, 4.0]]])
    assert F.pad(row, [2, 0], padding_mode="symmetric").tolist() == [[[2.0, 1.0, 1.0, 2.0, 3.0, 4.0, 4.0, 3.0]]]
    assert F.pad(row, [2, 0], padding_mode="reflect").tolist() == [[[3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0]]]


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_of_pil_images_arrays_and_uint8_tensors_agree(mode):
    array = pixels(4, 5, 3)
    tensor = F.pad(chainrule.from_numpy(array.transpose(2, 0, 1).copy()), [2, 1], fill=7, padding_mode=mode)
    from_array = F.pad(array, [2, 1], fill=7, padding_mode=mode)
    from_pil = F.pad(Image.fromarray(array), [2, 1], fill=7, padding_mode=mode)
    assert tensor.dtype == chainrule.uint8 and from_pil.mode == "RGB" and from_pil.size == (9, 6)
    numpy.testing.assert_array_equal(tensor.numpy().transpose(1, 2, 0), from_array)
    numpy.testing.assert_array_equal(numpy.asarray(from_pil), from_array)


def test_pad_of_a_pil_image_fills_per_channel_and_keeps_the_palette():
    image = Image.fromarray(pixels(2, 2, 3))
    padded = numpy.asarray(F.pad(image, 1, fill=(10, 20, 30)))
    assert padded[0, 0].tolist() == [10, 20, 30]
    palette = Image.fromarray(pixels(3, 3, None)).convert("P")
    assert F.pad(palette, 1).getpalette() == palette.getpalette()


def test_pad_errors():
    with pytest.raises(TypeError, match="Got inappropriate padding arg"):
        transforms.Pad("1")
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element tuple, not a 3 element tuple"):
        transforms.Pad((1, 2, 3))
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge, reflect or symmetric"):
        transforms.Pad(1, padding_mode="wrap")
    with pytest.raises(TypeError, match="Got inappropriate fill arg"):
        F.pad(chainrule.zeros(1, 2, 2), 1, fill=(1, 2))


def test_crop_outside_the_image_is_zeros():
    image = chainrule.ones(1, 3, 3)
    result = F.crop(image, -1, 1, 3, 4)
    assert result.tolist() == [[[0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]]]
    numpy.testing.assert_array_equal(F.crop(numpy.ones((3, 3), numpy.uint8), -1, 1, 3, 4), result.numpy()[0])


def test_random_crop_draws_its_corner_with_randint():
    image = chainrule.arange(100.0).reshape(1, 10, 10)
    chainrule.manual_seed(5)
    result = transforms.RandomCrop(4)(image)
    chainrule.manual_seed(5)
    top = chainrule.randint(0, 7, size=(1,)).item()
    left = chainrule.randint(0, 7, size=(1,)).item()
    assert result.tolist() == image[:, top:top + 4, left:left + 4].tolist()


def test_random_crop_with_padding_keeps_the_size_and_is_reproducible():
    crop = transforms.RandomCrop(32, padding=4)
    image = Image.fromarray(pixels(32, 32, 3))
    chainrule.manual_seed(1)
    first = numpy.asarray(crop(image))
    chainrule.manual_seed(1)
    assert first.shape == (32, 32, 3) and numpy.array_equal(first, numpy.asarray(crop(image)))
    assert transforms.RandomCrop(6, pad_if_needed=True, fill=9)(chainrule.zeros(1, 3, 4)).shape == (1, 6, 6)
    with pytest.raises(ValueError, match=r"Required crop size \(6, 6\) is larger than input image size \(3, 4\)"):
        transforms.RandomCrop(6)(chainrule.zeros(1, 3, 4))


def test_random_crop_pads_with_the_padding_mode():
    image = chainrule.tensor([[[1.0, 2.0, 3.0]]])
    result = transforms.RandomCrop((1, 5), padding=[1, 0], padding_mode="edge")(image)
    assert result.tolist() == [[[1.0, 1.0, 2.0, 3.0, 3.0]]]


@pytest.mark.parametrize("flip, dim", [(transforms.RandomHorizontalFlip, -1), (transforms.RandomVerticalFlip, -2)])
def test_random_flips_flip_when_rand_is_below_p(flip, dim):
    image = chainrule.arange(6.0).reshape(1, 2, 3)
    assert flip(p=1.0)(image).tolist() == image.flip(dim).tolist()
    assert flip(p=0.0)(image) is image
    chainrule.manual_seed(3)
    draws = [chainrule.rand(1).item() < 0.5 for _ in range(20)]
    chainrule.manual_seed(3)
    flipped = [flip()(image).tolist() != image.tolist() for _ in range(20)]
    assert flipped == draws and any(draws) and not all(draws)


def test_flips_of_pil_images_and_arrays():
    array = pixels(3, 4, 3)
    numpy.testing.assert_array_equal(numpy.asarray(F.hflip(Image.fromarray(array))), array[:, ::-1])
    numpy.testing.assert_array_equal(numpy.asarray(F.vflip(Image.fromarray(array))), array[::-1])
    numpy.testing.assert_array_equal(F.hflip(array), array[:, ::-1])


def test_random_resized_crop_output_size_and_reproducibility():
    crop = transforms.RandomResizedCrop(8)
    image = chainrule.rand(3, 20, 30)
    chainrule.manual_seed(2)
    first = crop(image)
    chainrule.manual_seed(2)
    assert first.shape == (3, 8, 8) and first.tolist() == crop(image).tolist()
    chainrule.manual_seed(2)
    top, left, height, width = transforms.RandomResizedCrop.get_params(image, [0.08, 1.0], [3 / 4, 4 / 3])
    assert 0 <= top <= 20 - height and 0 <= left <= 30 - width and 0.08 * 600 - 30 <= height * width <= 600
    assert crop(Image.fromarray(pixels(20, 30, 3))).size == (8, 8)


def test_random_resized_crop_falls_back_to_the_centre():
    # no draw fits in a 1-pixel-high image when the ratio must be about 1: the centre crop of ratio 4/3
    top, left, height, width = transforms.RandomResizedCrop.get_params(chainrule.zeros(1, 1, 50), [0.9, 1.0], [3 / 4, 4 / 3])
    assert (top, left, height, width) == (0, 24, 1, 1)


# colour and dtype


def test_grayscale_of_a_tensor_uses_the_luma_weights():
    image = chainrule.tensor([[[1.0]], [[0.5]], [[0.25]]])
    gray = transforms.Grayscale()(image)
    assert gray.shape == (1, 1, 1) and gray.item() == pytest.approx(0.2989 + 0.587 * 0.5 + 0.114 * 0.25)
    assert transforms.Grayscale(3)(image).shape == (3, 1, 1)
    with pytest.raises(TypeError, match="Input image tensor permitted channel values are \\[1, 3\\], but found 2"):
        F.rgb_to_grayscale(chainrule.zeros(2, 1, 1))
    with pytest.raises(ValueError, match="num_output_channels should be either 1 or 3"):
        F.rgb_to_grayscale(chainrule.zeros(3, 1, 1), 2)


def test_grayscale_of_a_pil_image_is_pillows_l_conversion():
    image = Image.fromarray(pixels())
    numpy.testing.assert_array_equal(numpy.asarray(transforms.Grayscale()(image)), numpy.asarray(image.convert("L")))
    three = transforms.Grayscale(num_output_channels=3)(image)
    assert three.mode == "RGB" and numpy.array_equal(numpy.asarray(three)[:, :, 2], numpy.asarray(image.convert("L")))


def test_convert_image_dtype_rescales():
    uint8 = chainrule.tensor([0, 128, 255], dtype=chainrule.uint8).view(1, 1, 3)
    converted = transforms.ConvertImageDtype(chainrule.float32)(uint8)
    assert converted.dtype == chainrule.float32
    numpy.testing.assert_array_equal(converted.numpy(), numpy.float32([[[0, 128, 255]]]) / numpy.float32(255))
    floats = chainrule.tensor([[[0.0, 0.5, 1.0]]])
    assert F.convert_image_dtype(floats, chainrule.uint8).tolist() == [[[0, 127, 255]]]
    assert F.convert_image_dtype(uint8, chainrule.int16).tolist() == [[[0, 128 * 128, 255 * 128]]]
    assert F.convert_image_dtype(chainrule.tensor([[[32767]]], dtype=chainrule.int16), chainrule.uint8).tolist() == [[[255]]]
    with pytest.raises(RuntimeError, match="The cast from chainrule.float32 to chainrule.int64 cannot be performed safely."):
        F.convert_image_dtype(floats, chainrule.int64)


# the containers


def test_compose_applies_in_order_and_prints_like_torchvision():
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    result = pipeline(numpy.full((2, 2), 255, numpy.uint8))
    numpy.testing.assert_allclose(result.numpy(), numpy.full((1, 2, 2), (1 - 0.1307) / 0.3081), rtol=1e-6)
    assert repr(pipeline) == "Compose(\n    ToTensor()\n    Normalize(mean=(0.1307,), std=(0.3081,))\n)"


def test_lambda_and_its_error():
    assert transforms.Lambda(lambda x: x * 2)(3) == 6
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        transforms.Lambda(3)


def test_random_apply_choice_order_and_grayscale():
    image = chainrule.ones(3, 2, 2)
    double = transforms.Lambda(lambda x: x * 2)
    assert transforms.RandomApply([double], p=1.0)(image).sum().item() == 24
    assert transforms.RandomApply([double], p=0.0)(image) is image
    assert transforms.RandomChoice([double])(image).sum().item() == 24
    assert transforms.RandomOrder([double, double])(image).sum().item() == 48
    assert transforms.RandomGrayscale(p=1.0)(image).shape == (3, 2, 2)


def test_transforms_are_modules_that_go_into_sequential():
    pipeline = chainrule.nn.Sequential(transforms.CenterCrop(2), transforms.Normalize((0.5,), (0.5,)))
    assert pipeline(chainrule.ones(1, 4, 4)).tolist() == [[[1.0, 1.0], [1.0, 1.0]]]
