"""chainrule.compile against eager on OPTIMIZER SURGERY: code inside a compiled step (or between its
calls) that manipulates optimizer and scheduler objects rather than tensors: state cleared, deleted or
edited, load_state_dict inside the step, param groups added or their params lists mutated, group
settings changed, lr set by hand, optimizers and schedulers constructed inside the step, scheduler
load_state_dict, zero_grad variants, gradients set to None for some parameters, requires_grad toggled,
clipping thresholds changed, Lookahead and EMA wrappers, manual loss scaling, step(closure).

Each test runs the same calls from the same seed eagerly and compiled, and compares bit for
bit what each call returns or raises, parameters, grads, optimizer state and group settings, scheduler
rates, Python side effects and the random stream after each call.
"""
import copy

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.harness import Case, arr, same_as_eager, snap, train_step


def group_settings(opt):
    return [{k: snap(v) for k, v in g.items() if k not in ("params", "param_names")}
            | {"params": [(tuple(p.shape), arr(p)) for p in g["params"]]} for g in opt.param_groups]


def watch(*objects):
    """net, opt, ...: what observe compares, with the groups' settings and schedulers' rates too."""
    out = []
    for thing in objects:
        out.append(thing)
        if isinstance(thing, optim.Optimizer):
            out.append(group_settings(thing))
        elif isinstance(thing, optim.lr_scheduler.LRScheduler):
            out.pop()
            out.append(("sched", thing.last_epoch, [float(v) for v in thing.get_last_lr()]))
    return out


class MLP(nn.Module):
    def __init__(self, i=3, h=5, o=2, dtype=None):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(i, h), nn.Linear(h, o)
        if dtype != "float32":
            self.double()

    def forward(self, x):
        return self.fc2(chainrule.tanh(self.fc1(x)))


def inputs32(i):
    g = np.random.default_rng(200 + i)
    return (chainrule.tensor(g.standard_normal((4, 3)).astype(np.float32)),
            chainrule.tensor(g.standard_normal((4, 2)).astype(np.float32)))


def batch_inputs(sizes):
    def inputs(i):
        g = np.random.default_rng(300 + i)
        n = sizes[i % len(sizes)]
        return chainrule.tensor(g.standard_normal((n, 3))), chainrule.tensor(g.standard_normal((n, 2)))
    return inputs


# ----------------------------------------------------------------------------- state edited inside the step
def test_state_clear_every_call_adam():
    def setup():
        net = MLP()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            opt.state.clear()  # "reset the optimizer": a fresh Adam every batch
            return loss
        return Case(step, lambda: watch(net, opt))

    same_as_eager(setup)


def test_reptile_inner_optimizer_reset_by_load_state_dict():
    def setup():
        net = MLP()
        inner = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        fresh = copy.deepcopy(inner.state_dict())

        def step(x, y):
            inner.load_state_dict(fresh)
            for _ in range(2):
                inner.zero_grad()
                loss = F.mse_loss(net(x), y)
                loss.backward()
                inner.step()
            return loss
        return Case(step, lambda: watch(net, inner))

    same_as_eager(setup)


def test_del_state_of_one_parameter_inside_step():
    def setup():
        net = MLP()
        opt = optim.Adam(net.parameters(), lr=0.02)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            if net.fc2.bias in opt.state:
                del opt.state[net.fc2.bias]  # the head's bias starts afresh every step
            return loss
        return Case(step, lambda: watch(net, opt))

    same_as_eager(setup)


def test_adam_step_count_reset_inside_step():
    def setup():
        net = MLP()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            for p in net.fc1.parameters():
                st = opt.state[p]
                st["step"] = chainrule.zeros_like(st["step"])  # bias correction restarted
            return loss
        return Case(step, lambda: watch(net, opt))

    same_as_eager(setup)


def test_adam_step_count_zeroed_in_place_inside_step():
    def setup():
        net = MLP()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            for st in opt.state.values():
                st["step"].zero_()
                st["exp_avg"].mul_(0.5)
            return loss
        return Case(step, lambda: watch(net, opt))

    same_as_eager(setup)


def test_momentum_buffer_replaced_between_calls():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        step = train_step(net, opt)

        def before(i):
            if i in (2, 4):
                for p in net.fc1.parameters():
                    opt.state[p]["momentum_buffer"] = chainrule.zeros_like(p)
            if i == 3:
                del opt.state[net.fc2.weight]
        return Case(step, lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=7)


def test_load_state_dict_of_snapshot_between_calls():
    def setup():
        net = MLP()
        opt = optim.Adam(net.parameters(), lr=0.01)
        saved = {}

        def before(i):
            if i == 2:
                saved["s"] = copy.deepcopy(opt.state_dict())
            if i in (4, 5):
                opt.load_state_dict(saved["s"])  # roll back the optimizer (not the weights)
        return Case(train_step(net, opt), lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=7)


def test_load_state_dict_of_snapshot_inside_step_every_other_call():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        saved = {"s": None}
        flags = {"restore": False}

        def step(x, y):
            if flags["restore"] and saved["s"] is not None:
                opt.load_state_dict(saved["s"])
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            flags["restore"] = i % 2 == 1
            if i == 1:
                saved["s"] = copy.deepcopy(opt.state_dict())
        return Case(step, lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- groups changed
@pytest.mark.parametrize("key,values,make", [
    ("weight_decay", [0.0, 0.1, 0.1, 0.0, 0.01], lambda p: optim.SGD(p, lr=0.05, momentum=0.9)),
    ("momentum", [0.0, 0.9, 0.9, 0.0, 0.5], lambda p: optim.SGD(p, lr=0.05)),
    ("nesterov", [False, True, True, False], lambda p: optim.SGD(p, lr=0.05, momentum=0.9)),
    ("betas", [(0.9, 0.999), (0.5, 0.9), (0.9, 0.999), (0.0, 0.99)], lambda p: optim.Adam(p, lr=0.01)),
    ("amsgrad", [False, True, True, False, True], lambda p: optim.Adam(p, lr=0.01)),
    ("amsgrad", [True, False, True], lambda p: optim.AdamW(p, lr=0.01, amsgrad=True)),
    ("eps", [1e-8, 1e-3, 1e-8], lambda p: optim.Adagrad(p, lr=0.1)),
    ("dampening", [0.0, 0.5, 0.0], lambda p: optim.SGD(p, lr=0.05, momentum=0.9)),
    ("maximize", [False, True, False], lambda p: optim.Adam(p, lr=0.01)),
    ("centered", [False, True, False], lambda p: optim.RMSprop(p, lr=0.01)),
])
def test_group_setting_changed_between_calls(key, values, make):
    def setup():
        net = MLP()
        opt = make(net.parameters())

        def before(i):
            for g in opt.param_groups:
                g[key] = values[i % len(values)]
        return Case(train_step(net, opt), lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=6)


def test_lr_decayed_in_place_inside_step():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            for g in opt.param_groups:
                g["lr"] *= 0.7
            return loss
        return Case(step, lambda: watch(net, opt))

    same_as_eager(setup, calls=7)


def test_add_param_group_between_calls_progressive_unfreezing():
    def setup():
        net = MLP()
        for p in net.fc1.parameters():
            p.requires_grad_(False)
        opt = optim.Adam(net.fc2.parameters(), lr=0.01)

        def before(i):
            if i == 3:
                for p in net.fc1.parameters():
                    p.requires_grad_(True)
                opt.add_param_group({"params": net.fc1.parameters(), "lr": 0.001})
        return Case(train_step(net, opt), lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=7)


def test_params_list_popped_and_appended_between_calls():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        removed = []

        def before(i):
            if i == 2:
                removed.append(opt.param_groups[0]["params"].pop())  # fc2.bias no longer trained
            if i == 5:
                opt.param_groups[0]["params"].append(removed.pop())
        return Case(train_step(net, opt), lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=7)


def test_params_list_element_swapped_between_calls():
    def setup():
        a, b = MLP(), MLP()
        opt = optim.Adam(a.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(a(x), y) + F.mse_loss(b(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 3:
                opt.param_groups[0]["params"][0] = b.fc1.weight
        return Case(step, lambda: watch(a, b, opt), before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- new objects inside the step
def test_new_adam_constructed_inside_step():
    def setup():
        net = MLP()

        def step(x, y):
            opt = optim.Adam(net.parameters(), lr=0.01)
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: watch(net))

    same_as_eager(setup)


def test_new_scheduler_constructed_inside_step():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            sched.step()
            return loss
        return Case(step, lambda: watch(net, opt))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- schedulers
@pytest.mark.parametrize("with_epoch", [False, True])
def test_scheduler_step_inside_step_with_and_without_epoch(with_epoch):
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        sched = optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.3)
        epoch = [0]

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            epoch[0] += 1
            if with_epoch:
                sched.step(epoch[0])
            else:
                sched.step()
            return loss
        return Case(step, lambda: watch(net, opt, sched))

    same_as_eager(setup, calls=7)


def test_scheduler_load_state_dict_inside_step():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.1)
        sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        start = copy.deepcopy(sched.state_dict())

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            sched.step()
            if sched.last_epoch >= 2:
                sched.load_state_dict(start)  # restart the schedule (warm restarts by hand)
            return loss
        return Case(step, lambda: watch(net, opt, sched))

    same_as_eager(setup, calls=7)


def test_scheduler_last_epoch_and_base_lrs_set_between_calls():
    def setup():
        net = MLP()
        opt = optim.Adam(net.parameters(), lr=0.01)
        sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            sched.step()
            return loss

        def before(i):
            if i == 3:
                sched.base_lrs = [0.02]
            if i == 4:
                sched.last_epoch = 0
        return Case(step, lambda: watch(net, opt, sched), before=before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- gradients
def test_zero_grad_set_to_none_alternated():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01)
        flag = {"none": True}

        def step(x, y):
            opt.zero_grad(set_to_none=flag["none"])
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            flag["none"] = i % 2 == 0
        return Case(step, lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=7)


def test_zero_grad_false_then_grad_none_for_head_only():
    def setup():
        net = MLP()
        opt = optim.Adam(net.parameters(), lr=0.01, weight_decay=0.1)
        frozen = {"on": False}

        def step(x, y):
            opt.zero_grad(set_to_none=False)
            loss = F.mse_loss(net(x), y)
            loss.backward()
            if frozen["on"]:
                for p in net.fc1.parameters():
                    p.grad = None  # frozen for this call: Adam skips it (no weight decay either)
            opt.step()
            return loss

        def before(i):
            frozen["on"] = i in (2, 3, 5)
        return Case(step, lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=7)


def test_requires_grad_toggled_between_calls_with_weight_decay():
    def setup():
        net = MLP()
        opt = optim.AdamW(net.parameters(), lr=0.01, weight_decay=0.1)

        def before(i):
            for p in net.fc1.parameters():
                p.requires_grad_(i % 3 != 1)
        return Case(train_step(net, opt), lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=7)


@pytest.mark.parametrize("kind", ["norm", "value", "norm_inf"])
def test_clipping_threshold_changed_between_calls(kind):
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        cfg = {"max": 1.0}

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y) * 10
            loss.backward()
            if kind == "norm":
                total = nn.utils.clip_grad_norm_(net.parameters(), max_norm=cfg["max"])
            elif kind == "norm_inf":
                total = nn.utils.clip_grad_norm_(net.parameters(), cfg["max"], norm_type=float("inf"))
            else:
                nn.utils.clip_grad_value_(net.parameters(), clip_value=cfg["max"])
                total = loss
            opt.step()
            return loss, total

        def before(i):
            cfg["max"] = [1.0, 0.5, 0.5, 100.0, 0.01, 2][i % 6]
        return Case(step, lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=7)


def test_manual_loss_scaling_scale_changed_between_calls():
    def setup():
        net = MLP(dtype="float32")
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        scaler = {"scale": 1024.0}

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            (loss * scaler["scale"]).backward()
            for p in net.parameters():
                p.grad.div_(scaler["scale"])
            opt.step()
            return loss

        def before(i):
            scaler["scale"] = [1024.0, 1024.0, 512.0, 65536.0, 2.0 ** -3][i % 5]
        return Case(step, lambda: watch(net, opt), inputs=inputs32, before=before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- wrappers
class Lookahead:
    def __init__(self, base, k=2, alpha=0.5):
        self.base, self.k, self.alpha = base, k, alpha
        self.param_groups = base.param_groups
        self.counter = 0
        self.slow = [[p.detach().clone() for p in g["params"]] for g in base.param_groups]

    def zero_grad(self):
        self.base.zero_grad()

    def step(self):
        self.base.step()
        self.counter += 1
        if self.counter % self.k == 0:
            with chainrule.no_grad():
                for g, slow in zip(self.param_groups, self.slow):
                    for p, q in zip(g["params"], slow):
                        q.add_(p - q, alpha=self.alpha)
                        p.copy_(q)


def test_lookahead_wrapper_with_slow_copy():
    def setup():
        net = MLP()
        opt = Lookahead(optim.Adam(net.parameters(), lr=0.02), k=3, alpha=0.5)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: watch(net, opt.base, opt.counter, opt.slow))

    same_as_eager(setup, calls=7)


def test_lookahead_k_changed_between_calls():
    def setup():
        net = MLP()
        opt = Lookahead(optim.SGD(net.parameters(), lr=0.1, momentum=0.9), k=2, alpha=0.8)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            opt.k = 2 if i < 3 else 1
            opt.alpha = 0.8 if i < 4 else 0.3
        return Case(step, lambda: watch(net, opt.base, opt.counter, opt.slow), before=before)

    same_as_eager(setup, calls=7)


@pytest.mark.parametrize("how", ["ema_multi", "ema_avg", "swa"])
def test_averaged_model_update_inside_step_decay_changed(how):
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        if how == "ema_multi":
            ema = optim.swa_utils.AveragedModel(net, multi_avg_fn=optim.swa_utils.get_ema_multi_avg_fn(0.9))
        elif how == "ema_avg":
            ema = optim.swa_utils.AveragedModel(net, avg_fn=optim.swa_utils.get_ema_avg_fn(0.8))
        else:
            ema = optim.swa_utils.AveragedModel(net)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            ema.update_parameters(net)
            with chainrule.no_grad():
                return loss, F.mse_loss(ema(x), y)
        return Case(step, lambda: watch(net, opt, ema))

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- closures
def test_sgd_step_with_closure_reevaluating_loss():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

        def step(x, y):
            def closure():
                opt.zero_grad()
                loss = F.mse_loss(net(x), y)
                loss.backward()
                return loss
            return opt.step(closure)
        return Case(step, lambda: watch(net, opt), inputs=batch_inputs([4, 4, 6, 4, 2]))

    same_as_eager(setup, calls=7)


def test_lbfgs_closure_max_iter_changed_between_calls():
    def setup():
        net = MLP()
        opt = optim.LBFGS(net.parameters(), lr=0.5, max_iter=3, history_size=4)
        calls = [0]

        def step(x, y):
            def closure():
                calls[0] += 1
                opt.zero_grad()
                loss = F.mse_loss(net(x), y)
                loss.backward()
                return loss
            return opt.step(closure)

        def before(i):
            if i == 3:
                opt.param_groups[0]["max_iter"] = 5
        return Case(step, lambda: watch(net, opt, calls[0]), before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- surgery without a counter
def flagged(values):
    """A flag the caller sets before each call (a few distinct values: the step records each once)."""
    flag = {"on": values[0]}

    def before(i):
        flag["on"] = values[i % len(values)]
    return flag, before


def test_params_rotated_inside_step_every_call():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            params = opt.param_groups[0]["params"]
            params.append(params.pop(0))  # round-robin: which parameter comes first changes every call
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: watch(net, opt))

    same_as_eager(setup, calls=6)


def test_param_dropped_from_group_inside_step_when_flagged():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        flag, before = flagged([False, False, True, True, True, False])

        def step(x, y):
            if flag["on"]:
                opt.param_groups[0]["params"].pop()  # prune the last trained tensor
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=6)


def test_param_group_removed_inside_step_when_flagged():
    def setup():
        net = MLP()
        opt = optim.Adam([{"params": [net.fc1.weight]}, {"params": [net.fc1.bias]},
                          {"params": net.fc2.parameters(), "lr": 0.003}], lr=0.01)
        flag, before = flagged([False, True, True, False, False])

        def step(x, y):
            if flag["on"] and len(opt.param_groups) > 1:
                opt.param_groups.pop(0)
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=6)


def test_groups_reversed_inside_step():
    def setup():
        net = MLP()
        opt = optim.SGD([{"params": net.fc1.parameters(), "lr": 0.01},
                         {"params": net.fc2.parameters(), "lr": 0.1}], momentum=0.9)

        def step(x, y):
            opt.param_groups.reverse()
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: watch(net, opt))

    same_as_eager(setup, calls=6)


def test_add_param_group_inside_step_when_flagged():
    def setup():
        net = MLP()
        extra = [nn.Linear(5, 2).double() for _ in range(4)]
        opt = optim.SGD(net.parameters(), lr=0.05)
        flag, before = flagged([False, True, True, False])

        def step(x, y):
            if flag["on"]:
                head = extra.pop(0)
                opt.add_param_group({"params": head.parameters(), "lr": 0.01})
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: watch(net, opt, len(extra)), before=before)

    same_as_eager(setup, calls=6)


def test_state_cleared_inside_step_when_flagged():
    def setup():
        net = MLP()
        opt = optim.Adam(net.parameters(), lr=0.01)
        flag, before = flagged([False, False, True, True, False, True])

        def step(x, y):
            if flag["on"]:
                opt.state.clear()
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=7)


def test_scheduler_base_lrs_scaled_in_place_inside_step_when_flagged():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.1)
        sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        flag, before = flagged([False, True, True, False, True])

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            if flag["on"]:
                sched.base_lrs[0] *= 0.5  # a plateau by hand: halve the schedule's peak
            sched.step()
            return loss
        return Case(step, lambda: watch(net, opt, sched, list(sched.base_lrs)), before=before)

    same_as_eager(setup, calls=6)


def test_scheduler_milestones_extended_inside_step_when_flagged():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.1)
        sched = optim.lr_scheduler.MultiStepLR(opt, milestones=[100], gamma=0.5)
        flag, before = flagged([False, True, True, False])

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            sched.step()
            if flag["on"]:
                sched.milestones[sched.last_epoch + 1] = 1  # decay at the next epoch
            return loss
        return Case(step, lambda: watch(net, opt, sched, dict(sched.milestones)), before=before)

    same_as_eager(setup, calls=6)


def test_scheduler_last_epoch_reset_inside_step_when_flagged():
    def setup():
        net = MLP()
        opt = optim.Adam(net.parameters(), lr=0.01)
        sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        flag, before = flagged([False, False, True, False, True])

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            sched.step()
            if flag["on"]:
                sched.last_epoch = 0
                for g in opt.param_groups:
                    g["lr"] = sched.base_lrs[0]
            return loss
        return Case(step, lambda: watch(net, opt, sched), before=before)

    same_as_eager(setup, calls=6)


def test_custom_group_key_list_mutated_inside_step():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.05)
        opt.param_groups[0]["history"] = []
        flag, before = flagged([False, True, True, False])

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            if flag["on"]:
                opt.param_groups[0]["history"].append(opt.param_groups[0]["lr"])
            return loss
        return Case(step, lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=6)


def test_state_tensor_read_by_step_after_load_state_dict_between_calls():
    def setup():
        net = MLP()
        opt = optim.Adam(net.parameters(), lr=0.01)
        saved = {}

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            second = opt.state[net.fc1.weight]["exp_avg_sq"]
            return loss, second.sqrt().mean()

        def before(i):
            if i == 1:
                saved["s"] = copy.deepcopy(opt.state_dict())
            if i in (3, 4):
                opt.load_state_dict(saved["s"])
        return Case(step, lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=6)


def test_state_dict_checkpoint_deepcopied_inside_step():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        checkpoints = []

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            checkpoints.append(copy.deepcopy(opt.state_dict()))
            return loss
        return Case(step, lambda: watch(net, opt, checkpoints[-1]["state"] if checkpoints else None, len(checkpoints)))

    same_as_eager(setup, calls=6)


def test_custom_state_entry_kept_next_to_adam_state():
    def setup():
        net = MLP()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            for p in net.parameters():
                st = opt.state[p]
                if "prev" in st:
                    st["delta"] = (p.detach() - st["prev"]).abs().max()
                st["prev"] = p.detach().clone()
            return loss
        return Case(step, lambda: watch(net, opt))

    same_as_eager(setup, calls=6)


def test_momentum_buffer_list_entry_reset_in_place_when_flagged():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        flag, before = flagged([False, False, True, True, False])

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            if flag["on"]:
                for st in opt.state.values():
                    st["momentum_buffer"].zero_()
            opt.step()
            return loss
        return Case(step, lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=6)


def test_second_step_with_stale_grads_and_lr_swap_inside_step():
    def setup():
        net = MLP()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.5)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            old = opt.param_groups[0]["lr"]
            opt.param_groups[0]["lr"] = -old / 2  # a half step back ("lookahead" by hand)
            opt.step()
            opt.param_groups[0]["lr"] = old
            return loss
        return Case(step, lambda: watch(net, opt))

    same_as_eager(setup, calls=6)


def test_betas_list_edited_in_place_inside_step_when_flagged():
    def setup():
        net = MLP()
        opt = optim.Adam(net.parameters(), lr=0.01)
        opt.param_groups[0]["betas"] = [0.9, 0.999]
        flag, before = flagged([False, True, True, False, True])

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            if flag["on"]:
                opt.param_groups[0]["betas"][0] *= 0.5  # momentum annealed by hand
            return loss
        return Case(step, lambda: watch(net, opt), before=before)

    same_as_eager(setup, calls=6)


def test_defaults_edited_inside_step_then_group_added_between_calls():
    def setup():
        net = MLP()
        opt = optim.SGD(net.fc2.parameters(), lr=0.1)
        flag, before0 = flagged([False, True, False, True, False])

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            if flag["on"]:
                opt.defaults["lr"] *= 0.5
            return loss

        def before(i):
            before0(i)
            if i == 4:
                opt.add_param_group({"params": net.fc1.parameters()})
        return Case(step, lambda: watch(net, opt, dict(opt.defaults)), before=before)

    same_as_eager(setup, calls=6)


def test_lbfgs_history_cleared_inside_step_when_flagged():
    def setup():
        net = MLP()
        opt = optim.LBFGS(net.parameters(), lr=0.5, max_iter=2, history_size=5)
        flag, before = flagged([False, False, True, True, False])

        def step(x, y):
            def closure():
                opt.zero_grad()
                loss = F.mse_loss(net(x), y)
                loss.backward()
                return loss
            if flag["on"]:
                st = opt.state[opt.param_groups[0]["params"][0]]
                st.get("old_dirs", []).clear()
                st.get("old_stps", []).clear()
            return opt.step(closure)
        return Case(step, lambda: watch(net), before=before)

    same_as_eager(setup, calls=6)
