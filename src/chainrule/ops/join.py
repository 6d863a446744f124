"""Joining tensors into one and splitting one into several.

The operations come in mirror pairs, each doing what the other's backward does:

- ``Cat`` glues tensors end to end along a dimension; its backward cuts the gradient into the same
  pieces (slices of it), and ``Split``'s backward glues the pieces' gradients together.
- ``Stack`` puts tensors of one shape side by side along a new dimension; its backward takes the
  gradient apart along it (``grad[..., i, ...]``), and ``Unbind``'s backward stacks the gradients.

An output of ``Split`` or ``Unbind`` that the loss never used sends back zeros (the engine fills
them in), so every input gets a complete gradient.
"""
import warnings

from chainrule.autograd.function import made_from_arguments
from chainrule.backend import xp
from chainrule.dtypes import dtype_name, python_type_name, scalar_type_name
from chainrule.memory_layout import CHANNELS_LAST_OF_EVERY_INPUT
from chainrule.ops import shape
from chainrule.ops.broadcast import broadcast_shapes, broadcast_to
from chainrule.ops.op import Op
from chainrule.ops.registry import public
from chainrule.tensor import Tensor, check_dim


class Cat(Op):
    """Inputs (..., n_i, ...) -> output (..., n_0 + n_1 + ..., ...). A 1-D empty input among others
    (PyTorch's legacy rule) adds nothing but its dtype, and gets an empty gradient."""

    keeps_layout = CHANNELS_LAST_OF_EVERY_INPUT

    formula = "tensors joined along dim"
    derivatives = (None, "the slice of grad where each tensor was placed")

    @staticmethod
    def forward(ctx, dim, *tensors):
        joined = [tensor for tensor in tensors if not _skipped(tensor, tensors)]
        ctx.dim = dim
        ctx.sizes = [None if _skipped(tensor, tensors) else tensor.shape[dim] for tensor in tensors]
        return xp.concatenate(joined, axis=dim, dtype=_promoted_dtype(tensors))

    @staticmethod
    def backward(ctx, grad_output):
        joined = pieces_along(grad_output, [size for size in ctx.sizes if size is not None], ctx.dim)
        return (None, *[ctx.xp.zeros(0, dtype=grad_output.dtype) if size is None else next(joined) for size in ctx.sizes])


def pieces_along(x, sizes, dim):
    """The consecutive slices of ``x`` (an array or a tensor) along ``dim`` of the given ``sizes``,
    views: what ``numpy.split`` gives, in a seventh of its time (an RNN splits at every step)."""
    before, start = (slice(None),) * dim, 0
    for size in sizes:
        yield x[before + (slice(start, start + size),)]
        start += size


class Split(Op):
    formula = "x cut along dim into pieces of sizes"
    derivatives = ("the pieces' gradients joined back", None, None)

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        return tuple(pieces_along(x, sizes, dim))

    @staticmethod
    def backward(ctx, *grad_outputs):
        return ctx.xp.concatenate(grad_outputs, ctx.dim), None, None


class SplitWithSizes(Split):
    """Pieces of the sizes listed (PyTorch names this node apart from equal pieces)."""


class UnsafeSplit(Split):
    """``unsafe_split``'s pieces: the same, under PyTorch's name, whose node is not one of those that
    make several views (a piece may be changed in place, as in PyTorch)."""


class UnsafeSplitWithSizes(Split):
    """``unsafe_split_with_sizes``'s pieces (see ``UnsafeSplit``)."""


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
        moved = xp.moveaxis(x, dim, 0)
        return tuple(moved[index, ...] for index in range(len(moved)))  # (with ..., a 0-d piece is a view too)

    @staticmethod
    def backward(ctx, *grad_outputs):
        return ctx.xp.stack(grad_outputs, ctx.dim), None


# ----------------------------------------------------------------------------- helpers
def _skipped(array, arrays):
    """Whether ``cat`` passes over ``array``: a 1-D empty one among arrays not all such (PyTorch's
    legacy rule, so that a result can be grown from ``tensor([])``; its dtype still counts)."""
    return array.shape == (0,) and any(other.shape != (0,) for other in arrays)


def _promoted_dtype(arrays):
    """PyTorch's common dtype: floating inputs decide it when there are any (int64 + float32 -> float32)."""
    floating = [array.dtype for array in arrays if array.dtype.kind in "fc"]
    return xp.result_type(*floating) if floating else xp.result_type(*arrays)


def _tensor_list(tensors, operation):
    """``tensors`` as a list, checked to be a non-empty list or tuple of tensors (an empty one is
    PyTorch's ValueError for ``cat``, its RuntimeError for the others; a generator or another
    iterable is its TypeError)."""
    if not isinstance(tensors, (list, tuple)):  # a tensor, a generator: PyTorch's parser takes a sequence only
        raise TypeError(
            f"{operation}(): argument 'tensors' (position 1) must be tuple of Tensors, not {type(tensors).__name__} "
            f"({operation}: a list or tuple of them)"
        )
    tensors = list(tensors)
    if not tensors:
        if operation == "cat":
            raise ValueError("chainrule.cat(): expected a non-empty list of Tensors")
        raise RuntimeError(f"{operation} expects a non-empty TensorList")
    for position, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"expected Tensor as element {position} in argument 0, but got {type(tensor).__name__} ({operation}: "
                f"convert it with chainrule.tensor(...))"
            )
    return tensors


def _check_cat_shapes(tensors, dim):
    """PyTorch's checks: same number of dimensions, same sizes everywhere except along ``dim``."""
    first = tensors[0]._array.shape
    for position, tensor in enumerate(tensors):
        shape = tensor._array.shape
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
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
        if size == 0 and length != 0:
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
@public(method=False, aliases=('concat', 'concatenate'), out=True)
def cat(tensors, dim=0):
    """The tensors joined end to end along ``dim``; all other sizes must match.

    (2, 3) and (4, 3) -> (6, 3) for dim=0. As in PyTorch, 1-D empty tensors (``tensor([])``) are
    skipped, so a result can be grown from an empty start.
    """
    tensors = _tensor_list(tensors, "cat")
    joined = [tensor for tensor in tensors if not _skipped(tensor._array, [each._array for each in tensors])]
    dim = check_dim(dim, joined[0]._array.ndim, "cat")
    _check_cat_shapes(joined, dim)
    return Cat.apply(dim, *tensors)




@public(method=False, out=True)
def stack(tensors, dim=0):
    """The tensors, all of one shape, side by side along a new dimension ``dim``: k of (a, b) -> (k, a, b)."""
    tensors = _tensor_list(tensors, "stack")
    first = tensors[0]._array.shape
    for position, tensor in enumerate(tensors):
        if tensor._array.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                f"{list(tensor._array.shape)} at entry {position}"
            )
    return Stack.apply(check_dim(dim, len(first) + 1, "stack"), *tensors)


def _split_method(self, split_size, dim=0):
    """``Tensor.split``: ``split`` under the method's keyword, ``split_size`` (an int or a list), as PyTorch's."""
    return split(self, split_size, dim)


@public(method=_split_method)
def split(tensor, split_size_or_sections, dim=0):
    """``tensor`` cut along ``dim`` into a tuple of pieces (PyTorch's parameter names, which code
    passes by keyword: ``split(tensor=x, split_size_or_sections=2)``).

    An int gives pieces of that size (the last one smaller when it does not divide evenly); a list
    gives pieces of those sizes, which must add up to ``tensor.shape[dim]``.
    """
    return _split(tensor, split_size_or_sections, dim, Split, SplitWithSizes)


def _split(x, split_size_or_sections, dim, equal_pieces, listed_pieces):
    """The pieces of ``split``, made by the op ``equal_pieces`` (an int size) or ``listed_pieces``."""
    if x._array.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor (a 0-d tensor has nothing to split)")
    dim = check_dim(dim, x._array.ndim, "split")
    kind = equal_pieces if isinstance(split_size_or_sections, int) else listed_pieces
    return kind.apply(x, _split_sizes(x._array.shape[dim], split_size_or_sections, dim), dim)


@public
def split_with_sizes(x, split_sizes, dim=0):
    """x cut along ``dim`` into pieces of the sizes ``split_sizes`` (a list or tuple adding up to
    ``x.shape[dim]``): ``split`` with a list, under its own name."""
    return _split(x, _listed_sizes(split_sizes, "split_with_sizes"), dim, Split, SplitWithSizes)


@public
def unsafe_split_with_sizes(x, split_sizes, dim=0):
    """``split_with_sizes`` as PyTorch's "unsafe" form (see ``UnsafeSplit``)."""
    return _split(x, _listed_sizes(split_sizes, "unsafe_split_with_sizes"), dim, UnsafeSplit, UnsafeSplitWithSizes)


def _listed_sizes(split_sizes, operation):
    if not isinstance(split_sizes, (list, tuple)):
        raise TypeError(f"{operation}(): argument 'split_sizes' (position 2) must be tuple of ints, not {type(split_sizes).__name__}")
    return list(split_sizes)


@public
def unsafe_split(x, split_size, dim=0):
    """``split`` into pieces of the int ``split_size``, PyTorch's "unsafe" form: the same pieces, which
    may be changed in place (see ``UnsafeSplit``)."""
    if isinstance(split_size, bool) or not isinstance(split_size, int):
        raise TypeError(f"unsafe_split(): argument 'split_size' (position 2) must be int, not {type(split_size).__name__}")
    return _split(x, split_size, dim, UnsafeSplit, UnsafeSplitWithSizes)


@public
def chunk(x, chunks, dim=0):
    """x cut along ``dim`` into at most ``chunks`` pieces of size ceil(length / chunks) (the last may be smaller).

    As in PyTorch, 6 elements in 4 chunks give 3 pieces of 2.
    """
    return _chunk(x, chunks, dim, Split, "chunk")


@public
def unsafe_chunk(x, chunks, dim=0):
    """``chunk`` as PyTorch's "unsafe" form: the same pieces, which may be changed in place (see ``UnsafeSplit``)."""
    return _chunk(x, chunks, dim, UnsafeSplit, "unsafe_chunk")


def _chunk(x, chunks, dim, kind, operation):
    if x._array.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor (a 0-d tensor has nothing to split)")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = check_dim(dim, x._array.ndim, operation)
    length = x._array.shape[dim]
    if length == 0:
        return kind.apply(x, [0] * chunks, dim)
    return _split(x, -(-length // chunks), dim, kind, kind)


@public
def unbind(x, dim=0):
    """The slices of x along ``dim``, as a tuple (the dimension disappears): (3, 4) -> three of (4,)."""
    if x._array.ndim == 0 and dim in (0, -1):
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions (unbind: a 0-d tensor has no slices)")
    return Unbind.apply(x, check_dim(dim, x._array.ndim, "unbind"))


def _at_least(x, ndim):
    """x with a leading size-1 dimension added until it has ``ndim``, 1 or 2 (NumPy's
    ``atleast_1d``/``atleast_2d``), as PyTorch adds them: a 0-d x reshaped (``ViewBackward0``), a
    1-D x unsqueezed (``UnsqueezeBackward0``)."""
    if x._array.ndim >= ndim:
        return x
    return shape.reshape(x, (1,) * ndim) if x._array.ndim == 0 else shape.unsqueeze(x, 0)


def _one_or_many(tensors, operation, make):
    """``make`` applied to one tensor, or to each of several (given apart or as one list), as a tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return make(tensors[0])
    if len(tensors) == 1:
        tensors = tensors[0]
    if isinstance(tensors, (list, tuple)) and not tensors:  # atleast_1d([]) is (), as PyTorch's
        return ()
    return tuple(make(tensor) for tensor in _tensor_list(tensors, operation))


@public(method=False)
def atleast_1d(*tensors):
    """Each tensor with at least 1 dimension: a 0-d tensor becomes (1,); more tensors give a tuple."""
    return _one_or_many(tensors, "atleast_1d", lambda x: _at_least(x, 1))


@public(method=False)
def atleast_2d(*tensors):
    """Each tensor with at least 2 dimensions: () -> (1, 1), (n,) -> (1, n)."""
    return _one_or_many(tensors, "atleast_2d", lambda x: _at_least(x, 2))


def _at_least_3d(x):
    """() -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1), as NumPy's ``atleast_3d``; a 0-d x
    reshaped, the others unsqueezed, as PyTorch does."""
    if x._array.ndim == 0:
        return shape.reshape(x, (1, 1, 1))
    return shape.unsqueeze(_at_least(x, 2), 2) if x._array.ndim < 3 else x


@public(method=False)
def atleast_3d(*tensors):
    """Each tensor with at least 3 dimensions: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _one_or_many(tensors, "atleast_3d", _at_least_3d)


@public(method=False)
def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape: (2, 1) and (3,) -> two of (2, 3)."""
    for position, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"expected Tensor as element {position} in argument 0, but got {python_type_name(tensor)}")
    common = broadcast_shapes(*(tensor._array.shape for tensor in tensors))
    return tuple(broadcast_to(tensor, common) for tensor in tensors)


_NOT_GIVEN = object()


def _cuts(operation, indices_or_sections, sections, indices, tensor_indices_or_sections=_NOT_GIVEN):
    """How the cuts of ``tensor_split`` (``hsplit``...) were given: by position, or by the keyword
    of one of PyTorch's forms, ``sections`` (an int), ``indices`` (a list or tuple of ints) or,
    for ``tensor_split``, ``tensor_indices_or_sections`` (a tensor); PyTorch's TypeError for none,
    several, or a value of another kind."""
    named = {"indices_or_sections": indices_or_sections, "sections": sections, "indices": indices,
             "tensor_indices_or_sections": tensor_indices_or_sections}
    given = [(name, value) for name, value in named.items() if value is not _NOT_GIVEN]
    if len(given) != 1:
        raise TypeError(f"{operation}() takes its cuts once, as sections= (an int) or indices= (a tuple of ints); got {len(given)}")
    name, value = given[0]
    kinds = _KINDS_OF_CUTS.get(name, object)
    if not isinstance(value, kinds) or (isinstance(value, bool) and name == "sections"):
        raise TypeError(
            f"{operation}() received an invalid combination of arguments - got {name}={type(value).__name__}, but "
            f"expected sections= an int, indices= a tuple of ints, or tensor_indices_or_sections= a Tensor"
        )
    return value


#: What each of PyTorch's keywords for the cuts takes.
_KINDS_OF_CUTS = {"sections": (int, Tensor), "indices": (list, tuple), "tensor_indices_or_sections": Tensor}


@public
def tensor_split(x, indices_or_sections=_NOT_GIVEN, /, dim=0, *, sections=_NOT_GIVEN, indices=_NOT_GIVEN,
                 tensor_indices_or_sections=_NOT_GIVEN):
    """x cut along ``dim`` into pieces (views), as NumPy's ``array_split``.

    An int n (``sections=``) gives n pieces whose sizes differ by at most one (the first ones
    larger: 7 into 3 is 3, 2, 2); a list of indices (``indices=``, or a 1-D tensor:
    ``tensor_indices_or_sections=``) cuts before each of them ([1, 5] gives x[:1], x[1:5], x[5:]).
    """
    indices_or_sections = _cuts("tensor_split", indices_or_sections, sections, indices, tensor_indices_or_sections)
    if x._array.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    dim = check_dim(dim, x._array.ndim, "tensor_split")
    length = x._array.shape[dim]
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections._array.dtype != xp.int64:
            raise RuntimeError(
                f"tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                f"{scalar_type_name(indices_or_sections._array.dtype)}"
            )
        if indices_or_sections._array.ndim > 1:
            raise RuntimeError(
                f"tensor_split expected tensor_indices_or_sections to be a zero-dimensional or one-dimensional tensor, "
                f"but got a tensor with {indices_or_sections._array.ndim} dims"
            )
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        small, larger_count = divmod(length, sections)
        sizes = [small + 1] * larger_count + [small] * (sections - larger_count)
        starts = [sum(sizes[:position]) for position in range(sections)]
        bounds = list(zip(starts, [start + size for start, size in zip(starts, sizes)]))
    else:
        cuts = [int(index) for index in indices_or_sections]
        bounds = list(zip([0] + cuts, cuts + [None]))
    before = (slice(None),) * dim
    return tuple(x[before + (slice(start, stop),)] for start, stop in bounds)


def _split_along(x, indices_or_sections, dim, operation):
    """hsplit, vsplit, dsplit: ``tensor_split``, with an int required to divide the size evenly."""
    if isinstance(indices_or_sections, int) and indices_or_sections and x._array.shape[dim] % indices_or_sections:
        raise RuntimeError(
            f"torch.{operation} attempted to split along dimension {dim}, but the size of the dimension "
            f"{x._array.shape[dim]} is not divisible by the split_size {indices_or_sections}!"
        )
    return tensor_split(x, indices_or_sections, dim)


def _require_ndim(x, ndim, operation):
    if x._array.ndim < ndim:
        raise RuntimeError(
            f"torch.{operation} requires a tensor with at least {ndim} dimension, but got a tensor with "
            f"{x._array.ndim} dimensions!"
        )


@public
def hsplit(x, indices_or_sections=_NOT_GIVEN, /, *, sections=_NOT_GIVEN, indices=_NOT_GIVEN):
    """``tensor_split`` along dimension 1 (dimension 0 for a 1-D tensor); an int must divide that size."""
    _require_ndim(x, 1, "hsplit")
    cuts = _cuts("hsplit", indices_or_sections, sections, indices)
    return _split_along(x, cuts, 1 if x._array.ndim > 1 else 0, "hsplit")


@public
def vsplit(x, indices_or_sections=_NOT_GIVEN, /, *, sections=_NOT_GIVEN, indices=_NOT_GIVEN):
    """``tensor_split`` along dimension 0 of a tensor of at least 2 dimensions; an int must divide that size."""
    _require_ndim(x, 2, "vsplit")
    return _split_along(x, _cuts("vsplit", indices_or_sections, sections, indices), 0, "vsplit")


@public
def dsplit(x, indices_or_sections=_NOT_GIVEN, /, *, sections=_NOT_GIVEN, indices=_NOT_GIVEN):
    """``tensor_split`` along dimension 2 of a tensor of at least 3 dimensions; an int must divide that size."""
    _require_ndim(x, 3, "dsplit")
    return _split_along(x, _cuts("dsplit", indices_or_sections, sections, indices), 2, "dsplit")


@public(method=False, out=True)
def column_stack(tensors):
    """The tensors side by side as columns: 0-d and 1-d tensors of length n become columns (n, 1),
    then all are joined along dimension 1. (3,) and (3, 2) -> (3, 3)."""
    tensors = _tensor_list(tensors, "column_stack")
    columns = [shape.reshape(tensor, -1, 1) if tensor._array.ndim < 2 else tensor for tensor in tensors]
    return cat(columns, 1)


@public(method=False, out=True)
def dstack(tensors):
    """The tensors joined along dimension 2 (depth), each first made 3-D as by ``atleast_3d``."""
    return cat([_at_least_3d(tensor) for tensor in _tensor_list(tensors, "dstack")], 2)


@public(method=False)
def block_diag(*tensors):
    """The tensors as blocks along the diagonal of one matrix, zeros elsewhere: blocks (a, b) and
    (c, d) -> (a + c, b + d). A 0-d tensor is a 1 x 1 block, a 1-D tensor of n one row (1, n)."""
    for position, tensor in enumerate(tensors):
        if tensor._array.ndim > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {position} has "
                f"{tensor._array.ndim} dimensions"
            )
    if not tensors:
        return made_from_arguments(xp.zeros((1, 0), dtype=xp.float32))
    return BlockDiag.apply(*tensors)


class BlockDiag(Op):
    """Blocks (a, b), (c, d), ... -> (a + c + ..., b + d + ...), zeros off the blocks; a 0-d input
    is a 1 x 1 block, a 1-D input of n one row (1, n). The dtypes promote as in ``cat``."""

    formula = "the tensors as blocks along the diagonal, zeros elsewhere"
    derivatives = ("grad read at each tensor's block",)

    @staticmethod
    def forward(ctx, *tensors):
        blocks = [tensor.reshape((1,) * (2 - tensor.ndim) + tensor.shape) for tensor in tensors]
        result = xp.zeros(tuple(map(sum, zip(*(block.shape for block in blocks)))), dtype=_promoted_dtype(tensors))
        ctx.places, top, left = [], 0, 0
        for tensor, block in zip(tensors, blocks):
            height, width = block.shape
            place = (slice(top, top + height), slice(left, left + width))
            result[place] = block
            ctx.places.append((place, tensor.shape))
            top, left = top + height, left + width
        return result

    @staticmethod
    def backward(ctx, grad_output):
        return tuple(grad_output[place].reshape(shape) for place, shape in ctx.places)


@public(method=False)
def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors (0-d count as length 1): with ``indexing='ij'`` the k-th
    output has shape (n_0, n_1, ...) and varies along dimension k; with ``'xy'`` the first two
    dimensions are swapped, (n_1, n_0, ...) (NumPy's default, for images: rows vary with y).
    The tensors share one dtype, as PyTorch requires (convert them first, e.g. ``b.to(a.dtype)``).
    """
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        tensors = tuple(tensors[0])
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList: give it one or more 0-d or 1-d tensors")
    if indexing is not None and not isinstance(indexing, str):
        raise TypeError(f"meshgrid(): argument 'indexing' must be str, not {type(indexing).__name__} (give 'ij' or 'xy')")
    tensors = _tensor_list(tensors, "meshgrid")
    dtypes_given = {tensor._array.dtype for tensor in tensors}
    if len(dtypes_given) > 1:
        raise RuntimeError(
            f"meshgrid expects all tensors to have the same dtype (got {', '.join(sorted(map(dtype_name, dtypes_given)))}); "
            f"convert them first, e.g. b.to(a.dtype)"
        )
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    vectors = [_at_least(tensor, 1) for tensor in tensors]
    for position, vector in enumerate(vectors):
        if vector._array.ndim != 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a tensor of shape "
                f"{list(vector._array.shape)} at position {position}"
            )
    swap = indexing == "xy" and len(vectors) >= 2
    if swap:
        vectors[0], vectors[1] = vectors[1], vectors[0]
    sizes = tuple(vector._array.shape[0] for vector in vectors)
    grids = [
        broadcast_to(shape.reshape(vector, tuple(size if other == axis else 1 for other, size in enumerate(sizes))), sizes)
        for axis, vector in enumerate(vectors)
    ]
    if swap:  # the grids of the first two tensors, computed swapped, go back to their places
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


@public(method=False)
def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, one per row, the last varying
    fastest: (n,) and (m,) -> (n·m, 2). One tensor is returned as it is."""
    for position, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"expected Tensor as element {position} in argument 0, but got {type(tensor).__name__} (cartesian_prod: "
                f"convert it with chainrule.tensor(...))"
            )
        if tensor._array.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(tensor._array.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([shape.reshape(grid, -1) for grid in meshgrid(*tensors, indexing="ij")], 1)


@public(method=False, out=True)
def hstack(tensors):
    """The tensors joined horizontally: along dimension 0 for 1-D tensors, dimension 1 otherwise."""
    tensors = [_at_least(tensor, 1) for tensor in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0]._array.ndim == 1 else 1)


@public(method=False, out=True)
def vstack(tensors):
    """The tensors joined vertically, along dimension 0; 1-D tensors of length n become rows (1, n)."""
    return cat([_at_least(tensor, 2) for tensor in _tensor_list(tensors, "vstack")], 0)


public(vstack, name="row_stack", method=False, out=True)
