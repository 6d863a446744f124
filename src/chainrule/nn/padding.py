"""Padding layers: a border around the last 1, 2 or 3 dimensions, filled with a constant
(``ConstantPad*d``, ``ZeroPad*d``) or with the input's own values: mirrored about the edge
(``ReflectionPad*d``), the edge repeated (``ReplicationPad*d``) or wrapped around (``CircularPad*d``).

``padding`` is an int (every side) or (before, after) pairs from the last dimension backwards:
(left, right) for 1d, (left, right, top, bottom) for 2d, (..., front, back) for 3d. Each layer calls
``functional.pad``. The classes are arranged as PyTorch's: one private base per mode
(``_ConstantPadNd``, ``_ReflectionPadNd``, ...) with its 1d, 2d and 3d layers side by side, so a
ReflectionPad2d is not a ReflectionPad1d (``isinstance`` agrees with PyTorch).
"""
from chainrule.nn import functional as F
from chainrule.nn.module import Module


def _per_side(padding, dims):
    """``padding`` as (before, after) amounts for the last ``dims`` dimensions: an int is every side."""
    return (padding,) * (2 * dims) if isinstance(padding, int) else tuple(padding)


# The __init__ and extra_repr the padding bases share: PyTorch derives each base from Module (so
# they share no base here either), hence functions, and Module named rather than super().
def _store_padding(self, padding):
    Module.__init__(self)
    self.padding = _per_side(padding, self.dims)


def _show_padding(self):
    return f"{self.padding}"


class _ConstantPadNd(Module):
    """Pad the last ``dims`` dimensions with the constant ``value``; negative amounts crop."""

    dims = 1

    def __init__(self, padding, value):
        _store_padding(self, padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """``value`` around the last dimension: (N, C, W) -> (N, C, W + left + right)."""


class ConstantPad2d(_ConstantPadNd):
    """``value`` around the last two dimensions: (N, C, H, W) -> (N, C, H + top + bottom, W + left + right)."""

    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """``value`` around the last three dimensions: (N, C, D, H, W), padding (left, right, top, bottom, front, back)."""

    dims = 3


def _zero_pad_init(self, padding):
    _ConstantPadNd.__init__(self, padding, 0.0)


class ZeroPad1d(ConstantPad1d):
    """Zeros around the last dimension: (N, C, W) -> (N, C, W + left + right); negative amounts crop."""

    __init__ = _zero_pad_init
    extra_repr = _show_padding


class ZeroPad2d(ConstantPad2d):
    """Zeros around the last two dimensions: (N, C, H, W) -> (N, C, H + top + bottom, W + left + right).

    ``padding`` is an int (all four sides) or (left, right, top, bottom); negative amounts crop.
    """

    __init__ = _zero_pad_init
    extra_repr = _show_padding


class ZeroPad3d(ConstantPad3d):
    """Zeros around the last three dimensions: (N, C, D, H, W), padding (left, right, top, bottom, front, back)."""

    __init__ = _zero_pad_init
    extra_repr = _show_padding


class _ReflectionPadNd(Module):
    """The input mirrored about its edges (the edge not repeated): ``a b c`` padded by 2 is ``c b a b c b a``."""

    dims = 1
    __init__ = _store_padding
    extra_repr = _show_padding

    def forward(self, input):
        return F.pad(input, self.padding, "reflect")


class ReflectionPad1d(_ReflectionPadNd):
    """Reflection padding of the last dimension (left, right): (N, C, W) -> (N, C, W + left + right)."""


class ReflectionPad2d(_ReflectionPadNd):
    """Reflection padding of the last two dimensions (left, right, top, bottom)."""

    dims = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Reflection padding of the last three dimensions (left, right, top, bottom, front, back)."""

    dims = 3


class _ReplicationPadNd(Module):
    """The edge values repeated: ``a b c`` padded by 2 is ``a a a b c c c``."""

    dims = 1
    __init__ = _store_padding
    extra_repr = _show_padding

    def forward(self, input):
        return F.pad(input, self.padding, "replicate")


class ReplicationPad1d(_ReplicationPadNd):
    """Replication padding of the last dimension (left, right): (N, C, W) -> (N, C, W + left + right)."""


class ReplicationPad2d(_ReplicationPadNd):
    """Replication padding of the last two dimensions (left, right, top, bottom)."""

    dims = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Replication padding of the last three dimensions (left, right, top, bottom, front, back)."""

    dims = 3


class _CircularPadNd(Module):
    """The input wrapped around (periodic): ``a b c`` padded by 2 is ``b c a b c a b``."""

    dims = 1
    __init__ = _store_padding
    extra_repr = _show_padding

    def _check_input_dim(self, input):
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"expected {self.dims + 1}D or {self.dims + 2}D input (got {input.ndim}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Circular padding of the last dimension (left, right): (N, C, W) -> (N, C, W + left + right)."""


class CircularPad2d(_CircularPadNd):
    """Circular padding of the last two dimensions (left, right, top, bottom)."""

    dims = 2


class CircularPad3d(_CircularPadNd):
    """Circular padding of the last three dimensions (left, right, top, bottom, front, back)."""

    dims = 3
