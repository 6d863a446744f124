"""Padding: a border around the last dimensions, filled with a constant (``ConstantPadNd``) or with
the input's own values: ``reflect``, ``replicate`` and ``circular``.

For a row ``a b c d`` padded by 2 on each side,

    constant   0 0 | a b c d | 0 0     (the value, 0 by default)
    reflect    c b | a b c d | c b     (mirrored about the edge, the edge itself not repeated)
    replicate  a a | a b c d | d d     (the edge repeated)
    circular   c d | a b c d | a b     (wrapped around)

A negative amount crops instead. As in PyTorch, reflect and replicate pad first and then crop
(``(-1, 2)`` on ``a b c`` reflects to ``a b c b a`` and crops to ``b c b a``); circular crops
first and then wraps what is left (``(-1, 2)`` gives ``b c b c``). Reflect reads at most
``size - 1`` elements past an edge, circular at most ``size`` (it wraps around once); replicate
repeats an edge any number of times.

Constant padding is one operation, ``ConstantPadNd``, whose gradient is the arriving gradient
cropped back (constant padding by the negated amounts). Reflect, replicate and circular padding are
one operation, ``PadByReading``, that joins to each padded end one slice of the input (reversed for
reflect, repeated for replicate) and cuts the cropped ends off, a dimension at a time; the gradient
of a padded end is added back onto the slice it was read from.
"""
from chainrule.backend import xp
from chainrule.memory_layout import CHANNELS_LAST_OF_ANY_INPUT
from chainrule.ops.op import Op
from chainrule.ops.registry import public

#: The names PyTorch's messages give the padded dimensions, the last one first.
_DIMENSION_NAMES = ("W", "H", "D")


def _placement(shape, pad):
    """Constant padding of an array of ``shape`` by ``pad``, as (padded shape, where the kept input
    lies in the input, where it goes in the output): two keys of slices, the first cropping the
    negative amounts off the input, the second leaving the positive ones free in the output."""
    padded_shape, source, destination = list(shape), [slice(None)] * len(shape), [slice(None)] * len(shape)
    for pair in range(len(pad) // 2):
        dim = len(shape) - 1 - pair
        before, after, size = pad[2 * pair], pad[2 * pair + 1], shape[dim]
        padded_shape[dim] = size + before + after
        source[dim] = slice(max(-before, 0), size - max(-after, 0))
        destination[dim] = slice(max(before, 0), padded_shape[dim] - max(after, 0))
    return tuple(padded_shape), tuple(source), tuple(destination)


class ConstantPadNd(Op):
    """x (..., *sizes) -> (..., *(sizes + before + after)), ``pad`` = (before, after) pairs from the
    last dimension backwards: x placed in a canvas of ``value``, negative amounts cropping x.

        out[destination] = x[source], value elsewhere

    The gradient is grad cropped back to x's kept part, 0 where x was cropped (constant padding of
    grad by the negated amounts)."""

    keeps_layout = CHANNELS_LAST_OF_ANY_INPUT

    formula = "x with value around it (cropped where pad is negative)"
    derivatives = ("grad cropped back to x (0 where x was cropped)", None, None)

    @staticmethod
    def forward(ctx, x, pad, value):
        padded_shape, ctx.source, ctx.destination = _placement(x.shape, pad)
        ctx.input_shape = x.shape
        output = xp.full(padded_shape, value, dtype=x.dtype)
        output[ctx.destination] = x[ctx.source]
        return output

    @staticmethod
    def backward(ctx, grad_output):
        grad_input = ctx.xp.zeros(ctx.input_shape, dtype=grad_output.dtype)
        grad_input[ctx.source] = grad_output[ctx.destination]
        return grad_input, None, None


@public(method=False)
def constant_pad_nd(input, pad, value=0):
    """``input`` with ``value`` around its last ``len(pad) // 2`` dimensions, ``pad`` listing
    (before, after) amounts from the last dimension backwards; a negative amount crops
    (``F.pad``'s constant mode)."""
    pad = tuple(int(amount) for amount in pad)
    if len(pad) % 2:
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(
            f"Length of pad should be no more than twice the number of dimensions of the input. Pad length is "
            f"{len(pad)} while the input has {input.ndim} dimensions."
        )
    for pair in range(len(pad) // 2):  # PyTorch crops first, so the crops alone must fit
        dim, before, after = input.ndim - 1 - pair, pad[2 * pair], pad[2 * pair + 1]
        if input.shape[dim] + min(before, 0) + min(after, 0) < 0:
            raise RuntimeError(
                f"narrow(): length must be non-negative. The input size {input.shape[dim]}, plus negative padding "
                f"{before} and {after} resulted in a negative output size, which is invalid. Check dimension {dim} "
                f"of your input."
            )
    return ConstantPadNd.apply(input, pad, value)


def _sources(size, before, after, mode):
    """What the two padded ends of a dimension of ``size`` read, as (start, stop, how) for the end
    before and the end after, ``how`` saying how the slice x[start:stop] fills the end: reflect
    reads x[1 : before + 1] and x[size - 1 - after : size - 1] "reversed"; replicate x[0:1] and
    x[size - 1 : size] "repeated" before and after times; circular x[size - before :] and
    x[: after] "copied"."""
    if mode == "reflect":
        return (1, before + 1, "reversed"), (size - 1 - after, size - 1, "reversed")
    if mode == "replicate":
        return (0, 1, "repeated"), (size - 1, size, "repeated")
    return (size - before, size, "copied"), (0, after, "copied")


def _extended(x, dim, before, after, mode):
    """x with ``before`` and ``after`` (>= 0) of its own elements joined to the ends of ``dim``:
    each end one slice of x (see ``_sources``), so no index arrays are made."""
    along = (slice(None),) * dim
    ends = []
    for (start, stop, how), count in zip(_sources(x.shape[dim], before, after, mode), (before, after)):
        piece = x[along + (slice(start, stop),)]
        if how == "reversed":
            piece = xp.flip(piece, dim)
        elif how == "repeated":
            piece = xp.broadcast_to(piece, piece.shape[:dim] + (count,) + piece.shape[dim + 1 :])
        ends.append(piece)
    return xp.concatenate([ends[0], x, ends[1]], dim)


def _extended_backward(lib, grad, dim, before, after, size, mode):
    """The gradient of ``_extended`` with ``lib`` (the arrays' or chainrule's functions): grad's
    middle part, with each end's gradient added back onto the slice it was read from."""
    along = (slice(None),) * dim
    grad_input = grad[along + (slice(before, before + size),)]
    ends = (grad[along + (slice(0, before),)], grad[along + (slice(before + size, before + size + after),)])
    for (start, stop, how), end in zip(_sources(size, before, after, mode), ends):
        if end.shape[dim] == 0:
            continue
        if how == "reversed":
            end = lib.flip(end, (dim,))
        elif how == "repeated":
            end = end.sum(dim, keepdims=True)
        parts = (grad_input[along + (slice(0, start),)], grad_input[along + (slice(start, stop),)] + end,
                 grad_input[along + (slice(stop, size),)])
        grad_input = lib.concatenate([part for part in parts if part.shape[dim]], dim)
    return grad_input


def _cropped_backward(lib, grad, dim, before, after):
    """The gradient of cropping ``before`` and ``after`` elements off ``dim``: grad with zeros
    where the cropped elements were."""
    zeros = [lib.zeros(grad.shape[:dim] + (count,) + grad.shape[dim + 1 :], dtype=grad.dtype) for count in (before, after)]
    return lib.concatenate([zeros[0], grad, zeros[1]], dim)


def _steps(shape, pad, mode):
    """The padding as steps, one dimension at a time: ("extend", dim, before, after) joins the
    input's own elements to the ends of dim, ("crop", dim, before, after) cuts them off. Reflect
    and replicate extend, then crop; circular crops first, and a dimension cropped to nothing
    stays empty."""
    steps = []
    for pair in range(len(pad) // 2):
        dim = len(shape) - 1 - pair
        before, after = pad[2 * pair], pad[2 * pair + 1]
        extend, crop = ("extend", dim, max(before, 0), max(after, 0)), ("crop", dim, max(-before, 0), max(-after, 0))
        if mode == "circular" and shape[dim] + before + after == 0:
            steps.append(("crop", dim, shape[dim], 0))  # PyTorch's result: empty, whatever the amounts
        else:
            steps += [crop, extend] if mode == "circular" else [extend, crop]
    return [step for step in steps if step[2] or step[3]]


class PadByReading(Op):
    """x padded by ``pad`` = (before, after) pairs from the last dimension backwards, the new
    positions read from x itself by ``mode`` (see the module's docstring); negative amounts crop.

        out = the ``steps`` applied in turn to x: ends joined along a dim (extend) or cut off (crop)

    The gradient runs the steps backwards: a crop's gradient puts zeros back where the cut
    elements were; an extension's takes grad's middle and adds each end's gradient (reversed back,
    or summed for replicate) onto the slice of x it was read from. One node for all dimensions,
    shown as PyTorch names it (``ReflectionPad2DBackward0``, ``ReplicationPad1DBackward0``, and
    ``CopySlices`` for circular padding, which PyTorch writes into slices of its result)."""

    formula = "x with its own elements joined to (or cut off) the ends of the last dimensions"
    derivatives = ("grad with each padded end added back where it was read, zeros where x was cropped", None, None)

    @staticmethod
    def forward(ctx, x, pad, mode):
        ctx.mode, ctx.steps, ctx.sizes = mode, _steps(x.shape, pad, mode), []
        if mode in _NODE_NAMES:
            # as PyTorch's reflection and replication nodes keep x (_saved_self, for its shape), so
            # that a change to x in place before backward is its error here too
            ctx.save_for_backward(x)
        output = x
        for action, dim, before, after in ctx.steps:
            ctx.sizes.append(output.shape[dim])
            if action == "extend":
                output = _extended(output, dim, before, after, mode)
            else:
                output = output[(slice(None),) * dim + (slice(before, output.shape[dim] - after),)]
        return output if ctx.steps and ctx.steps[-1][0] == "extend" else output.copy()  # not a view of x

    @staticmethod
    def backward(ctx, grad_output):
        ctx.saved_tensors  # reading them raises PyTorch's error if x was changed in place since forward
        grad = grad_output
        for (action, dim, before, after), size in zip(reversed(ctx.steps), reversed(ctx.sizes)):
            if action == "extend":
                grad = _extended_backward(ctx.xp, grad, dim, before, after, size, ctx.mode)
            else:
                grad = _cropped_backward(ctx.xp, grad, dim, before, after)
        return grad, None, None


#: PyTorch's names of the nodes of reflect and replicate padding; circular padding's is CopySlices.
_NODE_NAMES = {"reflect": "ReflectionPad{}DBackward0", "replicate": "ReplicationPad{}DBackward0"}


def _check_reading_pad(input, pad, mode):
    """PyTorch's checks of the amounts of a reflect, replicate or circular padding, in its words."""
    padded_dims = len(pad) // 2
    shape = list(input.shape)
    dims = [input.ndim - 1 - pair for pair in range(padded_dims)]  # the last first, as pad lists them
    sizes = [shape[dim] + pad[2 * pair] + pad[2 * pair + 1] for pair, dim in enumerate(dims)]
    if mode == "circular":
        for pair, dim in enumerate(dims):
            before, after = pad[2 * pair], pad[2 * pair + 1]
            if max(before, after) > shape[dim]:
                raise RuntimeError(
                    f"Padding value causes wrapping around more than once. (circular padding ({before}, {after}) of "
                    f"dimension {dim} of input {shape} reads at most {shape[dim]} elements past each edge)"
                )
            if sizes[pair] < 0:
                raise RuntimeError(
                    f"Negative padding value is resulting in an empty dimension (padding ({before}, {after}) of "
                    f"dimension {dim} of size {shape[dim]})"
                )
            kept = shape[dim] - max(-before, 0) - max(-after, 0)
            if sizes[pair] and max(before, after) > kept:  # a dimension cropped to nothing stays empty
                raise RuntimeError(
                    f"Padding value causes wrapping around more than once: circular padding ({before}, {after}) of "
                    f"dimension {dim} of input {shape} would wrap the {kept} elements left after cropping more "
                    f"than once"
                )
        return
    first_spatial = input.ndim - padded_dims
    if input._array.dtype.kind == "b":
        raise NotImplementedError(
            f'"{"reflection" if mode == "reflect" else "replication"}_pad{padded_dims}d" not implemented for '
            f"'Bool': convert the tensor first, e.g. x.int()"
        )
    if 0 in shape[first_spatial - 1 :]:  # the channels and the padded dimensions; a batch may be empty
        raise RuntimeError(
            f"Expected {padded_dims + 1}D or {padded_dims + 2}D (batch mode) tensor with possibly 0 batch size and "
            f"other non-zero dimensions for input, but got: {shape}"
        )
    if mode == "reflect":
        for pair, dim in enumerate(dims):
            before, after = pad[2 * pair], pad[2 * pair + 1]
            if before >= shape[dim] or after >= shape[dim]:
                raise RuntimeError(
                    f"Argument #{4 + 2 * pair}: Padding size should be less than the corresponding input dimension, "
                    f"but got: padding ({before}, {after}) at dimension {dim} of input {shape}"
                )
    if all(size < 1 for size in sizes):
        names = _DIMENSION_NAMES[padded_dims - 1 :: -1]
        given = ", ".join(f"{name}: {size}" for name, size in zip(names, shape[first_spatial:]))
        calculated = " ".join(f"{name}: {size}" for name, size in zip(names, reversed(sizes)))
        raise RuntimeError(f"input ({given}) is too small. Calculated output {calculated}")
    if min(sizes) < 0:
        padded_shape = shape[:first_spatial] + sizes[::-1]
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(sizes)}: {padded_shape}")


def pad_by_reading(input, pad, mode):
    """``input`` padded by ``pad`` = (before, after) pairs from the last dimension backwards, the
    new positions filled from the input by ``mode`` ('reflect', 'replicate' or 'circular');
    negative amounts crop (see the module's docstring for the order of the two)."""
    if len(pad) % 2 or len(pad) // 2 > input.ndim - 1:
        raise ValueError(
            f"pad: padding length {len(pad)} must be even and cover at most the dimensions after the "
            f"first of the input (shape {tuple(input.shape)}) in mode '{mode}'"
        )
    pad = tuple(int(amount) for amount in pad)
    _check_reading_pad(input, pad, mode)
    node_name = _NODE_NAMES[mode].format(len(pad) // 2) if mode in _NODE_NAMES else "CopySlices"
    return PadByReading.shown_as(node_name).apply(input, pad, mode)
