"""Samples: reproducible under manual_seed, without gradients, with the right statistics; and the
pathwise gradients of rsample equal finite differences taken with the same noise."""
import numpy as np
import pytest
import torch

import chainrule
from tests.distributions.oracle import compare_with_torch
from tests.distributions.test_families import FAMILIES

d = chainrule.distributions


def family(name):
    build, parameters, _, _ = FAMILIES[name]
    return build, [chainrule.tensor(array) for array in parameters]


# Categoricals have no mean (nan, as in PyTorch); these have no finite moments, sample moments too
# noisy to test (infinite fourth moments), circular ones, or none in closed form
WITHOUT_SAMPLE_MOMENTS = {"Cauchy", "HalfCauchy", "Pareto", "GeneralizedPareto", "InverseGamma", "VonMises", "LogisticNormal",
                          "RelaxedBernoulli", "RelaxedOneHotCategorical", "LKJCholesky"}
WITH_CDF = sorted(name for name, (_, _, _, methods) in FAMILIES.items() if "cdf" in methods and "MixtureSameFamily" != name)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_sample_statistics_match_mean_and_variance(name):
    build, parameters = family(name)
    distribution = build(chainrule, *parameters)
    chainrule.manual_seed(0)
    samples = distribution.sample((20000,))
    assert not samples.requires_grad
    assert bool(distribution.support.check(samples).all())
    if name.startswith("Categorical") or name in WITHOUT_SAMPLE_MOMENTS:
        return  # checked below by their cdfs or their own statistics
    mean, variance = distribution.mean._array, distribution.variance._array
    np.testing.assert_array_less(np.abs(samples._array.mean(0) - mean), 0.05 * (1 + np.abs(mean)))
    np.testing.assert_array_less(np.abs(samples._array.var(0) - variance), 0.1 * variance + 0.01)


def test_categorical_frequencies_and_dtype():
    probs = chainrule.tensor([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]])
    chainrule.manual_seed(1)
    samples = d.Categorical(probs).sample((30000,))
    assert samples.dtype == chainrule.int64 and tuple(samples.shape) == (30000, 2)
    for row in range(2):
        frequencies = np.bincount(samples._array[:, row], minlength=3) / 30000
        np.testing.assert_allclose(frequencies, probs._array[row], atol=0.01)


@pytest.mark.parametrize("name", ["Normal", "Bernoulli_probs", "Categorical_probs", "Gamma", "MultivariateNormal_covariance"])
def test_manual_seed_makes_samples_reproducible(name):
    build, parameters = family(name)
    distribution = build(chainrule, *parameters)
    chainrule.manual_seed(7)
    first = distribution.sample((3,))
    chainrule.manual_seed(7)
    np.testing.assert_array_equal(distribution.sample((3,))._array, first._array)


RSAMPLED = ["Normal", "Normal_0d", "Uniform", "Exponential", "Laplace", "MultivariateNormal_covariance",
            "MultivariateNormal_scale_tril", "MultivariateNormal_precision", "Independent_Normal", "Cauchy", "HalfNormal",
            "HalfCauchy", "LogNormal", "Gumbel", "Kumaraswamy", "Pareto", "Weibull", "ContinuousBernoulli_probs",
            "ContinuousBernoulli_logits", "GeneralizedPareto", "LowRankMultivariateNormal", "LogisticNormal", "RelaxedBernoulli",
            "RelaxedOneHotCategorical"]


@pytest.mark.parametrize("name", RSAMPLED)
def test_rsample_gradients_equal_finite_differences_with_the_same_noise(name):
    build, parameters, _, _ = FAMILIES[name]
    parameters = [np.array(array) for array in parameters]
    weights = np.random.default_rng(3).standard_normal(tuple(build(chainrule, *map(chainrule.tensor, parameters)).sample((2,)).shape))

    def weighted_sample(arrays):
        chainrule.manual_seed(11)
        tensors = [chainrule.tensor(array, requires_grad=True) for array in arrays]
        total = (build(chainrule, *tensors).rsample((2,)) * chainrule.tensor(weights)).sum()
        return total, tensors

    total, tensors = weighted_sample(parameters)
    total.backward()
    step = 1e-6
    for position, array in enumerate(parameters):
        expected = np.zeros(array.shape)
        for index in np.ndindex(array.shape):
            if "scale_tril" in name and position == 1 and index[-1] > index[-2]:
                continue  # a scale_tril stays lower triangular
            shifted = [a.copy() for a in parameters]
            shifted[position][index] += step
            up = float(weighted_sample(shifted)[0])
            shifted[position][index] -= 2 * step
            down = float(weighted_sample(shifted)[0])
            expected[index] = (up - down) / (2 * step)
        if name.startswith("MultivariateNormal") and "scale_tril" not in name and position == 1:
            expected = (expected + np.swapaxes(expected, -1, -2)) / 2  # a symmetric matrix's gradient, as PyTorch's
        found = tensors[position].grad._array
        if "scale_tril" in name and position == 1:
            found = np.tril(found)  # above the diagonal L @ ε has a gradient (as in PyTorch) but L may not move there
        np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-6, err_msg=f"{name} parameter {position}")


def test_normal_rsample_gradient_equals_torchs_for_the_same_noise():
    loc, scale = np.array([0.5, -1.0]), np.array([2.0, 0.3])
    ours_loc, ours_scale = chainrule.tensor(loc, requires_grad=True), chainrule.tensor(scale, requires_grad=True)
    chainrule.manual_seed(0)
    sample = d.Normal(ours_loc, ours_scale).rsample((4,))
    (sample ** 2).sum().backward()
    noise = torch.tensor((sample._array - loc) / scale)
    their_loc, their_scale = torch.tensor(loc, requires_grad=True), torch.tensor(scale, requires_grad=True)
    ((their_loc + noise * their_scale) ** 2).sum().backward()
    np.testing.assert_allclose(ours_loc.grad._array, their_loc.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_scale.grad._array, their_scale.grad.numpy(), rtol=1e-12)


def test_distributions_without_rsample_say_so():
    for distribution in (d.Bernoulli(0.3), d.Categorical(chainrule.ones(3)), d.Poisson(3.0), d.Binomial(3, 0.5)):
        assert not distribution.has_rsample
        with pytest.raises(NotImplementedError):
            distribution.rsample()


def test_enumerate_support_matches_pytorch():
    cases = [
        lambda lib: lib.distributions.Bernoulli(lib.tensor([0.3, 0.6])),
        lambda lib: lib.distributions.Categorical(lib.ones(2, 3)),
        lambda lib: lib.distributions.OneHotCategorical(lib.ones(2, 3)),
        lambda lib: lib.distributions.Binomial(3, lib.tensor([0.3, 0.6])),
    ]
    for case in cases:
        for expand in (True, False):
            ours, theirs = case(chainrule).enumerate_support(expand), case(torch).enumerate_support(expand)
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_gamma_sample_slope_is_the_implicit_one_and_agrees_with_pytorchs():
    from chainrule.ops.special_extra import gamma_sample_slope_array

    rng = np.random.default_rng(0)
    concentration = rng.uniform(0.05, 50, 300)
    samples = rng.gamma(concentration)
    slope = gamma_sample_slope_array(concentration, samples)
    # -(∂P/∂a) / p by central differences of chainrule's own gammainc
    step = 1e-5 * concentration
    cdf = lambda a: chainrule.special.gammainc(chainrule.tensor(a), chainrule.tensor(samples))._array  # noqa: E731
    density = np.exp((concentration - 1) * np.log(samples) - samples - chainrule.lgamma(chainrule.tensor(concentration))._array)
    expected = -(cdf(concentration + step) - cdf(concentration - step)) / (2 * step) / density
    np.testing.assert_allclose(slope, expected, rtol=1e-5)
    # PyTorch approximates it (to about 3e-4)
    np.testing.assert_allclose(slope, torch._standard_gamma_grad(torch.tensor(concentration), torch.tensor(samples)).numpy(), rtol=1e-3)


@pytest.mark.parametrize(
    "build, mean_gradient",
    [
        (lambda a: d.Gamma(a, 2.0), lambda a: np.full_like(a, 0.5)),  # d/da E[z] = d/da a/rate
        (lambda a: d.Beta(a, 1.5), lambda a: 1.5 / (a + 1.5) ** 2),  # d/da a/(a + b)
        (lambda a: d.Chi2(a * 2), lambda a: np.full_like(a, 2.0)),  # d/da E[χ²(2a)] = d/da 2a
        (lambda a: d.InverseGamma(a + 3, 2.0), lambda a: -2.0 / (a + 2) ** 2),  # d/da 2/(a + 2)
        (lambda a: d.FisherSnedecor(7.0, a + 5), lambda a: -2.0 / (a + 3) ** 2),  # d/da (a + 5)/(a + 3)
    ],
    ids=["Gamma", "Beta", "Chi2", "InverseGamma", "FisherSnedecor"],
)
def test_gamma_and_beta_rsample_gradients_are_unbiased(build, mean_gradient):
    concentration = chainrule.tensor([0.3, 1.0, 4.0], dtype=chainrule.float64, requires_grad=True)
    chainrule.manual_seed(3)
    build(concentration).rsample((40000,)).mean(0).sum().backward()
    np.testing.assert_allclose(concentration.grad._array, mean_gradient(concentration._array), rtol=0.05)
    assert build(concentration).rsample().grad_fn is not None


@pytest.mark.parametrize("name", WITH_CDF)
def test_sample_frequencies_match_the_cdf(name):
    """The fraction of samples at or below each value is cdf(value), to within 4 standard errors."""
    build, parameters, value, _ = FAMILIES[name]
    distribution = build(chainrule, *map(chainrule.tensor, parameters))
    chainrule.manual_seed(2)
    samples = distribution.sample((20000,))._array
    values = np.broadcast_to(value, np.broadcast_shapes(np.shape(value), tuple(distribution.batch_shape)))
    expected = distribution.cdf(chainrule.tensor(np.ascontiguousarray(values)))._array
    found = (samples[:, None] <= values[None]).mean(0) if values.ndim > samples.ndim - 1 else (samples <= values).mean(0)
    np.testing.assert_allclose(found, expected, atol=4 * 0.5 / np.sqrt(20000))


def test_von_mises_samples_have_the_circular_variance():
    """1 - E[cos(x - loc)] = 1 - I₁(κ)/I₀(κ), the circular variance; samples lie in [-π, π)."""
    distribution = d.VonMises(chainrule.tensor([0.5, -2.0, 3.0]), chainrule.tensor([0.3, 2.0, 10.0]))
    chainrule.manual_seed(0)
    samples = distribution.sample((40000,))._array
    assert samples.min() >= -np.pi and samples.max() <= np.pi
    np.testing.assert_allclose(1 - np.cos(samples - distribution.loc._array).mean(0), distribution.variance._array, atol=0.01)


def test_relaxed_samples_round_to_bernoulli_and_categorical_samples():
    """P(relaxed Bernoulli > ½) = probs at every temperature (logistic noise); the argmax of a
    relaxed one-hot sample is a Categorical sample (the Gumbel-max trick)."""
    chainrule.manual_seed(4)
    probs = chainrule.tensor([0.2, 0.5, 0.9])
    bernoulli = d.RelaxedBernoulli(chainrule.tensor(2.0), probs=probs).sample((30000,))._array
    np.testing.assert_allclose((bernoulli > 0.5).mean(0), probs._array, atol=0.015)
    category_probs = chainrule.tensor([0.1, 0.3, 0.6])
    relaxed = d.RelaxedOneHotCategorical(chainrule.tensor(0.3), probs=category_probs).sample((30000,))._array
    np.testing.assert_allclose(relaxed.sum(-1), 1.0, rtol=2e-6)  # float32 sums of 3 exps: PyTorch itself is 9.5e-7 off
    np.testing.assert_allclose(np.bincount(relaxed.argmax(-1), minlength=3) / 30000, category_probs._array, atol=0.015)


def test_logistic_normal_samples_map_back_to_normal_samples():
    loc, scale = chainrule.tensor([0.3, -1.0, 0.0]), chainrule.tensor([0.5, 1.0, 2.0])
    distribution = d.LogisticNormal(loc, scale)
    chainrule.manual_seed(6)
    samples = distribution.sample((20000,))
    normal = d.transforms.StickBreakingTransform().inv(samples)._array
    np.testing.assert_allclose(normal.mean(0), loc._array, atol=0.05)
    np.testing.assert_allclose(normal.std(0), scale._array, rtol=0.03)


def test_dirichlet_rsample_gradient_is_unbiased():
    """d/dα E[x₀] for E[x₀] = α₀ / Σα: (Σα - α₀)/(Σα)² for α₀, -α₀/(Σα)² for the others."""
    concentration = chainrule.tensor([0.5, 1.5, 3.0], dtype=chainrule.float64, requires_grad=True)
    chainrule.manual_seed(8)
    d.Dirichlet(concentration).rsample((40000,))[:, 0].mean().backward()
    total = concentration._array.sum()
    expected = np.array([total - 0.5, -0.5, -0.5]) / total ** 2
    np.testing.assert_allclose(concentration.grad._array, expected, rtol=0.05, atol=0.003)


def test_straight_through_rsample_is_one_hot_with_the_gradient_of_probs_as_pytorchs():
    probs = chainrule.tensor([[0.2, 0.3, 0.5]], requires_grad=True)
    chainrule.manual_seed(1)
    sample = d.OneHotCategoricalStraightThrough(probs=probs).rsample((4,))
    assert sorted(np.unique(sample._array)) == [0.0, 1.0] and (sample._array.sum(-1) == 1).all()
    weights = np.arange(12.0, dtype=np.float32).reshape(4, 1, 3)
    (sample * chainrule.tensor(weights)).sum().backward()
    their_probs = torch.tensor(probs._array, requires_grad=True)  # the gradient does not depend on the draw
    (torch.distributions.OneHotCategoricalStraightThrough(probs=their_probs).rsample((4,)) * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(probs.grad._array, their_probs.grad.numpy(), rtol=1e-6)


def test_lkj_correlations_have_the_marginal_variance():
    """Each correlation of LKJ(η) over d x d matrices is 2B - 1, B ~ Beta(η - 1 + d/2, same): mean 0,
    variance 1 / (2η + d - 1)."""
    chainrule.manual_seed(9)
    factor = d.LKJCholesky(3, chainrule.tensor([1.0, 2.0])).sample((20000,))
    correlations = (factor @ factor.transpose(-1, -2))._array
    np.testing.assert_allclose(np.diagonal(correlations, axis1=-2, axis2=-1), 1.0, rtol=1e-6)
    for row, column in [(1, 0), (2, 0), (2, 1)]:
        np.testing.assert_allclose(correlations[..., row, column].mean(0), 0.0, atol=0.015)
        np.testing.assert_allclose(correlations[..., row, column].var(0), 1 / (2 * np.array([1.0, 2.0]) + 2), rtol=0.05)


def test_lkj_log_prob_matches_pytorch_with_gradients():
    torch.manual_seed(0)
    values = torch.distributions.LKJCholesky(4, torch.tensor([0.7, 3.0], dtype=torch.float64)).sample((5,)).numpy()
    compare_with_torch(lambda lib, eta: lib.distributions.LKJCholesky(4, eta).log_prob(lib.tensor(values)), [np.array([0.5, 2.5])])
