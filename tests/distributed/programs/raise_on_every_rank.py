"""Run under mpiexec: every rank hits the same error at the same line."""
import chainrule.distributed as dist

dist.init_process_group(backend="mpi")
raise ValueError("the same failure on every rank")
