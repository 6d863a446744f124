"""Run under mpiexec: rank 1 builds a wider hidden layer than the others, then wraps it in DDP."""
import chainrule.distributed as dist
from chainrule import nn
from chainrule.nn.parallel import DistributedDataParallel

dist.init_process_group(backend="mpi")
hidden = 7 if dist.get_rank() == 1 else 6
DistributedDataParallel(nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 3)))
print("unreachable")
