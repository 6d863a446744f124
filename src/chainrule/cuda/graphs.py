"""``torch.cuda.graphs`` on a machine without CUDA: no stream is ever being captured, and a
``CUDAGraph`` cannot be made (PyTorch's RuntimeError, as a CPU-only PyTorch raises)."""


class CUDAGraph:
    """A captured CUDA graph: none can be made without CUDA."""

    def __init__(self, keep_graph=False):
        raise RuntimeError("Tried to instantiate dummy base class CUDAGraph")


def is_current_stream_capturing():
    """False: nothing is captured without CUDA."""
    return False
