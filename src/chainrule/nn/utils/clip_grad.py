"""Gradient clipping, as ``torch.nn.utils.clip_grad``: scale all gradients together so that their
joint norm stays under a bound (``clip_grad_norm_`` = ``get_total_norm`` then
``clip_grads_with_norm_``), or clamp each element (``clip_grad_value_``)."""
import functools
import types
import warnings

from chainrule.autograd.function import checked
from chainrule.autograd.grad_mode import no_grad
from chainrule.caller_warnings import warn_at_caller
from chainrule.creation import zeros
from chainrule.dtypes import float64, promote_types
from chainrule.linalg import vector_norm
from chainrule.ops.compare import isfinite
from chainrule.ops.elementwise import clamp
from chainrule.ops.join import stack
from chainrule.tensor import Tensor


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
        return zeros(())
    norm_type = float(norm_type)
    nonempty = [tensor for tensor in tensors if tensor.numel()]  # an empty tensor adds nothing to any norm
    with no_grad():
        # Per-tensor norms first, then the norm of those, in float64: reductions that carry a NaN
        # through whatever its position, written as operations so that a compiled step replays them.
        norms = [vector_norm(tensor.reshape(-1), norm_type, dtype=float64) for tensor in nonempty]
        total = vector_norm(stack(norms), norm_type) if norms else zeros((), dtype=float64)
    if error_if_nonfinite:  # a check of values that a compiled step makes again on each call
        checked(isfinite(total), functools.partial(_nonfinite_norm_error, norm_type))
    return total.to(functools.reduce(promote_types, [tensor.dtype for tensor in tensors]))  # PyTorch's stack of the norms


def _nonfinite_norm_error(norm_type):
    return RuntimeError(
        f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
        f"it cannot be clipped. To disable this error and scale the gradients by the non-finite "
        f"norm anyway, set `error_if_nonfinite=False`"
    )


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Multiply every gradient in place by min(max_norm / (total_norm + 1e-6), 1), ``total_norm``
    being already known (``get_total_norm`` of the gradients). A NaN total makes every gradient NaN."""
    if not isinstance(total_norm, Tensor):
        raise TypeError(
            f"clip_grads_with_norm_(): total_norm must be a Tensor (what get_total_norm returns), not "
            f"{type(total_norm).__name__}; pass chainrule.tensor(total_norm)"
        )
    grads = [parameter.grad for parameter in _as_list(parameters) if parameter.grad is not None]
    with no_grad():
        total = total_norm.double()
        coefficient = clamp(float(max_norm) / (total + 1e-6), max=1.0)  # NaN stays NaN, as in PyTorch
        for grad in grads:
            grad.mul_(coefficient.to(grad.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint norm is at most ``max_norm``: the total
    norm of the gradients (``get_total_norm``), then ``clip_grads_with_norm_``. Returns the total
    norm before clipping. An empty generator (``model.parameters()`` already used up) warns, as
    PyTorch's."""
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = _as_list(parameters)
    if is_generator and not parameters:
        warn_at_caller("`parameters` is an empty generator, no gradient clipping will occur.")
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
    """Clamp every gradient element into [-clip_value, clip_value], in place. As PyTorch's, it
    raises RuntimeError when no parameter has a gradient (``clip_grad_norm_`` returns 0 then)."""
    clip_value = float(clip_value)
    grads = [parameter.grad for parameter in _as_list(parameters) if parameter.grad is not None]
    if not grads:
        raise RuntimeError(
            "clip_grad_value_: none of the parameters has a gradient (every .grad is None); call "
            "backward() before clipping, or skip the clipping on a step that computed no gradient"
        )
    with no_grad():
        for grad in grads:
            grad.clamp_(-clip_value, clip_value)
