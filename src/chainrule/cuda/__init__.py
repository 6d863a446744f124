"""``chainrule.cuda``, as ``torch.cuda`` on a machine without CUDA: chainrule computes with NumPy
on the CPU.

Course code that asks before using the GPU runs unchanged::

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")   # -> cpu
    torch.cuda.manual_seed_all(0)                                            # nothing to seed

The questions PyTorch answers without CUDA answer the same here (no device, no memory in use); the
calls that need a device raise PyTorch's AssertionError, as a CPU-only PyTorch does; its legacy
types (``torch.cuda.FloatTensor``) exist, no tensor is one, and making one raises TypeError.
"""
from chainrule.cuda import amp, graphs
from chainrule.cuda.graphs import CUDAGraph, graph, is_current_stream_capturing
from chainrule.cuda.streams import Event, Stream, StreamContext, stream
from chainrule.legacy_types import CUDA_LEGACY_TYPES
from chainrule.accelerator import OutOfMemoryError  # torch.cuda.OutOfMemoryError is torch.OutOfMemoryError

FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor = CUDA_LEGACY_TYPES

_NO_CUDA = "Torch not compiled with CUDA enabled"


def is_available():
    return False


def is_initialized():
    return False


def is_bf16_supported(including_emulation=True):
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Nothing to seed: kept so that course code seeding every device runs unchanged."""


manual_seed_all = manual_seed


def seed():
    """Nothing to seed."""


seed_all = seed


def empty_cache():
    """No cached GPU memory to release."""


def memory_allocated(device=None):
    return 0


max_memory_allocated = memory_allocated
memory_reserved = memory_allocated
max_memory_reserved = memory_allocated


def _needs_a_device(*args, **kwargs):
    raise AssertionError(_NO_CUDA)


# What needs a CUDA device raises PyTorch's AssertionError.
synchronize = current_device = get_device_name = get_device_properties = get_device_capability = _needs_a_device
current_stream = default_stream = _needs_a_device
get_rng_state = initial_seed = _needs_a_device


#: The random generator of each CUDA device: none here, as a PyTorch without CUDA has (Reformer
#: seeds its layers from ``default_generators[device]`` when there is one, else from ``torch.seed()``).
default_generators = ()


def get_rng_state_all():
    """The random states of every CUDA device: none here (``[]``), as a PyTorch without CUDA answers
    (Lightning's ``isolate_rng`` saves and restores them around its sanity checks)."""
    return [get_rng_state(device) for device in range(device_count())]


def set_rng_state(new_state, device="cuda"):
    """Set a CUDA device's random state: queued until CUDA starts in PyTorch, which here it never
    does, so nothing happens (as in a PyTorch without CUDA)."""


def set_rng_state_all(new_states):
    """Set every CUDA device's random state (see ``set_rng_state``)."""
    for device, state in enumerate(new_states):
        set_rng_state(state, device)
