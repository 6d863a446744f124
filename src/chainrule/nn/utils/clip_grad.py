"""Gradient clipping, as ``torch.nn.utils.clip_grad``: scale all gradients together so that their
joint norm stays under a bound (``clip_grad_norm_`` = ``get_total_norm`` then
``clip_grads_with_norm_``), or clamp each element (``clip_grad_value_``)."""
import math
import warnings

from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import xp
from chainrule.tensor import Tensor, tensor_from_array


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of all ``tensors`` together, as if they were one vector:
    total = (sum over every element of |t|^q)^(1/q), q = ``norm_type`` (the largest |t| for
    ``inf``), computed as the norm of the per-tensor norms.

    NaN when any tensor holds a NaN; with ``error_if_nonfinite=True`` a non-finite total raises
    RuntimeError. ``foreach`` is accepted and changes nothing.
    """
    tensors = _as_list(tensors)
    if not tensors:
        return tensor_from_array(xp.asarray(0.0, dtype=xp.float32))
    norm_type = float(norm_type)
    # Per-tensor norms first, then the norm of those: array reductions, which carry a NaN through
    # whatever its position (Python's max() would drop one that is not first).
    if norm_type == math.inf:
        norms = [xp.abs(tensor.array).max(initial=0.0) for tensor in tensors]
    else:
        norms = [xp.linalg.norm(tensor.array.reshape(-1).astype(xp.float64), norm_type) for tensor in tensors]
    total = float(xp.linalg.norm(xp.asarray(norms, dtype=xp.float64), norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
            f"it cannot be clipped. To disable this error and scale the gradients by the non-finite "
            f"norm anyway, set `error_if_nonfinite=False`"
        )
    return tensor_from_array(xp.asarray(total, dtype=tensors[0].dtype))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Multiply every gradient in place by min(max_norm / (total_norm + 1e-6), 1), ``total_norm``
    being already known (``get_total_norm`` of the gradients). A NaN total makes every gradient NaN."""
    grads = [parameter.grad for parameter in _as_list(parameters) if parameter.grad is not None]
    total = float(total_norm)
    coefficient = float(xp.minimum(float(max_norm) / (total + 1e-6), 1.0))  # NaN stays NaN, as in PyTorch
    with no_grad():
        for grad in grads:
            grad.mul_(coefficient)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint norm is at most ``max_norm``: the total
    norm of the gradients (``get_total_norm``), then ``clip_grads_with_norm_``. Returns the total
    norm before clipping."""
    parameters = _as_list(parameters)
    grads = [parameter.grad for parameter in parameters if parameter.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if grads:
        clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated name of ``clip_grad_norm_``; warns, then clips."""
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for parameter in _as_list(parameters):
            if parameter.grad is not None:
                parameter.grad.clamp_(-clip_value, clip_value)
