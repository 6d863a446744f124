"""Shape operations: the same numbers, arranged differently.

None of these changes a value, so each backward is the inverse rearrangement of the gradient:

- ``Reshape`` (``reshape``, ``view``, ``flatten``, ``squeeze``, ``unsqueeze``) lays the elements out
  in a new shape; its backward lays the gradient out in the input's shape again.
- ``Permute`` (``permute``, ``transpose``, ``t``, ``movedim``) reorders the axes; its backward
  applies the inverse order.
- ``Repeat`` tiles the input; each input element appears several times in the output, so its
  gradient is the sum of the gradients of its copies.
- ``Flip``, ``Roll`` and ``Rot90`` move elements to other places; each backward moves the gradient
  back (flip again, roll by -shifts, turn by -k).
- ``Triangle`` (``tril``, ``triu``) keeps one triangle and zeros the rest; so does its backward.

- ``AsStrided`` (``as_strided``, and ``Unfold`` for ``Tensor.unfold``) reads x's memory in another
  layout, a view; its backward adds the gradient up at each element's place in memory.

``view`` shares memory and, as in PyTorch, a view (``x.t()``) is viewed again only where its
strides allow the new shape (``x.t().view(-1)`` raises; ``reshape`` copies then). ``contiguous`` copies a tensor whose
elements are not in row-major order.

PyTorch names a node after the call that made it (``reshape`` and ``view`` make ``ViewBackward0``,
``squeeze`` ``SqueezeBackward0``, ``t`` ``TBackward0``): the tiny subclasses below carry those
names and nothing else.
"""
import operator

from chainrule import dtypes
from chainrule.caller_warnings import warn_at_caller, warn_once
from chainrule.backend import element_strides, is_contiguous, memory_owner, offset_in_memory, strided_view, viewable_as, xp
from chainrule.memory_layout import (
    ELEMENTWISE, check_rank, copied_in_order, dimension_order, is_contiguous_in, preserve_format,
    pytorch_strides, row_major_strides, strides_are_pytorchs,
)
from chainrule.ops.inplace import records_in_place
from chainrule.ops.op import Op
from chainrule.ops.registry import SAME_DTYPE, install_method, public
from chainrule.tensor import check_dim, check_own_dim, tensor_from_array


class Reshape(Op):
    """The elements keep their row-major order."""

    node_name = "ViewBackward0"
    formula = "x laid out in shape"
    derivatives = ("grad laid out in x's shape", None)

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.reshape(ctx.input_shape), None


class Squeeze(Reshape):
    """Every size-1 dimension removed. ``in_place_node_name``: PyTorch numbers the nodes of the
    in-place forms (``squeeze_``, ``transpose_``...) on from the out-of-place ones."""

    in_place_node_name = "SqueezeBackward3"


class SqueezeDim(Reshape):
    node_name = "SqueezeBackward1"
    in_place_node_name = "SqueezeBackward4"


class SqueezeDims(Reshape):
    node_name = "SqueezeBackward2"
    in_place_node_name = "SqueezeBackward5"


class Unsqueeze(Reshape):
    in_place_node_name = "UnsqueezeBackward1"


class Permute(Op):
    """Output dimension i is input dimension ``dims[i]``."""

    formula = "x with its dimensions in the order dims"
    derivatives = ("grad with its dimensions put back in x's order", None)

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.xp.moveaxis(grad_output, tuple(range(len(ctx.dims))), ctx.dims), None


class Transpose(Permute):
    in_place_node_name = "TransposeBackward1"


class MatrixTranspose(Permute):
    node_name = "TBackward0"
    in_place_node_name = "TBackward1"


class Flip(Op):
    """x reversed along ``axes``, in new memory laid out as x (PyTorch's ``empty_like``)."""

    keeps_layout = ELEMENTWISE
    formula = "x in reverse order along axes"
    derivatives = ("grad flipped back", None)

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return xp.flip(x, axes).copy()

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.xp.flip(grad_output, ctx.axes), None


class Repeat(Op):
    """NumPy's ``tile``: input (s_0, ..., s_k), padded with leading 1s to len(repeats), gives
    (r_0 * s_0, r_1 * s_1, ...)."""

    formula = "x tiled repeats[d] times along each dimension d"
    derivatives = ("the sum of grad over every copy of each element", None)

    @staticmethod
    def forward(ctx, x, repeats):
        ctx.input_shape = x.shape
        ctx.repeats = repeats
        return xp.tile(x, repeats)

    @staticmethod
    def backward(ctx, grad_output):
        repeats = ctx.repeats
        padded = (1,) * (len(repeats) - len(ctx.input_shape)) + tuple(ctx.input_shape)
        # Each output axis split into (copy number, position in the input): summing the copy axes
        # away leaves one gradient per input element.
        interleaved = tuple(size for pair in zip(repeats, padded) for size in pair)
        copy_axes = tuple(range(0, 2 * len(repeats), 2))
        return grad_output.reshape(interleaved).sum(axis=copy_axes).reshape(ctx.input_shape), None


class Roll(Op):
    """Elements pushed ``shifts`` places along ``dims``; those pushed off the end come back at the front."""

    formula = "out[(i + shifts) mod n] = x[i] along each of dims"
    derivatives = ("grad rolled back by -shifts", None, None)

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return xp.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, grad_output):
        back = tuple(-shift for shift in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return ctx.xp.roll(grad_output, back, ctx.dims), None, None


class Rot90(Op):
    """The plane of ``dims`` turned by k quarter turns, from the first dimension towards the second."""

    formula = "x turned k times by 90° in the plane dims"
    derivatives = ("grad turned back -k times", None, None)

    @staticmethod
    def forward(ctx, x, k, dims):
        ctx.k, ctx.dims = k, dims
        return xp.ascontiguousarray(xp.rot90(x, k, dims))

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.xp.rot90(grad_output, -ctx.k, ctx.dims), None, None


class Triangle(Op):
    """One triangle of the last two dimensions kept, the rest 0: the lower one (j - i <= diagonal)
    or, with ``upper``, the upper one (j - i >= diagonal). The gradient keeps the same triangle."""

    formula = "x where j - i <= diagonal (>= for the upper triangle), else 0"
    derivatives = ("grad in the same triangle, else 0", None, None)

    @staticmethod
    def forward(ctx, x, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        return xp.triu(x, diagonal) if upper else xp.tril(x, diagonal)

    @staticmethod
    def backward(ctx, grad_output):
        keep = ctx.xp.triu if ctx.upper else ctx.xp.tril
        return keep(grad_output, ctx.diagonal), None, None


class Tril(Triangle):
    pass


class Triu(Triangle):
    pass


# ----------------------------------------------------------------------------- helpers
def _sizes(sizes, operation, argument):
    """Sizes given as ``f(x, 2, 3)`` or ``f(x, (2, 3))``, as a tuple of ints: integers, NumPy's
    and 1-element integer tensors are taken, a float is PyTorch's TypeError."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    try:
        return tuple(map(operator.index, sizes))
    except TypeError:
        position, odd = next((position, size) for position, size in enumerate(sizes) if not _is_index(size))
        raise TypeError(
            f"{operation}(): argument '{argument}' (position 1) must be tuple of ints, but found element of type "
            f"{type(odd).__name__} at pos {position}"
        ) from None


def _is_index(size):
    try:
        operator.index(size)
    except TypeError:
        return False
    return True


def _infer_shape(shape, numel):
    """``shape`` with its one ``-1`` replaced by the size that makes the element count ``numel``."""
    unknown = [axis for axis, size in enumerate(shape) if size == -1]
    if len(unknown) > 1:
        raise RuntimeError(f"only one dimension can be inferred: shape {list(shape)} has more than one -1")
    known = 1
    for size in shape:
        if size != -1:
            if size < 0:
                raise RuntimeError(f"invalid shape dimension {size} at index {list(shape).index(size)} of shape {list(shape)}")
            known *= size
    if unknown:
        if known == 0:
            raise RuntimeError(
                f"cannot reshape tensor of {numel} elements into shape {list(shape)} because the "
                f"unspecified dimension size -1 can be any value and is ambiguous"
            )
        if numel % known == 0:
            return shape[: unknown[0]] + (numel // known,) + shape[unknown[0] + 1 :]
    elif known == numel:
        return shape
    raise RuntimeError(
        f"shape '{list(shape)}' is invalid for input of size {numel} (the sizes must multiply to {numel})"
    )


# ----------------------------------------------------------------------------- public functions
@public
def reshape(x, *shape):
    """x with the same elements in a new shape; one size may be -1 (inferred).

    ``reshape(x, 2, 3)`` and ``reshape(x, (2, 3))`` are the same. Elements keep their row-major order.
    As PyTorch's, it is a view where x's strides allow one and otherwise reshapes a copy
    (``x.t().reshape(-1)``), its nodes named so: ``ViewBackward0`` for a contiguous x,
    ``ReshapeAliasBackward0`` for a view with other strides, ``UnsafeViewBackward0`` after the copy's
    ``CloneBackward0``.
    """
    new_shape = _infer_shape(_sizes(shape, "reshape", "shape"), x._array.size)
    if is_contiguous_tensor(x):
        return Reshape.apply(x, new_shape)
    if viewable_as(x._array, new_shape):
        return Reshape.shown_as("ReshapeAliasBackward0").apply(x, new_shape)
    reshaped = Reshape.shown_as("UnsafeViewBackward0").apply(Contiguous.apply(x), new_shape)
    reshaped._base = reshaped._version_holder = None  # the copy it views is its own: no view, as PyTorch's _unsafe_view
    return reshaped


@public
def view(x, *shape, dtype=None):
    """x's memory read in a new shape, sharing it (a change to one shows in the other).

    As in PyTorch, a view of a tensor (a transpose, a strided slice, an expand) can be viewed again
    only where its strides allow it without a copy: ``x.t().view(-1)`` raises, and ``reshape``
    (which copies when it must) or ``.contiguous()`` first is the way out. Its strides are PyTorch's
    when the memory it views is in row-major order, so only then is the answer PyTorch's. Other
    tensors (the result of a convolution, whose array NumPy may lay out otherwise where PyTorch's is
    row-major) are always viewable, copied when needed.
    """
    if dtype is not None and not shape:  # x.view(dtype=chainrule.int32)
        shape = (dtype,)
    if len(shape) == 1 and isinstance(shape[0], (dtypes.dtype, xp.dtype)):
        return _reinterpreted(x, xp.dtype(shape[0].dtype if isinstance(shape[0], dtypes.dtype) else shape[0]))
    new_shape = _infer_shape(_sizes(shape, "view", "size"), x._array.size)
    if strides_are_pytorchs(x) and not viewable_as(x._array, new_shape):
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (at least one dimension spans "
            f"across two contiguous subspaces). Use .reshape(...) instead. (A tensor of shape {list(x._array.shape)} "
            f"and strides {list(element_strides(x._array))} cannot be viewed as {list(new_shape)}.)"
        )
    return Reshape.apply(x, new_shape)


def _reinterpreted(x, dtype):
    """``x.view(dtype)``: x's bytes read as elements of ``dtype``, sharing memory, outside the graph
    (as PyTorch's). Elements of another size change the last dimension's size accordingly."""
    array, names = x._array, (dtypes.scalar_type_name(x._array.dtype), dtypes.scalar_type_name(dtype))
    if dtype.itemsize != array.dtype.itemsize:
        if array.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 to view {names[0]} as {names[1]} (different element sizes)")
        strides = x.stride()
        if array.shape[-1] != 1 and strides[-1] != 1:
            raise RuntimeError(
                f"self.stride(-1) must be 1 to view {names[0]} as {names[1]} (different element sizes), but got "
                f"{strides[-1]}"
            )
        if dtype.itemsize > array.itemsize:
            ratio = dtype.itemsize // array.itemsize
            if array.shape[-1] % ratio:
                raise RuntimeError(
                    f"self.size(-1) must be divisible by {ratio} to view {names[0]} as {names[1]} (different element "
                    f"sizes), but got {array.shape[-1]}"
                )
            if x.storage_offset() % ratio:
                raise RuntimeError(
                    f"self.storage_offset() must be divisible by {ratio} to view {names[0]} as {names[1]} (different "
                    f"element sizes), but got {x.storage_offset()}"
                )
            for dim, stride in enumerate(strides[:-1]):
                if stride % ratio:
                    raise RuntimeError(
                        f"self.stride({dim}) must be divisible by {ratio} to view {names[0]} as {names[1]} (different "
                        f"element sizes), but got {stride}"
                    )
        if not array.size:  # NumPy's empty arrays may have any strides: the new shape, in row-major order
            return _as_view_of(x, xp.empty(array.shape[:-1] + (array.shape[-1] * array.itemsize // dtype.itemsize,), dtype=dtype))
        if array.shape[-1] != 1 and array.strides[-1] != array.itemsize:  # row-major as PyTorch's, not in NumPy's layout
            array = xp.ascontiguousarray(array)
    return _as_view_of(x, array.view(dtype))


def _as_view_of(x, array):
    """A tensor of ``array`` (x's memory read otherwise) that counts as a view of x: its base and
    version counter are x's."""
    viewed = tensor_from_array(array)
    viewed._base = x if x._base is None else x._base
    viewed._version_holder = x._version_owner
    return viewed


class Contiguous(Op):
    """A copy of x laid out in row-major order, or with its dimensions in memory in ``order``
    (outermost first: ``channels_last``'s), as PyTorch's ``contiguous`` clones."""

    node_name = "CloneBackward0"
    formula = "x"
    derivatives = ("1", None)

    @staticmethod
    def forward(ctx, x, order=None):
        return copied_in_order(x, order)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


def is_contiguous_tensor(x, memory_format=None):
    """Whether x's elements lie in memory in row-major order (in channels-last order for
    ``memory_format=channels_last``), as PyTorch would say: a tensor whose strides are PyTorch's (a
    view such as ``x.t()``) is judged by its strides; any other is row-major in PyTorch, whatever
    NumPy's layout (see memory_layout.py)."""
    if memory_format is None:
        return is_contiguous(x._array) or not strides_are_pytorchs(x)
    return is_contiguous_in(x, memory_format)


def contiguous(x, memory_format=None):
    """x itself when its elements lie in memory in ``memory_format``'s order already (row-major by
    default), else a copy that does."""
    if memory_format is None:
        return x if is_contiguous(x._array) or not strides_are_pytorchs(x) else Contiguous.apply(x)
    check_rank(memory_format, x._array.ndim)
    if is_contiguous_in(x, memory_format):
        return x
    if memory_format is preserve_format:
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    order = dimension_order(x, memory_format)
    copied = Contiguous.apply(x, order)
    copied._chosen_strides = order is not None
    return copied


install_method("_alias", lambda self: Reshape.shown_as("AliasBackward0").apply(self, self._array.shape))  # Tensor(t)
install_method("contiguous", contiguous)
install_method("is_contiguous", is_contiguous_tensor)


def storage_offset(self):
    """How many elements into its memory this tensor starts: 2 for ``x[2:]`` of a fresh x."""
    return offset_in_memory(self._array)


install_method("storage_offset", storage_offset)


def stride(x, dim=None):
    """How many elements apart in memory neighbours along each dimension are (one dimension's with
    ``dim``), as PyTorch counts them (memory_layout.py): an operation's result that PyTorch lays out
    row-major has row-major strides whatever NumPy's layout; a new empty tensor has row-major
    strides, as PyTorch's (NumPy gives it zeros)."""
    strides = pytorch_strides(x)
    if not x._array.size and not any(strides):
        strides = row_major_strides(x._array.shape)
    return strides if dim is None else strides[check_own_dim(dim, x._array.ndim, "stride")]


install_method("stride", stride)


class AsStrided(Op):
    """x's memory read in another layout, as a view (no copy). ``view`` = (shape, strides, offset)
    places the output in x's array: out[i_0, i_1, ...] is the element ``offset + Σ_d i_d ·
    strides[d]`` elements from x's first one. ``output`` and ``input`` place the output and x in
    the memory as PyTorch counts it (x's storage, or x itself in row-major order), for backward.

    The gradient goes back through that memory: each output element's gradient is added at its
    place there (an element read twice, by overlapping windows, gets both), and x gets what lies
    at its own elements' places (an element of the memory outside x gets none). Where several of
    x's elements share a place (x expanded), each gets an equal part, as PyTorch's, so that the
    expansion's own backward adds them up to the place's gradient once."""

    in_place_node_name = "AsStridedBackward1"
    formula = "memory[offset + Σ_d i_d · strides[d]]"
    derivatives = ("grad added at each output element's place in memory, read back at x's places", None, None, None)

    @staticmethod
    def forward(ctx, x, view, output, input):
        ctx.output, ctx.input = output, input
        return strided_view(x, *view)

    @staticmethod
    def backward(ctx, grad_output):
        places = xp.arange(_memory_size(ctx.output, ctx.input), dtype=xp.int64)
        written = strided_view(places, *ctx.output).reshape(-1)
        memory = ctx.xp.bincount(written, weights=grad_output.reshape(-1), minlength=places.size)
        read = strided_view(places, *ctx.input)
        if _may_overlap(*ctx.input[:2]):
            memory = memory / ctx.xp.maximum(ctx.xp.bincount(read.reshape(-1), minlength=places.size), 1)
        return memory[read], None, None, None


def _may_overlap(shape, strides):
    """Whether two elements of a (shape, strides) placement may share a place in memory (PyTorch's
    test: sorted by stride, each dimension's stride must pass the extent of the smaller ones)."""
    extent = 0
    for size, stride in sorted((pair for pair in zip(shape, strides) if pair[0] > 1), key=lambda pair: abs(pair[1])):
        if abs(stride) <= extent:
            return True
        extent += (size - 1) * abs(stride)
    return False


class Unfold(AsStrided):
    pass


def _memory_size(*geometries):
    """How many elements of memory hold every element of each (shape, strides, offset) placement."""
    return max(
        0 if 0 in shape else offset + 1 + sum((size - 1) * stride for size, stride in zip(shape, strides))
        for shape, strides, offset in geometries
    )


def _memory_geometry(x):
    """x's memory as PyTorch sees it (its storage): (x, or the row-major copy of x that stands for
    it, the number of elements of that memory, x's (shape, strides, offset) in it). The memory x's
    array views when x's strides are PyTorch's (``x.t()``, ``x[1:]``: see memory_layout.py); else
    x's own elements in row-major order, read from x's array itself where it is laid out so."""
    if strides_are_pytorchs(x):
        return x, memory_owner(x._array).size, (x._array.shape, element_strides(x._array), offset_in_memory(x._array))
    place = (x._array.shape, row_major_strides(x._array.shape), 0)
    return (x if is_contiguous(x._array) else Contiguous.apply(x)), x._array.size, place


@public
def as_strided(x, size, stride, storage_offset=None):
    """A view of x's memory in any layout: out[i_0, i_1, ...] is the element at
    ``storage_offset + Σ_d i_d · stride[d]`` of x's memory (``x.as_strided((2, 2), (3, 1))`` of
    ``arange(9)`` is ``[[0, 1], [3, 4]]``): windows over memory, as im2col code reads them. Writing
    into it writes into x. The memory is x's storage as PyTorch has it (a view's base: see
    ``_memory_geometry``); ``storage_offset`` defaults to x's. The gradient adds back into every element
    of x read, overlapping windows adding up (an element of the base outside x gets none).

    A tensor whose NumPy array is not laid out as PyTorch's storage would be (not a view, and not
    row-major: the result of some convolutions) is read from a row-major copy: the result does not
    share x's memory then.
    """
    operation, inputs = _as_striding(x, size, stride, storage_offset)
    return operation.apply(*inputs)


def _as_striding(x, size, stride, storage_offset=None):
    """``(operation, its inputs)`` of ``as_strided(x, size, stride, storage_offset)``."""
    size, stride = tuple(int(side) for side in size), tuple(int(step) for step in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: size {list(size)}, stride {list(stride)}")
    if any(step < 0 for step in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}")
    if any(side < 0 for side in size):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and strides={list(stride)}")
    source, available, place = _memory_geometry(x)
    offset = place[2] if storage_offset is None else int(storage_offset)
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset} (as_strided needs storage_offset >= 0)")
    needed = _memory_size((size, stride, offset))
    if needed > available:
        itemsize = x._array.itemsize
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and itemsize "
            f"{itemsize} requiring a storage size of {needed * itemsize} are out of bounds for storage "
            f"of size {available * itemsize}"
        )
    return AsStrided, (source, (size, stride, offset - place[2]), (size, stride, offset), place)


def _windows(shape, strides, dim, size, step):
    """``unfold``'s layout of an array of ``shape`` and ``strides``: (shape, strides) with
    dimension ``dim`` counting windows ``step`` apart and a new last dimension of ``size``."""
    if not shape:  # a 0-d tensor unfolds as a vector of one element
        return (size,), (1,)
    count = (shape[dim] - size) // step + 1
    return (
        shape[:dim] + (count,) + shape[dim + 1 :] + (size,),
        strides[:dim] + (strides[dim] * step,) + strides[dim + 1 :] + (strides[dim],),
    )


def unfold(x, dimension, size, step):
    """``Tensor.unfold``: every slice of length ``size`` along ``dimension``, one each ``step``
    elements, as a new last dimension, a view of x (no copy): (*, n, *) -> (*, (n - size) // step
    + 1, *, size), out[..., i, ..., j] = x[..., i · step + j, ...].

    ``x.unfold(0, 2, 2)`` of ``[0, 1, 2, 3, 4, 5]`` is ``[[0, 1], [2, 3], [4, 5]]``. Its strides
    are x's, dimension's multiplied by ``step``, and dimension's own for the new one. The gradient
    of overlapping windows adds up. A 0-d tensor unfolds as a vector of one element.
    """
    shape = x._array.shape
    dim = check_dim(dimension, len(shape), "unfold")
    length = shape[dim] if shape else 1
    if size < 0:
        raise RuntimeError(f"unfold: size is {size} but must be >= 0")
    if size > length:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {dim} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    row_major = row_major_strides(shape)
    read = _windows(shape, element_strides(x._array), dim, size, step)
    return Unfold.apply(x, read + (0,), _windows(shape, row_major, dim, size, step) + (0,), (shape, row_major, 0))


install_method("unfold", unfold)


@public
def flatten(x, start_dim=0, end_dim=-1):
    """x with dimensions ``start_dim`` to ``end_dim`` merged into one: (2, 3, 4) -> (2, 12) for start_dim=1."""
    shape = x._array.shape
    start = check_dim(start_dim, len(shape), "flatten")
    end = check_dim(end_dim, len(shape), "flatten")
    if start > end:
        raise RuntimeError(
            f"flatten() has invalid args: start_dim cannot come after end_dim (got start_dim={start_dim}, "
            f"end_dim={end_dim} for a tensor of {len(shape)} dimensions)"
        )
    if shape and start == end:  # nothing to merge: x itself, as PyTorch returns it
        return x
    merged = 1
    for size in shape[start : end + 1]:
        merged *= size
    return reshape(x, shape[:start] + (merged,) + shape[end + 1 :])


@public
def squeeze(x, dim=None):
    """x without its size-1 dimensions (only those in ``dim``, an int or a tuple, when given).

    Naming a dimension whose size is not 1 is allowed and leaves it in place, as in PyTorch.
    """
    operation, inputs = _squeezing(x, dim)
    return operation.apply(*inputs)


def _squeezing(x, dim=None):
    """``(operation, its inputs)`` of ``squeeze(x, dim)``."""
    shape = x._array.shape
    if dim is None:
        chosen = range(len(shape))
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        chosen = [check_dim(axis, len(shape), "squeeze") for axis in dims]
        for axis in chosen:
            if chosen.count(axis) > 1:
                raise RuntimeError(f"squeeze: dim {axis} appears multiple times in the list of dims {list(dims)}")
    kind = Squeeze if dim is None else SqueezeDims if isinstance(dim, (tuple, list)) else SqueezeDim
    return kind, (x, tuple(size for axis, size in enumerate(shape) if not (axis in chosen and size == 1)))


@public
def unsqueeze(x, dim):
    """x with a new size-1 dimension at position ``dim``: (2, 3) -> (2, 1, 3) for dim=1."""
    operation, inputs = _unsqueezing(x, dim)
    return operation.apply(*inputs)


def _unsqueezing(x, dim):
    """``(operation, its inputs)`` of ``unsqueeze(x, dim)``."""
    shape = x._array.shape
    position = check_dim(dim, len(shape) + 1, "unsqueeze")
    return Unsqueeze, (x, shape[:position] + (1,) + shape[position:])


@public
def permute(x, *dims):
    """x with its dimensions reordered: output dimension i is input dimension ``dims[i]``.

    ``permute(x, 2, 0, 1)`` turns an image of shape (H, W, C) into (C, H, W).
    """
    dims = _sizes(dims, "permute", "dims")
    ndim = x._array.ndim
    if len(dims) != ndim:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
            f"desired ordering of dimensions i.e. input.dim() = {ndim} is not equal to len(dims) = {len(dims)}"
        )
    dims = tuple(check_dim(axis, ndim, "permute") for axis in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"permute(): duplicate dims are not allowed. (permute: got dims={list(dims)})")
    return Permute.apply(x, dims)


@public(aliases=('swapdims',))
def transpose(x, dim0, dim1):
    """x with dimensions ``dim0`` and ``dim1`` swapped: (2, 3, 4) -> (4, 3, 2) for (0, 2)."""
    operation, inputs = _transposing(x, dim0, dim1)
    return operation.apply(*inputs)


def _transposing(x, dim0, dim1):
    """``(operation, its inputs: x and the order of the dimensions)`` of ``transpose(x, dim0, dim1)``."""
    ndim = x._array.ndim
    dim0, dim1 = check_dim(dim0, ndim, "transpose"), check_dim(dim1, ndim, "transpose")
    dims = list(range(ndim))
    if ndim:
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Transpose, (x, tuple(dims))




@public
def t(x):
    """The transpose of a matrix (a tensor of at most 2 dimensions; 0-d and 1-d are returned as they are)."""
    operation, inputs = _matrix_transposing(x)
    return operation.apply(*inputs)


@public
def swapaxes(x, axis0, axis1):
    """``transpose`` under NumPy's name and keywords: x with dimensions ``axis0`` and ``axis1`` swapped."""
    operation, inputs = _swapping_axes(x, axis0, axis1)
    return operation.apply(*inputs)


def _swapping_axes(x, axis0, axis1):
    """``(operation, its inputs)`` of ``swapaxes(x, axis0, axis1)``."""
    return _transposing(x, axis0, axis1)


def _matrix_transposing(x):
    """``(operation, its inputs: x and the order of the dimensions)`` of ``t(x)``."""
    ndim = x._array.ndim
    if ndim > 2:
        raise RuntimeError(
            f"t() expects a tensor with <= 2 dimensions, but self is {ndim}D; use transpose(dim0, dim1) "
            f"or permute() for more dimensions"
        )
    return MatrixTranspose, (x, tuple(reversed(range(ndim))))


@public(aliases=('moveaxis',))
def movedim(x, source, destination):
    """x with dimension(s) ``source`` moved to position(s) ``destination``, the others keeping their order."""
    ndim = x._array.ndim
    sources = source if isinstance(source, (tuple, list)) else (source,)
    destinations = destination if isinstance(destination, (tuple, list)) else (destination,)
    if len(sources) != len(destinations):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(sources)} dims) should "
            f"contain the same number of dims as destination ({list(destinations)} dims)"
        )
    sources = [check_dim(axis, ndim, "movedim") for axis in sources]
    destinations = [check_dim(axis, ndim, "movedim") for axis in destinations]
    for name, dims in (("source", sources), ("destination", destinations)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({dims})")
    rest = iter(axis for axis in range(ndim) if axis not in sources)
    placed = dict(zip(destinations, sources))
    return Permute.apply(x, tuple(placed[axis] if axis in placed else next(rest) for axis in range(ndim)))


@public
def repeat(x, *sizes):
    """x tiled ``sizes[d]`` times along each dimension d; extra leading sizes add new dimensions.

    (2, 3) repeated (2, 1, 2) -> (2, 2, 6). This is NumPy's ``tile`` (not ``numpy.repeat``).
    """
    repeats = _sizes(sizes, "repeat", "repeats")
    if len(repeats) < x._array.ndim:
        raise RuntimeError(
            f"Number of dimensions of repeat dims can not be smaller than number of dimensions of "
            f"tensor (repeat: got {len(repeats)} repeats for a tensor of shape {tuple(x._array.shape)})"
        )
    if any(size < 0 for size in repeats):
        sizes = [count * size for count, size in zip(repeats, (1,) * (len(repeats) - x._array.ndim) + x._array.shape)]
        first = next(size for size in sizes if size < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {first}: {sizes} (repeat: repeats {list(repeats)})")
    return Repeat.apply(x, repeats)


@public
def tile(x, *dims):
    """x tiled ``dims[d]`` times along each dimension d; fewer sizes than dimensions are padded with 1s in front."""
    dims = _sizes(dims, "tile", "dims")
    return repeat(x, (1,) * (x._array.ndim - len(dims)) + dims)


def flip_method(x, *dims, **keywords):
    """``Tensor.flip``: as ``flip``, and the method also takes its dims one by one: ``x.flip(0, 1)``
    is ``torch.flip(x, (0, 1))``."""
    one_by_one = len(dims) > 1 or (len(dims) == 1 and not isinstance(dims[0], (tuple, list)))
    return flip(x, dims, **keywords) if one_by_one else flip(x, *dims, **keywords)


@public(method=flip_method)
def flip(x, dims):
    """x with its elements in reverse order along each of ``dims`` (a tuple or list of ints)."""
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"flip(): argument 'dims' (position 2) must be tuple of ints, not {type(dims).__name__}; write (dim,) for one")
    axes = tuple(check_dim(dim, x._array.ndim, "flip") for dim in dims)
    repeated = next((axis for position, axis in enumerate(axes) if axis in axes[:position]), None)
    if repeated is not None:
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims (dims={list(dims)}); name each once")
    return Flip.apply(x, axes if x._array.ndim else ())


@public
def roll(x, shifts, dims=None):
    """x with its elements moved ``shifts`` places along ``dims`` (ints or tuples of them), wrapping
    around: roll([1, 2, 3], 1) is [3, 1, 2]. Without ``dims`` x is rolled as if flattened."""
    if dims is None:
        if isinstance(shifts, (tuple, list)) and len(shifts) != 1:
            raise RuntimeError(f"roll: shifts {list(shifts)} need as many dims, but none were given; pass dims=")
        return Roll.apply(x, int(shifts[0] if isinstance(shifts, (tuple, list)) else shifts), None)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    return Roll.apply(x, tuple(int(shift) for shift in shifts), tuple(check_dim(dim, x._array.ndim, "roll") for dim in dims))


@public
def rot90(x, k=1, dims=(0, 1)):
    """x turned by ``k`` quarter turns in the plane of ``dims``, from the first towards the second:
    rot90([[1, 2], [3, 4]]) is [[2, 4], [1, 3]]. A negative k turns the other way."""
    if isinstance(k, bool) or not hasattr(k, "__index__"):
        raise TypeError(f"rot90(): argument 'k' (position 2) must be int, not {type(k).__name__}")
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if x._array.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {x._array.ndim}")
    first, second = (check_dim(dim, x._array.ndim, "rot90") for dim in dims)
    if first == second:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {first} and dim1 = {second}")
    return Rot90.apply(x, operator.index(k) % 4, (first, second))


@public
def fliplr(x):
    """x with its columns (dimension 1) in reverse order; x needs at least 2 dimensions."""
    if x._array.ndim < 2:
        raise RuntimeError(f"Input must be >= 2-d. (got a tensor of shape {list(x._array.shape)}; use flip(x, (0,)) for 1-D)")
    return Flip.apply(x, (1,))


@public
def flipud(x):
    """x with its rows (dimension 0) in reverse order; x needs at least 1 dimension."""
    if x._array.ndim < 1:
        raise RuntimeError("Input must be >= 1-d. (got a 0-d tensor, which has nothing to flip)")
    return Flip.apply(x, (0,))


def _at_least_2d(x, operation):
    if x._array.ndim < 2:
        raise RuntimeError(
            f"{operation}: input tensor must have at least 2 dimensions (got shape {list(x._array.shape)}); "
            f"the triangle is taken over the last two"
        )


@public(inplace=True, out=SAME_DTYPE)
def tril(x, diagonal=0):
    """The lower triangle of each matrix (last two dimensions): elements with j - i > diagonal set to 0."""
    _at_least_2d(x, "tril")
    return Tril.apply(x, diagonal, False)


@public(inplace=True, out=SAME_DTYPE)
def triu(x, diagonal=0):
    """The upper triangle of each matrix (last two dimensions): elements with j - i < diagonal set to 0."""
    _at_least_2d(x, "triu")
    return Triu.apply(x, diagonal, True)


@public
def unflatten(x, dim, sizes):
    """Dimension ``dim`` of x split into ``sizes`` (one may be -1): (2, 12) -> (2, 3, 4) for dim=1, sizes (3, 4)."""
    shape = x._array.shape
    dim = check_dim(dim, len(shape), "unflatten")
    sizes = tuple(int(size) for size in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        sizes = _infer_shape(sizes, shape[dim])
    except RuntimeError:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} ({shape[dim]}) "
            f"in the input tensor"
        ) from None
    return Reshape.apply(x, shape[:dim] + sizes + shape[dim + 1 :])


@public
def ravel(x):
    """x flattened to 1-D in row-major order: ``x.contiguous().view(-1)``, as PyTorch's, so a view of
    a contiguous x and otherwise of a row-major copy (never a strided view of x's memory)."""
    if not is_contiguous_tensor(x):
        x = Contiguous.apply(x)
    return Reshape.apply(x, (x._array.size,))


def _shape_in_place(name, planned):
    """``Tensor.NAME_`` for a shape operation, ``planned(x, *args)`` giving its ``(operation, its
    inputs)``: the tensor itself takes the new shape and strides (and, when recording, the node of
    the reshaping, named as PyTorch names the in-place form's), as PyTorch's ``t_``, ``unsqueeze_``,
    ``squeeze_``, ``transpose_`` and ``as_strided_`` do. A tensor that is no view keeps the new
    strides as its own (``a.t_()`` is not contiguous). A leaf that requires grad refuses, as for
    every in-place operation."""

    def in_place(self, *args, **kwargs):
        recording = records_in_place(self, ())
        if recording and self.grad_fn is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation. Wrap "
                "the change in `with chainrule.no_grad():` or use the out-of-place form."
            )
        operation, inputs = planned(self, *args, **kwargs)
        result = operation.shown_as(operation.in_place_node_name).apply(*inputs)
        if self._base is None:
            self._chosen_strides = strides_are_pytorchs(result)  # a view of this tensor, or of a row-major copy
        self._array = result._array
        if recording:
            self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
        self._version_owner._version_count += 1
        return self

    in_place.__name__ = name + "_"
    in_place.__doc__ = f"In-place form of ``{name}``: this tensor itself takes the new shape."
    return in_place


for _name, _planned in (("t", _matrix_transposing), ("unsqueeze", _unsqueezing), ("squeeze", _squeezing),
                        ("transpose", _transposing), ("swapdims", _transposing), ("swapaxes", _swapping_axes),
                        ("as_strided", _as_striding)):
    install_method(_name + "_", _shape_in_place(_name, _planned))


def view_as(self, other):
    """``self.view(other.size())``: this tensor's memory read in other's shape."""
    return view(self, other.shape)


def reshape_as(self, other):
    """``self.reshape(other.size())``: this tensor in other's shape (a view where it can be)."""
    return reshape(self, other.shape)


install_method("view_as", view_as)
install_method("reshape_as", reshape_as)


def reversed_dimensions(self):
    """``x.T``: all dimensions reversed. On any tensor but a matrix PyTorch has deprecated it, with a
    warning (once per process)."""
    if self._array.ndim == 0:
        warn_once("x.T on 0-d", "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.")
    elif self._array.ndim != 2:
        warn_once(
            "x.T beyond 2-D",
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it will "
            "throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
            "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
        )
    return permute(self, *reversed(range(self._array.ndim)))


install_method("T", property(reversed_dimensions))


def matrix_transpose(self):
    """``x.mT``: the last two dimensions swapped (each matrix of a batch transposed); a 0-d tensor
    is itself, with PyTorch's warning."""
    if self._array.ndim == 0:
        warn_at_caller("Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases.")
        return self
    if self._array.ndim < 2:
        raise RuntimeError(
            f"tensor.mT is only supported on matrices or batches of matrices. Got {self._array.ndim}-D tensor."
        )
    return transpose(self, -2, -1)


install_method("mT", property(matrix_transpose))

