"""Quantization-aware-training embeddings: ``Embedding`` and ``EmbeddingBag`` whose weight is
fake-quantized on every forward, each row with a float scale and zero point of its own (the
qscheme ``per_channel_affine_float_qparams`` of their quantized form, ``default_embedding_qat_qconfig``),
so that training sees the rounding of the quint8 table it will have."""
import chainrule
from chainrule.ao.nn.qat.modules import FakeQuantizedWeight
from chainrule.nn import functional as F
from chainrule.quantized.schemes import per_channel_affine_float_qparams


class FakeQuantizedTable(FakeQuantizedWeight):
    """A QAT layer whose weight is a table of rows, fake-quantized with float qparams per row.
    ``SETTINGS`` are the float module's constructor arguments after the sizes, which ``from_float``
    and ``to_float`` copy."""

    SETTINGS = ()

    def __init__(self, *args, qconfig=None, **kwargs):
        if qconfig:
            qscheme = qconfig.weight().qscheme
            if qscheme is not per_channel_affine_float_qparams:
                raise AssertionError(
                    f"{self.DESCRIPTION} weights requires a qscheme of torch.per_channel_affine_float_qparams Got "
                    f"{qscheme} (give it chainrule.ao.quantization.default_embedding_qat_qconfig)"
                )
        super().__init__(*args, qconfig=qconfig, **kwargs)

    @classmethod
    def holding(cls, layer, qconfig):
        """The QAT embedding sharing float ``layer``'s weight."""
        settings = {name: getattr(layer, name) for name in cls.SETTINGS}
        return cls(layer.num_embeddings, layer.embedding_dim, _weight=layer.weight, qconfig=qconfig, **settings)

    def to_float(self):
        """The float embedding holding this one's weight (not fake-quantized)."""
        layer = self._FLOAT_MODULE(self.num_embeddings, self.embedding_dim, **{name: getattr(self, name) for name in self.SETTINGS})
        layer.weight = chainrule.nn.Parameter(self.weight.detach())
        return layer.train(self.training)


class Embedding(FakeQuantizedTable, chainrule.nn.Embedding):
    """``ids (*) -> (*, embedding_dim)``, the rows read from the fake-quantized weight."""

    _FLOAT_MODULE = chainrule.nn.Embedding
    DESCRIPTION = "Embedding"
    SETTINGS = ("padding_idx", "max_norm", "norm_type", "scale_grad_by_freq", "sparse")

    def forward(self, input):
        return F.embedding(
            input, self.weight_fake_quant(self.weight), self.padding_idx, self.max_norm, self.norm_type,
            self.scale_grad_by_freq, self.sparse,
        )


class EmbeddingBag(FakeQuantizedTable, chainrule.nn.EmbeddingBag):
    """``ids (B, L)``, or ``(n,)`` with ``offsets (B,)`` -> ``(B, embedding_dim)``: each bag's rows of
    the fake-quantized weight summed, averaged or maxed."""

    _FLOAT_MODULE = chainrule.nn.EmbeddingBag
    DESCRIPTION = "Embedding Bag"
    SETTINGS = ("max_norm", "norm_type", "scale_grad_by_freq", "mode", "sparse", "include_last_offset", "padding_idx")

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(
            input, self.weight_fake_quant(self.weight), offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
            self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx,
        )
