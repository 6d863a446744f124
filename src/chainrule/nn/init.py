"""Initializers: fill a tensor in place with starting values, as ``torch.nn.init``.

Why the scale matters: a layer with ``fan_in`` inputs sums ``fan_in`` products, so with weights of
standard deviation ``std`` its output has variance about ``fan_in * std^2`` times the input's. The
schemes below pick ``std`` so that the variance neither explodes nor vanishes through depth:

- Xavier/Glorot (for tanh, sigmoid):  std = gain * sqrt(2 / (fan_in + fan_out))
- Kaiming/He (for ReLU):              std = gain / sqrt(fan)   with gain = sqrt(2) for ReLU

A uniform distribution U(-bound, bound) has std = bound / sqrt(3), so the uniform variants use
``bound = sqrt(3) * std``. Every function works in place without recording a graph, draws from
chainrule's global generator (seeded by ``manual_seed``) or the given ``generator``, and returns
the tensor.
"""
import math
import warnings

from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import as_array
from chainrule.random import numpy_generator
from chainrule.tensor import tensor_from_array

_LINEAR_GAINS = {"linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}


def calculate_gain(nonlinearity, param=None):
    """The factor by which ``nonlinearity`` shrinks the standard deviation, to undo in initialization.

    linear, conv, sigmoid: 1;  tanh: 5/3;  relu: sqrt(2);  leaky_relu: sqrt(2 / (1 + slope^2))
    (slope ``param``, default 0.01);  selu: 3/4.
    """
    if nonlinearity in _LINEAR_GAINS:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``: in * kernel, out * kernel."""
    if tensor.dim() < 2:
        raise ValueError(
            f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {tuple(tensor.shape)})"
        )
    receptive_field_size = 1
    for size in tensor.shape[2:]:
        receptive_field_size *= size
    return tensor.shape[1] * receptive_field_size, tensor.shape[0] * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _is_empty(tensor):
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples of U(a, b)."""
    with no_grad():
        return tensor.uniform_(a, b, generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std^2)."""
    with no_grad():
        return tensor.normal_(mean, std, generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with samples of N(mean, std^2) conditioned on lying in [a, b] (redrawing those outside)."""
    rng = numpy_generator(generator)
    values = rng.normal(mean, std, tuple(tensor.shape))
    outside = (values < a) | (values > b)
    while outside.any():
        values[outside] = rng.normal(mean, std, int(outside.sum()))
        outside = (values < a) | (values > b)
    with no_grad():
        return tensor.copy_(tensor_from_array(as_array(values, tensor.dtype)))


def constant_(tensor, val):
    """Fill with the value ``val``."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-bound, bound) with bound = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    """std = gain / sqrt(fan): He et al.'s scale for layers followed by ``nonlinearity``."""
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-bound, bound) with bound = sqrt(3) * gain / sqrt(fan).

    ``a`` is the negative slope of leaky_relu (``Linear`` uses ``a=sqrt(5)``, which gives
    bound = 1 / sqrt(fan_in)); ``mode`` picks fan_in (keeps forward variance) or fan_out (backward).
    """
    if _is_empty(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2) with std = gain / sqrt(fan)."""
    if _is_empty(tensor):
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)
