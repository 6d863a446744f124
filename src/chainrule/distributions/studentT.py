"""Student's t distribution."""
import math

from chainrule.distributions import constraints
from chainrule.distributions.chi2 import Chi2
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.utils import broadcast_all, standard_normal
from chainrule.functional import digamma, full_like, lgamma, log, where
from chainrule.tensor import Size


class StudentT(Distribution):
    """Density Γ((ν+1)/2) / (Γ(ν/2) √(νπ) scale) (1 + z²/ν)^(-(ν+1)/2), z = (x - loc) / scale,
    ν = ``df``. ``rsample`` is loc + scale · X / √(V/ν) for X ~ N(0, 1), V ~ χ²(ν) (the χ²'s
    implicit gradient carries ν's)."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)  # first, as in PyTorch: a bad df is reported by the Chi2
        self._set_parameters(validate_args, df=df, loc=loc, scale=scale)

    def expand(self, batch_shape, _instance=None):
        new = self._expanded_copy(batch_shape, tuple(self.arg_constraints))
        new._chi2 = self._chi2.expand(batch_shape)
        return new

    @property
    def mean(self):
        """loc for ν > 1, nan otherwise."""
        return where(self.df > 1, self.loc, full_like(self.loc, math.nan))

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """scale² ν/(ν - 2) for ν > 2, inf for 1 < ν <= 2, nan for ν <= 1."""
        finite = self.scale.pow(2) * self.df / (self.df - 2)
        result = where(self.df > 2, finite, full_like(finite, math.inf))
        return where(self.df <= 1, full_like(finite, math.nan), result)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        normal = standard_normal(shape, self.df.dtype)
        chi2 = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * (normal * (chi2 / self.df).rsqrt())

    def log_prob(self, value):
        """-(ν+1)/2 ln(1 + z²/ν) - ln scale - ½ ln(νπ) - ln Γ(ν/2) + ln Γ((ν+1)/2)."""
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        normalizer = log(self.scale) + 0.5 * log(self.df) + 0.5 * math.log(math.pi) + lgamma(0.5 * self.df) - lgamma(0.5 * (self.df + 1.0))
        return -0.5 * (self.df + 1.0) * (z.pow(2) / self.df).log1p() - normalizer

    def entropy(self):
        """ln scale + (ν+1)/2 (ψ((ν+1)/2) - ψ(ν/2)) + ½ ln ν + ln B(ν/2, ½)."""
        half, half_next = 0.5 * self.df, 0.5 * (self.df + 1)
        log_beta = lgamma(half) + math.lgamma(0.5) - lgamma(half_next)
        return log(self.scale) + half_next * (digamma(half_next) - digamma(half)) + 0.5 * log(self.df) + log_beta
