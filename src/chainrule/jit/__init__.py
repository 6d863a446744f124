"""``chainrule.jit``, as ``torch.jit``: TorchScript's names, with Python doing the running.

chainrule has no TorchScript. ``torch.jit.script(module)`` gives a ``RecursiveScriptModule`` and
``torch.jit.trace(module, example)`` a ``TopLevelTracedModule`` (copies sharing the module's
parameters, ``_script.py`` and ``_trace.py``) that run the module's Python ``forward``, and save
themselves for ``jit.load`` (the deployment recipe ``torch.jit.script(model).save("model.pt")``);
a function scripted or traced is returned as it is (tracing runs it on the example first, as
PyTorch does, ``is_tracing()`` True then). ``is_scripting()`` is False, as outside TorchScript.
``script`` and ``trace`` give the DeprecationWarnings that PyTorch 2.13 gives; a ``ScriptModule``
subclass is a Module and ``script_method`` leaves its method as it is. ``Final`` (a constant
attribute of a scripted module, ``qkv_bias: Final[bool]``) is ``typing.Final``, as PyTorch's is.
``save``/``load`` round-trip a module through a pickle of it (no TorchScript archive), ``fork``
runs its function at once into a ``Future`` that ``wait`` reads.
"""
import builtins
import inspect
import os
import types
import typing
import warnings
from typing import Final  # noqa: F401 (torch.jit.Final is typing.Final)

from chainrule import serialization
from chainrule.futures import Future
from chainrule.jit._script import RecursiveScriptModule, ScriptModule, as_loaded, script_module
from chainrule.jit._trace import TopLevelTracedModule, TracedModule, run_as_traced, trace_module_of
from chainrule.nn.module import Module
from chainrule.tracing import TracerWarning, is_tracing


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """A module's ``RecursiveScriptModule`` (itself when it is a ScriptModule); a function or class
    as it is."""
    _deprecated("script", _COMPILE_OR_EXPORT)
    if builtins.isinstance(obj, Module):
        return script_module(obj)
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5, strict=True,
          _force_outplace=False, _module_class=None, _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """Run ``func`` on ``example_inputs`` (one argument or a tuple of them) or on
    ``example_kwarg_inputs`` (a dict), as PyTorch's trace runs it (``_trace.py``), and give a module
    (or its ``forward``) as a ``TopLevelTracedModule``, a function as it is. A ScriptModule is
    given back as it is, with PyTorch's warning."""
    _deprecated("trace", _COMPILE_OR_EXPORT)
    if builtins.isinstance(func, ScriptModule):
        warnings.warn("The input to trace is already a ScriptModule, tracing it is a no-op. Returning the object as is.", stacklevel=2)
        return func
    module = func if builtins.isinstance(func, Module) else getattr(func, "__self__", None)
    if builtins.isinstance(module, Module) and (module is func or func.__name__ == "forward"):
        if example_inputs is None and not builtins.isinstance(example_kwarg_inputs, dict):
            raise RuntimeError("example_kwarg_inputs should be a dict")
        return trace_module_of(module, example_inputs, example_kwarg_inputs, check_trace, check_inputs, check_tolerance)
    run_as_traced(func, example_inputs, example_kwarg_inputs, check_trace, check_inputs, check_tolerance, is_module=False)
    return func


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5, strict=True,
                 _force_outplace=False, _module_class=None, _compilation_unit=None, example_inputs_is_kwarg=False, _store_inputs=True):
    """``trace`` of several methods of ``mod``: ``inputs`` is a dict of {method name: example
    inputs}, each method is run as traced, and the module's ``TopLevelTracedModule`` is given."""
    _deprecated("trace_method", _COMPILE_OR_EXPORT)
    if not builtins.isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not builtins.isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    for name, example in inputs.items():
        checks = None if check_inputs is None else [each[name] for each in check_inputs]
        kwargs = example if example_inputs_is_kwarg else None
        run_as_traced(getattr(mod, name), None if kwargs else example, kwargs, check_trace, checks, check_tolerance, is_module=True)
    return trace_module_of(mod)


_COMPILE, _COMPILE_OR_EXPORT, _EXPORT = "Please use `torch.compile` instead.", "Please switch to `torch.compile` or `torch.export`.", "Please switch to `torch.export`."


def _deprecated(name, instead):
    """PyTorch 2.13's DeprecationWarning for ``torch.jit.<name>``, given where PyTorch gives it
    (from the library, so that Python's default filters hide it, as they hide PyTorch's)."""
    warnings.warn(f"`torch.jit.{name}` is deprecated. {instead}", DeprecationWarning, stacklevel=1)


def _unchanged(fn=None, **options):
    """A decorator usable bare (``@ignore``) or with options (``@ignore(drop=True)``)."""
    if fn is None or not callable(fn):
        return lambda function: function
    return fn


ignore = unused = export = _unchanged


def script_method(fn):
    """Marks a method of a ``ScriptModule`` for TorchScript: the method itself here."""
    _deprecated("script_method", _COMPILE_OR_EXPORT)
    return fn


def _overload(func):
    """Declares one signature of an overloaded function for TorchScript (PyG's utilities declare
    theirs on import): the declaration itself here, whose body is never run."""
    return func


_overload_method = _overload


def is_scripting():
    return False




def script_if_tracing(fn):
    """``fn`` compiled by ``script`` when first called inside a trace: ``fn`` itself here, as
    ``trace`` runs Python (transformers' ViTDet decorates its position helper with it)."""
    return fn


def annotate(the_type, the_value):
    return the_value


def interface(obj):
    """Declares a TorchScript interface: the class itself here (a class only, as in PyTorch)."""
    _deprecated("interface", _COMPILE)
    if not inspect.isclass(obj):
        raise RuntimeError("interface must be applied to a class")
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
    _deprecated("fork", _COMPILE)
    future = Future()
    future.set_result(func(*args, **kwargs))
    return future


def wait(future):
    _deprecated("wait", _COMPILE)
    return future.wait()


def save(m, f, _extra_files=None):
    """Write the scripted or traced module ``m`` (or a scripted function) whole to ``f``, for
    ``jit.load``: here a pickle of it (``chainrule.save``), not a TorchScript archive;
    ``_extra_files`` ({name: contents}) are kept beside it. A module neither scripted nor traced
    is PyTorch's AttributeError."""
    _deprecated("save", _EXPORT)
    if builtins.isinstance(m, Module) and not builtins.isinstance(m, ScriptModule):
        method = "save" if builtins.isinstance(f, (str, os.PathLike)) else "save_to_buffer"
        raise AttributeError(
            f"'{type(m).__name__}' object has no attribute '{method}' (jit.save writes a scripted or traced module: "
            f"torch.jit.script(model), or save the state_dict with torch.save)"
        )
    extra = {name: contents.encode() if builtins.isinstance(contents, str) else bytes(contents) for name, contents in (_extra_files or {}).items()}
    serialization.save({_MODULE_KEY: m, _EXTRA_FILES_KEY: extra}, f)


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """The module ``jit.save`` wrote to ``f`` (its class is imported and its code run, as loading a
    TorchScript module runs the module's code); ``_extra_files`` (a dict of names) is filled with
    the bytes saved under those names. An archive of PyTorch's TorchScript cannot be read."""
    _deprecated("load", _EXPORT)
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
    return as_loaded(saved[_MODULE_KEY])


_MODULE_KEY, _EXTRA_FILES_KEY = "chainrule.jit.module", "chainrule.jit.extra_files"


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """A scripted or traced module in eval mode, made ready for inference: here the module itself
    (PyTorch inlines its weights as constants); anything else is PyTorch's RuntimeError."""
    _deprecated("freeze", _COMPILE)
    if not builtins.isinstance(mod, ScriptModule):
        raise RuntimeError(
            "Freezing expects a ScriptModule as input. Please use torch.jit.script or torch.jit.trace to script your 'nn.Module'."
        )
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. Please call .eval() on your module before freezing.")
    return mod


def optimize_for_inference(mod, other_methods=None):
    """A scripted or traced module ready for inference: frozen (``freeze``) in eval mode; PyTorch
    also rewrites its graph (folding batch norms into convolutions...), which chainrule's Python
    ``forward`` has none of. Anything else is PyTorch's RuntimeError."""
    if not builtins.isinstance(mod, ScriptModule):
        raise RuntimeError(
            "optimize_for_inference expects a ScriptModule as input. Please use torch.jit.script or torch.jit.trace to "
            "script your 'nn.Module'."
        )
    return freeze(mod.eval())


class Attribute(typing.NamedTuple):
    """``torch.jit.Attribute(value, type)``: a module attribute with its TorchScript type spelled
    out (``self.names = torch.jit.Attribute([], List[str])``); outside TorchScript it is this pair."""

    value: typing.Any
    type: typing.Any


class Error(Exception):
    """The exception TorchScript code raises (``torch.jit.Error``)."""


class strict_fusion:  # noqa: N801 (PyTorch's name)
    """``with torch.jit.strict_fusion():`` asks TorchScript to fuse every operation in the block or
    fail; outside TorchScript (always, here) it warns, as PyTorch's does, and does nothing."""

    def __init__(self):
        if not is_scripting():
            warnings.warn("Only works in script mode", stacklevel=2)

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        return None


_fusion_strategy = [[("STATIC", 2), ("DYNAMIC", 10)]]  # PyTorch's default


def set_fusion_strategy(strategy):
    """Set TorchScript's fusion strategy (a list of ("STATIC" or "DYNAMIC", depth)) and return the
    previous one. chainrule fuses nothing: the strategy is checked and kept only."""
    if not builtins.isinstance(strategy, (list, tuple)) or not all(
        builtins.isinstance(item, tuple) and len(item) == 2 and builtins.isinstance(item[0], str) and builtins.isinstance(item[1], int)
        for item in strategy
    ):
        raise TypeError(f"set_fusion_strategy(): expected a list of (str, int) pairs, e.g. [('STATIC', 2)], got {strategy!r}")
    for behavior, _ in strategy:
        if behavior not in ("STATIC", "DYNAMIC"):
            raise ValueError(f"FusionBehavior only supported 'STATIC' or 'DYNAMIC', got: {behavior}")
    previous, _fusion_strategy[0] = _fusion_strategy[0], list(strategy)
    return previous


_onednn_fusion = [False]


def enable_onednn_fusion(enabled):
    """Ask TorchScript to fuse operations with oneDNN (the CPU tuning guide's advice): chainrule has
    no TorchScript to fuse, so the setting is only kept, and read back by ``onednn_fusion_enabled``."""
    _onednn_fusion[0] = bool(enabled)


def onednn_fusion_enabled():
    return _onednn_fusion[0]


# PyTorch's public names (``from torch.jit import *`` brings these and no helper of this file's)
__all__ = [
    "Attribute", "Error", "Future", "RecursiveScriptModule", "ScriptModule", "TopLevelTracedModule", "TracedModule", "annotate", "enable_onednn_fusion", "export", "fork", "freeze", "interface", "ignore", "isinstance", "load",
    "onednn_fusion_enabled", "optimize_for_inference", "save", "script", "script_if_tracing", "set_fusion_strategy", "strict_fusion",
    "trace", "trace_module", "unused", "wait",
]
