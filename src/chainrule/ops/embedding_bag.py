"""EmbeddingBag: the sum, mean or max of the embedding rows of each bag of ids, in one operation.

A bag is a row of a 2-D ``indices`` (B, L), or, for a 1-D ``indices``, the run of entries from one
of ``offsets`` to the next. ``forward`` lays the bags out as a (B, L) grid of positions in the
flattened ``indices`` (shorter bags padded, the padding masked out), reads the rows
``weight[ids]`` (B, L, D) and reduces each bag to one row (B, D). The backward sends each bag's
gradient to the rows that made it:

- ``EmbeddingBag`` (sum and mean): to the row of every counted entry, scaled as PyTorch's kernel
  scales it (by the entry's per-sample weight, by 1 / the bag's count for mean, by 1 / how often
  ``indices`` holds the id with ``scale_grad_by_freq``);
- ``EmbeddingBagMax``: to the row that holds each column's largest value.

Either way the result has one node, ``EmbeddingBagBackward0``, as PyTorch's.

What depends on the values of ``indices`` and ``offsets`` (the bags, the checks) is computed in
``forward``, so that a compiled program computes it again on each call.
"""
import math

from chainrule.autograd import grad_mode
from chainrule.backend import xp
from chainrule.ops.index import rows_read
from chainrule.ops.op import Op
from chainrule.ops.reduce import summed


class EmbeddingBag(Op):
    """Modes "sum" and "mean": ``weight`` (num_embeddings, D); ``indices`` (B, L) with ``offsets``
    None, or (N,) with ``offsets`` (B,) ((B + 1,) with ``include_last_offset``);
    ``per_sample_weights`` (indices' shape, mode "sum") or None; ``padding_idx`` a row, whose
    entries count in no bag, or None. -> (B, D); an empty bag gives zeros."""

    formula = "each bag's sum (or mean) over its entries e of per_sample_weights[e] · weight[indices[e]]"
    derivatives = (
        "grad of each bag added into the row of each of its entries (· per_sample_weights, / the bag's count "
        "for mean, / the id's count with scale_grad_by_freq)",
        None,
        None,
        "grad of the entry's bag · weight[indices[e]], summed over the embedding dimension",
        None,
        None,
        None,
        None,
        None,
    )

    @staticmethod
    def forward(
        ctx, weight, indices, offsets, per_sample_weights, mean, include_last_offset, padding_idx, scale_grad_by_freq, sparse=False
    ):
        flat_ids, positions, ids, counted, rows = bag_rows(weight, indices, offsets, include_last_offset, padding_idx)
        if ctx.needs_input_grad:  # what backward reads (nothing when no gradient is recorded)
            needs_weight, _, _, needs_per_sample_weights = ctx.needs_input_grad[:4]
            ctx.save_for_backward(weight if needs_per_sample_weights else None, per_sample_weights if needs_weight else None)
            ctx.bag_of_entry = xp.nonzero(counted)[0]  # the counted entries, bag after bag
            ctx.entry_ids, ctx.entry_positions, ctx.input_shape = ids[counted], positions[counted], indices.shape
            ctx.num_embeddings = weight.shape[0]
            ctx.scale = _gradient_scale(ctx.entry_ids, ctx.bag_of_entry, flat_ids, counted, mean, scale_grad_by_freq, weight)
            ctx.sparse, ctx.scale_grad_by_freq = sparse, scale_grad_by_freq
        if per_sample_weights is not None:
            rows = rows * per_sample_weights.reshape(-1)[positions][..., None]
        total = summed(xp.where(counted[..., None], rows, 0), 1, False)
        if not mean:
            return total
        return total / xp.maximum(counted.sum(1), 1).astype(total.dtype)[:, None]

    @staticmethod
    def backward(ctx, grad_output):
        weight, per_sample_weights = ctx.saved_tensors
        grad_of_entries = grad_output[ctx.bag_of_entry]  # (E, D): the gradient of each counted entry's bag
        grad_weight = grad_per_sample_weights = None
        if ctx.needs_input_grad[0]:
            scale = ctx.scale
            if per_sample_weights is not None:
                entry_weights = per_sample_weights.reshape(-1)[ctx.entry_positions]
                scale = entry_weights if scale is None else entry_weights * scale
            scaled = grad_of_entries if scale is None else grad_of_entries * scale[:, None]
            if ctx.sparse and not grad_mode.is_grad_enabled():  # one row per entry, as Embedding's sparse gradient
                if ctx.scale_grad_by_freq:
                    raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
                grad_weight = rows_read(scaled, ctx.entry_ids, (ctx.num_embeddings, scaled.shape[1]), None)
            else:
                grad_weight = added_into_rows(ctx.xp, ctx.entry_ids[:, None], scaled, ctx.num_embeddings)
        if ctx.needs_input_grad[3]:
            along_rows = (grad_of_entries * weight[ctx.entry_ids]).sum(1)  # (E,)
            size = math.prod(ctx.input_shape)
            grad_per_sample_weights = ctx.xp.bincount(ctx.entry_positions, weights=along_rows, minlength=size)
            grad_per_sample_weights = grad_per_sample_weights.reshape(ctx.input_shape)
        return grad_weight, None, None, grad_per_sample_weights, None, None, None, None, None


class EmbeddingBagMax(Op):
    """Mode "max": each column's largest value over the rows of each bag (the arguments as
    EmbeddingBag's). The first of equal values holds it, as in PyTorch's kernel."""

    node_name = "EmbeddingBagBackward0"
    formula = "each bag's largest weight[indices[e]] over its entries e, column by column"
    derivatives = ("grad of each bag added into the row that holds each of its largest values", None, None, None, None)

    @staticmethod
    def forward(ctx, weight, indices, offsets, include_last_offset, padding_idx):
        _, _, ids, counted, rows = bag_rows(weight, indices, offsets, include_last_offset, padding_idx)
        bags, length, dim = rows.shape
        ctx.num_embeddings = weight.shape[0]
        ctx.filled = counted.any(1)  # (B,): the bags with an entry
        if not length:  # no bag has an entry (and argmax needs one)
            ctx.largest_ids = xp.zeros((bags, dim), dtype=ids.dtype)
            return xp.zeros((bags, dim), dtype=rows.dtype)
        candidates = xp.where(counted[..., None], rows, -xp.inf)
        largest = candidates.argmax(1)  # (B, D): the entry of each bag that holds each column's largest value
        ctx.largest_ids = xp.take_along_axis(ids, largest, 1)
        maxima = xp.take_along_axis(candidates, largest[:, None], 1)[:, 0]
        return xp.where(ctx.filled[:, None], maxima, 0)

    @staticmethod
    def backward(ctx, grad_output):
        filled = ctx.filled
        grad_weight = added_into_rows(ctx.xp, ctx.largest_ids[filled], grad_output[filled], ctx.num_embeddings)
        return grad_weight, None, None, None, None


def bag_rows(weight, indices, offsets, include_last_offset, padding_idx):
    """What both modes read: the flattened ids (N,) (checked in range), the bags' positions in them
    and their ids (B, L), which of those count (B, L), and the rows ``weight[ids]`` (B, L, D)."""
    flat_ids = indices.reshape(-1).astype(xp.int64, copy=False)  # bool ids with int offsets count as 0 and 1
    check_ids_in_range(flat_ids, weight.shape[0])
    positions, counted = bag_layout(indices, offsets, include_last_offset)
    ids = flat_ids[positions]
    if padding_idx is not None:
        counted = counted & (ids != padding_idx)
    return flat_ids, positions, ids, counted, weight[ids]


def _gradient_scale(entry_ids, bag_of_entry, flat_ids, counted, mean, scale_grad_by_freq, weight):
    """What each counted entry's bag gradient is multiplied by on its way to the entry's row (E,),
    in weight's dtype: 1 / the bag's count for mean, / the id's count in ``flat_ids`` with
    ``scale_grad_by_freq``; None where that is 1 for every entry (sum without scale_grad_by_freq)."""
    divisor = None
    if scale_grad_by_freq:
        divisor = xp.bincount(flat_ids, minlength=weight.shape[0])[entry_ids]
    if mean:
        bag_sizes = counted.sum(1)[bag_of_entry]
        divisor = bag_sizes if divisor is None else divisor * bag_sizes
    return None if divisor is None else (1.0 / divisor).astype(weight.dtype)


def added_into_rows(xp_of_backward, row_of, grad, num_embeddings):
    """(num_embeddings, D) zeros with each ``grad[k, d]`` (K, D) added into row ``row_of[k, d]``
    (``row_of`` (K, D), or (K, 1) for whole rows): a scatter-add, done as ``bincount`` of the
    flattened places (as GetItem's backward), which NumPy, CuPy and chainrule all offer."""
    dim = grad.shape[-1]
    places = (row_of * dim + xp.arange(dim)).reshape(-1)
    added = xp_of_backward.bincount(places, weights=grad.reshape(-1), minlength=num_embeddings * dim)
    return added.reshape(num_embeddings, dim)


def bag_layout(indices, offsets, include_last_offset):
    """Where each bag's entries are in the flattened ``indices``: positions (B, L) and a mask (B, L)
    of the real ones, L the longest bag's length (shorter bags padded with position 0). Raises
    PyTorch's RuntimeError for offsets that do not start at 0, decrease or run past the end."""
    if offsets is None:  # the rows of a 2-D indices
        bags, length = indices.shape
        return xp.arange(bags * length).reshape(bags, length), xp.ones((bags, length), dtype=bool)
    offsets = offsets.astype(xp.int64)
    if offsets.size and offsets[0] != 0:
        raise RuntimeError(
            "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. "
            f"However, got {offsets[0]}"
        )
    if offsets.size and offsets[-1] > indices.size:
        raise RuntimeError(
            f"offsets[-1] can not be greater than input's length {indices.size} but got offsets[-1] of {offsets[-1]}"
        )
    # With include_last_offset the last offset ends the last bag (as documented, and as PyTorch's float32
    # sum): entries after it belong to no bag. (PyTorch's float64 and max paths run that bag on to the
    # end of input, its float32 mean divides by that longer count and leaves a gradient unset: one rule here.)
    if include_last_offset:
        starts, ends = offsets[:-1], offsets[1:]
    else:
        starts, ends = offsets, xp.concatenate([offsets[1:], xp.asarray([indices.size])])
    lengths = ends - starts
    if (lengths < 0).any():
        raise RuntimeError(f"embedding_bag: offsets must not decrease, got offsets {offsets.tolist()}")
    steps = xp.arange(int(lengths.max()) if lengths.size else 0)
    real = steps < lengths[:, None]
    return xp.where(real, starts[:, None] + steps, 0), real


def check_ids_in_range(flat_ids, count):
    """PyTorch's RuntimeError for an entry of ``flat_ids`` outside [0, count)."""
    if flat_ids.size and (flat_ids.min() < 0 or flat_ids.max() >= count):
        where_bad = int(xp.argmax((flat_ids < 0) | (flat_ids >= count)))
        raise RuntimeError(
            f"Index {where_bad} of input takes value {flat_ids[where_bad]} which is not in the valid range [0, {count})"
        )
