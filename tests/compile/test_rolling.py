"""Rolling repeated lines into loops: a rolled program makes the same calls, with the same
arguments, in the same order as the straight-line one, and leaves the same values to the lines after
the run; where that would not hold, the lines stay straight."""
import random
import re
import sys

import numpy as np
import pytest

import chainrule

rolling = sys.modules["chainrule.compile.rolling"]


def chain(x, length, factors=None):
    y = x
    for index in range(length // 2):
        y = y * (0.9999 if factors is None else factors[index])
        y = y + 0.0001
    return y


def test_a_long_chain_is_rolled_and_replays_bit_for_bit():
    def build_and_backward(x):
        chain(x, 400).sum().backward()
        return x.grad

    compiled = chainrule.compile(build_and_backward)
    for value in (0.5, -1.25, 3.0):
        eager_x = chainrule.tensor([value, 2 * value], requires_grad=True)
        compiled_x = chainrule.tensor([value, 2 * value], requires_grad=True)
        np.testing.assert_array_equal(compiled(compiled_x).numpy(), build_and_backward(eager_x).numpy())
    code = compiled.code
    assert code.count("\n") < 30, code
    assert "for ctx_0 in rolled_1:  # 200 repetitions of the next 3 lines, rolled" in code
    assert "for ctx_0 in rolled_2:  # 200 repetitions of the next 3 lines, rolled" in code  # backward
    assert "v = " not in code  # every name is a program's name


def test_constants_that_change_along_the_chain_are_iterated_over():
    factors = [1.0 + index / 1000 for index in range(50)]

    def forward(x):
        return chain(x, 100, factors)

    compiled = chainrule.compile(forward)
    x = chainrule.tensor([0.25, 0.5])
    for _ in range(2):
        np.testing.assert_array_equal(compiled(x).numpy(), forward(x).numpy())
    assert "for constant_0 in rolled_1:  # 50 repetitions of the next 2 lines, rolled" in compiled.code
    assert re.search(r"v\d+ = v\d+ \* constant_0  # Mul:", compiled.code)  # written in, as on arrays by hand
    assert "ctx" not in compiled.code  # no backward: no contexts


def test_a_value_read_from_the_middle_of_the_run_keeps_it_straight():
    def forward(x):
        middle = chain(x, 60)
        end = chain(middle, 60)
        return end + middle  # middle is made by an early repetition of the whole run

    compiled = chainrule.compile(forward)
    x = chainrule.tensor([0.75])
    for _ in range(2):
        np.testing.assert_array_equal(compiled(x).numpy(), forward(x).numpy())


def test_lines_that_differ_in_a_number_written_out_are_not_one_line():
    def forward(x):
        h = x[0]
        for step in range(1, 40):
            h = (h * 0.5 + x[step]).tanh()  # x[step]: the index is written into each line
        return h

    compiled = chainrule.compile(forward)
    x = chainrule.tensor(np.linspace(-1, 1, 40, dtype=np.float32))
    for _ in range(2):
        np.testing.assert_array_equal(compiled(x).numpy(), forward(x).numpy())


# ----------------------------------------------------------------------------- random programs
class Calls:
    """The operations of a synthetic program: each call is logged, and returns a new value."""

    def __init__(self):
        self.log = []

    def __call__(self, *args):
        self.log.append(args)
        return len(self.log)


def random_program(generator):
    """Straight-line lines ``(indent, code, comment)`` with repeated groups: each group line reads
    values of its own repetition, the one before, two before, or from before the run, and the lines
    after read values of the last or an earlier repetition."""
    constants = {"op": Calls()}
    lines, values = [(1, "v0 = op(0)", None)], ["v0"]
    number = 1
    for _ in range(generator.randint(1, 3)):
        period = generator.randint(1, 4)
        repeats = generator.randint(rolling.MIN_REPEATS - 2, rolling.MIN_REPEATS + 6)
        pattern = [[generator.choice(["this"] * 3 + ["previous"] * 3 + ["before"] * 2 + ["two back"]) for _ in range(generator.randint(1, 2))] for _ in range(period)]
        varying_context = generator.random() < 0.7
        made = []  # per repetition, the names of its lines
        before = values[-1]
        for repetition in range(repeats):
            made.append([])
            for line, reads in enumerate(pattern):
                arguments = []
                for read in reads:
                    if read == "this" and line > 0:
                        arguments.append(made[repetition][line - 1])
                    elif read == "previous" and repetition > 0:
                        arguments.append(made[repetition - 1][-1])
                    elif read == "two back" and repetition > 1:
                        arguments.append(made[repetition - 2][line])
                    else:
                        arguments.append(before)
                context = f"ctx{number}" if varying_context else "ctx_shared"
                constants[context] = (context,)
                name = f"v{number + 1}"
                number += 2
                lines.append((1, f"{name} = op({context}, {', '.join(arguments)})", f"line {name}"))
                made[repetition].append(name)
                values.append(name)
        for _ in range(generator.randint(0, 2)):  # the lines after the run read some value of it
            chosen = made[generator.choice([-1, -1, -1, 0, repeats // 2])][generator.randrange(period)]
            lines.append((1, f"v{number} = op({chosen}, 2.5, 'v7 is a string')", None))
            values.append(f"v{number}")
            number += 1
    lines.append((1, f"return {values[-1]}", None))
    return lines, constants


def run(lines, constants):
    source = "def program():\n" + "".join("    " * indent + code + "\n" for indent, code, _ in lines)
    namespace = dict(constants)
    exec(source, namespace)  # noqa: S102
    return namespace["program"](), constants["op"].log


@pytest.mark.parametrize("seed", range(60))
def test_a_rolled_random_program_makes_the_same_calls(seed):
    generator = random.Random(seed)
    lines, constants = random_program(generator)
    straight_result, straight_calls = run(lines, dict(constants, op=Calls()))
    rolled_constants = dict(constants, op=Calls())
    rolled = rolling.roll(lines, rolled_constants)
    rolled_result, rolled_calls = run(rolled, rolled_constants)
    assert rolled_calls == straight_calls
    assert rolled_result == straight_result


def test_random_programs_do_get_rolled():
    """The random programs above are not all left straight (the test would then prove nothing)."""
    rolled = 0
    for seed in range(60):
        lines, constants = random_program(random.Random(seed))
        rolled += len(rolling.roll(lines, dict(constants))) < len(lines)
    assert rolled >= 15


def test_an_unrolled_recurrent_step_with_shared_weights_rolls_forward_and_backward():
    """40 steps of one cell: the forward's lines repeat, and the backward's (the shared weights'
    gradients summed in each repetition, in a group that starts one line into the run)."""
    results = []
    for compile_it in (False, True):
        chainrule.manual_seed(0)
        cell, head = chainrule.nn.Linear(8, 8), chainrule.nn.Linear(8, 1)
        optimizer = chainrule.optim.SGD([*cell.parameters(), *head.parameters()], lr=0.05)

        def step(state, target):
            optimizer.zero_grad()
            for _ in range(40):
                state = chainrule.tanh(cell(state)) + 0.1 * state
            loss = ((head(state) - target) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss

        run = chainrule.compile(step) if compile_it else step
        generator = np.random.default_rng(0)
        losses = [
            run(chainrule.tensor(generator.normal(size=(3, 8)).astype(np.float32)), chainrule.tensor(generator.normal(size=(3, 1)).astype(np.float32))).item()
            for _ in range(3)
        ]
        results.append((losses, [p.detach().numpy().copy() for p in [*cell.parameters(), *head.parameters()]], run))
    (eager, eager_params, _), (compiled, params, run) = results
    assert compiled == eager and all(np.array_equal(a, b) for a, b in zip(params, eager_params))
    assert "39 repetitions of the next" in run.code and "37 repetitions of the next" in run.code
    assert run.code.count("\n") < 200, run.code
