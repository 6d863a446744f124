"""Folding an evaluation-mode batch norm into the layer before it, as ``torch.nn.utils.fusion``.

In evaluation, batch norm is a fixed affine map of each channel c,

    y = γ_c (x - μ_c) / √(σ²_c + ε) + β_c        (μ, σ² the running statistics)

so after a convolution or linear layer x = W z + b it can be folded into that layer's weights:

    W' = W · s_c (each output channel's weights scaled),  b' = (b - μ_c) · s_c + β_c,
    s_c = γ_c / √(σ²_c + ε)

One layer then computes what the two did: the usual step before deploying a trained network.
"""
import copy

from chainrule.creation import ones_like, zeros_like
from chainrule.nn.parameter import Parameter


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """(W', b') as Parameters (see the module docstring). The output channels are W's dimension 0,
    or 1 with ``transpose`` (a transposed convolution's weight is (in, out, ...)). A missing conv
    bias is 0, a missing γ 1 and β 0."""
    weight_dtype = conv_w.dtype
    bias_dtype = conv_b.dtype if conv_b is not None else weight_dtype
    conv_b = zeros_like(bn_rm) if conv_b is None else conv_b
    bn_w = ones_like(bn_rm) if bn_w is None else bn_w
    bn_b = zeros_like(bn_rm) if bn_b is None else bn_b
    inverse_std = (bn_rv + bn_eps).rsqrt()
    channel_shape = [1, -1] if transpose else [-1, 1]
    channel_shape += [1] * (conv_w.ndim - 2)
    fused_w = (conv_w * (bn_w * inverse_std).reshape(channel_shape)).to(weight_dtype)
    fused_b = ((conv_b - bn_rm) * inverse_std * bn_w + bn_b).to(bias_dtype)
    return Parameter(fused_w.detach(), conv_w.requires_grad), Parameter(fused_b.detach(), conv_b.requires_grad)


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """(W', b') for a linear layer (out_features, in_features) followed by a batch norm."""
    return fuse_conv_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)


def _fused_copy(layer, bn, transpose=False):
    """A copy of ``layer`` whose weight and bias include ``bn`` (both must be in eval mode)."""
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("Fusion needs the batch norm's running statistics (track_running_stats=True)")
    fused = copy.deepcopy(layer)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias, transpose
    )
    return fused


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A convolution that computes ``bn(conv(x))`` of the two evaluation-mode layers."""
    return _fused_copy(conv, bn, transpose)


def fuse_linear_bn_eval(linear, bn):
    """A Linear that computes ``bn(linear(x))`` of the two evaluation-mode layers; ``bn`` has
    ``out_features`` channels, or one that applies to all."""
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, "
            f"got linear.out_features={linear.out_features} and bn.num_features={bn.num_features}"
        )
    return _fused_copy(linear, bn)
