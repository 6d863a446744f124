"""``torch.autograd.functional``: Jacobian and Hessian products of a whole function, from backward passes.

For ``outputs = func(*inputs)`` with Jacobian J = d outputs / d inputs:

- ``vjp(func, inputs, v)`` is vᵀ J: one backward pass seeded with ``v``.
- ``jvp(func, inputs, v)`` is J v, by the double-backward trick: g(u) = uᵀ J is linear in a dummy
  cotangent u, so differentiating g with respect to u, seeded with v, gives (d g / d u)ᵀ v = J v.
- ``jacobian(func, inputs)`` is J itself, one backward pass per output element (one row each).
- For a scalar function with Hessian H = d² f / d inputs²: ``hessian`` is H (the Jacobian of the
  gradient), ``vhp`` is vᵀ H (the gradient of gᵀ v) and ``hvp`` is H v (the double-backward trick
  on the gradient). H is symmetric for twice continuously differentiable f, so the two agree.

A single tensor in gives a single tensor out; a tuple in gives a tuple out, nested as PyTorch nests
them: ``jacobian(f, (x, y))[i][j]`` is d output_i / d input_j, of shape output_i.shape + input_j.shape.
Results are detached unless ``create_graph=True``, which keeps them in the graph (differentiable
again). ``strict=True`` raises where an output does not depend on an input instead of giving zeros.
"""
from chainrule.autograd.backward_pass import grad
from chainrule.autograd.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from chainrule.tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

_STRICT_ERRORS = {
    "outputs": (
        "Output {i} of the user-provided function does not require gradients. The outputs must be "
        "computed in a differentiable manner from the input when running in strict mode."
    ),
    "grad_inputs": (
        "The gradient with respect to input {i} is independent of the inputs of the user-provided "
        "function. This is not allowed in strict mode."
    ),
    "jacobian": (
        "While computing the hessian, found that the jacobian of the user-provided function with "
        "respect to input {i} is independent of the input. This is not allowed in strict mode. You "
        "should ensure that your function is twice differentiable and that the jacobian depends on "
        "the inputs (this would be violated by a linear function for example)."
    ),
    "hessian": (
        "The hessian of the user-provided function with respect to input {i} is independent of the "
        "input. This is not allowed in strict mode. You should ensure that your function is thrice "
        "differentiable and that the hessian depends on the inputs."
    ),
}

_UNUSED_ERRORS = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict mode.",
    "back_trick": (
        "The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
        "using the double backward trick to compute forward mode gradients. This is not allowed in "
        "strict mode."
    ),
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed in strict mode.",
    "double_back_trick": (
        "The hessian of the user-provided function is independent of entry {i} in the grad_jacobian. "
        "This is not allowed in strict mode as it prevents from using the double backward trick to "
        "replace forward mode AD."
    ),
}


def _as_tuple(values, argument, function_name):
    """``(was_a_tuple, values as a tuple)``, with PyTorch's TypeError for anything but tensors."""
    was_tuple = isinstance(values, tuple)
    values = values if was_tuple else (values,)
    for position, value in enumerate(values):
        if not isinstance(value, Tensor):
            where = f"the value at index {position}" if was_tuple else f"the given {argument}"
            raise TypeError(
                f"The {argument} given to {function_name} must be either a Tensor or a tuple of "
                f"Tensors but {where} has type {type(value)}."
            )
    return was_tuple, values


def _unpack(results, was_tuple):
    """Undo ``_as_tuple``: a lone tensor for a lone input. ``was_tuple`` may be a pair
    (outputs, inputs) for the doubly nested Jacobian and Hessian."""
    if isinstance(was_tuple, tuple):
        outputs_were_tuple, inputs_were_tuple = was_tuple
        if not inputs_were_tuple:
            results = tuple(row[0] for row in results)
        return results if outputs_were_tuple else results[0]
    return results if was_tuple else results[0]


def _prepare(tensors, create_graph, need_graph):
    """Fresh tensors to differentiate with respect to: with ``create_graph`` an input already in a
    graph stays connected to it (through a view), any other is detached from what made it."""
    return tuple(
        tensor.view_as(tensor) if create_graph and tensor.requires_grad else tensor.detach().requires_grad_(need_graph)
        for tensor in tensors
    )


def _finish(results, create_graph):
    """Detach the results (recursively for nested tuples) unless the graph is wanted."""
    if create_graph:
        return results
    return tuple(result.detach() if isinstance(result, Tensor) else _finish(result, create_graph) for result in results)


def _check_v(v, others, others_were_tuple):
    if len(v) != len(others):
        if others_were_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(others)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for position, (vector, other) in enumerate(zip(v, others)):
        if vector.size() != other.size():
            prefix = f"Entry {position} in " if others_were_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {other.size()} but got {vector.size()}.")


def _prepare_v(v, others, others_were_tuple, create_graph, function_name, about):
    """The direction ``v`` checked against ``others`` (outputs for vjp, inputs otherwise); None is
    allowed only where there is a single one-element tensor to differentiate."""
    if v is None:
        if len(others) != 1 or others[0].nelement() != 1:
            raise RuntimeError(
                f"The vector v can only be None if the {about} returns a single Tensor with a single element."
                if about == "user-provided function"
                else f"The vector v can only be None if the {about} is a single Tensor with a single element."
            )
        return None
    _, v = _as_tuple(v, "v", function_name)
    v = _prepare(v, create_graph, need_graph=False)
    _check_v(v, others, others_were_tuple)
    return v


def _check_requires_grad(tensors, kind, strict):
    if not strict:
        return
    for position, tensor in enumerate(tensors):
        if tensor is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {position}. This "
                f"is not allowed in strict mode."
            )
        if not tensor.requires_grad:
            raise RuntimeError(_STRICT_ERRORS[kind].format(i=position))


def _grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``autograd.grad`` over the outputs that are in a graph; None for every input if none is."""
    grad_outputs = (None,) * len(outputs) if grad_outputs is None else grad_outputs
    kept = [(output, seed) for output, seed in zip(outputs, grad_outputs) if output is not None and output.requires_grad]
    if not kept:
        return (None,) * len(inputs)
    kept_outputs, kept_seeds = zip(*kept)
    return grad(kept_outputs, inputs, kept_seeds, retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


def _fill_in_zeros(gradients, references, strict, create_graph, stage):
    """Zeros where an input was not used (or PyTorch's error under ``strict``)."""
    filled = []
    for position, gradient in enumerate(gradients):
        if gradient is None:
            if strict:
                raise RuntimeError(_UNUSED_ERRORS[stage].format(i=position))
            gradient = references[position].new_zeros(references[position].shape)
        elif strict and create_graph and not gradient.requires_grad:
            kind = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {kind} of the user-provided function is independent of input {position}. This "
                f"is not allowed in strict mode when create_graph=True."
            )
        filled.append(gradient)
    return tuple(filled)


def _run(func, inputs, function_name, strict):
    outputs = func(*inputs)
    outputs_were_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", function_name)
    _check_requires_grad(outputs, "outputs", strict)
    return outputs_were_tuple, outputs


def _evaluate(func, inputs, v, create_graph, strict, function_name):
    """The first half of every product: ``(inputs_were_tuple, inputs, v, outputs_were_tuple,
    outputs)``, with ``v`` checked against the outputs for vjp and against the inputs (before
    ``func`` runs, as PyTorch orders its checks) for the others."""
    with enable_grad():
        inputs_were_tuple, inputs = _as_tuple(inputs, "inputs", function_name)
        inputs = _prepare(inputs, create_graph, need_graph=True)
        if function_name != "vjp":
            v = _prepare_v(v, inputs, inputs_were_tuple, create_graph, function_name, "input to the user-provided function")
        outputs_were_tuple, outputs = _run(func, inputs, function_name, strict)
        if function_name == "vjp":
            v = _prepare_v(v, outputs, outputs_were_tuple, create_graph, function_name, "user-provided function")
    return inputs_were_tuple, inputs, v, outputs_were_tuple, outputs


def _results(outputs, outputs_were_tuple, product, product_was_tuple, create_graph):
    return _unpack(_finish(outputs, create_graph), outputs_were_tuple), _unpack(_finish(product, create_graph), product_was_tuple)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), vᵀ J)``: the vector-Jacobian product, one backward pass seeded with ``v``.

    ``v`` has the outputs' shapes (may be None for a one-element output); the product has the
    inputs' shapes.
    """
    inputs_were_tuple, inputs, v, outputs_were_tuple, outputs = _evaluate(func, inputs, v, create_graph, strict, "vjp")
    with set_grad_enabled(bool(create_graph) or is_grad_enabled()):
        product = _fill_in_zeros(_grad(outputs, inputs, v, create_graph), inputs, strict, create_graph, "back")
    return _results(outputs, outputs_were_tuple, product, inputs_were_tuple, create_graph)


def _double_backward_trick(outputs, inputs, v, create_graph, strict, stage, check):
    """J v for outputs = f(inputs): g(u) = uᵀ J is linear in the dummy u, and d(g · v)/du = J v."""
    with enable_grad():
        dummies = tuple(output.new_zeros(output.shape, requires_grad=True) for output in outputs)
        transposed = _grad(outputs, inputs, dummies, create_graph=True)
        _check_requires_grad(transposed if check == "grad_inputs" else outputs, check, strict)
    with set_grad_enabled(bool(create_graph) or is_grad_enabled()):
        return _fill_in_zeros(_grad(transposed, dummies, v, create_graph), outputs, strict, create_graph, stage)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product, by the double-backward trick.

    ``v`` has the inputs' shapes (may be None for a one-element input); the product has the
    outputs' shapes.
    """
    _, inputs, v, outputs_were_tuple, outputs = _evaluate(func, inputs, v, create_graph, strict, "jvp")
    product = _double_backward_trick(outputs, inputs, v, create_graph, strict, "back_trick", "grad_inputs")
    return _results(outputs, outputs_were_tuple, product, outputs_were_tuple, create_graph)


def _stack_rows(rows, shape):
    """The gradients of one output's elements, one row each, as one tensor of ``shape``."""
    first = rows[0]
    table = first.new_zeros((len(rows), first.nelement()))
    for position, row in enumerate(rows):
        table[position] = row.reshape(-1)
    return table.reshape(shape)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: one backward pass per output element.

    For one tensor in and out, shape ``output.shape + input.shape``; for tuples, ``[i][j]`` is
    d output_i / d input_j. ``vectorize`` is accepted and computes the same rows one at a time
    (PyTorch batches them with vmap). ``strategy="forward-mode"`` needs ``vectorize=True`` as in
    PyTorch, and is then computed in reverse mode with the same result, nested in lists as
    PyTorch's forward mode nests it (``[i][j]``, a tuple only for a tuple of outputs of one input).
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function '
            'has more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, '
            'prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and `strategy=\"forward-mode\"` "
                "are not supported together (yet). Please either set `create_graph=False` or "
                "`strategy=\"reverse-mode\"`."
            )
        if not vectorize:
            raise NotImplementedError(
                "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"  # PyTorch's words,
                "only implemented for `vectorize=True`."  # its missing space included
            )
    if vectorize and strict:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not supported "
            "together. Please either set `strict=False` or `vectorize=False`."
        )
    with enable_grad():
        inputs_were_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_were_tuple, outputs = _run(func, inputs, "jacobian", strict)
        jacobians = []
        for output_position, output in enumerate(outputs):
            rows = [[] for _ in inputs]
            flat = output.reshape(-1)
            for element in range(output.nelement()):
                gradients = _grad((flat[element],), inputs, retain_graph=True, create_graph=create_graph)
                for input_position, (gradient, input_) in enumerate(zip(gradients, inputs)):
                    if gradient is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {output_position} of the user-provided function is independent "
                                f"of input {input_position}. This is not allowed in strict mode."
                            )
                        gradient = input_.new_zeros(input_.shape)
                    elif strict and create_graph and not gradient.requires_grad:
                        raise RuntimeError(
                            f"The jacobian of the user-provided function is independent of input "
                            f"{output_position}. This is not allowed in strict mode when create_graph=True."
                        )
                    rows[input_position].append(gradient)
            jacobians.append(tuple(
                _stack_rows(input_rows, tuple(output.shape) + tuple(input_.shape)) if input_rows
                else input_.new_zeros(tuple(output.shape) + tuple(input_.shape))
                for input_rows, input_ in zip(rows, inputs)
            ))
    jacobians = _finish(tuple(jacobians), create_graph)
    if strategy == "forward-mode":  # PyTorch's forward-mode path nests its results in lists
        jacobians = [list(row) for row in jacobians]
    return _unpack(jacobians, (outputs_were_tuple, inputs_were_tuple))


def _check_scalar(outputs, outputs_were_tuple, function_name):
    if outputs_were_tuple:
        raise RuntimeError(f"The function given to {function_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {function_name} should contain a single element")


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func``: the Jacobian of its gradient.

    For one input, shape ``input.shape + input.shape``; for a tuple, ``[i][j]`` is
    d² f / d input_i d input_j.
    """
    inputs_were_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_function(*values):
        outputs_were_tuple, outputs = _run(func, values, "hessian", strict)
        _check_scalar(outputs, outputs_were_tuple, "hessian")
        return outputs[0].squeeze()

    def gradient_function(*values):
        gradients = jacobian(scalar_function, values, create_graph=True)
        _check_requires_grad(gradients, "jacobian", strict)
        return gradients

    result = jacobian(
        gradient_function, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
        strategy=outer_jacobian_strategy,
    )
    return _unpack(result, (inputs_were_tuple, inputs_were_tuple))


def _gradient_of_scalar(func, inputs, v, create_graph, strict, function_name):
    """The shared first half of vhp and hvp: the inputs, ``v``, f(inputs) and its gradient (in the graph)."""
    inputs_were_tuple, inputs, v, outputs_were_tuple, outputs = _evaluate(func, inputs, v, create_graph, strict, function_name)
    _check_scalar(outputs, outputs_were_tuple, function_name)
    with enable_grad():
        gradient = _grad(outputs, inputs, create_graph=True)
        _check_requires_grad(gradient, "jacobian", strict)
    return inputs_were_tuple, inputs, v, outputs, outputs_were_tuple, gradient


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), vᵀ H)`` for a scalar ``func``: the gradient of (∇f)ᵀ v."""
    inputs_were_tuple, inputs, v, outputs, outputs_were_tuple, gradient = _gradient_of_scalar(
        func, inputs, v, create_graph, strict, "vhp"
    )
    with set_grad_enabled(bool(create_graph) or is_grad_enabled()):
        product = _fill_in_zeros(_grad(gradient, inputs, v, create_graph), inputs, strict, create_graph, "double_back")
    return _results(outputs, outputs_were_tuple, product, inputs_were_tuple, create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a scalar ``func``: the double-backward trick on the gradient."""
    inputs_were_tuple, inputs, v, outputs, outputs_were_tuple, gradient = _gradient_of_scalar(
        func, inputs, v, create_graph, strict, "hvp"
    )
    gradient = tuple(inputs[position].new_zeros(inputs[position].shape) if part is None else part for position, part in enumerate(gradient))
    product = _double_backward_trick(gradient, inputs, v, create_graph, strict, "double_back_trick", "hessian")
    return _results(outputs, outputs_were_tuple, product, inputs_were_tuple, create_graph)
