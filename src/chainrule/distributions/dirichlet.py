"""The Dirichlet distribution over probability vectors."""
from chainrule.distributions import constraints
from chainrule.distributions.exp_family import ExponentialFamily
from chainrule.sampling import standard_gamma_samples
from chainrule.functional import digamma, lgamma, where, xlogy
from chainrule.nn.functional import one_hot
from chainrule.tensor import Size
from chainrule.type_info import finfo


def dirichlet_samples(concentration):
    """Samples of Dirichlet(concentration) along the last dimension, as PyTorch's
    ``_sample_dirichlet`` draws them: Gamma(αₖ, 1) draws normalised in float64 (small α underflow
    float32), then in concentration's dtype kept inside (0, 1): the smallest positive number, the
    largest below 1 (a float32 ratio rounds up to 1 where its log-density is infinite)."""
    draws = standard_gamma_samples(concentration.double(), in_float64=True)
    info = finfo(concentration.dtype)
    return (draws / draws.sum(-1, keepdim=True)).to(concentration.dtype).clamp(info.tiny, 1 - info.eps / 2)


class Dirichlet(ExponentialFamily):
    """Density Γ(α₀) / Πₖ Γ(αₖ) Πₖ xₖ^(αₖ-1) on the simplex, α = ``concentration`` (..., K),
    α₀ = Σₖ αₖ.

    ``rsample`` normalises K gamma draws, Gₖ / Σⱼ Gⱼ with Gₖ ~ Gamma(αₖ, 1), each with its implicit
    gradient (PyTorch differentiates the normalised sample jointly instead: the per-sample
    gradients differ, their expectations agree)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    def rsample(self, sample_shape=Size()):
        return dirichlet_samples(self.concentration.expand(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        """Σₖ (αₖ - 1) ln xₖ + ln Γ(α₀) - Σₖ ln Γ(αₖ)."""
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return xlogy(c - 1.0, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        """(αₖ - 1)₊ / Σⱼ (αⱼ - 1)₊; where every αₖ < 1, the corner of the largest αₖ."""
        excess = (self.concentration - 1).clamp(min=0.0)
        mode = excess / excess.sum(-1, keepdim=True)
        corner = one_hot(mode.argmax(-1), excess.shape[-1]).to(mode.dtype)
        return where((self.concentration < 1).all(-1, keepdim=True), corner, mode)

    @property
    def variance(self):
        """αₖ (α₀ - αₖ) / (α₀² (α₀ + 1))."""
        total = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (total - self.concentration) / (total.pow(2) * (total + 1))

    def entropy(self):
        """Σₖ ln Γ(αₖ) - ln Γ(α₀) - (K - α₀) ψ(α₀) - Σₖ (αₖ - 1) ψ(αₖ)."""
        count = self.concentration.shape[-1]
        total = self.concentration.sum(-1)
        return (lgamma(self.concentration).sum(-1) - lgamma(total) - (count - total) * digamma(total)
                - ((self.concentration - 1.0) * digamma(self.concentration)).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return lgamma(x).sum(-1) - lgamma(x.sum(-1))
