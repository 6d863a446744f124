"""``chainrule.signal``, as ``torch.signal``: window functions (``signal.windows``)."""
from chainrule.signal import windows  # noqa: F401

__all__ = ["windows"]
