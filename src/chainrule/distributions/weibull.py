"""The Weibull distribution of lifetimes."""
from chainrule.distributions import constraints
from chainrule.distributions.exponential import Exponential
from chainrule.distributions.gumbel import EULER_GAMMA
from chainrule.distributions.transformed_distribution import TransformedDistribution
from chainrule.distributions.transforms import AffineTransform, PowerTransform
from chainrule.distributions.utils import broadcast_all
from chainrule.functional import exp, lgamma, log, ones_like


class Weibull(TransformedDistribution):
    """Density (k/λ)(x/λ)^(k-1) e^(-(x/λ)ᵏ) for x >= 0, λ = ``scale``, k = ``concentration``:
    λ E^(1/k) for E ~ Exp(1)."""

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all(scale, concentration)
        base = Exponential(ones_like(self.scale), validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration.reciprocal()), AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    @property
    def mean(self):
        """λ Γ(1 + 1/k)."""
        return self.scale * exp(lgamma(1 + self.concentration.reciprocal()))

    @property
    def mode(self):
        """λ ((k - 1)/k)^(1/k)."""
        return self.scale * ((self.concentration - 1) / self.concentration) ** self.concentration.reciprocal()

    @property
    def variance(self):
        """λ² (Γ(1 + 2/k) - Γ(1 + 1/k)²)."""
        inverse = self.concentration.reciprocal()
        return self.scale.pow(2) * (exp(lgamma(1 + 2 * inverse)) - exp(2 * lgamma(1 + inverse)))

    def entropy(self):
        """γ (1 - 1/k) + ln(λ/k) + 1."""
        return EULER_GAMMA * (1 - self.concentration.reciprocal()) + log(self.scale * self.concentration.reciprocal()) + 1
