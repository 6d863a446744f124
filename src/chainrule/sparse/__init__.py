"""``chainrule.sparse``, PyTorch's ``torch.sparse``: sparse COO tensors, which store only their
nonzero elements, by coordinates (``coo_array.py``), as tensors (``tensor.py``) with their
operations (``operations.py``).

A graph's adjacency matrix (Kipf and Welling's GCN) or a bag of words is mostly zeros: stored
sparse, a product ``adjacency @ features`` costs one multiply-add per stored element, not per entry.

- ``chainrule.sparse_coo_tensor(indices, values, size)``, ``x.to_sparse()``, ``s.to_dense()``;
- ``chainrule.mm``/``matmul``/``@``/``spmm``/``sparse.mm`` with a sparse operand: a dense result;
- ``sparse.sum``, ``s + s``, ``dense + s``, ``s * number``, ``s.t()``, ``s.coalesce()``.
"""
from chainrule.ops.matmul import Mm, mm as dense_mm
from chainrule import dtypes
from chainrule.sparse.invariants import check_sparse_tensor_invariants
from chainrule.sparse.operations import legacy_constructor
from chainrule.sparse.operations import sparse_coo_tensor
from chainrule.sparse.operations import sparse_sum as sum  # noqa: A001 (PyTorch's name)
from chainrule.sparse.tensor import SparseTensor


def mm(mat1, mat2, reduce="sum"):
    """mat1 @ mat2 with a sparse mat1 (n, k) and a dense mat2 (k, m): a dense (n, m) result.
    (PyTorch gives a sparse leaf mat1 a sparse gradient here; chainrule's is dense, as for torch.mm.)"""
    if reduce != "sum":
        raise NotImplementedError(f"sparse.mm: reduce={reduce!r} is not supported by chainrule; only 'sum'")
    if mat1.ndim != 2 or mat2.ndim != 2 or mat1.shape[1] != mat2.shape[0] or mat1.dtype != mat2.dtype:
        raise RuntimeError(
            f"sparse.mm: mat1 {tuple(mat1.shape)} ({mat1.dtype}) and mat2 {tuple(mat2.shape)} ({mat2.dtype}) cannot be "
            f"multiplied: both must be matrices of one dtype, mat1's columns as many as mat2's rows"
        )
    return SparseAddmm.apply(mat1, mat2)


SparseAddmm = Mm.shown_as("SparseAddmmBackward0")  # PyTorch computes sparse.mm as addmm with a zero input

# PyTorch's names: torch.sparse.FloatTensor(indices, values, size) (as Kipf's GCN builds its adjacency)
FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor = (
    legacy_constructor(getattr(dtypes, dtype), name)
    for name, dtype in [("FloatTensor", "float32"), ("DoubleTensor", "float64"), ("HalfTensor", "float16"), ("LongTensor", "int64"),
                        ("IntTensor", "int32"), ("ShortTensor", "int16"), ("CharTensor", "int8"), ("ByteTensor", "uint8")]
)


def spmm(input, mat2):
    """``torch.spmm``: ``mm`` of a sparse matrix and a dense one (the older name)."""
    return dense_mm(input, mat2)


def dsmm(input, mat2):
    """``torch.dsmm``: ``mm`` of a sparse matrix and a dense one, a dense result (gpytorch's
    ``linear_operator`` calls it)."""
    return spmm(input, mat2)


__all__ = [
    "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor", "IntTensor", "LongTensor", "ShortTensor", "SparseTensor",
    "dsmm", "mm", "spmm", "sparse_coo_tensor", "sum",
]
