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
from chainrule.backend import xp
from chainrule.creation import ones
from chainrule.overrides import disabled_torch_function_impl
from chainrule.tensor import Tensor, init_leaf

__all__ = ["causal_upper_left", "causal_lower_right", "CausalVariant", "CausalBias"]


class CausalVariant(enum.IntEnum):
    """Where the causal triangle starts: the upper left corner, or the lower right one."""

    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias(Tensor):
    """A causal mask of ``seq_len_q`` queries by ``seq_len_kv`` keys, made as a (bool) tensor only
    when ``_materialize()`` is asked or the attention needs it (the lower-right variant of unequal
    lengths). A Tensor subclass, as PyTorch's, so that it passes where a mask tensor is expected
    (``isinstance(bias, torch.Tensor)``); its own values are not the mask: as PyTorch's (made by
    its legacy constructor from the three arguments), it is a (variant, seq_len_q, seq_len_kv)
    tensor of the default dtype, zeros here."""

    def __new__(cls, variant, seq_len_q, seq_len_kv):
        bias = super().__new__(cls)
        init_leaf(bias, xp.zeros((int(variant), seq_len_q, seq_len_kv), dtype=dtypes.get_default_dtype()))
        return bias

    def __init__(self, variant, seq_len_q, seq_len_kv):
        if not isinstance(variant, CausalVariant):
            raise AssertionError(f"variant must be a CausalVariant, got {type(variant).__name__}")
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

    @staticmethod
    def _dispatch(query, key, value, attn_mask, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
        """``scaled_dot_product_attention`` with the CausalBias ``attn_mask``: ``is_causal`` where the
        two variants agree, the mask built otherwise."""
        from chainrule.nn.functional import scaled_dot_product_attention

        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        same = attn_mask.seq_len_q == attn_mask.seq_len_kv or attn_mask.variant == CausalVariant.UPPER_LEFT
        return scaled_dot_product_attention(
            query, key, value, attn_mask=None if same else attn_mask._materialize(), dropout_p=dropout_p,
            is_causal=same, scale=scale, enable_gqa=enable_gqa,
        )

    # Not handed to __torch_function__, as chainrule's other own subclasses (Parameter): a subclass
    # that takes calls makes every Tensor method look at its arguments (overrides.py), and
    # scaled_dot_product_attention asks for this one itself.
    __torch_function__ = disabled_torch_function_impl

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
