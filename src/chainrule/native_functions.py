"""The top-level forms PyTorch also gives ``nn.functional``'s operations (``torch.dropout``,
``torch.batch_norm``, ``torch.kl_div``...), with their own argument orders: the weight first in
``embedding``, ``training`` required in ``dropout``, a loss's reduction as a number (0 'none',
1 'mean', 2 'sum'). Each calls the ``nn.functional`` operation, so the two compute alike.
"""
import warnings

from chainrule import creation, dtypes
from chainrule.autograd import no_grad
from chainrule.nn import functional as F
from chainrule.nn import rnn
from chainrule.nn._reduction import NUMBERS as _REDUCTION_NUMBERS
from chainrule.ops.reduce import norm
from chainrule.ops.registry import with_out
from chainrule.overrides import make_overridable
from chainrule.tensor import Tensor

_REDUCTIONS = {number: name for name, number in _REDUCTION_NUMBERS.items()}  # at::Reduction, as the top-level losses take it


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
    """Whole channels (dim 1) zeroed with probability p, whatever the number of dims after them
    (``dropout2d`` without its warnings about them)."""
    return F._drop(input, p, train, False, F._feature_noise_shape(input, batched=True))


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


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """``(layer_norm(input), mean, rstd)``: the statistics of each sample over its last
    ``len(normalized_shape)`` dims, kept as size 1 (``rstd`` = 1 / sqrt(biased variance + eps)),
    as constants, as PyTorch's kernel returns them for its backward."""
    output = F.layer_norm(input, normalized_shape, weight, bias, eps)
    axes = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    with no_grad():
        return (output, *_mean_and_rstd(input, axes, eps))


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """``(batch_norm(input), save_mean, save_invstd)``: in training the batch's per-channel mean and
    1 / sqrt(biased variance + eps), shape (C,), as constants (the running statistics, if given,
    move as in ``batch_norm``); in evaluation two empty tensors, as PyTorch's kernel returns."""
    output = F._batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    with no_grad():
        if not training:
            return output, input.new_empty(0), input.new_empty(0)
        axes = (0, *range(2, input.ndim))
        return (output, *(statistic.reshape(-1) for statistic in _mean_and_rstd(input, axes, eps)))


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """``(group_norm(input), mean, rstd)`` with each sample's group statistics, shape (N, group),
    differentiable (as PyTorch's are); ``N``, ``C``, ``HxW`` repeat the input's sizes."""
    if input.numel() != N * C * HxW:
        raise RuntimeError(f"Expected input to have {N * C * HxW} elements (N={N}, C={C}, HxW={HxW}), got input of shape {tuple(input.shape)}")
    output = F.group_norm(input, group, weight, bias, eps)
    mean, rstd = _mean_and_rstd(input.reshape(N, group, -1), (2,), eps)
    return output, mean.reshape(N, group), rstd.reshape(N, group)


def _mean_and_rstd(input, axes, eps):
    """The mean of ``input`` over ``axes`` and 1 / sqrt(its biased variance + eps), dims kept."""
    mean = input.mean(axes, keepdim=True)
    return mean, (input.var(axes, correction=0, keepdim=True) + eps).rsqrt()


def native_dropout(input, p, train):
    """``(output, mask)``: ``dropout(input, p)`` with the boolean mask of the elements kept, drawn
    as ``dropout`` draws it; with ``train`` False (not None) a copy of the input and a mask of True."""
    if train is not None and not train:
        return input.clone(), creation.ones(input.shape, dtype=dtypes.bool_)
    scaled_keep = F._scaled_keep_mask(input, p, tuple(input.shape))
    return input * scaled_keep, scaled_keep != 0


def alpha_dropout_(input, p, train):
    return F.alpha_dropout(input, p, train, inplace=True)


def feature_dropout_(input, p, train):
    return F._drop(input, p, train, True, F._feature_noise_shape(input, batched=True))


def feature_alpha_dropout_(input, p, train):
    return F.feature_alpha_dropout(input, p, train, inplace=True)


def embedding_renorm_(weight, indices, max_norm, norm_type):
    """Scale, in place, each row of ``weight`` that ``indices`` reads and whose ``norm_type``-norm
    exceeds ``max_norm`` down to that norm (what ``embedding(max_norm=...)`` does first)."""
    F._renormalize_rows(weight, indices, max_norm, norm_type)
    return weight


def gcd_(input, other):
    return input.gcd_(other)


def lcm_(input, other):
    return input.lcm_(other)


def as_strided_(input, size, stride, storage_offset=None):
    return input.as_strided_(size, stride, storage_offset)


def conj_physical_(input):
    return input.conj_physical_()


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0, zero_infinity=False):
    """``F.ctc_loss``, its reduction a number: without one, each sample's loss (0, 'none'), as
    PyTorch's ``torch.ctc_loss`` gives (``F.ctc_loss``'s default is 'mean')."""
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, _reduction(reduction), zero_infinity)


_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")  # grid_sampler's numbers for grid_sample's modes
_PADDINGS = ("zeros", "border", "reflection")


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """``F.grid_sample`` with its modes as ATen's numbers: interpolation 0 bilinear, 1 nearest,
    2 bicubic; padding 0 zeros, 1 border, 2 reflection."""
    return F.grid_sample(input, grid, _INTERPOLATIONS[interpolation_mode], _PADDINGS[padding_mode], align_corners)


def affine_grid_generator(theta, size, align_corners):
    return F.affine_grid(theta, list(size), align_corners)


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


# ----------------------------------------------------------------------------- recurrent networks as functions
def _grouped_weights(params, has_biases, num_layers, bidirectional, projected, name):
    """``params`` (PyTorch's flat list: W_ih, W_hh[, b_ih, b_hh][, W_hr] for each layer and
    direction) as one (W_ih, W_hh, b_ih, b_hh, W_hr) per layer and direction, None where absent."""
    each = 2 + 2 * bool(has_biases) + bool(projected)
    groups = num_layers * (2 if bidirectional else 1)
    if len(params) != each * groups:
        raise RuntimeError(
            f"{name}: expected {each * groups} weights ({each} per layer and direction: W_ih, W_hh"
            f"{', b_ih, b_hh' if has_biases else ''}{', W_hr' if projected else ''}), got {len(params)}"
        )
    weights = []
    for start in range(0, len(params), each):
        group = list(params[start : start + each])
        weight_ih, weight_hh = group[:2]
        bias_ih, bias_hh = group[2:4] if has_biases else (None, None)
        weights.append((weight_ih, weight_hh, bias_ih, bias_hh, group[-1] if projected else None))
    return weights


def _recurrent(mode, input, second, *rest):
    """``torch.lstm``/``gru``/``rnn_tanh``/``rnn_relu`` in either of PyTorch's forms: over a padded
    input, ``(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)``,
    or over a packed one, ``(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train,
    bidirectional)``. Returns (output, h_n) and, for LSTM, (output, h_n, c_n)."""
    packed = isinstance(second, Tensor) and second.ndim == 1 and isinstance(input, Tensor) and input.ndim == 2 and len(rest) == 7
    if packed:
        batch_sizes, (hx, params, has_biases, num_layers, dropout, train, bidirectional) = second.tolist(), rest
        batch_first = False
    else:
        hx, (params, has_biases, num_layers, dropout, train, bidirectional, batch_first) = second, rest
    name = mode.lower()
    if mode == "LSTM":
        if len(hx) != 2:
            raise RuntimeError("lstm expects two hidden states")
        initial = tuple(hx)
    else:
        initial = (hx,)
    projected = mode == "LSTM" and initial[0].shape[-1] != initial[1].shape[-1]  # h of size proj_size, c of hidden_size
    weights = _grouped_weights(params, has_biases, num_layers, bidirectional, projected, name)
    if not packed:
        if input.ndim != 3:
            raise RuntimeError(f"{name}: input must have 3 dimensions (L, N, features), or (N, L, features) with batch_first, got {input.ndim}")
        input = input.transpose(0, 1) if batch_first else input
        batch_sizes = [input.shape[1]] * input.shape[0]
    output, final = rnn.run_layers(mode, input, batch_sizes, initial, weights, num_layers, dropout, train, packed)
    if batch_first and not packed:
        output = output.transpose(0, 1)
    return (output, *final)


def lstm(input, hx, *args):
    """An LSTM over a sequence, as ``nn.LSTM`` runs it, from its flat list of weights (see ``_recurrent``)."""
    return _recurrent("LSTM", input, hx, *args)


def gru(input, hx, *args):
    """A GRU over a sequence, as ``nn.GRU`` runs it, from its flat list of weights (see ``_recurrent``)."""
    return _recurrent("GRU", input, hx, *args)


def rnn_tanh(input, hx, *args):
    """An Elman RNN with tanh over a sequence, from its flat list of weights (see ``_recurrent``)."""
    return _recurrent("RNN_TANH", input, hx, *args)


def rnn_relu(input, hx, *args):
    """An Elman RNN with ReLU over a sequence, from its flat list of weights (see ``_recurrent``)."""
    return _recurrent("RNN_RELU", input, hx, *args)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: (h, c) -> (h', c') for input (N, input_size) (see ``nn.LSTMCell``)."""
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    return rnn.step("LSTM", F.linear(input, w_ih, b_ih), tuple(hx), w_hh, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step: h -> h' (see ``nn.GRUCell``)."""
    return rnn.step("GRU", F.linear(input, w_ih, b_ih), (hx,), w_hh, b_hh)[0]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (see ``nn.RNNCell``)."""
    return rnn.step("RNN_TANH", F.linear(input, w_ih, b_ih), (hx,), w_hh, b_hh)[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step h' = relu(W_ih x + b_ih + W_hh h + b_hh) (see ``nn.RNNCell``)."""
    return rnn.step("RNN_RELU", F.linear(input, w_ih, b_ih), (hx,), w_hh, b_hh)[0]


grid_sampler_2d = grid_sampler_3d = grid_sampler
pixel_shuffle = F.pixel_shuffle
pixel_unshuffle = F.pixel_unshuffle
channel_shuffle = native_channel_shuffle = F.channel_shuffle
bilinear = F.bilinear

__all__ = [name for name in dict(globals()) if not name.startswith("_") and name not in ("F", "rnn", "norm", "Tensor", "warnings", "make_overridable", "creation", "dtypes", "no_grad")]
make_overridable(globals(), __all__, "chainrule")  # __torch_function__ (overrides.py)
