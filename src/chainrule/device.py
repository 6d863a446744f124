"""Devices: chainrule computes with NumPy on the CPU.

Course code picks its device the PyTorch way and runs unchanged::

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")   # -> cpu
    model.to(device)
"""
import builtins
import importlib
import re


#: The device types PyTorch knows, in the order its error message lists them.
DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla", "lazy",
    "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)


#: What PyTorch reads as a device: a type of letters and underscores, maybe ``:`` and an index
#: without leading zeros (``cuda:0``; not ``float32``, ``cuda:x``, ``cpu:01``).
_DEVICE_STRING = re.compile(r"[a-zA-Z_]+(?::(?:[1-9][0-9]*|0))?")


class device(str):
    """A device name, as ``torch.device``: ``device("cpu")``, ``device("cuda:1")``, ``device("cuda", 1)``,
    with ``.type`` and ``.index``; an unknown type or a malformed name raises PyTorch's RuntimeError
    (naming one is allowed: using one other than the CPU is refused where a tensor would go there)."""

    def __new__(cls, type, index=None):  # PyTorch's parameter names: device(type="cuda", index=0)
        if not isinstance(type, str):
            if isinstance(type, int) and not isinstance(type, bool):  # a bare index names the accelerator's device
                raise RuntimeError(f"Cannot access accelerator device when none is available: device({type}) names an "
                                   f"accelerator; chainrule computes on the CPU, use device('cpu')")
            raise TypeError(f"device(): argument 'type' (position 1) must be str, not {builtins.type(type).__name__}; "
                            f"write device('cpu') or device('cuda', 0)")
        if index is not None and (isinstance(type, device) or not isinstance(index, int) or isinstance(index, bool)):
            what = "must be str, not device" if isinstance(type, device) else f"'index' must be int, not {builtins.type(index).__name__}"
            raise TypeError(f"device(): argument {what}; write device('cpu', 0) or device('cpu:0')")
        name = type
        if not _DEVICE_STRING.fullmatch(name):
            raise RuntimeError(f"Invalid device string: '{name}'")
        kind, colon, _ = name.partition(":")
        if kind not in DEVICE_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: {name}"
            )
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
        """``with torch.device("cpu"):`` makes the tensors and layers created inside go to this device
        (it is the default device until the block ends), as PyTorch's. Another device than the CPU
        is refused where a tensor would go there, not on entering, as in PyTorch."""
        global _default_device
        _entered.append(_default_device)
        _default_device = self
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        global _default_device
        _default_device = _entered.pop()
        return None  # an exception raised inside goes on


#: The device factories place a tensor on when given none: None for the CPU, as nobody chose one.
_default_device = None
#: The default devices that ``with device(...)`` blocks replaced, innermost last.
_entered = []


def get_default_device():
    """The device factories place new tensors on: ``device(type='cpu')`` unless another was set
    (``set_default_device('cpu:0')`` gives ``device(type='cpu', index=0)``); a CUDA device raises
    PyTorch's error here, as asking which CUDA device is current does."""
    if _default_device is None:
        return _CPU
    if _default_device.type not in ("cpu", "meta"):
        check_device(_default_device)
    return _default_device


def set_default_device(new_device):
    """Make ``new_device`` (a device or its name; None: the CPU) the one factories place new tensors
    on. A malformed name is refused at once; a device chainrule has not (``'cuda'``) is accepted,
    and refused by the next factory call, as PyTorch does on a machine without it."""
    global _default_device
    _default_device = None if new_device is None else device(new_device)


def check_device(device):
    """chainrule computes with NumPy on the CPU: asking for another device must not silently fail.
    None is the default device (see ``set_default_device``). 'meta' is refused too, where it is
    checked: the factories (see ``on_meta``), the layers and ``Tensor.to`` are what make meta tensors."""
    if on_meta(device):
        asked = "the default device is 'meta'" if device is None else f"device {device!r}"
        raise RuntimeError(
            f"chainrule has no 'meta' version of this function ({asked}): meta tensors come from the factories "
            f"(zeros, rand, arange...), layers built on 'meta' and Tensor.to('meta'); use 'cpu'."
        )


def on_meta(device):
    """Whether a new tensor asked for on ``device`` (None: the default device) goes to PyTorch's
    'meta' device: a shape and a dtype, no values (a module's structure, shapes worked out without
    computing). Another device than the CPU is refused, as chainrule has none."""
    if device is None:
        device = _default_device
        if device is None:
            return False
    elif type(device) is not _device:
        device = _device(device)  # PyTorch's errors: a float, an accelerator index, a name of no device ('gpu')
    kind = device.partition(":")[0]
    if kind == "cpu":
        return False
    if kind == "meta":
        return True
    if kind == "cuda":  # PyTorch's error on a machine without CUDA
        raise AssertionError(
            f"Torch not compiled with CUDA enabled (chainrule tensors live on the CPU, NumPy; device '{device}' is not "
            f"available. Use 'cpu', or drop the .to(device) call: course code runs unchanged without it)"
        )
    raise RuntimeError(
        f"chainrule tensors live on the CPU (NumPy); device '{device}' is not available. Use "
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
_CPU = device("cpu")
