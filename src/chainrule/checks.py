"""``torch._check`` and its kin: assertions that raise PyTorch's error types with a message.

Library code (and PyTorch's own Python) states its preconditions as ``torch._check(n > 0, lambda:
f"n must be positive, got {n}")``: when the condition is False the error is raised with the message
the callable returns (computed only then). ``_check`` raises RuntimeError, ``_check_index``
IndexError, ``_check_value`` ValueError, ``_check_type`` TypeError, ``_check_not_implemented``
NotImplementedError, ``_check_with`` the type it is given; ``_check_tensor_all`` asserts every
element of a bool tensor.
"""
import builtins
import warnings

from chainrule import dtypes
from chainrule.tensor import Tensor

_DEFAULT_MESSAGE = (
    "Expected cond to be True, but got False. (Could this error message be improved? If so, please report an "
    "enhancement request to PyTorch.)"
)


def _check_with(error_type, cond, message=None):
    """Raise ``error_type(message())`` unless ``cond`` (a bool) is True."""
    if not isinstance(cond, builtins.bool):
        if isinstance(cond, Tensor):
            raise TypeError(
                "cond must be a bool, but got a Tensor. For tensor conditions, use torch._check_tensor_all() to assert "
                "that all elements are true."
            )
        raise TypeError(f"cond must be a bool, but got {type(cond)}")
    if cond:
        return
    if not issubclass(error_type, Exception) or issubclass(error_type, Warning):
        raise AssertionError(f"error_type must be a subclass of Exception but not Warning, got {error_type}")
    if message is None:
        raise error_type(_DEFAULT_MESSAGE)
    if not callable(message):
        raise TypeError("message must be a callable")
    raise error_type(str(message()))


def _check(cond, message=None):
    """RuntimeError unless ``cond``."""
    _check_with(RuntimeError, cond, message)


def _check_index(cond, message=None):
    """IndexError unless ``cond``."""
    _check_with(IndexError, cond, message)


def _check_value(cond, message=None):
    """ValueError unless ``cond``."""
    _check_with(ValueError, cond, message)


def _check_type(cond, message=None):
    """TypeError unless ``cond``."""
    _check_with(TypeError, cond, message)


def _check_not_implemented(cond, message=None):
    """NotImplementedError unless ``cond``."""
    _check_with(NotImplementedError, cond, message)


def _check_is_size(i, message=None, *, max=None):
    """RuntimeError unless ``i`` is a size: ``0 <= i`` (and ``i <= max`` when given); deprecated, as
    in PyTorch 2.13, with its FutureWarning."""
    warnings.warn(
        "_check_is_size will be removed in a future PyTorch release along with guard_size_oblivious.     "
        "Use _check(i >= 0) instead.",
        FutureWarning, stacklevel=2,
    )
    _check(i >= 0, message)
    if max is not None:
        _check(i <= max, message)


def _check_tensor_all_with(error_type, cond, message=None):
    """Raise ``error_type`` unless every element of the bool tensor ``cond`` is True."""
    if not isinstance(cond, Tensor):
        raise TypeError(f"cond must be a tensor, but got {type(cond)}")
    if cond.dtype != dtypes.bool_:
        raise TypeError(f"cond tensor must have dtype torch.bool, but got {cond.dtype}")
    _check_with(error_type, builtins.bool(cond.all().item()), message)


def _check_tensor_all(cond, message=None):
    """RuntimeError unless every element of the bool tensor ``cond`` is True."""
    _check_tensor_all_with(RuntimeError, cond, message)
