"""An image tensor's dtype and what full intensity means in it: 1.0 for floats, the largest value
for integers (255 for uint8). ``convert_image_dtype`` moves an image between dtypes keeping what
its values mean (uint8 255 <-> float 1.0)."""
import chainrule


def max_value(dtype):
    """The value that means full intensity in ``dtype``: the largest integer, or 1 for floats."""
    if dtype.is_floating_point or dtype == chainrule.bool:
        return 1
    return chainrule.iinfo(dtype).max


def convert_image_dtype(image, dtype=chainrule.float32):
    """A tensor image converted to ``dtype`` with its values rescaled: integers to floats divide by
    the integer maximum (uint8 255 -> 1.0); floats to integers multiply by max + 1 - 0.001 and
    truncate; integers to integers shift by the ratio of their ranges."""
    if not isinstance(image, chainrule.Tensor):
        raise TypeError("Input img should be Tensor Image")
    if image.dtype == dtype:
        return image
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype == chainrule.float32 and dtype in (chainrule.int32, chainrule.int64)) or (
            image.dtype == chainrule.float64 and dtype == chainrule.int64
        ):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed safely.")
        # max + 1 - eps maps equal slices of [0, 1] to each integer; only exactly 1.0 gives max
        eps = 1e-3
        return image.mul(float(max_value(dtype)) + 1.0 - eps).to(dtype)
    input_max = float(max_value(image.dtype))
    if dtype.is_floating_point:
        return image.to(dtype) / input_max
    output_max = float(max_value(dtype))
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return chainrule.div(image, factor, rounding_mode="floor").to(dtype)
    factor = int((output_max + 1) // (input_max + 1))
    return image.to(dtype) * factor
