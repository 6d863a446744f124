"""``torch.distributed.tensor.placement_types``: how a ``DTensor`` would lay a tensor out along
each dimension of a ``DeviceMesh``, as PyTorch's values.

``Shard(dim)``: each process of the mesh dimension holds one ``chunk`` of the tensor along ``dim``;
``Replicate()``: each holds the whole tensor; ``Partial(reduce_op)``: each holds a term, and the
tensor is their reduction ("sum", "avg", "max"...); ``_StridedShard(dim, split_factor=n)``: a
``Shard`` of a tensor already split ``n`` ways along ``dim`` (one chunk of each of the ``n``
pieces). chainrule has no DTensor (see ``chainrule.distributed.unsharded``), but tensor-parallel
plans are written with these values (transformers builds its plans at import), so they exist:
immutable, equal when their fields are, with PyTorch's reprs (``Shard(dim=0)``) and short
names (``str``: ``S(0)``, ``R``, ``P(sum)``, ``_S(0, 2)``).
"""

__all__ = ["Placement", "Shard", "Replicate", "Partial"]


class Placement:
    """The base of the placements: asks which kind a placement is."""

    __slots__ = ()

    def is_shard(self, dim=None):
        """Whether this is a ``Shard`` (of ``dim``, if given)."""
        return False

    def is_replicate(self):
        """Whether this is ``Replicate()``."""
        return False

    def is_partial(self, reduce_op=None):
        """Whether this is a ``Partial`` (reducing with ``reduce_op``, if given)."""
        return False


class _Value(Placement):
    """A placement that is the value of its ``fields``: frozen, compared, hashed and pickled by them."""

    __slots__ = ()
    fields = ()

    def __init__(self, *values):
        for name, value in zip(self.fields, values):
            object.__setattr__(self, name, value)

    def _key(self):
        return tuple(getattr(self, name) for name in self.fields)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable: cannot assign to field {name!r}")

    def __eq__(self, other):
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self):
        return hash((type(self).__name__, *self._key()))

    def __reduce__(self):  # pickled by its fields, as frozen slots cannot be set back one by one
        return type(self)._from_fields, self._key()

    @classmethod
    def _from_fields(cls, *values):
        placement = object.__new__(cls)
        _Value.__init__(placement, *values)
        return placement


class Shard(_Value):
    """``Shard(dim)``: the tensor split along ``dim`` as ``torch.chunk`` splits it, one chunk on
    each process of the mesh dimension (the last chunks may be empty)."""

    __slots__ = ("dim",)
    fields = ("dim",)

    def __init__(self, dim):
        super().__init__(int(dim))

    def is_shard(self, dim=None):
        return dim is None or dim == self.dim

    def __repr__(self):
        return f"Shard(dim={self.dim})"

    def __str__(self):
        return f"S({self.dim})"


class _StridedShard(_Value):
    """``_StridedShard(dim, split_factor=n)``: the tensor cut into ``n`` pieces along ``dim`` and
    each piece sharded; a process holds its chunk of every piece. Not a ``Shard``, as PyTorch's."""

    __slots__ = ("dim", "split_factor")
    fields = ("dim", "split_factor")

    def __init__(self, dim, *, split_factor):
        super().__init__(int(dim), int(split_factor))

    def __repr__(self):
        return f"_StridedShard(dim={self.dim}, sf={self.split_factor})"

    def __str__(self):
        return f"_S({self.dim}, {self.split_factor})"


class Replicate(_Value):
    """``Replicate()``: every process of the mesh dimension holds the whole tensor."""

    __slots__ = ()

    def is_replicate(self):
        return True

    def __repr__(self):
        return "Replicate()"

    def __str__(self):
        return "R"


class Partial(_Value):
    """``Partial(reduce_op="sum")``: every process holds a term of the tensor, which is the
    terms' reduction by ``reduce_op`` ("sum", "avg", "max", "min"...)."""

    __slots__ = ("reduce_op",)
    fields = ("reduce_op",)

    def __init__(self, reduce_op="sum"):
        super().__init__(reduce_op)

    def is_partial(self, reduce_op=None):
        return reduce_op is None or reduce_op == self.reduce_op

    def __repr__(self):
        return f"Partial({self.reduce_op})"

    def __str__(self):
        return f"P({self.reduce_op})"
