"""The von Mises distribution of angles."""
import math

from chainrule import dtypes
from chainrule.autograd import no_grad
from chainrule.distributions import constraints
from chainrule.distributions.distribution import SymmetricAboutLoc
from chainrule.functional import cos, log, rand, where, zeros
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
        """Best and Fisher's (1979) rejection sampler, PyTorch's, in float64: with z = cos(π u₁)
        and f = (1 + r z) / (r + z) for the proposal's r, the angle ±acos f (sign by u₃) is
        accepted when c(2 - c) > u₂ or ln(c / u₂) + 1 >= c, c = κ(r - f); every round draws
        rand(3, *shape) and takes each entry that round accepts, until all have been accepted."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            kappa = self.concentration.to(dtypes.float64)
            tau = 1 + (1 + 4 * kappa ** 2).sqrt()
            rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
            proposal_r = where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))  # Taylor series near κ = 0
            angle = zeros(shape, dtype=dtypes.float64)
            done = zeros(shape, dtype=dtypes.bool_)
            while not bool(done.all()):
                u1, u2, u3 = rand((3, *shape), dtype=dtypes.float64).unbind()
                z = cos(math.pi * u1)
                f = (1 + proposal_r * z) / (proposal_r + z)
                c = kappa * (proposal_r - f)
                accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
                angle = where(accept, (u3 - 0.5).sign() * f.acos(), angle)
                done = done | accept
            return ((angle + math.pi + self.loc.to(dtypes.float64)) % (2 * math.pi) - math.pi).to(self.loc.dtype)

    def log_prob(self, value):
        """κ cos(x - loc) - ln 2π - ln I₀(κ)."""
        if self._validate_args:
            self._validate_sample(value)
        return self.concentration * cos(value - self.loc) - math.log(2 * math.pi) - log_bessel_i0(self.concentration)
