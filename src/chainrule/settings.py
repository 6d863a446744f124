"""The process-wide switches of PyTorch's utilities, as training scripts set them.

- ``use_deterministic_algorithms`` and its companions: every chainrule operation is deterministic
  already (NumPy on the CPU: the same inputs give the same bits, run after run), so the switch
  chooses nothing; it keeps the state PyTorch keeps, with its checks.
- ``set_num_threads`` / ``get_num_threads``: the threads of NumPy's BLAS, the only parallel work
  (matrix products and convolutions), through threadpoolctl (the ``threads`` extra);
  ``set_num_interop_threads`` keeps its number (operations run one after another).
- ``set_warn_always``: warnings given once per process are given every time.
- ``set_float32_matmul_precision``: float32 products are always computed in float32 here ('highest');
  other precisions are accepted and read back, as PyTorch does on a CPU without TF32 or bfloat16.
- ``set_flush_denormal``: subnormal numbers read and computed as 0, on the CPU itself (NumPy too).
"""
import os
import warnings

from chainrule import backend

_DEBUG_MODES = ("default", "warn", "error")
_MATMUL_PRECISIONS = ("highest", "high", "medium")

_state = {"deterministic": False, "warn_only": False, "matmul_precision": "highest"}


# ----------------------------------------------------------------------------- deterministic algorithms
def use_deterministic_algorithms(mode, *, warn_only=False):
    """Ask for deterministic algorithms only (``warn_only``: warn rather than raise where one has
    none; here every one is deterministic)."""
    for name, value in (("mode", mode), ("warn_only", warn_only)):
        if not isinstance(value, bool):
            position = " (position 1)" if name == "mode" else ""
            raise TypeError(
                f"use_deterministic_algorithms(): argument '{name}'{position} must be bool, not {type(value).__name__}"
            )
    _state["deterministic"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _state["warn_only"]


def set_deterministic_debug_mode(debug_mode):
    """The same switch by level: 'default' or 0 (off), 'warn' or 1 (on, warning only), 'error' or
    2 (on)."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(
                f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got {debug_mode}"
            )
        debug_mode = _DEBUG_MODES.index(debug_mode)
    elif isinstance(debug_mode, int):
        if debug_mode not in (0, 1, 2):
            raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    else:
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    """0 when off, 1 when on with warnings only, 2 when on."""
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


# ----------------------------------------------------------------------------- threads
def set_num_threads(num):
    """Compute matrix products and convolutions on ``num`` threads (NumPy's BLAS threads).

    Without threadpoolctl (``pip install chainrule[threads]``) the BLAS keeps the threads it started
    with (set ``OMP_NUM_THREADS`` before Python starts to choose them): a warning says so once.
    """
    if isinstance(num, bool) or not isinstance(num, int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(num).__name__}")
    if num <= 0:
        raise RuntimeError(f"set_num_threads expects a positive integer, but got {num}")
    if not backend.set_blas_threads(num):
        warnings.warn(
            f"chainrule.set_num_threads({num}): NumPy's BLAS threads were left as they are; install "
            f"threadpoolctl (pip install chainrule[threads]) to set them, or set OMP_NUM_THREADS before "
            f"Python starts",
            RuntimeWarning,
            stacklevel=2,
        )
    _state["num_threads"] = num


def get_num_threads():
    """The threads matrix products run on: the BLAS's, else the number set, else the CPUs this
    process may use."""
    return backend.blas_threads() or _state.get("num_threads") or available_cpus()


def available_cpus():
    """The CPUs this process may run on (its affinity where the system tells it, as on Linux; else
    every CPU of the machine, as on macOS and Windows)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def set_num_interop_threads(num):
    """The threads independent operations would run on side by side. chainrule runs operations one
    after another (each on the BLAS threads of ``set_num_threads``), so the number is only kept; as in
    PyTorch, it may be set once."""
    if isinstance(num, bool) or not isinstance(num, int):
        raise RuntimeError(f"set_num_interop_threads expects an int, but got {type(num).__name__}")
    if num <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    if "interop_threads" in _state:
        raise RuntimeError(
            "Error: cannot set number of interop threads after parallel work has started or set_num_interop_threads called"
        )
    _state["interop_threads"] = num


def get_num_interop_threads():
    """The number ``set_num_interop_threads`` kept, else the CPUs this process may use."""
    return _state.get("interop_threads") or available_cpus()


# ----------------------------------------------------------------------------- float32 matmul precision
def set_float32_matmul_precision(precision):
    """'highest' (float32 throughout), 'high' or 'medium' (PyTorch may then use TF32 or bfloat16
    on hardware that has them): recorded; NumPy always computes float32 products in float32."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in _MATMUL_PRECISIONS:
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
            f"set_float32_matmul_precision call has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _state["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _state["matmul_precision"]


# ----------------------------------------------------------------------------- subnormal numbers
def set_flush_denormal(mode, /):
    """``True``: this thread's arithmetic treats subnormal numbers (below 1.2e-38 in float32,
    2.2e-308 in float64) as 0, as PyTorch sets the x86 CPU to (faster where they occur, and NumPy's
    results flush to 0 just as PyTorch's do); ``False`` restores them. True when the CPU was set,
    False where it cannot be (not an x86-64 CPU under glibc)."""
    if not isinstance(mode, bool):
        raise RuntimeError(f"flush_denormal expects a bool, but got {type(mode).__name__}")
    return backend.flush_denormal(mode)


# ----------------------------------------------------------------------------- warnings
def set_warn_always(b):
    """``True``: warnings chainrule gives once per process (as PyTorch's TORCH_WARN_ONCE, such as
    ``float()`` of a tensor that requires grad) are given every time."""
    if not isinstance(b, bool):
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {type(b).__name__}")
    _state["warn_always"] = b


def is_warn_always_enabled():
    return _state.get("warn_always", False)
