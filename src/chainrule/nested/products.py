"""Products on nested tensors, one per component (each a plain, differentiable product), or one
on a jagged tensor's values where the ragged dim is not multiplied:

    nt @ w                                         # jagged nt (B, j, D), w (D, E) -> (B, j, E): values @ w
    F.linear(nt, w, b), nn.Linear(nt)              # nt (B, j, D), w (E, D) -> (B, j, E), either layout
    chainrule.bmm(a, b), a @ b                     # strided nested a_i (n_i, k_i) @ b_i (k_i, m_i)
    F.scaled_dot_product_attention(q, k, v)        # jagged (B, heads, j, D): attention within each component

A jagged product must keep one ragged dim: its ragged dim cannot be the one contracted, and two
jagged operands must be cut alike (PyTorch's rule).
"""
from chainrule.memory_layout import strided
from chainrule.nested.dispatch import implements
from chainrule.memory_layout import jagged
from chainrule.nested.tensor import NestedTensor
from chainrule.tensor import Tensor


@implements("matmul", "bmm", "__matmul__")
def matmul(func, args, kwargs):
    """``a @ b`` with ``a`` or both nested: component by component (a dense ``b``, which only a
    jagged ``a`` takes, is each one's)."""
    first, second = args
    if not isinstance(first, NestedTensor):
        raise RuntimeError(
            f"{func.__name__}(): a dense tensor times a nested one is not supported (got a dense one of shape {tuple(first.shape)} first)"
        )
    if first.layout is strided and not isinstance(second, NestedTensor):
        raise RuntimeError(
            f"{func.__name__}(): expected both operands nested, got a nested one and a dense one of shape {tuple(second.shape)} "
            f"(a strided nested tensor takes no dense operand; F.linear(nt, weight.T) multiplies each component)"
        )
    if func.__name__ == "bmm" and (first.dim() != 3 or second.dim() != 3):
        raise RuntimeError(f"bmm(): expected 3-d operands (batch, n, m), got {first.dim()}-d and {second.dim()}-d")
    # the ragged dim may be a's rows against a dense b; against a jagged b, a batch dim of both
    ragged_contracted = first.layout is jagged and first._ragged_idx == first.dim() - 1
    ragged_in_matrices = isinstance(second, NestedTensor) and second.layout is jagged and any(
        each._ragged_idx >= each.dim() - 2 for each in (first, second)
    )
    if ragged_contracted or ragged_in_matrices:
        raise RuntimeError(
            f"{func.__name__}(): not supported between inputs of shapes {tuple(first.shape)} and {tuple(second.shape)} "
            f"(a jagged product must keep the ragged dim outside the two multiplied ones)"
        )
    if isinstance(second, NestedTensor):
        _check_pairs(first, second, func.__name__)
        pieces = [left @ right for left, right in zip(first.components(), second.components())]
        return type(first).packed(pieces, like=first)
    if second.dim() <= 2:  # one product of all rows: values (..., D) @ b (D, E)
        return first.with_buffer(Tensor(first) @ second)
    return type(first).packed([left @ second for left in first.components()], like=first)


def _check_pairs(first, second, operation):
    """Two nested operands of a product: one layout, as many components, one ragged length each."""
    if first.layout is not second.layout or len(first) != len(second):
        raise RuntimeError(
            f"{operation}(): expected nested operands of one layout and as many components, got {len(first)} "
            f"({first.layout!r}) and {len(second)} ({second.layout!r})"
        )
    if first.layout is jagged and first.ragged_lengths() != second.ragged_lengths():
        raise RuntimeError(
            f"{operation}(): jagged operands whose ragged lengths differ: {first.ragged_lengths()} and {second.ragged_lengths()}"
        )


@implements("linear")
def linear(func, args, kwargs):
    """``F.linear(nt, weight, bias)``: each component's last dim through the layer."""
    nested, *rest = args
    if nested.layout is jagged:
        if not nested.keeps_rows(-1):
            raise RuntimeError(f"linear(): the last dim of a nested tensor of shape {tuple(nested.shape)} is ragged; transpose it first")
        return nested.with_buffer(func(Tensor(nested), *rest, **kwargs))  # all rows through the layer at once
    return type(nested).packed([func(piece, *rest, **kwargs) for piece in nested.components()], like=nested)


@implements("scaled_dot_product_attention")
def scaled_dot_product_attention(func, args, kwargs):
    """Attention of each query component on the key and value components of the same index:
    ``softmax(q_i k_iᵀ · scale) v_i``, q_i (heads, j_i, D); the result cut as the query."""
    query, key, value, *rest = args
    if kwargs.get("attn_mask") is not None or rest and rest[0] is not None:
        raise RuntimeError(
            "scaled_dot_product_attention(): attn_mask is not supported with nested inputs (their ragged lengths mask already)"
        )
    operands = (query, key, value)
    if not all(isinstance(each, NestedTensor) and each.layout is query.layout for each in operands):
        raise RuntimeError("scaled_dot_product_attention(): expected query, key and value all nested, of one layout")
    if query.dim() != 4 or any(len(each) != len(query) for each in operands):
        raise RuntimeError(
            f"scaled_dot_product_attention(): expected nested query, key and value of 4 dims (B, heads, j, D) and one B, got "
            f"{[tuple(each.shape) if each.layout is jagged else each.dim() for each in operands]}"
        )
    pieces = [func(*parts, *rest, **kwargs) for parts in zip(*(each.components() for each in operands))]
    return type(query).packed(pieces, like=query)
