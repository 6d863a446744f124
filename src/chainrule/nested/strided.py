"""The strided layout: components whose sizes may differ in any dimension but the batch one.

    nt = nested_tensor([a, b])                  # a (2, 3), b (4, 5)
    nt.values()                                 # the flat buffer: a's 6 numbers, then b's 20
    nt.size(0) == 2, nt.dim() == 3              # nt.size(1) raises: the components' sizes differ there

The packed tensor is the flat buffer; ``_nested_sizes`` holds each component's shape, and component
``i`` is the buffer's next ``prod(shape_i)`` numbers viewed in that shape.
"""
import math

from chainrule._format import format_tensor
from chainrule.creation import empty
from chainrule.memory_layout import strided
from chainrule.nested.tensor import NestedTensor, adopted
from chainrule.ops.join import cat
from chainrule.tensor import Tensor, detached


class StridedNestedTensor(NestedTensor):
    """A nested tensor of the strided layout: the flat buffer and the shape of each component."""

    __slots__ = ("_nested_sizes",)
    layout = strided

    def components(self):
        buffer, start = Tensor(self), 0
        pieces = []
        for shape in self._nested_sizes:
            count = math.prod(shape)
            pieces.append(buffer[start:start + count].view(shape))
            start += count
        return pieces

    @classmethod
    def packed(cls, pieces, like=None, dtype=None):
        """The strided nested tensor of ``pieces`` (empty: of ``dtype``, the default one where None)."""
        if pieces:
            buffer = cat([piece.reshape(-1) for piece in pieces])
        else:
            buffer = empty(0, dtype=dtype)
        result = adopted(buffer, cls)
        result._nested_sizes = tuple(tuple(piece.shape) for piece in pieces)
        return result

    def dim(self):
        return 1 + len(self._nested_sizes[0]) if self._nested_sizes else 1

    def size(self, dim=None):
        """``size(dim)``: the number of components (dim 0) or a size all components share;
        ``size()`` raises, as PyTorch's: the components' shapes differ."""
        if dim is None:
            raise RuntimeError(
                "size(): a strided nested tensor has no single size (its components' shapes are "
                f"{list(self._nested_sizes)}); ask size(dim) of a regular dim, or make it with layout=chainrule.jagged"
            )
        dim = dim + self.dim() if dim < 0 else dim
        if dim == 0:
            return len(self._nested_sizes)
        sizes = {shape[dim - 1] for shape in self._nested_sizes}
        if len(sizes) != 1:
            raise RuntimeError(f"Given dimension {dim} is irregular and does not have a size.")
        return sizes.pop()

    def __repr__(self):
        """PyTorch's print: ``nested_tensor([`` then each component's print, indented, then ``])``."""
        pieces = [detached(piece) for piece in self.components()]
        lines = []
        for piece in pieces:
            piece.requires_grad = self.requires_grad
            lines.append("  " + format_tensor(piece).replace("\n", "\n  "))
        suffix = ""
        if self.grad_fn is not None:
            suffix = f", grad_fn=<{type(self.grad_fn).__name__}>"
        elif self.requires_grad:
            suffix = ", requires_grad=True"
        return "nested_tensor([\n" + ",\n".join(lines) + "\n]" + suffix + ")"
