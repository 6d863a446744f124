"""``chainrule.masked``, as ``torch.masked``: operations that count only the elements where a
boolean mask is True.

A padded batch of sequences has positions that are no data: a mean over time, a softmax over
attention scores or a variance must skip them. ``masked.mean(x, 1, mask=valid)`` does, without
writing the padding's value into the formula.

- ``reductions.py``: sum, prod, amax, amin, argmax, argmin, logsumexp, norm;
- ``statistics.py``: mean, var, std, median (NaN where a slice keeps nothing);
- ``normalizations.py``: softmax, log_softmax, softmin, normalize, cumsum, cumprod, logaddexp;
- ``masks.py``: how each replaces the masked-out elements with its identity (all are
  differentiable through chainrule's ``where``).
"""
from chainrule.masked.normalizations import cumprod, cumsum, log_softmax, logaddexp, normalize, softmax, softmin
from chainrule.masked.reductions import amax, amin, argmax, argmin, logsumexp, norm, prod, sum  # noqa: A004
from chainrule.masked.statistics import mean, median, std, var

__all__ = [
    "amax", "amin", "argmax", "argmin", "cumprod", "cumsum", "log_softmax", "logaddexp", "logsumexp", "mean", "median",
    "norm", "normalize", "prod", "softmax", "softmin", "std", "sum", "var",
]
