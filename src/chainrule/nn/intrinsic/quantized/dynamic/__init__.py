"""``torch.nn.intrinsic.quantized.dynamic``: PyTorch's older name of ``torch.ao.nn.intrinsic.quantized.dynamic``."""
from chainrule.ao.nn.intrinsic.quantized.dynamic import LinearReLU  # noqa: F401
