"""Run under mpiexec on 3 processes: the point-to-point messages of test_point_to_point; rank 0
prints what every process received, as JSON."""
import json

import chainrule as torch
import chainrule.distributed as dist
from tests.distributed.test_point_to_point import messages

dist.init_process_group(backend="mpi")
rank, size = dist.get_rank(), dist.get_world_size()
received = [None] * size
dist.all_gather_object(received, messages(torch, dist, rank, size))
dist.destroy_process_group()
if rank == 0:
    print(json.dumps(received))
