"""Changing the dims of a nested tensor's components (never the batch dim, dim 0):

    nt.transpose(1, 2)            # (B, j, H, D) -> (B, H, j, D): a jagged one transposes its values
    nt.reshape(B, -1, H, D)       # strided: -1 keeps each component's size there (PyTorch's rule)
    nt.view(B, -1, H, D)          # jagged: -1 (or j) for the ragged dim; the other dims reshaped
    nt.unsqueeze(-1), nt.squeeze(-1), nt.contiguous(), chainrule.unbind(nt)
    chainrule.cat([nt, other], dim=-1)   # along a dim after the batch one (not a jagged one's ragged dim)
"""
from chainrule.memory_layout import strided
from chainrule.nested.dispatch import implements
from chainrule.memory_layout import jagged
from chainrule.tensor import Tensor


@implements("transpose", "swapaxes", "swapdims")
def transpose(func, args, kwargs):
    nested, first, second = args
    first, second = first % nested.dim(), second % nested.dim()
    if 0 in (first, second):
        raise RuntimeError(f"transpose(): not supported for nested tensors along dim 0, the batch (got dims {first} and {second})")
    if nested.layout is strided:
        return type(nested).packed([piece.transpose(first - 1, second - 1) for piece in nested.components()])
    result = nested.with_buffer(Tensor(nested).transpose(first - 1, second - 1))
    result._ragged_idx = {first: second, second: first}.get(nested._ragged_idx, nested._ragged_idx)
    return result


@implements("reshape", "view")
def reshape(func, args, kwargs):
    """The components reshaped: a strided one's each to ``shape[1:]`` (-1 keeping the component's
    size there); a jagged one's values, its batch and ragged dims kept (given as -1 or as they are)."""
    nested, *shape = args
    shape = list(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else list(shape)
    name = func.__name__
    if shape[0] not in (-1, len(nested)):
        raise RuntimeError(f"{name}(): a nested tensor keeps its batch dim ({len(nested)} components), got shape {tuple(shape)}")
    if nested.layout is strided:
        pieces = [
            getattr(piece, name)([piece.shape[index] if size == -1 else size for index, size in enumerate(shape[1:])])
            for piece in nested.components()
        ]
        return type(nested).packed(pieces)
    ragged = nested._ragged_idx
    if ragged != 1 or len(shape) < 2 or (shape[1] != -1 and shape[1] != nested._ragged_size):
        raise RuntimeError(
            f"{name}(): a jagged nested tensor of shape {tuple(nested.shape)} reshapes its dims after the ragged one only "
            f"(give shape (B, -1, ...)), got {tuple(shape)}"
        )
    return nested.with_buffer(getattr(Tensor(nested), name)(nested._array.shape[0], *shape[2:]))


@implements("unsqueeze", "squeeze")
def unsqueeze_or_squeeze(func, args, kwargs):
    """``unsqueeze(dim)`` / ``squeeze(dim)`` of a dim after the batch one (a jagged tensor's
    ragged one is never squeezed)."""
    nested, *rest = args
    name = func.__name__
    if not rest and "dim" not in kwargs:
        raise RuntimeError(f"{name}(): give the dim for a nested tensor (its batch and ragged dims are never squeezed)")
    added = 1 if name == "unsqueeze" else -1
    dim = (rest[0] if rest else kwargs["dim"]) % (nested.dim() + max(added, 0))
    if dim == 0 or nested.layout is jagged and name == "squeeze" and dim == nested._ragged_idx:
        raise RuntimeError(f"{name}(): not supported for a nested tensor at dim {dim} (its batch or ragged dim)")
    if nested.layout is strided:
        return type(nested).packed([getattr(piece, name)(dim - 1) for piece in nested.components()])
    result = nested.with_buffer(getattr(Tensor(nested), name)(dim - 1))
    result._ragged_idx = nested._ragged_idx + (added if dim <= nested._ragged_idx else 0)
    return result


@implements("cat", "concat", "concatenate")
def cat(func, args, kwargs):
    """``cat(nested tensors, dim)`` along a dim after the batch one: jagged ones cut alike, along
    a dim that is not their ragged one, join their values; strided ones join component by component."""
    tensors, *rest = args
    dim = (rest[0] if rest else kwargs.get("dim", 0)) % tensors[0].dim()
    first = tensors[0]
    if dim == 0 or not all(getattr(each, "is_nested", False) and each.layout is first.layout for each in tensors):
        raise RuntimeError(f"{func.__name__}(): nested tensors of one layout join along a dim after the batch one (got dim {dim})")
    if first.layout is strided:
        return type(first).packed([func(pieces, dim - 1) for pieces in zip(*(each.components() for each in tensors))])
    if dim == first._ragged_idx or any(
        each._ragged_idx != first._ragged_idx or each.ragged_lengths() != first.ragged_lengths() for each in tensors
    ):
        raise RuntimeError(
            f"{func.__name__}(): jagged nested tensors join along a dim other than their ragged one ({first._ragged_idx}), "
            f"their components of the same lengths; got dim {dim} and lengths {[each.ragged_lengths() for each in tensors]}"
        )
    return first.with_buffer(func([Tensor(each) for each in tensors], dim - 1))


@implements("contiguous")
def contiguous(func, args, kwargs):
    """A jagged tensor narrowed (lengths set) or transposed packed afresh; any other is contiguous already."""
    nested = args[0]
    return nested if nested.is_contiguous() else type(nested).packed(nested.components(), ragged_idx=nested._ragged_idx)


@implements("unbind")
def unbind(func, args, kwargs):
    return args[0].unbind(*args[1:], **kwargs)


@implements("unflatten")
def unflatten(func, args, kwargs):
    """``unflatten(dim, sizes)`` of a dim after the batch one (not the ragged one)."""
    nested, *rest = args
    dim = (rest[0] if rest else kwargs["dim"]) % nested.dim()
    sizes = rest[1] if len(rest) > 1 else kwargs["sizes"]
    return _reshaped_dims(nested, "unflatten", [dim], (dim - 1, sizes), len(sizes) - 1)


@implements("flatten")
def flatten(func, args, kwargs):
    """``flatten(start_dim, end_dim)`` of dims after the batch one (not the ragged one)."""
    nested, *rest = args
    start = (rest[0] if rest else kwargs.get("start_dim", 0)) % nested.dim()
    end = (rest[1] if len(rest) > 1 else kwargs.get("end_dim", -1)) % nested.dim()
    return _reshaped_dims(nested, "flatten", list(range(start, end + 1)), (start - 1, end - 1), start - end)


def _reshaped_dims(nested, name, dims, component_args, added):
    """``nested`` with the component method ``name(*component_args)`` applied, which reshapes its
    ``dims`` (nested dims) into ``len(dims) + added`` ones: per component (strided), or on the
    values (jagged), whose ragged dim moves by ``added`` where it comes after them."""
    if 0 in dims:
        raise RuntimeError(f"{name}(): not supported for nested tensors across dim 0, the batch")
    if nested.layout is strided:
        return type(nested).packed([getattr(piece, name)(*component_args) for piece in nested.components()])
    if nested._ragged_idx in dims and len(dims) > 1:
        raise RuntimeError(f"{name}(): not supported for a jagged nested tensor across its ragged dim {nested._ragged_idx}")
    result = nested.with_buffer(getattr(Tensor(nested), name)(*component_args))
    result._ragged_idx = nested._ragged_idx + (added if nested._ragged_idx > dims[-1] else 0)
    return result


@implements("chunk", "split")
def chunk(func, args, kwargs):
    """``chunk(chunks, dim)`` / ``split(size, dim)`` along a dim after the batch one (not the ragged
    one): a tuple of nested tensors."""
    nested, amount, *rest = args
    dim = (*rest, *kwargs.values(), 0)[0] % nested.dim()
    if dim == 0 or nested.layout is jagged and dim == nested._ragged_idx:
        raise RuntimeError(f"{func.__name__}(): not supported for a nested tensor along dim {dim} (the batch or the ragged dim)")
    if nested.layout is jagged:
        return tuple(nested.with_buffer(part) for part in getattr(Tensor(nested), func.__name__)(amount, dim - 1))
    parts = [getattr(piece, func.__name__)(amount, dim - 1) for piece in nested.components()]
    return tuple(type(nested).packed(list(pieces)) for pieces in zip(*parts))
