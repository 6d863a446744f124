"""``torch.nn._reduction``: a loss's reduction as ATen numbers it (0 'none', 1 'mean', 2 'sum'), and
PyTorch's old ``size_average``/``reduce`` flags read as a reduction. Losses written after PyTorch's
``_Loss`` import it as ``_Reduction``."""
import warnings

_NUMBERS = {"none": 0, "mean": 1, "sum": 2}


def get_enum(reduction):
    """0, 1 or 2 for 'none', 'mean' or 'sum' ('elementwise_mean', PyTorch 0.4's name of 'mean', with its warning)."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=2)
        return 1
    if reduction not in _NUMBERS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _NUMBERS[reduction]


def legacy_get_string(size_average, reduce, emit_warning=True):
    """The reduction the deprecated flags mean (None counts as True): 'none' without ``reduce``,
    else 'mean' with ``size_average``, else 'sum'."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "none" if not reduce else "mean" if size_average else "sum"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.", stacklevel=2)
    return reduction


def legacy_get_enum(size_average, reduce, emit_warning=True):
    return get_enum(legacy_get_string(size_average, reduce, emit_warning))
