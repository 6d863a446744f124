"""A sweep of ``torch.distributions`` against PyTorch (the oracle): moments, log_prob / cdf / icdf,
batch and event shapes, sample / rsample shapes, ``expand``, support and arg_constraints, reprs,
argument validation (``ValueError``) and ``Distribution.set_default_validate_args``,
``kl_divergence`` pairs and ``NotImplementedError`` for pairs nobody registered, gradients of
log_prob / entropy / rsample in float64, constructor signatures and the warnings PyTorch gives.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, names or exception types. Draws are compared by value only for the samplers chainrule
documents as PyTorch's own stream (normal, uniform, exponential, Cauchy, categorical, ...); gamma-
based samplers (Gamma, Beta, Dirichlet, StudentT, Poisson, Binomial) are compared by shape only.
Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences found: each turns into an
XPASS failure the day it is fixed, and the mark must go.
"""
import copy
import importlib
import inspect
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import outcome, raises_as_torch


@pytest.fixture(autouse=True)
def pytorch_validates():
    """PyTorch validates by default, but loading torch._dynamo (another test's) turns that default
    off for the whole process: the comparisons here need it on (as tests/distributions/test_validation.py)."""
    previous = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(True)
    yield
    torch.distributions.Distribution.set_default_validate_args(previous)


def plain(value):
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return str(value.dtype).split(".")[-1], tuple(value.shape), np.asarray(value.detach().numpy(), dtype=np.float64)
    if isinstance(value, (torch.Size, chainrule.Size)):
        return ["Size", *value]
    if isinstance(value, (torch.dtype, chainrule.dtype)):
        return "dtype." + str(value).split(".")[-1]
    if isinstance(value, str):
        return value.replace("chainrule.", "torch.")
    if isinstance(value, dict):
        return {key: plain(each) for key, each in value.items()}
    if isinstance(value, (tuple, list)):
        return [plain(each) for each in value]
    return value


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), (actual, expected)
        for key in expected:
            assert_same(actual[key], expected[key], rtol, atol)
    elif isinstance(expected, tuple):
        assert isinstance(actual, tuple) and actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol, equal_nan=True)
    else:
        assert actual == expected


def same_in_both(run, rtol=1e-5, atol=1e-6):
    """``run(lib)`` gives the same value (or raises the same exception type) in both libraries."""
    torch.manual_seed(0)
    kind, expected = outcome(lambda: plain(run(torch)))
    chainrule.manual_seed(0)
    actual_kind, actual = outcome(lambda: plain(run(chainrule)))
    if kind == "raises":
        assert actual_kind == "raises", f"PyTorch raises {expected.__name__}; chainrule returns {actual!r}"
        assert issubclass(actual, expected), f"PyTorch raises {expected.__name__}; chainrule raises {actual.__name__}"
    else:
        assert actual_kind == "ok", f"PyTorch returns {expected!r}; chainrule raises {actual.__name__}"
        assert_same(actual, expected, rtol, atol)


def T(L, data, dtype=None):
    return L.tensor(data, dtype=dtype or L.float32)


def D(L):
    return L.distributions


# --- the distributions swept ---------------------------------------------------------------------

DISTS = {
    "Normal": lambda L: D(L).Normal(T(L, [0., 1.]), T(L, [1., 2.])),
    "Normal_scalar": lambda L: D(L).Normal(0., 1.),
    "Bernoulli_probs": lambda L: D(L).Bernoulli(probs=T(L, [0.2, 0.7])),
    "Bernoulli_logits": lambda L: D(L).Bernoulli(logits=T(L, [-1., 2.])),
    "Categorical_probs": lambda L: D(L).Categorical(probs=T(L, [[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]])),
    "Categorical_logits": lambda L: D(L).Categorical(logits=T(L, [[0.1, 0.2, 0.7], [1., -1., 0.]])),
    "OneHotCategorical": lambda L: D(L).OneHotCategorical(probs=T(L, [0.1, 0.2, 0.7])),
    "Binomial": lambda L: D(L).Binomial(10, probs=T(L, [0.2, 0.6])),
    "Binomial_logits": lambda L: D(L).Binomial(total_count=T(L, [5., 10.]), logits=T(L, [0.3, -0.5])),
    "Poisson": lambda L: D(L).Poisson(T(L, [1.5, 4.])),
    "Beta": lambda L: D(L).Beta(T(L, [2., 0.5]), T(L, [3., 0.5])),
    "Gamma": lambda L: D(L).Gamma(T(L, [2., 0.5]), T(L, [3., 1.5])),
    "Exponential": lambda L: D(L).Exponential(T(L, [0.5, 2.])),
    "Uniform": lambda L: D(L).Uniform(T(L, [0., -1.]), T(L, [1., 3.])),
    "Laplace": lambda L: D(L).Laplace(T(L, [0., 1.]), T(L, [1., 0.5])),
    "Cauchy": lambda L: D(L).Cauchy(T(L, [0., 1.]), T(L, [1., 0.5])),
    "LogNormal": lambda L: D(L).LogNormal(T(L, [0., 1.]), T(L, [1., 0.5])),
    "Dirichlet": lambda L: D(L).Dirichlet(T(L, [[1., 2., 3.], [0.5, 0.5, 2.]])),
    "MVN_cov": lambda L: D(L).MultivariateNormal(T(L, [0., 1.]), covariance_matrix=T(L, [[2., 0.5], [0.5, 1.]])),
    "MVN_prec": lambda L: D(L).MultivariateNormal(T(L, [0., 1.]), precision_matrix=T(L, [[2., 0.5], [0.5, 1.]])),
    "MVN_tril": lambda L: D(L).MultivariateNormal(T(L, [0., 1.]), scale_tril=T(L, [[2., 0.], [0.5, 1.]])),
    "Independent": lambda L: D(L).Independent(D(L).Normal(T(L, [[0., 1.], [2., 3.]]), T(L, [[1., 2.], [1., 1.]])), 1),
    "MixtureSameFamily": lambda L: D(L).MixtureSameFamily(
        D(L).Categorical(probs=T(L, [0.3, 0.7])), D(L).Normal(T(L, [-1., 2.]), T(L, [1., 0.5]))),
    "Transformed": lambda L: D(L).TransformedDistribution(
        D(L).Normal(T(L, [0., 1.]), T(L, [1., 2.])),
        [D(L).transforms.AffineTransform(1., 2.), D(L).transforms.ExpTransform()]),
    "RelaxedBernoulli": lambda L: D(L).RelaxedBernoulli(T(L, 0.5), probs=T(L, [0.2, 0.7])),
    "Geometric": lambda L: D(L).Geometric(probs=T(L, [0.2, 0.7])),
    "Geometric_logits": lambda L: D(L).Geometric(logits=T(L, [0.2, -0.7])),
    "StudentT": lambda L: D(L).StudentT(T(L, [3., 1.5]), T(L, [0., 1.]), T(L, [1., 2.])),
}

VALUES = {
    "Normal_scalar": 0.5, "Bernoulli_probs": [1., 0.], "Bernoulli_logits": [1., 0.], "Categorical_probs": [2, 0],
    "Categorical_logits": [2, 0], "OneHotCategorical": [0., 0., 1.], "Binomial": [3., 7.], "Binomial_logits": [3., 7.],
    "Poisson": [2., 0.], "Beta": [0.3, 0.9], "Gamma": [1., 2.], "Exponential": [1., 2.], "Uniform": [0.5, 2.],
    "LogNormal": [1., 2.], "Dirichlet": [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]], "Independent": [[0.5, 1.], [2., 1.]],
    "Transformed": [2., 5.], "RelaxedBernoulli": [0.3, 0.8], "Geometric": [0., 3.], "Geometric_logits": [0., 3.],
}


def value(name, L):
    data = VALUES.get(name, [0.5, -0.3])
    return L.tensor(data) if name.startswith("Categorical") else T(L, data)


# Samplers chainrule documents as PyTorch's own stream (same seed, same numbers).
SAME_STREAM = ["Normal", "Normal_scalar", "Bernoulli_probs", "Bernoulli_logits", "Categorical_probs",
               "Categorical_logits", "OneHotCategorical", "Exponential", "Uniform", "Laplace", "Cauchy",
               "LogNormal", "MVN_cov", "MVN_prec", "MVN_tril", "Independent", "MixtureSameFamily", "Transformed",
               "RelaxedBernoulli", "Geometric", "Geometric_logits"]

BUGS = {}


def cases(kind):
    return [pytest.param(name, id=name, marks=[pytest.mark.xfail(strict=True, reason=BUGS[name, kind])]
                         if (name, kind) in BUGS else []) for name in DISTS]


@pytest.mark.parametrize("name", cases("moments"))
def test_moments(name):
    """mean, variance, stddev, mode, entropy and perplexity (or the exception PyTorch raises)."""
    def run(L):
        dist = DISTS[name](L)
        results = []
        for get in (lambda: dist.mean, lambda: dist.variance, lambda: dist.stddev, lambda: dist.mode,
                    dist.entropy, dist.perplexity):
            kind, result = outcome(get)
            results.append(result if kind == "ok" else result.__name__)
        return results
    same_in_both(run)


@pytest.mark.parametrize("name", cases("log_prob"))
def test_log_prob_cdf_icdf(name):
    """log_prob at a point of the support, log_prob broadcast against a new leading dim, cdf and icdf."""
    def run(L):
        dist = DISTS[name](L)
        point = value(name, L)
        results = [dist.log_prob(point), dist.log_prob(point.expand((3,) + tuple(point.shape)))]
        for get in (lambda: dist.cdf(point), lambda: dist.icdf(T(L, [0.3, 0.8]) if dist.batch_shape == (2,) else T(L, 0.3))):
            kind, result = outcome(get)
            results.append(result if kind == "ok" else result.__name__)
        return results
    same_in_both(run)


@pytest.mark.parametrize("name", cases("shapes"))
def test_shapes_and_sampling(name):
    """batch_shape, event_shape, has_rsample, sample/rsample shapes and dtypes, expand."""
    def run(L):
        dist = DISTS[name](L)
        expanded = dist.expand((3,) + tuple(dist.batch_shape))
        rsample = outcome(lambda: dist.rsample((5,)))
        return [dist.batch_shape, dist.event_shape, dist.has_rsample, dist.has_enumerate_support,
                dist.sample().shape, dist.sample((4, 3)).shape, dist.sample().dtype, dist.sample([2]).shape,
                rsample[1].shape if rsample[0] == "ok" else rsample[1].__name__,
                expanded.batch_shape, expanded.event_shape, expanded.sample((2,)).shape,
                type(expanded).__name__, expanded.log_prob(value(name, L))]
    same_in_both(run)


@pytest.mark.parametrize("name", cases("repr"))
def test_repr(name):
    """repr of the distribution and of its expanded copy, as tutorials print them."""
    same_in_both(lambda L: [repr(DISTS[name](L)), repr(DISTS[name](L).expand((3, 2) if name != "Normal_scalar" else (3,)))])


@pytest.mark.parametrize("name", cases("support"))
def test_support_and_arg_constraints(name):
    def run(L):
        dist = DISTS[name](L)
        return [repr(dist.support), dist.support.event_dim, dist.support.is_discrete,
                {key: repr(each) for key, each in dist.arg_constraints.items()}]
    same_in_both(run)


@pytest.mark.parametrize("name", SAME_STREAM)
def test_seeded_draws_match(name):
    """chainrule documents PyTorch's random stream for these samplers: the same seed gives the same draws."""
    same_in_both(lambda L: DISTS[name](L).sample((3,)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", [n for n in ("Bernoulli_probs", "Binomial", "Categorical_probs", "OneHotCategorical")])
def test_enumerate_support(name):
    def run(L):
        dist = DISTS[name](L)
        return [dist.enumerate_support(), dist.enumerate_support(expand=False)]
    same_in_both(run)


# --- validation --------------------------------------------------------------------------------

INVALID = {
    "normal_negative_scale": lambda L: D(L).Normal(0., -1.),
    "normal_nan_loc": lambda L: D(L).Normal(T(L, float("nan")), 1.),
    "bernoulli_probs_and_logits": lambda L: D(L).Bernoulli(probs=T(L, 0.5), logits=T(L, 0.)),
    "bernoulli_neither": lambda L: D(L).Bernoulli(),
    "bernoulli_probs_above_one": lambda L: D(L).Bernoulli(probs=T(L, 1.5)),
    "categorical_0d_probs": lambda L: D(L).Categorical(probs=T(L, 0.5)),
    "binomial_negative_count": lambda L: D(L).Binomial(-1, probs=T(L, 0.5)),
    "dirichlet_0d": lambda L: D(L).Dirichlet(T(L, 1.)),
    "uniform_low_above_high": lambda L: D(L).Uniform(1., 0.),
    "geometric_probs_zero": lambda L: D(L).Geometric(probs=T(L, 0.)),
    "geometric_probs_and_logits": lambda L: D(L).Geometric(probs=T(L, 0.5), logits=T(L, 0.)),
    "mvn_no_matrix": lambda L: D(L).MultivariateNormal(L.zeros(2)),
    "mvn_two_matrices": lambda L: D(L).MultivariateNormal(L.zeros(2), covariance_matrix=L.eye(2), scale_tril=L.eye(2)),
    "mvn_not_positive_definite": lambda L: D(L).MultivariateNormal(L.zeros(2), covariance_matrix=T(L, [[1., 2.], [2., 1.]])),
    "mvn_0d_loc": lambda L: D(L).MultivariateNormal(T(L, 0.), L.eye(1)),
    "independent_too_many_dims": lambda L: D(L).Independent(D(L).Normal(L.zeros(2), L.ones(2)), 2),
    "mixture_component_count_mismatch": lambda L: D(L).MixtureSameFamily(
        D(L).Categorical(probs=T(L, [0.3, 0.7])), D(L).Normal(L.zeros(3), L.ones(3))),
    "mixture_not_categorical": lambda L: D(L).MixtureSameFamily(D(L).Normal(0., 1.), D(L).Normal(L.zeros(3), L.ones(3))),
    "bernoulli_value_outside_support": lambda L: D(L).Bernoulli(probs=T(L, 0.5)).log_prob(T(L, 0.5)),
    "categorical_value_outside_support": lambda L: D(L).Categorical(probs=T(L, [0.5, 0.5])).log_prob(L.tensor(2)),
    "binomial_non_integer_value": lambda L: D(L).Binomial(3, probs=T(L, 0.5)).log_prob(T(L, 1.5)),
    "poisson_non_integer_value": lambda L: D(L).Poisson(T(L, 2.)).log_prob(T(L, 1.5)),
    "dirichlet_value_not_simplex": lambda L: D(L).Dirichlet(T(L, [1., 2.])).log_prob(T(L, [0.5, 0.6])),
    "uniform_value_outside": lambda L: D(L).Uniform(0., 1.).log_prob(T(L, 2.)),
    "value_not_broadcastable": lambda L: D(L).Normal(T(L, [0., 1.]), 1.).log_prob(T(L, [1., 2., 3.])),
    "value_python_float": lambda L: D(L).Normal(T(L, [0., 1.]), 1.).log_prob(0.5),
}


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_arguments_raise_as_torch(name):
    raises_as_torch(INVALID[name])


NOT_IMPLEMENTED = {
    "bernoulli_rsample": lambda L: D(L).Bernoulli(probs=T(L, 0.5)).rsample(),
    "poisson_cdf": lambda L: D(L).Poisson(T(L, 2.)).cdf(T(L, 1.)),
    "poisson_entropy": lambda L: D(L).Poisson(T(L, 2.)).entropy(),
    "base_distribution_mean": lambda L: D(L).Distribution().mean,
    "base_distribution_sample": lambda L: D(L).Distribution().sample(),
    "base_distribution_repr": lambda L: repr(D(L).Distribution()),
    "sample_shape_int": lambda L: D(L).Normal(0., 1.).sample(3),
}


@pytest.mark.parametrize("name", NOT_IMPLEMENTED)
def test_not_implemented_raise_as_torch(name):
    raises_as_torch(NOT_IMPLEMENTED[name])


def test_validate_args_false_skips_checks():
    def run(L):
        return [D(L).Normal(0., -1., validate_args=False).scale,
                D(L).Bernoulli(probs=T(L, 0.5), validate_args=False).log_prob(T(L, 0.5)),
                D(L).Uniform(0., 1., validate_args=False).log_prob(T(L, [2., -1., 0., 0.5])),
                D(L).Uniform(0., 1., validate_args=False).cdf(T(L, [2., -1.])),
                D(L).Exponential(1., validate_args=False).log_prob(T(L, -1.)),
                D(L).Normal(0., 1.)._validate_args, D(L).Normal(0., 1., validate_args=False)._validate_args]
    same_in_both(run)


def test_set_default_validate_args():
    def run(L):
        try:
            L.distributions.Distribution.set_default_validate_args(False)
            relaxed = [D(L).Normal(0., -1.).scale, D(L).Normal(0., 1.)._validate_args]
            strict = outcome(lambda: D(L).Normal(0., -1., validate_args=True))[1]
        finally:
            L.distributions.Distribution.set_default_validate_args(True)
        return relaxed + [strict.__name__, outcome(lambda: D(L).Normal(0., -1.))[1].__name__]
    same_in_both(run)


# --- promotion, scalars, empty ----------------------------------------------------------------

PROMOTION = {
    "float64_params": lambda L: (lambda d: [d.mean, d.sample().dtype, d.log_prob(T(L, 1., L.float64)), d.entropy()])(
        D(L).Normal(T(L, 0., L.float64), T(L, 1., L.float64))),
    "float64_loc_python_scale": lambda L: (lambda d: [d.loc, d.scale, d.log_prob(T(L, 1.))])(D(L).Normal(T(L, 0., L.float64), 1.)),
    "python_floats": lambda L: (lambda d: [d.loc, d.scale, d.sample((2,)).dtype, d.batch_shape])(D(L).Normal(0., 1.)),
    "python_ints": lambda L: (lambda d: [d.loc, d.scale, d.batch_shape])(D(L).Normal(0, 1)),
    "int_tensor_loc": lambda L: (lambda d: [d.loc, d.scale])(D(L).Normal(L.tensor([0, 1]), 1.)),
    "broadcast_params": lambda L: (lambda d: [d.batch_shape, d.loc, d.scale])(D(L).Normal(L.zeros(3, 1), T(L, [1., 2.]))),
    "empty_batch": lambda L: (lambda d: [d.batch_shape, d.sample((2,)).shape, d.log_prob(L.zeros(0)), d.entropy()])(
        D(L).Normal(L.zeros(0), L.ones(0))),
    "normal_cdf_int_value": lambda L: D(L).Normal(0., 1.).cdf(L.tensor(1)),
    "normal_icdf_outside_unit_interval": lambda L: D(L).Normal(0., 1.).icdf(T(L, [1.5, -0.5])),
    "normal_icdf_edges": lambda L: D(L).Normal(0., 1.).icdf(T(L, [0., 1.])),
    "categorical_params": lambda L: (lambda d: [d.probs, d.logits, d.param_shape, d._num_events])(
        D(L).Categorical(probs=T(L, [[1., 3., 0.]]))),
    "categorical_logits_normalised": lambda L: (lambda d: [d.probs, d.logits])(D(L).Categorical(logits=T(L, [1., 3.]))),
    "bernoulli_logits_from_edge_probs": lambda L: [D(L).Bernoulli(probs=T(L, [0., 0.3, 1.])).logits,
                                                   D(L).Bernoulli(probs=T(L, [0., 1.])).entropy()],
    "mvn_derived_matrices": lambda L: [[d.scale_tril, d.precision_matrix, d.covariance_matrix] for d in (
        DISTS["MVN_cov"](L), DISTS["MVN_prec"](L), DISTS["MVN_tril"](L))],
    "mvn_batch_broadcast": lambda L: (lambda d: [d.batch_shape, d.event_shape, d.loc.shape, d.sample((2,)).shape,
                                                 d.log_prob(L.zeros(3, 2)), d.log_prob(L.zeros(4, 1, 2)).shape])(
        D(L).MultivariateNormal(L.zeros(3, 2), L.eye(2))),
    "studentt_moments_small_df": lambda L: [D(L).StudentT(T(L, [0.5, 1.5, 3.])).mean, D(L).StudentT(T(L, [0.5, 1.5, 3.])).variance],
    "beta_gamma_mode_edges": lambda L: [D(L).Beta(T(L, [0.5, 1., 2.]), T(L, [0.5, 1., 1.])).mode,
                                        D(L).Gamma(T(L, [0.5, 1., 2.]), T(L, 1.)).mode],
    "binomial_mode": lambda L: D(L).Binomial(T(L, [3., 10.]), probs=T(L, [0.5, 0.35])).mode,
    "geometric_probs_one": lambda L: (lambda d: [d.entropy(), d.log_prob(T(L, 0.))])(D(L).Geometric(probs=T(L, 1.))),
    "poisson_rate_zero": lambda L: D(L).Poisson(T(L, 0.)).log_prob(T(L, [0., 1.])),
    "gamma_cdf": lambda L: D(L).Gamma(T(L, 2.), T(L, 3.)).cdf(T(L, 0.5)),
}


@pytest.mark.parametrize("name", list(PROMOTION))
def test_dtypes_scalars_and_edges(name):
    same_in_both(PROMOTION[name])


# --- composite distributions -------------------------------------------------------------------

def test_independent_details():
    def run(L):
        base = D(L).Normal(L.zeros(2, 3), L.ones(2, 3))
        full = D(L).Independent(base, reinterpreted_batch_ndims=2)
        none = D(L).Independent(base, 0)
        return [repr(full), full.batch_shape, full.event_shape, repr(full.support), full.support.event_dim,
                full.log_prob(L.zeros(2, 3)), full.entropy(), repr(none), none.batch_shape,
                full.reinterpreted_batch_ndims, repr(full.base_dist)]
    same_in_both(run)


def test_mixture_same_family_details():
    def run(L):
        mix = DISTS["MixtureSameFamily"](L)
        vector = D(L).MixtureSameFamily(D(L).Categorical(probs=T(L, [0.3, 0.7])),
                                        D(L).Independent(D(L).Normal(T(L, [[0., 1.], [2., 3.]]), L.ones(2, 2)), 1))
        return [repr(mix.mixture_distribution), repr(mix.component_distribution), mix.cdf(T(L, [0., 1.])),
                vector.batch_shape, vector.event_shape, vector.mean, vector.variance,
                vector.log_prob(T(L, [0.1, 0.2])), vector.sample((3,)).shape, repr(vector)]
    same_in_both(run)


def test_transformed_distribution_details():
    def run(L):
        chain = DISTS["Transformed"](L)
        single = D(L).TransformedDistribution(D(L).Normal(0., 1.), D(L).transforms.ExpTransform())
        logit = D(L).TransformedDistribution(D(L).Normal(0., 1.), [D(L).transforms.SigmoidTransform()])
        return [repr(chain.base_dist), [repr(each) for each in chain.transforms], repr(chain.support),
                chain.has_rsample, chain.cdf(T(L, [2., 5.])), chain.icdf(T(L, [0.3, 0.8])),
                repr(single), single.log_prob(T(L, [1., 2.])), logit.log_prob(T(L, 0.3)), repr(logit.support)]
    same_in_both(run)


def test_lognormal_and_relaxed_details():
    def run(L):
        lognormal = DISTS["LogNormal"](L)
        relaxed = DISTS["RelaxedBernoulli"](L)
        onehot = D(L).RelaxedOneHotCategorical(T(L, 0.5), probs=T(L, [0.2, 0.3, 0.5]))
        return [lognormal.loc, lognormal.scale, repr(lognormal.base_dist), relaxed.temperature, relaxed.probs,
                relaxed.logits, repr(onehot), onehot.batch_shape, onehot.event_shape, onehot.rsample((2,)).shape,
                onehot.log_prob(T(L, [0.2, 0.3, 0.5])), repr(onehot.support)]
    same_in_both(run)


def test_deepcopy_keeps_parameters():
    def run(L):
        dist = copy.deepcopy(DISTS["MVN_cov"](L))
        return [repr(dist), dist.loc, dist.covariance_matrix, dist.log_prob(T(L, [0.5, 0.5]))]
    same_in_both(run)


# --- KL divergence ------------------------------------------------------------------------------

KL_PAIRS = [("Normal", "Normal"), ("Bernoulli_probs", "Bernoulli_logits"), ("Categorical_probs", "Categorical_logits"),
            ("OneHotCategorical", "OneHotCategorical"), ("Binomial", "Binomial"), ("Poisson", "Poisson"),
            ("Beta", "Beta"), ("Gamma", "Gamma"), ("Exponential", "Exponential"), ("Exponential", "Gamma"),
            ("Gamma", "Exponential"), ("Uniform", "Uniform"), ("Uniform", "Normal"), ("Normal", "Uniform"),
            ("Uniform", "Beta"), ("Beta", "Uniform"), ("Uniform", "Gamma"), ("Uniform", "Exponential"),
            ("Laplace", "Laplace"), ("Laplace", "Normal"), ("Normal", "Laplace"), ("Cauchy", "Cauchy"),
            ("LogNormal", "LogNormal"), ("Dirichlet", "Dirichlet"), ("MVN_cov", "MVN_tril"), ("MVN_prec", "MVN_cov"),
            ("Independent", "Independent"), ("Geometric", "Geometric"), ("Transformed", "Transformed"),
            ("Exponential", "Normal"), ("Gamma", "Normal"), ("Beta", "Normal"), ("Normal", "Gamma"),
            ("Bernoulli_probs", "Poisson"), ("Poisson", "Bernoulli_probs"),
            # unregistered pairs: NotImplementedError in PyTorch
            ("Cauchy", "Normal"), ("Normal", "Cauchy"), ("StudentT", "StudentT"), ("MixtureSameFamily", "MixtureSameFamily"),
            ("RelaxedBernoulli", "RelaxedBernoulli"), ("Binomial", "Poisson"), ("Uniform", "Laplace"), ("Exponential", "Laplace")]


@pytest.mark.parametrize("p, q", KL_PAIRS, ids=[f"{p}-{q}" for p, q in KL_PAIRS])
def test_kl_divergence_pairs(p, q):
    same_in_both(lambda L: L.distributions.kl_divergence(DISTS[p](L), DISTS[q](L)))


KL_EDGES = {
    "binomial_different_counts": lambda L: D(L).kl_divergence(D(L).Binomial(3, probs=T(L, 0.5)), D(L).Binomial(5, probs=T(L, 0.5))),
    "uniform_nested": lambda L: D(L).kl_divergence(D(L).Uniform(0., 1.), D(L).Uniform(-1., 2.)),
    "uniform_not_nested": lambda L: D(L).kl_divergence(D(L).Uniform(-1., 2.), D(L).Uniform(0., 1.)),
    "bernoulli_zero_probs": lambda L: D(L).kl_divergence(D(L).Bernoulli(probs=T(L, [0., 1., 0.5])),
                                                        D(L).Bernoulli(probs=T(L, [0.5, 0.5, 1.]))),
    "categorical_zero_p": lambda L: D(L).kl_divergence(D(L).Categorical(probs=T(L, [0., 1.])), D(L).Categorical(probs=T(L, [0.5, 0.5]))),
    "categorical_zero_q": lambda L: D(L).kl_divergence(D(L).Categorical(probs=T(L, [0.5, 0.5])), D(L).Categorical(probs=T(L, [0., 1.]))),
    "batch_broadcast": lambda L: D(L).kl_divergence(D(L).Normal(L.zeros(3, 1), 1.), D(L).Normal(L.zeros(2), 2.)),
    "independent_ndims_mismatch": lambda L: D(L).kl_divergence(D(L).Independent(D(L).Normal(L.zeros(3, 2), 1.), 1),
                                                              D(L).Independent(D(L).Normal(L.zeros(3, 2), 1.), 2)),
    "kl_module_function": lambda L: L.distributions.kl.kl_divergence(D(L).Normal(0., 1.), D(L).Normal(1., 2.)),
}


@pytest.mark.parametrize("name", list(KL_EDGES))
def test_kl_divergence_edges(name):
    same_in_both(KL_EDGES[name])


def _register_left_right(L):
    class Left(L.distributions.Normal):
        pass

    class Right(L.distributions.Normal):
        pass

    L.distributions.register_kl(Left, L.distributions.Normal)(lambda p, q: p.loc * 0 + 1.)
    L.distributions.register_kl(L.distributions.Normal, Right)(lambda p, q: p.loc * 0 + 2.)
    return Left, Right


def test_register_kl_for_new_classes():
    def run(L):
        Left, Right = _register_left_right(L)
        return [L.distributions.kl_divergence(Left(0., 1.), L.distributions.Normal(0., 1.)),
                L.distributions.kl_divergence(L.distributions.Normal(0., 1.), Right(0., 1.)),
                L.distributions.kl_divergence(Left(0., 1.), Right(0., 1.))]
    same_in_both(run)


def test_kl_ambiguity_warning():
    def run(L):
        Left, Right = _register_left_right(L)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            L.distributions.kl_divergence(Left(0., 1.), Right(0., 1.))
        return [each.category.__name__ for each in caught]
    same_in_both(run)


# --- gradients (float64) ------------------------------------------------------------------------

GRAD_CASES = {
    "Normal": ([[0., 1.], [1., 2.]], lambda L, a, b: D(L).Normal(a, b), [0.3, -1.]),
    "Bernoulli_logits": ([[0.3, -1.]], lambda L, a: D(L).Bernoulli(logits=a), [1., 0.]),
    "Bernoulli_probs": ([[0.3, 0.8]], lambda L, a: D(L).Bernoulli(probs=a), [1., 0.]),
    "Categorical_logits": ([[0.3, -1., 2.]], lambda L, a: D(L).Categorical(logits=a), [2, 0]),
    "Categorical_probs": ([[0.3, 0.2, 0.5]], lambda L, a: D(L).Categorical(probs=a), [2, 0]),
    "OneHotCategorical": ([[0.3, -1., 2.]], lambda L, a: D(L).OneHotCategorical(logits=a), [0., 0., 1.]),
    "Binomial": ([[0.3, 0.6]], lambda L, a: D(L).Binomial(10, probs=a), [3., 7.]),
    "Poisson": ([[1.5, 3.]], lambda L, a: D(L).Poisson(a), [3., 0.]),
    "Beta": ([[2., 0.5], [3., 1.5]], lambda L, a, b: D(L).Beta(a, b), [0.3, 0.8]),
    "Gamma": ([[2., 0.5], [3., 1.5]], lambda L, a, b: D(L).Gamma(a, b), [0.3, 0.8]),
    "Exponential": ([[2., 0.5]], lambda L, a: D(L).Exponential(a), [0.3, 0.8]),
    "Uniform": ([[0., -1.], [1., 2.]], lambda L, a, b: D(L).Uniform(a, b), [0.3, 0.8]),
    "Laplace": ([[0., -1.], [1., 2.]], lambda L, a, b: D(L).Laplace(a, b), [0.3, 0.8]),
    "Cauchy": ([[0., -1.], [1., 2.]], lambda L, a, b: D(L).Cauchy(a, b), [0.3, 0.8]),
    "LogNormal": ([[0., -1.], [1., 2.]], lambda L, a, b: D(L).LogNormal(a, b), [0.3, 0.8]),
    "Dirichlet": ([[1., 2., 3.]], lambda L, a: D(L).Dirichlet(a), [0.2, 0.3, 0.5]),
    "MVN_cov": ([[0., 1.], [[2., 0.5], [0.5, 1.]]], lambda L, a, b: D(L).MultivariateNormal(a, covariance_matrix=b), [0.2, 0.3]),
    "MVN_prec": ([[0., 1.], [[2., 0.5], [0.5, 1.]]], lambda L, a, b: D(L).MultivariateNormal(a, precision_matrix=b), [0.2, 0.3]),
    "MVN_tril": ([[0., 1.], [[2., 0.], [0.5, 1.]]], lambda L, a, b: D(L).MultivariateNormal(a, scale_tril=b), [0.2, 0.3]),
    "StudentT": ([[3., 1.5], [0., 1.], [1., 2.]], lambda L, a, b, c: D(L).StudentT(a, b, c), [0.2, 0.3]),
    "Geometric": ([[0.3, 0.6]], lambda L, a: D(L).Geometric(probs=a), [3., 0.]),
    "RelaxedBernoulli": ([0.5, [0.3, 0.6]], lambda L, t, a: D(L).RelaxedBernoulli(t, probs=a), [0.3, 0.9]),
    "MixtureSameFamily": ([[0.3, 0.7], [-1., 2.], [1., 0.5]],
                          lambda L, w, m, s: D(L).MixtureSameFamily(D(L).Categorical(probs=w), D(L).Normal(m, s)), [0.3, 0.9]),
    "Independent": ([[0., 1.], [1., 2.]], lambda L, a, b: D(L).Independent(D(L).Normal(a, b), 1), [0.3, 0.9]),
    "Transformed": ([[0., 1.], [1., 2.]], lambda L, a, b: D(L).TransformedDistribution(
        D(L).Normal(a, b), [D(L).transforms.AffineTransform(1., 2.), D(L).transforms.ExpTransform()]), [2., 5.]),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_log_prob_and_entropy_gradients_float64(name):
    params, make, point = GRAD_CASES[name]

    def run(L):
        tensors = [L.tensor(each, dtype=L.float64, requires_grad=True) for each in params]
        dist = make(L, *tensors)
        data = L.tensor(point) if name.startswith("Categorical") else L.tensor(point, dtype=L.float64)
        total = dist.log_prob(data).sum()
        try:
            total = total + dist.entropy().sum()
        except NotImplementedError:
            pass
        return [total, list(L.autograd.grad(total, tensors))]
    same_in_both(run, rtol=1e-6, atol=1e-9)


RSAMPLE_CASES = {
    "Normal": ([[0., 1.], [1., 2.]], lambda L, a, b: D(L).Normal(a, b)),
    "Uniform": ([[0., 1.], [1., 2.]], lambda L, a, b: D(L).Uniform(a, b)),
    "Laplace": ([[0., 1.], [1., 2.]], lambda L, a, b: D(L).Laplace(a, b)),
    "Exponential": ([[1., 2.]], lambda L, a: D(L).Exponential(a)),
    "Cauchy": ([[0., 1.], [1., 2.]], lambda L, a, b: D(L).Cauchy(a, b)),
    "LogNormal": ([[0., 1.], [1., 2.]], lambda L, a, b: D(L).LogNormal(a, b)),
    "MVN_tril": ([[0., 1.], [[2., 0.], [0.5, 1.]]], lambda L, a, b: D(L).MultivariateNormal(a, scale_tril=b)),
    "RelaxedBernoulli": ([0.5, [0.3, 0.6]], lambda L, t, a: D(L).RelaxedBernoulli(t, probs=a)),
    "RelaxedOneHotCategorical": ([0.5, [0.3, 0.6, 0.1]], lambda L, t, a: D(L).RelaxedOneHotCategorical(t, probs=a)),
}


@pytest.mark.parametrize("name", list(RSAMPLE_CASES))
def test_rsample_gradients_float64(name):
    """Same stream: the reparameterised draws and their gradients match PyTorch."""
    params, make = RSAMPLE_CASES[name]

    def run(L):
        tensors = [L.tensor(each, dtype=L.float64, requires_grad=True) for each in params]
        draws = make(L, *tensors).rsample((3,))
        return [draws, list(L.autograd.grad((draws ** 2).sum(), tensors))]
    same_in_both(run, rtol=1e-6, atol=1e-9)


def test_gamma_rsample_gradient_is_pytorchs_implicit_gradient():
    """Gamma draws differ from PyTorch's, but d(draw)/d(params) at chainrule's own draw must be the
    implicit reparameterisation gradient PyTorch computes (torch._standard_gamma_grad). PyTorch's is an
    approximation good to ~1e-4 relative (chainrule's agrees with mpmath to 1e-10), hence rtol=1e-4."""
    chainrule.manual_seed(0)
    concentration = chainrule.tensor([2., 0.5], dtype=chainrule.float64, requires_grad=True)
    rate = chainrule.tensor([3., 1.5], dtype=chainrule.float64, requires_grad=True)
    draws = chainrule.distributions.Gamma(concentration, rate).rsample((3,))
    assert draws.shape == (3, 2) and draws.dtype == chainrule.float64
    grad_concentration, grad_rate = chainrule.autograd.grad(draws.sum(), [concentration, rate])
    x = torch.tensor(draws.detach().numpy())
    alpha = torch.tensor([2., 0.5], dtype=torch.float64)
    beta = torch.tensor([3., 1.5], dtype=torch.float64)
    expected_concentration = (torch._standard_gamma_grad(alpha.expand(3, 2), x * beta) / beta).sum(0)
    np.testing.assert_allclose(grad_concentration.numpy(), expected_concentration.numpy(), rtol=1e-4)
    np.testing.assert_allclose(grad_rate.numpy(), (-x / beta).sum(0).numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["Gamma", "Beta", "Dirichlet", "StudentT"])
def test_gamma_based_rsample_shapes_and_grad_shapes(name):
    params = {"Gamma": [[2., 0.5], [3., 1.5]], "Beta": [[2., 0.5], [3., 1.5]], "Dirichlet": [[2., 0.5, 1.]],
              "StudentT": [[3., 1.5], [0., 1.], [1., 2.]]}[name]

    def run(L):
        tensors = [L.tensor(each, dtype=L.float64, requires_grad=True) for each in params]
        draws = getattr(L.distributions, name)(*tensors).rsample((3,))
        grads = L.autograd.grad((draws ** 2).sum(), tensors)
        return [draws.shape, draws.dtype, draws.requires_grad, [g.shape for g in grads], [g.dtype for g in grads],
                bool(all(np.isfinite(g.numpy()).all() for g in grads))]
    same_in_both(run)


# --- names, signatures, constraints, warnings ---------------------------------------------------

MODULES = ["", ".constraints", ".transforms", ".kl", ".utils", ".constraint_registry"]
@pytest.mark.parametrize("module", MODULES, ids=[m or "distributions" for m in MODULES])
def test_public_names_exist(module):
    theirs = importlib.import_module("torch.distributions" + module)
    ours = importlib.import_module("chainrule.distributions" + module)
    names = getattr(theirs, "__all__", None) or [n for n in dir(theirs) if not n.startswith("_")]
    assert sorted(set(names) - set(dir(ours))) == []


def _signature(function):
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    normal = {"torch.Size([])": "()", "chainrule.Size([])": "()"}
    return [(p.name, p.kind, normal.get(repr(p.default), repr(p.default))) for p in parameters]


SIGNATURE_NAMES = ["Normal", "Bernoulli", "Categorical", "OneHotCategorical", "Binomial", "Poisson", "Beta", "Gamma",
                   "Exponential", "Uniform", "Laplace", "Cauchy", "LogNormal", "Dirichlet", "MultivariateNormal",
                   "Independent", "MixtureSameFamily", "TransformedDistribution", "RelaxedBernoulli", "Geometric",
                   "StudentT", "RelaxedOneHotCategorical", "Distribution"]


@pytest.mark.parametrize("name", SIGNATURE_NAMES)
def test_signatures(name):
    for method in ("__init__", "sample", "rsample", "log_prob", "expand", "entropy", "cdf", "icdf", "enumerate_support"):
        theirs = getattr(getattr(torch.distributions, name), method, None)
        if theirs is None or _signature(theirs) is None:
            continue
        assert _signature(getattr(getattr(chainrule.distributions, name), method)) == _signature(theirs), method


def test_constraints_objects():
    def run(L):
        c = L.distributions.constraints
        independent = c.independent(c.real, 1)
        return [c.positive.check(T(L, [-1., 0., 1.])), c.unit_interval.check(T(L, [-0.1, 0., 1.])),
                c.simplex.check(T(L, [0.3, 0.7])), c.integer_interval(0, 3).check(T(L, [0., 3., 4., 1.5])),
                repr(c.interval(0, 1)), repr(c.greater_than_eq(2.)), repr(c.half_open_interval(0., 1.)),
                [each.event_dim for each in (c.real, c.simplex, c.positive_definite, c.real_vector, c.lower_cholesky)],
                [each.is_discrete for each in (c.real, c.boolean, c.nonnegative_integer, c.simplex)],
                repr(independent), independent.event_dim, independent.check(L.zeros(2, 3)),
                repr(L.distributions.biject_to(c.positive)), repr(L.distributions.transform_to(c.unit_interval))]
    same_in_both(run)


def test_custom_distribution_warnings():
    """PyTorch warns when a subclass defines no arg_constraints or no support while validating."""
    def run(L):
        class NoConstraints(L.distributions.Distribution):
            def log_prob(self, value):
                return value * 0

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dist = NoConstraints(validate_args=True)
            dist.log_prob(T(L, 1.))
        quiet = NoConstraints(validate_args=False).log_prob(T(L, 1.))
        return [[each.category.__name__ for each in caught], quiet]
    same_in_both(run)


@pytest.mark.parametrize("diag", [-4, -3, -1, 0, 1, 3, 4])
def test_tril_matrix_vec_round_trip(diag):
    """tril_matrix_to_vec / vec_to_tril_matrix: values, the diag argument, their errors and gradients."""
    def run(L):
        utils = L.distributions.utils
        matrix = L.arange(32, dtype=L.float64).reshape(2, 4, 4).requires_grad_()
        vector = utils.tril_matrix_to_vec(matrix, diag)
        rebuilt = utils.vec_to_tril_matrix(vector, diag)
        (grad,) = L.autograd.grad((rebuilt * rebuilt).sum(), matrix)
        return [vector, rebuilt, grad]
    same_in_both(run)


@pytest.mark.parametrize("length", [0, 1, 2, 4, 5, 6])
def test_vec_to_tril_matrix_sizes(length):
    same_in_both(lambda L: [L.distributions.utils.vec_to_tril_matrix(L.ones(3, length), diag) for diag in (-1, 0, 1)])


def test_mixture_same_family_constraint():
    """check() against every component's support (tensor bounds broadcast), is_discrete, event_dim, repr."""
    def run(L):
        c = L.distributions.constraints
        weights = D(L).Categorical(probs=T(L, [0.5, 0.5]))
        uniform = D(L).MixtureSameFamily(weights, D(L).Uniform(T(L, [0., 1.]), T(L, [2., 3.])))
        vectors = c.MixtureSameFamilyConstraint(c.simplex)
        counts = c.MixtureSameFamilyConstraint(c.nonnegative_integer)
        return [uniform.support.check(T(L, [0.5, 1.5, 2.5])), repr(uniform.support),
                vectors.check(T(L, [[0.3, 0.7], [0.3, 0.3]])), vectors.event_dim, vectors.is_discrete,
                counts.check(T(L, [1., 1.5, -1.])), counts.is_discrete, repr(vectors)]
    same_in_both(run)


def test_custom_distribution_without_support_warns():
    def run(L):
        class NoSupport(L.distributions.Distribution):
            arg_constraints = {}

            def log_prob(self, value):
                self._validate_sample(value)
                return value * 0

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            NoSupport(validate_args=True).log_prob(T(L, 1.))
        return [str(each.message).split("`")[1] for each in caught]
    same_in_both(run)
