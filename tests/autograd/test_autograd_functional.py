"""torch.autograd.functional: vjp, jvp, jacobian, hessian, hvp and vhp against PyTorch's (float64),
single tensors and tuples, with PyTorch's nesting and errors."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd import functional as F

RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal(3), RNG.standard_normal((2, 3))


def both(array):
    return chainrule.tensor(array), torch.tensor(array)


def assert_same(ours, theirs):
    """Same nesting (tuples as tuples, tensors as tensors) and same values."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for mine, reference in zip(ours, theirs):
            assert_same(mine, reference)
        return
    assert isinstance(ours, chainrule.Tensor)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def single(lib):
    return lambda x: (x.sin() * x).sum(-1) if x.dim() > 1 else x.exp() * x.sum()


def several(lib):
    return lambda x, y: (x.tanh() * y, (y**2).sum())


def scalar(lib):
    return lambda x: (x.sin() * x.exp()).sum()


def scalar_of_two(lib):
    return lambda x, y: (x.sin() * y).sum() + (y**3).sum()


@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_of_one_and_of_tuples(create_graph):
    (x, tx), (y, ty) = both(X), both(Y)
    assert_same(F.jacobian(single(chainrule), x, create_graph=create_graph), torch.autograd.functional.jacobian(single(torch), tx))
    assert_same(F.jacobian(several(chainrule), (x, y)), torch.autograd.functional.jacobian(several(torch), (tx, ty)))
    assert_same(F.jacobian(lambda x: (x * 2, x.sum()), x), torch.autograd.functional.jacobian(lambda x: (x * 2, x.sum()), tx))
    assert_same(F.jacobian(lambda x, y: x * y[0], (x, y), vectorize=True), torch.autograd.functional.jacobian(lambda x, y: x * y[0], (tx, ty), vectorize=True))
    assert_same(
        F.jacobian(single(chainrule), x, vectorize=True, strategy="forward-mode"),
        torch.autograd.functional.jacobian(single(torch), tx, vectorize=True, strategy="forward-mode"),
    )


def test_results_are_detached_unless_create_graph():
    x = chainrule.tensor(X, requires_grad=True)
    assert not F.jacobian(single(chainrule), x).requires_grad
    jac = F.jacobian(single(chainrule), x, create_graph=True)
    assert jac.requires_grad
    (second,) = chainrule.autograd.grad(jac.sum(), x)
    tx = torch.tensor(X, requires_grad=True)
    (expected,) = torch.autograd.grad(torch.autograd.functional.jacobian(single(torch), tx, create_graph=True).sum(), tx)
    assert_same(second, expected)


def test_hessian_of_one_and_of_tuples():
    (x, tx), (y, ty) = both(X), both(Y)
    assert_same(F.hessian(scalar(chainrule), x), torch.autograd.functional.hessian(scalar(torch), tx))
    assert_same(F.hessian(scalar_of_two(chainrule), (x, y)), torch.autograd.functional.hessian(scalar_of_two(torch), (tx, ty)))


def test_vjp_and_jvp():
    (x, tx), (y, ty) = both(X), both(Y)
    v = (chainrule.tensor(Y), chainrule.tensor(1.5))
    tv = (torch.tensor(Y), torch.tensor(1.5))
    assert_same(F.vjp(several(chainrule), (x, y), v), torch.autograd.functional.vjp(several(torch), (tx, ty), tv))
    assert_same(F.vjp(scalar(chainrule), x), torch.autograd.functional.vjp(scalar(torch), tx))
    assert_same(F.jvp(several(chainrule), (x, y), (x, y)), torch.autograd.functional.jvp(several(torch), (tx, ty), (tx, ty)))
    assert_same(F.jvp(single(chainrule), x, x), torch.autograd.functional.jvp(single(torch), tx, tx))
    assert_same(
        F.jvp(lambda x: x * 3, chainrule.tensor([2.0], dtype=chainrule.float64)),
        torch.autograd.functional.jvp(lambda x: x * 3, torch.tensor([2.0], dtype=torch.float64)),
    )


def test_hvp_and_vhp():
    (x, tx), (y, ty) = both(X), both(Y)
    for ours, theirs in ((F.hvp, torch.autograd.functional.hvp), (F.vhp, torch.autograd.functional.vhp)):
        assert_same(ours(scalar(chainrule), x, x), theirs(scalar(torch), tx, tx))
        assert_same(ours(scalar_of_two(chainrule), (x, y), (x, y)), theirs(scalar_of_two(torch), (tx, ty), (tx, ty)))
        assert_same(ours(scalar(chainrule), x, x, create_graph=True), theirs(scalar(torch), tx, tx, create_graph=True))


def test_unused_inputs_give_zeros_or_strict_errors():
    (x, tx), (y, ty) = both(X), both(Y)
    assert_same(F.jacobian(lambda x, y: x * 2, (x, y)), torch.autograd.functional.jacobian(lambda x, y: x * 2, (tx, ty)))
    assert_same(F.vjp(lambda x, y: x * 2, (x, y), x), torch.autograd.functional.vjp(lambda x, y: x * 2, (tx, ty), tx))
    for ours, theirs in ((F.jacobian, torch.autograd.functional.jacobian), (F.hessian, torch.autograd.functional.hessian)):
        with pytest.raises(RuntimeError) as expected:
            theirs(lambda x, y: (x**2).sum(), (tx, ty), strict=True)
        with pytest.raises(RuntimeError, match="strict mode") as got:
            ours(lambda x, y: (x**2).sum(), (x, y), strict=True)
        assert str(got.value) == str(expected.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda F, lib, x: F.vjp(lambda x: x * 2, x),
        lambda F, lib, x: F.vjp(lambda x: x * 2, x, x[:2]),
        lambda F, lib, x: F.jvp(lambda x: x * 2, (x, x), (x,)),
        lambda F, lib, x: F.hvp(lambda x: x * 2, x, x),
        lambda F, lib, x: F.vhp(lambda x: (x, x), x, x),
        lambda F, lib, x: F.jacobian(lambda x: 3, x),
        lambda F, lib, x: F.jacobian(lambda x: x, [1.0]),
        lambda F, lib, x: F.jacobian(lambda x: x, x, strategy="forward-mode"),
        lambda F, lib, x: F.jacobian(lambda x: x, x, strategy="sideways"),
        lambda F, lib, x: F.jacobian(lambda x: x, x, strict=True, vectorize=True),
    ],
)
def test_errors_match_pytorch(call):
    x, tx = both(X)
    with pytest.raises(Exception) as expected:
        call(torch.autograd.functional, torch, tx)
    with pytest.raises(expected.type) as got:
        call(F, chainrule, x)
    assert str(got.value) == str(expected.value).replace("torch.Size", "chainrule.Size")
