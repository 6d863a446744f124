"""MixtureSameFamily: a weighted mixture of components of one family."""
from chainrule.autograd import no_grad
from chainrule.distributions import constraints
from chainrule.distributions.categorical import Categorical
from chainrule.distributions.distribution import Distribution
from chainrule.functional import log_softmax, logsumexp
from chainrule.tensor import Size


class MixtureSameFamily(Distribution):
    """p(x) = Σₖ πₖ pₖ(x): ``mixture_distribution`` a Categorical over K components (weights π),
    ``component_distribution`` a distribution whose last batch dimension is the K components.
    Samples pick a component, then draw from it (no rsample, as in PyTorch)."""

    arg_constraints = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(" The Mixture distribution needs to be an  instance of torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution needs to be an instance of torch.distributions.Distribution")
        mixture_batch, component_batch = mixture_distribution.batch_shape, component_distribution.batch_shape[:-1]
        for size1, size2 in zip(reversed(mixture_batch), reversed(component_batch)):
            if size1 != 1 and size2 != 1 and size1 != size2:
                raise ValueError(f"`mixture_distribution.batch_shape` ({mixture_batch}) is not compatible with "
                                 f"`component_distribution.batch_shape`({component_batch})")
        mixture_count, component_count = mixture_distribution.logits.shape[-1], component_distribution.batch_shape[-1]
        if mixture_count != component_count:
            raise ValueError(f"`mixture_distribution component` ({mixture_count}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({component_count})")
        self._mixture_distribution, self._component_distribution = mixture_distribution, component_distribution
        self._num_component = mixture_count
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(component_batch, component_distribution.event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = Size(batch_shape)
        new = self._same_class_copy(_instance)
        MixtureSameFamily.__init__(new, self._mixture_distribution.expand(batch_shape),
                                   self._component_distribution.expand(batch_shape + (self._num_component,)),
                                   validate_args=self._validate_args)
        return new

    @constraints.dependent_property
    def support(self):
        """The components' support, checked against every component (``MixtureSameFamilyConstraint``)."""
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    @property
    def mixture_distribution(self):
        return self._mixture_distribution

    @property
    def component_distribution(self):
        return self._component_distribution

    @property
    def mean(self):
        """Σₖ πₖ μₖ."""
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        return (probs * self.component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        """Σₖ πₖ σₖ² + Σₖ πₖ (μₖ - μ)² (the law of total variance)."""
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        within = (probs * self.component_distribution.variance).sum(-1 - self._event_ndims)
        between = (probs * (self.component_distribution.mean - self._pad(self.mean)).pow(2.0)).sum(-1 - self._event_ndims)
        return within + between

    def cdf(self, x):
        return (self.component_distribution.cdf(self._pad(x)) * self.mixture_distribution.probs).sum(-1)

    def log_prob(self, x):
        """ln Σₖ e^(ln πₖ + ln pₖ(x))."""
        if self._validate_args:
            self._validate_sample(x)
        component_log_probs = self.component_distribution.log_prob(self._pad(x))
        return logsumexp(component_log_probs + log_softmax(self.mixture_distribution.logits, dim=-1), dim=-1)

    def sample(self, sample_shape=Size()):
        with no_grad():
            gather_dim = len(sample_shape) + len(self.batch_shape)
            event_shape = self.event_shape
            chosen = self.mixture_distribution.sample(sample_shape)
            component_samples = self.component_distribution.sample(sample_shape)
            index = chosen.reshape(chosen.shape + (1,) * (len(event_shape) + 1))
            index = index.expand(chosen.shape + (1,) + event_shape)
            return component_samples.gather(gather_dim, index).squeeze(gather_dim)

    def _pad(self, x):
        """x with a dimension for the components put before its event dimensions."""
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture_dimensions(self, x):
        batch_ndims, mixture_batch_ndims = len(self.batch_shape), len(self.mixture_distribution.batch_shape)
        pad_ndims = 0 if mixture_batch_ndims == 1 else batch_ndims - mixture_batch_ndims
        return x.reshape(x.shape[:-1] + (1,) * pad_ndims + x.shape[-1:] + (1,) * self._event_ndims)

    def __repr__(self):
        return f"MixtureSameFamily(\n  {self.mixture_distribution},\n  {self.component_distribution})"
