"""``torch.distributed.fsdp.fully_sharded_data_parallel``: where PyTorch keeps
``FullyShardedDataParallel``, which chainrule does not have (see ``chainrule.distributed.unsharded``)."""
from chainrule.distributed.unsharded import UnshardedType

__all__ = ["FullyShardedDataParallel"]


class FullyShardedDataParallel(metaclass=UnshardedType):
    """PyTorch's wrapper that shards a model's parameters across processes (FSDP): no model is
    one (``isinstance`` is False), and wrapping one raises; use ``DistributedDataParallel``."""
