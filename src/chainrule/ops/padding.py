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
cropped back (constant padding by the negated amounts). Reflect and circular padding read each
padded end as one slice of the input (reversed for reflect) and join the three along the
dimension (``PadBySlices``); the gradient of a padded end is added back onto the slice it was read
from. Replicate padding reads the input at computed positions, ``index_select`` along the
dimension, so that the gradient of a padded position goes back, added, to the element it was read
from.
"""
from chainrule.autograd.function import made_from_arguments
from chainrule.backend import xp
from chainrule.ops.index import index_select
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


def _source_slices(size, before, after, mode):
    """The slices of a dimension of ``size`` that its padded ends read, as (start, stop, reversed)
    for the end before and the end after: reflect reads x[1 : before + 1] and
    x[size - 1 - after : size - 1] reversed; circular x[size - before :] and x[: after]."""
    if mode == "reflect":
        return (1, before + 1, True), (size - 1 - after, size - 1, True)
    return (size - before, size, False), (0, after, False)


class PadBySlices(Op):
    """Dimension ``dim`` of ``x`` padded by ``before`` and ``after`` (>= 0) of its own elements
    (``mode`` 'reflect' or 'circular'): x (..., size, ...) -> (..., before + size + after, ...),

        out = concatenate(x[source_before], x, x[source_after]) along dim

    each source a slice (reversed for reflect, see ``_source_slices``): no index arrays, so both
    directions copy at memory speed. The gradient is grad's middle part, with each padded end's
    gradient (reversed back) added onto the slice it was read from."""

    formula = "concatenate(x[source_before], x, x[source_after]) along dim"
    derivatives = ("grad[middle], plus grad's padded ends added back at their source slices", None, None, None, None)

    @staticmethod
    def forward(ctx, x, dim, before, after, mode):
        ctx.geometry = (dim, before, after, x.shape[dim], mode)
        along = (slice(None),) * dim
        pieces = []
        for start, stop, reversed_ in _source_slices(x.shape[dim], before, after, mode):
            piece = x[along + (slice(start, stop),)]
            pieces.append(xp.flip(piece, dim) if reversed_ else piece)
        return xp.concatenate([pieces[0], x, pieces[1]], dim)

    @staticmethod
    def backward(ctx, grad_output):
        dim, before, after, size, mode = ctx.geometry
        along = (slice(None),) * dim
        grad = grad_output[along + (slice(before, before + size),)]
        ends = (grad_output[along + (slice(0, before),)], grad_output[along + (slice(before + size, before + size + after),)])
        for (start, stop, reversed_), end in zip(_source_slices(size, before, after, mode), ends):
            if start == stop:
                continue
            if reversed_:
                end = ctx.xp.flip(end, (dim,))
            parts = (grad[along + (slice(0, start),)], grad[along + (slice(start, stop),)] + end, grad[along + (slice(stop, size),)])
            grad = ctx.xp.concatenate([part for part in parts if part.shape[dim]], dim)
        return grad, None, None, None, None


def _replicated_positions(size, before, after):
    """The input positions that a replicate-padded dimension reads, as a tensor: the output's
    position j reads x[clip(j - before, 0, size - 1)] (a negative ``before`` or ``after`` crops).
    Made from the shape alone, so a compiled program may make it again as a constant."""
    return made_from_arguments(xp.clip(xp.arange(-before, size + after), 0, size - 1))


def _cropped(input, dim, before, after):
    """``input`` with ``before`` elements cut off the start of ``dim`` and ``after`` off its end."""
    return input[(slice(None),) * dim + (slice(before, input.shape[dim] - after),)]


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
        return
    first_spatial = input.ndim - padded_dims
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
    output = input
    for pair in range(len(pad) // 2):
        dim = input.ndim - 1 - pair
        before, after = pad[2 * pair], pad[2 * pair + 1]
        if mode == "replicate":
            if before or after:
                output = index_select(output, dim, _replicated_positions(input.shape[dim], before, after))
            continue
        cut_before, cut_after = max(-before, 0), max(-after, 0)
        if mode == "circular" and (cut_before or cut_after):
            output = _cropped(output, dim, cut_before, cut_after)
            if max(before, after) > output.shape[dim]:
                raise RuntimeError(
                    f"Padding value causes wrapping around more than once: circular padding ({before}, {after}) of "
                    f"dimension {dim} of input {list(input.shape)} would wrap the {output.shape[dim]} elements left "
                    f"after cropping more than once"
                )
        if before > 0 or after > 0:
            output = PadBySlices.apply(output, dim, max(before, 0), max(after, 0), mode)
        if mode == "reflect" and (cut_before or cut_after):
            output = _cropped(output, dim, cut_before, cut_after)
    return output
