"""Whole objects (a Module, an optimizer, a custom class) in a checkpoint, as ``torch.save`` pickles them.

The object is pickled, but its arrays are not: each numeric or bool NumPy array the pickler meets
(every tensor pickles as one, see ``Tensor.__reduce_ex__``) is stored as a safetensors entry and
replaced in the pickle by its entry name (pickle's ``persistent_id``), so the weights of a pickled
model are still plain safetensors data and the pickle itself stays small.

Unpickling can run any code the pickle names, so ``load`` does it only under ``weights_only=False``.
``imported_names`` lists what a pickle would import, read with ``pickletools`` without running it,
for the message that refuses it.
"""
import io
import pickle
import pickletools

import numpy

from chainrule.serialization.structure import entry_name, is_storable

_ARRAY = "array"


class _ArrayExtractingPickler(pickle.Pickler):
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


class _ArrayRestoringUnpickler(pickle.Unpickler):
    def __init__(self, file, arrays):
        super().__init__(file)
        self.arrays = arrays

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 2 and pid[0] == _ARRAY and pid[1] in self.arrays):
            raise pickle.UnpicklingError(f"the pickle refers to a missing array entry {pid!r}")
        return self.arrays[pid[1]]


def dumps(obj, protocol):
    """``(pickle bytes, arrays)``: ``obj`` pickled with its arrays taken out by entry name."""
    buffer = io.BytesIO()
    pickler = _ArrayExtractingPickler(buffer, protocol)
    pickler.dump(obj)
    return buffer.getvalue(), pickler.arrays


def loads(data, arrays):
    """The object ``dumps`` pickled, its arrays put back from ``arrays``. Runs the pickle's code."""
    return _ArrayRestoringUnpickler(io.BytesIO(data), arrays).load()


def imported_names(data, limit=5):
    """The first ``limit`` distinct ``module.name`` globals the pickle would import, without unpickling."""
    names, strings = [], []
    try:
        for opcode, argument, _ in pickletools.genops(data):
            if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
                strings.append(argument)
            elif opcode.name == "GLOBAL":
                names.append(argument.replace(" ", "."))
            elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                names.append(f"{strings[-2]}.{strings[-1]}")
    except Exception:  # a damaged pickle: show what was read before the damage
        pass
    return list(dict.fromkeys(names))[:limit]
