"""``chainrule.distributions``, as ``torch.distributions``: probability distributions with
sampling, log-densities, entropies and KL divergences whose gradients flow to their parameters.

One file per family, as PyTorch's; ``kl_divergence`` and ``register_kl`` in ``kl.py``; invertible
maps in ``transforms.py`` and the map onto each constraint in ``constraint_registry.py``.

Samples come from chainrule's generator, so ``chainrule.manual_seed`` makes them reproducible.
The families PyTorch samples with its generator's primitives sample here as PyTorch does, with
the same calls in the same order, and so draw PyTorch's numbers after the same seed: Normal,
LogNormal, HalfNormal, LogisticNormal, MultivariateNormal, LowRankMultivariateNormal (``normal``,
``normal_``), Uniform, Gumbel, Kumaraswamy, RelaxedBernoulli, RelaxedOneHotCategorical,
ContinuousBernoulli, GeneralizedPareto, VonMises (``rand``), Laplace, Geometric (``uniform_``),
Exponential, Weibull, Pareto (``exponential_``), Cauchy, HalfCauchy (``cauchy_``), Bernoulli
(``bernoulli``), Categorical, OneHotCategorical, Multinomial, MixtureSameFamily (``multinomial``),
and Independent and TransformedDistribution of these. (Values computed from the draws through
exp, log... can differ from PyTorch's in the last bit, where its float32 functions round
differently.) Gamma, Chi2, Beta, Dirichlet, Poisson, Binomial, NegativeBinomial, StudentT's and
FisherSnedecor's chi-squares, InverseGamma, Wishart and LKJCholesky's beta use PyTorch's own
sampling algorithms there; here they draw from NumPy's samplers, seeded from the same stream:
reproducible, but other numbers than PyTorch's.
"""
from chainrule.distributions import constraints, kl_between_families, transforms  # noqa: F401  kl_between_families registers its pairs
from chainrule.distributions.bernoulli import Bernoulli
from chainrule.distributions.beta import Beta
from chainrule.distributions.binomial import Binomial
from chainrule.distributions.categorical import Categorical
from chainrule.distributions.cauchy import Cauchy
from chainrule.distributions.chi2 import Chi2
from chainrule.distributions.constraint_registry import biject_to, transform_to
from chainrule.distributions.continuous_bernoulli import ContinuousBernoulli
from chainrule.distributions.dirichlet import Dirichlet
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.exp_family import ExponentialFamily
from chainrule.distributions.exponential import Exponential
from chainrule.distributions.fishersnedecor import FisherSnedecor
from chainrule.distributions.gamma import Gamma
from chainrule.distributions.generalized_pareto import GeneralizedPareto
from chainrule.distributions.geometric import Geometric
from chainrule.distributions.gumbel import Gumbel
from chainrule.distributions.half_cauchy import HalfCauchy
from chainrule.distributions.half_normal import HalfNormal
from chainrule.distributions.independent import Independent
from chainrule.distributions.inverse_gamma import InverseGamma
from chainrule.distributions.kl import kl_divergence, register_kl
from chainrule.distributions.kumaraswamy import Kumaraswamy
from chainrule.distributions.laplace import Laplace
from chainrule.distributions.lkj_cholesky import LKJCholesky
from chainrule.distributions.log_normal import LogNormal
from chainrule.distributions.logistic_normal import LogisticNormal
from chainrule.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal
from chainrule.distributions.mixture_same_family import MixtureSameFamily
from chainrule.distributions.multinomial import Multinomial
from chainrule.distributions.multivariate_normal import MultivariateNormal
from chainrule.distributions.negative_binomial import NegativeBinomial
from chainrule.distributions.normal import Normal
from chainrule.distributions.one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from chainrule.distributions.pareto import Pareto
from chainrule.distributions.poisson import Poisson
from chainrule.distributions.relaxed_bernoulli import RelaxedBernoulli
from chainrule.distributions.relaxed_categorical import RelaxedOneHotCategorical
from chainrule.distributions.studentT import StudentT
from chainrule.distributions.transformed_distribution import TransformedDistribution
from chainrule.distributions.transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from chainrule.distributions.uniform import Uniform
from chainrule.distributions.von_mises import VonMises
from chainrule.distributions.weibull import Weibull
from chainrule.distributions.wishart import Wishart

__all__ = [
    "AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "CatTransform", "Categorical", "Cauchy", "Chi2",
    "ComposeTransform", "ContinuousBernoulli", "CorrCholeskyTransform", "CumulativeDistributionTransform", "Dirichlet",
    "Distribution", "ExpTransform", "Exponential", "ExponentialFamily", "FisherSnedecor", "Gamma", "GeneralizedPareto",
    "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Independent", "IndependentTransform", "InverseGamma", "Kumaraswamy",
    "LKJCholesky", "Laplace", "LogNormal", "LogisticNormal", "LowRankMultivariateNormal", "LowerCholeskyTransform", "MixtureSameFamily",
    "Multinomial", "MultivariateNormal", "NegativeBinomial", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough",
    "Pareto", "Poisson", "PositiveDefiniteTransform", "PowerTransform", "RelaxedBernoulli", "RelaxedOneHotCategorical",
    "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform", "SoftplusTransform", "StackTransform", "StickBreakingTransform",
    "StudentT", "TanhTransform", "Transform", "TransformedDistribution", "Uniform", "VonMises", "Weibull", "Wishart", "biject_to",
    "constraints", "identity_transform", "kl_divergence", "register_kl", "transform_to", "transforms",
]
