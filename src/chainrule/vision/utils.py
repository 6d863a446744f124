"""torchvision's ``utils``: a batch of images laid out as one grid image, and saved to a file."""
import math

import chainrule
from chainrule.tensor import Tensor
from chainrule.vision.pillow import load_pillow


@chainrule.no_grad()
def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Images (B, C, H, W) (or a list of (C, H, W)) in one image (C, rows·(H+padding)+padding,
    nrow·(W+padding)+padding), ``nrow`` to a row, ``pad_value`` between them. One-channel images
    become three. ``normalize`` rescales to [0, 1] from ``value_range`` (default: the min and max of
    the batch, or of each image with ``scale_each``)."""
    if not isinstance(tensor, Tensor):
        if not isinstance(tensor, list):
            raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
        for item in tensor:
            if not isinstance(item, Tensor):
                raise TypeError(f"tensor or list of tensors expected, got a list containing {type(item)}")
        tensor = chainrule.stack(tensor, dim=0)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = chainrule.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = chainrule.cat((tensor, tensor, tensor), 1)
    if normalize is True:
        tensor = tensor.clone()
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")

        def scale_to_unit(img, low, high):
            img.clamp_(min=low, max=high)
            img.sub_(low).div_(max(high - low, 1e-5))

        def scale_range(img):
            low, high = value_range if value_range is not None else (float(img.min()), float(img.max()))
            scale_to_unit(img, low, high)

        if scale_each is True:
            for img in tensor:
                scale_range(img)
        else:
            scale_range(tensor)
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    count = tensor.size(0)
    columns = min(nrow, count)
    rows = int(math.ceil(float(count) / columns))
    height, width = int(tensor.size(2) + padding), int(tensor.size(3) + padding)
    grid = tensor.new_full((tensor.size(1), height * rows + padding, width * columns + padding), pad_value)
    for index in range(count):
        row, column = divmod(index, columns)
        grid.narrow(1, row * height + padding, height - padding).narrow(
            2, column * width + padding, width - padding
        ).copy_(tensor[index])
    return grid


@chainrule.no_grad()
def save_image(tensor, fp, format=None, **kwargs):
    """Saves ``make_grid(tensor, **kwargs)`` (values in [0, 1]) as an image file: each value
    x·255 + 0.5, clamped to [0, 255] and truncated, so rounded to the nearest byte. ``format`` is
    Pillow's ("PNG"...), read from ``fp``'s extension when None. Needs Pillow."""
    image_module = load_pillow("save_image")
    grid = make_grid(tensor, **kwargs)
    pixels = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(chainrule.uint8).numpy()
    image_module.fromarray(pixels).save(fp, format=format)
