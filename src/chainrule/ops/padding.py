"""Padding by repeating the input's own values: ``reflect``, ``replicate`` and ``circular``.

For a row ``a b c d`` padded by 2 on each side,

    reflect    c b | a b c d | c b     (mirrored about the edge, the edge itself not repeated)
    replicate  a a | a b c d | d d     (the edge repeated)
    circular   c d | a b c d | a b     (wrapped around)

Reflect and circular padding read each padded end as one slice of the input (reversed for
reflect) and join the three along the dimension (``PadBySlices``); the gradient of a padded end
is added back onto the slice it was read from. Replicate padding reads the input at computed
positions, ``index_select`` along the dimension, so that the gradient of a padded position goes
back, added, to the element it was read from. Constant padding (zeros, or a value) is
``nn.functional.pad``'s own.
"""
from chainrule.backend import xp
from chainrule.ops.index import index_select
from chainrule.ops.op import Op


def _positions(size, before, after):
    """The input positions that a replicate-padded dimension reads, from -before to size + after."""
    return xp.clip(xp.arange(-before, size + after), 0, size - 1)


def _source_slices(size, before, after, mode):
    """The slices of a dimension of ``size`` that its padded ends read, as (start, stop, reversed)
    for the end before and the end after: reflect reads x[1 : before + 1] and
    x[size - 1 - after : size - 1] reversed; circular x[size - before :] and x[: after]."""
    if mode == "reflect":
        return (1, before + 1, True), (size - 1 - after, size - 1, True)
    return (size - before, size, False), (0, after, False)


class PadBySlices(Op):
    """Dimension ``dim`` of ``x`` padded by ``before`` and ``after`` of its own elements (``mode``
    'reflect' or 'circular'): x (..., size, ...) -> (..., before + size + after, ...),

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


def pad_by_reading(input, pad, mode):
    """``input`` padded by ``pad`` = (before, after) pairs from the last dimension backwards, the
    new positions filled from the input by ``mode`` ('reflect', 'replicate' or 'circular')."""
    if len(pad) % 2 or len(pad) // 2 > input.ndim - 1:
        raise ValueError(
            f"pad: padding length {len(pad)} must be even and cover at most the dimensions after the "
            f"first of the input (shape {tuple(input.shape)}) in mode '{mode}'"
        )
    output = input
    for pair in range(len(pad) // 2):
        dim = input.ndim - 1 - pair
        before, after, size = pad[2 * pair], pad[2 * pair + 1], input.shape[dim]
        if before < 0 or after < 0:
            raise RuntimeError(f"pad: negative padding ({before}, {after}) is only available in mode 'constant', not '{mode}'")
        limit = size - 1 if mode == "reflect" else size
        if max(before, after) > limit:
            raise RuntimeError(
                f"pad: Padding size should be less than the corresponding input dimension, but got: padding "
                f"({before}, {after}) at dimension {dim} of input {list(input.shape)} (mode '{mode}')"
            )
        if not (before or after):
            continue
        if mode == "replicate":
            output = index_select(output, dim, _positions(size, before, after))
        else:
            output = PadBySlices.apply(output, dim, before, after, mode)
    return output
