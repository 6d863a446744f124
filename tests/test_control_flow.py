"""torch.while_loop against PyTorch: the loop's values and gradients, ints among the carried
values, and PyTorch's errors when a step changes the structure, shape or dtype it carries."""
import warnings

import numpy as np
import pytest
import torch

import chainrule


def _both(body, carried, requires_grad=True):
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(np.array([1.0, 2.0]), requires_grad=requires_grad)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (PyTorch's eager while_loop goes through its compiler, which warns)
            values = lib.while_loop(lambda i, y: i < 3, lambda i, y: body(lib, i, y), carried(lib, x))
        results.append((values, x))
    return results


def test_while_loop_runs_the_loop_and_its_gradient_as_pytorch():
    (mine, x_mine), (reference, x_reference) = _both(lambda lib, i, y: (i + 1, y * y + 1), lambda lib, x: (lib.tensor(0), x))
    assert type(mine) is tuple and len(mine) == 2
    assert int(mine[0]) == int(reference[0]) == 3
    np.testing.assert_allclose(mine[1].detach().numpy(), reference[1].detach().numpy())
    mine[1].sum().backward()
    reference[1].sum().backward()
    np.testing.assert_allclose(x_mine.grad.numpy(), x_reference.grad.numpy())
    # y1 = x² + 1, y2 = y1² + 1, y3 = y2² + 1: dy3/dx = 2 y2 · 2 y1 · 2 x
    expected = [2 * (y1 ** 2 + 1) * 2 * y1 * 2 * x for x in (1.0, 2.0) for y1 in [x * x + 1]]
    assert x_mine.grad.numpy().tolist() == expected == [80.0, 2080.0]


def test_a_python_int_is_carried_as_an_int_and_a_list_is_accepted():
    # (PyTorch's autograd of while_loop carries tensors only: this is without gradients)
    (mine, _), (reference, _) = _both(lambda lib, i, y: (i + 1, y * 2), lambda lib, x: [0, x], requires_grad=False)
    assert mine[0] == reference[0] == 3 and type(mine[0]) is int
    np.testing.assert_allclose(mine[1].detach().numpy(), reference[1].detach().numpy())


@pytest.mark.parametrize("body", [
    lambda lib, i, y: (i + 1, lib.cat([y, y])),  # another shape
    lambda lib, i, y: (i + 1, y.double()),  # another dtype
    lambda lib, i, y: i + 1,  # fewer values
])
def test_a_step_that_changes_what_it_carries_is_refused_as_in_pytorch(body):
    for lib in (chainrule, torch):
        with warnings.catch_warnings(), pytest.raises(RuntimeError, match="Expected body_fn_output and carried_inputs to have same"):
            warnings.simplefilter("ignore")
            lib.while_loop(lambda i, y: i < 3, lambda i, y: body(lib, i, y), (lib.tensor(0), lib.ones(2)))
