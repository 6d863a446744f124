"""Invertible maps y = f(x) between constrained sets, as ``torch.distributions.transforms``.

A transform knows its ``domain`` and ``codomain`` (constraints), ``f`` (``t(x)``), its inverse
(``t.inv(y)``) and ln |det ∂y/∂x| (``log_abs_det_jacobian(x, y)``, one entry per event of
``event_dim`` dimensions): what TransformedDistribution needs to turn a density of x into one of y,
p_Y(y) = p_X(x) / |det ∂y/∂x|. With ``cache_size=1`` a transform remembers its last (x, y), so that
the inverse of a sample it just made is that sample's x exactly.
"""
import math
from numbers import Number

from chainrule.distributions import constraints
from chainrule.distributions.utils import (broadcast_all, lazy_property, require_dim_in_range, require_instances, sum_rightmost,
                                           tril_matrix_to_vec)
from chainrule.functional import atanh, broadcast_shapes, cat, clamp, cumsum, diag_embed, eye, full_like, ones, sigmoid, stack, zeros_like
from chainrule.linalg import cholesky
from chainrule.nn.functional import logsigmoid, softplus
from chainrule.tensor import Size
from chainrule.type_info import finfo

__all__ = [
    "AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform", "CorrCholeskyTransform",
    "CumulativeDistributionTransform", "ExpTransform", "IndependentTransform", "LowerCholeskyTransform",
    "PositiveDefiniteTransform", "PowerTransform", "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform",
    "SoftplusTransform", "StackTransform", "StickBreakingTransform", "TanhTransform", "Transform", "identity_transform",
]


class Transform:
    """An invertible (``bijective``) or pseudo-invertible map from ``domain`` to ``codomain``.
    Subclasses give ``_call`` (x -> y), ``_inverse`` (y -> x) and ``log_abs_det_jacobian``."""

    bijective = False

    def __init__(self, cache_size=0):
        if cache_size not in (0, 1):
            raise ValueError("cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._cached_x_y = None, None
        self._inv = None
        super().__init__()  # as PyTorch's: a transform that is a Module too (pyro's TransformModule) has Module's set up

    @property
    def event_dim(self):
        if self.domain.event_dim == self.codomain.event_dim:
            return self.domain.event_dim
        raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")

    @property
    def inv(self):
        """The inverse transform: ``t.inv(t(x)) == x``, and ``t.inv.inv is t``."""
        if self._inv is None:
            self._inv = _InverseTransform(self)
        return self._inv

    @property
    def sign(self):
        """+1 or -1: whether a one-dimensional bijection increases or decreases."""
        raise NotImplementedError

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        if type(self).__init__ is Transform.__init__:
            return type(self)(cache_size=cache_size)
        raise NotImplementedError(f"{type(self)}.with_cache is not implemented")

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return not self.__eq__(other)

    def __call__(self, x):
        if self._cache_size == 0:
            return self._call(x)
        cached_x, cached_y = self._cached_x_y
        if x is cached_x:
            return cached_y
        y = self._call(x)
        self._cached_x_y = x, y
        return y

    def _inv_call(self, y):
        if self._cache_size == 0:
            return self._inverse(y)
        cached_x, cached_y = self._cached_x_y
        if y is cached_y:
            return cached_x
        x = self._inverse(y)
        self._cached_x_y = x, y
        return x

    def _call(self, x):
        raise NotImplementedError

    def _inverse(self, y):
        raise NotImplementedError

    def log_abs_det_jacobian(self, x, y):
        """ln |det ∂y/∂x|, one entry per event."""
        raise NotImplementedError

    def forward_shape(self, shape):
        """The shape of y for an x of ``shape``."""
        return shape

    def inverse_shape(self, shape):
        """The shape of x for a y of ``shape``."""
        return shape

    def __repr__(self):
        return type(self).__name__ + "()"


class _InverseTransform(Transform):
    """``transform`` run backwards: what ``Transform.inv`` returns."""

    def __init__(self, transform):
        super().__init__(cache_size=transform._cache_size)
        self._inv = transform

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        return self._inv.codomain

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        return self._inv.domain

    @property
    def bijective(self):
        return self._inv.bijective

    @property
    def sign(self):
        return self._inv.sign

    @property
    def inv(self):
        return self._inv

    def with_cache(self, cache_size=1):
        return self.inv.with_cache(cache_size).inv

    def __eq__(self, other):
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    def __call__(self, x):
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x, y):
        """ln |det ∂x/∂y| = -ln |det ∂y/∂x|."""
        return -self._inv.log_abs_det_jacobian(y, x)

    def forward_shape(self, shape):
        return self._inv.inverse_shape(shape)

    def inverse_shape(self, shape):
        return self._inv.forward_shape(shape)

    def __repr__(self):
        return f"{type(self).__name__}({self._inv!r})"


class ComposeTransform(Transform):
    """``parts`` applied in order: y = fₙ(...f₁(x)); ln|det| adds up the parts' (each summed over
    the event dimensions it does not itself treat as one event)."""

    def __init__(self, parts, cache_size=0):
        if cache_size:
            parts = [part.with_cache(cache_size) for part in parts]
        super().__init__(cache_size=cache_size)
        self.parts = list(parts)

    def __eq__(self, other):
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        if not self.parts:
            return constraints.real
        domain = self.parts[0].domain
        event_dim = self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):
            event_dim = max(event_dim + part.domain.event_dim - part.codomain.event_dim, part.domain.event_dim)
        return constraints.independent(domain, event_dim - domain.event_dim) if event_dim > domain.event_dim else domain

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        if not self.parts:
            return constraints.real
        codomain = self.parts[-1].codomain
        event_dim = self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim = max(event_dim + part.codomain.event_dim - part.domain.event_dim, part.codomain.event_dim)
        return constraints.independent(codomain, event_dim - codomain.event_dim) if event_dim > codomain.event_dim else codomain

    @lazy_property
    def bijective(self):
        return all(part.bijective for part in self.parts)

    @lazy_property
    def sign(self):
        sign = 1
        for part in self.parts:
            sign = sign * part.sign
        return sign

    @property
    def inv(self):
        if self._inv is None:
            self._inv = ComposeTransform([part.inv for part in reversed(self.parts)])
            self._inv._inv = self
        return self._inv

    def with_cache(self, cache_size=1):
        return self if self._cache_size == cache_size else ComposeTransform(self.parts, cache_size=cache_size)

    def __call__(self, x):
        for part in self.parts:
            x = part(x)
        return x

    def log_abs_det_jacobian(self, x, y):
        if not self.parts:
            return zeros_like(x)
        values = [x]
        for part in self.parts[:-1]:
            values.append(part(values[-1]))
        values.append(y)
        total = 0
        event_dim = self.domain.event_dim
        for part, before, after in zip(self.parts, values[:-1], values[1:]):
            total = total + sum_rightmost(part.log_abs_det_jacobian(before, after), event_dim - part.domain.event_dim)
            event_dim += part.codomain.event_dim - part.domain.event_dim
        return total

    def forward_shape(self, shape):
        for part in self.parts:
            shape = part.forward_shape(shape)
        return shape

    def inverse_shape(self, shape):
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return shape

    def __repr__(self):
        return type(self).__name__ + "(\n    " + ",\n    ".join(repr(part) for part in self.parts) + "\n)"


identity_transform = ComposeTransform([])


class IndependentTransform(Transform):
    """``base_transform`` with its last ``reinterpreted_batch_ndims`` dimensions one event: the
    same map, its ln|det| summed over them."""

    def __init__(self, base_transform, reinterpreted_batch_ndims, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return IndependentTransform(self.base_transform, self.reinterpreted_batch_ndims, cache_size=cache_size)

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        return constraints.independent(self.base_transform.domain, self.reinterpreted_batch_ndims)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        return constraints.independent(self.base_transform.codomain, self.reinterpreted_batch_ndims)

    @property
    def bijective(self):
        return self.base_transform.bijective

    @property
    def sign(self):
        return self.base_transform.sign

    def _call(self, x):
        if x.dim() < self.domain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform(x)

    def _inverse(self, y):
        if y.dim() < self.codomain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x, y):
        return sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y), self.reinterpreted_batch_ndims)

    def forward_shape(self, shape):
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.base_transform.inverse_shape(shape)

    def __repr__(self):
        return f"{type(self).__name__}({self.base_transform!r}, {self.reinterpreted_batch_ndims})"


class ReshapeTransform(Transform):
    """Events of ``in_shape`` reshaped to ``out_shape`` (as many entries): ln|det| = 0."""

    bijective = True

    def __init__(self, in_shape, out_shape, cache_size=0):
        self.in_shape, self.out_shape = Size(in_shape), Size(out_shape)
        if self.in_shape.numel() != self.out_shape.numel():
            raise ValueError("in_shape, out_shape have different numbers of elements")
        super().__init__(cache_size=cache_size)

    @constraints.dependent_property
    def domain(self):
        return constraints.independent(constraints.real, len(self.in_shape))

    @constraints.dependent_property
    def codomain(self):
        return constraints.independent(constraints.real, len(self.out_shape))

    def with_cache(self, cache_size=1):
        return self if self._cache_size == cache_size else ReshapeTransform(self.in_shape, self.out_shape, cache_size=cache_size)

    def _call(self, x):
        return x.reshape(x.shape[: x.dim() - len(self.in_shape)] + self.out_shape)

    def _inverse(self, y):
        return y.reshape(y.shape[: y.dim() - len(self.out_shape)] + self.in_shape)

    def log_abs_det_jacobian(self, x, y):
        return x.new_zeros(x.shape[: x.dim() - len(self.in_shape)])

    def forward_shape(self, shape):
        return self._reshaped(shape, self.in_shape, self.out_shape)

    def inverse_shape(self, shape):
        return self._reshaped(shape, self.out_shape, self.in_shape)

    @staticmethod
    def _reshaped(shape, source, target):
        if len(shape) < len(source):
            raise ValueError("Too few dimensions on input")
        cut = len(shape) - len(source)
        if tuple(shape[cut:]) != tuple(source):
            raise ValueError(f"Shape mismatch: expected {Size(shape[cut:])} but got {source}")
        return Size(tuple(shape[:cut]) + tuple(target))


class ParameterFree(Transform):
    """A transform with no parameters: any two of one class are equal."""

    def __eq__(self, other):
        return isinstance(other, type(self))


class IncreasingOnReals(ParameterFree):
    """A parameter-free increasing bijection from the whole real line."""

    domain = constraints.real
    bijective = True
    sign = +1


class ExpTransform(IncreasingOnReals):
    """y = eˣ on the reals; ln|dy/dx| = x."""

    codomain = constraints.positive

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class PowerTransform(Transform):
    """y = x^exponent on the positive reals; ln|dy/dx| = ln|exponent · y / x|."""

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent, cache_size=0):
        super().__init__(cache_size=cache_size)
        (self.exponent,) = broadcast_all(exponent)

    def with_cache(self, cache_size=1):
        return self if self._cache_size == cache_size else PowerTransform(self.exponent, cache_size=cache_size)

    @lazy_property
    def sign(self):
        return self.exponent.sign()

    def __eq__(self, other):
        return isinstance(other, PowerTransform) and bool((self.exponent == other.exponent).all())

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape):
        return broadcast_shapes(shape, self.exponent.shape)

    inverse_shape = forward_shape


def clipped_sigmoid(x):
    """sigmoid(x) kept inside [tiny, 1 - eps], so that its logarithms stay finite."""
    info = finfo(x.dtype)
    return clamp(sigmoid(x), min=info.tiny, max=1.0 - info.eps)


class SigmoidTransform(IncreasingOnReals):
    """y = 1 / (1 + e⁻ˣ); ln|dy/dx| = ln y + ln(1 - y) = -softplus(-x) - softplus(x)."""

    codomain = constraints.unit_interval

    def _call(self, x):
        return clipped_sigmoid(x)

    def _inverse(self, y):
        info = finfo(y.dtype)
        y = y.clamp(min=info.tiny, max=1.0 - info.eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x) - softplus(x)


class SoftplusTransform(IncreasingOnReals):
    """y = ln(1 + eˣ); x = y + ln(1 - e⁻ʸ); ln|dy/dx| = ln sigmoid(x) = -softplus(-x)."""

    codomain = constraints.positive

    def _call(self, x):
        return softplus(x)

    def _inverse(self, y):
        return (-(-y).expm1()).log() + y

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x)


class TanhTransform(IncreasingOnReals):
    """y = tanh x onto (-1, 1); ln|dy/dx| = ln(1 - tanh²x) = 2 (ln 2 - x - softplus(-2x)), the
    form that stays finite for large |x|."""

    codomain = constraints.interval(-1.0, 1.0)

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return atanh(y)

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class AbsTransform(ParameterFree):
    """y = |x|: not invertible; its pseudo-inverse takes the positive root."""

    domain = constraints.real
    codomain = constraints.positive

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


def all_equal(first, second):
    """Whether two numbers or tensors are equal everywhere (broadcast together)."""
    first, second = broadcast_all(first, second)
    return bool((first == second).all())


class AffineTransform(Transform):
    """y = loc + scale · x, elementwise; ln|det| = Σ ln|scale| over the last ``event_dim``
    dimensions."""

    bijective = True

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.loc, self.scale, self._event_dim = loc, scale, event_dim

    @property
    def event_dim(self):
        return self._event_dim

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        return constraints.independent(constraints.real, self.event_dim) if self.event_dim else constraints.real

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        return constraints.independent(constraints.real, self.event_dim) if self.event_dim else constraints.real

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return AffineTransform(self.loc, self.scale, self.event_dim, cache_size=cache_size)

    def __eq__(self, other):
        return isinstance(other, AffineTransform) and all_equal(self.loc, other.loc) and all_equal(self.scale, other.scale)

    @property
    def sign(self):
        if isinstance(self.scale, Number):
            return 1 if self.scale > 0 else -1 if self.scale < 0 else 0
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        shape = x.shape
        if isinstance(self.scale, Number):
            result = full_like(x, math.log(abs(self.scale)))
        else:
            result = self.scale.abs().log()
        if self.event_dim:
            result = sum_rightmost(result, self.event_dim)
            shape = shape[: len(shape) - self.event_dim]
        return result.expand(shape)

    def forward_shape(self, shape):
        return broadcast_shapes(shape, getattr(self.loc, "shape", ()), getattr(self.scale, "shape", ()))

    inverse_shape = forward_shape


def vector_to_lower_matrix(vector, size):
    """The entries below the diagonal of (size, size) matrices, filled row by row from the last
    dimension of ``vector`` (size (size - 1) / 2); zeros elsewhere."""
    rows = []
    start = 0
    for row in range(size):
        rows.append(cat([vector[..., start:start + row], vector.new_zeros(vector.shape[:-1] + (size - row,))], -1))
        start += row
    return stack(rows, -2)


def with_leading_column(values, fill=1.0):
    """``values`` (..., k) with a column of ``fill`` put first: (..., k + 1), also for k = 0."""
    return cat([values.new_full(values.shape[:-1] + (1,), fill), values], -1)


class CorrCholeskyTransform(Transform):
    """Unconstrained vectors of n(n-1)/2 entries -> Cholesky factors L of n x n correlation
    matrices. The entries, through tanh, are partial correlations zᵢⱼ, and each row of L is made of
    unit length by stick breaking: Lᵢⱼ = zᵢⱼ √(1 - Σₖ<ⱼ Lᵢₖ²), Lᵢᵢ = √(1 - Σₖ<ᵢ Lᵢₖ²)."""

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x):
        eps = finfo(x.dtype).eps
        partial = x.tanh().clamp(min=-1 + eps, max=1 - eps)
        size = self.forward_shape(x.shape)[-1]
        below = vector_to_lower_matrix(partial, size)
        remaining = (1 - below ** 2).sqrt().cumprod(-1)
        return (below + eye(size, dtype=x.dtype)) * with_leading_column(remaining[..., :-1])

    def _inverse(self, y):
        remaining = with_leading_column(1 - cumsum(y * y, dim=-1)[..., :-1])
        partial = tril_matrix_to_vec(y, -1) / tril_matrix_to_vec(remaining, -1).sqrt()
        return atanh(partial)

    def log_abs_det_jacobian(self, x, y):
        """½ Σ ln(1 - Σₖ<ⱼ Lᵢₖ²) over the entries below the diagonal, plus the tanh terms."""
        remaining = 1 - (y * y).cumsum(-1)
        stick_breaking = 0.5 * tril_matrix_to_vec(remaining, -2).log().sum(-1)
        tanh_part = -2 * (x + softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick_breaking + tanh_part

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        count = shape[-1]
        size = round((0.25 + 2 * count) ** 0.5 + 0.5)
        if size * (size - 1) // 2 != count:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return Size(tuple(shape[:-1]) + (size, size))

    def inverse_shape(self, shape):
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        return Size(tuple(shape[:-2]) + (shape[-1] * (shape[-1] - 1) // 2,))


class SoftmaxTransform(ParameterFree):
    """y = softmax(x) onto the simplex: not one-to-one (x + c gives the same y); the inverse is ln y.
    Computed as PyTorch does, e^(x - max x) then normalised: exact to rounding for logits of any size."""

    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x):
        probs = (x - x.max(-1, True)[0]).exp()
        return probs / probs.sum(-1, True)

    def _inverse(self, y):
        return y.log()

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return shape

    inverse_shape = forward_shape


class StickBreakingTransform(ParameterFree):
    """Vectors of K - 1 reals -> the K-simplex: zₖ = sigmoid(xₖ - ln(K - k)) is the fraction of the
    stick left that piece k takes, yₖ = zₖ Πⱼ<ₖ (1 - zⱼ), and the last piece is what is left."""

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    @staticmethod
    def _offset(like, count):
        """ln(count), ln(count - 1), ..., ln 1: centres x = 0 on the uniform point of the simplex."""
        return (count + 1 - ones(count, dtype=like.dtype).cumsum(-1)).log()

    def _call(self, x):
        fractions = clipped_sigmoid(x - self._offset(x, x.shape[-1]))
        left = (1 - fractions).cumprod(-1)
        return cat([fractions, ones(x.shape[:-1] + (1,), dtype=x.dtype)], -1) * with_leading_column(left)

    def _inverse(self, y):
        pieces = y[..., :-1]
        left = (1 - pieces.cumsum(-1)).clamp(min=finfo(y.dtype).tiny)
        return pieces.log() - left.log() + self._offset(y, pieces.shape[-1])

    def log_abs_det_jacobian(self, x, y):
        """Σₖ ln yₖ + ln sigmoid(x̃ₖ) - x̃ₖ over the first K - 1 pieces, x̃ the offset x."""
        shifted = x - self._offset(x, x.shape[-1])
        return (-shifted + logsigmoid(shifted) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return Size(tuple(shape[:-1]) + (shape[-1] + 1,))

    def inverse_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return Size(tuple(shape[:-1]) + (shape[-1] - 1,))


class LowerCholeskyTransform(ParameterFree):
    """Square matrices -> lower-triangular ones with a positive diagonal: the part below the
    diagonal kept, the diagonal exponentiated, the part above dropped (so not one-to-one)."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x):
        return x.tril(-1) + diag_embed(x.diagonal(dim1=-2, dim2=-1).exp())

    def _inverse(self, y):
        return y.tril(-1) + diag_embed(y.diagonal(dim1=-2, dim2=-1).log())


class PositiveDefiniteTransform(ParameterFree):
    """Square matrices -> positive definite ones, L Lᵀ with L the LowerCholeskyTransform of x."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def _call(self, x):
        factor = LowerCholeskyTransform()(x)
        return factor @ factor.transpose(-1, -2)

    def _inverse(self, y):
        return LowerCholeskyTransform().inv(cholesky(y))


class CatTransform(Transform):
    """``tseq[i]`` on slice i of ``lengths`` (default 1 each) along ``dim``, results concatenated."""

    def __init__(self, tseq, dim=0, lengths=None, cache_size=0):
        tseq = list(tseq)
        require_instances(tseq, Transform, "CatTransform()", "tseq")
        if cache_size:
            tseq = [transform.with_cache(cache_size) for transform in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = tseq
        self.lengths = list(lengths) if lengths is not None else [1] * len(self.transforms)
        if len(self.lengths) != len(self.transforms):
            raise AssertionError(f"CatTransform(): lengths ({len(self.lengths)}) must match transforms "
                                 f"({len(self.transforms)}): give one length per transform")
        self.dim = dim

    @lazy_property
    def event_dim(self):
        return max(transform.event_dim for transform in self.transforms)

    @lazy_property
    def length(self):
        return sum(self.lengths)

    def with_cache(self, cache_size=1):
        return self if self._cache_size == cache_size else CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _slices(self, value):
        require_dim_in_range(self.dim, value, "CatTransform")
        if value.shape[self.dim] != self.length:
            raise AssertionError(f"CatTransform: size {value.shape[self.dim]} along dim {self.dim} (shape "
                                 f"{tuple(value.shape)}) must equal the lengths' total {self.length}")
        starts = [sum(self.lengths[:position]) for position in range(len(self.lengths))]
        return [value.narrow(self.dim, start, length) for start, length in zip(starts, self.lengths)]

    def _call(self, x):
        return cat([transform(piece) for transform, piece in zip(self.transforms, self._slices(x))], self.dim)

    def _inverse(self, y):
        return cat([transform.inv(piece) for transform, piece in zip(self.transforms, self._slices(y))], self.dim)

    def log_abs_det_jacobian(self, x, y):
        pieces = [sum_rightmost(transform.log_abs_det_jacobian(x_piece, y_piece), self.event_dim - transform.event_dim)
                  for transform, x_piece, y_piece in zip(self.transforms, self._slices(x), self._slices(y))]
        dim = (self.dim - x.dim() if self.dim >= 0 else self.dim) + self.event_dim
        return cat(pieces, dim) if dim < 0 else sum(pieces)

    @property
    def bijective(self):
        return all(transform.bijective for transform in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.cat([transform.domain for transform in self.transforms], self.dim, self.lengths)

    @constraints.dependent_property
    def codomain(self):
        return constraints.cat([transform.codomain for transform in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """``tseq[i]`` on entry i along ``dim``, results stacked."""

    def __init__(self, tseq, dim=0, cache_size=0):
        tseq = list(tseq)
        require_instances(tseq, Transform, "StackTransform()", "tseq")
        if cache_size:
            tseq = [transform.with_cache(cache_size) for transform in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms, self.dim = tseq, dim

    def with_cache(self, cache_size=1):
        return self if self._cache_size == cache_size else StackTransform(self.transforms, self.dim, cache_size)

    def _slices(self, value):
        require_dim_in_range(self.dim, value, "StackTransform")
        if value.shape[self.dim] != len(self.transforms):
            raise AssertionError(f"StackTransform: size {value.shape[self.dim]} along dim {self.dim} (shape "
                                 f"{tuple(value.shape)}) must equal the number of transforms {len(self.transforms)}")
        return [value.select(self.dim, index) for index in range(value.shape[self.dim])]

    def _call(self, x):
        return stack([transform(piece) for transform, piece in zip(self.transforms, self._slices(x))], self.dim)

    def _inverse(self, y):
        return stack([transform.inv(piece) for transform, piece in zip(self.transforms, self._slices(y))], self.dim)

    def log_abs_det_jacobian(self, x, y):
        return stack([transform.log_abs_det_jacobian(x_piece, y_piece)
                      for transform, x_piece, y_piece in zip(self.transforms, self._slices(x), self._slices(y))], self.dim)

    @property
    def bijective(self):
        return all(transform.bijective for transform in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.stack([transform.domain for transform in self.transforms], self.dim)

    @constraints.dependent_property
    def codomain(self):
        return constraints.stack([transform.codomain for transform in self.transforms], self.dim)


class CumulativeDistributionTransform(Transform):
    """y = F(x), the cdf of ``distribution``, onto [0, 1]; x = F⁻¹(y); ln|dy/dx| = ln p(x)."""

    bijective = True
    codomain = constraints.unit_interval
    sign = +1

    def __init__(self, distribution, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.distribution = distribution

    @property
    def domain(self):
        return self.distribution.support

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)

    def with_cache(self, cache_size=1):
        return self if self._cache_size == cache_size else CumulativeDistributionTransform(self.distribution, cache_size=cache_size)
