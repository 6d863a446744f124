"""``torch.distributed._composable``: where PyTorch first published its per-module APIs
(``fsdp.fully_shard``), still imported from there by libraries (transformers)."""
from chainrule.distributed._composable import fsdp

__all__ = ["fsdp"]
