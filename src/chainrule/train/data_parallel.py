"""The Runner as one of several processes training one model (``DistributedDataParallel``).

Every process runs the same Runner on its share of the data. So that the job behaves as one: rank 0
alone prints and writes checkpoints, and the losses and scores reported are those of all the
processes' data together. Without a process group (or with one process) each function here is the
plain single-process answer and nothing is communicated.
"""
from chainrule.backend import xp
from chainrule.distributed import (
    ReduceOp,
    all_gather_object,
    all_reduce,
    barrier,
    get_rank,
    get_world_size,
    is_initialized,
)
from chainrule.tensor import tensor_from_array


def rank_and_size():
    """``(rank, world size)`` of this process; ``(0, 1)`` outside a process group."""
    return (get_rank(), get_world_size()) if is_initialized() else (0, 1)


def is_main_process():
    """Whether this process is rank 0, the one that prints and writes files."""
    return rank_and_size()[0] == 0


def mean_across_processes(value):
    """The mean of the float ``value`` over all processes (each process's loss -> the job's)."""
    if rank_and_size()[1] == 1:
        return value
    total = tensor_from_array(xp.array([value], dtype=xp.float64))
    all_reduce(total, op=ReduceOp.AVG)
    return float(total._array[0])


def gather_across_processes(*tensors):
    """Each tensor joined along its first dimension over all processes, in rank order: one batch of
    every process's outputs and labels, for a loss and metric over all of them."""
    size = rank_and_size()[1]
    if size == 1:
        return tensors
    parts = [None] * size
    all_gather_object(parts, [tensor.detach()._array for tensor in tensors])
    return tuple(tensor_from_array(xp.concatenate([part[index] for part in parts])) for index in range(len(tensors)))


def wait_for_every_process():
    """Wait until every process is here (e.g. until rank 0 has written the checkpoint they load)."""
    if rank_and_size()[1] > 1:
        barrier()
