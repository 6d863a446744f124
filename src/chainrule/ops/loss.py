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
from chainrule.autograd.function import Function, saved_or_recomputed
from chainrule.backend import xp
from chainrule.ops import activation
from chainrule.ops.elementwise import clamp, log, sign, where
from chainrule.tensor import Tensor, tensor_from_array


# ----------------------------------------------------------------------------- shared by every loss
def _reduce(ctx, loss, reduction, normalizer, class_axis=None, weight=None, counted=True):
    """The per-element losses ``loss``, times ``weight`` if given, reduced as ``reduction`` says.

    ``ctx`` remembers how, for ``_spread_back``. ``class_axis`` is the input dimension that the
    per-sample losses summed away (class losses), None for losses that compare input and target
    element by element.
    """
    ctx.reduction, ctx.normalizer, ctx.class_axis, ctx.weight = reduction, normalizer, class_axis, weight
    ctx.counted = counted  # False when every target was ignored: nothing to divide among
    if weight is not None:
        loss = loss * weight.array
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    if normalizer:
        return total / normalizer
    with xp.errstate(divide="ignore", invalid="ignore"):  # every target ignored: nan, as in PyTorch
        return total / normalizer


def _spread_back(ctx, grad_output):
    """d reduced loss / d (each unweighted per-element loss), times ``grad_output``.

    'sum': each loss counts once; 'mean': 1 / normalizer; 'none': each element's own gradient (with
    the class dimension put back, so it broadcasts against the input); times the weight if any.
    """
    grad_output, weight = ctx.operands(grad_output, ctx.weight)  # arrays in a plain backward
    if ctx.reduction == "none":
        if ctx.class_axis is None:
            spread = grad_output
        elif isinstance(grad_output, Tensor):
            spread = grad_output.unsqueeze(ctx.class_axis)
        else:
            spread = xp.expand_dims(grad_output, ctx.class_axis)
    elif ctx.reduction == "mean":
        # Every target ignored leaves no term, and PyTorch's gradient is then 0 (not 0/0): divide by
        # 1. Weights that sum to 0 over counted targets give nan, as in PyTorch.
        spread = grad_output / ctx.normalizer if ctx.counted else grad_output
    else:
        spread = grad_output
    return spread if weight is None else spread * weight


# ----------------------------------------------------------------------------- element by element
class _OfDifference:
    """A criterion that depends on d = input - target only: d loss / d target = -d loss / d input.

    Subclasses give ``value(d)`` on arrays and ``slope(d)`` = f'(d) with tensor operations.
    """

    # PyTorch's weighted mse_loss and l1_loss divide by sum(weight) for 'mean'.
    mean_divides_by_weight = True

    def loss(self, input, target):
        return self.value(input - target)

    def grad_input(self, input, target):
        return self.slope(input - target)

    def grad_target(self, input, target):
        return -self.slope(input - target)


class SquaredError(_OfDifference):
    """f(d) = d^2;   f'(d) = 2 d"""

    def value(self, difference):
        return difference * difference

    def slope(self, difference):
        return 2.0 * difference


class AbsoluteError(_OfDifference):
    """f(d) = |d|;   f'(d) = sign(d)"""

    def value(self, difference):
        return xp.abs(difference)

    def slope(self, difference):
        return sign(difference)


class SmoothAbsoluteError(_OfDifference):
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


_LOG_FLOOR = -100.0  # PyTorch clamps log(p) here, so p = 0 gives a loss of 100 instead of inf
_EPSILON = 1e-12  # ... and keeps p (1 - p) away from 0 in the gradient


class BinaryCrossEntropyOfProbabilities:
    """f(p, y) = -[y log p + (1 - y) log(1 - p)], each log clamped at -100;
    d f / d p = (p - y) / max(p (1 - p), 1e-12),   d f / d y = log(1 - p) - log p

    p are probabilities in [0, 1] (after a sigmoid), y the targets.
    """

    mean_divides_by_weight = False

    def loss(self, p, y):
        with xp.errstate(divide="ignore"):
            log_p = xp.maximum(xp.log(p), _LOG_FLOOR)
            log_not_p = xp.maximum(xp.log1p(-p), _LOG_FLOOR)
        return -(y * log_p + (1 - y) * log_not_p)

    def grad_input(self, p, y):
        return (p - y) / clamp(p * (1.0 - p), min=_EPSILON)

    def grad_target(self, p, y):
        return clamp(log(1.0 - p), min=_LOG_FLOOR) - clamp(log(p), min=_LOG_FLOOR)


class BinaryCrossEntropyOfLogits:
    """The binary cross-entropy of sigmoid(x), from the logits x directly (stable for any x):

        f(x, y) = (1 - y) x + L softplus(-x),   L = 1 + (q - 1) y
                = -[q y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))]
        d f / d x = L sigmoid(x) - q y         (= sigmoid(x) - y when q = 1)
        d f / d y = (q - 1) softplus(-x) - x

    with softplus(-x) = log(1 + e^-x) = max(-x, 0) + log(1 + e^-|x|) (no overflow) and q the
    ``pos_weight`` (a tensor broadcasting along the last dimension, or 1 when None).
    """

    mean_divides_by_weight = False

    def __init__(self, pos_weight=None):
        self.pos_weight = 1.0 if pos_weight is None else pos_weight

    def loss(self, x, y):
        pos_weight = self.pos_weight.array if isinstance(self.pos_weight, Tensor) else self.pos_weight
        softplus_of_minus_x = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        return (1 - y) * x + (1 + (pos_weight - 1) * y) * softplus_of_minus_x

    def grad_input(self, x, y):
        return (1.0 + (self.pos_weight - 1.0) * y) * activation.sigmoid(x) - self.pos_weight * y

    def grad_target(self, x, y):
        return (self.pos_weight - 1.0) * activation.softplus(-x) - x


class ElementwiseLoss(Function):
    """loss = w f(input, target) for each element, then reduced;
    d loss / d input = w * d f / d input,   d loss / d target = w * d f / d target

    ``criterion`` supplies f (``loss``, on arrays) and its partial derivatives (``grad_input``,
    ``grad_target``, with tensor operations): ``SquaredError`` (MSE), ``AbsoluteError`` (L1),
    ``SmoothAbsoluteError`` (smooth L1), ``BinaryCrossEntropyOfProbabilities``,
    ``BinaryCrossEntropyOfLogits``. Input, target and the optional weights w broadcast together;
    'mean' divides by the number of elements (by sum(w) for the weighted MSE and L1, as PyTorch).
    """

    @staticmethod
    def forward(ctx, input, target, weight, criterion, reduction):
        ctx.save_for_backward(input, target)
        ctx.criterion = criterion
        loss = criterion.loss(input.array, target.array)
        by_weight = weight is not None and criterion.mean_divides_by_weight
        normalizer = weight.array.sum() if by_weight else loss.size
        return _reduce(ctx, loss, reduction, normalizer, weight=weight)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        scale = _spread_back(ctx, grad_output)
        grad_input = scale * ctx.criterion.grad_input(input, target) if ctx.needs_input_grad[0] else None
        grad_target = scale * ctx.criterion.grad_target(input, target) if ctx.needs_input_grad[1] else None
        return grad_input, grad_target, None, None, None


# ----------------------------------------------------------------------------- multi-class
def class_axis_of(input):
    """The class dimension: 1 for batched input (N, C, ...), 0 for a single sample (C,)."""
    return 0 if input.ndim == 1 else 1


def _weighted_sum(q, values, axis):
    """sum_c q_c values_c along ``axis``; a term with q_c = 0 is 0 even where values_c = -inf
    (a logit of -inf for a class that is not the target costs nothing, as in PyTorch)."""
    with xp.errstate(invalid="ignore"):
        return xp.where(q != 0, q * values, 0).sum(axis=axis)


def _weights_along(class_weights, axis, ndim):
    """The class weights (C,) shaped to broadcast along ``axis`` of an ``ndim``-dimensional input."""
    shape = [1] * ndim
    shape[axis] = class_weights.shape[0]
    return class_weights.reshape(shape)


class _ClassWeights:
    """What cross-entropy needs of its targets, given as weights q of the log-probabilities."""

    def loss(self, log_probabilities):
        """loss_i = -sum_c q_ic log p_ic, per sample."""
        return -_weighted_sum(self.q, log_probabilities, self.axis)

    def grad_logits(self, probabilities):
        """d loss_i / d x_ic = p_ic sum_k q_ik - q_ic, on arrays (p = softmax of the logits)."""
        return probabilities * self.class_totals - self.q


class ClassIndexTargets(_ClassWeights):
    """Class-index targets (the input's shape without C) as weights q of the log-probabilities:

        q_ic = (1 - eps) w_{y_i} [c = y_i] + (eps / C) w_c,   and q_i = 0 where y_i = ignore_index

    with class weights w (1 when not given) and label smoothing eps. ``normalizer`` (what 'mean'
    divides by) is sum of w_{y_i} over the samples kept; ``class_totals`` is sum_c q_ic. An index
    outside [0, C) that is not ignore_index raises IndexError, as PyTorch does.

    The common case, a batch (N, C) with no class weights, no smoothing and no ignored sample, is
    ``plain``: q is then one-hot, so the loss picks log p_{i, y_i} and the gradient subtracts 1 at
    the targets, without building q at all.
    """

    def __init__(self, input, target, weight, ignore_index, label_smoothing=0.0):
        shape = input.array.shape
        self.axis = axis = class_axis_of(input)
        self.classes = classes = shape[axis]
        self.ndim, self.dtype = len(shape), input.array.dtype
        self.weight, self.label_smoothing = weight, label_smoothing
        indices = target.array
        # Seen as unsigned, a negative index is huge: one max() checks both ends of [0, C).
        in_range = indices.size == 0 or int(indices.view(f"u{indices.itemsize}").max()) < classes
        ignores_some = (0 <= ignore_index < classes or not in_range) and bool((indices == ignore_index).any())
        self.plain = self.ndim == 2 and weight is None and not label_smoothing and not ignores_some
        self.counted = True
        if self.plain and in_range:
            self.rows, self.index = xp.arange(indices.shape[0]), indices
            self.normalizer = indices.shape[0]
            return
        kept = indices != ignore_index
        if not in_range:
            _check_class_range(indices, kept, classes, shape, ignore_index)
        self.plain = False
        self.index = xp.where(kept, indices, 0)
        self.kept = kept.astype(input.dtype)
        self.class_weights = xp.ones(classes, input.dtype) if weight is None else weight.array.astype(input.dtype)
        self.target_weight = self.kept if weight is None else self.class_weights[self.index] * self.kept
        self.normalizer = self.target_weight.sum()
        self.counted = bool(kept.any())
        self._q = None

    def loss(self, log_probabilities):
        if self.plain:
            return -log_probabilities[self.rows, self.index]
        return super().loss(log_probabilities)

    def grad_logits(self, probabilities):
        if self.plain:
            grad = probabilities.copy()
            grad[self.rows, self.index] -= 1
            return grad
        return super().grad_logits(probabilities)

    @property
    def q(self):
        """The weights q (the input's shape), built on first use."""
        if self.plain:
            q = xp.zeros((self.rows.shape[0], self.classes), self.dtype)
            q[self.rows, self.index] = 1
            return q
        if self._q is None:
            axis, eps = self.axis, self.label_smoothing
            one_hot = _weights_along(xp.arange(self.classes), axis, self.ndim) == xp.expand_dims(self.index, axis)
            q = one_hot * xp.expand_dims((1 - eps) * self.target_weight, axis)
            totals = (1 - eps) * self.target_weight
            if eps:
                spread = self.class_weights * (eps / self.classes)
                q = q + _weights_along(spread, axis, self.ndim) * xp.expand_dims(self.kept, axis)
                totals = totals + spread.sum() * self.kept
            self._q, self._class_totals = q, xp.expand_dims(totals, axis)
        return self._q

    @property
    def class_totals(self):
        """sum_c q_ic with the class dimension kept (1 for every sample in the plain case)."""
        if self.plain:
            return xp.ones((self.rows.shape[0], 1), self.dtype)
        self.q  # noqa: B018  (builds both)
        return self._class_totals

    def recompute(self, target):
        """q and its class totals do not depend on anything differentiable: the same constants."""
        return self.q, self.class_totals


def _check_class_range(indices, kept, classes, input_shape, ignore_index):
    """PyTorch's IndexError for a class index outside [0, C) that is not ignore_index."""
    out_of_range = (kept & ((indices < 0) | (indices >= classes))).nonzero()
    if out_of_range[0].size:
        bad = int(indices[out_of_range][0])
        raise IndexError(
            f"Target {bad} is out of bounds. Class indices must lie in [0, {classes - 1}] for input "
            f"of shape {tuple(input_shape)} with {classes} classes (or equal ignore_index={ignore_index})."
        )


class ClassProbabilityTargets(_ClassWeights):
    """Class-probability targets y (the input's shape) as weights q of the log-probabilities:

        q_ic = (y_ic (1 - eps) + eps / C) w_c,    d q_ic / d y_ic = (1 - eps) w_c

    ``normalizer`` is the number of samples (every dimension but C), as PyTorch's 'mean' uses.
    """

    def __init__(self, input, target, weight, label_smoothing=0.0):
        self.axis = class_axis_of(input)
        self.class_weights = None if weight is None else _weights_along(weight.array.astype(input.dtype), self.axis, input.ndim)
        self.label_smoothing = label_smoothing
        self.normalizer = target.array.size // max(target.shape[self.axis], 1)
        self.counted = True
        self.q = self._weights(target.array)
        self.class_totals = self.q.sum(axis=self.axis, keepdims=True)

    def _weights(self, target):
        q = target
        if self.label_smoothing:
            q = target * (1 - self.label_smoothing) + self.label_smoothing / target.shape[self.axis]
        return q if self.class_weights is None else q * self.class_weights

    def recompute(self, target):
        """q and its class totals from the target tensor, so that they are differentiable."""
        q = self._weights(target)
        return q, q.sum(self.axis, keepdim=True)

    def grad_target(self, log_probabilities):
        """d loss_i / d y_ic = -(1 - eps) w_c log p_ic"""
        grad = log_probabilities * -(1 - self.label_smoothing)
        return grad if self.class_weights is None else grad * self.class_weights


class CrossEntropy(Function):
    """Cross-entropy of logits x against targets given as weights q (``ClassIndexTargets`` or
    ``ClassProbabilityTargets``), with the log-softmax fused in:

        log p_ic = x_ic - log sum_k e^(x_ik)          (stable: see activation.shifted_exponentials)
        loss_i   = -sum_c q_ic log p_ic
        d loss_i / d x_ic = p_ic sum_k q_ik - q_ic    (= w_{y_i} (p_ic - [c = y_i]) for class indices)

    then reduced ('mean' divides by the targets' normalizer). Shapes: input (N, C), (N, C, d1, ...)
    or (C,). The forward computes the softmax once and keeps it: the backward needs only it and q.
    """

    @staticmethod
    def forward(ctx, input, target, targets, reduction):
        axis = targets.axis
        shifted, exponentials, total = activation.shifted_exponentials(input.array, (axis,))
        log_probabilities, probabilities = shifted - xp.log(total), exponentials / total
        ctx.save_for_backward(input, target)
        ctx.targets, ctx.log_probabilities, ctx.probabilities = targets, log_probabilities, probabilities
        return _reduce(ctx, targets.loss(log_probabilities), reduction, targets.normalizer, axis, counted=targets.counted)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        targets, axis = ctx.targets, ctx.class_axis
        scale = _spread_back(ctx, grad_output)
        grad_input = grad_target = None
        if ctx.needs_input_grad[0] and not grad_mode.is_grad_enabled():
            grad_input = targets.grad_logits(ctx.probabilities) * scale
        elif ctx.needs_input_grad[0]:  # create_graph: the same formula, recorded with tensor operations
            probabilities = activation.softmax(input, axis)
            q, class_totals = targets.recompute(target)
            grad_input = (probabilities * class_totals - q) * scale
        if ctx.needs_input_grad[1]:
            log_probabilities = saved_or_recomputed(ctx.log_probabilities, lambda: activation.log_softmax(input, axis))
            grad_target = targets.grad_target(log_probabilities) * scale
        return grad_input, grad_target, None, None


class NegativeLogLikelihood(Function):
    """loss_i = -sum_c q_ic x_ic = -w_{y_i} x_{i, y_i}, for x holding log-probabilities (the output
    of log_softmax) and q from ``ClassIndexTargets``;   d loss_i / d x_ic = -q_ic

    'mean' divides by the sum of w_{y_i} over the samples kept; ignored samples add nothing.
    """

    @staticmethod
    def forward(ctx, input, targets, reduction):
        ctx.q = targets.q
        loss = targets.loss(input.array)
        return _reduce(ctx, loss, reduction, targets.normalizer, targets.axis, counted=targets.counted)

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.q * _spread_back(ctx, grad_output), None, None
