"""How a tensor's elements lie in memory, as PyTorch names it: ``chainrule.strided`` (the one
layout a chainrule tensor has: a NumPy array) and the memory formats that ``clone``, ``to``,
``contiguous`` and the ``*_like`` factories take (``torch.preserve_format``...).

chainrule's tensors are always row-major once made, so every format gives the same result: the
names are accepted so that code written for PyTorch (``zeros_like(p, memory_format=
torch.preserve_format)`` in an optimizer) runs unchanged.
"""


class _Named:
    """A constant of PyTorch's: prints as ``chainrule.NAME`` and pickles as itself."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"chainrule.{self._name}"

    def __reduce__(self):
        return self._name


class layout(_Named):  # noqa: N801 (PyTorch's name)
    """A tensor layout: ``chainrule.strided`` for dense tensors."""


class memory_format(_Named):  # noqa: N801 (PyTorch's name)
    """A memory format: ``chainrule.contiguous_format``, ``preserve_format``, ``channels_last``, ``channels_last_3d``."""


strided = layout("strided")
sparse_coo = layout("sparse_coo")
contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
