"""chainrule.hub against torch.hub: the cache folder rules, downloads (file:// URLs only, never the
network), the SHA-256 prefix check, and pretrained weights for chainrule.vision.models written by
torch.save and read back through the cache."""
import hashlib
import os

import numpy as np
import pytest
import torch

import chainrule
from chainrule import hub
from chainrule.vision import models


@pytest.fixture(autouse=True)
def no_hub_dir_set(monkeypatch):
    """Each test starts without a set_dir, and its changes to that and to the environment are undone."""
    monkeypatch.setattr(hub, "_hub_dir", None)
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    for name in ("TORCH_HOME", "XDG_CACHE_HOME", "TORCH_HUB", "TORCH_MODEL_ZOO"):
        monkeypatch.delenv(name, raising=False)


def sha256_of(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def served(tmp_path, name, content):
    """A file written under tmp_path/served and its file:// URL."""
    folder = tmp_path / "served"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path, path.as_uri()


@pytest.mark.parametrize("environment", [
    {},
    {"XDG_CACHE_HOME": "/data/xdg"},
    {"TORCH_HOME": "~/my_torch", "XDG_CACHE_HOME": "/data/xdg"},
])
def test_get_dir_follows_torchs_cache_rules(monkeypatch, environment):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert hub.get_dir() == torch.hub.get_dir()


def test_set_dir_overrides_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "elsewhere"))
    hub.set_dir("~/weights")
    assert hub.get_dir() == os.path.expanduser("~/weights")
    hub.set_dir(tmp_path)
    assert hub.get_dir() == str(tmp_path)


def test_torch_hub_environment_variable_warns_as_torch(monkeypatch):
    monkeypatch.setenv("TORCH_HUB", "/old")
    with pytest.warns(UserWarning, match="TORCH_HUB is deprecated, please use env TORCH_HOME instead"):
        hub.get_dir()


def test_download_url_to_file_copies_and_checks_the_hash_prefix(tmp_path):
    content = bytes(range(256)) * 1000
    _, url = served(tmp_path, "blob.bin", content)
    destination = tmp_path / "downloaded.bin"
    hub.download_url_to_file(url, str(destination), hash_prefix=hashlib.sha256(content).hexdigest()[:10], progress=False)
    assert destination.read_bytes() == content
    assert sorted(os.listdir(tmp_path)) == ["downloaded.bin", "served"]  # no .partial file left


def test_a_wrong_hash_raises_as_torch_and_leaves_nothing(tmp_path):
    _, url = served(tmp_path, "blob.bin", b"not the weights you expected")
    with pytest.raises(RuntimeError) as ours:
        hub.download_url_to_file(url, str(tmp_path / "ours.bin"), hash_prefix="0123abcd", progress=False)
    with pytest.raises(RuntimeError) as theirs:
        torch.hub.download_url_to_file(url, str(tmp_path / "theirs.bin"), hash_prefix="0123abcd", progress=False)
    assert str(ours.value) == str(theirs.value)
    assert sorted(os.listdir(tmp_path)) == ["served"]  # no destination, no .partial file


def test_a_missing_file_raises_urllibs_error(tmp_path):
    with pytest.raises(OSError):
        hub.download_url_to_file((tmp_path / "absent.pth").as_uri(), str(tmp_path / "x.pth"), progress=False)
    assert os.listdir(tmp_path) == []


def test_load_state_dict_from_url_downloads_once_into_the_cache(tmp_path, capsys):
    state = {"weight": torch.arange(6, dtype=torch.float32).reshape(2, 3), "steps": torch.tensor(7)}
    source = tmp_path / "source.pth"
    torch.save(state, source)
    digest = sha256_of(source)
    path, url = served(tmp_path, f"tiny-{digest[:8]}.pth", source.read_bytes())
    hub.set_dir(tmp_path / "hub")
    loaded = hub.load_state_dict_from_url(url, progress=False, check_hash=True)
    cached = tmp_path / "hub" / "checkpoints" / path.name
    assert capsys.readouterr().out == f'Downloading: "{url}" to {cached}\n'
    assert cached.read_bytes() == path.read_bytes()
    np.testing.assert_array_equal(loaded["weight"].numpy(), state["weight"].numpy())
    assert loaded["weight"].dtype == chainrule.float32 and loaded["steps"].item() == 7
    path.unlink()  # the second call reads the cache: nothing is downloaded
    again = hub.load_state_dict_from_url(url, progress=False, check_hash=True)
    np.testing.assert_array_equal(again["weight"].numpy(), state["weight"].numpy())
    assert capsys.readouterr().out == ""


def test_check_hash_compares_the_prefix_in_the_file_name(tmp_path):
    source = tmp_path / "source.pth"
    torch.save({"x": torch.ones(2)}, source)
    _, url = served(tmp_path, "tiny-deadbeef.pth", source.read_bytes())
    with pytest.raises(RuntimeError, match='invalid hash value \\(expected "deadbeef", got "'):
        hub.load_state_dict_from_url(url, model_dir=str(tmp_path / "cache"), progress=False, check_hash=True)
    assert os.listdir(tmp_path / "cache") == []
    loaded = hub.load_state_dict_from_url(url, model_dir=str(tmp_path / "cache"), progress=False, file_name="renamed.pth")
    assert loaded["x"].tolist() == [1.0, 1.0] and os.listdir(tmp_path / "cache") == ["renamed.pth"]


# ---- pretrained weights through chainrule.vision.models ----


@pytest.fixture
def torchvision_style_checkpoint(tmp_path, monkeypatch):
    """A ResNet-18 state dict made by PyTorch (a chainrule resnet18's values, perturbed), saved by
    torch.save under a torchvision-style name carrying its SHA-256 prefix, served by file:// URL and
    put in place of ResNet18_Weights.IMAGENET1K_V1's URL; the hub cache in tmp_path."""
    state = {
        key: torch.from_numpy(value.numpy().copy()) + (0.01 if value.dtype == chainrule.float32 else 0)
        for key, value in models.resnet18().state_dict().items()
    }
    source = tmp_path / "source.pth"
    torch.save(state, source)
    path, url = served(tmp_path, f"resnet18-{sha256_of(source)[:8]}.pth", source.read_bytes())
    monkeypatch.setattr(models.ResNet18_Weights.IMAGENET1K_V1.value, "url", url)
    hub.set_dir(tmp_path / "hub")
    return state, path


def test_resnet18_weights_load_through_the_hub(torchvision_style_checkpoint, tmp_path):
    state, path = torchvision_style_checkpoint
    model = models.resnet18(weights=models.ResNet18_Weights.DEFAULT, progress=False)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[key].numpy())
    assert (tmp_path / "hub" / "checkpoints" / path.name).exists()
    path.unlink()
    with pytest.warns(UserWarning) as warned:
        again = models.resnet18(pretrained=True, progress=False)  # from the cache
    assert str(warned[1].message).endswith(
        "The current behavior is equivalent to passing `weights=ResNet18_Weights.IMAGENET1K_V1`. You can also use "
        "`weights=ResNet18_Weights.DEFAULT` to get the most up-to-date weights."
    )
    np.testing.assert_array_equal(again.fc.weight.detach().numpy(), state["fc.weight"].numpy())
    by_name = models.get_model("resnet18", weights="IMAGENET1K_V1", progress=False)
    np.testing.assert_array_equal(by_name.layer4[1].bn2.running_var.numpy(), state["layer4.1.bn2.running_var"].numpy())


def test_a_corrupted_download_is_refused(torchvision_style_checkpoint):
    _, path = torchvision_style_checkpoint
    content = path.read_bytes()
    path.write_bytes(content[:1000] + bytes([content[1000] ^ 1]) + content[1001:])
    with pytest.raises(RuntimeError, match="invalid hash value"):
        models.resnet18(weights="DEFAULT", progress=False)


def test_pretrained_weights_fix_num_classes(torchvision_style_checkpoint):
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but got 10 instead."):
        models.resnet18(weights=models.ResNet18_Weights.DEFAULT, num_classes=10)


def test_progress_shows_a_tqdm_bar_on_stderr(tmp_path, capsys):
    pytest.importorskip("tqdm")
    _, url = served(tmp_path, "blob.bin", b"x" * 5000)
    hub.download_url_to_file(url, str(tmp_path / "with_bar.bin"), progress=True)
    assert "100%" in capsys.readouterr().err
    hub.download_url_to_file(url, str(tmp_path / "quiet.bin"), progress=False)
    assert capsys.readouterr().err == ""


HUBCONF = '''"""A repository's entrypoints."""
dependencies = ["numpy"]
import {library}_layers  # a module of the repository itself


def tiny(width=3):
    """A linear layer of ``width`` outputs."""
    return {library}_layers.LIBRARY.nn.Linear(2, width)


def _hidden():
    pass
'''


def _repository(folder, library):
    folder.mkdir(parents=True)
    (folder / "hubconf.py").write_text(HUBCONF.format(library=library.__name__))
    (folder / f"{library.__name__}_layers.py").write_text(f"import {library.__name__} as LIBRARY\n")


@pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
def test_entrypoints_of_a_local_folder_and_of_a_cached_github_repository(lib, tmp_path, monkeypatch, capsys):
    """hub.load/list/help read hubconf.py as torch.hub's do: from a folder, or from the hub folder's
    copy of a GitHub repository (``<owner>_<name>_<ref>``), trusted once and then listed."""
    _repository(tmp_path / "local", lib)
    layer = lib.hub.load(str(tmp_path / "local"), "tiny", width=4, source="local")
    assert type(layer).__name__ == "Linear" and tuple(layer.weight.shape) == (4, 2)
    for call, error in [(lambda: lib.hub.load(str(tmp_path / "local"), "nope", source="local"), RuntimeError),
                        (lambda: lib.hub.load(str(tmp_path / "local"), "tiny", source="ftp"), ValueError)]:
        with pytest.raises(error):
            call()
    lib.hub.set_dir(str(tmp_path / "hub"))
    _repository(tmp_path / "hub" / "someone_models_v1", lib)
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert lib.hub.list("someone/models:v1", trust_repo=False) == ["tiny"]
    assert lib.hub.help("someone/models:v1", "tiny") == "A linear layer of ``width`` outputs."
    assert tuple(lib.hub.load("someone/models:v1", "tiny", width=5).weight.shape) == (5, 2)
    assert (tmp_path / "hub" / "trusted_list").read_text() == ""  # a repository in the hub folder is trusted already
    printed = capsys.readouterr()
    assert "Using cache found in" in printed.err and "The repository is already trusted." in printed.out
