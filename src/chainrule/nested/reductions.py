"""Softmax, layer norm and reductions on nested tensors: once on a jagged tensor's values where
they leave its batch and ragged dims alone, else component by component.

    nt.softmax(-1), F.softmax(nt, dim=1)     # along any dim but the batch one (the ragged one too)
    jagged.sum(-1), jagged.mean(dim=2)       # a non-ragged dim: a nested result (amax, amin too)
    jagged.sum(1), jagged.mean(1)            # the ragged dim: a dense (B, ...) one
    jagged.sum()                             # everything: a dense scalar
    F.layer_norm(nt, (D,)), nn.LayerNorm(D)(nt)   # each component's rows normalized
    strided.sum(-1, keepdim=True)            # the strided layout: its last dim, keepdim only (PyTorch's limits)
"""
from chainrule.memory_layout import strided
from chainrule.nested.dispatch import implements, unsupported
from chainrule.memory_layout import jagged
from chainrule.ops.join import cat, stack
from chainrule.tensor import Tensor


@implements("softmax", "log_softmax")
def softmax(func, args, kwargs):
    """Softmax along ``dim`` of each component (dim 0, across components, is refused)."""
    nested, *rest = args
    dim = kwargs.pop("dim", None) if not rest else rest.pop(0)
    dim = _component_dim(nested, dim, func.__name__)
    if nested.layout is jagged and nested.keeps_rows(dim + 1):
        return nested.with_buffer(func(Tensor(nested), dim, *rest, **kwargs))  # every row at once, on values
    return type(nested).packed([func(piece, dim, *rest, **kwargs) for piece in nested.components()], like=nested)


@implements("sum", "mean", "amax", "amin")
def reduce(func, args, kwargs):
    """``sum``/``mean``/``amax``/``amin`` over ``dim`` (an int or a list), as PyTorch allows it for the layout."""
    nested, *rest = args
    dim = rest.pop(0) if rest else kwargs.pop("dim", None)
    keepdim = rest.pop(0) if rest else kwargs.pop("keepdim", False)
    name = func.__name__
    if nested.layout is strided:
        return _strided_reduce(func, nested, dim, keepdim, kwargs)
    if dim is None:
        dims = list(range(nested.dim()))
    else:
        dims = sorted({each % nested.dim() for each in ((dim,) if isinstance(dim, int) else dim)})
    ragged = nested._ragged_idx
    if 0 in dims and ragged not in dims:
        raise RuntimeError(f"{name}(): reducing along the batch dimension but not the ragged dimension is not supported for nested tensors")
    inner = [each - 1 for each in dims if each != 0]  # the components' dims, and values' (the batch dim aside)
    if 0 in dims:  # every row of every component at once: the components end to end
        result = func(cat(nested.components(), ragged - 1), inner, keepdim, **kwargs)
        return result.unsqueeze(0) if keepdim else result
    if ragged in dims:  # each component's rows reduced: a dense (B, ...)
        return stack([func(piece, inner, keepdim, **kwargs) for piece in nested.components()])
    result = nested.with_buffer(func(Tensor(nested), inner, keepdim, **kwargs))  # the rows' own dims: once, on values
    result._ragged_idx = ragged - (0 if keepdim else sum(1 for each in dims if each < ragged))
    return result


def _strided_reduce(func, nested, dim, keepdim, kwargs):
    """PyTorch's strided nested reductions: ``sum`` of the last dim, keepdim=True."""
    if func.__name__ != "sum" or dim is None:
        raise unsupported(func.__name__, nested)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) != 1 or dims[0] % nested.dim() != nested.dim() - 1:
        raise RuntimeError(f"NestedTensor can only be reduced across the last dimension for now got dimension {dims[0]} instead.")
    if not keepdim:
        raise RuntimeError("NestedTensor always requires keepdim=True for now.")
    return type(nested).packed([func(piece, -1, True, **kwargs) for piece in nested.components()], like=nested)


def _component_dim(nested, dim, operation):
    """The dim of a component that the nested tensor's ``dim`` is (a nested dim less the batch one)."""
    if dim is None:
        raise RuntimeError(f"{operation}(): give the dim to compute along (a nested tensor has no implicit one)")
    dim = dim % nested.dim()
    if dim == 0:
        raise RuntimeError(f"{operation}(): not supported along dim 0, the batch of a nested tensor (it is across components)")
    return dim - 1


@implements("layer_norm")
def layer_norm(func, args, kwargs):
    """``F.layer_norm(nt, normalized_shape, ...)``: each component normalized over its last dims."""
    nested, normalized_shape, *rest = args
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if nested.layout is jagged and nested.keeps_rows(*range(-len(normalized_shape), 0)):
        return nested.with_buffer(func(Tensor(nested), normalized_shape, *rest, **kwargs))  # every row at once, on values
    return type(nested).packed([func(piece, normalized_shape, *rest, **kwargs) for piece in nested.components()], like=nested)
