"""``chainrule.jit``, as ``torch.jit``: its decorators and compilers return what they are given.

chainrule has no TorchScript; ``@torch.jit.script``, ``torch.jit.trace(model, example)`` and the
annotations leave the function or module as it is, so code written for them runs (eagerly, as
Python). ``is_scripting()`` and ``is_tracing()`` are False, as they are outside TorchScript.
``script`` gives the DeprecationWarning that PyTorch 2.13 gives; ``ScriptModule`` is a Module and
``script_method`` leaves its method as it is. ``Final`` (a constant attribute
of a scripted module, ``qkv_bias: Final[bool]``) is ``typing.Final``, as PyTorch's is.
"""
import warnings
from typing import Final  # noqa: F401 (torch.jit.Final is typing.Final)

from chainrule.nn.module import Module


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    warnings.warn("`torch.jit.script` is deprecated. Please switch to `torch.compile` or `torch.export`.", DeprecationWarning, stacklevel=2)
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    return func


def trace_module(mod, inputs=None, *args, **kwargs):
    return mod


def _unchanged(fn=None, **options):
    """A decorator usable bare (``@ignore``) or with options (``@ignore(drop=True)``)."""
    if fn is None or not callable(fn):
        return lambda function: function
    return fn


ignore = unused = export = _unchanged


class ScriptModule(Module):
    """A module whose ``@script_method`` methods TorchScript compiles (older TorchScript code,
    RWKV's ``RWKV_RNN(torch.jit.ScriptModule)``): here a Module whose methods run as Python."""


def script_method(fn):
    """Marks a method of a ``ScriptModule`` for TorchScript: the method itself here."""
    return fn


def is_scripting():
    return False


def is_tracing():
    return False


def annotate(the_type, the_value):
    return the_value


def interface(obj):
    return obj


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    return mod


_onednn_fusion = [False]


def enable_onednn_fusion(enabled):
    """Ask TorchScript to fuse operations with oneDNN (the CPU tuning guide's advice): chainrule has
    no TorchScript to fuse, so the setting is only kept, and read back by ``onednn_fusion_enabled``."""
    _onednn_fusion[0] = bool(enabled)


def onednn_fusion_enabled():
    return _onednn_fusion[0]


# PyTorch's public names (``from torch.jit import *`` brings these and no helper of this file's)
__all__ = [
    "ScriptModule", "annotate", "enable_onednn_fusion", "export", "freeze", "interface", "ignore",
    "onednn_fusion_enabled", "script", "trace", "trace_module", "unused",
]
