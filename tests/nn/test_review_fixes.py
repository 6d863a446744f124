"""Behaviours a review found missing: each checked against PyTorch where PyTorch has an answer."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.nn import init


def test_a_name_lives_in_one_registry_only():
    module = nn.Module()
    module.register_buffer("x", chainrule.zeros(2))
    with pytest.raises(KeyError, match="attribute 'x' already exists"):
        module.register_parameter("x", nn.Parameter(chainrule.ones(3)))
    module.w = nn.Parameter(chainrule.ones(2))
    with pytest.raises(KeyError, match="already exists"):
        module.add_module("w", nn.Linear(1, 1))
    assert list(module.state_dict()) == ["w", "x"]


def test_trunc_normal_far_in_a_tail_and_refuses_empty_ranges():
    values = init.trunc_normal_(chainrule.empty(1000, dtype=chainrule.float64), mean=0.0, std=1.0, a=10.0, b=11.0)
    assert values.array.min() >= 10.0 and values.array.max() <= 11.0 and values.array.mean() < 10.3
    standard = init.trunc_normal_(chainrule.empty(200_000, dtype=chainrule.float64)).array
    expected_std = torch.nn.init.trunc_normal_(torch.empty(200_000, dtype=torch.float64)).std().item()
    assert abs(standard.std() - expected_std) < 0.01 and abs(standard.max()) <= 2.0
    with pytest.raises(RuntimeError, match="must be below"):
        init.trunc_normal_(chainrule.empty(10), a=2.0, b=-2.0)


def test_weight_larger_than_the_input_is_refused():
    probabilities, targets = chainrule.full((4, 3), 0.3), chainrule.ones(4, 3)
    with pytest.raises(RuntimeError, match="must broadcast to the input's shape"):
        F.binary_cross_entropy(probabilities, targets, weight=chainrule.ones(2, 4, 3))


def test_nll_loss_refuses_a_second_backward():
    x = chainrule.tensor([[0.1, 0.2, 0.3]], requires_grad=True)
    loss = F.nll_loss(x, chainrule.tensor([1]))
    loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_a_kept_loss_holds_no_activation_arrays_after_backward():
    model = nn.Sequential(nn.Linear(8, 16), nn.LayerNorm(16), nn.ReLU(), nn.Linear(16, 3))
    loss = F.cross_entropy(model(chainrule.randn(32, 8)), chainrule.randint(0, 3, (32,)))
    loss.backward()
    stack, kept = [loss.grad_fn], []
    while stack:
        node = stack.pop()
        kept += [name for name, value in vars(node).items() if isinstance(value, np.ndarray) and value.size >= 32]
        stack += [next_node for next_node in node.next_nodes if next_node is not None and type(next_node).__name__ != "AccumulateGrad"]
    assert kept == []


def test_zero_total_weight_gives_nan_gradients_like_pytorch():
    values = [[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]]
    ours = chainrule.tensor(values, dtype=chainrule.float64, requires_grad=True)
    theirs = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    F.cross_entropy(ours, chainrule.tensor([0, 0]), weight=chainrule.tensor([0.0, 1.0, 1.0], dtype=chainrule.float64)).backward()
    torch.nn.functional.cross_entropy(theirs, torch.tensor([0, 0]), weight=torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64)).backward()
    np.testing.assert_array_equal(np.isnan(ours.grad.array), np.isnan(theirs.grad.numpy()))
    all_ignored = chainrule.tensor(values, requires_grad=True)
    F.cross_entropy(all_ignored, chainrule.tensor([-100, -100])).backward()
    assert (all_ignored.grad.array == 0).all()  # nothing counted: PyTorch's gradient is 0


def test_embedding_checks_padding_idx_in_the_functional_form_too():
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(chainrule.tensor([1, 2]), chainrule.ones(10, 2), padding_idx=12)
    with pytest.raises(AssertionError):
        nn.Embedding.from_pretrained(chainrule.ones(3))
    assert nn.Embedding.from_pretrained(chainrule.ones(3, 2), sparse=False).weight.shape == (3, 2)


def test_small_api_details_follow_pytorch():
    with pytest.raises(RuntimeError, match="running_mean|channels"):
        nn.BatchNorm1d(3)(chainrule.ones(4, 5))
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty tensor"):
        F.one_hot(chainrule.tensor([], dtype=chainrule.int64))
    with pytest.raises(RuntimeError, match="don't multiply up"):
        nn.Unflatten(1, (5, 5))(chainrule.ones(0, 6))
    assert nn.Unflatten(1, (2, -1))(chainrule.ones(3, 6)).shape == (3, 2, 3)
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        nn.Linear(2, 3, device="cuda")
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        chainrule.zeros(2, device="cuda")
    assert chainrule.zeros(2, device="cpu").shape == (2,)
