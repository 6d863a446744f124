"""``chainrule.fft``, as ``torch.fft``: discrete Fourier transforms and their helpers.

Each transform takes PyTorch's arguments: ``n`` (1-D) or ``s`` (n-D), the length of the signal
(the input zero-padded or trimmed to it), ``dim`` (the last dimension, the last two, or all of
them by default) and ``norm`` ("backward", the default: the inverse divides by n; "forward": the
forward divides by n; "ortho": both by √n). Real input gives complex output of the matching
precision (float32 -> complex64); integers take the default float dtype. All are differentiable
(``ops/fft.py`` holds the operations and their gradients).

    spectrum = chainrule.fft.rfft(signal)                    # frequencies 0 .. n//2
    signal_again = chainrule.fft.irfft(spectrum, n=signal.shape[-1])
"""
from chainrule import dtypes
from chainrule.backend import xp
from chainrule.creation import tensor as _tensor
from chainrule.ops.fft import (
    complex_to_complex,
    complex_to_real,
    fftn,
    ifftn,
    opposite_norm,
    real_to_complex,
    real_to_full,
    rfftn,
)
from chainrule.ops.complex_numbers import conj as _conj
from chainrule.ops.registry import with_out
from chainrule.overrides import make_overridable
from chainrule.tensor import Tensor

__all__ = [
    "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
    "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift",
]


def _is_real(input):
    return isinstance(input, Tensor) and input._array.dtype.kind in "fiub"


def _one(n, dim):
    """The ``s`` and ``dim`` of a 1-D transform's ``n`` and ``dim`` (n positive: -1 keeps a size
    only in ``s``)."""
    if n is not None and n <= 0:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return (None if n is None else (n,)), (dim,)


@with_out
def fft(input, n=None, dim=-1, norm=None):
    """The 1-D discrete Fourier transform along ``dim``: X_k = Σ_j x_j e^(-2πi jk/n)."""
    if _is_real(input):
        return real_to_full(input, *_one(n, dim), norm, "fft")
    return complex_to_complex(input, *_one(n, dim), norm, False, "fft")


@with_out
def ifft(input, n=None, dim=-1, norm=None):
    """The inverse of ``fft``: x_j = (1/n) Σ_k X_k e^(2πi jk/n)."""
    if _is_real(input):  # of real numbers, the conjugate of the forward transform (scaled as the inverse), as PyTorch computes it
        return _conj(real_to_full(input, *_one(n, dim), opposite_norm(norm), "ifft"))
    return complex_to_complex(input, *_one(n, dim), norm, True, "ifft")


@with_out
def fft2(input, s=None, dim=(-2, -1), norm=None):
    """The 2-D transform over ``dim`` (the last two dimensions)."""
    return complex_to_complex(input, s, dim, norm, False, "fft2")


@with_out
def ifft2(input, s=None, dim=(-2, -1), norm=None):
    """The inverse of ``fft2``."""
    return complex_to_complex(input, s, dim, norm, True, "ifft2")


fftn = with_out(fftn)
ifftn = with_out(ifftn)
fftn.__doc__ = "The n-D transform over ``dim`` (every dimension by default, or the last len(s))."
ifftn.__doc__ = "The inverse of ``fftn``."


@with_out
def rfft(input, n=None, dim=-1, norm=None):
    """The transform of a real signal: its frequencies 0 .. n//2 (the rest are their conjugates)."""
    return real_to_complex(input, *_one(n, dim), norm, "rfft")


@with_out
def irfft(input, n=None, dim=-1, norm=None):
    """The real signal of length ``n`` (2 · (m - 1) by default) whose ``rfft`` is ``input``'s m frequencies."""
    return complex_to_real(input, *_one(n, dim), norm, "irfft")


@with_out
def rfft2(input, s=None, dim=(-2, -1), norm=None):
    """``rfftn`` over the last two dimensions."""
    return real_to_complex(input, s, dim, norm, "rfft2")


@with_out
def irfft2(input, s=None, dim=(-2, -1), norm=None):
    """``irfftn`` over the last two dimensions."""
    return complex_to_real(input, s, dim, norm, "irfft2")


rfftn = with_out(rfftn)
rfftn.__doc__ = "The n-D transform of a real signal, one-sided along the last of ``dim``."


@with_out
def irfftn(input, s=None, dim=None, norm=None):
    """The inverse of ``rfftn``: a real signal of sizes ``s`` (the last 2 · (m - 1) by default)."""
    return complex_to_real(input, s, dim, norm, "irfftn")


@with_out
def hfft(input, n=None, dim=-1, norm=None):
    """The transform of a signal with Hermitian symmetry given by its one-sided half: a real
    result of length ``n`` (``irfft`` of the conjugate, scaled as a forward transform)."""
    return _hermitian(input, *_one(n, dim), norm, "hfft")


@with_out
def ihfft(input, n=None, dim=-1, norm=None):
    """The inverse of ``hfft``: the one-sided half of a real signal's inverse transform."""
    return _conj(real_to_complex(input, *_one(n, dim), opposite_norm(norm), "ihfft"))


@with_out
def hfft2(input, s=None, dim=(-2, -1), norm=None):
    """``hfftn`` over the last two dimensions."""
    return _hermitian(input, s, dim, norm, "hfft2")


@with_out
def hfftn(input, s=None, dim=None, norm=None):
    """The n-D transform of a signal with Hermitian symmetry given by its one-sided half along the
    last of ``dim``: a real result (``irfftn`` of the conjugate, scaled as a forward transform)."""
    return _hermitian(input, s, dim, norm, "hfftn")


def _hermitian(input, s, dim, norm, operation):
    return complex_to_real(_conj(input) if input.is_complex() else input, s, dim, opposite_norm(norm), operation)


@with_out
def ihfft2(input, s=None, dim=(-2, -1), norm=None):
    """The inverse of ``hfft2``."""
    return _conj(real_to_complex(input, s, dim, opposite_norm(norm), "ihfft2"))


@with_out
def ihfftn(input, s=None, dim=None, norm=None):
    """The inverse of ``hfftn``: the one-sided half (along the last of ``dim``) of a real signal's
    inverse transform."""
    return _conj(real_to_complex(input, s, dim, opposite_norm(norm), "ihfftn"))


def _frequencies(n, d, dtype, requires_grad, one_sided, name):
    if n < 0:
        raise RuntimeError(f"{name}: n must be non-negative, got {n}")
    values = (xp.fft.rfftfreq if one_sided else xp.fft.fftfreq)(n, d)
    return _tensor(values, dtype=dtypes.get_default_dtype() if dtype is None else dtype, requires_grad=requires_grad)


@with_out
def fftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The frequencies of an n-point ``fft`` with sample spacing d: [0, 1, ..., n//2 - 1 or so,
    -n//2, ..., -1] / (d n)."""
    return _frequencies(n, d, dtype, requires_grad, False, "fftfreq")


@with_out
def rfftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The frequencies of an n-point ``rfft``: [0, 1, ..., n//2] / (d n)."""
    return _frequencies(n, d, dtype, requires_grad, True, "rfftfreq")


def _shifted(input, dim, direction):
    ndim = input.ndim
    dims = tuple(range(ndim)) if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    return input.roll(tuple(direction * (input.shape[each] // 2) for each in dims), dims)


def fftshift(input, dim=None):
    """The zero frequency rolled to the middle of each of ``dim`` (every dimension by default)."""
    return _shifted(input, dim, 1)


def ifftshift(input, dim=None):
    """The inverse of ``fftshift``."""
    return _shifted(input, dim, -1)

make_overridable(globals(), __all__, "chainrule.fft")  # __torch_function__ (overrides.py)
