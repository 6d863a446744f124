"""``torch.distributed.fsdp.api``: the settings FullyShardedDataParallel is given, as PyTorch's.

Training code builds these whether or not it ends up sharding (accelerate's FSDP plugin, diffusers'
training utilities import them at load time), so they are PyTorch's own enums and dataclasses:
the same members, fields, defaults and reprs. chainrule does not shard (see
``chainrule.distributed.unsharded``): nothing consumes them here, and ``FullyShardedDataParallel``
still refuses to wrap a model.
"""
from dataclasses import dataclass
from enum import Enum, auto

from chainrule.dtypes import dtype
from chainrule.nn import normalization

__all__ = [
    "ShardingStrategy",
    "BackwardPrefetch",
    "MixedPrecision",
    "CPUOffload",
    "StateDictType",
    "StateDictConfig",
    "FullStateDictConfig",
    "LocalStateDictConfig",
    "ShardedStateDictConfig",
    "OptimStateDictConfig",
    "FullOptimStateDictConfig",
    "LocalOptimStateDictConfig",
    "ShardedOptimStateDictConfig",
    "StateDictSettings",
]


class ShardingStrategy(Enum):
    """What FSDP splits across processes: ``FULL_SHARD`` (parameters, gradients and optimizer
    state), ``SHARD_GRAD_OP`` (gradients and optimizer state; parameters outside forward and
    backward), ``NO_SHARD`` (nothing: DistributedDataParallel's replication), ``HYBRID_SHARD``
    (FULL_SHARD within a machine, replicated across machines), ``_HYBRID_SHARD_ZERO2``
    (SHARD_GRAD_OP within a machine)."""

    FULL_SHARD = auto()
    SHARD_GRAD_OP = auto()
    NO_SHARD = auto()
    HYBRID_SHARD = auto()
    _HYBRID_SHARD_ZERO2 = auto()


class BackwardPrefetch(Enum):
    """When backward gathers the next layer's parameters: ``BACKWARD_PRE`` before the current
    layer's gradient is computed (most overlap, most memory), ``BACKWARD_POST`` after it."""

    BACKWARD_PRE = auto()
    BACKWARD_POST = auto()


@dataclass
class MixedPrecision:
    """FSDP's mixed precision: the dtype parameters compute in (``param_dtype``), gradients are
    reduced in (``reduce_dtype``, else ``param_dtype``) and buffers are kept in (``buffer_dtype``);
    None keeps a tensor's own dtype. Modules of ``_module_classes_to_ignore`` (batch norm) keep
    full precision when a wrap policy is given."""

    param_dtype: dtype | None = None
    reduce_dtype: dtype | None = None
    buffer_dtype: dtype | None = None
    keep_low_precision_grads: bool = False
    cast_forward_inputs: bool = False
    cast_root_forward_inputs: bool = True
    _module_classes_to_ignore: tuple = (normalization._BatchNorm,)  # PyTorch's class of the batch norms


@dataclass
class CPUOffload:
    """Whether FSDP keeps parameters (and their gradients, so the optimizer step) on the CPU
    while they are not computing."""

    offload_params: bool = False


class StateDictType(Enum):
    """Which ``state_dict`` an FSDP model gives and loads: the full, unsharded parameters
    (``FULL_STATE_DICT``, PyTorch's default), each process's flattened shard
    (``LOCAL_STATE_DICT``), or each process's unflattened shard (``SHARDED_STATE_DICT``)."""

    FULL_STATE_DICT = auto()
    LOCAL_STATE_DICT = auto()
    SHARDED_STATE_DICT = auto()


@dataclass
class StateDictConfig:
    """The base of the ``state_dict`` settings: ``offload_to_cpu`` moves the values to the CPU."""

    offload_to_cpu: bool = False


@dataclass
class FullStateDictConfig(StateDictConfig):
    """The settings of ``FULL_STATE_DICT``: with ``rank0_only`` only process 0 gets the values
    (the others an empty dict)."""

    rank0_only: bool = False


@dataclass
class LocalStateDictConfig(StateDictConfig):
    """The settings of ``LOCAL_STATE_DICT``."""


@dataclass
class ShardedStateDictConfig(StateDictConfig):
    """The settings of ``SHARDED_STATE_DICT``; ``_use_dtensor`` is FSDP's own (DTensor values
    instead of ShardedTensor ones)."""

    _use_dtensor: bool = False


@dataclass
class OptimStateDictConfig:
    """The base of the optimizer ``state_dict`` settings: ``offload_to_cpu`` (True by default)
    moves the tensor values to the CPU."""

    offload_to_cpu: bool = True


@dataclass
class FullOptimStateDictConfig(OptimStateDictConfig):
    """The optimizer settings of ``FULL_STATE_DICT``: with ``rank0_only`` only process 0 gets the state."""

    rank0_only: bool = False


@dataclass
class LocalOptimStateDictConfig(OptimStateDictConfig):
    """The optimizer settings of ``LOCAL_STATE_DICT`` (kept where they are by default)."""

    offload_to_cpu: bool = False


@dataclass
class ShardedOptimStateDictConfig(OptimStateDictConfig):
    """The optimizer settings of ``SHARDED_STATE_DICT``; ``_use_dtensor`` is FSDP's own."""

    _use_dtensor: bool = False


@dataclass
class StateDictSettings:
    """The three settings an FSDP model's state dicts are taken with."""

    state_dict_type: StateDictType
    state_dict_config: StateDictConfig
    optim_state_dict_config: OptimStateDictConfig
