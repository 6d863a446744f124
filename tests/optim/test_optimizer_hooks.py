"""Optimizer hooks as PyTorch's: around step (per optimizer and for every optimizer), around
state_dict and load_state_dict; each scenario runs in both libraries and must leave the same record."""
import importlib

import numpy as np
import pytest
import torch

import chainrule


def scenario(lib):
    global_hooks = importlib.import_module(f"{lib.__name__}.optim.optimizer")  # register_optimizer_step_*_hook
    parameter = lib.nn.Parameter(lib.ones(2))
    optimizer = lib.optim.Adam([parameter], lr=0.1)
    events = []

    def pre(opt, args, kwargs):
        events.append(("pre", args[0] is opt, len(args), sorted(kwargs)))

    def replace(opt, args, kwargs):
        events.append(("replace",))
        return args, kwargs

    handles = [
        optimizer.register_step_pre_hook(pre),
        optimizer.register_step_pre_hook(replace),
        optimizer.register_step_post_hook(lambda opt, args, kwargs: events.append(("post",))),
        global_hooks.register_optimizer_step_pre_hook(lambda opt, args, kwargs: events.append(("global pre",))),
        global_hooks.register_optimizer_step_post_hook(lambda opt, args, kwargs: events.append(("global post",))),
    ]
    try:
        parameter.grad = lib.ones(2)
        optimizer.step()
    finally:
        for handle in handles[3:]:
            handle.remove()
    optimizer.register_state_dict_pre_hook(lambda opt: events.append(("state pre",)))
    optimizer.register_state_dict_post_hook(lambda opt, state: events.append(("state post", sorted(state))))
    optimizer.register_state_dict_post_hook(lambda opt, state: events.append(("first",)), prepend=True)
    state = optimizer.state_dict()

    def lower_rate(opt, state):
        events.append(("load pre", sorted(state)))
        state["param_groups"] = [dict(group, lr=0.01) for group in state["param_groups"]]
        return state

    optimizer.register_load_state_dict_pre_hook(lower_rate)
    optimizer.register_load_state_dict_post_hook(lambda opt: events.append(("load post", opt.param_groups[0]["lr"])))
    optimizer.load_state_dict(state)
    events.append(("caller's state untouched", state["param_groups"][0]["lr"]))
    handles[0].remove()
    optimizer.step()
    return events


def test_step_and_state_dict_hooks_run_as_in_pytorch():
    assert scenario(chainrule) == scenario(torch)


def test_a_step_pre_hook_must_return_args_and_kwargs():
    parameter = chainrule.nn.Parameter(chainrule.ones(2))
    optimizer = chainrule.optim.SGD([parameter], lr=0.1)
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: args)
    parameter.grad = chainrule.ones(2)
    with pytest.raises(RuntimeError, match="tuple of \\(new_args, new_kwargs\\)"):
        optimizer.step()


def test_a_hook_registered_after_a_step_was_compiled_runs_in_the_replays():
    """The compiled program updates each parameter itself only while no step hook is registered."""
    model = chainrule.nn.Linear(2, 1)
    optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)

    @chainrule.compile
    def step(x):
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()

    x = chainrule.ones(4, 2)
    step(x)
    step(x)
    steps = []
    optimizer.register_step_post_hook(lambda opt, args, kwargs: steps.append(1))
    step(x)
    step(x)
    assert steps == [1, 1]


def test_a_custom_optimizer_s_own_step_runs_between_the_hooks():
    class Halve(chainrule.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {})

        def step(self, closure=None):
            for group in self.param_groups:
                for param in group["params"]:
                    param._array *= 0.5

    parameter = chainrule.nn.Parameter(chainrule.ones(2))
    optimizer = Halve([parameter])
    seen = []
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: seen.append(float(parameter.sum())))
    optimizer.step()
    assert seen == [2.0] and np.array_equal(parameter._array, [0.5, 0.5])
