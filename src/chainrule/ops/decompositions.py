"""Matrix functions and decompositions: inverse, det, slogdet, solve, cholesky, qr, svd, eigh, pinv
and matrix_exp, each batched over the leading dimensions: A (*, n, n) is a batch of matrices.

Each gradient is PyTorch's, written with matrix products, so that a recorded backward
(``create_graph``) is differentiable again. With Aᵀ the transpose of the last two dimensions and
G the arriving gradient (for complex matrices read each ᵀ of a backward formula as the conjugate
transpose ᴴ, ``adjoint``, and each factor conjugated, as PyTorch's convention has it):

    inverse     out = A⁻¹            dA = -outᵀ G outᵀ
    det         out = det A          dA = G · det A · A⁻ᵀ   (the cofactor matrix; at a singular A
                                                             from the SVD, A = U S Vᵀ: U diag(Π_{j≠i} s_j) Vᵀ det U det V)
    slogdet     log |det A|          dA = G · A⁻ᵀ
    solve       X = A⁻¹ B            dB = A⁻ᵀ G,  dA = -dB Xᵀ
    cholesky    A = L Lᵀ             dA = L⁻ᵀ Φ(Lᵀ G) L⁻¹, Φ(M) = (tril M + (tril₋₁ M)ᵀ) / 2
    qr          A = Q R              dA = (G_Q + Q copyltu(M)) R⁻ᵀ,  M = R G_Rᵀ - G_Qᵀ Q
    svd         A = U S Vᵀ           dA = U [(skew(UᵀG_U) / E) S + S (skew(VᵀG_V) / E) + diag G_S] Vᵀ
                                          + (I - UUᵀ) G_U S⁻¹ Vᵀ + U S⁻¹ G_Vᵀ (I - VVᵀ)
    eigh        A = V diag(λ) Vᵀ      dA = V [skew(VᵀG_V) / 2E + diag G_λ] Vᵀ
    eig         A = V diag(λ) V⁻¹     dA = V⁻ᴴ [(VᴴG_V - VᴴV Re diag(VᴴG_V)) / conj E + diag G_λ] Vᴴ
    pinv        A⁺                   (PyTorch's pinv_backward, products of A, A⁺ and G)
    matrix_exp  exp A                dA = exp([[Aᵀ, G], [0, Aᵀ]]) upper right block

where E[i, j] = σ_j² - σ_i² (svd) or λ_j - λ_i (eigh), which must not be 0: the gradients of the
singular vectors and eigenvectors exist only for distinct singular values and eigenvalues.

A plain backward computes on arrays with the backend's ``linalg``; a recorded one on tensors with
chainrule's own functions: the nodes here see both through ``ctx.xp`` (``LinalgNode``).
"""
import functools
import math
from types import SimpleNamespace

from chainrule import dtypes
from chainrule.autograd import grad_mode
from chainrule.autograd.function import read_into_python
from chainrule.backend import LinAlgError as BackendLinAlgError
from chainrule.backend import array_functions, linalg, xp
from chainrule.ops import registry, shape
from chainrule.ops.join import cat
from chainrule.ops.matmul import matmul
from chainrule.ops.broadcast import common_shape
from chainrule.ops.op import Op, OpNode
from chainrule.ops.registry import public
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.return_types import return_type


class LinAlgError(RuntimeError):
    """A matrix that the operation cannot handle: singular (inverse, solve) or not positive-definite
    (cholesky). As ``torch.linalg.LinAlgError``, a RuntimeError."""


linalg_slogdet = return_type("linalg_slogdet", ["sign", "logabsdet"])
slogdet_result = return_type("slogdet", ["sign", "logabsdet"])
linalg_qr = return_type("linalg_qr", ["Q", "R"])
linalg_svd = return_type("linalg_svd", ["U", "S", "Vh"])
linalg_eigh = return_type("linalg_eigh", ["eigenvalues", "eigenvectors"])
linalg_eig = return_type("linalg_eig", ["eigenvalues", "eigenvectors"])
linalg_inv_ex = return_type("linalg_inv_ex", ["inverse", "info"])
linalg_solve_ex = return_type("linalg_solve_ex", ["result", "info"])
linalg_cholesky_ex = return_type("linalg_cholesky_ex", ["L", "info"])
linalg_lstsq = return_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


# ----------------------------------------------------------------------------- on arrays
def matrix_exp_array(a):
    """e^A = Σ_k A^k / k! for a batch of square matrices, by scaling and squaring: the Taylor series
    of A / 2^s (whose 1-norm is at most 1/2, where 18 terms are exact to machine precision), squared
    s times; s is chosen for the batch's largest matrix. A matrix holding nan or inf gives nan."""
    if a.size == 0:
        return a.copy()
    norms = xp.max(xp.sum(xp.abs(a), axis=-2), axis=-1)
    finite = xp.isfinite(norms)
    largest = float(xp.max(norms, initial=0.0, where=finite))
    squarings = max(0, math.ceil(math.log2(largest)) + 1) if largest > 0 else 0
    scaled = a / 2.0**squarings
    result = term = xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape)
    for power in range(1, 19):
        term = (term @ scaled) / power
        result = result + term
    for _ in range(squarings):
        result = result @ result
    return result if finite.all() else xp.where(finite[..., None, None], result, xp.nan)


def thin_svd(a):
    """(U, S, Vh) with k = min(m, n) singular values, the reduced SVD of A (*, m, n)."""
    return converged(functools.partial(linalg.svd, full_matrices=False), "linalg.svd", a)


def eigh_array(a, UPLO="L"):
    """(eigenvalues ascending, eigenvectors) of the symmetric matrices (*, n, n), from the triangle
    UPLO ('L' or 'U') names."""
    return converged(functools.partial(linalg.eigh, UPLO=UPLO), "linalg.eigh", a)


def eig_array(a):
    """(eigenvalues, eigenvectors) of the square matrices (*, n, n), complex also for real ones
    (whose eigenvalues NumPy returns as real arrays where all of them are real)."""
    values, vectors = linalg.eig(a)
    complex_dtype = xp.result_type(a.dtype, dtypes.complex64)
    return values.astype(complex_dtype, copy=False), vectors.astype(complex_dtype, copy=False)


on_arrays = SimpleNamespace(
    conj=array_functions.conj, inverse=linalg.inv, solve=linalg.solve, det=linalg.det, svd=thin_svd, matrix_exp=matrix_exp_array,
    tril=xp.tril, triu=xp.triu, concatenate=xp.concatenate, zeros_like=xp.zeros_like, where=xp.where, prod=xp.prod,
)


class LinalgNode(OpNode):
    """The node of a matrix function: its ``xp`` also has inverse, solve, det, svd and matrix_exp."""

    @staticmethod
    def plain_backward_xp(ctx):
        """The functions on arrays (a compiled program's context of the operation gets them too)."""
        return on_arrays

    @property
    def xp(self):
        return on_tensors if grad_mode.is_grad_enabled() else on_arrays


class LinalgOp(Op):
    _node_base = LinalgNode


def diagonal_matrix(values):
    """(*, k) -> (*, k, k) with ``values`` on the diagonal (on arrays and tensors alike)."""
    return values[..., None] * xp.eye(values.shape[-1], dtype=values.dtype)


def transposed(matrix):
    """Each matrix of a batch transposed: (*, m, n) -> (*, n, m)."""
    return matrix.swapaxes(-1, -2)


def adjoint(matrix, functions):
    """Each matrix of a batch conjugated and transposed, Aᴴ: (*, m, n) -> (*, n, m); for real
    numbers the transpose alone (``functions.conj`` of a real array or tensor is itself)."""
    return functions.conj(matrix.swapaxes(-1, -2))


# ----------------------------------------------------------------------------- checks
def check_matrices(A, operation, square=True, floating=True, kernel=None):
    """PyTorch's checks on the matrix argument: at least 2-D, floating (when ``floating``), square
    (when ``square``), of a dtype that LAPACK's ``kernel`` computes in (when named)."""
    if A._array.ndim < 2:
        raise RuntimeError(f"{operation}: The input tensor A must have at least 2 dimensions.")
    if floating and A._array.dtype.kind not in "fc":
        raise RuntimeError(
            f"{operation}: Expected a floating point or complex tensor as input. Got {type_name(A)}; convert it "
            f"first, e.g. A.double()"
        )
    rows, columns = A._array.shape[-2:]
    if square and rows != columns:
        raise RuntimeError(f"{operation}: A must be batches of square matrices, but they are {rows} by {columns} matrices")
    if kernel is not None:
        check_kernel(A, kernel)


def check_kernel(A, kernel):
    """PyTorch's NotImplementedError where its CPU ``kernel`` (a LAPACK routine, which computes in
    float32, float64, complex64 and complex128 only) has no version for A's dtype: integers, bool, float16."""
    if A._array.dtype.kind not in "fc" or A._array.dtype.itemsize < 4:
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{type_name(A)}\'; convert A first, e.g. A.float() or A.double()'
        )


def check_precision(A, operation):
    """PyTorch's RuntimeError where an operation refuses a half-precision matrix before any kernel."""
    if A._array.dtype == dtypes.float16:
        raise RuntimeError(
            f"{operation}: Low precision dtypes not supported. Got Half; convert A first, e.g. A.float()"
        )


def type_name(tensor):
    """PyTorch's name of the tensor's dtype in its errors: Float, Double, Long..."""
    return dtypes.scalar_type_name(tensor._array.dtype)


def check_same_dtype(A, B, message):
    """A RuntimeError, ``message`` with {A} and {B} as the two dtypes' names, unless A and B share a dtype."""
    if A._array.dtype != B._array.dtype:
        raise RuntimeError(message.format(A=type_name(A), B=type_name(B)) + " Convert one with .to(other.dtype).")


def batch_flattened(array, core_dims=2):
    """``array`` (*, core...) as one batch dimension: (B, core...), B the product of the batch
    sizes (so a batch with a size 0, or core dimensions of size 0, reshapes too)."""
    return array.reshape((math.prod(array.shape[:-core_dims]),) + array.shape[-core_dims:])


def lu_factor_array(matrices):
    """LAPACK's getrf on arrays: the LU factorization with partial pivoting of each matrix of
    (*, m, n), A = P L U, one column at a time (vectorized over the batch; teaching-size matrices).

    Returns (LU (*, m, n): L's multipliers below the diagonal, U on and above it; pivots (*, k),
    k = min(m, n), int32 from 1: row j was swapped with row pivots[j]; info (*,) int32: the position
    (from 1) of the first pivot that is exactly zero, 0 where there is none). Each pivot is the
    largest absolute value of its column (of a complex column, the largest |Re| + |Im|, LAPACK's
    izamax), the first one on ties, as LAPACK chooses."""
    rows, columns = matrices.shape[-2:]
    batch_shape, steps = matrices.shape[:-2], min(rows, columns)
    lu = batch_flattened(matrices).copy()
    batch = xp.arange(lu.shape[0])
    pivots = xp.zeros((lu.shape[0], steps), dtype=dtypes.int32)
    info = xp.zeros(lu.shape[0], dtype=dtypes.int32)
    column_size = xp.abs if matrices.dtype.kind != "c" else lambda column: xp.abs(column.real) + xp.abs(column.imag)
    for k in range(steps):
        chosen = xp.argmax(column_size(lu[:, k:, k]), axis=1) + k
        pivots[:, k] = chosen + 1
        pivot_rows = lu[batch, chosen]  # a copy: the rows swapped into place k
        lu[batch, chosen] = lu[:, k]
        lu[:, k] = pivot_rows
        pivot = pivot_rows[:, k]
        info = xp.where((info == 0) & (pivot == 0), k + 1, info)
        # a zero pivot has only zeros below it (it is the largest): nothing to eliminate
        factors = lu[:, k + 1 :, k] / xp.where(pivot == 0, 1, pivot)[:, None]
        lu[:, k + 1 :, k] = factors
        lu[:, k + 1 :, k + 1 :] -= factors[:, :, None] * pivot_rows[:, None, k + 1 :]
    return lu.reshape(matrices.shape), pivots.reshape(batch_shape + (steps,)), info.reshape(batch_shape)


def zero_pivots(matrices):
    """LAPACK's ``info`` of an LU factorization with partial pivoting (getrf), per matrix of
    (*, n, n): the position (from 1) of the first pivot that is exactly zero, 0 where there is none
    (the matrix is invertible)."""
    return lu_factor_array(matrices)[2]


def failing_minors(matrices):
    """cholesky's ``info`` per matrix of (*, n, n): the order of the first leading minor that is not
    positive-definite, 0 where the matrix is positive-definite."""
    size = matrices.shape[-1]
    flat = batch_flattened(matrices)
    orders = [next((k for k in range(1, size + 1) if not succeeds(cholesky_factor, matrix[:k, :k])), 0) for matrix in flat]
    return xp.asarray(orders, dtype=dtypes.int32).reshape(matrices.shape[:-2])


def succeeds(function, matrix):
    """Whether the backend's ``function`` computes on ``matrix`` without a LinAlgError."""
    try:
        function(matrix)
        return True
    except BackendLinAlgError:
        return False


def cholesky_factor(matrices):
    """The backend's Cholesky factor of (*, n, n), failing where LAPACK's potrf fails: a pivot
    ``a_jj - Σ_k L_jk²`` that is not positive, or nan (OpenBLAS lets a nan pivot through, which
    then shows on L's diagonal; PyTorch reports that minor's order)."""
    lower = linalg.cholesky(matrices)
    if xp.isnan(xp.diagonal(lower, axis1=-2, axis2=-1)).any():
        raise BackendLinAlgError("Matrix is not positive definite")
    return lower


#: PyTorch's message for each kind of failure, from the failing matrix's ``info``.
FAILURES = {
    "inversion": (zero_pivots, "The diagonal element {info} is zero, the inversion could not be completed because the "
                  "input matrix is singular. Use linalg.pinv for a pseudo-inverse of a singular matrix."),
    "solver": (zero_pivots, "The solver failed because the input matrix is singular. Use linalg.lstsq for a "
               "least-squares solution of a singular system."),
    "factorization": (failing_minors, "The factorization could not be completed because the input is not "
                      "positive-definite (the leading minor of order {info} is not positive-definite). Only symmetric "
                      "positive-definite matrices (such as B Bᵀ + εI) have a Cholesky factor."),
}


#: PyTorch's message where LAPACK's iteration of a decomposition does not converge (in practice,
#: on a matrix that holds nan, or inf), by the operation PyTorch names in it.
NOT_CONVERGED = {
    "linalg.svd": "The algorithm failed to converge because the input matrix contained non-finite values.",
    "linalg.eigh": "The algorithm failed to converge because the input matrix is ill-conditioned or has too many "
                   "repeated eigenvalues (or holds nan or inf).",
}


def failure(operation, info, message):
    """PyTorch's LinAlgError for the first matrix whose ``info`` is not 0: ``message``, in which
    {info} is that matrix's."""
    first = int(xp.flatnonzero(info.reshape(-1))[0])
    where = f"(Batch element {first}): " if info.ndim else ""
    return LinAlgError(f"{operation}: {where}{message.format(info=int(info.reshape(-1)[first]))}")


def calling(function, operation, kind, *arrays):
    """``function(*arrays)``, or PyTorch's LinAlgError (``kind`` of failure) when a matrix is singular
    or not positive-definite."""
    try:
        return function(*arrays)
    except BackendLinAlgError:
        raise failure(operation, FAILURES[kind][0](arrays[0]), FAILURES[kind][1]) from None


def converged(function, operation, matrices):
    """``function(matrices)``, an iterative decomposition (svd, eigh) of the arrays (*, m, n), or
    PyTorch's LinAlgError naming the first matrix on which it does not converge (never NumPy's
    LinAlgError, a ValueError)."""
    try:
        return function(matrices)
    except BackendLinAlgError:
        flat = batch_flattened(matrices)
        info = xp.asarray([not succeeds(function, matrix) for matrix in flat]).reshape(matrices.shape[:-2])
        raise failure(operation, info, NOT_CONVERGED[operation]) from None


def computed_where_possible(function, A, kind, operation, check_errors):
    """(function(A), info) as PyTorch's ``*_ex`` functions: info (*,) int32 is 0 where a matrix
    succeeded; the results of the others are nan (LinAlgError instead, with ``check_errors``)."""
    # which way it goes follows the values (a later batch's matrix may be singular): a compiled
    # step runs eagerly
    read_into_python(f"{operation}'s test of each matrix")
    try:  # the backend raises exactly where LAPACK's info is not 0: find which matrices only then
        return function(A), tensor_from_array(xp.zeros(A._array.shape[:-2], dtype=dtypes.int32))
    except LinAlgError:
        info = FAILURES[kind][0](A._array)
    if check_errors:
        raise failure(operation, info, FAILURES[kind][1])
    failed = (info != 0)[..., None, None]
    identity = tensor_from_array(xp.eye(A._array.shape[-1], dtype=A._array.dtype))
    result = function(registry.functions.where(tensor_from_array(failed), identity, A))
    per_result = failed.reshape(info.shape + (1,) * (result.ndim - info.ndim))  # a vector result has one dimension less
    return registry.functions.where(tensor_from_array(per_result), xp.nan, result), tensor_from_array(info)


# ----------------------------------------------------------------------------- the operations
class Inverse(LinalgOp):
    node_name = "LinalgInvExBackward0"
    formula = "A⁻¹"
    derivatives = ("-outᴴ @ grad @ outᴴ", None)

    @staticmethod
    def forward(ctx, A, operation):
        inverse = calling(linalg.inv, operation, "inversion", A)
        ctx.save_for_backward(inverse)
        return inverse

    @staticmethod
    def backward(ctx, grad_output):
        (inverse,) = ctx.saved_tensors
        inverse_h = adjoint(inverse, ctx.xp)
        return -(inverse_h @ grad_output @ inverse_h), None


class Det(LinalgOp):
    node_name = "LinalgDetBackward0"
    formula = "det A"
    derivatives = ("grad · conj(det A · A⁻ᵀ) (the cofactor matrix, from the SVD where A is singular)",)

    @staticmethod
    def forward(ctx, A):
        det = linalg.det(A)
        ctx.save_for_backward(A, det)
        ctx.singular = bool(xp.any(det == 0))
        return det

    @staticmethod
    def backward(ctx, grad_output):
        A, det = ctx.saved_tensors
        if ctx.singular:  # A⁻¹ does not exist
            return grad_output[..., None, None] * conjugate_cofactors(A, ctx.xp)
        return (grad_output * ctx.xp.conj(det))[..., None, None] * adjoint(ctx.xp.inverse(A), ctx.xp)


def conjugate_cofactors(A, functions):
    """The conjugates of the cofactor matrices C = det A · A⁻ᵀ of A (*, n, n), also where A is
    singular: from the SVD A = U S Vh, conj C = conj(det U det Vh) · U diag(Π_{j≠i} s_j) Vh (for
    real matrices, C itself)."""
    U, S, Vh = functions.svd(A)
    others = functions.prod(functions.where(xp.eye(S.shape[-1], dtype=bool), 1.0, S[..., None, :]), -1)
    orientation = functions.conj(functions.det(U) * functions.det(Vh))
    return orientation[..., None, None] * ((U * others[..., None, :]) @ Vh)


class Slogdet(LinalgOp):
    node_name = "LinalgSlogdetBackward0"
    formula = "(sign det A, log |det A|)"
    derivatives = ("g · A⁻ᴴ, g = grad_logabsdet (complex: + i Im(grad_sign · conj sign)) (the cofactors over det A, ±inf, where A is singular)",)

    @staticmethod
    def forward(ctx, A):
        sign, logabsdet = linalg.slogdet(A)
        sign = xp.where(xp.isnan(logabsdet), 0.0, sign)  # PyTorch's sign of a nan determinant: 0
        ctx.save_for_backward(A, sign)
        ctx.singular = bool(xp.any(sign == 0))
        return sign, logabsdet

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        A, sign = ctx.saved_tensors
        if A.dtype.kind == "c":  # the sign's gradient turns the phase: the imaginary part of g
            grad_logabsdet = grad_logabsdet + 1j * (grad_sign * ctx.xp.conj(sign)).imag
        if ctx.singular:  # A⁻¹ does not exist: C / det A is infinite (nan where a cofactor is 0), as PyTorch's
            return grad_logabsdet[..., None, None] * conjugate_cofactors(A, ctx.xp) / ctx.xp.conj(ctx.xp.det(A))[..., None, None]
        return grad_logabsdet[..., None, None] * adjoint(ctx.xp.inverse(A), ctx.xp)


class Solve(LinalgOp):
    """A (*, n, n) and B (*, n, k), batch dimensions broadcast: X = A⁻¹ B."""

    node_name = "LinalgSolveExBackward0"
    formula = "A⁻¹ B"
    derivatives = ("-A⁻ᴴ grad outᴴ", "A⁻ᴴ grad", None)

    @staticmethod
    def forward(ctx, A, B, operation):
        solution = calling(linalg.solve, operation, "solver", A, B)
        ctx.save_for_backward(A, solution)
        return solution

    @staticmethod
    def backward(ctx, grad_output):
        A, solution = ctx.saved_tensors
        grad_B = ctx.xp.solve(adjoint(A, ctx.xp), grad_output)
        grad_A = -(grad_B @ adjoint(solution, ctx.xp)) if ctx.needs_input_grad[0] else None
        return grad_A, grad_B, None


class Cholesky(LinalgOp):
    node_name = "LinalgCholeskyExBackward0"
    formula = "L, lower triangular with A = L Lᴴ"
    derivatives = ("L⁻ᴴ Φ(Lᴴ grad) L⁻¹, Φ(M) = (tril M + (tril₋₁ M)ᴴ) / 2", None)

    @staticmethod
    def forward(ctx, A, operation):
        lower = calling(cholesky_factor, operation, "factorization", A)
        ctx.save_for_backward(lower)
        return lower

    @staticmethod
    def backward(ctx, grad_output):
        (lower,) = ctx.saved_tensors
        lower_inverse = ctx.xp.inverse(lower)
        product = adjoint(lower, ctx.xp) @ grad_output
        phi = (ctx.xp.tril(product) + adjoint(ctx.xp.tril(product, -1), ctx.xp)) * 0.5
        return adjoint(lower_inverse, ctx.xp) @ phi @ lower_inverse, None


def qr_of_tall(grad_Q, grad_R, Q, R, xp_functions):
    """dA for A = QR with m >= n (R square, invertible): (G_Q + Q copyltu(M)) R⁻ᴴ, where copyltu
    mirrors the lower triangle onto the upper one (conjugated) and keeps the diagonal's real part."""
    M = R @ adjoint(grad_R, xp_functions) - adjoint(grad_Q, xp_functions) @ Q
    lower = xp_functions.tril(M, -1)
    hermitian = lower + adjoint(lower, xp_functions) + diagonal_matrix(M.diagonal(0, -2, -1).real)
    return adjoint(xp_functions.solve(R, adjoint(grad_Q + Q @ hermitian, xp_functions)), xp_functions)


class Qr(LinalgOp):
    """The QR decomposition: A (*, m, n) -> Q (*, m, k), R (*, k, n), k = min(m, n) (mode 'reduced'; k = m
    with 'complete'; Q empty with 'r', which has no gradient). For m < n, A = [X | Y]
    with X square: X = Q R_X and R = [R_X | Qᵀ Y], so Y's gradient is Q G_{R_Y} and X's is the square
    case's with G_Q + Y G_{R_Y}ᵀ."""

    node_name = "LinalgQrBackward0"
    formula = "Q, R with A = Q R, Qᴴ Q = I, R upper triangular"
    derivatives = ("(G_Q + Q copyltu(R G_Rᴴ - G_Qᴴ Q)) R⁻ᴴ", None)

    @staticmethod
    def forward(ctx, A, mode):
        Q, R = linalg.qr(A, mode="complete" if mode == "complete" else "reduced")
        ctx.save_for_backward(Q, R)
        ctx.mode = mode
        return (xp.zeros((0,), dtype=A.dtype) if mode == "r" else Q), R

    @staticmethod
    def backward(ctx, grad_Q, grad_R):
        Q, R = ctx.saved_tensors
        rows, columns = Q.shape[-2], R.shape[-1]
        if ctx.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use "
                "linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
            )
        if ctx.mode == "complete" and rows > columns:  # Q's extra columns are any basis of a complement
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if rows >= columns:
            return qr_of_tall(grad_Q, grad_R, Q, R, ctx.xp), None
        square, rest = R[..., :rows], R[..., rows:]
        grad_square, grad_rest = grad_R[..., :rows], grad_R[..., rows:]
        grad_X = qr_of_tall(grad_Q + (Q @ rest) @ adjoint(grad_rest, ctx.xp), grad_square, Q, square, ctx.xp)
        return ctx.xp.concatenate([grad_X, Q @ grad_rest], -1), None


def skew(matrix, functions):
    """M - Mᴴ."""
    return matrix - adjoint(matrix, functions)


#: PyTorch's words where a loss depends on the phase of complex singular vectors or eigenvectors
PHASE_DEPENDENT = {
    "svd_backward": "The singular vectors in the complex case are specified up to multiplication by e^{i phi}. The "
                    "specified loss function depends on this phase term, making it ill-defined.",
    "linalg_eigh_backward": "The eigenvectors in the complex case are specified up to multiplication by e^{i phi}. The "
                            "specified loss function depends on this quantity, so it is ill-defined.",
}
PHASE_DEPENDENT["linalg_eig_backward"] = PHASE_DEPENDENT["linalg_eigh_backward"]


def check_phase_invariance(imaginary_diagonal, operation):
    """PyTorch's refusal of a loss that depends on the phase of complex singular vectors or
    eigenvectors (each is defined up to a factor e^{iφ}): the imaginary parts of diag(Vᴴ G_V) (for
    the SVD, of diag(Uᴴ G_U) + diag(Vᴴ G_V)) must vanish, within PyTorch's lax 1e-2."""
    values = imaginary_diagonal._array if isinstance(imaginary_diagonal, Tensor) else imaginary_diagonal
    if not xp.allclose(values, 0.0, rtol=1e-2, atol=1e-2):
        raise RuntimeError(f"{operation}: {PHASE_DEPENDENT[operation]}")


def gaps(values):
    """E[..., i, j] = values[j] - values[i], with 1 on the diagonal (where the formulas never divide)."""
    differences = values[..., None, :] - values[..., :, None]
    return differences + xp.eye(values.shape[-1], dtype=differences.dtype)


class Svd(LinalgOp):
    """The reduced SVD: A (*, m, n) -> U (*, m, k), S (*, k), Vh (*, k, n), k = min(m, n), singular
    values descending."""

    node_name = "LinalgSvdBackward0"
    formula = "U, S, Vh with A = U diag(S) Vh"
    derivatives = ("U [(skew(UᴴG_U) / E) S + S (skew(Vh G_Vhᴴ) / E) + diag G_S (+ diag skew(UᴴG_U) / 2S, complex)] Vh "
                   "+ the parts outside U's and V's spans",)

    @staticmethod
    def forward(ctx, A):
        ctx.set_materialize_grads(False)
        U, S, Vh = thin_svd(A)
        ctx.save_for_backward(U, S, Vh)
        return U, S, Vh

    @staticmethod
    def backward(ctx, grad_U, grad_S, grad_Vh):
        U, S, Vh = ctx.saved_tensors
        inner = diagonal_matrix(grad_S) if grad_S is not None else None
        if grad_U is None and grad_Vh is None:
            return (U * grad_S[..., None, :]) @ Vh
        squares = gaps(S * S)
        rows, columns = U.shape[-2], Vh.shape[-1]
        extra = 0.0
        functions, skew_U, skew_V = ctx.xp, None, None
        if grad_U is not None:
            UhgU = adjoint(U, functions) @ grad_U
            skew_U = skew(UhgU, functions)
            term = (skew_U / squares) * S[..., None, :]
            inner = term if inner is None else inner + term
            if rows > S.shape[-1]:
                extra = extra + ((grad_U - U @ UhgU) / S[..., None, :]) @ Vh
        if grad_Vh is not None:
            VhgV = Vh @ adjoint(grad_Vh, functions)
            skew_V = skew(VhgV, functions)
            term = S[..., :, None] * (skew_V / squares)
            inner = term if inner is None else inner + term
            if columns > S.shape[-1]:
                extra = extra + U @ ((grad_Vh - adjoint(VhgV, functions) @ Vh) / S[..., :, None])
        if U.dtype.kind == "c":
            phases = [each.diagonal(0, -2, -1).imag for each in (skew_U, skew_V) if each is not None]
            check_phase_invariance(sum(phases), "svd_backward")
            if grad_U is not None and grad_Vh is not None:
                inner = inner + diagonal_matrix(skew_U.diagonal(0, -2, -1) / (2 * S))
        return U @ inner @ Vh + extra


def kept_for_backward(ctx, values, vectors):
    """An eigendecomposition's (values, vectors), saved for its backward, which gets None for an
    output the loss does not use (not zeros: it skips that part of the formula)."""
    ctx.set_materialize_grads(False)
    ctx.save_for_backward(values, vectors)
    return values, vectors


def eigenpairs_of(ctx):
    """(λ, V, Vᴴ, the functions to compute with) in an eigendecomposition's backward."""
    values, vectors = ctx.saved_tensors
    return values, vectors, adjoint(vectors, ctx.xp), ctx.xp


class Eigh(LinalgOp):
    """The eigenvalues (ascending) and orthonormal eigenvectors of symmetric matrices A (*, n, n),
    read from the triangle ``UPLO`` names."""

    node_name = "LinalgEighBackward0"
    formula = "λ, V with A = V diag(λ) Vᴴ"
    derivatives = ("V [skew(VᴴG_V) / 2E + diag G_λ] Vᴴ", None)

    @staticmethod
    def forward(ctx, A, UPLO):
        return kept_for_backward(ctx, *eigh_array(A, UPLO))

    @staticmethod
    def backward(ctx, grad_values, grad_vectors):
        values, vectors, vectors_h, functions = eigenpairs_of(ctx)
        inner = diagonal_matrix(grad_values) if grad_values is not None else None
        if grad_vectors is not None:
            VhgV = vectors_h @ grad_vectors
            if vectors.dtype.kind == "c":
                check_phase_invariance(VhgV.diagonal(0, -2, -1).imag, "linalg_eigh_backward")
            term = skew(VhgV, functions) / (2 * gaps(values))
            inner = term if inner is None else inner + term
        return vectors @ inner @ vectors_h, None


class Eig(LinalgOp):
    """The eigenvalues and eigenvectors of square matrices A (*, n, n), complex whatever A's dtype
    (a real matrix may have complex eigenvalues): λ (*, n) and V (*, n, n) with A V = V diag(λ),
    each column of V of norm 1 with its largest component real (LAPACK's geev, as PyTorch's)."""

    node_name = "LinalgEigBackward0"
    formula = "λ, V with A = V diag(λ) V⁻¹"
    derivatives = ("V⁻ᴴ [(VᴴG_V - VᴴV Re diag(VᴴG_V)) / conj E + diag G_λ] Vᴴ (its real part for a real A)",)

    @staticmethod
    def forward(ctx, A):
        return kept_for_backward(ctx, *eig_array(A))

    @staticmethod
    def backward(ctx, grad_values, grad_vectors):
        values, vectors, vectors_h, functions = eigenpairs_of(ctx)
        if grad_vectors is None:
            return functions.solve(vectors_h, grad_values[..., :, None] * vectors_h)
        VhgV = vectors_h @ grad_vectors
        diagonal = VhgV.diagonal(0, -2, -1)
        check_phase_invariance(diagonal.imag, "linalg_eig_backward")
        # projected onto the tangent space of matrices with columns of norm 1
        inner = (VhgV - vectors_h @ (vectors * diagonal.real[..., None, :])) / functions.conj(gaps(values))
        if grad_values is not None:
            inner = inner + diagonal_matrix(grad_values - inner.diagonal(0, -2, -1))
        return functions.solve(vectors_h, inner @ vectors_h)


class Pinv(LinalgOp):
    """The Moore-Penrose pseudo-inverse A⁺ (*, n, m) of A (*, m, n), from the SVD: the singular
    values at most max(atol, rtol · σ_max) are taken as 0."""

    node_name = "LinalgPinvBackward0"
    formula = "A⁺ = V S⁺ Uᴴ"
    derivatives = ("PyTorch's pinv_backward: products of A, A⁺ and grad", None, None)

    @staticmethod
    def forward(ctx, A, atol, rtol):
        U, S, Vh = thin_svd(A)
        largest = xp.max(S, axis=-1, keepdims=True) if S.shape[-1] else xp.zeros(S.shape[:-1] + (1,), dtype=S.dtype)
        cutoff = xp.maximum(atol, rtol * largest)
        kept = S > cutoff
        inverse_S = xp.where(kept, 1.0 / xp.where(kept, S, 1.0), 0.0).astype(S.dtype)
        pinv = adjoint(Vh, array_functions) @ (inverse_S[..., :, None] * adjoint(U, array_functions))
        ctx.save_for_backward(A, pinv)
        return pinv

    @staticmethod
    def backward(ctx, grad_output):
        A, pinv = ctx.saved_tensors
        pinv_t, grad_t = adjoint(pinv, ctx.xp), adjoint(grad_output, ctx.xp)
        if A.shape[-2] <= A.shape[-1]:
            K = grad_t @ pinv
            K_pinv_t = K @ pinv_t
            return (-adjoint(pinv @ K, ctx.xp) + K_pinv_t - (A @ pinv) @ K_pinv_t
                    + (pinv_t @ pinv) @ (grad_t - K @ A)), None, None
        K = pinv @ grad_t
        pinv_t_K = pinv_t @ K
        return (-adjoint(K @ pinv, ctx.xp) + (grad_t - A @ K) @ pinv @ pinv_t
                + pinv_t_K - pinv_t_K @ pinv @ A), None, None


class MatrixExp(LinalgOp):
    node_name = "LinalgMatrixExpBackward0"
    formula = "e^A = Σ_k A^k / k!"
    derivatives = ("the upper right block of exp([[Aᴴ, grad], [0, Aᴴ]])",)

    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        return matrix_exp_array(A)

    @staticmethod
    def backward(ctx, grad_output):
        (A,) = ctx.saved_tensors
        size = A.shape[-1]
        A_h = adjoint(A, ctx.xp)
        top = ctx.xp.concatenate([A_h, grad_output], -1)
        bottom = ctx.xp.concatenate([ctx.xp.zeros_like(A_h), A_h], -1)
        block = ctx.xp.matrix_exp(ctx.xp.concatenate([top, bottom], -2))
        return block[..., :size, size:]


# ----------------------------------------------------------------------------- public functions
def inv(A):
    """A⁻¹ for A (*, n, n); LinAlgError where a matrix is singular."""
    return inverse_for(A, "linalg.inv")


def inverse_for(A, operation):
    """A⁻¹, errors naming ``operation`` (the public function called)."""
    check_matrices(A, operation)
    check_precision(A, operation)
    return Inverse.apply(A, operation)


@public(out=True)
def inverse(input):
    """A⁻¹ for A (*, n, n), as ``linalg.inv``."""
    return inv(input)


def inv_ex(A, *, check_errors=False):
    """(inverse, info): info (*,) int32 is 0 where a matrix was inverted, else the position of LU's
    first zero pivot (that inverse is then nan); LinAlgError only with ``check_errors``."""
    check_matrices(A, "linalg.inv_ex")
    return linalg_inv_ex(computed_where_possible(lambda each: inverse_for(each, "linalg.inv_ex"), A, "inversion", "linalg.inv_ex", check_errors))


@public
def det(A):
    """det A for A (*, n, n) -> (*). Its gradient is the cofactor matrix, also where A is singular."""
    check_matrices(A, "linalg.det", kernel="lu_cpu")
    return Det.apply(A)


def slogdet(A):
    """(sign, logabsdet) with det A = sign · exp(logabsdet), without overflow: A (*, n, n) -> (*), (*).
    A singular matrix has sign 0 and logabsdet -inf."""
    check_matrices(A, "linalg.slogdet")
    check_precision(A, "linalg.slogdet")
    return linalg_slogdet(Slogdet.apply(A))


@public(name="slogdet", out=True)
def sign_and_log_of_det(input):
    """``linalg.slogdet`` as ``torch.slogdet`` returns it (a ``slogdet`` named tuple)."""
    return slogdet_result(slogdet(input))


@public
def logdet(input):
    """log det A for A (*, n, n) -> (*): nan where det A < 0 (with a zero gradient, as PyTorch's),
    -inf where A is singular; of a complex A, log sign + log |det A|."""
    check_precision(input, "logdet")
    sign, logabsdet = slogdet(input)
    if input.is_complex():
        return sign.log() + logabsdet
    return registry.functions.where(sign < 0, xp.nan, logabsdet)


def solve(A, B, *, left=True):
    """X with A X = B (``left``) or X A = B: A (*, n, n), B (*, n, k) or a vector B (*, n) (when
    B has one dimension less than A, or is 1-D), batch dimensions broadcast."""
    return solution_for(A, B, left, "torch.linalg.solve")


def solution_for(A, B, left, operation):
    """``solve``, errors naming ``operation`` (the public function called)."""
    check_matrices(A, "linalg.solve")
    check_same_dtype(A, B, "linalg.solve: Expected A and B to have the same dtype, but found A of type {A} and B of type {B} instead.")
    vector = B._array.ndim == 1 or B._array.shape == A._array.shape[:-1]
    size = A._array.shape[-1]
    if not left:
        columns = 1 if vector else B._array.shape[-1]  # X A = b has no vector form
        if columns != size:
            shown = f"{B._array.shape[-1]}x1" if vector else f"{B._array.shape[-2]}x{B._array.shape[-1]}"
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation XA = B ({size}x{size} and {shown})")
        return transposed(solution_for(transposed(A), transposed(B), True, operation))
    rows = B._array.shape[-1] if vector else B._array.shape[-2] if B._array.ndim >= 2 else None
    if rows != size:
        shown = f"{size}x{size} and {B._array.shape[-1]}" if vector else f"{size}x{size} and {B._array.shape[-2]}x{B._array.shape[-1]}"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B ({shown})")
    common_shape((B._array.shape[: -1 if vector else -2], A._array.shape[:-2]), "linalg.solve")  # B's first, as PyTorch's message counts them
    check_kernel(A, "lu_cpu")
    if vector:
        return shape.squeeze(Solve.apply(A, shape.unsqueeze(B, -1), operation), -1)
    return Solve.apply(A, B, operation)


def solve_ex(A, B, *, left=True, check_errors=False):
    """(result, info) of ``solve``: info (*,) int32 is 0 where A was invertible, else the position of
    LU's first zero pivot (that result is then nan); LinAlgError only with ``check_errors``."""
    check_matrices(A, "linalg.solve_ex")
    operation = "torch.linalg.solve_ex"
    return linalg_solve_ex(computed_where_possible(
        lambda each: solution_for(each, B, left, operation), A, "solver", operation, check_errors
    ))


def cholesky(A, *, upper=False):
    """L lower triangular with A = L Lᴴ, for Hermitian (real: symmetric) positive-definite A (*, n, n)
    (read from its lower triangle); with ``upper``, U = Lᴴ (A = Uᴴ U). LinAlgError if A is not positive-definite."""
    return factor_for(A, upper, "linalg.cholesky")


def factor_for(A, upper, operation):
    """``cholesky``, errors naming ``operation`` (the public function called)."""
    check_matrices(A, operation, kernel="cholesky_cpu")
    lower = Cholesky.apply(A, operation)
    return lower.mH if upper else lower


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info) of ``cholesky``: info (*,) int32 is 0 where A is positive-definite, else the order of
    its first leading minor that is not (L is then nan); LinAlgError only with ``check_errors``."""
    check_matrices(A, "linalg.cholesky_ex")
    return linalg_cholesky_ex(computed_where_possible(
        lambda each: factor_for(each, upper, "linalg.cholesky_ex"), A, "factorization", "linalg.cholesky_ex", check_errors
    ))


def qr(A, mode="reduced"):
    """(Q, R) with A = Q R, Q orthonormal columns, R upper triangular: A (*, m, n) -> Q (*, m, k),
    R (*, k, n), k = min(m, n) (mode 'reduced'); mode 'r' gives R only (Q empty), 'complete' a
    square Q (*, m, m)."""
    check_matrices(A, "linalg.qr", square=False)
    if mode not in ("reduced", "r", "complete"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'")
    check_kernel(A, "geqrf_cpu")
    return linalg_qr(Qr.apply(A, mode))


def svd(A, full_matrices=True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh: A (*, m, n) -> U (*, m, k), S (*, k) descending, Vh (*, k, n)
    with k = min(m, n) when not ``full_matrices``. With it, U is (*, m, m) and Vh (*, n, n): their
    extra columns (rows) complete an orthonormal basis, any basis of that complement would do, so
    they get no gradient (as PyTorch ignores theirs). Gradients need distinct singular values.
    ``driver`` (a cuSOLVER algorithm) is for CUDA tensors only, as in PyTorch."""
    check_matrices(A, "linalg.svd", square=False, kernel="linalg_svd_cpu")
    check_no_driver(driver)
    U, S, Vh = Svd.apply(A)
    rows, columns = A._array.shape[-2:]
    if not full_matrices or rows == columns:
        return linalg_svd((U, S, Vh))
    U_full, _, Vh_full = converged(linalg.svd, "linalg.svd", A._array)
    k = S._array.shape[-1]
    U = cat([U, tensor_from_array(U_full[..., k:])], -1)
    Vh = cat([Vh, tensor_from_array(Vh_full[..., k:, :])], -2)
    return linalg_svd((U, S, Vh))


def svdvals(A, *, driver=None):
    """The singular values of A (*, m, n) -> (*, min(m, n)), descending."""
    check_matrices(A, "linalg.svdvals", square=False, kernel="linalg_svd_cpu")
    check_no_driver(driver)
    return Svd.apply(A)[1]


def check_no_driver(driver):
    """PyTorch's refusal of svd's ``driver`` on the CPU (where chainrule's tensors are)."""
    if driver is not None:
        raise RuntimeError(
            f"torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with cuSOLVER backend "
            f"(got driver={driver!r}); leave it out on the CPU"
        )


def eigh(A, UPLO="L"):
    """(eigenvalues, eigenvectors) of symmetric A (*, n, n): λ (*, n) ascending and V (*, n, n)
    orthonormal with A = V diag(λ) Vᵀ, from the triangle UPLO ('L' or 'U', either case). Gradients
    of V need distinct eigenvalues."""
    check_matrices(A, "linalg.eigh", floating=False, kernel="linalg_eigh_cpu")
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return linalg_eigh(Eigh.apply(A, UPLO.upper()))


def eig(A):
    """(eigenvalues, eigenvectors) of square A (*, n, n): λ (*, n) and V (*, n, n), complex even for
    a real A, with A V = V diag(λ); each eigenvector has norm 1 and is defined up to a factor e^{iφ}
    (a loss that depends on that phase has no gradient: RuntimeError, as PyTorch's)."""
    check_matrices(A, "linalg.eig", floating=False)
    if A._array.dtype.kind in "biu":
        raise RuntimeError(f"Unknown Complex ScalarType for {type_name(A)}; convert A first, e.g. A.double()")
    check_kernel(A, "linalg_eig_out_cpu")
    if not xp.isfinite(A._array).all():
        raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")
    return linalg_eig(Eig.apply(A))


def eigvals(A):
    """The eigenvalues of square A (*, n, n) -> (*, n), complex (in LAPACK's order, not sorted)."""
    return eig(A).eigenvalues


def eigvalsh(A, UPLO="L"):
    """The eigenvalues of symmetric A (*, n, n) -> (*, n), ascending."""
    return eigh(A, UPLO).eigenvalues


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The pseudo-inverse A⁺ (*, n, m) of A (*, m, n): V diag(1/σ) Uᵀ over the singular values
    above max(atol, rtol · σ_max); rtol defaults to eps · max(m, n) when atol is not given (else 0)."""
    check_matrices(A, "linalg.pinv", square=False)
    check_precision(A, "linalg.pinv")
    atol, rtol = tolerances(A, atol, rtol)
    return Pinv.apply(A, atol, rtol)


def tolerances(A, atol, rtol):
    """PyTorch's default tolerances of pinv and matrix_rank, as numbers."""
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else xp.finfo(A._array.dtype).eps * max(A._array.shape[-2:])
    return (0.0 if atol is None else atol), rtol


@public
def pinverse(input, rcond=1e-15):
    """The pseudo-inverse, with singular values below rcond · σ_max taken as 0."""
    return pinv(input, rtol=rcond)


@public
def matrix_exp(A):
    """e^A = Σ_k A^k / k! for A (*, n, n)."""
    check_matrices(A, "linalg.matrix_exp")
    return MatrixExp.apply(A)


@public(out=True)
def matrix_power(A, n):
    """A^n for A (*, n, n) by repeated squaring (A⁻¹ to the power -n for negative n; the identity
    for n = 0). Integer matrices have integer powers (n >= 0)."""
    check_matrices(A, "linalg.matrix_power", floating=False)
    if n == 0:
        # identities that stay in the graph with a zero gradient, as PyTorch's
        return A * 0 + tensor_from_array(xp.eye(A._array.shape[-1], dtype=A._array.dtype))
    power, remaining, result = inv(A) if n < 0 else A, abs(n), None
    while True:  # result = Π of power^(2^i) over the bits i of |n|
        if remaining & 1:
            result = power if result is None else matmul(result, power)
        remaining >>= 1
        if not remaining:
            return result
        power = matmul(power, power)


@public(out=True)
def cholesky_solve(B, L, upper=False):
    """X with A X = B, where A = L Lᴴ (or Uᴴ U with ``upper``) is given by its Cholesky factor:
    B (*, n, k), L (*, n, n), of which only the triangle named by ``upper`` is read."""
    check_same_dtype(L, B, "Expected b and A to have the same dtype, but found b of type {B} and A of type {A} instead.")
    if B.ndim < 2:
        raise RuntimeError(
            f"b should have at least 2 dimensions, but has {B.ndim} dimensions instead (cholesky_solve: "
            f"a vector of right-hand sides is a column, b.unsqueeze(-1))"
        )
    check_kernel(L, "cholesky_solve_cpu")
    factor = L.triu().mH if upper else L.tril()
    return solve(matmul(factor, factor.mH), B)


@public(out=True)
def cholesky_inverse(L, upper=False):
    """A⁻¹ where A = L Lᴴ (or Uᴴ U with ``upper``) is given by its Cholesky factor L (*, n, n) (only
    its triangle is read)."""
    check_kernel(L, "cholesky_inverse_out_cpu")
    check_matrices(L, "cholesky_inverse", floating=False)
    factor = L.triu().mH if upper else L.tril()
    return inverse_for(matmul(factor, factor.mH), "cholesky_inverse")


class TensorFunctions:
    """``ctx.xp`` of a recorded backward here: chainrule's public functions, with ``solve`` and the
    reduced ``svd`` (which are not public under these names)."""

    solve = staticmethod(solve)
    svd = staticmethod(Svd.apply)

    def __getattr__(self, name):
        return getattr(registry.functions, name)


on_tensors = TensorFunctions()
