"""torchvision's ``transforms.v2`` for one image at a time: ``from chainrule.vision.transforms import v2``
and ``v2.Compose([v2.ToImage(), v2.ToDtype(chainrule.float32, scale=True), v2.Normalize(m, s)])`` runs.

v2's common transforms do to a single tensor or PIL image what the ``transforms`` classes of the
same names do, so those are the ones offered here; what v2 changed for a single image is written
out below: ``ToImage`` and ``ToDtype`` (which replace ``ToTensor``), ``Compose``'s checks,
``Normalize`` refusing PIL images and ``ColorJitter``'s None defaults. Not offered: tv_tensors
(bounding boxes, masks, videos) and samples of several inputs such as ``(image, label)``.
"""
from collections.abc import Sequence

import numpy

import chainrule
from chainrule.tensor import Tensor
from chainrule.vision.transforms import transforms as v1
from chainrule.vision.pillow import is_pil_image
from chainrule.vision.transforms import functional as F
from chainrule.vision.transforms.image_dtype import max_value
from chainrule.vision.transforms.transforms import (
    CenterCrop, GaussianBlur, Grayscale, InterpolationMode, Lambda, Pad, RandomAffine, RandomApply, RandomChoice,
    RandomCrop, RandomErasing, RandomGrayscale, RandomHorizontalFlip, RandomOrder, RandomPerspective,
    RandomResizedCrop, RandomRotation, RandomVerticalFlip, Resize,
)


class Compose(v1.Compose):
    """Applies ``transforms`` one after the other (a non-empty sequence of callables)."""

    def __init__(self, transforms):
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence of callables")
        if not transforms:
            raise ValueError("Pass at least one transform")
        super().__init__(transforms)


class ToImage:
    """PIL image, array (H, W[, C]) or tensor -> tensor image (C, H, W) of the same dtype and
    values (uint8 stays uint8: follow with ``ToDtype(float32, scale=True)`` for ``ToTensor``'s [0, 1])."""

    def __call__(self, inpt):
        if isinstance(inpt, numpy.ndarray):
            array = numpy.atleast_3d(inpt)
            return chainrule.from_numpy(numpy.ascontiguousarray(array.transpose(2, 0, 1)))
        if is_pil_image(inpt):
            return F.pil_to_tensor(inpt)
        if isinstance(inpt, Tensor):
            return inpt
        raise TypeError(
            f"Input can either be a pure Tensor, a numpy array, or a PIL image, but got {type(inpt)} instead."
        )

    def __repr__(self):
        return f"{self.__class__.__name__}()"


def _value_bits(dtype):
    """The bits an integer dtype holds its non-negative values in (uint8: 8, int16: 15...)."""
    return int(max_value(dtype)).bit_length()


def to_dtype(image, dtype=chainrule.float32, scale=False):
    """A tensor image as ``dtype``; with ``scale``, its values rescaled to the new dtype's range:
    integers to floats multiply by 1 / max, floats to integers by max + 1 - 0.001 (truncating),
    integers to integers shift by the difference of their bit widths."""
    if image.dtype == dtype:
        return image
    if not scale:
        return image.to(dtype)
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype == chainrule.float32 and dtype in (chainrule.int32, chainrule.int64)) or (
            image.dtype == chainrule.float64 and dtype == chainrule.int64
        ):
            raise RuntimeError(f"The conversion from {image.dtype} to {dtype} cannot be performed safely.")
        return image.mul(float(max_value(dtype)) + 1.0 - 1e-3).to(dtype)
    if dtype.is_floating_point:
        return image.to(dtype).mul(1.0 / max_value(image.dtype))
    shift = _value_bits(image.dtype) - _value_bits(dtype)
    if shift > 0:
        return chainrule.div(image, 2 ** shift, rounding_mode="floor").to(dtype)
    return image.to(dtype) * 2 ** -shift


class ToDtype:
    """A tensor image converted to ``dtype``, its values rescaled when ``scale`` (``to_dtype``);
    PIL images pass through unchanged, as v2 leaves them."""

    def __init__(self, dtype, scale=False):
        if not isinstance(dtype, chainrule.dtype):
            raise ValueError(f"dtype must be a dict or a torch.dtype, got {type(dtype)} instead")
        self.dtype = dtype
        self.scale = scale

    def __call__(self, inpt):
        if not isinstance(inpt, Tensor):
            return inpt
        return to_dtype(inpt, self.dtype, self.scale)

    def __repr__(self):
        return f"{self.__class__.__name__}(dtype={self.dtype}, scale={self.scale})"


class ToPureTensor:
    """The input as it is: chainrule's images are already plain tensors."""

    def __call__(self, inpt):
        return inpt

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class Normalize(v1.Normalize):
    """``Normalize`` for tensor images; TypeError for a PIL image (v2 asks for ``ToImage`` first)."""

    def forward(self, tensor):
        if is_pil_image(tensor):
            raise TypeError(f"{type(self).__name__}() does not support PIL images.")
        return super().forward(tensor)


class ColorJitter(v1.ColorJitter):
    """``ColorJitter`` whose arguments default to None (no change) and may be None."""

    def __init__(self, brightness=None, contrast=None, saturation=None, hue=None):
        super().__init__(0 if brightness is None else brightness, 0 if contrast is None else contrast,
                         0 if saturation is None else saturation, 0 if hue is None else hue)


__all__ = [
    "Compose", "ToImage", "ToDtype", "ToPureTensor", "Normalize", "ColorJitter", "to_dtype", "Resize", "CenterCrop",
    "Pad", "Lambda", "RandomApply", "RandomChoice", "RandomOrder", "RandomCrop", "RandomHorizontalFlip",
    "RandomVerticalFlip", "RandomResizedCrop", "RandomRotation", "RandomAffine", "RandomPerspective", "GaussianBlur",
    "RandomErasing", "Grayscale", "RandomGrayscale", "InterpolationMode",
]
