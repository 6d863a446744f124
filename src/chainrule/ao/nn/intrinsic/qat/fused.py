"""Fused layers for quantization-aware training, ``torch.ao.nn.intrinsic.qat``'s: a QAT
convolution or Linear (weight fake-quantized) with what was fused with it. ``ConvReLU1d/2d/3d``
and ``LinearReLU`` apply the ReLU to its output; ``ConvBn1d/2d/3d``, ``ConvBnReLU1d/2d/3d`` and
``LinearBn1d`` train the batch norm folded into the weight (``batch_norm_folding``), as they will
be once quantized."""
import chainrule
from chainrule.ao.nn.intrinsic import fused as nni
from chainrule.ao.nn.intrinsic.qat.batch_norm_folding import FoldsBatchNorm
from chainrule.ao.nn.qat import modules as nnqat
from chainrule.nn import functional as F
from chainrule.nn.utils.fusion import fuse_conv_bn_weights, fuse_linear_bn_weights


class WithReLU:
    """Mixin: the layer's output through ReLU."""

    def forward(self, input):
        return F.relu(super().forward(input))


class ConvReLU1d(WithReLU, nnqat.Conv1d):
    """QAT Conv1d then ReLU."""

    _FLOAT_MODULE = _FUSED_FLOAT_MODULE = nni.ConvReLU1d


class ConvReLU2d(WithReLU, nnqat.Conv2d):
    """QAT Conv2d then ReLU."""

    _FLOAT_MODULE = _FUSED_FLOAT_MODULE = nni.ConvReLU2d


class ConvReLU3d(WithReLU, nnqat.Conv3d):
    """QAT Conv3d then ReLU."""

    _FLOAT_MODULE = _FUSED_FLOAT_MODULE = nni.ConvReLU3d


class LinearReLU(WithReLU, nnqat.Linear):
    """QAT Linear then ReLU."""

    _FLOAT_MODULE = _FUSED_FLOAT_MODULE = nni.LinearReLU


class ConvBatchNorm(FoldsBatchNorm, nnqat.FakeQuantizedConvolution):
    """A QAT convolution with its batch norm folded in: ``input (N, C_in, *spatial) ->
    (N, C_out, *spatial_out)``. ``BATCH_NORM`` is the batch norm class of its dimensions."""

    FOLD = staticmethod(fuse_conv_bn_weights)
    BATCH_NORM = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=None,
                 padding_mode="zeros", eps=1e-05, momentum=0.1, freeze_bn=False, qconfig=None):
        self._FLOAT_LAYER.__init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, False, padding_mode)
        self._add_batch_norm(qconfig, self.BATCH_NORM, out_channels, bias, eps, momentum, freeze_bn)

    def forward(self, input):
        return self.folded_forward(input, self.convolve)


class ConvBn1d(ConvBatchNorm, chainrule.nn.Conv1d):
    """QAT Conv1d with BatchNorm1d folded in."""

    _FLOAT_MODULE, _FLOAT_LAYER, BATCH_NORM = nni.ConvBn1d, chainrule.nn.Conv1d, chainrule.nn.BatchNorm1d


class ConvBn2d(ConvBatchNorm, chainrule.nn.Conv2d):
    """QAT Conv2d with BatchNorm2d folded in."""

    _FLOAT_MODULE, _FLOAT_LAYER, BATCH_NORM = nni.ConvBn2d, chainrule.nn.Conv2d, chainrule.nn.BatchNorm2d


class ConvBn3d(ConvBatchNorm, chainrule.nn.Conv3d):
    """QAT Conv3d with BatchNorm3d folded in."""

    _FLOAT_MODULE, _FLOAT_LAYER, BATCH_NORM = nni.ConvBn3d, chainrule.nn.Conv3d, chainrule.nn.BatchNorm3d


class ConvBnReLU1d(WithReLU, ConvBn1d):
    """QAT Conv1d with BatchNorm1d folded in, then ReLU."""

    _FLOAT_MODULE, _FUSED_FLOAT_MODULE = nni.ConvBnReLU1d, nni.ConvReLU1d


class ConvBnReLU2d(WithReLU, ConvBn2d):
    """QAT Conv2d with BatchNorm2d folded in, then ReLU."""

    _FLOAT_MODULE, _FUSED_FLOAT_MODULE = nni.ConvBnReLU2d, nni.ConvReLU2d


class ConvBnReLU3d(WithReLU, ConvBn3d):
    """QAT Conv3d with BatchNorm3d folded in, then ReLU."""

    _FLOAT_MODULE, _FUSED_FLOAT_MODULE = nni.ConvBnReLU3d, nni.ConvReLU3d


class LinearBn1d(FoldsBatchNorm, nnqat.FakeQuantizedWeight, chainrule.nn.Linear):
    """QAT Linear with BatchNorm1d folded in: ``input (N, in_features) -> (N, out_features)``."""

    FOLD = staticmethod(fuse_linear_bn_weights)
    _FLOAT_MODULE, _FLOAT_LAYER = nni.LinearBn1d, chainrule.nn.Linear

    def __init__(self, in_features, out_features, bias=True, eps=1e-05, momentum=0.1, freeze_bn=False, qconfig=None):
        chainrule.nn.Linear.__init__(self, in_features, out_features, bias)
        self._add_batch_norm(qconfig, chainrule.nn.BatchNorm1d, out_features, bias, eps, momentum, freeze_bn)

    def forward(self, input):
        return self.folded_forward(input, F.linear)


def update_bn_stats(mod):
    """``model.apply(update_bn_stats)``: the batch norms folded into convolutions update their statistics again."""
    if isinstance(mod, ConvBatchNorm):
        mod.update_bn_stats()


def freeze_bn_stats(mod):
    """``model.apply(freeze_bn_stats)``: the batch norms folded into convolutions use their running statistics."""
    if isinstance(mod, ConvBatchNorm):
        mod.freeze_bn_stats()
