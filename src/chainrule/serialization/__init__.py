"""Checkpoints: ``save`` and ``load``, in the safetensors format, as ``torch.save`` / ``torch.load``.

A checkpoint is a safetensors file (``chainrule.serialization.safetensors_file``): every numeric or
bool array under a name, and string metadata. A state dict's tensors are stored under their own
keys, so ``safetensors.torch.load_file(path)`` reads a chainrule state dict into PyTorch, and a file
that PyTorch wrote with ``safetensors.torch.save_file`` loads here as ``{name: tensor}``.

The metadata says what the file holds:

- ``format`` ``"chainrule.checkpoint"`` and ``version`` ``"2"``;
- ``object``: for plain data (state dicts, optimizer and scheduler state: dicts, lists, tuples,
  numbers, strings, booleans, None around tensors and arrays), its structure as JSON
  (``chainrule.serialization.structure``). Loading it runs no code.
- ``pickle``: for anything else (a whole Module, a custom class), the object pickled as PyTorch
  does, with its arrays stored as entries (``chainrule.serialization.pickled``). Unpickling can run
  code, so ``load`` refuses it unless called with ``weights_only=False``, as ``torch.load`` does
  since PyTorch 2.6.

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

from chainrule.serialization import pickled, pytorch_file
from chainrule.serialization.atomic import write_atomically
from chainrule.serialization.legacy_npz import read_legacy
from chainrule.serialization.safetensors_file import looks_like_safetensors, pack, unpack
from chainrule.serialization.structure import Decoder, Encoder, Malformed, NotPlainData, STORABLE_DTYPES
from chainrule.serialization.zip_archive import ZIP_SIGNATURE
from chainrule.tensor import tensor_from_array

FORMAT_NAME = "chainrule.checkpoint"
FORMAT_VERSION = "2"

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


def save(obj, f, pickle_protocol=pickle.DEFAULT_PROTOCOL):
    """Write ``obj`` to ``f`` (a path, written atomically, or a binary file object).

    A state dict, or nested dicts/lists/tuples of tensors, arrays, numbers and strings, is stored as
    data; any other object is pickled (see the module docstring). A tensor referenced twice is
    stored once and comes back as one tensor.
    """
    encoder = Encoder()
    try:
        structure = encoder.encode(obj)
        arrays = encoder.arrays
        metadata = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "object": json.dumps(structure)}
    except NotPlainData as reason:
        content, arrays = pickled.dumps(obj, pickle_protocol)
        metadata = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "pickle": base64.b64encode(content).decode("ascii"),
            "pickled_because": str(reason),
        }
    content = pack(arrays, metadata)
    if hasattr(f, "write"):
        f.write(content)
    else:
        write_atomically(f, content)


def load(f, map_location=None, weights_only=True):
    """Read what ``save`` wrote, a safetensors file of numeric tensors, or a file PyTorch's
    ``torch.save`` wrote (its tensors and plain data); tensors on the CPU.

    ``f`` is a path or a binary file object. ``map_location`` is accepted for PyTorch compatibility
    and changes nothing (chainrule has one device). With ``weights_only=True`` (the default, and
    ``None``) a file holding a pickled object raises ``pickle.UnpicklingError``; pass
    ``weights_only=False`` to load it, only for a file from a source you trust. A file that can't be
    read raises ValueError naming it and what is wrong.
    """
    name, data = _read_bytes(f)
    try:
        kind, content = _parse(data)
    except _READ_ERRORS as error:
        reason = str(error) if isinstance(error, Malformed) else f"it is damaged ({type(error).__name__}: {error})"
        raise ValueError(
            f"chainrule.load: {name} is not a checkpoint chainrule can read: {reason}. Nothing was "
            f"loaded. chainrule.load reads files written by chainrule.save or torch.save, and safetensors "
            f"files of numeric and bool tensors ({', '.join(STORABLE_DTYPES)})."
        ) from error
    if kind == "data":
        return content
    if kind == "pytorch":
        try:
            return pytorch_file.read(content, weights_only is not False, name)
        except _READ_ERRORS as error:
            reason = str(error) if isinstance(error, Malformed) else f"it is damaged ({type(error).__name__}: {error})"
            raise ValueError(f"chainrule.load: {name} is a PyTorch file chainrule can't read: {reason}. Nothing was loaded.") from error
    pickle_bytes, arrays, reason = content
    if weights_only is not False:
        found = ", ".join(pickled.imported_names(pickle_bytes)) or "no classes"
        raise pickle.UnpicklingError(
            f"Weights only load failed: {name} holds a pickled object (saved as a pickle because "
            f"{reason}; unpickling it would import {found}). chainrule.load(f, weights_only=True), "
            f"the default, loads tensors and plain data only. This file can still be loaded: if you "
            f"trust its source, call chainrule.load(f, weights_only=False). Unpickling can run "
            f"arbitrary code, so never do that with a file from a source you do not trust."
        )
    try:
        return pickled.loads(pickle_bytes, arrays)
    except (pickle.UnpicklingError, EOFError) as error:  # the pickle's own errors, not those of the code it runs
        raise ValueError(f"chainrule.load: {name} holds a damaged pickle ({type(error).__name__}: {error}). Nothing was loaded.") from error


def _read_bytes(f):
    if hasattr(f, "read"):
        return getattr(f, "name", "the file object"), f.read()
    path = os.fspath(f)
    with open(path, "rb") as file:
        return path, file.read()


def _parse(data):
    """``("data", object)``, ``("pickle", (pickle bytes, arrays, why it was pickled))``, or
    ``("pytorch", bytes)`` for a file ``torch.save`` wrote."""
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
        return "data", Decoder(arrays).decode(structure)
    if not looks_like_safetensors(data):
        raise Malformed(_describe_start(data))
    metadata, arrays = unpack(data)
    if metadata.get("format") != FORMAT_NAME:  # a safetensors file from elsewhere: its tensors by name
        return "data", {name: tensor_from_array(array) for name, array in arrays.items()}
    if metadata.get("version") != FORMAT_VERSION:
        raise Malformed(
            f"its format version {metadata.get('version')!r} is not one this chainrule reads "
            f"({FORMAT_VERSION}); a newer chainrule may read it"
        )
    if "object" in metadata:
        return "data", Decoder(arrays).decode(json.loads(metadata["object"]))
    if "pickle" in metadata:
        content = base64.b64decode(metadata["pickle"].encode("ascii"), validate=True)
        return "pickle", (content, arrays, metadata.get("pickled_because", "it is not plain data"))
    raise Malformed("its metadata names the chainrule format but holds neither 'object' nor 'pickle'")


def _describe_start(data):
    if not data:
        return "it is empty"
    if data[:1] == b"\x80":
        return "it is a Python pickle (e.g. a legacy torch.save file), which chainrule never loads because unpickling can run code"
    if data.startswith(b"\x93NUMPY"):
        return "it is a single .npy array, not a checkpoint"
    return f"it starts with {data[:8]!r}, neither a safetensors header nor an old .npz checkpoint"
