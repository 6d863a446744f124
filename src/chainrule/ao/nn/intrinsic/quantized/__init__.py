"""``torch.ao.nn.intrinsic.quantized``: quantized layers with their ReLU applied before the output
is quantized (so the output's range starts at 0 and keeps all its levels)."""
from chainrule.ao.nn.intrinsic.quantized.with_relu import ConvReLU2d, LinearReLU  # noqa: F401
