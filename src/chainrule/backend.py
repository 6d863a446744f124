"""The one seam between chainrule and the array library.

Every operation does its arithmetic through ``xp``. Today ``xp`` is NumPy; a CuPy backend can
replace it without any operation changing, because no other module imports NumPy for array math.
"""
import ctypes
import functools
import mmap
import os
import pickle
import platform
import warnings

import math

import numpy

xp = numpy

# NumPy reports a floating-point overflow, an invalid result (inf - inf) or a division by zero as a
# RuntimeWarning ("overflow encountered in multiply"); PyTorch gives the inf or nan silently. The
# operations most likely to meet them enter ``ignoring_float_errors`` themselves; for the cheapest
# (a product, a sum, a matrix product), where that would cost more than the arithmetic, NumPy's
# reports from chainrule's own code are filtered out: by a warnings filter, kept first
# (``float_errors_filtered_first``), since a filter set later comes first (``simplefilter("error")``
# or pytest's ``-W error`` would turn them into exceptions PyTorch never raises). The user's own
# NumPy code is not affected.
def float_errors_filtered_first():
    """Put the filter of NumPy's float-error reports from chainrule's code first among the warnings
    filters (again, where the user's code or pytest put others before it). ``FLOAT_ERRORS_FILTER[0]``
    is the filter, which an operation finds first in ``warnings.filters`` while it stays so."""
    warnings.filterwarnings(
        "ignore", r"(overflow|invalid value|divide by zero|underflow) encountered in", RuntimeWarning, r"chainrule\."
    )
    FLOAT_ERRORS_FILTER[0] = warnings.filters[0]


FLOAT_ERRORS_FILTER = [None]
float_errors_filtered_first()

#: The concrete array type of the backend: a tensor's ``array`` is always one of these.
ndarray = numpy.ndarray

#: The backend's linear algebra (``inv``, ``solve``, ``cholesky``, ``qr``, ``svd``, ``eigh``,
#: ``slogdet``...), batched over leading dimensions; CuPy has the same functions in ``cupy.linalg``.
linalg = numpy.linalg
#: What ``linalg`` raises for a singular (or not positive-definite) matrix.
LinAlgError = numpy.linalg.LinAlgError


_SMALL = 1 << 16  # elements: up to this size a copy costs less than a view saves


#: float16, which PyTorch's CPU kernels accumulate in float32.
HALF = numpy.dtype(numpy.float16)


def _computed_wider(compute, wider_of):
    """``compute`` (a function of arrays) made to compute in a wider dtype where its first argument
    is an array of a dtype in ``wider_of`` (that dtype -> the wider one): every array argument of
    that dtype is taken in the wider one, and the result is rounded back to it once. Other dtypes,
    and tensors (a recorded backward, whose own operations do this), go straight to ``compute``."""

    @functools.wraps(compute)
    def computed(array, *arguments, **keywords):
        wider = wider_of.get(array.dtype) if isinstance(array, ndarray) else None
        if wider is None:
            return compute(array, *arguments, **keywords)
        widened = [argument.astype(wider) if isinstance(argument, ndarray) and argument.dtype == array.dtype else argument for argument in arguments]
        result = compute(array.astype(wider), *widened, **keywords)
        with ignoring_float_errors():  # beyond the dtype's range: inf, silently, as in PyTorch
            return result.astype(array.dtype)

    return computed


def file_bytes(filename, count):
    """The first ``count`` bytes of a file, read into a new uint8 array."""
    return numpy.fromfile(filename, dtype=numpy.uint8, count=count)


def mapped_file_bytes(filename, count):
    """The first ``count`` bytes of a file as a uint8 array that is the file's memory (mapped:
    writes reach the file)."""
    if count == 0:
        return numpy.empty(0, dtype=numpy.uint8)
    return numpy.memmap(filename, dtype=numpy.uint8, mode="r+", shape=(count,)).view(numpy.ndarray)


def half_in_float32(compute):
    """``compute`` (a function of arrays that reduces them: a sum, a mean, a running sum, a norm, a
    softmax) made to treat float16 as PyTorch's CPU kernels do: float16 arrays taken in float32,
    the result rounded to float16 once. Accumulated in float16, a sum of ones stops growing at
    2048 (2048 + 1 rounds to 2048) and a sum of squares overflows past 65504; in float32 neither
    happens."""
    return _computed_wider(compute, {HALF: numpy.float32})


#: PyTorch's CPU accumulation type of each floating dtype (``at::acc_type``)
_ACCUMULATED_IN = {HALF: numpy.float32, numpy.dtype(numpy.float32): numpy.float64, numpy.dtype(numpy.complex64): numpy.complex128}


def accumulated_wider(compute):
    """``compute`` (a running sum or product) carried out in PyTorch's CPU accumulation type of
    its array's dtype (``_ACCUMULATED_IN``), each result rounded back once."""
    return _computed_wider(compute, _ACCUMULATED_IN)


class ArrayFunctions:
    """The array library's functions as a backward formula sees them in a plain backward
    (``ctx.xp``): the library's own, but for the few below, faster for the small arrays that most
    of a training step's operations work on. A name is looked up in the library once, then kept
    here, so that ``ctx.xp.exp`` costs what ``numpy.exp`` does."""

    def __getattr__(self, name):
        function = getattr(xp, name)
        setattr(self, name, function)
        return function

    @staticmethod
    def broadcast_to(array, shape):
        """``numpy.broadcast_to``: ``array`` read as ``shape``, a read-only view (stride 0 along the
        broadcast dimensions). Made directly from a contiguous array's memory, in an eighth of
        NumPy's time, which checks more general cases (its 2 µs are a tenth of a small Linear's
        step). A 0-d array spread over a small shape is a new array instead (``numpy.full``)."""
        shape = tuple(shape)
        if type(array) is MetaArray:  # (NumPy's gives a plain array of it)
            return meta_array(shape, array.dtype)
        if array.ndim == 0 and math.prod(shape) <= _SMALL:
            # one number everywhere (the gradient of a sum): filling a new array takes a third of
            # the time of making the view, and what is computed from it next runs twice as fast
            # (empty and fill, as numpy.full does, without its two Python-level calls)
            filled = numpy.empty(shape, array.dtype)
            filled[...] = array
            return filled
        lead = len(shape) - array.ndim
        if lead < 0 or not array.flags.c_contiguous or any(
            size != 1 and size != wanted for size, wanted in zip(array.shape, shape[lead:])
        ):
            return numpy.broadcast_to(array, shape)
        strides = (0,) * lead + tuple(
            0 if size == 1 else stride for size, stride in zip(array.shape, array.strides)
        )
        view = numpy.ndarray(shape, array.dtype, array, 0, strides)
        view.flags.writeable = False
        return view


    @staticmethod
    def conj(array):
        """The complex conjugate; a real array itself, not a copy (``numpy.conj`` copies it): every
        backward formula conjugates its derivative for complex inputs, and a real training step
        must not pay for that."""
        return numpy.conj(array) if array.dtype.kind == "c" else array

    #: PyTorch's sgn: z / |z| (0 at 0) for complex numbers, as NumPy's sign computes it since 2.0
    sgn = staticmethod(numpy.sign)

    @staticmethod
    def one_minus_square(array):
        """1 - x², rounded once, as a fused multiply-add computes it (PyTorch's CPU kernels do, so
        its tanh gradient differs from the hand-written ``(1 - h**2) * dh`` in the last bit, and
        ours then differs in the same places). For float16 and float32 the product is formed
        exactly in float64."""
        if array.dtype.itemsize >= 8:
            return 1.0 - array * array
        wide = array.astype(numpy.float64)
        return (1.0 - wide * wide).astype(array.dtype)

    @staticmethod
    def bincount(positions, weights=None, minlength=0):
        """``numpy.bincount``, also of complex weights (the sums of the real and of the imaginary
        parts: NumPy sums weights as float64, refusing complex ones). The scatter-add of the
        gradients of gathered, unfolded and embedded elements."""
        if weights is not None and weights.dtype.kind == "c":
            real = numpy.bincount(positions, weights.real, minlength)
            return real + 1j * numpy.bincount(positions, weights.imag, minlength)
        return numpy.bincount(positions, weights, minlength)

    # Sums accumulate float16 in float32, as PyTorch's kernels do (in forward and in backward
    # formulas alike); running sums and products accumulate in PyTorch's CPU accumulation type:
    # float16 in float32, float32 in float64 (a float32 running total of 0.1s is 0.014% short
    # after 100,000 of them, and the ᾱ = cumprod(1 - β) of every diffusion schedule drifts).
    sum = staticmethod(half_in_float32(numpy.sum))
    nansum = staticmethod(half_in_float32(numpy.nansum))
    cumsum = staticmethod(accumulated_wider(numpy.cumsum))
    cumprod = staticmethod(accumulated_wider(numpy.cumprod))


#: What ``ctx.xp`` is in a plain backward.
array_functions = ArrayFunctions()


def as_array(value, dtype=None):
    """``value`` as a backend array (never a NumPy scalar), converted to ``dtype`` when given."""
    return xp.asarray(value, dtype=dtype)


class MetaArray(ndarray):
    """The array of a tensor on PyTorch's 'meta' device: a shape and a dtype, no values (a
    read-only view of one element: it takes no memory). NumPy's functions keep the type, so what
    is computed from one is one too, and its ufuncs compute nothing of its size (a 1024 x 3 x 65536
    x 65536 meta tensor goes through ``relu`` or ``+``): an elementwise one (``x + y``,
    ``maximum(0, x)``, ``isnan(x)``) takes the broadcast shape and the dtype it gives one element
    of each operand's dtype; ``matmul`` and the reductions (``x.sum(axis)``, ``x.max()``) take
    theirs from arrays with no elements, or one along each reduced axis; a write into a meta array
    (``out=``, as ``result += bias``, or ``array[key] = value``) writes nothing.

    What NumPy makes as a plain array from one (``where``, ``argsort``, a fancy index) is made a
    meta array where the tensor is made (``meta_if_any``), as are the gradients of a backward from
    a meta tensor.
    """

    alive = 0  # how many meta arrays exist: while none does, no result needs the check

    def __array_finalize__(self, obj):
        MetaArray.alive += 1

    def __del__(self):
        MetaArray.alive -= 1

    def __setitem__(self, key, value):
        """A write writes nothing: a meta array has no values."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        arrays = tuple(value.view(ndarray) if type(value) is MetaArray else value for value in inputs)
        out = kwargs.get("out")
        if out is not None and any(type(value) is MetaArray for value in out):
            return out[0] if len(out) == 1 else out
        if out is None and kwargs.get("where", True) is True:
            if method == "__call__" and ufunc.signature is None:
                return _meta_elementwise(ufunc, arrays, kwargs)
            if method == "__call__" and ufunc is numpy.matmul:
                return _meta_matmul(arrays, kwargs)
            if method == "reduce" and arrays[0].ndim:
                return _meta_reduction(ufunc, arrays[0], kwargs)
        result = getattr(ufunc, method)(*arrays, **kwargs)
        if out is not None or result is None:  # (ufunc.at returns None)
            return result
        if isinstance(result, tuple):
            return tuple(numpy.asarray(part).view(MetaArray) for part in result)
        return numpy.asarray(result).view(MetaArray)

    def __array_function__(self, function, types, args, kwargs):
        """``concatenate`` and ``stack`` of arrays among which a meta array: a meta array, its shape
        and dtype those of the same join of stand-ins with no elements (one more leading dimension,
        of size 0), so nothing of the result's size is made; other functions as NumPy's."""
        if function is numpy.concatenate or function is numpy.stack:
            arrays, *rest = args
            axis = rest.pop(0) if rest else kwargs.pop("axis", 0)
            stand_ins = [numpy.empty((0,) + numpy.shape(value), numpy.asarray(value).dtype) for value in arrays]
            joined = function(stand_ins, axis + 1 if axis is not None and axis >= 0 else axis, *rest, **kwargs)
            return meta_array(joined.shape[1:], joined.dtype)
        return super().__array_function__(function, types, args, kwargs)


def _meta_elementwise(ufunc, arrays, kwargs):
    """``ufunc(*arrays)`` as meta arrays: the ufunc of one element of each operand (Python numbers
    stay numbers: they promote as they would), broadcast to the operands' shape. A meta array
    views one element, so that value is the one computing everywhere would give."""
    try:
        shape = numpy.broadcast_shapes(*(numpy.shape(value) for value in arrays))
    except ValueError:  # NumPy's own error, for operands that do not broadcast (it computes nothing)
        return ufunc(*arrays, **kwargs)
    with numpy.errstate(all="ignore"):
        one = ufunc(*(_one_element(value) if isinstance(value, ndarray) else value for value in arrays), **kwargs)
    if ufunc.nout > 1:
        return tuple(numpy.broadcast_to(part, shape).view(MetaArray) for part in one)
    return numpy.broadcast_to(one, shape).view(MetaArray)


def _one_element(array):
    """The first element of ``array`` (a zero of its dtype when it has none)."""
    return array[(0,) * array.ndim] if array.size else numpy.zeros((), array.dtype)


def _meta_matmul(arrays, kwargs):
    """``matmul(a, b)`` as a meta array: the product of stand-ins with one more leading dimension,
    of size 0 (a 1-d operand as it is), has NumPy's checks and, after that dimension, the shape."""
    arrays = [numpy.asarray(value) for value in arrays]
    stand_ins = [numpy.empty((0,) + value.shape, value.dtype) if value.ndim >= 2 else value for value in arrays]
    product = numpy.matmul(*stand_ins, **kwargs)
    stacked = any(value.ndim >= 2 for value in arrays)
    return meta_array(product.shape[1:] if stacked else numpy.shape(product), product.dtype)


def _meta_reduction(ufunc, array, kwargs):
    """``ufunc.reduce(array)`` as a meta array: the reduction of ``array`` cut to one element along
    each reduced axis, which has the result's shape and dtype (computed: the size of the result)."""
    axis = kwargs.get("axis", 0)
    reduced = range(array.ndim) if axis is None else {dim % array.ndim for dim in (axis if isinstance(axis, tuple) else (axis,))}
    cut = array[tuple(slice(0, 1) if dim in reduced else slice(None) for dim in range(array.ndim))]
    return numpy.asarray(ufunc.reduce(cut, **kwargs)).view(MetaArray)


def meta_array(shape, dtype):
    """A ``MetaArray`` of ``shape`` and ``dtype``."""
    return numpy.broadcast_to(numpy.zeros((), dtype=dtype), shape).view(MetaArray)


def meta_if_any(array, arrays):
    """``array`` (a plain result), or a meta array of its shape and dtype where one of ``arrays``
    (the operands, which may be anything) is a meta array: a result computed from a meta tensor is
    on the meta device, as PyTorch's."""
    for each in arrays:
        if type(each) is MetaArray:
            return meta_array(array.shape, array.dtype)
    return array


def ones_like_array(array):
    """Ones of ``array``'s shape and dtype (the gradient ``backward()`` starts from); a meta array
    for a meta one, which holds no values."""
    if type(array) is MetaArray:
        return meta_array(array.shape, array.dtype)
    return numpy.ones(array.shape, dtype=array.dtype)


def to_numpy(array):
    """A NumPy view of a backend array (a copy to host memory on a GPU backend)."""
    return numpy.asarray(array)


def positions_in(base, view, repeated=False):
    """Where the elements of ``view`` (an array viewing ``base``'s memory) lie in ``base``: a tuple
    of integer index arrays, so that ``base[positions]`` reads ``view``'s elements in order (for a
    0-d base, ``(...,)``: its one element, which a view of it holds once or repeats).

    None when the layout cannot say it plainly: strides that are no whole number of elements, two
    elements of ``base`` at one memory location, or, unless ``repeated`` (positions to read from, not
    to write to), two of ``view`` (as after ``expand``).
    """
    itemsize = base.itemsize
    offset, misaligned = divmod(view.__array_interface__["data"][0] - base.__array_interface__["data"][0], itemsize)
    if misaligned and complex_part(base, view) == "imag":  # the imaginary parts lie in the second half of each element
        misaligned = 0
    if misaligned or any(stride % itemsize for stride in view.strides + base.strides):
        return None
    if not repeated and view.size > 1 and has_repeated_elements(view):
        return None
    if not base.ndim:  # a 0-d base's one element (x.view(1) of a scalar): read and written through the key (...,)
        return (Ellipsis,)
    if not base.flags.c_contiguous:  # (a convolution's output laid out (C, N, H, W), a transposed base)
        return _positions_by_address(base, view, offset)
    flat = xp.arange(base.size, dtype=xp.int64)
    element_strides = tuple(stride // itemsize * flat.itemsize for stride in view.strides)
    positions = xp.lib.stride_tricks.as_strided(flat[offset:], view.shape, element_strides)
    return xp.unravel_index(positions.copy(), base.shape)


def complex_part(base, view):
    """Which part of the complex ``base``'s elements the real array ``view`` of its memory holds:
    "real" (at each element's start), "imag" (half an element further), or None for any other
    pair of arrays."""
    if base.dtype.kind != "c" or view.dtype.kind != "f" or 2 * view.itemsize != base.itemsize:
        return None
    misaligned = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0]) % base.itemsize
    return "real" if misaligned == 0 else "imag" if misaligned == view.itemsize else None


def _element_offsets(array, start=0):
    """The memory offset of each element of ``array``, in elements, from ``start``."""
    offsets = xp.full(array.shape, start, dtype=xp.int64)
    for dim, (size, stride) in enumerate(zip(array.shape, array.strides)):
        offsets += (xp.arange(size, dtype=xp.int64) * (stride // array.itemsize)).reshape((-1,) + (1,) * (array.ndim - dim - 1))
    return offsets


def _positions_by_address(base, view, offset):
    """``positions_in`` for a base in any layout: each element of ``view`` found in ``base`` by its
    memory address (None if ``base`` repeats an address, or ``view`` reaches one ``base`` lacks)."""
    addresses = _element_offsets(base).reshape(-1)
    order = xp.argsort(addresses, kind="stable")
    ordered = addresses[order]
    if ordered.size > 1 and not (ordered[1:] > ordered[:-1]).all():
        return None
    wanted = _element_offsets(view, offset)
    found = xp.minimum(xp.searchsorted(ordered, wanted), max(ordered.size - 1, 0))
    if ordered.size == 0 or not (ordered[found] == wanted).all():
        return None
    return xp.unravel_index(order[found], base.shape)


def is_array(value):
    """Whether ``value`` is an array of the backend."""
    return isinstance(value, ndarray)


def _ufuncs_give_arrays():
    """Whether ``xp.add(a, b, out=...)`` and ``xp.add.reduce(a, out=...)`` return an array where
    ``a + b`` and ``a.sum()`` would return a scalar (a 0-d result): NumPy from 2.3."""
    try:
        return type(numpy.add(numpy.float32(1), 1, out=...)) is type(numpy.add.reduce(numpy.ones(2), out=...)) is ndarray
    except TypeError:
        return False


#: ``xp.<ufunc>(..., out=...)`` gives a 0-d array, never a NumPy scalar (see ``_ufuncs_give_arrays``).
UFUNCS_GIVE_ARRAYS = _ufuncs_give_arrays()


def is_scalar(value):
    """Whether ``value`` is one of the backend's scalar types (``numpy.float32(1.5)``...)."""
    return isinstance(value, numpy.generic)


#: The backend's scalar types of numbers: an operation's setting given as one (``beta=np.log(2)``)
#: is read as the Python number it holds, as PyTorch reads it (NumPy would let a float64 scalar
#: make a float32 array's result float64).
NUMBER_SCALAR_TYPES = frozenset(
    numpy.dtype(code).type for code in ("?", "b", "B", "h", "H", "i", "I", "l", "L", "q", "Q", "e", "f", "d", "g", "F", "D")
)


def ignoring_float_errors():
    """A ``with`` block in which division by zero, overflow and invalid results give inf and nan
    silently, as in PyTorch, instead of warnings."""
    return _IgnoringFloatErrors() if _ERROR_STATE is not None else numpy.errstate(all="ignore")


try:  # NumPy >= 2 keeps its floating-point error handling in a context variable
    from numpy._core import _ufunc_config

    _ERROR_STATE, _error_state_ignoring = _ufunc_config._extobj_contextvar, _ufunc_config._make_extobj
except (ImportError, AttributeError):
    _ERROR_STATE = None


class _IgnoringFloatErrors:
    """``numpy.errstate(all="ignore")`` in half its time, which is 1 µs: a compiled step enters it
    once per call, an eager operation once per use. The state that ignores every error is made
    once from the state in force (NumPy's, or the user's own ``errstate``: its buffer size and
    error callback are kept) and set while the block runs, as ``errstate`` sets it."""

    __slots__ = ("_token",)
    _last = (None, None)  # the last state in force, and the one made from it (one tuple: threads)

    def __enter__(self):
        current = _ERROR_STATE.get()
        made_from, ignoring = _IgnoringFloatErrors._last
        if current is not made_from:
            ignoring = _error_state_ignoring(all="ignore")
            _IgnoringFloatErrors._last = (current, ignoring)
        self._token = _ERROR_STATE.set(ignoring)

    def __exit__(self, *exception):
        _ERROR_STATE.reset(self._token)


def add_at(target, index, values):
    """``target[index] += values``, adding once per occurrence of a repeated index (in place)."""
    numpy.add.at(target, index, values)


_ROW_FROM = 4096  # elements: from this size max(0, x) is taken against a row of zeros


def at_least_zero(array):
    """max(0, x) elementwise (x itself on a tie: -0.0 stays -0.0; nan stays nan). NumPy runs a
    maximum with a scalar through its slower strided loop: against a row of zeros as long as the
    last dimension, broadcast, its vectorized loop gives the same bits in half the time (0.26
    against 0.52 ms for 1024 x 1024 float32 here). Small arrays keep the scalar, which is quicker
    for them than finding the row."""
    if array.size < _ROW_FROM or not array.ndim:
        return xp.maximum(0, array)
    return xp.maximum(_zeros_row(array.dtype, array.shape[-1]), array)


@functools.lru_cache(maxsize=32)
def _zeros_row(dtype, length):
    return read_only(xp.zeros(length, dtype))


def shift_left(array, shift):
    """``array << shift`` on integer arrays (bits moved past the width are lost)."""
    return numpy.left_shift(array, shift)


def shift_right(array, shift):
    """``array >> shift`` on integer arrays (arithmetic: negative numbers stay negative)."""
    return numpy.right_shift(array, shift)


def greatest_common_divisor(a, b):
    """gcd of integer arrays, elementwise."""
    return numpy.gcd(a, b)


def least_common_multiple(a, b):
    """lcm of integer arrays, elementwise."""
    return numpy.lcm(a, b)


def read_only(array):
    """``array`` marked unwritable (shared constants), returned for convenience."""
    array.flags.writeable = False
    return array


def round_to_bfloat16(array):
    """``array`` rounded to the nearest bfloat16 (ties to even), returned as float32.

    NumPy has no bfloat16 type; a bfloat16 is a float32 with only the upper 16 bits kept, so
    rounding the bit pattern gives exactly the values PyTorch's bfloat16 tensors hold (NaN aside).
    """
    bits = numpy.ascontiguousarray(array, dtype=numpy.float32).view(numpy.uint32)
    rounding = ((bits >> 16) & 1) + numpy.uint32(0x7FFF)
    return ((bits + rounding) & numpy.uint32(0xFFFF0000)).view(numpy.float32)


def is_writable(array):
    return array.flags.writeable


def has_repeated_elements(array):
    """Whether two elements of ``array`` are one place in memory (a stride of 0 along a dimension
    of more than one element: a broadcast, ``expand``)."""
    return any(stride == 0 and size > 1 for stride, size in zip(array.strides, array.shape))


def write_where_changed(memory, view, values):
    """Write ``values`` (broadcast to ``view``'s shape) into ``view``, a read-only view of the
    writable array ``memory`` whose elements repeat (an ``expand``'s), through ``memory``: each
    element whose value changes is written, so a memory location reached by several elements takes
    the value of the one that changes it (the last, where several do), as PyTorch's ``masked_fill_``
    leaves it."""
    itemsize = view.itemsize
    offset = (view.__array_interface__["data"][0] - memory.__array_interface__["data"][0]) // itemsize
    writable = strided_view(memory, view.shape, tuple(stride // itemsize for stride in view.strides), offset)
    values = numpy.broadcast_to(values, view.shape)
    changed = values != writable
    writable[changed] = values[changed]


def memory_overlap(written, read):
    """How the memory of ``read`` meets that of ``written``, as PyTorch's ``get_overlap_status``
    tells it: ``"full"`` (the same memory, in the same strides), ``"partial"`` (some of it, or all
    of it in other strides: ``t`` and ``t.t()``), ``"none"``, or ``"unknown"`` when either array has
    gaps or repeated elements (``t[::2]``, an ``expand``), where PyTorch does not look further."""
    if written.size == 0 or read.size == 0:
        return "none"
    if not _dense_without_gaps(written) or not _dense_without_gaps(read):
        return "unknown"
    written_start, read_start = written.__array_interface__["data"][0], read.__array_interface__["data"][0]
    written_end, read_end = written_start + written.nbytes, read_start + read.nbytes
    if written_start == read_start and written_end == read_end:
        return "full" if element_strides(written) == element_strides(read) else "partial"
    return "partial" if written_start < read_end and read_start < written_end else "none"


def _dense_without_gaps(array):
    """Whether ``array``'s elements fill one block of memory, each once, in some order of its
    dimensions (PyTorch's ``is_non_overlapping_and_dense``)."""
    expected = array.itemsize
    for stride, size in sorted((stride, size) for stride, size in zip(array.strides, array.shape) if size != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def shared_copy(array):
    """A copy of ``array`` in an anonymous shared mapping: the processes this one forks later see
    its memory and what each writes there (``Tensor.share_memory_``)."""
    mapping = mmap.mmap(-1, max(array.nbytes, 1))
    shared = numpy.frombuffer(mapping, dtype=array.dtype, count=array.size).reshape(array.shape)
    shared[...] = array
    return shared


def read_from_file(filename, dtype, count, shared):
    """The first ``count`` elements of ``dtype`` in the file ``filename``, mapped: with ``shared``
    writes into the array write the file; without, the mapping is private (a page is copied when
    first written), as PyTorch maps it."""
    with open(filename, "r+b" if shared else "rb") as file:
        mapping = mmap.mmap(file.fileno(), count * numpy.dtype(dtype).itemsize, access=mmap.ACCESS_WRITE if shared else mmap.ACCESS_COPY)
    return numpy.frombuffer(mapping, dtype=dtype, count=count)


def is_shared_memory(array):
    """Whether ``array``'s memory is a shared mapping ``shared_copy`` made."""
    while isinstance(array, ndarray) and array.base is not None:
        array = array.base
    return isinstance(array, memoryview) and isinstance(array.obj, mmap.mmap)  # frombuffer keeps a memoryview


def first_element_address(array):
    """The memory address of ``array``'s first element; 0 when it holds no memory (empty, or meta)."""
    if array.size == 0 or type(array) is MetaArray:
        return 0
    return array.__array_interface__["data"][0]


def random_generator(seed=None):
    """A new random generator of the backend (PCG64), seeded by ``seed`` (fresh entropy if None)."""
    return numpy.random.default_rng(seed)


class _StateSetAtOnce(numpy.random.bit_generator.ISeedSequence):
    """The seed of a twister whose state ``mersenne_twister`` sets at once: zeros. Without a seed,
    NumPy would read entropy from the system and hash it into 624 words, to be thrown away: that
    was half of ``manual_seed``'s 0.2 ms (which a test suite or a notebook calls before each case)."""

    def generate_state(self, n_words, dtype=numpy.uint32):
        return numpy.zeros(n_words, dtype)


_STATE_SET_AT_ONCE = _StateSetAtOnce()


def mersenne_twister(key, position):
    """The backend's 32-bit Mersenne Twister (MT19937) at a given state: ``key`` the 624 words,
    ``position`` the index of the next word to temper (624: twist first). ``random_raw(n)`` gives
    its next n 32-bit outputs; ``state["state"]`` its key and position."""
    bit_generator = numpy.random.MT19937(_STATE_SET_AT_ONCE)
    bit_generator.state = {"bit_generator": "MT19937", "state": {"key": numpy.asarray(key, numpy.uint32), "pos": position}}
    return bit_generator


#: C library functions whose result is within 0.55 of an ulp of the exact value (glibc's log, exp,
#: sin, cos): rounding an extended-precision value gives theirs, except within 0.05 ulp of halfway.
_NEARLY_CORRECTLY_ROUNDED = {"log", "exp", "sin", "cos"}


def c_library_math(name, array):
    """``math.<name>`` elementwise on a float64 array, as the C library computes it (PyTorch's CPU
    kernels call it; NumPy's own SIMD versions differ in the last bit now and then). For a nearly
    correctly rounded function, computed in extended precision and rounded, and taken from the C
    library only where the exact value lies near halfway between two doubles; for the others
    (log1p, tan: up to an ulp or more off), taken from the C library element by element."""
    array = numpy.asarray(array, numpy.float64)
    function = getattr(math, name)
    if name not in _NEARLY_CORRECTLY_ROUNDED or numpy.finfo(numpy.longdouble).nmant <= 52:
        return numpy.asarray([function(value) for value in array.reshape(-1).tolist()], numpy.float64).reshape(array.shape)
    precise = getattr(numpy, name)(array.astype(numpy.longdouble))
    rounded = precise.astype(numpy.float64)
    with numpy.errstate(all="ignore"):
        ulps = numpy.abs((precise - rounded) / numpy.spacing(numpy.abs(rounded)).astype(numpy.longdouble))
    flat_input, flat_result = array.reshape(-1), rounded.reshape(-1)
    for index in numpy.flatnonzero(numpy.isfinite(rounded) & (ulps > 0.45)).tolist():
        flat_result[index] = function(flat_input[index])
    return rounded


def global_random_state():
    """Where the array library's global generator (``numpy.random.rand``) stands: equal before and
    after code that drew nothing from it."""
    state = numpy.random.get_state(legacy=False)
    return state["state"]["key"].tobytes(), state["state"]["pos"], state["has_gauss"], state["gauss"]


def random_generator_state(generator):
    """Where one of the array library's generator objects stands (``numpy.random.default_rng()``,
    a ``RandomState``), as bytes that are equal before and after code that drew nothing from it;
    None for anything else."""
    if isinstance(generator, numpy.random.Generator):
        generator = generator.bit_generator
    if isinstance(generator, numpy.random.RandomState):
        return pickle.dumps(generator.get_state(legacy=False))
    if isinstance(generator, numpy.random.BitGenerator):
        return pickle.dumps(generator.state)
    return None


def fresh_seed():
    """A seed from the operating system's entropy, as a non-negative 63-bit integer."""
    return int(numpy.random.SeedSequence().entropy % (2**63))


def sliding_windows(array, window_shape, strides, dilations):
    """A read-only view of the windows of ``array``'s last ``len(window_shape)`` axes, no copy.

    ``array (*lead, *sizes)`` -> ``(*lead, *positions, *window_shape)``: element
    ``[..., i, j, p, q]`` is ``array[..., i * strides[0] + p * dilations[0], j * strides[1] + q *
    dilations[1]]``, with ``positions[k] = (sizes[k] - dilations[k] * (window_shape[k] - 1) - 1) //
    strides[k] + 1``. Convolution and pooling read their windows through it (im2col as a view).
    """
    count = len(window_shape)
    sizes, steps = array.shape[array.ndim - count :], array.strides[array.ndim - count :]
    positions = tuple(
        (size - dilation * (window - 1) - 1) // stride + 1
        for size, window, stride, dilation in zip(sizes, window_shape, strides, dilations)
    )
    return numpy.lib.stride_tricks.as_strided(
        array,
        array.shape[: array.ndim - count] + positions + tuple(window_shape),
        array.strides[: array.ndim - count]
        + tuple(step * stride for step, stride in zip(steps, strides))
        + tuple(step * dilation for step, dilation in zip(steps, dilations)),
        writeable=False,
    )


def stable_argsort(array, axis):
    """The positions that sort ``array`` along ``axis`` ascending, equal elements kept in their order
    (nan last). CuPy's sort is always stable; NumPy's needs ``kind="stable"``."""
    return numpy.argsort(array, axis=axis, kind="stable")


def running_maximum(array, axis):
    """out[i] = max(array[0], ..., array[i]) along ``axis`` (a nan stays from where it appears)."""
    return numpy.maximum.accumulate(array, axis=axis)


def running_minimum(array, axis):
    """out[i] = min(array[0], ..., array[i]) along ``axis`` (a nan stays from where it appears)."""
    return numpy.minimum.accumulate(array, axis=axis)


def running_xor(array, axis):
    """out[i] = array[0] ^ ... ^ array[i] along ``axis`` (integers)."""
    return numpy.bitwise_xor.accumulate(array, axis=axis)


@half_in_float32
def running_logaddexp(array, axis):
    """out[i] = log(e^array[0] + ... + e^array[i]) along ``axis``, each step without overflow
    (float16 accumulated in float32; complex numbers one step at a time, NumPy's logaddexp being
    real only)."""
    if array.dtype.kind == "c":
        return running_complex_logaddexp(array, axis)
    return numpy.logaddexp.accumulate(array, axis=axis)


def running_complex_logaddexp(array, axis):
    """``running_logaddexp`` of complex numbers, each step PyTorch's: of the running total and the
    next element, the one with the larger real part plus log1p(e^(other - larger)); where both real
    parts are -inf, -inf + 0j."""
    moved = numpy.moveaxis(array, axis, 0)
    result = moved.copy()
    with ignoring_float_errors():  # -inf - -inf inside, replaced below
        for position in range(1, moved.shape[0]):
            total, value = result[position - 1], moved[position]
            value_larger = value.real > total.real
            larger, smaller = numpy.where(value_larger, value, total), numpy.where(value_larger, total, value)
            step = larger + numpy.log1p(numpy.exp(smaller - larger))
            result[position] = numpy.where(larger.real == -numpy.inf, complex(-numpy.inf, 0), step)
    return numpy.moveaxis(result, 0, axis)


def viewable_as(array, shape):
    """Whether ``array`` can be read in ``shape`` without copying: its strides allow it (a transposed
    matrix cannot be flattened in place). PyTorch's ``view`` asks the same question."""
    try:
        array.reshape(shape, copy=False)
    except ValueError:
        return False
    return True


def real_pairs(array):
    """A complex array's real and imaginary parts, a real array (..., 2) sharing its memory
    (PyTorch's ``view_as_real``)."""
    return array[..., None].view(array.real.dtype)


def complex_from_pairs(array):
    """The complex numbers whose real and imaginary parts are the pairs (..., 2) of a real array
    (its last dimension contiguous), sharing its memory (``view_as_complex``); a new array for an
    empty one (no memory to share, and NumPy's strides of an empty array need not be whole elements)."""
    dtype = numpy.result_type(array.dtype, numpy.complex64)
    if array.size == 0:
        return numpy.zeros(array.shape[:-1], dtype)
    return array.view(dtype)[..., 0]


def is_contiguous(array):
    """Whether ``array``'s elements lie in memory in row-major order, without gaps."""
    return bool(array.flags.c_contiguous)


def element_strides(array):
    """``array``'s strides counted in elements (PyTorch's ``stride()``), not in bytes.

    A size-1 dimension that NumPy added (``x[None]``, ``x[:, None]``) has stride 0 there; PyTorch
    gives it the stride ``unsqueeze`` does, the next dimension's size times its stride (1 last).
    Its stride never moves through memory, so only what ``stride()`` says differs."""
    strides = [stride // array.itemsize for stride in array.strides]
    shape = array.shape
    for dim in range(len(shape) - 1, -1, -1):
        if shape[dim] == 1 and strides[dim] == 0:
            strides[dim] = shape[dim + 1] * strides[dim + 1] if dim + 1 < len(shape) else 1
    return tuple(strides)


def memory_owner(array):
    """The array whose memory ``array`` views (``array`` itself when it holds its own): followed
    through NumPy's views, and through the object NumPy's ``as_strided`` leaves as a base (which
    keeps the array it was given as its own ``base``)."""
    owner = array
    while True:
        base = owner.base
        if not isinstance(base, ndarray):
            base = getattr(base, "base", None)  # as_strided's wrapper, or something that is no array
            if not isinstance(base, ndarray):
                return owner
        owner = base


def offset_in_memory(array):
    """How many elements into the memory it views ``array`` starts (PyTorch's ``storage_offset()``)."""
    start = array.__array_interface__["data"][0] - memory_owner(array).__array_interface__["data"][0]
    return start // array.itemsize


def copied_with_memory(array, copies):
    """A copy of ``array`` that views a copy of its whole memory as ``array`` views the original
    (same shape, strides and offset): arrays copied with the same dict ``copies`` (one copy per
    memory, by its owner's id) share memory as the originals did (``copy.deepcopy``'s memo)."""
    owner = memory_owner(array)
    memory = copies.get(id(owner))
    if memory is None:
        memory = copies[id(owner)] = owner.copy(order="K")  # the owner's own layout: the same byte places
    start = array.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    view = numpy.ndarray(array.shape, array.dtype, as_buffer(memory), start, array.strides)
    view.flags.writeable = array.flags.writeable
    return view


def as_buffer(owner):
    """``owner`` (an array holding its own memory) as a buffer NumPy can view from its first byte:
    itself, or where its dimensions lie in another order than row- or column-major (a batch of
    transposed matrices NumPy computed in that layout), its dimensions reordered so they are."""
    if owner.flags.c_contiguous or owner.flags.f_contiguous:
        return owner
    return owner.transpose(sorted(range(owner.ndim), key=lambda dim: -owner.strides[dim]))


def strided_view(array, shape, element_strides, offset=0):
    """A view of the memory ``array`` views, in any layout (PyTorch's ``as_strided`` on arrays):
    element (i_0, i_1, ...) of the ``shape``-shaped result lies ``offset + Σ_d i_d · element_strides[d]``
    elements from ``array``'s first element (a negative offset or stride reaches memory before it).

    Writable where ``array`` is, sharing its memory both ways. Made on the array that owns the
    memory, which NumPy then keeps as the view's ``base`` (as for its own views, so a tensor made
    from it is known as a view of ``array``'s tensor). The caller keeps every element inside that
    memory; an empty view is placed no further than its end."""
    owner = memory_owner(array)
    itemsize = array.itemsize
    start = array.__array_interface__["data"][0] - owner.__array_interface__["data"][0] + offset * itemsize
    if 0 in shape:  # no element to place: NumPy refuses a start past the memory, which PyTorch allows here
        start = min(start, owner.nbytes)
    view = numpy.ndarray(shape, array.dtype, as_buffer(owner), start, tuple(stride * itemsize for stride in element_strides))
    if not array.flags.writeable:  # a read-only view (an expand's) stays read-only, whatever its owner
        view.flags.writeable = False
    return view


def memory_bytes(array):
    """The bytes of all the memory ``array`` views (its ``memory_owner``'s), as a 1-d uint8 array
    sharing it: what PyTorch calls the tensor's storage. Memory an array owns lies in one piece
    (row- or column-major), so the flat view never copies."""
    return memory_owner(array).ravel(order="K").view(numpy.uint8)


def bytes_copied(data):
    """A 1-d uint8 array holding a copy of the bytes of ``data`` (``bytes``, ``bytearray``)."""
    return numpy.frombuffer(data, dtype=numpy.uint8).copy()


def bytes_as(memory, dtype):
    """The 1-d uint8 array ``memory`` read as elements of ``dtype``, sharing it; bytes past the last
    whole element are left out (3 bytes hold no float32)."""
    itemsize = numpy.dtype(dtype).itemsize
    return memory[: memory.size // itemsize * itemsize].view(dtype)


def resized_in_place(holder, attribute, nbytes):
    """Resize the 1-d uint8 array ``holder.<attribute>`` to ``nbytes`` in place (new bytes are
    zeros), keeping the bytes that fit; False, leaving it as it was, when anything but ``holder``
    refers to it (an array viewing its memory: a tensor, a slice of a storage), which moving the
    memory would leave behind. (Read from its holder here, so that no other reference counts.)"""
    try:
        getattr(holder, attribute).resize((nbytes,), refcheck=True)
    except ValueError:
        return False
    return True


def array_from_dlpack(source, copy=None):
    """The array another library's tensor (any object with ``__dlpack__``: a NumPy array, a PyTorch
    or CuPy tensor) or a DLPack capsule (``to_dlpack``'s) holds, sharing its memory unless ``copy``.
    Writable, as PyTorch's ``from_dlpack`` makes every tensor: NumPy marks an array read-only where
    the capsule cannot say (a capsule of DLPack before 1.0) or its producer said so."""
    if hasattr(source, "__dlpack__"):
        array = numpy.from_dlpack(source) if copy is None else numpy.from_dlpack(source, copy=copy)
    else:
        try:
            array = numpy.from_dlpack(_Capsule(source))
        except (TypeError, ValueError) as error:
            raise RuntimeError(
                "from_dlpack received an invalid capsule. Note that DLTensor capsules can be consumed only once, so "
                f"you might have already constructed a tensor from it once. ({error}; give an object with __dlpack__, "
                "such as a NumPy array, or a capsule from to_dlpack)"
            ) from None
        if copy:
            array = array.copy()
    if array.flags.writeable:
        return array
    interface = dict(array.__array_interface__)
    interface["data"] = (interface["data"][0], False)
    return numpy.asarray(_MemoryOf(interface, array))


class _Capsule:
    """A DLPack capsule as NumPy's ``from_dlpack`` takes one: an object that gives it up."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **options):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)  # DLPack's CPU: NumPy reads only memory there


class _MemoryOf:
    """An array interface over the memory of ``base``, which it keeps alive (``memory_owner``
    follows ``base``, as through NumPy's own ``as_strided``)."""

    def __init__(self, interface, base):
        self.__array_interface__ = interface
        self.base = base


def to_dlpack_capsule(array):
    """A DLPack capsule (DLPack before 1.0, as PyTorch's ``to_dlpack`` gives) sharing ``array``'s memory."""
    return numpy.asarray(array).__dlpack__()


#: The bits of the x86 MXCSR register that make SSE arithmetic treat subnormal inputs as zero
#: (DAZ, bit 6) and flush subnormal results to zero (FTZ, bit 15); glibc's x86-64 ``fenv_t``
#: holds the register in its last 4 of 32 bytes.
_DENORMALS_ARE_ZERO_AND_FLUSH_TO_ZERO = 0x8040
_FENV_BYTES, _MXCSR_WORD = 32, 7


def flush_denormal(mode):
    """Make this thread's floating-point arithmetic (NumPy's, like any other code's) treat subnormal
    numbers as 0 (``mode`` True) or as the small numbers they are (False), as PyTorch's
    ``set_flush_denormal`` sets the x86 CPU's DAZ and FTZ bits. True when done; False where this
    cannot be done (not an x86-64 CPU under glibc), nothing changed."""
    if platform.machine().lower() not in ("x86_64", "amd64") or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libm = ctypes.CDLL("libm.so.6")
    except OSError:
        return False
    environment = (ctypes.c_uint32 * (_FENV_BYTES // 4))()
    if libm.fegetenv(environment) != 0:
        return False
    if mode:
        environment[_MXCSR_WORD] |= _DENORMALS_ARE_ZERO_AND_FLUSH_TO_ZERO
    else:
        environment[_MXCSR_WORD] &= ~_DENORMALS_ARE_ZERO_AND_FLUSH_TO_ZERO & 0xFFFFFFFF
    return libm.fesetenv(environment) == 0


def combine_at(target, index, values, how):
    """``target[index] = how(target[index], values)`` in place, once per occurrence of a repeated
    index; ``how`` names the combining function: ``"maximum"``, ``"minimum"`` or ``"multiply"``."""
    getattr(numpy, how).at(target, index, values)


def keep_freed_memory_for_reuse(most=256 * 1024 * 1024):
    """Ask the C allocator (glibc's, on Linux) to keep freed array memory, up to ``most`` bytes,
    for the next allocation instead of handing it back to the operating system at once.

    NumPy makes every result a fresh array. By default glibc serves blocks from about 128 KiB
    with their own memory mapping and unmaps them when freed, and trims the free top of its heap:
    each training step would then fault its activations, im2col columns and gradients back in
    page by page, zero-filled by the kernel (a third of a LeNet-5 step). Kept, they are reused,
    as a GPU framework's caching allocator reuses device memory. Elsewhere (macOS, musl, Windows)
    nothing changes, nor where the user has set glibc's own ``MALLOC_MMAP_THRESHOLD_`` or
    ``MALLOC_TRIM_THRESHOLD_`` (``MALLOC_TRIM_THRESHOLD_=0`` gives freed memory back at once).
    """
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    largest_mapped_threshold = 32 * 1024 * 1024  # glibc refuses more on 64-bit systems
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(libc.mallopt(M_MMAP_THRESHOLD, largest_mapped_threshold) and libc.mallopt(M_TRIM_THRESHOLD, most))


keep_freed_memory_for_reuse()


def set_blas_threads(count):
    """Run the BLAS (matrix products) on ``count`` threads; False when that cannot be done here
    (threadpoolctl, which finds the BLAS NumPy loaded, is not installed)."""
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 (optional: the ``threads`` extra)
    except ImportError:
        return False
    threadpool_limits(count, user_api="blas")
    return True


def blas_threads():
    """The threads the BLAS runs products on (None when it cannot be asked)."""
    try:
        from threadpoolctl import threadpool_info  # noqa: PLC0415 (optional: the ``threads`` extra)
    except ImportError:
        return None
    counts = [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]
    return max(counts, default=None)


def cpu_capability():
    """The widest vector instructions the array library's kernels use on this CPU, named as PyTorch
    names its own: "AVX512" (AVX-512 of Skylake and later), "AVX2", or "DEFAULT"."""
    features = getattr(getattr(getattr(numpy, "_core", None), "_multiarray_umath", None), "__cpu_features__", {})
    if features.get("AVX512_SKX"):
        return "AVX512"
    if features.get("AVX2") and features.get("FMA3"):
        return "AVX2"
    return "DEFAULT"
