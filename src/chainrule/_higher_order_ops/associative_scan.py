"""``associative_scan(combine_fn, xs, dim)``: the inclusive scan of ``xs`` along ``dim`` under an
associative ``combine_fn``: out[0] = xs[0], out[i] = combine_fn(out[i - 1], xs[i]) (``torch.add``
gives ``cumsum``; a pair (a, b) combined as (a1 a2, a2 b1 + b2) gives a linear recurrence).

Computed as PyTorch computes it (``combine_mode="generic"``), in O(log n) rounds rather than n
steps, so that floating-point results agree: neighbours are combined pairwise, the halved sequence
is scanned recursively, and the elements in between are filled in by one more combine. Each round
calls ``combine_fn`` once on whole slices, through ``vmap`` along the scan dimension, so a
``combine_fn`` written for single elements (a matrix product, say) works on the slices. ``xs``
may be a pytree of tensors of one length along ``dim``; ``combine_fn`` then takes and returns such
pytrees. ``combine_mode="pointwise"`` is PyTorch's compiled kernel for CUDA tensors only.
Gradients flow through the combines.
"""
from chainrule.func import vmap
from chainrule.ops.join import cat, stack
from chainrule.tensor import Tensor, check_dim
from chainrule.utils._pytree import tree_flatten, tree_leaves, tree_unflatten

__all__ = ["associative_scan"]


def associative_scan(combine_fn, xs, dim, reverse=False, combine_mode="pointwise"):
    """The inclusive scan of ``xs`` (a tensor, or a pytree of tensors) along ``dim`` under
    ``combine_fn``; ``reverse`` scans from the end. Same structure and shapes as ``xs``."""
    leaves, spec = tree_flatten(xs)
    if leaves and isinstance(leaves[0], Tensor):
        dim = check_dim(dim, leaves[0].ndim, "associative_scan")
    _check(combine_fn, leaves, dim, reverse, combine_mode)
    leaves = [leaf.movedim(dim, 0) for leaf in leaves]
    if reverse:
        leaves = [leaf.flip([0]) for leaf in leaves]
    zeros = tree_unflatten([0] * len(leaves), spec)
    batched = vmap(combine_fn, in_dims=(zeros, zeros), out_dims=0)

    def combine(left, right):
        return tree_leaves(batched(tree_unflatten(left, spec), tree_unflatten(right, spec)))

    scanned = _scan(combine, leaves)
    if reverse:
        scanned = [leaf.flip([0]) for leaf in scanned]
    return tree_unflatten([leaf.movedim(0, dim) for leaf in scanned], spec)


def _scan(combine, elements):
    """The scan along dim 0 of the tensors ``elements``: the scan of the pairwise-combined
    neighbours gives every second result (odd places); one combine of those with the elements
    after them gives the even places, and the first element is its own result."""
    count = elements[0].shape[0]
    if count < 2:
        return elements
    odd = _scan(combine, combine([element[0:-1:2] for element in elements], [element[1::2] for element in elements]))
    before = [result[:-1] for result in odd] if count % 2 == 0 else odd
    even = combine(before, [element[2::2] for element in elements])
    even = [cat([element[:1], result]) if result.numel() > 0 else element[:1] for element, result in zip(elements, even)]
    return [_interleave(first, second) for first, second in zip(even, odd)]


def _interleave(first, second):
    """first[0], second[0], first[1], second[1]...: ``first`` as long as ``second`` or one longer."""
    padded = second if first.shape[0] == second.shape[0] else cat([second, first[:1] * 0])
    return stack([first, padded], 1).flatten(0, 1)[: first.shape[0] + second.shape[0]]


def _check(combine_fn, leaves, dim, reverse, combine_mode):
    """PyTorch's checks of the arguments, with its exception types and messages."""
    if not callable(combine_fn):
        raise ValueError(f"Combine_fn must be a callable, but got {combine_fn}")
    if not isinstance(dim, int):
        raise ValueError("Dim must be an int, but got " + str(type(dim)))
    if not isinstance(reverse, bool):
        raise RuntimeError("Reverse must be a bool, but got " + str(type(reverse)))
    if combine_mode not in ("pointwise", "generic"):
        raise ValueError(f"Combine_mode must either 'pointwise' or 'generic', but got {combine_mode}")
    if combine_mode == "pointwise":
        raise ValueError(
            "For combine_mode='pointwise', all input tensors need to be on CUDA or XPU "
            "(chainrule computes on the CPU: pass combine_mode='generic')"
        )
    if not leaves:
        raise ValueError("Expected at least 1 xs leaf")
    if any(not isinstance(leaf, Tensor) for leaf in leaves):
        raise ValueError("xs leaves must be a Tensor")
    if any(leaf.ndim <= dim or leaf.shape[dim] == 0 for leaf in leaves):
        raise ValueError("All xs leaves must at least have 'dim' number of dimensions and scan dimension > 0")
