"""``torch.masked``'s statistics: mean, var, std and median of the elements where ``mask`` is True.

These have no identity (the mean of nothing is undefined): a slice that keeps no element gives NaN.

    mean(x, dim, mask=m) = Σ_kept x / n                           n = the number of kept elements
    var (x, dim, mask=m) = Σ_kept (x - mean)² / max(n - correction, 0)
    std = √var                                                    correction: 1 (Bessel's) by default
    median(x, dim, mask=m) = the middle kept element (the lower of the two middle ones)

``unbiased=False`` is ``correction=0``. ``dtype`` is the result's, and for mean must be floating
point (an integer mean has no dtype to take: PyTorch's ValueError); var and std of integers are
float32. median reads one ``dim`` (the last by default).
"""
import chainrule
from chainrule import dtypes
from chainrule.masked.masks import canonical_dims, input_mask, masked_input
from chainrule.masked.reductions import sum


def kept_count(input, dim, keepdim, mask):
    """How many elements each slice of ``input`` along ``dim`` keeps (int64)."""
    if mask is None:
        return sum(chainrule.ones(input.shape, dtype=dtypes.int64), dim, keepdim=keepdim)
    return input_mask(input, mask).sum(dim=dim, keepdim=bool(keepdim))


def mean(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Σ of the kept elements / their number, along ``dim`` (NaN where none is kept)."""
    chosen = dtype if dtype is not None else input.dtype
    if not (chosen.is_floating_point or chosen.is_complex):
        raise ValueError(
            f"mean(): Could not infer output dtype. {'Optional' if dtype is not None else 'Input'} dtype must be either "
            f"a floating point or complex dtype. Got: {chosen}"
        )
    total = sum(input, dim, keepdim=keepdim, dtype=chosen, mask=mask)
    return total / kept_count(input, dim, keepdim, mask)


def variance(input, dim, unbiased, correction, keepdim, dtype, mask):
    """var's value: Σ_kept |x - mean|² / max(n - correction, 0), in ``dtype`` (floating point)."""
    if unbiased is not None and correction is not None:
        raise AssertionError("Only one of unbiased and correction may be given (unbiased=False is correction=0)")
    if correction is None:
        correction = 0.0 if unbiased is False else 1.0
    if dtype is None:
        dtype = input.dtype if input.dtype.is_floating_point or input.dtype.is_complex else dtypes.float32
    count = kept_count(input, dim, True, mask)
    deviation = input - sum(input, dim, keepdim=True, dtype=dtype, mask=mask) / count
    total = sum(deviation * deviation.conj(), dim, keepdim=keepdim, dtype=dtype, mask=mask)
    if not keepdim:
        count = count.reshape(total.shape)
    if correction != 0:
        count = (count.to(dtype.to_real()) - float(correction)).clamp(min=0)
    return (total / count).to(dtype=dtype)


def var(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    """The variance of the kept elements along ``dim`` (NaN where too few are kept)."""
    return variance(input, dim, unbiased, correction, keepdim, dtype, mask)


def std(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    """The standard deviation (√var) of the kept elements along ``dim``."""
    return chainrule.sqrt(variance(input, dim, unbiased, correction, keepdim, dtype, mask))


def median(input, dim=-1, *, keepdim=False, dtype=None, mask=None):
    """The median of the kept elements along ``dim`` (NaN where none is kept; an integer input,
    which has no NaN, must keep at least one element in every slice)."""
    dtype = dtype or input.dtype
    dim = canonical_dims(dim, input.ndim)[0]
    is_float = input.dtype.is_floating_point
    if not is_float:
        input = input.to(dtype=dtypes.float32)
    output = chainrule.nanmedian(masked_input("median", input, mask), dim, keepdim).values
    if is_float:
        return output
    if chainrule.isnan(output).any():
        raise ValueError("masked median expects no fully masked out rows if dtype is not floating point")
    return output.to(dtype=dtype)

