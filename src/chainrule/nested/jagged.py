"""The jagged layout: components that differ in one dimension only, the ragged one.

    nt = nested_tensor([a, b], layout=chainrule.jagged)     # a (2, 3), b (4, 3)
    nt.values()       # (6, 3): a's rows, then b's
    nt.offsets()      # tensor([0, 2, 6]): component i is values[offsets[i]:offsets[i + 1]]
    nt.shape          # Size([2, j1, 3]): j1, the ragged size (nested_int.py)

The packed tensor is ``values``: the nested tensor's dims but the batch one, the ragged one
(``_ragged_idx``, 1 unless transposed) holding all components' rows end to end. A component may
take fewer rows than the offsets give it (``_lengths``, set by ``nested.narrow``): then the
nested tensor is not contiguous, as PyTorch's.
"""
from chainrule.backend import xp
from chainrule.memory_layout import jagged
from chainrule.nested.nested_int import NestedInt
from chainrule.nested.tensor import NestedTensor, adopted
from chainrule.ops.join import cat
from chainrule.tensor import Tensor, shape_of, tensor_from_array


class JaggedNestedTensor(NestedTensor):
    """A nested tensor of the jagged layout: values, offsets (B + 1), lengths (B, or None), ragged dim."""

    __slots__ = ("_offsets", "_lengths", "_ragged_idx", "_ragged_size")
    layout = jagged

    def components(self):
        values = Tensor(self)
        starts = self._offsets._array[:-1].tolist()
        return [values.narrow(self._ragged_idx - 1, start, length) for start, length in zip(starts, self.ragged_lengths())]

    def ragged_lengths(self):
        """Each component's size along the ragged dim, a list of ints."""
        return (self._lengths._array if self._lengths is not None else xp.diff(self._offsets._array)).tolist()

    def keeps_rows(self, *dims):
        """Whether an operation on the nested ``dims`` (negative ones count from the end) leaves
        the batch and the ragged dims alone: then it may run once on values, whose dim ``d - 1``
        each nested dim ``d`` is, rather than once per component."""
        return all(dim % self.dim() not in (0, self._ragged_idx) for dim in dims)

    @classmethod
    def packed(cls, pieces, like=None, ragged_idx=None):
        """The jagged nested tensor of ``pieces``, ragged along their dim ``ragged_idx - 1`` (like's
        ragged dim where None); it shares ``like``'s offsets (and so its ragged size) where the
        pieces have its lengths."""
        ragged_idx = like._ragged_idx if ragged_idx is None else ragged_idx
        values = cat(pieces, ragged_idx - 1)
        lengths = [piece.shape[ragged_idx - 1] for piece in pieces]
        if like is not None and like._lengths is None and lengths == like.ragged_lengths():
            return like.with_buffer(values) if ragged_idx == like._ragged_idx else from_values(values, like._offsets, ragged_idx=ragged_idx)
        return from_values(values, offsets_of(lengths), ragged_idx=ragged_idx)

    # ------------------------------------------------------------------ reading it
    def offsets(self):
        """Where each component starts in values along the ragged dim, and the end: (B + 1,) int64."""
        return self._offsets

    def lengths(self):
        """Each component's number of rows where they are not the offsets' differences (else None)."""
        return self._lengths

    def dim(self):
        return self._array.ndim + 1

    def size(self, dim=None):
        """``(B, ..., jN, ...)``: the number of components, then values' sizes with the ragged size ``jN``."""
        sizes = [len(self._offsets) - 1, *self._array.shape]
        sizes[self._ragged_idx] = self._ragged_size
        return shape_of(sizes) if dim is None else sizes[dim]

    def is_contiguous(self, memory_format=None):
        """Whether the components lie end to end in values, themselves laid out row-major (not a
        narrowed or transposed nested tensor), as PyTorch's."""
        return self._lengths is None and Tensor(self).is_contiguous()

    def __repr__(self):
        """PyTorch's print: ``NestedTensor(size=(2, j1, 3), offsets=tensor([0, 2, 5]), contiguous=True)``."""
        parts = [f"size={tuple(self.size())}", f"offsets={self._offsets!r}"]
        if self.grad_fn is not None:
            parts.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            parts.append("requires_grad=True")
        parts.append(f"contiguous={self.is_contiguous()}")
        return f"NestedTensor({', '.join(parts)})"


def offsets_of(lengths):
    """The offsets of components of ``lengths`` rows: (B + 1,) int64, starting at 0."""
    return tensor_from_array(xp.concatenate([[0], xp.cumsum(lengths, dtype=xp.int64)]).astype(xp.int64))


def from_values(values, offsets, lengths=None, ragged_idx=1, requires_grad=None):
    """The jagged nested tensor over ``values`` (a new plain tensor, which it becomes; a new leaf on
    its memory where ``requires_grad`` is given), cut by ``offsets`` and ``lengths``; a new ragged size."""
    if requires_grad is None:
        result = adopted(values, JaggedNestedTensor)
    else:
        result = Tensor._make_subclass(JaggedNestedTensor, values, requires_grad)
    result._offsets, result._lengths, result._ragged_idx, result._ragged_size = offsets, lengths, ragged_idx, NestedInt()
    return result
