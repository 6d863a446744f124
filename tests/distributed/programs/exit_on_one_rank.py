"""Run under chainrule run: the last rank calls sys.exit(3) while the others wait in a collective."""
import sys

import chainrule as torch
import chainrule.distributed as dist

dist.init_process_group(backend="mpi")
if dist.get_rank() == dist.get_world_size() - 1:
    sys.exit(3)
dist.all_reduce(torch.ones(3))
print("unreachable")
