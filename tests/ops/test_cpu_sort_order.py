"""Equal elements in the order PyTorch's CPU kernels leave them: sort and argsort (stable=False,
libstdc++'s std::sort), topk (std::partial_sort, or std::nth_element and std::sort), kthvalue
(PyTorch's quickselect), against
PyTorch over rows full of ties, nan included (a symmetric distance matrix, labels, Lovász's sort
of tied errors)."""
import numpy as np
import pytest
import torch

import chainrule


def _tied(seed, shape, kinds, with_nan):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, kinds, shape).astype(np.float32)
    if with_nan:
        values[rng.random(shape) < 0.1] = np.nan
    return values


CALLS = {
    "sort": lambda lib, t, dim, k, flag: lib.sort(t, dim, descending=flag).indices,
    "argsort": lambda lib, t, dim, k, flag: lib.argsort(t, dim, descending=flag),
    "sort stable": lambda lib, t, dim, k, flag: lib.sort(t, dim=dim, descending=flag, stable=True).indices,
    "topk": lambda lib, t, dim, k, flag: lib.topk(t, k, dim, largest=flag).indices,
    "sort of integers": lambda lib, t, dim, k, flag: lib.sort(lib.nan_to_num(t, 7.0).long(), dim, descending=flag).indices,
    "kthvalue": lambda lib, t, dim, k, flag: lib.kthvalue(t, k, dim, keepdim=flag).indices,
    "median": lambda lib, t, dim, k, flag: lib.median(t, dim).indices,
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("seed", range(8))
def test_ties_are_ordered_as_pytorchs(name, seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 4)), int(rng.integers(2, 300)))
    values = _tied(seed, shape, int(rng.integers(1, 6)), seed % 2 == 1)
    dim, flag = seed % 2, bool(seed % 3)
    k = int(rng.integers(1, shape[dim] + 1))
    ours, theirs = (CALLS[name](lib, lib.tensor(values), dim, k, flag).tolist() for lib in (chainrule, torch))
    assert ours == theirs


def test_seventeen_zeros_sorted_descending():
    """Above 16 elements std::sort is no longer one insertion sort: not stable."""
    assert chainrule.sort(chainrule.zeros(17), descending=True).indices.tolist() == [8, 16, 15, 14, 13, 12, 11, 10, 9, 0, 7, 6, 5, 4, 3, 2, 1]


def test_a_long_integer_vector_sorted_ascending_is_stable_as_pytorchs_radix_sort():
    values = np.random.default_rng(0).integers(0, 3, 40000)
    for flag in (False, True):
        ours, theirs = (lib.sort(lib.tensor(values), descending=flag).indices.numpy() for lib in (chainrule, torch))
        np.testing.assert_array_equal(ours, theirs)


def test_the_gradient_of_a_sort_of_ties_goes_where_pytorchs_goes():
    """Lovász-style: the sorted errors are weighted by their rank, and ties decide who gets what."""
    grads = []
    for lib in (chainrule, torch):
        x = lib.tensor([0.5, 0.0, 0.5, 0.0] * 6, requires_grad=True)
        values, _ = lib.sort(x, descending=True)
        (values * lib.arange(24.0)).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]
