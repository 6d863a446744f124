"""SparseArray: what the arrays of sparse tensors share, whatever their layout (COO:
``coo_array.py``; CSR and CSC: ``compressed_array.py``): the stored ``values`` (nnz, *dense_shape)
say the dtype, and NumPy's protocols send every operation on them to the layout's own.

A dense tensor's operations compute on its NumPy array; a sparse tensor's array is one of these
instead. NumPy hands any ufunc or array function that meets it to ``__array_ufunc__`` /
``__array_function__``, so the dense operations need no check of their own: the few that have a
sparse meaning (``a @ b``, ``a + b``, ``a * number``) are computed by the layout's
``__array_ufunc__``, every other one raises PyTorch's NotImplementedError naming the operation and
the layout's backend, never computing on the wrong numbers.
"""
import math

from chainrule.backend import xp
from chainrule.memory_layout import COMPRESSED, sparse_coo

#: The names PyTorch's errors give each layout's kernels.
BACKENDS = {sparse_coo: "SparseCPU", **dict.fromkeys(COMPRESSED, "SparseCsrCPU")}


class SparseNotImplementedError(NotImplementedError, AttributeError):
    """NotImplementedError (PyTorch's type) that is also an AttributeError, so that ``hasattr`` and
    ``getattr(array, name, default)`` still answer "no" for a method the sparse array lacks."""


def unsupported(operation, layout=sparse_coo):
    """PyTorch's error for an operation that has no kernel for ``layout``."""
    return SparseNotImplementedError(
        f"Could not run 'aten::{operation}' with arguments from the '{BACKENDS[layout]}' backend: {operation} "
        f"is not defined for a sparse tensor (layout=torch.{layout._name}). Convert it first with .to_dense()."
    )


class SparseArray:
    """The stored ``values`` (nnz, *dense_shape) of an array of ``shape``; subclasses set ``layout``
    and compute NumPy's ufuncs in ``__array_ufunc__``."""

    base = None  # never a view of another array (as a NumPy array's ``base`` says)
    __array_priority__ = 2000  # NumPy's operators defer to this class's own

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def itemsize(self):
        return self.values.itemsize

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def dense_dim(self):
        return self.values.ndim - 1

    @property
    def nnz(self):
        return self.values.shape[0]

    # ------------------------------------------------------------------ NumPy's protocols
    def __array_function__(self, function, types, args, kwargs):
        raise unsupported(function.__name__, self.layout)

    def __array__(self, dtype=None, copy=None):
        raise unsupported("to a NumPy array", self.layout)

    def __getattr__(self, name):  # a dense array's method that this layout lacks: x.reshape, x.sum
        if name.startswith("__"):
            raise AttributeError(name)
        raise unsupported(name, self.layout)

    def __getitem__(self, key):
        raise unsupported("index", self.layout)

    def __matmul__(self, other):
        return xp.matmul(self, other)

    def __rmatmul__(self, other):
        return xp.matmul(other, self)

    def __add__(self, other):
        return xp.add(self, other)

    __radd__ = __add__

    def __mul__(self, other):
        return xp.multiply(self, other)

    __rmul__ = __mul__

    def __sub__(self, other):
        return xp.subtract(self, other)

    def __rsub__(self, other):
        return xp.subtract(other, self)

    def __neg__(self):
        return xp.negative(self)

    def __truediv__(self, other):
        return xp.true_divide(self, other)
