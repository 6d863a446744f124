"""Random training steps, compiled and eager side by side: a compiled step either replays the eager
results bit for bit, or runs eagerly (with its warning); it never returns anything else.

Each step strings together operations drawn from a menu (arithmetic with numbers and inputs,
activations, matrix products, factories, comparisons used as masks, index tensors, gather,
in-place methods, dropout, joins and views, a loss of class targets, a repeated pair of operations
that the program rolls into a loop), then a loss, backward, gradient clipping and an optimizer step,
and runs on three calls with new inputs.
"""
import random
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F

MENU = [
    lambda h, s, r: h * r.choice([0.5, -1.5, 2.0]),
    lambda h, s, r: h + s["x"],
    lambda h, s, r: chainrule.tanh(h),
    lambda h, s, r: F.relu(h),
    lambda h, s, r: h @ s["weight"],
    lambda h, s, r: h + chainrule.arange(3).float(),
    lambda h, s, r: chainrule.where(h > 0, h, h * 0.1),
    lambda h, s, r: h * (s["x"] > 0).float(),
    lambda h, s, r: h[s["rows"]],
    lambda h, s, r: h.gather(1, s["columns"]),
    lambda h, s, r: h.sum(1, keepdim=True) * h,
    lambda h, s, r: F.dropout(h, 0.3, training=True),
    lambda h, s, r: s["embedding"](s["tokens"]) + h,
    lambda h, s, r: h + chainrule.zeros(4, 3) + chainrule.ones_like(h) * s["scale"].scale,
    lambda h, s, r: (h * 1.0).add_(s["x"]).mul_(0.5),
    lambda h, s, r: F.layer_norm(h, (3,)),
    lambda h, s, r: h[:, 1:] .sum(1, keepdim=True) + h,
    lambda h, s, r: h.clamp(-1.0, 1.0),
    lambda h, s, r: chainrule.cat([h, h * 2.0], 1)[:, :3],
    lambda h, s, r: h.t().reshape(4, 3),
    lambda h, s, r: h.masked_fill(s["x"] < -0.5, 0.0),
    lambda h, s, r: h.index_select(0, s["rows"]),
    lambda h, s, r: F.softmax(h, 1) * h,
    lambda h, s, r: F.cross_entropy(h, s["rows"] % 3) + h,
    lambda h, s, r: repeated(h),
]


def repeated(h):
    """The same two operations 20 times: lines the program rolls into a loop."""
    for _ in range(20):
        h = chainrule.tanh(h * 0.9) + 0.1
    return h


RUNS = {}  # (seed, compiled) -> the step run last: its program can be read


class Scale:
    scale = 0.25


def make_step(seed):
    generator = random.Random(seed)
    operations = [generator.randrange(len(MENU)) for _ in range(generator.randint(2, 7))]
    chainrule.manual_seed(seed)
    state = {"weight": nn.Parameter(chainrule.randn(3, 3) * 0.5), "embedding": nn.Embedding(5, 3), "scale": Scale()}
    parameters = [state["weight"], *state["embedding"].parameters()]
    optimizer = optim.SGD(parameters, lr=0.05, momentum=0.9)

    def step(x, rows, columns, tokens):
        given = dict(state, x=x, rows=rows, columns=columns, tokens=tokens)  # a new dict: changing state would be a side effect
        optimizer.zero_grad()
        choices = random.Random(seed)  # the same numbers on every call
        h = x * 1.0
        for index in operations:
            h = MENU[index](h, given, choices)
        loss = (h * h).mean() + (state["weight"] * state["weight"]).sum() * 1e-3
        loss.backward()
        nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        return loss

    return step, parameters, operations


def inputs(generator):
    return (
        chainrule.tensor(generator.normal(size=(4, 3)).astype(np.float32)),
        chainrule.tensor(generator.integers(0, 4, 4)),
        chainrule.tensor(generator.integers(0, 3, (4, 3))),
        chainrule.tensor(generator.integers(0, 5, 4)),
    )


def run(seed, compile_it):
    step, parameters, operations = make_step(seed)
    run_step = chainrule.compile(step) if compile_it else step
    RUNS[seed, compile_it] = run_step
    generator = np.random.default_rng(seed)
    losses = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for call in range(3):
            chainrule.manual_seed(100 + call)  # dropout draws the same masks in both runs
            losses.append(run_step(*inputs(generator)).item())
    fell_back = [str(warning.message) for warning in caught if "chainrule.compile" in str(warning.message)]
    return losses, [parameter.detach().numpy().copy() for parameter in parameters], fell_back, operations


@pytest.mark.parametrize("seed", range(60))
def test_a_random_compiled_step_gives_the_eager_results_bit_for_bit(seed):
    eager_losses, eager_parameters, _, operations = run(seed, False)
    losses, parameters, fell_back, _ = run(seed, True)
    assert losses == eager_losses, (operations, fell_back)
    for ours, theirs in zip(parameters, eager_parameters):
        np.testing.assert_array_equal(ours, theirs)


def test_most_random_steps_record_and_some_roll():
    """The menu is one a compiled step records (the comparison above is not between two eager runs),
    and some steps repeat lines enough to be rolled into loops."""
    recorded = sum(not run(seed, True)[2] for seed in range(60))
    rolled = sum("rolled" in RUNS[seed, True].code for seed in range(60))
    assert recorded >= 54 and rolled >= 5
