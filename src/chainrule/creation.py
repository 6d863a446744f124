"""Making tensors: from data, filled with a constant, ranges, and random samples.

Each factory takes ``dtype`` and ``requires_grad`` as PyTorch's do. Floating factories give the
default dtype (float32); random ones draw from the generator seeded by ``manual_seed``.
"""
import math
import warnings

from chainrule import dtypes
from chainrule.caller_warnings import warn_at_caller
from chainrule.autograd.function import made_from_arguments
from chainrule.backend import xp
from chainrule.random import numpy_generator
from chainrule.ops.registry import public
from chainrule.device import check_device
from chainrule.tensor import Tensor, _to_raw, tensor_from_array


def _finish(array, requires_grad, device=None):
    check_device(device)
    result = tensor_from_array(array)
    if requires_grad:
        result.requires_grad = True
    return result


def _from_arguments(array, requires_grad, device=None):
    """``_finish`` for the factories whose values follow from their arguments alone (``zeros``,
    ``full``, ``arange``, ``eye``...): a compiled function remakes them on each call."""
    check_device(device)
    return made_from_arguments(array, requires_grad)


def _shape(size):
    """Sizes given as ``zeros(2, 3)`` or ``zeros((2, 3))`` (``zeros(size=(2, 3))`` arrives as the
    latter: see ``registry.with_pytorch_keywords``), checked as PyTorch checks them."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    shape = tuple(int(side) for side in size)
    if any(side < 0 for side in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    return shape


def _float_dtype(dtype):
    return xp.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


@public(method=False)
def tensor(data, dtype=None, requires_grad=False, name=None, device=None):
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays or tensors).

    The dtype is inferred as PyTorch does: Python floats give float32, ints int64, bools bool;
    NumPy arrays keep theirs. ``name`` labels the tensor in graph drawings and traces.
    """
    if isinstance(data, Tensor):
        warn_copy_construct("torch.tensor(sourceTensor)")
        array = data.array.copy() if dtype is None else data.array.astype(dtype)
    else:
        raw = _to_raw(data)
        array = xp.array(raw, dtype=dtype if dtype is not None else dtypes.infer_dtype(raw))
    result = _finish(array, requires_grad, device)
    result.name = name
    return result


def warn_copy_construct(call):
    """PyTorch's warning for a tensor made from a tensor by ``call`` (it copies, and leaves the graph)."""
    warn_at_caller(
        "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
        f"sourceTensor.detach().clone().requires_grad_(True), rather than {call}."
    )


@public(method=False)
def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with it when it already is an array of that dtype
    (``device``: only the CPU, as everywhere in chainrule)."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, xp.ndarray) and (dtype is None or data.dtype == dtype):
        dtypes.check_convertible(data.dtype)
        return tensor_from_array(data)
    return tensor(data, dtype=dtype)


@public(method=False, out=True)
def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _from_arguments(xp.zeros(_shape(size), dtype=_float_dtype(dtype)), requires_grad, device)


@public(method=False, out=True)
def ones(*size, dtype=None, requires_grad=False, device=None):
    return _from_arguments(xp.ones(_shape(size), dtype=_float_dtype(dtype)), requires_grad, device)


@public(method=False, out=True)
def empty(*size, dtype=None, requires_grad=False, device=None):
    return _from_arguments(xp.empty(_shape(size), dtype=_float_dtype(dtype)), requires_grad, device)


@public(method=False)
def scalar_tensor(s, dtype=None, device=None, requires_grad=False):
    """The number ``s`` as a 0-d tensor of the default float dtype (or ``dtype``), whatever its type."""
    return _from_arguments(xp.asarray(s, dtype=_float_dtype(dtype)), requires_grad, device)


@public(method=False, out=True)
def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    if dtype is None:
        dtype = dtypes.infer_dtype(fill_value)
    return _from_arguments(xp.full(_shape((size,)), fill_value, dtype=dtype), requires_grad, device)


@public(method=False)
def zeros_like(input, dtype=None, requires_grad=False, device=None):
    return _from_arguments(xp.zeros(input.array.shape, dtype=dtype or input.array.dtype), requires_grad, device)


@public(method=False)
def ones_like(input, dtype=None, requires_grad=False, device=None):
    return _from_arguments(xp.ones(input.array.shape, dtype=dtype or input.array.dtype), requires_grad, device)


@public(method=False)
def empty_like(input, dtype=None, requires_grad=False, device=None):
    return _from_arguments(xp.empty(input.array.shape, dtype=dtype or input.array.dtype), requires_grad, device)


@public(method=False)
def full_like(input, fill_value, dtype=None, requires_grad=False, device=None):
    return _from_arguments(xp.full(input.array.shape, fill_value, dtype=dtype or input.array.dtype), requires_grad, device)


@public(method=False, out=True)
def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Numbers from ``start`` up to (not including) ``end``; int64 when all arguments are ints."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange: upper bound and larger bound inconsistent with step sign (start {start}, end {end}, step {step})"
        )
    if dtype is None:
        whole = all(isinstance(value, int) for value in (start, end, step))
        dtype = dtypes.int64 if whole else dtypes.get_default_dtype()
    return _from_arguments(xp.arange(start, end, step).astype(dtype), requires_grad, device)


@public(method=False, out=True)
def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    """``steps`` numbers evenly spaced from ``start`` to ``end``, both included."""
    return _from_arguments(xp.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad, device)


@public(method=False, out=True)
def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False, device=None):
    """``steps`` numbers from base^start to base^end whose logarithms are evenly spaced:
    base ** linspace(start, end, steps)."""
    powers = float(base) ** xp.linspace(start, end, steps)
    return _from_arguments(powers.astype(_float_dtype(dtype)), requires_grad, device)


@public(method=False, name="range", out=True)
def range_(start, end, step=1, dtype=None, requires_grad=False, device=None):
    """Deprecated, as in PyTorch: numbers from ``start`` to ``end`` *included*, in the default
    float dtype; use ``arange`` (end excluded) instead."""
    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its behavior is "
        "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in [start, end).",
        UserWarning,
        stacklevel=2,
    )
    if step == 0 or (end - start) * step < 0:
        raise RuntimeError(f"range: upper bound and larger bound inconsistent with step sign (start {start}, end {end}, step {step})")
    count = int(math.floor((end - start) / step)) + 1
    return _from_arguments((xp.arange(count) * step + start).astype(_float_dtype(dtype)), requires_grad, device)


@public(method=False)
def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """``obj`` as a tensor, sharing its memory where it can (a tensor itself, or a NumPy array of
    the dtype asked): ``copy=True`` always copies, ``copy=False`` refuses to."""
    check_device(device)
    if isinstance(obj, Tensor):
        result = obj if dtype is None or xp.dtype(dtype) == obj.array.dtype else obj.to(dtype)
        shares = result is obj
    elif isinstance(obj, xp.ndarray):
        shares = dtype is None or xp.dtype(dtype) == obj.dtype
        result = tensor_from_array(obj if shares else obj.astype(dtype))
    else:
        result, shares = tensor(obj, dtype=dtype), False
    if copy is False and not shares:
        raise ValueError("asarray: copy=False, but obj cannot be used without a copy (another dtype, or not an array)")
    if copy and shares:
        result = tensor_from_array(result.array.copy())
    if requires_grad:
        result.requires_grad = True
    return result


@public(method=False, out=True)
def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    return _from_arguments(xp.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device)


@public(method=False, out=True)
def rand(*size, generator=None, dtype=None, requires_grad=False, device=None):
    """Samples of the uniform distribution on [0, 1)."""
    values = numpy_generator(generator).random(_shape(size))
    return _finish(values.astype(_float_dtype(dtype)), requires_grad, device)


@public(method=False, out=True)
def randn(*size, generator=None, dtype=None, requires_grad=False, device=None):
    """Samples of the standard normal distribution N(0, 1)."""
    values = numpy_generator(generator).standard_normal(_shape(size))
    return _finish(values.astype(_float_dtype(dtype)), requires_grad, device)


@public(method=False, out=True)
def randint(low, high=None, size=None, generator=None, dtype=None, device=None):
    """Integers drawn uniformly from [low, high) (``randint(high, size)`` also works)."""
    if size is None:
        low, high, size = 0, low, high
    values = numpy_generator(generator).integers(low, high, _shape((size,)))
    return _finish(values.astype(dtype or dtypes.int64), False, device)


@public(method=False, out=True)
def randperm(n, generator=None, dtype=None, requires_grad=False, device=None):
    """A random permutation of 0 .. n-1."""
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    return _finish(numpy_generator(generator).permutation(n).astype(dtype or dtypes.int64), requires_grad, device)


@public(method=False)
def rand_like(input, dtype=None, requires_grad=False, device=None):
    return rand(*input.array.shape, dtype=dtype or input.array.dtype, requires_grad=requires_grad, device=device)


@public(method=False)
def randn_like(input, dtype=None, requires_grad=False, device=None):
    return randn(*input.array.shape, dtype=dtype or input.array.dtype, requires_grad=requires_grad, device=device)
