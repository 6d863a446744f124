"""The window functions of signal processing, as PyTorch's factories make them: ``hann_window``,
``hamming_window``, ``blackman_window``, ``bartlett_window``, ``kaiser_window``.

Each is a 1-D tensor of ``window_length`` weights, largest in the middle, for tapering a frame of a
signal (before a Fourier transform) or smoothing a curve. With ``n = 0 .. N - 1``:

    hamming   alpha - beta cos(2πn / (N - 1))           (hann: alpha = beta = 0.5)
    blackman  0.42 - 0.5 cos(2πn / (N - 1)) + 0.08 cos(4πn / (N - 1))
    bartlett  1 - |2n / (N - 1) - 1|
    kaiser    I0(beta sqrt(1 - (2n / (N - 1) - 1)²)) / I0(beta)

``periodic`` (the default) gives the window for spectral analysis: the formula for N + 1 points,
its last dropped. A window of length 1 is ``[1.]``, of length 0 empty.
"""
import math

from chainrule import dtypes
from chainrule.autograd.function import made_from_arguments
from chainrule.backend import xp
from chainrule.device import check_device
from chainrule.ops.registry import public


def _window(name, window_length, periodic, dtype, requires_grad, device, formula):
    """The window of ``formula`` (of n / (N - 1), in float64, N counting the dropped point of a
    periodic window), checked and made as PyTorch's factories are."""
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    chosen = dtypes.get_default_dtype() if dtype is None else dtypes.of(dtype)
    if chosen.kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {chosen}")
    check_device(device)
    if window_length <= 1:
        weights = xp.ones(window_length)
    else:
        points = window_length + 1 if periodic else window_length
        weights = formula(xp.arange(window_length, dtype=xp.float64) / (points - 1))
    return made_from_arguments(weights.astype(chosen), requires_grad)


@public(method=False)
def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None, requires_grad=False):
    """alpha - beta cos(2πn / (N - 1)): the Hamming window (1-D, ``window_length`` weights)."""
    return _window(
        "hamming_window", window_length, periodic, dtype, requires_grad, device,
        lambda fraction: alpha - beta * xp.cos(2 * math.pi * fraction),
    )


@public(method=False)
def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """0.5 - 0.5 cos(2πn / (N - 1)) = sin²(πn / (N - 1)): the Hann window."""
    return _window(
        "hann_window", window_length, periodic, dtype, requires_grad, device,
        lambda fraction: 0.5 - 0.5 * xp.cos(2 * math.pi * fraction),
    )


@public(method=False)
def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """0.42 - 0.5 cos(2πn / (N - 1)) + 0.08 cos(4πn / (N - 1)): the Blackman window."""
    return _window(
        "blackman_window", window_length, periodic, dtype, requires_grad, device,
        lambda fraction: 0.42 - 0.5 * xp.cos(2 * math.pi * fraction) + 0.08 * xp.cos(4 * math.pi * fraction),
    )


@public(method=False)
def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """1 - |2n / (N - 1) - 1|: the Bartlett (triangular) window."""
    return _window(
        "bartlett_window", window_length, periodic, dtype, requires_grad, device,
        lambda fraction: 1 - xp.abs(2 * fraction - 1),
    )


@public(method=False)
def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    """I0(beta sqrt(1 - (2n / (N - 1) - 1)²)) / I0(beta): the Kaiser window, I0 the modified Bessel
    function of order 0; a larger ``beta`` narrows it."""
    return _window(
        "kaiser_window", window_length, periodic, dtype, requires_grad, device,
        lambda fraction: xp.i0(beta * xp.sqrt(xp.clip(1 - (2 * fraction - 1) ** 2, 0, None))) / xp.i0(beta),
    )
