"""The binomial distribution: successes in total_count Bernoulli trials."""
from chainrule import sampling
from chainrule.distributions import constraints
from chainrule.distributions.bernoulli import log_one_plus_exp, probs_or_logits
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.utils import ProbsOrLogits, broadcast_all
from chainrule.functional import arange, exp, lgamma
from chainrule.tensor import Size


def set_count_and_probability(distribution, total_count, probs, logits, validate_args):
    """Initialise ``distribution`` with ``total_count`` and the one of probs and logits given,
    broadcast together (the count in the probability's dtype)."""
    name, parameter = probs_or_logits(probs, logits)
    total_count, parameter = broadcast_all(total_count, parameter)
    distribution.total_count = total_count.to(parameter.dtype)
    setattr(distribution, name, parameter)
    Distribution.__init__(distribution, parameter.shape, validate_args=validate_args)


class Binomial(ProbsOrLogits, Distribution):
    """P(k) = C(n, k) pᵏ (1 - p)^(n-k), k = 0..n, n = ``total_count``, p = probs = sigmoid(logits)."""

    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        set_count_and_probability(self, total_count, probs, logits, validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        return sampling.binomial(self.total_count.detach().expand(shape), self.probs.detach().expand(shape))

    def log_prob(self, value):
        """ln C(n, k) + k · logits - n ln(1 + e^logits)."""
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        log_choose = lgamma(n + 1) - lgamma(value + 1) - lgamma(n - value + 1)
        return log_choose + value * self.logits - n * log_one_plus_exp(self.logits)

    def entropy(self):
        """-Σₖ P(k) ln P(k) over k = 0..n (one total_count for the whole batch, as PyTorch requires)."""
        log_prob = self.log_prob(self._outcomes("entropy"))
        return -(exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        values = self._outcomes("enumerate_support")
        return values.expand((-1,) + tuple(self.batch_shape)) if expand else values

    def _outcomes(self, asking):
        """0, 1, ..., n as a column (n + 1, 1, ..., 1) against the batch."""
        largest = int(self.total_count.max()) if self.total_count.numel() else 0
        if not bool((self.total_count == largest).all()):
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{asking}`.")
        return arange(1 + largest, dtype=self.probs.dtype).reshape((-1,) + (1,) * len(self.batch_shape))
