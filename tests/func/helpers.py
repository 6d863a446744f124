"""Comparing chainrule's results with PyTorch's: same nesting, same values (float64)."""
import numpy as np
import torch

import chainrule


def both(array):
    return chainrule.tensor(array), torch.tensor(array)


def assert_same(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for mine, reference in zip(ours, theirs):
            assert_same(mine, reference)
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs)
        for key in theirs:
            assert_same(ours[key], theirs[key])
    else:
        assert isinstance(ours, chainrule.Tensor)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert ours.requires_grad == theirs.requires_grad
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def assert_same_error(call, ours, theirs, first_words_only=False):
    """``call(module, tensor)`` raises the same exception type and message with chainrule's
    ``ours = (module, tensor)`` as with PyTorch's ``theirs``."""
    import pytest

    with pytest.raises(Exception) as expected:
        call(*theirs)
    with pytest.raises(expected.type) as got:
        call(*ours)
    if first_words_only:
        assert str(got.value).split(".")[0] == str(expected.value).split(".")[0]
    else:
        assert str(got.value) == str(expected.value)
