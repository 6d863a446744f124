"""The geometric distribution: failures before the first success."""
from chainrule.autograd.function import checked
from chainrule.distributions import constraints
from chainrule.distributions.bernoulli import probs_or_logits
from chainrule.distributions.distribution import Distribution
from chainrule.autograd import no_grad
from chainrule.distributions.utils import ProbsOrLogits
from chainrule.functional import where, zeros_like
from chainrule.nn.functional import binary_cross_entropy_with_logits
from chainrule.tensor import Size
from chainrule.type_info import finfo


class Geometric(ProbsOrLogits, Distribution):
    """P(k) = (1 - p)ᵏ p, k = 0, 1, 2, ...: the number of failures before the first success of
    Bernoulli(p) trials; p = ``probs`` = sigmoid(``logits``), 0 < p <= 1."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        name, parameter = probs_or_logits(probs, logits)
        self._set_parameters(validate_args, **{name: parameter})
        if self._validate_args and name == "probs":
            checked(self.probs > 0, self._not_positive, self.probs)

    def _not_positive(self, probs):
        return ValueError(
            f"Expected parameter probs ({type(probs).__name__} of shape {tuple(probs.shape)}) of distribution "
            f"{self!r} to be positive but found invalid values:\n{probs}"
        )

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=Size()):
        """⌊ln u / ln(1 - p)⌋ for u ~ U(tiny, 1): the inverse cdf."""
        shape = self._extended_shape(sample_shape)
        tiny = finfo(self.probs.dtype).tiny
        with no_grad():
            uniform = self.probs.new_empty(shape).uniform_(tiny, 1.0)
            return (uniform.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        """k ln(1 - p) + ln p (with 0 · ln 0 = 0 at p = 1, k = 0)."""
        if self._validate_args:
            self._validate_sample(value)
        probs = where((self.probs == 1) & (value == 0), zeros_like(self.probs), self.probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        """(-(1 - p) ln(1 - p) - p ln p) / p: a Bernoulli's entropy per expected trial."""
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none") / self.probs
