"""Turning the operands of an operation into tensors, with PyTorch's dtype rules.

``w * 4``, ``1 / x`` and ``x - numpy_array`` all work: a Python number becomes a constant of the
tensor's dtype (so ``float32 * 4`` stays float32, as in PyTorch, and ``int64 * 0.5`` gives float32;
an int outside an integer dtype's range wraps around, ``uint8 + -1`` adding 255), and an integer
operand meeting a floating one is converted to the floating dtype.

Operands that do not broadcast together are refused with PyTorch's RuntimeError (``broadcast_error``),
a number where PyTorch takes only a tensor with its TypeError (``require_tensors``,
``require_tensor_input``, ``refuse_numbers_only``, ``refuse_number_first``), and the number-first
call forms PyTorch still accepts with a warning, ``p.add_(-lr, grad)``, are read as the current
ones (``with_deprecated_forms``).
"""
import functools

from chainrule import dtypes
from chainrule.autograd import function as function_module
from chainrule.autograd.function import computed_without_gradient, made_from_values, written_in_python
from chainrule.backend import as_array, ignoring_float_errors, is_array, is_scalar, read_only, xp
from chainrule.caller_warnings import warn_once
from chainrule.tensor import Tensor, tensor_from_array

_NUMBERS = (int, float, bool, complex)


class ForeignOperand(TypeError):
    """An operand that is no tensor, number or array (None, a str, a user's class): the function
    raises PyTorch's TypeError, the Python operator returns NotImplemented (``operator_form``)."""


def as_tensor_like(value, like):
    """``value`` (number, array, list or tensor) as a tensor, numbers taking ``like``'s dtype."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, _NUMBERS):
        return constant(value, dtypes.scalar_result_dtype(like._array.dtype, value))
    if is_scalar(value):
        return wrapped_number(made_from_values(as_array(value, dtypes.scalar_result_dtype(like._array.dtype, value.item()))))
    if is_array(value):
        return made_from_values(value)
    kind = type(value)
    if hasattr(kind, "__torch_function__"):  # it answers the functions given it (overrides.py), not this operation
        raise TypeError(f"unsupported operand type(s): 'Tensor' and '{kind.__name__}' (an operand is a tensor or a number)")
    foreign = not (hasattr(kind, "__array__") or hasattr(kind, "__array_interface__") or hasattr(kind, "__len__"))
    if value is None or isinstance(value, (str, list, tuple)) or foreign:
        # a list too, as PyTorch (make it a tensor first); an object that is no number, array or
        # sequence (a user's class) is no operand either: Python's operators then ask it (__radd__)
        raise ForeignOperand(f"unsupported operand type(s): 'Tensor' and '{kind.__name__}' (an operand is a tensor or a number)")
    return made_from_values(as_array(value, dtypes.infer_dtype(value)), written_in_python(value))


def as_floating(array):
    """``array`` itself if it is floating or complex, else converted to the default float (as
    PyTorch promotes integer inputs of exp, log, sqrt, sigmoid...)."""
    return array if array.dtype.kind in "fc" else array.astype(dtypes.get_default_dtype())


def constant(value, dtype):
    """A read-only 0-d tensor holding the number ``value``, shared by every use of that number.

    ``y * 0.9999`` in a loop then makes no new tensor for ``0.9999`` each time: fewer objects for
    Python's garbage collector to track, which keeps long graphs fast.
    """
    if value != value or value == 0:  # nan never equals a key, and 0.0 == -0.0: make these afresh
        return wrapped_number(made_from_values(as_array(value, dtype)))
    key = (value, type(value), dtype)
    cached = _CONSTANTS.get(key)
    if cached is None:
        if len(_CONSTANTS) > 4096:
            _CONSTANTS.clear()
        array = read_only(_number_array(value, dtype))
        cached = _CONSTANTS[key] = wrapped_number(tensor_from_array(array))
        cached._is_inference = False  # shared with later calls: one made under inference_mode stays usable outside
    if function_module._recorder is not None:
        function_module._recorder.made_from_values(cached, True)
    return cached


_CONSTANTS = {}


def wrapped_number(tensor):
    """``tensor``, made from a number the code wrote, marked as PyTorch marks such an operand (its
    "wrapped number"): saved for backward, it does not go through ``saved_tensors_hooks``."""
    tensor._is_wrapped_number = True
    return tensor


def _number_array(value, dtype):
    """The number ``value`` as a 0-d array of ``dtype``. An int outside an integer dtype's range
    wraps around as PyTorch's conversion does (NumPy refuses it); one that does not fit in 64 bits
    is refused by both (OverflowError), for a floating dtype too. A number beyond a floating
    dtype's range becomes inf without a warning (``float16_tensor * 1e6``), as in PyTorch."""
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        raise OverflowError(
            f"int too big to convert: {value} is outside the 64-bit integers a number meeting a tensor is read as; "
            f"give it as a float"
        )
    try:
        with ignoring_float_errors():
            return as_array(value, dtype)
    except OverflowError:  # an int outside an integer dtype's range, which NumPy refuses
        return as_array(dtypes.wrapped_integer(value, dtype), dtype)


def binary_operands(a, b, refuse_first=None, refuse_second=None):
    """Both operands as tensors of a common kind (floating wins over integer, as in PyTorch). Two
    numbers (``chainrule.add(2, 3)``) give the first as a 0-d tensor, as PyTorch wraps it.
    ``refuse_first(a, b)`` and ``refuse_second(a, b)``, given, raise PyTorch's TypeError where the
    operation has no form for a, or b, that is not a tensor (``refuse_number_first``,
    ``refuse_numbers_only``, ``require_tensors``); each is called only where that operand is not a
    tensor, so a call with tensors pays nothing for them."""
    if not isinstance(a, Tensor):
        if refuse_first is not None:
            refuse_first(a, b)
        a = as_tensor_like(a, b) if isinstance(b, Tensor) else made_from_values(as_array(a, dtypes.infer_dtype(a)))
    if not isinstance(b, Tensor):
        if refuse_second is not None:
            refuse_second(a, b)
        b = as_tensor_like(b, a)
    a_dtype, b_dtype = a._array.dtype, b._array.dtype
    if a_dtype is b_dtype or a_dtype == b_dtype:
        return a, b
    if a_dtype.kind == "c" or b_dtype.kind == "c":
        return _complex_operands(a, b)
    a_floating, b_floating = a_dtype.kind == "f", b_dtype.kind == "f"
    if a_floating and not b_floating:  # an integer or bool tensor has no gradient: a plain conversion
        b = computed_without_gradient(xp.asarray, (b,), {"dtype": a_dtype})
    elif b_floating and not a_floating:
        a = computed_without_gradient(xp.asarray, (a,), {"dtype": b_dtype})
    elif a_floating or (a_dtype.kind in "iu" and b_dtype.kind in "iu"):
        # Within one category a dimensionless (0-d) operand takes the other's dtype, as in
        # PyTorch: float32 data minus a float64 scalar tensor stays float32 (a recorded cast).
        if a._array.ndim == 0 and b._array.ndim:
            a = a.to(b_dtype)
        elif b._array.ndim == 0 and a._array.ndim:
            b = b.to(a_dtype)
    return a, b


def _complex_operands(a, b):
    """Two operands, one of them complex, converted to the complex dtype PyTorch computes in
    (``common_dtype``): a real floating operand by a recorded conversion (its gradient is then the
    real part of the complex one), an integer or bool one by a plain conversion."""
    target = common_dtype(a, b)
    converted = []
    for operand in (a, b):
        if operand._array.dtype != target:
            if operand._array.dtype.kind in "fc":
                operand = operand.to(target)
            else:
                operand = computed_without_gradient(xp.asarray, (operand,), {"dtype": target})
        converted.append(operand)
    return tuple(converted)


def floating_operands(a, b):
    """``binary_operands`` for an operation whose result is floating (true division, atan2): when
    neither operand is floating, both become the default float dtype before they meet, as PyTorch
    computes in the result's dtype. ``uint8_tensor / -2`` is then -124.5, where converting -2 to
    uint8 first would divide by 254 (and a 0-d int8 tensor keeps its sign the same way)."""
    if not (_is_floating(a) or _is_floating(b)):
        a, b = _as_default_float(a), _as_default_float(b)
    return binary_operands(a, b)


def _is_floating(value):
    """Whether an operand (tensor, array or number) is floating."""
    if isinstance(value, Tensor):
        return value._array.dtype.kind in "fc"
    return isinstance(value, (float, complex)) or getattr(getattr(value, "dtype", None), "kind", None) in ("f", "c")


def _as_default_float(value):
    """A tensor, number, array or list as the default float dtype."""
    if isinstance(value, Tensor):
        return value.to(dtypes.get_default_dtype())
    if isinstance(value, _NUMBERS):
        return float(value)
    return made_from_values(as_array(value, dtypes.get_default_dtype()))


def result_type(tensor, other):
    """The dtype of an arithmetic operation on ``tensor`` and ``other`` (tensors or Python
    numbers), by PyTorch's rules: a tensor with dimensions decides within its category, a 0-d tensor
    next, a Python number last; a higher category (bool < integer < floating) wins, a Python float
    meeting integers giving the default float dtype."""
    for position, (name, value) in enumerate((("tensor", tensor), ("other", other)), start=1):
        if not isinstance(value, (Tensor, *_NUMBERS)):
            raise TypeError(
                f"result_type(): argument '{name}' (position {position}) must be Tensor or Number, not {type(value).__name__}"
            )
    a, b = binary_operands(*[_dtype_stand_in(value) for value in (tensor, other)])
    return dtypes.of(xp.result_type(a._array, b._array))


def common_dtype(*tensors):
    """The dtype PyTorch computes an operation on several tensors in (addcmul's three): the tensors
    with dimensions decide; a 0-d one counts only from a higher category (bool < integer < floating),
    and then promotes with them (int64 data with a 0-d float64 gives float64; float32 data with a
    0-d float64 stays float32; float64 data with a 0-d complex64 gives complex128)."""
    with_dimensions = [dtypes.of(tensor._array.dtype) for tensor in tensors if tensor._array.ndim]
    zero_dimensional = [dtypes.of(tensor._array.dtype) for tensor in tensors if not tensor._array.ndim]
    higher, lower = (functools.reduce(dtypes.promote_types, group) if group else None for group in (with_dimensions, zero_dimensional))
    if higher is None or lower is None:
        return (higher or lower).dtype
    if higher.kind == "c":
        return higher.dtype
    if lower.kind == "c":  # a complex 0-d operand: complex, with parts of the floating tensors' dtype if they are floating
        return higher.to_complex().dtype if higher.kind == "f" else lower.dtype
    if higher.kind == "f" or not (higher.kind == "b" or lower.kind == "f"):
        return higher.dtype
    return dtypes.promote_types(higher, lower).dtype


def _dtype_stand_in(value):
    """A one-element tensor of a tensor's dtype and category (with dimensions or 0-d); a number
    as it is."""
    if isinstance(value, Tensor):
        return tensor_from_array(xp.zeros((1,) * min(value._array.ndim, 1), value._array.dtype))
    return value


def expand_error(shape, target):
    """PyTorch's error for an expand that would change a dimension of size other than 1."""
    lead = len(target) - len(shape)
    axis = None if lead < 0 else next((axis for axis in range(lead, len(target)) if shape[axis - lead] not in (1, target[axis])), None)
    if axis is None:  # fewer target dimensions than the tensor has
        return RuntimeError(
            f"expand: the number of sizes provided ({len(target)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({len(shape)})"
        )
    return RuntimeError(
        f"The expanded size of the tensor ({target[axis]}) must match the existing size ({shape[axis - lead]}) at "
        f"non-singleton dimension {axis}.  Target sizes: {list(target)}.  Tensor sizes: {list(shape)} "
        f"(expand can only repeat dimensions of size 1)"
    )


def broadcast_error(shapes, operation):
    """PyTorch's RuntimeError for ``shapes`` that do not broadcast together: the first sizes that
    differ (neither of them 1), looking from the last dimension back."""
    ndim = max(len(shape) for shape in shapes)
    for back in range(1, ndim + 1):
        sizes = [shape[-back] for shape in shapes if len(shape) >= back and shape[-back] != 1]
        different = [size for size in sizes if size != sizes[0]]
        if different:
            return RuntimeError(
                f"The size of tensor a ({sizes[0]}) must match the size of tensor b ({different[0]}) at non-singleton "
                f"dimension {ndim - back} ({operation}: shapes {' and '.join(str(tuple(shape)) for shape in shapes)} "
                f"cannot be broadcast together)"
            )
    return RuntimeError(f"{operation}: shapes {' and '.join(str(tuple(shape)) for shape in shapes)} cannot be broadcast together")


def broadcast_failure(error, operation, operands):
    """PyTorch's RuntimeError (see ``broadcast_error``) for the ValueError ``error`` NumPy raises when
    ``operands`` do not broadcast together; ``error`` itself when it says something else. Operands
    without a shape (numbers, None, a rounding mode) are passed over. Used as
    ``except ValueError as error: raise broadcast_failure(error, "pow", operands) from None``, so
    that an operation that broadcasts pays for the check only when it fails."""
    if "broadcast" not in str(error):
        return error
    return broadcast_error([tuple(operand.shape) for operand in operands if hasattr(operand, "shape")], operation)


def write_error(target_shape, value_shape, operation):
    """PyTorch's RuntimeError for an in-place result of ``value_shape`` that does not fit a tensor
    of ``target_shape`` (``x += y`` where y broadcasts x to a larger shape)."""
    try:
        broadcast = xp.broadcast_shapes(tuple(target_shape), tuple(value_shape))
    except ValueError:
        return broadcast_error((tuple(target_shape), tuple(value_shape)), operation)
    return RuntimeError(
        f"output with shape {list(target_shape)} doesn't match the broadcast shape {list(broadcast)} ({operation} "
        f"writes in place: the tensor written into cannot grow; use the out-of-place form)"
    )


# ----------------------------------------------------------------------------- operands PyTorch requires to be tensors
def require_tensors(operation, input, other, other_name="other"):
    """PyTorch's refusal of anything but a tensor as either operand of ``operation`` (``fmax(x, 0.5)``,
    ``gcd(x, 4)``): a TypeError naming the first one that is not (the second is called ``other_name``)."""
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        return
    argument, position, value = ("input", 1, input) if not isinstance(input, Tensor) else (other_name, 2, other)
    raise TypeError(
        f"{operation}(): argument '{argument}' (position {position}) must be Tensor, not {type(value).__name__}; "
        f"wrap a number in a tensor (chainrule.tensor(value))"
    )


def require_tensor_input(operation, input):
    """PyTorch's refusal of anything but a tensor as the first operand of an operation that takes a
    number second only (``fmod(7, x)``, ``copysign(2, x)``, ``clamp(3, 0, 1)``): a TypeError."""
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{operation}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}; "
            f"wrap a number in a tensor (chainrule.tensor(value))"
        )


def refuse_numbers_only(operation, input, other):
    """PyTorch's refusal of two operands that are not tensors where ``operation`` takes a number on
    either side of a tensor (``remainder(7, x)``, ``2 ** x``) but has no form for two numbers
    (``remainder(7, 2)``, ``pow(2, 3)``): a TypeError."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(
            f"{operation}() received an invalid combination of arguments - got ({type(input).__name__}, "
            f"{type(other).__name__}): one of them must be a Tensor; compute with Python's operators on two numbers, "
            f"or wrap one in a tensor (chainrule.tensor(value))"
        )


def refuse_number_first(operation, input, other):
    """PyTorch's refusal of anything but a tensor first where ``operation`` takes a number second
    only (the comparisons: ``torch.lt(2, x)``, ``torch.eq(1, 2)``; the operator ``2 < x`` works, as
    Python turns it into ``x > 2``): a TypeError."""
    if isinstance(input, Tensor):
        return
    raise TypeError(
        f"{operation}() received an invalid combination of arguments - got ({type(input).__name__}, "
        f"{type(other).__name__}): its input must be a tensor (other may be a number); swap the operands "
        f"and the comparison (lt(2, x) is gt(x, 2)), or wrap the number in a tensor (chainrule.tensor(value))"
    )


# ----------------------------------------------------------------------------- deprecated number-first call forms
#: The number parameters of the operations with deprecated forms; every other parameter is a tensor.
NUMBER_PARAMETERS = ("alpha", "beta", "value")


def with_deprecated_forms(function, name, forms, *, method, out_dtype=False):
    """``function`` (the operation ``name`` as a function, or as a Tensor method when ``method``)
    also taking the number-first call forms that PyTorch 2 still accepts from before 1.5, with its
    UserWarning (once per process for all of them, as PyTorch's TORCH_WARN_ONCE):
    ``p.add_(-lr, grad)`` is ``p.add_(grad, alpha=-lr)``, ``torch.addmm(beta, M, alpha, m1, m2)`` is
    ``torch.addmm(M, m1, m2, beta=beta, alpha=alpha)``.

    ``forms`` are the old parameter lists of the function, longest first, as PyTorch declares them
    (``("beta", "input", "alpha", "mat1", "mat2")``); a method's are the same without ``input``, the
    tensor itself. A call takes a form when each number parameter of it is given by position a
    number (a Python or NumPy number, or a 0-d tensor) and its tensors by position or keyword. Any
    other call is passed on as it is, and refused as PyTorch refuses it (``add(a, b, 2)``, or a number
    given both ways, ``add(a, 2, b, alpha=3)``: TypeError).
    """
    forms = [tuple(each for each in form if not (method and each == "input")) for form in forms]
    messages = [_deprecation_message(name, form, forms[0], method, out_dtype) for form in forms]
    leading = 1 if method else 0  # the tensor itself, given before the form's parameters
    # Checked first, to keep a current call fast: it has fewer arguments, or a tensor where every
    # form has a number.
    fewest = leading + min(len(form) for form in forms)
    first_number = leading + min(form.index(next(e for e in form if e in NUMBER_PARAMETERS)) for form in forms)

    def accepting_deprecated_forms(*args, **kwargs):
        if len(args) + len(kwargs) >= fewest and len(args) > first_number and _is_number(args[first_number]):
            for form, message in zip(forms, messages):
                given = _deprecated_call(form, args[leading:], kwargs)
                if given is not None:
                    warn_once("deprecated number-first overload", message)
                    numbers = {each: _number(given.pop(each)) for each in form if each in NUMBER_PARAMETERS}
                    tensors = [given.pop(each) for each in form if each not in NUMBER_PARAMETERS]
                    return function(*args[:leading], *tensors, **numbers, **given)
        return function(*args, **kwargs)

    functools.update_wrapper(accepting_deprecated_forms, function)
    return accepting_deprecated_forms


def _deprecated_call(form, args, kwargs):
    """The arguments of a call by their names in ``form`` (with its other keywords, ``out``), or
    None when the call does not take that form: its numbers come by position, then its tensors."""
    if len(args) > len(form) or any(each in kwargs for each in NUMBER_PARAMETERS):
        return None
    if any(each in NUMBER_PARAMETERS and not _is_number(value) for each, value in zip(form, args)):
        return None
    if any(each in NUMBER_PARAMETERS or each not in kwargs for each in form[len(args):]):
        return None
    return {**dict(zip(form, args)), **kwargs}


def _is_number(value):
    """Whether ``value`` is a number for PyTorch's Number parameters: a Python or NumPy number, or a 0-d tensor."""
    return isinstance(value, _NUMBERS) or is_scalar(value) or (isinstance(value, Tensor) and value._array.ndim == 0)


def _number(value):
    """A Number parameter as a Python number (PyTorch reads a 0-d tensor's value)."""
    return value if isinstance(value, _NUMBERS) else value.item()


def _deprecation_message(name, form, longest_form, method, out_dtype):
    """PyTorch's warning for the deprecated ``form`` of ``name``: the old signature, then the new
    ones, with the numbers of the longest form as keywords (a function's also take ``out``, and
    addmm's and baddbmm's have a second with ``out_dtype``)."""
    def written(parameters):
        return ", ".join(f"{'Number' if each in NUMBER_PARAMETERS else 'Tensor'} {each}" for each in parameters)

    out = [] if method else ["Tensor out = None"]
    tensors = [written([each]) for each in longest_form if each not in NUMBER_PARAMETERS]
    keywords = [f"Number {each} = 1" for each in longest_form if each in NUMBER_PARAMETERS] + out
    new = [tensors + ["*"] + keywords]
    if out_dtype and not method:
        new.append(tensors + ["torch.dtype out_dtype", "*"] + keywords)
    old = written(form) + ("" if method else ", *, Tensor out = None")
    return f"This overload of {name} is deprecated:\n\t{name}({old})\nConsider using one of the following signatures instead:" + "".join(
        f"\n\t{name}({', '.join(each)})" for each in new
    )
