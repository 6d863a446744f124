"""torch.func.grad and grad_and_value against PyTorch: argnums, has_aux, dicts, composition."""
import numpy as np
import pytest
import torch
import torch.func

import chainrule
from chainrule import func
from tests.func.helpers import assert_same, assert_same_error, both

RNG = np.random.default_rng(1)
X, Y = RNG.standard_normal(3), RNG.standard_normal(3)


def loss(x, y):
    return (x.sin() * y).sum() + (y**2).sum()


@pytest.mark.parametrize("argnums", [0, 1, -1, (0, 1), (1,)])
def test_grad_and_value_with_argnums(argnums):
    (x, tx), (y, ty) = both(X), both(Y)
    assert_same(func.grad(loss, argnums)(x, y), torch.func.grad(loss, argnums)(tx, ty))
    assert_same(func.grad_and_value(loss, argnums)(x, y), torch.func.grad_and_value(loss, argnums)(tx, ty))


def test_has_aux_and_dicts_of_parameters():
    (x, tx), (y, ty) = both(X), both(Y)

    def with_aux(params, x):
        out = (params["w"] * x).tanh().sum() + params["b"]
        return out, {"out": out, "twice": x * 2}

    params = {"w": chainrule.tensor(Y), "b": chainrule.tensor(0.5, dtype=chainrule.float64)}
    torch_params = {"w": ty, "b": torch.tensor(0.5, dtype=torch.float64)}
    assert_same(func.grad(with_aux, has_aux=True)(params, x), torch.func.grad(with_aux, has_aux=True)(torch_params, tx))
    assert_same(func.grad_and_value(with_aux, has_aux=True)(params, x), torch.func.grad_and_value(with_aux, has_aux=True)(torch_params, tx))


def test_transforms_compose_and_results_are_plain_tensors():
    (x, tx), (y, ty) = both(X), both(Y)

    def inner(x):
        return (x**3).sin().sum()

    assert_same(func.grad(lambda x: func.grad(inner)(x).sum())(x), torch.func.grad(lambda x: torch.func.grad(inner)(x).sum())(tx))
    assert_same(func.grad(inner)(x.requires_grad_()), torch.func.grad(inner)(tx.requires_grad_()))
    w, tw = chainrule.tensor(Y, requires_grad=True), torch.tensor(Y, requires_grad=True)
    assert_same(func.grad(lambda x: (x * w).sum())(chainrule.tensor(X)), torch.func.grad(lambda x: (x * tw).sum())(torch.tensor(X)))
    with chainrule.no_grad():
        assert not func.grad(lambda x: (x * w).sum())(chainrule.tensor(X)).requires_grad


def test_unused_input_gives_zeros():
    (x, tx), (y, ty) = both(X), both(Y)
    assert_same(func.grad(lambda x, y: (y**2).sum())(x, y), torch.func.grad(lambda x, y: (y**2).sum())(tx, ty))


@pytest.mark.parametrize(
    "call",
    [
        lambda f, x: f.grad(lambda x: x)(x),
        lambda f, x: f.grad(lambda x: 3)(x),
        lambda f, x: f.grad(lambda x: x.sum(), argnums=2)(x),
        lambda f, x: f.grad(lambda x: x.sum(), argnums=())(x),
        lambda f, x: f.grad(lambda x, y: (x * y).sum(), argnums=(0, 0))(x, x),
        lambda f, x: f.grad(lambda x, y: (x * y).sum(), argnums=(1, -1))(x, x),
        lambda f, x: f.grad(lambda x: x.sum(), has_aux=True)(x),
    ],
)
def test_errors_match_pytorch(call):
    x, tx = both(X)
    assert_same_error(call, (func, x), (torch.func, tx))
