"""Upsample: enlarge feature maps by nearest or (bi)linear interpolation (``F.interpolate``)."""
from chainrule.nn import functional as F
from chainrule.nn.module import Module


class Upsample(Module):
    """(N, C, L) or (N, C, H, W) resized to ``size`` or by ``scale_factor``; ``mode`` 'nearest',
    'linear' or 'bilinear'."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners, self.recompute_scale_factor)

    def extra_repr(self):
        shown = f"scale_factor={self.scale_factor}" if self.scale_factor is not None else f"size={self.size}"
        return f"{shown}, mode={self.mode!r}"
