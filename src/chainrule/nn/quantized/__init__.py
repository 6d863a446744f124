"""``torch.nn.quantized``: PyTorch's older name of ``torch.ao.nn.quantized`` (``nn.quantized.
FloatFunctional()`` in its tutorials), the same classes. It is loaded with
``chainrule.ao.quantization``, or on first use of ``chainrule.nn.quantized``."""
from chainrule.ao.nn.quantized import *  # noqa: F401,F403
from chainrule.ao.nn.quantized import __all__  # noqa: F401
from chainrule.nn.quantized import dynamic  # noqa: F401
