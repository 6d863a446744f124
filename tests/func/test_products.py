"""torch.func.vjp, jvp and linearize against PyTorch: tuples, dicts, has_aux, errors."""
import numpy as np
import pytest
import torch
import torch.func

import chainrule
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


def test_linearize_gives_the_jacobian_vector_products_of_pytorch_at_the_primals():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((3, 2)), rng.standard_normal(2)

    def f(lib):
        return lambda a, b: ((a * b).tanh().sum(0), a.exp() @ b)

    ours_output, ours_jvp = chainrule.func.linearize(f(chainrule), chainrule.tensor(x), chainrule.tensor(y))
    theirs_output, theirs_jvp = torch.func.linearize(f(torch), torch.tensor(x), torch.tensor(y))
    for ours, theirs in zip(ours_output, theirs_output):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    for _ in range(3):  # the same linear map, called again and again
        tx, ty = rng.standard_normal((3, 2)), rng.standard_normal(2)
        for ours, theirs in zip(ours_jvp(chainrule.tensor(tx), chainrule.tensor(ty)), theirs_jvp(torch.tensor(tx), torch.tensor(ty))):
            np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10)
    with pytest.raises(RuntimeError, match="different size"):
        ours_jvp(chainrule.ones(4), chainrule.tensor(ty))
    with pytest.raises(RuntimeError, match="same python structure"):
        ours_jvp(chainrule.tensor(tx))


def test_replace_all_batch_norm_modules_drops_running_statistics_as_pytorch_does():
    def make(lib):
        return lib.nn.Sequential(lib.nn.BatchNorm1d(3), lib.nn.InstanceNorm1d(3, track_running_stats=True), lib.nn.BatchNorm2d(2))

    results = []
    for lib in (chainrule, torch):
        model = make(lib)
        assert lib.func.replace_all_batch_norm_modules_(model) is model
        results.append(([name for name, _ in model.named_buffers()], [getattr(m, "track_running_stats", None) for m in model]))
    assert results[0] == results[1] == (["1.running_mean", "1.running_var", "1.num_batches_tracked"], [False, True, False])
