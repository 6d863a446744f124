"""``torch.func.jacrev``, ``jacfwd`` and ``hessian``: a function's Jacobian, as a new function.

``jacrev(f)(x)`` has shape ``output.shape + x.shape``, one backward pass per output element. With
tuple outputs or ``argnums``, results nest as the output, then as the chosen arguments.
``jacfwd`` gives the same Jacobian (PyTorch computes it column by column in forward mode; here it
is computed row by row, as jacrev). ``hessian(f)`` is ``jacfwd(jacrev(f))``.
"""
import functools

from chainrule.func.linearized import Linearized, check_real
from chainrule.utils._pytree import tree_unflatten as unflatten
from chainrule.func.vmap import check_randomness, random_draws_checked
from chainrule.ops.join import stack
from chainrule.tensor import Tensor


def _one_hot(output, element):
    seed = output.new_zeros(output.nelement())
    seed[element] = 1
    return seed.reshape(output.shape)


def _jacobian_of_output(run, position, output):
    """d output / d input for every input tensor of ``run``: rows from one pullback per element."""
    rows = []
    for element in range(output.nelement()):
        cotangents = [None] * len(run.outputs)
        cotangents[position] = _one_hot(output, element)
        rows.append(run.pullback(cotangents))
    jacobians = []
    for index, input_ in enumerate(run.inputs):
        if not isinstance(input_, Tensor):
            jacobians.append(None)
            continue
        shape = tuple(output.shape) + tuple(input_.shape)
        jacobians.append(stack([row[index] for row in rows]).reshape(shape) if rows else input_.new_zeros(shape))
    return jacobians


def _jacobian(func, argnums, has_aux, name):
    """``f -> (lambda *args: the Jacobian of f at args)`` (and aux), for ``jacrev`` and ``jacfwd``
    (``name``, for the checks each makes)."""

    @functools.wraps(func)
    def jacobian_function(*args, **kwargs):
        check_real(args, name, "inputs")
        run = Linearized(func, args, kwargs, argnums, has_aux, name)
        check_real(run.outputs, name, "outputs")
        per_output = [
            run.per_argument(_jacobian_of_output(run, position, output), argnums)
            for position, output in enumerate(run.outputs)
        ]
        jacobian = run.release(unflatten(per_output, run.output_spec))
        return (jacobian, run.release(run.aux)) if has_aux else jacobian

    return jacobian_function


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """``f -> (lambda *args: the Jacobian of f at args)``, by reverse mode; with ``has_aux``,
    ``(jacobian, aux)``. ``chunk_size`` (> 0) is accepted: rows are computed one at a time."""
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    return _jacobian(func, argnums, has_aux, "jacrev")


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The same Jacobian as ``jacrev`` (computed the same way here; see the module docstring), with
    PyTorch's checks of forward mode: floating-point primals, and ``randomness`` as ``vmap``'s
    (PyTorch vmaps over the tangents): "error" refuses a random draw in ``f``."""
    jacobian = _jacobian(func, argnums, has_aux, "jacfwd")

    @functools.wraps(func)
    def jacobian_function(*args, **kwargs):
        check_randomness(randomness)
        with random_draws_checked(randomness):
            return jacobian(*args, **kwargs)

    return jacobian_function


def hessian(func, argnums=0):
    """``f -> (lambda *args: the Hessian of the scalar f at args)``: ``jacfwd(jacrev(f))``."""
    return jacfwd(jacrev(func, argnums), argnums)
