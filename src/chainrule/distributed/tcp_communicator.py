"""The transport of processes that no MPI launcher started: TCP sockets to process 0.

``torch.multiprocessing.spawn`` (Lightning's ``ddp_spawn``), ``torchrun`` and hand-written
launchers start the processes themselves and tell each where to meet, ``MASTER_ADDR:MASTER_PORT``,
with its ``rank`` among ``world_size``, for ``init_process_group("gloo")``. Process 0 listens
there; every other process connects to it and says its rank.

Every collective is then one exchange through process 0: each process sends it its part, process
0 computes what each process gets (a reduction, a concatenation, a routing) and sends it back. That
is two messages per process and collective, simpler than MPI's algorithms, and enough for the few
processes of one machine. An exchange ends before the call returns, so requests are done at once.

A group of part of the processes (``new_group``) exchanges the same way through its first process,
over the processes' mailboxes (``mailbox.py``) instead of the sockets to process 0.
"""
import os
import socket
import time

from chainrule.backend import xp
from chainrule.distributed.communicator import Done
from chainrule.distributed.errors import DistNetworkError, DistStoreError
from chainrule.distributed.mailbox import Mailbox
from chainrule.distributed.messages import receive_message, send_message

#: How each reduction combines the processes' arrays, element by element (AVG: the sum, divided later).
REDUCTIONS = {
    "SUM": xp.add,
    "AVG": xp.add,
    "PRODUCT": xp.multiply,
    "MIN": xp.minimum,
    "MAX": xp.maximum,
    "BAND": xp.bitwise_and,
    "BOR": xp.bitwise_or,
    "BXOR": xp.bitwise_xor,
}

class TCPCommunicator:
    """Process ``rank`` of ``size``, meeting the others at ``address:port``, where process 0
    listens; the others try to connect for ``timeout`` seconds."""

    def __init__(self, address, port, rank, size, timeout=1800.0):
        if not 0 <= rank < size:
            raise ValueError(
                f"init_process_group: rank={rank} is not a rank of world_size={size} processes; give "
                f"each process one of 0..{size - 1}"
            )
        self.rank, self.size = rank, size
        if rank == 0:
            self.peers = _accept_every_peer(address, port, size, timeout)
        else:
            self.connection = _connect(address, port, timeout)
            send_message(self.connection, rank)
        # each process's mailbox for send/recv, at the address by which it reached process 0
        self.mailbox = Mailbox(rank)
        host = address if rank == 0 else self.connection.getsockname()[0]
        self.mailboxes = self.all_gather_object((host, self.mailbox.port))

    def exchange(self, part, results_of):
        """Send ``part`` to process 0, which calls ``results_of(parts)`` on every process's part
        (in rank order) for the list of what each process gets; return this process's."""
        if self.rank != 0:
            send_message(self.connection, part)
            return receive_message(self.connection)
        parts = [part] + [receive_message(self.peers[rank]) for rank in range(1, self.size)]
        results = results_of(parts)
        for rank in range(1, self.size):
            send_message(self.peers[rank], results[rank])
        return results[0]

    def same_for_all(self, part, result_of):
        """``exchange`` where every process gets the same result, ``result_of(parts)``."""
        return self.exchange(part, lambda parts: [result_of(parts)] * self.size)

    def all_reduce(self, buffer, op):
        buffer[...] = self.same_for_all(buffer, lambda parts: _reduce(parts, op))
        return Done()

    def broadcast(self, buffer, root):
        buffer[...] = self.same_for_all(buffer if self.rank == root else None, lambda parts: parts[root])
        return Done()

    def all_gather(self, send, receive):
        receive[...] = self.same_for_all(send, xp.stack)
        return Done()

    def reduce_scatter(self, send, receive, op):
        receive[...] = self.exchange(send, lambda parts: list(_reduce(parts, op)))
        return Done()

    def gather(self, send, receive, root):
        gathered = self.exchange(send, lambda parts: [xp.stack(parts) if rank == root else None for rank in range(self.size)])
        if receive is not None:
            receive[...] = gathered
        return Done()

    def all_to_all(self, send, send_counts, receive, receive_counts):
        def route(parts):
            pieces = [_split(array, counts) for array, counts in parts]  # pieces[i][j]: from i to j
            return [xp.concatenate([pieces[source][destination] for source in range(self.size)]) for destination in range(self.size)]

        receive[...] = self.exchange((send, list(send_counts)), route)
        return Done()

    def scatter(self, send, receive, root):
        receive[...] = self.exchange(send if self.rank == root else None, lambda parts: list(parts[root]))
        return Done()

    def barrier(self):
        self.same_for_all(None, lambda parts: None)
        return Done()

    def all_gather_object(self, value):
        return self.same_for_all(value, list)

    def broadcast_object(self, value, root):
        return self.same_for_all(value if self.rank == root else None, lambda parts: parts[root])

    def send(self, array, destination, tag):
        """Put ``array`` into process ``destination``'s mailbox (it is sent when this returns)."""
        self.mailbox.post(destination, self.mailboxes[destination], tag, array)
        return Done()

    def receive(self, buffer, source, tag):
        """The request of receiving into ``buffer`` the next message from ``source`` (None: any) with ``tag``."""
        return self.mailbox.receive(buffer, source, tag)

    def abort(self, exit_code):
        """End this process at once; the others see their connection close and end in turn."""
        os._exit(exit_code)

    def subgroup(self, ranks, name):
        """The communicator of the processes ``ranks`` (global ranks), which each of them makes alone."""
        return TCPSubgroupCommunicator(self, ranks, name)


class TCPSubgroupCommunicator(TCPCommunicator):
    """The processes ``world_ranks`` of a TCP world (``world``), for the group named ``name``:
    ``rank`` is this process's index in ``world_ranks``, and every rank given to it is one of those
    indices.

    Its collectives are the world's exchanges through the group's first process instead of process
    0, and all its messages travel between the processes' mailboxes, tagged with the group's name:
    they are never taken for another group's, nor for the world's ``send``/``recv``.
    """

    def __init__(self, world, world_ranks, name):
        self.world_ranks, self.name = list(world_ranks), name
        self.rank, self.size = self.world_ranks.index(world.rank), len(self.world_ranks)
        self.mailbox, self.mailboxes = world.mailbox, world.mailboxes

    def exchange(self, part, results_of):
        tag, first = (self.name, "collective"), self.world_ranks[0]
        if self.rank != 0:
            self._post(first, tag, part)
            return self.mailbox.take(first, tag)
        parts = [part] + [self.mailbox.take(source, tag) for source in self.world_ranks[1:]]
        results = results_of(parts)
        for rank in range(1, self.size):
            self._post(self.world_ranks[rank], tag, results[rank])
        return results[0]

    def send(self, array, destination, tag):
        self._post(self.world_ranks[destination], (self.name, tag), array)
        return Done()

    def receive(self, buffer, source, tag):
        sender = None if source is None else self.world_ranks[source]
        return _GroupReceive(self.mailbox.receive(buffer, sender, (self.name, tag)), self.world_ranks)

    def _post(self, world_rank, tag, value):
        self.mailbox.post(world_rank, self.mailboxes[world_rank], tag, value)


class _GroupReceive:
    """A receive of a group's message; ``source`` is its sender's rank in the group (``world_ranks``' index)."""

    def __init__(self, request, world_ranks):
        self._request, self._world_ranks = request, world_ranks

    def Wait(self):
        self._request.Wait()

    def Test(self):
        return self._request.Test()

    @property
    def source(self):
        sender = self._request.source
        return None if sender is None else self._world_ranks.index(sender)


def _reduce(parts, op):
    combine = REDUCTIONS[op]
    result = parts[0].copy()
    for part in parts[1:]:
        combine(result, part, out=result)
    return result


def _split(array, counts):
    starts = [sum(counts[:index]) for index in range(len(counts) + 1)]
    return [array[starts[index] : starts[index + 1]] for index in range(len(counts))]


def _accept_every_peer(address, port, size, timeout):
    """Process 0: listen at ``address:port`` until each other process has connected and said its rank."""
    listener = socket.create_server((address, port), reuse_port=False)
    listener.settimeout(timeout)
    peers = {}
    try:
        while len(peers) < size - 1:
            connection, _ = listener.accept()
            connection.settimeout(None)
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            peers[receive_message(connection)] = connection
    except socket.timeout:
        raise DistStoreError(
            f"init_process_group: process 0 waited {timeout:.0f} s at {address}:{port} but only ranks "
            f"{sorted(peers)} of 1..{size - 1} connected; start world_size={size} processes with the same "
            f"MASTER_ADDR and MASTER_PORT"
        ) from None
    finally:
        listener.close()
    return peers


def _connect(address, port, timeout):
    """Another process: connect to process 0, retrying while it is not listening yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = socket.create_connection((address, port))
        except OSError:
            if time.monotonic() > deadline:
                raise DistNetworkError(
                    f"init_process_group: nothing listened at {address}:{port} for {timeout:.0f} s; start "
                    f"the process of rank 0 with the same MASTER_ADDR and MASTER_PORT"
                ) from None
            time.sleep(0.05)
            continue
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection
