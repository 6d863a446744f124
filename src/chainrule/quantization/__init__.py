"""``torch.quantization``: PyTorch's older name of ``torch.ao.quantization``, the same names."""
from chainrule.ao.quantization import *  # noqa: F401,F403
from chainrule.ao.quantization import __all__  # noqa: F401
