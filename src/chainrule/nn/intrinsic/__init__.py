"""``torch.nn.intrinsic``: PyTorch's older name of ``torch.ao.nn.intrinsic`` (fused modules), the
same classes, with ``qat`` and ``quantized`` beneath it."""
from chainrule.ao.nn.intrinsic import *  # noqa: F401,F403
from chainrule.nn.intrinsic import qat, quantized  # noqa: F401
