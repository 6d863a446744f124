"""Comparisons and logic: results are bool tensors, and no gradient flows through them; and the
integer functions (bit shifts, gcd, lcm), which have no gradient either.

A comparison is a step function of its inputs (its derivative is 0 wherever it exists), so these
are plain functions rather than Functions: they never join the graph. Use their results as masks,
e.g. ``where(x > 0, x, 0)`` or ``loss[mask]``. Operands broadcast, and a Python number works on
either side of an operator (``x > 0``, ``0.5 <= x``) but second only in a function (``lt(x, 0.5)``),
as in PyTorch.
"""
import functools
import math
import numbers

from chainrule import dtypes
from chainrule.autograd.function import computed_without_gradient, read_into_python, tensor_of_values
from chainrule.backend import as_array, greatest_common_divisor, is_scalar, least_common_multiple, ndarray, shift_left, shift_right, xp
from chainrule.memory_layout import keep_operands_layout
from chainrule.ops.complex_refusals import complex_refused
from chainrule.ops.elementwise import CopyFrom, copy_from
from chainrule.ops.inplace import check_castable, write_in_place
from chainrule.ops.operands import binary_operands, broadcast_error, refuse_number_first, refuse_numbers_only, require_tensors
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.ops.registry import SAME_DTYPE, install_method, operator_form, public, reflected

# The names chainrule exports at the top level (chainrule.eq, ...); see chainrule/functional.py.


#: The numbers an operation of ``_elementwise`` refuses as a and as b, as PyTorch's forms of it do:
#: the refusal ``(operation, a, b)`` of each, called only where that operand is not a tensor.
NUMBERS_EITHER_SIDE = (None, None)  # x + 2 and 2 + x
NUMBER_SECOND_ONLY = (refuse_number_first, None)  # the comparisons: lt(x, 2), not lt(2, x)
NOT_TWO_NUMBERS = (refuse_numbers_only, None)  # bitwise_and(7, x), not bitwise_and(7, 3)
NO_NUMBERS = (require_tensors, require_tensors)  # logical_and, gcd: tensors only


def _elementwise(name, array_function, doc, integers_only=False, in_place=False, aliases=(), out=False,
                 numbers=NUMBERS_EITHER_SIDE, ordering=False):
    """The public function ``name(a, b)``: ``array_function`` on the arrays of a and b (tensors or
    numbers, broadcasting), returned as a tensor; ``aliases`` are further names, ``in_place``
    adds ``Tensor.NAME_`` (see ``_register``), and ``out`` PyTorch's ``out=`` (see ``public``).
    ``numbers`` says which operands may be numbers (``NUMBER_SECOND_ONLY``...); ``binary_operands``
    checks only where one is not a tensor, so a call with tensors pays nothing for it. An
    ``ordering`` comparison refuses complex numbers, which have no order, as PyTorch's does."""
    refuse_first, refuse_second = (None if refuse is None else functools.partial(refuse, name) for refuse in numbers)

    def function(a, b):
        a, b = binary_operands(a, b, refuse_first, refuse_second)
        if ordering and a._array.dtype.kind == "c":  # (both operands have one dtype now)
            raise complex_refused(name, a._array.dtype)
        if integers_only:
            _require_integers(name, xp.result_type(a._array, b._array))
        try:
            return keep_operands_layout(computed_without_gradient(array_function, (a, b)), (a, b))
        except ValueError:
            raise broadcast_error([a._array.shape, b._array.shape], name) from None

    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    return _register(function, in_place, aliases, out)


def _comparison(name, array_function, doc, aliases=(), ordering=True):
    """The comparison ``name(input, other)``: other may be a number, input not (``2 < x`` still works:
    Python makes it ``x > 2``); with ``out=`` and the in-place ``Tensor.NAME_``, whose node in a
    graph has PyTorch's name (``GtBackward0`` after a number, ``GtBackward1`` after a tensor)."""
    return _elementwise(
        name, array_function, doc, in_place=name.capitalize(), out=True, aliases=aliases, numbers=NUMBER_SECOND_ONLY,
        ordering=ordering,
    )


def _one_input(name, array_function, doc, integers_only=False, in_place=False, out=False):
    """The public function ``name(x)``: ``array_function`` on the array of x, returned as a tensor."""

    def function(x):
        if integers_only:
            _require_integers(name, x._array.dtype)
        return keep_operands_layout(computed_without_gradient(array_function, (x,)), (x,))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    return _register(function, in_place, out=out)


def _register(function, in_place, aliases=(), out=False):
    """``public(function)``; with ``in_place``, ``Tensor.NAME_`` for every name too, which writes the
    result into the tensor as values of its own dtype (``x.gt_(0)`` leaves 1.0 and 0.0 in a float
    tensor) where PyTorch's casting allows (``mask &= counts`` is refused: integers do not fit a bool
    tensor). The write is recorded as a copy, so a tensor in a graph keeps a node (its gradient
    through the comparison is 0) instead of losing it; ``in_place`` a name (``"Gt"``) names that node
    as PyTorch names a comparison's: ``GtBackward0`` after a number, ``GtBackward1`` after a tensor."""
    public(function, aliases=aliases, out=out)
    if in_place:
        def written(tensor, *others):
            result = function(tensor, *others)
            check_castable(result, tensor)
            if in_place is True:
                return copy_from(tensor, result)
            overload = 1 if isinstance(others[0], Tensor) else 0
            return CopyFrom.shown_as(f"{in_place}Backward{overload}").apply(tensor, result)

        def in_place_form(self, *args):
            return write_in_place(self, written, *args)

        in_place_form.__doc__ = f"In-place form of ``{function.__name__}``: the result is written into this tensor, in its dtype."

        for name in (function.__name__, *aliases):
            install_method(name + "_", in_place_form)
    return function


def _require_integers(operation, dtype):
    """PyTorch's NotImplementedError where ``operation`` computes in a ``dtype`` it has no version for
    (the operands' common dtype: ``mask << 2`` shifts int64, ``mask << mask`` is refused)."""
    if dtype.kind not in ("iu" if operation in INTEGER_ONLY else "biu"):
        advice = (
            "convert with .long() first" if operation in INTEGER_ONLY
            else f"for floating point use comparisons (x > 0) or logical_{operation.removeprefix('bitwise_')}"
        )
        kernel = _KERNELS.get(operation, operation.removeprefix("bitwise_") if operation in INTEGER_ONLY else operation)
        raise NotImplementedError(
            f"\"{kernel}_cpu\" not implemented for '{dtypes.scalar_type_name(dtype)}' ({operation} computes on integers"
            f"{'' if operation in INTEGER_ONLY else ' and bools'}: {advice})"
        )


_KERNELS = {"bitwise_left_shift": "lshift", "bitwise_right_shift": "rshift"}  # ATen's names, where they are not the operation's


INTEGER_ONLY = ("bitwise_left_shift", "bitwise_right_shift", "gcd", "lcm")


# ----------------------------------------------------------------------------- comparisons
eq = _comparison("eq", xp.equal, "a == b, elementwise (bool).", ordering=False)
ne = _comparison("ne", xp.not_equal, "a != b, elementwise (bool).", aliases=("not_equal",), ordering=False)
lt = _comparison("lt", xp.less, "a < b, elementwise (bool).", aliases=("less",))
le = _comparison("le", xp.less_equal, "a <= b, elementwise (bool).", aliases=("less_equal",))
gt = _comparison("gt", xp.greater, "a > b, elementwise (bool).", aliases=("greater",))
ge = _comparison("ge", xp.greater_equal, "a >= b, elementwise (bool).", aliases=("greater_equal",))

# ----------------------------------------------------------------------------- logic (nonzero counts as True; two tensors, as in PyTorch)
logical_not = _one_input("logical_not", xp.logical_not, "True where x is zero.", in_place=True, out=True)
logical_and = _elementwise(
    "logical_and", xp.logical_and, "True where both a and b are nonzero.", in_place=True, out=True, numbers=NO_NUMBERS,
)
logical_or = _elementwise(
    "logical_or", xp.logical_or, "True where a or b (or both) is nonzero.", in_place=True, out=True, numbers=NO_NUMBERS,
)
logical_xor = _elementwise(
    "logical_xor", xp.logical_xor, "True where exactly one of a and b is nonzero.", in_place=True, out=True,
    numbers=NO_NUMBERS,
)

# ----------------------------------------------------------------------------- bits (bool or integer tensors)
bitwise_not = _one_input(
    "bitwise_not", xp.invert, "~x: logical not for bool, every bit flipped for integers (~5 == -6).", integers_only=True,
    in_place=True, out=SAME_DTYPE,
)
# a number on either side of a tensor (``7 & x``), not two numbers, as in PyTorch
bitwise_and = _elementwise(
    "bitwise_and", xp.bitwise_and, "a & b: logical and for bool, bit by bit for integers.", integers_only=True, in_place=True, out=True,
    numbers=NOT_TWO_NUMBERS,
)
bitwise_or = _elementwise(
    "bitwise_or", xp.bitwise_or, "a | b: logical or for bool, bit by bit for integers.", integers_only=True, in_place=True, out=True,
    numbers=NOT_TWO_NUMBERS,
)
bitwise_xor = _elementwise(
    "bitwise_xor", xp.bitwise_xor, "a ^ b: logical xor for bool, bit by bit for integers.", integers_only=True, in_place=True, out=True,
    numbers=NOT_TWO_NUMBERS,
)

bitwise_left_shift = _elementwise(
    "bitwise_left_shift", shift_left, "a << b: the bits of a moved b places up (a · 2^b).", integers_only=True, in_place=True, out=True,
    numbers=NOT_TWO_NUMBERS,
)
bitwise_right_shift = _elementwise(
    "bitwise_right_shift", shift_right, "a >> b: the bits of a moved b places down (floor(a / 2^b)).",
    integers_only=True, in_place=True, out=True, numbers=NOT_TWO_NUMBERS,
)

# ----------------------------------------------------------------------------- integer math (two tensors, as in PyTorch)
gcd = _elementwise(
    "gcd", greatest_common_divisor, "The greatest common divisor of a and b (>= 0; gcd(0, 0) = 0).", integers_only=True,
    in_place=True, out=True, numbers=NO_NUMBERS,
)
lcm = _elementwise(
    "lcm", least_common_multiple, "The least common multiple of a and b (>= 0; 0 if either is 0).", integers_only=True,
    in_place=True, out=True, numbers=NO_NUMBERS,
)

# ----------------------------------------------------------------------------- special values
isnan = _one_input("isnan", xp.isnan, "True where x is nan (not a number).")
isinf = _one_input("isinf", xp.isinf, "True where x is +inf or -inf.")
isfinite = _one_input("isfinite", xp.isfinite, "True where x is neither nan nor infinite.")
isposinf = _one_input("isposinf", lambda array: array == xp.inf, "True where x is +inf.", out=SAME_DTYPE)
isneginf = _one_input("isneginf", lambda array: array == -xp.inf, "True where x is -inf.", out=SAME_DTYPE)
isreal = _one_input(
    "isreal", lambda array: array.imag == 0 if array.dtype.kind == "c" else xp.ones(array.shape, dtype=bool),
    "True where the imaginary part of x is zero: everywhere, for real dtypes.",
)
signbit = _one_input(
    "signbit", lambda array: xp.signbit(array) if array.dtype.kind == "f" else array < 0,
    "True where the sign bit of x is set: x < 0, and -0.0 too.", out=SAME_DTYPE,
)


# ----------------------------------------------------------------------------- closeness
@public
def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol |b|, elementwise (bool), of two tensors of one dtype, as in PyTorch (a
    number is a TypeError: wrap it, ``chainrule.tensor(7)``; convert a tensor of another dtype first,
    e.g. ``b.to(a.dtype)``); a negative (or nan) rtol or atol is a RuntimeError, as in PyTorch.
    Integers are compared as PyTorch compares them (see ``_close``)."""
    return _isclose("isclose", a, b, rtol, atol, equal_nan)


def _isclose(operation, a, b, rtol, atol, equal_nan):
    """``isclose`` of the public ``operation`` (isclose or allclose), its errors naming it."""
    require_tensors(operation, a, b)
    for name, tolerance in (("rtol", rtol), ("atol", atol)):
        if not tolerance >= 0:
            raise RuntimeError(
                f"{name} must be greater than or equal to zero, but got {float(tolerance):g} ({operation}: pass a tolerance >= 0)"
            )
    if a._array.dtype != b._array.dtype:
        raise RuntimeError(
            f"{dtypes.scalar_type_name(a._array.dtype)} did not match {dtypes.scalar_type_name(b._array.dtype)} "
            f"({operation} compares tensors of one dtype; convert one first, e.g. b.to(a.dtype))"
        )
    keywords = {"rtol": rtol, "atol": atol, "equal_nan": equal_nan, "float_dtype": dtypes.get_default_dtype()}
    try:
        return computed_without_gradient(_close, (a, b), keywords)
    except ValueError:
        raise broadcast_error((a._array.shape, b._array.shape), operation) from None


def _close(a, b, *, rtol, atol, equal_nan, float_dtype):
    """``isclose`` of the arrays a and b (of one dtype). Integers and bools are compared as PyTorch
    compares them: exactly where both tolerances are 0 (2**53 + 1 and 2**53 differ, though they are
    one float64), else converted to ``float_dtype`` (the default float dtype) first, so that their
    difference cannot wrap around (int8 127 and -128 are 255 apart)."""
    if a.dtype.kind not in "fc":  # (complex numbers: NumPy's |a - b| is their distance, as PyTorch's)
        if rtol == 0 and atol == 0:
            return xp.equal(a, b)
        a, b = a.astype(float_dtype), b.astype(float_dtype)
    return xp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


@public
def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True (a Python bool) when every element satisfies |a - b| <= atol + rtol |b| (arguments
    checked as by ``isclose``)."""
    read_into_python("allclose")
    return bool(_isclose("allclose", a, b, rtol, atol, equal_nan)._array.all())


@public
def equal(a, b):
    """True (a Python bool) when a and b have the same shape and the same values."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"equal(): expected two tensors, got {type(a).__name__} and {type(b).__name__}")
    read_into_python("equal")
    return a._array.shape == b._array.shape and bool(xp.array_equal(a._array, b._array))


# ----------------------------------------------------------------------------- membership and sorted search
@public(method=False, out=SAME_DTYPE)
def isin(elements=None, test_elements=None, *, element=None, test_element=None, assume_unique=False, invert=False):
    """True where an element of ``elements`` occurs in ``test_elements``; the result has elements'
    shape. ``invert`` gives the opposite. Either may be a number, not both (PyTorch's keyword for
    a number first is ``element``, second ``test_element``). The two are compared in the dtype
    PyTorch promotes them to, a number taking the tensor's: ``isin(float32_x, 0.1)`` looks for
    float32's 0.1, ``isin(uint8_x, -1)`` for 255. Bool has no isin in PyTorch: a RuntimeError."""
    elements, test_elements = _isin_operands(elements, test_elements, element, test_element)
    elements, test_elements = binary_operands(elements, test_elements)
    found = xp.isin(elements._array, test_elements._array, assume_unique=assume_unique, invert=invert)
    return tensor_from_array(as_array(found))


def _isin_operands(elements, test_elements, element, test_element):
    """isin's two operands, from any of PyTorch's three forms: (elements, test_elements), tensors;
    (element, test_elements) and (elements, test_element), with a number. Anything else (two
    numbers, a list, a tensor by a number's keyword) is PyTorch's TypeError, and bool its RuntimeError."""
    if element is not None:
        if elements is not None or isinstance(element, Tensor):
            raise _isin_error(elements, test_elements, element=element)
        elements = element
    if test_element is not None:
        if test_elements is not None or isinstance(test_element, Tensor):
            raise _isin_error(elements, test_elements, test_element=test_element)
        test_elements = test_element
    for each in (elements, test_elements):
        if not (isinstance(each, (Tensor, int, float)) or is_scalar(each)):
            raise _isin_error(elements, test_elements)
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise _isin_error(elements, test_elements)
    for each in (elements, test_elements):
        if isinstance(each, bool) or (isinstance(each, Tensor) and each._array.dtype == bool):
            raise RuntimeError("Unsupported input type encountered for isin(): Bool; convert a bool tensor first, e.g. x.long()")
    return elements, test_elements


def _isin_error(elements, test_elements, **numbers):
    """PyTorch's TypeError for a call of isin that none of its forms takes."""
    given = ", ".join([type(elements).__name__, type(test_elements).__name__] + [f"{key}={type(value).__name__}" for key, value in numbers.items()])
    return TypeError(
        f"isin() received an invalid combination of arguments - got ({given}), but expected one of: (Tensor elements, "
        f"Tensor test_elements), (Number element, Tensor test_elements), (Tensor elements, Number test_element); "
        f"make a list a tensor first (chainrule.tensor(values))"
    )


@public(method=False, out=SAME_DTYPE)
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """For each value of ``input``, the position where it would go in ``sorted_sequence`` to keep it
    sorted: the first position i with value <= sequence[i] (with ``right`` or ``side="right"``, the
    first with value < sequence[i]). A sequence of shape (..., n) searches each of its rows with the
    matching row of input (..., m); a 1-D one serves all of input (which may then be a number).
    ``sorter`` sorts an unsorted sequence (its argsort). The positions are int64 (int32 with
    ``out_int32``), and so must ``out=`` be."""
    if right and side == "left":
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left while right was True")
    if side is not None and not isinstance(side, str):
        raise TypeError(f"searchsorted(): argument 'side' must be str, not {type(side).__name__}")
    if side not in (None, "left", "right"):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
    side = side or ("right" if right else "left")
    sequence, values = sorted_sequence._array, _values(input)
    if values.ndim == 0 and sequence.ndim != 1:
        raise RuntimeError(
            f"torch.searchsorted(): input value can be a scalar only when boundaries tensor dimension is 1, but we "
            f"got boundaries tensor dim({sequence.ndim}) and input value's dim(0) numel(1)"
        )
    if sequence.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension")
    if sequence.dtype.kind == "b" and values.dtype.kind == "b" and values.size:  # bool has no kernel (none runs for no values)
        raise NotImplementedError("\"searchsorted_out_cpu\" not implemented for 'Bool'; convert first, e.g. x.int()")
    order = None if sorter is None else _values(sorter)
    if order is not None and order.dtype != xp.int64:
        raise RuntimeError(f"torch.searchsorted(): sorter must be a tensor of long dtype but got dtype {dtypes.scalar_type_name(order.dtype)}")
    if order is not None and order.shape != sequence.shape:
        raise RuntimeError(
            f"torch.searchsorted(): boundary and sorter must have the same size, but got boundary tensor "
            f"{list(sequence.shape)}and got sorter tensor {list(order.shape)}"
        )
    if order is not None and order.size and (order.min() < 0 or order.max() >= sequence.shape[-1]):
        raise RuntimeError(
            f"torch.searchsorted(): sorter index out of range (sorter holds the positions 0 to {sequence.shape[-1] - 1} "
            f"of the sequence's last dimension)"
        )
    if sequence.ndim > 1 and (values.ndim != sequence.ndim or values.shape[:-1] != sequence.shape[:-1]):
        raise RuntimeError(
            f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries "
            f"tensor and input value tensor must match, but we got boundaries tensor {list(sequence.shape)} and input "
            f"value tensor {list(values.shape)}"
        )
    inputs = [sorted_sequence, tensor_of_values(input)] + ([] if sorter is None else [tensor_of_values(sorter)])
    # positions the values decide, which a compiled program finds again on each call
    return computed_without_gradient(_sorted_positions, inputs, {"side": side, "dtype": dtypes.int32 if out_int32 else dtypes.int64})


def _sorted_positions(sequence, values, order=None, *, side, dtype):
    """``searchsorted``'s positions of ``values`` in ``sequence`` (row by row where it is N-d)."""
    if sequence.ndim <= 1:
        positions = xp.searchsorted(sequence, values, side=side, sorter=order)
    else:
        count = math.prod(sequence.shape[:-1])  # rows, counted so that rows of length 0 are read too
        rows, row_values = sequence.reshape(count, sequence.shape[-1]), values.reshape(count, values.shape[-1])
        row_orders = [None] * count if order is None else order.reshape(count, order.shape[-1])
        positions = xp.stack([xp.searchsorted(row, each, side=side, sorter=row_order) for row, each, row_order in
                              zip(rows, row_values, row_orders)]).reshape(values.shape) if count else xp.zeros(values.shape)
    return as_array(positions, dtype)


@public(method=False, out=SAME_DTYPE)
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value of ``input`` among the sorted 1-D ``boundaries``: i with
    boundaries[i-1] < x <= boundaries[i] (with ``right``, boundaries[i-1] <= x < boundaries[i])."""
    if boundaries._array.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._array.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def _values(value):
    """The array of a tensor, or a number (or list) as an array."""
    return value._array if isinstance(value, Tensor) else as_array(value)


# ----------------------------------------------------------------------------- Python's operators
def _equals(self, other):
    """``tensor == other``: elementwise for tensors, numbers and arrays; NotImplemented for anything
    else (None, a string, a list, any object), as PyTorch's, so that Python compares them by
    identity (``x == None`` is False) or asks the other object."""
    if not _comparable(other):
        return NotImplemented
    return eq(self, other)


def _differs(self, other):
    if not _comparable(other):
        return NotImplemented
    return ne(self, other)


def _comparable(other):
    """Whether ``==`` and ``!=`` compare a tensor with ``other`` elementwise."""
    return isinstance(other, (Tensor, numbers.Number, ndarray)) or is_scalar(other)


install_method("__eq__", _equals)
install_method("__ne__", _differs)
install_method("__lt__", operator_form(lt))
install_method("__le__", operator_form(le))
install_method("__gt__", operator_form(gt))
install_method("__ge__", operator_form(ge))


def _inverted(self):
    """``~tensor``: bitwise_not, refused for floating tensors with PyTorch's TypeError."""
    if self._array.dtype.kind == "f":
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors; for a float mask use "
            "logical_not(x) or x == 0"
        )
    return bitwise_not(self)


install_method("__invert__", _inverted)
install_method("__and__", operator_form(bitwise_and))
install_method("__or__", operator_form(bitwise_or))
install_method("__xor__", operator_form(bitwise_xor))
install_method("__lshift__", operator_form(bitwise_left_shift))
install_method("__rshift__", operator_form(bitwise_right_shift))
install_method("__rand__", operator_form(reflected(bitwise_and)))
install_method("__ror__", operator_form(reflected(bitwise_or)))
install_method("__rxor__", operator_form(reflected(bitwise_xor)))
install_method("__rlshift__", operator_form(reflected(bitwise_left_shift)))
install_method("__rrshift__", operator_form(reflected(bitwise_right_shift)))
for _operator, _method in [("__iand__", "bitwise_and_"), ("__ior__", "bitwise_or_"), ("__ixor__", "bitwise_xor_"),
                           ("__ilshift__", "bitwise_left_shift_"), ("__irshift__", "bitwise_right_shift_")]:
    install_method(_operator, operator_form(getattr(Tensor, _method)))
