"""The Wishart distribution over positive definite matrices."""
import math
import warnings

from chainrule.distributions import constraints
from chainrule.distributions.chi2 import Chi2
from chainrule.distributions.exp_family import ExponentialFamily
from chainrule.distributions.multivariate_normal import half_log_det, precision_to_scale_tril
from chainrule.distributions.utils import lazy_property
from chainrule.functional import arange, broadcast_shapes, diag_embed, digamma, eye, full_like, mvlgamma, randn, tensor, tril_indices, where
from chainrule.linalg import cholesky, slogdet, solve_triangular
from chainrule.tensor import Size
from chainrule.type_info import finfo

LOG_2 = math.log(2)


def multivariate_digamma(x, p):
    """ψ_p(x) = Σᵢ₌₀^(p-1) ψ(x - i/2), the derivative of ln Γ_p(x)."""
    return digamma(x.unsqueeze(-1) - arange(p, dtype=x.dtype) / 2).sum(-1)


def solve_with_cholesky(factor, right):
    """(L Lᵀ)⁻¹ right, by two triangular solves."""
    return solve_triangular(factor.transpose(-1, -2), solve_triangular(factor, right, upper=False), upper=True)


class Wishart(ExponentialFamily):
    """Density |X|^((ν - p - 1)/2) e^(-tr(Σ⁻¹ X)/2) / (2^(νp/2) |Σ|^(ν/2) Γ_p(ν/2)) over p x p positive
    definite X: the scatter matrix Σₖ xₖ xₖᵀ of ν = ``df`` draws xₖ ~ N(0, Σ). Σ is given once, as
    ``covariance_matrix``, ``precision_matrix`` or ``scale_tril``.

    ``rsample`` is Bartlett's: L A Aᵀ Lᵀ with A lower triangular, A_ii = √χ²(ν - i) (with their
    implicit gradients) and standard normals below the diagonal. PyTorch redraws the rare singular
    samples (ν close to p - 1); this one does not."""

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):
        return {"covariance_matrix": constraints.positive_definite, "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky, "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        given = [(name, matrix) for name, matrix in (("covariance_matrix", covariance_matrix), ("precision_matrix", precision_matrix),
                                                    ("scale_tril", scale_tril)) if matrix is not None]
        if len(given) != 1:  # PyTorch's exception type
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        name, matrix = given[0]
        if matrix.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional leading batch dimensions")
        if isinstance(df, (int, float)):
            batch_shape = Size(matrix.shape[:-2])
            self.df = tensor(float(df), dtype=matrix.dtype)
        else:
            batch_shape = Size(broadcast_shapes(matrix.shape[:-2], df.shape))
            self.df = df.expand(batch_shape)
        event_shape = Size(matrix.shape[-2:])
        if bool((self.df <= event_shape[-1] - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {event_shape[-1] - 1}.")
        setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        if bool((self.df < event_shape[-1]).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to occur for ndim - 1 < df < ndim.", stacklevel=2)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = precision_to_scale_tril(matrix)
        self._chi2 = self._diagonal_chi2()

    def _diagonal_chi2(self):
        """χ²(ν - i), i = 0..p-1: the squares of Bartlett's diagonal."""
        size = self.event_shape[-1]
        return Chi2(self.df.unsqueeze(-1) - arange(size, dtype=self._unbroadcasted_scale_tril.dtype).expand(self.batch_shape + (-1,)))

    def expand(self, batch_shape, _instance=None):
        new = self._expanded_copy(batch_shape, ("covariance_matrix", "precision_matrix", "scale_tril"))
        new.df = self.df.expand(batch_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(Size(batch_shape) + self.event_shape)
        new._chi2 = new._diagonal_chi2()
        return new

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self.batch_shape + self.event_shape)

    @lazy_property
    def covariance_matrix(self):
        factor = self._unbroadcasted_scale_tril
        return (factor @ factor.transpose(-2, -1)).expand(self.batch_shape + self.event_shape)

    @lazy_property
    def precision_matrix(self):
        identity = eye(self.event_shape[-1], dtype=self._unbroadcasted_scale_tril.dtype)
        return solve_with_cholesky(self._unbroadcasted_scale_tril, identity).expand(self.batch_shape + self.event_shape)

    def _df_as_matrices(self):
        return self.df.reshape(self.batch_shape + (1, 1))

    @property
    def mean(self):
        """ν Σ."""
        return self._df_as_matrices() * self.covariance_matrix

    @property
    def mode(self):
        """(ν - p - 1) Σ where ν > p + 1, nan otherwise."""
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = where(factor <= 0, full_like(factor, math.nan), factor)
        return factor.reshape(self.batch_shape + (1, 1)) * self.covariance_matrix

    @property
    def variance(self):
        """Var X_ij = ν (Σ_ij² + Σ_ii Σ_jj)."""
        covariance = self.covariance_matrix
        diagonal = covariance.diagonal(dim1=-2, dim2=-1)
        return self._df_as_matrices() * (covariance.pow(2) + diagonal.unsqueeze(-1) * diagonal.unsqueeze(-2))

    def rsample(self, sample_shape=Size(), max_try_correction=None):
        """A sample by Bartlett's decomposition (``_bartlett_sampling``), then PyTorch's correction
        loop as PyTorch has it: its test flags the samples that *are* positive definite as
        singular (``support.check`` not negated), so it warns "Singular sample detected." and draws
        those again, at most ``max_try_correction`` times (10), until none is flagged; the numbers
        drawn, and the warning, are PyTorch's."""
        max_try_correction = 10 if max_try_correction is None else max_try_correction
        sample = self._bartlett_sampling(sample_shape)
        batch_dims = tuple(range(-len(self.batch_shape), 0))
        is_singular = self.support.check(sample)
        if self.batch_shape:
            is_singular = is_singular.amax(batch_dims)
        if is_singular.any():
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(max_try_correction):
                sample_new = self._bartlett_sampling(is_singular[is_singular].shape)
                sample[is_singular] = sample_new
                is_singular_new = ~self.support.check(sample_new)
                if self.batch_shape:
                    is_singular_new = is_singular_new.amax(batch_dims)
                is_singular[is_singular.clone()] = is_singular_new
                if not is_singular.any():
                    break
        return sample

    def _bartlett_sampling(self, sample_shape):
        """L A Aᵀ Lᵀ with A lower triangular: the χ roots on its diagonal, N(0, 1) below it, drawn
        as PyTorch draws them (the χ² first, then one randn of the p(p - 1)/2 entries below, in
        tril_indices' order)."""
        size = self.event_shape[-1]
        noise = diag_embed(self._chi2.rsample(sample_shape).sqrt().clamp(min=finfo(self.df.dtype).eps))
        rows, columns = tril_indices(size, size, offset=-1)
        noise[..., rows, columns] = randn(*Size(sample_shape), *self.batch_shape, size * (size - 1) // 2, dtype=noise.dtype)
        factor = self._unbroadcasted_scale_tril @ noise
        return factor @ factor.transpose(-2, -1)

    def _half_log_det_scaled(self):
        """p ln 2 / 2 + ½ ln det Σ."""
        return self.event_shape[-1] * LOG_2 / 2 + half_log_det(self._unbroadcasted_scale_tril)

    def log_prob(self, value):
        """-ν (p ln 2 / 2 + ½ ln|Σ|) - ln Γ_p(ν/2) + (ν - p - 1)/2 ln|X| - tr(Σ⁻¹ X)/2."""
        if self._validate_args:
            self._validate_sample(value)
        nu, p = self.df, self.event_shape[-1]
        trace = solve_with_cholesky(self._unbroadcasted_scale_tril, value).diagonal(dim1=-2, dim2=-1).sum(-1)
        return -nu * self._half_log_det_scaled() - mvlgamma(nu / 2, p) + (nu - p - 1) / 2 * slogdet(value)[1] - trace / 2

    def entropy(self):
        """(p + 1)(p ln 2 / 2 + ½ ln|Σ|) + ln Γ_p(ν/2) - (ν - p - 1)/2 ψ_p(ν/2) + νp/2."""
        nu, p = self.df, self.event_shape[-1]
        return (p + 1) * self._half_log_det_scaled() + mvlgamma(nu / 2, p) - (nu - p - 1) / 2 * multivariate_digamma(nu / 2, p) + nu * p / 2

    @property
    def _natural_params(self):
        return -self.precision_matrix / 2, (self.df - self.event_shape[-1] - 1) / 2

    def _log_normalizer(self, x, y):
        p = self.event_shape[-1]
        return (y + (p + 1) / 2) * (-slogdet(-2 * x)[1] + LOG_2 * p) + mvlgamma(y + (p + 1) / 2, p)
