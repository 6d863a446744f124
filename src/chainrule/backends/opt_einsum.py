"""``chainrule.backends.opt_einsum``: the opt_einsum package, which PyTorch's ``einsum`` asks for the
order of its contractions when it is installed.

chainrule's ``einsum`` contracts left to right, as PyTorch does without opt_einsum, whether or not
the package is installed; so it is never available here, and the settings are kept and read back.
"""
import contextlib

enabled = False
strategy = None


def is_available():
    return False


def get_opt_einsum():
    """The opt_einsum module einsum uses: None."""
    return None


def set_flags(_enabled=None, _strategy=None):
    """Set the given settings (None: left as they are); the previous ones, as a tuple."""
    global enabled, strategy
    previous = (enabled, strategy)
    if _enabled is not None:
        enabled = _enabled
    if _strategy is not None:
        strategy = _strategy
    return previous


@contextlib.contextmanager
def flags(enabled=None, strategy=None):
    """``with flags(...):`` these settings for the block, the previous ones restored after."""
    previous = set_flags(enabled, strategy)
    try:
        yield
    finally:
        set_flags(*previous)
