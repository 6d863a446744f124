"""The Transformer (Vaswani et al., 2017) as ``torch.nn``: encoder and decoder layers, their stacks,
and the whole encoder-decoder model.

An encoder layer is self-attention then a two-layer feed-forward network, each wrapped in a
residual connection and layer normalization:

    post-norm (default)   x = norm1(x + self_attention(x));   x = norm2(x + feed_forward(x))
    norm_first=True       x = x + self_attention(norm1(x));   x = x + feed_forward(norm2(x))

A decoder layer adds attention to the encoder's output (``memory``) between the two. Everything is
MultiheadAttention, Linear, LayerNorm and Dropout, so gradients come from autograd, and the
submodules are named as PyTorch's (``layers.0.self_attn.in_proj_weight``, ``layers.0.linear1.weight``,
``norm.weight``, ...), so a PyTorch checkpoint loads.
"""
import copy
import warnings

from chainrule.autograd import function as function_module
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.creation import full
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.activation import GELU, ReLU
from chainrule.nn.multihead_attention import MultiheadAttention
from chainrule.nn.container import ModuleList
from chainrule.nn.dropout import Dropout
from chainrule.nn.linear import Linear
from chainrule.nn.module import Module
from chainrule.nn.normalization import LayerNorm
from chainrule.ops.elementwise import where
from chainrule.ops.shape import triu


def generate_square_subsequent_mask(sz, device=None, dtype=None):
    """(sz, sz) float mask, -inf above the diagonal and 0 elsewhere: position i may attend to 0..i only."""
    return triu(full((sz, sz), float("-inf"), dtype=dtype, device=device), diagonal=1)


def _is_causal_mask(mask, is_causal, size):
    """PyTorch's reading of the ``is_causal`` hint: True if given True, and when not given (None),
    whether ``mask`` is exactly the square subsequent mask of ``size``."""
    if is_causal is not None or mask is None:
        return is_causal is True
    size = size if size is not None else mask.shape[-2]
    if tuple(mask.shape) != (size, size):
        return False
    if function_module._recorder is not None and not mask.requires_grad:
        # The hint only swaps in an equal mask (the same bits follow): a compiled step's program
        # keeps the mask it is given, which a later call may change.
        return False
    causal = generate_square_subsequent_mask(size, dtype=mask.dtype if mask.dtype.kind == "f" else None)
    return bool((mask == causal).all())  # a recording hears this read, and runs eagerly


def _sequence_length(input, batch_first):
    if input.ndim == 2:
        return input.shape[0]
    return input.shape[1 if batch_first else 0]


def _activation_function(activation):
    """'relu' and 'gelu' as the functions; any callable (a function or a module) as it is."""
    if not isinstance(activation, str):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _clones(layer, count):
    """``count`` independent deep copies of ``layer`` (same starting values), as PyTorch's stacks."""
    return ModuleList([copy.deepcopy(layer) for _ in range(count)])


def _why_not_fast_path(layer, check_norm_first=True):
    """Why PyTorch's encoder has no fast inference path for ``layer``, as its TransformerEncoder's
    warning words it, or "" when it has one: a batch-first TransformerEncoderLayer that normalizes
    after its blocks (``check_norm_first``), with biases, relu or gelu, equal norm eps and an even
    number of heads. Without ``check_norm_first``: whether PyTorch has a fused inference kernel."""
    name = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    if check_norm_first and layer.norm_first:
        return f"{name}.norm_first was True"
    attention = layer.self_attn
    if not attention.batch_first:
        return f"{name}.self_attn.batch_first was not True(use batch_first for better inference performance)"
    if not attention._qkv_same_embed_dim:
        return f"{name}.self_attn._qkv_same_embed_dim was not True"
    if attention.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not layer.activation_relu_or_gelu:
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if attention.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""


def _float_masks(padding_mask, padding_name, mask, mask_name, dtype):
    """The key padding mask and the attention mask as additive float masks in ``dtype`` (True in a
    bool mask: -inf), as PyTorch's encoder canonicalizes them: AssertionError for other dtypes, a
    warning when the two are of different types."""
    padding_mask = F._canonical_mask(padding_mask, padding_name, F._none_or_dtype(mask), mask_name, dtype, _stacklevel=3)
    return padding_mask, F._canonical_mask(mask, mask_name, None, "", dtype, _stacklevel=3)


class _AttentionLayer(Module):
    """What encoder and decoder layers share: their attention modules (``attention_names``), the
    feed-forward network linear2(dropout(activation(linear1(x)))), and a LayerNorm and a Dropout
    around each block, registered in PyTorch's order under PyTorch's names."""

    attention_names = ()

    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward=2048,
        dropout=0.1,
        activation=F.relu,
        layer_norm_eps=1e-5,
        batch_first=False,
        norm_first=False,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        for name in self.attention_names:
            setattr(self, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, device=device, dtype=dtype))
        blocks = len(self.attention_names) + 1
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, device=device, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, device=device, dtype=dtype)
        self.norm_first = norm_first
        for number in range(1, blocks + 1):
            setattr(self, f"norm{number}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device, dtype=dtype))
        for number in range(1, blocks + 1):
            setattr(self, f"dropout{number}", Dropout(dropout))
        self.activation = _activation_function(activation)
        self._set_fast_path_flags()

    def _set_fast_path_flags(self):
        """The attributes PyTorch's layer keeps for its fused inference kernels: the encoder layer's only."""

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        """The self-attention block (of both layers): dropout1(self_attn(x, x, x))."""
        # PyTorch's fused inference layer computes the softmax itself (a query whose keys are all
        # masked gets NaN), as the attention does when it returns its weights
        fused = self._runs_fused_in_pytorch(x)
        attended = self.self_attn(
            x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=fused, is_causal=is_causal
        )[0]
        return self.dropout1(attended)

    def _runs_fused_in_pytorch(self, x):
        """Whether PyTorch runs this layer as one fused inference kernel for input ``x``."""
        return False

    def _feed_forward(self, x):
        return self.linear2(self.dropout(self.activation(self.linear1(x))))


class TransformerEncoderLayer(_AttentionLayer):
    """Self-attention and a feed-forward network, each with a residual connection and LayerNorm:
    src (S, N, d_model) (or (N, S, d_model) with ``batch_first``, or unbatched (S, d_model)) -> the
    same shape.

    ``dim_feedforward`` is the hidden width of the feed-forward network, ``activation`` 'relu',
    'gelu' or any callable, ``norm_first`` puts each LayerNorm before its block (pre-norm).
    """

    attention_names = ("self_attn",)

    def _set_fast_path_flags(self):
        """PyTorch's flag for its fused kernels: 1 for relu, 2 for gelu (as a name, function or module), 0 otherwise."""
        activation = self.activation
        self.activation_relu_or_gelu = (
            1 if activation is F.relu or isinstance(activation, ReLU) else 2 if activation is F.gelu or isinstance(activation, GELU) else 0
        )

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """``src_mask`` (S, S) or (N · nhead, S, S) and ``src_key_padding_mask`` (N, S): True (or
        -inf) where attention is not allowed; ``is_causal``: a hint that src_mask is causal.

        The blocks are the methods ``_sa_block`` and ``_ff_block``, called as PyTorch's forward
        calls them, so a subclass that overrides one (to keep the attention weights) works here too.
        """
        src_key_padding_mask, src_mask = _float_masks(src_key_padding_mask, "src_key_padding_mask", src_mask, "src_mask", src.dtype)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal=is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal=is_causal))
        return self.norm2(x + self._ff_block(x))

    def _ff_block(self, x):
        """The feed-forward block: dropout2(linear2(dropout(activation(linear1(x)))))."""
        return self.dropout2(self._feed_forward(x))

    def _runs_fused_in_pytorch(self, x):
        """PyTorch's conditions for ``torch._transformer_encoder_layer_fwd``: a fused layer
        (``_why_not_fast_path``), batched input, evaluation, no gradient wanted, no hooks."""
        if x.ndim != 3 or self.training or _why_not_fast_path(self, check_norm_first=False):
            return False
        if is_grad_enabled() and (x.requires_grad or any(parameter.requires_grad for parameter in self.parameters())):
            return False
        return not any(module._forward_hooks or module._forward_pre_hooks for module in self.modules())


class TransformerDecoderLayer(_AttentionLayer):
    """Masked self-attention, attention to the encoder's output ``memory``, and a feed-forward network,
    each with a residual connection and LayerNorm: tgt (T, N, d_model), memory (S, N, d_model) ->
    (T, N, d_model) (batch first with ``batch_first``; unbatched inputs work too)."""

    attention_names = ("self_attn", "multihead_attn")

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal=False,
        memory_is_causal=False,
    ):
        """``tgt_mask`` (T, T) (usually ``Transformer.generate_square_subsequent_mask(T)``),
        ``memory_mask`` (T, S), and the key padding masks (N, T) and (N, S): True (or -inf) where
        attention is not allowed.

        The blocks are the methods ``_sa_block``, ``_mha_block`` and ``_ff_block``, called as
        PyTorch's forward calls them (subclasses may override them)."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        """The block attending to the encoder's output: dropout2(multihead_attn(x, mem, mem))."""
        attended = self.multihead_attn(
            x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal, need_weights=False
        )[0]
        return self.dropout2(attended)

    def _ff_block(self, x):
        """The feed-forward block: dropout3(linear2(dropout(activation(linear1(x)))))."""
        return self.dropout3(self._feed_forward(x))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (each with its own weights, starting equal) applied
    in turn, then ``norm`` if given: src -> the same shape."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = _why_not_fast_path(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False because {why_not}", stacklevel=2)
            self.use_nested_tensor = False

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """``mask`` (S, S), ``src_key_padding_mask`` (N, S); ``is_causal`` None: detected from ``mask``."""
        src_key_padding_mask, mask = _float_masks(src_key_padding_mask, "src_key_padding_mask", mask, "mask", src.dtype)
        is_causal = _is_causal_mask(mask, is_causal, _sequence_length(src, self.layers[0].self_attn.batch_first))
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask)
        padded = self._padding_pytorch_leaves_out(src, mask, src_key_padding_mask)
        if padded is not None:
            output = where(padded.unsqueeze(-1), 0.0, output)
        return output if self.norm is None else self.norm(output)

    def _padding_pytorch_leaves_out(self, src, mask, src_key_padding_mask):
        """The padded positions (N, S) where PyTorch's encoder outputs zeros (none when some padding
        comes before a real position), or None.

        In inference (evaluation mode, no gradient wanted) PyTorch packs batch-first sequences whose
        padding is all at the end into a nested tensor, computes only the real positions, and pads the
        result with zeros before the final norm. The real positions are the same as computed here
        (padding is masked out of attention); the padded ones are set to zero to match.
        """
        first = self.layers[0]
        if not self.use_nested_tensor or first.training or src.ndim != 3 or src_key_padding_mask is None or mask is not None:
            return None
        if is_grad_enabled() and (src.requires_grad or any(parameter.requires_grad for parameter in first.parameters())):
            return None
        # Where padding comes before a real position there is no packing: a condition on values,
        # written with operations (zeroing nothing when it fails) so that a compiled step replays it.
        padded = src_key_padding_mask != 0
        packed = (padded[:, :-1] & ~padded[:, 1:]).any().logical_not()
        return padded & packed


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` applied in turn to tgt, each attending to ``memory``,
    then ``norm`` if given: tgt (T, N, d_model) -> the same shape."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal=None,
        memory_is_causal=False,
    ):
        tgt_is_causal = _is_causal_mask(tgt_mask, tgt_is_causal, _sequence_length(tgt, self.layers[0].self_attn.batch_first))
        output = tgt
        for layer in self.layers:
            output = layer(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=tgt_is_causal,
                memory_is_causal=memory_is_causal,
            )
        return output if self.norm is None else self.norm(output)


class Transformer(Module):
    """The encoder-decoder Transformer: src (S, N, d_model), tgt (T, N, d_model) -> (T, N, d_model)
    (batch first with ``batch_first``). ``num_encoder_layers`` encoder layers read src; their output
    (the memory) is read by each of ``num_decoder_layers`` decoder layers. Weight matrices start
    Xavier-uniform, as PyTorch's. Embeddings and positional encodings are the caller's.
    """

    def __init__(
        self,
        d_model=512,
        nhead=8,
        num_encoder_layers=6,
        num_decoder_layers=6,
        dim_feedforward=2048,
        dropout=0.1,
        activation=F.relu,
        custom_encoder=None,
        custom_decoder=None,
        layer_norm_eps=1e-5,
        batch_first=False,
        norm_first=False,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        layer = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first, bias, device, dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            final_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
            self.encoder = TransformerEncoder(TransformerEncoderLayer(*layer), num_encoder_layers, final_norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            final_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
            self.decoder = TransformerDecoder(TransformerDecoderLayer(*layer), num_decoder_layers, final_norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(
        self,
        src,
        tgt,
        src_mask=None,
        tgt_mask=None,
        memory_mask=None,
        src_key_padding_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        src_is_causal=None,
        tgt_is_causal=None,
        memory_is_causal=False,
    ):
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)

    def _reset_parameters(self):
        for parameter in self.parameters():
            if parameter.ndim > 1:
                init.xavier_uniform_(parameter)
