"""Symbolic sizes, as ``torch.SymInt``, ``torch.sym_max``...: here every size is a plain number.

PyTorch's compiler traces a function with sizes that are symbols (a ``SymInt`` stands for "the batch
size, whatever it is"), and library code is written to accept both: ``isinstance(n, (int,
torch.SymInt))``, ``torch.sym_max(a, b)`` where ``max`` would branch on a symbol. chainrule never
makes a symbolic size (its compile records concrete shapes and guards them), so nothing is an
instance of these types, and the ``sym_*`` helpers compute on plain numbers, as PyTorch's do when
given them.
"""
import builtins
import math

from chainrule import dtypes
from chainrule.backend import xp
from chainrule.creation import tensor as as_tensor


class _Symbolic:
    """A size that is a symbol: chainrule makes none (PyTorch's are made by its tracer, from a node)."""

    def __init__(self, node):
        raise TypeError(f"{type(self).__name__}: chainrule has no symbolic sizes; sizes are plain Python numbers")


class SymInt(_Symbolic):
    """An int that is a symbol (see the module docstring)."""


class SymFloat(_Symbolic):
    """A float that is a symbol (see the module docstring)."""


class SymBool(_Symbolic):
    """A bool that is a symbol (see the module docstring)."""


def sym_not(a):
    """``not a``."""
    return not a


def sym_float(a):
    """``float(a)``."""
    return builtins.float(a)


def sym_int(a):
    """``int(a)`` (a float is truncated towards zero)."""
    return builtins.int(a)


_NUMBERS, _FLOATS = (xp.integer, xp.floating, builtins.int, builtins.float), (xp.floating, builtins.float)


def _checked_numbers(a, b):
    for value in (a, b):
        if not isinstance(value, _NUMBERS):
            raise AssertionError(f"expected {_NUMBERS}, got {type(value)}")
    return isinstance(a, _FLOATS) or isinstance(b, _FLOATS)


def sym_max(a, b):
    """The larger of two numbers, a float if either is (unlike ``max``, which keeps the winner's type)."""
    return builtins.float(builtins.max(a, b)) if _checked_numbers(a, b) else builtins.max(a, b)


def sym_min(a, b):
    """The smaller of two numbers, a float if either is."""
    return builtins.float(builtins.min(a, b)) if _checked_numbers(a, b) else builtins.min(a, b)


def sym_sum(*args):
    """The sum of the numbers given, as ``sym_sum(a, b, c)`` or ``sym_sum([a, b, c])``."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = args[0]
    return builtins.sum(args)


def sym_ite(b, t, f):
    """``t if b else f``, for ``t`` and ``f`` of one type."""
    if not isinstance(b, builtins.bool):
        raise AssertionError(f"expected SymBool or bool, got {type(b)}")
    if type(t) is not type(f):
        raise AssertionError(f"type mismatch: {type(t)} vs {type(f)}")
    return t if b else f


def sym_sqrt(a):
    """``math.sqrt(a)``."""
    return math.sqrt(a)


def _shape_as_tensor(tensor):
    """The shape of ``tensor`` as a 1-d int64 tensor (``torch._shape_as_tensor``: what a trace
    turns a size into)."""
    return as_tensor(list(tensor.shape), dtype=dtypes.int64)
