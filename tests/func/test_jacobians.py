"""torch.func.jacrev, jacfwd and hessian against PyTorch: nesting by outputs then argnums."""
import numpy as np
import pytest
import torch
import torch.func

from chainrule import func
from tests.func.helpers import assert_same, both

RNG = np.random.default_rng(3)
X, Y = RNG.standard_normal(3), RNG.standard_normal((2, 3))


def two_outputs(x, y):
    return (x.tanh() * y, (y**2).sum())


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_jacobian_nesting_and_values(name, argnums):
    (x, tx), (y, ty) = both(X), both(Y)
    assert_same(getattr(func, name)(two_outputs, argnums)(x, y), getattr(torch.func, name)(two_outputs, argnums)(tx, ty))


def test_jacrev_has_aux_and_dict_arguments():
    (x, tx), (y, ty) = both(X), both(Y)

    def model(params, x):
        out = params["w"] @ x
        return out.sin(), out

    assert_same(func.jacrev(model, has_aux=True)({"w": y}, x), torch.func.jacrev(model, has_aux=True)({"w": ty}, tx))


def test_hessian():
    (x, tx), (y, ty) = both(X), both(Y)
    assert_same(func.hessian(lambda x: (x.sin() * x).sum())(x), torch.func.hessian(lambda x: (x.sin() * x).sum())(tx))
    f = lambda x, y: (x * y).exp().sum()  # noqa: E731
    assert_same(func.hessian(f, argnums=(0, 1))(x, y), torch.func.hessian(f, argnums=(0, 1))(tx, ty))
