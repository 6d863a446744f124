"""``torch.distributed.fsdp``: fully sharded data parallelism (``FullyShardedDataParallel``, and
``fully_shard`` with the ``FSDPModule`` it makes), which chainrule does not do (see
``chainrule.distributed.unsharded``): the names exist, no model is one, and using them raises.

The settings FSDP is given (``ShardingStrategy``, ``MixedPrecision``, ``StateDictType``...,
``api``; ``MixedPrecisionPolicy``, ``CPUOffloadPolicy`` for ``fully_shard``) and the auto-wrap
policies (``wrap``) are PyTorch's own: training code builds them
before it decides how to wrap the model."""
from chainrule.distributed.fsdp import api
from chainrule.distributed.fsdp.api import *  # noqa: F403 (its __all__: the settings)
from chainrule.distributed.fsdp.fully_shard_settings import CPUOffloadPolicy, MixedPrecisionPolicy, OffloadPolicy
from chainrule.distributed.fsdp.fully_sharded_data_parallel import FullyShardedDataParallel, OptimStateKeyType
from chainrule.distributed.unsharded import UnshardedType, refuse_sharding

__all__ = [
    *api.__all__,
    "FullyShardedDataParallel",
    "OptimStateKeyType",
    "FSDPModule",
    "fully_shard",
    "OffloadPolicy",
    "CPUOffloadPolicy",
    "MixedPrecisionPolicy",
]


class FSDPModule(metaclass=UnshardedType):
    """The class PyTorch's ``fully_shard`` mixes into a module it shards: no module is one here."""


def fully_shard(module, **kwargs):
    """PyTorch's per-module sharding (FSDP2); refused: chainrule keeps the whole model on every process."""
    refuse_sharding("fully_shard")
