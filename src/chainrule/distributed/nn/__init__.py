"""``torch.distributed.nn``: collectives that autograd differentiates (``functional``)."""
from chainrule.distributed.nn.functional import all_gather

__all__ = ["all_gather"]
