"""``chainrule.utils.backcompat``, as ``torch.utils.backcompat``: the switches of two warnings from
PyTorch's early changes of behaviour, broadcasting where tensors of equal element counts were once
taken as flat (``broadcast_warning``) and reductions dropping the reduced dimension
(``keepdim_warning``). PyTorch keeps the switches, off, but no longer warns under either; so does
chainrule, so that code setting them (the broadcasting semantics notes) runs unchanged::

    torch.utils.backcompat.broadcast_warning.enabled = True
"""

__all__ = ["broadcast_warning", "keepdim_warning"]


class Warning:  # (PyTorch's name, though it hides the builtin within this module)
    """One switch: ``enabled``, also read and set through ``get_enabled`` and ``set_enabled``."""

    def __init__(self):
        self.enabled = False

    def set_enabled(self, value):
        self.enabled = value

    def get_enabled(self):
        return self.enabled


broadcast_warning = Warning()
keepdim_warning = Warning()
