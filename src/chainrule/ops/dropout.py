"""Dropout's random mask as an operation, so that a compiled step draws it anew on every call.

``F.dropout`` multiplies its input by this mask (a MulBackward0 node, as PyTorch's). Drawn inside an
operation, the mask is one line of a compiled program: each replay draws from the global generator
as it is then (``manual_seed`` between calls included), and the random stream advances exactly as
in eager.
"""
from chainrule import sampling_algorithms
from chainrule.backend import xp
from chainrule.memory_layout import inverse_order
from chainrule.ops.op import Op
from chainrule.random import engine_of


class DropoutMask(Op):
    """The mask of inverted dropout, of shape ``shape`` and type ``dtype``: each element
    1 / (1 - p) with probability 1 - p, else 0, drawn from the global generator as PyTorch draws
    it (the same numbers for the same seed); p = 1 draws nothing, as in PyTorch.

    ``order`` (outermost first; None: row-major) is the memory order of the input the mask matches:
    PyTorch draws into ``empty_like(input)``, so the numbers fill memory in that order (a transposed
    LSTM output of ``batch_first`` gets its mask drawn along the time-major memory)."""

    formula = "[u ≥ p] / (1 - p),  u ~ uniform[0, 1) of shape `shape`, drawn in memory order `order`"
    derivatives = (None, None, None, None)

    @staticmethod
    def forward(ctx, shape, dtype, p, order=None):
        if p == 1.0:
            return xp.zeros(shape, dtype)
        if order is None:
            return sampling_algorithms.dropout_mask(engine_of(None), shape, p, dtype)
        in_memory = sampling_algorithms.dropout_mask(engine_of(None), tuple(shape[dim] for dim in order), p, dtype)
        return in_memory.transpose(inverse_order(order))
