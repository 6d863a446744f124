"""chainrule.multiprocessing and shared memory: Hogwild training, as PyTorch's example writes it."""
import sys

import numpy as np
import pytest
import torch

import chainrule
import chainrule.multiprocessing as mp
from chainrule import nn


def _train(model, rank, steps):
    chainrule.manual_seed(rank)
    optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        optimizer.zero_grad()
        model(chainrule.randn(8, 3)).pow(2).mean().backward()
        optimizer.step()


def test_share_memory_keeps_the_values_and_says_so_as_pytorch():
    for lib in (chainrule, torch):
        tensor = lib.arange(6.0).reshape(2, 3)
        assert not tensor.is_shared()
        assert tensor.share_memory_() is tensor and tensor.is_shared()
        assert tensor.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
        tensor.share_memory_()  # a second time changes nothing
        assert lib.zeros(0).share_memory_().is_shared()


@pytest.mark.skipif(sys.platform == "win32", reason="the fork start method is POSIX's")
def test_hogwild_workers_update_the_parents_model():
    model = nn.Linear(3, 1)
    assert model.share_memory() is model
    assert all(parameter.is_shared() for parameter in model.parameters())
    before = model.weight.detach().clone()
    workers = [mp.get_context("fork").Process(target=_train, args=(model, rank, 5)) for rank in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert not chainrule.equal(before, model.weight)  # the workers' steps landed in this process's model
    assert np.isfinite(model.weight.detach().numpy()).all()


def test_a_shared_model_still_trains_in_this_process():
    model = nn.Linear(3, 1).share_memory()
    _train(model, 0, 2)
    assert model.weight.is_shared() and model.weight.grad is not None


def _rank_job(rank, results, failing_rank):
    if rank == failing_rank:
        raise ValueError(f"rank {rank} failed")
    results.put((rank, chainrule.ones(3).sum().item() * rank))


def _exiting_job(rank):
    sys.exit(3 if rank == 0 else 0)


def test_spawn_runs_one_process_per_rank_and_raises_a_ranks_error_as_pytorch():
    context = mp.get_context("fork")
    results = context.SimpleQueue()
    mp.start_processes(_rank_job, args=(results, None), nprocs=2, start_method="fork")
    assert sorted([results.get(), results.get()]) == [(0, 0.0), (1, 3.0)]
    with pytest.raises(mp.ProcessRaisedException) as raised:
        mp.start_processes(_rank_job, args=(results, 1), nprocs=2, start_method="fork")
    assert raised.value.error_index == 1 and "-- Process 1 terminated with the following error:" in str(raised.value)
    assert "ValueError: rank 1 failed" in str(raised.value)
    started = mp.start_processes(_exiting_job, nprocs=2, join=False, start_method="fork")
    with pytest.raises(mp.ProcessExitedException, match="process 0 terminated with exit code 3"):
        while not started.join():
            pass
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies() == torch.multiprocessing.get_all_sharing_strategies()

