"""Pooling and averaging of quantized tensors (per tensor), as PyTorch's QuantizedCPU kernels.

- ``max_pool1d/2d/3d``: the largest integer of each window; same scale and zero point (the
  integers are ordered as the real values they stand for).
- ``avg_pool1d/2d/3d``: each window's sum of ``q - zero_point`` over the input positions it covers,
  times the float32 ``1 / divisor`` (the window size, with padding if ``count_include_pad``, or
  ``divisor_override``), plus the zero point, rounded half to even in float32 and clamped; same
  scale and zero point.
- ``adaptive_avg_pool1d/2d/3d``: each adaptive window's sum of the integers (zero point included)
  times ``1 / kD / kH / kW`` divided out in float32, rounded half to even; same qparams.
- ``mean``: the mean of the real values quantized again with the input's scale and zero point.
"""
from chainrule.backend import xp
from chainrule.ops import pool
from chainrule.quantized.array import unsupported
from chainrule.quantized.kernels import kernel, per_tensor, quantized_like, through_integers
from chainrule.tensor import tensor_from_array


def _max_pool(name):
    dense = getattr(pool, name)

    def max_pooled(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        """The largest integer of each window (``F.{name}`` on the integers), same scale and zero point."""
        if return_indices:
            raise unsupported(f"{name}_with_indices")
        return through_integers(dense, input, kernel_size, stride, padding, dilation, ceil_mode)

    max_pooled.__name__ = name
    max_pooled.__doc__ = max_pooled.__doc__.format(name=name)
    return max_pooled


for _name in ("max_pool1d", "max_pool2d", "max_pool3d"):
    kernel(_name)(_max_pool(_name))


def _avg_pool(name):
    dense = getattr(pool, name)

    def averaged(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
        """Each window's sum of ``q - zero_point`` times float32 ``1 / divisor``, plus the zero point,
        rounded half to even in float32 (PyTorch's ``nearbyint``) and clamped; same qparams."""
        array = per_tensor(input, name)
        overridden = () if name == "avg_pool1d" else (divisor_override,)
        window = (kernel_size, stride, padding, ceil_mode, count_include_pad)
        shifted = tensor_from_array(array.integers.astype(xp.float64) - array.zero_point)
        sums = dense(shifted, *window[:4], True, *(1,) * len(overridden))._array
        if divisor_override is not None:
            divisors = divisor_override
        else:  # each window's divisor, as the dense pooling of ones counts it (padding or not)
            ones = tensor_from_array(xp.ones(array.shape))
            covered = dense(ones, *window[:4], True, *(1,) * len(overridden))._array
            divisors = xp.rint(covered / dense(ones, *window, *(None,) * len(overridden))._array)
        multiplier = (1.0 / xp.asarray(divisors, dtype=xp.float64)).astype(xp.float32)
        return _requantized_average(array, sums.astype(xp.float32) * multiplier + xp.float32(array.zero_point))

    averaged.__name__ = name
    return averaged


def _requantized_average(array, values):
    """``values`` (float32) rounded half to even and clamped to the dtype: the input's qparams."""
    limits = xp.iinfo(array.integers.dtype)
    return quantized_like(array, xp.clip(xp.rint(values), limits.min, limits.max))


for _name in ("avg_pool1d", "avg_pool2d", "avg_pool3d"):
    kernel(_name)(_avg_pool(_name))


def _adaptive_avg_pool(name, dims):
    def adaptively_averaged(input, output_size):
        """Each adaptive window's sum of the integers times ``((1 / kD) / kH) / kW`` in float32,
        rounded half to even; same scale and zero point."""
        array = per_tensor(input, name)
        sizes = pool._adaptive_output_size(input, output_size, name, dims)
        sums = array.integers.astype(xp.float64)
        reciprocal = xp.float32(1.0)
        widths = []
        for axis, out in zip(range(-dims, 0), sizes):
            inside = _adaptive_windows(sums.shape[axis], out)
            sums = xp.moveaxis(xp.moveaxis(sums, axis, -1) @ inside.T, -1, axis)
            widths.append(inside.sum(axis=1).reshape((-1,) + (1,) * (-axis - 1)))
        for width in ([xp.ones(1)] if dims < 3 else []) + widths:
            reciprocal = (reciprocal / width.astype(xp.float32)).astype(xp.float32)
        return quantized_like(array, xp.rint(sums.astype(xp.float32) * reciprocal))

    adaptively_averaged.__name__ = name
    return adaptively_averaged


def _adaptive_windows(size, out):
    """(out, size) 0/1: whether input position j lies in adaptive window i, which spans
    ``floor(i·size/out)`` to ``ceil((i+1)·size/out)``, the quotients taken in float32 as PyTorch's."""
    index = xp.arange(out)
    start = xp.floor(xp.float32(1) * (index * size).astype(xp.float32) / xp.float32(out)).astype(xp.int64)
    end = xp.ceil(((index + 1) * size).astype(xp.float32) / xp.float32(out)).astype(xp.int64)
    positions = xp.arange(size)
    return ((positions >= start[:, None]) & (positions < end[:, None])).astype(xp.float64)


for _name, _dims in (("adaptive_avg_pool1d", 1), ("adaptive_avg_pool2d", 2), ("adaptive_avg_pool3d", 3)):
    kernel(_name)(_adaptive_avg_pool(_name, _dims))


@kernel("mean")
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the integers, rounded (half to even), with the same scale and zero point: the
    mean of the real values on the same grid, as PyTorch's quantized mean."""
    if dtype is not None:
        raise unsupported("mean with a dtype")
    array = per_tensor(input, "mean")
    integers = tensor_from_array(array.integers.astype(xp.float64))
    means = (integers.mean() if dim is None else integers.mean(dim, keepdim))._array
    return quantized_like(array, xp.rint(means))
