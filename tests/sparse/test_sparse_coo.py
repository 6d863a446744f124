"""Sparse COO tensors against PyTorch: prints, values, coalescing, products, sums and gradients
(including float64 finite differences), and the errors of operations with no sparse kernel."""
import numpy as np
import pytest
import torch

import chainrule


def both(indices, values, size=None, **options):
    """The same sparse tensor made by PyTorch and by chainrule."""
    theirs = torch.sparse_coo_tensor(torch.tensor(indices), torch.tensor(values), size, **{
        key: getattr(torch, value) if key == "dtype" else value for key, value in options.items()
    })
    ours = chainrule.sparse_coo_tensor(chainrule.tensor(indices), chainrule.tensor(values), size, **{
        key: getattr(chainrule, value) if key == "dtype" else value for key, value in options.items()
    })
    return theirs, ours


def same_print(ours, theirs):
    assert repr(ours) == repr(theirs).replace("torch.", "chainrule.")


def random_sparse(rng, shape, nnz, dense_shape=()):
    """indices with repeats (drawn with replacement) and float64 values."""
    indices = np.stack([rng.integers(0, size, nnz) for size in shape])
    values = rng.standard_normal((nnz,) + dense_shape)
    return indices.tolist(), values.tolist(), shape + dense_shape


MATRIX = ([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))


@pytest.mark.parametrize("make", [
    lambda lib: lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]), MATRIX[2]),
    lambda lib: lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1])),
    lambda lib: lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]), MATRIX[2], requires_grad=True),
    lambda lib: lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]), MATRIX[2], dtype=lib.float64),
    lambda lib: lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor([1, 2, 3]), MATRIX[2]),
    lambda lib: lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.ones(3, 2), (2, 3, 2)),
    lambda lib: lib.sparse_coo_tensor(lib.zeros(2, 0, dtype=lib.int64), lib.zeros(0), (2, 3)),
    lambda lib: lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]).requires_grad_(), MATRIX[2]),
    lambda lib: lib.diag(lib.tensor([1.0, 0.0, 2.0])).to_sparse(),
    lambda lib: lib.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse(1),
    lambda lib: lib.sparse.FloatTensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]), lib.Size([2, 3])),
    lambda lib: lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]), MATRIX[2]).t(),
    lambda lib: lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]), MATRIX[2]) * 2,
    lambda lib: 2 * lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]), MATRIX[2]),
    lambda lib: lib.sparse.sum(lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]), MATRIX[2]), dim=1),
    lambda lib: lib.sparse.sum(lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]), MATRIX[2]), dim=0),
    lambda lib: lib.sparse.sum(lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]), MATRIX[2])),
    lambda lib: lib.sparse_coo_tensor(lib.tensor([[1, 0, 1], [0, 2, 0]]), lib.tensor([1.0, 2.0, 3.0]), (2, 3)).coalesce(),
    lambda lib: lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]), MATRIX[2]).double(),
    lambda lib: lib.randn(3, 4).relu().to_sparse(),  # drawn alike (both generators seeded by the conftest)
    lambda lib: lib.t(lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]), MATRIX[2])),
    lambda lib: lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]), MATRIX[2]) / 2,
    lambda lib: -lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor(MATRIX[1]), MATRIX[2]),
    lambda lib: lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), lib.tensor([1, 2, 3]), MATRIX[2]) * 2.5,
    lambda lib: lib.sparse_coo_tensor(lib.tensor([[1]]), lib.tensor([1.0]), (3,)),
    lambda lib: lib.zeros(2, 3, layout=lib.sparse_coo),
    lambda lib: lib.empty(2, 3, dtype=lib.float64, layout=lib.sparse_coo),
    lambda lib: lib.zeros_like(lib.ones(2, 2).to_sparse()),
    lambda lib: lib.sparse.FloatTensor(lib.tensor(MATRIX[0]), lib.tensor([1, 2, 3]), lib.Size([2, 3])),
    lambda lib: lib.sparse.LongTensor(2, 3),
], ids=lambda make: None)
def test_prints_as_pytorch(make):
    torch.manual_seed(0)
    chainrule.manual_seed(0)
    same_print(make(chainrule), make(torch))


def test_queries_and_layout():
    theirs, ours = both(*MATRIX)
    for name in ("_nnz", "sparse_dim", "dense_dim", "is_coalesced"):
        assert getattr(ours, name)() == getattr(theirs, name)(), name
    assert ours.is_sparse and not chainrule.ones(2).is_sparse
    assert ours.layout is chainrule.sparse_coo and chainrule.ones(2).layout is chainrule.strided
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == chainrule.float32
    assert ours.to("cpu") is ours and ours.to(chainrule.device("cpu")) is ours
    assert ours.float() is ours and ours.double().dtype == chainrule.float64
    assert ours.coalesce().is_coalesced() and ours.coalesce().t().is_coalesced() == theirs.coalesce().t().is_coalesced()
    np.testing.assert_array_equal(ours._indices().numpy(), theirs._indices().numpy())
    np.testing.assert_array_equal(ours._values().numpy(), theirs._values().numpy())
    np.testing.assert_array_equal(ours.coalesce().indices().numpy(), theirs.coalesce().indices().numpy())
    declared = [each._coalesced_(True) for each in both(*MATRIX)]  # (PyG's to_edge_index declares it)
    assert all(each.is_coalesced() for each in declared) and not declared[1]._coalesced_(False).is_coalesced()
    dense = chainrule.ones(2, 2)
    assert dense.to_dense() is dense


@pytest.mark.parametrize("seed", range(6))
def test_random_with_repeats(seed):
    """Random sizes and positions drawn with repeats (empty too): to_dense, coalesce, t, sums, products."""
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    indices, values, size = random_sparse(rng, shape, int(rng.integers(0, 12)))
    theirs, ours = both(indices, values, size, dtype="float64")
    np.testing.assert_allclose(ours.to_dense().numpy(), theirs.to_dense().numpy())
    coalesced, their_coalesced = ours.coalesce(), theirs.coalesce()
    np.testing.assert_array_equal(coalesced.indices().numpy(), their_coalesced.indices().numpy())
    np.testing.assert_allclose(coalesced.values().numpy(), their_coalesced.values().numpy())
    assert coalesced._nnz() == their_coalesced._nnz()
    np.testing.assert_allclose(ours.t().to_dense().numpy(), theirs.t().to_dense().numpy())
    np.testing.assert_allclose(chainrule.sparse.sum(ours).item(), torch.sparse.sum(theirs).item())
    for dim in (0, 1):
        np.testing.assert_allclose(
            chainrule.sparse.sum(ours, dim).to_dense().numpy(), torch.sparse.sum(theirs, dim).to_dense().numpy()
        )
    other = rng.standard_normal((shape[1], 3))
    np.testing.assert_allclose((ours @ chainrule.tensor(other)).numpy(), (theirs @ torch.tensor(other)).numpy())
    left = rng.standard_normal((2, shape[0]))
    np.testing.assert_allclose((chainrule.tensor(left) @ ours).numpy(), (torch.tensor(left) @ theirs).numpy())
    vector = rng.standard_normal(shape[1])
    np.testing.assert_allclose(chainrule.mv(ours, chainrule.tensor(vector)).numpy(), torch.mv(theirs, torch.tensor(vector)).numpy())
    dense = rng.standard_normal(shape)
    np.testing.assert_allclose((chainrule.tensor(dense) + ours).numpy(), (torch.tensor(dense) + theirs).numpy())
    np.testing.assert_allclose((ours + ours).to_dense().numpy(), (theirs + theirs).to_dense().numpy())
    np.testing.assert_allclose((ours * 0.5).to_dense().numpy(), (theirs * 0.5).to_dense().numpy())
    np.testing.assert_array_equal(ours.to_dense().to_sparse().indices().numpy(), theirs.to_dense().to_sparse().indices().numpy())


@pytest.mark.parametrize("product", ["mm", "matmul", "spmm", "sparse.mm", "operator"])
def test_products_and_their_gradients(product):
    """A sparse leaf's gradient through mm/matmul/@ is dense, as PyTorch's; the dense operand's is
    sparseᵀ @ grad."""
    rng = np.random.default_rng(1)
    indices, values, size = random_sparse(rng, (4, 3), 7)
    dense, weights = rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    results = {}
    for lib in (torch, chainrule):
        sparse = lib.sparse_coo_tensor(lib.tensor(indices), lib.tensor(values, dtype=lib.float64), size, requires_grad=product != "sparse.mm")
        other = lib.tensor(dense, requires_grad=True)
        multiply = {
            "mm": lib.mm, "matmul": lib.matmul, "spmm": lib.spmm, "sparse.mm": lib.sparse.mm, "operator": lambda a, b: a @ b
        }[product]
        out = multiply(sparse, other)
        (out * lib.tensor(weights)).sum().backward()
        results[lib] = (out, other.grad, sparse.grad)
    (out, other_grad, sparse_grad), (their_out, their_other_grad, their_sparse_grad) = results[chainrule], results[torch]
    np.testing.assert_allclose(out.detach().numpy(), their_out.detach().numpy())
    assert type(out.grad_fn).__name__ == type(their_out.grad_fn).__name__
    np.testing.assert_allclose(other_grad.numpy(), their_other_grad.numpy())
    if their_sparse_grad is not None:
        np.testing.assert_allclose(sparse_grad.numpy(), their_sparse_grad.numpy())


def test_gradient_to_values():
    """sparse_coo_tensor(indices, values requiring grad): d loss / d values[j] = grad at indices[:, j]
    (repeats each get the gradient of their position)."""
    rng = np.random.default_rng(2)
    indices, values, size = random_sparse(rng, (3, 4), 6)
    dense = rng.standard_normal((4, 2))
    grads = {}
    for lib in (torch, chainrule):
        leaf = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        sparse = lib.sparse_coo_tensor(lib.tensor(indices), leaf, size)
        total = (sparse @ lib.tensor(dense)).sin().sum() + (sparse.to_dense() ** 2).sum() + lib.sparse.sum(sparse * 3.0)
        total.backward()
        grads[lib] = leaf.grad.numpy()
        assert type(sparse.grad_fn).__name__ == "SparseCooTensorWithDimsAndTensorsBackward0"
    np.testing.assert_allclose(grads[chainrule], grads[torch], rtol=1e-6)


def test_finite_differences():
    """float64 gradcheck through sparse @ dense, to_dense, coalesce, t and sums, to the values and the dense operand."""
    rng = np.random.default_rng(3)
    indices = chainrule.tensor([[0, 2, 2, 1, 0], [1, 0, 0, 2, 1]])
    values = chainrule.tensor(rng.standard_normal(5), requires_grad=True)
    dense = chainrule.tensor(rng.standard_normal((3, 2)), requires_grad=True)

    def function(values, dense):
        sparse = chainrule.sparse_coo_tensor(indices, values, (3, 3))
        product = chainrule.spmm(sparse.coalesce(), dense) + sparse.t() @ dense
        return product.tanh().sum() + (sparse.to_dense() * sparse.to_dense()).sum() + chainrule.sparse.sum(sparse, 1).to_dense().sum()

    assert chainrule.autograd.gradcheck(function, (values, dense))


def test_mixed_dtypes_and_sparse_sums():
    """GCN's eye(V) + an int64 adjacency gives float32; sparse + sparse merges repeated positions."""
    theirs, ours = both(MATRIX[0], [1, 1, 1], (3, 3), dtype="int64")
    np.testing.assert_array_equal((chainrule.eye(3) + ours).numpy(), (torch.eye(3) + theirs).numpy())
    assert (chainrule.eye(3) + ours).dtype == chainrule.float32
    other_theirs, other_ours = both([[0], [2]], [2.0], (2, 3))
    theirs, ours = both(*MATRIX)
    summed, their_summed = ours + other_ours, theirs + other_theirs
    np.testing.assert_allclose(summed.to_dense().numpy(), their_summed.to_dense().numpy())
    assert summed.is_coalesced() == their_summed.is_coalesced()


def test_unsupported_operations_raise():
    _, ours = both(*MATRIX)
    for call in (lambda: chainrule.exp(ours), lambda: ours.view(6), lambda: ours.numpy(), lambda: ours[0],
                 lambda: ours * chainrule.ones(2, 3, 4), lambda: ours @ ours.t()):
        with pytest.raises(NotImplementedError, match="SparseCPU"):
            call()
    with pytest.raises(RuntimeError, match="uncoalesced"):
        ours.indices()
    with pytest.raises(RuntimeError, match="uncoalesced"):
        ours.values()
    with pytest.raises(RuntimeError, match="size is inconsistent with indices"):
        chainrule.sparse_coo_tensor(chainrule.tensor(MATRIX[0]), chainrule.tensor(MATRIX[1]), (2, 2))
    with pytest.raises(RuntimeError, match="negative"):
        chainrule.sparse_coo_tensor(-chainrule.tensor(MATRIX[0]), chainrule.tensor(MATRIX[1]), (2, 3))
    with pytest.raises(RuntimeError, match="same nnz"):
        chainrule.sparse_coo_tensor(chainrule.tensor(MATRIX[0]), chainrule.tensor([1.0, 2.0]), (2, 3))
    with pytest.raises(RuntimeError, match=r"add: expected 'self' and 'other' to have same size, but self has size \[3, 3\]"):
        chainrule.ones(3, 3) + ours
    with pytest.raises(RuntimeError, match=r"add: expected sizes of 'self' and 'other' to match, but \[2, 3\] != \[3, 2\]"):
        ours + ours.t()
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        ours @ chainrule.ones(2, 2)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)"):
        chainrule.sparse.sum(ours, 5)
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        chainrule.sparse.sum(ours, [0, 0])
    with pytest.raises(RuntimeError, match=r"full\(...\) is not implemented for sparse layout"):
        chainrule.ones(2, layout=chainrule.sparse_coo)


def test_differences_and_quotients_are_sparse_with_dense_gradients_to_the_values():
    results = []
    for lib in (torch, chainrule):
        values = lib.tensor([3.0, 4.0, 5.0], requires_grad=True)
        sparse = lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), values, MATRIX[2])
        difference = (sparse / 4) - sparse
        dense_minus = lib.ones(2, 3) - sparse
        (difference.to_dense() * lib.arange(6.0).reshape(2, 3)).sum().backward()
        results.append((difference.layout == lib.sparse_coo, difference.to_dense().tolist(), dense_minus.tolist(), values.grad.tolist()))
    assert results[0] == results[1]


def test_node_names_and_layouts_as_pytorch():
    def made(lib):
        values = lib.tensor([3.0, 4.0, 5.0], requires_grad=True)
        sparse = lib.sparse_coo_tensor(lib.tensor(MATRIX[0]), values, MATRIX[2])
        dense = lib.ones(2, 3, requires_grad=True)
        return [sparse.to_dense(), dense.to_sparse(), sparse.coalesce(), sparse._values(), sparse.coalesce().values(),
                sparse * 2, dense + sparse, sparse + sparse, sparse.t(), sparse.transpose(0, 1), lib.sparse.sum(sparse),
                sparse.double()]

    for ours, theirs in zip(made(chainrule), made(torch)):
        assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__
        assert repr(ours.layout) == repr(theirs.layout).replace("torch.", "chainrule.")


def test_sparse_coo_tensor_of_a_size_alone_is_empty_as_pytorchs():
    """``sparse_coo_tensor(size)`` / ``sparse_coo_tensor(size=...)``: PyTorch's third form, nothing
    stored (skorch's tests make one so)."""
    for lib in (torch, chainrule):
        made = [lib.sparse_coo_tensor(size=(5, 3)), lib.sparse_coo_tensor((5, 3), dtype=lib.float64)]
        assert [tuple(each._indices().shape) for each in made] == [(2, 0), (2, 0)]
        assert [str(each.dtype).split(".")[1] for each in made] == ["float32", "float64"]
        assert made[1].to_dense().tolist() == [[0.0] * 3] * 5 and made[0].is_sparse
