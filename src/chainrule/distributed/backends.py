"""The communication backends by name, as ``torch.distributed`` names them, and which ones run here.

PyTorch moves tensors between processes with one of several engines: ``"gloo"`` (CPU),
``"nccl"`` (NVIDIA GPUs), ``"mpi"``, ``"ucc"``, ``"xccl"`` (Intel GPUs). chainrule's processes talk
through MPI (mpi4py): ``init_process_group(backend="gloo")`` runs on MPI under ``mpiexec``, and is
taken for a group of this one process, where nothing travels, without it. So ``is_mpi_available()``
says whether mpi4py is installed, ``is_gloo_available()`` is True (as a CPU PyTorch's), and the GPU
and UCC engines are not available, as in a CPU-only PyTorch.

``Backend`` is PyTorch's string-like class of these names: ``Backend.GLOO == "gloo"``, and
``Backend("GLOO")`` gives ``"gloo"`` (a name it does not know, lower-cased).
"""
import warnings
from collections import namedtuple


class Backend(str):
    """The backends' names, as attributes (``Backend.NCCL`` is ``"nccl"``); ``Backend(name)``
    returns the lower-case name (``Backend("GLOO") == "gloo"``). ``register_backend`` adds a
    third-party backend's name, as PyTorch's does; chainrule's ``init_process_group`` runs MPI only,
    so a registered backend is known by name but not run."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"
    FAKE = "fake"

    _BackendPlugin = namedtuple("_BackendPlugin", ["creator_fn", "extended_api"])

    _plugins = {}

    backend_list = [UNDEFINED, GLOO, NCCL, XCCL, UCC, MPI, FAKE]

    #: The backend ``init_process_group`` picks for each kind of device when none is named
    default_device_backend_map = {"cpu": GLOO, "cuda": NCCL, "xpu": XCCL, "mps": GLOO}

    #: The kinds of device whose tensors each backend moves
    backend_capability = {
        GLOO: ["cpu", "cuda"],
        NCCL: ["cuda"],
        XCCL: ["xpu"],
        UCC: ["cpu", "cuda"],
        MPI: ["cpu", "cuda"],
        FAKE: ["cpu", "cuda", "hpu", "xpu"],
    }

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError("Backend constructor parameter must be string-ish")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return value

    @classmethod
    def register_backend(cls, name, func, extended_api=False, devices=None):
        """Register a third-party backend: ``name`` becomes an attribute (``Backend.NAME``) and
        joins ``backend_list``; ``func(store, rank, world_size, timeout)`` is what would make it,
        ``devices`` the kinds of device it serves (default: cpu and cuda, with a warning)."""
        if not hasattr(Backend, name.upper()):
            setattr(Backend, name.upper(), name.lower())
        if name.lower() not in Backend.backend_list:
            Backend.backend_list.append(name.lower())
        if devices is not None:
            for device in devices:
                current = Backend.default_device_backend_map.get(device)
                # a real backend may take a device over from the fake one, not the other way round
                if current is None or (current == "fake" and name.lower() != "fake"):
                    Backend.default_device_backend_map[device] = name.lower()
        if devices is None:
            warnings.warn(
                f"Device capability of {name} unspecified, assuming `cpu` and `cuda` or `xpu`. Please specify "
                f"it via the `devices` argument of `register_backend`.",
                stacklevel=2,
            )
            Backend.backend_capability[name.lower()] = ["cpu", "cuda"]  # (and "xpu" where one is available: never here)
        elif isinstance(devices, str):
            Backend.backend_capability[name.lower()] = [devices]
        else:
            Backend.backend_capability[name.lower()] = devices
        Backend._plugins[name.upper()] = Backend._BackendPlugin(func, extended_api)


def is_mpi_available():
    """Whether MPI can carry collectives: mpi4py is installed (``pip install 'chainrule[distributed]'``)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_gloo_available():
    """True: ``init_process_group("gloo")`` makes the group of the processes mpiexec started (MPI
    carries it), or of this one process without mpiexec."""
    return True


def is_nccl_available():
    """False: NCCL moves tensors between NVIDIA GPUs; chainrule computes on the CPU."""
    return False


def is_ucc_available():
    """False: chainrule has no UCC engine."""
    return False


def is_xccl_available():
    """False: XCCL moves tensors between Intel GPUs; chainrule computes on the CPU."""
    return False


_AVAILABILITY = {
    Backend.MPI: is_mpi_available,
    Backend.GLOO: is_gloo_available,
    Backend.NCCL: is_nccl_available,
    Backend.UCC: is_ucc_available,
    Backend.XCCL: is_xccl_available,
}


def is_backend_available(backend):
    """Whether ``init_process_group`` can run ``backend``: a name (``"gloo"``) or PyTorch's
    ``"device:backend"`` pairs (``"cpu:gloo,cuda:nccl"``, available when every one is). Names
    without an engine here (``"fake"``, registered third-party backends) are not available."""
    names = [pair.split(":")[-1] for pair in backend.lower().split(",")]
    return all(name in _AVAILABILITY and _AVAILABILITY[name]() for name in names)
