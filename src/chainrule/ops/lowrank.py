"""Randomized low-rank approximations and a few extreme eigenpairs, as torch.svd_lowrank,
torch.pca_lowrank and torch.lobpcg: for large matrices where a full SVD or eigh is too much.

svd_lowrank is Halko, Martinsson and Tropp's randomized range finder (2009, their algorithms 4.4 and
5.1, as PyTorch writes it): Q, an orthonormal basis of A's range, from A R (R a Gaussian (n, q)
drawn from the global generator, as PyTorch draws it) sharpened by ``niter`` power iterations; then the small SVD of
Qᴴ A. It is made of qr, svd and matmul, so it is differentiable as they are.
"""
import math

from chainrule import creation
from chainrule.backend import linalg, xp
from chainrule.ops.decompositions import check_matrices, eigh_array, qr, svd, transposed
from chainrule.ops.matmul import matmul
from chainrule.ops.registry import public
from chainrule.tensor import tensor_from_array


def approximate_basis(A, q, niter, M=None):
    """Q (*, m, q) with orthonormal columns whose span approximates the range of A - M (A (*, m, n)).
    R (n, q) is drawn with ``randn`` from the global generator, as PyTorch's ``get_approximate_basis``
    draws it (so the numbers drawn after it are PyTorch's too), and each product with A - M is
    computed as A @ X - M @ X, in PyTorch's order."""

    def shifted(matrix, X, transpose=False):
        product = matmul(matrix.mH if transpose else matrix, X)
        return product if M is None else product - matmul(M.mH if transpose else M, X)

    R = creation.randn(A.shape[-1], q, dtype=A.dtype)
    Q = qr(shifted(A, R)).Q
    for _ in range(niter):
        Q = qr(shifted(A, Q, transpose=True)).Q
        Q = qr(shifted(A, Q)).Q
    return Q


@public(method=False)
def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) with A - M ≈ U diag(S) Vᴴ, of rank q: A (*, m, n) -> U (*, m, q), S (*, q), V (*, n, q)
    (note V, not Vh), randomized (the values differ from run to run unless seeded)."""
    check_matrices(A, "svd_lowrank", square=False)
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    rows, columns = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    wide = rows < columns
    if wide:  # the basis is found for the tall Aᴴ
        A = A.mH
        M = None if M is None else M.mH
    Q = approximate_basis(A, q, niter, M)
    B = matmul(Q.mH, A)
    if M is not None:
        B = B - matmul(Q.mH, M)
    U, S, Vh = svd(B, full_matrices=False)
    U, V = matmul(Q, U), Vh.mH
    return (V, S, U) if wide else (U, S, V)


@public(method=False)
def pca_lowrank(A, q=None, center=True, niter=2):
    """(U, S, V) of the principal components of the rows of A (*, m, n): svd_lowrank of A with each
    column's mean taken away (``center``); the components are V's columns, S² / (m - 1) their variances.
    q defaults to min(6, m, n)."""
    check_matrices(A, "pca_lowrank", square=False)
    rows, columns = A.shape[-2:]
    if q is None:
        q = min(6, rows, columns)
    elif not 0 <= q <= min(rows, columns):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(rows, columns)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if center:
        A = A - A.mean(dim=(-2,), keepdim=True)
    return svd_lowrank(A, q, niter=niter)


@public(method=False)
def lobpcg(A, k=None, B=None, X=None, n=None, iK=None, niter=None, tol=None, largest=None, method=None, tracker=None,
           ortho_iparams=None, ortho_fparams=None, ortho_bparams=None):
    """(E, X): the k largest (``largest``, the default) or smallest eigenvalues E (k,) of a symmetric
    (positive-definite) A (m, m) and their eigenvectors X (m, k), by the locally optimal block
    preconditioned conjugate gradient method (Knyazev 2001) on a block of n >= k vectors: each step
    finds the best n vectors (Rayleigh-Ritz) in the span of X, the residuals A X - X diag(E)
    (preconditioned by iK) and the previous step. B (the generalized problem) and the tracker are
    not supported. E is differentiable with respect to A (dE_i = x_i x_iᵀ); X is not."""
    if B is not None:
        raise NotImplementedError("chainrule.lobpcg solves A x = λ x only: the generalized problem (B) is not supported")
    check_matrices(A, "lobpcg")
    if A._array.ndim != 2:
        raise NotImplementedError("chainrule.lobpcg takes one matrix A (m, m), not a batch")
    size = A.shape[-1]
    k = (1 if X is None else X.shape[-1]) if k is None else k
    n = (k if X is None else X.shape[-1]) if n is None else n
    if size < 3 * n:
        raise ValueError(
            f"LOBPCG algorithm is not applicable when the number of A rows (={size}) is smaller than 3 x the number "
            f"of requested eigenpairs (={n})"
        )
    largest = True if largest is None else largest
    niter = 1000 if niter is None or niter < 0 else niter
    tol = math.sqrt(xp.finfo(A._array.dtype).eps) if tol is None else tol
    matrix = A._array
    start = creation.randn(size, n, dtype=A.dtype)._array if X is None else X._array  # PyTorch's draw
    values, vectors = locally_optimal_iteration(matrix, start, None if iK is None else iK._array, niter, tol, largest)
    values, vectors = values[:k], vectors[:, :k]
    fixed = tensor_from_array(vectors)
    rayleigh_quotients = (fixed * matmul(A, fixed)).sum(0)  # the eigenvalues, with dE_i = x_i x_iᵀ
    return rayleigh_quotients, fixed


def locally_optimal_iteration(matrix, start, preconditioner, niter, tol, largest):
    """LOBPCG on arrays: (values (n,), vectors (m, n)), the values descending when ``largest``."""
    count = start.shape[-1]
    sign = 1.0 if largest else -1.0  # the largest of sign · A
    basis, previous = linalg.qr(start)[0], None
    values, vectors = rayleigh_ritz(matrix, basis, count, sign)
    scale = max(float(xp.max(xp.abs(matrix))), 1e-300)
    for _ in range(niter):
        residuals = matrix @ vectors - vectors * values
        if float(xp.max(xp.sqrt(xp.sum(residuals * residuals, axis=0)))) <= tol * scale:
            break
        if preconditioner is not None:
            residuals = preconditioner @ residuals
        blocks = [vectors, residuals] + ([previous] if previous is not None else [])
        basis = linalg.qr(xp.concatenate(blocks, axis=1))[0]
        values, combinations = rayleigh_ritz(matrix, basis, count, sign, keep_coefficients=True)
        new_vectors = basis @ combinations
        previous = basis[:, count:] @ combinations[count:]  # the step's direction outside the old block
        vectors = new_vectors
    return values, vectors


def rayleigh_ritz(matrix, basis, count, sign, keep_coefficients=False):
    """The ``count`` best eigenpairs of ``matrix`` within the span of ``basis`` (orthonormal columns):
    eigh of basisᵀ A basis, the largest of sign · A first."""
    projected = transposed(basis) @ matrix @ basis
    eigenvalues, eigenvectors = eigh_array(sign * (projected + transposed(projected)) / 2)
    chosen = xp.arange(eigenvalues.shape[-1] - 1, eigenvalues.shape[-1] - 1 - count, -1)
    values, coefficients = sign * eigenvalues[chosen], eigenvectors[:, chosen]
    return (values, coefficients) if keep_coefficients else (values, basis @ coefficients)
