"""Tensor.register_post_accumulate_grad_hook: called once a leaf's .grad holds its new gradient."""
import pytest
import torch as reference

import chainrule as torch


def record_calls(module):
    weight = module.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    handle = weight.register_post_accumulate_grad_hook(lambda tensor: calls.append((tensor is weight, tensor.grad.tolist())))
    (weight * weight).sum().backward()  # weight used twice: one accumulation, one call
    (3 * weight).sum().backward()
    handle.remove()
    (3 * weight).sum().backward()
    return calls


def test_the_hook_sees_the_accumulated_gradient_once_per_backward_as_in_pytorch():
    assert record_calls(torch) == record_calls(reference) == [(True, [2.0, 4.0]), (True, [5.0, 7.0])]


def test_the_hook_is_for_leaves_that_require_grad():
    weight = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (weight * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        torch.ones(2).register_post_accumulate_grad_hook(print)
