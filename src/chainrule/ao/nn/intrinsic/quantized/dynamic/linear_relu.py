"""Dynamically quantized Linear followed by ReLU (``DynamicQuantizedLinearReLU``), what
``quantize_dynamic`` makes of a fused ``LinearReLU``: ``input (N, *, in_features) float ->
relu(W x + b) (N, *, out_features) float``, the product as ``dynamic.Linear`` computes it (int8 or
float16 weights), the ReLU on its float result."""
from chainrule.ao.nn import intrinsic as nni
from chainrule.ao.nn.intrinsic.quantized.with_relu import relu_of
from chainrule.ao.nn.quantized.dynamic.linear import Linear


class LinearReLU(Linear):
    """``torch.ao.nn.intrinsic.quantized.dynamic.LinearReLU``."""

    _FLOAT_MODULE = nni.LinearReLU

    activation = staticmethod(relu_of)

    def _get_name(self):
        return "DynamicQuantizedLinearReLU"
