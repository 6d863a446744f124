"""The Laplace (double exponential) distribution."""
import math

from chainrule.distributions.distribution import LocationScale
from chainrule.functional import expm1, log, log1p
from chainrule.tensor import Size
from chainrule.type_info import finfo


class Laplace(LocationScale):
    """Density e^(-|x - loc| / scale) / (2 scale). ``rsample`` is loc - scale sign(u) ln(1 - |u|)
    with u ~ U(-1, 1): the inverse cdf at a uniform draw."""

    @property
    def stddev(self):
        return math.sqrt(2) * self.scale

    @property
    def variance(self):
        return 2 * self.scale ** 2

    def rsample(self, sample_shape=Size()):
        low = finfo(self.loc.dtype).eps - 1  # keeps |u| < 1, so that ln(1 - |u|) is finite
        uniform = self.loc.new_empty(self._extended_shape(sample_shape)).uniform_(low, 1.0)
        return self.loc - self.scale * uniform.sign() * log1p(-uniform.abs())

    def log_prob(self, value):
        """-ln(2 scale) - |value - loc| / scale."""
        if self._validate_args:
            self._validate_sample(value)
        return -log(2 * self.scale) - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * expm1(-(value - self.loc).abs() / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * log1p(-2 * term.abs())

    def entropy(self):
        return 1 + log(2 * self.scale)
