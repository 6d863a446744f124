"""chainrule.cuda answers as torch.cuda does on a machine without CUDA."""
import importlib

import pytest
import torch

import chainrule

ANSWERS = ["is_available", "device_count", "is_initialized", "is_bf16_supported", "memory_allocated", "max_memory_allocated", "memory_reserved"]
RAISES = ["synchronize", "current_device", "get_device_name", "get_device_properties", "get_rng_state", "initial_seed"]


def test_is_an_importable_module():
    module = importlib.import_module("chainrule.cuda")
    assert module is chainrule.cuda and importlib.import_module("chainrule.cuda.amp") is chainrule.cuda.amp


@pytest.mark.parametrize("name", ANSWERS)
def test_answers_as_pytorch_without_cuda(name):
    assert getattr(chainrule.cuda, name)() == getattr(torch.cuda, name)()


@pytest.mark.parametrize("name", RAISES)
def test_device_calls_raise_as_pytorch_without_cuda(name):
    arguments = (0,) if name == "get_device_properties" else ()
    with pytest.raises(AssertionError) as expected:
        getattr(torch.cuda, name)(*arguments)
    with pytest.raises(AssertionError) as got:
        getattr(chainrule.cuda, name)(*arguments)
    assert str(got.value) == str(expected.value)


def test_seeding_and_emptying_the_cache_do_nothing():
    for name in ("manual_seed", "manual_seed_all"):
        assert getattr(chainrule.cuda, name)(0) is None
    assert chainrule.cuda.empty_cache() is None and chainrule.cuda.seed() is None


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda lib: lib.cuda.Stream(), RuntimeError),
        (lambda lib: lib.cuda.Event(enable_timing=True), RuntimeError),
        (lambda lib: lib.cuda.graphs.CUDAGraph(), RuntimeError),
        (lambda lib: lib.cuda.current_stream(), AssertionError),
        (lambda lib: lib.cuda.default_stream(), AssertionError),
    ],
)
def test_stream_event_and_graph_classes_exist_and_refuse_to_be_made_as_pytorchs(make, error):
    """(code names them in annotations and timing helpers guarded by is_available())"""
    for lib in (chainrule, torch):
        with pytest.raises(error) as caught:
            make(lib)
    with pytest.raises(error, match=str(caught.value).split(" (")[0]):
        make(chainrule)
    with chainrule.cuda.stream(None):
        pass


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_stream_context_and_graph_capture_as_pytorchs(lib):
    """(transformers' continuous batching annotates with torch.cuda.StreamContext and torch.cuda.graph)"""
    with lib.cuda.StreamContext(None) as selected:
        assert selected is None
    assert isinstance(lib.cuda.stream(None), lib.cuda.StreamContext)
    with pytest.raises(RuntimeError, match="requires CUDA support"):
        lib.cuda.graph(None)
    assert len(lib.cuda.default_generators) == 0  # (Reformer seeds from it when a device has one)


def test_a_tensor_cannot_be_its_own_gradient():
    for lib in (chainrule, torch):
        x = lib.ones(2)
        with pytest.raises(RuntimeError, match="can't assign Variable as its own grad"):
            x.grad = x
