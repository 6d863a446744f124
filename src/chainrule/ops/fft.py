"""Discrete Fourier transforms (``chainrule.fft``, as ``torch.fft``), with their gradients.

Three operations, as PyTorch's: complex to complex (``fft``, ``ifft``, ``fftn``...), real to the
one-sided complex half (``rfft``...) and that half back to real (``irfft``...); ``hfft`` and
``ihfft`` are the last two around a conjugate. Each transforms over ``axes`` after zero-padding or
trimming the input to the sizes asked (``n``/``s``), and scales by ``norm``: "backward" (the
default) leaves the forward transform unscaled and divides the inverse by n, "forward" the other
way round, "ortho" divides both by √n. NumPy's ``numpy.fft`` computes (in float32 for float32
input, as NumPy 2 does; PyTorch's results differ from it in the last bits).

Gradients (PyTorch's convention for complex numbers, FunctionsManual's fft_*_backward): the
transform in the other direction with the same scale (the adjoint), its result zero-padded or
trimmed back to the input's size. For rfft the gradient of the half is first zero-padded to the
full length (the other half was never an output), and the real part kept; for irfft it is the
one-sided forward transform of the gradient, doubled at the frequencies whose mirror image the
output also held (all but the zero frequency and, for an even length, the last).
"""
import operator

from chainrule import dtypes
from chainrule.backend import xp
from chainrule.ops.op import Op
from chainrule.tensor import Tensor

_NORMS = ("backward", "forward", "ortho")
# The norm that gives the transform in the other direction the same scale: the adjoint of an
# unscaled forward transform is the unscaled inverse one.
_OPPOSITE_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho", None: "forward"}


def _numpy_or_recorded(name, values, sizes, axes, norm):
    """``numpy.fft.<name>`` on an array (a plain backward); on a tensor (a backward recorded under
    ``create_graph``) chainrule's own transform, so that it is differentiated again. The transforms
    are not in ``ctx.xp``'s shared vocabulary, hence this one fork."""
    if isinstance(values, Tensor):
        return _RECORDED[name](values, s=sizes, dim=axes, norm=norm)
    return getattr(xp.fft, name)(values, s=sizes, axes=axes, norm=norm)


def _resized(values, shape, axes, functions):
    """``values`` trimmed or zero-padded at the end of each of ``axes`` to ``shape``'s sizes: the
    gradient of the resize a transform makes of its input before transforming it."""
    for axis in axes:
        have, want = values.shape[axis], shape[axis]
        if have > want:
            values = values[(slice(None),) * axis + (slice(0, want),)]
        elif have < want:
            padding = list(values.shape)
            padding[axis] = want - have
            values = functions.concatenate((values, functions.zeros(tuple(padding), dtype=values.dtype)), axis=axis)
    return values


class ComplexToComplex(Op):
    """``fftn`` (or ``ifftn`` with ``inverse``) of x over ``axes``, x resized to ``sizes``."""

    node_name = "FftC2CBackward0"
    formula = "Σ_k x_k e^(∓2πi jk/n) · scale"
    derivatives = ("the transform in the other direction of grad, same scale", None, None, None, None)

    @staticmethod
    def forward(ctx, x, sizes, axes, norm, inverse):
        ctx.shape, ctx.axes, ctx.norm, ctx.inverse = x.shape, axes, norm, inverse
        return (xp.fft.ifftn if inverse else xp.fft.fftn)(x, s=sizes, axes=axes, norm=norm)

    @staticmethod
    def backward(ctx, grad_output):
        name = "fftn" if ctx.inverse else "ifftn"
        grad = _numpy_or_recorded(name, grad_output, None, ctx.axes, _OPPOSITE_NORM[ctx.norm])
        return _resized(grad, ctx.shape, ctx.axes, ctx.xp), None, None, None, None


class RealToFull(ComplexToComplex):
    """``fft`` of a real x: both halves of the spectrum, as PyTorch's two-sided r2c (the gradient
    reaching x is the real part of the complex one, which the engine takes)."""

    node_name = "FftR2CBackward0"


class RealToComplex(Op):
    """``rfftn`` of a real x over ``axes``: the frequencies 0..n//2 along the last of them."""

    node_name = "FftR2CBackward0"
    formula = "the one-sided half of fftn(x)"
    derivatives = ("Re of the inverse-direction transform of grad zero-padded to the full length", None, None, None)

    @staticmethod
    def forward(ctx, x, sizes, axes, norm):
        result = xp.fft.rfftn(x, s=sizes, axes=axes, norm=norm)
        ctx.shape, ctx.axes, ctx.norm = x.shape, axes, norm
        ctx.full_length = sizes[-1] if sizes is not None else x.shape[axes[-1]]
        return result

    @staticmethod
    def backward(ctx, grad_output):
        last = ctx.axes[-1]
        missing = ctx.full_length - grad_output.shape[last]
        if missing > 0:
            grad_output = _resized(grad_output, _with_size(grad_output.shape, last, ctx.full_length), (last,), ctx.xp)
        grad = _numpy_or_recorded("ifftn", grad_output, None, ctx.axes, _OPPOSITE_NORM[ctx.norm]).real
        return _resized(grad, ctx.shape, ctx.axes, ctx.xp), None, None, None


class ComplexToReal(Op):
    """``irfftn`` of the one-sided half x over ``axes``: a real result of ``sizes`` (the last one
    2 · (m - 1) by default, for m frequencies)."""

    node_name = "FftC2RBackward0"
    formula = "the real signal whose one-sided spectrum is x"
    derivatives = ("rfftn of grad in the other direction, doubled where the mirrored half counted", None, None, None)

    @staticmethod
    def forward(ctx, x, sizes, axes, norm):
        ctx.shape, ctx.axes, ctx.norm = x.shape, axes, norm
        return xp.fft.irfftn(x, s=sizes, axes=axes, norm=norm)

    @staticmethod
    def backward(ctx, grad_output):
        last = ctx.axes[-1]
        grad = _numpy_or_recorded("rfftn", grad_output, None, ctx.axes, _OPPOSITE_NORM[ctx.norm])
        doubled = grad_output.shape[last] - grad.shape[last]  # the frequencies the output held twice
        if doubled > 0:
            factor = xp.ones(grad.shape[last], dtype=dtypes.real_dtype(grad.dtype))
            factor[1 : 1 + doubled] = 2
            grad = grad * factor.reshape((-1,) + (1,) * (grad.ndim - 1 - last % grad.ndim))
        return _resized(grad, ctx.shape, ctx.axes, ctx.xp), None, None, None


def _with_size(shape, axis, size):
    shape = list(shape)
    shape[axis] = size
    return tuple(shape)


# ----------------------------------------------------------------------------- the arguments, checked as PyTorch's
def _check_norm(norm):
    if norm is not None and norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}" (use "backward", "forward" or "ortho")')
    return norm


def _wrapped_dim(dim, ndim):
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not low <= dim <= high:
        raise IndexError(f"Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})")
    return dim % max(ndim, 1)


def _dims_and_sizes(input, s, dim, operation, default_last=None):
    """The axes (non-negative, unique) and sizes (None where the input's own) of an n-dimensional
    transform, from PyTorch's ``s`` and ``dim``: every dimension when both are None, the last
    len(s) when only ``s`` is given; -1 in ``s`` keeps that dimension's size."""
    ndim = input._array.ndim
    s = (s,) if isinstance(s, int) else s  # (one size, as PyTorch takes it)
    if s is not None and dim is not None and len(s) != len(dim if not isinstance(dim, int) else (dim,)):
        raise RuntimeError("When given, dim and shape arguments must have the same length")
    if dim is None:
        axes = tuple(range(ndim - len(s), ndim)) if s is not None else tuple(range(ndim))
        if s is not None and len(s) > ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {ndim} dimensions.")
    else:
        axes = tuple(_wrapped_dim(operator.index(each), ndim) for each in ((dim,) if isinstance(dim, int) else dim))
    if len(set(axes)) != len(axes):
        raise RuntimeError("FFT dims must be unique")
    sizes = []
    for position, axis in enumerate(axes):
        size = -1 if s is None else s[position]
        if size == -1:
            size = input._array.shape[axis] if default_last is None or position != len(axes) - 1 else default_last(input._array.shape[axis])
        if size <= 0:
            raise RuntimeError(f"Invalid number of data points ({size}) specified")
        sizes.append(int(size))
    return axes, tuple(sizes)


def _as_complex(input):
    """Input made complex for a complex-to-complex transform (integers through the default float)."""
    dtype = input._array.dtype
    if dtype.kind == "c":
        return input
    _refuse_half(dtype)
    return input.to(dtypes.of(dtypes.complex_dtype(dtype if dtype.kind == "f" else dtypes.get_default_dtype())))


def _as_real(input, operation):
    """Real input of a real-to-complex transform (integers made the default float)."""
    dtype = input._array.dtype
    if dtype.kind == "c":
        raise RuntimeError(f"{operation} expects a real input tensor, but got {dtypes.scalar_type_name(dtype)}")
    _refuse_half(dtype)
    return input if dtype.kind == "f" else input.to(dtypes.get_default_dtype())


def _refuse_half(dtype):
    if dtype == xp.float16:
        raise RuntimeError("Unsupported dtype Half (PyTorch transforms float16 on CUDA only; convert with x.float())")


def _expect_tensor(input, operation):
    if not isinstance(input, Tensor):
        raise TypeError(f"fft_{operation}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def complex_to_complex(input, s, dim, norm, inverse, operation):
    _expect_tensor(input, operation)
    axes, sizes = _dims_and_sizes(input, s, dim, operation)
    return ComplexToComplex.apply(_as_complex(input), sizes, axes, _check_norm(norm), inverse)


def real_to_full(input, s, dim, norm, operation):
    """The 1-D ``fft`` of real input as PyTorch computes it: a two-sided real-to-complex transform
    (its node FftR2CBackward0)."""
    _expect_tensor(input, operation)
    input = _as_real(input, operation)
    axes, sizes = _dims_and_sizes(input, s, dim, operation)
    return RealToFull.apply(input, sizes, axes, _check_norm(norm), False)


def real_to_complex(input, s, dim, norm, operation):
    _expect_tensor(input, operation)
    input = _as_real(input, operation)
    axes, sizes = _dims_and_sizes(input, s, dim, operation)
    if not axes:
        raise RuntimeError(f"{operation} must transform at least one axis")
    return RealToComplex.apply(input, sizes, axes, _check_norm(norm))


def complex_to_real(input, s, dim, norm, operation):
    _expect_tensor(input, operation)
    axes, sizes = _dims_and_sizes(input, s, dim, operation, default_last=lambda half: 2 * (half - 1))
    if not axes:
        raise RuntimeError(f"{operation} must transform at least one axis")
    return ComplexToReal.apply(_as_complex(input), sizes, axes, _check_norm(norm))


def opposite_norm(norm):
    """The norm that scales the transform in the other direction as ``norm`` scales this one
    (hfft is irfft of the conjugate, scaled as a forward transform)."""
    return _OPPOSITE_NORM[_check_norm(norm)]


def fftn(input, s=None, dim=None, norm=None):
    return complex_to_complex(input, s, dim, norm, False, "fftn")


def ifftn(input, s=None, dim=None, norm=None):
    return complex_to_complex(input, s, dim, norm, True, "ifftn")


def rfftn(input, s=None, dim=None, norm=None):
    return real_to_complex(input, s, dim, norm, "rfftn")


_RECORDED = {"fftn": fftn, "ifftn": ifftn, "rfftn": rfftn}
