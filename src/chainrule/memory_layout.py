"""How a tensor's elements lie in memory, as PyTorch names it: ``chainrule.strided`` (the one
layout a chainrule tensor has: a NumPy array), the memory formats that ``clone``, ``contiguous``
and the ``*_like`` factories take (``torch.preserve_format``, ``channels_last``...), and which
strides a tensor has.

A tensor's strides are its NumPy array's where they are PyTorch's, that is where PyTorch's tensor
would lie in memory the same way:

- a view of a tensor whose strides are PyTorch's (``x.t()``, ``x[:, 1:]``, ``x.view(2, 3)``),
- a tensor whose layout an operation chose (``t_()``, ``as_strided_``, ``clone()`` of a transposed
  tensor, ``contiguous(memory_format=channels_last)``, and the result of an operation whose inputs
  do not lie row-major, laid out as PyTorch's by its ``keeps_layout`` (below): ``x.t() + 1`` is
  transposed, a convolution of a channels-last input channels-last): its ``_chosen_strides`` is set.

Any other tensor is row-major, as PyTorch's would be, whatever layout NumPy gave its array (a
reduction of a transposed tensor may come transposed): its ``stride()`` is row-major's, it is
contiguous and can be viewed in any shape. New tensors copy a tensor's layout only where its strides
are PyTorch's.
"""
from chainrule.backend import element_strides, is_contiguous, xp


class _Named:
    """A constant of PyTorch's: prints as ``chainrule.NAME`` and pickles as itself."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"chainrule.{self._name}"

    def __reduce__(self):
        return self._name


class layout(_Named):  # noqa: N801 (PyTorch's name)
    """A tensor layout: ``chainrule.strided`` for dense tensors."""


class memory_format(_Named):  # noqa: N801 (PyTorch's name)
    """A memory format: ``chainrule.contiguous_format``, ``preserve_format``, ``channels_last``, ``channels_last_3d``."""


strided = layout("strided")
#: A nested tensor's other layout (``chainrule.nested``): one ``values`` tensor whose rows along the
#: ragged dimension its ``offsets`` cut into components.
jagged = layout("jagged")
sparse_coo = layout("sparse_coo")
#: PyTorch's compressed sparse layouts (PyG: ``edge_index.layout == torch.sparse_csr``), whose tensors
#: are ``sparse/compressed.py``'s; ``zeros`` and ``empty`` make CSR and CSC ones storing nothing, the
#: filled factories none (``refuse_compressed``).
sparse_csr, sparse_csc, sparse_bsr, sparse_bsc = (layout(name) for name in ("sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc"))
COMPRESSED = (sparse_csr, sparse_csc, sparse_bsr, sparse_bsc)
contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")

#: The order in memory, outermost first, of the dimensions of a tensor in a channels-last format
#: (N, C, H, W) -> memory ordered N, H, W, C: the channels of a pixel lie side by side.
CHANNELS_LAST_ORDERS = {channels_last: (0, 2, 3, 1), channels_last_3d: (0, 2, 3, 4, 1)}


def refuse_compressed(layout, operation):
    """A clear error for a compressed sparse ``layout`` given to a factory that fills every element
    (PyTorch's ``ones(layout=sparse_csr)`` makes a CSR tensor that breaks its own invariants)."""
    if layout in COMPRESSED:
        raise RuntimeError(
            f"{operation}: chainrule makes no {layout._name} tensor filled with a value; make a dense tensor and convert it, "
            f"x.to_sparse(layout=chainrule.{layout._name})"
        )


def check_rank(memory_format, ndim):
    """PyTorch's error for ``channels_last`` on a tensor that is not 4-d (5-d for ``channels_last_3d``)."""
    order = CHANNELS_LAST_ORDERS.get(memory_format)
    if order is not None and ndim != len(order):
        raise RuntimeError(f"required rank {len(order)} tensor to use {memory_format._name} format")


def keep_copied_layout(tensor):
    """Make the strides of ``tensor``, a new copy of a NumPy array's or a tensor's values laid out
    as they lie (NumPy's order "K", taken where PyTorch keeps the source's layout: an array, a
    tensor whose strides are PyTorch's), its own: ``tensor(a.T)`` of an array ``a`` is not
    contiguous, as in PyTorch. A row-major copy is left as it is."""
    if not tensor._array.flags.c_contiguous:
        tensor._chosen_strides = True


def strides_are_pytorchs(tensor):
    """Whether ``tensor``'s NumPy strides are the strides PyTorch's tensor would have (see above)."""
    base = tensor._base
    if base is None:
        return tensor._chosen_strides
    return base._chosen_strides or is_contiguous(base._array)


def pytorch_strides(tensor):
    """``tensor``'s strides as PyTorch counts them: its array's where they are PyTorch's, else row-major's."""
    if strides_are_pytorchs(tensor):
        return element_strides(tensor._array)
    return row_major_strides(tensor._array.shape)


def row_major_strides(shape):
    """The element strides of a tensor of ``shape`` laid out in row-major order (a size-0 or size-1
    dimension counts as 1 for the strides before it, as PyTorch's)."""
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def is_contiguous_in(tensor, memory_format):
    """``tensor.is_contiguous(memory_format)``: whether its elements lie in memory without gaps, in
    row-major order (``contiguous_format``, and ``preserve_format`` as PyTorch reads it) or in the
    channels-last order (False for a tensor of another rank, as PyTorch's)."""
    order = CHANNELS_LAST_ORDERS.get(memory_format)
    if order is None:
        return is_contiguous(tensor._array) or not strides_are_pytorchs(tensor)
    return len(order) == tensor._array.ndim and lies_in_order(tensor._array.shape, pytorch_strides(tensor), order)


def lies_in_order(shape, strides, order):
    """Whether a tensor of ``shape`` and ``strides`` fills its memory densely with its dimensions in
    ``order`` (outermost first); the stride of a size-1 dimension does not matter, as in PyTorch."""
    expected = 1
    for dim in reversed(order):
        if shape[dim] != 1:
            if strides[dim] != expected:
                return False
            expected *= shape[dim]
    return True


def dimension_order(tensor, memory_format):
    """The order in memory (outermost first) of the dimensions of a new tensor made from ``tensor``
    in ``memory_format`` (``clone``, ``*_like``); None for row-major order.

    ``preserve_format`` (None, the default) keeps ``tensor``'s own order where its strides are
    PyTorch's and not row-major (``x.t().clone()`` is transposed too), as PyTorch's
    ``infer_dense_strides`` finds it: dimensions sorted by stride, a tie kept in place or won by the
    smaller size inside, a dimension of stride 0 (an expand's) left where it is."""
    order = CHANNELS_LAST_ORDERS.get(memory_format)
    if order is not None or memory_format is contiguous_format:
        return order
    if is_contiguous(tensor._array) or not tensor._array.size or not strides_are_pytorchs(tensor):
        return None
    return _sorted_order(tensor._array.shape, [element_strides(tensor._array)])


def elementwise_order(operands, shape):
    """The order in memory (outermost first; None for row-major) of the result of an elementwise
    operation of ``shape`` on ``operands`` (its tensors, in argument order), as PyTorch's
    TensorIterator lays it out: row-major when every operand of that shape is row-major (as
    PyTorch counts strides: see above), channels-last when every one is, else the dimensions sorted
    by the operands' strides as ``dimension_order`` sorts one tensor's, the first operand that
    tells two dimensions apart deciding, a broadcast dimension (stride 0 there) telling nothing.
    So ``x.t() * 2``, ``x.t() + y`` and ``x.permute(1, 0, 2) + pe`` keep x's order."""
    ndim = len(shape)
    every_strides, same_shapes = [], True
    for operand in operands:
        sizes, strides = operand._array.shape, pytorch_strides(operand)
        same_shapes = same_shapes and sizes == shape
        offset = ndim - len(sizes)
        every_strides.append(
            (0,) * offset + tuple(0 if size == 1 and shape[offset + dim] != 1 else stride for dim, (size, stride) in enumerate(zip(sizes, strides)))
        )
    if same_shapes:
        if all(lies_in_order(shape, strides, range(ndim)) for strides in every_strides):
            return None
        if ndim == 4 and all(lies_in_order(shape, strides, CHANNELS_LAST_ORDERS[channels_last]) for strides in every_strides):
            return CHANNELS_LAST_ORDERS[channels_last]
    return _sorted_order(shape, every_strides)


def lies_otherwise(tensor):
    """Whether ``tensor``'s elements lie in memory otherwise than in row-major order, as PyTorch
    counts its strides (a transposed view, a result laid out as its operands). A view whose
    dimensions lie outermost first with gaps between its rows (a slice of columns: an LSTM's gate,
    ``x[:, :n]``) lies in row-major order: an elementwise result of it is row-major in PyTorch too."""
    array = tensor._array
    return not is_contiguous(array) and strides_are_pytorchs(tensor) and not _rows_in_order(array)


def _rows_in_order(array):
    """Whether the dimensions of ``array`` (those of more than one element) lie outermost first:
    its strides fall strictly from the first to the last, none 0 (a broadcast) nor negative."""
    previous = None
    for size, stride in zip(array.shape, array.strides):
        if size == 1:
            continue
        if stride <= 0 or (previous is not None and stride >= previous):
            return False
        previous = stride
    return True


#: How an operation's result lies in memory when its inputs do not lie row-major (an Op's
#: ``keeps_layout``; None: row-major whatever its inputs): as its operands (``elementwise_order``),
#: or channels-last where one input, or every input, of the result's rank suggests channels-last
#: (PyTorch's convolutions, batch and group norm, pooling, upsampling and padding follow one input's
#: ``suggest_memory_format``, ``cat`` every input's).
ELEMENTWISE = "as its operands"
CHANNELS_LAST_OF_ANY_INPUT = "channels-last where an input is"
CHANNELS_LAST_OF_EVERY_INPUT = "channels-last where every input is"
_CHANNELS_LAST_OF_RANK = {4: channels_last, 5: channels_last_3d}


def lay_out_as_operands(result, arguments, how):
    """Give ``result``, a new tensor an operation made of ``arguments`` (some of whose tensors lie
    otherwise than row-major), the layout PyTorch's result has (``how``, above): its array is copied
    so where NumPy laid it out otherwise, and its strides count as PyTorch's, so that ``stride()``,
    ``is_contiguous()``, ``view`` and a ``*_like`` factory (dropout's mask) read them as PyTorch does."""
    array = result._array
    if result._base is not None or array.ndim < 2 or not array.size:
        return
    tensors = [argument for argument in arguments if hasattr(argument, "_chosen_strides")]
    if how is ELEMENTWISE:
        order = elementwise_order(tensors, array.shape)
    else:
        order = _channels_last_order(tensors, array.ndim, all if how is CHANNELS_LAST_OF_EVERY_INPUT else any)
    if order is None:  # row-major, as PyTorch's: NumPy may have followed a transposed input (batch norm)
        if is_contiguous(array):
            return
        order = tuple(range(array.ndim))  # copied so, that a view of it (.transpose) has PyTorch's strides
    result._array = laid_out_in(array, order)
    result._chosen_strides = True


def keep_operands_layout(result, operands):
    """``result`` (an elementwise result of the tensors ``operands`` made outside Function.apply: a
    comparison, a bitwise operation) laid out as PyTorch's where an operand lies otherwise than
    row-major (``x.t() > 0`` is transposed too); the common case costs a look at each operand."""
    for operand in operands:
        if (operand._chosen_strides or operand._base is not None) and lies_otherwise(operand):
            lay_out_as_operands(result, operands, ELEMENTWISE)
            break
    return result


def _channels_last_order(tensors, ndim, every_or_any):
    """The channels-last order of rank ``ndim`` where ``every_or_any`` of ``tensors`` of that rank
    suggest it (PyTorch's ``suggest_memory_format``), else None."""
    memory_format = _CHANNELS_LAST_OF_RANK.get(ndim)
    suggestions = [suggested_memory_format(tensor) is memory_format for tensor in tensors if tensor._array.ndim == ndim]
    if memory_format is None or not suggestions or not every_or_any(suggestions):
        return None
    return CHANNELS_LAST_ORDERS[memory_format]


def laid_out_in(array, order):
    """``array`` itself where its dimensions lie in memory in ``order`` (outermost first) already,
    else a copy that lies so (a compiled program lays an elementwise result out as eager did)."""
    return array if lies_in_order(array.shape, element_strides(array), order) else copied_in_order(array, order)


def _sorted_order(shape, every_strides):
    """The dimensions of ``shape`` sorted outermost first by the strides of each operand in turn
    (insertion sort from the innermost, as TensorIterator's ``reorder_dimensions``): an operand
    whose strides differ decides, a stride of 0 (a broadcast) leaves it to the next operand, equal
    strides put the larger dimension outside; undecided pairs keep their place. None for row-major."""

    def moves_outward(inner, outer):  # 1: swap them, -1: in place, 0: undecided (look further out)
        for strides in every_strides:
            if strides[inner] == 0 or strides[outer] == 0:
                continue
            if strides[inner] != strides[outer]:
                return 1 if strides[inner] > strides[outer] else -1
            if shape[inner] > shape[outer]:
                return 1
        return 0

    order = list(range(len(shape) - 1, -1, -1))  # innermost first, sorted by insertion
    for position in range(1, len(order)):
        moving = position
        for inner in range(position - 1, -1, -1):
            verdict = moves_outward(order[inner], order[moving])
            if verdict > 0:
                order[inner], order[moving] = order[moving], order[inner]
                moving = inner
            elif verdict < 0:
                break
    order.reverse()
    return None if order == sorted(order) else tuple(order)


def copied_in_order(array, order, dtype=None):
    """A copy of ``array`` (converted to ``dtype``; by default its own) whose dimensions lie in memory
    in ``order`` (outermost first; None: row-major): new memory even where ``array`` lies so already."""
    if order is None:
        return xp.array(array, dtype=dtype, order="C")
    return xp.array(array.transpose(order), dtype=dtype, order="C").transpose(inverse_order(order))


def suggested_memory_format(tensor):
    """The memory format ``tensor``'s strides suggest, as PyTorch's ``suggest_memory_format`` reads
    them: ``channels_last`` for a 4-d tensor whose strides grow in the order C, W, H, N (even with
    gaps), ``channels_last_3d`` likewise for a 5-d one, else ``contiguous_format``; a case the
    strides leave open (a size-0 dimension, N111 tensors, a channel stride of 0) is contiguous.
    ``x.to(memory_format=f)`` returns x itself when f is the format x suggests."""
    shape = tensor._array.shape
    for memory_format, order in CHANNELS_LAST_ORDERS.items():
        if len(shape) == len(order):
            strides = pytorch_strides(tensor)
            smallest = 0  # the stride the next dimension outward needs at least
            if strides[1] == 0:
                return contiguous_format
            for dim in reversed(order):
                if shape[dim] == 0 or strides[dim] < smallest or (dim == 0 and smallest == strides[1]):
                    return contiguous_format
                smallest = strides[dim] * max(shape[dim], 1)
            return memory_format
    return contiguous_format


def made_in_order(make, shape, order):
    """A new tensor of ``shape`` whose dimensions lie in memory in ``order`` (None: row-major):
    ``make(sizes)`` makes a row-major tensor, in the memory order's sizes, that is then read with
    its dimensions in ``shape``'s order. Its values fill memory in order, as PyTorch's
    ``rand_like`` of a transposed tensor draws them."""
    if order is None:
        return make(shape)
    made = make(tuple(shape[dim] for dim in order))
    made._array, made._chosen_strides = made._array.transpose(inverse_order(order)), True
    return made


def inverse_order(order):
    """The permutation that undoes ``order``."""
    inverse = [0] * len(order)
    for position, dim in enumerate(order):
        inverse[dim] = position
    return tuple(inverse)
