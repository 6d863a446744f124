"""Initializers: statistics of large tensors against the formulas, PyTorch's gains and fans, seeding."""
from chainrule.nn import functional as F
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from chainrule.nn import init

SHAPE = (300, 200)  # fan_out = 300, fan_in = 200
FAN_IN, FAN_OUT = 200, 300


def parameter(*shape):
    return nn.Parameter(chainrule.empty(*shape))


def uniform_std(bound):
    return bound / math.sqrt(3)


# initializer, expected std, bound of a uniform (None for normal)
CASES = [
    ("uniform", lambda t: init.uniform_(t, -0.5, 0.5), uniform_std(0.5), 0.5, 0.0),
    ("uniform_shifted", lambda t: init.uniform_(t, 1.0, 3.0), uniform_std(1.0), None, 2.0),
    ("normal", lambda t: init.normal_(t, 0.5, 2.0), 2.0, None, 0.5),
    ("xavier_uniform", lambda t: init.xavier_uniform_(t), math.sqrt(2 / (FAN_IN + FAN_OUT)), math.sqrt(6 / (FAN_IN + FAN_OUT)), 0.0),
    ("xavier_uniform_tanh", lambda t: init.xavier_uniform_(t, gain=init.calculate_gain("tanh")), 5 / 3 * math.sqrt(2 / (FAN_IN + FAN_OUT)), None, 0.0),
    ("xavier_normal", lambda t: init.xavier_normal_(t), math.sqrt(2 / (FAN_IN + FAN_OUT)), None, 0.0),
    ("kaiming_uniform", lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / FAN_IN), math.sqrt(6 / FAN_IN), 0.0),
    ("kaiming_uniform_fan_out", lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / FAN_OUT), math.sqrt(6 / FAN_OUT), 0.0),
    ("kaiming_uniform_linear_default", lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), uniform_std(1 / math.sqrt(FAN_IN)), 1 / math.sqrt(FAN_IN), 0.0),
    ("kaiming_normal", lambda t: init.kaiming_normal_(t), math.sqrt(2 / (1 + 0.01**2)) / math.sqrt(FAN_IN), None, 0.0),
    ("kaiming_normal_fan_out", lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / FAN_OUT), None, 0.0),
    ("trunc_normal", lambda t: init.trunc_normal_(t, std=1.0, a=-2.0, b=2.0), 0.8796, 2.0, 0.0),
]


@pytest.mark.parametrize("fill, std, bound, mean", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_initializer_statistics(fill, std, bound, mean):
    weight = parameter(*SHAPE)
    assert fill(weight) is weight
    values = weight._array
    assert values.dtype == np.float32
    assert values.mean() == pytest.approx(mean, abs=4 * std / math.sqrt(values.size))
    assert values.std() == pytest.approx(std, rel=0.02)
    if bound is not None:
        assert np.abs(values - mean).max() <= bound
        assert np.abs(values - mean).max() > 0.99 * bound
    assert weight.is_leaf and weight.requires_grad and weight.grad_fn is None


def test_constant_initializers():
    weight = parameter(3, 4)
    assert (init.ones_(weight)._array == 1).all()
    assert (init.zeros_(weight)._array == 0).all()
    assert (init.constant_(weight, 0.25)._array == 0.25).all()
    assert weight.grad_fn is None


@pytest.mark.parametrize("nonlinearity, param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3, 3), (2, 7, 4)])
def test_fans_match_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(chainrule.empty(*shape)) == expected


def test_bad_arguments_raise_like_torch():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(parameter(5))
    with pytest.raises(ValueError, match="Mode fan_sideways not supported"):
        init.kaiming_uniform_(parameter(3, 3), mode="fan_sideways")
    with pytest.raises(ValueError, match="Unsupported nonlinearity softsign"):
        init.calculate_gain("softsign")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "steep")


def test_zero_element_tensor_warns_and_is_left_alone():
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(parameter(0, 3))


def test_initializers_follow_manual_seed_and_generators():
    chainrule.manual_seed(5)
    first = init.normal_(parameter(4, 4))._array.copy()
    chainrule.manual_seed(5)
    np.testing.assert_array_equal(init.normal_(parameter(4, 4))._array, first)
    generator = chainrule.Generator(11)
    drawn = init.uniform_(parameter(3), generator=generator)._array.copy()
    np.testing.assert_array_equal(init.uniform_(parameter(3), generator=chainrule.Generator(11))._array, drawn)


def test_initializing_under_recorded_graph_changes_no_history():
    weight = parameter(3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.kaiming_normal_(weight)
    loss = (weight * 2).sum()
    loss.backward()
    assert (weight.grad._array == 2).all()


def test_trunc_normal_far_in_a_tail_and_refuses_empty_ranges():
    values = init.trunc_normal_(chainrule.empty(1000, dtype=chainrule.float64), mean=0.0, std=1.0, a=10.0, b=11.0)
    assert values._array.min() >= 10.0 and values._array.max() <= 11.0 and values._array.mean() < 10.3
    standard = init.trunc_normal_(chainrule.empty(200_000, dtype=chainrule.float64))._array
    expected_std = torch.nn.init.trunc_normal_(torch.empty(200_000, dtype=torch.float64)).std().item()
    assert abs(standard.std() - expected_std) < 0.01 and abs(standard.max()) <= 2.0
    with pytest.raises(RuntimeError, match="must be below"):
        init.trunc_normal_(chainrule.empty(10), a=2.0, b=-2.0)


@pytest.mark.parametrize("shape", [(3, 3), (4, 6), (6, 4), (5, 2, 3)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    weight = init.orthogonal_(parameter(*shape), gain=2.0)
    matrix = weight._array.reshape(shape[0], -1)
    gram = matrix @ matrix.T if matrix.shape[0] <= matrix.shape[1] else matrix.T @ matrix
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(matrix.shape)), atol=1e-5)
    assert weight.requires_grad and weight.grad_fn is None


@pytest.mark.parametrize("shape, groups", [((4, 2, 3), 1), ((4, 2, 3, 3), 2), ((2, 3, 1, 3, 3), 1)])
def test_eye_and_dirac_equal_pytorchs(shape, groups):
    np.testing.assert_array_equal(init.dirac_(parameter(*shape), groups)._array, torch.nn.init.dirac_(torch.empty(shape), groups).numpy())
    np.testing.assert_array_equal(init.eye_(parameter(3, 5))._array, torch.nn.init.eye_(torch.empty(3, 5)).numpy())
    x = chainrule.randn(1, 3, 6)
    identity = nn.Conv1d(3, 3, 3, padding=1, bias=False)
    init.dirac_(identity.weight)
    np.testing.assert_allclose(identity(x)._array, x._array, atol=1e-6)


def test_sparse_zeroes_the_same_count_in_every_column():
    weight = init.sparse_(parameter(10, 40), sparsity=0.25, std=0.5)
    zeros_per_column = (weight._array == 0).sum(axis=0)
    assert (zeros_per_column == 3).all()  # ceil(0.25 · 10)
    assert 0.3 < weight._array[weight._array != 0].std() < 0.7


SHAPE_ERRORS = {
    "dirac_ of a matrix": lambda lib: lib.nn.init.dirac_(lib.empty(2, 2)),
    "dirac_ with groups not dividing": lambda lib: lib.nn.init.dirac_(lib.empty(3, 2, 2), groups=2),
    "eye_ of 3 dimensions": lambda lib: lib.nn.init.eye_(lib.empty(2, 2, 2)),
    "sparse_ of a vector": lambda lib: lib.nn.init.sparse_(lib.empty(2), 0.1),
    "orthogonal_ of a vector": lambda lib: lib.nn.init.orthogonal_(lib.empty(2)),
}


@pytest.mark.parametrize("case", list(SHAPE_ERRORS))
def test_shape_errors_are_pytorchs(case):
    messages = []
    for lib in (chainrule, torch):
        with pytest.raises(ValueError) as error:
            SHAPE_ERRORS[case](lib)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize(
    "old_name",
    "uniform normal constant eye dirac xavier_uniform xavier_normal kaiming_uniform kaiming_normal orthogonal sparse".split(),
)
def test_deprecated_names_warn_as_pytorch_and_still_fill(old_name):
    arguments = {"constant": (0.5,), "sparse": (0.1,)}.get(old_name, ())
    shape = (2, 3, 3) if old_name == "dirac" else (3, 3)
    messages = []
    for lib in (chainrule, torch):
        with pytest.warns(FutureWarning) as record:
            filled = getattr(lib.nn.init, old_name)(lib.zeros(*shape), *arguments)
        messages.append(str(record[0].message))
        assert tuple(filled.shape) == shape
    assert messages[0] == messages[1]
