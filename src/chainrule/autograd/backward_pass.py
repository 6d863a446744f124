"""``backward`` and ``grad``: the two ways to start the backward pass."""
import warnings

#: How ``backward`` and ``grad`` hand their call to a Tensor subclass's or a mode's
#: ``__torch_function__``, as PyTorch's do: ``overrides.hand_over``, which ``overrides.py`` sets
#: when it is imported (it imports this module, so this one cannot import it; set before the
#: imports below, which import overrides.py while this module is being made). None: no hand-over.
hand_over = None

from chainrule import dtypes
from chainrule.caller_warnings import warn_once
from chainrule.autograd import function as function_module
from chainrule.autograd.engine import InputsToAccumulate, run_backward
from chainrule.autograd.function import GradientEdge, gradient_edge, made_from_values
from chainrule.autograd.grad_mode import set_grad_enabled
from chainrule.backend import ones_like_array, xp
from chainrule.tensor import Tensor, tensor_from_array


def _as_tuple(values):
    """One tensor, or any iterable of them (a list, a generator, ``params.values()``), as a tuple."""
    if values is None or isinstance(values, (Tensor, GradientEdge)):
        return None if values is None else (values,)
    try:
        return tuple(values)
    except TypeError:  # a number: PyTorch's TypeError
        raise TypeError(
            f"'{type(values).__name__}' object is not iterable: pass a tensor or a sequence of tensors (a number as "
            f"a gradient is chainrule.tensor(number))"
        ) from None


def _handed_over(function, outputs, inputs, args, kwargs):
    """(True, the answer) where a tensor among ``outputs`` and ``inputs`` (not the gradients given)
    or a mode takes ``function(*args, **kwargs)`` over; (False, None) otherwise."""
    if hand_over is None:
        return False, None
    return hand_over(function, (*(outputs or ()), *(inputs or ())), args, kwargs)


def _initial_grads(outputs, grad_outputs):
    """The gradient each output starts from: 1 for scalars, the given tensor otherwise."""
    for position, grad in enumerate(grad_outputs or ()):
        if grad is not None and not isinstance(grad, Tensor):
            raise TypeError(
                f"gradients can be either Tensors or None, but got {type(grad).__name__} (gradient {position}: "
                f"make it a tensor of the output's shape)"
            )
    if grad_outputs is not None and len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"got {len(outputs)} tensors and {len(grad_outputs)} gradients (pass one gradient per output, None for a "
            f"scalar's 1)"
        )
    grads = []
    for position, output in enumerate(outputs):
        grad = grad_outputs[position] if grad_outputs is not None else None
        _require_a_graph(output, position)
        if grad is None:
            if output._array.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs (this output has shape "
                    f"{tuple(output.shape)}: pass backward(gradient) with a tensor of that shape, "
                    f"or reduce it first, e.g. loss.sum() or loss.mean())"
                )
            if output._array.dtype.kind == "c":
                raise RuntimeError(
                    "grad can be implicitly created only for real scalar outputs: this output is "
                    f"{dtypes.dtype_name(output._array.dtype)}; reduce it to a real loss first (e.g. z.abs().sum(), "
                    "or view_as_real(z).sum()) or pass backward(gradient)"
                )
            grad = made_from_values(ones_like_array(output._array))
        else:
            if grad._array.shape != output._array.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{position}] has a shape of {grad.shape!r} "
                    f"and output[{position}] has a shape of {output.shape!r}."
                )
        grads.append(grad)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """Accumulate into each leaf's ``.grad`` the gradient of ``tensors`` (PyTorch's ``autograd.backward``).

    With ``inputs``, only those tensors receive gradients. ``grad_variables`` is PyTorch's
    deprecated name of ``grad_tensors``: used in its place, with PyTorch's FutureWarning.
    """
    if grad_variables is not None:
        warnings.warn("`grad_variables` is deprecated. Use `grad_tensors` instead.", FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError(
                "`grad_tensors` and `grad_variables` (deprecated) arguments both passed to `backward()`. Please only "
                "use `grad_tensors`."
            )
        grad_tensors = grad_variables
    outputs = _as_tuple(tensors)
    handled, answer = _handed_over(backward, outputs, _as_tuple(inputs), (outputs,), dict(
        grad_tensors=grad_tensors, retain_graph=retain_graph, create_graph=create_graph, inputs=_as_tuple(inputs)))
    if handled:
        return answer
    grads = _initial_grads(outputs, _as_tuple(grad_tensors))
    if retain_graph is None:
        retain_graph = create_graph or _inside_vmap()
    if create_graph:
        warn_once(
            "backward with create_graph",
            "Using backward() with create_graph=True will create a reference cycle between the parameter and its "
            "gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to "
            "avoid this. If you have to use this function, make sure to reset the .grad fields of your parameters "
            "to None after use to break the cycle and avoid the leak.",
        )
    if inputs is None:
        run_backward(outputs, grads, retain_graph, create_graph)
        return
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError(
            "`inputs` argument to `backward()` cannot be empty: pass the tensors to accumulate gradients into, or "
            "leave inputs=None for every leaf"
        )
    for tensor in inputs:  # as PyTorch: a non-leaf input's .grad is filled as retain_grad() fills it
        tensor.retain_grad()
    targets = InputsToAccumulate.fromkeys(map(gradient_edge, inputs))
    run_backward(outputs, grads, retain_graph, create_graph, capture=targets)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True, allow_unused=None,
         is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to each of ``inputs``, returned as a tuple (a dict
    with the same keys when ``inputs`` is a dict).

    Unlike ``backward()``, no ``.grad`` is changed. With ``create_graph=True`` the returned
    gradients are themselves in the graph, so they can be differentiated again. An input the
    outputs do not depend on is an error, unless ``allow_unused`` (it then gets None) or
    ``materialize_grads`` (it then gets zeros of its shape). With ``is_grads_batched``, the first
    dimension of each of ``grad_outputs`` counts vectors: one vector-Jacobian product is computed
    per row, and each gradient has that dimension in front, (B, *input.shape).
    ``only_inputs`` is PyTorch's deprecated argument: ignored, with PyTorch's FutureWarning when
    it is False.
    """
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but got: allow_unused=False."
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    if not only_inputs:
        warnings.warn(
            "only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
            "gradient for other parts of the graph, please use torch.autograd.backward.",
            FutureWarning,
            stacklevel=2,
        )
    names = list(inputs) if type(inputs) is dict else None
    outputs = _as_tuple(outputs)
    inputs = tuple(inputs.values()) if names is not None else _as_tuple(inputs)
    handled, results = _handed_over(grad, outputs, inputs, (outputs, inputs), dict(
        grad_outputs=grad_outputs, retain_graph=retain_graph, create_graph=create_graph, only_inputs=only_inputs,
        allow_unused=allow_unused, is_grads_batched=is_grads_batched, materialize_grads=materialize_grads))
    if handled:
        return dict(zip(names, results)) if names is not None else results
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    for tensor in inputs:
        if not isinstance(tensor, (Tensor, GradientEdge)):
            raise RuntimeError(f"all inputs have to be Tensors or GradientEdges, but got {type(tensor).__name__}")
    if materialize_grads and any(type(tensor) is GradientEdge for tensor in inputs):
        raise RuntimeError("materialize_grads cannot be used when the given input is a GradientEdge")
    for position, output in enumerate(outputs):  # the outputs are checked first, as PyTorch's
        if isinstance(output, Tensor):
            _require_a_graph(output, position)
    for position, tensor in enumerate(inputs):
        if type(tensor) is not GradientEdge and not tensor._requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors does not require grad (input {position}: set requires_grad=True on it)")
    if retain_graph is None:
        retain_graph = create_graph or _inside_vmap()
    if is_grads_batched:
        results = _batched_grads(outputs, inputs, _as_tuple(grad_outputs), retain_graph, create_graph, allow_unused)
    else:
        grads = _initial_grads(outputs, _as_tuple(grad_outputs))
        results = _grads(outputs, inputs, grads, retain_graph, create_graph, allow_unused)
    if materialize_grads:
        results = tuple(
            result if result is not None else _zeros_like(tensor, requires_grad=create_graph)
            for result, tensor in zip(results, inputs)
        )
    return dict(zip(names, results)) if names is not None else results


def _grads(outputs, inputs, grads, retain_graph, create_graph, allow_unused):
    """One backward pass from ``outputs``, started with ``grads``: the gradient arriving at each input."""
    keys = [tensor if type(tensor) is GradientEdge else gradient_edge(tensor) for tensor in inputs]
    capture = dict.fromkeys(keys)
    run_backward(outputs, grads, retain_graph, create_graph, capture=capture)
    results = []
    for position, key in enumerate(keys):
        gradient = capture[key]
        if gradient is None and not allow_unused:
            raise RuntimeError(
                f"The differentiated Tensor at index {position} appears to not have been used in the graph. "
                f"Set allow_unused=True if this is the desired behavior."
            )
        results.append(gradient)
    return tuple(results)


def _batched_grads(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused):
    """``grad`` with ``is_grads_batched``: one backward pass per row of ``grad_outputs`` (PyTorch
    runs them at once under vmap), the graph kept until the last, the rows stacked per input."""
    if grad_outputs is None or any(grad is None for grad in grad_outputs):
        raise RuntimeError(
            "is_grads_batched=True needs grad_outputs: one tensor per output, of shape (B, *output.shape), "
            "its first dimension counting the vectors to multiply the Jacobian with"
        )
    grad_outputs = [grad if isinstance(grad, Tensor) else tensor_from_array(xp.asarray(grad)) for grad in grad_outputs]
    for position, (output, grad) in enumerate(zip(outputs, grad_outputs)):
        if grad._array.shape[1:] != output._array.shape:
            raise RuntimeError(
                f"If `is_grads_batched=True`, we interpret the first dimension of each grad_output as the batch "
                f"dimension. The sizes of the remaining dimensions are expected to match the shape of corresponding "
                f"output, but a mismatch was detected: grad_output[{position}] has a shape of "
                f"{tuple(grad.shape[1:])} and output[{position}] has a shape of {tuple(output.shape)}. If you only "
                f"want some tensors in `grad_output` to be considered batched, consider using vmap."
            )
    count = grad_outputs[0]._array.shape[0]
    if any(grad._array.shape[0] != count for grad in grad_outputs):
        raise RuntimeError(
            f"is_grads_batched=True: every grad_output must have the same first (batch) dimension, got "
            f"{[tuple(grad.shape)[0] for grad in grad_outputs]}"
        )
    rows = []
    for row in range(count):
        grads = _initial_grads(outputs, [grad[row] for grad in grad_outputs])
        rows.append(_grads(outputs, inputs, grads, retain_graph or row < count - 1, create_graph, allow_unused))
    results = []
    for position, tensor in enumerate(inputs):
        per_row = [each[position] for each in rows]
        if all(gradient is None for gradient in per_row):
            results.append(None)
            continue
        table = tensor.detach().new_zeros((count, *tensor._array.shape))
        with set_grad_enabled(bool(create_graph)):
            for row, gradient in enumerate(per_row):
                if gradient is not None:
                    table[row] = gradient
        results.append(table)
    return tuple(results)


def _zeros_like(tensor, requires_grad=False):
    zeros = tensor_from_array(xp.zeros_like(tensor._array))
    if requires_grad:
        zeros.requires_grad = True
    return zeros


def _inside_vmap():
    transforms = function_module._func_transforms  # torch.func's rules, while a transform runs
    return transforms is not None and transforms.inside_vmap()


def _require_a_graph(output, position):
    if not output._requires_grad:
        raise RuntimeError(
            f"element {position} of tensors does not require grad and does not have a grad_fn "
            f"(did you compute it under no_grad(), or forget requires_grad=True on the inputs?)"
        )


backward.__module__ = grad.__module__ = "chainrule.autograd"  # public there, as PyTorch's (a __torch_function__ reads it)
