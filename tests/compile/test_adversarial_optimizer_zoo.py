"""chainrule.compile against eager execution for every optimizer and scheduler in chainrule.optim
with unusual settings, inside or around a compiled training step: maximize, weight decay, amsgrad,
nesterov, tensor learning rates and betas changed in place, LBFGS closures, several param groups,
gradients that are None in some steps, groups added or changed between calls, state cleared or
reloaded, every scheduler stepped inside or outside the step, SWA/EMA averaging and clipping.

Each scenario runs from the same seed twice, eagerly and compiled, and everything it logs
(returned values, parameters, grads, optimizer and scheduler state dicts, last learning rates)
must be equal bit for bit. A compiled run may fall back to eager (one warning per compiled
function), never give another result.
"""
import math
import os
import warnings

import numpy as np
import pytest

import chainrule
import chainrule as torch
from chainrule import nn
from chainrule.optim import lr_scheduler as S
from tests.compile.bitwise import assert_identical

CALLS = 7


def npy(value):
    if isinstance(value, chainrule.Tensor):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, dict):
        return {key: npy(item) for key, item in value.items()}
    if callable(value) or isinstance(value, (torch.optim.Optimizer, S.LRScheduler)):
        return f"<{type(value).__name__}>"
    if isinstance(value, (list, tuple)):
        return type(value)(npy(item) for item in value)
    return value


class Log:
    def __init__(self):
        self.entries = []

    def add(self, kind, value):
        self.entries.append((kind, npy(value)))

    def model(self, module):
        self.add("params", {n: p for n, p in module.named_parameters()})
        self.add("grads", {n: p.grad for n, p in module.named_parameters()})

    def opt(self, optimizer):
        self.add("opt", optimizer.state_dict())

    def sched(self, scheduler):
        self.add("sched", scheduler.state_dict())
        self.add("last_lr", scheduler.get_last_lr())


def run(loop, compiled):
    made = []

    def compile_(function, **kwargs):
        made.append(torch.compile(function, **kwargs))
        return made[-1]

    torch.manual_seed(0)
    log = Log()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            loop(compile_ if compiled else (lambda function, **kwargs: function), log)
        except Exception as error:  # eager's error must be compiled's too
            log.entries.append(("raised", f"{type(error).__name__}: {error}"))
    log.entries.append(("random", chainrule.default_generator.state_bytes()))
    log.entries.append(("warnings", [f"{w.category.__name__}: {w.message}" for w in caught if "chainrule.compile" not in str(w.message)]))
    return log.entries, made, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]


def check(loop, replays=None):
    """Compiled logs what eager does. ``replays=True``: no fall-back allowed and some call replayed."""
    eager, _, eager_warned = run(loop, False)
    compiled, made, warned = run(loop, True)
    assert not eager_warned, eager_warned
    if os.environ.get("ZOO_VERBOSE") and eager[-1][1]:
        print("\nZOO eager warnings", eager[-1][1])
    assert [k for k, _ in compiled] == [k for k, _ in eager], "the loops logged different things"
    for index, ((kind, first), (_, second)) in enumerate(zip(eager, compiled)):
        assert_identical(second, first, f"entry {index} ({kind})")
    assert len(warned) <= len(made), warned
    if os.environ.get("ZOO_VERBOSE"):
        print("\nZOO", warned, [getattr(f, "eager_reason", None) for f in made])
    if replays:
        assert warned == [], warned
    return made, warned


def data(n=6, d=3):
    g = np.random.default_rng(5)
    return torch.tensor(g.normal(size=(n, d)).astype(np.float32)), torch.tensor(g.normal(size=(n, 2)).astype(np.float32))


def mlp(d=3, h=5, o=2):
    return nn.Sequential(nn.Linear(d, h), nn.Tanh(), nn.Linear(h, o))


def simple_loop(make_opt, make_sched=None, sched_inside=True, calls=CALLS, clip=None, plateau=False):
    def loop(compile, log):
        model = mlp()
        opt = make_opt(model)
        sched = make_sched(opt) if make_sched else None
        x, y = data()

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            if clip == "norm":
                nn.utils.clip_grad_norm_(model.parameters(), 0.05)
            elif clip == "value":
                nn.utils.clip_grad_value_(model.parameters(), 0.01)
            opt.step()
            if sched is not None and sched_inside and not plateau:
                sched.step()
            return loss

        step = compile(step)
        for i in range(calls):
            loss = step(x, y)
            log.add("loss", loss)
            if sched is not None and not sched_inside:
                if plateau:
                    sched.step(float(loss.item()) * 0 + 1.0)
                else:
                    sched.step()
            log.model(model)
            log.opt(opt)
            if sched is not None:
                log.sched(sched)
    return loop


O = torch.optim
OPTIMIZERS = {
    "sgd_nesterov_wd_max": lambda m: O.SGD(m.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True),
    "sgd_dampening": lambda m: O.SGD(m.parameters(), lr=0.05, momentum=0.8, dampening=0.3, foreach=True),
    "sgd_fused": lambda m: O.SGD(m.parameters(), lr=0.05, momentum=0.5, fused=False, foreach=False),
    "adam_amsgrad_max_wd": lambda m: O.Adam(m.parameters(), lr=0.01, amsgrad=True, maximize=True, weight_decay=0.05),
    "adam_decoupled": lambda m: O.Adam(m.parameters(), lr=0.01, weight_decay=0.05, decoupled_weight_decay=True, foreach=True),
    "adamw_amsgrad": lambda m: O.AdamW(m.parameters(), lr=0.01, amsgrad=True, weight_decay=0.3, betas=(0.5, 0.6)),
    "rmsprop_centered_momentum": lambda m: O.RMSprop(m.parameters(), lr=0.01, centered=True, momentum=0.7, weight_decay=0.01, maximize=True),
    "rprop": lambda m: O.Rprop(m.parameters(), lr=0.01, etas=(0.3, 1.5), step_sizes=(1e-4, 0.02), maximize=True),
    "asgd": lambda m: O.ASGD(m.parameters(), lr=0.01, lambd=0.1, alpha=0.5, t0=2, weight_decay=0.1),
    "nadam_decoupled": lambda m: O.NAdam(m.parameters(), lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.1),
    "nadam_max": lambda m: O.NAdam(m.parameters(), lr=0.01, weight_decay=0.1, maximize=True),
    "radam_decoupled": lambda m: O.RAdam(m.parameters(), lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, betas=(0.5, 0.6)),
    "radam_coupled_max": lambda m: O.RAdam(m.parameters(), lr=0.01, weight_decay=0.1, maximize=True, betas=(0.3, 0.4)),
    "adamax": lambda m: O.Adamax(m.parameters(), lr=0.01, weight_decay=0.1, maximize=True),
    "adagrad": lambda m: O.Adagrad(m.parameters(), lr=0.05, lr_decay=0.1, initial_accumulator_value=0.2, weight_decay=0.1, maximize=True),
    "adadelta": lambda m: O.Adadelta(m.parameters(), lr=0.5, rho=0.5, weight_decay=0.1, maximize=True),
    "adafactor": lambda m: O.Adafactor(m.parameters(), lr=0.01, weight_decay=0.1, maximize=True, beta2_decay=-0.5),
    "muon": lambda m: O.Muon([p for p in m.parameters() if p.dim() == 2], lr=0.01, momentum=0.8, nesterov=False),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_unusual_settings(name):
    check(simple_loop(OPTIMIZERS[name]))


def sgd_m(m):
    return O.SGD(m.parameters(), lr=0.05, momentum=0.9)


def adam_two_groups(m):
    return O.Adam([{"params": m[0].parameters()}, {"params": m[2].parameters(), "lr": 0.02, "betas": (0.8, 0.9)}], lr=0.01)


SCHEDULERS = {
    "step": (sgd_m, lambda o: S.StepLR(o, step_size=2, gamma=0.5)),
    "multistep": (sgd_m, lambda o: S.MultiStepLR(o, milestones=[1, 3, 3, 5], gamma=0.3)),
    "exponential": (sgd_m, lambda o: S.ExponentialLR(o, gamma=0.7)),
    "cosine": (sgd_m, lambda o: S.CosineAnnealingLR(o, T_max=3, eta_min=0.001)),
    "warm_restarts": (sgd_m, lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2, eta_min=0.002)),
    "cyclic_momentum": (sgd_m, lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2, step_size_down=1, mode="exp_range", gamma=0.9)),
    "cyclic_triangular2_adam": (lambda m: O.Adam(m.parameters()), lambda o: S.CyclicLR(o, 0.001, 0.01, step_size_up=2, mode="triangular2", cycle_momentum=True)),
    "onecycle_three_phase": (sgd_m, lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=20, three_phase=True, anneal_strategy="linear")),
    "onecycle_adam_groups": (adam_two_groups, lambda o: S.OneCycleLR(o, max_lr=[0.05, 0.1], total_steps=10, pct_start=0.2)),
    "lambda": (adam_two_groups, lambda o: S.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e])),
    "multiplicative": (sgd_m, lambda o: S.MultiplicativeLR(o, lambda e: 0.8)),
    "linear": (sgd_m, lambda o: S.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=4)),
    "constant": (sgd_m, lambda o: S.ConstantLR(o, factor=0.2, total_iters=3)),
    "polynomial": (sgd_m, lambda o: S.PolynomialLR(o, total_iters=5, power=2.5)),
    "sequential": (sgd_m, lambda o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.5, total_iters=2), S.ExponentialLR(o, gamma=0.8)], milestones=[3])),
    "chained": (sgd_m, lambda o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=3), S.ExponentialLR(o, gamma=0.8)])),
    "swalr": (sgd_m, lambda o: torch.optim.swa_utils.SWALR(o, swa_lr=0.02, anneal_epochs=3, anneal_strategy="linear")),
}


@pytest.mark.parametrize("inside", [True, False], ids=["inside", "outside"])
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler(name, inside):
    make_opt, make_sched = SCHEDULERS[name]
    check(simple_loop(make_opt, make_sched, sched_inside=inside))


def test_reduce_on_plateau_outside():
    check(simple_loop(lambda m: O.SGD(m.parameters(), lr=0.1, momentum=0.9), lambda o: S.ReduceLROnPlateau(o, patience=0, factor=0.5, cooldown=1), sched_inside=False, plateau=True))


def test_reduce_on_plateau_inside_with_tensor_metric():
    def loop(compile, log):
        model = mlp()
        opt = O.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = S.ReduceLROnPlateau(opt, patience=0, factor=0.5, threshold=10.0)
        x, y = data()

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            sched.step(loss.detach())
            return loss

        step = compile(step)
        for _ in range(CALLS):
            log.add("loss", step(x, y))
            log.model(model)
            log.opt(opt)
            log.sched(sched)
    check(loop)


def warm_restarts_fractional(inside):
    def loop(compile, log):
        model = mlp()
        opt = O.SGD(model.parameters(), lr=0.1)
        sched = S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.001)
        x, y = data()

        def step(x, y, epoch):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            if inside:
                sched.step(epoch)
            return loss

        step = compile(step)
        for i in range(CALLS + 3):
            epoch = i * 0.75
            log.add("loss", step(x, y, epoch))
            if not inside:
                sched.step(epoch)
            log.model(model)
            log.sched(sched)
    return loop


@pytest.mark.parametrize("inside", [True, False])
def test_warm_restarts_fractional_epochs(inside):
    check(warm_restarts_fractional(inside))


TENSOR_LR_OPTS = {
    "sgd": lambda ps, lr: O.SGD(ps, lr=lr, momentum=0.9, nesterov=True),
    "adam": lambda ps, lr: O.Adam(ps, lr=lr, amsgrad=True),
    "adam_capturable_foreach": lambda ps, lr: O.Adam(ps, lr=lr, foreach=True, capturable=True),
    "adamw": lambda ps, lr: O.AdamW(ps, lr=lr),
    "rmsprop": lambda ps, lr: O.RMSprop(ps, lr=lr, centered=True),
    "adagrad": lambda ps, lr: O.Adagrad(ps, lr=lr, lr_decay=0.01),
    "adamax": lambda ps, lr: O.Adamax(ps, lr=lr),
    "nadam": lambda ps, lr: O.NAdam(ps, lr=lr),
    "radam": lambda ps, lr: O.RAdam(ps, lr=lr),
    "asgd": lambda ps, lr: O.ASGD(ps, lr=lr, t0=2),
    "rprop": lambda ps, lr: O.Rprop(ps, lr=lr),
    "adadelta": lambda ps, lr: O.Adadelta(ps, lr=lr),
    "adafactor": lambda ps, lr: O.Adafactor(ps, lr=lr),
}


def tensor_lr_loop(make, how, shape=()):
    def loop(compile, log):
        model = mlp()
        lr = torch.full(shape, 0.02)
        opt = make(model.parameters(), lr)
        sched = S.ExponentialLR(opt, gamma=0.8) if how.startswith("sched") else None
        x, y = data()

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            if how == "sched_inside":
                sched.step()
            return loss

        step = compile(step)
        for i in range(CALLS):
            log.add("loss", step(x, y))
            if how == "fill":
                with torch.no_grad():
                    opt.param_groups[0]["lr"].fill_(0.02 / (i + 2))
            elif how == "mul":
                with torch.no_grad():
                    opt.param_groups[0]["lr"].mul_(0.5)
            elif how == "sched_outside":
                sched.step()
            log.model(model)
            log.opt(opt)
            log.add("lr", opt.param_groups[0]["lr"])
            if sched is not None:
                log.sched(sched)
    return loop


@pytest.mark.parametrize("how", ["fill", "mul", "sched_inside", "sched_outside"])
@pytest.mark.parametrize("name", sorted(TENSOR_LR_OPTS))
def test_tensor_lr(name, how):
    check(tensor_lr_loop(TENSOR_LR_OPTS[name], how))


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_tensor_lr_one_element(name):
    check(tensor_lr_loop(TENSOR_LR_OPTS[name], "fill", shape=(1,)))


def test_tensor_lr_float64_and_tensor_betas_changed_in_place():
    def loop(compile, log):
        model = mlp()
        lr = torch.tensor(0.01, dtype=torch.float64)
        betas = (torch.tensor([0.9]), torch.tensor([0.99]))
        opt = O.Adam(model.parameters(), lr=lr, betas=betas, weight_decay=0.01)
        x, y = data()

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        step = compile(step)
        for i in range(CALLS):
            log.add("loss", step(x, y))
            with torch.no_grad():
                opt.param_groups[0]["betas"][0].fill_(0.9 - 0.1 * i)
                opt.param_groups[0]["lr"].mul_(1.5)
            log.model(model)
            log.opt(opt)
    check(loop)


def test_cyclic_momentum_with_tensor_betas():
    def loop(compile, log):
        model = mlp()
        opt = O.Adam(model.parameters(), lr=torch.tensor(0.01), betas=(torch.tensor(0.9), torch.tensor(0.999)))
        sched = S.OneCycleLR(opt, max_lr=0.05, total_steps=12, cycle_momentum=True, three_phase=True)
        x, y = data()

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            sched.step()
            return loss

        step = compile(step)
        for _ in range(CALLS):
            log.add("loss", step(x, y))
            log.model(model)
            log.opt(opt)
            log.sched(sched)
    check(loop)


def lbfgs_loop(line_search, compiled_closure, step_inside):
    def loop(compile, log):
        model = mlp()
        opt = O.LBFGS(model.parameters(), lr=0.5, max_iter=4, history_size=3, line_search_fn=line_search)
        x, y = data()

        def closure():
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            return loss

        if compiled_closure:
            closure = compile(closure)

        def step():
            return opt.step(closure)

        if step_inside:
            step = compile(step)
        for _ in range(CALLS):
            log.add("loss", step())
            log.model(model)
            log.opt(opt)
    return loop


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
@pytest.mark.parametrize("where", ["step", "closure", "both"])
def test_lbfgs(line_search, where):
    check(lbfgs_loop(line_search, where in ("closure", "both"), where in ("step", "both")))


def heads_loop(make_opt, flags, sched=None):
    """Two heads, the step picks one by a Python flag: the other's grad is None (or zero)."""
    def loop(compile, log):
        torch.manual_seed(1)
        model = nn.ModuleDict({"body": nn.Linear(3, 4), "a": nn.Linear(4, 2), "b": nn.Linear(4, 2)})
        opt = make_opt(model)
        x, y = data()
        state = {"head": "a"}

        def step(x, y):
            opt.zero_grad()
            out = model[state["head"]](torch.tanh(model["body"](x)))
            loss = ((out - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        step = compile(step)
        for flag in flags:
            state["head"] = flag
            log.add("loss", step(x, y))
            log.model(model)
            log.opt(opt)
    return loop


HEAD_OPTS = {
    "sgd_groups_frozen": lambda m: O.SGD([{"params": m["body"].parameters(), "lr": 0.1, "momentum": 0.9, "nesterov": True},
                                          {"params": m["a"].parameters(), "weight_decay": 0.1, "maximize": True},
                                          {"params": m["b"].parameters(), "lr": 0.0}], lr=0.05, momentum=0.5),
    "adam_groups": lambda m: O.Adam([{"params": m["body"].parameters(), "amsgrad": True},
                                     {"params": list(m["a"].parameters()) + list(m["b"].parameters()), "weight_decay": 0.2, "betas": (0.5, 0.7)}], lr=0.01),
    "rmsprop": lambda m: O.RMSprop(m.parameters(), lr=0.01, centered=True, momentum=0.5),
    "rprop": lambda m: O.Rprop(m.parameters(), lr=0.01),
    "asgd": lambda m: O.ASGD(m.parameters(), lr=0.01, t0=1),
    "adagrad": lambda m: O.Adagrad(m.parameters(), lr=0.01, lr_decay=0.5),
    "nadam": lambda m: O.NAdam(m.parameters(), lr=0.01),
    "radam": lambda m: O.RAdam(m.parameters(), lr=0.01, decoupled_weight_decay=True, weight_decay=0.1),
    "adadelta": lambda m: O.Adadelta(m.parameters()),
    "adamax": lambda m: O.Adamax(m.parameters()),
    "adafactor": lambda m: O.Adafactor(m.parameters()),
}


@pytest.mark.parametrize("name", sorted(HEAD_OPTS))
def test_grad_none_heads_switching(name):
    check(heads_loop(HEAD_OPTS[name], ["a", "a", "b", "a", "b", "b", "a", "a"]))


@pytest.mark.parametrize("name", ["sgd_groups_frozen", "adam_groups", "rprop"])
def test_set_to_none_false_heads(name):
    def make(m):
        opt = HEAD_OPTS[name](m)
        zero = opt.zero_grad
        opt.zero_grad = lambda set_to_none=True: zero(set_to_none=False)
        return opt
    check(heads_loop(make, ["a", "b", "a", "b", "a", "a", "b"]))


def mutate_loop(make_opt, mutate, calls=CALLS + 1, sched=None, extra=None):
    """A plain step; ``mutate(i, model, opt, extra)`` changes things between calls."""
    def loop(compile, log):
        model = mlp()
        extra_params = nn.Linear(2, 2)
        opt = make_opt(model)
        s = sched(opt) if sched else None
        x, y = data()

        def step(x, y):
            opt.zero_grad()
            loss = ((extra_params(model(x)) - y) ** 2).mean()
            loss.backward()
            opt.step()
            if s is not None:
                s.step()
            return loss

        step = compile(step)
        for i in range(calls):
            log.add("loss", step(x, y))
            log.model(model)
            log.model(extra_params)
            log.opt(opt)
            if s is not None:
                log.sched(s)
            mutate(i, model, opt, extra_params)
    return loop


def set_group(key, value, at=2, group=0):
    def mutate(i, model, opt, extra):
        if i == at:
            opt.param_groups[group][key] = value
    return mutate


MUTATIONS = {
    "sgd_momentum_0_to_09": (lambda m: O.SGD(m.parameters(), lr=0.05), set_group("momentum", 0.9)),
    "sgd_nesterov_on": (lambda m: O.SGD(m.parameters(), lr=0.05, momentum=0.5), set_group("nesterov", True)),
    "sgd_momentum_09_to_0": (lambda m: O.SGD(m.parameters(), lr=0.05, momentum=0.9), set_group("momentum", 0)),
    "sgd_maximize_on": (lambda m: O.SGD(m.parameters(), lr=0.05), set_group("maximize", True)),
    "adam_amsgrad_on": (lambda m: O.Adam(m.parameters(), lr=0.01), set_group("amsgrad", True)),
    "adam_amsgrad_off": (lambda m: O.Adam(m.parameters(), lr=0.01, amsgrad=True), set_group("amsgrad", False)),
    "adam_betas": (lambda m: O.Adam(m.parameters(), lr=0.01), set_group("betas", (0.5, 0.6))),
    "adam_weight_decay": (lambda m: O.Adam(m.parameters(), lr=0.01), set_group("weight_decay", 0.5)),
    "adam_eps": (lambda m: O.Adam(m.parameters(), lr=0.01), set_group("eps", 1e-2)),
    "adamw_decoupled_toggle": (lambda m: O.AdamW(m.parameters(), lr=0.01), set_group("weight_decay", 0.0)),
    "rmsprop_centered_on": (lambda m: O.RMSprop(m.parameters(), lr=0.01), set_group("centered", True)),
    "rmsprop_momentum_on": (lambda m: O.RMSprop(m.parameters(), lr=0.01), set_group("momentum", 0.5)),
    "rprop_etas": (lambda m: O.Rprop(m.parameters(), lr=0.01), set_group("etas", (0.1, 2.0))),
    "asgd_t0": (lambda m: O.ASGD(m.parameters(), lr=0.01), set_group("t0", 1)),
    "nadam_decoupled_on": (lambda m: O.NAdam(m.parameters(), lr=0.01, weight_decay=0.1), set_group("decoupled_weight_decay", True)),
    "radam_decoupled_on": (lambda m: O.RAdam(m.parameters(), lr=0.01, weight_decay=0.1), set_group("decoupled_weight_decay", True)),
    "adagrad_lr_decay": (lambda m: O.Adagrad(m.parameters(), lr=0.01), set_group("lr_decay", 0.3)),
    "adadelta_rho": (lambda m: O.Adadelta(m.parameters()), set_group("rho", 0.3)),
    "adafactor_d": (lambda m: O.Adafactor(m.parameters()), set_group("d", 0.2)),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_group_setting_changed_between_calls(name):
    make, mutate = MUTATIONS[name]
    check(mutate_loop(make, mutate))


def clear_state(i, model, opt, extra):
    if i == 2:
        opt.state.clear()


def state_pop_one(i, model, opt, extra):
    if i == 2:
        del opt.state[next(iter(model.parameters()))]


def roundtrip(i, model, opt, extra):
    if i in (1, 3):
        sd = opt.state_dict()
        opt.load_state_dict(sd)


def roundtrip_fresh_opt_not_used(i, model, opt, extra):
    if i == 2:
        with torch.no_grad():
            opt.state_dict()["state"][0]["exp_avg"].mul_(0.0)


def add_group(i, model, opt, extra):
    if i == 1:
        opt.param_groups[0]["params"] = list(model.parameters())
    if i == 2:
        opt.add_param_group({"params": extra.parameters(), "lr": 0.003})


def zero_state_in_place(i, model, opt, extra):
    if i == 2:
        with torch.no_grad():
            for st in opt.state.values():
                for k, v in st.items():
                    if isinstance(v, chainrule.Tensor) and k != "step":
                        v.zero_()


def replace_state_tensor(i, model, opt, extra):
    if i == 2:
        for st in opt.state.values():
            st["exp_avg"] = st["exp_avg"] * 0.5


STATE_CASES = {
    "adam_clear": (lambda m: O.Adam(m.parameters(), lr=0.01, amsgrad=True), clear_state),
    "sgd_clear": (lambda m: O.SGD(m.parameters(), lr=0.01, momentum=0.9), clear_state),
    "rprop_clear": (lambda m: O.Rprop(m.parameters()), clear_state),
    "asgd_clear": (lambda m: O.ASGD(m.parameters(), t0=1), clear_state),
    "adam_pop_one": (lambda m: O.Adam(m.parameters(), lr=0.01), state_pop_one),
    "adam_roundtrip": (lambda m: O.Adam(m.parameters(), lr=0.01), roundtrip),
    "nadam_roundtrip": (lambda m: O.NAdam(m.parameters(), lr=0.01), roundtrip),
    "rmsprop_roundtrip": (lambda m: O.RMSprop(m.parameters(), lr=0.01, centered=True, momentum=0.3), roundtrip),
    "adam_state_dict_inplace": (lambda m: O.Adam(m.parameters(), lr=0.01), roundtrip_fresh_opt_not_used),
    "adam_add_group": (lambda m: O.Adam([p for p in m.parameters()][:2], lr=0.01), add_group),
    "sgd_add_group": (lambda m: O.SGD([p for p in m.parameters()][:2], lr=0.01, momentum=0.9), add_group),
    "adam_zero_state": (lambda m: O.Adam(m.parameters(), lr=0.01), zero_state_in_place),
    "adam_replace_state": (lambda m: O.Adam(m.parameters(), lr=0.01), replace_state_tensor),
}


@pytest.mark.parametrize("name", sorted(STATE_CASES))
def test_state_changed_between_calls(name):
    make, mutate = STATE_CASES[name]
    check(mutate_loop(make, mutate))


def test_state_dict_loaded_into_fresh_optimizer_and_scheduler():
    def loop(compile, log):
        model = mlp()
        holder = {}
        holder["opt"] = O.Adam(model.parameters(), lr=0.01)
        holder["sched"] = S.StepLR(holder["opt"], 2, 0.5)
        x, y = data()

        def step(x, y):
            opt = holder["opt"]
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            holder["sched"].step()
            return loss

        step = compile(step)
        for i in range(CALLS):
            log.add("loss", step(x, y))
            log.model(model)
            log.opt(holder["opt"])
            log.sched(holder["sched"])
            if i == 2:
                osd, ssd = holder["opt"].state_dict(), holder["sched"].state_dict()
                holder["opt"] = O.Adam(model.parameters(), lr=0.5)
                holder["opt"].load_state_dict(osd)
                holder["sched"] = S.StepLR(holder["opt"], 2, 0.5)
                holder["sched"].load_state_dict(ssd)
    check(loop)


def sched_mutate_loop(make_opt, make_sched, mutate, inside=True, calls=CALLS + 2, read=None):
    def loop(compile, log):
        model = mlp()
        opt = make_opt(model)
        sched = make_sched(opt)
        x, y = data()

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            if read == "lr_before":
                loss = loss * (1 + opt.param_groups[0]["lr"])
            elif read == "last_lr_before":
                loss = loss + sched.get_last_lr()[0]
            loss.backward()
            opt.step()
            if inside:
                sched.step()
            if read == "lr_after":
                loss = loss + opt.param_groups[0]["lr"]
            elif read == "last_epoch_after":
                loss = loss + sched.last_epoch
            return loss

        step = compile(step)
        for i in range(calls):
            log.add("loss", step(x, y))
            if not inside:
                sched.step()
            log.model(model)
            log.opt(opt)
            log.sched(sched)
            mutate(i, opt, sched)
    return loop


def nothing(i, opt, sched):
    pass


def set_attr(name, value, at=2):
    def mutate(i, opt, sched):
        if i == at:
            setattr(sched, name, value)
    return mutate


def scale_base_lrs(i, opt, sched):
    if i == 2:
        sched.base_lrs = [lr * 3 for lr in sched.base_lrs]


def rewind(i, opt, sched):
    if i == 3:
        sched.last_epoch = 0


def set_lr(i, opt, sched):
    if i in (1, 4):
        opt.param_groups[0]["lr"] = 0.5 / (i + 1)


SCHED_MUTATIONS = {
    "step_gamma": (sgd_m, lambda o: S.StepLR(o, 1, 0.5), set_attr("gamma", 0.9)),
    "step_size": (sgd_m, lambda o: S.StepLR(o, 3, 0.5), set_attr("step_size", 1)),
    "exp_base_lrs": (sgd_m, lambda o: S.ExponentialLR(o, 0.9), scale_base_lrs),
    "cosine_base_lrs": (sgd_m, lambda o: S.CosineAnnealingLR(o, 4), scale_base_lrs),
    "cosine_rewind": (sgd_m, lambda o: S.CosineAnnealingLR(o, 4), rewind),
    "cosine_T_max": (sgd_m, lambda o: S.CosineAnnealingLR(o, 4), set_attr("T_max", 9)),
    "multistep_rewind": (sgd_m, lambda o: S.MultiStepLR(o, [2, 4]), rewind),
    "exp_set_lr": (sgd_m, lambda o: S.ExponentialLR(o, 0.9), set_lr),
    "linear_set_lr": (sgd_m, lambda o: S.LinearLR(o, 0.5, 1.0, 4), set_lr),
    "poly_power": (sgd_m, lambda o: S.PolynomialLR(o, 8, 1.0), set_attr("power", 3.0)),
    "cyclic_max_lrs": (sgd_m, lambda o: S.CyclicLR(o, 0.01, 0.1, 2), set_attr("max_lrs", [0.3])),
    "onecycle_total_short": (sgd_m, lambda o: S.OneCycleLR(o, 0.1, total_steps=4), nothing),
    "warm_restarts_T_i": (sgd_m, lambda o: S.CosineAnnealingWarmRestarts(o, 3), set_attr("T_i", 1)),
    "multiplicative_lambda_swapped": (sgd_m, lambda o: S.MultiplicativeLR(o, lambda e: 0.9), set_attr("lr_lambdas", [lambda e: 0.5])),
}


@pytest.mark.parametrize("inside", [True, False], ids=["inside", "outside"])
@pytest.mark.parametrize("name", sorted(SCHED_MUTATIONS))
def test_scheduler_changed_between_calls(name, inside):
    make_opt, make_sched, mutate = SCHED_MUTATIONS[name]
    check(sched_mutate_loop(make_opt, make_sched, mutate, inside=inside))


@pytest.mark.parametrize("read", ["lr_before", "last_lr_before", "lr_after", "last_epoch_after"])
@pytest.mark.parametrize("name", ["step_gamma", "cosine_rewind", "exp_set_lr", "cyclic_max_lrs"])
def test_scheduler_values_read_in_step(name, read):
    make_opt, make_sched, mutate = SCHED_MUTATIONS[name]
    check(sched_mutate_loop(make_opt, make_sched, mutate, read=read))


def test_scheduler_stepped_every_other_call_by_flag():
    def loop(compile, log):
        model = mlp()
        opt = O.Adam(model.parameters(), lr=0.02)
        sched = S.SequentialLR(opt, [S.LinearLR(opt, 0.2, 1.0, 2), S.CosineAnnealingLR(opt, 5)], milestones=[2])
        x, y = data()

        def step(x, y, do_sched):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            if do_sched:
                sched.step()
            return loss

        step = compile(step)
        for i in range(CALLS + 3):
            log.add("loss", step(x, y, i % 2 == 0))
            log.model(model)
            log.opt(opt)
            log.sched(sched)
    check(loop)


def test_two_schedulers_same_optimizer_and_closure_step():
    def loop(compile, log):
        model = mlp()
        opt = O.RMSprop(model.parameters(), lr=0.02, momentum=0.5)
        s1 = S.ExponentialLR(opt, 0.9)
        s2 = S.StepLR(opt, 2, 0.5)
        x, y = data()

        def step(x, y):
            def closure():
                opt.zero_grad()
                loss = ((model(x) - y) ** 2).mean()
                loss.backward()
                return loss
            loss = opt.step(closure)
            s1.step()
            s2.step()
            return loss

        step = compile(step)
        for _ in range(CALLS):
            log.add("loss", step(x, y))
            log.model(model)
            log.opt(opt)
            log.sched(s1)
            log.sched(s2)
    check(loop)


@pytest.mark.parametrize("clip", ["norm", "value"])
@pytest.mark.parametrize("name", ["adam_amsgrad_max_wd", "sgd_nesterov_wd_max", "rprop", "adafactor"])
def test_clipping_before_step(name, clip):
    check(simple_loop(OPTIMIZERS[name], lambda o: S.CosineAnnealingLR(o, 3), clip=clip))


def test_clip_norm_returned_and_foreach_and_nonfinite():
    def loop(compile, log):
        model = mlp()
        opt = O.SGD(model.parameters(), lr=0.05, momentum=0.9, foreach=True)
        x, y = data()

        def step(x, y, scale):
            opt.zero_grad()
            loss = ((model(x) * scale - y) ** 2).mean()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 0.1, norm_type=float("inf"), foreach=True)
            opt.step()
            return loss, norm

        step = compile(step)
        for i in range(CALLS):
            log.add("out", step(x, y, 1.0 if i != 4 else 1e30))
            log.model(model)
            log.opt(opt)
    check(loop)


SW = torch.optim.swa_utils


def swa_loop(avg, use_buffers, swalr_inside, bn_after):
    def loop(compile, log):
        model = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 2))
        kwargs = {"ema": dict(multi_avg_fn=SW.get_ema_multi_avg_fn(0.7)), "ema1": dict(avg_fn=SW.get_ema_avg_fn(0.6)),
                  "swa": {}, "swa_multi": dict(multi_avg_fn=SW.get_swa_multi_avg_fn())}[avg]
        averaged = SW.AveragedModel(model, use_buffers=use_buffers, **kwargs)
        opt = O.SGD(model.parameters(), lr=0.1, momentum=0.9)
        swa_sched = SW.SWALR(opt, swa_lr=0.03, anneal_epochs=3)
        x, y = data()

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            averaged.update_parameters(model)
            if swalr_inside:
                swa_sched.step()
            return loss, averaged(x)

        step = compile(step)
        for i in range(CALLS):
            log.add("out", step(x, y))
            if not swalr_inside:
                swa_sched.step()
            if bn_after and i % 3 == 2:
                SW.update_bn([x[:3], (x[3:],)], averaged)
            log.model(model)
            log.add("averaged", averaged.state_dict())
            log.opt(opt)
            log.sched(swa_sched)
    return loop


@pytest.mark.parametrize("avg", ["ema", "ema1", "swa", "swa_multi"])
@pytest.mark.parametrize("use_buffers", [False, True])
def test_swa_inside_step(avg, use_buffers):
    check(swa_loop(avg, use_buffers, swalr_inside=True, bn_after=False))


@pytest.mark.parametrize("avg", ["ema", "swa"])
def test_swa_update_bn_between_calls(avg):
    check(swa_loop(avg, False, swalr_inside=False, bn_after=True))


def test_update_parameters_outside_compiled_step():
    def loop(compile, log):
        model = mlp()
        ema = SW.AveragedModel(model, multi_avg_fn=SW.get_ema_multi_avg_fn(0.5))
        opt = O.NAdam(model.parameters(), lr=0.02, decoupled_weight_decay=True, weight_decay=0.1)
        x, y = data()

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        step = compile(step)
        ema_eval = compile(lambda x: ema(x))
        for _ in range(CALLS):
            log.add("loss", step(x, y))
            ema.update_parameters(model)
            log.add("ema_out", ema_eval(x))
            log.add("averaged", ema.state_dict())
            log.opt(opt)
    check(loop)


def test_lambda_reads_changing_global():
    box = {"scale": 1.0}
    state = [1.0]

    def loop(compile, log):
        box["scale"] = 1.0
        state[0] = 1.0
        model = mlp()
        opt = O.Adam(model.parameters(), lr=0.02)
        sched = S.LambdaLR(opt, lambda e: box["scale"] * 0.9 ** e)
        cyc = S.CyclicLR(O.SGD(nn.Linear(1, 1).parameters(), lr=0.1, momentum=0.9), 0.01, 0.1, 2, scale_fn=lambda c: state[0], scale_mode="iterations")
        x, y = data()

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            sched.step()
            cyc.step()
            return loss

        step = compile(step)
        for i in range(CALLS):
            log.add("loss", step(x, y))
            box["scale"] = 1.0 + i
            state[0] = 0.5 ** i
            log.model(model)
            log.opt(opt)
            log.sched(sched)
            log.sched(cyc)
            log.opt(cyc.optimizer)
    check(loop)


def test_float_lr_replaced_by_tensor_and_int_and_negative_zero():
    def loop(compile, log):
        model = mlp()
        opt = O.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01)
        x, y = data()

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        step = compile(step)
        values = [0.05, 0.0, -0.0, 1, torch.tensor(0.02), torch.tensor(0.03), 0.05, True]
        for v in values:
            opt.param_groups[0]["lr"] = v
            log.add("loss", step(x, y))
            log.model(model)
            log.opt(opt)
    check(loop)


def test_frozen_param_still_in_optimizer_and_grad_none_by_caller():
    def loop(compile, log):
        model = mlp()
        opt = O.Adam(model.parameters(), lr=0.02, weight_decay=0.1, amsgrad=True)
        x, y = data()
        params = list(model.parameters())

        def step(x, y):
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        step = compile(step)
        for i in range(CALLS + 1):
            if i == 2:
                params[0].requires_grad_(False)
            if i == 5:
                params[0].requires_grad_(True)
            log.add("loss", step(x, y))
            log.model(model)
            log.opt(opt)
            if i % 2:
                opt.zero_grad()
            else:
                params[1].grad = None
    check(loop)


def test_gradient_accumulation_step_every_k():
    def loop(compile, log):
        model = mlp()
        opt = O.RAdam(model.parameters(), lr=0.02, weight_decay=0.1)
        sched = S.OneCycleLR(opt, 0.05, total_steps=20, cycle_momentum=True)
        x, y = data()

        def step(x, y, do_step):
            loss = ((model(x) - y) ** 2).mean() / 2
            loss.backward()
            if do_step:
                nn.utils.clip_grad_norm_(model.parameters(), 0.5)
                opt.step()
                sched.step()
                opt.zero_grad()
            return loss

        step = compile(step)
        for i in range(CALLS * 2):
            log.add("loss", step(x, y, i % 2 == 1))
            log.model(model)
            log.opt(opt)
            log.sched(sched)
    check(loop)


@pytest.mark.parametrize("name", ["step", "cosine", "onecycle_three_phase", "cyclic_momentum"])
def test_scheduler_created_after_recording(name):
    make_opt, make_sched = SCHEDULERS[name]

    def loop(compile, log):
        model = mlp()
        opt = make_opt(model)
        x, y = data()
        holder = {}

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        step = compile(step)
        for i in range(CALLS):
            if i == 2:
                holder["sched"] = make_sched(opt)
            log.add("loss", step(x, y))
            if "sched" in holder:
                holder["sched"].step()
                log.sched(holder["sched"])
            log.model(model)
            log.opt(opt)
    check(loop)


def test_step_hooks_registered_between_calls():
    def loop(compile, log):
        model = mlp()
        opt = O.Adam(model.parameters(), lr=0.02)
        x, y = data()
        seen = []

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        def pre(o, args, kwargs):
            seen.append("pre")
            for p in model.parameters():
                p.grad.mul_(0.5)

        step = compile(step)
        handle = None
        for i in range(CALLS + 1):
            if i == 2:
                handle = opt.register_step_pre_hook(pre)
            if i == 4:
                handle.remove()
            if i == 5:
                h2 = torch.optim.optimizer.register_optimizer_step_post_hook(lambda o, a, k: seen.append("post"))
            log.add("loss", step(x, y))
            log.model(model)
            log.opt(opt)
            log.add("seen", list(seen))
        h2.remove()
    check(loop)


def test_minimal_opt_called_not_set_by_replay():
    """The smallest form of the bug above, checked directly on ``_opt_called``."""
    def loop(compile, log):
        w = nn.Parameter(torch.ones(3))
        opt = O.SGD([w], lr=0.1)

        def step(x):
            opt.zero_grad()
            (w * x).sum().backward()
            opt.step()

        step = compile(step)
        x = torch.ones(3)
        step(x)
        step(x)
        sched = S.StepLR(opt, 1)
        step(x)
        log.add("opt_called", opt._opt_called)
        sched.step()
    eager, _, _ = run(loop, False)
    compiled, _, _ = run(loop, True)
    assert eager[0] == ("opt_called", True)
    assert_identical(compiled, eager)


ZERO_GRADS = {
    "module_zero_grad": lambda m, o: m.zero_grad(),
    "module_zero_grad_false": lambda m, o: m.zero_grad(set_to_none=False),
    "opt_zero_grad_false": lambda m, o: o.zero_grad(False),
    "by_hand_none": lambda m, o: [setattr(p, "grad", None) for p in m.parameters()],
    "by_hand_zero_": lambda m, o: [p.grad.zero_() for p in m.parameters() if p.grad is not None],
}


@pytest.mark.parametrize("zg", sorted(ZERO_GRADS))
@pytest.mark.parametrize("opt_name", ["sgd_nesterov_wd_max", "adam_amsgrad_max_wd", "rprop", "asgd"])
def test_zero_grad_variants(zg, opt_name):
    def loop(compile, log):
        model = mlp()
        opt = OPTIMIZERS[opt_name](model)
        x, y = data()

        def step(x, y):
            ZERO_GRADS[zg](model, opt)
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        step = compile(step)
        for _ in range(CALLS):
            log.add("loss", step(x, y))
            log.model(model)
            log.opt(opt)
    check(loop)


def test_two_optimizers_sharing_parameters_and_two_schedulers():
    def loop(compile, log):
        model = mlp()
        o1 = O.Adam(model.parameters(), lr=0.01)
        o2 = O.SGD(model[2].parameters(), lr=0.05, momentum=0.9, nesterov=True)
        s1 = S.CyclicLR(o1, 0.001, 0.01, 2, cycle_momentum=False)
        s2 = S.CyclicLR(o2, 0.01, 0.1, 1, base_momentum=0.9, max_momentum=0.0)
        x, y = data()

        def step(x, y):
            o1.zero_grad()
            o2.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            o1.step()
            o2.step()
            s1.step()
            s2.step()
            return loss

        step = compile(step)
        for _ in range(CALLS + 2):
            log.add("loss", step(x, y))
            log.model(model)
            for t in (o1, o2, s1, s2):
                (log.opt if isinstance(t, O.Optimizer) else log.sched)(t)
    check(loop)


def test_cyclic_momentum_starting_at_zero_sgd():
    check(simple_loop(lambda m: O.SGD(m.parameters(), lr=0.05, momentum=0.5),
                      lambda o: S.CyclicLR(o, 0.01, 0.1, 2, base_momentum=0.9, max_momentum=0.0), calls=CALLS + 2))


def test_one_cycle_past_total_steps_state_after_error():
    def loop(compile, log):
        model = mlp()
        opt = O.Adam(model.parameters(), lr=0.01)
        sched = S.OneCycleLR(opt, 0.1, total_steps=3)
        x, y = data()

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            sched.step()
            return loss

        step = compile(step)
        for _ in range(CALLS):
            try:
                log.add("loss", step(x, y))
            except ValueError as error:
                log.add("error", str(error))
            log.model(model)
            log.opt(opt)
            log.sched(sched)
    check(loop)


def in_step_loop(body, make_opt=lambda m: O.Adam(m.parameters(), lr=0.02, weight_decay=0.01), calls=CALLS, tensor_lr=False):
    """``body(model, opt, loss)`` runs inside the step after backward, before/around opt.step()."""
    def loop(compile, log):
        model = mlp()
        opt = make_opt(model)
        if tensor_lr:
            for g in opt.param_groups:
                g["lr"] = torch.tensor(float(g["lr"]))
        x, y = data()

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            return body(model, opt, loss)

        step = compile(step)
        for _ in range(calls):
            log.add("out", step(x, y))
            log.model(model)
            log.opt(opt)
            log.add("lrs", [g["lr"] for g in opt.param_groups])
    return loop


def manual_decay(model, opt, loss):
    opt.step()
    for g in opt.param_groups:
        g["lr"] *= 0.9
    return loss


def manual_decay_before(model, opt, loss):
    for g in opt.param_groups:
        g["lr"] = g["lr"] * 0.5
    opt.step()
    return loss


def lr_from_loss(model, opt, loss):
    opt.param_groups[0]["lr"] = loss.detach() * 0.05
    opt.step()
    return loss


def tensor_lr_copy_from_loss(model, opt, loss):
    with torch.no_grad():
        opt.param_groups[0]["lr"].copy_(loss.detach() * 0.05)
    opt.step()
    return loss


def tensor_lr_mul_inside(model, opt, loss):
    opt.step()
    with torch.no_grad():
        opt.param_groups[0]["lr"].mul_(0.7)
    return loss


def read_state_after(model, opt, loss):
    opt.step()
    p = model[0].weight
    st = opt.state[p]
    return loss, st["exp_avg"].clone(), st["exp_avg_sq"] * 2, st["step"] + 0


def scale_state_before(model, opt, loss):
    p = model[0].weight
    if p in opt.state:
        with torch.no_grad():
            opt.state[p]["exp_avg"].mul_(0.5)
    opt.step()
    return loss


def add_group_once(model, opt, loss):
    if len(opt.param_groups) == 1:
        opt.add_param_group({"params": model[2].parameters(), "lr": 0.001})
    opt.step()
    return loss


def set_momentum_in_step(model, opt, loss):
    opt.param_groups[0]["betas"] = (0.5, opt.param_groups[0]["betas"][1])
    opt.step()
    return loss


def grad_scaled_by_lr(model, opt, loss):
    lr = opt.param_groups[0]["lr"]
    with torch.no_grad():
        for p in model.parameters():
            p.grad.mul_(1 / (1 + lr))
    opt.step()
    return loss


IN_STEP = {
    "manual_decay": (manual_decay, {}),
    "manual_decay_before": (manual_decay_before, {}),
    "manual_decay_tensor": (manual_decay, dict(tensor_lr=True)),
    "lr_from_loss": (lr_from_loss, {}),
    "tensor_lr_copy_from_loss": (tensor_lr_copy_from_loss, dict(tensor_lr=True)),
    "tensor_lr_mul_inside": (tensor_lr_mul_inside, dict(tensor_lr=True)),
    "read_state_after": (read_state_after, {}),
    "scale_state_before": (scale_state_before, {}),
    "add_group_once": (add_group_once, dict(make_opt=lambda m: O.Adam(m[0].parameters(), lr=0.02))),
    "set_betas_in_step": (set_momentum_in_step, {}),
    "grad_scaled_by_lr_tensor": (grad_scaled_by_lr, dict(tensor_lr=True)),
}




@pytest.mark.parametrize("name", sorted(IN_STEP))
def test_optimizer_changed_inside_step(name):
    body, kwargs = IN_STEP[name]
    check(in_step_loop(body, **kwargs))


def test_optimizer_over_argument_tensor():
    def loop(compile, log):
        w = torch.randn(3, 2, requires_grad=True)
        opt = O.RMSprop([w], lr=0.01, momentum=0.9, centered=True)
        x, y = data()

        def step(w, x, y):
            opt.zero_grad()
            loss = ((x @ w - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        step = compile(step)
        for _ in range(CALLS):
            log.add("loss", step(w, x, y))
            log.add("w", (w, w.grad))
            log.opt(opt)
    check(loop)


@pytest.mark.parametrize("variant", ["in", "len", "get"])
def test_minimal_branch_on_optimizer_state(variant):
    def loop(compile, log):
        w = nn.Parameter(torch.ones(3))
        opt = O.Adam([w], lr=0.1)
        x = torch.tensor([1.0, 2.0, 3.0])

        def step(x):
            opt.zero_grad()
            (w * x).sum().backward()
            if variant == "in":
                if w in opt.state:
                    opt.state[w]["exp_avg"].mul_(0.5)
            elif variant == "len":
                if len(opt.state) > 0:
                    opt.state[w]["exp_avg"].mul_(0.5)
            else:
                st = opt.state.get(w)
                if st:
                    st["exp_avg"].mul_(0.5)
            opt.step()

        step = compile(step)
        for _ in range(4):
            step(x)
            log.add("w", w)
    check(loop)


STATE_READS = {
    "state_dict_state": lambda w, opt: bool(opt.state_dict()["state"]),
    "key_in_state": lambda w, opt: "momentum_buffer" in opt.state[w],
    "items": lambda w, opt: len(list(opt.state.items())) > 0,
    "values": lambda w, opt: bool(list(opt.state.values())),
    "buffer_is_not_none": lambda w, opt: opt.state[w].get("momentum_buffer") is not None,
}


@pytest.mark.parametrize("read", sorted(STATE_READS))
def test_minimal_branch_on_sgd_state_read(read):
    def loop(compile, log):
        w = nn.Parameter(torch.ones(3))
        opt = O.SGD([w], lr=0.1, momentum=0.9)
        x = torch.tensor([1.0, 2.0, 3.0])

        def step(x):
            opt.zero_grad()
            loss = (w * x).sum()
            if STATE_READS[read](w, opt):
                loss = loss * 2
            loss.backward()
            opt.step()
            return loss

        step = compile(step)
        for _ in range(4):
            log.add("loss", step(x))
            log.add("w", w)
    check(loop)


def test_minimal_branch_on_opt_called():
    def loop(compile, log):
        w = nn.Parameter(torch.ones(3))
        opt = O.SGD([w], lr=0.1, momentum=0.9)
        sched = S.StepLR(opt, 100)
        x = torch.tensor([1.0, 2.0, 3.0])

        def step(x):
            opt.zero_grad()
            loss = (w * x).sum()
            if opt._opt_called:
                loss = loss * 2
            loss.backward()
            opt.step()
            sched.step()
            return loss

        step = compile(step)
        for _ in range(4):
            log.add("loss", step(x))
            log.add("w", w)
    check(loop)


class HandSGD(O.Optimizer):
    """A hand-written momentum SGD that branches on its own state, as course code does."""

    def __init__(self, params, lr=0.1, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if "buf" not in st:
                    st["buf"] = p.grad.clone()
                else:
                    st["buf"].mul_(g["momentum"]).add_(p.grad)
                p.add_(st["buf"], alpha=-g["lr"])


@pytest.mark.parametrize("variant", ["none", "clear", "del", "replace", "sched"])
def test_hand_written_optimizer_state_changed_by_caller(variant):
    def loop(compile, log):
        model = mlp()
        opt = HandSGD(model.parameters())
        sched = S.ExponentialLR(opt, 0.8) if variant == "sched" else None
        x, y = data()
        w = model[0].weight

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            return loss

        step = compile(step)
        for i in range(CALLS):
            if i == 3:
                if variant == "clear":
                    opt.state.clear()
                elif variant == "del":
                    del opt.state[w]["buf"]
                elif variant == "replace":
                    opt.state[w] = {"buf": torch.zeros(5, 3)}
            log.add("loss", step(x, y))
            log.model(model)
            log.opt(opt)
    check(loop)
