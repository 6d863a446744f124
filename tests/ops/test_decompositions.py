"""Matrix functions and decompositions (ops/decompositions.py, linalg.py): the table runs gradcheck
and the PyTorch comparison over batches of matrices; then the singular determinant, second order,
return types and errors."""
import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import library_case, table_test
from tests.ops.second_order import second_order_test

SIDE = st.integers(1, 3)
BATCH = st.lists(st.integers(0, 3), min_size=0, max_size=2).map(tuple)
FILLED_BATCH = st.lists(SIDE, min_size=0, max_size=2).map(tuple)


@st.composite
def square(draw, count=1):
    """``count`` batches of n x n matrices of one batch shape (an empty batch included)."""
    batch, size = draw(BATCH), draw(SIDE)
    return ((batch + (size, size)),) * count


@st.composite
def rectangular(draw, tall=None, empty=True):
    """A batch of m x n matrices: m >= n when ``tall``, m <= n when not, either when None; an empty
    batch among them when ``empty``."""
    batch, rows, columns = draw(BATCH if empty else FILLED_BATCH), draw(SIDE), draw(SIDE)
    if tall is not None and (rows >= columns) != tall:
        rows, columns = columns, rows
    return (batch + (rows, columns),)


@st.composite
def system(draw, vector=False, broadcast=False):
    """A (*, n, n) and B (*, n, k) (or B (*, n)); with ``broadcast`` A has no batch dimensions."""
    batch, size = draw(BATCH), draw(SIDE)
    B = batch + ((size,) if vector else (size, draw(SIDE)))
    return ((size, size) if broadcast else batch + (size, size)), B


def well_conditioned(array):
    """Square matrices made far from singular: a + 3 I (Gershgorin: every eigenvalue is near 3)."""
    return array + 3 * np.eye(*array.shape[-2:]) if array.ndim >= 2 else array


def symmetric(lib, a):
    return a + a.mT


def positive_definite(lib, a):
    return a @ a.mT + lib.eye(a.shape[-1], dtype=a.dtype)


def distinct_spectrum(lib, a):
    """A symmetric matrix with eigenvalues well apart (1, 4, 7, ...), rotated by a's QR."""
    size = a.shape[-1]
    Q = lib.linalg.qr(a + 3 * lib.eye(size, dtype=a.dtype)).Q
    return Q @ lib.diag_embed(lib.arange(size, dtype=a.dtype) * 3 + 1) @ Q.mT + 0.1 * symmetric(lib, a)


def weighted(lib, vectors):
    """A sign-invariant function of singular/eigen vectors (each column's sign is arbitrary)."""
    return vectors * vectors * lib.arange(1, vectors.shape[-1] + 1, dtype=vectors.dtype)


def case(name, fn, shapes, **kwargs):
    return library_case(name, fn, shapes, **kwargs)


CASES = [
    case("inv", lambda lib, a: lib.linalg.inv(a), square(), domain=well_conditioned),
    case("inverse", lambda lib, a: a.inverse(), square(), domain=well_conditioned),
    case("inv_ex", lambda lib, a: lib.linalg.inv_ex(a).inverse, square(), domain=well_conditioned),
    case("det", lambda lib, a: lib.linalg.det(a), square()),
    case("det_method", lambda lib, a: a.det(), square()),
    case("slogdet", lambda lib, a: lib.linalg.slogdet(a).logabsdet, square(), domain=well_conditioned),
    case("slogdet_sign", lambda lib, a: lib.slogdet(a)[0], square(), domain=well_conditioned),
    case("logdet", lambda lib, a: lib.logdet(positive_definite(lib, a)), square()),
    case("solve", lambda lib, a, b: lib.linalg.solve(a, b), system(), domain=well_conditioned),
    case("solve_vector", lambda lib, a, b: lib.linalg.solve(a, b), system(vector=True), domain=well_conditioned),
    case("solve_broadcast", lambda lib, a, b: lib.linalg.solve(a, b), system(broadcast=True), domain=well_conditioned),
    case("solve_right", lambda lib, a, b: lib.linalg.solve(a, b.mT, left=False), system(), domain=well_conditioned),
    case("solve_ex", lambda lib, a, b: lib.linalg.solve_ex(a, b).result, system(), domain=well_conditioned),
    case("solve_triangular", lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True), system(), domain=well_conditioned),
    case("solve_triangular_unit", lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=False, unitriangular=True), system()),
    case("cholesky", lambda lib, a: lib.linalg.cholesky(positive_definite(lib, a)), square()),
    case("cholesky_upper", lambda lib, a: lib.linalg.cholesky(positive_definite(lib, a), upper=True), square()),
    case("cholesky_ex", lambda lib, a: lib.linalg.cholesky_ex(positive_definite(lib, a)).L, square()),
    case("cholesky_solve", lambda lib, l, b: lib.cholesky_solve(b, l.tril()), system(), domain=well_conditioned),
    case("cholesky_solve_upper", lambda lib, u, b: b.cholesky_solve(u.triu(), upper=True), system(), domain=well_conditioned),
    case("cholesky_inverse", lambda lib, l: lib.cholesky_inverse(l.tril()), square(), domain=well_conditioned),
    case("cholesky_inverse_upper", lambda lib, l: l.triu().cholesky_inverse(upper=True), square(), domain=well_conditioned),
    case("qr_Q", lambda lib, a: lib.linalg.qr(a).Q, rectangular(), domain=well_conditioned),
    case("qr_R", lambda lib, a: lib.linalg.qr(a).R, rectangular(), domain=well_conditioned),
    case("qr_both", lambda lib, a: lib.cat(list(lib.linalg.qr(a)), -1), rectangular(tall=False), domain=well_conditioned),
    case("qr_complete_wide", lambda lib, a: lib.cat(list(lib.linalg.qr(a, mode="complete")), -1), rectangular(tall=False), domain=well_conditioned),
    case("svdvals", lambda lib, a: lib.linalg.svdvals(a), rectangular()),
    case("svd_S", lambda lib, a: lib.linalg.svd(a, full_matrices=False).S, rectangular()),
    case("svd_U", lambda lib, a: weighted(lib, lib.linalg.svd(a, full_matrices=False).U), rectangular()),
    case("svd_Vh", lambda lib, a: weighted(lib, lib.linalg.svd(a, full_matrices=False).Vh.mT), rectangular()),
    case("eigh_values", lambda lib, a: lib.linalg.eigh(symmetric(lib, a)).eigenvalues, square()),
    case("eigh_vectors", lambda lib, a: weighted(lib, lib.linalg.eigh(distinct_spectrum(lib, a)).eigenvectors), square()),
    case("eigh_upper", lambda lib, a: lib.linalg.eigh(symmetric(lib, a), UPLO="U").eigenvalues, square()),
    case("eigvalsh", lambda lib, a: lib.linalg.eigvalsh(symmetric(lib, a)), square()),
    case("pinv", lambda lib, a: lib.linalg.pinv(a), rectangular(), domain=well_conditioned),
    case("pinverse", lambda lib, a: a.pinverse(), rectangular(), domain=well_conditioned),
    case("matrix_exp", lambda lib, a: lib.linalg.matrix_exp(a), square()),
    case("matrix_exp_large", lambda lib, a: (a * 4).matrix_exp(), square()),
    case("matrix_power_3", lambda lib, a: lib.linalg.matrix_power(a, 3), square()),
    case("matrix_power_-2", lambda lib, a: a.matrix_power(-2), square(), domain=well_conditioned),
    case("matrix_power_0", lambda lib, a: lib.matrix_power(a, 0), square()),
    case("lstsq", lambda lib, a, b: lib.linalg.lstsq(a, b).solution, system(), domain=well_conditioned),
    case("lstsq_vector", lambda lib, a, b: lib.linalg.lstsq(a, b).solution, system(vector=True), domain=well_conditioned),
    case("lstsq_tall", lambda lib, a, b: lib.linalg.lstsq(a, b).solution, st.just(((2, 4, 2), (2, 4, 3)))),
    case("multi_dot", lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]), st.just(((3,), (3, 2), (2,)))),
    case("multi_dot_matrices", lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]), st.just(((2, 3), (3, 4), (4, 1)))),
    case("vecdot", lambda lib, a, b: lib.linalg.vecdot(a, b), st.just(((2, 3), (3,)))),
    case("linalg_matmul", lambda lib, a, b: lib.linalg.matmul(a, b), st.just(((2, 3), (3, 4)))),
    case("cond", lambda lib, a: lib.linalg.cond(a), square(), domain=well_conditioned),
    # PyTorch's own backward of cond(A, "fro") fails (it writes into a saved inverse): values only
    case("cond_fro", lambda lib, a: lib.linalg.cond(a, "fro"), square(), domain=well_conditioned, differentiable=[False]),
    case("cond_-2", lambda lib, a: lib.linalg.cond(a, -2), square(), domain=well_conditioned),
    case("linalg_cross", lambda lib, a, b: lib.linalg.cross(a, b), st.just(((2, 1, 3), (1, 4, 3)))),
    case("linalg_cross_dim", lambda lib, a, b: lib.linalg.cross(a, b, dim=0), st.just(((3, 2), (3, 1)))),
    case("linalg_diagonal", lambda lib, a: lib.linalg.diagonal(a, offset=1), rectangular()),
    case("linalg_vander", lambda lib, x: lib.linalg.vander(x), st.tuples(BATCH.map(lambda batch: batch + (3,)))),
    case("linalg_vander_N", lambda lib, x: lib.linalg.vander(x, N=4), st.just(((3,),))),
    case("tensorinv", lambda lib, a: lib.linalg.tensorinv(a.reshape(2, 3, 6)[..., :6].reshape(2, 3, 2, 3)), st.just(((36,),)),
         domain=lambda a: (a.reshape(6, 6) + 3 * np.eye(6)).reshape(36)),
    case("tensorinv_ind_1", lambda lib, a: lib.linalg.tensorinv(a, ind=1), st.just(((4, 2, 2),)),
         domain=lambda a: (a.reshape(4, 4) + 3 * np.eye(4)).reshape(4, 2, 2)),
    case("tensorsolve", lambda lib, a, b: lib.linalg.tensorsolve(a, b), st.just(((2, 3, 6), (2, 3))),
         domain=lambda a: (a.reshape(6, 6) + 3 * np.eye(6)).reshape(2, 3, 6) if a.size == 36 else a),
    case("tensorsolve_dims", lambda lib, a, b: lib.linalg.tensorsolve(a, b, dims=(0,)), st.just(((6, 2, 3), (2, 3))),
         domain=lambda a: (a.reshape(6, 6) + 3 * np.eye(6)).reshape(6, 2, 3) if a.size == 36 else a),
]
NORMS = [
    case("vector_norm", lambda lib, a: lib.linalg.vector_norm(a), rectangular()),
    case("vector_norm_dim", lambda lib, a: lib.linalg.vector_norm(a, 3, dim=-1, keepdim=True), rectangular()),
    case("vector_norm_1", lambda lib, a: lib.linalg.vector_norm(a, 1, dim=(0, -1)), st.just(((2, 3, 2),))),
    case("vector_norm_inf", lambda lib, a: lib.linalg.vector_norm(a, float("inf"), dim=-1), rectangular()),
    case("vector_norm_-inf", lambda lib, a: lib.linalg.vector_norm(a, -float("inf"), dim=-1), rectangular()),
    case("vector_norm_0", lambda lib, a: lib.linalg.vector_norm(a, 0), rectangular()),
    case("vector_norm_-1", lambda lib, a: lib.linalg.vector_norm(a, -1, dim=-2), st.just(((3, 2),))),
    case("norm", lambda lib, a: lib.linalg.norm(a), rectangular()),
    case("norm_vector_ord", lambda lib, a: lib.linalg.norm(a, 1, dim=-1), rectangular()),
    case("norm_matrix_ord", lambda lib, a: lib.linalg.norm(a, "fro"), st.just(((3, 2),))),
    case("norm_nuc", lambda lib, a: lib.linalg.norm(a, "nuc", dim=(0, 2)), st.just(((3, 2, 2),))),
    *[
        case(f"matrix_norm_{order}", lambda lib, a, order=order: lib.linalg.matrix_norm(a, order), rectangular())
        for order in ("fro", "nuc", 2, -2, 1, -1, float("inf"), -float("inf"))
    ],
    *[
        case(f"matrix_norm_empty_{order}", lambda lib, a, order=order: lib.linalg.matrix_norm(a, order), st.just(((3, 0),)))
        for order in ("fro", "nuc", 2, 1, float("inf"))
    ],
    case("matrix_norm_keepdim", lambda lib, a: lib.linalg.matrix_norm(a, 1, dim=(0, 2), keepdim=True), st.just(((3, 2, 4),))),
    case("matrix_norm_nuc_keepdim", lambda lib, a: lib.linalg.matrix_norm(a, "nuc", dim=(2, 0), keepdim=True), st.just(((3, 2, 4),))),
]


test_op = table_test(CASES + NORMS)
SECOND_ORDER = {
    "inv", "det", "slogdet", "logdet", "solve", "solve_vector", "solve_broadcast", "cholesky", "matrix_exp", "pinv", "svdvals",
    "eigh_values", "qr_Q", "qr_R", "qr_both", "svd_U", "svd_Vh", "eigh_vectors", "cholesky_solve", "solve_triangular", "lstsq",
    "matrix_power_-2", "cond", "inv_ex",
}
test_second_order = second_order_test(
    [each for each in CASES if each.name in SECOND_ORDER] + [each for each in NORMS if "inf" not in each.name and "_0" not in each.name]
)


@pytest.mark.parametrize("matrix", [[[1.0, 2.0], [2.0, 4.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 0, 0], [0, 0, 0], [0, 0, 2]]])
def test_det_of_a_singular_matrix_has_the_cofactors_as_gradient(matrix):
    """PyTorch's recorded (create_graph) gradient: the cofactor matrix, from the SVD. (Its plain
    backward gives zeros here, an artefact of solving with a singular LU.)"""
    results = []
    for lib in (chainrule, torch):
        A = lib.tensor(matrix, dtype=lib.float64, requires_grad=True)
        (grad,) = lib.autograd.grad(lib.linalg.det(A), A, create_graph=True)
        results.append(grad.detach().numpy())
    np.testing.assert_allclose(*results, atol=1e-12)
    A = chainrule.tensor(matrix, dtype=chainrule.float64, requires_grad=True)
    chainrule.linalg.det(A).backward()
    np.testing.assert_allclose(A.grad.numpy(), results[1], atol=1e-12)


def test_return_types_are_named_as_pytorchs():
    A = np.eye(3) * 2
    for name, call in [
        ("linalg_slogdet", lambda lib, a: lib.linalg.slogdet(a)),
        ("linalg_qr", lambda lib, a: lib.linalg.qr(a)),
        ("linalg_svd", lambda lib, a: lib.linalg.svd(a)),
        ("linalg_eigh", lambda lib, a: lib.linalg.eigh(a)),
        ("linalg_inv_ex", lambda lib, a: lib.linalg.inv_ex(a)),
        ("linalg_solve_ex", lambda lib, a: lib.linalg.solve_ex(a, a)),
        ("linalg_cholesky_ex", lambda lib, a: lib.linalg.cholesky_ex(a)),
        ("linalg_lstsq", lambda lib, a: lib.linalg.lstsq(a, a)),
    ]:
        ours, theirs = call(chainrule, chainrule.tensor(A)), call(torch, torch.tensor(A))
        assert type(ours).__name__ == type(theirs).__name__ == name
        assert len(ours) == len(theirs)
        for field in ours.__match_args__:
            mine, reference = getattr(ours, field), getattr(theirs, field)
            assert mine.dtype == chainrule.tensor(reference.numpy()).dtype, (name, field)
            np.testing.assert_allclose(mine.numpy(), reference.numpy(), atol=1e-12)


def test_matrix_rank_counts_singular_values_above_the_tolerance():
    A = np.array([[[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.0], [0.0, 1e-3]]])
    for kwargs in ({}, {"atol": 1e-2}, {"rtol": 1e-2}, {"hermitian": True}):
        ours = chainrule.linalg.matrix_rank(chainrule.tensor(A), **kwargs)
        theirs = torch.linalg.matrix_rank(torch.tensor(A), **kwargs)
        assert ours.dtype == chainrule.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_qr_modes_and_full_svd_values():
    A = np.random.default_rng(0).standard_normal((4, 2))
    for mode in ("r", "complete"):
        ours, theirs = chainrule.linalg.qr(chainrule.tensor(A), mode=mode), torch.linalg.qr(torch.tensor(A), mode=mode)
        for mine, reference in zip(ours, theirs):
            assert tuple(mine.shape) == tuple(reference.shape)
            np.testing.assert_allclose(mine.numpy(), reference.numpy(), atol=1e-12)
    ours, theirs = chainrule.linalg.svd(chainrule.tensor(A)), torch.linalg.svd(torch.tensor(A))
    assert [tuple(each.shape) for each in ours] == [tuple(each.shape) for each in theirs]
    np.testing.assert_allclose(ours.S.numpy(), theirs.S.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.U.numpy().T @ ours.U.numpy(), np.eye(4), atol=1e-12)


@pytest.mark.parametrize("mode", ["r", "complete"])
def test_qr_without_a_gradient_raises_pytorchs_error_in_backward(mode):
    for lib in (chainrule, torch):
        a = lib.tensor(np.random.default_rng(2).standard_normal((4, 2)), requires_grad=True)
        Q, R = lib.linalg.qr(a, mode=mode)
        assert R.grad_fn.name() == "LinalgQrBackward0"
        with pytest.raises(RuntimeError, match="not computed when mode='r'" if mode == "r" else "not differentiable when mode='complete'"):
            R.sum().backward()


@pytest.mark.parametrize("shape", [(4, 2), (2, 3), (2, 2, 3)])
def test_full_svd_gives_no_gradient_to_the_extra_singular_vectors(shape):
    """The extra columns of U (rows of Vh) are any basis of a complement: PyTorch ignores their
    gradient, and the rest is the reduced SVD's."""
    A = np.random.default_rng(1).standard_normal(shape)
    grads = []
    for lib in (chainrule, torch):
        a = lib.tensor(A, requires_grad=True)
        U, S, Vh = lib.linalg.svd(a)
        (weighted(lib, U).sum() + weighted(lib, Vh.mT).sum() + S.sum()).backward()
        assert tuple(U.shape[-2:]) == (shape[-2],) * 2 and tuple(Vh.shape[-2:]) == (shape[-1],) * 2
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(*grads, atol=1e-10)


def test_matrix_power_of_integers_stays_integer():
    fibonacci = [[1, 1], [1, 0]]
    for n in (0, 1, 5):
        ours = chainrule.linalg.matrix_power(chainrule.tensor(fibonacci), n)
        theirs = torch.linalg.matrix_power(torch.tensor(fibonacci), n)
        assert ours.dtype == chainrule.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_float32_stays_float32():
    A = chainrule.eye(3) * 2
    for result in (chainrule.linalg.inv(A), chainrule.linalg.det(A), chainrule.linalg.svdvals(A), chainrule.matrix_exp(A),
                   chainrule.linalg.eigh(A).eigenvectors, chainrule.linalg.cholesky(A), chainrule.linalg.pinv(A)):
        assert result.dtype == chainrule.float32


@pytest.mark.parametrize("call", [
    lambda lib: lib.linalg.inv(lib.zeros(3, 3)),
    lambda lib: lib.linalg.inv(lib.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]]])),
    lambda lib: lib.inverse(lib.zeros(2, 2)),
    lambda lib: lib.linalg.matrix_power(lib.zeros(2, 2), -1),
    lambda lib: lib.cholesky_inverse(lib.zeros(2, 2)),
    lambda lib: lib.linalg.inv_ex(lib.zeros(2, 2), check_errors=True),
    lambda lib: lib.linalg.solve(lib.zeros(3, 3), lib.ones(3, 1)),
    lambda lib: lib.linalg.solve(lib.zeros(3, 2, 2), lib.ones(3, 2)),
    lambda lib: lib.linalg.solve_ex(lib.zeros(2, 2), lib.ones(2), check_errors=True),
    lambda lib: lib.linalg.cholesky(-lib.eye(3)),
    lambda lib: lib.linalg.cholesky(lib.tensor([[1.0, 2.0], [2.0, 1.0]])),
    lambda lib: lib.linalg.cholesky(-lib.ones(3, 2, 2)),
    lambda lib: lib.linalg.cholesky_ex(lib.zeros(2, 2), check_errors=True),
    lambda lib: lib.linalg.cholesky(lib.tensor([[1.0, 0.0], [0.0, float("nan")]])),  # a nan pivot fails (LAPACK's potrf)
    lambda lib: lib.linalg.cholesky(lib.tensor([[1.0, float("nan")], [float("nan"), 4.0]])),
])
def test_singular_matrices_raise_pytorchs_linalg_error(call):
    with pytest.raises(torch.linalg.LinAlgError) as expected:
        call(torch)
    with pytest.raises(chainrule.linalg.LinAlgError) as got:
        call(chainrule)
    assert isinstance(got.value, RuntimeError)
    assert str(got.value).startswith(str(expected.value))  # PyTorch's message, then what to do


@pytest.mark.parametrize("call", [
    lambda lib: lib.linalg.inv_ex(lib.tensor([[[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 1.0]]])),
    lambda lib: lib.linalg.solve_ex(lib.tensor([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 1.0]]]), lib.ones(2, 2)),
    lambda lib: lib.linalg.cholesky_ex(lib.tensor([[[1.0, 0.0], [0.0, -1.0]], [[-1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])),
    lambda lib: lib.linalg.cholesky_ex(lib.tensor([
        [[float("nan"), 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, float("nan")]], [[4.0, 0.0], [0.0, float("inf")]],
    ])),  # nan pivots fail (first, second minor); an infinite last pivot factorizes
])
def test_ex_functions_report_failures_in_info(call):
    """info as LAPACK's: the first zero pivot of LU, or the first leading minor that is not
    positive-definite; the results of the matrices that succeeded are PyTorch's."""
    (ours, our_info), (theirs, their_info) = call(chainrule), call(torch)
    assert our_info.dtype == chainrule.int32
    np.testing.assert_array_equal(our_info.numpy(), their_info.numpy())
    succeeded = their_info.numpy() == 0
    np.testing.assert_allclose(ours.numpy()[succeeded], theirs.numpy()[succeeded], atol=1e-6)
    assert np.isnan(ours.numpy()[~succeeded]).all()


def test_every_operation_declares_one_derivative_per_input():
    from chainrule.ops import decompositions

    for operation in vars(decompositions).values():
        if isinstance(operation, type) and issubclass(operation, decompositions.LinalgOp) and operation is not decompositions.LinalgOp:
            assert len(operation.derivatives) == len(operation.input_names()), operation.__name__


@pytest.mark.parametrize("call", [
    lambda lib: lib.linalg.inv(lib.ones(2, 3)),
    lambda lib: lib.linalg.inv(lib.ones(3)),
    lambda lib: lib.linalg.det(lib.ones(2, 2, dtype=lib.int64)),
    lambda lib: lib.linalg.solve(lib.ones(3, 3), lib.ones(2, 1)),
    lambda lib: lib.linalg.solve(lib.eye(2), lib.ones(2, 1, dtype=lib.float64)),
    lambda lib: lib.linalg.lstsq(lib.eye(2), lib.ones(2, 1, dtype=lib.float64)),
    lambda lib: lib.cholesky_solve(lib.ones(2, 1, dtype=lib.float64), lib.eye(2)),
    lambda lib: lib.linalg.solve(lib.ones(3, 3), lib.ones(2, 2), left=False),
    lambda lib: lib.linalg.solve(lib.ones(2, 2), lib.ones(2), left=False),
    lambda lib: lib.linalg.solve(lib.ones(3, 2, 2), lib.ones(3, 2), left=False),
    lambda lib: lib.linalg.solve(lib.ones(3, 2, 2), lib.ones(2), left=False),
    lambda lib: lib.linalg.eigh(lib.ones(2, 3)),
    lambda lib: lib.linalg.norm(lib.ones(2, 2, 2), 2),
    lambda lib: lib.linalg.matrix_norm(lib.ones(2, 2), 3),
    lambda lib: lib.linalg.multi_dot([lib.ones(2, 2)]),
    lambda lib: lib.linalg.qr(lib.ones(2, 2), mode="full"),
    lambda lib: lib.linalg.matrix_power(lib.ones(2, 3), 2),
    lambda lib: lib.linalg.matrix_power(lib.ones(2, 2, dtype=lib.int64), -1),
    lambda lib: lib.linalg.matrix_exp(lib.ones(2, 2, dtype=lib.int64)),
    lambda lib: lib.linalg.vector_norm(lib.ones(0, 2), float("inf")),
    lambda lib: lib.linalg.vector_norm(lib.ones(0, 2), -1, dim=0),
])
def test_errors_are_runtime_errors_as_in_pytorch(call):
    with pytest.raises(RuntimeError) as expected:
        call(torch)
    with pytest.raises(RuntimeError) as got:
        call(chainrule)
    assert str(got.value).startswith(str(expected.value).rstrip("."))
