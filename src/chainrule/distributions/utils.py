"""What the distributions share: broadcasting parameters, probabilities and logits, cached
properties, drawing noise from chainrule's generator (PyTorch's standard normal; NumPy's samplers
for the families PyTorch samples with algorithms of its own), and the triangular algebra of
MultivariateNormal (a Cholesky factor and a triangular solve, composed of tensor operations so that
their gradients come free; course-sized matrices need only a handful of steps)."""
from numbers import Number

from chainrule import dtypes
from chainrule.autograd.grad_mode import enable_grad
from chainrule.functional import arange, broadcast_tensors, clamp, empty, log, log1p, sigmoid, softmax, sqrt, stack, tensor
from chainrule.tensor import Tensor
from chainrule.type_info import finfo


def broadcast_all(*values):
    """The values as tensors of one broadcast shape; numbers take the dtype of the tensors among
    them (the default float when there are none)."""
    if not all(isinstance(value, (Tensor, Number)) for value in values):
        raise ValueError("Input arguments must all be instances of numbers.Number or torch.tensor.")
    like = next((value for value in values if isinstance(value, Tensor)), None)
    dtype = like.dtype if like is not None else dtypes.get_default_dtype()
    tensors = [value if isinstance(value, Tensor) else tensor(float(value), dtype=dtype) for value in values]
    return broadcast_tensors(*tensors)


def clamp_probs(probs):
    """probs kept inside [eps, 1 - eps], so that their logarithms stay finite."""
    eps = finfo(probs.dtype).eps
    return clamp(probs, min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """ln p (categorical) or ln p - ln(1 - p) (binary), of probabilities kept off 0 and 1."""
    clamped = clamp_probs(probs)
    return log(clamped) - log1p(-clamped) if is_binary else log(clamped)


def logits_to_probs(logits, is_binary=False):
    """sigmoid(logits) (binary) or softmax over the last dimension (categorical)."""
    return sigmoid(logits) if is_binary else softmax(logits, dim=-1)


class lazy_property:  # noqa: N801  named as PyTorch's
    """A property computed on first use and then kept in the instance (probs from logits, or the
    other way), so that a distribution made from one holds only that one until the other is asked.
    It is computed with grad mode on, as PyTorch's: asked first under ``no_grad`` (sampling in an RL
    loop), the value kept still carries the graph for a later ``entropy().backward()``."""

    def __init__(self, compute):
        self.compute = compute
        self.__doc__ = compute.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.compute(instance)
        setattr(instance, self.compute.__name__, value)
        return value


class ProbsOrLogits:
    """For distributions given by ``probs`` or ``logits``: the other one, computed on first use.
    Binary (Bernoulli, Binomial): logits = ln p - ln(1 - p); else (Categorical): logits = ln p."""

    is_binary = True

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=self.is_binary)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=self.is_binary)

    @property
    def param_shape(self):
        return self.__dict__.get("probs", self.__dict__.get("logits")).shape


def sum_rightmost(value, dims):
    """``value`` summed over its last ``dims`` dimensions."""
    return value.reshape(value.shape[: value.dim() - dims] + (-1,)).sum(-1) if dims > 0 else value


def require_instances(items, kind, operation, argument):
    """AssertionError, as PyTorch's ``cat`` / ``stack`` constraints and transforms raise, unless
    every entry of ``items`` (the argument named ``argument``) is a ``kind``."""
    for item in items:
        if not isinstance(item, kind):
            raise AssertionError(f"{operation}: all elements of {argument} must be {kind.__name__} instances, got "
                                 f"{type(item).__name__} ({item!r})")


def require_dim_in_range(dim, value, operation):
    """AssertionError, as PyTorch's ``cat`` / ``stack`` constraints and transforms raise, unless
    ``dim`` is a dimension of ``value``."""
    if not -value.dim() <= dim < value.dim():
        raise AssertionError(f"{operation}: dim {dim} out of range for a value with {value.dim()} dimensions "
                             f"(shape {tuple(value.shape)}); give a value that has dimension {dim}")


def standard_normal(shape, dtype, device=None):
    """A tensor of ``shape`` of N(0, 1) draws, as PyTorch's ``_standard_normal``
    (``empty(shape).normal_()``): after the same ``manual_seed``, PyTorch's numbers."""
    return empty(tuple(shape), dtype=dtype, device=device).normal_()


# PyTorch's private names, which libraries built on torch.distributions import (pyro, gpytorch)
_sum_rightmost = sum_rightmost
_standard_normal = standard_normal


def cholesky_factor(matrix):
    """The lower-triangular L with L Lᵀ = matrix (..., n, n), column by column:
    L_jj = √(A_jj - Σₖ<ⱼ L_jk²), L_ij = (A_ij - Σₖ<ⱼ L_ik L_jk) / L_jj for i > j.
    A matrix that is not positive definite gives nan on the diagonal. The matrix is read as
    (A + Aᵀ)/2, so that its gradient is symmetric, as PyTorch's cholesky gives."""
    matrix = (matrix + matrix.transpose(-1, -2)) / 2
    size = matrix.shape[-1]
    rows = arange(size)
    columns = []
    for j in range(size):
        previous = stack(columns, -1) if columns else matrix[..., :, :0]  # (..., n, j)
        diagonal_entry = sqrt(matrix[..., j, j] - (previous[..., j, :] ** 2).sum(-1))
        below = (matrix[..., :, j] - (previous * previous[..., j : j + 1, :]).sum(-1)) / diagonal_entry.unsqueeze(-1)
        zero = below * 0
        columns.append(zero.where(rows < j, below.where(rows > j, diagonal_entry.unsqueeze(-1) + zero)))
    return stack(columns, -1)


def _tril_mask(size, diag):
    """(size, size) bools, True on and below the ``diag``-th diagonal (row i, column j with j <= i + diag)."""
    positions = arange(size)
    return positions < positions.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat, diag=0):
    """The entries of mat (..., D, D) on and below its ``diag``-th diagonal, row by row: (..., M),
    M = D(D+1)/2 for diag = 0. Differentiable (an index of mat)."""
    size = mat.shape[-1]
    if diag < -size or diag >= size:
        raise ValueError(f"diag ({diag}) provided is outside [{-size}, {size - 1}].")
    return mat[..., _tril_mask(size, diag)]


def vec_to_tril_matrix(vec, diag=0):
    """The matrix (..., D, D) with vec (..., M) filled row by row on and below its ``diag``-th
    diagonal and zeros elsewhere, the inverse of ``tril_matrix_to_vec``: D is the positive root of
    D² + (1 + 2 diag) D - |diag| (diag + 1) - 2M = 0. Differentiable (an index assignment)."""
    linear = 1 + 2 * diag
    size = (-linear + (linear**2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(size) - size > finfo(vec.dtype).eps:  # PyTorch's one-sided test of a whole root
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
                         "the lower triangular part of a square D x D matrix.")
    size = round(size)
    mat = vec.new_zeros(vec.shape[:-1] + (size, size))
    mat[..., _tril_mask(size, diag)] = vec
    return mat


def solve_lower_triangular(lower, right):
    """The z with lower @ z = right, for lower (..., n, n) and right (..., n) (broadcast), by forward
    substitution: zᵢ = (rᵢ - Σⱼ<ᵢ L_ij zⱼ) / L_ii."""
    solution = []
    for i in range(lower.shape[-1]):
        known = (lower[..., i, :i] * stack(solution, -1)).sum(-1) if solution else 0.0
        solution.append((right[..., i] - known) / lower[..., i, i])
    return stack(solution, -1)
