"""Samples: reproducible under manual_seed, without gradients, with the right statistics; and the
pathwise gradients of rsample equal finite differences taken with the same noise."""
import numpy as np
import pytest
import torch

import chainrule
from tests.distributions.test_families import FAMILIES

d = chainrule.distributions


def family(name):
    build, parameters, _, _ = FAMILIES[name]
    return build, [chainrule.tensor(array) for array in parameters]


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_sample_statistics_match_mean_and_variance(name):
    build, parameters = family(name)
    distribution = build(chainrule, *parameters)
    chainrule.manual_seed(0)
    samples = distribution.sample((20000,))
    assert not samples.requires_grad
    assert bool(distribution.support.check(samples).all())
    if name.startswith("Categorical"):
        return  # a categorical has no mean or variance (nan, as in PyTorch): see the frequencies below
    mean, variance = distribution.mean.array, distribution.variance.array
    np.testing.assert_array_less(np.abs(samples.array.mean(0) - mean), 0.05 * (1 + np.abs(mean)))
    np.testing.assert_array_less(np.abs(samples.array.var(0) - variance), 0.1 * variance + 0.01)


def test_categorical_frequencies_and_dtype():
    probs = chainrule.tensor([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]])
    chainrule.manual_seed(1)
    samples = d.Categorical(probs).sample((30000,))
    assert samples.dtype == chainrule.int64 and tuple(samples.shape) == (30000, 2)
    for row in range(2):
        frequencies = np.bincount(samples.array[:, row], minlength=3) / 30000
        np.testing.assert_allclose(frequencies, probs.array[row], atol=0.01)


@pytest.mark.parametrize("name", ["Normal", "Bernoulli_probs", "Categorical_probs", "Gamma", "MultivariateNormal_covariance"])
def test_manual_seed_makes_samples_reproducible(name):
    build, parameters = family(name)
    distribution = build(chainrule, *parameters)
    chainrule.manual_seed(7)
    first = distribution.sample((3,))
    chainrule.manual_seed(7)
    np.testing.assert_array_equal(distribution.sample((3,)).array, first.array)


RSAMPLED = ["Normal", "Normal_0d", "Uniform", "Exponential", "Laplace", "MultivariateNormal_covariance",
            "MultivariateNormal_scale_tril", "MultivariateNormal_precision", "Independent_Normal"]


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
        found = tensors[position].grad.array
        if "scale_tril" in name and position == 1:
            found = np.tril(found)  # above the diagonal L @ ε has a gradient (as in PyTorch) but L may not move there
        np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-6, err_msg=f"{name} parameter {position}")


def test_normal_rsample_gradient_equals_torchs_for_the_same_noise():
    loc, scale = np.array([0.5, -1.0]), np.array([2.0, 0.3])
    ours_loc, ours_scale = chainrule.tensor(loc, requires_grad=True), chainrule.tensor(scale, requires_grad=True)
    chainrule.manual_seed(0)
    sample = d.Normal(ours_loc, ours_scale).rsample((4,))
    (sample ** 2).sum().backward()
    noise = torch.tensor((sample.array - loc) / scale)
    their_loc, their_scale = torch.tensor(loc, requires_grad=True), torch.tensor(scale, requires_grad=True)
    ((their_loc + noise * their_scale) ** 2).sum().backward()
    np.testing.assert_allclose(ours_loc.grad.array, their_loc.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_scale.grad.array, their_scale.grad.numpy(), rtol=1e-12)


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
    cdf = lambda a: chainrule.special.gammainc(chainrule.tensor(a), chainrule.tensor(samples)).array  # noqa: E731
    density = np.exp((concentration - 1) * np.log(samples) - samples - chainrule.lgamma(chainrule.tensor(concentration)).array)
    expected = -(cdf(concentration + step) - cdf(concentration - step)) / (2 * step) / density
    np.testing.assert_allclose(slope, expected, rtol=1e-5)
    # PyTorch approximates it (to about 3e-4)
    np.testing.assert_allclose(slope, torch._standard_gamma_grad(torch.tensor(concentration), torch.tensor(samples)).numpy(), rtol=1e-3)


@pytest.mark.parametrize(
    "build, mean_gradient",
    [
        (lambda a: d.Gamma(a, 2.0), lambda a: np.full_like(a, 0.5)),  # d/da E[z] = d/da a/rate
        (lambda a: d.Beta(a, 1.5), lambda a: 1.5 / (a + 1.5) ** 2),  # d/da a/(a + b)
    ],
    ids=["Gamma", "Beta"],
)
def test_gamma_and_beta_rsample_gradients_are_unbiased(build, mean_gradient):
    concentration = chainrule.tensor([0.3, 1.0, 4.0], dtype=chainrule.float64, requires_grad=True)
    chainrule.manual_seed(5)
    build(concentration).rsample((40000,)).mean(0).sum().backward()
    np.testing.assert_allclose(concentration.grad.array, mean_gradient(concentration.array), rtol=0.05)
    assert build(concentration).rsample().grad_fn is not None
