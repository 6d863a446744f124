"""The functions a saved program may name, so that loading one runs nothing but tensor operations.

A graph's ``call_function`` node is saved as the dotted path of its function and loaded by looking
that path up in this list, never by importing what the file names. The list holds:

- chainrule's tensor operations: the public functions of ``chainrule``, ``chainrule.nn.functional``,
  ``linalg``, ``fft`` and ``special`` that take part in ``__torch_function__`` (``chainrule.relu``,
  ``chainrule.nn.functional.linear``), but ``from_file``, which reads a file;
- Python's operators (``operator.add``, ``operator.getitem``...) and ``builtins.getattr`` (whose
  attribute, checked when loading, must be a public one of Tensor);
- ``chainrule.cond``, the checks ``chainrule._check``, ``_assert``, ``_assert_async`` and draft_export's
  ``check_assumption``;
- the ``apply`` of an autograd Function defined in chainrule (BatchNorm's batch counter), saved as
  ``chainrule.ops.normalization.CountBatch.apply``: its module must be chainrule's own, and what it
  names a Function.

A ``call_method`` node names a method: it must be a public method of Tensor.
"""
import builtins
import functools
import importlib
import operator
import sys

import chainrule
from chainrule.autograd.function import Function
from chainrule.export.draft_export import check_assumption
from chainrule.tensor import Tensor

_NAMESPACES = ("chainrule", "chainrule.nn.functional", "chainrule.linalg", "chainrule.fft", "chainrule.special")
_REFUSED = {"chainrule.from_file"}
_OPERATORS = (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "lshift", "rshift", "and_", "or_", "xor",
    "eq", "ne", "lt", "le", "gt", "ge", "neg", "pos", "invert", "getitem", "setitem", "abs",
)


class UnknownTarget(Exception):
    """A function or method name outside the list (see the module docstring)."""


@functools.cache
def _functions_by_path():
    found = {f"operator.{name}": getattr(operator, name) for name in _OPERATORS}
    found.update({
        "builtins.getattr": builtins.getattr, "builtins.abs": builtins.abs, "chainrule.cond": chainrule.cond,
        "chainrule._check": chainrule._check, "chainrule._assert": chainrule._assert, "chainrule._assert_async": chainrule._assert_async,
        "chainrule.export.draft_export.check_assumption": check_assumption,
    })
    for namespace in _NAMESPACES:
        module = importlib.import_module(namespace)
        for name in dir(module):
            function = getattr(module, name, None)
            path = f"{namespace}.{name}"
            if name[:1].islower() and getattr(function, "_overridable", False) and not getattr(function, "_modes_only", False) and path not in _REFUSED:
                found.setdefault(path, function)
    return found


@functools.cache
def _paths_by_function():
    return {id(function): path for path, function in reversed(list(_functions_by_path().items()))}


def path_of(function):
    """The path a saved graph names ``function`` by (UnknownTarget for one outside the list)."""
    owner = getattr(function, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, Function) and function.__name__ == "apply" and owner.__module__.startswith("chainrule."):
        return f"{owner.__module__}.{owner.__qualname__}.apply"
    path = _paths_by_function().get(id(function))
    if path is None:
        raise UnknownTarget(f"{getattr(function, '__qualname__', function)!r} is not one of the functions a saved program may call (chainrule's tensor operations, Python's operators, cond)")
    return path


def function_at(path):
    """The function a saved graph names ``path`` (see the module docstring); UnknownTarget otherwise."""
    found = _functions_by_path().get(path)
    if found is not None:
        return found
    owner = _chainrule_function_class(path)
    if owner is None:
        raise UnknownTarget(f"the saved program calls {path!r}, which is not one of the functions a saved program may call")
    return owner.apply


def _chainrule_function_class(path):
    """The autograd Function class ``path`` (``chainrule.ops.x.Name.apply``) names, or None."""
    if not path.startswith("chainrule.") or not path.endswith(".apply"):
        return None
    parts = path[: -len(".apply")].split(".")
    for split in range(len(parts) - 1, 1, -1):
        module_name = ".".join(parts[:split])
        module = sys.modules.get(module_name)  # (already imported: nothing is imported for a file)
        if module is None:
            continue
        found = module
        for part in parts[split:]:
            found = getattr(found, part, None)
        return found if isinstance(found, type) and issubclass(found, Function) else None
    return None


def check_method(name):
    """``name`` if it is a public method of Tensor, else UnknownTarget."""
    if name.startswith("_") or not callable(getattr(Tensor, name, None)):
        raise UnknownTarget(f"the saved program calls the method {name!r}, which is not a public method of Tensor")
    return name


def check_attribute(name):
    """``name`` if it is a public attribute of Tensor (``T``, ``shape``), else UnknownTarget."""
    if not isinstance(name, str) or name.startswith("_") or not hasattr(Tensor, name):
        raise UnknownTarget(f"the saved program reads the attribute {name!r}, which is not a public attribute of Tensor")
    return name
