"""Warnings shown at the user's line, as PyTorch's (raised from C++) are: the first frame outside
chainrule, however many of chainrule's own calls lie between (registry wrappers, ``Function.apply``)."""
import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__))  # chainrule's folder


def warn_at_caller(message, category=UserWarning):
    """``warnings.warn(message, category)``, attributed to the first caller outside chainrule."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
