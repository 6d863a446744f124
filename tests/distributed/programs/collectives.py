"""Run under mpiexec: every collective against its closed form; each rank's tensor is known to all."""
import chainrule as torch
import chainrule.distributed as dist

dist.init_process_group(backend="mpi")
rank, size = dist.get_rank(), dist.get_world_size()


def of(r):
    """The tensor that rank ``r`` contributes."""
    return torch.tensor([[r + 1.0, -2.0 * r], [0.5 * r, 3.0]], dtype=torch.float64)


everyone = torch.stack([of(r) for r in range(size)])
expected = {
    dist.ReduceOp.SUM: everyone.sum(0),
    dist.ReduceOp.AVG: everyone.mean(0),
    dist.ReduceOp.PRODUCT: everyone.prod(0),
    dist.ReduceOp.MIN: everyone.min(0).values,
    dist.ReduceOp.MAX: everyone.max(0).values,
}
for op, want in expected.items():
    got = of(rank)
    dist.all_reduce(got, op=op)
    assert torch.allclose(got, want, rtol=0, atol=1e-12), (op, got, want)
    work = dist.all_reduce(got := of(rank), op=op, async_op=True)
    assert work.wait() and work.is_completed() and torch.allclose(got, want, rtol=0, atol=1e-12)

integers = torch.tensor([rank, 10 * rank])
dist.all_reduce(integers)
assert integers.tolist() == [sum(range(size)), 10 * sum(range(size))] and integers.dtype == torch.int64

columns = torch.zeros(3, 2, dtype=torch.float64).t()  # not contiguous: written back through a copy
columns += rank
dist.all_reduce(columns)
assert (columns == float(sum(range(size)))).all()

for src in range(size):
    got = of(rank)
    dist.broadcast(got, src=src)
    assert torch.equal(got, of(src))

gathered = [torch.zeros(2, 2, dtype=torch.float64) for _ in range(size)]
dist.all_gather(gathered, of(rank))
assert all(torch.equal(gathered[r], of(r)) for r in range(size))

output = torch.zeros(2, 2, dtype=torch.float64)
dist.reduce_scatter(output, [of(rank) * (r + 1) for r in range(size)])
assert torch.allclose(output, everyone.sum(0) * (rank + 1), rtol=0, atol=1e-12)

dst = size - 1
gather_list = [torch.zeros(2, 2, dtype=torch.float64) for _ in range(size)] if rank == dst else None
dist.gather(of(rank), gather_list, dst=dst)
assert rank != dst or all(torch.equal(gather_list[r], of(r)) for r in range(size))

received = torch.zeros(2, 2, dtype=torch.float64)
dist.scatter(received, [of(r) * 10 for r in range(size)] if rank == 0 else None, src=0)
assert torch.equal(received, of(rank) * 10)

for dst in range(size):
    got = of(rank)
    dist.reduce(got, dst=dst)
    assert torch.allclose(got, everyone.sum(0) if rank == dst else of(rank), rtol=0, atol=1e-12)  # the others unchanged

objects = [None] * size if rank == dst else None
dist.gather_object({"rank": rank}, objects, dst=dst)
assert objects == ([{"rank": r} for r in range(size)] if rank == dst else None)
received_object = [None]
dist.scatter_object_list(received_object, [f"to {r}" for r in range(size)] if rank == 0 else None, src=0)
assert received_object == [f"to {rank}"]

dist.monitored_barrier()
dist.barrier()
dist.destroy_process_group()
if rank == 0:
    print(f"collectives ok on {size} processes")
