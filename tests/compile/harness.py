"""The harness the adversarial compile suites share: each test runs the same calls from the same seed
eagerly and compiled, and compares bit for bit what each call
returns or raises, the module structure, parameters (names, values, dtypes, grads, requires_grad),
buffers, state_dict keys, optimizer state, what ``observe`` lists and the random stream after each
call. A compiled run may record anew or fall back to eager with at most one warning.
"""
import warnings

import numpy as np

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.random import default_generator
from tests.compile.bitwise import assert_identical


def arr(t):
    return np.array(t.detach().numpy(), copy=True)


def snap(value):
    if isinstance(value, chainrule.Tensor):
        return ("tensor", str(value.dtype), arr(value))
    if isinstance(value, (list, tuple)):
        return tuple(snap(v) for v in value)
    if isinstance(value, dict):
        return {k: snap(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return np.asarray(value)
    if isinstance(value, nn.Module):
        return module_state(value)
    return value


def module_state(model):
    return {
        "modules": [(name, type(m).__name__, bool(m.training)) for name, m in model.named_modules()],
        "params": [(name, str(p.dtype), bool(p.requires_grad), arr(p), None if p.grad is None else arr(p.grad))
                   for name, p in model.named_parameters()],
        "buffers": [(name, str(b.dtype), arr(b)) for name, b in model.named_buffers()],
        "state_dict": list(model.state_dict().keys()),
    }


def observe(objects):
    out = []
    for thing in objects:
        if isinstance(thing, optim.Optimizer):
            out.append([{k: snap(v) for k, v in s.items()} for s in thing.state.values()])
        else:
            out.append(snap(thing))
    return out


class Case:
    def __init__(self, step, observe, inputs=None, before=None):
        self.step, self.observe = step, observe
        self.inputs = inputs or default_inputs
        self.before = before or (lambda i: None)


def default_inputs(i):
    g = np.random.default_rng(100 + i)
    return (chainrule.tensor(g.standard_normal((4, 3))), chainrule.tensor(g.standard_normal((4, 2))))


def run(compiled, setup, calls):
    chainrule.manual_seed(0)
    case = setup()
    function = chainrule.compile(case.step) if compiled else case.step
    history = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            case.before(i)
            args = case.inputs(i)
            try:
                result = function(*args)
                history.append(("ok", snap(result)))
            except Exception as error:  # compared: type and message
                history.append(("raised", type(error).__name__, str(error)))
            history.append(observe(case.observe()))
    history.append(("random", default_generator.state_bytes()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages


def same_as_eager(setup, calls=6):
    eager, eager_messages = run(False, setup, calls)
    compiled, messages = run(True, setup, calls)
    assert not eager_messages
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages
    return messages


def lin(i=3, o=2):
    return nn.Linear(i, o).double()


def train_step(net, opt):
    def step(x, y, *extra):
        opt.zero_grad()
        loss = F.mse_loss(net(x, *extra), y)
        loss.backward()
        opt.step()
        return loss
    return step


def with_extra(values):
    return lambda i: default_inputs(i) + (values[i % len(values)],)
