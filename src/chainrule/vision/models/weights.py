"""Pretrained weights as torchvision names them: ``ResNet18_Weights.IMAGENET1K_V1``.

Each architecture has an enum of its weights; each member holds a ``Weights``: where the state dict
is downloaded from (``url``), the preprocessing the weights were trained with (``transforms()``
builds it) and what is known about them (``meta``: the ImageNet ``categories`` they predict,
``num_params``, ``min_size``, the training ``recipe`` and the ImageNet accuracies under
``_metrics``). ``DEFAULT`` names the best of them.
"""
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Any, Callable

from chainrule.hub import load_state_dict_from_url
from chainrule.vision.models.imagenet_categories import IMAGENET_CATEGORIES
from chainrule.vision.models.presets import ImageClassification


@dataclass
class Weights:
    """One set of pretrained weights: its ``url``, ``transforms`` (called to build the
    preprocessing) and ``meta`` (a dict of facts about it)."""

    url: str
    transforms: Callable
    meta: dict[str, Any]


class WeightsEnum(Enum):
    """The base of every ``<Model>_Weights`` enum: its members' values are ``Weights``, whose
    fields read directly from the member (``ResNet18_Weights.DEFAULT.url``)."""

    @classmethod
    def verify(cls, obj):
        """``obj`` as a member of this enum: None stays None, a name (``"IMAGENET1K_V1"`` or
        ``"ResNet18_Weights.IMAGENET1K_V1"``) is looked up; a member of another enum is a TypeError."""
        if obj is None:
            return None
        if type(obj) is str:
            return cls[obj.replace(cls.__name__ + ".", "")]
        if not isinstance(obj, cls):
            raise TypeError(
                f"Invalid Weight class provided; expected {cls.__name__} but received {obj.__class__.__name__}."
            )
        return obj

    def get_state_dict(self, *args, **kwargs):
        """The state dict at ``url``, downloaded once into the hub cache
        (``chainrule.hub.load_state_dict_from_url``'s arguments)."""
        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


def build_with_weights(build, weights, progress, **kwargs):
    """``build(**kwargs)``, loaded with ``weights`` unless they are None (downloaded once, the hash
    in the file name checked). The weights fix ``num_classes`` to their number of categories: a
    different ``num_classes`` is a ValueError (replace the last layer after loading instead)."""
    if weights is None:
        return build(**kwargs)
    num_classes = len(weights.meta["categories"])
    if kwargs.get("num_classes", num_classes) != num_classes:
        raise ValueError(f"The parameter 'num_classes' expected value {num_classes} but got {kwargs['num_classes']} instead.")
    kwargs["num_classes"] = num_classes
    model = build(**kwargs)
    model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


def imagenet_weights(url, num_params, top1, top5, recipe, min_size=(1, 1), resize_size=256):
    """Weights trained on ImageNet-1K: evaluated on 224x224 centre crops of images resized to
    ``resize_size``, with top-1 and top-5 accuracies ``top1`` and ``top5`` (percent)."""
    return Weights(
        url=url,
        transforms=partial(ImageClassification, crop_size=224, resize_size=resize_size),
        meta={
            "categories": IMAGENET_CATEGORIES,
            "min_size": min_size,
            "num_params": num_params,
            "recipe": recipe,
            "_metrics": {"ImageNet-1K": {"acc@1": top1, "acc@5": top5}},
        },
    )
