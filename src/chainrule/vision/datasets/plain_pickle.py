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

_REBUILD_ARRAY = numpy.zeros(0).__reduce__()[0]
_REBUILD_SCALAR = numpy.float64(0).__reduce__()[0]


def _latin1_bytes(text, encoding):
    """How pickle protocol 2 writes bytes (``_codecs.encode(text, "latin1")``), for that encoding only."""
    if encoding != "latin1":
        raise pickle.UnpicklingError(f"refusing to encode with {encoding!r}: only latin1 bytes are plain data")
    return text.encode("latin1")


ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _REBUILD_ARRAY,
    ("numpy._core.multiarray", "_reconstruct"): _REBUILD_ARRAY,
    ("numpy.core.multiarray", "scalar"): _REBUILD_SCALAR,
    ("numpy._core.multiarray", "scalar"): _REBUILD_SCALAR,
    ("numpy", "ndarray"): numpy.ndarray,
    ("numpy", "dtype"): numpy.dtype,
    ("_codecs", "encode"): _latin1_bytes,
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

