"""``torch.PyTorchFileReader``: the records of a zip archive ``torch.save`` wrote (``data.pkl``,
``data/0``, ``byteorder``...), read by name, as PyTorch's reader gives them to code that inspects a
checkpoint without loading it (Lightning's lazy loading names the type)."""
import struct

from chainrule.serialization import _read_bytes
from chainrule.serialization.structure import Malformed
from chainrule.serialization.zip_archive import check_entry, open_archive

_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # a zip entry's local header: its data follows it and two names


class PyTorchFileReader:
    """The records of the archive ``file`` (a path or a binary file object), named as PyTorch names
    them: relative to the archive's one top-level folder."""

    def __init__(self, file):
        _, self._bytes = _read_bytes(file)
        try:
            archive = open_archive(self._bytes)
        except Malformed as error:
            raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {error}") from None
        self._entries = {}
        for info in archive.infolist():
            folder, _, name = info.filename.partition("/")
            if name:
                self._entries[name] = info
        self._archive = archive

    def _entry(self, name):
        info = self._entries.get(name)
        if info is None:
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not found")
        return info

    def get_all_records(self):
        """The names of its records."""
        return list(self._entries)

    def has_record(self, name):
        return name in self._entries

    def get_record(self, name):
        """The bytes of record ``name``."""
        info = self._entry(name)
        check_entry(info, len(self._bytes))
        return self._archive.read(info)

    def get_record_size(self, name):
        return self._entry(name).file_size

    def get_record_offset(self, name):
        """Where record ``name``'s bytes begin in the file (they are stored, never compressed)."""
        info = self._entry(name)
        fields = _LOCAL_HEADER.unpack_from(self._bytes, info.header_offset)
        name_length, extra_length = fields[-2], fields[-1]
        return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length

    def serialization_id(self):
        """The id ``torch.save`` wrote for the archive ("" for an archive without one)."""
        return self.get_record(".data/serialization_id").decode() if self.has_record(".data/serialization_id") else ""
