"""Quantization-aware-training layers: the float layers with their weight fake-quantized on every
forward (``weight_fake_quant``, from the qconfig), so that training sees the rounding of the int8
weight it will have. ``Linear``, ``Conv1d``, ``Conv2d``, ``Conv3d``."""
import chainrule
from chainrule.ao.nn.intrinsic.fused import FusedModule
from chainrule.nn import functional as F

CONVOLUTIONS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def layer_arguments(layer):
    """The constructor arguments of a float Linear or convolution that rebuild its shape."""
    if isinstance(layer, chainrule.nn.Linear):
        return (layer.in_features, layer.out_features, layer.bias is not None)
    return (layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding, layer.dilation,
            layer.groups, layer.bias is not None, layer.padding_mode)


class FakeQuantizedWeight:
    """What the QAT layers share: a ``qconfig`` (required) whose weight fake quantizer they hold.
    ``_FLOAT_MODULE`` is what they are made from, ``_FLOAT_LAYER`` the plain layer inside it,
    ``_FUSED_FLOAT_MODULE`` the fused float module of that layer and a ReLU (where one follows)."""

    _FUSED_FLOAT_MODULE = None

    def __init__(self, *args, qconfig=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not qconfig:
            raise AssertionError(f"qconfig must be provided for QAT module ({type(self).__name__}(..., qconfig=...))")
        self.qconfig = qconfig
        self.weight_fake_quant = qconfig.weight()

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The QAT layer holding ``mod``'s parameters (the layer of a fused ``mod``), with the
        weight fake quantizer of its qconfig."""
        if type(mod) is not cls._FLOAT_MODULE:
            raise AssertionError(
                f"qat.{cls.__name__}.from_float only works for {cls._FLOAT_MODULE.__name__}, got {type(mod).__name__}"
            )
        if not getattr(mod, "qconfig", None):
            raise AssertionError(f"Input float module must have a valid qconfig ({type(mod).__name__}: set its .qconfig)")
        return cls.holding(mod[0] if isinstance(mod, FusedModule) else mod, mod.qconfig)

    @classmethod
    def holding(cls, layer, qconfig):
        """The QAT layer of float ``layer``'s shape, holding its parameters."""
        qat = cls(*layer_arguments(layer), qconfig=qconfig)
        qat.weight, qat.bias = layer.weight, layer.bias
        return qat

    def float_weight_bias(self):
        """The weight and bias the float (or quantized) layer takes."""
        return self.weight, self.bias

    def to_float(self):
        """The float layer (followed by a ReLU, as the fused float module, where this one has one)."""
        layer = self._FLOAT_LAYER(*layer_arguments(self))
        weight, bias = self.float_weight_bias()
        layer.weight = chainrule.nn.Parameter(weight.detach())
        if bias is not None:
            layer.bias = chainrule.nn.Parameter(bias.detach())
        if self._FUSED_FLOAT_MODULE is not None:
            layer = self._FUSED_FLOAT_MODULE(layer, chainrule.nn.ReLU())
        return layer.train(self.training)


class Linear(FakeQuantizedWeight, chainrule.nn.Linear):
    """``input (N, *, in_features) -> (N, *, out_features)`` with the weight fake-quantized."""

    _FLOAT_MODULE = _FLOAT_LAYER = chainrule.nn.Linear

    def forward(self, input):
        return F.linear(input, self.weight_fake_quant(self.weight), self.bias)


class FakeQuantizedConvolution(FakeQuantizedWeight):
    """A QAT convolution: ``input (N, C_in, *spatial) -> (N, C_out, *spatial_out)``."""

    def convolve(self, input, weight, bias):
        """The layer's convolution of ``input`` with another ``weight`` and ``bias`` (its padding mode too)."""
        input, padding = self._padded(input)
        return CONVOLUTIONS[self.spatial](input, weight, bias, self.stride, padding, self.dilation, self.groups)

    def forward(self, input):
        return self.convolve(input, self.weight_fake_quant(self.weight), self.bias)


class Conv1d(FakeQuantizedConvolution, chainrule.nn.Conv1d):
    """``input (N, C_in, L) -> (N, C_out, L_out)`` with the weight fake-quantized."""

    _FLOAT_MODULE = _FLOAT_LAYER = chainrule.nn.Conv1d


class Conv2d(FakeQuantizedConvolution, chainrule.nn.Conv2d):
    """``input (N, C_in, H, W) -> (N, C_out, H_out, W_out)`` with the weight fake-quantized."""

    _FLOAT_MODULE = _FLOAT_LAYER = chainrule.nn.Conv2d


class Conv3d(FakeQuantizedConvolution, chainrule.nn.Conv3d):
    """``input (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)`` with the weight fake-quantized."""

    _FLOAT_MODULE = _FLOAT_LAYER = chainrule.nn.Conv3d
