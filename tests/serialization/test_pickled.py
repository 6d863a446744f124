"""Whole objects: saved pickled behind weights_only, and tensors, modules and optimizers that pickle
and deep-copy at any time with PyTorch's semantics."""
import copy
import io
import json
import pickle
import struct

import numpy as np
import pytest
import safetensors.numpy
import torch

import chainrule
from chainrule import nn, optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 5)
        self.out = nn.Linear(5, 2)
        self.register_buffer("scale", chainrule.tensor(2.0))

    def forward(self, x):
        return self.out(chainrule.relu(self.hidden(x))) * self.scale


def trained(lib, model):
    model(lib.ones(4, 3)).sum().backward()
    return model


def test_a_whole_model_is_refused_by_default_and_loads_with_weights_only_false(tmp_path):
    model = trained(chainrule, Net())
    chainrule.save(model, tmp_path / "net.pt")
    with pytest.raises(pickle.UnpicklingError, match=r"(?s)Weights only load failed\. .*net.pt holds a pickled object \(saved as a pickle because obj is a Net.*import tests.serialization.test_pickled.Net.*weights_only=False.*arbitrary code"):
        chainrule.load(tmp_path / "net.pt")
    loaded = chainrule.load(tmp_path / "net.pt", weights_only=False, map_location="cpu")
    assert type(loaded) is Net and loaded is not model
    x = chainrule.randn(6, 3)
    np.testing.assert_array_equal(loaded(x)._array, model(x)._array)
    stored = safetensors.numpy.load_file(tmp_path / "net.pt")
    assert sorted(array.shape for array in stored.values()) == [(), (2,), (2, 5), (5,), (5, 3)], "weights stay safetensors data"


def test_anything_that_is_not_plain_data_is_pickled():
    cycle = [1]
    cycle.append(cycle)
    for obj in ({frozenset({1, 2}): "frozenset key"}, {"labels": np.array(["cat", "dog"])}, nn.Sequential(nn.Linear(2, 2))):
        buffer = io.BytesIO()
        chainrule.save(obj, buffer)
        with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
            chainrule.load(io.BytesIO(buffer.getvalue()))
        loaded = chainrule.load(io.BytesIO(buffer.getvalue()), weights_only=False)
        assert type(loaded) is type(obj)
    for weights_only in (True, False):  # a cycle imports nothing: PyTorch's weights-only unpickler loads it too
        loaded_cycle = chainrule.load(_saved(cycle), weights_only=weights_only)
        assert loaded_cycle[1] is loaded_cycle


def _saved(obj):
    buffer = io.BytesIO()
    chainrule.save(obj, buffer)
    buffer.seek(0)
    return buffer


def tensors(lib, parameter_class):
    """A leaf with a grad, a Parameter with a grad, and a non-leaf, after backward."""
    leaf = lib.tensor([1.0, 2.0], requires_grad=True)
    parameter = parameter_class(lib.tensor([3.0, 4.0]))
    non_leaf = leaf * parameter
    non_leaf.sum().backward(retain_graph=True)
    return leaf, parameter, non_leaf


def describe(tensor):
    grad = None if tensor.grad is None else tensor.grad.tolist()
    return type(tensor).__name__, tensor.tolist(), tensor.requires_grad, tensor.is_leaf, grad


def test_pickling_tensors_after_backward_matches_pytorch():
    ours = tensors(chainrule, nn.Parameter)
    theirs = tensors(torch, torch.nn.Parameter)
    for mine, their in zip(ours, theirs):
        assert describe(pickle.loads(pickle.dumps(mine))) == describe(pickle.loads(pickle.dumps(their)))


def test_deepcopy_of_tensors_matches_pytorch_including_the_non_leaf_refusal():
    ours = tensors(chainrule, nn.Parameter)
    theirs = tensors(torch, torch.nn.Parameter)
    for mine, their in zip(ours[:2], theirs[:2]):
        copied = copy.deepcopy(mine)
        assert describe(copied) == describe(copy.deepcopy(their))
        copied._array[0] = -1.0
        assert mine.tolist()[0] != -1.0, "a deep copy has its own memory"
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user \\(graph leaves\\) support the deepcopy protocol"):
        copy.deepcopy(ours[2])
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user \\(graph leaves\\) support the deepcopy protocol"):
        copy.deepcopy(theirs[2])


class Tagged(chainrule.Tensor):
    """A user's tensor subclass with its own attribute."""


def test_a_tensor_subclass_keeps_its_type_and_attributes():
    tagged = Tagged([1.0, 2.0])
    tagged.tag = {"unit": "m"}
    for duplicate in (copy.deepcopy(tagged), pickle.loads(pickle.dumps(tagged))):
        assert type(duplicate) is Tagged and duplicate.tag == {"unit": "m"} and duplicate.tolist() == [1.0, 2.0]


def training_state(lib, model):
    optimizer = lib.optim.Adam(model.parameters(), lr=0.1)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    model(lib.ones(4, 3)).sum().backward()
    optimizer.step()
    scheduler.step()
    model(lib.ones(4, 3)).sum().backward()
    return model, optimizer, scheduler


@pytest.mark.parametrize("duplicate", [lambda obj: pickle.loads(pickle.dumps(obj)), copy.deepcopy], ids=["pickle", "deepcopy"])
def test_modules_optimizers_and_schedulers_round_trip_after_backward(duplicate):
    model, optimizer, scheduler = training_state(chainrule, Net())
    model2, optimizer2, scheduler2 = duplicate((model, optimizer, scheduler))
    assert optimizer2.param_groups[0]["params"][0] is model2.hidden.weight, "one object graph, as pickled"
    assert scheduler2.optimizer is optimizer2 and scheduler2.get_last_lr() == scheduler.get_last_lr()
    for (name, mine), copied in zip(model.named_parameters(), model2.parameters()):
        np.testing.assert_array_equal(copied._array, mine._array, err_msg=name)
        assert copied.grad is None, "a Parameter's grad is not pickled or deep-copied, as in PyTorch"
        state, copied_state = optimizer.state[mine], optimizer2.state[copied]
        np.testing.assert_array_equal(copied_state["exp_avg"]._array, state["exp_avg"]._array)
    optimizer.zero_grad()  # the copies start without the pending grads
    model(chainrule.ones(4, 3)).sum().backward()
    model2(chainrule.ones(4, 3)).sum().backward()
    optimizer.step()
    optimizer2.step()
    for mine, copied in zip(model.parameters(), model2.parameters()):
        np.testing.assert_allclose(copied._array, mine._array, rtol=1e-6)


def test_a_damaged_pickle_is_a_value_error_even_when_trusted():
    content = _saved(nn.Linear(2, 2)).getvalue()
    metadata = safetensors_metadata(content)
    metadata["pickle"] = metadata["pickle"][:40]
    damaged = safetensors.numpy.save(safetensors.numpy.load(content), metadata=metadata)
    with pytest.raises(ValueError, match="holds a damaged pickle"):
        chainrule.load(io.BytesIO(damaged), weights_only=False)


def safetensors_metadata(content):
    length = struct.unpack("<Q", content[:8])[0]
    return json.loads(content[8 : 8 + length])["__metadata__"]
