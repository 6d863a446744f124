"""LU and Householder factorizations (ops/factorizations.py): the table runs gradcheck and the
PyTorch comparison (values and gradients) over batches of square and rectangular matrices; then
LAPACK's pivots, return types and errors."""
import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import library_case, table_test
from tests.ops.second_order import second_order_test
from tests.ops.test_decompositions import rectangular, square, system, well_conditioned

BATCH = st.lists(st.integers(0, 3), min_size=0, max_size=2).map(tuple)


@st.composite
def reflectors(draw, other=None):
    """input (*, m, n) with m >= n and tau (*, k), k <= n; with ``other`` ('left' or 'right') also C
    (*, m, c) or (*, c, m) for ormqr."""
    batch, columns = draw(BATCH), draw(st.integers(1, 3))
    rows = columns + draw(st.integers(0, 2))
    # PyTorch's ormqr takes as many reflectors as geqrf gives (fewer only sometimes)
    count = columns if other else draw(st.integers(0, columns))
    shapes = (batch + (rows, columns), batch + (count,))
    if other == "left":
        shapes += (batch + (rows, draw(st.integers(1, 3))),)
    elif other == "right":
        shapes += (batch + (draw(st.integers(1, 3)), rows),)
    return shapes


def pivots_of(lib, a):
    """lu_factor's pivots of a (its values only: the pivots are integers, without a gradient)."""
    return lib.linalg.lu_factor(a.detach()).pivots


def flat(lib, *tensors):
    return lib.cat([each.flatten(-2) for each in tensors], -1)


def case(name, fn, shapes, **kwargs):
    return library_case(name, fn, shapes, **kwargs)


CASES = [
    case("lu_factor", lambda lib, a: lib.linalg.lu_factor(a).LU, rectangular(), domain=well_conditioned),
    case("lu_factor_ex", lambda lib, a: lib.linalg.lu_factor_ex(a).LU, square(), domain=well_conditioned),
    case("lu_factor_tall", lambda lib, a: lib.linalg.lu_factor(a).LU, rectangular(tall=True), domain=well_conditioned),
    case("lu_factor_wide", lambda lib, a: lib.linalg.lu_factor(a).LU, rectangular(tall=False), domain=well_conditioned),
    case("lu", lambda lib, a: flat(lib, *lib.linalg.lu(a)), rectangular(), domain=well_conditioned),
    case("lu_L", lambda lib, a: lib.linalg.lu(a).L, rectangular(), domain=well_conditioned),
    case("lu_U", lambda lib, a: lib.linalg.lu(a).U, rectangular(), domain=well_conditioned),
    case("lu_unpack", lambda lib, a: flat(lib, *lib.lu_unpack(*lib.linalg.lu_factor(a))), rectangular(), domain=well_conditioned),
    case("lu_solve", lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b), system(), domain=well_conditioned),
    case("lu_solve_LU", lambda lib, lu, b: lib.linalg.lu_solve(lu, pivots_of(lib, lu), b), system(), domain=well_conditioned),
    case("lu_solve_adjoint", lambda lib, lu, b: lib.linalg.lu_solve(lu, pivots_of(lib, lu), b, adjoint=True), system(),
         domain=well_conditioned),
    case("lu_solve_right", lambda lib, lu, b: lib.linalg.lu_solve(lu, pivots_of(lib, lu), b.mT, left=False), system(),
         domain=well_conditioned),
    case("lu_solve_right_adjoint", lambda lib, lu, b: lib.linalg.lu_solve(lu, pivots_of(lib, lu), b.mT, left=False, adjoint=True),
         system(), domain=well_conditioned),
    case("lu_solve_broadcast", lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b), system(broadcast=True),
         domain=well_conditioned),
    case("geqrf_a", lambda lib, a: lib.geqrf(a).a, rectangular(), differentiable=[False]),
    case("geqrf_tau", lambda lib, a: a.geqrf().tau, rectangular(), differentiable=[False]),
    case("geqrf_then_product", lambda lib, a: lib.linalg.householder_product(*lib.geqrf(a)), rectangular(tall=True),
         differentiable=[False]),
    case("householder_product", lambda lib, a, tau: lib.linalg.householder_product(a, tau), reflectors()),
    case("orgqr", lambda lib, a, tau: a.orgqr(tau), reflectors()),
    *[
        case(f"ormqr_{side}{'_transpose' if transpose else ''}",
             lambda lib, a, tau, c, side=side, transpose=transpose: lib.ormqr(a, tau, c, left=side == "left", transpose=transpose),
             reflectors(side))
        for side in ("left", "right") for transpose in (False, True)
    ],
    case("ormqr_method", lambda lib, a, tau, c: a.ormqr(tau, c), reflectors("left")),
]

test_op = table_test(CASES)
SECOND_ORDER = {"lu_factor", "lu", "lu_solve", "lu_solve_LU", "householder_product", "ormqr_left"}
test_second_order = second_order_test([each for each in CASES if each.name in SECOND_ORDER])


@pytest.mark.parametrize("matrix", [
    [[1.0, 2.0], [2.0, 4.0]],  # singular: a zero pivot
    [[1.0, 1.0, 1.0], [-1.0, 1.0, 1.0], [1.0, -1.0, 2.0]],  # ties: LAPACK takes the first
    [[0.0, 0.0], [0.0, 0.0]],
    [[0.0, 1.0, 2.0], [0.0, 3.0, 4.0]],  # a zero column
    [[2.0, -2.0], [1.0, 3.0], [-2.0, 1.0]],
])
def test_pivots_and_info_are_lapacks(matrix):
    ours, theirs = chainrule.linalg.lu_factor_ex(chainrule.tensor(matrix)), torch.linalg.lu_factor_ex(torch.tensor(matrix))
    assert ours.pivots.dtype == chainrule.int32 and ours.info.dtype == chainrule.int32
    for mine, reference in zip(ours, theirs):
        assert tuple(mine.shape) == tuple(reference.shape)
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), atol=1e-6)
    for mine, reference in zip(chainrule.linalg.lu(chainrule.tensor(matrix)), torch.linalg.lu(torch.tensor(matrix))):
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), atol=1e-6)


def test_lu_of_a_singular_matrix_has_pytorchs_gradient():
    """A singular matrix factors (only lu_factor refuses it); its gradient is PyTorch's, inf and nan included."""
    grads = []
    for lib in (chainrule, torch):
        a = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 10.0]], dtype=lib.float64, requires_grad=True)
        P, L, U = lib.linalg.lu(a)
        (L.sum() + (U * U).sum()).backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(*grads, atol=1e-10)


def test_geqrf_of_zero_columns_is_lapacks():
    """A column already reduced (nothing below the diagonal) gets tau = 0, H = I, as LAPACK's dlarfg."""
    for matrix in ([[1.0, 2.0], [0.0, 3.0]], [[0.0, 0.0], [0.0, 0.0]], [[-2.0, 1.0], [0.0, 1.0], [0.0, 5.0]]):
        for mine, reference in zip(chainrule.geqrf(chainrule.tensor(matrix)), torch.geqrf(torch.tensor(matrix))):
            np.testing.assert_allclose(mine.numpy(), reference.numpy(), atol=1e-6)


def test_geqrf_has_no_derivative_as_in_pytorch():
    for lib, error in ((torch, NotImplementedError), (chainrule, NotImplementedError)):
        a = lib.ones(3, 2, requires_grad=True)
        result = lib.geqrf(a)
        assert result.a.grad_fn.name() == "GeqrfBackward0"
        with pytest.raises(error, match="the derivative for 'geqrf' is not implemented"):
            result.a.sum().backward()


def test_return_types_are_named_as_pytorchs():
    A = np.array([[4.0, 1.0, 2.0], [1.0, 3.0, 0.0], [2.0, 0.0, 5.0]])
    for name, call in [
        ("linalg_lu_factor", lambda lib, a: lib.linalg.lu_factor(a)),
        ("linalg_lu_factor_ex", lambda lib, a: lib.linalg.lu_factor_ex(a)),
        ("linalg_lu", lambda lib, a: lib.linalg.lu(a)),
        ("lu_unpack", lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a))),
        ("lu_unpack", lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a), unpack_data=False)),
        ("lu_unpack", lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a), unpack_pivots=False)),
        ("geqrf", lambda lib, a: lib.geqrf(a)),
    ]:
        ours, theirs = call(chainrule, chainrule.tensor(A)), call(torch, torch.tensor(A))
        assert type(ours).__name__ == type(theirs).__name__ == name
        assert len(ours) == len(theirs)
        for mine, reference in zip(ours, theirs):
            assert tuple(mine.shape) == tuple(reference.shape)
            assert mine.dtype == chainrule.tensor(reference.numpy()).dtype, name
            np.testing.assert_allclose(mine.numpy(), reference.numpy(), atol=1e-12)


def test_node_names_are_pytorchs():
    for call in (lambda lib, a: lib.linalg.lu(a).L, lambda lib, a: lib.linalg.lu_factor(a).LU,
                 lambda lib, a: lib.linalg.lu_factor_ex(a).LU):
        assert call(chainrule, chainrule.eye(2, requires_grad=True)).grad_fn.name() == \
            call(torch, torch.eye(2, requires_grad=True)).grad_fn.name()


def test_ormqr_multiplies_by_geqrfs_full_q():
    A, C = np.random.default_rng(3).standard_normal((2, 4, 2)), np.random.default_rng(4).standard_normal((2, 4, 3))
    for transpose in (False, True):
        ours = chainrule.ormqr(*chainrule.geqrf(chainrule.tensor(A)), chainrule.tensor(C), transpose=transpose)
        theirs = torch.ormqr(*torch.geqrf(torch.tensor(A)), torch.tensor(C), transpose=transpose)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda lib: lib.linalg.lu_factor(lib.tensor([[1.0, 2.0], [2.0, 4.0]])),
    lambda lib: lib.linalg.lu_factor(lib.zeros(3, 2, 2)),
    lambda lib: lib.linalg.lu_factor(lib.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]]])),
    lambda lib: lib.linalg.lu_factor_ex(lib.zeros(2, 2), check_errors=True),
])
def test_lu_factor_of_a_singular_matrix_raises_pytorchs_error(call):
    """A RuntimeError (not a LinAlgError, as PyTorch's), naming the zero on U's diagonal."""
    with pytest.raises(RuntimeError) as expected:
        call(torch)
    with pytest.raises(RuntimeError) as got:
        call(chainrule)
    assert type(got.value) is type(expected.value) is RuntimeError
    assert str(got.value) == str(expected.value)


EYE_FACTORS = lambda lib: lib.linalg.lu_factor(lib.eye(3))  # noqa: E731


@pytest.mark.parametrize("call", [
    lambda lib: lib.linalg.lu_factor(lib.ones(3)),
    lambda lib: lib.linalg.lu_factor(lib.eye(2), pivot=False),
    lambda lib: lib.linalg.lu(lib.eye(2), pivot=False),
    lambda lib: lib.linalg.lu_solve(*EYE_FACTORS(lib), lib.ones(2, 1)),
    lambda lib: lib.linalg.lu_solve(*EYE_FACTORS(lib), lib.ones(3)),
    lambda lib: lib.linalg.lu_solve(*EYE_FACTORS(lib), lib.ones(3, 2), left=False),
    lambda lib: lib.linalg.lu_solve(EYE_FACTORS(lib).LU, EYE_FACTORS(lib).pivots.long(), lib.ones(3, 2)),
    lambda lib: lib.linalg.lu_solve(EYE_FACTORS(lib).LU[:2], EYE_FACTORS(lib).pivots, lib.ones(3, 2)),
    lambda lib: lib.lu_unpack(EYE_FACTORS(lib).LU, EYE_FACTORS(lib).pivots.long()),
    lambda lib: lib.linalg.householder_product(lib.ones(2, 3), lib.ones(2)),
    lambda lib: lib.linalg.householder_product(lib.ones(3, 2), lib.ones(3)),
    lambda lib: lib.linalg.householder_product(lib.ones(2, 3, 2), lib.ones(3, 2)),
    lambda lib: lib.linalg.householder_product(lib.ones(3), lib.ones(1)),
    lambda lib: lib.ormqr(lib.ones(3, 2), lib.ones(2), lib.ones(2, 2)),
    lambda lib: lib.ormqr(lib.ones(3, 2), lib.ones(3), lib.ones(3, 2)),
    lambda lib: lib.ormqr(lib.ones(3, 2), lib.ones(2), lib.ones(3, 2), left=False),
    lambda lib: lib.ormqr(lib.ones(10), lib.ones(2), lib.ones(2)),
    lambda lib: lib.ormqr(lib.ones(3, 2), lib.ones(2), lib.ones(3)),
    lambda lib: lib.cholesky_inverse(lib.ones(2, 3)),
    lambda lib: lib.linalg.ldl_factor(lib.ones(2, 3)),
    lambda lib: lib.linalg.ldl_factor(lib.ones(3)),
    lambda lib: lib.linalg.ldl_factor(lib.ones(2, 2, dtype=lib.int64)),
    lambda lib: lib.linalg.ldl_solve(*lib.linalg.ldl_factor(lib.eye(3)), lib.ones(2, 2)),
    lambda lib: lib.linalg.ldl_solve(*lib.linalg.ldl_factor(lib.eye(3, dtype=lib.float64)), lib.ones(3, 1)),
])
def test_errors_are_runtime_errors_as_in_pytorch(call):
    messages = []
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError) as raised:
            call(lib)
        messages.append(str(raised.value))
    theirs, ours = messages
    assert ours.startswith(theirs.rstrip("."))  # PyTorch's message, then (here and there) what to do


def test_integer_matrices_are_refused_as_in_pytorch():
    for lib in (torch, chainrule):
        with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
            lib.linalg.lu_factor(lib.ones(2, 2, dtype=lib.int64))


SYMMETRIC = [
    np.random.default_rng(0).standard_normal((4, 5, 5)),
    np.round(np.random.default_rng(1).standard_normal((3, 6, 6)) * 2),  # ties and zeros among the candidates
    np.array([[[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]]),  # a 2 x 2 block; singular ones
    np.array([[[1e-3, 2.0, 0.0], [2.0, 1e-3, 3.0], [0.0, 3.0, 1.0]]]),
    np.zeros((0, 3, 3)),
]


@pytest.mark.parametrize("matrices", SYMMETRIC)
def test_ldl_factor_is_lapacks_bunch_kaufman(matrices):
    """Only the lower triangle is read; LD, the pivots (with LAPACK's negative pairs for 2 x 2 blocks)
    and info are PyTorch's."""
    matrices = matrices + np.triu(np.full(matrices.shape[-2:], 7.0), 1)  # an upper triangle that must not matter
    ours, theirs = chainrule.linalg.ldl_factor_ex(chainrule.tensor(matrices)), torch.linalg.ldl_factor_ex(torch.tensor(matrices))
    for mine, reference in zip(ours, theirs):
        assert mine.dtype == chainrule.tensor(reference.numpy()).dtype and tuple(mine.shape) == tuple(reference.shape)
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), atol=1e-12)


@pytest.mark.parametrize("batch", [(), (2,), (3, 1)])
def test_ldl_solve_is_pytorchs(batch):
    """Batch dimensions broadcast (PyTorch 2.13's own ldl_solve crashes when they must: it is given
    them expanded)."""
    rng = np.random.default_rng(len(batch))
    A = rng.standard_normal(batch + (4, 4))
    A = A + A.swapaxes(-1, -2)
    B = rng.standard_normal((2, 4, 3) if batch == (3, 1) else batch + (4, 3))
    ours = chainrule.linalg.ldl_solve(*chainrule.linalg.ldl_factor(chainrule.tensor(A)), chainrule.tensor(B))
    common = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    A, B = np.broadcast_to(A, common + A.shape[-2:]).copy(), np.broadcast_to(B, common + B.shape[-2:]).copy()
    theirs = torch.linalg.ldl_solve(*torch.linalg.ldl_factor(torch.tensor(A)), torch.tensor(B))
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-10)


def test_ldl_named_tuples_and_no_derivative_as_in_pytorch():
    for lib in (chainrule, torch):
        a = lib.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=lib.float64, requires_grad=True)
        assert type(lib.linalg.ldl_factor(a)).__name__ == "linalg_ldl_factor"
        factors = lib.linalg.ldl_factor_ex(a)
        assert type(factors).__name__ == "linalg_ldl_factor_ex"
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not implemented"):
            factors.LD.sum().backward()
        b = lib.ones(2, 1, dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_solve is not implemented"):
            lib.linalg.ldl_solve(factors.LD.detach(), factors.pivots, b).sum().backward()


def test_ldl_factor_of_a_singular_matrix_raises():
    """PyTorch 2.13 fails with an internal assert ('Unknown error code'); chainrule says which block is zero."""
    with pytest.raises(RuntimeError, match="Unknown error code: 1"):
        torch.linalg.ldl_factor(torch.zeros(2, 2))
    with pytest.raises(RuntimeError, match=r"torch.linalg.ldl_factor: D\[1,1\] is zero"):
        chainrule.linalg.ldl_factor(chainrule.zeros(2, 2))
    with pytest.raises(RuntimeError, match=r"\(Batch element 1\): D\[2,2\] is zero"):
        chainrule.linalg.ldl_factor_ex(chainrule.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]]]), check_errors=True)


@pytest.mark.parametrize("call", [
    lambda lib: lib.linalg.lu_factor(lib.zeros(3, 0, 0, dtype=lib.float64)),
    lambda lib: lib.linalg.lu_factor_ex(lib.zeros(0, 2, 2)),
    lambda lib: lib.linalg.lu(lib.zeros(3, 0, 0)),
    lambda lib: lib.geqrf(lib.zeros(5, 0)),
    lambda lib: lib.geqrf(lib.zeros(2, 0, 3)),
    lambda lib: lib.linalg.ldl_factor(lib.zeros(3, 0, 0)),
    lambda lib: lib.lu_unpack(*lib.linalg.lu_factor(lib.zeros(0, 2, 2))),
], ids=["lu_factor", "lu_factor_ex_no_batch", "lu", "geqrf_no_columns", "geqrf_no_rows", "ldl_factor", "lu_unpack"])
def test_factorizations_of_empty_batches_and_matrices_have_pytorchs_shapes(call):
    shapes = [[tuple(part.shape) for part in call(lib)] for lib in (torch, chainrule)]
    assert shapes[0] == shapes[1]
