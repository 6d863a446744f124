"""The backward pass: walk the graph from the output to the leaves, applying the chain rule.

Two sweeps, both iterative so that a chain of a million operations needs no recursion:

1. ``count_dependencies`` visits every node reachable from the output once and counts, for each, how
   many edges lead into it (how many gradients it must wait for).
2. ``backward`` starts at the output's node; a node runs its ``backward`` once all the gradients for
   its outputs have arrived (summed where a tensor was used twice), then hands one gradient to each
   input's node. Leaves receive theirs in ``.grad``.

This is the order PyTorch uses: each node is visited once, however often it was reused.

The gradients travel as arrays in a plain backward (nothing needs recording, so no tensor is made
for each one) and as tensors under ``create_graph=True``, where the backward pass is itself recorded.
A gradient whose shape or dtype differs from its input's (the input was broadcast, or cast) is
summed back and cast here, in one place, so that no operation repeats that work.
"""
import contextlib
import threading

from chainrule import dtypes
from chainrule.caller_warnings import warn_at_caller
from chainrule.memory_layout import contiguous_format
from chainrule.autograd import anomaly, grad_mode
from chainrule.autograd import function as function_module
from chainrule.autograd.function import AccumulateGrad, BackwardNode, gradient_edge
from chainrule.backend import MetaArray, as_array, ignoring_float_errors, meta_array, ndarray, xp
from chainrule.sparse.coo_array import SparseCOOArray
from chainrule.tensor import CHOSEN_GRAD_DTYPES, TENSORS_OF_OTHER_ARRAYS, Tensor, tensor_from_array
from chainrule.utils.hooks import through_hooks


def count_dependencies(roots):
    """For each node reachable from ``roots``, the number of edges that point at it."""
    dependencies = {}
    stack = list(dict.fromkeys(node for node in roots if node is not None))  # two outputs of one node: once
    for node in stack:
        dependencies.setdefault(node, 0)
    while stack:
        node = stack.pop()
        for next_node in node.next_nodes:
            if next_node is None:
                continue
            if next_node in dependencies:
                dependencies[next_node] += 1
            else:
                dependencies[next_node] = 1
                stack.append(next_node)
    return dependencies


def nodes_leading_to(roots, targets):
    """The nodes reachable from ``roots`` with a path to one of ``targets``: those whose backward
    must run for a gradient to arrive there (PyTorch's ``exec_info``). ``autograd.grad`` runs only
    these, so a branch that leads to none of its inputs is neither computed nor freed.

    An iterative depth-first walk: a node is decided once all the nodes after it are.
    """
    leads = {}
    stack = [(node, False) for node in roots if node is not None]
    while stack:
        node, after_decided = stack.pop()
        if after_decided:
            leads[node] = any(next_node in targets or leads.get(next_node, False) for next_node in node.next_nodes)
            continue
        if node in leads:
            continue
        leads[node] = False  # until decided; a graph has no cycles, so no node waits on itself
        stack.append((node, True))
        stack.extend((next_node, False) for next_node in node.next_nodes if next_node is not None and next_node not in leads)
    return {node for node, leading in leads.items() if leading}


def count_pruned_dependencies(roots, targets):
    """``(dependencies, executed)`` for a pass that only feeds ``targets``: the nodes whose backward
    runs, and for them and the targets the number of edges from a running node that point at them."""
    executed = nodes_leading_to(roots, targets)
    dependencies = {node: 0 for node in executed}
    for node in roots:
        if node in targets:
            dependencies.setdefault(node, 0)
    for node in executed:
        for next_node in node.next_nodes:
            if next_node in executed or next_node in targets:
                dependencies[next_node] = dependencies.get(next_node, 0) + 1
    return dependencies, executed


def run_backward(outputs, grad_outputs, retain_graph=False, create_graph=False, capture=None, observer=None):
    """Send ``grad_outputs`` (tensors) back from ``outputs`` through the graph.

    Without ``capture``, leaves accumulate their gradients in ``.grad``. With ``capture`` (a dict
    mapping ``(node, output_nr)`` keys to ``None``), the gradients arriving at those keys are stored
    in it, as tensors, instead and no ``.grad`` is touched: this is ``autograd.grad``. Only the nodes
    on a path to a captured key run then, as in PyTorch (an empty dict runs them all); with an
    ``InputsToAccumulate`` (``backward(inputs=...)``) the nodes of the keys run too, and accumulate
    into ``.grad`` as without ``capture``. ``observer``,
    when given, is called as ``observer(node, grads_in, grads_out)`` after each node's backward (the
    trace in ``chainrule.viz`` watches the chain rule this way).
    """
    if function_module._recorder is not None:  # chainrule.compile is recording this call (compile/recorder.py)
        return function_module._recorder.backward(run_backward, outputs, grad_outputs, retain_graph, create_graph, capture, observer)
    previous_mode = grad_mode.is_grad_enabled()
    grad_mode.set_enabled(create_graph)
    try:
        # inf and nan in gradients pass silently, as in PyTorch (detect_anomaly is there to catch them).
        with ignoring_float_errors():
            _run(outputs, grad_outputs, retain_graph, create_graph, capture, observer)
    finally:
        grad_mode.set_enabled(previous_mode)


class InputsToAccumulate(dict):
    """The ``capture`` of ``backward(inputs=...)``: its keys, the gradient edges of the inputs, limit
    the pass to the nodes that lead to them, as ``autograd.grad``'s do, and their own nodes run as in
    a full backward: a leaf's AccumulateGrad adds into ``.grad``, a non-leaf's node runs its hooks
    and fills ``.grad`` through ``retain_grad()``, as PyTorch's engine does with ``accumulate_grad``."""


class _OnePassPerThread(type):
    """``BackwardPass.current``: the pass running in this thread, as PyTorch's engine keeps the
    current graph task per thread (a pass in another thread is not this one's: a callback queued
    here outside a pass is refused even while another thread runs backward)."""

    _this_thread = threading.local()

    @property
    def current(cls):
        return getattr(cls._this_thread, "current", None)

    @current.setter
    def current(cls, backward_pass):
        cls._this_thread.current = backward_pass


class BackwardPass(metaclass=_OnePassPerThread):
    """The backward pass running now in this thread (``current``), for hooks that need to know which
    nodes it reaches (``autograd.graph.register_multi_grad_hook``): ``number`` counts the passes.
    ``runs_every_node`` is False for ``autograd.grad`` and ``backward(inputs=...)``, which run only
    the nodes leading to their inputs (the reentrant checkpoint refuses them, as PyTorch's)."""

    started = 0

    def __init__(self, dependencies, runs_every_node=True):
        BackwardPass.started += 1
        self.number = BackwardPass.started
        self.dependencies = dependencies
        self.runs_every_node = runs_every_node
        self.final_callbacks = []  # queue_callback's, run once every node has run

    def reaches(self, node):
        return node in self.dependencies

    def run_final_callbacks(self):
        """The callbacks queued during this pass, in order (one may queue another: it runs too)."""
        while self.final_callbacks:
            self.final_callbacks.pop(0)()


class ExecutionEngine:
    """PyTorch's ``Variable._execution_engine``: ``queue_callback(callback)``, called during a
    backward pass (from a hook), runs ``callback()`` once the pass has run every node (gradient
    bucketing code uses it to act once all gradients are in)."""

    @staticmethod
    def queue_callback(callback):
        if BackwardPass.current is None:
            raise RuntimeError("Final callbacks can only be installed during backward pass.")
        BackwardPass.current.final_callbacks.append(callback)


def _run(outputs, grad_outputs, retain_graph, create_graph, capture, observer):
    roots = []
    pending = {}  # node -> list of summed gradients, one per output of the node
    for output, grad in zip(outputs, grad_outputs):
        node, output_nr = gradient_edge(output)
        roots.append(node)
        add_pending(pending, node, output_nr, grad if create_graph else grad._array)
    if not capture:  # an empty capture (chainrule.compile's deferred backward) observes the whole graph
        dependencies, executed = count_dependencies(roots), None
    else:
        targets = {node for node, _ in capture}
        dependencies, executed = count_pruned_dependencies(roots, targets)
        if type(capture) is InputsToAccumulate:
            executed |= targets
    outer, BackwardPass.current = BackwardPass.current, BackwardPass(dependencies, executed is None)
    try:
        with function_module.backward_running():
            _run_nodes(roots, pending, dependencies, executed, retain_graph, create_graph, capture, observer)
        BackwardPass.current.run_final_callbacks()
    finally:
        BackwardPass.current = outer


def _run_nodes(roots, pending, dependencies, executed, retain_graph, create_graph, capture, observer):
    """Run each node once its gradients have all arrived. ``executed``, when given, holds the only
    nodes whose backward runs (the others in ``dependencies`` are captured keys, nothing more)."""
    ready = [node for node in dict.fromkeys(roots) if dependencies.get(node) == 0]
    check_nan = anomaly.checks_nan()

    while ready:
        node = ready.pop()
        grads = pending.pop(node, None)
        if grads is None:  # every gradient sent here was None: backward gets zeros for each output
            grads = [None] * len(node.output_meta)
        node_hooks = node._node_hooks
        if type(node) is AccumulateGrad:
            if capture is None or type(capture) is InputsToAccumulate:
                if node_hooks is None:
                    accumulate(node.variable, grads[0])
                else:
                    _accumulate_with_node_hooks(node, node_hooks, grads)
            elif (node, 0) in capture:  # autograd.grad: the leaf's hooks run on what is captured, not the node's
                capture[(node, 0)] = _run_tensor_hooks(node.variable._hooks, as_tensor_value(grads[0]))
            if observer is not None:
                observer(node, grads, ())
            continue

        if executed is not None and node not in executed:
            # Only captured: as in PyTorch, the tensors' hooks run on what is captured, since they
            # will not run later (NOTE [Hooks ordering] in PyTorch's engine).
            if node._output_hooks or node._retained:
                grads = _run_output_hooks(node, grads)
            _capture(node, grads, capture)
            continue
        if capture is not None:  # captured before the hooks, which run with the node's backward
            _capture(node, grads, capture)
        if node._output_hooks or node._retained:
            grads = _run_output_hooks(node, grads)
        if node_hooks is not None and node_hooks.pre:
            grads = _run_node_prehooks(node, node_hooks.pre, grads)
        if node._freed:
            raise node.freed_error()
        try:
            input_grads = call_backward(node, grads, create_graph)
            if node_hooks is not None and node_hooks.post:
                input_grads = _run_node_hooks(node, node_hooks.post, input_grads, grads)
            if check_nan:
                _check_nan(node, input_grads)
        except Exception:
            if anomaly._state.enabled:
                _warn_forward_trace(node)
            raise
        if observer is not None:
            observer(node, grads, input_grads)
        if not retain_graph:
            node.release()
        if MetaArray.alive and any(_is_meta(grad) for grad in grads):  # a backward from a meta tensor: its gradients are meta
            input_grads = [_as_meta(grad) for grad in input_grads]

        output_shape, output_dtype = node._output_shape, node._output_dtype
        for next_node, output_nr, grad, meta in zip(node.next_nodes, node.next_output_nrs, input_grads, node._input_meta):
            if next_node is None or (executed is not None and next_node not in dependencies):
                continue
            if grad is not None:
                shape, dtype = (output_shape, output_dtype) if meta is None else meta
                # The common case, a value of the engine's kind with the input's shape and dtype, needs no fitting.
                array = grad._array if create_graph and type(grad) is Tensor else grad
                if type(array) is not ndarray or (create_graph and array is grad) or array.shape != shape or array.dtype != dtype:
                    position = next(index for index, each in enumerate(input_grads) if each is grad)  # for the error
                    grad = fit_to_input(grad, shape, dtype, node, position)
                add_pending(pending, next_node, output_nr, grad)
            remaining = dependencies[next_node] - 1
            dependencies[next_node] = remaining
            if remaining == 0:
                ready.append(next_node)


def _capture(node, grads, capture):
    """Store in ``capture`` the gradients arriving at those outputs of ``node`` that it asks for."""
    for output_nr, grad in enumerate(grads):
        if (node, output_nr) in capture:
            capture[(node, output_nr)] = as_tensor_value(grad)


def add_pending(pending, node, output_nr, grad):
    """Add ``grad`` to the gradients waiting for output ``output_nr`` of ``node``."""
    slots = pending.get(node)
    if slots is None:
        outputs = node._multi_output_meta
        slots = pending[node] = [None] * (1 if outputs is None else len(outputs))
    if grad is None:
        return
    existing = slots[output_nr]
    if existing is None:
        slots[output_nr] = grad
    elif type(existing) is SparseCOOArray:  # PyTorch's InputBuffer adds a sparse sum the other way round
        slots[output_nr] = grad + existing
    else:
        slots[output_nr] = existing + grad


#: What the recorded backward of one of chainrule's own operations (``create_graph``) runs inside:
#: once a Tensor subclass or mode takes calls, ``overrides.py`` makes it the switch that hands none
#: to ``__torch_function__``, since PyTorch computes its own operations' derivatives in C++, where
#: no subclass or mode sees them.
own_recorded_backward = contextlib.nullcontext


def call_backward(node, grads, recording=False):
    """Call the Function's ``backward`` with the gradients of its outputs (arrays in a plain
    backward, tensors in a ``recording`` one) and check what it returned.

    A custom ``Function`` written for PyTorch expects tensors even in a plain backward: it gets them,
    and what it returns is taken back to arrays.
    """
    if grads[0] is None and node.function.on_arrays and all(grad is None for grad in grads):
        # No gradient arrived for any output: as PyTorch's own nodes, give none to the inputs.
        return (None,) * len(node.next_nodes)
    if node.materialize_grads and (len(grads) > 1 or grads[0] is None):
        # An output that is no tensor (a custom Function's count or flag) has no meta: it gets None.
        grads = [
            grad if grad is not None or meta is None else _zeros(*meta, recording)
            for grad, meta in zip(grads, node.output_meta)
        ]
    function = node.function
    if recording and function.on_arrays:
        with own_recorded_backward():
            input_grads = function.backward(node, *grads)
    elif function.on_arrays:
        input_grads = function.backward(node, *grads)
    else:
        input_grads = function_module.run_custom_backward(node, *(grads if recording else [as_tensor_value(grad) for grad in grads]))
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    count = len(node.next_nodes)
    if len(input_grads) != count:
        if len(input_grads) > count and all(grad is None for grad in input_grads[count:]):
            input_grads = input_grads[:count]
        else:
            raise RuntimeError(
                f"function {node.name()} returned an incorrect number of gradients (expected "
                f"{count}, got {len(input_grads)})"
            )
    if not function.on_arrays and isinstance(node, BackwardNode):  # not a compiled program's replayed context
        _check_custom_gradients(node, input_grads)
    return input_grads


def _check_custom_gradients(node, input_grads):
    """PyTorch's checks on what a custom Function's ``backward`` returned: a tensor (or, in
    chainrule, an array) or None for each input, and None for each input that was no tensor."""
    for position, grad in enumerate(input_grads):
        if grad is None:
            continue
        if not isinstance(grad, (Tensor, ndarray)):
            raise RuntimeError(
                f"expected Variable or None (got {type(grad).__name__}): {node.name()} returned it as the gradient "
                f"for input {position}; return a tensor of that input's shape, or None"
            )
        if node._input_meta[position] is function_module._NOT_A_TENSOR:
            raise RuntimeError(
                f"function {node.name()} returned a gradient different than None at position {position + 1}, but the "
                f"corresponding forward input was not a Variable"
            )


def call_node(node, grad_outputs):
    """``node(*grad_outputs)``: the node's backward run on its own, as PyTorch's nodes can be called.

    Returns the gradient for each entry of ``node.next_functions`` (None where that input needs
    none), alone when there is one; a leaf's ``AccumulateGrad`` adds into ``.grad`` and returns ().
    Recorded when grad mode is on (the gradients can then be differentiated again).
    """
    expected = len(node.output_meta) if type(node) is not AccumulateGrad else 1
    if len(grad_outputs) != expected:
        raise TypeError(f"expected {expected} arguments, got {len(grad_outputs)} instead")
    recording = grad_mode._state.enabled
    grads = []
    for position, grad in enumerate(grad_outputs):
        if grad is not None:
            if not isinstance(grad, Tensor):
                grad = tensor_from_array(as_array(grad))
            meta = node.output_meta[position] if type(node) is not AccumulateGrad else (node.variable._array.shape,)
            if meta is not None and tuple(grad._array.shape) != tuple(meta[0]):
                raise RuntimeError(
                    f"{node.name()}: the gradient for output {position} has shape {tuple(grad.shape)}, but that "
                    f"output has shape {tuple(meta[0])}; pass one gradient of each output's shape"
                )
            grad = grad if recording else grad._array
        grads.append(grad)
    if type(node) is AccumulateGrad:
        accumulate(node.variable, grads[0])
        return ()
    if node._freed:
        raise node.freed_error()
    with ignoring_float_errors(), function_module.backward_running():
        input_grads = call_backward(node, grads, recording)
        results = []
        for position in node.tensor_input_positions():
            grad = input_grads[position]
            if grad is None or node.next_nodes[position] is None:
                results.append(None)
                continue
            meta = node._input_meta[position]
            shape, dtype = (node._output_shape, node._output_dtype) if meta is None else meta
            results.append(as_tensor_value(fit_to_input(grad, shape, dtype, node, position)))
    return results[0] if len(results) == 1 else tuple(results)


def fit_to_input(grad, shape, dtype, node=None, position=0):
    """``grad`` as a gradient for an input of ``shape`` and ``dtype``: summed over the axes the input
    was broadcast along, cast to its dtype (its real part for a real input of a complex result), and made an array (plain backward) or a tensor (recorded).
    ``node`` and ``position`` (which of its inputs) name the gradient in the error for a shape that
    cannot be summed to the input's.
    """
    if type(grad) in TENSORS_OF_OTHER_ARRAYS:  # a sparse array (Embedding(sparse=True)'s, a CSR product's), of the input's shape
        return grad if grad.dtype == dtype else grad.astype(dtype)
    recording = grad_mode._state.enabled
    if recording:
        if not isinstance(grad, Tensor):  # (a subclass's gradient is a tensor already: its __array__ may refuse)
            grad = tensor_from_array(grad if isinstance(grad, ndarray) else as_array(grad))
        array = grad._array
    else:
        if type(grad) is not ndarray and type(grad) is not MetaArray:  # (as_array would make a meta array a plain one)
            grad = grad._array if isinstance(grad, Tensor) else as_array(grad)
        array = grad
    if array.shape != shape:
        try:
            grad = sum_to_shape(grad, shape)
        except ValueError:
            name = node.name() if node is not None else "backward"
            raise RuntimeError(
                f"Function {name} returned an invalid gradient at index {position} - got {list(array.shape)} but "
                f"expected shape compatible with {list(shape)}"
            ) from None
    if array.dtype != dtype:
        if array.dtype.kind == "c" and dtype.kind != "c":
            # a real input of a complex result gets the real part of the gradient (PyTorch's
            # handle_r_to_c): the imaginary part is the derivative along a direction it cannot move
            grad = grad.real
            if grad.dtype == dtype:
                return grad
        grad = grad.to(dtype) if recording else grad.astype(dtype)
    return grad


def sum_to_shape(grad, shape):
    """``grad`` summed over the leading and the stretched (size-1) axes so that it has ``shape``:
    the gradient of broadcasting an input of ``shape`` (each element was used once per repeat).
    ValueError unless ``shape`` broadcasts to ``grad``'s (PyTorch's ``is_expandable_to``): a
    gradient of another shape with as many elements (``[3, 2]`` for ``[2, 3]``) is no such sum.

    Works on arrays and on tensors alike, with the methods they share.
    """
    grad_shape = grad.shape
    lead = len(grad_shape) - len(shape)
    if lead < 0 or any(size != 1 and size != grad_shape[lead + axis] for axis, size in enumerate(shape)):
        raise ValueError(f"cannot sum shape {tuple(grad_shape)} to {shape}")
    stretched = tuple(lead + axis for axis, size in enumerate(shape) if size == 1 and grad_shape[lead + axis] != 1)
    axes = tuple(range(lead)) + stretched
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if lead:
        grad = grad.reshape(shape)
    return grad


def as_tensor_value(grad):
    """A gradient as a tensor (hooks and ``autograd.grad`` hand out tensors); None stays None."""
    if grad is None or isinstance(grad, Tensor):
        return grad
    return tensor_from_array(grad)


def _as_engine_value(grad):
    """What a hook returned, as the engine carries it in the current mode."""
    if grad is None or grad_mode._state.enabled:
        return grad
    return grad._array if isinstance(grad, Tensor) else grad


def _run_output_hooks(node, grads):
    """Apply ``register_hook`` hooks and ``retain_grad`` to the gradients of ``node``'s outputs."""
    if node._output_hooks:
        grads = list(grads)
        for output_nr, hooks in node._output_hooks.items():
            grads[output_nr] = _as_engine_value(_run_tensor_hooks(hooks, as_tensor_value(grads[output_nr])))
    if node._retained:
        for output_nr, reference in node._retained.items():
            tensor = reference()
            if tensor is not None and grads[output_nr] is not None:
                accumulate(tensor, grads[output_nr])
    return grads


def _accumulate_with_node_hooks(node, node_hooks, grads):
    """A leaf's AccumulateGrad node with ``register_prehook`` or ``register_hook`` hooks, run in
    PyTorch's order: the leaf's own hooks (``Tensor.register_hook``), the node's prehooks, the
    accumulation into ``.grad`` (with its post-accumulate hooks), then the node's hooks."""
    variable = node.variable
    if node_hooks.pre:
        grads = [_as_engine_value(_run_tensor_hooks(variable._hooks, as_tensor_value(grads[0])))]
        grads = _run_node_prehooks(node, node_hooks.pre, grads)
        accumulate(variable, grads[0], tensor_hooks_ran=True)
    else:
        accumulate(variable, grads[0])
    if node_hooks.post:
        _run_node_hooks(node, node_hooks.post, (), grads)


def _run_node_prehooks(node, hooks, grads):
    """``node.register_prehook`` hooks, each given the gradients of the node's outputs (a tuple of
    tensors) and replacing them when it returns a tuple."""
    grads = tuple([as_tensor_value(grad) for grad in grads])
    for hook in list(hooks.values()):
        grads = _replaced(node, "prehook", hook, grads, hook(grads))
    return [_as_engine_value(grad) for grad in grads]


def _run_node_hooks(node, hooks, input_grads, grads):
    """``node.register_hook`` hooks, each given the gradients the node computed for its inputs and
    those of its outputs, and replacing the former when it returns a tuple.

    ``input_grads`` has one entry per argument of ``forward``; the hooks see one per entry of
    ``next_functions`` (the tensor inputs, None for one that needs no gradient), as PyTorch's, and
    what they return is put back at those positions."""
    given = tuple([as_tensor_value(grad) for grad in grads])
    positions = node.tensor_input_positions()
    next_nodes = node.next_nodes
    grad_inputs = tuple([
        None if next_nodes[position] is None else as_tensor_value(input_grads[position]) for position in positions
    ])
    for hook in list(hooks.values()):
        grad_inputs = _replaced(node, "hook", hook, grad_inputs, hook(grad_inputs, given))
    replaced = [None] * len(next_nodes)
    for position, grad in zip(positions, grad_inputs):
        replaced[position] = _as_engine_value(grad)
    return tuple(replaced)


def _replaced(node, kind, hook, grads, returned):
    """What a node's ``hook`` (its ``kind``: "hook" or "prehook") returned, checked to replace
    ``grads`` as PyTorch checks it: None (keep them) or a tuple of as many, each None or a tensor of
    the dtype and shape of the one it replaces, which must not be None."""
    if returned is None:
        return grads
    if not isinstance(returned, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(returned).__name__}' ({kind} of {node.name()})")
    if len(returned) != len(grads):
        raise RuntimeError(
            f"hook '{_hook_name(hook)}' has returned an incorrect number of values (got {len(returned)}, but expected "
            f"{len(grads)}) ({kind} of {node.name()}: return one gradient, or None, for each)"
        )
    for old, new in zip(grads, returned):
        if new is None:
            continue
        if old is None:
            raise RuntimeError(f"can't replace a None gradient with a non-None value ({kind} of {node.name()})")
        _check_hook_gradient(hook, new, old)
    return returned


def _run_tensor_hooks(hooks, grad):
    """``grad`` through a tensor's ``register_hook`` hooks in turn: a tensor one returns replaces it
    for the next, and must have its shape and dtype (PyTorch's checks); None keeps it."""
    return through_hooks(hooks, grad, check=_check_hook_gradient) if hooks and grad is not None else grad


def _check_hook_gradient(hook, replacement, grad):
    """PyTorch's checks on a tensor a hook returned in place of the gradient ``grad``."""
    if not isinstance(replacement, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(replacement).__name__}'")
    if replacement._array.dtype != grad._array.dtype:
        raise RuntimeError(
            f"hook '{_hook_name(hook)}' has changed the type of value (was {function_module.tensor_type_name(grad._array)} "
            f"got {function_module.tensor_type_name(replacement._array)})"
        )
    if replacement._array.shape != grad._array.shape:
        raise RuntimeError(
            f"hook '{_hook_name(hook)}' has changed the size of value (from {list(grad._array.shape)} to "
            f"{list(replacement._array.shape)}); a hook must return a gradient of the tensor's shape"
        )


def _hook_name(hook):
    return getattr(hook, "__name__", type(hook).__name__)


def _as_grad_dtype(grad, dtype):
    """``grad`` (an array or a tensor) converted to ``dtype``; unchanged for None (any dtype)."""
    if dtype is None or grad.dtype == dtype:
        return grad
    return grad.to(dtypes.of(dtype)) if isinstance(grad, Tensor) else grad.astype(dtype)


def accumulate(tensor, grad, tensor_hooks_ran=False):
    """``tensor.grad += grad`` (after the tensor's hooks, unless ``tensor_hooks_ran``), as PyTorch's
    AccumulateGrad does.

    ``grad`` is an array in a plain backward and a tensor in a recorded one (``create_graph``).
    """
    if grad is None:
        return
    if tensor._hooks and not tensor_hooks_ran and tensor.grad_fn is None:
        grad = _run_tensor_hooks(tensor._hooks, as_tensor_value(grad))
    if CHOSEN_GRAD_DTYPES and tensor in CHOSEN_GRAD_DTYPES:  # x.grad_dtype = another dtype
        grad = _as_grad_dtype(grad, CHOSEN_GRAD_DTYPES[tensor])
    recording = grad_mode._state.enabled
    current = tensor._grad  # the engine writes what it made itself, past the checks of the .grad setter
    if type(grad) is SparseCOOArray or (current is not None and type(current._array) is SparseCOOArray):
        tensor._grad = accumulated_sparse(current, grad)
    elif current is None:
        # A copy, so that no two leaves ever share one gradient array (zero_() on one would clear both),
        # laid out row-major in both passes (a gradient of p.t() is a transposed view: .grad.view(-1) works)
        if recording:
            tensor._grad = as_tensor_value(grad).clone(memory_format=contiguous_format)
        else:
            tensor._grad = tensor_from_array((grad._array if isinstance(grad, Tensor) else grad).copy())
    elif recording:
        tensor._grad = current + grad
    else:
        current._array += grad._array if isinstance(grad, Tensor) else grad
    if tensor._post_accumulate_grad_hooks:  # register_post_accumulate_grad_hook
        for hook in list(tensor._post_accumulate_grad_hooks.values()):
            returned = hook(tensor)  # None, or the tensor itself (p.add_(...) in a lambda), as PyTorch takes
            if returned is not None and returned is not tensor:
                if not isinstance(returned, Tensor):
                    raise TypeError(f"expected Variable, but hook returned '{type(returned).__name__}'")
                raise RuntimeError(
                    f"Tensor post accumulate grad hooks should return None. (hook "
                    f"'{getattr(hook, '__name__', type(hook).__name__)}' returned another tensor: change the tensor in place instead)"
                )


def accumulated_sparse(current, grad):
    """``.grad`` after a gradient arrives where one of the two is sparse (AccumulateGrad's rules):
    the first is kept as a copy; sparse + sparse is a sparse tensor listing both (``coo_array``'s
    sum); dense + sparse, either way round, a dense one (the .grad tensor itself when it was dense)."""
    array = grad._array if isinstance(grad, Tensor) else grad
    if current is None:
        return tensor_from_array(array.copy())
    if type(current._array) is SparseCOOArray and type(array) is not SparseCOOArray:
        return tensor_from_array(array + current._array)
    if type(current._array) is SparseCOOArray:
        current._array = current._array + array
    else:
        current._array += array.to_dense()
    return current


def _is_meta(grad):
    return type(grad._array if isinstance(grad, Tensor) else grad) is MetaArray


def _as_meta(grad):
    """A gradient (an array, a tensor or None) on the meta device, keeping its shape and dtype."""
    array = grad._array if isinstance(grad, Tensor) else grad
    if type(array) is not ndarray:
        return grad
    meta = meta_array(array.shape, array.dtype)
    return tensor_from_array(meta) if isinstance(grad, Tensor) else meta


def _zeros(shape, dtype, recording):
    zeros = xp.zeros(shape, dtype=dtype)
    return tensor_from_array(zeros) if recording else zeros


def _check_nan(node, input_grads):
    for index, grad in enumerate(input_grads):
        if grad is not None and xp.isnan(grad._array if isinstance(grad, Tensor) else grad).any():
            where = node._forward_trace or "(the node was created outside detect_anomaly)\n"
            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {index}th output.\n"
                f"The forward call that created it:\n{where}"
            )


def _warn_forward_trace(node):
    """Under anomaly detection, the error raised in ``node``'s backward is preceded by PyTorch's
    warning, which shows where the forward call that made the node was."""
    if node._forward_trace is None:
        warn_at_caller(
            f"Error detected in {node.name()}. No forward pass information available. Enable detect anomaly during "
            f"forward pass for more information."
        )
    else:
        warn_at_caller(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{node._forward_trace}")
