"""``chainrule.return_types``, as ``torch.return_types``: the named tuples operations return
(``values, indices = x.max(dim=1)``), printed as PyTorch prints them::

    chainrule.return_types.max(
    values=tensor([3., 2.]),
    indices=tensor([1, 0]))
"""
from collections import namedtuple


def return_type(name, fields):
    """The named tuple ``chainrule.return_types.<name>`` with ``fields``, made once per name."""
    made = globals().get(name)
    if made is None:
        made = type(name, (namedtuple(name, fields),), {"__slots__": (), "__module__": __name__, "__repr__": _repr})
        globals()[name] = made
    return made


def _repr(self):
    fields = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
    return f"{__name__}.{type(self).__name__}(\n{fields})"
