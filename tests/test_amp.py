"""chainrule.amp: autocast keeps float32; GradScaler scales, unscales, skips and adapts as PyTorch's."""
import warnings

import numpy as np
import pytest
import torch

import chainrule


def test_autocast_is_a_silent_context_manager_and_decorator_on_cpu():
    x = chainrule.randn(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with chainrule.autocast("cpu"):
            inside = x @ x.T
        with chainrule.amp.autocast(device_type="cpu", dtype=chainrule.float16, enabled=True):
            pass

        @chainrule.amp.autocast("cpu")
        def product(a):
            return a @ a.T

        assert product(x).dtype == chainrule.float32
    assert inside.dtype == chainrule.float32
    np.testing.assert_array_equal(inside.numpy(), (x @ x.T).numpy())


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.amp.autocast("cuda"),
        lambda lib: lib.autocast("cpu", dtype=lib.float64),
        lambda lib: lib.cuda.amp.autocast(),
        lambda lib: lib.cuda.amp.GradScaler(),
        lambda lib: lib.amp.GradScaler(),
    ],
)
def test_warnings_match_pytorch(make):
    with pytest.warns(Warning) as expected:
        make(torch)
    with pytest.warns(Warning) as got:
        make(chainrule)
    assert [(w.category, str(w.message)) for w in got] == [(w.category, str(w.message)) for w in expected]


def test_autocast_refuses_an_unknown_device():
    with pytest.raises(RuntimeError) as expected:
        torch.amp.autocast("xyz")
    with pytest.raises(RuntimeError) as got:
        chainrule.amp.autocast("xyz")
    assert str(got.value) == str(expected.value)


def run_scaler(lib, scaler, gradients):
    parameter = lib.nn.Parameter(lib.ones(2, dtype=lib.float64))
    optimizer = lib.optim.SGD([parameter], lr=0.1)
    history = []
    for gradient in gradients:
        optimizer.zero_grad()
        loss = scaler.scale((parameter * lib.tensor(gradient, dtype=lib.float64)).sum())
        loss.backward()
        scaled = parameter.grad.clone()
        scaler.unscale_(optimizer)
        scaler.step(optimizer)
        scaler.update()
        history.append((loss.item(), scaled.tolist(), parameter.tolist(), scaler.get_scale(), scaler.state_dict()))
    return history


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_grad_scaler_matches_pytorch(device):
    gradients = [[1.0, 2.0], [float("inf"), 1.0], [0.5, -1.0], [0.5, -1.0], [1.0, 1.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = run_scaler(chainrule, chainrule.amp.GradScaler(device, growth_interval=2), gradients)
        theirs = run_scaler(torch, torch.amp.GradScaler(device, growth_interval=2), gradients)
    assert ours == theirs
    assert chainrule.GradScaler is chainrule.amp.GradScaler and torch.GradScaler is torch.amp.GradScaler  # torch.GradScaler


def test_grad_scaler_errors_and_state():
    scaler, torch_scaler = chainrule.amp.GradScaler("cpu"), torch.amp.GradScaler("cpu")
    for lib, each in ((chainrule, scaler), (torch, torch_scaler)):
        parameter = lib.nn.Parameter(lib.ones(1))
        optimizer = lib.optim.SGD([parameter], lr=0.1)
        each.scale(parameter.sum()).backward()
        each.unscale_(optimizer)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
            each.unscale_(optimizer)
        with pytest.raises(ValueError, match="outputs must be a Tensor"):
            each.scale(3.0)
    assert scaler.state_dict() == torch_scaler.state_dict()
    restored = chainrule.amp.GradScaler("cpu")
    restored.load_state_dict({**scaler.state_dict(), "scale": 8.0})
    assert restored.get_scale() == 8.0
    assert [t.tolist() for t in scaler.scale([chainrule.tensor(1.0), (chainrule.tensor(2.0),)])[1]] == [131072.0]
