"""Whole objects (a Module, an optimizer, a custom class) in a checkpoint, as ``torch.save`` pickles them.

The object is pickled, but its arrays are not: each numeric or bool NumPy array the pickler meets
(every tensor pickles as one, see ``Tensor.__reduce_ex__``) is stored as a safetensors entry and
replaced in the pickle by its entry name (pickle's ``persistent_id``), so the weights of a pickled
model are still plain safetensors data and the pickle itself stays small.

Unpickling can run any code the pickle names, so under ``weights_only=True`` ``load`` unpickles only
a pickle whose globals are those PyTorch's weights-only unpickler allows, or classes the user
allowed with ``add_safe_globals`` (``loads_weights_only``); otherwise it needs ``weights_only=False``.
``imported_names`` lists what a pickle would import, read with ``pickletools`` without running it,
for the message that refuses it; ``refused_global`` names the first of them PyTorch's weights-only
unpickler refuses, as its error names it. ``pickle_module`` (``pickle``, or ``dill``...) provides
the Pickler and Unpickler, as in ``torch.save`` / ``torch.load``.
"""
import _compat_pickle  # the standard library's table of Python 2 names, which protocol 2 writes
import importlib
import io
import pickle
import pickletools

import numpy

from chainrule import dtypes

from chainrule.serialization.allowlist import allowed_by_user, blocked, unsupported_global
from chainrule.serialization.structure import entry_name, is_storable

_ARRAY = "array"


def _array_extracting_pickler(pickle_module):
    """A Pickler of ``pickle_module`` (the standard ``pickle``, or ``dill``...) that takes arrays out."""

    class ArrayExtractingPickler(pickle_module.Pickler):
        def __init__(self, file, protocol):
            super().__init__(file, protocol)
            self.arrays = {}
            self.entry_of = {}  # id(array) -> entry; the array itself is held in self.arrays

        def persistent_id(self, obj):
            if type(obj) is not numpy.ndarray or not is_storable(obj):
                return None
            entry = self.entry_of.get(id(obj))
            if entry is None:
                entry = self.entry_of[id(obj)] = entry_name(("pickled", str(len(self.arrays))), self.arrays)
                self.arrays[entry] = obj
            return (_ARRAY, entry)

    return ArrayExtractingPickler


def _array_restoring_unpickler(pickle_module):
    class ArrayRestoringUnpickler(pickle_module.Unpickler):
        def __init__(self, file, arrays, **pickle_load_args):
            super().__init__(file, **pickle_load_args)
            self.arrays = arrays

        def persistent_load(self, pid):
            if not (isinstance(pid, tuple) and len(pid) == 2 and pid[0] == _ARRAY and pid[1] in self.arrays):
                raise pickle.UnpicklingError(f"the pickle refers to a missing array entry {pid!r}")
            return self.arrays[pid[1]]

    return ArrayRestoringUnpickler


def dumps(obj, protocol, pickle_module=pickle):
    """``(pickle bytes, arrays)``: ``obj`` pickled with its arrays taken out by entry name."""
    buffer = io.BytesIO()
    pickler = _array_extracting_pickler(pickle_module)(buffer, protocol)
    pickler.dump(obj)
    return buffer.getvalue(), pickler.arrays


def loads(data, arrays, pickle_module=pickle, **pickle_load_args):
    """The object ``dumps`` pickled, its arrays put back from ``arrays``. Runs the pickle's code."""
    return _array_restoring_unpickler(pickle_module)(io.BytesIO(data), arrays, **pickle_load_args).load()


def imported_names(data, limit=5):
    """The first ``limit`` distinct ``module.name`` globals the pickle would import, without unpickling."""
    names = []
    pushed, memo = [], {}  # what each opcode pushed (a string, or None for anything else), as far as names go
    try:
        for opcode, argument, _ in pickletools.genops(data):
            if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
                pushed.append(argument)
            elif opcode.name == "MEMOIZE":
                memo[len(memo)] = pushed[-1] if pushed else None
            elif opcode.name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[argument] = pushed[-1] if pushed else None
            elif opcode.name in ("GET", "BINGET", "LONG_BINGET"):
                pushed.append(memo.get(argument))
            elif opcode.name == "GLOBAL":
                names.append(python3_name(*argument.split(" ", 1)))
                pushed.append(None)
            elif opcode.name == "FROZENSET":  # from protocol 4 on, a frozenset is built with no global
                names.append("builtins.frozenset")
                pushed.append(None)
            elif opcode.name == "STACK_GLOBAL":
                if len(pushed) >= 2 and isinstance(pushed[-2], str) and isinstance(pushed[-1], str):
                    names.append(python3_name(pushed[-2], pushed[-1]))
                pushed.append(None)
            elif opcode.stack_after:
                pushed.append(None)
    except Exception:  # a damaged pickle: show what was read before the damage
        pass
    return list(dict.fromkeys(names))[:limit]


def python3_name(module, name):
    """``module.name`` as Python 3 imports it (protocol 2 writes ``__builtin__.set`` for ``builtins.set``)."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    elif module in _compat_pickle.IMPORT_MAPPING:
        module = _compat_pickle.IMPORT_MAPPING[module]
    return f"{module}.{name}"


#: What chainrule pickles in the place of the globals PyTorch's weights-only unpickler allows
#: (tensors, Parameter, OrderedDict, Size, device, dtypes, set...): a refusal names the first other one.
#: ``builtins.getattr`` is how pickle writes ``Tensor._from_pickle`` (a classmethod): the weights-only
#: unpickler lets it look up that one attribute of a tensor class it allows, nothing else.
_ALLOWED_BY_PYTORCH = {
    "chainrule.Tensor", "chainrule.tensor.Tensor", "chainrule.nn.parameter.Parameter", "builtins.getattr",
    "collections.OrderedDict", "collections.Counter", "chainrule.tensor.Size", "chainrule.Size",
    "chainrule.device.device", "chainrule.device", "chainrule.dtypes.of", "chainrule.dtypes.bfloat16",
    "builtins.set", "builtins.bytearray", "builtins.complex", "_codecs.encode",
    "chainrule.quantized.tensor.QuantizedTensor",  # a quantized tensor: its integers and parameters (_rebuild_qtensor's)
    *(f"chainrule.dtypes.{each.name}" for each in vars(dtypes).values() if isinstance(each, dtypes.DtypeWithoutArrays)),
}


class Refused(pickle.UnpicklingError):
    """A global the weights-only unpickler does not import, in the words of PyTorch's error."""


def refused_global(data):
    """The first global the pickle imports that PyTorch's weights-only unpickler refuses and the user
    did not allow (``add_safe_globals``), named as its error names it (``frozenset``,
    ``collections.defaultdict``), or None when none is found."""
    unsafe = unsafe_globals(data)
    return unsafe[0].removeprefix("builtins.") if unsafe else None


def unsafe_globals(data):
    """Every global (``module.name``) the pickle imports that neither PyTorch's weights-only
    unpickler nor the user (``add_safe_globals``) allows, in order, read without unpickling."""
    trusted = allowed_by_user()
    return [name for name in imported_names(data, limit=None) if name not in _ALLOWED_BY_PYTORCH and name not in trusted]


def loads_weights_only(data, arrays, encoding="utf-8"):
    """The object ``dumps`` pickled, as ``loads`` rebuilds it, importing only the globals PyTorch's
    weights-only unpickler imports and those the user allowed; ``Refused`` for any other."""
    return _WeightsOnlyUnpickler(io.BytesIO(data), arrays, encoding=encoding).load()


class _WeightsOnlyUnpickler(_array_restoring_unpickler(pickle)):
    def __init__(self, file, arrays, **pickle_load_args):
        super().__init__(file, arrays, **pickle_load_args)
        allowed = allowed_by_user()
        self.trusted = {**_default_globals(), **allowed}
        if "builtins.getattr" not in allowed:  # the user's own trust in getattr (a nested class: A.Nested) stands
            self.trusted["builtins.getattr"] = self.tensor_rebuilder

    def find_class(self, module, name):
        full_name = python3_name(module, name)
        if blocked(full_name) or full_name not in self.trusted:
            raise Refused(blocked(full_name) or unsupported_global(full_name))
        return self.trusted[full_name]

    def tensor_rebuilder(self, owner, attribute):
        """``getattr(owner, "_from_pickle")`` for a tensor class this unpickler imports; nothing else."""
        from chainrule.tensor import Tensor

        trusted_class = isinstance(owner, type) and issubclass(owner, Tensor) and owner in self.trusted.values()
        if attribute != "_from_pickle" or not trusted_class:  # any other lookup could reach code: getattr is refused
            raise Refused(unsupported_global("builtins.getattr"))
        return owner._from_pickle


def _default_globals():
    """``{name: object}`` of ``_ALLOWED_BY_PYTORCH`` (but ``getattr``), imported from chainrule."""
    found = {}
    for full_name in _ALLOWED_BY_PYTORCH - {"builtins.getattr"}:
        module, name = full_name.rsplit(".", 1)
        found[full_name] = getattr(importlib.import_module(module), name)
    return found
