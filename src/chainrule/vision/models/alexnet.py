"""AlexNet (Krizhevsky et al. 2012), in the one-GPU form of Krizhevsky 2014 ("One weird trick for
parallelizing convolutional neural networks") that torchvision builds, with its module names and
indices (``features.0``, ``features.3``, ... ``classifier.6``).

``features``: five convs (11x11 stride 4, 5x5, three 3x3) with ReLUs and three 3x3 max pools of
stride 2; ``avgpool`` brings the 256 channels to 6x6; ``classifier``: Dropout, Linear 9216 -> 4096,
ReLU, Dropout, Linear 4096 -> 4096, ReLU, Linear -> num_classes. The layers keep PyTorch's default
initialization.

Input (N, 3, H, W) with H, W >= 63; output (N, num_classes).
"""
import chainrule
from chainrule import nn
from chainrule.vision.models.builders import model_builder
from chainrule.vision.models.weights import WeightsEnum, build_with_weights, imagenet_weights


class AlexNet(nn.Module):
    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(chainrule.flatten(x, 1))


class AlexNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet_weights(
        "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth", 61100840, 56.522, 79.066,
        "https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg", min_size=(63, 63),
    )
    DEFAULT = IMAGENET1K_V1


@model_builder(AlexNet_Weights.IMAGENET1K_V1)
def alexnet(*, weights=None, progress=True, **kwargs):
    """AlexNet. ``weights``: an ``AlexNet_Weights`` or None; ``kwargs`` go to ``AlexNet``
    (``num_classes``, ``dropout``)."""
    return build_with_weights(AlexNet, AlexNet_Weights.verify(weights), progress, **kwargs)
