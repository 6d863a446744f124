"""gradgradcheck: second derivatives from backward-of-backward against finite differences."""
import pytest

import chainrule
import torch
from chainrule.autograd import Function, GradcheckError, gradgradcheck


def test_passes_for_correct_second_derivatives():
    x = chainrule.randn(4, dtype=chainrule.float64, requires_grad=True)
    y = chainrule.randn(4, dtype=chainrule.float64, requires_grad=True)
    assert gradgradcheck(lambda a, b: (a.sin() * b.exp(), (a * b).sum()), (x, y))
    assert gradgradcheck(lambda a: a.tanh() ** 2, x, grad_outputs=chainrule.ones(4, dtype=chainrule.float64))


class CubeWithWrongSecondDerivative(Function):
    """d(x³)/dx = 3x², but backward's own derivative is wrong: it is written as 3 x.detach()²."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x.detach() ** 2


def test_fails_when_backward_is_not_differentiable_correctly():
    x = chainrule.randn(3, dtype=chainrule.float64, requires_grad=True)
    assert chainrule.autograd.gradcheck(CubeWithWrongSecondDerivative.apply, (x,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(CubeWithWrongSecondDerivative.apply, (x,))
    assert gradgradcheck(CubeWithWrongSecondDerivative.apply, (x,), raise_exception=False) is False


def test_default_grad_outputs_are_drawn_as_pytorch_draws_them():
    """Without ``grad_outputs``, the cotangents come from the global generator as PyTorch's
    ``testing.make_tensor(low=-1, high=1)`` draws them: the random stream after the check is the same
    (the extending-PyTorch notes call gradgradcheck between seeded steps)."""
    drawn = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        x = lib.randn(2, 3, dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradgradcheck(lambda x: (x.sin(), x.exp().sum()), (x,))
        drawn.append(lib.rand(3).tolist())
    assert drawn[0] == drawn[1]
