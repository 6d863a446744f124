"""``chainrule.linalg``, as ``torch.linalg``: norms, inverses, solvers, decompositions and matrix
functions, each batched over the leading dimensions (A (*, m, n) is a batch of matrices).

The operations with gradients of their own are in ``ops/decompositions.py``; the functions here
are built from them and from the other operations, so their gradients come with them.
"""
import functools
import math

from chainrule import dtypes
from chainrule.autograd.function import computed_without_gradient, made_from_arguments, made_from_values, shaped_by_values
from chainrule.backend import xp
from chainrule.ops import index, shape
from chainrule.ops.decompositions import (  # noqa: F401  the namespace's own names
    LinAlgError,
    check_kernel,
    check_matrices,
    check_precision,
    check_same_dtype,
    cholesky,
    cholesky_ex,
    det,
    eig,
    eigh,
    eigvals,
    eigvalsh,
    inv,
    inv_ex,
    linalg_lstsq,
    matrix_exp,
    matrix_power,
    pinv as pinv_with_tolerances,
    qr,
    slogdet,
    solve,
    solve_ex,
    svd,
    svdvals,
)
from chainrule.ops.factorizations import (  # noqa: F401  the namespace's own names
    householder_product,
    ldl_factor,
    ldl_factor_ex,
    ldl_solve,
    lu,
    lu_factor,
    lu_factor_ex,
    lu_solve,
)
from chainrule.ops.linalg import cross as cross_along_dim
from chainrule.ops.linalg import increasing_powers
from chainrule.ops.matmul import matmul, mm
from chainrule.ops.reduce import FLOATING_INPUT, amax, amin, converted_without_narrowing, require_floating
from chainrule.ops.registry import with_out
from chainrule.overrides import make_overridable
from chainrule.ops.reduce import norm as p_norm
from chainrule.tensor import Tensor, tensor_from_array

__all__ = [
    "LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig", "eigh", "eigvals", "eigvalsh",
    "householder_product", "inv", "inv_ex", "ldl_factor", "ldl_factor_ex", "ldl_solve", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm",
    "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve",
    "vander", "vecdot", "vector_norm",
]



@with_out
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """(Σ |x|^ord)^(1/ord) over ``dim`` (every element when None); ord = inf is max |x|, -inf min |x|,
    0 the count of nonzero elements."""
    require_floating(x, f"linalg.vector_norm: {FLOATING_INPUT}", "linalg.vector_norm")
    if dtype is not None:
        x = converted_without_narrowing(x, dtype, "linalg.vector_norm")
    if isinstance(ord, str):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not str (got {ord!r}; use linalg.matrix_norm)")
    if ord < 0 or ord == math.inf:  # a minimum (or maximum) over nothing has no value
        if dim is None and x._array.size == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the operation does not have an identity"
            )
        for each in () if dim is None or not x._array.ndim else (dim,) if isinstance(dim, int) else dim:
            if x._array.shape[each] == 0:
                raise RuntimeError(
                    f"linalg.vector_norm cannot compute the {ord} norm on the dimension {each % x._array.ndim}because this "
                    f"dimension is empty and the operation does not have an identity"
                )
    return p_norm(x, ord, dim, keepdim)


@with_out
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The norm of each matrix in dims ``dim`` of A: 'fro' (√Σ a²), 'nuc' (Σ σ), 2 / -2 (largest /
    smallest singular value), 1 / -1 (largest / smallest column sum of |a|), inf / -inf (of row sums)."""
    require_floating(A, f"linalg.matrix_norm: {FLOATING_INPUT}", "linalg.matrix_norm")
    if dtype is not None:
        A = A.to(dtype)
    if isinstance(dim, int) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim if isinstance(dim, int) else ' '.join(map(str, dim))}")
    check_matrices(A, "linalg.matrix_norm", square=False)
    rows, columns = (each % A._array.ndim for each in dim)
    if ord == "fro":
        return p_norm(A, 2, (rows, columns), keepdim)
    if ord in ("nuc", 2, -2):
        check_precision(A, "linalg.matrix_norm")
        moved = shape.movedim(A, (rows, columns), (-2, -1))
        values = svdvals(moved)
        result = values.sum(-1) if ord == "nuc" else max_or_zero(values, -1) if ord == 2 else amin(values, -1)
        if keepdim:
            for each in sorted((rows, columns)):
                result = shape.unsqueeze(result, each)
        return result
    if ord in (1, -1, math.inf, -math.inf):
        summed, extreme = (rows, columns) if ord in (1, -1) else (columns, rows)
        sums = abs(A).sum(summed, keepdim=True)
        chosen = max_or_zero(sums, extreme, keepdim=True) if ord > 0 else amin(sums, extreme, keepdim=True)
        return chosen if keepdim else shape.squeeze(chosen, sorted((rows, columns), reverse=True))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported. Use 'fro', 'nuc', 2, -2, 1, -1, inf or -inf")


def max_or_zero(values, dim, keepdim=False):
    """The maximum over ``dim``; 0 over an empty dimension, as PyTorch's matrix norms of an empty
    matrix (the minimum of nothing raises)."""
    return amax(values, dim, keepdim) if values._array.shape[dim] else values.sum(dim, keepdim=keepdim)


@with_out
def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """The vector norm (``dim`` an int, or ``A`` 1-D) or the matrix norm (``dim`` two dims, or ``A``
    2-D) of order ``ord``; with neither ``ord`` nor ``dim``, the 2-norm of all elements."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if A._array.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A._array.ndim}D.")
        dim = tuple(range(A._array.ndim))
    if len(dim) == 2 or isinstance(ord, str):  # a named order ('fro', 'nuc') is a matrix norm's
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


@with_out
def cond(A, p=None):
    """The condition number ‖A‖_p ‖A⁻¹‖_p of each matrix of A (*, m, n) -> (*): for p = None or 2,
    σ_max / σ_min (-2: σ_min / σ_max), any m and n; for the other norms A must be square: 'nuc' is
    Σ σ · Σ 1/σ (nan, not an error, for a zero matrix), and for 'fro', 1, -1, inf, -inf a singular
    matrix (or one holding nan) has condition number inf, as in PyTorch."""
    if p in (None, 2, -2):
        check_matrices(A, "linalg.cond", square=False)
        if not A.numel():
            return A.sum((-2, -1))
        values = svdvals(A)
        biggest, smallest = values[..., 0], values[..., -1]  # descending
        return biggest / smallest if p != -2 else smallest / biggest
    if p not in ("fro", "nuc", 1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}; use None, 'fro', 'nuc', 2, -2, 1, -1, inf or -inf")
    check_matrices(A, f"linalg.cond(ord={p})")
    if not A.numel():
        return A.sum((-2, -1))
    if p == "nuc":  # not through A⁻¹, which a singular matrix has not
        values = svdvals(A)
        return values.sum(-1) * values.reciprocal().sum(-1)
    inverse = inv_ex(A).inverse  # nan where A is singular
    return (matrix_norm(A, p) * matrix_norm(inverse, p)).nan_to_num(math.inf, math.inf, -math.inf)


@with_out
def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """The number of singular values above max(atol, rtol · σ_max), int64 (*); ``tol`` (PyTorch's
    older form, which it still takes by position: ``matrix_rank(A, 0.5, True)``) is atol with rtol 0."""
    if tol is not None:
        atol, rtol = tol, 0.0
    check_matrices(A, "linalg.matrix_rank", square=False)
    check_precision(A, "linalg.matrix_rank")
    atol, rtol = tolerance_tensors(A, atol, rtol)
    return computed_without_gradient(_count_above_tolerance, [svdvals(A), atol, rtol])


def _count_above_tolerance(values, atol, rtol):
    """How many singular values (*, k), descending, exceed max(atol, rtol · σ_max), int64 (*)."""
    biggest = values[..., :1] if values.shape[-1] else xp.zeros(values.shape[:-1] + (1,), dtype=values.dtype)
    return xp.sum(values > xp.maximum(atol, rtol * biggest), axis=-1).astype(xp.int64)


def tolerance_tensors(A, atol, rtol):
    """The tolerances of pinv and matrix_rank for A (*, m, n), each given as None, a number or a
    tensor broadcasting to the batch shape (*), as tensors (*, 1) that sit beside the singular values
    (*, k). As PyTorch: atol = 0 and rtol = eps · max(m, n) by default, but rtol = 0 where atol > 0."""
    def beside_singular_values(value):  # computed again on each call of a compiled program (a tensor's values)
        value = value if isinstance(value, Tensor) else made_from_values(xp.asarray(value), written=True)
        return computed_without_gradient(_beside_singular_values, [value], {"dtype": A._array.dtype})

    atol = beside_singular_values(0.0 if atol is None else atol)
    if rtol is None:
        default = float(xp.finfo(A._array.dtype).eps * max(A.shape[-2:]))
        return atol, computed_without_gradient(_relative_tolerance, [atol], {"default": default})
    return atol, beside_singular_values(rtol)


def _beside_singular_values(value, dtype):
    return xp.asarray(value, dtype=dtype)[..., None]


def _relative_tolerance(atol, default):
    """rtol where none is given: ``default`` (eps · max(m, n)), but 0 where atol > 0."""
    return xp.where(atol > 0, 0.0, default).astype(atol.dtype)


#: LAPACK's least-squares drivers, by what they report: gels (QR, full rank assumed) the residuals
#: only; gelsy (QR with column pivoting, PyTorch's default on the CPU) the rank only; gelsd and gelss
#: (SVD) the rank, the singular values and, for full-rank tall matrices, the residuals.
LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X = A⁺ B of A X ≈ B: A (*, m, n), B (*, m, k) or (*, m) -> X
    (*, n, k) or (*, n), the batch dimensions broadcast. Singular values of A below rcond · σ_max
    count as zero (rcond = eps · max(m, n) by default; 'gels' ignores it).

    As PyTorch, what else comes back depends on ``driver`` (see LSTSQ_DRIVERS): ``residuals``
    ‖A X - B‖² of each column (*, k) when m > n, the driver is not 'gelsy' and every matrix has full
    rank (for 'gels', always when m > n), else empty; ``rank`` (*) of each matrix of A, empty for
    'gels'; ``singular_values`` (*, min(m, n)) of A, for 'gelsd' and 'gelss' only (without gradient),
    else empty.
    """
    if driver is not None and not isinstance(driver, str):
        raise TypeError(f"linalg_lstsq(): argument 'driver' must be str, not {type(driver).__name__}")
    driver = "gelsy" if driver is None else driver
    if driver not in LSTSQ_DRIVERS:
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of ({', '.join(LSTSQ_DRIVERS)}), but got {driver!r}")
    check_matrices(A, "torch.linalg.lstsq", square=False)
    check_precision(A, "torch.linalg.lstsq")
    check_same_dtype(A, B, "torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's dtype {A} and other's dtype {B}")
    if not 0 <= A.ndim - B.ndim <= 1:
        raise RuntimeError(
            f"torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and (input.dim() - other.dim()) <= 1 "
            f"(got A of shape {list(A.shape)} and B of shape {list(B.shape)})"
        )
    vectors = B.ndim == A.ndim - 1  # B (*, m): one right-hand side per matrix
    if vectors:
        B = shape.unsqueeze(B, -1)
    if A.shape[-2] != B.shape[-2]:
        raise RuntimeError(
            f"torch.linalg.lstsq: input.size(-2) should match other.size({-1 if vectors else -2}) "
            f"(A has {A.shape[-2]} rows, B has {B.shape[-2]})"
        )
    rows, columns = A.shape[-2:]
    solution = matmul(pinv(A, rtol=None if driver == "gels" else rcond), B)
    empty = made_from_arguments(xp.zeros((0,), dtype=A._array.dtype))
    rank = made_from_arguments(xp.zeros((0,), dtype=xp.int64)) if driver == "gels" else matrix_rank(A, rtol=rcond)
    with_residuals = rows > columns and driver != "gelsy"
    if with_residuals and driver != "gels":  # (gels assumes full rank) whether they come back, their shape, follows the rank
        shaped_by_values("linalg.lstsq (residuals only where every matrix has full rank)")
        with_residuals = bool((rank._array == columns).all())
    residuals = squared_lengths(matmul(A, solution) - B) if with_residuals else empty
    singular_values = svdvals(A).detach() if driver in ("gelsd", "gelss") else empty
    return linalg_lstsq((shape.squeeze(solution, -1) if vectors else solution, residuals, rank, singular_values))


def squared_lengths(columns):
    """|x|² summed down each column: (*, m, k) -> (*, k), real also for complex x."""
    return (columns.conj() * columns).real.sum(-2)


@with_out
def multi_dot(tensors):
    """A₁ @ A₂ @ ... @ Aₖ of 2-D tensors (the first may be 1-D, a row; the last 1-D, a column)."""
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for position, each in enumerate(tensors):
        allowed = (1, 2) if position in (0, len(tensors) - 1) else (2,)
        if each._array.ndim not in allowed:
            raise RuntimeError(
                f"multi_dot(): tensor {position} must be {' or '.join(f'{n}D' for n in allowed)} but got {each._array.ndim}D"
            )
    first, last = tensors[0], tensors[-1]
    out_shape = first._array.shape[:-1] + last._array.shape[1:]  # a 1-D first or last has no size there
    matrices = [
        shape.unsqueeze(first, 0) if first._array.ndim == 1 else first, *tensors[1:-1],
        shape.unsqueeze(last, 1) if last._array.ndim == 1 else last,
    ]
    return shape.view(_chain_product(matrices, _chain_order(matrices), 0, len(matrices) - 1), out_shape)


def _chain_order(matrices):
    """``split[i][j]``: where the product of matrices i..j is best cut, (i..k) @ (k+1..j), for the
    fewest multiplications (a (p, q) @ (q, r) product costs p·q·r), by the dynamic programme of
    Cormen et al. that PyTorch uses; for three matrices, PyTorch's own comparison of the two orders."""
    count = len(matrices)
    sizes = [matrix._array.shape[0] for matrix in matrices] + [matrices[-1]._array.shape[1]]
    split = [[0] * count for _ in range(count)]
    if count == 3:  # (A B) C unless A (B C) costs less
        a, b, c, d = sizes
        split[0][2] = 0 if a * c * (b + d) > b * d * (a + c) else 1
        split[0][1], split[1][2] = 0, 1
        return split
    cost = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                candidate = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if candidate < cost[i][j]:
                    cost[i][j], split[i][j] = candidate, k
    return split


def _chain_product(matrices, split, i, j):
    """The product of matrices i..j, cut as ``split`` says, each step an ``mm``."""
    if i == j:
        return matrices[i]
    cut = split[i][j]
    return mm(_chain_product(matrices, split, i, cut), _chain_product(matrices, split, cut + 1, j))


@functools.partial(with_out, same_dtype=True)
def vecdot(x, y, *, dim=-1):
    """Σ conj(x) · y over ``dim``, the two (floating or complex, of one dtype) broadcast together."""
    require_floating(x, f"linalg.vecdot: {FLOATING_INPUT}", "linalg.vecdot")
    check_same_dtype(x, y, "linalg.vecdot: Expected x and y to have the same dtype, but found x of type {A} and y of type {B} instead.")
    return (x.conj() * y).sum(dim)


@with_out
def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B (``left``) or X A = B for triangular A (*, n, n) (only its ``upper`` or lower
    triangle is read; with ``unitriangular`` its diagonal is taken as ones)."""
    check_matrices(A, "linalg.solve_triangular", floating=False)
    if B.ndim < 2:
        raise RuntimeError(
            f"linalg.solve_triangular: The input tensor B must have at least 2 dimensions (got shape {list(B.shape)}); "
            f"for a vector b, solve for b.unsqueeze(-1)"
        )
    check_kernel(A, "triangular_solve_cpu")
    triangle = A.triu(1 if unitriangular else 0) if upper else A.tril(-1 if unitriangular else 0)
    if unitriangular:
        triangle = triangle + tensor_from_array(xp.eye(A._array.shape[-1], dtype=A._array.dtype))
    return solve(triangle, B, left=left)


def pinv(A, *, atol=None, rtol=None, hermitian=False, rcond=None):
    """The pseudo-inverse A⁺ (*, n, m) of A (*, m, n), through the SVD (which serves ``hermitian``
    matrices too), singular values at most max(atol, rtol · σ_max) taken as zero; the tolerances as
    in ``tolerance_tensors``. ``rcond``, PyTorch's older name for rtol, is taken too."""
    if rcond is not None:
        if rtol is not None:
            raise RuntimeError("linalg.pinv: give the relative tolerance once, as rtol (rcond is its older name)")
        rtol = rcond
    check_matrices(A, "linalg.pinv", square=False)
    atol, rtol = tolerance_tensors(A, atol, rtol)
    return pinv_with_tolerances(A, atol=atol._array, rtol=rtol._array, hermitian=hermitian)


def cross(input, other, *, dim=-1):
    """The cross product of the 3-vectors along ``dim`` (the last by default), the batch dimensions
    broadcast: (*, 3) x (*, 3) -> (*, 3)."""
    return cross_along_dim(input, other, dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal of each matrix of a batch: (*, m, n) -> (*, min(m, n)) (``offset`` > 0 above the
    main diagonal, < 0 below), a view, as ``torch.diagonal`` with the last two dimensions by default."""
    return index.diagonal(A, offset, dim1, dim2)


def vander(x, *, N=None):
    """The Vandermonde matrices of the vectors x (*, n): row i is x_i^0, x_i^1, ..., x_i^(N-1), so
    that V @ c evaluates the polynomial with coefficients c at each x_i. (*, n) -> (*, n, N), N = n
    by default; integers give int64."""
    if x._array.dtype.kind == "b" or x._array.dtype == dtypes.float16:
        raise RuntimeError(
            f"linalg.vander supports floating point, complex, and integer tensors, but got {dtypes.scalar_type_name(x._array.dtype)}; "
            f"convert x first, e.g. x.float()"
        )
    columns = (x.shape[-1] if x.ndim else 1) if N is None else N
    if columns <= 1:
        raise RuntimeError(f"linalg.vander: N must be greater than 1, but got N={columns}")
    return increasing_powers(x, columns)


def tensorinv(A, ind=2):
    """The tensor B with tensordot(A, B, ind) the identity: A, of shape I + J with ``ind`` dimensions
    in I and prod(I) = prod(J), read as a square matrix (prod(I), prod(J)) and inverted; B has shape
    J + I."""
    if isinstance(ind, bool) or not isinstance(ind, int) or ind <= 0:
        raise RuntimeError(f"linalg.tensorinv: Expected a strictly positive integer for 'ind', but got {ind}")
    rows, columns = A.shape[:ind], A.shape[ind:]
    if math.prod(rows) != math.prod(columns):
        raise RuntimeError(
            f"linalg.tensorinv: the first {ind} dimensions of A {list(rows)} must hold as many elements as the "
            f"others {list(columns)} ({math.prod(rows)} != {math.prod(columns)}), so that A reads as a square matrix"
        )
    return inv(A.reshape(math.prod(rows), math.prod(columns))).reshape(*columns, *rows)


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B: A's first B.ndim dimensions index the equations, the
    others X's elements (X has their shape); A is read as a square matrix (B.numel(), X.numel()). ``dims``: dimensions of A moved to its end first."""
    if dims is not None:
        dims = [dims] if isinstance(dims, int) else list(dims)
        A = shape.movedim(A, dims, list(range(A.ndim - len(dims), A.ndim)))
    equations, unknowns = A.shape[: B.ndim], A.shape[B.ndim :]
    if not math.prod(equations) == math.prod(unknowns) == B.numel():
        raise RuntimeError(
            f"linalg.tensorsolve: A (shape {list(A.shape)}) must read as a square matrix with as many rows as B "
            f"(shape {list(B.shape)}) has elements: the product of A's first {B.ndim} dimensions, "
            f"{math.prod(equations)}, and of the others, {math.prod(unknowns)}, must both be {B.numel()}"
        )
    return solve(A.reshape(B.numel(), B.numel()), B.reshape(B.numel())).reshape(*unknowns)


# As in PyTorch, the functions (but matrix_exp) accept out=, the tensor to write the result into, or
# for several results a tuple of them (eigh's eigenvalues and eigenvectors).
# An out of another dtype than the result's is refused, as PyTorch's linalg kernels refuse it (pinv's
# is cast, as there).
pinv = with_out(pinv)
inv, det, solve, cholesky, matrix_power, svdvals, eigvalsh, matmul = (
    with_out(function, same_dtype=True) for function in (inv, det, solve, cholesky, matrix_power, svdvals, eigvalsh, matmul)
)
eigh, eig, eigvals, svd, qr, inv_ex, cholesky_ex, solve_ex, slogdet, lu_factor, lu, tensorinv, tensorsolve, cross = (
    with_out(function, same_dtype=True)
    for function in (eigh, eig, eigvals, svd, qr, inv_ex, cholesky_ex, solve_ex, slogdet, lu_factor, lu, tensorinv, tensorsolve, cross)
)
lu_factor_ex, lu_solve, ldl_factor, ldl_factor_ex, ldl_solve, householder_product, lstsq = (
    with_out(function) for function in (lu_factor_ex, lu_solve, ldl_factor, ldl_factor_ex, ldl_solve, householder_product, lstsq)
)

make_overridable(globals(), __all__, "chainrule.linalg")  # __torch_function__ (overrides.py)
