"""``chainrule.cpu``, as ``torch.cpu``: the device-module interface for the CPU, where chainrule
computes, so that device-agnostic code (``torch.get_device_module(device).synchronize()``) runs.
NumPy computes synchronously: there is nothing to wait for and one stream."""
import contextlib

from chainrule.amp import autocast as _autocast


def is_available():
    return True


def is_initialized():
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def set_device(device):
    """Nothing to set: there is one CPU device."""


def synchronize(device=None):
    """Wait for the CPU's work: NumPy has finished it when its call returns."""


class Stream:
    """The CPU's one stream (it exists for device-agnostic code, as PyTorch's does)."""

    def __init__(self, priority=-1):
        self.priority = priority

    def wait_stream(self, stream):
        pass

    def synchronize(self):
        pass

    def query(self):
        return True


class Event:
    """A marker on the CPU's stream: every event has already happened."""

    def query(self):
        return True

    def record(self, stream=None):
        pass

    def synchronize(self):
        pass

    def wait(self, stream=None):
        pass


_stream = Stream()


def current_stream(device=None):
    return _stream


@contextlib.contextmanager
def stream(stream):
    """Run the block on ``stream``: the CPU has one."""
    yield


StreamContext = stream


class amp:  # noqa: N801 (torch.cpu.amp, a namespace)
    """``torch.cpu.amp.autocast``, PyTorch's older name for ``autocast("cpu")``."""

    @staticmethod
    def autocast(enabled=True, dtype=None, cache_enabled=True):
        return _autocast("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)
