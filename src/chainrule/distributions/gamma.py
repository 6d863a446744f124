"""The gamma distribution."""

from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.functional import as_tensor, digamma, lgamma, log, xlogy
from chainrule.sampling import standard_gamma_samples
from chainrule.special import gammainc
from chainrule.tensor import Size


class Gamma(Distribution):
    """Density rateᶜ x^(c-1) e^(-rate x) / Γ(c) for x >= 0, c = ``concentration`` (shape) > 0.

    ``rsample`` is z / rate with z ~ Gamma(c, 1), and z's gradient in c the implicit one: z moves
    with c so as to stay at the same quantile, dz/dc = -(∂P/∂c)(c, z) / p(z; c), P the cdf.
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self._set_parameters(validate_args, concentration=concentration, rate=rate)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        concentration = self.concentration.expand(shape)
        return standard_gamma_samples(concentration) / self.rate.expand(shape)

    def log_prob(self, value):
        """c ln rate + (c - 1) ln value - rate · value - ln Γ(c) (a number as value too, as PyTorch's)."""
        value = as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return xlogy(c, self.rate) + xlogy(c - 1, value) - self.rate * value - lgamma(c)

    def cdf(self, value):
        """P(c, rate · value), the regularized lower incomplete gamma function (differentiable in
        rate and value; PyTorch has no derivative in the concentration either)."""
        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self):
        """c - ln rate + ln Γ(c) + (1 - c) ψ(c)."""
        c = self.concentration
        return c - log(self.rate) + lgamma(c) + (1.0 - c) * digamma(c)
