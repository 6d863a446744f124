"""chainrule.vision: the part of torchvision that course code uses, on chainrule tensors.

A lecture written for PyTorch runs with its import changed::

    from chainrule.vision import datasets, transforms     # was: from torchvision import ...
    from chainrule import vision as torchvision           # was: import torchvision

- ``transforms``: Compose, ToTensor, Normalize, Resize, the crops, flips and pads, RandomRotation,
  RandomAffine, RandomPerspective, ColorJitter, GaussianBlur, RandomErasing, with torchvision's
  arguments, defaults, output dtypes and errors; ``transforms.functional`` beneath them, and
  ``transforms.v2``'s common single-image classes.
- ``datasets``: MNIST, FashionMNIST, CIFAR10, CIFAR100 (torchvision's folder layout, mirrors and MD5
  checks; CIFAR's pickles read by an unpickler that builds plain data only), ImageFolder,
  DatasetFolder and FakeData.
- ``models``: resnet18-152, vgg11-19 (and _bn), alexnet, mobilenet_v2 with torchvision's module
  names and state-dict keys; ``weights=ResNet18_Weights.DEFAULT`` (or ``pretrained=True``) downloads
  PyTorch's pretrained checkpoint through ``chainrule.hub`` into PyTorch's own cache and loads it.
- ``ops``: ``misc.FrozenBatchNorm2d``, the fixed batch normalization model libraries (timm) import.
- ``utils``: make_grid and save_image.

Pillow is optional (``pip install "chainrule[vision]"``): without it the datasets give uint8 arrays
(H, W) or (H, W, C) instead of PIL images, which ``ToTensor`` and the crops, flips and pads take as
well; what cannot work without Pillow says so.
"""
from chainrule.vision import datasets, models, ops, transforms, utils


def get_image_backend():
    """The library images are loaded with: always "PIL" (torchvision's other, accimage, is not offered)."""
    return "PIL"


__all__ = ["datasets", "models", "transforms", "utils", "get_image_backend"]
