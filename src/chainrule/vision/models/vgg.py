"""VGG (Simonyan and Zisserman 2014, "Very Deep Convolutional Networks for Large-Scale Image
Recognition"), as torchvision builds it, with its module names and indices
(``features.0.weight`` ... ``classifier.6.bias``), so its pretrained state dicts load unchanged.

``features``: stacks of 3x3 convs (padding 1) and ReLUs, each stack closed by a 2x2 max pool that
halves the image; the ``_bn`` variants put a BatchNorm after each conv. ``avgpool`` brings the
512 channels to 7x7 whatever the image size (224 gives 7x7 already); ``classifier``: two hidden
Linear layers of 4096 with ReLU and Dropout, then the logits.

Input (N, 3, H, W) with H, W >= 32 (five poolings); output (N, num_classes).
"""
import chainrule
from chainrule import nn
from chainrule.vision.models.builders import model_builder
from chainrule.vision.models.weights import WeightsEnum, build_with_weights, imagenet_weights

VGG_RECIPE = "https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg"

# The convolution widths of each configuration of the paper, "M" a max pool: A is VGG-11, B VGG-13,
# D VGG-16 and E VGG-19 (the number counts the conv and Linear layers).
cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """``features`` (the convolutional part, from ``make_layers``), then adaptive average pooling
    to (512, 7, 7) and the three-layer ``classifier``. ``init_weights``: torchvision's init
    (Kaiming normal, fan_out, for convs; N(0, 0.01) for Linear weights; zero biases)."""

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(chainrule.flatten(x, 1))


def make_layers(cfg, batch_norm=False):
    """The ``features`` Sequential of a configuration: Conv2d(3x3, padding 1) [+ BatchNorm2d] +
    ReLU for each width, MaxPool2d(2, 2) for each "M"."""
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


def _vgg(cfg, batch_norm, weights, progress, **kwargs):
    if weights is not None:
        kwargs["init_weights"] = False  # the checkpoint overwrites every value: skip drawing 130M numbers
    features = make_layers(cfgs[cfg], batch_norm=batch_norm)
    return build_with_weights(VGG, weights, progress, features=features, **kwargs)


def _vgg_weights(name, num_params, top1, top5):
    return imagenet_weights(f"https://download.pytorch.org/models/{name}.pth", num_params, top1, top5, VGG_RECIPE, min_size=(32, 32))


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg11-8a719046", 132863336, 69.020, 88.628)
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg11_bn-6002323d", 132868840, 70.370, 89.810)
    DEFAULT = IMAGENET1K_V1


class VGG13_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg13-19584684", 133047848, 69.928, 89.246)
    DEFAULT = IMAGENET1K_V1


class VGG13_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg13_bn-abd245e5", 133053736, 71.586, 90.374)
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg16-397923af", 138357544, 71.592, 90.382)
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg16_bn-6c64b313", 138365992, 73.360, 91.516)
    DEFAULT = IMAGENET1K_V1


class VGG19_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg19-dcbb9e9d", 143667240, 72.376, 90.876)
    DEFAULT = IMAGENET1K_V1


class VGG19_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg19_bn-c79401a0", 143678248, 74.218, 91.842)
    DEFAULT = IMAGENET1K_V1


@model_builder(VGG11_Weights.IMAGENET1K_V1)
def vgg11(*, weights=None, progress=True, **kwargs):
    """VGG-11 (configuration A). ``weights``: a ``VGG11_Weights`` or None; ``kwargs`` go to ``VGG``
    (``num_classes``, ``init_weights``, ``dropout``)."""
    return _vgg("A", False, VGG11_Weights.verify(weights), progress, **kwargs)


@model_builder(VGG11_BN_Weights.IMAGENET1K_V1)
def vgg11_bn(*, weights=None, progress=True, **kwargs):
    """VGG-11 with BatchNorm; arguments as ``vgg11``'s."""
    return _vgg("A", True, VGG11_BN_Weights.verify(weights), progress, **kwargs)


@model_builder(VGG13_Weights.IMAGENET1K_V1)
def vgg13(*, weights=None, progress=True, **kwargs):
    """VGG-13 (configuration B); arguments as ``vgg11``'s."""
    return _vgg("B", False, VGG13_Weights.verify(weights), progress, **kwargs)


@model_builder(VGG13_BN_Weights.IMAGENET1K_V1)
def vgg13_bn(*, weights=None, progress=True, **kwargs):
    """VGG-13 with BatchNorm; arguments as ``vgg11``'s."""
    return _vgg("B", True, VGG13_BN_Weights.verify(weights), progress, **kwargs)


@model_builder(VGG16_Weights.IMAGENET1K_V1)
def vgg16(*, weights=None, progress=True, **kwargs):
    """VGG-16 (configuration D); arguments as ``vgg11``'s."""
    return _vgg("D", False, VGG16_Weights.verify(weights), progress, **kwargs)


@model_builder(VGG16_BN_Weights.IMAGENET1K_V1)
def vgg16_bn(*, weights=None, progress=True, **kwargs):
    """VGG-16 with BatchNorm; arguments as ``vgg11``'s."""
    return _vgg("D", True, VGG16_BN_Weights.verify(weights), progress, **kwargs)


@model_builder(VGG19_Weights.IMAGENET1K_V1)
def vgg19(*, weights=None, progress=True, **kwargs):
    """VGG-19 (configuration E); arguments as ``vgg11``'s."""
    return _vgg("E", False, VGG19_Weights.verify(weights), progress, **kwargs)


@model_builder(VGG19_BN_Weights.IMAGENET1K_V1)
def vgg19_bn(*, weights=None, progress=True, **kwargs):
    """VGG-19 with BatchNorm; arguments as ``vgg11``'s."""
    return _vgg("E", True, VGG19_BN_Weights.verify(weights), progress, **kwargs)
