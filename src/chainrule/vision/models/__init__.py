"""torchvision.models' image classifiers, with torchvision's names, module names and pretrained
weights, for transfer learning::

    from chainrule.vision import models                  # was: from torchvision import models

    model = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
    model.fc = nn.Linear(model.fc.in_features, 10)       # a new head for 10 classes

- ``resnet18``, ``resnet34``, ``resnet50``, ``resnet101``, ``resnet152`` (``ResNet``,
  ``BasicBlock``, ``Bottleneck``);
- ``vgg11``, ``vgg13``, ``vgg16``, ``vgg19`` and their ``_bn`` variants (``VGG``);
- ``alexnet`` (``AlexNet``); ``mobilenet_v2`` (``MobileNetV2``).

``weights=`` takes a member of the model's ``<Model>_Weights`` enum (or its name, or None); the
state dict is downloaded once from PyTorch's servers into PyTorch's own cache
(``chainrule.hub``), so checkpoints a PyTorch installation already fetched are reused. The older
``pretrained=True`` still works, with torchvision's deprecation warning. ``list_models``,
``get_model``, ``get_model_weights`` and ``get_weight`` find models and weights by name.
"""
from chainrule.vision.models.alexnet import AlexNet, AlexNet_Weights, alexnet
from chainrule.vision.models.builders import get_model, get_model_weights, get_weight, list_models
from chainrule.vision.models.mobilenetv2 import MobileNet_V2_Weights, MobileNetV2, mobilenet_v2
from chainrule.vision.models.resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    ResNet18_Weights,
    ResNet34_Weights,
    ResNet50_Weights,
    ResNet101_Weights,
    ResNet152_Weights,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)
from chainrule.vision.models.vgg import (
    VGG,
    VGG11_BN_Weights,
    VGG11_Weights,
    VGG13_BN_Weights,
    VGG13_Weights,
    VGG16_BN_Weights,
    VGG16_Weights,
    VGG19_BN_Weights,
    VGG19_Weights,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)
from chainrule.vision.models.weights import Weights, WeightsEnum

__all__ = [
    "AlexNet", "AlexNet_Weights", "alexnet",
    "MobileNetV2", "MobileNet_V2_Weights", "mobilenet_v2",
    "ResNet", "BasicBlock", "Bottleneck",
    "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights", "ResNet101_Weights", "ResNet152_Weights",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "VGG", "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights", "VGG13_BN_Weights",
    "VGG16_Weights", "VGG16_BN_Weights", "VGG19_Weights", "VGG19_BN_Weights",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "Weights", "WeightsEnum", "get_model", "get_model_weights", "get_weight", "list_models",
]
