"""Processes started without MPI (multiprocessing.spawn, as Lightning's ddp_spawn and torchrun do)
meet over TCP with init_process_group("gloo"): every collective and DDP, against their closed forms
and against PyTorch's gloo in the same processes' places."""
import importlib
import json
import os
import socket

import pytest


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def collectives(rank, size, library, port, folder):
    """In each spawned process: the collectives on tensors that depend on the rank, written to
    ``folder/<rank>.json``."""
    torch = importlib.import_module(library)
    dist = importlib.import_module(f"{library}.distributed")
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=size)  # env:// : MASTER_ADDR and MASTER_PORT
    results = {}
    for op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX"):
        tensor = torch.tensor([rank + 1.0, -2.0 * rank, 0.5])
        dist.all_reduce(tensor, op=getattr(dist.ReduceOp, op))
        results[op] = tensor.tolist()
    integers = torch.tensor([rank, 10 * rank])
    dist.all_reduce(integers, op=dist.ReduceOp.MAX)
    results["integers"] = [integers.tolist(), str(integers.dtype).split(".")[-1]]
    gathered = [torch.zeros(2) for _ in range(size)]
    dist.all_gather(gathered, torch.tensor([rank, -rank], dtype=torch.float32))
    results["all_gather"] = [item.tolist() for item in gathered]
    for src in range(size):
        tensor = torch.tensor([float(rank)])
        dist.broadcast(tensor, src=src)
        results[f"broadcast {src}"] = tensor.tolist()
    scattered = torch.zeros(2)
    dist.reduce_scatter(scattered, [torch.full((2,), float(rank + 10 * part)) for part in range(size)])
    results["reduce_scatter"] = scattered.tolist()
    received = torch.zeros(2 * size)
    dist.all_to_all_single(received, torch.arange(2.0 * size) + 100 * rank)
    results["all_to_all_single"] = received.tolist()
    pieces = [torch.zeros(2) for _ in range(size)]  # (gloo's takes one shape throughout)
    dist.all_to_all(pieces, [torch.tensor([float(rank), part]) + 10 * rank for part in range(size)])
    results["all_to_all"] = [piece.tolist() for piece in pieces]
    gather_list = [torch.zeros(1) for _ in range(size)] if rank == 0 else None
    dist.gather(torch.tensor([rank * 1.0]), gather_list, dst=0)
    results["gather"] = gather_list and [item.tolist() for item in gather_list]
    one = torch.zeros(1)
    dist.scatter(one, [torch.tensor([10.0 * part]) for part in range(size)] if rank == size - 1 else None, src=size - 1)
    results["scatter"] = one.tolist()
    objects = [None] * size
    dist.all_gather_object(objects, {"rank": rank})
    results["all_gather_object"] = objects
    listed = [f"from {rank}", rank] if rank == 1 else [None, None]
    dist.broadcast_object_list(listed, src=1)
    results["broadcast_object_list"] = listed
    for op in ("SUM", "MAX"):
        tensor = torch.tensor([rank + 1.0, 2.0])
        dist.reduce(tensor, dst=1, op=getattr(dist.ReduceOp, op))
        if rank == 1:  # the others' tensors are unspecified (gloo leaves partial results in some)
            results[f"reduce {op}"] = tensor.tolist()
    gathered_objects = [None] * size if rank == 1 else None
    dist.gather_object({"rank": rank}, gathered_objects, dst=1)
    results["gather_object"] = gathered_objects
    scattered_objects = [None]
    dist.scatter_object_list(scattered_objects, [f"to {part}" for part in range(size)] if rank == 0 else None, src=0)
    results["scatter_object_list"] = scattered_objects
    dist.barrier()
    dist.monitored_barrier()
    torch.manual_seed(0)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(3, 1))
    model(torch.ones(2, 3) * (rank + 1)).sum().backward()
    results["ddp grad"] = model.module.weight.grad.tolist()
    branches = torch.nn.ModuleList([torch.nn.Linear(2, 1) for _ in range(3)])  # rank r uses branch r only
    branches.forward = lambda x: branches[rank](x)
    unused = torch.nn.parallel.DistributedDataParallel(branches, find_unused_parameters=True)
    for step in range(2):  # the reducer starts again after an iteration with unused parameters
        unused.zero_grad()
        unused(torch.ones(1, 2) * (rank + 1)).sum().backward()
    results["find_unused"] = [None if layer.weight.grad is None else layer.weight.grad.tolist() for layer in branches]
    results["backend"] = [dist.get_backend(), dist.get_rank(), dist.get_world_size()]
    dist.destroy_process_group()
    with open(os.path.join(folder, f"{rank}.json"), "w") as file:
        json.dump(results, file)


def run(library, size, folder, program=collectives):
    """``program(rank, size, library, port, folder)`` on ``size`` spawned processes; what each wrote."""
    multiprocessing = importlib.import_module(f"{library}.multiprocessing")
    folder.mkdir()
    multiprocessing.spawn(program, args=(size, library, free_port(), str(folder)), nprocs=size)
    results = []
    for rank in range(size):
        with open(os.path.join(folder, f"{rank}.json")) as file:
            results.append(json.load(file))
    return results


def test_collectives_of_spawned_processes_match_pytorchs_gloo(tmp_path):
    size = 2
    ours = run("chainrule", size, tmp_path / "chainrule")
    theirs = run("torch", size, tmp_path / "torch")
    assert ours == theirs
    first = ours[0]
    assert first["SUM"] == [3.0, -2.0, 1.0] and first["AVG"] == [1.5, -1.0, 0.5]
    assert first["integers"] == [[1, 10], "int64"] and first["all_gather"] == [[0.0, 0.0], [1.0, -1.0]]
    assert [result["reduce_scatter"] for result in ours] == [[1.0] * 2, [21.0] * 2]
    assert ours[1]["all_to_all_single"] == [2.0, 3.0, 102.0, 103.0] and ours[1]["scatter"] == [10.0]
    assert ours[1]["all_to_all"] == [[0.0, 1.0], [11.0, 11.0]]
    assert first["ddp grad"] == [[3.0, 3.0, 3.0]] and first["backend"] == ["gloo", 0, 2]
    assert ours[1]["reduce SUM"] == [3.0, 4.0] and ours[1]["reduce MAX"] == [2.0, 2.0]
    assert ours[1]["gather_object"] == [{"rank": 0}, {"rank": 1}] and first["gather_object"] is None
    assert [result["scatter_object_list"] for result in ours] == [["to 0"], ["to 1"]]
    # a branch one process used: its gradient over both; the branch no process used: None
    assert first["find_unused"] == [[[0.5, 0.5]], [[1.0, 1.0]], None]


@pytest.fixture
def environment():
    saved = dict(os.environ)
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


def test_where_to_meet_must_be_given(environment):
    import chainrule.distributed as dist

    for variable in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE"):
        environment.pop(variable, None)
    with pytest.raises(ValueError, match="environment variable MASTER_ADDR expected, but not set"):
        dist.init_process_group("gloo", rank=0, world_size=2)
    environment.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="1", WORLD_SIZE="2")
    with pytest.raises(ValueError, match="environment variable RANK expected, but not set"):
        dist.init_process_group("gloo")
    with pytest.raises(ValueError, match="rank=2 is not a rank of world_size=2"):
        dist.init_process_group("gloo", rank=2)
    with pytest.raises(ValueError, match="init_method='file:///tmp/store' is not one chainrule meets at"):
        dist.init_process_group("gloo", init_method="file:///tmp/store", rank=0, world_size=2)
    assert not dist.is_initialized()


def test_a_process_that_finds_no_one_raises_pytorchs_network_error(environment):
    """Nothing listens at MASTER_ADDR:MASTER_PORT: DistNetworkError (a DistError, a RuntimeError), as PyTorch's."""
    from datetime import timedelta

    import chainrule.distributed as dist

    environment.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))
    with pytest.raises(dist.DistNetworkError, match="nothing listened") as raised:
        dist.init_process_group("gloo", rank=1, world_size=2, timeout=timedelta(seconds=0.3))
    assert isinstance(raised.value, dist.DistError) and isinstance(raised.value, RuntimeError)
    assert not dist.is_initialized()


def test_the_node_local_rank_comes_from_the_launcher(environment):
    import chainrule.distributed as dist

    environment.pop("LOCAL_RANK", None)
    assert dist.get_node_local_rank(fallback_rank=3) == 3
    with pytest.raises(RuntimeError, match="LOCAL_RANK is not in the environment"):
        dist.get_node_local_rank()
    environment["LOCAL_RANK"] = "1"
    assert dist.get_node_local_rank(fallback_rank=3) == 1
