"""kthvalue, median, nanmedian, mode, cummax, cummin and the other scans under ``chainrule.compile``:
the positions they read are found from the values on every call (``computed_without_gradient``),
so a compiled step replays with new values, ties and nan on each call, and gives eager's values,
indices and gradients bit for bit, without a warning; one case of each also agrees with PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import chainrule

CALLS = 4


def values_with_ties(shape, seed, nan=False):
    """float64 values drawn from a few integers (many ties), nan in some places when ``nan``; a
    1-d input's last element nan, and, for 2-d and more, a whole row of nan along the last axis."""
    rng = np.random.default_rng(seed)
    array = rng.integers(-2, 3, size=shape).astype(np.float64) + rng.integers(0, 2, size=shape) * 0.5
    if nan:
        array[rng.random(shape) < 0.25] = np.nan
        if array.ndim >= 2:
            array[(0,) * (array.ndim - 1)] = np.nan
        elif array.ndim == 1:
            array[-1] = np.nan
    return array


def result_pair(result):
    """(values, indices), or (values, None) for an operation giving one tensor."""
    return (result.values, result.indices) if isinstance(result, tuple) else (result, None)


def run_step(operation, array, weights, lib=chainrule):
    """operation(x), then (values · weights).sum().backward(): (values, indices, x.grad) as arrays."""
    x = lib.tensor(array, dtype=lib.float64, requires_grad=True)
    values, indices = result_pair(operation(x))
    (values * lib.tensor(weights, dtype=lib.float64)).sum().backward()
    return tuple(None if each is None else each.detach().numpy() for each in (values, indices, x.grad))


def compiled_step(operation):
    """step(x, weights): operation(x), then (values · weights).sum().backward(), compiled."""

    @chainrule.compile
    def step(x, weights):
        values, indices = result_pair(operation(x))
        (values * weights).sum().backward()
        return values, indices

    return step


def assert_bitwise_equal(got, expected):
    for got_array, expected_array in zip(got, expected):
        if expected_array is None:
            assert got_array is None
            continue
        assert got_array.dtype == expected_array.dtype and got_array.shape == expected_array.shape
        assert got_array.tobytes() == expected_array.tobytes()


# name -> (operation, input shape, whether the values hold nan)
CASES = {
    "kthvalue last dim": (lambda x: x.kthvalue(2), (4, 5), False),
    "kthvalue dim 0 keepdim": (lambda x: chainrule.kthvalue(x, 3, 0, keepdim=True), (4, 5), False),
    "kthvalue middle dim of 3-d": (lambda x: x.kthvalue(1, 1), (2, 3, 4), False),
    "kthvalue of 1-d": (lambda x: x.kthvalue(4), (6,), False),
    "kthvalue with nan": (lambda x: x.kthvalue(5, 1), (3, 6), True),
    "median dim 1": (lambda x: x.median(1), (4, 5), False),
    "median dim -1 keepdim with nan": (lambda x: x.median(-1, keepdim=True), (4, 6), True),
    "median dim 0 of 3-d": (lambda x: chainrule.median(x, 0), (3, 2, 4), True),
    "median of 1-d": (lambda x: x.median(0), (7,), True),
    "median of all": (lambda x: x.median(), (4, 5), False),
    "median of all with nan": (lambda x: x.median(), (4, 5), True),
    "nanmedian dim 1": (lambda x: x.nanmedian(1), (4, 6), True),
    "nanmedian dim 0 keepdim": (lambda x: chainrule.nanmedian(x, 0, keepdim=True), (5, 3), True),
    "nanmedian dim -1 of 3-d": (lambda x: x.nanmedian(-1), (2, 3, 5), True),
    "nanmedian of all": (lambda x: x.nanmedian(), (4, 5), True),
    "mode last dim": (lambda x: x.mode(), (4, 7), False),
    "mode dim 0 keepdim": (lambda x: chainrule.mode(x, 0, keepdim=True), (6, 3), False),
    "mode middle dim of 3-d": (lambda x: x.mode(1), (2, 5, 3), False),
    "mode of 1-d": (lambda x: x.mode(0), (8,), False),
    "cummax dim 1": (lambda x: x.cummax(1), (4, 6), False),
    "cummax dim 0 with nan": (lambda x: chainrule.cummax(x, 0), (5, 3), True),
    "cummax of 3-d": (lambda x: x.cummax(-1), (2, 3, 4), True),
    "cummin dim 1": (lambda x: x.cummin(1), (4, 6), False),
    "cummin dim 0 with nan": (lambda x: chainrule.cummin(x, 0), (5, 3), True),
    "cummin of 1-d": (lambda x: x.cummin(0), (7,), True),
    "cumsum": (lambda x: x.cumsum(1), (3, 5), False),
    "cumprod with zeros": (lambda x: x.cumprod(0), (4, 3), False),
    "logcumsumexp": (lambda x: x.logcumsumexp(-1), (3, 5), False),
    "kthvalue and cummax of a 0-d input": (lambda x: x.kthvalue(1).values + x.cummax(0).values * x.mode().values, (), False),
}


@pytest.mark.parametrize("name", CASES)
def test_a_compiled_step_replays_with_new_values_ties_and_nan_bit_for_bit(name):
    operation, shape, nan = CASES[name]
    step = compiled_step(operation)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for call in range(CALLS):
            array = values_with_ties(shape, seed=call, nan=nan)
            weights = np.random.default_rng(100 + call).standard_normal(np.shape(run_step(operation, array, 1.0)[0]))
            x = chainrule.tensor(array, dtype=chainrule.float64, requires_grad=True)
            values, indices = step(x, chainrule.tensor(weights, dtype=chainrule.float64))
            got = tuple(None if each is None else each.detach().numpy() for each in (values, indices, x.grad))
            assert_bitwise_equal(got, run_step(operation, array, weights))
    assert len(step.recordings) == 1


def test_the_positions_are_found_again_in_the_program():
    """The program calls the function that finds the positions, rather than keeping the first call's."""

    @chainrule.compile
    def step(x):
        result = x.kthvalue(2, 1)
        result.values.sum().backward()
        return result.indices

    x = chainrule.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    assert step(x).tolist() == [2]
    y = chainrule.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    assert step(y).tolist() == [1]
    assert y.grad.tolist() == [[0.0, 1.0, 0.0]]
    assert "kth_positions(" in step.code


# name -> (operation for chainrule and torch, input values): ties only where PyTorch's choice of
# index is documented (mode: its last occurrence; cummax, cummin: the latest position), and no slice
# of nan alone (PyTorch's index there comes from its selection algorithm).
TORCH_CASES = {
    "kthvalue": (lambda x: x.kthvalue(2, 1), lambda: np.random.default_rng(0).standard_normal((3, 5))),
    "median": (lambda x: x.median(0, keepdim=True), lambda: np.random.default_rng(1).standard_normal((5, 3))),
    "nanmedian": (lambda x: x.nanmedian(1), lambda: np.array([[1.0, np.nan, -2.0, 4.0], [np.nan, 2.0, np.nan, np.nan], [0.5, 3.0, np.nan, -1.0]])),
    "mode": (lambda x: x.mode(1), lambda: np.array([[1.0, 2.0, 1.0, 2.0, 3.0], [0.0, 0.0, -1.0, 5.0, 0.0], [4.0, 4.0, 4.0, 4.0, 4.0]])),
    "cummax": (lambda x: x.cummax(1), lambda: values_with_ties((3, 6), seed=5)),
    "cummin": (lambda x: x.cummin(0), lambda: values_with_ties((6, 3), seed=6)),
}


@pytest.mark.parametrize("name", TORCH_CASES)
def test_a_compiled_step_agrees_with_pytorch(name):
    operation, make_values = TORCH_CASES[name]
    array = make_values()
    weights = np.random.default_rng(7).standard_normal(np.shape(run_step(operation, array, 1.0)[0]))
    step = compiled_step(operation)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            x = chainrule.tensor(array, dtype=chainrule.float64, requires_grad=True)
            values, indices = step(x, chainrule.tensor(weights, dtype=chainrule.float64))
    expected = run_step(operation, array, weights, lib=torch)
    np.testing.assert_array_equal(values.detach().numpy(), expected[0])  # (it requires grad, as eagerly)
    np.testing.assert_array_equal(indices.numpy(), expected[1])
    np.testing.assert_array_equal(x.grad.numpy(), expected[2])
    assert len(step.recordings) == 1


@pytest.mark.parametrize("operation", [
    lambda x, y: (x * chainrule.bucketize(x.detach(), chainrule.tensor([-1.0, 0.0, 1.0], dtype=x.dtype), right=True)).sum(),
    lambda x, y: (x * chainrule.searchsorted(chainrule.sort(y).values, x.detach(), out_int32=True)).sum(),
    lambda x, y: (x * chainrule.searchsorted(y, x.detach(), sorter=chainrule.argsort(y))).sum(),
    lambda x, y: x.sum() * chainrule.histc(x.detach(), 5).max(),
    lambda x, y: x.sum() * chainrule.histc(x.detach(), 4, min=-1, max=1)[1],
    lambda x, y: chainrule.linalg.pinv(x[:3, :2] @ x[:2, :3], atol=y[0].abs()).sum(),
    lambda x, y: x.sum() * chainrule.linalg.matrix_rank(x[:3, :2] @ x[:2, :3]),
    lambda x, y: chainrule.nn.functional.multi_margin_loss(x, (y[:4] > 0).long() + (y[:4] > 1).long(), p=2),
    lambda x, y: chainrule.nn.functional.multi_margin_loss(x, (y[:4] > 0).long(), weight=y[:3].abs()),
    lambda x, y: (x * chainrule.heaviside(x.detach(), y[0].reshape(1))).sum(),
])
def test_positions_counts_and_tolerances_read_from_values_replay(operation):
    """bucketize, searchsorted, histc's counts, pinv's and matrix_rank's tolerances, the one-hot
    targets of multi_margin_loss and heaviside's steps follow the values: each call's are computed
    again, so a compiled step gives eager's results and gradients."""
    def step(x, y):
        loss = operation(x, y)
        loss.backward()
        return loss.detach(), x.grad

    compiled = chainrule.compile(step)
    rng = np.random.default_rng(4)
    for _ in range(CALLS):
        x, y = rng.standard_normal((4, 3)), rng.standard_normal(5)
        ours = compiled(chainrule.tensor(x, requires_grad=True), chainrule.tensor(y))
        theirs = step(chainrule.tensor(x, requires_grad=True), chainrule.tensor(y))
        assert_bitwise_equal([t.numpy() for t in ours], [t.numpy() for t in theirs])
    assert compiled.eager_reason is None
