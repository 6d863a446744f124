"""The operations of neural networks as functions, as ``torch.nn.functional`` (``import ... as F``).

Layers hold parameters and call these; the functions take everything as arguments. Each checks its
inputs the way PyTorch does (same exception types) and says what to change. The arithmetic lives in
``chainrule/ops/``: activations in ``activation.py``, the fused losses in ``loss.py``, batch and
layer norm in ``normalization.py``.
"""
import warnings

from chainrule.backend import as_array, xp
from chainrule.ops import activation, index
from chainrule.ops.activation import gelu, log_softmax, sigmoid, softmax, softplus, tanh
from chainrule.ops.elementwise import where
from chainrule.ops.conv import conv1d, conv2d, conv_transpose2d, fold, unfold  # noqa: F401
from chainrule.ops.inplace import write_in_place
from chainrule.ops.dropout import DropoutMask
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
from chainrule.ops.normalization import BatchNormalize, BatchStatistics, LayerNormalize, UpdateRunning, apply_writing
from chainrule.ops.padding import pad_by_reading
from chainrule.ops.pool import (  # noqa: F401
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from chainrule.ops.upsample import interpolate  # noqa: F401
from chainrule.tensor import Tensor, tensor_from_array

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "dropout2d",
    "fold",
    "interpolate",
    "max_pool1d",
    "max_pool2d",
    "unfold",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
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
]


# ----------------------------------------------------------------------------- activations
def _activate(operation, input, inplace, *args):
    """``operation(input, *args)``, written into ``input`` itself when ``inplace`` (saves memory)."""
    if inplace:
        return write_in_place(input, operation, *args)
    return operation(input, *args)


def relu(input, inplace=False):
    """max(x, 0)."""
    return _activate(activation.relu, input, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise."""
    return _activate(activation.leaky_relu, input, inplace, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha (e^x - 1) otherwise."""
    return _activate(activation.elu, input, inplace, alpha)


def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish)."""
    return _activate(activation.silu, input, inplace)


# ----------------------------------------------------------------------------- dropout
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) (inverted dropout).

    The scaling keeps every element's expected value unchanged, so nothing needs rescaling at
    evaluation, where (``training=False``) the input is returned as it is. The mask is drawn from
    the global generator (``manual_seed``).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    mask = DropoutMask.apply(input.array.shape, input.array.dtype, p)
    return input.mul_(mask) if inplace else input * mask


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels: each (sample, channel) plane of (N, C, H, W) (or (C, H, W)) is kept or
    dropped together, with probability ``p``, the kept ones scaled by 1 / (1 - p). Neighbouring
    pixels are strongly correlated, so dropping single ones would hardly regularize a conv layer.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"dropout2d: expected 3D (C, H, W) or 4D (N, C, H, W) input, got input of size {list(input.shape)}")
    if not training or p == 0.0:
        return input
    planes = tuple(input.shape[: input.ndim - 2]) + (1, 1)
    mask = DropoutMask.apply(planes, input.array.dtype, p)
    return input.mul_(mask) if inplace else input * mask


# ----------------------------------------------------------------------------- losses
_REDUCTIONS = ("none", "mean", "sum")


def _reduction(size_average, reduce, reduction):
    """The reduction to use, from ``reduction`` or PyTorch's deprecated ``size_average`` / ``reduce``."""
    if size_average is not None or reduce is not None:
        warnings.warn(
            "size_average and reduce args will be deprecated, please use reduction='mean', 'sum' "
            "or 'none' instead.",
            stacklevel=3,
        )
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return "none" if not reduce else "mean" if size_average else "sum"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction (use 'none', 'mean' or 'sum')")
    return reduction


def _target_like(input, target, operation):
    """``target`` in the input's dtype, warning (as PyTorch does) when its shape differs."""
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"{operation}: Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            f"Please ensure they have the same size.",
            stacklevel=3,
        )
    return target.to(input.dtype)


def _difference_loss(loss, input, target, size_average, reduce, reduction, operation, weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError(
                f"Weights and input must have the same size ({operation}: weight {tuple(weight.shape)}, "
                f"input {tuple(input.shape)})."
            )
        weight = weight.detach().to(input.dtype)
    return loss.apply(input, _target_like(input, target, operation), weight, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error: (input - target)^2, reduced (weighted: 'mean' divides by sum(weight))."""
    return _difference_loss(MseLoss, input, target, size_average, reduce, reduction, "mse_loss", weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error: |input - target|, reduced (weighted: 'mean' divides by sum(weight))."""
    return _difference_loss(L1Loss, input, target, size_average, reduce, reduction, "l1_loss", weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Squared error below ``beta``, absolute error above (continuous at beta); beta=0 is L1."""
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta (got {beta})")
    if beta == 0:
        return _difference_loss(L1Loss, input, target, size_average, reduce, reduction, "smooth_l1_loss")
    reduction = _reduction(size_average, reduce, reduction)
    return SmoothL1Loss.apply(input, _target_like(input, target, "smooth_l1_loss"), beta, reduction)


def _same_shape_target(input, target, message):
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(message.format(target=target.shape, input=input.shape))
    return target.to(input.dtype)


def _optional_weight(weight, input, name):
    """``weight`` (None or a tensor broadcasting against the input) in the input's dtype."""
    if weight is None:
        return None
    try:
        fits = xp.broadcast_shapes(weight.array.shape, input.array.shape) == input.array.shape
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
        input, target, "Using a target size ({target}) that is different to the input size ({input}) is deprecated. Please ensure they have the same size."
    )
    values = input.array
    if values.size and ((values < 0) | (values > 1) | xp.isnan(values)).any():
        raise RuntimeError(
            f"all elements of input should be between 0 and 1 (binary_cross_entropy got values in "
            f"[{values.min()}, {values.max()}]); apply sigmoid first, or pass the raw scores to "
            f"binary_cross_entropy_with_logits"
        )
    weight = _optional_weight(weight, input, "weight")
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    """Binary cross-entropy of sigmoid(input), computed from the logits stably.

    ``pos_weight`` weighs the positive class (shape: the number of classes, along the last dim).
    """
    reduction = _reduction(size_average, reduce, reduction)
    target = _same_shape_target(input, target, "Target size ({target}) must be the same as input size ({input})")
    weight = _optional_weight(weight, input, "weight")
    pos_weight = _optional_weight(pos_weight, input, "pos_weight")
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


def _check_class_index_target(input, target, weight, operation):
    """Check class-index ``target`` against ``input`` (N, C, d1, ...) or (C,)."""
    if input.ndim == 0:
        raise ValueError(f"{operation}: input must have a class dimension, got a 0-d tensor")
    if target.dtype.kind not in "iu":
        raise RuntimeError(
            f"{operation}: expected scalar type Long but found {target.dtype.name}: class-index targets must "
            f"be integers (use target.long()); class-probability targets must have the input's shape "
            f"{tuple(input.shape)}, got {tuple(target.shape)}"
        )
    input_shape = input.array.shape
    expected = () if len(input_shape) == 1 else (input_shape[0],) + input_shape[2:]
    if target.array.shape != expected:
        if input.ndim > 1 and target.ndim >= 1 and target.shape[0] != input.shape[0]:
            raise ValueError(
                f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target.shape[0]})."
            )
        raise RuntimeError(
            f"{operation}: expected target of shape {list(expected)} for input of shape "
            f"{list(input.shape)} (the input's shape without the class dimension), got {list(target.shape)}"
        )
    _check_class_weight(input, weight)


def _check_class_weight(input, weight):
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
    if target.array.dtype.kind == "f" and target.array.shape == input.array.shape:
        _check_class_weight(input, weight)
        target = target.to(input.dtype)
    else:
        _check_class_index_target(input, target, weight, "cross_entropy")
    return CrossEntropy.apply(input, target, weight, reduction, ignore_index, label_smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood: -input[i, target[i]] for log-probabilities ``input`` (log_softmax output)."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_class_index_target(input, target, weight, "nll_loss")
    return NllLoss.apply(input, target, weight, reduction, ignore_index)


# ----------------------------------------------------------------------------- normalization
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalize each channel (dim 1) of (N, C) or (N, C, L) input by its mean and variance.

    Training uses the batch's statistics and, when ``running_mean`` / ``running_var`` are given,
    updates them in place: running = (1 - momentum) * running + momentum * batch (the variance
    unbiased, n / (n - 1), as PyTorch). Evaluation uses the running statistics.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got shape {tuple(input.shape)}")
    channels = input.shape[1]
    axes = (0,) + tuple(range(2, input.ndim))
    view = (1, channels) + (1,) * (input.ndim - 2)
    count = input.numel() // max(channels, 1)
    if training:
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {input.shape}; "
                f"use a batch of at least 2 samples, or call model.eval() to use the running statistics"
            )
        mean, var = BatchStatistics.apply(input.detach(), axes)
        if running_mean is not None:
            _update_running(running_mean, mean, momentum)
        if running_var is not None:
            _update_running(running_var, var * (count / (count - 1)), momentum)
        return BatchNormalize.apply(input, weight, bias, mean, var, eps, axes, view)
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var must be given when training=False")
    mean, var = running_mean.array.reshape(view), running_var.array.reshape(view)
    return BatchNormalize.apply(input, weight, bias, mean, var, eps, None, view)


def _update_running(running, batch_value, momentum):
    """running <- (1 - momentum) running + momentum batch_value, in place, by an operation (so that
    a compiled step replays it)."""
    apply_writing(UpdateRunning, running, batch_value, momentum)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize each sample over its last dimensions (``normalized_shape``), then scale and shift."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    count = len(normalized_shape)
    if count == 0 or tuple(input.shape[input.ndim - count :]) != normalized_shape or input.ndim < count:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}"
        )
    axes = tuple(range(input.ndim - count, input.ndim))
    return LayerNormalize.apply(input, weight, bias, None, None, eps, axes, normalized_shape)


# ----------------------------------------------------------------------------- embeddings, one-hot, padding
def padding_row(padding_idx, num_embeddings):
    """``padding_idx`` as a row of the table (negative counts from the end), checked as PyTorch does."""
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError(
            f"Padding_idx must be within num_embeddings: got padding_idx={padding_idx} for "
            f"num_embeddings={num_embeddings}"
        )
    return padding_idx % num_embeddings


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (num_embeddings, dim) at the integer indices ``input``: (*) -> (*, dim).

    The row at ``padding_idx`` gets no gradient (it stays as initialized, usually zeros). The
    gradient is always dense (``sparse`` changes nothing); ``max_norm`` and ``scale_grad_by_freq``
    are not available.
    """
    if max_norm is not None or scale_grad_by_freq:
        raise NotImplementedError("embedding: max_norm and scale_grad_by_freq are not available in chainrule")
    indices = input.array if isinstance(input, Tensor) else as_array(input)
    if indices.dtype.kind not in "iu":
        raise RuntimeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
            f"Long, Int; but got {indices.dtype.name} instead (call .long() on the indices)"
        )
    count = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= count):
        bad = indices[(indices < 0) | (indices >= count)].reshape(-1)[0]
        raise IndexError(
            f"index out of range in self: embedding index {bad} is not in [0, {count - 1}] "
            f"(num_embeddings={count})"
        )
    rows = index.getitem(weight, tensor_from_array(indices))
    if padding_idx is None:
        return rows
    padding_idx = padding_row(padding_idx, count)
    at_padding = xp.expand_dims(indices == padding_idx, -1)
    return where(at_padding, rows.detach(), rows)


def one_hot(tensor, num_classes=-1):
    """Class indices (*) as one-hot rows (*, num_classes) of 0s and 1s (int64)."""
    indices = tensor.array
    if indices.dtype != xp.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor (use .long()).")
    if num_classes == -1:
        if not indices.size:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(indices.max()) + 1
    if indices.size and indices.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if indices.size and indices.max() >= num_classes:
        raise RuntimeError(f"Class values must be smaller than num_classes ({num_classes}).")
    return tensor_from_array((indices[..., None] == xp.arange(num_classes)).astype(xp.int64))


def pad(input, pad, mode="constant", value=None):
    """Pad (or crop, for negative amounts) the last dimensions with the constant ``value``, or
    (``mode`` 'reflect', 'replicate', 'circular') with the input's own values (ops/padding.py).

    ``pad`` lists (before, after) amounts from the last dimension backwards:
    ``(1, 1)`` pads the last dimension by one on each side, ``(1, 1, 2, 0)`` also the one before.
    """
    if mode in ("reflect", "replicate", "circular"):
        return pad_by_reading(input, pad, mode)
    if mode != "constant":
        raise NotImplementedError(f"pad: mode '{mode}' is not available in chainrule; use constant, reflect, replicate or circular")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"Padding length must be divisible by 2 and at most twice the number of dimensions "
            f"({input.ndim}) of the input, got {len(pad)}"
        )
    shape = list(input.shape)
    source, destination = [slice(None)] * input.ndim, [slice(None)] * input.ndim
    for pair in range(len(pad) // 2):
        axis = input.ndim - 1 - pair
        before, after = pad[2 * pair], pad[2 * pair + 1]
        size = shape[axis]
        source[axis] = slice(max(-before, 0), size - max(-after, 0))
        shape[axis] = size + before + after
        destination[axis] = slice(max(before, 0), max(before, 0) + source[axis].stop - source[axis].start)
        if shape[axis] < 0:
            raise RuntimeError(f"pad: the padded size of dimension {axis} would be {shape[axis]} (input size {size})")
    canvas = tensor_from_array(xp.full(shape, 0 if value is None else value, dtype=input.dtype))
    return index.index_put(canvas, tuple(destination), input[tuple(source)])
