"""Run under mpiexec: the last rank raises while the others wait in a collective."""
import chainrule as torch
import chainrule.distributed as dist

dist.init_process_group(backend="mpi")
if dist.get_rank() == dist.get_world_size() - 1:
    raise ValueError("deliberate failure on the last rank")
dist.all_reduce(torch.ones(3))  # would wait forever for the rank that is gone
print("unreachable")
