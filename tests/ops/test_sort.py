"""Sorting and selecting by order: the table runs gradcheck and the PyTorch comparison (values drawn
without ties, so that there is one right answer and gradcheck does not straddle a switch); then
indices, ties, nan, 0-d and empty inputs, errors and node names."""
import math

import numpy as np
import pytest
import torch

import chainrule
from tests.ops.oracle import library_case, one_shape, table_test
from tests.ops.second_order import second_order_test
from tests.ops.test_reduce import distinct

ANY = one_shape()
VECTOR_UP = one_shape(min_dims=1)


def last_size(a):
    return a.shape[-1] if a.dim() else 1


CASES = [
    library_case("sort_last", lambda lib, a: a.sort().values, ANY, domain=distinct),
    library_case("sort_first_descending", lambda lib, a: lib.sort(a, 0, descending=True)[0], ANY, domain=distinct),
    library_case("sort_stable", lambda lib, a: a.sort(dim=-1, stable=True).values, ANY, domain=distinct),
    library_case("msort", lambda lib, a: lib.msort(a), ANY, domain=distinct),
    library_case("topk_largest", lambda lib, a: a.topk(min(2, last_size(a))).values, ANY, domain=distinct),
    library_case("topk_smallest_dim0", lambda lib, a: lib.topk(a, 1, 0, largest=False).values, ANY, domain=distinct),
    library_case("kthvalue", lambda lib, a: a.kthvalue(last_size(a) // 2 + 1).values, ANY, domain=distinct),
    library_case("kthvalue_keepdim", lambda lib, a: lib.kthvalue(a, 1, 0, keepdim=True)[0], ANY, domain=distinct),
    library_case("median_all", lambda lib, a: a.median(), ANY, domain=distinct),
    library_case("median_dim", lambda lib, a: lib.median(a, -1).values, ANY, domain=distinct),
    library_case("median_dim_keepdim", lambda lib, a: a.median(0, keepdim=True).values, ANY, domain=distinct),
    library_case("nanmedian_all", lambda lib, a: lib.nanmedian(a), ANY, domain=distinct),
    library_case("nanmedian_dim", lambda lib, a: a.nanmedian(-1).values, ANY, domain=distinct),
    library_case("mode", lambda lib, a: a.mode().values, ANY, domain=distinct),
    library_case("mode_dim0_keepdim", lambda lib, a: lib.mode(a, 0, True).values, ANY, domain=distinct),
]

test_op = table_test(CASES)
test_second_order = second_order_test(CASES)


# ----------------------------------------------------------------------------- indices and return types
@pytest.mark.parametrize("call", [
    lambda lib, a: a.sort(1),
    lambda lib, a: lib.sort(a, 0, descending=True),
    lambda lib, a: a.topk(2),
    lambda lib, a: lib.topk(a, 2, dim=0, largest=False),
    lambda lib, a: a.kthvalue(2, 1, keepdim=True),
    lambda lib, a: lib.median(a, 0),
    lambda lib, a: a.nanmedian(1),
    lambda lib, a: lib.mode(a, 1),
])
def test_results_are_pytorchs_named_tuples(call):
    data = distinct(np.random.default_rng(0).standard_normal((4, 5)))
    ours, theirs = call(chainrule, chainrule.tensor(data)), call(torch, torch.tensor(data))
    assert type(ours).__name__ == type(theirs).__name__ and ours._fields == ("values", "indices")
    np.testing.assert_array_equal(ours.values.array, theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.array, theirs.indices.numpy())
    assert ours.indices.dtype == chainrule.int64 and ours[0] is ours.values


def test_argsort_is_the_indices_of_sort():
    data = [[3.0, 1.0, 3.0, 2.0], [0.0, -1.0, 0.0, 5.0]]
    for kwargs in ({}, {"dim": 0}, {"descending": True}, {"dim": 1, "descending": True, "stable": True}):
        ours, theirs = chainrule.tensor(data).argsort(**kwargs), torch.tensor(data).argsort(**kwargs)
        np.testing.assert_array_equal(ours.array, theirs.numpy())
        assert ours.dtype == chainrule.int64 and ours.grad_fn is None
    assert chainrule.argsort(chainrule.tensor(data), 1).tolist() == torch.argsort(torch.tensor(data), 1).tolist()


def test_sort_keeps_equal_elements_in_order_and_puts_nan_last_like_pytorch():
    data = [3.0, 1.0, math.nan, 3.0, 2.0, 1.0, 3.0]
    for descending in (False, True):
        ours = chainrule.tensor(data).sort(descending=descending, stable=True)
        theirs = torch.tensor(data).sort(descending=descending, stable=True)
        np.testing.assert_array_equal(ours.values.array, theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.array, theirs.indices.numpy())


def test_sort_of_integers_and_bools_keeps_their_dtype():
    for data in ([3, -1, 2], [True, False, True]):
        ours, theirs = chainrule.tensor(data).sort(), torch.tensor(data).sort()
        assert ours.values.tolist() == theirs.values.tolist() and str(ours.values.dtype).removeprefix("chainrule.") == str(theirs.values.dtype).removeprefix("torch.")


def test_the_gradient_goes_to_the_chosen_position_on_ties():
    data = [[2.0, 5.0, 5.0, 1.0, 2.0], [4.0, 4.0, 4.0, 4.0, 4.0]]
    for name, call in [
        ("sort", lambda x: x.sort(1, descending=True)),
        ("topk", lambda x: x.topk(3)),
        ("kthvalue", lambda x: x.kthvalue(2)),
        ("median", lambda x: x.median(1)),
        ("mode", lambda x: x.mode(1)),
    ]:
        x = chainrule.tensor(data, requires_grad=True)
        values, indices = call(x)
        weights = chainrule.arange(1.0, values.numel() + 1).reshape(values.shape)
        (values * weights).sum().backward()
        expected = np.zeros((2, 5))
        np.put_along_axis(expected, indices.array.reshape(2, -1), weights.array.reshape(2, -1), 1)
        np.testing.assert_array_equal(x.grad.array, expected, err_msg=name)
        np.testing.assert_array_equal(np.take_along_axis(np.array(data), indices.array.reshape(2, -1), 1), values.array.reshape(2, -1))


def test_mode_is_the_smallest_most_frequent_value_at_its_last_occurrence():
    data = [[1.0, 2.0, 2.0, 1.0, 3.0], [7.0, 7.0, 0.0, 7.0, 0.0], [5.0, 4.0, 3.0, 2.0, 1.0]]
    ours, theirs = chainrule.tensor(data).mode(), torch.tensor(data).mode()
    np.testing.assert_array_equal(ours.values.array, theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.array, theirs.indices.numpy())


def test_median_of_all_elements_shares_the_gradient_among_ties_like_pytorch():
    for data in ([1.0, 2.0, 2.0, 4.0], [[3.0, 3.0], [3.0, 1.0]], [1.0, math.nan, 2.0, math.nan]):
        for name in ("median", "nanmedian"):
            ours, theirs = chainrule.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
            out, expected = getattr(ours, name)(), getattr(theirs, name)()
            np.testing.assert_array_equal(out.array, expected.detach().numpy())
            out.backward()
            expected.backward()
            np.testing.assert_array_equal(ours.grad.array, theirs.grad.numpy())


def test_median_and_nanmedian_read_nan_like_pytorch():
    data = [[1.0, math.nan, 2.0, 4.0], [math.nan, math.nan, math.nan, 0.5], [math.nan] * 4]
    for name in ("median", "nanmedian"):
        ours, theirs = getattr(chainrule.tensor(data), name)(1), getattr(torch.tensor(data), name)(1)
        np.testing.assert_array_equal(ours.values.array, theirs.values.numpy())
        # Which nan of an all-nan slice PyTorch returns depends on its selection algorithm.
        np.testing.assert_array_equal(ours.indices.array[:2], theirs.indices.numpy()[:2])
        np.testing.assert_array_equal(getattr(chainrule.tensor(data), name)().array, getattr(torch.tensor(data), name)().numpy())


def test_zero_dimensional_and_empty_inputs_follow_pytorch():
    for call in (
        lambda lib, a: a.sort(),
        lambda lib, a: a.topk(1),
        lambda lib, a: a.kthvalue(1, 0),
        lambda lib, a: lib.median(a, -1),
        lambda lib, a: a.mode(),
    ):
        ours, theirs = call(chainrule, chainrule.tensor(3.0)), call(torch, torch.tensor(3.0))
        assert ours.values.shape == () and ours.values.item() == theirs.values.item() and ours.indices.item() == 0
    empty = chainrule.zeros(2, 0)
    assert empty.sort(1).values.shape == (2, 0) and empty.topk(0).indices.shape == (2, 0)
    assert math.isnan(chainrule.zeros(0).median().item()) and math.isnan(chainrule.zeros(0).nanmedian().item())
    assert empty.median(0).values.shape == (0,)
    assert chainrule.tensor([1, 2, 3]).median().item() == 2 and chainrule.tensor(2.0).argsort().item() == 0


@pytest.mark.parametrize("call, error, words", [
    (lambda x: x.topk(4), RuntimeError, r"topk\(\): selected index k out of range.*k = 4"),
    (lambda x: x.topk(-1), RuntimeError, "selected index k out of range"),
    (lambda x: x.kthvalue(0), RuntimeError, r"kthvalue\(\): selected number k out of range for dimension -1"),
    (lambda x: x.kthvalue(4, 1), RuntimeError, "k = 4.*3 elements"),
    (lambda x: x.sort(2), IndexError, r"sort.*range of \[-2, 1\].*got 2"),
    (lambda x: x.argsort((0, 1)), TypeError, "argsort.*must be int, not tuple"),
    (lambda x: x[:, :0].median(1), IndexError, r"median\(\): Expected reduction dim 1 to have non-zero size"),
    (lambda x: x[:, :0].mode(1), IndexError, r"mode\(\): Expected reduction dim 1 to have non-zero size"),
    (lambda x: x[:, :0].kthvalue(1, 1), IndexError, r"kthvalue\(\): Expected reduction dim 1 to have non-zero size"),
])
def test_errors_match_pytorchs_and_name_the_operation(call, error, words):
    with pytest.raises(error, match=words):
        call(chainrule.ones(2, 3))
    with pytest.raises(error):
        call(torch.ones(2, 3))


@pytest.mark.parametrize("call", [
    lambda lib, x: x.sort().values, lambda lib, x: x.sort(stable=True).values, lambda lib, x: lib.msort(x),
    lambda lib, x: x.topk(2).values, lambda lib, x: x.kthvalue(1).values, lambda lib, x: x.median(),
    lambda lib, x: x.median(0).values, lambda lib, x: x.nanmedian(), lambda lib, x: x.nanmedian(1).values,
    lambda lib, x: x.mode().values,
])
def test_nodes_are_named_as_pytorch_names_them(call):
    names = [call(lib, lib.ones(2, 3, requires_grad=True)).grad_fn.name() for lib in (chainrule, torch)]
    assert names[0] == names[1]
