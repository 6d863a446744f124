"""The size of a jagged nested tensor's ragged dimension, as PyTorch prints it: ``j1``, ``j2``...

``nt.shape`` is ``Size([2, j1, 3])``: the components have 2, 5... rows, so no one number is the
size; ``j1`` stands for "the lengths that these offsets give". Two nested tensors share one only
where they share their offsets (``nt + 1`` shares ``nt``'s), so comparing sizes says whether their
components line up. Each new offsets tensor gets the next number, as in PyTorch.
"""
import itertools

_numbers = itertools.count(1)


class NestedInt:
    """The ragged size ``jN``: equal only to itself; ``k * jN`` prints as PyTorch's ``k*jN``."""

    __slots__ = ("number", "factor")

    def __init__(self, number=None, factor=1):
        self.number = next(_numbers) if number is None else number
        self.factor = factor

    def __repr__(self):
        name = f"j{self.number}"
        return name if self.factor == 1 else f"{self.factor}*{name}"

    def __eq__(self, other):
        return isinstance(other, NestedInt) and (other.number, other.factor) == (self.number, self.factor)

    def __hash__(self):
        return hash((NestedInt, self.number, self.factor))

    def __mul__(self, factor):
        if not isinstance(factor, int) or isinstance(factor, bool):
            return NotImplemented
        return NestedInt(self.number, self.factor * factor)

    __rmul__ = __mul__
