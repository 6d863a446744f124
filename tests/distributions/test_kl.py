"""kl_divergence against PyTorch's, values and gradients for both distributions' parameters."""
import numpy as np
import pytest

import chainrule
from tests.distributions.oracle import compare_with_torch
from tests.distributions.test_families import covariance, lower_factor, normal_values, positive_values, probabilities, simplex_rows

PAIRS = {
    "Normal": (lambda lib, a, b, c, d: (lib.distributions.Normal(a, b), lib.distributions.Normal(c, d)),
               [normal_values(2, 3), positive_values(3), normal_values(3), positive_values(2, 1)]),
    "Bernoulli": (lambda lib, p, q: (lib.distributions.Bernoulli(p), lib.distributions.Bernoulli(logits=q)),
                  [probabilities(2, 3), normal_values(2, 3)]),  # torch's formula needs equal shapes
    "Categorical": (lambda lib, p, q: (lib.distributions.Categorical(p), lib.distributions.Categorical(logits=q)),
                    [simplex_rows(2, 4), normal_values(4)]),
    "OneHotCategorical": (lambda lib, p, q: (lib.distributions.OneHotCategorical(p), lib.distributions.OneHotCategorical(q)),
                          [simplex_rows(3, 4), simplex_rows(3, 4)]),
    "Uniform": (lambda lib, low, width: (lib.distributions.Uniform(low, low + width), lib.distributions.Uniform(low - 1, low + width + 0.5)),
                [normal_values(3), positive_values(3)]),
    "Exponential": (lambda lib, a, b: (lib.distributions.Exponential(a), lib.distributions.Exponential(b)), [positive_values(3), positive_values(2, 1)]),
    "Laplace": (lambda lib, a, b, c, d: (lib.distributions.Laplace(a, b), lib.distributions.Laplace(c, d)),
                [normal_values(3), positive_values(3), normal_values(3), positive_values(3)]),
    "Gamma": (lambda lib, a, b, c, d: (lib.distributions.Gamma(a, b), lib.distributions.Gamma(c, d)),
              [positive_values(3), positive_values(3), positive_values(3), positive_values(3)]),
    "Beta": (lambda lib, a, b, c, d: (lib.distributions.Beta(a, b), lib.distributions.Beta(c, d)),
             [positive_values(3), positive_values(3), positive_values(3), positive_values(3)]),
    "Poisson": (lambda lib, a, b: (lib.distributions.Poisson(a), lib.distributions.Poisson(b)), [positive_values(3), positive_values(3)]),
    "MultivariateNormal": (lambda lib, a, s, b, c: (lib.distributions.MultivariateNormal(a, scale_tril=s), lib.distributions.MultivariateNormal(b, covariance_matrix=c)),
                           [normal_values(2, 3), lower_factor((2,), 3), normal_values(3), covariance((), 3)]),
    "Independent": (lambda lib, a, b, c, d: (lib.distributions.Independent(lib.distributions.Normal(a, b), 1), lib.distributions.Independent(lib.distributions.Normal(c, d), 1)),
                    [normal_values(2, 3), positive_values(3), normal_values(3), positive_values(2, 3)]),
}


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_kl_divergence_matches_pytorch_with_gradients(pair):
    build, parameters = PAIRS[pair]
    compare_with_torch(lambda lib, *tensors: lib.distributions.kl_divergence(*build(lib, *tensors)), parameters)


def test_kl_is_infinite_where_q_gives_no_mass():
    import torch

    for lib in (chainrule, torch):
        d = lib.distributions
        assert float(d.kl_divergence(d.Uniform(0.0, 2.0), d.Uniform(0.5, 3.0))) == float("inf")
        assert float(d.kl_divergence(d.Bernoulli(0.5), d.Bernoulli(0.0))) == float("inf")
        categorical = d.kl_divergence(d.Categorical(lib.tensor([0.5, 0.5, 0.0])), d.Categorical(lib.tensor([0.5, 0.0, 0.5])))
        assert float(categorical) == float("inf")


def test_an_unregistered_pair_raises_and_register_kl_adds_one():
    d = chainrule.distributions
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q type Poisson"):
        d.kl_divergence(d.Normal(0.0, 1.0), d.Poisson(1.0))

    class Wider(d.Normal):
        pass

    assert float(d.kl_divergence(Wider(0.0, 2.0), d.Normal(0.0, 2.0))) == 0.0  # a subclass uses its parent's formula

    @d.register_kl(Wider, d.Poisson)
    def kl_wider_poisson(p, q):
        return p.loc * 0 + 7.0

    try:
        assert float(d.kl_divergence(Wider(0.0, 1.0), d.Poisson(1.0))) == 7.0
    finally:
        del d.kl.KL_REGISTRY[Wider, d.Poisson]


def test_multivariate_normals_of_different_sizes_are_refused():
    import torch

    for lib in (chainrule, torch):
        d = lib.distributions
        with pytest.raises(ValueError, match="different event shapes cannot be computed"):
            d.kl_divergence(d.MultivariateNormal(lib.zeros(2), lib.eye(2)), d.MultivariateNormal(lib.zeros(3), lib.eye(3)))


# One batch (3,) of each family, for the pairs of different families PyTorch registers
SINGLES = {
    "Bernoulli": (lambda lib, p: lib.distributions.Bernoulli(p), [probabilities(3)]),
    "Beta": (lambda lib, a, b: lib.distributions.Beta(a, b), [positive_values(3), positive_values(3)]),
    "Binomial": (lambda lib, p: lib.distributions.Binomial(5, p), [probabilities(3)]),
    "ContinuousBernoulli": (lambda lib, p: lib.distributions.ContinuousBernoulli(p), [probabilities(3)]),
    "Exponential": (lambda lib, rate: lib.distributions.Exponential(rate), [positive_values(3)]),
    "Gamma": (lambda lib, c, rate: lib.distributions.Gamma(c, rate), [positive_values(3), positive_values(3)]),
    "Chi2": (lambda lib, df: lib.distributions.Chi2(df), [positive_values(3) * 2]),
    "Gumbel": (lambda lib, loc, scale: lib.distributions.Gumbel(loc, scale), [normal_values(3), positive_values(3)]),
    "Geometric": (lambda lib, p: lib.distributions.Geometric(p), [probabilities(3)]),
    "HalfNormal": (lambda lib, scale: lib.distributions.HalfNormal(scale), [positive_values(3)]),
    "Laplace": (lambda lib, loc, scale: lib.distributions.Laplace(loc, scale), [normal_values(3), positive_values(3)]),
    "Normal": (lambda lib, loc, scale: lib.distributions.Normal(loc, scale), [normal_values(3), positive_values(3)]),
    "Pareto": (lambda lib, scale, alpha: lib.distributions.Pareto(scale, alpha), [positive_values(3) * 0.5, positive_values(3) + 2.5]),
    "Poisson": (lambda lib, rate: lib.distributions.Poisson(rate), [positive_values(3)]),
    "Uniform": (lambda lib, low, width: lib.distributions.Uniform(low, low + width), [probabilities(3) * 0.3, probabilities(3) * 0.5 + 0.1]),
    "Cauchy": (lambda lib, loc, scale: lib.distributions.Cauchy(loc, scale), [normal_values(3), positive_values(3)]),
    "Dirichlet": (lambda lib, c: lib.distributions.Dirichlet(c), [positive_values(3, 4)]),
    "LogNormal": (lambda lib, loc, scale: lib.distributions.LogNormal(loc, scale), [normal_values(3), positive_values(3)]),
    "LowRankMultivariateNormal": (lambda lib, loc, w, d: lib.distributions.LowRankMultivariateNormal(loc, w, d),
                                  [normal_values(3, 2), normal_values(2, 2) * 0.5, positive_values(2)]),
    "MultivariateNormal": (lambda lib, loc, tril: lib.distributions.MultivariateNormal(loc, scale_tril=tril), [normal_values(3, 2), lower_factor((3,), 2)]),
}


def registered_pairs():
    import torch

    names = {getattr(torch.distributions, name): name for name in SINGLES}
    pairs = [(names[p], names[q]) for p, q in torch.distributions.kl._KL_REGISTRY if p in names and q in names]
    return sorted(pairs + [("Chi2", "Gamma"), ("Gamma", "Chi2"), ("Chi2", "Normal")])


@pytest.mark.parametrize("p_name, q_name", registered_pairs(), ids=[f"{p}-{q}" for p, q in registered_pairs()])
def test_kl_between_every_registered_pair_matches_pytorch(p_name, q_name):
    (build_p, p_parameters), (build_q, q_parameters) = SINGLES[p_name], SINGLES[q_name]
    count = len(p_parameters)

    def kl(lib, *tensors):
        return lib.distributions.kl_divergence(build_p(lib, *tensors[:count]), build_q(lib, *tensors[count:]))

    compare_with_torch(kl, p_parameters + q_parameters, rtol=1e-9)


def test_the_bregman_divergence_of_exponential_families_matches_pytorch():
    import torch

    def kl(lib, a, b):
        function = chainrule.distributions.kl.kl_expfamily_expfamily if lib is chainrule else torch.distributions.kl._kl_expfamily_expfamily
        return function(lib.distributions.Dirichlet(a), lib.distributions.Dirichlet(b))

    compare_with_torch(kl, [positive_values(2, 3), positive_values(3)], rtol=1e-9)
    with pytest.raises(NotImplementedError, match="different exponential families"):
        chainrule.distributions.kl.kl_expfamily_expfamily(chainrule.distributions.Dirichlet(chainrule.ones(2)),
                                                         chainrule.distributions.ContinuousBernoulli(0.3))
