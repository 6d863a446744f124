"""The categorical distribution over {0, ..., K - 1}, and its one-hot form."""
from chainrule.distributions import constraints
from chainrule.distributions.bernoulli import probs_or_logits
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.utils import ProbsOrLogits
from chainrule.functional import arange, broadcast_tensors, clamp, full, logsumexp, multinomial
from chainrule.tensor import Size
from chainrule.type_info import finfo


class Categorical(ProbsOrLogits, Distribution):
    """P(k) = probs[..., k], for k in 0..K-1; ``probs`` (non-negative, normalised here) or
    ``logits`` (unnormalised log-probabilities) of shape batch_shape + (K,).

    Samples and values are integer indices of shape sample_shape + batch_shape.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True
    is_binary = False

    def __init__(self, probs=None, logits=None, validate_args=None):
        name, parameter = probs_or_logits(probs, logits)
        if parameter.dim() < 1:
            raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
        if name == "probs":
            self.probs = parameter / parameter.sum(-1, keepdim=True)
        else:
            self.logits = parameter - logsumexp(parameter, dim=-1, keepdim=True)
        self._num_events = parameter.shape[-1]
        super().__init__(parameter.shape[:-1], validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    def sample(self, sample_shape=Size()):
        """Indices drawn with probabilities probs: shape sample_shape + batch_shape, int64.

        As PyTorch: ``multinomial`` with replacement draws all sample_shape.numel() indices of each
        batch entry's row of probs at once (a category of probability 0 is never drawn)."""
        sample_shape = Size(sample_shape)
        rows = self.probs.detach().reshape(-1, self._num_events)
        samples = multinomial(rows, sample_shape.numel(), True).T
        return samples.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value):
        """logits[..., value] (the normalised log-probability of each index)."""
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        """-Σₖ pₖ ln pₖ (a 0 probability adds nothing)."""
        logits = clamp(self.logits, min=finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = arange(self._num_events).reshape((-1,) + (1,) * len(self.batch_shape))
        return values.expand((self._num_events,) + tuple(self.batch_shape)) if expand else values


class CategoricalEvents(Distribution):
    """A distribution built on a Categorical over K outcomes (``probs`` or ``logits`` of shape
    batch_shape + (K,)), whose events are vectors of K entries: one-hot vectors, counts, relaxed
    one-hot vectors."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        parameter_shape = self._categorical.param_shape
        super().__init__(parameter_shape[:-1], parameter_shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expanded_copy(batch_shape, ())
        new._categorical = self._categorical.expand(batch_shape)
        return new

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape
