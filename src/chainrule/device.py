"""Devices: chainrule computes with NumPy on the CPU.

Course code picks its device the PyTorch way and runs unchanged::

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")   # -> cpu
    model.to(device)
"""


class device(str):
    """A device name, as ``torch.device``: ``device("cpu")``, with ``.type`` and ``.index``."""

    def __new__(cls, type_or_name="cpu", index=None):
        name = type_or_name if index is None else f"{type_or_name}:{index}"
        return super().__new__(cls, name)

    @property
    def type(self):
        return self.split(":")[0]

    @property
    def index(self):
        parts = self.split(":")
        return int(parts[1]) if len(parts) > 1 else None

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"


_default_device = device("cpu")


def get_default_device():
    """The device factories place new tensors on: always ``device(type='cpu')``."""
    return _default_device


def set_default_device(new_device):
    """Accepts ``'cpu'`` (or None, which means the CPU), as course code sets it; any other device
    is refused with the reason, since chainrule has only the CPU."""
    check_device(new_device)


def check_device(device):
    """chainrule computes with NumPy on the CPU: asking for another device must not silently fail."""
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(
            f"chainrule tensors live on the CPU (NumPy); device {device!r} is not available. Use "
            f"'cpu', or drop the .to(device) call: course code runs unchanged without it."
        )
