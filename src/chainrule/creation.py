"""Making tensors: from data, filled with a constant, ranges, and random samples.

Each factory takes ``dtype`` and ``requires_grad`` as PyTorch's do. Floating factories give the
default dtype (float32); random ones draw from the generator seeded by ``manual_seed``.
"""
import functools
import itertools
import math
import operator

from chainrule import dtypes, memory_layout
from chainrule.caller_warnings import warn_at_caller, warn_once
from chainrule.autograd.function import made_from_arguments, made_from_values, read_into_python, written_in_python
from chainrule.random import drawn
from chainrule.backend import MetaArray, ignoring_float_errors, meta_array, xp
from chainrule import sampling_algorithms
from chainrule.ops.registry import public, with_out
from chainrule.device import on_meta
from chainrule.tensor import Tensor, _to_raw, check_numpy_array, sharing_numpy_memory, tensor_from_array


def _check_requires_grad(array, requires_grad):
    if requires_grad and array.dtype.kind not in "fc":
        raise RuntimeError(
            f"Only Tensors of floating point and complex dtype can require gradients (this one is "
            f"{dtypes.dtype_name(array.dtype)}); pass a floating dtype, e.g. dtype=torch.float32"
        )


def _finish(array, requires_grad, make=tensor_from_array):
    """The tensor ``make`` makes of ``array``, checked for ``requires_grad``."""
    _check_requires_grad(array, requires_grad)
    result = make(array)
    if requires_grad:
        result.requires_grad = True
    return result


def _from_arguments(array, requires_grad):
    """``_finish`` for the factories whose values follow from their arguments alone (``zeros``,
    ``full``, ``arange``, ``eye``...): a compiled function remakes them on each call."""
    _check_requires_grad(array, requires_grad)
    return made_from_arguments(array, requires_grad)


def on_meta_device(shape, dtype, requires_grad):
    """A factory's tensor on the 'meta' device: ``shape`` and ``dtype`` without values. Nothing is
    allocated and nothing is drawn from a generator (PyTorch's meta factories draw nothing either),
    so ``rand(2**10, 3, 2**16, 2**16, device='meta')`` costs no memory. Each factory asks
    ``on_meta(device)`` before it computes anything."""
    return _finish(meta_array(shape, xp.dtype(dtype)), requires_grad)


def like_on_meta(input, device):
    """Whether a ``*_like`` factory (or ``new_*`` method) makes its tensor on 'meta': the ``device``
    asked for, else input's own device (not the default device: PyTorch's ``zeros_like`` follows its
    input)."""
    return type(input._array) is MetaArray if device is None else on_meta(device)


def argument_type_name(value):
    return "Tensor" if isinstance(value, Tensor) else type(value).__name__


def as_integer(value):
    """``value`` as a Python int where PyTorch takes it for an int: ints, NumPy integers and
    one-element integer tensors (``torch.randperm(torch.tensor(3))``); None for anything else
    (floats, bools, float tensors), which PyTorch refuses with a TypeError."""
    if isinstance(value, Tensor):
        if value._array.size != 1 or value._array.dtype.kind not in "iu":
            return None
        read_into_python("a one-element tensor taken as an int")
        return int(value._array.reshape(-1)[0])
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def integer_argument(value, function, argument, position):
    """``value`` as an int (see ``as_integer``), or PyTorch's TypeError naming the argument."""
    number = as_integer(value)
    if number is None:
        raise TypeError(
            f"{function}(): argument '{argument}' (position {position}) must be int, not {argument_type_name(value)}"
        )
    return number


def size_argument(size, function="tensor factory", position=1):
    """The shape in ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros([torch.tensor(2), 3])`` (``zeros(size=(2, 3))``
    arrives as the second: see ``registry.with_pytorch_keywords``), checked as PyTorch checks it:
    a TypeError for an entry that is not an int (``randn(2.0)``) and for no size at all (``zeros()``;
    a 0-d tensor is ``zeros(())``), a RuntimeError for a negative one."""
    if not size:
        raise TypeError(f'{function}() missing 1 required positional arguments: "size" ({function}(()) makes a 0-d tensor)')
    listed = len(size) == 1 and isinstance(size[0], (tuple, list))
    entries = tuple(size[0]) if listed else tuple(size)
    shape = []
    for place, entry in enumerate(entries):
        side = as_integer(entry)
        if side is None:
            what = argument_type_name(entry)
            if place > 0:
                detail = f'failed to unpack the object at pos {place + 1} with error "type must be tuple of ints,but got {what}"'
            elif listed:
                detail = f"(position {position}) must be tuple of ints, but found element of type {what} at pos 0"
            else:
                detail = f"(position {position}) must be tuple of ints, not {what}"
            raise TypeError(f"{function}(): argument 'size' {detail}")
        shape.append(side)
    if any(side < 0 for side in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {shape}")
    return tuple(shape)


def check_memory_format(memory_format, ndim, function, preserve=True):
    """Accept PyTorch's ``memory_format=`` as its factories do: any ``torch.memory_format`` value,
    with PyTorch's errors for another kind of value and for ``channels_last`` on a tensor not 4-d
    (5-d for ``channels_last_3d``). ``preserve``: whether ``preserve_format`` is allowed (the
    ``*_like`` factories) or not (``empty``)."""
    if memory_format is None:
        return
    if not isinstance(memory_format, memory_layout.memory_format):
        raise TypeError(
            f"{function}(): argument 'memory_format' must be torch.memory_format, not {type(memory_format).__name__}"
        )
    memory_layout.check_rank(memory_format, ndim)
    if memory_format is memory_layout.preserve_format and not preserve:
        raise RuntimeError("unsupported memory format Preserve")


def _float_dtype(dtype, function=None):
    return xp.dtype(checked_dtype(dtype, function)) if dtype is not None else dtypes.get_default_dtype()


def checked_dtype(dtype, function=None):
    """``dtype`` as PyTorch's factories take it: a chainrule dtype (or the NumPy dtype it stands for),
    or the Python type ``bool``, ``int`` or ``float``; a name (``'float32'``) or a NumPy type
    (``numpy.float64``) is PyTorch's TypeError, naming the ``function`` where it is given."""
    if isinstance(dtype, (dtypes.dtype, xp.dtype)) or isinstance(dtype, type) and dtype in (bool, int, float):
        return dtype
    raise TypeError(
        f"{f'{function}(): ' if function else ''}argument 'dtype' must be chainrule.dtype, not {type(dtype).__name__} "
        f"({dtype!r}: pass chainrule.float32, chainrule.int64, ...)"
    )


def made_in_dtype_of_out(factory):
    """``factory`` (``zeros``, ``full``, ``arange``, ``rand``...) taking PyTorch's ``out=``, whose dtype
    is the one the tensor is made in when no ``dtype=`` is given, as in PyTorch: ``zeros(2, out=int64
    tensor)`` fills it with int64 zeros, ``arange(0, 2, 0.5, out=int64 tensor)`` counts in int64 (and
    refuses the step truncated to 0), ``rand(5, out=float64 tensor)`` draws float64 numbers (other
    ones than float32 numbers cast). A ``dtype=`` other than out's is PyTorch's RuntimeError."""
    written_into_out = with_out(factory)

    @functools.wraps(factory)
    def factory_with_out(*args, out=None, dtype=None, **kwargs):
        if out is None:
            return factory(*args, dtype=dtype, **kwargs)
        if isinstance(out, Tensor):
            if dtype is not None and xp.dtype(checked_dtype(dtype)) != out._array.dtype:
                raise RuntimeError(
                    f"dtype {dtypes.scalar_type_name(xp.dtype(dtype))} does not match dtype of out parameter "
                    f"({dtypes.scalar_type_name(out._array.dtype)}); give dtype= or out=, not both"
                )
            dtype = out.dtype
        return written_into_out(*args, out=out, dtype=dtype, **kwargs)

    return factory_with_out


def refuse_dtype(dtype, kernel, refused=dtypes.WIDE_UNSIGNED):
    """PyTorch's NotImplementedError for a ``dtype`` its ``kernel`` has no version for (``refused``:
    by default the unsigned integers wider than a byte, which most of PyTorch's kernels skip)."""
    if dtype in refused:
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{dtypes.scalar_type_name(dtype)}'; make the tensor in another "
            f"dtype (int64, float32) and convert it with .to()"
        )


#: What PyTorch's computing factories refuse besides the wide unsigned integers: bool.
_BOOL_AND_WIDE_UNSIGNED = dtypes.WIDE_UNSIGNED | {xp.dtype(bool)}


def refuse_pinned_memory():
    """PyTorch's error for ``pin_memory=True`` on a machine without an accelerator."""
    raise RuntimeError(
        "pin_memory=True requires a CUDA or other accelerator backend; no pinned memory allocator is available "
        "on this system (chainrule computes on the CPU: drop pin_memory=True)"
    )


@public(method=False)
def tensor(data, dtype=None, requires_grad=False, name=None, device=None, pin_memory=False):
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays or tensors).

    The dtype is inferred as PyTorch does: Python floats give float32, ints int64, bools bool;
    NumPy arrays keep theirs. ``name`` labels the tensor in graph drawings and traces. A number
    beyond a floating dtype's range becomes inf, and an array's float converted to integers as a C
    cast does, without a warning, as in PyTorch.
    """
    if pin_memory:
        refuse_pinned_memory()
    if dtype is not None:
        checked_dtype(dtype, "tensor")
    if isinstance(data, Tensor):
        warn_copy_construct("torch.tensor(sourceTensor)")
        if type(data._array) is MetaArray:  # a copy of a meta tensor is one too, whatever the device asked
            return on_meta_device(data._array.shape, data._array.dtype if dtype is None else dtype, requires_grad)
        # a copy laid out as the source where its strides are PyTorch's (order "K"), as PyTorch's; else
        # row-major (a layout NumPy chose, which the tensor reports row-major, is not copied)
        order = "K" if memory_layout.strides_are_pytorchs(data) else "C"
        with ignoring_float_errors():
            array = data._array.copy(order=order) if dtype is None else data._array.astype(dtype, order=order)
    else:
        if isinstance(data, xp.ndarray):
            check_numpy_array(data)
        raw = _to_raw(data)
        try:
            with ignoring_float_errors():
                if dtype is None:
                    array = xp.array(raw, dtype=dtypes.infer_dtype(raw))
                elif isinstance(raw, xp.ndarray):  # an array converts as a C cast does, unchecked (as PyTorch's)
                    array = xp.array(raw, dtype=dtype)
                else:
                    array = _python_numbers_as(raw, xp.dtype(dtype))
        except (ValueError, TypeError) as error:
            raise _nested_data_error(raw, dtype) or error from None
        except OverflowError as error:  # an int beyond int64 (2**63), or data that is no number: PyTorch's errors
            if dtype is not None and xp.dtype(dtype) == xp.uint64:  # uint64's own (a negative int)
                raise _nested_data_error(raw, dtype) or error from None
            raise _nested_data_error(raw, dtype) or ValueError(
                "Overflow when unpacking long long: an integer tensor holds -2**63 to 2**63 - 1; give a larger "
                "number as a float (or pass dtype=chainrule.float64)"
            ) from None
        if array.dtype.kind in "iu" and not isinstance(raw, xp.ndarray):
            _refuse_numpy_bools(raw, array.ndim)
    if on_meta(device):
        return on_meta_device(array.shape, array.dtype, requires_grad)
    # made from the caller's own numbers, a compiled program may keep it (not a copy of a tensor's values)
    make = tensor_from_array if isinstance(data, Tensor) else functools.partial(made_from_values, written=written_in_python(data))
    result = _finish(array, requires_grad, make)
    result.name = name
    memory_layout.keep_copied_layout(result)
    return result


def _python_numbers_as(data, dtype):
    """The Python numbers (nested lists of them) ``data`` as an array of ``dtype``, each converted
    as PyTorch converts it. Floating dtypes and bool take any number (too large a float becomes
    inf). An integer dtype takes floats inside its range (truncated toward zero) and ints inside it,
    an unsigned one also negative ints down to -max, wrapped (-1 as uint8 is 255); anything else
    (300 as uint8, nan, inf, 2**40 as int32) is PyTorch's RuntimeError, an int outside the 64-bit
    integers its ValueError."""
    if dtype.kind not in "iu":
        return xp.array(data, dtype=dtype)
    if dtype == xp.uint64:
        return _python_ints_as_uint64(data)
    natural = xp.array(data)  # ints as int64, floats as float64: checked at once while they all fit
    if natural.size == 0 or natural.dtype.kind == "b":
        return natural.astype(dtype)
    limits = xp.iinfo(dtype)
    if natural.dtype.kind == "i":
        if (-limits.max if dtype.kind == "u" else limits.min) <= natural.min() and natural.max() <= limits.max:
            return natural.astype(dtype)
    elif natural.dtype.kind == "f" and limits.min < natural.min() and natural.max() < limits.max:
        # strictly inside (False for nan): the ends, where a float may be an int NumPy rounded, go one by one
        return natural.astype(dtype)
    # one by one, each number by its own Python type ([-1, 2.5] as uint8: -1 wraps, where -1.0 would not)
    numbers = xp.array(data, dtype=object)
    return xp.array([_python_number_as(number, dtype) for number in numbers.flat], dtype=dtype).reshape(numbers.shape)


def _python_ints_as_uint64(data):
    """``_python_numbers_as`` for uint64, which PyTorch fills only from Python ints (and bools) from 0
    to 2**64 - 1: a float or a NumPy number is its TypeError, a negative int its OverflowError."""
    numbers = xp.array(data, dtype=object)
    for number in numbers.flat:
        if not isinstance(number, int):
            raise TypeError(f"an integer is required: a uint64 tensor is made from Python ints, not {type(number).__name__}")
        if not 0 <= number < 1 << 64:
            raise OverflowError("can't convert negative int to unsigned" if number < 0 else "int too big to convert")
    return numbers.astype(xp.uint64)


def _refuse_numpy_bools(data, ndim):
    """PyTorch's TypeError for a NumPy bool among the numbers of an integer tensor
    (``tensor([np.bool_(True), 2])``): it reads each number of an integer tensor as an index, which a
    Python bool is and a NumPy bool is not. ``data`` (nested lists of ``ndim`` levels) is looked
    through at C speed: making an integer tensor from a list stays about as fast."""
    items = [data]
    for _ in range(ndim):
        items = itertools.chain.from_iterable(items)
    if xp.bool_ in map(type, items):
        raise TypeError(
            "'numpy.bool' object cannot be interpreted as an integer: an integer tensor takes Python bools "
            "(bool(flag)) or ints; or make a bool tensor (dtype=chainrule.bool)"
        )


def _python_number_as(number, dtype):
    """One number of ``_python_numbers_as``: checked (``dtypes.checked_scalar``), an int wrapped."""
    if isinstance(number, complex):
        raise _complex_as_real_error(dtype)
    if isinstance(number, int) and not isinstance(number, bool) and not -(1 << 63) <= number < 1 << 63:
        raise ValueError(
            f"Overflow when unpacking long long: {number} is outside the 64-bit integers a {dtypes.dtype_name(dtype)} "
            f"tensor is made from"
        )
    return dtypes.checked_scalar(number, dtype)


def _complex_as_real_error(dtype):
    """PyTorch's TypeError for a Python complex number given to ``tensor()`` with a real ``dtype``
    (Python's own words for ``float(1j)`` and ``int(1j)``)."""
    if xp.dtype(dtype).kind == "f":
        return TypeError("must be real number, not complex (tensor(): a complex number needs a complex dtype, e.g. chainrule.complex64)")
    return TypeError("'complex' object cannot be interpreted as an integer (tensor(): a complex number needs a complex dtype, e.g. chainrule.complex64)")


def _nested_data_error(data, dtype=None):
    """PyTorch's error for data ``tensor()`` can't read as one array (a ragged list, a list where a
    number should be, a string, None, a dict or another object, a complex number where ``dtype`` is
    real), or None when the data is not the cause.

    As PyTorch does, the shape is read from the first element at each depth (a str met there is
    read as a sequence without end: ValueError), then every list is checked against it. An array's
    own errors (a dtype NumPy has and tensors don't) stand."""
    if isinstance(data, xp.ndarray):
        return None
    shape, first = [], data
    while _is_sequence(first):
        shape.append(len(first))
        if not len(first):
            break
        first = first[0]
    if shape and isinstance(first, str):
        return ValueError("too many dimensions 'str' (tensor() reads a str as nested sequences; convert text to numbers first)")

    def check(item, dim):
        if dim == len(shape):
            if _is_sequence(item):
                return TypeError(f"'{type(item).__name__}' object cannot be interpreted as an integer (tensor(): a list where a number should be)")
            if isinstance(item, (str, bytes)):
                return TypeError(f"new(): invalid data type '{type(item).__name__}' (tensor() needs numbers, bools or lists of them)")
            if isinstance(item, complex) and dtype is not None and xp.dtype(dtype).kind in "fiu":
                return _complex_as_real_error(dtype)
            if not isinstance(item, (bool, int, float, complex, xp.generic)):
                return RuntimeError(f"Could not infer dtype of {type(item).__name__} (tensor() needs numbers, bools or lists of them)")
            return None
        if not _is_sequence(item):
            return TypeError(f"not a sequence (tensor(): a number where a list of {shape[dim]} should be, at dim {dim})")
        if len(item) != shape[dim]:
            return ValueError(
                f"expected sequence of length {shape[dim]} at dim {dim} (got {len(item)}): tensor() needs lists of "
                f"equal length; pad them (nn.utils.rnn.pad_sequence) or keep them as separate tensors"
            )
        return next((error for child in item if (error := check(child, dim + 1)) is not None), None)

    return check(data, 0)


def _is_sequence(item):
    return isinstance(item, (list, tuple)) or (isinstance(item, xp.ndarray) and item.ndim > 0)


def warn_copy_construct(call):
    """PyTorch's warning for a tensor made from a tensor by ``call`` (it copies, and leaves the graph)."""
    warn_at_caller(
        "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
        f"sourceTensor.detach().clone().requires_grad_(True), rather than {call}."
    )


@public(method=False)
def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with it when it already is an array of that dtype
    (``device``: only the CPU, as everywhere in chainrule; one with an index, ``'cpu:0'``, is
    another device than an array's or a tensor's, and gets a copy, as in PyTorch; ``'meta'`` keeps
    only the shape and dtype). A NumPy array is taken as ``from_numpy`` takes it (its checks and
    warning) even where it is then copied."""
    if on_meta(device):
        return data.to("meta", dtype) if isinstance(data, Tensor) else tensor(data, dtype=dtype, device="meta")
    if isinstance(data, Tensor):
        return data.to(device, dtype)  # data itself, unless the dtype differs or the device has an index ('cpu:0')
    if isinstance(data, xp.ndarray):
        shared = sharing_numpy_memory(data)
        if (dtype is None or data.dtype == dtype) and (device is None or ":" not in device):
            return shared
    return tensor(data, dtype=dtype, device=device)


def _no_stored_values(shape, dtype, requires_grad, layout):
    """What ``zeros`` and ``empty`` give for a sparse layout (COO, CSR, CSC): a sparse tensor storing nothing."""
    from chainrule.sparse.compressed_array import SparseCompressedArray  # noqa: PLC0415 (the sparse package's operations use this module)
    from chainrule.sparse.coo_array import SparseCOOArray  # noqa: PLC0415

    if layout is memory_layout.sparse_coo:
        nothing = SparseCOOArray(xp.zeros((len(shape), 0), dtype=dtypes.int64), xp.zeros((0,), dtype=dtype), shape, coalesced=True)
    else:
        nothing = SparseCompressedArray.empty(shape, dtype, layout)
    return tensor_from_array(nothing, requires_grad)


def _refuse_sparse_filled(layout, operation):
    if layout is memory_layout.sparse_coo:
        raise RuntimeError("full(...) is not implemented for sparse layout")
    memory_layout.refuse_compressed(layout, operation)


@public(method=False)
@made_in_dtype_of_out
def zeros(*size, dtype=None, layout=None, requires_grad=False, device=None, pin_memory=False):
    if pin_memory:
        refuse_pinned_memory()
    shape = size_argument(size, "zeros")
    dtype = _float_dtype(dtype, "zeros")
    if layout is memory_layout.sparse_coo or layout in memory_layout.COMPRESSED:
        return _no_stored_values(shape, dtype, requires_grad, layout)
    if on_meta(device):
        return on_meta_device(shape, dtype, requires_grad)
    return _from_arguments(xp.zeros(shape, dtype=dtype), requires_grad)


@public(method=False)
@made_in_dtype_of_out
def ones(*size, dtype=None, layout=None, requires_grad=False, device=None, pin_memory=False):
    if pin_memory:
        refuse_pinned_memory()
    shape = size_argument(size, "ones")
    dtype = _float_dtype(dtype, "ones")
    _refuse_sparse_filled(layout, "ones")
    if on_meta(device):
        return on_meta_device(shape, dtype, requires_grad)
    return _from_arguments(xp.ones(shape, dtype=dtype), requires_grad)


@public(method=False)
@made_in_dtype_of_out
def empty(*size, dtype=None, layout=None, requires_grad=False, device=None, pin_memory=False, memory_format=None):
    if pin_memory:
        refuse_pinned_memory()
    shape = size_argument(size, "empty")
    check_memory_format(memory_format, len(shape), "empty", preserve=False)
    order = memory_layout.CHANNELS_LAST_ORDERS.get(memory_format)
    dtype = _float_dtype(dtype, "empty")
    if layout is memory_layout.sparse_coo or layout in memory_layout.COMPRESSED:
        return _no_stored_values(shape, dtype, requires_grad, layout)
    if on_meta(device):
        return on_meta_device(shape, dtype, requires_grad)
    make = lambda sizes: _from_arguments(xp.empty(sizes, dtype=dtype), requires_grad)  # noqa: E731
    return memory_layout.made_in_order(make, shape, order)


@public(method=False)
def scalar_tensor(s, dtype=None, device=None, requires_grad=False):
    """The number ``s`` as a 0-d tensor of the default float dtype (or ``dtype``), whatever its type."""
    array = xp.asarray(s, dtype=_float_dtype(dtype))
    if on_meta(device):
        return on_meta_device((), array.dtype, requires_grad)
    return _from_arguments(array, requires_grad)


@public(method=False)
@made_in_dtype_of_out
def full(size, fill_value, dtype=None, layout=None, requires_grad=False, device=None, pin_memory=False):
    """``size`` (a tuple or list) filled with ``fill_value``; the dtype follows the value as in PyTorch."""
    if pin_memory:
        refuse_pinned_memory()
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {argument_type_name(size)}")
    shape = size_argument((size,), "full")
    _refuse_sparse_filled(layout, "full")
    fill_value = fill_number(fill_value, "full")
    dtype = dtypes.infer_dtype(fill_value) if dtype is None else checked_dtype(dtype)
    if on_meta(device):
        return on_meta_device(shape, dtype, requires_grad)
    return _from_arguments(_filled(shape, fill_value, dtype), requires_grad)


def fill_number(value, function):
    """The ``fill_value`` of ``full``, ``full_like`` or ``new_full`` as the Python number PyTorch reads
    it as (its type chooses ``full``'s dtype): a bool, int, float or complex; a 0-d tensor's value; a NumPy
    number as a Python one (a NumPy bool as a float, as PyTorch reads it: ``full((2,),
    np.float64(1.5))`` is float32, ``full((2,), np.bool_(True))`` too). Anything else, a tensor with
    dimensions included, is PyTorch's TypeError."""
    if isinstance(value, xp.generic):  # (numpy.float64 is a Python float too: its dtype is not kept)
        if isinstance(value, xp.bool_):
            return float(value)
        if isinstance(value, (xp.integer, xp.floating)):
            return value.item()
    elif isinstance(value, (int, float, complex)):  # bool too
        return value
    elif isinstance(value, Tensor) and value._array.ndim == 0:
        read_into_python(f"{function}'s fill_value")
        return value._array.item()
    raise TypeError(
        f"{function}(): argument 'fill_value' (position 2) must be Number, not "
        f"{'Tensor' if isinstance(value, Tensor) else dtypes.python_type_name(value)} (give a number or a 0-d tensor)"
    )


def _filled(shape, fill_value, dtype):
    """An array of ``shape`` and ``dtype`` holding ``fill_value``, a number converted as PyTorch
    converts it (-3 into uint8 is 253; 300 into int8 is refused: ``dtypes.checked_scalar``)."""
    return xp.full(shape, dtypes.checked_scalar(fill_value, dtype), dtype=dtype)


def like_shape_and_dtype(input, dtype, memory_format, function):
    """The shape and dtype of a ``*_like`` factory's result."""
    check_memory_format(memory_format, input._array.ndim, function)
    return input._array.shape, xp.dtype(checked_dtype(dtype)) if dtype is not None else input._array.dtype


def made_like(input, memory_format, make, shape):
    """``make(sizes)``'s new row-major tensor, laid out as a ``*_like`` factory's result is: in
    ``memory_format``, by default (``preserve_format``) with input's dimensions in their order in
    memory, as PyTorch's ``empty_like`` (``zeros_like(x.t())`` is transposed too; see memory_layout.py)."""
    return memory_layout.made_in_order(make, shape, memory_layout.dimension_order(input, memory_format))


@public(method=False)
def zeros_like(input, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype = like_shape_and_dtype(input, dtype, memory_format, "zeros_like")
    layout = input.layout if layout is None else layout
    if layout is memory_layout.sparse_coo or layout in memory_layout.COMPRESSED:
        return _no_stored_values(shape, dtype, requires_grad, layout)
    if like_on_meta(input, device):
        return on_meta_device(shape, dtype, requires_grad)
    return made_like(input, memory_format, lambda sizes: _from_arguments(xp.zeros(sizes, dtype=dtype), requires_grad), shape)


@public(method=False)
def ones_like(input, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype = like_shape_and_dtype(input, dtype, memory_format, "ones_like")
    if like_on_meta(input, device):
        return on_meta_device(shape, dtype, requires_grad)
    return made_like(input, memory_format, lambda sizes: _from_arguments(xp.ones(sizes, dtype=dtype), requires_grad), shape)


@public(method=False)
def empty_like(input, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype = like_shape_and_dtype(input, dtype, memory_format, "empty_like")
    layout = input.layout if layout is None else layout
    if layout is memory_layout.sparse_coo or layout in memory_layout.COMPRESSED:
        return _no_stored_values(shape, dtype, requires_grad, layout)
    if like_on_meta(input, device):
        return on_meta_device(shape, dtype, requires_grad)
    return made_like(input, memory_format, lambda sizes: _from_arguments(xp.empty(sizes, dtype=dtype), requires_grad), shape)


@public(method=False)
def full_like(input, fill_value, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    fill_value = fill_number(fill_value, "full_like")
    shape, dtype = like_shape_and_dtype(input, dtype, memory_format, "full_like")
    if like_on_meta(input, device):
        return on_meta_device(shape, dtype, requires_grad)
    return made_like(input, memory_format, lambda sizes: _from_arguments(_filled(sizes, fill_value, dtype), requires_grad), shape)


# ----------------------------------------------------------------------------- ranges
def _number_argument(value, function, argument, position):
    """A bound or step of ``arange``/``linspace``: a Python or NumPy number, or a 0-d tensor (whose
    value counts as a Python number: ``arange(torch.tensor(5))`` is int64, as in PyTorch)."""
    if isinstance(value, Tensor) and value._array.ndim == 0:
        read_into_python(f"{function}'s {argument}")
        return value._array.item()
    if isinstance(value, (int, float)) or isinstance(value, (xp.integer, xp.floating, xp.bool_)):
        value = value.item() if isinstance(value, xp.generic) else value
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise OverflowError(f"int too big to convert: {function}()'s {argument} must fit in int64, got {value}")
        return value
    raise TypeError(f"{function}(): argument '{argument}' (position {position}) must be Number, not {argument_type_name(value)}")


def _fused_multiply_add(a, b, c):
    """a * b + c rounded once, as the fused multiply-add PyTorch's compiled kernels use (float64
    arrays; Dekker's exact product and Knuth's exact sum, then one final rounding)."""
    with xp.errstate(over="ignore", invalid="ignore"):
        product = a * b
        split = 134217729.0  # 2**27 + 1: halves of 26 bits whose products are exact
        a_high = a * split - (a * split - a)
        b_high = b * split - (b * split - b)
        a_low, b_low = a - a_high, b - b_high
        product_error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
        total = product + c
        kept = total - product
        sum_error = (product - (total - kept)) + (c - kept)
        exact = total + (sum_error + product_error)
    return xp.where(xp.isfinite(exact), exact, product + c)


#: Bytes of one vector register in PyTorch's CPU kernels (AVX2): ``arange`` computes each vector's
#: first element from ``start``, and the next ones from that first element.
_VECTOR_BYTES = 32


def _floating_arange(start, step, count, dtype):
    """PyTorch's float ``arange`` values: ``start + step * i`` computed in float64 with a fused
    multiply-add, then rounded to ``dtype``; within each vector of its kernel, element ``k`` is
    ``first + k * step`` from the vector's (rounded) first element. (NumPy's arange instead repeats
    its first step, so ``arange(-8, 8, 0.1)[80]`` would be -2.8e-14, not PyTorch's 4.4e-16.)"""
    width = max(_VECTOR_BYTES // dtype.itemsize, 1)
    index = xp.arange(count, dtype=xp.float64)
    values = _fused_multiply_add(index, float(step), float(start)).astype(dtype)
    vectorized = count // (2 * width) * (2 * width)  # the kernel's loop does two vectors at a time
    if vectorized:
        lane = index[:vectorized] % width
        first = values[:vectorized] if width == 1 else values[:vectorized].reshape(-1, width)[:, :1].repeat(width, 1).reshape(-1)
        values[:vectorized] = _fused_multiply_add(lane, float(step), first.astype(xp.float64)).astype(dtype)
    return values


@public(method=False)
@made_in_dtype_of_out
def arange(start=None, end=None, step=1, dtype=None, layout=None, requires_grad=False, device=None, pin_memory=False):
    """Numbers from ``start`` up to (not including) ``end``: ceil((end - start) / step) of them,
    ``start + i * step``; int64 when all arguments are ints (or integer 0-d tensors), else the
    default float dtype.

    An integer dtype counts in int64 from the bounds and step truncated toward zero, as PyTorch's
    kernel does; how many numbers there are comes, as in PyTorch, from the truncated ones for int64
    and from the numbers given for the other integer dtypes: ``arange(0, 4, 1.5, dtype=int64)`` is
    [0, 1, 2, 3], with ``dtype=int32`` [0, 1, 2]."""
    if pin_memory:
        refuse_pinned_memory()
    if end is None:
        if start is None:
            raise TypeError("arange() missing required argument 'end' (pos 1)")
        start, end, end_position = 0, start, 1
    else:
        end_position = 2
    try:
        start = 0 if start is None else _number_argument(start, "arange", "start", 1)
        end = _number_argument(end, "arange", "end", end_position)
        step = _number_argument(step, "arange", "step", 3)
    except TypeError:
        if any(isinstance(value, complex) for value in (start, end, step)):
            raise RuntimeError(
                "value cannot be converted to type double without overflow: arange counts in real numbers "
                "(give real start, end and step)"
            ) from None
        raise
    if dtype is None:
        whole = not any(isinstance(value, float) for value in (start, end, step))
        dtype = dtypes.int64 if whole else dtypes.get_default_dtype()
    dtype = xp.dtype(dtype)
    refuse_dtype(dtype, "arange_cpu", _BOOL_AND_WIDE_UNSIGNED)
    if not (step > 0 or step < 0):  # (nan too)
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {_c_number(start)} -> {_c_number(end)}")
    if not (step > 0 and end >= start or step < 0 and end <= start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype.kind in "iu":
        whole_start, whole_step = _truncated_to_int64(start), _truncated_to_int64(step)
        if dtype == xp.int64:
            if whole_step == 0:
                raise ValueError("step must be nonzero")
            sign = 1 if whole_step > 0 else -1
            count = (_truncated_to_int64(end) - whole_start + whole_step - sign) // whole_step
        else:
            count = math.ceil((float(end) - float(start)) / float(step))
    else:
        count = math.ceil((float(end) - float(start)) / float(step))
    if count >= 2**63:
        raise RuntimeError(f"invalid size, possible overflow? (arange of {count} numbers)")
    if on_meta(device):
        return on_meta_device((count,), dtype, requires_grad)
    try:
        if dtype.kind in "iu":  # in int64, then converted as a C cast does (wrapping into int8, uint8...)
            values = (xp.arange(count, dtype=xp.int64) * whole_step + whole_start).astype(dtype)
        else:
            values = _floating_arange(start, step, count, dtype)
    except (MemoryError, ValueError):  # NumPy's refusals of an array too large for memory
        raise RuntimeError(
            f"Storage size calculation overflowed: arange of {count} numbers of {dtypes.dtype_name(dtype)} is too "
            f"large for memory; count fewer (a larger step, a smaller range)"
        ) from None
    return _from_arguments(values, requires_grad)


def _truncated_to_int64(number):
    """``number`` truncated toward zero into the 64-bit integers, as PyTorch's ``Scalar.to<int64_t>``."""
    if not -(2**63) <= number < 2**63:
        raise RuntimeError(f"value cannot be converted to type int64_t without overflow (got {number})")
    return int(number)


def _c_number(value):
    """A number as PyTorch's C++ messages print it (``0``, ``inf``, ``0.5``)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _steps_argument(start, end, steps, function):
    """The checked ``start``, ``end`` (numbers, or 0-d tensors) and ``steps`` of linspace/logspace."""
    steps = integer_argument(steps, function, "steps", 3)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    bounds = []
    for name, position, value in (("start", 1, start), ("end", 2, end)):
        if isinstance(value, Tensor) and value._array.ndim != 0:
            raise RuntimeError(
                f"{function} only supports 0-dimensional start and end tensors, but got {name} with "
                f"{value._array.ndim} dimension(s)."
            )
        bounds.append(_number_argument(value, function, name, position))
    return bounds[0], bounds[1], steps


@public(method=False)
@made_in_dtype_of_out
def linspace(start, end, steps, dtype=None, layout=None, requires_grad=False, device=None, pin_memory=False):
    """``steps`` numbers evenly spaced from ``start`` to ``end``, both included. As PyTorch's kernel:
    the first half counts up from ``start`` and the second half down from ``end`` by the step
    (end - start) / (steps - 1), computed in ``dtype`` (float64 for integer dtypes)."""
    if pin_memory:
        refuse_pinned_memory()
    start, end, steps = _steps_argument(start, end, steps, "linspace")
    dtype = _float_dtype(dtype)
    refuse_dtype(dtype, "linspace_cpu", _BOOL_AND_WIDE_UNSIGNED)
    if on_meta(device):
        return on_meta_device((steps,), dtype, requires_grad)
    return _from_arguments(evenly_spaced(start, end, steps, dtype), requires_grad)


def evenly_spaced(start, end, steps, dtype):
    """``linspace``'s array of ``dtype``, computed as PyTorch's kernel computes it (histogram's edges too)."""
    working = xp.dtype(xp.float64) if dtype.kind in "iu" else dtype
    first = xp.asarray(int(start) if dtype.kind in "iu" else start).astype(working)
    last = xp.asarray(int(end) if dtype.kind in "iu" else end).astype(working)
    if steps <= 1:
        return xp.full(steps, first).astype(dtype)
    step = (last - first) / working.type(steps - 1)
    index = xp.arange(steps)
    up = index < steps // 2
    counts = xp.where(up, index, steps - index - 1).astype(xp.float64)
    origin = xp.where(up, first, last).astype(xp.float64)
    direction = xp.where(up, 1.0, -1.0) * float(step)
    return _fused_multiply_add(counts, direction, origin).astype(working).astype(dtype)


@public(method=False)
@made_in_dtype_of_out
def logspace(start, end, steps, base=10.0, dtype=None, layout=None, requires_grad=False, device=None, pin_memory=False):
    """``steps`` numbers from base^start to base^end whose logarithms are evenly spaced, computed
    as PyTorch does: base ** (start + i * step) in float64 (counting down from ``end`` in the
    second half), then rounded to ``dtype``."""
    if pin_memory:
        refuse_pinned_memory()
    start, end, steps = _steps_argument(start, end, steps, "logspace")
    dtype = _float_dtype(dtype)
    refuse_dtype(dtype, "logspace_cpu", _BOOL_AND_WIDE_UNSIGNED)
    if on_meta(device):
        return on_meta_device((steps,), dtype, requires_grad)
    kept = xp.int64 if dtype.kind in "iu" else dtype
    first = xp.asarray(int(start) if dtype.kind in "iu" else start).astype(kept)
    last = xp.asarray(int(end) if dtype.kind in "iu" else end).astype(kept)
    if steps <= 1:
        exponents = xp.full(steps, float(first))
    else:
        step = float(last - first) / (steps - 1)
        index = xp.arange(steps, dtype=xp.float64)
        up = index < steps // 2
        exponents = xp.where(up, float(first) + step * index, float(last) - step * (steps - index - 1))
    # the C library's pow, as PyTorch's: NumPy's vectorized power differs from it in the last bit
    powers = xp.array([math.pow(float(base), exponent) for exponent in exponents.tolist()], dtype=xp.float64)
    return _from_arguments(powers.astype(dtype), requires_grad)


@public(method=False, name="range")
@made_in_dtype_of_out
def range_(start, end, step=1, dtype=None, requires_grad=False, device=None):
    """Deprecated, as in PyTorch: numbers from ``start`` to ``end`` *included*, in the default
    float dtype; use ``arange`` (end excluded) instead."""
    warn_at_caller(
        "torch.range is deprecated and will be removed in a future release because its behavior is "
        "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in [start, end)."
    )
    dtype = _float_dtype(dtype)
    refuse_dtype(dtype, "range_cpu", _BOOL_AND_WIDE_UNSIGNED)
    start, end, step = (_number_argument(value, "range", name, position) for position, (name, value) in
                        enumerate((("start", start), ("end", end), ("step", step)), 1))
    if step == 0 or (end - start) * step < 0:
        raise RuntimeError(f"range: upper bound and larger bound inconsistent with step sign (start {start}, end {end}, step {step})")
    count = int(math.floor((end - start) / step)) + 1
    if on_meta(device):
        return on_meta_device((count,), dtype, requires_grad)
    return _from_arguments((xp.arange(count) * step + start).astype(dtype), requires_grad)


@public(method=False)
def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    """``obj`` as a tensor, sharing its memory where it can (a tensor itself, or a NumPy array of
    the dtype asked, taken as ``from_numpy`` takes it): ``copy=True`` always copies, ``copy=False``
    refuses to. A tensor's graph is kept unless ``requires_grad=False`` detaches it; left unsaid,
    ``requires_grad`` is the tensor's own (PyTorch 2.13 warns that this changed)."""
    if requires_grad is None:
        requires_grad = isinstance(obj, Tensor) and obj.requires_grad
        if requires_grad:
            warn_once(
                "asarray requires_grad",
                "torch.asarray: unspecified requires_grad now defaults to obj.requires_grad instead of False. Pass "
                "requires_grad=False explicitly to get the old behavior and silence this warning.",
            )
    if on_meta(device):
        result = as_tensor(obj, dtype, device="meta")
        shares = result is obj
    elif isinstance(obj, Tensor):
        shares = dtype is None or xp.dtype(dtype) == obj._array.dtype
        result = obj if shares else obj.to(dtype)
        if copy and shares:
            result = tensor_from_array(obj._array.copy())
    elif isinstance(obj, xp.ndarray):
        shares = dtype is None or xp.dtype(dtype) == obj.dtype
        if shares and not copy:
            result = sharing_numpy_memory(obj)
        else:
            check_numpy_array(obj)
            result = tensor_from_array(obj.astype(dtype or obj.dtype))
    else:
        result, shares = tensor(obj, dtype=dtype, device=device), False
    if copy is False and not shares:
        raise ValueError("asarray: copy=False, but obj cannot be used without a copy (another dtype, or not an array)")
    if not requires_grad and result.requires_grad:
        return result.detach()  # the same memory, out of the graph
    if requires_grad and not result.requires_grad:
        result.requires_grad = True
    return result


@public(method=False)
@made_in_dtype_of_out
def eye(n, m=None, dtype=None, layout=None, requires_grad=False, device=None, pin_memory=False):
    """The n x m (n x n without ``m``) identity matrix: ones on the diagonal."""
    if pin_memory:
        refuse_pinned_memory()
    n = integer_argument(n, "eye", "n", 1)
    m = n if m is None else integer_argument(m, "eye", "m", 2)
    for name, side in (("n", n), ("m", m)):
        if side < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {side}")
    dtype = _float_dtype(dtype)
    refuse_dtype(dtype, "eye")
    if on_meta(device):
        return on_meta_device((n, m), dtype, requires_grad)
    return _from_arguments(xp.eye(n, m, dtype=dtype), requires_grad)


def _random_float_dtype(dtype, kernel):
    """The dtype of a continuous random factory, refusing an integer one as PyTorch does."""
    dtype = _float_dtype(dtype)
    if dtype.kind not in "fc":
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{dtypes.scalar_type_name(dtype)}'; samples of a "
            f"continuous distribution need a floating dtype, e.g. dtype=torch.float32"
        )
    return dtype


@public(method=False)
@made_in_dtype_of_out
def rand(*size, generator=None, dtype=None, layout=None, requires_grad=False, device=None, pin_memory=False):
    """Samples of the uniform distribution on [0, 1)."""
    if pin_memory:
        refuse_pinned_memory()
    shape = size_argument(size, "rand")
    dtype = _random_float_dtype(dtype, "check_uniform_bounds")
    if on_meta(device):
        return on_meta_device(shape, dtype, requires_grad)
    return _uniform(shape, generator, dtype, requires_grad)


def _uniform(shape, generator, dtype, requires_grad):
    """A new tensor of U[0, 1) samples (``rand``, ``rand_like``)."""
    return _finish(_drawn_parts(sampling_algorithms.uniform, generator, shape, 0.0, 1.0, dtype), requires_grad)


def _drawn_parts(sample, generator, shape, low_or_mean, high_or_std, dtype):
    """``drawn(sample, ...)`` for a real dtype; for a complex one, as PyTorch draws it: the real
    and imaginary parts side by side (each element's real part first), as a real tensor of shape
    (*shape, 2) would be drawn. The normal's spread is divided by √2, so that
    a complex standard normal has variance 1 (each part 1/2)."""
    dtype = xp.dtype(dtype)
    if dtype.kind != "c":
        return drawn(sample, generator, shape, low_or_mean, high_or_std, dtype)
    if sample is sampling_algorithms.uniform:
        parts = drawn(sample, generator, (*shape, 2), low_or_mean, high_or_std, dtypes.real_dtype(dtype))
    else:
        parts = drawn(sample, generator, (*shape, 2), low_or_mean, high_or_std / math.sqrt(2), dtypes.real_dtype(dtype))
    return parts.view(dtype)[..., 0]


@public(method=False)
@made_in_dtype_of_out
def randn(*size, generator=None, dtype=None, layout=None, requires_grad=False, device=None, pin_memory=False):
    """Samples of the standard normal distribution N(0, 1)."""
    if pin_memory:
        refuse_pinned_memory()
    shape = size_argument(size, "randn")
    dtype = _random_float_dtype(dtype, "normal_kernel_cpu")
    if on_meta(device):
        return on_meta_device(shape, dtype, requires_grad)
    return _standard_normal(sampling_algorithms.normal, shape, generator, dtype, requires_grad)


def _standard_normal(sample, shape, generator, dtype, requires_grad):
    """A new tensor of N(0, 1) samples of floating ``dtype`` drawn by ``sample`` (PyTorch's path
    for a contiguous tensor, ``sampling_algorithms.normal``, or its path for another, ``normal_one_by_one``)."""
    return _finish(_drawn_parts(sample, generator, shape, 0.0, 1.0, dtype), requires_grad)


#: The C++ names of the types, as PyTorch's bound errors write them.
_C_TYPE_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short", "int32": "int",
                 "int64": "long", "float16": "c10::Half", "float32": "float", "float64": "double",
                 "uint16": "short unsigned int", "uint32": "unsigned int", "uint64": "long unsigned int"}


def c_type_name(dtype):
    """``dtype``'s C++ name, as PyTorch's messages about bounds write it (``float``, ``c10::Half``)."""
    return _C_TYPE_NAMES.get(dtype.name, dtype.name)


def random_bounds(low, high, dtype):
    """PyTorch's [low, high) for ``randint`` and ``random_(low, high)`` into ``dtype``, checked;
    ``high`` None draws up to the largest integer ``dtype`` holds (2^digits for a floating one).

    For a floating dtype, a bound that the dtype would round outside the range moves inward to
    the nearest integer the dtype holds, as PyTorch's ``update_from`` / ``update_to`` do (float32
    ``random_(0, 2**25)`` draws from [0, 2^25 - 2)). Then, as PyTorch, low and high - 1 must lie
    within the dtype's bounds, and a warning says when a floating dtype cannot hold every integer
    between them. Returns (low, high), high exclusive."""
    name = c_type_name(dtype)
    floating = dtype.kind == "f"
    digits = xp.finfo(dtype).nmant + 1 if floating else None
    if high is not None:
        if low >= high:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        if floating:
            low, high = _held_from(low, digits), _held_to(high, digits)
            if low >= high:
                raise RuntimeError(
                    f"random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, but got from={low} >= to={high}"
                )
        largest_drawn = high - 1
    elif floating:
        largest_drawn, low = 2**digits, _held_from(low, digits)
        if low >= largest_drawn:
            raise RuntimeError(
                f"random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' casted to dtype, "
                f"but got from={low} > to_inc={largest_drawn}"
            )
    else:
        largest_drawn = 1 if dtype.kind == "b" else int(xp.iinfo(dtype).max)
    if dtype.kind == "b":
        smallest, largest = 0, 1
    elif dtype.kind in "iu":
        smallest, largest = int(xp.iinfo(dtype).min), int(xp.iinfo(dtype).max)
    else:
        smallest, largest = -float(xp.finfo(dtype).max), float(xp.finfo(dtype).max)
    for label, bound in (("from", low), ("to - 1", largest_drawn)):
        if not smallest <= bound <= largest:
            raise RuntimeError(f"{label} is out of bounds for {name}")
    if floating:
        for label, bound in (("from", low), ("to - 1", largest_drawn)):
            if abs(bound) > 2**digits:
                warn_at_caller(
                    f"{label} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations {name} can "
                    f"support discrete uniform distribution only within this range. This warning will become an "
                    f"error in version 1.7 release, please fix the code in advance"
                )
    return low, largest_drawn + 1


def _nearest_held(integer, digits):
    """``integer`` rounded to ``digits`` significant bits, ties to even (C++'s cast of an int64 to
    a floating type with that many digits, read back as an integer)."""
    dropped = max(abs(integer).bit_length() - digits, 0)
    if not dropped:
        return integer
    kept, rest = divmod(abs(integer), 1 << dropped)
    half = 1 << (dropped - 1)
    kept += rest > half or (rest == half and kept % 2 == 1)
    return (kept << dropped) * (1 if integer > 0 else -1)


def _held_from(low, digits):
    """PyTorch's ``update_from``: a lower bound that the dtype would round below ``low`` (seen at
    low + 1) becomes the next integer the dtype holds above it."""
    rounded = _nearest_held(low + 1, digits)
    if rounded < low:
        return rounded + (1 << (abs(low + 1).bit_length() - 1 - digits + 1))
    return low


def _held_to(high, digits):
    """PyTorch's ``update_to``: an upper bound (exclusive) that the dtype would round up to ``high``
    or past it (seen at high - 1) becomes the next integer the dtype holds below it."""
    rounded = _nearest_held(high - 1, digits)
    if rounded >= high:
        return rounded - (1 << (abs(high - 1).bit_length() - 1 - digits + 1))
    return high


@public(method=False)
@made_in_dtype_of_out
def randint(low=0, high=None, size=None, *, generator=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False):
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``,
    int64 unless ``dtype`` says otherwise (a float dtype holds the integers as floats)."""
    if pin_memory:
        refuse_pinned_memory()
    if size is None:
        if high is None:
            raise TypeError("randint() missing required argument 'size'; write randint(high, (n,)) or randint(low, high, (n,))")
        low, high, size = 0, low, high
        high_position = 1
    else:
        high_position = 2
    if high is None:  # randint(high, size=...)
        low, high = 0, low
        high_position = 1
    low = integer_argument(low, "randint", "low", 1)
    high = integer_argument(high, "randint", "high", high_position)
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' (position {high_position + 1}) must be tuple of ints, not {argument_type_name(size)}")
    shape = size_argument((size,), "randint", high_position + 1)
    dtype = xp.dtype(dtype) if dtype is not None else xp.dtype(dtypes.int64)
    low, high = random_bounds(low, high, dtype)
    if on_meta(device):
        return on_meta_device(shape, dtype, requires_grad)
    return _finish(drawn(sampling_algorithms.integers, generator, shape, low, high, dtype), requires_grad)


@public(method=False)
@made_in_dtype_of_out
def randperm(n, generator=None, dtype=None, layout=None, requires_grad=False, device=None, pin_memory=False):
    """A random permutation of 0 .. n-1 (int64 unless ``dtype`` says otherwise)."""
    if pin_memory:
        refuse_pinned_memory()
    n = integer_argument(n, "randperm", "n", 1)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dtype = xp.dtype(dtype) if dtype is not None else xp.dtype(dtypes.int64)
    refuse_dtype(dtype, "randperm", _BOOL_AND_WIDE_UNSIGNED)
    if dtype.kind in "iu" and n - 1 > int(xp.iinfo(dtype).max):
        raise RuntimeError(f"value cannot be converted to type {dtype.name}_t without overflow")
    if dtype.kind == "f" and n > 2 ** (xp.finfo(dtype).nmant + 1) + 1:
        raise RuntimeError(
            f"n cannot be greater than 2^{xp.finfo(dtype).nmant + 1}+1 for {dtypes.scalar_type_name(dtype)} type "
            f"(n = {n}): {dtype.name} cannot hold every integer below it"
        )
    if on_meta(device):
        return on_meta_device((n,), dtype, requires_grad)
    return _finish(drawn(_permutation, generator, n, dtype), requires_grad)


def _permutation(engine, n, dtype):
    return sampling_algorithms.permutation(engine, n).astype(dtype)


@public(method=False)
def rand_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Samples of U[0, 1) in input's shape and dtype (or ``dtype``; a floating one)."""
    shape, dtype = like_shape_and_dtype(input, dtype, memory_format, "rand_like")
    dtype = _random_float_dtype(dtype, "check_uniform_bounds")
    if like_on_meta(input, device):
        return on_meta_device(shape, dtype, requires_grad)
    return made_like(input, memory_format, lambda sizes: _uniform(sizes, generator, dtype, requires_grad), shape)


@public(method=False)
def randn_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Samples of N(0, 1) in input's shape and dtype (or ``dtype``; a floating one). A result laid
    out otherwise than row-major (``randn_like(x.t())``) is not contiguous: PyTorch draws its
    samples one by one, in memory order."""
    shape, dtype = like_shape_and_dtype(input, dtype, memory_format, "randn_like")
    dtype = _random_float_dtype(dtype, "normal_kernel_cpu")
    if like_on_meta(input, device):
        return on_meta_device(shape, dtype, requires_grad)
    order = memory_layout.dimension_order(input, memory_format)
    sample = sampling_algorithms.normal if order is None else sampling_algorithms.normal_one_by_one
    return memory_layout.made_in_order(lambda sizes: _standard_normal(sample, sizes, generator, dtype, requires_grad), shape, order)
