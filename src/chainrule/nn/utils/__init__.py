"""Helpers for training loops, as ``torch.nn.utils``: gradient clipping and flat parameter vectors
(``stateless.functional_call`` is in its own module)."""
import math

from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import xp
from chainrule.ops import join
from chainrule.tensor import Tensor, tensor_from_array


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    total = (sum over every gradient element of |g|^q)^(1/q), q = ``norm_type`` (the largest |g|
    for ``inf``), as if all gradients were one vector; each gradient is then multiplied in place
    by min(max_norm / (total + 1e-6), 1). Returns the total norm before clipping: NaN when any
    gradient holds a NaN (then every gradient becomes NaN, as in PyTorch), and with
    ``error_if_nonfinite=True`` a non-finite total raises RuntimeError. ``foreach`` is accepted and
    changes nothing.
    """
    grads = [parameter.grad for parameter in _as_list(parameters) if parameter.grad is not None]
    if not grads:
        return tensor_from_array(xp.asarray(0.0, dtype=xp.float32))
    norm_type = float(norm_type)
    # Per-gradient norms first, then the norm of those: array reductions, which carry a NaN through
    # whatever its position (Python's max() would drop one that is not first).
    if norm_type == math.inf:
        norms = [xp.abs(grad.array).max(initial=0.0) for grad in grads]
    else:
        norms = [xp.linalg.norm(grad.array.reshape(-1).astype(xp.float64), norm_type) for grad in grads]
    total = float(xp.linalg.norm(xp.asarray(norms, dtype=xp.float64), norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
            f"it cannot be clipped. To disable this error and scale the gradients by the non-finite "
            f"norm anyway, set `error_if_nonfinite=False`"
        )
    coefficient = float(xp.minimum(max_norm / (total + 1e-6), 1.0))  # NaN stays NaN, as in PyTorch
    with no_grad():
        for grad in grads:
            grad.mul_(coefficient)
    return tensor_from_array(xp.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for parameter in _as_list(parameters):
            if parameter.grad is not None:
                parameter.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one vector (differentiable)."""
    return join.cat([parameter.reshape(-1) for parameter in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive pieces of the vector ``vec`` into the parameters (in place, unrecorded)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected Tensor, but got: {type(vec).__name__}")
    position = 0
    with no_grad():
        for parameter in parameters:
            count = parameter.numel()
            parameter.copy_(vec[position : position + count].reshape(tuple(parameter.shape)))
            position += count


from chainrule.nn.utils import stateless  # noqa: E402  torch.nn.utils.stateless
