"""PyTorch's dtype rules for operands: dimensionless operands keep the other's dtype within a
category, and integer inputs of floating functions give float32."""
import numpy as np
import pytest
import torch

import chainrule


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
