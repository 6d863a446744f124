"""The settings ``fully_shard`` (FSDP2) is given, as PyTorch's dataclasses: training code builds
them at load time whether or not it shards (transformers' FSDP integration imports them), so they
have PyTorch's fields, defaults and reprs. chainrule does not shard (see
``chainrule.distributed.unsharded``): nothing consumes them, and ``fully_shard`` raises."""
from dataclasses import dataclass

from chainrule.dtypes import dtype

__all__ = ["OffloadPolicy", "CPUOffloadPolicy", "MixedPrecisionPolicy"]


@dataclass
class OffloadPolicy:
    """No offloading: the default ``offload_policy``, the base of the others."""


@dataclass
class CPUOffloadPolicy(OffloadPolicy):
    """Keep the sharded parameters, gradients and optimizer state on the CPU, copying parameters
    to the device before they are gathered; ``pin_memory`` pins the CPU copies."""

    pin_memory: bool = True


@dataclass(frozen=True)
class MixedPrecisionPolicy:
    """FSDP2's mixed precision, per module: parameters gathered in ``param_dtype``, gradients
    reduced in ``reduce_dtype``, outputs cast to ``output_dtype`` (None: unchanged), and the
    forward's floating-point inputs cast to ``param_dtype`` when ``cast_forward_inputs``."""

    param_dtype: dtype | None = None
    reduce_dtype: dtype | None = None
    output_dtype: dtype | None = None
    cast_forward_inputs: bool = True
