"""``torch.segment_reduce`` (and ``torch._segment_reduce``): a reduction over consecutive segments of one axis, PyG's ``segment``
(its softmax and aggregations given ``ptr``): data (*B, L, *rest) and the segments' lengths
(*B, S), or their offsets (*B, S + 1), give (*B, S, *rest)::

    data = [[1, 2], [3, 4], [5, 6]], lengths = [1, 0, 2], "sum"  ->  [[1, 2], [0, 0], [8, 10]]

An empty segment is 0 for "sum", nan for "mean", -inf for "max", inf for "min", 1 for "prod";
``initial``, given, joins every segment as one more value (not counted by "mean"), and is an
empty segment's result. Composed of ``scatter_reduce``, each row of data sent to its segment:
the gradient is its gradient (a max or min shares it equally among ties).
"""
import math

from chainrule import creation, dtypes
from chainrule.backend import xp
from chainrule.ops import elementwise, index, shape
from chainrule.ops.registry import public
from chainrule.tensor import tensor_from_array

#: Each reduction's name in scatter_reduce, and the value of an empty segment without ``initial``.
_REDUCTIONS = {
    "sum": ("sum", 0.0), "mean": ("sum", math.nan), "prod": ("prod", 1.0),
    "max": ("amax", -math.inf), "amax": ("amax", -math.inf), "min": ("amin", math.inf), "amin": ("amin", math.inf),
}


@public(method=False, aliases=("segment_reduce",))
def _segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0, unsafe=False, initial=None):
    """The ``reduce`` ("sum", "mean", "prod", "max"/"amax", "min"/"amin") of each segment of
    ``data`` along ``axis``, the segments given by ``lengths`` or ``offsets`` (see the module)."""
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if indices is not None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None:
        if offsets is None:
            raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
        lengths = offsets._array[..., 1:] - offsets._array[..., :-1]
    else:
        lengths = lengths._array
    if lengths.dtype.kind not in "iu":
        raise NotImplementedError(f"\"_segment_reduce_lengths_cpu_kernel1\" not implemented for '{dtypes.scalar_type_name(lengths.dtype)}'")
    if data._array.dtype.kind != "f":
        raise NotImplementedError(f"\"_segment_reduce_cpu\" not implemented for '{dtypes.scalar_type_name(data._array.dtype)}'")
    axis = axis + data.dim() if axis < 0 else axis
    if axis != lengths.ndim - 1:
        raise RuntimeError(f"segment_reduce(): Expected axis to be the last dimension of lengths but got {axis}.")
    if (lengths < 0).any():
        raise RuntimeError("lengths contains negative value!")
    batch, length, rest = data.shape[:axis], data.shape[axis], tuple(data.shape[axis + 1:])
    if tuple(lengths.shape[:-1]) != tuple(batch) or (lengths.sum(axis=-1) != length).any():
        raise RuntimeError(
            "segment_reduce(): Expected all rows of lengths along axis to sum to data.size(lengths.dim()-1) when !unsafe. "
            f"(data of shape {list(data.shape)}, lengths of shape {list(lengths.shape)}: each row of lengths sums to {length})"
        )
    kind, empty = _REDUCTIONS[reduce]
    counts = lengths.reshape(-1)
    rows = shape.reshape(data, (-1, *rest))  # (B·L, *rest): segment i of batch row b is row b·S + i of the result
    segment_of_row = xp.repeat(xp.arange(counts.size), counts).reshape((-1,) + (1,) * len(rest))
    positions = tensor_from_array(xp.broadcast_to(segment_of_row, rows.shape).astype(dtypes.int64))
    start = empty if initial is None else initial
    base = creation.full((counts.size, *rest), start, dtype=data.dtype)
    reduced = index.scatter_reduce(base, 0, positions, rows, kind, include_self=initial is not None)
    if reduce == "mean":
        count = tensor_from_array(counts.reshape((-1,) + (1,) * len(rest)).astype(data._array.dtype))
        if initial is None:
            reduced = elementwise.div(reduced, count)  # an empty segment: 0 / 0, nan
        else:
            reduced = elementwise.where(count > 0, elementwise.div(reduced, count), reduced)
    return shape.reshape(reduced, (*batch, lengths.shape[-1], *rest))
