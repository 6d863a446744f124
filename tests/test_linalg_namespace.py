"""``chainrule.linalg`` offers torch.linalg's names, and the top-level and Tensor-method forms of the
matrix functions are PyTorch's (their values and gradients are in tests/ops/test_decompositions.py)."""
import numpy as np
import pytest
import torch

import chainrule

# torch.linalg's functions that this namespace does not offer: complex eigenvalues (chainrule has no
# complex dtypes).
NOT_YET = {"common_notes", "eig", "eigvals"}
TOP_LEVEL = ["det", "inverse", "logdet", "slogdet", "pinverse", "matrix_power", "matrix_exp", "cholesky_solve", "cholesky_inverse"]


def test_import_chainrule_gives_the_linalg_namespace():
    assert chainrule.linalg.__name__ == "chainrule.linalg"
    public = {name for name in dir(torch.linalg) if not name.startswith("_")}
    missing = sorted(public - NOT_YET - set(chainrule.linalg.__all__))
    assert not missing, f"torch.linalg names missing from chainrule.linalg: {missing}"
    for name in chainrule.linalg.__all__:
        assert hasattr(chainrule.linalg, name) and hasattr(torch.linalg, name), name


def test_linalg_error_is_a_runtime_error_as_in_pytorch():
    assert issubclass(chainrule.linalg.LinAlgError, RuntimeError)
    assert issubclass(torch.linalg.LinAlgError, RuntimeError)


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_and_method_forms_exist_as_in_pytorch(name):
    assert callable(getattr(chainrule, name)) and callable(getattr(chainrule.Tensor, name))
    assert hasattr(torch, name) and hasattr(torch.Tensor, name)


@pytest.mark.parametrize("call", [
    lambda lib, a: lib.det(a),
    lambda lib, a: a.inverse(),
    lambda lib, a: a.logdet(),
    lambda lib, a: lib.slogdet(a).logabsdet,
    lambda lib, a: a.slogdet()[0],
    lambda lib, a: a.pinverse(rcond=1e-10),
    lambda lib, a: lib.matrix_power(a, 2),
    lambda lib, a: a.matrix_exp(),
    lambda lib, a: lib.cholesky_solve(a, lib.linalg.cholesky(a)),
    lambda lib, a: a.cholesky_inverse(),
])
def test_top_level_forms_match_pytorch(call):
    matrix = np.array([[4.0, 1.0], [1.0, 3.0]])
    ours, theirs = call(chainrule, chainrule.tensor(matrix)), call(torch, torch.tensor(matrix))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)


def test_slogdet_named_tuples_are_pytorchs():
    matrix = chainrule.eye(2)
    assert type(chainrule.slogdet(matrix)).__name__ == type(torch.slogdet(torch.eye(2))).__name__ == "slogdet"
    assert type(chainrule.linalg.slogdet(matrix)).__name__ == "linalg_slogdet"
    assert chainrule.linalg.slogdet(matrix).__match_args__ == ("sign", "logabsdet")


def test_node_names_are_pytorchs():
    for name, call in [("inv", lambda lib, a: lib.linalg.inv(a)), ("det", lambda lib, a: lib.linalg.det(a)),
                       ("matrix_exp", lambda lib, a: lib.linalg.matrix_exp(a)), ("pinv", lambda lib, a: lib.linalg.pinv(a)),
                       ("cholesky", lambda lib, a: lib.linalg.cholesky(a)), ("svdvals", lambda lib, a: lib.linalg.svdvals(a))]:
        ours = call(chainrule, chainrule.eye(2, requires_grad=True)).grad_fn.name()
        assert ours == call(torch, torch.eye(2, requires_grad=True)).grad_fn.name(), name


def test_out_argument_of_matrix_power():
    out = chainrule.empty(2, 2)
    chainrule.matrix_power(chainrule.eye(2) * 2, 3, out=out)
    np.testing.assert_array_equal(out.numpy(), np.eye(2) * 8)


@pytest.mark.parametrize("call", [
    lambda lib, a, out: lib.linalg.inv(a, out=out),
    lambda lib, a, out: lib.linalg.matmul(a, a, out=out),
    lambda lib, a, out: lib.linalg.eigvalsh(a, out=out),
    lambda lib, a, out: lib.linalg.solve(a, a, out=out),
    lambda lib, a, out: lib.linalg.matrix_norm(a, "nuc", keepdim=True, out=out),
    lambda lib, a, out: lib.linalg.vector_norm(a, dim=0, out=out),
])
def test_out_arguments_of_the_namespace(call):
    matrix = np.array([[4.0, 1.0], [1.0, 3.0]])
    ours, theirs = chainrule.empty(0, dtype=chainrule.float64), torch.empty(0, dtype=torch.float64)
    returned = call(chainrule, chainrule.tensor(matrix), ours)
    call(torch, torch.tensor(matrix), theirs)
    assert returned is ours
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)


@pytest.mark.parametrize("call, error", [
    (lambda lib: lib.linalg.vander(lib.ones(3), N=1), "N must be greater than 1"),
    (lambda lib: lib.linalg.tensorinv(lib.ones(2, 3, 5), ind=1), "tensorinv"),
    (lambda lib: lib.linalg.tensorinv(lib.ones(2, 2), ind=0), "strictly positive integer for 'ind'"),
    (lambda lib: lib.linalg.tensorsolve(lib.ones(2, 3, 6), lib.ones(6)), "tensorsolve"),
    (lambda lib: lib.linalg.cross(lib.ones(2, 3), lib.ones(3)), "same number of dimensions"),
])
def test_shape_errors_are_runtime_errors_as_in_pytorch(call, error):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match=error):
        call(chainrule)


@pytest.mark.parametrize(
    "make",
    [lambda lib: lib.linalg.matrix_norm(lib.ones(2, 2, dtype=lib.long), dtype=lib.float64),
     lambda lib: lib.linalg.norm(lib.ones(2, 2), ord="fro", dim=1),
     lambda lib: lib.linalg.norm(lib.ones(2, 2, 2), dim=(0, 1, 2)),
     lambda lib: lib.linalg.norm(lib.ones(2, 2), dim=())],
    ids=["matrix_norm_of_integers", "named_order_over_one_dim", "three_dims", "no_dims"],
)
def test_norms_refuse_what_pytorch_refuses(make):
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError):
            make(lib)
