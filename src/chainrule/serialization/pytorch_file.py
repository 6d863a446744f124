"""Reading the files PyTorch's ``torch.save`` writes: weights trained in PyTorch load into chainrule.

``torch.save`` writes a zip archive (since PyTorch 1.6): ``<name>/data.pkl``, a pickle of the object
in which every tensor is a call ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``
and every storage a reference ``("storage", torch.FloatStorage, key, location, numel)`` to the raw
bytes in ``<name>/data/<key>``; ``<name>/byteorder`` says their byte order. Before 1.6 (and with
``_use_new_zipfile_serialization=False``) it wrote one stream instead: three small pickles (a magic
number, the format version, the machine's sizes), the object's pickle, the list of storage keys, then
each storage's bytes after its element count.

The pickle is read as ``torch.load(weights_only=True)`` reads it: by an unpickler that knows a short
list of names (the tensor and parameter rebuilders, the storage types, ``OrderedDict``, ``Counter``,
``Size``, ``device``, dtypes, sets, bytes, bytearrays, complex numbers) and those the user allowed with
``add_safe_globals`` (``chainrule.serialization.allowlist``), and refuses every other with PyTorch's error, so that reading it runs no code the file names.
A state dict, an optimizer's state, a checkpoint dict of them with numbers and strings: all load as
chainrule tensors and plain data, tensors of one storage sharing its memory as in PyTorch. With
``weights_only=False``, other names are imported as Python would, except PyTorch's own classes (a
whole pickled ``nn.Module``), which need PyTorch: the message says to save ``model.state_dict()``;
``pickle_module`` and the unpickler's arguments (``encoding``...) are then used as ``torch.load`` uses
them. ``encoding`` decodes the strings of a file Python 2 wrote (``"latin1"``, or ``"bytes"`` to keep
them bytes), with ``weights_only`` as without.

Every size is checked before anything is allocated: a zip entry is read only when it is stored
uncompressed and its bytes fit in the file, a storage is no larger than the file, and a tensor reads
only elements its storage has.
"""
import codecs
import collections
import importlib
import io
import pickle
import re

import numpy

from chainrule import nn
from chainrule.device import device
from chainrule.nn.parameter import Parameter
from chainrule.serialization.allowlist import allowed_by_user, blocked, unsupported_global
from chainrule.serialization.pickled import imported_names, python3_name
from chainrule.serialization.structure import DTYPES_BY_NAME, Malformed
from chainrule.serialization.zip_archive import ZIP_SIGNATURE, check_entry, open_archive
from chainrule.tensor import Size, Tensor, tensor_from_array

_STORAGE_DTYPES = {
    "FloatStorage": numpy.float32, "DoubleStorage": numpy.float64, "HalfStorage": numpy.float16,
    "LongStorage": numpy.int64, "IntStorage": numpy.int32, "ShortStorage": numpy.int16,
    "CharStorage": numpy.int8, "ByteStorage": numpy.uint8, "BoolStorage": numpy.bool_,
    "UntypedStorage": numpy.uint8,
    "BFloat16Storage": numpy.uint16,  # NumPy has no bfloat16: its bits are read, and widened to float32
    "ComplexFloatStorage": numpy.complex64, "ComplexDoubleStorage": numpy.complex128,
}


#: How a file of the format before the zip archive begins: the pickle of its magic number.
LEGACY_START = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)


def is_pytorch_file(data):
    """Whether ``data`` (a file's bytes) is one ``torch.save`` wrote: a zip archive holding
    ``<name>/data.pkl``, or the stream of the format before it."""
    if data.startswith(LEGACY_START):
        return True
    if not data.startswith(ZIP_SIGNATURE):
        return False
    try:
        with open_archive(data) as archive:
            return any(name.endswith("data.pkl") for name in archive.namelist())
    except Malformed:  # not a zip at all, or a damaged one: the other readers say what is wrong
        return False


def unsafe_globals(data):
    """The globals (``module.name``) the pickle of a ``torch.save`` archive ``data`` imports that
    ``torch.load(weights_only=True)`` refuses by default and the user did not allow, read without
    unpickling; ValueError, as PyTorch's, for the stream format before the archive."""
    if data.startswith(LEGACY_START):
        raise ValueError("Expected input to be a checkpoint returned by torch.save")
    with open_archive(data) as archive:
        entries = {info.filename: info for info in archive.infolist()}
        pickle_entry = next(entry for entry in entries if entry.endswith("data.pkl"))
        names = imported_names(_read_entry(archive, entries[pickle_entry], len(data)), limit=None)
    trusted = allowed_by_user()
    return [name for name in names if not _PYTORCH_DEFAULT_GLOBAL.fullmatch(name) and name not in trusted]


class Refused(pickle.UnpicklingError):
    """A name the pickle imports that ``weights_only`` (or chainrule) does not load, as PyTorch's error."""


def read(data, weights_only, name, restore=None, pickle_module=pickle, pickle_load_args=None):
    """The object a ``torch.save`` file ``data`` (bytes) holds, its tensors chainrule tensors.

    ``restore(array, location)`` places each storage (``load``'s ``map_location``); with
    ``weights_only=False`` the pickle is read by ``pickle_module``'s Unpickler, given
    ``pickle_load_args``; with ``weights_only=True`` by the standard one, given only ``encoding``.
    """
    reading = _Reading(weights_only, name, restore or (lambda array, location: array), pickle_module, pickle_load_args or {})
    try:
        return reading.read(data)
    except Refused:
        raise
    except UnicodeDecodeError as error:
        raise Malformed(
            f"it holds a string, written by Python 2, that is not {reading.encoding} ({error}); pass "
            f"encoding='latin1' to load it (or encoding='bytes' to keep such strings as bytes)"
        ) from error
    except (pickle.UnpicklingError, EOFError) as error:  # the pickle itself is damaged or cut short
        raise Malformed(f"its pickle is damaged ({type(error).__name__}: {error})") from error


class _Reading:
    """One ``read``: how its pickles are unpickled."""

    def __init__(self, weights_only, name, restore, pickle_module, pickle_load_args):
        self.weights_only, self.name, self.restore = weights_only, name, restore
        self.encoding = pickle_load_args.get("encoding", "utf-8")
        self.pickle_load_args = {"encoding": self.encoding} if weights_only else {**pickle_load_args, "encoding": self.encoding}
        self.unpickler_class = _TorchUnpickler if weights_only else _unpickler_of(pickle_module)

    def unpickler(self, file, storage_of):
        return self.unpickler_class(file, storage_of, self.weights_only, self.name, **self.pickle_load_args)

    def read(self, data):
        if data.startswith(LEGACY_START):
            return self.read_stream(data)
        with open_archive(data) as archive:
            entries = {info.filename: info for info in archive.infolist()}
            pickle_entry = next(entry for entry in entries if entry.endswith("data.pkl"))
            prefix = pickle_entry[: -len("data.pkl")]
            byteorder = entries.get(prefix + "byteorder")
            big_endian = byteorder is not None and _read_entry(archive, byteorder, len(data)).strip() == b"big"
            storages = _Storages(archive, entries, prefix, len(data), big_endian, self.restore)
            return self.unpickler(io.BytesIO(_read_entry(archive, entries[pickle_entry], len(data))), storages.get).load()

    def read_stream(self, data):
        """The format before the zip archive: its storages are filled after the object is unpickled
        (their bytes come after it), so its tensors are views of storages made empty first."""
        stream = io.BytesIO(data)
        _, version, machine = (_PlainUnpickler(stream, encoding=self.encoding).load() for _ in range(3))
        if version != 1001 or not isinstance(machine, dict):
            raise Malformed(f"it is a torch.save stream of format {version!r}, which chainrule does not read")
        little_endian = {_text(key): value for key, value in machine.items()}.get("little_endian", True)
        storages = _StreamStorages(len(data), not little_endian, self.restore)
        result = self.unpickler(stream, storages.get).load()
        keys = _PlainUnpickler(stream, encoding=self.encoding).load()
        if not isinstance(keys, list):
            raise Malformed("its list of storages is missing")
        for key in keys:
            storages.fill(stream, _text(key))
        return result


def _text(value):
    """A key or location as text: a file Python 2 wrote, read with ``encoding='bytes'``, has bytes."""
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)


def _read_entry(archive, info, file_bytes):
    check_entry(info, file_bytes)
    return archive.read(info)


class _Storages:
    """The storages of a zip archive by key, each read once, when a tensor first refers to it."""

    def __init__(self, archive, entries, prefix, file_bytes, big_endian, restore):
        self.archive, self.entries, self.prefix, self.file_bytes, self.big_endian = archive, entries, prefix, file_bytes, big_endian
        self.restore = restore
        self.read = {}

    def get(self, pid):
        """The storage of the reference ``("storage", type, key, location, numel)``."""
        if len(pid) != 5:
            raise pickle.UnpicklingError(f"the pickle refers to {pid!r}, which is not a storage of a torch.save archive")
        _, storage_type, key, location, numel = pid
        key = _text(key)
        if key not in self.read:
            info = self.entries.get(f"{self.prefix}data/{key}")
            if info is None:
                raise Malformed(f"it refers to a storage {key!r} that the archive does not hold")
            raw = _read_entry(self.archive, info, self.file_bytes)
            _check_numel(numel, storage_type, len(raw), key)
            self.read[key] = self.restore(storage_type.from_bytes(raw, numel, self.big_endian), _text(location))
        return self.read[key]


class _StreamStorages:
    """The storages of the format before the zip archive: made empty when the pickle refers to them,
    filled from the bytes after it."""

    def __init__(self, file_bytes, big_endian, restore):
        self.file_bytes, self.big_endian, self.restore = file_bytes, big_endian, restore
        self.made = {}

    def get(self, pid):
        """The storage (or the part of it) of ``("storage", type, root key, location, numel, view)``."""
        if len(pid) != 6:
            raise pickle.UnpicklingError(f"the pickle refers to {pid!r}, which is not a storage of a torch.save stream")
        _, storage_type, key, location, numel, view = pid
        key = _text(key)
        if storage_type.name == "BFloat16Storage":
            raise Malformed("it holds bfloat16 storages in the format before the zip archive; re-save it with a current PyTorch")
        if key not in self.made:
            _check_numel(numel, storage_type, self.file_bytes, key)
            self.made[key] = self.restore(numpy.zeros(numel, storage_type.dtype), _text(location))
        storage = self.made[key]
        if view is not None:  # (view key, offset, size): a part of the root storage
            _, offset, size = view
            if not 0 <= offset <= offset + size <= storage.size:
                raise Malformed(f"a view of storage {key!r} reaches past its {storage.size} elements")
            storage = storage[offset : offset + size]
        return storage

    def fill(self, stream, key):
        """Read storage ``key``'s bytes from ``stream``: its element count (int64), then the elements."""
        storage = self.made.get(key)
        counted = stream.read(8)
        if storage is None or len(counted) < 8:
            raise Malformed(f"storage {key!r} is missing or cut short")
        numel = int.from_bytes(counted, "big" if self.big_endian else "little", signed=True)
        raw = stream.read(storage.nbytes)
        if numel != storage.size or len(raw) != storage.nbytes:
            raise Malformed(f"storage {key!r} holds {len(raw)} bytes for {numel} elements, where {storage.size} were announced")
        storage[...] = numpy.frombuffer(raw, storage.dtype.newbyteorder(">" if self.big_endian else "<"))


def _check_numel(numel, storage_type, available, key):
    """Malformed unless ``numel`` elements of ``storage_type`` fit in ``available`` bytes."""
    if not isinstance(numel, int) or numel < 0 or numel * numpy.dtype(storage_type.dtype).itemsize > available:
        raise Malformed(f"storage {key!r} announces {numel!r} elements of {numpy.dtype(storage_type.dtype)}, more than {available} bytes hold")


class _StorageType:
    """What a ``torch.FloatStorage``... global stands for in the pickle: its element dtype."""

    def __init__(self, name):
        self.name, self.dtype = name, _STORAGE_DTYPES[name]

    def from_bytes(self, raw, numel, big_endian):
        """A new array of the first ``numel`` elements of ``raw``, in native byte order."""
        array = numpy.frombuffer(raw, dtype=numpy.dtype(self.dtype).newbyteorder(">" if big_endian else "<"), count=numel)
        array = array.astype(self.dtype)  # native byte order, and a writable copy
        if self.name == "BFloat16Storage":  # the upper half of a float32's bits: widening is exact
            array = (array.astype(numpy.uint32) << 16).view(numpy.float32)
        return array


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
    else:  # a view of the storage, as PyTorch's tensor is; read-only where elements repeat (an expand)
        repeats = any(step == 0 and side > 1 for side, step in zip(size, stride))
        steps = tuple(step * storage.itemsize for step in stride)
        array = numpy.lib.stride_tricks.as_strided(storage[storage_offset:], size, steps, writeable=not repeats)
    tensor = tensor_from_array(array)
    tensor._chosen_strides = 0 not in size  # the file's strides are its own: a transposed one is no contiguous tensor
    tensor.requires_grad = bool(requires_grad) and tensor._array.dtype.kind == "f"
    return tensor


def _rebuild_from_bytes(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    """``torch._utils._rebuild_tensor_v3``, how PyTorch writes the dtypes it keeps in a storage of
    bytes (uint16, uint32, uint64): the bytes read as elements of ``dtype``, then as ``_rebuild_tensor``."""
    try:
        element = numpy.dtype(dtype.dtype)
    except (AttributeError, TypeError) as error:  # complex32: no NumPy type holds it
        raise Refused(f"a tensor of dtype {dtype!r} cannot be loaded: {error}") from None
    whole = storage.size - storage.size % element.itemsize
    return _rebuild_tensor(storage[:whole].view(element), storage_offset, size, stride, requires_grad, backward_hooks, metadata)


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    """``torch._utils._rebuild_parameter`` (``_with_state``: with the Python attributes set on it,
    ``p.shared = True``): an ``nn.Parameter`` of the rebuilt tensor."""
    return _with_attributes(Parameter(data, requires_grad=requires_grad), state)


def rebuild_with_type(rebuild, kind, args, state):
    """``torch._tensor._rebuild_from_type_v2``, how PyTorch writes a tensor with Python attributes
    (``t.note = 7``, a buffer's ``persistent`` mark) or of a subclass: rebuilt by ``rebuild``, made a
    ``kind`` (a subclass the caller allowed), then given the attributes of ``state``."""
    if not (isinstance(kind, type) and issubclass(kind, Tensor)):
        raise Malformed(f"a tensor is rebuilt as {kind!r}, which is no tensor class")
    tensor = rebuild(*args)
    if type(tensor) is not kind:
        tensor = tensor.as_subclass(kind)
    if getattr(kind, "__setstate__", None) is not None:  # a subclass's own way of taking its state
        tensor.__setstate__(state)
        return tensor
    return _with_attributes(tensor, state)


def _with_attributes(tensor, state):
    """``tensor`` with the attributes of a pickled ``state``: a dict, or PyTorch's pair of the
    ``__dict__``'s and the slots' dicts (either may be None)."""
    if isinstance(state, tuple):
        if len(state) != 2:
            raise Malformed(f"a tensor's pickled state is a tuple of {len(state)} items, not PyTorch's 2")
        attributes, slots = state
    else:
        attributes, slots = state, None
    for part in (attributes, slots):
        for key, value in (part or {}).items():
            setattr(tensor, key, value)
    return tensor


def bytes_from_text(text, encoding="latin1"):
    """``_codecs.encode``, as protocol-2 pickles write ``bytes``: only that use."""
    if not isinstance(text, str) or encoding != "latin1":
        raise pickle.UnpicklingError("_codecs.encode is allowed only to rebuild bytes from latin-1 text")
    return codecs.encode(text, encoding)


#: PyTorch's internal names of layers chainrule has under their public name.
_LAYER_ALIASES = {"NonDynamicallyQuantizableLinear": "Linear"}
# Where PyTorch's pickles name what chainrule keeps elsewhere: the class of the torch namespace's C
# functions (``torch.tanh`` pickles as that class's attribute ``tanh``), their module, and the C half
# of torch.nn.functional.
_NAMESPACES = {
    "torch._C._VariableFunctionsClass": "chainrule", "torch._C._VariableFunctions": "chainrule",
    "torch._C._nn": "chainrule.nn.functional",  # a layer's activation (TransformerEncoderLayer keeps F.relu)
}


def _chainrule_counterpart(module, name):
    """chainrule's class or function at the place of PyTorch's ``module.name`` (``torch.optim.adam.Adam``
    is ``chainrule.optim.adam.Adam``, ``torch.nn.init.orthogonal_`` ``chainrule.nn.init.orthogonal_``),
    or None where chainrule has no such module or name. Only for ``weights_only=False``: the file is
    trusted, and what it names is chainrule's own code."""
    if f"{module}.{name}" in _NAMESPACES:
        return importlib.import_module(_NAMESPACES[f"{module}.{name}"])
    try:
        found = importlib.import_module(_NAMESPACES.get(module, "chainrule" + module[len("torch"):]))
    except ImportError:
        return None
    for part in name.split("."):
        found = getattr(found, part, None)
    return found if isinstance(found, type) or callable(found) else None

_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("collections", "Counter"): collections.Counter,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_from_bytes,
    ("torch._tensor", "_rebuild_from_type_v2"): rebuild_with_type,
    ("torch", "Tensor"): Tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch", "Size"): Size,
    ("torch", "device"): device,
    ("builtins", "set"): set,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "complex"): complex,
    ("_codecs", "encode"): bytes_from_text,
    **{("torch", storage): _StorageType(storage) for storage in _STORAGE_DTYPES if storage != "UntypedStorage"},  # bfloat16 read as float32
    ("torch.storage", "UntypedStorage"): _StorageType("UntypedStorage"),
    **{("torch", name): dtype for name, dtype in DTYPES_BY_NAME.items()},
}

#: The names ``torch.load(weights_only=True)`` imports by default: its tensor, storage and dtype
#: names, its tensor rebuilders, and the few Python classes ``_ALLOWED`` also lists.
_PYTORCH_DEFAULT_GLOBAL = re.compile(
    r"_codecs\.encode|builtins\.(bytearray|complex|set)|collections\.(Counter|OrderedDict)"
    r"|torch\.((cuda\.)?(sparse\.)?\w+(Storage|Tensor)|storage\.(Typed|Untyped)Storage|_utils\._rebuild_\w+"
    r"|_tensor\._rebuild_from_type_v2|nn\.parameter\.Parameter|Size|Tensor|device|serialization\._get_layout"
    r"|per_(tensor|channel)_\w+|(u?int|float|bfloat|complex|q?u?int|bits)\w*|bool|half|double|long|short|cfloat|cdouble|chalf)"
)

# The dtypes PyTorch has and chainrule doesn't (complex64, uint16, float8_e4m3fn, qint8...).
_OTHER_TORCH_DTYPE = re.compile(r"(complex|c?float|u?int|q?u?int|bits)\d.*|cfloat|cdouble|chalf")


class _Restricting:
    """The part of the unpickler that decides what a name in the pickle stands for (``find_class``)
    and what a storage reference reads (``persistent_load``); mixed into ``pickle_module.Unpickler``."""

    def __init__(self, file, storage_of, weights_only, name, **pickle_load_args):
        super().__init__(file, **pickle_load_args)
        self.storage_of, self.weights_only, self.name = storage_of, weights_only, name

    def find_class(self, module, name):
        module, name = python3_name(module, name).rsplit(".", 1) if "." not in name else (module, name)
        allowed = _ALLOWED.get((module, name))
        if allowed is not None:
            return allowed
        if module == "torch" and _OTHER_TORCH_DTYPE.fullmatch(name):
            raise Refused(
                f"{self.name} holds the PyTorch dtype torch.{name}, which chainrule does not have (it has "
                f"{', '.join(DTYPES_BY_NAME)}). Convert it in PyTorch before saving, e.g. to float32."
            )
        trusted = allowed_by_user().get(f"{module}.{name}")
        if trusted is not None and not (self.weights_only and blocked(f"{module}.{name}")):
            return trusted
        if self.weights_only:
            raise Refused(
                f"Weights only load failed. {self.name} is a PyTorch file whose pickle imports {module}.{name}. "
                f"chainrule.load(f, weights_only=True), the default, loads tensors and plain data only. If you "
                f"trust its source, call chainrule.load(f, weights_only=False). Unpickling can run arbitrary code, "
                f"so never do that with a file from a source you do not trust."
                f"\n\tWeightsUnpickler error: {blocked(f'{module}.{name}') or unsupported_global(f'{module}.{name}')}"
            )
        if module.startswith("torch.nn.modules."):  # a layer of a whole pickled model: chainrule's, with the same attributes
            layer = getattr(nn, _LAYER_ALIASES.get(name, name), None)
            if isinstance(layer, type):
                return layer
        counterpart = _chainrule_counterpart(module, name) if module.startswith("torch.") else None
        if counterpart is not None:  # a class or function named by reference (SB3's policy.save: th.optim.Adam)
            return counterpart
        if module == "torch" or module.startswith("torch."):
            raise Refused(
                f"{self.name} holds a PyTorch object of class {module}.{name}, which chainrule cannot rebuild. "
                f"chainrule.load reads the tensors and plain data of PyTorch files, and whole models made of "
                f"torch.nn layers: in PyTorch, torch.save(model.state_dict(), path), then here "
                f"model.load_state_dict(chainrule.load(path))."
            )
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and len(pid) == 4 and _text(pid[0]) == "module" and isinstance(pid[1], type):
            return pid[1]  # the stream format names a pickled module's class with its source, to compare
        if not (isinstance(pid, tuple) and len(pid) > 1 and _text(pid[0]) == "storage" and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"the pickle refers to {repr(pid)[:200]}, which is not a storage of a torch.save file")
        return self.storage_of(pid)


class _TorchUnpickler(_Restricting, pickle.Unpickler):
    """The unpickler of ``weights_only=True`` (and of ``weights_only=False`` with the standard ``pickle``)."""


def _unpickler_of(pickle_module):
    """The unpickler of ``weights_only=False``: ``pickle_module``'s, restricted in the same way for
    PyTorch's own names."""
    if pickle_module is pickle:
        return _TorchUnpickler
    return type("TorchUnpickler", (_Restricting, pickle_module.Unpickler), {})


class _PlainUnpickler(pickle.Unpickler):
    """The small pickles around a stream's object (its magic number, version, sizes, storage keys):
    numbers, strings, lists and dicts only."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"a torch.save stream's header names {module}.{name}; it holds plain values only")
