"""Embedding's ``max_norm`` (the rows read are rescaled in the weight itself, without gradient,
before the lookup) and ``scale_grad_by_freq`` (each row's gradient divided by how often the batch
reads it), against PyTorch and finite differences."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from tests.nn.pairs import assert_close

F = nn.functional
INDICES = np.array([[0, 2, 2], [5, 2, 1]])
OPTIONS = [
    dict(max_norm=1.0),
    dict(max_norm=1.5, norm_type=1.0),
    dict(max_norm=2.0, norm_type=float("inf")),
    dict(max_norm=0.5, norm_type=3.0),
    dict(scale_grad_by_freq=True),
    dict(scale_grad_by_freq=True, padding_idx=2),
    dict(scale_grad_by_freq=True, max_norm=0.8, padding_idx=1),
]


def lookup_both(weight, options, indices=INDICES, seed=0):
    """Run F.embedding in both libraries on copies of ``weight``; backward with the same random
    output gradient. Returns (our weight, their weight, our output, their output)."""
    ours_weight = chainrule.tensor(weight.copy(), requires_grad=True)
    theirs_weight = torch.tensor(weight.copy(), requires_grad=True)
    ours = F.embedding(chainrule.tensor(indices), ours_weight, **options)
    theirs = torch.nn.functional.embedding(torch.tensor(indices), theirs_weight, **options)
    grad_output = np.random.default_rng(seed).normal(size=tuple(theirs.shape)).astype(weight.dtype)
    ours.backward(chainrule.tensor(grad_output))
    theirs.backward(torch.tensor(grad_output))
    return ours_weight, theirs_weight, ours, theirs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("options", OPTIONS, ids=[str(options) for options in OPTIONS])
def test_functional_embedding_matches_pytorch(options, dtype):
    weight = (2 * np.random.default_rng(1).normal(size=(6, 3))).astype(dtype)
    ours_weight, theirs_weight, ours, theirs = lookup_both(weight, options)
    tolerance = dict(atol=1e-10, rtol=1e-7) if dtype == np.float64 else dict(atol=1e-6, rtol=1e-5)
    assert_close(ours, theirs, "output", **tolerance)
    assert_close(ours_weight.detach(), theirs_weight.detach(), "weight after the lookup", **tolerance)
    assert_close(ours_weight.grad, theirs_weight.grad, "weight gradient", **tolerance)
    assert ours_weight._version == theirs_weight._version


def test_max_norm_rescales_only_the_rows_read_and_only_the_long_ones():
    weight = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0], [1.0, 0.0]])
    ours_weight, theirs_weight, _, _ = lookup_both(weight, dict(max_norm=1.0), indices=np.array([0, 1, 1]))
    expected = weight.copy()
    expected[0] *= 1.0 / (5.0 + 1e-7)
    np.testing.assert_allclose(ours_weight.detach().numpy(), expected, rtol=1e-12)
    assert_close(ours_weight.detach(), theirs_weight.detach(), "weight")


def test_max_norm_counts_as_a_write_even_when_no_row_is_too_long():
    for lib in (chainrule, torch):
        weight = lib.ones(3, 2, requires_grad=True)
        lib.nn.functional.embedding(lib.tensor([0, 1]), weight, max_norm=10.0)
        assert weight._version == 1


def finite_difference_gradient(loss, weight, step=1e-6):
    gradient = np.zeros_like(weight)
    for position in np.ndindex(weight.shape):
        shifted = [weight.copy(), weight.copy()]
        shifted[0][position] += step
        shifted[1][position] -= step
        gradient[position] = (loss(shifted[0]) - loss(shifted[1])) / (2 * step)
    return gradient


@pytest.mark.parametrize("padding_idx", [None, 5])
def test_scale_grad_by_freq_is_the_true_gradient_divided_by_the_counts(padding_idx):
    weight = np.random.default_rng(2).normal(size=(6, 3))
    grad_output = np.random.default_rng(3).normal(size=INDICES.shape + (3,))
    ours = chainrule.tensor(weight, requires_grad=True)
    output = F.embedding(chainrule.tensor(INDICES), ours, padding_idx=padding_idx, scale_grad_by_freq=True)
    (output * chainrule.tensor(grad_output)).sum().backward()

    def loss(values):
        return float((F.embedding(chainrule.tensor(INDICES), chainrule.tensor(values)) * chainrule.tensor(grad_output)).sum())

    counts = np.maximum(np.bincount(INDICES.reshape(-1), minlength=6), 1)[:, None]
    expected = finite_difference_gradient(loss, weight) / counts
    if padding_idx is not None:
        expected[padding_idx] = 0.0
    np.testing.assert_allclose(ours.grad.numpy(), expected, atol=1e-8)


def test_max_norm_gradient_is_the_lookups_at_the_rescaled_weight():
    weight = 3 * np.random.default_rng(4).normal(size=(6, 3))
    grad_output = np.random.default_rng(5).normal(size=INDICES.shape + (3,))
    ours = chainrule.tensor(weight, requires_grad=True)
    (F.embedding(chainrule.tensor(INDICES), ours, max_norm=1.0) * chainrule.tensor(grad_output)).sum().backward()
    rescaled = ours.detach().numpy().copy()
    assert np.all(np.linalg.norm(rescaled[np.unique(INDICES)], axis=1) <= 1.0 + 1e-12)

    def loss(values):
        return float((F.embedding(chainrule.tensor(INDICES), chainrule.tensor(values)) * chainrule.tensor(grad_output)).sum())

    np.testing.assert_allclose(ours.grad.numpy(), finite_difference_gradient(loss, rescaled), atol=1e-8)


@pytest.mark.parametrize("options", [dict(max_norm=1.0), dict(scale_grad_by_freq=True, padding_idx=0)])
def test_embedding_module_matches_pytorch_over_two_steps(options):
    theirs = torch.nn.Embedding(6, 3, **options).double()
    ours = nn.Embedding(6, 3, **options).double()
    with torch.no_grad():
        theirs.weight.mul_(3)
    ours.load_state_dict({"weight": chainrule.tensor(theirs.weight.detach().numpy().copy())})
    ours_optimizer = chainrule.optim.SGD(ours.parameters(), lr=0.5)
    theirs_optimizer = torch.optim.SGD(theirs.parameters(), lr=0.5)
    for step in range(2):
        indices = np.random.default_rng(step).integers(0, 6, size=(3, 4))
        (ours(chainrule.tensor(indices)) ** 2).sum().backward()
        (theirs(torch.tensor(indices)) ** 2).sum().backward()
        ours_optimizer.step()
        theirs_optimizer.step()
        ours_optimizer.zero_grad()
        theirs_optimizer.zero_grad()
        assert_close(ours.weight.detach(), theirs.weight.detach(), f"weight after step {step}")


def test_an_index_out_of_range_still_raises_with_max_norm():
    with pytest.raises(IndexError, match="index out of range"):
        nn.Embedding(3, 2, max_norm=1.0)(chainrule.tensor([0, 3]))
