"""svd_lowrank, pca_lowrank and lobpcg (ops/lowrank.py): randomized, so compared with PyTorch
through what does not depend on the draw: reconstructions, singular values of matrices of low rank,
eigenvalues, gradients, and shapes."""
import numpy as np
import pytest
import torch

import chainrule


def low_rank(shape, rank, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape[:-1] + (rank,)) @ rng.standard_normal(shape[:-2] + (rank, shape[-1]))


def spd(size, seed=0):
    matrix = np.random.default_rng(seed).standard_normal((size, size))
    return matrix @ matrix.T + np.eye(size)


@pytest.mark.parametrize("shape", [(12, 7), (7, 12), (2, 9, 6)])
def test_svd_lowrank_recovers_a_matrix_of_rank_q(shape):
    A = low_rank(shape, 4)
    U, S, V = chainrule.svd_lowrank(chainrule.tensor(A), q=4)
    theirs = torch.svd_lowrank(torch.tensor(A), q=4)
    assert [tuple(each.shape) for each in (U, S, V)] == [tuple(each.shape) for each in theirs]
    np.testing.assert_allclose((U.numpy() * S.numpy()[..., None, :]) @ V.numpy().swapaxes(-1, -2), A, atol=1e-10)
    np.testing.assert_allclose(S.numpy(), theirs[1].numpy(), atol=1e-10)
    np.testing.assert_allclose(U.numpy().swapaxes(-1, -2) @ U.numpy(), np.broadcast_to(np.eye(4), S.shape + (4,)), atol=1e-10)


def test_svd_lowrank_of_a_shifted_matrix():
    A, M = low_rank((10, 6), 3) + 5.0, np.full((10, 6), 5.0)
    U, S, V = chainrule.svd_lowrank(chainrule.tensor(A), q=3, M=chainrule.tensor(M))
    np.testing.assert_allclose((U.numpy() * S.numpy()) @ V.numpy().T, A - M, atol=1e-10)


def test_svd_lowrank_draws_from_chainrules_generator():
    A = chainrule.tensor(np.random.default_rng(1).standard_normal((8, 8)))
    chainrule.manual_seed(3)
    first = chainrule.svd_lowrank(A, q=2, niter=0)[0]
    chainrule.manual_seed(3)
    np.testing.assert_array_equal(chainrule.svd_lowrank(A, q=2, niter=0)[0].numpy(), first.numpy())


def test_gradient_of_the_singular_values_is_pytorchs():
    """At a matrix of rank q the basis spans its range exactly: dΣS = U Vᵀ, whatever was drawn."""
    A = low_rank((9, 5), 3, seed=2)
    grads = []
    for lib in (chainrule, torch):
        a = lib.tensor(A, requires_grad=True)
        lib.svd_lowrank(a, q=3)[1].sum().backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(*grads, atol=1e-8)


@pytest.mark.parametrize("center", [True, False])
def test_pca_lowrank_finds_the_principal_components(center):
    A = low_rank((20, 6), 3, seed=4) + np.arange(6.0)
    U, S, V = chainrule.pca_lowrank(chainrule.tensor(A), q=4 if center else 5, center=center)
    theirs = torch.pca_lowrank(torch.tensor(A), q=4 if center else 5, center=center)
    assert [tuple(each.shape) for each in (U, S, V)] == [tuple(each.shape) for each in theirs]
    centered = A - A.mean(0) if center else A
    np.testing.assert_allclose(S.numpy(), theirs[1].numpy(), atol=1e-8)
    np.testing.assert_allclose((U.numpy() * S.numpy()) @ V.numpy().T, centered, atol=1e-8)


def test_pca_lowrank_default_q_and_errors():
    A = np.random.default_rng(5).standard_normal((10, 4))
    assert tuple(chainrule.pca_lowrank(chainrule.tensor(A))[1].shape) == tuple(torch.pca_lowrank(torch.tensor(A))[1].shape)
    for lib in (torch, chainrule):
        with pytest.raises(ValueError, match=r"q\(=5\) must be non-negative integer and not greater than min\(m, n\)=4"):
            lib.pca_lowrank(lib.tensor(A), q=5)


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("k", [1, 3])
def test_lobpcg_finds_the_extreme_eigenpairs(k, largest):
    A = spd(15, seed=k)
    E, X = chainrule.lobpcg(chainrule.tensor(A), k=k, largest=largest)
    their_E, their_X = torch.lobpcg(torch.tensor(A), k=k, largest=largest)
    assert tuple(E.shape) == tuple(their_E.shape) and tuple(X.shape) == tuple(their_X.shape)
    np.testing.assert_allclose(E.numpy(), their_E.numpy(), rtol=1e-6)
    expected = np.linalg.eigvalsh(A)
    np.testing.assert_allclose(E.numpy(), expected[::-1][:k] if largest else expected[:k], rtol=1e-6)
    np.testing.assert_allclose(A @ X.numpy(), X.numpy() * E.numpy(), atol=1e-5 * expected[-1])


def test_lobpcg_from_given_vectors_and_its_eigenvalue_gradient():
    A = spd(12, seed=7)
    start = np.random.default_rng(8).standard_normal((12, 2))
    grads = []
    for lib in (chainrule, torch):
        a = lib.tensor(A, requires_grad=True)
        E, X = lib.lobpcg(a, X=lib.tensor(start))
        assert tuple(E.shape) == (2,)
        E.sum().backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(*grads, atol=1e-6)


def test_lobpcg_needs_three_rows_per_eigenpair():
    for lib in (torch, chainrule):
        with pytest.raises(ValueError, match=r"smaller than 3 x the number of requested eigenpairs \(=2\)"):
            lib.lobpcg(lib.eye(5, dtype=lib.float64), k=2)
