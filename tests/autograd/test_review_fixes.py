"""Behaviours a review of the core found wrong or missing, each against PyTorch."""
import numpy as np
import pytest
import torch

import chainrule


def both(function, *values, dtype="float32"):
    """Run ``function(lib, *tensors)`` with chainrule and torch, returning both libraries' tensors."""
    ours = [chainrule.tensor(v, dtype=getattr(chainrule, dtype), requires_grad=True) for v in values]
    theirs = [torch.tensor(v, dtype=getattr(torch, dtype), requires_grad=True) for v in values]
    return (function(chainrule, *ours), ours), (function(torch, *theirs), theirs)


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
    np.testing.assert_allclose(ours[0].grad.array, theirs[0].grad.numpy())


def test_clamp_with_tensor_bounds_sends_gradients_to_them():
    (out, ours), (expected, theirs) = both(lambda lib, x, low, high: x.clamp(min=low, max=high).sum(), [0.0, 1.0, 5.0], [0.5, 0.5, 0.5], [4.0, 4.0, 4.0])
    out.backward()
    expected.backward()
    for mine, reference in zip(ours, theirs):
        np.testing.assert_array_equal(mine.grad.array, reference.grad.numpy())


def test_stack_and_cat_of_many_tensors():
    x = chainrule.ones(2, requires_grad=True)
    chainrule.stack([x * i for i in range(100)]).sum().backward()
    assert x.grad.tolist() == [4950.0, 4950.0]


def test_dimensionless_operands_do_not_promote_within_a_category():
    data = chainrule.tensor([1.0, 2.0, 3.0])
    assert (data - chainrule.tensor(np.float64(2.0))).dtype == chainrule.float32
    assert (chainrule.tensor([1, 2], dtype=chainrule.int32) + chainrule.tensor(3)).dtype == chainrule.int32
    weight = chainrule.tensor(2.0, dtype=chainrule.float64, requires_grad=True)
    (data * weight).sum().backward()
    assert weight.grad.item() == 6.0 and weight.grad.dtype == chainrule.float64


def test_integer_inputs_of_float_functions_give_float32():
    for name in ["exp", "log", "log1p", "sqrt", "sin", "cos", "tan", "sigmoid", "tanh"]:
        assert getattr(chainrule, name)(chainrule.tensor([1, 2])).dtype == chainrule.float32, name
    assert chainrule.tensor([1, 2, 3]).clamp(min=1.5).tolist() == [1.5, 2.0, 3.0]


def test_linear_with_a_broadcast_bias():
    (out, ours), (expected, theirs) = both(lambda lib, x, w, b: lib.nn.functional.linear(x, w, b).sum(), np.ones((4, 3)), np.ones((2, 3)), np.zeros((1, 2)))
    out.backward()
    expected.backward()
    np.testing.assert_array_equal(ours[2].grad.array, theirs[2].grad.numpy())


def test_grad_mode_decorators_without_parentheses():
    w = chainrule.ones(2, requires_grad=True)

    @chainrule.no_grad
    def frozen():
        return w * 2

    @chainrule.inference_mode(False)
    def tracked():
        return w * 2

    with chainrule.no_grad():
        assert tracked().requires_grad
    assert not frozen().requires_grad and chainrule.is_grad_enabled()


def test_retain_grad_follows_an_in_place_change():
    x = chainrule.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.mul_(3)
    y.sum().backward()
    assert y.grad.tolist() == [1.0, 1.0] and y.retains_grad


def test_augmented_assignment_changes_the_tensor_in_place():
    a = chainrule.tensor([3.0, 5.0])
    b = a
    b **= 2
    b //= 2
    b %= 5
    assert a.tolist() == [4.0, 2.0] and a is b


def test_multi_output_node_with_no_gradient_gets_zeros():
    weight = chainrule.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
    x = chainrule.tensor([0.0, 10.0], requires_grad=True)
    x.clamp(min=weight.max(dim=0).values).sum().backward()
    assert weight.grad.tolist() == [[0.0, 0.0], [1.0, 0.0]]


def test_printing_switches_to_scientific_like_pytorch():
    for values in [[0.1, 100.1235], [1.0, 1001.0], [0.0, 1500.0], [1e-5, 1.0]]:
        assert repr(chainrule.tensor(values)) == repr(torch.tensor(values))


def _mul_row(lib, a):
    x = a * 1
    x[0].mul_(2)
    return (x * x).sum()


def _add_to_element(lib, a):
    x = a * 1
    x[0] += 1
    return (x * x).sum()


def _scale_column(lib, a):
    x = a * 1
    x[:, 1] *= 3
    return (x**2).sum()


def _through_reshape(lib, a):
    x = a * 1
    x.reshape(4).add_(1)
    return (x * x).sum()


def _through_transpose(lib, a):
    x = a * 1
    x.t()[0].mul_(5)
    return (x * x).sum()


def _into_a_constant(lib, a):
    x = lib.zeros(2, 2)
    x[1].add_(a[0])
    return (x * x).sum()


def _view_used_after(lib, a):
    x = a * 1
    view = x[0]
    view.mul_(2)
    return x.sum() + view.sum() * 10


@pytest.mark.parametrize(
    "function",
    [_mul_row, _add_to_element, _scale_column, _through_reshape, _through_transpose, _into_a_constant, _view_used_after],
)
def test_in_place_through_a_view_is_recorded_on_its_base_like_pytorch(function):
    (out, ours), (expected, theirs) = both(function, [[1.0, 2.0], [3.0, 4.0]])
    out.backward()
    expected.backward()
    assert out.item() == pytest.approx(expected.item())
    np.testing.assert_allclose(ours[0].grad.array, theirs[0].grad.numpy())


def test_in_place_through_views_that_pytorch_refuses():
    leaf = chainrule.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
        leaf[0].mul_(2)
    x = leaf * 1
    with pytest.raises(RuntimeError, match="more than one element"):
        x.expand(3, 2, 2).mul_(2)


def test_views_and_detached_tensors_share_the_version_counter():
    a = chainrule.tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()
    with chainrule.no_grad():
        b.view(-1)[0] = 0.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()
    c = a.exp()
    c.detach().zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def test_index_tensors_changed_after_use_do_not_change_the_gradient():
    x = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    index = chainrule.tensor([0, 1])
    y = x[index]
    index.fill_(2)
    y.backward(chainrule.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [1.0, 10.0, 0.0]


def test_indexing_rules_follow_pytorch():
    x = chainrule.tensor([10.0, 20.0, 30.0])
    assert x[chainrule.tensor([1, 0, 1], dtype=chainrule.uint8)].tolist() == [10.0, 30.0]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    assert x.flip(0).tolist() == [30.0, 20.0, 10.0]
    with pytest.raises(RuntimeError, match="boolean tensor"):
        chainrule.where(chainrule.tensor([1, 0, 1]), x, x)
    with pytest.raises(RuntimeError, match="no larger than src"):
        chainrule.zeros(2, 3).scatter(1, chainrule.tensor([[0, 1], [2, 0]]), chainrule.ones(1, 2))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        chainrule.take_along_dim(chainrule.ones(2, 3), chainrule.tensor([0]), dim=1)


@pytest.mark.parametrize("values", [[0.0, 2.0, 3.0], [0.0, 0.0, 3.0], [[0.0, 2.0], [3.0, 4.0]]])
def test_second_derivative_of_a_product_with_zeros(values):
    def hessian(lib):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        (gradient,) = lib.autograd.grad(x.prod(), x, create_graph=True)
        flat = gradient.reshape(-1)
        return np.array([lib.autograd.grad(flat[i], x, retain_graph=True)[0].reshape(-1).tolist() for i in range(x.numel())])

    np.testing.assert_allclose(hessian(chainrule), hessian(torch))
