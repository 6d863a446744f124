"""``chainrule.cpu``, as ``torch.cpu``: the device-module interface for the CPU, where chainrule
computes, so that device-agnostic code (``torch.get_device_module(device).synchronize()``) runs.
NumPy computes synchronously: there is nothing to wait for and one stream."""
import contextlib
import warnings

from chainrule import amp as _amp
from chainrule import dtypes as _dtypes


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


def _deprecated(name):
    warnings.warn(
        f"`torch.cpu.amp.{name}(args...)` is deprecated. Please use `torch.amp.{name}('cpu', args...)` instead.",
        FutureWarning,
        stacklevel=3,
    )


class amp:  # noqa: N801 (torch.cpu.amp, a namespace)
    """``torch.cpu.amp``: PyTorch's older names for ``autocast("cpu")`` and ``GradScaler("cpu")``,
    deprecated there (each warns so) in favour of ``torch.amp``."""

    class autocast(_amp.autocast):  # noqa: N801 (PyTorch's name)
        """``torch.cpu.amp.autocast(enabled=True, dtype=torch.bfloat16, cache_enabled=True)``."""

        def __init__(self, enabled=True, dtype=_dtypes.bfloat16, cache_enabled=True):
            _deprecated("autocast")
            super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

    class GradScaler(_amp.GradScaler):
        """``torch.cpu.amp.GradScaler(init_scale=2.**16, growth_factor=2.0, backoff_factor=0.5,
        growth_interval=2000, enabled=True)``."""

        def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True):
            _deprecated("GradScaler")
            super().__init__("cpu", init_scale, growth_factor, backoff_factor, growth_interval, enabled)
