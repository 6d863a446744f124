"""A recorded program passes what forward keeps for backward in locals, where that is certain."""
import re

import numpy as np

import chainrule
from chainrule.compile.context_locals import as_locals

CONSTANTS = {"ctx1": object(), "ctx2": object(), "spread": object()}


def _code(lines):
    """``as_locals`` of lines written with their indents (4 spaces a level), written back alike."""
    program = [(1 + (len(line) - len(line.lstrip())) // 4, line.lstrip(), None) for line in lines]
    return ["    " * (indent - 1) + code for indent, code, _ in as_locals(program, dict(CONSTANTS))]


def test_a_context_attribute_written_once_then_read_becomes_a_local():
    code = _code(["ctx1.saved_tensors = (x0, p1)", "v2 = x0 @ p1", "v3, v4 = ctx1.saved_tensors", "g5 = v3 if ctx1.keep else v4"])
    assert code == ["ctx1_saved_tensors = (x0, p1)", "v2 = x0 @ p1", "v3, v4 = ctx1_saved_tensors", "g5 = v3 if ctx1.keep else v4"]


def test_a_context_handed_to_a_function_keeps_its_attributes():
    lines = ["ctx1.shift = v0.max()", "v2 = spread(ctx1, v0)", "v3 = v0 - ctx1.shift"]
    assert _code(lines) == lines


def test_attributes_that_may_not_be_locals_stay_attributes():
    cases = [
        ["if v0.ndim:", "    ctx1.a = v0", "v2 = ctx1.a"],  # written in a branch
        ["v2 = ctx1.a", "ctx1.a = v0", "v3 = ctx1.a"],  # read before it is written (the last call's value)
        ["ctx1.a = v0", "ctx1.a = v2", "v3 = ctx1.a"],  # written twice
        ["ctx1.a, v2 = (v0, v0)", "v3 = ctx1.a"],  # one target among others
        ["ctx1.a = v0", "ctx1.a += v0", "v3 = ctx1.a"],  # changed in place
        ["ctx1.a = ctx1.a + v0", "v3 = ctx1.a"],  # reads its old value
    ]
    for lines in cases:
        assert _code(lines) == lines, lines


def test_a_program_with_rolled_loops_is_left_as_it_is():
    lines = [(1, "ctx1.a = v0", None), (1, "v2 = ctx1.a", None)]
    assert as_locals(lines, dict(CONSTANTS, rolled_3=[])) == lines


def test_a_compiled_training_step_keeps_linear_and_relu_values_in_locals_with_eager_results():
    def make():
        chainrule.manual_seed(0)
        model = chainrule.nn.Sequential(chainrule.nn.Linear(4, 8), chainrule.nn.ReLU(), chainrule.nn.Linear(8, 3))
        return model, chainrule.optim.SGD(model.parameters(), lr=0.1)

    data = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    inputs, targets = chainrule.tensor(data), chainrule.tensor(np.arange(16) % 3)
    results = []
    for compiled in (False, True):
        model, optimizer = make()

        def step(x, y):
            loss = chainrule.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            return loss

        run = chainrule.compile(step) if compiled else step
        losses = [run(inputs, targets).item() for _ in range(4)]
        results.append((losses, [p.detach().numpy().copy() for p in model.parameters()]))
    assert results[0][0] == results[1][0]
    for eager, replayed in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(eager, replayed)
    code = run.code
    assert re.search(r"ctx\d+_saved_tensors = \(", code) and not re.search(r"ctx\d+\.saved_tensors = \(x", code)


def test_a_with_block_is_no_branch():
    assert _code(["with plain_backward():", "    ctx2.a = v0", "v3 = ctx2.a"]) == ["with plain_backward():", "    ctx2_a = v0", "v3 = ctx2_a"]
