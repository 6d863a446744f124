"""``torch.cuda.Stream`` and ``Event`` on a machine without CUDA: the classes exist (code names them
in annotations, ``isinstance`` checks and timing helpers guarded by ``is_available()``), and making
one raises PyTorch's RuntimeError, as a CPU-only PyTorch does."""
import contextlib


class Stream:
    """A CUDA stream: none can be made without CUDA."""

    def __init__(self, device=None, priority=0, **kwargs):
        raise RuntimeError("torch.cuda.Stream requires CUDA support")


class Event:
    """A CUDA event (``Event(enable_timing=True)`` times GPU work): none can be made without CUDA."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False, external=False):
        raise RuntimeError("Tried to instantiate dummy base class Event")


class StreamContext(contextlib.nullcontext):
    """``with torch.cuda.StreamContext(s):`` work queued on ``s``; with None (the only stream there
    can be here) nothing changes."""

    def __init__(self, stream):
        if stream is not None:
            raise RuntimeError("torch.cuda.StreamContext requires CUDA support: only None, no stream, can be selected")
        super().__init__()


def stream(stream):
    """``with torch.cuda.stream(s):`` the ``StreamContext`` of ``s``."""
    return StreamContext(stream)
