"""Data parallelism on 2 processes: each takes half the batch, one all-reduce averages the gradients.

Two processes, started by MPI (``mpiexec -n 2``), each hold a copy of the Iris network 4 -> 6 -> 3.
A ``DistributedSampler`` gives each its own half of the 150 flowers. Each computes the gradient of
the mean loss over its half, ``g_r``; ``DistributedDataParallel`` averages them during backward,

    g = (g_0 + g_1) / 2,

which, the halves being equal, is exactly the gradient of the mean loss over all 150 flowers. Every
process then applies the same update, so the copies never drift apart. The demo shows one step in
numbers (each process's gradient, their average, the update of one process on the whole batch),
then trains, averaging the loss across processes for the report. Run it with
``chainrule demo data_parallel``, which starts the 2 processes itself.
"""
import copy
import json
import os
import sys
import tempfile

import chainrule as torch
import chainrule.distributed as dist
from chainrule import nn, optim
from chainrule.datasets import load_iris
from chainrule.distributed.communicator import launched_by_mpi
from chainrule.distributed.launch import run
from chainrule.examples._report import Report
from chainrule.nn.parallel import DistributedDataParallel
from chainrule.utils.data import DataLoader, TensorDataset
from chainrule.utils.data.distributed import DistributedSampler
from chainrule.viz.plots import plot_losses

PROCESSES = 2
TITLE = "Data parallelism: two processes, one all-reduce of the gradients"


def main(out=None, quick=False):
    """Start the demo on ``PROCESSES`` processes (or, inside an MPI launch, be one of them)."""
    if launched_by_mpi():
        return train_on_this_process(out, quick)
    with tempfile.TemporaryDirectory() as scratch:
        results_path = os.path.join(scratch, "results.json")
        program = ["-m", "chainrule.examples.data_parallel", "--results", results_path]
        program += (["--out", os.fspath(out)] if out is not None else []) + (["--quick"] if quick else [])
        sys.stdout.flush()
        code = run(PROCESSES, program, timeout=600)
        if code != 0:
            raise RuntimeError(f"the demo's {PROCESSES} processes failed with exit code {code}; their error is printed above")
        with open(results_path, encoding="utf-8") as file:
            return json.load(file)


def train_on_this_process(out=None, quick=False, results_path=None):
    dist.init_process_group(backend="mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    if rank != 0:
        sys.stdout = open(os.devnull, "w")  # one voice: rank 0 prints and writes the report
    report = Report(TITLE, out if rank == 0 else None)
    report.say(f"{size} processes; this report comes from rank 0.")

    X, y = load_iris(normalize=True)
    dataset = TensorDataset(X.double(), y)
    torch.manual_seed(rank)  # each process starts from different weights...
    model = nn.Sequential(nn.Linear(4, 6), nn.Sigmoid(), nn.Linear(6, 3)).double()
    ddp = DistributedDataParallel(model)  # ...and wrapping copies rank 0's to all of them
    spread = replica_spread(model)
    report.say(f"after wrapping, the largest weight difference between the processes: {spread:.1e}")

    loss_fn = nn.CrossEntropyLoss()
    sampler = DistributedSampler(dataset, num_replicas=size, rank=rank, shuffle=True, seed=0)
    one_step = show_one_step(report, ddp, loss_fn, dataset, sampler, size)

    num_epochs = 40 if quick else 150
    loader = DataLoader(dataset, batch_size=15, sampler=sampler)
    optimizer = optim.SGD(ddp.parameters(), lr=0.2, momentum=0.9)
    report.say(f"\ntraining: {len(loader)} mini-batches of 15 flowers per process per epoch, {num_epochs} epochs")
    losses = []
    for epoch in range(num_epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every process
        epoch_loss = torch.zeros(1, dtype=torch.float64)
        for inputs, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(ddp(inputs), labels)
            loss.backward()
            optimizer.step()
            epoch_loss += loss.detach()
        dist.all_reduce(epoch_loss, op=dist.ReduceOp.AVG)  # the mean over processes of their sums
        losses.append(float(epoch_loss) / len(loader))
        if epoch % max(num_epochs // 5, 1) == 0 or epoch == num_epochs - 1:
            report.say(f"  epoch {epoch + 1:3d}: loss {losses[-1]:.4f}")
    accuracy = whole_dataset_accuracy(model, dataset)
    spread = replica_spread(model)
    report.say(f"accuracy on all 150 flowers {accuracy:.3f}; weight difference between processes {spread:.1e}")
    report.figure("training.png", plot_losses, losses)
    results = dict(one_step, final_loss=losses[-1], accuracy=accuracy, replica_spread=spread)
    report.write(results)
    if rank == 0 and results_path is not None:
        with open(results_path, "w", encoding="utf-8") as file:
            json.dump(results, file)
    dist.destroy_process_group()
    return results


def show_one_step(report, ddp, loss_fn, dataset, sampler, size):
    """One SGD step three ways: each process alone, averaged by DDP, and one process on everything."""
    model = ddp.module
    reference = copy.deepcopy(model)
    inputs, labels = dataset[list(sampler)]
    all_inputs, all_labels = dataset[:]
    report.say(f"\none step: each process computes the gradient over its {len(labels)} flowers")

    loss_fn(model(inputs), labels).backward()  # the plain module: this process's gradient alone
    own = model[2].bias.grad.clone()
    everyone = [torch.zeros_like(own) for _ in range(size)]
    dist.all_gather(everyone, own)
    model.zero_grad()

    optimizer = optim.SGD(model.parameters(), lr=0.5)
    loss_fn(ddp(inputs), labels).backward()  # through DDP: averaged during backward
    averaged = model[2].bias.grad.clone()
    optimizer.step()

    reference_optimizer = optim.SGD(reference.parameters(), lr=0.5)
    loss_fn(reference(all_inputs), all_labels).backward()
    full = reference[2].bias.grad.clone()
    reference_optimizer.step()

    report.say("gradient of the loss with respect to the output layer's bias:")
    rows = [(f"process {rank} ({len(labels)} flowers)", gradient) for rank, gradient in enumerate(everyone)]
    rows += [("their average (DDP)", averaged), (f"one process, all {len(all_labels)}", full)]
    report.block("\n".join(f"{name:28s} {format_vector(gradient)}" for name, gradient in rows))
    difference = max(float((a - b).detach().abs().max()) for a, b in zip(model.parameters(), reference.parameters()))
    report.say(f"largest difference between the DDP update and the one-process full-batch update: {difference:.1e}")
    return {"gradient_difference": float((averaged - full).abs().max()), "update_difference": difference}


def whole_dataset_accuracy(model, dataset):
    inputs, labels = dataset[:]
    with torch.no_grad():
        return float((model(inputs).argmax(dim=1) == labels).double().mean())


def replica_spread(model):
    """The largest difference of any weight between any two processes (0 when they are identical)."""
    flat = torch.cat([parameter.detach().reshape(-1) for parameter in model.parameters()])
    largest, smallest = flat.clone(), flat.clone()
    dist.all_reduce(largest, op=dist.ReduceOp.MAX)
    dist.all_reduce(smallest, op=dist.ReduceOp.MIN)
    return float((largest - smallest).max())


def format_vector(tensor):
    return "[" + ", ".join(f"{value:+.6f}" for value in tensor.tolist()) + "]"


if __name__ == "__main__":
    if launched_by_mpi():
        import argparse

        parser = argparse.ArgumentParser()
        parser.add_argument("--out", default=None)
        parser.add_argument("--quick", action="store_true")
        parser.add_argument("--results", default=None)
        arguments = parser.parse_args()
        train_on_this_process(arguments.out, arguments.quick, arguments.results)
    else:
        from chainrule.examples import run_as_script

        raise SystemExit(run_as_script("data_parallel"))
