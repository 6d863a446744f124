"""Statistics of samples: the covariance and correlation matrices of variables observed together
(``cov``, ``corrcoef``), and counts over a grid of bins in several dimensions (``histogramdd``).

``cov`` and ``corrcoef`` are composed of recorded operations (weighted means, a matrix product,
divisions), as PyTorch composes them, so their gradients and second derivatives come from those.
"""
import builtins
import math

from chainrule import dtypes
from chainrule.backend import as_array, xp
from chainrule.caller_warnings import warn_at_caller
from chainrule.ops.elementwise import clamp
from chainrule.ops.index import diagonal
from chainrule.ops.matmul import mm
from chainrule.ops import registry
from chainrule.ops.registry import public
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.return_types import return_type

#: What ``histogramdd`` returns: ``hist, bin_edges = histogramdd(x, bins=4)``.
histogramdd_result = return_type("histogramdd", ["hist", "bin_edges"])


@public
def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of ``input`` (observations in the
    columns): (variables, observations) -> (variables, variables), squeezed as PyTorch does (one
    variable gives a 0-d tensor). With weights w (``fweights``, integer counts, times ``aweights``, real importances):

        cov[i, j] = Σ_k w_k (x_ik - m_i)(x_jk - m_j) / (Σ w - correction · Σ w·aweights / Σ w)

    where m is the weighted mean; without weights that is Σ_k (x_ik - m_i)(x_jk - m_j) / (N - correction).
    For complex variables the second factor is conjugated, (x_jk - m_j)*, as PyTorch's.
    """
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with {input.ndim} dimensions")
    if input._array.dtype.kind == "b":
        raise RuntimeError("cov(): bool dtype is not supported for input; convert it first, e.g. x.float()")
    observations = input.reshape(1, -1) if input.ndim < 2 else input
    if not (observations.is_floating_point() or observations.is_complex()):
        observations = observations.to(dtypes.get_default_dtype())
    count = observations.shape[1]
    frequency = _checked_weights(fweights, "fweights", count, integral=True)
    importance = _checked_weights(aweights, "aweights", count, integral=False)
    weights = frequency if importance is None else importance if frequency is None else frequency * importance
    if weights is None:
        total = count
        mean = observations.mean(1)
        divisor = total - correction
    else:
        total = weights.sum()
        mean = (observations * weights).sum(1) / total
        if correction == 0:
            divisor = total
        elif importance is None:
            divisor = total - correction
        else:
            divisor = total - correction * (weights * importance).sum() / total
    if (divisor.item() if isinstance(divisor, Tensor) else divisor) <= 0:  # PyTorch divides by 0 then: inf and nan
        warn_at_caller("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of observations.")
        divisor = clamp(divisor, min=0) if isinstance(divisor, Tensor) else 0  # (+0: the signs of the infinities kept)
    centred = observations - mean.unsqueeze(1)
    weighted = centred if weights is None else centred * weights
    result = mm(centred, weighted.t().conj()) / divisor
    return result.squeeze()


def _checked_weights(weights, name, count, integral):
    """PyTorch's checks of cov's weights: 1-D (or 0-d), one per observation, of the right kind, not negative."""
    if weights is None:
        return None
    if weights.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with {weights.ndim} dimensions")
    if weights.numel() != count:
        raise RuntimeError(
            f"cov(): expected {name} to have the same numel as there are observations in the input but got "
            f"{weights.numel()} != {count}"
        )
    kind_ok = weights._array.dtype.kind in "iu" if integral else weights._array.dtype.kind == "f"
    if not kind_ok:
        wanted = "integral" if integral else "floating point"
        raise RuntimeError(
            f"cov(): expected {name} to have {wanted} dtype but got {name} with {dtypes.dtype_name(weights._array.dtype)} dtype"
        )
    if (weights._array < 0).any():
        raise RuntimeError(f"cov(): {name} cannot be negative")
    return weights.reshape(-1)


@public
def corrcoef(input):
    """The Pearson correlation matrix of the variables in the rows of ``input``:
    cov[i, j] / √(cov[i, i] cov[j, j]), clipped to [-1, 1] (complex: the real and imaginary parts
    each clipped, as PyTorch's). (variables, observations) -> (variables, variables); a 1-D input
    gives the 0-d 1 (nan for a constant variable)."""
    if input.ndim > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got an input with {input.ndim} dimensions")
    covariance = cov(input)
    if covariance.ndim == 0:
        return covariance / covariance
    spread = diagonal(covariance).real.sqrt()  # (the diagonal of a complex covariance is real)
    correlation = covariance / spread.unsqueeze(1) / spread.unsqueeze(0)
    if correlation.is_complex():
        return registry.functions.complex(clamp(correlation.real, -1, 1), clamp(correlation.imag, -1, 1))
    return clamp(correlation, -1, 1)


@public(method=False)
def histogramdd(input, bins=10, *, range=None, weight=None, density=False):
    """The named tuple ``(hist, bin_edges)``: how many of the points in ``input`` (*, D), one point
    per row of D coordinates, fall in each cell of a D-dimensional grid of bins (or how much
    ``weight`` they carry). ``bins`` is one count for every dimension, one count per dimension, or
    one 1-D tensor of increasing edges per dimension; ``range`` = [low_0, high_0, low_1, high_1, ...]
    (the data's own range when None). The last bin of each dimension includes its upper edge;
    points outside are not counted. hist has shape (bins_0, ..., bins_{D-1}); with ``density`` it
    integrates to 1. No gradient.
    """
    if input._array.dtype.kind != "f":
        raise NotImplementedError(f'"histogramdd" not implemented for {input._array.dtype.name} tensors; convert it first, e.g. x.float()')
    if input.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions; histogramdd needs points (*, D)")
    if input.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions (points, coordinates); reshape it to (N, 1)")
    dims = input.shape[-1]
    points = input._array.reshape(-1, dims)
    per_dim = list(bins) if isinstance(bins, (list, tuple)) else [bins] * dims
    if len(per_dim) != dims:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of the input.")
    if range is not None and len(range) != 2 * dims:
        raise RuntimeError(f"histogramdd: expected range to hold 2 numbers per dimension ({2 * dims}), but got {len(range)}")
    for each in per_dim:
        if isinstance(each, Tensor) and each._array.dtype != input._array.dtype:
            raise RuntimeError(
                f"torch.histogramdd: input tensor and bins tensors should have the same dtype, but got input with "
                f"dtype {input._array.dtype.name} and bins with dtype {each._array.dtype.name}; convert the bins"
            )
    edges = [_edges(points[:, each], per_dim[each], None if range is None else range[2 * each : 2 * each + 2], input._array.dtype) for each in builtins.range(dims)]
    shape = tuple(len(each) - 1 for each in edges)
    cells, inside = [], xp.ones(points.shape[0], dtype=bool)
    for each, boundaries in enumerate(edges):
        coordinate = points[:, each]
        position = xp.searchsorted(boundaries, coordinate, side="right") - 1
        position = xp.where(coordinate == boundaries[-1], len(boundaries) - 2, position)
        inside &= (coordinate >= boundaries[0]) & (coordinate <= boundaries[-1])
        cells.append(xp.clip(position, 0, max(len(boundaries) - 2, 0)))
    flat = xp.ravel_multi_index(tuple(cells), shape) if points.shape[0] else xp.zeros(0, dtype=dtypes.int64)
    weights = xp.ones(points.shape[0]) if weight is None else weight._array.reshape(-1).astype(xp.float64)
    hist = xp.bincount(flat[inside], weights=weights[inside], minlength=math.prod(shape)).reshape(shape)
    if density:
        volumes = xp.ones(shape)
        for each, boundaries in enumerate(edges):
            volumes = volumes * xp.diff(boundaries).reshape([-1 if other == each else 1 for other in builtins.range(dims)])
        hist = hist / hist.sum() / volumes
    dtype = input._array.dtype
    return histogramdd_result((tensor_from_array(as_array(hist, dtype)), tuple(tensor_from_array(as_array(each, dtype)) for each in edges)))



def _edges(coordinates, bins, bounds, dtype):
    """The bin edges of one dimension: given as a tensor, or ``bins`` equal bins over ``bounds``
    (the coordinates' own range, widened by 0.5 each side when it is one value, [0, 1] when empty)."""
    if isinstance(bins, Tensor):
        return bins._array.astype(dtype)
    if bounds is not None:
        low, high = float(bounds[0]), float(bounds[1])
    elif coordinates.size:
        low, high = float(coordinates.min()), float(coordinates.max())
    else:
        low, high = 0.0, 1.0
    if low == high:
        low, high = low - 0.5, high + 0.5
    return xp.linspace(low, high, int(bins) + 1).astype(dtype)
