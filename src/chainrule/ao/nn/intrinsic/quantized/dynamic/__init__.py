"""``torch.ao.nn.intrinsic.quantized.dynamic``: dynamically quantized layers with their ReLU fused in."""
from chainrule.ao.nn.intrinsic.quantized.dynamic.linear_relu import LinearReLU

__all__ = ["LinearReLU"]
