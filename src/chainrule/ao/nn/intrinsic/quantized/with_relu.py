"""Quantized Conv2d and Linear whose ReLU runs on the float result before it is quantized."""
from chainrule.ao.nn.quantized.conv import Conv2d
from chainrule.ao.nn.quantized.linear import Linear
from chainrule.backend import xp


def relu_of(values):
    return xp.maximum(values, 0).astype(values.dtype)


class ConvReLU2d(Conv2d):
    """``QuantizedConvReLU2d``: relu(conv(x)), then quantized."""

    activation = staticmethod(relu_of)

    def _get_name(self):
        return "QuantizedConvReLU2d"


class LinearReLU(Linear):
    """``QuantizedLinearReLU``: relu(linear(x)), then quantized."""

    activation = staticmethod(relu_of)

    def _get_name(self):
        return "QuantizedLinearReLU"
