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
engine comes with ``pip install 'chainrule[distributed]'`` (mpi4py and the MPICH wheel). Processes
started otherwise (``torch.multiprocessing.spawn``, ``torchrun``, Lightning's ``ddp_spawn``) join
with ``init_process_group("gloo", rank=r, world_size=n)`` and meet over TCP at ``MASTER_ADDR:MASTER_PORT``.

Groups of part of the processes come from ``new_group`` (``subgroups.py``); every collective and
point-to-point function takes ``group=``. Beside the collectives: point-to-point messages (``send``/``recv``, ``isend``/``irecv``,
``batch_isend_irecv``: ``point_to_point.py``), ``DeviceMesh`` (the processes laid out as an array, ``device_mesh``), the
out-of-place collectives of ``_functional_collectives``, ``optim.ZeroRedundancyOptimizer`` (each
process keeps the optimizer state of its share of the parameters), ``algorithms.join.Join`` (training on uneven inputs), and the
names of PyTorch's sharding (``tensor.DTensor``, ``fsdp`` with its settings and wrap policies),
which chainrule does not do.
"""
from chainrule.distributed.backends import (
    Backend,
    is_backend_available,
    is_gloo_available,
    is_mpi_available,
    is_nccl_available,
    is_ucc_available,
    is_xccl_available,
)
from chainrule.distributed.collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_gather_single,
    all_reduce,
    all_to_all,
    all_to_all_single,
    barrier,
    broadcast,
    broadcast_object_list,
    gather,
    gather_object,
    monitored_barrier,
    reduce,
    scatter_object_list,
    reduce_scatter,
    scatter,
)
from chainrule.distributed.errors import DistBackendError, DistError, DistNetworkError, DistStoreError, QueueEmptyError
from chainrule.distributed.point_to_point import P2POp, batch_isend_irecv, irecv, isend, recv, send
from chainrule.distributed.process_group import (
    GroupMember,
    ProcessGroup,
    destroy_process_group,
    get_backend,
    get_global_rank,
    get_group_rank,
    get_node_local_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
    is_torchelastic_launched,
)
from chainrule.distributed.subgroups import new_group, new_subgroups, new_subgroups_by_enumeration

# torch.distributed.rpc: the names, no RPC; algorithms.join, constants, device_mesh, distributed_c10d and utils, loaded with the package as PyTorch's are
from chainrule.distributed import algorithms, constants, distributed_c10d, rpc, utils  # noqa: E402
from chainrule.distributed.device_mesh import DeviceMesh, init_device_mesh  # noqa: E402

__all__ = [
    "Backend",
    "DeviceMesh",
    "GroupMember",
    "P2POp",
    "ProcessGroup",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "all_gather_single",
    "all_reduce",
    "all_to_all",
    "all_to_all_single",
    "DistBackendError",
    "DistError",
    "DistNetworkError",
    "DistStoreError",
    "QueueEmptyError",
    "get_node_local_rank",
    "barrier",
    "batch_isend_irecv",
    "broadcast",
    "broadcast_object_list",
    "destroy_process_group",
    "gather",
    "gather_object",
    "get_backend",
    "get_global_rank",
    "get_group_rank",
    "get_process_group_ranks",
    "get_rank",
    "get_world_size",
    "group",
    "init_device_mesh",
    "init_process_group",
    "irecv",
    "is_available",
    "is_backend_available",
    "is_gloo_available",
    "is_initialized",
    "is_mpi_available",
    "is_nccl_available",
    "is_torchelastic_launched",
    "is_ucc_available",
    "is_xccl_available",
    "isend",
    "monitored_barrier",
    "new_group",
    "new_subgroups",
    "new_subgroups_by_enumeration",
    "recv",
    "reduce",
    "reduce_scatter",
    "scatter",
    "scatter_object_list",
    "send",
]
