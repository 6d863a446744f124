"""Questions about a tensor asked as functions, as PyTorch offers them: ``chainrule.numel(x)``."""
from chainrule.tensor import Tensor


def is_tensor(obj):
    """True when ``obj`` is a chainrule Tensor (a Parameter included)."""
    return isinstance(obj, Tensor)


def _expect_tensor(input, operation):
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{operation}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}; "
            f"wrap it with chainrule.tensor(...)"
        )


def is_floating_point(input):
    """True when ``input`` holds floating-point numbers (float16, float32 or float64)."""
    _expect_tensor(input, "is_floating_point")
    return input.is_floating_point()


def numel(input):
    """The number of elements of ``input``: the product of its sizes."""
    _expect_tensor(input, "numel")
    return input.numel()
