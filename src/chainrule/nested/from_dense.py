"""Nested tensors that view parts of a dense tensor: ``narrow`` and ``masked_select``.

    x (3, 5);  narrow(x, 1, start=tensor([0, 1, 2]), length=tensor([2, 3, 1]), layout=chainrule.jagged)
        -> components x[0, 0:2], x[1, 1:4], x[2, 2:3], no copy (a non-contiguous jagged tensor)
    masked_select(x, mask)   # mask (3, 5): row i keeps x[i][mask[i]]: a jagged tensor (3, j)
"""
from chainrule.backend import xp
from chainrule.memory_layout import strided
from chainrule.nested.creation import as_nested_tensor
from chainrule.nested.jagged import from_values, offsets_of
from chainrule.memory_layout import jagged
from chainrule.tensor import Tensor, tensor_from_array


def narrow(tensor, dim, start, length, layout=strided):
    """A nested tensor whose component ``i`` is ``tensor[i]`` narrowed to ``start[i] : start[i] +
    length[i]`` along ``dim`` (ints: the same for every row). The jagged layout views ``tensor``
    (dim 1 only); the strided one narrows the batch (dim 0 only), as PyTorch's."""
    if layout is strided:
        if dim != 0:
            raise RuntimeError(
                f"narrow(): only dim=0 supported for nested tensors of the strided layout, but got: {dim} (use layout=chainrule.jagged)"
            )
        return as_nested_tensor(list(tensor.unbind(0))[int(start):int(start) + int(length)])
    if layout is not jagged:
        raise RuntimeError(f"narrow(): a nested tensor's layout is chainrule.strided or chainrule.jagged, got {layout!r}")
    if dim != 1:
        raise RuntimeError(f"narrow(): jagged layout only supports dim=1, got dim={dim}")
    batch, rows = tensor.shape[0], tensor.shape[1]
    starts = xp.broadcast_to(xp.asarray(start._array if isinstance(start, Tensor) else start, dtype=xp.int64), (batch,))
    lengths = xp.broadcast_to(xp.asarray(length._array if isinstance(length, Tensor) else length, dtype=xp.int64), (batch,))
    starts = starts + xp.arange(batch) * rows  # row i of tensor begins at i * rows of the values
    offsets = xp.concatenate([starts, starts[-1:] + lengths[-1:]])  # the end: where the last component ends, as PyTorch's
    values = Tensor(tensor).reshape(batch * rows, *tensor.shape[2:])
    return from_values(values, tensor_from_array(offsets.astype(xp.int64)), tensor_from_array(lengths.copy()))


def masked_select(tensor, mask):
    """The jagged nested tensor of ``tensor``'s elements where ``mask`` (broadcast to its shape) is
    True, one component per row of the last dim: (prod(leading dims), j)."""
    if tensor.layout is not strided or mask.layout is not strided:
        raise RuntimeError("masked_select(): expected a dense tensor and a dense mask")
    if tensor.dim() == 0:
        raise RuntimeError("masked_select(): expected a tensor of at least one dim (its rows become the components)")
    mask = mask.expand(tensor.shape)
    counts = mask._array.reshape(-1, tensor.shape[-1]).sum(axis=1)
    return from_values(tensor[mask], offsets_of(counts))
