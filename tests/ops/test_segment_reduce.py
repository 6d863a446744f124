"""torch._segment_reduce (PyG's segment reductions) against PyTorch, and float64 finite differences."""
import numpy as np
import pytest
import torch

import chainrule

REDUCTIONS = ["sum", "mean", "max", "min", "prod", "amax"]
SEGMENTS = [
    {"offsets": [0, 1, 1, 4]},
    {"lengths": [1, 0, 3]},
    {"lengths": [1, 0, 3], "initial": 0.5},
]


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("segments", range(len(SEGMENTS)))
def test_values_and_gradients_match_pytorch(reduce, segments):
    data = np.random.default_rng(0).normal(size=(4, 2))
    results = {}
    for lib in (chainrule, torch):
        x = lib.tensor(data, requires_grad=True)
        options = {key: lib.tensor(value) if isinstance(value, list) else value for key, value in SEGMENTS[segments].items()}
        result = lib._segment_reduce(x, reduce, **options)
        (grad,) = lib.autograd.grad(result.nan_to_num(0.0, 0.0, 0.0).sum(), x)
        results[lib] = result.detach().numpy(), grad.numpy()
    for ours, theirs in zip(results[chainrule], results[torch]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_batched_lengths_along_the_last_axis_of_lengths():
    data = np.arange(24.0).reshape(2, 4, 3)
    results = [
        lib._segment_reduce(lib.tensor(data), "mean", lengths=lib.tensor([[1, 3], [4, 0]]), axis=1).numpy()
        for lib in (chainrule, torch)
    ]
    np.testing.assert_array_equal(*results)


def test_finite_differences():
    x = chainrule.tensor(np.random.default_rng(1).normal(size=(5, 2)), requires_grad=True)
    lengths = chainrule.tensor([2, 0, 3])
    for reduce in ("sum", "mean", "max", "prod"):
        assert chainrule.autograd.gradcheck(lambda t: chainrule._segment_reduce(t, reduce, lengths=lengths, initial=0.25), (x,))


@pytest.mark.parametrize("call", [
    lambda lib, y: lib._segment_reduce(y, "median", lengths=lib.tensor([1, 1])),
    lambda lib, y: lib._segment_reduce(y, "sum"),
    lambda lib, y: lib._segment_reduce(y, "sum", indices=lib.tensor([0, 1])),
    lambda lib, y: lib._segment_reduce(y, "sum", lengths=lib.tensor([3, -1])),
    lambda lib, y: lib._segment_reduce(y, "sum", lengths=lib.tensor([1, 1]), axis=1),
    lambda lib, y: lib._segment_reduce(y, "sum", lengths=lib.tensor([1, 2])),
    lambda lib, y: lib._segment_reduce(y.long(), "sum", lengths=lib.tensor([1, 1])),
])
def test_refusals_as_pytorch(call):
    errors = []
    for lib in (torch, chainrule):
        with pytest.raises((RuntimeError, NotImplementedError)) as error:
            call(lib, lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        errors.append((error.type, str(error.value)[:40]))
    assert errors[0] == errors[1]
