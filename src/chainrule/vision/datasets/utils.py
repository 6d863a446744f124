"""Fetching and checking dataset files, as torchvision's ``datasets.utils``: an MD5 check, a
download with ``urllib`` that is skipped when the file is already there and whole, and unpacking of
``.gz``, ``.tar(.gz)`` and ``.zip`` archives (members that would land outside the folder refused)."""
import gzip
import hashlib
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile

USER_AGENT = "chainrule/vision"


def calculate_md5(fpath, chunk_size=1024 * 1024):
    """The MD5 digest of a file, as hex (a checksum against corruption, not for security)."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as file:
        while chunk := file.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath, md5, **kwargs):
    """Whether the file's MD5 is ``md5``."""
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath, md5=None):
    """Whether the file exists and, when ``md5`` is given, has that MD5."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def _urlretrieve(url, filename, chunk_size=1024 * 32):
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request) as response, open(filename, "wb") as file:
        while chunk := response.read(chunk_size):
            file.write(chunk)


def download_url(url, root, filename=None, md5=None):
    """Downloads ``url`` into ``root/filename`` unless a file with that MD5 is already there;
    RuntimeError if what arrived does not match ``md5``. An https address that fails is tried once
    more over http, as torchvision does."""
    root = os.path.expanduser(root)
    filename = filename or os.path.basename(url)
    fpath = os.fspath(os.path.join(root, filename))
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return
    try:
        _urlretrieve(url, fpath)
    except (urllib.error.URLError, OSError):
        if not url.startswith("https:"):
            raise
        _urlretrieve(url.replace("https:", "http:", 1), fpath)
    if not check_integrity(fpath, md5):
        raise RuntimeError("File not found or corrupted.")


def _inside(folder, member_path):
    folder = os.path.realpath(folder)
    return os.path.commonpath([folder, os.path.realpath(os.path.join(folder, member_path))]) == folder


def _extract_tar(archive, to_path):
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(to_path, filter="data")
            return
        # Pythons before the extraction filters (3.10.11 and older): only plain files and folders inside
        for member in tar.getmembers():
            if not (member.isfile() or member.isdir()) or not _inside(to_path, member.name):
                raise RuntimeError(f"Refusing to extract {member.name!r} from {archive}: it is not a file inside the folder")
        tar.extractall(to_path)


def extract_archive(from_path, to_path=None, remove_finished=False):
    """Unpacks ``from_path`` (.tar, .tar.gz, .tgz, .zip, or a single .gz file) into ``to_path``
    (default: its folder); returns ``to_path``."""
    to_path = to_path if to_path is not None else os.path.dirname(from_path)
    name = os.fspath(from_path)
    if name.endswith((".tar", ".tar.gz", ".tgz")):
        _extract_tar(from_path, to_path)
    elif name.endswith(".zip"):
        with zipfile.ZipFile(from_path) as archive:
            archive.extractall(to_path)  # zipfile drops absolute paths and ".." itself
    elif name.endswith(".gz"):
        target = os.path.join(to_path, os.path.basename(name)[: -len(".gz")])
        with gzip.open(from_path, "rb") as compressed, open(target, "wb") as output:
            shutil.copyfileobj(compressed, output)
    else:
        raise RuntimeError(f"Unsupported archive {name}: expected .tar, .tar.gz, .tgz, .zip or .gz")
    if remove_finished:
        os.remove(from_path)
    return to_path


def download_and_extract_archive(url, download_root, extract_root=None, filename=None, md5=None, remove_finished=False):
    """``download_url`` then ``extract_archive``."""
    download_root = os.path.expanduser(download_root)
    extract_root = extract_root if extract_root is not None else download_root
    filename = filename or os.path.basename(url)
    download_url(url, download_root, filename, md5)
    archive = os.path.join(download_root, filename)
    print(f"Extracting {archive} to {extract_root}")
    extract_archive(archive, extract_root, remove_finished)
