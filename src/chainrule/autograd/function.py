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
from chainrule.backend import ndarray


class BackwardNode:
    """A node of the graph, and the ``ctx`` of the forward call that made it.

    ``next_functions`` holds, for each input of ``forward``, the node that made that input and which
    of its outputs it was, as ``(node, output_nr)``; leaves that require grad are reached through
    their ``AccumulateGrad`` node, and inputs that need no gradient through ``(None, 0)``.

    The bookkeeping is kept small on purpose (a few objects per node): a graph has one node per
    operation, and every object Python's garbage collector tracks makes training slower.
    """

    function = None  # the Function subclass this node belongs to (set for each subclass)
    needs_input_grad = ()
    next_nodes = ()  # per input: the node its gradient goes to (None when it needs none)
    next_output_nrs = ()  # per input: which output of that node the input was
    materialize_grads = True
    _input_meta = ()  # per input: (shape, dtype) where it differs from the output's, else None
    _output_shape = ()
    _output_dtype = None
    _multi_output_meta = None  # ((shape, dtype), ...) for nodes with several outputs
    _saved = ()
    _saved_version_sum = 0
    _freed = False
    _keeps_values = False  # whether forward kept values on ctx (release then looks for arrays among them)
    _output_hooks = None  # {output_nr: [hook, ...]} from register_hook on non-leaf outputs
    _retained = None  # {output_nr: weakref to the tensor} for retain_grad()
    _forward_trace = None  # where the node was created, kept under anomaly detection
    _output_names = None  # {output_nr: name} for outputs the user named (see Tensor.name)
    _non_differentiable = ()

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` for ``backward``; an in-place change to one of them is detected.

        Versions only grow, so one sum of the saved tensors' versions tells whether any changed.
        """
        self._saved = tensors
        version_sum = 0
        for tensor in tensors:
            if tensor is not None:
                version_sum += (tensor._base if tensor._base is not None else tensor)._version
        self._saved_version_sum = version_sum

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, checked to be unchanged since."""
        if self._freed:
            raise self.freed_error()
        version_sum = 0
        for tensor in self._saved:
            if tensor is not None:
                version_sum += (tensor._base if tensor._base is not None else tensor)._version
        if version_sum != self._saved_version_sum:
            changed = ", ".join(
                f"saved tensor {index} (shape {tuple(tensor.shape)}, now at version {tensor._version_owner._version})"
                for index, tensor in enumerate(self._saved)
                if tensor is not None and tensor._version_owner._version
            )
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: {self.name()} saved tensors that changed since: {changed}. "
                f"Compute the in-place operation on a copy (.clone()), or do it after backward()."
            )
        return self._saved

    def operands(self, *values):
        """The values a backward formula computes with: arrays in a plain ``backward()``, tensors
        when the backward pass is itself recorded (``create_graph=True``).

        A formula written with the operators arrays and tensors share (``+ - * / @ .T .sum
        .reshape``) then serves both: NumPy runs it directly when no graph is needed, and it is
        recorded, for higher-order gradients, when one is. ``None`` stays ``None``.
        """
        if grad_mode._state.enabled:
            return values
        return tuple([value.array if isinstance(value, Tensor) else value for value in values])

    @property
    def next_functions(self):
        """``((node, output_nr), ...)`` per input, as PyTorch's ``grad_fn.next_functions``."""
        return tuple(zip(self.next_nodes, self.next_output_nrs))

    @property
    def output_meta(self):
        """``((shape, dtype), ...)``: what each output of the node looked like."""
        if self._multi_output_meta is not None:
            return self._multi_output_meta
        return ((self._output_shape, self._output_dtype),)

    @property
    def input_meta(self):
        """``(shape, dtype)`` of each input that needs a gradient (``None`` for the others)."""
        return tuple(
            None if next_node is None else meta if meta is not None else (self._output_shape, self._output_dtype)
            for next_node, meta in zip(self.next_nodes, self._input_meta)
        )

    def mark_non_differentiable(self, *outputs):
        """Declare outputs (e.g. indices) that get no ``grad_fn`` and receive no gradient."""
        self._non_differentiable = tuple(id(output) for output in outputs)

    def set_materialize_grads(self, value):
        """With ``False``, ``backward`` gets ``None`` (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)

    def name(self):
        return type(self).__name__

    def release(self):
        """Free what ``forward`` kept for backward, after a backward pass that did not retain the
        graph: the saved tensors, and the arrays kept on ctx (a softmax, a mask).

        A loss kept after backward (``losses.append(loss)``) then holds no activation-sized
        arrays, as in PyTorch. A node that kept none of these can be run again.
        """
        arrays = ()
        if self._keeps_values:
            kept = self.__dict__
            arrays = [name for name, value in kept.items() if type(value) is ndarray]
            for name in arrays:
                del kept[name]
        if self._saved or arrays:
            self._saved = ()
            self._freed = True

    def freed_error(self):
        """The error for a second backward through this node after ``release``."""
        return RuntimeError(
            f"Trying to backward through the graph a second time (or directly access saved "
            f"tensors after they have already been freed) in {self.name()}. Saved intermediate "
            f"values of the graph are freed when you call .backward() or autograd.grad(). "
            f"Specify retain_graph=True if you need to backward through the graph a second "
            f"time or if you need to access saved tensors after calling backward."
        )

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad(BackwardNode):
    """The node that ends a path at a leaf: adds the arriving gradient into ``variable.grad``."""

    def __init__(self, variable):
        self.variable = variable


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
        if grad_mode._state.enabled:
            for arg in args:
                if isinstance(arg, Tensor) and arg._requires_grad:
                    return cls._apply_recorded(args)
        raw_outputs = cls.forward(_UnrecordedContext(), *args)
        if type(raw_outputs) is tuple:
            return tuple(_as_output(raw, args) for raw in raw_outputs)
        return _as_output(raw_outputs, args)

    @classmethod
    def _apply_recorded(cls, args):
        """``apply`` for inputs that require grad: run forward, then link the new node to its inputs."""
        ctx = cls._backward_cls()
        next_nodes = []
        mask = 0
        from_later_outputs = False
        for position, arg in enumerate(args):
            if isinstance(arg, Tensor) and arg._requires_grad:
                node = arg.grad_fn
                if node is None:
                    node = _leaf_accumulator(arg)
                elif arg._output_nr:
                    from_later_outputs = True
                next_nodes.append(node)
                mask |= 1 << position
            else:
                next_nodes.append(None)
        count = len(args)
        needs_input_grad = _NEEDS_INPUT_GRAD.get((mask, count))
        if needs_input_grad is None:
            needs_input_grad = tuple(bool(mask >> i & 1) for i in range(count))
            if len(_NEEDS_INPUT_GRAD) < 4096:
                _NEEDS_INPUT_GRAD[(mask, count)] = needs_input_grad
        ctx.needs_input_grad = needs_input_grad
        grad_mode._state.enabled = False
        try:
            raw_outputs = cls.forward(ctx, *args)
        finally:
            grad_mode._state.enabled = True
        kept = ctx.__dict__
        if len(kept) > (3 if "_saved" in kept else 1):  # values besides needs_input_grad and the saved tensors
            ctx._keeps_values = True
        ctx.next_nodes = tuple(next_nodes)
        if from_later_outputs:
            ctx.next_output_nrs = tuple(arg._output_nr if node is not None else 0 for arg, node in zip(args, next_nodes))
        else:
            ctx.next_output_nrs = _ALL_LIKE_OUTPUT_NRS[count] if count < _SHARED_UP_TO else (0,) * count
        if anomaly._state.enabled:
            ctx._forward_trace = "".join(traceback.format_stack()[:-2])

        if type(raw_outputs) is tuple:
            outputs = tuple(_as_output(raw, args) for raw in raw_outputs)
            ctx._multi_output_meta = tuple((output.array.shape, output.array.dtype) for output in outputs)
            ctx._input_meta = [_meta(arg) if node is not None else None for arg, node in zip(args, next_nodes)]
            for output_nr, output in enumerate(outputs):
                _attach(output, ctx, output_nr)
            return outputs

        output = _as_output(raw_outputs, args)
        array = output.array
        shape = _SHAPES.get(array.shape) or _interned_shape(array.shape)
        dtype = array.dtype
        ctx._output_shape = shape
        ctx._output_dtype = dtype
        # Only inputs that differ from the output (broadcast, or another dtype) need their own record.
        input_meta = None
        for position, node in enumerate(next_nodes):
            if node is not None:
                input_array = args[position].array
                if input_array.shape != shape or input_array.dtype != dtype:
                    if input_meta is None:
                        input_meta = [None] * count
                    input_meta[position] = (input_array.shape, input_array.dtype)
        ctx._input_meta = input_meta or (_ALL_LIKE_OUTPUT[count] if count < _SHARED_UP_TO else (None,) * count)
        if dtype.kind in "fc" and not ctx._non_differentiable:
            output.grad_fn = ctx
            output._requires_grad = True
        return output


def _interned_shape(shape):
    """One shared tuple per distinct shape, so that nodes do not each keep their own copy."""
    interned = _SHAPES.get(shape)
    if interned is None:
        if len(_SHAPES) > 10_000:
            _SHAPES.clear()
        interned = _SHAPES[shape] = shape
    return interned


_SHAPES = {}


def _meta(tensor):
    return (tensor.array.shape, tensor.array.dtype)


# needs_input_grad tuples, made once for each (bit mask of inputs that need grad, number of inputs).
_NEEDS_INPUT_GRAD = {}
# ``_input_meta`` of nodes whose inputs all look like their output: shared, not made per node.
_SHARED_UP_TO = 64
_ALL_LIKE_OUTPUT = [(None,) * count for count in range(_SHARED_UP_TO)]
_ALL_LIKE_OUTPUT_NRS = [(0,) * count for count in range(_SHARED_UP_TO)]


class _UnrecordedContext:
    """The ``ctx`` that ``forward`` gets when nothing is recorded (under ``no_grad``, or when no
    input requires grad): it accepts what forward saves and keeps none of it."""

    needs_input_grad = ()

    def save_for_backward(self, *tensors):
        pass

    def mark_non_differentiable(self, *outputs):
        pass

    def set_materialize_grads(self, value):
        pass


def saved_or_recomputed(saved, recompute):
    """A value that ``forward`` computed (an array, or a tuple of arrays), for use in ``backward``.

    A plain backward pass uses the saved arrays themselves, as constants: NumPy computes with them
    directly, at no cost of graph nodes. Under ``create_graph=True`` the backward pass is itself
    recorded, to be differentiated again, so the value is recomputed from the inputs with tensor
    operations (``recompute()``) and its own dependence on the inputs is recorded too. The
    backward formulas use only operators, which arrays and tensors share, so one formula serves both.
    """
    if grad_mode.is_grad_enabled():
        return recompute()
    return saved


def _as_output(raw, args):
    """Wrap an array returned by ``forward``; a returned input becomes a new tensor sharing it."""
    if isinstance(raw, Tensor):
        for arg in args:
            if raw is arg:
                raw = tensor_from_array(raw.array)
                break
    else:
        raw = tensor_from_array(raw)
    if raw.array.base is not None:
        _mark_view(raw, args)
    return raw


def _mark_view(output, args):
    """If ``output``'s array views an input's memory (a slice, reshape, transpose...), make it share
    that input's version counter: an in-place change through either is then noticed by both."""
    owner = output.array.base
    for arg in args:
        if isinstance(arg, Tensor) and (arg.array is owner or arg.array.base is owner):
            output._base = arg._version_owner
            output._is_view = True
            return


def _attach(output, node, output_nr):
    """Make ``output`` the ``output_nr``-th result of ``node`` (floating outputs only)."""
    if output.array.dtype.kind in "fc" and id(output) not in node._non_differentiable:
        output.grad_fn = node
        output._output_nr = output_nr
        output._requires_grad = True


# Imported last: tensor.py builds on Function.
from chainrule.tensor import Tensor, tensor_from_array  # noqa: E402
