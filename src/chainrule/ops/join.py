"""Joining tensors into one and splitting one into several.

The operations come in mirror pairs, each doing what the other's backward does:

- ``Cat`` glues tensors end to end along a dimension; its backward cuts the gradient into the same
  pieces (slices of it), and ``Split``'s backward glues the pieces' gradients together.
- ``Stack`` puts tensors of one shape side by side along a new dimension; its backward takes the
  gradient apart along it (``grad[..., i, ...]``), and ``Unbind``'s backward stacks the gradients.

An output of ``Split`` or ``Unbind`` that the loss never used sends back zeros (the engine fills
them in), so every input gets a complete gradient.
"""
from chainrule.backend import xp
from chainrule.ops import shape
from chainrule.ops.op import Op
from chainrule.ops.registry import public
from chainrule.tensor import Tensor, check_dim


class Cat(Op):
    """Inputs (..., n_i, ...) -> output (..., n_0 + n_1 + ..., ...)."""

    formula = "tensors joined along dim"
    derivatives = (None, "the slice of grad where each tensor was placed")

    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim = dim
        ctx.sizes = [tensor.shape[dim] for tensor in tensors]
        return xp.concatenate(tensors, axis=dim, dtype=_promoted_dtype(tensors))

    @staticmethod
    def backward(ctx, grad_output):
        before = (slice(None),) * ctx.dim
        pieces, start = [], 0
        for size in ctx.sizes:
            pieces.append(grad_output[before + (slice(start, start + size),)])
            start += size
        return (None, *pieces)


class Split(Op):
    formula = "x cut along dim into pieces of sizes"
    derivatives = ("the pieces' gradients joined back", None, None)

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        boundaries = xp.cumsum(sizes[:-1])
        return tuple(xp.split(x, boundaries, axis=dim))

    @staticmethod
    def backward(ctx, *grad_outputs):
        return ctx.xp.concatenate(grad_outputs, ctx.dim), None, None


class SplitWithSizes(Split):
    """Pieces of the sizes listed (PyTorch names this node apart from equal pieces)."""


class Stack(Op):
    """k inputs of shape (a, b) -> output (k, a, b) for dim=0, (a, k, b) for dim=1."""

    formula = "out[..., i, ...] = tensors[i], i at position dim"
    derivatives = (None, "grad[..., i, ...] for tensors[i]")

    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim, ctx.count = dim, len(tensors)
        return xp.stack(tensors, axis=dim, dtype=_promoted_dtype(tensors))

    @staticmethod
    def backward(ctx, grad_output):
        before = (slice(None),) * ctx.dim
        return (None, *[grad_output[before + (position,)] for position in range(ctx.count)])


class Unbind(Op):
    formula = "outs[i] = x[..., i, ...], i at position dim"
    derivatives = ("the outputs' gradients stacked along dim", None)

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return tuple(xp.moveaxis(x, dim, 0))

    @staticmethod
    def backward(ctx, *grad_outputs):
        return ctx.xp.stack(grad_outputs, ctx.dim), None


# ----------------------------------------------------------------------------- helpers
def _promoted_dtype(arrays):
    """PyTorch's common dtype: floating inputs decide it when there are any (int64 + float32 -> float32)."""
    floating = [array.dtype for array in arrays if array.dtype.kind in "fc"]
    return xp.result_type(*floating) if floating else xp.result_type(*arrays)


def _tensor_list(tensors, operation):
    """``tensors`` as a list, checked to be a non-empty sequence of tensors."""
    if isinstance(tensors, Tensor):
        raise TypeError(f"{operation}(): argument 'tensors' must be a tuple or list of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{operation}(): expected a non-empty list of Tensors")
    for position, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"expected Tensor as element {position} in argument 0 of {operation}(), but got "
                f"{type(tensor).__name__}; convert it with chainrule.tensor(...)"
            )
    return tensors


def _check_cat_shapes(tensors, dim):
    """PyTorch's checks: same number of dimensions, same sizes everywhere except along ``dim``."""
    first = tensors[0].array.shape
    for position, tensor in enumerate(tensors):
        shape = tensor.array.shape
        if not shape:
            raise RuntimeError(
                f"zero-dimensional tensor (at position {position}) cannot be concatenated; use "
                f"stack() or unsqueeze it first"
            )
        if len(shape) != len(first):
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {len(first)} and {len(shape)} "
                f"(tensor number {position} in the list has shape {tuple(shape)}, tensor 0 has {tuple(first)})"
            )
        for axis, (expected, got) in enumerate(zip(first, shape)):
            if axis != dim and expected != got:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size {expected} "
                    f"but got size {got} for tensor number {position} in the list."
                )


def _split_sizes(length, split_size_or_sections, dim):
    """The piece sizes of ``split``: equal pieces of an int size (the last may be smaller), or the list given."""
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size < 0 or (size == 0 and length != 0):
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {length} "
                f"(split_size={size}); pass a positive piece size"
            )
        if length == 0:
            return [0]
        return [size] * (length // size) + ([length % size] if length % size else [])
    sizes = [int(size) for size in split_size_or_sections]
    if sum(sizes) != length or any(size < 0 for size in sizes):
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {length} (input tensor's size at "
            f"dimension {dim}), but got split_sizes={sizes}"
        )
    return sizes


# ----------------------------------------------------------------------------- public functions
@public(method=False, aliases=('concat', 'concatenate'))
def cat(tensors, dim=0):
    """The tensors joined end to end along ``dim``; all other sizes must match.

    (2, 3) and (4, 3) -> (6, 3) for dim=0. As in PyTorch, 1-D empty tensors (``tensor([])``) are
    skipped, so a result can be grown from an empty start.
    """
    tensors = _tensor_list(tensors, "cat")
    nonempty = [tensor for tensor in tensors if tensor.array.shape != (0,)]
    if nonempty and len(nonempty) < len(tensors):
        tensors = nonempty
    dim = check_dim(dim, tensors[0].array.ndim, "cat")
    _check_cat_shapes(tensors, dim)
    return Cat.apply(dim, *tensors)




@public(method=False)
def stack(tensors, dim=0):
    """The tensors, all of one shape, side by side along a new dimension ``dim``: k of (a, b) -> (k, a, b)."""
    tensors = _tensor_list(tensors, "stack")
    first = tensors[0].array.shape
    for position, tensor in enumerate(tensors):
        if tensor.array.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                f"{list(tensor.array.shape)} at entry {position}"
            )
    return Stack.apply(check_dim(dim, len(first) + 1, "stack"), *tensors)


@public
def split(x, split_size_or_sections, dim=0):
    """x cut along ``dim`` into a tuple of pieces.

    An int gives pieces of that size (the last one smaller when it does not divide evenly); a list
    gives pieces of those sizes, which must add up to ``x.shape[dim]``.
    """
    dim = check_dim(dim, x.array.ndim, "split")
    kind = Split if isinstance(split_size_or_sections, int) else SplitWithSizes
    return kind.apply(x, _split_sizes(x.array.shape[dim], split_size_or_sections, dim), dim)


@public
def chunk(x, chunks, dim=0):
    """x cut along ``dim`` into at most ``chunks`` pieces of size ceil(length / chunks) (the last may be smaller).

    As in PyTorch, 6 elements in 4 chunks give 3 pieces of 2.
    """
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = check_dim(dim, x.array.ndim, "chunk")
    length = x.array.shape[dim]
    if length == 0:
        return Split.apply(x, [0] * chunks, dim)
    return split(x, -(-length // chunks), dim)


@public
def unbind(x, dim=0):
    """The slices of x along ``dim``, as a tuple (the dimension disappears): (3, 4) -> three of (4,)."""
    if x.array.ndim == 0:
        raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
    return Unbind.apply(x, check_dim(dim, x.array.ndim, "unbind"))


def _at_least(x, ndim):
    """x with leading size-1 dimensions added until it has ``ndim`` (NumPy's ``atleast_1d``/``atleast_2d``)."""
    missing = ndim - x.array.ndim
    return shape.reshape(x, (1,) * missing + x.array.shape) if missing > 0 else x


@public(method=False)
def hstack(tensors):
    """The tensors joined horizontally: along dimension 0 for 1-D tensors, dimension 1 otherwise."""
    tensors = [_at_least(tensor, 1) for tensor in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0].array.ndim == 1 else 1)


@public(method=False)
def vstack(tensors):
    """The tensors joined vertically, along dimension 0; 1-D tensors of length n become rows (1, n)."""
    return cat([_at_least(tensor, 2) for tensor in _tensor_list(tensors, "vstack")], 0)
