"""ZeroRedundancyOptimizer: data-parallel training where each process keeps the optimizer state of
its share of the parameters only, as ``torch.distributed.optim.ZeroRedundancyOptimizer``
(the first stage of ZeRO, https://arxiv.org/abs/1910.02054).

Under DistributedDataParallel every process holds the whole model and the same averaged gradients,
so every process would compute the same optimizer step, and keep the same Adam moments: N copies of
state that is often twice the model's size. Instead::

    optimizer = ZeroRedundancyOptimizer(model.parameters(), optimizer_class=chainrule.optim.Adam, lr=1e-3)

splits the parameters among the processes (each whole, largest first, each to the process with the
fewest elements so far) and builds on each process an ``optimizer_class`` (``optimizer.optim``) of
its share. ``step()`` steps that share, then every process broadcasts the parameters it updated, so
all processes end the step with the same weights, and each kept ~1/N of the state. With one process
it trains exactly as ``optimizer_class`` would.

The optimizer's whole state lives on no process: ``consolidate_state_dict(to=0)`` (called on every
process) collects it on process 0, whose ``state_dict()`` then returns it in the usual layout, and
``load_state_dict`` gives each process its share again.
"""
import copy
from itertools import chain

from chainrule.creation import empty, zeros
from chainrule.distributed.algorithms.join import Join, Joinable, JoinHook
from chainrule.distributed.collectives import broadcast, broadcast_object_list
from chainrule.distributed.process_group import get_global_rank, get_rank, get_world_size, group
from chainrule.optim.optimizer import Optimizer
from chainrule.queries import typename
from chainrule.tensor import Tensor

__all__ = ["ZeroRedundancyOptimizer"]


class _ZeROJoinHook(JoinHook):
    """Under ``Join``, a process that ran out of inputs keeps stepping (its gradients are left as
    they were), so that it still broadcasts its share of the parameters to the others."""

    def __init__(self, zero):
        if not isinstance(zero, ZeroRedundancyOptimizer):
            raise AssertionError("ZeRO join hook requires passing in a ZeroRedundancyOptimizer instance as the state")
        self.zero = zero
        super().__init__()

    def main_hook(self):
        self.zero.step()


class ZeroRedundancyOptimizer(Optimizer, Joinable):
    """Wrap ``optimizer_class`` so that each process keeps the state of its share of the parameters
    only (see the module's text).

    Args:
        params: the parameters (or parameter groups, as dicts) of the whole model.
        optimizer_class: the optimizer each process runs on its share (``chainrule.optim.Adam``).
        process_group: the group to share among (default: ``group.WORLD``, the default group).
        parameters_as_bucket_view: if True, the parameters each process updates are laid out in one
            flat tensor (their ``.data`` become views of it), so each broadcast sends one tensor.
        overlap_with_ddp: PyTorch's stepping inside DDP's communication hook; chainrule's DDP has no
            communication hooks, so only False is taken.
        **defaults: the options of ``optimizer_class`` (``lr=...``).
    """

    def __init__(
        self,
        params,
        optimizer_class,
        process_group=None,
        parameters_as_bucket_view=False,
        overlap_with_ddp=False,
        **defaults,
    ):
        if overlap_with_ddp:
            raise RuntimeError(
                "ZeroRedundancyOptimizer(overlap_with_ddp=True) steps inside DistributedDataParallel's "
                "communication hook, which chainrule's DistributedDataParallel does not have; leave "
                "overlap_with_ddp=False and call optimizer.step() after backward"
            )
        params = self._verify_and_init_params(params)
        self._verify_same_dense_param_type()
        # Optimizer.__init__ adds the groups through add_param_group, which partitions only once
        # the optimizer is built
        self.initialized = False
        Optimizer.__init__(self, params, defaults)
        Joinable.__init__(self)

        self._param_to_rank_cache = {}
        self._param_to_index_cache = {}
        self._partition_parameters_cache = []
        self._index_to_param_cache = []
        self._is_trainable_mask = self._get_is_trainable_mask()
        self._default_device = self._all_params[0].device

        self.process_group = process_group if process_group is not None else group.WORLD
        self.world_size = get_world_size(self.process_group)
        self.rank = get_rank(self.process_group)
        self.global_rank = get_global_rank(self.process_group, self.rank)

        self._overlap_with_ddp = False
        self._optim_defaults = defaults
        self._optim_constructor = optimizer_class
        self._init_local_optimizer()

        self.parameters_as_bucket_view = parameters_as_bucket_view
        self._buckets = []  # per rank, the flat tensor its parameters view (parameters_as_bucket_view=True)
        self._build_param_buckets()

        # every process's local state dict, on the process that consolidate_state_dict sent them to
        self._all_state_dicts = []
        self.initialized = True

    # ----------------------------------------------------------------- the partition
    def _clear_cache(self):
        """Forget the partition and the indices (the parameter groups changed)."""
        self._partition_parameters_cache.clear()
        self._param_to_rank_cache.clear()
        self._index_to_param_cache.clear()
        self._param_to_index_cache.clear()

    def _partition_parameters(self, params_per_rank=None):
        """Each rank's parameter groups: ``[rank][group]``, a shallow copy of each group holding the
        parameters that rank updates. Within each group, the parameters go largest first to the
        rank with the fewest elements so far (counting the earlier groups too); or, for a single
        group, as ``params_per_rank`` (one list of parameters per rank) says."""
        if params_per_rank is None:
            if len(self._partition_parameters_cache) == 0:
                self._partition_parameters_cache = [[] for _ in range(self.world_size)]
                sizes = [0] * self.world_size
                for param_group in self.param_groups:
                    group_params_per_rank = [[] for _ in range(self.world_size)]
                    for param in sorted(param_group["params"], key=lambda t: t.numel(), reverse=True):
                        rank = sizes.index(min(sizes))
                        group_params_per_rank[rank].append(param)
                        sizes[rank] += param.numel()
                    self._partition_param_group(param_group, group_params_per_rank)
            return self._partition_parameters_cache

        if len(self._partition_parameters_cache) != 0:
            raise AssertionError(
                "Specifying `params_per_rank` should only be done when the parameters have not been partitioned yet"
            )
        if len(self.param_groups) != 1:
            raise RuntimeError("Specifying `params_per_rank` only supports a single parameter group")
        self._verify_params_per_rank(params_per_rank)
        self._partition_parameters_cache = [[] for _ in range(self.world_size)]
        self._partition_param_group(self.param_groups[0], params_per_rank)
        return self._partition_parameters_cache

    def _partition_param_group(self, param_group, params_per_rank):
        for rank, params in enumerate(params_per_rank):
            rank_param_group = copy.copy(param_group)
            rank_param_group["params"] = params
            self._partition_parameters_cache[rank].append(rank_param_group)

    def _verify_params_per_rank(self, params_per_rank):
        if len(params_per_rank) != self.world_size:
            raise ValueError("`params_per_rank` must have length equal to the world size")
        all_params = set(self._all_params)
        for params in params_per_rank:
            for param in params:
                if param not in all_params:
                    raise ValueError(
                        "Passing a new parameter in `params_per_rank` that was not passed into the "
                        "ZeroRedundancyOptimizer constructor"
                    )

    @property
    def _param_to_rank(self):
        """The rank that updates each parameter."""
        if len(self._param_to_rank_cache) == 0:
            for rank, param_groups in enumerate(self._partition_parameters()):
                for param_group in param_groups:
                    for param in param_group["params"]:
                        self._param_to_rank_cache[param] = rank
        return self._param_to_rank_cache

    @property
    def _param_to_index(self):
        """Each parameter's index in the whole optimizer's state dict (counted across the groups)."""
        if len(self._param_to_index_cache) == 0:
            self._param_to_index_cache = {param: index for index, param in enumerate(self._index_to_param)}
        return self._param_to_index_cache

    @property
    def _index_to_param(self):
        if len(self._index_to_param_cache) == 0:
            self._index_to_param_cache = list(chain.from_iterable(g["params"] for g in self.param_groups))
        return self._index_to_param_cache

    def add_param_group(self, param_group):
        """Add a parameter group, as ``Optimizer.add_param_group``; its parameters are shared
        among the processes, the earlier groups' staying where they are. Call it on every process."""
        super().add_param_group(param_group)
        if self.initialized:
            self._clear_cache()
            param_groups = self._partition_parameters()[self.rank]
            if len(param_groups) == len(self.optim.param_groups) + 1:
                self.optim.add_param_group(param_groups[-1])
            if self.parameters_as_bucket_view:
                self._build_param_buckets()

    # ----------------------------------------------------------------- stepping
    def _init_local_optimizer(self):
        """Build ``self.optim``, the ``optimizer_class`` of this rank's share (possibly empty)."""
        self.optim = self._optim_constructor(self._partition_parameters()[self.rank], **self._optim_defaults)
        self._sync_param_groups(self.optim.param_groups, self.param_groups)

    def _local_step(self, closure=None, **kwargs):
        """Step this rank's share with the options of ``param_groups`` (a scheduler may have changed
        ``lr``), then copy back what the local step changed in its groups."""
        Join.notify_join_context(self)
        is_trainable_mask = self._get_is_trainable_mask()
        if is_trainable_mask != self._is_trainable_mask:
            self._build_param_buckets()
            self._is_trainable_mask = is_trainable_mask
        self._sync_param_groups(self.param_groups, self.optim.param_groups)
        loss = self.optim.step(**kwargs) if closure is None else self.optim.step(closure=closure, **kwargs)
        self._sync_param_groups(self.optim.param_groups, self.param_groups)
        return loss

    def step(self, closure=None, **kwargs):
        """Step this rank's share of the parameters, then bring every rank's updated share to all
        ranks (each rank broadcasts its own). Returns the loss ``closure`` computed, if given;
        other keyword arguments go to ``optimizer_class``'s step."""
        loss = self._local_step(closure=closure, **kwargs)
        self._sync_params()
        return loss

    def _sync_params(self):
        """Every rank's share, broadcast from it to all ranks; all broadcasts in flight at once."""
        works = []
        for rank in range(self.world_size):
            works.extend(self._broadcast_params_from_rank(rank))
        for work in works:
            work.wait()

    def _broadcast_params_from_rank(self, rank):
        """Start broadcasting ``rank``'s share (its bucket, or parameter by parameter); the Works."""
        if self.parameters_as_bucket_view:
            return [broadcast(self._buckets[rank], group=self.process_group, group_src=rank, async_op=True)]
        return [
            broadcast(param.data, group=self.process_group, group_src=rank, async_op=True)
            for param_group in self._partition_parameters()[rank]
            for param in param_group["params"]
        ]

    def _build_param_buckets(self):
        """With ``parameters_as_bucket_view``: for each rank, one flat tensor holding its trainable
        parameters, whose ``.data`` become views of it (a frozen parameter gets its own memory
        back). A rank with nothing to update gets a one-element dummy bucket."""
        if not self.parameters_as_bucket_view:
            return
        self._buckets = []
        for param_groups in self._partition_parameters():
            params = [param for param_group in param_groups for param in param_group["params"]]
            trainable = [param for param in params if param.requires_grad]
            for param in params:
                if not param.requires_grad:  # (it may still view a bucket built before it was frozen)
                    param.data = param.data.detach().clone()
            size = sum(param.numel() for param in trainable)
            if size == 0:
                bucket = zeros(1)
            else:
                bucket = empty(size, dtype=params[-1].dtype)  # (every parameter has one dtype, checked at the start)
                offset = 0
                for param in trainable:
                    bucket[offset : offset + param.numel()].copy_(param.data.flatten())
                    param.data = bucket[offset : offset + param.numel()].view_as(param.data)
                    offset += param.numel()
            self._buckets.append(bucket)

    @staticmethod
    def _sync_param_groups(src_param_groups, dst_param_groups):
        """Copy every option but ``params`` from each source group to its destination group."""
        if len(src_param_groups) != len(dst_param_groups):
            raise AssertionError("Mismatch between number of source and destination parameter groups")
        for src_param_group, dst_param_group in zip(src_param_groups, dst_param_groups):
            for key in src_param_group:
                if key != "params":
                    dst_param_group[key] = src_param_group[key]

    # ----------------------------------------------------------------- Join
    def join_hook(self, **kwargs):
        """The hook that keeps this optimizer stepping on a process that has run out of inputs."""
        return _ZeROJoinHook(self)

    @property
    def join_device(self):
        return self._default_device

    @property
    def join_process_group(self):
        return self.process_group

    # ----------------------------------------------------------------- saving and loading
    def consolidate_state_dict(self, to=0):
        """Collect every rank's local optimizer state on rank ``to``, for its ``state_dict()``.
        Every rank must call it (each rank's state is broadcast in turn)."""
        self._sync_param_groups(self.param_groups, self.optim.param_groups)
        self._all_state_dicts = []
        for rank in range(self.world_size):
            message = [self.optim.state_dict() if rank == self.rank else None]
            broadcast_object_list(message, group=self.process_group, group_src=rank)
            if self.rank == to:
                self._all_state_dicts.append(message[0])

    def state_dict(self):
        """The whole optimizer's state as of the last ``consolidate_state_dict``, in the usual
        layout (parameters numbered across the groups); only on the rank it was sent to."""
        if len(self._all_state_dicts) == 0:
            raise RuntimeError(
                "Optimizer state has not been consolidated on this rank. "
                f"Please call `consolidate_state_dict(to={self.rank})` on all ranks beforehand if you meant to "
                "save the global state."
            )
        state_dict = super().state_dict()
        for rank, local_state_dict in enumerate(self._all_state_dicts):
            local_param_groups = local_state_dict["param_groups"]
            global_param_groups = self._partition_parameters()[rank]
            if len(local_param_groups) != len(global_param_groups):
                raise AssertionError("Mismatch between number of local and global parameter groups")
            for local_param_group, global_param_group in zip(local_param_groups, global_param_groups):
                local_param_indices = local_param_group["params"]  # the local optimizer's numbering
                global_params = global_param_group["params"]
                if len(local_param_indices) != len(global_params):
                    raise AssertionError("Mismatch between number of local and global parameters in parameter group")
                for local_param_index, global_param in zip(local_param_indices, global_params):
                    if local_param_index in local_state_dict["state"]:
                        state_dict["state"][self._param_to_index[global_param]] = local_state_dict["state"][local_param_index]
        state_dict["state"] = dict(sorted(state_dict["state"].items()))
        return state_dict

    def load_state_dict(self, state_dict):
        """Load a whole optimizer's ``state_dict()``: this rank keeps the state of its share (given
        to its local optimizer) and every group's options."""
        shard = {
            index: value
            for index, value in state_dict["state"].items()
            if self._param_to_rank[self._index_to_param[index]] == self.rank
        }
        super().load_state_dict({**state_dict, "state": shard})
        local_state, local_groups, position = {}, [], 0
        for param_group, local_group in zip(self.param_groups, self.optim.param_groups):
            indices = list(range(position, position + len(local_group["params"])))
            for local_index, param in zip(indices, local_group["params"]):
                if self._param_to_index[param] in shard:
                    local_state[local_index] = shard[self._param_to_index[param]]
            local_groups.append({**{k: v for k, v in param_group.items() if k != "params"}, "params": indices})
            position += len(indices)
        self.optim.load_state_dict({"state": local_state, "param_groups": local_groups})

    # ----------------------------------------------------------------- checks
    def _verify_and_init_params(self, params):
        """``params`` as a list (of tensors or of groups), all its parameters in ``_all_params``."""
        if isinstance(params, Tensor):
            raise TypeError(f"`params` argument should be an iterable of Tensors, but got {typename(params)}")
        try:
            all_params = list(params)
        except TypeError as error:
            raise TypeError(
                f"`params` argument should be an iterable of Tensors or dicts, but got {typename(params)}"
            ) from error
        if len(all_params) == 0:
            raise ValueError("ZeroRedundancyOptimizer got an empty parameter list")
        if all(isinstance(param, Tensor) for param in all_params):
            self._all_params = all_params
        elif all(isinstance(param, dict) for param in all_params):
            self._all_params = []
            for param_group in all_params:
                if "params" not in param_group:
                    raise ValueError(
                        "Each parameter group passed-in via `params` must have a 'params' key mapping to the "
                        "parameters in the group"
                    )
                self._all_params.extend(param_group["params"])
        else:
            raise TypeError("`params` argument should be an iterable of Tensors or dicts")
        return all_params

    def _verify_same_dense_param_type(self):
        """Every parameter must be dense and of one type (a bucket holds one dtype)."""
        first = typename(self._all_params[0])
        if self._all_params[0].is_sparse:
            raise ValueError(f"ZeroRedundancyOptimizer only supports using the same dense type for all parameters but got {first}")
        for param in self._all_params[1:]:
            other = typename(param)
            if other != first:
                raise ValueError(
                    "ZeroRedundancyOptimizer only supports using the same dense type for all parameters but got "
                    f"both {first} and {other}"
                )

    def _get_is_trainable_mask(self):
        return [param.requires_grad for param in self._all_params]
