"""Padding layers: a border of zeros around each feature map."""
from chainrule.nn import functional as F
from chainrule.nn.module import Module


class ZeroPad2d(Module):
    """Zeros around the last two dimensions: (N, C, H, W) -> (N, C, H + top + bottom, W + left + right).

    ``padding`` is an int (all four sides) or (left, right, top, bottom); negative amounts crop.
    """

    def __init__(self, padding):
        super().__init__()
        self.padding = (padding,) * 4 if isinstance(padding, int) else tuple(padding)
        if len(self.padding) != 4:
            raise ValueError(f"ZeroPad2d: padding must be an int or 4 ints (left, right, top, bottom), got {padding!r}")

    def forward(self, input):
        return F.pad(input, self.padding, "constant", 0.0)

    def extra_repr(self):
        return f"{self.padding}"
