"""Reading the checkpoints of chainrule 0.1 (a NumPy ``.npz`` archive) once more, safely.

That format was a zip of ``.npy`` entries: ``__chainrule__.npy`` held the JSON structure, ``t0.npy``,
``t1.npy``... the arrays, all stored uncompressed. A zip entry can claim any size and a ``.npy``
header any shape, so before reading an entry this reader checks that it is stored uncompressed,
that its size fits in the file, and that its header's dtype is a number or a bool whose shape
accounts for exactly the entry's bytes; nothing larger than the file is ever allocated.
"""
import json
import math

import numpy

from chainrule.serialization.structure import STORABLE_DTYPES, Malformed
from chainrule.serialization.zip_archive import check_entry, open_archive

FORMAT_NAME = "chainrule.checkpoint"
HEADER_ENTRY = "__chainrule__"
_NPY_HEADER_READERS = {(1, 0): numpy.lib.format.read_array_header_1_0, (2, 0): numpy.lib.format.read_array_header_2_0}


def read_legacy(data):
    """``(structure, arrays)`` of an old checkpoint: the JSON tree and its arrays by entry name."""
    with open_archive(data) as archive:
        entries = {info.filename: info for info in archive.infolist()}
        if HEADER_ENTRY + ".npy" not in entries:
            shown = ", ".join(sorted(entries)[:5]) or "none"
            raise Malformed(f"the archive has no '{HEADER_ENTRY}' header entry (its entries: {shown})")
        header = _read_header(_read_entry(archive, entries[HEADER_ENTRY + ".npy"], len(data)))
        arrays = {}
        for name, info in entries.items():
            if name != HEADER_ENTRY + ".npy" and name.endswith(".npy"):
                arrays[name[: -len(".npy")]] = _read_entry(archive, info, len(data))
    return header["object"], arrays


def _read_entry(archive, info, file_bytes):
    """One ``.npy`` entry, read only once its sizes are shown to fit in the file."""
    check_entry(info, file_bytes)
    with archive.open(info) as member:
        version = numpy.lib.format.read_magic(member)
        if version not in _NPY_HEADER_READERS:
            raise Malformed(f"entry {info.filename!r} has .npy version {version}, which chainrule never wrote")
        shape, fortran_order, dtype = _NPY_HEADER_READERS[version](member)
        if dtype.name not in STORABLE_DTYPES or dtype.byteorder == ">":
            raise Malformed(f"entry {info.filename!r} holds {dtype} values; chainrule reads numbers and booleans only")
        declared = math.prod(shape) * dtype.itemsize
        if declared != info.file_size - member.tell():
            raise Malformed(
                f"entry {info.filename!r} declares shape {shape} ({declared} bytes) in an entry of "
                f"{info.file_size - member.tell()} data bytes"
            )
        raw = member.read(declared)
    return numpy.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran_order else "C").copy()


def _read_header(raw):
    if raw.dtype != numpy.uint8 or raw.ndim != 1:
        raise Malformed(f"its header entry is {raw.dtype} of shape {raw.shape}, not UTF-8 bytes")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise Malformed(f"its header is not valid UTF-8 JSON ({error})") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME or "object" not in header:
        raise Malformed("its header does not name the chainrule checkpoint format")
    if header.get("version") != 1:
        raise Malformed(f"its .npz format version {header.get('version')!r} is not 1, the only one written as .npz")
    return header
