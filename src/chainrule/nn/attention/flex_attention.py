"""``chainrule.nn.attention.flex_attention``, as ``torch.nn.attention.flex_attention``: attention whose
scores a Python function changes and a mask function hides.

``flex_attention(q, k, v, score_mod, block_mask)`` computes softmax(mask(score_mod(Q Kᵀ · scale))) V::

    def relative_bias(score, b, h, q_idx, kv_idx):      # a score_mod: 5 arguments
        return score + (q_idx - kv_idx) * 0.1

    def causal(b, h, q_idx, kv_idx):                     # a mask_mod: 4 arguments, True = attend
        return q_idx >= kv_idx

    block_mask = create_block_mask(causal, B, H, L, S)
    out = flex_attention(q, k, v, score_mod=relative_bias, block_mask=block_mask)

PyTorch calls ``score_mod`` and ``mask_mod`` once per (batch, head, query, key) position, through
``vmap``; chainrule calls them once, with the four indices as broadcastable ``arange`` tensors of
shapes (B, 1, 1, 1), (1, H, 1, 1), (1, 1, L, 1) and (1, 1, 1, S): the same elementwise code and
indexing (``bias[h, q_idx]``) gives the same (B, H, L, S) result. This is PyTorch's eager path (the
one its CPU runs without ``torch.compile``): the full score matrix, the mask applied element by
element, rows with nothing to attend to giving zeros. Gradients flow to query, key, value and to
any tensor ``score_mod`` reads (PyTorch's CPU refuses inputs that require grad; its GPU kernels
compute these gradients).

A ``BlockMask`` records which (Q_BLOCK_SIZE x KV_BLOCK_SIZE) tiles of the mask hold any True (fully:
the "full" blocks, partly: the others), the form PyTorch's fused kernels skip empty tiles by.
"""
import functools
import inspect
import itertools
import math
import operator
import warnings
from typing import Callable, NamedTuple, TypedDict

from chainrule import dtypes
from chainrule.creation import arange, full, ones, zeros
from chainrule.nn import functional as F
from chainrule.tensor import Tensor

__all__ = [
    "BlockMask",
    "flex_attention",
    "AuxOutput",
    "AuxRequest",
    "FlexKernelOptions",
    "create_block_mask",
    "create_mask",
    "or_masks",
    "and_masks",
    "noop_mask",
]

_score_mod_signature = Callable[[Tensor, Tensor, Tensor, Tensor, Tensor], Tensor]
_mask_mod_signature = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]

_DEFAULT_SPARSE_BLOCK_SIZE = 128
_LARGE_SPARSE_BLOCK_SIZE = 1 << 30


class FlexKernelOptions(TypedDict, total=False):
    """Options of PyTorch's fused (Triton) kernels: block sizes, warps, stages, ``BACKEND``...
    chainrule computes attention without them and checks only those PyTorch checks on a CPU."""

    BACKEND: str
    PRESCALE_QK: bool
    ROWS_GUARANTEED_SAFE: bool
    BLOCKS_ARE_CONTIGUOUS: bool
    WRITE_DQ: bool
    FORCE_USE_FLEX_ATTENTION: bool


class AuxRequest(NamedTuple):
    """Which extra outputs ``flex_attention`` returns: the log-sum-exp of each query's scores
    (``lse``), the largest score of each (``max_scores``, which PyTorch's CPU does not return)."""

    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    """The extra outputs asked for by an ``AuxRequest`` (None where not asked)."""

    lse: Tensor | None = None
    max_scores: Tensor | None = None


def _identity(score, batch, head, token_q, token_kv):
    return score


def noop_mask(batch, head, token_q, token_kv):
    """The mask_mod that hides nothing."""
    return batch.new_ones(size=(), dtype=dtypes.bool_)


def _sliced_mask_mod_error(batch, head, token_q, token_kv):
    """The mask_mod of a sliced BlockMask: it cannot be used (PyTorch's error)."""
    raise RuntimeError(
        "Cannot use mask_mod from a sliced BlockMask. When you slice a BlockMask using [], the mask_mod attribute is "
        "reset. You must set it from the original BlockMask's mask_mod."
    )


def _positional_count(fn):
    """How many positional arguments without defaults ``fn`` takes: 5 for a score_mod, 4 for a mask_mod."""
    if hasattr(fn, "__code__"):
        return fn.__code__.co_argcount - len(getattr(fn, "__defaults__", None) or ())
    return sum(1 for parameter in inspect.signature(fn).parameters.values() if parameter.default is inspect.Parameter.empty)


def _is_score_mod(fn):
    count = _positional_count(fn)
    if count not in (4, 5):
        raise AssertionError(f"Expected 4 or 5 positional args, got {count}")
    return count == 5


def _indices(B, H, Q_LEN, KV_LEN):
    """The batch, head, query and key indices, as arange tensors that broadcast to (B, H, Q_LEN, KV_LEN)."""
    return (
        arange(B).view(B, 1, 1, 1),
        arange(H).view(1, H, 1, 1),
        arange(Q_LEN).view(1, 1, Q_LEN, 1),
        arange(KV_LEN).view(1, 1, 1, KV_LEN),
    )


def or_masks(*mask_mods):
    """The mask_mod that attends where any of ``mask_mods`` does."""
    if not all(callable(arg) for arg in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def or_mask(b, h, q_idx, kv_idx):
        result = b.new_zeros((), dtype=dtypes.bool_)
        for mask in mask_mods:
            result = result | mask(b, h, q_idx, kv_idx)
        return result

    return or_mask


def and_masks(*mask_mods):
    """The mask_mod that attends where all of ``mask_mods`` do."""
    if not all(callable(arg) for arg in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def and_mask(b, h, q_idx, kv_idx):
        result = b.new_ones((), dtype=dtypes.bool_)
        for mask in mask_mods:
            result = result & mask(b, h, q_idx, kv_idx)
        return result

    return and_mask


def create_mask(mod_fn, B, H, Q_LEN, KV_LEN, device=None):
    """The (B, H, Q_LEN, KV_LEN) bool mask of ``mod_fn``: a mask_mod's values, or for a score_mod
    where it leaves the score finite (not -inf). B and H default to 1."""
    B, H = B or 1, H or 1
    b, h, m, n = _indices(B, H, Q_LEN, KV_LEN)
    if _is_score_mod(mod_fn):
        out = mod_fn(zeros(B, H, Q_LEN, KV_LEN, device=device), b, h, m, n)
        return ~out.isneginf()
    mask = mod_fn(b, h, m, n)
    if not isinstance(mask, Tensor):
        mask = full((), bool(mask), dtype=dtypes.bool_)
    return mask.to(dtypes.bool_).expand(B, H, Q_LEN, KV_LEN).clone()


def _ordered_to_dense(num_blocks_in_row, col_indices, num_cols):
    """The (..., rows, num_cols) int32 0/1 matrix of blocks that ``num_blocks_in_row`` and the first
    entries of each row of ``col_indices`` name."""
    entries = col_indices.shape[-1]
    listed = arange(entries) < num_blocks_in_row.unsqueeze(-1)  # (..., rows, entries)
    named = col_indices.long().unsqueeze(-1) == arange(num_cols)  # (..., rows, entries, num_cols)
    return (named & listed.unsqueeze(-1)).any(-2).to(dtypes.int32)


def _dense_to_ordered(dense_mask):
    """Per row, how many blocks it holds and their columns first (a stable descending argsort)."""
    dense_mask = dense_mask.to(dtypes.int32)
    num_blocks_in_row = dense_mask.sum(dim=-1)
    col_indices = dense_mask.argsort(dim=-1, descending=True, stable=True)
    return num_blocks_in_row.to(dtypes.int32), col_indices.to(dtypes.int32)


def _transpose_ordered(num_blocks_in_row, col_indices):
    dense = _ordered_to_dense(num_blocks_in_row, col_indices, col_indices.shape[-1])
    return _dense_to_ordered(dense.transpose(-2, -1))


def _adjust_num_blocks_and_indices(num_blocks, indices, new_num_rows, new_num_cols):
    indices = indices[:, :, :new_num_rows, :new_num_cols]
    num_blocks = num_blocks[:, :, :new_num_rows].clamp(max=new_num_cols)
    num_blocks = (indices < num_blocks[:, :, :, None]).sum(dim=-1).to(dtypes.int32)
    return num_blocks, indices


class BlockMask:
    """A mask as blocks (PyTorch's block-sparse format): for each (batch, head, query block) row,
    ``kv_num_blocks`` counts the key blocks partly attended and ``kv_indices`` lists them first;
    ``full_kv_num_blocks``/``full_kv_indices`` do the same for the blocks attended everywhere. The
    ``q_*`` pairs are the same per key block (for the backward of PyTorch's kernels). ``mask_mod``
    gives the mask inside the blocks; ``seq_lengths`` is (Q_LEN, KV_LEN), ``BLOCK_SIZE`` the tile."""

    def __init__(
        self,
        seq_lengths,
        kv_num_blocks,
        kv_indices,
        full_kv_num_blocks,
        full_kv_indices,
        q_num_blocks,
        q_indices,
        full_q_num_blocks,
        full_q_indices,
        BLOCK_SIZE=(_DEFAULT_SPARSE_BLOCK_SIZE, _DEFAULT_SPARSE_BLOCK_SIZE),
        mask_mod=noop_mask,
    ):
        if kv_indices.dim() < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        if (full_kv_num_blocks is None) != (full_kv_indices is None):
            raise AssertionError("full_kv_num_blocks and full_kv_indices must be both provided or omitted")
        if (full_q_num_blocks is None) != (full_q_indices is None):
            raise AssertionError("full_q_num_blocks and full_q_indices must be both provided or omitted")
        self.seq_lengths = seq_lengths
        self.kv_num_blocks, self.kv_indices = kv_num_blocks, kv_indices
        self.full_kv_num_blocks, self.full_kv_indices = full_kv_num_blocks, full_kv_indices
        self.q_num_blocks, self.q_indices = q_num_blocks, q_indices
        self.full_q_num_blocks, self.full_q_indices = full_q_num_blocks, full_q_indices
        self.BLOCK_SIZE = BLOCK_SIZE
        self.mask_mod = mask_mod

    @classmethod
    def from_kv_blocks(
        cls,
        kv_num_blocks,
        kv_indices,
        full_kv_num_blocks=None,
        full_kv_indices=None,
        BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE,
        mask_mod=None,
        seq_lengths=None,
        compute_q_blocks=True,
    ):
        """A BlockMask from its key-block lists, the query-block ones derived from them."""
        if kv_indices.dim() < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        if (full_kv_num_blocks is None) != (full_kv_indices is None):
            raise AssertionError("full_kv_num_blocks and full_kv_indices must be both provided or omitted")
        q_num_blocks = q_indices = full_q_num_blocks = full_q_indices = None
        if compute_q_blocks:
            q_num_blocks, q_indices = _transpose_ordered(kv_num_blocks, kv_indices)
            if full_kv_num_blocks is not None:
                full_q_num_blocks, full_q_indices = _transpose_ordered(full_kv_num_blocks, full_kv_indices)
        if isinstance(BLOCK_SIZE, int):
            BLOCK_SIZE = (BLOCK_SIZE, BLOCK_SIZE)
        if seq_lengths is None:
            seq_lengths = (kv_indices.shape[-2] * BLOCK_SIZE[0], kv_indices.shape[-1] * BLOCK_SIZE[1])
        return cls(
            seq_lengths, kv_num_blocks, kv_indices, full_kv_num_blocks, full_kv_indices, q_num_blocks, q_indices,
            full_q_num_blocks, full_q_indices, BLOCK_SIZE, noop_mask if mask_mod is None else mask_mod,
        )

    def as_tuple(self, flatten=True):
        """The fields in PyTorch's order (the block size and lengths spread out with ``flatten``)."""
        block_size = tuple(self.BLOCK_SIZE) if flatten else (self.BLOCK_SIZE,)
        seq_lengths = tuple(self.seq_lengths) if flatten else (self.seq_lengths,)
        return (
            *seq_lengths, self.kv_num_blocks, self.kv_indices, self.full_kv_num_blocks, self.full_kv_indices,
            self.q_num_blocks, self.q_indices, self.full_q_num_blocks, self.full_q_indices, *block_size, self.mask_mod,
        )

    @property
    def shape(self):
        """(batch, heads, Q_LEN, KV_LEN) the mask was made for."""
        return tuple(self.kv_indices.shape[:-2]) + tuple(self.seq_lengths)

    def numel(self):
        """The number of elements of the mask it stands for (hidden ones included)."""
        return functools.reduce(operator.mul, self.shape, 1)

    def sparsity(self):
        """The percentage of blocks not computed (attended nowhere)."""
        computed_blocks = self.kv_num_blocks.sum()
        if self.full_kv_num_blocks is not None:
            computed_blocks = computed_blocks + self.full_kv_num_blocks.sum()
        computed_size = computed_blocks.item() * self.BLOCK_SIZE[0] * self.BLOCK_SIZE[1]
        return 100 * (1 - computed_size / self.numel())

    def to_dense(self):
        """The (..., query blocks, key blocks) int32 matrix: 1 for each block attended anywhere."""
        partial_dense = _ordered_to_dense(self.kv_num_blocks, self.kv_indices, self.kv_indices.shape[-1])
        if self.full_kv_num_blocks is not None:
            return partial_dense | _ordered_to_dense(self.full_kv_num_blocks, self.full_kv_indices, self.full_kv_indices.shape[-1])
        return partial_dense

    def to_string(self, grid_size=(20, 20), limit=4):
        """The blocks drawn (█ attended, ░ partly, blank not), for up to ``limit`` (batch, head) pairs."""
        dense_mask = self.to_dense()
        *batch_dims, num_rows, num_cols = dense_mask.shape
        if isinstance(grid_size, int):
            max_rows = max_cols = grid_size
        elif grid_size == -1:
            max_rows, max_cols = num_rows, num_cols
        else:
            max_rows, max_cols = grid_size
        row_step = max(1, -(-num_rows // max_rows))
        col_step = max(1, -(-num_cols // max_cols))

        def drawn(section):
            share = section.float().mean().item()
            return "█" if share == 1 else " " if share == 0 else "░"

        pictures = []
        for count, batch_idx in enumerate(itertools.product(*[range(size) for size in batch_dims])):
            if count == limit:
                pictures += [
                    "...",
                    "To print out more, set BlockMask.to_string(limit=N)",
                    "You can also index (BlockMask[batch, head]) to choose a specific batch or head",
                ]
                break
            mask = dense_mask[batch_idx]
            picture = f"{batch_idx}\n"
            for row in range(0, num_rows, row_step):
                for col in range(0, num_cols, col_step):
                    picture += drawn(mask[row : row + row_step, col : col + col_step]) * 2
                picture += "\n"
            pictures.append(picture)
        return "\n".join(pictures)

    def __str__(self):
        return f"BlockMask(shape={self.shape}, sparsity={self.sparsity():.2f}%, \n{self.to_string().strip()}\n)"

    def __repr__(self):
        def shape_or_none(tensor):
            return tensor.shape if tensor is not None else None

        name = self.mask_mod.__name__ if hasattr(self.mask_mod, "__name__") else self.mask_mod
        return (
            f"BlockMask(\n"
            f"    kv_num_blocks={self.kv_num_blocks.shape},\n"
            f"    kv_indices={self.kv_indices.shape},\n"
            f"    full_kv_num_blocks={shape_or_none(self.full_kv_num_blocks)},\n"
            f"    full_kv_indices={shape_or_none(self.full_kv_indices)},\n"
            f"    q_num_blocks={shape_or_none(self.q_num_blocks)},\n"
            f"    q_indices={shape_or_none(self.q_indices)},\n"
            f"    full_q_num_blocks={shape_or_none(self.full_q_num_blocks)},\n"
            f"    full_q_indices={shape_or_none(self.full_q_indices)},\n"
            f"    BLOCK_SIZE={self.BLOCK_SIZE},\n"
            f"    shape={self.shape},\n"
            f"    sparsity={self.sparsity():.2f}%,\n"
            f"    mask_mod={name}\n"
            f")"
        )

    def __getitem__(self, index):
        """The BlockMask of some batches, heads or query blocks (``block_mask[0]``, ``[0:2, 1:2]``);
        its mask_mod cannot be used (PyTorch's rule)."""
        index = index if isinstance(index, tuple) else (index,)
        padded = (*index, slice(None), slice(None), slice(None))[:3]
        sizes = self.kv_num_blocks.shape[:3]
        index = tuple(
            (slice(i + n, i + n + 1) if -n <= i < 0 else slice(i, i + 1)) if isinstance(i, int) else i
            for i, n in zip(padded, sizes)
        )
        full = (None, None) if self.full_kv_num_blocks is None else (self.full_kv_num_blocks[index], self.full_kv_indices[index])
        return BlockMask.from_kv_blocks(
            self.kv_num_blocks[index], self.kv_indices[index], *full, BLOCK_SIZE=self.BLOCK_SIZE,
            mask_mod=_sliced_mask_mod_error, seq_lengths=self.seq_lengths, compute_q_blocks=self.q_indices is not None,
        )

    def _adjust(self, new_q_len, new_kv_len):
        """This mask cropped to its upper left (new_q_len, new_kv_len) corner."""
        rows = -(-new_q_len // self.BLOCK_SIZE[0])
        cols = -(-new_kv_len // self.BLOCK_SIZE[1])
        partial = _adjust_num_blocks_and_indices(self.kv_num_blocks, self.kv_indices, rows, cols)
        full = (None, None)
        if self.full_kv_num_blocks is not None:
            full = _adjust_num_blocks_and_indices(self.full_kv_num_blocks, self.full_kv_indices, rows, cols)
        return self.from_kv_blocks(
            *partial, *full, BLOCK_SIZE=self.BLOCK_SIZE, mask_mod=self.mask_mod, seq_lengths=(new_q_len, new_kv_len),
            compute_q_blocks=self.q_indices is not None,
        )

    def to(self, device):
        """This BlockMask with its tensors on ``device``."""
        def moved(tensor):
            return None if tensor is None else tensor.to(device)

        return BlockMask(
            self.seq_lengths, *(moved(tensor) for tensor in self.as_tuple()[2:10]), BLOCK_SIZE=self.BLOCK_SIZE, mask_mod=self.mask_mod
        )


def _convert_mask_to_block_mask(mask, Q_BLOCK_SIZE, KV_BLOCK_SIZE, separate_full_blocks):
    """Per (Q_BLOCK_SIZE x KV_BLOCK_SIZE) tile of the bool ``mask`` (padded with False to whole
    tiles): int8 1 where partly attended and, apart when asked, where fully attended."""
    while mask.dim() < 4:
        mask = mask.unsqueeze(0)
    pad_kv = -mask.shape[-1] % KV_BLOCK_SIZE
    pad_q = -mask.shape[-2] % Q_BLOCK_SIZE
    mask = F.pad(mask, (0, pad_kv, 0, pad_q))
    B, H, Q, KV = mask.shape
    mask = mask.view(B, H, Q // Q_BLOCK_SIZE, Q_BLOCK_SIZE, KV // KV_BLOCK_SIZE, KV_BLOCK_SIZE).permute(0, 1, 2, 4, 3, 5)
    block_sum = mask.sum(dim=[-2, -1])
    if separate_full_blocks:
        tile = Q_BLOCK_SIZE * KV_BLOCK_SIZE
        partial = (block_sum > 0) & (block_sum < tile)
        return partial.to(dtypes.int8), (block_sum == tile).to(dtypes.int8)
    return (block_sum > 0).to(dtypes.int8), None


def create_block_mask(
    mask_mod,
    B,
    H,
    Q_LEN,
    KV_LEN,
    device=None,
    BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE,
    _compile=False,
    separate_full_blocks=True,
):
    """The BlockMask of ``mask_mod`` (``mask_mod(b, h, q_idx, kv_idx) -> bool``) for B batches
    (None: one for all), H heads (None: one for all), Q_LEN queries and KV_LEN keys, in tiles of
    ``BLOCK_SIZE`` (an int, or (Q, KV) sizes)."""
    if _is_score_mod(mask_mod):
        raise AssertionError(f"create-block_mask requires a mask_mod function! Got {mask_mod}")
    B, H = B or 1, H or 1
    Q_BLOCK_SIZE, KV_BLOCK_SIZE = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else BLOCK_SIZE
    if _compile:
        warnings.warn(
            "_compile flag on create_block_mask was originally added to work around a torch.compile limitation. That "
            "limitation has since been addressed. So, to compile create_block_mask, we suggest doing "
            "torch.compile(create_block_mask). This still works for now, but will be removed in the future.",
            DeprecationWarning,
            stacklevel=2,
        )
    mask = create_mask(mask_mod, B, H, Q_LEN, KV_LEN, device)
    partial, full_blocks = _convert_mask_to_block_mask(mask, Q_BLOCK_SIZE, KV_BLOCK_SIZE, separate_full_blocks)
    full = (None, None) if full_blocks is None else _dense_to_ordered(full_blocks)
    return BlockMask.from_kv_blocks(
        *_dense_to_ordered(partial), *full, BLOCK_SIZE=(Q_BLOCK_SIZE, KV_BLOCK_SIZE), mask_mod=mask_mod, seq_lengths=(Q_LEN, KV_LEN)
    )


def _create_empty_block_mask(query):
    """The BlockMask of no mask: one block covering everything."""
    return BlockMask.from_kv_blocks(
        kv_num_blocks=ones([1, 1, 1], dtype=dtypes.int32, device=query.device),
        kv_indices=zeros([1, 1, 1, 1], dtype=dtypes.int32, device=query.device),
        BLOCK_SIZE=_LARGE_SPARSE_BLOCK_SIZE,
        seq_lengths=(1, 1),
    )


def _check_inputs(query, key, value, block_mask, enable_gqa):
    """PyTorch's checks of the shapes and devices, with its errors (key and value may be of a lower
    precision than query: they are cast to its dtype)."""
    if query.device != key.device or query.device != value.device:
        raise ValueError(
            f"Expected query, key, and value to have the same device type, but got query.device: {query.device}, "
            f"key.device: {key.device}, and value.device: {value.device} instead."
        )
    if query.size(-1) != key.size(-1):
        raise ValueError(
            f"Expect query and key/value to have the same embedding dimension but got E={query.size(-1)} and E={key.size(-1)}."
        )
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        raise NotImplementedError("NYI: query, key, and value must be 4D tensors")
    if not enable_gqa and query.size(-3) != key.size(-3):
        raise ValueError(
            f"Expect query and key/value to have the same number of heads but got Hq={query.size(-3)} and "
            f"Hkv={key.size(-3)}. Try setting enable_gqa=True for GQA."
        )
    if enable_gqa and query.size(1) % key.size(1) != 0:
        raise ValueError(
            f"Expect number of query heads to be a multiple of kv heads for GQA but got Hq={query.size(1)} and Hkv={key.size(1)}."
        )
    if query.size(0) != key.size(0):
        if block_mask is None:
            raise ValueError(
                f"Expect query and key/value to have the same batch size, or non-none block_mask, but got "
                f"block_mask=None, Bq={query.size(0)}, and Bkv={key.size(0)}."
            )
        if block_mask.kv_num_blocks.size(0) != query.size(0):
            raise ValueError(
                f"Expect query and key/value to have the same batch size, or block_mask and query to have the same batch "
                f"size, but got Bq={query.size(0)}, Bkv={key.size(0)}, B_block_mask={block_mask.kv_num_blocks.size(0)}."
            )


def _check_block_mask_lengths(block_mask, query, key):
    if block_mask.BLOCK_SIZE[0] == _LARGE_SPARSE_BLOCK_SIZE and block_mask.BLOCK_SIZE[1] == _LARGE_SPARSE_BLOCK_SIZE:
        return
    q_len, kv_len = block_mask.shape[-2], block_mask.shape[-1]
    if query.size(-2) > q_len or key.size(-2) > kv_len:
        raise ValueError(
            f"block_mask was created for block_mask.shape={block_mask.shape} but got q_len={query.size(-2)} and "
            f"kv_len={key.size(-2)}. As the block mask was created for a smaller length than you're using it for, you "
            f"likely need to create a new block mask."
        )
    if query.size(-2) < q_len or key.size(-2) < kv_len:
        raise ValueError(
            f"block_mask was created for block_mask.shape={block_mask.shape} but got q_len={query.size(-2)} and "
            f"kv_len={key.size(-2)}. As the block mask was created for a larger length than you're using it for, you can "
            f"either 1. create a new block mask with the correct length, or 2. 'adjust' the existing block mask to the "
            f"correct length by calling block_mask._adjust(q_len, kv_len). This essentially 'crops' the block mask to "
            f"the upper left corner, which does not work for all mask_mods!"
        )


_warned_return_lse = False


def flex_attention(
    query,
    key,
    value,
    score_mod=None,
    block_mask=None,
    scale=None,
    enable_gqa=False,
    return_lse=False,
    kernel_options=None,
    *,
    return_aux=None,
):
    """Attention with scores changed by ``score_mod`` and hidden where ``block_mask``'s mask_mod is
    False: query (B, Hq, L, E), key (B, Hkv, S, E), value (B, Hkv, S, Ev) -> output (B, Hq, L, Ev).
    ``scale`` defaults to 1/sqrt(E); ``enable_gqa`` lets Hq be a multiple of Hkv (each key/value head
    serves Hq/Hkv query heads). With ``return_aux=AuxRequest(lse=True)`` it returns
    ``(output, AuxOutput(lse))``, the log-sum-exp (B, Hq, L) of each query's scores (-inf where every
    key is hidden; the output is 0 there); ``return_lse=True`` is the deprecated way to ask it."""
    global _warned_return_lse
    _check_inputs(query, key, value, block_mask, enable_gqa)
    score_mod = _identity if score_mod is None else score_mod
    block_mask = _create_empty_block_mask(query) if block_mask is None else block_mask
    if getattr(block_mask, "mask_mod", None) is _sliced_mask_mod_error:
        raise RuntimeError("Cannot use mask_mod from a sliced BlockMask")
    _check_block_mask_lengths(block_mask, query, key)
    if scale is None:
        scale = 1.0 / math.sqrt(query.size(-1))
    if query.device != block_mask.kv_num_blocks.device:
        raise RuntimeError(
            f"Expect q/k/v and block_mask to be on the same device but got {query.device} and {block_mask.kv_num_blocks.device}."
        )
    if return_lse and return_aux is not None:
        raise ValueError(
            "Cannot specify both return_lse and return_aux. return_lse is deprecated, please use "
            "return_aux=AuxRequest(lse=True) instead."
        )
    if return_lse and not _warned_return_lse:
        _warned_return_lse = True
        warnings.warn(
            "return_lse is deprecated and will be removed in v2.10. Please use return_aux=AuxRequest(lse=True) instead.",
            FutureWarning,
            stacklevel=2,
        )
    options = dict(kernel_options or {})
    if "BACKEND" in options and options.get("FORCE_USE_FLEX_ATTENTION", False):
        raise RuntimeError(
            "BACKEND cannot be combined with legacy FORCE_USE_FLEX_ATTENTION. BACKEND supersedes the legacy knob; please "
            "drop FORCE_USE_FLEX_ATTENTION and only specify the desired BACKEND."
        )
    if "BACKEND" in options and options["BACKEND"] not in ("AUTO", "TRITON", "FLASH", "TRITON_DECODE"):
        raise ValueError(f"Invalid BACKEND value '{options['BACKEND']}'. Must be one of ('AUTO', 'TRITON', 'FLASH', 'TRITON_DECODE')")
    if return_aux is not None and return_aux.max_scores:
        raise NotImplementedError("Returning max scores is not supported on CPU/MPS.")

    output, lse = _attention(query, key, value, score_mod, block_mask.mask_mod, scale)
    if return_aux is not None:
        return output, AuxOutput(lse=lse if return_aux.lse else None)
    return (output, lse) if return_lse else output


def _attention(query, key, value, score_mod, mask_mod, scale):
    """PyTorch's eager computation: scores in float64 for float64 queries (float32 otherwise),
    score_mod, the mask, softmax (zeros for rows with nothing to attend to), times value."""
    working = dtypes.float64 if query.dtype == dtypes.float64 else dtypes.float32
    groups = query.size(1) // key.size(1)
    key, value = key.repeat_interleave(groups, dim=1), value.repeat_interleave(groups, dim=1)
    Bq, Bkv = query.size(0), key.size(0)
    if not (Bq == Bkv or (Bq > 1 and Bkv == 1)):
        raise RuntimeError(f"Bq and Bkv must broadcast. Got Bq={Bq} and Bkv={Bkv}")
    key, value = key.expand(Bq, *key.shape[1:]), value.expand(Bq, *value.shape[1:])
    scores = (query.to(working) @ key.to(working).transpose(-2, -1)) * scale
    B, H, L, S = scores.shape
    b, h, m, n = _indices(B, H, L, S)
    attended = mask_mod(b, h, m, n)
    modified = score_mod(scores.to(working), b, h, m, n)
    scores = modified.masked_fill(~attended.to(dtypes.bool_).expand(B, H, L, S), -math.inf)
    hidden_rows = scores.isneginf().all(dim=-1, keepdim=True)
    lse = scores.logsumexp(dim=-1).masked_fill(hidden_rows.squeeze(-1), -math.inf)
    # rows with every key hidden: softmax of zeros instead of NaNs, then zeros, so no NaN reaches a gradient
    probabilities = scores.masked_fill(hidden_rows, 0.0).softmax(dim=-1).masked_fill(hidden_rows, 0.0)
    return probabilities.to(query.dtype) @ value.to(query.dtype), lse
