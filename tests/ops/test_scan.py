"""Scans (cumsum's rows are in test_reduce.py): the table runs gradcheck and the PyTorch comparison;
then zeros in cumprod, ties and nan in cummax/cummin, stability of logcumsumexp, dtypes, in-place
forms, errors and node names."""
import math

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import library_case, one_shape, table_test
from tests.ops.second_order import second_order_test
from tests.ops.test_reduce import distinct, raises_like_pytorch

ANY = one_shape()


def with_a_zero(array):
    """The middle element set to 0 (and a second zero further on when there is room)."""
    flat = array.reshape(-1).copy()
    if flat.size:
        flat[flat.size // 2] = 0.0
    if flat.size > 3:
        flat[-1] = 0.0
    return flat.reshape(array.shape)


CASES = [
    library_case("cumprod_first", lambda lib, a: a.cumprod(0), ANY),
    library_case("cumprod_last", lambda lib, a: lib.cumprod(a, -1), ANY),
    library_case("cumprod_with_zeros", lambda lib, a: a.cumprod(-1), ANY, domain=with_a_zero),
    library_case("cumprod_with_zeros_first", lambda lib, a: lib.cumprod(a, 0), ANY, domain=with_a_zero),
    library_case("cummax_values", lambda lib, a: a.cummax(-1).values, ANY, domain=distinct),
    library_case("cummax_first", lambda lib, a: lib.cummax(a, 0)[0], ANY),
    library_case("cummin_values", lambda lib, a: lib.cummin(a, -1).values, ANY, domain=distinct),
    library_case("logcumsumexp_last", lambda lib, a: a.logcumsumexp(-1), ANY),
    library_case("logcumsumexp_first", lambda lib, a: lib.logcumsumexp(a, 0), ANY),
    library_case("logcumsumexp_large", lambda lib, a: lib.logcumsumexp(a, -1), ANY, domain=lambda a: 300 * a),
]

test_op = table_test(CASES)
test_second_order = second_order_test(CASES)


def test_cumprod_gradient_with_zeros_matches_pytorch():
    data = [[2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 5.0, 1.0], [1.0, 2.0, 4.0, 0.0]]
    for dim in (0, 1):
        ours, theirs = chainrule.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        weights = np.arange(12.0).reshape(3, 4) - 5
        (ours.cumprod(dim) * chainrule.tensor(weights)).sum().backward()
        (theirs.cumprod(dim) * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(ours.grad._array, theirs.grad.numpy())


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_and_cummin_return_the_latest_position_on_ties_and_nan_like_pytorch(name):
    data = [[3.0, 1.0, 3.0, 2.0, 1.0, 3.0], [1.0, math.nan, 2.0, math.nan, 0.0, 5.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0]]
    ours, theirs = chainrule.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    mine, reference = getattr(ours, name)(1), getattr(theirs, name)(1)
    assert type(mine).__name__ == type(reference).__name__ == name and mine.__match_args__ == ("values", "indices")
    np.testing.assert_array_equal(mine.values.detach().numpy(), reference.values.detach().numpy())
    np.testing.assert_array_equal(mine.indices._array, reference.indices.numpy())
    assert mine.indices.dtype == chainrule.int64
    weights = np.arange(18.0).reshape(3, 6)
    (mine.values * chainrule.tensor(weights)).sum().backward()  # a position holding the extreme for several i gets them all
    (reference.values * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(ours.grad._array, theirs.grad.numpy())


def test_logcumsumexp_is_stable_at_plus_and_minus_1000():
    data = [[1000.0, -1000.0, 3.0], [-1000.0, 1000.0, 2.0], [-1000.0, 0.0, -math.inf]]
    ours, theirs = chainrule.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, expected = ours.logcumsumexp(1), theirs.logcumsumexp(1)
    np.testing.assert_allclose(out._array, expected.detach().numpy())
    weights = [[1.0, -2.0, 3.0], [1.0, 2.0, -3.0], [1.0, 1.0, 1.0]]
    (out * chainrule.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad._array, theirs.grad.numpy(), rtol=1e-6)


def test_dtypes_follow_pytorch():
    counts = chainrule.tensor([[1, 2], [3, 4]], dtype=chainrule.int32)
    assert counts.cumsum(0).dtype == chainrule.int64 and counts.cumprod(1).dtype == chainrule.int64
    assert counts.cummax(0).values.dtype == chainrule.int32 and chainrule.tensor([True, True]).cumprod(0).tolist() == [1, 1]
    assert chainrule.tensor([1.5, 2.5]).cumsum(0, dtype=chainrule.int32).tolist() == torch.tensor([1.5, 2.5]).cumsum(0, dtype=torch.int32).tolist()
    assert chainrule.ones(3).cumprod(0, dtype=chainrule.float64).dtype == chainrule.float64
    for result in (chainrule.ones(2, 3).cumprod(1), chainrule.ones(2, 3).logcumsumexp(0)):
        assert result.dtype == chainrule.float32


def test_in_place_forms_write_into_the_tensor():
    for name in ("cumsum_", "cumprod_"):
        data = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
        ours, theirs = chainrule.tensor(data), torch.tensor(data)
        assert getattr(ours, name)(1) is ours
        getattr(theirs, name)(1)
        np.testing.assert_array_equal(ours._array, theirs.numpy())
    counts = chainrule.tensor([1, 2, 3], dtype=chainrule.int32)
    counts.cumsum_(0)
    assert counts.dtype == chainrule.int32 and counts.tolist() == [1, 3, 6]


def test_zero_dimensional_inputs_give_themselves():
    for name in ("cumsum", "cumprod", "logcumsumexp"):
        x = chainrule.tensor(2.0, requires_grad=True)
        out = getattr(x, name)(-1)
        assert out.shape == () and out.item() == getattr(torch.tensor(2.0), name)(-1).item()
        out.backward()
        assert x.grad.item() == 1.0
    assert chainrule.tensor(2.0).cummax(0).indices.item() == 0


@pytest.mark.parametrize("call, error, words", [
    (lambda lib, x: x.cumprod(2), IndexError, r"range of \[-2, 1\].*got 2\) \(in cumprod"),
    (lambda lib, x: x.cummax(-3), IndexError, r"got -3\) \(in cummax"),
    (lambda lib, x: x.cummin((0, 1)), TypeError, "cummin.*must be int, not tuple"),
    (lambda lib, x: x.long().logcumsumexp(0), NotImplementedError, "logcumsumexp.*not implemented for int64"),
])
def test_errors_match_pytorchs_and_name_the_operation(call, error, words):
    raises_like_pytorch(call, error, words)


@pytest.mark.parametrize("call", [
    lambda lib, x: x.cumprod(0), lambda lib, x: lib.cumprod(x, 1, dtype=lib.float64), lambda lib, x: x.cummax(1).values,
    lambda lib, x: x.cummin(0).values, lambda lib, x: x.logcumsumexp(1), lambda lib, x: x.cumsum(1, dtype=lib.float64),
])
def test_nodes_are_named_as_pytorch_names_them(call):
    names = [call(lib, lib.ones(2, 3, requires_grad=True)).grad_fn.name() for lib in (chainrule, torch)]
    assert names[0] == names[1]


# ----------------------------------------------------------------------------- differences and integrals
ONE_UP = one_shape(min_dims=1)
TWO_UP = one_shape(min_dims=1, min_side=2)
THREE_UP = one_shape(min_dims=1, min_side=3)


def sample_positions(length):
    """Increasing, unevenly spaced sample coordinates."""
    return np.cumsum(np.arange(1.0, length + 1.0) ** 1.5)


INTEGRAL_CASES = [
    library_case("diff", lambda lib, a: lib.diff(a), ONE_UP),
    library_case("diff_twice_first", lambda lib, a: a.diff(2, 0), ONE_UP),
    library_case("diff_prepend_append", lambda lib, a, b, c: lib.diff(a, 1, 0, b, c), st.just(((3, 2), (1, 2), (2, 2)))),
    library_case("diff_empty_dim", lambda lib, a: lib.diff(a, dim=0), st.just(((0, 3),))),
    library_case("trapezoid", lambda lib, a: lib.trapezoid(a), ONE_UP),
    library_case("trapezoid_dx_dim", lambda lib, a: lib.trapezoid(a, dx=0.5, dim=0), ONE_UP),
    library_case("trapezoid_x_1d", lambda lib, a: lib.trapezoid(a, lib.tensor(sample_positions(a.shape[-1]))), ONE_UP),
    library_case("trapezoid_x_full", lambda lib, a, x: lib.trapezoid(a, x, dim=0), st.just(((4, 3), (4, 3)))),
    library_case("trapz", lambda lib, a, x: lib.trapz(a, x), st.just(((2, 5), (5,)))),
    library_case("trapz_dx", lambda lib, a: lib.trapz(a, dx=2.0, dim=0), ONE_UP),
    library_case("cumulative_trapezoid", lambda lib, a: lib.cumulative_trapezoid(a), ONE_UP),
    library_case("cumulative_trapezoid_x", lambda lib, a: lib.cumulative_trapezoid(a, lib.tensor(sample_positions(a.shape[0])), dim=0), ONE_UP),
    library_case("gradient", lambda lib, a: lib.stack(lib.gradient(a)), one_shape(min_dims=1, min_side=2)),
    library_case("gradient_spacing_dim", lambda lib, a: lib.gradient(a, spacing=0.5, dim=-1)[0], TWO_UP),
    library_case("gradient_edge_order_2", lambda lib, a: lib.gradient(a, edge_order=2, dim=0)[0], THREE_UP),
    library_case("gradient_coordinates", lambda lib, a: lib.gradient(a, spacing=[lib.tensor(sample_positions(a.shape[0]))], dim=0, edge_order=2)[0], THREE_UP),
    library_case("gradient_coordinates_order_1", lambda lib, a: lib.gradient(a, spacing=(lib.tensor(sample_positions(a.shape[-1])),), dim=[-1])[0], TWO_UP),
]

test_integral_op = table_test(INTEGRAL_CASES)
test_integral_second_order = second_order_test(INTEGRAL_CASES)


@pytest.mark.parametrize("call", [
    lambda lib: lib.diff(lib.tensor([True, False, False, True])),
    lambda lib: lib.diff(lib.arange(6) ** 2, n=2),
    lambda lib: lib.diff(lib.arange(4.0), n=5),
    lambda lib: lib.diff(lib.arange(4), prepend=lib.tensor([1.5])),
    lambda lib: lib.trapezoid(lib.arange(5)),
    lambda lib: lib.trapezoid(lib.ones(3, 1)),
    lambda lib: lib.trapezoid(lib.ones(0, 3), dim=0),
    lambda lib: lib.cumulative_trapezoid(lib.arange(5)),
    lambda lib: lib.cumulative_trapezoid(lib.ones(3, 1)),
    lambda lib: lib.stack(lib.gradient(lib.tensor([1, 4, 9, 16, 25]))),
    lambda lib: lib.stack(lib.gradient(lib.arange(12.0).reshape(3, 4) ** 2, spacing=[2.0, 3.0], edge_order=2)),
    lambda lib: lib.stack(lib.gradient(lib.ones(2, 3), spacing=2, dim=(1,))),
    lambda lib: lib.stack(lib.gradient(lib.arange(5.0) ** 2, spacing=lib.tensor(2.0))),
    lambda lib: lib.gradient(lib.tensor([2.0, -2.0, math.inf, math.inf, -math.inf]))[0],  # an infinity stays infinite
    lambda lib: lib.gradient(lib.tensor([2.0, -2.0, math.inf, 1.0, -math.inf, 3.0]), edge_order=2, spacing=0.5)[0],
])
def test_integer_empty_and_short_inputs_match_pytorch(call):
    ours, theirs = call(chainrule), call(torch)
    assert ours.dtype == getattr(chainrule, str(theirs.dtype).split(".")[1])
    np.testing.assert_allclose(ours._array, theirs.numpy(), rtol=1e-6, atol=1e-6)


def test_gradient_of_a_0d_tensor_is_an_empty_tuple():
    assert chainrule.gradient(chainrule.tensor(1.0)) == torch.gradient(torch.tensor(1.0)) == ()


@pytest.mark.parametrize("call, error, words", [
    (lambda lib, x: lib.diff(x[0, 0]), RuntimeError, "diff expects input to be at least one-dimensional"),
    (lambda lib, x: lib.diff(x, n=-1), RuntimeError, "order must be non-negative"),
    (lambda lib, x: lib.diff(x, prepend=x[0, 0]), RuntimeError, "same dimension as input"),
    (lambda lib, x: lib.trapezoid(x, lib.ones(2)), RuntimeError, "one `x` value for each sample point"),
    (lambda lib, x: lib.trapezoid(x[0, 0]), IndexError, "no dimensions"),
    (lambda lib, x: lib.gradient(x, edge_order=2), RuntimeError, "at least edge_order\\+1"),
    (lambda lib, x: lib.gradient(x, edge_order=3), RuntimeError, "only supports edge_order=1 and edge_order=2"),
    (lambda lib, x: lib.gradient(x, spacing=[1.0, 2.0, 3.0]), RuntimeError, "list of length equal to"),
    (lambda lib, x: lib.gradient(x[0], spacing=[lib.tensor(2.0)]), RuntimeError, "each element of spacing to have one dimension"),
])
def test_difference_and_integral_errors_match_pytorch(call, error, words):
    raises_like_pytorch(call, error, words)


def test_even_steps_give_pytorchs_bits():
    """(f[i+1] - f[i-1]) / h / 2 in PyTorch's order: the same float32 numbers, not only close ones."""
    values = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32)
    for edge_order in (1, 2):
        for spacing in (1, 0.3, [0.7, 2.0]):
            ours = chainrule.gradient(chainrule.tensor(values), spacing=spacing, edge_order=edge_order)
            theirs = torch.gradient(torch.tensor(values), spacing=spacing, edge_order=edge_order)
            for mine, reference in zip(ours, theirs):
                assert mine.numpy().tobytes() == reference.numpy().tobytes()


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_running_extremes_write_into_out_as_pytorch(name):
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor([1.0, 3.0, 2.0, 0.5])
        values, indices = lib.empty(0), lib.empty(0, dtype=lib.int64)
        returned = getattr(lib, name)(x, 0, out=(values, indices))
        assert returned.values is values and type(returned).__name__ == f"{name}_out"
        with pytest.raises(RuntimeError):
            getattr(lib, name)(x, 0, out=(lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.int64)))
        out = lib.empty(4)
        assert lib.logcumsumexp(x, 0, out=out) is out
        results.append((values.tolist(), indices.tolist(), out.tolist()))
    assert results[0][:2] == results[1][:2]
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "float32", "complex64"])
def test_running_sums_and_products_accumulate_as_pytorchs(dtype):
    """PyTorch's CPU scans accumulate float32 in float64 (and float16 in float32): a float32 running
    total of 100,000 tenths is 10000.0 there, 9998.56 when accumulated in float32; the cumprod of a
    diffusion schedule's 1 - β drifts likewise."""
    generator = np.random.default_rng(0)
    values = generator.random(20000 if dtype != "float16" else 3000)
    if dtype == "complex64":
        values = values + 1j * generator.random(values.shape)
    values = values.astype(dtype)
    for name, data in (("cumsum", values), ("cumprod", 1 - values[:1000] * 0.01)):
        ours = getattr(chainrule, name)(chainrule.tensor(data), 0).numpy()
        theirs = getattr(torch, name)(torch.tensor(data), 0).numpy()
        np.testing.assert_array_equal(ours, theirs)
