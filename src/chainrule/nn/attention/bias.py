"""``chainrule.nn.attention.bias``, as ``torch.nn.attention.bias``: causal masks that
``scaled_dot_product_attention`` takes as its ``attn_mask`` without building them.

A causal mask lets query i attend to keys 0..i. With as many queries as keys both variants are the
lower triangle; with fewer queries (L < S: decoding with a cache of earlier keys) they differ in
which corner the triangle starts from:

- ``causal_upper_left(L, S)``: query i sees keys 0..i (``is_causal=True``'s mask);
- ``causal_lower_right(L, S)``: query i sees keys 0..i + (S - L), the last query every key: the
  queries are the last L positions of the sequence the keys cover.

    out = F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(q.size(-2), k.size(-2)))
"""
import enum

from chainrule import dtypes
from chainrule.creation import ones

__all__ = ["causal_upper_left", "causal_lower_right", "CausalVariant", "CausalBias"]


class CausalVariant(enum.IntEnum):
    """Where the causal triangle starts: the upper left corner, or the lower right one."""

    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias:
    """A causal mask of ``seq_len_q`` queries by ``seq_len_kv`` keys, made as a (bool) tensor only
    when ``_materialize()`` is asked or the attention needs it (the lower-right variant of unequal
    lengths)."""

    def __init__(self, variant, seq_len_q, seq_len_kv):
        if not isinstance(variant, CausalVariant):
            raise AssertionError(f"variant must be a CausalVariant, got {variant!r}")
        self.variant, self.seq_len_q, self.seq_len_kv = variant, seq_len_q, seq_len_kv
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            import warnings

            warnings.warn(
                "Lower right causal bias will produce NaNs in the output when seq_len_q > seq_len_kv!",
                stacklevel=2,
            )

    def _materialize(self, device=None):
        """The mask as a (seq_len_q, seq_len_kv) bool tensor: True where the query may attend."""
        offset = 0 if self.variant == CausalVariant.UPPER_LEFT else self.seq_len_kv - self.seq_len_q
        return ones(self.seq_len_q, self.seq_len_kv, dtype=dtypes.bool_).tril(offset)

    def _dispatch(self, query, key, value, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
        """``scaled_dot_product_attention`` with this mask: ``is_causal`` where the two variants agree."""
        from chainrule.nn.functional import scaled_dot_product_attention

        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        same = self.seq_len_q == self.seq_len_kv or self.variant == CausalVariant.UPPER_LEFT
        return scaled_dot_product_attention(
            query, key, value, attn_mask=None if same else self._materialize(), dropout_p=dropout_p,
            is_causal=same, scale=scale, enable_gqa=enable_gqa,
        )

    def __repr__(self):
        return repr(self._materialize())


def causal_upper_left(*size):
    """The causal mask of ``size`` = (seq_len_q, seq_len_kv) whose triangle starts at the upper left."""
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    return CausalBias(CausalVariant.UPPER_LEFT, *size)


def causal_lower_right(*size):
    """The causal mask of ``size`` = (seq_len_q, seq_len_kv) whose triangle ends at the lower right."""
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    return CausalBias(CausalVariant.LOWER_RIGHT, *size)
