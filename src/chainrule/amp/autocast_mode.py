"""``autocast``: PyTorch's mixed-precision region, kept so that code using it runs unchanged.

In PyTorch, ``with torch.autocast("cpu"):`` runs matrix products and convolutions in bfloat16.
chainrule has no bfloat16 and keeps every computation in float32: the results are those of the same
code with autocast disabled (a little more precise than PyTorch's, never less). Asking for a dtype
that PyTorch's CPU autocast itself refuses gives PyTorch's warning; ``device_type="cuda"`` warns,
as PyTorch without CUDA does, that autocast is disabled. Works as a context manager and as a
decorator.
"""
import functools
import warnings

from chainrule import dtypes

_DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
    "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)


def is_autocast_available(device_type):
    """Whether PyTorch has autocast for ``device_type`` (chainrule accepts it, keeping float32)."""
    return device_type in ("cpu", "cuda", "xpu", "mps", "hpu", "mtia")


class autocast:
    """``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: a region (or a
    decorated function) in which PyTorch would compute in lower precision; chainrule keeps float32."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in _DEVICE_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device string: {device_type}"
            )
        self.device = device_type
        self.fast_dtype = dtype
        self._enabled = enabled
        if enabled and device_type == "cuda":
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", stacklevel=2)
            self._enabled = False
        elif enabled and device_type == "cpu" and dtype is not None and dtype not in (dtypes.float16, dtypes.bfloat16):
            warnings.warn(
                "In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                "CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                stacklevel=2,
            )
            self._enabled = False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def in_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return in_autocast


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for a custom Function's forward under autocast: returns it unchanged (no casting)."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorator for a custom Function's backward under autocast: returns it unchanged."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd
