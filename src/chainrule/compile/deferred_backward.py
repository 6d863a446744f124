"""A compiled call whose backward comes later: ``model = chainrule.compile(model)``, as in PyTorch.

::

    model = chainrule.compile(model)
    loss = loss_fn(model(inputs), targets)   # the compiled forward: a program
    loss.backward()                          # its recorded backward: one node of the graph

The recorder (``Recorder._defer_backward``) writes the backward of the call's outputs into the
program as a function, ``backward_of_call``, that returns each leaf's gradient (the parameters',
an input's that requires grad). The program hands its outputs to ``with_backward_of_call``, which
puts one node between them and those leaves, ``CompiledFunctionBackward`` as PyTorch names it; the
engine runs it as any node and accumulates what it returns into ``.grad``, running the leaves'
hooks as eagerly.

A program keeps each operation's saved values in one context per operation, shared by its calls
(``replay.ReplayContext``): a second call before the first one's backward would overwrite what
that backward reads. ``DeferredCalls`` knows whether the last call's node still waits for its
backward; while it does, the compiled function runs the next call eagerly (``busy``).
"""
import weakref

from chainrule.autograd import grad_mode
from chainrule.autograd.engine import run_backward
from chainrule.autograd.function import AccumulateGrad, BackwardNode, Function, modified_in_place_error, tensor_type_name
from chainrule.backend import xp
from chainrule.tensor import Tensor, tensor_from_array


class _NodeOfCall(BackwardNode):
    """The node of a compiled call: what it keeps is the backward function (and through it the
    forward's values), dropped after a backward pass that does not retain the graph."""

    read_versions = ()  # (tensor, version): what the backward reads, as the call left it

    def release(self):
        self.backward_of_call = None
        self.read_versions = ()
        self._freed = True


class CompiledCall(Function):
    """The outputs of a compiled call, linked to the leaves their gradients reach (its nodes are
    named ``CompiledFunctionBackward``, as PyTorch's).

    ``forward(outputs, backward_of_call, *leaves)`` returns the arrays the program computed;
    ``backward`` returns ``backward_of_call(*output gradients)``, one gradient per leaf."""

    on_arrays = True
    node_name = "CompiledFunctionBackward"
    _node_base = _NodeOfCall

    @staticmethod
    def forward(ctx, outputs, backward_of_call, *leaves):
        ctx.backward_of_call = backward_of_call
        ctx.set_materialize_grads(False)  # an output the loss does not use gets None: see backward
        return outputs if len(outputs) > 1 else outputs[0]

    @staticmethod
    def backward(ctx, *grad_outputs):
        if grad_mode.is_grad_enabled():
            raise RuntimeError(
                "torch.compile with aot_autograd does not currently support double backward: "
                "backward(create_graph=True) through a compiled call; run the model eagerly "
                "(chainrule.compiler.set_stance('force_eager')) to differentiate its gradients"
            )
        changed = [
            f"[{tensor_type_name(tensor._array)} {list(tensor.shape)}] is at version {tensor._version}; expected version {version} instead"
            for tensor, version in ctx.read_versions if tensor._version != version
        ]
        if changed:
            raise modified_in_place_error(CompiledCall.node_name, changed)
        used = [grad is not None for grad in grad_outputs]
        if all(used):
            return (None, None, *ctx.backward_of_call(*grad_outputs))
        # Some output is not used (a second head the loss leaves out): the recorded backward takes
        # zeros for it, and a leaf that only an unused output reaches gets no gradient, as eagerly.
        zeros = [grad if grad is not None else xp.zeros(shape, dtype) for grad, (shape, dtype) in zip(grad_outputs, ctx.output_meta)]
        grads = ctx.backward_of_call(*zeros)
        return (None, None, *[grad if any(used[position] for position in reaching) else None for grad, reaching in zip(grads, ctx.reaches)])


class DeferredCalls:
    """The calls of one recording whose outputs have a backward to come: the last one's node."""

    def __init__(self):
        self._last = None

    def busy(self):
        """Whether the last call's backward has yet to run (its outputs are alive, their graph not
        freed): another call of the program now would overwrite the values it reads."""
        node = self._last() if self._last is not None else None
        return node is not None and not node._freed

    def made(self, node):
        self._last = weakref.ref(node)


def with_backward_of_call(calls, outputs, backward_of_call, leaves, reaches, read=(), outputs_read=()):
    """The program's outputs (arrays) as tensors whose backward is ``backward_of_call``.

    ``reaches``: for each leaf, the positions of the outputs whose graph reaches it. ``read``: the
    caller's tensors (arguments, parameters) whose arrays the backward reads, and ``outputs_read``:
    the positions of the outputs it reads (a tanh's). Changed in place before it runs
    (``out.mul_(2)``), they make it raise, as eager's saved tensors do."""
    tensors = CompiledCall.apply(outputs, backward_of_call, *leaves)
    tensors = tensors if type(tensors) is tuple else (tensors,)
    node = tensors[0].grad_fn
    node.reaches = reaches
    node.read_versions = [(tensor, tensor._version) for tensor in (*read, *(tensors[index] for index in outputs_read))]
    calls.made(node)
    return tensors


def first_outputs(result, outputs, leaves, reaches, outputs_read):
    """The first call's ``result`` (run eagerly while it was recorded), with ``outputs`` given
    the same single node as a program's: its backward runs the eager graph's, kept until then.
    The outputs at ``outputs_read`` were saved by the graph: changed in place, the node raises
    (the new tensors do not share the eager outputs' versions)."""
    nodes = [leaf._accumulator() for leaf in leaves]  # each leaf's AccumulateGrad, alive in the graph

    def backward_of_call(*grads):
        reached = {}

        def observe(node, grads_in, grads_out):
            if type(node) is AccumulateGrad:
                reached[node] = grads_in[0]

        run_backward(outputs, [tensor_from_array(grad) for grad in grads], True, False, {}, observe)
        return tuple(reached.get(node) for node in nodes)

    arrays = tuple(output._array for output in outputs)
    replaced = with_backward_of_call(DeferredCalls(), arrays, backward_of_call, leaves, reaches, outputs_read=outputs_read)
    by_id = {id(output): new for output, new in zip(outputs, replaced)}
    return _replaced(result, by_id)


def _replaced(value, by_id):
    if isinstance(value, Tensor):
        return by_id.get(id(value), value)
    if type(value) in (tuple, list):
        return type(value)(_replaced(item, by_id) for item in value)
    if type(value) is dict:
        return {key: _replaced(item, by_id) for key, item in value.items()}
    return value
