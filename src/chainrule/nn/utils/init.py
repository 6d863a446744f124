"""``skip_init``, as ``torch.nn.utils.init``: build a module without drawing its starting values."""
import inspect

from chainrule.nn.module import Module
from chainrule.random import default_generator


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` whose parameters hold values no one should read (to be
    filled, from a checkpoint or an initializer, before use). PyTorch builds it on the meta device
    and allocates empty memory; chainrule builds it normally and puts the global generator back,
    so that skipping the initialization draws no random numbers, as in PyTorch."""
    if not isinstance(module_cls, type):
        raise TypeError(
            f"skip_init: expected a Module class, got {module_cls!r}, which is not a class; pass the class "
            "and its arguments, e.g. skip_init(nn.Linear, 3, 4)"
        )
    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    state = default_generator.state_bytes()
    module = module_cls(*args, **kwargs)
    default_generator.set_state(state)
    return module
