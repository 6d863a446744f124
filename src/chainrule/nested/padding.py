"""``to_padded_tensor``: a nested tensor as one dense tensor, each component padded at its end.

    nt = nested_tensor([a, b])                # a (2, 3), b (4, 3)
    to_padded_tensor(nt, 0.0)                 # (2, 4, 3): a's 2 rows, then 2 rows of zeros; b's 4 rows

``output_size`` (the whole shape, batch included) pads further. Differentiable: the gradient of
each component is its part of the padded tensor's gradient.
"""
from chainrule.memory_layout import jagged
from chainrule.nested.tensor import NestedTensor
from chainrule.nn.functional import pad
from chainrule.ops.join import stack


def to_padded_tensor(input, padding, output_size=None):
    """``input`` (a nested tensor of B components of d dims) as a dense tensor (B, *largest sizes),
    the rest filled with ``padding``; sizes ``output_size`` (B, ...) where given, no smaller (a
    jagged tensor takes only its ragged dim's, as PyTorch's)."""
    if not getattr(input, "is_nested", False):
        raise RuntimeError(f"to_padded_tensor(): expected a nested tensor, got a {type(input).__name__} (nothing to pad)")
    pieces = input.components()
    dims = input.dim() - 1
    largest = [max((piece.shape[dim] for piece in pieces), default=0) for dim in range(dims)]
    if output_size is not None:
        wanted = list(output_size[1:])
        if input.layout is jagged:  # PyTorch's: only the ragged dim's size is taken
            ragged = input._ragged_idx - 1
            wanted = [*largest[:ragged], *wanted[ragged:ragged + 1], *largest[ragged + 1:]]
        if len(output_size) != dims + 1 or output_size[0] != len(pieces) or any(
            size < needed for size, needed in zip(wanted, largest)
        ):
            raise RuntimeError(
                f"to_padded_tensor(): output_size {tuple(output_size)} must have {dims + 1} sizes, {len(pieces)} first "
                f"(the components), and no size below the largest component's {tuple(largest)}"
            )
        largest = wanted
    padded = []
    for piece in pieces:
        amounts = []
        for dim in reversed(range(dims)):  # F.pad's order: the last dim's (before, after) first
            amounts += [0, largest[dim] - piece.shape[dim]]
        padded.append(pad(piece, amounts, value=padding))
    return stack(padded)


NestedTensor.to_padded_tensor = to_padded_tensor
