"""``torch.utils.swap_tensors``: two tensor objects exchange everything they hold.

After ``swap_tensors(a, b)``, the object ``a`` has what ``b`` had (values, dtype, shape, class, its
place in the graph, ``requires_grad``, ``.grad``, attributes of the caller's own) and the other way
round, while every reference to ``a`` still reaches ``a``: ``nn.Module._apply`` uses it to change
parameters without changing the objects an optimizer holds.
"""
import weakref

from chainrule.autograd.function import gradient_edge

__all__ = ["swap_tensors"]


def swap_tensors(t1, t2):
    """Exchange the contents of the tensors ``t1`` and ``t2`` (see the module docstring).

    As in PyTorch, a tensor something holds a weak reference to cannot be swapped (RuntimeError),
    nor two whose classes have different slots; and a leaf whose gradient node a graph still holds
    has that node poisoned: a backward through the graph made before the swap raises instead of
    accumulating into the wrong tensor."""
    if weakref.getweakrefs(t1):
        raise RuntimeError("Cannot swap t1 because it has weakref associated with it")
    if weakref.getweakrefs(t2):
        raise RuntimeError("Cannot swap t2 because it has weakref associated with it")
    slots = _slot_names(type(t1))
    if slots != _slot_names(type(t2)):
        raise RuntimeError("Cannot swap t1 and t2 if they have different slots")
    for tensor in (t1, t2):
        _poison_gradient_node(tensor)
    t1.__class__, t2.__class__ = t2.__class__, t1.__class__
    t1.__dict__, t2.__dict__ = t2.__dict__, t1.__dict__
    for name in slots:
        missing = object()
        first, second = getattr(t1, name, missing), getattr(t2, name, missing)
        for tensor, value in ((t1, second), (t2, first)):
            if value is missing:
                if hasattr(tensor, name):
                    delattr(tensor, name)
            else:
                setattr(tensor, name, value)


def _slot_names(cls):
    """The slots of ``cls`` and its bases, without ``__dict__`` and ``__weakref__`` (as ``copyreg`` lists them)."""
    names = set()
    for klass in cls.__mro__:
        declared = klass.__dict__.get("__slots__", ())
        names.update([declared] if isinstance(declared, str) else declared)
    return names - {"__dict__", "__weakref__"}


def _poison_gradient_node(tensor):
    """Make the gradient node of ``tensor``, a leaf that requires grad, refuse to run: a graph made
    before the swap would otherwise send the gradient into the swapped contents. A node no graph
    holds is made here and goes again at once (its leaf holds it weakly)."""
    if tensor.grad_fn is not None or not tensor.requires_grad:
        return
    node, _ = gradient_edge(tensor)
    if node is not None:
        node.register_prehook(_refuse_to_run)


def _refuse_to_run(grad_outputs):
    raise RuntimeError(
        "Trying to execute AccumulateGrad node that was poisoned by swap_tensors this can happen when you try to run "
        "backward on a tensor that was swapped. For a module m with "
        "`torch.__future__.set_swap_module_params_on_conversion(True)` you should not change the device or dtype of "
        "the module (e.g. `m.cpu()` or `m.half()`) between running forward and backward. To resolve this, please only "
        "change the device/dtype before running forward (or after both forward and backward)."
    )
