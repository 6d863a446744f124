"""SparseCompressedTensor: a tensor in PyTorch's ``sparse_csr`` or ``sparse_csc`` layout (or a
blocked one, ``sparse_bsr``, ``sparse_bsc``), its array a ``SparseCompressedArray``
(``compressed_array.py``).

It is a Tensor (a leaf, a node's output, ``requires_grad``, shape and dtype as a dense one's); this
file holds what it is (``layout``, ``_nnz()``, ``crow_indices()``...) and how it prints. Its
operations are in ``compressed_operations.py``; every other Tensor method reaches the dense
operation, whose NumPy call the array answers or refuses with PyTorch's NotImplementedError.
"""
from chainrule.memory_layout import sparse_bsc, sparse_bsr, sparse_coo, sparse_csc, sparse_csr, strided
from chainrule.overrides import disabled_torch_function_impl
from chainrule.sparse.compressed_array import SparseCompressedArray
from chainrule.sparse.tensor import format_stored
from chainrule.tensor import TENSORS_OF_OTHER_ARRAYS, Tensor, init_leaf, tensor_from_array

#: The names PyTorch's errors give the layouts.
LAYOUT_NAMES = {
    strided: "Strided", sparse_coo: "Sparse", sparse_csr: "SparseCsr", sparse_csc: "SparseCsc", sparse_bsr: "SparseBsr",
    sparse_bsc: "SparseBsc",
}
#: The names of each layout's compressed and plain indices.
INDEX_NAMES = {
    sparse_csr: ("crow_indices", "col_indices"), sparse_csc: ("ccol_indices", "row_indices"),
    sparse_bsr: ("crow_indices", "col_indices"), sparse_bsc: ("ccol_indices", "row_indices"),
}


class SparseCompressedTensor(Tensor):
    """A CSR or CSC matrix: compressed indices, plain indices (nnz,), values (nnz,), ``size`` (a
    BSR or BSC one: the indices of its blocks, values (nnz, *blocksize))."""

    __slots__ = ()
    __torch_function__ = disabled_torch_function_impl  # a tensor of another layout, not a user's subclass

    is_sparse = False

    @property
    def layout(self):
        return self._array.layout

    @property
    def is_sparse_csr(self):
        return self._array.layout is sparse_csr

    def _nnz(self):
        """The number of stored elements."""
        return self._array.nnz

    def sparse_dim(self):
        return 2

    def dense_dim(self):
        return self._array.dense_dim

    def __repr__(self):
        array = self._array
        compressed_name, plain_name = INDEX_NAMES[array.layout]
        named_arrays = ((compressed_name, array.compressed_indices), (plain_name, array.plain_indices), ("values", array.values))
        return format_stored(self, named_arrays, suffixes_on_new_line=False)


def compressed_tensor(array, requires_grad=False):
    """A SparseCompressedTensor holding the SparseCompressedArray ``array`` (no copy)."""
    tensor = SparseCompressedTensor.__new__(SparseCompressedTensor)
    init_leaf(tensor, array, requires_grad)
    return tensor


TENSORS_OF_OTHER_ARRAYS[SparseCompressedArray] = compressed_tensor  # a compressed gradient arriving in .grad


def index_reader(layout, which):
    """``crow_indices()``/``col_indices()`` (CSR, BSR), ``ccol_indices()``/``row_indices()`` (CSC,
    BSC): the stored index array (``which`` 0: compressed, 1: plain), for a tensor of a layout that
    has it only."""
    name = INDEX_NAMES[layout][which]
    kind = "row" if layout is sparse_csr else "column"

    def read(x):
        if INDEX_NAMES.get(x.layout, (None, None))[which] != name:
            raise RuntimeError(f"{name} expected sparse {kind} compressed tensor layout but got {LAYOUT_NAMES[x.layout]}")
        array = x._array
        return tensor_from_array(array.compressed_indices if which == 0 else array.plain_indices)

    read.__name__ = read.__qualname__ = name
    read.__doc__ = f"The {name} of a {layout._name} tensor: {'one entry per ' + kind + ' and one more' if which == 0 else 'one per stored element'}."
    return read
