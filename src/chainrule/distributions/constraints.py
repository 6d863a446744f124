"""The sets a distribution's parameters and values live in, as ``torch.distributions.constraints``.

A constraint's ``check(value)`` is a bool tensor: True where the value is inside. It has one entry
per event, so it has ``event_dim`` fewer dimensions than ``value`` (a simplex is checked per
vector, ``event_dim = 1``). ``repr`` is PyTorch's (``GreaterThan(lower_bound=0.0)``): the validation
errors name the constraint that failed.
"""
from chainrule.autograd import no_grad
from chainrule.functional import all as all_of
from chainrule.distributions.utils import cholesky_factor, require_dim_in_range, require_instances
from chainrule.dtypes import bool_
from chainrule.functional import cat as concatenate
from chainrule.functional import diagonal, full, isfinite, tril
from chainrule.functional import stack as stack_tensors
from chainrule.linalg import eigvalsh
from chainrule.type_info import finfo


class Constraint:
    """A set of values; ``is_discrete`` for integer supports, ``event_dim`` the dimensions of one event."""

    is_discrete = False
    event_dim = 0

    def check(self, value):
        raise NotImplementedError

    def __repr__(self):
        return type(self).__name__[1:] + "()"


class _Dependent(Constraint):
    """A parameter whose set depends on others (Uniform's low < high): checked by its distribution.
    ``is_discrete`` and ``event_dim`` are known only where given (``dependent(event_dim=1)``);
    reading one that was not given raises NotImplementedError, as in PyTorch."""

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        self._is_discrete, self._event_dim = is_discrete, event_dim

    @property
    def is_discrete(self):
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically: give it, as "
                                      "dependent(is_discrete=...), or read it from an instance")
        return self._is_discrete

    @property
    def event_dim(self):
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically: give it, as "
                                      "dependent(event_dim=...), or read it from an instance")
        return self._event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        """A copy with the static attributes given here (the others kept): ``dependent(event_dim=1)``."""
        return _Dependent(is_discrete=self._is_discrete if is_discrete is NotImplemented else is_discrete,
                          event_dim=self._event_dim if event_dim is NotImplemented else event_dim)

    def check(self, value):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint):
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A property that is also a dependent constraint: read on the class it is a constraint whose
    set is known only per instance (a transform's domain that depends on its parts). As PyTorch's
    decorator: ``@dependent_property`` or ``@dependent_property(is_discrete=False, event_dim=1)``."""

    def __init__(self, compute=None, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        property.__init__(self, compute)
        _Dependent.__init__(self, is_discrete=is_discrete, event_dim=event_dim)

    def __call__(self, compute):
        return _DependentProperty(compute, is_discrete=self._is_discrete, event_dim=self._event_dim)


dependent_property = _DependentProperty


class _Real(Constraint):
    def check(self, value):
        return value == value  # False only at nan


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        return (value == 0) | (value == 1)


class _LowerBounded(Constraint):
    """A set given by its ``lower_bound`` (PyTorch's keyword: ``greater_than(lower_bound=0.)``)."""

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def __repr__(self):
        return f"{type(self).__name__[1:]}(lower_bound={self.lower_bound})"


class _GreaterThan(_LowerBounded):
    def check(self, value):
        return value > self.lower_bound


class _GreaterThanEq(_LowerBounded):
    def check(self, value):
        return value >= self.lower_bound


class _IntegerGreaterThan(_LowerBounded):
    is_discrete = True

    def check(self, value):
        return (value % 1 == 0) & (value >= self.lower_bound)


class _LessThan(Constraint):
    """value < ``upper_bound``."""

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return value < self.upper_bound

    def __repr__(self):
        return f"{type(self).__name__[1:]}(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    """lower_bound <= value <= upper_bound."""

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        return (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self):
        return f"{type(self).__name__[1:]}(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _HalfOpenInterval(_Interval):
    """lower_bound <= value < upper_bound."""

    def check(self, value):
        return (value >= self.lower_bound) & (value < self.upper_bound)


class _IntegerInterval(_Interval):
    is_discrete = True

    def check(self, value):
        return (value % 1 == 0) & super().check(value)


class _Simplex(Constraint):
    """Vectors of non-negative entries summing to 1."""

    event_dim = 1

    def check(self, value):
        return all_of(value >= 0, dim=-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _Multinomial(Constraint):
    """Vectors of non-negative counts summing to at most ``upper_bound``."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return all_of(value >= 0, dim=-1) & (value.sum(-1) <= self.upper_bound)


class _OneHot(Constraint):
    """Vectors of zeros with a single 1."""

    is_discrete = True
    event_dim = 1

    def check(self, value):
        return all_of((value == 0) | (value == 1), dim=-1) & (value.sum(-1) == 1)


class _LowerTriangular(Constraint):
    """Matrices with zeros above the diagonal."""

    event_dim = 2

    def check(self, value):
        return all_of(all_of(tril(value) == value, dim=-1), dim=-1)


class _LowerCholesky(_LowerTriangular):
    """Lower-triangular matrices with a positive diagonal: the Cholesky factors."""

    def check(self, value):
        return super().check(value) & all_of(diagonal(value, dim1=-2, dim2=-1) > 0, dim=-1)


class _CorrCholesky(Constraint):
    """Lower Cholesky factors of correlation matrices: rows of unit length."""

    event_dim = 2

    def check(self, value):
        tolerance = finfo(value.dtype).eps * value.shape[-1] * 10
        unit_rows = all_of(((value * value).sum(-1).sqrt() - 1).abs() <= tolerance, dim=-1)
        return _LowerCholesky().check(value) & unit_rows


class _Square(Constraint):
    """Square matrices."""

    event_dim = 2

    def check(self, value):
        return full(value.shape[:-2], value.shape[-1] == value.shape[-2], dtype=bool_)


class _Symmetric(_Square):
    """Square matrices equal to their transpose (up to PyTorch's isclose with atol 1e-6)."""

    def check(self, value):
        if value.shape[-1] != value.shape[-2]:
            return super().check(value)
        transposed = value.transpose(-1, -2)
        close = (value - transposed).abs() <= 1e-6 + 1e-5 * transposed.abs()
        return all_of(all_of(close, dim=-1), dim=-1)


class _PositiveSemidefinite(_Symmetric):
    """Symmetric matrices with no negative eigenvalue."""

    def check(self, value):
        with no_grad():
            smallest = eigvalsh(value)[..., 0]
        return super().check(value) & (smallest >= 0)


class _PositiveDefinite(Constraint):
    """Symmetric matrices whose Cholesky factorisation succeeds (all eigenvalues positive)."""

    event_dim = 2

    def check(self, value):
        transposed = value.transpose(-1, -2)
        close = (value - transposed).abs() <= 1e-6 + 1e-5 * transposed.abs()  # as torch.isclose(atol=1e-6)
        symmetric = all_of(all_of(close, dim=-1), dim=-1)
        with no_grad():
            factor_diagonal = diagonal(cholesky_factor(value), dim1=-2, dim2=-1)
        return symmetric & all_of(isfinite(factor_diagonal) & (factor_diagonal > 0), dim=-1)


class _IndependentConstraint(Constraint):
    """``base`` on each entry, with the last ``reinterpreted_batch_ndims`` dimensions one event."""

    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        if not isinstance(base_constraint, Constraint):
            raise AssertionError(f"independent(): base_constraint must be a Constraint, got "
                                 f"{type(base_constraint).__name__}")
        if not isinstance(reinterpreted_batch_ndims, int):
            raise AssertionError(f"independent(): reinterpreted_batch_ndims must be an int, got "
                                 f"{type(reinterpreted_batch_ndims).__name__}")
        if reinterpreted_batch_ndims < 0:
            raise AssertionError(f"independent(): reinterpreted_batch_ndims must be >= 0, got "
                                 f"{reinterpreted_batch_ndims}")
        self.base_constraint, self.reinterpreted_batch_ndims = base_constraint, reinterpreted_batch_ndims

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value):
        result = self.base_constraint.check(value)
        if result.dim() < self.reinterpreted_batch_ndims:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {value.dim()}: {self!r} checks "
                             f"events of {self.event_dim} dimensions; give a value with at least that many")
        for _ in range(self.reinterpreted_batch_ndims):
            result = all_of(result, dim=-1)
        return result

    def __repr__(self):
        return f"IndependentConstraint({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


class MixtureSameFamilyConstraint(Constraint):
    """The support of a MixtureSameFamily: ``base_constraint`` (its components' support) checked on
    the value with the components' dimension put back before the event dimensions, value
    (..., *event) -> (..., 1, *event), and true where it holds for every component (..., ).
    ``is_discrete`` and ``event_dim`` are the base constraint's."""

    def __init__(self, base_constraint):
        if not isinstance(base_constraint, Constraint):
            raise AssertionError(f"base_constraint must be a Constraint, got {type(base_constraint).__name__}")
        self.base_constraint = base_constraint

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim

    def check(self, value):
        per_component = self.base_constraint.check(value.unsqueeze(-1 - self.event_dim))
        kept = value.dim() - self.event_dim
        return all_of(per_component.reshape(per_component.shape[:kept] + (-1,)), dim=-1)

    def __repr__(self):
        return f"MixtureSameFamilyConstraint({self.base_constraint!r})"


class _Cat(Constraint):
    """Each constraint of ``cseq`` on its slice of ``lengths`` entries along ``dim``."""

    def __init__(self, cseq, dim=0, lengths=None):
        self.cseq, self.dim = list(cseq), dim
        require_instances(self.cseq, Constraint, "cat()", "cseq")
        self.lengths = list(lengths) if lengths is not None else [1] * len(self.cseq)
        if len(self.lengths) != len(self.cseq):
            raise AssertionError(f"cat(): lengths ({len(self.lengths)}) must match cseq ({len(self.cseq)}): "
                                 f"give one length per constraint")

    @property
    def is_discrete(self):
        return any(constraint.is_discrete for constraint in self.cseq)

    @property
    def event_dim(self):
        return max(constraint.event_dim for constraint in self.cseq)

    def check(self, value):
        require_dim_in_range(self.dim, value, "cat.check")
        starts = [sum(self.lengths[:position]) for position in range(len(self.lengths))]
        pieces = [constraint.check(value.narrow(self.dim, start, length))
                  for constraint, start, length in zip(self.cseq, starts, self.lengths)]
        return concatenate(pieces, self.dim)


class _Stack(Constraint):
    """The constraint ``cseq[i]`` on the slice ``i`` along ``dim``."""

    def __init__(self, cseq, dim=0):
        self.cseq, self.dim = list(cseq), dim
        require_instances(self.cseq, Constraint, "stack()", "cseq")

    @property
    def is_discrete(self):
        return any(constraint.is_discrete for constraint in self.cseq)

    @property
    def event_dim(self):
        """The parts' largest event_dim, plus one when ``dim + event_dim < 0`` (PyTorch's rule: a
        negative ``dim`` counted from the right makes the stacked dimension part of each event)."""
        event_dim = max(constraint.event_dim for constraint in self.cseq)
        return event_dim + 1 if self.dim + event_dim < 0 else event_dim

    def check(self, value):
        require_dim_in_range(self.dim, value, "stack.check")
        pieces = [constraint.check(value.select(self.dim, index))
                  for index, constraint in zip(range(value.shape[self.dim]), self.cseq)]
        return stack_tensors(pieces, self.dim)


dependent = _Dependent()
real = _Real()
boolean = _Boolean()
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
unit_interval = _Interval(0.0, 1.0)
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
half_open_interval = _HalfOpenInterval
multinomial = _Multinomial
cat = _Cat
stack = _Stack
simplex = _Simplex()
one_hot = _OneHot()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
positive_definite = _PositiveDefinite()
real_vector = _IndependentConstraint(real, 1)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
interval = _Interval
integer_interval = _IntegerInterval
independent = _IndependentConstraint

__all__ = [
    "Constraint", "boolean", "cat", "corr_cholesky", "dependent", "dependent_property", "greater_than",
    "greater_than_eq", "independent", "integer_interval", "interval", "half_open_interval", "is_dependent",
    "less_than", "lower_cholesky", "lower_triangular", "MixtureSameFamilyConstraint", "multinomial", "nonnegative",
    "nonnegative_integer", "one_hot", "positive", "positive_semidefinite", "positive_definite", "positive_integer",
    "real", "real_vector", "simplex", "square", "stack", "symmetric", "unit_interval",
]
