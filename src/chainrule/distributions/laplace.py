"""The Laplace (double exponential) distribution."""
import math
from numbers import Number

from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.utils import broadcast_all, standard_noise
from chainrule.functional import expm1, log, log1p
from chainrule.tensor import Size
from chainrule.type_info import finfo


class Laplace(Distribution):
    """Density e^(-|x - loc| / scale) / (2 scale). ``rsample`` is loc - scale sign(u) ln(1 - |u|)
    with u ~ U(-1, 1): the inverse cdf at a uniform draw."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        batch_shape = Size() if isinstance(loc, Number) and isinstance(scale, Number) else self.loc.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded_copy(batch_shape, ("loc", "scale"))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return math.sqrt(2) * self.scale

    @property
    def variance(self):
        return 2 * self.scale ** 2

    def rsample(self, sample_shape=Size()):
        low = finfo(self.loc.dtype).eps - 1  # keeps |u| < 1, so that ln(1 - |u|) is finite
        uniform = standard_noise(lambda generator, size: generator.uniform(low, 1.0, size), self._extended_shape(sample_shape), self.loc.dtype)
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
