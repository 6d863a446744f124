"""Checkpoints: ``save`` and ``load``, in the safetensors format, as ``torch.save`` / ``torch.load``.

A checkpoint is a safetensors file (``chainrule.serialization.safetensors_file``): every numeric or
bool array under a name, and string metadata. A state dict's tensors are stored under their own
keys, so ``safetensors.torch.load_file(path)`` reads a chainrule state dict into PyTorch, and a file
that PyTorch wrote with ``safetensors.torch.save_file`` loads here as ``{name: tensor}``.

The metadata says what the file holds:

- ``format`` ``"chainrule.checkpoint"`` and ``version``: ``"2"``, or ``"3"`` where the structure
  holds one of the node kinds added in 3 (an OrderedDict, a Parameter, a set...), or ``"4"`` where
  tensors saved together share memory (a tensor and its views, stored once as that memory), so
  that an older chainrule reads what it can and says "a newer chainrule may read it" of the rest;
- ``object``: for plain data, the values ``torch.load(weights_only=True)`` loads (state dicts,
  optimizer and scheduler state: dicts, OrderedDicts, lists, tuples, sets, numbers, strings,
  bytes, None, ``Size``, ``device``, dtypes around tensors, Parameters and arrays), its structure
  as JSON (``chainrule.serialization.structure``). Loading it runs no code.
- ``pickle``: for anything else (a whole Module, a custom class, a frozenset), the object pickled
  as PyTorch does, with its arrays stored as entries (``chainrule.serialization.pickled``).
  Unpickling can run code, so ``load`` refuses it unless called with ``weights_only=False``, as
  ``torch.load`` does since PyTorch 2.6, naming the class PyTorch's weights-only unpickler names,
  or unless every class it imports is one the user trusts: ``add_safe_globals([Config])``, or
  ``with safe_globals([Config]):`` (``chainrule.serialization.allowlist``);
  ``get_unsafe_globals_in_checkpoint(f)`` lists what a file would need allowed.

``load`` also reads the files PyTorch's ``torch.save`` writes, as ``torch.load(weights_only=True)``
reads them: tensors and plain data, no code (``chainrule.serialization.pytorch_file``).

``save`` to a path is atomic (``chainrule.serialization.atomic``). ``load`` raises ValueError, naming
the file and what is wrong, for every file it can't read, checking sizes before it allocates. The
``.npz`` checkpoints of chainrule 0.1 are read once more, with a FutureWarning asking to re-save them
(``chainrule.serialization.legacy_npz``).
"""
import base64
import binascii
import json
import os
import pickle
import warnings
import zipfile

from chainrule.autograd.function import not_replayable
from chainrule.caller_warnings import warn_at_caller
from chainrule.serialization import pickled, pytorch_file
from chainrule.serialization.atomic import write_atomically
from chainrule.serialization.legacy_npz import read_legacy
from chainrule.serialization.map_location import MAP_LOCATION, Failed as MapLocationFailed, restorer  # noqa: F401  (torch.serialization's name)
from chainrule.serialization.allowlist import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals, unsupported_global
from chainrule.serialization.safetensors_file import looks_like_safetensors, pack, unpack
from chainrule.serialization.structure import Decoder, Encoder, Malformed, NotPlainData, STORABLE_DTYPES, format_version
from chainrule.serialization.zip_archive import ZIP_SIGNATURE

FORMAT_NAME = "chainrule.checkpoint"
READABLE_VERSIONS = ("2", "3", "4")  # 3 added node kinds (Parameter, OrderedDict, set, Size, device, dtype...), 4 views

# What a damaged file can make the parsers raise; load reports each as a ValueError naming the file.
_READ_ERRORS = (
    Malformed,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    MemoryError,
    RecursionError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    zipfile.BadZipFile,
    binascii.Error,
)


#: The pickle protocol ``save`` uses for an object it pickles, unless given ``pickle_protocol``:
#: PyTorch's (``torch.serialization.DEFAULT_PROTOCOL``), so that a file reads in the oldest Pythons it does.
DEFAULT_PROTOCOL = 2

# pickle.Unpickler's keyword arguments, which load passes on; with weights_only=True, encoding only.
_PICKLE_LOAD_ARGS = ("encoding", "errors", "fix_imports", "buffers")


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Write ``obj`` to ``f`` (a path, written atomically, or a binary file object).

    A state dict, or nested dicts, lists, tuples and sets of tensors, arrays, numbers, strings and
    the other values ``torch.load(weights_only=True)`` loads (see ``structure``), is stored as data;
    any other object is pickled with ``pickle_module`` (``pickle``, or ``dill``...) at
    ``pickle_protocol`` (see the module docstring). A tensor referenced twice is stored once and
    comes back as one tensor. ``_use_new_zipfile_serialization`` and ``_disable_byteorder_record``
    choose between PyTorch's own formats; chainrule writes its one format whatever they say.
    A path whose folder does not exist raises PyTorch's RuntimeError, before anything is written.
    """
    not_replayable("saves a file (chainrule.save)")
    if not isinstance(f, (str, bytes, os.PathLike)) and not hasattr(f, "write"):
        raise AttributeError(
            "expected 'f' to be string, path, or a file-like object with a 'write' attribute (save(obj, f): the "
            "object first, then where it goes)"
        )
    encoder = Encoder()
    try:
        structure = encoder.encode(obj)
        shares_memory = encoder.share_memory()
        arrays = encoder.arrays
        metadata = {"format": FORMAT_NAME, "version": format_version(structure, shares_memory), "object": json.dumps(structure)}
    except NotPlainData as reason:
        content, arrays = pickled.dumps(obj, pickle_protocol, pickle_module)
        metadata = {
            "format": FORMAT_NAME,
            "version": "2",  # the pickled form is as version 2 wrote it
            "pickle": base64.b64encode(content).decode("ascii"),
            "pickled_because": str(reason),
        }
    content = pack(arrays, metadata)
    if hasattr(f, "write"):
        f.write(content)
    else:
        write_atomically(f, content)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Read what ``save`` wrote, a safetensors file of numeric tensors, or a file PyTorch's
    ``torch.save`` wrote (its tensors and plain data); tensors on the CPU.

    ``f`` is a path or a binary file object. With ``weights_only=True`` (the default, and ``None``)
    nothing the file names is imported or run: a file holding a pickled object raises
    ``pickle.UnpicklingError`` naming the first class PyTorch's weights-only unpickler refuses;
    pass ``weights_only=False`` to load it, only for a file from a source you trust. Unlike
    ``torch.load``, giving ``pickle_module`` does not turn ``weights_only`` off: it is used with
    ``weights_only=False`` only, and raises PyTorch's RuntimeError otherwise.

    ``map_location`` is checked and applied as PyTorch does (``chainrule.serialization.map_location``);
    every tensor loads onto the CPU. ``encoding`` (``"utf-8"`` by default; ``"latin1"`` or
    ``"bytes"`` for files Python 2 wrote) decodes the Python 2 strings of PyTorch's files;
    ``pickle_load_args`` go on to the unpickler with ``weights_only=False``. ``mmap=True`` needs a
    path, as in PyTorch, and reads the file as usual. A file that can't be read raises ValueError
    naming it and what is wrong.
    """
    weights_only = weights_only is not False  # None, the default, is True: only False runs a file's code
    if weights_only and pickle_module is not None:
        raise RuntimeError(
            "Can not safely load weights when explicit pickle_module is specified. chainrule.load runs "
            "no code from a file unless called with weights_only=False (torch.load turns weights_only off "
            "when given a pickle_module; chainrule does not): pass weights_only=False as well, only for a "
            "file from a source you trust, or drop pickle_module."
        )
    pickle_module = pickle if pickle_module is None else pickle_module
    _check_pickle_load_args(pickle_load_args, weights_only, pickle_module)
    if pickle_load_args and weights_only:  # (encoding is still read, as PyTorch's weights-only unpickler reads it)
        warn_at_caller("pickle_load_args only works if `weights_only=False`.")
    pickle_load_args.setdefault("encoding", "utf-8")
    if mmap and hasattr(f, "read"):
        raise ValueError("f must be a file path in order to use the mmap argument")
    restore = restorer(map_location)
    not_replayable("loads a file (chainrule.load)")
    name, data = _read_bytes(f)
    try:
        kind, content = _parse(data)
    except _READ_ERRORS as error:
        raise _unreadable(name, error, empty=not data) from error
    if kind == "pytorch":
        if mmap and content.startswith(pytorch_file.LEGACY_START):
            shown = f"{f}, " if isinstance(f, str) else ""
            raise RuntimeError(
                "mmap can only be used with files saved with "
                f"`torch.save({shown}_use_new_zipfile_serialization=True), "
                "please torch.save your checkpoint with this option in order to use mmap."
            )
        try:
            return pytorch_file.read(content, weights_only, name, restore, pickle_module, pickle_load_args)
        except MapLocationFailed as failed:
            raise failed.error from None
        except _READ_ERRORS as error:
            raise _unreadable(name, error, pytorch=True) from error
    structure_or_pickle, arrays = content
    try:
        arrays = {entry: restore(array, "cpu") for entry, array in arrays.items()}
    except MapLocationFailed as failed:
        raise failed.error from None
    if kind == "data":
        try:
            return Decoder(arrays).decode(structure_or_pickle)
        except _READ_ERRORS as error:
            raise _unreadable(name, error) from error
    pickle_bytes, reason = structure_or_pickle
    if weights_only:
        refused = pickled.refused_global(pickle_bytes)
        why = None if refused is None else unsupported_global(refused)
        if why is None:
            try:
                return pickled.loads_weights_only(pickle_bytes, arrays, pickle_load_args["encoding"])
            except pickled.Refused as error:  # a global the scan could not see, or a blocked one
                why = str(error)
            except (pickle.UnpicklingError, EOFError) as error:
                raise ValueError(f"chainrule.load: {name} holds a damaged pickle ({type(error).__name__}: {error}). Nothing was loaded.") from error
        found = ", ".join(pickled.imported_names(pickle_bytes)) or "no classes"
        raise pickle.UnpicklingError(
            f"Weights only load failed. {name} holds a pickled object (saved as a pickle because "
            f"{reason}; unpickling it would import {found}). chainrule.load(f, weights_only=True), "
            f"the default, loads tensors and plain data only. This file can still be loaded: if you "
            f"trust its source, call chainrule.load(f, weights_only=False). Unpickling can run "
            f"arbitrary code, so never do that with a file from a source you do not trust."
            + f"\n\tWeightsUnpickler error: {why}"
        )
    try:
        return pickled.loads(pickle_bytes, arrays, pickle_module, **pickle_load_args)
    except (pickle.UnpicklingError, EOFError) as error:  # the pickle's own errors, not those of the code it runs
        raise ValueError(f"chainrule.load: {name} holds a damaged pickle ({type(error).__name__}: {error}). Nothing was loaded.") from error


def get_unsafe_globals_in_checkpoint(f):
    """The globals (``"module.name"``) the pickle in checkpoint ``f`` would import that
    ``load(weights_only=True)`` refuses: neither allowed by default nor by ``add_safe_globals``.

    The pickle is read, never run (so a class it makes while unpickling is not seen, as in
    PyTorch). A checkpoint of plain data has none. ValueError for a file that is not a checkpoint.
    """
    name, data = _read_bytes(f)
    try:
        kind, content = _parse(data)
        if kind == "pytorch":
            return pytorch_file.unsafe_globals(content)
    except _READ_ERRORS as error:
        raise ValueError(f"Expected input to be a checkpoint returned by torch.save or chainrule.save; {name} is not one") from error
    structure_or_pickle, _ = content
    return [] if kind == "data" else pickled.unsafe_globals(structure_or_pickle[0])


class UnreadableCheckpoint(ValueError, RuntimeError, pickle.UnpicklingError):
    """What ``load`` raises for a file that is no checkpoint it can read: a ValueError (as chainrule
    documents) that code written for PyTorch catches as what PyTorch raises too: its RuntimeError
    for a damaged archive ("failed finding central directory"), its UnpicklingError otherwise."""


class EmptyCheckpoint(ValueError, EOFError):
    """What ``load`` raises for an empty file (or a buffer read from its end): a ValueError that
    code written for PyTorch catches as its EOFError too."""


def _unreadable(name, error, pytorch=False, empty=False):
    """The error ``load`` raises for a file it can't read, naming it and what is wrong."""
    reason = str(error) if isinstance(error, Malformed) else f"it is damaged ({type(error).__name__}: {error})"
    if pytorch:
        return UnreadableCheckpoint(f"chainrule.load: {name} is a PyTorch file chainrule can't read: {reason}. Nothing was loaded.")
    if empty:
        reason += " (a buffer save() wrote into needs seek(0) before load())"
    return (EmptyCheckpoint if empty else UnreadableCheckpoint)(
        f"chainrule.load: {name} is not a checkpoint chainrule can read: {reason}. Nothing was loaded. "
        f"chainrule.load reads files written by chainrule.save or torch.save, and safetensors files of "
        f"numeric and bool tensors ({', '.join(STORABLE_DTYPES)})."
    )


def _check_pickle_load_args(pickle_load_args, weights_only, pickle_module):
    """TypeError for a keyword neither load nor its unpickler takes, before the file is read."""
    accepted = ("encoding",) if weights_only else _PICKLE_LOAD_ARGS if pickle_module is pickle else None
    for key in pickle_load_args:
        if accepted is not None and key not in accepted:
            raise TypeError(
                f"load() got an unexpected keyword argument {key!r}: it takes map_location, pickle_module, "
                f"weights_only, mmap and the arguments of pickle's Unpickler "
                f"({', '.join(accepted)}{' with weights_only=True' if weights_only else ''})"
            )


def _read_bytes(f):
    """``(a name for it, its bytes)`` of the file ``f``: a path or a binary file object."""
    if hasattr(f, "read"):
        return getattr(f, "name", "the file object"), f.read()
    path = os.fspath(f)
    with open(path, "rb") as file:
        return path, file.read()


def _parse(data):
    """``("data", (structure, arrays))``, ``("pickle", ((pickle bytes, why it was pickled), arrays))``,
    or ``("pytorch", bytes)`` for a file ``torch.save`` wrote."""
    if pytorch_file.is_pytorch_file(data):
        return "pytorch", data
    if data.startswith(ZIP_SIGNATURE):
        structure, arrays = read_legacy(data)
        warnings.warn(
            "chainrule.load: this is a .npz checkpoint of chainrule 0.1. It is read this time, but "
            "a later chainrule will refuse it: re-save it now, chainrule.save(chainrule.load(path), "
            "path), to convert it to the safetensors format.",
            FutureWarning,
            stacklevel=3,
        )
        return "data", (structure, arrays)
    if not looks_like_safetensors(data):
        raise Malformed(_describe_start(data))
    metadata, arrays = unpack(data)
    if metadata.get("format") != FORMAT_NAME:  # a safetensors file from elsewhere: its tensors by name
        return "data", ({"dict": [[name, {"tensor": name}] for name in arrays]}, arrays)
    if metadata.get("version") not in READABLE_VERSIONS:
        raise Malformed(
            f"its format version {metadata.get('version')!r} is not one this chainrule reads "
            f"({', '.join(READABLE_VERSIONS)}); a newer chainrule may read it"
        )
    if "object" in metadata:
        return "data", (json.loads(metadata["object"]), arrays)
    if "pickle" in metadata:
        content = base64.b64decode(metadata["pickle"].encode("ascii"), validate=True)
        return "pickle", ((content, metadata.get("pickled_because", "it is not plain data")), arrays)
    raise Malformed("its metadata names the chainrule format but holds neither 'object' nor 'pickle'")


def _describe_start(data):
    if not data:
        return "it is empty"
    if data[:1] == b"\x80":
        return "it is a Python pickle (e.g. a legacy torch.save file), which chainrule never loads because unpickling can run code"
    if data.startswith(b"\x93NUMPY"):
        return "it is a single .npy array, not a checkpoint"
    return f"it starts with {data[:8]!r}, neither a safetensors header nor an old .npz checkpoint"
