"""``torch.masked``'s operations that keep the input's shape: softmax, log_softmax, softmin and
normalize along one dimension, cumsum and cumprod, and the elementwise logaddexp, each counting
only the elements where ``mask`` is True.

Each element of a slice along ``dim`` is normalized by the kept elements of that slice:

    softmax(x, dim, mask=m)[i]     = e^x[i] / Σ_kept e^x   (0 where masked out: e^-inf)
    log_softmax                    = ln softmax             (-inf where masked out)
    softmin                        = softmax(-x)
    normalize(x, ord, dim, mask=m) = x[i] / max(‖x_kept‖_ord, eps)   (0 where masked out)
    cumsum / cumprod               = running Σ / Π of the kept elements so far

A slice that keeps nothing gives NaN for softmax, log_softmax and softmin (e^-inf / 0), as PyTorch's.
``dtype`` is the result's (for softmax and its kin, the dtype computed in).
"""
import chainrule
from chainrule.masked.masks import canonical_dims, masked_input
from chainrule.masked.reductions import norm


def softmax(input, dim, *, dtype=None, mask=None):
    """e^x / Σ e^x along ``dim`` over the kept elements; masked-out elements count as -inf."""
    dim = canonical_dims(dim, input.ndim)[0]
    return chainrule.nn.functional.softmax(masked_input("amax", input, mask), dim, dtype=dtype or input.dtype)


def log_softmax(input, dim, *, dtype=None, mask=None):
    """x - ln Σ e^x along ``dim`` over the kept elements; masked-out elements count as -inf."""
    dim = canonical_dims(dim, input.ndim)[0]
    return chainrule.nn.functional.log_softmax(masked_input("amax", input, mask), dim, dtype=dtype or input.dtype)


def softmin(input, dim, *, dtype=None, mask=None):
    """e^-x / Σ e^-x along ``dim`` over the kept elements; masked-out elements count as +inf."""
    dim = canonical_dims(dim, input.ndim)[0]
    return chainrule.nn.functional.softmin(masked_input("amin", input, mask), dim, dtype=dtype or input.dtype)


def normalize(input, ord, dim, *, eps=1e-12, dtype=None, mask=None):
    """The kept elements divided by their ``ord``-norm along ``dim`` (at least ``eps``); 0 where masked out."""
    length = norm(input, ord, dim, keepdim=True, dtype=dtype or input.dtype, mask=mask)
    return masked_input("sum", input, mask) / chainrule.maximum(length, length.new_full([], eps))


def cumsum(input, dim, *, dtype=None, mask=None):
    """The running sum of the kept elements along ``dim`` (a masked-out element adds 0)."""
    dim = canonical_dims(dim, input.ndim)[0]
    dtype = dtype or input.dtype
    return chainrule.cumsum(masked_input("sum", input, mask), dim, dtype=dtype)


def cumprod(input, dim, *, dtype=None, mask=None):
    """The running product of the kept elements along ``dim`` (a masked-out element multiplies by 1)."""
    dim = canonical_dims(dim, input.ndim)[0]
    dtype = dtype or input.dtype
    return chainrule.cumprod(masked_input("prod", input, mask), dim, dtype=dtype)


def logaddexp(input, other, *, dtype=None, input_mask=None, other_mask=None):
    """ln(e^input + e^other) elementwise, a masked-out element of either counting as -inf."""
    both = chainrule.logaddexp(masked_input("logaddexp", input, input_mask), masked_input("logaddexp", other, other_mask))
    return both.to(dtype=dtype or input.dtype)
