"""KL(p ‖ q) = E_p[ln p(x) - ln q(x)] in closed form, for the pairs registered with ``register_kl``.

``kl_divergence(p, q)`` picks the most specific registered pair for the types of p and q (walking
their class hierarchies, as PyTorch does), so a subclass of Normal uses Normal's formula.
"""
import math

from chainrule.distributions.bernoulli import Bernoulli
from chainrule.distributions.beta import Beta, log_beta_function
from chainrule.distributions.categorical import Categorical
from chainrule.distributions.exponential import Exponential
from chainrule.distributions.gamma import Gamma
from chainrule.distributions.independent import Independent
from chainrule.distributions.laplace import Laplace
from chainrule.distributions.multivariate_normal import MultivariateNormal, half_log_det, mahalanobis_squared
from chainrule.distributions.normal import Normal
from chainrule.distributions.one_hot_categorical import OneHotCategorical
from chainrule.distributions.poisson import Poisson
from chainrule.distributions.uniform import Uniform
from chainrule.distributions.utils import solve_lower_triangular, sum_rightmost
from chainrule.functional import digamma, exp, full_like, lgamma, log, where, zeros_like
from chainrule.nn.functional import softplus

KL_REGISTRY = {}


def register_kl(type_p, type_q):
    """Decorator: ``@register_kl(Normal, Normal) def kl(p, q): ...`` makes it the KL of that pair."""
    if not (isinstance(type_p, type) and isinstance(type_q, type)):
        raise TypeError(f"Expected type_p and type_q to be subclasses of Distribution but got {type_p} and {type_q}")

    def register(function):
        KL_REGISTRY[type_p, type_q] = function
        return function

    return register


def kl_divergence(p, q):
    """KL(p ‖ q) for each distribution of the batch: a tensor of shape batch_shape."""
    matches = [(super_p, super_q) for super_p, super_q in KL_REGISTRY if isinstance(p, super_p) and isinstance(q, super_q)]
    if not matches:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} and q type {type(q).__name__}")
    closest = min(matches, key=lambda pair: (type(p).__mro__.index(pair[0]), type(q).__mro__.index(pair[1])))
    return KL_REGISTRY[closest](p, q)


def infinite_where(condition, value):
    """``value`` with +inf where ``condition`` holds (q gives no mass where p does)."""
    return where(condition, full_like(value, math.inf), value)


def zero_where(condition, value):
    """``value`` with 0 where ``condition`` holds (p gives no mass there)."""
    return where(condition, zeros_like(value), value)


@register_kl(Normal, Normal)
def kl_normal_normal(p, q):
    """½ (σp²/σq² + (μp - μq)²/σq² - 1 - ln(σp²/σq²))."""
    variance_ratio = (p.scale / q.scale).pow(2)
    spread = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (variance_ratio + spread - 1 - log(variance_ratio))


@register_kl(Bernoulli, Bernoulli)
def kl_bernoulli_bernoulli(p, q):
    """p ln(p/q) + (1 - p) ln((1 - p)/(1 - q)), from the logits (ln p = -ln(1 + e^-logits))."""
    ones = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    ones = zero_where(p.probs == 0, infinite_where(q.probs == 0, ones))
    zeros = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    zeros = zero_where(p.probs == 1, infinite_where(q.probs == 1, zeros))
    return ones + zeros


@register_kl(Categorical, Categorical)
def kl_categorical_categorical(p, q):
    """Σₖ pₖ (ln pₖ - ln qₖ)."""
    terms = p.probs * (p.logits - q.logits)
    terms = zero_where((p.probs == 0).expand_as(terms), infinite_where((q.probs == 0).expand_as(terms), terms))
    return terms.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def kl_onehotcategorical_onehotcategorical(p, q):
    return kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Uniform, Uniform)
def kl_uniform_uniform(p, q):
    """ln((q.high - q.low) / (p.high - p.low)), +inf where p's interval is not inside q's."""
    result = log((q.high - q.low) / (p.high - p.low))
    return infinite_where((q.low > p.low) | (q.high < p.high), result)


@register_kl(Exponential, Exponential)
def kl_exponential_exponential(p, q):
    """ln(λp/λq) + λq/λp - 1."""
    rate_ratio = q.rate / p.rate
    return -log(rate_ratio) + rate_ratio - 1


@register_kl(Laplace, Laplace)
def kl_laplace_laplace(p, q):
    """ln(bq/bp) + |μp - μq|/bq + (bp/bq) e^(-|μp - μq|/bp) - 1."""
    scale_ratio = p.scale / q.scale
    distance = (p.loc - q.loc).abs()
    return -log(scale_ratio) + distance / q.scale + scale_ratio * exp(-distance / p.scale) - 1


@register_kl(Gamma, Gamma)
def kl_gamma_gamma(p, q):
    """cq ln(rp/rq) + ln Γ(cq) - ln Γ(cp) + (cp - cq) ψ(cp) + (rq - rp) cp/rp."""
    return (
        q.concentration * log(p.rate / q.rate)
        + lgamma(q.concentration)
        - lgamma(p.concentration)
        + (p.concentration - q.concentration) * digamma(p.concentration)
        + (q.rate - p.rate) * (p.concentration / p.rate)
    )


@register_kl(Beta, Beta)
def kl_beta_beta(p, q):
    """ln B(aq, bq) - ln B(ap, bp) + (ap - aq) ψ(ap) + (bp - bq) ψ(bp) + (aq - ap + bq - bp) ψ(ap + bp)."""
    a, b = p.concentration1, p.concentration0
    a_q, b_q = q.concentration1, q.concentration0
    return (
        log_beta_function(a_q, b_q)
        - log_beta_function(a, b)
        + (a - a_q) * digamma(a)
        + (b - b_q) * digamma(b)
        + (a_q - a + b_q - b) * digamma(a + b)
    )


@register_kl(Poisson, Poisson)
def kl_poisson_poisson(p, q):
    """λp ln(λp/λq) - (λp - λq)."""
    return p.rate * (log(p.rate) - log(q.rate)) - (p.rate - q.rate)


@register_kl(MultivariateNormal, MultivariateNormal)
def kl_multivariatenormal_multivariatenormal(p, q):
    """½ (tr(Σq⁻¹ Σp) + (μq - μp)ᵀ Σq⁻¹ (μq - μp) - n) + ½ ln det Σq - ½ ln det Σp."""
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different event shapes cannot be computed")
    q_factor, p_factor = q._unbroadcasted_scale_tril, p._unbroadcasted_scale_tril
    # tr(Σq⁻¹ Σp) = ‖Lq⁻¹ Lp‖², the rows of Lpᵀ solved as vectors
    trace = (solve_lower_triangular(q_factor.unsqueeze(-3), p_factor.transpose(-1, -2)) ** 2).sum((-2, -1))
    squared = mahalanobis_squared(q_factor, q.loc - p.loc)
    result = half_log_det(q_factor) - half_log_det(p_factor) + 0.5 * (trace + squared - p.event_shape[0])
    return result.expand(p.batch_shape) if p.batch_shape else result


@register_kl(Independent, Independent)
def kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("KL between Independents with different event dimensions is not implemented")
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)
