"""``torch.ao.nn.intrinsic.qat``: fused layers that train with fake-quantized weights."""
from chainrule.ao.nn.intrinsic.qat.fused import ConvBn2d, ConvBnReLU2d, ConvReLU2d, LinearReLU  # noqa: F401
