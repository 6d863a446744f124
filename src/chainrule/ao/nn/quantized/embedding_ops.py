"""Quantized Embedding and EmbeddingBag: integer indices in, float32 rows out, the table held as
quint8 with one scale and one floating zero point per row (``per_channel_affine_float_qparams``,
chosen by ``float_qparams_weight_only_qconfig``'s observer from each row's min and max).

PyTorch's kernel (FBGEMM's 8-bit rowwise embedding) keeps each row's ``scale`` and
``bias = -(zero_point · scale)`` (float32) and sums a bag's rows as

    out = 0;  for each index i of the bag:  out = fma(scale_i · w_i, q_i, out + bias_i · w_i)

(``w_i`` the per-sample weight, 1 without), each step rounded to float32. The same steps here give
PyTorch's floats: the product of a float32 and an 8-bit integer is exact in float64, so float64
then one rounding is the fused multiply-add, but where the float64 sum itself must round (terms
more than 2^21 apart in magnitude) the result can differ from it in the last bit.

As in PyTorch 2.13, the module passes mode 0 to the kernel: EmbeddingBag sums its bags whatever its
``mode`` says (the mode is kept and printed only).
"""
import chainrule
from chainrule.ao.nn import qat
from chainrule.backend import xp
from chainrule.dtypes import int32, int64, quint8, scalar_type_name
from chainrule.nn import Embedding as FloatEmbedding
from chainrule.nn import EmbeddingBag as FloatEmbeddingBag
from chainrule.nn.module import Module
from chainrule.quantized.schemes import per_channel_affine_float_qparams
from chainrule.tensor import tensor_from_array

float32, float64 = xp.float32, xp.float64


def check_embedding_dtype(dtype):
    if dtype != quint8:
        raise NotImplementedError(
            f"Unsupported dtype on quantized embedding! Supports quint8 and quint4x2. Got dtype: {dtype} (chainrule "
            "quantizes embedding tables to chainrule.quint8 only)"
        )


def empty_table(num_embeddings, embedding_dim):
    """A table of zeros quantized per row with scale 1 and zero point 0 (what a layer holds before ``set_weight``)."""
    return chainrule.quantize_per_channel(
        chainrule.zeros(num_embeddings, embedding_dim), chainrule.ones(num_embeddings), chainrule.zeros(num_embeddings), 0, quint8
    )


class EmbeddingPackedParams(Module):
    """Holds the quantized table (PyTorch's packed weight), saved in the state dict as
    ``_packed_weight`` (the quantized tensor) and ``dtype``; prints as the table."""

    _version = 1

    def __init__(self, num_embeddings, embedding_dim, dtype=quint8):
        super().__init__()
        check_embedding_dtype(dtype)
        self.dtype = dtype
        self.set_weight(empty_table(num_embeddings, embedding_dim))

    def set_weight(self, weight):
        """Keep ``weight`` (num_embeddings, embedding_dim), quint8 quantized per row with float qparams."""
        if weight.dim() != 2:
            raise RuntimeError(f"quantized::embedding_bag_prepack weight tensor rank should be 2 (got shape {tuple(weight.shape)})")
        if not weight.is_quantized or weight.dtype != quint8:
            raise RuntimeError(f"qembedding_bag_prepack currently only supports quint8 and quint4x2 weights (got {weight.dtype})")
        if weight.qscheme() is not per_channel_affine_float_qparams:
            raise RuntimeError(
                "Expect embedding_bag weights to be quantized using kPerChannelAffineFloatQParams (quantize them with "
                f"float_qparams_weight_only_qconfig's observer; got {weight.qscheme()!r})"
            )
        self._packed_weight = weight

    def _weight(self):
        return self._packed_weight

    def forward(self, x):
        return x

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "dtype"] = self.dtype
        destination[prefix + "_packed_weight"] = self._weight()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        self.dtype = state_dict.pop(prefix + "dtype")
        self.set_weight(state_dict.pop(prefix + "_packed_weight"))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys, error_msgs)

    def __repr__(self):
        return repr(self._weight())


def index_array(indices, operation):
    """The indices as a flat int64 array; PyTorch's RuntimeErrors for other dtypes and ranks."""
    if indices.dtype not in (int32, int64):
        raise RuntimeError(
            f"Expect 32 or 64 bit indices, but found {scalar_type_name(indices._array.dtype)} instead. ({operation}: "
            "give integer indices, e.g. indices.long())"
        )
    if indices.dim() not in (1, 2):
        raise RuntimeError(
            f"qembedding/qembedding_bag operator supports 1 or 2d indices, got {indices.dim()} ({operation}: shape "
            f"{tuple(indices.shape)})"
        )
    return indices._array.astype(xp.int64).reshape(-1)


def bag_bounds(index_count, offsets, include_last_offset):
    """``(starts, ends)`` of each bag in the flat indices, from ``offsets`` (a bag's first position);
    the last bag ends at the end of the indices unless ``include_last_offset``."""
    offsets = offsets._array.astype(xp.int64).reshape(-1)
    if include_last_offset:
        starts, ends = offsets[:-1], offsets[1:]
    else:
        starts, ends = offsets, xp.append(offsets[1:], index_count)
    if (offsets > index_count).any():
        raise RuntimeError(
            "Yout input seems to be incorrect: the last offset value should be the size of the indices tensor, but it "
            f"appears not. (offsets {offsets.tolist()} for {index_count} indices: each offset is at most that number)"
        )
    if (starts > ends).any() or (starts < 0).any():
        raise RuntimeError(f"offsets must be non-negative and non-decreasing (got {offsets.tolist()})")
    return starts, ends


def embedding_bag_byte(table, indices, offsets, per_sample_weights, include_last_offset, operation):
    """``quantized::embedding_bag_byte``: the weighted sum of each bag's rows of ``table``, float32
    ``(bags, embedding_dim)`` (module docstring). ``indices`` 2-d: one bag per row, no offsets (as
    in PyTorch, ``include_last_offset`` then drops the last row's bag)."""
    index_values = index_array(indices, operation)
    if indices.dim() == 2:
        if offsets is not None:
            raise RuntimeError(
                "embedding_bag_byte operator: input is 2D, then offsets has to be None, as input is treated is a "
                "mini-batch of fixed length sequences. (give 1-d indices with offsets, or 2-d indices alone)"
            )
        offsets = chainrule.arange(0, index_values.size, max(indices.shape[1], 1))
    elif offsets is None:
        raise RuntimeError(
            "embedding_bag_byte expects offsets to be set for 1D indices. (give offsets, each bag's first position "
            "in the indices, e.g. chainrule.tensor([0]) for one bag)"
        )
    starts, ends = bag_bounds(index_values.size, offsets, include_last_offset)
    array = table._array
    rows = array.integers.shape[0]
    outside = (index_values < 0) | (index_values >= rows)
    if outside.any():
        position = int(xp.argmax(outside))
        raise RuntimeError(
            f"Index {position} is out of bounds: {int(index_values[position])}, range 0 to {rows} ({operation}: the "
            f"table has {rows} rows)"
        )
    scales = array.scale.astype(float32)
    biases = -(array.zero_point.astype(float32) * scales)
    weights = None if per_sample_weights is None else per_sample_weights.detach()._array.astype(float32).reshape(-1)
    if weights is not None and weights.size != index_values.size:
        raise RuntimeError(f"per_sample_weights must have one weight per index ({weights.size} for {index_values.size} indices)")
    lengths = ends - starts
    output = xp.zeros((starts.size, array.integers.shape[1]), dtype=float32)
    for step in range(int(lengths.max()) if lengths.size else 0):
        bags = xp.nonzero(lengths > step)[0]
        positions = starts[bags] + step
        chosen = index_values[positions]
        scale, bias = scales[chosen], biases[chosen]
        if weights is not None:
            scale, bias = scale * weights[positions], bias * weights[positions]
        shifted = output[bags] + bias[:, None]
        output[bags] = (scale.astype(float64)[:, None] * array.integers[chosen] + shifted).astype(float32)
    return tensor_from_array(output)


class Embedding(Module):
    """``QuantizedEmbedding``: ``indices (*) int64 or int32 (1 or 2 dims) -> rows (*, embedding_dim) float32``."""

    _version = 1
    _FLOAT_MODULE = FloatEmbedding
    _QAT_MODULE = qat.Embedding

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, dtype=quint8):
        super().__init__()
        self.num_embeddings, self.embedding_dim, self.dtype = num_embeddings, embedding_dim, dtype
        if _weight is not None and list(_weight.shape) != [num_embeddings, embedding_dim]:
            raise AssertionError(
                f"Shape of weight does not match num_embeddings and embedding_dim: expected {[num_embeddings, embedding_dim]}, "
                f"got {list(_weight.shape)}"
            )
        self._packed_params = EmbeddingPackedParams(num_embeddings, embedding_dim, dtype)
        self._packed_params.set_weight(empty_table(num_embeddings, embedding_dim) if _weight is None else _weight)

    def forward(self, indices):
        flat = indices.reshape(-1) if indices.dim() in (1, 2) else indices
        rows = embedding_bag_byte(self.weight(), flat, chainrule.arange(flat.numel()), None, False, "quantized Embedding")
        return rows.reshape(*indices.shape, self.embedding_dim)

    def _get_name(self):
        return "QuantizedEmbedding"

    def __repr__(self):  # the packed table is not shown, as in PyTorch
        return f"{self._get_name()}({self.extra_repr()})"

    def extra_repr(self):
        return (
            f"num_embeddings={self.num_embeddings}, embedding_dim={self.embedding_dim}, dtype={self._packed_params.dtype}, "
            f"qscheme={self.weight().qscheme()}"
        )

    def set_weight(self, w):
        self._packed_params.set_weight(w)

    def weight(self):
        return self._packed_params._weight()

    @classmethod
    def quantized_table(cls, mod):
        """``mod``'s weight quantized per row by its qconfig's weight observer (float_qparams_weight_only_qconfig's by default)."""
        name = cls.__name__
        if hasattr(mod, "weight_fake_quant"):  # a QAT embedding: its fake quantizer observes the weight
            if type(mod) is not cls._QAT_MODULE:
                raise AssertionError(f"nnq.{name}.from_float with fake quant only works for {cls._QAT_MODULE.__name__}")
            observer = mod.weight_fake_quant
        else:
            observer = cls.weight_observer(mod)
        if observer.qscheme is not per_channel_affine_float_qparams:
            raise AssertionError(f"{name} quantization is only supported with float_qparams_weight_only_qconfig.")
        if observer.dtype != quint8:
            raise AssertionError(
                f"The only supported dtype for nnq.{name} is torch.quint8 and torch.quint4x2, got {observer.dtype} "
                "(chainrule: quint8 only)"
            )
        observer(mod.weight)
        scales, zero_points = observer.calculate_qparams()
        return chainrule.quantize_per_channel(mod.weight.detach().float(), scales.float(), zero_points.float(), 0, quint8)

    @classmethod
    def weight_observer(cls, mod):
        """A new weight observer of float ``mod``'s qconfig (float_qparams_weight_only_qconfig's if it has none)."""
        if type(mod) is not cls._FLOAT_MODULE:
            raise AssertionError(f"nnq.{cls.__name__}.from_float only works for {cls._FLOAT_MODULE.__name__}")
        if not hasattr(mod, "qconfig"):
            raise AssertionError(f"{cls.__name__} input float module must have qconfig defined")
        from chainrule.ao.quantization.qconfig import float_qparams_weight_only_qconfig

        qconfig = mod.qconfig if mod.qconfig is not None and mod.qconfig.weight is not None else float_qparams_weight_only_qconfig
        return qconfig.weight()

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized embedding of a float one with a qconfig (``float_qparams_weight_only_qconfig``)."""
        table = cls.quantized_table(mod)
        quantized = Embedding(mod.num_embeddings, mod.embedding_dim)
        quantized.set_weight(table)
        return quantized


class EmbeddingBag(Embedding):
    """``QuantizedEmbeddingBag``: ``indices (n,) with offsets (bags,)``, or ``indices (bags, n)``
    -> ``(bags, embedding_dim)`` float32, the sum of each bag's rows (weighted by
    ``per_sample_weights``). ``include_last_offset``: the last offset ends the last bag."""

    _version = 1
    _FLOAT_MODULE = FloatEmbeddingBag
    _QAT_MODULE = qat.EmbeddingBag

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, mode="sum",
                 sparse=False, _weight=None, include_last_offset=False, dtype=quint8):
        super().__init__(num_embeddings, embedding_dim, _weight=_weight, dtype=dtype)
        self.mode = mode
        self.pruned_weights = False
        self.include_last_offset = include_last_offset

    def forward(self, indices, offsets=None, per_sample_weights=None, compressed_indices_mapping=None):
        if compressed_indices_mapping is not None:
            raise NotImplementedError("quantized EmbeddingBag: pruned tables (compressed_indices_mapping) are not supported here")
        return embedding_bag_byte(
            self.weight(), indices, offsets, per_sample_weights, self.include_last_offset, "quantized EmbeddingBag"
        )

    def _get_name(self):
        return "QuantizedEmbeddingBag"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized embedding bag of a float one with a qconfig (``float_qparams_weight_only_qconfig``)."""
        table = cls.quantized_table(mod)
        quantized = EmbeddingBag(
            mod.num_embeddings, mod.embedding_dim, max_norm=mod.max_norm, norm_type=mod.norm_type,
            scale_grad_by_freq=mod.scale_grad_by_freq, mode=mod.mode, sparse=mod.sparse,
            include_last_offset=mod.include_last_offset, dtype=table.dtype,
        )
        quantized.set_weight(table)
        return quantized
