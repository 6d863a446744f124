"""clip_grad_norm_ sees a NaN or inf gradient wherever it is, as PyTorch does."""
import math

import numpy as np
import pytest
import torch

import chainrule


def parameters(lib, bad_position, bad_value):
    grads = [[0.5, -2.0], [3.0], [1.0, 1.0, 1.0]]
    grads[bad_position][0] = bad_value
    params = []
    for values in grads:
        param = lib.zeros(len(values), requires_grad=True)
        param.grad = lib.tensor(values)
        params.append(param)
    return params


# inf * 0 in the scaling warns in NumPy (PyTorch is silent): tests/test_warnings.py tracks that for ops.
@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply:RuntimeWarning")
@pytest.mark.parametrize("norm_type", [math.inf, 2.0, 1.0])
@pytest.mark.parametrize("bad_position", [0, 1, 2])
@pytest.mark.parametrize("bad_value", [math.nan, math.inf])
def test_a_non_finite_gradient_gives_pytorchs_total_and_raises_when_asked(norm_type, bad_position, bad_value):
    ours = parameters(chainrule, bad_position, bad_value)
    theirs = parameters(torch, bad_position, bad_value)
    total = chainrule.nn.utils.clip_grad_norm_(ours, 1.0, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type=norm_type)
    np.testing.assert_equal(total.item(), expected.item())
    for mine, their in zip(ours, theirs):
        np.testing.assert_array_equal(mine.grad._array, their.grad.numpy())
    with pytest.raises(RuntimeError, match="non-finite"):
        chainrule.nn.utils.clip_grad_norm_(parameters(chainrule, bad_position, bad_value), 1.0, norm_type=norm_type, error_if_nonfinite=True)
