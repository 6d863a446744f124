"""``torch.sparse.softmax`` and ``torch.sparse.log_softmax``: softmax over the stored elements only.

An attention layer over a graph (GAT) scores each edge of a sparse adjacency and normalizes the
scores of each node's edges: a softmax along a row that counts only the stored elements. Every
unstored element counts as -inf (e^-inf = 0), not as 0, so it stays unstored: the result is a sparse
tensor with the (coalesced) input's indices, and each row of it sums to 1 over what it stores.

For a sparse dimension ``dim``, the stored elements that share every index but ``dim``'s form a
*pool*, normalized together:

    softmax:      out[i] = e^(x[i] - m) / Σ_pool e^(x[j] - m),   m = max over the pool
    log_softmax:  out[i] = (x[i] - m) - ln Σ_pool e^(x[j] - m)

(m keeps every exponent at most 0, so nothing overflows). For a dense dimension (one inside each
stored value), the pool is that value's slice along ``dim``: the dense softmax on the values.

The gradient goes back to the stored values (the input's repeats each get the gradient at their
position, as the coalesced sum they are part of): ``out (grad - Σ_pool grad · out)`` for softmax,
``grad - e^out Σ_pool grad`` for log_softmax, the unstored positions getting 0. As for the other
sparse operations here, it arrives and leaves dense (PyTorch's is sparse, with the same values at
the stored positions).
"""
from chainrule import dtypes
from chainrule.autograd.function import Function
from chainrule.backend import add_at, ignoring_float_errors, xp
from chainrule.ops.reduce import one_axis
from chainrule.sparse.coo_array import SparseCOOArray
from chainrule.sparse.operations import to
from chainrule.sparse.tensor import SparseTensor, sparse_tensor
from chainrule.tensor import tensor_from_array


class Pools:
    """The stored elements of a coalesced sparse array grouped by ``dim``, a sparse dimension:
    ``max`` and ``sum`` of per-element arrays (nnz, *dense_shape) over each element's pool,
    repeated back to every element of the pool."""

    def __init__(self, array, dim):
        others = [each for each in range(array.sparse_dim) if each != dim]
        sizes = [array.shape[each] for each in others]
        key = xp.ravel_multi_index(tuple(array.indices[others]), sizes) if others else xp.zeros(array.nnz, dtype=xp.int64)
        _, self.pool = xp.unique(key, return_inverse=True)  # pool number of each element, 0, 1, ...
        self.pool = self.pool.reshape(-1)
        self.order = xp.argsort(self.pool, kind="stable")  # the elements pool by pool
        ordered = self.pool[self.order]
        self.starts = xp.flatnonzero(xp.diff(ordered, prepend=-1))  # where each pool begins in that order

    def max(self, values):
        return xp.maximum.reduceat(values[self.order], self.starts, axis=0)[self.pool]

    def sum(self, values):
        totals = xp.zeros((len(self.starts),) + values.shape[1:], dtype=values.dtype)
        add_at(totals, self.pool, values)
        return totals[self.pool]


class DenseSlices:
    """The pools of a dense dimension: each stored value's slice along ``axis`` (of the values)."""

    def __init__(self, axis):
        self.axis = axis

    def max(self, values):
        return values.max(axis=self.axis, keepdims=True)

    def sum(self, values):
        return values.sum(axis=self.axis, keepdims=True)


class StoredSoftmax(Function):
    """What sparse softmax and log_softmax share: the input coalesced, its values normalized pool by
    pool (``normalized``), the output's values saved, and the gradient of the values
    (``values_gradient``) placed back at the stored positions. A subclass gives the two formulas."""

    @classmethod
    def forward(cls, ctx, x, dim):
        array = x._array.coalesce()
        if dim >= array.sparse_dim:
            pools = DenseSlices(dim - array.sparse_dim + 1)
        else:
            pools = Pools(array, dim)
        with ignoring_float_errors():  # a pool of -inf only: -inf - (-inf) is nan, as in PyTorch
            out = cls.normalized(pools, array.values) if array.nnz else array.values.copy()
        ctx.pools, ctx.indices, ctx.out = pools, array.indices, out  # the output's array: no cycle back to it
        return sparse_tensor(SparseCOOArray(array.indices, out, array.shape, coalesced=True))

    @classmethod
    def backward(cls, ctx, grad_output):
        # on arrays, recorded by no graph: PyTorch's backward of it has no derivative either
        grad = grad_output._array
        grad_values = cls.values_gradient(ctx.pools, ctx.out, grad[tuple(ctx.indices)]) if ctx.out.size else ctx.out
        grad_input = xp.zeros(grad.shape, dtype=ctx.out.dtype)
        grad_input[tuple(ctx.indices)] = grad_values  # coalesced: each position once
        return tensor_from_array(grad_input), None


class SparseSoftmax(StoredSoftmax):
    node_name = "SparseSoftmaxBackward0"
    formula = "e^x / Σ e^x  (over the stored elements along dim)"
    derivatives = ("out (grad - Σ grad · out)", None)

    @staticmethod
    def normalized(pools, values):
        exponentials = xp.exp(values - pools.max(values))
        return exponentials / pools.sum(exponentials)

    @staticmethod
    def values_gradient(pools, out, grad):
        return out * (grad - pools.sum(grad * out))


class SparseLogSoftmax(StoredSoftmax):
    node_name = "SparseLogSoftmaxBackward0"
    formula = "x - ln Σ e^x  (over the stored elements along dim)"
    derivatives = ("grad - e^out Σ grad", None)

    @staticmethod
    def normalized(pools, values):
        shifted = values - pools.max(values)
        return shifted - xp.log(pools.sum(xp.exp(shifted)))

    @staticmethod
    def values_gradient(pools, out, grad):
        return grad - xp.exp(out) * pools.sum(grad)


def softmax(input, dim, dtype=None):
    """``torch.sparse.softmax``: e^x / Σ e^x along ``dim`` over the stored elements of a sparse COO
    ``input`` (the unstored ones count as -inf and stay unstored). input (*) -> a sparse tensor of
    the same shape and the coalesced input's indices; ``dtype``: the input converted first."""
    return _normalize(SparseSoftmax, input, dim, dtype, "softmax")


def log_softmax(input, dim, dtype=None):
    """``torch.sparse.log_softmax``: ln softmax(input, dim) over the stored elements, computed
    directly (accurate where the softmax rounds to 0). A sparse tensor of the input's indices."""
    return _normalize(SparseLogSoftmax, input, dim, dtype, "log_softmax")


def _normalize(operation, input, dim, dtype, name):
    if not isinstance(input, SparseTensor):
        raise NotImplementedError(
            f"Could not run 'aten::_sparse_{name}' with arguments from the 'CPU' backend: sparse.{name} takes a sparse "
            f"COO tensor; for a dense one use torch.{name}, or convert it with .to_sparse()"
        )
    if type(dim) is not int:
        raise TypeError(f"sparse.{name}(): argument 'dim' must be int, not {type(dim).__name__}: the dimension to normalize along")
    axis = one_axis(input, dim, f"sparse.{name}")
    if dtype is not None:
        input = to(input, dtype)
    if input._array.dtype not in (xp.float32, xp.float64):
        raise NotImplementedError(
            f"\"{name}\" not implemented for '{dtypes.scalar_type_name(input._array.dtype)}' (sparse.{name} on the CPU "
            f"takes float32 or float64 values: pass dtype=torch.float32)"
        )
    return operation.apply(input, axis)
