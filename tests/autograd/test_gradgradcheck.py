"""gradgradcheck: second derivatives from backward-of-backward against finite differences."""
import pytest

import chainrule
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
