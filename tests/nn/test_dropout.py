"""The dropout family beyond nn.Dropout: channel dropout in 1, 2 and 3 dimensions, alpha dropout,
and gumbel_softmax. Their masks are random, so the tests check what is kept together, the scaling,
the statistics, the gradients, that evaluation is the identity, and torch's warnings and errors."""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from tests.nn.pairs import error_of

F = nn.functional
# (layer, input shape, how many leading dimensions index one channel: sample and channel, or channel)
CHANNEL_DROPOUTS = [
    ("Dropout1d", (64, 8, 5), 2),
    ("Dropout1d", (8, 5), 1),
    ("Dropout2d", (64, 8, 3, 3), 2),
    ("Dropout3d", (64, 8, 2, 3, 3), 2),
    ("Dropout3d", (8, 2, 3, 3), 1),
]


@pytest.mark.parametrize(
    "name, shape, channel_dims", CHANNEL_DROPOUTS, ids=[f"{name}_{len(shape)}d" for name, shape, _ in CHANNEL_DROPOUTS]
)
def test_channel_dropout_keeps_or_drops_whole_channels(name, shape, channel_dims):
    chainrule.manual_seed(0)
    x = chainrule.ones(*shape, requires_grad=True)
    out = getattr(nn, name)(0.25)(x)
    per_channel = out._array.reshape(*shape[:channel_dims], -1)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))
    assert set(np.unique(out._array)) <= {0.0, np.float32(1 / 0.75)}
    assert abs(out._array.mean() - 1.0) < 0.25
    out.sum().backward()
    np.testing.assert_array_equal(x.grad._array, out._array)
    layer = getattr(nn, name)(0.25).eval()
    assert layer(x) is x


@pytest.mark.parametrize("name", ["Dropout1d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"])
def test_modules_repr_and_check_p_as_torch(name):
    assert repr(getattr(nn, name)(0.3)) == repr(getattr(torch.nn, name)(0.3))
    assert error_of(lambda: getattr(nn, name)(1.5)) == error_of(lambda: getattr(torch.nn, name)(1.5))


def test_alpha_dropout_keeps_mean_and_variance_and_matches_torchs_values():
    chainrule.manual_seed(0)
    x = chainrule.randn(200_000, requires_grad=True)
    out = nn.AlphaDropout(0.3)(x)
    assert abs(out._array.mean()) < 0.01 and abs(out._array.std() - 1.0) < 0.01
    # On zeros, the outputs are the two constants, for kept and for dropped elements:
    ours = np.unique(F.alpha_dropout(chainrule.zeros(1000, dtype=chainrule.float64), 0.3, True)._array)
    theirs = np.unique(torch.nn.functional.alpha_dropout(torch.zeros(1000, dtype=torch.float64), 0.3, True).numpy())
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    out.sum().backward()
    assert len(np.unique(x.grad._array)) == 2  # 0 where dropped, a where kept
    assert nn.AlphaDropout(0.3).eval()(x) is x
    assert F.alpha_dropout(x, 0.3) is x  # training defaults to False, as PyTorch
    assert (F.alpha_dropout(x, 1.0, True)._array == 0).all()


def test_feature_alpha_dropout_sets_whole_channels():
    chainrule.manual_seed(0)
    out = nn.FeatureAlphaDropout(0.5)(chainrule.zeros(32, 6, 4, 4))._array.reshape(32, 6, -1)
    assert np.all(out.min(-1) == out.max(-1)) and len(np.unique(out)) == 2
    ours = error_of(lambda: F.feature_alpha_dropout(chainrule.ones(3), 0.5, True))
    assert ours[0] is error_of(lambda: torch.nn.functional.feature_alpha_dropout(torch.ones(3), 0.5, True))[0]


def test_dropout_in_place_and_empty_inputs():
    chainrule.manual_seed(0)
    x = chainrule.ones(4, 3, 5)
    assert F.dropout1d(x, 0.5, inplace=True) is x
    assert set(np.unique(x._array)) <= {0.0, 2.0}
    empty = chainrule.ones(0, 3, 5)
    assert F.dropout1d(empty, 0.5).shape == (0, 3, 5)


WARNINGS = [
    ("dropout2d_3d", lambda lib: lib.nn.functional.dropout2d(lib.ones(2, 3, 4))),
    ("dropout2d_5d", lambda lib: lib.nn.functional.dropout2d(lib.ones(2, 3, 4, 1, 1))),
    ("dropout3d_3d", lambda lib: lib.nn.functional.dropout3d(lib.ones(2, 3, 4))),
    ("gumbel_eps", lambda lib: lib.nn.functional.gumbel_softmax(lib.ones(2, 3), eps=1e-5)),
]


@pytest.mark.parametrize("call", [case[1] for case in WARNINGS], ids=[case[0] for case in WARNINGS])
def test_warnings_match_torch(call):
    messages = []
    for lib in (chainrule, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call(lib)
        messages.append([str(warning.message) for warning in caught])
    assert messages[0] and messages[0] == messages[1]


def test_dropout2d_reads_3d_input_as_batched_sequences_as_torch():
    chainrule.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = F.dropout2d(chainrule.ones(16, 8, 5), 0.5)._array
    assert np.all(out.min(-1) == out.max(-1))  # one decision per (sample, channel)


ERRORS = [
    ("dropout1d_4d", lambda lib: lib.nn.functional.dropout1d(lib.ones(2, 3, 4, 5))),
    ("dropout1d_p", lambda lib: lib.nn.functional.dropout1d(lib.ones(2, 3), 1.5)),
    ("alpha_dropout_p", lambda lib: lib.nn.functional.alpha_dropout(lib.ones(2, 3), -0.5)),
]


@pytest.mark.parametrize("call", [case[1] for case in ERRORS], ids=[case[0] for case in ERRORS])
def test_errors_match_torch(call):
    ours = error_of(lambda: call(chainrule))
    assert ours is not None and ours == error_of(lambda: call(torch))


# ----------------------------------------------------------------------------- gumbel_softmax
def test_gumbel_softmax_samples_follow_the_softmax():
    chainrule.manual_seed(0)
    logits = chainrule.tensor([1.0, 2.0, 3.0])
    samples = F.gumbel_softmax(logits.expand(100_000, 3), hard=True)._array
    assert set(np.unique(samples)) == {0.0, 1.0} and (samples.sum(1) == 1).all()
    np.testing.assert_allclose(samples.mean(0), F.softmax(logits, 0)._array, atol=0.01)
    soft = F.gumbel_softmax(logits.expand(1000, 3), tau=0.5, dim=1)._array
    np.testing.assert_allclose(soft.sum(1), 1.0, rtol=1e-6)


def test_gumbel_softmax_hard_passes_the_soft_gradient_straight_through():
    logits = chainrule.randn(4, 5, requires_grad=True)
    weights = chainrule.randn(4, 5)
    chainrule.manual_seed(1)
    (F.gumbel_softmax(logits, tau=0.7, hard=True, dim=0) * weights).sum().backward()
    hard_gradient = logits.grad._array.copy()
    logits.grad = None
    chainrule.manual_seed(1)
    (F.gumbel_softmax(logits, tau=0.7, dim=0) * weights).sum().backward()
    np.testing.assert_allclose(hard_gradient, logits.grad._array, rtol=1e-5, atol=1e-6)


def test_gumbel_softmax_of_a_scalar_is_one_as_torch():
    for hard in (False, True):
        assert F.gumbel_softmax(chainrule.tensor(0.5), hard=hard).item() == torch.nn.functional.gumbel_softmax(torch.tensor(0.5), hard=hard).item()
