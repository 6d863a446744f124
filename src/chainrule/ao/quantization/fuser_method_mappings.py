"""The fuser methods: for a sequence of module types (``(nn.Conv2d, nn.BatchNorm2d, nn.ReLU)``),
the function ``fuser(is_qat, *modules)`` that joins such modules into one (``fuse_modules`` calls
them through ``get_fuser_method``). In evaluation a batch norm is folded into the layer before it;
for quantization-aware training it is kept as a part of the fused module.
"""
import chainrule.nn as nn
from chainrule.ao.nn import intrinsic as nni
from chainrule.ao.quantization.utils import get_combined_dict
from chainrule.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

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


def _fused_class(classes, modules, mode):
    fused_class = classes.get(type(modules[0]))
    if fused_class is None:
        raise NotImplementedError(f"Cannot fuse {mode} modules: {tuple(modules)} (the first must be a Conv1d, Conv2d or Conv3d)")
    return fused_class


def fuse_conv_bn(is_qat, conv, bn):
    """``conv`` (Conv1d/2d/3d) and the batch norm after it as one: ``ConvBn{n}d`` for QAT, else the
    convolution with the batch norm folded into its weight and bias."""
    _same_mode(conv, bn)
    if is_qat:
        _foldable_in_training(conv, bn)
        return _fused_class(CONV_BN, (conv, bn), "train")(conv, bn)
    return fuse_conv_bn_eval(conv, bn)


def fuse_conv_bn_relu(is_qat, conv, bn, relu):
    """``conv``, batch norm and ReLU as one: ``ConvBnReLU{n}d`` for QAT, else ``ConvReLU{n}d`` of the
    convolution with the batch norm folded in."""
    _same_mode(conv, bn, relu)
    if is_qat:
        _foldable_in_training(conv, bn)
        return _fused_class(CONV_BN_RELU, (conv, bn, relu), "train")(conv, bn, relu)
    return _fused_class(CONV_RELU, (conv, bn, relu), "eval")(fuse_conv_bn_eval(conv, bn), relu)


def fuse_linear_bn(is_qat, linear, bn):
    """``linear`` and the BatchNorm1d after it: ``LinearBn1d`` for QAT, else the folded Linear."""
    _same_mode(linear, bn)
    if is_qat:
        _foldable_in_training(linear, bn)
        return nni.LinearBn1d(linear, bn)
    return fuse_linear_bn_eval(linear, bn)


def fuse_convtranspose_bn(is_qat, convt, bn):
    """A transposed convolution with the batch norm after it folded in (evaluation only)."""
    _same_mode(convt, bn)
    if is_qat:
        raise Exception("Fusing ConvTranspose+BatchNorm not yet supported in QAT. (fuse it with fuse_modules, in eval mode)")
    return fuse_conv_bn_eval(convt, bn, transpose=True)


def _joined(fused_class):
    """The fuser that joins the modules as ``fused_class``, in either mode."""
    return lambda is_qat, *modules: fused_class(*modules)


DEFAULT_OP_LIST_TO_FUSER_METHOD = {
    **{(conv, BATCH_NORMS[conv.spatial]): fuse_conv_bn for conv in CONV_BN},
    **{(conv, BATCH_NORMS[conv.spatial], nn.ReLU): fuse_conv_bn_relu for conv in CONV_BN},
    **{(conv, nn.ReLU): _joined(fused) for conv, fused in CONV_RELU.items()},
    (nn.Linear, nn.BatchNorm1d): fuse_linear_bn,
    (nn.Linear, nn.ReLU): _joined(nni.LinearReLU),
    (nn.BatchNorm2d, nn.ReLU): _joined(nni.BNReLU2d),
    (nn.BatchNorm3d, nn.ReLU): _joined(nni.BNReLU3d),
    **{(conv_transpose, BATCH_NORMS[conv_transpose.spatial]): fuse_convtranspose_bn
       for conv_transpose in (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)},
}



def get_fuser_method(op_list, additional_fuser_method_mapping=None):
    """The fuser of the module types ``op_list`` (a tuple), looked up in ``additional_fuser_method_mapping``
    first, then in the defaults."""
    fuser = get_combined_dict(DEFAULT_OP_LIST_TO_FUSER_METHOD, additional_fuser_method_mapping or {}).get(op_list)
    if fuser is None:
        raise AssertionError(f"did not find fuser method for: {op_list} (give it in additional_fuser_method_mapping)")
    return fuser
