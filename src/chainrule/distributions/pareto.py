"""The Pareto (type I) distribution."""
from chainrule.distributions import constraints
from chainrule.distributions.exponential import Exponential
from chainrule.distributions.transformed_distribution import TransformedDistribution
from chainrule.distributions.transforms import AffineTransform, ExpTransform
from chainrule.distributions.utils import broadcast_all
from chainrule.functional import log


class Pareto(TransformedDistribution):
    """Density α scaleᵅ / x^(α+1) for x >= scale, α = ``alpha``: scale · e^E for E ~ Exp(α)."""

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    has_rsample = True

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = broadcast_all(scale, alpha)
        base = Exponential(self.alpha, validate_args=validate_args)
        super().__init__(base, [ExpTransform(), AffineTransform(loc=0, scale=self.scale)], validate_args=validate_args)

    @property
    def mean(self):
        """α scale / (α - 1), infinite for α <= 1."""
        alpha = self.alpha.clamp(min=1)
        return alpha * self.scale / (alpha - 1)

    @property
    def mode(self):
        return self.scale

    @property
    def variance(self):
        """scale² α / ((α - 1)² (α - 2)), infinite for α <= 2."""
        alpha = self.alpha.clamp(min=2)
        return self.scale.pow(2) * alpha / ((alpha - 1).pow(2) * (alpha - 2))

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.greater_than_eq(self.scale)

    def entropy(self):
        """ln(scale / α) + 1/α + 1."""
        return log(self.scale / self.alpha) + (1 + self.alpha.reciprocal())
