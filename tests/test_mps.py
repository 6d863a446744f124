"""chainrule.mps answers as torch.mps does without Apple's GPU."""
import pytest
import torch

import chainrule


def test_nothing_is_available_and_seeding_is_accepted():
    assert chainrule.mps.is_available() is torch.mps.is_available() is False
    assert chainrule.mps.device_count() == 0
    assert chainrule.mps.manual_seed(0) is None


@pytest.mark.parametrize("name", ["empty_cache", "synchronize", "current_allocated_memory"])
def test_device_calls_raise_as_pytorch(name):
    with pytest.raises(RuntimeError) as expected:
        getattr(torch.mps, name)()
    with pytest.raises(RuntimeError) as got:
        getattr(chainrule.mps, name)()
    assert str(got.value) == str(expected.value)
