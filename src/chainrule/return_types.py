"""``chainrule.return_types``, as ``torch.return_types``: the named tuples operations return
(``values, indices = x.max(dim=1)``), printed as PyTorch prints them::

    chainrule.return_types.max(
    values=tensor([3., 2.]),
    indices=tensor([1, 0]))

Like PyTorch's (CPython "struct sequences", as ``os.stat_result``), one is made from one sequence
of its fields, ``return_types.max((values, indices))``, and says how many fields it has
(``n_fields``); the fields are also named tuple ``_fields``.
"""
from collections import namedtuple


def return_type(name, fields):
    """The named tuple ``chainrule.return_types.<name>`` with ``fields``, made once per name."""
    made = globals().get(name)
    if made is None:
        namespace = {
            "__slots__": (), "__module__": __name__, "__new__": _new, "__repr__": _repr, "__getnewargs__": _newargs,
            "n_fields": len(fields), "n_sequence_fields": len(fields), "n_unnamed_fields": 0,
        }
        made = type(name, (namedtuple(name, fields),), namespace)
        globals()[name] = made
    return made


def _new(cls, sequence, dict=None):  # noqa: A002 (the struct sequence's parameter name)
    """``cls(sequence)``: the fields in order, one sequence of exactly ``n_fields`` items."""
    try:
        values = tuple(sequence)
    except TypeError:
        raise TypeError("constructor requires a sequence") from None
    if len(values) != cls.n_fields:
        raise TypeError(f"{__name__}.{cls.__name__}() takes a {cls.n_fields}-sequence ({len(values)}-sequence given)")
    return tuple.__new__(cls, values)


def _newargs(self):
    """What pickle and copy give ``__new__`` back: the one sequence."""
    return (tuple(self),)


def _repr(self):
    fields = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
    return f"{__name__}.{type(self).__name__}(\n{fields})"
