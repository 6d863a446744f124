"""``torch.func.grad`` and ``grad_and_value``: a function's gradient, as a new function.

``grad(f)(x)`` is ∇f(x) for a scalar-valued f, shaped as ``x`` (a dict of parameters gives a dict
of gradients). ``argnums`` chooses the arguments (a tuple gives a tuple of gradients) and
``has_aux=True`` lets f return ``(loss, aux)``, aux passed through untouched. Transforms compose:
``grad(grad(f))`` is the second derivative.
"""
import functools

from chainrule.func.linearized import Linearized
from chainrule.tensor import Tensor


def grad_and_value(func, argnums=0, has_aux=False):
    """``f -> (lambda *args: (∇f(args), f(args)))``; with ``has_aux``, ``((∇f, (f, aux)))``."""

    @functools.wraps(func)
    def gradient_and_value(*args, **kwargs):
        run = Linearized(func, args, kwargs, argnums, has_aux, "grad_and_value")
        output = run.output
        if not isinstance(output, Tensor):
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(output)}")
        if output.dim() != 0:
            raise RuntimeError(
                f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor "
                f"with {output.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?"
            )
        gradients = run.release(run.per_argument(run.pullback([output.new_ones(())]), argnums))
        value = run.release(output)
        if has_aux:
            return gradients, (value, run.release(run.aux))
        return gradients, value

    return gradient_and_value


def grad(func, argnums=0, has_aux=False):
    """``f -> (lambda *args: ∇f(args))``; with ``has_aux``, ``(∇f, aux)``."""
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def gradient(*args, **kwargs):
        gradients, value = both(*args, **kwargs)
        return (gradients, value[1]) if has_aux else gradients

    return gradient
