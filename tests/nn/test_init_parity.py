"""torch.nn.init as course and real-world code calls it, under PyTorch and chainrule: gains for every
nonlinearity (and the errors for unknown ones), fan errors, each scheme's spread for its mode and
nonlinearity, trunc_normal_'s bounds, orthogonal_, sparse_, dirac_ with groups, eye_, and that every
initializer fills in place without a graph, returns the tensor and follows ``generator=``."""
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.nn.pairs import assert_close, error_of

NONLINEARITIES = [
    "linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu", "gelu", "elu", "Relu", None,
]


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_matches_torch(nonlinearity):
    ours = error_of(lambda: chainrule.nn.init.calculate_gain(nonlinearity)) or chainrule.nn.init.calculate_gain(nonlinearity)
    theirs = error_of(lambda: torch.nn.init.calculate_gain(nonlinearity)) or torch.nn.init.calculate_gain(nonlinearity)
    assert ours == theirs and type(ours) is type(theirs)


@pytest.mark.parametrize("slope", [None, 0, 0.2, 1, 2, -0.5, True, "0.1"])
def test_leaky_relu_gain_and_its_errors(slope):
    ours = error_of(lambda: chainrule.nn.init.calculate_gain("leaky_relu", slope))
    theirs = error_of(lambda: torch.nn.init.calculate_gain("leaky_relu", slope))
    assert ours == theirs
    if theirs is None:
        assert chainrule.nn.init.calculate_gain("leaky_relu", slope) == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", slope))


@pytest.mark.parametrize("shape", [(), (3,), (3, 4), (3, 4, 5), (2, 3, 4, 5), (0, 3)])
def test_fan_in_and_fan_out(shape):
    ours = error_of(lambda: chainrule.nn.init._calculate_fan_in_and_fan_out(chainrule.empty(shape)))
    theirs = error_of(lambda: torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape)))
    assert (ours and ours[0]) == (theirs and theirs[0])
    if theirs is None:
        assert chainrule.nn.init._calculate_fan_in_and_fan_out(chainrule.empty(shape)) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.parametrize("name", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"])
def test_schemes_refuse_vectors(name):
    ours = error_of(lambda: getattr(chainrule.nn.init, name)(chainrule.empty(5)))
    theirs = error_of(lambda: getattr(torch.nn.init, name)(torch.empty(5)))
    assert ours[0] is theirs[0] is ValueError


def test_kaiming_mode_error_text():
    ours = error_of(lambda: chainrule.nn.init.kaiming_uniform_(chainrule.empty(3, 3), mode="bad"))
    assert ours == error_of(lambda: torch.nn.init.kaiming_uniform_(torch.empty(3, 3), mode="bad"))


SCHEMES = [
    ("uniform_", {"a": -2, "b": 3}),
    ("normal_", {"mean": 1, "std": 0.5}),
    ("xavier_uniform_", {"gain": 2.0}),
    ("xavier_normal_", {"gain": 0.5}),
    ("kaiming_uniform_", {}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "tanh"}),
    ("kaiming_uniform_", {"mode": "FAN_IN", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"a": 0.2}),
    ("kaiming_normal_", {"nonlinearity": "selu"}),
    ("trunc_normal_", {"std": 0.02}),
    ("trunc_normal_", {"a": -0.5, "b": 0.5}),
    ("trunc_normal_", {"mean": 5, "a": 4, "b": 4.5}),
    ("orthogonal_", {"gain": 2}),
]


@pytest.mark.parametrize("name, keywords", SCHEMES)
def test_scheme_spread_matches_torch(name, keywords):
    """The same mean and standard deviation (to 0.01) over 98,304 draws, in place, returning the tensor."""
    summaries = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        tensor = lib.empty(256, 128, 3)
        result = getattr(lib.nn.init, name)(tensor, **keywords)
        assert result is tensor and result.dtype == lib.float32
        values = np.asarray(result.numpy(), dtype=np.float64)
        summaries.append((round(values.mean(), 2), round(values.std(), 2)))
    assert summaries[0] == summaries[1]


@pytest.mark.parametrize("low, high", [(-0.1, 0.3), (5.0, 5.1), (-6.0, -5.0), (-2.0, 2.0)])
def test_trunc_normal_stays_within_bounds(low, high):
    values = chainrule.nn.init.trunc_normal_(chainrule.empty(10000), a=low, b=high).numpy()
    assert values.min() >= low and values.max() <= high


@pytest.mark.parametrize("name", ["uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
                                  "kaiming_normal_", "trunc_normal_", "orthogonal_", "sparse_"])
def test_initializers_follow_the_generator_and_record_no_graph(name):
    extra = {"sparsity": 0.1} if name == "sparse_" else {}
    init = getattr(chainrule.nn.init, name)
    first = init(chainrule.empty(30, 40), generator=chainrule.Generator().manual_seed(3), **extra).clone()
    second = init(chainrule.empty(30, 40), generator=chainrule.Generator().manual_seed(3), **extra)
    assert bool((first == second).all())
    layer = chainrule.nn.Linear(40, 30)
    result = init(layer.weight, **extra)
    assert result is layer.weight and result.requires_grad and result.is_leaf and result.grad_fn is None


def test_orthogonal_rows_or_columns_are_orthonormal():
    wide = chainrule.nn.init.orthogonal_(chainrule.empty(3, 5))
    tall = chainrule.nn.init.orthogonal_(chainrule.empty(6, 2))
    kernel = chainrule.nn.init.orthogonal_(chainrule.empty(4, 2, 2, 2)).reshape(4, -1)
    assert_close(wide @ wide.T, torch.eye(3), "wide", atol=1e-6)
    assert_close(tall.T @ tall, torch.eye(2), "tall", atol=1e-6)
    assert_close(kernel @ kernel.T, torch.eye(4), "kernel", atol=1e-6)
    assert error_of(lambda: chainrule.nn.init.orthogonal_(chainrule.empty(4)))[0] is ValueError


def test_sparse_zeroes_the_same_count_per_column():
    values = chainrule.nn.init.sparse_(chainrule.empty(10, 6), sparsity=0.3)
    assert ((values == 0).sum(0) == 3).all()
    assert error_of(lambda: chainrule.nn.init.sparse_(chainrule.empty(2, 3, 4), 0.5)) == error_of(
        lambda: torch.nn.init.sparse_(torch.empty(2, 3, 4), 0.5)
    )


@pytest.mark.parametrize("shape, groups", [((4, 3, 3, 3), 1), ((6, 2, 3), 3), ((2, 3, 2, 2, 4), 1), ((5, 2, 3), 2), ((5, 2), 1)])
def test_dirac_matches_torch(shape, groups):
    ours = error_of(lambda: chainrule.nn.init.dirac_(chainrule.empty(shape), groups))
    theirs = error_of(lambda: torch.nn.init.dirac_(torch.empty(shape), groups))
    assert ours == theirs
    if theirs is None:
        assert_close(chainrule.nn.init.dirac_(chainrule.empty(shape), groups), torch.nn.init.dirac_(torch.empty(shape), groups), "dirac_")


def test_eye_constant_zeros_ones():
    pairs = [
        (chainrule.nn.init.eye_(chainrule.empty(3, 5)), torch.nn.init.eye_(torch.empty(3, 5))),
        (chainrule.nn.init.constant_(chainrule.empty(3), 0.3), torch.nn.init.constant_(torch.empty(3), 0.3)),
        (chainrule.nn.init.zeros_(chainrule.empty(2, 2, dtype=chainrule.float64)), torch.nn.init.zeros_(torch.empty(2, 2, dtype=torch.float64))),
        (chainrule.nn.init.ones_(chainrule.empty(2)), torch.nn.init.ones_(torch.empty(2))),
    ]
    for ours, theirs in pairs:
        assert_close(ours, theirs, "filled tensor")
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert error_of(lambda: chainrule.nn.init.eye_(chainrule.empty(3, 5, 2))) == error_of(lambda: torch.nn.init.eye_(torch.empty(3, 5, 2)))


def test_deprecated_names_warn():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chainrule.nn.init.xavier_uniform(chainrule.empty(3, 3))
    assert [warning.category for warning in caught] == [FutureWarning]
    assert str(caught[0].message) == "`nn.init.xavier_uniform` is now deprecated in favor of `nn.init.xavier_uniform_`."
