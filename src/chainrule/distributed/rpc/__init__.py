"""``torch.distributed.rpc``'s names, for code that checks for them: chainrule has no remote
procedure calls (its distributed training is data-parallel, on MPI), so ``is_available()`` is
False and nothing here runs a call. ``RRef`` exists so that ``isinstance(x, rpc.api.RRef)``, as
training helpers write it to unwrap a remote result, is simply False for a tensor."""
from chainrule.distributed.rpc import api
from chainrule.distributed.rpc.api import RRef

__all__ = ["RRef", "api", "is_available"]


def is_available():
    """False: chainrule has no RPC framework (PyTorch's is built in on Linux)."""
    return False
