"""Products with a CSR or CSC operand against PyTorch: torch.mm, matmul, @, sparse.mm, addmm,
sparse.addmm, dense @ compressed and compressed @ compressed; their values, the layouts of the
results and of the gradients, and float64 finite differences for the dense operand and the values."""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd import gradcheck

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")

PRODUCTS = {
    "mm": lambda lib, c, y: lib.mm(c, y),
    "matmul": lambda lib, c, y: lib.matmul(c, y),
    "@": lambda lib, c, y: c @ y,
    "sparse.mm": lambda lib, c, y: lib.sparse.mm(c, y),
    "addmm": lambda lib, c, y: lib.addmm(lib.ones(c.shape[0], y.shape[1], dtype=y.dtype), c, y, beta=0.5, alpha=2.0),
    "sparse.addmm": lambda lib, c, y: lib.sparse.addmm(lib.ones(c.shape[0], y.shape[1], dtype=y.dtype), c, y),
    "dense @ c": lambda lib, c, y: y.t() @ c.t(),
    "mm(dense, c)": lambda lib, c, y: lib.mm(y.t(), c.t()),
    "c @ vector": lambda lib, c, y: c @ y[:, 0],
    "csc @ dense": lambda lib, c, y: c.to_sparse_csc() @ y,
    "c @ stack": lambda lib, c, y: c @ lib.stack([y, 2 * y]),
    "c @ c": lambda lib, c, y: c @ c.t().to_sparse_csr(),
}


def random_matrix(rng, shape, density=0.4):
    return rng.standard_normal(shape) * (rng.random(shape) < density)


def _run(lib, matrix, dense, product):
    """The product, and the gradients of a weighted sum of it for the leaves c and y."""
    c = lib.tensor(matrix).to_sparse_csr().requires_grad_()
    y = lib.tensor(dense, requires_grad=True)
    out = PRODUCTS[product](lib, c, y)
    shown = out.to_dense() if out.layout != lib.strided else out
    weights = lib.arange(shown.numel(), dtype=lib.float64).reshape(shown.shape) / 7
    (shown * weights).sum().backward()
    return out, c.grad, y.grad


@pytest.mark.parametrize("product", list(PRODUCTS))
@pytest.mark.parametrize("shape", [(4, 3, 2), (1, 1, 1), (3, 5, 1), (5, 1, 3), (3, 3, 3)])
def test_products_and_gradients_match_pytorch(product, shape):
    n, k, m = shape
    rng = np.random.default_rng(n * 100 + k * 10 + m)
    for density in (0.0, 0.5):
        matrix = random_matrix(rng, (n, k), density)
        if product == "c @ c":
            matrix = random_matrix(rng, (n, n), density)
        dense = rng.standard_normal((matrix.shape[1], m))
        ours, theirs = _run(chainrule, matrix, dense, product), _run(torch, matrix, dense, product)
        for mine, expected in zip(ours, theirs):
            assert (mine is None) == (expected is None)
            if expected is None:
                continue
            assert repr(mine.layout) == repr(expected.layout).replace("torch.", "chainrule."), product
            np.testing.assert_allclose(mine.detach().to_dense().numpy(), expected.detach().to_dense().numpy(), rtol=1e-10, atol=1e-12)
        out, expected = ours[0], theirs[0]
        if product != "c @ stack":  # (PyTorch's node of that one is CloneBackward0)
            assert type(out.grad_fn).__name__ == type(expected.grad_fn).__name__
        if expected.layout == torch.sparse_csr:
            assert repr(out) == repr(expected).replace("torch.", "chainrule.")


def test_products_of_csc_operands_are_csr():
    """(PyTorch's backward of these fails: its gradient for the CSC operand comes in CSR.)"""
    rng = np.random.default_rng(3)
    matrix = random_matrix(rng, (4, 4), 0.5)
    for product in (lambda c: c @ c.t(), lambda c: c.t() @ c, lambda c: c.t() @ c.t()):
        ours, theirs = product(chainrule.tensor(matrix).to_sparse_csr()), product(torch.tensor(matrix).to_sparse_csr())
        assert repr(ours) == repr(theirs).replace("torch.", "chainrule.")


def test_compressed_product_keeps_the_positions_whose_sum_is_zero():
    for lib in (torch, chainrule):
        product = lib.tensor([[1.0, 1.0]]).to_sparse_csr() @ lib.tensor([[1.0], [-1.0]]).to_sparse_csr()
        assert product._nnz() == 1 and product.values().tolist() == [0.0]


@pytest.mark.parametrize("product", ["mm", "sparse.mm", "addmm", "sparse.addmm", "dense @ c", "c @ vector"])
def test_finite_differences(product):
    """d product / d y and d product / d values (the values of a CSR matrix with an empty row)."""
    crow, col = chainrule.tensor([0, 2, 2, 3]), chainrule.tensor([0, 2, 1])
    values = chainrule.tensor([1.5, -2.0, 0.5], dtype=chainrule.float64, requires_grad=True)
    y = chainrule.randn(3, 2, dtype=chainrule.float64, requires_grad=True)

    def compute(values, y):
        return PRODUCTS[product](chainrule, chainrule.sparse_csr_tensor(crow, col, values, (3, 3)), y)

    assert gradcheck(compute, (values, y))


@pytest.mark.parametrize("call", [
    lambda lib: lib.sparse.mm(lib.tensor([[1.0, 0.0]]).to_sparse_csr(), lib.ones(3, 2)),
    lambda lib: lib.sparse.addmm(lib.ones(1, 2), lib.tensor([[1.0, 0.0]]).to_sparse_csr(), lib.ones(3, 2)),
    lambda lib: lib.sparse.addmm(lib.ones(1, 2).to_sparse_csr(), lib.tensor([[1.0, 0.0]]).to_sparse_csr(), lib.ones(2, 2)),
], ids=lambda call: None)
def test_errors_as_pytorch(call):
    errors = []
    for lib in (torch, chainrule):
        with pytest.raises(Exception) as caught:
            call(lib)
        errors.append((caught.type, str(caught.value).split(" (")[0]))
    assert errors[0] == errors[1]


def test_a_wrong_size_is_refused():
    """(PyTorch's words for it are its addmm kernel's; chainrule's are matmul's.)"""
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        chainrule.tensor([[1.0, 0.0]]).to_sparse_csr() @ chainrule.ones(3, 2)


def test_sparse_addmm_of_a_dense_and_a_csr_matrix():
    for lib in (torch, chainrule):
        result = lib.sparse.addmm(lib.ones(1, 2), lib.ones(1, 2), lib.tensor([[1.0, 0.0], [3.0, 1.0]]).to_sparse_csr())
        assert result.tolist() == [[5.0, 2.0]] and type(result.grad_fn).__name__ in ("NoneType",)


def test_a_graph_convolution_step_matches_pytorch():
    """Kipf and Welling's GCN with its normalized adjacency in CSR: two layers, a loss, one SGD step."""
    rng = np.random.default_rng(5)
    edges = (rng.random((6, 6)) < 0.3) | np.eye(6, dtype=bool)
    adjacency = edges / edges.sum(axis=1, keepdims=True)
    features, targets = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    weights = [rng.standard_normal((4, 5)) / 2, rng.standard_normal((5, 3)) / 2]
    results = []
    for lib in (torch, chainrule):
        adj = lib.tensor(adjacency, dtype=lib.float32).to_sparse_csr()
        first, second = (lib.tensor(weight, dtype=lib.float32, requires_grad=True) for weight in weights)
        optimizer = lib.optim.SGD([first, second], lr=0.1)
        hidden = lib.relu(lib.sparse.mm(adj, lib.tensor(features, dtype=lib.float32) @ first))
        loss = lib.nn.functional.cross_entropy(adj @ (hidden @ second), lib.tensor(targets))
        loss.backward()
        optimizer.step()
        results.append((loss.item(), first.detach().numpy().copy(), second.grad.numpy().copy()))
    (their_loss, *theirs), (our_loss, *ours) = results
    assert abs(their_loss - our_loss) < 1e-5
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)
