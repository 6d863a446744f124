"""PixelShuffle and PixelUnshuffle: channels traded for resolution and back, each one operation.

- ``PixelShuffle`` (r = upscale_factor): (*, C · r², H, W) -> (*, C, H · r, W · r). Channel
  c · r² + i · r + j becomes pixel (i, j) of each r x r block of output channel c.
- ``PixelUnshuffle`` (r = downscale_factor): (*, C, H · r, W · r) -> (*, C · r², H, W), its inverse.

No value changes, so each backward is the other's rearrangement of the gradient. The result is new
memory, as PyTorch's, even where nothing moves (r = 1). The nodes are PixelShuffleBackward0 and
PixelUnshuffleBackward0, as PyTorch's.
"""
from chainrule.backend import xp
from chainrule.memory_layout import CHANNELS_LAST_OF_ANY_INPUT
from chainrule.ops.op import Op


class PixelShuffle(Op):
    keeps_layout = CHANNELS_LAST_OF_ANY_INPUT
    formula = "channel c·r² + i·r + j of x as pixel (i, j) of each r×r block of channel c"
    derivatives = ("grad with each r×r block put back into r² channels (pixel_unshuffle of grad)", None)

    @staticmethod
    def forward(ctx, x, upscale_factor):
        ctx.factor = upscale_factor
        return in_new_memory(pixels_from_channels(xp, x, upscale_factor), x)

    @staticmethod
    def backward(ctx, grad_output):
        return channels_from_pixels(ctx.xp, grad_output, ctx.factor), None


class PixelUnshuffle(Op):
    keeps_layout = CHANNELS_LAST_OF_ANY_INPUT
    formula = "pixel (i, j) of each r×r block of channel c of x as channel c·r² + i·r + j"
    derivatives = ("grad with each group of r² channels put back as r×r blocks (pixel_shuffle of grad)", None)

    @staticmethod
    def forward(ctx, x, downscale_factor):
        ctx.factor = downscale_factor
        return in_new_memory(channels_from_pixels(xp, x, downscale_factor), x)

    @staticmethod
    def backward(ctx, grad_output):
        return pixels_from_channels(ctx.xp, grad_output, ctx.factor), None


def pixels_from_channels(functions, values, r):
    """(*, C · r², H, W) -> (*, C, H · r, W · r): the channels as (*, C, r, r, H, W), the two r axes
    moved after H and after W, (*, C, H, r, W, r), read as (*, C, H · r, W · r). ``functions``: the
    array library, or chainrule's functions for tensors (a recorded backward)."""
    *batch, channels, height, width = values.shape
    b = len(batch)
    blocks = values.reshape((*batch, channels // (r * r), r, r, height, width))
    moved = functions.moveaxis(blocks, (b + 1, b + 2), (b + 2, b + 4))
    return moved.reshape((*batch, channels // (r * r), height * r, width * r))


def channels_from_pixels(functions, values, r):
    """(*, C, H · r, W · r) -> (*, C · r², H, W): the inverse of ``pixels_from_channels``."""
    *batch, channels, height, width = values.shape
    b = len(batch)
    blocks = values.reshape((*batch, channels, height // r, r, width // r, r))
    moved = functions.moveaxis(blocks, (b + 2, b + 4), (b + 1, b + 2))
    return moved.reshape((*batch, channels * r * r, height // r, width // r))


def in_new_memory(result, x):
    """``result`` itself, or its copy where it is a view of x's memory: NumPy reshapes without
    copying where no element changes place (r = 1, or blocks of single pixels)."""
    return result.copy() if xp.shares_memory(result, x) else result
