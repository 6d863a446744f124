"""Fused layers for quantization-aware training: the QAT Conv2d or Linear (weight fake-quantized)
followed by what was fused with it. The batch norm runs in float after the convolution, with its
own statistics, while training; ``to_float`` folds it into the convolution for ``convert``
(PyTorch folds it into the weight during training too, which changes the rounding seen, not what
is learned)."""
import chainrule
from chainrule.ao.nn.intrinsic import fused
from chainrule.ao.nn.qat.modules import Conv2d, Linear
from chainrule.nn.utils.fusion import fuse_conv_bn_eval


class FusedQAT(chainrule.nn.Sequential):
    """A fused float module whose first layer trains with a fake-quantized weight."""

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        first = mod[0]
        first.qconfig = mod.qconfig
        qat_first = (Conv2d if isinstance(first, chainrule.nn.Conv2d) else Linear).from_float(first)
        return cls(qat_first, *list(mod)[1:])

    def to_float(self):
        """The fused float module of the trained layers (batch norm folded into the convolution)."""
        first = self[0]
        float_first = first._FLOAT_MODULE.__new__(first._FLOAT_MODULE)
        float_first.__dict__.update(first.__dict__)
        float_first._modules = {name: module for name, module in first._modules.items() if name != "weight_fake_quant"}
        rest = list(self)[1:]
        if rest and isinstance(rest[0], chainrule.nn.BatchNorm2d):
            float_first = fuse_conv_bn_eval(float_first.eval(), rest[0].eval())
            rest = rest[1:]
        if not rest:
            return float_first
        with_relu = fused.ConvReLU2d if isinstance(float_first, chainrule.nn.Conv2d) else fused.LinearReLU
        return with_relu(float_first, rest[0])


class ConvReLU2d(FusedQAT):
    """QAT Conv2d then ReLU."""


class LinearReLU(FusedQAT):
    """QAT Linear then ReLU."""


class ConvBn2d(FusedQAT):
    """QAT Conv2d then BatchNorm2d."""


class ConvBnReLU2d(FusedQAT):
    """QAT Conv2d, BatchNorm2d, then ReLU."""
