"""``chainrule.amp``, as ``torch.amp``: automatic mixed precision.

``autocast("cpu", dtype=chainrule.float16)`` computes matrix products and convolutions in float16
and the losses in float32, as PyTorch's CPU autocast (see ``autocast_mode.py``); ``GradScaler``
scales the loss as PyTorch's does (see ``grad_scaler.py``).
"""
from chainrule.amp.autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from chainrule.amp.grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]
