"""Helpers around modules and training loops, as ``torch.nn.utils``: gradient clipping, flat
parameter vectors, padded and packed sequences (``rnn``), weight and spectral normalization (the
old hooks here, the parametrizations in ``parametrizations``), ``parametrize``, ``prune``, folding batch norm
into the layer before it, convolution weights' memory format, ``skip_init``, and ``stateless.functional_call``."""
from chainrule.nn.utils import parametrizations, parametrize, prune, rnn, stateless
from chainrule.nn.utils.clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from chainrule.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from chainrule.nn.utils.fusion import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights
from chainrule.nn.utils.init import skip_init
from chainrule.nn.utils.memory_format import convert_conv2d_weight_memory_format, convert_conv3d_weight_memory_format
from chainrule.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from chainrule.nn.utils.weight_norm import remove_weight_norm, weight_norm

__all__ = [
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "convert_conv2d_weight_memory_format",
    "convert_conv3d_weight_memory_format",
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
    "get_total_norm",
    "parameters_to_vector",
    "parametrizations",
    "parametrize",
    "remove_spectral_norm",
    "remove_weight_norm",
    "rnn",
    "skip_init",
    "spectral_norm",
    "stateless",
    "vector_to_parameters",
    "weight_norm",
]
