"""torchvision's ``transforms``: ``from chainrule.vision import transforms`` and course code's
``transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])`` runs
as written. The classes are in ``transforms.py``, the operations they call in ``functional.py``
(``transforms.functional``, the ``F`` of torchvision's docs)."""
from chainrule.vision.transforms import functional
from chainrule.vision.transforms.transforms import (
    CenterCrop, Compose, ConvertImageDtype, Grayscale, InterpolationMode, Lambda, Normalize, Pad, PILToTensor,
    RandomApply, RandomChoice, RandomCrop, RandomGrayscale, RandomHorizontalFlip, RandomOrder, RandomResizedCrop,
    RandomVerticalFlip, Resize, ToPILImage, ToTensor,
)

__all__ = [
    "functional", "Compose", "ToTensor", "PILToTensor", "ConvertImageDtype", "ToPILImage", "Normalize", "Resize",
    "CenterCrop", "Pad", "Lambda", "RandomApply", "RandomChoice", "RandomOrder", "RandomCrop", "RandomHorizontalFlip",
    "RandomVerticalFlip", "RandomResizedCrop", "Grayscale", "RandomGrayscale", "InterpolationMode",
]
