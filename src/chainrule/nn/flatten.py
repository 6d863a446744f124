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
    """Split dimension ``dim`` into ``unflattened_size``: (N, 784) -> (N, 1, 28, 28)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input):
        if input.ndim == 0:
            raise IndexError("Unflatten: a 0-d tensor has no dimension to unflatten")
        dim = check_dim(self.dim, input.ndim, "Unflatten")
        known = math.prod(part for part in self.unflattened_size if part != -1)
        size = input.shape[dim]
        if -1 in self.unflattened_size:
            fits = known != 0 and size % known == 0  # -1 stands for size / known
        else:
            fits = known == size
        if not fits:
            raise RuntimeError(
                f"unflatten: Provided sizes {list(self.unflattened_size)} don't multiply up to the size of "
                f"dim {self.dim} ({size}) in the input tensor"
            )
        return input.reshape(tuple(input.shape[:dim]) + self.unflattened_size + tuple(input.shape[dim + 1 :]))

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
