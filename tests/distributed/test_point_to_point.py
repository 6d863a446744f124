"""send/recv, isend/irecv and batch_isend_irecv as PyTorch's "Writing Distributed Applications"
tutorial uses them, between spawned processes that met over TCP (init_process_group("gloo")) and
between processes launched by mpiexec: what each process received, against PyTorch's gloo in the
same processes' places and against what was sent."""
import importlib
import json
import os

import pytest

from tests.distributed.processes import check_finished, needs_mpi, run_processes
from tests.distributed.test_tcp import free_port, run


def exchanges(rank, size, library, port, folder):
    """In each spawned process: messages that depend on the rank, what arrived written to ``folder/<rank>.json``."""
    torch = importlib.import_module(library)
    dist = importlib.import_module(f"{library}.distributed")
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=size)
    results = messages(torch, dist, rank, size)
    dist.destroy_process_group()
    with open(os.path.join(folder, f"{rank}.json"), "w") as file:
        json.dump(results, file)


def messages(torch, dist, rank, size):
    """Messages between the processes of the group (3 or more), each depending on its rank; what arrived."""
    results = {}
    # the tutorial's blocking pair: process 0 sends, process 1 receives
    tensor = torch.zeros(1)
    if rank == 0:
        tensor += 1
        dist.send(tensor=tensor, dst=1)
    elif rank == 1:
        results["sender"] = dist.recv(tensor=tensor, src=0)
    results["blocking"] = tensor.tolist()
    # the tutorial's non-blocking pair
    tensor = torch.zeros(1)
    req = dist.isend(tensor=tensor + 7, dst=1) if rank == 0 else dist.irecv(tensor=tensor, src=0) if rank == 1 else None
    if req is not None:
        req.wait()
    results["non-blocking"] = tensor.tolist()
    # a ring: each sends to the next and receives from the previous, both started at once
    received = torch.zeros(2, dtype=torch.float64)
    works = dist.batch_isend_irecv([
        dist.P2POp(dist.isend, torch.tensor([rank, 10.0 * rank], dtype=torch.float64), (rank + 1) % size),
        dist.P2POp(dist.irecv, received, (rank - 1) % size),
    ])
    for work in works:
        work.wait()
    results["ring"] = received.tolist()
    # tags: two messages to process 0 matched by tag, not by order; any source, several senders
    if rank == 1:
        dist.send(torch.tensor([1.0, 1.0]), dst=0, tag=1)
        dist.send(torch.tensor([2.0, 2.0]), dst=0, tag=2)
    if rank == 0:
        second, first = torch.zeros(2), torch.zeros(2)
        works = [dist.irecv(second, src=1, tag=2), dist.irecv(first, src=1, tag=1)]  # gloo's send waits for its recv
        for work in works:
            work.wait()
        results["tags"] = [second.tolist(), first.tolist()]
    if rank != 0:
        dist.send(torch.full((3,), float(rank)), dst=0, tag=5)
    else:
        arrived = []
        for _ in range(size - 1):
            into = torch.zeros(3)
            sender = dist.recv(into, tag=5)  # any process
            arrived.append([sender, into.tolist()])
        results["any source"] = sorted(arrived)
    dist.barrier()
    return results


def test_point_to_point_between_spawned_processes_matches_pytorchs_gloo(tmp_path):
    size = 3
    ours = run("chainrule", size, tmp_path / "chainrule", exchanges)
    theirs = run("torch", size, tmp_path / "torch", exchanges)
    assert ours == theirs
    check(ours)


def check(ours):
    """What each of 3 processes received, against what was sent."""
    assert ours[1]["blocking"] == [1.0] and ours[1]["sender"] == 0 and ours[2]["blocking"] == [0.0]
    assert ours[1]["non-blocking"] == [7.0]
    assert [result["ring"] for result in ours] == [[2.0, 20.0], [0.0, 0.0], [1.0, 10.0]]
    assert ours[0]["tags"] == [[2.0, 2.0], [1.0, 1.0]]
    assert ours[0]["any source"] == [[1, [1.0, 1.0, 1.0]], [2, [2.0, 2.0, 2.0]]]


@needs_mpi
def test_point_to_point_between_processes_launched_by_mpiexec():
    check(json.loads(check_finished(run_processes(3, "point_to_point.py")).splitlines()[-1]))


def test_bad_peers_and_operations_raise_pytorchs_errors():
    import chainrule
    import torch

    for library in (chainrule, torch):
        dist = library.distributed
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1)
        try:
            with pytest.raises(ValueError, match="Invalid destination rank: destination rank should not be the same as the rank of the current process"):
                dist.send(library.ones(1), dst=0)
            with pytest.raises(ValueError, match="Must specify global_rank or group_rank"):
                dist.send(library.ones(1))
            for operation in (dist.isend, dist.irecv):  # gloo sends and receives contiguous tensors only
                with pytest.raises(RuntimeError, match="input tensor has to be contiguous"):
                    operation(library.zeros(3, 2)[:, 1], 0)
            with pytest.raises(ValueError, match="Invalid ``op``"):
                dist.P2POp(dist.all_reduce, library.ones(1), 0)
            with pytest.raises(ValueError, match="Invalid ``p2p_op_list``"):
                dist.batch_isend_irecv([library.ones(1)])
        finally:
            dist.destroy_process_group()
