"""The Module API: registration, traversal order, state dicts, modes, hooks and printing, as PyTorch."""
from chainrule.nn import functional as F
from chainrule.nn import init
import copy
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from tests.nn.pairs import module_pair


def net(lib):
    """The same custom model in either library: nested modules, shared layer, buffers."""

    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = lib.nn.Parameter(lib.ones(3))
            self.norm = lib.nn.BatchNorm1d(3)
            self.register_buffer("steps", lib.zeros(1))
            self.register_buffer("cache", lib.zeros(2), persistent=False)

        def forward(self, x):
            return self.norm(x) * self.scale

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.nn.Linear(2, 3)
            self.blocks = lib.nn.ModuleList([Block(), Block()])
            self.heads = lib.nn.ModuleDict({"a": lib.nn.Linear(3, 1), "b": lib.nn.Linear(3, 2, bias=False)})
            self.tied = self.embed
            self.gate = lib.nn.Parameter(lib.zeros(1))
            self.act = lib.nn.Sequential(OrderedDict([("relu", lib.nn.ReLU()), ("drop", lib.nn.Dropout(0.1))]))

        def forward(self, x):
            x = self.act(self.embed(x))
            for block in self.blocks:
                x = block(x)
            return self.heads["a"](x) + self.gate

    return Net()


def test_traversal_order_and_names_match_torch():
    ours, theirs = net(chainrule), net(torch)
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in theirs.named_parameters()]
    assert [name for name, _ in ours.named_buffers()] == [name for name, _ in theirs.named_buffers()]
    assert [name for name, _ in ours.named_modules()] == [name for name, _ in theirs.named_modules()]
    assert [name for name, _ in ours.named_children()] == [name for name, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert [name for name, _ in ours.named_parameters(recurse=False)] == ["gate"]
    assert [name for name, _ in ours.blocks[0].named_parameters(prefix="block")] == [
        name for name, _ in theirs.blocks[0].named_parameters(prefix="block")
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 2)),
        lambda lib: lib.nn.BatchNorm1d(5),
        lambda lib: lib.nn.Sequential(lib.nn.Flatten(), lib.nn.LayerNorm(6), lib.nn.Embedding(3, 2)),
    ],
)
def test_state_dict_keys_equal_torch(make):
    ours, theirs = make(chainrule), make(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in ours.state_dict().items():
        assert tuple(value.shape) == tuple(theirs.state_dict()[key].shape)
        assert value.dtype == chainrule.tensor(theirs.state_dict()[key].numpy()).dtype


def test_state_dict_is_detached_and_shares_memory():
    model = nn.Linear(2, 2)
    state = model.state_dict()
    assert isinstance(state, OrderedDict)
    assert not state["weight"].requires_grad and state["weight"].grad_fn is None
    state["weight"]._array[0, 0] = 42.0
    assert model.weight._array[0, 0] == 42.0
    assert model.state_dict(keep_vars=True)["weight"] is model.weight


def test_load_state_dict_round_trip_copies_values():
    source, target = net(chainrule), net(chainrule)
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (name, mine), (_, theirs) in zip(target.state_dict().items(), source.state_dict().items()):
        np.testing.assert_array_equal(mine._array, theirs._array, err_msg=name)
        assert mine._array is not theirs._array


def _snapshot(model):
    return {key: value._array.copy() for key, value in model.state_dict().items()}


def _assert_unchanged(model, snapshot):
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value._array, snapshot[key], err_msg=key)


def test_load_state_dict_strict_errors_list_every_key_and_change_nothing():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    before = _snapshot(model)
    state = {key: value * 0 + 7 for key, value in model.state_dict().items()}
    del state["2.bias"]
    state["3.weight"] = chainrule.zeros(1)
    state["0.weight"] = chainrule.zeros(4, 5)
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert 'Missing key(s) in state_dict: "2.bias"' in message
    assert 'Unexpected key(s) in state_dict: "3.weight"' in message
    assert "size mismatch for 0.weight" in message and "[4, 5]" in message and "[4, 3]" in message
    _assert_unchanged(model, before)


def test_load_state_dict_non_strict_reports_keys_but_still_rejects_shapes():
    model = nn.Linear(3, 2)
    result = model.load_state_dict({"weight": chainrule.ones(2, 3), "extra": chainrule.ones(1)}, strict=False)
    assert result == (["bias"], ["extra"])
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert (model.weight._array == 1).all()
    before = _snapshot(model)
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        model.load_state_dict({"weight": chainrule.ones(3, 3), "bias": chainrule.zeros(2)}, strict=False)
    _assert_unchanged(model, before)


def test_load_state_dict_keeps_parameter_identity():
    model = nn.Linear(3, 2)
    weight = model.weight
    model.load_state_dict(nn.Linear(3, 2).state_dict())
    assert model.weight is weight and weight.requires_grad and weight.is_leaf


def test_registration_rules():
    model = nn.Module()
    model.weight = nn.Parameter(chainrule.ones(2))
    model.layer = nn.Linear(2, 2)
    model.plain = chainrule.ones(2)
    assert list(model._parameters) == ["weight"] and list(model._modules) == ["layer"]
    with pytest.raises(TypeError, match="cannot assign"):
        model.weight = chainrule.ones(2)
    model.weight = None
    assert list(model.parameters()) == list(model.layer.parameters())
    model.register_buffer("running", chainrule.zeros(2))
    model.running = chainrule.ones(2)
    assert model.running.tolist() == [1.0, 1.0] and "running" in model.state_dict()
    with pytest.raises(KeyError, match="already exists"):
        model.register_buffer("plain", chainrule.zeros(1))
    with pytest.raises(TypeError):
        model.add_module("bad", object())
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'missing'"):
        model.missing
    model.layer = nn.Identity()
    assert isinstance(model.get_submodule("layer"), nn.Identity)
    del model.layer
    assert "layer" not in model._modules


def test_assigning_before_init_raises():
    class Broken(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(chainrule.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Broken()


def test_parameter_is_a_leaf_that_shares_memory_and_prints_like_torch():
    data = chainrule.tensor([1.0, 2.0])
    parameter = nn.Parameter(data)
    assert parameter._array is data._array and parameter.is_leaf and parameter.requires_grad
    assert isinstance(parameter, chainrule.Tensor)
    assert repr(parameter) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert nn.Parameter(data, requires_grad=False).requires_grad is False
    assert tuple(nn.Parameter().shape) == (0,)
    copied = copy.deepcopy(parameter)
    assert isinstance(copied, nn.Parameter) and copied._array is not parameter._array


def test_train_eval_reach_every_module():
    model = net(chainrule)
    assert model.eval() is model
    assert not any(module.training for module in model.modules())
    model.train()
    assert all(module.training for module in model.modules())
    with pytest.raises(ValueError, match="boolean"):
        model.train("yes")


def test_zero_grad_requires_grad_and_apply():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    model(chainrule.ones(4, 2)).sum().backward()
    grad = model[0].weight.grad
    model.zero_grad(set_to_none=False)
    assert model[0].weight.grad is grad and (grad._array == 0).all()
    model.zero_grad()
    assert all(parameter.grad is None for parameter in model.parameters())
    model.requires_grad_(False)
    assert not any(parameter.requires_grad for parameter in model.parameters())
    visited = []
    assert model.apply(lambda module: visited.append(type(module).__name__)) is model
    assert visited == ["Linear", "Linear", "Sequential"]


def test_hooks_can_replace_input_and_output_and_be_removed():
    layer = nn.Identity()
    calls = []
    pre = layer.register_forward_pre_hook(lambda module, args: (args[0] * 2,))
    post = layer.register_forward_hook(lambda module, args, output: calls.append(args[0].item()) or output + 1)
    assert layer(chainrule.tensor(3.0)).item() == 7.0
    assert calls == [6.0]
    pre.remove()
    post.remove()
    assert layer(chainrule.tensor(3.0)).item() == 3.0 and calls == [6.0]


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(chainrule.ones(1))


REPR_MODELS = [
    net,
    lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(inplace=True), lib.nn.Dropout(0.2), lib.nn.Linear(8, 2, bias=False)),
    lambda lib: lib.nn.ModuleList([lib.nn.Linear(2, 2), lib.nn.Linear(2, 2), lib.nn.Linear(2, 2), lib.nn.Tanh(), lib.nn.Linear(2, 2)]),
    lambda lib: lib.nn.Sequential(
        lib.nn.Flatten(), lib.nn.Unflatten(1, (2, 3)), lib.nn.BatchNorm1d(3, momentum=None), lib.nn.LayerNorm((2, 3)),
        lib.nn.Embedding(10, 4, padding_idx=0), lib.nn.Identity(),
    ),
    lambda lib: lib.nn.Sequential(
        lib.nn.Sigmoid(), lib.nn.Tanh(), lib.nn.LeakyReLU(0.2), lib.nn.ELU(alpha=0.5), lib.nn.GELU(approximate="tanh"),
        lib.nn.SiLU(), lib.nn.Softplus(beta=2.0), lib.nn.Softmax(dim=1), lib.nn.LogSoftmax(dim=-1),
    ),
    lambda lib: lib.nn.ModuleDict({"loss": lib.nn.CrossEntropyLoss(), "mse": lib.nn.MSELoss(), "bce": lib.nn.BCEWithLogitsLoss()}),
]


@pytest.mark.parametrize("make", REPR_MODELS)
def test_repr_prints_the_tree_like_torch(make):
    assert repr(make(chainrule)) == repr(make(torch))


def test_sequential_indexing_slicing_and_editing():
    first, second, third = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    model = nn.Sequential(first, second, third)
    assert len(model) == 3 and model[0] is first and model[-1] is third
    assert list(model) == [first, second, third]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [first, second]
    assert head(chainrule.ones(1, 2)).shape == (1, 3)
    model.append(nn.Sigmoid())
    assert len(model) == 4 and isinstance(model[3], nn.Sigmoid)
    del model[1]
    assert list(model._modules) == ["0", "1", "2"] and model[1] is third
    model[0] = nn.Identity()
    assert isinstance(model[0], nn.Identity)
    with pytest.raises(IndexError, match="out of range"):
        model[3]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert isinstance(named.fc, nn.Linear) and named[1] is named.act
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.Linear(2, 1))
    layers.insert(0, nn.Identity())
    layers += [nn.ReLU()]
    assert [type(layer).__name__ for layer in layers] == ["Identity", "Linear", "Linear", "Linear", "ReLU"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    assert len(list(layers.parameters())) == 6
    with pytest.raises(NotImplementedError):
        layers(chainrule.ones(1, 2))
    heads = nn.ModuleDict({"a": nn.Linear(2, 2)})
    heads["b"] = nn.Linear(2, 1)
    heads.update([("c", nn.ReLU())])
    assert list(heads) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert list(heads.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert isinstance(heads.pop("c"), nn.ReLU) and list(heads.keys()) == ["a", "b"]


def test_to_dtype_converts_in_place_and_deepcopy_copies():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    weight = model[0].weight
    assert model.to(chainrule.float64) is model and model.to("cpu") is model
    assert model[0].weight is weight and weight.dtype == chainrule.float64
    assert model[1].running_mean.dtype == chainrule.float64
    assert model[1].num_batches_tracked.dtype == chainrule.int64
    assert model.float()[0].weight.dtype == chainrule.float32
    clone = copy.deepcopy(model)
    clone[0].weight._array[...] = 0
    assert (model[0].weight._array != 0).any()
    assert clone[0].weight.requires_grad


def test_training_steps_match_torch():
    """A few steps of plain gradient descent on a small MLP give PyTorch's losses."""
    make = lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.BatchNorm1d(8), lib.nn.Linear(8, 3))  # noqa: E731
    ours, theirs = module_pair(make)
    data = np.random.default_rng(0).standard_normal((16, 4))
    labels = np.random.default_rng(1).integers(0, 3, 16)
    losses = {}
    for lib, model in ((chainrule, ours), (torch, theirs)):
        x, y = lib.tensor(data), lib.tensor(labels)
        history = []
        for _ in range(5):
            model.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            with lib.no_grad():
                for parameter in model.parameters():
                    parameter -= 0.1 * parameter.grad
            history.append(loss.item())
        losses[lib.__name__] = history
    np.testing.assert_allclose(losses["chainrule"], losses["torch"], rtol=1e-10)


def test_a_name_lives_in_one_registry_only():
    module = nn.Module()
    module.register_buffer("x", chainrule.zeros(2))
    with pytest.raises(KeyError, match="attribute 'x' already exists"):
        module.register_parameter("x", nn.Parameter(chainrule.ones(3)))
    module.w = nn.Parameter(chainrule.ones(2))
    with pytest.raises(KeyError, match="already exists"):
        module.add_module("w", nn.Linear(1, 1))
    assert list(module.state_dict()) == ["w", "x"]


@pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
def test_members_found_and_replaced_by_dotted_path_as_pytorch(lib):
    model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
    assert model.get_parameter("0.weight") is model[0].weight
    assert model.get_buffer("1.running_mean") is model[1].running_mean
    for lookup in (lambda: model.get_parameter("0.nope"), lambda: model.get_parameter("2.weight"), lambda: model.get_buffer("1.weight")):
        with pytest.raises(AttributeError):
            lookup()
    model.set_submodule("1", lib.nn.ReLU())
    assert isinstance(model[1], lib.nn.ReLU)
    assert model.half()[0].weight.dtype == lib.float16 and model.type(lib.float64)[0].bias.dtype == lib.float64
    assert model.share_memory() is model


def backward_hook_run(lib):
    """A 3-4-2 tanh network from fixed weights with full backward hooks on both Linear layers and a
    pre-hook doubling the gradient reaching the Tanh: what the hooks saw, in order, and the result."""
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
    values = [np.arange(12).reshape(4, 3) / 10, np.ones(4) / 5, np.arange(8).reshape(2, 4) / 9, np.zeros(2)]
    with lib.no_grad():
        for parameter, value in zip(model.parameters(), values):
            parameter.copy_(lib.tensor(value, dtype=lib.float32))
    seen = []

    def record(name):
        def hook(module, grad_input, grad_output):
            as_lists = lambda grads: [None if g is None else g.numpy().round(5).tolist() for g in grads]  # noqa: E731
            seen.append((name, as_lists(grad_input), as_lists(grad_output)))

        return hook

    handles = [model[0].register_full_backward_hook(record("first")), model[2].register_full_backward_hook(record("last"))]
    model[1].register_full_backward_pre_hook(lambda module, grad_output: (grad_output[0] * 2,))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        output = model(lib.full((2, 3), 1 / 3))  # no input requires grad: the first layer's hook fires early, with a warning
        output.sum().backward()
    inputs = lib.full((2, 3), 1 / 3, requires_grad=True)
    model(inputs).sum().backward()
    handles[0].remove()
    model(inputs).sum().backward()
    warned = [str(warning.message)[:40] for warning in caught]
    return seen, output.grad_fn.name(), model[0].weight.grad.numpy().round(4).tolist(), inputs.grad.numpy().round(4).tolist(), warned


def test_full_backward_hooks_see_and_change_the_gradients_as_pytorch_s():
    assert backward_hook_run(chainrule) == backward_hook_run(torch)


class _Counted(chainrule.nn.Module):
    """A module with state besides tensors: a count, kept by get_extra_state / set_extra_state."""

    def __init__(self):
        super().__init__()
        self.linear = chainrule.nn.Linear(2, 2)
        self.count = 0

    def get_extra_state(self):
        return {"count": self.count}

    def set_extra_state(self, state):
        self.count = state["count"]


def test_extra_state_is_saved_before_the_children_and_loaded_back():
    source = _Counted()
    source.count = 7
    state = source.state_dict()
    assert list(state) == ["_extra_state", "linear.weight", "linear.bias"]  # PyTorch's order
    target = _Counted()
    target.load_state_dict(state)
    assert target.count == 7 and np.array_equal(target.linear.weight._array, source.linear.weight._array)
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        target.load_state_dict({key: value for key, value in state.items() if key != "_extra_state"})


def test_module_compile_replays_the_module_s_calls_with_its_hooks():
    chainrule.manual_seed(0)
    model = chainrule.nn.Sequential(chainrule.nn.Linear(3, 4), chainrule.nn.ReLU(), chainrule.nn.Linear(4, 2))
    model.register_forward_hook(lambda module, args, output: output * 2)  # recorded with the forward
    x = chainrule.randn(5, 3)
    with chainrule.no_grad():
        expected = model(x)._array.copy()
        model.compile()
        results = [model(x)._array.copy() for _ in range(3)]
    assert all(np.array_equal(result, expected) for result in results)
    assert len(model._compiled_call_impl.recordings) == 1 and model._compiled_call_impl.eager_reason is None


def test_to_empty_gives_new_memory_of_the_same_shapes():
    model = chainrule.nn.BatchNorm1d(3)
    weight = model.weight
    old = model.weight._array
    model.to_empty()
    assert model.weight is weight and model.weight._array is not old and model.weight.shape == (3,)
    assert model.running_mean.shape == (3,) and model.running_mean.dtype == chainrule.float32


def test_pytorch_s_import_paths_of_the_layers_name_chainrule_s():
    """Code importing from torch.nn.modules.<file> runs with only the import changed (for the layers
    chainrule keeps in the file of the same name: its lazy layers are in lazy.py, attention in
    attention.py)."""
    import importlib

    import torch.nn.modules

    imports = {
        "module": "Module register_module_forward_hook register_module_full_backward_hook",
        "loss": "_Loss _WeightedLoss MSELoss CrossEntropyLoss",
        "conv": "_ConvNd Conv2d ConvTranspose2d",
        "linear": "Linear Identity Bilinear",
        "activation": "ReLU Softmax",
        "batchnorm": "BatchNorm1d BatchNorm2d",
        "pooling": "MaxPool2d AdaptiveAvgPool2d",
        "container": "Sequential ModuleList ModuleDict",
        "rnn": "LSTM GRU RNN",
        "transformer": "TransformerEncoderLayer",
        "dropout": "Dropout",
    }
    for file, names in imports.items():
        ours = importlib.import_module(f"chainrule.nn.modules.{file}")
        theirs = importlib.import_module(f"torch.nn.modules.{file}")
        for name in names.split():
            assert hasattr(theirs, name) and hasattr(ours, name), (file, name)
    assert all(getattr(chainrule.nn.modules, name) is getattr(chainrule.nn, name) for name in torch.nn.modules.__all__ if hasattr(chainrule.nn, name))
    with pytest.raises(AttributeError, match="chainrule.nn.modules"):
        chainrule.nn.modules.NotALayer


def test_a_strict_load_refused_after_its_post_hooks_puts_the_extra_state_back_too():
    model = _Counted()
    model.count = 3
    model.register_load_state_dict_post_hook(lambda module, incompatible: None)
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "linear.bias"'):
        model.load_state_dict({"_extra_state": {"count": 9}, "linear.weight": chainrule.zeros(2, 2)})
    assert model.count == 3


def test_a_buffer_assigned_as_an_attribute_is_registered_as_pytorchs():
    results = []
    for lib in (chainrule, torch):
        module = lib.nn.Module()
        module.mask = lib.nn.Buffer(lib.ones(2))
        module.scratch = lib.nn.Buffer(lib.zeros(1), persistent=False)
        module.mask = lib.nn.Buffer(lib.ones(3))  # replaced, still a buffer
        module.p = lib.nn.Parameter(lib.ones(1))
        with pytest.raises(TypeError, match="cannot assign"):
            module.p = lib.nn.Buffer(lib.ones(1))
        results.append((
            [(name, buffer.tolist()) for name, buffer in module.named_buffers()],
            list(module.state_dict()),
            lib.nn.Buffer().shape == (0,),
            lib.nn.Buffer(lib.ones(2, requires_grad=True)).requires_grad,
        ))
    assert results[0] == results[1]
    assert results[0][:2] == ([("mask", [1.0, 1.0, 1.0]), ("scratch", [0.0])], ["p", "mask"])


def test_printed_generators_and_handles_read_as_pytorchs():
    """``print(model.named_parameters())`` names the method, and a hook's handle prints Python's
    default, as in PyTorch."""
    model = chainrule.nn.Linear(2, 2)
    assert repr(model.named_parameters()).startswith("<generator object Module.named_parameters at ")
    assert repr(model.named_buffers()).startswith("<generator object Module.named_buffers at ")
    handle = model.register_forward_hook(lambda *args: None)
    assert repr(handle).startswith("<chainrule.utils.hooks.RemovableHandle object at 0x")


def test_a_full_backward_hook_leaves_inputs_that_need_no_gradient_as_they_are():
    """(PyTorch marks them non-differentiable: forward still sees requires_grad False)"""
    for lib in (chainrule, torch):
        seen = []

        class Pair(lib.nn.Module):
            def forward(self, a, b):
                seen.append((a.requires_grad, b.requires_grad))
                return a.sum() + b.sum()

        pair = Pair()
        pair.register_full_backward_hook(lambda module, grad_input, grad_output: seen.append(grad_input[0].tolist()))
        x = lib.ones(2, requires_grad=True)
        pair(x, x.detach()).backward()
        assert seen == [(True, False), [1.0, 1.0]]


def test_buffer_is_a_plain_tensor_marked_as_pytorchs_and_loads_in_swap_mode():
    for lib in (chainrule, torch):
        made = lib.nn.Buffer(lib.eye(2), persistent=False)
        assert type(made) is lib.Tensor and isinstance(made, lib.nn.Buffer) and not made.persistent
        assert not isinstance(lib.ones(1), lib.nn.Buffer)
        module = lib.nn.Module()
        module.B = lib.nn.Buffer(lib.eye(2))
        module.C = made
        assert type(module.B) is lib.Tensor and list(module.state_dict()) == ["B"]
        lib.__future__.set_swap_module_params_on_conversion(True)
        try:
            assert str(module.load_state_dict({"B": lib.zeros(2, 2)})) == "<All keys matched successfully>"
        finally:
            lib.__future__.set_swap_module_params_on_conversion(False)
        assert module.B.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_complex_modules_are_initialised_with_pytorchs_numbers():
    """(normal_ and uniform_ of complex tensors draw both parts, as PyTorch's)"""
    drawn = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        linear = lib.nn.Linear(3, 2, dtype=lib.complex64)
        filled = lib.empty(4, dtype=lib.complex128).normal_(1.0, 2.0)
        drawn.append((linear.weight.tolist(), linear.bias.tolist(), filled.tolist()))
    assert drawn[0] == drawn[1]
