"""The backward pass: walk the graph from the output to the leaves, applying the chain rule.

Two sweeps, both iterative so that a chain of a million operations needs no recursion:

1. ``count_dependencies`` visits every node reachable from the output once and counts, for each, how
   many edges lead into it (how many gradients it must wait for).
2. ``backward`` starts at the output's node; a node runs its ``backward`` once all the gradients for
   its outputs have arrived (summed where a tensor was used twice), then hands one gradient to each
   input's node. Leaves receive theirs in ``.grad``.

This is the order PyTorch uses: each node is visited once, however often it was reused.
"""
from chainrule.autograd import anomaly, grad_mode
from chainrule.autograd.function import AccumulateGrad


def count_dependencies(roots):
    """For each node reachable from ``roots``, the number of edges that point at it."""
    dependencies = {}
    stack = [node for node in roots if node is not None]
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


def run_backward(outputs, grad_outputs, retain_graph=False, create_graph=False, capture=None, observer=None):
    """Send ``grad_outputs`` back from ``outputs`` through the graph.

    Without ``capture``, leaves accumulate their gradients in ``.grad``. With ``capture`` (a dict
    mapping ``(node, output_nr)`` keys to ``None``), the gradients arriving at those keys are stored
    in it instead and no ``.grad`` is touched: this is ``autograd.grad``. ``observer``, when given,
    is called as ``observer(node, grads_in, grads_out)`` after each node's backward (the trace in
    ``chainrule.viz`` watches the chain rule this way).
    """
    previous_mode = grad_mode._state.enabled
    grad_mode._state.enabled = create_graph
    try:
        # inf and nan in gradients pass silently, as in PyTorch (detect_anomaly is there to catch them).
        with xp.errstate(all="ignore"):
            _run(outputs, grad_outputs, retain_graph, create_graph, capture, observer)
    finally:
        grad_mode._state.enabled = previous_mode


def _run(outputs, grad_outputs, retain_graph, create_graph, capture, observer):
    roots = []
    pending = {}  # node -> list of summed gradients, one per output of the node
    for output, grad in zip(outputs, grad_outputs):
        node, output_nr = output._edge()
        roots.append(node)
        _add_pending(pending, node, output_nr, grad)
    dependencies = count_dependencies(roots)
    ready = [node for node in dict.fromkeys(roots) if dependencies[node] == 0]
    check_nan = anomaly._state.enabled and anomaly._state.check_nan

    while ready:
        node = ready.pop()
        grads = pending.pop(node, None)
        if grads is None:  # every gradient sent here was None: backward gets zeros for each output
            grads = [None] * len(node.output_meta)
        if type(node) is AccumulateGrad:
            if capture is None:
                _accumulate(node.variable, grads[0], create_graph)
            elif (node, 0) in capture:
                capture[(node, 0)] = _run_tensor_hooks(node.variable._hooks, grads[0])
            if observer is not None:
                observer(node, grads, ())
            continue

        if node._output_hooks or node._retained:
            grads = _run_output_hooks(node, grads)
        if capture is not None:
            for output_nr, grad in enumerate(grads):
                if (node, output_nr) in capture:
                    capture[(node, output_nr)] = grad
        if node._freed:
            raise node.freed_error()
        input_grads = call_backward(node, grads)
        if check_nan:
            _check_nan(node, input_grads)
        if observer is not None:
            observer(node, grads, input_grads)
        if not retain_graph:
            node.release()

        output_shape, output_dtype = node._output_shape, node._output_dtype
        for next_node, output_nr, grad, meta in zip(node.next_nodes, node.next_output_nrs, input_grads, node._input_meta):
            if next_node is None:
                continue
            if grad is not None:
                # The common case, a gradient of the input's own shape and dtype, needs no fitting:
                # an array (from a formula on ctx.operands) is only wrapped.
                array = grad if type(grad) is ndarray else grad.array if type(grad) is Tensor else None
                shape, dtype = (output_shape, output_dtype) if meta is None else meta
                if array is not None and array.shape == shape and array.dtype == dtype:
                    if array is grad:
                        grad = tensor_from_array(array)
                else:
                    grad = fit_to_input(grad, meta, node)
                _add_pending(pending, next_node, output_nr, grad)
            remaining = dependencies[next_node] - 1
            dependencies[next_node] = remaining
            if remaining == 0:
                ready.append(next_node)


def _add_pending(pending, node, output_nr, grad):
    """Add ``grad`` to the gradients waiting for output ``output_nr`` of ``node``."""
    slots = pending.get(node)
    if slots is None:
        outputs = node._multi_output_meta
        slots = pending[node] = [None] * (1 if outputs is None else len(outputs))
    if grad is None:
        return
    existing = slots[output_nr]
    slots[output_nr] = grad if existing is None else existing + grad


def call_backward(node, grads):
    """Call the Function's ``backward`` and check what it returned."""
    if node.materialize_grads and (len(grads) > 1 or grads[0] is None):
        grads = [
            grad if grad is not None else _zeros(shape, dtype)
            for grad, (shape, dtype) in zip(grads, node.output_meta)
        ]
    input_grads = node.function.backward(node, *grads)
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
    return input_grads


def fit_to_input(grad, meta, node):
    """Sum a broadcast gradient back to its input's shape and give it the input's dtype.

    ``meta`` is the input's ``(shape, dtype)``, or None when they are the output's.
    """
    if not isinstance(grad, Tensor):
        grad = tensor_from_array(as_array(grad))
    shape, dtype = meta if meta is not None else (node._output_shape, node._output_dtype)
    array = grad.array
    if array.shape != shape:
        try:
            grad = sum_to(grad, shape)
        except ValueError:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient - got shape "
                f"{tuple(grad.shape)} but expected shape compatible with {shape}"
            ) from None
    if array.dtype != dtype:
        grad = grad.to(dtype)
    return grad


def _run_output_hooks(node, grads):
    """Apply ``register_hook`` hooks and ``retain_grad`` to the gradients of ``node``'s outputs."""
    if node._output_hooks:
        grads = list(grads)
        for output_nr, hooks in node._output_hooks.items():
            grads[output_nr] = _run_tensor_hooks(hooks, grads[output_nr])
    if node._retained:
        for output_nr, reference in node._retained.items():
            tensor = reference()
            if tensor is not None and grads[output_nr] is not None:
                _accumulate(tensor, grads[output_nr], grad_mode._state.enabled)
    return grads


def _run_tensor_hooks(hooks, grad):
    if hooks and grad is not None:
        for hook in hooks:
            replacement = hook(grad)
            if replacement is not None:
                grad = replacement
    return grad


def _accumulate(tensor, grad, create_graph):
    """``tensor.grad += grad`` for a leaf (after its hooks), as PyTorch's AccumulateGrad does."""
    if grad is None:
        return
    grad = _run_tensor_hooks(tensor._hooks if tensor.grad_fn is None else None, grad)
    if tensor.grad is None:
        # A copy, so that no two leaves ever share one gradient array (zero_() on one would clear both).
        tensor.grad = grad.clone() if create_graph else tensor_from_array(grad.array.copy())
    elif create_graph:
        tensor.grad = tensor.grad + grad
    else:
        tensor.grad.array += grad.array
    for hook in tensor._post_accumulate_grad_hooks or ():  # register_post_accumulate_grad_hook
        hook(tensor)


def _zeros(shape, dtype):
    return tensor_from_array(xp.zeros(shape, dtype=dtype))


def _check_nan(node, input_grads):
    for index, grad in enumerate(input_grads):
        if grad is not None and xp.isnan(grad.array if isinstance(grad, Tensor) else grad).any():
            where = node._forward_trace or "(the node was created outside detect_anomaly)\n"
            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {index}th output.\n"
                f"The forward call that created it:\n{where}"
            )


from chainrule.backend import as_array, ndarray, xp  # noqa: E402
from chainrule.ops.broadcast import sum_to  # noqa: E402
from chainrule.tensor import Tensor, tensor_from_array  # noqa: E402
