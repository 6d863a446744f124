"""The private helpers of PyTorch's ``nn.functional`` that library code imports by name.

Attention layers written after PyTorch's ``MultiheadAttention`` (``from torch.nn.functional import
_in_projection_packed, _canonical_mask, _none_or_dtype``) and normalization layers written after
its batch norm (``_verify_batch_size``) call these; they compute what PyTorch's do. (``_canonical_mask``
is nn.functional's own: multi-head attention and the transformer layers use it.)
"""
import math

from chainrule.ops.activation import implicit_softmax_dim
from chainrule.ops.matmul import linear
from chainrule.tensor import Tensor


def _in_projection_packed(q, k, v, w, b=None):
    """[q W_qᵀ + b_q, k W_kᵀ + b_k, v W_vᵀ + b_v] from the packed weight ``w`` (3E, E) = [W_q; W_k; W_v]
    and bias ``b`` (3E,). Self-attention (q, k, v one tensor) projects once and splits the (…, 3E)
    result; encoder-decoder attention (k and v one tensor) projects k once for both."""
    size = q.shape[-1]
    if k is v and q is k:
        return list(_split_projection(linear(q, w, b), 3, size))
    if k is v:
        w_q, w_kv = w.split([size, 2 * size])
        b_q, b_kv = (None, None) if b is None else b.split([size, 2 * size])
        return [linear(q, w_q, b_q), *_split_projection(linear(k, w_kv, b_kv), 2, size)]
    biases = (None, None, None) if b is None else b.chunk(3)
    return [linear(x, weight, bias) for x, weight, bias in zip((q, k, v), w.chunk(3), biases)]


def _split_projection(projection, parts, size):
    """(…, parts · size) -> ``parts`` contiguous tensors (…, size), in order."""
    return projection.unflatten(-1, (parts, size)).movedim(-2, 0).contiguous().unbind(0)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    """(q W_qᵀ + b_q, k W_kᵀ + b_k, v W_vᵀ + b_v) with separate weights: W_q (E_q, E_q),
    W_k (E_q, E_k), W_v (E_q, E_v) and biases (E_q,), AssertionError (as PyTorch) for other shapes."""
    size = q.shape[-1]
    names = ("query", "key", "value")
    for name, weight, expected in zip(names, (w_q, w_k, w_v), ((size, size), (size, k.shape[-1]), (size, v.shape[-1]))):
        if tuple(weight.shape) != expected:
            raise AssertionError(f"expecting {name} weights shape of {expected}, but got {weight.shape}")
    for name, bias in zip(names, (b_q, b_k, b_v)):
        if bias is not None and tuple(bias.shape) != (size,):
            raise AssertionError(f"expecting {name} bias shape of {(size,)}, but got {bias.shape}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _none_or_dtype(input):
    """``input.dtype``, or None for None."""
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _get_softmax_dim(name, ndim, stacklevel):
    """The dim softmax takes when called without one (0 for 0-, 1- and 3-d inputs, else 1), with
    PyTorch's deprecation warning."""
    return implicit_softmax_dim(name, ndim)


def _verify_batch_size(size):
    """ValueError unless batch norm in training has more than one value per channel (N · spatial > 1)."""
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def _verify_spatial_size(size):
    """ValueError unless instance norm in training has more than one position per channel."""
    if math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size}")


def _check_key_padding_mask(key_padding_mask, src_len, bsz):
    """AssertionError unless ``key_padding_mask`` is (bsz, src_len) in its first two dims."""
    for position, expected in enumerate((bsz, src_len)):
        if key_padding_mask.shape[position] != expected:
            raise AssertionError(f"Expected key_padded_mask.shape[{position}] to be {expected}, but got {key_padding_mask.shape[position]}")
