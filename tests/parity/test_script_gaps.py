"""The gaps the teaching scripts in ``scripts/`` found, each checked against PyTorch on its own:
the node of a linear layer lists bias, input, weight as PyTorch's AddmmBackward0 does (the 60 Minute
Blitz walks ``next_functions[0][0]``), a strict ``load_state_dict`` lists missing keys before
unexpected ones, and ``with torch.device("cpu"):`` is a context manager."""
import numpy as np
import pytest
import torch

import chainrule


def linear_inputs(library, rows):
    generator = np.random.default_rng(0)
    x, weight, bias = generator.standard_normal((rows, 3)), generator.standard_normal((2, 3)), generator.standard_normal(2)
    return [library.tensor(value.astype(np.float32), requires_grad=True) for value in (x, weight, bias)]


def node_names(node):
    return [None if next_node is None else type(next_node).__name__ for next_node, _ in node.next_functions]


def test_linear_lists_bias_then_input_then_weight_as_addmm_does():
    x, weight, bias = linear_inputs(chainrule, 4)
    x_torch, weight_torch, bias_torch = linear_inputs(torch, 4)
    ours = chainrule.nn.functional.linear(x.relu(), weight, bias)
    theirs = torch.nn.functional.linear(x_torch.relu(), weight_torch, bias_torch)
    assert ours.grad_fn.name() == theirs.grad_fn.name() == "AddmmBackward0"
    assert node_names(ours.grad_fn)[:2] == node_names(theirs.grad_fn)[:2] == ["AccumulateGrad", "ReluBackward0"]
    assert ours.grad_fn.next_functions[0][0].variable is bias  # the bias's leaf, as PyTorch's
    without_bias = chainrule.nn.functional.linear(x.relu(), weight)
    assert node_names(without_bias.grad_fn)[0] == "ReluBackward0"  # MmBackward0: input first


def test_linear_node_called_returns_gradients_in_next_functions_order():
    x, weight, bias = linear_inputs(chainrule, 4)
    x_torch, weight_torch, bias_torch = linear_inputs(torch, 4)
    ours = chainrule.nn.functional.linear(x, weight, bias).grad_fn(chainrule.ones(4, 2))
    theirs = torch.nn.functional.linear(x_torch, weight_torch, bias_torch).grad_fn(torch.ones(4, 2))
    ours, theirs = [each.detach().numpy() for each in ours], [each.detach().numpy() for each in theirs]
    np.testing.assert_allclose(ours[0], theirs[0].sum(0))  # PyTorch's bias gradient not yet summed
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
    np.testing.assert_allclose(ours[2], theirs[2].T, rtol=1e-6)  # PyTorch's is weightᵀ's


def test_linear_gradients_unchanged_by_the_order_shown():
    ours, theirs = linear_inputs(chainrule, 5), linear_inputs(torch, 5)
    (chainrule.nn.functional.linear(*ours) ** 2).sum().backward()
    (torch.nn.functional.linear(*theirs) ** 2).sum().backward()
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-5, atol=1e-6)
    double = [each.detach().double().requires_grad_() for each in ours]
    assert chainrule.autograd.gradcheck(chainrule.nn.functional.linear, double)


def strict_load_message(library):
    library.manual_seed(0)
    module = library.nn.Module()
    module.lin = library.nn.Linear(2, 2)
    module.other = library.nn.Linear(2, 1)
    state = {"lin.weight": library.ones(2, 2), "lin.bias": library.zeros(2), "junk": library.ones(1)}
    with pytest.raises(RuntimeError) as raised:
        module.load_state_dict(state)
    return str(raised.value)


def test_a_strict_load_lists_missing_keys_before_unexpected_ones():
    ours, theirs = strict_load_message(chainrule), strict_load_message(torch)
    assert ours.splitlines()[1:] == theirs.splitlines()[1:]
    assert ours.index("Missing key(s)") < ours.index("Unexpected key(s)")


def test_a_device_is_a_context_manager():
    with chainrule.device("cpu") as entered, torch.device("cpu") as theirs:
        assert entered == "cpu" and str(entered) == str(theirs)
        layer = chainrule.nn.Linear(3, 2)
        assert layer.weight.device == "cpu" and chainrule.get_default_device() == "cpu"
    assert chainrule.get_default_device() == "cpu"


def test_entering_a_device_chainrule_lacks_raises_where_a_tensor_is_made_there():
    with pytest.raises(AssertionError, match="CUDA"):
        with chainrule.device("cuda"):
            chainrule.zeros(1)
    with pytest.raises(RuntimeError, match="mps"):
        with chainrule.device("mps"):
            chainrule.ones(1)
    with chainrule.device("meta"):  # a device chainrule has: shapes without values
        assert chainrule.ones(1).device.type == "meta"
    assert chainrule.get_default_device() == chainrule.device("cpu") and chainrule.zeros(1).device.type == "cpu"


def test_an_error_inside_a_device_block_goes_on():
    with pytest.raises(ValueError, match="inside"):
        with chainrule.device("cpu"):
            raise ValueError("inside")
