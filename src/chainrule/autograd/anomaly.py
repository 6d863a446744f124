"""Anomaly detection: find the forward line whose backward produced a NaN.

Inside ``detect_anomaly()`` every node remembers the stack of the forward call that created it, and
the engine checks each gradient a node returns: the first NaN raises a RuntimeError that names the
node (``LogBackward0``). Any error raised in a node's backward is preceded, as in PyTorch, by a
UserWarning "Error detected in LogBackward0. Traceback of forward call that caused the error:"
with the stack of that forward call.
"""
import threading
import warnings


class _AnomalyMode(threading.local):
    enabled = False
    check_nan = True


_state = _AnomalyMode()


def is_anomaly_enabled():
    """True while anomaly detection is on (``torch.is_anomaly_enabled``)."""
    return _state.enabled


def is_anomaly_check_nan_enabled():
    """Whether anomaly detection, when on, looks for NaN in gradients (``torch.is_anomaly_check_nan_enabled``:
    the flag itself, True by default, also while detection is off)."""
    return _state.check_nan


def checks_nan():
    """Whether the backward pass running now must look for NaN in each node's gradients."""
    return _state.enabled and _state.check_nan


def set_anomaly_enabled(mode, check_nan=True):
    """Switch anomaly detection on or off for this thread (``torch.set_anomaly_enabled``)."""
    _state.enabled = bool(mode)
    _state.check_nan = bool(check_nan)


class set_detect_anomaly:  # noqa: N801 (PyTorch's name)
    """Switch anomaly detection on or off: at once when called, as a function, and restored to what
    it was at the end of the block when used with ``with`` (PyTorch's ``set_detect_anomaly``)::

        torch.autograd.set_detect_anomaly(True)             # on from here
        with torch.autograd.set_detect_anomaly(False):      # off inside, back on after
            ...
    """

    def __init__(self, mode, check_nan=True):
        self.prev = is_anomaly_enabled()
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc_info):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
        return False


class detect_anomaly:
    """Context manager (and decorator) that enables anomaly detection inside its block."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should "
            "only be enabled for debugging.",
            stacklevel=2,
        )
        self._previous = (_state.enabled, _state.check_nan)
        set_anomaly_enabled(True, self.check_nan)
        return self

    def __exit__(self, *exc_info):
        _state.enabled, _state.check_nan = self._previous
        return False

    def __call__(self, function):
        def run_with_detection(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return function(*args, **kwargs)

        return run_with_detection
