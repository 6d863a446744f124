"""Batch norm and layer norm as one fused operation (ops/normalization.py): second derivatives
against PyTorch, through the statistics too, and the declarations the trace shows. Values and first
gradients of the layers are compared in tests/nn/test_layers.py."""
import numpy as np
import pytest
import torch
import torch.nn.functional as torch_functional

import chainrule
import chainrule.nn.functional as functional
from tests.ops.second_order import assert_second_order_matches_torch


def F(lib):
    return torch_functional if lib is torch else functional


def rng(seed):
    return np.random.default_rng(seed)


INPUT = rng(0).standard_normal((4, 3, 5)) * 2 + 1
CHANNEL = rng(1).uniform(0.5, 2.0, 3)
SHIFT = rng(2).standard_normal(3)
LAST = rng(3).uniform(0.5, 2.0, 5)
LAST_SHIFT = rng(4).standard_normal(5)
RUNNING_MEAN, RUNNING_VAR = rng(5).standard_normal(3), rng(6).uniform(0.5, 2.0, 3)

# name, call(lib, *tensors), arrays (all differentiable)
CASES = [
    ("batch_norm", lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True), [INPUT, CHANNEL, SHIFT]),
    ("batch_norm_2d", lambda lib, x, w, b: F(lib).batch_norm(x[:, :, 0], None, None, w, b, training=True), [INPUT, CHANNEL, SHIFT]),
    ("batch_norm_without_parameters", lambda lib, x: F(lib).batch_norm(x, None, None, training=True), [INPUT]),
    ("batch_norm_evaluation", lambda lib, x, w, b: F(lib).batch_norm(
        x, lib.tensor(RUNNING_MEAN), lib.tensor(RUNNING_VAR), w, b, training=False), [INPUT, CHANNEL, SHIFT]),
    ("layer_norm", lambda lib, x, w, b: F(lib).layer_norm(x, (5,), w, b), [INPUT, LAST, LAST_SHIFT]),
    ("layer_norm_two_dims", lambda lib, x: F(lib).layer_norm(x, (3, 5)), [INPUT]),
]


@pytest.mark.parametrize("name, call, arrays", CASES, ids=[case[0] for case in CASES])
def test_normalization_differentiates_twice_like_pytorch(name, call, arrays):
    """Through the statistics too (batch norm in training, layer norm)."""
    assert_second_order_matches_torch(name, call, arrays, atol=1e-9)


@pytest.mark.parametrize("name, call, arrays", CASES, ids=[case[0] for case in CASES])
def test_nodes_are_named_as_pytorch_names_them(name, call, arrays):
    ours = call(chainrule, *[chainrule.tensor(array, requires_grad=True) for array in arrays])
    theirs = call(torch, *[torch.tensor(array, requires_grad=True) for array in arrays])
    assert ours.grad_fn.name() == theirs.grad_fn.name()


def test_a_kept_graph_holds_no_normalized_copy_of_its_input():
    """x̂ is recomputed in backward from the saved input, not kept beside it."""
    x = chainrule.tensor(INPUT, requires_grad=True)
    out = functional.layer_norm(x, (5,))
    kept = [name for name, value in vars(out.grad_fn).items() if isinstance(value, np.ndarray) and value.size >= 5]
    assert kept == []


def test_normalization_declares_its_formula_and_one_derivative_per_input():
    from chainrule.ops.normalization import Normalize

    assert Normalize.formula
    assert len(Normalize.derivatives) == len(Normalize.input_names())
