"""torchvision's ``transforms``: ``from chainrule.vision import transforms`` and course code's
``transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])`` runs
as written. The classes are in ``transforms.py``, the operations they call in ``functional.py``
(``transforms.functional``, the ``F`` of torchvision's docs). ``transforms.v2`` offers v2's
``ToImage`` / ``ToDtype`` and its common classes for one image at a time."""
from chainrule.vision.transforms import functional
from chainrule.vision.transforms.transforms import (
    CenterCrop, ColorJitter, Compose, ConvertImageDtype, GaussianBlur, Grayscale, InterpolationMode, Lambda, Normalize,
    Pad, PILToTensor, RandomAffine, RandomApply, RandomChoice, RandomCrop, RandomErasing, RandomGrayscale,
    RandomHorizontalFlip, RandomOrder, RandomPerspective, RandomResizedCrop, RandomRotation, RandomVerticalFlip, Resize,
    ToPILImage, ToTensor,
)

__all__ = [
    "functional", "Compose", "ToTensor", "PILToTensor", "ConvertImageDtype", "ToPILImage", "Normalize", "Resize",
    "CenterCrop", "Pad", "Lambda", "RandomApply", "RandomChoice", "RandomOrder", "RandomCrop", "RandomHorizontalFlip",
    "RandomVerticalFlip", "RandomResizedCrop", "Grayscale", "RandomGrayscale", "InterpolationMode", "RandomRotation",
    "RandomAffine", "RandomPerspective", "ColorJitter", "GaussianBlur", "RandomErasing",
]
