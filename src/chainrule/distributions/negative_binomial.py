"""The negative binomial distribution: successes before total_count failures."""
from chainrule import sampling
from chainrule.distributions import constraints
from chainrule.distributions.binomial import set_count_and_probability
from chainrule.distributions.distribution import Distribution
from chainrule.sampling import standard_gamma_samples
from chainrule.distributions.utils import ProbsOrLogits
from chainrule.functional import exp, lgamma, sigmoid, where, zeros_like
from chainrule.nn.functional import logsigmoid
from chainrule.tensor import Size


class NegativeBinomial(ProbsOrLogits, Distribution):
    """P(k) = Γ(k + r) / (k! Γ(r)) pᵏ (1 - p)ʳ, k = 0, 1, ...: successes of Bernoulli(p) trials
    before r = ``total_count`` failures (r may be any non-negative real)."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0), "probs": constraints.half_open_interval(0.0, 1.0), "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        set_count_and_probability(self, total_count, probs, logits, validate_args)

    @property
    def mean(self):
        """r p / (1 - p) = r e^logits."""
        return self.total_count * exp(self.logits)

    @property
    def mode(self):
        return ((self.total_count - 1) * exp(self.logits)).floor().clamp(min=0.0)

    @property
    def variance(self):
        """r p / (1 - p)²."""
        return self.mean / sigmoid(-self.logits)

    def sample(self, sample_shape=Size()):
        """Poisson(λ) with λ ~ Gamma(r, (1 - p) / p): the gamma-Poisson mixture."""
        shape = self._extended_shape(sample_shape)
        # PyTorch's Gamma(total_count, rate=e^-logits).sample(), then torch.poisson
        rates = standard_gamma_samples(self.total_count.detach().expand(shape)) / exp(-self.logits.detach()).expand(shape)
        return sampling.poisson(rates)

    def log_prob(self, value):
        """r ln(1 - p) + k ln p - ln Γ(r + k) ... written with log-sigmoids of the logits."""
        if self._validate_args:
            self._validate_sample(value)
        unnormalized = self.total_count * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        normalization = -lgamma(self.total_count + value) + lgamma(1.0 + value) + lgamma(self.total_count)
        normalization = where(self.total_count + value == 0.0, zeros_like(normalization), normalization)
        return unnormalized - normalization
