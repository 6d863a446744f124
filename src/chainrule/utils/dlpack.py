"""DLPack: tensors shared with other array libraries without copying (``torch.utils.dlpack``).

DLPack is the common description of a block of memory as a tensor (its address, shape, strides and
dtype) that NumPy, PyTorch, CuPy, JAX and others read and write::

    array = numpy.arange(4.0)
    t = chainrule.from_dlpack(array)   # a tensor over the array's memory
    t[0] = -1.0                        # array[0] is -1.0 too
    numpy.from_dlpack(t)               # back again, still the same memory (Tensor.__dlpack__)

``from_dlpack`` takes any object with ``__dlpack__`` (a NumPy array, a PyTorch tensor) or a DLPack
capsule, the opaque object ``to_dlpack`` gives (a capsule is used up by the first tensor made from it).
"""
import enum

from chainrule.backend import array_from_dlpack, to_dlpack_capsule
from chainrule.device import device as chainrule_device
from chainrule.tensor import Tensor, sharing_numpy_memory

__all__ = ["DLDeviceType", "from_dlpack"]


class DLDeviceType(enum.IntEnum):
    """The device kinds of the DLPack specification, by their numbers (chainrule's memory is kDLCPU's)."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A tensor over the memory of ``ext_tensor`` (an object with ``__dlpack__``, or a DLPack capsule),
    sharing it (``copy=True``: over a copy), with its shape, strides and dtype. ``device`` may only
    name the CPU, where chainrule's tensors are."""
    if device is not None and chainrule_device(device).type != "cpu":
        raise BufferError(f"Cannot pack tensors on {chainrule_device(device).type}: chainrule's tensors live on the CPU")
    return sharing_numpy_memory(array_from_dlpack(ext_tensor, copy=copy))


def to_dlpack(tensor):
    """A DLPack capsule sharing ``tensor``'s memory, for another library's ``from_dlpack`` (once)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack(): argument 'data' (position 1) must be Tensor, not {type(tensor).__name__}")
    if tensor.is_meta:
        raise BufferError("Cannot pack tensors on meta: a meta tensor has no memory")
    return to_dlpack_capsule(tensor._array)
