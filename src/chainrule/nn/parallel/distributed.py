"""DistributedDataParallel: one model replica per process, trained as one model on the whole batch.

Each process runs the same model on its own share of every batch. When wrapped, the replicas are
made identical (rank 0's parameters and buffers are broadcast to the others); during each backward
the gradients are averaged across processes (``chainrule.nn.parallel.reducer``), so that every
optimizer step applies the same update everywhere and the replicas stay identical. With equal
shares of a batch whose loss is a mean, the averaged gradient is exactly the full batch's gradient.
"""
import contextlib

from chainrule.autograd.function import not_replayable
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.distributed import all_gather_object, broadcast, get_backend, get_rank, get_world_size, group, is_initialized
from chainrule.nn.module import Module
from chainrule.nn.parallel.reducer import Reducer
from chainrule.utils._pytree import tree_leaves


class DistributedDataParallel(Module):
    """Wrap ``module`` so that its gradients are averaged across the processes of the group.

    Call ``init_process_group`` first; every process builds the same model and wraps it. Then train
    as usual: ``loss = loss_fn(ddp_model(x), y); loss.backward(); optimizer.step()``. The wrapped model
    is ``ddp_model.module`` (save ``ddp_model.module.state_dict()`` for keys without the
    ``module.`` prefix, as in PyTorch).

    Args:
        module: the model.
        broadcast_buffers: copy rank 0's buffers (e.g. BatchNorm's running statistics) to every
            process at each forward.
        bucket_cap_mb: the size of the gradient buckets averaged together, in MiB (default 25).
        find_unused_parameters: let the loss leave some parameters out (a branch not taken, a
            frozen head): after each forward, the parameters its output does not depend on are
            averaged as zeros, and keep ``.grad`` None where no process used them.
        init_sync: broadcast rank 0's parameters and buffers when wrapping.
        process_group: the processes that train this model together (``new_group``; default: all
            of them); "rank 0" above is then the group's first process, and every member wraps its
            model in the same order as the others.

    The other arguments of PyTorch's signature are accepted for compatibility: ``device_ids`` and
    ``output_device`` do not apply on the CPU.
    """

    def __init__(
        self,
        module,
        device_ids=None,
        output_device=None,
        dim=0,
        broadcast_buffers=True,
        init_sync=True,
        process_group=None,
        bucket_cap_mb=None,
        find_unused_parameters=False,
        gradient_as_bucket_view=False,
        static_graph=False,
    ):
        super().__init__()
        if not is_initialized():
            raise ValueError(
                "Default process group has not been initialized, please make sure to call init_process_group."
            )
        self.module = module
        # the processes that train this model together, as PyTorch's attribute (the default group when none is given)
        self.process_group = process_group if process_group is not None else group.WORLD
        self.broadcast_buffers = broadcast_buffers
        # the settings as PyTorch's DDP keeps them, for trainers that read them (Lightning's DDP)
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph  # chainrule's buckets are fixed anyway
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        verify_same_parameters(module, self.process_group)
        if init_sync:
            self._broadcast(list(module.parameters()) + list(module.buffers()))
        cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        self.bucket_bytes_cap = int(cap_mb * 1024 * 1024)
        self.reducer = Reducer(module.parameters(), self.bucket_bytes_cap, find_unused_parameters, self.process_group)

    def forward(self, *inputs, **kwargs):
        # It gets the reducer ready for the next backward (or raises for the last one unfinished):
        # Python state that a compiled program would not set again.
        not_replayable("calls DistributedDataParallel's forward, which prepares the next backward's averaging")
        if self.broadcast_buffers:
            self._broadcast(list(self.module.buffers()))
        self.require_forward_param_sync = is_grad_enabled() and self.require_backward_grad_sync
        self.reducer.prepare_for_forward(sync=self.require_forward_param_sync)
        output = self.module(*inputs, **kwargs)
        if self.require_forward_param_sync and self.find_unused_parameters:
            self.reducer.prepare_for_backward(tree_leaves(output))  # the parameters output does not depend on are ready
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Inside the block, backward only accumulates each process's own gradients (no averaging).

        For gradient accumulation: run ``k - 1`` micro-batches inside ``no_sync()`` and the last one
        outside; its backward averages the gradients summed over all ``k``.
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def _get_ddp_logging_data(self):
        """What PyTorch's DDP logs about itself, the entries that apply here: the group, the
        model's parameters and the settings (flags as 0/1, as PyTorch's)."""
        parameters = self.reducer.parameters
        return {
            "backend_name": get_backend(),
            "world_size": get_world_size(self.process_group),
            "rank": get_rank(self.process_group),
            "module_name": type(self.module).__name__,
            "num_parameter_tensors": len(parameters),
            "total_parameter_size_bytes": sum(parameter._array.nbytes for parameter in parameters),
            "dtypes": ", ".join(sorted({str(parameter.dtype).split(".")[-1] for parameter in parameters})),
            "bucket_cap_bytes": self.bucket_bytes_cap,
            "broadcast_buffers": int(self.broadcast_buffers),
            "find_unused_parameters": int(self.find_unused_parameters),
            "gradient_as_bucket_view": int(self.gradient_as_bucket_view),
            "static_graph": int(self.static_graph),
        }

    def _broadcast(self, tensors):
        """The group's first process's values of ``tensors``, copied into every other's."""
        if get_world_size(self.process_group) > 1:
            for tensor in tensors:
                broadcast(tensor, group=self.process_group, group_src=0)


def verify_same_parameters(module, process_group=None):
    """Raise, on every process of ``process_group``, if their models do not have the same parameters.

    Broadcasting rank 0's weights into a model of another shape would fail deep inside MPI, or worse,
    silently train different models; comparing names, shapes and dtypes first says what differs.
    """
    layout = [(name, tuple(parameter.shape), str(parameter.dtype)) for name, parameter in module.named_parameters()]
    layouts = [None] * get_world_size(process_group)
    all_gather_object(layouts, layout, group=process_group)
    reference = layouts[0]
    for rank, other in enumerate(layouts[1:], start=1):
        if other == reference:
            continue
        if len(other) != len(reference):
            difference = f"rank 0 has {len(reference)} parameters but rank {rank} has {len(other)}"
        else:
            (name, shape, dtype), (other_name, other_shape, other_dtype) = next(
                pair for pair in zip(reference, other) if pair[0] != pair[1]
            )
            other_parameter = "" if other_name == name else f"parameter {other_name!r} has "
            difference = (
                f"parameter {name!r} has shape {shape} ({dtype}) on rank 0 but {other_parameter}"
                f"shape {other_shape} ({other_dtype}) on rank {rank}"
            )
        raise RuntimeError(
            f"DistributedDataParallel: the model differs across processes: {difference}; build the "
            f"same model (same layers and sizes) on every process before wrapping it"
        )
