"""``torch.nn.intrinsic.quantized``: PyTorch's older name of ``torch.ao.nn.intrinsic.quantized``, the same classes."""
from chainrule.ao.nn.intrinsic.quantized import *  # noqa: F401,F403
from chainrule.nn.intrinsic.quantized import dynamic  # noqa: F401
