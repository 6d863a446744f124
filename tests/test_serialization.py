"""Checkpoints: round trips, atomic writes, and refusing every file that is not ours (never unpickling)."""
import io
import json
import math
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

import chainrule
from chainrule import serialization

UNPICKLED = []


def _record_unpickling():
    """Called only if something unpickles the booby-trapped payload below."""
    UNPICKLED.append(True)


class Trap:
    def __reduce__(self):
        return (_record_unpickling, ())


def nested_state():
    shared = chainrule.tensor([[1.0, 2.0], [3.0, 4.0]])
    return {
        "model": {
            "layer.weight": shared,
            "layer.bias": chainrule.zeros(2, dtype=chainrule.float64),
            "counts": chainrule.tensor([1, 2, 3]),
            "mask": chainrule.tensor([True, False]),
            "half": chainrule.ones(3, dtype=chainrule.float16),
            "bytes": chainrule.tensor([1, 255], dtype=chainrule.uint8),
            "int32": chainrule.tensor([7], dtype=chainrule.int32),
            "scalar": chainrule.tensor(2.5),
            "empty": chainrule.zeros(0, 3),
        },
        "optimizer": {
            "state": {0: {"step": chainrule.tensor(3.0), "momentum_buffer": None}, 12: {"tied": shared}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "params": [0, 12]}],
        },
        "epoch": 7,
        "best": math.inf,
        "history": [0.5, 0.25, -1e-300],
        "note": "résumé ✓",
        "flags": (True, None, 10**30),
        "raw": np.arange(6, dtype=np.int16).reshape(2, 3),
        "labels": np.array(["cat", "dog"]),
        "numpy_number": np.float32(0.1),
        "leaf": chainrule.tensor([1.0], requires_grad=True),
    }


def assert_same(loaded, original, where="obj"):
    assert type(loaded) is type(original) or (
        isinstance(original, chainrule.Tensor) and type(loaded) is chainrule.Tensor
    ), f"{where}: {type(loaded).__name__} instead of {type(original).__name__}"
    if isinstance(original, dict):
        assert list(loaded) == list(original), f"{where}: keys"
        for key in original:
            assert_same(loaded[key], original[key], f"{where}[{key!r}]")
    elif isinstance(original, (list, tuple)):
        assert len(loaded) == len(original)
        for position, (mine, theirs) in enumerate(zip(loaded, original)):
            assert_same(mine, theirs, f"{where}[{position}]")
    elif isinstance(original, chainrule.Tensor):
        assert loaded.dtype == original.dtype and loaded.shape == original.shape, where
        assert loaded.requires_grad == original.requires_grad, where
        np.testing.assert_array_equal(loaded.array, original.array, err_msg=where)
    elif isinstance(original, (np.ndarray, np.generic)):
        assert loaded.dtype == original.dtype, where
        np.testing.assert_array_equal(loaded, original, err_msg=where)
    else:
        assert loaded == original, where


def test_round_trip_keeps_structure_types_and_dtypes(tmp_path):
    original = nested_state()
    chainrule.save(original, tmp_path / "state.npz")
    loaded = chainrule.load(tmp_path / "state.npz")
    assert_same(loaded, original)
    model, optimizer = loaded["model"], loaded["optimizer"]
    assert model["layer.weight"] is optimizer["state"][12]["tied"], "a shared tensor stays shared"
    assert set(optimizer["state"]) == {0, 12}, "int keys come back as ints"


def test_paths_as_str_and_file_objects(tmp_path):
    state = {"weight": chainrule.randn(3, 2)}
    chainrule.save(state, str(tmp_path / "as_str.pt"))
    assert_same(chainrule.load(str(tmp_path / "as_str.pt"), map_location="cpu", weights_only=True), state)
    buffer = io.BytesIO()
    chainrule.save(state, buffer)
    buffer.seek(0)
    assert_same(chainrule.load(buffer), state)


def test_loaded_tensors_are_independent_and_writable(tmp_path):
    weight = chainrule.ones(2)
    chainrule.save({"w": weight}, tmp_path / "w.npz")
    loaded = chainrule.load(tmp_path / "w.npz")["w"]
    loaded.array += 1
    assert weight.tolist() == [1.0, 1.0] and loaded.tolist() == [2.0, 2.0]


def test_a_module_state_dict_round_trips(tmp_path):
    model = chainrule.nn.Sequential(chainrule.nn.Linear(3, 4), chainrule.nn.ReLU(), chainrule.nn.Linear(4, 2))
    chainrule.save(model.state_dict(), tmp_path / "model.npz")
    copy = chainrule.nn.Sequential(chainrule.nn.Linear(3, 4), chainrule.nn.ReLU(), chainrule.nn.Linear(4, 2))
    copy.load_state_dict(chainrule.load(tmp_path / "model.npz"))
    for (name, mine), (_, theirs) in zip(copy.state_dict().items(), model.state_dict().items()):
        np.testing.assert_array_equal(mine.array, theirs.array, err_msg=name)


def test_unsupported_values_raise_type_error_and_write_nothing(tmp_path):
    target = tmp_path / "bad.npz"
    with pytest.raises(TypeError, match=r"obj\['model'\] is a Sequential"):
        chainrule.save({"model": chainrule.nn.Sequential()}, target)
    with pytest.raises(TypeError, match="keys must be str or int"):
        chainrule.save({(1, 2): 3}, target)
    with pytest.raises(TypeError, match="array of Python objects"):
        chainrule.save({"objects": np.array([Trap()], dtype=object)}, target)
    assert os.listdir(tmp_path) == []


def test_a_crash_mid_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    target = tmp_path / "checkpoint.npz"
    chainrule.save({"epoch": 1, "weight": chainrule.ones(3)}, target)
    written = []

    def crash_after_two_entries(file, array, allow_pickle):
        if len(written) == 2:
            raise OSError("disk full")
        written.append(array)
        file.write(b"partial")

    monkeypatch.setattr(np.lib.format, "write_array", crash_after_two_entries)
    with pytest.raises(OSError, match="disk full"):
        chainrule.save({"epoch": 2, "weight": chainrule.zeros(3), "bias": chainrule.zeros(1)}, target)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["checkpoint.npz"], "the temporary file is removed"
    assert chainrule.load(target)["epoch"] == 1


def test_a_crash_before_the_rename_leaves_the_old_file_intact(tmp_path, monkeypatch):
    target = tmp_path / "checkpoint.npz"
    chainrule.save({"epoch": 1}, target)

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        chainrule.save({"epoch": 2}, target)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["checkpoint.npz"]
    assert chainrule.load(target) == {"epoch": 1}
    chainrule.save({"epoch": 3}, target)
    assert chainrule.load(target) == {"epoch": 3}


def write_bytes(tmp_path, content, name="file.npz"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def assert_refused(path, reason):
    with pytest.raises(ValueError, match=f"(?s)is not a chainrule checkpoint: .*{reason}.*The file was not loaded"):
        chainrule.load(path)


def test_refuses_a_truncated_file(tmp_path):
    chainrule.save(nested_state(), tmp_path / "full.npz")
    content = (tmp_path / "full.npz").read_bytes()
    for keep in (len(content) // 2, len(content) - 10, 10):
        assert_refused(write_bytes(tmp_path, content[:keep]), "truncated or corrupt")


def test_refuses_a_corrupted_entry(tmp_path):
    chainrule.save({"weight": chainrule.arange(1000)}, tmp_path / "ok.npz")
    content = bytearray((tmp_path / "ok.npz").read_bytes())
    content[len(content) // 2] ^= 0xFF
    assert_refused(write_bytes(tmp_path, bytes(content)), "truncated or corrupt|could not be read")


def test_refuses_random_bytes_and_empty_files(tmp_path):
    assert_refused(write_bytes(tmp_path, np.random.default_rng(0).bytes(300)), "zip signature")
    assert_refused(write_bytes(tmp_path, b""), "empty")
    assert_refused(write_bytes(tmp_path, b"PK\x03\x04" + bytes(100)), "truncated or corrupt")


def test_refuses_torch_save_files_without_unpickling(tmp_path):
    torch.save({"weight": torch.ones(2), "trap": Trap()}, tmp_path / "model.pt")
    assert_refused(tmp_path / "model.pt", "PyTorch file written by torch.save")
    torch.save({"trap": Trap()}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    assert_refused(tmp_path / "legacy.pt", "pickle")
    assert_refused(write_bytes(tmp_path, pickle.dumps(Trap()), "plain.pkl"), "pickle")
    assert UNPICKLED == []


def test_refuses_npz_files_without_our_header(tmp_path):
    np.savez(tmp_path / "plain.npz", weight=np.ones(3))
    assert_refused(tmp_path / "plain.npz", "no '__chainrule__' header entry .*weight")
    np.save(tmp_path / "single.npy", np.ones(3))
    assert_refused(tmp_path / "single.npy", "single .npy array")


def archive_with(header, **arrays):
    buffer = io.BytesIO()
    entries = {serialization.HEADER_ENTRY: np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **arrays}
    np.savez(buffer, **entries)  # np.savez pickles object arrays: the attack load must refuse
    buffer.seek(0)
    return buffer


def header(structure, version=1):
    return {"format": serialization.FORMAT_NAME, "version": version, "object": structure}


def test_never_unpickles_an_object_array_even_with_a_valid_header(tmp_path):
    trapped = archive_with(header({"tensor": "t0"}), t0=np.array([Trap()], dtype=object))
    path = write_bytes(tmp_path, trapped.getvalue())
    assert_refused(path, "could not be read safely.*allow_pickle")
    assert UNPICKLED == []


@pytest.mark.parametrize(
    "document, reason",
    [
        ({"format": "something else", "version": 1, "object": 1}, "does not name the chainrule checkpoint format"),
        (header(1, version=99), "format version 99"),
        (header({"tensor": "t7"}), "missing entry 't7'"),
        (header({"tensor": serialization.HEADER_ENTRY}), "missing entry"),
        (header({"function": "os.system"}), "unknown node kind"),
        (header({"dict": [[[1], 2]]}), "dict key of type list"),
        (header({"dict": [1, 2]}), "could not be read"),
    ],
)
def test_refuses_bad_headers(tmp_path, document, reason):
    path = write_bytes(tmp_path, archive_with(document, t0=np.ones(2)).getvalue())
    assert_refused(path, reason)


def test_refuses_a_header_that_is_not_json(tmp_path):
    buffer = io.BytesIO()
    np.savez(buffer, **{serialization.HEADER_ENTRY: np.frombuffer(b"\xff{not json", dtype=np.uint8)})
    assert_refused(write_bytes(tmp_path, buffer.getvalue()), "not valid UTF-8 JSON")


def test_the_archive_is_a_plain_npz_that_numpy_reads_without_pickle(tmp_path):
    chainrule.save({"weight": chainrule.ones(2, 3)}, tmp_path / "model.npz")
    with zipfile.ZipFile(tmp_path / "model.npz") as archive:
        assert sorted(archive.namelist()) == ["__chainrule__.npy", "t0.npy"]
    with np.load(tmp_path / "model.npz", allow_pickle=False) as archive:
        description = json.loads(archive["__chainrule__"].tobytes())
        assert description["format"] == "chainrule.checkpoint" and description["version"] == 1
        np.testing.assert_array_equal(archive["t0"], np.ones((2, 3), dtype=np.float32))


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        chainrule.load(tmp_path / "nope.npz")
