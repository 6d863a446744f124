"""NestedTensor: a list of tensors of the same number of dimensions whose sizes may differ, held
as one packed tensor, so that an operation on all of them is one graph node (or one per component)
and autograd sees one tensor.

The nested tensor *is* its packed tensor (its ``_array``, its node, its ``requires_grad`` and
``.grad`` storage): a strided one packs its components flattened one after the other into one 1-D
buffer, a jagged one is its ``values`` (``strided.py``, ``jagged.py``). What differs from a plain
tensor's is only how that packed tensor is cut into components, which each layout's class keeps:

- ``components()``: the components, as plain tensors that are differentiable views of the packed one;
- ``packed(pieces, like)``: a nested tensor of the layout holding ``pieces`` (differentiable too);
- ``with_buffer(buffer)``: the same cuts around another packed tensor (a pointwise op's result).

Every operation reaches ``__torch_function__`` (``dispatch.py``), which finds its nested meaning.
"""
from chainrule.nested.dispatch import handle
from chainrule.overrides import DisableTorchFunctionSubclass
from chainrule.tensor import Tensor, detached


class NestedTensor(Tensor):
    """What both layouts share: the autograd view of the packed tensor and the list-like reading."""

    __slots__ = ()
    is_nested = True

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return handle(func, args, kwargs)

    # ------------------------------------------------------------------ structure (each layout's own)
    def components(self):
        """The components, as plain tensors (differentiable views of the packed tensor)."""
        raise NotImplementedError

    @classmethod
    def packed(cls, pieces, like):
        """A nested tensor of this layout holding the tensors ``pieces``, laid out as ``like`` where they fit."""
        raise NotImplementedError

    def with_buffer(self, buffer):
        """A nested tensor cut as this one around ``buffer``, a new plain tensor shaped as the
        packed one, which it becomes (its node too: ``(nt * 2).grad_fn`` is a MulBackward0)."""
        result = adopted(buffer, type(self))
        self.copy_structure_to(result)
        return result

    def copy_structure_to(self, other):
        """Give ``other`` this nested tensor's cuts (its layout's fields: sizes, or offsets and ragged dim)."""
        for slot in type(self).__slots__:
            setattr(other, slot, getattr(self, slot))

    def leaf_with_buffer(self, buffer, requires_grad=False):
        """A new leaf cut as this one around ``buffer`` (sharing its memory, without its history)."""
        result = Tensor._make_subclass(type(self), buffer, requires_grad)
        self.copy_structure_to(result)
        return result

    # ------------------------------------------------------------------ reading it as a list
    def values(self):
        """The packed tensor (a strided one's flat buffer, a jagged one's values), a differentiable view."""
        return Tensor(self)

    def unbind(self, dim=0):
        """The components, a tuple of tensors (views: gradients flow back into this nested tensor)."""
        if dim != 0:
            raise RuntimeError(f"unbind(): only supported for a nested tensor on dim=0 (its list of components), got dim={dim}")
        return tuple(self.components())

    def __iter__(self):
        return iter(self.unbind())

    def __len__(self):
        return self.size(0)

    def __getitem__(self, index):
        if not isinstance(index, int):
            raise NotImplementedError(f"__getitem__(): a nested tensor is indexed by one int only (its i-th component), got {index!r}")
        return self.components()[index]

    @property
    def ndim(self):
        return self.dim()

    @property
    def shape(self):
        return self.size()

    def is_contiguous(self, memory_format=None):
        return True

    # ------------------------------------------------------------------ autograd
    @property
    def grad(self):
        """The gradient backward accumulated, a nested tensor cut as this one (None before the first;
        a non-leaf's read warns, as a tensor's)."""
        with DisableTorchFunctionSubclass():
            grad = super().grad
        return None if grad is None else self.leaf_with_buffer(grad)

    @grad.setter
    def grad(self, value):
        self._grad = None if value is None else detached(value)

    @property
    def data(self):
        return self.leaf_with_buffer(detached(self))

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Backpropagate from this nested tensor; ``gradient`` is a nested tensor cut as this one."""
        if gradient is not None and getattr(gradient, "is_nested", False):
            gradient = Tensor(gradient)
        Tensor(self).backward(gradient, retain_graph, create_graph, inputs)


def adopted(tensor, cls):
    """The new tensor ``tensor`` (that no one else holds) as an instance of ``cls``: a new object
    holding its fields, so that its place in the graph is the new object's."""
    result = object.__new__(cls)
    for slot in Tensor.__slots__:
        if slot != "__weakref__":
            field = vars(Tensor)[slot]
            field.__set__(result, field.__get__(tensor))
    return result
