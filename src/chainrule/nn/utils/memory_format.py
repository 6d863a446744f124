"""The weights of a network's convolutions laid out in another memory format, as
``torch.nn.utils.memory_format``: ``convert_conv2d_weight_memory_format(model, torch.channels_last)``
before training a model whose inputs are channels-last, so that each convolution's weight matches."""
from chainrule.nn.conv import Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d

_CONVOLUTIONS = {"2d": (Conv2d, ConvTranspose2d), "3d": (Conv3d, ConvTranspose3d)}


def _converted(module, memory_format, kinds):
    if isinstance(module, _CONVOLUTIONS[kinds]):
        module.weight.data = module.weight.detach().clone(memory_format=memory_format)
    for child in module.children():
        _converted(child, memory_format, kinds)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """``module`` with the weight of every Conv2d and ConvTranspose2d in it (itself included) laid
    out in ``memory_format`` (``channels_last``: the channels of a pixel side by side)."""
    return _converted(module, memory_format, "2d")


def convert_conv3d_weight_memory_format(module, memory_format):
    """``module`` with the weight of every Conv3d and ConvTranspose3d in it laid out in
    ``memory_format`` (``channels_last_3d``)."""
    return _converted(module, memory_format, "3d")
