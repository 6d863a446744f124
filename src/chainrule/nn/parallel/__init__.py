"""Training one model on several processes, as ``torch.nn.parallel``: ``DistributedDataParallel``."""
from chainrule.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
