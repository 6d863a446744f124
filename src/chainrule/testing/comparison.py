"""``chainrule.testing.assert_close``: PyTorch's test assertion, with its tolerances and messages.

Course notebooks check their results with ``torch.testing.assert_close(actual, expected)``; it
passes when every element satisfies ``|actual - expected| <= atol + rtol * |expected|``, with
tolerances chosen from the dtype when not given:

=========  ========  =======
dtype      rtol      atol
=========  ========  =======
float16    1e-3      1e-5
float32    1.3e-6    1e-5
float64    1e-7      1e-7
integers   0         0
=========  ========  =======

Python floats count as float64, Python ints as int64; with ``check_dtype=False`` two dtypes get the
looser of their tolerances. Tensors must also agree in shape and dtype (``check_dtype=False``
compares across dtypes), and in strides with ``check_stride=True``; a tensor is compared with a
tensor (a subclass counts unless ``allow_subclasses=False``), a NumPy array with an array, None
with None. Sequences and mappings are compared item by item.
On failure it raises AssertionError with PyTorch's message::

    Tensor-likes are not close!

    Mismatched elements: 1 / 3 (33.3%)
    Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)
    Greatest relative difference: 0.2 at index (1,) (up to 1.3e-06 allowed)
"""
import collections.abc
import numbers
import warnings

from chainrule import dtypes
from chainrule.autograd.function import read_into_python
from chainrule.backend import element_strides, to_numpy, xp
from chainrule.creation import tensor
from chainrule.tensor import Size, Tensor

_TOLERANCES = {
    dtypes.float16: (1e-3, 1e-5), dtypes.float32: (1.3e-6, 1e-5), dtypes.float64: (1e-7, 1e-7),
    xp.dtype(xp.complex64): (1.3e-6, 1e-5), xp.dtype(xp.complex128): (1e-7, 1e-7),  # NumPy arrays may be complex
}


class _Mismatch(Exception):
    """A failed comparison: the exception type to raise and PyTorch's message, before the item path."""

    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def assert_close(
    actual,
    expected,
    *,
    allow_subclasses=True,
    rtol=None,
    atol=None,
    equal_nan=False,
    check_device=True,
    check_dtype=True,
    check_layout=True,
    check_stride=False,
    msg=None,
):
    """Raise AssertionError unless ``actual`` and ``expected`` are close (see the module docstring).

    ``rtol`` and ``atol`` go together: give both or neither. ``equal_nan=True`` counts NaN == NaN.
    ``msg`` replaces the message (a string), or rewrites it (a function of the generated message).
    ``allow_subclasses=False`` refuses a tensor subclass (``nn.Parameter``) against a plain tensor
    with TypeError; ``check_stride=True`` also compares strides. ``check_device`` and
    ``check_layout`` are accepted for PyTorch's signature: chainrule has one device and one layout.
    """
    if (rtol is None) != (atol is None):
        raise ValueError(
            f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {'rtol' if rtol is None else 'atol'}."
        )
    read_into_python("testing.assert_close")  # whether it raises follows the values
    try:
        _compare(
            actual, expected, (), rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype,
            check_stride=check_stride, allow_subclasses=allow_subclasses,
        )
    except _Mismatch as mismatch:
        message = mismatch.message
        if mismatch.error_type is AssertionError and msg is not None:
            message = msg(message) if callable(msg) else msg
        raise mismatch.error_type(message) from None


_ALLCLOSE_TOLERANCES = {dtypes.float16: (1e-3, 1e-3), dtypes.float32: (1e-4, 1e-5), dtypes.float64: (1e-5, 1e-8)}


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """The older form of ``assert_close``, deprecated by PyTorch (and warning so): values are
    compared across dtypes, NaN equals NaN, and its own default tolerances are looser (float32:
    rtol 1e-4, atol 1e-5; float64: 1e-5, 1e-8; float16: 1e-3, 1e-3)."""
    warnings.warn(
        "chainrule.testing.assert_allclose() is deprecated, as torch.testing.assert_allclose() is since PyTorch "
        "1.12: use chainrule.testing.assert_close() instead.",
        FutureWarning,
        stacklevel=2,
    )
    actual = actual if isinstance(actual, Tensor) else tensor(actual)
    expected = expected if isinstance(expected, Tensor) else tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        pairs = [_ALLCLOSE_TOLERANCES.get(each.dtype, (0.0, 0.0)) for each in (actual, expected)]
        rtol, atol = max(pair[0] for pair in pairs), max(pair[1] for pair in pairs)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False, msg=msg or None)


def _compare(actual, expected, path, **options):
    """Compare one pair, descending into sequences and mappings; ``path`` names the item in failures."""
    try:
        if _is_sequence(actual) and _is_sequence(expected):
            if len(actual) != len(expected):
                raise _Mismatch(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
            for index, (a, e) in enumerate(zip(actual, expected)):
                _compare(a, e, path + (index,), **options)
        elif isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
            if set(actual) != set(expected):
                raise _Mismatch(
                    AssertionError,
                    f"The keys of the mappings do not match:\nMissing keys in the actual mapping: {sorted(set(expected) - set(actual))}\n"
                    f"Additional keys in the actual mapping: {sorted(set(actual) - set(expected))}",
                )
            for key in actual:
                _compare(actual[key], expected[key], path + (key,), **options)
        elif actual is None or expected is None:
            if actual is not expected:
                raise _Mismatch(AssertionError, f"None mismatch: {actual} is not {expected}")
        elif isinstance(actual, (bool, xp.bool_)) and isinstance(expected, (bool, xp.bool_)):
            actual, expected = bool(actual), bool(expected)
            if actual is not expected:
                raise _Mismatch(AssertionError, f"Booleans mismatch: {actual} is not {expected}")
        elif _is_number(actual) and _is_number(expected):
            _compare_numbers(actual, expected, **options)
        elif _is_tensor_like(actual) and _is_tensor_like(expected) and _comparable_types(actual, expected, **options):
            _compare_tensors(actual, expected, **options)
        else:
            raise _Mismatch(
                TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}."
            )
    except _Mismatch as mismatch:
        if path and mismatch.error_type is AssertionError and "The failure occurred for item" not in mismatch.message:
            item = "".join(f"[{key!r}]" for key in path)
            mismatch.message += f"\n\nThe failure occurred for item {item}"
        raise


def _is_sequence(value):
    return isinstance(value, collections.abc.Sequence) and not isinstance(value, str)


def _is_number(value):
    return isinstance(value, (numbers.Number, xp.number)) and not isinstance(value, xp.ndarray)


def _is_tensor_like(value):
    return isinstance(value, (Tensor, xp.ndarray))


def _comparable_types(actual, expected, *, allow_subclasses, **_):
    """PyTorch's rule for a pair of tensor-likes: one's type is the other's or a subclass of it (a
    tensor and a NumPy array are not compared), and the very same type with ``allow_subclasses=False``."""
    if allow_subclasses:
        return isinstance(actual, type(expected)) or isinstance(expected, type(actual))
    return type(actual) is type(expected)


def _compare_numbers(actual, expected, *, rtol, atol, equal_nan, check_dtype, **_):
    actual, expected = (value.item() if isinstance(value, xp.number) else value for value in (actual, expected))
    if check_dtype and type(actual) is not type(expected):
        raise _Mismatch(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.")
    if rtol is None:
        kinds = [dtypes.float64 if isinstance(value, (float, complex)) else dtypes.int64 for value in (actual, expected)]
        rtol, atol = default_tolerances(*kinds)
    if actual == expected or (equal_nan and actual != actual and expected != expected):
        return
    difference = abs(actual - expected)
    if difference == difference and abs(difference) != float("inf") and difference <= atol + rtol * abs(expected):
        return
    raise _Mismatch(AssertionError, _scalar_message(actual, expected, rtol, atol))


def default_tolerances(*dtypes_compared):
    """The loosest default tolerances of the dtypes compared (exact for integers and bools)."""
    rtols, atols = zip(*(_TOLERANCES.get(dtype, (0.0, 0.0)) for dtype in dtypes_compared))
    return max(rtols), max(atols)


def _compare_tensors(actual, expected, *, rtol, atol, equal_nan, check_dtype, check_stride, **_):
    strides = [_strides(value) for value in (actual, expected)] if check_stride else None
    actual, expected = (to_numpy(value._array if isinstance(value, Tensor) else value) for value in (actual, expected))
    if actual.shape != expected.shape:
        raise _Mismatch(
            AssertionError,
            f"The values for attribute 'shape' do not match: {Size(actual.shape)} != {Size(expected.shape)}.",
        )
    if strides and strides[0] != strides[1]:
        raise _Mismatch(AssertionError, f"The values for attribute 'stride()' do not match: {strides[0]} != {strides[1]}.")
    if rtol is None:  # from the dtypes given, before any promotion below
        rtol, atol = default_tolerances(actual.dtype, expected.dtype)
    if actual.dtype != expected.dtype:
        if check_dtype:
            raise _Mismatch(
                AssertionError,
                f"The values for attribute 'dtype' do not match: {dtypes.dtype_name(actual.dtype)} != "
                f"{dtypes.dtype_name(expected.dtype)}.",
            )
        common = dtypes.promote_types(dtypes.of(actual.dtype), dtypes.of(expected.dtype)).dtype  # PyTorch's promotion
        actual, expected = actual.astype(common), expected.astype(common)
    if actual.dtype == dtypes.bool_:
        actual, expected = actual.astype(xp.int64), expected.astype(xp.int64)
    matches = xp.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if matches.all():
        return
    if actual.ndim == 0:
        raise _Mismatch(AssertionError, _scalar_message(actual.item(), expected.item(), rtol, atol))
    raise _Mismatch(AssertionError, _tensor_message(actual, expected, matches, rtol, atol))


def _strides(value):
    """A tensor's ``stride()``; a NumPy array's strides counted in elements, as ``torch.as_tensor`` keeps them."""
    return value.stride() if isinstance(value, Tensor) else element_strides(value)


def _scalar_message(actual, expected, rtol, atol):
    difference = abs(actual - expected)
    relative = float("inf") if expected == 0 else difference / abs(expected)
    return _numeric_message("Scalars", f"Expected {expected} but got {actual}.", difference, None, relative, None, rtol, atol)


def _tensor_message(actual, expected, matches, rtol, atol):
    """PyTorch's summary of a tensor mismatch: how many elements, and the worst absolute and
    relative differences among the mismatched ones, with their indices."""
    total = matches.size
    mismatched = total - int(matches.sum())
    extra = f"Mismatched elements: {mismatched} / {total} ({mismatched / total:.1%})"
    if actual.dtype.kind not in "fc":
        actual, expected = actual.astype(xp.int64), expected.astype(xp.int64)
    with xp.errstate(divide="ignore", invalid="ignore"):
        difference = xp.abs(actual - expected).reshape(-1)
        difference[matches.reshape(-1)] = 0
        # PyTorch divides in the (real) float dtype, the default one for integers: the same digits print.
        float_dtype = difference.dtype if difference.dtype.kind == "f" else dtypes.get_default_dtype()
        relative = difference.astype(float_dtype) / xp.abs(expected.reshape(-1)).astype(float_dtype)
        relative[matches.reshape(-1)] = 0
    worst, worst_relative = int(xp.argmax(difference)), int(xp.argmax(relative))

    def index(flat):
        return tuple(int(i) for i in xp.unravel_index(flat, matches.shape))

    return _numeric_message(
        "Tensor-likes", extra, difference[worst].item(), index(worst), relative[worst_relative].item(), index(worst_relative), rtol, atol
    )


def _numeric_message(identifier, extra, difference, index, relative, relative_index, rtol, atol):
    equality = rtol == 0 and atol == 0
    lines = [f"{identifier} are not {'equal' if equality else 'close'}!", "", extra]
    for kind, value, at, tolerance in (("absolute", difference, index, atol), ("relative", relative, relative_index, rtol)):
        line = f"{kind.title()} difference: {value}" if at is None else f"Greatest {kind} difference: {value} at index {at}"
        lines.append(line + ("" if equality else f" (up to {tolerance} allowed)"))
    return "\n".join(lines)
