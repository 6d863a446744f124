"""fuse_modules: join a layer with the batch norm and ReLU after it, so that they quantize as one.

In evaluation mode (``fuse_modules``) a batch norm is folded into the convolution before it (its
affine map is absorbed into the weight and bias: ``nn.utils.fusion.fuse_conv_bn_eval``, which
refuses layers in training mode; a transposed convolution's too), and a ReLU joins the layer as a
fused module (``ConvReLU1d/2d/3d``, ``LinearReLU``; ``BNReLU2d`` for a batch norm that follows no
convolution); in training mode (``fuse_modules_qat``) the batch norm is kept as a part
(``ConvBnReLU2d``, ``LinearBn1d``), which quantization-aware training folds into the weight.
The first listed module's place takes the fused one; the others become ``Identity``.
"""
import copy

import chainrule.nn as nn
from chainrule.ao.quantization.fuser_method_mappings import get_fuser_method


def fuse_known_modules(modules, is_qat=False, additional_fuser_method_mapping=None):
    """The fused module of ``modules`` (a list of 2 or 3), followed by Identity for each other one."""
    fuser = get_fuser_method(tuple(type(each) for each in modules), additional_fuser_method_mapping)
    fused = fuser(is_qat, *modules)
    return [fused] + [nn.Identity() for _ in modules[1:]]


def _get_module(model, name):
    for part in name.split("."):
        model = getattr(model, part)
    return model


def _set_module(model, name, module):
    *parents, last = name.split(".")
    for part in parents:
        model = getattr(model, part)
    setattr(model, last, module)


def _fuse(model, modules_to_fuse, inplace, fuser_func, is_qat, fuse_custom_config_dict):
    if not inplace:
        model = copy.deepcopy(model)
    groups = [modules_to_fuse] if all(isinstance(each, str) for each in modules_to_fuse) else modules_to_fuse
    extra = (fuse_custom_config_dict or {}).get("additional_fuser_method_mapping")
    for names in groups:
        modules = [_get_module(model, name) for name in names]
        for name, fused in zip(names, fuser_func(modules, is_qat, extra)):
            _set_module(model, name, fused)
    return model


def fuse_modules(model, modules_to_fuse, inplace=False, fuser_func=fuse_known_modules, fuse_custom_config_dict=None):
    """``model`` (a copy, unless ``inplace``, in eval mode) with each list of names in
    ``modules_to_fuse`` (``["conv", "bn", "relu"]``, or a list of such lists) fused."""
    return _fuse(model, modules_to_fuse, inplace, fuser_func, False, fuse_custom_config_dict)


def fuse_modules_qat(model, modules_to_fuse, inplace=False, fuser_func=fuse_known_modules, fuse_custom_config_dict=None):
    """``fuse_modules`` for quantization-aware training: batch norms kept as parts of the fused modules."""
    return _fuse(model, modules_to_fuse, inplace, fuser_func, True, fuse_custom_config_dict)
