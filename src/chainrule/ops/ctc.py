"""The connectionist temporal classification loss (CTC): the negative log-probability of a label
sequence summed over every alignment of it to the input's time steps (Graves et al., 2006).

The labels are extended with blanks, l' = (blank, l1, blank, l2, ..., lL, blank), 2L + 1 places.
The forward variables α_t(s) (log-probability of emitting l'(1..s) by step t) and the backward
variables β_t(s) (of emitting l'(s..) from step t on) follow one recursion each, in log space,
vectorized over the batch and the places, a Python loop over time steps only. Samples of
different lengths share the loop: a sample's α stops changing after its last step, and its β
starts there.
"""
import functools

from chainrule.backend import c_library_math, ignoring_float_errors, xp
from chainrule.ops.loss import reduction_from
from chainrule.ops.op import Op
from chainrule.tensor import tensor_from_array


def _extended_labels(targets, target_lengths, blank):
    """l' (N, 2·S + 1): blanks at even places, the labels at odd ones; places past a sample's
    2·L + 1 hold blanks (nothing reaches them from the end, so they never count)."""
    batch, longest = targets.shape
    extended = xp.full((batch, 2 * longest + 1), blank, dtype=xp.int64)
    used = xp.arange(longest) < target_lengths[:, None]
    extended[:, 1::2] = xp.where(used, targets, blank)
    return extended


def _log_sum_exp(*terms):
    """log Σ exp(term), rounded as PyTorch's CTC kernel rounds it: each term less the largest (0
    where all are -inf), exponentiated, summed left to right, logged, the largest added back."""
    largest = functools.reduce(xp.maximum, terms)
    largest = xp.where(largest == -xp.inf, 0.0, largest)
    return _c_library("log", sum(_c_library("exp", term - largest) for term in terms)) + largest


def _c_library(name, array):
    """``name`` ("exp", "log") of ``array`` in its dtype, as the C library's ``std::exp`` and
    ``std::log`` that PyTorch's CTC kernel calls element by element (NumPy's SIMD versions differ
    from them in the last bit now and then, which the recursions carry on). The C library's
    float32 functions compute in double and round once, so float32 takes NumPy's double."""
    if array.dtype == xp.float32:
        return getattr(xp, name)(array.astype(xp.float64)).astype(xp.float32)
    return c_library_math(name, array)


def _shifted(values, by, fill):
    """``values`` (N, S) moved ``by`` places along S (right for by > 0), ``fill`` coming in."""
    moved = xp.full(values.shape, fill, dtype=values.dtype)
    if by > 0:
        moved[:, by:] = values[:, :-by]
    else:
        moved[:, :by] = values[:, -by:]
    return moved


def _forward_variables(emissions, extended, input_lengths, target_lengths, blank):
    """log α (T, N, S') and the log-likelihood of each sample's labels (N,)."""
    steps, batch, places = emissions.shape
    place = xp.arange(places)
    skip_allowed = (place >= 2) & (extended != blank) & (extended != _shifted(extended, 2, -1))
    alpha = xp.full((steps, batch, places), -xp.inf, dtype=emissions.dtype)
    if steps:
        alpha[0, :, 0] = emissions[0, :, 0]
        if places > 1:  # (every target empty: the blank is the only place)
            alpha[0, :, 1] = xp.where(target_lengths > 0, emissions[0, :, 1], -xp.inf)
    for step in range(1, steps):
        previous = alpha[step - 1]
        skipped = xp.where(skip_allowed, _shifted(previous, 2, -xp.inf), -xp.inf)
        advanced = _log_sum_exp(previous, _shifted(previous, 1, -xp.inf), skipped) + emissions[step]
        alpha[step] = xp.where((step < input_lengths)[:, None], advanced, previous)
    rows = xp.arange(batch)
    if not steps:
        alpha_end = xp.full((batch, places), -xp.inf, dtype=emissions.dtype)
    else:
        alpha_end = alpha[-1]
    last_blank = alpha_end[rows, 2 * target_lengths]
    last_label = xp.where(target_lengths > 0, alpha_end[rows, xp.maximum(2 * target_lengths - 1, 0)], -xp.inf)
    likelihood = _log_sum_exp(last_blank, last_label)
    empty = input_lengths == 0
    return alpha, xp.where(empty, xp.where(target_lengths == 0, 0.0, -xp.inf), likelihood).astype(emissions.dtype)


def _backward_variables(emissions, extended, input_lengths, target_lengths):
    """log β (T, N, S'): β at a sample's last step is its emission at the last two places, -inf
    after its last step."""
    steps, batch, places = emissions.shape
    place = xp.arange(places)
    skip_allowed = (place + 2 < places) & (extended != _shifted(extended, -2, -1))
    at_end = (place == 2 * target_lengths[:, None]) | ((place == 2 * target_lengths[:, None] - 1) & (target_lengths[:, None] > 0))
    beta = xp.full((steps, batch, places), -xp.inf, dtype=emissions.dtype)
    following = beta[0] if steps else None
    for step in range(steps - 1, -1, -1):
        skipped = xp.where(skip_allowed, _shifted(following, -2, -xp.inf), -xp.inf)
        advanced = _log_sum_exp(following, _shifted(following, -1, -xp.inf), skipped) + emissions[step]
        start = xp.where(at_end, emissions[step], -xp.inf)
        last = (step == input_lengths - 1)[:, None]
        before = (step < input_lengths - 1)[:, None]
        beta[step] = xp.where(last, start, xp.where(before, advanced, -xp.inf))
        following = beta[step]
    return beta


class CtcLoss(Op):
    """Each sample's -log p(labels | input) from log_probs (T, N, C).

    The gradient is PyTorch's: exp(log_probs) - γ, with γ[t, n, c] = Σ_{s: l'(s) = c} α_t(s) β_t(s)
    / (p · exp(log_probs[t, n, c])), the expected occupancy of class c at step t. It is the
    gradient with respect to the *scores before a log_softmax* (the exp(log_probs) term vanishes
    through the log_softmax's backward), which is how CTC is used; taken with respect to
    arbitrary log_probs it differs from the true derivative -γ by exp(log_probs), as in PyTorch.
    Steps past a sample's input length get 0. The backward is that array times the arriving
    gradient; differentiating it again treats γ as a constant (PyTorch has no second derivative)."""

    formula = "out[n] = -log Σ over alignments π of labels[n] Π_t exp(log_probs[t, n, π_t])"
    derivatives = ("(exp(log_probs) - occupancy / exp(log_probs)) · grad", None, None, None, None, None)

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        extended = _extended_labels(targets, target_lengths, blank)
        emissions = xp.take_along_axis(log_probs, xp.broadcast_to(extended[None], (log_probs.shape[0],) + extended.shape), axis=2)
        with ignoring_float_errors():
            alpha, likelihood = _forward_variables(emissions, extended, input_lengths, target_lengths, blank)
            beta = _backward_variables(emissions, extended, input_lengths, target_lengths)
            loss = -likelihood
            occupancy = _log_occupancy(alpha + beta, extended, log_probs.shape[2])
            gradient = _c_library("exp", log_probs) - _c_library("exp", occupancy + loss[None, :, None] - log_probs)
        gradient = xp.where((xp.arange(log_probs.shape[0])[:, None] < input_lengths)[:, :, None], gradient, 0.0)
        if zero_infinity:
            infinite = loss == xp.inf
            loss = xp.where(infinite, 0.0, loss)
            gradient = xp.where(infinite[None, :, None], 0.0, gradient)
        ctx.gradient = gradient.astype(log_probs.dtype)
        return loss.astype(log_probs.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.reshape((1, -1, 1)) * ctx.gradient, None, None, None, None, None


def _log_occupancy(log_products, extended, classes):
    """log Σ_{s: l'(s) = c} exp(log_products[t, n, s]) for every class c: (T, N, C), summed as
    PyTorch's kernel does, one place at a time from the last to the first (a term of -inf
    leaves the sum as it is)."""
    steps, batch, places = log_products.shape
    occupancy = xp.full((steps, batch, classes), -xp.inf, dtype=log_products.dtype)
    rows = xp.arange(batch)
    for place in range(places - 1, -1, -1):
        classes_here = extended[:, place]
        so_far, term = occupancy[:, rows, classes_here], log_products[:, :, place]
        occupancy[:, rows, classes_here] = xp.where(so_far == -xp.inf, term, _log_sum_exp(so_far, term))
    return occupancy


def _lengths(lengths, batch, name, operation):
    """Lengths given as a tensor, a sequence or (unbatched) an int, as an int64 array (N,)."""
    array = lengths._array if hasattr(lengths, "_array") else xp.asarray(lengths)
    if array.dtype.kind not in "iu":
        if hasattr(lengths, "_array"):  # PyTorch's words for a tensor; its argument parser's TypeError for a sequence
            raise RuntimeError(f"{name} must be integral ({operation}: got a {array.dtype} tensor; convert it with .long())")
        raise TypeError(f"{operation}(): {name} must be integers (a tensor or a tuple of ints), got {array.dtype}")
    array = array.reshape(-1).astype(xp.int64)
    if array.shape[0] != batch:
        raise RuntimeError(f"{name} must be of size batch_size ({operation}: got {array.shape[0]} lengths for a batch of {batch})")
    return array


def _padded_targets(targets, target_lengths, batch, operation):
    """Targets (N, S) as given, or concatenated (sum of lengths,) cut into rows, as an int64 array."""
    array = targets._array
    if array.ndim == 2:
        if target_lengths.size and target_lengths.max() > array.shape[1]:
            raise RuntimeError(
                f"Expected tensor to have size at least {int(target_lengths.max())} at dimension 1, but got size "
                f"{array.shape[1]} for argument #2 'targets' ({operation}: a target length is longer than the padded targets)"
            )
        return array.astype(xp.int64)
    total = int(target_lengths.sum())
    if array.ndim != 1 or array.shape[0] < total:
        raise RuntimeError(
            f"Expected tensor to have size {total} at dimension 0, but got size {array.shape[0] if array.ndim else 0} "
            f"for argument #2 'targets' ({operation}: concatenated targets hold the sum of the target lengths)"
        )
    longest = int(target_lengths.max()) if batch else 0
    padded = xp.zeros((batch, longest), dtype=xp.int64)
    starts = xp.concatenate([[0], xp.cumsum(target_lengths)[:-1]]).astype(xp.int64)
    for row, (start, length) in enumerate(zip(starts, target_lengths)):
        padded[row, :length] = array[start : start + length]
    return padded


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """The CTC loss of log_probs (T, N, C) (log_softmax outputs over C classes, blank included)
    against targets, padded (N, S) or concatenated (sum(target_lengths),); unbatched (T, C) with
    targets (S,). ``input_lengths`` and ``target_lengths`` (N,) give each sample's lengths.

    reduction 'none' gives each sample's loss (N,); 'sum' their sum; 'mean' the mean over the
    batch of each loss divided by its target length. ``zero_infinity`` replaces infinite losses
    (no alignment possible: the input too short) and their gradients by 0.
    """
    operation = "ctc_loss"
    reduction = reduction_from(None, None, reduction)
    if not log_probs.dtype.is_floating_point:
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for {log_probs.dtype}: pass log_softmax outputs (floating point)')
    if log_probs.numel() == 0:
        raise RuntimeError(f"log_probs tensor must not be empty ({operation}: got shape {tuple(log_probs.shape)})")
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(
            f"Expected 3-dimensional tensor, but got {log_probs.ndim}-dimensional tensor for argument #1 'log_probs' "
            f"({operation}: log_probs is (T, N, C), or (T, C) unbatched)"
        )
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0) if targets.ndim == 1 else targets
    steps, batch, classes = log_probs.shape
    input_lengths = _lengths(input_lengths, batch, "input_lengths", operation)
    target_lengths = _lengths(target_lengths, batch, "target_lengths", operation)
    if not 0 <= blank < classes:
        raise RuntimeError(f"blank must be in label range ({operation}: blank {blank} with {classes} classes)")
    for name, lengths, most in (("input_lengths", input_lengths, steps), ("target_lengths", target_lengths, None)):
        if lengths.size and lengths.min() < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value {int(lengths.min())} ({operation})")
        if most is not None and lengths.size and lengths.max() > most:
            raise RuntimeError(f"Expected {name} to have value at most {most}, but got value {int(lengths.max())} ({operation})")
    padded = _padded_targets(targets, target_lengths, batch, operation)
    used = xp.arange(padded.shape[1]) < target_lengths[:, None]
    if ((padded < 0) | (padded >= classes))[used].any():
        raise IndexError(f"{operation}: target labels must lie in [0, {classes}), got {padded[used].min()} .. {padded[used].max()}")
    losses = CtcLoss.apply(log_probs, padded, input_lengths, target_lengths, blank, zero_infinity)
    if reduction == "mean":
        divisor = tensor_from_array(xp.maximum(target_lengths, 1).astype(log_probs._array.dtype))
        return (losses / divisor).mean()
    if reduction == "sum":
        return losses.sum()
    return losses.squeeze(0) if unbatched else losses
