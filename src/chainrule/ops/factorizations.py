"""The LU factorization and Householder reflectors, as LAPACK computes them and PyTorch returns them:
lu_factor, lu, lu_unpack, lu_solve (getrf, getrs), geqrf, householder_product (orgqr) and ormqr.

NumPy has no LU and no access to geqrf's reflectors, so both are written here on arrays, one column
at a time and vectorized over the batch (``lu_factor_array`` in decompositions.py, ``geqrf_array``
below): teaching-size matrices, and PyTorch's values (the same pivots, the same reflectors).

With A = P L U (A (*, m, n), L (*, m, k) unit lower triangular, U (*, k, n), k = min(m, n)) and
G_L, G_U the arriving gradients, the gradient is PyTorch's linalg_lu_backward; for square A

    dA = P L⁻ᴴ [tril₋₁(Lᴴ G_L) + triu(G_U Uᴴ)] U⁻ᴴ

(ᴴ the conjugate transpose, the transpose for real numbers) and for a wide or tall A the same with the square blocks L₁ (U₁) and the rest of G_U (G_L) added.
Everything else here (lu_unpack, lu_solve, householder_product, ormqr) is built from differentiable
operations, so its gradients come with them.
"""

import functools

from chainrule import dtypes
from chainrule.autograd.function import checked, computed_without_gradient
from chainrule.backend import array_functions, xp
from chainrule.ops import shape
from chainrule.ops.decompositions import (
    LinalgOp,
    adjoint,
    batch_flattened,
    check_kernel,
    check_matrices,
    check_same_dtype,
    lu_factor_array,
    solve,
    transposed,
)
from chainrule.ops.join import cat
from chainrule.ops.matmul import matmul
from chainrule.ops.registry import public
from chainrule.tensor import tensor_from_array
from chainrule.return_types import return_type

linalg_lu_factor = return_type("linalg_lu_factor", ["LU", "pivots"])
linalg_lu_factor_ex = return_type("linalg_lu_factor_ex", ["LU", "pivots", "info"])
linalg_lu = return_type("linalg_lu", ["P", "L", "U"])
lu_unpack_result = return_type("lu_unpack", ["P", "L", "U"])
geqrf_result = return_type("geqrf", ["a", "tau"])
linalg_ldl_factor = return_type("linalg_ldl_factor", ["LD", "pivots"])
linalg_ldl_factor_ex = return_type("linalg_ldl_factor_ex", ["LD", "pivots", "info"])


# ----------------------------------------------------------------------------- on arrays
def permutation_matrices(pivots, size):
    """P (*, size, size) with A = P L U from LAPACK's pivots (*, k) (from 1): row j of A was swapped
    with row pivots[j] - 1, in order j = 0, 1, ..."""
    flat = batch_flattened(pivots, 1).astype(dtypes.int64) - 1
    batch = xp.arange(flat.shape[0])
    order = xp.broadcast_to(xp.arange(size), (flat.shape[0], size)).copy()  # row i of P A is row order[i] of A
    for j in range(flat.shape[1]):
        swapped = order[batch, flat[:, j]]
        order[batch, flat[:, j]] = order[:, j]
        order[:, j] = swapped
    rows_of_PA = xp.eye(size, dtype=dtypes.float64)[order]
    return transposed(rows_of_PA).reshape(pivots.shape[:-1] + (size, size))


def unpacked_factors(LU, functions, unit=True):
    """(L, U) from LU (*, m, n) as lu_factor packs them: L (*, m, k) below the diagonal with ones on
    it (zeros without ``unit``), U (*, k, n) on and above (on arrays with xp, on tensors with
    chainrule's functions)."""
    rows, columns = LU.shape[-2:]
    steps = min(rows, columns)
    lower = functions.tril(LU[..., :, :steps], -1)
    if unit:
        lower = lower + xp.eye(rows, steps, dtype=LU.dtype)
    return lower, functions.triu(LU[..., :steps, :])


def geqrf_array(matrices):
    """LAPACK's geqrf on arrays: the QR factorization of each matrix of (*, m, n) as k = min(m, n)
    Householder reflectors H_j = I - tau_j v_j v_jᴴ (Q = H_1 ... H_k), in LAPACK's form: R on and above
    the diagonal of ``a``, each v_j below it (v_j's first nonzero element is an implicit 1), and tau
    (*, k). Each reflector is LAPACK's dlarfg (zlarfg): H_jᴴ maps the column x = (alpha, x₂) to
    (beta, 0, ..., 0), beta = -sign(Re alpha) ‖x‖ (real), and is the identity (tau = 0) where x₂
    is zero and alpha real."""
    rows, columns = matrices.shape[-2:]
    steps = min(rows, columns)
    a = batch_flattened(matrices).copy()
    tau = xp.zeros((a.shape[0], steps), dtype=a.dtype)
    for j in range(steps):
        alpha, below = a[:, j, j], a[:, j + 1 :, j]
        tail_norm = xp.sqrt(xp.sum(xp.abs(below) ** 2, axis=1))
        reflects = (tail_norm != 0) | (alpha.imag != 0)
        beta = -xp.copysign(xp.hypot(xp.abs(alpha), tail_norm), alpha.real)
        tau[:, j] = xp.where(reflects, (beta - alpha) / xp.where(reflects, beta, 1), 0)
        scale = xp.where(reflects, 1 / xp.where(reflects, alpha - beta, 1), 1)
        a[:, j + 1 :, j] = below * scale[:, None]
        a[:, j, j] = xp.where(reflects, beta, alpha)
        v = xp.concatenate([xp.ones((a.shape[0], 1), dtype=a.dtype), a[:, j + 1 :, j]], axis=1)
        rest = a[:, j:, j + 1 :]
        rest -= array_functions.conj(tau[:, j, None, None]) * v[:, :, None] * xp.einsum("bi,bij->bj", array_functions.conj(v), rest)[:, None, :]
    return a.reshape(matrices.shape), tau.reshape(matrices.shape[:-2] + (steps,))


def factored(A):
    """(LU, pivots, info, P) of A = P L U, P in A's dtype."""
    LU, pivots, info = lu_factor_array(A)
    return LU, pivots, info, permutation_matrices(pivots, A.shape[-2]).astype(A.dtype)


#: Bunch and Kaufman's threshold: a 1 x 1 pivot is kept while it is at least this fraction of the
#: largest element below it (it bounds the growth of the factors; LAPACK's sytf2 uses the same).
BUNCH_KAUFMAN_ALPHA = (1 + 17**0.5) / 8


def ldl_factor_array(matrices):
    """LAPACK's sytrf (lower, unblocked as sytf2: matrices up to 64 x 64 take exactly that path) on
    arrays, matrix by matrix: A = L D Lᵀ with symmetric pivoting, D of 1 x 1 and 2 x 2 blocks chosen
    by Bunch and Kaufman's rule. Returns (LD (*, n, n): D on the diagonal (and the subdiagonal of its
    2 x 2 blocks), L's multipliers below; pivots (*, n) int32 as LAPACK's ipiv: k for a 1 x 1 block
    whose rows k and ipiv[k] were swapped, -kp twice for a 2 x 2 block; info (*,) int32, the first
    zero block, from 1)."""
    size = matrices.shape[-1]
    flat = batch_flattened(matrices)
    results = [symmetric_pivoted_factors(matrix) for matrix in flat]
    LD = xp.stack([each[0] for each in results]) if results else flat.copy()
    pivots = xp.asarray([each[1] for each in results], dtype=dtypes.int32).reshape(matrices.shape[:-1])
    info = xp.asarray([each[2] for each in results], dtype=dtypes.int32).reshape(matrices.shape[:-2])
    return LD.reshape(matrices.shape), pivots, info


def symmetric_pivoted_factors(matrix):
    """(LD, pivots, info) of one matrix, read from its lower triangle: LAPACK's dsytf2 with uplo 'L'.
    The trailing block is kept symmetric, so that each of sytf2's swaps is one symmetric swap here."""
    size = matrix.shape[-1]
    a = xp.tril(matrix) + transposed(xp.tril(matrix, -1))
    pivots, info, k = [0] * size, 0, 0
    while k < size:
        step, absolute = 1, xp.abs(a[:, k])
        diagonal = float(absolute[k])
        below = k + 1 + int(xp.argmax(absolute[k + 1 :])) if k + 1 < size else k
        column_max = float(absolute[below]) if k + 1 < size else 0.0
        if max(diagonal, column_max) == 0 or diagonal != diagonal:  # a zero column (or nan): D_kk = 0
            info = info or k + 1
            pivots[k] = k + 1
            k += 1
            continue
        chosen = k
        if diagonal < BUNCH_KAUFMAN_ALPHA * column_max:
            row = xp.abs(a[below, k:])  # row `below` of the trailing block, symmetric: its column too
            row[below - k] = 0
            row_max = float(xp.max(row))
            if diagonal >= BUNCH_KAUFMAN_ALPHA * column_max * (column_max / row_max):
                chosen = k
            elif abs(float(a[below, below])) >= BUNCH_KAUFMAN_ALPHA * row_max:
                chosen = below
            else:
                chosen, step = below, 2
        swapped = k + step - 1
        if chosen != swapped:  # the symmetric swap of rows and columns in the trailing block
            a[[swapped, chosen], k:] = a[[chosen, swapped], k:]
            a[k:, [swapped, chosen]] = a[k:, [chosen, swapped]]
        if step == 1:
            multipliers = a[k + 1 :, k] / a[k, k]
            a[k + 1 :, k + 1 :] -= xp.outer(multipliers, a[k + 1 :, k])
            a[k + 1 :, k] = multipliers
            pivots[k] = chosen + 1
        else:
            if k + 2 < size:
                off = a[k + 1, k]
                d11, d22 = a[k + 1, k + 1] / off, a[k, k] / off
                scale = 1 / (d11 * d22 - 1) / off
                first, second = a[k + 2 :, k], a[k + 2 :, k + 1]
                w_first, w_second = scale * (d11 * first - second), scale * (d22 * second - first)
                a[k + 2 :, k + 2 :] -= xp.outer(first, w_first) + xp.outer(second, w_second)
                a[k + 2 :, k], a[k + 2 :, k + 1] = w_first, w_second
            pivots[k] = pivots[k + 1] = -(chosen + 1)
        k += step
    return xp.tril(a), pivots, info


def ldl_solve_array(LD, pivots, B):
    """X with A X = B for A given by sytrf's (LD, pivots): LAPACK's sytrs (lower), matrix by matrix;
    LD (*, n, n), B (*, n, k), batch dimensions broadcast."""
    batch = xp.broadcast_shapes(LD.shape[:-2], B.shape[:-2])
    LD = batch_flattened(xp.broadcast_to(LD, batch + LD.shape[-2:]))
    pivots = batch_flattened(xp.broadcast_to(pivots, batch + pivots.shape[-1:]), 1)
    B = batch_flattened(xp.broadcast_to(B, batch + B.shape[-2:]))
    solutions = [solved_by_factors(*each) for each in zip(LD, pivots, B)]
    result = xp.stack(solutions) if solutions else B.copy()
    return result.reshape(batch + B.shape[-2:])


def solved_by_factors(a, ipiv, b):
    """sytrs on one matrix: L D Y = B forward, block by block, then Lᵀ X = Y backward."""
    size, x, k = a.shape[-1], b.copy(), 0
    while k < size:
        if ipiv[k] > 0:
            swap_rows(x, k, ipiv[k] - 1)
            x[k + 1 :] -= xp.outer(a[k + 1 :, k], x[k])
            x[k] = x[k] / a[k, k]
            k += 1
            continue
        swap_rows(x, k + 1, -ipiv[k] - 1)
        x[k + 2 :] -= xp.outer(a[k + 2 :, k], x[k]) + xp.outer(a[k + 2 :, k + 1], x[k + 1])
        off = a[k + 1, k]
        first, second = a[k, k] / off, a[k + 1, k + 1] / off
        denominator = first * second - 1
        top, bottom = x[k] / off, x[k + 1] / off
        x[k], x[k + 1] = (second * top - bottom) / denominator, (first * bottom - top) / denominator
        k += 2
    k = size - 1
    while k >= 0:
        x[k] -= a[k + 1 :, k] @ x[k + 1 :]
        if ipiv[k] > 0:
            swap_rows(x, k, ipiv[k] - 1)
            k -= 1
            continue
        x[k - 1] -= a[k + 1 :, k - 1] @ x[k + 1 :]
        swap_rows(x, k, -ipiv[k] - 1)
        k -= 2
    return x


def swap_rows(values, first, second):
    if first != second:
        values[[first, second]] = values[[second, first]]


# ----------------------------------------------------------------------------- gradients
def left_divide(matrix, values, functions):
    """matrix⁻¹ values."""
    return functions.solve(matrix, values)


def right_divide(values, matrix, functions):
    """values matrix⁻¹, from (matrixᵀ)⁻¹ valuesᵀ."""
    return transposed(functions.solve(transposed(matrix), transposed(values)))


def lu_backward(grad_L, grad_U, P, L, U, functions):
    """dA of A = P L U (PyTorch's linalg_lu_backward), for square, wide (m < n) and tall (m > n) A."""
    if grad_L is None and grad_U is None:
        return None
    rows, columns = L.shape[-2], U.shape[-1]
    if rows == columns:
        inner = None
        if grad_L is not None:
            inner = functions.tril(adjoint(L, functions) @ grad_L, -1)
        if grad_U is not None:
            upper = functions.triu(grad_U @ adjoint(U, functions))
            inner = upper if inner is None else inner + upper
        return P @ left_divide(adjoint(L, functions), right_divide(inner, adjoint(U, functions), functions), functions)
    if rows < columns:  # U = [U₁ | U₂] with U₁ square
        inner = adjoint(L, functions) @ grad_L if grad_L is not None else None
        if grad_U is not None:
            upper = functions.triu(grad_U) @ adjoint(U, functions)
            inner = -upper if inner is None else inner - upper
        grad = right_divide(functions.tril(inner, -1), adjoint(U[..., :rows], functions), functions)
        if grad_U is not None:
            grad = functions.concatenate([grad + functions.triu(grad_U[..., :rows]), grad_U[..., rows:]], -1)
        grad = left_divide(adjoint(L, functions), grad, functions)
        if grad_U is None:
            grad = functions.concatenate([grad, functions.zeros_like(U[..., rows:])], -1)
        return P @ grad
    # tall: L = [L₁; L₂] with L₁ square
    inner = grad_U @ adjoint(U, functions) if grad_U is not None else None
    if grad_L is not None:
        lower = adjoint(L, functions) @ functions.tril(grad_L, -1)
        inner = -lower if inner is None else inner - lower
    grad = left_divide(adjoint(L[..., :columns, :], functions), functions.triu(inner), functions)
    if grad_L is not None:
        grad = functions.concatenate([grad + functions.tril(grad_L[..., :columns, :], -1), grad_L[..., columns:, :]], -2)
    grad = right_divide(grad, adjoint(U, functions), functions)
    if grad_L is None:
        grad = functions.concatenate([grad, functions.zeros_like(L[..., columns:, :])], -2)
    return P @ grad


# ----------------------------------------------------------------------------- the operations
class LuFactor(LinalgOp):
    """A (*, m, n) -> LU (*, m, n) (L's multipliers below the diagonal, U on and above), pivots
    (*, k) int32 from 1, info (*,) int32 (the first zero pivot, from 1; 0 where there is none)."""

    node_name = "LinalgLuFactorExBackward0"
    formula = "LU = (L - I) + U, pivots with A = P L U"
    derivatives = ("P L⁻ᴴ [tril₋₁(Lᴴ G_L) + triu(G_U Uᴴ)] U⁻ᴴ, G_L = tril₋₁(grad), G_U = triu(grad)",)

    @staticmethod
    def forward(ctx, A):
        ctx.set_materialize_grads(False)
        LU, pivots, info, ctx.permutation = factored(A)
        ctx.save_for_backward(LU)
        return LU, pivots, info

    @staticmethod
    def backward(ctx, grad_LU, grad_pivots, grad_info):
        (LU,) = ctx.saved_tensors
        if grad_LU is None:
            return None
        L, U = unpacked_factors(LU, ctx.xp)
        grad_L, grad_U = unpacked_factors(grad_LU, ctx.xp, unit=False)
        return lu_backward(grad_L, grad_U, ctx.permutation, L, U, ctx.xp)


class Lu(LinalgOp):
    """A (*, m, n) -> P (*, m, m), L (*, m, k), U (*, k, n) with A = P L U, k = min(m, n)."""

    node_name = "LinalgLuBackward0"
    formula = "P, L, U with A = P L U, L unit lower triangular, U upper triangular"
    derivatives = ("P L⁻ᴴ [tril₋₁(Lᴴ G_L) + triu(G_U Uᴴ)] U⁻ᴴ (PyTorch's linalg_lu_backward)",)

    @staticmethod
    def forward(ctx, A):
        ctx.set_materialize_grads(False)
        LU, _, _, P = factored(A)
        L, U = unpacked_factors(LU, xp)
        ctx.save_for_backward(P, L, U)
        return P, L, U

    @staticmethod
    def backward(ctx, grad_P, grad_L, grad_U):
        P, L, U = ctx.saved_tensors
        return lu_backward(grad_L, grad_U, P, L, U, ctx.xp)


class Geqrf(LinalgOp):
    """A (*, m, n) -> a (*, m, n), tau (*, k): LAPACK's Householder form of A = QR. As in PyTorch,
    it has no derivative (differentiate linalg.qr instead)."""

    node_name = "GeqrfBackward0"
    formula = "a, tau with A = H_1 ... H_k R, H_j = I - tau_j v_j v_jᵀ"
    derivatives = ("not implemented (as in PyTorch): use linalg.qr",)

    @staticmethod
    def forward(ctx, A):
        return geqrf_array(A)

    @staticmethod
    def backward(ctx, grad_a, grad_tau):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


class LdlFactor(LinalgOp):
    """A (*, n, n) symmetric -> LD (*, n, n), pivots (*, n), info (*,): LAPACK's sytrf. As in
    PyTorch, it has no derivative."""

    node_name = "LinalgLdlFactorExBackward0"
    formula = "LD, pivots with P A Pᵀ = L D Lᵀ (Bunch-Kaufman)"
    derivatives = ("not implemented (as in PyTorch)",)

    @staticmethod
    def forward(ctx, A):
        return ldl_factor_array(A)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


class LdlSolve(LinalgOp):
    """X with A X = B, A given by sytrf's (LD, pivots): LAPACK's sytrs. As in PyTorch, no derivative."""

    node_name = "LinalgLdlSolveBackward0"
    formula = "A⁻¹ B, A = L D Lᵀ from (LD, pivots)"
    derivatives = ("not implemented (as in PyTorch)", None, "not implemented (as in PyTorch)")

    @staticmethod
    def forward(ctx, LD, pivots, B):
        return ldl_solve_array(LD, pivots, B)

    @staticmethod
    def backward(ctx, grad_output):
        raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")


# ----------------------------------------------------------------------------- public functions
def check_lu_input(A):
    """PyTorch's checks on the matrix of lu_factor and lu."""
    if A._array.ndim < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: {list(A._array.shape)} instead")
    check_kernel(A, "lu_cpu")


def no_pivoting_refused(pivot):
    if not pivot:
        raise RuntimeError(
            "linalg.lu_factor: LU without pivoting is not implemented on the CPU; use pivot=True (the default)"
        )


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info): LU (*, m, n) holds L's multipliers below the diagonal and U on and above,
    pivots (*, min(m, n)) int32 from 1 (LAPACK's, as PyTorch's), info (*,) int32 the position of
    the first zero pivot (0 where none; a RuntimeError then only with ``check_errors``)."""
    check_lu_input(A)
    no_pivoting_refused(pivot)
    LU, pivots, info = LuFactor.apply(A)
    if check_errors:
        _check_info(info, "torch.linalg.lu_factor_ex", zero_pivot_error)
    return linalg_lu_factor_ex((LU, pivots, info))


def lu_factor(A, *, pivot=True):
    """(LU, pivots) of A = P L U, A (*, m, n): L's multipliers below LU's diagonal, U on and above,
    pivots (*, min(m, n)) int32 from 1. RuntimeError where U has a zero on its diagonal (the matrix
    is singular); ``lu_factor_ex`` and ``lu`` factor those too."""
    check_lu_input(A)
    no_pivoting_refused(pivot)
    LU, pivots, info = LuFactor.apply(A)
    _check_info(info, "torch.linalg.lu_factor", zero_pivot_error)
    return linalg_lu_factor((LU, pivots))


def _check_info(info, operation, error):
    """Raise ``error(operation, info)`` where a matrix failed (``info`` not 0), checked again on
    each call of a compiled step (a later batch's matrix may be singular)."""
    checked(computed_without_gradient(_succeeded, [info]), functools.partial(_info_error, error, operation), info)


def _succeeded(info):
    return info == 0


def _info_error(error, operation, info):
    return error(operation, info._array)


def zero_pivot_error(operation, info):
    """PyTorch's error for the first matrix whose LU has a zero pivot (U[i, i] = 0, i from 1)."""
    first = int(xp.flatnonzero(info.reshape(-1))[0])
    where = f"(Batch element {first}): " if info.ndim else ""
    position = int(info.reshape(-1)[first])
    return RuntimeError(  # a RuntimeError, not a LinAlgError, as PyTorch's
        f"{operation}: {where}U[{position},{position}] is zero and using it on lu_solve would result in a division by "
        f"zero. If you still want to perform the factorization, consider calling linalg.lu(A, pivot) or "
        f"linalg.lu_factor_ex(A, pivot)"
    )


def lu(A, *, pivot=True):
    """(P, L, U) with A = P L U: A (*, m, n) -> P (*, m, m) a permutation, L (*, m, k) unit lower
    triangular, U (*, k, n) upper triangular, k = min(m, n). Singular matrices factor too."""
    check_lu_input(A)
    no_pivoting_refused(pivot)
    return linalg_lu(Lu.apply(A))


def check_pivots(pivots, operation, note=""):
    if pivots._array.dtype != dtypes.int32:
        raise RuntimeError(f"{operation}{note}")


@public(method=False, out=True)
def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """(P, L, U) from lu_factor's (LU, pivots): LU (*, m, n), pivots (*, k) int32 -> P (*, m, m),
    L (*, m, k), U (*, k, n). What is not unpacked is an empty tensor."""
    check_pivots(LU_pivots, "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype.",
                 "\nNote: this function is intended to be used with the output produced by torch.linalg.lu_factor")
    empty = tensor_from_array(xp.zeros((0,), dtype=LU_data._array.dtype))
    P = permutation_tensor(LU_pivots, LU_data) if unpack_pivots else empty
    L, U = unpacked_factors(LU_data, on_tensors) if unpack_data else (empty, empty)
    return lu_unpack_result((P, L, U))


def permutation_tensor(pivots, LU):
    return tensor_from_array(permutation_matrices(pivots._array, LU._array.shape[-2]).astype(LU._array.dtype))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (``left``) or X A = B, or with Aᵀ for A (``adjoint``), where A = P L U is
    given by lu_factor's (LU, pivots): LU (*, n, n), B (*, n, k) (left) or (*, k, n); batch
    dimensions broadcast. Differentiable with respect to LU and B."""
    check_matrices(LU, "torch.linalg.lu_solve")
    if B._array.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    check_pivots(pivots, "linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32")
    check_same_dtype(LU, B, "linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type {A} and B of type {B} instead.")
    size = LU._array.shape[-1]
    if (B._array.shape[-2] if left else B._array.shape[-1]) != size:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"linalg.lu_solve: Incompatible shapes of A and B for the equation {equation} "
            f"({size}x{size} and {B._array.shape[-2]}x{B._array.shape[-1]})"
        )
    check_kernel(LU, "linalg.lu_solve_cpu")
    if not left:  # X A = B is Aᴴ Xᴴ = Bᴴ
        return lu_solve(LU, pivots, B.mH, adjoint=not adjoint).mH
    P = permutation_tensor(pivots, LU)
    L, U = unpacked_factors(LU, on_tensors)
    if adjoint:  # Aᴴ = Uᴴ Lᴴ Pᵀ
        return matmul(P, solve(L.mH, solve(U.mH, B)))
    return solve(U, solve(L, matmul(transposed(P), B)))


@public(out=True)
def geqrf(input):
    """(a, tau): A (*, m, n) as LAPACK's Householder QR, R on and above a's diagonal, the reflectors'
    vectors below it, tau (*, min(m, n)) their scales (Q = householder_product(a, tau))."""
    check_matrices(input, "geqrf", square=False, floating=False, kernel="geqrf_cpu")
    return geqrf_result(Geqrf.apply(input))


def reflector_vectors(input, count):
    """V (*, m, count): the Householder vectors stored below input's diagonal, with the implicit 1 on it."""
    rows, columns = input._array.shape[-2:]
    vectors = input.tril(-1) + tensor_from_array(xp.eye(rows, columns, dtype=input._array.dtype))
    return vectors[..., :count]


def reflected(values, V, tau, order, left):
    """H_j values (``left``) or values H_j for each j of ``order`` in turn, H_j = I - tau_j v_j v_jᴴ."""
    for j in order:
        v, scale = V[..., j : j + 1], shape.unsqueeze(shape.unsqueeze(tau[..., j], -1), -1)
        if left:
            values = values - scale * matmul(v, matmul(v.mH, values))
        else:
            values = values - scale * matmul(matmul(values, v), v.mH)
    return values


def householder_product(A, tau):
    """The first n columns of Q = H_1 ... H_k, H_j = I - tau_j v_j v_jᴴ, v_j the j-th column of A
    (*, m, n) below its diagonal with a 1 on it: A (*, m, n), tau (*, k), k <= n <= m -> Q (*, m, n)."""
    operation = "torch.linalg.householder_product"
    if A._array.ndim < 2:
        raise RuntimeError(f"{operation}: input must have at least 2 dimensions.")
    rows, columns = A._array.shape[-2:]
    if rows < columns:
        raise RuntimeError(f"{operation}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if columns < tau._array.shape[-1]:
        raise RuntimeError(f"{operation}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if tau._array.shape[:-1] != A._array.shape[:-2]:
        raise RuntimeError(
            f"{operation}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got {list(tau._array.shape[:-1])}"
        )
    check_same_dtype(A, tau, operation + ": tau dtype {B} does not match input dtype {A}.")
    check_kernel(A, "orgqr_cpu")
    count = tau._array.shape[-1]
    # the identity with A's batch shape, in A's graph (with no reflectors, Q = I still has a gradient: 0)
    identity = A * 0 + tensor_from_array(xp.eye(rows, columns, dtype=A._array.dtype))
    return reflected(identity, reflector_vectors(A, count), tau, reversed(range(count)), left=True)


@public(out=True)
def orgqr(input, tau):
    """``linalg.householder_product``: the first n columns of the Q that geqrf's (a, tau) stand for."""
    return householder_product(input, tau)


@public(out=True)
def ormqr(input, tau, other, left=True, transpose=False):
    """Q C, C Q, Qᴴ C or C Qᴴ (``left``, ``transpose``) for C = other (*, m, n) and the full square Q
    = H_1 ... H_k of geqrf's (input (*, mn, k'), tau (*, k)), mn = m (left) or n, without forming Q."""
    operation = "torch.ormqr"
    for name, matrices in (("input", input), ("other", other)):
        if matrices._array.ndim < 2:
            raise RuntimeError(f"{operation}: {name} must have at least 2 dimensions.")
    rows, columns = other._array.shape[-2:]
    if left and rows != input._array.shape[-2]:
        raise RuntimeError(f"{operation}: other.shape[-2] must be equal to input.shape[-2]")
    if not left and columns != input._array.shape[-2]:
        raise RuntimeError(f"{operation}: other.shape[-1] must be equal to input.shape[-2]")
    count = tau._array.shape[-1]
    if count > min(rows if left else columns, input._array.shape[-1]):
        raise RuntimeError(f"{operation}: tau.shape[-1] must be equal to min(other.shape[-2], input.shape[-1])")
    check_same_dtype(input, other, operation + ": Expected input and other to have the same dtype, but input has dtype {A} and other has dtype {B}.")
    check_kernel(input, "ormqr_cpu")
    # Q C = H_1 (H_2 (... H_k C)): the last reflector acts first; Qᴴ C and C Q start with the first.
    # Qᴴ is made of the H_jᴴ = I - conj(tau_j) v_j v_jᴴ
    order = reversed(range(count)) if left != transpose else range(count)
    return reflected(other, reflector_vectors(input, count), tau.conj() if transpose else tau, order, left)


def ldl_factor_ex(A, *, hermitian=False, check_errors=False):
    """(LD, pivots, info): A = L D Lᵀ with Bunch-Kaufman pivoting, for symmetric A (*, n, n) read
    from its lower triangle, as LAPACK's sytrf (``hermitian`` is the same for real matrices): D's
    1 x 1 and 2 x 2 blocks on LD's diagonal (and subdiagonal), L's multipliers below; pivots (*, n)
    int32 as LAPACK's ipiv (negative, twice, for a 2 x 2 block); info (*,) int32, the first zero
    block of D (from 1), 0 where there is none. Real matrices only; no gradient (as in PyTorch)."""
    operation = "torch.linalg.ldl_factor_ex"
    check_matrices(A, operation, kernel="ldl_factor_kernel_cpu")
    LD, pivots, info = LdlFactor.apply(A)
    if check_errors:
        _check_info(info, operation, singular_ldl_error)
    return linalg_ldl_factor_ex((LD, pivots, info))


def ldl_factor(A, *, hermitian=False):
    """(LD, pivots) of ``ldl_factor_ex``; a RuntimeError where D has a zero block (A is singular)."""
    LD, pivots, info = ldl_factor_ex(A, hermitian=hermitian)
    _check_info(info, "torch.linalg.ldl_factor", singular_ldl_error)
    return linalg_ldl_factor((LD, pivots))


def singular_ldl_error(operation, info):
    """The error for the first matrix whose D has a zero block. (PyTorch 2.13 fails here with an
    internal assert, 'Unknown error code'; this says what happened.)"""
    first = int(xp.flatnonzero(info.reshape(-1))[0])
    where = f"(Batch element {first}): " if info.ndim else ""
    position = int(info.reshape(-1)[first])
    return RuntimeError(
        f"{operation}: {where}D[{position},{position}] is zero: the matrix is singular and ldl_solve would divide by "
        f"zero. Use ldl_factor_ex to factor it anyway (info reports the zero block)."
    )


def ldl_solve(LD, pivots, B, *, hermitian=False):
    """X with A X = B, for A given by ldl_factor's (LD, pivots): LD (*, n, n), B (*, n, k), batch
    dimensions broadcast. No gradient (as in PyTorch)."""
    if B._array.ndim < 2:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got -2); B must be (*, n, k)")
    check_matrices(LD, "torch.linalg.ldl_solve")
    size = LD._array.shape[-1]
    if B._array.shape[-2] != size:
        raise RuntimeError(
            f"Incompatible matrix sizes for torch.linalg.ldl_solve: each A matrix is {size} by {size} but each b matrix "
            f"is {B._array.shape[-2]} by {B._array.shape[-1]}"
        )
    check_same_dtype(LD, B, "Expected b and A to have the same dtype, but found b of type {B} and A of type {A} instead.")
    check_kernel(LD, "ldl_solve_kernel_cpu")
    return LdlSolve.apply(LD, pivots, B)


class TensorFunctions:
    """tril, triu, solve, concatenate on tensors, for the helpers written for arrays and tensors."""

    tril = staticmethod(lambda tensor, diagonal=0: tensor.tril(diagonal))
    triu = staticmethod(lambda tensor, diagonal=0: tensor.triu(diagonal))
    solve = staticmethod(solve)
    concatenate = staticmethod(cat)


on_tensors = TensorFunctions()
