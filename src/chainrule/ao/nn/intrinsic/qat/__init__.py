"""``torch.ao.nn.intrinsic.qat``: fused layers that train with fake-quantized weights."""
from chainrule.ao.nn.intrinsic.qat.fused import (  # noqa: F401
    ConvBn1d,
    ConvBn2d,
    ConvBn3d,
    ConvBnReLU1d,
    ConvBnReLU2d,
    ConvBnReLU3d,
    ConvReLU1d,
    ConvReLU2d,
    ConvReLU3d,
    LinearBn1d,
    LinearReLU,
    freeze_bn_stats,
    update_bn_stats,
)
