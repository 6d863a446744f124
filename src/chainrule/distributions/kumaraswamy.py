"""The Kumaraswamy distribution on [0, 1]."""
import math

from chainrule.distributions import constraints
from chainrule.distributions.gumbel import EULER_GAMMA
from chainrule.distributions.transformed_distribution import TransformedDistribution
from chainrule.distributions.transforms import AffineTransform, PowerTransform
from chainrule.distributions.uniform import Uniform
from chainrule.distributions.utils import broadcast_all
from chainrule.functional import digamma, exp, full_like, lgamma, log, where


def kumaraswamy_moment(a, b, n):
    """E[Xⁿ] = b B(1 + n/a, b) = b Γ(1 + n/a) Γ(b) / Γ(1 + n/a + b)."""
    shifted = 1 + n / a
    return b * exp(lgamma(shifted) + lgamma(b) - lgamma(shifted + b))


class Kumaraswamy(TransformedDistribution):
    """Density a b x^(a-1) (1 - x^a)^(b-1) on [0, 1], a = ``concentration1``, b = ``concentration0``:
    (1 - u^(1/b))^(1/a) for u ~ U(0, 1), a closed-form inverse cdf (unlike Beta's)."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base = Uniform(full_like(self.concentration0, 0), full_like(self.concentration0, 1), validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration0.reciprocal()), AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base, transforms, validate_args=validate_args)

    @property
    def mean(self):
        return kumaraswamy_moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        """((a - 1) / (a b - 1))^(1/a) where a, b >= 1; nan otherwise."""
        a, b = self.concentration1, self.concentration0
        log_mode = b.reciprocal() * (-b).log1p() - (-b * a).log1p()
        return where((b < 1) | (a < 1), full_like(log_mode, math.nan), log_mode).exp()

    @property
    def variance(self):
        return kumaraswamy_moment(self.concentration1, self.concentration0, 2) - self.mean.pow(2)

    def entropy(self):
        """(1 - 1/b) + (1 - 1/a) (ψ(b + 1) + γ) - ln a - ln b."""
        a, b = self.concentration1, self.concentration0
        harmonic = digamma(b + 1) + EULER_GAMMA
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * harmonic - log(a) - log(b)
