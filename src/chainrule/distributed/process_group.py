"""The default process group: the processes of one training job, as ``torch.distributed``'s.

``init_process_group(backend="mpi")`` joins the processes that ``mpiexec -n N`` started;
``init_process_group("gloo", rank=r, world_size=n)`` also joins processes started otherwise
(``torch.multiprocessing.spawn``, ``torchrun``), over TCP; run without either, the group is this
one process (world size 1) and everything still works. Once joined,
an uncaught exception in any process ends every process with a non-zero exit code, its traceback
printed once: the others are never left waiting in a collective for a process that is gone.

The group made is a ``ProcessGroup``, PyTorch's name for it, and ``group.WORLD`` (also
``GroupMember.WORLD``) is it while it exists (None before ``init_process_group`` and after
``destroy_process_group``), as code written for PyTorch reads the default group. Groups of part of
the world come from ``new_group`` (``subgroups.py``); ``get_rank(group)``, ``get_world_size(group)``
and ``get_process_group_ranks(group)`` answer for any group (-1 on a process outside it).
"""
import hashlib
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

#: ``group``: the default group; ``groups``: the groups made since and not destroyed, which this
#: process is in; ``groups_made``: how many groups were made, the default one included (every
#: process counts each, member or not, so that the next has the same name on every process).
_state = {"group": None, "previous_excepthook": None, "groups": [], "groups_made": 0}


class ProcessGroup:
    """The processes that run collectives together, as ``torch.distributed.ProcessGroup``:
    ``rank()`` is this process's index among ``size()`` processes, ``name()`` the backend's name.

    ``init_process_group`` makes the default group (``group.WORLD``), ``new_group`` the others, each
    on a communicator that moves arrays among its own processes alone. ``ranks`` are their global
    ranks (in the default group), in group order: group rank ``i`` is global rank ``ranks[i]``.
    PyTorch names its groups "0", "1", ... in the order they are made, the default group first.
    """

    def __init__(self, communicator, backend, ranks, group_name="0", group_desc="default_pg"):
        self.communicator = communicator
        self._backend = backend
        self.ranks = list(ranks)
        self.group_name = group_name
        self.group_desc = group_desc

    def rank(self):
        return self.communicator.rank

    def size(self):
        return self.communicator.size

    def name(self):
        """The backend the group was made with: "mpi" or "gloo"."""
        return self._backend

    def __repr__(self):
        return f"ProcessGroup(group_name={self.group_name!r}, ranks={self.ranks}, backend={self._backend!r})"


class _WorldMeta(type):
    """The type of ``group`` and ``GroupMember``: gives them the class property ``WORLD``."""

    @property
    def WORLD(cls):
        """The default process group, or None while there is none."""
        return _state["group"]


class group(metaclass=_WorldMeta):
    """``group.WORLD``: the default process group (None before ``init_process_group``)."""


class GroupMember(metaclass=_WorldMeta):
    """``GroupMember.WORLD``, the default group, and ``NON_GROUP_MEMBER``, what ``new_group`` returns
    on a process outside the group made (collectives given it warn and do nothing, as PyTorch's)."""

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
    _state.update(group=ProcessGroup(communicator, backend_name, range(communicator.size)), groups=[], groups_made=1)
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
    """Leave ``group``; for None (or ``group.WORLD``), every group, the default one included (MPI
    itself is finalized when Python exits). ``NON_GROUP_MEMBER`` is no group to leave."""
    if group == GroupMember.NON_GROUP_MEMBER:
        return
    if group is not None and group is not _state["group"]:
        if not any(group is made for made in _state["groups"]):
            raise ValueError("Invalid process group specified")
        _state["groups"] = [made for made in _state["groups"] if made is not group]
        return
    default_group()
    if _state["previous_excepthook"] is not None:
        sys.excepthook = _state["previous_excepthook"]
    _state.update(group=None, previous_excepthook=None, groups=[], groups_made=0)


def get_backend(group=None):
    """The backend the group was made with: "mpi" or "gloo"."""
    if group == GroupMember.NON_GROUP_MEMBER:
        raise ValueError("Invalid process group specified")
    return resolve(group).name()


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


def get_node_local_rank(fallback_rank=None):
    """This process's rank among those on its machine: ``LOCAL_RANK``, which the launcher sets
    (torchrun does), else ``fallback_rank``; neither: RuntimeError."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError(
        "LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow `get_node_local_rank` to work "
        "(the launcher sets LOCAL_RANK: torchrun does; mpiexec's processes can pass their rank on the machine)"
    )


def get_rank(group=None):
    """This process's index in ``group`` (None: the default group), 0 to ``get_world_size(group) - 1``;
    -1 given ``NON_GROUP_MEMBER``, what a process outside a group got for it."""
    if group == GroupMember.NON_GROUP_MEMBER:
        return -1
    return resolve(group).rank()


def get_world_size(group=None):
    """The number of processes in ``group`` (None: the default group); -1 given ``NON_GROUP_MEMBER``."""
    if group == GroupMember.NON_GROUP_MEMBER:
        return -1
    return resolve(group).size()


def get_process_group_ranks(group):
    """The global ranks of the processes in ``group`` (None: the default group), in group order."""
    return list(resolve(group).ranks)


def resolve(group):
    """``group``, or the default group for None (ValueError before ``init_process_group``)."""
    return default_group() if group is None else group


def registered(group):
    """``group`` (None: the default group), checked to be one made since ``init_process_group``
    and not destroyed, as PyTorch's rank translations check it (ValueError)."""
    group = resolve(group)
    if group is not _state["group"] and not any(group is made for made in _state["groups"]):
        raise ValueError(f"Group {group} is not registered, please create group with torch.distributed.new_group API")
    return group


def get_group_rank(group, global_rank):
    """The rank in ``group`` of the process of global rank ``global_rank`` (the same number for the
    default group); ValueError if that process is not in ``group``."""
    if group is GroupMember.WORLD:
        return global_rank
    ranks = registered(group).ranks
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return ranks.index(global_rank)


def get_global_rank(group, group_rank):
    """The global rank of the process of rank ``group_rank`` in ``group`` (the same number for the
    default group); ValueError if the group has no such rank."""
    if group is GroupMember.WORLD:
        return group_rank
    ranks = registered(group).ranks
    if group_rank not in range(len(ranks)):
        raise ValueError(f"Group rank {group_rank} is not part of group {group}")
    return ranks[group_rank]


def next_group_name(ranks, hashed):
    """The name of the group of ``ranks`` being made: "1", "2", ... in the order of ``new_group``
    calls, which every process makes alike; or, ``hashed`` (the group's processes alone make it),
    as PyTorch then names it, a hash of the ranks and of how many groups this process holds."""
    if hashed:
        held = "_".join([*map(str, ranks), str(1 + len(_state["groups"]))])
        return hashlib.sha1(held.encode(), usedforsecurity=False).hexdigest()
    _state["groups_made"] += 1
    return str(_state["groups_made"] - 1)


def add_group(made):
    """Register ``made``, a group ``new_group`` made that this process is in."""
    _state["groups"].append(made)


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
