"""Storage: the memory that tensors view, as PyTorch names it (``torch.storage``).

A tensor is a view of a block of memory: ``x.t()``, ``x[1:]`` and ``x.view(3, 2)`` read the memory of
``x`` in other shapes and strides, without copying. That block is the tensor's *storage*::

    x = chainrule.arange(6.0)
    y = x[2:].view(2, 2)
    x.untyped_storage().data_ptr() == y.untyped_storage().data_ptr()   # True: one memory
    y.storage_offset()                                                  # 2: y starts 2 elements in
    x.untyped_storage().nbytes()                                        # 24: six float32 numbers

- ``UntypedStorage`` (``x.untyped_storage()``) is the memory as bytes: ``s[0]`` reads one byte,
  ``s[0] = 255`` writes it, and every tensor viewing that memory sees the change.
- ``TypedStorage`` (``x.storage()``, deprecated by PyTorch, which warns) reads the same memory as
  elements of one dtype; ``FloatStorage`` and its siblings are its legacy names, one per dtype.
- ``x.set_(source, storage_offset, size, stride)`` makes ``x`` view another tensor's memory, or a
  storage's, in any layout; ``x.is_set_to(y)`` asks whether x and y view the same elements.

In chainrule the memory is a NumPy array's: a tensor's storage is the memory of the array that owns
the memory its array views. That memory cannot grow or shrink under the arrays that view it, so a
tensor's storage is not resizable (as PyTorch's is not for a tensor made by ``from_numpy``); a
storage made on its own (``UntypedStorage(8)``) resizes while no tensor views it.
"""
import os
import operator
import weakref

from chainrule import dtypes
from chainrule.autograd import grad_mode
from chainrule.autograd.function import Function
from chainrule.backend import (
    MetaArray, bytes_as, bytes_copied, file_bytes, first_element_address, is_shared_memory, memory_bytes, memory_owner, meta_array,
    mapped_file_bytes, offset_in_memory, resized_in_place, strided_view, xp,
)
from chainrule.caller_warnings import warn_once
from chainrule.device import check_device
from chainrule.device import device as chainrule_device
from chainrule.memory_layout import row_major_strides
from chainrule.ops.registry import install_method
from chainrule.tensor import Tensor, tensor_from_array

#: The storage of each memory a tensor or a storage owns, by the id of the array owning it, so that
#: ``x.untyped_storage() is x[1:].untyped_storage()``, as in PyTorch. The storage keeps that array
#: alive, so the id names no other array while the entry lasts.
_STORAGES = weakref.WeakValueDictionary()


def _refuse_meta(storage):
    if storage.device.type == "meta":
        raise NotImplementedError("Not available for 'meta' device type: a meta storage has a size and no bytes")


class _Storage:
    """What the two kinds of storage share: Python's protocols, from ``tolist`` and ``clone``."""

    __slots__ = ()

    def __iter__(self):
        return iter(self.tolist())

    def __repr__(self):
        return str(self)

    def __copy__(self):
        return self.clone()

    def __deepcopy__(self, memo):
        copied = memo.get(id(self))
        if copied is None:
            copied = memo[id(self)] = self.clone()
        return copied

    def __sizeof__(self):
        """The object and the bytes it holds, as ``sys.getsizeof`` reports PyTorch's (torchinfo sums
        its inputs' sizes so): its storage object counts 16 bytes more than this slotted one."""
        return super().__sizeof__() + 16 + self.nbytes()

    def cpu(self):
        return self

    def is_pinned(self, device="cuda"):
        """False: page-locked memory is for copies to a GPU, and chainrule has none."""
        return False


class UntypedStorage(_Storage):
    """Bytes of memory, which tensors view. ``UntypedStorage(n)``: n uninitialized bytes;
    ``UntypedStorage([1, 2, 300])`` or ``UntypedStorage(b"abc")``: those bytes (each int taken
    modulo 256); ``UntypedStorage()``: none. ``device="meta"`` gives a size without bytes."""

    __slots__ = ("_bytes", "__weakref__")
    is_sparse = False
    is_sparse_csr = False
    is_cuda = False
    is_hpu = False

    def __init__(self, *args, device=None):
        on_meta = device is not None and chainrule_device(device).type == "meta"
        if not on_meta:
            check_device(device)
        if len(args) > 1:
            raise TypeError(f"UntypedStorage() takes a size or a sequence of bytes, got {len(args)} arguments")
        contents = args[0] if args else 0
        if isinstance(contents, int) and not isinstance(contents, bool):
            if contents < 0:
                raise RuntimeError(f"UntypedStorage(): size must be non-negative, got {contents}")
            memory = meta_array((contents,), xp.uint8) if on_meta else xp.empty((contents,), dtype=xp.uint8)
        elif isinstance(contents, (bytes, bytearray)):
            memory = bytes_copied(contents)
        elif isinstance(contents, (list, tuple)):
            memory = xp.array([operator.index(value) & 0xFF for value in contents], dtype=xp.uint8)
        else:
            raise RuntimeError(f"UntypedStorage(): Expected a sequence type, but got {type(contents).__name__}")
        _made_over(self, memory)

    @classmethod
    def from_file(cls, filename, shared=False, nbytes=0):
        """``nbytes`` bytes of the file ``filename``, as PyTorch's: with ``shared`` the file's own
        memory, mapped (writes reach the file; a shorter file is lengthened), otherwise a copy of its
        first ``nbytes`` bytes, which the file must hold (``safetensors.torch.load_file`` reads
        checkpoints so)."""
        if shared:
            if not os.path.exists(filename) or os.path.getsize(filename) < nbytes:
                with open(filename, "ab") as file:  # made, or lengthened with zeros, as PyTorch's
                    file.truncate(nbytes)
            memory = mapped_file_bytes(filename, nbytes)
        else:
            size = os.path.getsize(filename)
            if size < nbytes:
                raise RuntimeError(
                    f"unexpected EOF, expected {nbytes - size} more bytes. The file might be corrupted. ({filename} holds "
                    f"{size} bytes, {nbytes} were asked for)"
                )
            memory = file_bytes(filename, nbytes)
        return cls._over(memory)

    @classmethod
    def _over(cls, memory, whole=True):
        """The storage of ``memory``, a 1-d uint8 array (not a copy): the storage of all of the
        memory it views, or (``whole`` False) of a slice of it."""
        return _made_over(object.__new__(cls), memory, whole)

    # ----------------------------------------------------------------- what it is
    def nbytes(self):
        """Its size in bytes."""
        return int(self._bytes.size)

    size = nbytes
    __len__ = nbytes

    def element_size(self):
        """1: its elements are bytes."""
        return 1

    @property
    def device(self):
        return chainrule_device("meta" if type(self._bytes) is MetaArray else "cpu")

    def get_device(self):
        """The device's index: None on the CPU, as PyTorch's storages give it."""
        return self.device.index

    def data_ptr(self):
        """The address of its first byte (0 when it has none, or on 'meta'): a tensor's
        ``data_ptr()`` is its storage's plus ``storage_offset() * element_size()``."""
        return first_element_address(self._bytes)

    def is_shared(self):
        """Whether its memory is shared with the processes this one forks (``Tensor.share_memory_``)."""
        return is_shared_memory(self._bytes)

    def resizable(self):
        """Whether ``resize_`` may change its size: only a storage made on its own, which owns its
        memory (a tensor's storage is the memory of the array its tensors view)."""
        return type(self._bytes) is not MetaArray and self._bytes.base is None

    def untyped(self):
        return self

    def type(self, dtype=None, non_blocking=False):
        """Its type's name, ``'chainrule.storage.UntypedStorage'``."""
        if dtype is not None:
            raise TypeError("UntypedStorage.type(dtype): an untyped storage has no dtype to convert; make a TypedStorage")
        return f"{type(self).__module__}.{type(self).__name__}"

    # ----------------------------------------------------------------- its bytes
    def __getitem__(self, index):
        """One byte as an int (``s[-1]`` counts from the end), or a storage sharing bytes
        ``start:stop`` (step 1 only, as in PyTorch)."""
        _refuse_meta(self)
        size = self.nbytes()
        if isinstance(index, slice):
            return UntypedStorage._over(self._bytes[_unit_step_range(index, size)], whole=False)
        index = _byte_index(index)
        position = index + size if index < 0 else index
        if not 0 <= position < size:
            raise IndexError(f"index {position} out of range for storage of size {size}")
        return int(self._bytes[position])

    def __setitem__(self, index, value):
        """Write the byte ``value`` (an int, taken modulo 256) at ``index`` (0 to size - 1), or into
        every byte of the slice ``index`` (step 1): every tensor viewing the memory sees it."""
        _refuse_meta(self)
        if not isinstance(value, int):
            raise RuntimeError(f"can only set storage content with a int types, but got {type(value).__name__} instead")
        if isinstance(index, slice):
            self._bytes[_unit_step_range(index, self.nbytes())] = value & 0xFF
            return
        index = _byte_index(index)
        if not 0 <= index < self.nbytes():
            raise RuntimeError(f"out of bounds: index {index} of a storage of {self.nbytes()} bytes (0 to size - 1)")
        self._bytes[index] = value & 0xFF

    def tolist(self):
        """Its bytes as a list of ints."""
        _refuse_meta(self)
        return self._bytes.tolist()

    def fill_(self, value):
        """Every byte set to ``value`` (an int, taken modulo 256); returns the storage."""
        _refuse_meta(self)
        if not isinstance(value, int):
            raise RuntimeError(f"fill_ expects int, but got {type(value).__name__}")
        self._bytes[...] = value & 0xFF
        return self

    def copy_(self, source, non_blocking=None):
        """The bytes of ``source`` (a storage of as many bytes) copied in; returns the storage."""
        if not isinstance(source, (UntypedStorage, TypedStorage)):
            raise TypeError(f"copy_(): argument 'src' (position 1) must be chainrule.Storage, not {type(source).__name__}")
        source = source.untyped()
        if source.nbytes() != self.nbytes():
            raise RuntimeError(f"size does not match, self was {self.nbytes()} bytes but src was {source.nbytes()} bytes")
        _refuse_meta(self)
        self._bytes[...] = source._bytes
        return self

    def clone(self):
        """A storage with a copy of its bytes, in memory of its own."""
        return UntypedStorage._over(self._bytes.copy())

    def new(self):
        """An empty storage of the same kind and device."""
        return UntypedStorage(device=self.device)

    def resize_(self, size):
        """Change its size to ``size`` bytes in place, keeping the bytes that fit (new ones are 0).
        Refused, as PyTorch refuses it for a storage that is not resizable, for a tensor's storage
        and for one that a tensor views."""
        if size < 0:
            raise RuntimeError(f"resize_: size must be non-negative, got {size}")
        if not self.resizable() or not resized_in_place(self, "_bytes", size):
            raise RuntimeError(
                "Trying to resize storage that is not resizable (chainrule's memory is a NumPy array's, and arrays "
                "view it: copy what you need with clone(), or make a new storage)"
            )
        return self

    # ----------------------------------------------------------------- Python protocols
    def __str__(self):
        return _described(self, f"device={self.device}")

    def __reduce__(self):
        _refuse_meta(self)
        return UntypedStorage, (self._bytes.tobytes(),)


def _made_over(storage, memory, whole=True):
    """``storage`` holding ``memory``; known as the storage of the memory when it holds all of it."""
    storage._bytes = memory
    if whole and type(memory) is not MetaArray:
        _STORAGES[id(memory_owner(memory))] = storage
    return storage


def _byte_index(index):
    """``index`` as an int (anything with ``__index__``), or PyTorch's TypeError."""
    try:
        return operator.index(index)
    except TypeError:
        raise TypeError(f"can't index a chainrule.UntypedStorage with {type(index).__name__}") from None


def _unit_step_range(index, size):
    """The slice ``index`` of a storage of ``size`` bytes, bounded to it, or PyTorch's error for a step
    other than 1."""
    start, stop, step = index.indices(size)
    if step != 1:
        raise RuntimeError(f"Trying to slice with a step of {step}, but only a step of 1 is supported")
    return slice(start, max(start, stop))


def _described(storage, details):
    """PyTorch's text of a storage: its elements one per line, then its type, details and size."""
    values = "..." if storage.device.type == "meta" else " " + "\n ".join(str(value) for value in storage)
    kind = type(storage)
    return f"{values}\n[{kind.__module__}.{kind.__name__}({details}) of size {len(storage)}]"


def storage_of(array):
    """The ``UntypedStorage`` of the memory ``array`` views (one object per memory)."""
    if type(array) is MetaArray:
        return UntypedStorage._over(meta_array((array.nbytes,), xp.uint8))
    storage = _STORAGES.get(id(memory_owner(array)))
    return storage if storage is not None else UntypedStorage._over(memory_bytes(array))


# ----------------------------------------------------------------------------- typed storages
def _warn_typed_storage_removal():
    """PyTorch's warning, once per process, on the first use of a TypedStorage."""
    warn_once(
        "TypedStorage is deprecated",
        "TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the only storage "
        "class. This should only matter to you if you are using storages directly.  To access UntypedStorage "
        "directly, use tensor.untyped_storage() instead of tensor.storage()",
    )


class TypedStorage(_Storage):
    """Memory read as elements of one dtype (deprecated by PyTorch in favour of ``UntypedStorage``):
    ``TypedStorage(n, dtype=...)``, ``TypedStorage([1, 2], dtype=...)``, or
    ``TypedStorage(wrap_storage=untyped, dtype=...)`` over an untyped storage's bytes. Its length
    counts elements; indexing reads and writes elements."""

    __slots__ = ("_untyped_storage", "dtype")
    is_sparse = False
    is_cuda = False

    def __init__(self, *args, wrap_storage=None, dtype=None, device=None, _internal=False):
        if not _internal:
            _warn_typed_storage_removal()
        self.dtype = dtypes.get_default_dtype() if dtype is None else dtypes.of(xp.dtype(dtype))
        if wrap_storage is not None:
            if args or device is not None:
                raise RuntimeError("TypedStorage(wrap_storage=...): no other arguments than dtype may be given with it")
            if not isinstance(wrap_storage, UntypedStorage):
                raise TypeError(
                    f"TypedStorage(): argument 'wrap_storage' must be UntypedStorage, but got {type(wrap_storage).__name__}"
                )
            self._untyped_storage = wrap_storage
            return
        contents = args[0] if args else 0
        itemsize = xp.dtype(self.dtype).itemsize
        if isinstance(contents, int) and not isinstance(contents, bool):
            self._untyped_storage = UntypedStorage(contents * itemsize, device=device)
        else:
            values = xp.array(list(contents), dtype=xp.dtype(self.dtype)).reshape(-1)
            self._untyped_storage = UntypedStorage._over(memory_bytes(values))

    def _elements(self):
        """Its memory as a 1-d tensor of its dtype, sharing it."""
        _refuse_meta(self._untyped_storage)
        return tensor_from_array(bytes_as(self._untyped_storage._bytes, xp.dtype(self.dtype)))

    def size(self):
        """How many elements of its dtype its bytes hold."""
        return self._untyped_storage.nbytes() // xp.dtype(self.dtype).itemsize

    __len__ = size

    def nbytes(self):
        return self._untyped_storage.nbytes()

    def element_size(self):
        return xp.dtype(self.dtype).itemsize

    @property
    def device(self):
        return self._untyped_storage.device

    def get_device(self):
        return self._untyped_storage.get_device()

    def data_ptr(self):
        return self._untyped_storage.data_ptr()

    def untyped(self):
        """The bytes it reads, an ``UntypedStorage``."""
        return self._untyped_storage

    def is_shared(self):
        return self._untyped_storage.is_shared()

    def resizable(self):
        return self._untyped_storage.resizable()

    def type(self, dtype=None, non_blocking=False):
        """Its legacy type's name (``'chainrule.FloatStorage'``)."""
        if dtype is not None:
            raise TypeError("TypedStorage.type(dtype): convert the tensor instead (tensor.to(dtype).storage())")
        legacy = LEGACY_STORAGES.get(self.dtype)
        return f"chainrule.{legacy.__name__}" if legacy is not None else f"{type(self).__module__}.{type(self).__name__}"

    def __getitem__(self, index):
        """The element at ``index`` as a Python number (an int index only: slices are for
        ``UntypedStorage``)."""
        if isinstance(index, slice):
            raise RuntimeError("slices are only supported in UntypedStorage.__getitem__")
        if not isinstance(index, int):
            raise RuntimeError(f"can't index a {type(self)} with {type(index)}")
        size = self.size()
        position = index + size if index < 0 else index
        if not 0 <= position < size:
            raise IndexError(f"index {position} out of range for storage of size {size}")
        return self._elements()[position].item()

    def __setitem__(self, index, value):
        """Write ``value`` at ``index`` (an int or a slice), as ``tensor[index] = value`` does."""
        if not isinstance(index, (int, slice)):
            raise RuntimeError(f"can't index a {type(self)} with {type(index)}")
        self._elements()[index] = value

    def tolist(self):
        return self._elements().tolist()

    def fill_(self, value):
        """Every element set to ``value`` (as ``tensor[:] = value`` sets them); returns the storage."""
        self._elements()[:] = value
        return self

    def copy_(self, source, non_blocking=None):
        """The bytes of ``source`` (a storage of as many bytes) copied in; returns the storage."""
        self._untyped_storage.copy_(source, non_blocking)
        return self

    def clone(self):
        return TypedStorage(wrap_storage=self._untyped_storage.clone(), dtype=self.dtype, _internal=True)

    def resize_(self, size):
        """Change its size to ``size`` elements in place (see ``UntypedStorage.resize_``)."""
        self._untyped_storage.resize_(size * xp.dtype(self.dtype).itemsize)
        return self

    def __str__(self):
        return _described(self, f"dtype={self.dtype}, device={self.device}")

    def __reduce__(self):
        return _unpickled_typed_storage, (self._untyped_storage, self.dtype)


def _unpickled_typed_storage(untyped, dtype):
    """A TypedStorage unpickled: ``untyped``'s bytes read as ``dtype``."""
    return TypedStorage(wrap_storage=untyped, dtype=dtype, _internal=True)


class LegacyStorageType(type):
    """The type of ``FloatStorage`` and its siblings: calling one makes a TypedStorage of its dtype,
    and ``isinstance(s, FloatStorage)`` asks a TypedStorage's dtype (as PyTorch's)."""

    def __call__(cls, *args, wrap_storage=None, device=None):
        return TypedStorage(*args, wrap_storage=wrap_storage, dtype=cls.dtype, device=device)

    def __instancecheck__(cls, instance):
        return isinstance(instance, TypedStorage) and instance.dtype == cls.dtype

    def __repr__(cls):
        return f"<class 'chainrule.{cls.__name__}'>"


def _legacy_storage(name, dtype):
    return LegacyStorageType(name, (TypedStorage,), {"__slots__": (), "dtype": dtype, "__module__": "chainrule",
                                                     "__doc__": f"Legacy name of a TypedStorage of {dtype}."})


FloatStorage = _legacy_storage("FloatStorage", dtypes.float32)
DoubleStorage = _legacy_storage("DoubleStorage", dtypes.float64)
HalfStorage = _legacy_storage("HalfStorage", dtypes.float16)
LongStorage = _legacy_storage("LongStorage", dtypes.int64)
IntStorage = _legacy_storage("IntStorage", dtypes.int32)
ShortStorage = _legacy_storage("ShortStorage", dtypes.int16)
CharStorage = _legacy_storage("CharStorage", dtypes.int8)
ByteStorage = _legacy_storage("ByteStorage", dtypes.uint8)
BoolStorage = _legacy_storage("BoolStorage", dtypes.bool_)

#: The legacy storage class of each dtype that has one (uint16, uint32 and uint64 have none).
LEGACY_STORAGES = {storage.dtype: storage for storage in (
    FloatStorage, DoubleStorage, HalfStorage, LongStorage, IntStorage, ShortStorage, CharStorage, ByteStorage, BoolStorage,
)}


def is_storage(obj):
    """True when ``obj`` is a storage (an ``UntypedStorage`` or a ``TypedStorage``), not a tensor."""
    return type(obj) in (UntypedStorage, TypedStorage)


# ----------------------------------------------------------------------------- the Tensor methods
def untyped_storage(self):
    """The memory this tensor views, as bytes (shared with every tensor viewing it)."""
    return storage_of(self._array)


def storage(self):
    """The memory this tensor views, read as elements of its dtype (PyTorch's deprecated
    ``TypedStorage``, with its warning: use ``untyped_storage()``)."""
    _warn_typed_storage_removal()
    return self._typed_storage()


def _typed_storage(self):
    """``storage()`` without the warning."""
    return TypedStorage(wrap_storage=storage_of(self._array), dtype=self.dtype, _internal=True)


def storage_type(self):
    """The legacy class of the storage of this tensor's dtype (``chainrule.FloatStorage``; None for
    uint16, uint32 and uint64, which have none)."""
    _warn_typed_storage_removal()
    return LEGACY_STORAGES.get(self.dtype)


class SetBackward(Function):
    """The node of a tensor changed by ``set_`` in a graph: PyTorch defines no derivative for it
    (it names the node NotImplemented); ``forward`` gives the tensor's new array a tensor."""

    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, array, source, tensor):
        return tensor_from_array(array)

    @staticmethod
    def backward(ctx, grad_output):
        raise RuntimeError("derivative for aten::set_ is not implemented")


def set_(self, source=None, storage_offset=None, size=None, stride=None):
    """Make this tensor view ``source``'s memory, in place: a tensor's storage (with that tensor's
    shape, strides and offset when only ``source`` is given) or a storage (all of it, as a 1-d
    tensor); ``storage_offset``, ``size`` and ``stride`` (row-major by default) choose another
    layout in it. ``set_()`` leaves the tensor empty, over memory of its own. Returns the tensor.

    The tensor keeps its dtype, which a tensor or TypedStorage ``source`` must have; it is no view
    of ``source`` (it has its own version counter), but writing into either shows in both."""
    dtype = self._array.dtype
    if source is None:
        if storage_offset is not None or size is not None:
            raise TypeError("set_(): give a source (a tensor or a storage) with storage_offset and size")
        array = meta_array((0,), dtype) if self.is_meta else xp.empty((0,), dtype=dtype)
    else:
        memory, layout = _memory_and_layout(self, source)
        if size is not None or storage_offset is not None:
            layout = _checked_layout(storage_offset or 0, size, stride)
        array = _viewed(memory, dtype, *layout)
    if grad_mode._state.enabled and (self._requires_grad or isinstance(source, Tensor) and source._requires_grad):
        if self.grad_fn is None and self._requires_grad:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation. Wrap the set_ call in "
                "`with chainrule.no_grad():`"
            )
        self._became_output_of(SetBackward.apply(array, source if isinstance(source, Tensor) else None, self).grad_fn, 0)
    version = self._version + 1
    self._array, self._chosen_strides, self._base, self._version_holder = array, True, None, None
    self._version_count = version
    return self


def _memory_and_layout(self, source):
    """(the bytes ``source`` gives, the (offset, shape, strides) ``set_(source)`` takes in them)."""
    dtype = self._array.dtype
    if isinstance(source, Tensor):
        if source._array.dtype != dtype:
            raise RuntimeError(
                f"Could not set tensor of type {dtypes.scalar_type_name(dtype)} to a tensor of type "
                f"{dtypes.scalar_type_name(source._array.dtype)}: convert one first (source.to(tensor.dtype))"
            )
        _check_same_device(self, source.device)
        return storage_of(source._array)._bytes, (source.storage_offset(), source._array.shape, source.stride())
    if isinstance(source, TypedStorage):
        if source.dtype != dtype:
            raise RuntimeError(
                f"Expected a Storage of type {dtypes.dtype_name(dtype)} or an UntypedStorage, but got type "
                f"{dtypes.scalar_type_name(xp.dtype(source.dtype))} for argument 1 'storage'"
            )
        source = source.untyped()
    if not isinstance(source, UntypedStorage):
        raise TypeError(f"set_(): argument 'source' (position 1) must be Tensor or Storage, not {type(source).__name__}")
    _check_same_device(self, source.device)
    return source._bytes, (0, (source.nbytes() // dtype.itemsize,), (1,))


def _check_same_device(self, device):
    if device != self.device:
        raise RuntimeError(
            f'Attempted to set the storage of a tensor on device "{self.device}" to a storage on different device '
            f'"{device}".  This is no longer allowed; the devices must match.'
        )


def _checked_layout(storage_offset, size, stride):
    """(offset, shape, strides) of ``set_``'s arguments, checked as PyTorch checks them."""
    shape = tuple(operator.index(side) for side in size)
    strides = row_major_strides(shape) if stride is None or len(stride) == 0 else tuple(operator.index(step) for step in stride)
    if len(strides) != len(shape):
        raise RuntimeError(f"unequal size length ({len(shape)}) and stride length ({len(strides)})")
    if storage_offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {storage_offset}")
    if any(side < 0 for side in shape) or any(step < 0 for step in strides):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)} and strides={list(strides)}")
    return storage_offset, shape, strides


def _viewed(memory, dtype, offset, shape, strides):
    """``memory`` (bytes) read as ``dtype`` in the layout (offset, shape, strides), sharing it; as
    PyTorch refuses to grow a storage that is not resizable, a layout reaching past it is refused."""
    if type(memory) is MetaArray:
        return meta_array(shape, dtype)
    elements = bytes_as(memory, dtype)
    needed = 0 if 0 in shape else offset + 1 + sum((side - 1) * step for side, step in zip(shape, strides))
    if needed > elements.size:
        raise RuntimeError(
            f"Trying to resize storage that is not resizable: sizes {list(shape)}, strides {list(strides)} and storage "
            f"offset {offset} need {needed * dtype.itemsize} bytes, and the storage has {memory.size}"
        )
    return strided_view(elements, shape, strides, offset)


def is_set_to(self, tensor):
    """Whether this tensor and ``tensor`` view the same elements: the same memory, offset, shape
    and strides (``x.set_(y)`` makes it so)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"is_set_to(): argument 'tensor' (position 1) must be Tensor, not {type(tensor).__name__}")
    mine, theirs = self._array, tensor._array
    if type(mine) is MetaArray or type(theirs) is MetaArray or memory_owner(mine) is not memory_owner(theirs):
        return False
    return (offset_in_memory(mine), mine.shape, self.stride()) == (offset_in_memory(theirs), theirs.shape, tensor.stride())


for _method in (untyped_storage, storage, _typed_storage, storage_type, set_, is_set_to):
    install_method(_method.__name__, _method)
Tensor._storage_types = (UntypedStorage, TypedStorage)  # Tensor(storage) and FloatTensor(storage) view them
