"""``chainrule.backends.cudnn``: cuDNN's settings, kept so that scripts setting them run unchanged.

They change nothing: chainrule computes with NumPy on the CPU, deterministically.
"""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    """cuDNN's version: None, it is not there."""
    return None
