"""Padding layers: a border around the last 1, 2 or 3 dimensions, filled with a constant
(``ConstantPad*d``, ``ZeroPad*d``) or with the input's own values: mirrored about the edge
(``ReflectionPad*d``), the edge repeated (``ReplicationPad*d``) or wrapped around (``CircularPad*d``).

``padding`` is an int (every side) or (before, after) pairs from the last dimension backwards:
(left, right) for 1d, (left, right, top, bottom) for 2d, (..., front, back) for 3d. Each layer calls
``functional.pad``.
"""
from chainrule.nn import functional as F
from chainrule.nn.module import Module


class _PadNd(Module):
    """Pad the last ``dims`` dimensions by ``padding`` in ``mode``: (*, S) -> (*, S + before + after)."""

    dims = 1
    mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = (padding,) * (2 * self.dims) if isinstance(padding, int) else tuple(padding)

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Pad with the constant ``value``; negative amounts crop."""

    def __init__(self, padding, value):
        super().__init__(padding)
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


class _ZeroPadNd(_ConstantPadNd):
    """Pad with zeros; negative amounts crop."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd, ConstantPad1d):
    """Zeros around the last dimension: (N, C, W) -> (N, C, W + left + right)."""


class ZeroPad2d(_ZeroPadNd, ConstantPad2d):
    """Zeros around the last two dimensions: (N, C, H, W) -> (N, C, H + top + bottom, W + left + right).

    ``padding`` is an int (all four sides) or (left, right, top, bottom); negative amounts crop.
    """


class ZeroPad3d(_ZeroPadNd, ConstantPad3d):
    """Zeros around the last three dimensions: (N, C, D, H, W), padding (left, right, top, bottom, front, back)."""


class ReflectionPad1d(_PadNd):
    """The input mirrored about its edges (the edge not repeated): ``a b c`` padded by 2 is ``c b a b c b a``."""

    mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """Reflection padding of the last two dimensions (left, right, top, bottom)."""

    dims = 2


class ReflectionPad3d(ReflectionPad1d):
    """Reflection padding of the last three dimensions (left, right, top, bottom, front, back)."""

    dims = 3


class ReplicationPad1d(_PadNd):
    """The edge values repeated: ``a b c`` padded by 2 is ``a a a b c c c``."""

    mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """Replication padding of the last two dimensions (left, right, top, bottom)."""

    dims = 2


class ReplicationPad3d(ReplicationPad1d):
    """Replication padding of the last three dimensions (left, right, top, bottom, front, back)."""

    dims = 3


class CircularPad1d(_PadNd):
    """The input wrapped around (periodic): ``a b c`` padded by 2 is ``b c a b c a b``."""

    mode = "circular"

    def forward(self, input):
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"expected {self.dims + 1}D or {self.dims + 2}D input (got {input.ndim}D input)")
        return super().forward(input)


class CircularPad2d(CircularPad1d):
    """Circular padding of the last two dimensions (left, right, top, bottom)."""

    dims = 2


class CircularPad3d(CircularPad1d):
    """Circular padding of the last three dimensions (left, right, top, bottom, front, back)."""

    dims = 3
