"""PyTorch's small import paths for custom layers: torch.nn.modules.utils, torch.nn.common_types,
torch.types, torch.autograd.anomaly_mode."""
import collections

import pytest
import torch
import torch.nn.modules.utils as torch_utils

import chainrule
import chainrule.nn.modules.utils as utils


@pytest.mark.parametrize("name", ["_single", "_pair", "_triple", "_quadruple"])
@pytest.mark.parametrize("value", [3, (1, 2), [4, 5, 6], range(2), 0.5])
def test_ntuples_as_pytorch(name, value):
    assert getattr(utils, name)(value) == getattr(torch_utils, name)(value)
    assert getattr(utils, name).__name__ == getattr(torch_utils, name).__name__


@pytest.mark.parametrize("out_size, defaults", [(5, [1, 2, 3]), ([None, 4], [1, 8, 9]), ([2, None, None], [1, 2, 6, 7])])
def test_list_with_default_and_reverse_repeat(out_size, defaults):
    assert utils._list_with_default(out_size, defaults) == torch_utils._list_with_default(out_size, defaults)
    assert utils._reverse_repeat_tuple((1, 2, 3), 2) == torch_utils._reverse_repeat_tuple((1, 2, 3), 2)
    with pytest.raises(ValueError, match="Input dimension should be at least 3"):
        utils._list_with_default([None, 4], [1, 8])


def test_a_data_parallel_checkpoint_loads_into_the_bare_model():
    chainrule.manual_seed(0)
    wrapped = chainrule.nn.DataParallel(chainrule.nn.Sequential(chainrule.nn.Linear(3, 2), chainrule.nn.BatchNorm1d(2)))
    state = wrapped.state_dict()
    torch_state = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))).state_dict()
    assert list(state) == list(torch_state) and list(state._metadata) == list(torch_state._metadata)
    utils.consume_prefix_in_state_dict_if_present(state, "module.")
    torch_utils.consume_prefix_in_state_dict_if_present(torch_state, "module.")
    assert list(state) == list(torch_state) and list(state._metadata) == list(torch_state._metadata)
    bare = chainrule.nn.Sequential(chainrule.nn.Linear(3, 2), chainrule.nn.BatchNorm1d(2))
    bare.load_state_dict(state)
    assert chainrule.equal(bare[0].weight, wrapped.module[0].weight)
    plain = collections.OrderedDict(w=1, **{"module.b": 2})
    utils.consume_prefix_in_state_dict_if_present(plain, "module.")
    assert plain == {"w": 1, "b": 2}


def test_type_aliases_and_anomaly_mode_paths():
    from chainrule.autograd.anomaly_mode import detect_anomaly, set_detect_anomaly
    from chainrule.nn.common_types import _ratio_2_t, _size_2_t, _size_any_t  # noqa: F401
    from chainrule.types import Device, Number  # noqa: F401

    import torch.nn.common_types as torch_types

    import chainrule.nn.common_types as types

    assert {name for name in dir(torch_types) if name.startswith("_size") or name.startswith("_ratio")} <= set(dir(types))
    assert detect_anomaly is chainrule.autograd.detect_anomaly and set_detect_anomaly is chainrule.autograd.set_detect_anomaly
    assert Number.__args__ == (int, float, bool)
