"""``torch.utils.checkpoint``: trade compute for memory by recomputing a segment's forward in backward.

``checkpoint(function, *args, use_reentrant=...)`` returns what ``function(*args)`` returns, but
keeps none of the tensors the segment's operations save for backward: backward runs the segment
again (with the random state it had, so dropout draws the same masks) to get them. Results and
gradients are those of ``function(*args)`` itself. The two variants are PyTorch's:

- ``use_reentrant=False`` (recommended). The segment runs with its graph, so its outputs are its
  own (``MulBackward0``...; one that depends on no tensor requiring grad requires none), under
  saved-tensor hooks (``autograd.graph.saved_tensors_hooks``) that keep an empty ``_Holder`` in
  place of each tensor a node saves. The first node of a backward pass that unpacks one runs the
  segment again under the recomputation hooks, which fill that pass's holders in order, stop as
  soon as all are filled (``early_stop``), and check that the recomputed tensors have the shapes
  and dtypes of the saved ones (``determinism_check``, ``CheckpointError`` otherwise). The inputs
  are saved by a node of their own (``_SaveInputs``, never in a backward pass): a change made in
  place to one after the checkpoint is refused at backward, and the inputs of a checkpoint nested
  in another are held, and recomputed, by the outer one. A second backward without
  ``retain_graph`` finds the segment's nodes freed, ``create_graph`` differentiates the recomputed
  values as saved ones, and ``autograd.grad`` works.
- ``use_reentrant=True``. One node, ``CheckpointFunction``, runs the segment under ``no_grad``; its
  backward runs it again with grad and calls ``backward`` on that recomputation from inside the
  backward pass, so the gradients of tensors the segment used without receiving them (parameters)
  accumulate there. Only the tensors of a returned tuple (or a returned tensor) get a gradient,
  ``autograd.grad`` and ``backward(inputs=...)`` through it raise, and a second ``backward`` needs
  ``retain_graph``, as in PyTorch.

``context_fn`` gives two context managers, entered around the forward and around each
recomputation: ``create_selective_checkpoint_contexts`` (``selective_checkpoint.py``) makes a pair.
``debug=True`` (or ``set_checkpoint_debug_enabled(True)``) logs the operations of both runs and
shows them in the ``CheckpointError``. chainrule computes on the CPU only: there is no device random
state to replay; the CPU autocast state of the forward is replayed in the recomputation, as PyTorch's.
"""
import contextlib
import itertools
import os
import traceback
import warnings
import weakref
from collections import defaultdict

from chainrule.autograd.backward_pass import backward as backward_from
from chainrule.autograd.engine import BackwardPass
from chainrule.autograd.function import Function, not_replayable
from chainrule.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from chainrule.autograd.graph import saved_tensors_hooks
from chainrule.creation import empty
from chainrule.random import fork_rng, get_rng_state, set_rng_state
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.utils.operation_mode import OperationMode
from chainrule.utils.selective_checkpoint import (
    CheckpointPolicy, SelectiveCheckpointContext, create_selective_checkpoint_contexts,
)

__all__ = [
    "checkpoint",
    "checkpoint_sequential",
    "CheckpointError",
    "CheckpointFunction",
    "check_backward_validity",
    "detach_variable",
    "noop_context_fn",
    "set_checkpoint_early_stop",
    "set_checkpoint_debug_enabled",
    "CheckpointPolicy",
    "SelectiveCheckpointContext",
    "create_selective_checkpoint_contexts",
]


class CheckpointError(RuntimeError):
    """A recomputation that does not match the forward it replays (other saved tensors)."""


_checkpoint_debug_enabled = None  # set_checkpoint_debug_enabled's value: None defers to each call's debug
_enable_checkpoint_early_stop = None  # set_checkpoint_early_stop's value: None defers to each call's early_stop


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """Within the block, every non-reentrant checkpoint runs with ``debug=enabled`` whatever it was
    given (``None``: each call's own ``debug``)."""
    global _checkpoint_debug_enabled
    previous = _checkpoint_debug_enabled
    try:
        _checkpoint_debug_enabled = enabled
        yield
    finally:
        _checkpoint_debug_enabled = previous


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    """Within the block, non-reentrant checkpoints are made with ``early_stop=enable`` (whether a
    recomputation stops once it has every tensor backward needs). Only the forward needs to run in
    the block: the checkpoint keeps the setting for its backward."""
    global _enable_checkpoint_early_stop
    previous = _enable_checkpoint_early_stop
    try:
        _enable_checkpoint_early_stop = enable
        yield
    finally:
        _enable_checkpoint_early_stop = previous


def noop_context_fn():
    """The default ``context_fn``: two context managers that do nothing."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    """``inputs`` (a tuple) with each tensor replaced by a detached one that requires grad when it
    did: the leaves a recomputation starts from."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    detached = []
    for value in inputs:
        if isinstance(value, Tensor):
            copy = value.detach()
            copy.requires_grad = value.requires_grad
            value = copy
        detached.append(value)
    return tuple(detached)


def check_backward_validity(inputs):
    """PyTorch's warning for a reentrant checkpoint none of whose tensor inputs requires grad."""
    if not any(value.requires_grad for value in inputs if isinstance(value, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


# ----------------------------------------------------------------------------- use_reentrant=True
class CheckpointFunction(Function):
    """The node of a reentrant checkpoint: ``forward`` runs ``run_function(*args)`` under no_grad
    and saves the tensor arguments; ``backward`` runs it again on detached copies of them, with grad
    and the forward's random state, and backpropagates through that."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        if preserve_rng_state:
            ctx.fwd_cpu_state = get_rng_state()
        ctx.autocast_state = _autocast_state()
        ctx.inputs = [None if isinstance(value, Tensor) else value for value in args]
        ctx.tensor_indices = [index for index, value in enumerate(args) if isinstance(value, Tensor)]
        ctx.save_for_backward(*[value for value in args if isinstance(value, Tensor)])
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        current = BackwardPass.current
        if current is not None and not current.runs_every_node:
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing an `inputs` "
                "parameter to .backward(). To resolve this error, you can either set use_reentrant=False, or call "
                ".backward() without passing the `inputs` argument."
            )
        inputs = list(ctx.inputs)
        for index, tensor in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[index] = tensor
        with fork_rng(enabled=ctx.preserve_rng_state):
            if ctx.preserve_rng_state:
                set_rng_state(ctx.fwd_cpu_state)
            detached_inputs = detach_variable(tuple(inputs))
            with enable_grad(), ctx.autocast_state():
                outputs = ctx.run_function(*detached_inputs)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        with_grad = [(output, grad) for output, grad in zip(outputs, grad_outputs) if isinstance(output, Tensor) and output.requires_grad]
        if not with_grad:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        backward_from(*zip(*with_grad))  # (the outputs that require grad, their gradients)
        return (None, None, *[value.grad if isinstance(value, Tensor) else None for value in detached_inputs])


# ----------------------------------------------------------------------------- use_reentrant=False
class _SaveInputs(Function):
    """The node that saves a non-reentrant checkpoint's tensor arguments, as PyTorch's
    SavedVariables of them: ``anchor`` (an empty tensor that requires grad) makes it recorded
    whatever the arguments. It is kept by the checkpoint alone, never reached by a backward pass."""

    @staticmethod
    def forward(ctx, anchor, *tensors):
        ctx.save_for_backward(*tensors)
        return anchor

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise AssertionError("Did not expect to backward on this graph")


class _Handle:
    """The key of one recomputed tensor in its frame's ``recomputed``: dropped once unpacked."""


class _Holder:
    """What a node keeps in place of a tensor saved inside a checkpoint: for each backward pass
    (by its number) the handle of that pass's recomputed tensor, None once unpacked."""

    def __init__(self):
        self.handles = {}


class _StopRecomputationError(Exception):
    """Raised by the recomputation hook once every holder is filled: the rest need not run."""


class _CheckpointFrame:
    """One non-reentrant checkpoint: how to recompute it, its inputs (``_SaveInputs``' node), the
    holders its forward saved (weakly: a node freed by backward frees its holder) with their
    metadata, and per backward pass the recomputed tensors."""

    def __init__(self, recompute_fn, early_stop, unpack_error_cb, metadata_fn):
        self.recompute_fn = recompute_fn
        self.arguments = []  # the arguments, with None where the saver holds a tensor
        self.tensor_positions = []
        self.input_saver = None
        self.weak_holders = []
        self.recomputed = defaultdict(weakref.WeakKeyDictionary)  # pass number -> {handle: tensor}
        self.recomp_counter = defaultdict(int)
        self.is_recomputed = defaultdict(bool)
        self.early_stop = early_stop
        self.metadata_fn = metadata_fn
        self.unpack_error_cb = unpack_error_cb
        self.x_metadatas = []
        self.forward_completed = False
        self.ignore_saved_mismatch = False

    def save_inputs(self, args):
        self.arguments = [None if isinstance(value, Tensor) else value for value in args]
        self.tensor_positions = [index for index, value in enumerate(args) if isinstance(value, Tensor)]
        anchor = empty(0, requires_grad=True)
        self.input_saver = _SaveInputs.apply(anchor, *[value for value in args if isinstance(value, Tensor)]).grad_fn

    def get_inputs(self):
        """The arguments again, their tensors read from the saver (checked for in-place changes)."""
        arguments = list(self.arguments)
        for index, tensor in zip(self.tensor_positions, self.input_saver.saved_tensors):
            arguments[index] = tensor
        return arguments

    def check_recomputed_tensors_match(self, gid):
        if self.ignore_saved_mismatch:
            return
        if len(self.weak_holders) != self.recomp_counter[gid]:
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of tensors was saved during the original forward and "
                f"recomputation.\nNumber of tensors saved during forward: {len(self.weak_holders)}\nNumber of tensors "
                f"saved during recomputation: {self.recomp_counter[gid]}.\n{_DEBUG_TIP}"
            )
        different = []
        for index, weak_holder in enumerate(self.weak_holders):
            holder = weak_holder()
            if holder is None:
                continue
            recomputed = self.metadata_fn(self.recomputed[gid][holder.handles[gid]])
            if self.x_metadatas[index] != recomputed:
                different.append(f"tensor at position {index}:\nsaved metadata: {self.x_metadatas[index]}\n"
                                 f"recomputed metadata: {recomputed}\n")
        if different:
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values for the following tensors have different metadata than "
                f"during the forward pass.\n{''.join(different)}.\n{_DEBUG_TIP}"
            )


_DEBUG_TIP = (
    "Tip: To see a more detailed error message, either pass `debug=True` to "
    "`chainrule.utils.checkpoint.checkpoint(...)` or wrap the code block with "
    "`with chainrule.utils.checkpoint.set_checkpoint_debug_enabled(True):` to enable checkpoint-debug mode globally."
)

_unpacks_outside_backward = itertools.count(1)


def _pass_number():
    """The backward pass running now, by number (PyTorch's graph task id); outside one (a saved
    tensor read by hand), a new number each time."""
    current = BackwardPass.current
    return current.number if current is not None else -next(_unpacks_outside_backward)


class _checkpoint_hook(saved_tensors_hooks):  # noqa: N801 (PyTorch's name)
    """The hooks of a checkpoint's forward: each saved tensor becomes an empty holder, filled by
    recomputation when backward unpacks it."""

    def __init__(self, frame):
        def pack_hook(tensor):
            holder = _Holder()
            frame.weak_holders.append(weakref.ref(holder))
            if frame.metadata_fn is not None:
                frame.x_metadatas.append(frame.metadata_fn(tensor))
            return holder

        def unpack_hook(holder):
            gid = _pass_number()
            if not frame.is_recomputed[gid]:
                args = frame.get_inputs()
                try:
                    with _recomputation_hook(weakref.ref(frame), gid), enable_grad():
                        frame.recompute_fn(*args)
                except _StopRecomputationError:
                    pass
                frame.is_recomputed[gid] = True
                frame.check_recomputed_tensors_match(gid)
            if gid not in holder.handles:
                raise AssertionError(
                    "Something went unexpectedly wrong in activation checkpoint: a saved tensor was not recomputed. "
                    "Please report this bug."
                )
            handle = holder.handles[gid]
            if handle is None:
                raise CheckpointError(
                    "torch.utils.checkpoint: Unpack is being triggered for a tensor that was already unpacked once. If "
                    "you are calling ctx.saved_tensors in backward, make sure to do so only once. Otherwise please open "
                    "an issue with details on your use case."
                )
            holder.handles[gid] = None
            return frame.recomputed[gid].pop(handle)

        if frame.unpack_error_cb is not None:
            def unpack_hook_with_error_cb(holder):
                try:
                    return unpack_hook(holder)
                except CheckpointError as error:
                    frame.unpack_error_cb(error)  # raises a CheckpointError with the logs

            super().__init__(pack_hook, unpack_hook_with_error_cb)
        else:
            super().__init__(pack_hook, unpack_hook)


class _recomputation_hook(saved_tensors_hooks):  # noqa: N801 (PyTorch's name)
    """The hooks of a recomputation: the n-th tensor saved fills the n-th holder of the forward for
    backward pass ``gid``; once the last is filled the recomputation stops (``early_stop``)."""

    def __init__(self, target_frame_ref, gid):
        def pack_hook(tensor):
            # A new tensor on the same values, not ``detach()`` (which would hold the recomputed graph alive).
            tensor = tensor_from_array(tensor._array) if tensor.requires_grad else tensor
            frame = target_frame_ref()
            index = frame.recomp_counter[gid]
            frame.recomp_counter[gid] += 1
            if index >= len(frame.weak_holders):
                if not frame.forward_completed:  # a backward inside the checkpointed function, early stop off
                    frame.ignore_saved_mismatch = True
                    return tensor
                raise CheckpointError(
                    "torch.utils.checkpoint: trying to save more tensors during recomputation than during the original "
                    f"forward pass.\n{_DEBUG_TIP}"
                )
            holder = frame.weak_holders[index]()
            if holder is not None:  # None: freed already, by a backward inside the checkpointed function
                handle = holder.handles[gid] = _Handle()
                frame.recomputed[gid][handle] = tensor
            if frame.early_stop and frame.recomp_counter[gid] == len(frame.weak_holders):
                raise _StopRecomputationError
            return tensor

        super().__init__(pack_hook, lambda tensor: tensor)


def _shape_dtype_device(tensor):
    return {"shape": tensor.shape, "dtype": tensor.dtype, "device": tensor.device}


_METADATA_FUNCTIONS = {"default": _shape_dtype_device, "none": lambda tensor: None}


def _autocast_state():
    """A function giving a context that puts back the CPU autocast state of now (enabled, dtype,
    cache), for a recomputation to cast as the forward did."""
    from chainrule.amp import autocast_mode as amp  # it imports the operations; checkpoint is imported before them

    enabled = amp.is_autocast_enabled("cpu")
    if not enabled:
        return contextlib.nullcontext
    dtype, cache_enabled = amp.get_autocast_dtype("cpu"), amp.is_autocast_cache_enabled()
    return lambda: amp.autocast("cpu", dtype=dtype, enabled=True, cache_enabled=cache_enabled)


def _checkpoint_without_reentrant(function, preserve_rng_state, context_fn, determinism_check, debug, early_stop,
                                  args, kwargs):
    unpack_error_cb = None
    if _checkpoint_debug_enabled if _checkpoint_debug_enabled is not None else debug:
        if context_fn is not noop_context_fn:
            raise ValueError("debug=True is incompatible with non-default context_fn")
        context_fn, unpack_error_cb = _debug_context_and_error()
    if determinism_check not in _METADATA_FUNCTIONS:
        raise ValueError(
            f"determinism_check should be one of {list(_METADATA_FUNCTIONS)}, but got {determinism_check}"
        )
    forward_context, recompute_context = context_fn()
    forward_rng_state = get_rng_state() if preserve_rng_state else None
    forward_autocast = _autocast_state()

    def recompute_fn(*inputs):
        with fork_rng(enabled=preserve_rng_state):
            if preserve_rng_state:
                set_rng_state(forward_rng_state)
            with forward_autocast(), recompute_context:
                function(*inputs, **kwargs)

    stop_early = _enable_checkpoint_early_stop if _enable_checkpoint_early_stop is not None else early_stop
    frame = _CheckpointFrame(recompute_fn, stop_early, unpack_error_cb, _METADATA_FUNCTIONS[determinism_check])
    if not is_grad_enabled():
        return function(*args, **kwargs)
    frame.save_inputs(args)
    completed = False
    with _checkpoint_hook(frame), forward_context:
        outputs = function(*args, **kwargs)
        completed = True
    if not completed:
        raise RuntimeError(
            "torch.utils.checkpoint: the forward context provided by context_fn suppressed an exception raised during "
            "the checkpointed forward. This is not supported because checkpoint cannot return a value for a failed "
            "forward."
        )
    frame.forward_completed = True
    return outputs


# ----------------------------------------------------------------------------- debug=True
_CHAINRULE_DIRECTORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _OperationLog(OperationMode):
    """Under ``debug=True``: each operation a run performs, and the lines of user code that called it."""

    def __init__(self):
        self.lines, self.stacks = [], []

    def __enter__(self):
        self.lines, self.stacks = [], []
        return super().__enter__()

    def run_operation(self, op, args, kwargs, run):
        called = f"{op.__name__}({', '.join(_described(value) for value in args)})"
        position = len(self.lines)
        self.lines.append(called)
        self.stacks.append([
            f"{frame.filename}:{frame.lineno}:{frame.name}" for frame in traceback.extract_stack()[:-1]
            if not os.path.abspath(frame.filename).startswith(_CHAINRULE_DIRECTORY)
        ])
        outputs = run()
        each = outputs if isinstance(outputs, tuple) else (outputs,)
        self.lines[position] = f"{called} -> {', '.join(_described(value) for value in each)}"
        return outputs

    def traces(self, label):
        return "".join(
            f"{line}   ({number} of {len(self.lines)} in {label})\n" + "".join(place + "\n" for place in stack) + "\n\n"
            for number, (line, stack) in enumerate(zip(self.lines, self.stacks), start=1)
        )


def _described(value):
    if isinstance(value, Tensor):
        return f"{str(value.dtype).split('.')[-1]}{list(value.shape)}"
    return repr(value)


def _debug_context_and_error():
    """``(context_fn, unpack_error_cb)`` of ``debug=True``: the operations of the forward and of the
    latest recomputation are logged, and a ``CheckpointError`` is raised again with both logs."""
    forward_log, recompute_log = _OperationLog(), _OperationLog()

    def unpack_error_cb(error):
        raise CheckpointError(
            "An error happened while unpacking tensors; dumping logs of latest computation because you passed "
            "`debug=True` to `chainrule.utils.checkpoint.checkpoint()`.\n\n"
            "1. Stack traces of the operators that ran in the original forward\n\n" + forward_log.traces("original")
            + "2. Stack traces of the operators that ran during recomputation\n\n" + recompute_log.traces("recompute")
            + "3. Log of operators in the original forward and recomputation\n\n"
            "Operations executed during the original forward:\n\n" + "\n".join(forward_log.lines)
            + "\n\nOperations executed during recomputation:\n\n" + "\n".join(recompute_log.lines)
            + "\n\nERROR: Detected non-determinism while running activation checkpointing: the tensors saved during "
            "the original forward differ from those saved during recomputation. Compare the operations of the two "
            f"runs above to see where they part.\n\n{error}"
        ) from error

    return (lambda: (forward_log, recompute_log)), unpack_error_cb


# ----------------------------------------------------------------------------- the two entry points
def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """``function(*args, **kwargs)``, the tensors its operations save for backward recomputed in
    backward instead of kept (see the module docstring for the two variants).

    ``use_reentrant`` should be given (PyTorch warns when it is not, then uses True);
    ``preserve_rng_state=True`` (a keyword) replays the random state in the recomputation. Keyword
    arguments for ``function``, ``context_fn``, ``determinism_check`` ("default" compares the
    recomputed tensors' shapes, dtypes and devices, "none" does not), ``debug`` and ``early_stop``
    are for the non-reentrant variant.
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting "
            "in PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
            "use_reentrant=False is recommended, but if you need to preserve the current default "
            "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
            "differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        not_replayable("runs a reentrant checkpoint, whose backward runs a backward pass of its own")
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, debug, early_stop, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (an ``nn.Sequential`` or a list of modules or functions) in ``segments``
    pieces, checkpointing all but the last piece, as PyTorch does."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
            "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
            "use_reentrant=False is recommended, but if you need to preserve the current default "
            "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
            "differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    from chainrule.nn.container import Sequential  # utils loads before nn

    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def run(start, end):
        def forward(value):
            for index in range(start, end + 1):
                value = functions[index](value)
            return value

        return forward

    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
