"""The safetensors container: named arrays and string metadata, written and read with ``safetensors``.

A safetensors file is an 8-byte little-endian length N, N bytes of JSON header
(``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}``) and then
the raw bytes of every array, uncompressed. Nothing in it is code, and no entry can be larger than
the file, so reading one can neither run code nor allocate more than the file's size.

``unpack`` checks the header before anything is allocated: the header fits in the file, every dtype
is a number or a bool, and every entry's offsets lie inside the data and hold exactly
prod(shape) x itemsize bytes. The arrays are then read by ``safetensors.numpy``.
"""
import json
import math
import struct

import numpy
import safetensors
import safetensors.numpy

from chainrule.backend import complex_from_pairs, real_pairs
from chainrule.serialization.structure import STORABLE_DTYPES, Malformed

_LENGTH_BYTES = 8
_MAX_HEADER_BYTES = 100 * 1024 * 1024  # the limit the safetensors library itself enforces
_DTYPE_OF_CODE = {code: numpy.dtype(name) for name, code in STORABLE_DTYPES.items()}


def looks_like_safetensors(data):
    """True when ``data`` starts as a safetensors file does: a length, then a JSON object."""
    return len(data) > _LENGTH_BYTES and data[_LENGTH_BYTES : _LENGTH_BYTES + 1] == b"{"


#: The metadata entry listing the arrays stored as float64 pairs that are complex128 (safetensors
#: has a code for complex64, C64, and none for complex128): a JSON list of their names.
COMPLEX128_ENTRIES = "chainrule.complex128"


def pack(arrays, metadata):
    """The bytes of a safetensors file holding ``arrays`` (name -> NumPy array) and ``metadata`` (str -> str).
    A complex128 array is stored as its real and imaginary parts, float64 of shape (*shape, 2) (as
    ``view_as_real`` gives them), and named in the metadata's ``COMPLEX128_ENTRIES``."""
    # Not ascontiguousarray, which turns a 0-d array into a 1-d one.
    contiguous = {name: numpy.require(array, requirements="C") for name, array in arrays.items()}
    paired = sorted(name for name, array in contiguous.items() if array.dtype == numpy.complex128)
    if paired:
        metadata = {**metadata, COMPLEX128_ENTRIES: json.dumps(paired)}
        contiguous.update({name: real_pairs(contiguous[name]) for name in paired})
    return safetensors.numpy.save(contiguous, metadata=metadata)


def unpack(data):
    """``(metadata, arrays)`` from the bytes of a safetensors file; arrays in file order, writable.

    Raises ``Malformed`` saying what is wrong, before allocating anything, for any file that is not
    a well-formed safetensors file of numeric and bool arrays.
    """
    header = _read_header(data)
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(value, str) for value in metadata.values()):
        raise Malformed("its __metadata__ is not a map of strings")
    data_bytes = len(data) - _LENGTH_BYTES - _header_length(data)
    order = sorted(header, key=lambda name: _check_entry(name, header[name], data_bytes))
    try:
        stored = dict(safetensors.numpy.load(data))
    except safetensors.SafetensorError as error:
        raise Malformed(f"the safetensors library refused it ({error})") from error
    arrays = {name: stored[name].copy() for name in order}  # copies: frombuffer views are read-only
    for name in _complex128_entries(metadata.pop(COMPLEX128_ENTRIES, None), arrays):
        arrays[name] = complex_from_pairs(arrays[name])
    return metadata, arrays


def _complex128_entries(listed, arrays):
    """The names in the metadata's ``COMPLEX128_ENTRIES``, each checked to be float64 pairs."""
    if listed is None:
        return []
    try:
        names = json.loads(listed)
    except ValueError:
        names = None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise Malformed(f"its {COMPLEX128_ENTRIES} metadata is not a JSON list of entry names")
    for name in names:
        array = arrays.get(name)
        if array is None or array.dtype != numpy.float64 or not array.ndim or array.shape[-1] != 2:
            raise Malformed(f"its entry {name!r}, listed as complex128, is not float64 pairs (*shape, 2)")
    return names


def _header_length(data):
    if len(data) < _LENGTH_BYTES:
        raise Malformed(f"it is {len(data)} bytes long, too short for a safetensors header")
    return struct.unpack("<Q", data[:_LENGTH_BYTES])[0]


def _read_header(data):
    length = _header_length(data)
    if length > len(data) - _LENGTH_BYTES or length > _MAX_HEADER_BYTES:
        raise Malformed(
            f"its header declares {length} bytes, but the file holds {len(data) - _LENGTH_BYTES} after "
            f"the length (it is truncated, or the length is a lie)"
        )
    try:
        header = json.loads(data[_LENGTH_BYTES : _LENGTH_BYTES + length].decode("utf-8"))
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise Malformed(f"its header is not valid UTF-8 JSON ({type(error).__name__}: {error})") from error
    if not isinstance(header, dict):
        raise Malformed(f"its header is a JSON {type(header).__name__}, not an object")
    return header


def _check_entry(name, info, data_bytes):
    """The entry's start offset, once its dtype, shape and offsets are checked against the file."""
    if not isinstance(info, dict):
        raise Malformed(f"its header describes entry {name!r} with {str(info)[:80]!r}, not an object")
    code, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if code not in _DTYPE_OF_CODE:
        raise Malformed(
            f"entry {name!r} has dtype {code!r}; chainrule reads numbers and booleans only "
            f"({', '.join(_DTYPE_OF_CODE)})"
        )
    if not (isinstance(shape, list) and all(type(size) is int and size >= 0 for size in shape)):
        raise Malformed(f"entry {name!r} has shape {str(shape)[:80]!r}, not a list of sizes")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(offset) is int for offset in offsets)):
        raise Malformed(f"entry {name!r} has data_offsets {str(offsets)[:80]!r}, not [begin, end]")
    begin, end = offsets
    declared = math.prod(shape) * _DTYPE_OF_CODE[code].itemsize
    if not 0 <= begin <= end <= data_bytes or end - begin != declared:
        raise Malformed(
            f"entry {name!r} ({code} of shape {shape}, {declared} bytes) has offsets [{begin}, {end}] "
            f"that do not hold it inside the {data_bytes} data bytes of the file"
        )
    return begin
