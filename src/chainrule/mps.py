"""``chainrule.mps``, as ``torch.mps`` on a machine without Apple's GPU: nothing is available, the
seeds are accepted, and what needs the device raises PyTorch's RuntimeError."""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Nothing to seed: kept so that course code seeding every device runs unchanged."""


def seed():
    """Nothing to seed."""


def _needs_the_backend(call):
    def unavailable(*args, **kwargs):
        raise RuntimeError(f"Cannot execute {call}() without MPS backend.")

    return unavailable


empty_cache = _needs_the_backend("emptyCache")
synchronize = _needs_the_backend("deviceSynchronize")
current_allocated_memory = _needs_the_backend("getCurrentAllocatedMemory")
driver_allocated_memory = _needs_the_backend("getDriverAllocatedMemory")
