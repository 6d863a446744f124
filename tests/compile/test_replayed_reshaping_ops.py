"""diagonal, diag_embed, fill_diagonal_, combinations, bincount, nanmean, quantile, block_diag,
gradient, vander and their kin under ``chainrule.compile``: the index grids they build from shapes
are kept as constants (``array_from_shapes``), the zeros they join as factories
(``made_from_arguments``), and what they read from values (nan counts, quantile ranks, sample
weights, bincount's checked input) is computed again on each call (``computed_without_gradient``),
so a compiled step replays with new values and gives eager's values and gradients bit for bit,
without a warning; one case of each also agrees with PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import chainrule

CALLS = 4

# Module-level tensors, which a step reads as state: quantiles and sample coordinates
QUANTILES = chainrule.tensor([0.0, 0.25, 0.6, 1.0], dtype=chainrule.float64)
TORCH_QUANTILES = torch.tensor([0.0, 0.25, 0.6, 1.0], dtype=torch.float64)
COORDINATES = chainrule.tensor([0.0, 0.5, 1.5, 1.75, 3.0, 4.0], dtype=chainrule.float64)
TORCH_COORDINATES = torch.tensor([0.0, 0.5, 1.5, 1.75, 3.0, 4.0], dtype=torch.float64)


def quantiles(lib):
    return QUANTILES if lib is chainrule else TORCH_QUANTILES


def coordinates(lib):
    return COORDINATES if lib is chainrule else TORCH_COORDINATES


def values(shape, seed, nan=False):
    """float64 normal values; with ``nan``, nan in some places and the whole first row."""
    rng = np.random.default_rng(seed)
    array = rng.standard_normal(shape)
    if nan:
        array[rng.random(shape) < 0.25] = np.nan
        array[0] = np.nan
    return array


def filled_diagonal(lib, x, wrap=False):
    y = x * 2
    y.fill_diagonal_(-1.5, wrap=wrap)
    return y


# name -> (operation(lib, x), input shape, whether the values hold nan)
CASES = {
    "diagonal above": (lambda lib, x: lib.diagonal(x, 1), (4, 5), False),
    "diagonal below, dims of 3-d": (lambda lib, x: lib.diagonal(x, -1, 2, 0), (4, 3, 5), False),
    "Tensor.diagonal": (lambda lib, x: x.diagonal(), (3, 3), False),
    "diag of a matrix": (lambda lib, x: lib.diag(x, -2), (5, 4), False),
    "diag of a vector": (lambda lib, x: lib.diag(x, 1), (4,), False),
    "linalg.diagonal": (lambda lib, x: lib.linalg.diagonal(x, offset=1), (2, 3, 4), False),
    "corrcoef": (lambda lib, x: lib.corrcoef(x), (3, 6), False),
    "diag_embed": (lambda lib, x: lib.diag_embed(x, -1, 0, 2), (2, 3), False),
    "diagflat": (lambda lib, x: lib.diagflat(x, 2), (2, 2), False),
    "diagonal_scatter": (lambda lib, x: lib.diagonal_scatter(x * 3, x[0, :3] * x[1, :3], 1), (4, 4), False),
    "fill_diagonal_": (filled_diagonal, (4, 3), False),
    "fill_diagonal_ wrapped": (lambda lib, x: filled_diagonal(lib, x, wrap=True), (7, 3), False),
    "combinations": (lambda lib, x: lib.combinations(x, 2), (5,), False),
    "pdist": (lambda lib, x: lib.pdist(x), (5, 3), False),
    "combinations with replacement": (lambda lib, x: lib.combinations(x, 3, with_replacement=True), (4,), False),
    "nanmean over all": (lambda lib, x: lib.nanmean(x), (4, 5), True),
    "nanmean over dim 1": (lambda lib, x: lib.nanmean(x, 1, keepdim=True), (4, 5), True),
    "quantile": (lambda lib, x: lib.quantile(x, 0.3, dim=1), (3, 5), False),
    "quantile with nan": (lambda lib, x: lib.quantile(x, quantiles(lib), dim=0, keepdim=True), (5, 3), True),
    "quantile of all": (lambda lib, x: lib.quantile(x, quantiles(lib), interpolation="midpoint"), (3, 4), False),
    "nanquantile": (lambda lib, x: lib.nanquantile(x, quantiles(lib), dim=1, interpolation="nearest"), (4, 6), True),
    "nanquantile lower": (lambda lib, x: lib.nanquantile(x, 0.8, interpolation="lower"), (4, 6), True),
    "block_diag": (lambda lib, x: lib.block_diag(x, x[0], x[1, 1], x[:2, :1]), (3, 4), False),
    "gradient": (lambda lib, x: lib.gradient(x, spacing=0.5, dim=1)[0], (3, 6), False),
    "gradient edge order 2 of every dim": (lambda lib, x: sum(lib.gradient(x, spacing=[2.0, 0.5], edge_order=2)), (4, 6), False),
    "gradient at coordinates": (lambda lib, x: lib.gradient(x, spacing=[coordinates(lib)], dim=1, edge_order=2)[0], (3, 6), False),
    "vander": (lambda lib, x: lib.vander(x), (4,), False),
    "vander increasing": (lambda lib, x: lib.vander(x, 3, increasing=True), (5,), False),
}


TORCH_VANDER = {
    "vander": lambda lib, x: lib.linalg.vander(x).flip(-1),
    "vander increasing": lambda lib, x: lib.linalg.vander(x, N=3),
}


def run_step(operation, array, weights, lib=chainrule):
    """operation(lib, x), then (result · weights).sum().backward(): (result, x.grad) as arrays."""
    x = lib.tensor(array, dtype=lib.float64, requires_grad=True)
    result = operation(lib, x)
    (result * lib.tensor(weights, dtype=lib.float64)).sum().backward()
    return result.detach().numpy(), x.grad.numpy()


def compiled_step(operation):
    @chainrule.compile
    def step(x, weights):
        result = operation(chainrule, x)
        (result * weights).sum().backward()
        return result

    return step


def assert_bitwise_equal(got, expected):
    for got_array, expected_array in zip(got, expected):
        assert got_array.dtype == expected_array.dtype and got_array.shape == expected_array.shape
        assert got_array.tobytes() == expected_array.tobytes()


@pytest.mark.parametrize("name", CASES)
def test_a_compiled_step_replays_with_new_values_bit_for_bit(name):
    operation, shape, nan = CASES[name]
    step = compiled_step(operation)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for call in range(CALLS):
            array = values(shape, seed=call, nan=nan)
            weights = np.random.default_rng(100 + call).standard_normal(run_step(operation, array, 1.0)[0].shape)
            x = chainrule.tensor(array, dtype=chainrule.float64, requires_grad=True)
            result = step(x, chainrule.tensor(weights, dtype=chainrule.float64))
            assert_bitwise_equal((result.detach().numpy(), x.grad.numpy()), run_step(operation, array, weights))
    assert len(step.recordings) == 1


@pytest.mark.parametrize("name", [name for name, (_, _, nan) in CASES.items() if not nan or name.startswith("nan")])
def test_a_compiled_step_agrees_with_pytorch(name):
    operation, shape, nan = CASES[name]
    array = values(shape, seed=9, nan=nan)
    weights = np.random.default_rng(7).standard_normal(run_step(operation, array, 1.0)[0].shape)
    step = compiled_step(operation)
    # torch.vander's backward fails (an in-place cumprod); torch.linalg.vander holds the increasing powers
    reference = TORCH_VANDER.get(name, operation)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            x = chainrule.tensor(array, dtype=chainrule.float64, requires_grad=True)
            result = step(x, chainrule.tensor(weights, dtype=chainrule.float64))
    expected_values, expected_grad = run_step(reference, array, weights, lib=torch)
    np.testing.assert_allclose(result.detach().numpy(), expected_values, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), expected_grad, rtol=1e-12, atol=1e-12)
    assert len(step.recordings) == 1


def test_the_quantiles_and_coordinates_are_read_again_on_each_call():
    """A quantile tensor or a coordinate tensor changed between calls changes the replayed result."""

    @chainrule.compile
    def step(x, q, coordinates):
        result = chainrule.quantile(x, q, dim=1) + chainrule.gradient(x, spacing=[coordinates], dim=1)[0][:, :2].T
        result.sum().backward()
        return result

    def eager(array, q, coordinates):
        x = chainrule.tensor(array, requires_grad=True)
        result = chainrule.quantile(x, q, dim=1) + chainrule.gradient(x, spacing=[coordinates], dim=1)[0][:, :2].T
        result.sum().backward()
        return result.detach().numpy(), x.grad.numpy()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for call in range(3):
            array = values((3, 5), seed=call)
            q = chainrule.tensor([0.1 * call, 1.0 - 0.2 * call], dtype=chainrule.float64)
            coordinates = chainrule.tensor(np.cumsum(np.random.default_rng(call).random(5) + 0.1))
            x = chainrule.tensor(array, requires_grad=True)
            result = step(x, q, coordinates)
            assert_bitwise_equal((result.detach().numpy(), x.grad.numpy()), eager(array, q, coordinates))
    assert len(step.recordings) == 1
    assert "quantile_ranks(" in step.code and "sample_weights(" in step.code


def test_value_checks_run_again_on_a_replayed_call():
    """quantile's q outside [0, 1] raises on a replayed call as in eager."""

    @chainrule.compile
    def quantiles(x, q):
        result = chainrule.quantile(x, q)
        result.sum().backward()
        return result

    x = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert quantiles(x, chainrule.tensor([0.5])).tolist() == [2.0]
        assert quantiles(x, chainrule.tensor([0.25])).tolist() == [1.5]
    with pytest.raises(RuntimeError, match=r"quantile\(\) q values must be in the range \[0, 1\] \(got \[1.5\]\)"):
        quantiles(x, chainrule.tensor([1.5]))
    assert len(quantiles.recordings) == 1


def test_bincount_whose_length_follows_the_values_runs_eagerly():
    """bincount's result is as long as the largest value says: what follows it was recorded for one
    length, so the step runs eagerly (one warning), with eager's results and checks."""

    @chainrule.compile
    def counted(positions, weights):
        result = chainrule.bincount(positions, weights)
        result.sum().backward()
        return result

    x = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.warns(UserWarning, match="bincount, whose result's shape depends on the values"):
        assert counted(chainrule.tensor([0, 2, 2]), x).tolist() == [1.0, 0.0, 5.0]
    assert counted(chainrule.tensor([1, 1, 0]), x).tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs"):
        counted(chainrule.tensor([0, -1, 2]), x)
