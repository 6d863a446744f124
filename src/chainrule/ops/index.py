"""Indexing: reading elements at positions (``x[key]``, ``gather``) and writing them (``x[key] = v``).

Two operations do all the work:

- ``GetItem`` reads ``x[key]``. Its gradient sends each output element's gradient back to the
  position it was read from, *adding* where one position was read several times (``x[[0, 0]]``
  gives x[0] twice the gradient): zeros with the gradient written at key, or, when an integer array
  may repeat a position, ``bincount`` of the positions weighted by the gradient (a scatter-add that
  NumPy, CuPy and chainrule all name alike).
- ``IndexPut`` writes values at ``key`` into a copy of x (or adds them, with ``accumulate``). The
  values' gradient is read back from the same positions: ``grad[key]``.

``gather``, ``index_select``, ``take``, ``take_along_dim``, ``masked_select``, ``diagonal``,
``narrow``, ``select`` and ``repeat_interleave`` are ``x[key]`` for a key built from their arguments
(``diagonal`` reads those elements as a view of x's memory, as PyTorch's does);
``scatter``, ``scatter_add``, ``scatter_reduce``, ``index_add``, ``index_copy``, ``index_fill``,
``diag_embed`` and ``slice_scatter``, ``select_scatter``, ``diagonal_scatter`` are ``IndexPut`` (``scatter_reduce`` with ``"prod"`` is its own ``ScatterProduct``). PyTorch names the
node after the call (``x[0]`` makes ``SelectBackward0``, ``x.gather(...)`` ``GatherBackward0``): the
tiny subclasses of ``GetItem`` and ``IndexPut`` carry those names and nothing else.
"""
import collections.abc
import functools
import itertools
import math
import re

from chainrule import dtypes
from chainrule.caller_warnings import warn_at_caller
from chainrule.creation import checked_dtype, integer_argument
from chainrule.memory_layout import contiguous_format
from chainrule.backend import MetaArray, add_at, as_array, combine_at, element_strides, is_writable, meta_array, ndarray, strided_view, xp
from chainrule.ops import shape
from chainrule.ops.broadcast import broadcast_shapes, broadcast_to, expand
from chainrule.ops.elementwise import Where, broadcasting, clone, selected
from chainrule.ops.inplace import check_not_inference, leaf_view_error, records_in_place, unwritable_error, write_in_place
from chainrule.autograd import function as function_module
from chainrule.autograd import grad_mode
from chainrule.autograd.function import (
    array_from_shapes, computed_without_gradient, made_from_arguments, made_from_values, shaped_by_values, tensor_of_values,
    written_in_place,
)
from chainrule.ops.op import Op, OpNode
from chainrule.ops.reduce import SumAll, accumulated
from chainrule.ops.operands import as_tensor_like, binary_operands, constant, expand_error
from chainrule.ops.registry import SAME_DTYPE, install_method, public
from chainrule.sparse.coo_array import SparseCOOArray
from chainrule.tensor import Tensor, check_dim, tensor_from_array
from chainrule.utils.operation_mode import operands_in_modes


class GetItem(Op):
    """``key`` holds ints, slices, None, Ellipsis and integer or boolean arrays; ``repeats`` says
    whether an integer array is among them (a position may then be read more than once)."""

    node_name = "IndexBackward0"
    formula = "x[key]"
    derivatives = ("zeros of x's shape with grad added at key", None, None)

    @staticmethod
    def forward(ctx, x, key, repeats):
        ctx.input_shape, ctx.key, ctx.repeats = x.shape, key, repeats
        try:
            selected = x[key]
        except IndexError as error:
            raise _index_error(error, key, x.shape) from None
        if type(selected) is not ndarray:  # one element by ints: NumPy copies it out, PyTorch gives a 0-d view
            selected = x[(*key, Ellipsis)] if type(key) is tuple else x[key, ...]
        elif not selected.size:
            selected = _placed_where_it_starts(x, key, selected)
        return selected

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.repeats:  # a position read twice gets both gradients, where writing them would keep one
            positions = flat_positions(ctx.input_shape, ctx.key).reshape(-1)
            total = ctx.xp.bincount(positions, weights=grad_output.reshape(-1), minlength=math.prod(ctx.input_shape))
            return total.reshape(ctx.input_shape), None, None
        grad_input = ctx.xp.zeros(ctx.input_shape, dtype=grad_output.dtype)
        grad_input[ctx.key] = grad_output
        return grad_input, None, None


def _placed_where_it_starts(x, key, empty):
    """The empty ``x[key]`` starting where PyTorch's does: NumPy starts an empty view at x's first
    element, PyTorch at the key's starts (``x[3:3].storage_offset() == 3``), Σ_d start_d · stride_d,
    a slice's start clamped to its dimension's size; placed no further than the end of x's memory.
    A key with index arrays reads a copy, which starts at 0 in both."""
    if any(isinstance(part, (ndarray, bool)) for part in key):
        return empty
    strides, offset, dim = element_strides(x), 0, 0
    for part in key:
        if part is Ellipsis:
            dim = x.ndim - sum(1 for later in key[key.index(Ellipsis) + 1 :] if later is not None and later is not Ellipsis)
        elif isinstance(part, slice):
            offset += part.indices(x.shape[dim])[0] * strides[dim]
            dim += 1
        elif part is not None:
            offset += (part + x.shape[dim] if part < 0 else part) * strides[dim]
            dim += 1
    return strided_view(x, empty.shape, element_strides(empty), offset)


class Embedding(GetItem):
    """The rows of ``weight`` (num_embeddings, dim) at the integer ``indices`` (*): (*) -> (*, dim).
    An index outside [0, num_embeddings) raises IndexError, as in PyTorch (a compiled program checks
    each call's indices too); the gradient of a row is the sum of the gradients of the places that
    read it, and the row ``padding_idx`` (None: no such row) gets none. With
    ``scale_grad_by_freq`` each row's gradient is divided by the number of times ``indices`` holds
    it (PyTorch's ``scale_grad_by_freq``: frequent words do not dominate the update).

    With ``sparse`` the gradient of ``weight`` is a sparse COO array listing one row per index read,
    in ``indices``' order (repeats not summed, the ``padding_idx`` ones left out), as PyTorch's
    ``embedding_sparse_backward``: an update then touches only the rows read (``optim.SparseAdam``,
    ``SGD``, ``Adagrad``). A recorded backward (``create_graph=True``) gives the dense gradient."""

    node_name = "EmbeddingBackward0"
    formula = "weight[indices]"
    derivatives = (
        "grad summed into the rows read (divided by their counts with scale_grad_by_freq), 0 for the row padding_idx",
        None,
        None,
        None,
        None,
    )

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq=False, sparse=False):
        count = weight.shape[0]
        if indices.size and (indices.min() < 0 or indices.max() >= count):
            bad = indices[(indices < 0) | (indices >= count)].reshape(-1)[0]
            raise IndexError(
                f"index out of range in self: embedding index {bad} is not in [0, {count - 1}] "
                f"(num_embeddings={count})"
            )
        ctx.padding_idx, ctx.sparse = padding_idx, sparse
        ctx.frequency_scale = None
        if scale_grad_by_freq:
            times_read = xp.bincount(indices.reshape(-1), minlength=count)
            ctx.frequency_scale = (1.0 / xp.maximum(times_read, 1)).astype(weight.dtype)[:, None]
        ctx.save_for_backward(indices)  # an index changed in place before backward raises, as in PyTorch
        return GetItem.forward(ctx, weight, (indices,), True)

    @staticmethod
    def backward(ctx, grad_output):
        ctx.key = ctx.saved_tensors  # (indices,), checked unchanged since forward
        if ctx.sparse and not grad_mode.is_grad_enabled():
            if ctx.frequency_scale is not None:
                raise RuntimeError(
                    "embedding_backward: scale_grad_by_freq not supported with sparse gradients (pass sparse=False, "
                    "or scale_grad_by_freq=False)"
                )
            return rows_read(grad_output, ctx.key[0], ctx.input_shape, ctx.padding_idx), None, None, None, None
        grad_weight = GetItem.backward(ctx, grad_output)[0]
        if ctx.frequency_scale is not None:
            grad_weight = grad_weight * ctx.frequency_scale
        if ctx.padding_idx is not None:
            grad_weight[ctx.padding_idx] = 0
        return grad_weight, None, None, None, None


def rows_read(grad_output, indices, weight_shape, padding_idx):
    """The sparse gradient of an embedding table of ``weight_shape`` (num_embeddings, dim) whose rows
    ``indices`` (*) were read, ``grad_output`` (*, dim) arriving: row indices[i] gets grad_output[i],
    one entry per index in order, those equal to ``padding_idx`` left out (PyTorch's
    ``embedding_sparse_backward``; coalesced when it lists fewer than two rows)."""
    rows, values = indices.reshape(-1), grad_output.reshape(-1, weight_shape[1])
    if padding_idx is not None:
        kept = rows != padding_idx
        rows, values = rows[kept], values[kept]
    return SparseCOOArray(rows.reshape(1, -1).astype(xp.int64), values, weight_shape, coalesced=rows.size < 2)


class Select(GetItem):
    """``x[i]``: a key of ints (and slices)."""


class Slice(GetItem):
    """``x[a:b]``: a key of slices."""


class NewAxis(GetItem):
    node_name = "UnsqueezeBackward0"


class Alias(GetItem):
    """``x[...]``: the whole of x."""


class Gather(GetItem):
    """``gather``: out[i][j][k] = x[index[i][j][k]][j][k] for dim 0. forward checks the positions,
    so that a compiled program checks each call's."""

    @staticmethod
    def forward(ctx, x, index, dim):
        dim, index = _checktensor_of_values(x.shape, dim, index, "gather")  # a checked copy: backward reads it
        return GetItem.forward(ctx, x, _along_dim_key(index, dim), True)

    @staticmethod
    def backward(ctx, grad_output):
        return GetItem.backward(ctx, grad_output)[0], None, None


class IndexSelect(GetItem):
    """``index_select``: the slices of x at the positions ``index`` along ``dim`` (each index entry
    one slice; a 2-D index gives a grid of slices). forward checks the positions, so that a compiled
    program checks each call's."""

    @staticmethod
    def forward(ctx, x, index, dim):
        _check_positions(index, dim, x.shape[dim], "index_select", IndexError)
        return GetItem.forward(ctx, x, (slice(None),) * dim + (index.copy(),), True)  # a copy: backward reads it

    @staticmethod
    def backward(ctx, grad_output):
        return GetItem.backward(ctx, grad_output)[0], None, None


class Take(GetItem):
    pass


class MaskedSelect(GetItem):
    pass


def _kind_of_read(key, shape):
    """The GetItem (sub)class whose node PyTorch shows for ``x[key]``: PyTorch applies a key's parts
    left to right (an int selects, a slice narrows unless it keeps the whole dimension, None adds
    a dimension) and shows the last step that did something; integer arrays and bools are applied last."""
    if any(isinstance(part, (ndarray, bool)) for part in key):  # a bool is a mask of one element
        return GetItem
    kind, dim = Alias, 0
    for part in key:
        if part is None:
            kind = NewAxis
        elif part is Ellipsis:
            dim = len(shape) - sum(1 for later in key[key.index(Ellipsis) + 1 :] if later is not None and later is not Ellipsis)
        elif isinstance(part, slice):
            if dim < len(shape) and part.indices(shape[dim]) != (0, shape[dim], 1):
                kind = Slice
            dim += 1
        else:
            kind, dim = Select, dim + 1
    return kind


def flat_positions(shape, key):
    """Where each element of ``x[key]`` lies in x (of ``shape``) flattened: an integer array of the
    output's shape (the key applied to the positions 0, 1, ..., size - 1)."""
    return xp.arange(math.prod(shape), dtype=dtypes.int64).reshape(shape)[key]


class Bincount(Op):
    """``input`` (1-D, non-negative integers) is a constant; ``weights`` gets the gradient."""

    formula = "out[k] = Σ weights[i] over the i where input[i] = k"
    derivatives = (None, "grad[input]", None)

    @staticmethod
    def forward(ctx, input, weights, minlength):
        ctx.input = input
        if weights is None:
            return xp.bincount(input, minlength=minlength)
        counts = xp.bincount(input, weights=weights, minlength=minlength)  # float64 (int64 of an empty input)
        return counts.astype(xp.float32 if weights.dtype == xp.float32 else xp.float64, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        return None, grad_output[ctx.input], None


class IndexPut(Op):
    """With ``accumulate`` the values are added, once per occurrence of a repeated position."""

    formula = "x with value written at key (added there with accumulate)"
    derivatives = ("1, except 0 at key without accumulate", "grad[key]", None, None, None)

    @staticmethod
    def forward(ctx, x, value, key, repeats, accumulate):
        ctx.input_shape, ctx.key, ctx.accumulate = x.shape, key, accumulate
        ctx.value_ndim = value.ndim
        result = x.copy()
        _write_at(result, key, value, repeats, accumulate)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        grad_x = grad_value = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_output
            if not ctx.accumulate:  # the values that were there are gone
                kept = xp.ones(ctx.input_shape, dtype=bool)
                kept[ctx.key] = False
                grad_x = selected(ctx.xp, kept, grad_output)
        if ctx.needs_input_grad[1]:
            grad_value = grad_output[ctx.key]
            missing = ctx.value_ndim - grad_value.ndim
            if missing > 0:
                # A value with extra leading size-1 dimensions was accepted; the engine sums from there.
                grad_value = grad_value.reshape((1,) * missing + tuple(grad_value.shape))
        return grad_x, grad_value, None, None, None


class CopySlicesNode(OpNode):
    """PyTorch's CopySlices is a node of its C++ engine: its ``name()`` is the C++ name, as
    AccumulateGrad's is, while its class (and so a tensor's printed ``grad_fn=<CopySlices>``) is
    named ``CopySlices``."""

    def name(self):
        return "torch::autograd::CopySlices"

    def release(self):
        """PyTorch's CopySlices lets go of the function it wraps after a backward that did not
        retain the graph, whatever that function saved: a second backward through it is an error."""
        super().release()
        self._freed = True


class CopySlices(IndexPut):
    """A write into a view of base (``y[0] = 5``, ``y[0].mul_(2)``), recorded on base."""

    node_name = "CopySlices"
    _node_base = CopySlicesNode


class Scatter(IndexPut):
    pass


class ScatterNumber(IndexPut):
    """The value is a number: no edge for it in ``next_functions``, as in PyTorch."""

    node_name = "ScatterBackward1"
    derivatives = (IndexPut.derivatives[0], None, None, None, None)


class ScatterAdd(IndexPut):
    pass


class IndexAdd(IndexPut):
    pass


class IndexCopy(IndexPut):
    pass


class IndexFill(IndexPut):
    pass


class DiagEmbed(IndexPut):
    """Written into zeros made for it: no edge for them in ``next_functions``, as in PyTorch."""

    derivatives = (None,) + IndexPut.derivatives[1:]


class Diagonal(GetItem):
    """``diagonal``: x[..., i, i + offset] of x's last two dimensions (``key`` names those elements),
    read as a view of x's memory, as in PyTorch: writing into it writes into x."""

    @staticmethod
    def forward(ctx, x, key, offset):
        ctx.input_shape, ctx.key, ctx.repeats = x.shape, key, False
        return xp.diagonal(x, offset, -2, -1)


class DiagonalCopy(Diagonal):
    """``diag`` of a matrix: its diagonal as a new tensor (PyTorch's ``diag`` copies)."""

    node_name = "DiagonalBackward0_copy"

    @staticmethod
    def forward(ctx, x, key, offset):
        return Diagonal.forward(ctx, x, key, offset).copy()


class ScatterReduce(IndexPut):
    pass


class ScatterProduct(Op):
    """``reduce="prod"``: out = x (or 1 where written, without ``include_self``) times every src
    value sent to that position. Each factor's gradient is grad times the product of the other
    factors at its position: out / factor where no factor there is 0; where exactly one is, that
    one gets the product of the nonzero others and the rest 0, as in PyTorch (that product is a
    constant of the forward, so second derivatives there are not exact)."""

    node_name = "ScatterReduceBackward0"
    formula = "out[p] = x[p] · Π src[i] over the i sent to p"
    derivatives = ("grad · (the product of the other factors at p), grad where not written", "the same, read at key", None, None)

    @staticmethod
    def forward(ctx, x, src, key, include_self):
        ctx.key, ctx.include_self = key, include_self
        ctx.written = xp.zeros(x.shape, dtype=bool)
        ctx.written[key] = True
        result = x.copy()
        if not include_self:
            result[key] = 1
        nonzero_product = xp.where(result == 0, 1, result)
        zeros = (result == 0).astype(dtypes.int64)
        combine_at(result, key, src, "multiply")
        combine_at(nonzero_product, key, xp.where(src == 0, 1, src), "multiply")
        add_at(zeros, key, (src == 0).astype(dtypes.int64))
        ctx.lone_zero_product = xp.where(zeros == 1, nonzero_product, 0)  # what a position's only 0 gets
        ctx.save_for_backward(x, src, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, src, result = ctx.saved_tensors
        where = ctx.xp.where
        grad_x = grad_src = None
        if ctx.needs_input_grad[0]:
            if ctx.include_self:
                others = where(x == 0, ctx.lone_zero_product, result / where(x == 0, 1, x))
                grad_x = grad_output * where(ctx.written, others, 1)
            else:
                grad_x = where(ctx.written, 0, grad_output)
        if ctx.needs_input_grad[1]:
            others = where(src == 0, ctx.lone_zero_product[ctx.key], result[ctx.key] / where(src == 0, 1, src))
            grad_src = grad_output[ctx.key] * others
        return grad_x, grad_src, None, None


def _write_at(target, key, value, repeats, accumulate):
    """``target[key] = value`` (or ``+=`` with ``accumulate``) in place, with PyTorch's errors."""
    try:
        if accumulate and repeats:
            add_at(target, key, value)  # adds once per occurrence of a repeated index
        elif accumulate:
            target[key] += value
        else:
            target[key] = value
    except IndexError as error:
        raise _index_error(error, key, target.shape) from None
    except (ValueError, TypeError) as error:
        if isinstance(error, TypeError) and "boolean array indexing assignment" not in str(error):
            raise  # (NumPy's TypeError for a value of 2 or more dimensions written through a mask is a shape mismatch)
        if not is_writable(target):  # an expanded tensor (NumPy's broadcast arrays are read-only), or from_numpy's
            raise unwritable_error(target) from None
        result_shape = target[key].shape
        if not any(isinstance(part, ndarray) for part in (key if type(key) is tuple else (key,))):
            raise expand_error(value.shape, result_shape) from None  # a basic key: PyTorch copies into a view
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast "
            f"to indexing result of shape {list(result_shape)}"
        ) from None


# ----------------------------------------------------------------------------- keys
def _as_index_array(part):
    """A tensor, list or array used as an index, as an integer or boolean array."""
    if isinstance(part, (Tensor, ndarray)):
        # A copy: backward reads the key later, and the caller may change its index tensor meanwhile.
        tensor = isinstance(part, Tensor)
        source = part._array if tensor else part
        part = source.copy()
        if function_module._recorder is not None:  # chainrule.compile is recording: its program copies too
            function_module._recorder.copied_array(part, source)
        if part.dtype == xp.uint8:  # PyTorch reads a uint8 index tensor as a mask (and warns, but for a 0-d one)
            if part.ndim:
                warn_at_caller("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead.")
            part = part.astype(bool)
        elif tensor and part.ndim and part.dtype in (xp.int8, xp.int16):  # (a NumPy array is read as a list, a 0-d tensor as an int)
            raise _index_dtype_error(part.dtype)
    else:
        part = as_array(part)
        if part.size == 0:
            part = part.astype(dtypes.int64)  # x[[]] selects nothing (NumPy would read [] as floats)
    if part.dtype.kind in "US":
        raise _str_index_error()
    if part.dtype.kind not in "iub":
        raise _index_dtype_error(part.dtype)
    return part


def _index_dtype_error(dtype):
    return IndexError(
        f"tensors used as indices must be long, int, byte or bool tensors (got {dtypes.dtype_name(dtype)}); "
        f"convert the index with .long()"
    )


def _normalize_key(key, input_shape=None):
    """``(key, repeats)``: the key as a tuple NumPy can index with, and whether it holds integer arrays.

    Tensors, lists and ranges become arrays; a 0-d integer tensor becomes a plain int, as ``x[i]`` does.
    Given the indexed tensor's shape, ints mixed with index arrays are read as PyTorch reads them
    (see ``_ints_read_first``).
    """
    if isinstance(key, tuple):
        parts = key
    elif _read_as_tuple(key):
        parts = key
        warn_at_caller(
            "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in pytorch 2.9; "
            "use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as tensor index, "
            "x[torch.tensor(seq)], which will result either in an error or a different result"
        )
    else:
        parts = (key,)
    normalized = []
    repeats = False
    for part in parts:
        if isinstance(part, slice) and part.step is not None and part.step <= 0:
            raise ValueError(
                "slice step cannot be zero" if part.step == 0 else f"step must be greater than zero (got {part.step}); use .flip(dim) to reverse"
            )
        if isinstance(part, (Tensor, list, range, ndarray)):
            given, part = part, _as_index_array(part)
            if isinstance(given, range) or isinstance(given, list) and _python_ints(given):
                # logprobs[range(n), y], x[:, [-1]]: numbers the range's ends or the Python code fix
                # (a recording checks the Python values they come from on every call)
                part = array_from_shapes(part)
            if part.dtype.kind != "b":
                if part.ndim == 0:
                    # A tensor's value read into Python (a compiled call hears it, and runs eagerly)
                    part = given.item() if isinstance(given, Tensor) else int(part)
                else:
                    repeats = True
        elif isinstance(part, xp.integer):  # a NumPy integer (np.argmax's) is the int it holds, as PyTorch reads it
            part = int(part)
        normalized.append(part)
    if input_shape is None:
        return tuple(normalized), repeats
    return _ints_read_first(tuple(normalized), input_shape, repeats)


def _python_ints(items):
    """Whether the list ``items`` holds Python ints and bools alone (in nested lists too): numbers
    Python code wrote or computed, not ones taken from an array (NumPy's integers)."""
    return all(type(item) in (int, bool) or type(item) is list and _python_ints(item) for item in items)


def _read_as_tuple(key):
    """Whether a list key is read as a tuple of indices, as PyTorch reads it (NumPy's old rule):
    a list of fewer than 32 entries holding a tensor, a list, a slice, None or ``...``.
    ``x[[rows, cols]]`` is then ``x[rows, cols]``, and ``x[[[0, 1], [1, 2]]]`` picks the elements
    (0, 1) and (1, 2); a list of ints (``x[[0, 2]]``) stays one index."""
    if not isinstance(key, list) or len(key) >= 32:
        return False
    return any(isinstance(part, (Tensor, ndarray, list, tuple, range, slice)) or part is None or part is Ellipsis for part in key)


def _is_int(part):
    """Whether a key's part is an int (a bool, which PyTorch and NumPy read as a one-element mask, is not)."""
    return isinstance(part, int) and type(part) is not bool


def _ints_read_first(key, input_shape, repeats):
    """``(key, repeats)`` with PyTorch's layout where a key mixes ints with index arrays.

    PyTorch reads the ints first (``x[0, :, idx]`` is ``x[0][:, idx]``), so an int never separates
    the index arrays; NumPy counts it as one of them and puts the arrays' dimensions first:
    ``x[0, :, :, idx]`` of x (2, 3, 4, 5) and 3 positions is (3, 4, 3) in PyTorch, (3, 3, 4) in
    NumPy. Such a key becomes
    one integer array per dimension of x, read from the positions 0, 1, ..., size - 1 in PyTorch's
    order, so reading, writing and the gradient all follow that layout.
    """
    if not any(_is_int(part) for part in key) or not any(isinstance(part, ndarray) for part in key):
        return key, repeats
    ints_only, rest = [], []
    for part in key:
        if _is_int(part):
            ints_only.append(part)
            continue
        if part is not None and type(part) is not bool:  # a bool adds a dimension (of 1 or 0 entries), reading none
            consumed = part.ndim if isinstance(part, ndarray) and part.dtype.kind == "b" else 1
            ints_only.extend([Ellipsis] if part is Ellipsis else [slice(None)] * consumed)
        rest.append(part)
    positions = xp.arange(math.prod(input_shape), dtype=dtypes.int64).reshape(input_shape)
    try:
        positions = positions[tuple(ints_only)][tuple(rest)]
    except IndexError as error:
        raise _index_error(error, key, input_shape) from None
    return tuple(xp.unravel_index(positions, input_shape)), True


def _along_dim_key(index, dim):
    """The key that reads x[..., index[i, j, k], ...] (index at position ``dim``) into out[i, j, k].

    Every other axis is indexed by its own position (an ``arange``), so the output has index's shape
    (a 0-d index of a 1-D x reads one element).
    """
    ndim = index.ndim
    if ndim == 0:
        return (index,)
    return tuple(
        index if axis == dim else array_from_shapes(xp.arange(size).reshape([size if other == axis else 1 for other in range(ndim)]))
        for axis, size in enumerate(index.shape)
    )


def _index_error(error, key, input_shape):
    """NumPy's IndexError in PyTorch's words (dimension, not axis), with the tensor's shape; for a
    ``key`` holding a str, PyTorch's TypeError."""
    if any(isinstance(part, str) for part in (key if type(key) is tuple else (key,))):
        return _str_index_error()
    message = str(error)
    out_of_bounds = re.match(r"index (-?\d+) is out of bounds for axis (\d+) with size (\d+)", message)
    if out_of_bounds:
        index, axis, size = out_of_bounds.groups()
        return IndexError(f"index {index} is out of bounds for dimension {axis} with size {size}")
    too_many = re.match(r"too many indices for array: array is (\d+)-dimensional, but (\d+) were indexed", message)
    parts = key if type(key) is tuple else (key,)
    if too_many and too_many.group(1) == "0" and any(isinstance(part, (ndarray, Tensor, list)) for part in parts):
        return IndexError("too many indices for tensor of dimension 0 (a 0-d tensor has no dimension to index)")
    if too_many and too_many.group(1) == "0":
        return IndexError(
            "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to "
            "convert a 0-dim tensor to a number"
        )
    if too_many:
        dimensions, indexed = too_many.groups()
        return IndexError(f"too many indices for tensor of dimension {dimensions} ({indexed} were indexed; shape {list(input_shape)})")
    if message.startswith("boolean index did not match"):
        return _mask_mismatch(parts, input_shape) or IndexError(f"{message} (tensor of shape {list(input_shape)})")
    shapes = re.match(r"shape mismatch: indexing arrays could not be broadcast together with shapes (.*)$", message.strip())
    if shapes:
        listed = ", ".join(str(list(map(int, re.findall(r"\d+", shape)))) for shape in re.findall(r"\([^)]*\)", shapes.group(1)))
        return IndexError(
            f"shape mismatch: indexing tensors could not be broadcast together with shapes {listed} (tensor of shape "
            f"{list(input_shape)})"
        )
    if message.startswith("only integers, slices"):
        odd = next((part for part in parts if not isinstance(part, (int, slice, type(None), type(Ellipsis), ndarray, Tensor, list))), None)
        return IndexError(
            f"only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices (got "
            f"{type(odd).__name__}) (tensor of shape {list(input_shape)})"
        )
    in_our_words = re.sub(r"\baxis\b", "dimension", message.replace("array", "tensor"))
    return IndexError(f"{in_our_words} (tensor of shape {list(input_shape)})")


def _mask_mismatch(parts, input_shape):
    """PyTorch's IndexError for a bool mask whose shape is not that of the dimensions it indexes,
    where the parts before it are integers and slices (one dimension each); else None."""
    dimension = 0
    for part in parts:
        mask = part._array if isinstance(part, Tensor) else part
        if isinstance(mask, ndarray) and mask.dtype == bool:
            for position, size in enumerate(mask.shape):
                if dimension + position >= len(input_shape) or input_shape[dimension + position] != size:
                    return IndexError(
                        f"The shape of the mask {list(mask.shape)} at index {position} does not match the shape of the "
                        f"indexed tensor {list(input_shape)} at index {dimension + position}"
                    )
            dimension += mask.ndim
        elif isinstance(part, (int, slice)):
            dimension += 1
        else:
            return None
    return None


def _str_index_error():
    return TypeError(
        "new(): invalid data type 'str' (a str is not an index: index with ints, slices, None, ... or "
        "integer or boolean tensors)"
    )


def _integer_array(index, operation, error_type, wide=False):
    """``index`` (tensor, array or list) as an integer array of its own, or ``error_type`` naming its
    dtype (with ``wide``, unless int32 or int64)."""
    index = index._array.copy() if isinstance(index, Tensor) else xp.array(index)  # kept for backward
    _require_integers(index, operation, error_type, wide)
    return index


def _require_integers(index, operation, error_type, wide=False):
    """``error_type`` naming the dtype of ``index`` (an array) unless it holds integers (with
    ``wide``, int32 or int64: gather and scatter), in PyTorch's words for ``operation``."""
    if index.dtype.kind not in "iu" or (wide and index.dtype not in (xp.int32, xp.int64)):
        words = _INDEX_DTYPE_WORDS.get(operation, "{operation}(): Expected dtype int32/int64 for index")
        error_type = IndexError if operation == "index_fill_" else error_type
        raise error_type(
            f"{words.format(operation=operation, type=dtypes.scalar_type_name(index.dtype))} ({operation}: the index is "
            f"{dtypes.dtype_name(index.dtype)}; convert it with .long())"
        )


_INDEX_DTYPE_WORDS = {  # what PyTorch says of an index that holds no integers, where it is not the default
    "scatter_add": "scatter(): Expected dtype int32/int64 for index",
    "scatter_reduce": "scatter(): Expected dtype int32/int64 for index",
    "index_select": "index_select(): Expected dtype int32 or int64 for index",
    "index_add_": "index_add_(): Expected dtype int32/int64 for index but got: {type}",
    "index_reduce_": "index_reduce_(): Expected dtype int32/int64 for index but got: {type}",
    "index_fill_": "index_fill_(): Expected dtype int64 for index.",
    "index_copy_": "index_copy_(): Expected a long tensor for index, but got {type}",
}


def _check_positions(index, dim, size, operation, error_type):
    """``error_type`` unless every entry of ``index`` is a position in [0, size) (no negatives, as in
    PyTorch), in PyTorch's words for ``operation`` (index_select's differ along the first dimension
    and the others: two kernels)."""
    if index.size:
        low, high = index.min(), index.max()
        if low < 0 or high >= size:
            bad = low if low < 0 else high
            words = f"index {bad} is out of bounds for dimension {dim} with size {size}"
            if operation == "index_select":
                words, error_type = ("index out of range in self", IndexError) if dim == 0 else (
                    f"INDICES element is out of DATA bounds, id={bad} axis_dim={size}", RuntimeError
                )
            elif operation == "index_copy_":
                words = f"index_copy_(): {words}"
            raise error_type(f"{words} ({operation}: index {bad} is not in [0, {size - 1}] along dimension {dim})")


def _checktensor_of_values(input_shape, dim, index, operation):
    """``(dim, index array)`` for gather and scatter: an integer index with the input's number of
    dimensions, no larger than the input (of ``input_shape``) except along ``dim``, holding positions
    inside it; the array is the index's own copy.
    """
    index = _integer_array(index, operation, RuntimeError, wide=True)
    if index.size == 0:  # PyTorch takes any empty index: nothing is read or written
        return check_dim(dim, max(len(input_shape), 1), operation), index
    input_shape = tuple(input_shape) or (1,)  # a 0-d input counts as 1-D, and a 0-d index:
    if max(index.ndim, 1) != len(input_shape):
        raise RuntimeError(
            f"Index tensor must have the same number of dimensions as {'input' if operation == 'gather' else 'self'} tensor "
            f"({operation}: index shape {list(index.shape)}, input shape {list(input_shape)})"
        )
    dim = check_dim(dim, len(input_shape), operation)
    for axis, (index_size, size) in enumerate(zip(index.shape, input_shape)):
        if axis != dim and index_size > size:
            raise RuntimeError(
                f"Size does not match at dimension {axis} expected index {list(index.shape)} "
                f"to be no larger than self {list(input_shape)} apart from dimension {dim} ({operation})"
            )
    _check_positions(index, dim, input_shape[dim], operation, RuntimeError)
    return dim, index


def _checkedtensor_of_values(x, dim, index, operation):
    """``(dim, positions)``: ``_check_index_tensor`` for scatter, with the checked copy a tensor that
    a compiled program makes again from each call's index (checking it, as eager does)."""
    keywords = {"input_shape": tuple(x._array.shape), "dim": dim, "operation": operation}
    positions = computed_without_gradient(_checked_positions, [tensor_of_values(index)], keywords)
    return check_dim(dim, x._array.ndim, operation), positions


def _checked_positions(index, input_shape, dim, operation):
    """The checked copy of the array ``index`` (see ``_check_index_tensor``)."""
    return _checktensor_of_values(input_shape, dim, index, operation)[1]


def _zero_dim_read_as_one_dim(operation):
    """``operation(x, dim, index, source, ...)`` also for a 0-d ``x``, as PyTorch reads it: x, and
    a 0-d index and source, as 1-D of one element (dim 0 or -1), the result 0-d again."""

    @functools.wraps(operation)
    def through_one_dimension(x, dim, index, *args, **kwargs):
        if not (isinstance(x, Tensor) and x._array.ndim == 0):
            return operation(x, dim, index, *args, **kwargs)
        check_dim(dim, 1, operation.__name__)
        flat = [shape.reshape(each, 1) if isinstance(each, Tensor) and each._array.ndim == 0 else each for each in (index, *args)]
        kwargs = {key: shape.reshape(each, 1) if isinstance(each, Tensor) and each._array.ndim == 0 else each for key, each in kwargs.items()}
        return shape.reshape(operation(shape.reshape(x, 1), 0, *flat, **kwargs), ())

    return through_one_dimension


# ----------------------------------------------------------------------------- public functions
def getitem(x, key):
    """``x[key]``: ints, slices (with steps), None, ``...``, integer lists/tensors and boolean masks.

    Ints and slices give a view of x; integer and boolean arrays select copies, as in NumPy and
    PyTorch. ``x[[0, 2]]`` of shape (3, 4) -> (2, 4); ``x[x > 0]`` -> a 1-D tensor of the positives.
    """
    normalized, repeats = _normalize_key(key, x._array.shape)
    if (function_module._recorder is not None or MetaArray.alive) and _holds_mask(normalized):
        shaped_by_values("x[mask] (a boolean mask)", *normalized)  # as many elements as the mask holds True
    kind = _kind_of_read(normalized, x._array.shape)
    if kind is Alias and type(key) is slice:  # PyTorch slices by a lone slice even when it keeps all of x: x[:]
        kind = Slice
    return kind.apply(x, normalized, repeats)


@public(inplace=True)
def index_put(x, key, value, accumulate=False):
    """A copy of x with ``value`` (number or tensor, broadcast) written at ``key``, or added there with ``accumulate``.

    With ``accumulate``, a position named twice in ``key`` receives both values. As in PyTorch,
    ``key`` is a tuple (or list) of index tensors, one per leading dimension (``(index,)``, not
    ``index``), and ``value`` is a tensor; ``x[key] = value`` takes the other kinds of index.
    """
    _check_index_put_arguments(key, value)
    if not accumulate and value._array.size == 1:
        _refuse_byte_mask_fill(key)
    key, repeats = _normalize_key(tuple(key), x._array.shape)
    if _has_index_arrays(key):
        _check_same_dtype(x, value)
    _check_masked_write(key, value)
    return IndexPut.apply(x, value, key, repeats, accumulate)


def _check_index_put_arguments(indices, values):
    """PyTorch's TypeError unless ``indices`` is a tuple or list of tensors and ``values`` a tensor."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(
            f"index_put(): argument 'indices' (position 1) must be tuple of Tensors, not {type(indices).__name__}; "
            f"wrap a single index as (index,)"
        )
    for position, index in enumerate(indices):
        if not isinstance(index, Tensor):
            raise TypeError(
                f"expected Tensor as element {position} in argument 0 of index_put(), but got {type(index).__name__}; "
                f"make it a tensor (chainrule.tensor(...)) or write with x[key] = value"
            )
    if not isinstance(values, Tensor):
        raise TypeError(
            f"index_put(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}; "
            f"make it a tensor (chainrule.tensor(...)) or write with x[key] = value"
        )


def _refuse_byte_mask_fill(key):
    """PyTorch writes one value at one mask (``x[mask] = 0``, the key's other parts ints and
    slices) with masked_fill_, which refuses a uint8 mask (that indexing reads as a bool one):
    its RuntimeError."""
    if isinstance(key, (int, slice)):  # the common x[i] = number, at once
        return
    parts = _key_parts(key)
    indices = [
        part for part in parts
        if isinstance(part, (list, range)) or isinstance(part, (Tensor, ndarray)) and (part.ndim or part.dtype.kind in "bu")
    ]
    if len(indices) == 1 and not isinstance(indices[0], (list, range)) and indices[0].dtype == xp.uint8:
        raise RuntimeError(
            "masked_fill_ only supports boolean masks, but got mask with dtype unsigned char: write through a bool "
            "mask, x[mask.bool()] = value"
        )


def _holds_mask(key):
    """Whether the normalized ``key`` holds a boolean mask."""
    return any(isinstance(part, ndarray) and part.dtype.kind == "b" for part in key)


def _check_masked_write(key, value):
    """``x[mask] = value`` keeps x's shape whatever the mask holds, and so does the gradient of x:
    a compiled call replays it. The gradient of a ``value`` that needs one is read at the mask (as
    many elements as it holds True): a call being recorded runs eagerly."""
    if value._requires_grad and _holds_mask(key):
        shaped_by_values("x[mask] = value (a boolean mask) with a value that needs a gradient")


def _key_parts(key):
    """``key``'s parts: the tuple itself, a list PyTorch reads as one (``_read_as_tuple``), or the key alone."""
    return key if isinstance(key, tuple) or _read_as_tuple(key) else (key,)


def _is_index_array(part):
    """Whether a key's part is an integer or boolean array, PyTorch's advanced indexing (a 0-d
    integer tensor counts as an int)."""
    return isinstance(part, (list, range)) or (isinstance(part, (Tensor, ndarray)) and (part.ndim or part.dtype == dtypes.bool_))


def _has_index_arrays(key):
    """Whether ``key`` (as given, or normalized) holds integer or boolean arrays."""
    return any(_is_index_array(part) for part in _key_parts(key))


def _fills_at_one_mask(key):
    """Whether ``key``'s one advanced index is a boolean mask, its other parts ints, slices, None or
    ``...`` (``x[x == 0] = v``, ``x[:, mask] = v``): PyTorch writes a one-element value there with
    ``masked_fill_``, which casts it to x's dtype."""
    advanced = [part for part in _key_parts(key) if _is_index_array(part)]
    if len(advanced) != 1:
        return False
    mask = advanced[0]
    if isinstance(mask, list):
        return all(type(each) is bool for each in mask)
    return not isinstance(mask, range) and mask.dtype.kind == "b"


def _check_same_dtype(x, value):
    """PyTorch's refusal to write a tensor of another dtype at integer or boolean indices (a number
    takes x's dtype; a write at ints and slices alone, a copy_, converts)."""
    if value._array.dtype != x._array.dtype:
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got "
            f"{dtypes.scalar_type_name(x._array.dtype)} for the destination and "
            f"{dtypes.scalar_type_name(value._array.dtype)} for the source. Convert the values first, "
            f"e.g. value.to(x.dtype)"
        )


def setitem(x, key, value):
    """``x[key] = value``: recorded as an in-place change of x when gradients are involved (see
    ``ops/inplace.py``), else written straight into x's array."""
    check_not_inference(x)
    if isinstance(value, Tensor):
        if value._array.size == 1 and value._array.dtype != x._array.dtype and _fills_at_one_mask(key):
            value = value.to(x._array.dtype)  # PyTorch's masked_fill_ of the one value: cast to x's dtype
        elif _has_index_arrays(key):
            _check_same_dtype(x, value)
    else:
        value = _number_to_write(x, value)
    if value._array.ndim and value._array.shape[0] == 1:  # as PyTorch's: the value's leading size-1 dimensions
        shape = value._array.shape  # are dropped (b[0] = tensor([[-10.]]) writes one element)
        value = value.reshape(shape[next((i for i, size in enumerate(shape) if size != 1), len(shape)):])
    if value._array.size == 1:
        _refuse_byte_mask_fill(key)
    forward_ad = function_module._forward_ad  # forward mode: a tangent written or overwritten goes through index_put
    carries = forward_ad is not None and (forward_ad.tangent_of(x) is not None or forward_ad.tangent_of(value) is not None)
    # a read-only view is written through its base; a call being compiled hears the write as an operation
    recording = records_in_place(x, (value,))
    if carries or recording or not is_writable(x._array) or function_module._recorder is not None:
        if recording and x._requires_grad and x.grad_fn is None and x._base is None:
            _refuse_write_into_leaf(x, key, value)
        write_in_place(x, _assigned, key, value)
        return
    key, repeats = _normalize_key(key, x._array.shape)
    _write_at(x._array, key, value._array, repeats, False)
    x._version_owner._version_count += 1
    written_in_place(x)


def _refuse_write_into_leaf(leaf, key, value):
    """``w[key] = v`` into a leaf that requires grad raises as PyTorch's: where the ints and slices
    of the key take part of ``w`` (``w[0] = v``, ``w[:, ::2] = v``), PyTorch writes through that
    view of the leaf, and says so."""
    if _assignment_operation(_normalize_key(key)[0], leaf._array.shape, value) is CopySlices:
        raise leaf_view_error()


def _number_to_write(x, value):
    """The value of ``x[key] = value`` that is not a tensor, as a 0-d tensor of x's dtype: a Python
    number, a NumPy integer or float64 (a Python float), as PyTorch takes them. A number x's dtype
    can't hold is refused (300 into int8, 1e10 into int32, nan into ints, 1e39 into float32: a
    RuntimeError, see ``dtypes.checked_scalar``; a float16 x takes any number, inf where it is too
    large, as PyTorch's does), and so is an int outside the 64-bit integers (a ValueError).
    Anything else (an array, a list, another NumPy number) is a TypeError."""
    if type(value) is float or type(value) is int:
        dtype = x._array.dtype
        low, high = dtypes.WRITTEN_AS_IT_IS.get(dtype, dtypes.NO_RANGE)
        if low <= value <= high:  # the common case, a number well inside x's dtype: as_tensor_like's steps
            return constant(value, dtypes.scalar_result_dtype(dtype, value))
    if isinstance(value, xp.integer):
        value = int(value)
    if isinstance(value, (int, float)):
        if isinstance(value, int) and not -(1 << 63) <= value < 1 << 63:
            raise ValueError(
                f"Overflow when unpacking long long: x[key] = {value} is outside the 64-bit integers; give it "
                f"as a float (or write a tensor)"
            )
        if x._array.dtype == xp.float16:  # PyTorch writes these unchecked: 1e5 becomes inf
            return as_tensor_like(value, x)
        return as_tensor_like(dtypes.checked_scalar(value, x._array.dtype), x)
    if isinstance(value, complex):
        return as_tensor_like(value, x)
    raise TypeError(
        f"can't assign a {dtypes.python_type_name(value)} to a {x.type()}: x[key] = value takes a tensor or a number; make the value "
        f"a tensor first (chainrule.tensor(value) or chainrule.from_numpy(array))"
    )


def _assigned(x, key, value):
    """x with ``value`` (a tensor) written at ``key``: ``x[key] = value`` as recorded, its node named
    as PyTorch names the step it ends in (see ``_assignment_operation``)."""
    as_given, repeats = _normalize_key(key)
    normalized, repeats = _ints_read_first(as_given, x._array.shape, repeats)
    _check_masked_write(normalized, value)
    return _assignment_operation(as_given, x._array.shape, value).apply(x, value, normalized, repeats, False)


def copy_slices(base, positions, values):
    """``base`` with ``values`` written at ``positions``: an in-place change of a view of base
    (``x[0].mul_(2)``), which PyTorch records on base as ``CopySlices``."""
    key, repeats = _normalize_key(positions, base._array.shape)
    return CopySlices.apply(base, values, key, repeats, False)


install_method("_copy_slices", copy_slices)  # for ops/inplace.py, which this module imports


def _assignment_operation(key, shape, value):
    """``IndexPut`` named as the node PyTorch's ``x[key] = value`` ends in. PyTorch first reads the
    ints, slices and Nones of the key as a view of x; where that view is not x itself, the write
    goes through it: ``CopySlices``. Otherwise integer or boolean arrays in the key make
    ``IndexPutBackward0``, and a key that takes all of x (``x[:] = v``) a fill with a 0-d value
    (``FillBackward3``, numbers included) or else a copy (``CopyBackwards``)."""
    consumed = [part.ndim if isinstance(part, ndarray) and part.dtype.kind == "b" else 0 if part is None or part is Ellipsis else 1 for part in key]
    dim, advanced = 0, False
    for position, (part, count) in enumerate(zip(key, consumed)):
        if part is Ellipsis:
            dim = len(shape) - sum(consumed[position + 1 :])
            continue
        if part is None or isinstance(part, (int, xp.integer)):
            return CopySlices
        if isinstance(part, slice) and part.indices(shape[dim]) != (0, shape[dim], 1):
            return CopySlices
        advanced = advanced or isinstance(part, ndarray)
        dim += count
    if advanced:
        return IndexPut.shown_as("IndexPutBackward0")
    return IndexPut.shown_as("FillBackward3" if value.ndim == 0 and len(shape) else "CopyBackwards")


@public(out=SAME_DTYPE)
def gather(x, dim, index, *, sparse_grad=False):
    """out[i][j][k] = x[index[i][j][k]][j][k] for dim=0 (the index replaces position ``dim``).

    ``index`` has x's number of dimensions, no larger than x except along ``dim``; the output has
    index's shape. d loss / d x adds each output's gradient at the position it was read from
    (a dense gradient: ``sparse_grad`` is accepted, there being no sparse tensors here).
    """
    index = tensor_of_values(index)
    if x._array.ndim == 0 or (index._array.size == 0 and index._array.ndim != x._array.ndim):
        # a 0-d input read as 1-D, or an empty index of other dimensions (both taken by PyTorch)
        _checktensor_of_values(tuple(x._array.shape), dim, index._array, "gather")
        return Gather.apply(shape.reshape(x, -1), shape.reshape(index, -1), 0).reshape(tuple(index._array.shape))
    return Gather.apply(x, index, dim)


@public(out=SAME_DTYPE)
def take_along_dim(x, indices, dim=None):
    """Like ``gather``, but x and indices broadcast against each other except along ``dim``.

    Without ``dim``, both are flattened: ``take_along_dim(x, x.argmax())`` style lookups.
    """
    if dim is None:  # both flattened: the result is 1-D
        return take(x, shape.reshape(tensor_of_values(indices), -1).to(dtypes.int64))
    dim = check_dim(dim, x._array.ndim, "take_along_dim")
    index = indices._array if isinstance(indices, Tensor) else as_array(indices)
    if index.dtype != dtypes.int64:
        raise RuntimeError(
            f"torch.take_along_dim(): dtype of indices should be Long but got {dtypes.scalar_type_name(index.dtype)}; "
            f"convert them with .long()"
        )
    if index.ndim != x._array.ndim:
        raise RuntimeError(
            f"take_along_dim(): input and indices should have the same number of dimensions, but "
            f"got {x._array.ndim} dimensions for input, and {index.ndim} dimensions for indices"
        )
    size = x._array.shape[dim]
    common = broadcast_shapes(x._array.shape[:dim] + (1,) + x._array.shape[dim + 1 :], index.shape[:dim] + (1,) + index.shape[dim + 1 :])
    x = broadcast_to(x, common[:dim] + (size,) + common[dim + 1 :])
    index_shape = common[:dim] + (index.shape[dim],) + common[dim + 1 :]
    indices = indices if isinstance(indices, Tensor) else made_from_values(index)
    positions = computed_without_gradient(_counted_from_start, [indices], {"shape": index_shape, "size": size})
    return gather(x, dim, positions)


def _counted_from_start(index, shape, size):
    """``index`` broadcast to ``shape``, its negative entries counted from the end of a dimension
    of ``size`` (as take_along_dim allows): positions the index's values decide, which a compiled
    program finds again on each call."""
    index = xp.broadcast_to(index, shape)
    return xp.where(index < 0, index + size, index)


@public(out=SAME_DTYPE)
def take(x, index):
    """The elements of x at ``index`` (int64; negative counts from the end) in its flattened
    (row-major) order; the output has index's shape."""
    positions = index._array if isinstance(index, Tensor) else as_array(index)
    if positions.dtype != dtypes.int64:
        raise RuntimeError(
            f"take(): Expected a long tensor for index, but got {dtypes.scalar_type_name(positions.dtype)} (take: convert it with .long())"
        )
    index = index if isinstance(index, Tensor) else made_from_values(positions)
    checked = computed_without_gradient(_positions_in, [index], {"size": x._array.size})._array
    return Take.apply(shape.reshape(x, -1), (checked,), checked.ndim > 0)


def _positions_in(index, size):
    """A copy of the array ``index``, each entry checked to be a position in a flattened tensor of
    ``size`` elements (counting from the end where negative), as PyTorch's take checks it."""
    outside = (index >= size) | (index < -size)
    if outside.any():
        raise IndexError(f"out of range: tried to access index {int(index[outside][0])} on a tensor of {size} elements.")
    return index.copy()


@public(out=SAME_DTYPE)
def index_select(x, dim, index):
    """The slices of x at the positions ``index`` (a 1-D integer tensor) along ``dim``.

    (V, D) with an index of n positions along dim 0 -> (n, D): an embedding lookup. Repeated
    positions each receive their share of the gradient.
    """
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select(): argument 'index' (position 2) must be Tensor, not {dtypes.python_type_name(index)}")
    index = tensor_of_values(index)
    _require_integers(index._array, "index_select", RuntimeError, wide=True)
    if index._array.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector (index_select: got shape {list(index._array.shape)})")
    dim = check_dim(dim, x._array.ndim, "index_select")
    if x._array.ndim == 0:  # PyTorch reads a 0-d tensor as a vector of one element, and gives a 0-d result
        return shape.reshape(IndexSelect.apply(shape.reshape(x, 1), shape.reshape(index, -1), 0), ())
    return IndexSelect.apply(x, shape.reshape(index, -1) if index._array.ndim == 0 else index, dim)


class MaskedFill(Where):
    """``masked_fill``: a ``where`` whose result is row-major whatever x's layout (PyTorch fills a
    row-major clone of x)."""

    keeps_layout = None


@public(inplace=True)
def masked_fill(x, mask, value):
    """x with ``value`` wherever the boolean ``mask`` (broadcast to x) is True.

    d out / d x = 0 where filled, 1 elsewhere;   d out / d value = the sum of grad where filled.
    """
    mask_array = mask._array if isinstance(mask, Tensor) else as_array(mask)
    if mask_array.dtype != dtypes.bool_:
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype "
            f"{dtypes.cpp_type_name(mask_array.dtype)} (masked_fill: compare first, e.g. mask == 1)"
        )
    if isinstance(value, Tensor) and value._array.ndim != 0:
        raise RuntimeError(
            f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value._array.ndim} dimension(s)."
        )
    value = dtypes.checked_scalar(value, x._array.dtype)  # nan into ints, 1e6 into float16 are refused, as in PyTorch
    filled, kept = binary_operands(as_tensor_like(value, x), x)
    # PyTorch's node: MaskedFillBackward0 for a number, MaskedFillBackward1 for a tensor value
    result = broadcasting(MaskedFill.shown_as(f"MaskedFillBackward{int(isinstance(value, Tensor))}"), mask_array, filled, kept)
    return result if result._array.dtype == x._array.dtype else result.to(x._array.dtype)


@public(out=SAME_DTYPE)
def masked_select(x, mask):
    """The elements of x where the boolean ``mask`` is True (both broadcast), as a 1-D tensor."""
    mask_array = mask._array if isinstance(mask, Tensor) else as_array(mask)
    if mask_array.dtype != dtypes.bool_:
        raise RuntimeError(
            f"masked_select: expected BoolTensor for mask (got {dtypes.dtype_name(mask_array.dtype)}); convert it with .bool()"
        )
    common = broadcast_shapes(x._array.shape, mask_array.shape)
    shaped_by_values("masked_select", x, *([mask] if isinstance(mask, Tensor) else []))
    return MaskedSelect.apply(broadcast_to(x, common), (xp.broadcast_to(mask_array, common),), False)


@public(inplace=True, out=SAME_DTYPE)
@_zero_dim_read_as_one_dim
def scatter(x, dim, index, src=None, value=None, *, reduce=None):
    """A copy of x with out[index[i][j]][j] = src[i][j] for dim=0 (``src`` a tensor, or ``value`` a number).

    Only the first index.shape block of src is used. d loss / d x = grad, 0 where written;
    d loss / d src = grad gathered from the written positions. ``reduce="add"`` or ``"multiply"``
    (PyTorch's older form of ``scatter_reduce``) adds src into x, or multiplies x by it, once per
    time a position is named.
    """
    if (src is None) == (value is None):
        raise TypeError("scatter() takes either src (a tensor) or value (a number): give exactly one of them")
    src = value if src is None else src
    if reduce is not None:
        return _scatter_reducing(x, dim, index, src, reduce)
    return _scatter(Scatter if isinstance(src, Tensor) else ScatterNumber, x, dim, index, src, "scatter", accumulate=False)


def _scatter_reducing(x, dim, index, src, reduce):
    """``scatter(..., reduce=)``: "add" is ``scatter_add``, "multiply" ``scatter_reduce`` with "prod"
    (x's own value included); a number is sent to every position ``index`` names."""
    if reduce not in ("add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply. (got {reduce!r}; use scatter_reduce for others)")
    if isinstance(src, Tensor):
        warn_at_caller(
            "The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a future "
            "PyTorch release. Use torch.scatter_reduce instead for more reduction options."
        )
    else:
        src = broadcast_to(as_tensor_like(src, x), tuple(tensor_of_values(index).shape))
    if reduce == "add":
        return scatter_add(x, dim, index, src)
    return scatter_reduce(x, dim, index, src, "prod")


@public(inplace=True)
@_zero_dim_read_as_one_dim
def scatter_add(x, dim, index, src):
    """A copy of x with out[index[i][j]][j] += src[i][j] for dim=0 (positions named twice get both).

    d loss / d x = grad;   d loss / d src = grad gathered from the positions each value was added to.
    """
    return _scatter(ScatterAdd, x, dim, index, src, "scatter_add", accumulate=True)


def _scatter(kind, x, dim, index, src, operation, accumulate):
    dim, positions = _checkedtensor_of_values(x, dim, index, operation)
    positions, src = _empty_index_as_xs(x, positions, src)
    index = positions._array
    if isinstance(src, Tensor):
        _check_src_dtype(x, src)
        if src._array.ndim == 0 and index.ndim == 1:  # PyTorch reads a 0-d src as one element along its one dimension
            src = shape.reshape(src, (1,))
        if src._array.ndim != index.ndim or any(have < need for have, need in zip(src._array.shape, index.shape)):
            raise RuntimeError(
                f"Expected index {list(index.shape)} to be no larger than self {list(x._array.shape)} apart from dimension "
                f"{dim} and to be no larger size than src {list(src._array.shape)} ({operation}: src needs as many "
                f"dimensions as index, each at least as large)"
            )
        src = getitem(src, tuple(slice(0, size) for size in index.shape))
    return kind.apply(x, as_tensor_like(src, x), _along_dim_key(index, dim), True, accumulate)


def _empty_index_as_xs(x, positions, src):
    """``(positions, src)``; an empty index of other dimensions than x's (which PyTorch takes: it
    writes nothing) made one of x's dimensions, with src read as none of its elements (src stays
    in the graph: its gradient is zeros)."""
    if positions._array.size or positions._array.ndim == x._array.ndim:
        return positions, src
    empty = (0,) * x._array.ndim
    if isinstance(src, Tensor):
        src = shape.reshape(getitem(shape.reshape(src, -1), slice(0, 0)), empty)
    return shape.reshape(positions, empty), src


def _check_src_dtype(x, src):
    """PyTorch's refusal of a ``src`` of another dtype than x's in every form of scatter (it is not converted)."""
    if src._array.dtype != x._array.dtype:
        raise RuntimeError(
            f"scatter(): Expected self.dtype to be equal to src.dtype (self is {dtypes.dtype_name(x._array.dtype)}, src "
            f"{dtypes.dtype_name(src._array.dtype)}; convert src with .to(self.dtype))"
        )


@public(out=SAME_DTYPE)
def nonzero(x, as_tuple=False):
    """The positions of the nonzero elements of x: an int64 tensor (count, x.ndim), one row per element.

    With ``as_tuple``, one 1-D tensor of positions per dimension (``x[x.nonzero(as_tuple=True)]``
    reads the nonzero elements). No gradient: positions are not differentiable.
    """
    shaped_by_values("nonzero", x)
    if as_tuple:
        array = x._array if x._array.ndim else x._array.reshape(1)
        return tuple(tensor_from_array(positions.astype(dtypes.int64)) for positions in xp.nonzero(array))
    return tensor_from_array(xp.argwhere(x._array).astype(dtypes.int64))


@public
def nonzero_static(input, *, size, fill_value=-1):
    """``nonzero`` with a fixed number of rows, ``size``: the first ``size`` positions of nonzero
    elements, padded with rows of ``fill_value`` when there are fewer. (size, input.ndim) int64."""
    if not isinstance(size, int) or size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer (got {size!r})")
    found = xp.argwhere(input._array).astype(dtypes.int64)[:size]
    padding = xp.full((size - found.shape[0], input._array.ndim), fill_value, dtype=dtypes.int64)
    return tensor_from_array(xp.concatenate([found, padding]))


@public
def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ..., max(input) occurs in ``input`` (1-D, non-negative integers), or
    with ``weights`` the sum of the weights at each value's positions; at least ``minlength`` long.
    (3 of value 2 with weights w: out[2] = the sum of their w.) Unlike PyTorch's, it passes gradients
    to ``weights``: the backward of reading repeated positions (``GetItem``) is built on it.

    The result's dtype is PyTorch's: int64 counts without weights, float32 sums of float32 weights,
    float64 sums of any other weights (float16 and integers included); of an empty input, weighted
    sums too (PyTorch gives int64 zeros there, which would cut the gradient ``GetItem`` needs).
    ``minlength < 0``, or weights that are not 1-D of input's length, are a RuntimeError.
    """
    if not isinstance(input, Tensor):  # a list the caller wrote is made again on each compiled call
        written = isinstance(input, (list, tuple, range))
        input = (made_from_arguments if written else tensor_from_array)(as_array(input))
    if input._array.dtype.kind not in "iu":
        raise NotImplementedError(
            f'"bincount_cpu" not implemented for \'{dtypes.scalar_type_name(input._array.dtype)}\' (bincount only supports '
            f"1-d non-negative integral inputs); convert the input with .long()"
        )
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0 (got {minlength}); pass 0 for no minimum length")
    shaped_by_values("bincount", input)
    positions = computed_without_gradient(_bincount_positions, [input])
    if weights is not None and positions._array.size and weights._array.shape != positions._array.shape:
        raise RuntimeError(
            f"bincount: weights should be 1-d and have the same length as input (got weights of shape "
            f"{list(weights._array.shape)} for an input of shape {list(positions._array.shape)}); pass one weight per element"
        )
    return Bincount.apply(positions, weights, minlength)


def _bincount_positions(positions):
    """The array ``positions`` itself, once it is checked to be 1-D and non-negative (see ``bincount``)."""
    if positions.ndim != 1 or (positions.size and positions.min() < 0):
        raise RuntimeError(
            f"bincount only supports 1-d non-negative integral inputs. (bincount: got shape {list(positions.shape)}, "
            f"dtype {dtypes.dtype_name(positions.dtype)}; flatten it with .reshape(-1) or convert it with .long())"
        )
    return positions


def _index_along(x, dim, index, operation, negatives=False):
    """``(dim, positions)``: the positions (1-D) of x's slices at ``index`` (0-d or 1-D integers)
    along ``dim``, checked as PyTorch checks them (counting from the end only with ``negatives``).
    ``positions`` is a tensor that a compiled program makes again, with those checks, on each call."""
    keywords = {"input_shape": tuple(x._array.shape), "dim": dim, "operation": operation, "negatives": negatives}
    positions = computed_without_gradient(_positions_along, [tensor_of_values(index)], keywords)
    return check_dim(dim, x._array.ndim, operation), positions


# What PyTorch raises for a position outside x, where it is not IndexError (it differs from one operation to the
# next): index_add_ raises RuntimeError, but IndexError into a 1-D x (where it reads as index_select does)
_OUT_OF_RANGE_ERRORS = {"index_add_": RuntimeError}


def _positions_along(index, input_shape, dim, operation, negatives):
    """The checked copy of the array ``index``, flattened, for ``_index_along``."""
    index = _integer_array(index, operation, RuntimeError)
    if index.ndim > 1:
        if operation == "index_fill_":  # PyTorch checks index_fill_'s index apart, with a RuntimeError
            raise RuntimeError(
                f"Index has to be a vector/scalar: index_fill_() got an index of dim {index.ndim} with size "
                f"{list(index.shape)}; flatten it with index.reshape(-1)"
            )
        raise IndexError(
            f"{operation}(): Index is supposed to be a vector, but got dim: {index.ndim} with size: {list(index.shape)}"
        )
    index = index.reshape(-1)
    dim = check_dim(dim, len(input_shape), operation)
    size = input_shape[dim] if input_shape else 1
    if negatives:
        index = xp.where(index < 0, index + size, index)
    if len(input_shape) == 1 and operation in _OUT_OF_RANGE_ERRORS:  # PyTorch's 1-D kernel is index_select's
        _check_positions(index, dim, size, "index_select", IndexError)
    else:
        _check_positions(index, dim, size, operation, _OUT_OF_RANGE_ERRORS.get(operation, IndexError))
    return index


def _slices_key(dim, positions):
    """The key that reaches the slices at ``positions`` (a tensor) along ``dim``."""
    return (slice(None),) * dim + (positions._array,)


def _check_source(x, dim, index_key, source, operation):
    """``(x, source)`` after PyTorch's checks of index_add's and index_copy's source: x's dtype
    (autocast promotes index_copy's to one), x's shape but along ``dim``."""
    if source._array.dtype != x._array.dtype:
        x, source = operands_in_modes(operation, (x, source))
        if source._array.dtype != x._array.dtype:
            raise RuntimeError(
                f"{operation}(): self ({dtypes.scalar_type_name(x._array.dtype)}) and source "
                f"({dtypes.scalar_type_name(source._array.dtype)}) must have the same scalar type ({operation}: convert one "
                f"with .to())"
            )
    count = index_key[-1].size  # the number of positions
    expected = x._array.shape[:dim] + (count,) + x._array.shape[dim + 1 :]
    if x._array.ndim and tuple(source._array.shape) != expected:
        if source._array.ndim > dim and source._array.shape[dim] != count:
            raise RuntimeError(
                f"{operation}(): Number of indices ({count}) should be equal to source.size(dim): "
                f"({source._array.shape[dim]}), for dim: {dim}"
            )
        raise RuntimeError(
            f"source tensor shape must match self tensor shape, excluding the specified dimension. Got "
            f"self.shape = {list(x._array.shape)} source.shape = {list(source._array.shape)}"
        )
    return x, source


@public(inplace=True, out=SAME_DTYPE)
@_zero_dim_read_as_one_dim
def index_add(x, dim, index, source, *, alpha=1):
    """A copy of x with ``alpha * source[..., i, ...]`` added to x's slice ``index[i]`` along ``dim``
    (an index named twice gets both). source has x's shape with len(index) along dim.

    d out / d x = 1;   d out / d source = alpha · grad read back at the indexed slices.
    """
    dim, positions = _index_along(x, dim, index, "index_add_")
    key = _slices_key(dim, positions)
    _check_source(x, dim, key, source, "index_add_")
    value = source if alpha == 1 else source * alpha
    return IndexAdd.apply(x, value, key, True, True)


@public(inplace=True, out=SAME_DTYPE)
@_zero_dim_read_as_one_dim
def index_copy(x, dim, index, source):
    """A copy of x with its slices ``index[i]`` along ``dim`` replaced by ``source[..., i, ...]``.

    d out / d x = grad, 0 at the replaced slices;   d out / d source = grad read at those slices.
    """
    dim, positions = _index_along(x, dim, index, "index_copy_")
    key = _slices_key(dim, positions)
    x, source = _check_source(x, dim, key, source, "index_copy_")
    return IndexCopy.apply(x, source, key, True, False)


@public(inplace=True)
def index_fill(x, dim, index, value):
    """A copy of x with its slices ``index`` along ``dim`` filled with ``value`` (a number or a 0-d
    tensor). Negative positions count from the end; a position named twice is filled once."""
    if isinstance(value, Tensor) and value._array.ndim != 0:
        raise RuntimeError(
            f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with {value._array.ndim} dimension(s)."
        )
    value = dtypes.checked_scalar(value, x._array.dtype)
    dim, positions = _index_along(x, dim, index, "index_fill_", negatives=True)
    key = () if x._array.ndim == 0 else _slices_key(dim, computed_without_gradient(xp.unique, [positions]))
    return IndexFill.apply(x, as_tensor_like(value, x).to(x._array.dtype), key, False, False)


REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


@public(inplace=True)
@_zero_dim_read_as_one_dim
def scatter_reduce(x, dim, index, src, reduce, *, include_self=True):
    """A copy of x where each position p that ``index`` names (as in ``scatter``, dim=0:
    p = (index[i][j], j)) becomes the ``reduce`` of the src values sent there, together with x[p]
    when ``include_self``: ``"sum"``, ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``. Positions
    never named keep x.

    Gradients: sum as scatter_add; mean divides by each position's count; amax/amin share grad
    equally among the values equal to the result; prod sends each factor grad times the product of the others.
    """
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # PyTorch takes the older names too
    if reduce not in REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    dim, positions = _checkedtensor_of_values(x, dim, index, "scatter_reduce")
    _check_src_dtype(x, src)
    positions, src = _empty_index_as_xs(x, positions, src)
    src = getitem(src, tuple(slice(0, size) for size in positions._array.shape))
    key = _along_dim_key(positions._array, dim)
    if reduce == "prod":
        return ScatterProduct.apply(x, src, key, include_self)
    if reduce in ("amax", "amin"):
        return _scatter_extreme(x, src, positions, dim, include_self, "maximum" if reduce == "amax" else "minimum")
    if include_self:
        start = x
    else:
        start = masked_fill(x, computed_without_gradient(_written, [x, positions], {"dim": dim}), 0)
    total = ScatterReduce.apply(start, src, key, True, True)
    if reduce == "sum":
        return total
    divisor = computed_without_gradient(_mean_divisor, [x, positions], {"dim": dim, "include_self": include_self})
    if x._array.dtype.kind in "iub":
        return computed_without_gradient(xp.floor_divide, [total, divisor])
    return total / divisor


# The arrays scatter_reduce finds from the positions and values of a call, outside its operations
# (a compiled program finds them again on each call): x is x's array, index the checked positions.
def _written(x, index, dim):
    """Where ``index`` writes into x: True at each position named."""
    written = xp.zeros(x.shape, dtype=bool)
    written[_along_dim_key(index, dim)] = True
    return written


def _mean_divisor(x, index, dim, include_self):
    """What "mean" divides each position's total by: the values sent there (and x's own with
    ``include_self``), at least 1, in x's dtype."""
    counts = xp.zeros(x.shape, dtype=dtypes.int64)
    add_at(counts, _along_dim_key(index, dim), 1)
    return xp.maximum(counts + include_self, 1).astype(x.dtype)


def _scatter_extreme(x, src, positions, dim, include_self, how):
    """``scatter_reduce`` with amax or amin: the values are found on arrays; the gradient is shared
    equally among the values that equal the result (the ties), as in PyTorch: the output is written
    as x · (its share) + the sum of src · (their shares), which is the extreme value itself."""
    written = computed_without_gradient(_written, [x, positions], {"dim": dim})
    best = computed_without_gradient(_extremes, [x, src, positions, written], {"dim": dim, "include_self": include_self, "how": how})
    if x._array.dtype.kind not in "fc":
        return best
    x_ties = computed_without_gradient(_x_ties, [x, best, written], {"include_self": include_self})
    ties = computed_without_gradient(_tie_counts, [src, best, x_ties, positions], {"dim": dim})
    x_share = computed_without_gradient(_x_shares, [x_ties, ties, written])
    src_share = computed_without_gradient(_src_shares, [src, best, ties, positions], {"dim": dim})
    return ScatterReduce.apply(_shared(x, x_share), _shared(src, src_share), _along_dim_key(positions._array, dim), True, True)


def _shared(values, share):
    """values · share, where a share of 0 gives 0 even for an infinite value (inf · 0 is nan): a
    -inf start that every value beats, a value that is not the extreme. Its gradient is the share."""
    return masked_fill(values, computed_without_gradient(_is_zero, [share]), 0) * share


def _is_zero(share):
    return share == 0


def _extremes(x, src, index, written, dim, include_self, how):
    """x with the largest (``how="maximum"``) or smallest of the src values sent to each position,
    x's own value among them with ``include_self``."""
    best = x.copy()
    if not include_self:  # start from the value every src beats
        if best.dtype.kind == "b":
            best[written] = how == "minimum"
        elif best.dtype.kind in "iu":
            best[written] = xp.iinfo(best.dtype).min if how == "maximum" else xp.iinfo(best.dtype).max
        else:
            best[written] = -xp.inf if how == "maximum" else xp.inf
    combine_at(best, _along_dim_key(index, dim), src, how)
    return best


def _x_ties(x, best, written, include_self):
    """Where x's own value is a position's extreme (written there, with ``include_self``)."""
    if include_self:
        return written & (x == best)
    return xp.zeros(best.shape, dtype=bool)


def _tie_counts(src, best, x_ties, index, dim):
    """How many values equal the extreme at each position: x's own and the src values sent there."""
    key = _along_dim_key(index, dim)
    ties = x_ties.astype(best.dtype)
    add_at(ties, key, (src == best[key]).astype(best.dtype))
    return ties


def _x_shares(x_ties, ties, written):
    """x's share of each position's gradient: 1 / ties where it is the extreme, 0 where it is not,
    1 where nothing was written."""
    return xp.where(written, x_ties / xp.maximum(ties, 1), 1).astype(ties.dtype)


def _src_shares(src, best, ties, index, dim):
    """Each src value's share of its position's gradient: 1 / ties where it is the extreme, else 0."""
    key = _along_dim_key(index, dim)
    return ((src == best[key]) / ties[key]).astype(best.dtype)


def _dims_pair(ndim, dim1, dim2, operation):
    first, second = check_dim(dim1, ndim, operation), check_dim(dim2, ndim, operation)
    if first == second:
        raise RuntimeError(
            f"diagonal dimensions cannot be identical {dim1}, {dim2} ({operation}: name two different dimensions)"
        )
    return first, second


def _diagonal_key(x, offset, dim1, dim2, operation):
    """``(moved, key)``: x with dim1 and dim2 moved last, and the key that reads its diagonal there
    (offset > 0 above the main diagonal, < 0 below)."""
    first, second = _dims_pair(x._array.ndim, dim1, dim2, operation)
    moved = _moved_last(x, first, second)
    rows, columns = x._array.shape[first], x._array.shape[second]
    length = max(min(rows + min(offset, 0), columns - max(offset, 0)), 0)
    return moved, _diagonal_positions(length, offset)


def _diagonal_positions(length, offset):
    """The key ``(..., rows, columns)`` of the ``length`` places of the ``offset``-th diagonal of
    the last two dimensions, made from shapes alone (a compiled program keeps them as constants)."""
    steps = xp.arange(length, dtype=dtypes.int64)
    return Ellipsis, array_from_shapes(steps - min(offset, 0)), array_from_shapes(steps + max(offset, 0))


@public
def diagonal(x, offset=0, dim1=0, dim2=1):
    """The diagonal of x in the plane of ``dim1`` and ``dim2``, as a new last dimension: (n, n) -> (n,),
    (2, 3, 3) with dims (1, 2) -> (2, 3). ``offset`` > 0 reads above the main diagonal, < 0 below."""
    return _read_diagonal(x, offset, dim1, dim2)


def _read_diagonal(x, offset, dim1, dim2, kind=Diagonal):
    moved, key = _diagonal_key(x, offset, dim1, dim2, "diagonal")
    return kind.apply(moved, key, offset)


@public
def diag_embed(x, offset=0, dim1=-2, dim2=-1):
    """Matrices with the last dimension of x on their diagonals, zeros elsewhere: (*, n) -> (*, m, m)
    with m = n + |offset|, the matrix in dimensions ``dim1`` and ``dim2`` of the output."""
    if x._array.ndim == 0:  # PyTorch reads it as dimension -2 of a 1-D result
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got -2); diag_embed needs at "
                         "least 1 dimension (its last holds the diagonals)")
    size = x._array.shape[-1] + abs(offset)
    zeros = made_from_arguments(xp.zeros(x._array.shape[:-1] + (size, size), dtype=x._array.dtype))
    filled = DiagEmbed.apply(zeros, x, _diagonal_positions(x._array.shape[-1], offset), False, False)
    first, second = _dims_pair(x._array.ndim + 1, dim1, dim2, "diag_embed")
    return filled if (first, second) == (x._array.ndim - 1, x._array.ndim) else shape.movedim(filled, (-2, -1), (first, second))


def _moved_last(x, first, second):
    """x with dimensions ``first`` and ``second`` moved to the end, in that order (x itself when they are there)."""
    ndim = x._array.ndim
    return x if (first, second) == (ndim - 2, ndim - 1) else shape.movedim(x, (first, second), (-2, -1))


@public(out=SAME_DTYPE)
def diag(x, diagonal=0):
    """For a 1-D x, the square matrix with x on its ``diagonal``-th diagonal; for a 2-D x, that diagonal as 1-D."""
    if x._array.ndim not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x._array.ndim}D")
    if x._array.ndim == 1:
        return diag_embed(x, diagonal)
    return _read_diagonal(x, diagonal, 0, 1, DiagonalCopy)


@public
def diagflat(x, offset=0):
    """The square matrix with the elements of x (flattened) on its ``offset``-th diagonal."""
    return diag_embed(shape.reshape(x, -1), offset)


@public
def trace(x):
    """The sum of the main diagonal of a matrix (2-D only); its node is PyTorch's TraceBackward0."""
    if x._array.dtype == dtypes.bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'; convert first, e.g. x.long()")
    if x._array.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x._array.ndim}")
    return SumAll.shown_as("TraceBackward0").apply(accumulated(diagonal(x), None, "trace"), (0,), False)


@public
def narrow(x, dim, start, length):
    """``length`` elements of x along ``dim`` from ``start`` (negative counts from the end): a view,
    ``SliceBackward0`` even when it keeps the whole dimension, as in PyTorch."""
    return Slice.apply(x, _narrow_key(x, dim, start, length), False)


def _narrow_key(x, dim, start, length):
    """The key of ``narrow``'s slice, its arguments checked as PyTorch checks them."""
    if x._array.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor; it needs a dimension to work along")
    dim = check_dim(dim, x._array.ndim, "narrow")
    size = x._array.shape[dim]
    if isinstance(start, Tensor) and (start._array.ndim or start._array.dtype.kind not in "iu"):
        raise RuntimeError("start must be an 0-dim integral Tensor.")
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start + size if start < 0 else start
    if length < 0:
        raise RuntimeError(f"narrow(): length must be non-negative. (narrow: got {length})")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return (slice(None),) * dim + (slice(start, start + length),)


@public
def select(x, dim, index):
    """x's slice at position ``index`` along ``dim``, that dimension removed: ``x[:, i]`` for dim=1."""
    if x._array.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor. (select: index it with .item() instead)")
    dim = check_dim(dim, x._array.ndim, "select")
    size = x._array.shape[dim]
    index = int(index)
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(x._array.shape)} at dimension {dim}"
        )
    return getitem(x, (slice(None),) * dim + (index,))


@public
def repeat_interleave(x, repeats=None, dim=None, *, output_size=None):
    """Each element (each slice along ``dim``) of x repeated ``repeats`` times in place: [1, 2] with 2
    -> [1, 1, 2, 2]. ``repeats`` is an int or one count per element; without ``dim`` x is flattened.
    Called with one integer tensor of counts, the positions 0, 1, ... repeated by those counts.
    """
    if repeats is None:  # x holds the counts: a 1-D integer tensor of them, none negative
        if x._array.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if x._array.dtype.kind not in "iu":
            raise NotImplementedError(
                f"\"repeat_interleave_cpu\" not implemented for '{dtypes.scalar_type_name(x._array.dtype)}' (the counts are integers)"
            )
        counts = x._array
        if type(counts) is MetaArray:
            return tensor_from_array(_positions_for_meta_counts(output_size))
        if counts.size and counts.min() < 0:
            raise RuntimeError("repeats can not be negative")
        _check_output_size(int(counts.sum()), output_size)
        return tensor_from_array(xp.repeat(xp.arange(counts.size, dtype=dtypes.int64), counts))
    if dim is None:
        x, dim = shape.flatten(x), 0
    elif x._array.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions: repeat_interleave of a 0-d tensor takes no dim")
    if not isinstance(repeats, Tensor):
        return _each_repeated(x, repeats, dim, output_size)
    dim = check_dim(dim, x._array.ndim, "repeat_interleave")
    size = x._array.shape[dim]
    counts = repeats._array.reshape(-1)
    if counts.size not in (1, size):
        raise RuntimeError(
            f"repeats must have the same size as input along dim, but got repeats.size(0) = {counts.size} "
            f"and input.size({dim}) = {size}"
        )
    if type(counts) is MetaArray:
        return IndexSelect.apply(x, tensor_from_array(_positions_for_meta_counts(output_size)), dim)
    if counts.size and counts.min() < 0:
        raise RuntimeError(f"repeats can not be negative (got {counts.tolist()})")
    positions = xp.repeat(xp.arange(size, dtype=dtypes.int64), counts if counts.size == size else int(counts[0]))
    _check_output_size(positions.size, output_size)
    return IndexSelect.apply(x, tensor_from_array(positions), dim)


def _each_repeated(x, repeats, dim, output_size):
    """``repeat_interleave`` by an int, as PyTorch computes it: a new axis after ``dim``, expanded
    to ``repeats`` (no copy), copied and viewed with that axis merged into ``dim``. (d0, d1) ->
    (d0, d1 · repeats) for dim=1; each element's gradient is the sum over its repeats."""
    if isinstance(repeats, bool) or not isinstance(repeats, (int, xp.integer)):
        raise TypeError(
            f"repeat_interleave(): argument 'repeats' must be an int or a Tensor, not {type(repeats).__name__}"
        )
    if repeats < 0:
        raise RuntimeError(f"Repeats must be non-negative (got {repeats})")
    dim = check_dim(dim, x._array.ndim, "repeat_interleave")
    sizes = x._array.shape
    _check_output_size(sizes[dim] * repeats, output_size)
    spread = shape.unsqueeze(x, dim + 1)
    expanded = expand(spread, *sizes[: dim + 1], repeats, *sizes[dim + 1 :])
    copied = clone(expanded, memory_format=contiguous_format)
    return shape.view(copied, *sizes[:dim], sizes[dim] * repeats, *sizes[dim + 1 :])


def _positions_for_meta_counts(output_size):
    """The positions repeated by counts on the meta device, which hold no values: ``output_size``
    alone says how many (PyTorch's RuntimeError without it)."""
    if output_size is None:
        raise RuntimeError("cannot repeat_interleave a meta tensor without output_size")
    return meta_array((output_size,), dtypes.int64)


def _check_output_size(required, output_size):
    """PyTorch's check of ``output_size`` (the length the caller promised) against the ``required`` one."""
    if output_size is not None and output_size != required:
        raise RuntimeError(
            f"allocated size does not match required size: output_size={output_size} but the repeats give {required}"
        )


@public
def argwhere(x):
    """The positions of x's nonzero elements, one row each: (count, x.ndim) int64 (as ``nonzero``)."""
    return nonzero(x)


def _triangle_indices(row, col, offset, dtype, requires_grad, upper):
    """The (2, N) positions of the lower (or upper) triangle of a row x col matrix, row by row, of
    ``dtype`` (int64 or int32, the index dtypes PyTorch makes them in), checked as PyTorch checks them."""
    function = "triu_indices" if upper else "tril_indices"
    row, col = integer_argument(row, function, "row", 1), integer_argument(col, function, "col", 2)
    offset = integer_argument(offset, function, "offset", 3)
    for name, side in (("row", row), ("col", col)):
        if side < 0:
            raise RuntimeError(f"{name} must be non-negative, got{side}")
    dtype = xp.dtype(dtypes.int64 if dtype is None else checked_dtype(dtype))
    if dtype not in (xp.int64, xp.int32):
        raise NotImplementedError(
            f"\"{function}\" not implemented for '{dtypes.scalar_type_name(dtype)}': indices are int64 or int32; "
            f"convert the result (.to(dtype)) for another dtype"
        )
    if requires_grad:
        raise RuntimeError(
            f"Only Tensors of floating point and complex dtype can require gradients ({function} makes integer indices)"
        )
    inside = xp.ones((row, col), dtype=bool)
    inside = xp.triu(inside, offset) if upper else xp.tril(inside, offset)
    return tensor_from_array(xp.stack(xp.nonzero(inside)).astype(dtype).reshape(2, -1))


@public(method=False)
def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None, requires_grad=False, pin_memory=False):
    """The positions (2, N) of the lower triangle (j - i <= offset) of a row x col matrix, row by row."""
    return _triangle_indices(row, col, offset, dtype, requires_grad, upper=False)


@public(method=False)
def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None, requires_grad=False, pin_memory=False):
    """The positions (2, N) of the upper triangle (j - i >= offset) of a row x col matrix, row by row."""
    return _triangle_indices(row, col, offset, dtype, requires_grad, upper=True)


install_method("__getitem__", getitem)
install_method("__setitem__", setitem)


# ----------------------------------------------------------------------------- writing into a view, index_reduce
class SliceScatter(IndexPut):
    pass


class SelectScatter(IndexPut):
    pass


class DiagonalScatter(IndexPut):
    pass


class NarrowCopy(GetItem):
    pass


def _scatter_into_view(kind, x, src, key, view_shape, target=None):
    """A copy of x (or of ``target``, x rearranged) with ``src`` written over the view ``target[key]``
    of shape ``view_shape``; src must have exactly that shape, as PyTorch requires."""
    if tuple(src._array.shape) != tuple(view_shape):
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = {list(src._array.shape)}, "
            f"slice size = {list(view_shape)}"
        )
    return kind.apply(x if target is None else target, src.to(x._array.dtype), key, False, False)


@public
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of input with ``src`` written over its slice ``start:end:step`` along ``dim``:
    ``out[:, start:end:step] = src`` for dim=1. src has the slice's shape.

    d out / d input = grad, 0 on the slice;   d out / d src = grad read on the slice.
    """
    dim = check_dim(dim, input._array.ndim, "slice_scatter")
    if step <= 0:
        raise RuntimeError(f"slice step must be positive (got {step}); flip the tensor to write backwards")
    key = (slice(None),) * dim + (slice(start, end, step),)
    return _scatter_into_view(SliceScatter, input, src, key, input._array[key].shape)


@public
def select_scatter(input, src, dim, index):
    """A copy of input with ``src`` written over its slice at position ``index`` along ``dim``
    (``out[:, index] = src`` for dim=1). src has input's shape without ``dim``."""
    if input._array.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor; select_scatter needs a dimension to write along")
    dim = check_dim(dim, input._array.ndim, "select_scatter")
    size = input._array.shape[dim]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input._array.shape)} at dimension {dim}"
        )
    key = (slice(None),) * dim + (int(index),)
    return _scatter_into_view(SelectScatter, input, src, key, input._array[key].shape)


@public
def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of input with ``src`` written over the elements ``input.as_strided(size, stride,
    storage_offset)`` reads (src has that shape); the gradient flows as through ``copy_`` into a view."""
    result = input.clone()
    result.as_strided(size, stride, storage_offset).copy_(src)
    return result


@public
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of input with ``src`` written over its diagonal in the plane of ``dim1`` and ``dim2``
    (the part ``diagonal(input, offset, dim1, dim2)`` reads); src has that diagonal's shape."""
    moved, key = _diagonal_key(input, offset, dim1, dim2, "diagonal_scatter")
    filled = _scatter_into_view(DiagonalScatter, input, src, key, moved._array[key].shape, target=moved)
    first, second = _dims_pair(input._array.ndim, dim1, dim2, "diagonal_scatter")
    return filled if moved is input else shape.movedim(filled, (-2, -1), (first, second))


@public(out=SAME_DTYPE)
def narrow_copy(input, dim, start, length):
    """``narrow`` as a new tensor rather than a view: ``length`` elements along ``dim`` from ``start``."""
    return NarrowCopy.apply(input, _narrow_key(input, dim, start, length), False)


@public(inplace=True)
def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """A copy of input whose slice ``index[i]`` along ``dim`` becomes the ``reduce`` ("prod", "mean",
    "amax" or "amin") of the source slices ``source[..., i, ...]`` sent there, together with input's
    own slice when ``include_self``. It is ``scatter_reduce`` with ``index`` repeated across source's
    other dimensions, and has its gradients.
    """
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    dim, positions = _index_along(input, dim, index, "index_reduce_")
    _check_source(input, dim, _slices_key(dim, positions), source, "index_reduce_")
    spread_index = computed_without_gradient(_spread_along, [positions], {"dim": dim, "shape": tuple(source._array.shape)})
    return scatter_reduce(input, dim, spread_index, source, reduce, include_self=include_self)


def _spread_along(positions, dim, shape):
    """The 1-D ``positions`` laid along ``dim`` and repeated across the other dimensions of ``shape``."""
    positions = positions.reshape([-1 if each == dim else 1 for each in range(len(shape))] or ())
    return xp.broadcast_to(positions, shape).astype(dtypes.int64)


@public(method=False)
def unravel_index(indices, shape):
    """The coordinates in a tensor of ``shape`` of each flat (row-major) position in ``indices``:
    a tuple of int64 tensors, one per dimension, each of indices' shape. unravel_index(7, (2, 4))
    = (1, 3). Negative positions count from the end."""
    flat = indices._array if isinstance(indices, Tensor) else as_array(indices)
    if flat.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {dtypes.dtype_name(flat.dtype)}")
    if not isinstance(shape, (int, collections.abc.Sequence)):  # a tensor of sizes is refused, as by PyTorch
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    for side in shape:
        if not isinstance(side, int):
            raise TypeError(f"expected 'shape' sequence to only contain ints, but got {type(side)}")
    if any(side < 0 for side in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    remaining = flat.astype(dtypes.int64)
    coordinates = []
    for side in reversed(shape):  # positions past the end wrap around, as in PyTorch
        coordinates.append(remaining % side)
        remaining = remaining // side
    return tuple(tensor_from_array(each) for each in reversed(coordinates))


@public(method=False)
def combinations(input, r=2, with_replacement=False):
    """Every choice of ``r`` elements of the 1-D input, in order of position (as Python's
    ``itertools.combinations``; ``itertools.combinations_with_replacement`` with
    ``with_replacement``): (n,) -> (choices, r). Each chosen element's gradient goes back to it."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return getitem(input, slice(0, 0))
    choose = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    chosen = xp.asarray(list(choose(range(input.shape[0]), r)), dtype=dtypes.int64).reshape(-1, r)
    return getitem(input, array_from_shapes(chosen))
