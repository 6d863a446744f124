"""Embedding: a lookup table from integer ids (words, items) to learned vectors."""
from chainrule.autograd.grad_mode import no_grad
from chainrule.creation import empty
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter


def _lookup_table(module, num_embeddings, embedding_dim, padding_idx, weight, device, dtype, settings, requires_grad=True):
    """What Embedding and EmbeddingBag share: the sizes, ``padding_idx`` (as a row), the other
    ``settings`` as attributes, and ``weight`` (num_embeddings, embedding_dim), drawn by the module's
    ``reset_parameters`` or the given tensor (which may be an integer one when it ``requires_grad``
    not: a frozen table of ids)."""
    if padding_idx is not None:
        padding_idx = F.padding_row(padding_idx, num_embeddings, "padding_idx" if isinstance(module, EmbeddingBag) else "Padding_idx")
    module.num_embeddings, module.embedding_dim, module.padding_idx = num_embeddings, embedding_dim, padding_idx
    for name, value in settings.items():
        setattr(module, name, value)
    if weight is None:
        module.weight = Parameter(empty(num_embeddings, embedding_dim, device=device, dtype=dtype), requires_grad)
        module.reset_parameters()
    else:
        if tuple(weight.shape) != (num_embeddings, embedding_dim):
            raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
        module.weight = Parameter(weight, requires_grad)


def _lookup_settings(module):
    """The repr's ``, max_norm=..., norm_type=..., scale_grad_by_freq=...``, each only when not the default."""
    text = ""
    if module.max_norm is not None:
        text += f", max_norm={module.max_norm}"
    if module.norm_type != 2:
        text += f", norm_type={module.norm_type}"
    if module.scale_grad_by_freq is not False:
        text += f", scale_grad_by_freq={module.scale_grad_by_freq}"
    return text


class Embedding(Module):
    """Row ``i`` of ``weight`` (num_embeddings, embedding_dim) for each id ``i``: (*) -> (*, embedding_dim).

    The weight starts as N(0, 1). The row at ``padding_idx`` starts at zero and gets no gradient,
    so padding tokens stay neutral. With ``max_norm`` each forward first rescales, in ``weight``
    itself, the rows it reads whose ``norm_type``-norm exceeds max_norm; ``scale_grad_by_freq``
    divides each row's gradient by how often the batch reads it. With ``sparse=True`` the weight's
    gradient is a sparse COO tensor holding only the rows read (for ``optim.SparseAdam``, ``SGD``
    or ``Adagrad``, which then update only those rows).
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
        settings = dict(max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
        _lookup_table(self, num_embeddings, embedding_dim, padding_idx, _weight, device, dtype, settings, not _freeze)

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
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        text += _lookup_settings(self)
        if self.sparse is not False:
            text += ", sparse=True"
        return text


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
        settings = dict(
            max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
            include_last_offset=include_last_offset,
        )
        _lookup_table(self, num_embeddings, embedding_dim, padding_idx, _weight, device, dtype, settings)

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
        text = f"{self.num_embeddings}, {self.embedding_dim}" + _lookup_settings(self)
        text += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
