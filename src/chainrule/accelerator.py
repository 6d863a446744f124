"""``chainrule.accelerator``: PyTorch's device-neutral questions, answered for NumPy on the CPU.

Course code written for any GPU asks ``torch.accelerator.is_available()`` and falls back to the CPU
when it is False, as it always is here.
"""


def is_available():
    return False


def device_count():
    return 0


def current_accelerator(check_available=False):
    """The accelerator in use: None, there is none."""
    return None


def synchronize(device=None):
    """Nothing runs asynchronously on NumPy: nothing to wait for."""


class AcceleratorError(RuntimeError):
    """``torch.AcceleratorError``: what a failing accelerator raises. Never raised here (there is
    none), named so that ``except torch.AcceleratorError`` clauses run."""


class OutOfMemoryError(RuntimeError):
    """``torch.OutOfMemoryError`` (also ``torch.cuda.OutOfMemoryError``): an accelerator's memory ran
    out. chainrule computes in the CPU's memory, where NumPy raises MemoryError instead; the name
    is here for code that catches it to retry with a smaller batch."""
