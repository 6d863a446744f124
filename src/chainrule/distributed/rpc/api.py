"""``torch.distributed.rpc.api``: the module where PyTorch keeps ``RRef``, and the decorator that
guards an RPC call (PyG's distributed helpers wrap theirs in it when their module is imported)."""
import functools


class RRef:
    """A reference to a value held by another process, in PyTorch's RPC framework. chainrule has
    none (see ``chainrule.distributed.rpc``): nothing is ever an RRef, and making one raises."""

    def __init__(self, value, type_hint=None):
        raise RuntimeError(
            "chainrule.distributed.rpc.RRef: chainrule has no remote procedure calls (rpc.is_available() is "
            "False); train across processes with chainrule.distributed and DistributedDataParallel on MPI"
        )


def _require_initialized(func):
    """``func`` guarded by the check that RPC was initialized: chainrule's never is (it has no
    ``init_rpc``), so calling the guarded function raises PyTorch's RuntimeError."""

    @functools.wraps(func)
    def guarded(*args, **kwargs):
        raise RuntimeError(
            f"RPC has not been initialized. Call torch.distributed.rpc.init_rpc first. ({func.__name__}: chainrule has "
            f"no remote procedure calls; train across processes with chainrule.distributed on MPI)"
        )

    return guarded
