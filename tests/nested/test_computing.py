"""Operations on nested tensors against PyTorch, values and gradients (float64), for the layouts
PyTorch computes them in, float64 finite differences for chains of them, and PyTorch's refusals."""
import math

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nested
from tests.nested.pairs import assert_same, both_nested, random_arrays

pytestmark = pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")


def weight(lib, *shape):
    """The same numbers for both libraries: a deterministic (shape) array, small."""
    values = np.sin(np.arange(math.prod(shape), dtype=np.float64) + 1.0).reshape(shape) * 0.5
    return lib.tensor(values)


# (name, operation of (library, nested tensor), the layouts PyTorch runs it in: with its gradient,
# or ("values") whose gradient PyTorch's CPU lacks: that one checked by finite differences)
OPERATIONS = [
    ("add", lambda lib, nt: nt + nt * 2, "strided jagged"),
    ("sub number", lambda lib, nt: 1.5 - nt, "jagged"),
    ("div", lambda lib, nt: nt / (nt.abs() + 1), "strided jagged"),
    ("relu sin", lambda lib, nt: lib.sin(nt.relu()), "strided jagged"),
    ("gelu tanh exp", lambda lib, nt: lib.nn.functional.gelu(nt).tanh().exp(), "jagged"),
    ("dense operand", lambda lib, nt: nt * weight(lib, 3) + weight(lib, 3), "jagged"),
    ("matmul dense", lambda lib, nt: nt @ weight(lib, 3, 4), "jagged"),
    ("linear", lambda lib, nt: lib.nn.functional.linear(nt, weight(lib, 5, 3), weight(lib, 5)), "strided jagged"),
    ("bmm", lambda lib, nt: lib.bmm(nt, nt.transpose(1, 2)), "strided"),
    ("softmax last", lambda lib, nt: nt.softmax(-1), "strided jagged"),
    ("softmax ragged", lambda lib, nt: lib.nn.functional.softmax(nt, dim=1), "strided values:jagged"),
    ("log_softmax", lambda lib, nt: nt.log_softmax(-1), "values:jagged"),
    ("sum last keepdim", lambda lib, nt: nt.sum(-1, keepdim=True), "strided values:jagged"),
    ("sum last", lambda lib, nt: nt.sum(-1), "values:jagged"),
    ("mean last", lambda lib, nt: nt.mean(dim=-1), "jagged"),
    ("sum ragged", lambda lib, nt: nt.sum(1), "values:jagged"),
    ("mean ragged", lambda lib, nt: nt.mean(1), "values:jagged"),
    ("sum all", lambda lib, nt: nt.sum(), "jagged"),
    ("amax last", lambda lib, nt: nt.amax(-1), "values:jagged"),
    ("amin ragged", lambda lib, nt: nt.amin(1), "jagged"),
    ("masked_fill", lambda lib, nt: nt.masked_fill(nt > 0.3, 0.5) * 2, "values:jagged"),
    ("mean batch and ragged", lambda lib, nt: nt.mean((0, 1)), "values:jagged"),
    ("transpose", lambda lib, nt: nt.transpose(1, 2) * 2, "strided jagged"),
    ("reshape", lambda lib, nt: nt.reshape(nt.size(0), -1, 3, 1) * 2, "strided jagged"),
    ("view", lambda lib, nt: nt.view(nt.size(0), -1, 3, 1), "strided jagged"),
    ("unsqueeze", lambda lib, nt: nt.unsqueeze(-1), "strided jagged"),
    ("unsqueeze squeeze", lambda lib, nt: nt.unsqueeze(2).squeeze(2) * 2, "jagged"),
    ("cat", lambda lib, nt: lib.cat([nt, nt * 2], dim=-1), "jagged"),
    ("like", lambda lib, nt: lib.ones_like(nt) * 2 + lib.zeros_like(nt) + nt, "jagged"),
    ("unflatten flatten", lambda lib, nt: nt.unflatten(-1, [3, 1]).flatten(-2), "jagged"),
    ("chunk", lambda lib, nt: nt.chunk(3, -1)[1], "values:strided jagged"),
    ("layer_norm", lambda lib, nt: lib.nn.functional.layer_norm(nt, (3,), weight(lib, 3), weight(lib, 3)), "strided jagged"),
    ("to float32", lambda lib, nt: nt.to(lib.float32).double(), "strided jagged"),
    ("clone detach", lambda lib, nt: nt.clone() + nt.detach(), "strided jagged"),
]
CASES = [
    (name, operation, layout.split(":")[-1], layout.startswith("values:"))
    for name, operation, layouts in OPERATIONS for layout in layouts.split()
]


def weighted_sum(result, library, seed):
    """A scalar of every element of ``result`` (nested or not), each weighted by the next of ``seed``."""
    pieces = result.unbind() if result.is_nested else [result]
    total, used = 0, 0
    for piece in pieces:
        total = total + (piece * library.tensor(seed[used:used + piece.numel()].reshape(tuple(piece.shape)))).sum()
        used += piece.numel()
    return total


@pytest.mark.parametrize("name, operation, layout, values_only", CASES, ids=[f"{each[0]}-{each[2]}" for each in CASES])
def test_operation_and_its_gradient(name, operation, layout, values_only):
    rng = np.random.default_rng(len(name))
    for shapes in ([(2, 3), (4, 3)], [(1, 3), (5, 3), (3, 3)]):
        arrays = random_arrays(rng, shapes)
        theirs, ours = both_nested(arrays, layout, requires_grad=True)
        theirs_result, ours_result = operation(torch, theirs), operation(chainrule, ours)
        assert_same(ours_result, theirs_result)
        seed = rng.standard_normal(200)
        weighted_sum(ours_result, chainrule, seed).backward()
        if not values_only:
            weighted_sum(theirs_result, torch, seed).backward()
            assert_same(ours.grad, theirs.grad)
            continue
        nested_layout = chainrule.nested.jagged if layout == "jagged" else chainrule.strided

        def loss(*pieces):
            nested = chainrule.nested.as_nested_tensor(list(pieces), layout=nested_layout)
            return weighted_sum(operation(chainrule, nested), chainrule, seed)

        assert chainrule.autograd.gradcheck(loss, [chainrule.tensor(each, requires_grad=True) for each in arrays])


def test_an_empty_component():
    theirs, ours = both_nested([np.ones((0, 3)), np.arange(6.0).reshape(2, 3)], "jagged", requires_grad=True)
    assert_same(ours.softmax(-1) @ weight(chainrule, 3, 2), theirs.softmax(-1) @ weight(torch, 3, 2))
    assert_same(chainrule.nested.to_padded_tensor(ours * 2, 0.0), torch.nested.to_padded_tensor(theirs * 2, 0.0))


@pytest.mark.parametrize("layout", ["strided", "jagged"])
def test_finite_differences_of_a_chain(layout):
    rng = np.random.default_rng(7)
    arrays = random_arrays(rng, [(2, 3), (3, 3)])
    pieces = [chainrule.tensor(each, requires_grad=True) for each in arrays]
    projection = chainrule.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    ours_layout = chainrule.strided if layout == "strided" else chainrule.nested.jagged

    def chain(first, second, projection):
        nested = chainrule.nested.as_nested_tensor([first, second], layout=ours_layout)
        hidden = chainrule.nn.functional.layer_norm(chainrule.nn.functional.linear(nested, projection), (3,)).sin().softmax(-1)
        return chainrule.nested.to_padded_tensor(hidden.transpose(1, 2) * 2 + 1, 0.0)

    assert chainrule.autograd.gradcheck(chain, (*pieces, projection))


def attention_block(library, inputs, heads):
    """The transformer tutorial's block: packed projection, heads split, SDPA, heads merged, output
    projection, residual, LayerNorm; its weights the same numbers in both libraries."""
    embedding = inputs.size(-1)
    packed_projection = library.nn.Linear(embedding, 3 * embedding).double()
    out_projection = library.nn.Linear(embedding, embedding).double()
    for module, scale in ((packed_projection, 1), (out_projection, 2)):
        module.weight.data = weight(library, *module.weight.shape) * scale
        module.bias.data = weight(library, *module.bias.shape)
    query, key, value = library.chunk(packed_projection(inputs), 3, dim=-1)
    query, key, value = (each.unflatten(-1, [heads, embedding // heads]).transpose(-3, -2) for each in (query, key, value))
    attended = library.nn.functional.scaled_dot_product_attention(query, key, value, is_causal=False)
    merged = out_projection(attended.transpose(-3, -2).flatten(-2)) + inputs
    return library.nn.functional.layer_norm(merged, (embedding,)), packed_projection.weight


def test_attention_on_jagged_heads():
    """On jagged (B, heads, j, D) inputs: each sentence attends within itself, so PyTorch's own
    attention of each sentence alone (its CPU has no jagged SDPA) is the reference."""
    rng = np.random.default_rng(8)
    arrays = random_arrays(rng, [(3, 6), (1, 6), (4, 6)])
    inputs = chainrule.nested.nested_tensor([chainrule.tensor(each) for each in arrays], layout=chainrule.nested.jagged,
                                            requires_grad=True)
    output, projection = attention_block(chainrule, inputs, heads=2)
    assert output.is_nested and output.shape[1] == inputs.shape[1]
    chainrule.nested.to_padded_tensor(output, 0.0).pow(2).sum().backward()
    expected_projection_grad = 0
    for index, array in enumerate(arrays):
        sentence = torch.tensor(array, requires_grad=True)
        expected, expected_projection = attention_block(torch, sentence, heads=2)
        expected.pow(2).sum().backward()
        expected_projection_grad = expected_projection_grad + expected_projection.grad
        assert_same(output.unbind()[index], expected)
        assert_same(inputs.grad.unbind()[index], sentence.grad)
    np.testing.assert_allclose(projection.grad.numpy(), expected_projection_grad.numpy(), atol=1e-6)


def test_strided_multi_head_attention_of_the_nested_tensor_tutorial():
    rng = np.random.default_rng(9)
    heads, embedding = 2, 4
    arrays = random_arrays(rng, [(3, embedding), (5, embedding)])
    outputs = []
    for library in (torch, chainrule):
        query = library.nested.nested_tensor([library.tensor(each) for each in arrays])
        batch = query.size(0)
        projected = library.nn.functional.linear(query, weight(library, embedding, embedding))
        split = projected.reshape(batch, -1, heads, embedding // heads).transpose(1, 2)
        scores = library.matmul(split, split.transpose(-1, -2)) * (1.0 / math.sqrt(embedding // heads))
        attended = library.matmul(library.nn.functional.softmax(scores, dim=-1), split)
        outputs.append(attended.transpose(1, 2).reshape(batch, -1, embedding))
    assert_same(outputs[1], outputs[0])


@pytest.mark.parametrize("layout, operation, error, message", [
    ("strided", lambda lib, nt: nt + lib.ones(3), RuntimeError, "nested"),
    ("strided", lambda lib, nt: nt @ lib.ones(3, 2), RuntimeError, "nested"),
    ("strided", lambda lib, nt: nt.sum(1, keepdim=True), RuntimeError, "last dimension"),
    ("strided", lambda lib, nt: nt.sum(-1), RuntimeError, "keepdim=True"),
    ("strided", lambda lib, nt: nt.mean(-1), NotImplementedError, "mean"),
    ("strided", lambda lib, nt: nt.unbind(1), RuntimeError, "unbind"),
    ("strided", lambda lib, nt: nt.cumsum(1), NotImplementedError, "cumsum"),
    ("jagged", lambda lib, nt: nt.sum(0), RuntimeError, "batch dimension"),
    ("jagged", lambda lib, nt: lib.bmm(nt, nt.transpose(1, 2)), RuntimeError, "matmul|bmm"),
    ("jagged", lambda lib, nt: nt.cumsum(1), NotImplementedError, "cumsum"),
    ("jagged", lambda lib, nt: nt.sort(), NotImplementedError, "sort"),
])
def test_refusals(layout, operation, error, message):
    theirs, ours = both_nested([np.ones((2, 3)), np.ones((4, 3))], layout)
    with pytest.raises(error):
        operation(torch, theirs)
    with pytest.raises(error, match=message):
        operation(chainrule, ours)


def test_backward_with_a_nested_gradient():
    theirs, ours = both_nested([np.ones((2, 2)), np.ones((3, 2))], "jagged", requires_grad=True)
    for nested, library in ((theirs, torch), (ours, chainrule)):
        result = nested * 3
        result.backward(library.ones_like(result) * 2)
    assert_same(ours.grad, theirs.grad)


def test_in_place_operations_outside_the_graph():
    theirs, ours = both_nested([np.ones((2, 2)), np.ones((3, 2)) * 2], "jagged")
    for nested in (theirs, ours):
        nested.mul_(3).relu_()
    assert_same(ours, theirs)
    leaf = chainrule.nested.nested_tensor([chainrule.ones(2)], requires_grad=True)
    with pytest.raises(RuntimeError, match="mul_"):
        leaf.mul_(2)
    with chainrule.no_grad():
        leaf.mul_(2)
    assert leaf.values().tolist() == [2.0, 2.0]


def test_unsupported_operations_name_themselves_and_the_layout():
    nested = chainrule.nested.nested_tensor([chainrule.ones(2, 2)], layout=chainrule.nested.jagged)
    with pytest.raises(NotImplementedError, match=r"^cumprod\(\): not supported for nested tensors of layout chainrule.jagged"):
        chainrule.cumprod(nested, 1)
    with pytest.raises(NotImplementedError, match=r"^T\(\)"):
        nested.T


def test_softmax_along_the_ragged_dim_has_each_components_gradient():
    """PyTorch 2.13's jagged softmax along the ragged dim has a wrong gradient on the CPU (it differs
    from each component's own softmax gradient); chainrule's is each component's."""
    rng = np.random.default_rng(10)
    arrays = random_arrays(rng, [(2, 3), (4, 3)])
    seeds = random_arrays(rng, [(2, 3), (4, 3)])
    nested = chainrule.nested.nested_tensor([chainrule.tensor(each) for each in arrays], layout=chainrule.nested.jagged,
                                            requires_grad=True)
    sum((piece * chainrule.tensor(seed)).sum() for piece, seed in zip(nested.softmax(1).unbind(), seeds)).backward()
    for array, seed, gradient in zip(arrays, seeds, nested.grad.unbind()):
        component = torch.tensor(array, requires_grad=True)
        (component.softmax(0) * torch.tensor(seed)).sum().backward()
        np.testing.assert_allclose(gradient.numpy(), component.grad.numpy(), atol=1e-12)
