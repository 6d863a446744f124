"""Custom operations written the PyTorch way: Function with forward/backward and a ctx."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd import Function, GradcheckError, gradcheck


class MyExp(Function):
    """A custom op exactly as the PyTorch docs write one: tensors in, tensors out."""

    @staticmethod
    def forward(ctx, x):
        result = x.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * result


class ScaledRelu(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x.clamp(min=0) * scale

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return grad_output * (x > 0).float() * ctx.scale, None


def test_custom_function_like_pytorch():
    x = chainrule.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = MyExp.apply(x)
    assert y.grad_fn.name() == "MyExpBackward"
    assert "grad_fn=<MyExpBackward>" in repr(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad._array, np.exp([0.5, -1.0, 2.0]), rtol=1e-6)


def test_custom_function_with_non_tensor_argument():
    x = chainrule.tensor([0.5, -1.0, 2.0], requires_grad=True)
    ScaledRelu.apply(x, 3.0).sum().backward()
    np.testing.assert_allclose(x.grad._array, [3.0, 0.0, 3.0])


def test_custom_function_supports_double_backward():
    x = chainrule.tensor(0.7, dtype=chainrule.float64, requires_grad=True)
    (first,) = chainrule.autograd.grad(MyExp.apply(x), x, create_graph=True)
    (second,) = chainrule.autograd.grad(first, x)
    assert second.item() == pytest.approx(np.exp(0.7))


def test_next_functions_lead_to_accumulate_grad():
    w = chainrule.tensor(1.0, requires_grad=True)
    y = w * 2
    node, output_nr = y.grad_fn.next_functions[0]
    assert type(node).__name__ == "AccumulateGrad" and node.variable is w and output_nr == 0
    assert y.grad_fn.next_functions[1] == (None, 0)


def test_gradcheck_passes_and_catches_a_wrong_backward():
    class WrongSquare(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x._array**2

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * x  # should be 2x

    x = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64, requires_grad=True)
    assert gradcheck(lambda t: t * t, (x,))
    with pytest.raises(GradcheckError, match="input element"):
        gradcheck(WrongSquare.apply, (x,))
    assert gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_wrong_number_of_gradients_is_reported():
    class TooMany(Function):
        @staticmethod
        def forward(ctx, x):
            return x._array * 1

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, grad_output

    x = chainrule.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        TooMany.apply(x).backward()


def test_detect_anomaly_names_the_operation_and_forward_line():
    x = chainrule.tensor(0.0, requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection"):
        with chainrule.autograd.detect_anomaly():
            y = x.sqrt() * 0.0  # d sqrt / dx at 0 is inf; 0 * inf is nan
            with pytest.raises(RuntimeError, match="SqrtBackward") as error:
                y.backward()
    assert "test_function.py" in str(error.value)


def test_anomaly_free_backward_stays_quiet():
    chainrule.autograd.set_detect_anomaly(True)
    try:
        x = chainrule.tensor(1.0, requires_grad=True)
        (x.sqrt() * 2).backward()
        assert x.grad.item() == pytest.approx(1.0)
    finally:
        chainrule.autograd.set_detect_anomaly(False)


def test_torch_and_chainrule_custom_functions_agree():
    class TorchExp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result

    values = np.random.default_rng(0).standard_normal((3, 2))
    ours = chainrule.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    (MyExp.apply(ours) * 3).sum().backward()
    (TorchExp.apply(theirs) * 3).sum().backward()
    np.testing.assert_allclose(ours.grad._array, theirs.grad.numpy())


def _scaled_square_with_setup_context(lib):
    """PyTorch 2's form of a Function: forward without ctx, setup_context filling it."""

    class ScaledSquare(lib.autograd.Function):
        @staticmethod
        def forward(x, scale):
            return x * x * scale

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, scale = inputs
            ctx.save_for_backward(x)
            ctx.scale = scale

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return 2 * x * grad_output * ctx.scale, None

    return ScaledSquare


def test_function_in_the_form_with_setup_context_as_in_pytorch():
    results = []
    for lib in (chainrule, torch):
        ScaledSquare = _scaled_square_with_setup_context(lib)
        x = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        y = ScaledSquare.apply(x, 3.0)
        (first,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        first.sum().backward()  # twice differentiable: backward is written with tensor operations
        assert lib.autograd.gradcheck(lambda a: ScaledSquare.apply(a, 2.0), (x.detach().requires_grad_(),))
        assert ScaledSquare.apply(lib.tensor([2.0]), 2.0).tolist() == [8.0]  # without grad: setup_context runs too
        results.append((y.tolist(), first.tolist(), x.grad.tolist(), type(y.grad_fn).__name__))
    assert results[0] == results[1]


def test_function_with_setup_context_in_a_compiled_step():
    ScaledSquare = _scaled_square_with_setup_context(chainrule)
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)

    def step():
        x.grad = None
        ScaledSquare.apply(x, 0.5).sum().backward()
        return x.grad.clone()

    compiled = chainrule.compile(step)
    assert [compiled().tolist() for _ in range(3)] == [step().tolist()] * 3


def test_instantiating_a_function_warns_as_pytorch_and_inplace_function_remembers_inplace():
    """Methods of an autograd Function are static: making one is PyTorch's DeprecationWarning,
    naming the class. InplaceFunction, kept for old code, keeps its ``inplace`` flag."""
    for lib in (torch, chainrule):
        class Identity(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad

        with pytest.warns(DeprecationWarning, match="Identity'> should not be instantiated"):
            Identity()
        with pytest.warns(DeprecationWarning, match="should not be instantiated"):
            assert lib.autograd.function.InplaceFunction(inplace=True).inplace is True


def _pow_function(lib):
    class Pow(lib.autograd.Function):
        @staticmethod
        def forward(x, exponent=3):
            return x**exponent

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, exponent = inputs  # forward's default is among the inputs, as PyTorch binds it
            ctx.save_for_backward(x)
            ctx.exponent = exponent

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * ctx.exponent * x ** (ctx.exponent - 1), None

    return Pow


def _doubling_function(lib, with_backward_too):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def vjp(ctx, grad):
            return 2 * grad

        if with_backward_too:
            @staticmethod
            def backward(ctx, grad):
                return 2 * grad

    return Double


def test_setup_context_sees_defaults_and_vjp_is_backwards_other_name_as_pytorch():
    results = []
    for lib in (torch, chainrule):
        Pow = _pow_function(lib)
        x = lib.tensor(2.0, requires_grad=True)
        Pow.apply(x).backward()
        x2 = lib.ones(3, requires_grad=True)
        _doubling_function(lib, False).apply(x2).sum().backward()
        both = _doubling_function(lib, True).apply(lib.ones(1, requires_grad=True)).sum()
        with pytest.raises(RuntimeError, match="Implementing both 'backward' and 'vjp' for a custom Function is not allowed"):
            both.backward()
        results.append((x.grad.item(), Pow.apply(lib.tensor(2.0), 4).item(), x2.grad.tolist()))
    assert results[1] == results[0] == (12.0, 16.0, [2.0, 2.0, 2.0])


def test_a_view_a_custom_function_returned_is_not_changed_in_place_as_pytorch():
    """The change would bypass the Function's backward: PyTorch's RuntimeError."""
    for lib in (torch, chainrule):
        class Row(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a.select(0, 1)

            @staticmethod
            def backward(ctx, grad):
                result = lib.zeros(2, 3)
                result[1] = grad
                return result

        out = Row.apply(lib.rand(2, 3, requires_grad=True).clone())
        with pytest.raises(RuntimeError, match="Output 0 of Row is a view and is being modified inplace. This view was created inside a custom Function"):
            out += 1
