"""Run under mpiexec: ZeroRedundancyOptimizer shares the parameters out and trains exactly as the
wrapped optimizer does on the whole model; its state consolidates and loads back; Join lets ranks
run out of inputs at different steps. Exits non-zero (through the abort hook) on any mismatch."""
import numpy as np

import chainrule as torch
import chainrule.distributed as dist
from chainrule import nn
from chainrule.distributed.algorithms.join import Join, Joinable, JoinHook
from chainrule.distributed.optim import ZeroRedundancyOptimizer

dist.init_process_group(backend="mpi")
rank, size = dist.get_rank(), dist.get_world_size()


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3)).double()


def step(model, optimizer, inputs, labels):
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(inputs), labels).backward()
    optimizer.step()


def weights(model):
    return [parameter.detach().numpy().copy() for parameter in model.parameters()]


torch.manual_seed(1)
data = [(torch.randn(12, 5).double(), torch.randint(0, 3, (12,))) for _ in range(8)]

for bucket_view in (False, True):
    sharded, whole = make_model(), make_model()
    zero = ZeroRedundancyOptimizer(sharded.parameters(), torch.optim.Adam, parameters_as_bucket_view=bucket_view, lr=0.01)
    adam = torch.optim.Adam(whole.parameters(), lr=0.01)
    position = {parameter: index for index, parameter in enumerate(sharded.parameters())}
    shares = [None] * size
    dist.all_gather_object(shares, [position[p] for g in zero.optim.param_groups for p in g["params"]])
    assert sorted(sum(shares, [])) == list(range(len(position))) and all(shares), shares  # each parameter on one rank
    for inputs, labels in data[:4]:
        step(sharded, zero, inputs, labels)
        step(whole, adam, inputs, labels)
    assert all(np.array_equal(a, b) for a, b in zip(weights(sharded), weights(whole)))

    last = size - 1
    zero.consolidate_state_dict(to=last)
    if rank == last:
        saved, expected = zero.state_dict(), adam.state_dict()
        assert saved["param_groups"] == expected["param_groups"] and saved["state"].keys() == expected["state"].keys()
        for index, state in expected["state"].items():
            assert all(np.array_equal(value.numpy(), saved["state"][index][key].numpy()) for key, value in state.items())
    else:
        try:
            zero.state_dict()
            raise AssertionError("state_dict() off the consolidating rank must raise")
        except RuntimeError as error:
            assert f"consolidate_state_dict(to={rank})" in str(error)
        saved = None
    holder = [saved]
    dist.broadcast_object_list(holder, src=last)
    resumed = ZeroRedundancyOptimizer(sharded.parameters(), torch.optim.Adam, parameters_as_bucket_view=bucket_view, lr=1.0)
    resumed.load_state_dict(holder[0])
    for inputs, labels in data[4:]:
        step(sharded, resumed, inputs, labels)
        step(whole, adam, inputs, labels)
    assert all(np.array_equal(a, b) for a, b in zip(weights(sharded), weights(whole)))
    if rank == 0:
        print(f"zero bucket_view={bucket_view} ok on {size} processes")

class GradientAverager(Joinable):
    """DistributedDataParallel's part in Join, written out: each iteration it notifies the join
    context, then averages the gradients in one all-reduce; its hook shadows that all-reduce."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def average(self):
        Join.notify_join_context(self)
        flat = torch.cat([parameter.grad.flatten() for parameter in self.model.parameters()])
        dist.all_reduce(flat)
        offset = 0
        for parameter in self.model.parameters():
            parameter.grad.copy_(flat[offset : offset + parameter.numel()].view_as(parameter) / size)
            offset += parameter.numel()

    def join_hook(self, **kwargs):
        model = self.model

        class Shadow(JoinHook):
            def main_hook(self):
                dist.all_reduce(torch.zeros(sum(parameter.numel() for parameter in model.parameters()), dtype=torch.float64))

        return Shadow()

    @property
    def join_device(self):
        return torch.device("cpu")

    @property
    def join_process_group(self):
        return dist.group.WORLD


def averaged_step(model, averager, optimizer, inputs, labels):
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(inputs), labels).backward()
    averager.average()
    optimizer.step()


# Join: rank r has 2 + r batches of its own; the ranks that finish first shadow the others'
# all-reduce and keep stepping (broadcasting their share), and all end with the same weights
model = make_model()
averager = GradientAverager(model)
zero = ZeroRedundancyOptimizer(model.parameters(), torch.optim.SGD, lr=0.1)
with Join([averager, zero]):
    for inputs, labels in data[rank : rank + 2 + rank]:
        averaged_step(model, averager, zero, inputs, labels)
everyone = [None] * size
dist.all_gather_object(everyone, weights(model))
assert all(np.array_equal(a, b) for other in everyone for a, b in zip(other, everyone[0]))

try:
    with Join([averager, zero], throw_on_early_termination=True):
        for inputs, labels in data[: 2 + rank]:
            averaged_step(model, averager, zero, inputs, labels)
    raise AssertionError("uneven inputs under throw_on_early_termination must raise")
except RuntimeError as error:
    expected = "Rank 0 exhausted all inputs." if rank == 0 else "Detected at least one rank that exhausted inputs."
    assert str(error).startswith(expected), error
dist.barrier()
dist.destroy_process_group()
if rank == 0:
    print(f"join ok on {size} processes")
