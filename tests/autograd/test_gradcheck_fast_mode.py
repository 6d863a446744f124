"""gradcheck(fast_mode=True): each Jacobian seen through random directions, vᵀ (J u) from finite
differences against (vᵀ J) u from backward, and the same verdict as PyTorch's fast gradcheck."""
import numpy as np
import pytest

import chainrule
import torch
from chainrule.autograd import Function, GradcheckError, gradcheck, gradgradcheck
from tests.autograd.test_gradgradcheck import CubeWithWrongSecondDerivative


def both(function, *arrays, **options):
    """``function(library, *tensors)`` checked by each library's fast gradcheck: (chainrule's verdict, PyTorch's)."""
    verdicts = []
    for library in (chainrule, torch):
        inputs = [library.tensor(array, requires_grad=True) for array in arrays]
        verdicts.append(library.autograd.gradcheck(
            lambda *xs: function(library, *xs), inputs, fast_mode=True, raise_exception=False, **options
        ))
    return verdicts


rng = np.random.default_rng(0)
CORRECT = {
    "elementwise": (lambda lib, a: a.sin() * a.exp(), rng.standard_normal((3, 4))),
    "broadcast product": (lambda lib, a, b: a * b, rng.standard_normal((3, 1)), rng.standard_normal(4)),
    "two outputs": (lambda lib, a, b: (a @ b, (a * a).sum()), rng.standard_normal((2, 3)), rng.standard_normal(3)),
    "0-d": (lambda lib, a: a.tanh(), np.array(0.3)),
    "size-1 dims": (lambda lib, a: a.sum(0), rng.standard_normal((2, 1, 3))),
    "complex": (lambda lib, z: z * z.conj() + z.exp(), rng.standard_normal(3) + 1j * rng.standard_normal(3)),
    "complex to real": (lambda lib, z: z.abs(), rng.standard_normal(3) + 1j * rng.standard_normal(3)),
    "reduction over a large input": (lambda lib, a: a.softmax(-1), rng.standard_normal((20, 30))),
}


@pytest.mark.parametrize("case", CORRECT, ids=str)
def test_correct_derivatives_pass_as_in_pytorch(case):
    function, *arrays = CORRECT[case]
    assert both(function, *arrays) == [True, True]
    if not any(np.iscomplexobj(array) for array in arrays):  # chainrule's forward mode is real-only
        assert both(function, *arrays, check_forward_ad=True) == [True, True]


def scaled_sine(library, scale):
    class Sine(library.autograd.Function):
        """sin, whose backward is ``scale`` times cos: wrong unless scale is 1."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * x.cos() * scale

    return Sine.apply


def test_a_wrong_backward_fails_as_in_pytorch_and_the_error_names_the_worst_element():
    x = rng.standard_normal((5, 4))
    assert both(lambda lib, a: scaled_sine(lib, 1.1)(a), x) == [False, False]
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0: at output element"):
        gradcheck(scaled_sine(chainrule, 1.1), (chainrule.tensor(x, requires_grad=True),), fast_mode=True)


def test_a_wrong_forward_mode_derivative_fails():
    class WrongTangent(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 2

        @staticmethod
        def jvp(ctx, tangent):
            return tangent * 3

    x = chainrule.randn(5, dtype=chainrule.float64, requires_grad=True)
    assert gradcheck(WrongTangent.apply, (x,), fast_mode=True)
    with pytest.raises(GradcheckError, match="forward mode gives"):
        gradcheck(WrongTangent.apply, (x,), fast_mode=True, check_forward_ad=True)


def test_only_the_fast_check_failing_says_that_the_full_check_would_pass():
    """An error that stays within rtol of each element (slow mode passes) but does not cancel in
    vᵀ E u while vᵀ J u does (J's diagonal alternates in sign): PyTorch's fast mode fails it too."""
    signs = np.where(np.arange(40) % 2, 100.0, -100.0)
    verdicts = []
    for library in (chainrule, torch):
        alternating = library.tensor(signs)

        class Scale(library.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * alternating

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output * alternating + grad_output.abs() * 0.09

        x = library.tensor(np.ones(40), requires_grad=True)
        verdicts.append((
            library.autograd.gradcheck(Scale.apply, (x,), raise_exception=False),
            library.autograd.gradcheck(Scale.apply, (x,), fast_mode=True, raise_exception=False, check_undefined_grad=False),
        ))
        if library is chainrule:
            with pytest.raises(GradcheckError, match="would pass with fast_mode=False"):
                gradcheck(Scale.apply, (x,), fast_mode=True, check_undefined_grad=False)
    assert verdicts[0] == verdicts[1] == (True, False)


def test_a_nondeterministic_backward_fails():
    class Noisy(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output + chainrule.rand(grad_output.shape, dtype=grad_output.dtype) * 1e-3

    x = chainrule.randn(4, dtype=chainrule.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(Noisy.apply, (x,), fast_mode=True, atol=1e-2)


def test_outputs_that_change_without_a_gradient_fail_as_in_pytorch():
    assert both(lambda lib, a: a.detach() * 2, rng.standard_normal(3)) == [False, False]
    assert both(lambda lib, a: a.detach().round() * 0, rng.standard_normal(3)) == [True, True]


def test_the_callers_random_stream_is_left_as_it_was():
    drawn = []
    for check in (False, True):
        chainrule.manual_seed(5)
        x = chainrule.randn(6, dtype=chainrule.float64, requires_grad=True)
        if check:
            assert gradcheck(lambda a: a.exp(), (x,), fast_mode=True)
        drawn.append(chainrule.rand(3).tolist())
    assert drawn[0] == drawn[1]


def test_gradgradcheck_in_fast_mode_catches_a_backward_that_is_not_differentiable_correctly():
    x = chainrule.randn(3, dtype=chainrule.float64, requires_grad=True)
    assert gradgradcheck(lambda a: a.sin() * a, (x,), fast_mode=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(CubeWithWrongSecondDerivative.apply, (x,), fast_mode=True)
