"""``cond`` and ``while_loop``: PyTorch's structured if-statement and loop,
``chainrule.cond(pred, true_fn, false_fn, operands)`` and ``chainrule.while_loop(cond_fn, body_fn,
carried_inputs)``.

PyTorch writes data-dependent branches with it so that ``torch.compile`` and ``torch.export`` can
capture both. Run eagerly it is this if-statement::

    if pred:
        return true_fn(*operands)
    return false_fn(*operands)

and so it is here, with PyTorch's checks of its arguments. (PyTorch also compiles both branches and
requires them to give tensors of the same shapes and dtypes; chainrule runs only the branch taken,
whose gradient flows as the gradient of any code.) ``while_loop`` is, run eagerly, the loop::

    values = carried_inputs
    while cond_fn(*values):
        values = body_fn(*values)
    return values

with PyTorch's rule that every step returns values of the carried inputs' structure, shapes and
dtypes; the gradient flows through the steps taken.
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


class UncapturedHigherOrderOpError(RuntimeError):
    """What PyTorch raises (``torch._dynamo.exc.UncapturedHigherOrderOpError``) when a structured
    control-flow operator's functions break its rules."""


def while_loop(cond_fn, body_fn, carried_inputs):
    """Run ``values = body_fn(*values)`` from ``carried_inputs`` (a tuple or list of tensors and
    ints) while ``cond_fn(*values)`` holds (a bool or one-element tensor); returns the last values,
    as a tuple. Each step must return as many values as it was given, each of the same kind and,
    for tensors, of the same shape and dtype (UncapturedHigherOrderOpError otherwise)."""
    if not isinstance(carried_inputs, (tuple, list)):
        raise AssertionError("Can't unpack scalar tensors." if isinstance(carried_inputs, Tensor) else
                             f"carried_inputs must be a tuple or list, got {type(carried_inputs).__name__}")
    if not callable(cond_fn) or not callable(body_fn):
        raise RuntimeError("Expect cond_fn and body_fn to be callable.")
    values = tuple(carried_inputs)
    while _holds(cond_fn(*values)):
        values = _checked_step(body_fn(*values), values)
    return values


def _holds(condition):
    """The truth of ``cond_fn``'s answer: a Python bool, or a tensor of one element."""
    if isinstance(condition, Tensor) and condition.numel() != 1:
        raise UncapturedHigherOrderOpError(
            f"torch.while_loop: unsupported cond_fn return type: expected cond_fn to return a scalar tensor or a bool "
            f"but got {condition.shape}"
        )
    return bool(condition)


def _checked_step(output, carried):
    """``output`` of one step as a tuple, after PyTorch's checks against the values it was given."""
    output = tuple(output) if isinstance(output, (tuple, list)) else (output,)
    if len(output) != len(carried):
        raise UncapturedHigherOrderOpError(
            f"Expected body_fn_output and carried_inputs to have same number of outputs but got {len(output)} and "
            f"{len(carried)}"
        )
    for position, (new, old) in enumerate(zip(output, carried)):
        for what, new_value, old_value in (("type", type(new).__name__, type(old).__name__),
                                           ("shape", getattr(new, "shape", None), getattr(old, "shape", None)),
                                           ("dtype", getattr(new, "dtype", None), getattr(old, "dtype", None))):
            if new_value != old_value and not (what == "type" and isinstance(new, Tensor) and isinstance(old, Tensor)):
                raise UncapturedHigherOrderOpError(
                    f"Expected body_fn_output and carried_inputs to have same metadata but found:\n"
                    f"pair[{position}] differ in '{what}: {new_value} vs {old_value}'"
                )
    return output
