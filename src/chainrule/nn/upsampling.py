"""Upsample: resize feature maps in any of ``F.interpolate``'s modes (nearest, nearest-exact, linear,
bilinear, bicubic, trilinear, area), and
PyTorch's older fixed-mode layers UpsamplingNearest2d and UpsamplingBilinear2d."""
from chainrule.nn import functional as F
from chainrule.nn.module import Module


class Upsample(Module):
    """(N, C, L), (N, C, H, W) or (N, C, D, H, W) resized to ``size`` or by ``scale_factor``
    (a number, or a tuple of one per spatial dimension, kept as floats: anything else goes through
    ``float()``, as in PyTorch, so a list is a TypeError); ``mode`` 'nearest', 'nearest-exact',
    'linear', 'bilinear', 'bicubic', 'trilinear' or 'area', as ``F.interpolate``. ('lanczos' needs
    ``F.interpolate(..., antialias=True)``, which this layer does not pass, as in PyTorch.)"""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners, self.recompute_scale_factor)

    def extra_repr(self):
        shown = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{shown}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of (N, C, H, W) to ``size`` or by ``scale_factor``:
    ``Upsample(size, scale_factor, mode='nearest')``, PyTorch's older name for it."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of (N, C, H, W) with the corners aligned:
    ``Upsample(size, scale_factor, mode='bilinear', align_corners=True)``, PyTorch's older name for it."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
