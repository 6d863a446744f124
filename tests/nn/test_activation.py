"""The activation modules of issue 10 against torch.nn: outputs, gradients (PReLU's weight included),
reprs, PReLU's parameter, RReLU in training and evaluation, Softmax2d's input check."""
import math

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from tests.nn.pairs import check_module


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape) * 3


MODULES = [
    ("hardtanh", lambda lib: lib.nn.Hardtanh(), normal(3, 4)),
    ("hardtanh_range", lambda lib: lib.nn.Hardtanh(-0.5, 2.0), normal(3, 4)),
    ("relu6", lambda lib: lib.nn.ReLU6(), normal(3, 4) * 3),
    ("logsigmoid", lambda lib: lib.nn.LogSigmoid(), normal(3, 4)),
    ("softsign", lambda lib: lib.nn.Softsign(), normal(3, 4)),
    ("tanhshrink", lambda lib: lib.nn.Tanhshrink(), normal(3, 4)),
    ("selu", lambda lib: lib.nn.SELU(), normal(3, 4)),
    ("celu", lambda lib: lib.nn.CELU(0.5), normal(3, 4)),
    ("mish", lambda lib: lib.nn.Mish(), normal(3, 4)),
    ("hardswish", lambda lib: lib.nn.Hardswish(), normal(3, 4)),
    ("hardsigmoid", lambda lib: lib.nn.Hardsigmoid(), normal(3, 4)),
    ("glu", lambda lib: lib.nn.GLU(), normal(3, 4)),
    ("glu_dim", lambda lib: lib.nn.GLU(dim=0), normal(4, 3)),
    ("softmin", lambda lib: lib.nn.Softmin(dim=1), normal(3, 4)),
    ("softmax2d", lambda lib: lib.nn.Softmax2d(), normal(2, 3, 4, 5)),
    ("softmax2d_3d", lambda lib: lib.nn.Softmax2d(), normal(3, 4, 5)),
    ("threshold", lambda lib: lib.nn.Threshold(0.1, 20.0), normal(3, 4)),
    ("hardshrink", lambda lib: lib.nn.Hardshrink(), normal(3, 4)),
    ("softshrink", lambda lib: lib.nn.Softshrink(0.3), normal(3, 4)),
    ("prelu", lambda lib: lib.nn.PReLU(), normal(3, 4)),
    ("prelu_per_channel", lambda lib: lib.nn.PReLU(3, init=0.1), normal(2, 3, 5)),
    ("rrelu_evaluation", lambda lib: lib.nn.RReLU(0.1, 0.3).eval(), normal(3, 4)),
]


@pytest.mark.parametrize("name, make, input_array", MODULES, ids=[case[0] for case in MODULES])
def test_module_matches_torch(name, make, input_array):
    ours, theirs = check_module(make, input_array, training=not name.endswith("evaluation"))
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Hardtanh(-2, 3, True), lambda lib: lib.nn.ReLU6(True), lambda lib: lib.nn.SELU(True),
    lambda lib: lib.nn.CELU(0.5, True), lambda lib: lib.nn.Mish(True), lambda lib: lib.nn.Hardswish(True),
    lambda lib: lib.nn.Hardsigmoid(True), lambda lib: lib.nn.Softmin(1), lambda lib: lib.nn.Threshold(0.1, 20, True),
    lambda lib: lib.nn.PReLU(3, 0.1), lambda lib: lib.nn.Hardshrink(0.3), lambda lib: lib.nn.Softshrink(),
    lambda lib: lib.nn.RReLU(), lambda lib: lib.nn.RReLU(0.1, 0.3, True), lambda lib: lib.nn.GLU(1),
])
def test_repr_with_arguments_matches_torch(make):
    assert repr(make(chainrule)) == repr(make(torch))


@pytest.mark.parametrize("make", [
    lambda inplace: nn.Hardtanh(-0.5, 2.0, inplace), lambda inplace: nn.ReLU6(inplace), lambda inplace: nn.SELU(inplace),
    lambda inplace: nn.CELU(0.5, inplace), lambda inplace: nn.Mish(inplace), lambda inplace: nn.Hardswish(inplace),
    lambda inplace: nn.Hardsigmoid(inplace), lambda inplace: nn.Threshold(0.0, -1.0, inplace),
    lambda inplace: nn.RReLU(inplace=inplace).eval(),
])
def test_inplace_modules_write_into_their_input_what_they_would_return(make):
    x = chainrule.tensor([-2.0, 0.5, 7.0])
    expected = make(False)(x)
    assert make(True)(x) is x
    np.testing.assert_allclose(x._array, expected._array)


def test_prelu_weight_is_a_parameter_filled_with_init():
    layer = nn.PReLU(4, init=0.1, dtype=chainrule.float64)
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.requires_grad
    assert layer.weight.shape == (4,) and layer.weight.dtype == chainrule.float64
    np.testing.assert_array_equal(layer.weight._array, [0.1] * 4)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    assert nn.PReLU().weight.dtype == chainrule.float32
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size"):
        layer(chainrule.ones(2, 3, dtype=chainrule.float64))


def test_rrelu_draws_fresh_slopes_in_training_and_uses_their_mean_in_evaluation():
    chainrule.manual_seed(2)
    layer = nn.RReLU(0.2, 0.4)
    x = chainrule.full((100, 100), -1.0)
    first, second = layer(x), layer(x)
    assert not np.array_equal(first._array, second._array)
    slopes = -first._array
    assert slopes.min() >= 0.2 and slopes.max() <= 0.4
    assert slopes.mean() == pytest.approx(0.3, abs=0.003)
    assert slopes.std() == pytest.approx(0.2 / math.sqrt(12), rel=0.03)
    np.testing.assert_allclose(layer.eval()(x)._array, -0.3, rtol=1e-6)


def test_softmax2d_refuses_inputs_without_channels_and_a_plane_like_torch():
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D instead"):
        nn.Softmax2d()(chainrule.ones(2, 3))
    with pytest.raises(ValueError):
        torch.nn.Softmax2d()(torch.ones(2, 3))


def test_hardtanh_refuses_min_not_below_max_like_torch():
    for low, high in ((1.0, -1.0), (1.0, 1.0)):
        with pytest.raises(AssertionError, match="max_val .* must be greater than min_val"):
            nn.Hardtanh(low, high)
        with pytest.raises(AssertionError):
            torch.nn.Hardtanh(low, high)
