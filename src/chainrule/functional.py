"""The operations as top-level functions, as PyTorch offers them: ``chainrule.exp(x)``,
``chainrule.softmax(x, dim=1)``, ``chainrule.cat([a, b])``.

Each operation registers itself where it is declared (``ops/registry.py``); importing the families
here makes every one of them public, as a function here and as a Tensor method.
"""
# Modules that register factories and Tensor methods of their own:
from chainrule import creation, from_memory, legacy_types, new_factories, queries, sampling, signal_windows  # noqa: F401
# The families of operations (ops/), each declaring its operations once:
from chainrule.ops import (  # noqa: F401
    activation,
    broadcast,
    compare,
    complex_numbers,
    compressed_indices,
    conv,
    decompositions,
    distance,
    elementwise,
    factorizations,
    index,
    join,
    legacy_linalg,
    linalg,
    lowrank,
    matmul,
    placement,
    pool,
    reduce,
    scan,
    segment_reduce,
    shape,
    sort,
    special,
    spectrogram,
    statistics,
    view_copies,
)
from chainrule.ops.registry import functions
from chainrule.overrides import make_overridable

complex_numbers.refuse_complex_where_pytorch_does()
globals().update(vars(functions))
# a call given an object that defines __torch_function__ is that object's to answer (overrides.py),
# but for the constructors from data, which PyTorch hands to modes alone (tensor(t) is a plain tensor)
make_overridable(globals(), vars(functions), "chainrule", modes_only={"tensor", "as_tensor", "asarray"})
__all__ = sorted(vars(functions))


def __getattr__(name):
    """``chainrule.functional.F``: ``nn.functional``, as PyTorch's ``torch.functional`` imports it
    under that name (course code calls ``torch.functional.F.avg_pool2d``)."""
    if name == "F":
        from chainrule.nn import functional

        return functional
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
