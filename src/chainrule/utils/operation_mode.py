"""``OperationMode``: see, and stand in for, every operation a block runs, as PyTorch's
``TorchDispatchMode`` does.

While a mode is entered (``with mode:``), each call of one of chainrule's own operations (an
``Op``'s ``apply``: ``Mul``, ``Exp``, ``Addmm``...) goes to ``mode.run_operation(op, args, kwargs,
run)`` instead: ``op`` is the operation's Function class, ``args`` and ``kwargs`` what ``apply`` was
given, and ``run()`` performs the call, node and all, and returns its outputs. Whatever
``run_operation`` returns is the call's result. A custom Function is no single operation: the
operations its forward runs are seen one by one, as PyTorch's dispatch modes see the ATen
operations under a custom Function.

Modes nest: the innermost one sees a call first, and the operations it runs itself (``run()``
included) go to the modes entered before it. As PyTorch's, modes belong to the thread that entered
them. While no mode is entered nothing is looked at: ``Function.apply`` is wrapped only then, as the
profiler wraps it while it records.

A mode may also cast operands before an operation checks them, as PyTorch's autocast does: a public
operation about to refuse its operands' dtypes (mixed, or one it has no kernel for) first hands them
to ``operands_in_modes(operation, operands)``, which gives them to each entered mode's
``cast_operands``; it asks only on the branch that refuses, so the common path pays nothing.
"""
import threading

from chainrule.autograd.function import Function


class _Entered(threading.local):
    def __init__(self):
        self.modes = []  # the modes this thread entered, innermost last


_entered = _Entered()
_threads_in_modes = [0]  # how many threads have a mode entered: Function.apply is wrapped while any has
_plain_apply = None  # Function.apply as it was before the wrapper went in
_wrapping = threading.Lock()  # threads entering or leaving their first mode count and wrap one at a time


class OperationMode:
    """Subclass it and define ``run_operation``; this base runs every call unchanged."""

    def run_operation(self, op, args, kwargs, run):
        return run()

    def cast_operands(self, operation, operands):
        """The tensors ``operands`` (a tuple; None for one not given) that the public operation
        named ``operation`` is about to refuse for their dtypes, as this mode hands them on: this
        base leaves them as they are."""
        return operands

    def __enter__(self):
        global _plain_apply
        modes = _entered.modes
        if not modes:
            with _wrapping:
                _threads_in_modes[0] += 1
                if Function.__dict__["apply"] is not _apply_through_modes:
                    _plain_apply = Function.__dict__["apply"]
                    Function.apply = _apply_through_modes
        modes.append(self)
        return self

    def __exit__(self, *exception):
        modes = _entered.modes
        del modes[len(modes) - 1 - modes[::-1].index(self)]
        if not modes:
            with _wrapping:
                _threads_in_modes[0] -= 1
                if not _threads_in_modes[0] and Function.__dict__["apply"] is _apply_through_modes:
                    Function.apply = _plain_apply
        return False


def any_mode_entered():
    """Whether some thread has a mode entered: a compiled program, which replays the arrays'
    computations without calling any operation's ``apply``, cannot run under one (compile/compiled.py)."""
    return _threads_in_modes[0] > 0


def operands_in_modes(operation, operands):
    """``operands`` (a tuple of tensors, None for one not given) of the public operation named
    ``operation``, cast by the modes this thread entered, innermost first (autocast casts them to
    one dtype); unchanged where none is entered. Called by an operation on the branch where it
    would refuse their dtypes, which checks them again afterwards."""
    for mode in reversed(_entered.modes):
        operands = mode.cast_operands(operation, operands)
    return operands


def innermost_mode():
    """The mode a call of an operation made now goes to first (None: none): it comes back through
    ``apply`` once the mode is set aside (the profiler sees both calls, as PyTorch's sees an
    operation again under a dispatch mode)."""
    return _entered.modes[-1] if _entered.modes else None


def _through_modes(cls, *args, **kwargs):
    """``cls.apply(*args, **kwargs)`` handed to this thread's innermost mode, which is set aside
    meanwhile so that the operations it runs go to the modes outside it."""
    modes = _entered.modes
    if not modes or not cls.on_arrays:
        return _plain_apply.__func__(cls, *args, **kwargs)
    mode = modes.pop()
    try:
        return mode.run_operation(cls, args, kwargs, lambda: cls.apply(*args, **kwargs))
    finally:
        modes.append(mode)


_apply_through_modes = classmethod(_through_modes)
