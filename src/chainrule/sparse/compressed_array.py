"""SparseCompressedArray: the array a CSR or CSC tensor holds, its nonzero elements listed row by row
(CSR) or column by column (CSC).

A matrix of shape (n, m) with nnz stored elements is three arrays (PyTorch's compressed layouts):

- ``compressed_indices`` (n + 1,) for CSR (``crow_indices``), (m + 1,) for CSC (``ccol_indices``):
  the elements of row i (column i) are entries ``compressed[i]`` to ``compressed[i + 1] - 1``, so
  ``compressed[0] == 0``, ``compressed[-1] == nnz``, and it never decreases;
- ``plain_indices`` (nnz,): each element's column (CSR: ``col_indices``) or row (CSC:
  ``row_indices``), sorted and distinct within a row (a column);
- ``values`` (nnz, *dense_shape): the elements themselves.

Both index arrays are int64 or both int32, as given. Unlike COO, a position is listed at most once
and the order is fixed: the matrix [[1, 0, 2], [0, 0, 0], [3, 4, 0]] in CSR is crow [0, 2, 2, 4],
col [0, 2, 0, 1], values [1, 2, 3, 4]. Its transpose in CSC is the same three arrays.

Everything but the storage is computed on the COO form (``to_coo()``, ``from_coo()``): products,
sums and the dense array. Its operations are NumPy's, as ``SparseArray`` (``sparse_array.py``)
sends them here: ``@``, ``* number``, ``-`` and ``+`` are computed, any other raises PyTorch's
NotImplementedError naming the operation and the SparseCsrCPU backend.
"""
from chainrule.backend import add_at, xp
from chainrule.memory_layout import sparse_bsc, sparse_bsr, sparse_csc, sparse_csr
from chainrule.sparse.coo_array import SparseCOOArray
from chainrule.sparse.sparse_array import SparseArray, unsupported


#: The dimension each layout compresses (its ``compressed_indices`` run along it): rows, columns
#: (of blocks, for the blocked layouts).
COMPRESSED_DIM = {sparse_csr: 0, sparse_csc: 1, sparse_bsr: 0, sparse_bsc: 1}
#: The layout of the transposed matrix, with the same index arrays.
TRANSPOSED_LAYOUT = {sparse_csr: sparse_csc, sparse_csc: sparse_csr, sparse_bsr: sparse_bsc, sparse_bsc: sparse_bsr}
BLOCKED = (sparse_bsr, sparse_bsc)


def refuse_blocked(layout):
    """PyTorch's error for a blocked layout where only CSR and CSC are made (zeros, products)."""
    raise RuntimeError(
        f"zeros_sparse_compressed expected sparse compressed (non-block) tensor layout but got Sparse{layout._name[7:].capitalize()}"
    )


def as_blocks(array, blocksize):
    """A matrix (n, m) as its grid of blocks (n / bh, m / bw, bh, bw): [i, j] is block (i, j)."""
    (rows, columns), (height, width) = array.shape, blocksize
    return array.reshape(rows // height, height, columns // width, width).swapaxes(1, 2)


def from_blocks(blocks):
    """The matrix (n, m) of a grid of blocks (n / bh, m / bw, bh, bw): ``as_blocks`` undone."""
    block_rows, block_columns, height, width = blocks.shape
    return blocks.swapaxes(1, 2).reshape(block_rows * height, block_columns * width)


class SparseCompressedArray(SparseArray):
    """compressed_indices, plain_indices (nnz,) and values (nnz, *dense_shape) of a matrix of
    ``shape`` in ``layout`` (``sparse_csr`` or ``sparse_csc``). In the blocked layouts
    (``sparse_bsr``, ``sparse_bsc``) the indices are those of a matrix of blocks of ``blocksize``
    (bh, bw), and each value is a block: values (nnz, bh, bw)."""

    def __init__(self, compressed_indices, plain_indices, values, shape, layout, blocksize=None):
        self.compressed_indices = compressed_indices
        self.plain_indices = plain_indices
        self.values = values
        self.shape = tuple(int(size) for size in shape)
        self.layout = layout
        self.blocksize = None if blocksize is None else tuple(int(size) for size in blocksize)

    # ------------------------------------------------------------------ what it is
    @property
    def sparse_dim(self):
        return 2

    @property
    def dense_dim(self):
        return self.values.ndim - 1 - (2 if self.blocksize else 0)

    def grid(self):
        """The matrix of blocks as a SparseCOOArray, each block a dense value: indices (2, nnz) of
        the blocks, shape (n / bh, m / bw, bh, bw). The matrix itself, for CSR and CSC."""
        if not self.blocksize:
            return self.to_coo()
        height, width = self.blocksize
        shape = (self.shape[0] // height, self.shape[1] // width, height, width)
        return SparseCOOArray(xp.stack(self.coordinates()).reshape(2, -1), self.values, shape)

    # ------------------------------------------------------------------ conversions
    def coordinates(self):
        """(rows, columns), int64 arrays (nnz,), of the stored elements in their stored order: the
        compressed dimension's index i repeated compressed[i + 1] - compressed[i] times, beside the
        plain indices."""
        counts = xp.diff(self.compressed_indices).astype(xp.int64)
        pair = [xp.repeat(xp.arange(len(counts), dtype=xp.int64), counts), self.plain_indices.astype(xp.int64)]
        return tuple(pair[::-1] if COMPRESSED_DIM[self.layout] == 1 else pair)

    def to_coo(self):
        """The same matrix as a SparseCOOArray: indices (2, nnz), int64, in the stored order (so
        coalesced, sorted row-major, for CSR only; CSC's are sorted column-major, a blocked
        layout's list each block's elements row by row, block after block)."""
        rows, columns = self.coordinates()
        if not self.blocksize:
            return SparseCOOArray(xp.stack([rows, columns]).reshape(2, -1), self.values, self.shape, coalesced=self.layout is sparse_csr)
        height, width = self.blocksize
        rows = rows[:, None, None] * height + xp.arange(height)[None, :, None]
        columns = columns[:, None, None] * width + xp.arange(width)[None, None, :]
        rows, columns = xp.broadcast_arrays(rows, columns)
        return SparseCOOArray(xp.stack([rows.reshape(-1), columns.reshape(-1)]), self.values.reshape(-1), self.shape)

    @classmethod
    def from_coo(cls, coo, layout):
        """The matrix of the SparseCOOArray ``coo`` (repeats summed) in ``layout``, int64 indices:
        its elements sorted along the compressed dimension, then along the other. For a blocked
        layout, ``coo`` is the grid of blocks (``grid()``), its values the blocks."""
        if coo.sparse_dim != 2:
            raise RuntimeError(
                f"to_{layout._name}: expected a matrix of 2 sparse dimensions, got a tensor of {coo.sparse_dim} sparse "
                f"dimensions and shape {coo.shape} (chainrule has no batched compressed tensors)"
            )
        coo = coo.coalesce()
        compressed_dim = COMPRESSED_DIM[layout]
        compressed, plain = coo.indices[compressed_dim], coo.indices[1 - compressed_dim]
        order = xp.lexsort((plain, compressed))
        boundaries = xp.arange(coo.shape[compressed_dim] + 1, dtype=xp.int64)
        compressed_indices = xp.searchsorted(compressed[order], boundaries).astype(xp.int64)
        if layout not in BLOCKED:
            return cls(compressed_indices, plain[order].astype(xp.int64), coo.values[order], coo.shape, layout)
        block_rows, block_columns, height, width = coo.shape
        shape = (block_rows * height, block_columns * width)
        return cls(compressed_indices, plain[order].astype(xp.int64), coo.values[order], shape, layout, (height, width))

    @classmethod
    def empty(cls, shape, dtype, layout):
        """A CSR or CSC matrix of ``shape`` storing nothing: ``zeros(n, m, layout=sparse_csr)``."""
        if layout in BLOCKED:
            refuse_blocked(layout)
        if len(shape) != 2:
            raise RuntimeError(
                f"torch.zeros: Only batched sparse compressed (non-block) tensors are supported, but got size {list(shape)} "
                f"(chainrule makes {layout._name} matrices only: give two sizes)"
            )
        compressed_indices = xp.zeros(shape[COMPRESSED_DIM[layout]] + 1, dtype=xp.int64)
        return cls(compressed_indices, xp.zeros(0, dtype=xp.int64), xp.zeros(0, dtype=dtype), shape, layout)

    @classmethod
    def from_dense(cls, array, layout, blocksize=None):
        """The nonzero elements of the matrix ``array`` (rows that are all zero keep nothing; with
        dimensions past the first two, its (row, column) positions whose dense rest holds a nonzero
        element, each value that rest); in a blocked layout, its blocks of ``blocksize`` that hold a
        nonzero element."""
        if layout not in BLOCKED:
            return cls.from_coo(SparseCOOArray.from_dense(array, sparse_dim=2), layout)
        if array.ndim != 2:
            raise RuntimeError(
                f"to_{layout._name}: chainrule makes blocked tensors of matrices only (no batch or dense dimensions), got a "
                f"tensor of shape {tuple(array.shape)}"
            )
        if array.shape[0] % blocksize[0] or array.shape[1] % blocksize[1]:
            raise RuntimeError(
                f"dense_to_{layout._name}: tensor sparse size ({array.shape[0]},{array.shape[1]}) must be divisible by given "
                f"blocksize ({blocksize[0]},{blocksize[1]})"
            )
        return cls.from_coo(SparseCOOArray.from_dense(as_blocks(array, blocksize), sparse_dim=2), layout)

    def to_dense(self):
        dense = self.grid().to_dense()
        return from_blocks(dense) if self.blocksize else dense

    def to_layout(self, layout, blocksize=None):
        """The same matrix in ``layout`` (itself if it is in it): of ``blocksize`` for a blocked one."""
        if layout is self.layout and (blocksize is None or tuple(blocksize) == self.blocksize):
            return self
        if layout in BLOCKED:
            return SparseCompressedArray.from_dense(self.to_dense(), layout, blocksize or self.blocksize)
        return SparseCompressedArray.from_coo(self.to_coo(), layout)

    def with_values(self, values):
        """The same positions holding other ``values`` (nnz, *dense_shape)."""
        return SparseCompressedArray(self.compressed_indices, self.plain_indices, values, self.shape, self.layout, self.blocksize)

    def astype(self, dtype, copy=True):
        return self.with_values(self.values.astype(dtype, copy=copy))

    def copy(self):
        return SparseCompressedArray(
            self.compressed_indices.copy(), self.plain_indices.copy(), self.values.copy(), self.shape, self.layout, self.blocksize
        )

    @property
    def mT(self):  # noqa: N802 (NumPy's and PyTorch's name)
        """The transpose: the same arrays read in the other layout (CSR (n, m) -> CSC (m, n)), each
        block transposed (BSR -> BSC)."""
        values, blocksize = (self.values, None) if not self.blocksize else (self.values.swapaxes(1, 2), self.blocksize[::-1])
        return SparseCompressedArray(
            self.compressed_indices, self.plain_indices, values, self.shape[::-1], TRANSPOSED_LAYOUT[self.layout], blocksize
        )

    T = mT

    def transpose(self, axes=None):
        """NumPy's ``transpose`` of a matrix: rows and columns exchanged."""
        return self.mT

    def transposed(self, dim0, dim1):
        """``x.transpose(dim0, dim1)`` of a matrix: itself for dim0 == dim1, else ``mT``."""
        return self if dim0 == dim1 else self.mT

    def summed(self, dims):
        """The sum of every element (``dims`` all of them): a 0-d dense array."""
        if len(dims) != self.ndim:
            raise RuntimeError(f"reduction operations on {self.layout._name[7:].upper()} tensors with keepdim=False is unsupported")
        return self.values.sum()

    def masked(self, dense):
        """The elements of the dense array ``dense`` at this matrix's stored positions, as a matrix of
        this layout: ``dense.sparse_mask(self)``."""
        return self.with_values((as_blocks(dense, self.blocksize) if self.blocksize else dense)[self.coordinates()])

    # ------------------------------------------------------------------ NumPy's protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs:
            if ufunc is xp.matmul:
                return _product(*inputs)
            if ufunc is xp.multiply and inputs[0] is self and getattr(inputs[1], "ndim", 0) == 0:
                return self.with_values(self.values * inputs[1])
            if ufunc is xp.multiply and inputs[1] is self and getattr(inputs[0], "ndim", 0) == 0:
                return self.with_values(inputs[0] * self.values)
            if ufunc is xp.negative:
                return self.with_values(-self.values)
            if ufunc is xp.add:
                return _sum(*inputs)
        raise unsupported(ufunc.__name__, self.layout)


def _product(a, b):
    """compressed @ dense, dense @ compressed (dense results, computed on the COO form), or compressed
    @ compressed: a CSR matrix (whatever the layouts, as PyTorch's) that stores every position some
    pair of stored elements a[i, k] · b[k, j] reaches, even where they sum to 0, each row's in the
    order the row first reaches them (PyTorch's order)."""
    if not isinstance(b, SparseCompressedArray):
        if b.ndim > 2:  # a stack of matrices (*, k, m): its rows k first, as the COO product takes them
            return xp.moveaxis(a.to_coo() @ xp.moveaxis(b, -2, 0), 0, -2)
        return a.to_coo() @ b
    if not isinstance(a, SparseCompressedArray):
        return a @ b.to_coo()
    if a.blocksize or b.blocksize:
        refuse_blocked(a.layout if a.blocksize else b.layout)
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    left, right = a.to_coo().coalesce(), b.to_layout(sparse_csr)
    row_starts, row_ends = right.compressed_indices[left.indices[1]], right.compressed_indices[left.indices[1] + 1]
    counts = (row_ends - row_starts).astype(xp.int64)
    # each stored a[i, k] meets each stored b[k, j]: entry e of b's row k is at row_starts[k] + (its rank in the row)
    pair_of = xp.repeat(xp.arange(left.nnz), counts)
    ranks = xp.arange(counts.sum()) - xp.repeat(xp.cumsum(counts) - counts, counts)
    entries = row_starts.astype(xp.int64)[pair_of] + ranks
    indices = xp.stack([left.indices[0][pair_of], right.plain_indices.astype(xp.int64)[entries]]).reshape(2, -1)
    values = left.values[pair_of] * right.values[entries]
    # one stored element per position reached, in the order each row first reaches it (PyTorch's order)
    linear = indices[0] * b.shape[1] + indices[1]
    positions, first_reached, slot = xp.unique(linear, return_index=True, return_inverse=True)
    summed = xp.zeros((len(positions),) + values.shape[1:], dtype=values.dtype)
    add_at(summed, slot.reshape(-1), values)
    order = xp.argsort(first_reached, kind="stable")
    rows, columns = indices[0][first_reached[order]], indices[1][first_reached[order]]
    compressed_indices = xp.searchsorted(rows, xp.arange(a.shape[0] + 1)).astype(xp.int64)
    return SparseCompressedArray(compressed_indices, columns, summed[order], (a.shape[0], b.shape[1]), sparse_csr)


def _sum(a, b):
    """compressed + compressed of one layout and shape: the union of their positions (a compressed
    matrix), or compressed + dense: a dense array."""
    if not (isinstance(a, SparseCompressedArray) and isinstance(b, SparseCompressedArray)):
        return a.to_dense() + b if isinstance(a, SparseCompressedArray) else a + b.to_dense()
    if a.blocksize or b.blocksize:
        raise unsupported("add of block sparse tensors", a.layout)
    if a.shape != b.shape:
        raise RuntimeError(f"add: expected sizes of 'self' and 'other' to match, but {list(a.shape)} != {list(b.shape)}")
    return SparseCompressedArray.from_coo(a.to_coo() + b.to_coo(), a.layout)
