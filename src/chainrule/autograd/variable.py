"""Variable: what tensors that record gradients were called before PyTorch 0.4, kept as PyTorch keeps it.

Since PyTorch 0.4 every tensor records gradients itself, and ``torch.autograd.Variable`` survives
for old code: ``Variable(x, requires_grad=True)`` returns a plain tensor, and
``isinstance(t, Variable)`` is true of every tensor. ``volatile=True`` (the old "no gradients
here") warns that it has no effect; ``with chainrule.no_grad():`` replaces it.
"""
import warnings


class _VariableMeta(type):
    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False, volatile=False)`` -> a tensor, as in PyTorch.

    The result is a new leaf that shares ``data``'s memory (``data.detach()``) and requires grad
    when asked; ``Variable()`` is an empty float tensor.

    >>> x = Variable(chainrule.ones(2), requires_grad=True)   # old tutorials; today: requires_grad_()
    """

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if data is None:
            data = Tensor(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if volatile:
            warnings.warn(
                "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                UserWarning,
                stacklevel=2,
            )
            if requires_grad:
                raise ValueError("Variable can't be volatile and require_grad at the same time!")
        result = data.detach()
        if requires_grad:
            result.requires_grad_(True)
        return result


from chainrule.autograd.engine import ExecutionEngine  # noqa: E402
from chainrule.tensor import Tensor  # noqa: E402  (tensor.py imports the autograd package)

Variable._execution_engine = ExecutionEngine()
