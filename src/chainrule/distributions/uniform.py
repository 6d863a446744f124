"""The continuous uniform distribution on [low, high)."""

from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.functional import clamp, full_like, log, rand
from chainrule.tensor import Size


class Uniform(Distribution):
    """Density 1 / (high - low) on [low, high), 0 elsewhere; ``low`` < ``high`` broadcast together.
    ``rsample`` is low + (high - low) u with u ~ U(0, 1)."""

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self._set_parameters(validate_args, low=low, high=high)

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return full_like(self.high, float("nan"))

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=Size()):
        uniform = rand(self._extended_shape(sample_shape), dtype=self.low.dtype)
        return self.low + uniform * (self.high - self.low)

    def log_prob(self, value):
        """-ln(high - low) inside [low, high), -inf outside."""
        if self._validate_args:
            self._validate_sample(value)
        inside = (self.low <= value).to(self.low.dtype) * (self.high > value).to(self.low.dtype)
        return log(inside) - log(self.high - self.low)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return clamp((value - self.low) / (self.high - self.low), min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return log(self.high - self.low)
