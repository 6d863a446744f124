"""Embedding: a lookup table from integer ids (words, items) to learned vectors."""
from chainrule.autograd.grad_mode import no_grad
from chainrule.creation import empty
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.device import check_device


def _lookup_table(module, num_embeddings, embedding_dim, padding_idx, weight, dtype, settings):
    """What Embedding and EmbeddingBag share: the sizes, ``padding_idx`` (as a row), the other
    ``settings`` as attributes, and ``weight`` (num_embeddings, embedding_dim), drawn by the module's
    ``reset_parameters`` or the given tensor."""
    if padding_idx is not None:
        padding_idx = F.padding_row(padding_idx, num_embeddings)
    module.num_embeddings, module.embedding_dim, module.padding_idx = num_embeddings, embedding_dim, padding_idx
    for name, value in settings.items():
        setattr(module, name, value)
    if weight is None:
        module.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=dtype))
        module.reset_parameters()
    else:
        if tuple(weight.shape) != (num_embeddings, embedding_dim):
            raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
        module.weight = Parameter(weight)


class Embedding(Module):
    """Row ``i`` of ``weight`` (num_embeddings, embedding_dim) for each id ``i``: (*) -> (*, embedding_dim).

    The weight starts as N(0, 1). The row at ``padding_idx`` starts at zero and gets no gradient,
    so padding tokens stay neutral. ``max_norm`` and ``scale_grad_by_freq`` are not available;
    ``sparse`` is accepted, and the gradient is always dense (the same values).
    """

    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        padding_idx=None,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        sparse=False,
        _weight=None,
        _freeze=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device)
        settings = dict(max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
        _lookup_table(self, num_embeddings, embedding_dim, padding_idx, _weight, dtype, settings)
        self.weight.requires_grad = _weight is None or not _freeze

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(
        cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False
    ):
        """An Embedding holding ``embeddings`` (num_embeddings, dim); frozen (no gradient) by default."""
        if embeddings.ndim != 2:
            raise AssertionError(f"Embeddings parameter is expected to be 2-dimensional, got shape {tuple(embeddings.shape)}")
        rows, columns = embeddings.shape
        return cls(
            rows, columns, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=embeddings, _freeze=freeze
        )

    def forward(self, input):
        return F.embedding(
            input, self.weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse
        )

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else text + f", padding_idx={self.padding_idx}"


class EmbeddingBag(Module):
    """The sum, mean or max of the embedding rows of each bag of ids, without making the (*, D) rows
    first: input (B, L), or 1-D input with ``offsets`` (B,) -> (B, embedding_dim) (``F.embedding_bag``).

    ``weight`` (num_embeddings, embedding_dim) starts as N(0, 1), the ``padding_idx`` row at zero
    (left out of every bag). ``per_sample_weights`` (mode 'sum') weighs each id.
    """

    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        mode="mean",
        sparse=False,
        _weight=None,
        include_last_offset=False,
        padding_idx=None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device)
        settings = dict(
            max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
            include_last_offset=include_last_offset,
        )
        _lookup_table(self, num_embeddings, embedding_dim, padding_idx, _weight, dtype, settings)

    reset_parameters = Embedding.reset_parameters

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze=True,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        mode="mean",
        sparse=False,
        include_last_offset=False,
        padding_idx=None,
    ):
        """An EmbeddingBag holding ``embeddings`` (num_embeddings, dim); frozen (no gradient) by default."""
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, columns = embeddings.shape
        bag = cls(
            rows, columns, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings, include_last_offset, padding_idx
        )
        bag.weight.requires_grad = not freeze
        return bag

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        text += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
