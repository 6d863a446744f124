"""The relaxed one-hot categorical (Gumbel-softmax, concrete) distribution."""
import math

from chainrule.distributions import constraints
from chainrule.distributions.categorical import CategoricalEvents
from chainrule.distributions.relaxed_bernoulli import RelaxedFromBase
from chainrule.distributions.transforms import ExpTransform
from chainrule.distributions.utils import clamp_probs
from chainrule.functional import broadcast_tensors, log, logsumexp, rand, tensor
from chainrule.tensor import Size, Tensor


class ExpRelaxedCategorical(CategoricalEvents):
    """The logarithm of a RelaxedOneHotCategorical sample: log_softmax((logits + g) / τ) with g
    standard Gumbel noise, τ = ``temperature``; events of shape (K,)."""

    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.temperature = temperature
        super().__init__(probs, logits, validate_args=validate_args)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        uniforms = clamp_probs(rand(shape, dtype=self.logits.dtype))
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


class RelaxedOneHotCategorical(RelaxedFromBase):
    """exp of an ExpRelaxedCategorical: points of the simplex that approach one-hot
    Categorical(probs) samples as ``temperature`` goes to 0, with reparameterized gradients."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)
