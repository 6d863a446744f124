"""Pillow, the image library that torchvision's datasets and transforms hand images around in.

chainrule does not need it: it is the optional ``vision`` extra. Code that cannot work without it
(``ToPILImage``, ``ImageFolder``'s loader, ``save_image``, a transform given a PIL image) asks for it
through ``load_pillow``, which says how to install it. The datasets that build their images from
arrays (MNIST, CIFAR, FakeData) return PIL images when Pillow is installed, as torchvision's do, and
otherwise the uint8 array (H, W) or (H, W, C) the image would hold: what ``ToTensor`` accepts either way.
"""
import sys

INSTALL_HINT = 'pip install "chainrule[vision]"'


def load_pillow(needed_for="this"):
    """The ``PIL.Image`` module; ModuleNotFoundError naming the extra when Pillow is not installed."""
    try:
        from PIL import Image  # noqa: PLC0415 (optional: the vision extra)
    except ImportError as error:
        raise ModuleNotFoundError(
            f"{needed_for} needs Pillow, which is not installed: {INSTALL_HINT}", name="PIL"
        ) from error
    return Image


def has_pillow():
    """Whether Pillow can be imported."""
    try:
        load_pillow()
    except ModuleNotFoundError:
        return False
    return True


def is_pil_image(value):
    """Whether ``value`` is a PIL image. Never imports Pillow: without it loaded, nothing is one."""
    image_module = sys.modules.get("PIL.Image")
    return image_module is not None and isinstance(value, image_module.Image)


def image_or_array(array, mode=None):
    """A dataset's sample: ``array`` (uint8, (H, W) or (H, W, C)) as a PIL image in ``mode``, or the
    array itself when Pillow is not installed."""
    if not has_pillow():
        return array
    return from_array(array, mode)


def from_array(array, mode=None):
    """``Image.fromarray(array, mode)``: the array's pixels as a PIL image (a copy)."""
    image_module = load_pillow("Making a PIL image")
    if mode is None:
        return image_module.fromarray(array)
    return image_module.fromarray(array, mode=mode)
