"""``torch._subclasses``: the tensor subclasses of PyTorch's tracing (fake tensors), which chainrule does not make."""
from chainrule._subclasses import fake_tensor  # noqa: F401 (torch._subclasses.fake_tensor, as an attribute too)
