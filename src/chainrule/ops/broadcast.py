"""Broadcasting, and its mirror image in backward: summing a gradient back to an input's shape.

When ``a`` of shape ``(3, 1)`` meets ``b`` of shape ``(4,)``, both act as ``(3, 4)``. Each element
of ``a`` was used 4 times, so its gradient is the sum over those uses: the engine calls ``sum_to``
on every gradient whose shape differs from its input's, in one place for all operations.
"""
from chainrule.autograd.function import Function
from chainrule.backend import xp


def _sum_to_shape(array, shape):
    """Sum ``array`` over the leading and the stretched (size-1) axes so that it has ``shape``."""
    lead = array.ndim - len(shape)
    if lead < 0:
        raise ValueError(f"cannot sum shape {array.shape} to {shape}")
    stretched = tuple(
        lead + axis for axis, size in enumerate(shape) if size == 1 and array.shape[lead + axis] != 1
    )
    if lead or stretched:
        array = array.sum(axis=tuple(range(lead)) + stretched, keepdims=True)
        if lead:
            array = array.reshape(array.shape[lead:])
    if array.shape != shape:
        raise ValueError(f"cannot sum shape {array.shape} to {shape}")
    return array


class BroadcastTo(Function):
    """out = x repeated along new leading and size-1 axes;   d loss / d x = sum of the repeats."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.array.shape
        try:
            return xp.broadcast_to(x.array, shape)
        except ValueError:
            raise RuntimeError(
                f"expand: the expanded size of the tensor must match the existing size at each "
                f"non-singleton dimension: cannot expand shape {tuple(x.array.shape)} to {tuple(shape)}"
            ) from None

    @staticmethod
    def backward(ctx, grad_output):
        return sum_to(grad_output, ctx.input_shape), None


class SumTo(Function):
    """out = x summed down to ``shape``;   d loss / d x = grad broadcast back to x's shape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.array.shape
        return _sum_to_shape(x.array, shape)

    @staticmethod
    def backward(ctx, grad_output):
        return broadcast_to(grad_output, ctx.input_shape), None


def broadcast_to(x, shape):
    """``x`` viewed with the broadcast shape ``shape`` (no copy)."""
    shape = tuple(shape)
    if x.array.shape == shape:
        return x
    return BroadcastTo.apply(x, shape)


def expand(x, *sizes):
    """PyTorch's ``expand``: like ``broadcast_to``, with ``-1`` meaning 'keep this size'."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    lead = len(sizes) - x.array.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({x.array.ndim})"
        )
    shape = tuple(x.array.shape[axis - lead] if size == -1 else size for axis, size in enumerate(sizes))
    return broadcast_to(x, shape)


def sum_to(x, shape):
    """``x`` summed over broadcast axes to have ``shape`` (the gradient of ``broadcast_to``)."""
    shape = tuple(shape)
    if x.array.shape == shape:
        return x
    return SumTo.apply(x, shape)


def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to, or RuntimeError naming them."""
    try:
        return xp.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(f"shapes {' and '.join(str(tuple(s)) for s in shapes)} cannot be broadcast together") from None
