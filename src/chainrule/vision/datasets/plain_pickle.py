"""Reading a pickle that holds plain data only: dicts, lists, strings, bytes, numbers and NumPy
arrays, which is all CIFAR's batch files hold.

``pickle.load`` runs whatever a file names (any importable function, with any arguments), so a
downloaded pickle is code. This unpickler refuses every global but the three NumPy needs to rebuild
an array (the array-rebuilding function, ``ndarray`` and ``dtype``, and the scalar rebuilder for
NumPy scalars), under the module names NumPy 1 and NumPy 2 write, and the latin1 ``_codecs.encode``
by which pickle protocol 2 writes bytes, and raises
``pickle.UnpicklingError`` naming anything else the file asks for.
"""
import pickle

import numpy

from chainrule.serialization.pytorch_file import bytes_from_text

_REBUILD_ARRAY = numpy.zeros(0).__reduce__()[0]
_REBUILD_SCALAR = numpy.float64(0).__reduce__()[0]

ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _REBUILD_ARRAY,
    ("numpy._core.multiarray", "_reconstruct"): _REBUILD_ARRAY,
    ("numpy.core.multiarray", "scalar"): _REBUILD_SCALAR,
    ("numpy._core.multiarray", "scalar"): _REBUILD_SCALAR,
    ("numpy", "ndarray"): numpy.ndarray,
    ("numpy", "dtype"): numpy.dtype,
    ("_codecs", "encode"): bytes_from_text,  # how protocol 2 writes bytes: latin1 only
}


class PlainDataUnpickler(pickle.Unpickler):
    """An unpickler that builds plain data and NumPy arrays, and nothing that runs code."""

    def find_class(self, module, name):
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: this file should hold only plain data and NumPy arrays"
        )


def load_plain_pickle(file, encoding="latin1"):
    """The data in an open binary pickle ``file``; ``encoding`` decodes Python 2's byte strings
    (CIFAR's files were written by Python 2: "latin1" reads their arrays' bytes unchanged)."""
    return PlainDataUnpickler(file, encoding=encoding).load()

