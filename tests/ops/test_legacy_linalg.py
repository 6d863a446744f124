"""PyTorch's older linear-algebra functions (torch.svd, qr, cholesky, lu, lu_solve, triangular_solve,
chain_matmul, ger): values and gradients against PyTorch, finite differences, the old result types
and the deprecation warnings, once per process, as PyTorch gives them."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from chainrule import caller_warnings
from tests.ops.oracle import library_case, table_test
from tests.ops.test_decompositions import positive_definite, rectangular, square, system, weighted, well_conditioned


def upper(lib, a):
    return a.triu() + 3 * lib.eye(a.shape[-1], dtype=a.dtype)


def lower(lib, a):
    return a.tril() + 3 * lib.eye(a.shape[-1], dtype=a.dtype)


CASES = [
    library_case("svd_S", lambda lib, a: lib.svd(a).S, rectangular()),
    # U and V change sign together, column by column: U Vᵀ and weighted squares do not see it
    library_case("svd_UVt", lambda lib, a: (lambda usv: usv.U @ usv.V.mT)(lib.svd(a)), rectangular()),
    library_case("svd_V", lambda lib, a: weighted(lib, a.svd().V), rectangular()),
    library_case("svd_full_S", lambda lib, a: lib.svd(a, some=False)[1], rectangular()),
    library_case("svd_values_only", lambda lib, a: lib.svd(a, compute_uv=False).S, rectangular()),
    library_case("qr_Q", lambda lib, a: lib.qr(a).Q, rectangular(), domain=well_conditioned),
    library_case("qr_R", lambda lib, a: a.qr()[1], rectangular(), domain=well_conditioned),
    library_case("qr_complete", lambda lib, a: lib.cat(list(lib.qr(a, some=False)), -1), rectangular(tall=False), domain=well_conditioned),
    library_case("cholesky", lambda lib, a: lib.cholesky(positive_definite(lib, a)), square()),
    library_case("cholesky_upper", lambda lib, a: positive_definite(lib, a).cholesky(upper=True), square()),
    library_case("lu_solve", lambda lib, a, b: lib.lu_solve(b, *lib.lu(a)), system(), domain=well_conditioned),
    library_case("lu_solve_method", lambda lib, a, b: b.lu_solve(*a.lu()), system(), domain=well_conditioned),
    library_case("triangular_solve", lambda lib, a, b: lib.triangular_solve(b, upper(lib, a)).solution, system()),
    library_case("triangular_solve_lower_t", lambda lib, a, b: b.triangular_solve(lower(lib, a), upper=False, transpose=True)[0], system()),
    library_case("triangular_solve_unit", lambda lib, a, b: lib.triangular_solve(b, a, unitriangular=True).solution, system()),
    library_case("triangular_solve_copy", lambda lib, a, b: lib.triangular_solve(b, a).cloned_coefficient * 2, system()),
    library_case("chain_matmul", lambda lib, a, b, c: lib.chain_matmul(a, b, c), st.just(((2, 3), (3, 4), (4, 1)))),
    library_case("chain_matmul_one", lambda lib, a: lib.chain_matmul(a), st.just(((2, 3),))),
    library_case("ger", lambda lib, a, b: lib.ger(a, b), st.just(((3,), (2,)))),
    library_case("ger_method", lambda lib, a, b: a.ger(b), st.just(((1,), (4,)))),
]

test_op = table_test(CASES)


@pytest.fixture(autouse=True)
def _ignore_deprecations():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "torch.* is deprecated", UserWarning)
        yield


def test_the_old_result_types_are_named_as_pytorchs():
    a = np.random.default_rng(0).standard_normal((3, 2))
    ours, theirs = chainrule.svd(chainrule.tensor(a)), torch.svd(torch.tensor(a))
    assert type(ours).__name__ == type(theirs).__name__ == "svd" and ours.__match_args__ == ("U", "S", "V")
    assert chainrule.qr(chainrule.tensor(a)).__match_args__ == ("Q", "R")
    solved = chainrule.triangular_solve(chainrule.ones(2, 1), chainrule.eye(2))
    assert solved.__match_args__ == ("solution", "cloned_coefficient")
    assert repr(chainrule.svd(chainrule.tensor(a))).startswith("chainrule.return_types.svd(\nU=tensor(")


def test_svd_without_uv_gives_zero_matrices_of_pytorchs_shapes():
    a = np.random.default_rng(1).standard_normal((2, 4, 3))
    ours, theirs = chainrule.svd(chainrule.tensor(a), compute_uv=False), torch.svd(torch.tensor(a), compute_uv=False)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), atol=1e-12)
    assert ours.U.shape == (2, 4, 4) and ours.V.shape == (2, 3, 3)


def test_lu_keeps_a_singular_matrix_and_reports_it_in_info():
    singular = [[1.0, 2.0], [2.0, 4.0]]
    for lib in (chainrule, torch):
        LU, pivots = lib.lu(lib.tensor(singular))
        _, _, info = lib.lu(lib.tensor(singular), get_infos=True)
        assert int(info) == 2 and pivots.dtype == lib.int32
    np.testing.assert_allclose(chainrule.lu(chainrule.tensor(singular))[0].numpy(), torch.lu(torch.tensor(singular))[0].numpy())


def test_chain_matmul_needs_a_matrix():
    with pytest.raises(RuntimeError, match="Expected one or more matrices"):
        chainrule.chain_matmul()
    out = chainrule.empty(0)
    assert chainrule.chain_matmul(chainrule.ones(2, 3), chainrule.ones(3, 1), out=out) is out and out.shape == (2, 1)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.qr(lib.eye(2)),
        lambda lib: lib.cholesky(lib.eye(2)),
        lambda lib: lib.lu(lib.eye(2)),
        lambda lib: lib.lu_solve(lib.ones(2, 1), *lib.lu(lib.eye(2))),
        lambda lib: lib.triangular_solve(lib.ones(2, 1), lib.eye(2)),
        lambda lib: lib.chain_matmul(lib.eye(2), lib.eye(2)),
    ],
)
def test_deprecated_functions_warn_once_at_the_callers_line_naming_the_replacement(call, monkeypatch):
    monkeypatch.setattr(caller_warnings, "_given", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(chainrule)
        call(chainrule)
    ours = [warning for warning in caught if "deprecated" in str(warning.message)]
    messages = [str(warning.message) for warning in ours]
    assert ours and len(set(messages)) == len(messages)  # each function's warning once, not once per call
    assert all("torch.linalg." in message for message in messages)
    assert all(warning.filename == __file__ for warning in ours)


def test_svd_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chainrule.svd(chainrule.eye(2))
