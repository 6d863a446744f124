"""``cond``: PyTorch's structured if-statement, ``chainrule.cond(pred, true_fn, false_fn, operands)``.

PyTorch writes data-dependent branches with it so that ``torch.compile`` and ``torch.export`` can
capture both. Run eagerly it is this if-statement::

    if pred:
        return true_fn(*operands)
    return false_fn(*operands)

and so it is here, with PyTorch's checks of its arguments. (PyTorch also compiles both branches and
requires them to give tensors of the same shapes and dtypes; chainrule runs only the branch taken,
whose gradient flows as the gradient of any code.)
"""
from chainrule.tensor import Tensor


def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands)`` when ``pred`` holds, else ``false_fn(*operands)``. ``pred``: a Python
    bool (or number), or a tensor of one element; ``operands``: a tuple or list of tensors (nested
    in tuples, lists and dicts)."""
    if not isinstance(pred, (bool, int, float)):  # a constant chooses its branch unchecked, as in PyTorch
        _check_arguments(pred, true_fn, false_fn, operands)
    return true_fn(*operands) if pred else false_fn(*operands)


def _check_arguments(pred, true_fn, false_fn, operands):
    """PyTorch's checks of ``cond``'s arguments when ``pred`` is not a Python constant."""
    if not isinstance(pred, Tensor):
        raise RuntimeError(f"Expected pred to be bool or tensor, but got {pred}.")
    if pred.numel() != 1:
        raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got {pred}.")
    if not callable(true_fn) or not callable(false_fn):
        raise RuntimeError("Expect both branches to be callable.")
    if not isinstance(operands, (tuple, list)) or not _only_tensors(operands):
        raise RuntimeError(
            "Expect operands to be a tuple of possibly nested dict/list/tuple that only consists of tensor leaves, "
            f"but got {operands}."
        )


def _only_tensors(value):
    """Whether every leaf of ``value`` (nested tuples, lists and dicts) is a tensor."""
    if isinstance(value, (tuple, list)):
        return all(_only_tensors(item) for item in value)
    if isinstance(value, dict):
        return all(_only_tensors(item) for item in value.values())
    return isinstance(value, Tensor)
