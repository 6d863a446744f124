"""``chainrule.backends.mkldnn``: the settings of oneDNN (MKL-DNN), PyTorch's CPU kernel library.

chainrule computes with NumPy, not oneDNN; ``is_available()`` answers as PyTorch's CPU build does
(True), so that libraries choosing their path by it take PyTorch's (kornia blurs with a convolution
then, with an average pool otherwise: the results differ in the last bit). The settings are kept,
read back and change nothing, as ``cudnn``'s are.
"""
import contextlib

enabled = True
deterministic = False
allow_tf32 = None
fp32_precision = "none"
VERBOSE_OFF, VERBOSE_ON, VERBOSE_ON_CREATION = 0, 1, 2


def is_available():
    return True


def is_acl_available():
    """Whether oneDNN was built with the Arm Compute Library: no oneDNN here."""
    return False


def set_flags(_enabled=None, _deterministic=None, _allow_tf32=None, _fp32_precision="none"):
    """Set the given settings (None: left as they are); the previous ones, as a tuple."""
    settings = globals()
    previous = (enabled, deterministic, allow_tf32, fp32_precision)
    given = {"enabled": _enabled, "deterministic": _deterministic, "allow_tf32": _allow_tf32, "fp32_precision": _fp32_precision}
    settings.update({name: value for name, value in given.items() if value is not None})
    return previous


@contextlib.contextmanager
def flags(enabled=False, deterministic=False, allow_tf32=True, fp32_precision="none"):
    """``with flags(...):`` these settings for the block, the previous ones restored after."""
    previous = set_flags(enabled, deterministic, allow_tf32, fp32_precision)
    try:
        yield
    finally:
        set_flags(*previous)


class verbose:
    """``with verbose(VERBOSE_ON):`` oneDNN's log of the kernels it runs: none run here."""

    def __init__(self, level):
        self.level = level

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        return False
