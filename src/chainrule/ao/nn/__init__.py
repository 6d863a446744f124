"""``torch.ao.nn``: the modules of quantization (quantized, dynamic, fused)."""
from chainrule.ao.nn import intrinsic, quantized  # noqa: F401
