"""``torch.signal.windows``: SciPy's window functions, as PyTorch makes them (``hann(M, sym=...)``).

Each is a 1-D tensor of ``M`` weights that taper a frame of a signal, largest in the middle
(normalized to 1 there; even symmetric windows have no middle element, so no 1). ``sym=True``
(the default) gives the symmetric window for filter design; ``sym=False`` the periodic one for
spectral analysis (the window of M + 1 points, its last dropped). Each is computed as PyTorch's:
an evenly spaced ``k`` (``linspace``), then the formula, in float32 or float64:

    cosine       sin(π (n + ½) / M)
    exponential  exp(-|n - center| / tau)
    gaussian     exp(-(n - (M - 1)/2)² / (2 std²))
    kaiser       I0(β √(1 - (2n/(M - 1) - 1)²)) / I0(β)
    bartlett     1 - |2n / (M - 1) - 1|
    general_cosine Σ_i (-1)^i a_i cos(2π i n / (M - 1))   (hann, hamming, blackman, nuttall are such)
"""
import math

from chainrule import creation, dtypes, memory_layout
from chainrule.ops import elementwise
from chainrule.ops.elementwise import minimum
from chainrule.ops.special import i0

__all__ = [
    "bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine", "general_hamming", "hamming", "hann",
    "kaiser", "nuttall",
]


def _checked(name, M, dtype, layout):
    """The dtype the window is made in (the default float dtype unless given), after PyTorch's checks."""
    dtype = dtypes.get_default_dtype() if dtype is None else dtype
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not memory_layout.strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (dtypes.float32, dtypes.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _points(M, start, step, dtype, device, requires_grad):
    """k: M points from ``start`` by ``step`` (a linspace, as PyTorch's windows make it)."""
    return creation.linspace(start, start + (M - 1) * step, M, dtype=dtype, device=device, requires_grad=requires_grad)


def _trivial(M, dtype, device, requires_grad):
    """The window of 0 points (empty) or of 1 point ([1.]); None for a longer one."""
    if M > 1:
        return None
    return (creation.empty if M == 0 else creation.ones)((M,), dtype=dtype, device=device, requires_grad=requires_grad)


def _span(M, sym):
    """The denominator of the periodic (M) or symmetric (M - 1) window."""
    return M - 1 if sym else M


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=memory_layout.strided, device=None, requires_grad=False):
    """exp(-|n - center| / tau); ``center`` (periodic windows only) defaults to the middle."""
    dtype = _checked("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if M == 0:
        return _trivial(M, dtype, device, requires_grad)
    center = (M if not sym and M > 1 else M - 1) / 2.0 if center is None else center
    return elementwise.exp(-elementwise.abs(_points(M, -center / tau, 1 / tau, dtype, device, requires_grad)))


def cosine(M, *, sym=True, dtype=None, layout=memory_layout.strided, device=None, requires_grad=False):
    """sin(π (n + ½) / M) (the periodic window divides by M + 1)."""
    dtype = _checked("cosine", M, dtype, layout)
    if M == 0:
        return _trivial(M, dtype, device, requires_grad)
    step = math.pi / (M + 1 if not sym and M > 1 else M)
    return elementwise.sin(_points(M, 0.5 * step, step, dtype, device, requires_grad))


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=memory_layout.strided, device=None, requires_grad=False):
    """exp(-(n - middle)² / (2 std²))."""
    dtype = _checked("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    if M == 0:
        return _trivial(M, dtype, device, requires_grad)
    step = 1 / (std * math.sqrt(2))
    k = _points(M, -(M if not sym and M > 1 else M - 1) / 2.0 * step, step, dtype, device, requires_grad)
    return elementwise.exp(-(k**2))


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=memory_layout.strided, device=None, requires_grad=False):
    """I0(β √(1 - (2n/(M - 1) - 1)²)) / I0(β), computed as I0(√(β² - k²)) / I0(β) for k from -β."""
    dtype = _checked("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    beta = creation.tensor(beta, dtype=dtype)  # in the window's dtype, as PyTorch's (no nan at the ends)
    step = 2.0 * beta / _span(M, sym)
    end = minimum(beta, -beta + (M - 1) * step)
    k = creation.linspace(-beta, end, M, dtype=dtype, device=device, requires_grad=requires_grad)
    return i0(elementwise.sqrt(beta * beta - k**2)) / i0(beta)


def bartlett(M, *, sym=True, dtype=None, layout=memory_layout.strided, device=None, requires_grad=False):
    """1 - |2n / (M - 1) - 1|: a triangle."""
    dtype = _checked("bartlett", M, dtype, layout)
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    return 1 - elementwise.abs(_points(M, -1, 2 / _span(M, sym), dtype, device, requires_grad))


def general_cosine(M, *, a, sym=True, dtype=None, layout=memory_layout.strided, device=None, requires_grad=False):
    """Σ_i (-1)^i a_i cos(2π i n / (M - 1)): the sum of cosines with the coefficients ``a``."""
    dtype = _checked("general_cosine", M, dtype, layout)
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    if not hasattr(a, "__iter__"):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    k = _points(M, 0, 2 * math.pi / _span(M, sym), dtype, device, requires_grad)
    signed = creation.tensor([(-1) ** i * weight for i, weight in enumerate(a)], dtype=dtype, requires_grad=requires_grad)
    orders = creation.arange(signed.shape[0], dtype=dtype, requires_grad=requires_grad)
    return (signed.unsqueeze(-1) * elementwise.cos(orders.unsqueeze(-1) * k)).sum(0)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=memory_layout.strided, device=None, requires_grad=False):
    """alpha - (1 - alpha) cos(2π n / (M - 1))."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=memory_layout.strided, device=None, requires_grad=False):
    """0.54 - 0.46 cos(2π n / (M - 1))."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=memory_layout.strided, device=None, requires_grad=False):
    """½ - ½ cos(2π n / (M - 1))."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=memory_layout.strided, device=None, requires_grad=False):
    """0.42 - 0.5 cos(2π n / (M - 1)) + 0.08 cos(4π n / (M - 1))."""
    _checked("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=memory_layout.strided, device=None, requires_grad=False):
    """Nuttall's four-term window (a minimal side lobe level)."""
    return general_cosine(
        M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype, layout=layout, device=device,
        requires_grad=requires_grad,
    )
