"""torch.linalg and the matrix products where chainrule once parted from PyTorch: lstsq's drivers,
the removed functions (torch.solve, torch.eig...), einsum's sublist form and dtype rule, cond of a
singular matrix, and the edges of solve_triangular, vector_norm, vecdot, kron, linear and addmm.
Each compares values, dtypes, gradients and exceptions with PyTorch, and differentiable results
pass a float64 finite-difference check."""
import math

import numpy as np
import pytest
import torch

import chainrule

LIBRARIES = (chainrule, torch)


def arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def results(call, *values, dtype="float64"):
    """``call(lib, *tensors)`` in both libraries: their outputs (a tuple) and the gradients of a random
    weighting of every floating output that requires grad, per input."""
    found = {}
    for lib in LIBRARIES:
        tensors = [lib.tensor(value, dtype=getattr(lib, dtype), requires_grad=True) for value in values]
        outputs = call(lib, *tensors)
        outputs = tuple(outputs) if isinstance(outputs, tuple) else (outputs,)
        total = 0
        for position, output in enumerate(outputs):
            if output.requires_grad and output.numel():
                weights = np.random.default_rng(position).standard_normal(tuple(output.shape))
                total = total + (output * lib.tensor(weights, dtype=output.dtype)).sum()
        grads = lib.autograd.grad(total, tensors, allow_unused=True) if torch.is_tensor(total) or isinstance(total, chainrule.Tensor) else ()
        found[lib] = ([output.detach().numpy() for output in outputs], [str(output.dtype).split(".")[-1] for output in outputs],
                      [None if grad is None else grad.numpy() for grad in grads])
    return found[chainrule], found[torch]


def assert_agree(call, *values, dtype="float64", rtol=1e-7, atol=1e-9):
    (ours, our_dtypes, our_grads), (theirs, their_dtypes, their_grads) = results(call, *values, dtype=dtype)
    assert our_dtypes == their_dtypes
    for mine, reference in zip(ours, theirs):
        assert mine.shape == reference.shape
        np.testing.assert_allclose(mine, reference, rtol=rtol, atol=atol)
    assert len(our_grads) == len(their_grads)
    for mine, reference in zip(our_grads, their_grads):
        assert (mine is None) == (reference is None)
        if reference is not None:
            np.testing.assert_allclose(mine, reference, rtol=rtol * 100, atol=atol * 100)


def gradcheck(call, *values):
    tensors = tuple(chainrule.tensor(value, dtype=chainrule.float64, requires_grad=True) for value in values)
    assert chainrule.autograd.gradcheck(lambda *inputs: call(chainrule, *inputs), tensors)


def raises_alike(call):
    """Both libraries raise the same exception type; chainrule's message is returned."""
    caught = {}
    for lib in LIBRARIES:
        with pytest.raises(Exception) as error:
            call(lib)
        caught[lib] = error.value
    assert type(caught[chainrule]).__name__.lstrip("_") == type(caught[torch]).__name__.lstrip("_")
    return str(caught[chainrule])


# ----------------------------------------------------------------------------- lstsq
LSTSQ_SHAPES = [((5, 3), (5, 2)), ((3, 5), (3, 2)), ((5, 3), (5,)), ((2, 5, 3), (2, 5, 2)), ((2, 5, 3), (2, 5)),
                ((1, 5, 3), (2, 5, 4)), ((2, 5, 3), (1, 5, 4)), ((3, 3), (3, 2)), ((4, 0), (4, 2))]


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
@pytest.mark.parametrize("shapes", LSTSQ_SHAPES, ids=str)
def test_lstsq_returns_what_each_driver_returns(driver, shapes):
    if driver == "gels" and 0 in shapes[0]:
        pytest.skip("PyTorch's gels gives zero residuals for A with no columns, where the others give ‖B‖²")
    assert_agree(lambda lib, A, B: tuple(lib.linalg.lstsq(A, B, driver=driver)), *arrays(*shapes))


@pytest.mark.parametrize("driver", ["gelsy", "gelsd", "gelss"])
def test_lstsq_of_rank_deficient_matrices_reports_rank_and_no_residuals(driver):
    A, B = arrays((2, 5, 3), (2, 5, 2))
    A[0, :, 2] = A[0, :, 1]
    assert_agree(lambda lib, A, B: tuple(lib.linalg.lstsq(A, B, driver=driver)), A, B)


@pytest.mark.parametrize("driver", ["gelsd", "gelss"])
def test_lstsq_with_rcond_truncates_the_singular_values(driver):
    """Values as PyTorch's (whose gelsy truncates by its QR instead). Gradients are not compared:
    PyTorch's backward ignores rcond, ours is pinv's, and neither is the truncated solution's."""
    A, B = arrays((5, 3), (5, 2))
    for ours, theirs in zip(*(lib.linalg.lstsq(lib.tensor(A), lib.tensor(B), rcond=0.9, driver=driver) for lib in LIBRARIES)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_lstsq_residuals_float32_and_gradcheck():
    assert_agree(lambda lib, A, B: tuple(lib.linalg.lstsq(A, B, driver="gelsd")), *arrays((5, 3), (5, 2)), dtype="float32",
                 rtol=1e-4, atol=1e-5)
    gradcheck(lambda lib, A, B: lib.linalg.lstsq(A, B, driver="gelsd").residuals, *arrays((5, 3), (5, 2)))
    gradcheck(lambda lib, A, B: lib.linalg.lstsq(A, B, driver="gels").solution, *arrays((2, 5, 3), (2, 5)))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.linalg.lstsq(lib.ones(5, 3), lib.ones(5, 2), driver="foo"),
        lambda lib: lib.linalg.lstsq(lib.ones(5, 3), lib.ones(5, 2), driver=3),
        lambda lib: lib.linalg.lstsq(lib.ones(5, 3), lib.ones(2, 5, 4)),
        lambda lib: lib.linalg.lstsq(lib.ones(5, 3), lib.ones(4, 2)),
        lambda lib: lib.linalg.lstsq(lib.ones(5, 3), lib.ones(3)),
        lambda lib: lib.linalg.lstsq(lib.ones(5), lib.ones(5)),
        lambda lib: lib.linalg.lstsq(lib.ones(5, 3), lib.ones(5, 2, dtype=lib.float64)),
    ],
)
def test_lstsq_refuses_what_pytorch_refuses(call):
    raises_alike(call)


# ----------------------------------------------------------------------------- removed functions
@pytest.mark.parametrize(
    "call",
    [
        lambda lib, a: lib.solve(a, a),
        lambda lib, a: lib.lstsq(a, a),
        lambda lib, a: lib.eig(a),
        lambda lib, a: lib.eig(a, eigenvectors=True),
        lambda lib, a: lib.symeig(a),
        lambda lib, a: lib.matrix_rank(a),
        lambda lib, a: a.solve(a),
        lambda lib, a: a.lstsq(a),
        lambda lib, a: a.eig(),
        lambda lib, a: a.symeig(True),
    ],
)
def test_removed_functions_raise_pytorchs_message(call):
    messages = []
    for lib in LIBRARIES:
        with pytest.raises(RuntimeError) as error:
            call(lib, lib.eye(2))
        messages.append(str(error.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith("This function was deprecated since version 1.9 and is now removed.")
    assert not hasattr(chainrule.Tensor, "matrix_rank") and not hasattr(torch.Tensor, "matrix_rank")


# ----------------------------------------------------------------------------- cond, pinv, norms, vecdot
@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf])
def test_cond_values_and_gradients(p):
    (matrices,) = arrays((2, 3, 3))
    ours, theirs = (lib.linalg.cond(lib.tensor(matrices), p).numpy() for lib in LIBRARIES)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    if p in (None, 2, -2):  # PyTorch's backward through inv_ex fails for the other norms (its own bug)
        assert_agree(lambda lib, A: lib.linalg.cond(A, p), matrices)
    gradcheck(lambda lib, A: lib.linalg.cond(A, p), matrices)


def test_cond_of_a_singular_matrix_is_inf_and_bad_orders_raise():
    for p in (1, "fro", math.inf):
        for lib in LIBRARIES:
            assert np.isinf(lib.linalg.cond(lib.ones(2, 3, 3), p).numpy()).all()
    for p in (None, 1):
        for lib in LIBRARIES:
            assert lib.linalg.cond(lib.zeros(0, 0), p).item() == 0
    raises_alike(lambda lib: lib.linalg.cond(lib.ones(3, 3), 3))
    assert "square" in raises_alike(lambda lib: lib.linalg.cond(lib.ones(4, 3), "fro"))


def test_pinv_takes_rcond_as_pytorch():
    (matrix,) = arrays((4, 3))
    assert_agree(lambda lib, A: lib.linalg.pinv(A, rcond=0.5), matrix)
    assert_agree(lambda lib, A: lib.linalg.pinv(A, rcond=1e-15), matrix)


@pytest.mark.parametrize(
    "tolerances",
    [{"atol": [0.5, 1.5]}, {"rtol": [0.1, 0.6]}, {"atol": [0.0, 1.2]}, {"atol": [0.9, 0.2], "rtol": [0.0, 0.7]}, {"atol": [[0.4], [1.3]]}],
    ids=str,
)
def test_tolerances_given_as_tensors_broadcast_over_the_batch(tolerances):
    (matrices,) = arrays((2, 4, 3))
    def given(lib):
        return {name: lib.tensor(value, dtype=lib.float64) if isinstance(value, list) else value for name, value in tolerances.items()}
    ranks = [lib.linalg.matrix_rank(lib.tensor(matrices), **given(lib)).numpy() for lib in LIBRARIES]
    np.testing.assert_array_equal(*ranks)
    assert_agree(lambda lib, A: lib.linalg.pinv(A, **given(lib)), matrices)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.linalg.vector_norm(lib.arange(3), dtype=lib.float64),
        lambda lib: lib.linalg.vector_norm(lib.arange(3.0), dtype=lib.int64),
        lambda lib: lib.linalg.vector_norm(lib.arange(3.0, dtype=lib.float64), dtype=lib.float32),
        lambda lib: lib.linalg.vecdot(lib.arange(3), lib.arange(3)),
        lambda lib: lib.linalg.solve_triangular(lib.eye(3), lib.ones(3), upper=True),
        lambda lib: lib.triangular_solve(lib.ones(3), lib.eye(3)),
        lambda lib: lib.einsum("ij->ii", lib.ones(2, 3)),
        lambda lib: lib.einsum("ij,jk", lib.ones(2, 3), lib.ones(3, 2, dtype=lib.float64)),
        lambda lib: lib.einsum("ij,jk", lib.ones(2, 3), lib.ones(3, 2, dtype=lib.int64)),
        lambda lib: lib.einsum(lib.ones(2, 3), [0, 60]),
        lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(3, 2, dtype=lib.float64), 1),
        lambda lib: lib.inner(lib.ones(2, 3), lib.ones(2, 3, dtype=lib.float64)),
        lambda lib: lib.nn.functional.linear(lib.ones(2, 3), lib.ones(3), lib.ones(2)),
        lambda lib: lib.linalg.vector_norm(lib.ones(3, 3), ord="fro"),
        lambda lib: lib.linalg.matrix_norm(lib.ones(3, 3, 3), dim=(0, 1, 2)),
        lambda lib: lib.norm(lib.ones(3, 3), p="nuc", dim=1),
    ],
)
def test_refusals_match_pytorch(call):
    raises_alike(call)


def test_vector_norm_widens_with_dtype():
    assert_agree(lambda lib, x: lib.linalg.vector_norm(x, 3, dtype=lib.float64), *arrays((2, 3)), dtype="float32", rtol=1e-6)


# ----------------------------------------------------------------------------- einsum, kron, linear, addmm
SUBLIST_CASES = [
    (lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2], [0, 2]), ((2, 3), (3, 4))),
    (lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2]), ((2, 3), (3, 4))),
    (lambda lib, a, b: lib.einsum(a, [..., 0, 1], b, [..., 1, 2], [..., 0, 2]), ((5, 2, 3), (5, 3, 4))),
    (lambda lib, a: lib.einsum(a, [30, 30], []), ((3, 3),)),
    (lambda lib, a, b: lib.einsum(a, (0, 27), b, [27], [0]), ((2, 3), (3,))),
]


@pytest.mark.parametrize("call, shapes", SUBLIST_CASES)
def test_einsum_sublist_form(call, shapes):
    assert_agree(call, *arrays(*shapes))
    gradcheck(call, *arrays(*shapes))


@pytest.mark.parametrize(
    "equation, dtypes",
    [("i,j->ij", ("float32", "float64")), ("i,i->i", ("float32", "int64")), (",i->i", ("float64", "float32")),
     ("i,j,k->ijk", ("int32", "uint8", "int8")), ("i,j->ij", ("bool", "bool"))],
)
def test_einsum_promotes_mixed_dtypes_where_nothing_is_summed(equation, dtypes):
    inputs = equation.split("->")[0].split(",")
    results = [str(lib.einsum(equation, *(lib.ones((2,) * len(labels), dtype=getattr(lib, dtype)) for labels, dtype in zip(inputs, dtypes))).dtype)
               for lib in LIBRARIES]
    assert results[0].split(".")[-1] == results[1].split(".")[-1]


def test_kron_promotes_as_pytorch():
    for first, second in [("float32", "int64"), ("int64", "int64"), ("float32", "bool"), ("float32", "float64")]:
        dtypes = [str(lib.kron(lib.ones(2, 2, dtype=getattr(lib, first)), lib.ones(2, dtype=getattr(lib, second))).dtype).split(".")[-1]
                  for lib in LIBRARIES]
        assert dtypes[0] == dtypes[1]


def test_linear_with_a_vector_of_weights_is_a_dot_product():
    for shapes in [((2, 3), (3,)), ((3,), (3,)), ((4, 2, 3), (3,))]:
        assert_agree(lambda lib, x, w: lib.nn.functional.linear(x, w), *arrays(*shapes))
        gradcheck(lambda lib, x, w: lib.nn.functional.linear(x, w), *arrays(*shapes))


@pytest.mark.parametrize(
    "call, shapes",
    [
        (lambda lib, i, a, b: lib.addmm(i, a, b, beta=0), ((3, 1), (3, 4), (4, 5))),
        (lambda lib, i, a, b: lib.baddbmm(i, a, b, beta=0, alpha=2), ((3, 5), (2, 3, 4), (2, 4, 5))),
        (lambda lib, i, a, b: lib.addmv(i, a, b, beta=0), ((3,), (3, 4), (4,))),
        (lambda lib, i, a, b: lib.addr(i, a, b, beta=0), ((3, 4), (3,), (4,))),
    ],
)
def test_beta_zero_ignores_input_nan_but_keeps_its_zero_gradient(call, shapes):
    first, *rest = arrays(*shapes)
    assert_agree(call, np.full_like(first, np.nan), *rest)
    gradcheck(call, first, *rest)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.einsum(x, [50, 15]),
        lambda lib, x: lib.einsum(x, [30, 2]),
        lambda lib, x: lib.einsum(x, [2, 30]),
        lambda lib, x: lib.einsum("yP", x),
        lambda lib, x: lib.linalg.vector_norm(x.to(lib.complex128), 0),
        lambda lib, x: lib.linalg.norm(x.to(lib.complex128).flatten(), 0),
        lambda lib, x: lib.linalg.matrix_rank(x[:4] @ x[:4].T, 0.5, True),
        lambda lib, x: lib.linalg.matrix_rank(x[:4] @ x[:4].T, tol=2.0),
    ],
)
def test_einsum_sublists_norms_of_complex_numbers_and_matrix_rank_forms_as_pytorch(call):
    """einsum's sublist labels 0-25 are A-Z (an implicit output sorts them as PyTorch does); the
    0-norm of complex numbers is real; matrix_rank takes tol and hermitian by position."""
    results = []
    for lib in (torch, chainrule):
        result = call(lib, lib.tensor(np.arange(20.0).reshape(5, 4) % 7 - 3))
        results.append((tuple(result.shape), str(result.dtype).split(".")[1], np.asarray(result.tolist())))
    assert results[1][:2] == results[0][:2]
    np.testing.assert_allclose(results[1][2], results[0][2], rtol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, A: lib.linalg.eigh(A, out=(lib.empty(0), lib.empty(0))),
        lambda lib, A: lib.linalg.svd(A, out=(lib.empty(0), lib.empty(0), lib.empty(0))),
        lambda lib, A: lib.linalg.qr(A, out=(lib.empty(0), lib.empty(0))),
        lambda lib, A: lib.linalg.slogdet(A, out=(lib.empty(0), lib.empty(0))),
        lambda lib, A: lib.linalg.inv_ex(A, out=(lib.empty(0), lib.empty(0, dtype=lib.int32))),
        lambda lib, A: lib.linalg.cholesky_ex(A, out=(lib.empty(0), lib.empty(0, dtype=lib.int32))),
        lambda lib, A: lib.linalg.lu_factor(A, out=(lib.empty(0), lib.empty(0, dtype=lib.int32))),
        lambda lib, A: lib.linalg.eigvals(A, out=lib.empty(0, dtype=lib.complex64)),
        lambda lib, A: lib.linalg.cross(A[0].repeat(2)[:3], A[1].repeat(2)[:3], out=lib.empty(0)),
        lambda lib, A: lib.inverse(A, out=lib.empty(0)),
        lambda lib, A: lib.vdot(A[0], A[1], out=lib.empty(0)),
    ],
)
def test_linear_algebra_writes_into_out_as_pytorch(call):
    """out= of the decompositions and solvers: a tensor, or a tuple for several results, returned
    as PyTorch's out form names it (``linalg_eigh_out``)."""
    results = []
    for lib in (torch, chainrule):
        result = call(lib, lib.tensor([[4.0, 1.0], [1.0, 3.0]]))
        parts = result if isinstance(result, tuple) else (result,)
        results.append((type(result).__name__, [tuple(part.shape) for part in parts]))
    assert results[1] == results[0]
