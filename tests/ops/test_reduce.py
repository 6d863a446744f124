"""Reductions: the table runs gradcheck and the PyTorch comparison; then ties, zeros, stability, errors."""
import math

import numpy as np
import pytest
import torch

import chainrule
from tests.ops.oracle import library_case, one_shape, table_test
from tests.ops.second_order import second_order_test


def distinct(array):
    """No ties (so max/min have one winner, and gradcheck does not straddle a switch)."""
    return array + np.linspace(0, 0.1, array.size).reshape(array.shape)


def away_from_zero(array):
    return np.sign(array) * (np.abs(array) + 0.5) + (array == 0)


def every_other_dim(a):
    """(0, 2, ...) in the tensor's own dimensions: empty for 0-d (all of them), (0,) for 1-d."""
    return tuple(range(0, a.dim(), 2))


def with_nans(array):
    """Every third element nan (the first one is kept a number)."""
    flat = array.reshape(-1).copy()
    flat[1::3] = np.nan
    return flat.reshape(array.shape)


def raises_like_pytorch(call, error, words):
    """``call(lib, x)`` raises ``error`` in chainrule, with a message matching ``words``, and in PyTorch."""
    with pytest.raises(error, match=words):
        call(chainrule, chainrule.ones(2, 3))
    with pytest.raises(error):
        call(torch, torch.ones(2, 3))


def var_and_mean(pair):
    """One output that depends on both tensors of a pair (var, mean), (min, max): first + 3 · second."""
    return pair[0] + 3 * pair[1]


ANY = one_shape()
MATRIX_UP = one_shape(min_dims=2)
WIDE = one_shape(min_dims=1, min_side=2)  # var/std need two elements per slice, else they divide by N - 1 = 0

CASES = [
    library_case("sum_all", lambda lib, a: a.sum(), ANY),
    library_case("sum_dim0", lambda lib, a: lib.sum(a, 0), ANY),
    library_case("sum_last_keepdim", lambda lib, a: a.sum(-1, keepdim=True), ANY),
    library_case("sum_tuple", lambda lib, a: a.sum((0, -1)), MATRIX_UP),
    library_case("sum_every_other_keepdim", lambda lib, a: lib.sum(a, every_other_dim(a), keepdim=True), ANY),
    library_case("sum_twice", lambda lib, a: a.sum(-1).sum(), ANY),
    library_case("mean_all", lambda lib, a: lib.mean(a), ANY),
    library_case("mean_dim", lambda lib, a: a.mean(-1), ANY),
    library_case("mean_tuple_keepdim", lambda lib, a: a.mean((-1, 0), keepdim=True), MATRIX_UP),
    library_case("prod_all", lambda lib, a: a.prod(), one_shape(max_side=3)),
    library_case("prod_dim", lambda lib, a: lib.prod(a, -1), ANY),
    library_case("prod_dim_keepdim", lambda lib, a: a.prod(0, keepdim=True), ANY),
    library_case("max_all", lambda lib, a: a.max(), ANY, domain=distinct),
    library_case("min_all", lambda lib, a: lib.min(a), ANY, domain=distinct),
    library_case("max_dim_values", lambda lib, a: a.max(-1).values, ANY, domain=distinct),
    library_case("max_dim_keepdim", lambda lib, a: lib.max(a, 0, keepdim=True)[0], ANY, domain=distinct),
    library_case("min_dim_values", lambda lib, a: a.min(dim=-1).values, ANY, domain=distinct),
    library_case("min_dim_keepdim", lambda lib, a: lib.min(a, 0, True).values, ANY, domain=distinct),
    library_case("amax_dim", lambda lib, a: a.amax(-1), ANY, domain=distinct),
    library_case("amax_tuple_keepdim", lambda lib, a: lib.amax(a, (0, -1), keepdim=True), MATRIX_UP, domain=distinct),
    library_case("amin_all", lambda lib, a: lib.amin(a), ANY, domain=distinct),
    library_case("amin_every_other", lambda lib, a: a.amin(every_other_dim(a)), ANY, domain=distinct),
    library_case("var_all", lambda lib, a: a.var(), WIDE),
    library_case("var_dim_biased", lambda lib, a: lib.var(a, -1, unbiased=False), ANY),
    library_case("var_tuple_keepdim", lambda lib, a: a.var((0, -1), keepdim=True), one_shape(min_dims=2, min_side=2)),
    library_case("var_correction_2", lambda lib, a: lib.var(a, 0, correction=2), one_shape(min_dims=1, min_side=3)),
    library_case("std_all", lambda lib, a: lib.std(a), WIDE),
    library_case("std_dim_keepdim", lambda lib, a: a.std(-1, keepdim=True), WIDE),
    library_case("std_biased", lambda lib, a: a.std(0, False), one_shape(min_dims=1)),
    library_case("norm_fro", lambda lib, a: a.norm(), ANY),
    library_case("norm_2_dim", lambda lib, a: lib.norm(a, 2, -1), ANY),
    library_case("norm_1_keepdim", lambda lib, a: a.norm(1, 0, keepdim=True), ANY, domain=away_from_zero),
    library_case("norm_3_tuple", lambda lib, a: a.norm(3, (0, -1)), MATRIX_UP),
    library_case("norm_half", lambda lib, a: a.norm(0.5), ANY, domain=away_from_zero),
    library_case("norm_inf", lambda lib, a: a.norm(math.inf), ANY, domain=lambda a: distinct(np.abs(a))),
    library_case("norm_minus_inf_dim", lambda lib, a: a.norm(-math.inf, -1), ANY, domain=lambda a: distinct(np.abs(a))),
    library_case("logsumexp_dim", lambda lib, a: a.logsumexp(-1), ANY),
    library_case("logsumexp_tuple_keepdim", lambda lib, a: lib.logsumexp(a, (0, -1), keepdim=True), MATRIX_UP),
    library_case("var_mean", lambda lib, a: var_and_mean(lib.var_mean(a, -1)), WIDE),
    library_case("var_mean_all_biased", lambda lib, a: var_and_mean(lib.var_mean(a, unbiased=False)), ANY),
    library_case("std_mean_keepdim", lambda lib, a: var_and_mean(lib.std_mean(a, 0, keepdim=True, correction=0)), WIDE),
    library_case("std_mean_tuple", lambda lib, a: var_and_mean(lib.std_mean(a, (0, -1))), one_shape(min_dims=2, min_side=2)),
    library_case("aminmax_all", lambda lib, a: var_and_mean(a.aminmax()), one_shape(min_side=1), domain=distinct),
    library_case("aminmax_dim_keepdim", lambda lib, a: var_and_mean(lib.aminmax(a, dim=-1, keepdim=True)), ANY, domain=distinct),
    library_case("nansum_all", lambda lib, a: a.nansum(), ANY, domain=with_nans),
    library_case("nansum_dim_keepdim", lambda lib, a: lib.nansum(a, -1, keepdim=True), ANY, domain=with_nans),
    library_case("nansum_tuple", lambda lib, a: a.nansum((0, -1)), MATRIX_UP, domain=with_nans),
    library_case("nanmean_all", lambda lib, a: lib.nanmean(a), ANY, domain=with_nans),
    library_case("nanmean_dim", lambda lib, a: a.nanmean(0), ANY, domain=with_nans),
    library_case("cumsum_first", lambda lib, a: a.cumsum(0), ANY),
    library_case("cumsum_last", lambda lib, a: lib.cumsum(a, -1), ANY),
    library_case("cumsum_then_square", lambda lib, a: lib.cumsum(a, 0) ** 2, ANY),
]


test_op = table_test(CASES)
test_second_order = second_order_test(CASES)


def test_norm_0_counts_nonzero_elements():
    x = chainrule.tensor([[0.0, 2.0, -1.0], [0.0, 0.0, 3.0]], requires_grad=True)
    np.testing.assert_array_equal(x.norm(0, dim=1)._array, [2.0, 1.0])
    x.norm(0).backward()
    assert x.grad is None  # no gradient path, as PyTorch's (its backward gives an undefined gradient)


# ----------------------------------------------------------------------------- max and min
def test_max_with_dim_returns_a_named_tuple_like_pytorch():
    data = [[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]]
    ours, theirs = chainrule.tensor(data).max(dim=1), torch.tensor(data).max(dim=1)
    values, indices = ours
    np.testing.assert_array_equal(values._array, theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices._array, theirs.indices.numpy())  # first maximum on ties
    assert ours.indices.dtype == chainrule.int64 and not ours.indices.requires_grad
    assert ours[0] is ours.values
    assert chainrule.min(chainrule.tensor(data), 1, keepdim=True).values.shape == (2, 1)


def test_max_with_dim_sends_the_gradient_to_the_returned_index_on_ties():
    data = [[3.0, 3.0, 1.0], [2.0, 2.0, 2.0]]
    for name in ("max", "min"):
        ours, theirs = chainrule.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        getattr(ours, name)(1).values.sum().backward()
        getattr(theirs, name)(1).values.sum().backward()
        np.testing.assert_array_equal(ours.grad._array, theirs.grad.numpy())


@pytest.mark.parametrize("call", [
    lambda lib, a: a.max(),
    lambda lib, a: lib.min(a),
    lambda lib, a: a.amax(1),
    lambda lib, a: lib.amin(a, (0, 1)),
    lambda lib, a: a.norm(math.inf, 1),
])
def test_ties_share_the_gradient_evenly_like_pytorch(call):
    data = [[3.0, 3.0, -3.0], [1.0, 1.0, 1.0]]
    ours, theirs = chainrule.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    call(chainrule, ours).sum().backward()
    call(torch, theirs).sum().backward()
    np.testing.assert_allclose(ours.grad._array, theirs.grad.numpy())


def test_max_of_two_tensors_is_maximum():
    a, b = chainrule.tensor([1.0, 4.0]), chainrule.tensor([3.0, 2.0])
    np.testing.assert_array_equal(chainrule.max(a, b)._array, [3.0, 4.0])
    np.testing.assert_array_equal(a.min(b)._array, [1.0, 2.0])


def test_zero_dimensional_inputs_accept_dim_0_and_minus_1():
    for dim in (0, -1):
        x, t = chainrule.tensor(3.0, requires_grad=True), torch.tensor(3.0)
        result = x.max(dim, keepdim=True)
        assert result.values.shape == t.max(dim, keepdim=True).values.shape == ()
        assert result.indices.item() == 0
        result.values.backward()
        assert x.grad.item() == 1.0
        assert x.argmax(dim).item() == 0 and x.argmin(dim).shape == ()
        assert x.sum(dim).item() == 3.0 and x.cumsum(dim).shape == ()


# ----------------------------------------------------------------------------- argmax, all, any
@pytest.mark.parametrize("call", [
    lambda lib, a: a.argmax(),
    lambda lib, a: a.argmax(keepdim=True),
    lambda lib, a: lib.argmax(a, 1),
    lambda lib, a: a.argmin(-1, keepdim=True),
    lambda lib, a: lib.argmin(a),
    lambda lib, a: a.all(),
    lambda lib, a: (a > 0).any(1),
    lambda lib, a: lib.all(a > -1, (0, 1), keepdim=True),
    lambda lib, a: a.any(-1, keepdim=True),
])
def test_index_and_logical_reductions_match_pytorch(call):
    data = np.array([[0.5, -2.0, 3.0, 0.0], [1.0, 4.0, -1.0, 2.0], [0.0, 0.0, 0.0, 0.0]])
    ours, theirs = call(chainrule, chainrule.tensor(data)), call(torch, torch.tensor(data))
    np.testing.assert_array_equal(ours._array, theirs.numpy())
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch.")) and ours.grad_fn is None


# ----------------------------------------------------------------------------- numbers that need care
def test_prod_gradient_with_zeros_matches_pytorch():
    data = [[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]]
    for dim in (None, 1, 0):
        ours, theirs = chainrule.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        (ours.prod() if dim is None else ours.prod(dim)).sum().backward()
        (theirs.prod() if dim is None else theirs.prod(dim)).sum().backward()
        np.testing.assert_allclose(ours.grad._array, theirs.grad.numpy())


def test_second_order_gradients_match_pytorch():
    data = np.random.default_rng(3).standard_normal((3, 4)) + 0.1
    calls = [
        lambda lib, a: a.prod(1),
        lambda lib, a: a.var(0),
        lambda lib, a: a.std(1),
        lambda lib, a: a.norm(dim=1),
        lambda lib, a: a.norm(3),
        lambda lib, a: lib.logsumexp(a, 1),
        lambda lib, a: lib.cumsum(a * a, 1),
        lambda lib, a: a.max(1).values ** 2,
        lambda lib, a: a.mean(0) ** 3,
    ]
    for call in calls:
        results = []
        for lib in (chainrule, torch):
            x = lib.tensor(data.copy(), requires_grad=True)
            (first,) = lib.autograd.grad(call(lib, x).sum(), x, create_graph=True)
            (second,) = lib.autograd.grad((first * first).sum(), x)
            results.append(second.numpy())
        np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-9)


def test_logsumexp_is_stable_at_plus_and_minus_1000():
    data = [[1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1000.0]]
    ours, theirs = chainrule.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, expected = ours.logsumexp(1), theirs.logsumexp(1)
    np.testing.assert_allclose(out._array, expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.grad._array, theirs.grad.numpy())


def test_empty_reductions_follow_pytorch():
    empty = chainrule.zeros(0, 3)
    np.testing.assert_array_equal(empty.sum(0)._array, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(empty.prod(0)._array, [1.0, 1.0, 1.0])
    assert np.isnan(empty.mean(0)._array).all() and np.isnan(empty.mean().item())
    assert empty.amax(1).shape == (0,) and empty.logsumexp(0)._array.tolist() == [-math.inf] * 3
    assert chainrule.softmax(empty, 0).shape == (0, 3)


def test_dtypes_of_reductions_follow_pytorch():
    counts = chainrule.tensor([[1, 2], [3, 4]], dtype=chainrule.int32)
    assert counts.sum().dtype == chainrule.int64 and counts.prod(0).dtype == chainrule.int64
    assert chainrule.tensor([True, False, True]).sum().item() == 2
    assert counts.logsumexp(0).dtype == chainrule.float32
    x = chainrule.ones(3, 4)
    for result in (x.sum(), x.mean(1), x.var(), x.std(0), x.norm(), x.prod(), x.logsumexp(1), x.cumsum(0)):
        assert result.dtype == chainrule.float32


def test_var_reads_unbiased_and_correction_like_pytorch():
    data = np.arange(12.0).reshape(3, 4) ** 1.5
    ours, theirs = chainrule.tensor(data), torch.tensor(data)
    np.testing.assert_allclose(ours.var(False)._array, theirs.var(False).numpy())
    np.testing.assert_allclose(ours.var(1, True)._array, theirs.var(1, True).numpy())
    np.testing.assert_allclose(ours.std(dim=0, correction=0)._array, theirs.std(dim=0, correction=0).numpy())
    np.testing.assert_allclose(chainrule.var(ours, 0, unbiased=False)._array, torch.var(theirs, 0, unbiased=False).numpy())


def test_norm_gradient_at_zero_is_zero_like_pytorch():
    x = chainrule.zeros(3, requires_grad=True)
    x.norm().backward()
    np.testing.assert_array_equal(x.grad._array, [0.0, 0.0, 0.0])


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, error, words", [
    (lambda x: x.sum(2), IndexError, r"^Dimension out of range.*range of \[-2, 1\].*got 2\) \(in sum"),
    (lambda x: x.sum((0, -2)), RuntimeError, "dim 0 appears multiple times"),
    (lambda x: x.long().mean(), RuntimeError, r"mean\(\).*floating point.*int64"),
    (lambda x: x.long().var(), RuntimeError, "std and var only support floating point"),
    (lambda x: x.argmax((0, 1)), TypeError, "argmax.*must be int, not tuple"),
    (lambda x: x[:0].max(), RuntimeError, r"max\(\): Expected reduction dim to be specified.*\(0, 3\)"),
    (lambda x: x[:0].max(0), IndexError, "max.*dim 0 to have non-zero size"),
    (lambda x: x[:0].amin(0), IndexError, "amin.*dim 0 to have non-zero size"),
    (lambda x: x[:0].argmin(), IndexError, "argmin.*numel\\(\\) == 0"),
    (lambda x: x.norm("spectral"), RuntimeError, "norm: p='spectral' is not supported"),
    (lambda x: x.cumsum(-3), IndexError, r"got -3\) \(in cumsum"),
])
def test_errors_name_the_operation_and_the_problem(call, error, words):
    with pytest.raises(error, match=words):
        call(chainrule.ones(2, 3))


# ----------------------------------------------------------------------------- NumPy's keywords, node names
@pytest.mark.parametrize("name", ["sum", "mean", "prod", "amax", "amin", "var", "std", "logsumexp", "argmax", "argmin", "all", "any"])
def test_reductions_take_numpys_axis_and_keepdims_like_pytorch(name):
    data = np.arange(1.0, 13.0).reshape(3, 4)
    ours = getattr(chainrule.tensor(data), name)(axis=1, keepdims=True)
    theirs = getattr(torch.tensor(data), name)(axis=1, keepdims=True)
    np.testing.assert_allclose(ours._array, theirs.numpy())


def test_max_min_cumsum_and_norm_take_axis_too():
    x = chainrule.tensor(np.arange(1.0, 13.0).reshape(3, 4))
    assert x.max(axis=1).indices.tolist() == [3, 3, 3] and x.min(axis=0, keepdims=True).values.shape == (1, 4)
    np.testing.assert_allclose(x.cumsum(axis=1)._array, np.cumsum(x._array, axis=1))
    np.testing.assert_allclose(chainrule.norm(x, axis=1, keepdims=True)._array, np.linalg.norm(x._array, axis=1, keepdims=True))


def test_sum_with_numpys_keywords_is_recorded_under_create_graph():
    # The engine sums broadcast gradients as grad.sum(axis=..., keepdims=True), also on tensors.
    x = chainrule.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    row = chainrule.tensor([[1.0], [2.0]], requires_grad=True)
    (grad,) = chainrule.autograd.grad((x * row * x).sum(), x, create_graph=True)
    np.testing.assert_allclose(grad._array, [[6.0, 12.0, 18.0]])  # 2 x (1 + 2)
    (second,) = chainrule.autograd.grad(grad.sum(), row)
    np.testing.assert_allclose(second._array, [[12.0], [12.0]])


@pytest.mark.parametrize("call", [
    lambda lib, x: x.sum(), lambda lib, x: x.sum(0), lambda lib, x: x.mean(), lambda lib, x: x.mean(-1, keepdim=True),
    lambda lib, x: x.prod(), lambda lib, x: x.prod(1), lambda lib, x: x.max(), lambda lib, x: x.min(),
    lambda lib, x: x.max(0).values, lambda lib, x: lib.min(x, 1).values, lambda lib, x: x.amax(0), lambda lib, x: x.amin(),
    lambda lib, x: x.var(0), lambda lib, x: x.std(), lambda lib, x: x.norm(), lambda lib, x: x.norm(3, 1),
    lambda lib, x: x.logsumexp(1), lambda lib, x: x.cumsum(0),
])
def test_nodes_are_named_as_pytorch_names_them(call):
    names = [call(lib, lib.ones(2, 3, requires_grad=True)).grad_fn.name() for lib in (chainrule, torch)]
    assert names[0] == names[1]


# ----------------------------------------------------------------------------- var_mean, aminmax, count_nonzero, nansum
def test_var_mean_and_std_mean_return_pytorchs_tuple():
    data = np.arange(12.0).reshape(3, 4) ** 1.5
    for name in ("var_mean", "std_mean"):
        ours = getattr(chainrule, name)(chainrule.tensor(data), 1, correction=0)
        theirs = getattr(torch, name)(torch.tensor(data), 1, correction=0)
        assert type(ours) is tuple and len(ours) == 2
        for mine, reference in zip(ours, theirs):
            np.testing.assert_allclose(mine._array, reference.numpy())
    x = chainrule.tensor(data, requires_grad=True)
    variance, average = chainrule.var_mean(x)
    assert variance.grad_fn is average.grad_fn and variance.grad_fn.name() == "VarMeanBackward0"


def test_aminmax_returns_a_named_tuple_and_shares_the_gradient_among_ties_like_pytorch():
    data = [[3.0, 3.0, 1.0], [2.0, 2.0, 2.0]]
    for kwargs in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}):
        ours, theirs = chainrule.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        mine, reference = ours.aminmax(**kwargs), theirs.aminmax(**kwargs)
        assert type(mine).__name__ == "aminmax" and mine.__match_args__ == ("min", "max")
        np.testing.assert_array_equal(mine.min._array, reference.min.detach().numpy())
        np.testing.assert_array_equal(mine.max._array, reference.max.detach().numpy())
        (mine.min + 2 * mine.max).sum().backward()
        (reference.min + 2 * reference.max).sum().backward()
        np.testing.assert_allclose(ours.grad._array, theirs.grad.numpy())


@pytest.mark.parametrize("call", [
    lambda lib, a: a.count_nonzero(),
    lambda lib, a: lib.count_nonzero(a, 1),
    lambda lib, a: a.count_nonzero((0, 1)),
    lambda lib, a: lib.count_nonzero(a, dim=-2),
    lambda lib, a: (a > 0).count_nonzero(0),
    lambda lib, a: (a > 0).long().nansum(1),
    lambda lib, a: lib.nansum(a, dtype=lib.float64),
    lambda lib, a: a.nanmean(1, keepdim=True),
    lambda lib, a: lib.nanmean(a, dtype=lib.float64),
])
def test_counting_and_nan_reductions_match_pytorch(call):
    data = np.array([[0.5, np.nan, 3.0, 0.0], [1.0, 4.0, -1.0, 2.0], [0.0, 0.0, np.nan, np.nan]])
    ours, theirs = call(chainrule, chainrule.tensor(data)), call(torch, torch.tensor(data))
    np.testing.assert_array_equal(ours._array, theirs.numpy())
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))


def test_nanmean_of_only_nan_is_nan_and_its_gradient_too_like_pytorch():
    data = [[math.nan, math.nan], [1.0, math.nan]]
    ours, theirs = chainrule.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, expected = ours.nanmean(1), theirs.nanmean(1)
    np.testing.assert_array_equal(out._array, expected.detach().numpy())
    out[1].backward()
    expected[1].backward()
    np.testing.assert_array_equal(ours.grad._array, theirs.grad.numpy())  # 0 / 0 where all are nan


@pytest.mark.parametrize("call, error, words", [
    (lambda lib, x: x[:0].aminmax(), RuntimeError, r"aminmax\(\): cannot compute aminmax over an empty dimension"),
    (lambda lib, x: x.aminmax(dim=(0, 1)), TypeError, "aminmax.*must be int, not tuple"),
    (lambda lib, x: x.long().nanmean(), RuntimeError, r"nanmean\(\): expected input to have floating point"),
    (lambda lib, x: lib.var_mean(x.long()), RuntimeError, "var_mean only support floating point"),
    (lambda lib, x: x.count_nonzero(2), IndexError, r"range of \[-2, 1\].*got 2\) \(in count_nonzero"),
])
def test_errors_of_the_new_reductions_match_pytorchs(call, error, words):
    raises_like_pytorch(call, error, words)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.var_mean(x)[0], lambda lib, x: lib.std_mean(x, 1)[1], lambda lib, x: x.aminmax().min,
    lambda lib, x: x.aminmax(dim=0).max, lambda lib, x: x.nansum(), lambda lib, x: x.nansum(1), lambda lib, x: x.nanmean(0),
])
def test_nodes_of_the_new_reductions_are_named_as_pytorch_names_them(call):
    names = [call(lib, lib.ones(2, 3, requires_grad=True)).grad_fn.name() for lib in (chainrule, torch)]
    assert names[0] == names[1]


def _pair(lib):
    return lib.empty(0), lib.empty(0, dtype=lib.long)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.mode(x, 1, out=_pair(lib)),
        lambda lib, x: lib.median(x, 1, out=_pair(lib)),
        lambda lib, x: lib.nanmedian(x, 1, out=_pair(lib)),
        lambda lib, x: lib.quantile(x, 0.5, dim=1, out=lib.empty(0)),
        lambda lib, x: lib.nanquantile(x, 0.25, dim=0, out=lib.empty(0)),
        lambda lib, x: lib.msort(x, out=lib.empty(0)),
        lambda lib, x: lib.all(x, 1, out=lib.empty(0, dtype=lib.bool)),
        lambda lib, x: lib.any(x > 2, out=lib.empty(0, dtype=lib.bool)),
        lambda lib, x: lib.diag(x, out=lib.empty(0)),
        lambda lib, x: lib.triu(x, out=lib.empty(0)),
        lambda lib, x: lib.tril(x, 1, out=lib.empty(0)),
        lambda lib, x: lib.nonzero(x > 1, out=lib.empty(0, dtype=lib.long)),
        lambda lib, x: lib.max(x, 1, out=_pair(lib)),
    ],
)
def test_reductions_and_selections_write_into_out_as_pytorch(call):
    """out= of these operations: the result written into out (resized), returned as PyTorch's
    named tuple of the out form (``mode_out``) where it has two parts."""
    results = []
    for lib in (torch, chainrule):
        x = lib.tensor([[3.0, 1.0, 2.0], [1.0, 4.0, 5.0]])
        result = call(lib, x)
        parts = result if isinstance(result, tuple) else (result,)
        results.append((type(result).__name__, [part.tolist() for part in parts], [str(part.dtype).split(".")[1] for part in parts]))
    assert results[1] == results[0]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.all(x, 1, out=lib.empty(0)),
        lambda lib, x: lib.quantile(x, 0.5, dim=1, out=lib.empty(0, dtype=lib.int32)),
        lambda lib, x: lib.mode(x, 1, out=(lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.long))),
        lambda lib, x: lib.nonzero(x, out=lib.empty(0)),
    ],
)
def test_an_out_of_another_dtype_is_refused_as_pytorch(call):
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError):
            call(lib, lib.ones(2, 3))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, y: lib.sum(y, 0, out=lib.empty(3, dtype=lib.int32)),
        lambda lib, y: lib.cumsum(y, 0, out=lib.empty(2, 3, dtype=lib.int64)),
        lambda lib, y: lib.cumprod(y, 1, out=lib.empty(2, 3, dtype=lib.float64)),
        lambda lib, y: lib.mean(y, 0, out=lib.empty(3, dtype=lib.float64)),
        lambda lib, y: lib.prod(y, 0, out=lib.empty(3, dtype=lib.float64)),
        lambda lib, y: lib.sum(y.long(), 0, out=lib.ones(3, dtype=lib.int64), dtype=lib.int32),
        lambda lib, y: lib.cumsum(y.long(), 0, out=lib.ones(2, 3, dtype=lib.int64), dtype=lib.int32),
    ],
)
def test_reductions_and_scans_compute_in_the_dtype_of_out_as_pytorch(call):
    """sum into an int32 out sums int32 values (0.6 + 0.6 is 0, not int(1.2)); a dtype= other than
    out's is PyTorch's RuntimeError."""
    results = []
    for lib in (torch, chainrule):
        try:
            result = call(lib, lib.full((2, 3), 0.6))
            results.append((result.tolist(), str(result.dtype).split(".")[1]))
        except RuntimeError as error:
            results.append(str(error).split(" (")[0])
    assert results[1] == results[0]
