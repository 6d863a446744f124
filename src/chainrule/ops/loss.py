"""Losses as fused operations: one node computes the loss and sends its gradient straight back.

A loss composed of primitives (log_softmax, then pick the target's entry, then mean) records a node
per step and keeps each step's array; the fused forms here record one node each, and are written in
their numerically stable form: log-softmax with the maximum subtracted, so logits of 1000 give finite
losses, and the logistic loss through ln(1 + e^-x) = max(-x, 0) + ln(1 + e^-|x|), so large logits
neither overflow nor lose precision.

Every loss reduces its per-element (or per-sample) losses as ``reduction`` asks: 'none' keeps them,
'sum' adds them, 'mean' divides the sum by a normalizer: the element count, or for weighted losses
the sum of the weights (of the targets used, for class losses), as PyTorch's weighted mean. Each
``derivatives`` entry is the derivative of one element's loss; backward multiplies it by the
reduction's share (``spread_back``).

The public functions with PyTorch's signatures and checks are in ``chainrule.nn.functional``.

At the end of this file: ``huber_loss`` (fused, HuberLoss), and ``kl_div``, ``poisson_nll_loss`` and
``gaussian_nll_loss`` composed of recorded operations as PyTorch composes them, public functions
with PyTorch's signatures (``nn.functional`` exports them); the margin losses are in margin_loss.py.
"""
import functools
import math
import numbers

from chainrule import dtypes
from chainrule.caller_warnings import warn_at_caller
from chainrule.autograd.function import checked, computed_without_gradient
from chainrule.backend import HALF, ignoring_float_errors, read_only, xp
from chainrule.creation import full_like
from chainrule.ops.activation import log_one_plus_exp, special
from chainrule.ops.broadcast import broadcast_shape
from chainrule.ops.elementwise import clamp, exp, log, where, xlogy
from chainrule.ops.op import Op
from chainrule.ops.reduce import max_shift


# ----------------------------------------------------------------------------- reduction
def reduced(ctx, losses, reduction, normalizer, weight=None, class_axis=None, counted=True):
    """The per-element losses ``losses``, times ``weight`` if given, reduced as ``reduction`` says
    ('mean' divides by ``normalizer``). ``ctx`` remembers how, for ``spread_back``.

    ``class_axis`` is the input dimension that per-sample class losses summed away (None for losses
    that compare input and target element by element); ``counted`` is False when every target was
    ignored, leaving nothing to divide among.
    """
    ctx.reduction, ctx.normalizer, ctx.weight, ctx.counted = reduction, normalizer, weight, counted
    ctx.spread_shape = None
    if weight is not None:
        losses = losses * weight
    if reduction == "none":
        if class_axis is not None:  # the gradient of each sample's loss broadcasts along its classes
            ctx.spread_shape = losses.shape[:class_axis] + (1,) + losses.shape[class_axis:]
        return losses
    # float16 losses are summed in float32 and the result rounded once, as PyTorch's CPU sums
    # them (a float16 total overflows past 65504: mse_loss of values of a few units was inf)
    half = losses.dtype == HALF
    total = losses.sum(dtype=xp.float32) if half else losses.sum()
    if reduction == "sum" or normalizer:
        result = total if reduction == "sum" else total / normalizer
    else:
        with ignoring_float_errors():  # every target ignored: 0 / 0 gives nan, as in PyTorch
            result = total / normalizer
    if half:
        with ignoring_float_errors():
            return result.astype(HALF)
    return result


def spread_back(ctx, grad_output):
    """d reduced loss / d (each unweighted per-element loss), times ``grad_output``: 1 for 'sum',
    1 / normalizer for 'mean', each element's own gradient for 'none'; times the weight if any.

    A 'mean' with every target ignored has no term, and PyTorch's gradient is then 0, not 0 / 0:
    nothing is divided.
    """
    if ctx.reduction == "mean" and ctx.counted and ctx.normalizer:
        grad_output = grad_output / ctx.normalizer
    elif ctx.reduction == "mean" and ctx.counted:
        with ignoring_float_errors():  # weights that sum to 0 give nan, as in PyTorch
            grad_output = grad_output / ctx.normalizer
    elif ctx.spread_shape is not None:
        grad_output = grad_output.reshape(ctx.spread_shape)
    return grad_output if ctx.weight is None else grad_output * ctx.weight


def count_or_total(losses, weight):
    """What 'mean' divides by in PyTorch's weighted mse_loss and l1_loss: Σ weight, else the count."""
    return losses.size if weight is None else weight.sum()


# ----------------------------------------------------------------------------- element by element
class MseLoss(Op):
    """Input, target and the optional (constant) weight broadcast together."""

    formula = "(input - target)²"
    derivatives = ("2 (input - target)", "-2 (input - target)", None, None)

    @staticmethod
    def forward(ctx, input, target, weight, reduction):
        ctx.save_for_backward(input, target)
        difference = input - target
        losses = difference * difference
        return reduced(ctx, losses, reduction, count_or_total(losses, weight), weight)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        grad_input = spread_back(ctx, grad_output) * 2.0 * (input - target)
        return grad_input, -grad_input if ctx.needs_input_grad[1] else None, None, None


class L1Loss(Op):
    """Input, target and the optional (constant) weight broadcast together."""

    formula = "|input - target|"
    derivatives = ("sign(input - target)", "-sign(input - target)", None, None)

    @staticmethod
    def forward(ctx, input, target, weight, reduction):
        ctx.save_for_backward(input, target)
        losses = xp.abs(input - target)
        return reduced(ctx, losses, reduction, count_or_total(losses, weight), weight)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        grad_input = spread_back(ctx, grad_output) * ctx.xp.sign(input - target)
        return grad_input, -grad_input if ctx.needs_input_grad[1] else None, None, None


class SmoothL1Loss(Op):
    """Quadratic near 0 (a smooth gradient), linear far away (robust to outliers); beta > 0."""

    formula = "d² / (2 beta) where |d| < beta, else |d| - beta / 2,  d = input - target"
    derivatives = ("d / beta where |d| < beta, else sign(d)", "-(d / beta where |d| < beta, else sign(d))", None, None)

    @staticmethod
    def forward(ctx, input, target, beta, reduction):
        ctx.save_for_backward(input, target)
        ctx.beta = beta
        difference = input - target
        size = xp.abs(difference)
        losses = xp.where(size < beta, 0.5 * difference * difference / beta, size - 0.5 * beta)
        return reduced(ctx, losses, reduction, losses.size)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        difference = input - target
        slope = ctx.xp.where(ctx.xp.abs(difference) < ctx.beta, difference / ctx.beta, ctx.xp.sign(difference))
        grad_input = spread_back(ctx, grad_output) * slope
        return grad_input, -grad_input if ctx.needs_input_grad[1] else None, None, None


LOG_FLOOR = -100.0  # PyTorch clamps ln p here, so p = 0 gives a loss of 100 instead of inf
EPSILON = 1e-12  # ... and keeps p (1 - p) away from 0 in the gradient


class BinaryCrossEntropy(Op):
    """``input``: probabilities in [0, 1] (after a sigmoid); 'mean' divides by the element count
    even when weighted, as PyTorch."""

    formula = "-(target ln input + (1 - target) ln(1 - input)),  each ln at least -100"
    derivatives = ("(input - target) / max(input (1 - input), 1e-12)", "ln(1 - input) - ln input", None, None)

    @staticmethod
    def forward(ctx, input, target, weight, reduction):
        ctx.save_for_backward(input, target)
        with ignoring_float_errors():  # ln 0 = -inf, floored
            log_p = xp.maximum(xp.log(input), LOG_FLOOR)
            log_not_p = xp.maximum(xp.log1p(-input), LOG_FLOOR)
        losses = -(target * log_p + (1 - target) * log_not_p)
        return reduced(ctx, losses, reduction, losses.size, weight)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        xp = ctx.xp
        scale = spread_back(ctx, grad_output)
        grad_input = scale * (input - target) / xp.maximum(input * (1.0 - input), EPSILON)
        grad_target = None
        if ctx.needs_input_grad[1]:
            with ignoring_float_errors():  # ln 0 = -inf, floored
                grad_target = scale * (xp.maximum(xp.log1p(-input), LOG_FLOOR) - xp.maximum(xp.log(input), LOG_FLOOR))
        return grad_input, grad_target, None, None


class BinaryCrossEntropyWithLogits(Op):
    """The binary cross-entropy of σ(input), from the logits directly (stable for any input):
    it equals -[pos_weight · target · ln σ(input) + (1 - target) ln(1 - σ(input))]. ``pos_weight``
    (constant; 1 when None) weighs the positive class and broadcasts along the last dimension."""

    formula = "(1 - target) input + (1 + (pos_weight - 1) target) ln(1 + e^-input)"
    derivatives = (
        "(1 + (pos_weight - 1) target) σ(input) - pos_weight · target",
        "(pos_weight - 1) ln(1 + e^-input) - input",
        None, None, None,
    )

    @staticmethod
    def forward(ctx, input, target, weight, pos_weight, reduction):
        ctx.save_for_backward(input, target)
        ctx.pos_weight = pos_weight = 1.0 if pos_weight is None else pos_weight
        losses = (1 - target) * input + (1 + (pos_weight - 1) * target) * log_one_plus_exp(xp, -input)
        return reduced(ctx, losses, reduction, losses.size, weight)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        pos_weight = ctx.pos_weight
        scale = spread_back(ctx, grad_output)
        grad_input = scale * ((1.0 + target * (pos_weight - 1.0)) * special(ctx.xp, "sigmoid")(input) - target * pos_weight)
        grad_target = None
        if ctx.needs_input_grad[1]:
            grad_target = scale * (log_one_plus_exp(ctx.xp, -input) * (pos_weight - 1.0) - input)
        return grad_input, grad_target, None, None, None


# ----------------------------------------------------------------------------- multi-class
class CrossEntropy(Op):
    """Cross-entropy of the logits ``input`` against a target given as weights q of the
    log-probabilities: for class indices q_ic = w_{y_i} [c = y_i] (label smoothing and ignored
    samples: see ``ClassIndexTargets``), for class probabilities q_ic = y_ic w_c (see
    ``ClassProbabilityTargets``). forward builds them from the target array (integer: indices,
    floating: probabilities), so that a compiled program rebuilds them from each call's target.

    The log-softmax is fused in, and the softmax recomputed from the saved input in backward, so
    that a recorded backward differentiates through it (a plain backward for plain class indices
    reuses forward's instead). Shapes: input (N, C), (N, C, d1, ...) or
    (C,). For class indices the gradient is w_{y_i} (p_ic - [c = y_i]).
    """

    formula = "-Σ_c q_c ln p_c,  p = softmax(input) over the classes"
    derivatives = ("p Σ_c q_c - q", "-(1 - label_smoothing) w ln p  (class probabilities)", None, None, None, None)

    @staticmethod
    def forward(ctx, input, target, weight, reduction, ignore_index, label_smoothing):
        ctx.save_for_backward(input, target)
        if target.dtype.kind == "f":
            targets = ClassProbabilityTargets(input, target, weight, label_smoothing)
        else:
            targets = ClassIndexTargets(input, target, weight, ignore_index, label_smoothing)
        ctx.targets, axis = targets, targets.axis
        # The maxima of the rows shift x before e^x, so that nothing overflows. Any shift gives the
        # same softmax, so backward may reuse them as the constants they are: finding a maximum
        # along a short axis is the slowest step of the whole loss.
        ctx.shift = max_shift(input, (axis,))
        with ignoring_float_errors():  # x - max is -inf beyond the float range, and e^-inf = 0
            shifted = input - ctx.shift
            exponentials = xp.exp(shifted)
            total = exponentials.sum(axis=axis, keepdims=True)
            log_total = xp.log(total)
            # For plain class indices the gradient is p - one-hot: p is kept for a plain backward
            # rather than recomputed there (the same bits: the same e^x and sum).
            ctx.probabilities = exponentials / total if targets.plain and ctx.needs_input_grad[:1] == (True,) else None
            if targets.plain:  # -ln p at the targets, -(shifted - ln Σ), is ln Σ - shifted there: the same bits
                losses = log_total[:, 0] - shifted.reshape(-1)[targets.positions]
            else:
                losses = targets.loss(shifted - log_total, target)
        return reduced(ctx, losses, reduction, targets.normalizer, class_axis=axis, counted=targets.counted)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        targets, xp = ctx.targets, ctx.xp
        scale = spread_back(ctx, grad_output)
        if ctx.probabilities is not None and type(input) is type(ctx.shift):
            # q is one-hot and Σ_c q_c = 1: 1 subtracted at each target gives p - q bit for bit
            # without building q. Only on arrays (the shift always is one): a recorded backward
            # computes on tensors, from the input, so that it can be differentiated again.
            probabilities = ctx.probabilities.copy()  # a second backward (retain_graph) needs p again
            probabilities.reshape(-1)[targets.positions] -= 1  # the copy is C-ordered: reshape is a view
            return probabilities * scale, None, None, None, None, None
        with ignoring_float_errors():
            exponentials = xp.exp(input - ctx.shift)
            total = exponentials.sum(axis=targets.axis, keepdims=True)
            q, class_totals = targets.weights(target)
            grad_input = (exponentials / total * class_totals - q) * scale
            grad_target = None
            if ctx.needs_input_grad[1]:
                grad_target = (input - ctx.shift - xp.log(total)) * scale * -targets.target_slope
        return grad_input, grad_target, None, None, None, None


class NllLoss(Op):
    """``input`` holds log-probabilities (the output of log_softmax); q are the class-index
    targets' weights (``ClassIndexTargets``): w_{y_i} at the target's class, 0 elsewhere, and 0 for
    ignored samples, which add nothing ('mean' divides by Σ w_{y_i} over the samples kept)."""

    formula = "-Σ_c q_c input_c = -w[target] · input[target]"
    derivatives = ("-q", None, None, None, None)

    @staticmethod
    def forward(ctx, input, target, weight, reduction, ignore_index):
        ctx.save_for_backward(target)
        ctx.targets = targets = ClassIndexTargets(input, target, weight, ignore_index)
        losses = targets.loss(input, target)
        return reduced(ctx, losses, reduction, targets.normalizer, class_axis=targets.axis, counted=targets.counted)

    @staticmethod
    def backward(ctx, grad_output):
        (target,) = ctx.saved_tensors
        q, _ = ctx.targets.weights(target)
        return spread_back(ctx, grad_output) * -q, None, None, None, None


# ----------------------------------------------------------------------------- targets as weights
def class_axis_of(input):
    """The class dimension: 1 for batched input (N, C, ...), 0 for a single sample (C,)."""
    return 0 if input.ndim == 1 else 1


def _not_negative(values):
    return values >= 0


def _negative_variance(var):
    return ValueError(f"var has negative entry/entries (gaussian_nll_loss needs variances ≥ 0, got minimum {var._array.min()})")


def _weighted_sum(q, values, axis):
    """Σ_c q_c values_c along ``axis``; a term with q_c = 0 is 0 even where values_c = -inf
    (a logit of -inf for a class that is not the target costs nothing, as in PyTorch)."""
    with ignoring_float_errors():
        return xp.where(q != 0, q * values, 0).sum(axis=axis)


def _weights_along(class_weights, axis, ndim):
    """The class weights (C,) shaped to broadcast along ``axis`` of an ``ndim``-dimensional input."""
    shape = [1] * ndim
    shape[axis] = class_weights.shape[0]
    return class_weights.reshape(shape)


class ClassIndexTargets:
    """Class-index targets (the input's shape without C) as weights q of the log-probabilities:

        q_ic = (1 - eps) w_{y_i} [c = y_i] + (eps / C) w_c,   and q_i = 0 where y_i = ignore_index

    with class weights w (1 when not given) and label smoothing eps. ``normalizer`` (what 'mean'
    divides by) is Σ w_{y_i} over the samples kept. An index outside [0, C) that is not
    ignore_index raises IndexError, as PyTorch does. q is a constant, built when needed.

    The common case, a batch (N, C) with no class weights, no smoothing and no ignored sample, is
    ``plain``: q is then one-hot, and the loss picks ln p_{i, y_i} without building q, at
    ``positions``, i C + y_i, the targets' places in the input flattened (one index array reads
    and writes there at half the cost of two, rows and columns).
    """

    target_slope = 0.0  # integer targets get no gradient

    def __init__(self, input, indices, weight, ignore_index, label_smoothing=0.0):
        shape = input.shape
        self.axis = axis = class_axis_of(input)
        self.classes = classes = shape[axis]
        self.ndim, self.dtype = len(shape), input.dtype
        self.label_smoothing = label_smoothing
        # Seen as unsigned, a negative index is huge: one maximum checks both ends of [0, C).
        in_range = indices.size == 0 or int(xp.maximum.reduce(indices.view(_UNSIGNED[indices.itemsize]), axis=None)) < classes
        ignores_some = (0 <= ignore_index < classes or not in_range) and bool((indices == ignore_index).any())
        self.plain = self.ndim == 2 and weight is None and not label_smoothing and not ignores_some
        self.counted = True
        if self.plain and in_range:
            self.index = indices
            self.positions = indices + _row_starts(indices.shape[0], classes)
            self.normalizer = indices.shape[0]
            return
        kept = indices != ignore_index
        if not in_range:
            _check_class_range(indices, kept, classes, shape, ignore_index)
        self.plain = False
        self.index = xp.where(kept, indices, 0)
        self.kept = kept.astype(self.dtype)
        self.class_weights = xp.ones(classes, self.dtype) if weight is None else weight.astype(self.dtype)
        self.target_weight = self.kept if weight is None else self.class_weights[self.index] * self.kept
        self.normalizer = self.target_weight.sum()
        self.counted = bool(kept.any())

    def loss(self, log_probabilities, target):
        """loss_i = -Σ_c q_ic ln p_ic, per sample (``target`` is already known as the indices)."""
        if self.plain:
            return -log_probabilities.reshape(-1)[self.positions]
        return -_weighted_sum(self.weights(target)[0], log_probabilities, self.axis)

    def weights(self, target):
        """``(q, Σ_c q_ic)``, the class dimension kept in the sums: constants."""
        axis, per_sample = self.axis, self.index.shape[: self.axis] + (1,) + self.index.shape[self.axis :]
        one_hot = (_weights_along(xp.arange(self.classes), axis, self.ndim) == self.index.reshape(per_sample)).astype(self.dtype)
        if self.plain:
            return one_hot, 1.0
        eps = self.label_smoothing
        totals = (1 - eps) * self.target_weight
        q = one_hot * totals.reshape(per_sample)
        if eps:
            spread = self.class_weights * (eps / self.classes)
            q = q + _weights_along(spread, axis, self.ndim) * self.kept.reshape(per_sample)
            totals = totals + spread.sum() * self.kept
        return q, totals.reshape(per_sample)


_UNSIGNED = {size: xp.dtype(f"u{size}") for size in (1, 2, 4, 8)}  # the unsigned integer type of each width


@functools.lru_cache(maxsize=16)
def _row_starts(rows, classes):
    """0, C, 2C, ... (``rows`` of them): where each row of an (N, C) array starts when flattened.
    Kept for the next batch of the same size (read-only)."""
    return read_only(xp.arange(0, rows * classes, classes))


def _check_class_range(indices, kept, classes, input_shape, ignore_index):
    """PyTorch's IndexError for a class index outside [0, C) that is not ignore_index."""
    out_of_range = (kept & ((indices < 0) | (indices >= classes))).nonzero()
    if out_of_range[0].size:
        bad = int(indices[out_of_range][0])
        raise IndexError(
            f"Target {bad} is out of bounds. (class indices must lie in [0, {classes - 1}] for input "
            f"of shape {tuple(input_shape)} with {classes} classes, or equal ignore_index={ignore_index})"
        )


class ClassProbabilityTargets:
    """Class-probability targets y (the input's shape) as weights q of the log-probabilities:

        q_ic = (y_ic (1 - eps) + eps / C) w_c,    d q_ic / d y_ic = (1 - eps) w_c  (target_slope)

    ``normalizer`` is the number of samples (every dimension but C), as PyTorch's 'mean' uses.
    """

    counted = True
    plain = False  # q is not one-hot

    def __init__(self, input, target, weight, label_smoothing=0.0):
        self.axis = class_axis_of(input)
        self.class_weights = None if weight is None else _weights_along(weight.astype(input.dtype), self.axis, input.ndim)
        self.label_smoothing = label_smoothing
        self.normalizer = target.size // max(target.shape[self.axis], 1)
        slope = 1 - label_smoothing
        self.target_slope = slope if self.class_weights is None else slope * self.class_weights

    def loss(self, log_probabilities, target):
        """loss_i = -Σ_c q_ic ln p_ic, per sample."""
        return -_weighted_sum(self.weights(target)[0], log_probabilities, self.axis)

    def weights(self, target):
        """``(q, Σ_c q_ic)`` from ``target`` (an array, or a tensor in a recorded backward, so that
        they are differentiable), the class dimension kept in the sums."""
        q = target
        if self.label_smoothing:
            q = target * (1 - self.label_smoothing) + self.label_smoothing / target.shape[self.axis]
        if self.class_weights is not None:
            q = q * self.class_weights
        return q, q.sum(axis=self.axis, keepdims=True)


# ----------------------------------------------------------------------------- Huber
class HuberLoss(SmoothL1Loss):
    """delta × smooth_l1 with beta = delta: the same kink at |d| = delta, but slope ±delta beyond it
    (smooth_l1's slope is ±1), so the loss is the squared error d² / 2 near 0 whatever delta."""

    formula = "d² / 2 where |d| < delta, else delta (|d| - delta / 2),  d = input - target"
    derivatives = ("d where |d| < delta, else delta sign(d)", "-(d where |d| < delta, else delta sign(d))", None, None)

    @staticmethod
    def forward(ctx, input, target, delta, reduction):
        return SmoothL1Loss.forward(ctx, input, target, delta, reduction) * delta

    @staticmethod
    def backward(ctx, grad_output):
        return SmoothL1Loss.backward(ctx, grad_output * ctx.beta)


# ----------------------------------------------------------------------------- composed losses
# The losses below are compositions of recorded operations, as in PyTorch (their nodes are the
# last operation's: MeanBackward0 for 'mean'); their gradients and second derivatives come free.
REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average, reduce):
    """The reduction PyTorch's deprecated flags mean (None counts as True): 'none' without
    ``reduce``, else 'mean' with ``size_average``, else 'sum'."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else "mean" if size_average else "sum"


def reduction_from(size_average, reduce, reduction, allowed=REDUCTIONS):
    """The reduction to use: ``reduction``, or one from PyTorch's deprecated ``size_average`` and
    ``reduce`` flags (with its warning) when either is given; the old ``'elementwise_mean'`` is
    'mean', with PyTorch's warning."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
        warn_at_caller(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.")
        return reduction
    if reduction == "elementwise_mean":  # PyTorch 0.4's name for 'mean', still read with a warning
        warn_at_caller("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.")
        return "mean"
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction (use one of {', '.join(map(repr, allowed))})")
    return reduction


def reduce_losses(losses, reduction):
    """The per-element losses kept ('none'), added ('sum') or averaged ('mean')."""
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


def warn_if_broadcasting(input, target):
    """PyTorch's warning, word for word, for a target whose shape differs from the input's (it
    broadcasts), given at the line that called the loss function."""
    if tuple(target.shape) != tuple(input.shape):
        warn_at_caller(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            f"Please ensure they have the same size.",
        )


def not_implemented_for_integers(input, kernel, operation=None):
    """PyTorch's error for a loss asked to compute in an integer (or bool) dtype, which its
    ``kernel`` does not support (``operation``: the loss, where it is not the kernel)."""
    return NotImplementedError(
        f'"{kernel}" not implemented for \'{dtypes.scalar_type_name(input._array.dtype)}\' ({operation or kernel}: '
        f"the input is {input.dtype}; convert it first, e.g. input.float())"
    )


def check_weight_dtype(input, weight):
    """PyTorch's error for class weights whose dtype is not the input's (the kernels of nll_loss
    and multi_margin_loss take both in one dtype)."""
    if weight is not None and weight._array.dtype != input._array.dtype:
        raise RuntimeError(
            f"expected scalar type {dtypes.scalar_type_name(input._array.dtype)} but found "
            f"{dtypes.scalar_type_name(weight._array.dtype)} (the class weight's dtype must be the input's: weight.to(input.dtype))"
        )


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """The Huber loss of d = input - target: d² / 2 for |d| < delta, delta (|d| - delta / 2)
    beyond: squared error near the target, absolute error (robust to outliers) far from it.

    Shapes: input (*), target broadcasting to it (with a warning unless equal) -> () or, for
    'none', the broadcast shape. ``weight`` (the input's shape) multiplies each element's loss;
    'mean' then still divides by the element count, as PyTorch.
    """
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real):
        raise TypeError(f"huber_loss(): argument 'delta' (position 4) must be float, not {type(delta).__name__}")
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta. (got delta={delta}: use delta > 0)")
    broadcast_shape(input, target, "huber_loss")
    warn_if_broadcasting(input, target)
    reduction = reduction_from(None, None, reduction)
    if not input.is_floating_point():  # the loss has the input's dtype, as PyTorch's
        if target.is_floating_point():
            raise RuntimeError(
                f"result type {dtypes.scalar_type_name(target._array.dtype)} can't be cast to the desired output type "
                f"{dtypes.scalar_type_name(input._array.dtype)} (huber_loss computes in the input's dtype: convert it, e.g. input.float())"
            )
        raise not_implemented_for_integers(input, "huber_loss")
    target = target.to(input.dtype)
    if weight is None:
        return HuberLoss.apply(input, target, delta, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"Weights and input must have the same size (huber_loss: weight {tuple(weight.shape)}, input {tuple(input.shape)}).")
    return reduce_losses(HuberLoss.apply(input, target, delta, "none") * weight, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """The Kullback-Leibler divergence KL(target ‖ input) from log-probabilities ``input``:
    target (ln target - input) elementwise (0 where target = 0), or with ``log_target`` (the target
    given as log-probabilities too) e^target (target - input).

    Shapes: input (*), target broadcasting with it -> () or, for 'none', the broadcast shape.
    'batchmean' divides the sum by the batch size input.shape[0]: that is the divergence of the
    distributions. 'mean' divides by the element count (PyTorch warns, and so does this).
    """
    reduction = reduction_from(size_average, reduce, reduction, REDUCTIONS + ("batchmean",))
    if input.dtype.kind != "f" or target.dtype.kind != "f":
        raise RuntimeError(
            f"kl_div: Integral inputs not supported. (input {input.dtype.name}, target {target.dtype.name}: "
            f"pass log-probabilities and probabilities as floats, .float())"
        )
    if reduction == "mean":
        warn_at_caller(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
        )
    if log_target:
        losses = exp(target) * (target - input)
    else:
        losses = xlogy(target, target) - target * input
    if reduction != "batchmean":
        return reduce_losses(losses, reduction)
    total = losses.sum()
    return total / input.shape[0] if input.ndim else total


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
    """The negative log-likelihood of counts ``target`` under Poisson distributions with rates λ:
    λ - target ln λ, given ``input`` = ln λ (``log_input``, the default: e^input - target · input)
    or ``input`` = λ (λ - target ln(λ + eps)).

    ``full`` adds Stirling's approximation of ln(target!), target ln target - target
    + ½ ln(2π target), for targets above 1. Shapes: input (*), target broadcasting with it -> ()
    or, for 'none', the broadcast shape.
    """
    reduction = reduction_from(size_average, reduce, reduction)
    if log_input:
        losses = exp(input) - target * input
    else:
        losses = input - target * log(input + eps)
    if full:
        counted = target > 1
        safe = where(counted, target, 1.0)  # ln of a target ≤ 1 is never used: keep it finite
        stirling = safe * log(safe) - safe + 0.5 * log(2 * math.pi * safe)
        losses = losses + where(counted, stirling, 0.0)
    return reduce_losses(losses, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """The negative log-likelihood of ``target`` under Gaussians with means ``input`` and variances
    ``var``: ½ (ln var + (input - target)² / var), plus ½ ln 2π with ``full``.

    Shapes: input (*), target (*); var (*) (one variance per element), the input's shape without
    its last dimension or with one dimension 1 (shared variances), or a number. Variances below
    ``eps`` count as eps in the value; the gradient still reaches var, as in PyTorch.
    """
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = full_like(input, var)
    else:  # (checked on each call of a compiled step too: the variances are values)
        checked(computed_without_gradient(_not_negative, [var]), _negative_variance, var)
    if tuple(var.shape) != tuple(input.shape):
        mismatched = var.ndim == input.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not mismatched:
            raise ValueError(
                f"var is of incorrect size ({tuple(var.shape)} for input {tuple(input.shape)}: give it the input's "
                f"shape, the input's shape without the last dimension, or the input's shape with one dimension 1)"
            )
    if reduction not in REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    var = var + (clamp(var, min=eps) - var).detach()
    losses = 0.5 * (log(var) + (input - target) ** 2 / var)
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return reduce_losses(losses, reduction)
