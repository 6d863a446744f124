"""The zip archives a checkpoint may be (chainrule 0.1's ``.npz``, PyTorch's ``torch.save``), opened
and their entries checked before anything is read: an entry can claim any size, so one is read
only when it is stored uncompressed (neither format compresses; a compressed one could be a zip
bomb) and its size fits in the file."""
import io
import zipfile

from chainrule.serialization.structure import Malformed

ZIP_SIGNATURE = b"PK\x03\x04"


def open_archive(data):
    """The zip archive of ``data`` (bytes), or Malformed saying it is truncated or corrupt."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise Malformed(f"it is a zip archive that is truncated or corrupt ({error})") from error


def check_entry(info, file_bytes):
    """Malformed unless the entry ``info`` is stored uncompressed and fits in a file of ``file_bytes``."""
    if info.compress_type != zipfile.ZIP_STORED:
        raise Malformed(f"entry {info.filename!r} is compressed; checkpoints never are (this could be a zip bomb)")
    if info.file_size > file_bytes:
        raise Malformed(f"entry {info.filename!r} declares {info.file_size} bytes, more than the whole file ({file_bytes})")
