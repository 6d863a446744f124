"""The inverse gamma distribution: 1/X for X ~ Gamma."""
import math

from chainrule.distributions import constraints
from chainrule.distributions.gamma import Gamma
from chainrule.distributions.transformed_distribution import TransformedDistribution
from chainrule.distributions.transforms import PowerTransform
from chainrule.functional import digamma, full_like, lgamma, log, where


class InverseGamma(TransformedDistribution):
    """1/X for X ~ Gamma(concentration c, rate r): density rᶜ x^(-c-1) e^(-r/x) / Γ(c)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        super().__init__(Gamma(concentration, rate, validate_args=validate_args), PowerTransform(-1.0), validate_args=validate_args)

    @property
    def concentration(self):
        return self.base_dist.concentration

    @property
    def rate(self):
        return self.base_dist.rate

    @property
    def mean(self):
        """r / (c - 1), infinite for c <= 1."""
        result = self.rate / (self.concentration - 1)
        return where(self.concentration > 1, result, full_like(result, math.inf))

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        """r² / ((c - 1)² (c - 2)), infinite for c <= 2."""
        result = self.rate.pow(2) / ((self.concentration - 1).pow(2) * (self.concentration - 2))
        return where(self.concentration > 2, result, full_like(result, math.inf))

    def entropy(self):
        """c + ln r + ln Γ(c) - (1 + c) ψ(c)."""
        c = self.concentration
        return c + log(self.rate) + lgamma(c) - (1 + c) * digamma(c)
