"""The sets a distribution's parameters and values live in, as ``torch.distributions.constraints``.

A constraint's ``check(value)`` is a bool tensor: True where the value is inside. It has one entry
per event, so it has ``event_dim`` fewer dimensions than ``value`` (a simplex is checked per
vector, ``event_dim = 1``). ``repr`` is PyTorch's (``GreaterThan(lower_bound=0.0)``): the validation
errors name the constraint that failed.
"""
from chainrule.autograd import no_grad
from chainrule.functional import all as all_of
from chainrule.distributions.utils import cholesky_factor
from chainrule.functional import diagonal, isfinite, tril


class Constraint:
    """A set of values; ``is_discrete`` for integer supports, ``event_dim`` the dimensions of one event."""

    is_discrete = False
    event_dim = 0

    def check(self, value):
        raise NotImplementedError

    def __repr__(self):
        return type(self).__name__[1:] + "()"


class _Dependent(Constraint):
    """A parameter whose set depends on others (Uniform's low < high): checked by its distribution."""

    def __init__(self, *, is_discrete=False, event_dim=0):
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def __call__(self, *, is_discrete=False, event_dim=0):
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, value):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint):
    return isinstance(constraint, _Dependent)


class _Real(Constraint):
    def check(self, value):
        return value == value  # False only at nan


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        return (value == 0) | (value == 1)


class _Bounded(Constraint):
    """A set given by one bound: ``check`` compares with ``lower_bound`` or ``upper_bound``."""

    def __init__(self, bound):
        self.bound = bound

    def __repr__(self):
        return f"{type(self).__name__[1:]}({self.bound_name}={self.bound})"


class _GreaterThan(_Bounded):
    bound_name = "lower_bound"

    def check(self, value):
        return value > self.bound


class _GreaterThanEq(_Bounded):
    bound_name = "lower_bound"

    def check(self, value):
        return value >= self.bound


class _LessThan(_Bounded):
    bound_name = "upper_bound"

    def check(self, value):
        return value < self.bound


class _IntegerGreaterThan(_Bounded):
    bound_name = "lower_bound"
    is_discrete = True

    def check(self, value):
        return (value % 1 == 0) & (value >= self.bound)


class _Interval(Constraint):
    """lower_bound <= value <= upper_bound."""

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        return (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self):
        return f"{type(self).__name__[1:]}(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerInterval(_Interval):
    is_discrete = True

    def check(self, value):
        return (value % 1 == 0) & super().check(value)


class _Simplex(Constraint):
    """Vectors of non-negative entries summing to 1."""

    event_dim = 1

    def check(self, value):
        return all_of(value >= 0, dim=-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _OneHot(Constraint):
    """Vectors of zeros with a single 1."""

    is_discrete = True
    event_dim = 1

    def check(self, value):
        return all_of((value == 0) | (value == 1), dim=-1) & (value.sum(-1) == 1)


class _LowerCholesky(Constraint):
    """Lower-triangular matrices with a positive diagonal: the Cholesky factors."""

    event_dim = 2

    def check(self, value):
        lower = all_of(all_of(tril(value) == value, dim=-1), dim=-1)
        return lower & all_of(diagonal(value, dim1=-2, dim2=-1) > 0, dim=-1)


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
        self.base_constraint, self.reinterpreted_batch_ndims = base_constraint, reinterpreted_batch_ndims
        self.is_discrete = base_constraint.is_discrete
        self.event_dim = base_constraint.event_dim + reinterpreted_batch_ndims

    def check(self, value):
        result = self.base_constraint.check(value)
        for _ in range(self.reinterpreted_batch_ndims):
            result = all_of(result, dim=-1) if result.dim() else result
        return result

    def __repr__(self):
        return f"IndependentConstraint({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


dependent = _Dependent()
real = _Real()
boolean = _Boolean()
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
unit_interval = _Interval(0.0, 1.0)
simplex = _Simplex()
one_hot = _OneHot()
lower_cholesky = _LowerCholesky()
positive_definite = _PositiveDefinite()
real_vector = _IndependentConstraint(real, 1)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
interval = _Interval
integer_interval = _IntegerInterval
independent = _IndependentConstraint
