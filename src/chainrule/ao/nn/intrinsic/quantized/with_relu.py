"""Quantized convolutions and Linear whose ReLU runs on the float result before it is quantized
(``QuantizedConvReLU1d/2d/3d``, ``QuantizedLinearReLU``)."""
import chainrule
from chainrule.ao.nn.intrinsic import fused as nni
from chainrule.ao.nn.quantized.conv import Conv1d, Conv2d, Conv3d
from chainrule.ao.nn.quantized.linear import Linear
from chainrule.backend import xp


def relu_of(values):
    return xp.maximum(values, 0).astype(values.dtype)


class ConvReLU1d(Conv1d):
    """``QuantizedConvReLU1d``: relu(conv1d(x)), then quantized."""

    _FLOAT_MODULE = nni.ConvReLU1d
    activation = staticmethod(relu_of)


class ConvReLU2d(Conv2d):
    """``QuantizedConvReLU2d``: relu(conv2d(x)), then quantized."""

    _FLOAT_MODULE = nni.ConvReLU2d
    activation = staticmethod(relu_of)


class ConvReLU3d(Conv3d):
    """``QuantizedConvReLU3d``: relu(conv3d(x)), then quantized."""

    _FLOAT_MODULE = nni.ConvReLU3d
    activation = staticmethod(relu_of)


class LinearReLU(Linear):
    """``QuantizedLinearReLU``: relu(linear(x)), then quantized."""

    activation = staticmethod(relu_of)

    def __init__(self, in_features, out_features, bias=True, dtype=chainrule.qint8):  # (PyTorch's keyword: bias)
        super().__init__(in_features, out_features, bias, dtype)

    def _get_name(self):
        return "QuantizedLinearReLU"
