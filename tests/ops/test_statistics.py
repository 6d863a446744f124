"""cov, corrcoef and histogramdd (ops/statistics.py) against PyTorch: the table runs gradcheck, the
PyTorch comparison and second derivatives; then weights, small and empty inputs, and errors."""
import math

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import library_case, one_shape, table_test
from tests.ops.second_order import second_order_test

OBSERVATIONS = st.tuples(st.integers(1, 4), st.integers(2, 6)).map(lambda shape: (shape,))
SERIES = st.integers(2, 6).map(lambda length: ((length,),))


def weights(lib, count, kind):
    """Frequency (integer) or importance (float) weights for ``count`` observations, none of them 0."""
    values = np.arange(count) % 3 + 1
    return lib.tensor(values) if kind == "f" else lib.tensor(values * 0.5 + 0.25)


CASES = [
    library_case("cov", lambda lib, x: lib.cov(x), OBSERVATIONS),
    library_case("cov_1d", lambda lib, x: x.cov(), SERIES),
    library_case("cov_correction_0", lambda lib, x: lib.cov(x, correction=0), OBSERVATIONS),
    library_case("cov_fweights", lambda lib, x: lib.cov(x, fweights=weights(lib, x.shape[-1], "f")), OBSERVATIONS),
    library_case("cov_aweights", lambda lib, x: lib.cov(x, aweights=weights(lib, x.shape[-1], "a")), OBSERVATIONS),
    library_case("cov_both_weights", lambda lib, x: lib.cov(x, correction=2, fweights=weights(lib, x.shape[-1], "f"), aweights=weights(lib, x.shape[-1], "a")), OBSERVATIONS),
    library_case("cov_weights_with_gradient", lambda lib, x, w: lib.cov(x, aweights=w.abs() + 0.5), st.integers(2, 5).map(lambda n: ((3, n), (n,)))),
    library_case("corrcoef", lambda lib, x: lib.corrcoef(x), OBSERVATIONS),
    library_case("corrcoef_method", lambda lib, x: x.corrcoef(), st.just(((3, 5),))),
]

test_op = table_test(CASES)
test_second_order = second_order_test(CASES)


@pytest.mark.parametrize("call", [
    lambda lib: lib.cov(lib.arange(4)),
    lambda lib: lib.cov(lib.tensor(2.0)),
    lambda lib: lib.cov(lib.ones(3, 1)),
    lambda lib: lib.cov(lib.ones(3, 0)),
    lambda lib: lib.cov(lib.ones(2, 4, dtype=lib.float64), aweights=lib.ones(4)),
    lambda lib: lib.cov(lib.ones(2, 4), aweights=lib.ones(4, dtype=lib.float64)),
    lambda lib: lib.corrcoef(lib.tensor([1.0, 2.0])),
    lambda lib: lib.corrcoef(lib.tensor(2.0)),
    lambda lib: lib.corrcoef(lib.tensor([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0], [3.0, 1.0, 0.0]])),
])
@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0")
def test_small_integer_and_constant_inputs_match_pytorch(call):
    ours, theirs = call(chainrule), call(torch)
    assert ours.dtype == getattr(chainrule, str(theirs.dtype).split(".")[1])
    np.testing.assert_allclose(ours._array, theirs.numpy(), rtol=1e-6)


def test_cov_warns_when_no_degrees_of_freedom_are_left():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0") as caught:
        assert chainrule.cov(chainrule.tensor([1.0])).isnan().item()
    assert caught[0].filename == __file__  # attributed to the caller


def test_cov_with_a_negative_divisor_divides_by_zero_as_pytorch():
    """(PyTorch clamps the normalisation to 0: the infinities keep the signs of the sums)"""
    results = []
    for lib in (chainrule, torch):
        with pytest.warns(UserWarning, match="degrees of freedom"):
            results.append(lib.cov(lib.tensor([[3.0, -1.0], [2.0, 5.0]]), correction=2, aweights=lib.tensor([1.5, 2.0])).tolist())
    assert results[0] == results[1] == [[math.inf, -math.inf], [-math.inf, math.inf]]


@pytest.mark.parametrize("call", [
    lambda lib: lib.cov(lib.ones(2, 2, 2)),
    lambda lib: lib.cov(lib.ones(3, 5), fweights=lib.ones(5)),
    lambda lib: lib.cov(lib.ones(3, 5), fweights=-lib.ones(5, dtype=lib.int64)),
    lambda lib: lib.cov(lib.ones(3, 5), aweights=lib.ones(4)),
    lambda lib: lib.cov(lib.ones(3, 5), aweights=-lib.ones(5)),
    lambda lib: lib.cov(lib.ones(3, 5), aweights=lib.ones(5, 1)),
    lambda lib: lib.cov(lib.ones(3, 5), aweights=lib.ones(5, dtype=lib.int64)),
    lambda lib: lib.histogramdd(lib.ones(4, 2), bins=[2, 2, 2]),
    lambda lib: lib.histogramdd(lib.ones(4), bins=2),
    lambda lib: lib.histogramdd(lib.ones(3, 1), bins=[lib.tensor([0.0, 1.0, 2.0], dtype=lib.float64)]),
    lambda lib: lib.cov(lib.tensor([[True, False, True]])),
])
def test_errors_are_pytorchs(call):
    with pytest.raises(RuntimeError) as expected:
        call(torch)
    with pytest.raises(RuntimeError) as got:
        call(chainrule)
    assert " ".join(str(expected.value).split()[:3]) in str(got.value)


POINTS = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.2], [0.25, 0.75], [0.9, -0.3], [2.0, 0.5]])


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.histogramdd(x, bins=[3, 4]),
    lambda lib, x: lib.histogramdd(x, bins=3, range=[0.0, 1.0, 0.0, 2.0], density=True),
    lambda lib, x: lib.histogramdd(x, bins=[lib.tensor([0.0, 0.5, 1.0]), lib.tensor([0.0, 1.0])], weight=lib.arange(6.0)),
    lambda lib, x: lib.histogramdd(x.reshape(3, 2, 2), bins=2),
    lambda lib, x: lib.histogramdd(lib.ones(4, 2), bins=2),
    lambda lib, x: lib.histogramdd(lib.ones(0, 3), bins=2),
    lambda lib, x: lib.histogramdd(x[:, :1], bins=5, density=True),
])
def test_histogramdd_matches_pytorch(call):
    ours, theirs = call(chainrule, chainrule.tensor(POINTS, dtype=chainrule.float32)), call(torch, torch.tensor(POINTS, dtype=torch.float32))
    assert type(ours).__name__ == "histogramdd" and ours.__match_args__ == ("hist", "bin_edges")
    assert ours.hist.dtype == chainrule.float32
    np.testing.assert_allclose(ours.hist._array, theirs.hist.numpy(), rtol=1e-6)
    assert len(ours.bin_edges) == len(theirs.bin_edges)
    for mine, reference in zip(ours.bin_edges, theirs.bin_edges):
        np.testing.assert_allclose(mine._array, reference.numpy(), rtol=1e-6)


def test_nodes_and_methods_are_pytorchs():
    for name in ("cov", "corrcoef"):
        assert hasattr(chainrule.Tensor, name) == hasattr(torch.Tensor, name)
    assert not hasattr(chainrule.Tensor, "histogramdd")
