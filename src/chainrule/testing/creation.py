"""``chainrule.testing.make_tensor``: random tensors for tests, as ``torch.testing.make_tensor``.

Values are drawn uniformly from [low, high): by default [-9, 9) for floats, the integers -9 to 9
for integer dtypes (0 to 9 for uint8), False or True for bool; ``low`` and ``high`` are clamped
to what the dtype holds (and rounded up to integers for integer dtypes). ``exclude_zero``
replaces every 0 drawn (by the smallest positive normal float, or 1); ``noncontiguous`` returns a
strided view of a larger tensor, for tests of operations on views; ``memory_format`` lays the
values out in that order (``channels_last``...). ``device`` is required, as in PyTorch.
"""
import math
import numbers
import warnings

from chainrule import dtypes
from chainrule.creation import empty, randint
from chainrule.ops.complex_numbers import view_as_real
from chainrule.type_info import finfo, iinfo


def make_tensor(
    *shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False, exclude_zero=False,
    memory_format=None,
):
    """A tensor of ``shape`` (sizes, or one sequence of them) and ``dtype`` with random values
    (see the module docstring)."""
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError(
            f"The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
            f"noncontiguous={noncontiguous} and memory_format={memory_format}"
        )
    inexact = dtype.is_floating_point or dtype.is_complex
    if requires_grad and not inexact:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got dtype={dtype}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    drawn_shape = (*shape[:-1], 2 * shape[-1]) if noncontiguous else shape
    if dtype == dtypes.bool_:
        low, high = _interval(dtype, low, high, lowest=0, beyond=2, default=(0, 2))
        result = randint(low, high, drawn_shape, dtype=dtype, device=device)
    elif not inexact:
        info = iinfo(dtype)
        low, high = _interval(dtype, low, high, lowest=info.min, beyond=info.max + (dtype != dtypes.int64), default=(-9, 10))
        result = randint(low, high, drawn_shape, dtype=dtype, device=device)
    else:
        info = finfo(dtype)
        low, high = _interval(dtype, low, high, lowest=info.min, beyond=info.max, default=(-9, 9))
        result = empty(drawn_shape, dtype=dtype, device=device)
        parts = view_as_real(result) if dtype.is_complex else result  # complex: both parts drawn
        if high - low >= info.max:  # the width itself would overflow: draw half of it, doubled
            parts.uniform_(low / 2, high / 2).mul_(2)
        else:
            parts.uniform_(low, high)
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = finfo(dtype).tiny if inexact else 1
    if inexact:
        result.requires_grad = requires_grad
    return result


def _interval(dtype, low, high, *, lowest, beyond, default):
    """``[low, high)`` checked and clamped to ``[lowest, beyond)``; defaults for what is None;
    integers rounded up for integer dtypes. ``low == high`` still works for a floating dtype (every
    value is ``low``), with PyTorch's FutureWarning: ``full`` says it better."""
    low = default[0] if low is None else low
    high = default[1] if high is None else high
    if any(isinstance(value, float) and math.isnan(value) for value in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    inexact = dtype.is_floating_point or dtype.is_complex
    if low == high and inexact:
        warnings.warn(
            "Passing `low==high` to `chainrule.testing.make_tensor` for floating or complex types is deprecated "
            "since 2.1 and will be removed in 2.3. Use chainrule.full(...) instead.",
            FutureWarning,
            stacklevel=3,
        )
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= beyond:
        raise ValueError(
            f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} only supports [{lowest}, {beyond})"
        )
    low, high = min(max(low, lowest), beyond), min(max(high, lowest), beyond)
    return (low, high) if inexact else (math.ceil(low), math.ceil(high))
