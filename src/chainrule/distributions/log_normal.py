"""The log-normal distribution: e^X for X ~ N(loc, scale²)."""
from chainrule.distributions import constraints
from chainrule.distributions.normal import Normal
from chainrule.distributions.transformed_distribution import TransformedDistribution
from chainrule.distributions.transforms import ExpTransform
from chainrule.functional import exp, expm1


class LogNormal(TransformedDistribution):
    """e^X, X ~ N(loc, scale²): ln p(y) = ln p_X(ln y) - ln y."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        super().__init__(Normal(loc, scale, validate_args=validate_args), ExpTransform(), validate_args=validate_args)

    @property
    def loc(self):
        return self.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        """e^(loc + scale²/2)."""
        return exp(self.loc + self.scale.pow(2) / 2)

    @property
    def mode(self):
        """e^(loc - scale²)."""
        return exp(self.loc - self.scale.pow(2))

    @property
    def variance(self):
        """(e^(scale²) - 1) e^(2 loc + scale²)."""
        squared = self.scale.pow(2)
        return expm1(squared) * exp(2 * self.loc + squared)

    def entropy(self):
        return self.base_dist.entropy() + self.loc
