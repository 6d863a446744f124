"""The operations of neural networks as functions, as ``torch.nn.functional`` (``import ... as F``).

Layers hold parameters and call these; the functions take everything as arguments. Each checks its
inputs the way PyTorch does (same exception types) and says what to change. The arithmetic lives in
``chainrule/ops/``: activations in ``activation.py``, the fused losses in ``loss.py``, batch and
layer norm in ``normalization.py``.
"""
import functools
import inspect
import math
import warnings

from chainrule import dtypes, legacy_types
from chainrule.memory_layout import dimension_order
from chainrule.caller_warnings import warn_at_caller
from chainrule.autograd import function as function_module
from chainrule.autograd.function import checked, computed_without_gradient, made_from_arguments, shaped_by_values
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import xp
from chainrule.nn import attention
from chainrule.nn.attention.bias import CausalBias
from chainrule.ops import activation, complex_numbers, index, margin_loss
from chainrule.ops.complex_refusals import REFUSED_ON_COMPLEX, complex_refused
from chainrule.ops.activation import gelu, sigmoid, softplus, tanh
from chainrule.ops.half_precision import for_input
from chainrule.ops.activation import (  # noqa: F401  (issue 10: the rest of PyTorch's activations)
    celu,
    celu_,
    elu_,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu_,
    logsigmoid,
    mish,
    prelu,
    relu6,
    relu_,
    rrelu,
    rrelu_,
    selu,
    selu_,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)
from chainrule.ops.elementwise import where
from chainrule.ops.conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, fold, unfold  # noqa: F401
from chainrule.ops.inplace import write_in_place
from chainrule.ops.dropout import DropoutMask
from chainrule.ops.embedding_bag import EmbeddingBag, EmbeddingBagMax
from chainrule.ops.loss import (
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    CrossEntropy,
    L1Loss,
    MseLoss,
    NllLoss,
    SmoothL1Loss,
    class_axis_of,
)
from chainrule.ops.matmul import linear
from chainrule.ops.normalization import (
    BatchNormalize,
    BatchStatistics,
    GroupNormalize,
    InstanceNormalize,
    LayerNormalize,
    UpdateRunning,
    apply_writing,
    check_parameter_dtypes,
    require_floating_input,
)
from chainrule.ops.padding import constant_pad_nd, pad_by_reading
from chainrule.ops.pixel_shuffle import PixelShuffle, PixelUnshuffle
from chainrule.ops.pool import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    fractional_max_pool2d,
    fractional_max_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
from chainrule.ops.upsample import interpolate  # noqa: F401
from chainrule.ops.grid import affine_grid, grid_sample  # noqa: F401
from chainrule.ops.ctc import ctc_loss  # noqa: F401
from chainrule.ops.distance import cosine_similarity, normalize, pairwise_distance, pdist  # noqa: F401
from chainrule.ops.loss import gaussian_nll_loss, huber_loss, kl_div, poisson_nll_loss  # noqa: F401
from chainrule.ops.loss import check_weight_dtype, not_implemented_for_integers, reduction_from, warn_if_broadcasting
from chainrule.ops.margin_loss import (  # noqa: F401
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from chainrule.creation import argument_type_name, as_integer, integer_argument, ones, zeros
from chainrule.ops.join import cat
from chainrule import sampling_algorithms
from chainrule.random import drawn
from chainrule.ops.operands import broadcast_failure, common_dtype
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.overrides import handle_torch_function, has_torch_function, has_torch_function_unary, has_torch_function_variadic  # noqa: F401
from chainrule.overrides import make_overridable
# PyTorch's private names that library code imports from nn.functional (attention and losses
# written after PyTorch's): see functional_internals.py
import chainrule._VF as _VF  # noqa: E402,F401
from chainrule.nn import _reduction as _Reduction  # noqa: F401
from chainrule.nn.functional_internals import (  # noqa: F401
    _check_key_padding_mask, _get_softmax_dim, _in_projection, _in_projection_packed, _none_or_dtype,
    _verify_batch_size, _verify_spatial_size,
)

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose2d",
    "conv_transpose1d",
    "conv_transpose3d",
    "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    "dropout2d",
    "fold",
    "interpolate",
    "affine_grid",
    "grid_sample",
    "ctc_loss",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "fractional_max_pool2d",
    "fractional_max_pool3d",
    "unfold",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "linear_cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "gelu",
    "layer_norm",
    "leaky_relu",
    "linear",
    "l1_loss",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "relu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
    "cosine_embedding_loss",
    "cosine_similarity",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "normalize",
    "pairwise_distance",
    "pdist",
    "poisson_nll_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "group_norm",
    "instance_norm",
    "rms_norm",
    "local_response_norm",
    "bilinear",
    "pixel_shuffle",
    "pixel_unshuffle",
]
__all__ += [  # issue 10: the rest of PyTorch's activations
    "celu", "celu_", "elu_", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh", "hardtanh_", "leaky_relu_",
    "logsigmoid", "mish", "prelu", "relu6", "relu_", "rrelu", "rrelu_", "selu", "selu_", "softmin", "softshrink",
    "softsign", "tanhshrink", "threshold", "threshold_",
]


# ----------------------------------------------------------------------------- activations
def _activate(operation, input, inplace, *args):
    """``operation(input, *args)``, written into ``input`` itself when ``inplace`` (saves memory)."""
    if inplace:
        return write_in_place(input, operation, *args)
    return operation(input, *args)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``torch.softmax`` with PyTorch's functional signature: its third argument is ``_stacklevel``
    (taken and unused), so that ``dtype`` comes by keyword, as PyTorch's F.softmax takes it. Without
    ``dim`` it warns and chooses one, as PyTorch's (``activation.implicit_softmax_dim``)."""
    if dim is None:
        dim = activation.implicit_softmax_dim("softmax", input.ndim)
    return activation.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``torch.log_softmax`` with PyTorch's functional signature (see ``softmax``)."""
    if dim is None:
        dim = activation.implicit_softmax_dim("log_softmax", input.ndim)
    return activation.log_softmax(input, dim, dtype=dtype)


def relu(input, inplace=False):
    """max(x, 0)."""
    return _activate(activation.relu, input, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise (``inplace``: ``leaky_relu_``, whose node keeps the result)."""
    return activation.leaky_relu_(input, negative_slope) if inplace else activation.leaky_relu(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha (e^x - 1) otherwise (``inplace``: ``elu_``, whose node keeps the result)."""
    return activation.elu_(input, alpha) if inplace else activation.elu(input, alpha)


def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish)."""
    return _activate(activation.silu, input, inplace)


# ----------------------------------------------------------------------------- dropout
# SELU's fixed point -λα: what alpha dropout sets a dropped unit to, before its affine correction.
SELU_SATURATION = 1.7580993408473766


def _check_probability(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _drop(input, p, training, inplace, noise_shape, alpha=False):
    """Zero (or, with ``alpha``, set to SELU's saturation value) the entries of a keep-mask of
    ``noise_shape``, broadcast over ``input``, each dropped with probability ``p``, then rescale so
    that the expected value (and with ``alpha`` the variance of SELU activations) is unchanged.

    plain:  x · keep / (1 - p)
    alpha:  a · (x · keep + α'(keep - 1)) + α' a p,   a = ((1 - p)(1 + p α'²))^(-1/2),  α' = SELU_SATURATION

    An integer or bool input is refused (RuntimeError, as PyTorch's) where it would be scaled,
    0 < p < 1; p = 1 zeroes it in its own dtype.
    """
    _check_probability(p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p != 1.0 and input._array.dtype.kind not in "fc":
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type {dtypes.scalar_type_name(input._array.dtype)} "
            f"(dropout in training scales the kept elements by 1 / (1 - p); convert the input first, e.g. x.float())"
        )
    scaled_keep = _scaled_keep_mask(input, p, noise_shape)
    if not alpha or p == 1.0:
        return input.mul_(scaled_keep) if inplace else input * scaled_keep
    a = 1.0 / math.sqrt((SELU_SATURATION**2 * p + 1) * (1 - p))
    keep = scaled_keep * (1.0 - p)
    multiplier, shift = keep * a, (keep - 1.0) * (SELU_SATURATION * a) + SELU_SATURATION * a * p
    return input.mul_(multiplier).add_(shift) if inplace else input * multiplier + shift


def _scaled_keep_mask(input, p, noise_shape):
    """keep / (1 - p) of ``noise_shape``, each element kept with probability 1 - p, drawn from the
    global generator in the input's memory order where it has the input's shape (PyTorch's
    ``empty_like(input).bernoulli_(1 - p)``), and laid out as the input."""
    order = dimension_order(input, None) if noise_shape == input._array.shape else None
    scaled_keep = DropoutMask.apply(noise_shape, input._array.dtype, p, order)
    scaled_keep._chosen_strides = order is not None
    return scaled_keep


def _feature_noise_shape(input, batched):
    """One keep-or-drop per (sample, channel): (N, C, 1, ..., 1), or (C, 1, ..., 1) unbatched."""
    if input.ndim < 2 - (not batched):
        raise RuntimeError(
            f"Feature dropout requires at least 2 dimensions in the input, got input of shape {tuple(input.shape)}"
        )
    kept = 2 if batched else 1
    return tuple(input.shape[:kept]) + (1,) * (input.ndim - kept)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) (inverted dropout).

    The scaling keeps every element's expected value unchanged, so nothing needs rescaling at
    evaluation, where (``training=False``) the input is returned as it is. The mask is drawn from
    the global generator (``manual_seed``).
    """
    return _drop(input, p, training, inplace, tuple(input.shape))


def _warn_feature_dimensions(name, input, spatial):
    expected = f"{spatial + 1}D or {spatial + 2}D"
    warn_at_caller(
        f"{name}: Received a {input.ndim}-D input to {name}, which is deprecated and will result in an error in a "
        f"future release. To retain the behavior and silence this warning, please use dropout instead. Note that "
        f"{name} exists to provide channel-wise dropout on inputs with {spatial} spatial dimensions, a channel "
        f"dimension, and an optional batch dimension (i.e. {expected} inputs).",
    )


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) (or (C, L)) input with probability ``p``, scaling the kept
    ones by 1 / (1 - p): each channel's sequence is kept or dropped as a whole."""
    _check_probability(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that dropout1d exists to "
            f"provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional "
            f"batch dimension (i.e. 2D or 3D inputs)."
        )
    return _drop(input, p, training, inplace, _feature_noise_shape(input, input.ndim == 3))


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels: each (sample, channel) plane of (N, C, H, W) is kept or dropped together,
    with probability ``p``, the kept ones scaled by 1 / (1 - p). Neighbouring pixels are strongly
    correlated, so dropping single ones would hardly regularize a conv layer. As PyTorch, a 3-D
    input is read as (N, C, L), with a warning.
    """
    _check_probability(p)
    if input.ndim not in (3, 4):
        _warn_feature_dimensions("dropout2d", input, 2)
    if input.ndim == 3:
        warn_at_caller(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
        )
    return _drop(input, p, training, inplace, _feature_noise_shape(input, True))


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) (or (C, D, H, W)) input with probability ``p``, scaling
    the kept ones by 1 / (1 - p): each channel's volume is kept or dropped as a whole."""
    _check_probability(p)
    if input.ndim not in (4, 5):
        _warn_feature_dimensions("dropout3d", input, 3)
    return _drop(input, p, training, inplace, _feature_noise_shape(input, input.ndim == 5))


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped elements are set to SELU's negative saturation value, then
    an affine map restores the mean 0 and variance 1 of the activations (``_drop``). Note that
    ``training`` defaults to False, as in PyTorch."""
    return _drop(input, p, training, inplace, tuple(input.shape), alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels of (N, C, *) input: each (sample, channel) is kept or set to
    SELU's saturation value together."""
    _check_probability(p)
    noise_shape = _feature_noise_shape(input, True) if training else None
    return _drop(input, p, training, inplace, noise_shape, alpha=True)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A differentiable sample of a categorical distribution with log-probabilities ``logits``:
    softmax((logits + g) / tau) along ``dim``, g drawn from Gumbel(0, 1) (-log of an Exp(1) draw).
    Low ``tau`` gives nearly one-hot samples. ``hard``: the one-hot of the sample's largest entry in
    the forward pass, with the soft sample's gradient (straight-through). ``logits`` is floating point
    (RuntimeError otherwise, unless empty, as PyTorch's: its Gumbel draws take the logits' dtype)."""
    if eps != 1e-10:
        warn_at_caller("`eps` parameter is deprecated and has no effect.")
    if logits._array.dtype.kind != "f" and logits.numel():  # an empty one draws nothing: PyTorch returns
        raise RuntimeError(
            f"Exponential distribution is a continuous probability distribution. dtype must be a floating point but "
            f"you specified {dtypes.scalar_type_name(logits._array.dtype)} (gumbel_softmax draws its Gumbel noise in "
            f"the dtype of logits; convert them first, e.g. logits.float())"
        )
    gumbels = drawn(_gumbel_draws, None, tuple(logits.shape), logits._array.dtype)
    soft = softmax((logits + tensor_from_array(gumbels)) / tau, dim)
    if not hard:
        return soft
    dim = dim % soft.ndim if soft.ndim else 0
    one_hot_sample = computed_without_gradient(_one_hot_of_largest, (soft,), {"dim": dim})
    return one_hot_sample - soft.detach() + soft


def _gumbel_draws(engine, shape, dtype):
    """Gumbel(0, 1) samples as PyTorch draws them, -empty_like(logits).exponential_().log(): drawn
    through ``random.drawn``, so that a compiled step draws them again on each call. In ``dtype``
    (an empty draw of an integer dtype stays integer, as PyTorch's)."""
    return (-xp.log(sampling_algorithms.exponential(engine, shape, 1.0, dtype))).astype(dtype, copy=False)


def _one_hot_of_largest(soft, dim):
    """1 at the largest entry of ``soft`` along ``dim`` (the first of equal ones), 0 elsewhere."""
    if not soft.ndim:
        return xp.ones_like(soft)
    largest = xp.argmax(soft, axis=dim, keepdims=True)
    positions = xp.arange(soft.shape[dim]).reshape([-1 if d == dim else 1 for d in range(soft.ndim)])
    return (positions == largest).astype(soft.dtype)


# ----------------------------------------------------------------------------- losses
_reduction = reduction_from  # one rule for every loss: ops/loss.py


def _target_like(input, target):
    """``target`` for an elementwise loss, warning (as PyTorch does) when its shape differs: a
    floating one as it is (the loss is computed in the promotion of the two dtypes, as PyTorch's:
    a float64 target makes a float32 input's loss float64), any other in the input's dtype."""
    warn_if_broadcasting(input, target)
    return target if target.is_floating_point() else target.to(input.dtype)


def _difference_loss(loss, input, target, reduction, operation, option):
    """``loss.apply(input, target, option, reduction)`` for a loss of input - target, computed in
    the promotion of the two dtypes; ``option`` is the loss's own (mse's and l1's weight, smooth_l1's
    beta). Integers alone are refused, as by PyTorch's kernels."""
    if not input.is_floating_point():
        if input._array.dtype.kind == "c" and operation in REFUSED_ON_COMPLEX:
            raise complex_refused(operation, input._array.dtype)
        if not (isinstance(target, Tensor) and target.is_floating_point()):
            raise not_implemented_for_integers(input, operation)
        input = input.to(target.dtype)  # as PyTorch promotes: int64 with float32 is float32, where NumPy chooses float64
    try:
        return loss.apply(input, _target_like(input, target), option, reduction)
    except ValueError as error:
        raise broadcast_failure(error, operation, (input, target)) from None


def _elementwise_weight(weight, input, operation):
    """mse's and l1's optional ``weight`` (the input's shape), a constant in the input's dtype."""
    if weight is None:
        return None
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(
            f"Weights and input must have the same size ({operation}: weight {tuple(weight.shape)}, input {tuple(input.shape)})."
        )
    return weight.detach().to(input.dtype)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error: (input - target)^2, reduced (weighted: 'mean' divides by sum(weight))."""
    reduction = _reduction(size_average, reduce, reduction)
    return _difference_loss(MseLoss, input, target, reduction, "mse_loss", _elementwise_weight(weight, input, "mse_loss"))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error: |input - target|, reduced (weighted: 'mean' divides by sum(weight)).
    PyTorch composes it of abs and mean (or sum): its node is named so."""
    reduction = _reduction(size_average, reduce, reduction)
    if weight is None and not input.is_floating_point() and isinstance(target, Tensor) and not target.is_floating_point():
        distances = (input - target).abs()  # integers, as PyTorch's abs and sum give them (their mean raises)
        return {"sum": distances.sum, "none": lambda: distances, "mean": distances.mean}[reduction]()
    shown = L1Loss.shown_as({"mean": "MeanBackward0", "sum": "SumBackward0", "none": "AbsBackward0"}[reduction])
    return _difference_loss(shown, input, target, reduction, "l1_loss", _elementwise_weight(weight, input, "l1_loss"))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Squared error below ``beta``, absolute error above (continuous at beta); beta=0 is L1
    (``l1_loss``, as PyTorch computes it then)."""
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta. (got beta={beta})")
    if beta == 0:
        return l1_loss(input, target, size_average, reduce, reduction)
    reduction = _reduction(size_average, reduce, reduction)
    return _difference_loss(SmoothL1Loss, input, target, reduction, "smooth_l1_loss", beta)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """ops/margin_loss.py's, with a target that does not broadcast against the input refused by
    PyTorch's RuntimeError (naming the target first, as PyTorch's message does)."""
    try:
        return margin_loss.multilabel_soft_margin_loss(input, target, weight, size_average, reduce, reduction)
    except ValueError as error:
        raise broadcast_failure(error, "multilabel_soft_margin_loss", (target, input)) from None


def _same_shape_target(input, target, message, same_dtype):
    """The probabilities ``target`` of a binary cross-entropy: of the input's shape, floating (PyTorch
    does not convert 0/1 integers), and of the input's dtype if ``same_dtype`` (binary_cross_entropy's
    kernel takes one dtype; with logits, the loss is computed in the promotion of the two)."""
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(message.format(target=target.shape, input=input.shape))
    if not target.is_floating_point() or (same_dtype and target._array.dtype != input._array.dtype):
        raise RuntimeError(
            f"Found dtype {dtypes.scalar_type_name(target._array.dtype)} but expected {dtypes.scalar_type_name(input._array.dtype)} "
            f"(the targets of a binary cross-entropy are probabilities: convert them with target.to(input.dtype))"
        )
    return target


def _optional_weight(weight, input, name, operation, position):
    """``weight`` (None or a tensor broadcasting against the input) in the input's dtype; anything
    else (a number, an array) refused as PyTorch refuses argument ``position`` of ``operation``."""
    if weight is None:
        return None
    if not isinstance(weight, Tensor):
        raise TypeError(
            f"{operation}(): argument '{name}' (position {position}) must be Tensor, not {dtypes.python_type_name(weight)} "
            f"(make it one: chainrule.tensor({name}))"
        )
    try:
        fits = xp.broadcast_shapes(weight._array.shape, input._array.shape) == input._array.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"{name} of shape {tuple(weight.shape)} must broadcast to the input's shape "
            f"{tuple(input.shape)} (it may not add dimensions or enlarge them)"
        )
    return weight.detach().to(input.dtype)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-[y log p + (1 - y) log(1 - p)] for probabilities p = ``input`` (apply sigmoid first).

    Prefer ``binary_cross_entropy_with_logits`` on the raw scores: it is stable where this one
    clamps (log p is floored at -100).
    """
    reduction = _reduction(size_average, reduce, reduction)
    target = _same_shape_target(
        input,
        target,
        "Using a target size ({target}) that is different to the input size ({input}) is deprecated. Please ensure they have the same size.",
        same_dtype=True,
    )
    # (checked on each call of a compiled step too: the probabilities are values)
    checked(computed_without_gradient(_probabilities_in_range, [input]), _probabilities_out_of_range, input)
    checked(computed_without_gradient(_probabilities_in_range, [target]), _targets_out_of_range, target)
    weight = _optional_weight(weight, input, "weight", "binary_cross_entropy", 3)
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


def _probabilities_in_range(values):
    """Where ``values`` lie in [0, 1] (nan does not)."""
    return (values >= 0) & (values <= 1)


def _outside_zero_one(name, what, advice, tensor):
    """PyTorch's error for binary_cross_entropy's argument ``name`` holding values outside [0, 1]."""
    values = tensor._array
    return RuntimeError(
        f"all elements of {name} should be between 0 and 1 (binary_cross_entropy got {what} in "
        f"[{values.min()}, {values.max()}]); {advice}"
    )


_probabilities_out_of_range = functools.partial(
    _outside_zero_one, "input", "values", "apply sigmoid first, or pass the raw scores to binary_cross_entropy_with_logits"
)
_targets_out_of_range = functools.partial(_outside_zero_one, "target", "targets", "scale the labels to probabilities, e.g. y / y.max()")


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    """Binary cross-entropy of sigmoid(input), computed from the logits stably.

    ``pos_weight`` weighs the positive class (shape: the number of classes, along the last dim).
    """
    reduction = _reduction(size_average, reduce, reduction)
    target = _same_shape_target(input, target, "Target size ({target}) must be the same as input size ({input})", same_dtype=False)
    if target.dtype != input.dtype:  # PyTorch's composition updates (1 - target) in place: the loss has the target's dtype
        input = input.to(target.dtype)
    weight = _optional_weight(weight, input, "weight", "binary_cross_entropy_with_logits", 3)
    pos_weight = _optional_weight(pos_weight, input, "pos_weight", "binary_cross_entropy_with_logits", 4)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


def _class_index_target(input, target, weight, operation):
    """Class-index ``target`` checked against ``input`` (N, C, d1, ...) or (C,), and ``weight``
    against both; a target (1,) for an input (C,) is taken as the () it stands for, as in PyTorch."""
    if input.ndim == 0:
        raise ValueError(f"{operation}: input must have a class dimension, got a 0-d tensor")
    input_shape = input._array.shape
    expected = () if len(input_shape) == 1 else (input_shape[0],) + input_shape[2:]
    if len(input_shape) == 1 and target.ndim == 1:
        if target.shape[0] != 1:
            raise ValueError(
                f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]} "
                f"({operation}: an unbatched input {list(input.shape)} takes one class index, as a 0-d tensor)"
            )
        target = target.reshape(())
    if target._array.shape != expected:
        if input.ndim > 1 and target.ndim >= 1 and target.shape[0] != input.shape[0]:
            raise ValueError(
                f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target.shape[0]})."
            )
        pytorch_words = (
            "0D or 1D target tensor expected, multi-target not supported" if len(input_shape) <= 2
            else f"Expected target size {list(expected)}, got {list(target.shape)}"
        )
        raise RuntimeError(
            f"{pytorch_words} ({operation}: expected target of shape {list(expected)} for input of shape "
            f"{list(input.shape)}, the input's shape without the class dimension, got {list(target.shape)})"
        )
    if target._array.dtype not in (xp.int64, xp.uint8):
        probabilities = "" if target.dtype.kind in "iu" else (
            f"; class-probability targets must have the input's shape {tuple(input.shape)}, got {tuple(target.shape)}"
        )
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {dtypes.scalar_type_name(target._array.dtype)} "
            f"({operation}: class indices must be int64, convert them with target.long(){probabilities})"
        )
    if not input.is_floating_point():
        raise not_implemented_for_integers(input, operation)
    check_weight_dtype(input, weight)
    _check_class_weight(input, weight)
    return target


def _check_class_weight(input, weight):
    """``weight`` None or one weight per class (C,)."""
    if weight is None:
        return
    classes = input.shape[class_axis_of(input)]
    if tuple(weight.shape) != (classes,):
        raise RuntimeError(
            f"weight tensor should be defined either for all {classes} classes or no classes but got "
            f"weight tensor of shape: {list(weight.shape)}"
        )


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
):
    """Cross-entropy between the logits ``input`` and ``target``; the softmax is part of the loss.

    ``input``: raw scores (N, C), (N, C, d1, ...) or (C,), not probabilities. ``target``: class
    indices (the input's shape without C; ``ignore_index`` marks samples to skip) or class
    probabilities (the input's shape). ``weight`` (C,) weighs the classes; 'mean' then divides by
    the total weight of the targets. ``label_smoothing`` mixes the target with the uniform
    distribution.
    """
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if not input.is_floating_point():  # PyTorch's cross_entropy starts with log_softmax over the class dimension
        raise not_implemented_for_integers(input, f"log_softmax{'_lastdim' * (input.ndim <= 2)}_kernel_impl", "cross_entropy")
    if target._array.shape == input._array.shape:  # class probabilities (PyTorch tells them by the shape alone)
        if target._array.dtype.kind != "f":
            raise RuntimeError(
                f"Expected floating point type for target with class probabilities, got "
                f"{dtypes.scalar_type_name(target._array.dtype)} (cross_entropy: a target of the input's shape holds "
                f"probabilities; class indices have the input's shape without the class dimension)"
            )
        if ignore_index != -100:
            raise RuntimeError("ignore_index is not supported for floating point target (cross_entropy with class probabilities)")
        _check_class_weight(input, weight)
        # PyTorch's formula -Σ input · target · weight: the loss in the promotion of the three dtypes
        dtype = common_dtype(input, target) if weight is None else common_dtype(input, target, weight)
        input, target = input.to(dtype), target.to(dtype)
    else:
        target = _class_index_target(input, target, weight, "cross_entropy")
    return CrossEntropy.shown_as(_cross_entropy_node(input, target, reduction, label_smoothing)).apply(
        input, target, weight, reduction, ignore_index, label_smoothing
    )


def _cross_entropy_node(input, target, reduction, label_smoothing):
    """The node PyTorch's cross_entropy ends in, whose name printing the loss shows: nll_loss's
    for class indices, the last step of its formula otherwise (the division of 'mean', the
    negation, the addition of the smoothing term)."""
    if target._array.dtype.kind == "f":
        return "DivBackward1" if reduction == "mean" else "NegBackward0"
    if label_smoothing > 0:
        return "AddBackward0"
    return _nll_node(input, reduction)


def _nll_node(input, reduction):
    """nll_loss's node: NllLoss2DBackward0 for inputs with spatial dimensions (N, C, d1, ...), whose
    unreduced losses PyTorch reshapes (ViewBackward0)."""
    if input.ndim < 3:
        return "NllLossBackward0"
    return "ViewBackward0" if reduction == "none" else "NllLoss2DBackward0"


def linear_cross_entropy(
    input,
    linear_weight,
    target,
    *,
    linear_bias=None,
    weight=None,
    reduction="mean",
    ignore_index=None,
    label_smoothing=0.0,
    options=None,
):
    """``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)``: the loss of a
    classifier head in one call. input (N, in_features) or (in_features,); linear_weight
    (C, in_features), or (C, d1, ..., dK, in_features) for a K-dimensional loss (batched input
    only), whose logits are (N, C, d1, ..., dK). ``ignore_index`` None means -100; it cannot be
    given with class-probability targets.

    ``options`` (a ``LinearCrossEntropyOptions``) selects PyTorch's chunked implementation, which
    only saves memory; chainrule always computes the reference form, so it is accepted and
    ignored (with PyTorch's warning where PyTorch itself would fall back to the reference form).
    """
    if input.ndim < 1 or input.ndim > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.ndim}")
    batches, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(
            "expected equal input and linear_weight last dimensions (in_features), "
            f"got {input.shape[-1]} and {linear_weight.shape[-1]}, respectively"
        )
    classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(classes, *out_features)}, got {tuple(linear_bias.shape)}")
    if out_features and not batches:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires batched input, "
            f"(N, {in_features}), got unbatched input with shape {tuple(input.shape)}"
        )
    logits_shape = (*batches, classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    if options is not None and (out_features or label_smoothing != 0.0 or target._array.dtype != xp.int64):
        warn_at_caller(
            "linear_cross_entropy: ``options`` ignored; chunked path needs reduction in {'mean','sum','none'}, "
            "label_smoothing == 0, target.dtype == int64, out_features == (). Got "
            f"reduction={reduction!r}, label_smoothing={label_smoothing}, target.dtype={target.dtype}, "
            f"out_features={out_features}, tracing=False, "
            f"linear_bias.shape={tuple(linear_bias.shape) if linear_bias is not None else None}.",
        )
    flat_outputs = math.prod(out_features) * classes
    if out_features:
        linear_weight = linear_weight.reshape(flat_outputs, in_features)
        linear_bias = linear_bias.reshape(flat_outputs) if linear_bias is not None else None
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(
        logits, target, weight=weight, reduction=reduction, ignore_index=ignore_index, label_smoothing=label_smoothing
    )


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood: -input[i, target[i]] for log-probabilities ``input`` (log_softmax output)."""
    reduction = _reduction(size_average, reduce, reduction)
    target = _class_index_target(input, target, weight, "nll_loss")
    return NllLoss.shown_as(_nll_node(input, reduction)).apply(input, target, weight, reduction, ignore_index)


# ----------------------------------------------------------------------------- normalization
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalize each channel (dim 1) of (N, C) or (N, C, L) input by its mean and variance.

    Training uses the batch's statistics and, when ``running_mean`` / ``running_var`` are given,
    updates them in place: running = (1 - momentum) * running + momentum * batch (the variance
    unbiased, n / (n - 1), as PyTorch). Evaluation uses the running statistics. The input is floating
    point, the parameters and running statistics of its dtype (or float32 for float16 input).
    """
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if training and (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps):
    """``batch_norm`` without the checks of its arguments PyTorch makes in Python only
    (``torch.batch_norm`` takes eps <= 0 and one running statistic)."""
    if input.ndim < 2:
        _refuse_input_without_channels(input, running_mean, running_var, weight, bias, training)
    channels = input.shape[1]
    axes = (0,) + tuple(range(2, input.ndim))
    view = (1, channels) + (1,) * (input.ndim - 2)
    count = input.numel() // max(channels, 1)
    if training and count == 0:  # an empty batch: an empty result and the running statistics untouched, as PyTorch's
        output = input + 0
        output = output if weight is None else output * weight.reshape(view)
        return output if bias is None else output + bias.reshape(view)
    if training and count == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {input.shape}; "
            f"use a batch of at least 2 samples, or call model.eval() to use the running statistics"
        )
    _check_per_channel(channels, 1, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    if input.numel():  # an empty one is returned as it is, whatever its dtype, as PyTorch's
        require_floating_input(input, "batch_norm", "batch_norm")
        check_parameter_dtypes(input, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    if training:
        return _normalize_by_own_statistics(input, weight, bias, eps, axes, view, running_mean, running_var, momentum)
    return _normalize_by_running_statistics(input, weight, bias, eps, view, running_mean, running_var, "batch_norm", "training=False")


def _refuse_input_without_channels(input, running_mean, running_var, weight, bias, training):
    """PyTorch's errors for batch norm of an input with no channel dimension (fewer than 2 dims): it
    counts 0 channels, so a per-channel tensor with elements has too many (RuntimeError); evaluation
    without running statistics is refused as always; otherwise dimension 1 is out of range (IndexError)."""
    _check_per_channel(0, 1, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    if not training:
        _require_running_statistics(running_mean, running_var, "batch_norm", "training=False")
    raise IndexError(
        f"Dimension out of range (expected to be in range of [-1, 0], but got 1) (batch_norm: expected input of "
        f"shape (N, C, ...) with the channels at dimension 1, got shape {tuple(input.shape)})"
    )


def _check_per_channel(channels, samples, **parameters):
    """PyTorch's check that each of ``parameters`` (running statistics, weight, bias: None or a
    tensor) has one element per channel. Instance norm normalizes the input as one sample of
    ``samples`` x ``channels`` channels, each parameter repeated ``samples`` times, and its message
    counts so."""
    for name, parameter in parameters.items():
        if parameter is not None and parameter.numel() != channels:
            raise RuntimeError(
                f"{name} should contain {samples * channels} elements not {samples * parameter.numel()} (one per "
                f"channel of the input, its dimension 1)"
            )


def _normalize_by_own_statistics(input, weight, bias, eps, axes, view, running_mean, running_var, momentum, normalize=BatchNormalize):
    """Normalize by the input's mean and variance over ``axes``, moving the running statistics (when
    given) towards them, averaged over the samples where the statistics are per sample (instance
    norm), the variance unbiased. ``normalize`` is the operation, named as PyTorch names its node."""
    mean, var = for_input(BatchStatistics, input, rounded=False).apply(input.detach(), axes)
    count = math.prod(input.shape[axis] for axis in axes)
    per_sample = 0 not in axes
    if running_mean is not None:
        _update_running(running_mean, mean.mean(axis=0) if per_sample else mean, momentum)
    if running_var is not None:
        unbiased = var * (count / (count - 1))
        _update_running(running_var, unbiased.mean(axis=0) if per_sample else unbiased, momentum)
    return for_input(normalize, input).apply(input, weight, bias, mean, var, eps, axes, view)


def _normalize_by_running_statistics(input, weight, bias, eps, view, running_mean, running_var, operation, when, normalize=BatchNormalize):
    """Normalize by the running statistics, fixed values through which no gradient flows."""
    _require_running_statistics(running_mean, running_var, operation, when)
    mean, var = running_mean._array.reshape(view), running_var._array.reshape(view)
    return for_input(normalize, input).apply(input, weight, bias, mean, var, eps, None, view)


def _require_running_statistics(running_mean, running_var, operation, when):
    """PyTorch's RuntimeError unless both running statistics are given (normalizing ``when``)."""
    if running_mean is None or running_var is None:
        raise RuntimeError(f"{operation}: running_mean and running_var must be given when {when}")


def _update_running(running, batch_value, momentum):
    """running <- (1 - momentum) running + momentum batch_value, in place, by an operation (so that
    a compiled step replays it)."""
    apply_writing(UpdateRunning, running, batch_value, momentum)


def _last_dimensions(input, normalized_shape, operation, star, **parameters):
    """``normalized_shape`` (a tuple or list of ints, as PyTorch's functions take it: TypeError for
    anything else, a plain int included) as a tuple, checked to be the input's last dimensions
    (PyTorch's message writes the expected shape [*, 4] for layer norm, [*4] for RMS norm: ``star``),
    after each of ``parameters`` (weight, bias: None or a tensor) is checked to have that shape."""
    normalized_shape = _tuple_of_ints(normalized_shape, operation, "normalized_shape", 2)
    for name, parameter in parameters.items():
        if parameter is not None and tuple(parameter.shape) != normalized_shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                f"{list(parameter.shape)} and normalized_shape = {list(normalized_shape)}"
            )
    count = len(normalized_shape)
    if count == 0 or input.ndim < count or tuple(input.shape[input.ndim - count :]) != normalized_shape:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[{star}{', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}"
        )
    return normalized_shape


def _tuple_of_ints(value, operation, argument, position):
    """``value``, a tuple or list of ints (or one-element integer tensors), as a tuple of ints, or
    PyTorch's TypeError naming ``operation``'s ``argument``."""
    if not isinstance(value, (tuple, list)):
        raise TypeError(
            f"{operation}(): argument '{argument}' (position {position}) must be tuple of ints, not "
            f"{argument_type_name(value)} (give a tuple, e.g. ({value},))"
        )
    sides = tuple(as_integer(side) for side in value)
    if None in sides:
        where_bad = sides.index(None)
        raise TypeError(
            f"{operation}(): argument '{argument}' (position {position}) must be tuple of ints, but found element "
            f"of type {argument_type_name(value[where_bad])} at pos {where_bad}"
        )
    return sides


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize each sample over its last dimensions (``normalized_shape``, a tuple or list of ints),
    then scale by ``weight`` and shift by ``bias`` (of that shape). The input is floating point."""
    normalized_shape = _last_dimensions(input, normalized_shape, "layer_norm", "*, ", weight=weight, bias=bias)
    check_parameter_dtypes(input, weight=weight, bias=bias)
    require_floating_input(input, "LayerNormKernelImpl", "layer_norm")
    axes = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    return for_input(LayerNormalize, input).apply(input, weight, bias, None, None, eps, axes, normalized_shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize each sample's channels in ``num_groups`` groups: (N, C, *) -> (N, C, *).

    The C channels are split into groups of C / num_groups; each group of each sample is
    standardized by its own mean and variance (over its channels and positions), then each channel
    scaled by ``weight`` (C,) and shifted by ``bias`` (C,). One group is layer norm over (C, *);
    C groups is instance norm. Independent of the batch, so the same in training and evaluation.
    The input is floating point; an empty one gives an empty result.
    """
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    per_group = input.shape[0] * input.shape[1] // num_groups * math.prod(input.shape[2:])
    if per_group == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size "
            f"{[input.shape[0] * input.shape[1] // num_groups, num_groups, *input.shape[2:]]}; each group needs "
            f"at least 2 values (more samples, channels per group or positions)"
        )
    if input.shape[1] % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(input.shape)} and num_groups={num_groups}"
        )
    channels = input.shape[1]
    for name, parameter in (("weight", weight), ("bias", bias)):
        if parameter is not None and tuple(parameter.shape) != (channels,):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in input, but got "
                f"{name} of shape {list(parameter.shape)} and input of shape {list(input.shape)}"
            )
    check_parameter_dtypes(input, weight=weight, bias=bias)
    require_floating_input(input, "GroupNormKernelImpl", "group_norm")
    grouping = (input.shape[0], num_groups, channels // num_groups, math.prod(input.shape[2:]))
    view = (num_groups, channels // num_groups, 1)
    return for_input(GroupNormalize, input).apply(input, weight, bias, None, None, eps, (2, 3), view, grouping)


def instance_norm(
    input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True, momentum=0.1, eps=1e-5
):
    """Normalize each channel of each sample over its positions: (N, C, *) -> (N, C, *).

    Each (sample, channel) map is standardized by its own mean and variance, then scaled by
    ``weight`` (C,) and shifted by ``bias`` (C,). Given running statistics, ``use_input_stats``
    moves them towards the batch's average of the instance statistics (the variance unbiased), as
    batch norm does; ``use_input_stats=False`` normalizes by the running statistics instead.
    """
    if use_input_stats and math.prod(input.shape[2:]) <= 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {input.shape}; instance "
            f"statistics need at least 2 positions per channel"
        )
    axes = tuple(range(2, input.ndim))
    view = (input.shape[1],) + (1,) * len(axes)
    normalize = InstanceNormalize
    _check_per_channel(input.shape[1], input.shape[0], running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    require_floating_input(input, "batch_norm", "instance_norm")
    check_parameter_dtypes(input, weight=weight, bias=bias)  # not the running statistics: any dtype, as PyTorch's
    if not use_input_stats:
        return _normalize_by_running_statistics(
            input, weight, bias, eps, view, running_mean, running_var, "instance_norm", "use_input_stats=False", normalize
        )
    return _normalize_by_own_statistics(input, weight, bias, eps, axes, view, running_mean, running_var, momentum, normalize)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / √(mean(x²) + eps) · weight, the mean over the last dimensions ``normalized_shape``.

    Layer norm without the centering and the shift (used by Llama-style transformers). ``eps``
    None is the machine epsilon of the dtype it computes in, as PyTorch's default (float16 is
    computed in float32, then rounded once).
    """
    normalized_shape = _last_dimensions(input, normalized_shape, "rms_norm", "*", weight=weight)
    require_floating_input(input, "rms_norm", "rms_norm")
    wide = input.float() if input.dtype == dtypes.float16 else input  # float16 in float32, as PyTorch computes it
    if eps is None:
        eps = float(xp.finfo(wide.dtype).eps)
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    output = wide * ((wide * wide).mean(dim=dims, keepdim=True) + eps).rsqrt()
    return (output if weight is None else output * weight).to(input.dtype)  # the input's dtype, as PyTorch's


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha · mean of x² over ``size`` neighbouring channels)^beta: (N, C, *) -> (N, C, *).

    The window of channel c runs from c - size // 2 to c + (size - 1) // 2 (zeros past the edges),
    the lateral inhibition of AlexNet.
    """
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if size < 1:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {size} kW: 1 (local_response_norm's size counts channels)")
    if input.numel() == 0:
        return input
    channels = input.shape[1]
    squares = pad(input * input, (0, 0) * (input.ndim - 2) + (size // 2, (size - 1) // 2))
    window_mean = sum(squares[:, offset : offset + channels] for offset in range(size)) / size
    return input / (window_mean * alpha + k) ** beta


# ----------------------------------------------------------------------------- embeddings, one-hot, padding
def padding_row(padding_idx, num_embeddings, named="Padding_idx"):
    """``padding_idx`` as a row of the table (negative counts from the end), checked as PyTorch does
    (its message capitalized as ``named``: Embedding's is, EmbeddingBag's not)."""
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError(
            f"{named} must be within num_embeddings (got padding_idx={padding_idx} for "
            f"num_embeddings={num_embeddings})"
        )
    return padding_idx % num_embeddings


def _integer_indices(input, operation, position):
    """The array of the int64 or int32 tensor ``input``, or PyTorch's error: a TypeError for what is
    not a tensor (a list of ids), a RuntimeError for other dtypes (uint8, floats)."""
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{operation}(): argument 'indices' (position {position}) must be Tensor, not {type(input).__name__}; "
            f"make the ids a tensor with chainrule.tensor(ids)"
        )
    indices = input._array
    if indices.dtype not in (dtypes.int64, dtypes.int32):
        _refuse_index_dtype(indices.dtype, operation)
    return indices


def _refuse_index_dtype(dtype, operation):
    """PyTorch's RuntimeError for ids of ``dtype`` (neither int64 nor int32) given to ``operation``."""
    raise RuntimeError(
        f"Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got "
        f"{legacy_types.type_name(dtype)} instead (while checking arguments for {operation}) ({operation}: call .long() on the indices)"
    )


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (num_embeddings, dim) at the integer indices ``input``: (*) -> (*, dim).

    The row at ``padding_idx`` gets no gradient (it stays as initialized, usually zeros). With
    ``max_norm``, each row read whose ``norm_type``-norm exceeds it is first scaled, in ``weight``
    itself and without gradient, to norm max_norm (PyTorch's ``embedding_renorm_``). With
    ``scale_grad_by_freq`` a row's gradient is divided by how often ``input`` holds it. With
    ``sparse`` the gradient of ``weight`` is a sparse COO tensor of the rows read (see
    ``ops/index.py``'s ``Embedding``).
    """
    if not isinstance(weight, Tensor):
        raise TypeError(
            f"embedding(): argument 'weight' (position 1) must be Tensor, not {type(weight).__name__}; "
            f"make the table a tensor with chainrule.tensor(rows)"
        )
    padding = None
    if padding_idx is not None:  # checked before the ids, as PyTorch's Python code does
        padding = padding_row(padding_idx, weight.shape[0])
        if type(padding_idx) is not int:  # a float or a bool is PyTorch's TypeError; a one-element int tensor is taken
            padding = integer_argument(padding_idx, "embedding", "padding_idx", 3) % weight.shape[0]
    _integer_indices(input, "embedding", 2)
    if weight.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D (num_embeddings, embedding_dim), got a weight of shape {tuple(weight.shape)}")
    if max_norm is not None:
        _renormalize_rows(weight, input, max_norm, norm_type)
    return index.Embedding.apply(weight, input, padding, bool(scale_grad_by_freq), bool(sparse))


def _renormalize_rows(weight, indices, max_norm, norm_type):
    """Scale, in place and without gradient, each row of ``weight`` read by the tensor ``indices``
    whose ``norm_type``-norm exceeds ``max_norm`` by max_norm / (norm + 1e-7), as PyTorch's
    ``embedding_renorm_`` (which counts as a write to ``weight`` even when no row is too long).
    The new weight is computed from each call's ids and rows, so a compiled program does it again."""
    keywords = {"max_norm": max_norm, "norm_type": norm_type}
    renormalized = computed_without_gradient(_renormalized_weight, [weight, indices], keywords)
    with no_grad():
        weight.copy_(renormalized)


def _renormalized_weight(weight, indices, max_norm, norm_type):
    """A copy of the array ``weight`` with the rows of ``_renormalize_rows`` scaled."""
    rows = xp.unique(indices.reshape(-1))
    rows = rows[(rows >= 0) & (rows < weight.shape[0])]  # out-of-range ids: the lookup raises IndexError
    norms = xp.linalg.norm(weight[rows].astype(xp.float64), ord=norm_type, axis=1)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)[:, None]
    renormalized = weight.copy()
    renormalized[rows] = (weight[rows] * scale).astype(weight.dtype)
    return renormalized


def one_hot(input, num_classes=-1):
    """Class indices (*) as one-hot rows (*, num_classes) of 0s and 1s (int64). ``num_classes`` -1
    counts the classes as the largest index + 1; an empty ``input`` needs a positive ``num_classes``."""
    if not isinstance(input, Tensor):
        raise TypeError(
            f"one_hot(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}; "
            f"make the class indices a tensor with chainrule.tensor(indices, dtype=chainrule.long)"
        )
    if type(num_classes) is not int:  # a float or a bool is PyTorch's TypeError; a one-element int tensor is taken
        num_classes = integer_argument(num_classes, "one_hot", "num_classes", 2)
    indices = input._array
    if indices.dtype != xp.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor. (one_hot: convert it with .long())")
    if not indices.size and num_classes <= 0:  # as PyTorch, which then tries to count them
        raise RuntimeError(
            f"Can not infer total number of classes from empty tensor. (one_hot of an empty tensor with "
            f"num_classes={num_classes}: give a positive num_classes)"
        )
    if num_classes != -1:  # computed again from each call's indices by a compiled program
        return computed_without_gradient(_one_hot_rows, (input,), {"num_classes": num_classes})
    shaped_by_values("one_hot without num_classes", input)  # a compiled call runs eagerly
    return tensor_from_array(_one_hot_rows(indices, int(indices.max()) + 1))


def _one_hot_rows(indices, num_classes):
    """The array of ``one_hot``, after PyTorch's checks of the class indices."""
    if indices.size and indices.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if indices.size and indices.max() >= num_classes:
        raise RuntimeError(f"Class values must be smaller than num_classes. (one_hot: num_classes={num_classes})")
    return (indices[..., None] == xp.arange(num_classes)).astype(xp.int64)


def pad(input, pad, mode="constant", value=None):
    """Pad (or crop, for negative amounts) the last dimensions with the constant ``value``, or
    (``mode`` 'reflect', 'replicate', 'circular') with the input's own values (ops/padding.py).

    ``pad`` lists (before, after) amounts from the last dimension backwards:
    ``(1, 1)`` pads the last dimension by one on each side, ``(1, 1, 2, 0)`` also the one before.
    The non-constant modes pad the last 1, 2 or 3 dimensions of an input with 1 or 2 more.
    """
    if isinstance(pad, Tensor):
        raise TypeError("pad(): argument 'pad' (position 2) must be tuple of ints, not Tensor")
    if not isinstance(mode, str):
        raise TypeError(f"pad(): argument 'mode' (position 3) must be str, not {type(mode).__name__}")
    for position, amount in enumerate(pad):
        if isinstance(amount, (bool, float)) or not hasattr(type(amount), "__index__") or (isinstance(amount, Tensor) and amount.is_floating_point()):
            raise TypeError(
                f"pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type "
                f"{type(amount).__name__} at pos {position}"
            )
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode} (pad: use constant, reflect, replicate or circular)")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    padded_dims = len(pad) // 2
    if padded_dims > input.ndim:
        raise RuntimeError(
            f"Padding length should be less than or equal to two times the input dimension but got padding "
            f"length {len(pad)} and input of dimension {input.ndim}"
        )
    if mode in ("reflect", "replicate", "circular"):
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument; its padding copies the input\'s values')
        if not 1 <= padded_dims <= 3 or input.ndim not in (padded_dims + 1, padded_dims + 2):
            raise NotImplementedError(
                f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
                "Supported combinations for non-constant padding:\n"
                "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
            )
        return pad_by_reading(input, pad, mode)
    return constant_pad_nd(input, pad, 0 if value is None else value)


# ----------------------------------------------------------------------------- bilinear, pixel shuffle
def bilinear(input1, input2, weight, bias=None):
    """y_o = x1ᵀ A_o x2 + b_o: input1 (*, in1), input2 (*, in2), weight A (out, in1, in2), bias
    (out,) -> (*, out). Computed as (x1 A) · x2: x1 times A viewed as (in1, out · in2), then each
    of the out rows of in2 dotted with x2."""
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and {input2.ndim}")
    for dim, (size1, size2) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
        if size1 != size2:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {dim}: got {size1} and {size2}")
    out_features, in1_features, in2_features = weight.shape
    for name, got, expected in (("input1", input1.shape[-1], in1_features), ("input2", input2.shape[-1], in2_features)):
        if got != expected:
            raise RuntimeError(f"bilinear(): {name} size does not match weight size: got {got} but expected {expected}")
    if bias is not None and bias.shape[-1] != out_features:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.shape[-1]} but expected {out_features}")
    rows = input1 @ weight.transpose(0, 1).reshape(in1_features, out_features * in2_features)
    output = (rows.reshape(*input1.shape[:-1], out_features, in2_features) * input2.unsqueeze(-2)).sum(-1)
    return output if bias is None else output + bias


def _check_pixel_factor(input, factor, operation, factor_name):
    if input.ndim < 3:
        raise RuntimeError(f"{operation} expects input to have at least 3 dimensions, but got input with {input.ndim} dimension(s)")
    if factor <= 0:
        raise RuntimeError(f"{operation} expects a positive {factor_name}, but got {factor}")


def pixel_shuffle(input, upscale_factor):
    """(*, C · r², H, W) -> (*, C, H · r, W · r), r = ``upscale_factor``: channel c · r² + i · r + j
    becomes pixel (i, j) of each r x r block of output channel c."""
    _check_pixel_factor(input, upscale_factor, "pixel_shuffle", "upscale_factor")
    channels, r = input.shape[-3], upscale_factor
    if channels % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, "
            f"but input.size(-3)={channels} is not divisible by {r * r}"
        )
    return PixelShuffle.apply(input, r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H · r, W · r) -> (*, C · r², H, W), r = ``downscale_factor``: the inverse of pixel_shuffle.
    An empty input comes back as a copy of the same shape, as PyTorch returns it."""
    _check_pixel_factor(input, downscale_factor, "pixel_unshuffle", "downscale_factor")
    for name, dim in (("height", -2), ("width", -1)):
        if input.shape[dim] % downscale_factor:
            raise RuntimeError(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but input.size({dim})="
                f"{input.shape[dim]} is not divisible by {downscale_factor}"
            )
    if input.numel() == 0:
        return input.clone()
    return PixelUnshuffle.apply(input, downscale_factor)


# ----------------------------------------------------------------------------- attention
def _additive_mask(mask, dtype, masked_where):
    """``mask`` as a float mask added to the attention scores: a bool mask becomes -inf where
    ``mask == masked_where`` and 0 elsewhere; a float mask is used as it is (it may be learned)."""
    if mask is None or mask.dtype.kind != "b":
        return mask
    return where(mask == masked_where, -math.inf, 0.0).to(dtype)


def _attend(query, key, value, score_bias, dropout_p, scale, blocked_rows_to_zero):
    """(softmax(Q Kᵀ · scale + score_bias) V, the softmax weights), with dropout on the weights.

    A row whose scores are all -inf (every key masked out) has no softmax; with
    ``blocked_rows_to_zero`` its weights are zeros (scaled_dot_product_attention), otherwise NaN
    (what multi_head_attention_forward's softmax gives, as in PyTorch).

    scaled_dot_product_attention's kernel (``blocked_rows_to_zero``) computes float16 tensors in
    float32 and rounds the output once, as PyTorch's math kernel does, its gradients so too.
    """
    if blocked_rows_to_zero and query.dtype == dtypes.float16:
        widened = [None if tensor is None else tensor.float() for tensor in (query, key, value, score_bias)]
        output, weights = _attend(*widened, dropout_p, scale, blocked_rows_to_zero)
        return output.half(), weights.half()
    scores = (query @ key.transpose(-2, -1)) * scale
    if score_bias is not None:
        scores = scores + score_bias
    blocked = (scores == -math.inf).all(-1, keepdim=True) if blocked_rows_to_zero else None
    # Selecting with a mask that is all False changes no bit, so the selections are skipped when no
    # row is blocked, except in a call chainrule.compile records: its program serves every call.
    if blocked is not None and (function_module._recorder is not None or blocked._array.any()):
        weights = where(blocked, 0.0, softmax(where(blocked, 0.0, scores), -1))
    else:
        weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ value, weights


def _causal_mask(length, source_length):
    """(length, source_length) bool, True on and below the diagonal: query i may see keys 0..i."""
    return ones(length, source_length, dtype=dtypes.bool_).tril()


def _check_attention_inputs(query, key, value, attn_mask, is_causal):
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(
            f"Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: {query.ndim} "
            f"key.dim: {key.ndim} and value.dim: {value.ndim} instead."
        )
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(
            f"Expected query, key, and value to have the same dtype, but got query.dtype: {query.dtype} "
            f"key.dtype: {key.dtype} and value.dtype: {value.dtype} instead."
        )
    if attn_mask is not None and attn_mask.dtype not in (dtypes.bool_, dtypes.float32, query.dtype):  # ("float": float32)
        raise RuntimeError(
            f"Expected attn_mask dtype to be bool or float or to match query dtype, but got attn_mask.dtype: "
            f"{attn_mask.dtype} and  query.dtype: {query.dtype} instead."
        )
    if attn_mask is not None and is_causal:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False
):
    """softmax(Q Kᵀ · scale + mask) V, each query's weighted average of the values:
    query (*, L, E), key (*, S, E), value (*, S, Ev) -> (*, L, Ev); ``*`` broadcasts.

    ``scale`` defaults to 1/√E. ``attn_mask`` (broadcast to (*, L, S)) is a bool mask (True: the
    query may attend to that key) or a float mask added to the scores; ``is_causal`` lets query i
    see keys 0..i only (lower-triangular, aligned top-left). A query that may attend to no key
    gets zeros. ``dropout_p`` drops attention weights (always, as PyTorch: pass 0 in evaluation).
    ``enable_gqa``: grouped-query attention, key and value with fewer heads (dim -3) than query,
    each shared by query.size(-3) // key.size(-3) query heads.
    """
    if isinstance(attn_mask, CausalBias):  # (a causal mask not built yet)
        return CausalBias._dispatch(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)
    _check_attention_inputs(query, key, value, attn_mask, is_causal)
    attention.check_backend(query, key, value)
    if enable_gqa and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        group = query.shape[-3] // key.shape[-3]
        key, value = key.repeat_interleave(group, -3), value.repeat_interleave(group, -3)
    if is_causal:
        attn_mask = _causal_mask(query.shape[-2], key.shape[-2])
    elif attn_mask is not None and attn_mask.dtype.kind == "f" and attn_mask.dtype != query.dtype:
        attn_mask = attn_mask.to(query.dtype)  # a float32 mask, read in the query's dtype
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    output, _ = _attend(query, key, value, _additive_mask(attn_mask, query.dtype, False), dropout_p, scale, True)
    return output


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """True for batched (L, N, E) inputs, False for unbatched (L, E) ones; checks that the masks
    have the matching number of dimensions (PyTorch's helper of this name)."""
    if query.ndim not in (2, 3):
        raise AssertionError(
            f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query tensor"
        )
    batched = query.ndim == 3
    form = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(
            f"For {form} `query`, expected `key` and `value` to be {query.ndim}-D but found {key.ndim}-D and "
            f"{value.ndim}-D tensors respectively"
        )
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise AssertionError(
            f"For {form} `query`, expected `key_padding_mask` to be `None` or {query.ndim - 1}-D but found "
            f"{key_padding_mask.ndim}-D tensor instead"
        )
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise AssertionError(
            f"For {form} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found {attn_mask.ndim}-D tensor instead"
        )
    if not batched and attn_mask is not None and attn_mask.ndim == 3:
        expected = (num_heads, query.shape[0], key.shape[0])
        if tuple(attn_mask.shape) != expected:
            raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
    return batched


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True, _stacklevel=2):
    """PyTorch's ``F._canonical_mask``: a bool or float attention mask as the float mask added to
    the scores (a bool mask: -inf where True, masked out, and 0 elsewhere, in ``target_type``; a
    float mask as it is), warning as PyTorch does when ``other_type`` (the other mask's dtype)
    differs. ``_stacklevel`` places the warning (2: at this function's caller)."""
    if mask is None:
        return None
    if mask.dtype.kind not in "bf":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(
            f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both instead.",
            stacklevel=_stacklevel,
        )
    return _additive_mask(mask, target_type, True)


def _append_key_column(mask):
    """One more key column, not masked, for a key appended by bias_k or add_zero_attn."""
    return None if mask is None else pad(mask, (0, 1))


def multi_head_attention_forward(
    query,
    key,
    value,
    embed_dim_to_check,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    bias_k,
    bias_v,
    add_zero_attn,
    dropout_p,
    out_proj_weight,
    out_proj_bias,
    training=True,
    key_padding_mask=None,
    need_weights=True,
    attn_mask=None,
    use_separate_proj_weight=False,
    q_proj_weight=None,
    k_proj_weight=None,
    v_proj_weight=None,
    static_k=None,
    static_v=None,
    average_attn_weights=True,
    is_causal=False,
):
    """Multi-head attention, what ``nn.MultiheadAttention`` computes:
    query (L, N, E), key (S, N, kdim), value (S, N, vdim) -> output (L, N, E) and the attention
    weights (N, L, S) averaged over the heads (or (N, num_heads, L, S)), or None without
    ``need_weights``; unbatched (L, E) inputs give (L, E) and (L, S).

    Q, K, V are projected (``in_proj_weight`` (3E, E) or the three separate ``*_proj_weight``), split
    into ``num_heads`` heads of E / num_heads features, each head attends
    (softmax(Q Kᵀ / √head_dim + mask) V), and the heads' outputs are concatenated and projected by
    ``out_proj_weight``. Masks: ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or
    (N · num_heads, L, S), bool (True: masked out) or float (added to the scores). ``is_causal`` is a
    hint that ``attn_mask`` is the causal mask.
    """
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    target_length, batch_size, embed_dim = query.shape
    key_padding_mask = _canonical_mask(
        key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask", query.dtype, _stacklevel=3
    )
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
            "`generate_square_subsequent_mask` to create this mask."
        )
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint lets scaled_dot_product_attention build the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, _stacklevel=3)
        is_causal = is_causal and key_padding_mask is None
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(
                f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's {tuple(value.shape[:2])}"
            )
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
        for name, weight in zip("qkv", weights):
            if weight is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        weights = in_proj_weight.chunk(3)
    biases = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
    if use_separate_proj_weight:  # each weight (E, its input's last size), each bias (E,): PyTorch's checks
        q, k, v = _in_projection(query, key, value, *weights, *biases)
    else:
        q, k, v = (linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))

    if attn_mask is not None:
        if attn_mask.ndim == 2:
            expected = (target_length, key.shape[0])
            if tuple(attn_mask.shape) != expected:
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be {expected}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (batch_size * num_heads, target_length, key.shape[0]):
            expected = (batch_size * num_heads, target_length, key.shape[0])
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be {expected}.")
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key or value.")
        k = cat([k, bias_k.repeat(1, batch_size, 1)])
        v = cat([v, bias_v.repeat(1, batch_size, 1)])
        attn_mask, key_padding_mask = _append_key_column(attn_mask), _append_key_column(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must be given together")

    # (length, N, E) -> (N · heads, length, head_dim): every head of every sample is one batch entry.
    q = q.reshape(target_length, batch_size * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], batch_size * num_heads, head_dim).transpose(0, 1) if static_k is None else static_k
    v = v.reshape(v.shape[0], batch_size * num_heads, head_dim).transpose(0, 1) if static_v is None else static_v
    if add_zero_attn:
        zero_key = zeros(batch_size * num_heads, 1, head_dim, dtype=k.dtype)
        k, v = cat([k, zero_key], 1), cat([v, zero_key], 1)
        attn_mask, key_padding_mask = _append_key_column(attn_mask), _append_key_column(key_padding_mask)
    source_length = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (batch_size, source_length):
            if key_padding_mask.shape[0] != batch_size:
                raise AssertionError(
                    f"Expected key_padded_mask.shape[0] to be {batch_size}, but got {key_padding_mask.shape[0]} (expecting "
                    f"key_padding_mask of shape {(batch_size, source_length)})"
                )
            raise AssertionError(
                f"expecting key_padding_mask shape of {(batch_size, source_length)}, but got "
                f"{tuple(key_padding_mask.shape)}"
            )
        key_padding_mask = (
            key_padding_mask.reshape(batch_size, 1, 1, source_length)
            .expand(-1, num_heads, -1, -1)
            .reshape(batch_size * num_heads, 1, source_length)
        )
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    dropout_p = dropout_p if training else 0.0

    if need_weights:
        output, weights = _attend(q, k, v, attn_mask, dropout_p, 1.0 / math.sqrt(head_dim), False)
    else:
        if is_causal and attn_mask is None:
            attn_mask = _additive_mask(_causal_mask(target_length, source_length), q.dtype, False)
        (output, _), weights = _attend(q, k, v, attn_mask, dropout_p, 1.0 / math.sqrt(head_dim), True), None
    output = output.transpose(0, 1).reshape(target_length * batch_size, embed_dim)
    output = linear(output, out_proj_weight, out_proj_bias).reshape(target_length, batch_size, out_proj_weight.shape[0])
    if weights is not None:
        weights = weights.reshape(batch_size, num_heads, target_length, source_length)
        if average_attn_weights:
            weights = weights.mean(1)
    if not batched:
        output = output.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return output, weights
__all__ += [  # issue 10: attention and the other dropouts
    "scaled_dot_product_attention", "multi_head_attention_forward", "dropout1d", "dropout3d", "alpha_dropout",
    "feature_alpha_dropout", "gumbel_softmax",
]


def embedding_bag(
    input,
    weight,
    offsets=None,
    max_norm=None,
    norm_type=2,
    scale_grad_by_freq=False,
    mode="mean",
    sparse=False,
    per_sample_weights=None,
    include_last_offset=False,
    padding_idx=None,
):
    """The sum, mean or max of the embedding rows of each bag of indices: (B, D) for ``weight`` (num, D).

    The bags are the rows of a 2-D ``input`` (B, L), or, for a 1-D ``input``, the runs that begin at
    ``offsets`` (B,) (with ``include_last_offset``, offsets (B + 1,) also gives the last bag's end: entries
    after it are in no bag).
    ``per_sample_weights`` (input's shape, mode 'sum' only) scales each row before summing. Entries
    equal to ``padding_idx`` are left out (of the count too); an empty bag gives zeros. ``max_norm``
    and ``scale_grad_by_freq`` act as in ``embedding`` (the frequencies counted over all of ``input``).
    One operation (``ops/embedding_bag.py``); with ``sparse`` the gradient of ``weight`` is a sparse COO
    tensor with one row per entry counted, as ``embedding``'s.
    The old argument order ``embedding_bag(weight, input, ...)`` (an int64 ``weight`` and a floating
    ``input``) is swapped back, with PyTorch's warning.
    """
    if weight.dtype == dtypes.int64 and input.is_floating_point():
        warn_at_caller(
            "Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, input, ...)` is "
            "deprecated, and should now be `embedding_bag(input, weight, ...)`."
        )
        weight, input = input, weight
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not None, then it "
            f"must have the same shape as the input ({tuple(input.shape)})"
        )
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    _check_bags(input, offsets)
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    elif mode not in ("sum", "mean"):
        raise ValueError("mode has to be one of sum, mean or max")
    if max_norm is not None:
        _integer_indices(input, "embedding_renorm_", 2)
        _renormalize_rows(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
            f"mode='sum' (got mode='{mode}'). Please open a feature request on GitHub."
        )
    padding = None if padding_idx is None else _bag_padding_row(padding_idx, weight.shape[0])
    _check_bag_dtypes(input, weight, offsets, per_sample_weights)
    if include_last_offset and offsets is not None and not offsets.shape[0]:
        raise RuntimeError("include_last_offset: number of offset should be at least 1 (the end of the last bag)")
    if mode == "max":
        return EmbeddingBagMax.apply(weight, input, offsets, include_last_offset, padding)
    return EmbeddingBag.apply(
        weight, input, offsets, per_sample_weights, mode == "mean", include_last_offset, padding, bool(scale_grad_by_freq),
        bool(sparse),
    )


def _check_bags(input, offsets):
    """PyTorch's errors for bags it cannot read: offsets with a 2-D input, or missing or not 1-D
    with a 1-D input; another input dimension; a 2-D input without columns."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length "
                f"sequences. However, found offsets of type {type(offsets)}"
            )
        if not input.shape[1]:  # PyTorch makes the offsets as arange(0, numel, step=0)
            raise RuntimeError(
                f"embedding_bag: a 2-D input holds one bag per row and needs at least one column, got shape "
                f"{tuple(input.shape)} (give a 1-D input with offsets for empty bags)"
            )
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")


def _bag_padding_row(padding_idx, num_embeddings):
    """embedding_bag's ``padding_idx`` as a row: an int (PyTorch's TypeError for a float or a bool)
    in [-num_embeddings, num_embeddings) (its RuntimeError otherwise), negative counting from the end."""
    if type(padding_idx) is not int:
        padding_idx = integer_argument(padding_idx, "embedding_bag", "padding_idx", 9)
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise RuntimeError(
            f"padding_idx must be within the number of embeddings, -{num_embeddings} through {num_embeddings - 1}, "
            f"but got {padding_idx}"
        )
    return padding_idx % num_embeddings


def _check_bag_dtypes(input, weight, offsets, per_sample_weights):
    """PyTorch's RuntimeErrors for embedding_bag's dtypes: the ids (with offsets, the type both
    promote to) int64 or int32, a floating weight, per_sample_weights of weight's dtype."""
    ids = input._array
    ids_dtype = ids.dtype if offsets is None else xp.result_type(ids, offsets._array)
    if ids_dtype not in (dtypes.int64, dtypes.int32):
        _refuse_index_dtype(ids_dtype, "embedding_bag")
    if not weight.is_floating_point():
        raise RuntimeError(
            f"Expected tensor for argument #1 'weight' to have one of the following scalar types: Half, BFloat16, "
            f"Float, Double; but got {dtypes.dtype_name(weight.dtype)} instead (while checking arguments for "
            f"embedding_bag; call .float() on the weight)"
        )
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise RuntimeError(
            f"Expected tensor for argument #1 'weight' to have the same type as tensor for argument #1 "
            f"'per_sample_weights'; but type {dtypes.dtype_name(weight.dtype)} does not equal "
            f"{dtypes.dtype_name(per_sample_weights.dtype)} (while checking arguments for embedding_bag; convert "
            f"per_sample_weights with .to(weight.dtype))"
        )


__all__ += ["embedding_bag"]


def channel_shuffle(input, groups):
    """(N, C, *) -> (N, C, *) with the channels, seen as ``groups`` groups of C / groups, interleaved:
    channel g · (C / groups) + k moves to k · groups + g (ShuffleNet), so grouped convolutions that
    follow see channels of every group."""
    if isinstance(groups, bool) or not hasattr(type(groups), "__index__"):
        raise TypeError(f"channel_shuffle(): argument 'groups' (position 2) must be int, not {type(groups).__name__}")
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    batch, channels, *spatial = input.shape
    if channels % groups:
        raise RuntimeError(
            f"Number of channels must be divisible by groups. Got {channels} channels and {groups} groups."
        )
    # output channel k · groups + g reads input channel g · (C / groups) + k: one permuting read,
    # one node as PyTorch's (ChannelShuffleBackward0), its gradient sent back by the same positions
    positions = made_from_arguments(xp.arange(channels).reshape(groups, channels // groups).T.reshape(-1))
    return index.IndexSelect.shown_as("ChannelShuffleBackward0").apply(input, positions, 1)


native_channel_shuffle = channel_shuffle  # PyTorch's name for the kernel F.channel_shuffle calls
__all__ += ["channel_shuffle", "native_channel_shuffle"]


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """PyTorch's deprecated name for ``interpolate(input, size, scale_factor, mode, align_corners)``
    (with its UserWarning)."""
    warn_at_caller("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')`` (with PyTorch's UserWarning)."""
    warn_at_caller("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)``
    (with PyTorch's UserWarning)."""
    warn_at_caller("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


__all__ += ["upsample", "upsample_bilinear", "upsample_nearest"]


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """``max_pool1d`` returning ``(output, indices)`` whatever ``return_indices`` says, as PyTorch's."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """``max_pool2d`` returning ``(output, indices)`` whatever ``return_indices`` says, as PyTorch's."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """``max_pool3d`` returning ``(output, indices)`` whatever ``return_indices`` says, as PyTorch's."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool1d`` returning ``(output, indices)``, as PyTorch's."""
    return adaptive_max_pool1d(input, output_size, return_indices=True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool2d`` returning ``(output, indices)``, as PyTorch's."""
    return adaptive_max_pool2d(input, output_size, return_indices=True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool3d`` returning ``(output, indices)``, as PyTorch's."""
    return adaptive_max_pool3d(input, output_size, return_indices=True)


__all__ += [
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "max_pool3d_with_indices",
]


#: The names chainrule's operations give their first tensor where PyTorch's functional says ``input``.
_FIRST_PARAMETER_NAMES = ("x", "a", "self")


def _with_input_keyword(function):
    """``function`` also taking its first tensor as ``input=`` (``F.softmax(input=x, dim=1)``), as
    PyTorch's functional does, and showing ``input`` in its signature; ``function`` itself when its
    first parameter is already ``input``."""
    parameters = list(inspect.signature(function).parameters.values())
    if not parameters or parameters[0].name not in _FIRST_PARAMETER_NAMES:
        return function

    @functools.wraps(function)
    def call(*args, **kwargs):
        if "input" in kwargs:
            if args:
                raise TypeError(f"{function.__name__}() got multiple values for argument 'input'")
            args = (kwargs.pop("input"),)
        return function(*args, **kwargs)

    call.__signature__ = inspect.Signature(
        [parameters[0].replace(name="input", kind=inspect.Parameter.POSITIONAL_OR_KEYWORD), *parameters[1:]]
    )
    return call


# The operations re-exported from chainrule.ops name their first tensor ``x`` (or, in place, ``self``).
for _name in __all__:
    if callable(globals().get(_name)):
        globals()[_name] = _with_input_keyword(globals()[_name])
del _name

# the functions PyTorch refuses complex input to and that do not test for it themselves (see
# ops/complex_refusals.py) refuse it as PyTorch's
complex_numbers.refuse_complex_where_pytorch_does(globals())

# a call given an object that defines __torch_function__ is that object's to answer (overrides.py)
make_overridable(globals(), __all__, "chainrule.nn.functional")
