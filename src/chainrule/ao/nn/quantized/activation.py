"""Quantized ReLU6: ``min(max(x, 0), 6)`` on a quantized tensor's integers, which keep its scale and
zero point: ``q`` clamped between the zero point (0) and the integer that stands for 6."""
import chainrule
from chainrule.backend import xp
from chainrule.nn.module import Module
from chainrule.quantized.tensor import quantized_tensor


class ReLU6(Module):
    """``QuantizedReLU6``: ``input quantized -> output quantized (same shape and parameters)``."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def _get_name(self):
        return "QuantizedReLU6"

    def forward(self, input):
        array = input._array
        six = chainrule.quantize_per_tensor(chainrule.tensor([6.0]), input.q_scale(), input.q_zero_point(), input.dtype)
        integers = xp.clip(array.integers, array.zero_point, six._array.integers[0]).astype(array.integers.dtype)
        return quantized_tensor(array.with_integers(integers))

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        return ReLU6(mod.inplace)
