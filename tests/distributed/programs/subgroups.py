"""Run under mpiexec on 4 processes: the calls of test_subgroups on groups of part of the processes;
rank 0 prints what every process got, as JSON."""
import json

import chainrule as torch
import chainrule.distributed as dist
from tests.distributed.test_subgroups import subgroup_calls

dist.init_process_group(backend="gloo")  # gloo, not mpi: PyTorch's MPI backend refuses use_local_synchronization
rank = dist.get_rank()
got = [None] * dist.get_world_size()
dist.all_gather_object(got, subgroup_calls(torch, dist, rank))
dist.destroy_process_group()
if rank == 0:
    print(json.dumps(got))
