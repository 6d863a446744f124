"""The tensor side of ``adjust_brightness``, ``adjust_contrast``, ``adjust_saturation`` and
``adjust_hue``, as torchvision's tensor path.

The first three blend the image with a degenerate one, as Pillow's ImageEnhance does::

    blend(image, other, factor) = clamp(factor · image + (1 - factor) · other, 0, max)

with ``other`` black (brightness), the mean gray level (contrast) or the image in gray
(saturation), and ``max`` 1 for floats or the integer maximum (255 for uint8), the result cast back
to the image's dtype (truncating). Hue goes through HSV: the hue channel is shifted round the colour
circle. Images are (..., 1 or 3, H, W); a float image keeps its graph.
"""
import chainrule
from chainrule.vision.transforms.float_batch import image_channels
from chainrule.vision.transforms.image_dtype import convert_image_dtype, max_value


def check_channels(img, permitted):
    """TypeError unless the image has one of the ``permitted`` numbers of channels."""
    channels = image_channels(img)
    if channels not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {permitted}, but found {channels}")


def grayscale(img):
    """(..., 1, H, W): 0.2989·R + 0.587·G + 0.114·B in the image's dtype (the luma weights as
    TensorFlow and torchvision round them); a one-channel image as it is."""
    if image_channels(img) == 1:
        return img.clone()
    red, green, blue = img.unbind(dim=-3)
    return (0.2989 * red + 0.587 * green + 0.114 * blue).to(img.dtype).unsqueeze(dim=-3)


def blend(img, other, ratio):
    """ratio · img + (1 - ratio) · other, clamped to the dtype's range, in img's dtype."""
    ratio = float(ratio)
    return (ratio * img + (1.0 - ratio) * other).clamp(0, max_value(img.dtype)).to(img.dtype)


def _check_image(img):
    if img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")
    check_channels(img, [1, 3])


def adjust_brightness(img, brightness_factor):
    """The image blended with black: 0 gives black, 1 the image, 2 twice as bright."""
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    _check_image(img)
    return blend(img, chainrule.zeros_like(img), brightness_factor)


def adjust_contrast(img, contrast_factor):
    """The image blended with its mean gray level (one number per image): 0 gives solid gray."""
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    _check_image(img)
    dtype = img.dtype if img.dtype.is_floating_point else chainrule.float32
    gray = grayscale(img).to(dtype)
    mean = gray.mean(dim=(-3, -2, -1), keepdim=True) if img.ndim >= 3 else gray.mean(dim=(-2, -1), keepdim=True)
    return blend(img, mean, contrast_factor)


def adjust_saturation(img, saturation_factor):
    """The image blended with its grayscale version: 0 gives gray, 1 the image; one channel as is."""
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    _check_image(img)
    if image_channels(img) == 1:
        return img
    return blend(img, grayscale(img), saturation_factor)


def rgb_to_hsv(img):
    """(..., 3, H, W) RGB in [0, 1] -> HSV, each in [0, 1], as Pillow converts: value is the largest
    channel, saturation (max - min) / max, hue the position on the colour circle / 6 (0 for grays,
    where the divisions are replaced by 1 so that no NaN appears)."""
    red, green, blue = img.unbind(dim=-3)
    largest = chainrule.max(img, dim=-3).values
    smallest = chainrule.min(img, dim=-3).values
    gray = largest == smallest
    chroma = largest - smallest
    ones = chainrule.ones_like(largest)
    saturation = chroma / chainrule.where(gray, ones, largest)
    chroma_divisor = chainrule.where(gray, ones, chroma)
    red_distance = (largest - red) / chroma_divisor
    green_distance = (largest - green) / chroma_divisor
    blue_distance = (largest - blue) / chroma_divisor
    hue_red = (largest == red) * (blue_distance - green_distance)
    hue_green = ((largest == green) & (largest != red)) * (2.0 + red_distance - blue_distance)
    hue_blue = ((largest != green) & (largest != red)) * (4.0 + green_distance - red_distance)
    hue = chainrule.fmod((hue_red + hue_green + hue_blue) / 6.0 + 1.0, 1.0)
    return chainrule.stack((hue, saturation, largest), dim=-3)


def hsv_to_rgb(img):
    """(..., 3, H, W) HSV -> RGB: the colour circle's sixth i = floor(6·hue) picks which of value,
    p = v(1 - s), q = v(1 - s·f), t = v(1 - s(1 - f)) each channel takes (f the fraction past i)."""
    hue, saturation, value = img.unbind(dim=-3)
    sixth = chainrule.floor(hue * 6.0)
    fraction = hue * 6.0 - sixth
    sixth = sixth.to(dtype=chainrule.int32) % 6
    p = chainrule.clamp(value * (1.0 - saturation), 0.0, 1.0)
    q = chainrule.clamp(value * (1.0 - saturation * fraction), 0.0, 1.0)
    t = chainrule.clamp(value * (1.0 - saturation * (1.0 - fraction)), 0.0, 1.0)
    # chosen[..., i, :, :] is 1 where the pixel lies in sixth i
    chosen = (sixth.unsqueeze(dim=-3) == chainrule.arange(6).view(-1, 1, 1)).to(dtype=img.dtype)
    red = chainrule.stack((value, q, p, p, t, value), dim=-3)
    green = chainrule.stack((t, value, value, q, p, p), dim=-3)
    blue = chainrule.stack((p, p, t, value, value, q), dim=-3)
    candidates = chainrule.stack((red, green, blue), dim=-4)
    return (chosen.unsqueeze(dim=-4) * candidates).sum(dim=-3)


def adjust_hue(img, hue_factor):
    """The hue shifted by ``hue_factor`` turns of the colour circle (in [-0.5, 0.5]), computed in
    float32 HSV and converted back to the image's dtype; one channel is returned as it is."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if not isinstance(img, chainrule.Tensor):
        raise TypeError("Input img should be Tensor image")
    _check_image(img)
    if image_channels(img) == 1:
        return img
    original_dtype = img.dtype
    hue, saturation, value = rgb_to_hsv(convert_image_dtype(img, chainrule.float32)).unbind(dim=-3)
    shifted = chainrule.stack(((hue + hue_factor) % 1.0, saturation, value), dim=-3)
    return convert_image_dtype(hsv_to_rgb(shifted), original_dtype)
