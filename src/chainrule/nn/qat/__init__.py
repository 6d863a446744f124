"""``torch.nn.qat``: PyTorch's older name of ``torch.ao.nn.qat``, the same classes."""
from chainrule.ao.nn.qat import *  # noqa: F401,F403
