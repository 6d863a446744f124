"""The Poisson distribution of counts."""
from chainrule import sampling
from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.functional import lgamma, xlogy
from chainrule.tensor import Size


class Poisson(Distribution):
    """P(k) = rateᵏ e^(-rate) / k! for k = 0, 1, 2, ... (mean and variance both ``rate``)."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        self._set_parameters(validate_args, rate=rate)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        return sampling.poisson(self.rate.detach().expand(shape))

    def log_prob(self, value):
        """k ln rate - rate - ln k! (0 ln 0 = 0: a zero rate gives P(0) = 1)."""
        if self._validate_args:
            self._validate_sample(value)
        return xlogy(value, self.rate) - self.rate - lgamma(value + 1)
