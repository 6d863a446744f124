"""``chainrule.backends.cudnn``: cuDNN's settings, kept so that scripts setting them run unchanged.

They change nothing: chainrule computes with NumPy on the CPU, deterministically.
"""
import contextlib

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    """cuDNN's version: None, it is not there."""
    return None
benchmark_limit = 10


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True, fp32_precision="none", depthwise_kernel="auto"):
    """``with flags(...):`` these settings for the block, the previous ones restored after (as
    ``torch.backends.cudnn.flags``; like the settings, they change nothing here)."""
    settings = globals()
    given = {"enabled": enabled, "benchmark": benchmark, "benchmark_limit": benchmark_limit, "deterministic": deterministic, "allow_tf32": allow_tf32}
    previous = {name: settings[name] for name in given}
    settings.update(given)
    try:
        yield
    finally:
        settings.update(previous)
