"""Flatten and Unflatten: reshape between images or sequences and the flat vectors Linear expects."""
import math

from chainrule.nn.module import Module
from chainrule.tensor import check_dim


class Flatten(Module):
    """Merge dimensions ``start_dim`` to ``end_dim`` into one: (N, 1, 28, 28) -> (N, 784)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``: (N, 784) -> (N, 1, 28, 28).

    ``unflattened_size`` (a tuple, list or Size of ints, one of them may be -1) is kept as given,
    so the repr shows it as PyTorch's does.
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"unflattened_size must be a tuple of ints, but found type {type(unflattened_size).__name__}")
        for position, part in enumerate(unflattened_size):
            if not isinstance(part, int):
                raise TypeError(
                    f"unflattened_size must be tuple of ints, but found element of type {type(part).__name__} at pos {position}"
                )
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        if input.ndim == 0:
            raise RuntimeError(f"unflatten: Dimension specified as {self.dim} but tensor has no dimensions (a 0-d tensor)")
        dim = check_dim(self.dim, input.ndim, "Unflatten")
        sizes = tuple(self.unflattened_size)
        known = math.prod(part for part in sizes if part != -1)
        size = input.shape[dim]
        if -1 in sizes:
            fits = known != 0 and size % known == 0  # -1 stands for size / known
        else:
            fits = known == size
        if not fits:
            raise RuntimeError(
                f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of "
                f"dim {self.dim} ({size}) in the input tensor"
            )
        return input.reshape(tuple(input.shape[:dim]) + sizes + tuple(input.shape[dim + 1 :]))

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
