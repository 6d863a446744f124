"""Selective activation checkpointing: a policy that says, operation by operation, which results of
a non-reentrant ``checkpoint`` are kept from the forward rather than recomputed, as PyTorch's
``create_selective_checkpoint_contexts``::

    def policy(ctx, op, *args, **kwargs):
        return CheckpointPolicy.MUST_SAVE if op.__name__ == "Mm" else CheckpointPolicy.PREFER_RECOMPUTE

    checkpoint(fn, x, use_reentrant=False, context_fn=lambda: create_selective_checkpoint_contexts(policy))

The two contexts are ``OperationMode``s (``utils/operation_mode.py``): the first runs around the
checkpointed forward, calls the policy for each operation and records its verdict; the second runs
around each recomputation and meets the operations again in the same order, per kind of operation.
``op`` is the operation's Function class, chainrule's counterpart of PyTorch's ``torch.ops.aten``
overloads (``op.__name__``: ``Mul``, ``Mm``...; ``type(y.grad_fn).function`` is the one that made
``y``), and ``args``/``kwargs`` what it was called with.

As in PyTorch, a kept result must not be changed in place after the forward (RuntimeError, unless
``allow_cache_entry_mutation=True``), a region can be backpropagated once (a second recomputation
finds its kept results used: RuntimeError), and a recomputation that runs operations the forward did
not raises. Where chainrule differs: an operation computes its result and records its node in one
call, so a kept operation runs again in the recomputation too, and what it saves for backward is its
new result; for deterministic operations (and random ones, whose random state ``checkpoint``
replays) that is the same value.
"""
import enum
import weakref
from collections import defaultdict

from chainrule.autograd.function import Function
from chainrule.tensor import Tensor
from chainrule.utils.operation_mode import OperationMode

__all__ = ["CheckpointPolicy", "SelectiveCheckpointContext", "create_selective_checkpoint_contexts"]


class CheckpointPolicy(enum.Enum):
    """What to do with an operation's result: ``MUST_SAVE``/``PREFER_SAVE`` keep it from the forward,
    ``MUST_RECOMPUTE``/``PREFER_RECOMPUTE`` recompute it, ``*_CPU_OFFLOAD`` keep it on the CPU (where
    chainrule keeps everything). ``MUST`` and ``PREFER`` differ for PyTorch's compiler only."""

    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


class SelectiveCheckpointContext:
    """What the policy is told besides the operation: ``op_output``, the result it just computed,
    and ``is_recompute`` (always False: the policy is asked during the forward only)."""

    def __init__(self, *, is_recompute, op_output=None):
        self.is_recompute = is_recompute
        self.op_output = op_output


_RECOMPUTE = object()  # the verdict kept for an operation to recompute
_CONSUMED = object()  # a kept result the recomputation of this region has used already
_MISMATCH = (
    "This can happen if the operations in the checkpointed region are nondeterministic or depend on global state "
    "that changed between forward and backward."
)


class _KeptResult:
    """The result of an operation the policy keeps: the versions its tensors had, to notice a change
    made in place before the recomputation. The tensors are held until the forward ends (one that
    dies inside it is looked at then), and weakly after: the storage must not keep the graph alive."""

    def __init__(self, outputs):
        self.tensors = [each for each in (outputs if isinstance(outputs, tuple) else (outputs,)) if isinstance(each, Tensor)]
        self.versions = [tensor._version for tensor in self.tensors]
        self.mutated = False

    def forward_ended(self):
        if self.tensors and type(self.tensors[0]) is weakref.ref:  # a context entered again: looked at already
            return
        self.mutated = any(tensor._version != version for tensor, version in zip(self.tensors, self.versions))
        self.tensors = [weakref.ref(tensor) for tensor in self.tensors]

    def check_unchanged(self):
        alive = [reference() for reference in self.tensors] if not self.mutated else []
        if self.mutated or any(tensor is not None and tensor._version != version for tensor, version in zip(alive, self.versions)):
            raise RuntimeError("Tensor cached during selective activation checkpoint has been mutated")


class _CachingMode(OperationMode):
    """Around the checkpointed forward: asks the policy about each operation and records the verdict
    under (operation, how many of its kind came before)."""

    def __init__(self, policy_fn, storage):
        self.policy_fn = policy_fn
        self.storage = storage
        self.counts = defaultdict(int)

    def run_operation(self, op, args, kwargs, run):
        outputs = run()
        index = self.counts[op]
        self.counts[op] += 1
        policy = self.policy_fn(SelectiveCheckpointContext(is_recompute=False, op_output=outputs), op, *args, **kwargs)
        if isinstance(policy, bool):  # PyTorch's older form: True saves
            policy = CheckpointPolicy.MUST_SAVE if policy else CheckpointPolicy.PREFER_RECOMPUTE
        saved = policy in (CheckpointPolicy.MUST_SAVE, CheckpointPolicy.PREFER_SAVE)
        self.storage[op][index] = _KeptResult(outputs) if saved else _RECOMPUTE
        return outputs

    def __exit__(self, *exception):
        for kept in self.storage.values():
            for entry in kept.values():
                if type(entry) is _KeptResult:
                    entry.forward_ended()
        return super().__exit__(*exception)


class _CachedMode(OperationMode):
    """Around each recomputation: meets the forward's operations again, in order, and takes up what
    the forward kept for them."""

    def __init__(self, storage, allow_cache_entry_mutation):
        self.storage = storage
        self.allow_cache_entry_mutation = allow_cache_entry_mutation
        self.counts = defaultdict(int)

    def __enter__(self):
        self.counts.clear()  # each recomputation starts over
        return super().__enter__()

    def run_operation(self, op, args, kwargs, run):
        index = self.counts[op]
        self.counts[op] += 1
        kept = self.storage.get(op)
        if kept is None:
            raise RuntimeError(f"{op.__name__} encountered during backward but not found in storage. {_MISMATCH}")
        entry = kept.get(index)
        if entry is None:
            raise RuntimeError(
                f"{op.__name__} invocation index {index} encountered during backward but not found in storage. {_MISMATCH}"
            )
        if entry is _CONSUMED:
            raise RuntimeError(
                "Trying to backward an extra time. You are only allowed to backward once on any region computed under "
                "selective activation checkpoint."
            )
        if entry is not _RECOMPUTE:
            kept[index] = _CONSUMED
            if not self.allow_cache_entry_mutation:
                entry.check_unchanged()
        return run()


def create_selective_checkpoint_contexts(policy_fn_or_list, allow_cache_entry_mutation=False):
    """The two contexts for ``checkpoint(..., context_fn=...)`` that apply a policy: a function
    ``policy(ctx, op, *args, **kwargs)`` returning a ``CheckpointPolicy`` (or a bool: True saves), or
    a list of operations (Function classes) to save, all others being recomputed."""
    if isinstance(policy_fn_or_list, list):
        for op in policy_fn_or_list:
            if not (isinstance(op, type) and issubclass(op, Function)):
                raise ValueError(
                    f"Expected op in `op_list` to be an operation (a Function class, such as type(y.grad_fn).function) "
                    f"but got: {op} of type {type(op)}."
                )
        operations = tuple(policy_fn_or_list)

        def policy_fn(ctx, op, *args, **kwargs):
            return CheckpointPolicy.MUST_SAVE if op in operations else CheckpointPolicy.PREFER_RECOMPUTE
    elif callable(policy_fn_or_list):
        policy_fn = policy_fn_or_list
    else:
        raise TypeError("policy_fn_or_list must be either a function or a list of ops.")
    storage = defaultdict(dict)
    return _CachingMode(policy_fn, storage), _CachedMode(storage, allow_cache_entry_mutation)
