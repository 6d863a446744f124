"""``backward`` and ``grad``: the two ways to start the backward pass."""
import warnings

from chainrule.autograd.engine import accumulate, run_backward
from chainrule.autograd.function import gradient_edge
from chainrule.autograd.grad_mode import set_grad_enabled
from chainrule.backend import xp
from chainrule.tensor import Tensor, tensor_from_array


def _as_tuple(values):
    if values is None:
        return None
    if isinstance(values, (tuple, list)):
        return tuple(values)
    return (values,)


def _initial_grads(outputs, grad_outputs):
    """The gradient each output starts from: 1 for scalars, the given tensor otherwise."""
    grads = []
    for position, output in enumerate(outputs):
        grad = grad_outputs[position] if grad_outputs is not None else None
        if not output._requires_grad:
            raise RuntimeError(
                f"element {position} of tensors does not require grad and does not have a grad_fn "
                f"(did you compute it under no_grad(), or forget requires_grad=True on the inputs?)"
            )
        if grad is None:
            if output.array.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs: this output has shape "
                    f"{tuple(output.shape)}; pass backward(gradient) with a tensor of that shape, "
                    f"or reduce it first (e.g. loss.sum() or loss.mean())"
                )
            grad = tensor_from_array(xp.ones(output.array.shape, dtype=output.array.dtype))
        else:
            if not isinstance(grad, Tensor):
                grad = tensor_from_array(xp.asarray(grad, dtype=output.array.dtype))
            if grad.array.shape != output.array.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{position}] has a shape of {tuple(grad.shape)} "
                    f"and output[{position}] has a shape of {tuple(output.shape)}."
                )
        grads.append(grad)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate into each leaf's ``.grad`` the gradient of ``tensors`` (PyTorch's ``autograd.backward``).

    With ``inputs``, only those tensors receive gradients.
    """
    outputs = _as_tuple(tensors)
    grads = _initial_grads(outputs, _as_tuple(grad_tensors))
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is None:
        run_backward(outputs, grads, retain_graph, create_graph)
        return
    inputs = _as_tuple(inputs)
    captured = grad(outputs, inputs, grads, retain_graph, create_graph, allow_unused=True)
    for tensor, gradient in zip(inputs, captured):
        if gradient is not None:
            with set_grad_enabled(create_graph):
                accumulate(tensor, gradient if create_graph else gradient.array)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True, allow_unused=False):
    """The gradients of ``outputs`` with respect to each of ``inputs``, returned as a tuple.

    Unlike ``backward()``, no ``.grad`` is changed. With ``create_graph=True`` the returned
    gradients are themselves in the graph, so they can be differentiated again. ``only_inputs`` is
    PyTorch's deprecated argument: ignored, with PyTorch's FutureWarning when it is False.
    """
    if not only_inputs:
        warnings.warn(
            "only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
            "gradient for other parts of the graph, please use torch.autograd.backward.",
            FutureWarning,
            stacklevel=2,
        )
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    for position, tensor in enumerate(inputs):
        if not tensor._requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {position}) does not require grad")
    grads = _initial_grads(outputs, _as_tuple(grad_outputs))
    if retain_graph is None:
        retain_graph = create_graph
    keys = [gradient_edge(tensor) for tensor in inputs]
    capture = dict.fromkeys(keys)
    run_backward(outputs, grads, retain_graph, create_graph, capture=capture)
    results = []
    for position, key in enumerate(keys):
        gradient = capture[key]
        if gradient is None and not allow_unused:
            raise RuntimeError(
                f"One of the differentiated Tensors (input {position}) appears to not have been "
                f"used in the graph. Set allow_unused=True if this is the desired behavior."
            )
        results.append(gradient)
    return tuple(results)

