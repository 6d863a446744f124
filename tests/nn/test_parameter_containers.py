"""ParameterList and ParameterDict behave as PyTorch's: registration names, wrapping of tensors,
list and dict operations, repr, state dicts, and training through them."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn


def build_list(lib):
    values = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.zeros(2)])
    values.append(lib.ones(1, dtype=lib.float64))
    values += [lib.ones(4)]
    values.extend([lib.zeros(3, 1)])
    values[0] = lib.ones(5)
    return values


def build_dict(lib):
    values = lib.nn.ParameterDict({"b": lib.ones(2), "a": lib.nn.Parameter(lib.ones(3, dtype=lib.float64))})
    values.update(OrderedDict([("z", lib.zeros(1)), ("c", lib.ones(2, 2))]))
    values.update([("y", lib.zeros(2))])
    values["x"] = lib.ones(3)
    values.setdefault("w", lib.ones(1))
    del values["c"]
    return values


def described(module, lib):
    return (
        repr(module).replace(lib.__name__, "LIB"),
        [(name, tuple(parameter.shape), parameter.requires_grad, type(parameter).__name__) for name, parameter in module.named_parameters()],
        list(module.state_dict()),
    )


@pytest.mark.parametrize("build", [build_list, build_dict])
def test_names_repr_and_state_dict_match_torch(build):
    assert described(build(chainrule), chainrule) == described(build(torch), torch)


def test_list_operations_match_torch():
    for lib in (chainrule, torch):
        values = build_list(lib)
        assert len(values) == 5
        assert values[-1].shape == (3, 1)
        assert len(values[1:4]) == 3 and type(values[1:4]).__name__ == "ParameterList"
        assert [tuple(value.shape) for value in values[::2]] == [(5,), (1,), (3, 1)]
        assert all(isinstance(value, lib.nn.Parameter) for value in values)
        with pytest.raises(IndexError):
            values[5]
        with pytest.raises(TypeError, match="should be called with an iterable"):
            values.extend(lib.ones(2))
        with pytest.raises(RuntimeError, match="ParameterList should not be called"):
            values()
        assert "0" not in dir(values)


def test_dict_operations_match_torch():
    for lib in (chainrule, torch):
        values = build_dict(lib)
        assert list(values) == ["a", "b", "z", "y", "x", "w"]
        assert list(reversed(values))[0] == "w"
        assert "a" in values and "c" not in values and values.get("c") is None
        key, popped = values.popitem()
        assert key == "w" and popped.shape == (1,)
        assert values.pop("z").shape == (1,) and len(values) == 4
        copied = values.copy()
        assert list(copied) == list(values) and copied["a"] is values["a"]
        assert list(values.fromkeys(["p", "q"])) == ["p", "q"]
        assert [key for key, _ in values.items()] == list(values.keys())
        with pytest.raises(TypeError, match="not a string"):
            values[1]
        with pytest.raises(ValueError, match="has length 3; 2 is required"):
            values.update([("a", 1, 2)])
        with pytest.raises(RuntimeError, match="ParameterDict should not be called"):
            values(lib.ones(1))
        values.clear()
        assert len(values) == 0 and not list(values.parameters())


def test_training_through_containers_matches_torch():
    losses = []
    for lib in (chainrule, torch):

        class Model(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.scales = lib.nn.ParameterList([lib.tensor([1.0, 2.0]), lib.tensor([0.5, -1.0])])
                self.shifts = lib.nn.ParameterDict({"first": lib.tensor([0.1, 0.2])})

            def forward(self, x):
                for scale in self.scales:
                    x = x * scale
                return x + self.shifts["first"]

        model = Model()
        optimizer = lib.optim.SGD(model.parameters(), lr=0.02)
        data = lib.tensor(np.arange(6.0).reshape(3, 2), dtype=lib.float32)
        history = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = (model(data) ** 2).mean()
            loss.backward()
            optimizer.step()
            history.append(loss.item())
        losses.append(history)
        assert [name for name, _ in model.named_parameters()] == ["scales.0", "scales.1", "shifts.first"]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    assert losses[0][-1] < losses[0][0]


def test_state_dict_round_trip_with_torch():
    theirs = build_dict(torch)
    ours = nn.ParameterDict({key: chainrule.zeros(*value.shape, dtype=chainrule.float64 if value.dtype == torch.float64 else chainrule.float32) for key, value in theirs.items()})
    ours.load_state_dict({key: chainrule.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})
    for key, value in theirs.items():
        np.testing.assert_array_equal(ours[key]._array, value.detach().numpy())
