"""``torch.fx.experimental.symbolic_shapes``: questions about sizes that may be symbols.

Library code written for PyTorch's compiler asks them of every size (``guard_or_false(n == 1)``,
``statically_known_true(a == b)``); chainrule's sizes are plain numbers (``chainrule/symbolic.py``),
so each question has its plain answer: the value itself, checked to be of the type PyTorch expects.
"""
import functools
import operator

from chainrule.symbolic import SymBool, SymFloat, SymInt


class GuardOnDataDependentSymNode(RuntimeError):
    """A traced program took a Python branch on a value computed from tensor data (``if x.sum() > 0:``),
    which a trace cannot decide for every input: write the branch with ``torch.cond``."""


class ConstraintViolationError(RuntimeError):
    """A size declared dynamic (``torch.export.Dim``) cannot take every value of its range: the
    example input lies outside it, or the traced code requires particular values."""


def _checked(value, kinds, expected):
    if not isinstance(value, kinds):
        raise AssertionError(f"Expected {expected}, got {type(value)}")
    return value


def is_concrete_int(a):
    """True: an int is concrete (a SymInt would not be)."""
    return isinstance(_checked(a, (SymInt, int), "SymInt or int"), int)


def is_concrete_float(a):
    """True: a float is concrete."""
    return isinstance(_checked(a, (SymFloat, float), "SymFloat or float"), float)


def is_concrete_bool(a):
    """True: a bool is concrete."""
    return isinstance(_checked(a, (SymBool, bool), "SymBool or bool"), bool)


def guard_or_false(a):
    """``bool(a)``: a concrete condition is decided."""
    return bool(a)


def guard_or_true(a):
    """``bool(a)``: a concrete condition is decided."""
    return bool(a)


def guard_size_oblivious(expr):
    """``bool(expr)``: a concrete condition on sizes is decided as it stands."""
    return bool(expr)


def statically_known_true(x):
    """``x`` itself: a bool is known."""
    return _checked(x, bool, "bool")


def definitely_true(a):
    """``bool(a)``."""
    return bool(a)


def definitely_false(a):
    """``not a``."""
    return not bool(a)


def expect_true(a, skip=0):
    """``a`` itself: a concrete condition needs no runtime assertion."""
    return a


def sym_and(x, *others):
    """``x and ...`` without bool casting: ``x & y & ...``."""
    return functools.reduce(operator.and_, others, x)


def sym_or(x, *others):
    """``x or ...`` without bool casting: ``x | y | ...``."""
    return functools.reduce(operator.or_, others, x)


def sym_eq(x, y):
    """``x == y``, element by element for lists and tuples of ints."""
    if isinstance(x, (tuple, list)) and isinstance(y, (list, tuple)):
        return len(x) == len(y) and all(sym_eq(a, b) for a, b in zip(x, y))
    if isinstance(x, int) and isinstance(y, int):
        return x == y
    raise AssertionError(f"unexpected sym_eq between {type(x)} {type(y)}")


def free_symbols(val):
    """The symbols in ``val``: a plain value has none."""
    return set()


def free_unbacked_symbols(x):
    """The symbols in ``x`` that no input's size backs: none."""
    return set()


def has_free_symbols(val):
    """False: plain values hold no symbols."""
    return False


def has_free_unbacked_symbols(x):
    """False: plain values hold no symbols."""
    return False
