"""``chainrule.return_types``, as ``torch.return_types``: the named tuples operations return
(``values, indices = x.max(dim=1)``), printed as PyTorch prints them::

    chainrule.return_types.max(
    values=tensor([3., 2.]),
    indices=tensor([1, 0]))

They are PyTorch's kind of named tuple, CPython's "struct sequence" (as ``os.stat_result``), not
``collections.namedtuple``: one is made from one sequence of its fields,
``return_types.max((values, indices))`` (as code that rebuilds results does, ``type(r)(new)``),
says how many fields it has (``n_fields``) and names them in ``__match_args__``; pytrees (vmap,
tree_map) take them apart and put them together as PyTorch's do.
"""
from operator import itemgetter


class StructSequence(tuple):
    """What every return type is: a tuple of ``n_fields`` items, each also read by its name."""

    __slots__ = ()
    __match_args__ = ()  # the field names, in order (each return type's own)
    n_fields = n_sequence_fields = n_unnamed_fields = 0

    def __new__(cls, sequence, dict=None):  # noqa: A002 (the struct sequence's parameter name)
        try:
            values = tuple(sequence)
        except TypeError:
            raise TypeError("constructor requires a sequence") from None
        if len(values) != cls.n_fields:
            raise TypeError(f"{__name__}.{cls.__name__}() takes a {cls.n_fields}-sequence ({len(values)}-sequence given)")
        return super().__new__(cls, values)

    def __getnewargs__(self):
        """What pickle and copy give ``__new__`` back: the one sequence."""
        return (tuple(self),)

    def __repr__(self):
        fields = ",\n".join(f"{field}={value!r}" for field, value in zip(self.__match_args__, self))
        return f"{__name__}.{type(self).__name__}(\n{fields})"


def return_type(name, fields):
    """The return type ``chainrule.return_types.<name>`` with ``fields``, made once per name."""
    made = globals().get(name)
    if made is None:
        namespace = {"__slots__": (), "__module__": __name__, "__match_args__": tuple(fields), "n_fields": len(fields),
                     "n_sequence_fields": len(fields)}
        namespace.update({field: property(itemgetter(index), doc=f"Alias for field number {index}") for index, field in enumerate(fields)})
        made = globals()[name] = type(name, (StructSequence,), namespace)
    return made
