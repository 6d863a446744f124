"""``torch.distributed.constants``: how long a collective may wait by default.

``init_process_group(timeout=...)`` is PyTorch's time a process waits in a collective before
giving up; chainrule's MPI collectives wait as long as it takes (a process that fails ends the
whole job instead, see ``process_group``), and these are the values code written for PyTorch reads.
"""
from datetime import timedelta

__all__ = ["default_pg_timeout", "default_pg_nccl_timeout"]

#: The default timeout of a process group that is not NCCL's: 30 minutes, as PyTorch's
default_pg_timeout = timedelta(minutes=30)

#: NCCL's own default, None where NCCL is not built in (a CPU-only PyTorch, and chainrule)
default_pg_nccl_timeout = None
