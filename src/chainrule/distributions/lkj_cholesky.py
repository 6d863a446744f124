"""The LKJ distribution over Cholesky factors of correlation matrices."""
import math

from chainrule.distributions import constraints
from chainrule.distributions.beta import Beta
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.utils import broadcast_all, standard_normal
from chainrule.functional import arange, cat, diag_embed, lgamma, mvlgamma, ones_like, where
from chainrule.tensor import Size
from chainrule.type_info import finfo


class LKJCholesky(Distribution):
    """Lower Cholesky factors L of dim x dim correlation matrices C = L Lᵀ with density
    ∝ det(C)^(η - 1), η = ``concentration`` (η = 1: uniform over correlation matrices), as
    p(L) ∝ Πᵢ₌₂ L_ii^(dim - i + 2(η - 1)).

    Sampled by the onion method: row i is a random direction of length √yᵢ below the diagonal,
    yᵢ ~ Beta(i/2, η + (dim - 2)/2 - i/2), with √(1 - yᵢ) on the diagonal."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        marginal = self.concentration + 0.5 * (self.dim - 2)
        offset = arange(self.dim - 1, dtype=self.concentration.dtype)
        offset = cat([offset.new_zeros((1,)), offset])
        # row i's squared length below the diagonal: Beta(i/2, η + (dim - 2)/2 - (i - 1)/2); PyTorch
        # 2.13 takes i - ½ for the first concentration, which skews the correlations of rows past the second
        self._beta = Beta(0.5 * offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset)
        super().__init__(self.concentration.shape, Size((dim, dim)), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expanded_copy(batch_shape, ("concentration",), _instance)
        new._beta = self._beta.expand(Size(batch_shape) + (self.dim,))
        return new

    def sample(self, sample_shape=Size()):
        squared_lengths = self._beta.sample(sample_shape).unsqueeze(-1)
        normal = standard_normal(self._extended_shape(sample_shape), squared_lengths.dtype).tril(-1)
        norms = normal.norm(dim=-1, keepdim=True)
        directions = normal / where(norms > 0, norms, ones_like(norms))  # the first row has no entries below the diagonal
        below = squared_lengths.sqrt() * directions
        diagonal = (1 - (below ** 2).sum(-1)).clamp(min=finfo(below.dtype).tiny).sqrt()
        return below + diag_embed(diagonal)

    def log_prob(self, value):
        """Σᵢ₌₂ (dim - i + 2(η - 1)) ln L_ii - ln of the normalizer
        ½(dim - 1) ln π + ln Γ_(dim-1)(α - ½) - (dim - 1) ln Γ(α), α = η + (dim - 1)/2."""
        if self._validate_args:
            self._validate_sample(value)
        diagonal = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - arange(2, self.dim + 1, dtype=value.dtype)
        unnormalized = (order * diagonal.log()).sum(-1)
        count = self.dim - 1
        alpha = self.concentration + 0.5 * count
        normalizer = 0.5 * count * math.log(math.pi) + mvlgamma(alpha - 0.5, count) - lgamma(alpha) * count
        return unnormalized - normalizer
