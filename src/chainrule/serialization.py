"""Checkpoints: ``save`` and ``load`` state dicts without pickle, so loading never runs code.

A checkpoint is a NumPy ``.npz`` archive (a zip of ``.npy`` files):

- one ``.npy`` entry per tensor or array (``t0``, ``t1``...), written without pickle,
- one entry ``__chainrule__`` holding, as UTF-8 JSON, the format's name and version and the
  structure of the saved object: dicts (with their keys' types, so int keys come back as ints),
  lists and tuples, numbers, strings, booleans and None, and references to the array entries.

``load`` reads the JSON with ``json`` and the arrays with ``numpy.load(..., allow_pickle=False)``:
neither can execute code, unlike ``torch.load`` of a pickle. A file that is not such an archive is
refused with a ValueError that says what is wrong.

``save`` is atomic: it writes a temporary file next to the target, flushes it to disk and then
renames it over the target, so a crash mid-save leaves the previous checkpoint intact.

NumPy is used directly here for its file format, not for array math: arrays go to host memory
with ``to_numpy`` before writing and come back through ``as_array``.
"""
import json
import os
import uuid
import zipfile

import numpy

from chainrule.backend import as_array, to_numpy
from chainrule.tensor import Tensor, tensor_from_array

FORMAT_NAME = "chainrule.checkpoint"
FORMAT_VERSION = 1
HEADER_ENTRY = "__chainrule__"
_ZIP_SIGNATURE = b"PK\x03\x04"
_SCALARS = (bool, int, float, str, type(None))


def save(obj, f):
    """Write ``obj`` (a state dict, or nested dicts/lists/tuples of tensors, arrays and numbers) to ``f``.

    ``f`` is a path (str or ``os.PathLike``), written atomically, or a binary file object opened for
    writing. A tensor referenced twice is stored once and comes back as one tensor.
    """
    arrays = {}
    structure = _Encoder(arrays).encode(obj, "obj")
    header = json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION, "object": structure})
    if hasattr(f, "write"):
        _write_archive(f, header, arrays)
        return
    path = os.path.abspath(os.fspath(f))
    directory = os.path.dirname(path)
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    # Created like open() would (permissions from the umask), and only if the name is new.
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(handle, "wb") as file:
            _write_archive(file, header, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _sync_directory(directory)


def load(f, map_location=None, weights_only=True):
    """Read what ``save`` wrote; tensors come back as chainrule tensors, on the CPU.

    ``f`` is a path or a binary file object. ``map_location`` and ``weights_only`` are accepted for
    PyTorch compatibility and change nothing: chainrule has one device, and its checkpoints hold
    data only (loading is always "weights only"). A file that is not a chainrule checkpoint (a
    PyTorch ``.pt`` file, a truncated or corrupt one, an ``.npz`` written by other code) raises a
    ValueError.
    """
    name = os.fspath(f) if not hasattr(f, "read") else getattr(f, "name", "the file object")
    if hasattr(f, "read"):
        start = f.tell()
        signature = f.read(len(_ZIP_SIGNATURE))
        f.seek(start)
    else:
        with open(name, "rb") as file:
            signature = file.read(len(_ZIP_SIGNATURE))
    if signature != _ZIP_SIGNATURE:
        raise ValueError(_refusal(name, _describe_signature(signature)))
    try:
        with numpy.load(f, allow_pickle=False) as archive:
            if HEADER_ENTRY not in archive.files:
                raise ValueError(_refusal(name, _describe_foreign_archive(archive.files)))
            header = _read_header(archive[HEADER_ENTRY], name)
            return _Decoder(archive, name).decode(header["object"])
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as error:
        raise ValueError(_refusal(name, f"it is truncated or corrupt ({type(error).__name__}: {error})")) from error
    except (ValueError, TypeError) as error:
        if str(error).startswith(_REFUSAL_START):
            raise
        raise ValueError(_refusal(name, f"an entry could not be read safely ({type(error).__name__}: {error})")) from error


# ----------------------------------------------------------------- writing
class _Encoder:
    """Turns an object into JSON-ready structure, collecting its arrays in ``arrays``.

    Every container and reference is a one-key dict naming its kind: ``{"dict": [[key, value], ...]}``,
    ``{"list": [...]}``, ``{"tuple": [...]}``, ``{"tensor": entry, "requires_grad": bool}``,
    ``{"ndarray": entry}``, ``{"numpy_scalar": entry}``; numbers, strings, booleans and None are
    themselves.
    """

    def __init__(self, arrays):
        self.arrays = arrays
        self.entry_of = {}  # id(tensor or array) -> entry name, so shared tensors are stored once

    def encode(self, value, where):
        if isinstance(value, Tensor):
            return {"tensor": self.store(value, value.array, where), "requires_grad": value.requires_grad}
        if isinstance(value, numpy.ndarray):
            return {"ndarray": self.store(value, value, where)}
        if isinstance(value, numpy.generic):
            return {"numpy_scalar": self.store(value, numpy.asarray(value), where)}
        if isinstance(value, _SCALARS):
            return value
        if isinstance(value, dict):
            for key in value:
                if type(key) not in (str, int):
                    raise TypeError(
                        f"chainrule.save: {where} has a key {key!r} of type {type(key).__name__}; keys "
                        f"must be str or int"
                    )
            return {"dict": [[key, self.encode(item, f"{where}[{key!r}]")] for key, item in value.items()]}
        if isinstance(value, (list, tuple)):
            kind = "tuple" if isinstance(value, tuple) else "list"
            return {kind: [self.encode(item, f"{where}[{index}]") for index, item in enumerate(value)]}
        raise TypeError(
            f"chainrule.save: {where} is a {type(value).__name__}, which a checkpoint can't hold; it "
            f"holds tensors, NumPy arrays, numbers, strings, booleans, None, and dicts, lists and "
            f"tuples of them (save a module's or optimizer's state_dict(), not the object itself)"
        )

    def store(self, owner, array, where):
        entry = self.entry_of.get(id(owner))
        if entry is None:
            array = to_numpy(array)
            if array.dtype.hasobject:
                raise TypeError(
                    f"chainrule.save: {where} is an array of Python objects, which can only be saved "
                    f"with pickle; convert it to a numeric or string array"
                )
            entry = self.entry_of[id(owner)] = f"t{len(self.entry_of)}"
            self.arrays[entry] = array
        return entry


def _write_archive(file, header, arrays):
    """The ``.npz`` layout that ``numpy.savez`` writes, with pickle turned off for every entry."""
    entries = {HEADER_ENTRY: numpy.frombuffer(header.encode("utf-8"), dtype=numpy.uint8), **arrays}
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for entry, array in entries.items():
            with archive.open(entry + ".npy", mode="w", force_zip64=True) as member:
                numpy.lib.format.write_array(member, numpy.asanyarray(array), allow_pickle=False)


def _sync_directory(directory):
    """Flush the rename itself to disk (POSIX); where directories can't be opened, there is nothing to do."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# ----------------------------------------------------------------- reading
_REFUSAL_START = "chainrule.load: "


def _refusal(name, reason):
    return (
        f"{_REFUSAL_START}{name} is not a chainrule checkpoint: {reason}. The file was not loaded. "
        f"chainrule.load reads files written by chainrule.save (a NumPy .npz archive with a "
        f"'{HEADER_ENTRY}' entry)."
    )


def _describe_signature(signature):
    if not signature:
        return "it is empty"
    if signature[:1] == b"\x80":
        return "it is a Python pickle (e.g. a legacy torch.save file), which chainrule never loads because unpickling can run code"
    if signature.startswith(b"\x93NUM"):
        return "it is a single .npy array, not an .npz archive"
    return f"it does not start with a zip signature (first bytes {signature!r})"


def _describe_foreign_archive(entries):
    if any(entry.endswith("data.pkl") for entry in entries):
        return "it is a PyTorch file written by torch.save (it holds a pickle); load it with torch.load and convert the tensors"
    shown = ", ".join(sorted(entries)[:5]) or "none"
    return f"the archive has no '{HEADER_ENTRY}' header entry (its entries: {shown})"


def _read_header(raw, name):
    """The header's JSON, checked to name our format and a version this code reads."""
    if raw.dtype != numpy.uint8 or raw.ndim != 1:
        raise ValueError(_refusal(name, f"its header entry is {raw.dtype} of shape {raw.shape}, not UTF-8 bytes"))
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are both ValueErrors
        raise ValueError(_refusal(name, f"its header is not valid UTF-8 JSON ({error})")) from error
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME or "object" not in header:
        raise ValueError(_refusal(name, "its header does not name the chainrule checkpoint format"))
    version = header.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            _refusal(name, f"its format version {version!r} is not one this chainrule reads (versions 1 to {FORMAT_VERSION}); a newer chainrule may read it")
        )
    return header


class _Decoder:
    """Rebuilds the saved object from the JSON structure, reading each array entry once."""

    def __init__(self, archive, name):
        self.archive = archive
        self.name = name
        self.loaded = {}  # entry -> tensor or array, so shared references stay shared

    def decode(self, node):
        if isinstance(node, _SCALARS):
            return node
        if not isinstance(node, dict) or len(node) not in (1, 2):
            raise ValueError(_refusal(self.name, f"its header has an unknown node {str(node)[:80]!r}"))
        if "tensor" in node:
            return self.entry(node["tensor"], lambda array: _as_tensor(array, node.get("requires_grad", False)))
        if "ndarray" in node:
            return self.entry(node["ndarray"], lambda array: array)
        if "numpy_scalar" in node:
            return self.entry(node["numpy_scalar"], lambda array: array[()])
        if "dict" in node:
            return {self.key(key): self.decode(value) for key, value in node["dict"]}
        if "list" in node:
            return [self.decode(item) for item in node["list"]]
        if "tuple" in node:
            return tuple(self.decode(item) for item in node["tuple"])
        raise ValueError(_refusal(self.name, f"its header has an unknown node kind {sorted(node)!r}"))

    def key(self, key):
        if type(key) not in (str, int):
            raise ValueError(_refusal(self.name, f"its header has a dict key of type {type(key).__name__}"))
        return key

    def entry(self, entry, build):
        if entry not in self.loaded:
            if not isinstance(entry, str) or entry == HEADER_ENTRY or entry not in self.archive.files:
                raise ValueError(_refusal(self.name, f"its header refers to a missing entry {entry!r}"))
            self.loaded[entry] = build(self.archive[entry])
        return self.loaded[entry]


def _as_tensor(array, requires_grad):
    result = tensor_from_array(as_array(array))
    if requires_grad:
        result.requires_grad = True
    return result
