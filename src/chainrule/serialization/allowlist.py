"""The classes and functions a user trusts ``load(weights_only=True)`` to import: ``add_safe_globals``.

``torch.load(weights_only=True)`` imports only a short list of names (tensors, Parameter, OrderedDict,
dtypes...). A checkpoint that pickles anything else, say a dataclass of hyperparameters, is refused
with the name it would import, ``Unsupported global: GLOBAL __main__.Config``. If you trust that
class, you allow it, for good or for one ``with`` block, and the file loads with nothing else allowed::

    chainrule.serialization.add_safe_globals([Config])
    with chainrule.serialization.safe_globals([Config]):
        chainrule.load(path)

A name is ``f"{obj.__module__}.{obj.__qualname__}"``, as pickle writes it, or the name given with
the object as a pair ``(obj, "module.name")`` when the file names it otherwise. The list is one per
process, kept in ``_allowed``, exactly as PyTorch keeps its own. Nothing of ``os`` or ``sys`` is
ever allowed.
"""

_allowed = set()

#: Modules no allowlist opens, as in PyTorch: their functions run programs and change files.
BLOCKED_MODULES = ("sys", "os", "posix", "nt")


def add_safe_globals(safe_globals):
    """Allow ``load(weights_only=True)`` to import each class or function of ``safe_globals`` (a list
    of objects, or of ``(object, "module.name")`` pairs), from now on in this process."""
    global _allowed
    _allowed = _allowed.union(safe_globals)


def get_safe_globals():
    """The list of what ``add_safe_globals`` (or an open ``safe_globals`` block) allowed."""
    return list(_allowed)


def clear_safe_globals():
    """Forget everything ``add_safe_globals`` allowed."""
    global _allowed
    _allowed = set()

#: Modules no allowlist opens, as in PyTorch: their functions run programs and change files.
BLOCKED_MODULES = ("sys", "os", "posix", "nt")


class safe_globals:
    """``with safe_globals([Config]):``: ``Config`` is allowed inside the block only, as
    ``torch.serialization.safe_globals``."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        add_safe_globals(self.safe_globals)

    def __exit__(self, kind, value, traceback):
        global _allowed
        _allowed = _allowed.difference(self.safe_globals)


def blocked(full_name):
    """PyTorch's words refusing a global of a blocked module, allowed or not; None for any other."""
    module = full_name.rsplit(".", 1)[0]
    if module in BLOCKED_MODULES:
        return f"Trying to load unsupported GLOBAL {full_name} whose module {module} is blocked."
    return None


def allowed_by_user():
    """``{"module.name": object}`` of everything allowed; ValueError or TypeError, as PyTorch's, for a
    pair that is not ``(object, str)``."""
    by_name = {}
    for entry in _allowed:
        if isinstance(entry, tuple):
            if len(entry) != 2:
                raise ValueError(f"Expected tuple of length 2 (global, str of callable full path), but got tuple of length: {len(entry)}")
            if type(entry[1]) is not str:
                raise TypeError(f"Expected second item in tuple to be str of callable full path, but got: {type(entry[1])}")
            by_name[entry[1]] = entry[0]
        else:
            by_name[f"{entry.__module__}.{entry.__qualname__}"] = entry
    return by_name


def unsupported_global(full_name):
    """PyTorch's words for a global its weights-only unpickler refuses (``builtins.`` left out, as there)."""
    shown = full_name.removeprefix("builtins.")
    return (
        f"Unsupported global: GLOBAL {shown} was not an allowed global by default. Please use "
        f"`chainrule.serialization.add_safe_globals([{shown}])` or the "
        f"`chainrule.serialization.safe_globals([{shown}])` context manager to allowlist this global "
        f"if you trust this class/function."
    )
