# Source: timm/layers/create_act.py (https://github.com/huggingface/pytorch-image-models): get_act_layer and
# create_act_layer, with _ACT_LAYER_DEFAULT cut to the names the timm_* scripts use (no memory-efficient
# _ACT_LAYER_ME variants are registered by default; the export/script flags are False).
from typing import Callable, Optional, Type, Union

from torch import nn as nn

from .activations import GELU, Sigmoid

LayerType = Union[str, Callable, Type[nn.Module]]

_ACT_LAYER_DEFAULT = dict(
    relu=nn.ReLU,
    gelu=GELU,
    sigmoid=Sigmoid,
    identity=nn.Identity,
)


def get_act_layer(name: Optional[LayerType] = 'relu'):
    """ Activation Layer Factory
    Fetching activation layers by name with this function allows export or torch script friendly
    functions to be returned dynamically based on current config.
    """
    if name is None:
        return None
    if not isinstance(name, str):
        # callable, module, etc
        return name
    if not name:
        return None
    name = name.lower()
    return _ACT_LAYER_DEFAULT[name]


def create_act_layer(
        name: Optional[LayerType],
        inplace: Optional[bool] = None,
        **kwargs
):
    act_layer = get_act_layer(name)
    if act_layer is None:
        return None
    if inplace is None:
        return act_layer(**kwargs)
    try:
        return act_layer(inplace=inplace, **kwargs)
    except TypeError:
        # recover if act layer doesn't have inplace arg
        return act_layer(**kwargs)
