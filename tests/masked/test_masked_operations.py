"""``chainrule.masked``'s functions on plain tensors against ``torch.masked``: values (fully
masked slices included), dtypes, gradients (masked-out positions included), float64 finite
differences, second derivatives, and PyTorch's errors."""
import numpy as np
import pytest
import torch

import chainrule
import chainrule.masked

REDUCTIONS = ["sum", "prod", "amax", "amin", "mean", "var", "std", "logsumexp", "norm"]
ALONG_ONE_DIM = ["softmax", "log_softmax", "softmin", "cumsum", "cumprod", "median", "argmax", "argmin"]
NOT_DIFFERENTIABLE = {"argmax", "argmin"}


def pair(array, requires_grad=False):
    """The same array as a PyTorch tensor and a chainrule tensor."""
    return (torch.tensor(array, requires_grad=requires_grad), chainrule.tensor(array, requires_grad=requires_grad))


def assert_same(ours, theirs, rtol=1e-6):
    assert str(ours.dtype).replace("chainrule.", "torch.") == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy().astype(float), theirs.detach().numpy().astype(float), rtol=rtol, atol=1e-9)


def call(library, name, input, *args, **kwargs):
    return getattr(library.masked, name)(input, *args, **kwargs)


def compare(name, array, mask, *args, **kwargs):
    """Values and gradients (for a random output gradient) of ``name`` alike in both libraries."""
    (theirs, ours), (their_mask, our_mask) = pair(array, requires_grad=name not in NOT_DIFFERENTIABLE), pair(mask)
    their_out = call(torch, name, theirs, *args, mask=their_mask, **kwargs)
    our_out = call(chainrule, name, ours, *args, mask=our_mask, **kwargs)
    assert_same(our_out, their_out)
    if name in NOT_DIFFERENTIABLE:
        return
    grad_output = np.random.default_rng(1).standard_normal(tuple(their_out.shape))
    (their_grad,) = torch.autograd.grad(their_out, theirs, torch.tensor(grad_output), allow_unused=True, materialize_grads=True)
    (our_grad,) = chainrule.autograd.grad(our_out, ours, chainrule.tensor(grad_output), allow_unused=True, materialize_grads=True)
    assert_same(our_grad, their_grad)


SHAPES_AND_DIMS = [((3, 4), 1), ((3, 4), 0), ((2, 3, 4), (0, 2)), ((2, 3, 4), None), ((5,), 0), ((), None), ((3, 1), -1), ((2, 0, 3), 2)]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("shape, dim", SHAPES_AND_DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions_match_pytorch(name, shape, dim, keepdim):
    rng = np.random.default_rng(0)
    array, mask = rng.standard_normal(shape), rng.random(shape) > 0.4
    if mask.ndim == 2:
        mask[0] = False  # a fully masked-out slice: the identity, or NaN
    if name in ("amax", "amin") and 0 in shape:
        return  # (neither library reduces an empty dimension to a max)
    compare(name, array, mask, *((2.0, dim) if name == "norm" else (dim,)), keepdim=keepdim)


@pytest.mark.parametrize("name", ALONG_ONE_DIM)
@pytest.mark.parametrize("shape, dim", [((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((5,), 0), ((), 0), ((3, 1), 1)])
def test_normalizations_match_pytorch(name, shape, dim):
    rng = np.random.default_rng(2)
    array, mask = rng.standard_normal(shape), rng.random(shape) > 0.4
    if mask.ndim == 2:
        mask[0] = False
    compare(name, array, mask, dim)


@pytest.mark.parametrize("ord", [1, 2.0, 3, float("inf"), float("-inf"), 0])
def test_norm_and_normalize_of_each_order(ord):
    rng = np.random.default_rng(3)
    array, mask = rng.standard_normal((3, 5)), rng.random((3, 5)) > 0.3
    mask[:, 0] = True
    compare("norm", array, mask, ord, 1)
    compare("normalize", array, mask, ord, 1)
    compare("normalize", array, mask, ord, 0, eps=1e-3)


def test_broadcast_mask_and_no_mask():
    rng = np.random.default_rng(4)
    array = rng.standard_normal((2, 3, 4))
    compare("sum", array, np.array([True, False, True, True]), 1)
    compare("softmax", array, np.array([[True], [False], [True]]), 2)
    for name in REDUCTIONS:
        theirs, ours = pair(array)
        assert_same(call(chainrule, name, ours, dim=None), call(torch, name, theirs, dim=None))


@pytest.mark.parametrize("options", [{"unbiased": False}, {"correction": 0}, {"correction": 2}, {"unbiased": True}])
def test_var_and_std_corrections(options):
    rng = np.random.default_rng(5)
    array, mask = rng.standard_normal((4, 6)), rng.random((4, 6)) > 0.5
    mask[1] = [True, True, False, False, False, False]  # 2 kept: n - 2 = 0 for correction=2
    for name in ("var", "std"):
        compare(name, array, mask, 1, **options)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float32"])
def test_dtypes_of_results(dtype):
    rng = np.random.default_rng(6)
    array, mask = rng.integers(0, 5, (3, 4)), rng.random((3, 4)) > 0.3
    mask[:, 0] = True
    theirs, ours = torch.tensor(array).to(getattr(torch, dtype)), chainrule.tensor(array).to(getattr(chainrule, dtype))
    their_mask, our_mask = pair(mask)
    names = ["sum", "prod", "median"] + ([] if dtype == "bool" else ["var", "std", "cumsum", "amax", "amin", "argmax", "argmin"])
    for name in names:
        assert_same(call(chainrule, name, ours, 1, mask=our_mask), call(torch, name, theirs, 1, mask=their_mask))
    for name in ("sum", "mean", "amax"):
        if dtype != "bool" or name == "sum":
            options = {"dtype": chainrule.float64}, {"dtype": torch.float64}
            assert_same(call(chainrule, name, ours, 1, mask=our_mask, **options[0]), call(torch, name, theirs, 1, mask=their_mask, **options[1]))


def test_logaddexp_with_two_masks():
    rng = np.random.default_rng(7)
    (theirs, ours), (their_other, our_other) = pair(rng.standard_normal((3, 4)), True), pair(rng.standard_normal((4,)), True)
    (their_mask, our_mask), (their_other_mask, our_other_mask) = pair(rng.random((3, 4)) > 0.5), pair(np.array([1, 0, 1, 0]) > 0)
    their_out = torch.masked.logaddexp(theirs, their_other, input_mask=their_mask, other_mask=their_other_mask)
    our_out = chainrule.masked.logaddexp(ours, our_other, input_mask=our_mask, other_mask=our_other_mask)
    assert_same(our_out, their_out)
    their_out.exp().sum().backward()
    our_out.exp().sum().backward()
    assert_same(ours.grad, theirs.grad)
    assert_same(our_other.grad, their_other.grad)


DIFFERENTIABLE = [
    ("sum", (1,)), ("prod", (1,)), ("amax", (1,)), ("amin", (0,)), ("mean", ((0, 1),)), ("var", (1,)), ("std", (1,)),
    ("logsumexp", (1,)), ("norm", (2.0, 1)), ("norm", (1, None)), ("softmax", (1,)), ("log_softmax", (0,)), ("softmin", (1,)),
    ("normalize", (2.0, 1)), ("cumsum", (1,)), ("cumprod", (1,)), ("median", (1,)),
]


@pytest.mark.parametrize("name, args", DIFFERENTIABLE)
def test_gradcheck_and_second_derivatives(name, args):
    rng = np.random.default_rng(8)
    x = chainrule.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    mask = chainrule.tensor(rng.random((3, 4)) > 0.4)
    mask[:, 1] = True
    mask[0, 0] = False
    mask[0, 2] = True  # two kept in every row (std's √ has no derivative at 0)

    def function(x):
        return getattr(chainrule.masked, name)(x, *args, mask=mask)

    assert chainrule.autograd.gradcheck(function, (x,))
    if name not in ("amax", "amin", "median", "norm"):  # (piecewise linear: no second derivative to compare)
        assert chainrule.autograd.gradgradcheck(function, (x,))


def test_errors_name_the_problem():
    x, mask = chainrule.ones(2, 3), chainrule.ones(2, 3, dtype=chainrule.bool)
    with pytest.raises(IndexError, match="Dimension out of range"):
        chainrule.masked.sum(x, 2, mask=mask)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        chainrule.masked.sum(x, (1, -1), mask=mask)
    with pytest.raises(IndexError, match="mask dimensionality higher"):
        chainrule.masked.sum(x, 1, mask=chainrule.ones(1, 2, 3, dtype=chainrule.bool))
    with pytest.raises(ValueError, match="mean.*floating point"):
        chainrule.masked.mean(chainrule.ones(2, 3, dtype=chainrule.int64), 1, mask=mask)
    with pytest.raises(ValueError, match="fully masked out rows"):
        chainrule.masked.median(chainrule.ones(2, 3, dtype=chainrule.int64), 1, mask=chainrule.zeros(2, 3, dtype=chainrule.bool))
    with pytest.raises(AssertionError, match="Only one of unbiased and correction"):
        chainrule.masked.var(x, 1, True, correction=1, mask=mask)
    with pytest.raises(RuntimeError):
        chainrule.masked.sum(x, 1, mask=chainrule.ones(4, dtype=chainrule.bool))
