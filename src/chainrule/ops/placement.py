"""Writing values into chosen places of a tensor: ``put`` (at flat positions), ``masked_scatter``
(into the True places of a mask, in order), ``fill_diagonal_``; and the Tensor methods that change
a tensor's values or size with Python code: ``apply_``, ``map_``, ``resize_``, ``resize_as_`` (and the
deprecated out-of-place ``resize`` and ``resize_as``, which reshape).

``put``, ``masked_scatter`` and ``fill_diagonal_`` are built from indexing and ``where``, so their
gradients come from those: the written places send their gradient to the source, the others to
the tensor. ``apply_``, ``map_`` and the resizes run outside the graph, as in PyTorch.
"""
import math

from chainrule import dtypes, memory_layout
from chainrule.autograd.function import array_from_shapes, computed_without_gradient, read_into_python
from chainrule.backend import as_array, is_contiguous, xp
from chainrule.caller_warnings import warn_at_caller
from chainrule.ops.broadcast import broadcast_shapes
from chainrule.ops.elementwise import where_of_mask
from chainrule.ops.index import _positions_in, index_put
from chainrule.ops.inplace import write_in_place
from chainrule.ops.operands import as_tensor_like
from chainrule.ops.registry import install_method, public
from chainrule.tensor import Tensor, tensor_from_array


@public(inplace=True)
def put(input, index, source, accumulate=False):
    """A copy of ``input`` with ``source``'s elements written at the positions ``index`` of its
    flattened (row-major) order (added there with ``accumulate``); index and source have as many
    elements, and negative positions count from the end."""
    # checked on each call's values: a compiled program finds (and checks) the positions again
    positions = computed_without_gradient(_positions_in, [index.reshape(-1)], {"size": input._array.size})
    if positions._array.size != source._array.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {source._array.size}, index.numel() = {positions._array.size}")
    flat = index_put(input.reshape(-1), (positions,), source.reshape(-1), accumulate)
    return flat.reshape(tuple(input._array.shape))


@public(inplace=True)
def masked_scatter(input, mask, source):
    """``input`` with the places where ``mask`` (broadcast to input) is True filled, in row-major
    order, by the first elements of ``source`` (which needs at least as many elements as True
    places): ``zeros(2, 2).masked_scatter(eye(2).bool(), tensor([5., 6.]))`` -> [[5, 0], [0, 6]]."""
    mask_array = mask._array if isinstance(mask, Tensor) else as_array(mask)
    if mask_array.dtype != dtypes.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{dtypes.scalar_type_name(mask_array.dtype)} (masked_scatter: compare first, e.g. mask == 1)")
    if source._array.dtype != input._array.dtype:
        raise RuntimeError(
            f"masked_scatter: expected self and source to have same dtypes but got {dtypes.scalar_type_name(input._array.dtype)} "
            f"and {dtypes.scalar_type_name(source._array.dtype)} (convert source with .to(self.dtype))"
        )
    mask_array = xp.broadcast_to(mask_array, broadcast_shapes(input._array.shape, mask_array.shape))
    needed = int(mask_array.sum())
    if source._array.size < needed:
        raise RuntimeError(f"Number of elements of source < number of ones in mask ({source._array.size} < {needed})")
    if needed == 0:
        return input.clone()
    order = xp.cumsum(mask_array.reshape(-1)) - 1  # the place of each True among the True places
    taken = source.reshape(-1)[tensor_from_array(xp.maximum(order, 0))].reshape(mask_array.shape)
    return where_of_mask(mask_array, taken, input).to(input.dtype)


def fill_diagonal_(self, fill_value, wrap=False):
    """Write ``fill_value`` on the main diagonal (all indices equal) of a matrix, or of a tensor whose
    sizes are all equal. With ``wrap``, a tall matrix's diagonal starts again after each N + 1 rows
    (a (7, 3) matrix gets ones at rows 0-2 and 4-6)."""
    shape = tuple(self._array.shape)
    if len(shape) < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must larger than 1, got a tensor of shape {shape}")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError(f"all dimensions of input must be of equal length, got shape {shape}")
    step = sum(math.prod(shape[dim + 1 :]) for dim in range(len(shape)))  # one step along every dimension at once
    end = self._array.size if wrap or len(shape) > 2 else min(shape[0], shape[1]) * shape[1]
    mask = xp.zeros(self._array.size, dtype=bool)
    mask[0:end:step] = True
    mask = array_from_shapes(mask.reshape(shape))
    return write_in_place(self, lambda x: where_of_mask(mask, as_tensor_like(fill_value, x), x).to(x.dtype))


def apply_(self, callable):
    """Replace each element x by ``callable(x)`` (a Python function of one number), in place."""
    read_into_python("apply_")
    values = [callable(value) for value in self._array.reshape(-1).tolist()]
    return _overwrite(self, values, "apply_")


def map_(self, tensor, callable):
    """Replace each element x by ``callable(x, y)``, y the matching element of ``tensor`` (broadcast
    to this tensor's shape), in place."""
    read_into_python("map_")
    others = xp.broadcast_to(tensor._array, self._array.shape).reshape(-1).tolist()
    values = [callable(value, other) for value, other in zip(self._array.reshape(-1).tolist(), others)]
    return _overwrite(self, values, "map_")


def _overwrite(tensor, values, operation):
    if tensor.requires_grad:
        raise RuntimeError(f"{operation}: cannot write into a tensor that requires grad; call it on .detach() or .data")
    tensor._array[...] = as_array(values, tensor._array.dtype).reshape(tensor._array.shape)
    tensor._version_owner._version_count += 1
    return tensor


def resize_(self, *sizes, memory_format=None):
    """Give the tensor the shape ``sizes``, keeping its first elements in row-major order; new
    elements are 0 (PyTorch leaves them uninitialized). A contiguous tensor that does not grow keeps
    its memory, as PyTorch's keeps its storage: its views (``Tensor(t)``) see what it then holds.
    With ``memory_format=chainrule.channels_last`` (``channels_last_3d``) the memory is laid out so,
    the kept elements first in memory order."""
    shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    if any(side < 0 for side in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    if math.prod(shape) * self._array.itemsize >= 1 << 63:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")
    order = memory_layout.CHANNELS_LAST_ORDERS.get(memory_format)
    if order is not None:
        memory_layout.check_rank(memory_format, len(shape))
        kept = self._array.reshape(-1)
        memory = xp.zeros(math.prod(shape), dtype=kept.dtype)
        memory[: min(kept.size, memory.size)] = kept[: min(kept.size, memory.size)]
        self._array = memory.reshape(tuple(shape[dim] for dim in order)).transpose(memory_layout.inverse_order(order))
        self._chosen_strides = True
        self._version_owner._version_count += 1
        return self
    if shape != tuple(self._array.shape):
        count = math.prod(shape)
        if count <= self._array.size and is_contiguous(self._array):  # the same memory, read in the new shape
            self._array = self._array.reshape(-1)[:count].reshape(shape)
        else:
            kept = self._array.reshape(-1)
            resized = xp.zeros(count, dtype=kept.dtype)
            resized[: min(kept.size, count)] = kept[: min(kept.size, count)]
            self._array = resized.reshape(shape)
        self._version_owner._version_count += 1
    return self


@public(name="resize_as_")
def resize_as_(input, the_template, *, memory_format=None):
    """``input.resize_(the_template.shape)``; ``memory_format=preserve_format`` lays it out as the
    template suggests (channels-last where its strides are)."""
    if memory_format is memory_layout.preserve_format:
        memory_format = memory_layout.suggested_memory_format(the_template)
    return resize_(input, tuple(the_template._array.shape), memory_format=memory_format)


def resize(self, *sizes):
    """The deprecated out-of-place ``resize``: ``reshape`` to ``sizes``, which must keep the number
    of elements (PyTorch's autograd Resize), with PyTorch's warning."""
    warn_at_caller("non-inplace resize is deprecated")
    return _reshaped_keeping_count(self, tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes))


def resize_as(self, tensor):
    """The deprecated out-of-place ``resize_as``: ``resize`` to ``tensor``'s shape."""
    warn_at_caller("non-inplace resize_as is deprecated")
    return _reshaped_keeping_count(self, tuple(tensor._array.shape))


def _reshaped_keeping_count(self, shape):
    if math.prod(shape) != self._array.size:
        raise RuntimeError(
            f"requested resize to {'x'.join(map(str, shape))} ({math.prod(shape)} elements in total), but the given "
            f"tensor has a size of {'x'.join(map(str, self._array.shape))} ({self._array.size} elements). autograd's resize "
            f"can only change the shape of a given tensor, while preserving the number of elements. "
        )
    return self.reshape(shape)


for _method in (fill_diagonal_, apply_, map_, resize_, resize, resize_as):
    install_method(_method.__name__, _method)
