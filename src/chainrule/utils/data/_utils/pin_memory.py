"""``pin_memory(batch)``: every tensor of a batch in page-locked memory, as
``torch.utils.data._utils.pin_memory``; containers are walked as ``default_collate`` walks them.

A DataLoader pins only where an accelerator exists to copy to; on NumPy there is none, so
``DataLoader(pin_memory=True)`` warns, as PyTorch does on such a machine, and never calls this.
"""
import collections.abc

from chainrule.utils.data._utils.collate import rebuild_mapping, rebuild_sequence


def pin_memory(data, device=None):
    """``data`` with ``.pin_memory()`` applied to every tensor (or object that has it) inside."""
    if hasattr(data, "pin_memory"):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return rebuild_mapping(data, {key: pin_memory(value, device) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(pin_memory(item, device) for item in data))
    if isinstance(data, tuple):
        return type(data)(pin_memory(item, device) for item in data)
    if isinstance(data, collections.abc.Sequence):
        return rebuild_sequence(data, [pin_memory(item, device) for item in data])
    return data
