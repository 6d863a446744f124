"""Data-parallel training across processes, on MPI, with ``torch.distributed``'s names.

Launch one process per core or machine with ``mpiexec -n 4 python train.py`` (or
``chainrule run -n 4 train.py``); in the script::

    import chainrule.distributed as dist
    from chainrule.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group(backend="mpi")
    model = DDP(model)               # same weights everywhere; backward averages the gradients
    ...
    dist.destroy_process_group()

Run without ``mpiexec``, the group is the one process (world size 1) and MPI is not needed. The MPI
engine comes with ``pip install 'chainrule[distributed]'`` (mpi4py and the MPICH wheel).
"""
from chainrule.distributed.collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    gather,
    reduce_scatter,
    scatter,
)
from chainrule.distributed.process_group import (
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
)

from chainrule.distributed import rpc  # noqa: E402  torch.distributed.rpc: the names, no RPC

__all__ = [
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_object",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "gather",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
    "reduce_scatter",
    "scatter",
]
