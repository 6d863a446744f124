"""Distances and similarities (ops/distance.py) against PyTorch: values, gradients, float64
gradcheck and second derivatives over random shapes, the eps floors and distance 0, and errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as torch_functional
from hypothesis import strategies as st

import chainrule
import chainrule.nn.functional as functional
from tests.ops.oracle import broadcast_pair, library_case, one_shape, table_test
from tests.ops.second_order import second_order_test


def F(lib):
    return torch_functional if lib is torch else functional


def rows(min_rows=1, max_rows=5):
    """One (N, M) matrix, N possibly 1 (no pairs). (PyTorch 2.13's pdist backward crashes the
    process for N = 0, so that case is a test of its own.)"""
    return st.tuples(st.integers(min_rows, max_rows), st.integers(1, 4)).map(lambda shape: (shape,))


def same_pair(min_dims=1):
    return one_shape(min_dims=min_dims).map(lambda shapes: shapes * 2)


CASES = [
    library_case("normalize", lambda lib, x: F(lib).normalize(x, dim=-1), one_shape(min_dims=1)),
    library_case("normalize_p1_dim0", lambda lib, x: F(lib).normalize(x, p=1, dim=0), one_shape(min_dims=1)),
    library_case("normalize_p3", lambda lib, x: F(lib).normalize(x, p=3.0, dim=-1), one_shape(min_dims=1)),
    library_case("cosine_similarity", lambda lib, a, b: lib.cosine_similarity(a, b, dim=-1), broadcast_pair().filter(lambda s: len(s[0]) and len(s[1]))),
    library_case("cosine_similarity_dim0", lambda lib, a, b: F(lib).cosine_similarity(a, b, dim=0), same_pair()),
    library_case("pairwise_distance", lambda lib, a, b: lib.pairwise_distance(a, b), broadcast_pair()),
    library_case("pairwise_distance_p1_keepdim", lambda lib, a, b: F(lib).pairwise_distance(a, b, p=1, keepdim=True), same_pair()),
    library_case("pairwise_distance_p3", lambda lib, a, b: F(lib).pairwise_distance(a, b, p=3, eps=1e-3), same_pair()),
    library_case("pdist", lambda lib, x: lib.pdist(x), rows()),
    library_case("pdist_p1", lambda lib, x: F(lib).pdist(x, p=1), rows(min_rows=2)),
    library_case("pdist_p3", lambda lib, x: F(lib).pdist(x, p=3), rows(min_rows=2)),
]

test_op = table_test(CASES)
# PyTorch has no second derivative of pdist ("the derivative for '_pdist_backward' is not implemented").
test_second_order = second_order_test([case for case in CASES if not case.name.startswith("pdist")])


def compare(call, arrays, seed=0):
    """``call(lib, *tensors)``: values and gradients in both libraries, float64."""
    results = []
    for lib in (chainrule, torch):
        tensors = [lib.tensor(array.copy(), requires_grad=True) for array in arrays]
        out = call(lib, *tensors)
        (out * lib.tensor(np.random.default_rng(seed).standard_normal(tuple(out.shape)))).sum().backward()
        results.append([out.detach().numpy()] + [tensor.grad.numpy() for tensor in tensors])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-12)
    return results[0][0]


ZERO_ROW = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5], [1e-13, 0.0, -1e-13]])


@pytest.mark.parametrize("call", [
    lambda lib, x: F(lib).normalize(x),
    lambda lib, x: F(lib).normalize(x, eps=0.5),
    lambda lib, x: F(lib).cosine_similarity(x, x.flip(0)),
    lambda lib, x: F(lib).cosine_similarity(x, x.flip(0), eps=0.5),
    lambda lib, x: F(lib).cosine_similarity(x, lib.zeros(3, dtype=lib.float64)),
    lambda lib, x: F(lib).pairwise_distance(x, x.detach()),
    lambda lib, x: F(lib).pairwise_distance(x, x.detach(), eps=0.0),
    lambda lib, x: F(lib).pairwise_distance(x, x.detach(), p=1, eps=0.0),
    lambda lib, x: lib.pdist(lib.cat([x, x])),
    lambda lib, x: lib.pdist(lib.cat([x, x]), p=1),
    lambda lib, x: lib.pdist(lib.cat([x, x]), p=0),
], ids=["normalize", "normalize_eps", "cosine", "cosine_eps", "cosine_zero", "pairwise", "pairwise_no_eps", "pairwise_p1",
        "pdist", "pdist_p1", "pdist_p0"])
def test_zero_vectors_and_the_eps_floors_behave_as_in_pytorch(call):
    """Zero rows, rows shorter than eps and distances of exactly 0: PyTorch's values and gradients
    (the floors change values only; a zero distance has gradient 0 where it has no eps)."""
    compare(call, [ZERO_ROW])


def test_pdist_of_no_rows_is_empty():
    x = chainrule.zeros(0, 3, requires_grad=True)
    out = chainrule.pdist(x)
    out.sum().backward()
    assert tuple(out.shape) == tuple(torch.pdist(torch.zeros(0, 3)).shape) == (0,)
    assert tuple(x.grad.shape) == (0, 3)


def test_integer_inputs_follow_pytorch():
    ints = np.array([[1, 2, 3], [0, -1, 4]])
    for call in (lambda lib: lib.cosine_similarity(lib.tensor(ints), lib.tensor(ints * 1.5, dtype=lib.float32)),
                 lambda lib: lib.pairwise_distance(lib.tensor(ints), lib.tensor(ints[::-1].copy()))):
        ours, theirs = call(chainrule), call(torch)
        assert str(theirs.dtype) == str(ours.dtype).replace("chainrule.", "torch.")
        np.testing.assert_allclose(ours._array, theirs.numpy(), rtol=1e-6)


def test_nodes_are_named_as_pytorch_names_them():
    for call in (lambda lib, x: F(lib).cosine_similarity(x, x), lambda lib, x: F(lib).normalize(x)):
        ours = call(chainrule, chainrule.tensor(ZERO_ROW, requires_grad=True))
        theirs = call(torch, torch.tensor(ZERO_ROW, requires_grad=True))
        assert ours.grad_fn.name() == theirs.grad_fn.name()


def test_normalize_writes_into_out():
    out = chainrule.empty(3, 3)
    result = functional.normalize(chainrule.tensor(ZERO_ROW, dtype=chainrule.float32), out=out)
    assert result is out
    np.testing.assert_allclose(out._array, torch_functional.normalize(torch.tensor(ZERO_ROW, dtype=torch.float32)).numpy())


def test_top_level_forms_are_pytorch_s():
    for name in ("cosine_similarity", "pairwise_distance", "pdist"):
        assert hasattr(chainrule, name) == hasattr(torch, name)
        assert hasattr(chainrule.Tensor, name) == hasattr(torch.Tensor, name)
    assert not hasattr(chainrule, "normalize") and not hasattr(torch, "normalize")


@pytest.mark.parametrize("call, error", [
    (lambda lib: lib.cosine_similarity(lib.ones(3, 4), lib.ones(5)), RuntimeError),
    (lambda lib: lib.cosine_similarity(lib.ones(3, 4), lib.ones(3, 4), eps=-1.0), RuntimeError),
    (lambda lib: lib.cosine_similarity(lib.ones(3, 4), lib.ones(3, 4), dim=3), IndexError),
    (lambda lib: lib.cosine_similarity(lib.ones(3, dtype=lib.int64), lib.ones(3, dtype=lib.int64), dim=0), RuntimeError),
    (lambda lib: lib.pairwise_distance(lib.ones(3, 4), lib.ones(5)), RuntimeError),
    (lambda lib: lib.pdist(lib.ones(3, 4, 2)), RuntimeError),
    (lambda lib: lib.pdist(lib.ones(3)), RuntimeError),
    (lambda lib: lib.pdist(lib.ones(3, 4), p=-1), RuntimeError),
    (lambda lib: lib.nn.functional.normalize(lib.ones(3, 4), dim=2), IndexError),
    (lambda lib: lib.nn.functional.normalize(lib.ones(3, 4, dtype=lib.int64)), RuntimeError),
], ids=["cosine_shapes", "cosine_eps", "cosine_dim", "cosine_integers", "pairwise_shapes", "pdist_3d", "pdist_1d", "pdist_p",
        "normalize_dim", "normalize_integers"])
def test_errors_are_pytorch_s(call, error):
    with pytest.raises(error) as theirs:
        call(torch)
    with pytest.raises(error) as ours:
        call(chainrule)
    words = str(theirs.value).split(" (")[0].split(":")[0][:30]
    assert words.lower() in str(ours.value).lower(), f"ours: {ours.value}\ntheirs: {theirs.value}"


def test_modules_match_pytorch():
    x1, x2 = np.random.default_rng(0).standard_normal((2, 4, 3))
    for name, options in [("CosineSimilarity", {"dim": 0, "eps": 0.1}), ("PairwiseDistance", {"p": 1.0, "keepdim": True})]:
        compare(lambda lib, a, b: getattr(lib.nn, name)(**options)(a, b), [x1, x2])
        assert repr(getattr(chainrule.nn, name)()) == repr(getattr(torch.nn, name)())
    assert chainrule.nn.PairwiseDistance(p=3).norm == torch.nn.PairwiseDistance(p=3).norm == 3


@pytest.mark.parametrize("call", [
    lambda lib, x: F(lib).normalize(x),
    lambda lib, x: F(lib).normalize(x, dim=0),
    lambda lib, x: lib.cosine_similarity(x, x),
    lambda lib, x: lib.cosine_similarity(x, x, dim=0),
    lambda lib, x: lib.pairwise_distance(x, x),
    lambda lib, x: lib.pairwise_distance(x.T, x.T),
    lambda lib, x: lib.pdist(x.T),
], ids=["normalize", "normalize_dim0", "cosine", "cosine_dim0", "pairwise", "pairwise_no_features", "pdist_no_features"])
def test_empty_inputs_give_pytorch_s_shapes_values_and_gradients(call):
    """(0, 3) and (3, 0) inputs: no vectors, or vectors with no entries (their norms are 0)."""
    results = []
    for lib in (chainrule, torch):
        x = lib.zeros(0, 3, requires_grad=True)
        out = call(lib, x)
        out.sum().backward()
        results.append((tuple(out.shape), out.tolist(), tuple(x.grad.shape)))
    assert results[0] == results[1]


# ----------------------------------------------------------------------------- dist, renorm
def spread_rows(array):
    """Rows of clearly different norms (none at the maxnorm threshold, where renorm has a kink)."""
    return array + np.arange(array.shape[0]).reshape((-1,) + (1,) * (array.ndim - 1)) * 0.7 if array.ndim else array


NORM_CASES = [
    library_case("dist", lambda lib, a, b: lib.dist(a, b), broadcast_pair()),
    library_case("dist_p1_method", lambda lib, a, b: a.dist(b, 1), broadcast_pair()),
    library_case("dist_p3", lambda lib, a, b: lib.dist(a, b, p=3), broadcast_pair()),
    library_case("dist_inf", lambda lib, a, b: lib.dist(a, b, float("inf")), same_pair()),
    library_case("renorm", lambda lib, a: lib.renorm(a, 2, 0, 1.5), one_shape(min_dims=2), domain=spread_rows),
    library_case("renorm_p1_last", lambda lib, a: a.renorm(1, -1, 2.0), one_shape(min_dims=2), domain=spread_rows),
    library_case("renorm_in_place", lambda lib, a: (a * 1).renorm_(3, 1, 0.5), one_shape(min_dims=2), domain=spread_rows),
]

test_norm_op = table_test(NORM_CASES)
test_norm_second_order = second_order_test(NORM_CASES)


@pytest.mark.parametrize("call, error", [
    (lambda lib: lib.renorm(lib.ones(3), 2, 0, 1.0), RuntimeError),
    (lambda lib: lib.renorm(lib.ones(3, 2), 0, 0, 1.0), RuntimeError),
    (lambda lib: lib.renorm(lib.ones(3, 2), 2, 0, -1.0), RuntimeError),
    (lambda lib: lib.renorm(lib.ones(3, 2), 2, 2, 1.0), IndexError),
    (lambda lib: lib.dist(lib.ones(3, dtype=lib.int64), lib.ones(3, dtype=lib.int64)), RuntimeError),
    (lambda lib: lib.ones(2, 1, 3, 3).norm(dim=(1, 2, 3)), RuntimeError),  # 'fro' over 3 dims is a matrix norm's refusal
    (lambda lib: lib.norm(lib.ones(2, 3), "fro", (0, 1, 1)), RuntimeError),
])
def test_dist_and_renorm_errors_are_pytorch_s(call, error):
    with pytest.raises(error) as expected:
        call(torch)
    with pytest.raises(error) as got:
        call(chainrule)
    assert str(expected.value).split(":")[0].split()[0] in str(got.value)


def test_dist_p0_and_renorm_of_empty_match_pytorch():
    for call in (lambda lib: lib.dist(lib.ones(3), lib.tensor([1.0, 0.0, 2.0]), 0), lambda lib: lib.renorm(lib.ones(3, 0), 2, 0, 1.0)):
        ours, theirs = call(chainrule), call(torch)
        assert tuple(ours.shape) == tuple(theirs.shape) and ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("p", [2, 1, 3, 0, float("inf"), float("-inf")])
def test_dist_and_norm_name_their_nodes_as_pytorch(p):
    names = []
    for lib in (chainrule, torch):
        x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        names.append((lib.dist(x, lib.tensor([0.0, 1.0, 0.0]), p).grad_fn.name(), lib.norm(x, p).grad_fn.name()))
    assert names[0] == names[1]


@pytest.mark.parametrize(
    "make",
    [lambda lib: lib.cdist(lib.zeros(2, 3), lib.zeros(4, 3), compute_mode="bogus"),
     lambda lib: lib.cdist(lib.zeros(2, 3, dtype=lib.long), lib.zeros(4, 3, dtype=lib.long)),
     lambda lib: lib.cdist(lib.zeros(0, 3, dtype=lib.long), lib.zeros(4, 3, dtype=lib.long)),
     lambda lib: lib.cdist(lib.zeros(2, 3), lib.zeros(4, 3, dtype=lib.long))],
    ids=["compute_mode", "integers", "empty_integers", "second_integer"],
)
def test_cdist_refuses_what_pytorch_refuses(make):
    errors = []
    for lib in (chainrule, torch):
        with pytest.raises((RuntimeError, ValueError)) as caught:
            make(lib)
        errors.append((caught.type, str(caught.value)))
    assert errors[0] == errors[1]
