"""Margin, ranking and embedding losses: each asks a score (or a similarity, or a distance) to beat
another by a margin, and costs nothing once it does.

Three are fused operations, one node each as in PyTorch: ``soft_margin_loss`` (the logistic loss of
target · input), ``multi_margin_loss`` (the multi-class hinge loss of SVMs) and
``multilabel_margin_loss``. The others are compositions of recorded operations, exactly as PyTorch
composes them, so their gradients and second derivatives come free:

- ``margin_ranking_loss``: max(0, -y (x1 - x2) + margin), y = ±1 says which should rank higher.
- ``hinge_embedding_loss``: x where y = 1, max(0, margin - x) where y = -1 (x is a distance).
- ``cosine_embedding_loss``: 1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1.
- ``triplet_margin_loss``: max(0, d(a, p) - d(a, n) + margin), the anchor a nearer the positive p
  than the negative n by the margin; d the pairwise p-norm distance, or any function
  (``triplet_margin_with_distance_loss``).
- ``multilabel_soft_margin_loss``: the binary cross-entropy with logits, averaged over the classes.

Reductions ('none', 'mean', 'sum') and the legacy ``size_average`` / ``reduce`` flags are as in the
losses of ``loss.py``.
"""
from chainrule import dtypes
from chainrule.autograd.function import computed_without_gradient, made_from_arguments
from chainrule.backend import xp
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.ops.activation import log_one_plus_exp, special
from chainrule.ops.broadcast import broadcast_shape
from chainrule.ops.distance import pairwise_distance
from chainrule.ops.elementwise import clamp, minimum, sqrt, where
from chainrule.ops.loss import (
    BinaryCrossEntropyWithLogits,
    check_weight_dtype,
    not_implemented_for_integers,
    reduce_losses,
    reduced,
    reduction_from,
    spread_back,
)
from chainrule.ops.op import Op
from chainrule.ops.operands import common_dtype

COSINE_EPSILON = 1e-12  # added to each squared length in cosine_embedding_loss, as PyTorch


# ----------------------------------------------------------------------------- fused
class SoftMarginLoss(Op):
    """The logistic loss of the margin target · input, for targets ±1 (input and target broadcast
    together). The target gets no gradient, as in PyTorch."""

    formula = "ln(1 + e^(-target · input))"
    derivatives = ("-target σ(-target · input)", None, None)

    @staticmethod
    def forward(ctx, input, target, reduction):
        ctx.save_for_backward(input, target)
        losses = log_one_plus_exp(xp, -target * input)
        return reduced(ctx, losses, reduction, losses.size)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        sigmoid = special(ctx.xp, "sigmoid")
        return spread_back(ctx, grad_output) * -target * sigmoid(-target * input), None, None


class MultiMarginLoss(Op):
    """The multi-class hinge loss of scores ``input`` (N, C) against class indices (N,): every
    wrong class j scoring within ``margin`` of the target class y costs, scaled by y's class
    weight w_y (1 without weights) and divided by C. ``target_mask`` is the one-hot target (N, C),
    ``target_weight`` w_y / C per sample (N, 1); both constants."""

    formula = "Σ_{j ≠ y} w_y max(0, margin - input_y + input_j)^p / C"
    derivatives = ("p w_y h^(p-1) / C at each j ≠ y with h > 0; minus their sum at y", None, None, None, None, None, None)

    @staticmethod
    def forward(ctx, input, target, target_mask, target_weight, p, margin, reduction):
        ctx.save_for_backward(input)
        ctx.mask, ctx.scale, ctx.p, ctx.margin = target_mask, target_weight, p, margin
        hinge = MultiMarginLoss.margins(xp, input, target_mask, margin)
        active = (hinge > 0) & ~target_mask
        ctx.active = active.astype(input.dtype)
        losses = (xp.where(active, hinge, 0) ** p * target_weight).sum(axis=1).reshape(target.shape)
        return reduced(ctx, losses, reduction, losses.size)

    @staticmethod
    def margins(xp, input, target_mask, margin):
        """margin - input_y + input_j for every class j (N, C)."""
        target_score = xp.where(target_mask, input, 0).sum(axis=1, keepdims=True)
        return margin - target_score + input

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        per_sample = spread_back(ctx, grad_output).reshape((-1, 1)) * ctx.scale
        slope = ctx.active if ctx.p == 1 else 2 * MultiMarginLoss.margins(ctx.xp, input, ctx.mask, ctx.margin) * ctx.active
        grad_wrong = per_sample * slope
        grad_input = grad_wrong - ctx.mask * grad_wrong.sum(axis=1, keepdims=True)
        return grad_input, None, None, None, None, None, None


class MultilabelMarginLoss(Op):
    """The multi-label hinge loss of scores ``input`` (N, C): every target class j should score at
    least 1 above every non-target class k. ``pairs`` (N, C, C), a constant, counts how often j is
    listed as a target and k is not one: only those pairs (j, k) cost."""

    formula = "Σ_j Σ_k pairs_jk max(0, 1 - (input_j - input_k)) / C"
    derivatives = ("(Σ_j active_jk - Σ_k active_jk) / C,  active = pairs where the hinge is open", None, None, None)

    @staticmethod
    def forward(ctx, input, pairs, output_shape, reduction):
        hinge = 1.0 - input[:, :, None] + input[:, None, :]
        active = pairs * (hinge > 0)
        ctx.slope = ((active.sum(axis=1) - active.sum(axis=2)) / input.shape[1]).astype(input.dtype)
        losses = (active * hinge).sum(axis=(1, 2)) / input.shape[1]
        return reduced(ctx, losses.reshape(output_shape).astype(input.dtype), reduction, losses.size)

    @staticmethod
    def backward(ctx, grad_output):
        return spread_back(ctx, grad_output).reshape((-1, 1)) * ctx.slope, None, None, None


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """ln(1 + e^(-y x)) for labels y = ±1 (``target``) and scores x (``input``): the two-class
    logistic loss. Shapes: input (*), target broadcasting with it -> () or, for 'none', the
    broadcast shape."""
    reduction = reduction_from(size_average, reduce, reduction)
    if target.requires_grad and is_grad_enabled():
        raise RuntimeError(
            "The function 'soft_margin_loss' is not differentiable with respect to argument 'target'. "
            "This input cannot have requires_grad True (pass target.detach())."
        )
    broadcast_shape(input, target, "soft_margin_loss")
    return SoftMarginLoss.apply(input, target.to(input.dtype), reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    """The multi-class hinge loss (as SVMs): for each sample, Σ over the wrong classes j of
    w_y max(0, margin - x_y + x_j)^p / C, where y is the target class.

    Shapes: input (N, C) with target (N,), or input (C,) with target () or (1,); ``weight`` (C,)
    weighs the target's class. Output: () or, for 'none', the target's shape.
    """
    reduction = reduction_from(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError(f"only p == 1 and p == 2 supported (multi_margin_loss got p={p})")
    if weight is not None and weight.ndim != 1:
        raise ValueError(f"weight must be one-dimensional (multi_margin_loss got weight of shape {tuple(weight.shape)})")
    scores = _class_scores(input, "multi_margin_loss")
    samples, classes = scores.shape
    indices = _long_targets(target)
    if indices.size != samples or (input.ndim == 2 and indices.ndim != 1) or indices.ndim > 1:
        raise RuntimeError(
            f"multi_margin_loss: target tensor should be 1-D with size equal to the number of input samples "
            f"(batch size). Expected target size [{samples}], but got {list(target.shape)}. Input has shape {list(input.shape)}."
        )
    if weight is not None and tuple(weight.shape) != (classes,):
        raise RuntimeError(f"inconsistent weight size, expected {classes} but got {list(weight.shape)}")
    if not input.is_floating_point():
        raise not_implemented_for_integers(input, "multi_margin_loss")
    check_weight_dtype(input, weight)
    # the one-hot targets and each sample's weight follow the targets' values: a compiled program
    # computes them (and checks the range) again on each call
    weight = made_from_arguments(xp.ones(classes, scores.dtype)) if weight is None else weight.detach()
    target_mask = computed_without_gradient(_one_hot_targets, [target], {"classes": classes})
    target_weight = computed_without_gradient(_target_weights, [target, weight], {"classes": classes, "dtype": scores.dtype})
    return MultiMarginLoss.apply(scores, target, target_mask._array, target_weight._array, p, margin, reduction)


def _one_hot_targets(target, classes):
    """multi_margin_loss's targets (N,) as a one-hot mask (N, C), each checked to be a class."""
    rows = target.reshape(-1)
    if rows.size and (rows.min() < 0 or rows.max() >= classes):
        raise RuntimeError(f"target out of range: multi_margin_loss needs class indices in [0, {classes - 1}], got {rows.min()} to {rows.max()}")
    return xp.arange(classes) == rows[:, None]


def _target_weights(target, weight, classes, dtype):
    """Each sample's weight w_y / C (N, 1): its target class's."""
    return (weight.astype(dtype)[target.reshape(-1)] / classes)[:, None]


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """The multi-label hinge loss: Σ over target classes j and non-target classes k of
    max(0, 1 - (x_j - x_k)) / C.

    Shapes: input (N, C) or (C,); target of the same shape, int64, listing each sample's target
    classes first and ending the list with -1 (the entries after it are ignored). Output: () or,
    for 'none', (N,) or ().
    """
    reduction = reduction_from(size_average, reduce, reduction)
    scores = _class_scores(input, "multilabel_margin_loss")
    labels = _long_targets(target)
    if labels.shape != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    labels = labels.reshape(scores.shape)
    classes = scores.shape[1]
    if labels.size and (labels.min() < -1 or labels.max() >= classes):
        raise RuntimeError(f"argument #2 'target' is out of range: multilabel_margin_loss needs labels in [0, {classes - 1}] ended by -1")
    listed = xp.cumsum(labels == -1, axis=1) == 0  # the entries before the first -1
    counts = ((labels[:, :, None] == xp.arange(classes)) & listed[:, :, None]).sum(axis=1)  # (N, C)
    pairs = (counts[:, :, None] * (counts == 0)[:, None, :]).astype(scores.dtype)
    return MultilabelMarginLoss.apply(scores, pairs, tuple(input.shape[:-1]), reduction)


def _class_scores(input, operation):
    """``input`` (N, C), (C,) or () (one score) as (N, C), C at least 1."""
    if input.ndim > 2 or (input.ndim and input.shape[-1] == 0):
        raise RuntimeError(
            f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {list(input.shape)} "
            f"({operation} takes scores (N, C) or (C,))"
        )
    return input if input.ndim == 2 else input.reshape(1, -1)


def _long_targets(target):
    if target.dtype.kind not in "iu":
        raise RuntimeError(
            f"expected scalar type Long but found {dtypes.scalar_type_name(target._array.dtype)} (class-index targets must be "
            f"integers: use target.long())"
        )
    return target._array


# ----------------------------------------------------------------------------- composed
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -y (x1 - x2) + margin): y = 1 asks x1 to rank above x2 by the margin, y = -1 below.

    Shapes: input1, input2 and target with the same number of dimensions, broadcasting together
    -> () or, for 'none', the broadcast shape.
    """
    reduction = reduction_from(size_average, reduce, reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} "
        )
    return reduce_losses(clamp(-target * (input1 - input2) + margin, min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where y = 1 and max(0, margin - x) where y = -1, for distances x (``input``) and labels
    y = ±1 (similar, dissimilar): similar pairs are pulled together, dissimilar ones pushed at
    least ``margin`` apart. (A label that is neither 1 nor -1 counts both terms, as in PyTorch.)

    Shapes: input (*), target broadcasting with it -> () or, for 'none', the broadcast shape.
    """
    reduction = reduction_from(size_average, reduce, reduction)
    broadcast_shape(target, input, "hinge_embedding_loss")
    pushed = where(target != 1, clamp(margin - input, min=0), 0.0)
    pulled = where(target != -1, input, 0.0)
    return reduce_losses(pushed + pulled, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where y = 1 (similar), max(0, cos(x1, x2) - margin) where y = -1.

    Shapes: input1, input2 (N, D) with target (N,), or (D,) with target (); output () or, for
    'none', the target's shape. cos is x1 · x2 / √((‖x1‖² + 1e-12)(‖x2‖² + 1e-12)).
    """
    reduction = reduction_from(size_average, reduce, reduction)
    dim = target.ndim
    if dim not in (0, 1):
        raise RuntimeError(f"0D or 1D target tensor expected, multi-target not supported (got target of shape {list(target.shape)})")
    if input1.ndim != dim + 1 or input2.ndim != dim + 1:
        raise RuntimeError(
            f"{dim}D target tensor expects {dim + 1}D input tensors, but found inputs with sizes "
            f"{list(input1.shape)} and {list(input2.shape)}."
        )
    squared_lengths = ((input1 * input1).sum(dim) + COSINE_EPSILON) * ((input2 * input2).sum(dim) + COSINE_EPSILON)
    cosine = (input1 * input2).sum(dim) / sqrt(squared_lengths)
    broadcast_shape(target, cosine, "cosine_embedding_loss")
    similar = where(target == 1, 1 - cosine, 0.0)
    dissimilar = where(target == -1, clamp(cosine - margin, min=0), 0.0)
    return reduce_losses(similar + dissimilar, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
    """max(0, d(a, p) - d(a, n) + margin) with d = ``pairwise_distance`` (p-norm, eps): the anchor
    should be nearer the positive than the negative by ``margin``. With ``swap``, d(a, n) is
    replaced by d(p, n) where that is smaller.

    Shapes: anchor, positive, negative (N, D) or (D,), the same number of dimensions -> () or,
    for 'none', (N,) or ().
    """
    reduction = reduction_from(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return _triplet_losses(anchor, positive, negative, lambda x1, x2: pairwise_distance(x1, x2, p, eps), margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
    """``triplet_margin_loss`` with any distance: ``distance_function(x1, x2)`` (default
    ``pairwise_distance``), for instance 1 - cosine_similarity."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return _triplet_losses(anchor, positive, negative, distance_function or pairwise_distance, margin, swap, reduction)


def _triplet_losses(anchor, positive, negative, distance, margin, swap, reduction):
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and negative {negative.ndim}D inputs"
        )
    to_positive, to_negative = distance(anchor, positive), distance(anchor, negative)
    if swap:
        to_negative = minimum(to_negative, distance(positive, negative))
    return reduce_losses(clamp(margin + to_positive - to_negative, min=0), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """The binary cross-entropy of σ(x) against each label y ∈ {0, 1}, times ``weight``, averaged
    over the C classes: -Σ_c w_c (y_c ln σ(x_c) + (1 - y_c) ln σ(-x_c)) / C.

    Shapes: input (N, C) or (C,), target the same; weight broadcasting to it. Output () or, for
    'none', (N,) or ().
    """
    reduction = reduction_from(size_average, reduce, reduction)
    if not input.is_floating_point():
        raise not_implemented_for_integers(input, "multilabel_soft_margin_loss")
    dtype = common_dtype(input, target)  # PyTorch's formula, target · ln σ(input) + ..., promotes the two
    losses = BinaryCrossEntropyWithLogits.apply(input.to(dtype), target.to(dtype), None, None, "none")
    if weight is not None:
        losses = losses * weight
    return reduce_losses(losses.sum(input.ndim - 1) / input.shape[-1], reduction)
