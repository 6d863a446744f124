"""Collectives: operations that every process of the group calls together, on tensors, in place.

As in ``torch.distributed``, each writes its result into the tensors it is given::

    all_reduce(t, op=ReduceOp.SUM)   t = t_0 + t_1 + ... + t_{n-1} on every process
    broadcast(t, src)                t = t_src on every process
    all_gather(ts, t)                ts[i] = t_i on every process
    all_gather_single(out, t)        out = cat (or stack) of t_0 ... t_{n-1} along dim 0, on every process
    reduce_scatter(t, ts, op)        t = ts_0[rank] + ts_1[rank] + ... on each process
    gather(t, ts, dst)               ts[i] = t_i on process dst
    scatter(t, ts, src)              t = ts[rank] of process src
    all_to_all_single(out, t)        out's i-th part = the rank-th part of t_i on every process
    all_gather_object(objs, obj)     objs[i] = obj_i on every process (any picklable object)
    broadcast_object_list(objs, src) objs = objs_src on every process (any picklable objects)
    reduce(t, dst, op)               t = t_0 + t_1 + ... + t_{n-1} on process dst
    gather_object(obj, objs, dst)    objs[i] = obj_i on process dst
    scatter_object_list(out, objs, src)  out[0] = objs[rank] of process src

where ``t_i`` is the tensor that process ``i`` passed. Each takes ``group=``, a group of
``new_group`` (None: the default group): then only its processes call it, ``i`` is a rank in it,
and a root (``src``, ``dst``) is named by its global rank or, as ``group_src``/``group_dst``, by its
rank in the group; a process outside the group that calls it gets PyTorch's warning and nothing. With ``async_op=True`` a collective returns a
``Work`` at once and is finished by ``work.wait()``: the data travels while this process computes.
"""
import enum
import functools
import math
import warnings

from chainrule.autograd.function import not_replayable
from chainrule.backend import xp
from chainrule.distributed.process_group import GroupMember, get_group_rank, get_rank, resolve


def _collective(function):
    """``function``, which communicates with the other processes (a collective, a send or a receive):
    a call of ``chainrule.compile`` that makes one runs eagerly (a replayed program would not
    communicate with them)."""

    @functools.wraps(function)
    def collective(*args, **kwargs):
        not_replayable(f"calls {function.__name__}, which communicates with the other processes")
        return function(*args, **kwargs)

    return collective


class ReduceOp(enum.Enum):
    """How ``all_reduce`` and ``reduce_scatter`` combine the processes' tensors, element by element."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


# PyTorch's ReduceOp.SUM is an instance of the nested enum ReduceOp.RedOpType (code annotates its
# op arguments with it); here the members are ReduceOp's own, so that type is ReduceOp itself.
ReduceOp.RedOpType = ReduceOp


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` blocks until its result is written."""

    def __init__(self, request, finish=None):
        self._request = request
        self._finish = finish

    def wait(self, timeout=None):
        """Block until the collective has finished and its result is in the output tensors."""
        self._request.Wait()
        self._complete()
        return True

    def is_completed(self):
        """Whether the collective has finished (its result is then written), without blocking."""
        if self._finish is not None and self._request.Test():
            self._complete()
        return self._finish is None

    def _complete(self):
        finish, self._finish = self._finish, None
        if finish is not None:
            finish()


@_collective
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Replace ``tensor`` on every process of ``group`` by ``op`` over their tensors (AVG: their mean)."""
    communicator = _communicator("all_reduce", group)
    if communicator is None:
        return None
    op = _reduce_op("all_reduce", op, tensor)
    buffer, write_back = _in_place_buffer(tensor)
    finish = _finish_reduction(op, buffer, write_back, communicator.size)
    return _run(communicator.all_reduce(buffer, op.name), finish, async_op)


@_collective
def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Overwrite ``tensor`` on every process of ``group`` with process ``src``'s (a global rank; or
    ``group_src``, its rank in the group)."""
    communicator = _communicator("broadcast", group)
    if communicator is None:
        return None
    root = _rank_in_group("broadcast", "src", src, group_src, group, communicator)
    buffer, write_back = _in_place_buffer(tensor)
    return _run(communicator.broadcast(buffer, root), write_back, async_op)


@_collective
def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[i]`` with the ``tensor`` of the group's process ``i``, on each of them."""
    communicator = _communicator("all_gather", group)
    if communicator is None:
        return None
    _check_list("all_gather", "tensor_list", tensor_list, tensor, communicator.size)
    receive = xp.empty((communicator.size, *tensor._array.shape), dtype=tensor._array.dtype)
    request = communicator.all_gather(_contiguous(tensor._array), receive)
    return _run(request, lambda: _unstack(receive, tensor_list), async_op)


@_collective
def all_gather_single(output_tensor, input_tensor, group=None, async_op=False):
    """Fill ``output_tensor`` with every process's ``input_tensor``, the group's process ``i``'s
    ``i``-th, on each of them: ``output_tensor`` is their concatenation along dim 0 (``torch.cat``,
    shape ``(size * n, ...)`` for inputs ``(n, ...)``) or their stack (``torch.stack``, ``(size, n, ...)``)."""
    communicator = _communicator("all_gather_single", group)
    if communicator is None:
        return None
    gathered_shape = (communicator.size, *input_tensor._array.shape)
    output = output_tensor._array
    if output.dtype != input_tensor._array.dtype or output.size != math.prod(gathered_shape):
        raise RuntimeError(
            f"all_gather_single: output_tensor has shape {tuple(output.shape)} and dtype {output.dtype}, but the "
            f"{communicator.size} inputs of shape {tuple(input_tensor._array.shape)} and dtype "
            f"{input_tensor._array.dtype} need their concatenation or stack along dim 0 in the same dtype"
        )
    receive = xp.empty(gathered_shape, dtype=output.dtype)
    request = communicator.all_gather(_contiguous(input_tensor._array), receive)

    def finish():
        output[...] = receive.reshape(output.shape)

    return _run(request, finish, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """``all_gather_single``'s older name, with PyTorch's FutureWarning."""
    warnings.warn(
        "`torch.distributed.all_gather_into_tensor` is deprecated. Please use "
        "`torch.distributed.all_gather_single` instead.",
        FutureWarning,
        stacklevel=2,
    )
    return all_gather_single(output_tensor, input_tensor, group, async_op)


@_collective
def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """``output`` on the group's process ``r`` = ``op`` over its processes' ``input_list[r]``."""
    communicator = _communicator("reduce_scatter", group)
    if communicator is None:
        return None
    op = _reduce_op("reduce_scatter", op, output)
    _check_list("reduce_scatter", "input_list", input_list, output, communicator.size)
    send = xp.stack([item._array for item in input_list])
    buffer, write_back = _in_place_buffer(output)
    finish = _finish_reduction(op, buffer, write_back, communicator.size)
    return _run(communicator.reduce_scatter(send, buffer, op.name), finish, async_op)


@_collective
def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None, async_op=False):
    """Send the ``j``-th part of ``input`` (split along dim 0) to the group's process ``j``, and fill
    the ``i``-th part of ``output`` with what its process ``i`` sent here.

    ``input_split_sizes[j]`` rows of ``input`` go to process ``j`` and ``output_split_sizes[i]``
    rows of ``output`` come from process ``i``; left out, dim 0 is split into equal parts.
    """
    communicator = _communicator("all_to_all_single", group)
    if communicator is None:
        return None
    send_rows = _split_sizes(input_split_sizes, input, communicator.size)
    receive_rows = _split_sizes(output_split_sizes, output, communicator.size)
    if send_rows[communicator.rank] != receive_rows[communicator.rank]:
        raise RuntimeError(
            f"all_to_all_single: this process (rank {communicator.rank}) sends itself "
            f"{send_rows[communicator.rank]} rows (input_split_sizes) but expects "
            f"{receive_rows[communicator.rank]} from itself (output_split_sizes); they must match"
        )
    row_size = math.prod(input._array.shape[1:])
    buffer, write_back = _in_place_buffer(output)
    request = communicator.all_to_all(
        _contiguous(input._array).reshape(-1),
        [rows * row_size for rows in send_rows],
        buffer.reshape(-1),
        [rows * row_size for rows in receive_rows],
    )
    return _run(request, write_back, async_op)


@_collective
def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """Send ``input_tensor_list[j]`` to the group's process ``j``, and fill
    ``output_tensor_list[i]`` with the tensor its process ``i`` sent here. The tensors may differ
    in shape (each pair of processes agrees on the number of elements between them); all have one
    dtype."""
    communicator = _communicator("all_to_all", group)
    if communicator is None:
        return None
    for argument, tensors in (("output_tensor_list", output_tensor_list), ("input_tensor_list", input_tensor_list)):
        if len(tensors) != communicator.size:
            raise ValueError(f"all_to_all: {argument} must hold one tensor per process ({communicator.size}), got {len(tensors)}")
    kinds = {tensor._array.dtype for tensor in (*output_tensor_list, *input_tensor_list)}
    if len(kinds) > 1:
        raise RuntimeError(f"all_to_all: the tensors must have one dtype, got {sorted(map(str, kinds))}")
    rank = communicator.rank
    if input_tensor_list[rank]._array.size != output_tensor_list[rank]._array.size:
        raise RuntimeError(
            f"all_to_all: this process (rank {rank}) sends itself {input_tensor_list[rank]._array.size} elements "
            f"(input_tensor_list[{rank}]) but receives {output_tensor_list[rank]._array.size} "
            f"(output_tensor_list[{rank}]); they must match"
        )
    send = xp.concatenate([_contiguous(tensor._array).reshape(-1) for tensor in input_tensor_list])
    receive_counts = [tensor._array.size for tensor in output_tensor_list]
    receive = xp.empty(sum(receive_counts), dtype=kinds.pop())
    request = communicator.all_to_all(send, [tensor._array.size for tensor in input_tensor_list], receive, receive_counts)

    def finish():
        start = 0
        for tensor, count in zip(output_tensor_list, receive_counts):
            tensor._array[...] = receive[start : start + count].reshape(tensor._array.shape)
            start += count

    return _run(request, finish, async_op)


@_collective
def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """On process ``dst`` (a global rank, default 0; or ``group_dst``, its rank in the group), fill
    ``gather_list[i]`` with the ``tensor`` of the group's process ``i``.

    ``gather_list`` is given on ``dst`` only (None elsewhere).
    """
    communicator = _communicator("gather", group)
    if communicator is None:
        return None
    root = _root("gather", "dst", dst, group_dst, group, communicator)
    if _list_on_root("gather", "gather_list", gather_list, tensor, communicator, root):
        receive = xp.empty((communicator.size, *tensor._array.shape), dtype=tensor._array.dtype)
        finish = lambda: _unstack(receive, gather_list)  # noqa: E731
    else:
        receive = finish = None
    return _run(communicator.gather(_contiguous(tensor._array), receive, root), finish, async_op)


@_collective
def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Overwrite ``tensor`` on the group's process ``r`` with ``scatter_list[r]`` of process ``src``
    (a global rank, default 0; or ``group_src``, its rank in the group).

    ``scatter_list`` is given on ``src`` only (None elsewhere).
    """
    communicator = _communicator("scatter", group)
    if communicator is None:
        return None
    root = _root("scatter", "src", src, group_src, group, communicator)
    if _list_on_root("scatter", "scatter_list", scatter_list, tensor, communicator, root):
        send = xp.stack([item._array for item in scatter_list])
    else:
        send = None
    buffer, write_back = _in_place_buffer(tensor)
    return _run(communicator.scatter(send, buffer, root), write_back, async_op)


@_collective
def all_gather_object(object_list, obj, group=None):
    """Fill ``object_list[i]`` with the ``obj`` (any picklable object) of the group's process ``i``,
    on each of them."""
    communicator = _communicator("all_gather_object", group)
    if communicator is None:
        return
    if len(object_list) != communicator.size:
        raise ValueError(
            f"all_gather_object: object_list must have one slot per process ({communicator.size}), "
            f"got {len(object_list)}; make it [None] * get_world_size(group)"
        )
    object_list[:] = communicator.all_gather_object(obj)


@_collective
def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Overwrite ``object_list`` on every process of ``group`` with the objects of process ``src``'s
    (a global rank, default 0; or ``group_src``, its rank in the group): any picklable objects,
    copied; each process passes a list of the same length."""
    communicator = _communicator("broadcast_object_list", group)
    if communicator is None:
        return
    root = _root("broadcast_object_list", "src", src, group_src, group, communicator)
    received = communicator.broadcast_object(list(object_list) if communicator.rank == root else None, root)
    if communicator.rank == root:
        return
    if len(received) != len(object_list):
        raise ValueError(
            f"broadcast_object_list: object_list has {len(object_list)} slots here but the source process sent "
            f"{len(received)} objects; give every process a list of the same length"
        )
    object_list[:] = received


@_collective
def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """On process ``dst`` (a global rank; or ``group_dst``, its rank in the group), replace
    ``tensor`` by ``op`` over the group's tensors (AVG: their mean); PyTorch leaves the other
    processes' tensors unspecified, chainrule leaves them as they were."""
    communicator = _communicator("reduce", group)
    if communicator is None:
        return None
    root = _rank_in_group("reduce", "dst", dst, group_dst, group, communicator)
    op = _reduce_op("reduce", op, tensor)
    buffer = xp.array(tensor._array, order="C")  # a copy, so that only dst's tensor changes

    def write_back():
        if communicator.rank == root:
            tensor._array[...] = buffer

    finish = _finish_reduction(op, buffer, write_back, communicator.size)
    return _run(communicator.all_reduce(buffer, op.name), finish, async_op)


@_collective
def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """On process ``dst`` (a global rank, default 0; or ``group_dst``, its rank in the group), fill
    ``object_gather_list[i]`` with the ``obj`` (any picklable object) of the group's process ``i``;
    the list is given on ``dst`` only (None elsewhere)."""
    communicator = _communicator("gather_object", group)
    if communicator is None:
        return
    root = _root("gather_object", "dst", dst, group_dst, group, communicator)
    if communicator.rank == root and (object_gather_list is None or len(object_gather_list) != communicator.size):
        raise ValueError(
            f"gather_object: object_gather_list must have one slot per process ({communicator.size}) on "
            f"the destination process; make it [None] * get_world_size(group)"
        )
    gathered = communicator.all_gather_object(obj)
    if communicator.rank == root:
        object_gather_list[:] = gathered


@_collective
def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None, group=None, group_src=None):
    """Set ``scatter_object_output_list[0]`` on the group's process ``r`` to
    ``scatter_object_input_list[r]`` of process ``src`` (a global rank, default 0; or ``group_src``,
    its rank in the group): any picklable objects, one per process, given on ``src`` only."""
    communicator = _communicator("scatter_object_list", group)
    if communicator is None:
        return
    root = _root("scatter_object_list", "src", src, group_src, group, communicator)
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    if communicator.rank == root and (scatter_object_input_list is None or len(scatter_object_input_list) != communicator.size):
        raise ValueError(
            f"scatter_object_list: scatter_object_input_list must hold one object per process "
            f"({communicator.size}) on the source process"
        )
    sent = communicator.broadcast_object(list(scatter_object_input_list) if communicator.rank == root else None, root)
    scatter_object_output_list[0] = sent[communicator.rank]


@_collective
def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every process of ``group`` has reached this call."""
    communicator = _communicator("barrier", group)
    if communicator is None:
        return None
    return _run(communicator.barrier(), None, async_op)


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    """``barrier``, which PyTorch's gloo watches with a timeout to name the processes that did not
    arrive; here a process that is gone ends the job instead (see ``init_process_group``)."""
    barrier(group)


def _communicator(name, group):
    """The communicator of ``group`` (None: the default group); None, with PyTorch's warning, on a
    process outside it (``new_group`` gave it ``NON_GROUP_MEMBER``), which takes no part in it."""
    if group == GroupMember.NON_GROUP_MEMBER:
        warnings.warn(f"Running {name} on global rank {get_rank()} which does not belong to the given group.", stacklevel=3)
        return None
    return resolve(group).communicator


def _rank_in_group(name, argument, rank, group_rank, group, communicator):
    """The rank in ``group`` of the process named by its global ``rank`` or by ``group_rank``
    (exactly one of them, as PyTorch's ``src``/``group_src`` and ``dst``/``group_dst``)."""
    if rank is not None and group_rank is not None:
        raise ValueError(f"Can't specify both group_rank and global_rank: give {name} {argument} or group_{argument}, not both")
    if rank is None and group_rank is None:
        raise ValueError(f"Must specify global_rank or group_rank: give {name} {argument}=the global rank of the process")
    if group_rank is None:
        group_rank = get_group_rank(resolve(group), rank)
    _check_rank(name, argument, group_rank, communicator)
    return group_rank


def _root(name, argument, rank, group_rank, group, communicator):
    """``_rank_in_group`` for the collectives whose root is global rank 0 when none is named."""
    if rank is None and group_rank is None:
        rank = 0
    return _rank_in_group(name, argument, rank, group_rank, group, communicator)


def _run(request, finish, async_op):
    work = Work(request, finish)
    if async_op:
        return work
    work.wait()
    return None


def _contiguous(array):
    """``array``, or a row-major copy of it where it is not row-major (a 0-d array stays 0-d,
    which NumPy's ``ascontiguousarray`` would make 1-d)."""
    return array if array.flags.c_contiguous else xp.ascontiguousarray(array)


def _in_place_buffer(tensor):
    """A contiguous array the collective may overwrite, and the function that puts it into ``tensor``."""
    array = tensor._array
    if array.flags.c_contiguous and array.flags.writeable:
        return array, lambda: None
    buffer = xp.ascontiguousarray(array)

    def write_back():
        tensor._array[...] = buffer

    return buffer, write_back


def _finish_reduction(op, buffer, write_back, size):
    """What completes a reduction: the sum divided by the world size for AVG (MPI has no mean),
    then the result copied into the tensor when it was not communicated in place."""

    def finish():
        if op is ReduceOp.AVG:
            buffer[...] /= size
        write_back()

    return finish


def _unstack(stacked, tensors):
    for index, item in enumerate(tensors):
        item._array[...] = stacked[index]


def _reduce_op(name, op, tensor):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{name}: op must be a ReduceOp (e.g. ReduceOp.SUM), got {op!r}")
    if op is ReduceOp.AVG and tensor._array.dtype.kind != "f":
        raise RuntimeError(
            f"{name} with ReduceOp.AVG needs a floating-point tensor, got {tensor._array.dtype}; "
            f"use ReduceOp.SUM and divide, or convert the tensor with .double()"
        )
    return op


def _check_rank(name, argument, value, communicator):
    if not isinstance(value, int) or not 0 <= value < communicator.size:
        raise ValueError(
            f"{name}: {argument}={value!r} is not a rank of this group of {communicator.size} "
            f"process(es); choose one in 0..{communicator.size - 1}"
        )


def _check_list(name, argument, tensors, tensor, size):
    if tensors is None or len(tensors) != size:
        count = "None" if tensors is None else f"{len(tensors)} tensors"
        raise ValueError(f"{name}: {argument} must hold one tensor per process ({size}), got {count}")
    for index, item in enumerate(tensors):
        if item._array.shape != tensor._array.shape or item._array.dtype != tensor._array.dtype:
            raise ValueError(
                f"{name}: {argument}[{index}] has shape {tuple(item._array.shape)} and dtype "
                f"{item._array.dtype}, but the tensor has shape {tuple(tensor._array.shape)} and dtype "
                f"{tensor._array.dtype}; every tensor must match it"
            )


def _split_sizes(split_sizes, tensor, size):
    """The rows of ``tensor`` (along dim 0) that go to or come from each process: ``split_sizes``,
    checked against the tensor, or equal parts when it is None or empty."""
    rows = tensor._array.shape[0] if tensor._array.ndim else 1
    if not split_sizes:
        if rows % size:
            raise RuntimeError(f"Tensor's dim 0 does not divide equally across group size (dim 0: {rows}, group size: {size})")
        return [rows // size] * size
    if len(split_sizes) != size:
        raise RuntimeError(f"Number of tensor splits not equal to group size ({len(split_sizes)} splits, group size {size})")
    if sum(split_sizes) != rows:
        raise RuntimeError(f"Split sizes doesn't match total dim 0 size (splits {list(split_sizes)}, dim 0: {rows})")
    return list(split_sizes)


def _list_on_root(name, argument, tensors, tensor, communicator, root):
    """Check the list that a rooted collective (gather, scatter) takes on its root process only
    (``root``, a rank in the group); whether this process is the root."""
    if communicator.rank == root:
        _check_list(name, argument, tensors, tensor, communicator.size)
        return True
    if tensors:
        raise ValueError(f"{name}: {argument} is only given on the root process (group rank {root}), not on this one")
    return False
