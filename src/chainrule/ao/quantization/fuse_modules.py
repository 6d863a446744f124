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
from chainrule.ao.nn import intrinsic as nni
from chainrule.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval


def fuse_known_modules(modules, is_qat=False, additional_fuser_method_mapping=None):
    """The fused module of ``modules`` (a list of 2 or 3), followed by Identity for each other one."""
    types = tuple(type(each) for each in modules)
    fuser = (additional_fuser_method_mapping or {}).get(types) or FUSERS.get(types)
    if fuser is None:
        raise NotImplementedError(f"Cannot fuse modules: {types}")
    fused = fuser(is_qat, *modules)
    return [fused] + [nn.Identity() for _ in modules[1:]]


#: For each convolution: its fused classes with a ReLU, a batch norm, and both.
CONV_RELU = {nn.Conv1d: nni.ConvReLU1d, nn.Conv2d: nni.ConvReLU2d, nn.Conv3d: nni.ConvReLU3d}
CONV_BN = {nn.Conv1d: nni.ConvBn1d, nn.Conv2d: nni.ConvBn2d, nn.Conv3d: nni.ConvBn3d}
CONV_BN_RELU = {nn.Conv1d: nni.ConvBnReLU1d, nn.Conv2d: nni.ConvBnReLU2d, nn.Conv3d: nni.ConvBnReLU3d}
BATCH_NORMS = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}


def _same_mode(*modules):
    if len({each.training for each in modules}) != 1:
        names = ", ".join(type(each).__name__ for each in modules)
        raise AssertionError(f"Conv and BN both must be in the same mode (train or eval). ({names}: call .train() or .eval() on all)")


def _foldable_in_training(layer, bn):
    """PyTorch's checks before keeping a batch norm to fold during training."""
    channels = getattr(layer, "out_channels", getattr(layer, "out_features", None))
    if bn.num_features != channels:
        raise AssertionError(f"Output channel of {type(layer).__name__} must match num_features of {type(bn).__name__} ({channels} != {bn.num_features})")
    if not bn.affine:
        raise AssertionError(f"Only support fusing {type(bn).__name__} with affine set to True")
    if not bn.track_running_stats:
        raise AssertionError(f"Only support fusing {type(bn).__name__} with tracking_running_stats set to True")


def _conv_bn(is_qat, conv, bn):
    _same_mode(conv, bn)
    if is_qat:
        _foldable_in_training(conv, bn)
        return CONV_BN[type(conv)](conv, bn)
    return fuse_conv_bn_eval(conv, bn)


def _conv_bn_relu(is_qat, conv, bn, relu):
    _same_mode(conv, bn, relu)
    if is_qat:
        _foldable_in_training(conv, bn)
        return CONV_BN_RELU[type(conv)](conv, bn, relu)
    return CONV_RELU[type(conv)](fuse_conv_bn_eval(conv, bn), relu)


def _linear_bn(is_qat, linear, bn):
    _same_mode(linear, bn)
    if is_qat:
        _foldable_in_training(linear, bn)
        return nni.LinearBn1d(linear, bn)
    return fuse_linear_bn_eval(linear, bn)


def _conv_transpose_bn(is_qat, conv_transpose, bn):
    if is_qat:
        raise Exception("Fusing ConvTranspose+BatchNorm not yet supported in QAT. (fuse it with fuse_modules, in eval mode)")
    return fuse_conv_bn_eval(conv_transpose, bn, transpose=True)


def _joined(fused_class):
    """The fuser that joins the modules as ``fused_class``, in either mode."""
    return lambda is_qat, *modules: fused_class(*modules)


FUSERS = {
    **{(conv, BATCH_NORMS[conv.spatial]): _conv_bn for conv in CONV_BN},
    **{(conv, BATCH_NORMS[conv.spatial], nn.ReLU): _conv_bn_relu for conv in CONV_BN},
    **{(conv, nn.ReLU): _joined(fused) for conv, fused in CONV_RELU.items()},
    (nn.Linear, nn.BatchNorm1d): _linear_bn,
    (nn.Linear, nn.ReLU): _joined(nni.LinearReLU),
    (nn.BatchNorm2d, nn.ReLU): _joined(nni.BNReLU2d),
    (nn.BatchNorm3d, nn.ReLU): _joined(nni.BNReLU3d),
    **{(conv_transpose, BATCH_NORMS[conv_transpose.spatial]): _conv_transpose_bn
       for conv_transpose in (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)},
}


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
