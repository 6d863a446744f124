"""The process-wide switches of PyTorch's utilities: their state and checks as in PyTorch, and what
they do here (threads: NumPy's BLAS threads; every operation is deterministic already)."""
import sys
import warnings

import numpy as np
import pytest
import torch

import chainrule


@pytest.fixture(autouse=True)
def _switches_off():
    threads = chainrule.get_num_threads()
    yield
    chainrule.use_deterministic_algorithms(False)
    torch.use_deterministic_algorithms(False)
    chainrule.set_float32_matmul_precision("highest")
    torch.set_float32_matmul_precision("highest")
    chainrule.set_num_threads(threads)


def _state(lib):
    return (
        lib.are_deterministic_algorithms_enabled(),
        lib.is_deterministic_algorithms_warn_only_enabled(),
        lib.get_deterministic_debug_mode(),
    )


@pytest.mark.parametrize(
    "calls",
    [
        [("use", (True,), {})],
        [("use", (True,), {"warn_only": True})],
        [("use", (True,), {}), ("use", (False,), {"warn_only": True})],
        [("debug", ("warn",), {})],
        [("debug", ("error",), {}), ("debug", (0,), {})],
        [("debug", (1,), {}), ("use", (True,), {})],
    ],
)
def test_the_switches_read_back_as_in_pytorch(calls):
    assert _state(chainrule) == _state(torch) == (False, False, 0)
    for lib in (chainrule, torch):
        for which, args, kwargs in calls:
            setter = lib.use_deterministic_algorithms if which == "use" else lib.set_deterministic_debug_mode
            setter(*args, **kwargs)
    assert _state(chainrule) == _state(torch)


@pytest.mark.parametrize(
    ("setter", "args", "kwargs"),
    [
        ("use_deterministic_algorithms", (1,), {}),
        ("use_deterministic_algorithms", (None,), {}),
        ("use_deterministic_algorithms", (True,), {"warn_only": 1}),
        ("set_deterministic_debug_mode", ("sometimes",), {}),
        ("set_deterministic_debug_mode", (3,), {}),
        ("set_deterministic_debug_mode", (1.0,), {}),
    ],
)
def test_bad_values_raise_pytorchs_error_and_change_nothing(setter, args, kwargs):
    with pytest.raises(Exception) as expected:
        getattr(torch, setter)(*args, **kwargs)
    with pytest.raises(expected.type) as raised:
        getattr(chainrule, setter)(*args, **kwargs)
    assert str(args[0]) in str(raised.value) or type(args[0]).__name__ in str(raised.value)
    assert _state(chainrule) == (False, False, 0)


def test_a_deterministic_run_repeats_bit_for_bit():
    chainrule.use_deterministic_algorithms(True)
    results = []
    for _ in range(2):
        chainrule.manual_seed(0)
        model = chainrule.nn.Sequential(chainrule.nn.Linear(4, 8), chainrule.nn.ReLU(), chainrule.nn.Linear(8, 1))
        x = chainrule.randn(16, 4)
        model(x).square().mean().backward()
        results.append(model[0].weight.grad.numpy().copy())
    assert (results[0] == results[1]).all()


def test_set_num_threads_sets_the_blas_threads_that_get_num_threads_reads():
    from threadpoolctl import threadpool_info

    for count in (1, 3):
        chainrule.set_num_threads(count)
        assert chainrule.get_num_threads() == count
        assert {library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"} == {count}
    a = np.ones((64, 64), np.float32)
    assert (chainrule.from_numpy(a) @ chainrule.from_numpy(a)).numpy()[0, 0] == 64.0


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_set_num_threads_refuses_what_pytorch_refuses_and_keeps_the_count(bad):
    before = chainrule.get_num_threads()
    if not isinstance(bad, bool):
        with pytest.raises(RuntimeError):
            torch.set_num_threads(bad)
    with pytest.raises(RuntimeError, match="set_num_threads expects"):
        chainrule.set_num_threads(bad)
    assert chainrule.get_num_threads() == before


def test_without_threadpoolctl_set_num_threads_warns_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import fails as if it were not installed
    with pytest.warns(RuntimeWarning, match=r"chainrule\[threads\]"):
        chainrule.set_num_threads(1)
    assert chainrule.get_num_threads() == 1  # the number set, when the BLAS cannot be asked


@pytest.mark.parametrize("calls", [["high"], ["medium", "highest"], ["high", "bad"]])
def test_float32_matmul_precision_reads_back_as_in_pytorch(calls):
    for lib in (chainrule, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for precision in calls:
                lib.set_float32_matmul_precision(precision)
        assert len(caught) == ("bad" in calls)
    assert chainrule.get_float32_matmul_precision() == torch.get_float32_matmul_precision()


def test_float32_matmul_precision_must_be_a_string():
    with pytest.raises(RuntimeError, match="expects a str"):
        chainrule.set_float32_matmul_precision(3)
    assert chainrule.get_float32_matmul_precision() == "highest"


def test_interop_threads_can_be_set_once_as_in_pytorch(monkeypatch):
    from chainrule import settings

    monkeypatch.setattr(settings, "_state", dict(settings._state))
    settings._state.pop("interop_threads", None)
    assert chainrule.get_num_interop_threads() >= 1
    with pytest.raises(RuntimeError, match="positive integer"):
        chainrule.set_num_interop_threads(0)
    chainrule.set_num_interop_threads(3)
    assert chainrule.get_num_interop_threads() == 3
    with pytest.raises(RuntimeError, match="cannot set number of interop threads"):
        chainrule.set_num_interop_threads(2)


def test_thread_counts_on_a_system_without_cpu_affinity(monkeypatch):
    """macOS and Windows have no os.sched_getaffinity: the counts fall back on the machine's CPUs."""
    import os

    from chainrule import settings

    monkeypatch.setattr(settings, "_state", dict(settings._state))
    settings._state.pop("interop_threads", None)
    settings._state.pop("num_threads", None)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # the BLAS cannot be asked either
    assert chainrule.get_num_interop_threads() == 6
    assert chainrule.get_num_threads() == 6


def test_get_device_module_and_the_cpu_module():
    assert chainrule.get_device_module() is chainrule.cpu is chainrule.get_device_module("cpu")
    assert chainrule.get_device_module(chainrule.device("cuda", 0)) is chainrule.cuda
    assert torch.get_device_module("cpu") is torch.cpu and torch.get_device_module("cuda") is torch.cuda
    with pytest.raises(RuntimeError, match="does not have a corresponding module"):
        chainrule.get_device_module("xla")
    cpu = chainrule.cpu
    assert (cpu.is_available(), cpu.device_count(), cpu.current_device()) == (torch.cpu.is_available(), torch.cpu.device_count(), torch.cpu.current_device())
    cpu.synchronize()
    with cpu.stream(cpu.current_stream()):
        assert cpu.Event().query()


def test_warn_always_repeats_the_warnings_given_once(monkeypatch):
    import math

    from chainrule import caller_warnings

    monkeypatch.setattr(caller_warnings, "_given", {"scalar of a graph"})  # given once already
    loss = chainrule.tensor(1.0, requires_grad=True) * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        math.exp(loss)  # once per process: not again
    chainrule.set_warn_always(True)
    try:
        assert chainrule.is_warn_always_enabled()
        with pytest.warns(UserWarning, match="requires_grad=True to a scalar"):
            math.exp(loss)
    finally:
        chainrule.set_warn_always(False)
    with pytest.raises(RuntimeError, match="expects a bool"):
        chainrule.set_warn_always(1)
    assert chainrule.is_warn_always_enabled() is torch.is_warn_always_enabled() is False
