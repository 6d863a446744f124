"""Fused modules: layers that ``fuse_modules`` joins so that they are quantized as one (the
activation of a convolution is applied before its output is quantized, not after). Each is a
Sequential of the float layers; it computes what they computed."""
from chainrule.nn.container import Sequential


class FusedModule(Sequential):
    """A Sequential that marks its layers as one to quantize."""


class ConvReLU2d(FusedModule):
    """Conv2d then ReLU."""

    def __init__(self, conv, relu):
        super().__init__(conv, relu)


class LinearReLU(FusedModule):
    """Linear then ReLU."""

    def __init__(self, linear, relu):
        super().__init__(linear, relu)


class ConvBn2d(FusedModule):
    """Conv2d then BatchNorm2d (kept apart for quantization-aware training, which folds them at convert)."""

    def __init__(self, conv, bn):
        super().__init__(conv, bn)


class ConvBnReLU2d(FusedModule):
    """Conv2d, BatchNorm2d, then ReLU (kept apart for quantization-aware training)."""

    def __init__(self, conv, bn, relu):
        super().__init__(conv, bn, relu)


class BNReLU2d(FusedModule):
    """BatchNorm2d then ReLU (a batch norm that follows no convolution to fold into)."""

    def __init__(self, batch_norm, relu):
        super().__init__(batch_norm, relu)


class BNReLU3d(FusedModule):
    """BatchNorm3d then ReLU."""

    def __init__(self, batch_norm, relu):
        super().__init__(batch_norm, relu)
