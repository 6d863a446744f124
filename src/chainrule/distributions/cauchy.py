"""The Cauchy (Lorentz) distribution."""
import math

from chainrule.distributions.distribution import LocationScale
from chainrule.functional import atan, full, log, tan
from chainrule.tensor import Size


class Cauchy(LocationScale):
    """Density 1 / (π scale (1 + z²)), z = (x - loc) / scale: the ratio of two independent standard
    normals, stretched and shifted. Its tails are so heavy that it has no mean and no variance (nan
    and inf, as PyTorch gives). ``rsample`` is loc + scale ε with ε standard Cauchy."""

    @property
    def mean(self):
        return full(self._extended_shape(), math.nan, dtype=self.loc.dtype)

    @property
    def variance(self):
        return full(self._extended_shape(), math.inf, dtype=self.loc.dtype)

    def rsample(self, sample_shape=Size()):
        noise = self.loc.new_empty(self._extended_shape(sample_shape)).cauchy_()
        return self.loc + noise * self.scale

    def log_prob(self, value):
        """-ln π - ln scale - ln(1 + z²)."""
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - log(self.scale) - ((value - self.loc) / self.scale).pow(2).log1p()

    def cdf(self, value):
        """½ + atan(z) / π."""
        if self._validate_args:
            self._validate_sample(value)
        return atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        """loc + scale tan(π (value - ½))."""
        return tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        """ln(4π scale)."""
        return math.log(4 * math.pi) + log(self.scale)
