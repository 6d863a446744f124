"""``torch.sparse.check_sparse_tensor_invariants``: whether sparse constructors check their input.

PyTorch checks the indices of ``sparse_coo_tensor(indices, values, size)`` against ``size`` only
when asked (``check_invariants=True``, or this switch on), and warns once per process when neither
was said, since an index out of range then corrupts memory. chainrule checks them always
(``operations._check_indices``); the switch is kept, read back and silences the warning, as
PyTorch's does. It works as a setting (``enable()``/``disable()``/``is_enabled()``), a context
manager and a decorator.
"""
import functools

from chainrule.caller_warnings import warn_once

_enabled = [False]

UNCHECKED_WARNING = (
    "Sparse invariant checks are implicitly disabled. Memory errors (e.g. SEGFAULT) will occur when operating on a "
    "sparse tensor which violates the invariants, but checks incur performance overhead. To silence this warning, "
    "explicitly opt in or out. See `torch.sparse.check_sparse_tensor_invariants.__doc__` for guidance."
)


class check_sparse_tensor_invariants:
    """``with check_sparse_tensor_invariants():`` the sparse constructors check their input (see the
    module docstring); ``check_sparse_tensor_invariants(False)`` turns the checks off instead."""

    @staticmethod
    def is_enabled():
        return _enabled[0]

    @staticmethod
    def enable():
        _enabled[0] = True

    @staticmethod
    def disable():
        _enabled[0] = False

    def __init__(self, enable=True):
        self.state = enable
        self.saved_state = None

    def __enter__(self):
        if self.saved_state is not None:
            raise RuntimeError(
                "This context manager instance is already activated. Use a different context manager instance for "
                "context nesting."
            )
        self.saved_state = _enabled[0]
        _enabled[0] = self.state

    def __exit__(self, *exception):
        _enabled[0], self.saved_state = self.saved_state, None

    def __call__(self, method):
        @functools.wraps(method)
        def checked(*args, **kwargs):
            with type(self)(self.state):
                return method(*args, **kwargs)

        return checked


def warn_when_unsaid(check_invariants):
    """PyTorch's warning, once per process, when a constructor is not told whether to check."""
    if check_invariants is None and not _enabled[0]:
        warn_once("sparse_coo_tensor: invariant checks", UNCHECKED_WARNING)
