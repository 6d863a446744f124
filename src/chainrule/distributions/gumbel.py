"""The Gumbel distribution of maxima."""
import math

from chainrule.distributions import constraints
from chainrule.distributions.transformed_distribution import TransformedDistribution
from chainrule.distributions.transforms import AffineTransform, ExpTransform
from chainrule.distributions.uniform import Uniform
from chainrule.distributions.utils import broadcast_all
from chainrule.functional import full_like, log
from chainrule.type_info import finfo

EULER_GAMMA = 0.57721566490153286061


class Gumbel(TransformedDistribution):
    """Density e^(-(z + e^-z)) / scale, z = (x - loc) / scale: loc - scale ln(-ln u) for
    u ~ U(0, 1), written as the transforms -ln, negation, -ln, then loc - scale · (the result)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        info = finfo(self.loc.dtype)
        base = Uniform(full_like(self.loc, info.tiny), full_like(self.loc, 1 - info.eps), validate_args=validate_args)
        transforms = [ExpTransform().inv, AffineTransform(loc=0, scale=-1), ExpTransform().inv, AffineTransform(loc=self.loc, scale=-self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    def log_prob(self, value):
        """-(z + e^-z) - ln scale."""
        if self._validate_args:
            self._validate_sample(value)
        z = (self.loc - value) / self.scale
        return (z - z.exp()) - log(self.scale)

    @property
    def mean(self):
        return self.loc + self.scale * EULER_GAMMA

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def entropy(self):
        """ln scale + 1 + γ (Euler's constant)."""
        return log(self.scale) + (1 + EULER_GAMMA)
