"""``chainrule.jit``, as ``torch.jit``: its decorators and compilers return what they are given.

chainrule has no TorchScript; ``@torch.jit.script``, ``torch.jit.trace(model, example)`` and the
annotations leave the function or module as it is, so code written for them runs (eagerly, as
Python). ``is_scripting()`` and ``is_tracing()`` are False, as they are outside TorchScript.
``script`` gives the DeprecationWarning that PyTorch 2.13 gives; ``ScriptModule`` is a Module and
``script_method`` leaves its method as it is. ``Final`` (a constant attribute
of a scripted module, ``qkv_bias: Final[bool]``) is ``typing.Final``, as PyTorch's is.
``save``/``load`` round-trip a module through a pickle of it (no TorchScript archive), ``fork``
runs its function at once into a ``Future`` that ``wait`` reads.
"""
import builtins
import types
import typing
import warnings
from typing import Final  # noqa: F401 (torch.jit.Final is typing.Final)

from chainrule import serialization
from chainrule.futures import Future
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


class TracerWarning(Warning):
    """What ``torch.jit.trace`` warns of where a trace may not generalize (pyro filters it): never
    given here, where nothing is traced."""


class ScriptModule(Module):
    """A module whose ``@script_method`` methods TorchScript compiles (older TorchScript code,
    RWKV's ``RWKV_RNN(torch.jit.ScriptModule)``): here a Module whose methods run as Python."""


def script_method(fn):
    """Marks a method of a ``ScriptModule`` for TorchScript: the method itself here."""
    return fn


def _overload(func):
    """Declares one signature of an overloaded function for TorchScript (PyG's utilities declare
    theirs on import): the declaration itself here, whose body is never run."""
    return func


_overload_method = _overload


def is_scripting():
    return False


def is_tracing():
    return False


def annotate(the_type, the_value):
    return the_value


def interface(obj):
    return obj


def isinstance(obj, target_type):  # noqa: A001 (PyTorch's name)
    """Whether ``obj`` is of ``target_type``, a type that may name its contents (``list[int]``,
    ``dict[str, Tensor]``, ``Optional[int]``, ``tuple[int, Tensor]``), checked element by element
    as TorchScript's refinement reads it; a bare container type is PyTorch's RuntimeError. An
    empty container meets any contents (with PyTorch's warning that eager mode cannot tell)."""
    origin, arguments = typing.get_origin(target_type), typing.get_args(target_type)
    if target_type in (list, dict, tuple):
        kind = "dict without contained types. Please add contained type, e.g. dict[int, int]" if target_type is dict else (
            f"{target_type.__name__} without a contained type. Please add a contained type, e.g. {target_type.__name__}[int]"
        )
        raise RuntimeError(f"Attempted to use {kind}")
    if origin in (typing.Union, types.UnionType):  # Optional[int], int | None
        return any(isinstance(obj, each) for each in arguments)
    if origin is None:
        return builtins.isinstance(obj, target_type)
    if not builtins.isinstance(obj, origin):
        return False
    if not obj:
        warnings.warn(
            "The inner type of a container is lost when calling torch.jit.isinstance in eager mode. For example, "
            "List[int] would become list and therefore falsely return True for List[float] or List[str].",
            stacklevel=2,
        )
        return True
    if origin is dict:
        key_type, value_type = arguments
        return all(isinstance(key, key_type) and isinstance(value, value_type) for key, value in obj.items())
    if origin is tuple:
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return all(isinstance(each, arguments[0]) for each in obj)
        return len(obj) == len(arguments) and all(isinstance(each, kind) for each, kind in zip(obj, arguments))
    return all(isinstance(each, arguments[0]) for each in obj)


def fork(func, *args, **kwargs):
    """``func(*args, **kwargs)`` as a ``Future`` (TorchScript's task parallelism): run at once,
    as PyTorch runs a Python function outside TorchScript (its error is raised here)."""
    future = Future()
    future.set_result(func(*args, **kwargs))
    return future


def wait(future):
    return future.wait()


def save(m, f, _extra_files=None):
    """Write the (scripted) module ``m`` whole to ``f``, for ``jit.load``: here a pickle of the
    module (``chainrule.save``), not a TorchScript archive; ``_extra_files`` ({name: contents})
    are kept beside it."""
    extra = {name: contents.encode() if builtins.isinstance(contents, str) else bytes(contents) for name, contents in (_extra_files or {}).items()}
    serialization.save({_MODULE_KEY: m, _EXTRA_FILES_KEY: extra}, f)


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """The module ``jit.save`` wrote to ``f`` (its class is imported and its code run, as loading a
    TorchScript module runs the module's code); ``_extra_files`` (a dict of names) is filled with
    the bytes saved under those names. An archive of PyTorch's TorchScript cannot be read."""
    try:
        saved = serialization.load(f, map_location=map_location, weights_only=False)
    except Exception as error:
        raise RuntimeError(
            f"jit.load: {f!r} is not a module jit.save wrote ({error}); TorchScript archives written by PyTorch hold "
            "TorchScript code, which chainrule cannot run: load the model's state_dict into the Python class instead"
        ) from error
    if not builtins.isinstance(saved, dict) or _MODULE_KEY not in saved:
        raise RuntimeError(f"jit.load: {f!r} is not a module jit.save wrote; torch.load reads what torch.save wrote")
    if _extra_files is not None:
        for name in _extra_files:
            _extra_files[name] = saved[_EXTRA_FILES_KEY].get(name, b"")
    return saved[_MODULE_KEY]


_MODULE_KEY, _EXTRA_FILES_KEY = "chainrule.jit.module", "chainrule.jit.extra_files"


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
    "Future", "ScriptModule", "annotate", "enable_onednn_fusion", "export", "fork", "freeze", "interface", "ignore", "isinstance", "load",
    "onednn_fusion_enabled", "save", "script", "trace", "trace_module", "unused", "wait",
]
