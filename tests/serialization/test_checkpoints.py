"""Checkpoints: round trips of plain data, and the same state dicts read and written by PyTorch."""
import io
import math

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import chainrule
from chainrule import nn


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
            "transposed": chainrule.arange(6.0).reshape(2, 3).t(),
        },
        "optimizer": {
            "state": {0: {"step": chainrule.tensor(3.0), "momentum_buffer": None}, 12: {"tied": shared}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "params": [0, 12]}],
        },
        "epoch": 7,
        "best": math.inf,
        "history": [0.5, 0.25, -1e-300, math.nan],
        "note": "résumé ✓",
        "flags": (True, None, 10**30),
        "raw": np.arange(6, dtype=np.int16).reshape(2, 3),
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
        np.testing.assert_array_equal(loaded._array, original._array, err_msg=where)
    elif isinstance(original, (np.ndarray, np.generic)):
        assert loaded.dtype == original.dtype, where
        np.testing.assert_array_equal(loaded, original, err_msg=where)
    elif isinstance(original, float) and math.isnan(original):
        assert math.isnan(loaded), where
    else:
        assert loaded == original, where


def test_round_trip_keeps_structure_types_and_dtypes(tmp_path):
    original = nested_state()
    chainrule.save(original, tmp_path / "state.pt")
    loaded = chainrule.load(tmp_path / "state.pt")
    assert_same(loaded, original)
    model, optimizer = loaded["model"], loaded["optimizer"]
    assert model["layer.weight"] is optimizer["state"][12]["tied"], "a shared tensor stays shared"
    assert set(optimizer["state"]) == {0, 12}, "int keys come back as ints"


def test_the_file_is_plain_safetensors_with_entries_named_by_their_keys(tmp_path):
    chainrule.save(nested_state(), tmp_path / "state.safetensors")
    arrays = safetensors.numpy.load_file(tmp_path / "state.safetensors")
    assert "model.layer.weight" in arrays and "optimizer.state.0.step" in arrays
    assert "optimizer.state.12.tied" not in arrays, "a shared tensor is stored once"
    np.testing.assert_array_equal(arrays["model.counts"], [1, 2, 3])


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
    chainrule.save({"w": weight}, tmp_path / "w.pt")
    loaded = chainrule.load(tmp_path / "w.pt")["w"]
    loaded._array += 1
    assert weight.tolist() == [1.0, 1.0] and loaded.tolist() == [2.0, 2.0]


def mlp():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def torch_mlp():
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))


def test_a_chainrule_state_dict_loads_into_pytorch(tmp_path):
    model = mlp()
    chainrule.save(model.state_dict(), tmp_path / "model.safetensors")
    theirs = torch_mlp()
    theirs.load_state_dict(safetensors.torch.load_file(tmp_path / "model.safetensors"))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(), model(chainrule.tensor(x))._array, rtol=1e-5, atol=1e-6)


def test_a_pytorch_state_dict_loads_into_chainrule(tmp_path):
    theirs = torch_mlp()
    safetensors.torch.save_file(theirs.state_dict(), tmp_path / "model.safetensors")
    model = mlp()
    model.load_state_dict(chainrule.load(tmp_path / "model.safetensors"))
    for (name, mine), theirs_value in zip(model.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_array_equal(mine._array, theirs_value.numpy(), err_msg=name)
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(model(chainrule.tensor(x))._array, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_optimizer_and_scheduler_state_round_trip(tmp_path):
    model = mlp()
    optimizer = chainrule.optim.Adam(model.parameters(), lr=0.1)
    scheduler = chainrule.optim.lr_scheduler.StepLR(optimizer, step_size=2)
    model(chainrule.randn(4, 3)).sum().backward()
    optimizer.step()
    scheduler.step()
    chainrule.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp_path / "opt.pt")
    loaded = chainrule.load(tmp_path / "opt.pt")
    assert_same(loaded["optimizer"], optimizer.state_dict())
    assert_same(loaded["scheduler"], scheduler.state_dict())
    fresh = chainrule.optim.Adam(mlp().parameters(), lr=0.1)
    fresh.load_state_dict(loaded["optimizer"])


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        chainrule.load(tmp_path / "nope.pt")
