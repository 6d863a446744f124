"""The generalized Pareto distribution of exceedances over a threshold."""
import math

from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.functional import broadcast_to, expm1, full_like, log, log1p, ones_like, rand, where
from chainrule.tensor import Size


class GeneralizedPareto(Distribution):
    """Survival function (1 + ξ z)^(-1/ξ), z = (x - loc) / scale, ξ = ``concentration`` (e^(-z) at
    ξ = 0, the exponential); support [loc, loc - scale/ξ] for ξ < 0, [loc, ∞) otherwise.
    ``rsample`` is the inverse cdf at a uniform draw."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self._set_parameters(validate_args, loc=loc, scale=scale, concentration=concentration)

    def _safe_concentration(self):
        """Where ξ = 0 (within isclose's tolerance), whose formulas divide by ξ: ξ replaced by 1
        there (those entries take the ξ = 0 branch), and the mask."""
        at_zero = self.concentration.abs() <= 1e-8
        return at_zero, where(at_zero, ones_like(self.concentration), self.concentration)

    def rsample(self, sample_shape=Size()):
        uniform = rand(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.icdf(uniform)

    def log_prob(self, value):
        """-ln scale - (1 + 1/ξ) ln(1 + ξ z) (-ln scale - z at ξ = 0)."""
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        at_zero, safe = self._safe_concentration()
        power = 1 / safe + ones_like(z)
        nonzero = where(power == 0, power, power * log1p(safe * z))
        return -log(self.scale) - where(at_zero, z, nonzero)

    def log_survival_function(self, value):
        """ln P(X > x) = -ln(1 + ξ z) / ξ (-z at ξ = 0)."""
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        at_zero, safe = self._safe_concentration()
        return where(at_zero, -z, -log1p(safe * z) / safe)

    def log_cdf(self, value):
        return log1p(-self.log_survival_function(value).exp())

    def cdf(self, value):
        return self.log_cdf(value).exp()

    def icdf(self, value):
        """loc + scale ((1 - u)^(-ξ) - 1) / ξ (loc - scale ln(1 - u) at ξ = 0)."""
        at_zero, safe = self._safe_concentration()
        log_survival = log1p(-value)
        return where(at_zero, self.loc - self.scale * log_survival, self.loc + self.scale / safe * expm1(-safe * log_survival))

    @property
    def mean(self):
        """loc + scale / (1 - ξ) for ξ < 1, nan otherwise."""
        valid = self.concentration < 1
        result = self.loc + self.scale / (1 - where(valid, self.concentration, full_like(self.concentration, 0.5)))
        return where(valid, result, full_like(result, math.nan))

    @property
    def variance(self):
        """scale² / ((1 - ξ)² (1 - 2ξ)) for ξ < ½, nan otherwise."""
        valid = self.concentration < 0.5
        safe = where(valid, self.concentration, full_like(self.concentration, 0.25))
        result = self.scale.pow(2) / ((1 - safe).pow(2) * (1 - 2 * safe))
        return where(valid, result, full_like(result, math.nan))

    @property
    def mode(self):
        return self.loc

    def entropy(self):
        """ln scale + ξ + 1."""
        return broadcast_to(log(self.scale) + self.concentration + 1, self.batch_shape)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        upper = where(self.concentration < 0, self.loc - self.scale / self.concentration, full_like(self.loc, math.inf))
        return constraints.interval(self.loc, upper)
