"""``torch.distributed._functional_collectives``: collectives that return their result, out of place.

Where ``dist.all_reduce(t)`` overwrites ``t``, ``all_reduce(t, "sum", group)`` leaves ``t`` as it
is and returns a new tensor, so that the collectives compose like other operations, gradients
included::

    all_reduce(t, "sum", group)                  t_0 + t_1 + ... on every process
    all_gather_single(t, gather_dim, group)      cat([t_0, t_1, ...], gather_dim)
    reduce_scatter_single(t, "sum", dim, group)  the rank-th of the chunks of (t_0 + t_1 + ...) along dim
    all_to_all_single(t, out_splits, in_splits, group)
                                                 rows of t sent to each process, rows from each received
    broadcast(t, src, group)                     t_src
    permute_tensor(t, src_dst, group)            t of the process that src_dst says sends here

``group`` is a ``ProcessGroup``, a list of ranks, a 1-D ``DeviceMesh``, a ``(DeviceMesh, dim)``
pair or a group's name. Backward runs the collective's dual: all_reduce's is all_reduce of the
gradients, all_gather's is reduce_scatter, all_to_all's the all_to_all back.

PyTorch returns an ``AsyncCollectiveTensor`` that finishes the collective when first used;
chainrule's collectives finish before they return, so the result is already complete and
``wait_tensor`` (or ``.wait()``) just hands back the plain tensor.
"""
import warnings

from chainrule.autograd.function import Function
from chainrule.creation import empty
from chainrule.distributed import collectives
from chainrule.distributed.collectives import ReduceOp
from chainrule.distributed.device_mesh import DeviceMesh
from chainrule.distributed.process_group import ProcessGroup, default_group, get_world_size
from chainrule.ops.join import cat
from chainrule.overrides import disabled_torch_function_impl
from chainrule.tensor import Tensor

__all__ = [
    "AsyncCollectiveTensor",
    "all_gather_single",
    "all_gather_tensor",
    "all_reduce",
    "all_to_all_single",
    "all_to_all_single_autograd",
    "broadcast",
    "permute_tensor",
    "reduce_scatter_single",
    "reduce_scatter_tensor",
    "wait_tensor",
]


class AsyncCollectiveTensor(Tensor):
    """The result of a functional collective, as PyTorch returns it: ``elem`` is the plain tensor,
    ``wait()`` returns it, and every operation on this one computes on it and gives plain tensors."""

    __torch_function__ = disabled_torch_function_impl

    def trigger_wait(self):
        """The plain result (complete already: chainrule's collectives finish before returning)."""
        self.completed = True
        return self.elem

    def wait(self):
        """The plain result tensor."""
        return self.elem

    def tolist(self):
        return self.elem.tolist()

    def numpy(self, *, force=False):
        return self.elem.numpy(force=force)

    def __repr__(self):
        return f"AsyncCollectiveTensor({self.elem})"


def wait_tensor(tensor):
    """The result of a collective, finished: an ``AsyncCollectiveTensor``'s plain tensor, any other tensor itself."""
    if isinstance(tensor, AsyncCollectiveTensor):
        return tensor.wait()
    return tensor


def all_reduce(self, reduceOp, group, tag=""):
    """``reduceOp`` ("sum", "avg", "max"...) over the processes' tensors, on every process; ``self`` is unchanged."""
    return _as_async(AllReduce.apply(self, _reduce_op(reduceOp), _resolve_group(group)))


def all_gather_single(self, gather_dim, group, tag=""):
    """The processes' tensors joined along ``gather_dim`` in rank order, on every process."""
    result = AllGather.apply(self, gather_dim, _resolve_group(group))
    return _as_async(result) if gather_dim == 0 else result


def all_gather_tensor(self, gather_dim, group, tag=""):
    """``all_gather_single``, by its deprecated name."""
    _deprecated("all_gather_tensor", "all_gather_single")
    return all_gather_single(self, gather_dim, group, tag)


def reduce_scatter_single(self, reduceOp, scatter_dim, group, tag=""):
    """Split every process's tensor along ``scatter_dim`` into one chunk per process; process
    ``r`` gets ``reduceOp`` over the processes' ``r``-th chunks."""
    group = _resolve_group(group)
    group_size = group.size()
    if self.size(scatter_dim) % group_size != 0:
        raise AssertionError(f"input dimension 0 ({self.size(0)} must be a multiple of group_size {group_size})")
    return _as_async(ReduceScatter.apply(self, _reduce_op(reduceOp), scatter_dim, group))


def reduce_scatter_tensor(self, reduceOp, scatter_dim, group, tag=""):
    """``reduce_scatter_single``, by its deprecated name."""
    _deprecated("reduce_scatter_tensor", "reduce_scatter_single")
    return reduce_scatter_single(self, reduceOp, scatter_dim, group, tag)


def all_to_all_single(self, output_split_sizes, input_split_sizes, group, tag=""):
    """Send ``input_split_sizes[j]`` rows of ``self`` (in order, along dim 0) to process ``j``;
    the result holds the ``output_split_sizes[i]`` rows from each process ``i`` in rank order.
    Both None: dim 0 split into equal parts."""
    for name, sizes in (("output_split_sizes", output_split_sizes), ("input_split_sizes", input_split_sizes)):
        if sizes is not None and not all(isinstance(size, int) for size in sizes):
            raise AssertionError(f"All {name} must be int or SymInt, got {sizes}")
    group = _resolve_group(group)
    if output_split_sizes is None or input_split_sizes is None:
        if not (output_split_sizes is None and input_split_sizes is None):
            raise AssertionError(
                "output_split_sizes and input_split_sizes must either be specified together or both set to None"
            )
        output_split_sizes = input_split_sizes = [self.shape[0] // group.size()] * group.size()
    return _as_async(AllToAll.apply(self, list(output_split_sizes), list(input_split_sizes), group))


# PyTorch's name from before all_to_all_single had a backward; the same function now, as there
all_to_all_single_autograd = all_to_all_single


def broadcast(self, src, group, tag=""):
    """Process ``src``'s tensor, on every process; ``self`` is unchanged."""
    return _as_async(Broadcast.apply(self, src, _resolve_group(group)))


def permute_tensor(self, src_dst, group, tag=""):
    """Process ``m`` sends its tensor to process ``src_dst[m]``: the result is the tensor of the
    process that sends here (``all_to_all_single`` with ``self.numel()`` rows to and from them,
    so ``self`` is one-dimensional)."""
    resolved = _resolve_group(group)
    group_size, rank = resolved.size(), resolved.rank()
    output_split_sizes = [0] * group_size
    input_split_sizes = [0] * group_size
    for src, dst in enumerate(src_dst):
        if src == rank:
            input_split_sizes[dst] = self.numel()
        if dst == rank:
            output_split_sizes[src] = self.numel()
    return all_to_all_single(self, output_split_sizes, input_split_sizes, group, tag)


class AllReduce(Function):
    """``all_reduce``: backward all-reduces the gradients (a sum's only)."""

    @staticmethod
    def forward(ctx, input, op, group):
        ctx.op, ctx.group = op, group
        output = input.clone()
        collectives.all_reduce(output, op=op, group=group)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        _only_sum("all_reduce", ctx.op)
        return AllReduce.apply(grad_output.contiguous(), ctx.op, ctx.group), None, None


class AllGather(Function):
    """``all_gather_single``: backward reduce-scatters the gradient (sums each process's part)."""

    @staticmethod
    def forward(ctx, input, gather_dim, group):
        ctx.gather_dim, ctx.group = gather_dim, group
        pieces = [empty(input.shape, dtype=input.dtype) for _ in range(group.size())]
        collectives.all_gather(pieces, input.contiguous(), group=group)
        return cat(pieces, gather_dim)

    @staticmethod
    def backward(ctx, grad_output):
        return ReduceScatter.apply(grad_output, ReduceOp.SUM, ctx.gather_dim, ctx.group), None, None


class ReduceScatter(Function):
    """``reduce_scatter_single``: backward all-gathers the gradients (a sum's only)."""

    @staticmethod
    def forward(ctx, input, op, scatter_dim, group):
        ctx.op, ctx.scatter_dim, ctx.group = op, scatter_dim, group
        chunks = [chunk.contiguous() for chunk in input.chunk(group.size(), scatter_dim)]
        output = empty(chunks[0].shape, dtype=input.dtype)
        collectives.reduce_scatter(output, chunks, op=op, group=group)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        _only_sum("reduce_scatter_tensor", ctx.op)
        return AllGather.apply(grad_output, ctx.scatter_dim, ctx.group), None, None, None


class AllToAll(Function):
    """``all_to_all_single``: backward sends the gradients' rows back where they came from."""

    @staticmethod
    def forward(ctx, input, output_split_sizes, input_split_sizes, group):
        ctx.output_split_sizes, ctx.input_split_sizes, ctx.group = output_split_sizes, input_split_sizes, group
        output = empty((sum(output_split_sizes), *input.shape[1:]), dtype=input.dtype)
        collectives.all_to_all_single(output, input, output_split_sizes, input_split_sizes, group=group)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        grad_input = AllToAll.apply(grad_output.contiguous(), ctx.input_split_sizes, ctx.output_split_sizes, ctx.group)
        return grad_input, None, None, None


class Broadcast(Function):
    """``broadcast``: its gradient passes through unchanged, as PyTorch's (which registers no
    backward of its own for it and lets the gradient through)."""

    @staticmethod
    def forward(ctx, input, src, group):
        output = input.clone()
        collectives.broadcast(output, src, group=group)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None, None


def _as_async(result):
    """``result`` seen as the ``AsyncCollectiveTensor`` PyTorch returns (in the same graph)."""
    wrapped = result.as_subclass(AsyncCollectiveTensor)
    wrapped.elem = result
    wrapped.completed = False
    return wrapped


def _reduce_op(name):
    """The ``ReduceOp`` a functional collective's reduction name ("sum", "AVG"...) stands for."""
    op = ReduceOp.__members__.get(name.upper())
    if op is None:
        raise RuntimeError(f"Unrecognized reduce_op: {name.lower()}")
    return op


def _only_sum(name, op):
    if op is not ReduceOp.SUM:
        raise RuntimeError(f"{name} backward only supports 'sum' reduction, got '{op.name.lower()}'")


def _deprecated(name, replacement):
    warnings.warn(
        f"`torch.distributed._functional_collectives.{name}` is deprecated. "
        f"Please use `torch.distributed._functional_collectives.{replacement}` instead.",
        FutureWarning,
        stacklevel=3,
    )


def _resolve_group(group):
    """The process group ``group`` names: a ``ProcessGroup``, its name, a 1-D ``DeviceMesh``, a
    ``(DeviceMesh, dim)`` pair, or a list of ranks (deprecated). chainrule's one group is the
    world, so ranks must be all of them."""
    if isinstance(group, ProcessGroup):
        return group
    if isinstance(group, str):
        if group != default_group().group_name:
            raise RuntimeError(f"Could not resolve the process group registered under the name {group}")
        return default_group()
    if isinstance(group, DeviceMesh):
        if group.ndim != 1:
            raise AssertionError("Only 1D mesh is supported, pass in (DeviceMesh, int) together if mesh > 1D")
        return group.get_group()
    if isinstance(group, tuple):
        if len(group) == 2 and isinstance(group[0], DeviceMesh) and isinstance(group[1], int):
            return group[0].get_group(group[1])
        raise ValueError(
            f"Invalid tuple for group must be (DeviceMesh, int). Instead got {tuple(type(item) for item in group)}"
        )
    if isinstance(group, list):
        warnings.warn(
            "The combination of ranks + tag as process group identifier has been deprecated. "
            "Please switch to using ProcessGroup, DeviceMesh, or group name instead.",
            FutureWarning,
            stacklevel=3,
        )
        world = default_group()
        if group != list(range(get_world_size())):
            raise ValueError(
                f"the ranks {group} are not a process group: chainrule's one group is all "
                f"{world.size()} processes, ranks {list(range(world.size()))}; pass that list, or group.WORLD"
            )
        return world
    raise ValueError(f"Unsupported group type: {type(group)}, {group}")
