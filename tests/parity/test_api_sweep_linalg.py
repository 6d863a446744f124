"""A sweep of ``torch.linalg`` and the matrix functions against PyTorch (the oracle): norms with
every ``ord`` / ``dim`` / ``keepdim`` / ``dtype=``, determinants, inverses and solvers (with their
``_ex`` forms and ``left`` / ``upper`` / ``unitriangular`` keywords), the decompositions (qr modes,
svd, eigh with UPLO, cholesky, lu), lstsq's fields, pinv, matrix_rank, matrix_power, matrix_exp,
cross, vecdot, multi_dot, householder_product, tensorinv / tensorsolve, cond, diagonal, vander;
batched and 0-size inputs, singular-input errors (``LinAlgError``), named-tuple results, float32
dtypes and float64 gradients (sign / phase-invariant quantities for svd and eigh).

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
names or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences
found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import outcome, plain


def raises_as_torch(run):
    """``run(lib)`` raises in PyTorch; chainrule must raise the same exception type (or a subclass)."""
    kind, expected = outcome(lambda: run(torch))
    assert kind == "raises", f"PyTorch does not raise here: {expected!r}"
    kind, actual = outcome(lambda: run(chainrule))
    assert kind == "raises", f"PyTorch raises {expected.__name__}; chainrule returns {actual!r}"
    if issubclass(expected, torch.linalg.LinAlgError):
        expected = chainrule.linalg.LinAlgError
    assert issubclass(actual, expected), f"PyTorch raises {expected.__name__}; chainrule raises {actual.__name__}"


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, tuple):
        assert actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol)
    else:
        assert actual == expected


def same_in_both(run, rtol=1e-5, atol=1e-6):
    expected = plain(run(torch))
    actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


def same_outcome(run, rtol=1e-5, atol=1e-6):
    """Either both return the same value or both raise (chainrule the same type or a subclass)."""
    kind, expected = outcome(lambda: plain(run(torch)))
    actual_kind, actual = outcome(lambda: plain(run(chainrule)))
    assert actual_kind == kind, f"PyTorch: {kind} {expected!r}; chainrule: {actual_kind} {actual!r}"
    if kind == "raises":
        if issubclass(expected, torch.linalg.LinAlgError):
            expected = chainrule.linalg.LinAlgError
        assert issubclass(actual, expected), (actual, expected)
    else:
        assert_same(actual, expected, rtol, atol)


def data(*shape, seed=0, spd=False, well=False):
    rng = np.random.default_rng(seed)
    value = rng.standard_normal(shape)
    if spd:
        value = value @ np.swapaxes(value, -1, -2) + shape[-1] * np.eye(shape[-1])
    elif well:
        value = value + 3 * np.eye(shape[-1])
    return value


def make(lib, value, dtype="float64", grad=False):
    return lib.tensor(value, dtype=getattr(lib, dtype), requires_grad=grad)


def grads_in_both(run, *values, rtol=1e-6, atol=1e-8):
    """``run(lib, *tensors)`` gives a scalar; its value and gradients (float64) must agree."""
    found = []
    for lib in (torch, chainrule):
        tensors = [make(lib, value, grad=True) for value in values]
        loss = run(lib, *tensors)
        grads = lib.autograd.grad(loss, tensors, allow_unused=True)
        found.append((float(loss.detach()), [None if g is None else g.numpy().copy() for g in grads]))
    (expected_loss, expected), (actual_loss, actual) = found
    np.testing.assert_allclose(actual_loss, expected_loss, rtol=rtol, atol=atol)
    for each_actual, each_expected in zip(actual, expected):
        assert (each_actual is None) == (each_expected is None)
        if each_expected is not None:
            np.testing.assert_allclose(each_actual, each_expected, rtol=rtol, atol=atol)


# --- norms ------------------------------------------------------------------------------------

VECTOR_ORDS = [2, 1, 0, 3, 0.5, -1, -2, float("inf"), float("-inf")]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_vector_norm(ord, dim, keepdim):
    value = data(2, 3, 4)
    same_in_both(lambda lib: lib.linalg.vector_norm(make(lib, value, "float32"), ord, dim=dim, keepdim=keepdim))


MATRIX_ORDS = ["fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf")]


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm_batched(ord, keepdim):
    value = data(2, 3, 4)
    same_in_both(lambda lib: lib.linalg.matrix_norm(make(lib, value, "float32"), ord, keepdim=keepdim))
    same_in_both(lambda lib: lib.linalg.matrix_norm(make(lib, value), ord, dim=(0, 2)))


@pytest.mark.parametrize("ord,dim", [(None, None), ("fro", None), ("nuc", None), (2, None), (None, 1), (3, 0),
                                     (float("inf"), (0, 1)), (None, (0, 1)), (-1, -1)])
def test_linalg_norm(ord, dim):
    value = data(3, 4)
    same_in_both(lambda lib: lib.linalg.norm(make(lib, value), ord, dim))


def test_norm_dtype_keyword_and_integer_input():
    value = data(3, 4)
    same_in_both(lambda lib: lib.linalg.vector_norm(make(lib, value, "float32"), dtype=lib.float64))
    same_in_both(lambda lib: lib.linalg.matrix_norm(make(lib, value, "float32"), dtype=lib.float64))
    same_in_both(lambda lib: lib.linalg.norm(make(lib, value, "float32"), dtype=lib.float64))
    raises_as_torch(lambda lib: lib.linalg.vector_norm(lib.arange(4)))
    raises_as_torch(lambda lib: lib.linalg.matrix_norm(lib.ones(3)))
    raises_as_torch(lambda lib: lib.linalg.vector_norm(make(lib, value), dtype=lib.float16))


def test_norm_empty_and_zero_d():
    same_in_both(lambda lib: lib.linalg.vector_norm(lib.zeros(0)))
    same_in_both(lambda lib: lib.linalg.vector_norm(lib.tensor(-3.0)))
    same_in_both(lambda lib: lib.linalg.norm(lib.tensor(-3.0)))
    same_in_both(lambda lib: lib.linalg.matrix_norm(lib.zeros(2, 0, 0)))
    raises_as_torch(lambda lib: lib.linalg.vector_norm(lib.zeros(0), float("inf")))
    for ord in MATRIX_ORDS:
        same_outcome(lambda lib: lib.linalg.matrix_norm(lib.zeros(0, 3), ord))


def test_norm_bad_ord_raises():
    value = data(3, 4)
    raises_as_torch(lambda lib: lib.linalg.matrix_norm(make(lib, value), 3))
    raises_as_torch(lambda lib: lib.linalg.matrix_norm(make(lib, value), "abc"))
    raises_as_torch(lambda lib: lib.linalg.norm(make(lib, value), "fro", dim=0))
    raises_as_torch(lambda lib: lib.linalg.norm(lib.ones(2, 2, 2), "fro"))


@pytest.mark.parametrize("ord", [2, 1, float("inf"), 0.5])
def test_vector_norm_gradient_at_zero(ord):
    same_in_both(lambda lib: _grad_of(lib, lambda t: lib.linalg.vector_norm(t, ord), np.zeros(3)))


def _grad_of(lib, function, value):
    tensor = make(lib, value, grad=True)
    (grad,) = lib.autograd.grad(function(tensor), tensor)
    return grad


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, float("inf")])
def test_matrix_norm_gradient(ord):
    grads_in_both(lambda lib, a: lib.linalg.matrix_norm(a, ord), data(3, 4, seed=1))


def test_legacy_torch_norm():
    value = data(3, 4)
    same_in_both(lambda lib: lib.norm(make(lib, value)))
    same_in_both(lambda lib: lib.norm(make(lib, value), p=1, dim=1, keepdim=True))
    same_in_both(lambda lib: lib.norm(make(lib, value), p="fro", dim=(0, 1)))
    same_in_both(lambda lib: lib.norm(make(lib, value), p="nuc"))
    same_in_both(lambda lib: make(lib, value).norm(dim=0))


# --- determinants and inverses ----------------------------------------------------------------

def test_det_slogdet_logdet_values_and_batches():
    value = data(3, 3, 3, seed=2)
    same_in_both(lambda lib: lib.linalg.det(make(lib, value, "float32")))
    same_in_both(lambda lib: list(lib.linalg.slogdet(make(lib, value))))
    same_in_both(lambda lib: lib.det(make(lib, value)))
    same_in_both(lambda lib: lib.logdet(make(lib, value)))  # nan for negative determinants
    same_in_both(lambda lib: list(lib.slogdet(make(lib, value))))
    same_in_both(lambda lib: lib.linalg.det(lib.zeros(2, 0, 0)))
    same_in_both(lambda lib: list(lib.linalg.slogdet(lib.zeros(3, 3))))
    same_in_both(lambda lib: lib.logdet(lib.zeros(3, 3)))


def test_det_errors():
    raises_as_torch(lambda lib: lib.linalg.det(lib.ones(2, 3)))
    raises_as_torch(lambda lib: lib.linalg.det(lib.ones(3)))
    raises_as_torch(lambda lib: lib.linalg.det(lib.ones(2, 2, dtype=lib.int64)))


def test_det_gradients():
    value = data(3, 3, seed=3, well=True)
    grads_in_both(lambda lib, a: lib.linalg.det(a), value)
    grads_in_both(lambda lib, a: lib.linalg.slogdet(a).logabsdet, value)
    grads_in_both(lambda lib, a: lib.logdet(a @ a.mT), value)
    # det of a singular (rank-1) matrix still has a gradient: the adjugate
    grads_in_both(lambda lib, a: lib.linalg.det(a), np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 2.0]))


def test_inv_and_inv_ex():
    value = data(2, 3, 3, seed=4, well=True)
    same_in_both(lambda lib: lib.linalg.inv(make(lib, value, "float32")))
    same_in_both(lambda lib: lib.inverse(make(lib, value)))
    same_in_both(lambda lib: list(lib.linalg.inv_ex(make(lib, value))))
    same_in_both(lambda lib: lib.linalg.inv_ex(lib.zeros(2, 2, 2)).info)  # int32, 1 per matrix
    same_in_both(lambda lib: lib.linalg.inv(lib.zeros(0, 0)))
    for lib in (torch, chainrule):
        result = lib.linalg.inv_ex(make(lib, value))
        assert type(result).__name__ == "linalg_inv_ex"
        assert result.inverse.shape == result[0].shape and result.info.shape == (2,)


def test_singular_raises_linalg_error():
    assert issubclass(chainrule.linalg.LinAlgError, RuntimeError)
    singular = np.ones((3, 3))
    raises_as_torch(lambda lib: lib.linalg.inv(make(lib, singular)))
    raises_as_torch(lambda lib: lib.linalg.solve(make(lib, singular), make(lib, np.ones(3))))
    raises_as_torch(lambda lib: lib.linalg.cholesky(make(lib, -np.eye(3))))
    raises_as_torch(lambda lib: lib.linalg.inv_ex(make(lib, singular), check_errors=True))
    for lib in (torch, chainrule):
        with pytest.raises(lib.linalg.LinAlgError):
            lib.linalg.inv(make(lib, singular))


def test_inv_errors():
    raises_as_torch(lambda lib: lib.linalg.inv(lib.ones(2, 3)))
    raises_as_torch(lambda lib: lib.linalg.inv(lib.eye(2, dtype=lib.int64)))
    raises_as_torch(lambda lib: lib.linalg.inv(lib.ones(3)))


def test_inv_gradient():
    grads_in_both(lambda lib, a: (lib.linalg.inv(a) * lib.arange(9.0, dtype=lib.float64).reshape(3, 3)).sum(),
                  data(3, 3, seed=5, well=True))


# --- solvers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("b_shape", [(3,), (3, 2), (2, 3), (2, 3, 2), (4, 2, 3, 1)])
def test_solve_broadcasting(b_shape):
    a = data(2, 3, 3, seed=6, well=True)
    b = data(*b_shape, seed=7)
    same_in_both(lambda lib: lib.linalg.solve(make(lib, a), make(lib, b)))


def test_solve_left_false_ex_and_dtypes():
    a = data(3, 3, seed=6, well=True)
    b = data(2, 3, seed=7)
    same_in_both(lambda lib: lib.linalg.solve(make(lib, a), make(lib, b), left=False))
    same_in_both(lambda lib: lib.linalg.solve(make(lib, a, "float32"), make(lib, b.T, "float32")))
    same_in_both(lambda lib: list(lib.linalg.solve_ex(make(lib, a), make(lib, b.T))))
    same_in_both(lambda lib: lib.linalg.solve(lib.zeros(0, 0), lib.zeros(0, 2)))
    raises_as_torch(lambda lib: lib.linalg.solve(make(lib, a), make(lib, b.T, "float32")))
    raises_as_torch(lambda lib: lib.linalg.solve(make(lib, a), make(lib, np.ones((4, 2)))))
    for lib in (torch, chainrule):
        result = lib.linalg.solve_ex(make(lib, a), make(lib, b.T))
        assert type(result).__name__ == "linalg_solve_ex"
        assert result.result.shape == (3, 2) and int(result.info) == 0


def test_solve_gradient():
    grads_in_both(lambda lib, a, b: (lib.linalg.solve(a, b) ** 2).sum(), data(3, 3, seed=8, well=True), data(3, 2, seed=9))
    grads_in_both(lambda lib, a, b: (lib.linalg.solve(a, b, left=False) ** 2).sum(), data(3, 3, seed=8, well=True),
                  data(2, 3, seed=9))


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
def test_solve_triangular(upper, left, unitriangular):
    a = data(2, 3, 3, seed=10, well=True)
    b = data(2, 3, 4, seed=11) if left else data(2, 4, 3, seed=11)
    same_in_both(lambda lib: lib.linalg.solve_triangular(make(lib, a), make(lib, b), upper=upper, left=left,
                                                         unitriangular=unitriangular))
    grads_in_both(lambda lib, x, y: (lib.linalg.solve_triangular(x, y, upper=upper, left=left,
                                                                 unitriangular=unitriangular) ** 2).sum(), a, b)


def test_solve_triangular_requires_upper_and_legacy_triangular_solve():
    a = data(3, 3, seed=10, well=True)
    b = data(3, 2, seed=11)
    raises_as_torch(lambda lib: lib.linalg.solve_triangular(make(lib, a), make(lib, b)))
    raises_as_torch(lambda lib: lib.linalg.solve_triangular(make(lib, a), make(lib, np.ones(3)), upper=True))
    same_in_both(lambda lib: list(lib.triangular_solve(make(lib, b), make(lib, a))))
    same_in_both(lambda lib: list(lib.triangular_solve(make(lib, b), make(lib, a), upper=False, transpose=True)))


# --- decompositions ---------------------------------------------------------------------------

def test_cholesky_and_ex():
    value = data(2, 4, 4, seed=12, spd=True)
    same_in_both(lambda lib: lib.linalg.cholesky(make(lib, value, "float32")))
    same_in_both(lambda lib: lib.linalg.cholesky(make(lib, value), upper=True))
    same_in_both(lambda lib: lib.cholesky(make(lib, value), upper=True))
    same_in_both(lambda lib: list(lib.linalg.cholesky_ex(make(lib, value))))
    same_in_both(lambda lib: lib.linalg.cholesky_ex(make(lib, -np.eye(3))).info)
    same_in_both(lambda lib: lib.linalg.cholesky(lib.zeros(0, 0)))
    grads_in_both(lambda lib, a: (lib.linalg.cholesky(a @ a.mT + 3 * lib.eye(4, dtype=lib.float64)) ** 3).sum(),
                  data(4, 4, seed=13))
    for lib in (torch, chainrule):
        result = lib.linalg.cholesky_ex(make(lib, value))
        assert type(result).__name__ == "linalg_cholesky_ex"
        assert result.L.shape == (2, 4, 4) and result.info.dtype == lib.int32


def test_cholesky_solve_and_inverse():
    value = data(4, 4, seed=12, spd=True)
    b = data(4, 2, seed=14)
    same_in_both(lambda lib: lib.cholesky_solve(make(lib, b), lib.linalg.cholesky(make(lib, value))))
    same_in_both(lambda lib: lib.cholesky_inverse(lib.linalg.cholesky(make(lib, value))))
    same_in_both(lambda lib: lib.cholesky_inverse(lib.linalg.cholesky(make(lib, value), upper=True), upper=True))


@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 4, 3), (0, 3)])
def test_qr_modes(mode, shape):
    value = data(*shape, seed=15)

    def run(lib):
        q, r = lib.linalg.qr(make(lib, value), mode=mode)
        # signs of the Householder reflections are LAPACK's choice: compare sign-free quantities
        out = [r.abs(), lib.zeros(0) if mode == "r" else (q @ r)]
        return out + [tuple(q.shape)]
    same_in_both(run)


def test_qr_names_errors_and_gradient():
    for lib in (torch, chainrule):
        result = lib.linalg.qr(lib.ones(3, 2))
        assert type(result).__name__ == "linalg_qr" and result.Q.shape == (3, 2) and result.R.shape == (2, 2)
        assert type(lib.qr(lib.ones(3, 2))).__name__ == "qr"
    raises_as_torch(lambda lib: lib.linalg.qr(lib.ones(3, 2), mode="full"))
    grads_in_both(lambda lib, a: (lib.linalg.qr(a).R ** 2 * lib.arange(1.0, 10.0, dtype=lib.float64).reshape(3, 3)).sum()
                  + (lib.linalg.qr(a).Q ** 2).sum(), data(4, 3, seed=16))


@pytest.mark.parametrize("full_matrices", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3), (0, 3)])
def test_svd(full_matrices, shape):
    value = data(*shape, seed=17)

    def run(lib):
        u, s, vh = lib.linalg.svd(make(lib, value, "float32"), full_matrices=full_matrices)
        k = s.shape[-1]
        rebuilt = (u[..., :k] * s.unsqueeze(-2)) @ vh[..., :k, :]
        return [s, rebuilt, tuple(u.shape), tuple(vh.shape), str(u.dtype).split(".")[-1]]
    same_in_both(run, rtol=1e-4, atol=1e-5)
    same_in_both(lambda lib: lib.linalg.svdvals(make(lib, value)))


def test_svd_names_legacy_and_gradient():
    value = data(4, 3, seed=18)
    for lib in (torch, chainrule):
        result = lib.linalg.svd(make(lib, value))
        assert type(result).__name__ == "linalg_svd" and result.U.shape == (4, 4) and result.S.shape == (3,)
        assert result.Vh.shape == (3, 3)
        legacy = lib.svd(make(lib, value))
        assert type(legacy).__name__ == "svd" and legacy.V.shape == (3, 3) and legacy.U.shape == (4, 3)
    same_in_both(lambda lib: lib.svd(make(lib, value), compute_uv=False).S)
    grads_in_both(lambda lib, a: lib.linalg.svdvals(a).pow(3).sum(), value)
    # U diag(S) Vh is sign invariant, and so are the projectors U U^T
    grads_in_both(lambda lib, a: ((lambda usv: ((usv.U * usv.S.unsqueeze(-2)) @ usv.Vh).pow(2).sum()
                                   + (usv.U[:, :2] @ usv.U[:, :2].mT).pow(3).sum())(lib.linalg.svd(a, full_matrices=False))),
                  value)


@pytest.mark.parametrize("UPLO", ["L", "U"])
def test_eigh_uplo(UPLO):
    value = data(2, 4, 4, seed=19)  # not symmetric: the triangle UPLO names is used

    def run(lib):
        w, v = lib.linalg.eigh(make(lib, value, "float32"), UPLO=UPLO)
        return [w, (v * w.unsqueeze(-2)) @ v.mT, lib.linalg.eigvalsh(make(lib, value), UPLO=UPLO)]
    same_in_both(run, rtol=1e-4, atol=1e-5)


def test_eigh_names_errors_and_gradient():
    value = data(4, 4, seed=20)
    value = value + value.T
    for lib in (torch, chainrule):
        result = lib.linalg.eigh(make(lib, value))
        assert type(result).__name__ == "linalg_eigh"
        assert result.eigenvalues.shape == (4,) and result.eigenvectors.shape == (4, 4)
    raises_as_torch(lambda lib: lib.linalg.eigh(make(lib, value), UPLO="X"))
    raises_as_torch(lambda lib: lib.linalg.eigh(lib.ones(2, 3)))
    same_in_both(lambda lib: list(lib.linalg.eigh(lib.zeros(0, 0))))
    grads_in_both(lambda lib, a: lib.linalg.eigvalsh(a).pow(3).sum(), value)
    grads_in_both(lambda lib, a: (lambda wv: (wv.eigenvectors[:, -1:] @ wv.eigenvectors[:, -1:].mT
                                              * lib.arange(16.0, dtype=lib.float64).reshape(4, 4)).sum()
                                  + wv.eigenvalues.sum())(lib.linalg.eigh(a)), value, rtol=1e-5, atol=1e-7)


def test_eig_and_eigvals_exist():
    value = data(3, 3, seed=21)
    value = value + value.T

    def run(lib):
        w = lib.linalg.eigvals(make(lib, value))
        return [str(w.dtype).split(".")[-1], tuple(w.shape), tuple(lib.linalg.eig(make(lib, value)).eigenvalues.shape)]
    same_in_both(run)


@pytest.mark.parametrize("pivot_shape", [(3, 3), (2, 4, 3), (3, 4)])
def test_lu_family(pivot_shape):
    value = data(*pivot_shape, seed=22)

    def run(lib):
        a = make(lib, value)
        p, l, u = lib.linalg.lu(a)
        lu, pivots = lib.linalg.lu_factor(a)
        p2, l2, u2 = lib.lu_unpack(lu, pivots)
        return [p, l, u, lu, pivots, p2, l2, u2, list(lib.linalg.lu_factor_ex(a))]
    same_in_both(run)


def test_lu_solve_names_and_gradient():
    a = data(2, 3, 3, seed=23, well=True)
    b = data(2, 3, 2, seed=24)
    same_in_both(lambda lib: lib.linalg.lu_solve(*lib.linalg.lu_factor(make(lib, a)), make(lib, b)))
    same_in_both(lambda lib: lib.linalg.lu_solve(*lib.linalg.lu_factor(make(lib, a)), make(lib, b), adjoint=True))
    same_in_both(lambda lib: lib.linalg.lu_solve(*lib.linalg.lu_factor(make(lib, a)), make(lib, b.swapaxes(-1, -2)),
                                                 left=False))
    same_in_both(lambda lib: lib.lu_solve(make(lib, b), *lib.linalg.lu_factor(make(lib, a))))
    for lib in (torch, chainrule):
        assert type(lib.linalg.lu(lib.eye(2))).__name__ == "linalg_lu"
        result = lib.linalg.lu_factor(lib.eye(2))
        assert type(result).__name__ == "linalg_lu_factor" and result.pivots.dtype == lib.int32
        assert lib.linalg.lu(lib.eye(2)).P.shape == (2, 2)
    grads_in_both(lambda lib, x: (lambda plu: (plu.L ** 2).sum() + (plu.U ** 3).sum())(lib.linalg.lu(x)), a[0])
    grads_in_both(lambda lib, x, y: lib.linalg.lu_solve(*lib.linalg.lu_factor(x), y).pow(2).sum(), a[0], b[0])


# --- least squares, pinv, rank ----------------------------------------------------------------

@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
def test_lstsq_fields(driver):
    a = data(5, 3, seed=25)
    b = data(5, 2, seed=26)

    def run(lib):
        result = lib.linalg.lstsq(make(lib, a), make(lib, b), driver=driver)
        return [type(result).__name__, result.solution, result.residuals, result.rank, result.singular_values]
    same_in_both(run)


def test_lstsq_batched_rank_deficient_and_gradient():
    a = data(2, 5, 3, seed=27)
    a[..., 2] = a[..., 0]
    b = data(2, 5, 2, seed=28)
    same_in_both(lambda lib: list(lib.linalg.lstsq(make(lib, a), make(lib, b), driver="gelsd")))
    same_in_both(lambda lib: lib.linalg.lstsq(make(lib, a, "float32"), make(lib, b, "float32"), rcond=1e-3,
                                              driver="gelsd").rank)
    raises_as_torch(lambda lib: lib.linalg.lstsq(make(lib, a), make(lib, b), driver="foo"))
    raises_as_torch(lambda lib: lib.linalg.lstsq(make(lib, a), make(lib, b[:, :4])))
    grads_in_both(lambda lib, x, y: lib.linalg.lstsq(x, y).solution.pow(2).sum(), data(5, 3, seed=29), data(5, 2, seed=30))


def test_pinv_keywords_and_gradient():
    value = data(2, 4, 3, seed=31)
    sym = data(4, 4, seed=32)
    sym = sym + sym.T
    same_in_both(lambda lib: lib.linalg.pinv(make(lib, value, "float32")), rtol=1e-4, atol=1e-5)
    same_in_both(lambda lib: lib.linalg.pinv(make(lib, value), rtol=0.5))
    same_in_both(lambda lib: lib.linalg.pinv(make(lib, value), atol=1.0, rtol=0.1))
    same_in_both(lambda lib: lib.linalg.pinv(make(lib, sym), hermitian=True))
    same_in_both(lambda lib: lib.pinverse(make(lib, value), rcond=0.3))
    same_in_both(lambda lib: lib.linalg.pinv(lib.zeros(0, 3)))
    grads_in_both(lambda lib, a: lib.linalg.pinv(a).pow(2).sum(), value[0])


def test_matrix_rank():
    value = data(2, 4, 3, seed=33)
    value[1, :, 2] = value[1, :, 1] * 2
    same_in_both(lambda lib: lib.linalg.matrix_rank(make(lib, value)))
    same_in_both(lambda lib: lib.linalg.matrix_rank(make(lib, value), atol=1.0, rtol=0.0))
    same_in_both(lambda lib: lib.linalg.matrix_rank(make(lib, value, "float32"), rtol=0.5))
    same_in_both(lambda lib: lib.linalg.matrix_rank(lib.eye(3), hermitian=True))
    same_in_both(lambda lib: lib.linalg.matrix_rank(lib.zeros(0, 3)))
    raises_as_torch(lambda lib: lib.linalg.matrix_rank(lib.ones(3)))


# --- matrix functions -------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 2, 3, -1, -2])
def test_matrix_power(n):
    value = data(2, 3, 3, seed=34, well=True)
    same_in_both(lambda lib: lib.linalg.matrix_power(make(lib, value), n))
    same_in_both(lambda lib: make(lib, value, "float32").matrix_power(n), rtol=1e-4)
    grads_in_both(lambda lib, a: lib.matrix_power(a, n).pow(2).sum(), value[0])


def test_matrix_power_integer_and_errors():
    same_in_both(lambda lib: lib.linalg.matrix_power(lib.tensor([[1, 2], [3, 4]]), 3))
    raises_as_torch(lambda lib: lib.linalg.matrix_power(lib.tensor([[1, 2], [3, 4]]), -1))
    raises_as_torch(lambda lib: lib.linalg.matrix_power(lib.ones(2, 3), 2))
    raises_as_torch(lambda lib: lib.linalg.matrix_power(lib.ones(2, 2), 1.5))


def test_matrix_exp():
    value = data(2, 3, 3, seed=35)
    same_in_both(lambda lib: lib.linalg.matrix_exp(make(lib, value, "float32")), rtol=1e-4, atol=1e-5)
    same_in_both(lambda lib: lib.matrix_exp(make(lib, 10 * value)), rtol=1e-6)
    same_in_both(lambda lib: make(lib, value).matrix_exp())
    same_in_both(lambda lib: lib.linalg.matrix_exp(lib.zeros(0, 0)))
    grads_in_both(lambda lib, a: (lib.linalg.matrix_exp(a) * lib.arange(9.0, dtype=lib.float64).reshape(3, 3)).sum(),
                  value[0])
    raises_as_torch(lambda lib: lib.linalg.matrix_exp(lib.ones(2, 3)))


def test_cross_and_vecdot():
    x, y = data(4, 3, seed=36), data(4, 3, seed=37)
    same_in_both(lambda lib: lib.linalg.cross(make(lib, x), make(lib, y)))
    same_in_both(lambda lib: lib.linalg.cross(make(lib, x.T), make(lib, y.T), dim=0))
    same_in_both(lambda lib: lib.linalg.cross(make(lib, x), make(lib, y[:1])))  # broadcasts
    same_in_both(lambda lib: lib.cross(make(lib, x.T), make(lib, y.T), dim=0))
    raises_as_torch(lambda lib: lib.linalg.cross(lib.ones(4, 2), lib.ones(4, 2)))
    same_in_both(lambda lib: lib.linalg.vecdot(make(lib, x), make(lib, y)))
    same_in_both(lambda lib: lib.linalg.vecdot(make(lib, x), make(lib, y), dim=0))
    same_in_both(lambda lib: lib.vdot(make(lib, x[0]), make(lib, y[0])))
    grads_in_both(lambda lib, a, b: lib.linalg.cross(a, b).pow(2).sum() + lib.linalg.vecdot(a, b).sum(), x, y)


def test_multi_dot():
    a, b, c = data(2, 3, seed=38), data(3, 4, seed=39), data(4, seed=40)
    same_in_both(lambda lib: lib.linalg.multi_dot([make(lib, a), make(lib, b), make(lib, c)]))
    same_in_both(lambda lib: lib.linalg.multi_dot([make(lib, c), make(lib, b.T), make(lib, a.T)]))
    same_in_both(lambda lib: lib.linalg.multi_dot((make(lib, a), make(lib, b))))
    same_in_both(lambda lib: lib.chain_matmul(make(lib, a), make(lib, b), make(lib, b.T)))
    raises_as_torch(lambda lib: lib.linalg.multi_dot([make(lib, a)]))
    raises_as_torch(lambda lib: lib.linalg.multi_dot([make(lib, a), make(lib, a)]))
    raises_as_torch(lambda lib: lib.linalg.multi_dot([make(lib, a), make(lib, b, "float32")]))
    grads_in_both(lambda lib, x, y, z: lib.linalg.multi_dot([x, y, z]).pow(2).sum(), a, b, c)


def test_householder_product():
    value = data(2, 5, 3, seed=41)
    tau = data(2, 3, seed=42)
    same_in_both(lambda lib: lib.linalg.householder_product(make(lib, value), make(lib, tau)))
    same_in_both(lambda lib: lib.orgqr(make(lib, value), make(lib, tau)))

    def via_geqrf(lib):
        a, t = lib.geqrf(make(lib, value[0]))
        return [lib.linalg.householder_product(a, t).abs(), t.abs()]
    same_in_both(via_geqrf)
    raises_as_torch(lambda lib: lib.linalg.householder_product(make(lib, value), make(lib, data(2, 4))))
    grads_in_both(lambda lib, v, t: lib.linalg.householder_product(v, t).pow(3).sum(), value[0], tau[0])


def test_tensorinv_tensorsolve():
    a = data(4, 6, seed=43, well=False).reshape(4, 6)
    square = data(24, 24, seed=44, well=True)
    same_in_both(lambda lib: lib.linalg.tensorinv(make(lib, square.reshape(4, 6, 8, 3))))
    same_in_both(lambda lib: lib.linalg.tensorinv(make(lib, square.reshape(24, 2, 3, 4)), ind=1))
    same_in_both(lambda lib: lib.linalg.tensorsolve(make(lib, square.reshape(2, 3, 4, 6, 4)), make(lib, a.reshape(2, 3, 4))))
    same_in_both(lambda lib: lib.linalg.tensorsolve(make(lib, square.reshape(4, 6, 24)), make(lib, square[0]),
                                                    dims=(0, 1)))
    raises_as_torch(lambda lib: lib.linalg.tensorinv(make(lib, square.reshape(4, 6, 8, 3)), ind=0))
    raises_as_torch(lambda lib: lib.linalg.tensorinv(make(lib, square.reshape(4, 6, 3, 8)[:, :5])))


@pytest.mark.parametrize("p", [None, "fro", "nuc", 2, -2, 1, -1, float("inf"), float("-inf")])
def test_cond(p):
    value = data(2, 3, 3, seed=45, well=True)
    same_in_both(lambda lib: lib.linalg.cond(make(lib, value, "float32"), p), rtol=1e-4)
    same_in_both(lambda lib: lib.linalg.cond(make(lib, value), p))


def test_cond_rectangular_singular_and_gradient():
    same_in_both(lambda lib: lib.linalg.cond(make(lib, data(4, 3, seed=46))))
    raises_as_torch(lambda lib: lib.linalg.cond(make(lib, data(4, 3, seed=46)), "fro"))
    same_in_both(lambda lib: lib.linalg.cond(lib.zeros(3, 3), "fro"))
    same_in_both(lambda lib: lib.linalg.cond(lib.ones(3, 3), 1))
    grads_in_both(lambda lib, a: lib.linalg.cond(a), data(3, 3, seed=47, well=True))
    grads_in_both(lambda lib, a: lib.linalg.cond(a, -2), data(3, 3, seed=47, well=True))  # PyTorch: inv-based p fail backward


def test_diagonal_and_vander():
    value = data(2, 3, 4, seed=48)
    same_in_both(lambda lib: lib.linalg.diagonal(make(lib, value)))
    same_in_both(lambda lib: lib.linalg.diagonal(make(lib, value), offset=1, dim1=0, dim2=2))
    same_in_both(lambda lib: lib.linalg.diagonal(make(lib, value), offset=-2))
    x = np.array([1.0, 2.0, 3.0])
    same_in_both(lambda lib: lib.linalg.vander(make(lib, x)))
    same_in_both(lambda lib: lib.linalg.vander(make(lib, x), N=5))
    same_in_both(lambda lib: lib.linalg.vander(lib.tensor([[1, 2], [3, 4]])))
    same_in_both(lambda lib: lib.vander(make(lib, x)))  # torch.vander: decreasing powers
    same_in_both(lambda lib: lib.vander(make(lib, x), N=2, increasing=True))
    raises_as_torch(lambda lib: lib.linalg.vander(lib.tensor(1.0)))
    grads_in_both(lambda lib, t: lib.linalg.vander(t, N=4).pow(2).sum(), x)


def test_float32_result_dtypes_and_int_inputs():
    value = data(3, 3, seed=49, well=True)

    def dtypes(lib):
        a = make(lib, value, "float32")
        outs = [lib.linalg.det(a), lib.linalg.inv(a), lib.linalg.slogdet(a).sign, lib.linalg.svd(a).S,
                lib.linalg.eigh(a).eigenvalues, lib.linalg.qr(a).Q, lib.linalg.pinv(a), lib.linalg.matrix_exp(a),
                lib.linalg.cond(a), lib.linalg.matrix_rank(a), lib.linalg.lstsq(a, a).solution,
                lib.linalg.lstsq(a, a).rank, lib.linalg.lu_factor(a).pivots, lib.linalg.vector_norm(a),
                lib.linalg.matrix_norm(a, "nuc")]
        return [str(out.dtype).split(".")[-1] for out in outs]
    same_in_both(dtypes)


@pytest.mark.parametrize("name", ["det", "inv", "cholesky", "svdvals", "pinv", "matrix_exp", "slogdet", "qr", "svd",
                                  "eigh", "eigvalsh", "lu_factor", "ldl_factor", "matrix_rank"])
def test_integer_matrix_raises(name):
    raises_as_torch(lambda lib: getattr(lib.linalg, name)(lib.eye(3, dtype=lib.int64)))


_INTEGER_KERNELS = {  # PyTorch reaches LAPACK's kernel, which has no integer version: NotImplementedError
    "solve_triangular": lambda lib, a: lib.linalg.solve_triangular(a, a, upper=True),
    "householder_product": lambda lib, a: lib.linalg.householder_product(a, a[0]),
    "geqrf": lambda lib, a: lib.geqrf(a),
    "ormqr": lambda lib, a: lib.ormqr(a, a[0], a),
    "legacy_cholesky": lambda lib, a: lib.cholesky(a),
    "cholesky_solve": lambda lib, a: lib.cholesky_solve(a, a),
    "cholesky_inverse": lambda lib, a: lib.cholesky_inverse(a),
    "triangular_solve": lambda lib, a: lib.triangular_solve(a, a),
}


@pytest.mark.parametrize("name", sorted(_INTEGER_KERNELS))
def test_integer_matrix_raises_not_implemented(name):
    raises_as_torch(lambda lib: _INTEGER_KERNELS[name](lib, lib.eye(3, dtype=lib.int64)))


def test_named_tuple_reprs_and_field_access():
    value = data(2, 2, seed=50, well=True)

    def run(lib):
        a = make(lib, value)
        out = []
        for result, fields in [(lib.linalg.slogdet(a), ("sign", "logabsdet")), (lib.linalg.eigh(a), ("eigenvalues", "eigenvectors")),
                               (lib.linalg.lu_factor(a), ("LU", "pivots")), (lib.linalg.lu(a), ("P", "L", "U")),
                               (lib.linalg.lstsq(a, a), ("solution", "residuals", "rank", "singular_values")),
                               (lib.linalg.cholesky_ex(a @ a.T), ("L", "info"))]:
            out.append(type(result).__name__)
            out.append(len(result))
            for position, field in enumerate(fields):
                assert getattr(result, field) is result[position]
        out.append(repr(lib.linalg.slogdet(a)).replace("torch.", "").replace("chainrule.", ""))
        return out
    same_in_both(run)


# --- deprecation warnings of the legacy torch.* spellings ----------------------------------------

_DEPRECATED = {
    "cross_without_dim": lambda lib: lib.cross(lib.ones(3, 3), lib.ones(3, 3)),
    "lu": lambda lib: lib.lu(lib.eye(3)),
    "chain_matmul": lambda lib: lib.chain_matmul(lib.eye(2), lib.eye(2)),
    "cholesky": lambda lib: lib.cholesky(lib.eye(2)),
    "qr": lambda lib: lib.qr(lib.eye(2)),
    "triangular_solve": lambda lib: lib.triangular_solve(lib.eye(2), lib.eye(2)),
    "lu_solve": lambda lib: lib.lu_solve(lib.eye(2), *lib.linalg.lu_factor(lib.eye(2))),
}


@pytest.mark.parametrize("name", sorted(_DEPRECATED))
def test_legacy_functions_warn_deprecated(name):
    # these warn once per process (TORCH_WARN_ONCE) unless set_warn_always(True)
    found = {}
    for lib in (torch, chainrule):
        lib.set_warn_always(True)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                _DEPRECATED[name](lib)
        finally:
            lib.set_warn_always(False)
        found[lib] = [(each.category, "deprecated" in str(each.message)) for each in caught]
    assert found[torch] == [(UserWarning, True)]
    assert found[chainrule] == found[torch]


# --- bad inputs found to differ -----------------------------------------------------------------

_NAN = float("nan")


@pytest.mark.parametrize("name", ["svd", "svdvals", "eigh", "eigvalsh", "pinv", "matrix_rank", "matrix_norm_nuc"])
def test_nan_input_raises_linalg_error(name):
    def run(lib):
        a = lib.full((3, 3), _NAN)
        if name == "matrix_norm_nuc":
            return lib.linalg.matrix_norm(a, "nuc")
        return getattr(lib.linalg, name)(a)
    raises_as_torch(run)


_NAN_RAISES = {
    "legacy_svd": lambda lib, a: lib.svd(a),
    "pinverse": lambda lib, a: lib.pinverse(a),
    "cond": lambda lib, a: lib.linalg.cond(a),
    "cond_nuc": lambda lib, a: lib.linalg.cond(a, "nuc"),
    "matrix_norm_2": lambda lib, a: lib.linalg.matrix_norm(a, 2),
    "svd_lowrank": lambda lib, a: lib.svd_lowrank(a, q=2),
    "lstsq": lambda lib, a: lib.linalg.lstsq(a, a),
}


@pytest.mark.parametrize("name", sorted(_NAN_RAISES))
def test_nan_batch_element_raises_linalg_error_naming_it(name):
    value = np.stack([np.eye(3), np.eye(3)])
    value[1, 1, 1] = _NAN
    raises_as_torch(lambda lib: _NAN_RAISES[name](lib, make(lib, value)))
    with pytest.raises(chainrule.linalg.LinAlgError, match=r"\(Batch element 1\)"):
        _NAN_RAISES[name](chainrule, make(chainrule, value))


def test_nan_and_inf_matrices_that_give_values():
    value = np.stack([np.eye(3) + 0.1, np.eye(3) + 0.1])
    value[1, 2, 2] = _NAN
    inf = np.diag([1.0, 1.0, np.inf])
    same_in_both(lambda lib: list(lib.linalg.slogdet(make(lib, value))))  # sign 0 where the determinant is nan
    same_in_both(lambda lib: lib.linalg.matrix_exp(make(lib, value)))  # nan only in the matrix that holds it
    same_in_both(lambda lib: lib.linalg.det(make(lib, value)))
    same_in_both(lambda lib: lib.linalg.svdvals(make(lib, inf)))
    same_in_both(lambda lib: lib.linalg.eigvalsh(make(lib, inf)))
    for p in ["fro", 1, -1, float("inf"), float("-inf")]:
        same_in_both(lambda lib: lib.linalg.cond(make(lib, value), p))  # inf, not nan


def test_cond_nuc_of_singular_matrix():
    same_outcome(lambda lib: lib.linalg.cond(lib.zeros(3, 3, dtype=lib.float64), "nuc"))
    # ones((3, 3)) has two singular values 0, which LAPACK builds may give as 0 or as ~1e-17:
    # cond is then inf or past 1e30; eye(3)'s is 9 in both
    stacked = lambda lib: lib.linalg.cond(make(lib, np.stack([np.ones((3, 3)), np.eye(3)])), "nuc").tolist()
    for lib in (torch, chainrule):
        singular, identity = stacked(lib)
        assert singular > 1e30 and identity == pytest.approx(9.0), (lib.__name__, singular, identity)


def test_cond_other_orders_of_singular_matrix():
    for p in ["fro", 1, -1, float("inf"), float("-inf")]:
        same_outcome(lambda lib: lib.linalg.cond(lib.zeros(3, 3, dtype=lib.float64), p))


@pytest.mark.parametrize("other", ["float64", "int64", "float16"])
def test_vecdot_mixed_dtypes_raise(other):
    raises_as_torch(lambda lib: lib.linalg.vecdot(lib.ones(3), lib.ones(3, dtype=getattr(lib, other))))


_BFLOAT16 = pytest.mark.xfail(strict=True, reason="chainrule has no bfloat16 arrays (NumPy has none): making the "
                                                  "matrix raises TypeError, by design")


@pytest.mark.parametrize("dtype", ["float16", pytest.param("bfloat16", marks=_BFLOAT16)])
@pytest.mark.parametrize("name", ["det", "inv", "cholesky", "svd", "eigh", "qr", "solve"])
def test_half_precision_matrix_raises(name, dtype):
    def run(lib):
        a = lib.eye(3, dtype=getattr(lib, dtype))
        return lib.linalg.solve(a, a) if name == "solve" else getattr(lib.linalg, name)(a)
    raises_as_torch(run)


_HALF_REFUSED = {
    "slogdet": lambda lib, a: lib.linalg.slogdet(a),
    "logdet": lambda lib, a: lib.logdet(a),
    "inv_ex": lambda lib, a: lib.linalg.inv_ex(a),
    "svdvals": lambda lib, a: lib.linalg.svdvals(a),
    "eigvalsh": lambda lib, a: lib.linalg.eigvalsh(a),
    "cholesky_ex": lambda lib, a: lib.linalg.cholesky_ex(a),
    "lu_factor": lambda lib, a: lib.linalg.lu_factor(a),
    "lu_factor_ex": lambda lib, a: lib.linalg.lu_factor_ex(a),
    "lu": lambda lib, a: lib.linalg.lu(a),
    "lu_solve": lambda lib, a: lib.linalg.lu_solve(a, lib.ones(3, dtype=lib.int32), a),
    "pinv": lambda lib, a: lib.linalg.pinv(a),
    "matrix_rank": lambda lib, a: lib.linalg.matrix_rank(a),
    "lstsq": lambda lib, a: lib.linalg.lstsq(a, a),
    "matrix_norm_nuc": lambda lib, a: lib.linalg.matrix_norm(a, "nuc"),
    "cond": lambda lib, a: lib.linalg.cond(a),
    "cond_fro": lambda lib, a: lib.linalg.cond(a, "fro"),
    "solve_triangular": lambda lib, a: lib.linalg.solve_triangular(a, a, upper=True),
    "householder_product": lambda lib, a: lib.linalg.householder_product(a, a[0]),
    "geqrf": lambda lib, a: lib.geqrf(a),
    "ldl_factor": lambda lib, a: lib.linalg.ldl_factor(a),
    "ldl_solve": lambda lib, a: lib.linalg.ldl_solve(a, lib.ones(3, dtype=lib.int32), a),
    "tensorsolve": lambda lib, a: lib.linalg.tensorsolve(a, a[0]),
    "svd_lowrank": lambda lib, a: lib.svd_lowrank(a, q=2),
    "vander": lambda lib, a: lib.linalg.vander(a[0]),
}


@pytest.mark.parametrize("name", sorted(_HALF_REFUSED))
def test_half_precision_refused_as_torch(name):
    raises_as_torch(lambda lib: _HALF_REFUSED[name](lib, lib.eye(3, dtype=lib.float16)))


def test_half_precision_kept_where_torch_computes():
    same_in_both(lambda lib: lib.linalg.matrix_norm(lib.eye(3, dtype=lib.float16)))
    same_in_both(lambda lib: lib.linalg.multi_dot([lib.eye(3, dtype=lib.float16)] * 2))


@pytest.mark.parametrize("driver", ["gesvd", "gesvdj", "gesvda"])
def test_svd_driver_is_cuda_only(driver):
    raises_as_torch(lambda lib: lib.linalg.svdvals(lib.eye(3), driver=driver))
    raises_as_torch(lambda lib: lib.linalg.svd(lib.eye(3), driver=driver))


def test_logdet_of_negative_determinant_has_zero_gradient():
    value = np.array([[0.1, 1.2], [1.3, 0.4]])  # det < 0: logdet is nan, its gradient 0
    for lib in (torch, chainrule):
        a = make(lib, value, grad=True)
        lib.logdet(a).backward()
        assert np.isnan(float(lib.logdet(a.detach())))
        np.testing.assert_array_equal(np.abs(a.grad.numpy()), np.zeros((2, 2)))


def test_slogdet_gradient_of_singular_matrix_is_infinite():
    same_in_both(lambda lib: _grad_of(lib, lambda t: lib.linalg.slogdet(t).logabsdet, np.ones((2, 2))))


@pytest.mark.parametrize("name", ["eigh", "eigvalsh"])
@pytest.mark.parametrize("uplo", ["l", "u"])
def test_eigh_lowercase_uplo(name, uplo):
    value = data(3, 3, seed=51)
    same_in_both(lambda lib: list(getattr(lib.linalg, name)(make(lib, value), UPLO=uplo))[0] if name == "eigh"
                 else lib.linalg.eigvalsh(make(lib, value), UPLO=uplo))


def test_linalg_vander_bool_raises():
    raises_as_torch(lambda lib: lib.linalg.vander(lib.tensor([True, False, True])))
    raises_as_torch(lambda lib: lib.linalg.vander(lib.tensor(True)))
