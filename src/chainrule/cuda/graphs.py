"""``torch.cuda.graphs`` on a machine without CUDA: no stream is ever being captured, and a
``CUDAGraph`` cannot be made (PyTorch's RuntimeError, as a CPU-only PyTorch raises)."""


class CUDAGraph:
    """A captured CUDA graph: none can be made without CUDA."""

    def __init__(self, keep_graph=False):
        raise RuntimeError("Tried to instantiate dummy base class CUDAGraph")


def is_current_stream_capturing():
    """False: nothing is captured without CUDA."""
    return False


class graph:  # noqa: N801 (PyTorch's name: a context manager)
    """``with torch.cuda.graph(g):`` captures CUDA work into ``g``: nothing can be captured without CUDA."""

    def __init__(self, cuda_graph, pool=None, stream=None, capture_error_mode="global", **kwargs):
        raise RuntimeError("torch.cuda.graph requires CUDA support")
