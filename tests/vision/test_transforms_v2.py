"""chainrule.vision.transforms.v2 for single images: ToImage and ToDtype against the computation
torchvision's v2 does (in PyTorch), the v2-only checks, and the shared classes on tensors and PIL images."""
import numpy
import pytest
import torch
from PIL import Image

import chainrule
from chainrule.vision import transforms
from chainrule.vision.transforms import v2


def pixels(height=5, width=6, channels=3, seed=0):
    shape = (height, width) if channels is None else (height, width, channels)
    return numpy.random.default_rng(seed).integers(0, 256, shape, dtype=numpy.uint8)


@pytest.mark.parametrize("channels", [None, 1, 3])
def test_to_image_keeps_dtype_and_values_as_chw(channels):
    array = pixels(channels=channels)
    expected = torch.from_numpy(numpy.atleast_3d(array)).permute((2, 0, 1))
    for inpt in (array, Image.fromarray(array if channels != 1 else array[:, :, 0])):
        image = v2.ToImage()(inpt)
        assert image.dtype == chainrule.uint8 and image.tolist() == expected.tolist()
    tensor = chainrule.zeros(2, 3, 3)
    assert v2.ToImage()(tensor) is tensor
    with pytest.raises(TypeError, match="Input can either be a pure Tensor, a numpy array, or a PIL image"):
        v2.ToImage()([1, 2])


def test_to_dtype_with_scale_matches_torchvisions_arithmetic():
    array = numpy.ascontiguousarray(pixels().transpose(2, 0, 1))
    chw = array
    floats = v2.ToDtype(chainrule.float32, scale=True)(chainrule.from_numpy(chw))
    expected = torch.from_numpy(array).to(torch.float32).mul(1.0 / 255)
    assert floats.dtype == chainrule.float32
    numpy.testing.assert_array_equal(floats.numpy(), expected.numpy())
    back = v2.to_dtype(floats, chainrule.uint8, scale=True)
    numpy.testing.assert_array_equal(back.numpy(), expected.mul(255 + 1.0 - 1e-3).to(torch.uint8).numpy())
    wide = v2.to_dtype(chainrule.from_numpy(chw), chainrule.int16, scale=True)
    numpy.testing.assert_array_equal(wide.numpy(), torch.from_numpy(array).to(torch.int16).bitwise_left_shift(7).numpy())
    narrow = v2.to_dtype(wide, chainrule.uint8, scale=True)
    numpy.testing.assert_array_equal(narrow.numpy(), array)
    assert v2.ToDtype(chainrule.float64)(chainrule.from_numpy(chw)).tolist() == array.astype(float).tolist()
    image = Image.fromarray(pixels())
    assert v2.ToDtype(chainrule.float32, scale=True)(image) is image


def test_v2_errors():
    with pytest.raises(RuntimeError, match="The conversion from chainrule.float32 to chainrule.int32 cannot be performed"):
        v2.to_dtype(chainrule.zeros(1, 2, 2), chainrule.int32, scale=True)
    with pytest.raises(ValueError, match="Pass at least one transform"):
        v2.Compose([])
    with pytest.raises(TypeError, match="Argument transforms should be a sequence of callables"):
        v2.Compose(v2.ToImage())
    with pytest.raises(TypeError, match=r"Normalize\(\) does not support PIL images."):
        v2.Normalize([0.5], [0.5])(Image.fromarray(pixels()))


def test_a_v2_training_pipeline_on_pil_images_and_arrays():
    pipeline = v2.Compose([
        v2.RandomResizedCrop(4), v2.RandomHorizontalFlip(), v2.ColorJitter(brightness=0.2), v2.RandomRotation(10),
        v2.ToImage(), v2.ToDtype(chainrule.float32, scale=True), v2.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25)),
    ])
    image = Image.fromarray(pixels(12, 10))
    chainrule.manual_seed(5)
    first = pipeline(image)
    chainrule.manual_seed(5)
    assert first.shape == (3, 4, 4) and first.dtype == chainrule.float32 and first.tolist() == pipeline(image).tolist()
    assert v2.ColorJitter().brightness is None and v2.ColorJitter(hue=None, contrast=0.1).contrast == (0.9, 1.1)
    tensor_pipeline = v2.Compose([v2.ToImage(), v2.Resize(6), v2.RandomCrop(5), v2.ToDtype(chainrule.float32, scale=True)])
    assert tensor_pipeline(pixels(12, 10)).shape == (3, 5, 5)
    assert v2.RandomRotation is transforms.RandomRotation and v2.Resize is transforms.Resize
