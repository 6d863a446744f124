"""Reading the files PyTorch's ``torch.save`` writes: weights trained in PyTorch load into chainrule.

``torch.save`` writes a zip archive: ``<name>/data.pkl``, a pickle of the object in which every
tensor is a call ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`` and every
storage a reference ``("storage", torch.FloatStorage, key, location, numel)`` to the raw bytes in
``<name>/data/<key>``; ``<name>/byteorder`` says their byte order.

The pickle is read as ``torch.load(weights_only=True)`` reads it: by an unpickler that knows a short
list of names (the tensor and parameter rebuilders, the storage types, ``OrderedDict``, ``Size``,
``device``, dtypes, sets) and refuses every other, so that reading it runs no code the file names.
A state dict, an optimizer's state, a checkpoint dict of them with numbers and strings: all load as
chainrule tensors and plain data. With ``weights_only=False``, other names are imported as Python
would, except PyTorch's own classes (a whole pickled ``nn.Module``), which need PyTorch: the message
says to save ``model.state_dict()`` instead.

Every size is checked before anything is allocated: an entry is read only when it is stored
uncompressed, its bytes fit in the file, and a tensor reads only elements its storage has.
"""
import codecs
import collections
import io
import pickle

import numpy

from chainrule import dtypes
from chainrule.device import device
from chainrule.nn.parameter import Parameter
from chainrule.serialization.structure import Malformed
from chainrule.serialization.zip_archive import check_entry, open_archive
from chainrule.tensor import Size, tensor_from_array

_STORAGE_DTYPES = {
    "FloatStorage": numpy.float32, "DoubleStorage": numpy.float64, "HalfStorage": numpy.float16,
    "LongStorage": numpy.int64, "IntStorage": numpy.int32, "ShortStorage": numpy.int16,
    "CharStorage": numpy.int8, "ByteStorage": numpy.uint8, "BoolStorage": numpy.bool_,
    "UntypedStorage": numpy.uint8,
    "BFloat16Storage": numpy.uint16,  # NumPy has no bfloat16: its bits are read, and widened to float32
}
_DTYPES = {"float32": dtypes.float32, "float64": dtypes.float64, "float16": dtypes.float16, "int64": dtypes.int64,
           "int32": dtypes.int32, "int16": dtypes.int16, "int8": dtypes.int8, "uint8": dtypes.uint8, "bool": dtypes.bool_}


def is_pytorch_file(data):
    """Whether ``data`` (a zip archive's bytes) is a ``torch.save`` file: it holds ``<name>/data.pkl``."""
    try:
        with open_archive(data) as archive:
            return any(name.endswith("data.pkl") for name in archive.namelist())
    except Malformed:  # a damaged zip: the reader of old checkpoints says what is wrong
        return False


def read(data, weights_only, name):
    """The object a ``torch.save`` file ``data`` (bytes) holds, its tensors chainrule tensors."""
    with open_archive(data) as archive:
        entries = {info.filename: info for info in archive.infolist()}
        pickle_entry = next(entry for entry in entries if entry.endswith("data.pkl"))
        prefix = pickle_entry[: -len("data.pkl")]
        byteorder = entries.get(prefix + "byteorder")
        big_endian = byteorder is not None and _read_entry(archive, byteorder, len(data)).strip() == b"big"
        storages = _Storages(archive, entries, prefix, len(data), big_endian)
        unpickler = _TorchUnpickler(io.BytesIO(_read_entry(archive, entries[pickle_entry], len(data))), storages, weights_only, name)
        return unpickler.load()


def _read_entry(archive, info, file_bytes):
    check_entry(info, file_bytes)
    return archive.read(info)


class _Storages:
    """The storages of the archive by key, each read once, when a tensor first refers to it."""

    def __init__(self, archive, entries, prefix, file_bytes, big_endian):
        self.archive, self.entries, self.prefix, self.file_bytes, self.big_endian = archive, entries, prefix, file_bytes, big_endian
        self.read = {}

    def get(self, key, dtype, numel, bfloat16=False):
        if key not in self.read:
            info = self.entries.get(f"{self.prefix}data/{key}")
            if info is None:
                raise Malformed(f"it refers to a storage {key!r} that the archive does not hold")
            raw = _read_entry(self.archive, info, self.file_bytes)
            itemsize = numpy.dtype(dtype).itemsize
            if not isinstance(numel, int) or numel < 0 or len(raw) < numel * itemsize:
                raise Malformed(f"storage {key!r} has {len(raw)} bytes, fewer than its {numel} elements of {numpy.dtype(dtype)} need")
            array = numpy.frombuffer(raw, dtype=numpy.dtype(dtype).newbyteorder(">" if self.big_endian else "<"), count=numel)
            self.read[key] = array.astype(dtype)  # native byte order, and a writable copy
            if bfloat16:  # the upper half of a float32's bits: widening is exact
                self.read[key] = (self.read[key].astype(numpy.uint32) << 16).view(numpy.float32)
        return self.read[key]


class _StorageType:
    """What a ``torch.FloatStorage``... global stands for in the pickle: its element dtype."""

    def __init__(self, name):
        self.name, self.dtype = name, _STORAGE_DTYPES[name]


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    """``torch._utils._rebuild_tensor_v2``: the elements of ``storage`` at ``offset + Σ i_d stride_d``."""
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride) or any(side < 0 for side in size) or any(step < 0 for step in stride):
        raise Malformed(f"a tensor has size {list(size)} and stride {list(stride)}, which do not describe one")
    last = storage_offset + sum((side - 1) * step for side, step in zip(size, stride))
    if 0 not in size and (storage_offset < 0 or last >= storage.size):
        raise Malformed(f"a tensor of size {list(size)} reads past its storage of {storage.size} elements")
    if 0 in size:
        array = numpy.empty(size, storage.dtype)
    else:
        steps = tuple(step * storage.itemsize for step in stride)
        window = numpy.lib.stride_tricks.as_strided(storage[storage_offset:], size, steps, writeable=False)
        # More elements than the storage holds (an expanded tensor) repeat some: kept as that
        # read-only view, as PyTorch keeps it, rather than copied (a file can't make us allocate more)
        array = window if window.size > storage.size else numpy.array(window)
    tensor = tensor_from_array(array)
    tensor.requires_grad = bool(requires_grad) and tensor.array.dtype.kind == "f"
    return tensor


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    """``torch._utils._rebuild_parameter``: an ``nn.Parameter`` of the rebuilt tensor."""
    return Parameter(data, requires_grad=requires_grad)


def _bytes_from_text(text, encoding="latin1"):
    """``_codecs.encode``, as protocol-2 pickles write ``bytes``: only that use."""
    if not isinstance(text, str) or encoding != "latin1":
        raise pickle.UnpicklingError("_codecs.encode is allowed only to rebuild bytes from latin-1 text")
    return codecs.encode(text, encoding)


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch", "Size"): Size,
    ("torch", "device"): device,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "bytearray"): bytearray,
    ("_codecs", "encode"): _bytes_from_text,
    **{("torch", storage): _StorageType(storage) for storage in _STORAGE_DTYPES if storage != "UntypedStorage"},  # bfloat16 read as float32
    ("torch.storage", "UntypedStorage"): _StorageType("UntypedStorage"),
    **{("torch", name): dtype for name, dtype in _DTYPES.items()},
}


class _TorchUnpickler(pickle.Unpickler):
    def __init__(self, file, storages, weights_only, name):
        super().__init__(file)
        self.storages, self.weights_only, self.name = storages, weights_only, name

    def find_class(self, module, name):
        if module == "__builtin__":  # protocol 2 names Python 3's builtins by their Python 2 module
            module = "builtins"
        allowed = _ALLOWED.get((module, name))
        if allowed is not None:
            return allowed
        if module == "torch" or module.startswith("torch."):
            raise pickle.UnpicklingError(
                f"{self.name} holds a PyTorch object of class {module}.{name} (a whole pickled model or "
                f"optimizer?), which only PyTorch can rebuild. chainrule.load reads the tensors and plain data "
                f"of PyTorch files: in PyTorch, torch.save(model.state_dict(), path), then here "
                f"model.load_state_dict(chainrule.load(path))."
            )
        if self.weights_only:
            raise pickle.UnpicklingError(
                f"Weights only load failed: {self.name} is a PyTorch file whose pickle imports {module}.{name}. "
                f"chainrule.load(f, weights_only=True), the default, loads tensors and plain data only. If you "
                f"trust its source, call chainrule.load(f, weights_only=False). Unpickling can run arbitrary code, "
                f"so never do that with a file from a source you do not trust."
            )
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"the pickle refers to {pid!r}, which is not a storage of a torch.save file")
        _, storage_type, key, _location, numel = pid
        return self.storages.get(str(key), storage_type.dtype, numel, bfloat16=storage_type.name == "BFloat16Storage")
