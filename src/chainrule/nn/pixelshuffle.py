"""PixelShuffle and PixelUnshuffle: trade channels for resolution and back (sub-pixel convolution)."""
from chainrule.nn import functional as F
from chainrule.nn.module import Module


class PixelShuffle(Module):
    """(*, C · r², H, W) -> (*, C, H · r, W · r), r = ``upscale_factor``: each group of r² channels
    becomes an r x r block of pixels (see ``functional.pixel_shuffle``)."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H · r, W · r) -> (*, C · r², H, W), r = ``downscale_factor``: the inverse of PixelShuffle."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
