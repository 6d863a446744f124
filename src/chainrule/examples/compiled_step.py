"""A training step compiled: the two-moons network's step recorded once and shown as the program it became.

``chainrule.compile`` runs the step eagerly the first time and records every array computation: the
forward of each layer, the backward of each node (the chain rule, in the engine's order), what is
added into each ``.grad``, and the optimizer's update. Later steps replay that straight-line
program, without building a graph. The printed program is the hand-written backprop of the course,
written by autograd: each line names the operation or the derivative it computes. Compiled and eager
training from the same weights end with the same weights, bit for bit.
"""
import time

import chainrule as torch
from chainrule import nn, optim
from chainrule.examples._data import moons
from chainrule.examples._report import Report


def network():
    return nn.Sequential(nn.Linear(2, 5), nn.Sigmoid(), nn.Linear(5, 1), nn.Sigmoid())


def train(compiled, train_data, num_epochs, learning_rate):
    """Full-batch SGD from seed 0; returns (the step function, its seconds per step, the model)."""
    torch.manual_seed(0)
    model = network()
    optimizer = optim.SGD(model.parameters(), lr=learning_rate)
    loss_fn = nn.BCELoss()

    def step(inputs, labels):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss

    run = torch.compile(step) if compiled else step
    run(*train_data)  # the first call records when compiled
    start = time.perf_counter()
    for _ in range(num_epochs - 1):
        run(*train_data)
    return run, (time.perf_counter() - start) / (num_epochs - 1), model


def main(out=None, quick=False):
    report = Report("A training step compiled: the program chainrule.compile writes", out)
    num_epochs = 100 if quick else 1000
    train_data, _, _ = moons(300 if quick else 1000)
    compiled, compiled_seconds, compiled_model = train(True, train_data, num_epochs, 2.0)
    _, eager_seconds, eager_model = train(False, train_data, num_epochs, 2.0)
    report.say("the step of the two-moons network (2-5-1, sigmoids, BCELoss, SGD), as chainrule.compile recorded it:")
    report.block(compiled.code)
    same = all(torch.equal(a, b) for a, b in zip(compiled_model.parameters(), eager_model.parameters()))
    report.say(f"after {num_epochs} steps the compiled and the eager weights are {'identical' if same else 'DIFFERENT'}")
    report.say(f"one step: eager {eager_seconds * 1e6:.0f} us, compiled {compiled_seconds * 1e6:.0f} us")
    results = {"same_weights": same, "eager_step_seconds": eager_seconds, "compiled_step_seconds": compiled_seconds}
    report.write(results)
    return results


if __name__ == "__main__":
    from chainrule.examples import run_as_script

    raise SystemExit(run_as_script("compiled_step"))
