"""Values and gradients at special inputs, compared bit for bit with PyTorch: nan, ±inf, ±0.0 (the sign
of a zero counts, in values and in gradients), ties, and the points where a piecewise function changes
piece (relu at 0, hardtanh at its bounds, clamp at its bounds, pow at 0 ...).

The special values lead an array padded with ordinary numbers to 64 elements: PyTorch's CPU kernels
run vectorized over the bulk of a tensor and element by element over the last few, and a few of
those pairs disagree at nan (hardtanh passes a nan's gradient in the scalar loop, not in the
vectorized one). chainrule follows the vectorized loop, which is what a layer's tensors go through.
The arrays stay below ``SMALL_SELECTION`` elements, where a masked gradient is a selection, so the
sign of every zero is PyTorch's too.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule
import chainrule.nn.functional as CF

SPECIAL = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 3.0, -3.0, 6.0, 0.2, -5.0, 10.0,
           1e-30, -1e-30, 1e30, -1e30, 20.0, -20.0]
#: Pairs for the two-input functions: each special value against each, ties included.
PAIR_VALUES = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.0]


def padded(values, dtype, size=64):
    ordinary = np.random.default_rng(0).uniform(-4, 4, size - len(values))
    return np.concatenate([np.array(values), ordinary]).astype(dtype)


def as_chainrule(function):
    """A table entry's function, given the chainrule namespace ``lib`` and functional ``F``."""
    return lambda *tensors: function(chainrule, CF, *tensors)


def as_torch(function):
    return lambda *tensors: function(torch, TF, *tensors)


ONE_INPUT = {
    "relu": lambda lib, F, x: lib.relu(x),
    "relu6": lambda lib, F, x: F.relu6(x),
    "hardtanh": lambda lib, F, x: F.hardtanh(x),
    "hardtanh(-2,2)": lambda lib, F, x: F.hardtanh(x, -2.0, 2.0),
    "threshold": lambda lib, F, x: F.threshold(x, 0.5, -1.0),
    "threshold_at_0": lambda lib, F, x: F.threshold(x, 0.0, 0.0),
    "hardshrink": lambda lib, F, x: F.hardshrink(x, 1.0),
    "softshrink": lambda lib, F, x: F.softshrink(x),
    "elu": lambda lib, F, x: F.elu(x),
    "elu(alpha=2)": lambda lib, F, x: F.elu(x, 2.0),
    "celu(alpha=2)": lambda lib, F, x: F.celu(x, 2.0),
    "selu": lambda lib, F, x: F.selu(x),
    "hardswish": lambda lib, F, x: F.hardswish(x),
    "hardsigmoid": lambda lib, F, x: F.hardsigmoid(x),
    "leaky_relu": lambda lib, F, x: F.leaky_relu(x, 0.2),
    "abs": lambda lib, F, x: lib.abs(x),
    "sign": lambda lib, F, x: lib.sign(x),
    "sgn": lambda lib, F, x: lib.sgn(x),
    "sqrt": lambda lib, F, x: lib.sqrt(x),
    "log": lambda lib, F, x: lib.log(x),
    "clamp(-1,1)": lambda lib, F, x: lib.clamp(x, -1.0, 1.0),
    "clamp(min=0)": lambda lib, F, x: lib.clamp(x, min=0.0),
    "clamp(max=0)": lambda lib, F, x: lib.clamp(x, max=0.0),
    "clamp(1,-1)": lambda lib, F, x: lib.clamp(x, 1.0, -1.0),
    "clamp_min(-0.0)": lambda lib, F, x: lib.clamp_min(x, -0.0),
    "pow(x,0)": lambda lib, F, x: x**0,
    "pow(x,0.5)": lambda lib, F, x: x**0.5,
    "pow(x,-0.5)": lambda lib, F, x: x**-0.5,
    "pow(x,1.5)": lambda lib, F, x: x**1.5,
    "pow(x,2)": lambda lib, F, x: x**2,
    "pow(x,3)": lambda lib, F, x: x**3,
    "pow(x,-1)": lambda lib, F, x: x**-1,
    "pow(x,-2)": lambda lib, F, x: x**-2,
    "maximum(x,0)": lambda lib, F, x: lib.maximum(x, lib.zeros_like(x)),
    "minimum(x,0)": lambda lib, F, x: lib.minimum(x, lib.zeros_like(x)),
    "sigmoid": lambda lib, F, x: lib.sigmoid(x),
    "silu": lambda lib, F, x: F.silu(x),
    "logsigmoid": lambda lib, F, x: F.logsigmoid(x),
    "logit": lambda lib, F, x: lib.logit(x),
    "sinc": lambda lib, F, x: lib.sinc(x),
    "erfinv": lambda lib, F, x: lib.erfinv(x),
    "max_of_all": lambda lib, F, x: x.max(),
    "min_of_all": lambda lib, F, x: x.min(),
}

TWO_INPUTS = {
    "maximum": lambda lib, F, a, b: lib.maximum(a, b),
    "minimum": lambda lib, F, a, b: lib.minimum(a, b),
    "fmax": lambda lib, F, a, b: lib.fmax(a, b),
    "fmin": lambda lib, F, a, b: lib.fmin(a, b),
    "clamp(x,min=b)": lambda lib, F, a, b: lib.clamp(a, min=b),
    "clamp(x,max=b)": lambda lib, F, a, b: lib.clamp(a, max=b),
    "clamp(x,b,b+1)": lambda lib, F, a, b: lib.clamp(a, b, b + 1),
    "pow": lambda lib, F, a, b: a**b,
    "where(a>b,a,b)": lambda lib, F, a, b: lib.where(a > b, a, b),
    "logaddexp": lambda lib, F, a, b: lib.logaddexp(a, b),
    "remainder": lambda lib, F, a, b: lib.remainder(a, b),
    "div_trunc": lambda lib, F, a, b: lib.div(a, b, rounding_mode="trunc"),
    "div_floor": lambda lib, F, a, b: lib.div(a, b, rounding_mode="floor"),
    "addcdiv": lambda lib, F, a, b: lib.addcdiv(a, a, b, value=0.5),
}


def assert_same_bits(ours, theirs, what):
    """Equal values, nan at the same places, and zeros of the same sign."""
    ours, theirs = np.atleast_1d(ours), np.atleast_1d(theirs)
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} vs PyTorch's {theirs.dtype}"
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=f"{what}: nan positions")
    numbers = ~np.isnan(theirs)  # the sign bit of a nan is no part of its value
    np.testing.assert_array_equal(np.signbit(ours[numbers]), np.signbit(theirs[numbers]), err_msg=f"{what}: signs (of zeros)")
    np.testing.assert_allclose(ours, theirs, rtol=2e-6 if ours.dtype == np.float32 else 1e-13, atol=0,
                               err_msg=f"{what}: values")


def compare(function, arrays):
    """Forward values and the gradients of sum(f(inputs) * w) of chainrule and PyTorch."""
    ours = [chainrule.tensor(array, requires_grad=True) for array in arrays]
    theirs = [torch.tensor(array, requires_grad=True) for array in arrays]
    our_out, their_out = as_chainrule(function)(*ours), as_torch(function)(*theirs)
    assert_same_bits(our_out.detach().numpy(), their_out.detach().numpy(), "value")
    weights = np.random.default_rng(1).standard_normal(their_out.shape).astype(arrays[0].dtype)
    our_grads = chainrule.autograd.grad((our_out * chainrule.tensor(weights)).sum(), ours)
    their_grads = torch.autograd.grad((their_out * torch.tensor(weights)).sum(), theirs)
    for position, (our_grad, their_grad) in enumerate(zip(our_grads, their_grads)):
        assert_same_bits(our_grad.numpy(), their_grad.numpy(force=True), f"gradient of input {position}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ONE_INPUT))
def test_one_input_at_special_values(name, dtype):
    compare(ONE_INPUT[name], [padded(SPECIAL, dtype)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(TWO_INPUTS))
def test_two_inputs_at_special_pairs(name, dtype):
    a, b = np.meshgrid(PAIR_VALUES, PAIR_VALUES, indexing="ij")
    compare(TWO_INPUTS[name], [a.ravel().astype(dtype), b.ravel().astype(dtype)])


def test_logaddexp2_gradient_at_infinities():
    """PyTorch's slopes 1 / (1 + 2^(b - a)) are numbers where a is inf and b is not; its values differ
    from NumPy's logaddexp2 in the last bit, so only the gradients are compared here."""
    a = np.array([math.inf, math.inf, 1.0, -math.inf], np.float32)
    b = np.array([-math.inf, 0.0, math.inf, 2.0], np.float32)
    ours = [chainrule.tensor(array, requires_grad=True) for array in (a, b)]
    theirs = [torch.tensor(array, requires_grad=True) for array in (a, b)]
    chainrule.logaddexp2(*ours).sum().backward()
    torch.logaddexp2(*theirs).sum().backward()
    for our, their in zip(ours, theirs):
        assert_same_bits(our.grad.numpy(), their.grad.numpy(), "gradient")


@pytest.mark.parametrize("name", ["max_of_all", "min_of_all"])
def test_max_and_min_of_all_share_among_ties_and_nans(name):
    compare(ONE_INPUT[name], [np.array([1.0, 3.0, -0.0, 3.0, 0.0], np.float32)])
    compare(ONE_INPUT[name], [np.array([1.0, math.nan, 3.0, math.nan], np.float32)])


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "threshold", "leaky_relu", "elu", "gelu", "silu",
                                  "softplus"])
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_integer_and_bool_inputs_are_refused_as_pytorch_refuses_them(name, dtype):
    function = {
        "relu": lambda lib, F, x: lib.relu(x), "threshold": lambda lib, F, x: F.threshold(x, 0, 0),
    }.get(name, lambda lib, F, x: getattr(F, name)(x))
    values = np.array([-2, 0, 3], dtype)
    try:
        expected = as_torch(function)(torch.tensor(values))
    except (RuntimeError, NotImplementedError) as error:
        with pytest.raises(type(error)):
            as_chainrule(function)(chainrule.tensor(values))
    else:
        np.testing.assert_array_equal(as_chainrule(function)(chainrule.tensor(values)).numpy(), expected.numpy())


# Finite differences in float64, at ordinary points on each piece, near (not at) the joins.
NEAR_JOINS = np.array([-3.2, -2.9, -1.1, -0.9, -0.3, 0.3, 0.6, 0.9, 1.1, 2.9, 3.2, 5.9, 6.1])


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "threshold", "hardshrink", "elu", "elu(alpha=2)",
                                  "celu(alpha=2)", "hardswish", "abs", "clamp(-1,1)", "clamp(min=0)",
                                  "pow(x,0.5)", "pow(x,-0.5)", "pow(x,3)", "pow(x,-2)", "maximum(x,0)"])
def test_finite_differences(name):
    values = np.abs(NEAR_JOINS) if name.startswith("pow(x,") and "0.5" in name else NEAR_JOINS
    x = chainrule.tensor(values, requires_grad=True)
    assert chainrule.autograd.gradcheck(as_chainrule(ONE_INPUT[name]), (x,))


def test_tensor_exponent_finite_differences():
    base = chainrule.tensor(np.array([0.5, 1.5, 2.0, 3.0]), requires_grad=True)
    exponent = chainrule.tensor(np.array([-1.5, 0.5, 2.0, 3.0]), requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda a, b: a**b, (base, exponent))


def test_clamp_with_tensor_bounds_finite_differences():
    x = chainrule.tensor(np.array([-2.0, -0.5, 0.5, 2.0]), requires_grad=True)
    low = chainrule.tensor(np.array([-1.0, -1.0, 1.0, 1.0]), requires_grad=True)
    high = chainrule.tensor(np.array([1.0, 0.0, 1.5, 1.5]), requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda a, b, c: chainrule.clamp(a, b, c), (x, low, high))
