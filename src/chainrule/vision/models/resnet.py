"""ResNet (He et al. 2015, "Deep Residual Learning for Image Recognition"), as torchvision builds it:
the same modules under the same names, so torchvision's pretrained state dicts load unchanged.

A stem (7x7 conv, stride 2; 3x3 max pool, stride 2) quarters the image; four stages ``layer1`` to
``layer4`` of residual blocks follow, the last three halving the size and doubling the width;
global average pooling and one Linear ``fc`` classify. Each block adds its input to what its convs
computed, ``relu(F(x) + x)``, so a deep stack starts close to the identity and its gradients reach
the first layers. When a block changes the size or width, ``downsample`` (1x1 conv and BatchNorm)
reshapes ``x`` to match.

Input (N, 3, H, W) float32, ImageNet-normalized; output (N, num_classes) logits. Any H, W >= 1
works (the stem and stages divide by 32, rounding up; ``avgpool`` is adaptive).
"""
import chainrule
from chainrule import nn
from chainrule.vision.models.builders import model_builder
from chainrule.vision.models.weights import WeightsEnum, build_with_weights, imagenet_weights

RESNET_RECIPE = "https://github.com/pytorch/vision/tree/main/references/classification#resnet"
NEW_RECIPE = "https://github.com/pytorch/vision/issues/3995#new-recipe"


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution, padded to keep the size at stride 1, without bias (a BatchNorm follows)."""
    return nn.Conv2d(
        in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups, bias=False,
        dilation=dilation,
    )


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution without bias: mixes channels at each pixel."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs (ResNet-18 and -34): relu(bn2(conv2(relu(bn1(conv1(x))))) + x).
    (N, inplanes, H, W) -> (N, planes, H / stride, W / stride)."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 conv down to ``width``, 3x3 conv (carrying the stride, as torchvision's "ResNet V1.5"),
    1x1 conv up to ``planes * 4`` (ResNet-50, -101, -152), plus the input.
    (N, inplanes, H, W) -> (N, 4 * planes, H / stride, W / stride)."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """The network around the blocks: ``layers`` gives the number of blocks in each of the four
    stages. ``zero_init_residual`` starts each block's last BatchNorm at zero (each block then
    begins as the identity); ``replace_stride_with_dilation`` (three bools) trades a stage's stride
    for dilation, keeping the feature map larger (for segmentation); ``groups`` and
    ``width_per_group`` make ResNeXt and Wide ResNet."""

    def __init__(
        self, block, layers, num_classes=1000, zero_init_residual=False, groups=1, width_per_group=64,
        replace_stride_with_dilation=None, norm_layer=None,
    ):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError(
                "replace_stride_with_dilation should be None "
                f"or a 3-element tuple, got {replace_stride_with_dilation}"
            )
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        """A stage: ``blocks`` blocks of width ``planes``, the first one carrying the stride (and
        the ``downsample`` its shortcut needs when the size or width changes)."""
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                norm_layer(planes * block.expansion),
            )
        layers = [
            block(self.inplanes, planes, stride, downsample, self.groups, self.base_width, previous_dilation, norm_layer)
        ]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(
                block(
                    self.inplanes, planes, groups=self.groups, base_width=self.base_width, dilation=self.dilation,
                    norm_layer=norm_layer,
                )
            )
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = chainrule.flatten(self.avgpool(x), 1)
        return self.fc(x)


class ResNet18_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet_weights(
        "https://download.pytorch.org/models/resnet18-f37072fd.pth", 11689512, 69.758, 89.078, RESNET_RECIPE
    )
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet_weights(
        "https://download.pytorch.org/models/resnet34-b627a593.pth", 21797672, 73.314, 91.420, RESNET_RECIPE
    )
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet_weights(
        "https://download.pytorch.org/models/resnet50-0676ba61.pth", 25557032, 76.130, 92.862, RESNET_RECIPE
    )
    IMAGENET1K_V2 = imagenet_weights(
        "https://download.pytorch.org/models/resnet50-11ad3fa6.pth", 25557032, 80.858, 95.434, NEW_RECIPE,
        resize_size=232,
    )
    DEFAULT = IMAGENET1K_V2


class ResNet101_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet_weights(
        "https://download.pytorch.org/models/resnet101-63fe2227.pth", 44549160, 77.374, 93.546, RESNET_RECIPE
    )
    IMAGENET1K_V2 = imagenet_weights(
        "https://download.pytorch.org/models/resnet101-cd907fc2.pth", 44549160, 81.886, 95.780, NEW_RECIPE,
        resize_size=232,
    )
    DEFAULT = IMAGENET1K_V2


class ResNet152_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet_weights(
        "https://download.pytorch.org/models/resnet152-394f9c45.pth", 60192808, 78.312, 94.046, RESNET_RECIPE
    )
    IMAGENET1K_V2 = imagenet_weights(
        "https://download.pytorch.org/models/resnet152-f82ba261.pth", 60192808, 82.284, 96.002, NEW_RECIPE,
        resize_size=232,
    )
    DEFAULT = IMAGENET1K_V2


@model_builder(ResNet18_Weights.IMAGENET1K_V1)
def resnet18(*, weights=None, progress=True, **kwargs):
    """ResNet-18: BasicBlocks [2, 2, 2, 2]. ``weights``: a ``ResNet18_Weights`` (or None for a
    fresh network); ``kwargs`` go to ``ResNet`` (``num_classes``, ``zero_init_residual``...)."""
    weights = ResNet18_Weights.verify(weights)
    return build_with_weights(ResNet, weights, progress, block=BasicBlock, layers=[2, 2, 2, 2], **kwargs)


@model_builder(ResNet34_Weights.IMAGENET1K_V1)
def resnet34(*, weights=None, progress=True, **kwargs):
    """ResNet-34: BasicBlocks [3, 4, 6, 3]; arguments as ``resnet18``'s."""
    weights = ResNet34_Weights.verify(weights)
    return build_with_weights(ResNet, weights, progress, block=BasicBlock, layers=[3, 4, 6, 3], **kwargs)


@model_builder(ResNet50_Weights.IMAGENET1K_V1)
def resnet50(*, weights=None, progress=True, **kwargs):
    """ResNet-50: Bottlenecks [3, 4, 6, 3]; arguments as ``resnet18``'s."""
    weights = ResNet50_Weights.verify(weights)
    return build_with_weights(ResNet, weights, progress, block=Bottleneck, layers=[3, 4, 6, 3], **kwargs)


@model_builder(ResNet101_Weights.IMAGENET1K_V1)
def resnet101(*, weights=None, progress=True, **kwargs):
    """ResNet-101: Bottlenecks [3, 4, 23, 3]; arguments as ``resnet18``'s."""
    weights = ResNet101_Weights.verify(weights)
    return build_with_weights(ResNet, weights, progress, block=Bottleneck, layers=[3, 4, 23, 3], **kwargs)


@model_builder(ResNet152_Weights.IMAGENET1K_V1)
def resnet152(*, weights=None, progress=True, **kwargs):
    """ResNet-152: Bottlenecks [3, 8, 36, 3]; arguments as ``resnet18``'s."""
    weights = ResNet152_Weights.verify(weights)
    return build_with_weights(ResNet, weights, progress, block=Bottleneck, layers=[3, 8, 36, 3], **kwargs)
