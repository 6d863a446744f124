"""``torch.distributed.fsdp.fully_sharded_data_parallel``: where PyTorch keeps
``FullyShardedDataParallel``, which chainrule does not have (see ``chainrule.distributed.unsharded``),
and the settings it is given (``fsdp.api``), which code imports from here too."""
from enum import Enum, auto

from chainrule.distributed.fsdp.api import *  # noqa: F401,F403 (the settings, which code imports from here too)
from chainrule.distributed.unsharded import UnshardedType

__all__ = ["FullyShardedDataParallel", "OptimStateKeyType"]


class FullyShardedDataParallel(metaclass=UnshardedType):
    """PyTorch's wrapper that shards a model's parameters across processes (FSDP): no model is
    one (``isinstance`` is False), and wrapping one raises; use ``DistributedDataParallel``."""


class OptimStateKeyType(Enum):
    """How FSDP keys an optimizer's state dict: by parameter name or by parameter id."""

    PARAM_NAME = auto()
    PARAM_ID = auto()
