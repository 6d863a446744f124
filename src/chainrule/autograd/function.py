"""Function: one differentiable operation, its forward and its backward side by side.

Every operation of chainrule, and every custom operation a user writes, is a subclass::

    class Mul(Function):
        '''out = a * b;   d out / d a = b,   d out / d b = a'''

        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a.array * b.array

        @staticmethod
        def backward(ctx, grad_output):
            a, b = ctx.saved_tensors
            return grad_output * b, grad_output * a

``Mul.apply(a, b)`` runs ``forward`` with grad mode off, wraps its result in a tensor and, when an
input requires grad, records a node of the graph: an instance of ``MulBackward``, which is the
``ctx`` that ``forward`` saw and the ``grad_fn`` of the result. ``backward`` receives the gradient of
the loss with respect to each output and returns one with respect to each input of ``forward``
(``None`` for inputs that are not tensors or need none). It is written with tensor operations, so
``backward(create_graph=True)`` records the backward pass too and higher-order gradients come free.

A gradient returned with a broadcast shape is summed back to its input's shape by the engine, in
one place, so no operation repeats that work.

``forward`` may return NumPy arrays (chainrule's own operations do: it is the fast path) or tensors
(as PyTorch code does).
"""
import traceback
import weakref

from chainrule.autograd import anomaly, grad_mode


class BackwardNode:
    """A node of the graph, and the ``ctx`` of the forward call that made it.

    ``next_functions`` holds, for each input of ``forward``, the node that made that input and which
    of its outputs it was, as ``(node, output_nr)``; leaves that require grad are reached through
    their ``AccumulateGrad`` node, and inputs that need no gradient through ``(None, 0)``.
    """

    function = None  # the Function subclass this node belongs to (set for each subclass)
    needs_input_grad = ()
    next_functions = ()
    materialize_grads = True
    _saved = ()
    _saved_versions = ()
    _freed = False
    _output_hooks = None  # {output_nr: [hook, ...]} from register_hook on non-leaf outputs
    _retained = None  # {output_nr: weakref to the tensor} for retain_grad()
    _forward_trace = None  # where the node was created, kept under anomaly detection
    _non_differentiable = ()

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` for ``backward``; an in-place change to one of them is detected."""
        self._saved = tensors
        self._saved_versions = tuple(None if tensor is None else tensor._version for tensor in tensors)

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, checked to be unchanged since."""
        if self._freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or directly access saved "
                f"tensors after they have already been freed) in {self.name()}. Saved intermediate "
                f"values of the graph are freed when you call .backward() or autograd.grad(). "
                f"Specify retain_graph=True if you need to backward through the graph a second "
                f"time or if you need to access saved tensors after calling backward."
            )
        for index, (tensor, version) in enumerate(zip(self._saved, self._saved_versions)):
            if tensor is not None and tensor._version != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: saved tensor {index} of {self.name()} (shape "
                    f"{tuple(tensor.shape)}) is at version {tensor._version}; expected version "
                    f"{version} instead. Compute the in-place operation on a copy (.clone()), or "
                    f"do it after backward()."
                )
        return self._saved

    def mark_non_differentiable(self, *outputs):
        """Declare outputs (e.g. indices) that get no ``grad_fn`` and receive no gradient."""
        self._non_differentiable = tuple(id(output) for output in outputs)

    def set_materialize_grads(self, value):
        """With ``False``, ``backward`` gets ``None`` (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)

    def name(self):
        return type(self).__name__

    def register_hook(self, hook):
        raise NotImplementedError("hooks on nodes are not supported; use Tensor.register_hook")

    def release(self):
        """Free what ``forward`` saved (after a backward pass that did not retain the graph)."""
        self._saved = ()
        self._freed = True

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad(BackwardNode):
    """The node that ends a path at a leaf: adds the arriving gradient into ``variable.grad``."""

    def __init__(self, variable):
        self.variable = variable

    def release(self):
        pass


def _leaf_accumulator(tensor):
    """The leaf's ``AccumulateGrad`` node, made once and shared by every use of the leaf."""
    reference = tensor._accumulator
    node = reference() if reference is not None else None
    if node is None:
        node = AccumulateGrad(tensor)
        tensor._accumulator = weakref.ref(node)
    return node


class Function:
    """Base class of differentiable operations: subclass it with static ``forward`` and ``backward``."""

    _backward_cls = BackwardNode

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(cls.__name__ + "Backward", (BackwardNode,), {"function": cls})

    @staticmethod
    def forward(ctx, *args):
        """Compute the outputs from the inputs (tensors or other values); runs with grad mode off."""
        raise NotImplementedError("a Function subclass must define a static forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Gradients with respect to each input of ``forward``, given those of each output."""
        raise NotImplementedError("a Function subclass must define a static backward(ctx, *grad_outputs)")

    @classmethod
    def apply(cls, *args):
        """Run the operation on ``args`` and, when any input requires grad, record it in the graph."""
        ctx = cls._backward_cls()
        record = False
        if grad_mode._state.enabled:
            for arg in args:
                if isinstance(arg, Tensor) and arg._requires_grad:
                    record = True
                    break
        if record:
            grad_mode._state.enabled = False
            try:
                raw_outputs = cls.forward(ctx, *args)
            finally:
                grad_mode._state.enabled = True
        else:
            raw_outputs = cls.forward(ctx, *args)

        if type(raw_outputs) is tuple:
            outputs = tuple(_as_output(raw, args) for raw in raw_outputs)
        else:
            outputs = _as_output(raw_outputs, args)
        if not record:
            return outputs

        next_functions = []
        needs_input_grad = []
        for arg in args:
            if isinstance(arg, Tensor) and arg._requires_grad:
                needs_input_grad.append(True)
                if arg.grad_fn is not None:
                    next_functions.append((arg.grad_fn, arg._output_nr))
                else:
                    next_functions.append((_leaf_accumulator(arg), 0))
            else:
                needs_input_grad.append(False)
                next_functions.append((None, 0))
        ctx.next_functions = tuple(next_functions)
        ctx.needs_input_grad = tuple(needs_input_grad)
        ctx.input_meta = tuple(
            (arg.array.shape, arg.array.dtype) if needs else None
            for arg, needs in zip(args, needs_input_grad)
        )
        if anomaly._state.enabled:
            ctx._forward_trace = "".join(traceback.format_stack()[:-1])

        if type(outputs) is tuple:
            ctx.output_meta = tuple((output.array.shape, output.array.dtype) for output in outputs)
            for output_nr, output in enumerate(outputs):
                _attach(output, ctx, output_nr)
        else:
            ctx.output_meta = ((outputs.array.shape, outputs.array.dtype),)
            _attach(outputs, ctx, 0)
        return outputs


def _as_output(raw, args):
    """Wrap an array returned by ``forward``; a returned input becomes a new tensor sharing it."""
    if isinstance(raw, Tensor):
        for arg in args:
            if raw is arg:
                return tensor_from_array(raw.array)
        return raw
    return tensor_from_array(raw)


def _attach(output, node, output_nr):
    """Make ``output`` the ``output_nr``-th result of ``node`` (floating outputs only)."""
    if output.array.dtype.kind in "fc" and id(output) not in node._non_differentiable:
        output.grad_fn = node
        output._output_nr = output_nr
        output._requires_grad = True


# Imported last: tensor.py builds on Function.
from chainrule.tensor import Tensor, tensor_from_array  # noqa: E402
