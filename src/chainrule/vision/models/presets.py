"""The preprocessing pretrained classifiers expect: what ``weights.transforms()`` returns."""
import chainrule
from chainrule import nn
from chainrule.tensor import Tensor
from chainrule.vision.transforms import functional as F
from chainrule.vision.transforms.functional import InterpolationMode

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageClassification(nn.Module):
    """torchvision's evaluation preprocessing for ImageNet classifiers: resize the shorter side to
    ``resize_size``, crop the centre ``crop_size`` square, scale to float in [0, 1] and normalize
    each channel with ImageNet's ``mean`` and ``std``. A PIL image, an (H, W, C) uint8 array or a
    tensor image (..., C, H, W) in; a float32 tensor (..., 3, crop_size, crop_size) out."""

    def __init__(
        self, *, crop_size, resize_size=256, mean=IMAGENET_MEAN, std=IMAGENET_STD,
        interpolation=InterpolationMode.BILINEAR, antialias=True,
    ):
        super().__init__()
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img):
        img = F.resize(img, self.resize_size, interpolation=self.interpolation, antialias=self.antialias)
        img = F.center_crop(img, self.crop_size)
        if not isinstance(img, Tensor):
            img = F.pil_to_tensor(img)
        img = F.convert_image_dtype(img, chainrule.float)
        return F.normalize(img, mean=self.mean, std=self.std)

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(\n    crop_size={self.crop_size}\n    resize_size={self.resize_size}"
            f"\n    mean={self.mean}\n    std={self.std}\n    interpolation={self.interpolation}\n)"
        )
