"""``torch.ao``: quantization (``chainrule.ao.quantization``) and its modules (``chainrule.ao.nn``)."""
from chainrule.ao import nn, quantization  # noqa: F401
