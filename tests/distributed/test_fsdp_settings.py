"""torch.distributed.fsdp's settings and wrap policies, against PyTorch's."""
import functools

import pytest
import torch
import torch.distributed.fsdp as torch_fsdp
import torch.distributed.fsdp.wrap as torch_wrap

import chainrule
import chainrule.distributed.fsdp as fsdp
import chainrule.distributed.fsdp.wrap as wrap
from chainrule.distributed.fsdp import api, fully_sharded_data_parallel


def test_settings_are_pytorchs_enums_and_dataclasses():
    for name in ("ShardingStrategy", "BackwardPrefetch", "StateDictType", "OptimStateKeyType"):
        assert list(getattr(fsdp, name).__members__) == list(getattr(torch_fsdp, name).__members__)
        assert [member.value for member in getattr(fsdp, name)] == [member.value for member in getattr(torch_fsdp, name)]
    for name in api.__all__:
        ours, theirs = getattr(fsdp, name), getattr(torch_fsdp, name)
        if name != "StateDictSettings" and hasattr(theirs, "__dataclass_fields__"):
            assert repr(ours()).replace("chainrule.nn.normalization", "torch.nn.modules.batchnorm") == repr(theirs())
    assert repr(fsdp.MixedPrecision(param_dtype=chainrule.bfloat16)).startswith("MixedPrecision(param_dtype=chainrule.bfloat16")
    assert fsdp.FullStateDictConfig(offload_to_cpu=True, rank0_only=True) == fsdp.FullStateDictConfig(True, True)
    assert fully_sharded_data_parallel.ShardingStrategy is fsdp.ShardingStrategy
    assert set(fsdp.__all__) <= set(torch_fsdp.__all__) and set(wrap.__all__) == set(torch_wrap.__all__)


def block_class(nn):
    """A transformer block's class, in the library of ``nn``."""

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(10, 10)

    return Block


def decisions(library_wrap, nn):
    """Each policy's answers on every module of a model, with recurse both ways and a few sizes."""
    block = block_class(nn)

    def model(nn):
        return nn.Sequential(nn.Linear(10, 100), nn.ModuleList([block()]), nn.MultiheadAttention(10, 2))

    policies = [
        library_wrap.always_wrap_policy,
        functools.partial(library_wrap.transformer_auto_wrap_policy, transformer_layer_cls={nn.Linear}),
        functools.partial(library_wrap.lambda_auto_wrap_policy, lambda_fn=lambda module: isinstance(module, nn.Sequential)),
        functools.partial(library_wrap.size_based_auto_wrap_policy, min_num_params=100),
        library_wrap.ModuleWrapPolicy({nn.Linear}),
    ]
    found = []
    for module in model(nn).modules():
        for policy in policies:
            for recurse in (True, False):
                for numel in (10, 1000):
                    found.append(bool(policy(module=module, recurse=recurse, nonwrapped_numel=numel)))
    root = model(nn)
    ignored = {root[2]}
    wrapped = library_wrap.ModuleWrapPolicy({nn.Linear, block})._run_policy(root, ignored, {"x": 1})
    custom = library_wrap.CustomPolicy(lambda module: {"y": 2} if isinstance(module, nn.Linear) else module is root)
    chosen = custom._run_policy(root, set(), {"x": 1})
    names = {module: name for name, module in root.named_modules()}
    return found, sorted((names[module], kwargs) for module, kwargs in wrapped.items()), sorted(
        (names[module], sorted(kwargs.items())) for module, kwargs in chosen.items()
    )


def test_policies_decide_as_pytorchs():
    assert decisions(wrap, chainrule.nn) == decisions(torch_wrap, torch.nn)
    with pytest.raises(ValueError, match="should return False/True or a kwarg dict, but it returned 3"):
        wrap.CustomPolicy(lambda module: 3)._run_policy(chainrule.nn.Linear(1, 1), set(), {})
    assert repr(wrap.ModuleWrapPolicy({chainrule.nn.Linear})).endswith("({<class 'chainrule.nn.linear.Linear'>})")


class Wrapper(chainrule.nn.Module):
    def __init__(self, module, **kwargs):
        super().__init__()
        self.module, self.kwargs = module, kwargs


def test_wrap_inside_enable_wrap_only():
    layer = chainrule.nn.Linear(2, 2)
    assert wrap.wrap(layer) is layer
    with wrap.enable_wrap(wrapper_cls=Wrapper, a=1, b=2):
        wrapped = wrap.wrap(layer, b=3)
        with pytest.raises(NotImplementedError, match="do not supported nested autowrap"):
            with wrap.enable_wrap(wrapper_cls=Wrapper):
                pass
    assert isinstance(wrapped, Wrapper) and wrapped.module is layer and wrapped.kwargs == {"a": 1, "b": 3}
    assert wrap.wrap(layer) is layer
    layer._wrap_overrides = {"mixed_precision": None}
    with wrap.enable_wrap(wrapper_cls=Wrapper, mixed_precision="bf16"):
        assert wrap.wrap(layer).kwargs == {"mixed_precision": None}
    with pytest.raises(RuntimeError, match="chainrule does not shard"), wrap.enable_wrap(wrapper_cls=fsdp.FullyShardedDataParallel):
        wrap.wrap(layer)


def test_fully_shard_settings_are_pytorchs_dataclasses_also_on_the_composable_path():
    """(transformers imports them, and fully_shard from torch.distributed._composable.fsdp, at load)"""
    from chainrule.distributed._composable import fsdp as composable_fsdp

    for name in ("OffloadPolicy", "CPUOffloadPolicy", "MixedPrecisionPolicy"):
        ours, theirs = getattr(fsdp, name), getattr(torch_fsdp, name)
        assert repr(ours()) == repr(theirs()) and ours.__dataclass_params__.frozen == theirs.__dataclass_params__.frozen
        assert getattr(composable_fsdp, name) is ours
    assert issubclass(fsdp.CPUOffloadPolicy, fsdp.OffloadPolicy) and fsdp.CPUOffloadPolicy(pin_memory=False).pin_memory is False
    policy = fsdp.MixedPrecisionPolicy(param_dtype=chainrule.float16)
    assert policy.param_dtype is chainrule.float16 and policy == fsdp.MixedPrecisionPolicy(chainrule.float16)
    assert composable_fsdp.fully_shard is fsdp.fully_shard and composable_fsdp.FSDPModule is fsdp.FSDPModule
