"""``torch.ao.nn.intrinsic``: fused float modules (``fuse_modules`` makes them), and in
``quantized`` their quantized forms."""
from chainrule.ao.nn.intrinsic.fused import BNReLU2d, BNReLU3d, ConvBn2d, ConvBnReLU2d, ConvReLU2d, LinearReLU  # noqa: F401
