"""``torch.distributed._composable.fsdp``: the older path of ``torch.distributed.fsdp``'s
``fully_shard`` and its settings (the same objects)."""
from chainrule.distributed.fsdp import CPUOffloadPolicy, FSDPModule, MixedPrecisionPolicy, OffloadPolicy, fully_shard

__all__ = ["CPUOffloadPolicy", "FSDPModule", "MixedPrecisionPolicy", "OffloadPolicy", "fully_shard"]
