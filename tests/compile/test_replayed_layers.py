"""Layers and operations whose arithmetic reads their inputs' values, replayed by
``chainrule.compile``: ``put``/``put_`` (the positions checked on each call), ``Embedding`` and
``embedding``/``EmbeddingBag`` with ``max_norm`` (the rows read renormalized in place), adaptive max
pooling with sizes that do not divide (the windows' maxima found on each call), max unpooling (the
indices a max pool gives checked on each call) and batch norm with
``momentum=None`` (1 / num_batches_tracked found from the count on each call).

Each case runs the same calls twice from the same seed, eagerly and compiled, with new input values
on every call, and compares outputs, gradients, parameters and buffers bit for bit: the compiled
step records once and replays without a warning. One case of each agrees with PyTorch.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.test_adversarial_replay import assert_identical, run_calls

CALLS = 4


def values(seed, *shape, scale=1.0, requires_grad=True, dtype=chainrule.float64):
    """A fresh tensor of normal values from ``seed``."""
    array = np.random.default_rng(seed).standard_normal(shape) * scale
    return chainrule.tensor(array, dtype=dtype, requires_grad=requires_grad)


def ties(seed, *shape):
    """float64 values from a few integers (tied maxima), requiring a gradient."""
    return chainrule.tensor(np.random.default_rng(seed).integers(-2, 3, size=shape).astype(np.float64), requires_grad=True)


def ids(seed, high, *shape, low=0):
    """int64 ids in [low, high), repeats among them."""
    return chainrule.tensor(np.random.default_rng(seed).integers(low, high, size=shape))


def training(make_module, make_input, lr=0.5):
    """A setup: the module, an SGD step on (out · out).sum(), the input made by ``make_input(call)``."""

    def setup():
        module = make_module()
        optimizer = optim.SGD(module.parameters(), lr=lr)

        def step(input):
            optimizer.zero_grad()
            out = module(input)
            out = out[0] * 1.0 + out[1].double().sum() if isinstance(out, tuple) else out
            loss = (out * out).sum()
            loss.backward()
            optimizer.step()
            return out

        return step, module, optimizer

    return setup, lambda: [((make_input(call),), {}) for call in range(CALLS)]


def on_arguments(operation, *makers):
    """A setup: ``operation(*arguments)`` then (out · out).sum().backward(), the arguments new on each call."""

    def setup():
        def step(*arguments):
            out = operation(*arguments)
            (out * out).sum().backward()
            return out

        return (step,)

    return setup, lambda: [(tuple(make(call) for make in makers), {}) for call in range(CALLS)]


CASES = {
    "put": on_arguments(
        lambda x, index, source: x.put(index, source), lambda call: values(call, 3, 4), lambda call: ids(call, 12, 5, low=-12),
        lambda call: values(call + 10, 5),
    ),
    "put accumulate": on_arguments(
        lambda x, index, source: x.put(index, source, accumulate=True), lambda call: values(call, 3, 4),
        lambda call: ids(call, 12, 2, 4, low=-12), lambda call: values(call + 10, 8),
    ),
    "put_": on_arguments(
        lambda x, index, source: (x * 1.0).put_(index, source), lambda call: values(call, 3, 4), lambda call: ids(call, 12, 5),
        lambda call: values(call + 10, 5),
    ),
    "embedding max_norm": training(lambda: nn.Embedding(10, 4, max_norm=1.0), lambda call: ids(call, 10, 3, 5)),
    "embedding max_norm float64 norm_type 1 padding_idx": training(
        lambda: nn.Embedding(10, 4, max_norm=1.5, norm_type=1.0, padding_idx=2).double(), lambda call: ids(call, 10, 6)
    ),
    "embedding_bag max_norm": training(lambda: nn.EmbeddingBag(10, 4, max_norm=0.8, mode="mean"), lambda call: ids(call, 10, 3, 4)),
    "F.embedding max_norm": on_arguments(
        lambda weight, index: F.embedding(index, weight * 1.0, max_norm=2.0), lambda call: values(call, 7, 3, scale=2.0),
        lambda call: ids(call, 7, 4, 2),
    ),
    "adaptive_max_pool1d 7 to 3": training(
        lambda: nn.Sequential(nn.Conv1d(2, 3, 1), nn.AdaptiveMaxPool1d(3)).double(), lambda call: values(call, 2, 2, 7, requires_grad=False)
    ),
    "adaptive_max_pool2d 7x5 to 3x2": training(
        lambda: nn.Sequential(nn.Conv2d(1, 2, 1), nn.AdaptiveMaxPool2d((3, 2))), lambda call: values(call, 2, 1, 7, 5, dtype=chainrule.float32)
    ),
    "adaptive_max_pool2d unbatched, return_indices": training(
        lambda: nn.Sequential(nn.Conv2d(2, 2, 1), nn.AdaptiveMaxPool2d(3, return_indices=True)).double(),
        lambda call: values(call, 2, 5, 7, requires_grad=False),
    ),
    "adaptive_max_pool3d 5x4x3 to 2x3x2": training(
        lambda: nn.Sequential(nn.Conv3d(2, 2, 1), nn.AdaptiveMaxPool3d((2, 3, 2))).double(), lambda call: values(call, 1, 2, 5, 4, 3)
    ),
    "adaptive_max_pool2d tied maxima": on_arguments(lambda x: F.adaptive_max_pool2d(x, 3), lambda call: ties(call, 2, 2, 7, 7)),
    "batch_norm1d momentum None": training(
        lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=None)), lambda call: values(call, 5, 3, dtype=chainrule.float32)
    ),
    "max_pool2d indices into max_unpool2d": on_arguments(
        lambda x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2), lambda call: ties(call, 2, 1, 4, 6)
    ),
    "max_unpool1d to a given output_size": on_arguments(
        lambda x: F.max_unpool1d(*F.max_pool1d(x, 2, return_indices=True), 2, output_size=[7]), lambda call: values(call, 2, 3, 7)
    ),
    "batch_norm2d momentum None": training(
        lambda: nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3, momentum=None)).double(),
        lambda call: values(call, 2, 2, 3, 3, requires_grad=False),
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_replays_with_new_values_as_eager_without_a_warning(name):
    """Outputs, gradients, parameters and buffers of every call equal eager's bit for bit; one
    recording, replayed by the calls after it."""
    setup, make_calls = CASES[name]
    eager, _, eager_messages = run_calls(False, setup, make_calls())
    compiled, function, messages = run_calls(True, setup, make_calls())
    assert not eager_messages and not messages, messages
    assert_identical(eager, compiled)
    assert len(function.recordings) == 1


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("outside", [12, -13])
def test_put_outside_the_tensor_in_a_later_call_raises_eagers_error(accumulate, outside):
    """Two calls replay; then a position outside the 12 elements raises eager's IndexError with its
    message, and the next call replays as eager again."""
    def step(x, index, source):
        out = x.put(index, source, accumulate=accumulate)
        (out * out).sum().backward()
        return out

    def call(seed, index=None):
        x, source = values(seed, 3, 4), values(seed + 10, 5)
        return x, ids(seed, 12, 5, low=-12) if index is None else chainrule.tensor(index), source

    compiled = chainrule.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in range(2):
            compiled(*call(seed))
        bad = [0, 3, outside, 5, 99]
        with pytest.raises(IndexError) as eager_error:
            step(*call(2, bad))
        with pytest.raises(IndexError) as compiled_error:
            compiled(*call(2, bad))
        assert str(compiled_error.value) == str(eager_error.value) == (
            f"out of range: tried to access index {outside} on a tensor of 12 elements."
        )
        eager_arguments, compiled_arguments = call(3), call(3)
        expected = step(*eager_arguments)
        got = compiled(*compiled_arguments)
        assert_identical(expected.detach().numpy(), got.detach().numpy())
        assert_identical(eager_arguments[0].grad.detach().numpy(), compiled_arguments[0].grad.detach().numpy())
    assert len(compiled.recordings) == 1


def test_put_checks_its_positions_before_the_sizes_as_eager():
    """An index out of range and of the wrong size raises the range error, compiled as eager."""
    compiled = chainrule.compile(lambda x, index, source: x.put(index, source) * 1.0)
    x, source = values(0, 3, 4), values(1, 2)
    compiled(x, chainrule.tensor([0, 1]), source)
    with pytest.raises(IndexError, match="out of range: tried to access index 12"):
        compiled(x, chainrule.tensor([0, 12]), source)
    with pytest.raises(IndexError, match="out of range: tried to access index 12"):
        x.put(chainrule.tensor([0, 12, 1]), source)
    with pytest.raises(IndexError, match="Expected source and index to have the same number of elements"):
        x.put(chainrule.tensor([0, 1, 2]), source)


# ----------------------------------------------------------------------------- against PyTorch
def _torch_steps(calls):
    """(chainrule, torch) arguments of each call, made from the same values."""
    for (arguments, _) in calls:
        yield arguments, tuple(
            torch.tensor(each.detach().numpy(), requires_grad=each.requires_grad) for each in arguments
        )


def test_compiled_put_agrees_with_pytorch():
    setup, make_calls = CASES["put accumulate"]
    (step,) = setup()
    compiled = chainrule.compile(step)
    for ours, theirs in _torch_steps(make_calls()):
        got = compiled(*ours)
        expected = theirs[0].put(theirs[1], theirs[2], accumulate=True)
        (expected * expected).sum().backward()
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
        for mine, torch_tensor in zip(ours, theirs):
            if torch_tensor.grad is not None:
                np.testing.assert_allclose(mine.grad.detach().numpy(), torch_tensor.grad.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert len(compiled.recordings) == 1


def test_compiled_embedding_max_norm_renormalizes_the_weight_as_pytorch():
    ours = nn.Embedding(10, 4, max_norm=1.0).double()
    theirs = torch.nn.Embedding(10, 4, max_norm=1.0).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.detach().numpy().copy()))

    @chainrule.compile
    def step(index):
        loss = ours(index).square().sum()
        loss.backward()
        return loss

    for call in range(CALLS):
        index = ids(call, 10, 3, 5)
        ours.zero_grad()
        theirs.zero_grad()
        got = step(index)
        expected = theirs(torch.from_numpy(index.detach().numpy().copy())).square().sum()
        expected.backward()
        np.testing.assert_allclose(got.item(), expected.item(), rtol=1e-12)
        np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(ours.weight.grad.detach().numpy(), theirs.weight.grad.detach().numpy(), rtol=1e-12, atol=1e-15)
    assert len(step.recordings) == 1


@pytest.mark.parametrize("dims, shape, size", [(1, (2, 3, 7), 3), (2, (2, 3, 7, 5), (3, 2)), (3, (1, 2, 5, 4, 3), (2, 3, 2))])
def test_compiled_adaptive_max_pool_agrees_with_pytorch(dims, shape, size):
    """Values, indices and gradients, tied maxima among them."""
    pool = getattr(F, f"adaptive_max_pool{dims}d")
    torch_pool = getattr(torch.nn.functional, f"adaptive_max_pool{dims}d")

    @chainrule.compile
    def step(x):
        out, indices = pool(x, size, return_indices=True)
        (out * out).sum().backward()
        return out, indices

    for call in range(CALLS):
        x = ties(call, *shape) if call % 2 else values(call, *shape)
        theirs = torch.tensor(x.detach().numpy(), requires_grad=True)
        out, indices = step(x)
        expected, expected_indices = torch_pool(theirs, size, return_indices=True)
        (expected * expected).sum().backward()
        np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
        np.testing.assert_array_equal(indices.detach().numpy(), expected_indices.detach().numpy())
        np.testing.assert_array_equal(x.grad.detach().numpy(), theirs.grad.detach().numpy())
    assert len(step.recordings) == 1


def test_compiled_batch_norm_with_cumulative_average_agrees_with_pytorch():
    """momentum=None: the running statistics are the plain average of the batches' statistics."""
    ours = nn.BatchNorm1d(4, momentum=None)
    theirs = torch.nn.BatchNorm1d(4, momentum=None)

    @chainrule.compile
    def step(x):
        out = ours(x)
        (out * out).sum().backward()
        return out

    for call in range(CALLS):
        x = values(call, 6, 4, dtype=chainrule.float32)
        got = step(x)
        expected = theirs(torch.tensor(x.detach().numpy()))
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ours.running_mean.detach().numpy(), theirs.running_mean.detach().numpy(), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(ours.running_var.detach().numpy(), theirs.running_var.detach().numpy(), rtol=1e-6, atol=1e-7)
        assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == call + 1
    assert len(step.recordings) == 1


def test_batch_norm_momentum_none_updates_float32_statistics_in_float32():
    """The factor 1 / count is a Python number in the update, as PyTorch's: float32 statistics are
    computed in float32 (a float64 factor would round differently), eager and compiled alike."""
    layer = nn.BatchNorm1d(3, momentum=None)
    layer.num_batches_tracked.fill_(2)  # the next batch averages with 1 / 3
    layer.running_mean.fill_(0.7)
    x = chainrule.tensor([[1.0, 2.0, -3.0], [3.0, 4.0, 5.0], [2.0, 0.0, 1.0], [2.0, 1.0, 3.0]])  # exact means
    running = layer.running_mean.detach().numpy().copy()
    mean = np.array([2.0, 1.75, 1.5], dtype=np.float32)
    layer(x)
    expected = ((1 - 1 / 3) * running + 1 / 3 * mean).astype(np.float32)
    np.testing.assert_array_equal(layer.running_mean.detach().numpy(), expected)
