"""SparseCOOArray: the array a sparse tensor holds, its nonzero elements listed by coordinates.

A matrix of shape (n, m) with nnz stored elements is two arrays (PyTorch's COO layout):

- ``indices`` (sparse_dim, nnz), int64: column j is the position of element j along the sparse
  dimensions (for a matrix, its row and its column);
- ``values`` (nnz, *dense_shape): the elements themselves (numbers for a matrix, rows for a tensor
  whose trailing ``dense_dim`` dimensions are dense).

Every position not listed is 0. A position may be listed more than once: the element is then the sum
of its entries. ``coalesce()`` sums such repeats and sorts the positions (row-major); ``coalesced``
says whether that is known to be done.

Its operations are NumPy's, as ``SparseArray`` (``sparse_array.py``) sends them here:
``a @ b``, ``a + b``, ``a - b``, ``-a``, ``a * number``, ``a / number``; any other raises PyTorch's
NotImplementedError.
"""
from chainrule.backend import add_at, xp
from chainrule.memory_layout import sparse_coo
from chainrule.sparse.sparse_array import SparseArray, unsupported


class SparseCOOArray(SparseArray):
    """indices (sparse_dim, nnz) and values (nnz, *dense_shape) of a tensor of ``shape``."""

    layout = sparse_coo

    def __init__(self, indices, values, shape, coalesced=False):
        self.indices = indices
        self.values = values
        self.shape = tuple(int(size) for size in shape)
        self.coalesced = coalesced

    # ------------------------------------------------------------------ what it is
    @property
    def sparse_dim(self):
        return self.indices.shape[0]

    # ------------------------------------------------------------------ conversions
    @classmethod
    def from_dense(cls, array, sparse_dim=None):
        """The nonzero elements of ``array`` (for ``sparse_dim`` < ndim: the positions along the first
        ``sparse_dim`` dimensions where any element of the dense rest is nonzero), in row-major order."""
        sparse_dim = array.ndim if sparse_dim is None else sparse_dim
        flags = array != 0
        if sparse_dim < array.ndim:
            flags = flags.any(axis=tuple(range(sparse_dim, array.ndim)))
        positions = xp.nonzero(flags)
        indices = xp.stack(positions).astype(xp.int64) if positions else xp.zeros((0, 1), dtype=xp.int64)
        values = array[positions] if positions else array[None]
        return cls(indices.reshape(sparse_dim, -1), values.copy(), array.shape, coalesced=True)

    def to_dense(self):
        """The dense array: each listed element added at its position (repeats summed)."""
        dense = xp.zeros(self.shape, dtype=self.dtype)
        add_at(dense, tuple(self.indices), self.values)
        return dense

    def coalesce(self):
        """The same tensor with each position listed once (repeats summed), positions sorted row-major."""
        if self.coalesced:
            return self
        sparse_shape = self.shape[: self.sparse_dim]
        if self.nnz == 0 or not sparse_shape:
            return SparseCOOArray(self.indices, self.values, self.shape, coalesced=True)
        linear = xp.ravel_multi_index(tuple(self.indices), sparse_shape)
        unique, inverse = xp.unique(linear, return_inverse=True)
        values = xp.zeros((len(unique),) + self.values.shape[1:], dtype=self.dtype)
        add_at(values, inverse.reshape(-1), self.values)
        indices = xp.stack(xp.unravel_index(unique, sparse_shape)).astype(xp.int64)
        return SparseCOOArray(indices.reshape(self.sparse_dim, -1), values, self.shape, coalesced=True)

    def cleared(self):
        """The same shape with nothing stored: every element 0 (``zero_()``)."""
        values = xp.zeros((0,) + self.values.shape[1:], dtype=self.dtype)
        return SparseCOOArray(xp.zeros((self.sparse_dim, 0), dtype=xp.int64), values, self.shape, coalesced=True)

    def astype(self, dtype, copy=True):
        return SparseCOOArray(self.indices, self.values.astype(dtype, copy=copy), self.shape, self.coalesced)

    def copy(self):
        return SparseCOOArray(self.indices.copy(), self.values.copy(), self.shape, self.coalesced)

    def transposed(self, dim0=0, dim1=1):
        """Sparse dimensions ``dim0`` and ``dim1`` swapped: their rows of ``indices`` exchanged (the
        values stay; the positions are no longer sorted, so the result is not coalesced)."""
        if dim0 >= self.sparse_dim or dim1 >= self.sparse_dim:
            raise unsupported("transpose of a dense dimension")
        order = list(range(self.sparse_dim))
        order[dim0], order[dim1] = order[dim1], order[dim0]
        shape = list(self.shape)
        shape[dim0], shape[dim1] = shape[dim1], shape[dim0]
        return SparseCOOArray(self.indices[order], self.values, shape, coalesced=self.coalesced and dim0 == dim1)

    def transpose(self, axes):
        """NumPy's ``transpose`` for a permutation that swaps two sparse dimensions (``torch.t``)."""
        moved = [dim for dim, axis in enumerate(axes) if dim != axis]
        if len(moved) != 2:
            raise unsupported("permute")
        return self.transposed(*moved)

    @property
    def mT(self):  # noqa: N802 (NumPy's and PyTorch's name)
        return self.transposed(self.ndim - 2, self.ndim - 1)

    T = mT

    def summed(self, dims):
        """The sum over ``dims`` (sorted, non-negative): a dense array when every sparse dimension is
        summed, else a coalesced sparse array over the sparse dimensions left."""
        dense_axes = tuple(1 + dim - self.sparse_dim for dim in dims if dim >= self.sparse_dim)
        values = self.values.sum(axis=dense_axes) if dense_axes else self.values
        kept = [dim for dim in range(self.sparse_dim) if dim not in dims]
        if not kept:
            return values.sum(axis=0)
        shape = [size for dim, size in enumerate(self.shape) if dim not in dims]
        return SparseCOOArray(self.indices[kept], values, shape).coalesce()

    # ------------------------------------------------------------------ NumPy's protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs:
            if ufunc is xp.matmul:
                return _product(*inputs)
            if ufunc is xp.add:
                return _sum(*inputs)
            if ufunc is xp.multiply:
                return _scaled(*inputs)
            if ufunc is xp.subtract:
                first, second = inputs
                return _sum(first, -second)
            if ufunc is xp.negative:
                return SparseCOOArray(self.indices, -self.values, self.shape, self.coalesced)
            if ufunc is xp.true_divide and inputs[0] is self and getattr(inputs[1], "ndim", 0) == 0:
                return SparseCOOArray(self.indices, self.values / inputs[1], self.shape, self.coalesced)
        raise unsupported(ufunc.__name__)


def _product(a, b):
    """sparse (n, k) @ dense (k, m) or (k,), or dense (n, k) @ sparse (k, m): a dense array. Each
    stored element a[i, j] adds a[i, j] * b[j] to row i of the result."""
    if isinstance(a, SparseCOOArray) and isinstance(b, SparseCOOArray):
        raise unsupported("mm of two sparse tensors")
    if isinstance(b, SparseCOOArray):  # a @ b = (bᵀ @ aᵀ)ᵀ
        return _product(b.mT, a.T).T
    if a.ndim != 2 or a.dense_dim:
        raise unsupported(f"matmul of a {a.ndim}-d sparse tensor")
    rows, columns = a.indices
    out = xp.zeros((a.shape[0],) + b.shape[1:], dtype=xp.result_type(a.values, b))
    contributions = a.values.reshape((-1,) + (1,) * (b.ndim - 1)) * b[columns]
    add_at(out, rows, contributions)
    return out


def _sum(a, b):
    """sparse + sparse (a sparse array) or dense + sparse (a dense array: the sparse one's repeats
    summed first, then added, as PyTorch's ``add_out_dense_sparse``)."""
    if isinstance(a, SparseCOOArray) and isinstance(b, SparseCOOArray):
        if a.shape != b.shape:
            raise RuntimeError(f"add: expected sizes of 'self' and 'other' to match, but {list(a.shape)} != {list(b.shape)}")
        dtype = xp.result_type(a.values, b.values)
        if b.nnz == 0 or a.nnz == 0:
            kept = a if b.nnz == 0 else b
            return SparseCOOArray(kept.indices.copy(), kept.values.astype(dtype), a.shape, kept.coalesced)
        if a.values.flags.c_contiguous and b.values.flags.c_contiguous:
            return _merged(a, b, dtype)
        return _joined(a, b, dtype)
    sparse, dense = (a, b) if isinstance(a, SparseCOOArray) else (b, a)
    if tuple(dense.shape) != sparse.shape:
        raise RuntimeError(
            f"add: expected 'self' and 'other' to have same size, but self has size {list(dense.shape)} while other has "
            f"size {list(sparse.shape)} (FYI: dense-sparse addition does not currently support broadcasting)"
        )
    return dense + sparse.to_dense()


def add_into(dense, sparse, alpha=1):
    """``dense += alpha * sparse`` in place, as PyTorch's ``dense.add_(sparse, alpha=alpha)``: the
    sparse array's repeats summed first (coalesced), then each stored element, times ``alpha``, added
    at its position. Returns ``dense``."""
    sparse = sparse.coalesce()
    values = sparse.values if alpha == 1 else sparse.values * alpha
    dense[tuple(sparse.indices)] += values
    return dense


def _joined(a, b, dtype):
    """a + b as one list: a's entries then b's (PyTorch's sum when either's values are not contiguous
    in memory), coalesced only once the list holds more entries than the tensor has elements."""
    joined = SparseCOOArray(
        xp.concatenate([a.indices, b.indices], axis=1), xp.concatenate([a.values.astype(dtype), b.values.astype(dtype)]), a.shape
    )
    return joined.coalesce() if joined.nnz > joined.size else joined


def _merged(a, b, dtype):
    """a + b as PyTorch's ``add_out_sparse_contiguous`` makes it: the two lists merged as sorted lists
    are (the entry whose position comes first taken first; one position at the head of both taken
    once, its values summed), whether or not they are sorted. Coalesced if both were."""
    a_positions, b_positions = a.indices.T.tolist(), b.indices.T.tolist()
    from_a, from_b = [], []  # per entry of the result: which entry of a and of b it sums (-1: none)
    i = j = 0
    while i < len(a_positions) or j < len(b_positions):
        if i >= len(a_positions):
            order = -1
        elif j >= len(b_positions):
            order = 1
        else:
            order = (a_positions[i] < b_positions[j]) - (a_positions[i] > b_positions[j])
        from_a.append(i if order >= 0 else -1)
        from_b.append(j if order <= 0 else -1)
        i, j = i + (order >= 0), j + (order <= 0)
    from_a, from_b = xp.asarray(from_a, dtype=xp.int64), xp.asarray(from_b, dtype=xp.int64)
    values = xp.zeros((len(from_a),) + a.values.shape[1:], dtype=dtype)
    in_a, in_b = from_a >= 0, from_b >= 0
    values[in_a] += a.values[from_a[in_a]]
    values[in_b] += b.values[from_b[in_b]]
    indices = xp.where(in_a, a.indices[:, xp.maximum(from_a, 0)], b.indices[:, xp.maximum(from_b, 0)])
    return SparseCOOArray(indices, values, a.shape, coalesced=a.coalesced and b.coalesced)


def _scaled(a, b):
    """sparse * number, or sparse * dense of its shape: a sparse array of the same positions."""
    sparse, other = (a, b) if isinstance(a, SparseCOOArray) else (b, a)
    if isinstance(other, SparseCOOArray):
        raise unsupported("mul of two sparse tensors")
    if getattr(other, "ndim", 0) == 0:
        return SparseCOOArray(sparse.indices, sparse.values * other, sparse.shape, sparse.coalesced)
    if tuple(other.shape) != sparse.shape or sparse.dense_dim:
        raise unsupported("mul of a sparse tensor by a dense one of another shape")
    return SparseCOOArray(sparse.indices, sparse.values * other[tuple(sparse.indices)], sparse.shape, sparse.coalesced)
