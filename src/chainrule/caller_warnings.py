"""Warnings shown at the user's line, as PyTorch's (raised from C++) are: the first frame outside
chainrule, however many of chainrule's own calls lie between (registry wrappers, ``Function.apply``);
and those PyTorch gives once per process (``warn_once``)."""
import os
import sys
import warnings

from chainrule import settings

_PACKAGE = os.path.dirname(os.path.abspath(__file__))  # chainrule's folder
_given = set()  # the keys of the warnings given once already


def warn_at_caller(message, category=UserWarning):
    """``warnings.warn(message, category)``, attributed to the first caller outside chainrule."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def warn_once(key, message, category=UserWarning):
    """``warn_at_caller``, once per process for each ``key``, as PyTorch's TORCH_WARN_ONCE
    warnings are given; every time after ``set_warn_always(True)``, and, as in PyTorch, a warning
    given then does not count as the once (it still comes when warn-always is turned off)."""
    if settings.is_warn_always_enabled():
        warn_at_caller(message, category)
    elif key not in _given:
        _given.add(key)
        warn_at_caller(message, category)
