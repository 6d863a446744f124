"""torch.hub's download half: pretrained weights fetched once by URL and kept in a cache folder
(the model half, ``load``/``list``/``help`` of a repository's hubconf.py, is ``hub_entrypoints.py``).

``load_state_dict_from_url(url)`` downloads ``url`` into ``<get_dir()>/checkpoints/<file name>``
unless a file of that name is already there, then reads it with ``chainrule.load``. The cache is
PyTorch's own folder, ``$TORCH_HOME/hub`` (``$TORCH_HOME`` defaulting to ``$XDG_CACHE_HOME/torch``,
and that to ``~/.cache/torch``), so the weights a machine's PyTorch has already downloaded are read
from there, and the other way round.

A file named ``name-<hex>.ext`` (``resnet18-f37072fd.pth``) carries the first digits of the SHA-256
of its bytes; with ``check_hash=True`` a download whose hash does not start with them raises
RuntimeError and leaves nothing in the cache. A download is written to a temporary file beside its
destination and moved into place only when whole, so a broken download never poses as a checkpoint.
"""
import hashlib
import os
import re
import shutil
import sys
import urllib.request
import uuid
import warnings
from urllib.parse import urlparse  # torch.hub hands it on too (timm imports it from here)

import chainrule

# matches f37072fd in resnet18-f37072fd.pth
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
ENV_TORCH_HOME = "TORCH_HOME"
ENV_XDG_CACHE_HOME = "XDG_CACHE_HOME"
DEFAULT_CACHE_DIR = "~/.cache"
READ_DATA_CHUNK = 128 * 1024
USER_AGENT = "torch.hub"  # the servers PyTorch downloads from see the same client as PyTorch's

_hub_dir = None


def _get_torch_home():
    return os.path.expanduser(
        os.getenv(ENV_TORCH_HOME, os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), "torch"))
    )


def get_dir():
    """The hub folder: the one given to ``set_dir``, otherwise ``$TORCH_HOME/hub``, where
    ``$TORCH_HOME`` defaults to ``$XDG_CACHE_HOME/torch`` and ``$XDG_CACHE_HOME`` to ``~/.cache``.
    Downloaded weights live in its ``checkpoints`` folder."""
    if os.getenv("TORCH_HUB"):
        warnings.warn("TORCH_HUB is deprecated, please use env TORCH_HOME instead", stacklevel=2)
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_torch_home(), "hub")


def set_dir(d):
    """Use the folder ``d`` (a path; ``~`` expanded) as the hub folder from now on."""
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


def _progress_bar(total, enabled):
    """A tqdm bar counting bytes, or None without tqdm (``pip install "chainrule[progress]"``)
    or when ``enabled`` is False."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024)


def _open_temporary_beside(dst):
    """A new file ``dst.<random>.partial``, opened for writing (created, never an existing one)."""
    while True:
        try:
            return open(f"{dst}.{uuid.uuid4().hex}.partial", "xb")
        except FileExistsError:
            continue


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Download ``url`` (http(s), ftp or file://) to the path ``dst``.

    With ``hash_prefix``, the SHA-256 of the bytes, as hex, must start with it: otherwise
    RuntimeError, and ``dst`` is left as it was. ``progress`` shows a tqdm bar on stderr when tqdm
    is installed.
    """
    dst = os.path.expanduser(dst)
    temporary = _open_temporary_beside(dst)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request) as response:
            length = response.info().get("Content-Length")
            sha256 = hashlib.sha256() if hash_prefix is not None else None
            bar = _progress_bar(int(length) if length else None, progress)
            try:
                while buffer := response.read(READ_DATA_CHUNK):
                    temporary.write(buffer)
                    if sha256 is not None:
                        sha256.update(buffer)
                    if bar is not None:
                        bar.update(len(buffer))
            finally:
                if bar is not None:
                    bar.close()
        temporary.close()
        if sha256 is not None:
            digest = sha256.hexdigest()
            if digest[: len(hash_prefix)] != hash_prefix:
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
        shutil.move(temporary.name, dst)
    finally:
        temporary.close()
        if os.path.exists(temporary.name):
            os.remove(temporary.name)


def load_state_dict_from_url(
    url, model_dir=None, map_location=None, progress=True, check_hash=False, file_name=None, weights_only=True
):
    """The object saved at ``url`` (a state dict, for pretrained weights), downloaded once.

    The file is kept as ``model_dir/<file_name>`` (defaults: ``<get_dir()>/checkpoints`` and the
    last part of the URL's path) and read from there on later calls without downloading again.
    ``check_hash=True`` checks a new download against the SHA-256 prefix in its file name
    (``name-<hex>.ext``). The file is read by ``chainrule.load`` with ``map_location`` and
    ``weights_only``: files written by ``torch.save`` load as ``torch.load`` loads them.
    """
    if os.getenv("TORCH_MODEL_ZOO"):
        warnings.warn("TORCH_MODEL_ZOO is deprecated, please use env TORCH_HOME instead", stacklevel=2)
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            match = HASH_REGEX.search(filename)
            hash_prefix = match.group(1) if match else None
        download_url_to_file(url, cached_file, hash_prefix, progress=progress)
    return chainrule.load(cached_file, map_location=map_location, weights_only=weights_only)


try:  # PyTorch's hub hands tqdm on (``from torch.hub import tqdm``)
    from tqdm import tqdm
except ImportError:
    class tqdm:  # noqa: N801 (tqdm's name)
        """Stands for tqdm where it is not installed: says which extra brings it."""

        def __init__(self, *args, **kwargs):
            raise ImportError('torch.hub.tqdm is tqdm, which is not installed: pip install "chainrule[progress]"')


from chainrule.hub_entrypoints import help, list, load  # noqa: E402,A004  (the model half: hubconf.py entrypoints)

__all__ = ["download_url_to_file", "get_dir", "help", "list", "load", "load_state_dict_from_url", "set_dir"]
