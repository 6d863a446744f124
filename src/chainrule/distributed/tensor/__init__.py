"""``torch.distributed.tensor``: ``DTensor``, a tensor sharded across processes, which chainrule
does not have (see ``chainrule.distributed.unsharded``): no tensor is a DTensor, and
``distribute_tensor`` / ``distribute_module`` raise. The placements a sharding plan is written
with (``Shard``, ``Replicate``, ``Partial``) are values, as PyTorch's."""
from chainrule.distributed.tensor.placement_types import Partial, Placement, Replicate, Shard
from chainrule.distributed.unsharded import UnshardedType, refuse_sharding

__all__ = ["DTensor", "distribute_tensor", "distribute_module", "Shard", "Replicate", "Partial", "Placement"]


class DTensor(metaclass=UnshardedType):
    """PyTorch's distributed tensor, each process holding a slice; ``isinstance(x, DTensor)`` is
    False for every chainrule tensor, and making one raises."""


def distribute_tensor(tensor, device_mesh=None, placements=None, **kwargs):
    """PyTorch's slicing of ``tensor`` into a DTensor over ``device_mesh``; refused: no DTensor here."""
    refuse_sharding("distribute_tensor")


def distribute_module(module, device_mesh=None, partition_fn=None, input_fn=None, output_fn=None):
    """PyTorch's turning of ``module``'s parameters into DTensors; refused: no DTensor here."""
    refuse_sharding("distribute_module")
