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
from tests.ops.test_reduce import distinct, raises_like_pytorch, with_nans

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
    library_case("quantile_all", lambda lib, a: a.quantile(0.3), ANY, domain=distinct),
    library_case("quantile_dim_q_tensor", lambda lib, a: lib.quantile(a, lib.tensor([0.25, 0.5, 0.9], dtype=lib.float64), dim=-1), ANY, domain=distinct),
    library_case("quantile_all_keepdim", lambda lib, a: a.quantile(lib.tensor([0.1, 0.6], dtype=lib.float64), keepdim=True), ANY, domain=distinct),
    library_case("quantile_midpoint_keepdim", lambda lib, a: a.quantile(0.5, dim=0, keepdim=True, interpolation="midpoint"), ANY, domain=distinct),
    library_case("quantile_nearest", lambda lib, a: lib.quantile(a, 0.7, -1, interpolation="nearest"), ANY, domain=distinct),
    library_case("nanquantile_dim", lambda lib, a: a.nanquantile(0.4, dim=-1), ANY, domain=lambda a: with_nans(distinct(a))),
    library_case("nanquantile_all_higher", lambda lib, a: lib.nanquantile(a, 0.4, interpolation="higher"), ANY, domain=lambda a: with_nans(distinct(a))),
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
    assert type(ours).__name__ == type(theirs).__name__ and ours.__match_args__ == ("values", "indices")
    np.testing.assert_array_equal(ours.values._array, theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices._array, theirs.indices.numpy())
    assert ours.indices.dtype == chainrule.int64 and ours[0] is ours.values


def test_argsort_is_the_indices_of_sort():
    data = [[3.0, 1.0, 3.0, 2.0], [0.0, -1.0, 0.0, 5.0]]
    for kwargs in ({}, {"dim": 0}, {"descending": True}, {"dim": 1, "descending": True, "stable": True}):
        ours, theirs = chainrule.tensor(data).argsort(**kwargs), torch.tensor(data).argsort(**kwargs)
        np.testing.assert_array_equal(ours._array, theirs.numpy())
        assert ours.dtype == chainrule.int64 and ours.grad_fn is None
    assert chainrule.argsort(chainrule.tensor(data), 1).tolist() == torch.argsort(torch.tensor(data), 1).tolist()


def test_sort_keeps_equal_elements_in_order_and_puts_nan_last_like_pytorch():
    data = [3.0, 1.0, math.nan, 3.0, 2.0, 1.0, 3.0]
    for descending in (False, True):
        ours = chainrule.tensor(data).sort(descending=descending, stable=True)
        theirs = torch.tensor(data).sort(descending=descending, stable=True)
        np.testing.assert_array_equal(ours.values._array, theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices._array, theirs.indices.numpy())


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
        np.put_along_axis(expected, indices._array.reshape(2, -1), weights._array.reshape(2, -1), 1)
        np.testing.assert_array_equal(x.grad._array, expected, err_msg=name)
        np.testing.assert_array_equal(np.take_along_axis(np.array(data), indices._array.reshape(2, -1), 1), values._array.reshape(2, -1))


def test_mode_is_the_smallest_most_frequent_value_at_its_last_occurrence():
    data = [[1.0, 2.0, 2.0, 1.0, 3.0], [7.0, 7.0, 0.0, 7.0, 0.0], [5.0, 4.0, 3.0, 2.0, 1.0]]
    ours, theirs = chainrule.tensor(data).mode(), torch.tensor(data).mode()
    np.testing.assert_array_equal(ours.values._array, theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices._array, theirs.indices.numpy())


def test_median_of_all_elements_shares_the_gradient_among_ties_like_pytorch():
    for data in ([1.0, 2.0, 2.0, 4.0], [[3.0, 3.0], [3.0, 1.0]], [1.0, math.nan, 2.0, math.nan]):
        for name in ("median", "nanmedian"):
            ours, theirs = chainrule.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
            out, expected = getattr(ours, name)(), getattr(theirs, name)()
            np.testing.assert_array_equal(out._array, expected.detach().numpy())
            out.backward()
            expected.backward()
            np.testing.assert_array_equal(ours.grad._array, theirs.grad.numpy())


def test_median_and_nanmedian_read_nan_like_pytorch():
    data = [[1.0, math.nan, 2.0, 4.0], [math.nan, math.nan, math.nan, 0.5], [math.nan] * 4]
    for name in ("median", "nanmedian"):
        ours, theirs = getattr(chainrule.tensor(data), name)(1), getattr(torch.tensor(data), name)(1)
        np.testing.assert_array_equal(ours.values._array, theirs.values.numpy())
        # Which nan of an all-nan slice PyTorch returns depends on its selection algorithm.
        np.testing.assert_array_equal(ours.indices._array[:2], theirs.indices.numpy()[:2])
        np.testing.assert_array_equal(getattr(chainrule.tensor(data), name)()._array, getattr(torch.tensor(data), name)().numpy())


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


@pytest.mark.parametrize("call", [
    lambda lib, x: x.sort().values, lambda lib, x: x.sort(stable=True).values, lambda lib, x: lib.msort(x),
    lambda lib, x: x.topk(2).values, lambda lib, x: x.kthvalue(1).values, lambda lib, x: x.median(),
    lambda lib, x: x.median(0).values, lambda lib, x: x.nanmedian(), lambda lib, x: x.nanmedian(1).values,
    lambda lib, x: x.mode().values,
])
def test_nodes_are_named_as_pytorch_names_them(call):
    names = [call(lib, lib.ones(2, 3, requires_grad=True)).grad_fn.name() for lib in (chainrule, torch)]
    assert names[0] == names[1]


# ----------------------------------------------------------------------------- quantile
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_interpolations_match_pytorch(interpolation):
    data = [[0.0, 1.0, 2.0, 3.0], [5.0, -1.0, math.nan, 2.0], [math.nan, math.nan, math.nan, math.nan]]
    fractions = [0.0, 0.1, 0.5, 0.7, 1 / 6, 1.0]
    for name in ("quantile", "nanquantile"):
        ours = getattr(chainrule.tensor(data), name)(chainrule.tensor(fractions), dim=1, interpolation=interpolation)
        theirs = getattr(torch.tensor(data), name)(torch.tensor(fractions), dim=1, interpolation=interpolation)
        np.testing.assert_allclose(ours._array, theirs.numpy(), atol=1e-6, err_msg=name)  # float32 rounding of the lerp


def test_quantile_shapes_follow_pytorch():
    for call in (
        lambda lib, a: a.quantile(0.5),
        lambda lib, a: a.quantile(0.5, keepdim=True),
        lambda lib, a: a.quantile(lib.tensor([0.5, 0.2]), dim=1, keepdim=True),
        lambda lib, a: lib.quantile(a[0, 0], 0.5, dim=0),
        lambda lib, a: lib.nanquantile(a, lib.tensor([0.5]), dim=-1),
    ):
        ours, theirs = call(chainrule, chainrule.ones(2, 3)), call(torch, torch.ones(2, 3))
        assert tuple(ours.shape) == tuple(theirs.shape)


# ----------------------------------------------------------------------------- counting values
@pytest.mark.parametrize("call", [
    lambda lib, a: lib.histc(a, bins=4, min=0, max=3),
    lambda lib, a: a.histc(5),
    lambda lib, a: lib.histc(a[:1, :1], bins=4),
    lambda lib, a: lib.histogram(a, 3).hist,
    lambda lib, a: a.histogram(3).bin_edges,
    lambda lib, a: lib.histogram(a, lib.tensor([0.0, 1.0, 2.0, 5.0], dtype=lib.float64), density=True).hist,
    lambda lib, a: lib.histogram(a, 2, range=(0.0, 2.0), weight=a * 2).hist,
    lambda lib, a: lib.unique(a),
    lambda lib, a: a.unique(return_inverse=True, return_counts=True)[1],
    lambda lib, a: lib.unique(a, return_counts=True)[1],
    lambda lib, a: lib.unique(a, dim=0, return_inverse=True)[0],
    lambda lib, a: a.unique(dim=1, return_inverse=True, return_counts=True)[2],
    lambda lib, a: lib.unique_consecutive(a),
    lambda lib, a: a.unique_consecutive(return_inverse=True, return_counts=True)[1],
    lambda lib, a: lib.unique_consecutive(a, return_counts=True, dim=0)[1],
    lambda lib, a: a.unique_consecutive(dim=1)[0],
])
def test_counting_values_matches_pytorch(call):
    data = np.array([[1.0, 2.0, 1.0, 4.0], [1.0, 2.0, 1.0, 4.0], [0.0, 2.5, 2.5, 3.0]])
    ours, theirs = call(chainrule, chainrule.tensor(data)), call(torch, torch.tensor(data))
    np.testing.assert_allclose(ours._array, theirs.numpy(), rtol=1e-6)
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch.")) and ours.grad_fn is None


def test_histogram_bins_by_pytorchs_edges_and_sums_weights_in_order():
    """An element exactly on an edge of float32 bins (PyTorch's linspace, not float64's 2/3)
    falls as in PyTorch; weights add up in the input's dtype, element after element; density
    divides by the total, then by each bin's width."""
    generator = np.random.default_rng(3)
    cases = [(np.array([0.1, 0.5, 0.95, 1.0, 0.0, 0.6666666269302368], np.float32), {}),
             (np.array([5.0, 5.0], np.float32), {}), (np.array([], np.float32), {}),
             (generator.random(17).astype(np.float32), {"density": True})]
    for data, keywords in cases:
        for bins in (1, 3, 7):
            ours, theirs = chainrule.histogram(chainrule.tensor(data), bins, **keywords), torch.histogram(torch.tensor(data), bins, **keywords)
            for mine, other in zip(ours, theirs):
                assert mine.numpy().tobytes() == other.numpy().tobytes()
    data, weight = generator.standard_normal(40).astype(np.float32), generator.random(40).astype(np.float32)
    ours = chainrule.histogram(chainrule.tensor(data), 6, weight=chainrule.tensor(weight)).hist
    assert ours.numpy().tobytes() == torch.histogram(torch.tensor(data), 6, weight=torch.tensor(weight)).hist.numpy().tobytes()


def test_unique_returns_pytorchs_tuples_and_shapes():
    data = [[3, 1], [1, 2], [3, 1]]
    ours, theirs = chainrule.tensor(data).unique(return_inverse=True, return_counts=True), torch.tensor(data).unique(return_inverse=True, return_counts=True)
    assert type(ours) is tuple and [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
    assert chainrule.unique(chainrule.tensor(3.0), return_inverse=True)[1].shape == ()
    empty = chainrule.unique(chainrule.tensor([]), return_inverse=True, return_counts=True)
    assert [tuple(t.shape) for t in empty] == [(0,), (0,), (0,)]
    assert chainrule.unique_consecutive(chainrule.tensor([], dtype=chainrule.int64)).shape == (0,)


@pytest.mark.parametrize("call, error, words", [
    (lambda lib, x: x.topk(4), RuntimeError, r"^selected index k out of range \(topk: k = 4"),
    (lambda lib, x: x.topk(-1), RuntimeError, "selected index k out of range"),
    (lambda lib, x: x.kthvalue(0), RuntimeError, r"^kthvalue\(\): selected number k out of range for dimension \d \(k = 0"),
    (lambda lib, x: x.kthvalue(4, 1), RuntimeError, "k = 4.*3 elements"),
    (lambda lib, x: x.sort(2), IndexError, r"range of \[-2, 1\].*got 2\) \(in sort"),
    (lambda lib, x: x.argsort((0, 1)), TypeError, "argsort.*must be int, not tuple"),
    (lambda lib, x: x[:, :0].median(1), IndexError, r"median\(\): Expected reduction dim 1 to have non-zero size"),
    (lambda lib, x: x[:, :0].mode(1), IndexError, r"mode\(\): Expected reduction dim 1 to have non-zero size"),
    (lambda lib, x: x[:, :0].kthvalue(1, 1), IndexError, r"kthvalue\(\): Expected reduction dim 1 to have non-zero size"),
    (lambda lib, x: x.quantile(1.5), RuntimeError, r"quantile\(\) q must be in the range \[0, 1\]"),
    (lambda lib, x: x.long().quantile(0.5), RuntimeError, r"quantile\(\) input tensor must be either float or double"),
    (lambda lib, x: x[:0].nanquantile(0.5), RuntimeError, r"nanquantile\(\) input tensor must be non-empty"),
    (lambda lib, x: x.quantile(0.5, interpolation="foo"), RuntimeError, "interpolation must be one of linear.*but got foo"),
    (lambda lib, x: x.quantile(lib.ones(1, 1) / 2), RuntimeError, "q must be a scalar or 1D tensor"),
    (lambda lib, x: x.long().histc(3), NotImplementedError, "histc.*not implemented for int64"),
    (lambda lib, x: x.histc(bins=-1), RuntimeError, r"histc\(\): bins must be > 0, but got -1"),
    (lambda lib, x: x.histc(3, min=3, max=1), RuntimeError, "histc: max must be larger than min"),
    (lambda lib, x: x.unique(dim=2), IndexError, r"got 2\) \(in unique"),
    (lambda lib, x: x.histogram(x[0].double()), RuntimeError, "histogramdd: input tensor and bins tensors should have the same dtype"),
    (lambda lib, x: (x / 0).histogram(3), RuntimeError, r"histogramdd: dimension 0's range \[.*\] is not finite"),
    (lambda lib, x: x.histogram(3, range=(2.0, 1.0)), RuntimeError, "histogramdd: min should not exceed max"),
])
def test_errors_match_pytorchs_and_name_the_operation(call, error, words):
    raises_like_pytorch(call, error, words)
