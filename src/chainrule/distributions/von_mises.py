"""The von Mises distribution of angles."""
import math

from chainrule.distributions import constraints
from chainrule.distributions.distribution import SymmetricAboutLoc
from chainrule.distributions.utils import standard_noise
from chainrule.functional import cos, log
from chainrule.special import i0e, i1e
from chainrule.tensor import Size


def log_bessel_i0(x):
    """ln I₀(x) = ln(I₀(x) e^-x) + x, finite for large x."""
    return log(i0e(x)) + x


class VonMises(SymmetricAboutLoc):
    """Density e^(κ cos(x - loc)) / (2π I₀(κ)) on angles, κ = ``concentration``: the circle's
    normal distribution. Samples are angles in [-π, π); there is no rsample, as in PyTorch."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real

    def __init__(self, loc, concentration, validate_args=None):
        self._set_parameters(validate_args, loc=loc, concentration=concentration)

    @property
    def variance(self):
        """The circular variance 1 - I₁(κ)/I₀(κ)."""
        return 1 - i1e(self.concentration) / i0e(self.concentration)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        loc = self.loc.detach().expand(shape).numpy()
        concentration = self.concentration.detach().expand(shape).numpy()
        return standard_noise(lambda generator, size: generator.vonmises(loc, concentration, size), shape, self.loc.dtype)

    def log_prob(self, value):
        """κ cos(x - loc) - ln 2π - ln I₀(κ)."""
        if self._validate_args:
            self._validate_sample(value)
        return self.concentration * cos(value - self.loc) - math.log(2 * math.pi) - log_bessel_i0(self.concentration)
