"""Nested tensors against PyTorch: making them, reading them, printing them, padding them and
viewing dense tensors (narrow, masked_select), with gradients, and PyTorch's errors."""
import numpy as np
import pytest
import torch

import chainrule
import chainrule.nested
from tests.nested.pairs import assert_same, both_nested, layouts, random_arrays

pytestmark = pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")

SHAPES = [[(2, 3), (4, 3)], [(1, 3), (0, 3), (5, 3)], [(3, 2, 4), (1, 2, 4)], [(2, 2), (2, 5)]]


@pytest.mark.parametrize("layout", ["strided", "jagged"])
@pytest.mark.parametrize("shapes", SHAPES)
def test_making_and_reading(layout, shapes):
    rng = np.random.default_rng(0)
    theirs, ours = both_nested(random_arrays(rng, shapes), layout)
    assert_same(ours, theirs)
    assert ours.is_nested and not chainrule.zeros(2).is_nested
    assert ours.dim() == theirs.dim() and ours.dtype == chainrule.float64
    assert ours.size(0) == theirs.size(0) == len(ours) == len(shapes)
    for dim in range(1, ours.dim()):
        if len({shape[dim - 1] for shape in shapes}) == 1:
            assert ours.size(dim) == theirs.size(dim)
    np.testing.assert_array_equal(ours.values().numpy(), theirs.values().detach().numpy())
    if layout == "jagged":
        ragged = theirs._ragged_idx
        assert [repr(size)[0] == "j" for size in ours.shape] == [dim == ragged for dim in range(theirs.dim())]
        np.testing.assert_array_equal(ours.offsets().numpy(), theirs.offsets().numpy())
        assert ours.lengths() is None and ours.size(ragged) == ours.shape[ragged] and ours.size(ragged) != 3


@pytest.mark.parametrize("layout", ["strided", "jagged"])
def test_printing(layout):
    arrays = [np.arange(6.0).reshape(2, 3), np.arange(9.0).reshape(3, 3)]
    for requires_grad in (False, True):
        theirs, ours = both_nested(arrays, layout, requires_grad, dtype="float32")
        expected = repr(theirs).replace("torch.", "chainrule.")
        if layout == "jagged":  # the ragged sizes are numbered in order of making, in each library
            ours_number = repr(ours).split("j")[1].split(",")[0]
            expected = expected.replace("j" + expected.split("j")[1].split(",")[0], "j" + ours_number)
        assert repr(ours) == expected
    assert repr(chainrule.nested.nested_tensor([])) == repr(torch.nested.nested_tensor([]))


def test_strided_sizes_and_dtype_of_lists():
    ours = chainrule.nested.nested_tensor([[1, 2], [3.5]])
    theirs = torch.nested.nested_tensor([[1, 2], [3.5]])
    assert_same(ours, theirs)
    assert ours.dtype == chainrule.int64
    regular = chainrule.nested.as_nested_tensor(chainrule.zeros(2, 3, 4))
    assert regular.size(1) == 3 and regular.size(2) == 4
    with pytest.raises(RuntimeError, match="irregular"):
        chainrule.nested.nested_tensor([chainrule.zeros(2), chainrule.zeros(3)]).size(1)
    with pytest.raises(RuntimeError, match="size"):
        chainrule.nested.nested_tensor([chainrule.zeros(2), chainrule.zeros(3)]).size()


@pytest.mark.parametrize("layout", ["strided", "jagged"])
def test_padding_and_its_gradient(layout):
    rng = np.random.default_rng(1)
    arrays = random_arrays(rng, [(2, 3), (4, 3), (1, 3)])
    theirs, ours = both_nested(arrays, layout, requires_grad=True)
    weights = rng.standard_normal((3, 4, 3))
    theirs_padded = torch.nested.to_padded_tensor(theirs * 2, -1.0)
    ours_padded = chainrule.nested.to_padded_tensor(ours * 2, -1.0)
    assert_same(ours_padded, theirs_padded)
    (theirs_padded * torch.tensor(weights)).sum().backward()
    (ours_padded * chainrule.tensor(weights)).sum().backward()
    assert ours.grad.is_nested and ours.grad.layout is ours.layout
    assert_same(ours.grad, theirs.grad)
    assert_same(ours.to_padded_tensor(0.0, (3, 5, 4)), torch.nested.to_padded_tensor(theirs, 0.0, (3, 5, 4)))


@pytest.mark.parametrize("layout", ["strided", "jagged"])
def test_as_nested_tensor_passes_gradients_to_the_components(layout):
    rng = np.random.default_rng(2)
    arrays = random_arrays(rng, [(3, 2), (1, 2)])
    theirs_inputs = [torch.tensor(each, requires_grad=True) for each in arrays]
    ours_inputs = [chainrule.tensor(each, requires_grad=True) for each in arrays]
    theirs = torch.nested.as_nested_tensor(theirs_inputs, layout=layouts(layout)[0])
    ours = chainrule.nested.as_nested_tensor(ours_inputs, layout=layouts(layout)[1])
    assert not ours.is_leaf and ours.requires_grad
    torch.nested.to_padded_tensor(theirs.sin(), 0.0).pow(2).sum().backward()
    chainrule.nested.to_padded_tensor(ours.sin(), 0.0).pow(2).sum().backward()
    for mine, expected in zip(ours_inputs, theirs_inputs):
        np.testing.assert_allclose(mine.grad.numpy(), expected.grad.numpy())


def test_values_backward_and_finite_differences():
    rng = np.random.default_rng(3)
    theirs, ours = both_nested(random_arrays(rng, [(2, 3), (3, 3)]), "jagged", requires_grad=True)
    (theirs * 3).values().sum().backward()
    (ours * 3).values().sum().backward()
    assert_same(ours.grad, theirs.grad)
    values = chainrule.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    offsets = chainrule.tensor([0, 2, 5])

    def padded(values):
        nested = chainrule.nested.nested_tensor_from_jagged(values, offsets)
        return chainrule.nested.to_padded_tensor(nested.softmax(1) * nested, 0.5)

    assert chainrule.autograd.gradcheck(padded, (values,))


def test_nested_tensor_from_jagged():
    values = np.random.default_rng(4).standard_normal((5, 2))
    for offsets, lengths in (([0, 2, 5], None), (None, [2, 3]), ([0, 2, 5], [1, 3])):
        keywords = {"offsets": offsets, "lengths": lengths}
        theirs = torch.nested.nested_tensor_from_jagged(torch.tensor(values), **{
            key: torch.tensor(value) for key, value in keywords.items() if value is not None})
        ours = chainrule.nested.nested_tensor_from_jagged(chainrule.tensor(values), **{
            key: chainrule.tensor(value) for key, value in keywords.items() if value is not None})
        assert_same(ours, theirs)
        assert ours.is_contiguous() == theirs.is_contiguous()
        np.testing.assert_array_equal(ours.offsets().numpy(), theirs.offsets().numpy())
    with pytest.raises(RuntimeError, match="nested_tensor_from_jagged"):
        chainrule.nested.nested_tensor_from_jagged(chainrule.zeros(3, 2))
    cube = np.arange(30.0).reshape(3, 5, 2)
    assert_same(chainrule.nested.nested_tensor_from_jagged(chainrule.tensor(cube), chainrule.tensor([0, 2, 5]), jagged_dim=2),
                torch.nested.nested_tensor_from_jagged(torch.tensor(cube), torch.tensor([0, 2, 5]), jagged_dim=2))


def test_narrow_and_masked_select():
    rng = np.random.default_rng(5)
    dense = rng.standard_normal((3, 5))
    start, length = [0, 1, 2], [2, 3, 1]
    theirs = torch.nested.narrow(torch.tensor(dense), 1, torch.tensor(start), torch.tensor(length), layout=torch.jagged)
    source = chainrule.tensor(dense, requires_grad=True)
    ours = chainrule.nested.narrow(source, 1, chainrule.tensor(start), chainrule.tensor(length), layout=chainrule.nested.jagged)
    assert_same(ours, theirs)
    assert not ours.is_contiguous() and ours.lengths().tolist() == length
    chainrule.nested.to_padded_tensor(ours, 0.0).sum().backward()
    expected = np.zeros((3, 5))
    for row, (first, count) in enumerate(zip(start, length)):
        expected[row, first:first + count] = 1
    np.testing.assert_array_equal(source.grad.numpy(), expected)
    assert_same(ours.contiguous(), theirs.contiguous())
    mask = rng.random((3, 5)) > 0.5
    assert_same(chainrule.nested.masked_select(chainrule.tensor(dense), chainrule.tensor(mask)),
                torch.nested.masked_select(torch.tensor(dense), torch.tensor(mask)))
    with pytest.raises(RuntimeError, match="narrow"):
        chainrule.nested.narrow(chainrule.tensor(dense), 1, 0, 2)


@pytest.mark.parametrize("tensors, layout, message", [
    ([np.zeros(2), np.zeros((2, 3))], "strided", "same dimension"),
    ([np.zeros((2, 2)), np.zeros((3, 3, 1))], "strided", "same dimension"),
    ([np.zeros((2, 2)), np.zeros((3, 4))], "jagged", "single ragged dimension"),
    ([], "jagged", "empty tensor list"),
    ([np.float64(1.0), np.float64(2.0)], "jagged", "zero-dim"),
])
def test_refusals_of_making(tensors, layout, message):
    with pytest.raises(RuntimeError) as theirs:
        torch.nested.nested_tensor([torch.tensor(each) for each in tensors], layout=layouts(layout)[0])
    with pytest.raises(RuntimeError, match=message) as ours:
        chainrule.nested.nested_tensor([chainrule.tensor(each) for each in tensors], layout=layouts(layout)[1])
    assert str(theirs.value).split(".")[0] in str(ours.value)


def test_refusal_of_mixed_dtypes_in_the_jagged_layout():
    with pytest.raises(RuntimeError, match="same dtype"):
        chainrule.nested.nested_tensor([[1.0, 2.0], [3, 4, 5]], layout=chainrule.nested.jagged)
