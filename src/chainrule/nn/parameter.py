"""Parameter: a tensor that a Module learns.

Assigning a ``Parameter`` to a module attribute (``self.weight = Parameter(...)``) registers it, so
that ``module.parameters()`` hands it to the optimizer. It is a leaf that requires grad: after
``loss.backward()`` its ``.grad`` holds d loss / d parameter.
"""
from chainrule import dtypes
from chainrule.backend import xp
from chainrule.tensor import Tensor, init_leaf


class Parameter(Tensor):
    """A leaf tensor registered by the Module it is assigned to, like ``torch.nn.Parameter``.

    ``Parameter(data)`` shares ``data``'s memory (no copy), as PyTorch's does; ``Parameter()`` is an
    empty float tensor.

    >>> Parameter(chainrule.ones(2))
    Parameter containing:
    tensor([1., 1.], requires_grad=True)
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            array = xp.empty((0,), dtype=dtypes.get_default_dtype())
        elif isinstance(data, Tensor):
            array = data.array
        else:
            raise TypeError(
                f"Parameter(data): data must be a Tensor, got {type(data).__name__}; wrap it first, "
                f"e.g. Parameter(chainrule.tensor(data))"
            )
        init_leaf(self, array)
        self.requires_grad = requires_grad

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
