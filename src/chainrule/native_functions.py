"""The top-level forms PyTorch also gives ``nn.functional``'s operations (``torch.dropout``,
``torch.batch_norm``, ``torch.kl_div``...), with their own argument orders: the weight first in
``embedding``, ``training`` required in ``dropout``, a loss's reduction as a number (0 'none',
1 'mean', 2 'sum'). Each calls the ``nn.functional`` operation, so the two compute alike.
"""
import warnings

from chainrule.nn import functional as F
from chainrule.ops.reduce import norm
from chainrule.ops.registry import with_out
from chainrule.overrides import make_overridable
from chainrule.tensor import Tensor

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}  # at::Reduction, as the top-level losses take it


def _reduction(value):
    if value not in _REDUCTIONS:
        raise RuntimeError(f"reduction must be 0 (none), 1 (mean) or 2 (sum), got {value!r}")
    return _REDUCTIONS[value]


def dropout(input, p, train):
    return F.dropout(input, p, train)


def dropout_(input, p, train):
    return F.dropout(input, p, train, inplace=True)


def alpha_dropout(input, p, train):
    return F.alpha_dropout(input, p, train)


def feature_dropout(input, p, train):
    """Whole channels (dim 1) zeroed with probability p, as ``dropout2d`` does for images."""
    return F.dropout2d(input, p, train)


def feature_alpha_dropout(input, p, train):
    return F.feature_alpha_dropout(input, p, train)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True):
    return F._batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    return F.rms_norm(input, normalized_shape, weight, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return F.group_norm(input, num_groups, weight, bias, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled=True):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``F.embedding(indices, weight)``; a negative ``padding_idx`` means none, as in ATen."""
    return F.embedding(indices, weight, None if padding_idx < 0 else padding_idx, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(reduction), pos_weight=pos_weight)


def kl_div(input, target, reduction=1, *, log_target=False):
    """F.kl_div; 'mean' (1) averages over every element, without the warning F.kl_div gives for it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="reduction: 'mean' divides", category=UserWarning)
        return F.kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    return F.cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, reduction=1):
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=_reduction(reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction))


def rsub(input, other, *, alpha=1):
    """other - alpha * input (``input`` subtracted from ``other``)."""
    return other - (input if alpha == 1 else input * alpha)


def detach(input):
    return input.detach()


def detach_(input):
    """``input.detach_()``: ``input`` cut off from the graph in place (a leaf that requires no grad)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"detach_(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input.detach_()


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``F.max_pool1d`` with ``return_indices``: (output, indices); an empty ``stride`` is the kernel size."""
    return F.max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)


@with_out
def frobenius_norm(input, dim=(-2, -1), keepdim=False):
    return norm(input, "fro", dim, keepdim)


@with_out
def nuclear_norm(input, dim=(-2, -1), keepdim=False):
    """The sum of the singular values of the matrices in the two dims ``dim`` (``keepdim`` may come second)."""
    if isinstance(dim, bool):  # nuclear_norm(input, keepdim)
        dim, keepdim = (-2, -1), dim
    return norm(input, "nuc", dim, keepdim)


pixel_shuffle = F.pixel_shuffle
pixel_unshuffle = F.pixel_unshuffle
channel_shuffle = native_channel_shuffle = F.channel_shuffle
bilinear = F.bilinear

__all__ = [name for name in dict(globals()) if not name.startswith("_") and name not in ("F", "norm", "Tensor", "warnings", "make_overridable")]
make_overridable(globals(), __all__, "chainrule")  # __torch_function__ (overrides.py)
