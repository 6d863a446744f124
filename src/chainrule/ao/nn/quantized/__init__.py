"""``torch.ao.nn.quantized``: the layers of a statically quantized model (quantized tensors in and
out), and ``dynamic``: those of a dynamically quantized one (floats in and out)."""
from chainrule.ao.nn.quantized import dynamic
from chainrule.ao.nn.quantized.activation import ReLU6
from chainrule.ao.nn.quantized.conv import Conv2d
from chainrule.ao.nn.quantized.functional_modules import FloatFunctional, QFunctional
from chainrule.ao.nn.quantized.linear import Linear, LinearPackedParams
from chainrule.ao.nn.quantized.quantize_modules import DeQuantize, Quantize

__all__ = ["Conv2d", "DeQuantize", "FloatFunctional", "Linear", "LinearPackedParams", "QFunctional", "Quantize", "ReLU6"]
