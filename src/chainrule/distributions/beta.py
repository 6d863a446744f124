"""The beta distribution on [0, 1]."""

from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.dirichlet import dirichlet_samples
from chainrule.functional import digamma, lgamma, ones_like, stack, where, xlogy
from chainrule.tensor import Size


def log_beta_function(a, b):
    """ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b)."""
    return lgamma(a) + lgamma(b) - lgamma(a + b)


class Beta(Distribution):
    """Density x^(a-1) (1 - x)^(b-1) / B(a, b) on [0, 1], a = ``concentration1``,
    b = ``concentration0``."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self._set_parameters(validate_args, concentration1=concentration1, concentration0=concentration0)

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        """The Dirichlet mode's first coordinate, as PyTorch: (a - 1)₊ / ((a - 1)₊ + (b - 1)₊), which is
        (a - 1) / (a + b - 2) where a, b > 1, 0 or 1 at the end with a pole (a < 1 or b < 1), 1 where
        both are below 1, nan where a = b = 1 (uniform: no single mode)."""
        a, b = self.concentration1, self.concentration0
        excess_a, excess_b = (a - 1).clamp(min=0.0), (b - 1).clamp(min=0.0)
        inner = excess_a / (excess_a + excess_b)
        return where((a < 1) & (b < 1), ones_like(inner), inner)

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=Size()):
        """X / (X + Y) with X ~ Gamma(a, 1), Y ~ Gamma(b, 1), drawn side by side as PyTorch's
        Dirichlet of (a, b) draws them: its gradient flows through both gammas' implicit gradients
        (PyTorch differentiates the Dirichlet's own quantile instead: the per-sample gradients
        differ, their expectations agree)."""
        shape = self._extended_shape(sample_shape)
        pairs = stack([self.concentration1.expand(shape), self.concentration0.expand(shape)], -1)
        return dirichlet_samples(pairs).select(-1, 0)

    def log_prob(self, value):
        """(a - 1) ln x + (b - 1) ln(1 - x) - ln B(a, b)."""
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return xlogy(a - 1, value) + xlogy(b - 1, 1 - value) - log_beta_function(a, b)

    def __repr__(self):
        """``Beta()``: PyTorch keeps a Beta's parameters inside a Dirichlet, so its repr lists none."""
        return f"{type(self).__name__}()"

    def entropy(self):
        """ln B(a, b) - (a - 1) ψ(a) - (b - 1) ψ(b) + (a + b - 2) ψ(a + b)."""
        a, b = self.concentration1, self.concentration0
        return log_beta_function(a, b) - (a - 1) * digamma(a) - (b - 1) * digamma(b) + (a + b - 2) * digamma(a + b)
