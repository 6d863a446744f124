"""The colour adjustments, ColorJitter, gaussian_blur / GaussianBlur and erase / RandomErasing
against torchvision's behaviour: the tensor path compared with torchvision's ``_functional_tensor``
computation written out in PyTorch, PIL images with Pillow's ImageEnhance and HSV conversion."""
import numpy
import pytest
import torch
from PIL import Image, ImageEnhance

import chainrule
from chainrule.vision import transforms
from chainrule.vision.transforms import functional as F


def pixels(height=5, width=6, channels=3, seed=0):
    shape = (height, width) if channels is None else (height, width, channels)
    return numpy.random.default_rng(seed).integers(0, 256, shape, dtype=numpy.uint8)


def chw(array):
    return numpy.ascontiguousarray(array.transpose(2, 0, 1))


# ---------------------------------------------------------------- the oracle: torchvision's tensor path in torch
def torch_max_value(dtype):
    return 1 if dtype.is_floating_point else torch.iinfo(dtype).max


def torch_gray(img):
    if img.shape[-3] == 1:
        return img.clone()
    r, g, b = img.unbind(dim=-3)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(dim=-3)


def torch_blend(img1, img2, ratio):
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, torch_max_value(img1.dtype)).to(img1.dtype)


def torch_contrast(img, factor):
    dtype = img.dtype if img.dtype.is_floating_point else torch.float32
    return torch_blend(img, torch.mean(torch_gray(img).to(dtype), dim=(-3, -2, -1), keepdim=True), factor)


def torch_rgb2hsv(img):
    r, g, b = img.unbind(dim=-3)
    maxc, minc = torch.max(img, dim=-3).values, torch.min(img, dim=-3).values
    eqc = maxc == minc
    cr = maxc - minc
    ones = torch.ones_like(maxc)
    s = cr / torch.where(eqc, ones, maxc)
    cr_divisor = torch.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / cr_divisor, (maxc - g) / cr_divisor, (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = torch.fmod(((hr + hg + hb) / 6.0 + 1.0), 1.0)
    return torch.stack((h, s, maxc), dim=-3)


def torch_hsv2rgb(img):
    h, s, v = img.unbind(dim=-3)
    i = torch.floor(h * 6.0)
    f = (h * 6.0) - i
    i = i.to(dtype=torch.int32) % 6
    p = torch.clamp((v * (1.0 - s)), 0.0, 1.0)
    q = torch.clamp((v * (1.0 - s * f)), 0.0, 1.0)
    t = torch.clamp((v * (1.0 - s * (1.0 - f))), 0.0, 1.0)
    mask = i.unsqueeze(dim=-3) == torch.arange(6).view(-1, 1, 1)
    a1 = torch.stack((v, q, p, p, t, v), dim=-3)
    a2 = torch.stack((t, v, v, q, p, p), dim=-3)
    a3 = torch.stack((p, p, t, v, v, q), dim=-3)
    return torch.einsum("...ijk, ...xijk -> ...xjk", mask.to(dtype=img.dtype), torch.stack((a1, a2, a3), dim=-4))


def torch_convert(image, dtype):
    if image.dtype == dtype:
        return image
    if image.is_floating_point() and dtype.is_floating_point:
        return image.to(dtype)
    if image.is_floating_point():
        return image.mul(torch_max_value(dtype) + 1.0 - 1e-3).to(dtype)
    return image.to(dtype) / float(torch_max_value(image.dtype))


def torch_hue(img, factor):
    h, s, v = torch_rgb2hsv(torch_convert(img, torch.float32)).unbind(dim=-3)
    return torch_convert(torch_hsv2rgb(torch.stack(((h + factor) % 1.0, s, v), dim=-3)), img.dtype)


def torch_gaussian_blur(img, kernel_size, sigma):
    dtype = img.dtype if img.dtype.is_floating_point else torch.float32

    def kernel1d(size, s):
        x = torch.linspace(-(size - 1) * 0.5, (size - 1) * 0.5, steps=size, dtype=dtype)
        pdf = torch.exp(-0.5 * (x / s).pow(2))
        return pdf / pdf.sum()

    kernel = torch.mm(kernel1d(kernel_size[1], sigma[1])[:, None], kernel1d(kernel_size[0], sigma[0])[None, :])
    kernel = kernel.expand(img.shape[-3], 1, kernel.shape[0], kernel.shape[1])
    batch = img.unsqueeze(0).to(dtype) if img.ndim < 4 else img.to(dtype)
    padding = [kernel_size[0] // 2, kernel_size[0] // 2, kernel_size[1] // 2, kernel_size[1] // 2]
    batch = torch.nn.functional.conv2d(torch.nn.functional.pad(batch, padding, mode="reflect"), kernel,
                                       groups=batch.shape[-3])
    batch = batch.squeeze(0) if img.ndim < 4 else batch
    return batch if img.dtype.is_floating_point else torch.round(batch).to(img.dtype)


def assert_same(result, expected, atol=0.0):
    assert result.dtype == getattr(chainrule, str(expected.dtype).split(".")[1])
    assert tuple(result.shape) == tuple(expected.shape)
    numpy.testing.assert_allclose(result.numpy().astype(float), expected.numpy().astype(float), rtol=0, atol=atol)


def images():
    """A float image in [0, 1] with some grays (equal channels), a uint8 batch, a float64 image."""
    floats = numpy.random.default_rng(1).random((3, 5, 6), dtype=numpy.float32)
    floats[:, 0, :] = floats[0, 0, :]
    return [floats, numpy.random.default_rng(2).integers(0, 256, (2, 3, 4, 5), dtype=numpy.uint8),
            numpy.random.default_rng(3).random((3, 4, 4))]


# ---------------------------------------------------------------- brightness, contrast, saturation, hue
@pytest.mark.parametrize("factor", [0.0, 0.4, 1.0, 1.7])
@pytest.mark.parametrize("which", [0, 1, 2])
def test_brightness_contrast_saturation_of_tensors_match_torchvisions_blend(factor, which):
    values = images()[which]
    expected = torch.tensor(values)
    assert_same(F.adjust_brightness(chainrule.tensor(values), factor),
                torch_blend(expected, torch.zeros_like(expected), factor), atol=1e-6)
    assert_same(F.adjust_contrast(chainrule.tensor(values), factor), torch_contrast(expected, factor), atol=1e-6)
    assert_same(F.adjust_saturation(chainrule.tensor(values), factor),
                torch_blend(expected, torch_gray(expected), factor), atol=1e-6)


def test_adjustments_by_hand():
    image = chainrule.tensor([[[0.2, 0.8]], [[0.4, 0.4]], [[0.6, 0.0]]])
    assert F.adjust_brightness(image, 2.0).numpy() == pytest.approx(numpy.array([[[0.4, 1.0]], [[0.8, 0.8]], [[1.0, 0.0]]]))
    # contrast 0: every pixel becomes the mean gray level
    gray = 0.2989 * numpy.array([0.2, 0.8]) + 0.587 * 0.4 + 0.114 * numpy.array([0.6, 0.0])
    assert F.adjust_contrast(image, 0.0).numpy() == pytest.approx(numpy.full((3, 1, 2), gray.mean()), abs=1e-7)
    one_channel = chainrule.rand(1, 2, 2)
    assert F.adjust_saturation(one_channel, 0.3) is one_channel and F.adjust_hue(one_channel, 0.3) is one_channel
    # half a turn of hue: red becomes cyan
    assert F.adjust_hue(chainrule.tensor([[[1.0]], [[0.0]], [[0.0]]]), 0.5).tolist() == [[[0.0]], [[1.0]], [[1.0]]]


@pytest.mark.parametrize("factor", [-0.5, -0.23, 0.0, 0.1, 0.37, 0.5])
@pytest.mark.parametrize("which", [0, 1, 2])
def test_hue_of_tensors_matches_torchvisions_hsv_round_trip(factor, which):
    values = images()[which]
    assert_same(F.adjust_hue(chainrule.tensor(values), factor), torch_hue(torch.tensor(values), factor), atol=2e-6)


def test_adjustments_keep_the_graph_and_pass_gradcheck():
    image = (chainrule.rand(3, 3, 4, dtype=chainrule.float64) * 0.8 + 0.1).requires_grad_()
    for adjust, factor in ((F.adjust_brightness, 1.1), (F.adjust_contrast, 0.7), (F.adjust_saturation, 1.3)):
        assert chainrule.autograd.gradcheck(lambda x: adjust(x, factor), (image,))  # noqa: B023


def test_hue_gradient_matches_torch():
    # hue is computed in float32 (too coarse for finite differences): compare with PyTorch's autograd
    values = numpy.random.default_rng(8).random((3, 4, 5), dtype=numpy.float32)
    weights = numpy.random.default_rng(9).random((3, 4, 5), dtype=numpy.float32)
    image = chainrule.tensor(values, requires_grad=True)
    (F.adjust_hue(image, 0.3) * chainrule.tensor(weights)).sum().backward()
    expected = torch.tensor(values, requires_grad=True)
    (torch_hue(expected, 0.3) * torch.tensor(weights)).sum().backward()
    numpy.testing.assert_allclose(image.grad.numpy(), expected.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, enhancer", [("adjust_brightness", ImageEnhance.Brightness),
                                            ("adjust_contrast", ImageEnhance.Contrast),
                                            ("adjust_saturation", ImageEnhance.Color)])
def test_adjustments_of_pil_images_are_pillows_enhancers(name, enhancer):
    image = Image.fromarray(pixels())
    for factor in (0.0, 0.5, 1.6):
        expected = enhancer(image).enhance(factor)
        numpy.testing.assert_array_equal(numpy.asarray(getattr(F, name)(image, factor)), numpy.asarray(expected))


def test_hue_of_a_pil_image_shifts_pillows_hsv_hue():
    image = Image.fromarray(pixels())
    for factor in (-0.3, 0.0, 0.25):
        h, s, v = image.convert("HSV").split()
        shifted = (numpy.asarray(h).astype(int) + int(factor * 255)) % 256
        expected = Image.merge("HSV", (Image.fromarray(shifted.astype(numpy.uint8), "L"), s, v)).convert("RGB")
        numpy.testing.assert_array_equal(numpy.asarray(F.adjust_hue(image, factor)), numpy.asarray(expected))
    gray = Image.fromarray(pixels(channels=None))
    assert F.adjust_hue(gray, 0.2) is gray


def test_adjustments_of_arrays_go_through_the_tensor_path():
    array = pixels()
    expected = F.adjust_hue(chainrule.from_numpy(chw(array)), 0.2).numpy().transpose(1, 2, 0)
    numpy.testing.assert_array_equal(F.adjust_hue(array, 0.2), expected)


def test_adjustment_errors():
    image = chainrule.rand(3, 2, 2)
    with pytest.raises(ValueError, match=r"brightness_factor \(-1\) is not non-negative."):
        F.adjust_brightness(image, -1)
    with pytest.raises(ValueError, match=r"contrast_factor \(-0.5\) is not non-negative."):
        F.adjust_contrast(image, -0.5)
    with pytest.raises(ValueError, match=r"saturation_factor \(-2\) is not non-negative."):
        F.adjust_saturation(image, -2)
    with pytest.raises(ValueError, match=r"hue_factor \(0.6\) is not in \[-0.5, 0.5\]."):
        F.adjust_hue(image, 0.6)
    with pytest.raises(ValueError, match=r"hue_factor \(-0.7\) is not in \[-0.5, 0.5\]."):
        F.adjust_hue(Image.fromarray(pixels()), -0.7)
    with pytest.raises(TypeError, match=r"permitted channel values are \[1, 3\], but found 4"):
        F.adjust_brightness(chainrule.rand(4, 2, 2), 0.5)
    with pytest.raises(TypeError, match="img should be PIL Image"):
        F.adjust_contrast([[1.0]], 0.5)


# ---------------------------------------------------------------- ColorJitter
def test_color_jitter_ranges_and_repr():
    jitter = transforms.ColorJitter(brightness=0.5, contrast=(0.2, 1.5), saturation=1.5, hue=0.1)
    assert jitter.brightness == (0.5, 1.5) and jitter.contrast == (0.2, 1.5)
    assert jitter.saturation == (0.0, 2.5) and jitter.hue == (-0.1, 0.1)
    assert transforms.ColorJitter().brightness is None and transforms.ColorJitter(hue=0).hue is None
    assert repr(jitter) == ("ColorJitter(brightness=(0.5, 1.5), contrast=(0.2, 1.5), saturation=(0.0, 2.5), "
                            "hue=(-0.1, 0.1))")


def test_color_jitter_errors():
    with pytest.raises(ValueError, match="If brightness is a single number, it must be non negative."):
        transforms.ColorJitter(brightness=-0.1)
    with pytest.raises(ValueError, match=r"hue values should be between \(-0.5, 0.5\), but got \[-0.6, 0.6\]."):
        transforms.ColorJitter(hue=0.6)
    with pytest.raises(ValueError, match=r"contrast values should be between \(0, inf\), but got \[1.5, 0.5\]."):
        transforms.ColorJitter(contrast=(1.5, 0.5))
    with pytest.raises(TypeError, match="saturation should be a single number or a list/tuple with length 2."):
        transforms.ColorJitter(saturation=[1, 2, 3])


def test_color_jitter_applies_the_drawn_factors_in_the_drawn_order():
    image = chainrule.rand(3, 4, 5)
    jitter = transforms.ColorJitter(0.4, 0.4, 0.4, 0.1)
    chainrule.manual_seed(7)
    result = jitter(image)
    chainrule.manual_seed(7)
    order = chainrule.randperm(4).tolist()
    factors = [chainrule.empty(1).uniform_(low, high).item()
               for low, high in (jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue)]
    chainrule.manual_seed(7)
    params = transforms.ColorJitter.get_params(jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue)
    assert params[0].tolist() == order and list(params[1:]) == pytest.approx(factors)
    expected = image
    for index in order:
        expected = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)[index](
            expected, factors[index])
    assert result.tolist() == expected.tolist()
    chainrule.manual_seed(7)
    pil = jitter(Image.fromarray(pixels()))
    chainrule.manual_seed(7)
    assert numpy.array_equal(numpy.asarray(pil), numpy.asarray(jitter(Image.fromarray(pixels()))))
    assert transforms.ColorJitter(brightness=(1.0, 1.0))(image) is image


# ---------------------------------------------------------------- gaussian_blur, GaussianBlur
@pytest.mark.parametrize("kernel_size, sigma", [([3, 3], [0.8, 0.8]), ([5, 3], [1.5, 0.6]), ([1, 3], [1.0, 2.0])])
def test_gaussian_blur_of_tensors_matches_the_torch_convolution(kernel_size, sigma):
    floats = numpy.random.default_rng(5).random((3, 7, 8), dtype=numpy.float32)
    assert_same(F.gaussian_blur(chainrule.tensor(floats), kernel_size, sigma),
                torch_gaussian_blur(torch.tensor(floats), kernel_size, sigma), atol=1e-6)
    batch = numpy.random.default_rng(6).integers(0, 256, (2, 3, 6, 6), dtype=numpy.uint8)
    assert_same(F.gaussian_blur(chainrule.from_numpy(batch), kernel_size, sigma),
                torch_gaussian_blur(torch.from_numpy(batch), kernel_size, sigma), atol=1)


def test_gaussian_blur_defaults_and_pil_images():
    image = chainrule.rand(1, 6, 6)
    # sigma defaults to 0.15·k + 0.35
    assert F.gaussian_blur(image, 5).tolist() == F.gaussian_blur(image, [5, 5], [1.1, 1.1]).tolist()
    # a constant image stays constant: the kernel sums to 1 and the borders are reflected
    assert F.gaussian_blur(chainrule.full((3, 4, 4), 0.5), 3, 1.0).numpy() == pytest.approx(numpy.full((3, 4, 4), 0.5))
    array = pixels(6, 7)
    pil = F.gaussian_blur(Image.fromarray(array), 3, 0.9)
    expected = torch_gaussian_blur(torch.from_numpy(chw(array)), [3, 3], [0.9, 0.9]).numpy().transpose(1, 2, 0)
    assert pil.mode == "RGB"
    numpy.testing.assert_array_equal(numpy.asarray(pil), expected)
    numpy.testing.assert_array_equal(F.gaussian_blur(array, 3, 0.9), expected)


def test_gaussian_blur_passes_gradcheck():
    image = chainrule.rand(2, 5, 5, dtype=chainrule.float64, requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda x: F.gaussian_blur(x, [3, 5], [0.7, 1.2]), (image,))


def test_gaussian_blur_errors():
    image = chainrule.rand(1, 5, 5)
    with pytest.raises(TypeError, match="kernel_size should be int or a sequence of integers. Got <class 'float'>"):
        F.gaussian_blur(image, 3.0)
    with pytest.raises(ValueError, match="If kernel_size is a sequence its length should be 2. Got 3"):
        F.gaussian_blur(image, [3, 3, 3])
    with pytest.raises(ValueError, match=r"kernel_size should have odd and positive integers. Got \[4, 4\]"):
        F.gaussian_blur(image, 4)
    with pytest.raises(ValueError, match=r"sigma should have positive values. Got \[0.0, 0.0\]"):
        F.gaussian_blur(image, 3, 0.0)
    with pytest.raises(TypeError, match="sigma should be either float or sequence of floats"):
        F.gaussian_blur(image, 3, "1")
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor"):
        F.gaussian_blur([[1.0]], 3)
    with pytest.raises(ValueError, match="Kernel size value should be an odd and positive number."):
        transforms.GaussianBlur(4)
    with pytest.raises(ValueError, match="Kernel size should be a tuple/list of two integers"):
        transforms.GaussianBlur([3, 3, 3])
    with pytest.raises(ValueError, match="If sigma is a single number, it must be positive."):
        transforms.GaussianBlur(3, sigma=-1)
    with pytest.raises(ValueError, match=r"sigma values should be positive and of the form \(min, max\)."):
        transforms.GaussianBlur(3, sigma=(2.0, 1.0))
    with pytest.raises(ValueError, match="sigma should be a single number or a list/tuple with length 2."):
        transforms.GaussianBlur(3, sigma=(1.0, 2.0, 3.0))


def test_gaussian_blur_transform_draws_sigma_with_uniform():
    image = chainrule.rand(3, 6, 6)
    blur = transforms.GaussianBlur(3)
    assert blur.kernel_size == (3, 3) and blur.sigma == (0.1, 2.0)
    chainrule.manual_seed(3)
    result = blur(image)
    chainrule.manual_seed(3)
    sigma = transforms.GaussianBlur.get_params(0.1, 2.0)
    assert 0.1 <= sigma <= 2.0 and result.tolist() == F.gaussian_blur(image, [3, 3], [sigma, sigma]).tolist()
    assert repr(blur) == "GaussianBlur(kernel_size=(3, 3), sigma=(0.1, 2.0))"


# ---------------------------------------------------------------- erase, RandomErasing
def test_erase_sets_the_region_and_copies_unless_inplace():
    image = chainrule.ones(2, 4, 5)
    erased = F.erase(image, 1, 2, 2, 3, chainrule.tensor([[[7.0]], [[8.0]]]))
    assert image.sum().item() == 40 and erased[:, 1:3, 2:5].tolist() == [[[7.0] * 3] * 2, [[8.0] * 3] * 2]
    assert erased.sum().item() == 40 - 12 + 7 * 6 + 8 * 6
    assert F.erase(image, 0, 0, 1, 1, 0.0, inplace=True) is image and image[0, 0, 0].item() == 0.0
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        F.erase(pixels(), 0, 0, 1, 1, 0)


def test_random_erasing_draws_the_rectangle_as_torchvision():
    image = chainrule.rand(3, 20, 24)
    chainrule.manual_seed(11)
    top, left, height, width, values = transforms.RandomErasing.get_params(image, (0.02, 0.33), (0.3, 3.3), [0.5])
    chainrule.manual_seed(11)
    erase_area = 480 * chainrule.empty(1).uniform_(0.02, 0.33).item()
    log_ratio = chainrule.log(chainrule.tensor((0.3, 3.3)))
    ratio = chainrule.exp(chainrule.empty(1).uniform_(log_ratio[0].item(), log_ratio[1].item())).item()
    assert (height, width) == (int(round((erase_area * ratio) ** 0.5)), int(round((erase_area / ratio) ** 0.5)))
    assert values.tolist() == [[[0.5]]] and 0 <= top <= 20 - height and 0 <= left <= 24 - width
    # nothing fits: the whole image and the image itself
    assert transforms.RandomErasing.get_params(chainrule.rand(1, 2, 2), (0.9, 1.0), (1.0, 1.0))[2:4] == (2, 2)


def test_random_erasing_values_and_reproducibility():
    image = chainrule.zeros(3, 16, 16)
    erasing = transforms.RandomErasing(p=1.0, value=(1.0, 2.0, 3.0))
    chainrule.manual_seed(2)
    result = erasing(image)
    chainrule.manual_seed(2)
    assert result.tolist() == erasing(image).tolist() and image.sum().item() == 0
    changed = result.numpy() != 0
    assert changed.any() and set(numpy.unique(result.numpy()[0][changed[0]])) == {1.0}
    noisy = transforms.RandomErasing(p=1.0, value="random", inplace=True)
    assert noisy(image) is image and image.std().item() > 0
    assert transforms.RandomErasing(p=0.0)(image) is image
    assert repr(transforms.RandomErasing()) == (
        "RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False)")


def test_random_erasing_errors():
    with pytest.raises(TypeError, match="Argument value should be either a number or str or a sequence"):
        transforms.RandomErasing(value=None)
    with pytest.raises(ValueError, match="If value is str, it should be 'random'"):
        transforms.RandomErasing(value="noise")
    with pytest.raises(ValueError, match="Scale should be between 0 and 1"):
        transforms.RandomErasing(scale=(0.5, 1.5))
    with pytest.raises(ValueError, match="Random erasing probability should be between 0 and 1"):
        transforms.RandomErasing(p=1.5)
    with pytest.warns(UserWarning, match=r"Scale and ratio should be of kind \(min, max\)"):
        transforms.RandomErasing(ratio=(3.0, 0.3))
    with pytest.raises(ValueError, match=r"it should have either a single value or 3 \(number of input channels\)"):
        transforms.RandomErasing(p=1.0, value=(1, 2))(chainrule.zeros(3, 8, 8))
