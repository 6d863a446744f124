"""``torch.ao.nn.qat``: layers that train with fake-quantized weights."""
from chainrule.ao.nn.qat.modules import Conv2d, Linear  # noqa: F401
