"""``torch.distributed.algorithms``: the join context manager for uneven inputs (``join``)."""
from chainrule.distributed.algorithms.join import Join, Joinable, JoinHook

__all__ = ["Join", "JoinHook", "Joinable"]
