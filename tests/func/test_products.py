"""torch.func.vjp and torch.func.jvp against PyTorch: tuples, dicts, has_aux, errors."""
import numpy as np
import pytest
import torch
import torch.func

from chainrule import func
from tests.func.helpers import assert_same, assert_same_error, both

RNG = np.random.default_rng(2)
X, Y = RNG.standard_normal(3), RNG.standard_normal(3)


def pair(x, y):
    return x.sin() * y, {"sum": (x * y).sum()}


def test_vjp_returns_output_and_a_reusable_pullback():
    (x, tx), (y, ty) = both(X), both(Y)
    output, pullback = func.vjp(pair, x, y)
    torch_output, torch_pullback = torch.func.vjp(pair, tx, ty)
    assert_same(output, torch_output)
    for scale in (1.0, 2.0):
        cotangent = (y * scale, {"sum": x.sum()})
        assert_same(pullback(cotangent), torch_pullback((ty * scale, {"sum": tx.sum()})))


def test_vjp_has_aux():
    (x, tx), _ = both(X), None
    ours = func.vjp(lambda x: (x.exp(), x.sum()), x, has_aux=True)
    theirs = torch.func.vjp(lambda x: (x.exp(), x.sum()), tx, has_aux=True)
    assert_same(ours[0], theirs[0])
    assert_same(ours[2], theirs[2])
    assert_same(ours[1](x), theirs[1](tx))


def test_jvp():
    (x, tx), (y, ty) = both(X), both(Y)
    assert_same(func.jvp(pair, (x, y), (y, x)), torch.func.jvp(pair, (tx, ty), (ty, tx)))
    assert_same(func.jvp(lambda x: x * 2, (x,), (y,)), torch.func.jvp(lambda x: x * 2, (tx,), (ty,)))
    assert_same(
        func.jvp(lambda x: (x.exp(), x.sum()), (x,), (y,), has_aux=True),
        torch.func.jvp(lambda x: (x.exp(), x.sum()), (tx,), (ty,), has_aux=True),
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda f, x: f.jvp(lambda x: x, [x], [x]),
        lambda f, x: f.jvp(lambda x: x, (x,), (x, x)),
        lambda f, x: f.jvp(lambda x: x, (x,), (x[:2],)),
        lambda f, x: f.vjp(lambda x: x * 2, x)[1]((x,)),
    ],
)
def test_errors_match_pytorch(call):
    x, tx = both(X)
    assert_same_error(call, (func, x), (torch.func, tx), first_words_only=True)
