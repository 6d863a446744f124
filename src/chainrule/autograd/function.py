"""Function: one differentiable operation, its forward and its backward side by side.

A custom operation is a subclass, as in PyTorch::

    class MulConstant(Function):
        @staticmethod
        def forward(ctx, x, constant):
            ctx.constant = constant
            return x * constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None

``MulConstant.apply(x, 3.0)`` runs ``forward`` with grad mode off, wraps its result in a tensor and,
when an input requires grad, records a node of the graph: an instance of ``MulConstantBackward0``,
which is the ``ctx`` that ``forward`` saw and the ``grad_fn`` of the result. ``backward`` receives
the gradient of the loss with respect to each output and returns one with respect to each input of
``forward`` (``None`` for inputs that are not tensors or need none). Written with tensor operations,
``backward(create_graph=True)`` records the backward pass too, and higher-order gradients come free.

chainrule's own operations (``chainrule.ops.op.Op``) set ``on_arrays``: their ``forward`` and their
plain ``backward`` compute on arrays, without a tensor for every intermediate value (see
docs/ARCHITECTURE.md). A gradient returned with a broadcast shape is summed back to its input's
shape by the engine, in one place, so no operation repeats that work.

Saved outputs are kept as PyTorch's SavedVariable keeps them: the array and a weak reference, never
the output tensor itself, whose ``grad_fn`` is this node. Reference counting alone then frees a graph
whose result is dropped, without waiting for Python's cycle collector.
"""
import functools
import inspect
import re
import traceback
import warnings
import weakref

from chainrule import dtypes
from chainrule.autograd import anomaly, grad_mode
from chainrule.backend import (
    FLOAT_ERRORS_FILTER, NUMBER_SCALAR_TYPES, MetaArray, float_errors_filtered_first, is_scalar, memory_owner, meta_if_any, ndarray,
    positions_in, xp,
)
from chainrule.memory_layout import lay_out_as_operands, lies_otherwise
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.utils.hooks import add_hook, hook_registry


class SavedOutput:
    """An output of the node, saved for backward: its array, which output it is, and a weak
    reference to the tensor (to notice an in-place change to it) with the version it had."""

    __slots__ = ("_array", "output_nr", "tensor_ref", "version", "written")

    def __init__(self, output, output_nr):
        self._array = output._array
        self.output_nr = output_nr
        self.tensor_ref = weakref.ref(output)
        holder = output._version_holder  # a view's base, as in _version_sum
        self.version = (output if holder is None else holder)._version_count
        self.written = False  # set by written_in_place: still known once the tensor is gone

    def current_version(self):
        tensor = self.tensor_ref()
        if tensor is None:
            return self.version + 1 if self.written else self.version
        return tensor._version_owner._version_count


def written_in_place(tensor):
    """``tensor``'s values were just changed in place (its version went up). The node that saved
    it, or the tensor it views, as an output remembers it: backward then refuses to use the old
    values even after the tensor itself is gone (``y = x.exp(); y += 1; return y * 2`` in a function)."""
    for each in (tensor, tensor._version_holder):
        node = each.grad_fn if each is not None else None
        if node is not None and node._saved:
            for value in node._saved:
                # its own array, or the result an in-place operation wrote into it (y.sigmoid_(), saved_output_moved_to)
                if type(value) is SavedOutput and value.output_nr == each._output_nr and (value._array is each._array or value.tensor_ref() is each):
                    value.written = True


class PackedSaved:
    """A value saved for backward under ``autograd.graph.saved_tensors_hooks``: what the pack hook
    made of it, the unpack hook that turns it back into a tensor, for a saved output which output
    it was (None for anything else), and for a saved input that requires grad its gradient edge
    when it was packed (None for anything else)."""

    __slots__ = ("packed", "unpack_hook", "output_nr", "edge")

    def __init__(self, packed, unpack_hook, output_nr, edge):
        self.packed, self.unpack_hook, self.output_nr, self.edge = packed, unpack_hook, output_nr, edge

    def unpacked(self):
        tensor = self.unpack_hook(self.packed)
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"Output of saved tensor unpack_hook expected to be a Tensor but got result of type {type(tensor).__name__}"
            )
        return tensor

    def in_saved_place(self, tensor):
        """``tensor``, what the unpack hook gave for a saved input, with the history the input had when
        packed, as PyTorch's SavedVariable gives it: a hook that returns a copy (or the input, changed
        in place since) leaves a ``create_graph`` backward its path to the input's node."""
        if self.edge is None:
            return tensor
        node, output_nr = self.edge
        if type(node) is AccumulateGrad:  # a leaf: the gradient goes on to its .grad
            if tensor is node.variable:
                return tensor
            placed = tensor_from_array(tensor._array, requires_grad=True)
            placed._accumulator = weakref.ref(node)  # alive while this holds the edge
            return placed
        if tensor.grad_fn is node and tensor._output_nr == output_nr:
            return tensor
        placed = tensor_from_array(tensor._array, requires_grad=True)
        placed.grad_fn, placed._output_nr = node, output_nr
        return placed


class SavedTensor:
    """One value a node saved for backward, as ``grad_fn._raw_saved_<name>`` shows it (PyTorch's
    ``torch.autograd.SavedTensor``). ``register_hooks(pack_hook, unpack_hook)`` packs it at once
    (``pack_hook`` gets it detached, and may return any object) and from then on backward and
    ``_saved_<name>`` read ``unpack_hook(packed)``: ``saved_tensors_hooks`` for one value."""

    __slots__ = ("node", "index")

    def __init__(self, node, index):
        self.node, self.index = node, index  # the node, and the value's index in what it saved (None: none)

    def register_hooks(self, pack_hook, unpack_hook):
        if not (callable(pack_hook) and callable(unpack_hook)):
            raise TypeError(
                f"register_hooks(): incompatible function arguments: pack_hook and unpack_hook must be callables, got "
                f"{type(pack_hook).__name__} and {type(unpack_hook).__name__}"
            )
        node = self.node
        if node._freed:
            raise RuntimeError(
                "Calling register_hooks on a saved tensor after it has been freed. Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need "
                "to backward through the graph a second time or if you need to access saved variables after calling "
                "backward."
            )
        if self.index is None:
            raise RuntimeError("Calling register_hooks on a saved tensor with value None is forbidden")
        value = node._saved[self.index]
        if type(value) is PackedSaved:
            raise RuntimeError(
                "Calling register_hooks on a saved tensor whose hooks have already been set. Hint: only one pair of "
                "hooks is allowed at a time."
            )
        output_nr = value.output_nr if type(value) is SavedOutput else None
        edge = gradient_edge(value) if output_nr is None and isinstance(value, Tensor) and value._requires_grad else None
        with grad_mode.no_grad():
            packed = pack_hook(tensor_from_array(_array_of(value)))
        saved = list(node._saved)
        saved[self.index] = PackedSaved(packed, unpack_hook, output_nr, edge)
        node._version_sum_at_save -= _version_sum((value,))  # the hooks own it now: no in-place change is looked for
        node._saved = tuple(saved)


class NodeHooks:
    """The hooks registered on one node: ``pre`` run before its backward, ``post`` after."""

    __slots__ = ("pre", "post")

    def __init__(self):
        self.pre, self.post = hook_registry(), hook_registry()


class FunctionCtx:
    """What ``forward`` can tell its ``ctx`` (PyTorch's ``torch.autograd.function.FunctionCtx``):
    the values backward needs, the outputs that get no gradient, the inputs it changed in place."""

    def save_for_backward(self, *values):
        """Keep ``values`` (tensors or None; arrays in an ``Op``) for ``backward``; an in-place
        change to a saved input or output is detected when backward reads them."""
        if not self.function.on_arrays:
            check_savable(values)
        self._saved = values

    def save_for_forward(self, *tensors):
        """Keep ``tensors`` for ``jvp`` (forward mode), which reads them as ``ctx.saved_tensors``."""
        self._kept_for_forward = tensors

    def mark_non_differentiable(self, *outputs):
        """Declare outputs (e.g. indices) that get no ``grad_fn`` and receive no gradient. A tensor
        that forward does not return (an input) is ignored, as in PyTorch."""
        self._non_differentiable = tuple(id(output) for output in outputs)

    def mark_dirty(self, *tensors):
        """Declare the inputs that ``forward`` changed in place; it must return them. Each is
        returned itself (not a new tensor), its version goes up (so that a node that saved its old
        values refuses to run backward on the new ones), and its ``grad_fn`` becomes this node."""
        for tensor in tensors:
            tensor._version_owner._version_count += 1
        self._dirty = tensors

    def set_materialize_grads(self, value):
        """With ``False``, ``backward`` gets ``None`` (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)


def check_savable(values):
    """PyTorch's rule for a custom Function's ``save_for_backward``: tensors and None only (chainrule
    also takes arrays); a number or any other value goes on ``ctx`` as an attribute instead."""
    for position, value in enumerate(values):
        if value is not None and not isinstance(value, (Tensor, ndarray)):
            raise TypeError(
                f"save_for_backward can only save variables, but argument {position} is of type "
                f"{type(value).__name__}; keep values that are not tensors on ctx instead (ctx.name = value)"
            )


class BackwardNode(FunctionCtx):
    """A node of the graph, and the ``ctx`` of the forward call that made it.

    ``next_functions`` holds, as PyTorch's, an entry ``(node, output_nr)`` for each tensor input of
    ``forward`` that could carry a gradient: the node that made that input and which of its outputs
    it was; leaves that require grad are reached through their ``AccumulateGrad`` node, and inputs
    that need no gradient through ``(None, 0)``. The engine walks ``next_nodes`` and
    ``next_output_nrs``, which hold one entry for every argument of ``forward`` (``None`` for the
    numbers, dims and options among them).

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
    _saved = ()  # what save_for_backward kept: input tensors, SavedOutputs, arrays
    _version_sum_at_save = 0
    _freed = False
    _gave_saved_away = False  # saved_tensors was read and let go of (clear_saved_tensors_on_access)
    _kept_arrays = ()  # the names of the arrays (or keys holding them) forward kept on ctx (a mask, indices), which release frees
    _output_hooks = None  # {output_nr: {handle id: hook}} from register_hook on non-leaf outputs
    _retained = None  # {output_nr: weakref to the tensor} for retain_grad()
    _forward_trace = None  # where the node was created, kept under anomaly detection
    _output_names = None  # {output_nr: name} for outputs the user named (see Tensor.name)
    _non_differentiable = ()
    _dirty = ()  # the inputs forward changed in place (mark_dirty)
    _node_hooks = None  # NodeHooks, once register_prehook or register_hook was called

    def register_prehook(self, fn):
        """Call ``fn(grad_outputs)`` before this node's backward runs: the gradients arrived for
        its outputs, a tuple of tensors (None for an output that got none). A tuple it returns
        replaces them. Returns a handle whose ``remove()`` takes the hook off."""
        return add_hook(self._hooks().pre, fn)

    def register_hook(self, fn):
        """Call ``fn(grad_inputs, grad_outputs)`` after this node's backward ran: the gradients
        it computed for its inputs (None for an input that needs none) and those it was given. A
        tuple it returns replaces ``grad_inputs``. Returns a handle whose ``remove()`` takes the
        hook off."""
        return add_hook(self._hooks().post, fn)

    def _hooks(self):
        if self._node_hooks is None:
            self._node_hooks = NodeHooks()
        return self._node_hooks

    @property
    def metadata(self):
        """A dict of your own for this node (empty until you fill it), as PyTorch's."""
        kept = self.__dict__.get("_metadata")
        if kept is None:
            kept = self._metadata = {}
        return kept

    @property
    def saved_variables(self):
        """PyTorch's deprecated name of ``saved_tensors``, with its DeprecationWarning."""
        warnings.warn("'saved_variables' is deprecated; use 'saved_tensors'", DeprecationWarning, stacklevel=2)
        return self.saved_tensors

    @property
    def saved_tensors(self):
        """What ``save_for_backward`` kept, checked to be unchanged since: arrays in the plain
        backward of an ``Op``, tensors otherwise (so that a recorded backward can differentiate
        through them).

        The node of one of chainrule's own operations answers it only while a backward runs (its
        backward reads it as a custom Function's does): PyTorch's built-in nodes have no
        ``saved_tensors``, and tools that draw graphs (torchviz) draw a node's as a custom
        Function's."""
        if not _backward_running and self.function.on_arrays:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute 'saved_tensors'")
        if self._freed:
            raise self.freed_error()
        saved = self._saved
        if _version_sum(saved) != self._version_sum_at_save:
            raise self.modified_error()
        if self.function.on_arrays and not grad_mode._state.enabled:
            # Every node of a plain backward comes here: the common kinds (a tensor, a saved output,
            # None, a mask) are unwrapped without a call, _array_of does the rest (a Tensor
            # subclass, a value packed by saved_tensors_hooks).
            arrays = []
            for value in saved:
                if type(value) is Tensor or type(value) is SavedOutput:
                    value = value._array
                elif value is not None and type(value) is not ndarray:
                    value = _array_of(value)
                arrays.append(value)
            return tuple(arrays)
        if self.function.clear_saved_tensors_on_access:
            return self._hand_out_saved_once(saved)
        return tuple([self._tensor_of(value) for value in saved])

    def _hand_out_saved_once(self, saved):
        """``saved_tensors`` of a Function with ``clear_saved_tensors_on_access``: handed out once,
        after which the node lets go of them, so that each is freed as soon as backward drops its
        own reference (PyTorch's way to lower the peak memory of a backward)."""
        if self._gave_saved_away:
            raise RuntimeError(
                "saved_tensors can only be accessed once when clear_saved_tensors_on_access=True is set on the "
                "autograd.Function. Either access saved_tensors only once, or set clear_saved_tensors_on_access=False."
            )
        tensors = tuple([self._tensor_of(value) for value in saved])
        self._saved, self._version_sum_at_save, self._gave_saved_away = (), 0, True
        return tensors

    def _tensor_of(self, value):
        array, output_nr = None, None
        if type(value) is PackedSaved:
            tensor = value.unpacked()
            if value.output_nr is None:
                return value.in_saved_place(tensor)
            array, output_nr = tensor._array, value.output_nr  # an output: linked to this node as below
        elif type(value) is SavedOutput:
            array, output_nr = value._array, value.output_nr
        if array is None:
            return value
        output = tensor_from_array(array, requires_grad=True)
        output.grad_fn, output._output_nr = self, output_nr
        return output

    def saved_output_moved_to(self, tensor, output_nr=None):
        """``tensor`` now holds this node's output ``output_nr`` (its own ``_output_nr`` when not
        given): an in-place operation wrote the result into it, ``y.sigmoid_()``. A later in-place
        change to ``tensor`` changes a value backward needs, and must be noticed as PyTorch notices
        it. A result written through a view (``h[1:].exp_()``) gives the view's base, whose version
        counter every view of it moves."""
        if output_nr is None:
            output_nr = tensor._output_nr
        kept = list(self._saved)
        for position, value in enumerate(kept):
            if type(value) is SavedOutput and value.output_nr == output_nr:
                moved = SavedOutput(tensor, value.output_nr)
                moved._array = value._array
                self._version_sum_at_save += moved.version - value.current_version()
                kept[position] = moved
        self._saved = tuple(kept)

    @property
    def next_functions(self):
        """``((node, output_nr), ...)``, one per tensor input, as PyTorch's ``grad_fn.next_functions``:
        ``x.sum().grad_fn.next_functions`` is ``((AccumulateGrad, 0),)``, without entries for the dims."""
        next_nodes, output_nrs = self.next_nodes, self.next_output_nrs
        return tuple([(next_nodes[position], output_nrs[position]) for position in self.tensor_input_positions()])

    @property
    def argument_edges(self):
        """``((node, output_nr), ...)`` for every argument of ``forward``, ``(None, 0)`` for those that
        get no gradient (numbers, dims, tensors that need none): the positions ``input_meta`` and the
        gradients backward returns have, which ``next_functions`` does not keep."""
        return tuple(zip(self.next_nodes, self.next_output_nrs))

    def tensor_input_positions(self):
        """The positions among ``forward``'s arguments that ``next_functions`` lists: those that were
        tensors, less those the operation declares without a derivative (an index, a condition),
        unless they carry a gradient."""
        declared = getattr(self.function, "derivatives", None) or ()
        last = len(declared) - 1
        code = getattr(self.function.forward, "__code__", None) if self.function is not None else None
        takes_varargs = code is not None and code.co_flags & inspect.CO_VARARGS
        positions = []
        for position, (next_node, meta) in enumerate(zip(self.next_nodes, self._input_meta)):
            if meta is _NOT_A_TENSOR:
                continue
            if next_node is None and declared:
                index = position if position <= last else last if takes_varargs else None
                if index is not None and declared[index] is None:
                    continue
            positions.append(position)
        return positions

    def __call__(self, *grad_outputs):
        """This node's backward on ``grad_outputs`` (one per output of the node), as PyTorch's nodes
        can be called: the gradient for each entry of ``next_functions`` (None where that input needs
        none), alone when there is one. Recorded when grad mode is on, so that it can be
        differentiated again."""
        from chainrule.autograd import engine  # the engine imports this module

        return engine.call_node(self, grad_outputs)

    # PyTorch's nodes show what they saved as ``_saved_<name>`` (the autograd mechanics notes read
    # ``y.grad_fn._saved_self``). Properties, not ``__getattr__``: a class with ``__getattr__`` makes
    # every attribute read of every node slower, and the engine reads nodes' attributes all the time.
    @property
    def _saved_self(self):
        """The first input, as saved for backward (the tensor itself); None if the node did not save it."""
        return self._value_saved_as("self")

    @property
    def _saved_other(self):
        """The second input, as saved for backward; None if the node did not save it."""
        return self._value_saved_as("other")

    @property
    def _saved_exponent(self):
        """Pow's exponent: the number, or the saved tensor."""
        return self._value_saved_as("exponent")

    @property
    def _saved_result(self):
        """The output, as saved for backward (a new tensor with this node as its ``grad_fn``)."""
        return self._value_saved_as("result")

    # ``_raw_saved_<name>``: the same values as SavedTensors, whose hooks say how each is kept.
    _raw_saved_self = property(lambda node: node._raw_saved("self"))
    _raw_saved_other = property(lambda node: node._raw_saved("other"))
    _raw_saved_exponent = property(lambda node: node._raw_saved("exponent"))
    _raw_saved_result = property(lambda node: node._raw_saved("result"))

    def __dir__(self):
        """The attributes, as PyTorch lists a node's: the ``_saved_<name>`` and ``_raw_saved_<name>``
        among them only where this node has one (torchviz reads every ``_saved_`` name ``dir`` lists)."""
        return [name for name in super().__dir__() if not name.startswith(("_saved_", "_raw_saved_")) or _has_saved(self, name)]

    def _value_saved_as(self, name):
        """PyTorch's ``grad_fn._saved_<name>``: a value forward kept on ctx under ``name`` (Pow's
        ``exponent``), the saved ``result``, or a saved input: ``self`` (the first), ``other`` (the
        second) or one named as forward's parameter. None for an input the node did not save. A
        custom Function's node has none, as in PyTorch (its ``saved_tensors`` show them)."""
        if not self.function.on_arrays:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '_saved_{name}'")
        kept = self.__dict__
        if name in kept and not name.startswith("_"):
            value = kept[name]
            return tensor_from_array(value) if type(value) is ndarray else value
        saved, index = self._entry_saved_as(name)
        return None if index is None else saved[index]

    def _entry_saved_as(self, name):
        """``(saved, index)``: what the node saved, as tensors, and the index among them of the one
        it shows as ``_saved_<name>`` (None for an input it did not save)."""
        function = self.function
        code = getattr(function.forward, "__code__", None) if function is not None else None
        parameters = code.co_varnames[1 : code.co_argcount] if code is not None else ()
        position = {"self": 0, "other": 1}.get(name)
        if position is None and name in parameters:
            position = parameters.index(name)
        if name != "result" and (
            position is None or position >= len(self._input_meta) or self._input_meta[position] is _NOT_A_TENSOR
        ):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '_saved_{name}'")
        if self._freed:
            raise self.freed_error()
        saved = [self._tensor_of(value) if type(value) in (SavedOutput, PackedSaved) else value for value in self._saved]
        if name == "result":
            for index, original in enumerate(self._saved):
                if type(original) in (SavedOutput, PackedSaved) and original.output_nr == 0:
                    return saved, index
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '_saved_result'")
        return saved, self._inputs_among_saved(saved).get(position)

    def _raw_saved(self, name):
        """PyTorch's ``grad_fn._raw_saved_<name>``: the ``SavedTensor`` behind ``_saved_<name>``."""
        if not self.function.on_arrays or (name in self.__dict__ and not name.startswith("_")):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '_raw_saved_{name}'")
        # PyTorch's SavedTensor outlives the value, or stands for one not saved (``(x * 2)``'s self):
        # registering hooks on it then raises
        return SavedTensor(self, None if self._freed else self._entry_saved_as(name)[1])

    def _inputs_among_saved(self, saved):
        """``{position among forward's arguments: index in saved}`` for the saved inputs: one that
        requires grad is found by its gradient edge, a constant by taking the argument positions
        that need no gradient in order."""
        found = {}
        edges = list(zip(self.next_nodes, self.next_output_nrs))
        for index, value in enumerate(saved):
            if not isinstance(value, Tensor) or value.grad_fn is self:
                continue
            edge = gradient_edge(value) if value._requires_grad else (None, 0)
            for position, (next_node, output_nr) in enumerate(edges):
                if position in found or self._input_meta[position] is _NOT_A_TENSOR:
                    continue
                if next_node is edge[0] and (next_node is None or output_nr == edge[1]):
                    found[position] = index
                    break
        return found

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
            None if next_node is None else record if record is not None else (self._output_shape, self._output_dtype)
            for next_node, record in zip(self.next_nodes, self._input_meta)
        )

    def name(self):
        return type(self).__name__

    def release(self):
        """Free what ``forward`` kept for backward, after a backward pass that did not retain the
        graph: the saved values, and the arrays kept on ctx (a mask, indices).

        A loss kept after backward (``losses.append(loss)``) then holds no activation-sized
        arrays, as in PyTorch. A node that kept none of these can be run again.
        """
        arrays = self._kept_arrays
        for name in arrays:
            self.__dict__.pop(name, None)
        if self._saved or arrays:
            self._saved = ()
            self._kept_arrays = ()
            self._freed = True

    def freed_error(self):
        """The error for a second backward through this node after ``release``."""
        return RuntimeError(
            f"Trying to backward through the graph a second time (or directly access saved "
            f"tensors after they have already been freed). Saved intermediate "
            f"values of the graph are freed when you call .backward() or autograd.grad(). "
            f"Specify retain_graph=True if you need to backward through the graph a second "
            f"time or if you need to access saved tensors after calling backward. (The graph was freed at {self.name()}.)"
        )

    def modified_error(self):
        """The error when a saved tensor was changed in place after forward saved it."""
        changed = []  # in PyTorch's words: [type [shape]], which is output k of its node, is at version v; expected w
        for value in self._saved:
            if type(value) is SavedOutput and value.current_version() != value.version:
                changed.append(
                    f"[{tensor_type_name(value._array)} {list(value._array.shape)}], which is output {value.output_nr} of "
                    f"{_operation_name(self)}, is at version {value.current_version()}; expected version {value.version} instead"
                )
            elif isinstance(value, Tensor) and value._version_owner._version_count:
                maker = "" if value.grad_fn is None else f", which is output {value._output_nr} of {_operation_name(value.grad_fn)},"
                changed.append(
                    f"[{tensor_type_name(value._array)} {list(value.shape)}]{maker} is at version "
                    f"{value._version_owner._version_count}; expected version 0 instead"
                )
        return modified_in_place_error(self.name(), changed)

    _repr_names_module = False  # PyTorch's C++ nodes print as <MulBackward0 object at 0x...>

    def __repr__(self):
        kind = type(self)
        name = f"{kind.__module__}.{kind.__qualname__}" if kind._repr_names_module else kind.__name__
        return f"<{name} object at {id(self):#x}>"


def run_custom_backward(node, *grad_outputs):
    """``node.apply(*grad_outputs)`` of a custom Function's node, as PyTorch's: the Function's
    ``backward`` run with the node as its ctx, its result as it returns it (recorded when grad mode
    is on); after the graph is freed, reading its saved tensors raises. The engine runs a custom
    Function's backward through it too. A Function with ``boxed_grads_call`` gets the gradients as
    one list."""
    function = node.function
    if function.boxed_grads_call:
        return function.backward(node, list(grad_outputs))
    return function.backward(node, *grad_outputs)


def modified_in_place_error(node_name, changed):
    """PyTorch's error for saved tensors changed in place before the backward that reads them;
    ``changed`` describes each (``[chainrule.FloatTensor [2, 3]] is at version 1; expected ...``)."""
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {'; '.join(dict.fromkeys(changed))}. {_ANOMALY_HINTS[anomaly.is_anomaly_enabled()]} "
        f"({node_name} saved it for backward: compute the in-place operation on a copy (.clone()), or do it after "
        f"backward())"
    )


_ANOMALY_HINTS = {  # PyTorch's last sentence, by whether anomaly detection is on
    False: "Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
    "chainrule.autograd.set_detect_anomaly(True, check_nan=False).",
    True: "Hint: the backtrace further above shows the operation that failed to compute its gradient. The variable "
    "in question was changed in there or anywhere later. Good luck!",
}


def _operation_name(node):
    """The operation that made a node's outputs, as PyTorch's messages name it: Exp for ExpBackward0."""
    return re.sub(r"Backward\d*$", "", node.name())


def tensor_type_name(array):
    """PyTorch's legacy type name of a tensor of ``array``'s dtype, as its messages give it: chainrule.FloatTensor."""
    return f"chainrule.{dtypes.scalar_type_name(array.dtype)}Tensor"


def _has_saved(node, name):
    """Whether ``node`` saved a value it shows as ``name`` (``_saved_self``)."""
    try:
        return getattr(node, name) is not None
    except AttributeError:
        return False
    except RuntimeError:  # freed, or changed in place: PyTorch's node has the attribute, and raises reading it
        return True


#: How many backward computations run now (the engine's passes, nodes called on their own, a
#: drawing reading what nodes saved): outside them the nodes of chainrule's own operations answer
#: no ``saved_tensors`` (BackwardNode.saved_tensors).
_backward_running = 0


class backward_running:  # noqa: N801 - used as a function is: ``with backward_running():``
    """Marks a backward computation running (``_backward_running``) while the block runs (a class,
    not a generator: every backward enters it, and a generator's context costs three times more)."""

    __slots__ = ()

    def __enter__(self):
        global _backward_running
        _backward_running += 1

    def __exit__(self, *exc_info):
        global _backward_running
        _backward_running -= 1


def _version_sum(saved):
    """One number that grows whenever a saved tensor changes in place (versions only grow)."""
    total = 0
    for value in saved:
        kind = type(value)
        if kind is SavedOutput:
            total += value.current_version()
        elif kind is Tensor or (value is not None and isinstance(value, Tensor)):
            holder = value._version_holder
            total += (value if holder is None else holder)._version_count
    return total


def _array_of(value):
    if isinstance(value, Tensor):
        return value._array
    if type(value) is SavedOutput:
        return value._array
    if type(value) is PackedSaved:
        return value.unpacked()._array
    return value


class AccumulateGrad(BackwardNode):
    """The node that ends a path at a leaf: adds the arriving gradient into ``variable.grad``."""

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        """``torch::autograd::AccumulateGrad``, as PyTorch names its C++ node."""
        return "torch::autograd::AccumulateGrad"


class ViewMadeWithoutGrad:
    """What ``_accumulator`` holds for a view made, with grad mode off, of a tensor that requires
    grad: the view requires grad, as in PyTorch, but has no ``AccumulateGrad`` (no gradient flows
    into it), and changing it in place with grad mode on raises ``error()``, since whether that
    change should be recorded is ambiguous."""

    __slots__ = ("mode", "modified_in", "block")

    def __init__(self, mode, modified_in, block):
        self.mode, self.modified_in, self.block = mode, modified_in, block

    def error(self):
        return RuntimeError(
            f"A view was created in {self.mode} mode and is being modified inplace {self.modified_in}. Given that this "
            f"use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the "
            f"view and the inplace either both inside the {self.block} block (if you don't want the inplace to be "
            f"tracked) or both outside (if you want the inplace to be tracked)."
        )


MADE_IN_NO_GRAD = ViewMadeWithoutGrad("no_grad", "with grad mode enabled", "no_grad")
MADE_IN_INFERENCE_MODE = ViewMadeWithoutGrad("inference", "in normal mode", "inference_mode")


class GradientEdge(tuple):
    """``(node, output_nr)``: which output of which node a gradient flows into."""

    __slots__ = ()

    def __new__(cls, node, output_nr):
        return super().__new__(cls, (node, output_nr))

    @property
    def node(self):
        return self[0]

    @property
    def output_nr(self):
        return self[1]

    def __repr__(self):
        return f"GradientEdge(node={self.node!r}, output_nr={self.output_nr})"


def gradient_edge(tensor):
    """``(node, output_nr)``: where a gradient for ``tensor`` enters the graph (PyTorch's
    ``get_gradient_edge``). A leaf's ``AccumulateGrad`` node is made once and shared by every use;
    a view made without grad mode has none. A view whose base changed in place since its node was
    made gets a new one first (``refresh_view_history``)."""
    node = tensor.grad_fn
    if node is not None:
        if tensor._base is not None and tensor._version_count != tensor._version_holder._version_count:
            node = refresh_view_history(tensor)
        return node, tensor._output_nr
    if not tensor._requires_grad:
        return None, 0
    reference = tensor._accumulator
    if type(reference) is ViewMadeWithoutGrad:
        return None, 0
    node = reference() if reference is not None else None
    if node is None:
        node = AccumulateGrad(tensor)
        tensor._accumulator = weakref.ref(node)
    return node, 0


class Function:
    """Base class of differentiable operations: subclass it with static ``forward`` and ``backward``."""

    on_arrays = False  # forward and plain backward compute on arrays (chainrule's own operations)
    keeps_layout = None  # how its result lies in memory when its inputs do not lie row-major (memory_layout.ELEMENTWISE...)
    generate_vmap_rule = False  # PyTorch's flag: under chainrule.func.vmap, run once per batch element
    node_suffix = "Backward"  # PyTorch names a custom Function's nodes MyFunctionBackward
    # Whether its outputs that are views of its inputs may not be changed in place with the change
    # recorded (PyTorch's rule for a custom Function's: the change would bypass its backward).
    views_refuse_in_place = False
    _node_base = BackwardNode  # the class its nodes derive from
    _backward_cls = BackwardNode
    # PyTorch's memory savers for a custom backward: ctx.saved_tensors can be read once, after which
    # the node holds them no longer; backward gets the gradients as one list it may empty as it goes,
    # ``backward(ctx, grads)`` instead of ``backward(ctx, *grads)``.
    clear_saved_tensors_on_access = False
    boxed_grads_call = False

    def __init__(self, *args, **kwargs):
        warnings.warn(
            f"{self.__class__} should not be instantiated. Methods on autograd functions are all static, so you should "
            "invoke them on the class itself. Instantiating an autograd function will raise an error in a future "
            "version of PyTorch.",
            DeprecationWarning,
            stacklevel=2,
        )

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        node_name = cls.__dict__.get("node_name") or cls.__name__ + cls.node_suffix
        # a custom Function's node is a Python class in PyTorch too, whose repr names its module, and
        # which has ``apply``
        python_node = not cls.on_arrays and "node_name" not in cls.__dict__
        node_attributes = {"function": cls, "_repr_names_module": python_node}
        if python_node:
            node_attributes["apply"] = run_custom_backward
        cls._backward_cls = type(node_name, (cls._node_base,), node_attributes)
        if "forward" in cls.__dict__ and cls.setup_context is not Function.setup_context:
            forward = cls.__dict__["forward"]
            cls.forward = staticmethod(_forward_then_setup_context(forward, cls))
            if _has_defaults(forward):  # setup_context sees forward's defaults among the inputs, as PyTorch binds them
                cls.apply = classmethod(_apply_with_defaults)
        if not cls.on_arrays and cls.vjp is not Function.vjp and cls.backward is not cls.vjp:
            # PyTorch's other name for backward; both written is its error, when backward runs
            cls.backward = _both_backward_and_vjp if cls.backward is not Function.backward else staticmethod(cls.vjp)

    @classmethod
    def shown_as(cls, node_name):
        """This operation with its nodes named ``node_name``, forward and backward unchanged. A
        fused operation shows the name of the node PyTorch's composition of it ends in, which can
        depend on the arguments: cross_entropy's is NllLossBackward0 (PyTorch ends it with nll_loss),
        DivBackward1 for class probabilities. Made once per name."""
        if node_name == cls._backward_cls.__name__:
            return cls
        variants = cls.__dict__.get("_named_variants")
        if variants is None:
            variants = {}
            cls._named_variants = variants
        variant = variants.get(node_name)
        if variant is None:
            variant = type(cls.__name__, (cls,), {"node_name": node_name, "__module__": cls.__module__, "__doc__": cls.__doc__})
            variants[node_name] = variant
        return variant

    @staticmethod
    def forward(ctx, *args):
        """Compute the outputs from the inputs (tensors or other values); runs with grad mode off."""
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function. (define a static forward(ctx, *args))"
        )

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's other form of a Function: defined, it fills ``ctx`` (``save_for_backward``...)
        from the tuple of ``inputs`` and forward's ``output``, and ``forward(*args)`` takes no ctx."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def vjp(ctx, *grad_outputs):
        """PyTorch's other name for ``backward``: a Function may define either (not both)."""
        return Function.backward(ctx, *grad_outputs)

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Gradients with respect to each input of ``forward``, given those of each output."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function to use it with "
            "backward mode AD. (define a static backward(ctx, *grad_outputs))"
        )

    @staticmethod
    def vmap(info, in_dims, *args):
        """PyTorch's batching rule: ``(outputs, out_dims)`` for ``args`` batched along ``in_dims``
        (None for an argument that is not). ``chainrule.func.vmap`` uses it, or with
        ``generate_vmap_rule=True`` runs the Function once per batch element (func/custom_functions.py)."""
        raise NotImplementedError(
            "To use autograd.Function with vmap, you must either override the vmap staticmethod or set "
            "generate_vmap_rule=True."
        )

    def __call__(self, *args):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use new-style autograd "
            "function with static forward method. (Example: https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function) "
            f"(call {type(self).__name__}.apply(...), not an instance)"
        )

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Forward mode (``autograd.forward_ad``): the tangent of each output, given one per input of
        ``forward``. A custom Function without it raises NotImplementedError there, as in PyTorch."""
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with forward mode AD."
        )

    @classmethod
    def apply_keeping_context(cls, args):
        """``(cls.apply(*args), ctx)``: the outputs and the ctx their forward filled, also when no
        input requires grad (then no graph is kept: the outputs are made constants again). Forward
        mode calls ``jvp`` with that ctx."""
        recorded = grad_mode._state.enabled and any(isinstance(arg, Tensor) and arg._requires_grad for arg in args)
        enabled = grad_mode._state.enabled
        try:
            outputs = cls._apply_recorded(args)
        finally:
            grad_mode._state.enabled = enabled
        each = [output for output in (outputs if type(outputs) is tuple else (outputs,)) if isinstance(output, Tensor)]
        ctx = next((output.grad_fn for output in each if output.grad_fn is not None), None)
        if not recorded:
            for output in each:
                output.grad_fn, output._requires_grad = None, False
        return outputs, ctx

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the operation on ``args`` and, when any input requires grad, record it in the graph.
        Keyword arguments are bound to ``forward``'s parameters, defaults filled in, as PyTorch does."""
        filters = warnings.filters
        if not filters or filters[0] is not FLOAT_ERRORS_FILTER[0]:  # a filter set since comes first: put ours back
            float_errors_filtered_first()
        if kwargs:
            args = _bound_positionally(cls, args, kwargs)
        if _recorder is not None:  # chainrule.compile is recording this call (compile/recorder.py)
            return _recorder.apply(cls, args)
        if _func_transforms is not None and not cls.on_arrays:  # under chainrule.func's transforms
            return _func_transforms.apply(cls, args)
        if _forward_ad is not None:  # some tensor carries a forward-mode tangent (autograd/forward_ad.py)
            return _forward_ad.carry_tangents(cls, args)
        if grad_mode._state.enabled:
            for arg in args:
                if isinstance(arg, Tensor) and arg._requires_grad:
                    return cls._apply_recorded(args)
        if cls.on_arrays:
            try:
                # An Op's forward gets each tensor's array, a NumPy number as the Python number it
                # holds (NUMBER_SCALAR_TYPES), everything else as given; written here, not called,
                # because most calls take this path (under no_grad, or on data that needs no gradient).
                arrays = [
                    arg._array if type(arg) is Tensor or isinstance(arg, Tensor)
                    else arg.item() if type(arg) in NUMBER_SCALAR_TYPES else arg
                    for arg in args
                ]
                raw_outputs = cls.forward(_UnrecordedContext(), *arrays)
            except AttributeError as error:  # torch.exp(2.0): a number where the tensor goes
                if args and isinstance(args[0], (Tensor, ndarray)):
                    raise
                raise TypeError(
                    f"{cls.__name__.lower()}(): argument 'input' (position 1) must be Tensor, not "
                    f"{type(args[0]).__name__ if args else 'nothing'}; make one with chainrule.tensor({args[0] if args else ''!r})"
                ) from error
            custom = None
        else:
            custom = _UnrecordedCustomContext(args)
            raw_outputs = cls.forward(custom, *args)
            if custom._dirty:
                _check_dirty_returned(custom, raw_outputs)
        if type(raw_outputs) is tuple:
            return tuple([_as_output(raw, args, custom) for raw in raw_outputs])
        return _as_output(raw_outputs, args, custom, cls.keeps_layout)

    @classmethod
    def _apply_recorded(cls, args):
        """``apply`` for inputs that require grad: run forward, then link the new node to its inputs."""
        ctx = cls._backward_cls()
        next_nodes = []
        mask = 0  # the inputs that require grad, as bits
        not_tensors = 0  # the arguments that are not tensors (numbers, dims, options), as bits
        from_later_outputs = False
        arrays = []  # the arguments as an Op's forward gets them: each tensor's array, the rest as given
        for position, arg in enumerate(args):
            node = None
            if isinstance(arg, Tensor):
                arrays.append(arg._array)
                if arg._requires_grad:
                    node, output_nr = gradient_edge(arg)
                    from_later_outputs = from_later_outputs or output_nr != 0
                    mask |= 1 << position
            else:
                arrays.append(arg.item() if type(arg) in NUMBER_SCALAR_TYPES else arg)
                not_tensors |= 1 << position
            next_nodes.append(node)
        count = len(args)
        shared = _SHARED_RECORDS.get((mask, not_tensors, count))
        if shared is None:
            shared = _shared_records(mask, not_tensors, count)
        ctx.needs_input_grad, like_output = shared
        dirty_views = ()
        grad_mode._state.enabled = False
        try:
            if cls.on_arrays:
                raw_outputs = cls.forward(ctx, *arrays)
                custom = None
            else:
                raw_outputs = cls.forward(ctx, *args)
                custom = ctx
                if ctx._dirty:
                    dirty_views = _check_dirty_returned(ctx, raw_outputs)
                if type(raw_outputs) is not tuple and not isinstance(raw_outputs, (Tensor, ndarray)) and not is_scalar(raw_outputs):
                    return raw_outputs  # a lone value that is no tensor (a count, a flag) is returned as it is
        finally:
            grad_mode._state.enabled = True
        kept = ctx.__dict__
        if len(kept) > (2 if "_saved" in kept else 1):  # values besides needs_input_grad and the saved ones
            # A tuple holding an array is an indexing key (indices, a mask): PyTorch saves those as
            # tensors, which a backward that does not retain the graph frees (``release``).
            kept_arrays = [
                name for name, value in kept.items()
                if type(value) is ndarray or type(value) is tuple and ndarray in map(type, value)
            ]
            if kept_arrays:
                ctx._kept_arrays = kept_arrays
        ctx.next_nodes = tuple(next_nodes)
        if from_later_outputs:
            ctx.next_output_nrs = tuple(arg._output_nr if node is not None else 0 for arg, node in zip(args, next_nodes))
        else:
            ctx.next_output_nrs = _ALL_LIKE_OUTPUT_NRS[count] if count < _SHARED_UP_TO else (0,) * count
        if anomaly._state.enabled:
            ctx._forward_trace = "".join(traceback.format_stack()[:-2])

        if type(raw_outputs) is tuple:
            outputs = tuple([_as_output(raw, args, custom) for raw in raw_outputs])
            ctx._input_meta = [_record(arg) if node is not None else like_output[position] for position, (arg, node) in enumerate(zip(args, next_nodes))]
            if custom is None:
                ctx._multi_output_meta = tuple((output._array.shape, output._array.dtype) for output in outputs)
                for output_nr, output in enumerate(outputs):
                    _attach(output, raw_outputs[output_nr], ctx, output_nr)
            else:  # a custom Function's outputs may include values that are no tensors: they get no gradient
                ctx._multi_output_meta = tuple(
                    (output._array.shape, output._array.dtype) if isinstance(output, Tensor) else None for output in outputs
                )
                for output_nr, output in enumerate(outputs):
                    if isinstance(output, Tensor):
                        _attach(output, raw_outputs[output_nr], ctx, output_nr)
            if ctx._saved:
                _keep_saved(ctx, args, raw_outputs, outputs)
            if dirty_views:
                _rebase_dirty_views(dirty_views)
            return outputs

        output = _as_output(raw_outputs, args, custom, cls.keeps_layout)
        array = output._array
        shape = _SHAPES.get(array.shape) or _interned_shape(array.shape)
        dtype = array.dtype
        ctx._output_shape = shape
        ctx._output_dtype = dtype
        # Only inputs that differ from the output (broadcast, or another dtype) need their own record.
        input_meta = None
        for position, node in enumerate(next_nodes):
            if node is not None:
                input_array = args[position]._array
                if input_array.shape != shape or input_array.dtype != dtype:
                    if input_meta is None:
                        input_meta = list(like_output)
                    input_meta[position] = (input_array.shape, input_array.dtype)
        ctx._input_meta = input_meta or like_output
        if dtype.kind in "fc" and (not ctx._non_differentiable or id(raw_outputs) not in ctx._non_differentiable):
            output.grad_fn = ctx
            output._requires_grad = True
        if ctx._saved:
            _keep_saved(ctx, args, (raw_outputs,), (output,))
        if dirty_views:
            _rebase_dirty_views(dirty_views)
        return output


class InplaceFunction(Function):
    """PyTorch's ``InplaceFunction``, kept for old code (use ``Function``): a Function whose
    instances remember ``inplace``."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class DelayedError(Function):
    """The node that ``once_differentiable`` puts after a backward it ran without recording: its
    outputs are the gradients, and differentiating through it raises (PyTorch's ``Error`` node)."""

    node_name = "Error"

    @staticmethod
    def forward(ctx, *gradients):
        return tuple(gradients) if len(gradients) > 1 else gradients[0]

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


def once_differentiable(backward):
    """Decorator for the ``backward`` of a custom Function that can be differentiated only once
    (written with NumPy, or with in-place operations): it runs without recording, and a second
    differentiation through its gradients (``create_graph=True``, then backward again) raises
    RuntimeError instead of silently giving zeros, as PyTorch's ``once_differentiable``."""

    @functools.wraps(backward)
    def run_once(ctx, *grad_outputs):
        with grad_mode.no_grad():
            gradients = backward(ctx, *grad_outputs)
        if not grad_mode._state.enabled:
            return gradients
        if not any(isinstance(grad, Tensor) and grad.requires_grad for grad in grad_outputs):
            return gradients
        each = gradients if isinstance(gradients, tuple) else (gradients,)
        # Copies that require grad give the Error node a place in the graph; None stays None.
        stand_ins = [gradient.detach().requires_grad_() if isinstance(gradient, Tensor) else gradient for gradient in each]
        return DelayedError.apply(*stand_ins)

    return run_once


# The (pack_hook, unpack_hook) pairs of the ``autograd.graph.saved_tensors_hooks`` blocks being run,
# innermost last, and the message ``disable_saved_tensors_hooks`` refuses them with (None: allowed).
_saved_tensors_hooks = []
_saved_tensors_hooks_disabled = None

# The ``forward_ad`` module while some tensor carries a tangent, else None: Function.apply hands it the
# call, in-place writes tell it where a tangent went (see autograd/forward_ad.py).
_forward_ad = None

# ``chainrule.func.custom_functions`` while a ``chainrule.func`` transform runs its function, else
# None: Function.apply hands it the calls of custom Functions, which follow PyTorch's rules there.
_func_transforms = None

# The recorder of ``chainrule.compile`` while it records a call, else None: the one switch that
# Function.apply and the engine's run_backward look at (and the two functions below).
_recorder = None


def computed_without_gradient(function, inputs, keywords=None):
    """``function(*arrays of inputs, **keywords)`` as a tensor: a result with no gradient computed
    outside a Function (a comparison, ``any``...). A call being recorded by ``chainrule.compile``
    hears of it, so that its program computes it again on each call."""
    keywords = keywords or {}
    arrays = [each._array for each in inputs]
    result = function(*arrays, **keywords)
    result = tensor_from_array(meta_if_any(result, arrays) if MetaArray.alive and type(result) is ndarray else result)
    if _recorder is not None:
        _recorder.computed(result, function, inputs, keywords)
    return result


def shaped_by_values(operation, *inputs):
    """``operation`` is about to make a result whose shape the values of ``inputs`` (tensors or
    arrays) decide (``bincount``'s length is the largest value): a call being recorded by
    ``chainrule.compile`` cannot replay it (what follows was recorded for one shape) and runs
    eagerly; on the meta device, which holds no values, it cannot run (NotImplementedError, as
    PyTorch's meta kernels refuse it)."""
    if MetaArray.alive and any(type(getattr(each, "_array", each)) is MetaArray for each in inputs):
        raise NotImplementedError(
            f"{operation}: the shape of its result depends on the values of a tensor on the 'meta' device, "
            f"which has none; compute it on the CPU"
        )
    if _recorder is not None:
        _recorder.fail(f"calls {operation}, whose result's shape depends on the values")


def not_replayable(action):
    """The call does ``action`` (saves a file, talks to the other processes), which has effects
    beyond the arrays a program of ``chainrule.compile`` replays: a call being recorded runs
    eagerly, now and from then on. ``action`` completes "it ...": "saves a file (chainrule.save)"."""
    if _recorder is not None:
        _recorder.fail(action)


def read_into_python(operation):
    """A tensor's value is about to be read into Python by ``operation`` (``randint(0, n)`` of a
    0-d tensor ``n``, which counts as the number): a call being recorded by ``chainrule.compile``
    cannot replay what follows for another value, and runs eagerly."""
    if _recorder is not None:
        _recorder.fail(f"reads a tensor's value into Python ({operation})")


def checked(condition, error, *shown):
    """Raise ``error(*shown)`` unless every element of the bool tensor ``condition`` holds: a check
    of values (a distribution's arguments lie in their support). A call being recorded by
    ``chainrule.compile`` hears of it, so that its program checks each call's values again (the
    error then shows that call's ``shown`` tensors) instead of running eagerly."""
    if not condition._array.all():
        raise error(*shown)
    if _recorder is not None:
        computed_without_gradient(_require_all, (condition, *shown), {"error": error})


def _require_all(condition, *shown, error):
    if not condition.all():
        raise error(*[tensor_from_array(each) for each in shown])
    return condition


def made_from_values(array, written=False):
    """A tensor holding ``array``, made from values the calling code wrote (a Python number, a
    NumPy scalar, a list): ``x * 2``'s 2, the 1 that starts ``backward()``. A call being recorded
    by ``chainrule.compile`` hears of it: its program may keep such a tensor as a constant, where a
    tensor made otherwise outside an operation may hold values of the inputs. ``written``: every
    value is a number in Python lists or tuples (``tensor([0.2, 0.8])``), kept whatever their count;
    of an array's values (``x * numpy_array``), which may change in place between calls, only a
    single number is kept."""
    result = tensor_from_array(array)
    if _recorder is not None:
        _recorder.made_from_values(result, written)
    return result


def tensor_of_values(value):
    """``value`` itself if it is a tensor, else a tensor of a copy of the numbers (or the array) it
    holds, made as ``made_from_values`` makes one: an index list, a number the code passed."""
    if isinstance(value, Tensor):
        return value
    return made_from_values(xp.array(value), written_in_python(value))


def written_in_python(data):
    """Whether ``data`` is numbers (Python's or NumPy's scalars, which never change) in nested
    lists and tuples: values the calling code wrote, with no array or tensor among them."""
    if isinstance(data, (list, tuple)):
        return all(map(written_in_python, data))
    return isinstance(data, (int, float, complex)) or is_scalar(data)


def array_from_shapes(array):
    """``array`` itself, made from shapes alone (the ``arange`` grids of an index key, a ``range``
    in one): a call being recorded by ``chainrule.compile`` hears of it, so that its program keeps
    it as a constant."""
    if _recorder is not None:
        _recorder.array_from_shapes(array)
    return array


def made_from_arguments(array, requires_grad=False):
    """A tensor holding ``array``, made by a factory from Python values alone (``zeros``,
    ``arange``...). A call being recorded by ``chainrule.compile`` hears of it, so that its program
    makes it again, fresh, on each call (a tensor made otherwise may hold values of the inputs)."""
    result = tensor_from_array(array)
    if requires_grad:
        result.requires_grad = True
    elif _recorder is not None:
        _recorder.made_from_arguments(result)
    return result


def _keep_saved(ctx, args, raw_outputs, outputs):
    """Turn what forward saved into what the node keeps: an input stays the input tensor (backward
    may need its history); an output becomes a ``SavedOutput`` (no reference back to the tensor
    that holds this node); anything else (a mask, an array of indices) is kept as it is."""
    kept = []
    version_sum = 0
    single_output = len(raw_outputs) == 1
    for value in ctx._saved:
        if value is None:
            kept.append(None)
            continue
        if single_output:  # the common case, without a call to _position_among
            position = 0 if value is raw_outputs[0] or value is outputs[0] else None
        else:
            position = _position_among(value, raw_outputs, outputs)
        if position is not None:
            value = SavedOutput(outputs[position], position)
            version_sum += value.version
        else:
            if type(value) is ndarray:
                for arg in args:
                    if (type(arg) is Tensor or isinstance(arg, Tensor)) and arg._array is value:
                        value = arg
                        break
            if type(value) is Tensor or isinstance(value, Tensor):
                if value._is_inference and not grad_mode._state.transforming:
                    raise RuntimeError(
                        "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
                        "inference mode in computation tracked by autograd. To work around this, you can make a clone "
                        "to get a normal tensor and use it in autograd, or use `chainrule.no_grad()` instead of "
                        f"`chainrule.inference_mode()`. ({ctx.name()} needs one of shape {tuple(value._array.shape)}.)"
                    )
                holder = value._version_holder  # a view's base, as in _version_sum
                version_sum += (value if holder is None else holder)._version_count
        kept.append(value)
    ctx._saved = tuple(kept)
    ctx._version_sum_at_save = version_sum
    if _saved_tensors_hooks:
        _pack_saved(ctx, outputs)


def _pack_saved(ctx, outputs):
    """Put what ``ctx`` keeps through the innermost ``saved_tensors_hooks``' pack hook (inputs and
    outputs as their tensors, any other array as a new one); backward unpacks each. As in PyTorch,
    the hooks own the values: no in-place change to them is looked for afterwards, but the pack
    hook may not change its input in place; and an operand that was a Python number (``x * 2``'s 2,
    marked ``_is_wrapped_number``) is no saved tensor to them: it is kept as it is."""
    pack_hook, unpack_hook = _saved_tensors_hooks[-1]
    packed = []
    with grad_mode.no_grad():  # as PyTorch packs: nothing the hook computes is recorded
        for value in ctx._saved:
            if value is None or getattr(value, "_is_wrapped_number", False):
                packed.append(value)
                continue
            output_nr = value.output_nr if type(value) is SavedOutput else None
            tensor = outputs[output_nr] if output_nr is not None else value if isinstance(value, Tensor) else tensor_from_array(value)
            edge = gradient_edge(tensor) if output_nr is None and tensor._requires_grad else (None, 0)
            version = tensor._version_owner._version_count
            result = pack_hook(tensor)
            if tensor._version_owner._version_count != version:
                raise RuntimeError(
                    f"A saved tensor pack hook is modifying its input in place (a tensor of shape {tuple(tensor.shape)} "
                    f"that {ctx.name()} saves). Tensors provided as input to pack hook cannot be modified by in-place "
                    f"operations as this can lead to unexpected side-effects: pack a copy (tensor.clone()) instead."
                )
            packed.append(PackedSaved(result, unpack_hook, output_nr, edge if edge[0] is not None else None))
    ctx._saved = tuple(packed)
    ctx._version_sum_at_save = _version_sum(ctx._saved)


def _position_among(value, raw_outputs, outputs):
    """Which output ``value`` is (as the array forward returned or as the output tensor); None if none."""
    for position, raw in enumerate(raw_outputs):
        if value is raw or value is outputs[position]:
            return position
    return None


def _interned_shape(shape):
    """One shared tuple per distinct shape, so that nodes do not each keep their own copy."""
    interned = _SHAPES.get(shape)
    if interned is None:
        if len(_SHAPES) > 10_000:
            _SHAPES.clear()
        interned = _SHAPES[shape] = shape
    return interned


_SHAPES = {}


def _record(tensor):
    return (tensor._array.shape, tensor._array.dtype)


# Put in ``_input_meta`` at the positions of arguments that are not tensors (which the engine never
# reads: they have no node), so that ``next_functions`` can leave them out, as PyTorch's does.
_NOT_A_TENSOR = "not a tensor"

# ``(needs_input_grad, _input_meta of a node whose inputs all look like its output)``, made once for
# each (bit mask of the inputs that need grad, bit mask of the arguments that are no tensors, count)
# and shared by the nodes, not made per node.
_SHARED_RECORDS = {}


def _shared_records(mask, not_tensors, count):
    needs_input_grad = tuple(bool(mask >> position & 1) for position in range(count))
    like_output = tuple(_NOT_A_TENSOR if not_tensors >> position & 1 else None for position in range(count))
    shared = (needs_input_grad, like_output)
    if len(_SHARED_RECORDS) < 4096:
        _SHARED_RECORDS[(mask, not_tensors, count)] = shared
    return shared


_SHARED_UP_TO = 64
_ALL_LIKE_OUTPUT_NRS = [(0,) * count for count in range(_SHARED_UP_TO)]


class _UnrecordedContext(FunctionCtx):
    """The ``ctx`` that ``forward`` gets when nothing is recorded (under ``no_grad``, or when no
    input requires grad): it accepts what forward saves and keeps none of it."""

    needs_input_grad = ()
    materialize_grads = True
    _dirty = ()

    def save_for_backward(self, *values):
        pass

    def save_for_forward(self, *values):
        pass

    def mark_non_differentiable(self, *outputs):
        pass

    def set_materialize_grads(self, value):
        pass


class _UnrecordedCustomContext(_UnrecordedContext):
    """The unrecorded ``ctx`` of a custom Function: as PyTorch's, it tells which inputs require
    grad (``needs_input_grad`` does not depend on grad mode)."""

    def __init__(self, args):
        self.needs_input_grad = tuple([isinstance(arg, Tensor) and arg._requires_grad for arg in args])


def _bound_positionally(cls, args, kwargs):
    """``args`` and ``kwargs`` of ``cls.apply`` as ``forward``'s positional arguments, with its
    defaults for those not given (``forward(ctx, x, k=2)`` called as ``apply(x, k=3)``)."""
    forward = inspect.unwrap(cls.forward)
    takes_ctx = cls.setup_context is Function.setup_context
    try:
        bound = inspect.signature(forward).bind(*((None,) if takes_ctx else ()), *args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{cls.__name__}.apply(): {error}") from None
    bound.apply_defaults()
    return bound.args[1:] if takes_ctx else bound.args


@staticmethod
def _both_backward_and_vjp(ctx, *grad_outputs):
    raise RuntimeError(
        "Implementing both 'backward' and 'vjp' for a custom Function is not allowed. You should only implement one "
        "of them."
    )


def _has_defaults(forward):
    """Whether a Function's ``forward`` (a staticmethod) has parameters with defaults."""
    function = forward.__func__ if isinstance(forward, staticmethod) else forward
    return any(parameter.default is not parameter.empty for parameter in inspect.signature(function).parameters.values())


def _apply_with_defaults(cls, *args, **kwargs):
    """``apply`` of a Function with ``setup_context`` whose forward has defaults: they are bound,
    so that ``setup_context`` (and backward's count of inputs) sees every one, as in PyTorch."""
    return Function.apply.__func__(cls, *_bound_positionally(cls, args, kwargs))


def _forward_then_setup_context(forward, cls):
    """The ``forward(ctx, *args)`` of a Function written in the form with ``setup_context``."""
    forward = forward.__func__ if isinstance(forward, staticmethod) else forward

    def forward_with_context(ctx, *args):
        output = forward(*args)
        cls.setup_context(ctx, args, output)
        return output

    forward_with_context.__name__, forward_with_context.__doc__ = forward.__name__, forward.__doc__
    forward_with_context.__wrapped__ = forward  # the signature apply binds keyword arguments to
    return forward_with_context


def _as_output(raw, args, custom=None, keeps_layout=None):
    """Wrap an array returned by ``forward``; a returned input becomes a new tensor sharing it.

    ``custom`` is the ctx of a custom Function (None for chainrule's own operations, which return
    arrays and numbers): as in PyTorch, the inputs it marked dirty are returned themselves and its
    values that are no tensors (a count, a flag, None) as they are. An array, or an array's scalar
    (``x._array * 2`` of a 0-d tensor), is wrapped: chainrule lets a custom forward compute on arrays.
    With ``keeps_layout`` (the operation's, memory_layout.py), the single result of an operation
    one of whose tensors lies otherwise than row-major is laid out as PyTorch's; the check is
    written here, not called (memory_layout.keep_operands_layout's, for tensors only), because it
    runs on every elementwise operation.
    """
    if type(raw) is ndarray:
        raw = tensor_from_array(raw)
    elif isinstance(raw, Tensor):
        for arg in args:
            if raw is arg:
                if custom is not None and any(raw is dirty for dirty in custom._dirty):
                    return raw
                raw = tensor_from_array(raw._array)
                break
    elif custom is None or is_scalar(raw):
        raw = tensor_from_array(raw)
    else:
        return raw
    if MetaArray.alive and type(raw._array) is ndarray:
        raw._array = meta_if_any(raw._array, operand_arrays(args))
    if raw._array.base is not None:
        _mark_view(raw, args)
    if keeps_layout:
        for arg in args:
            if isinstance(arg, Tensor) and (arg._chosen_strides or arg._base is not None) and lies_otherwise(arg):
                lay_out_as_operands(raw, args, keeps_layout)
                break
    return raw


def operand_arrays(operands):
    """The arrays of ``operands`` (tensors, and the tensors or arrays in a tuple or list of them, as
    an indexing key holds), the rest as given."""
    arrays = []
    for operand in operands:
        if isinstance(operand, (tuple, list)):
            arrays += [each._array if isinstance(each, Tensor) else each for each in operand]
        else:
            arrays.append(operand._array if isinstance(operand, Tensor) else operand)
    return arrays


def _check_dirty_returned(ctx, raw_outputs):
    """PyTorch's rules for the inputs ``forward`` marked dirty: each must be among the outputs, and
    when the call is recorded none may be a leaf that requires grad, nor a view of one (backward
    would need its old value). A dirty tensor's node becomes ``ctx``: its old position on another
    node (and ``retain_grad``) are moved over. Returns the dirty views, which ``_rebase_dirty_views``
    puts in the graph once they hold their node."""
    each = raw_outputs if type(raw_outputs) is tuple else (raw_outputs,)
    positions = []
    for tensor in ctx._dirty:
        position = next((position for position, output in enumerate(each) if output is tensor), None)
        if position is None:
            raise RuntimeError(
                "Some elements marked as dirty during the forward method were not returned as output. The inputs "
                "that are modified inplace must all be outputs of the Function."
            )
        positions.append(position)
    if type(ctx) is _UnrecordedContext:
        return ()
    for tensor, position in zip(ctx._dirty, positions):
        if tensor._requires_grad and tensor.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
        if tensor._base is not None and tensor._base._requires_grad and tensor._base.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        if tensor.grad_fn is not None and tensor.retains_grad:
            del tensor.grad_fn._retained[tensor._output_nr]
            if ctx._retained is None:
                ctx._retained = {}
            ctx._retained[position] = weakref.ref(tensor)
        tensor._output_nr = position
    return [tensor for tensor in ctx._dirty if tensor._base is not None]


def _rebase_dirty_views(views):
    """Each of ``views``, a dirty output whose ``grad_fn`` is now the Function's node, put in the
    graph as PyTorch does: its base (already holding the new values) becomes a CopySlices of its
    old value and the view, and the view is read from there again, so that gradients through the
    base reach the Function."""
    for view in views:
        if view.grad_fn is not None:
            view._version_count = view._version_holder._version_count  # its node, the Function's, is current
            positions = view_positions(view)
            rebase_view(view, positions, snapshot(view._base)._copy_slices(positions, view))


def snapshot(tensor):
    """``tensor`` as it is now, in the graph, on a copy of its values: an operation recorded on it
    may save its input, and the array is about to be overwritten in place."""
    copy = tensor_from_array(tensor._array.copy(), tensor._requires_grad)
    copy.grad_fn, copy._output_nr = tensor.grad_fn, tensor._output_nr
    if _recorder is not None:
        _recorder.copied(copy, tensor)
    if _forward_ad is not None:
        _forward_ad.tangent_moved(tensor, copy)
    return copy


def view_positions(view):
    """Where ``view``'s elements lie in its base, as index arrays (a compiled program keeps them),
    with PyTorch's error when the view cannot be written through."""
    positions = positions_in(view._base._array, view._array)
    if positions is None:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation. "
            "(Or its layout cannot be written through.)"
        )
    return _key_of(positions)


def _key_of(positions):
    """``positions`` as an index key whose arrays a compiled program keeps (``array_from_shapes``)."""
    return tuple(part if part is Ellipsis else array_from_shapes(part) for part in positions)


def _read_as(view, reread):
    """``reread`` (a base read at a view's positions) in the view's shape: the one element of a 0-d
    base, read through ``(...,)``, is expanded to it."""
    return reread if reread._array.shape == view._array.shape else reread.expand(view._array.shape)


def rebase_view(view, positions, new_base, part=None):
    """In the graph, ``view``'s base becomes ``new_base`` (its old value with the view's elements at
    ``positions`` replaced: a CopySlices node), and ``view`` is read from there again (its ``part``,
    "real" or "imag", of a complex base's elements)."""
    base = view._base
    base._became_output_of(new_base.grad_fn, new_base._output_nr)
    reread = _read_as(view, base[positions] if part is None else getattr(base[positions], part))
    view._became_output_of(reread.grad_fn, reread._output_nr)
    view._version_count = view._version_holder._version_count  # its node is current (see refresh_view_history)


def refresh_view_history(view):
    """``view``'s node, made again from its base's if the base changed in place since it was made
    (``y.mul_(2)`` after ``v = y[:, 1:3]``, or a write through another view of y): ``view`` is read
    from its base as it is now (an ``IndexBackward0`` node where PyTorch has ``AsStridedBackward0``),
    so that a gradient through it goes through the change. As PyTorch does when the view's
    ``grad_fn`` is asked for.

    A view's own ``_version_count`` is no counter (it shares its base's: ``_version_holder``); it
    keeps the version its node was made at, as PyTorch's ``attr_version``. An output of a function
    that returns several views (``unbind``) cannot be made again: PyTorch's error."""
    node = view.grad_fn
    holder = view._version_holder
    if node is None or view._version_count == holder._version_count:
        return node
    if view_of_several_node(node):
        raise modified_view_of_several_error(view, "its base or another view of its base has been modified inplace")
    view._version_count = holder._version_count
    positions = positions_in(view._base._array, view._array, repeated=True)
    if positions is None:  # a base not laid out row-major: the view keeps the node it has
        return node
    enabled, grad_mode._state.enabled = grad_mode._state.enabled, True
    try:
        reread = _read_as(view, view._base[_key_of(positions)])
    finally:
        grad_mode._state.enabled = enabled
    if reread.grad_fn is not None:
        view._became_output_of(reread.grad_fn, reread._output_nr)
    return view.grad_fn


#: PyTorch's nodes of the functions that return several views of their input: an output of one,
#: or a view of it, may not be changed in place with the change recorded (``unsafe_split`` and
#: ``unsafe_chunk``, whose PyTorch nodes are named apart, may).
NODES_OF_SEVERAL_VIEWS = frozenset({"SplitBackward0", "SplitWithSizesBackward0", "UnbindBackward0"})


def view_of_several_node(node):
    """Whether the views ``node`` made may not be changed in place: several views of its input
    (``unbind``'s, ``split``'s), views of its inputs a Function returned that refuses it
    (``views_refuse_in_place``), or any a user's custom Function returned (its backward would be
    bypassed: PyTorch's rule)."""
    if getattr(node, "_repr_names_module", False):
        return True
    return node._multi_output_meta is not None and (
        node.name() in NODES_OF_SEVERAL_VIEWS or getattr(node.function, "views_refuse_in_place", False)
    )


def modified_view_of_several_error(view, what):
    """PyTorch's error for a view that may not be changed in place (an output of a node that
    ``view_of_several_node`` names, or a view of one) changed in place (``what`` says how)."""
    node = view.grad_fn
    while node is not None and not view_of_several_node(node):
        node = node.next_nodes[0] if node.next_nodes else None
    if node is not None and node.name() not in NODES_OF_SEVERAL_VIEWS:
        reason = (
            "This view was created inside a custom Function (or because an input was returned as-is) and the "
            "autograd logic to handle view+inplace would override the custom backward associated with the custom "
            "Function, leading to incorrect gradients. This behavior is forbidden. You can fix this by cloning the "
            "output of the custom Function."
        )
    else:
        reason = (
            "This view is the output of a function that returns multiple views. Such functions do not allow the "
            "output views to be modified inplace. You should replace the inplace operation by an out-of-place one."
        )
    return RuntimeError(f"Output {view._output_nr} of {_operation_name(view.grad_fn)} is a view and {what}. {reason}")


def _mark_view(output, args):
    """If ``output``'s array views an input's memory (a slice, reshape, transpose...), make it share
    that input's version counter: an in-place change through either is then noticed by both. Views
    are told by the memory they share, which also finds those of arrays NumPy's as_strided made.

    As in PyTorch, a view is an inference tensor when its input is, and a view made with grad mode
    off of an input that requires grad requires grad too, though no gradient flows into it (see
    ``ViewMadeWithoutGrad``)."""
    owner = memory_owner(output._array)
    for arg in args:
        # (an input whose array is the owner holds its own memory: no need to follow its bases)
        if isinstance(arg, Tensor) and (arg._array is owner or memory_owner(arg._array) is owner):
            output._base = arg if arg._base is None else arg._base
            output._version_holder = holder = arg._version_owner
            output._version_count = holder._version_count  # the version its node is made at (see refresh_view_history)
            output._is_inference = arg._is_inference
            if arg._requires_grad and not grad_mode._state.enabled:
                output._requires_grad = True
                output._accumulator = MADE_IN_INFERENCE_MODE if grad_mode._state.inference else MADE_IN_NO_GRAD
            return


def _attach(output, raw, node, output_nr):
    """Make ``output`` the ``output_nr``-th result of ``node`` (floating outputs only, unless
    forward marked ``raw``, what it returned there, non-differentiable)."""
    if output._array.dtype.kind in "fc" and id(raw) not in node._non_differentiable:
        output.grad_fn = node
        output._output_nr = output_nr
        output._requires_grad = True
