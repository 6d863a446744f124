"""The multinomial distribution: counts of each category in total_count draws."""
from chainrule.distributions import constraints
from chainrule.distributions.binomial import Binomial
from chainrule.distributions.categorical import CategoricalEvents
from chainrule.functional import broadcast_tensors, exp, lgamma, tensor, where, zeros_like
from chainrule.tensor import Size


class Multinomial(CategoricalEvents):
    """P(x) = n! / Πₖ xₖ! Πₖ pₖ^xₖ over count vectors x summing to n = ``total_count`` (an int), with
    ``probs`` (normalised here) or ``logits`` of shape batch_shape + (K,)."""

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        super().__init__(probs, logits, validate_args=validate_args)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape)
        new._binomial = Binomial(total_count=self.total_count, probs=new.probs)
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        """Counts of total_count categorical draws per event."""
        sample_shape = Size(sample_shape)
        draws = self._categorical.sample(Size((self.total_count,)) + sample_shape)
        draws = draws.permute(*range(1, draws.dim()), 0)
        counts = zeros_like(self.probs.detach()).expand(self._extended_shape(sample_shape)).contiguous()
        return counts.scatter_add(-1, draws, draws.new_ones(draws.shape).to(counts.dtype))

    def entropy(self):
        """n H(categorical) - ln n! + Σₖ E[ln xₖ!], each xₖ ~ Binomial(n, pₖ)."""
        count = tensor(float(self.total_count), dtype=self.probs.dtype)
        outcomes = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = exp(self._binomial.log_prob(outcomes))
        return count * self._categorical.entropy() - lgamma(count + 1) + (binomial_probs * lgamma(outcomes + 1)).sum((0, -1))

    def log_prob(self, value):
        """ln n! - Σₖ ln xₖ! + Σₖ xₖ ln pₖ (a category of probability 0 with count 0 adds nothing)."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_tensors(self.logits, value)
        logits = where((value == 0) & (logits == -float("inf")), zeros_like(logits), logits)
        return lgamma(value.sum(-1) + 1) - lgamma(value + 1).sum(-1) + (logits * value).sum(-1)
