"""PyTorch's conventions where a gradient is a matter of choice: masks that select (an infinite
gradient on the side not taken gives 0), tensor bounds, outputs that got no gradient, products with zeros."""
import numpy as np
import pytest
import torch

import chainrule
from tests.ops.oracle import both


@pytest.mark.parametrize(
    "function",
    [
        lambda lib, x: x.relu().sqrt().sum(),
        lambda lib, x: x.clamp(min=0).sqrt().sum(),
        lambda lib, x: lib.where(x > 0, x, lib.zeros_like(x)).sqrt().sum(),
        lambda lib, x: lib.maximum(x, lib.zeros_like(x)).sqrt().sum(),
        lambda lib, x: x.reshape(2, 2).max(dim=1).values.sqrt().sum(),
    ],
    ids=["relu", "clamp", "where", "maximum", "max_dim"],
)
def test_an_infinite_gradient_on_the_side_not_taken_gives_zero(function):
    (out, ours), (expected, theirs) = both(function, [-1.0, 4.0, 0.0, 9.0])
    out.backward()
    expected.backward()
    np.testing.assert_allclose(ours[0].grad._array, theirs[0].grad.numpy())


def test_clamp_with_tensor_bounds_sends_gradients_to_them():
    (out, ours), (expected, theirs) = both(lambda lib, x, low, high: x.clamp(min=low, max=high).sum(), [0.0, 1.0, 5.0], [0.5, 0.5, 0.5], [4.0, 4.0, 4.0])
    out.backward()
    expected.backward()
    for mine, reference in zip(ours, theirs):
        np.testing.assert_array_equal(mine.grad._array, reference.grad.numpy())


def test_multi_output_node_with_no_gradient_gets_zeros():
    weight = chainrule.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
    x = chainrule.tensor([0.0, 10.0], requires_grad=True)
    x.clamp(min=weight.max(dim=0).values).sum().backward()
    assert weight.grad.tolist() == [[0.0, 0.0], [1.0, 0.0]]


@pytest.mark.parametrize("values", [[0.0, 2.0, 3.0], [0.0, 0.0, 3.0], [[0.0, 2.0], [3.0, 4.0]]])
def test_second_derivative_of_a_product_with_zeros(values):
    def hessian(lib):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        (gradient,) = lib.autograd.grad(x.prod(), x, create_graph=True)
        flat = gradient.reshape(-1)
        return np.array([lib.autograd.grad(flat[i], x, retain_graph=True)[0].reshape(-1).tolist() for i in range(x.numel())])

    np.testing.assert_allclose(hessian(chainrule), hessian(torch))


def test_index_tensors_changed_after_use_do_not_change_the_gradient():
    x = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    index = chainrule.tensor([0, 1])
    y = x[index]
    index.fill_(2)
    y.backward(chainrule.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [1.0, 10.0, 0.0]


@pytest.mark.parametrize("shape", [(4, 8), (64, 32)])  # below and above the size where a product replaces where()
def test_relu_gradient_with_create_graph_is_differentiated_again_as_pytorch(shape):
    data = np.random.default_rng(0).normal(size=shape)
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(data, requires_grad=True)
        (first,) = lib.autograd.grad((lib.relu(x) ** 2).sum(), x, create_graph=True)
        (second,) = lib.autograd.grad((first * first).sum(), x)
        results.append((first.detach().numpy(), second.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
