"""The normal (Gaussian) distribution N(loc, scale²)."""
import math

from chainrule.autograd import no_grad
from chainrule.distributions.distribution import LocationScale
from chainrule.distributions.utils import standard_normal
from chainrule.functional import erf, erfinv, log, normal
from chainrule.tensor import Size

LOG_SQRT_TWO_PI = 0.5 * math.log(2 * math.pi)


class Normal(LocationScale):
    """N(loc, scale²): density e^(-(x - loc)² / (2 scale²)) / (scale √(2π)).

    ``loc`` and ``scale`` (> 0) are numbers or tensors, broadcast together to the batch shape.
    ``rsample`` is loc + scale ε with ε ~ N(0, 1): its gradient is 1 for loc and ε for scale.
    ``sample`` is ``chainrule.normal(loc, scale)``; both draw PyTorch's numbers after the same seed.
    """

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return normal(self.loc.expand(shape), self.scale.expand(shape))

    def rsample(self, sample_shape=Size()):
        noise = standard_normal(self._extended_shape(sample_shape), self.loc.dtype)
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
