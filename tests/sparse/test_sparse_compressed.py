"""CSR and CSC tensors against PyTorch: prints, conversions between the layouts, the accessors, the
constructors' checks and their errors, and the gradients that keep the stored positions."""
import warnings

import numpy as np
import pytest
import torch

import chainrule

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")

MATRIX = [[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [3.0, 4.0, 0.0]]
CSR = ([0, 2, 2, 4], [0, 2, 0, 1], [1.0, 2.0, 3.0, 4.0])


def same_print(ours, theirs):
    assert repr(ours) == repr(theirs).replace("torch.", "chainrule.")


def random_matrix(rng, shape, density=0.4):
    """float64 (n, m) with about ``density`` of its elements nonzero (rows and columns left empty too)."""
    return rng.standard_normal(shape) * (rng.random(shape) < density)


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor(MATRIX).to_sparse_csr(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csc(),
    lambda lib: lib.tensor(MATRIX).to_sparse(layout=lib.sparse_csr),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr().t(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csc().t(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr().transpose(0, 1),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr().to_sparse_csc(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csc().to_sparse_csr(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr().to_sparse(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csc().to_sparse_coo(),
    lambda lib: lib.tensor(MATRIX).to_sparse().to_sparse_csr(),
    lambda lib: lib.sparse_coo_tensor([[0, 0], [1, 1]], [1.0, 2.0], (2, 2)).to_sparse_csr(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr() * 2,
    lambda lib: 2.5 * lib.tensor([[1, 0], [0, 2]]).to_sparse_csr(),
    lambda lib: -lib.tensor(MATRIX).to_sparse_csr(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr().double(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr().to(lib.float16),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr().clone(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr() + lib.tensor(MATRIX).to_sparse_csr(),
    lambda lib: lib.sparse_csr_tensor(lib.tensor(CSR[0]), lib.tensor(CSR[1]), lib.tensor(CSR[2]), requires_grad=True),
    lambda lib: lib.sparse_csr_tensor(lib.tensor(CSR[0]), lib.tensor(CSR[1]), lib.tensor(CSR[2]).requires_grad_(), (3, 3)),
    lambda lib: lib.sparse_csr_tensor(lib.tensor(CSR[0], dtype=lib.int32), lib.tensor(CSR[1], dtype=lib.int32), lib.tensor([1, 2, 3, 4])),
    lambda lib: lib.sparse_csr_tensor(lib.tensor(CSR[0], dtype=lib.int32), lib.tensor(CSR[1], dtype=lib.int32), lib.tensor(CSR[2])).t(),
    lambda lib: lib.sparse_csr_tensor(CSR[0], CSR[1], CSR[2], (3, 5), dtype=lib.float64),
    lambda lib: lib.sparse_csc_tensor(CSR[0], CSR[1], CSR[2], (3, 3)),
    lambda lib: lib.sparse_compressed_tensor(CSR[0], CSR[1], CSR[2], (3, 3), layout=lib.sparse_csc),
    lambda lib: lib.sparse_csr_tensor(lib.tensor([0, 0, 0]), lib.tensor([], dtype=lib.int64), lib.tensor([]), (2, 4)),
    lambda lib: lib.sparse_csr_tensor(lib.tensor([0, 0, 0]), lib.tensor([], dtype=lib.int64), lib.tensor([])),
    lambda lib: lib.sparse_csr_tensor(lib.tensor([0]), lib.tensor([], dtype=lib.int64), lib.tensor([]), (0, 3)),
    lambda lib: lib.sparse_csr_tensor([0, 1], [0], [True], (1, 1)),
    lambda lib: lib.zeros(3, 4).to_sparse_csr(),
    lambda lib: lib.ones(1, 1).to_sparse_csc(),
    lambda lib: lib.arange(40.0).reshape(2, 20).to_sparse_csr(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr().values(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csc().row_indices(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr().sum(),
    lambda lib: lib.tensor(MATRIX, requires_grad=True).to_sparse_csr(),
    lambda lib: lib.tensor(MATRIX).sparse_mask(lib.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).to_sparse_csr()),
    lambda lib: lib.tensor(MATRIX).sparse_mask(lib.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]).to_sparse()),
    lambda lib: lib.sparse_csr_tensor([0, 1, 1], [1], lib.ones(1, 2)),
    lambda lib: lib.zeros(2, 3, layout=lib.sparse_csr),
    lambda lib: lib.zeros(4, 1, layout=lib.sparse_csc, dtype=lib.float64, requires_grad=True),
    lambda lib: lib.zeros_like(lib.tensor(MATRIX).to_sparse_csr()),
    lambda lib: lib.zeros_like(lib.tensor(MATRIX).to_sparse_csc(), dtype=lib.int32),
    lambda lib: lib.zeros(3, 3, 2).to_sparse_csr(dense_dim=1),
    lambda lib: lib.stack([lib.tensor(MATRIX), -lib.tensor(MATRIX)], dim=-1).to_sparse_csc(dense_dim=1),
    lambda lib: lib.stack([lib.tensor(MATRIX), -lib.tensor(MATRIX)], dim=-1).to_sparse_csr(dense_dim=1).to_sparse(),
    lambda lib: lib.stack([lib.tensor(MATRIX), -lib.tensor(MATRIX)], dim=-1).to_sparse(layout=lib.sparse_csr, dense_dim=1) * 2,
], ids=lambda make: None)
def test_prints_as_pytorch(make):
    same_print(make(chainrule), make(torch))


def test_the_torch_sparse_page_examples():
    """The CSR and CSC sections of PyTorch's "torch.sparse" page, and the examples of crow_indices,
    col_indices and to_sparse_csr."""
    for lib in (torch, chainrule):
        csr = lib.sparse_csr_tensor(lib.tensor([0, 2, 4]), lib.tensor([0, 1, 0, 1]), lib.tensor([1, 2, 3, 4]), dtype=lib.float64)
        csc = lib.sparse_csc_tensor(lib.tensor([0, 2, 4]), lib.tensor([0, 1, 0, 1]), lib.tensor([1, 2, 3, 4]), dtype=lib.float64)
        a = lib.tensor([[0, 0, 1, 0], [1, 2, 0, 0], [0, 0, 0, 0]], dtype=lib.float64)
        sp = a.to_sparse_csr()
        hybrid = lib.zeros(3, 3, 1, 1)
        hybrid[0, 0] = hybrid[1, 2] = hybrid[2, 1] = 1
        printed = [repr(each) for each in (
            csr, csr.to_dense(), csc, csc.to_dense(), sp, sp.matmul(lib.ones(4, 1, dtype=lib.float64)),
            lib.eye(5, 5).to_sparse_csr().crow_indices(), lib.eye(5, 5).to_sparse_csr().col_indices(),
            hybrid.to_sparse_csr(dense_dim=2),
        )]
        if lib is torch:
            expected = [text.replace("torch.", "chainrule.") for text in printed]
        else:
            assert printed == expected


@pytest.mark.parametrize("shape", [(4, 5), (1, 1), (1, 6), (6, 1), (0, 3), (3, 0), (5, 5)])
def test_conversions_match_pytorch(shape):
    rng = np.random.default_rng(sum(shape))
    for density in (0.0, 0.3, 1.0):
        dense = random_matrix(rng, shape, density)
        theirs, ours = torch.tensor(dense), chainrule.tensor(dense)
        for convert in (
            lambda x: x.to_sparse_csr(), lambda x: x.to_sparse_csc(), lambda x: x.to_sparse_csr().to_sparse_csc(),
            lambda x: x.to_sparse_csc().to_sparse_csr(), lambda x: x.to_sparse_csc().t(), lambda x: x.to_sparse().to_sparse_csc(),
        ):
            made, expected = convert(ours), convert(theirs)
            assert made.layout is getattr(chainrule, str(expected.layout).split(".")[1])
            assert made._nnz() == expected._nnz() and tuple(made.shape) == tuple(expected.shape)
            for name in (("crow_indices", "col_indices") if expected.layout == torch.sparse_csr else ("ccol_indices", "row_indices")):
                assert getattr(made, name)().tolist() == getattr(expected, name)().tolist(), name
            np.testing.assert_array_equal(made.values().numpy(), expected.values().numpy())
            np.testing.assert_array_equal(made.to_dense().numpy(), expected.to_dense().numpy())
            assert made.to_sparse()._indices().tolist() == expected.to_sparse()._indices().tolist()


def test_queries():
    ours, theirs = chainrule.tensor(MATRIX).to_sparse_csr(), torch.tensor(MATRIX).to_sparse_csr()
    for name in ("_nnz", "sparse_dim", "dense_dim", "dim"):
        assert getattr(ours, name)() == getattr(theirs, name)(), name
    assert (ours.is_sparse, ours.is_sparse_csr, ours.t().is_sparse_csr) == (theirs.is_sparse, theirs.is_sparse_csr, False)
    assert ours.layout is chainrule.sparse_csr and ours.t().layout is chainrule.sparse_csc
    assert ours.dtype == chainrule.float32 and ours.to("cpu") is ours
    assert tuple(ours.size()) == (3, 3) and ours.crow_indices().dtype == chainrule.int64
    dense = chainrule.ones(2, 3)
    assert (dense.sparse_dim(), dense.dense_dim()) == (torch.ones(2, 3).sparse_dim(), torch.ones(2, 3).dense_dim())


def _error(function):
    try:
        function()
    except Exception as error:  # noqa: BLE001 (the error is what is compared)
        return type(error), str(error).split(" (")[0]
    return None


BAD = [
    ([1, 2, 2, 4], [0, 2, 0, 1], [1.0, 2, 3, 4], (3, 3)),  # crow_indices starts past 0
    ([0, 2, 2, 3], [0, 2, 0, 1], [1.0, 2, 3, 4], (3, 3)),  # ... ends before nnz
    ([0, 2, 2, 4], [0, 3, 0, 1], [1.0, 2, 3, 4], (3, 3)),  # a column out of range
    ([0, 2, 2, 4], [-1, 0, 0, 1], [1.0, 2, 3, 4], (3, 3)),  # a negative column
    ([0, 2, 2, 4], [2, 0, 0, 1], [1.0, 2, 3, 4], (3, 3)),  # columns unsorted in a row
    ([0, 2, 2, 4], [0, 0, 0, 1], [1.0, 2, 3, 4], (3, 3)),  # a column twice in a row
    ([0, 2, 4], [0, 2, 0, 1], [1.0, 2, 3, 4], (3, 3)),  # too few rows
    ([0, 2, 2, 4], [0, 2, 0, 1], [1.0, 2, 3], (3, 3)),  # more columns than values
    ([0, 2, 2, 4], [0, 2, 0, 1], [1.0, 2, 3, 4], (12,)),  # not a matrix
    ([0, 2, 2, 4], [0, 2, 0, 1], 1.0, (3, 3)),  # 0-d values
]


@pytest.mark.parametrize("layout", ["sparse_csr", "sparse_csc"])
@pytest.mark.parametrize("arguments", BAD, ids=lambda arguments: None)
def test_bad_arguments_raise_as_pytorch(arguments, layout):
    compressed, plain, values, size = arguments

    def make(lib):
        return lambda: lib.sparse_compressed_tensor(
            lib.tensor(compressed), lib.tensor(plain), lib.tensor(values), size, layout=getattr(lib, layout), check_invariants=True
        )

    assert _error(make(chainrule)) == _error(make(torch)) is not None


@pytest.mark.parametrize("call", [
    lambda lib: lib.sparse_csr_tensor(lib.tensor([0, 1], dtype=lib.int32), lib.tensor([0]), lib.tensor([1.0]), check_invariants=True),
    lambda lib: lib.sparse_csr_tensor(lib.tensor([0.0, 1]), lib.tensor([0]), lib.tensor([1.0]), check_invariants=True),
    lambda lib: lib.sparse_csr_tensor(lib.tensor([0, 1], dtype=lib.int16), lib.tensor([0], dtype=lib.int16), lib.tensor([1.0]), check_invariants=True),
    lambda lib: lib.sparse_csr_tensor(lib.tensor([[0, 1]]), lib.tensor([0]), lib.tensor([1.0]), check_invariants=True),
    lambda lib: lib.sparse_csr_tensor(lib.tensor(0), lib.tensor([0]), lib.tensor([1.0]), check_invariants=True),
    lambda lib: lib.sparse_compressed_tensor(lib.tensor([0, 1]), lib.tensor([0]), lib.tensor([1.0])),
    lambda lib: lib.sparse_compressed_tensor(lib.tensor([0, 1]), lib.tensor([0]), lib.tensor([1.0]), layout=lib.sparse_coo),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr().ccol_indices(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr().row_indices(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csc().crow_indices(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csc().col_indices(),
    lambda lib: lib.tensor(MATRIX).crow_indices(),
    lambda lib: lib.tensor(MATRIX).to_sparse().crow_indices(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr().indices(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr().is_coalesced(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csc().coalesce(),
    lambda lib: lib.tensor(MATRIX).is_coalesced(),
    lambda lib: lib.tensor(MATRIX).indices(),
    lambda lib: lib.tensor(MATRIX).values(),
    lambda lib: lib.tensor(MATRIX).to_sparse_csr().sum(0),
    lambda lib: lib.zeros(2, 4, layout=lib.sparse_bsr),
], ids=lambda call: None)
def test_errors_as_pytorch(call):
    assert _error(lambda: call(chainrule)) == _error(lambda: call(torch)) is not None


def test_empty_stores_nothing():
    """PyTorch's empty(layout=sparse_csc) holds whatever memory held in its ccol_indices; chainrule's
    is zeros'."""
    assert chainrule.empty(2, 3, layout=chainrule.sparse_csc).ccol_indices().tolist() == [0, 0, 0, 0]
    with pytest.raises(RuntimeError, match="convert it"):
        chainrule.ones(2, 3, layout=chainrule.sparse_csr)  # (PyTorch's breaks its own invariants)


def test_chainrule_checks_without_being_asked():
    """PyTorch makes a broken tensor unless asked to check; chainrule checks always."""
    with pytest.raises(RuntimeError, match="0 <= col_indices < ncols"):
        chainrule.sparse_csr_tensor(chainrule.tensor([0, 1]), chainrule.tensor([5]), chainrule.tensor([1.0]), (1, 2))


def _leaf(lib, requires_grad=True):
    return lib.tensor(MATRIX, dtype=lib.float64).to_sparse_csr().requires_grad_(requires_grad)


@pytest.mark.parametrize("compute", [
    lambda x: x.to_dense(),
    lambda x: x.to_sparse_csc().to_dense(),
    lambda x: x.t().to_dense(),
    lambda x: (x * 3).to_dense(),
    lambda x: (-x).to_dense(),
    lambda x: x.clone().to_dense(),
    lambda x: x.to(x.dtype if isinstance(x, torch.Tensor) else x.dtype).to_dense(),
    lambda x: x.to_sparse().to_dense(),
    lambda x: x.values(),
    lambda x: x.sum(),
    lambda x: x.to_dense() + (x * 2).to_dense(),
], ids=lambda compute: None)
def test_gradients_of_a_leaf_match_pytorch(compute):
    weights = np.arange(1.0, 10.0).reshape(3, 3)
    grads = []
    for lib in (torch, chainrule):
        leaf = _leaf(lib)
        out = compute(leaf)
        (out * lib.tensor(weights[: out.shape[0], : out.shape[1]] if out.ndim == 2 else weights.ravel()[: out.numel()])).sum().backward()
        grads.append(leaf.grad)
    theirs, ours = grads
    assert repr(ours.layout) == repr(theirs.layout).replace("torch.", "chainrule.")
    np.testing.assert_allclose(ours.to_dense().numpy(), theirs.to_dense().numpy())


def test_gradient_of_hybrid_values():
    grads = []
    for lib in (torch, chainrule):
        values = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        matrix = lib.sparse_csr_tensor(lib.tensor([0, 1, 1, 2]), lib.tensor([2, 0]), values, (3, 3, 2))
        (matrix.to_dense() * lib.arange(18.0, dtype=lib.float64).reshape(3, 3, 2)).sum().backward()
        grads.append(values.grad.tolist())
    assert grads[0] == grads[1]


def test_gradient_of_the_values():
    grads = []
    for lib in (torch, chainrule):
        values = lib.tensor(CSR[2], dtype=lib.float64, requires_grad=True)
        matrix = lib.sparse_csr_tensor(lib.tensor(CSR[0]), lib.tensor(CSR[1]), values, (3, 3))
        assert type(matrix.grad_fn).__name__ == "SparseCompressedTensorBackward0"
        (matrix.to_dense() * lib.arange(9.0, dtype=lib.float64).reshape(3, 3)).sum().backward()
        grads.append(values.grad.tolist())
    assert grads[0] == grads[1]


def test_sparse_mask_gradient_is_dense():
    grads = []
    for lib in (torch, chainrule):
        dense = lib.ones(3, 3, requires_grad=True)
        dense.sparse_mask(lib.tensor(MATRIX).to_sparse()).to_dense().sum().backward()  # PyTorch fails with a CSR mask
        grads.append(dense.grad)
    assert grads[1].layout is chainrule.strided and grads[1].tolist() == grads[0].tolist()


BLOCKS = [[1.0, 2.0, 0.0, 0.0], [3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 0.0, 5.0], [0.0, 0.0, 6.0, 0.0]]


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsr((2, 2)),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsc((2, 2)),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsr((2, 1)),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsr((1, 4)),
    lambda lib: lib.tensor(BLOCKS).to_sparse(layout=lib.sparse_bsc, blocksize=(2, 2)),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsr((2, 2)).t(),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsr((2, 2)).to_sparse(),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsc((2, 2)).to_sparse_coo(),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsr((2, 2)).to_dense(),
    lambda lib: lib.tensor(BLOCKS).to_sparse_csr().to_sparse_bsr((2, 2)),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsr((2, 2)) * 2,
    lambda lib: -lib.tensor(BLOCKS).to_sparse_bsr((2, 2)),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsr((2, 2)).sum(),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsr((2, 2)) @ lib.arange(8.0).reshape(4, 2),
    lambda lib: lib.zeros(4, 6).to_sparse_bsr((2, 3)),
    lambda lib: lib.sparse_bsr_tensor(lib.tensor([0, 1, 2]), lib.tensor([0, 1]), lib.ones(2, 2, 2)),
    lambda lib: lib.sparse_bsc_tensor(lib.tensor([0, 1, 2]), lib.tensor([0, 1]), lib.ones(2, 2, 3), (4, 6)),
    lambda lib: lib.sparse_compressed_tensor([0, 1, 1], [1], lib.ones(1, 1, 2), (2, 4), layout=lib.sparse_bsr),
], ids=lambda make: None)
def test_blocked_prints_as_pytorch(make):
    same_print(make(chainrule), make(torch))


@pytest.mark.parametrize("blocksize", [(1, 1), (2, 3), (3, 1), (6, 6)])
def test_blocked_conversions_match_pytorch(blocksize):
    rng = np.random.default_rng(sum(blocksize))
    for density in (0.0, 0.1, 0.5):
        dense = random_matrix(rng, (6, 6), density)
        for layout in ("sparse_bsr", "sparse_bsc"):
            theirs = torch.tensor(dense).to_sparse(layout=getattr(torch, layout), blocksize=blocksize)
            ours = chainrule.tensor(dense).to_sparse(layout=getattr(chainrule, layout), blocksize=blocksize)
            same_print(ours, theirs)
            same_print(ours.t(), theirs.t())
            np.testing.assert_array_equal(ours.to_dense().numpy(), dense)
            assert ours.to_sparse()._indices().tolist() == theirs.to_sparse()._indices().tolist()


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsr((3, 2)),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsr((2, 2)).to_sparse_csr(),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsr((2, 2)).to_sparse_csc(),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsr((2, 2)).to_sparse_bsr((1, 1)),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsr((2, 2)) @ lib.tensor(BLOCKS).to_sparse_bsr((2, 2)),
    lambda lib: lib.sparse_bsr_tensor(lib.tensor([0, 1, 2]), lib.tensor([0, 1]), lib.ones(2, 2, 2), (5, 4), check_invariants=True),
    lambda lib: lib.sparse_bsr_tensor(lib.tensor([0, 1, 2]), lib.tensor([0, 1]), lib.ones(2, 2), (4, 4), check_invariants=True),
    lambda lib: lib.sparse_bsr_tensor(lib.tensor([0, 1, 2]), lib.tensor([0, 2]), lib.ones(2, 2, 2), (4, 4), check_invariants=True),
    lambda lib: lib.tensor(BLOCKS).to_sparse_bsc((2, 2)).crow_indices(),
], ids=lambda call: None)
def test_blocked_errors_as_pytorch(call):
    assert _error(lambda: call(chainrule)) == _error(lambda: call(torch)) is not None


def test_blocked_gradients_match_pytorch():
    """The values of a BSR matrix get the gradient read block by block; a dense matrix made BSR and
    back gets its own. (PyTorch's backward of a BSR product fails; chainrule's runs.)"""
    grads = []
    for lib in (torch, chainrule):
        values = lib.arange(8.0, dtype=lib.float64).reshape(2, 2, 2).requires_grad_()
        matrix = lib.sparse_bsr_tensor(lib.tensor([0, 1, 2]), lib.tensor([0, 1]), values, (4, 4))
        (matrix.to_dense() * lib.arange(16.0, dtype=lib.float64).reshape(4, 4)).sum().backward()
        dense = lib.arange(16.0, dtype=lib.float64).reshape(4, 4).requires_grad_()
        (dense.to_sparse_bsc((2, 2)).to_dense() ** 2).sum().backward()
        grads.append((values.grad.tolist(), dense.grad.tolist()))
    assert grads[0] == grads[1]
    values = chainrule.randn(2, 2, 2, dtype=chainrule.float64, requires_grad=True)
    y = chainrule.randn(4, 3, dtype=chainrule.float64, requires_grad=True)
    assert chainrule.autograd.gradcheck(
        lambda values, y: chainrule.sparse_bsr_tensor(chainrule.tensor([0, 1, 2]), chainrule.tensor([1, 0]), values, (4, 4)) @ y,
        (values, y),
    )
