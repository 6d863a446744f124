"""QuantizedArray: what a quantized tensor holds, its integers and the parameters that map them
back to real numbers (``real = (q - zero_point) · scale``, see ``schemes.py``).

A dense tensor's operations compute on its NumPy array; a quantized tensor's array is this object
instead. NumPy hands any ufunc or array function that meets it to ``__array_ufunc__`` /
``__array_function__`` here, and every one raises PyTorch's NotImplementedError naming the
operation and the QuantizedCPU backend: arithmetic on the integers would be arithmetic on the wrong
numbers, so none is done (dequantize first, compute in floats, quantize again).
"""
import math

from chainrule.backend import xp
from chainrule.quantized import schemes


def unsupported(operation):
    """PyTorch's error for an operation that has no kernel for quantized tensors, saying what to do."""
    return QuantizedNotImplementedError(
        f"Could not run 'aten::{operation}' with arguments from the 'QuantizedCPU' backend: {operation} is not "
        "defined for a quantized tensor. Dequantize it first (x.dequantize()), compute in floats, and quantize "
        "the result again if needed."
    )


class QuantizedNotImplementedError(NotImplementedError, AttributeError):
    """NotImplementedError (PyTorch's type) that is also an AttributeError, so that ``hasattr`` and
    ``getattr(array, name, default)`` still answer "no" for a method the quantized array lacks."""


class QuantizedArray:
    """``integers`` (a NumPy integer array of the tensor's shape) and their quantization: ``qdtype``
    (chainrule.quint8, qint8 or qint32), ``scheme`` (a ``qscheme``), ``scale`` and ``zero_point``
    (numbers per tensor; 1-d arrays along ``axis`` per channel)."""

    base = None  # never a view of another array (as a NumPy array's ``base`` says)
    __array_priority__ = 2000  # NumPy's operators defer to this class's own

    def __init__(self, integers, qdtype, scheme, scale, zero_point, axis=None):
        self.integers = integers
        self.qdtype = qdtype
        self.scheme = scheme
        self.scale = scale
        self.zero_point = zero_point
        self.axis = axis

    def with_integers(self, integers):
        """The same quantization over other integers (a view or a copy of these, same channels)."""
        return QuantizedArray(integers, self.qdtype, self.scheme, self.scale, self.zero_point, self.axis)

    # ------------------------------------------------------------------ what it is
    @property
    def shape(self):
        return self.integers.shape

    @property
    def ndim(self):
        return self.integers.ndim

    @property
    def size(self):
        return self.integers.size

    @property
    def dtype(self):  # the integers' NumPy dtype; the tensor says its quantized dtype (QuantizedTensor.dtype)
        return self.integers.dtype

    @property
    def itemsize(self):
        return self.integers.itemsize

    @property
    def nbytes(self):
        return self.integers.nbytes

    def real_values(self):
        """The real numbers the integers stand for, as float32: ``(q - zero_point) · scale``, in float64
        per channel with integer zero points and in float32 otherwise, as PyTorch's kernels compute them."""
        scale, zero_point = self.scale, self.zero_point
        if self.axis is not None:
            along_axis = (-1,) + (1,) * (self.ndim - self.axis - 1)
            scale, zero_point = scale.reshape(along_axis), zero_point.reshape(along_axis)
        computed_in = xp.float64 if self.scheme is schemes.per_channel_affine else xp.float32
        shifted = self.integers.astype(computed_in) - xp.asarray(zero_point, dtype=computed_in)
        return (shifted * xp.asarray(scale, dtype=computed_in)).astype(xp.float32)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        return f"QuantizedArray(shape={self.shape}, qdtype={self.qdtype!r}, scheme={self.scheme!r})"

    # ------------------------------------------------------------------ NumPy's protocols: refused
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise unsupported(ufunc.__name__)

    def __array_function__(self, function, types, args, kwargs):
        raise unsupported(function.__name__)

    def __array__(self, dtype=None, copy=None):
        raise unsupported("numpy")

    def __getattr__(self, name):  # a dense array's method: x.reshape, x.sum, x.astype
        if name.startswith("__"):
            raise AttributeError(name)
        raise unsupported(name)

    def __getitem__(self, key):
        raise unsupported("index")

    def __setitem__(self, key, value):
        raise unsupported("copy_")

    def __bool__(self):
        if math.prod(self.shape) != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        raise unsupported("is_nonzero")


def _refusing(operation):
    def refused(self, *args, **kwargs):
        raise unsupported(operation)

    refused.__name__ = f"refuses_{operation}"
    return refused


# The operators Python tries on the array itself before NumPy's ufuncs could refuse them.
for _operator, _operation in {
    "add": "add", "sub": "sub", "mul": "mul", "truediv": "div", "floordiv": "floor_divide", "mod": "remainder",
    "pow": "pow", "matmul": "matmul", "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor",
    "lt": "lt", "le": "le", "gt": "gt", "ge": "ge",
}.items():
    setattr(QuantizedArray, f"__{_operator}__", _refusing(_operation))
    if _operator not in ("lt", "le", "gt", "ge"):
        setattr(QuantizedArray, f"__r{_operator}__", _refusing(_operation))
for _operator in ("neg", "abs", "invert"):
    setattr(QuantizedArray, f"__{_operator}__", _refusing(_operator))
