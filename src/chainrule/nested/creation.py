"""Making a nested tensor from a list of tensors, or from jagged values and offsets.

    nested_tensor([a, b])                                  # a copy: a new leaf (requires_grad=...)
    as_nested_tensor([a, b])                               # keeps the history: gradients reach a and b
    nested_tensor([a, b], layout=chainrule.jagged)         # a (2, D), b (5, D): values (7, D)
    nested_tensor_from_jagged(values, offsets)             # a view of values: no copy

The components must have one number of dimensions (at least one, for the jagged layout, whose
components may differ in their first dimension only).
"""
from chainrule import dtypes
from chainrule.creation import as_tensor
from chainrule.device import check_device
from chainrule.memory_layout import strided
from chainrule.nested.jagged import JaggedNestedTensor, from_values, offsets_of
from chainrule.memory_layout import jagged
from chainrule.nested.strided import StridedNestedTensor
from chainrule.ops.join import cat
from chainrule.tensor import Tensor, detached


def nested_tensor(tensor_list, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A new nested tensor (a leaf) holding copies of ``tensor_list``'s tensors (or lists of numbers);
    ``layout``: ``chainrule.strided`` (the default) or ``chainrule.jagged``."""
    check_device(device)
    pieces = [detached(each) if isinstance(each, Tensor) else as_tensor(each) for each in tensor_list]
    layout = _checked_layout(layout, "nested_tensor")
    _check_same_dims(pieces, "nested_tensor")
    if layout is strided:
        dtype = dtype if dtype is not None else (pieces[0].dtype if pieces else None)
        nested = StridedNestedTensor.packed([piece.to(dtype) for piece in pieces], dtype=dtype)
        return nested.leaf_with_buffer(detached(nested).clone(), requires_grad)
    ragged = _ragged_dim(pieces)
    values = cat(pieces, ragged)
    values = (values if dtype is None else values.to(dtype)).clone()
    lengths = [piece.shape[ragged] for piece in pieces]
    return from_values(values, offsets_of(lengths), ragged_idx=ragged + 1, requires_grad=requires_grad)


def as_nested_tensor(ts, dtype=None, device=None, layout=None):
    """A nested tensor of ``ts`` (a list of tensors, or a tensor: its rows) that keeps their history:
    the gradient of the nested tensor flows back into them. A nested tensor of that layout is
    returned as it is."""
    check_device(device)
    layout = _checked_layout(layout, "as_nested_tensor")
    if getattr(ts, "is_nested", False) and ts.layout is layout and dtype in (None, ts.dtype):
        return ts
    if isinstance(ts, Tensor):
        ts = ts.unbind(0)
    elif not isinstance(ts, (list, tuple)) or not all(isinstance(each, Tensor) for each in ts):
        raise TypeError(f"as_nested_tensor(): expected a tensor or a list of tensors, got {type(ts).__name__}")
    pieces = [each if dtype is None else each.to(dtype) for each in ts]
    _check_same_dims(pieces, "as_nested_tensor")
    if layout is strided:
        return StridedNestedTensor.packed(pieces, dtype=dtype)
    return JaggedNestedTensor.packed(pieces, ragged_idx=_ragged_dim(pieces) + 1)


def nested_tensor_from_jagged(values, offsets=None, lengths=None, jagged_dim=None, min_seqlen=None, max_seqlen=None):
    """The jagged nested tensor viewing ``values`` (a view: gradients flow back into it): component
    ``i`` is ``values[offsets[i] : offsets[i] + lengths[i]]`` along dim ``jagged_dim - 1``, with
    ``lengths[i] = offsets[i + 1] - offsets[i]`` where ``lengths`` is None; given lengths only, the
    offsets are their running sum."""
    if offsets is None:
        if lengths is None:
            raise RuntimeError("nested_tensor_from_jagged(): At least one of offsets or lengths is required.")
        offsets, lengths = offsets_of(lengths._array), None
    jagged_dim = 1 if jagged_dim is None else jagged_dim
    if not 1 <= jagged_dim <= values.dim():
        raise RuntimeError(
            f"nested_tensor_from_jagged(): jagged_dim={jagged_dim} is no dim of the nested tensor that values of shape "
            f"{tuple(values.shape)} make (give 1 to {values.dim()})"
        )
    return from_values(Tensor(values), offsets, lengths, ragged_idx=jagged_dim)


def _checked_layout(layout, operation):
    layout = strided if layout is None else layout
    if layout is not strided and layout is not jagged:
        raise RuntimeError(f"{operation}(): a nested tensor's layout is chainrule.strided or chainrule.jagged, got {layout!r}")
    return layout


def _check_same_dims(pieces, operation):
    for index, piece in enumerate(pieces):
        if piece.dim() != pieces[0].dim():
            raise RuntimeError(
                f"All Tensors given to {operation} must have the same dimension. Found dimension {piece.dim()} for Tensor "
                f"at index {index} and dimension {pieces[0].dim()} for Tensor at index 0."
            )


def _ragged_dim(pieces):
    """The one dim of the components along which their sizes differ (0 where none does), or
    PyTorch's refusals of a jagged layout's components: none, 0-d ones, mixed dtypes, or sizes that
    differ in more than one dim."""
    if not pieces:
        raise RuntimeError("Cannot construct a nested tensor from an empty tensor list")
    if pieces[0].dim() == 0:
        raise RuntimeError("Cannot construct a nested tensor from a list of zero-dim tensors")
    if any(piece.dtype != pieces[0].dtype for piece in pieces):
        found = sorted({dtypes.dtype_name(piece._array.dtype) for piece in pieces})
        raise RuntimeError(f"When constructing a nested tensor, all tensors in list must have the same dtype (found {', '.join(found)})")
    differing = [dim for dim in range(pieces[0].dim()) if len({piece.shape[dim] for piece in pieces}) > 1]
    if len(differing) > 1:
        raise RuntimeError(
            "Cannot represent given tensor list as a nested tensor with the jagged layout. Note that the jagged layout "
            "only allows for a single ragged dimension. For example: (B, *, D_0, D_1, ..., D_N), with ragged * dim. "
            f"(The components' shapes: {[tuple(piece.shape) for piece in pieces]}.)"
        )
    return differing[0] if differing else 0
