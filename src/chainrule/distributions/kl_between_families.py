"""KL(p ‖ q) between distributions of different families, as PyTorch registers them: where q
gives no density on part of p's support the divergence is +inf; otherwise
KL = -H(p) - E_p[ln q(x)], the cross-entropy term written with p's moments.
"""
import math

from chainrule.distributions.bernoulli import Bernoulli
from chainrule.distributions.beta import Beta
from chainrule.distributions.binomial import Binomial
from chainrule.distributions.continuous_bernoulli import ContinuousBernoulli
from chainrule.distributions.exponential import Exponential
from chainrule.distributions.gamma import Gamma
from chainrule.distributions.gumbel import EULER_GAMMA, Gumbel
from chainrule.distributions.kl import infinite_where, register_kl
from chainrule.distributions.laplace import Laplace
from chainrule.distributions.normal import Normal
from chainrule.distributions.pareto import Pareto
from chainrule.distributions.poisson import Poisson
from chainrule.distributions.uniform import Uniform
from chainrule.functional import digamma, erf, exp, full_like, lgamma, log, xlogy


def infinite_like(value):
    return full_like(value, math.inf)


def x_log_x(value):
    """x ln x, 0 at x = 0."""
    return xlogy(value, value)


def first_parameter(distribution):
    """A tensor of the distribution's batch shape: its first parameter."""
    return getattr(distribution, next(iter(distribution.arg_constraints)))


@register_kl(Beta, Pareto)
@register_kl(ContinuousBernoulli, Pareto)
@register_kl(Exponential, Beta)
@register_kl(Exponential, ContinuousBernoulli)
@register_kl(Exponential, Pareto)
@register_kl(Exponential, Uniform)
@register_kl(Gamma, Beta)
@register_kl(Gamma, ContinuousBernoulli)
@register_kl(Gamma, Pareto)
@register_kl(Gamma, Uniform)
@register_kl(Gumbel, Beta)
@register_kl(Gumbel, ContinuousBernoulli)
@register_kl(Gumbel, Exponential)
@register_kl(Gumbel, Gamma)
@register_kl(Gumbel, Pareto)
@register_kl(Gumbel, Uniform)
@register_kl(Laplace, Beta)
@register_kl(Laplace, ContinuousBernoulli)
@register_kl(Laplace, Exponential)
@register_kl(Laplace, Gamma)
@register_kl(Laplace, Pareto)
@register_kl(Laplace, Uniform)
@register_kl(Normal, Beta)
@register_kl(Normal, ContinuousBernoulli)
@register_kl(Normal, Exponential)
@register_kl(Normal, Gamma)
@register_kl(Normal, Pareto)
@register_kl(Normal, Uniform)
@register_kl(Pareto, Beta)
@register_kl(Pareto, ContinuousBernoulli)
@register_kl(Pareto, Uniform)
@register_kl(Poisson, Bernoulli)
@register_kl(Poisson, Binomial)
def kl_infinite(p, q):
    """+inf: p puts mass where q has none (p's support is wider than q's)."""
    return infinite_like(first_parameter(p))


@register_kl(Bernoulli, Poisson)
def kl_bernoulli_poisson(p, q):
    return -p.entropy() - (p.probs * log(q.rate) - q.rate)


def cross_entropy_to_continuous_bernoulli(p, q):
    """-E_p[ln q(x)] = -E_p[x] logits_q - ln(1 - λq) - ln C(λq)."""
    return -p.mean * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()


@register_kl(Beta, ContinuousBernoulli)
def kl_beta_continuous_bernoulli(p, q):
    return -p.entropy() + cross_entropy_to_continuous_bernoulli(p, q)


@register_kl(Uniform, ContinuousBernoulli)
def kl_uniform_continuous_bernoulli(p, q):
    """+inf where p's interval reaches 0 or 1 (PyTorch's rule, though q has density there)."""
    result = -p.entropy() + cross_entropy_to_continuous_bernoulli(p, q)
    return infinite_where((p.high >= q.support.upper_bound) | (p.low <= q.support.lower_bound), result)


@register_kl(Beta, Exponential)
@register_kl(ContinuousBernoulli, Exponential)
@register_kl(Gamma, Exponential)
def kl_to_exponential(p, q):
    """-H(p) - ln rate + rate E_p[x]."""
    return -p.entropy() - log(q.rate) + q.rate * p.mean


@register_kl(Beta, Gamma)
def kl_beta_gamma(p, q):
    """-H(p) + ln Γ(c) - c ln r - (c - 1) E[ln x] + r E[x], E[ln x] = ψ(a) - ψ(a + b)."""
    expected_log = digamma(p.concentration1) - digamma(p.concentration1 + p.concentration0)
    return -p.entropy() + lgamma(q.concentration) - q.concentration * log(q.rate) - (q.concentration - 1) * expected_log + q.rate * p.mean


def cross_entropy_to_normal(q, mean, second_moment):
    """-E_p[ln N(x; μ, σ²)] = ½ ln(2πσ²) + (E[x²] - 2μ E[x] + μ²) / (2σ²)."""
    variance = q.scale.pow(2)
    return 0.5 * log(variance * 2 * math.pi) + (0.5 * second_moment - q.loc * mean + 0.5 * q.loc.pow(2)) / variance


@register_kl(Beta, Normal)
@register_kl(ContinuousBernoulli, Normal)
def kl_to_normal(p, q):
    """-H(p) + the cross-entropy to the normal, from p's mean and variance."""
    return -p.entropy() + cross_entropy_to_normal(q, p.mean, p.variance + p.mean.pow(2))


@register_kl(Beta, Uniform)
def kl_beta_uniform(p, q):
    """-H(p) + ln(high - low), +inf where [low, high] does not cover [0, 1]."""
    result = -p.entropy() + log(q.high - q.low)
    return infinite_where((q.low > p.support.lower_bound) | (q.high < p.support.upper_bound), result)


@register_kl(ContinuousBernoulli, Uniform)
def kl_continuous_bernoulli_uniform(p, q):
    """-H(p) + ln(high - low), +inf unless [low, high] strictly covers [0, 1] (PyTorch's rule)."""
    result = -p.entropy() + log(q.high - q.low)
    return infinite_where((q.low >= p.support.lower_bound) | (q.high <= p.support.upper_bound), result)


@register_kl(Exponential, Gamma)
def kl_exponential_gamma(p, q):
    """-cq ln(rq/λ) + rq/λ + ln Γ(cq) + γ cq - (1 + γ)."""
    ratio = q.rate / p.rate
    return -q.concentration * log(ratio) + ratio + lgamma(q.concentration) + q.concentration * EULER_GAMMA - (1 + EULER_GAMMA)


@register_kl(Exponential, Gumbel)
def kl_exponential_gumbel(p, q):
    product, loc_ratio = p.rate * q.scale, q.loc / q.scale
    return log(product) - 1 - loc_ratio + exp(loc_ratio) * product / (product + 1) + product.reciprocal()


@register_kl(Exponential, Normal)
def kl_exponential_normal(p, q):
    """-H(p) + cross-entropy, E[x] = 1/λ, E[x²] = 2/λ² (H(p) = 1 - ln λ)."""
    return -(1 - log(p.rate)) + cross_entropy_to_normal(q, p.rate.reciprocal(), 2 * p.rate.pow(-2))


@register_kl(Gamma, Gumbel)
def kl_gamma_gumbel(p, q):
    product, loc_ratio = p.rate * q.scale, q.loc / q.scale
    c = p.concentration
    first = (c - 1) * digamma(c) - lgamma(c) - c
    return first + log(product) + c / product + exp(loc_ratio) * (1 + product.reciprocal()).pow(-c) - loc_ratio


@register_kl(Gamma, Normal)
def kl_gamma_normal(p, q):
    """-H(p) + cross-entropy, E[x] = c/r, E[x²] = c(c + 1)/r²."""
    c, r = p.concentration, p.rate
    return -p.entropy() + cross_entropy_to_normal(q, c / r, (c.pow(2) + c) / r.pow(2))


@register_kl(Gumbel, Normal)
def kl_gumbel_normal(p, q):
    ratio = p.scale / q.scale
    return (-log(ratio / math.sqrt(2 * math.pi)) + (math.pi * ratio * 0.5).pow(2) / 3
            + ((p.loc + p.scale * EULER_GAMMA - q.loc) / q.scale).pow(2) * 0.5 - (EULER_GAMMA + 1))


@register_kl(Laplace, Normal)
def kl_laplace_normal(p, q):
    variance = q.scale.pow(2)
    ratio = p.scale.pow(2) / variance
    return -0.5 * log(2 * ratio / math.pi) + ratio + (0.5 * p.loc.pow(2) - p.loc * q.loc + 0.5 * q.loc.pow(2)) / variance - 1


@register_kl(Normal, Gumbel)
def kl_normal_gumbel(p, q):
    mean_ratio, variance_ratio, loc_ratio = p.loc / q.scale, (p.scale / q.scale).pow(2), q.loc / q.scale
    return (-0.5 * log(variance_ratio) + mean_ratio - loc_ratio + exp(-mean_ratio + 0.5 * variance_ratio + loc_ratio)
            - 0.5 * (1 + math.log(2 * math.pi)))


@register_kl(Normal, Laplace)
def kl_normal_laplace(p, q):
    """E_p|x - μq| = σ √(2/π) e^(-d²/2σ²) + d erf(d / σ√2), d = μp - μq."""
    difference = p.loc - q.loc
    absolute_mean = math.sqrt(2 / math.pi) * p.scale * exp(-0.5 * (difference / p.scale).pow(2)) + difference * erf(math.sqrt(0.5) * difference / p.scale)
    return -log(p.scale / q.scale) + absolute_mean / q.scale - 0.5 * (1 + math.log(0.5 * math.pi))


@register_kl(Pareto, Exponential)
def kl_pareto_exponential(p, q):
    product = p.scale * q.rate
    result = log(p.alpha / product) - p.alpha.reciprocal() + p.alpha * product / (p.alpha - 1) - 1
    return infinite_where(p.alpha <= 1, result)


@register_kl(Pareto, Gamma)
def kl_pareto_gamma(p, q):
    common = log(p.scale) + p.alpha.reciprocal()
    result = (log(p.alpha) - common + lgamma(q.concentration) - q.concentration * log(q.rate) + (1 - q.concentration) * common
              + q.rate * p.alpha * p.scale / (p.alpha - 1) - 1)
    return infinite_where(p.alpha <= 1, result)


@register_kl(Pareto, Normal)
def kl_pareto_normal(p, q):
    common = p.scale / (p.alpha - 1)
    result = (log(math.sqrt(2 * math.pi) * q.scale * p.alpha / p.scale) - p.alpha.reciprocal()
              + (p.alpha * common.pow(2) / (p.alpha - 2) + (p.alpha * common - q.loc).pow(2)) / (2 * q.scale.pow(2)) - 1)
    return infinite_where(p.alpha <= 2, result)


def uniform_mean_log(p):
    """E[ln x] for x ~ U(low, high): (h ln h - l ln l - (h - l)) / (h - l)."""
    width = p.high - p.low
    return (x_log_x(p.high) - x_log_x(p.low) - width) / width


@register_kl(Uniform, Beta)
def kl_uniform_beta(p, q):
    width = p.high - p.low
    mean_log_complement = (x_log_x(1 - p.high) - x_log_x(1 - p.low) + width) / width  # -E[ln(1 - x)]
    result = ((q.concentration0 - 1) * mean_log_complement + lgamma(q.concentration1) + lgamma(q.concentration0)
              - lgamma(q.concentration1 + q.concentration0) - log(width) - (q.concentration1 - 1) * uniform_mean_log(p))
    return infinite_where((p.high > q.support.upper_bound) | (p.low < q.support.lower_bound), result)


@register_kl(Uniform, Exponential)
def kl_uniform_exponential(p, q):
    result = q.rate * (p.high + p.low) / 2 - log((p.high - p.low) * q.rate)
    return infinite_where(p.low < q.support.lower_bound, result)


@register_kl(Uniform, Gamma)
def kl_uniform_gamma(p, q):
    result = (-log(p.high - p.low) + lgamma(q.concentration) - q.concentration * log(q.rate)
              + (1 - q.concentration) * uniform_mean_log(p) + q.rate * (p.high + p.low) / 2)
    return infinite_where(p.low < q.support.lower_bound, result)


@register_kl(Uniform, Gumbel)
def kl_uniform_gumbel(p, q):
    common = q.scale / (p.high - p.low)
    high, low = (p.high - q.loc) / q.scale, (p.low - q.loc) / q.scale
    return log(common) + 0.5 * (high + low) - common * (exp(-high) - exp(-low))


@register_kl(Uniform, Normal)
def kl_uniform_normal(p, q):
    width = p.high - p.low
    return log(math.sqrt(math.pi * 2) * q.scale / width) + 0.5 * (width.pow(2) / 12 + ((p.high + p.low - 2 * q.loc) / 2).pow(2)) / q.scale.pow(2)


@register_kl(Uniform, Pareto)
def kl_uniform_pareto(p, q):
    width = p.high - p.low
    result = uniform_mean_log(p) * (q.alpha + 1) - log(q.alpha * q.scale.pow(q.alpha) * width)
    return infinite_where(p.low < q.support.lower_bound, result)
