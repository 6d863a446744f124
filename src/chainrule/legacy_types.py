"""PyTorch's legacy typed constructors: ``FloatTensor``, ``LongTensor``, ... and ``x.type(...)``.

Old course code still writes them::

    x = torch.FloatTensor([1, 2])      # tensor([1., 2.]): float32, whatever the data
    buffer = torch.LongTensor(3)       # three uninitialized int64 values
    isinstance(x, torch.FloatTensor)   # True: a float32 tensor
    x.type('torch.LongTensor')         # converted to int64

They are not subclasses of Tensor: as in PyTorch, ``isinstance`` asks the tensor's dtype (the
metaclass's ``__instancecheck__``), and calling one makes an ordinary Tensor of that dtype.
"""
from chainrule import dtypes
from chainrule.autograd.function import made_from_arguments, made_from_values, written_in_python
from chainrule.caller_warnings import warn_once
from chainrule.backend import xp
from chainrule.memory_layout import keep_copied_layout
from chainrule.ops.registry import install_method
from chainrule.tensor import Size, Tensor, _to_raw, sizes_given, tensor_from_array, view_storage


class LegacyTensorType(type):
    """The type of ``FloatTensor`` and its siblings: ``isinstance(x, FloatTensor)`` is True for
    every float32 tensor (Parameters included)."""

    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor) and instance.dtype == cls.dtype

    def __repr__(cls):
        return f"<class 'chainrule.{cls.__name__}'>"

    def __call__(cls, *data, device=None):
        """``FloatTensor()``: empty; ``FloatTensor(2, 3)`` or ``FloatTensor(Size)``: uninitialized
        of that shape; ``FloatTensor(data)``: ``data`` (a sequence or array) converted to float32;
        ``FloatTensor(tensor)``: a tensor of that dtype, sharing its memory."""
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {str(device).split(':')[0]} was passed")
        if not data:
            return made_from_arguments(xp.empty((0,), dtype=cls.dtype))
        if len(data) == 1 and isinstance(data[0], Tensor):
            if data[0].dtype != cls.dtype:
                raise TypeError(
                    f"{cls.__name__}(tensor): expected a {cls.dtype} tensor, got {data[0].dtype}; convert it "
                    f"with tensor.to({cls.dtype}) or use chainrule.tensor(tensor, dtype=...)"
                )
            return tensor_from_array(data[0]._array)
        if len(data) == 1 and isinstance(data[0], Tensor._storage_types):
            viewing = made_from_arguments(xp.empty((0,), dtype=cls.dtype))
            view_storage(viewing, data[0], cls.__name__)
            return viewing
        if len(data) == 1 and isinstance(data[0], Size):
            data = tuple(data[0])
        sizes = sizes_given(data)
        if sizes is not None:
            if any(size < 0 for size in sizes):
                raise RuntimeError(f"Trying to create tensor with negative dimension: {list(sizes)}")
            return made_from_arguments(xp.empty(sizes, dtype=cls.dtype))
        if len(data) > 1:
            raise TypeError(f"{cls.__name__}() takes one data argument or int sizes, got {data!r}")
        if not hasattr(data[0], "__len__"):
            raise TypeError(
                f"{cls.__name__}(data): data must be a sequence (got {type(data[0]).__name__}); use "
                f"chainrule.tensor({data[0]!r}, dtype={cls.dtype}) for a 0-d tensor"
            )
        if isinstance(data[0], xp.ndarray):  # converted as a C cast, laid out as the array (as PyTorch's)
            made = made_from_values(data[0].astype(cls.dtype))
            keep_copied_layout(made)
            return made
        return made_from_values(xp.array(_to_raw(data[0])).astype(cls.dtype), written=written_in_python(data[0]))


def _legacy_type(name, dtype):
    return LegacyTensorType(name, (), {"dtype": dtype, "__doc__": f"Legacy constructor of {dtype} tensors; "
                                       f"``isinstance(x, {name})`` checks for that dtype."})


FloatTensor = _legacy_type("FloatTensor", dtypes.float32)
DoubleTensor = _legacy_type("DoubleTensor", dtypes.float64)
HalfTensor = _legacy_type("HalfTensor", dtypes.float16)
LongTensor = _legacy_type("LongTensor", dtypes.int64)
IntTensor = _legacy_type("IntTensor", dtypes.int32)
ShortTensor = _legacy_type("ShortTensor", dtypes.int16)
CharTensor = _legacy_type("CharTensor", dtypes.int8)
ByteTensor = _legacy_type("ByteTensor", dtypes.uint8)
BoolTensor = _legacy_type("BoolTensor", dtypes.bool_)

LEGACY_TYPES = (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor)


class CudaLegacyTensorType(type):
    """The type of ``chainrule.cuda.FloatTensor`` and its siblings, as in a PyTorch built without CUDA:
    no tensor is one (``isinstance`` is False), and making one raises TypeError."""

    def __instancecheck__(cls, instance):
        return False

    def __repr__(cls):
        return f"<class 'chainrule.cuda.{cls.__name__}'>"

    def __call__(cls, *data, device=None):
        raise TypeError(
            f"type torch.cuda.{cls.__name__} not available. chainrule computes on the CPU: use "
            f"chainrule.{cls.__name__}(...) (or drop .cuda())"
        )


#: chainrule.cuda.FloatTensor... in LEGACY_TYPES' order: ``isinstance(x, torch.cuda.FloatTensor)`` is False here
CUDA_LEGACY_TYPES = tuple(CudaLegacyTensorType(legacy.__name__, (), {"dtype": legacy.dtype}) for legacy in LEGACY_TYPES)
_BY_DTYPE = {legacy.dtype: legacy for legacy in LEGACY_TYPES}
_BY_NAME = {prefix + legacy.__name__: legacy for legacy in LEGACY_TYPES for prefix in ("torch.", "chainrule.")}


# The complex types have names but no public constructor, as in PyTorch (``x.type()`` is
# 'torch.ComplexFloatTensor', and ``x.type('torch.ComplexFloatTensor')`` converts).
_COMPLEX_TYPE_NAMES = {xp.dtype(xp.complex64): "ComplexFloatTensor", xp.dtype(xp.complex128): "ComplexDoubleTensor"}
_COMPLEX_BY_NAME = {prefix + name: dtypes.of(dtype) for dtype, name in _COMPLEX_TYPE_NAMES.items() for prefix in ("torch.", "chainrule.")}


def type_name(dtype):
    """``'chainrule.FloatTensor'`` for float32, as ``x.type()`` names a tensor's type."""
    dtype = xp.dtype(dtype)
    return f"chainrule.{_COMPLEX_TYPE_NAMES[dtype] if dtype.kind == 'c' else _BY_DTYPE[dtype].__name__}"


def convert_type(tensor, dtype=None, non_blocking=False):
    """``Tensor.type``: with no argument the type's name (``'chainrule.FloatTensor'``); with a dtype, a
    legacy type (``chainrule.LongTensor``) or its name (``'torch.LongTensor'`` as course code writes
    it), the tensor converted to it (itself when it already is of that type); ``Tensor`` (or
    ``'torch.Tensor'``) is the default dtype. Other types (``float``, ``numpy.float32``) are
    PyTorch's ValueError, other values its TypeError."""
    if dtype is None:
        return type_name(tensor.dtype)
    if isinstance(dtype, dtypes.dtype):
        return tensor.to(dtype)
    if dtype is Tensor or dtype in _DEFAULT_NAMES:
        return tensor.to(dtypes.get_default_dtype())
    if isinstance(dtype, str) and ".cuda." in dtype or isinstance(dtype, CudaLegacyTensorType):
        raise RuntimeError(f"type {dtype} not available: chainrule computes on the CPU; use the type without .cuda")
    if isinstance(dtype, type) and not isinstance(dtype, LegacyTensorType):  # float, numpy.float32: refused by name
        dtype = dtype.__qualname__ if dtype.__module__ == "builtins" else f"{dtype.__module__}.{dtype.__qualname__}"
    if isinstance(dtype, str) and dtype in _COMPLEX_BY_NAME:
        return tensor.to(_COMPLEX_BY_NAME[dtype])
    if isinstance(dtype, str):
        if dtype not in _BY_NAME:
            raise ValueError(
                f"invalid type: {dtype!r}; expected a dtype (chainrule.float64), a legacy type (chainrule.DoubleTensor) "
                f"or its name ('torch.DoubleTensor')"
            )
        dtype = _BY_NAME[dtype]
    if not isinstance(dtype, LegacyTensorType):
        raise TypeError(f"dtype must be a type, str, or dtype object, not {type(dtype).__name__}")
    return tensor.to(dtype.dtype)


_DEFAULT_NAMES = ("torch.Tensor", "chainrule.Tensor")  # x.type('torch.Tensor'): the default dtype


install_method("type", convert_type)


def new(self, *data, size=None, device=None):
    """PyTorch's legacy ``x.new(...)``: the legacy constructor of x's dtype (``FloatTensor`` for a
    float32 x): ``x.new()`` empty, ``x.new(2, 3)`` or ``x.new(size=(2, 3))`` uninitialized of that
    size, ``x.new(data)`` the data converted to x's dtype, ``x.new(tensor)`` that tensor's memory.
    Never requires grad."""
    if size is not None:
        if data:
            raise TypeError("new() received an invalid combination of arguments: give the sizes either as arguments or as size=")
        data = tuple(size)
    return _BY_DTYPE[self._array.dtype](*data, device=device)


install_method("new", new)


def set_default_tensor_type(t):
    """Make the dtype of the floating legacy type ``t`` (``chainrule.DoubleTensor``, or its name
    ``'torch.DoubleTensor'`` as old course code writes it) the default floating dtype: PyTorch's
    older ``set_default_dtype``, deprecated there (it warns once per process, as PyTorch does)."""
    warn_once(
        "set_default_tensor_type",
        "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use torch.set_default_dtype() and "
        "torch.set_default_device() as alternatives.",
    )
    if isinstance(t, str):
        if ".cuda." in t:
            raise TypeError(f"type {t} not available. chainrule computes on the CPU: use {t.replace('.cuda', '')}")
        if t not in _BY_NAME:
            raise TypeError(f"invalid type: {t!r}; expected a name such as 'torch.FloatTensor' or 'torch.DoubleTensor'")
        t = _BY_NAME[t]
    if not isinstance(t, LegacyTensorType):
        raise TypeError(f"invalid type: {t!r}; expected a legacy tensor type such as torch.FloatTensor or torch.DoubleTensor")
    dtypes.set_default_dtype(t.dtype)
