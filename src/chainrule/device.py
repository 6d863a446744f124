"""Devices: chainrule computes with NumPy on the CPU.

Course code picks its device the PyTorch way and runs unchanged::

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")   # -> cpu
    model.to(device)
"""
import importlib


#: The device types PyTorch knows, in the order its error message lists them.
DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla", "lazy",
    "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)


class device(str):
    """A device name, as ``torch.device``: ``device("cpu")``, ``device("cuda:1")``, ``device("cuda", 1)``,
    with ``.type`` and ``.index``; an unknown type or a malformed name raises PyTorch's RuntimeError
    (naming one is allowed: using one other than the CPU is refused where a tensor would go there)."""

    def __new__(cls, type_or_name="cpu", index=None):
        name = str(type_or_name)
        kind, colon, number = name.partition(":")
        if kind not in DEVICE_TYPES:
            if kind.strip() in DEVICE_TYPES or colon and not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{name}'")
            raise RuntimeError(
                f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: {name}"
            )
        if colon and not number.isdigit():
            raise RuntimeError(f"Invalid device string: '{name}'")
        if index is not None:
            if colon:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {name}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
            name = f"{kind}:{index}"
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

    def __enter__(self):
        """``with torch.device("cpu"):`` makes the tensors and layers created inside go to this device,
        as PyTorch's; chainrule has only the CPU, so entering checks that it is the one asked for."""
        check_device(self)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        return None  # an exception raised inside goes on


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
    kind = None if device is None else str(device).split(":")[0]
    if kind == "cuda":  # PyTorch's error on a machine without CUDA
        raise AssertionError(
            f"Torch not compiled with CUDA enabled: chainrule tensors live on the CPU (NumPy); device {device!r} is not "
            f"available. Use 'cpu', or drop the .to(device) call: course code runs unchanged without it."
        )
    if kind is not None and kind != "cpu":
        raise RuntimeError(
            f"chainrule tensors live on the CPU (NumPy); device {device!r} is not available. Use "
            f"'cpu', or drop the .to(device) call: course code runs unchanged without it."
        )


def get_device_module(device=None):
    """The module of a device type, as ``torch.get_device_module``: ``chainrule.cpu`` for 'cpu'
    (and for None, the CPU being chainrule's device), ``chainrule.cuda``, ``chainrule.mps``."""
    kind = get_default_device().type if device is None else _device(device).type
    if kind not in ("cpu", "cuda", "mps"):
        raise RuntimeError(f"Device '{kind}' does not have a corresponding module registered as 'chainrule.{kind}'.")
    return importlib.import_module(f"chainrule.{kind}")


_device = device  # the class, under a name that get_device_module's argument does not hide
