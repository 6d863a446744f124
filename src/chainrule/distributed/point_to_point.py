"""Point-to-point communication: one process sends a tensor, another receives it.

As in ``torch.distributed``::

    send(t, dst)                   process dst's matching recv gets t (blocks until t is sent)
    recv(t, src)                   t = what process src sent (src=None: any process); returns the sender
    isend(t, dst) / irecv(t, src)  the same without blocking: a Work, finished by work.wait()
    batch_isend_irecv([P2POp(isend, t, peer), P2POp(irecv, u, peer), ...])   several at once

A receive matches the first message from its source with the same ``tag``; messages from one
process with one tag arrive in the order they were sent. Under MPI these are MPI's Isend/Irecv;
between processes that met over TCP (``init_process_group("gloo")`` without MPI), each process
has a mailbox of its own (``mailbox.py``).
"""
from chainrule.distributed.collectives import Work, _check_rank, _collective
from chainrule.distributed.process_group import default_communicator


@_collective
def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to process ``dst`` without waiting: the Work's ``wait()`` returns once it is
    sent (change the tensor only after that). Sending to oneself is allowed, for a matching ``irecv``."""
    communicator = default_communicator()
    destination = _peer("isend", "dst", dst, group_dst, communicator)
    return Work(communicator.send(_contiguous_array("isend", tensor), destination, tag))


@_collective
def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` what process ``src`` sends with ``tag`` (``src=None``: any process),
    without waiting: the Work's ``wait()`` returns once it is in ``tensor``."""
    communicator = default_communicator()
    source = None if src is None and group_src is None else _peer("irecv", "src", src, group_src, communicator)
    return _Received(communicator.receive(_contiguous_array("irecv", tensor), source, tag))


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to process ``dst``, whose ``recv`` (or ``irecv``) receives it; returns when it is sent."""
    communicator = default_communicator()
    _not_self(_peer("send", "dst", dst, group_dst, communicator), communicator, "destination")
    isend(tensor, dst, group, tag, group_dst).wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` what process ``src`` sends with ``tag`` (``src=None``: any process);
    returns the rank of the process it came from."""
    communicator = default_communicator()
    if src is not None or group_src is not None:
        _not_self(_peer("recv", "src", src, group_src, communicator), communicator, "source")
    return irecv(tensor, src, group, tag, group_src)._source_rank()


class P2POp:
    """One operation of ``batch_isend_irecv``: ``op`` (``isend`` or ``irecv``) on ``tensor`` with process ``peer``."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed.isend`` or ``torch.distributed.irecv``.")
        self.op, self.tensor, self.group, self.tag = op, tensor, group, tag
        self.peer = self.group_peer = _peer("P2POp", "peer", peer, group_peer, default_communicator())

    def __repr__(self):
        rank = default_communicator().rank
        source, destination = (rank, self.peer) if self.op is isend else (self.peer, rank)
        return (f"P2POp({self.op.__name__} pg=0, group_src={source}, group_dst={destination},  "
                f"{self.tensor.shape}, {self.tensor.dtype})")


def batch_isend_irecv(p2p_op_list):
    """Start every operation of ``p2p_op_list`` (``P2POp``s) and return their Works, in order; the
    order of sends and receives in the list cannot deadlock."""
    if not isinstance(p2p_op_list, list) or not p2p_op_list or not all(isinstance(op, P2POp) for op in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type ``torch.distributed.P2POp``.")
    if not all(op.group is p2p_op_list[0].group for op in p2p_op_list):
        raise ValueError("All ops need to use the same group.")
    return [op.op(op.tensor, op.peer, op.group, op.tag) for op in p2p_op_list]


class _Received(Work):
    """An ``irecv`` in flight; once done, ``_source_rank()`` is the process the tensor came from."""

    def _source_rank(self):
        self.wait()
        return self._request.source

    source_rank = _source_rank


def _contiguous_array(name, tensor):
    """The array of ``tensor``, which must be contiguous, as gloo requires (RuntimeError)."""
    if not tensor.is_contiguous():
        raise RuntimeError(
            f"input tensor has to be contiguous: {name} was given one of shape {tuple(tensor.shape)} and "
            f"strides {tensor.stride()}; pass tensor.contiguous() (and copy it back after a receive)"
        )
    return tensor._array


def _peer(name, argument, rank, group_rank, communicator):
    """The rank of the other process, given as ``rank`` or ``group_rank`` (the same on the one group)."""
    if rank is not None and group_rank is not None:
        raise ValueError(f"Can't specify both {argument} and group_{argument}: {name} takes one of them")
    rank = group_rank if rank is None else rank
    if rank is None:
        raise ValueError(f"Must specify global_rank or group_rank: give {name} {argument}=the rank of the other process")
    _check_rank(name, argument, rank, communicator)
    return rank


def _not_self(rank, communicator, kind):
    if rank == communicator.rank:
        raise ValueError(f"Invalid {kind} rank: {kind} rank should not be the same as the rank of the current process.")
