"""``torch._utils``: the helpers of PyTorch's internals that libraries import (fastai's fp16
utilities, Apex-style flat master weights): tensors packed into one flat buffer and back."""
from chainrule.ops.join import cat


def _flatten_dense_tensors(tensors):
    """One 1-D tensor of every element of ``tensors``, one after the other: a copy (of one tensor,
    a view of its contiguous elements, as PyTorch's)."""
    flat = [tensor.contiguous().view(-1) for tensor in tensors]
    return flat[0] if len(flat) == 1 else cat(flat)


def _unflatten_dense_tensors(flat, tensors):
    """Views of ``flat`` shaped as ``tensors``, in their order: what ``_flatten_dense_tensors``
    packed, unpacked without copying."""
    views, offset = [], 0
    for tensor in tensors:
        count = tensor.numel()
        views.append(flat.narrow(0, offset, count).view_as(tensor))
        offset += count
    return tuple(views)
