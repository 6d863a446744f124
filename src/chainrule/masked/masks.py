"""What every masked operation does first: read its ``dim`` and ``mask`` arguments and put each
masked-out element out of the way.

A masked reduction over the elements where ``mask`` is True is the plain reduction of the input
with each masked-out element replaced by the operation's *identity*, the value that changes
nothing (``x + 0 = x``, ``x · 1 = x``, ``max(x, -inf) = x``):

    masked.sum(x, mask=m) = sum(where(m, x, 0))       masked.amax(x, mask=m) = amax(where(m, x, -inf))

``where`` sends the gradient to the kept elements and 0 to the replaced ones, so every masked
operation is differentiable (twice, and more) by composing chainrule's own operations.
"""
import math

import chainrule
from chainrule import dtypes
from chainrule.masked.maskedtensor import data_of, is_masked_tensor
from chainrule.memory_layout import strided


def canonical_dims(dim, ndim):
    """``dim`` (an int, a tuple of ints, or None / ``()`` for all dimensions) as a sorted tuple of
    non-negative dimensions of a tensor with ``ndim`` dimensions (a 0-d tensor takes 0 and -1)."""
    if dim is None or dim == ():
        return tuple(range(ndim))
    ndim = max(ndim, 1)
    dims = []
    for each in (dim,) if isinstance(dim, int) else dim:
        if each in dims:
            raise RuntimeError(f"dim={each} appears multiple times in the list of dims")
        if not -ndim <= each < ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {each})")
        dims.append(each % ndim)
    return tuple(sorted(dims))


def input_mask(input, mask):
    """``mask`` as a boolean tensor of ``input``'s shape (broadcast; a mask of more dimensions than
    the input is refused, as PyTorch refuses it)."""
    if mask.shape != input.shape:
        if mask.ndim > input.ndim:
            raise IndexError("_input_mask expected broadcastable mask (got mask dimensionality higher than of the input)")
        mask = chainrule.broadcast_to(mask, input.shape)
    return mask.to(dtype=dtypes.bool_)


def reduction_identity(operation, input, ord=2.0):
    """The value a masked-out element of ``input`` takes for ``operation`` (one of PyTorch's masked
    operation names), as a 0-d tensor of the input's dtype: 0 for sums and norms, 1 for products,
    the lowest value for maxima (-inf, or the integer type's minimum), the highest for minima,
    NaN for the median (which ``nanmedian`` skips); +inf for the ``ord=-inf`` norm, a minimum."""
    dtype = input.dtype
    if operation in ("sum", "cumsum") or (operation == "norm" and ord != -math.inf):
        value = 0
    elif operation in ("prod", "cumprod"):
        value = 1
    elif operation in ("amax", "argmax", "logaddexp", "logsumexp"):
        value = -math.inf if dtype.is_floating_point or dtype.is_complex else chainrule.iinfo(dtype).min
    elif operation in ("amin", "argmin") or operation == "norm":
        value = math.inf if dtype.is_floating_point else chainrule.iinfo(dtype).max
    elif operation == "median":
        return chainrule.tensor(math.nan, dtype=dtype if dtype.is_floating_point else dtypes.float32)
    else:
        raise NotImplementedError(f"identity of {operation} on {dtype} input")
    return chainrule.tensor(value, dtype=dtype)


def masked_input(operation, input, mask, ord=2.0):
    """``input`` with each element where ``mask`` is False replaced by ``operation``'s identity
    (``input`` itself where there is no mask); a differentiable ``where``. A MaskedTensor input
    brings its own mask (``mask`` is then not read), as in PyTorch."""
    if is_masked_tensor(input):
        input, mask = data_of(input), input.get_mask()
    if input.layout != strided:
        raise ValueError(f"masked {operation} expects a strided tensor in chainrule (got {input.layout} tensor): pass input.to_dense()")
    if mask is None:
        return input
    return chainrule.where(input_mask(input, mask), input, reduction_identity(operation, input, ord))
