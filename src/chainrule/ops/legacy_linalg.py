"""PyTorch's older linear-algebra functions, which ``torch.linalg`` replaced and course code still
calls: ``torch.svd`` (the PCA of many tutorials), ``torch.qr``, ``torch.cholesky``, ``torch.lu``,
``torch.lu_solve``, ``torch.triangular_solve``, ``torch.chain_matmul``.

Each is the ``chainrule.linalg`` function with the old arguments and results (``torch.svd`` gives
V where ``linalg.svd`` gives Vᵀ), so its gradient is that function's. Those PyTorch marks as
deprecated warn once per process, as PyTorch does, naming the replacement. Those PyTorch removed
in 1.9 (``torch.solve``, ``lstsq``, ``eig``, ``symeig``, ``matrix_rank``) raise its RuntimeError
saying what replaces them.
"""
from chainrule import linalg
from chainrule.backend import xp
from chainrule.caller_warnings import warn_once
from chainrule.ops.decompositions import check_kernel, factor_for
from chainrule.ops.registry import public
from chainrule.return_types import return_type
from chainrule.tensor import tensor_from_array

svd_result = return_type("svd", ["U", "S", "V"])
qr_result = return_type("qr", ["Q", "R"])
lu_with_info_result = return_type("_lu_with_info", ["LU", "pivots", "info"])
triangular_solve_result = return_type("triangular_solve", ["solution", "cloned_coefficient"])

def _deprecated(name, replacement, advice=""):
    """PyTorch's warning, once per process."""
    warn_once(f"torch.{name}", f"torch.{name} is deprecated{replacement} and will be removed in a future PyTorch release.{advice}")


@public(out=True)
def svd(input, some=True, compute_uv=True):
    """(U, S, V) with input = U diag(S) Vᴴ, input (*, m, n): V, not linalg.svd's Vᴴ. ``some``: the
    reduced factors U (*, m, k), V (*, n, k) with k = min(m, n); else square ones. Without
    ``compute_uv`` only S is computed, and U, V are zeros (*, m, m) and (*, n, n)."""
    if not compute_uv:
        rows, columns = input._array.shape[-2:]
        batch, dtype = input._array.shape[:-2], input._array.dtype
        S = linalg.svdvals(input)
        return svd_result(
            (tensor_from_array(xp.zeros(batch + (rows, rows), dtype)), S, tensor_from_array(xp.zeros(batch + (columns, columns), dtype)))
        )
    U, S, Vh = linalg.svd(input, full_matrices=not some)
    return svd_result((U, S, Vh.mH))


@public(out=True)
def qr(input, some=True):
    """(Q, R) with input = Q R: ``linalg.qr`` in mode 'reduced' (``some``) or 'complete'."""
    _deprecated("qr", " in favor of torch.linalg.qr")
    return qr_result(linalg.qr(input, "reduced" if some else "complete"))


@public(out=True)
def cholesky(input, upper=False):
    """L (or U = Lᵀ with ``upper``) with input = L Lᵀ: ``linalg.cholesky``."""
    _deprecated("cholesky", " in favor of torch.linalg.cholesky")
    check_kernel(input, "cholesky_cpu")  # an integer matrix too: NotImplementedError, as PyTorch's
    return factor_for(input, upper, "cholesky")


@public(out=True)
def lu(A, pivot=True, get_infos=False):
    """(LU, pivots), and with ``get_infos`` the info of each matrix (0, or the position of U's first
    zero pivot): ``linalg.lu_factor_ex``. A singular matrix is factored, not refused."""
    _deprecated("lu", " in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex")
    LU, pivots, info = linalg.lu_factor_ex(A, pivot=pivot)
    return lu_with_info_result((LU, pivots, info)) if get_infos else (LU, pivots)


@public(out=True)
def lu_solve(b, LU_data, LU_pivots):
    """X with A X = b, A given by ``lu``'s (LU_data, LU_pivots): ``linalg.lu_solve`` (the right-hand
    side comes first here)."""
    _deprecated("lu_solve", " in favor of torch.linalg.lu_solve")
    return linalg.lu_solve(LU_data, LU_pivots, b)


@public(out=True)
def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """(X, a copy of A) with A X = b (Aᵀ X = b with ``transpose``) for triangular A (*, n, n), its
    ``upper`` or lower triangle read: ``linalg.solve_triangular``."""
    _deprecated("triangular_solve", " in favor of torch.linalg.solve_triangular")
    coefficients = A.mT if transpose else A
    solution = linalg.solve_triangular(coefficients, b, upper=upper != transpose, unitriangular=unitriangular)
    return triangular_solve_result((solution, A.clone()))


@public(method=False, out=True)
def chain_matmul(*matrices):
    """The product of the 2-D ``matrices`` in the order that costs least: ``linalg.multi_dot``."""
    _deprecated(
        "chain_matmul",
        "",
        " Use torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple parameters.",
    )
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for matrix in matrices:
        if matrix.ndim != 2:  # unlike linalg.multi_dot, no vector at either end
            raise RuntimeError(
                f"Tensor dimension is {matrix.ndim}, expected 2 instead. (chain_matmul takes matrices only; "
                f"linalg.multi_dot also takes a vector first or last)"
            )
    return matrices[0].clone() if len(matrices) == 1 else linalg.multi_dot(list(matrices))


# ----------------------------------------------------------------------------- removed functions
# PyTorch removed these in 1.9 but keeps the names, to raise a RuntimeError that says how to write
# the call with torch.linalg; so does chainrule, with PyTorch's words.
REMOVED = "This function was deprecated since version 1.9 and is now removed."


def removed(name, advice, method=True):
    """Make ``chainrule.NAME`` (and, with ``method``, ``Tensor.NAME``) a function that only raises
    PyTorch's RuntimeError: that it was removed, and ``advice`` on what replaces it."""

    def function(*args, **kwargs):
        raise RuntimeError(REMOVED + advice)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Removed from PyTorch in 1.9: raises the RuntimeError that names what replaces {name}."
    public(function, method=method)


removed(
    "solve",
    " `torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has its arguments reversed and "
    "does not return the LU factorization.\n\nTo get the LU factorization see `torch.lu`, which can be used with "
    "`torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, A).solution should be replaced with:\nX = torch.linalg.solve(A, B)",
)
removed(
    "lstsq",
    " `torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has reversed arguments and does "
    "not return the QR decomposition in the returned tuple (although it returns other information about the problem).\n\n"
    "To get the QR decomposition consider using `torch.linalg.qr`.\n\nThe returned solution in `torch.lstsq` stored the "
    "residuals of the solution in the last m - n columns of the returned value whenever m > n. In torch.linalg.lstsq, the "
    "residuals are in the field 'residuals' of the returned named tuple.\n\nThe unpacking of the solution, as in\n"
    "X, _ = torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced with:\nX = torch.linalg.lstsq(A, B).solution",
)
removed(  # chainrule has no complex dtypes: for a symmetric matrix, linalg.eigvalsh / linalg.eigh serve
    "eig",
    " `torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than real tensors mimicking complex "
    "tensors.\n\nL, _ = torch.eig(A) should be replaced with:\nL_complex = torch.linalg.eigvals(A)\n\nand\n\n"
    "L, V = torch.eig(A, eigenvectors=True) should be replaced with:\nL_complex, V_complex = torch.linalg.eig(A)",
)
removed(
    "symeig",
    " The default behavior has changed from using the upper triangular portion of the matrix by default to using the "
    "lower triangular portion.\n\nL, _ = torch.symeig(A, upper=upper) should be replaced with:\n"
    "L = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\nL, V = torch.symeig(A, eigenvectors=True) "
    "should be replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')",
)
removed(
    "matrix_rank",
    "\nPlease use the `torch.linalg.matrix_rank` function instead. The parameter 'symmetric' was renamed in "
    "`torch.linalg.matrix_rank()` to 'hermitian'.",
    method=False,
)
