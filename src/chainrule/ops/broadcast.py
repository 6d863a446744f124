"""Broadcasting, and its mirror image in backward: summing a gradient back to an input's shape.

When ``a`` of shape ``(3, 1)`` meets ``b`` of shape ``(4,)``, both act as ``(3, 4)``. Each element
of ``a`` was used 4 times, so its gradient is the sum over those uses: the engine calls ``sum_to``
on every gradient whose shape differs from its input's, in one place for all operations.
"""
import collections.abc

from chainrule.autograd.engine import sum_to_shape
from chainrule.backend import xp
from chainrule.ops.op import Op
from chainrule.ops.operands import broadcast_error, expand_error
from chainrule.ops.registry import formula_form, install_method, public
from chainrule.tensor import Size, Tensor


class BroadcastTo(Op):
    """Each element of x is used once per repeat, so its gradient is the sum of the repeats."""

    node_name = "ExpandBackward0"  # PyTorch's broadcast_to is expand

    formula = "x repeated along new leading and size-1 axes"
    derivatives = ("grad summed over the repeats",)

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        try:
            expanded = xp.broadcast_to(x, shape)
        except ValueError:
            raise expand_error(x.shape, shape) from None
        if expanded.size == x.size:  # nothing repeated (x's own shape, new size-1 axes): a view that can be written, as PyTorch's
            return x.reshape(shape)
        return expanded

    @staticmethod
    def backward(ctx, grad_output):
        return sum_to_shape(grad_output, ctx.input_shape), None


class SumTo(Op):
    formula = "x summed down to shape"
    derivatives = ("grad broadcast back to x's shape",)

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return sum_to_shape(x, shape)

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.xp.broadcast_to(grad_output, ctx.input_shape), None


def broadcast_to(x, shape):
    """``x`` viewed with the broadcast shape ``shape`` (no copy); ``x`` itself when it has that
    shape. For chainrule's own operations and backward formulas, which skip the node there; the
    public ``broadcast_to`` and ``expand`` make a new view always, as PyTorch's."""
    shape = tuple(shape)
    if x._array.shape == shape:
        return x
    return BroadcastTo.apply(x, shape)


@public(method=True)
def expand(x, *sizes):
    """PyTorch's ``expand``: ``x`` viewed with the shape ``sizes`` (no copy), size-1 axes repeated
    and new leading axes added, ``-1`` meaning 'keep this size'. A new view (``ExpandBackward0``)
    even at x's own shape, as in PyTorch."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    lead = len(sizes) - x._array.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand({x.type()}{{{list(x._array.shape)}}}, size={list(sizes)}): the number of sizes provided ({len(sizes)}) "
            f"must be greater or equal to the number of dimensions in the tensor ({x._array.ndim})"
        )
    leading_keep = next((axis for axis in range(lead) if sizes[axis] == -1), None)
    if leading_keep is not None:  # there is no size to keep in a dimension the tensor lacks
        raise RuntimeError(
            f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension "
            f"{leading_keep} (expand{tuple(sizes)} of shape {tuple(x._array.shape)}: give that dimension's size)"
        )
    shape = tuple(x._array.shape[axis - lead] if size == -1 else size for axis, size in enumerate(sizes))
    return BroadcastTo.apply(x, shape)


@public(name="broadcast_to", method=False)
def broadcast_to_view(input, size):
    """``chainrule.broadcast_to(input, size)``: ``input.expand(size)``, as PyTorch's, a new view even
    at input's own shape. ``Tensor.broadcast_to`` is ``Tensor.expand`` (sizes one by one or as one)."""
    try:
        size = tuple(size)
    except TypeError:
        raise TypeError(
            f"broadcast_to(): argument 'size' (position 2) must be tuple of ints, not {type(size).__name__}; "
            f"give the shape as a tuple, e.g. broadcast_to(x, ({size},))"
        ) from None
    return expand(input, size)


def sum_to(x, shape):
    """``x`` summed over broadcast axes to have ``shape`` (the gradient of ``broadcast_to``)."""
    shape = tuple(shape)
    if x._array.shape == shape:
        return x
    return SumTo.apply(x, shape)


def broadcast_shape(x1, x2, operation):
    """The shape x1 and x2 broadcast to, or PyTorch's error naming the first dimension that differs."""
    return common_shape((x1._array.shape, x2._array.shape), operation)


def common_shape(shapes, operation):
    """The shape that arrays of ``shapes`` broadcast to, or PyTorch's RuntimeError naming
    ``operation`` and the first dimension that differs (``broadcast_error``)."""
    try:
        return xp.broadcast_shapes(*shapes)
    except ValueError:
        raise broadcast_error([tuple(shape) for shape in shapes], operation) from None


@public(method=False)
def broadcast_shapes(*shapes):
    """The shape, a ``Size``, that tensors of ``shapes`` broadcast to: ``broadcast_shapes((2,), (3,
    1))`` is ``Size([3, 2])``. A shape is a Size, a tuple or list of ints, or an int (a 1-d shape);
    None is skipped. Read as PyTorch's reads them, right-aligned, each size 1 or the common one,
    with its errors: a negative size met where the common size is 1 is a ValueError, any other
    mismatch a RuntimeError naming the shape and the common shape so far."""
    shapes = [(shape,) if isinstance(shape, int) else shape for shape in shapes if shape is not None]
    for shape in shapes:
        if not isinstance(shape, collections.abc.Sequence):
            raise RuntimeError(f"Input shapes should be of type ints, a tuple of ints, or a list of ints, got {shape}")
    common = [1] * max((len(shape) for shape in shapes), default=0)
    for position, shape in enumerate(shapes):
        for dim in range(-1, -1 - len(shape), -1):
            size = shape[dim]
            if size == common[dim]:
                continue
            if common[dim] == 1:
                if size < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                common[dim] = size
            elif size != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {size} at {dim}! Mismatching argument at index "
                    f"{position} had {shape}; but expected shape should be broadcastable to {common}"
                )
    return Size(common)


def expand_as(self, other):
    """``self.expand(other.size())``: this tensor broadcast to other's shape, as a view."""
    return expand(self, *other.shape)


install_method("expand_as", expand_as)
install_method("broadcast_to", Tensor.expand)  # x.broadcast_to(2, 3), as PyTorch's method takes sizes one by one
formula_form("broadcast_to", broadcast_to)  # backward formulas keep x itself at its own shape
