"""``chainrule.masked``, as ``torch.masked``: operations that count only the elements where a
boolean mask is True, and the MaskedTensor that carries its mask with it.

A padded batch of sequences has positions that are no data: a mean over time, a softmax over
attention scores or a variance must skip them. ``masked.mean(x, 1, mask=valid)`` does, without
writing the padding's value into the formula; so does ``masked_tensor(x, valid).mean(1)``.

- ``reductions.py``: sum, prod, amax, amin, argmax, argmin, logsumexp, norm;
- ``statistics.py``: mean, var, std, median (NaN where a slice keeps nothing);
- ``normalizations.py``: softmax, log_softmax, softmin, normalize, cumsum, cumprod, logaddexp;
- ``masks.py``: how each replaces the masked-out elements with its identity (all are
  differentiable through chainrule's ``where``);
- ``maskedtensor.py``: MaskedTensor (data and mask), ``creation.py``: masked_tensor, as_masked_tensor;
  ``operations.py``: what each operation does to its mask; ``printing.py``: ``--`` where masked out.
"""
from chainrule.masked import operations  # noqa: F401 (installs MaskedTensor's operations)
from chainrule.masked.creation import as_masked_tensor, masked_tensor
from chainrule.masked.maskedtensor import MaskedTensor, is_masked_tensor
from chainrule.masked.normalizations import cumprod, cumsum, log_softmax, logaddexp, normalize, softmax, softmin
from chainrule.masked.reductions import amax, amin, argmax, argmin, logsumexp, norm, prod, sum  # noqa: A004
from chainrule.masked.statistics import mean, median, std, var

__all__ = [
    "amax", "amin", "argmax", "argmin", "as_masked_tensor", "cumprod", "cumsum", "is_masked_tensor", "log_softmax", "logaddexp",
    "logsumexp", "masked_tensor", "MaskedTensor", "mean", "median", "norm", "normalize", "prod", "softmax", "softmin", "std",
    "sum", "var",
]
