"""Quantized Dropout: the quantized input itself, in training and in evaluation (PyTorch's
placeholder, so that a float model with dropout converts and runs on quantized tensors)."""
from chainrule.nn import Dropout as FloatDropout


class Dropout(FloatDropout):
    """``QuantizedDropout``: ``input quantized -> the same tensor``."""

    def forward(self, input):
        return input

    def _get_name(self):
        return "QuantizedDropout"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return cls(mod.p, mod.inplace)
