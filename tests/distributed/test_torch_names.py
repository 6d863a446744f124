"""The names of torch.distributed that training frameworks read at import (Lightning, ignite,
accelerate), against PyTorch's on a CPU-only build."""
import copy
import datetime
import pickle
import warnings

import pytest
import torch
import torch.distributed as torch_dist

import chainrule
import chainrule.distributed as dist
from chainrule.distributed import constants
from chainrule.distributed.algorithms.join import Join, Joinable, JoinHook
from chainrule.distributed.fsdp import FSDPModule, FullyShardedDataParallel, fully_shard
from chainrule.distributed.fsdp import fully_sharded_data_parallel
from chainrule.distributed.tensor import DTensor


@pytest.fixture
def group():
    dist.init_process_group(backend="gloo")
    yield dist.group.WORLD
    dist.destroy_process_group()


def test_backend_names_normalise_as_pytorchs():
    for name in ("GLOO", "gloo", "Nccl", "MPI", "ucc", "XCCL", "fake", "my_backend", "UNDEFINED"):
        assert dist.Backend(name) == torch_dist.Backend(name) and type(dist.Backend(name)) is str
    for attribute in ("UNDEFINED", "GLOO", "NCCL", "UCC", "MPI", "XCCL", "FAKE"):
        assert getattr(dist.Backend, attribute) == getattr(torch_dist.Backend, attribute)
    # (PyTorch's modules register more backends as they load: the fake one for "hpu")
    assert dist.Backend.backend_list == torch_dist.Backend.backend_list[: len(dist.Backend.backend_list)]
    assert dist.Backend.default_device_backend_map.items() <= torch_dist.Backend.default_device_backend_map.items()
    assert dist.Backend.backend_capability.items() <= torch_dist.Backend.backend_capability.items()
    with pytest.raises(ValueError, match="Backend constructor parameter must be string-ish"):
        dist.Backend(3)


def test_register_backend_adds_a_name(monkeypatch):
    for attribute in ("backend_list", "default_device_backend_map", "backend_capability", "_plugins"):
        monkeypatch.setattr(dist.Backend, attribute, type(getattr(dist.Backend, attribute))(getattr(dist.Backend, attribute)))
    dist.Backend.register_backend("Pigeon", lambda *args: None, devices=["cpu"])
    with pytest.warns(UserWarning, match="Device capability of Owl unspecified"):
        dist.Backend.register_backend("Owl", lambda *args: None)
    try:
        assert dist.Backend.PIGEON == "pigeon" and dist.Backend("PIGEON") == "pigeon"
        assert dist.Backend.backend_list[-2:] == ["pigeon", "owl"]
        assert dist.Backend.backend_capability["pigeon"] == ["cpu"] and dist.Backend.backend_capability["owl"] == ["cpu", "cuda"]
        assert dist.Backend.default_device_backend_map["cpu"] == "gloo"  # a taken device stays with its backend
        assert not dist.is_backend_available("pigeon")  # known by name, but init_process_group runs MPI only
    finally:
        del dist.Backend.PIGEON, dist.Backend.OWL


def test_availability_is_a_cpu_builds():
    assert dist.is_available() and torch_dist.is_available()
    for name in ("nccl", "ucc", "xccl"):
        assert getattr(dist, f"is_{name}_available")() is getattr(torch_dist, f"is_{name}_available")() is False
    assert dist.is_gloo_available() is torch_dist.is_gloo_available() is True
    assert dist.is_mpi_available() in (True, False)
    assert dist.is_backend_available("gloo") and dist.is_backend_available("cpu:gloo")
    assert not dist.is_backend_available("nccl") and not dist.is_backend_available("cpu:gloo,cuda:nccl")
    # ignite's list of usable backends
    usable = [name for name in (dist.Backend.NCCL, dist.Backend.GLOO, dist.Backend.MPI) if getattr(dist, f"is_{name}_available")()]
    assert usable[0] == "gloo" and "nccl" not in usable


def test_torchelastic_launch_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    assert dist.is_torchelastic_launched() is torch_dist.is_torchelastic_launched() is False
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "job-7")
    assert dist.is_torchelastic_launched() is torch_dist.is_torchelastic_launched() is True


def test_constants_are_pytorchs():
    import torch.distributed.constants as torch_constants

    assert constants.__all__ == torch_constants.__all__
    assert constants.default_pg_timeout == torch_constants.default_pg_timeout == datetime.timedelta(minutes=30)
    assert constants.default_pg_nccl_timeout is torch_constants.default_pg_nccl_timeout is None
    assert dist.constants is constants


def test_reduce_op_members_are_of_its_red_op_type():
    assert isinstance(dist.ReduceOp.SUM, dist.ReduceOp.RedOpType) and isinstance(dist.ReduceOp.SUM, dist.ReduceOp)
    assert list(dist.ReduceOp.RedOpType.__members__) == [
        name for name in torch_dist.ReduceOp.RedOpType.__members__ if name != "PREMUL_SUM"  # NCCL's only
    ]
    assert getattr(dist.ReduceOp, "AVG") is dist.ReduceOp.RedOpType.AVG


def test_the_default_group_is_group_world_while_it_exists(group):
    assert isinstance(group, dist.ProcessGroup) and dist.GroupMember.WORLD is group
    assert (group.rank(), group.size(), group.name(), group.group_name, group.group_desc) == (0, 1, "gloo", "0", "default_pg")
    assert dist.get_rank(group) == 0 and dist.get_world_size(group) == 1 and dist.get_backend(group) == "gloo"
    tensor = chainrule.tensor([1.0, 2.0])
    dist.all_reduce(tensor, group=dist.group.WORLD)
    assert tensor.tolist() == [1.0, 2.0]
    assert dist.GroupMember.NON_GROUP_MEMBER == torch_dist.GroupMember.NON_GROUP_MEMBER


def test_group_world_is_none_outside_a_group():
    assert dist.group.WORLD is None is torch_dist.group.WORLD
    dist.init_process_group(backend="mpi")
    dist.destroy_process_group()
    assert dist.group.WORLD is None and not dist.is_initialized()


def test_broadcast_object_list_on_one_process(group):
    objects = [{"epoch": 3}, "text", None]
    dist.broadcast_object_list(objects, src=0)
    assert objects == [{"epoch": 3}, "text", None]
    with pytest.raises(ValueError, match="src=1 is not a rank of this group of 1"):
        dist.broadcast_object_list(objects, src=1)


class Counting(Joinable):
    """A joinable that records what Join does with it."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def join_hook(self, **kwargs):
        joinable = self

        class Hook(JoinHook):
            def main_hook(self):
                joinable.calls.append("main")

            def post_hook(self, is_last_joiner):
                joinable.calls.append(("post", is_last_joiner))

        return Hook()

    @property
    def join_device(self):
        return chainrule.device("cpu")

    @property
    def join_process_group(self):
        return dist.group.WORLD


def test_join_on_one_process_runs_the_block_then_the_post_hooks(group):
    first, second = Counting(), Counting()
    with Join([first, second]):
        for _ in range(3):
            assert Join.notify_join_context(first).is_completed()
            assert Join.notify_join_context(second) is None  # only the first joinable communicates
    assert first.calls == second.calls == [("post", True)]  # the last (only) joiner never shadows
    with Join([first], throw_on_early_termination=True):
        Join.notify_join_context(first)
    with Join([first], enable=False):
        assert Join.notify_join_context(first) is None
    assert first.calls == [("post", True)] * 2
    with pytest.raises(ZeroDivisionError), Join([first]):
        1 / 0
    assert len(first.calls) == 2  # an error in the block skips the hooks
    with pytest.raises(ValueError, match="requires at least one joinable"):
        Join([])
    assert Join.notify_join_context(Counting()) is None  # outside a Join


def test_sharding_names_exist_and_nothing_is_one():
    model = chainrule.nn.Linear(2, 2)
    assert not isinstance(chainrule.ones(2), DTensor) and not isinstance(model.weight, DTensor)
    assert not isinstance(model, FullyShardedDataParallel) and not isinstance(model, FSDPModule)
    assert fully_sharded_data_parallel.FullyShardedDataParallel is FullyShardedDataParallel
    for make in (lambda: DTensor(), lambda: FullyShardedDataParallel(model), lambda: FSDPModule(), lambda: fully_shard(model)):
        with pytest.raises(RuntimeError, match="chainrule does not shard .*DistributedDataParallel"):
            make()


def test_placements_are_pytorchs_values():
    """transformers builds its tensor-parallel plans from them at import (Shard(-1), Replicate())."""
    from torch.distributed.tensor import placement_types as theirs

    from chainrule.distributed.tensor import placement_types as ours

    def made(module):
        return [module.Shard(0), module.Shard(-1), module.Replicate(), module.Partial(), module.Partial("avg"),
                module._StridedShard(1, split_factor=2)]

    for mine, pytorchs in zip(made(ours), made(theirs)):
        assert (repr(mine), str(mine)) == (repr(pytorchs), str(pytorchs))
        questions = ("is_shard", "is_replicate", "is_partial")
        assert [getattr(mine, question)() for question in questions] == [getattr(pytorchs, question)() for question in questions]
        assert mine.is_shard(0) == pytorchs.is_shard(0) and mine.is_partial("sum") == pytorchs.is_partial("sum")
        assert mine == pickle.loads(pickle.dumps(mine)) == copy.deepcopy(mine) and hash(mine) == hash(copy.copy(mine))
    assert repr(ours.Shard(0)) == "Shard(dim=0)" and str(ours._StridedShard(1, split_factor=2)) == "_S(1, 2)"
    assert ours.Shard(0) != ours.Shard(1) and ours.Shard(0) != ours.Replicate() and ours.Partial() == ours.Partial("sum")
    assert not isinstance(ours._StridedShard(0, split_factor=2), ours.Shard)  # as PyTorch's
    with pytest.raises(AttributeError):
        ours.Shard(0).dim = 1
    assert dist.tensor.Shard is ours.Shard and set(dist.tensor.__all__) <= set(torch_dist.tensor.__all__)


def test_dtensor_functions_refuse():
    from chainrule.distributed.tensor import _utils

    for call in (lambda: dist.tensor.distribute_tensor(chainrule.ones(2), None, [dist.tensor.Shard(0)]),
                 lambda: dist.tensor.distribute_module(chainrule.nn.Linear(2, 2)),
                 lambda: _utils.compute_local_shape_and_global_offset((4,), None, [dist.tensor.Shard(0)])):
        with pytest.raises(RuntimeError, match="chainrule does not shard .*DistributedDataParallel"):
            call()


def test_all_gather_single_and_process_group_ranks_on_one_process(group):
    """(transformers' expert parallelism imports all_gather_into_tensor and get_process_group_ranks)"""
    for shape in ((3,), (1, 3)):  # the concatenation or the stack of the processes' tensors
        output = chainrule.zeros(shape)
        assert dist.all_gather_single(output, chainrule.tensor([1.0, 2.0, 3.0])) is None
        assert output.tolist() == chainrule.tensor([1.0, 2.0, 3.0]).reshape(shape).tolist()
    with pytest.warns(FutureWarning, match="all_gather_into_tensor` is deprecated. Please use `torch.distributed.all_gather_single"):
        dist.all_gather_into_tensor(output, chainrule.tensor([4.0, 5.0, 6.0]))
    assert output.tolist() == [[4.0, 5.0, 6.0]]
    with pytest.raises(RuntimeError, match="concatenation or stack"):
        dist.all_gather_single(chainrule.zeros(4), chainrule.ones(3))
    assert dist.get_process_group_ranks(group) == dist.get_process_group_ranks(None) == [0]


def test_frameworks_imports_resolve():
    """The import lines of Lightning, ignite and accelerate that stopped under chainrule."""
    from chainrule.distributed import GroupMember, ProcessGroup, ReduceOp, group  # noqa: F401
    from chainrule.distributed.algorithms.join import Join  # noqa: F401
    from chainrule.distributed.constants import default_pg_timeout  # noqa: F401
    from chainrule.distributed.optim import ZeroRedundancyOptimizer  # noqa: F401

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dist.ReduceOp.RedOpType is not object and dist.Backend.MPI == "mpi"


def test_lightning_ddp_strategy_names(group, torch_group):
    """What Lightning's DDP strategy reaches for beside the collectives: the default group through
    distributed_c10d, utils._sync_module_states (evaluation syncs the model without wrapping it),
    the post-local-SGD state it checks for, and torch._C's Reducer class (a type cast)."""
    import torch.distributed.algorithms.ddp_comm_hooks.post_localSGD_hook as torch_post_local_sgd
    import torch.distributed.distributed_c10d as torch_c10d
    import torch.distributed.utils as torch_utils

    from chainrule.distributed.algorithms.ddp_comm_hooks import post_localSGD_hook

    assert dist.distributed_c10d._get_default_group() is group and torch_c10d._get_default_group() is torch_group
    assert dist.distributed_c10d.all_reduce is dist.all_reduce
    for lib, utils in ((chainrule, dist.utils), (torch, torch_utils)):
        model = lib.nn.Linear(2, 2)
        before = model.weight.detach().clone()
        assert utils._sync_module_states(model, None if lib is chainrule else torch_group, 250 * 1024 * 1024, 0, set()) is None
        assert lib.equal(model.weight, before)  # one process: its own weights
    for module in (post_localSGD_hook, torch_post_local_sgd):
        state = module.PostLocalSGDState(None, None, start_localSGD_iter=3)
        assert (state.start_localSGD_iter, state.post_local_gradient_allreduce, state.iter) == (3, True, 0)
    assert chainrule._C._distributed_c10d.Reducer is chainrule.nn.parallel.reducer.Reducer


def test_ddp_settings_and_reducer_calls_lightning_makes(group, torch_group):
    """Lightning reads DDP's settings, its logging data and, before a manual optimization's
    backward, calls the reducer's _rebuild_buckets and prepare_for_backward."""
    models = {}
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        models[lib] = model = lib.nn.parallel.DistributedDataParallel(lib.nn.Linear(3, 2), static_graph=False)
        assert (model.static_graph, model.find_unused_parameters, model.gradient_as_bucket_view) == (False, False, False)
        assert model.require_backward_grad_sync and model.require_forward_param_sync
        data = model._get_ddp_logging_data()
        assert data.get("can_set_static_graph") is None  # Lightning's teardown asks for it
        output = model(lib.ones(4, 3))
        assert model.require_forward_param_sync
        model.reducer._rebuild_buckets()
        model.reducer.prepare_for_backward([])
        output.sum().backward()
        with lib.no_grad():
            model(lib.ones(1, 3))
        assert not model.require_forward_param_sync  # no graph, no averaging
    ours, theirs = (models[lib]._get_ddp_logging_data() for lib in (chainrule, torch))
    for key in ("backend_name", "world_size", "rank", "module_name", "num_parameter_tensors",
                "total_parameter_size_bytes", "bucket_cap_bytes", "broadcast_buffers", "find_unused_parameters",
                "gradient_as_bucket_view"):
        assert ours[key] == theirs[key], key
    assert models[chainrule].module.weight.grad.tolist() == models[torch].module.weight.grad.tolist() == [[4.0] * 3] * 2


def test_distributed_nn_all_gather_is_differentiable_and_deprecated(group, torch_group):
    """Lightning's all_gather (Fabric.all_gather, LightningModule.all_gather) goes through
    torch.distributed.nn.functional.all_gather, which PyTorch deprecates."""
    import torch.distributed.nn.functional as torch_functional

    import chainrule.distributed.nn.functional as functional

    results = {}
    for lib, module in ((chainrule, functional), (torch, torch_functional)):
        tensor = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.warns(FutureWarning, match="torch.distributed.nn.functional.all_gather is deprecated, use torch.distributed._functional_collectives.all_gather_single instead"):
            gathered = module.all_gather(tensor)
        assert isinstance(gathered, tuple) and len(gathered) == 1
        (gathered[0] * lib.tensor([3.0, 4.0])).sum().backward()
        results[lib] = (gathered[0].tolist(), tensor.grad.tolist())
    assert results[chainrule] == results[torch] == ([1.0, 2.0], [3.0, 4.0])
