"""``torch.ao.nn.intrinsic.quantized``: quantized layers with their ReLU applied before the output
is quantized (so the output's range starts at 0 and keeps all its levels)."""
from chainrule.ao.nn.intrinsic.quantized import dynamic  # noqa: F401
from chainrule.ao.nn.intrinsic.quantized.bn_relu import BNReLU2d, BNReLU3d  # noqa: F401
from chainrule.ao.nn.intrinsic.quantized.with_relu import ConvReLU1d, ConvReLU2d, ConvReLU3d, LinearReLU  # noqa: F401
