"""``chainrule.sparse``, PyTorch's ``torch.sparse``: sparse COO tensors, which store only their
nonzero elements, by coordinates (``coo_array.py``), as tensors (``tensor.py``) with their
operations (``operations.py``).

A graph's adjacency matrix (Kipf and Welling's GCN) or a bag of words is mostly zeros: stored
sparse, a product ``adjacency @ features`` costs one multiply-add per stored element, not per entry.

- ``chainrule.sparse_coo_tensor(indices, values, size)``, ``x.to_sparse()``, ``s.to_dense()``;
- ``chainrule.mm``/``matmul``/``@``/``spmm``/``sparse.mm`` with a sparse operand: a dense result;
- ``sparse.addmm(mat, s, dense)``: beta · mat + alpha · (s @ dense), dense (``products.py``);
- ``sparse.softmax`` / ``sparse.log_softmax``: over the stored elements only, a sparse result (``softmax.py``);
- ``sparse.sum``, ``s + s``, ``dense + s``, ``s * number``, ``s.t()``, ``s.coalesce()``;
- CSR and CSC matrices, rows (columns) stored one after another, and BSR and BSC, their blocks so
  (``compressed_array.py``), as tensors (``compressed.py``) with their operations
  (``compressed_operations.py``): ``sparse_csr_tensor``, ``sparse_bsr_tensor``...,
  ``sparse_compressed_tensor``, ``x.to_sparse_csr()``, ``x.to_sparse_bsr(blocksize)``...
"""
from chainrule import dtypes
from chainrule.sparse.compressed_operations import (
    sparse_bsc_tensor, sparse_bsr_tensor, sparse_compressed_tensor, sparse_csc_tensor, sparse_csr_tensor,
)
from chainrule.sparse.invariants import check_sparse_tensor_invariants
from chainrule.sparse.operations import legacy_constructor
from chainrule.sparse.operations import sparse_coo_tensor
from chainrule.sparse.operations import sparse_sum as sum  # noqa: A001 (PyTorch's name)
from chainrule.sparse.products import addmm, dsmm, mm, spmm
from chainrule.sparse.softmax import log_softmax, softmax
from chainrule.sparse.tensor import SparseTensor

# PyTorch's names: torch.sparse.FloatTensor(indices, values, size) (as Kipf's GCN builds its adjacency)
FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor = (
    legacy_constructor(getattr(dtypes, dtype), name)
    for name, dtype in [("FloatTensor", "float32"), ("DoubleTensor", "float64"), ("HalfTensor", "float16"), ("LongTensor", "int64"),
                        ("IntTensor", "int32"), ("ShortTensor", "int16"), ("CharTensor", "int8"), ("ByteTensor", "uint8")]
)


__all__ = [
    "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor", "IntTensor", "LongTensor", "ShortTensor", "SparseTensor",
    "addmm", "dsmm", "log_softmax", "mm", "softmax", "spmm", "sparse_bsc_tensor", "sparse_bsr_tensor", "sparse_compressed_tensor",
    "sparse_coo_tensor", "sparse_csc_tensor", "sparse_csr_tensor", "sum",
]
