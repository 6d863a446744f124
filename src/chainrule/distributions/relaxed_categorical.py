"""The relaxed one-hot categorical (Gumbel-softmax, concrete) distribution."""
import math

from chainrule.distributions import constraints
from chainrule.distributions.categorical import Categorical
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.transformed_distribution import TransformedDistribution
from chainrule.distributions.transforms import ExpTransform
from chainrule.distributions.utils import clamp_probs, standard_noise
from chainrule.functional import broadcast_tensors, log, logsumexp, tensor
from chainrule.tensor import Size, Tensor


class ExpRelaxedCategorical(Distribution):
    """The logarithm of a RelaxedOneHotCategorical sample: log_softmax((logits + g) / τ) with g
    standard Gumbel noise, τ = ``temperature``; events of shape (K,)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        self.temperature = temperature
        parameter_shape = self._categorical.param_shape
        super().__init__(parameter_shape[:-1], parameter_shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expanded_copy(batch_shape, ())
        new._categorical = self._categorical.expand(batch_shape)
        return new

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        uniforms = clamp_probs(standard_noise(lambda generator, size: generator.random(size), shape, self.logits.dtype))
        gumbels = -((-(uniforms.log())).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - logsumexp(scores, dim=-1, keepdim=True)

    def log_prob(self, value):
        """ln Γ(K) + (K - 1) ln τ + Σₖ sₖ - K ln Σₖ e^(sₖ), s = logits - τ value (up to a shift)."""
        count = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_tensors(self.logits, value)
        temperature = self.temperature if isinstance(self.temperature, Tensor) else tensor(float(self.temperature), dtype=logits.dtype)
        log_scale = math.lgamma(count) + log(temperature) * (count - 1)
        score = logits - value * temperature
        return (score - logsumexp(score, dim=-1, keepdim=True)).sum(-1) + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """exp of an ExpRelaxedCategorical: points of the simplex that approach one-hot
    Categorical(probs) samples as ``temperature`` goes to 0, with reparameterized gradients."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs
