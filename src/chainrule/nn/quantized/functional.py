"""``torch.nn.quantized.functional``: PyTorch's older name of ``torch.ao.nn.quantized.functional``."""
from chainrule.ao.nn.quantized.functional import *  # noqa: F401,F403
from chainrule.ao.nn.quantized.functional import __all__  # noqa: F401
