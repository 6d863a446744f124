"""Lazy modules against torch.nn: the size inferred at the first forward, the layer they become,
reprs and state dict keys and shapes before and after, outputs and gradients from identical weights,
loading a checkpoint into a lazy module, an optimizer built before the first forward, and errors."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from tests.nn.pairs import check_module, error_of, normal

LAZY = [
    ("LazyLinear", (3,), (2, 4), "Linear"),
    ("LazyLinear", (3, False), (5, 2, 4), "Linear"),
    ("LazyConv1d", (4, 3), (2, 3, 6), "Conv1d"),
    ("LazyConv2d", (4, 3, 1, 1, 1, 2), (2, 6, 5, 5), "Conv2d"),
    ("LazyConv2d", (4, 3), (3, 5, 5), "Conv2d"),
    ("LazyConvTranspose2d", (4, 3, 2), (2, 3, 4, 4), "ConvTranspose2d"),
    ("LazyConv3d", (4, 2, 1, 1), (2, 3, 3, 4, 3), "Conv3d"),
    ("LazyConv3d", (2, 2), (3, 3, 3, 4), "Conv3d"),
    ("LazyConvTranspose1d", (4, 3, 2, 1, 1), (2, 3, 5), "ConvTranspose1d"),
    ("LazyConvTranspose3d", (2, 2, 2), (1, 3, 2, 3, 2), "ConvTranspose3d"),
    ("LazyBatchNorm1d", (), (4, 3), "BatchNorm1d"),
    ("LazyBatchNorm2d", (1e-3, 0.2, False), (4, 3, 2, 2), "BatchNorm2d"),
    ("LazyBatchNorm3d", (), (3, 2, 2, 3, 2), "BatchNorm3d"),
    ("LazyInstanceNorm1d", (), (2, 3, 4), "InstanceNorm1d"),
    ("LazyInstanceNorm2d", (1e-5, 0.1, False, False), (2, 3, 4, 4), "InstanceNorm2d"),
    ("LazyInstanceNorm3d", (), (2, 3, 3, 2, 4), "InstanceNorm3d"),
]
IDS = [f"{name}_{position}" for position, (name, *_) in enumerate(LAZY)]


def shapes_of(state):
    return [(key, tuple(value.shape)) for key, value in state.items()]


@pytest.mark.parametrize("name, args, shape, becomes", LAZY, ids=IDS)
def test_first_forward_infers_the_size_and_becomes_the_layer(name, args, shape, becomes):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    lazy_ours = [nn.parameter.is_lazy(value) for value in ours.state_dict().values()]
    assert lazy_ours == [torch.nn.parameter.is_lazy(value) for value in theirs.state_dict().values()]
    ours(chainrule.ones(*shape))
    theirs(torch.ones(*shape))
    assert type(ours) is getattr(nn, becomes) and type(theirs) is getattr(torch.nn, becomes)
    assert repr(ours) == repr(theirs)  # with nothing to materialize num_features stays 0 in both
    assert shapes_of(ours.state_dict()) == shapes_of(theirs.state_dict())
    assert not any(nn.parameter.is_lazy(value) for value in ours.state_dict().values())


@pytest.mark.parametrize("name, args, shape, becomes", LAZY, ids=IDS)
def test_loaded_lazy_module_matches_torch(name, args, shape, becomes):
    """module_pair copies torch's state dict into the still-lazy chainrule module: that loads the
    shapes, the first forward keeps the values."""

    def make(lib):
        module = getattr(lib.nn, name)(*args)
        if lib is torch:
            module(torch.ones(*shape))
        return module

    ours, _ = check_module(make, normal(*shape), training=True)
    assert type(ours) is getattr(nn, becomes)


def test_optimizer_built_before_the_first_forward_trains_the_parameters():
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
    optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)
    x, y = chainrule.randn(16, 3), chainrule.randn(16, 1)
    losses = []
    for _ in range(3):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert model[0].weight.shape == (8, 3) and losses[-1] < losses[0]


def test_double_before_the_first_forward_gives_float64_parameters():
    layer = nn.LazyBatchNorm1d().double()
    layer(chainrule.ones(4, 3, dtype=chainrule.float64))
    assert layer.weight.dtype == chainrule.float64 and layer.running_mean.dtype == chainrule.float64


def test_uninitialized_parameter_materializes_in_place():
    parameter = nn.UninitializedParameter()
    assert repr(parameter) == repr(torch.nn.UninitializedParameter())
    parameter.materialize((2, 3))
    assert type(parameter) is nn.Parameter and parameter.shape == (2, 3) and parameter.requires_grad
    buffer = nn.UninitializedBuffer()
    buffer.materialize(4)
    assert type(buffer) is chainrule.Tensor and buffer.shape == (4,)


ERRORS = [
    ("conv_wrong_dims", lambda lib: lib.nn.LazyConv1d(4, 3)(lib.ones(2, 2, 2, 5))),
    ("conv_groups", lambda lib: lib.nn.LazyConv1d(4, 3, groups=2)(lib.ones(2, 3, 5))),
]


@pytest.mark.parametrize("call", [case[1] for case in ERRORS], ids=[case[0] for case in ERRORS])
def test_errors_match_torch(call):
    ours = error_of(lambda: call(chainrule))
    theirs = error_of(lambda: call(torch))
    assert ours is not None and ours[0] is theirs[0] and ours[1][:40] == theirs[1][:40]


def test_batch_norm_running_statistics_follow_the_data():
    layer = nn.LazyBatchNorm1d()
    x = normal(64, 3) * 2 + 5
    layer(chainrule.tensor(x, dtype=chainrule.float32))  # a float64 input to float32 statistics is refused, as in PyTorch
    np.testing.assert_allclose(layer.running_mean._array, 0.9 * 0 + 0.1 * x.mean(0), rtol=1e-5)


def test_a_lazy_layer_keeps_the_dtype_it_was_given_as_pytorch():
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        layer = lib.nn.LazyLinear(3, dtype=lib.float64)
        assert layer(lib.ones(2, 4, dtype=lib.float64)).dtype == lib.float64 and layer.weight.dtype == lib.float64


def test_a_lazy_layer_called_with_keywords_initializes_as_pytorchs():
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        linear, norm, transposed = lib.nn.LazyLinear(2), lib.nn.LazyBatchNorm1d(), lib.nn.LazyConvTranspose1d(2, 3, stride=2)
        x = lib.ones(4, 3)
        assert linear(input=x).shape == (4, 2) and type(linear) is lib.nn.Linear
        assert norm(input=x).shape == (4, 3) and type(norm) is lib.nn.BatchNorm1d
        assert transposed(lib.ones(1, 3, 5), output_size=[12]).shape == (1, 2, 12)


def test_an_uninitialized_buffer_assigned_to_a_lazy_module_is_its_buffer():
    for lib in (chainrule, torch):
        class Lazy(lib.nn.modules.lazy.LazyModuleMixin, lib.nn.Module):
            pass

        module = Lazy()
        module.statistics = lib.nn.UninitializedBuffer()
        module.scratch = lib.nn.UninitializedBuffer(persistent=False)
        assert isinstance(module.statistics, lib.nn.Buffer) and list(module._buffers) == ["statistics", "scratch"]
        assert module.has_uninitialized_params() and module._non_persistent_buffers_set == {"scratch"}
