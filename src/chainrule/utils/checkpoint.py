"""``torch.utils.checkpoint``: trade compute for memory by recomputing a segment's forward in backward.

``checkpoint(segment, x)`` returns what ``segment(x)`` returns, but keeps none of the segment's
intermediate activations: backward runs the segment again (with the random state it had, so
dropout draws the same masks) and differentiates that recomputation. Results and gradients are
those of ``segment(x)`` itself.

How: the segment runs once with its graph, the model parameters it used are found by walking that
graph, and the graph is dropped. The outputs are then the outputs of one node whose inputs are the
segment's tensor arguments and those parameters, and whose backward recomputes the segment.
Both ``use_reentrant`` values work this way (and both work with ``autograd.grad``); as in PyTorch,
``use_reentrant=True`` gives outputs that do not require grad when no tensor argument does. A
tensor that the segment uses without receiving it as an argument must be a leaf (a parameter):
gradients do not reach a computed tensor captured from outside.
"""
import warnings

from chainrule.autograd.backward_pass import grad
from chainrule.autograd.function import Function, gradient_edge
from chainrule.autograd.graph_leaves import reachable_leaves
from chainrule.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from chainrule.random import get_rng_state, set_rng_state
from chainrule.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class _Segment:
    """What backward needs to run the segment again: the function, its arguments, the random state."""

    def __init__(self, function, args, kwargs, rng_state):
        self.function, self.args, self.kwargs, self.rng_state = function, args, kwargs, rng_state
        self.parameters = []  # the leaves the segment used besides its arguments, found after it ran

    def rerun(self):
        """``(outputs, differentiable copies of the tensor arguments)``, recomputed with graph."""
        current_state = get_rng_state() if self.rng_state is not None else None
        if self.rng_state is not None:
            set_rng_state(self.rng_state)
        try:
            copies = [arg.detach().requires_grad_(arg.requires_grad) if isinstance(arg, Tensor) else arg for arg in self.args]
            with enable_grad():
                outputs = self.function(*copies, **self.kwargs)
        finally:
            if current_state is not None:
                set_rng_state(current_state)
        return _tensors_of(outputs), [copy for copy in copies if isinstance(copy, Tensor)]


def _tensors_of(outputs):
    return [output for output in (outputs if isinstance(outputs, tuple) else (outputs,)) if isinstance(output, Tensor)]


class _Recompute(Function):
    """The segment's outputs (computed already, passed in as ``values``) from one node whose inputs
    are the segment's tensor arguments and then its parameters, and whose backward recomputes it."""

    @staticmethod
    def forward(ctx, segment, values, *inputs):
        ctx.segment = segment
        return tuple(values)

    @staticmethod
    def backward(ctx, *grad_outputs):
        create_graph = is_grad_enabled()
        outputs, copies = ctx.segment.rerun()
        wanted = [copy for copy in copies if copy.requires_grad] + ctx.segment.parameters
        pairs = [(output, seed) for output, seed in zip(outputs, grad_outputs) if output.requires_grad and seed is not None]
        gradients = [None] * len(wanted)
        if pairs and wanted:
            with enable_grad():
                kept_outputs, seeds = zip(*pairs)
                gradients = grad(kept_outputs, wanted, seeds, create_graph=create_graph, allow_unused=True)
        gradients = iter(gradients)
        for_arguments = [next(gradients) if copy.requires_grad else None for copy in copies]
        return (None, None, *for_arguments, *gradients)


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               early_stop=True, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)``, its activations recomputed in backward instead of kept.

    ``use_reentrant`` should be given (PyTorch warns when it is not, then uses True);
    ``preserve_rng_state`` replays the random state for the recomputation. ``context_fn``,
    ``determinism_check``, ``debug`` and ``early_stop`` are accepted and change nothing.
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
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not None or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
    if not is_grad_enabled():
        return function(*args, **kwargs)
    tensor_args = [arg for arg in args if isinstance(arg, Tensor)]
    if use_reentrant and not any(arg.requires_grad for arg in tensor_args):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)
        with no_grad():
            return function(*args, **kwargs)
    segment = _Segment(function, args, kwargs, get_rng_state() if preserve_rng_state else None)
    outputs = function(*args, **kwargs)
    output_tensors = _tensors_of(outputs)
    argument_nodes = [gradient_edge(arg)[0] for arg in tensor_args if arg.requires_grad]
    leaves = reachable_leaves(output_tensors, stop_at=argument_nodes)
    segment.parameters = [leaf for leaf in leaves if not any(leaf is arg for arg in tensor_args)]
    values = [output.detach() for output in output_tensors]
    recomputed = iter(_Recompute.apply(segment, values, *tensor_args, *segment.parameters))
    if isinstance(outputs, tuple):
        return tuple(next(recomputed) if isinstance(output, Tensor) else output for output in outputs)
    return next(recomputed) if isinstance(outputs, Tensor) else outputs


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a list or ``nn.Sequential``) in ``segments`` pieces, checkpointing all but
    the last piece, as PyTorch does."""
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
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
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
