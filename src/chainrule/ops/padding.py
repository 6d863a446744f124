"""Padding by repeating the input's own values: ``reflect``, ``replicate`` and ``circular``.

Each padded dimension is the input read at computed positions, ``index_select`` along it: for a
row ``a b c d`` padded by 2 on each side,

    reflect    c b | a b c d | c b     (mirrored about the edge, the edge itself not repeated)
    replicate  a a | a b c d | d d     (the edge repeated)
    circular   c d | a b c d | a b     (wrapped around)

so the gradient of a padded position goes back, added, to the element it was read from. Constant
padding (zeros, or a value) is ``nn.functional.pad``'s own.
"""
from chainrule.backend import xp
from chainrule.ops.index import index_select


def _positions(size, before, after, mode):
    """The input positions that the padded dimension reads, from -before to size + after."""
    wanted = xp.arange(-before, size + after)
    if mode == "reflect":
        wanted = xp.abs(wanted)
        return xp.where(wanted >= size, 2 * (size - 1) - wanted, wanted)
    if mode == "replicate":
        return xp.clip(wanted, 0, size - 1)
    return wanted % size  # circular


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
        if before or after:
            output = index_select(output, dim, _positions(size, before, after, mode))
    return output
