"""``chainrule.backends.mha``: PyTorch's switch for the fused fast path of ``nn.MultiheadAttention``
and the Transformer layers in inference. chainrule computes them one way only, so the switch is a
setting that can be read and written and changes nothing."""

_fastpath_enabled = True


def get_fastpath_enabled():
    """Whether the fast path may be taken (True unless switched off)."""
    return _fastpath_enabled


def set_fastpath_enabled(value):
    """Allow (True) or forbid (False) the fast path."""
    global _fastpath_enabled
    _fastpath_enabled = bool(value)
