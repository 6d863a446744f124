"""MultiheadAttention: every position of a sequence looks at every position of another (or the same)
sequence and takes a weighted average of what it finds, in several heads at once.

    attention(Q, K, V) = softmax(Q Kᵀ / √d + mask) V

Q, K and V are learned projections of query, key and value; each of the ``num_heads`` heads works
on its own d = embed_dim / num_heads features, and the heads' outputs are concatenated and
projected once more (``out_proj``). The arithmetic is ``F.multi_head_attention_forward``, built
from linear, matmul and softmax, so its gradient is autograd's.
"""
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.creation import empty
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.linear import NonDynamicallyQuantizableLinear
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter


class MultiheadAttention(Module):
    """Multi-head attention, as ``torch.nn.MultiheadAttention``:
    query (L, N, E), key (S, N, kdim), value (S, N, vdim) -> (output (L, N, E), weights (N, L, S))
    ((N, L, E) ... with ``batch_first``; unbatched (L, E) inputs work too).

    Parameters, named as PyTorch's so checkpoints load: ``in_proj_weight`` (3E, E) holding the
    query, key and value projections stacked (or ``q_proj_weight`` (E, E), ``k_proj_weight``
    (E, kdim), ``v_proj_weight`` (E, vdim) when kdim or vdim differ from E), ``in_proj_bias`` (3E,),
    ``out_proj.weight`` (E, E) and ``out_proj.bias`` (E,), and with ``add_bias_kv`` ``bias_k`` and
    ``bias_v`` (1, 1, E), one more key and value appended to every sequence. ``add_zero_attn``
    appends a key and value of zeros. ``dropout`` drops attention weights in training.
    """

    def __init__(
        self,
        embed_dim,
        num_heads,
        dropout=0.0,
        bias=True,
        add_bias_kv=False,
        add_zero_attn=False,
        kdim=None,
        vdim=None,
        batch_first=False,
        device=None,
        dtype=None,
    ):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                f"num_heads={num_heads} instead"
            )
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), device=device, dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), device=device, dtype=dtype))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), device=device, dtype=dtype))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), device=device, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, device=device, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), device=device, dtype=dtype))
            self.bias_v = Parameter(empty((1, 1, embed_dim), device=device, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        """Xavier-uniform projections, zero biases, Xavier-normal bias_k and bias_v (as PyTorch)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        for bias in (self.bias_k, self.bias_v):
            if bias is not None:
                init.xavier_normal_(bias)

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
        is_causal=False,
    ):
        """(attention output, attention weights or None): see the class docstring for the shapes.

        ``key_padding_mask`` (N, S): True (or -inf) for keys to ignore, such as padding.
        ``attn_mask`` (L, S) or (N · num_heads, L, S): True (or -inf) where a query may not attend.
        ``need_weights=False`` returns None for the weights; ``average_attn_weights=False`` returns
        them per head, (N, num_heads, L, S). ``is_causal`` is a hint that attn_mask is causal.
        """
        # PyTorch's inference path computes the softmax itself, so that a query whose keys are all
        # masked gets NaN, where its path without weights gives zeros: take the weights' path there
        computes_weights = need_weights or self._takes_pytorchs_inference_path(query, key, value, key_padding_mask, attn_mask)
        batched = query.ndim == 3
        if self.batch_first and batched:
            query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        output, weights = F.multi_head_attention_forward(
            query,
            key,
            value,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            training=self.training,
            key_padding_mask=key_padding_mask,
            need_weights=computes_weights,
            attn_mask=attn_mask,
            use_separate_proj_weight=separate,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )
        if self.batch_first and batched:
            output = output.transpose(1, 0)
        return output, weights if need_weights else None

    def _takes_pytorchs_inference_path(self, query, key, value, key_padding_mask, attn_mask):
        """Whether PyTorch would run ``torch._native_multi_head_attention``: batched self-attention
        (query, key and value one tensor) with ``batch_first``, in evaluation with no gradient wanted,
        an even number of heads, the packed projections with biases, no bias_k/bias_v or zero
        attention, and masks (if any) boolean."""
        layer_qualifies = (
            not self.training
            and self.batch_first
            and self.num_heads % 2 == 0
            and self._qkv_same_embed_dim
            and self.in_proj_bias is not None
            and self.bias_k is None
            and not self.add_zero_attn
        )
        if not layer_qualifies or query.ndim != 3 or query is not key or key is not value:
            return False
        if query.dtype != self.in_proj_weight.dtype:
            return False
        if any(mask is not None and mask.dtype.is_floating_point for mask in (key_padding_mask, attn_mask)):
            return False
        return not (is_grad_enabled() and (query.requires_grad or any(parameter.requires_grad for parameter in self.parameters())))
