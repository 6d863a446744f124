"""The Fisher-Snedecor F distribution: a ratio of scaled chi-squares."""
import math

from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.sampling import standard_gamma_samples
from chainrule.functional import full_like, lgamma, log, where
from chainrule.tensor import Size
from chainrule.type_info import finfo


class FisherSnedecor(Distribution):
    """(U₁/d₁) / (U₂/d₂) for U₁ ~ χ²(d₁ = ``df1``), U₂ ~ χ²(d₂ = ``df2``). ``rsample`` draws both
    as Gamma(d/2, d/2) samples with their implicit gradients."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self._set_parameters(validate_args, df1=df1, df2=df2)

    @property
    def mean(self):
        """d₂ / (d₂ - 2) for d₂ > 2, nan otherwise."""
        result = self.df2 / (self.df2 - 2)
        return where(self.df2 > 2, result, full_like(result, math.nan))

    @property
    def mode(self):
        """(d₁ - 2)/d₁ · d₂/(d₂ + 2) for d₁ > 2, nan otherwise."""
        result = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return where(self.df1 > 2, result, full_like(result, math.nan))

    @property
    def variance(self):
        """2 d₂² (d₁ + d₂ - 2) / (d₁ (d₂ - 2)² (d₂ - 4)) for d₂ > 4, nan otherwise."""
        result = 2 * self.df2.pow(2) * (self.df1 + self.df2 - 2) / (self.df1 * (self.df2 - 2).pow(2) * (self.df2 - 4))
        return where(self.df2 > 4, result, full_like(result, math.nan))

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        df1, df2 = self.df1.expand(shape), self.df2.expand(shape)
        numerator = standard_gamma_samples(0.5 * df1) / (0.5 * df1)
        denominator = standard_gamma_samples(0.5 * df2) / (0.5 * df2)
        tiny = finfo(numerator.dtype).tiny
        return (numerator / denominator).clamp(min=tiny)

    def log_prob(self, value):
        """ln Γ((d₁+d₂)/2) - ln Γ(d₁/2) - ln Γ(d₂/2) + (d₁/2) ln(d₁/d₂) + (d₁/2 - 1) ln x
        - ((d₁+d₂)/2) ln(1 + d₁x/d₂)."""
        if self._validate_args:
            self._validate_sample(value)
        half1, half2, ratio = self.df1 * 0.5, self.df2 * 0.5, self.df1 / self.df2
        normalizer = lgamma(half1 + half2) - lgamma(half1) - lgamma(half2)
        return normalizer + half1 * log(ratio) + (half1 - 1) * log(value) - (half1 + half2) * (ratio * value).log1p()
