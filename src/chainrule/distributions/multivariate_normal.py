"""The multivariate normal distribution N(loc, Σ)."""
import math

from chainrule.distributions import constraints
from chainrule.distributions.distribution import SymmetricAboutLoc
from chainrule.distributions.utils import cholesky_factor, lazy_property, solve_lower_triangular, standard_normal
from chainrule.functional import broadcast_shapes, diagonal, eye, flip, log
from chainrule.tensor import Size


def mahalanobis_squared(scale_tril, difference):
    """‖L⁻¹ d‖² = dᵀ Σ⁻¹ d for Σ = L Lᵀ: (..., n, n) and (..., n) -> (...)."""
    return (solve_lower_triangular(scale_tril, difference) ** 2).sum(-1)


def half_log_det(scale_tril):
    """½ ln det Σ = Σᵢ ln Lᵢᵢ."""
    return log(diagonal(scale_tril, dim1=-2, dim2=-1)).sum(-1)


def precision_to_scale_tril(precision):
    """The Cholesky factor of P⁻¹ without inverting P: with the flip J (J A J reverses rows and
    columns), J P J = M Mᵀ gives P⁻¹ = (J M⁻ᵀ J)(J M⁻ᵀ J)ᵀ, and J M⁻ᵀ J is lower triangular."""
    flipped_factor = cholesky_factor(flip(precision, (-2, -1)))
    inverse_upper = solve_lower_triangular(flipped_factor.unsqueeze(-3), eye(precision.shape[-1], dtype=precision.dtype))
    return flip(inverse_upper, (-2, -1))


class MultivariateNormal(SymmetricAboutLoc):
    """N(loc, Σ) over vectors of size n: density e^(-½ (x - loc)ᵀ Σ⁻¹ (x - loc)) / √((2π)ⁿ det Σ).

    Σ is given once, as ``covariance_matrix``, ``precision_matrix`` (Σ⁻¹) or ``scale_tril`` (its
    lower Cholesky factor L, Σ = L Lᵀ): (..., n, n), loc (..., n), batch dims broadcast.
    ``rsample`` is loc + L ε with ε ~ N(0, I).
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [matrix is not None for matrix in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        name, matrix = next((name, matrix) for name, matrix in zip(("covariance_matrix", "precision_matrix", "scale_tril"), (covariance_matrix, precision_matrix, scale_tril)) if matrix is not None)
        if matrix.dim() < 2:
            kind = "scale_tril matrix" if name == "scale_tril" else name
            raise ValueError(f"{kind} must be at least two-dimensional, with optional leading batch dimensions")
        batch_shape = Size(broadcast_shapes(matrix.shape[:-2], loc.shape[:-1]))
        setattr(self, name, matrix.expand(batch_shape + matrix.shape[-2:]))
        self.loc = loc.expand(batch_shape + (-1,))
        event_shape = self.loc.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = cholesky_factor(matrix)
        else:
            self._unbroadcasted_scale_tril = precision_to_scale_tril(matrix)

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self.batch_shape + self.event_shape + self.event_shape)

    @lazy_property
    def covariance_matrix(self):
        factor = self._unbroadcasted_scale_tril
        return (factor @ factor.transpose(-1, -2)).expand(self.batch_shape + self.event_shape + self.event_shape)

    @lazy_property
    def precision_matrix(self):
        identity = eye(self.event_shape[-1], dtype=self.loc.dtype)
        inverse_factor = solve_lower_triangular(self._unbroadcasted_scale_tril.unsqueeze(-3), identity).transpose(-1, -2)
        precision = inverse_factor.transpose(-1, -2) @ inverse_factor
        return precision.expand(self.batch_shape + self.event_shape + self.event_shape)

    @property
    def variance(self):
        return (self._unbroadcasted_scale_tril ** 2).sum(-1).expand(self.batch_shape + self.event_shape)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        noise = standard_normal(shape, self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ noise.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value):
        """-½ (n ln 2π + (x - loc)ᵀ Σ⁻¹ (x - loc)) - ½ ln det Σ."""
        if self._validate_args:
            self._validate_sample(value)
        squared = mahalanobis_squared(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (self.event_shape[0] * math.log(2 * math.pi) + squared) - half_log_det(self._unbroadcasted_scale_tril)

    def entropy(self):
        """½ n (1 + ln 2π) + ½ ln det Σ."""
        entropy = 0.5 * self.event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det(self._unbroadcasted_scale_tril)
        return entropy.expand(self.batch_shape) if self.batch_shape else entropy
