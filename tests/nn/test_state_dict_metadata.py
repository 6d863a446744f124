"""State dict versions, as PyTorch keeps them: ``state_dict()._metadata`` holds each module's
``{'version': ...}``, and ``load_state_dict`` hands each module its entry, so that batch norm
accepts checkpoints written before it had ``num_batches_tracked`` (version < 2, or no metadata)."""
from collections import OrderedDict

import pytest
import torch

import chainrule
from tests.nn.pairs import to_ours


def trained_batch_norm(lib):
    layer = lib.nn.BatchNorm1d(3)
    for _ in range(2):
        layer(lib.randn(4, 3))
    return layer


def without_count(state_dict):
    """A plain dict without num_batches_tracked: how a checkpoint from before PyTorch 0.4.1 loads."""
    return {key: value for key, value in state_dict.items() if not key.endswith("num_batches_tracked")}


def test_metadata_lists_every_module_with_pytorchs_versions():
    def metadata(lib):
        model = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.BatchNorm1d(3), lib.nn.Sequential(lib.nn.InstanceNorm2d(2)))
        return model.state_dict()._metadata

    ours, theirs = metadata(chainrule), metadata(torch)
    assert isinstance(ours, OrderedDict)
    assert ours == theirs == OrderedDict(
        [("", {"version": 1}), ("0", {"version": 1}), ("1", {"version": 2}), ("2", {"version": 1}), ("2.0", {"version": 2})]
    )


@pytest.mark.parametrize("strict", [True, False])
def test_batch_norm_loads_a_checkpoint_without_num_batches_tracked(strict):
    results = []
    for lib in (chainrule, torch):
        checkpoint = without_count(trained_batch_norm(lib).state_dict())
        fresh = lib.nn.BatchNorm1d(3)
        keys = fresh.load_state_dict(checkpoint, strict=strict)
        assert int(fresh.num_batches_tracked) == 0
        assert fresh.running_mean.tolist() == checkpoint["running_mean"].tolist()
        results.append((keys.missing_keys, keys.unexpected_keys))
    assert results[0] == results[1] == ([], [])


def test_an_old_checkpoint_keeps_the_modules_own_count_as_pytorch():
    counts = []
    for lib in (chainrule, torch):
        layer = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.BatchNorm1d(3))
        layer[1].num_batches_tracked.fill_(7)
        layer.load_state_dict(without_count(layer.state_dict()))
        counts.append(int(layer[1].num_batches_tracked))
    assert counts == [7, 7]


def test_a_version_2_checkpoint_without_num_batches_tracked_is_still_missing_the_key():
    for lib in (chainrule, torch):
        state_dict = trained_batch_norm(lib).state_dict()
        del state_dict["num_batches_tracked"]  # _metadata says version 2: the key should be there
        with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "num_batches_tracked"'):
            lib.nn.BatchNorm1d(3).load_state_dict(state_dict)
        assert lib.nn.BatchNorm1d(3).load_state_dict(state_dict, strict=False).missing_keys == ["num_batches_tracked"]


def test_metadata_of_version_1_is_an_old_checkpoint():
    checkpoint = OrderedDict(without_count(trained_batch_norm(chainrule).state_dict()))
    checkpoint._metadata = OrderedDict([("", {"version": 1})])
    assert chainrule.nn.BatchNorm1d(3).load_state_dict(checkpoint).missing_keys == []


def test_loading_pytorchs_state_dict_with_its_metadata():
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 2, 1), torch.nn.BatchNorm2d(2))
    state_dict = OrderedDict((key, to_ours(value)) for key, value in theirs.state_dict().items())
    state_dict._metadata = theirs.state_dict()._metadata
    ours = chainrule.nn.Sequential(chainrule.nn.Conv2d(2, 2, 1), chainrule.nn.BatchNorm2d(2))
    assert ours.load_state_dict(state_dict).missing_keys == []


def test_instance_norm_refuses_running_statistics_of_a_checkpoint_from_before_0_4():
    messages = []
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError) as error:
            lib.nn.InstanceNorm1d(3).load_state_dict({"running_mean": lib.zeros(3), "running_var": lib.ones(3)})
        messages.append(str(error.value).split("\n", 1)[1])
    assert messages[0] == messages[1]
    assert 'Unexpected running stats buffer(s) "running_mean" and "running_var" for InstanceNorm1d' in messages[0]


def test_load_hooks_receive_the_checkpoints_metadata():
    seen = []
    layer = chainrule.nn.Sequential(chainrule.nn.BatchNorm1d(2))
    layer[0]._register_load_state_dict_pre_hook(lambda state_dict, prefix, local_metadata, *rest: seen.append((prefix, local_metadata)))
    layer.load_state_dict(layer.state_dict())
    layer.load_state_dict(dict(layer.state_dict()))
    assert seen == [("0.", {"version": 2}), ("0.", {})]
