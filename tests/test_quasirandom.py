"""chainrule.quasirandom.SobolEngine against PyTorch's: the direction numbers of all 21201
dimensions, the points (plain and scrambled, float32 and float64, bit for bit), the engine's state
and methods, the random numbers scrambling draws, and the errors; and the Sobol property itself."""
import numpy as np
import pytest
import torch

import chainrule


def engines(*args, **kwargs):
    return chainrule.quasirandom.SobolEngine(*args, **kwargs), torch.quasirandom.SobolEngine(*args, **kwargs)


def same(ours, theirs):
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_direction_numbers_of_every_dimension_are_pytorchs():
    ours, theirs = engines(chainrule.quasirandom.SobolEngine.MAXDIM)
    same(ours.sobolstate, theirs.sobolstate)


def test_first_points_of_each_dimension_are_a_permutation_of_the_dyadic_grid():
    """Sobol's property, without PyTorch: the first 2^m points take each value k / 2^m once per dimension."""
    points = chainrule.quasirandom.SobolEngine(40).draw(64, dtype=chainrule.float64).numpy()
    for column in points.T:
        np.testing.assert_array_equal(np.sort(column * 64), np.arange(64))


@pytest.mark.parametrize("scramble, seed", [(False, None), (True, 7), (True, None)])
@pytest.mark.parametrize("dimension", [1, 3, 25])
def test_draws_and_state_match_pytorch(dimension, scramble, seed):
    chainrule.manual_seed(3)
    torch.manual_seed(3)
    ours, theirs = engines(dimension, scramble=scramble, seed=seed)
    assert repr(ours) == repr(theirs)
    same(ours.sobolstate, theirs.sobolstate)
    same(ours.shift, theirs.shift)
    steps = [
        lambda e, lib: e.draw(),
        lambda e, lib: e.draw(5, dtype=lib.float64),
        lambda e, lib: e.fast_forward(6).draw(3),
        lambda e, lib: e.draw(0),
        lambda e, lib: e.reset().draw(4, dtype=lib.float64),
        lambda e, lib: e.draw_base2(2),
        lambda e, lib: e.reset().fast_forward(9).draw(2),
        lambda e, lib: e.draw(3, out=lib.empty(1)),
    ]
    for step in steps:
        same(step(ours, chainrule), step(theirs, torch))
        same(ours.quasi, theirs.quasi)
        assert ours.num_generated == theirs.num_generated
    same(chainrule.rand(3), torch.rand(3))  # scrambling drew from the global generator as PyTorch's does


def test_first_point_takes_the_default_dtype_of_its_time():
    """A scrambled engine's first point is rounded to the default dtype when the engine is made
    (float32 here), even when drawn as float64, as PyTorch's is."""
    ours, theirs = engines(4, scramble=True, seed=1)
    same(ours.draw(2, dtype=chainrule.float64), theirs.draw(2, dtype=torch.float64))
    chainrule.set_default_dtype(chainrule.float64)
    torch.set_default_dtype(torch.float64)
    try:
        ours, theirs = engines(4, scramble=True, seed=1)
        same(ours.draw(2), theirs.draw(2))
    finally:
        chainrule.set_default_dtype(chainrule.float32)
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.quasirandom.SobolEngine(0),
        lambda lib: lib.quasirandom.SobolEngine(21202),
        lambda lib: lib.quasirandom.SobolEngine(2).draw(0),
        lambda lib: lib.quasirandom.SobolEngine(2).draw(-2),
        lambda lib: lib.quasirandom.SobolEngine(2).draw(2, dtype=lib.float16),
        lambda lib: lib.quasirandom.SobolEngine(2).draw(2, dtype=lib.int64),
        lambda lib: lib.quasirandom.SobolEngine(2).fast_forward(3).draw_base2(2),
    ],
)
def test_errors_are_pytorchs(call):
    outcomes = []
    for lib in (chainrule, torch):
        with pytest.raises(Exception) as raised:
            call(lib)
        outcomes.append((type(raised.value), str(raised.value)))
    assert outcomes[0] == outcomes[1]
