"""``torch.distributed.nn.functional``: collectives that autograd differentiates, PyTorch's older
form of ``_functional_collectives`` (which PyTorch now points to, with a FutureWarning).

    all_gather(t)   (t_0, t_1, ..., t_{n-1}) on every process

Backward of ``all_gather``: the gradient of process ``r``'s ``t_r`` is the sum, over the
processes, of the gradient each sends to its ``r``-th output.
"""
import warnings

from chainrule.distributed._functional_collectives import all_gather_single, wait_tensor
from chainrule.distributed.process_group import default_group

__all__ = ["all_gather"]


def all_gather(tensor, group=None):
    """Every process's ``tensor``, a tuple in rank order, on every process (``group`` None: the
    default group); the tensors must have the same shape and dtype everywhere."""
    warnings.warn(
        "torch.distributed.nn.functional.all_gather is deprecated, use "
        "torch.distributed._functional_collectives.all_gather_single instead.",
        FutureWarning,
        stacklevel=2,
    )
    stacked = all_gather_single(tensor.unsqueeze(0), 0, default_group() if group is None else group)
    return tuple(wait_tensor(stacked).unbind(0))
