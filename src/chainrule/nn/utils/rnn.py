"""Batches of sequences of different lengths, as ``torch.nn.utils.rnn``.

Padding puts sequences of lengths l_1, ..., l_B into one (L, B, *) tensor, L = max l_b, filling
the missing steps with ``padding_value``. Packing keeps only the real steps: the sequences are
sorted from longest to shortest, and step t holds the ``batch_sizes[t]`` sequences still running
(those with l_b > t), so

    data = cat over t of padded[t, :batch_sizes[t]]        (sum of l_b rows, *)

A recurrent layer given a ``PackedSequence`` steps only the sequences still running, and its final
state for each sequence is the state at that sequence's own last step. The usual pattern:

    packed = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
    output, (h_n, c_n) = lstm(packed)
    output, lengths = pad_packed_sequence(output, batch_first=True)

Every function here is made of differentiable operations, so gradients flow back through packing
and unpacking to the padded input.
"""
from collections import namedtuple
from collections.abc import Iterable

from chainrule import dtypes
from chainrule.autograd.function import shaped_by_values
from chainrule.backend import as_array, xp
from chainrule.creation import full
from chainrule.ops.join import cat, stack
from chainrule.tensor import Tensor, tensor_from_array


def invert_permutation(permutation):
    """The permutation that undoes ``permutation`` (None stays None): inverse[permutation[i]] = i."""
    if permutation is None:
        return None
    inverse = xp.empty_like(permutation._array)
    inverse[permutation._array] = xp.arange(len(inverse), dtype=inverse.dtype)
    return tensor_from_array(inverse)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Sequences of different lengths packed step by step (see the module docstring).

    ``data`` (sum of lengths, *): the steps, step 0 of every sequence first; ``batch_sizes`` (int64,
    one per step): how many sequences are still running at each step; ``sorted_indices``: the
    original batch position of each sorted sequence (None if the batch came sorted);
    ``unsorted_indices``: its inverse, which puts results back in the original order.
    Build it with ``pack_padded_sequence`` or ``pack_sequence``, not directly.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes)), as PyTorch allows
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same packing with ``data.to(*args, **kwargs)``; self when nothing changes."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args, **kwargs):
        return self.to("cpu")

    def cuda(self, *args, **kwargs):
        return self.to("cuda")

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def _converter(dtype):
    def convert(self):
        return self.to(dtype=dtype)

    convert.__doc__ = f"The same packing with its data converted to {dtype}."
    return convert


for _name, _dtype in (
    ("double", dtypes.float64), ("float", dtypes.float32), ("half", dtypes.float16), ("long", dtypes.int64),
    ("int", dtypes.int32), ("short", dtypes.int16), ("char", dtypes.int8), ("byte", dtypes.uint8),
):
    setattr(PackedSequence, _name, _converter(_dtype))


def _lengths_array(lengths):
    """``lengths`` (a list or a 1-d tensor) as an int64 array."""
    if isinstance(lengths, Tensor):
        shaped_by_values("pack_padded_sequence (its lengths)")  # a compiled step runs eagerly
    lengths = lengths._array.astype(dtypes.int64) if isinstance(lengths, Tensor) else as_array(lengths, dtypes.int64)
    if lengths.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.ndim}D tensor")
    return lengths


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (L, B, *) (or (B, L, *) with ``batch_first``) whose sequence b has
    ``lengths[b]`` real steps.

    With ``enforce_sorted=True`` the lengths must already be in decreasing order; otherwise the
    batch is sorted here (longest first, ties keeping their order) and the PackedSequence records
    the permutation, which the recurrent layers and ``pad_packed_sequence`` undo.
    """
    lengths = _lengths_array(lengths)
    if input.numel() == 0:
        raise RuntimeError(f"Cannot pack empty tensors. (pack_padded_sequence got an input of shape {tuple(input.shape)})")
    batch_size = input.shape[0 if batch_first else 1]
    if len(lengths) != batch_size:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} (batch_size={batch_size})")
    if enforce_sorted:
        if (xp.diff(lengths) > 0).any():
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can "
                "pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this "
                "requirement if you do not need ONNX exportability."
            )
        sorted_indices = None
    else:
        order = xp.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = tensor_from_array(order.astype(dtypes.int64))
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if len(lengths) and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0")
    if batch_first:
        input = input.transpose(0, 1)
    if lengths[0] > input.shape[0]:
        raise RuntimeError(
            f"Expected sequence length to be at most the padded length {input.shape[0]}, but got a "
            f"sequence of length {int(lengths[0])}"
        )
    # batch_sizes[t] = how many lengths exceed t (the lengths are sorted, longest first)
    batch_sizes = (lengths[None, :] > xp.arange(int(lengths[0]))[:, None]).sum(axis=1).astype(dtypes.int64)
    data = cat([input[time, :size] for time, size in enumerate(batch_sizes.tolist())])
    return PackedSequence(data, tensor_from_array(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo packing: (padded (T, B, *) or (B, T, *) with ``batch_first``, lengths (B,) int64), in
    the batch's original order. T is the longest length, or ``total_length`` (to pad further, e.g.
    back to the length the batch had before packing)."""
    data, batch_sizes, _, unsorted_indices = sequence
    sizes = batch_sizes.tolist()
    steps = data.split(sizes)
    if total_length is not None:
        if total_length < len(sizes):
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {len(sizes)}"
            )
    batch = sizes[0]
    feature_shape = tuple(data.shape[1:])
    padded_steps = [
        step if step.shape[0] == batch else cat([step, full((batch - step.shape[0], *feature_shape), padding_value, dtype=data.dtype)])
        for step in steps
    ]
    missing_steps = (total_length or len(sizes)) - len(sizes)
    padded_steps += [full((batch, *feature_shape), padding_value, dtype=data.dtype)] * missing_steps
    padded = stack(padded_steps, 0)
    if batch_first:  # a transposed view of the (T, B, *) steps, as PyTorch's (dropout then draws along its memory)
        padded = padded.transpose(0, 1)
    lengths = (batch_sizes._array[None, :] > xp.arange(batch)[:, None]).sum(axis=1).astype(dtypes.int64)
    if unsorted_indices is not None:
        padded = padded.index_select(0 if batch_first else 1, unsorted_indices)
        lengths = lengths[unsorted_indices._array]
    return padded, tensor_from_array(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shapes (l_b, *) into one (L, B, *) tensor (or (B, L, *) with
    ``batch_first``), L = max l_b, each padded with ``padding_value`` on ``padding_side``
    ('right': after its steps, 'left': before them), in the first sequence's dtype."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of type: {type(sequences)}")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if any(sequence.ndim == 0 for sequence in sequences):
        raise RuntimeError("pad_sequence: expected sequences of shape (length, *), but got a 0-d tensor; give each sequence at least one dimension")
    longest = max(sequence.shape[0] for sequence in sequences)
    padded = []
    for sequence in sequences:
        sequence = sequence.to(sequences[0].dtype)  # the first sequence's dtype, as PyTorch's output
        missing = longest - sequence.shape[0]
        if missing:
            padding = full((missing, *sequence.shape[1:]), padding_value, dtype=sequence.dtype)
            sequence = cat([sequence, padding] if padding_side == "right" else [padding, sequence])
        padded.append(sequence)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The inverse of ``pad_sequence``: the list of sequences ``padded[:lengths[b], b]`` (right padding)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [sequence[:length] for sequence, length in zip(padded_sequences, _lengths_array(lengths).tolist())]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences (l_b, *): ``pack_padded_sequence(pad_sequence(sequences), lengths)``."""
    lengths = [sequence.shape[0] for sequence in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences a PackedSequence holds, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


# PyTorch's public names (``from torch.nn.utils.rnn import *`` brings these and no helper of this file's)
__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
    "unpad_sequence", "pack_sequence", "unpack_sequence",
]
