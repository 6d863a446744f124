"""``chainrule.distributions``, as ``torch.distributions``: probability distributions with
sampling, log-densities, entropies and KL divergences whose gradients flow to their parameters.

One file per family, as PyTorch's; ``kl_divergence`` and ``register_kl`` in ``kl.py``. Samples
come from chainrule's generator: ``chainrule.manual_seed`` makes them reproducible (the numbers
differ from PyTorch's).
"""
from chainrule.distributions import constraints
from chainrule.distributions.bernoulli import Bernoulli
from chainrule.distributions.beta import Beta
from chainrule.distributions.binomial import Binomial
from chainrule.distributions.categorical import Categorical
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.exponential import Exponential
from chainrule.distributions.gamma import Gamma
from chainrule.distributions.independent import Independent
from chainrule.distributions.kl import kl_divergence, register_kl
from chainrule.distributions.laplace import Laplace
from chainrule.distributions.multivariate_normal import MultivariateNormal
from chainrule.distributions.normal import Normal
from chainrule.distributions.one_hot_categorical import OneHotCategorical
from chainrule.distributions.poisson import Poisson
from chainrule.distributions.uniform import Uniform

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Distribution", "Exponential", "Gamma", "Independent",
    "Laplace", "MultivariateNormal", "Normal", "OneHotCategorical", "Poisson", "Uniform", "constraints",
    "kl_divergence", "register_kl",
]
