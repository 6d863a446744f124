"""torchvision's ``ops``: the layer that model libraries (timm) import from it, ``misc.FrozenBatchNorm2d``."""
from chainrule.vision.ops.misc import FrozenBatchNorm2d

__all__ = ["FrozenBatchNorm2d"]
