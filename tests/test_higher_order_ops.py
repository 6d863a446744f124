"""torch._higher_order_ops.associative_scan: the scan's values, pytrees, reverse, gradients and
errors against PyTorch's generic mode (which combines in the same order, so floats agree)."""
import numpy as np
import pytest
import torch
from torch._higher_order_ops.associative_scan import associative_scan as torch_scan

import chainrule
from chainrule._higher_order_ops.associative_scan import associative_scan


def linear_recurrence(left, right):
    """(a, b) pairs combined so that the scan of (a_t, b_t) is h_t = a_t h_{t-1} + b_t (Mamba's)."""
    return left[0] * right[0], right[0] * left[1] + right[1]


@pytest.mark.parametrize("length", [1, 2, 5, 8, 13])
@pytest.mark.parametrize("reverse", [False, True])
def test_sums_and_linear_recurrences_are_pytorchs_bits(length, reverse):
    x = np.random.default_rng(length).standard_normal((3, length, 4)).astype(np.float32)
    decay = np.random.default_rng(length + 1).uniform(0.5, 1.0, (3, length, 4)).astype(np.float32)
    ours = associative_scan(lambda a, b: a + b, chainrule.tensor(x), 1, reverse=reverse, combine_mode="generic")
    theirs = torch_scan(lambda a, b: a + b, torch.tensor(x), 1, reverse=reverse, combine_mode="generic")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    expected = np.flip(np.cumsum(np.flip(x, 1), 1), 1) if reverse else np.cumsum(x, 1)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-5, atol=1e-5)
    our_pair = associative_scan(linear_recurrence, (chainrule.tensor(decay), chainrule.tensor(x)), -2, reverse=reverse, combine_mode="generic")
    their_pair = torch_scan(linear_recurrence, (torch.tensor(decay), torch.tensor(x)), -2, reverse=reverse, combine_mode="generic")
    for mine, pytorchs in zip(our_pair, their_pair):
        np.testing.assert_array_equal(mine.numpy(), pytorchs.numpy())


def test_gradients_and_an_elementwise_written_combine_are_pytorchs():
    decay = np.random.default_rng(0).uniform(0.5, 1.0, (6, 3))
    inputs = np.random.default_rng(1).standard_normal((6, 3))
    matrices = np.random.default_rng(2).standard_normal((5, 2, 2))
    results = []
    for lib, scan in ((chainrule, associative_scan), (torch, torch_scan)):
        x = lib.tensor(inputs, requires_grad=True)
        _, states = scan(linear_recurrence, (lib.tensor(decay), x), 0, combine_mode="generic")
        (states * lib.arange(3.0)).sum().backward()
        products = scan(lambda p, q: p @ q, lib.tensor(matrices), 0, combine_mode="generic")  # vmapped: one pair a call
        results.append((states.detach().numpy(), x.grad.numpy(), products.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(results[0][2][-1], np.linalg.multi_dot(list(matrices)), rtol=1e-12)


@pytest.mark.parametrize(
    "arguments, error, words",
    [
        (dict(combine_mode="pointwise"), ValueError, "For combine_mode='pointwise', all input tensors need to be on CUDA"),
        (dict(combine_mode="parallel"), ValueError, "Combine_mode must either 'pointwise' or 'generic'"),
        (dict(dim=3), IndexError, "Dimension out of range"),
        (dict(reverse=1), RuntimeError, "Reverse must be a bool"),
        (dict(combine_fn=3), ValueError, "Combine_fn must be a callable"),
    ],
)
def test_errors_as_pytorchs(arguments, error, words):
    for lib, scan in ((chainrule, associative_scan), (torch, torch_scan)):
        call = dict(combine_fn=lambda a, b: a + b, xs=lib.ones(2, 3), dim=0, combine_mode="generic", **{})
        call.update(arguments)
        with pytest.raises(error, match=words):
            scan(**call)


def test_the_package_name_is_the_function():
    import chainrule._higher_order_ops as package

    assert package.associative_scan is associative_scan and callable(torch._higher_order_ops.associative_scan)
