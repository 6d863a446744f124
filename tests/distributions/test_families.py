"""Each distribution's log_prob, cdf, icdf, entropy, mean, mode, variance and stddev against
PyTorch in float64, with their gradients with respect to the parameters, over batch shapes with
broadcasting, 0-d and size-1 dimensions."""
import numpy as np
import pytest

from tests.distributions.oracle import compare_second_order_with_torch, compare_with_torch

RNG = np.random.default_rng(0)


def normal_values(*shape):
    return RNG.standard_normal(shape)


def positive_values(*shape):
    return np.abs(RNG.standard_normal(shape)) + 0.5


def probabilities(*shape):
    return RNG.uniform(0.05, 0.95, shape)


def simplex_rows(*shape):
    weights = RNG.uniform(0.1, 1.0, shape)
    return weights / weights.sum(-1, keepdims=True)


def lower_factor(batch, size):
    factor = np.tril(RNG.standard_normal(batch + (size, size)) * 0.3)
    diagonal_indices = np.arange(size)
    factor[..., diagonal_indices, diagonal_indices] = np.abs(factor[..., diagonal_indices, diagonal_indices]) + 0.5
    return factor


def covariance(batch, size):
    factor = lower_factor(batch, size)
    return factor @ np.swapaxes(factor, -1, -2)


# name: (build(lib, *parameters) -> distribution, parameter arrays, value array or None, methods)
STATISTICS = ("mean", "variance", "stddev")
FAMILIES = {
    "Normal": (lambda lib, loc, scale: lib.distributions.Normal(loc, scale), [normal_values(3, 1), positive_values(4)],
               normal_values(2, 3, 4), ("log_prob", "cdf", "icdf", "entropy", "mode") + STATISTICS),
    "Normal_0d": (lambda lib, loc, scale: lib.distributions.Normal(loc, scale), [normal_values(), positive_values()],
                  normal_values(5), ("log_prob", "cdf", "entropy") + STATISTICS),
    "Bernoulli_probs": (lambda lib, p: lib.distributions.Bernoulli(probs=p), [probabilities(2, 3)],
                        RNG.integers(0, 2, (2, 3)).astype(float), ("log_prob", "entropy", "mode") + STATISTICS),
    "Bernoulli_logits": (lambda lib, logits: lib.distributions.Bernoulli(logits=logits), [normal_values(4) * 3],
                         RNG.integers(0, 2, (3, 4)).astype(float), ("log_prob", "entropy") + STATISTICS),
    "Categorical_probs": (lambda lib, p: lib.distributions.Categorical(probs=p), [simplex_rows(2, 5)],
                          RNG.integers(0, 5, (3, 2)).astype(float), ("log_prob", "entropy", "mode")),
    "Categorical_logits": (lambda lib, logits: lib.distributions.Categorical(logits=logits), [normal_values(4)],
                           RNG.integers(0, 4, (6,)).astype(float), ("log_prob", "entropy", "mode")),
    "OneHotCategorical": (lambda lib, p: lib.distributions.OneHotCategorical(probs=p), [simplex_rows(3, 4)],
                          np.eye(4)[RNG.integers(0, 4, (2, 3))], ("log_prob", "entropy", "mode") + STATISTICS),
    "Uniform": (lambda lib, low, width: lib.distributions.Uniform(low, low + width), [normal_values(3), positive_values(2, 1)],
                None, ("entropy",) + STATISTICS),
    "Exponential": (lambda lib, rate: lib.distributions.Exponential(rate), [positive_values(2, 3)],
                    positive_values(4, 1, 3), ("log_prob", "cdf", "entropy", "mode") + STATISTICS),
    "Laplace": (lambda lib, loc, scale: lib.distributions.Laplace(loc, scale), [normal_values(3), positive_values(2, 3)],
                normal_values(2, 3), ("log_prob", "cdf", "icdf", "entropy", "mode") + STATISTICS),
    "Gamma": (lambda lib, c, rate: lib.distributions.Gamma(c, rate), [positive_values(3) * 2, positive_values(2, 1)],
              positive_values(2, 3), ("log_prob", "entropy", "mode") + STATISTICS),
    "Beta": (lambda lib, a, b: lib.distributions.Beta(a, b), [positive_values(3) * 2, positive_values(2, 1) * 2],
             probabilities(2, 3), ("log_prob", "entropy", "mode") + STATISTICS),
    "Poisson": (lambda lib, rate: lib.distributions.Poisson(rate), [positive_values(2, 3) * 3],
                RNG.integers(0, 8, (2, 3)).astype(float), ("log_prob", "mode") + STATISTICS),
    "Binomial_probs": (lambda lib, p: lib.distributions.Binomial(7, probs=p), [probabilities(2, 3)],
                       RNG.integers(0, 8, (2, 3)).astype(float), ("log_prob", "entropy", "mode") + STATISTICS),
    "Binomial_logits": (lambda lib, logits: lib.distributions.Binomial(lib.tensor([[3.0], [5.0]], dtype=lib.float64), logits=logits),
                        [normal_values(3)], RNG.integers(0, 4, (2, 3)).astype(float), ("log_prob", "mode") + STATISTICS),
    "MultivariateNormal_covariance": (lambda lib, loc, cov: lib.distributions.MultivariateNormal(loc, covariance_matrix=cov),
                                      [normal_values(2, 3), covariance((), 3)], normal_values(4, 2, 3),
                                      ("log_prob", "entropy", "mode") + STATISTICS),
    "MultivariateNormal_scale_tril": (lambda lib, loc, tril: lib.distributions.MultivariateNormal(loc, scale_tril=tril),
                                      [normal_values(3), lower_factor((2,), 3)], normal_values(2, 3),
                                      ("log_prob", "entropy") + STATISTICS),
    "MultivariateNormal_precision": (lambda lib, loc, precision: lib.distributions.MultivariateNormal(loc, precision_matrix=precision),
                                     [normal_values(3), covariance((), 3)], normal_values(2, 3), ("log_prob", "entropy", "variance")),
    "Independent_Normal": (lambda lib, loc, scale: lib.distributions.Independent(lib.distributions.Normal(loc, scale), 1),
                           [normal_values(2, 3), positive_values(3)], normal_values(4, 2, 3), ("log_prob", "entropy") + STATISTICS),
    "Cauchy": (lambda lib, loc, scale: lib.distributions.Cauchy(loc, scale), [normal_values(3), positive_values(2, 1)],
               normal_values(2, 3), ("log_prob", "cdf", "icdf", "entropy", "mode") + STATISTICS),
    "Chi2": (lambda lib, df: lib.distributions.Chi2(df), [positive_values(3) * 3], positive_values(2, 3),
             ("log_prob", "entropy", "mode") + STATISTICS),
    "HalfNormal": (lambda lib, scale: lib.distributions.HalfNormal(scale), [positive_values(3)], positive_values(2, 3),
                   ("log_prob", "cdf", "icdf", "entropy", "mode") + STATISTICS),
    "HalfCauchy": (lambda lib, scale: lib.distributions.HalfCauchy(scale), [positive_values(2, 1)], positive_values(2, 3),
                   ("log_prob", "cdf", "icdf", "entropy", "mode") + STATISTICS),
    "LogNormal": (lambda lib, loc, scale: lib.distributions.LogNormal(loc, scale), [normal_values(3), positive_values(3) * 0.5],
                  positive_values(2, 3), ("log_prob", "cdf", "icdf", "entropy", "mode") + STATISTICS),
    "Gumbel": (lambda lib, loc, scale: lib.distributions.Gumbel(loc, scale), [normal_values(3), positive_values(2, 1)],
               normal_values(2, 3), ("log_prob", "cdf", "icdf", "entropy", "mode") + STATISTICS),
    "Kumaraswamy": (lambda lib, a, b: lib.distributions.Kumaraswamy(a, b), [positive_values(3) * 2, positive_values(2, 1) * 2],
                    probabilities(2, 3), ("log_prob", "cdf", "icdf", "entropy", "mode") + STATISTICS),
    "Pareto": (lambda lib, scale, alpha: lib.distributions.Pareto(scale, alpha), [positive_values(3) * 0.5, positive_values(2, 1) + 2],
               positive_values(2, 3) + 2, ("log_prob", "cdf", "icdf", "entropy", "mode") + STATISTICS),
    "Weibull": (lambda lib, scale, k: lib.distributions.Weibull(scale, k), [positive_values(3), positive_values(2, 1) + 0.5],
                positive_values(2, 3), ("log_prob", "cdf", "icdf", "entropy", "mode") + STATISTICS),
    "InverseGamma": (lambda lib, c, rate: lib.distributions.InverseGamma(c, rate), [positive_values(3) + 2.5, positive_values(2, 1)],
                     positive_values(2, 3), ("log_prob", "entropy", "mode") + STATISTICS),
    "StudentT": (lambda lib, df, loc, scale: lib.distributions.StudentT(df, loc, scale),
                 [positive_values(3) * 3 + 2.5, normal_values(2, 1), positive_values(3)], normal_values(2, 3),
                 ("log_prob", "entropy", "mode") + STATISTICS),
    "FisherSnedecor": (lambda lib, df1, df2: lib.distributions.FisherSnedecor(df1, df2), [positive_values(3) * 4 + 2, positive_values(2, 1) * 3 + 9],
                       positive_values(2, 3), ("log_prob", "mode") + STATISTICS),
    "Geometric_probs": (lambda lib, p: lib.distributions.Geometric(probs=p), [probabilities(2, 3) * 0.5 + 0.3],
                        RNG.integers(0, 6, (2, 3)).astype(float), ("log_prob", "entropy", "mode") + STATISTICS),
    "Geometric_logits": (lambda lib, logits: lib.distributions.Geometric(logits=logits), [normal_values(3)],
                         RNG.integers(0, 6, (2, 3)).astype(float), ("log_prob", "entropy") + STATISTICS),
    "NegativeBinomial_probs": (lambda lib, n, p: lib.distributions.NegativeBinomial(n, probs=p), [positive_values(3) * 3, probabilities(2, 3) * 0.6],
                               RNG.integers(0, 8, (2, 3)).astype(float), ("log_prob", "mode") + STATISTICS),
    "NegativeBinomial_logits": (lambda lib, n, logits: lib.distributions.NegativeBinomial(n, logits=logits), [positive_values(3) * 3, normal_values(3) * 0.5],
                                RNG.integers(0, 8, (2, 3)).astype(float), ("log_prob",) + STATISTICS),
    "Multinomial": (lambda lib, p: lib.distributions.Multinomial(5, probs=p), [simplex_rows(2, 4)],
                    RNG.multinomial(5, [0.25] * 4, size=(3, 2)).astype(float), ("log_prob", "entropy") + STATISTICS),
    "ContinuousBernoulli_probs": (lambda lib, p: lib.distributions.ContinuousBernoulli(probs=p), [np.array([0.1, 0.4995, 0.7, 0.95])],
                                  probabilities(3, 4), ("log_prob", "cdf", "icdf", "entropy") + STATISTICS),
    "ContinuousBernoulli_logits": (lambda lib, logits: lib.distributions.ContinuousBernoulli(logits=logits), [normal_values(2, 3)],
                                   probabilities(2, 3), ("log_prob", "cdf", "icdf", "entropy") + STATISTICS),
    "Dirichlet": (lambda lib, c: lib.distributions.Dirichlet(c), [positive_values(2, 4) * 2], simplex_rows(3, 2, 4),
                  ("log_prob", "entropy", "mode") + STATISTICS),
    "GeneralizedPareto": (lambda lib, loc, scale, xi: lib.distributions.GeneralizedPareto(loc, scale, xi),
                          [normal_values(3) * 0.3, positive_values(3), positive_values(2, 1) * 0.2], positive_values(2, 3) + 1,
                          ("log_prob", "cdf", "icdf", "entropy", "mode") + STATISTICS),
    "VonMises": (lambda lib, loc, k: lib.distributions.VonMises(loc, k), [normal_values(3), positive_values(2, 1)], normal_values(2, 3),
                 ("log_prob", "mode", "mean", "variance")),
    "LowRankMultivariateNormal": (lambda lib, loc, w, d: lib.distributions.LowRankMultivariateNormal(loc, w, d),
                                  [normal_values(2, 3), normal_values(3, 2) * 0.5, positive_values(3)], normal_values(4, 2, 3),
                                  ("log_prob", "entropy", "mode") + STATISTICS),
    "MixtureSameFamily": (lambda lib, logits, loc, scale: lib.distributions.MixtureSameFamily(
                              lib.distributions.Categorical(logits=logits), lib.distributions.Normal(loc, scale)),
                          [normal_values(2, 3), normal_values(2, 3), positive_values(3)], normal_values(4, 2), ("log_prob", "cdf") + STATISTICS),
    "LogisticNormal": (lambda lib, loc, scale: lib.distributions.LogisticNormal(loc, scale), [normal_values(3), positive_values(3) * 0.5],
                       simplex_rows(2, 4), ("log_prob",)),
    "RelaxedBernoulli": (lambda lib, p: lib.distributions.RelaxedBernoulli(lib.tensor(0.5, dtype=lib.float64), probs=p), [probabilities(2, 3)],
                         probabilities(2, 3), ("log_prob",)),
    "RelaxedOneHotCategorical": (lambda lib, p: lib.distributions.RelaxedOneHotCategorical(lib.tensor(0.7, dtype=lib.float64), probs=p),
                                 [simplex_rows(2, 4)], simplex_rows(3, 2, 4), ("log_prob",)),
    "Wishart_covariance": (lambda lib, df, cov: lib.distributions.Wishart(df, covariance_matrix=cov), [positive_values(2) + 3, covariance((), 3)],
                           covariance((4, 2), 3), ("log_prob", "entropy", "mode") + STATISTICS),
    # PyTorch's cholesky_solve sends gradient to the entries above the diagonal too; the tril() keeps both to the factor itself
    "Wishart_scale_tril": (lambda lib, df, tril: lib.distributions.Wishart(df, scale_tril=tril.tril()), [positive_values(1) + 4, lower_factor((2,), 3)],
                           covariance((2,), 3), ("log_prob", "entropy") + STATISTICS),
    "Wishart_precision": (lambda lib, df, precision: lib.distributions.Wishart(df, precision_matrix=precision), [positive_values(2) + 3, covariance((), 2)],
                          covariance((2,), 2), ("log_prob", "entropy", "mean")),
    "LKJCholesky": (lambda lib, eta: lib.distributions.LKJCholesky(3, eta), [positive_values(2) + 0.5], None, ()),
    "OneHotCategoricalStraightThrough": (lambda lib, p: lib.distributions.OneHotCategoricalStraightThrough(probs=p), [simplex_rows(3, 4)],
                                         np.eye(4)[RNG.integers(0, 4, (2, 3))], ("log_prob", "entropy", "mode") + STATISTICS),
}
# PyTorch's Multinomial.entropy takes ln n! of an integer tensor, in float32, and its VonMises
# evaluates ln I₀ and ln I₁ by polynomial approximations good to about 1e-8
TOLERANCES = {("Multinomial", "entropy"): 1e-7, ("VonMises", "log_prob"): 1e-7, ("VonMises", "variance"): 1e-7}
# PyTorch's GeneralizedPareto compares its concentration with a default-dtype tensor: it runs in
# float64 only when float64 is the default
FLOAT64_DEFAULT = {"GeneralizedPareto"}
CASES = [(family, method) for family, (_, _, _, methods) in FAMILIES.items() for method in methods]


@pytest.mark.parametrize("family, method", CASES, ids=[f"{f}-{m}" for f, m in CASES])
def test_matches_pytorch_with_gradients(family, method):
    build, parameters, value, _ = FAMILIES[family]

    def quantity(lib, *tensors):
        distribution = build(lib, *tensors)
        if method in ("log_prob", "cdf"):
            return getattr(distribution, method)(lib.tensor(value))
        if method == "icdf":
            return distribution.icdf(lib.tensor(np.full(tuple(distribution.batch_shape), 0.3)))
        if method == "entropy":
            return distribution.entropy()
        return getattr(distribution, method) * 1.0

    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64 if family in FLOAT64_DEFAULT else previous)
    try:
        compare_with_torch(quantity, parameters, rtol=TOLERANCES.get((family, method), 1e-10))
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_shapes_match_pytorch(family):
    import chainrule
    import torch

    build, parameters, _, _ = FAMILIES[family]
    ours = build(chainrule, *[chainrule.tensor(array) for array in parameters])
    theirs = build(torch, *[torch.tensor(array) for array in parameters])
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape) and tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert tuple(ours.sample((2,)).shape) == tuple(theirs.sample((2,)).shape)
    expanded_shape = (5,) + tuple(theirs.batch_shape)
    assert tuple(ours.expand(expanded_shape).batch_shape) == tuple(theirs.expand(expanded_shape).batch_shape)
    assert tuple(ours.expand(expanded_shape).sample().shape) == tuple(theirs.expand(expanded_shape).sample().shape)
    assert ours.has_rsample == theirs.has_rsample


def test_gamma_cdf_matches_pytorch_with_gradients_in_rate():
    concentration, value = positive_values(3) * 2, positive_values(2, 3)
    compare_with_torch(
        lambda lib, rate: lib.distributions.Gamma(lib.tensor(concentration), rate).cdf(lib.tensor(value)),
        [positive_values(2, 1)],
    )


SECOND_ORDER = [("Normal", "log_prob"), ("Normal", "entropy"), ("Bernoulli_logits", "log_prob"), ("Categorical_logits", "entropy"),
                ("Gamma", "log_prob"), ("Beta", "entropy"), ("Laplace", "cdf"), ("MultivariateNormal_covariance", "log_prob"),
                ("MultivariateNormal_scale_tril", "entropy"), ("Binomial_probs", "log_prob")]


@pytest.mark.parametrize("family, method", SECOND_ORDER, ids=[f"{f}-{m}" for f, m in SECOND_ORDER])
def test_second_derivatives_match_pytorch(family, method):
    build, parameters, value, _ = FAMILIES[family]

    def quantity(lib, *tensors):
        distribution = build(lib, *tensors)
        return distribution.entropy() if method == "entropy" else getattr(distribution, method)(lib.tensor(value))

    compare_second_order_with_torch(quantity, parameters)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_float32_parameters_give_float32_results_as_in_pytorch(family):
    import chainrule
    import torch

    build, parameters, value, methods = FAMILIES[family]
    results = {}
    for lib in (chainrule, torch):
        distribution = build(lib, *[lib.tensor(np.asarray(array, dtype=np.float32)) for array in parameters])
        found = [distribution.sample().dtype]
        if "log_prob" in methods:
            found.append(distribution.log_prob(lib.tensor(np.asarray(value, dtype=np.float32))).dtype)
        if "entropy" in methods:
            found.append(distribution.entropy().dtype)
        results[lib] = [str(dtype).split(".")[-1] for dtype in found]
    assert results[chainrule] == results[torch]
