"""The PIL side of ``transforms.functional``: a PIL image as a NumPy array and back, and the few
operations Pillow does itself (resizing, grayscale), as torchvision's ``_functional_pil`` does them.

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
