"""The operations of CSR and CSC tensors, each a Function with its forward and backward side by side.

- ``sparse_csr_tensor(crow_indices, col_indices, values, size)``, ``sparse_csc_tensor(ccol_indices,
  row_indices, values, size)``, ``sparse_compressed_tensor(..., layout=)``: made from their three
  arrays, checked as PyTorch's ``check_invariants=True`` checks them;
- ``x.to_sparse_csr()``, ``x.to_sparse_csc()``, ``x.to_sparse(layout=)``, ``c.to_sparse()``,
  ``c.to_dense()``: between the layouts;
- ``dense.sparse_mask(mask)``: dense's elements at mask's stored positions, in mask's layout;
- ``c.values()``, ``c.clone()``; ``c.t()``, ``c * number``, ``-c``, ``c.sum()``, ``c.to(dtype)`` are
  the COO tensor's operations (``operations.py``), which compute on any sparse array.

The gradient of a compressed tensor keeps its stored positions, as PyTorch's: ``c.to_dense()`` sends
back ``grad.sparse_mask(c)`` (a tensor of c's layout), and the values that made c get the gradient
read at c's positions, d loss / d values[j] = grad[row j, column j]. (The products ``c @ dense``
send back a dense gradient, as PyTorch's; ``products.py``.)
"""
from chainrule import creation, dtypes
from chainrule.autograd.function import Function
from chainrule.backend import xp
from chainrule.device import check_device
from chainrule.memory_layout import COMPRESSED, sparse_bsc, sparse_bsr, sparse_coo, sparse_csc, sparse_csr, strided
from chainrule.ops.registry import install_method
from chainrule.sparse import operations
from chainrule.sparse.compressed import INDEX_NAMES, LAYOUT_NAMES, SparseCompressedTensor, compressed_tensor, index_reader
from chainrule.sparse.compressed_array import BLOCKED, COMPRESSED_DIM, SparseCompressedArray
from chainrule.sparse.coo_array import SparseCOOArray
from chainrule.sparse.invariants import warn_when_unsaid
from chainrule.sparse.sparse_array import unsupported
from chainrule.sparse.tensor import SparseTensor
from chainrule.tensor import Tensor, tensor_from_array



# ----------------------------------------------------------------------------- making one
class SparseCompressedTensorFunction(Function):
    """compressed_indices, plain_indices (nnz,) and values (nnz,) -> a compressed tensor; the
    gradient of values is the arriving one read at the stored positions."""

    node_name = "SparseCompressedTensorBackward0"

    @staticmethod
    def forward(ctx, values, pattern):
        ctx.pattern = pattern
        return compressed_tensor(pattern.with_values(values._array))

    @staticmethod
    def backward(ctx, grad_output):
        if isinstance(grad_output, SparseCompressedTensor):
            return values(SparseMask.apply(grad_output.to_dense(), ctx.pattern)), None
        return operations.read_at(blocks_of(grad_output, ctx.pattern.blocksize), ctx.pattern.coordinates()), None


def blocks_of(matrix, blocksize):
    """The matrix (n, m) as its grid of blocks (n / bh, m / bw, bh, bw), differentiable; itself
    without a blocksize."""
    if blocksize is None:
        return matrix
    (rows, columns), (height, width) = matrix.shape, blocksize
    return matrix.reshape(rows // height, height, columns // width, width).transpose(1, 2)


def sparse_compressed_tensor(compressed_indices, plain_indices, values, size=None, *, dtype=None, layout=None, device=None,
                             pin_memory=False, requires_grad=False, check_invariants=None):
    """The matrix of ``size`` in ``layout`` (``sparse_csr``: compressed_indices are crow_indices (rows
    + 1,), plain_indices col_indices (nnz,); ``sparse_csc``: ccol_indices (columns + 1,) and
    row_indices) holding ``values`` (nnz,). Without ``size``, the compressed dimension has
    len(compressed_indices) - 1 elements and the other the largest plain index + 1. The indices are
    checked always (PyTorch checks them only with ``check_invariants=True``)."""
    check_device(device)
    if layout not in COMPRESSED:
        raise RuntimeError(
            f"sparse_compressed_tensor expected sparse compressed tensor layout but got "
            f"{'none' if layout is None else LAYOUT_NAMES.get(layout, layout._name)}"
        )
    warn_when_unsaid(check_invariants)
    compressed = _as_array(compressed_indices)
    plain = _as_array(plain_indices)
    if not isinstance(values, Tensor):
        values = creation.tensor(values, dtype=dtype)
    elif dtype is not None and values.dtype != dtype:
        values = values.to(dtype)
    shape, blocksize = _checked_shape(compressed, plain, values, size, layout)
    pattern = SparseCompressedArray(compressed, plain, None, shape, layout, blocksize)
    made = SparseCompressedTensorFunction.apply(values, pattern)
    if requires_grad:
        made.requires_grad_(True)
    return made


def _as_array(indices):
    return xp.asarray(indices._array if isinstance(indices, Tensor) else indices)


def _checked_shape(compressed, plain, values, size, layout):
    """The matrix's shape and blocksize (None but in a blocked layout), after PyTorch's checks of the
    three arrays (their dimensions, dtypes and lengths) and of its invariants (``_check_invariants``),
    which in a blocked layout are those of the matrix of blocks."""
    compressed_name, plain_name = INDEX_NAMES[layout]
    if compressed.ndim < 1:
        raise RuntimeError(f"{compressed_name} must have dimensionality >= 1 but got {compressed.ndim}")
    if compressed.ndim != plain.ndim:
        raise RuntimeError(
            f"{compressed_name} and {plain_name} dimensionalities must be equal but got {compressed.ndim} and {plain.ndim}, "
            f"respectively"
        )
    if compressed.ndim > 1:
        raise NotImplementedError(
            f"sparse_compressed_tensor: chainrule has no batched {layout._name} tensors ({compressed_name} of shape "
            f"{tuple(compressed.shape)}); make one matrix per batch element"
        )
    block_dims = 2 if layout in BLOCKED else 0
    if values.ndim < 1 + block_dims:
        raise RuntimeError(
            f"values must have dimensionality > sum of batch and block dimensionalities (=0 + {block_dims}) but got {values.ndim}"
        )
    if values.ndim > 3 and block_dims:
        raise NotImplementedError(
            f"sparse_compressed_tensor: chainrule has no hybrid {layout._name} tensors (values of shape {tuple(values.shape)}; "
            f"expected (nnz, blockheight, blockwidth))"
        )
    blocksize = tuple(values.shape[1:]) if block_dims else None
    dense_shape = () if block_dims else tuple(values.shape[1:])
    if size is not None and len(size) != 2 + len(dense_shape):
        raise RuntimeError(
            f"tensor dimensionality must be sum of batch, base, and dense dimensionalities (=0 + 2 + {len(dense_shape)}) but got "
            f"{len(size)}"
        )
    if size is not None and tuple(size[2:]) != dense_shape:
        raise RuntimeError(
            f"values.shape[1:] must be equal to the dense part of size (={list(size[2:])}), but got {list(dense_shape)}"
        )
    if compressed.dtype != plain.dtype:
        raise RuntimeError(
            f"{compressed_name} and {plain_name} must have the same dtype, bot got {dtypes.scalar_type_name(compressed.dtype)} and "
            f"{dtypes.scalar_type_name(plain.dtype)}, respectively"
        )
    if compressed.dtype not in (xp.int32, xp.int64):
        raise RuntimeError(f"{compressed_name} and {plain_name} dtype must be Int or Long, but got {dtypes.scalar_type_name(compressed.dtype)}")
    compressed_dim = COMPRESSED_DIM[layout]
    block = blocksize or (1, 1)
    if size is None:  # (of blocks, in a blocked layout)
        other = int(plain.max()) + 1 if plain.size else 0
        grid = [len(compressed) - 1, other] if compressed_dim == 0 else [other, len(compressed) - 1]
        size = [grid[0] * block[0], grid[1] * block[1]]
    for dim in (0, 1):
        if size[dim] % block[dim]:
            raise RuntimeError(
                f"tensor shape[{dim}] (={size[dim]}) must be divisible with blocksize[{dim}] (={block[dim]}) as defined by values shape"
            )
    shape = [int(size[0]) // block[0], int(size[1]) // block[1]]
    count_name, other_name = ("rows", "ncols") if compressed_dim == 0 else ("columns", "nrows")
    if len(compressed) != shape[compressed_dim] + 1:
        raise RuntimeError(
            f"{compressed_name}.shape[-1] must be equal to the number of {count_name} + 1 (={shape[compressed_dim] + 1}), but got "
            f"{len(compressed)}"
        )
    nnz = values.shape[0]
    if len(plain) != nnz:
        raise RuntimeError(f"{plain_name}.shape[-1] must be equal to nnz (={nnz}) as defined by values.shape[0], but got {len(plain)}")
    _check_invariants(compressed, plain, nnz, shape[1 - compressed_dim], (compressed_name, plain_name, other_name))
    return (shape[0] * block[0], shape[1] * block[1], *dense_shape), blocksize


def _check_invariants(compressed, plain, nnz, plain_size, names):
    """PyTorch's invariants of compressed indices, with its messages: they start at 0, end at nnz and
    never decrease by more than the other dimension holds; the plain indices are in range, sorted
    and distinct within each row (column)."""
    compressed_name, plain_name, other_name = names
    steps = xp.diff(compressed)
    rows = xp.repeat(xp.arange(len(steps)), xp.clip(steps, 0, None)) if (steps >= 0).all() else None
    failed = [
        (compressed[0] != 0, f"{compressed_name}[..., 0] == 0"),
        (compressed[-1] != nnz, f"{compressed_name}[..., -1] == nnz"),
        (rows is None or (steps > plain_size).any(), f"0 <= {compressed_name}[..., 1:] - {compressed_name}[..., :-1] <= {other_name}"),
        (plain.size and (plain.min() < 0 or plain.max() >= plain_size), f"0 <= {plain_name} < {other_name}"),
    ]
    for fails, invariant in failed:
        if fails:
            raise RuntimeError(f"`{invariant}` is not satisfied.")
    if ((xp.diff(plain) <= 0) & (xp.diff(rows) == 0)).any():
        raise RuntimeError(
            f"`{plain_name}[..., {compressed_name}[..., i - 1]:{compressed_name}[..., i]] for all i = 1, ..., "
            f"n{'rows' if other_name == 'ncols' else 'cols'} are sorted and distinct along the last dimension values` is not satisfied."
        )


def factory(layout):
    """``sparse_csr_tensor(crow_indices, col_indices, values, size=None, ...)`` or its CSC twin."""

    def make(compressed_indices, plain_indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
             requires_grad=False, check_invariants=None):
        return sparse_compressed_tensor(
            compressed_indices, plain_indices, values, size, dtype=dtype, layout=layout, device=device,
            requires_grad=requires_grad, check_invariants=check_invariants,
        )

    make.__name__ = make.__qualname__ = f"{layout._name}_tensor"
    make.__doc__ = f"A {layout._name} matrix from {' and '.join(INDEX_NAMES[layout])} and values: see ``sparse_compressed_tensor``."
    return make


sparse_csr_tensor, sparse_csc_tensor, sparse_bsr_tensor, sparse_bsc_tensor = (
    factory(layout) for layout in (sparse_csr, sparse_csc, sparse_bsr, sparse_bsc)
)


# ----------------------------------------------------------------------------- between the layouts
def converted(array, layout, blocksize=None):
    """The dense, SparseCOOArray or SparseCompressedArray ``array`` in ``layout`` (of ``blocksize``
    for a blocked one), with PyTorch's refusals: a blocked matrix becomes neither CSR nor CSC nor
    another blocksize."""
    if layout is strided:
        return array if isinstance(array, xp.ndarray) else array.to_dense()
    if layout is sparse_coo:
        return SparseCOOArray.from_dense(array) if isinstance(array, xp.ndarray) else array.to_coo()
    if getattr(array, "blocksize", None) and layout not in BLOCKED:
        raise RuntimeError(
            f"sparse_compressed_to_{layout._name}: expected SparseCsr or SparseCsc layout but got {LAYOUT_NAMES[array.layout]}"
        )
    if getattr(array, "blocksize", None) and blocksize is not None and tuple(blocksize) != array.blocksize:
        raise RuntimeError(
            f"to_{layout._name}: conversion from {LAYOUT_NAMES[array.layout]} to {LAYOUT_NAMES[layout]} with blocksize changed "
            f"from {list(array.blocksize)} to {list(blocksize)} is not supported"
        )
    if isinstance(array, SparseCompressedArray):
        return array.to_layout(layout, blocksize)
    if layout in BLOCKED:
        return SparseCompressedArray.from_dense(converted(array, strided), layout, blocksize)
    if isinstance(array, SparseCOOArray):
        return SparseCompressedArray.from_coo(array, layout)
    return SparseCompressedArray.from_dense(array, layout)


class Convert(Function):
    """x in another layout; the gradient goes back in x's layout, as PyTorch's: that of a compressed
    x made dense or COO is read at x's stored positions (``sparse_mask``), any other converted whole
    (a dense gradient of ``c.to_sparse_csc()`` stores every nonzero element)."""

    @staticmethod
    def forward(ctx, x, layout, blocksize):
        ctx.source, ctx.layout = x._array, layout
        return tensor_from_array(converted(x._array, layout, blocksize))

    @staticmethod
    def backward(ctx, grad_output):
        source = ctx.source
        if isinstance(source, SparseCompressedArray) and ctx.layout not in COMPRESSED:
            return SparseMask.apply(convert(grad_output, strided), source), None, None
        if isinstance(source, xp.ndarray):
            return convert(grad_output, strided), None, None
        return convert(grad_output, source.layout, getattr(source, "blocksize", None)), None, None


CONVERTERS = {
    layout: type(f"To{name}", (Convert,), {"node_name": node_name})
    for layout, name, node_name in (
        (strided, "Dense", "ToDenseBackward0"), (sparse_coo, "Sparse", "ToSparseBackward1"),
        (sparse_csr, "SparseCsr", "ToSparseCsrBackward0"), (sparse_csc, "SparseCsc", "ToSparseCscBackward0"),
        (sparse_bsr, "SparseBsr", "ToSparseBsrBackward0"), (sparse_bsc, "SparseBsc", "ToSparseBscBackward0"),
    )
}


def convert(x, layout, blocksize=None):
    """x in ``layout`` (of ``blocksize`` for a blocked one; x itself if it is so already)."""
    if x.layout is layout and (blocksize is None or tuple(blocksize) == x._array.blocksize):
        return x
    return CONVERTERS[layout].apply(x, layout, blocksize)


def compressed_converter(layout):
    """``x.to_sparse_csr()`` / ``x.to_sparse_csc()`` of a dense matrix, a COO or a compressed one;
    ``x.to_sparse_bsr(blocksize)`` / ``x.to_sparse_bsc(blocksize)``."""

    def to_compressed(x, *blocksize, dense_dim=None):
        blocksize = _checked_blocksize(layout, blocksize)
        dense_dims = dense_dim or 0
        if dense_dims and (blocksize or not isinstance(x._array, xp.ndarray)):
            raise NotImplementedError(
                f"to_{layout._name}: chainrule makes hybrid compressed tensors (dense_dim={dense_dim}) of dense tensors in CSR "
                f"and CSC only"
            )
        if x.ndim != 2 + dense_dims and isinstance(x._array, xp.ndarray):
            raise RuntimeError(
                f"to_{layout._name}: chainrule makes compressed tensors of matrices only (no batch dimensions), got a tensor "
                f"of shape {tuple(x.shape)} and dense_dim={dense_dim}"
            )
        return convert(x, layout, blocksize)

    to_compressed.__name__ = to_compressed.__qualname__ = f"to_{layout._name}"
    to_compressed.__doc__ = f"The matrix x in the {layout._name} layout (its nonzero elements, from a dense x)."
    return to_compressed


def _checked_blocksize(layout, blocksize):
    """The (bh, bw) of a blocked layout's converter (None for CSR and CSC): given as one pair."""
    if layout not in BLOCKED:
        if blocksize:
            raise TypeError(f"to_{layout._name}() takes no blocksize (got {blocksize[0]!r}); dense_dim is its only argument")
        return None
    if len(blocksize) != 1 or len(tuple(blocksize[0])) != 2:
        raise TypeError(f"to_{layout._name}() takes one blocksize, a pair (bh, bw), got {blocksize!r}")
    return tuple(int(size) for size in blocksize[0])


to_sparse_csr, to_sparse_csc, to_sparse_bsr, to_sparse_bsc = (
    compressed_converter(layout) for layout in (sparse_csr, sparse_csc, sparse_bsr, sparse_bsc)
)


def to_sparse(x, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """``x.to_sparse(layout=...)``: COO (the default) or a compressed layout (``blocksize`` for BSR
    and BSC)."""
    if layout in COMPRESSED and sparse_dim is None:
        return compressed_converter(layout)(x, *([] if blocksize is None else [blocksize]), dense_dim=dense_dim)
    if isinstance(x, SparseCompressedTensor) and layout in (None, sparse_coo) and sparse_dim in (None, 2) and dense_dim is None:
        return convert(x, sparse_coo)
    return operations.to_sparse(x, sparse_dim, layout=layout, blocksize=blocksize, dense_dim=dense_dim)


def to_dense(x, dtype=None, *, masked_grad=None):
    dense = convert(x, strided)
    return dense if dtype is None else dense.to(dtype)


class SparseMask(Function):
    """A dense x's elements at the stored positions of ``mask`` (an array of a sparse layout), in
    mask's layout; the gradient is the arriving one at those positions, made dense."""

    node_name = "SparseMaskBackward0"

    @staticmethod
    def forward(ctx, x, mask):
        ctx.mask = mask
        if isinstance(mask, SparseCOOArray):
            mask = mask.coalesce()
            return tensor_from_array(SparseCOOArray(mask.indices, x._array[tuple(mask.indices)], mask.shape, coalesced=True))
        return tensor_from_array(mask.masked(x._array))

    @staticmethod
    def backward(ctx, grad_output):
        if isinstance(grad_output._array, xp.ndarray):
            grad_output = SparseMask.apply(grad_output, ctx.mask)
        return convert(grad_output, strided), None


def sparse_mask(x, mask):
    """``x.sparse_mask(mask)``: x's elements where the sparse ``mask`` stores one, in mask's layout."""
    if not isinstance(mask, (SparseTensor, SparseCompressedTensor)):
        raise RuntimeError(f"sparse_mask expects mask to be sparse, got a tensor of layout {LAYOUT_NAMES[mask.layout]}")
    if tuple(x.shape) != tuple(mask.shape):
        raise RuntimeError(f"sparse_mask(): operands have incompatible sizes; self has size {list(x.shape)} but mask has size {list(mask.shape)}")
    if not isinstance(x._array, xp.ndarray):
        raise unsupported("sparse_mask of a sparse tensor", x.layout)
    return SparseMask.apply(x, mask._array)


# ----------------------------------------------------------------------------- what it holds
class Values(Function):
    node_name = "ValuesBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.pattern = x._array
        return tensor_from_array(x._array.values)

    @staticmethod
    def backward(ctx, grad_output):
        # the gradient of the values is a compressed tensor of x's positions holding them
        return tensor_from_array(ctx.pattern.with_values(grad_output._array))


def values(x):
    """``c.values()``: the stored values (nnz,); the gradient flows back to c."""
    return Values.apply(x)


def layout_error(operation, expected):
    """A method of another layout, refused as PyTorch refuses it: ``x.indices()`` of a dense x."""

    def refuse(x, *args, **kwargs):
        raise RuntimeError(f"{operation} expected {expected} tensor layout but got {LAYOUT_NAMES[x.layout]}")

    refuse.__name__ = refuse.__qualname__ = operation
    refuse.__doc__ = f"``x.{operation}()`` of a {expected} tensor; another layout raises PyTorch's RuntimeError."
    return refuse


class Negate(operations.Scale):
    """-c: the values scaled by -1 (Scale's backward, which also takes a compressed gradient)."""

    node_name = "NegBackward0"


def negate(x):
    return Negate.apply(x, -1)


def compressed_sum(x, dim=None, keepdim=False, dtype=None):
    """The sum of every element, a 0-d dense tensor (PyTorch sums over a dimension only with keepdim)."""
    x = x if dtype is None else operations.to(x, dtype)
    dims = tuple(range(x.ndim)) if dim is None else ()
    return operations.Sum.apply(x, dims)


def sparse_dim_of_dense(x):
    """A dense tensor's sparse dimensions: none."""
    return 0


def dense_dim_of_dense(x):
    """A dense tensor's dense dimensions: all of them."""
    return x.ndim


# ----------------------------------------------------------------------------- the methods
for _name, _method in {
    "to_dense": to_dense, "to_sparse": to_sparse, "to_sparse_coo": lambda x: convert(x, sparse_coo), "values": values,
    "clone": operations.clone, "detach": lambda x: tensor_from_array(x._array),
    "t": operations.t, "transpose": operations.transpose, "to": operations.to, "sum": compressed_sum,
    "__add__": operations.add, "__radd__": lambda x, other: operations.add(other, x), "add": operations.add,
    "__mul__": operations.mul, "__rmul__": operations.mul, "mul": operations.mul, "__neg__": negate, "neg": negate,
    "indices": layout_error("indices", "sparse coordinate"), "is_coalesced": layout_error("is_coalesced", "sparse coordinate"),
    "coalesce": layout_error("coalesce", "sparse coordinate"),
}.items():
    setattr(SparseCompressedTensor, _name, _method)
for _name, _dtype in (("float", dtypes.float32), ("double", dtypes.float64), ("half", dtypes.float16), ("long", dtypes.int64)):
    setattr(SparseCompressedTensor, _name, operations.converter(_dtype))
SparseTensor.to_sparse = to_sparse
for _name, _method in {
    "to_sparse": to_sparse, "to_sparse_csr": to_sparse_csr, "to_sparse_csc": to_sparse_csc, "to_sparse_bsr": to_sparse_bsr,
    "to_sparse_bsc": to_sparse_bsc, "sparse_mask": sparse_mask,
    "crow_indices": index_reader(sparse_csr, 0), "col_indices": index_reader(sparse_csr, 1),
    "ccol_indices": index_reader(sparse_csc, 0), "row_indices": index_reader(sparse_csc, 1),
    "sparse_dim": sparse_dim_of_dense, "dense_dim": dense_dim_of_dense,
    "indices": layout_error("indices", "sparse coordinate"), "is_coalesced": layout_error("is_coalesced", "sparse coordinate"),
    "values": layout_error("values", "sparse"),
}.items():
    install_method(_name, _method)
