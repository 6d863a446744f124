"""Matrix products: matmul (and its special cases mm, bmm, dot, outer), addmm, and the fused linear.

For out = a @ b with a of shape (n, k) and b of shape (k, m), out[i, j] = sum_k a[i, k] b[k, j], so

    d loss / d a = grad @ b^T   (n, m) @ (m, k) -> (n, k)
    d loss / d b = a^T @ grad   (k, n) @ (n, m) -> (k, m)

(for complex numbers the conjugate transposes b^H and a^H, PyTorch's convention).

Both gradients are themselves matrix products, so the recorded backward (``create_graph``) is made
of matmuls too and higher-order gradients work. Leading (batch) dimensions broadcast as in NumPy;
the engine sums each gradient back over the batch dimensions its input was broadcast along.

PyTorch names the node after the kind of product (``MmBackward0`` for two matrices, ``MvBackward0``,
``DotBackward0``, ``BmmBackward0``); the tiny subclasses of ``Matmul`` carry those names.
"""
import functools
import math

from chainrule import dtypes
from chainrule.backend import MetaArray, is_contiguous, ndarray, read_only, xp
from chainrule.ops.elementwise import accept_deprecated_forms, mul
from chainrule.ops.op import Op, OpNode
from chainrule.ops.operands import ForeignOperand, binary_operands, expand_error
from chainrule.ops import registry
from chainrule.ops.registry import SAME_DTYPE, install_method, operator_form, public, reflected
from chainrule.tensor import Tensor
from chainrule.utils.operation_mode import operands_in_modes


class Matmul(Op):
    """A 1-D ``a`` acts as a row (1, k) and a 1-D ``b`` as a column (k, 1); that size-1 dimension is
    not in the output, so backward puts it back into the gradient and takes it out of the results."""

    formula = "a @ b"
    derivatives = ("grad @ bᵀ", "aᵀ @ grad")

    @staticmethod
    def forward(ctx, a, b):
        needs_a, needs_b = ctx.needs_input_grad or (False, False)
        ctx.save_for_backward(a if needs_b else None, b if needs_a else None)  # each gradient needs the other
        ctx.ndims = (a.ndim, b.ndim)
        return _matmul_arrays(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        a_ndim, b_ndim = ctx.ndims
        grad_matrix = grad_output.reshape(tuple(grad_output.shape) + (1,)) if b_ndim == 1 else grad_output
        if a_ndim == 1:
            grad_matrix = grad_matrix.reshape(tuple(grad_matrix.shape[:-1]) + (1, grad_matrix.shape[-1]))
        grad_a = grad_b = None
        # (complex numbers: the conjugate transposes, PyTorch's convention; a real array is its own conj)
        if ctx.needs_input_grad[0]:
            b_matrix = b.reshape(-1, 1) if b_ndim == 1 else b
            grad_a = grad_matrix @ ctx.xp.conj(b_matrix.mT)
            grad_a = grad_a.reshape(tuple(grad_a.shape[:-2]) + (grad_a.shape[-1],)) if a_ndim == 1 else grad_a
        if ctx.needs_input_grad[1]:
            a_matrix = a.reshape(1, -1) if a_ndim == 1 else a
            grad_b = ctx.xp.conj(a_matrix.mT) @ grad_matrix
            grad_b = grad_b.reshape(tuple(grad_b.shape[:-1])) if b_ndim == 1 else grad_b
        return grad_a, grad_b


class Mm(Matmul):
    """(n, k) @ (k, m)."""


class Mv(Matmul):
    """(n, k) @ (k,)."""


class Dot(Matmul):
    """(k,) @ (k,)."""


class Bmm(Matmul):
    """(B, n, k) @ (B, k, m)."""


class MatmulMv(Mv):
    """matmul's (n, k) @ (k,): ``Mv`` as a class of its own because autocast computes matmul in
    float16 and mv in its operands' dtype (amp/autocast_mode.py)."""

    node_name = "MvBackward0"


class MatmulDot(Dot):
    """matmul's (k,) @ (k,), ``Dot`` apart for autocast as ``MatmulMv``."""

    node_name = "DotBackward0"


def _kind_of_product(operation, a, b):
    """The Matmul (sub)class named as PyTorch names the last node of ``operation`` (matmul, mm,
    bmm, dot) on tensors of these ranks. PyTorch's matmul of a vector and a matrix ends in
    squeezing the row it added; of batches, in reshaping a 2-D or batched product to the result's
    shape (``UnsafeViewBackward0``), or, for a matrix (that needs a gradient) times a batch, in
    copying the transposed product of the batch with the matrix (``CloneBackward0``)."""
    a_ndim, b_ndim = a.ndim, b.ndim
    if a_ndim == b_ndim == 1:
        return MatmulDot if operation == "matmul" else Dot
    if a_ndim == 2 and b_ndim <= 2:
        return Mm if b_ndim == 2 else MatmulMv
    if operation == "bmm":
        return Bmm
    if a_ndim == 1 and b_ndim == 2:
        return Matmul.shown_as("SqueezeBackward4")
    if a_ndim == 2 and a.requires_grad:
        return Matmul.shown_as("CloneBackward0")
    return Matmul.shown_as("UnsafeViewBackward0")


class LinearNode(OpNode):
    """The fused linear's node. PyTorch computes linear as ``addmm(bias, x, weightᵀ)``, so its
    ``next_functions`` list the bias first: (bias, x, weight), as the 60 Minute Blitz prints them."""

    def tensor_input_positions(self):
        positions = super().tensor_input_positions()  # x, weight, bias: those given as tensors
        return positions[2:] + positions[:2]


class Linear(Op):
    """The fully connected layer in one step: x (*, in_features), weight (out_features,
    in_features), bias (out_features,) -> out (*, out_features). The gradients of weight and bias
    sum over every leading dimension (each row of x is one more example). PyTorch computes it as
    ``addmm`` and names the node so.

    It is ``addmm`` itself, beta * bias + alpha * (x @ columns), when given ``weight_transposed``
    (weight as addmm's mat2, (in_features, out_features)) and the scales: then bias may be any
    shape that broadcasts to the output, and with beta = 0 it is ignored (even its nan values) and
    gets zeros as its gradient, as in PyTorch.
    """

    node_name = "AddmmBackward0"
    _node_base = LinearNode
    formula = "x @ weightᵀ + bias"
    derivatives = ("grad @ weight", "gradᵀ @ x", "grad summed over examples")

    @staticmethod
    def forward(ctx, x, weight, bias, weight_transposed=False, alpha=1, beta=1):
        needs_x, needs_weight = (ctx.needs_input_grad or (False, False))[:2]
        ctx.save_for_backward(x if needs_weight else None, weight if needs_x else None)  # each gradient needs the other
        ctx.weight_transposed, ctx.alpha, ctx.beta = weight_transposed, alpha, beta
        ctx.bias_is_vector = bias is not None and bias.ndim == 1
        result = _matmul_arrays(x, weight if weight_transposed else weight.T)
        if alpha != 1:
            result *= alpha
        if bias is not None and beta != 0:
            result += bias if beta == 1 else beta * bias  # result is a fresh array: adding in place saves a copy
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        alpha, beta = ctx.alpha, ctx.beta
        grad_rows = grad_output if grad_output.ndim == 2 else _as_rows(grad_output)
        grad_x = None
        if needs_x:  # (complex numbers: the factors conjugated, PyTorch's convention; a real array is its own conj)
            grad_x = grad_output @ ctx.xp.conj(weight.mT if ctx.weight_transposed else weight)
            grad_x = grad_x if alpha == 1 else grad_x * alpha
        grad_weight = None
        if needs_weight:
            x_rows = ctx.xp.conj(x if x.ndim == 2 else _as_rows(x))
            grad_weight = x_rows.mT @ grad_rows if ctx.weight_transposed else grad_rows.mT @ x_rows
            grad_weight = grad_weight if alpha == 1 else grad_weight * alpha
        grad_bias = None
        if needs_bias:  # a bias that broadcasts otherwise gets grad_output, summed to its shape by the engine
            grad_bias = rows_summed(grad_rows) if ctx.bias_is_vector else grad_output
            grad_bias = grad_bias if beta == 1 else grad_bias * beta
        return grad_x, grad_weight, grad_bias, None, None, None


def _as_rows(array):
    """(*, n) -> (rows, n), every leading dimension one more row (n may be 0: no -1 to infer)."""
    return array.reshape(math.prod(array.shape[:-1]), array.shape[-1])


def rows_summed(rows):
    """Σ_n rows[n] of (N, C) -> (C,), computed as onesᵀ @ rows: one BLAS matrix-vector product,
    2-7x faster than a reduction down the columns for a batch's bias gradient (and, in float16,
    accumulated in more precision). On an array (a plain backward) or a tensor (a recorded one)."""
    if type(rows) is ndarray or type(rows) is MetaArray:
        return _ones(rows.shape[0], rows.dtype) @ rows
    return registry.functions.ones(rows.shape[0], dtype=rows.dtype) @ rows


@functools.lru_cache(maxsize=32)
def _ones(count, dtype):
    """A read-only vector of ``count`` ones, kept for the next batch of that size."""
    return read_only(xp.ones(count, dtype=dtype))


class LinearWithoutBias(Linear):
    node_name = "MmBackward0"


class HalfLinear(Linear):
    """``Linear`` with a bias on float16 arrays, as PyTorch's CPU computes it: x @ weightᵀ and the
    bias summed in float32 and rounded to float16 once (a float16 product then a float16 sum round
    twice: a result in four would be one float16 step away). The backward is Linear's, on the
    float16 inputs, which are what it saves."""

    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, weight_transposed=False, alpha=1, beta=1):
        single = xp.float32
        result = Linear.forward(ctx, x.astype(single), weight.astype(single), bias.astype(single), weight_transposed, alpha, beta)
        # saved again: the float16 inputs themselves, which a recorded backward differentiates through
        needs_x, needs_weight = (ctx.needs_input_grad or (False, False))[:2]
        ctx.save_for_backward(x if needs_weight else None, weight if needs_x else None)
        return result.astype(x.dtype)


def _matmul_arrays(a, b):
    """a @ b on arrays; a stack of matrices times one matrix is done as one large product."""
    if a.ndim > 2 and b.ndim == 2:
        return (_as_rows(a) @ b).reshape(a.shape[:-1] + b.shape[-1:])
    return xp.matmul(a, b)


# ----------------------------------------------------------------------------- checks
def _same_dtype_operands(a, b, operation, names=("input", "other"), kernel=None):
    """a and b as tensors (arrays converted) that share one dtype, as PyTorch requires: two tensors
    of different dtypes are refused as they come (int @ float too), not promoted. A number or a list
    is PyTorch's TypeError. ``kernel``: the ATen kernel whose words refuse them (by default the
    operation's)."""
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        for position, (name, operand) in enumerate(zip(names, (a, b)), 1):
            _require_tensor(operand, operation, name, position)
        a, b = binary_operands(a, b)
    if a._array.dtype != b._array.dtype:
        a, b = operands_in_modes(operation, (a, b))  # autocast casts them first, as PyTorch's
        if a._array.dtype != b._array.dtype:
            raise _dtype_mismatch(a, b, operation, kernel or operation)
    return a, b


def _dtype_mismatch(a, b, operation, kernel):
    """PyTorch's error for factors of two dtypes, in the words of the ATen kernel that refuses them
    (dot's, bmm's and addmm's are their own; mm's the rest), then what to do."""
    first, second = a._array.dtype, b._array.dtype
    if kernel == "dot" or (kernel == "matmul" and a._array.ndim == b._array.ndim == 1):
        words = f"dot : expected both vectors to have same dtype, but found {dtypes.scalar_type_name(first)} and {dtypes.scalar_type_name(second)}"
    elif kernel == "bmm":
        words = f"expected scalar type {dtypes.scalar_type_name(first)} but found {dtypes.scalar_type_name(second)}"
    elif kernel == "addmm":  # linear's input and weight: addmm's mat1 and mat2
        words = f"mat1 and mat2 must have the same dtype, but got {dtypes.scalar_type_name(first)} and {dtypes.scalar_type_name(second)}"
    else:
        words = f"expected m1 and m2 to have the same dtype, but got: {dtypes.cpp_type_name(first)} != {dtypes.cpp_type_name(second)}"
    return RuntimeError(f"{words} ({operation}: convert one first, e.g. b.to(a.dtype))")


def _require_tensor(operand, operation, name, position):
    """PyTorch's TypeError for a number or a list where a tensor is due (an array is taken: chainrule's
    own code passes arrays); the ``@`` operator answers NotImplemented instead (``operator_form``)."""
    if not isinstance(operand, (Tensor, ndarray)):
        hint = ": a product with a number is a * number" if isinstance(operand, (int, float, complex)) else ""
        raise ForeignOperand(
            f"{operation}(): argument '{name}' (position {position}) must be Tensor, not {dtypes.python_type_name(operand)}{hint}"
        )


def _refuse_bool(a, b, operation):
    """PyTorch's NotImplementedError for a matrix product of bool tensors (it has no bool kernel),
    given where anything is multiplied: a product of empty matrices, or with an inner size of 0,
    gives its empty or zero result without one (a dot product of empty vectors is refused too).
    PyTorch names the kernel the product reaches (``_bool_kernel``)."""
    if a._array.size and b._array.size or a._array.ndim == b._array.ndim == 1:
        raise NotImplementedError(
            f"\"{_bool_kernel(operation, a._array.ndim, b._array.ndim)}\" not implemented for 'Bool' ({operation} of "
            f"shapes {tuple(a._array.shape)} and {tuple(b._array.shape)}: multiply masks as numbers, e.g. "
            f"a.long() @ b.long() or a.float() @ b.float())"
        )


def _bool_kernel(operation, a_ndim, b_ndim):
    """The ATen kernel a product reaches, which PyTorch's refusal of bools names: matmul folds its
    operands into a dot product (1-D @ 1-D), a matrix times a vector (N-D @ 1-D), a matrix product
    (N-D @ 2-D, 1-D @ 2-D) or a batch of them."""
    if operation == "matmul":
        if b_ndim == 1:
            return "dot" if a_ndim == 1 else "addmv_impl_cpu"
        return "addmm_impl_cpu_" if b_ndim == 2 else "bmm"
    return _BOOL_KERNELS.get(operation, operation)


_BOOL_KERNELS = {"mm": "addmm_impl_cpu_", "addmm": "addmm_impl_cpu_", "addbmm": "addmm_impl_cpu_", "linear": "addmm_impl_cpu_",
                 "mv": "addmv_impl_cpu", "addmv": "addmv_impl_cpu"}


def _require_dims(x, ndim, name, operation):
    """PyTorch's RuntimeError, in its words for ``operation``, where ``x`` is not ``ndim``-D."""
    if x.ndim != ndim:
        words = _DIMENSION_WORDS[operation].format(name=name, ndim=x.ndim)
        raise RuntimeError(f"{words} ({operation}: {name} must be {ndim}-D, got shape {tuple(x.shape)})")


_DIMENSION_WORDS = {  # what PyTorch says of an operand with another number of dimensions
    "mm": "{name} must be a matrix",
    "addmm": "{name} must be a matrix, got {ndim}-D tensor",
    "bmm": "{name} must be a 3D tensor", "baddbmm": "{name} must be a 3D tensor", "addbmm": "{name} must be a 3D tensor",
    "outer": "outer: Expected 1-D argument {name}, but got {ndim}-D",
    "addr": "addr: Expected 1-D argument {name}, but got {ndim}-D",
    "linear": "t() expects a tensor with <= 2 dimensions, but self is {ndim}D",
}


def _check_product_shapes(a_shape, b_shape, operation):
    """PyTorch's errors for a @ b: both at least 1-D, inner sizes equal, batch dimensions broadcastable."""
    if not a_shape or not b_shape:
        raise RuntimeError(
            f"both arguments to {operation} need to be at least 1D, but they are {len(a_shape)}D and {len(b_shape)}D "
            f"({operation}: a 0-d factor is a number; multiply with *)"
        )
    a_matrix = a_shape if len(a_shape) > 1 else (1,) + a_shape
    b_matrix = b_shape if len(b_shape) > 1 else b_shape + (1,)
    try:
        batch_shape = xp.broadcast_shapes(a_matrix[:-2], b_matrix[:-2])
    except ValueError:
        batch_shape = None
    if a_matrix[-1] != b_matrix[-2]:
        raise RuntimeError(
            f"{_size_mismatch_words(a_shape, b_shape, a_matrix, batch_shape)} ({operation}: the last size of the first "
            f"({a_matrix[-1]}) must equal the second-to-last size of the second ({b_matrix[-2]}))"
        )
    if batch_shape is None:
        dim, first, second = next(
            (max(len(a_matrix), len(b_matrix)) + position - 2, a, b)
            for position, (a, b) in enumerate(zip(reversed(a_matrix[:-2]), reversed(b_matrix[:-2])), start=-1)
            if a != b and 1 not in (a, b)
        )
        raise RuntimeError(
            f"The size of tensor a ({first}) must match the size of tensor b ({second}) at non-singleton dimension "
            f"{dim} ({operation}: the batch dimensions {a_matrix[:-2]} and {b_matrix[:-2]} of shapes {a_shape} and "
            f"{b_shape} cannot be broadcast together; each pair of sizes must be equal or one of them 1)"
        )


def _size_mismatch_words(a_shape, b_shape, a_matrix, batch_shape):
    """PyTorch's words for factors whose inner sizes differ, which name the ATen kernel matmul chose:
    dot's for two vectors, mv's for a vector on the right, mm's for a matrix on the right (the
    left factor's rows flattened), bmm's for a batch."""
    if len(a_shape) == len(b_shape) == 1:
        return (
            f"inconsistent tensor size, expected tensor [{a_shape[0]}] and src [{b_shape[0]}] to have the same number "
            f"of elements, but got {a_shape[0]} and {b_shape[0]} elements respectively"
        )
    if len(b_shape) == 1:
        rows = math.prod(a_shape[:-1])
        return f"size mismatch, got input ({rows}), mat ({rows}x{a_shape[-1]}), vec ({b_shape[0]})"
    if len(b_shape) == 2:
        return f"mat1 and mat2 shapes cannot be multiplied ({math.prod(a_matrix[:-1])}x{a_matrix[-1]} and {b_shape[0]}x{b_shape[1]})"
    batch = math.prod(b_shape[:-2] if batch_shape is None else batch_shape)
    return f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {a_matrix[-1]}] but got: [{batch}, {b_shape[-2]}]."


# ----------------------------------------------------------------------------- public functions
@public(out=SAME_DTYPE)
def matmul(a, b):
    """The matrix product with PyTorch's rules, by the number of dimensions:

    - 1-D @ 1-D: the dot product, a 0-d tensor;
    - 2-D @ 2-D: (n, k) @ (k, m) -> (n, m);
    - 1-D @ N-D: the vector acts as a row (1, k), and that dimension is removed from the result;
    - N-D @ 1-D: the vector acts as a column (k, 1), and that dimension is removed from the result;
    - N-D @ N-D: a batch of products over the last two dimensions, the leading ones broadcasting:
      (B, n, k) @ (k, m) -> (B, n, m).
    """
    return _checked_product(a, b, "matmul")


@public(out=SAME_DTYPE)
def mm(input, mat2):
    """(n, k) @ (k, m) -> (n, m): the product of two matrices (2-D only, no broadcasting)."""
    return _checked_product(input, mat2, "mm", ndim=2, names=("self", "mat2"), arguments=("input", "mat2"))


@public(out=SAME_DTYPE)
def bmm(input, mat2):
    """(B, n, k) @ (B, k, m) -> (B, n, m): a batch of matrix products (3-D only, equal batch sizes)."""
    input, mat2 = _checked_batches(input, mat2, "bmm", arguments=("input", "mat2"))
    return Bmm.apply(input, mat2)


def _checked_batches(batch1, batch2, operation, arguments=("batch1", "batch2")):
    """batch1 (B, n, k) and batch2 (B, k, m) after PyTorch's checks of bmm (and of baddbmm, addbmm)."""
    _require_tensor(batch2, operation, arguments[1], 2)
    if batch1.ndim == batch2.ndim == 3 and batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{batch1.shape[0]}, {batch1.shape[2]}] but got: [{batch2.shape[0]}, {batch2.shape[1]}]. ({operation}: shapes "
            f"{tuple(batch1.shape)} and {tuple(batch2.shape)}; both batches need the same size)"
        )
    return _checked_operands(batch1, batch2, operation, ndim=3, names=("batch1", "batch2"), arguments=arguments)


@public(out=SAME_DTYPE)
def dot(input, tensor):
    """sum_i input[i] tensor[i] for two 1-D tensors of the same size: a 0-d tensor."""
    return _checked_product(input, tensor, "dot", arguments=("input", "tensor"))


def _checked_product(a, b, operation, ndim=None, names=None, arguments=("input", "other")):
    """``Matmul`` after PyTorch's checks (see ``_checked_operands``)."""
    a, b = _checked_operands(a, b, operation, ndim, names, arguments)
    return _kind_of_product(operation, a, b).apply(a, b)


def _checked_operands(a, b, operation, ndim=None, names=None, arguments=("input", "other")):
    """The factors a and b (as tensors) after PyTorch's checks of dtypes, numbers of dimensions
    (when ``ndim`` is given) and sizes."""
    a, b = _same_dtype_operands(a, b, operation, arguments)
    if operation == "dot" and not a.ndim == b.ndim == 1:
        raise RuntimeError(
            f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors (dot: both must be 1-D, got shapes "
            f"{tuple(a.shape)} and {tuple(b.shape)})"
        )
    if ndim is not None:
        _require_dims(a, ndim, names[0], operation)
        _require_dims(b, ndim, names[1], operation)
    _check_product_shapes(a._array.shape, b._array.shape, operation)
    if a._array.dtype == xp.bool_:
        _refuse_bool(a, b, operation)
    return a, b


@public(out=True, aliases=("ger",))
def outer(input, vec2):
    """out[i, j] = input[i] vec2[j] for 1-D input and vec2: (n,) and (m,) -> (n, m) (``ger``, its old name)."""
    _require_dims(input, 1, "self", "outer")
    _require_dims(vec2, 1, "vec2", "outer")
    return mul(input.unsqueeze(1), vec2)


@public(out=SAME_DTYPE, inplace=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2): mat1 (n, k), mat2 (k, m), ``input`` broadcasting to
    (n, m). With beta = 0, input is ignored (even its nan values), as in PyTorch. One node, the
    fused linear's (``AddmmBackward0``, next_functions input, mat1, mat2)."""
    input, mat1, mat2 = _require_one_dtype("addmm", input, mat1, mat2, ("mat1", "mat2"))
    dtype = mat2._array.dtype
    _require_dims(mat1, 2, "mat1", "addmm")
    _require_dims(mat2, 2, "mat2", "addmm")
    _check_product_shapes(mat1._array.shape, mat2._array.shape, "addmm")
    operation = Linear
    if dtype.kind != "f":
        if dtype == xp.bool_:
            _refuse_bool(mat1, mat2, "addmm")
        elif dtype.kind in "iu":  # an integer product scales by integers: PyTorch cuts 0.5 to 0
            beta, alpha = int(beta), int(alpha)
    elif dtype.itemsize == 2:
        operation = HalfLinear
    _checked_bias(input, mat1, (mat1._array.shape[0], mat2._array.shape[1]))
    return operation.apply(mat1, mat2, input, True, alpha, beta)


def _require_one_dtype(operation, input, first, second, names):
    """``input``, ``first`` and ``second``: three tensors of one dtype, as PyTorch's addmm, addmv,
    baddbmm and addbmm require (they do not promote, unlike ``add``; autocast casts them first).
    ``names`` are the factors' argument names; like PyTorch, input is compared with the second
    factor first."""
    for position, (name, operand) in enumerate(zip(("input", *names), (input, first, second)), 1):
        if not isinstance(operand, Tensor):
            raise TypeError(f"{operation}(): argument '{name}' (position {position}) must be Tensor, not {dtypes.python_type_name(operand)}")
    dtype = second._array.dtype
    if input._array.dtype != dtype or first._array.dtype != dtype:
        input, first, second = operands_in_modes(operation, (input, first, second))
        dtype = second._array.dtype
        if input._array.dtype != dtype or first._array.dtype != dtype:
            mismatched, name = (input, "self") if input._array.dtype != dtype else (first, names[0])
            raise RuntimeError(
                f"{name} and {names[1]} must have the same dtype, but got {dtypes.scalar_type_name(mismatched._array.dtype)} "
                f"and {dtypes.scalar_type_name(dtype)} ({operation} does not promote; convert with .to())"
            )
    return input, first, second


class AddProduct(Op):
    """beta · input + alpha · (a product of two factors): what addmv, addr, baddbmm and addbmm
    share. Each is one operation, its product and its factors' gradients side by side, one node as
    in PyTorch (``AddmvBackward0``, next_functions input and the two factors). input broadcasts to
    the output's shape and is ignored where beta = 0 (even its nan values); its gradient is
    beta · grad, which the engine sums back to input's shape. The forward of a subclass sets
    ``ctx.dtype`` (the output's), ``ctx.beta`` and ``ctx.alpha``."""

    @staticmethod
    def scaled_sum(ctx, input, product):
        """beta · input + alpha · product on arrays, in the output's dtype."""
        product = product.astype(ctx.dtype, copy=False)
        if ctx.alpha != 1:
            product = product * ctx.alpha
        if ctx.beta == 0:
            return product
        return product + (input if ctx.beta == 1 else input * ctx.beta).astype(ctx.dtype, copy=False)

    @staticmethod
    def keep(ctx, first, second, dtype, beta, alpha):
        """Keep each factor only where the other needs its gradient, and the dtype and scales."""
        needs_first, needs_second = (ctx.needs_input_grad or (False, False, False))[1:3]
        ctx.save_for_backward(first if needs_second else None, second if needs_first else None)
        ctx.dtype, ctx.beta, ctx.alpha = dtype, beta, alpha

    @staticmethod
    def in_float32(ctx, forward, input, first, second, beta, alpha):
        """``forward`` (an AddProduct's) on float16 arrays as PyTorch's CPU computes it: input and
        the product summed in float32, rounded to float16 once; the float16 factors are saved."""
        single = xp.float32
        result = forward(ctx, input.astype(single), first.astype(single), second.astype(single), beta, alpha)
        AddProduct.keep(ctx, first, second, first.dtype, beta, alpha)
        return result.astype(first.dtype)

    @staticmethod
    def gradients(ctx, grad_output, first_gradient, second_gradient):
        """(input's, first's, second's, None, None): input's is beta · grad; first_gradient and
        second_gradient compute a factor's gradient from grad · alpha, called only where needed."""
        needs_input, needs_first, needs_second = ctx.needs_input_grad[:3]
        grad_input = (grad_output if ctx.beta == 1 else grad_output * ctx.beta) if needs_input else None
        scaled = grad_output if ctx.alpha == 1 else grad_output * ctx.alpha
        first, second = (ctx.xp.conj(factor) if factor is not None else None for factor in ctx.saved_tensors)  # (complex: conjugated)
        grad_first = first_gradient(scaled, second) if needs_first else None
        grad_second = second_gradient(scaled, first) if needs_second else None
        return grad_input, grad_first, grad_second, None, None


class Addmv(AddProduct):
    """beta · input + alpha · (mat @ vec): mat (n, k), vec (k,) -> (n,)."""

    formula = "beta · input + alpha · (mat @ vec)"
    derivatives = ("beta", "alpha · grad ⊗ vec", "alpha · matᵀ @ grad", None, None)

    @staticmethod
    def forward(ctx, input, mat, vec, beta, alpha):
        AddProduct.keep(ctx, mat, vec, mat.dtype, beta, alpha)
        return AddProduct.scaled_sum(ctx, input, mat @ vec)

    @staticmethod
    def backward(ctx, grad_output):
        return AddProduct.gradients(
            ctx, grad_output, lambda grad, vec: grad.reshape(-1, 1) * vec, lambda grad, mat: mat.mT @ grad
        )


class HalfAddmv(Addmv):
    """Addmv on float16 arrays, summed in float32 and rounded once (see ``AddProduct.in_float32``)."""

    node_name = "AddmvBackward0"

    @staticmethod
    def forward(ctx, input, mat, vec, beta, alpha):
        return AddProduct.in_float32(ctx, Addmv.forward, input, mat, vec, beta, alpha)


class Addr(AddProduct):
    """beta · input + alpha · (vec1 ⊗ vec2): vec1 (n,), vec2 (m,) -> (n, m), in the dtype of all
    three promoted."""

    formula = "beta · input + alpha · (vec1 ⊗ vec2)"
    derivatives = ("beta", "alpha · grad @ vec2", "alpha · gradᵀ @ vec1", None, None)

    @staticmethod
    def forward(ctx, input, vec1, vec2, beta, alpha):
        dtype = functools.reduce(dtypes.promote_types, map(dtypes.of, (vec1.dtype, vec2.dtype, input.dtype))).dtype
        AddProduct.keep(ctx, vec1, vec2, dtype, beta, alpha)
        return AddProduct.scaled_sum(ctx, input, vec1.reshape(-1, 1) * vec2)

    @staticmethod
    def backward(ctx, grad_output):
        return AddProduct.gradients(ctx, grad_output, lambda grad, vec2: grad @ vec2, lambda grad, vec1: grad.mT @ vec1)


class Baddbmm(AddProduct):
    """beta · input + alpha · (batch1 @ batch2): (B, n, k) and (B, k, m) -> (B, n, m)."""

    formula = "beta · input + alpha · (batch1 @ batch2)"
    derivatives = ("beta", "alpha · grad @ batch2ᵀ", "alpha · batch1ᵀ @ grad", None, None)

    @staticmethod
    def forward(ctx, input, batch1, batch2, beta, alpha):
        AddProduct.keep(ctx, batch1, batch2, batch1.dtype, beta, alpha)
        return AddProduct.scaled_sum(ctx, input, batch1 @ batch2)

    @staticmethod
    def backward(ctx, grad_output):
        return AddProduct.gradients(
            ctx, grad_output, lambda grad, batch2: grad @ batch2.mT, lambda grad, batch1: batch1.mT @ grad
        )


class HalfBaddbmm(Baddbmm):
    """Baddbmm on float16 arrays, summed in float32 and rounded once (see ``AddProduct.in_float32``)."""

    node_name = "BaddbmmBackward0"

    @staticmethod
    def forward(ctx, input, batch1, batch2, beta, alpha):
        return AddProduct.in_float32(ctx, Baddbmm.forward, input, batch1, batch2, beta, alpha)


class Addbmm(Baddbmm):
    """beta · input + alpha · Σ_b batch1[b] @ batch2[b]: (B, n, k) and (B, k, m) -> (n, m). The
    backward is baddbmm's, grad (n, m) broadcasting over the batch: batch1[b] gets
    alpha · grad @ batch2[b]ᵀ, batch2[b] alpha · batch1[b]ᵀ @ grad."""

    formula = "beta · input + alpha · Σ_b batch1[b] @ batch2[b]"

    @staticmethod
    def forward(ctx, input, batch1, batch2, beta, alpha):
        AddProduct.keep(ctx, batch1, batch2, batch1.dtype, beta, alpha)
        products = batch1 @ batch2
        return AddProduct.scaled_sum(ctx, input, products.sum(0, dtype=products.dtype))


def _integral_scales(dtype, beta, alpha):
    """beta and alpha as Python numbers (a 0-d tensor read), cut to integers for an integer
    ``dtype``, as PyTorch cuts 0.5 to 0."""
    if isinstance(beta, Tensor):
        beta = beta.item()
    if isinstance(alpha, Tensor):
        alpha = alpha.item()
    if dtype.kind in "iu":
        return int(beta), int(alpha)
    return beta, alpha


def _check_input_fits(input, output_shape, operation):
    """PyTorch's RuntimeError unless ``input`` broadcasts to the output's shape (the output keeps
    its shape: input is not broadcast the other way)."""
    try:
        fits = xp.broadcast_shapes(input._array.shape, output_shape) == output_shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"{operation}: size mismatch, got input {tuple(input._array.shape)} for an output of shape "
            f"{output_shape}; input must broadcast to the output's shape"
        )


@public(out=SAME_DTYPE)
def mv(input, vec):
    """(n, k) @ (k,) -> (n,): a matrix times a vector."""
    return Mv.apply(*_checked_matrix_and_vector(input, vec, "mv"))


def _checked_matrix_and_vector(input, vec, operation, added_ndim=1):
    """input (n, k) and vec (k,) as tensors, after PyTorch's checks of mv (and of addmv, whose
    added tensor has ``added_ndim`` dimensions: at most 1)."""
    input, vec = _same_dtype_operands(input, vec, operation, ("input", "vec"))
    if input.ndim != 2 or vec.ndim != 1 or added_ndim > 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got {added_ndim}, {input.ndim}, {vec.ndim} ({operation}: a 2-D matrix "
            f"and a 1-D vector, got shapes {tuple(input.shape)} and {tuple(vec.shape)}"
            f"{', and an added tensor of at most 1 dimension' * (operation == 'addmv')})"
        )
    _check_product_shapes(input._array.shape, vec._array.shape, operation)
    if input._array.dtype == xp.bool_:
        _refuse_bool(input, vec, operation)
    return input, vec


@public(out=SAME_DTYPE, inplace=True)
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec): mat (n, k), vec (k,), input broadcasting to (n,).
    One node, ``AddmvBackward0``."""
    input, mat, vec = _require_one_dtype("addmv", input, mat, vec, ("mat", "vec"))
    dtype = vec._array.dtype
    mat, vec = _checked_matrix_and_vector(mat, vec, "addmv", input.ndim)
    _check_input_fits(input, (mat._array.shape[0],), "addmv")
    operation = HalfAddmv if dtype.kind == "f" and dtype.itemsize == 2 else Addmv
    return operation.apply(input, mat, vec, *_integral_scales(dtype, beta, alpha))


@public(out=True, inplace=True)
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2): vec1 (n,), vec2 (m,), input broadcasting to (n, m),
    in the dtype of all three promoted. Integers and bools scale only by integers, and only bools
    by True or False; bools add as "or". One node, ``AddrBackward0``."""
    for position, (name, operand) in enumerate((("input", input), ("vec1", vec1), ("vec2", vec2)), 1):
        if not isinstance(operand, Tensor):
            raise TypeError(f"addr(): argument '{name}' (position {position}) must be Tensor, not {dtypes.python_type_name(operand)}")
    _require_dims(vec1, 1, "vec1", "addr")
    _require_dims(vec2, 1, "vec2", "addr")
    result_dtype = dtypes.promote_types(dtypes.promote_types(vec1.dtype, vec2.dtype), input.dtype)
    for name, scale in (("beta", beta), ("alpha", alpha)):
        if result_dtype.kind in "biu" and _is_floating_number(scale):
            raise RuntimeError(f"For integral input tensors, argument {name} must not be a floating point number.")
        if result_dtype is not dtypes.bool_ and isinstance(scale, bool):
            raise RuntimeError(f"Boolean {name} only supported for Boolean results.")
    beta, alpha = _integral_scales(result_dtype, beta, alpha)
    if result_dtype is dtypes.bool_:
        beta, alpha = bool(beta), bool(alpha)
    _check_input_fits(input, (vec1._array.shape[0], vec2._array.shape[0]), "addr")
    return Addr.apply(input, vec1, vec2, beta, alpha)


def _is_floating_number(scale):
    return isinstance(scale, float) or getattr(getattr(scale, "dtype", None), "kind", None) == "f"


@public(out=SAME_DTYPE, inplace=True)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2): (B, n, k) and (B, k, m), input broadcasting to
    (B, n, m). One node, ``BaddbmmBackward0``."""
    input, batch1, batch2 = _require_one_dtype("baddbmm", input, batch1, batch2, ("batch1", "batch2"))
    dtype = batch2._array.dtype
    batch1, batch2 = _checked_batches(batch1, batch2, "baddbmm")
    _check_input_fits(input, (*batch1._array.shape[:2], batch2._array.shape[2]), "baddbmm")
    operation = HalfBaddbmm if dtype.kind == "f" and dtype.itemsize == 2 else Baddbmm
    return operation.apply(input, batch1, batch2, *_integral_scales(dtype, beta, alpha))


@public(out=SAME_DTYPE, inplace=True)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * Σ_b batch1[b] @ batch2[b]: (B, n, k) and (B, k, m), the products
    summed over the batch, input broadcasting to (n, m). One node, ``AddbmmBackward0``."""
    input, batch1, batch2 = _require_one_dtype("addbmm", input, batch1, batch2, ("batch1", "batch2"))
    dtype = batch2._array.dtype
    batch1, batch2 = _checked_batches(batch1, batch2, "addbmm")
    _check_input_fits(input, (batch1._array.shape[1], batch2._array.shape[2]), "addbmm")
    return Addbmm.apply(input, batch1, batch2, *_integral_scales(dtype, beta, alpha))


for _name, _matrices in [("addmm", ("mat1", "mat2")), ("addmv", ("mat", "vec")), ("addr", ("vec1", "vec2")),
                         ("baddbmm", ("batch1", "batch2")), ("addbmm", ("batch1", "batch2"))]:
    accept_deprecated_forms(
        _name, ("beta", "input", "alpha", *_matrices), ("beta", "input", *_matrices), out_dtype=_name in ("addmm", "baddbmm")
    )


@public(method=False)
def linear(x, weight, bias=None):
    """x @ weight^T + bias: x (*, in_features), weight (out_features, in_features), bias
    (out_features,) -> (*, out_features). One fused operation (the nn.Linear layer's). A 1-D weight
    (in_features,) is one output unit: x @ weight, (*, in_features) -> (*).

    For an input that is not 2-D, PyTorch (ATen's Linear.cpp) either flattens it to a matrix and
    adds the bias as ``addmm`` does, broadcast to the (N, out_features) product (``_flattened_by_pytorch``),
    or multiplies and then adds the bias in place (``output.add_(bias)``: any bias that broadcasts to
    the output, in any dtype); both are followed here, the second fused where the bias is a row of
    the weight's dtype."""
    if (
        isinstance(bias, Tensor) and isinstance(weight, Tensor) and bias._array.dtype != weight._array.dtype
        and isinstance(x, Tensor) and weight._array.ndim == 2 and (x._array.ndim == 2 or _flattened_by_pytorch(x, bias))
    ):  # PyTorch's addmm compares its self (the bias) with mat2 before mat1 (the input)
        bias, weight = operands_in_modes("linear", (bias, weight))  # autocast casts them first, as PyTorch's
        if bias._array.dtype != weight._array.dtype:
            raise RuntimeError(
                f"self and mat2 must have the same dtype, but got {dtypes.scalar_type_name(bias._array.dtype)} and "
                f"{dtypes.scalar_type_name(weight._array.dtype)} (linear: convert one first, e.g. b.to(a.dtype))"
            )
    x, weight = _same_dtype_operands(x, weight, "linear", ("input", "weight"), "mm" if bias is None else "addmm")
    flattened = bias is not None and x._array.ndim != 2 and _flattened_by_pytorch(x, bias)
    if weight._array.ndim != 2:
        if weight._array.ndim == 1 and (bias is None or not flattened and x._array.ndim != 2):
            output = matmul(x, weight)  # one output unit
            return output if bias is None else output.add_(bias)
        if weight._array.ndim == 1:
            raise RuntimeError(f"mat2 must be a matrix, got 1-D tensor (linear: weight of shape {tuple(weight.shape)}; give it shape (out_features, in_features))")
        _require_dims(weight, 2, "weight", "linear")
    input_shape, (out_features, in_features) = x._array.shape, weight._array.shape
    if not input_shape:
        raise RuntimeError(
            f"both arguments to linear need to be at least 1D, but they are 0D and {weight._array.ndim}D (linear: the input's "
            f"last dimension is in_features)"
        )
    if input_shape[-1] != in_features:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({math.prod(input_shape[:-1])}x{input_shape[-1]} "
            f"and {in_features}x{out_features}) (linear: the input's last size ({input_shape[-1]}) must equal "
            f"in_features, weight.shape[1] ({in_features}))"
        )
    operation = Linear if bias is not None else LinearWithoutBias
    if x._array.dtype.itemsize <= 2:  # bool, float16 (and small integers): one test keeps them off the float32 path
        if x._array.dtype == xp.bool_:
            _refuse_bool(x, weight, "linear")
        elif bias is not None and x._array.dtype == xp.float16:
            operation = HalfLinear
    if len(input_shape) != 2:  # a sample alone, a batch of sequences...: named as PyTorch's linear ends
        if bias is None:  # matmul's last step: squeezing the row a vector became, or reshaping the batch's product
            operation = operation.shown_as("SqueezeBackward4" if x._array.ndim == 1 else "UnsafeViewBackward0")
        elif flattened:
            operation = operation.shown_as("ViewBackward0")
            if bias._array.ndim > 1:
                bias = _bias_of_flattened_rows(bias, input_shape, out_features)
        elif bias._array.ndim != 1 or bias._array.dtype != weight._array.dtype:
            return matmul(x, weight.t()).add_(bias)
        else:
            operation = operation.shown_as("AddBackward0")
    if bias is not None:
        bias = _checked_bias(bias, weight, input_shape[:-1] + (out_features,))
    return operation.apply(x, weight, bias)


def _flattened_by_pytorch(x, bias):
    """Whether PyTorch's linear (ATen's Linear.cpp), given an input that is not 2-D, flattens it to
    a matrix, multiplies it (addmm) and views the product back (ViewBackward0): for a contiguous
    input and a bias with one dimension, or one of size other than 1 ((out_features,), (1, out_features),
    (N, 1)...); otherwise it multiplies, then adds the bias (AddBackward0)."""
    shape = bias._array.shape
    return is_contiguous(x._array) and (len(shape) == 1 or sum(size != 1 for size in shape) == 1)


def _bias_of_flattened_rows(bias, input_shape, out_features):
    """A bias of more than one dimension that PyTorch's flattened linear expands to the product
    (rows, out_features), as addmm does, laid out over the output (*input_shape[:-1], out_features)."""
    rows = math.prod(input_shape[:-1])
    if bias._array.ndim > 2:
        raise RuntimeError(
            f"expand(bias of shape {tuple(bias._array.shape)}, size=[{rows}, {out_features}]): the number of sizes provided (2) "
            f"must be greater or equal to the number of dimensions in the tensor ({bias._array.ndim}); give linear a bias "
            f"of shape ({out_features},)"
        )
    for dim, (size, target) in enumerate(zip(bias._array.shape, (rows, out_features))):
        if size not in (1, target):
            raise RuntimeError(
                f"The expanded size of the tensor ({target}) must match the existing size ({size}) at non-singleton dimension "
                f"{dim}.  Target sizes: [{rows}, {out_features}].  Tensor sizes: {list(bias._array.shape)}"
            )
    return bias.expand(rows, out_features).reshape(input_shape[:-1] + (out_features,))


def _checked_bias(bias, weight, output_shape):
    """``bias`` after PyTorch's checks of the shape of linear's (and addmm's) bias; its dtype is
    the weight's (checked before, as addmm's self and mat2)."""
    if bias._array.shape == output_shape[-1:]:
        return bias
    try:
        fits = xp.broadcast_shapes(output_shape, bias._array.shape) == output_shape
    except ValueError:
        fits = False
    if not fits:  # PyTorch's addmm expands the bias to the output's shape
        if bias._array.ndim > len(output_shape):
            raise RuntimeError(
                f"expand({bias.type()}{{{list(bias._array.shape)}}}, size={list(output_shape)}): the number of sizes provided "
                f"({len(output_shape)}) must be greater or equal to the number of dimensions in the tensor ({bias._array.ndim}) "
                f"(linear: the bias needs out_features = weight.shape[0] = {output_shape[-1]} elements)"
            )
        raise expand_error(bias._array.shape, output_shape)
    return bias


install_method("__matmul__", operator_form(matmul))
install_method("__rmatmul__", operator_form(reflected(matmul)))
