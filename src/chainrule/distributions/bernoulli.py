"""The Bernoulli distribution: 1 with probability p, else 0."""

from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.autograd import no_grad
from chainrule.distributions.utils import ProbsOrLogits
from chainrule.functional import arange, bernoulli, full_like, log1p, where
from chainrule.tensor import Size


def log_one_plus_exp(x):
    """ln(1 + eˣ) = max(x, 0) + ln(1 + e^-|x|), without overflow for large x. max(x, 0) is
    written max(x, 0)/2 + (x - min(x, 0))/2, the halves of PyTorch's ``_clamp_by_zero`` taken
    apart (so that a huge x does not overflow in their sum): its derivative at 0 is 1/2, so that
    the whole derivative there is σ(0) = 1/2 (a clamp alone gives 1)."""
    return x.clamp(min=0) / 2 + (x - x.clamp(max=0)) / 2 + log1p((-x.abs()).exp())


def probs_or_logits(probs, logits):
    """The one of ``probs`` and ``logits`` given; PyTorch's ValueError when not exactly one is."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    return ("probs", probs) if probs is not None else ("logits", logits)


class Bernoulli(ProbsOrLogits, Distribution):
    """P(1) = probs = sigmoid(logits), P(0) = 1 - probs; give ``probs`` or ``logits``.

    log_prob(x) = x · logits - ln(1 + e^logits), computed from the logits so that it stays finite
    at probabilities near 0 and 1.
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        name, parameter = probs_or_logits(probs, logits)
        self._set_parameters(validate_args, **{name: parameter})

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        """1 where probs > ½, 0 where below, nan at exactly ½ (both are modes)."""
        ones = (self.probs >= 0.5).to(self.probs.dtype)
        return where(self.probs == 0.5, full_like(ones, float("nan")), ones)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return value * self.logits - log_one_plus_exp(self.logits)

    def entropy(self):
        """-p ln p - (1 - p) ln(1 - p) = ln(1 + e^logits) - p · logits."""
        return log_one_plus_exp(self.logits) - self.probs * self.logits

    def enumerate_support(self, expand=True):
        values = arange(2, dtype=self.probs.dtype if "probs" in self.__dict__ else self.logits.dtype)
        values = values.reshape((-1,) + (1,) * len(self.batch_shape))
        return values.expand((2,) + tuple(self.batch_shape)) if expand else values
