"""The default process group: the processes of one training job, as ``torch.distributed``'s.

``init_process_group(backend="mpi")`` joins the processes that ``mpiexec -n N`` started;
``init_process_group("gloo", rank=r, world_size=n)`` also joins processes started otherwise
(``torch.multiprocessing.spawn``, ``torchrun``), over TCP; run without either, the group is this
one process (world size 1) and everything still works. Once joined,
an uncaught exception in any process ends every process with a non-zero exit code, its traceback
printed once: the others are never left waiting in a collective for a process that is gone.

The group made is a ``ProcessGroup``, PyTorch's name for it, and ``group.WORLD`` (also
``GroupMember.WORLD``) is it while it exists (None before ``init_process_group`` and after
``destroy_process_group``), as code written for PyTorch reads the default group. chainrule makes no
other group (no ``new_group``): every collective runs among all the job's processes.
"""
import os
import sys
import time
import traceback

from chainrule.distributed.communicator import (
    MPICommunicator,
    SingleProcessCommunicator,
    launched_by_mpi,
)
from chainrule.distributed.tcp_communicator import TCPCommunicator

#: How long a process other than rank 0 waits before reporting its error: when every process hits
#: the same error, rank 0 reports it and ends the job meanwhile, so that it is printed once.
REPORT_DELAY_SECONDS = 2.0
FORWARD_DELAY_SECONDS = 0.5  # for the launcher to pass a report on before the job is torn down

_state = {"group": None, "previous_excepthook": None}


class ProcessGroup:
    """The processes that run collectives together, as ``torch.distributed.ProcessGroup``:
    ``rank()`` is this process's index among ``size()`` processes, ``name()`` the backend's name.

    ``init_process_group`` makes the one chainrule has, the default group (``group.WORLD``), on
    the communicator that moves its arrays (MPI's, or the world of this one process).
    """

    def __init__(self, communicator, backend):
        self.communicator = communicator
        self._backend = backend

    def rank(self):
        return self.communicator.rank

    def size(self):
        return self.communicator.size

    def name(self):
        """The backend the group was made with: "mpi" or "gloo"."""
        return self._backend

    @property
    def group_name(self):
        return "0"  # PyTorch numbers its groups from 0; the default group is the first

    @property
    def group_desc(self):
        return "default_pg"


class _WorldMeta(type):
    """The type of ``group`` and ``GroupMember``: gives them the class property ``WORLD``."""

    @property
    def WORLD(cls):
        """The default process group, or None while there is none."""
        return _state["group"]


class group(metaclass=_WorldMeta):
    """``group.WORLD``: the default process group (None before ``init_process_group``)."""


class GroupMember(metaclass=_WorldMeta):
    """``GroupMember.WORLD``, the default group, and ``NON_GROUP_MEMBER``, PyTorch's rank of a process
    outside a group (every process is in chainrule's one group)."""

    NON_GROUP_MEMBER = -100


def init_process_group(
    backend=None,
    init_method=None,
    timeout=None,
    world_size=-1,
    rank=-1,
    store=None,
    group_name="",
    pg_options=None,
    device_id=None,
):
    """Join the job's processes. Under an MPI launcher (``mpiexec``), MPI carries every backend
    name that runs on the CPU ("mpi", and "gloo", which PyTorch code names) and assigns each
    process its rank. Without one, ``backend="gloo"`` with ``world_size`` (or the environment's
    ``WORLD_SIZE``) above 1 joins processes started otherwise (``torch.multiprocessing.spawn``,
    ``torchrun``) over TCP, at ``init_method`` ("tcp://host:port"; "env://" or None: the
    environment's ``MASTER_ADDR`` and ``MASTER_PORT``), this one being ``rank`` (or ``RANK``); and a
    world of one is this process alone.

    ``world_size`` and ``rank``, when given under MPI, must agree with what the launcher assigned.
    ``timeout`` (a ``timedelta``) bounds the wait for the others to meet; the other arguments are
    accepted for PyTorch's signature and not used.
    """
    if _state["group"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    backend_name = "mpi" if backend is None else str(backend).lower()
    if backend_name not in ("mpi", "gloo"):
        raise ValueError(
            f"init_process_group: chainrule's processes talk through MPI (or TCP for 'gloo'), got "
            f"backend={backend!r}; use backend='mpi' or 'gloo' and launch with `mpiexec -n 4 python "
            f"train.py` (or `chainrule run -n 4 train.py`)"
        )
    if launched_by_mpi():
        communicator = MPICommunicator()
    elif backend_name == "gloo" and _setting(world_size, "WORLD_SIZE", 1) > 1:
        if store is not None:
            raise ValueError(
                "init_process_group: chainrule's gloo processes meet over TCP, not through a store; pass "
                "init_method='tcp://host:port' (or set MASTER_ADDR and MASTER_PORT) instead of store"
            )
        address, port = _meeting_point(init_method)
        seconds = 1800.0 if timeout is None else timeout.total_seconds()  # PyTorch's default: 30 minutes
        communicator = TCPCommunicator(address, port, _setting(rank, "RANK"), _setting(world_size, "WORLD_SIZE"), seconds)
    else:
        communicator = SingleProcessCommunicator()
    for name, given, assigned in (("world_size", world_size, communicator.size), ("rank", rank, communicator.rank)):
        if given not in (-1, None) and given != assigned:
            raise ValueError(
                f"init_process_group: {name}={given} was given but the MPI launcher assigned "
                f"{name}={assigned}; leave it out (MPI decides) or launch with that many processes"
            )
    _state["group"] = ProcessGroup(communicator, backend_name)
    if communicator.size > 1:
        _state["previous_excepthook"] = sys.excepthook
        sys.excepthook = _end_every_process_on_error


def _setting(given, variable, default=None):
    """``given`` (a rank or world size), or else the environment's ``variable``, as PyTorch's
    env:// rendezvous reads them; ``default`` where neither is set (ValueError without one)."""
    if given not in (-1, None):
        return int(given)
    if variable in os.environ:
        return int(os.environ[variable])
    if default is None:
        raise ValueError(
            f"Error initializing torch.distributed using env:// rendezvous: environment variable "
            f"{variable} expected, but not set; pass {variable.lower()}= to init_process_group or set it"
        )
    return default


def _meeting_point(init_method):
    """The ``(address, port)`` where the processes meet: ``init_method``'s "tcp://host:port", or
    for "env://" (and None) the environment's ``MASTER_ADDR`` and ``MASTER_PORT``."""
    if init_method in (None, "env://"):
        for variable in ("MASTER_ADDR", "MASTER_PORT"):
            if variable not in os.environ:
                raise ValueError(
                    f"Error initializing torch.distributed using env:// rendezvous: environment variable "
                    f"{variable} expected, but not set; set MASTER_ADDR and MASTER_PORT (where process 0 "
                    f"listens), or pass init_method='tcp://host:port'"
                )
        return os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    if init_method.startswith("tcp://"):
        address, _, port = init_method[len("tcp://") :].partition("?")[0].rpartition(":")
        return address.strip("[]"), int(port)
    raise ValueError(
        f"init_process_group: init_method={init_method!r} is not one chainrule meets at; use "
        f"'tcp://host:port' or 'env://' (MASTER_ADDR and MASTER_PORT)"
    )


def destroy_process_group(group=None):
    """Leave the process group (MPI itself is finalized when Python exits)."""
    default_group()
    if _state["previous_excepthook"] is not None:
        sys.excepthook = _state["previous_excepthook"]
    _state.update(group=None, previous_excepthook=None)


def get_backend(group=None):
    """The backend the group was made with: "mpi" or "gloo"."""
    return default_group().name()


def is_initialized():
    """Whether ``init_process_group`` was called (and ``destroy_process_group`` not since)."""
    return _state["group"] is not None


def is_available():
    """Distributed training is always available: MPI when launched by it, else one process."""
    return True


def is_torchelastic_launched():
    """Whether this process was started by ``torchrun`` (torch.distributed.elastic), which sets
    ``TORCHELASTIC_RUN_ID`` in the processes it starts; chainrule's own launcher is ``mpiexec``."""
    return os.getenv("TORCHELASTIC_RUN_ID") is not None


def get_rank(group=None):
    """This process's index in the group, 0 to ``get_world_size() - 1``."""
    return default_communicator().rank


def get_world_size(group=None):
    """The number of processes in the group."""
    return default_communicator().size


def get_process_group_ranks(group):
    """The global ranks of the processes in ``group`` (None: the default group), in group order;
    chainrule's one group is the world, so they are ``0 .. get_world_size() - 1``."""
    return list(range(default_communicator().size))


def default_group():
    """The default process group; PyTorch's ValueError before ``init_process_group``."""
    if _state["group"] is None:
        raise ValueError(
            "Default process group has not been initialized, please make sure to call init_process_group."
        )
    return _state["group"]


def default_communicator():
    """The communicator of the default group (for collectives and DistributedDataParallel)."""
    return default_group().communicator


def end_every_process(what_happened, exit_code=1, details=""):
    """Say on stderr what happened to this process (and ``details``, e.g. a traceback), then end
    every process of the job with ``exit_code``. Ranks other than 0 first wait ``REPORT_DELAY_SECONDS``."""
    communicator = default_communicator()
    if communicator.rank != 0:
        time.sleep(REPORT_DELAY_SECONDS)
    sys.stderr.write(
        f"chainrule.distributed: rank {communicator.rank} of {communicator.size} {what_happened}; "
        f"ending every process.\n{details}"
    )
    sys.stderr.flush()
    # The launcher forwards each process's output through its own pipes; aborting at once can end the
    # job before the report has been read from them, and the user would see nothing at all.
    time.sleep(FORWARD_DELAY_SECONDS)
    communicator.abort(exit_code)


def _end_every_process_on_error(error_type, error, error_traceback):
    """``sys.excepthook`` of a process in a group of several: report the error, end the whole job."""
    end_every_process("raised an error", 1, "".join(traceback.format_exception(error_type, error, error_traceback)))
