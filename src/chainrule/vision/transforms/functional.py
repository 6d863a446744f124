"""torchvision's ``transforms.functional``: the image operations behind the transform classes.

An image is one of three things, and each function takes all three and returns the same kind:

- a **tensor** (..., C, H, W) (or (H, W)): computed with chainrule's operations, so a float image
  keeps its graph, exactly as torchvision's tensor path (resizing is ``interpolate`` with
  ``antialias=True``, padding is ``nn.functional.pad``);
- a **PIL image**: resized by Pillow itself, cropped, flipped and padded as Pillow would;
- a **NumPy array** (H, W) or (H, W, C), what chainrule's datasets give when Pillow is not
  installed: cropped, flipped and padded as a PIL image would be, resized and grayed through the
  tensor path (torchvision itself takes arrays only in ``to_tensor`` and ``to_pil_image``).
"""
import enum
import numbers
import warnings

import numpy

import chainrule
import chainrule.nn.functional as nn_functional
from chainrule.tensor import Tensor
from chainrule.vision.pillow import is_pil_image, load_pillow
from chainrule.vision.transforms import functional_color, functional_geometry, functional_pil
from chainrule.vision.transforms.float_batch import as_float_batch, working_dtype
from chainrule.vision.transforms.image_dtype import convert_image_dtype


class InterpolationMode(enum.Enum):
    """How ``resize`` fills in pixels; the values are ``interpolate``'s mode names."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    # Pillow's own filters, for PIL images only
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


#: Pillow's resampling filter numbers (``PIL.Image.BILINEAR`` is 2...), which torchvision also accepts.
PIL_FILTERS = {
    InterpolationMode.NEAREST: 0,
    InterpolationMode.NEAREST_EXACT: 0,
    InterpolationMode.BILINEAR: 2,
    InterpolationMode.BICUBIC: 3,
    InterpolationMode.BOX: 4,
    InterpolationMode.HAMMING: 5,
    InterpolationMode.LANCZOS: 1,
}


def interpolation_mode_from_int(number):
    """The InterpolationMode of one of Pillow's filter numbers (0 nearest, 2 bilinear, 3 bicubic...)."""
    modes = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
             4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}
    return modes[number]


def _interpolation_mode(interpolation):
    """An InterpolationMode from itself or one of Pillow's filter numbers; TypeError otherwise."""
    if isinstance(interpolation, int):
        return interpolation_mode_from_int(interpolation)
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer constant")
    return interpolation


def _is_array_image(img):
    return isinstance(img, numpy.ndarray) and img.ndim in (2, 3)


def _check_tensor_image(img):
    if img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")


def _check_image(img):
    """TypeError unless ``img`` is a tensor, a PIL image or an (H, W[, C]) array."""
    if isinstance(img, Tensor):
        _check_tensor_image(img)
    elif not (is_pil_image(img) or _is_array_image(img)):
        raise TypeError(f"img should be PIL Image, ndarray or Tensor. Got {type(img)}")


def get_dimensions(img):
    """[channels, height, width] of an image."""
    _check_image(img)
    if isinstance(img, Tensor):
        channels = 1 if img.ndim == 2 else img.shape[-3]
        return [channels, img.shape[-2], img.shape[-1]]
    if is_pil_image(img):
        return functional_pil.get_dimensions(img)
    return [1 if img.ndim == 2 else img.shape[2], img.shape[0], img.shape[1]]


def get_image_size(img):
    """[width, height] of an image (torchvision's order)."""
    _, height, width = get_dimensions(img)
    return [width, height]


def get_image_num_channels(img):
    """The number of channels of an image."""
    return get_dimensions(img)[0]


def to_tensor(pic):
    """A PIL image or (H, W[, C]) array as a (C, H, W) tensor: uint8 pixels become the default
    float dtype divided by 255 (so [0, 1]); other dtypes keep their dtype and values."""
    if not (is_pil_image(pic) or isinstance(pic, numpy.ndarray)):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if isinstance(pic, numpy.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic
    else:
        # Pillow's modes "I", "I;16" and "F" hold wider numbers, kept as they are; the rest are bytes
        wide = {"I": numpy.int32, "I;16": numpy.int16, "F": numpy.float32}
        array = numpy.array(pic, wide.get(pic.mode, numpy.uint8), copy=True)
        if pic.mode == "1":
            array = 255 * array
        width, height = pic.size
        array = array.reshape(height, width, len(pic.getbands()))
    if array.ndim == 2:
        array = array[:, :, None]
    img = chainrule.from_numpy(numpy.ascontiguousarray(array.transpose(2, 0, 1)))
    if img.dtype == chainrule.uint8:
        return img.to(dtype=chainrule.get_default_dtype()).div(255)
    return img


def pil_to_tensor(pic):
    """A PIL image as a (C, H, W) tensor of its own dtype (uint8 for "RGB"), values unchanged."""
    if not is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    width, height = pic.size
    array = numpy.array(pic, copy=True).reshape(height, width, len(pic.getbands()))
    return chainrule.from_numpy(numpy.ascontiguousarray(array.transpose(2, 0, 1)))


def to_pil_array(pic, mode=None):
    """(pixels, mode): the array and the Pillow mode ``to_pil_image`` makes its image from. Float
    values are taken to be in [0, 1] and become bytes (x·255, truncated) unless ``mode`` is "F"; the
    mode follows the channels (1: by dtype, "L" for uint8; 2: "LA"; 3: "RGB"; 4: "RGBA")."""
    if isinstance(pic, Tensor):
        if pic.ndim == 3:
            pic = pic.permute((1, 2, 0))
        pic = pic.numpy(force=True)
    elif not isinstance(pic, numpy.ndarray):
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if pic.ndim == 2:
        pic = pic[:, :, None]
    if pic.ndim != 3:
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if pic.shape[-1] > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {pic.shape[-1]} channels.")
    array = pic
    if numpy.issubdtype(array.dtype, numpy.floating) and mode != "F":
        array = (array * 255).astype(numpy.uint8)
    channels = array.shape[2]
    if channels == 1:
        array = array[:, :, 0]
        expected = {numpy.dtype(numpy.uint8): "L", numpy.dtype(numpy.int16): "I;16",
                    numpy.dtype(numpy.int32): "I", numpy.dtype(numpy.float32): "F"}.get(array.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {numpy.dtype}. Should be {expected}")
        mode = expected
    else:
        permitted, default = {2: (["LA"], "LA"), 3: (["RGB", "YCbCr", "HSV"], "RGB"),
                              4: (["RGBA", "CMYK", "RGBX"], "RGBA")}[channels]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for {channels}D inputs")
        if mode is None and array.dtype == numpy.uint8:
            mode = default
    if mode is None:
        raise TypeError(f"Input type {array.dtype} is not supported")
    return array, mode


def to_pil_image(pic, mode=None):
    """A (C, H, W) tensor or (H, W[, C]) array as a PIL image (see ``to_pil_array``). Needs Pillow."""
    array, mode = to_pil_array(pic, mode)
    return load_pillow("ToPILImage").fromarray(array, mode=mode)


def normalize(tensor, mean, std, inplace=False):
    """(x - mean) / std for each channel of a float tensor image (..., C, H, W)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    _check_tensor_image(tensor)
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(
            f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = {tensor.size()}"
        )
    if not inplace:
        tensor = tensor.clone()
    mean = chainrule.as_tensor(mean, dtype=tensor.dtype)
    std = chainrule.as_tensor(std, dtype=tensor.dtype)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    if mean.ndim == 1:
        mean = mean.view(-1, 1, 1)
    if std.ndim == 1:
        std = std.view(-1, 1, 1)
    return tensor.sub_(mean).div_(std)


def _compute_resized_output_size(image_size, size, max_size=None):
    """[new_height, new_width]: ``size`` (h, w) as given, or one number for the shorter side, the
    longer one scaled to keep the aspect ratio (truncated), then capped at ``max_size``."""
    if len(size) == 2:
        return [size[0], size[1]]
    height, width = image_size
    short, long = (width, height) if width <= height else (height, width)
    requested_short = size[0]
    new_short, new_long = requested_short, int(requested_short * long / short)
    if max_size is not None:
        if max_size <= requested_short:
            raise ValueError(
                f"max_size = {max_size} must be strictly greater than the requested "
                f"size for the smaller edge size = {size}"
            )
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_width, new_height = (new_short, new_long) if width <= height else (new_long, new_short)
    return [new_height, new_width]


def _tensor_resize(img, size, interpolation, antialias):
    """``interpolate`` on a tensor image, as torchvision's tensor path: (..., H, W) images as a batch,
    integers computed in float32 and rounded back."""
    mode = interpolation.value
    if mode not in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        raise ValueError(f"Interpolation mode '{mode}' is unsupported with Tensor input")
    antialias = bool(antialias) and mode in ("bilinear", "bicubic")
    computed_in = img.dtype if img.dtype in (chainrule.float32, chainrule.float64) else chainrule.float32
    batch, restore = as_float_batch(img, computed_in)
    align_corners = False if mode in ("bilinear", "bicubic") else None
    batch = nn_functional.interpolate(batch, size=size, mode=mode, align_corners=align_corners, antialias=antialias)
    if mode == "bicubic" and img.dtype == chainrule.uint8:
        batch = batch.clamp(min=0, max=255)
    return restore(batch)


def _through_tensor(array, function):
    """An (H, W[, C]) array image passed through the tensor path of ``function`` and back."""
    tensor = chainrule.from_numpy(numpy.ascontiguousarray(array if array.ndim == 2 else array.transpose(2, 0, 1)))
    result = function(tensor).numpy()
    return result if result.ndim == 2 else numpy.ascontiguousarray(result.transpose(1, 2, 0))


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """The image resized to ``size``: (h, w), or one number that the shorter side becomes, the
    aspect ratio kept. Tensors use ``interpolate`` (bilinear antialiased by default, as PIL does)."""
    interpolation = _interpolation_mode(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError(
                "max_size should only be passed if size specifies the length of the smaller edge, "
                "i.e. size should be an int or a sequence of length 1 in torchscript mode."
            )
    _, height, width = get_dimensions(img)
    output_size = _compute_resized_output_size((height, width), [size] if isinstance(size, int) else list(size), max_size)
    if [height, width] == output_size:
        return img
    if is_pil_image(img):
        if antialias is False:
            warnings.warn("Anti-alias option is always applied for PIL Image input. Argument antialias is ignored.", stacklevel=2)
        return functional_pil.resize(img, output_size, PIL_FILTERS[interpolation])
    if isinstance(img, numpy.ndarray):
        return _through_tensor(img, lambda tensor: _tensor_resize(tensor, output_size, interpolation, antialias))
    return _tensor_resize(img, output_size, interpolation, antialias)


def _parse_padding(padding):
    """(left, top, right, bottom) from torchvision's padding forms: one number, (left/right,
    top/bottom), or (left, top, right, bottom)."""
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if isinstance(padding, (tuple, list)):
        if len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
        if len(padding) == 1:
            padding = padding[0]
        elif len(padding) == 2:
            return padding[0], padding[1], padding[0], padding[1]
        else:
            return tuple(padding)
    return padding, padding, padding, padding


def _pad_array(array, left, top, right, bottom, fill, padding_mode):
    """An (H, W[, C]) array padded as Pillow pads: ``fill`` (a number or one per channel) around it,
    or its edge, reflection or mirror (NumPy's modes of the same names)."""
    array = array[max(-top, 0): array.shape[0] - max(-bottom, 0), max(-left, 0): array.shape[1] - max(-right, 0)]
    left, top, right, bottom = max(left, 0), max(top, 0), max(right, 0), max(bottom, 0)
    if padding_mode != "constant":
        widths = ((top, bottom), (left, right)) + ((0, 0),) * (array.ndim - 2)
        return numpy.pad(array, widths, mode=padding_mode)
    padded = numpy.empty((array.shape[0] + top + bottom, array.shape[1] + left + right) + array.shape[2:], array.dtype)
    padded[...] = numpy.asarray(fill, dtype=array.dtype)
    padded[top: top + array.shape[0], left: left + array.shape[1]] = array
    return padded


def _pad_tensor(img, left, top, right, bottom, fill, padding_mode):
    """A tensor image (..., H, W) padded with ``nn.functional.pad`` (symmetric: by gathering rows and
    columns), as torchvision's tensor path."""
    if fill is None:
        fill = 0
    if not isinstance(fill, (int, float)):
        raise TypeError("Got inappropriate fill arg")
    if padding_mode == "symmetric":
        img = img[..., max(-top, 0): img.shape[-2] - max(-bottom, 0), max(-left, 0): img.shape[-1] - max(-right, 0)]
        left, top, right, bottom = max(left, 0), max(top, 0), max(right, 0), max(bottom, 0)

        def mirrored(before, size, after):
            # [before-1 ... 0] + [0 ... size-1] + [size-1 ... size-after]: the edge is repeated
            return chainrule.tensor(list(range(before - 1, -1, -1)) + list(range(size)) + [size - 1 - i for i in range(after)])

        rows = mirrored(top, img.shape[-2], bottom)
        columns = mirrored(left, img.shape[-1], right)
        return img.index_select(-2, rows).index_select(-1, columns)
    squeezed = img.ndim < 4
    batch = img.unsqueeze(0) if squeezed else img
    out_dtype = batch.dtype
    # PyTorch pads integer tensors in the constant mode only; torchvision pads them in float32
    if padding_mode != "constant" and out_dtype not in (chainrule.float32, chainrule.float64):
        batch = batch.to(chainrule.float32)
    mode = "replicate" if padding_mode == "edge" else padding_mode
    pad = [left, right, top, bottom]
    if mode == "constant":
        batch = nn_functional.pad(batch, pad, mode=mode, value=float(fill))
    else:
        batch = nn_functional.pad(batch, pad, mode=mode)
    if squeezed:
        batch = batch.squeeze(0)
    return batch.to(out_dtype)


def pad(img, padding, fill=0, padding_mode="constant"):
    """The image with ``padding`` pixels added at its borders: one number for all four, (left/right,
    top/bottom) or (left, top, right, bottom); ``padding_mode`` "constant" (``fill``), "edge",
    "reflect" (the edge not repeated: [3, 2, | 1, 2, 3, 4]) or "symmetric" ([2, 1, | 1, 2, 3, 4])."""
    _check_image(img)
    left, top, right, bottom = _parse_padding(padding)
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    if isinstance(img, Tensor):
        return _pad_tensor(img, left, top, right, bottom, fill, padding_mode)
    if fill is None:
        fill = 0
    if is_pil_image(img):
        array = functional_pil.to_array(img)
        return functional_pil.like(_pad_array(array, left, top, right, bottom, fill, padding_mode), img)
    return _pad_array(img, left, top, right, bottom, fill, padding_mode)


def crop(img, top, left, height, width):
    """The ``height`` x ``width`` part of the image whose top-left corner is (``top``, ``left``);
    what lies outside the image is zeros."""
    _, image_height, image_width = get_dimensions(img)
    right, bottom = left + width, top + height
    if is_pil_image(img):
        return img.crop((left, top, right, bottom))
    inside = img[..., max(top, 0): max(bottom, 0), max(left, 0): max(right, 0)] if isinstance(img, Tensor) else (
        img[max(top, 0): max(bottom, 0), max(left, 0): max(right, 0)])
    if left < 0 or top < 0 or right > image_width or bottom > image_height:
        padding = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                   max(right - max(image_width, left), 0), max(bottom - max(image_height, top), 0)]
        return pad(inside, padding, fill=0)
    return inside


def center_crop(img, output_size):
    """The middle ``output_size`` (h, w, or one number for a square) of the image, padded with
    zeros around first where the image is smaller."""
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = output_size
    if crop_width > image_width or crop_height > image_height:
        padding = [
            (crop_width - image_width) // 2 if crop_width > image_width else 0,
            (crop_height - image_height) // 2 if crop_height > image_height else 0,
            (crop_width - image_width + 1) // 2 if crop_width > image_width else 0,
            (crop_height - image_height + 1) // 2 if crop_height > image_height else 0,
        ]
        img = pad(img, padding, fill=0)
        _, image_height, image_width = get_dimensions(img)
        if crop_width == image_width and crop_height == image_height:
            return img
    crop_top = int(round((image_height - crop_height) / 2.0))
    crop_left = int(round((image_width - crop_width) / 2.0))
    return crop(img, crop_top, crop_left, crop_height, crop_width)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """``crop`` then ``resize`` to ``size``."""
    img = crop(img, top, left, height, width)
    return resize(img, size, interpolation, antialias=antialias)


def hflip(img):
    """The image mirrored left to right."""
    _check_image(img)
    if isinstance(img, Tensor):
        return img.flip(-1)
    if is_pil_image(img):
        return functional_pil.hflip(img)
    return img[:, ::-1].copy()


def vflip(img):
    """The image mirrored top to bottom."""
    _check_image(img)
    if isinstance(img, Tensor):
        return img.flip(-2)
    if is_pil_image(img):
        return functional_pil.vflip(img)
    return img[::-1].copy()


def _tensor_grayscale(img, num_output_channels):
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    channels = img.shape[-3]
    if channels not in (1, 3):
        raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found {channels}")
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    gray = functional_color.grayscale(img)
    if num_output_channels == 3:
        return gray.expand(img.shape)
    return gray


def rgb_to_grayscale(img, num_output_channels=1):
    """The image in shades of gray, 0.2989·R + 0.587·G + 0.114·B, in 1 channel or repeated in 3
    (PIL images: Pillow's "L" conversion)."""
    if is_pil_image(img):
        return functional_pil.to_grayscale(img, num_output_channels)
    _check_image(img)
    if isinstance(img, numpy.ndarray):
        if img.ndim == 2:
            img = img[:, :, None]
        return _through_tensor(img, lambda tensor: _tensor_grayscale(tensor, num_output_channels))
    return _tensor_grayscale(img, num_output_channels)


def to_grayscale(img, num_output_channels=1):
    """A PIL image in shades of gray (torchvision's PIL-only name for ``rgb_to_grayscale``)."""
    if is_pil_image(img):
        return functional_pil.to_grayscale(img, num_output_channels)
    raise TypeError("Input should be PIL Image")


def _centred(center, img):
    """``center`` (pixel coordinates from the top-left corner) measured from the image's centre, as
    the tensor path's matrices are; the centre itself when None."""
    if center is None:
        return [0.0, 0.0]
    _, height, width = get_dimensions(img)
    return [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """The image turned ``angle`` degrees counter-clockwise about ``center`` (default: its centre),
    the same size or, with ``expand``, large enough to hold all of it; ``fill`` (a number or one per
    channel) where nothing was. Tensors: nearest or bilinear ``grid_sample``; PIL images: Pillow's
    ``rotate``; arrays: the tensor path."""
    interpolation = _interpolation_mode(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if is_pil_image(img):
        return functional_pil.rotate(img, angle, PIL_FILTERS[interpolation], expand, center, fill)
    if isinstance(img, numpy.ndarray):
        return _through_tensor(img, lambda tensor: rotate(tensor, angle, interpolation, expand, center, fill))
    # the matrices turn clockwise for a positive angle; rotate turns counter-clockwise
    matrix = functional_geometry.inverse_affine_matrix(_centred(center, img), -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    return functional_geometry.rotate(img, matrix, interpolation.value, expand, fill)


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """The image turned ``angle`` degrees clockwise and scaled by ``scale`` about ``center`` (default:
    its centre), sheared by ``shear`` degrees (one number: along x; (x, y)), then moved by
    ``translate`` = (dx, dy) pixels; same size, ``fill`` where nothing was. Tensors: ``grid_sample``;
    PIL images: Pillow's AFFINE ``transform``; arrays: the tensor path."""
    interpolation = _interpolation_mode(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    shear = [shear, 0.0] if isinstance(shear, numbers.Number) else list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    angle, translate = float(angle), list(translate)
    if is_pil_image(img):
        _, height, width = get_dimensions(img)
        # Pillow's coordinates: the corner-based centre, not the pixel-centre one (x + 0.5)
        pil_center = [width * 0.5, height * 0.5] if center is None else center
        matrix = functional_geometry.inverse_affine_matrix(pil_center, angle, translate, scale, shear)
        return functional_pil.affine(img, matrix, PIL_FILTERS[interpolation], fill)
    if isinstance(img, numpy.ndarray):
        return _through_tensor(
            img, lambda tensor: affine(tensor, angle, translate, scale, shear, interpolation, fill, center))
    matrix = functional_geometry.inverse_affine_matrix(
        _centred(center, img), angle, [1.0 * t for t in translate], scale, shear)
    return functional_geometry.affine(img, matrix, interpolation.value, fill)


def _perspective_coefficients(startpoints, endpoints):
    """The 8 coefficients of the perspective map that takes each of ``endpoints`` to the matching
    one of ``startpoints`` (Pillow's inverse map): the 8 x 8 linear system solved by least squares
    in float64, then rounded to float32."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(
            f"Please provide exactly four corners, got {len(startpoints)} startpoints and {len(endpoints)} endpoints."
        )
    rows = []
    for (end_x, end_y), (start_x, start_y) in zip(endpoints, startpoints):
        rows.append([end_x, end_y, 1, 0, 0, 0, -start_x * end_x, -start_x * end_y])
        rows.append([0, 0, 0, end_x, end_y, 1, -start_y * end_x, -start_y * end_y])
    system = chainrule.tensor(rows, dtype=chainrule.float64)
    targets = chainrule.tensor(startpoints, dtype=chainrule.float64).view(8)
    solution = chainrule.linalg.lstsq(system, targets, driver="gels").solution
    return solution.to(chainrule.float32).tolist()


def perspective(img, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None):
    """The image warped so that its four ``startpoints`` ([x, y]: top-left, top-right,
    bottom-right, bottom-left) land on ``endpoints``; ``fill`` where nothing was."""
    coefficients = _perspective_coefficients(startpoints, endpoints)
    interpolation = _interpolation_mode(interpolation)
    if is_pil_image(img):
        return functional_pil.perspective(img, coefficients, PIL_FILTERS[interpolation], fill)
    if isinstance(img, numpy.ndarray):
        return _through_tensor(img, lambda tensor: perspective(tensor, startpoints, endpoints, interpolation, fill))
    return functional_geometry.perspective(img, coefficients, interpolation.value, fill)


def _adjusted(img, factor, tensor_function, pil_function):
    """One of the colour adjustments on any kind of image: Pillow's enhancer for PIL images, the
    tensor path for tensors and arrays."""
    if is_pil_image(img):
        return pil_function(img, factor)
    if isinstance(img, numpy.ndarray):
        return _through_tensor(img, lambda tensor: tensor_function(tensor, factor))
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")
    return tensor_function(img, factor)


def adjust_brightness(img, brightness_factor):
    """The image blended with black by ``brightness_factor`` (0 black, 1 unchanged, 2 twice as
    bright), clamped to the dtype's range."""
    return _adjusted(img, brightness_factor, functional_color.adjust_brightness, functional_pil.adjust_brightness)


def adjust_contrast(img, contrast_factor):
    """The image blended with its mean gray level by ``contrast_factor`` (0 solid gray, 1 unchanged)."""
    return _adjusted(img, contrast_factor, functional_color.adjust_contrast, functional_pil.adjust_contrast)


def adjust_saturation(img, saturation_factor):
    """The image blended with its grayscale version by ``saturation_factor`` (0 gray, 1 unchanged)."""
    return _adjusted(img, saturation_factor, functional_color.adjust_saturation, functional_pil.adjust_saturation)


def adjust_hue(img, hue_factor):
    """The image's hue shifted by ``hue_factor`` turns of the colour circle, in [-0.5, 0.5]
    (±0.5: complementary colours)."""
    return _adjusted(img, hue_factor, functional_color.adjust_hue, functional_pil.adjust_hue)


def _gaussian_kernel(size, sigma, dtype):
    """(size,): exp(-x² / 2σ²) at x = -(size-1)/2 ... (size-1)/2, divided by its sum."""
    half = (size - 1) * 0.5
    positions = chainrule.linspace(-half, half, steps=size, dtype=dtype)
    density = chainrule.exp(-0.5 * (positions / sigma).pow(2))
    return density / density.sum()


def _tensor_gaussian_blur(img, kernel_size, sigma):
    """A tensor image convolved channel by channel (``conv2d`` with one group per channel) with the
    outer product of the y and x kernels, after reflection padding that keeps its size."""
    dtype = working_dtype(img)
    kernel = _gaussian_kernel(kernel_size[1], sigma[1], dtype)[:, None] @ _gaussian_kernel(
        kernel_size[0], sigma[0], dtype)[None, :]
    batch, restore = as_float_batch(img, dtype)
    channels = batch.shape[1]
    kernel = kernel.expand(channels, 1, kernel.shape[0], kernel.shape[1])
    half_x, half_y = kernel_size[0] // 2, kernel_size[1] // 2
    batch = nn_functional.pad(batch, [half_x, half_x, half_y, half_y], mode="reflect")
    return restore(nn_functional.conv2d(batch, kernel, groups=channels))


def gaussian_blur(img, kernel_size, sigma=None):
    """The image blurred by a Gaussian of ``kernel_size`` (odd; one number or (kx, ky)) and
    standard deviation ``sigma`` (one number or (σx, σy); default 0.15·k + 0.35), its borders
    reflected so that the size is kept. PIL images are blurred as a uint8 tensor and converted back."""
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got {type(kernel_size)}")
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    for size in kernel_size:
        if size % 2 == 0 or size < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [size * 0.15 + 0.35 for size in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if isinstance(sigma, (list, tuple)) and len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    for deviation in sigma:
        if deviation <= 0.0:
            raise ValueError(f"sigma should have positive values. Got {sigma}")
    if is_pil_image(img):
        blurred = _tensor_gaussian_blur(pil_to_tensor(img), kernel_size, sigma)
        return to_pil_image(blurred, mode=img.mode)
    if isinstance(img, numpy.ndarray):
        return _through_tensor(img, lambda tensor: _tensor_gaussian_blur(tensor, kernel_size, sigma))
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    _check_tensor_image(img)
    return _tensor_gaussian_blur(img, kernel_size, sigma)


def erase(img, i, j, h, w, v, inplace=False):
    """The tensor image with its ``h`` x ``w`` region at row ``i``, column ``j`` set to ``v`` (a
    value or a tensor that broadcasts to (..., C, h, w)); a copy unless ``inplace``."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    _check_tensor_image(img)
    if not inplace:
        img = img.clone()
    img[..., i: i + h, j: j + w] = v
    return img


__all__ = [
    "InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels", "to_tensor", "pil_to_tensor",
    "to_pil_image", "to_pil_array", "convert_image_dtype", "normalize", "resize", "pad", "crop", "center_crop", "resized_crop",
    "hflip", "vflip", "rgb_to_grayscale", "to_grayscale", "rotate", "affine", "perspective", "adjust_brightness",
    "adjust_contrast", "adjust_saturation", "adjust_hue", "gaussian_blur", "erase",
]
