"""A sweep of eager Tensor methods and ``torch.*`` functions against PyTorch (the oracle): call forms
older course code still uses (PyTorch 2 accepts the deprecated ``(Number, Tensor)`` overloads),
``torch._foreach_*``, float16 reductions along a dimension, Python protocols (``in``, ``reversed``),
the exception type raised for operands of shapes that do not broadcast, and a few names the other
tests do not reach.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values (np.testing),
dtypes, shapes or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are
differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import numpy as np
import pytest
import torch

import chainrule


def plain(result):
    """A result as Python data and float64 arrays, comparable across the two libraries."""
    if isinstance(result, (tuple, list)):
        return [plain(each) for each in result]
    if isinstance(result, (torch.Tensor, chainrule.Tensor)):
        return (str(result.dtype).split(".")[-1], tuple(result.shape), np.asarray(result.detach().numpy(), dtype=np.float64))
    return result


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, tuple):
        assert isinstance(actual, tuple), actual
        assert actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol, equal_nan=True)
    else:
        assert actual == expected, (actual, expected)


def same_in_both(run, rtol=1e-5, atol=1e-6):
    """``run(lib)`` for both libraries, checked to give the same dtypes, shapes and values."""
    torch.manual_seed(0)
    expected = plain(run(torch))
    chainrule.manual_seed(0)
    actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


def raises_as_torch(run):
    """``run(lib)`` raises in PyTorch; chainrule must raise the same exception type (or a subclass)."""
    with pytest.raises(Exception) as expected:
        run(torch)
    with pytest.raises(Exception) as actual:
        run(chainrule)
    assert isinstance(actual.value, expected.type), (
        f"PyTorch raises {expected.type.__name__}({expected.value}); "
        f"chainrule raises {type(actual.value).__name__}({actual.value})"
    )


def arrays(lib, dtype=np.float32):
    """Three 3x4 tensors (a, b, and c > 0) of fixed random values."""
    rng = np.random.RandomState(0)
    return tuple(lib.tensor(value.astype(dtype)) for value in (rng.randn(3, 4), rng.randn(3, 4), rng.rand(3, 4) + 0.5))


# --- deprecated (Number, Tensor) overloads: PyTorch 2 warns and still runs them --------------------

def _old_adam_second_moment(lib):
    a, b, _ = arrays(lib)
    return a.mul_(0.999).addcmul_(1 - 0.999, b, b)  # exp_avg_sq.mul_(beta2).addcmul_(1 - beta2, grad, grad)


def _old_adam_update(lib):
    a, b, c = arrays(lib)
    return a.addcdiv_(-0.01, b, c.sqrt().add_(1e-8))  # p.data.addcdiv_(-step_size, exp_avg, denom)


DEPRECATED_OVERLOADS = {
    "Tensor.addcmul_(value, t1, t2) (pre-1.5 Adam)": _old_adam_second_moment,
    "Tensor.addcdiv_(value, t1, t2) (pre-1.5 Adam)": _old_adam_update,
    "Tensor.addcmul(value, t1, t2)": lambda lib: (lambda a, b, c: a.addcmul(0.5, b, c))(*arrays(lib)),
    "torch.addcmul(input, value, t1, t2)": lambda lib: (lambda a, b, c: lib.addcmul(a, 0.5, b, c))(*arrays(lib)),
    "torch.addcdiv(input, value, t1, t2)": lambda lib: (lambda a, b, c: lib.addcdiv(a, 0.5, b, c))(*arrays(lib)),
    "Tensor.sub_(Number, Tensor)": lambda lib: (lambda a, b, c: a.sub_(2, b))(*arrays(lib)),
    "torch.add(input, Number, Tensor)": lambda lib: (lambda a, b, c: lib.add(a, 2, b))(*arrays(lib)),
    "torch.sub(input, Number, Tensor)": lambda lib: (lambda a, b, c: lib.sub(a, 2, b))(*arrays(lib)),
    "torch.addmm(beta, input, alpha, m1, m2)": lambda lib: (lambda a, b, c: lib.addmm(0.5, lib.ones(3, 3), 2, a, b.T))(*arrays(lib)),
    "torch.addmv(beta, input, alpha, mat, vec)": lambda lib: (lambda a, b, c: lib.addmv(0.5, lib.ones(3), 2, a, b[0]))(*arrays(lib)),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("form", sorted(DEPRECATED_OVERLOADS))
def test_deprecated_number_first_overloads(form):
    same_in_both(DEPRECATED_OVERLOADS[form])


# --- float16 reductions along a dimension ---------------------------------------------------------

def _halves(lib):
    return lib.tensor(np.random.RandomState(0).rand(10000, 2).astype(np.float16))


def test_float16_full_sum_accumulates_like_pytorch():
    same_in_both(lambda lib: (_halves(lib).sum(), _halves(lib).mean()), rtol=1e-3)


FLOAT16_ALONG_A_DIM = {
    "sum(0)": lambda t: t.sum(0),
    "mean(0)": lambda t: t.mean(0),
    "cumsum(0)[-1]": lambda t: t.cumsum(0)[-1],
    "logsumexp(0)": lambda t: t.logsumexp(0),
    "norm(dim=0)": lambda t: t.norm(dim=0),
    "var(0)": lambda t: t.var(0),
}


@pytest.mark.parametrize("reduction", sorted(FLOAT16_ALONG_A_DIM))
def test_float16_reduction_along_a_dim(reduction):
    same_in_both(lambda lib: FLOAT16_ALONG_A_DIM[reduction](_halves(lib)), rtol=1e-3)


# --- torch._foreach_* (custom optimizers, EMA, clip_grad) -----------------------------------------

FOREACH = {
    "_foreach_norm": lambda lib, a, b, c: lib._foreach_norm([a, b]),
    "_foreach_norm(ord=1)": lambda lib, a, b, c: lib._foreach_norm([a, b], 1),
    "_foreach_addcmul_": lambda lib, a, b, c: (lib._foreach_addcmul_([a], [b], [c], value=0.5), a)[1],
    "_foreach_addcdiv_": lambda lib, a, b, c: (lib._foreach_addcdiv_([a], [b], [c], value=-0.1), a)[1],
    "_foreach_sqrt": lambda lib, a, b, c: lib._foreach_sqrt([c, c]),
    "_foreach_zero_": lambda lib, a, b, c: (lib._foreach_zero_([a, b]), a, b)[1:],
    "_foreach_sub(alpha=)": lambda lib, a, b, c: lib._foreach_sub([a, b], [b, a], alpha=3),
    "_foreach_div(scalar)": lambda lib, a, b, c: lib._foreach_div([a, b], 2.0),
    "_foreach_maximum": lambda lib, a, b, c: lib._foreach_maximum([a], [b]),
    "_foreach_clamp_min_": lambda lib, a, b, c: (lib._foreach_clamp_min_([a, b], 0.0), a, b)[1:],
    "_foreach_copy_": lambda lib, a, b, c: (lib._foreach_copy_([a], [b]), a)[1],
}


@pytest.mark.parametrize("name", sorted(FOREACH))
def test_foreach_functions(name):
    same_in_both(lambda lib: FOREACH[name](lib, *arrays(lib)))


# --- Python protocols -----------------------------------------------------------------------------

def test_in_operator_on_a_matrix():
    for lib in (torch, chainrule):
        a, _, _ = arrays(lib)
        assert (a[1, 2] in a) is True
        assert (100.0 in a) is False


def test_in_operator_on_a_vector():
    for lib in (torch, chainrule):
        assert 5 in lib.tensor([1, 5]) and 7 not in lib.tensor([1, 5])


def test_reversed_gives_a_flipped_tensor():
    same_in_both(lambda lib: reversed(arrays(lib)[0]))


# --- operands whose shapes do not broadcast: PyTorch raises RuntimeError --------------------------

def _mismatched(call):
    def run(lib):
        a, b, c = arrays(lib)
        z = lib.zeros(2, 5)
        return call(lib, a, b, c, z)
    return run


NOT_BROADCASTING = {
    "a ** z": lambda lib, a, b, c, z: a ** z,
    "a.pow_(z)": lambda lib, a, b, c, z: a.pow_(z),
    "a // z": lambda lib, a, b, c, z: a // z,
    "torch.float_power": lambda lib, a, b, c, z: lib.float_power(a, z),
    "torch.lerp": lambda lib, a, b, c, z: lib.lerp(a, z, 0.5),
    "Tensor.lerp_": lambda lib, a, b, c, z: a.lerp_(z, 0.5),
    "torch.addcmul": lambda lib, a, b, c, z: lib.addcmul(a, a, z),
    "torch.addcdiv": lambda lib, a, b, c, z: lib.addcdiv(a, a, z),
    "clamp(min=tensor)": lambda lib, a, b, c, z: a.clamp(min=z),
    "torch.div(rounding_mode='floor')": lambda lib, a, b, c, z: lib.div(a, z, rounding_mode="floor"),
    "torch.cross": lambda lib, a, b, c, z: lib.cross(a[:, :3], z[:, :3], dim=1),
    "torch.linalg.cross": lambda lib, a, b, c, z: lib.linalg.cross(a[:, :3], z[:, :3]),
    "torch.special.xlog1py": lambda lib, a, b, c, z: lib.special.xlog1py(a, z),
    "torch.special.zeta": lambda lib, a, b, c, z: lib.special.zeta(c, z),
    "torch.igamma": lambda lib, a, b, c, z: lib.igamma(c, z),
    "F.huber_loss": lambda lib, a, b, c, z: lib.nn.functional.huber_loss(a, z),
    "F.smooth_l1_loss": lambda lib, a, b, c, z: lib.nn.functional.smooth_l1_loss(a, z),
    "F.multilabel_soft_margin_loss": lambda lib, a, b, c, z: lib.nn.functional.multilabel_soft_margin_loss(a, z),
    "F.layer_norm(weight of another size)": lambda lib, a, b, c, z: lib.nn.functional.layer_norm(a, (4,), lib.ones(5)),
    "F.batch_norm(running_mean of another size)": lambda lib, a, b, c, z: lib.nn.functional.batch_norm(a, lib.zeros(5), lib.ones(5)),
    "F.instance_norm(running stats of another size)": lambda lib, a, b, c, z: lib.nn.functional.instance_norm(a[None], lib.zeros(5), lib.ones(5)),
    "t[mask] = value of another shape": lambda lib, a, b, c, z: a.__setitem__(a > 0, b),
}
# Shapes that do not broadcast where chainrule already raises as PyTorch does.
NOT_BROADCASTING_ALREADY_SAME = {
    "torch.atan2": lambda lib, a, b, c, z: lib.atan2(a, z),
    "torch.hypot": lambda lib, a, b, c, z: lib.hypot(a, z),
    "torch.fmod": lambda lib, a, b, c, z: lib.fmod(a, z),
    "F.mse_loss": lambda lib, a, b, c, z: lib.nn.functional.mse_loss(a, z),
    "F.l1_loss": lambda lib, a, b, c, z: lib.nn.functional.l1_loss(a, z),
    "t[index] = value of another shape": lambda lib, a, b, c, z: a.__setitem__(lib.tensor([0, 1]), lib.ones(3, 4)),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("call", sorted(NOT_BROADCASTING))
def test_shapes_that_do_not_broadcast_raise_as_pytorch(call):
    raises_as_torch(_mismatched(NOT_BROADCASTING[call]))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("call", sorted(NOT_BROADCASTING_ALREADY_SAME))
def test_shapes_that_do_not_broadcast_already_raise_as_pytorch(call):
    raises_as_torch(_mismatched(NOT_BROADCASTING_ALREADY_SAME[call]))


# --- names few other tests reach -------------------------------------------------------------------

RARELY_TESTED = {
    "Tensor.sum_to_size": lambda lib, a, b, c: (a.sum_to_size(1, 4), a.sum_to_size((3, 1))),
    "tril_indices/triu_indices": lambda lib, a, b, c: (lib.tril_indices(3, 3, -1), lib.triu_indices(3, 4, 1)),
    "torch.chain_matmul": lambda lib, a, b, c: lib.chain_matmul(a, b.T, a),
    "gcd/lcm": lambda lib, a, b, c: (lambda i: (lib.gcd(i, lib.tensor(4)), lib.lcm(i, lib.tensor(6))))(lib.tensor([[1, -2, 3, 0], [4, 5, -6, 8]])),
    "special.hermite_polynomial_he": lambda lib, a, b, c: lib.special.hermite_polynomial_he(a, lib.tensor(4.0)),
    "special.spherical_bessel_j0": lambda lib, a, b, c: lib.special.spherical_bessel_j0(a),
    "scatter(reduce='multiply')": lambda lib, a, b, c: a.scatter(1, lib.tensor([[0, 0]]), 2.0, reduce="multiply"),
    "scatter_(reduce='add')": lambda lib, a, b, c: a.scatter_(1, lib.tensor([[0, 0]]), b, reduce="add"),
    "index_reduce(amax, include_self=False)": lambda lib, a, b, c: a.index_reduce(0, lib.tensor([0, 0, 1]), b, "amax", include_self=False),
    "new_full of an int tensor with a float": lambda lib, a, b, c: lib.tensor([1, 2]).new_full((2,), 2.5),
    "reductions with axis=": lambda lib, a, b, c: (a.sum(axis=1), a.max(axis=0), lib.cat([a, b], axis=1)),
    "fill_diagonal_(wrap=True)": lambda lib, a, b, c: lib.zeros(7, 3).fill_diagonal_(1, wrap=True),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(RARELY_TESTED))
def test_rarely_tested_names(name):
    same_in_both(lambda lib: RARELY_TESTED[name](lib, *arrays(lib)))
