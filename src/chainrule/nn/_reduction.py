"""``torch.nn._reduction``: a loss's reduction as ATen numbers it (0 'none', 1 'mean', 2 'sum'), and
PyTorch's old ``size_average``/``reduce`` flags read as a reduction. Losses written after PyTorch's
``_Loss`` import it as ``_Reduction``."""
import warnings

from chainrule.ops.loss import legacy_reduction

#: ATen's numbers of the reductions (the top-level losses, ``torch.kl_div(..., 1)``, take them too).
NUMBERS = {"none": 0, "mean": 1, "sum": 2}


def get_enum(reduction):
    """0, 1 or 2 for 'none', 'mean' or 'sum' ('elementwise_mean', PyTorch 0.4's name of 'mean', with its warning)."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=2)
        return 1
    if reduction not in NUMBERS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return NUMBERS[reduction]


def legacy_get_string(size_average, reduce, emit_warning=True):
    """The reduction the deprecated flags mean (None counts as True): 'none' without ``reduce``,
    else 'mean' with ``size_average``, else 'sum'."""
    reduction = legacy_reduction(size_average, reduce)
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.", stacklevel=2)
    return reduction


def legacy_get_enum(size_average, reduce, emit_warning=True):
    return get_enum(legacy_get_string(size_average, reduce, emit_warning))
