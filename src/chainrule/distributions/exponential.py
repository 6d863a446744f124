"""The exponential distribution of waiting times."""

from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.functional import exp, log, log1p, zeros_like
from chainrule.tensor import Size


class Exponential(Distribution):
    """Density rate · e^(-rate x) for x >= 0 (mean 1 / rate). ``rsample`` is ε / rate with
    ε ~ Exp(1)."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        self._set_parameters(validate_args, rate=rate)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=Size()):
        noise = self.rate.new_empty(self._extended_shape(sample_shape)).exponential_()
        return noise / self.rate

    def log_prob(self, value):
        """ln rate - rate · value."""
        if self._validate_args:
            self._validate_sample(value)
        return log(self.rate) - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - exp(-self.rate * value)

    def icdf(self, value):
        return -log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - log(self.rate)
