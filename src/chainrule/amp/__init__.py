"""``chainrule.amp``, as ``torch.amp``: automatic mixed precision, for code written for it.

chainrule computes in the dtypes it is given: ``autocast`` changes no dtype (see
``autocast_mode.py``) and ``GradScaler`` scales the loss as PyTorch's does (see ``grad_scaler.py``).
"""
from chainrule.amp.autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from chainrule.amp.grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]
