"""``torch.distributed.optim``: ``ZeroRedundancyOptimizer``, which shares the optimizer state out
among the processes. (PyTorch's ``DistributedOptimizer`` works on remote parameters through RPC,
which chainrule does not have.)"""
from chainrule.distributed.optim.zero_redundancy_optimizer import ZeroRedundancyOptimizer

__all__ = ["ZeroRedundancyOptimizer"]
