"""SparseTensor: a tensor in PyTorch's ``sparse_coo`` layout, its array a ``SparseCOOArray``.

It is a Tensor (a leaf, a node's output, ``requires_grad``, shape and dtype all as a dense one's);
this file holds what it is (``_nnz()``, ``sparse_dim()``, ``is_coalesced()``, ``layout``) and how
it prints. The operations whose meaning changes with the layout (``to_dense()``, ``coalesce()``,
``values()``, ``t()``, ``+``, ``*``, ``to()``...) are declared in ``operations.py``, which installs
them as its methods. Every other Tensor method reaches the dense operation, whose NumPy call the
array answers (``@``) or refuses with PyTorch's NotImplementedError.

As a subclass it also takes ``dense + sparse`` first: Python asks the right operand's ``__radd__``
before the left one's ``__add__`` when its class is a subclass that overrides it, so the dense
operators need no check for a sparse operand.
"""
from chainrule import dtypes
from chainrule._format import format_values, with_suffixes
from chainrule.memory_layout import sparse_coo
from chainrule.sparse.coo_array import SparseCOOArray
from chainrule.overrides import disabled_torch_function_impl
from chainrule.tensor import TENSORS_OF_OTHER_ARRAYS, Tensor, init_leaf


class SparseTensor(Tensor):
    """A sparse COO tensor: ``indices`` (sparse_dim, nnz), ``values`` (nnz, *dense_shape), ``size``."""

    __slots__ = ()
    __torch_function__ = disabled_torch_function_impl  # a tensor of another layout, not a user's subclass

    layout = sparse_coo
    is_sparse = True

    # ------------------------------------------------------------------ what it holds
    def _nnz(self):
        """The number of stored elements (repeated positions counted as often as they are listed)."""
        return self._array.nnz

    def sparse_dim(self):
        return self._array.sparse_dim

    def dense_dim(self):
        return self._array.dense_dim

    def is_coalesced(self):
        return self._array.coalesced

    def _coalesced_(self, coalesced):
        """Declare the entries coalesced (each position once, sorted) or not, without checking, as
        PyTorch's: code that built them so (PyG's ``to_edge_index``) says so. Returns the tensor."""
        self._array.coalesced = bool(coalesced)
        return self

    # ------------------------------------------------------------------ printing
    def __repr__(self):
        return format_sparse(self)


def sparse_tensor(array, requires_grad=False):
    """A SparseTensor holding the SparseCOOArray ``array`` (no copy)."""
    tensor = SparseTensor.__new__(SparseTensor)
    init_leaf(tensor, array, requires_grad)
    return tensor


TENSORS_OF_OTHER_ARRAYS[SparseCOOArray] = sparse_tensor  # a sparse gradient arriving in .grad or a hook

INDENT = len("tensor(")


def format_sparse(tensor):
    """PyTorch's print of a sparse COO tensor: ``tensor(indices=tensor([[...]]),`` then
    ``values=tensor([...]),`` and ``size=(...), nnz=N, layout=torch.sparse_coo``, the suffixes
    starting on a new line."""
    array = tensor._array
    return format_stored(tensor, (("indices", array.indices), ("values", array.values)), suffixes_on_new_line=True)


def format_stored(tensor, named_arrays, suffixes_on_new_line):
    """PyTorch's print of a tensor of a sparse layout: each of ``named_arrays`` (name, array) as
    ``name=tensor([...])`` on a line of its own, then ``size=(...), nnz=N`` (with dtype, the layout,
    then grad_fn or requires_grad as a dense tensor's), wrapped at the print width, the first
    starting a new line if ``suffixes_on_new_line`` (COO) or else after the last values (CSR...)."""
    array = tensor._array
    parts = []
    for name, values in named_arrays:
        prefix = f"{name}=tensor("
        text = format_values(values, INDENT + len(prefix))
        if values.size == 0:
            text += f", size={tuple(values.shape)}"
        parts.append(prefix + text + ")")
    suffixes = [f"size={tuple(array.shape)}", f"nnz={array.nnz}"]
    if array.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
        suffixes.append(f"dtype={dtypes.dtype_name(array.dtype)}")
    suffixes.append(f"layout={tensor.layout!r}")
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(tensor.grad_fn).__name__}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    return with_suffixes("tensor(" + (",\n" + " " * INDENT).join(parts), suffixes, INDENT, force_newline=suffixes_on_new_line)
