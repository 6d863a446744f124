"""The dtypes of chainrule and PyTorch's rules for choosing one.

A dtype wraps a NumPy dtype under PyTorch's name: ``print(x.dtype)`` shows ``chainrule.float32``
(as PyTorch shows ``torch.float32``), while NumPy takes it wherever it takes a dtype (it reads
the ``dtype`` attribute) and it compares equal to the NumPy dtype (``chainrule.float32 ==
numpy.float32``), so arrays and tensors agree on it without translation. Like PyTorch, Python
floats become ``float32`` by default and Python ints become ``int64``, Python complex numbers
``complex64`` (the complex dtype of the default float).

The complex dtypes are ``complex64`` (``cfloat``: two float32) and ``complex128`` (``cdouble``:
two float64). PyTorch's ``complex32`` (``chalf``, two float16) can be named and asked about, but no
tensor holds it: NumPy, which holds chainrule's arrays, has no such type (use complex64).
"""
import builtins
import math

from chainrule.backend import xp


class dtype:
    """A tensor's element type, as ``torch.dtype``: ``chainrule.float32``, ``chainrule.int64``, ...

    ``dtype.dtype`` is the NumPy dtype it stands for; attributes NumPy dtypes have (``kind``,
    ``itemsize``, ``name``) read through to it.
    """

    __slots__ = ("dtype",)

    def __init__(self, numpy_dtype):
        object.__setattr__(self, "dtype", xp.dtype(numpy_dtype))

    def __setattr__(self, name, value):
        raise AttributeError("a dtype cannot be changed")

    def __getattr__(self, name):
        return getattr(self.dtype, name)

    def __eq__(self, other):
        return self.dtype == (other.dtype if isinstance(other, dtype) else other)

    def __hash__(self):
        return hash(self.dtype)

    def __repr__(self):
        return dtype_name(self.dtype)

    def __reduce__(self):
        return (of, (self.dtype.str,))

    @property
    def is_floating_point(self):
        """True for float16, float32 and float64."""
        return self.dtype.kind == "f"

    @property
    def is_complex(self):
        """True for complex64 and complex128."""
        return self.dtype.kind == "c"

    @property
    def is_signed(self):
        """True for the floats, the complex numbers and the signed integers."""
        return self.dtype.kind in "fci"

    def to_real(self):
        """The real dtype of a complex one's parts (complex64 -> float32); a real dtype itself."""
        return of(real_dtype(self.dtype))

    def to_complex(self):
        """The complex dtype whose parts are this floating dtype (float32 -> complex64); a complex
        dtype itself. float16 has none here (PyTorch's complex32: NumPy has no such type)."""
        if self.dtype.kind == "c":
            return self
        if self.dtype.kind != "f" or self.dtype.itemsize < 4:
            raise RuntimeError(
                f"Unknown Complex ScalarType for {scalar_type_name(self.dtype)}"
                + (" (complex32 is not supported: NumPy has no complex type of two float16)" if self.dtype.kind == "f" else "")
            )
        return of(complex_dtype(self.dtype))


class DtypeWithoutArrays(dtype):
    """A PyTorch dtype that NumPy has no type for (``bfloat16``, the float8 and sub-byte types, the
    quantized types): it can be named, compared, printed, pickled and asked about (``finfo``,
    ``iinfo``, ``itemsize``, ``is_floating_point``), so that code which only mentions it runs (a
    table of dtypes, ``dtype == torch.bfloat16``, autocast's dtype, a default argument
    ``storage_dtype=torch.float8_e4m3fn``); a tensor cannot hold it: whatever asks for its NumPy
    dtype (``zeros(dtype=...)``, ``x.to(...)``) gets a TypeError saying what to use instead.

    ``kind`` is NumPy's letter for its category ("f" floating, "i"/"u" signed/unsigned integer),
    or "q" for PyTorch's quantized integers and "V" for its bits types, which are neither;
    ``limits`` are what ``finfo`` (a floating one) or ``iinfo`` (a quantized one) report, None where
    PyTorch has none; ``signed`` is None where PyTorch's ``is_signed`` refuses to answer."""

    __slots__ = ("name", "itemsize", "limits", "instead", "kind", "signed")

    def __init__(self, name, itemsize, limits, instead, kind="f", signed=True):
        fields = {"name": name, "itemsize": itemsize, "limits": limits, "instead": instead, "kind": kind, "signed": signed}
        for field, value in fields.items():
            object.__setattr__(self, field, value)

    @property
    def dtype(self):
        raise TypeError(
            f"{self.name} is not supported: NumPy, which holds chainrule's arrays, has no {self.name} dtype; "
            f"use {self.instead}"
        )

    @property
    def is_floating_point(self):
        return self.kind == "f"

    @property
    def is_complex(self):
        return self.kind == "c"

    @property
    def is_signed(self):
        if self.signed is None:
            raise RuntimeError("Bits types are undefined" if self.kind == "V" else f"{self.name} has no signedness")
        return self.signed

    def __getattr__(self, name):
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return self.name  # pickled by name: chainrule.dtypes.bfloat16


def _float_limits(bits, eps, largest, smallest_normal, smallest=None):
    """What ``finfo`` reports of a floating dtype NumPy has no type for (``min`` is ``-max`` unless given)."""
    return {"bits": bits, "eps": eps, "max": largest, "min": -largest if smallest is None else smallest,
            "smallest_normal": smallest_normal, "resolution": 10.0 ** -max(0, math.floor(-math.log10(eps)))}


_HALF_OR_FLOAT = "float16 (x.half()) or float32 (x.float())"
bfloat16 = DtypeWithoutArrays("bfloat16", 2, _float_limits(16, 2.0**-7, 3.3895313892515355e38, 2.0**-126), _HALF_OR_FLOAT)
# The 8-bit floats of PyTorch (storage types: PyTorch itself computes little in them).
float8_e4m3fn = DtypeWithoutArrays("float8_e4m3fn", 1, _float_limits(8, 0.125, 448.0, 2.0**-6), _HALF_OR_FLOAT)
float8_e4m3fnuz = DtypeWithoutArrays("float8_e4m3fnuz", 1, _float_limits(8, 0.125, 240.0, 2.0**-7), _HALF_OR_FLOAT)
float8_e5m2 = DtypeWithoutArrays("float8_e5m2", 1, _float_limits(8, 0.25, 57344.0, 2.0**-14), _HALF_OR_FLOAT)
float8_e5m2fnuz = DtypeWithoutArrays("float8_e5m2fnuz", 1, _float_limits(8, 0.125, 57344.0, 2.0**-15), _HALF_OR_FLOAT)
float8_e8m0fnu = DtypeWithoutArrays("float8_e8m0fnu", 1, _float_limits(8, 1.0, 2.0**127, 2.0**-127, smallest=2.0**-127), _HALF_OR_FLOAT, signed=False)
float4_e2m1fn_x2 = DtypeWithoutArrays("float4_e2m1fn_x2", 1, None, _HALF_OR_FLOAT)
# The sub-byte integers (int1..int7, uint1..uint7: bit is uint1), the bits types and the quantized integers.
_SUB_BYTE = {
    f"{sign}int{bits}": DtypeWithoutArrays(f"{sign}int{bits}", 1, None, f"{sign}int8 (x.to(chainrule.{sign}int8))", "u" if sign else "i", not sign)
    for sign in ("", "u") for bits in range(1, 8)
}
globals().update(_SUB_BYTE)
bit = _SUB_BYTE["uint1"]
_BITS = {name: DtypeWithoutArrays(name, size, None, "uint8 (x.view(chainrule.uint8))", "V", None)
         for name, size in (("bits1x8", 1), ("bits2x4", 1), ("bits4x2", 1), ("bits8", 1), ("bits16", 2))}
globals().update(_BITS)
_QUANTIZED = {
    name: DtypeWithoutArrays(name, size, {"bits": 8 * size, "min": low, "max": high}, "a floating dtype: chainrule has no quantized tensors", "q", None)
    for name, size, low, high in (("qint8", 1, -128, 127), ("quint8", 1, 0, 255), ("qint32", 4, -(2**31), 2**31 - 1),
                                  ("quint4x2", 1, 0, 255), ("quint2x4", 1, 0, 255))
}
globals().update(_QUANTIZED)


_NAMED = {}


def of(numpy_dtype):
    """The chainrule dtype for a NumPy dtype (or anything NumPy reads as one): one object each, so
    that ``x.dtype is chainrule.float32`` holds as in PyTorch."""
    key = xp.dtype(numpy_dtype)
    named = _NAMED.get(key)
    if named is None:
        named = _NAMED[key] = dtype(key)
    return named


float16 = of("float16")
float32 = of("float32")
float64 = of("float64")
int8 = of("int8")
int16 = of("int16")
int32 = of("int32")
int64 = of("int64")
uint8 = of("uint8")
# The wider unsigned integers, as PyTorch 2.13 has them: tensors can hold them (``from_numpy`` of
# a NumPy uint16 array, ``zeros(2, dtype=uint16)``), with PyTorch's limited support: no promotion
# with another integer dtype, and factories that compute (``arange``, ``eye``...) refuse them.
uint16 = of("uint16")
uint32 = of("uint32")
uint64 = of("uint64")
bool_ = of("bool")
complex64 = of("complex64")
complex128 = of("complex128")


class ComplexWithoutArrays(DtypeWithoutArrays):
    """PyTorch's ``complex32`` (``chalf``): two float16, a type NumPy does not have; named and asked
    about as ``bfloat16`` is, no tensor holds it."""

    __slots__ = ()

    def to_real(self):
        return float16

    def to_complex(self):
        return self


complex32 = ComplexWithoutArrays(
    "complex32",
    4,
    # its parts' limits, torch.finfo(torch.complex32): float16's
    {**_float_limits(16, 2.0**-10, 65504.0, 2.0**-14), "dtype": "float16"},
    "complex64 (x.to(chainrule.complex64))",
    kind="c",
)

# PyTorch's aliases
chalf = complex32
half = float16
float = float32
double = float64
short = int16
int = int32
long = int64
cfloat = complex64
cdouble = complex128

_default_float = float32


def get_default_dtype():
    """The dtype given to Python floats and to floating factories (``zeros``, ``rand``...)."""
    return _default_float


def default_complex_dtype():
    """The dtype given to Python complex numbers: complex64, or complex128 when the default float
    dtype is float64."""
    return complex128 if _default_float is float64 else complex64


def real_dtype(numpy_dtype):
    """The NumPy dtype of a complex dtype's parts (complex64 -> float32); a real dtype itself."""
    numpy_dtype = xp.dtype(numpy_dtype)
    return xp.dtype(f"f{numpy_dtype.itemsize // 2}") if numpy_dtype.kind == "c" else numpy_dtype


def complex_dtype(numpy_dtype):
    """The NumPy complex dtype whose parts are ``numpy_dtype`` (float32 -> complex64; float16 too
    gives complex64, NumPy having no smaller one); a complex dtype itself."""
    numpy_dtype = xp.dtype(numpy_dtype)
    if numpy_dtype.kind == "c":
        return numpy_dtype
    return xp.dtype(xp.complex128) if numpy_dtype == xp.float64 else xp.dtype(xp.complex64)


_DTYPE = dtype  # the class, for set_default_dtype (whose parameter is named as PyTorch's)


def set_default_dtype(dtype):
    """Make ``dtype`` (``float32`` or ``float64``) the default floating dtype."""
    global _default_float
    if not isinstance(dtype, _DTYPE):  # a string or a NumPy type, refused as PyTorch does
        raise TypeError(f"invalid dtype object: set_default_dtype() takes chainrule.float32 or chainrule.float64, not {dtype!r}")
    chosen = of(dtype)
    if chosen.kind != "f":
        raise TypeError(f"only floating-point types are supported as the default type (got {dtype_name(chosen)})")
    _default_float = chosen


def dtype_name(numpy_dtype):
    """``chainrule.float32`` style name of a dtype, as reprs print it."""
    numpy_dtype = xp.dtype(numpy_dtype)
    return "chainrule." + ("bool" if numpy_dtype.kind == "b" else numpy_dtype.name)


def python_type_name(value):
    """The name of ``value``'s Python type as PyTorch's messages print it: ``int``, ``numpy.ndarray``."""
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def cpp_type_name(numpy_dtype):
    """The C++ type of a dtype's elements, as some of PyTorch's messages print it: float, double,
    c10::Half, long int..."""
    name = xp.dtype(numpy_dtype).name
    return _CPP_TYPE_NAMES.get(name, name)


_CPP_TYPE_NAMES = {
    "complex64": "c10::complex<float>", "complex128": "c10::complex<double>", "float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char", "uint8": "unsigned char",
    "int16": "short int", "int32": "int", "int64": "long int", "bool": "bool",
}


def scalar_type_name(numpy_dtype):
    """PyTorch's C++ name of a dtype, as its messages print it: Float, Double, Long, Byte..."""
    name = xp.dtype(numpy_dtype).name
    return _SCALAR_TYPE_NAMES.get(name, name)


_SCALAR_TYPE_NAMES = {
    "float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "int16": "Short", "int32": "Int",
    "int64": "Long", "uint8": "Byte", "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64", "bool": "Bool",
    "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}

#: The unsigned integers wider than a byte, which PyTorch supports only in part (see ``uint16``).
WIDE_UNSIGNED = frozenset(xp.dtype(name) for name in ("uint16", "uint32", "uint64"))


def infer_dtype(data):
    """The dtype PyTorch's ``torch.tensor(data)`` would choose for Python data.

    NumPy arrays keep their dtype; otherwise bools give ``bool``, ints give ``int64`` and any float
    gives the default float dtype (NumPy would choose ``float64``).
    """
    if data is None:
        raise RuntimeError("Could not infer dtype of NoneType (tensor() needs numbers, bools or lists of them)")
    array = xp.asarray(data)
    kind = array.dtype.kind
    if kind == "O" and any(item is None for item in array.ravel()):  # NumPy would read None as nan
        raise RuntimeError("Could not infer dtype of NoneType (tensor() needs numbers, bools or lists of them)")
    if isinstance(data, (xp.ndarray, xp.generic)) or isinstance(getattr(data, "dtype", None), xp.dtype):
        return check_convertible(array.dtype)  # an array, a NumPy scalar, a pandas Series: their dtype
    if kind in "uO" and array.dtype.itemsize == 8 or kind == "f" and _beyond_int64(array):
        # Python ints past int64 make NumPy choose uint64, float64 or objects; PyTorch takes them only
        # among floats (then they are floats), and has no uint64 to infer
        if not _holds(data, builtins.float):
            raise OverflowError(f"Python int too large for int64 in {data!r}")
        kind = "f"
    if kind == "f":
        # PyTorch's rule, where NumPy's differs: the widest float among the items, a NumPy scalar's
        # own dtype, a Python float's the default ([1, np.float32(2)] is float32, [1.5, np.float16(2)]
        # the default); ints and bools beside floats change nothing
        widest = _widest_float(data)
        return _default_float if widest is None else widest
    if kind in "iu":
        return array.dtype if array.dtype.itemsize < 8 else int64  # NumPy int32 scalars alone stay int32
    if kind == "b":
        return bool_
    if kind == "c":
        # as for floats: a NumPy complex scalar keeps its dtype, a Python complex takes the default
        # complex dtype, and a float64 NumPy number beside it widens it
        widest = _widest_float(data, complex_too=True)
        return default_complex_dtype() if widest is None else of(complex_dtype(widest))
    raise TypeError(f"can't convert data of type {array.dtype} to a tensor")


def _holds(data, kind, depth=0):
    """Whether a (nested) list holds an item of ``kind``: ``float`` (a Python float) or
    ``numpy.float64`` (a NumPy float64 scalar or array)."""
    if isinstance(data, (xp.ndarray, xp.generic)):
        return data.dtype == kind
    if depth < 32 and isinstance(data, (list, tuple)):
        return any(_holds(item, kind, depth + 1) for item in data)
    return type(data) is kind


def _widest_float(data, depth=0, complex_too=False):
    """The widest float dtype among the items of (nested lists of) ``data``: a NumPy scalar's or
    array's own, the default for a Python float; None where there is no float. With
    ``complex_too``, complex items count by their parts' dtype (a Python complex as the default)."""
    if isinstance(data, (xp.ndarray, xp.generic)):
        if complex_too and data.dtype.kind == "c":
            return real_dtype(data.dtype)
        return data.dtype if data.dtype.kind == "f" else None
    if isinstance(data, builtins.float) or complex_too and isinstance(data, builtins.complex):
        return _default_float.dtype
    widest = None
    if depth < 32 and isinstance(data, (list, tuple)):
        for item in data:
            found = _widest_float(item, depth + 1, complex_too)
            if found is not None and (widest is None or found.itemsize > widest.itemsize):
                widest = found
    return widest


def _beyond_int64(array):
    """Whether a float64 array NumPy made of Python numbers holds one of magnitude 2**63 or more
    (an int there would overflow int64; a float is merely large)."""
    return array.dtype == xp.float64 and array.size > 0 and not builtins.float(xp.abs(array).max()) < 2.0**63


def check_convertible(numpy_dtype):
    """``numpy_dtype`` itself when a tensor can hold it (numbers and booleans); else PyTorch's
    TypeError (an array of strings, objects or dates)."""
    if numpy_dtype.kind not in "biufc" or numpy_dtype.itemsize > (16 if numpy_dtype.kind == "c" else 8):  # not longdouble
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{numpy_dtype.type.__name__}. The only supported types are: "
            f"float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, uint32, uint16, "
            f"uint8, and bool."
        )
    return numpy_dtype


def scalar_result_dtype(tensor_dtype, scalar):
    """PyTorch's dtype of ``tensor <op> python_scalar``: the tensor's dtype wins within its kind.

    An integer or bool tensor combined with a Python float becomes the default float dtype; a bool
    tensor combined with an int becomes ``int64``.
    """
    if isinstance(scalar, bool):
        return tensor_dtype
    if isinstance(scalar, builtins.float):
        return tensor_dtype if tensor_dtype.kind in "fc" else _default_float
    if isinstance(scalar, builtins.int):
        return int64 if tensor_dtype == bool_ else tensor_dtype
    if isinstance(scalar, builtins.complex):
        # the tensor's floating dtype made complex (float64 * 1j is complex128), an integer
        # tensor's the default complex dtype
        kind = xp.dtype(tensor_dtype).kind
        return of(complex_dtype(tensor_dtype)) if kind in "fc" else default_complex_dtype()
    return xp.result_type(tensor_dtype, scalar)


def wrapped_integer(value, integer_dtype):
    """The Python int ``value`` brought into the range of ``integer_dtype`` as a C cast does
    (modulo 2^bits, read as two's complement for signed types), as PyTorch converts a number that
    meets an integer tensor: ``uint8_tensor + -2`` adds 254, ``int8_tensor + 200`` adds -56."""
    bits = 8 * xp.dtype(integer_dtype).itemsize
    wrapped = value % (1 << bits)
    if xp.dtype(integer_dtype).kind == "i" and wrapped >= 1 << (bits - 1):
        wrapped -= 1 << bits
    return wrapped


def checked_scalar(value, numpy_dtype):
    """The number ``value`` as PyTorch converts it to write into a tensor of ``numpy_dtype``
    (``fill_``, ``full``, ``masked_fill``, ``x[key] = number``): a RuntimeError where it does not
    fit, else the value, an int wrapped into range.

    Integers take ints in their range, unsigned ones also negative ints down to -max (uint8 takes
    -3 as 253), and floats in their range (never nan or inf; -0.5 and 255.5 are refused by uint8,
    as in PyTorch, which compares before truncating); float16 and float32 take numbers up to their
    largest finite magnitude (and inf, nan); float64 and bool take any number. An int PyTorch
    can't read as a 64-bit integer (below -2**63, from 2**64 on) is an OverflowError whatever the
    dtype. A complex number goes into a real dtype only when its imaginary part is 0. Anything but a
    Python number (a tensor, a NumPy number) is returned as it is."""
    if isinstance(value, builtins.complex) and xp.dtype(numpy_dtype).kind != "c":
        if value.imag != 0:  # a complex number into a real tensor: only one on the real line fits, as in PyTorch
            name = xp.dtype(numpy_dtype).name
            raise RuntimeError(
                f"value cannot be converted to type {_C_TYPE_NAMES.get(name, name)} without overflow (got {value}; the "
                f"tensor's dtype is {dtype_name(numpy_dtype)}: use a complex dtype, e.g. chainrule.complex64)"
            )
        value = value.real
    if not isinstance(value, (builtins.int, builtins.float)) or isinstance(value, bool):
        return value
    low, high = WRITTEN_AS_IT_IS.get(numpy_dtype.dtype if type(numpy_dtype) is dtype else numpy_dtype, NO_RANGE)
    if low <= value <= high:  # the common case: a number well inside the dtype, written unchanged
        return value
    if isinstance(value, builtins.int) and not -(1 << 63) <= value < 1 << 64:
        raise OverflowError(f"int too big to convert: {value} is outside the 64-bit integers a tensor is written from; give it as a float")
    numpy_dtype = xp.dtype(numpy_dtype)
    kind = numpy_dtype.kind
    if kind == "b" or numpy_dtype == xp.float64:
        return value
    if kind in "fc":
        fits = not math.isfinite(value) or abs(value) <= builtins.float(xp.finfo(numpy_dtype).max)
    else:
        limits = xp.iinfo(numpy_dtype)
        if isinstance(value, builtins.int):
            fits = (-limits.max if kind == "u" else limits.min) <= value <= limits.max
        else:
            fits = limits.min <= value <= limits.max  # (nan compares False)
    if not fits:
        raise RuntimeError(
            f"value cannot be converted to type {_C_TYPE_NAMES.get(numpy_dtype.name, numpy_dtype.name)} without overflow (got {value}; "
            f"the tensor's dtype is {dtype_name(numpy_dtype)})"
        )
    return wrapped_integer(value, numpy_dtype) if isinstance(value, builtins.int) and kind in "iu" else value


def _written_as_it_is(numpy_dtype):
    """The range of Python numbers ``checked_scalar`` returns unchanged for ``numpy_dtype``: inside
    its finite range and inside the signed 64-bit integers (the rest takes the full rules)."""
    numpy_dtype = xp.dtype(numpy_dtype)
    limits = xp.iinfo(numpy_dtype) if numpy_dtype.kind in "iu" else xp.finfo(numpy_dtype) if numpy_dtype.kind == "f" else None
    low, high = (-(1 << 63), (1 << 63) - 1) if limits is None else (builtins.int(limits.min), builtins.int(limits.max))
    return max(low, -(1 << 63)), min(high, (1 << 63) - 1)


# numpy dtype -> (low, high): the Python numbers checked_scalar returns unchanged (a fast test for callers)
WRITTEN_AS_IT_IS = {xp.dtype(name): _written_as_it_is(name) for name in ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")}
NO_RANGE = (1, 0)  # other dtypes (complex, uint32...) take the full rules


_C_TYPE_NAMES = {"float16": "c10::Half", "float32": "float", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
                 "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t", "uint64": "uint64_t"}


#: The Python types PyTorch's promote_types and can_cast read as dtypes
_PYTHON_TYPES = {builtins.bool: bool_, builtins.int: int64, builtins.float: float64, builtins.complex: complex128}


def _expect_dtype(value, function, argument, position):
    """``value`` as a dtype: a dtype, or the Python type ``bool``, ``int`` or ``float`` (read as
    bool, int64 and float64, as PyTorch reads them); else PyTorch's TypeError."""
    if isinstance(value, dtype):
        return value
    if isinstance(value, type) and value in _PYTHON_TYPES:
        return _PYTHON_TYPES[value]
    raise TypeError(f"{function}(): argument '{argument}' (position {position}) must be chainrule.dtype, not {type(value).__name__}")


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}  # bool < integers < floats < complex: the category a result takes


def promote_types(type1, type2):
    """The smallest dtype both convert to without leaving their category (PyTorch's rule): floating
    wins over integer whatever the sizes (int64 with float16 gives float16, where NumPy chooses
    float64), integers of mixed signs widen (uint8 with int8 gives int16), anything wins over bool."""
    first = _expect_dtype(type1, "promote_types", "type1", 1)
    second = _expect_dtype(type2, "promote_types", "type2", 2)
    first_kind, second_kind = first.kind, second.kind
    if "u" in (first_kind, second_kind) and first is not second:
        _refuse_wide_unsigned_promotion(first, second)
    first_category, second_category = _CATEGORY[first_kind], _CATEGORY[second_kind]
    if "c" in (first_kind, second_kind):  # complex wins, with parts as wide as either's floats
        widest = xp.promote_types(*(real_dtype(each.dtype) if each.kind in "fc" else xp.float32 for each in (first, second)))
        return of(complex_dtype(widest))
    if first_category != second_category:
        return first if first_category > second_category else second
    if bfloat16 in (first, second):  # NumPy has no bfloat16; with float16 (neither holds the other) float32
        other = second if first is bfloat16 else first
        return other if other.itemsize > 2 else bfloat16 if other is bfloat16 else float32
    return of(xp.promote_types(first.dtype, second.dtype))


def _refuse_wide_unsigned_promotion(first, second):
    """PyTorch's refusal to promote uint16, uint32 or uint64 with another integer or bool dtype (with
    a floating one, the floating one wins as usual; uint8 promotes as any integer)."""
    wide = first in WIDE_UNSIGNED or second in WIDE_UNSIGNED
    if wide and first.kind != "f" and second.kind != "f" and first != second:
        raise RuntimeError(
            f"Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
            f"{scalar_type_name(first.dtype)} and {scalar_type_name(second.dtype)}; convert one of them first, "
            f"e.g. x.to(chainrule.int64)"
        )


def can_cast(from_, to):
    """Whether ``to`` may take values of dtype ``from_`` under PyTorch's casting rules: anything
    but floating to integer, and anything but bool to bool (a narrower dtype of the same kind may)."""
    source = _expect_dtype(from_, "can_cast", "from_", 1)
    target = _expect_dtype(to, "can_cast", "to", 2)
    return castable_kinds(source.kind, target.kind)


def castable_kinds(source, target):
    """``can_cast`` for the NumPy kinds of two dtypes ("b", "u", "i", "f", "c"): what an in-place
    operation checks on every write, without making the dtypes."""
    if source in "fc" and target in "iub" or source == "c" and target == "f":
        return False
    return not (target == "b" and source != "b")
