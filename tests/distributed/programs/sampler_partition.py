"""Run under mpiexec: at every epoch the ranks' DistributedSampler shares partition the dataset."""
import sys

import chainrule as torch
import chainrule.distributed as dist
from chainrule.utils.data import DataLoader, TensorDataset
from chainrule.utils.data.distributed import DistributedSampler

dist.init_process_group(backend="mpi")
rank, size = dist.get_rank(), dist.get_world_size()
for length in (size * 6, size * 6 + 1):  # divisible, and not (padded by repeating)
    dataset = TensorDataset(torch.arange(length))
    sampler = DistributedSampler(dataset, shuffle=True, seed=3)  # rank and size from the group
    loader = DataLoader(dataset, batch_size=4, sampler=sampler)
    orders = []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        share = torch.cat([batch for (batch,) in loader])
        shares = [torch.zeros_like(share) for _ in range(size)]
        dist.all_gather(shares, share)
        together = torch.cat(shares).tolist()
        padding = size * len(sampler) - length
        assert len(share) == len(sampler) and sorted(set(together)) == list(range(length)), together
        assert len(together) - len(set(together)) == padding
        orders.append(together)
    assert orders[0] != orders[1] != orders[2]  # set_epoch reshuffles
dist.destroy_process_group()
if rank == 0:
    print(f"sampler partitions on {size} processes")
sys.exit(0)
