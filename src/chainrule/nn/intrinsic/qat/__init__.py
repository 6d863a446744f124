"""``torch.nn.intrinsic.qat``: PyTorch's older name of ``torch.ao.nn.intrinsic.qat``, the same classes."""
from chainrule.ao.nn.intrinsic.qat import *  # noqa: F401,F403
