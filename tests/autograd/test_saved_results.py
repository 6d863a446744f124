"""What activations save for backward, against PyTorch: changing in place the tensor PyTorch's
node keeps (the result for relu, sigmoid, tanh, exp, softmax and the in-place forms leaky_relu_,
elu_, selu_, celu_, rrelu_; the input for leaky_relu, hardtanh, threshold, hardshrink...) raises
PyTorch's RuntimeError at backward, and changing the other one does not; the in-place forms'
nodes, their refusals (a leaf, a negative slope), and their gradients."""
import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn.functional as F

VALUES = [[0.5, -0.3, 1.2, -2.0], [0.1, 0.7, -0.4, 3.0]]


def _functional(library):
    return torch.nn.functional if library is torch else F


OUT_OF_PLACE = {
    "relu": lambda lib, x: lib.relu(x),
    "leaky_relu": lambda lib, x: _functional(lib).leaky_relu(x, 0.1),
    "leaky_relu negative slope": lambda lib, x: _functional(lib).leaky_relu(x, -0.1),
    "relu6": lambda lib, x: _functional(lib).relu6(x),
    "hardtanh": lambda lib, x: _functional(lib).hardtanh(x, -0.5, 0.6),
    "threshold": lambda lib, x: _functional(lib).threshold(x, 0.1, 2.0),
    "elu": lambda lib, x: _functional(lib).elu(x),
    "selu": lambda lib, x: _functional(lib).selu(x),
    "celu": lambda lib, x: _functional(lib).celu(x, 0.7),
    "sigmoid": lambda lib, x: lib.sigmoid(x),
    "tanh": lambda lib, x: lib.tanh(x),
    "exp": lambda lib, x: lib.exp(x),
    "softmax": lambda lib, x: lib.softmax(x, 1),
    "log_softmax": lambda lib, x: lib.log_softmax(x, 1),
    "gelu": lambda lib, x: _functional(lib).gelu(x),
    "silu": lambda lib, x: _functional(lib).silu(x),
    "hardswish": lambda lib, x: _functional(lib).hardswish(x),
    "hardsigmoid": lambda lib, x: _functional(lib).hardsigmoid(x),
    "hardshrink": lambda lib, x: _functional(lib).hardshrink(x, 0.35),
    "softshrink": lambda lib, x: _functional(lib).softshrink(x, 0.35),
    "rrelu (evaluation)": lambda lib, x: _functional(lib).rrelu(x),
    "mish": lambda lib, x: _functional(lib).mish(x),
}

IN_PLACE = {
    "Tensor.relu_": lambda lib, x: x.relu_(),
    "relu_": lambda lib, x: lib.relu_(x),
    "F.relu(inplace=True)": lambda lib, x: _functional(lib).relu(x, inplace=True),
    "nn.ReLU(inplace=True)": lambda lib, x: lib.nn.ReLU(inplace=True)(x),
    "F.leaky_relu_": lambda lib, x: _functional(lib).leaky_relu_(x, 0.2),
    "F.elu_": lambda lib, x: _functional(lib).elu_(x, 0.8),
    "selu_": lambda lib, x: lib.selu_(x),
    "F.selu(inplace=True)": lambda lib, x: _functional(lib).selu(x, inplace=True),
    "celu_": lambda lib, x: lib.celu_(x, 0.7),
    "F.celu(inplace=True)": lambda lib, x: _functional(lib).celu(x, 0.7, inplace=True),
    "rrelu_ (evaluation)": lambda lib, x: lib.rrelu_(x),
    "F.rrelu(inplace=True)": lambda lib, x: _functional(lib).rrelu(x, inplace=True),
    "threshold_": lambda lib, x: lib.threshold_(x, 0.1, 2.0),
    "F.hardtanh_": lambda lib, x: _functional(lib).hardtanh_(x, -0.5, 0.6),
    "F.relu6(inplace=True)": lambda lib, x: _functional(lib).relu6(x, inplace=True),
    "F.hardsigmoid(inplace=True)": lambda lib, x: _functional(lib).hardsigmoid(x, inplace=True),
    "F.hardswish(inplace=True)": lambda lib, x: _functional(lib).hardswish(x, inplace=True),
    "F.silu(inplace=True)": lambda lib, x: _functional(lib).silu(x, inplace=True),
    "Tensor.sigmoid_": lambda lib, x: x.sigmoid_(),
    "sigmoid_": lambda lib, x: lib.sigmoid_(x),
    "Tensor.tanh_": lambda lib, x: x.tanh_(),
    "Tensor.exp_": lambda lib, x: x.exp_(),
}

# Routed by nn/functional.py, which still writes the out-of-place operation into the input
# (nodes LeakyReluBackward0 / EluBackward0, a copy of the input kept) until it calls
# ``activation.leaky_relu_`` / ``activation.elu_`` for inplace=True.
THROUGH_FUNCTIONAL = {
    "F.leaky_relu(inplace=True)": lambda lib, x: _functional(lib).leaky_relu(x, 0.2, inplace=True),
    "nn.LeakyReLU(inplace=True)": lambda lib, x: lib.nn.LeakyReLU(0.2, inplace=True)(x),
    "F.elu(inplace=True)": lambda lib, x: _functional(lib).elu(x, inplace=True),
    "nn.ELU(inplace=True)": lambda lib, x: lib.nn.ELU(inplace=True)(x),
}


def _outcome(library, operation, change):
    """Run ``operation`` on a non-leaf made from a leaf, ``change`` ('output', 'input' or None)
    in place afterwards, then backward: the error's type and its first words, or the leaf's grad."""
    leaf = library.tensor(VALUES, dtype=library.float64, requires_grad=True)
    x = leaf * 1.0
    try:
        out = operation(library, x)
        if change == "output":
            out.mul_(2)
        elif change == "input":
            x.mul_(2)
        (out * library.arange(8, dtype=library.float64).reshape(2, 4)).sum().backward()
    except RuntimeError as error:
        return ("RuntimeError", str(error).split(":")[0].split(" (")[0][:60], type(out.grad_fn).__name__ if "out" in locals() else None)
    return ("grad", np.round(leaf.grad.numpy(), 10).tolist(), type(out.grad_fn).__name__)


def _same(ours, theirs):
    if theirs[0] == "RuntimeError":
        return ours[0] == "RuntimeError" and ours[2] == theirs[2] and (
            ours[1] == theirs[1] or theirs[1].startswith("one of the variables")
        )
    return ours[0] == "grad" and ours[2] == theirs[2] and np.allclose(ours[1], theirs[1], atol=1e-9)


@pytest.mark.parametrize("change", [None, "output", "input"])
@pytest.mark.parametrize("name", list(OUT_OF_PLACE))
def test_out_of_place_activation_raises_where_pytorch_raises(name, change):
    operation = OUT_OF_PLACE[name]
    theirs, ours = _outcome(torch, operation, change), _outcome(chainrule, operation, change)
    assert _same(ours, theirs), (ours, theirs)


@pytest.mark.parametrize("change", [None, "output"])
@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place_activation_raises_where_pytorch_raises(name, change):
    """The node, the gradient, and whether changing the written tensor again breaks backward."""
    operation = IN_PLACE[name]
    theirs, ours = _outcome(torch, operation, change), _outcome(chainrule, operation, change)
    assert _same(ours, theirs), (ours, theirs)


@pytest.mark.parametrize("name", list(THROUGH_FUNCTIONAL))
def test_in_place_activation_through_functional_raises_where_pytorch_raises(name):
    operation = THROUGH_FUNCTIONAL[name]
    theirs, ours = _outcome(torch, operation, "output"), _outcome(chainrule, operation, "output")
    assert _same(ours, theirs), (ours, theirs)


@pytest.mark.parametrize("name, operation", [
    ("leaky_relu_", lambda lib, x: _functional(lib).leaky_relu_(x, -0.1)),
    ("elu_", lambda lib, x: _functional(lib).elu_(x, -0.5)),
    ("celu_", lambda lib, x: lib.celu_(x, -0.5)),
    ("rrelu_", lambda lib, x: lib.rrelu_(x, -0.5, -0.1)),
])
def test_in_place_form_with_a_negative_slope_refuses_backward_as_pytorch(name, operation):
    """The in-place node reads the sign of x from the result, which a negative slope flips."""
    theirs, ours = _outcome(torch, operation, None), _outcome(chainrule, operation, None)
    assert theirs[1].startswith("In-place") and ours[1] == theirs[1] and ours[2] == theirs[2]


@pytest.mark.parametrize("name", ["Tensor.relu_", "F.relu(inplace=True)", "nn.ReLU(inplace=True)", "F.leaky_relu_", "F.elu_", "Tensor.sigmoid_", "selu_"])
def test_in_place_activation_of_a_leaf_that_requires_grad_is_refused(name):
    for library in (torch, chainrule):
        leaf = library.tensor(VALUES, requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
            IN_PLACE[name](library, leaf)


@pytest.mark.parametrize("name", ["Tensor.relu_", "F.leaky_relu_", "F.elu_", "celu_", "threshold_", "F.hardtanh_", "Tensor.sigmoid_"])
def test_in_place_activation_of_a_view_gives_pytorch_gradients(name):
    grads = []
    for library in (torch, chainrule):
        leaf = library.tensor(VALUES, dtype=library.float64, requires_grad=True)
        base = leaf * 1.0
        IN_PLACE[name](library, base[1])
        (base * library.arange(8, dtype=library.float64).reshape(2, 4)).sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], atol=1e-12)


@pytest.mark.parametrize("name", ["F.elu_", "celu_", "selu_", "F.leaky_relu_", "Tensor.relu_", "rrelu_ (evaluation)"])
def test_in_place_activation_differentiates_twice_as_pytorch_and_passes_gradcheck(name):
    """The slopes read from the result: second derivatives through the saved result, and float64
    finite differences."""
    operation = IN_PLACE[name]
    grads = []
    for library in (torch, chainrule):
        leaf = library.tensor(VALUES, dtype=library.float64, requires_grad=True)
        out = operation(library, leaf * 1.0)
        (first,) = library.autograd.grad((out * out).sum(), leaf, create_graph=True)
        (first * library.arange(8, dtype=library.float64).reshape(2, 4)).sum().backward()
        grads.append((first.detach().numpy(), leaf.grad.numpy()))
    for ours, theirs in zip(grads[1], grads[0]):
        np.testing.assert_allclose(ours, theirs, atol=1e-10)
    leaf = chainrule.tensor(VALUES, dtype=chainrule.float64, requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda x: operation(chainrule, x * 1.0), (leaf,))


def test_float32_gradients_of_in_place_forms_keep_their_dtype():
    for name in ("F.leaky_relu_", "F.elu_", "Tensor.relu_"):
        leaf = chainrule.tensor(VALUES, requires_grad=True)
        IN_PLACE[name](chainrule, leaf * 1.0).sum().backward()
        assert leaf.grad.dtype == chainrule.float32, name
