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
import functools
import math
import warnings

from chainrule.autograd.grad_mode import no_grad
from chainrule.nn.parameter import is_lazy, uninitialized_error
from chainrule.backend import as_array, xp
from chainrule import sampling_algorithms
from chainrule.creation import empty_like, randperm
from chainrule.ops.elementwise import where
from chainrule.random import engine_of
from chainrule.tensor import tensor_from_array

_LINEAR_GAINS = {"linear", "sigmoid", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}


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
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
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
    """Fill with samples of N(mean, std^2) conditioned on lying in [a, b], by rejection, as PyTorch:

    - when [a, b] holds more than 30% of the normal's mass: draw N(mean, std^2) for every element,
      and redraw (a whole fresh tensor, kept where needed) the elements outside [a, b] until none is;
    - otherwise: draw x uniform on [a, b] and accept it when log u < log(pdf(x) / pdf(mode)) for u
      uniform on [0, 1), mode the point of [a, b] nearest the mean; redraw the rejected ones.
    """
    if a > b:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}: trunc_normal_'s "
            f"lower bound a must be below the upper bound b"
        )
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may be incorrect.",
            stacklevel=3,  # the caller of the public trunc_normal_, past its uninitialized-parameter check
        )
    with no_grad():
        if _normal_cdf((b - mean) / std) - _normal_cdf((a - mean) / std) > 0.3:
            low, high = (float(as_array(bound, tensor.dtype)) for bound in (a, b))  # the bounds as the dtype holds them
            result = tensor.normal_(mean, std, generator=generator)
            while (outside := (result < low) | (result > high)).any():
                result = where(outside, empty_like(result).normal_(mean, std, generator=generator), result)
            return tensor.copy_(result)
        log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2

        def rejected(candidates):
            log_density = candidates.sub(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
            return empty_like(candidates).uniform_(generator=generator).log_().gt(log_density)

        result = tensor.uniform_(a, b, generator=generator)
        pending = rejected(result)
        while pending.any():
            candidates = empty_like(tensor).uniform_(a, b, generator=generator)
            result = where(pending, candidates, result)
            pending = where(pending, rejected(candidates), pending)
        return tensor.copy_(result)


def _normal_cdf(z):
    """Phi(z) = (1 + erf(z / sqrt 2)) / 2."""
    return (1.0 + math.erf(z / math.sqrt(2.0))) / 2.0


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


def layer_defaults_(weight, bias):
    """The starting values PyTorch gives Linear and convolution layers: the weight Kaiming-uniform
    with a = √5 (uniform in ±1/√fan_in), the bias (if any) uniform in ±1/√fan_in, fan_in being the
    number of inputs each output sums (in_features, or in_channels/groups · kernel size)."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2) with std = gain / sqrt(fan)."""
    if _is_empty(tensor):
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def eye_(tensor):
    """Fill a 2-d tensor with the identity: 1 where row = column, 0 elsewhere (a Linear that
    passes its first min(in, out) inputs through unchanged)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        return tensor.copy_(tensor_from_array(xp.eye(*tensor.shape, dtype=tensor._array.dtype)))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-d convolution weight (out, in, *kernel) with the Dirac delta: output
    channel d of each of the ``groups`` copies input channel d through the kernel's centre (an
    identity convolution, for as many channels as both sides have)."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    out_channels = tensor.shape[0]
    if out_channels % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = out_channels // groups
    values = xp.zeros(tuple(tensor.shape), dtype=tensor._array.dtype)
    centre = tuple(size // 2 for size in tensor.shape[2:])
    for group in range(groups):
        for channel in range(min(per_group, tensor.shape[1])):
            values[(group * per_group + channel, channel) + centre] = 1
    with no_grad():
        return tensor.copy_(tensor_from_array(values))


def orthogonal_(tensor, gain=1, generator=None):
    """Fill with a (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2013): the tensor seen as
    (rows, everything else), its rows orthonormal if rows ≤ columns, else its columns. The Q of
    the QR decomposition of a standard normal matrix, its columns signed so that R's diagonal is
    positive, which makes Q uniform over orthogonal matrices. Keeps the norm of signals and
    gradients through deep linear and recurrent layers."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    columns = tensor.numel() // rows
    flattened = sampling_algorithms.normal(engine_of(generator), (rows, columns), 0.0, 1.0, tensor._array.dtype).astype(xp.float64)
    if rows < columns:
        flattened = flattened.T
    q, r = xp.linalg.qr(flattened)
    q = q * xp.sign(xp.diagonal(r))
    if rows < columns:
        q = q.T
    with no_grad():
        return tensor.copy_(tensor_from_array(as_array(gain * q.reshape(tuple(tensor.shape)), tensor.dtype)))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill a 2-d tensor with N(0, std²) values, then zero ceil(sparsity · rows) randomly chosen
    entries of each column (Martens, 2010)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, columns = tensor.shape
    zeros_per_column = int(math.ceil(sparsity * rows))
    with no_grad():
        tensor.normal_(0, std, generator=generator)
        for column in range(columns):
            # PyTorch draws these from the global generator even when given one; a given one is used here
            tensor[randperm(rows, generator=generator)[:zeros_per_column], column] = 0
        return tensor


def _deprecated(function):
    """The old name of ``function`` (without its trailing underscore), which warns as PyTorch's does."""
    new_name = function.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.", FutureWarning, stacklevel=2)
        return function(*args, **kwargs)

    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    deprecated_init.__doc__ = f"Deprecated: use ``{new_name}``. " + (function.__doc__ or "")
    return deprecated_init


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)


def _refusing_uninitialized(function):
    """``function`` raising PyTorch's ValueError when given a lazy module's uninitialized parameter
    (whose shape is not known yet) instead of filling an empty tensor."""

    @functools.wraps(function)
    def checked(tensor, *args, **kwargs):
        if is_lazy(tensor):
            raise uninitialized_error(f"<function {function.__name__}>")
        return function(tensor, *args, **kwargs)

    return checked


for _name, _function in list(globals().items()):
    if _name.endswith("_") and not _name.startswith("_") and callable(_function) and _name != "layer_defaults_":
        globals()[_name] = _refusing_uninitialized(_function)
del _name, _function


# PyTorch's public names (``from torch.nn.init import *`` brings these and no helper of this file's)
__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_", "uniform",
    "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
    "orthogonal", "sparse",
]
