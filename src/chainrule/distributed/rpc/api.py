"""``torch.distributed.rpc.api``: the module where PyTorch keeps ``RRef``."""


class RRef:
    """A reference to a value held by another process, in PyTorch's RPC framework. chainrule has
    none (see ``chainrule.distributed.rpc``): nothing is ever an RRef, and making one raises."""

    def __init__(self, value, type_hint=None):
        raise RuntimeError(
            "chainrule.distributed.rpc.RRef: chainrule has no remote procedure calls (rpc.is_available() is "
            "False); train across processes with chainrule.distributed and DistributedDataParallel on MPI"
        )
