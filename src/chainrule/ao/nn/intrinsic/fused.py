"""Fused modules: layers that ``fuse_modules`` joins so that they are quantized as one (the
activation of a convolution is applied before its output is quantized, not after). Each is a
Sequential of the float layers; it computes what they computed."""
from chainrule.nn import BatchNorm1d, BatchNorm2d, BatchNorm3d, Conv1d, Conv2d, Conv3d, Linear, ReLU
from chainrule.nn.container import Sequential


class FusedModule(Sequential):
    """A Sequential that marks its layers as one to quantize; ``PARTS`` are the types it joins."""

    PARTS = ()

    def __init__(self, *modules):
        if tuple(type(each) for each in modules) != self.PARTS:
            given = " and ".join(type(each).__name__ for each in modules)
            expected = " and ".join(each.__name__ for each in self.PARTS)
            raise AssertionError(f"Incorrect types for input modules: {given} ({type(self).__name__} joins {expected})")
        super().__init__(*modules)


class ConvReLU1d(FusedModule):
    """Conv1d then ReLU."""

    PARTS = (Conv1d, ReLU)


class ConvReLU2d(FusedModule):
    """Conv2d then ReLU."""

    PARTS = (Conv2d, ReLU)


class ConvReLU3d(FusedModule):
    """Conv3d then ReLU."""

    PARTS = (Conv3d, ReLU)


class LinearReLU(FusedModule):
    """Linear then ReLU."""

    PARTS = (Linear, ReLU)


class ConvBn1d(FusedModule):
    """Conv1d then BatchNorm1d (kept apart for quantization-aware training, which folds them)."""

    PARTS = (Conv1d, BatchNorm1d)


class ConvBn2d(FusedModule):
    """Conv2d then BatchNorm2d (kept apart for quantization-aware training, which folds them)."""

    PARTS = (Conv2d, BatchNorm2d)


class ConvBn3d(FusedModule):
    """Conv3d then BatchNorm3d (kept apart for quantization-aware training, which folds them)."""

    PARTS = (Conv3d, BatchNorm3d)


class ConvBnReLU1d(FusedModule):
    """Conv1d, BatchNorm1d, then ReLU (kept apart for quantization-aware training)."""

    PARTS = (Conv1d, BatchNorm1d, ReLU)


class ConvBnReLU2d(FusedModule):
    """Conv2d, BatchNorm2d, then ReLU (kept apart for quantization-aware training)."""

    PARTS = (Conv2d, BatchNorm2d, ReLU)


class ConvBnReLU3d(FusedModule):
    """Conv3d, BatchNorm3d, then ReLU (kept apart for quantization-aware training)."""

    PARTS = (Conv3d, BatchNorm3d, ReLU)


class LinearBn1d(FusedModule):
    """Linear then BatchNorm1d (kept apart for quantization-aware training, which folds them)."""

    PARTS = (Linear, BatchNorm1d)


class BNReLU2d(FusedModule):
    """BatchNorm2d then ReLU (a batch norm that follows no convolution to fold into)."""

    PARTS = (BatchNorm2d, ReLU)


class BNReLU3d(FusedModule):
    """BatchNorm3d then ReLU."""

    PARTS = (BatchNorm3d, ReLU)
