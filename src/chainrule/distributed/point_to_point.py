"""Point-to-point communication: one process sends a tensor, another receives it.

As in ``torch.distributed``, where ``dst`` and ``src`` are global ranks, also with ``group=`` (a
group of ``new_group``), and ``group_dst``/``group_src`` name a process by its rank in that group::

    send(t, dst)                   process dst's matching recv gets t (blocks until t is sent)
    recv(t, src)                   t = what process src sent (src=None: any process); returns the sender
    isend(t, dst) / irecv(t, src)  the same without blocking: a Work, finished by work.wait()
    batch_isend_irecv([P2POp(isend, t, peer), P2POp(irecv, u, peer), ...])   several at once

A receive matches the first message from its source with the same ``tag``; messages from one
process with one tag arrive in the order they were sent. Under MPI these are MPI's Isend/Irecv;
between processes that met over TCP (``init_process_group("gloo")`` without MPI), each process
has a mailbox of its own (``mailbox.py``).
"""
from chainrule.distributed.collectives import Work, _collective, _communicator, _rank_in_group
from chainrule.distributed.process_group import get_global_rank, resolve


@_collective
def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to process ``dst`` (a global rank; or ``group_dst``, its rank in ``group``)
    without waiting: the Work's ``wait()`` returns once it is sent (change the tensor only after
    that). Sending to oneself is allowed, for a matching ``irecv``. None outside ``group``."""
    communicator = _communicator("isend", group)
    if communicator is None:
        return None
    destination = _rank_in_group("isend", "dst", dst, group_dst, group, communicator)
    return Work(communicator.send(_contiguous_array("isend", tensor), destination, tag))


@_collective
def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` what process ``src`` (a global rank; or ``group_src``, its rank in
    ``group``; neither: any process of the group) sends with ``tag``, without waiting: the Work's
    ``wait()`` returns once it is in ``tensor``. None outside ``group``."""
    communicator = _communicator("irecv", group)
    if communicator is None:
        return None
    source = _source("irecv", src, group_src, group, communicator)
    return _Received(communicator.receive(_contiguous_array("irecv", tensor), source, tag))


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to process ``dst`` (a global rank; or ``group_dst``, its rank in ``group``),
    whose ``recv`` (or ``irecv``) receives it; returns when it is sent."""
    communicator = _communicator("isend", group)  # named as PyTorch's, whose send and recv call isend and irecv
    if communicator is None:
        return
    destination = _rank_in_group("send", "dst", dst, group_dst, group, communicator)
    _not_self(destination, communicator, "destination")
    isend(tensor, group=group, tag=tag, group_dst=destination).wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` what process ``src`` (a global rank; or ``group_src``, its rank in
    ``group``; neither: any process of the group) sends with ``tag``; returns the global rank of the
    process it came from (-1 outside ``group``)."""
    communicator = _communicator("irecv", group)
    if communicator is None:
        return -1
    source = _source("recv", src, group_src, group, communicator)
    if source is not None:
        _not_self(source, communicator, "source")
    work = irecv(tensor, group=group, tag=tag, group_src=source)
    return get_global_rank(resolve(group), work._source_rank())


class P2POp:
    """One operation of ``batch_isend_irecv``: ``op`` (``isend`` or ``irecv``) on ``tensor`` with process ``peer``."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed.isend`` or ``torch.distributed.irecv``.")
        self.op, self.tensor, self.group, self.tag = op, tensor, resolve(group), tag
        self.group_peer = _rank_in_group("P2POp", "peer", peer, group_peer, self.group, self.group.communicator)
        self.peer = get_global_rank(self.group, self.group_peer)

    def __repr__(self):
        rank = self.group.rank()
        source, destination = (rank, self.group_peer) if self.op is isend else (self.group_peer, rank)
        return (f"P2POp({self.op.__name__} pg={self.group.group_name}, group_src={source}, group_dst={destination},  "
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


def _source(name, src, group_src, group, communicator):
    """The rank in ``group`` of the process to receive from, or None for any process."""
    if src is None and group_src is None:
        return None
    return _rank_in_group(name, "src", src, group_src, group, communicator)


def _not_self(rank, communicator, kind):
    if rank == communicator.rank:
        raise ValueError(f"Invalid {kind} rank: {kind} rank should not be the same as the rank of the current process.")
