"""add_safe_globals, safe_globals, get_unsafe_globals_in_checkpoint: a class the user trusts loads
under weights_only=True, nothing else does, exactly as in PyTorch."""
import dataclasses
import io
import os
import pickle

import pytest
import torch

import chainrule
from chainrule import serialization

RAN = []


@dataclasses.dataclass
class Config:
    lr: float
    sizes: list


class Trap:
    def __reduce__(self):
        return (RAN.append, ("ran",))


class Lookup:
    """A pickle that asks getattr for something other than a tensor class's rebuilder."""

    def __reduce__(self):
        return (getattr, (Config, "mro"))


class OsCall:
    def __reduce__(self):
        return (os.getcwd, ())


@pytest.fixture(autouse=True)
def empty_allowlists():
    serialization.clear_safe_globals()
    torch.serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()
    torch.serialization.clear_safe_globals()


def saved(library, obj):
    buffer = io.BytesIO()
    library.save(obj, buffer)
    return buffer.getvalue()


NAME = f"{__name__}.Config"


@pytest.mark.parametrize("library", [torch, chainrule], ids=["torch", "chainrule"])
def test_a_trusted_class_loads_only_while_allowed(library):
    data = saved(library, {"config": Config(0.1, [2, 3]), "w": library.ones(2)})
    with pytest.raises(pickle.UnpicklingError, match=f"Unsupported global: GLOBAL {NAME} was not an allowed global by default"):
        library.load(io.BytesIO(data))
    with library.serialization.safe_globals([Config]):
        assert library.serialization.get_safe_globals() == [Config] or Config in library.serialization.get_safe_globals()
        loaded = library.load(io.BytesIO(data))
    assert loaded["config"] == Config(0.1, [2, 3]) and loaded["w"].tolist() == [1.0, 1.0]
    assert Config not in library.serialization.get_safe_globals()
    with pytest.raises(pickle.UnpicklingError):
        library.load(io.BytesIO(data))


def test_add_safe_globals_lasts_until_cleared_and_takes_names():
    data = saved(chainrule, Config(0.5, []))
    serialization.add_safe_globals([(Config, NAME)])
    assert chainrule.load(io.BytesIO(data)) == Config(0.5, [])
    assert serialization.get_safe_globals() == [(Config, NAME)]
    serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError, match="add_safe_globals"):
        chainrule.load(io.BytesIO(data))
    serialization.add_safe_globals([(Config, "elsewhere.Config")])  # the file names it otherwise: still refused
    with pytest.raises(pickle.UnpicklingError):
        chainrule.load(io.BytesIO(data))


def test_a_class_pytorch_saved_loads_when_allowed():
    data = saved(torch, {"config": Config(1e-3, [4]), "w": torch.arange(3.0)})
    with pytest.raises(pickle.UnpicklingError, match=f"GLOBAL {NAME}"):
        chainrule.load(io.BytesIO(data))
    with serialization.safe_globals([Config]):
        loaded = chainrule.load(io.BytesIO(data))
    assert loaded["config"] == Config(1e-3, [4]) and loaded["w"].tolist() == [0.0, 1.0, 2.0]


def test_unsafe_globals_are_listed_as_pytorch_lists_them():
    state = {"w": torch.ones(2), "config": Config(0.1, [1]), "names": frozenset(["a"])}
    torch_data = saved(torch, state)
    expected = sorted(torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(torch_data)))
    assert sorted(serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(torch_data))) == expected == sorted([NAME, "builtins.frozenset"])
    ours = saved(chainrule, {"w": chainrule.ones(2), "config": Config(0.1, [1]), "names": frozenset(["a"])})
    assert sorted(serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(ours))) == expected
    with serialization.safe_globals([Config, frozenset]):
        assert serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(ours)) == []
        assert serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(torch_data)) == []
    assert serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(saved(chainrule, {"w": chainrule.ones(2)}))) == []
    assert serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(saved(torch, {"w": torch.ones(2), "step": 3}))) == []
    with pytest.raises(ValueError, match="Expected input to be a checkpoint"):
        serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(b"not a checkpoint"))


@pytest.mark.parametrize("library", [torch, chainrule], ids=["torch", "chainrule"])
def test_code_stays_refused_and_unrun(library):
    data = saved(library, {"trap": Trap()})
    with pytest.raises(pickle.UnpicklingError):
        library.load(io.BytesIO(data))
    with library.serialization.safe_globals([os.getcwd]):  # os is blocked whatever the allowlist says
        with pytest.raises(pickle.UnpicklingError, match="whose module (os|posix) is blocked"):
            library.load(io.BytesIO(saved(library, OsCall())))
    assert RAN == []


def test_getattr_reaches_only_a_tensor_rebuilder():
    data = saved(chainrule, {"lookup": Lookup()})
    with serialization.safe_globals([Config]), pytest.raises(pickle.UnpicklingError, match="GLOBAL getattr"):
        chainrule.load(io.BytesIO(data))


class Tagged(chainrule.Tensor):
    pass


def test_a_trusted_tensor_subclass_keeps_its_class_and_attributes():
    tagged = chainrule.ones(2).as_subclass(Tagged)
    tagged.note = "kept"
    data = saved(chainrule, {"t": tagged})
    with pytest.raises(pickle.UnpicklingError, match=f"GLOBAL {__name__}.Tagged"):
        chainrule.load(io.BytesIO(data))
    with serialization.safe_globals([Tagged]):
        loaded = chainrule.load(io.BytesIO(data))["t"]
    assert type(loaded) is Tagged and loaded.note == "kept" and loaded.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("library", [torch, chainrule], ids=["torch", "chainrule"])
@pytest.mark.parametrize("entry, error", [((Config, "a", "b"), ValueError), ((Config, 3), TypeError)])
def test_malformed_entries_are_refused_at_load(library, entry, error):
    data = saved(library, {"w": library.ones(1), "c": Config(0.0, [])})
    library.serialization.add_safe_globals([entry])
    with pytest.raises(error, match="Expected"):
        library.load(io.BytesIO(data))


def _a_hook(module, args, output):
    return None


@pytest.mark.parametrize("library", [torch, chainrule], ids=["torch", "chainrule"])
def test_a_whole_module_loads_under_weights_only_with_its_classes_allowed(library):
    """pytorch/examples' super_resolution and word_language_model save whole models and load them
    under safe_globals of their layer classes, named where PyTorch keeps them."""
    model = library.nn.Sequential(library.nn.Linear(2, 3), library.nn.ReLU())
    model.register_forward_hook(_a_hook)  # registries with and without hooks
    data = saved(library, library.nn.ModuleDict({"model": model}))
    allowed = [library.nn.ModuleDict, library.nn.Sequential, library.nn.modules.linear.Linear, library.nn.ReLU]
    with pytest.raises(pickle.UnpicklingError):
        library.load(io.BytesIO(data))
    with library.serialization.safe_globals(allowed):
        with pytest.raises(pickle.UnpicklingError):  # the hook is a function no one allowed
            library.load(io.BytesIO(data))
        model._forward_hooks.clear()
        loaded = library.load(io.BytesIO(saved(library, model)))
    assert [type(layer) for layer in loaded] == [library.nn.Linear, library.nn.ReLU]
    assert loaded[0].weight.tolist() == model[0].weight.tolist()
    loaded.register_forward_hook(lambda module, args, output: output * 0)  # its registries are the working kind
    assert loaded(library.ones(1, 2)).tolist() == [[0.0, 0.0, 0.0]]


def test_layers_are_found_where_pytorch_keeps_them():
    for torch_class in vars(torch.nn).values():
        if isinstance(torch_class, type) and torch_class.__module__.startswith("torch.nn.modules."):
            place = chainrule.nn.modules
            for part in torch_class.__module__.split(".")[3:]:
                place = getattr(place, part)
            name = torch_class.__name__
            if hasattr(chainrule.nn, name):
                assert getattr(place, name) is getattr(chainrule.nn, name), f"{torch_class.__module__}.{name}"


class Outer:
    class Nested:
        def __init__(self):
            self.value = 3


@pytest.mark.parametrize("library", [torch, chainrule], ids=["torch", "chainrule"])
def test_a_nested_class_loads_when_getattr_is_allowed_too(library):
    """pickle names a nested class through getattr(Outer, "Nested"): allowed with getattr, as PyTorch allows it."""
    data = saved(library, {"nested": Outer.Nested(), "w": library.ones(2)})
    with library.serialization.safe_globals([Outer, Outer.Nested]):
        with pytest.raises(pickle.UnpicklingError):
            library.load(io.BytesIO(data))
    with library.serialization.safe_globals([Outer, getattr, Outer.Nested]):
        loaded = library.load(io.BytesIO(data))
    assert loaded["nested"].value == 3 and loaded["w"].tolist() == [1.0, 1.0]


def test_a_damaged_checkpoint_is_the_runtime_error_pytorch_code_catches():
    data = saved(chainrule, {"w": chainrule.ones(3)})
    with pytest.raises(RuntimeError, match="not a checkpoint chainrule can read"):
        chainrule.load(io.BytesIO(data[: len(data) // 2]))
