"""CALLER-SIDE changes between calls of one fixed, ordinary compiled training step, eager against
compiled, bit for bit.

Each seed builds a small model (an MLP of Linear/BatchNorm1d/activation/Dropout, an Embedding in
front of one, or a two-layer LSTM with a Linear head), an optimizer, maybe a scheduler, and the
usual step: zero_grad, forward, a loss reading module globals (weight, flag, reduction string, a
global tensor), backward, maybe clipping, optimizer.step, maybe scheduler.step, ``loss.detach()``.
Between calls a random driver applies 0-3 changes the caller may make: submodules and activations
replaced, module attributes changed, eval/train on a submodule, half/double/float, requires_grad_,
load_state_dict (strict, assign), optimizer.load_state_dict, add_param_group, hyper-parameters in
param_groups, the optimizer or scheduler replaced, ``p.data`` copied into or rebound, ``p.grad`` set,
forward hooks registered and removed, reseeding, globals changed or rebound, batch shape / dtype /
requires_grad changed, the same tensor passed twice, a view passed, an attribute deleted, calls
under ``set_grad_enabled(False)``, ``set_default_dtype`` and ``use_deterministic_algorithms``.

The program runs eagerly and compiled from the same seed; after each call the result (or the
exception's type and first 60 characters), parameters, grads, buffers, optimizer and scheduler
state and, at the end, the random stream must be identical. Falling back to eager with at most one
warning is allowed.
"""
import random
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.bitwise import assert_identical

CALLS = 10

# module globals the step reads; reset by each run
OPT = None
SCHED = None
WEIGHT = 1.0
FLAG = False
REDUCTION = "mean"
GT = None


def arr(value):
    if isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype), tuple(value.shape), value._array.copy())
    if isinstance(value, (list, tuple)):
        return type(value)(arr(item) for item in value)
    if isinstance(value, dict):
        return {key: arr(item) for key, item in value.items()}
    if callable(value):
        return "callable"
    return value


class Net(nn.Module):
    def __init__(self, kind, hidden, batchnorm, activation):
        super().__init__()
        self.kind = kind
        if kind == "emb":
            self.emb = nn.Embedding(10, 3)
        if kind == "lstm":
            self.lstm = nn.LSTM(3, hidden, num_layers=2, batch_first=True, dropout=0.0)
            self.body = nn.Sequential(nn.Linear(hidden, 3))
        else:
            layers = [nn.Linear(3, hidden)]
            if batchnorm:
                layers.append(nn.BatchNorm1d(hidden))
            layers += [activation(), nn.Dropout(0.2), nn.Linear(hidden, 3)]
            self.body = nn.Sequential(*layers)

    def forward(self, x):
        if self.kind == "emb":
            x = self.emb(x)
        if self.kind == "lstm":
            x, _ = self.lstm(x)
            x = x[:, -1]
        return self.body(x)


def build(seed):
    r = random.Random(seed)
    return {
        "kind": r.choice(["mlp", "mlp", "emb", "lstm"]),
        "hidden": r.choice([4, 5]),
        "batchnorm": r.random() < 0.5,
        "activation": r.choice(["Tanh", "ReLU", "Sigmoid"]),
        "optimizer": r.choice(["sgd", "momentum", "adam", "adamw", "rmsprop"]),
        "scheduler": r.choice([None, "step", "exp"]),
        "clip": r.random() < 0.4,
        "closure": r.random() < 0.5,  # the optimizer is read from a closure cell, not a global
    }


def make_optimizer(kind, params):
    if kind == "sgd":
        return optim.SGD(params, lr=0.05)
    if kind == "momentum":
        return optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=1e-3)
    if kind == "adam":
        return optim.Adam(params, lr=0.01)
    if kind == "adamw":
        return optim.AdamW(params, lr=0.01, weight_decay=0.1)
    return optim.RMSprop(params, lr=0.01, momentum=0.5)


def make_scheduler(kind, optimizer):
    if kind == "step":
        return optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    if kind == "exp":
        return optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    return None


CHANGES = ["replace_linear_same", "replace_linear_other", "replace_activation", "dropout_p", "bn_momentum",
           "bn_eps", "lstm_dropout", "sub_eval", "sub_train", "half", "double", "float", "freeze", "unfreeze",
           "load_strict", "load_assign", "opt_load", "add_group", "lr", "momentum", "weight_decay", "betas",
           "replace_opt", "replace_sched", "data_copy", "data_same", "data_other", "grad_set", "grad_none",
           "hook_add", "hook_remove", "seed", "weight", "flag", "reduction", "gt_inplace", "gt_rebind",
           "rows", "batch_double", "batch_requires_grad", "same_twice", "view", "del_attr", "no_grad_call",
           "default_dtype", "deterministic"]


def run(seed, compiled, spec=None, changes=None):
    global OPT, SCHED, WEIGHT, FLAG, REDUCTION, GT
    spec = spec or build(seed)
    torch.manual_seed(seed)
    act = getattr(nn, spec["activation"])
    model = Net(spec["kind"], spec["hidden"], spec["batchnorm"], act)
    OPT = make_optimizer(spec["optimizer"], model.parameters())
    SCHED = make_scheduler(spec["scheduler"], OPT) if spec["scheduler"] else None
    WEIGHT, FLAG, REDUCTION, GT = 1.0, False, "mean", torch.ones(3)
    cell = {"opt": OPT, "sched": SCHED}
    snapshot = {k: v.clone() for k, v in model.state_dict().items()}
    opt_snapshot = None

    def step(x, y):
        opt = cell["opt"] if spec["closure"] else OPT
        sched = cell["sched"] if spec["closure"] else SCHED
        opt.zero_grad()
        out = model(x)
        loss = F.mse_loss(out, y, reduction=REDUCTION) * WEIGHT
        if FLAG:
            loss = loss + (out * GT).mean()
        loss.backward()
        if spec["clip"]:
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        if sched is not None:
            sched.step()
        return loss.detach()

    run_step = torch.compile(step) if compiled else step
    r = random.Random(seed * 7919 + 1)
    rng = np.random.default_rng(seed)
    hooks, log = [], []
    rows, batch_dtype, batch_rg = 6, None, False
    old_dtype = torch.get_default_dtype()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.manual_seed(1000 + seed)
        try:
            for call in range(CALLS if changes is None else len(changes)):
                chosen = changes[call] if changes is not None else r.sample(CHANGES, r.choice([0, 1, 1, 2, 3]))
                same_twice = view = no_grad_call = False
                for change in chosen:
                    try:
                        body = getattr(model, "body", None)
                        linears = [i for i, m in enumerate(body) if isinstance(m, nn.Linear)]
                        params = list(model.parameters())
                        opt = cell["opt"] if spec["closure"] else OPT
                        if change == "replace_linear_same":
                            i = r.choice(linears)
                            old = body[i]
                            body[i] = nn.Linear(old.in_features, old.out_features)
                        elif change == "replace_linear_other":
                            i = r.choice(linears)
                            old = body[i]
                            body[i] = nn.Linear(old.in_features, old.out_features + 1)
                        elif change == "replace_activation":
                            for i, m in enumerate(body):
                                if isinstance(m, (nn.Tanh, nn.ReLU, nn.Sigmoid)):
                                    body[i] = r.choice([nn.Tanh, nn.ReLU, nn.Sigmoid, nn.GELU])()
                        elif change == "dropout_p":
                            for m in model.modules():
                                if isinstance(m, nn.Dropout):
                                    m.p = r.choice([0.0, 0.5])
                        elif change in ("bn_momentum", "bn_eps"):
                            for m in model.modules():
                                if isinstance(m, nn.BatchNorm1d):
                                    if change == "bn_momentum":
                                        m.momentum = r.choice([0.5, None])
                                    else:
                                        m.eps = 1e-2
                        elif change == "lstm_dropout":
                            if spec["kind"] == "lstm":
                                model.lstm.dropout = 0.5
                        elif change in ("sub_eval", "sub_train"):
                            sub = r.choice(list(model.children()))
                            sub.train(change == "sub_train")
                        elif change in ("half", "double", "float"):
                            getattr(model, change)()
                        elif change in ("freeze", "unfreeze"):
                            r.choice(list(model.children())).requires_grad_(change == "unfreeze")
                        elif change == "load_strict":
                            model.load_state_dict(snapshot)
                        elif change == "load_assign":
                            model.load_state_dict({k: v.clone() for k, v in snapshot.items()}, assign=True)
                        elif change == "opt_load":
                            if opt_snapshot is None:
                                opt_snapshot = opt.state_dict()
                            else:
                                opt.load_state_dict(opt_snapshot)
                        elif change == "add_group":
                            extra = nn.Linear(2, 2)
                            opt.add_param_group({"params": list(extra.parameters()), "lr": 0.1})
                        elif change in ("lr", "momentum", "weight_decay", "betas"):
                            group = r.choice(opt.param_groups)
                            if change == "lr":
                                group["lr"] = group["lr"] * 0.5
                            elif change == "betas" and "betas" in group:
                                group["betas"] = (0.8, 0.99)
                            elif change in group:
                                group[change] = 0.3
                        elif change == "replace_opt":
                            new = make_optimizer(r.choice(["sgd", "momentum", "adam"]), model.parameters())
                            if spec["closure"]:
                                cell["opt"] = new
                            else:
                                OPT = new
                        elif change == "replace_sched":
                            new = make_scheduler(r.choice(["step", "exp"]), opt)
                            if spec["closure"]:
                                cell["sched"] = new
                            else:
                                SCHED = new
                        elif change in ("data_copy", "data_same", "data_other"):
                            p = r.choice(params)
                            with torch.no_grad():
                                if change == "data_copy":
                                    p.data.copy_(p.data * 0.5)
                                elif change == "data_same":
                                    p.data = torch.ones(p.shape, dtype=p.dtype) * 0.1
                                else:
                                    p.data = torch.ones((p.shape[0] + 1,) + tuple(p.shape[1:]), dtype=p.dtype)
                        elif change == "grad_set":
                            p = r.choice(params)
                            p.grad = torch.ones(p.shape, dtype=p.dtype)
                        elif change == "grad_none":
                            r.choice(params).grad = None
                        elif change == "hook_add":
                            m = r.choice(list(model.modules()))
                            hooks.append(m.register_forward_hook(lambda mod, inp, out: out * 2 if isinstance(out, torch.Tensor) else out))
                        elif change == "hook_remove":
                            if hooks:
                                hooks.pop(0).remove()
                        elif change == "seed":
                            torch.manual_seed(call)
                        elif change == "weight":
                            WEIGHT = r.choice([0.5, 2.0, 3])
                        elif change == "flag":
                            FLAG = not FLAG
                        elif change == "reduction":
                            REDUCTION = r.choice(["sum", "mean"])
                        elif change == "gt_inplace":
                            GT.mul_(1.5)
                        elif change == "gt_rebind":
                            GT = torch.ones(3) * 0.25
                        elif change == "rows":
                            rows = r.choice([3, 6, 7])
                        elif change == "batch_double":
                            batch_dtype = r.choice([torch.float64, torch.float32, torch.float16])
                        elif change == "batch_requires_grad":
                            batch_rg = not batch_rg
                        elif change == "same_twice":
                            same_twice = True
                        elif change == "view":
                            view = True
                        elif change == "del_attr":
                            m = r.choice([m for m in model.modules() if isinstance(m, (nn.Dropout, nn.BatchNorm1d, nn.Linear))])
                            name = {nn.Dropout: "p", nn.BatchNorm1d: "momentum", nn.Linear: "bias"}[type(m)]
                            delattr(m, name)
                        elif change == "no_grad_call":
                            no_grad_call = True
                        elif change == "default_dtype":
                            torch.set_default_dtype(r.choice([torch.float64, torch.float32]))
                        elif change == "deterministic":
                            torch.use_deterministic_algorithms(r.random() < 0.5)
                        log.append(("change", change))
                    except Exception as error:  # noqa: BLE001
                        log.append(("change error", change, type(error).__name__, str(error)[:60]))
                dtype = batch_dtype or torch.get_default_dtype()
                if spec["kind"] == "emb":
                    x = torch.tensor(rng.integers(0, 10, size=(rows,)))
                elif spec["kind"] == "lstm":
                    x = torch.tensor(rng.normal(size=(rows, 3, 3))).to(dtype)
                else:
                    x = torch.tensor(rng.normal(size=(rows + (2 if view else 0), 3))).to(dtype)
                    if view:
                        x = x[1:-1]
                    if batch_rg:
                        x.requires_grad_(True)
                y = torch.tensor(rng.normal(size=(rows, 3))).to(dtype)
                if same_twice and spec["kind"] == "mlp":
                    y = x
                try:
                    if no_grad_call:
                        with torch.set_grad_enabled(False):
                            result = run_step(x, y)
                    else:
                        result = run_step(x, y)
                    log.append(("ok", arr(result)))
                except Exception as error:  # noqa: BLE001
                    log.append(("error", type(error).__name__, str(error)[:60]))
                opt = cell["opt"] if spec["closure"] else OPT
                sched = cell["sched"] if spec["closure"] else SCHED
                log.append(arr({
                    "params": dict(model.named_parameters()),
                    "grads": {k: p.grad for k, p in model.named_parameters()},
                    "rg": {k: p.requires_grad for k, p in model.named_parameters()},
                    "buffers": dict(model.named_buffers()),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict() if sched is not None else None,
                    "x_grad": x.grad,
                }))
            log.append(("random", torch.default_generator.state_bytes()))
        finally:
            torch.set_default_dtype(old_dtype)
            torch.use_deterministic_algorithms(False)
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return spec, log, messages


def check(seed, spec=None, changes=None):
    spec, eager, eager_messages = run(seed, False, spec, changes)
    _, compiled, messages = run(seed, True, spec, changes)
    assert len(messages) <= 1, (spec, messages)
    assert_identical(compiled, eager, f"log of {spec}")


# seeds 0-89 less those hitting the bugs reproduced below (6, 9, 19, 27, 28, 41, 49, 61, 67, 73, 88)
SEEDS = range(40)  # 150 until session 21, 100 in session 21, 75 until session 32, trimmed for CI's 10 minutes


@pytest.mark.parametrize("seed", SEEDS)
def test_caller_changes_between_calls_compiled_is_eager_bit_for_bit(seed):
    check(seed)


# ----------------------------------------------------------------------------- minimal reproducers
# Shrunk by hand to the fewest driver changes (in the harness above: the spec of the seed and one
# list of changes per call). Standalone rewrites of these few lines did NOT reproduce in the time
# available, so something else of the harness (the Net wrapper, the globals the step reads, the
# observation between calls) is part of the trigger.
def test_load_state_dict_assign_between_calls():
    check(6, build(6), [[], [], ["load_assign"]])


def test_optimizer_replaced_between_calls():
    check(67, build(67), [[], ["replace_opt"], []])


def test_scheduler_replaced_between_calls():
    check(125, build(125), [[], ["replace_sched"]])


def test_bias_deleted_between_calls():
    check(19, build(19), [[], ["del_attr"]])
