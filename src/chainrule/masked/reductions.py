"""``torch.masked``'s reductions: sum, prod, amax, amin, argmax, argmin, logsumexp and norm over
the elements where ``mask`` is True.

Each is the plain reduction of the input with its masked-out elements replaced by the
operation's identity (``masks.py``), so a slice with nothing kept gives the identity itself:

    masked.sum   (x (2, 3), dim=1, mask=m (2, 3))  -> (2,)   Σ_j x[i, j] over m[i, j]; 0 where none
    masked.prod                                             1 where none
    masked.amax / amin                                      -inf / +inf (the integer type's min / max)
    masked.logsumexp                                        -inf
    masked.norm  (x, ord, dim)                              0 (+inf for ord=-inf)
    masked.argmax / argmin (x, dim)                         the position of the kept max / min

``dim`` is an int, a tuple of ints, or None (all); ``keepdim`` keeps the reduced dimensions with
size 1; ``mask`` broadcasts to the input and None keeps every element. ``dtype`` is the result's
(sum and prod promote small integers to int64, as PyTorch's do). argmax and argmin return their
positions in ``dtype``, the input's by default, as PyTorch's masked ones do.
"""
import chainrule
from chainrule import dtypes
from chainrule.masked.masks import canonical_dims, masked_input

#: The dtypes that sum and prod promote to int64 when no dtype is given, as ``torch.sum``.
PROMOTED_TO_INT64 = {dtypes.uint8, dtypes.bool_, dtypes.int8, dtypes.int16, dtypes.int32}


def accumulating_dtype(input, dtype):
    """The dtype of a masked sum or product: ``dtype``, or the input's, small integers as int64."""
    if dtype is not None:
        return dtype
    return dtypes.int64 if input.dtype in PROMOTED_TO_INT64 else input.dtype


def sum(input, dim=None, *, keepdim=False, dtype=None, mask=None):  # noqa: A001 (PyTorch's name)
    """Σ of the kept elements of ``input`` over ``dim`` (0 where a slice keeps none)."""
    dtype = accumulating_dtype(input, dtype)
    dims = canonical_dims(dim, input.ndim)
    return chainrule.sum(masked_input("sum", input, mask), dims, bool(keepdim), dtype=dtype)


def prod(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Π of the kept elements of ``input`` over ``dim`` (1 where a slice keeps none), one
    dimension at a time (the last first)."""
    result = masked_input("prod", input, mask).to(dtype=accumulating_dtype(input, dtype))
    for each in reversed(canonical_dims(dim, input.ndim)):
        result = result.prod(dim=each, keepdim=bool(keepdim))
    return result


def amax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """The largest kept element of ``input`` over ``dim`` (the lowest value where none is kept)."""
    dims = canonical_dims(dim, input.ndim)
    return chainrule.amax(masked_input("amax", input, mask), dims, bool(keepdim)).to(dtype=dtype or input.dtype)


def amin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """The smallest kept element of ``input`` over ``dim`` (the highest value where none is kept)."""
    dims = canonical_dims(dim, input.ndim)
    return chainrule.amin(masked_input("amin", input, mask), dims, bool(keepdim)).to(dtype=dtype or input.dtype)


def argmax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """The position of the largest kept element along ``dim`` (of the flattened input for None),
    in ``dtype`` (the input's by default)."""
    positions = chainrule.argmax(masked_input("argmax", input, mask), dim, bool(keepdim))
    return positions.to(dtype=dtype or input.dtype)


def argmin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """The position of the smallest kept element along ``dim``, in ``dtype`` (the input's by default)."""
    positions = chainrule.argmin(masked_input("argmin", input, mask), dim, bool(keepdim))
    return positions.to(dtype=dtype or input.dtype)


def logsumexp(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """ln Σ e^x over the kept elements along ``dim`` (-inf where none is kept)."""
    dims = canonical_dims(dim, input.ndim)
    return chainrule.logsumexp(masked_input("logsumexp", input, mask), dims, keepdim=keepdim).to(dtype=dtype or input.dtype)


def norm(input, ord=2.0, dim=None, *, keepdim=False, dtype=None, mask=None):
    """The vector ``ord``-norm (``linalg.vector_norm``) of the kept elements along ``dim``."""
    dims = canonical_dims(dim, input.ndim)
    kept = masked_input("norm", input, mask, ord)
    return chainrule.linalg.vector_norm(kept, ord, dims, bool(keepdim), dtype=dtype or input.dtype)
