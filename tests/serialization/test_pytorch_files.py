"""Files written by PyTorch's torch.save load into chainrule: state dicts, optimizer state and
checkpoint dicts, read as torch.load(weights_only=True) reads them (no code the file names runs)."""
import collections
import io
import os
import pickle
import subprocess
import sys
import warnings
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
    for ours, theirs in zip(model.state_dict().values(), trained.state_dict().values()):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())  # the weights, bit for bit
    # the outputs to rounding: NumPy's BLAS and PyTorch's may sum a product in another order
    np.testing.assert_allclose(model(chainrule.tensor(inputs)).detach().numpy(), trained(torch.tensor(inputs)).detach().numpy(), rtol=1e-6, atol=1e-7)


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


def test_a_whole_model_pytorch_pickled_loads_as_chainrule_layers_with_weights_only_false(tmp_path, zip_format):
    torch.manual_seed(0)
    T = torch.nn
    model = T.Sequential(
        T.Conv2d(1, 4, 3, padding=1), T.BatchNorm2d(4), T.ReLU(), T.MaxPool2d(2), T.Flatten(), T.Linear(16, 8),
        T.LayerNorm(8), T.GELU(), T.Linear(8, 2),
    )
    model(torch.randn(5, 1, 4, 4))  # BatchNorm's running statistics move
    model.eval()
    path = _saved(model, tmp_path, zip_format)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed.*torch.nn.modules.container.Sequential"):
        chainrule.load(path)  # as torch.load(path) refuses it since PyTorch 2.6
    loaded = chainrule.load(path, weights_only=False)
    assert type(loaded) is chainrule.nn.Sequential and not loaded.training
    inputs = np.random.default_rng(0).standard_normal((3, 1, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(loaded(chainrule.tensor(inputs)).detach().numpy(), model(torch.tensor(inputs)).detach().numpy(), atol=1e-6)
    loaded.train()  # and it trains on
    optimizer = chainrule.optim.SGD(loaded.parameters(), lr=0.1)
    loaded(chainrule.tensor(inputs)).pow(2).sum().backward()
    optimizer.step()
    compiled = chainrule.compile(loaded)  # its hook registries are the kind a compiled call watches
    compiled.eval()
    with chainrule.no_grad():
        np.testing.assert_array_equal(compiled(chainrule.tensor(inputs)).numpy(), loaded(chainrule.tensor(inputs)).numpy())


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, activation="gelu"),  # keeps F.gelu
        lambda: torch.nn.LSTM(3, 8, num_layers=2, batch_first=True, bidirectional=True),
    ],
)
def test_layers_that_keep_functions_or_flat_weights(make, tmp_path):
    layer = make().eval()
    loaded = chainrule.load(_saved(layer, tmp_path), weights_only=False)
    inputs = np.random.default_rng(0).standard_normal((2, 5, 8 if isinstance(layer, torch.nn.TransformerEncoderLayer) else 3)).astype(np.float32)
    ours, theirs = loaded(chainrule.tensor(inputs)), layer(torch.tensor(inputs))
    ours, theirs = (ours[0], theirs[0]) if isinstance(theirs, tuple) else (ours, theirs)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=1e-6)


def test_a_pytorch_object_chainrule_cannot_rebuild_is_refused_naming_the_way(tmp_path, zip_format):
    from torch.ao.nn.quantizable import LSTM  # chainrule has no torch.ao.nn.quantizable

    path = _saved({"layer": LSTM(2, 3)}, tmp_path, zip_format)
    with pytest.raises(pickle.UnpicklingError, match=r"torch.ao.nn.quantizable.modules.rnn.LSTM, which chainrule cannot rebuild.*state_dict\(\)"):
        chainrule.load(path, weights_only=False)


def test_pytorch_classes_and_functions_named_by_reference_are_chainrules_at_the_same_place(tmp_path, zip_format):
    """stable-baselines3's ``policy.save`` pickles its constructor's arguments (``optimizer_class=th.optim.Adam``,
    ``activation_fn=th.nn.Tanh``); a whole pickled policy holds its optimizer."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    saved = {"class": torch.optim.Adam, "scheduler": torch.optim.lr_scheduler.StepLR, "function": torch.tanh,
             "init": torch.nn.init.orthogonal_, "distribution": torch.distributions.Normal, "model": model, "optimizer": optimizer}
    loaded = chainrule.load(_saved(saved, tmp_path, zip_format), weights_only=False)
    assert (loaded["class"], loaded["scheduler"], loaded["function"], loaded["init"], loaded["distribution"]) == (
        chainrule.optim.Adam, chainrule.optim.lr_scheduler.StepLR, chainrule.tanh, chainrule.nn.init.orthogonal_,
        chainrule.distributions.Normal)
    ours, theirs = loaded["optimizer"], optimizer
    assert isinstance(ours, chainrule.optim.Adam) and ours.param_groups[0]["params"][0] is loaded["model"].weight
    inputs = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    for lib, model_, optimizer_ in ((torch, model, theirs), (chainrule, loaded["model"], ours)):
        optimizer_.zero_grad()
        model_(lib.tensor(inputs)).sum().backward()
        optimizer_.step()
    np.testing.assert_allclose(loaded["model"].weight.detach().numpy(), model.weight.detach().numpy(), rtol=1e-6)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        chainrule.load(_saved({"class": torch.optim.Adam}, tmp_path, zip_format))


NET = """
import {library} as torch
from {library} import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.out = nn.Linear(4, 2)

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x)))
"""


def test_a_course_model_class_pickled_by_pytorch_loads_with_the_import_changed(tmp_path):
    """The course's own ``class Net(nn.Module)``, saved whole by a PyTorch run, loads in the same
    code with ``import chainrule as torch``: the pickle names ``netdef.Net``, which is chainrule's there."""
    for library in ("torch", "chainrule"):
        (tmp_path / library).mkdir()
        (tmp_path / library / "netdef.py").write_text(NET.format(library=library))
    save = "import torch, netdef, numpy as np; torch.manual_seed(0); m = netdef.Net(); torch.save(m, 'net.pt'); np.save('out.npy', m(torch.ones(2, 3)).detach().numpy())"
    load = "import chainrule, netdef, numpy as np; m = chainrule.load('net.pt', weights_only=False); assert isinstance(m, netdef.Net); np.testing.assert_allclose(m(chainrule.ones(2, 3)).detach().numpy(), np.load('out.npy'), atol=1e-6); print('ok')"
    for library, script in (("torch", save), ("chainrule", load)):
        environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path / library), os.environ.get("PYTHONPATH", "")]))
        run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


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


def test_a_view_keeps_the_strides_pytorch_wrote(tmp_path, zip_format):
    """A transposed tensor, a channels-last one, a slice and an expand come back with PyTorch's
    strides: the transposed one is not contiguous, so ``view(-1)`` refuses it as PyTorch's does
    (it reported row-major strides, and its view silently copied)."""
    t = torch.arange(6.0).reshape(2, 3)
    saved = {"t": t.t(), "cl": torch.arange(8.0).reshape(1, 2, 2, 2).contiguous(memory_format=torch.channels_last), "slice": t[:, 1:], "ex": torch.ones(3, 1).expand(3, 4)}
    loaded = chainrule.load(_saved(saved, tmp_path, zip_format))
    for key, value in saved.items():
        assert loaded[key].stride() == value.stride() and loaded[key].is_contiguous() == value.is_contiguous(), key
        assert loaded[key].tolist() == value.tolist()
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        loaded["t"].view(-1)
    assert (loaded["t"] * 2).stride() == (1, 3) and loaded["cl"].is_contiguous(memory_format=chainrule.channels_last)


def test_the_wide_unsigned_integers_pytorch_keeps_in_byte_storages_load(tmp_path, zip_format):
    """uint16, uint32 and uint64 tensors, which PyTorch writes with ``_rebuild_tensor_v3`` over a
    storage of bytes: refused before ("imports torch._utils._rebuild_tensor_v3"). A tensor of a dtype
    chainrule has no arrays for (complex32) is refused, naming it."""
    if not zip_format:
        pytest.skip("PyTorch itself cannot read back such a stream (its UntypedStorage has no dtype there)")
    wide = torch.arange(6).to(torch.uint16)
    saved = {"u16": wide.reshape(2, 3).t(), "u16_part": wide[2:], "u32": torch.tensor([1, 2**31 + 5], dtype=torch.uint32),
             "u64": torch.tensor([3, 2**63 + 1], dtype=torch.uint64)}
    path = _saved(saved, tmp_path, zip_format)
    for weights_only in (True, False):
        loaded = chainrule.load(path, weights_only=weights_only)
        for key, value in saved.items():
            assert loaded[key].dtype == getattr(chainrule, str(value.dtype).split(".")[1]), key
            assert loaded[key].tolist() == value.tolist() and loaded[key].stride() == value.stride(), key
    loaded["u16"][0, 1] = 9  # one storage, as in PyTorch
    assert loaded["u16_part"].tolist() == [2, 9, 4, 5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's note, once a process, that ComplexHalf is experimental)
        half_complex = torch.ones(2, dtype=torch.complex32)
    with pytest.raises(pickle.UnpicklingError, match="complex32"):
        chainrule.load(_saved({"c": half_complex}, tmp_path, zip_format, name="c32.pt"))


def test_tensors_and_parameters_keep_their_python_attributes(tmp_path, zip_format):
    """A tensor with attributes (``t.note = 7``), a buffer's ``persistent`` mark, which PyTorch
    writes with ``_rebuild_from_type_v2``, and a Parameter's attributes
    (``_rebuild_parameter_with_state``): refused, or the attributes dropped, before."""
    noted = torch.ones(2)
    noted.note = 7
    shared = torch.nn.Parameter(torch.ones(2))
    shared.shared = True
    path = _saved({"noted": noted, "shared": shared, "buffer": torch.nn.Buffer(torch.ones(1), persistent=False)}, tmp_path, zip_format)
    for weights_only in (True, False):
        loaded = chainrule.load(path, weights_only=weights_only)
        assert type(loaded["noted"]) is chainrule.Tensor and loaded["noted"].note == 7
        assert type(loaded["shared"]) is chainrule.nn.Parameter and loaded["shared"].shared is True
        assert loaded["buffer"].persistent is False and loaded["buffer"].tolist() == [1.0]


def test_pytorch_file_reader_reads_the_records_of_an_archive(tmp_path):
    """``torch.PyTorchFileReader`` (Lightning names it): records by name, their bytes, sizes and
    offsets in the file, as PyTorch's reader gives them."""
    path = _saved({"w": torch.arange(3.0), "b": torch.ones(2)}, tmp_path)
    ours, theirs = chainrule.PyTorchFileReader(str(path)), torch.PyTorchFileReader(str(path))
    with open(path, "rb") as file:
        ours_from_a_file = chainrule.PyTorchFileReader(file)
    assert sorted(ours.get_all_records()) == sorted(theirs.get_all_records()) == sorted(ours_from_a_file.get_all_records())
    for name in theirs.get_all_records():
        assert ours.get_record(name) == theirs.get_record(name) and ours.get_record_size(name) == theirs.get_record_size(name)
        assert ours.get_record_offset(name) == theirs.get_record_offset(name)
    assert ours.serialization_id() == theirs.serialization_id() and ours.has_record("data.pkl") and not ours.has_record("nope")
    with pytest.raises(RuntimeError, match="failed locating file nope"):
        ours.get_record("nope")
