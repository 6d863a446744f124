"""The names of PyTorch's sharded training, which chainrule does not do: ``DTensor`` and FSDP.

PyTorch can split one model across processes: a ``DTensor`` (``torch.distributed.tensor``) holds
a slice of a tensor on each process, and ``FullyShardedDataParallel`` / ``fully_shard``
(``torch.distributed.fsdp``) keep each process's slice of every parameter, gathering a layer's
weights only while it runs. chainrule trains data-parallel only: every process holds the whole
model (``DistributedDataParallel``), and ``ZeroRedundancyOptimizer`` shares out the optimizer
state. Training frameworks (Lightning, accelerate) still ask ``isinstance(x, DTensor)`` or
``isinstance(model, FullyShardedDataParallel)`` on every model, so the names exist: nothing is an
instance of them, and making one (or calling ``fully_shard``) raises an error that says what to
use instead.
"""

ALTERNATIVE = (
    "chainrule does not shard tensors or models across processes (no DTensor, no FSDP): every process "
    "holds the whole model; wrap it in chainrule.nn.parallel.DistributedDataParallel, and share the "
    "optimizer state out with chainrule.distributed.optim.ZeroRedundancyOptimizer"
)


class UnshardedType(type):
    """The type of ``DTensor``, ``FullyShardedDataParallel`` and ``FSDPModule`` here: no object is
    an instance (``isinstance`` is False), and making one raises RuntimeError."""

    def __instancecheck__(cls, instance):
        return False

    def __call__(cls, *args, **kwargs):
        raise RuntimeError(f"{cls.__name__}: {ALTERNATIVE}")


def refuse_sharding(name):
    """The error of ``name``, a sharding function (``fully_shard``)."""
    raise RuntimeError(f"{name}: {ALTERNATIVE}")
