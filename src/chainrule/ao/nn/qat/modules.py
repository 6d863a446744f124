"""Quantization-aware-training layers: the float layers with their weight fake-quantized on every
forward (``weight_fake_quant``, from the qconfig), so that training sees the rounding of the int8
weight it will have."""
import chainrule
from chainrule.nn import functional as F


class FakeQuantizedWeight:
    """What the QAT layers share: made from a float layer, whose parameters they take over."""

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The QAT layer holding ``mod``'s parameters, with the weight fake quantizer of its qconfig."""
        qat = cls.__new__(cls)
        qat.__dict__.update(mod.__dict__)
        qat.weight_fake_quant = mod.qconfig.weight()
        return qat


class Linear(FakeQuantizedWeight, chainrule.nn.Linear):
    """``input (N, *, in_features) -> (N, *, out_features)`` with the weight fake-quantized."""

    _FLOAT_MODULE = chainrule.nn.Linear

    def forward(self, input):
        return F.linear(input, self.weight_fake_quant(self.weight), self.bias)


class Conv2d(FakeQuantizedWeight, chainrule.nn.Conv2d):
    """``input (N, C_in, H, W) -> (N, C_out, H_out, W_out)`` with the weight fake-quantized (zero padding)."""

    _FLOAT_MODULE = chainrule.nn.Conv2d

    def forward(self, input):
        weight = self.weight_fake_quant(self.weight)
        return F.conv2d(input, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
