"""The relaxed (concrete) Bernoulli distribution: a differentiable stand-in for Bernoulli samples."""
import math

from chainrule.distributions import constraints
from chainrule.distributions.bernoulli import probs_or_logits
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.transformed_distribution import TransformedDistribution
from chainrule.distributions.transforms import SigmoidTransform
from chainrule.distributions.utils import ProbsOrLogits, broadcast_all, clamp_probs
from chainrule.functional import log, rand
from chainrule.nn.functional import softplus
from chainrule.tensor import Size, Tensor


def log_of(temperature):
    """ln τ, for a number or a tensor."""
    return log(temperature) if isinstance(temperature, Tensor) else math.log(temperature)


class LogitRelaxedBernoulli(ProbsOrLogits, Distribution):
    """The logit of a RelaxedBernoulli sample: (logits + ln u - ln(1 - u)) / τ for u ~ U(0, 1)
    (logistic noise), τ = ``temperature``; density τ e^(-d) / (1 + e^(-d))², d = τx - logits."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.temperature = temperature
        name, parameter = probs_or_logits(probs, logits)
        self._set_parameters(validate_args, **{name: parameter})

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(shape))
        uniforms = clamp_probs(rand(shape, dtype=probs.dtype))
        return (uniforms.log() - (-uniforms).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def log_prob(self, value):
        """ln τ + (logits - τx) - 2 ln(1 + e^(logits - τx))."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        difference = logits - value * self.temperature
        return log_of(self.temperature) + difference - 2 * softplus(difference)


class RelaxedFromBase(TransformedDistribution):
    """A relaxed distribution made by transforming its base: temperature, probs and logits are the base's."""

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs


class RelaxedBernoulli(RelaxedFromBase):
    """sigmoid of a LogitRelaxedBernoulli: values in (0, 1) that approach Bernoulli(probs) samples
    as ``temperature`` goes to 0, with reparameterized gradients (Maddison et al., Jang et al., 2017)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)
