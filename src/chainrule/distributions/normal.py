"""The normal (Gaussian) distribution N(loc, scale²)."""
import math
from numbers import Number

from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.utils import broadcast_all, standard_noise
from chainrule.functional import erf, erfinv, log
from chainrule.tensor import Size

LOG_SQRT_TWO_PI = 0.5 * math.log(2 * math.pi)


class Normal(Distribution):
    """N(loc, scale²): density e^(-(x - loc)² / (2 scale²)) / (scale √(2π)).

    ``loc`` and ``scale`` (> 0) are numbers or tensors, broadcast together to the batch shape.
    ``rsample`` is loc + scale ε with ε ~ N(0, 1): its gradient is 1 for loc and ε for scale.
    """

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
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=Size()):
        noise = standard_noise(lambda generator, shape: generator.standard_normal(shape), self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + noise * self.scale

    def log_prob(self, value):
        """-(value - loc)² / (2 scale²) - ln scale - ½ ln 2π."""
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.variance) - log(self.scale) - LOG_SQRT_TWO_PI

    def cdf(self, value):
        """½ (1 + erf((value - loc) / (scale √2)))."""
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def icdf(self, value):
        """loc + scale √2 erf⁻¹(2 value - 1)."""
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        """½ + ½ ln 2π + ln scale."""
        return 0.5 + LOG_SQRT_TWO_PI + log(self.scale)
