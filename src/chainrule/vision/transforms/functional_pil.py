"""The PIL side of ``transforms.functional``: a PIL image as a NumPy array and back, and the
operations Pillow does itself (resizing, grayscale, rotations and affine maps, the colour
enhancers), as torchvision's ``_functional_pil`` does them.

An image read as an array is (H, W) for one band, (H, W, C) otherwise, of the dtype Pillow gives
its mode (uint8 for "L", "RGB", "P"...; bool for "1"; int32 for "I"; float32 for "F"). Turning it
back keeps the mode and, for a palette image, the palette, so crops, flips and pads done on the array
give the image Pillow's own operations would.
"""
import numpy

from chainrule.vision.pillow import is_pil_image, load_pillow


def check_pil_image(img):
    """TypeError unless ``img`` is a PIL image (torchvision's message)."""
    if not is_pil_image(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")


def get_dimensions(img):
    """[channels, height, width] of a PIL image."""
    check_pil_image(img)
    width, height = img.size
    return [len(img.getbands()), height, width]


def to_array(img):
    """The pixels of ``img`` as a new array, (H, W) or (H, W, C)."""
    check_pil_image(img)
    return numpy.array(img)


def like(array, img):
    """``array`` (what ``to_array`` gave, then cropped, flipped or padded) as an image of ``img``'s
    mode, with its palette."""
    image_module = load_pillow("A PIL image")
    result = image_module.fromarray(numpy.ascontiguousarray(array), mode=img.mode if img.mode != "1" else None)
    if img.mode == "P":
        result.putpalette(img.getpalette())
    return result


def resize(img, size, interpolation):
    """``img`` resampled by Pillow to ``size`` = [height, width]; ``interpolation`` is Pillow's
    resampling filter number (Pillow antialiases its bilinear and bicubic filters always)."""
    check_pil_image(img)
    if not (isinstance(size, list) and len(size) == 2):
        raise TypeError(f"Got inappropriate size arg: {size}")
    return img.resize(tuple(size[::-1]), interpolation)


def to_grayscale(img, num_output_channels):
    """Pillow's "L" conversion (L = R·299/1000 + G·587/1000 + B·114/1000), repeated into an RGB image
    for ``num_output_channels=3``."""
    check_pil_image(img)
    if num_output_channels == 1:
        return img.convert("L")
    if num_output_channels == 3:
        gray = numpy.array(img.convert("L"), dtype=numpy.uint8)
        return load_pillow("A PIL image").fromarray(numpy.dstack([gray, gray, gray]), mode="RGB")
    raise ValueError("num_output_channels should be either 1 or 3")


def hflip(img):
    """``img`` mirrored left to right."""
    check_pil_image(img)
    return img.transpose(load_pillow("A PIL image").Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    """``img`` mirrored top to bottom."""
    check_pil_image(img)
    return img.transpose(load_pillow("A PIL image").Transpose.FLIP_TOP_BOTTOM)


def _enhanced(img, enhancer_name, factor):
    """``ImageEnhance.<enhancer_name>(img).enhance(factor)``: Pillow's blend of ``img`` with a
    degenerate image (black, mean gray, grayscale) by ``factor``."""
    check_pil_image(img)
    from PIL import ImageEnhance  # noqa: PLC0415 (optional: the vision extra)

    return getattr(ImageEnhance, enhancer_name)(img).enhance(factor)


def adjust_brightness(img, brightness_factor):
    """Pillow's Brightness enhancer: ``img`` blended with black."""
    return _enhanced(img, "Brightness", brightness_factor)


def adjust_contrast(img, contrast_factor):
    """Pillow's Contrast enhancer: ``img`` blended with the mean of its "L" conversion."""
    return _enhanced(img, "Contrast", contrast_factor)


def adjust_saturation(img, saturation_factor):
    """Pillow's Color enhancer: ``img`` blended with its grayscale version."""
    return _enhanced(img, "Color", saturation_factor)


def adjust_hue(img, hue_factor):
    """The hue band of Pillow's "HSV" conversion shifted by ``hue_factor`` · 255 (wrapping round as
    uint8 does), converted back to the image's mode; one-band modes are returned unchanged."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    check_pil_image(img)
    if img.mode in {"L", "1", "I", "F"}:
        return img
    image_module = load_pillow("A PIL image")
    hue, saturation, value = img.convert("HSV").split()
    shifted = numpy.array(hue, dtype=numpy.uint8)
    # the float -> uint8 cast and the addition both wrap round, which is the cyclic shift wanted
    with numpy.errstate(over="ignore", invalid="ignore"):
        shifted += numpy.array(hue_factor * 255).astype(numpy.int64).astype(numpy.uint8)
    hue = image_module.fromarray(shifted, "L")
    return image_module.merge("HSV", (hue, saturation, value)).convert(img.mode)


def parse_fill(fill, img, name="fillcolor"):
    """``{name: fill}`` for Pillow: one number per band (a number or a 1-sequence repeated), whole
    numbers except for mode "F"; ValueError when the sequence has another length."""
    bands = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and bands > 1:
        fill = tuple([fill] * bands)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = fill * bands
        elif len(fill) != bands:
            raise ValueError(
                "The number of elements in 'fill' does not match the number of channels of the image "
                f"({len(fill)} != {bands})"
            )
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(value) for value in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def affine(img, matrix, interpolation=0, fill=None):
    """``img.transform`` with Pillow's AFFINE map: output pixel (x, y) reads the input at
    (a·x + b·y + c, d·x + e·y + f) for ``matrix`` = [a, b, c, d, e, f] (the inverse map)."""
    check_pil_image(img)
    image_module = load_pillow("A PIL image")
    return img.transform(img.size, image_module.Transform.AFFINE, matrix, interpolation, **parse_fill(fill, img))


def rotate(img, angle, interpolation=0, expand=False, center=None, fill=None):
    """``img.rotate``: ``angle`` degrees counter-clockwise about ``center`` (the image's centre by
    default), enlarged to hold the whole result when ``expand``."""
    check_pil_image(img)
    return img.rotate(angle, interpolation, expand, center, **parse_fill(fill, img))


def perspective(img, perspective_coeffs, interpolation=3, fill=None):
    """``img.transform`` with Pillow's PERSPECTIVE map: output (x, y) reads the input at
    ((a·x + b·y + c) / (g·x + h·y + 1), (d·x + e·y + f) / (g·x + h·y + 1))."""
    check_pil_image(img)
    image_module = load_pillow("A PIL image")
    return img.transform(
        img.size, image_module.Transform.PERSPECTIVE, perspective_coeffs, interpolation, **parse_fill(fill, img)
    )
