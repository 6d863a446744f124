"""Products of a sparse matrix (COO, CSR or CSC) and a dense one: ``torch.sparse.mm`` and ``torch.sparse.addmm``
(and ``torch.spmm``/``dsmm``, the older names of ``mm``).

A sparse mat1 (n, k) times a dense mat2 (k, m) is a dense (n, m): each stored mat1[i, j] adds
mat1[i, j] · mat2[j] to row i, one multiply-add per stored element (the sparse array computes it,
``coo_array._product``). The gradients are the dense product's:

    d loss / d mat1 = alpha · grad @ mat2ᵀ    d loss / d mat2 = alpha · mat1ᵀ @ grad    d loss / d mat = beta · grad

(PyTorch gives a sparse leaf mat1 this gradient read at mat1's stored positions, a sparse tensor;
chainrule's is dense, as for ``torch.mm``; the values that made mat1 get the same gradient in both.
A CSR or CSC mat1 gets it read at its stored positions in its layout, as PyTorch's:
``keeping_positions``.)
"""
from chainrule.ops.matmul import Linear, Mm, addmm as dense_addmm, mm as dense_mm
from chainrule.ops.operands import expand_error
from chainrule import dtypes
from chainrule.backend import xp
from chainrule.sparse.compressed import LAYOUT_NAMES, SparseCompressedTensor
from chainrule.sparse.tensor import SparseTensor
from chainrule.tensor import Tensor

SparseMm = Mm.shown_as("SparseAddmmBackward0")  # PyTorch computes sparse.mm as addmm with a zero input
SparseAddmm = Linear.shown_as("SparseAddmmBackward0")


def keeping_positions(operation):
    """``operation`` (Mm, or addmm's Linear) whose first input is a compressed matrix mat1: mat1's
    gradient read at its stored positions, a matrix of its layout, as PyTorch's sparse.mm and
    sparse.addmm give it (its torch.mm gives the dense gradient). On arrays only: a recorded
    backward (``create_graph``) of these is not supported."""

    class KeepingPositions(operation):
        node_name = "SparseAddmmBackward0"

        @staticmethod
        def forward(ctx, mat1, *others):
            ctx.pattern = mat1
            return operation.forward(ctx, mat1, *others)

        @staticmethod
        def backward(ctx, grad_output):
            grad_mat1, *others = operation.backward(ctx, grad_output)
            return (None if grad_mat1 is None else ctx.pattern.masked(grad_mat1), *others)

    KeepingPositions.__name__ = KeepingPositions.__qualname__ = f"Compressed{operation.__name__}"
    return KeepingPositions


CompressedMm, CompressedAddmm = keeping_positions(Mm), keeping_positions(Linear)


def mm(mat1, mat2, reduce="sum"):
    """mat1 @ mat2 with a sparse mat1 (n, k) and a dense mat2 (k, m): a dense (n, m) result."""
    if reduce != "sum":
        raise NotImplementedError(f"sparse.mm: reduce={reduce!r} is not supported by chainrule; only 'sum'")
    _check_factors(mat1, mat2, "sparse.mm")
    return (CompressedMm if isinstance(mat1, SparseCompressedTensor) else SparseMm).apply(mat1, mat2)


def addmm(mat, mat1, mat2, *, beta=1., alpha=1.):
    """``torch.sparse.addmm``: beta · mat + alpha · (mat1 @ mat2), mat1 sparse COO (n, k) with 2
    sparse dimensions, mat2 dense (k, m), mat dense and broadcasting to (n, m) -> dense (n, m). With
    beta = 0, mat is ignored (even its nan values). One node, ``SparseAddmmBackward0``. (A dense
    mat1 is ``torch.addmm``, as in PyTorch.)"""
    for position, (name, operand) in enumerate((("input", mat), ("mat1", mat1), ("mat2", mat2)), 1):
        if not isinstance(operand, Tensor):
            raise TypeError(f"sparse.addmm(): argument '{name}' (position {position}) must be Tensor, not {type(operand).__name__}")
    if isinstance(mat, SparseCompressedTensor):
        raise RuntimeError(
            f"addmm: computation on CPU is not implemented for {LAYOUT_NAMES[mat.layout]} + {LAYOUT_NAMES[mat1.layout]} @ "
            f"{LAYOUT_NAMES[mat2.layout]} (sparse.addmm adds a dense mat: convert it with mat.to_dense())"
        )
    if isinstance(mat, SparseTensor):
        raise RuntimeError(
            "addmm_sparse_dense: expected strided result tensor, got tensor with layout Sparse (sparse.addmm adds a "
            "dense mat: convert it with mat.to_dense())"
        )
    if isinstance(mat2, SparseTensor):
        raise RuntimeError(
            f"addmm_sparse_dense: expected either 'mat1' to have sparse layout and 'mat2' to have strided layout, got "
            f"'mat1' with layout {'Sparse' if isinstance(mat1, SparseTensor) else 'Strided'} and 'mat2' with layout Sparse "
            f"(give the sparse factor first, e.g. (mat2ᵀ @ mat1ᵀ)ᵀ, or convert mat2 with .to_dense())"
        )
    if not isinstance(mat1, (SparseTensor, SparseCompressedTensor)) and not isinstance(mat2, SparseCompressedTensor):  # (dense @ CSR is PyTorch's too)
        return dense_addmm(mat, mat1, mat2, beta=beta, alpha=alpha)
    _check_factors(mat1, mat2, "sparse.addmm")
    dtype = mat1._array.dtype
    if mat._array.dtype != dtype:
        raise RuntimeError(
            f"expected scalar type {dtypes.scalar_type_name(dtype)} but found {dtypes.scalar_type_name(mat._array.dtype)} "
            f"(sparse.addmm: mat, mat1 and mat2 must share one dtype; convert mat with .to({dtypes.dtype_name(dtype)}))"
        )
    if dtype == xp.bool_:
        raise NotImplementedError("\"addmm_sparse_dense\" not implemented for 'Bool' (sparse.addmm: convert the three with .float())")
    output_shape = (mat1.shape[0], mat2.shape[1])
    try:
        xp.broadcast_shapes(tuple(mat.shape), output_shape)
    except ValueError:
        raise expand_error(tuple(mat.shape), output_shape) from None
    if dtype.kind in "iu":  # an integer product scales by integers: PyTorch cuts 0.5 to 0
        beta, alpha = int(beta), int(alpha)
    return (CompressedAddmm if isinstance(mat1, SparseCompressedTensor) else SparseAddmm).apply(mat1, mat2, mat, True, alpha, beta)


def _check_factors(mat1, mat2, operation):
    """PyTorch's checks of a sparse-times-dense product: mat1 a matrix of 2 sparse dimensions (or a
    dense matrix), mat2 a dense matrix of as many rows as mat1 has columns, both of one dtype."""
    mat1_dims = mat1.sparse_dim() if isinstance(mat1, SparseTensor) else mat1.ndim
    if mat1_dims != 2 or mat1.ndim != 2:
        raise RuntimeError(
            f"addmm: matrices expected, got {mat1_dims}D tensor ({operation}: mat1 {tuple(mat1.shape)} must be a matrix "
            f"with 2 sparse dimensions and no dense ones)"
        )
    if mat2.ndim != 2:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [-{max(mat2.ndim, 1)}, {max(mat2.ndim, 1) - 1}], but got 1) "
            f"({operation}: mat2 {tuple(mat2.shape)} must be a dense matrix)"
        )
    if mat1.shape[1] != mat2.shape[0] and isinstance(mat1, SparseCompressedTensor):
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})"
        )
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"addmm: Argument #3 (dense): Expected dim 0 size {mat1.shape[1]}, got {mat2.shape[0]} ({operation}: mat1 "
            f"{tuple(mat1.shape)} @ mat2 {tuple(mat2.shape)} needs as many rows in mat2 as mat1 has columns)"
        )
    if mat1.dtype != mat2.dtype:
        raise RuntimeError(
            f"expected scalar type {dtypes.scalar_type_name(mat1._array.dtype)} but found "
            f"{dtypes.scalar_type_name(mat2._array.dtype)} ({operation}: mat1 and mat2 must share one dtype; convert one with .to())"
        )


def spmm(input, mat2):
    """``torch.spmm``: ``mm`` of a sparse matrix and a dense one (the older name)."""
    return dense_mm(input, mat2)


def dsmm(input, mat2):
    """``torch.dsmm``: ``mm`` of a sparse matrix and a dense one, a dense result (gpytorch's
    ``linear_operator`` calls it)."""
    return spmm(input, mat2)
