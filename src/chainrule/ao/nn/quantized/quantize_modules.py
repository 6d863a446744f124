"""The modules where a quantized model enters and leaves quantization: ``Quantize`` (float ->
quint8 with fixed parameters: what a calibrated QuantStub becomes) and ``DeQuantize`` (back)."""
import chainrule
from chainrule.nn.module import Module


class Quantize(Module):
    """``input float -> quantized (same shape)`` with ``scale``, ``zero_point`` and ``dtype``."""

    def __init__(self, scale, zero_point, dtype, factory_kwargs=None):
        super().__init__()
        self.register_buffer("scale", chainrule.tensor([float(scale)]))
        self.register_buffer("zero_point", chainrule.tensor([int(zero_point)], dtype=chainrule.int64))
        self.dtype = dtype

    def forward(self, X):
        return chainrule.quantize_per_tensor(X, float(self.scale), int(self.zero_point), self.dtype)

    def extra_repr(self):
        return f"scale={self.scale}, zero_point={self.zero_point}, dtype={self.dtype}"

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return Quantize(float(scale), int(zero_point), mod.activation_post_process.dtype)


class DeQuantize(Module):
    """``quantized -> float32 (same shape)``."""

    def forward(self, Xq):
        return Xq.dequantize()

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        return DeQuantize()
