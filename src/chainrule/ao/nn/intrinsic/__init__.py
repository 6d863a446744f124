"""``torch.ao.nn.intrinsic``: fused float modules (``fuse_modules`` makes them), and in
``qat`` and ``quantized`` their quantization-aware-training and quantized forms."""
from chainrule.ao.nn.intrinsic.fused import (  # noqa: F401
    BNReLU2d,
    BNReLU3d,
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
)
