"""The operations of sparse COO tensors, each a Function with its forward and backward side by side.

Their forward builds a ``SparseTensor`` (or a dense tensor from one); their backward gets and gives
dense gradients. That is PyTorch's rule for ``mm``, ``matmul`` and ``@`` with a sparse operand (which
here are the dense ``Matmul`` itself, the sparse array computing NumPy's ``matmul``): the gradient of
a sparse leaf is dense. A sparse tensor made from values that require grad
(``sparse_coo_tensor(indices, values)``) passes the gradient on to those values, read at the stored
positions: d loss / d values[j] = grad[indices[:, j]].

- ``sparse_coo_tensor(indices, values, size)``: the tensor listing values[j] at indices[:, j];
- ``x.to_sparse()`` / ``s.to_dense()``: between the layouts (d to_dense / d s is 1 at every position);
- ``s.coalesce()``: repeats summed, positions sorted (the dense tensor it stands for is unchanged);
- ``s.t()``, ``s.transpose(0, 1)``: rows and columns of ``indices`` exchanged;
- ``s + s``, ``dense + s``, ``s * number``: elementwise, the gradient as for dense tensors;
- ``sparse.sum(s, dim)``: d sum / d s[i] = 1 for each i summed;
- ``s.float()``, ``s.to(dtype)``: the values converted.
"""
from chainrule import creation, dtypes
from chainrule.autograd.function import Function
from chainrule.backend import add_at, xp
from chainrule.device import check_device
from chainrule.memory_layout import sparse_coo
from chainrule.ops.reduce import reduction_axes
from chainrule.ops.registry import install_method
from chainrule.sparse.coo_array import SparseCOOArray
from chainrule.sparse.sparse_array import unsupported
from chainrule.sparse.invariants import warn_when_unsaid
from chainrule.sparse.tensor import SparseTensor, sparse_tensor
from chainrule.tensor import Tensor, tensor_from_array


# ----------------------------------------------------------------------------- making one
class SparseCooTensor(Function):
    """indices (sparse_dim, nnz) and values (nnz, *dense_shape) -> a sparse tensor of ``shape``."""

    node_name = "SparseCooTensorWithDimsAndTensorsBackward0"

    @staticmethod
    def forward(ctx, indices, values, shape, coalesced):
        ctx.indices = indices
        return sparse_tensor(SparseCOOArray(indices, values._array, shape, coalesced))

    @staticmethod
    def backward(ctx, grad_output):
        return None, read_at(grad_output, ctx.indices), None, None


def read_at(grad, indices):
    """grad[indices[:, j]] for each stored position j: (nnz, *dense_shape), differentiable."""
    return grad[tuple(tensor_from_array(row) for row in indices)]


def sparse_coo_tensor(indices=None, values=None, size=None, *, dtype=None, device=None, pin_memory=False, requires_grad=False,
                      check_invariants=None, is_coalesced=None):
    """The sparse tensor of ``size`` holding ``values[j]`` at position ``indices[:, j]`` (0 elsewhere;
    a position listed twice holds the sum). indices (sparse_dim, nnz), integers; values (nnz,
    *dense_shape). Without ``size``, each sparse size is the largest index + 1. The indices are
    checked against ``size`` always (PyTorch checks them only with ``check_invariants=True``).
    ``sparse_coo_tensor(size)`` (or ``size=`` alone): an empty one of that size, nothing stored."""
    check_device(device)
    warn_when_unsaid(check_invariants)
    if values is None and (size is None) != (indices is None):  # PyTorch's third form: a size only
        size = tuple(size if indices is None else indices)
        indices = xp.zeros((len(size), 0), dtype=xp.int64)
        values = creation.zeros(0, dtype=dtype)
    elif indices is None or values is None:
        raise TypeError(
            "sparse_coo_tensor() received an invalid combination of arguments: it takes (indices, values), "
            "(indices, values, size) or (size)"
        )
    index_array = xp.asarray(indices._array if isinstance(indices, Tensor) else indices)
    if (index_array.dtype.kind not in "iu" and index_array.size) or index_array.ndim != 2:
        raise RuntimeError(
            f"sparse_coo_tensor: indices must be an int64 tensor of shape (sparse_dim, nnz), but got "
            f"{dtypes.dtype_name(index_array.dtype)} of shape {tuple(index_array.shape)}"
        )
    index_array = index_array.astype(xp.int64)
    if not isinstance(values, Tensor):
        values = creation.tensor(values, dtype=dtype)
    elif dtype is not None and values.dtype != dtype:
        values = values.to(dtype)
    sparse_dim, nnz = index_array.shape
    if values.ndim == 0 or values.shape[0] != nnz:
        raise RuntimeError(
            f"sparse_coo_tensor: indices and values must have same nnz, but got nnz from indices: {nnz}, nnz from "
            f"values: {values.shape[0] if values.ndim else 'none (0-d values)'}"
        )
    dense_shape = tuple(values.shape[1:])
    if size is None:
        largest = index_array.max(axis=1) + 1 if nnz else xp.zeros(sparse_dim, dtype=xp.int64)
        shape = tuple(int(each) for each in largest) + dense_shape
    else:
        shape = tuple(int(each) for each in size)
        _check_indices(index_array, values, shape)
    made = SparseCooTensor.apply(index_array, values, shape, bool(is_coalesced) or index_array.shape[1] <= 1)  # one entry or none: coalesced
    if requires_grad:
        made.requires_grad_(True)
    return made


def _check_indices(indices, values, shape):
    """PyTorch's invariant checks: as many sizes as sparse and dense dimensions, indices in range."""
    sparse_dim, dense_dim = indices.shape[0], values.ndim - 1
    if len(shape) != sparse_dim + dense_dim:
        raise RuntimeError(
            f"number of dimensions must be sparse_dim ({sparse_dim}) + dense_dim ({dense_dim}), but got {len(shape)} "
            f"(size {shape})"
        )
    if tuple(values.shape[1:]) != shape[sparse_dim:]:
        raise RuntimeError(f"values has incorrect size, expected {[values.shape[0], *shape[sparse_dim:]]}, got {list(values.shape)}")
    if indices.size == 0:
        return
    for dim in range(sparse_dim):
        smallest, largest = int(indices[dim].min()), int(indices[dim].max())
        if smallest < 0:
            raise RuntimeError(f"found negative index {smallest} for dim {dim}: sparse_coo_tensor's indices count from 0")
        if largest >= shape[dim]:
            raise RuntimeError(
                f"size is inconsistent with indices: for dim {dim}, size is {shape[dim]} but found index {largest}"
            )


def legacy_constructor(dtype, name):
    """``torch.sparse.FloatTensor`` (``DoubleTensor``...), the constructors before sparse_coo_tensor:
    ``(indices, values[, size])`` gives values' dtype whatever the name says, as PyTorch's; sizes
    alone give a sparse tensor of the name's dtype storing nothing."""

    def construct(*args):
        if len(args) in (2, 3) and all(isinstance(each, Tensor) for each in args[:2]):
            return sparse_coo_tensor(*args, check_invariants=False)  # PyTorch's legacy form does not warn of the checks
        if all(isinstance(each, int) for each in args):
            return creation.zeros(args, dtype=dtype, layout=sparse_coo)
        raise TypeError(f"{name}(): takes (indices, values, size) or sizes, got {tuple(type(each).__name__ for each in args)}")

    construct.__name__ = construct.__qualname__ = name
    return construct


# ----------------------------------------------------------------------------- between the layouts
class ToSparse(Function):
    node_name = "ToSparseBackward1"

    @staticmethod
    def forward(ctx, x, sparse_dim):
        return sparse_tensor(SparseCOOArray.from_dense(x._array, sparse_dim))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


def to_sparse(x, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """The nonzero elements of x as a coalesced sparse COO tensor (``sparse_dim``: the leading
    dimensions made sparse, the rest kept dense in each stored value)."""
    if layout not in (None, sparse_coo) or blocksize is not None or dense_dim is not None:
        raise unsupported(f"to_sparse to layout {layout}")
    if isinstance(x, SparseTensor):
        if sparse_dim is None or sparse_dim == x._array.sparse_dim:
            return x
        raise unsupported("to_sparse of a sparse tensor to another sparse_dim")
    if sparse_dim is not None and not 0 <= sparse_dim <= x.ndim:
        raise RuntimeError(f"to_sparse: sparse_dim must be between 0 and {x.ndim} (the tensor's dimensions), got {sparse_dim}")
    return ToSparse.apply(x, sparse_dim)


class ToDense(Function):
    node_name = "ToDenseBackward0"

    @staticmethod
    def forward(ctx, x):
        return tensor_from_array(x._array.to_dense())

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def to_dense(x, dtype=None, *, masked_grad=None):
    """The dense tensor ``x`` stands for (a dense x itself)."""
    dense = ToDense.apply(x) if isinstance(x, SparseTensor) else x
    return dense if dtype is None else dense.to(dtype)


# ----------------------------------------------------------------------------- same tensor, other form
class Coalesce(Function):
    node_name = "CoalesceBackward0"

    @staticmethod
    def forward(ctx, x):
        return sparse_tensor(x._array.coalesce())

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def coalesce(x):
    """x with each position listed once (repeats summed) and positions sorted; x itself if it is."""
    return x if x._array.coalesced else Coalesce.apply(x)


class Transpose(Function):
    node_name = "TransposeBackward0"

    @staticmethod
    def forward(ctx, x, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return tensor_from_array(x._array.transposed(dim0, dim1))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.transpose(*ctx.dims), None, None


class MatrixTranspose(Transpose):
    node_name = "TBackward0"


def transpose(x, dim0, dim1):
    """x with sparse dimensions dim0 and dim1 swapped."""
    ndim = x.ndim
    dim0, dim1 = dim0 % ndim if ndim else 0, dim1 % ndim if ndim else 0
    return Transpose.apply(x, dim0, dim1)


def t(x):
    """The transpose of a sparse matrix (2 sparse dimensions)."""
    if x.ndim != 2 or x._array.dense_dim:
        raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but got {x._array.sparse_dim} sparse and {x._array.dense_dim} dense dimensions")
    return MatrixTranspose.apply(x, 0, 1)


class Cast(Function):
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dtype):
        return tensor_from_array(x._array.astype(dtype))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


def cast(x, dtype):
    return Cast.apply(x, dtype)


def to(x, *args, **kwargs):
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``: the values converted; 'cpu'
    changes nothing (chainrule computes on the CPU)."""
    dtype = kwargs.get("dtype")
    for arg in args:
        if isinstance(arg, dtypes.dtype):
            dtype = arg
        elif isinstance(arg, Tensor):
            dtype = arg.dtype
        elif arg is not None and not isinstance(arg, bool):
            _check_cpu(arg)
    if kwargs.get("device") is not None:
        _check_cpu(kwargs["device"])
    if dtype is None or dtypes.of(x._array.dtype) == dtype:
        return x
    return cast(x, dtypes.of(dtype).dtype)


def _check_cpu(device):
    if str(device).partition(":")[0] != "cpu":
        raise RuntimeError(f"chainrule computes on the CPU: a sparse tensor cannot move to {device!r}; use 'cpu'")


def converter(dtype):
    """``s.float()``, ``s.double()``...: ``to(dtype)``."""
    return lambda x: to(x, dtype)


# ----------------------------------------------------------------------------- what it holds
class Values(Function):
    node_name = "ValuesBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.indices, ctx.shape = x._array.indices, x._array.shape
        return tensor_from_array(x._array.values)

    @staticmethod
    def backward(ctx, grad_output):
        dense = xp.zeros(ctx.shape, dtype=grad_output._array.dtype)
        add_at(dense, tuple(ctx.indices), grad_output._array)
        return tensor_from_array(dense)


def stored_values(x):
    """``x._values()``: values (nnz, *dense_shape) as stored, repeats included (outside the graph, as PyTorch's)."""
    return tensor_from_array(x._array.values)


def values(x):
    """``x.values()``: the values of a coalesced x; the gradient flows back to x."""
    return Values.apply(x)


def stored_indices(x):
    """``x._indices()``: indices (sparse_dim, nnz), int64, as stored."""
    return tensor_from_array(x._array.indices)


def coalesced_only(read, what):
    """``x.indices()`` / ``x.values()``: as stored, for a coalesced tensor only (as PyTorch)."""

    def method(x):
        if not x._array.coalesced:
            raise RuntimeError(f"Cannot get {what} on an uncoalesced tensor, please call .coalesce() first")
        return read(x)

    method.__name__ = what
    return method


# ----------------------------------------------------------------------------- arithmetic
class Add(Function):
    """dense + sparse (a dense result) or sparse + sparse (a sparse one): d out / d each = 1."""

    node_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b):
        dtype = dtypes.promote_types(dtypes.of(a._array.dtype), dtypes.of(b._array.dtype)).dtype
        total = a._array.astype(dtype) + b._array.astype(dtype)
        return tensor_from_array(total)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output


def add(a, b):
    """a + b with a sparse operand: a dense tensor of the same size, or another sparse tensor."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise unsupported("add of a sparse tensor and a number")
    return Add.apply(a, b)


class Scale(Function):
    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        dtype = dtypes.scalar_result_dtype(x._array.dtype, factor)  # int * 2.5 is float32, as a dense tensor's
        return tensor_from_array((x._array * factor).astype(dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.factor, None


def mul(x, other):
    """sparse * number (the values scaled), or sparse * dense of its size (read at the stored positions)."""
    if isinstance(other, Tensor):
        if isinstance(other, SparseTensor) or other.ndim:
            raise unsupported("mul of a sparse tensor by a tensor")
        other = other.item()
    return Scale.apply(x, other)


class Sum(Function):
    """The sum over ``dims``: the gradient is the arriving one, repeated along the summed dimensions."""

    node_name = "SumBackward0"

    @staticmethod
    def forward(ctx, x, dims):
        ctx.shape, ctx.dims = x._array.shape, dims
        total = x._array.summed(dims)
        return tensor_from_array(total)

    @staticmethod
    def backward(ctx, grad_output):
        kept = [1 if dim in ctx.dims else size for dim, size in enumerate(ctx.shape)]
        return grad_output.reshape(kept).expand(ctx.shape), None


def sparse_sum(input, dim=None, dtype=None):
    """``torch.sparse.sum``: the sum of all elements (a 0-d dense tensor), or over ``dim`` (an int or
    a tuple): a sparse tensor of the dimensions left (dense where only dense dimensions are left)."""
    if dtype is not None:
        input = to(input, dtype)
    if not isinstance(input, SparseTensor):
        return input.sum() if dim is None else input.sum(dim)
    dims = tuple(range(input.ndim)) if dim is None else tuple(sorted(reduction_axes(input, dim, "sparse.sum")))
    return Sum.apply(input, dims)


class Clone(Function):
    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x):
        return tensor_from_array(x._array.copy())

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def clone(x, *, memory_format=None):
    """A copy of x's arrays, in the graph (d clone / d x = 1)."""
    return Clone.apply(x)


def zero_(x):
    """Every element set to 0 in place: nothing stored any more (nnz 0), as PyTorch's."""
    x._array = x._array.cleared()
    x._version += 1
    return x


# ----------------------------------------------------------------------------- the methods
for _name, _method in {
    "to_dense": to_dense, "to_sparse": to_sparse, "to_sparse_coo": to_sparse, "coalesce": coalesce, "t": t, "transpose": transpose,
    "to": to, "_values": stored_values, "_indices": stored_indices,
    "values": coalesced_only(values, "values"), "indices": coalesced_only(stored_indices, "indices"),
    "__add__": add, "__radd__": lambda x, other: add(other, x), "add": add,
    "__mul__": mul, "__rmul__": mul, "mul": mul,
    "sum": lambda x, dim=None, keepdim=False, dtype=None: sparse_sum(x, dim, dtype),
    "detach": lambda x: sparse_tensor(x._array),
    "clone": clone,
    "zero_": zero_,
}.items():
    setattr(SparseTensor, _name, _method)
for _name, _dtype in (("float", dtypes.float32), ("double", dtypes.float64), ("half", dtypes.float16), ("long", dtypes.int64)):
    setattr(SparseTensor, _name, converter(_dtype))
install_method("to_sparse", to_sparse)
install_method("to_sparse_coo", to_sparse)
install_method("to_dense", to_dense)
