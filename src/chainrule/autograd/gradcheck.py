"""gradcheck: compare backward's gradients with finite differences.

For a function f and an input element x_i, the central difference

    d f / d x_i  ~  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

has error O(eps^2); in float64 with eps = 1e-6 it agrees with a correct backward to about 1e-8.
``gradcheck`` builds the whole Jacobian both ways and compares every element; ``gradgradcheck``
does the same for the gradient itself (backward of backward). With ``fast_mode=True`` (PyTorch's
fast gradcheck) each Jacobian J is seen through random directions instead: vᵀ (J u) from two
finite differences against (vᵀ J) u from one backward pass, a few calls however large the inputs.
As PyTorch's, it checks only the outputs that require grad (a detached or integer output has no
gradient to check), runs each backward twice to catch one that is not deterministic
(``nondet_tol``), and runs backward with undefined output gradients (``check_undefined_grad``).
"""
import warnings

from chainrule.autograd import grad_mode
from chainrule.autograd.function import Function
from chainrule.backend import random_generator, xp


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytical and numerical gradients disagree."""


def _outputs_tuple(fn, inputs):
    outputs = fn(*inputs)
    return outputs if isinstance(outputs, (tuple, list)) else (outputs,)


def _is_floating(output):
    return output._array.dtype.kind in "fc"


def numerical_jacobians(fn, inputs, eps=1e-6):
    """For each input that requires grad, the finite-difference Jacobian of each floating-point
    output (None for an integer or boolean output: it has no derivative to approximate).

    Returns ``{input_position: [array of shape (output.size, input.size), or None, per output]}``.
    """
    jacobians = {}
    # grad mode as the caller has it, as in PyTorch (fn may register hooks, or read requires_grad)
    output_sizes = [_real_size(output._array) if _is_floating(output) else None for output in _outputs_tuple(fn, inputs)]
    for position, tensor in enumerate(inputs):
        if not (isinstance(tensor, Tensor) and tensor.requires_grad):
            continue
        array = tensor._array  # perturbed in place, element by element (also when it is a strided view)
        # a complex element is two real variables, moved along 1 and along i (columns 2k and 2k + 1)
        steps = (eps, eps * 1j) if array.dtype.kind == "c" else (eps,)
        columns = [None if size is None else xp.zeros((size, array.size * len(steps))) for size in output_sizes]
        for element in range(array.size):
            index = xp.unravel_index(element, array.shape)
            original = array[index].item()
            for part, step in enumerate(steps):
                below, above = _outputs_either_side(fn, inputs, array, index, original, step, eps)
                minus, plus = ([values for _, _, values in outputs] for outputs in (below, above))
                for column, high, low in zip(columns, plus, minus):
                    if column is not None:
                        column[:, element * len(steps) + part] = (high - low) / (2 * eps)
        jacobians[position] = columns
    return jacobians


def _outputs_either_side(fn, inputs, array, index, original, step, eps):
    """``fn``'s outputs (``_read_outputs``) with ``array[index]`` set in place to ``original - step``
    and to ``original + step``, then put back to ``original``: the two sides of a central difference,
    which must have the same shapes and dtypes. ``index`` ``()`` moves the whole array."""
    array[index] = original - step
    below = _read_outputs(fn, inputs)
    array[index] = original + step
    above = _read_outputs(fn, inputs)
    array[index] = original
    _check_same_shapes_and_dtypes(below, above, index, eps)
    return below, above


def _read_outputs(fn, inputs):
    """fn's outputs as (shape, dtype, values), the values copied at once (an output may be a view
    of the input that is perturbed next)."""
    return [(output.shape, output.dtype, _real_values(output._array)) for output in _outputs_tuple(fn, inputs)]


def _check_same_shapes_and_dtypes(below, above, index, eps):
    """PyTorch's AssertionError for a function whose outputs change shape or dtype when an input
    element (at ``index``) moves by ``eps``: its finite differences would mean nothing."""
    for (low_shape, low_dtype, _), (high_shape, high_dtype, _) in zip(below, above):
        for what, first, second in (("shape", low_shape, high_shape), ("dtype", low_dtype, high_dtype)):
            if first != second:
                raise AssertionError(
                    f"Expected `func` to return outputs with the same {what} when inputs are perturbed on index "
                    f"{tuple(int(i) for i in index)} by {eps}, but got: {what}s {first} and {second}."
                )


def _real_size(array):
    """How many real numbers ``array`` holds: two per complex element."""
    return array.size * (2 if array.dtype.kind == "c" else 1)


def _real_values(array):
    """``array`` flattened as real float64 numbers, a complex element as its real and imaginary parts."""
    if array.dtype.kind == "c":
        return xp.stack((array.real.reshape(-1), array.imag.reshape(-1)), -1).reshape(-1).astype(xp.float64)
    return array.astype(xp.float64).reshape(-1)


def numerical_gradient(fn, inputs, eps=1e-6):
    """Finite-difference gradient of a scalar ``fn(*inputs)`` for each input that requires grad."""
    jacobians = numerical_jacobians(fn, inputs, eps)
    return tuple(
        jacobians[position][0].reshape(inputs[position]._array.shape) if position in jacobians else None
        for position in range(len(inputs))
    )


def analytical_jacobians(fn, inputs, nondet_tol=float("inf")):
    """The same Jacobians as ``numerical_jacobians``, row by row from backward passes, for the
    outputs that require grad (None for the others).

    As PyTorch does, every row is computed twice: a backward that answers the same gradient
    differently (by more than ``nondet_tol``) raises GradcheckError.
    """
    differentiable = [position for position, tensor in enumerate(inputs) if isinstance(tensor, Tensor) and tensor.requires_grad]
    targets = [inputs[position] for position in differentiable]
    jacobians = {position: [] for position in differentiable}
    for output in _outputs_tuple(fn, inputs):
        if not output.requires_grad:
            for position in differentiable:
                jacobians[position].append(None)
            continue
        first, second = _jacobian_rows(output, targets), _jacobian_rows(output, targets)
        for position, rows, again in zip(differentiable, first, second):
            if rows.size and xp.abs(rows - again).max() > nondet_tol:
                raise _not_reentrant(nondet_tol)
            jacobians[position].append(rows)
    return jacobians


def _not_reentrant(nondet_tol):
    """PyTorch's error for a backward that answers the same output gradient differently."""
    return GradcheckError(
        "Backward is not reentrant, i.e., running backward with same input and grad_output multiple times "
        f"gives different values, although analytical gradient matches numerical gradient. The tolerance "
        f"for nondeterminism was {nondet_tol}: pass a larger nondet_tol if the backward is meant to "
        f"be nondeterministic."
    )


def _jacobian_rows(output, targets):
    """The Jacobian of ``output`` with respect to each of ``targets``, one backward pass per row."""
    jacobians = [xp.zeros((_real_size(output._array), _real_size(target._array))) for target in targets]
    # PyTorch's convention for complex numbers: the gradient for grad_output 1 is ∂Re(out)/∂x + i ∂Re(out)/∂y,
    # for grad_output i the same of Im(out): one row per real part of the output, split into columns as the input's
    seeds = (1, 1j) if output._array.dtype.kind == "c" else (1,)
    for element in range(output._array.size):
        for part, value in enumerate(seeds):
            seed = xp.zeros(output._array.size, dtype=output._array.dtype)
            seed[element] = value
            grads = grad(
                output, targets, grad_outputs=tensor_from_array(seed.reshape(output._array.shape)), retain_graph=True,
                allow_unused=True,
            )
            for jacobian, gradient in zip(jacobians, grads):
                if gradient is not None:
                    jacobian[element * len(seeds) + part] = _real_values(gradient._array)
    return jacobians


def forward_jacobians(fn, inputs):
    """The same Jacobians as ``numerical_jacobians``, column by column from forward mode: the
    tangent of every output for a unit tangent on one input element (``autograd.forward_ad``)."""
    from chainrule.autograd import forward_ad  # noqa: PLC0415 (forward_ad imports this package)

    differentiable = [position for position, tensor in enumerate(inputs) if isinstance(tensor, Tensor) and tensor.requires_grad]
    jacobians = {}
    for position in differentiable:
        size = inputs[position]._array.size
        columns = None
        for element in range(size):
            with forward_ad.dual_level():
                duals = list(inputs)
                for other in differentiable:
                    direction = xp.zeros(inputs[other]._array.size, dtype=inputs[other]._array.dtype)
                    if other == position:
                        direction[element] = 1
                    tangent = tensor_from_array(direction.reshape(inputs[other]._array.shape))
                    duals[other] = forward_ad.make_dual(inputs[other], tangent)
                outputs = _outputs_tuple(fn, duals)
                tangents = [forward_ad.unpack_dual(output).tangent for output in outputs]
            if columns is None:
                columns = [xp.zeros((output._array.size, size)) for output in outputs]
            for column, tangent in zip(columns, tangents):
                if tangent is not None:
                    column[:, element] = tangent._array.reshape(-1)
        jacobians[position] = columns or []
    return jacobians


def gradcheck(
    func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0, check_undefined_grad=True,
    check_grad_dtypes=False, check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
    check_backward_ad=True, fast_mode=False, masked=None,
):
    """True when ``func``'s derivatives match finite differences for every input that requires grad
    and every output that requires grad: those of backward (``check_backward_ad``, on by default)
    and those of forward mode (``check_forward_ad``). When no output requires grad, the finite
    differences must all be zero.

    Inputs should be float64: in float32 the finite differences themselves are too coarse. On a
    mismatch, raises ``GradcheckError`` naming the worst element (or returns False when
    ``raise_exception=False``). Each backward runs twice and must agree within ``nondet_tol``;
    with ``check_undefined_grad`` backward must also answer undefined output gradients with zero or
    undefined input gradients. Every Jacobian is built in full, element by element, unless
    ``fast_mode``: then each is checked through random directions (``_check_projected_jacobians``),
    two calls of ``func`` per input and two backward passes per output. PyTorch's batched checks
    (``check_batched_grad``...) are accepted and change nothing.
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    _check_inputs(inputs)
    try:
        check = _check_projected_jacobians if fast_mode else _check_jacobians
        check(func, inputs, eps, atol, rtol, nondet_tol, check_forward_ad, check_backward_ad)
        if check_backward_ad:
            _check_backward_multiplies_grad_output(func, inputs)
        if check_undefined_grad and check_backward_ad:
            _check_undefined_grad(func, inputs)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


_CHANGING_WITHOUT_GRADIENT = (
    "Numerical gradient for function expected to be zero: no output requires grad, yet the outputs change with "
    "the inputs (was an output detached, or computed outside autograd?)"
)


def _check_jacobians(func, inputs, eps, atol, rtol, nondet_tol, check_forward_ad, check_backward_ad):
    """Raise GradcheckError unless backward's (and forward mode's) Jacobians match finite differences."""
    numerical = numerical_jacobians(func, inputs, eps)
    checked = [index for index, output in enumerate(_outputs_tuple(func, inputs)) if output.requires_grad]
    if not checked:
        if any(jacobian is not None and jacobian.any() for columns in numerical.values() for jacobian in columns):
            raise GradcheckError(_CHANGING_WITHOUT_GRADIENT)
        return
    checks = []
    if check_backward_ad:
        checks.append(("backward", analytical_jacobians(func, inputs, nondet_tol)))
    if check_forward_ad:
        checks.append(("forward mode", forward_jacobians(func, inputs)))
    for mode, analytical in checks:
        for position in numerical:
            for output_index in checked:
                computed, expected = analytical[position][output_index], numerical[position][output_index]
                error = xp.abs(computed - expected) - (atol + rtol * xp.abs(expected))
                if error.size and error.max() > 0:
                    row, column = xp.unravel_index(int(error.argmax()), error.shape)
                    raise GradcheckError(
                        f"Jacobian mismatch for output {output_index} with respect to input {position}: "
                        f"at output element {row}, input element {column} {mode} gives "
                        f"{computed[row, column]:.8g} but finite differences give {expected[row, column]:.8g} "
                        f"(atol={atol}, rtol={rtol}).\nanalytical:\n{computed}\nnumerical:\n{expected}"
                    )


def _check_projected_jacobians(func, inputs, eps, atol, rtol, nondet_tol, check_forward_ad, check_backward_ad):
    """PyTorch's fast gradcheck: each Jacobian J (of an output with respect to an input) seen
    through a direction u over the input's real variables and one v over the output's, drawn
    uniform in [0, 1) from a generator of its own (the caller's random stream is left as it was),
    u of norm 1. Finite differences along u give the column J u from two calls,

        J u  ~  (f(x + eps u) - f(x - eps u)) / (2 eps),

    a backward pass seeded with v gives the row vᵀ J, and the two scalars vᵀ (J u) and (vᵀ J) u
    must agree within atol·Σu·Σv + rtol·|vᵀ J u|: atol bounds each element of J - J_numerical, so
    vᵀ (J - J_numerical) u by atol·Σu·Σv (u and v are not negative). Forward mode's J u is
    compared with the finite differences element by element, within atol·Σu + rtol·|J u|.
    A mismatch builds the full Jacobians (``_check_jacobians``) to name the worst element."""
    generator = random_generator(0)
    outputs = _outputs_tuple(func, inputs)
    checked = [index for index, output in enumerate(outputs) if output.requires_grad]
    positions = [position for position, value in enumerate(inputs) if isinstance(value, Tensor) and value.requires_grad]
    directions = {position: _unit(generator.random(_real_size(inputs[position]._array))) for position in positions}
    cotangents = {index: generator.random(_real_size(outputs[index]._array)) for index in checked}
    floating = [_is_floating(output) for output in outputs]
    columns = {position: _numerical_column(func, inputs, position, directions[position], eps, floating) for position in positions}
    if not checked:
        if any(column is not None and column.any() for position in positions for column in columns[position]):
            raise GradcheckError(_CHANGING_WITHOUT_GRADIENT)
        return
    for index in checked if check_backward_ad else ():
        v = cotangents[index]
        for position, row in zip(positions, _backward_rows(outputs[index], [inputs[p] for p in positions], v, nondet_tol)):
            u = directions[position]
            computed, expected = row @ u, v @ columns[position][index]
            if not abs(computed - expected) <= atol * u.sum() * v.sum() + rtol * abs(expected):
                _mismatch(func, inputs, eps, atol, rtol, "backward", position, index, computed, expected)
    for position in positions if check_forward_ad else ():
        u = directions[position]
        for index, tangent in enumerate(_forward_column(func, inputs, position, u)):
            expected = columns[position][index]
            if index in checked and xp.any(xp.abs(tangent - expected) > atol * u.sum() + rtol * xp.abs(expected)):
                _mismatch(func, inputs, eps, atol, rtol, "forward mode", position, index, tangent, expected)


def _unit(vector):
    """``vector`` scaled to norm 1 (an empty one as it is)."""
    return vector / xp.linalg.norm(vector) if vector.size else vector


def _as_values_of(array, real_values):
    """Real variables (``_real_values``' layout: a complex element's real part, then its
    imaginary part) as an array of ``array``'s shape and dtype."""
    values = real_values[0::2] + 1j * real_values[1::2] if array.dtype.kind == "c" else real_values
    return values.astype(array.dtype).reshape(array.shape)


def _numerical_column(func, inputs, position, direction, eps, floating):
    """J u of each output by central differences along ``direction``, moving the whole input
    ``inputs[position]`` in place (None for the outputs that are not ``floating``: integer or
    boolean ones have no derivative)."""
    array = inputs[position]._array
    step = eps * _as_values_of(array, direction)
    below, above = _outputs_either_side(func, inputs, array, (), array.copy(), step, eps)
    return [(high - low) / (2 * eps) if is_floating else None for is_floating, (*_, low), (*_, high) in zip(floating, below, above)]


def _backward_rows(output, targets, cotangent, nondet_tol):
    """vᵀ J of ``output`` with respect to each of ``targets``, as real variables, from a backward
    pass seeded with ``cotangent`` (run twice: the two must agree within ``nondet_tol``)."""
    passes = []
    for _ in range(2):
        seed = tensor_from_array(_as_values_of(output._array, cotangent))
        gradients = grad(output, targets, grad_outputs=seed, retain_graph=True, allow_unused=True)
        passes.append([
            xp.zeros(_real_size(target._array)) if gradient is None else _real_values(gradient._array)
            for target, gradient in zip(targets, gradients)
        ])
    for row, again in zip(*passes):
        if row.size and xp.abs(row - again).max() > nondet_tol:
            raise _not_reentrant(nondet_tol)
    return passes[0]


def _forward_column(func, inputs, position, direction):
    """J u of each output from forward mode: the outputs' tangents for the tangent ``direction``
    on ``inputs[position]``, as real variables (zeros for an output with no tangent)."""
    from chainrule.autograd import forward_ad  # noqa: PLC0415 (forward_ad imports this package)

    with forward_ad.dual_level():
        duals = list(inputs)
        tangent = tensor_from_array(_as_values_of(inputs[position]._array, direction))
        duals[position] = forward_ad.make_dual(inputs[position], tangent)
        outputs = _outputs_tuple(func, duals)
        tangents = [forward_ad.unpack_dual(output).tangent for output in outputs]
    return [
        xp.zeros(_real_size(output._array)) if tangent is None else _real_values(tangent._array)
        for output, tangent in zip(outputs, tangents)
    ]


def _mismatch(func, inputs, eps, atol, rtol, mode, position, index, computed, expected):
    """Raise the full check's error, naming the worst element, or, where the full Jacobians agree
    element by element, PyTorch's advice that only the fast check failed."""
    _check_jacobians(func, inputs, eps, atol, rtol, float("inf"), mode == "forward mode", mode == "backward")
    raise GradcheckError(
        f"Jacobian mismatch for output {index} with respect to input {position} in fast mode: {mode} gives "
        f"{computed} but finite differences give {expected} along random directions (atol={atol}, rtol={rtol}), "
        f"yet the full Jacobians agree element by element: the check would pass with fast_mode=False."
    )


def _check_backward_multiplies_grad_output(func, inputs):
    """PyTorch's check that backward scales with the output gradient: zero output gradients must
    give zero input gradients (a hook or backward adding a constant fails), of each input's dtype
    and shape. A nan is taken as zero times an infinite or undefined derivative (x ** 0.5 at a
    negative x, a column of nans under nanmean), where PyTorch's check fails the function."""
    outputs = [output for output in _outputs_tuple(func, inputs) if output.requires_grad]
    targets = _requiring_grad(inputs)
    if not outputs:
        return
    for gradient, target in zip(grad(outputs, targets, _zeros_like_each(outputs), allow_unused=True), targets):
        if gradient is None:
            continue
        if xp.nan_to_num(gradient._array, nan=0.0).any():
            raise GradcheckError("backward not multiplied by grad_output")
        if gradient._array.dtype != target._array.dtype:
            raise GradcheckError("grad is incorrect type")
        if gradient.shape != target.shape:
            raise GradcheckError("grad is incorrect size")


def _requiring_grad(inputs):
    """The inputs that are tensors requiring grad: those gradcheck checks."""
    return [value for value in inputs if isinstance(value, Tensor) and value.requires_grad]


def _zeros_like_each(outputs):
    """A zero output gradient for each of ``outputs``."""
    return [tensor_from_array(xp.zeros_like(output._array)) for output in outputs]


class _UndefinedGrad(Function):
    """The identity, whose backward sends back no gradient at all (PyTorch's ``UndefinedGrad``):
    the node before it receives an undefined (None) output gradient."""

    node_name = "UndefinedGradBackward"

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad_output):
        return None


def _check_undefined_grad(func, inputs):
    """PyTorch's undefined-gradient check: backward run with every output's gradient undefined (and,
    for several outputs, with each one's in turn) must give input gradients that are undefined or
    zero, and must not fail."""
    targets = _requiring_grad(inputs)

    def differentiable_outputs():
        return [output for output in _outputs_tuple(func, inputs) if output.requires_grad]

    cases = [[_UndefinedGrad.apply(output) for output in differentiable_outputs()]]
    if len(cases[0]) > 1:
        for undefined in range(len(cases[0])):
            outputs = differentiable_outputs()
            cases.append([_UndefinedGrad.apply(output) if index == undefined else output for index, output in enumerate(outputs)])
    for outputs in cases:
        if not outputs:
            continue
        try:
            grads = grad(outputs, targets, _zeros_like_each(outputs), allow_unused=True)
        except RuntimeError as error:
            _warn_undefined_grad_check()
            raise GradcheckError(
                "Expected backward function to handle undefined output grads: it raised with an undefined (None) "
                f"output gradient ({error}). Return None, or zeros, for the inputs when grad_output is None."
            ) from error
        if any(gradient is not None and gradient._array.any() for gradient in grads):
            _warn_undefined_grad_check()
            raise GradcheckError(
                "Expected all input grads to be undefined or zero when all output grads are undefined or zero: a "
                "backward given an undefined (None) output gradient returned a nonzero input gradient. Return None, "
                "or zeros, for the inputs when grad_output is None."
            )


def _warn_undefined_grad_check():
    warnings.warn(
        "Backwards compatibility: New undefined gradient support checking feature is enabled by default, but it may "
        "break existing callers of this function. If this is true for you, you can call this function with "
        '"check_undefined_grad=False" to disable the feature',
        stacklevel=4,
    )


def _check_inputs(inputs):
    """PyTorch's checks before a gradcheck: some input requires grad (ValueError otherwise), and a
    UserWarning for each that is not double precision (float32's finite differences are too coarse)."""
    requiring = [position for position, value in enumerate(inputs) if isinstance(value, Tensor) and value.requires_grad]
    if not requiring:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them have "
            "requires_grad=True. Set requires_grad=True on the inputs to check."
        )
    for position in requiring:
        if inputs[position]._array.dtype not in (xp.float64, xp.complex128):
            warnings.warn(
                f"Input #{position} requires gradient and is not a double precision floating point or complex. This "
                f"check will likely fail if all the inputs are not of double precision floating point or complex. ",
                stacklevel=3,
            )
        if any(stride == 0 and size > 1 for stride, size in zip(inputs[position].stride(), inputs[position].shape)):
            raise RuntimeError(
                f"The {position}th input has a dimension with stride 0. gradcheck only supports inputs that are "
                f"non-overlapping to be able to compute the numerical gradients correctly. You should call .contiguous "
                f"on the input before passing it to gradcheck."
            )


def gradgradcheck(
    func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
    raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
    check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False,
):
    """``gradcheck`` of the gradient: True when second derivatives from backward-of-backward match
    finite differences of the first.

    The checked function is (inputs, v) -> vᵀ J, the gradient of ``func`` seeded with the cotangents
    ``grad_outputs`` (uniform in [-1, 1) when not given, as PyTorch draws them). Both inputs and
    cotangents are perturbed: by backward of backward (``check_rev_over_rev``, on by default) and
    by forward mode over backward (``check_fwd_over_rev``). ``nondet_tol`` and
    ``check_undefined_grad`` and ``fast_mode`` are gradcheck's; PyTorch's other options (``check_batched_grad``,
    ...) are accepted and change nothing.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    if grad_outputs is None:  # drawn from the global generator as PyTorch draws them (testing.make_tensor)
        from chainrule.testing.creation import make_tensor

        outputs = [output for output in _outputs_tuple(func, inputs) if output.requires_grad]
        grad_outputs = tuple(
            make_tensor(
                output.shape, dtype=output.dtype if output.dtype.is_floating_point or output.dtype.is_complex else float64,
                device=output.device, low=-1, high=1, requires_grad=True, noncontiguous=gen_non_contig_grad_outputs,
            )
            for output in outputs
        )
    else:
        grad_outputs = tuple(grad_outputs) if isinstance(grad_outputs, (tuple, list)) else (grad_outputs,)
    count = len(grad_outputs)
    differentiable = [position for position, value in enumerate(inputs) if isinstance(value, Tensor) and value.requires_grad]

    def gradient_of_fn(*values):
        with grad_mode.enable_grad():
            outputs = [output for output in _outputs_tuple(func, values[:-count]) if output.requires_grad]
            gradients = grad(
                outputs, [values[position] for position in differentiable], values[-count:],
                create_graph=True, allow_unused=True,
            )
        return tuple(gradient for gradient in gradients if gradient is not None)

    return gradcheck(
        gradient_of_fn, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception,
        nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad, check_forward_ad=check_fwd_over_rev,
        check_backward_ad=check_rev_over_rev, fast_mode=fast_mode,
    )


from chainrule.autograd.backward_pass import grad  # noqa: E402
from chainrule.dtypes import float64  # noqa: E402
from chainrule.tensor import Tensor, tensor_from_array  # noqa: E402
