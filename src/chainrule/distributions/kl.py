"""KL(p ‖ q) = E_p[ln p(x) - ln q(x)] in closed form, for the pairs registered with ``register_kl``.

``kl_divergence(p, q)`` picks the most specific registered pair for the types of p and q (walking
their class hierarchies, as PyTorch does), so a subclass of Normal uses Normal's formula. When the
pair closest in p's hierarchy and the pair closest in q's name different formulas, the choice is
ambiguous: PyTorch's RuntimeWarning asks for a registration of the exact pair, and p's is used.
"""
import math

from chainrule.autograd import grad
from chainrule.caller_warnings import warn_at_caller
from chainrule.distributions.bernoulli import Bernoulli
from chainrule.distributions.beta import Beta, log_beta_function
from chainrule.distributions.binomial import Binomial
from chainrule.distributions.categorical import Categorical
from chainrule.distributions.cauchy import Cauchy
from chainrule.distributions.continuous_bernoulli import ContinuousBernoulli
from chainrule.distributions.dirichlet import Dirichlet
from chainrule.distributions.exp_family import ExponentialFamily
from chainrule.distributions.exponential import Exponential
from chainrule.distributions.gamma import Gamma
from chainrule.distributions.geometric import Geometric
from chainrule.distributions.gumbel import EULER_GAMMA, Gumbel
from chainrule.distributions.half_normal import HalfNormal
from chainrule.distributions.independent import Independent
from chainrule.distributions.laplace import Laplace
from chainrule.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal, lowrank_log_det, lowrank_mahalanobis
from chainrule.distributions.multivariate_normal import MultivariateNormal, half_log_det, mahalanobis_squared
from chainrule.distributions.normal import Normal
from chainrule.distributions.one_hot_categorical import OneHotCategorical
from chainrule.distributions.pareto import Pareto
from chainrule.distributions.poisson import Poisson
from chainrule.distributions.transformed_distribution import TransformedDistribution
from chainrule.distributions.uniform import Uniform
from chainrule.distributions.utils import solve_lower_triangular, sum_rightmost
from chainrule.functional import broadcast_shapes, diag_embed, digamma, exp, full_like, lgamma, log, where, zeros_like
from chainrule.linalg import solve_triangular
from chainrule.nn.functional import softplus

KL_REGISTRY = {}
_DISPATCH_CACHE = {}  # (type of p, type of q) -> the formula chosen for them, until the next registration


def register_kl(type_p, type_q):
    """Decorator: ``@register_kl(Normal, Normal) def kl(p, q): ...`` makes it the KL of that pair."""
    if not (isinstance(type_p, type) and isinstance(type_q, type)):
        raise TypeError(f"Expected type_p and type_q to be subclasses of Distribution but got {type_p} and {type_q}")

    def register(function):
        KL_REGISTRY[type_p, type_q] = function
        _DISPATCH_CACHE.clear()  # a new pair may be closer for types already looked up
        return function

    return register


def _closest_formula(type_p, type_q):
    """The registered formula for the pair nearest to (type_p, type_q), None if no pair matches.
    Nearness is the position of each registered type in the class's method resolution order; the
    pair nearest by p first and the one nearest by q first must agree, else PyTorch's warning."""
    matches = [(super_p, super_q) for super_p, super_q in KL_REGISTRY
               if issubclass(type_p, super_p) and issubclass(type_q, super_q)]
    if not matches:
        return None
    distance_p, distance_q = type_p.__mro__.index, type_q.__mro__.index
    left_p, left_q = min(matches, key=lambda pair: (distance_p(pair[0]), distance_q(pair[1])))
    right_p, right_q = min(matches, key=lambda pair: (distance_q(pair[1]), distance_p(pair[0])))
    if KL_REGISTRY[left_p, left_q] is not KL_REGISTRY[right_p, right_q]:
        warn_at_caller(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). "
                       f"Please register_kl({left_p.__name__}, {right_q.__name__})", RuntimeWarning)
    return KL_REGISTRY[left_p, left_q]


def kl_divergence(p, q):
    """KL(p ‖ q) for each distribution of the batch: a tensor of shape batch_shape."""
    types = type(p), type(q)
    if types not in _DISPATCH_CACHE:
        _DISPATCH_CACHE[types] = _closest_formula(*types)
    formula = _DISPATCH_CACHE[types]
    if formula is None:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} and q type {type(q).__name__}")
    return formula(p, q)


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


@register_kl(Binomial, Binomial)
def kl_binomial_binomial(p, q):
    """n (p ln(p/q) + (1 - p) ln((1 - p)/(1 - q))) for equal counts; +inf where p's count is larger."""
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError("KL between Binomials where q.total_count > p.total_count is not implemented")
    result = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return infinite_where(p.total_count > q.total_count, result)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def kl_continuous_bernoulli_continuous_bernoulli(p, q):
    """E_p[x] (logits_p - logits_q) + ln C(λp) + ln(1 - λp) - ln C(λq) - ln(1 - λq)."""
    return (p.mean * (p.logits - q.logits) + p._cont_bern_log_norm() + (-p.probs).log1p()
            - q._cont_bern_log_norm() - (-q.probs).log1p())


@register_kl(Dirichlet, Dirichlet)
def kl_dirichlet_dirichlet(p, q):
    """ln Γ(α₀) - ln Γ(β₀) - Σ (ln Γ(αₖ) - ln Γ(βₖ)) + Σ (αₖ - βₖ)(ψ(αₖ) - ψ(α₀))."""
    p_total, q_total = p.concentration.sum(-1), q.concentration.sum(-1)
    log_gammas = (lgamma(p.concentration) - lgamma(q.concentration)).sum(-1)
    expected_logs = digamma(p.concentration) - digamma(p_total).unsqueeze(-1)
    return lgamma(p_total) - lgamma(q_total) - log_gammas + ((p.concentration - q.concentration) * expected_logs).sum(-1)


@register_kl(ExponentialFamily, ExponentialFamily)
def kl_expfamily_expfamily(p, q):
    """The Bregman divergence of the log normalizer: F(θq) - F(θp) - ⟨θq - θp, ∇F(θp)⟩."""
    if type(p) is not type(q):
        raise NotImplementedError("The cross KL-divergence between different exponential families cannot be computed using Bregman divergences")
    p_natural = [parameter.detach().requires_grad_() for parameter in p._natural_params]
    q_natural = q._natural_params
    p_normalizer = p._log_normalizer(*p_natural)
    gradients = grad(p_normalizer.sum(), p_natural, create_graph=True)
    result = q._log_normalizer(*q_natural) - p_normalizer
    for p_parameter, q_parameter, gradient in zip(p_natural, q_natural, gradients):
        result = result - sum_rightmost((q_parameter - p_parameter) * gradient, len(q.event_shape))
    return result


@register_kl(Gumbel, Gumbel)
def kl_gumbel_gumbel(p, q):
    """-ln(βp/βq) - μq/βq + μp/βq + γ βp/βq + e^(μq/βq - μp/βq) Γ(1 + βp/βq) - (1 + γ)."""
    scale_ratio, q_loc, p_loc = p.scale / q.scale, q.loc / q.scale, p.loc / q.scale
    return (-log(scale_ratio) - q_loc + p_loc + scale_ratio * EULER_GAMMA
            + exp(q_loc + lgamma(1 + scale_ratio) - p_loc) - (1 + EULER_GAMMA))


@register_kl(Geometric, Geometric)
def kl_geometric_geometric(p, q):
    """-H(p) - E_p[k] ln(1 - q) - ln q, with E_p[k] ln(1 - q) + ln q written from q's logits."""
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(HalfNormal, HalfNormal)
def kl_halfnormal_halfnormal(p, q):
    return kl_normal_normal(p.base_dist, q.base_dist)


@register_kl(Pareto, Pareto)
def kl_pareto_pareto(p, q):
    """αq ln(sp/sq) - ln(αq/αp) + αq/αp - 1, +inf where p starts below q."""
    alpha_ratio = q.alpha / p.alpha
    result = q.alpha * log(p.scale / q.scale) - log(alpha_ratio) + alpha_ratio - 1
    return infinite_where(p.support.lower_bound < q.support.lower_bound, result)


@register_kl(TransformedDistribution, TransformedDistribution)
def kl_transformed_transformed(p, q):
    """KL is unchanged by a bijection applied to both: the bases' KL, when the transforms agree."""
    if p.transforms != q.transforms or p.event_shape != q.event_shape:
        raise NotImplementedError
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(Cauchy, Cauchy)
def kl_cauchy_cauchy(p, q):
    """ln(((γp + γq)² + (μp - μq)²) / (4 γp γq))."""
    return log((p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)) - log(4 * p.scale * q.scale)


def trace_of_square(matrix):
    """tr(X Xᵀ) = Σ Xᵢⱼ²."""
    return matrix.pow(2).sum((-2, -1))


def woodbury_factor(q):
    """A = L_K⁻¹ Wᵀ D⁻¹ for a LowRankMultivariateNormal q: Σq⁻¹ = D⁻¹ - Aᵀ A."""
    scaled = q._unbroadcasted_cov_factor.transpose(-1, -2) / q._unbroadcasted_cov_diag.unsqueeze(-2)
    return solve_triangular(q._capacitance_tril, scaled, upper=False)


def check_same_event_shapes(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two (Low Rank) Multivariate Normals with different event shapes cannot be computed")


def lowrank_log_det_of(distribution):
    return lowrank_log_det(distribution._unbroadcasted_cov_diag, distribution._capacitance_tril)


def mahalanobis_under_lowrank(q, difference):
    return lowrank_mahalanobis(q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag, difference, q._capacitance_tril)


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def kl_lowrank_lowrank(p, q):
    """½ (ln det Σq - ln det Σp + tr(Σq⁻¹ Σp) + (μq - μp)ᵀ Σq⁻¹ (μq - μp) - n), with
    tr(Σq⁻¹ Σp) = tr((Dq⁻¹ - Aᵀ A)(Wp Wpᵀ + Dp)) expanded into four sums of squares."""
    check_same_event_shapes(p, q)
    factor = woodbury_factor(q)
    q_diag, p_diag, p_factor = q._unbroadcasted_cov_diag, p._unbroadcasted_cov_diag, p._unbroadcasted_cov_factor
    trace = ((p_diag / q_diag).sum(-1) + trace_of_square(p_factor * q_diag.rsqrt().unsqueeze(-1))
             - trace_of_square(factor * p_diag.sqrt().unsqueeze(-2)) - trace_of_square(factor @ p_factor))
    log_dets = lowrank_log_det_of(q) - lowrank_log_det_of(p)
    return 0.5 * (log_dets + trace + mahalanobis_under_lowrank(q, q.loc - p.loc) - p.event_shape[0])


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def kl_multivariatenormal_lowrank(p, q):
    """As between two multivariate normals, Σp = Lp Lpᵀ, Σq⁻¹ by Woodbury."""
    check_same_event_shapes(p, q)
    factor, p_tril = woodbury_factor(q), p._unbroadcasted_scale_tril
    trace = trace_of_square(p_tril * q._unbroadcasted_cov_diag.rsqrt().unsqueeze(-1)) - trace_of_square(factor @ p_tril)
    log_dets = lowrank_log_det_of(q) - 2 * half_log_det(p_tril)
    return 0.5 * (log_dets + trace + mahalanobis_under_lowrank(q, q.loc - p.loc) - p.event_shape[0])


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def kl_lowrank_multivariatenormal(p, q):
    """As between two multivariate normals, tr(Σq⁻¹ Σp) = ‖Lq⁻¹ Wp‖² + ‖Lq⁻¹ √Dp‖²."""
    check_same_event_shapes(p, q)
    size = p.event_shape[0]
    batch = broadcast_shapes(q._unbroadcasted_scale_tril.shape[:-2], p._unbroadcasted_cov_factor.shape[:-2])
    q_tril = q._unbroadcasted_scale_tril.expand(batch + (size, size))
    p_factor = p._unbroadcasted_cov_factor.expand(batch + (size, p.cov_factor.shape[-1]))
    p_root_diag = diag_embed(p._unbroadcasted_cov_diag.sqrt()).expand(batch + (size, size))
    trace = (trace_of_square(solve_triangular(q_tril, p_factor, upper=False))
             + trace_of_square(solve_triangular(q_tril, p_root_diag, upper=False)))
    log_dets = 2 * half_log_det(q._unbroadcasted_scale_tril) - lowrank_log_det_of(p)
    squared = mahalanobis_squared(q._unbroadcasted_scale_tril, q.loc - p.loc)
    return 0.5 * (log_dets + trace + squared - size)
