"""chainrule.distributed without a launcher: a world of one process, in this test process."""
import os
import subprocess
import sys

import pytest

import chainrule as torch
import chainrule.distributed as dist


@pytest.fixture
def group():
    dist.init_process_group(backend="mpi")
    yield
    dist.destroy_process_group()


def test_outside_a_launch_the_world_is_this_one_process():
    hook = sys.excepthook  # Python's, or what a test before installed (PyTorch's init_process_group sets one for good)
    dist.init_process_group(backend="mpi")
    try:
        assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
        assert sys.excepthook is hook  # one process: errors are reported as they were
    finally:
        dist.destroy_process_group()


def test_collectives_on_one_process_leave_or_copy_the_tensor(group):
    tensor = torch.tensor([1.0, -2.0])
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, dist.ReduceOp.PRODUCT):
        dist.all_reduce(tensor, op=op)
        assert tensor.tolist() == [1.0, -2.0]
    assert dist.all_reduce(tensor, async_op=True).wait()
    dist.broadcast(tensor, src=0)
    gathered = [torch.zeros(2)]
    dist.all_gather(gathered, tensor)
    output, scattered, gather_list = torch.zeros(2), torch.zeros(2), [torch.zeros(2)]
    dist.reduce_scatter(output, [tensor * 3])
    dist.scatter(scattered, [tensor * 5], src=0)
    dist.gather(tensor, gather_list, dst=0)
    dist.barrier()
    assert gathered[0].tolist() == gather_list[0].tolist() == [1.0, -2.0]
    assert output.tolist() == [3.0, -6.0] and scattered.tolist() == [5.0, -10.0]


def test_misuse_is_refused_with_pytorchs_exception_types(group):
    with pytest.raises(ValueError, match="twice"):
        dist.init_process_group()
    with pytest.raises(ValueError, match="src=1 is not a rank of this group of 1"):
        dist.broadcast(torch.zeros(2), src=1)
    with pytest.raises(ValueError, match=r"one tensor per process \(1\), got 2 tensors"):
        dist.all_gather([torch.zeros(2), torch.zeros(2)], torch.zeros(2))
    with pytest.raises(ValueError, match=r"tensor_list\[0\] has shape \(3,\)"):
        dist.all_gather([torch.zeros(3)], torch.zeros(2))
    with pytest.raises(RuntimeError, match="ReduceOp.AVG needs a floating-point tensor"):
        dist.all_reduce(torch.tensor([1, 2]), op=dist.ReduceOp.AVG)
    with pytest.raises(TypeError, match="op must be a ReduceOp"):
        dist.all_reduce(torch.zeros(2), op="sum")


def test_before_init_and_other_backends_are_errors(monkeypatch):
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.all_reduce(torch.zeros(1))
    with pytest.raises(ValueError, match="backend='mpi'"):
        dist.init_process_group(backend="nccl")
    with pytest.raises(ValueError, match="world_size=2 was given but the MPI launcher assigned world_size=1"):
        dist.init_process_group(world_size=2)
    with pytest.raises(ValueError, match="MASTER_ADDR expected"):  # gloo's processes meet over TCP: where?
        dist.init_process_group(backend="gloo", rank=0, world_size=2)
    assert not dist.is_initialized()


def test_gloo_for_a_group_of_one_process():
    """DDP code written for gloo runs as a group of this one process, as PyTorch's with world_size=1."""
    dist.init_process_group(backend="gloo", rank=0, world_size=1)
    try:
        assert (dist.get_backend(), dist.get_rank(), dist.get_world_size()) == ("gloo", 0, 1)
        model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 1))
        model(torch.ones(3, 2)).sum().backward()
        assert model.module.weight.grad.tolist() == [[3.0, 3.0]]
    finally:
        dist.destroy_process_group()


def run_python(code, **environment):
    source = os.path.dirname(os.path.dirname(torch.__file__))
    env = dict(os.environ, PYTHONPATH=source, **environment)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)


HIDE_MPI4PY = "import sys; sys.modules['mpi4py'] = None; sys.modules['mpi4py.MPI'] = None\n"


def test_without_mpi4py_one_process_works_and_a_launch_names_the_extra():
    alone = run_python(HIDE_MPI4PY + "import chainrule.distributed as d; d.init_process_group(); print(d.get_world_size())")
    assert alone.returncode == 0 and alone.stdout.strip() == "1", alone.stderr
    launched = run_python(HIDE_MPI4PY + "import chainrule.distributed as d; d.init_process_group()", PMI_SIZE="2", PMI_RANK="0")
    assert launched.returncode != 0
    assert "ImportError" in launched.stderr and "pip install 'chainrule[distributed]'" in launched.stderr
