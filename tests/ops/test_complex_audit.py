"""The operations a complex audit found wrong, compared with PyTorch on complex inputs.

Each case's output and the gradients of a real loss are compared with PyTorch's (complex128, and
complex64 for the dtypes of results and gradients), and with central differences by
``chainrule.autograd.gradcheck`` where the output does not depend on a choice of phase (the
singular vectors and eigenvectors do: those cases compare with PyTorch through a phase-free
function of them), and on float64 inputs, whose gradients the conjugates must leave as they were. Before the audit these computed real results (a cast to the default float
dtype), forgot a conjugate in a backward formula, or refused complex input that PyTorch takes.
"""
import numpy as np
import pytest
import torch

import chainrule


def complex_array(*shape, seed=0):
    generator = np.random.default_rng(seed + sum(shape))
    return generator.standard_normal(shape) + 1j * generator.standard_normal(shape)


A, B = complex_array(3, 3, seed=1), complex_array(3, 3, seed=2)
BATCH = complex_array(2, 3, 3, seed=3)
HERMITIAN = A @ A.conj().T + 3 * np.eye(3)
TALL, WIDE = complex_array(4, 3, seed=4), complex_array(3, 4, seed=5)
VECTOR = complex_array(3, seed=6)

def outer_factors(svd):
    """U Vh: free of the singular vectors' phases."""
    return svd[0] @ svd[2]


def low_rank_product(svd):
    """U diag(S) Vᴴ of torch.svd's or svd_lowrank's (U, S, V), V not Vᴴ (svd_lowrank of full rank:
    the random draws make no difference)."""
    U, S, V = svd
    return (U * S.to(U.dtype)) @ V.mH


def projector(vectors):
    """V Vᴴ: free of the eigenvectors' phases."""
    return vectors @ vectors.mH


# name: (function of (library, *tensors), input arrays, whether gradcheck applies)
CASES = {
    # values that dropped the imaginary part or a conjugate
    "pow_float": (lambda L, a: a ** 2.5 + a ** -0.5, [A], True),
    "trapezoid": (lambda L, a: L.trapezoid(a) + L.trapezoid(a, dx=0.5, dim=0), [A], True),
    "cumulative_trapezoid": (lambda L, a: L.cumulative_trapezoid(a), [A], True),
    "vdot": (lambda L, a, b: L.vdot(a, b), [VECTOR, VECTOR[::-1].copy()], True),
    "vecdot": (lambda L, a, b: L.linalg.vecdot(a, b) * 1, [A, B], True),
    "cov": (lambda L, a: L.cov(a) + L.cov(a, fweights=L.tensor([1, 2, 1]), aweights=L.tensor([0.5, 1.0, 2.0])), [A], True),
    "corrcoef": (lambda L, a: L.corrcoef(a), [A], False),  # (clipped: not differentiable everywhere)
    "mH": (lambda L, a: a.mH + a.adjoint() + a.H, [A], True),
    "logdet": (lambda L, h: L.logdet(h), [HERMITIAN * (1 + 1j)], True),
    # backward formulas that missed a conjugate
    "cumprod": (lambda L, a: L.cumprod(a, 1), [A], True),
    "cumprod_with_zero": (lambda L, a: L.cumprod(a * L.tensor([[1, 0, 1]]), 1), [A], True),
    "logsumexp": (lambda L, a: L.logsumexp(a, 1), [A], True),
    "logcumsumexp": (lambda L, a: L.logcumsumexp(a, 1) + L.logcumsumexp(a * 300, 0) / 300, [A], True),
    "addcmul": (lambda L, a, b: L.addcmul(a, b, a, value=0.5 - 0.25j), [A, B], True),
    "addcdiv": (lambda L, a, b: L.addcdiv(a, b, a, value=0.5), [A, B], True),
    "lerp": (lambda L, a, b: L.lerp(a, b, 0.3) + L.lerp(a, b, b * 0.1), [A, B], True),
    "cross": (lambda L, a, b: L.linalg.cross(a, b), [A, B], True),
    "conv1d": (lambda L, x, w: L.nn.functional.conv1d(x, w, padding=1), [complex_array(2, 3, 5), complex_array(4, 3, 3)], True),
    "conv2d_groups": (lambda L, x, w: L.nn.functional.conv2d(x, w, groups=2, stride=2, padding=1),
                      [complex_array(1, 2, 5, 5), complex_array(4, 1, 3, 3)], True),
    "conv_transpose1d": (lambda L, x, w: L.nn.functional.conv_transpose1d(x, w, stride=2),
                         [complex_array(2, 3, 4), complex_array(3, 2, 3)], True),
    "inv": (lambda L, a: L.linalg.inv(a), [A], True),
    "slogdet": (lambda L, a: L.linalg.slogdet(a)[0] + L.linalg.slogdet(a)[1], [A], True),
    "matrix_exp": (lambda L, a: L.linalg.matrix_exp(a * 0.3), [A], True),
    "pinv": (lambda L, a: L.linalg.pinv(a) + L.pinverse(a.mT).mT, [TALL], True),
    # refused before (NumPy's LAPACK computes complex too)
    "det": (lambda L, a: L.linalg.det(a), [BATCH], True),
    "solve": (lambda L, a, b: L.linalg.solve(a, b) + L.linalg.solve(a, b, left=False), [A, B], True),
    "lu_factor_solve": (lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b)
                        + L.linalg.lu_solve(*L.linalg.lu_factor(a), b, adjoint=True)
                        + L.linalg.lu_solve(*L.linalg.lu_factor(a), b, left=False), [A, B], True),
    "lu_tall": (lambda L, a: L.linalg.lu(a)[1], [TALL], True),
    "lu_wide": (lambda L, a: L.linalg.lu(a)[2], [WIDE], True),
    "cholesky": (lambda L, h: L.linalg.cholesky(h) + L.linalg.cholesky(h, upper=True), [HERMITIAN], False),
    "cholesky_solve": (lambda L, h, b: L.cholesky_solve(b, L.linalg.cholesky(h))
                       + L.cholesky_solve(b, L.linalg.cholesky(h, upper=True), upper=True), [HERMITIAN, B], False),
    "cholesky_inverse": (lambda L, h: L.cholesky_inverse(L.linalg.cholesky(h)), [HERMITIAN], False),
    "solve_triangular": (lambda L, a, b: L.linalg.solve_triangular(a.triu() + 3 * L.eye(3), b, upper=True)
                         + L.linalg.solve_triangular(a.tril() + 3 * L.eye(3), b, upper=False, left=False), [A, B], True),
    "qr": (lambda L, a: sum(each.abs().sum(0) for each in L.linalg.qr(a)), [TALL], True),
    "qr_wide": (lambda L, a: L.linalg.qr(a)[1].abs(), [WIDE], True),
    "svdvals": (lambda L, a: L.linalg.svdvals(a) + L.linalg.matrix_norm(a, "nuc") + L.linalg.matrix_norm(a, 2), [TALL], True),
    "svd": (lambda L, a: L.linalg.svd(a, full_matrices=False)[0].abs() ** 2, [TALL], False),
    "svd_product": (lambda L, a: outer_factors(L.linalg.svd(a, full_matrices=False)), [WIDE], True),
    "svd_legacy": (lambda L, a: low_rank_product(L.svd(a)), [A], True),
    "svd_lowrank": (lambda L, a: low_rank_product(L.svd_lowrank(a, q=3)), [TALL], True),
    "eigh": (lambda L, h: L.linalg.eigvalsh(h) + L.linalg.eigh(h)[1].abs().sum(0), [HERMITIAN], False),
    "eigh_projector": (lambda L, a: projector(L.linalg.eigh(a @ a.mH)[1][:, :1]), [A], True),
    "cholesky_of_product": (lambda L, a: L.linalg.cholesky(a @ a.mH + 3 * L.eye(3)), [A], True),
    "lstsq": (lambda L, a, b: L.linalg.lstsq(a, b).solution + L.linalg.lstsq(a, b, driver="gelsd").residuals.sum(),
              [TALL, complex_array(4, 2)], True),
    "eig": (lambda L, a: L.linalg.eigvals(a) + L.linalg.eig(a)[1].abs().sum(0), [A], False),
    "eigvals": (lambda L, a: L.linalg.eigvals(a), [A], True),
    "geqrf_householder": (lambda L, a: L.linalg.householder_product(*L.geqrf(a.detach())) + a, [TALL], False),
    "ormqr": (lambda L, a, c: L.ormqr(*L.geqrf(a.detach()), c, transpose=True) + L.ormqr(*L.geqrf(a.detach()), c, left=False) + a,
              [A, B], False),
    "gather": (lambda L, a: a.gather(1, L.tensor([[0, 0], [2, 1], [1, 1]])), [A], True),
    "unfold": (lambda L, a: a.unfold(1, 2, 1), [A], True),
    "dist": (lambda L, a, b: L.dist(a, b) + L.dist(a, b, 3), [A, B], True),
}


def loss(lib, output):
    """A real loss of every element's real and imaginary part."""
    weights = lib.tensor(np.linspace(0.3, 1.7, output.numel()).reshape(output.shape), dtype=output.dtype)
    weighted = output * weights
    total = weighted.real.sum() + (output.abs() ** 2).sum() * 0.1
    return total + weighted.imag.sum() * 0.7 if output.is_complex() else total


def values_and_gradients(lib, function, arrays, dtype):
    inputs = [lib.tensor(array, dtype=dtype, requires_grad=True) for array in arrays]
    output = function(lib, *inputs)
    grads = lib.autograd.grad(loss(lib, output), inputs)
    return output, grads


def as_numpy(tensor):
    return tensor.detach().resolve_conj().numpy() if isinstance(tensor, torch.Tensor) else tensor.detach().numpy()


@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients_are_pytorchs(name):
    function, arrays, _ = CASES[name]
    expected, expected_grads = values_and_gradients(torch, function, arrays, torch.complex128)
    output, grads = values_and_gradients(chainrule, function, arrays, chainrule.complex128)
    np.testing.assert_allclose(as_numpy(output), as_numpy(expected), atol=1e-9, rtol=1e-9)
    for grad, expected_grad in zip(grads, expected_grads):
        np.testing.assert_allclose(grad.numpy(), as_numpy(expected_grad), atol=1e-8, rtol=1e-8)


@pytest.mark.parametrize("name", CASES)
def test_complex64_keeps_its_dtype_as_pytorch(name):
    function, arrays, _ = CASES[name]
    expected, expected_grads = values_and_gradients(torch, function, arrays, torch.complex64)
    output, grads = values_and_gradients(chainrule, function, arrays, chainrule.complex64)
    assert str(output.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(as_numpy(output), as_numpy(expected), atol=2e-4, rtol=2e-4)
    for grad, expected_grad in zip(grads, expected_grads):
        assert str(grad.dtype).split(".")[-1] == str(expected_grad.dtype).split(".")[-1]


@pytest.mark.parametrize("name", [name for name, (_, _, checkable) in CASES.items() if checkable])
def test_gradients_agree_with_finite_differences(name):
    function, arrays, _ = CASES[name]
    inputs = tuple(chainrule.tensor(array, requires_grad=True) for array in arrays)
    assert chainrule.autograd.gradcheck(lambda *tensors: function(chainrule, *tensors), inputs)


@pytest.mark.parametrize("name", [name for name, (_, _, checkable) in CASES.items() if checkable])
def test_real_inputs_keep_their_gradients(name):
    """The same operations on float64 (the real paths the conjugates must leave as they were)."""
    function, arrays, _ = CASES[name]
    inputs = tuple(chainrule.tensor(array.real.copy(), requires_grad=True) for array in arrays)
    assert chainrule.autograd.gradcheck(lambda *tensors: function(chainrule, *tensors), inputs)


@pytest.mark.parametrize("name", ["inv", "det", "solve", "cholesky_of_product", "slogdet", "svdvals", "eigvals", "qr", "conv1d", "cumprod",
                                  "logcumsumexp"])
def test_second_derivatives_agree_with_finite_differences(name):
    function, arrays, _ = CASES[name]
    inputs = tuple(chainrule.tensor(array, requires_grad=True) for array in arrays)
    assert chainrule.autograd.gradgradcheck(lambda *tensors: function(chainrule, *tensors), inputs)


def test_eig_of_a_real_matrix_is_complex_with_a_real_gradient_as_pytorchs():
    real = np.array([[0.0, -2.0, 1.0], [1.0, 0.5, 0.0], [0.3, 0.0, -1.0]])  # a pair of complex eigenvalues
    results = {}
    for lib in (torch, chainrule):
        a = lib.tensor(real, requires_grad=True)
        values, vectors = lib.linalg.eig(a)
        (values.real.sum() + (values.imag ** 2).sum() + vectors.abs().sum()).backward()
        results[lib] = (values, vectors.abs(), a.grad)
    for mine, theirs in zip(results[chainrule], results[torch]):
        assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), atol=1e-10)
    float32 = chainrule.linalg.eigvals(chainrule.tensor(real, dtype=chainrule.float32))
    assert float32.dtype == chainrule.complex64


@pytest.mark.parametrize("make_loss, operation", [
    (lambda L, a: L.linalg.svd(a)[0].real.sum(), "svd_backward"),
    (lambda L, a: L.linalg.eigh(a @ a.mH)[1].real.sum(), "linalg_eigh_backward"),
    (lambda L, a: L.linalg.eig(a)[1].real.sum(), "linalg_eig_backward"),
])
def test_a_loss_that_depends_on_the_vectors_phase_is_refused_as_pytorch(make_loss, operation):
    messages = []
    for lib in (torch, chainrule):
        a = lib.tensor(A, requires_grad=True)
        with pytest.raises(RuntimeError) as error:
            make_loss(lib, a).backward()
        messages.append(str(error.value))
    assert messages[0] == messages[1] and messages[1].startswith(operation + ": ")


@pytest.mark.parametrize("make", [
    lambda L: L.xlogy(L.ones(2, dtype=L.complex128), L.ones(2)),
    lambda L: L.ones(2, dtype=L.complex64).xlogy(2.0),
    lambda L: L.special.xlogy(2.0, L.ones(2, dtype=L.complex64)),
    lambda L: L.linalg.eig(L.ones(2, 2, dtype=L.int64)),
    lambda L: L.linalg.eig(L.ones(2, 2, dtype=L.float16)),
    lambda L: L.linalg.eig(L.ones(2, 3)),
    lambda L: L.linalg.eig(L.tensor([[1.0, float("nan")], [0.0, 1.0]])),
    *[
        (lambda name: lambda L: getattr(L, name)(L.tensor([1 + 1j, -2 + 0.5j])))(name)
        for name in ["erfc", "erfinv", "digamma", "i0", "signbit", "isposinf", "isneginf", "logit", "deg2rad", "rad2deg", "fix"]
    ],
    lambda L: L.copysign(L.tensor([1j]), L.tensor([1j])),
    lambda L: L.nn.functional.hardtanh(L.tensor([1j])),
    lambda L: L.nn.functional.relu6(L.tensor([1j])),
])
def test_refusals_are_pytorchs(make):
    with pytest.raises(Exception) as expected:
        make(torch)
    with pytest.raises(type(expected.value)) as error:
        make(chainrule)
    assert str(error.value).startswith(str(expected.value).split(";")[0])


def test_real_operations_take_no_conjugate_copies():
    """The conjugate of a real tensor or array is the object itself: no real path pays for complex numbers."""
    x = chainrule.ones(2, 3)
    assert x.conj() is x and x.real is x
    assert x.mH.numpy().base is not None  # a view, as PyTorch's x.mT
