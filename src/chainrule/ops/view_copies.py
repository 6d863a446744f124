"""The ``*_copy`` forms of the view operations: ``chainrule.permute_copy(x, dims)`` gives what
``x.permute(dims)`` gives, in memory of its own (row-major) instead of a view of x's, as PyTorch's
functionalization writes programs without views. Writing into the result leaves x as it was.

Each is its view operation followed by a copy, so its values, errors and gradient are the view's.
Those with one result take ``out=`` (of the result's dtype, resized to its shape); ``unbind_copy``,
``split_copy`` and ``split_with_sizes_copy`` take a list of as many tensors, as PyTorch's do.
"""
import inspect

from chainrule import dtypes
from chainrule.autograd import grad_mode
from chainrule.memory_layout import contiguous_format
from chainrule.ops.registry import SAME_DTYPE, _written_into, public
from chainrule.tensor import Tensor


def _view(input, size=None, dtype=None):
    """``view``: x read in another shape (any shape of as many elements: the copy needs no view of
    x's memory, so x's strides do not matter) or as another dtype of the same element size."""
    if dtype is None and isinstance(size, dtypes.dtype):  # view_copy(x, chainrule.int32)
        size, dtype = None, size
    if dtype is not None:
        return input.view(dtype)
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"view_copy(): argument 'size' (position 2) must be tuple of ints, not {type(size).__name__}")
    return input.reshape(size)


def _slice(input, dim=0, start=None, end=None, step=1):
    """``x[..., start:end:step]`` along ``dim`` (PyTorch's ``aten::slice``); ``step`` positive."""
    if input.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    dim = dim + input.ndim if -input.ndim <= dim < 0 else dim
    if not 0 <= dim < input.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.ndim}, {input.ndim - 1}], but got {dim})")
    if step <= 0:
        raise RuntimeError(f"slice step must be positive (got step={step})")
    return input[(slice(None),) * dim + (slice(start, end, step),)]


def _split(input, split_size, dim=0):
    if not isinstance(split_size, int):
        raise TypeError(f"split_copy(): argument 'split_size' (position 2) must be int, not {type(split_size).__name__}")
    return input.split(split_size, dim)


#: Each ``*_copy`` and its view, a function with PyTorch's parameters.
VIEWS = {
    "view_copy": _view,
    "permute_copy": lambda input, dims: input.permute(dims),
    "transpose_copy": lambda input, dim0, dim1: input.transpose(dim0, dim1),
    "t_copy": lambda input: input.t(),
    "squeeze_copy": lambda input, dim=None: input.squeeze(dim),
    "unsqueeze_copy": lambda input, dim: input.unsqueeze(dim),
    "expand_copy": lambda input, size, *, implicit=False: input.expand(size),
    "select_copy": lambda input, dim, index: input.select(dim, index),
    "slice_copy": _slice,
    "diagonal_copy": lambda input, offset=0, dim1=0, dim2=1: input.diagonal(offset, dim1, dim2),
    "unfold_copy": lambda input, dimension, size, step: input.unfold(dimension, size, step),
    "alias_copy": lambda input: input[...],
    "detach_copy": lambda input: input.detach(),
    "as_strided_copy": lambda input, size, stride, storage_offset=None: input.as_strided(size, stride, storage_offset),
    "unbind_copy": lambda input, dim=0: input.unbind(dim),
    "split_copy": _split,
    "split_with_sizes_copy": lambda input, split_sizes, dim=0: input.split_with_sizes(split_sizes, dim),
}
#: The ones with several results, and whether their ``out`` tensors take them as ``copy_`` does
#: (broadcast and cast, never resized: PyTorch's split_copy) rather than resized to each.
SEVERAL = {"unbind_copy": False, "split_copy": True, "split_with_sizes_copy": False}


def copy_of(name, view):
    """``name``: ``view``'s result (each of its results) copied into memory of its own."""

    def view_copy(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        result = view(input, *args, **kwargs)
        if isinstance(result, tuple):
            return tuple(each.clone(memory_format=contiguous_format) for each in result)
        return result.clone(memory_format=contiguous_format)

    view_copy.__name__ = view_copy.__qualname__ = name
    view_copy.__signature__ = inspect.signature(view)
    view_copy.__doc__ = f"``{name[: -len('_copy')]}``'s result in memory of its own (see ops/view_copies.py)."
    return view_copy


def with_outs(function, copies_into):
    """``function`` (of several results) accepting ``out=``, a list of as many tensors, which it
    fills and returns None: as ``copy_`` does with ``copies_into``, else resized to each result and of
    its dtype. Computed outside the graph, as PyTorch writes its out tensors."""

    def function_with_outs(*args, out=None, **kwargs):
        if out is None:
            return function(*args, **kwargs)
        if not isinstance(out, (tuple, list)) or not all(isinstance(each, Tensor) for each in out):
            raise TypeError(f"{function.__name__}(): argument 'out' must be tuple of Tensors, not {type(out).__name__}")
        with grad_mode.no_grad():
            results = function(*args, **kwargs)
            if len(out) != len(results):
                raise RuntimeError(
                    f"{function.__name__}_out() expected an out= argument of size {len(results)}, got size {len(out)}"
                )
            for result, into in zip(results, out):
                if copies_into:
                    into.copy_(result)
                else:
                    _written_into(result, into, function, same_dtype=True)
        return None

    function_with_outs.__name__ = function.__name__
    function_with_outs.__doc__ = function.__doc__
    function_with_outs.__signature__ = inspect.signature(function)
    return function_with_outs


for _name, _view_of in VIEWS.items():
    _copy = copy_of(_name, _view_of)
    if _name in SEVERAL:
        public(with_outs(_copy, SEVERAL[_name]), method=False)
    else:
        public(_copy, method=False, out=SAME_DTYPE)
