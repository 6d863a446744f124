"""The half-Cauchy distribution: |X| for X ~ Cauchy(0, scale)."""
import math

from chainrule.distributions.cauchy import Cauchy
from chainrule.distributions.folded import Folded
from chainrule.functional import full


class HalfCauchy(Folded):
    """|X|, X ~ Cauchy(0, scale): infinite mean and variance."""

    base_family = Cauchy

    @property
    def mean(self):
        return full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self):
        return self.base_dist.variance
