"""Losses as fused operations: one node computes the loss and sends its gradient straight back.

A loss composed of primitives (log_softmax, then pick the target's entry, then mean) records a node
per step and keeps each step's array; the fused forms here record one node each, and are written in
their numerically stable form: log-softmax with the maximum subtracted, so logits of 1000 give finite
losses, and the logistic loss through softplus, so large logits neither overflow nor lose precision.

Every loss reduces its per-element (or per-sample) losses as ``reduction`` asks: 'none' keeps them,
'sum' adds them, 'mean' divides the sum by a normalizer: the element count, or for weighted class
losses the sum of the weights of the targets used (PyTorch's weighted mean).

The public functions with PyTorch's signatures and checks are in ``chainrule.nn.functional``.
"""
from chainrule.autograd import grad_mode
from chainrule.autograd.function import Function
from chainrule.backend import xp
from chainrule.ops import activation
from chainrule.ops.elementwise import clamp, log, sign, where
from chainrule.ops.reduce import max_shift
from chainrule.tensor import tensor_from_array


# ----------------------------------------------------------------------------- shared by every loss
def _reduce(ctx, loss, reduction, normalizer, class_axis=None, weight=None):
    """The per-element losses ``loss``, times ``weight`` if given, reduced as ``reduction`` says.

    ``ctx`` remembers how, for ``_spread_back``. ``class_axis`` is the input dimension that the
    per-sample losses summed away (class losses), None for losses that compare input and target
    element by element.
    """
    ctx.reduction, ctx.normalizer, ctx.class_axis, ctx.weight = reduction, normalizer, class_axis, weight
    if weight is not None:
        loss = loss * weight.array
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    with xp.errstate(divide="ignore", invalid="ignore"):
        return total / normalizer


def _spread_back(ctx, grad_output):
    """d reduced loss / d (each unweighted per-element loss), times ``grad_output``.

    'sum': each loss counts once; 'mean': 1 / normalizer; 'none': each element's own gradient (with
    the class dimension put back, so it broadcasts against the input); times the weight if any.
    """
    if ctx.reduction == "none":
        spread = grad_output if ctx.class_axis is None else grad_output.unsqueeze(ctx.class_axis)
    elif ctx.reduction == "mean":
        # A normalizer of 0 means every target was ignored: no term is left, and PyTorch's gradient
        # is then 0 (not 0/0), so divide by 1.
        spread = grad_output / (ctx.normalizer or 1)
    else:
        spread = grad_output
    return spread if ctx.weight is None else spread * ctx.weight


def saved_or_recomputed(saved, recompute):
    """A value that ``forward`` computed (an array, or a tuple of arrays), for use in ``backward``.

    A plain backward pass uses the saved arrays as constants: fast. Under ``create_graph=True`` the
    backward pass is itself recorded, to be differentiated again, so the value is recomputed from
    the inputs with tensor operations (``recompute()``) and its own dependence on them is recorded.
    """
    if grad_mode.is_grad_enabled():
        return recompute()
    if isinstance(saved, tuple):
        return tuple(tensor_from_array(array) for array in saved)
    return tensor_from_array(saved)


# ----------------------------------------------------------------------------- input vs target
class Squared:
    """f(d) = d^2;   f'(d) = 2 d"""

    def value(self, difference):
        return difference * difference

    def slope(self, difference):
        return 2.0 * difference


class Absolute:
    """f(d) = |d|;   f'(d) = sign(d)"""

    def value(self, difference):
        return xp.abs(difference)

    def slope(self, difference):
        return sign(difference)


class SmoothAbsolute:
    """f(d) = d^2 / (2 beta) where |d| < beta, else |d| - beta / 2;   f'(d) = d / beta there, else sign(d)

    Quadratic near 0 (smooth gradient), linear far away (robust to outliers); ``beta > 0``.
    """

    def __init__(self, beta):
        self.beta = beta

    def value(self, difference):
        size = xp.abs(difference)
        return xp.where(size < self.beta, 0.5 * difference * difference / self.beta, size - 0.5 * self.beta)

    def slope(self, difference):
        return where(abs(difference) < self.beta, difference / self.beta, sign(difference))


class DifferenceLoss(Function):
    """loss = w f(input - target) per element, then reduced;
    d loss / d input = w f'(input - target) = -d loss / d target

    ``penalty`` supplies f and f': ``Squared`` (MSE), ``Absolute`` (L1), ``SmoothAbsolute`` (smooth L1).
    Input and target broadcast together. With weights w (or None: 1), 'mean' divides by their sum.
    """

    @staticmethod
    def forward(ctx, input, target, weight, penalty, reduction):
        ctx.save_for_backward(input, target)
        ctx.penalty = penalty
        loss = penalty.value(input.array - target.array)
        normalizer = loss.size if weight is None else weight.array.sum()
        return _reduce(ctx, loss, reduction, normalizer, weight=weight)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        grad = _spread_back(ctx, grad_output) * ctx.penalty.slope(input - target)
        return (
            grad if ctx.needs_input_grad[0] else None,
            -grad if ctx.needs_input_grad[1] else None,
            None,
            None,
            None,
        )


# ----------------------------------------------------------------------------- binary classification
_LOG_FLOOR = -100.0  # PyTorch clamps log(p) here, so p = 0 gives a loss of 100 instead of inf
_EPSILON = 1e-12  # ... and keeps p (1 - p) away from 0 in the gradient


class BinaryCrossEntropy(Function):
    """loss = -w [y log p + (1 - y) log(1 - p)], each log clamped at -100, then reduced;
    d loss / d p = w (p - y) / max(p (1 - p), 1e-12),   d loss / d y = w (log(1 - p) - log p)

    p (``input``) are probabilities in [0, 1]; y (``target``) of the same shape; w optional weights
    that broadcast against them.
    """

    @staticmethod
    def forward(ctx, input, target, weight, reduction):
        ctx.save_for_backward(input, target)
        p, y = input.array, target.array
        with xp.errstate(divide="ignore"):
            log_p = xp.maximum(xp.log(p), _LOG_FLOOR)
            log_not_p = xp.maximum(xp.log1p(-p), _LOG_FLOOR)
        loss = -(y * log_p + (1 - y) * log_not_p)
        return _reduce(ctx, loss, reduction, loss.size, weight=weight)

    @staticmethod
    def backward(ctx, grad_output):
        p, y = ctx.saved_tensors
        scale = _spread_back(ctx, grad_output)
        grad_p = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_p = scale * (p - y) / clamp(p * (1.0 - p), min=_EPSILON)
        if ctx.needs_input_grad[1]:
            grad_y = scale * (clamp(log(1.0 - p), min=_LOG_FLOOR) - clamp(log(p), min=_LOG_FLOOR))
        return grad_p, grad_y, None, None


class BinaryCrossEntropyWithLogits(Function):
    """The binary cross-entropy of sigmoid(x), from the logits x directly (stable for any x):

        loss = w [(1 - y) x + L softplus(-x)],   L = 1 + (q - 1) y
             = -w [q y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))]
        d loss / d x = w [L sigmoid(x) - q y]           (= w (sigmoid(x) - y) when q = 1)
        d loss / d y = w [(q - 1) softplus(-x) - x]

    with softplus(-x) = log(1 + e^-x) = max(-x, 0) + log(1 + e^-|x|) (no overflow), w optional
    weights and q the optional ``pos_weight`` (weight of the positive class, broadcast along the
    last dimension).
    """

    @staticmethod
    def forward(ctx, input, target, weight, pos_weight, reduction):
        ctx.save_for_backward(input, target)
        ctx.pos_weight = pos_weight
        x, y = input.array, target.array
        softplus_of_minus_x = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        log_weight = 1 if pos_weight is None else 1 + (pos_weight.array - 1) * y
        loss = (1 - y) * x + log_weight * softplus_of_minus_x
        return _reduce(ctx, loss, reduction, loss.size, weight=weight)

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        scale = _spread_back(ctx, grad_output)
        grad_x = grad_y = None
        if ctx.pos_weight is None:
            if ctx.needs_input_grad[0]:
                grad_x = scale * (activation.sigmoid(x) - y)
            if ctx.needs_input_grad[1]:
                grad_y = -scale * x
        else:
            pos_weight = ctx.pos_weight
            if ctx.needs_input_grad[0]:
                grad_x = scale * ((1.0 + (pos_weight - 1.0) * y) * activation.sigmoid(x) - pos_weight * y)
            if ctx.needs_input_grad[1]:
                grad_y = scale * ((pos_weight - 1.0) * activation.softplus(-x) - x)
        return grad_x, grad_y, None, None, None


# ----------------------------------------------------------------------------- multi-class
def class_axis_of(input):
    """The class dimension: 1 for batched input (N, C, ...), 0 for a single sample (C,)."""
    return 0 if input.ndim == 1 else 1


def _log_softmax(logits, axis):
    """``(log p, p)`` for p = softmax(logits) along ``axis``, with the maximum subtracted first.

    log p = (x - m) - log sum e^(x - m): every exponent is at most 0, so nothing overflows and the
    largest logit's term is exactly 1 (the sum is at least 1: its log never meets 0).
    """
    shifted = logits - max_shift(logits, axis)
    exponentials = xp.exp(shifted)
    total = exponentials.sum(axis=axis, keepdims=True)
    return shifted - xp.log(total), exponentials / total


def _weights_along(class_weights, axis, ndim):
    """The class weights (C,) shaped to broadcast along ``axis`` of an ``ndim``-dimensional input."""
    shape = [1] * ndim
    shape[axis] = class_weights.shape[0]
    return class_weights.reshape(shape)


class ClassTargets:
    """Class-index targets, checked and prepared once for a class loss.

    - ``kept``: which samples count (target != ignore_index),
    - ``safe``: the target indices, 0 where ignored (so they can index arrays),
    - ``target_weight``: w_{y_i} for kept samples, 0 for ignored ones (w = 1 without weights).

    An index outside [0, C) that is not ignore_index raises IndexError, as PyTorch does.
    """

    def __init__(self, input, target, weight, ignore_index):
        self.axis = class_axis_of(input)
        self.classes = input.shape[self.axis]
        indices = target.array
        self.kept = indices != ignore_index
        out_of_range = self.kept & ((indices < 0) | (indices >= self.classes))
        if out_of_range.any():
            bad = int(indices[out_of_range].reshape(-1)[0])
            raise IndexError(
                f"Target {bad} is out of bounds. Class indices must lie in [0, {self.classes - 1}] for "
                f"input of shape {tuple(input.shape)} with {self.classes} classes (or equal "
                f"ignore_index={ignore_index})."
            )
        self.safe = xp.where(self.kept, indices, 0)
        self.class_weights = None if weight is None else weight.array.astype(input.dtype)
        kept = self.kept.astype(input.dtype)
        self.target_weight = kept if weight is None else self.class_weights[self.safe] * kept

    def picked(self, values):
        """values_{i, y_i}: each sample's entry at its target class (ignored ones read class 0)."""
        index = xp.expand_dims(self.safe, self.axis)
        return xp.take_along_axis(values, index, self.axis).squeeze(self.axis)

    def weights_per_class(self, shape, dtype, label_smoothing=0.0):
        """q, of the input's shape: how much each log-probability counts in the loss.

        q_ic = (1 - eps) w_{y_i} [c = y_i] + (eps / C) w_c, and 0 for ignored samples.
        """
        q = xp.zeros(shape, dtype=dtype)
        index = xp.expand_dims(self.safe, self.axis)
        xp.put_along_axis(q, index, xp.expand_dims((1 - label_smoothing) * self.target_weight, self.axis), self.axis)
        if label_smoothing:
            spread = xp.ones(self.classes, dtype) if self.class_weights is None else self.class_weights
            spread = _weights_along(spread, self.axis, len(shape)) * (label_smoothing / self.classes)
            q += spread * xp.expand_dims(self.kept, self.axis)
        return q


def _softmax_gradient(probabilities, target_weights, class_axis):
    """d loss / d logits of loss = -sum_c q_c log softmax(x)_c:   p_c * sum_k q_k - q_c"""
    return probabilities * target_weights.sum(class_axis, keepdim=True) - target_weights


class CrossEntropy(Function):
    """Cross-entropy of logits x against class indices y, with the log-softmax fused in:

        log p_ic  = x_ic - log sum_k e^(x_ik)                (stable: see _log_softmax)
        loss_i    = -(1 - eps) w_{y_i} log p_{i, y_i} - (eps / C) sum_c w_c log p_ic
                  = -sum_c q_ic log p_ic
        d loss_i / d x_ic = p_ic sum_k q_ik - q_ic           (= w_{y_i} (p_ic - [c = y_i]) for eps = 0)

    w are the class weights (1 when not given), eps the label smoothing; ignored samples add
    nothing. 'mean' divides by the sum of w_{y_i} over the samples used. Shapes: input (N, C),
    (N, C, d1, ...) or (C,); target: the input's shape without C.
    """

    @staticmethod
    def forward(ctx, input, targets, reduction, label_smoothing):
        axis = targets.axis
        log_probabilities, probabilities = _log_softmax(input.array, axis)
        loss = -(1 - label_smoothing) * targets.target_weight * targets.picked(log_probabilities)
        if label_smoothing:
            spread = log_probabilities if targets.class_weights is None else (
                log_probabilities * _weights_along(targets.class_weights, axis, input.ndim)
            )
            loss = loss - (label_smoothing / targets.classes) * spread.sum(axis=axis) * targets.kept
        ctx.save_for_backward(input)
        ctx.probabilities, ctx.targets, ctx.label_smoothing = probabilities, targets, label_smoothing
        return _reduce(ctx, loss, reduction, targets.target_weight.sum(), axis)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        axis = ctx.class_axis
        probabilities = saved_or_recomputed(ctx.probabilities, lambda: activation.softmax(input, axis))
        q = ctx.targets.weights_per_class(input.shape, input.dtype, ctx.label_smoothing)
        grad_input = _softmax_gradient(probabilities, tensor_from_array(q), axis) * _spread_back(ctx, grad_output)
        return grad_input, None, None, None


def soft_target_weights(target, class_weights, label_smoothing, axis):
    """q = (y (1 - eps) + eps / C) w_c for class probabilities y (arrays or tensors alike)."""
    classes = target.shape[axis]
    q = target * (1 - label_smoothing) + label_smoothing / classes if label_smoothing else target
    if class_weights is not None:
        q = q * _weights_along(class_weights, axis, target.ndim)
    return q


class SoftCrossEntropy(Function):
    """Cross-entropy of logits x against class probabilities y (same shape as x):

        loss_i = -sum_c q_ic log softmax(x_i)_c,   q_ic = (y_ic (1 - eps) + eps / C) w_c
        d loss_i / d x_ic = p_ic sum_k q_ik - q_ic,    d loss_i / d y_ic = -(1 - eps) w_c log p_ic

    'mean' divides by the number of samples (every dimension but C), as PyTorch does.
    """

    @staticmethod
    def forward(ctx, input, target, class_weights, reduction, label_smoothing):
        axis = class_axis_of(input)
        log_probabilities, probabilities = _log_softmax(input.array, axis)
        q = soft_target_weights(target.array, class_weights, label_smoothing, axis)
        loss = -(q * log_probabilities).sum(axis=axis)
        ctx.save_for_backward(input, target)
        ctx.arrays = log_probabilities, probabilities, q
        ctx.class_weights, ctx.label_smoothing = class_weights, label_smoothing
        return _reduce(ctx, loss, reduction, loss.size, axis)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        axis, label_smoothing, class_weights = ctx.class_axis, ctx.label_smoothing, ctx.class_weights
        log_probabilities, probabilities, q = ctx.arrays
        scale = _spread_back(ctx, grad_output)
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            probabilities = saved_or_recomputed(probabilities, lambda: activation.softmax(input, axis))
            q = saved_or_recomputed(q, lambda: soft_target_weights(target, class_weights, label_smoothing, axis))
            grad_input = _softmax_gradient(probabilities, q, axis) * scale
        if ctx.needs_input_grad[1]:
            log_probabilities = saved_or_recomputed(log_probabilities, lambda: activation.log_softmax(input, axis))
            grad_target = -(1 - label_smoothing) * soft_target_weights(log_probabilities, class_weights, 0.0, axis) * scale
        return grad_input, grad_target, None, None, None


class NegativeLogLikelihood(Function):
    """loss_i = -w_{y_i} x_{i, y_i}, for x holding log-probabilities (the output of log_softmax);
    d loss_i / d x_ic = -w_{y_i} [c = y_i]

    'mean' divides by the sum of w_{y_i} over the samples used; ignored samples add nothing.
    """

    @staticmethod
    def forward(ctx, input, targets, reduction):
        ctx.shape, ctx.dtype, ctx.targets = input.shape, input.dtype, targets
        loss = -targets.target_weight * targets.picked(input.array)
        return _reduce(ctx, loss, reduction, targets.target_weight.sum(), targets.axis)

    @staticmethod
    def backward(ctx, grad_output):
        q = ctx.targets.weights_per_class(ctx.shape, ctx.dtype)
        return -tensor_from_array(q) * _spread_back(ctx, grad_output), None, None
