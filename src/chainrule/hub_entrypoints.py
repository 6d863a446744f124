"""torch.hub's model half: ``load``, ``list`` and ``help`` read a repository's ``hubconf.py``, whose
public callables are its entrypoints (``hub.load("owner/repo", "resnet18", weights=...)`` calls
``resnet18(weights=...)`` there).

A repository is a local folder (``source="local"``) or a GitHub repository
``"owner/name[:ref]"``, downloaded once as a zip archive into the hub folder (``get_dir()``) as
``<owner>_<name>_<ref>``: PyTorch's own cache, so a repository PyTorch has downloaded is found there.
Running a downloaded repository's code needs trust, as in PyTorch: ``trust_repo=True`` adds the
repository to ``<hub folder>/trusted_list``; ``"check"`` (the default) asks on the terminal unless
it is listed (or already downloaded, or PyTorch's own), ``False`` asks always. The ref
defaults to ``main`` if the repository has one, else ``master``. PyTorch's check that a ref belongs
to the repository and not a fork (``skip_validation``) asks GitHub's API; it is not made here.
"""
import builtins
import contextlib
import importlib.util
import os
import shutil
import sys
import urllib.error
import urllib.request
import uuid
import zipfile

from chainrule.hub import download_url_to_file, get_dir

MODULE_HUBCONF = "hubconf.py"
VAR_DEPENDENCY = "dependencies"
_TRUSTED_OWNERS = ("facebookresearch", "facebookincubator", "pytorch", "fairinternal")


def load(repo_or_dir, model, *args, source="github", trust_repo="check", force_reload=False, verbose=True,
         skip_validation=False, **kwargs):
    """The object the entrypoint ``model`` of ``repo_or_dir``'s hubconf.py returns for ``*args,
    **kwargs`` (a model, with its pretrained weights where the entrypoint loads them)."""
    source = source.lower()
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source == "github":
        repo_or_dir = _get_cache_or_reload(repo_or_dir, force_reload, trust_repo, verbose)
    with _hubconf(repo_or_dir) as hubconf:
        return _entry(hubconf, model)(*args, **kwargs)


def list(github, force_reload=False, skip_validation=False, trust_repo="check", verbose=True):  # noqa: A001 (PyTorch's name)
    """The names of the entrypoints of the GitHub repository ``github``'s hubconf.py."""
    folder = _get_cache_or_reload(github, force_reload, trust_repo, verbose)
    with _hubconf(folder) as hubconf:
        return [name for name in dir(hubconf) if callable(getattr(hubconf, name)) and not name.startswith("_")]


def help(github, model, force_reload=False, skip_validation=False, trust_repo="check"):  # noqa: A001 (PyTorch's name)
    """The docstring of the entrypoint ``model`` of the GitHub repository ``github``."""
    folder = _get_cache_or_reload(github, force_reload, trust_repo, verbose=True)
    with _hubconf(folder) as hubconf:
        return _entry(hubconf, model).__doc__


@contextlib.contextmanager
def _hubconf(folder):
    """The module ``folder``/hubconf.py, imported with ``folder`` first on ``sys.path`` (its own
    imports find the repository's modules) while the block runs."""
    sys.path.insert(0, folder)
    try:
        spec = importlib.util.spec_from_file_location("hubconf", os.path.join(folder, MODULE_HUBCONF))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(folder)


def _entry(hubconf, model):
    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    missing = [name for name in getattr(hubconf, VAR_DEPENDENCY, None) or () if importlib.util.find_spec(name) is None]
    if missing:
        raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")
    entry = getattr(hubconf, model, None)
    if entry is None or not callable(entry):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return entry


def _get_cache_or_reload(github, force_reload, trust_repo, verbose=True):
    """The folder of the GitHub repository ``github`` in the hub folder, downloaded if it is not there."""
    hub_dir = get_dir()
    os.makedirs(hub_dir, exist_ok=True)
    owner, name, ref = _parse_repo_info(github, hub_dir)
    branch = ref.replace("/", "_")
    folder_name = f"{owner}_{name}_{branch}"
    folder = os.path.join(hub_dir, folder_name)
    _check_repo_is_trusted(owner, name, folder_name, trust_repo, hub_dir)
    if not force_reload and os.path.exists(folder):
        if verbose:
            sys.stderr.write(f"Using cache found in {folder}\n")
        return folder
    archive = os.path.join(hub_dir, f"{branch}.zip")
    url = f"https://github.com/{owner}/{name}/zipball/{ref}"
    sys.stdout.write(f'Downloading: "{url}" to {archive}\n')
    download_url_to_file(url, archive, progress=False)
    with zipfile.ZipFile(archive) as zipped:
        top = zipped.infolist()[0].filename.split("/")[0]  # GitHub's "<owner>-<name>-<sha>/"
        unpacked = os.path.join(hub_dir, f".unpacking-{uuid.uuid4().hex}")
        zipped.extractall(unpacked)
    os.remove(archive)
    if os.path.exists(folder):
        shutil.rmtree(folder)
    shutil.move(os.path.join(unpacked, top), folder)
    shutil.rmtree(unpacked)
    return folder


def _parse_repo_info(github, hub_dir):
    """(owner, name, ref) of ``"owner/name[:ref]"``; without a ref, ``main`` where GitHub has it,
    else ``master`` (offline: whichever the hub folder holds)."""
    repository, _, ref = github.partition(":")
    owner, name = repository.split("/")
    if ref:
        return owner, name, ref
    try:
        with urllib.request.urlopen(f"https://github.com/{owner}/{name}/tree/main/"):
            return owner, name, "main"
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return owner, name, "master"
        raise
    except urllib.error.URLError as error:
        for ref in ("main", "master"):
            if os.path.exists(os.path.join(hub_dir, f"{owner}_{name}_{ref}")):
                return owner, name, ref
        raise RuntimeError(f"It looks like there is no internet connection and the repo could not be found in the cache ({hub_dir})") from error


def _check_repo_is_trusted(owner, name, folder_name, trust_repo, hub_dir):
    """Go on only with a repository the user trusts (see the module's docstring); a newly trusted
    one is added to the hub folder's ``trusted_list``."""
    listing = os.path.join(hub_dir, "trusted_list")
    with open(listing, "a+") as file:  # made empty where there is none, as PyTorch's
        file.seek(0)
        trusted = {line.strip() for line in file}
    owner_name = f"{owner}_{name}"
    downloaded = {entry.name for entry in os.scandir(hub_dir) if entry.is_dir()}
    is_trusted = owner_name in trusted or folder_name in downloaded or owner in _TRUSTED_OWNERS
    if trust_repo is False or (trust_repo == "check" and not is_trusted):
        response = builtins.input(
            f"The repository {owner_name} does not belong to the list of trusted repositories and as such cannot be "
            "downloaded. Do you trust this repository and wish to add it to the trusted list of repositories (y/N)?"
        )
        if response.lower() in ("y", "yes"):
            if is_trusted:
                print("The repository is already trusted.")
        elif response.lower() in ("n", "no", ""):
            raise Exception("Untrusted repository.")  # noqa: TRY002 (PyTorch's type)
        else:
            raise ValueError(f"Unrecognized response {response}.")
    if not is_trusted:
        with open(listing, "a") as file:
            file.write(owner_name + "\n")
