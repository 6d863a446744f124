"""The categorical distribution with its outcomes written as one-hot vectors."""
from chainrule.distributions import constraints
from chainrule.distributions.categorical import CategoricalEvents
from chainrule.functional import eye
from chainrule.nn.functional import one_hot
from chainrule.tensor import Size


class OneHotCategorical(CategoricalEvents):
    """Categorical(probs or logits), each outcome k written as the vector with a 1 at k:
    samples and values have shape sample_shape + batch_shape + (K,)."""

    support = constraints.one_hot
    has_enumerate_support = True

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        return one_hot(self.probs.argmax(-1), self.event_shape[-1]).to(self.probs.dtype)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        indices = self._categorical.sample(sample_shape)
        return one_hot(indices, self.event_shape[-1]).to(self.probs.dtype)

    def log_prob(self, value):
        """ln probs at the index of value's 1."""
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        size = self.event_shape[0]
        values = eye(size, dtype=self.probs.dtype).reshape((size,) + (1,) * len(self.batch_shape) + (size,))
        return values.expand((size,) + tuple(self.batch_shape) + (size,)) if expand else values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose ``rsample`` passes gradients straight through: the forward value is
    the one-hot sample, the gradient that of probs (sample + probs - probs.detach()), a biased but
    useful estimate (Bengio et al., 2013)."""

    has_rsample = True

    def rsample(self, sample_shape=Size()):
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
