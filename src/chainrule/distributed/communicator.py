"""The transport under the collectives: who this process is and how arrays move between processes.

Three communicators answer the same questions on contiguous backend arrays:

- ``MPICommunicator`` sends through MPI (mpi4py), one process per MPI rank, as launched by
  ``mpiexec -n 4 python train.py`` (or ``chainrule run -n 4 train.py``);
- ``SingleProcessCommunicator`` is the world of one process that a plain ``python train.py`` is:
  every collective is then a copy, and MPI is not needed at all;
- ``tcp_communicator.TCPCommunicator`` joins processes started without MPI (``spawn``,
  ``torchrun``) for ``init_process_group("gloo")``, through sockets to process 0.

Every operation starts at once and returns a request whose ``Wait()`` finishes it (MPI's
non-blocking collectives): ``DistributedDataParallel`` relies on this to average one bucket of
gradients while backward is still computing the next.

``subgroup(ranks, name)`` makes the communicator of part of the processes (for ``new_group``), of
the same kind: its ranks are the processes' indices in ``ranks``, and its operations involve them alone.
"""
import os
import pickle
from itertools import accumulate

from chainrule.distributed.mailbox import Mailbox

#: Environment variables that MPI launchers set in the processes they start (MPICH's Hydra and
#: PMI-based launchers such as srun, Open MPI's mpiexec, PMIx, MVAPICH).
LAUNCHER_VARIABLES = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MV2_COMM_WORLD_SIZE")

INSTALL_HINT = "install it with: pip install 'chainrule[distributed]' (mpi4py and the MPICH wheel)"


def launched_by_mpi():
    """True when this process was started by an MPI launcher (``mpiexec``, ``srun``, ...)."""
    return any(name in os.environ for name in LAUNCHER_VARIABLES)


def import_mpi():
    """``mpi4py.MPI``, or an ImportError that says which extra installs it."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(
            f"chainrule.distributed needs mpi4py to talk between processes launched by mpiexec; "
            f"{INSTALL_HINT}"
        ) from error
    return MPI


class MPICommunicator:
    """The processes of the MPI communicator ``comm`` (None: ``MPI.COMM_WORLD``); ``rank`` is this
    one's index among ``size``."""

    def __init__(self, comm=None):
        self.MPI = import_mpi()
        self.comm = self.MPI.COMM_WORLD if comm is None else comm
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.operations = {
            "SUM": self.MPI.SUM,
            "AVG": self.MPI.SUM,  # the collective divides the sum by the world size when it is done
            "PRODUCT": self.MPI.PROD,
            "MIN": self.MPI.MIN,
            "MAX": self.MPI.MAX,
            "BAND": self.MPI.BAND,
            "BOR": self.MPI.BOR,
            "BXOR": self.MPI.BXOR,
        }

    def all_reduce(self, buffer, op):
        """Replace ``buffer`` on every process by the reduction (``op``'s name) of all of them."""
        return self.comm.Iallreduce(self.MPI.IN_PLACE, buffer, self.operations[op])

    def broadcast(self, buffer, root):
        """Overwrite ``buffer`` on every process with process ``root``'s."""
        return self.comm.Ibcast(buffer, root=root)

    def all_gather(self, send, receive):
        """``receive[i] = send`` of process ``i``; ``receive`` has shape ``(size, *send.shape)``."""
        return self.comm.Iallgather(send, receive)

    def reduce_scatter(self, send, receive, op):
        """``receive`` = the reduction over processes of their ``send[rank]``; ``send`` is
        ``(size, *receive.shape)``."""
        return self.comm.Ireduce_scatter_block(send, receive, self.operations[op])

    def gather(self, send, receive, root):
        """On ``root``, ``receive[i] = send`` of process ``i``; ``receive`` is None elsewhere."""
        return self.comm.Igather(send, receive, root=root)

    def all_to_all(self, send, send_counts, receive, receive_counts):
        """Send the ``send_counts[j]`` elements of ``send`` after the first ``j`` parts to process
        ``j``, and put what process ``i`` sends here in ``receive``, ``receive_counts[i]``
        elements after the first ``i`` parts (flat, contiguous arrays)."""
        return self.comm.Ialltoallv(
            [send, (send_counts, _starts(send_counts))], [receive, (receive_counts, _starts(receive_counts))]
        )

    def scatter(self, send, receive, root):
        """``receive`` = ``send[rank]`` of process ``root``; ``send`` is None off the root."""
        return self.comm.Iscatter(send, receive, root=root)

    def barrier(self):
        return self.comm.Ibarrier()

    def all_gather_object(self, value):
        """Every process's ``value`` (any picklable object), as a list in rank order."""
        return self.comm.allgather(value)

    def broadcast_object(self, value, root):
        """Process ``root``'s ``value`` (any picklable object), on every process."""
        return self.comm.bcast(value, root=root)

    def send(self, array, destination, tag):
        """The request of sending ``array`` to process ``destination`` with ``tag``."""
        return self.comm.Isend(array, dest=destination, tag=tag)

    def receive(self, buffer, source, tag):
        """The request of receiving into ``buffer`` from ``source`` (None: any process) with ``tag``."""
        status = self.MPI.Status()
        request = self.comm.Irecv(buffer, source=self.MPI.ANY_SOURCE if source is None else source, tag=tag)
        return _MPIReceive(request, status)

    def abort(self, exit_code):
        """End every process of the job at once, with ``exit_code``."""
        self.MPI.COMM_WORLD.Abort(exit_code)

    def subgroup(self, ranks, name):
        """The communicator of the processes ``ranks`` (ranks here), called by each of them alone:
        MPI's ``Create_group`` involves only the processes of the group it makes."""
        return MPICommunicator(self.comm.Create_group(self.comm.Get_group().Incl(ranks)))


class _MPIReceive:
    """An MPI receive in flight; ``source`` is its sender once it is done."""

    def __init__(self, request, status):
        self._request, self._status, self.source = request, status, None

    def Wait(self):
        if self.source is None:  # a finished request waited on again would report no source
            self._request.Wait(self._status)
            self.source = self._status.Get_source()

    def Test(self):
        if self.source is None and self._request.Test(self._status):
            self.source = self._status.Get_source()
        return self.source is not None


class Done:
    """The request of an operation that finished when it started."""

    def Wait(self):
        pass

    def Test(self):
        return True


class SingleProcessCommunicator:
    """A world of one process: each collective hands this process's own data back."""

    rank = 0
    size = 1

    def __init__(self):
        self._mailbox = Mailbox(0, listen=False)

    def all_reduce(self, buffer, op):
        return Done()

    def broadcast(self, buffer, root):
        return Done()

    def all_gather(self, send, receive):
        receive[0] = send
        return Done()

    def reduce_scatter(self, send, receive, op):
        receive[...] = send[0]
        return Done()

    def gather(self, send, receive, root):
        receive[0] = send
        return Done()

    def all_to_all(self, send, send_counts, receive, receive_counts):
        receive[...] = send
        return Done()

    def scatter(self, send, receive, root):
        receive[...] = send[0]
        return Done()

    def barrier(self):
        return Done()

    def all_gather_object(self, value):
        # A pickled round trip, so that the caller gets a copy as it would from other processes.
        return [pickle.loads(pickle.dumps(value))]

    def broadcast_object(self, value, root):
        return value  # only the root's own call, which keeps its objects

    def send(self, array, destination, tag):
        self._mailbox.post(destination, None, tag, array)  # only to itself: isend(t, dst=0)
        return Done()

    def receive(self, buffer, source, tag):
        return self._mailbox.receive(buffer, source, tag)

    def subgroup(self, ranks, name):
        return SingleProcessCommunicator()  # ranks is [0]: this process


def _starts(counts):
    """Where each of consecutive parts of sizes ``counts`` starts."""
    return list(accumulate(counts, initial=0))[:-1]
