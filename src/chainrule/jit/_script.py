"""What ``torch.jit.script(module)`` gives: a ``RecursiveScriptModule``, a copy of the module that runs
its Python ``forward`` (chainrule has no TorchScript compiler), with a scripted module's interface.

As in PyTorch, the copy shares the module's parameters and buffers (the same tensors: training one
trains the other) but not its structure: each submodule is scripted in turn, and ``scripted.eval()``
or a parameter assigned to the copy leaves the original as it is. What a scripted module has beyond a
Module: ``save(f)`` for ``torch.jit.load`` (the deployment recipe: ``torch.jit.script(model).save(
"model.pt")``), ``original_name`` (the scripted class's name), ``code`` (the ``forward`` that runs,
here its Python source where PyTorch shows TorchScript's), and the printed form
``RecursiveScriptModule(original_name=Net ...)``.
"""
import copy
import inspect
import textwrap
import types

from chainrule.nn.module import Module


class ScriptModule(Module):
    """A module of TorchScript: a module ``torch.jit.script`` or ``trace`` made, or a subclass
    whose ``@script_method`` methods TorchScript compiles (older TorchScript code, RWKV's
    ``RWKV_RNN(torch.jit.ScriptModule)``): here a Module whose methods run as Python, which
    ``save`` writes whole for ``torch.jit.load``."""

    @property
    def original_name(self):
        """The name of the class whose code the module runs."""
        return self._original_class().__name__

    def _original_class(self):
        return type(self)

    @property
    def code(self):
        """The source of the ``forward`` the module runs: its Python (what chainrule runs), where
        PyTorch shows the TorchScript it compiled that Python to."""
        forward = self._original_class().forward
        try:
            return textwrap.dedent(inspect.getsource(forward))
        except (OSError, TypeError) as error:
            raise RuntimeError(f"the source of {self.original_name}.forward cannot be found ({error}): it was not defined in a file") from error

    def save(self, f, _extra_files=None):
        """Write the module whole to ``f`` (a path or a binary file) for ``torch.jit.load``."""
        from chainrule.jit import save

        save(self, f, _extra_files=_extra_files)


class ScriptedCopy(ScriptModule):
    """What ``script`` and ``trace`` make of a module: a copy whose class is a subclass of the kind
    (``RecursiveScriptModule``, ``TracedModule``) and of the module's class, made once per class, so
    that the module's own methods (``forward`` and those it calls, ``super().forward``, state-dict
    hooks) run unchanged."""

    def _original_class(self):
        return type(self).__bases__[-1]

    def extra_repr(self):
        return f"original_name={self.original_name}"

    def __reduce_ex__(self, protocol):
        """Pickled as the kind, the module's class and its state (the class of both is made at run time)."""
        return _rebuild, (type(self).__bases__[0], self._original_class(), dict(self.__dict__))


class RecursiveScriptModule(ScriptedCopy):
    """The scripted copy of a module (see the module docstring), printed as PyTorch prints one."""

    def _get_name(self):
        return "RecursiveScriptModule"


_CLASSES = {}


def scripted_class(kind, original_class):
    """The class of ``original_class``'s modules scripted as ``kind`` (a subclass of
    ``RecursiveScriptModule`` or of ``TracedModule``), made once."""
    key = (kind, original_class)
    if key not in _CLASSES:
        namespace = {"__module__": kind.__module__, "__qualname__": kind.__qualname__}
        _CLASSES[key] = types.new_class(kind.__name__, (kind, original_class), exec_body=lambda body: body.update(namespace))
    return _CLASSES[key]


def _rebuild(kind, original_class, state):
    module = object.__new__(scripted_class(kind, original_class))
    module.__setstate__(state)
    return module


def copy_as(module, kind, children_kind=None):
    """A copy of ``module`` of the class ``scripted_class(kind, type(module))``: its own attributes,
    registries and hook registries (copies of the dicts), the same parameter and buffer tensors, each
    submodule copied in turn as ``children_kind`` (``kind`` when not given)."""
    children_kind = children_kind or kind
    scripted = object.__new__(scripted_class(kind, type(module)))
    state = {name: copy.copy(value) if isinstance(value, (dict, set)) else value for name, value in module.__dict__.items()}
    state["_modules"] = {
        name: None if child is None else child if isinstance(child, ScriptModule) else copy_as(child, children_kind)
        for name, child in module._modules.items()
    }
    scripted.__setstate__(state)
    return scripted


def as_loaded(module):
    """A scripted or traced module read back by ``torch.jit.load``: a ``RecursiveScriptModule``
    whatever it was saved as, as PyTorch loads every module of an archive, its submodules too."""
    if isinstance(module, ScriptedCopy):
        module.__class__ = scripted_class(RecursiveScriptModule, module._original_class())
        for child in module.children():
            as_loaded(child)
    return module


def script_module(module):
    """``torch.jit.script(module)``: the module itself when it is a ScriptModule already, else its
    scripted copy."""
    if isinstance(module, ScriptModule):
        return module
    return copy_as(module, RecursiveScriptModule)
