"""Whether ``torch.jit.trace`` is running a function now, and PyTorch's warnings of what a trace
cannot record: a tensor turned into a Python value (``bool(t)``, ``t.item()``, ``len(t)``...) would
be a constant in PyTorch's recorded trace. chainrule's traced module runs its Python at every call,
so nothing is frozen here; the warnings say what would not carry over to PyTorch's trace, as its do
while the trace runs (``jit/_trace.py`` sets the flag)."""
import contextlib
import warnings

_running = [False]

_CONSTANT = (
    " might cause the trace to be incorrect. We can't record the data flow of Python values, so this value will be "
    "treated as a constant in the future. This means that the trace might not generalize to other inputs!"
)
_MESSAGES = {
    "bool": "Converting a tensor to a Python boolean" + _CONSTANT,
    "number": "Converting a tensor to a Python number" + _CONSTANT,
    "float": "Converting a tensor to a Python float" + _CONSTANT,
    "integer": "Converting a tensor to a Python integer" + _CONSTANT,
    "list": "Converting a tensor to a Python list" + _CONSTANT,
    "numpy": "Converting a tensor to a NumPy array" + _CONSTANT,
    "iteration": (
        "Iterating over a tensor might cause the trace to be incorrect. Passing a tensor of different shape won't change "
        "the number of iterations executed (and might lead to errors or silently give incorrect results)."
    ),
    "len": (
        "Using len to get tensor shape might cause the trace to be incorrect. Recommended usage would be tensor.shape[0]. "
        "Passing a tensor of different shape might lead to errors or silently give incorrect results."
    ),
}


class TracerWarning(Warning):
    """What ``torch.jit.trace`` warns of where a trace may not generalize (``jit.TracerWarning``)."""


def is_tracing():
    """Whether a trace is running the function now (``torch.jit.is_tracing()``)."""
    return _running[0]


@contextlib.contextmanager
def tracing():
    """Within the block, a trace runs the function."""
    previous, _running[0] = _running[0], True
    try:
        yield
    finally:
        _running[0] = previous


def untraceable(kind):
    """PyTorch's TracerWarning for a tensor turned into a Python value of ``kind`` (a key of
    ``_MESSAGES``), while a trace runs."""
    if _running[0]:
        warnings.warn(_MESSAGES[kind], TracerWarning, stacklevel=1)
