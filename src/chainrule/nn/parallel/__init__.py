"""Running one model on several devices or processes, as ``torch.nn.parallel``:
``DistributedDataParallel`` (one process per replica) and ``DataParallel`` (which, without GPUs,
as here, simply wraps the model)."""
from chainrule.nn.parallel.data_parallel import DataParallel
from chainrule.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
