"""An image tensor as the (N, C, H, W) float batch that ``grid_sample``, ``conv2d`` and
``interpolate`` take, and the result back in the image's own shape and dtype: what torchvision's
tensor paths do around each of those calls (its ``_cast_squeeze_in`` / ``_cast_squeeze_out``).

Any leading dimensions are folded into the batch, so an image (C, H, W), a batch (N, C, H, W) and a
video (T, N, C, H, W) all work; an image (H, W) is one channel.
"""
import chainrule


def image_channels(img):
    """The number of channels of an image tensor (..., C, H, W); 1 for (H, W)."""
    return 1 if img.ndim == 2 else img.shape[-3]


def as_float_batch(img, dtype):
    """(batch, restore): ``img`` (..., C, H, W) as a batch (N, C, H, W) of ``dtype``, and the
    function that turns a result (N, C, H', W') back into (..., C, H', W') of ``img``'s dtype, an
    integer dtype rounding to the nearest value first (as a cast alone would truncate)."""
    leading = img.shape[:-3] if img.ndim >= 3 else ()
    batch = img.reshape(-1, image_channels(img), img.shape[-2], img.shape[-1])
    if batch.dtype != dtype:
        batch = batch.to(dtype)

    def restore(result):
        height, width = result.shape[-2], result.shape[-1]
        result = result.reshape(*leading, image_channels(img), height, width) if img.ndim >= 3 else (
            result.reshape(height, width))
        if result.dtype == img.dtype:
            return result
        if not img.dtype.is_floating_point and img.dtype != chainrule.bool:
            result = chainrule.round(result)
        return result.to(img.dtype)

    return batch, restore


def working_dtype(img):
    """The dtype an image is computed in: its own when floating point, else float32."""
    return img.dtype if img.dtype.is_floating_point else chainrule.float32
