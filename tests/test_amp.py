"""chainrule.amp: autocast computes in float16 as PyTorch's CPU autocast; GradScaler scales, unscales, skips and adapts as PyTorch's."""
import contextlib
import warnings

import numpy as np
import pytest
import torch

import chainrule


def test_autocast_float16_on_cpu_computes_as_pytorch_as_a_context_manager_and_a_decorator():
    x = chainrule.randn(3, 4)
    reference = torch.tensor(x.numpy())
    with torch.autocast("cpu", dtype=torch.float16):
        expected = reference @ reference.T
    with chainrule.autocast("cpu", dtype=chainrule.float16):
        inside = x @ x.T

    @chainrule.amp.autocast("cpu", dtype=chainrule.float16)
    def product(a):
        return a @ a.T

    assert inside.dtype == product(x).dtype == chainrule.float16 and (x @ x.T).dtype == chainrule.float32
    np.testing.assert_allclose(inside.numpy(), expected.numpy(), rtol=1e-3, atol=1e-3)


def test_autocast_in_bfloat16_which_chainrule_lacks_warns_and_keeps_float32():
    x = chainrule.randn(3, 4)
    for make in (lambda: chainrule.autocast("cpu"), lambda: chainrule.autocast("cpu", dtype=chainrule.bfloat16)):
        with pytest.warns(UserWarning, match="not supported. Disabling autocast.\nchainrule has no bfloat16"):
            region = make()
        assert region.fast_dtype == chainrule.bfloat16
        with region:
            inside = x @ x.T
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


def _autocast_training(compiled, region_inside, flags):
    """Losses, outputs and final parameters of SGD steps on a 3-4-2 MLP, autocast in float16 on the
    calls ``flags`` says, entered inside the (compiled or eager) step (reading the flag from a dict,
    as a training loop's config) or around its call."""
    chainrule.manual_seed(0)
    model = chainrule.nn.Sequential(chainrule.nn.Linear(3, 4), chainrule.nn.Tanh(), chainrule.nn.Linear(4, 2))
    optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)
    config = {"amp": False}

    def in_region(x):
        with chainrule.autocast("cpu", dtype=chainrule.float16, enabled=config["amp"]):
            return model(x)

    forward = in_region if region_inside else model

    def step(x):
        optimizer.zero_grad()
        out = forward(x)
        loss = out.float().pow(2).mean()
        loss.backward()
        optimizer.step()
        return loss, out

    run = chainrule.compile(step) if compiled else step
    seen = []
    for amp in flags:
        config["amp"] = amp
        x = chainrule.randn(5, 3)
        with contextlib.nullcontext() if region_inside else chainrule.autocast("cpu", dtype=chainrule.float16, enabled=amp):
            loss, out = run(x)
        seen.append((loss.item(), str(out.dtype), out.tolist()))
    return seen, [parameter.tolist() for parameter in model.parameters()]


@pytest.mark.parametrize("region_inside", [True, False], ids=["region_in_the_step", "step_called_in_a_region"])
def test_a_compiled_step_under_autocast_computes_as_eager(region_inside):
    """A region inside a compiled step is recorded with its casts; a compiled step called inside a
    region runs eagerly (a replayed program would pass autocast by): both as eager, call by call."""
    flags = [True, True, False, True, False, False]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning either way
        compiled = _autocast_training(True, region_inside, flags)
    eager = _autocast_training(False, region_inside, flags)
    assert compiled == eager
    assert [dtype for _, dtype, _ in eager[0]] == ["chainrule.float16"] * 2 + ["chainrule.float32", "chainrule.float16"] + ["chainrule.float32"] * 2


@pytest.mark.parametrize("device_name, device_type", [("cpu", "cpu"), ("xla", "xla")])
def test_device_named_autocast_functions_are_the_general_ones_with_pytorchs_deprecation(device_name, device_type):
    """``torch.set_autocast_cpu_enabled(True)`` and friends (older code, Lightning 1.x): the general
    functions for that device, each with PyTorch's DeprecationWarning naming the general form."""
    for lib in (chainrule, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            before_enabled, before_dtype = lib.is_autocast_enabled(device_type), lib.get_autocast_dtype(device_type)
            getattr(lib, f"set_autocast_{device_name}_enabled")(True)
            getattr(lib, f"set_autocast_{device_name}_dtype")(lib.float16)
            try:
                assert getattr(lib, f"is_autocast_{device_name}_enabled")() is True
                assert lib.is_autocast_enabled(device_type) is True
                assert getattr(lib, f"get_autocast_{device_name}_dtype")() == lib.float16 == lib.get_autocast_dtype(device_type)
            finally:
                lib.set_autocast_enabled(device_type, before_enabled)
                lib.set_autocast_dtype(device_type, before_dtype)
        messages = [str(warning.message) for warning in caught if warning.category is DeprecationWarning]
        assert len(messages) == 4, (lib.__name__, messages)
        assert messages[0].startswith(  # (PyTorch's adds where in its C++ it was triggered)
            f"torch.set_autocast_{device_name}_enabled(enabled) is deprecated. Please use "
            f"torch.set_autocast_enabled('{device_type}', enabled) instead."
        )


def test_device_named_autocast_functions_are_the_ones_pytorch_has():
    named = {name for name in dir(torch) if name.startswith(("is_autocast_", "set_autocast_", "get_autocast_"))}
    assert named <= set(dir(chainrule)), sorted(named - set(dir(chainrule)))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert chainrule.get_autocast_gpu_dtype() == chainrule.float16 and torch.get_autocast_gpu_dtype() == torch.float16
    assert not hasattr(chainrule, "set_autocast_gpu_enabled")


def test_out_of_memory_errors_are_named_as_in_pytorch():
    """``except torch.OutOfMemoryError`` / ``torch.cuda.OutOfMemoryError`` (retry with a smaller batch)."""
    for lib in (chainrule, torch):
        assert lib.cuda.OutOfMemoryError is lib.OutOfMemoryError
        assert issubclass(lib.OutOfMemoryError, RuntimeError) and issubclass(lib.AcceleratorError, RuntimeError)
        assert lib.OutOfMemoryError.__name__ == "OutOfMemoryError"
