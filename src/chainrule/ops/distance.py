"""Distances and similarities between vectors: normalize, cosine_similarity, pairwise_distance, pdist.

Each is composed of recorded operations (norm, clamp, division, sums), exactly as PyTorch composes
them, so values, gradients (also at distance 0) and second derivatives are PyTorch's:

- ``normalize``: x / max(‖x‖_p, eps) along ``dim``.
- ``cosine_similarity``: Σ (x1 / max(‖x1‖, eps)) (x2 / max(‖x2‖, eps)) along ``dim``. As in PyTorch,
  the floor eps changes the value only: the gradient flows through the norm even where it is floored.
- ``pairwise_distance``: ‖x1 - x2 + eps‖_p along the last dimension; the eps keeps the norm away
  from 0, where its gradient has a kink.
- ``pdist``: ‖x_i - x_j‖_p for every pair of rows i < j of one (N, M) matrix, in row-major order.
- ``dist``: ‖x1 - x2‖_p over all elements; ``renorm``: slices scaled down to a p-norm of at most maxnorm.
"""
from chainrule.autograd.function import array_from_shapes
from chainrule.backend import xp
from chainrule.ops.broadcast import broadcast_shape, broadcast_to
from chainrule.ops.elementwise import cast, clamp, where
from chainrule.ops.operands import binary_operands
from chainrule.ops.reduce import FLOATING_INPUT, nonzero_count, norm, norm_over, reduction_axes, require_floating
from chainrule.ops.registry import functions, public
from chainrule.tensor import check_dim


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input`` divided by its p-norm along ``dim`` (at least ``eps``): unit vectors along ``dim``.

    Shapes: input (*) -> output (*), the same. A vector shorter than eps is divided by eps, not by
    its norm, so zero vectors stay zero instead of becoming nan.
    """
    denominator = clamp(norm(input, p, dim, keepdim=True), min=eps)
    return functions.div(input, denominator, out=out) if out is not None else input / denominator


@public(method=False)
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """cos θ = x1 · x2 / (max(‖x1‖, eps) max(‖x2‖, eps)) along ``dim``, in [-1, 1].

    Shapes: x1 and x2 broadcast to a common shape (*, D, *); ``dim`` indexes that shape and is
    summed away: output (*, *). Integer inputs are converted to the other input's floating dtype.
    """
    if eps < 0:
        raise RuntimeError(f"cosine_similarity: eps must be non-negative, got: {eps}")
    x1, x2 = _floating_pair(x1, x2, "cosine_similarity")
    shape = broadcast_shape(x1, x2, "cosine_similarity")
    x1, x2 = broadcast_to(x1, shape), broadcast_to(x2, shape)
    return (_divided_by_floored_norm(x1, dim, eps) * _divided_by_floored_norm(x2, dim, eps)).sum(dim)


def _divided_by_floored_norm(x, dim, eps):
    """x / max(‖x‖, eps), the gradient taken through ‖x‖ even where eps replaces it (PyTorch floors
    the norm in place with gradients off, which changes the value and keeps the norm's gradient)."""
    length = norm(x, 2, dim, keepdim=True)
    floored = length + (clamp(length, min=eps) - length).detach()
    return x / floored


def _floating_pair(x1, x2, operation):
    """x1 and x2 in their common dtype, which must be floating (integers are converted)."""
    x1, x2 = binary_operands(x1, x2)
    common = xp.result_type(x1._array, x2._array)
    if common.kind != "f":
        raise RuntimeError(
            f"{operation}: expected common dtype to be floating point, yet common dtype is {common.name} "
            f"(x1 {x1.dtype.name}, x2 {x2.dtype.name}); convert the inputs with .float()"
        )
    return cast(x1, common), cast(x2, common)


@public(method=False)
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """‖x1 - x2 + eps‖_p along the last dimension of the broadcast shape.

    Shapes: x1 (N, D) or (D,), x2 broadcasting against it -> output (N,) or () ((N, 1) or (1,)
    with ``keepdim``). The eps keeps equal vectors at a small positive distance, where the norm has
    a gradient.
    """
    last = max(x1.ndim, x2.ndim) - 1
    difference = x1 - x2 + eps
    require_floating(difference, f"linalg.vector_norm: {FLOATING_INPUT}", "linalg.vector_norm")
    axes = reduction_axes(difference, last, "norm")
    return norm_over(difference, p, axes, keepdim, "NormBackward1")  # PyTorch's node: that of norm(x, p, dim)


@public(method=False)
def pdist(input, p=2):
    """‖x_i - x_j‖_p for every pair of rows i < j of ``input``, in the order (0, 1), (0, 2), ...,
    (1, 2), ...: the upper triangle of the distance matrix, without its diagonal.

    Shapes: input (N, M) -> output (N (N - 1) / 2,). The gradient at distance 0 is 0.
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D (input of shape {tuple(input.shape)})")
    if input._array.dtype.kind != "f":
        raise RuntimeError(f"pdist only supports floating-point dtypes (pdist: the input is {input.dtype}; convert it with .float())")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got p={p}")
    rows = input.shape[0]
    first, second = xp.nonzero(xp.triu(xp.ones((rows, rows), dtype=bool), 1))
    difference = input[array_from_shapes(first)] - input[array_from_shapes(second)]  # the pairs follow from N
    return nonzero_count(difference, 1) if p == 0 else norm(difference, p, 1)



# ----------------------------------------------------------------------------- dist, renorm
@public
def dist(input, other, p=2):
    """‖input - other‖_p over all elements (input and other broadcast together): a 0-d tensor.
    p = 2 by default; 1, inf, -inf, 0 (the count of differing elements) or any other number."""
    if input._array.dtype.kind not in "fc" or other._array.dtype.kind not in "fc":
        raise RuntimeError(
            f"norm(): input dtype should be either floating point or complex. Got {input._array.dtype.name} "
            f"and {other._array.dtype.name} instead; convert them with .float()"
        )
    difference = input - other
    return norm_over(difference, p, tuple(range(difference.ndim)), False, "DistBackward0")


@public(inplace=True, out=True)
def renorm(input, p, dim, maxnorm):
    """input with each slice along ``dim`` (input[i] for dim=0) whose p-norm exceeds ``maxnorm``
    scaled down to norm ``maxnorm`` (divided by its norm + 1e-7, as PyTorch); the other slices are
    unchanged. The gradient flows through the norm too. Needs at least 2 dimensions."""
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    if not p > 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported (got p={p}); use a p > 0")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    dim = check_dim(dim, input.ndim, "renorm")
    norms = norm(input, p, tuple(each for each in range(input.ndim) if each != dim), keepdim=True)
    return input * where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
