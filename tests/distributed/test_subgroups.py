"""Process groups of part of the processes (new_group, new_subgroups): on 4 spawned processes that met
over TCP, every collective and point-to-point call with group=, against what PyTorch's gloo returned
in the same processes' places; the same calls under mpiexec; and the misuses PyTorch refuses, on one
process, against PyTorch itself.

PyTorch's 4 processes take 12 s to start and make their groups on 2 cores, too long for every run of
the suite: what they returned is recorded in ``subgroups_pytorch.json``, written again by ``record()``
(``python -c "from tests.distributed.test_subgroups import record; record()"``) when the calls change.
"""
import importlib
import json
import os
import pathlib
import tempfile
import warnings

import pytest

from tests.distributed.misuse import error_of
from tests.distributed.processes import check_finished, needs_mpi, run_processes
from tests.distributed.test_tcp import free_port, run


def spawned(rank, size, library, port, folder):
    """In each spawned process: ``subgroup_calls``, written to ``folder/<rank>.json``."""
    torch = importlib.import_module(library)
    dist = importlib.import_module(f"{library}.distributed")
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=size)
    results = subgroup_calls(torch, dist, rank)
    dist.destroy_process_group()
    with open(os.path.join(folder, f"{rank}.json"), "w") as file:
        json.dump(results, file)


def subgroup_calls(torch, dist, rank):
    """On 4 processes: the pairs [0, 1] and [2, 3], the odd ranks [1, 3] and a group of the whole
    world; what each call returned or wrote, depending on the rank."""
    results = {}
    pair, pairs = dist.new_subgroups(group_size=2)
    odd = dist.new_group([3, 1])  # sorted: rank 0 of the group is process 1
    world = dist.new_group()
    member = lambda group: group != dist.GroupMember.NON_GROUP_MEMBER  # noqa: E731
    results["names"] = [group.group_name if member(group) else group for group in [*pairs, odd, world]]
    results["ranks"] = [dist.get_rank(group) for group in (pair, odd, world)] + [pair.rank(), pair.size()]
    results["sizes"] = [dist.get_world_size(group) for group in (pair, odd, world)]
    results["group ranks"] = [dist.get_process_group_ranks(group) for group in (pair, world)]
    results["translated"] = [dist.get_group_rank(pair, rank), dist.get_global_rank(pair, 1), dist.get_global_rank(dist.group.WORLD, 3)]
    results["not in pair"] = error_of(lambda: dist.get_group_rank(pair, (rank + 2) % 4))[0]
    results["no group rank 2"] = error_of(lambda: dist.get_global_rank(pair, 2))[0]
    for op in ("SUM", "AVG", "MAX"):
        tensor = torch.tensor([rank + 1.0, -rank])
        dist.all_reduce(tensor, op=getattr(dist.ReduceOp, op), group=pair)
        results[f"all_reduce {op}"] = tensor.tolist()
    gathered = [torch.zeros(2) for _ in range(2)]
    dist.all_gather(gathered, torch.tensor([rank, 10.0 * rank]), group=pair)
    results["all_gather"] = [item.tolist() for item in gathered]
    whole = torch.zeros(4)
    dist.all_gather_single(whole, torch.tensor([rank, -rank], dtype=torch.float32), group=pair)
    results["all_gather_single"] = whole.tolist()
    for source in ({"src": 3}, {"group_src": 0}):
        tensor = torch.tensor([float(rank)])
        if member(odd):
            dist.broadcast(tensor, group=odd, **source)
        results[f"broadcast {source}"] = tensor.tolist()
    scattered = torch.zeros(1)
    dist.reduce_scatter(scattered, [torch.tensor([rank + 10.0 * part]) for part in range(2)], group=pair)
    results["reduce_scatter"] = scattered.tolist()
    received = torch.zeros(4)
    dist.all_to_all_single(received, torch.arange(4.0) + 100 * rank, group=pair)
    results["all_to_all_single"] = received.tolist()
    tensor = torch.tensor([rank + 1.0])
    dist.reduce(tensor, dst=rank | 1, group=pair)  # the pair's second process, by its global rank
    results["reduce"] = tensor.tolist() if rank % 2 else None
    gather_list = [torch.zeros(1) for _ in range(2)] if rank % 2 == 0 else None
    dist.gather(torch.tensor([rank * 1.0]), gather_list, group=pair, group_dst=0)
    results["gather"] = gather_list and [item.tolist() for item in gather_list]
    one = torch.zeros(1)
    dist.scatter(one, [torch.tensor([rank + 0.5]), torch.tensor([rank + 0.25])] if rank % 2 else None, src=rank | 1, group=pair)
    results["scatter"] = one.tolist()
    objects = [None, None]
    dist.all_gather_object(objects, {"rank": rank}, group=pair)
    results["all_gather_object"] = objects
    listed = [f"from {rank}"]
    dist.broadcast_object_list(listed, group=pair, group_src=1)
    results["broadcast_object_list"] = listed
    object_gather_list = [None, None] if rank in (0, 2) else None
    dist.gather_object(rank * 2, object_gather_list, group=pair, group_dst=0)
    results["gather_object"] = object_gather_list
    results["barrier"] = dist.barrier(group=world)
    # messages inside the pairs: dst and src global, group_dst and group_src the pair's own ranks
    partner = rank ^ 1
    message = torch.zeros(2)
    if rank % 2 == 0:
        dist.send(torch.tensor([rank, 1.0]), dst=partner, group=pair)
        dist.send(torch.tensor([rank, 2.0]), group=pair, group_dst=1, tag=7)
    else:
        results["recv"] = [dist.recv(message, src=partner, group=pair), message.tolist()]
        results["recv any source"] = [dist.recv(message, group=pair, tag=7), message.tolist()]
    ring, peer = (odd, 1 - rank // 2) if member(odd) else (world, 2 - rank)  # 1 <-> 3 in odd, 0 <-> 2 in world
    into = torch.zeros(1)
    works = dist.batch_isend_irecv([
        dist.P2POp(dist.isend, torch.tensor([10.0 * rank]), group=ring, group_peer=peer),
        dist.P2POp(dist.irecv, into, group=ring, group_peer=peer),
    ])
    for work in works:
        work.wait()
    results["batch_isend_irecv"] = [into.tolist(), repr(works and works[0] is not None)]
    # on a process outside the group: PyTorch's warning, and nothing done
    if not member(odd):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tensor = torch.ones(1)
            outside = [dist.all_reduce(tensor, group=odd), dist.barrier(group=odd), dist.recv(tensor, src=1, group=odd)]
        results["outside odd"] = [outside, tensor.tolist(), [str(warning.message) for warning in caught]]
    local = dist.new_group([0, 2], use_local_synchronization=True)  # made by 0 and 2 alone, None elsewhere
    if local is not None:
        tensor = torch.tensor([rank + 1.0])
        dist.all_reduce(tensor, group=local)
        local = [local.group_name, tensor.tolist()]
    results["local synchronization"] = local
    # DistributedDataParallel over a pair: the pair's first process's weights, gradients averaged in the pair
    torch.manual_seed(rank)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 1), process_group=pair)
    results["DDP weights"] = model.module.weight.tolist()
    model(torch.tensor([[rank + 1.0, -rank]])).sum().backward()
    results["DDP gradients"] = [model.module.weight.grad.tolist(), model.module.bias.grad.tolist()]
    dist.barrier()
    dist.destroy_process_group(odd)
    results["destroyed"] = error_of(lambda: dist.get_global_rank(odd, 0))[0] if member(odd) else None
    return results


def check(ours):
    """What each of the 4 processes got, against what the calls mean."""
    assert [result["ranks"] for result in ours] == [[0, -1, 0, 0, 2], [1, 0, 1, 1, 2], [0, -1, 2, 0, 2], [1, 1, 3, 1, 2]]
    assert ours[3]["group ranks"] == [[2, 3], [0, 1, 2, 3]] and ours[3]["translated"] == [1, 3, 3]
    assert [result["names"] for result in ours[:2]] == [["1", -100, -100, "4"], ["1", -100, "3", "4"]]
    assert ours[3]["all_reduce SUM"] == [7.0, -5.0] and ours[3]["all_reduce AVG"] == [3.5, -2.5]
    assert ours[2]["all_gather"] == [[2.0, 20.0], [3.0, 30.0]] and ours[2]["all_gather_single"] == [2.0, -2.0, 3.0, -3.0]
    assert [result["broadcast {'src': 3}"] for result in ours] == [[0.0], [3.0], [2.0], [3.0]]
    assert [result["broadcast {'group_src': 0}"] for result in ours] == [[0.0], [1.0], [2.0], [1.0]]
    assert [result["reduce_scatter"] for result in ours] == [[1.0], [21.0], [5.0], [25.0]]
    assert ours[3]["all_to_all_single"] == [202.0, 203.0, 302.0, 303.0] and ours[3]["reduce"] == [7.0]
    assert ours[2]["gather"] == [[2.0], [3.0]] and [result["scatter"] for result in ours] == [[1.5], [1.25], [3.5], [3.25]]
    assert ours[2]["broadcast_object_list"] == ["from 3"] and ours[1]["all_gather_object"] == [{"rank": 0}, {"rank": 1}]
    assert ours[1]["DDP weights"] == ours[0]["DDP weights"] != ours[2]["DDP weights"] == ours[3]["DDP weights"]
    assert ours[3]["DDP gradients"] == ours[2]["DDP gradients"] == [[[3.5, -2.5]], [1.0]]
    assert ours[3]["recv"] == [2, [2.0, 1.0]] and ours[3]["recv any source"] == [2, [2.0, 2.0]]
    assert [result["batch_isend_irecv"][0] for result in ours] == [[20.0], [30.0], [0.0], [10.0]]
    assert "outside odd" not in ours[1] and ours[0]["outside odd"] == [[None, None, -1], [1.0], [
        f"Running {name} on global rank 0 which does not belong to the given group." for name in ("all_reduce", "barrier", "irecv")
    ]]
    assert ours[2]["local synchronization"][1] == [4.0] and ours[1]["local synchronization"] is None
    assert ours[1]["destroyed"] == "ValueError" and ours[0]["destroyed"] is None


RECORDED = pathlib.Path(__file__).with_name("subgroups_pytorch.json")


def record():
    """Run ``subgroup_calls`` on PyTorch's 4 processes and write what each returned to ``RECORDED``."""
    RECORDED.write_text(json.dumps(run("torch", 4, pathlib.Path(tempfile.mkdtemp()) / "torch", spawned), indent=1) + "\n")


def test_subgroups_of_spawned_processes_match_pytorchs_gloo(tmp_path):
    ours = run("chainrule", 4, tmp_path / "chainrule", spawned)
    assert ours == json.loads(RECORDED.read_text())
    check(ours)


@needs_mpi
def test_subgroups_of_processes_launched_by_mpiexec():
    results = json.loads(check_finished(run_processes(4, "subgroups.py")).splitlines()[-1])
    assert results == json.loads(RECORDED.read_text())
    check(results)


def test_misuses_of_new_group_raise_pytorchs_errors():
    import chainrule
    import torch

    errors = {}
    for library in (chainrule, torch):
        dist = library.distributed
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1)
        try:
            calls = {
                "duplicate": lambda: dist.new_group([0, 0]),
                "too many": lambda: dist.new_group([0, 1]),
                "out of range": lambda: dist.new_group([-1]),
                "subgroup size": lambda: dist.new_subgroups(group_size=2),
                "not positive": lambda: dist.new_subgroups(group_size=0),
                "empty enumeration": lambda: dist.new_subgroups_by_enumeration([]),
                "overlap": lambda: dist.new_subgroups_by_enumeration([[0], [0]]),
                "both src": lambda: dist.broadcast(library.ones(1), src=0, group_src=0),
                "no src": lambda: dist.broadcast(library.ones(1)),
            }
            errors[library.__name__] = {name: error_of(call) for name, call in calls.items()}
            group = dist.new_group([0])
            errors[library.__name__]["made"] = [group.group_name, group.group_desc, dist.get_backend(group), group.size()]
            dist.destroy_process_group(group)
            errors[library.__name__]["destroyed twice"] = error_of(lambda: dist.destroy_process_group(group))
        finally:
            dist.destroy_process_group()
    ours, theirs = errors["chainrule"], errors["torch"]
    for name in ("both src", "no src"):  # the same error; chainrule's message adds what to do
        assert ours[name][0] == theirs[name][0] and ours[name][1].startswith(theirs[name][1])
        del ours[name], theirs[name]
    assert ours == theirs
