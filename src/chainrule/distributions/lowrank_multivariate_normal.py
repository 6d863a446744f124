"""The multivariate normal with a low-rank-plus-diagonal covariance."""
import math

from chainrule.distributions import constraints
from chainrule.distributions.distribution import SymmetricAboutLoc
from chainrule.distributions.multivariate_normal import mahalanobis_squared
from chainrule.distributions.utils import lazy_property, standard_normal
from chainrule.functional import broadcast_tensors, diag_embed, eye, log
from chainrule.linalg import cholesky, solve_triangular
from chainrule.tensor import Size


def capacitance_tril(factor, diagonal):
    """The Cholesky factor of the capacitance matrix K = I + Wᵀ D⁻¹ W (r x r), for W (n, r), D (n)."""
    scaled = factor.transpose(-1, -2) / diagonal.unsqueeze(-2)
    return cholesky(scaled @ factor + eye(factor.shape[-1], dtype=factor.dtype))


def lowrank_log_det(diagonal, capacitance):
    """ln det(W Wᵀ + D) = ln det K + Σ ln D (the matrix determinant lemma)."""
    return 2 * log(capacitance.diagonal(dim1=-2, dim2=-1)).sum(-1) + log(diagonal).sum(-1)


def lowrank_mahalanobis(factor, diagonal, difference, capacitance):
    """dᵀ Σ⁻¹ d for Σ = W Wᵀ + D: Σ d²/D - ‖L_K⁻¹ Wᵀ D⁻¹ d‖² (Woodbury)."""
    projected = ((factor.transpose(-1, -2) / diagonal.unsqueeze(-2)) @ difference.unsqueeze(-1)).squeeze(-1)
    return (difference.pow(2) / diagonal).sum(-1) - mahalanobis_squared(capacitance, projected)


class LowRankMultivariateNormal(SymmetricAboutLoc):
    """N(loc, Σ) with Σ = W Wᵀ + diag(D), W = ``cov_factor`` (..., n, r), D = ``cov_diag`` (..., n):
    log_prob and entropy cost O(n r²) instead of O(n³), through the Woodbury identity
    Σ⁻¹ = D⁻¹ - D⁻¹ W K⁻¹ Wᵀ D⁻¹ and the determinant lemma. ``rsample`` is loc + W ε₁ + √D ε₂."""

    arg_constraints = {"loc": constraints.real_vector, "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = Size(loc.shape[-1:])
        if cov_factor.dim() < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional leading batch dimensions")
        if cov_factor.shape[-2:-1] != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape {event_shape[0]} x m")
        if cov_diag.shape[-1:] != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
        try:
            loc_column, self.cov_factor, diag_column = broadcast_tensors(loc.unsqueeze(-1), cov_factor, cov_diag.unsqueeze(-1))
        except RuntimeError as error:
            raise ValueError(f"Incompatible batch shapes: loc {loc.shape}, cov_factor {cov_factor.shape}, cov_diag {cov_diag.shape}") from error
        self.loc, self.cov_diag = loc_column[..., 0], diag_column[..., 0]
        self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag = cov_factor, cov_diag
        self._capacitance_tril = capacitance_tril(cov_factor, cov_diag)
        super().__init__(self.loc.shape[:-1], event_shape, validate_args=validate_args)

    def _full_shape(self, *trailing):
        return self.batch_shape + self.event_shape + tuple(trailing)

    @lazy_property
    def variance(self):
        return (self._unbroadcasted_cov_factor.pow(2).sum(-1) + self._unbroadcasted_cov_diag).expand(self._full_shape())

    @lazy_property
    def scale_tril(self):
        """√D · chol(I + D^-½ W Wᵀ D^-½)."""
        root = self._unbroadcasted_cov_diag.sqrt().unsqueeze(-1)
        scaled = self._unbroadcasted_cov_factor / root
        inner = scaled @ scaled.transpose(-1, -2) + eye(self.event_shape[0], dtype=scaled.dtype)
        return (root * cholesky(inner)).expand(self._full_shape(self.event_shape[0]))

    @lazy_property
    def covariance_matrix(self):
        factor = self._unbroadcasted_cov_factor
        return (factor @ factor.transpose(-1, -2) + diag_embed(self._unbroadcasted_cov_diag)).expand(self._full_shape(self.event_shape[0]))

    @lazy_property
    def precision_matrix(self):
        """D⁻¹ - Aᵀ A with A = L_K⁻¹ Wᵀ D⁻¹ (Woodbury)."""
        scaled = self._unbroadcasted_cov_factor.transpose(-1, -2) / self._unbroadcasted_cov_diag.unsqueeze(-2)
        solved = solve_triangular(self._capacitance_tril, scaled, upper=False)
        precision = diag_embed(self._unbroadcasted_cov_diag.reciprocal()) - solved.transpose(-1, -2) @ solved
        return precision.expand(self._full_shape(self.event_shape[0]))

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        factor_noise = standard_normal(shape[:-1] + self.cov_factor.shape[-1:], self.loc.dtype)
        diagonal_noise = standard_normal(shape, self.loc.dtype)
        correlated = (self._unbroadcasted_cov_factor @ factor_noise.unsqueeze(-1)).squeeze(-1)
        return self.loc + correlated + self._unbroadcasted_cov_diag.sqrt() * diagonal_noise

    def _log_det(self):
        return lowrank_log_det(self._unbroadcasted_cov_diag, self._capacitance_tril)

    def log_prob(self, value):
        """-½ (n ln 2π + ln det Σ + dᵀ Σ⁻¹ d)."""
        if self._validate_args:
            self._validate_sample(value)
        mahalanobis = lowrank_mahalanobis(self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag, value - self.loc, self._capacitance_tril)
        return -0.5 * (self.event_shape[0] * math.log(2 * math.pi) + self._log_det() + mahalanobis)

    def entropy(self):
        """½ (n (1 + ln 2π) + ln det Σ)."""
        entropy = 0.5 * (self.event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return entropy.expand(self.batch_shape) if self.batch_shape else entropy

    def expand(self, batch_shape, _instance=None):
        return self._expanded_copy(batch_shape, ("loc", "cov_diag", "cov_factor"))
