"""The names course code reaches for in PyTorch's C extension, ``torch._C``: switching
``__torch_function__`` off and opting a Tensor subclass out of it (see ``overrides.py``), and the
random ``Generator`` (``random.py``), whose class is named as living here, as PyTorch's."""
from chainrule.overrides import DisableTorchFunction, DisableTorchFunctionSubclass  # noqa: F401  torch._C's names
from chainrule.overrides import _is_torch_function_enabled  # noqa: F401
from chainrule.overrides import disabled_torch_function_impl as _disabled_torch_function_impl  # noqa: F401
from chainrule.random import Generator  # noqa: F401,E402


def _log_api_usage_once(event):
    """PyTorch's usage logging (torchaudio's and torchvision's constructors call it): nothing to log."""
