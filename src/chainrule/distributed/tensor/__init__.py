"""``torch.distributed.tensor``: ``DTensor``, a tensor sharded across processes, which chainrule
does not have (see ``chainrule.distributed.unsharded``): no tensor is a DTensor."""
from chainrule.distributed.unsharded import UnshardedType

__all__ = ["DTensor"]


class DTensor(metaclass=UnshardedType):
    """PyTorch's distributed tensor, each process holding a slice; ``isinstance(x, DTensor)`` is
    False for every chainrule tensor, and making one raises."""
