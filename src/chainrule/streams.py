"""``torch.Stream`` and ``torch.Event``: the device-generic stream and event, here of the CPU.

A stream is a queue of work on a device; an event marks a point in one, for another stream to wait
on or for timing. On the CPU (chainrule's only device) work runs in order as it is issued, so there
is one stream, always finished, and as in PyTorch the CPU backend records no events (code that only
makes, compares or synchronizes them runs unchanged). ``torch.cuda.Stream``/``Event`` are CUDA's
(``cuda/streams.py``).
"""
from chainrule.device import device as as_device

_NO_EVENTS = "cpu backend doesn't support events."


def _cpu(device):
    """The CPU device, or PyTorch's error for any other device type."""
    device = as_device("cpu" if device is None else device)
    if device.type != "cpu":
        raise RuntimeError(f"PyTorch is not linked with support for {device.type} devices")
    return device


class Stream:
    """The CPU's stream: ``Stream(device=None, *, priority=0)``; every one is the same stream."""

    def __init__(self, device=None, *, priority=0):
        _cpu(device)
        self.device_index, self.device_type, self.stream_id = -1, 0, 0  # DeviceType 0 is the CPU

    @property
    def device(self):
        return as_device("cpu")

    def query(self):
        """True: the work queued on the CPU is done when the call that queued it returns."""
        return True

    def synchronize(self):
        """Wait for the stream's work: nothing is pending."""

    def wait_event(self, event):
        """Make the stream wait for ``event``: nothing to wait for."""

    def wait_stream(self, stream):
        raise RuntimeError(_NO_EVENTS)

    def record_event(self, event=None):
        raise RuntimeError(_NO_EVENTS)

    def is_capturing(self):
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        return False

    def __eq__(self, other):
        return isinstance(other, Stream)

    def __hash__(self):
        return hash((self.device_type, self.device_index, self.stream_id))

    def __repr__(self):
        return f"chainrule.Stream device_type=cpu, device_index={self.device_index}, stream_id={self.stream_id}"


class Event:
    """An event of the CPU: ``Event(device=None, *, enable_timing=False, blocking=False,
    interprocess=False)``; it can be made, asked and waited on, not recorded (as in PyTorch)."""

    def __init__(self, device=None, *, enable_timing=False, blocking=False, interprocess=False):
        _cpu(device)
        self.enable_timing = enable_timing
        self.event_id = 0

    @property
    def device(self):
        return as_device("cpu")

    def record(self, stream=None):
        raise RuntimeError(_NO_EVENTS)

    def query(self):
        return True

    def synchronize(self):
        """Wait for the event: nothing is pending."""

    def wait(self, stream=None):
        """Make ``stream`` wait for the event: nothing to wait for."""

    def elapsed_time(self, end_event):
        if not (self.enable_timing and end_event.enable_timing):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        raise RuntimeError(_NO_EVENTS)

    def __repr__(self):
        return f"chainrule.Event device_type=cpu, device_index=-1, event_flag={int(self.enable_timing)}, event_id={self.event_id}"
