"""``finfo`` and ``iinfo``: the limits of a floating or integer dtype, with PyTorch's attribute names.

``finfo(float32).eps`` is the gap between 1 and the next float32 (1.19e-07): the smallest relative
change a float32 can hold, the usual scale for tolerances.
"""
from chainrule import dtypes
from chainrule.backend import xp

_DEFAULT = object()  # finfo() without an argument: the default dtype (finfo(None) is refused, as in PyTorch)


def _checked_dtype(type, function):
    """``type`` when it is a chainrule dtype; PyTorch's TypeError for a string, a NumPy type or None."""
    if not isinstance(type, dtypes.dtype):
        raise TypeError(
            f"{function}(): argument 'type' (position 1) must be chainrule.dtype, not {dtypes.python_type_name(type)} "
            f"(pass chainrule.float32, chainrule.int64, ...)"
        )
    return type


def _refuse(dtype, function, other):
    """PyTorch's TypeError of ``finfo`` given a dtype that is not floating (``iinfo``: not integer)."""
    kind = "a floating point" if function == "finfo" else "an integer"
    raise TypeError(
        f"chainrule.{function}() requires {kind} input type. Use chainrule.{other} to handle 'chainrule.{function}' "
        f"(got {getattr(dtype, 'name', dtype)})"
    )


class _Limits:
    """What finfo and iinfo share: two of them are equal when they describe the same dtype, as in
    PyTorch (``finfo(float32) == finfo(float)``); like PyTorch's, they are not hashable."""

    def __eq__(self, other):
        return type(other) is type(self) and vars(other) == vars(self)

    __hash__ = None


class finfo(_Limits):
    """Limits of a floating dtype (default: the default dtype), as ``torch.finfo``; a complex
    dtype gives those of its parts (``finfo(complex64)`` is ``finfo(float32)``).

    ``bits``, ``eps`` (1 + eps is the next number after 1), ``max``, ``min`` (= -max), ``tiny`` and
    ``smallest_normal`` (the smallest positive normal number), ``resolution`` (10 ** -decimal digits),
    ``dtype`` (its name, ``'float32'``).
    """

    def __init__(self, type=_DEFAULT):
        type = dtypes.get_default_dtype() if type is _DEFAULT else _checked_dtype(type, "finfo")
        if isinstance(type, dtypes.DtypeWithoutArrays):  # bfloat16, float8...: their limits are known without NumPy
            if type.kind not in "fc":
                _refuse(type, "finfo", "iinfo")
            if type.limits is None:
                raise NotImplementedError(f"finfo: the limits of {type.name} are not known here")
            self.__dict__.update({"dtype": type.name, **type.limits}, tiny=type.limits["smallest_normal"])
            return
        dtype = dtypes.real_dtype(type)  # a complex dtype's are its parts' (finfo(complex64) is float32's)
        if dtype.kind != "f":
            _refuse(dtype, "finfo", "iinfo")
        limits = xp.finfo(dtype)
        self.bits = limits.bits
        self.eps = float(limits.eps)
        self.max = float(limits.max)
        self.min = float(limits.min)
        self.tiny = self.smallest_normal = float(limits.smallest_normal)
        self.resolution = 10.0 ** -limits.precision
        self.dtype = dtype.name

    def __repr__(self):
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
            f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})"
        )


class iinfo(_Limits):
    """Limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``min``, ``max``, ``dtype``."""

    def __init__(self, type):
        type = _checked_dtype(type, "iinfo")
        if isinstance(type, dtypes.DtypeWithoutArrays):  # the quantized integers: their limits are known
            if type.kind != "q":
                _refuse(type, "iinfo", "finfo")
            self.__dict__.update(type.limits, dtype=type.name)
            return
        dtype = xp.dtype(type)
        if dtype.kind not in "iu":
            if dtype.kind == "b":
                raise TypeError("chainrule.bool is not supported by chainrule.iinfo")
            _refuse(dtype, "iinfo", "finfo")
        limits = xp.iinfo(dtype)
        self.bits = limits.bits
        self.min = int(limits.min)
        self.max = int(limits.max)
        self.dtype = dtype.name

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
