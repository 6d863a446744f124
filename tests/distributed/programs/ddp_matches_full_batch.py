"""Run under mpiexec: DistributedDataParallel on n processes must train exactly as one process does on
the whole batch. Exits non-zero (through the abort hook) on any mismatch; prints one line per check."""
import contextlib
import copy
import sys

import chainrule as torch
import chainrule.distributed as dist
from chainrule import nn
from chainrule.nn.parallel import DistributedDataParallel

STEPS = 20
BATCH = 24  # divisible by 2 and 4: every process gets an equal share


def make_model():
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3)).double()


def make_optimizer(name, parameters):
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=0.1, momentum=0.9)
    return torch.optim.Adam(parameters, lr=0.01)


def train(model, optimizer, batches, accumulate=1, wrapper=None):
    """``accumulate`` micro-batches per step; all but the last inside ``no_sync()`` when wrapped."""
    loss_fn = nn.CrossEntropyLoss()
    runner = wrapper or model
    for inputs, labels in batches:
        optimizer.zero_grad()
        micro_inputs, micro_labels = inputs.chunk(accumulate), labels.chunk(accumulate)
        for index, (x, y) in enumerate(zip(micro_inputs, micro_labels)):
            is_last = index == accumulate - 1
            context = wrapper.no_sync() if (wrapper is not None and not is_last) else contextlib.nullcontext()
            with context:
                (loss_fn(runner(x), y) / accumulate).backward()
        optimizer.step()


def max_difference(model_a, model_b):
    return max(float((a - b).abs().max()) for a, b in zip(model_a.parameters(), model_b.parameters()))


def main():
    dist.init_process_group(backend="mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    inputs = torch.randn(STEPS, BATCH, 5, dtype=torch.float64)
    labels = torch.randint(0, 3, (STEPS, BATCH))
    for optimizer_name in ("sgd", "adam"):
        for accumulate in (1, 2):
            # Every rank starts from a different initialization: the wrap must broadcast rank 0's.
            torch.manual_seed(100 + rank)
            model = make_model()
            reference = copy.deepcopy(model)
            ddp = DistributedDataParallel(model, bucket_cap_mb=0.0005)  # several buckets
            reference.load_state_dict(ddp.module.state_dict())
            full_batches = [(inputs[step], labels[step]) for step in range(STEPS)]
            # Each process's share: rows rank, rank + size, ...; with accumulate=2 the micro-batches
            # of the shards together make up the micro-batches of the full batch.
            shards = [(x[rank::size], y[rank::size]) for x, y in full_batches]
            train(reference, make_optimizer(optimizer_name, reference.parameters()), full_batches)
            train(model, make_optimizer(optimizer_name, ddp.parameters()), shards, accumulate, ddp)
            difference = max_difference(model, reference)
            spread = torch.tensor([difference], dtype=torch.float64)
            dist.all_reduce(spread, op=dist.ReduceOp.MAX)
            if rank == 0:
                print(f"{optimizer_name} accumulate={accumulate}: max |ddp - full batch| = {float(spread):.3e}")
            if float(spread) > 1e-10:
                raise AssertionError(f"{optimizer_name}: DDP differs from full batch by {float(spread)}")
            ddp.reducer.remove()
    dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
