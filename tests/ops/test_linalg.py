"""einsum, tensordot, kron, inner, vdot, cdist, cross, vander: the table runs gradcheck and the PyTorch comparison;
then equation forms, broadcasting and errors."""
import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import OpCase, library_case, one_shape, table_test
from tests.ops.second_order import second_order_test

SIDE = st.integers(1, 4)


def einsum_case(name, equation, shapes):
    return library_case(name, lambda lib, *operands: lib.einsum(equation, *operands), shapes)


@st.composite
def rows_pair(draw, batch=False):
    """x1 (*, P, M) and x2 (*, R, M) for cdist, with a shared (or broadcast) batch dimension."""
    lead = ((draw(SIDE),) if batch else ())
    columns = draw(SIDE)
    return lead + (draw(SIDE), columns), (1,) * len(lead) + (draw(SIDE), columns)


def distinct_rows(lib, a, b):
    """Inputs spread apart, so that no two rows are at distance 0 (where the p-norm has a kink)."""
    return a + lib.arange(a.shape[-2], dtype=a.dtype).unsqueeze(-1) * 10, b - 5


CASES = [
    einsum_case("einsum_matmul", "ij,jk->ik", st.just(((2, 3), (3, 4)))),
    einsum_case("einsum_implicit", "ij,jk", st.just(((3, 2), (2, 1)))),
    einsum_case("einsum_implicit_order", "ba", st.just(((2, 3),))),
    einsum_case("einsum_batched", "bij,bjk->bik", st.just(((2, 3, 4), (2, 4, 1)))),
    einsum_case("einsum_transpose", "ij->ji", one_shape(min_dims=2, max_dims=2)),
    einsum_case("einsum_sum_away", "ijk->j", one_shape(min_dims=3, max_dims=3)),
    einsum_case("einsum_outer", "i,j->ij", st.tuples(st.tuples(SIDE), st.tuples(SIDE))),
    einsum_case("einsum_dot", "i,i", st.just(((4,), (4,)))),
    einsum_case("einsum_trace", "ii", st.sampled_from([((3, 3),), ((1, 1),)])),
    einsum_case("einsum_diagonal", "ii->i", st.just(((3, 3),))),
    einsum_case("einsum_repeated_batch", "iij->ji", st.just(((2, 2, 3),))),
    einsum_case("einsum_ellipsis", "...ij,...jk->...ik", st.just(((2, 3, 4), (4, 5)))),
    einsum_case("einsum_ellipsis_implicit", "...ij,jk", st.just(((2, 1, 3, 2), (2, 3)))),
    einsum_case("einsum_ellipsis_summed", "i...->i", st.just(((2, 3, 4),))),
    einsum_case("einsum_broadcast_one", "i,i->i", st.just(((1,), (3,)))),
    einsum_case("einsum_three", "ij,jk,kl->il", st.just(((2, 3), (3, 4), (4, 2)))),
    einsum_case("einsum_bilinear", "bn,anm,bm->ba", st.just(((2, 3), (4, 3, 5), (2, 5)))),
    einsum_case("einsum_scalar", ",i->i", st.just(((), (3,)))),
    einsum_case("einsum_spaces", "i j , j -> i", st.just(((2, 3), (3,)))),
    library_case("einsum_list", lambda lib, a, b: lib.einsum("ij,j->i", [a, b]), st.just(((2, 3), (3,)))),
    library_case("tensordot", lambda lib, a, b: lib.tensordot(a, b), st.just(((2, 3, 4), (3, 4, 5)))),
    library_case("tensordot_lists", lambda lib, a, b: lib.tensordot(a, b, ([0, 2], [2, 1])), st.just(((2, 3, 4), (5, 4, 2)))),
    library_case("tensordot_zero", lambda lib, a, b: lib.tensordot(a, b, 0), st.just(((2,), (3, 1)))),
    library_case("kron", lambda lib, a, b: lib.kron(a, b), st.tuples(st.tuples(SIDE, SIDE), st.tuples(SIDE, SIDE))),
    library_case("kron_ranks", lambda lib, a, b: a.kron(b), st.sampled_from([((2,), (3, 2)), ((2, 1, 2), (3,)), ((), (2,))])),
    library_case("inner", lambda lib, a, b: lib.inner(a, b), st.sampled_from([((2, 3), (4, 3)), ((3,), (3,)), ((2, 1, 2), (2,)), ((), (2, 2))])),
    library_case("vdot", lambda lib, a, b: lib.vdot(a, b), st.sampled_from([((3,), (3,)), ((1,), (1,))])),
    library_case("cdist", lambda lib, a, b: lib.cdist(*distinct_rows(lib, a, b)), rows_pair()),
    library_case("cdist_batched", lambda lib, a, b: lib.cdist(*distinct_rows(lib, a, b)), rows_pair(batch=True)),
    library_case("cdist_p1", lambda lib, a, b: lib.cdist(*distinct_rows(lib, a, b), p=1.0), rows_pair()),
    library_case("cdist_p3", lambda lib, a, b: lib.cdist(*distinct_rows(lib, a, b), p=3), rows_pair()),
    library_case("cdist_inf", lambda lib, a, b: lib.cdist(*distinct_rows(lib, a, b), p=float("inf")), rows_pair()),
]


test_op = table_test(CASES)
test_second_order = second_order_test([case for case in CASES if not case.name.startswith("cdist")])  # PyTorch has no second derivative of cdist


def test_cdist_at_distance_zero_has_pytorchs_zero_gradient():
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor([[0.0, 1.0], [2.0, 3.0]], requires_grad=True)
        lib.cdist(x, x).sum().backward()
        results.append(x.grad.numpy() if lib is torch else x.grad._array)
    np.testing.assert_allclose(*results, atol=1e-6)


def test_cdist_p0_counts_differing_coordinates():
    a, b = np.array([[0.0, 1.0, 2.0]]), np.array([[0.0, 5.0, 2.0], [1.0, 1.0, 1.0]])
    ours = chainrule.cdist(chainrule.tensor(a), chainrule.tensor(b), p=0)
    np.testing.assert_array_equal(ours._array, torch.cdist(torch.tensor(a), torch.tensor(b), p=0).numpy())


def test_einsum_keeps_pytorchs_dtype_promotion():
    ours = chainrule.einsum("i,j->ij", chainrule.ones(3), chainrule.ones(2, dtype=chainrule.float64))
    assert ours.dtype == chainrule.float64
    assert chainrule.einsum("ij->", chainrule.ones(2, 2, dtype=chainrule.int64)).dtype == chainrule.int64


@pytest.mark.parametrize("call", [
    lambda lib: lib.einsum("ij,jk", lib.ones(2, 3), lib.ones(4, 4)),
    lambda lib: lib.einsum("ij", lib.ones(3)),
    lambda lib: lib.einsum("ij,jk", lib.ones(2, 3)),
    lambda lib: lib.einsum("i->j", lib.ones(3)),
    lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(2, 3), ([1], [0])),
    lambda lib: lib.inner(lib.ones(2, 3), lib.ones(2)),
    lambda lib: lib.vdot(lib.ones(2, 3), lib.ones(2)),
    lambda lib: lib.vdot(lib.ones(3), lib.ones(2)),
    lambda lib: lib.cdist(lib.ones(3), lib.ones(2, 3)),
    lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 4)),
    lambda lib: lib.cross(lib.ones(4, 2), lib.ones(4, 2)),
    lambda lib: lib.cross(lib.ones(4, 2), lib.ones(4, 2), dim=1),
    lambda lib: lib.cross(lib.ones(2, 3), lib.ones(3), dim=-1),
    lambda lib: lib.cross(lib.ones(3, 2), lib.ones(1, 2), dim=0),
    lambda lib: lib.vander(lib.ones(2, 2)),
    lambda lib: lib.cross(lib.ones(3), lib.ones(3, dtype=lib.float64), dim=0),
])
def test_errors_are_runtime_errors_as_in_pytorch(call):
    with pytest.raises(RuntimeError) as expected:
        call(torch)
    with pytest.raises(RuntimeError) as got:
        call(chainrule)
    assert str(expected.value).split()[0] in str(got.value)


# ----------------------------------------------------------------------------- cross, vander
@st.composite
def three_vectors(draw):
    """Two shapes with a dimension of 3 at the same place, broadcasting elsewhere (same number of dims)."""
    full = tuple(draw(st.lists(SIDE, max_size=2))) + (3,)
    other = tuple(1 if draw(st.booleans()) else side for side in full[:-1]) + (3,)
    return (full, other) if draw(st.booleans()) else (other, full)


def powers(x, columns, increasing):
    """PyTorch's vander written as powers: PyTorch 2.13's own vander fails in backward (it saves a
    tensor that it then changes in place), so gradients are compared with x^j."""
    exponents = torch.arange(columns, dtype=x.dtype)
    return x.unsqueeze(-1) ** (exponents if increasing else exponents.flip(0))


def vander_case(name, columns=None, increasing=False, scale=None):
    def ours(x):
        return chainrule.vander(x if scale is None else x * chainrule.tensor(scale[: x.shape[0]]), columns, increasing)

    def theirs(x):
        x = x if scale is None else x * torch.tensor(scale[: x.shape[0]])
        return powers(x, x.shape[0] if columns is None else columns, increasing)

    return OpCase(name, ours, theirs, one_shape(min_dims=1, max_dims=1))


CROSS_CASES = [
    library_case("cross_last", lambda lib, a, b: lib.cross(a, b, dim=-1), three_vectors()),
    library_case("cross_method_dim0", lambda lib, a, b: a.cross(b, 0), st.just(((3, 2), (3, 1)))),
    library_case("cross_default_dim", lambda lib, a, b: lib.cross(a, b), st.just(((2, 3, 3), (2, 3, 3)))),
    vander_case("vander"),
    vander_case("vander_increasing", 3, increasing=True),
    vander_case("vander_with_zeros", 4, scale=[0.0, 1.0, 0.0, 1.0]),
]

test_cross_op = table_test(CROSS_CASES)
# The reference x^j's second derivative is nan at x = 0 (0 · 0^-1); vander's running products give 0.
test_cross_second_order = second_order_test([case for case in CROSS_CASES if case.name != "vander_with_zeros"])


def test_cross_default_dim_warns_as_pytorch_does_and_integers_work():
    chainrule.set_warn_always(True)  # the warning is given once per process, as PyTorch's
    try:
        with pytest.warns(UserWarning, match="without specifying the dim"):
            ours = chainrule.cross(chainrule.tensor([[1, 0, 0]]), chainrule.tensor([[0, 1, 0]]))
    finally:
        chainrule.set_warn_always(False)
    assert ours.tolist() == [[0, 0, 1]] and ours.dtype == chainrule.int64
    for call in (lambda lib: lib.vander(lib.tensor([1, 2, 3])), lambda lib: lib.vander(lib.tensor([2.0, 3.0]), N=0)):
        mine, theirs = call(chainrule), call(torch)
        assert tuple(mine.shape) == tuple(theirs.shape) and mine.tolist() == theirs.tolist()
    assert chainrule.vander(chainrule.tensor([1, 2])).dtype == chainrule.int64
    assert torch.vander(torch.tensor([2.0, 3.0])).tolist() == chainrule.vander(chainrule.tensor([2.0, 3.0])).tolist()
    assert chainrule.ones(2, 3, requires_grad=True).cross(chainrule.ones(2, 3), -1).grad_fn.name() == "LinalgCrossBackward0"


@pytest.mark.parametrize("ord", [float("inf"), float("-inf")])
def test_vector_norm_of_a_scalar_along_its_dim(ord):
    """A 0-d tensor's dim 0 (or -1) is the tensor itself, as PyTorch reads it."""
    for dim in (0, -1, (0,)):
        values = [lib.linalg.vector_norm(lib.tensor(-2.0), ord=ord, dim=dim).item() for lib in (chainrule, torch)]
        assert values == [2.0, 2.0]
