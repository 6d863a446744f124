"""Folded: |X| for X symmetric about 0 (HalfNormal, HalfCauchy)."""
import math

from chainrule.distributions import constraints
from chainrule.distributions.transformed_distribution import TransformedDistribution
from chainrule.distributions.transforms import AbsTransform
from chainrule.functional import full_like, where


class Folded(TransformedDistribution):
    """|X| for X ~ ``base_family(0, scale)``, symmetric about 0: twice its density on x >= 0
    (ln p = ln p_X(x) + ln 2), cdf 2 F_X(x) - 1, icdf F_X⁻¹((u + 1) / 2), entropy H(X) - ln 2."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    base_family = None

    def __init__(self, scale, validate_args=None):
        super().__init__(self.base_family(0, scale, validate_args=False), AbsTransform(), validate_args=validate_args)

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mode(self):
        return self.scale.new_zeros(self.scale.shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return where(value >= 0, log_prob, full_like(log_prob, -math.inf))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)
