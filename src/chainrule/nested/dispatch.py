"""How an operation on a nested tensor finds its nested meaning: by PyTorch's name.

``NestedTensor.__torch_function__`` hands every chainrule function and Tensor method called with a
nested argument here (``chainrule.sin(nt)``, ``nt.sin()``, ``nt + nt``, ``F.linear(nt, w)``).
The files of this package declare what they support with ``@implements("sin", "cos", ...)``; a
handler gets the function called, its arguments and keywords, and answers with plain chainrule
operations on the components or the packed values, so that autograd records them as usual.

What reads the tensor without making a new one (``nt.dtype``, ``nt.requires_grad``,
``nt.requires_grad_()``, ``nt.element_size()``) runs on the packed values; every other operation
raises NotImplementedError naming it, as PyTorch does for the operations it has no nested kernel for.

``chainrule.compile`` records arrays, not the cuts of a nested tensor: a compiled function that
computes on one runs eagerly (with its warning), its results as eager ones.
"""
from chainrule.autograd.function import not_replayable
from chainrule.overrides import DisableTorchFunctionSubclass
from chainrule.tensor import Tensor

#: The handlers, by PyTorch's name of the operation (``"add"``, ``"linear"``, ``"__rsub__"``).
HANDLERS = {}

#: The methods that read the tensor and make no tensor: answered by the packed values.
READ_ONLY = {
    "requires_grad_", "retain_grad", "element_size", "numel", "nelement", "is_floating_point", "is_complex",
    "is_signed", "get_device", "data_ptr", "untyped_storage", "storage_offset", "is_pinned",
}


def implements(*names):
    """Register the decorated ``handler(func, args, kwargs)`` as the nested meaning of ``names``."""

    def register(handler):
        for name in names:
            HANDLERS[name] = handler
        return handler

    return register


def operation_name(func):
    """PyTorch's name of ``func``: a function's or method's own, a property getter's property's."""
    owner = getattr(func, "__self__", None)
    if isinstance(owner, property):  # Tensor.T's getter is named for what it does: its name is Tensor's
        return next((name for name, attribute in vars(Tensor).items() if attribute is owner), owner.fget.__name__)
    return getattr(func, "__name__", repr(func))


def handle(func, args, kwargs):
    """The result of ``func(*args, **kwargs)``, one of whose arguments is a nested tensor."""
    not_replayable("computes on a nested tensor, whose components a compiled program does not follow")
    name = operation_name(func)
    handler = HANDLERS.get(name)
    if handler is not None:
        return handler(func, args, kwargs or {})
    if name in READ_ONLY or getattr(func, "__name__", None) == "__get__":
        with DisableTorchFunctionSubclass():
            result = func(*args, **(kwargs or {}))
        if not isinstance(result, Tensor) or any(result is each for each in args):
            return result
    raise unsupported(name, next(each for each in (*args, *(kwargs or {}).values()) if getattr(each, "is_nested", False)))


def unsupported(name, nested):
    """PyTorch's NotImplementedError for an operation nested tensors lack, naming it and what to do."""
    return NotImplementedError(
        f"{name}(): not supported for nested tensors of layout {nested.layout!r}; apply it to the components "
        f"(nt.unbind()) or to a padded tensor (chainrule.nested.to_padded_tensor(nt, padding))"
    )
