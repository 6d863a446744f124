"""``chainrule.xpu``, as ``torch.xpu`` in a PyTorch built without Intel GPU support: libraries probe
``torch.xpu.device_count()`` and ``is_available()`` to pick a device (transformers' pipelines do).
With no device, the questions answer as ``torch.cuda``'s do without CUDA (the same functions), and
what needs a device raises PyTorch's AssertionError."""
from chainrule.cuda import (  # noqa: F401  torch.xpu's names, the answers of no device
    device_count,
    empty_cache,
    get_rng_state_all,
    is_available,
    is_bf16_supported,
    is_initialized,
    manual_seed,
    manual_seed_all,
    max_memory_allocated,
    max_memory_reserved,
    memory_allocated,
    memory_reserved,
    seed,
    seed_all,
)


def _needs_xpu(*args, **kwargs):
    raise AssertionError("Torch not compiled with XPU enabled")


synchronize = current_device = set_device = get_device_name = get_device_properties = _needs_xpu
get_device_capability = initial_seed = get_rng_state = set_rng_state = _needs_xpu
