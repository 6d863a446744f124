"""Anomaly detection: find the forward line whose backward produced a NaN.

Inside ``detect_anomaly()`` every node remembers the stack of the forward call that created it, and
the engine checks each gradient a node returns: the first NaN raises a RuntimeError that names the
node (``LogBackward``) and prints where it was made.
"""
import threading
import warnings


class _AnomalyMode(threading.local):
    enabled = False
    check_nan = True


_state = _AnomalyMode()


def is_anomaly_enabled():
    return _state.enabled


def is_anomaly_check_nan_enabled():
    return _state.enabled and _state.check_nan


def set_detect_anomaly(mode, check_nan=True):
    """Switch anomaly detection on or off for this thread (PyTorch's ``set_detect_anomaly``)."""
    _state.enabled = bool(mode)
    _state.check_nan = bool(check_nan)


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
        set_detect_anomaly(True, self.check_nan)
        return self

    def __exit__(self, *exc_info):
        _state.enabled, _state.check_nan = self._previous
        return False

    def __call__(self, function):
        def run_with_detection(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return function(*args, **kwargs)

        return run_with_detection
