"""Files written by PyTorch's torch.save load into chainrule: state dicts, optimizer state and
checkpoint dicts, read as torch.load(weights_only=True) reads them (no code the file names runs)."""
import collections
import io
import pickle
import zipfile

import numpy as np
import pytest
import torch

import chainrule


@pytest.fixture(params=[True, False], ids=["zip", "stream"])
def zip_format(request):
    """Both formats torch.save writes: the zip archive (PyTorch 1.6 on) and the stream before it."""
    return request.param


def _saved(obj, tmp_path, zip_format=True, name="file.pt"):
    path = tmp_path / name
    torch.save(obj, path, _use_new_zipfile_serialization=zip_format)
    return path


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))


def test_a_pytorch_state_dict_loads_into_the_same_chainrule_model(tmp_path, zip_format):
    torch.manual_seed(0)
    trained = _mlp(torch)
    model = _mlp(chainrule)
    loaded = chainrule.load(_saved(trained.state_dict(), tmp_path, zip_format))
    assert type(loaded) is collections.OrderedDict and list(loaded) == list(trained.state_dict())
    assert str(model.load_state_dict(loaded)) == "<All keys matched successfully>"
    inputs = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_array_equal(model(chainrule.tensor(inputs)).detach().numpy(), trained(torch.tensor(inputs)).detach().numpy())


def test_a_checkpoint_with_optimizer_state_resumes_in_chainrule(tmp_path, zip_format):
    torch.manual_seed(0)
    trained = _mlp(torch)
    optimizer = torch.optim.Adam(trained.parameters(), lr=0.01)
    for _ in range(3):
        optimizer.zero_grad()
        trained(torch.randn(4, 3)).pow(2).sum().backward()
        optimizer.step()
    path = _saved({"epoch": 3, "model": trained.state_dict(), "optimizer": optimizer.state_dict(), "loss": 0.25, "name": "mlp"}, tmp_path, zip_format)
    checkpoint = chainrule.load(path)
    assert (checkpoint["epoch"], checkpoint["loss"], checkpoint["name"]) == (3, 0.25, "mlp")
    model = _mlp(chainrule)
    model.load_state_dict(checkpoint["model"])
    resumed = chainrule.optim.Adam(model.parameters(), lr=0.01)
    resumed.load_state_dict(checkpoint["optimizer"])
    inputs = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    for lib, net, opt in ((torch, trained, optimizer), (chainrule, model, resumed)):  # one more step each
        opt.zero_grad()
        net(lib.tensor(inputs)).pow(2).sum().backward()
        opt.step()
    for ours, theirs in zip(model.parameters(), trained.parameters()):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.arange(12.0).reshape(3, 4).t(),  # a view: its strides read from the storage
        lambda: torch.arange(10.0)[3:7],  # an offset into the storage
        lambda: torch.ones(3).expand(1000, 3),  # elements repeated: kept as the read-only view (no copy)
        lambda: torch.tensor(2.5),
        lambda: torch.zeros(0, 3),
        lambda: torch.tensor([1, -2], dtype=torch.int64),
        lambda: torch.tensor([True, False]),
        lambda: torch.tensor([1.5, -2.0], dtype=torch.float16),
        lambda: torch.tensor([1.5, -2.0], dtype=torch.float64),
        lambda: torch.tensor([3, 250], dtype=torch.uint8),
    ],
)
def test_tensors_of_every_layout_and_dtype(make, tmp_path, zip_format):
    original = make()
    loaded = chainrule.load(_saved(original, tmp_path, zip_format))
    assert str(loaded.dtype).split(".")[-1] == str(original.dtype).split(".")[-1]
    np.testing.assert_array_equal(loaded.numpy(), original.numpy())


def test_bfloat16_is_widened_to_float32_exactly(tmp_path):
    original = torch.tensor([1.5, -3.25, 1e-3], dtype=torch.bfloat16)
    loaded = chainrule.load(_saved(original, tmp_path))
    assert loaded.dtype == chainrule.float32
    np.testing.assert_array_equal(loaded.numpy(), original.float().numpy())


def test_parameters_tensors_that_require_grad_sets_and_sizes(tmp_path, zip_format):
    saved = {"p": torch.nn.Parameter(torch.ones(2)), "g": torch.ones(2, requires_grad=True), "s": {1, 2}, "size": torch.Size([2, 3]), "b": b"\x00\xff"}
    loaded = chainrule.load(_saved(saved, tmp_path, zip_format))
    assert isinstance(loaded["p"], chainrule.nn.Parameter) and loaded["g"].requires_grad
    assert loaded["s"] == {1, 2} and loaded["size"] == (2, 3) and type(loaded["size"]) is chainrule.Size and loaded["b"] == b"\x00\xff"


def test_a_whole_pickled_pytorch_model_is_refused_with_the_way_to_save_its_weights(tmp_path, zip_format):
    path = _saved(_mlp(torch), tmp_path, zip_format)
    for weights_only in (True, False):
        with pytest.raises(pickle.UnpicklingError, match=r"torch.nn.modules.*only PyTorch can rebuild.*model.state_dict\(\)"):
            chainrule.load(path, weights_only=weights_only)


def test_numpy_values_need_weights_only_false_as_in_pytorch(tmp_path, zip_format):
    path = _saved({"best": np.float64(0.5), "w": torch.ones(1)}, tmp_path, zip_format)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        chainrule.load(path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    assert chainrule.load(path, weights_only=False)["best"] == 0.5


def test_damaged_pytorch_files_are_refused_naming_the_file(tmp_path):
    path = _saved({"w": torch.arange(100.0)}, tmp_path)
    content = path.read_bytes()
    archive = zipfile.ZipFile(io.BytesIO(content))
    storage = next(info for info in archive.infolist() if "/data/" in info.filename)
    cut = bytearray(content)
    del cut[storage.header_offset + 30 + len(storage.filename) + 100 : storage.header_offset + 30 + len(storage.filename) + 400]
    path.write_bytes(bytes(cut))
    with pytest.raises(ValueError, match="file.pt is a PyTorch file chainrule can't read.*Nothing was loaded"):
        chainrule.load(path)


def test_tensors_of_one_storage_share_its_memory_as_in_pytorch(tmp_path, zip_format):
    base = torch.arange(6.0)
    loaded = chainrule.load(_saved({"whole": base, "part": base[2:5], "matrix": base.view(2, 3).t()}, tmp_path, zip_format))
    loaded["whole"][3] = 100.0
    assert loaded["part"].tolist() == [2.0, 100.0, 4.0] and loaded["matrix"][0].tolist() == [0.0, 100.0]


def test_a_damaged_stream_is_refused_naming_the_file(tmp_path):
    content = _saved({"w": torch.arange(100.0)}, tmp_path, zip_format=False).read_bytes()
    for cut in (len(content) - 50, len(content) - 410, 60):
        (tmp_path / "cut.pt").write_bytes(content[:cut])
        with pytest.raises((ValueError, pickle.UnpicklingError), match="cut.pt"):
            chainrule.load(tmp_path / "cut.pt")
