"""A sweep of optimizer hooks, rarely used optimizers and rarely used options against PyTorch (the
oracle): ``register_step_pre_hook`` / ``register_step_post_hook`` (the arguments a hook gets,
replacement ``(args, kwargs)``, bad return values, ``handle.remove()``, a hook that changes the
gradients), the state-dict hooks (``register_state_dict_pre_hook`` / ``post_hook``,
``register_load_state_dict_pre_hook`` / ``post_hook``, ``prepend``), the hooks for every optimizer
(``torch.optim.optimizer.register_optimizer_step_pre_hook`` / ``post_hook``), the implementation
flags ``foreach`` / ``fused`` / ``capturable`` / ``differentiable`` on the CPU, ``maximize`` on every
optimizer, ``LBFGS`` (``history_size``, ``line_search_fn="strong_wolfe"``, ``tolerance_grad``,
``tolerance_change``, ``max_iter``, ``max_eval``; on a fixed quadratic and on a small MLP),
``Rprop`` (``etas``, ``step_sizes``), ``ASGD`` (``lambd``, ``alpha``, ``t0``, the ``ax`` average),
``NAdam`` (``momentum_decay``, ``decoupled_weight_decay``), ``RAdam`` (``decoupled_weight_decay``, both
sides of the rectification), ``Adamax``, ``Adadelta``, ``Adagrad`` (``lr_decay``,
``initial_accumulator_value``), ``RMSprop`` (``centered``, ``momentum``), ``SparseAdam``,
``Adafactor`` (``beta2_decay``, the ``eps`` pair, ``d``, 1-D / 2-D / 3-D parameters), parameter groups
with different options, tensor learning rates, ``state_dict()["state"]`` keys and tensor dtypes
(``step`` a float32 tensor), ``load_state_dict`` casting the state to the parameter's dtype, and
``step()`` with some parameters whose ``.grad`` is None.

Parameters are float64 and compared after 5 steps (8 for RAdam) with rtol 1e-10. Each test runs the
same code with ``torch`` and with ``chainrule`` and compares values, dtypes, shapes, names or
exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences found: each
turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import copy
import importlib
import warnings

import pytest
import torch

import chainrule
from tests.parity.sweep import assert_same, bug, bundle, outcome, plain, raises_as_torch, same_in_both


# --- a small problem with fixed float64 starting weights ----------------------------------------

RTOL, ATOL = 1e-10, 1e-12
W = [[0.5, -1.25, 2.0], [1.5, 0.25, -0.75]]
B = [0.1, -0.3]
X = [[1.0, 2.0, -1.0], [0.5, -1.5, 3.0], [2.0, 0.0, 1.0], [-1.0, 1.0, 0.5]]
Y = [[1.0, 0.0], [0.0, 1.0], [0.5, -0.5], [2.0, 1.0]]
T3 = [[[0.3, -0.2], [1.1, 0.4]], [[-0.7, 0.9], [0.05, -1.3]]]  # a 3-D parameter (Adafactor factors the last two dims)


def entries(mapping):
    """A dict as a sorted list of [key, value] pairs (``plain`` compares lists, not dicts)."""
    return [[key, mapping[key]] for key in sorted(mapping, key=str)]


def make_params(L, dtype=None):
    dtype = L.float64 if dtype is None else dtype
    return [L.nn.Parameter(L.tensor(W, dtype=dtype)), L.nn.Parameter(L.tensor(B, dtype=dtype))]


def loss_of(L, params):
    w, b = params[:2]
    out = L.tensor(X, dtype=w.dtype) @ w.t() + b
    return ((out - L.tensor(Y, dtype=w.dtype)) ** 2).mean()


def train(L, name, kwargs=None, steps=5, groups=None, params=None, closure=False, extra_loss=None):
    """``steps`` steps of ``L.optim.<name>`` on the fixed problem; returns the parameters and the
    optimizer. ``groups(params)`` builds parameter groups; ``extra_loss(L, params)`` adds a term."""
    params = make_params(L) if params is None else params
    opt = getattr(L.optim, name)(params if groups is None else groups(params), **(kwargs or {}))

    def closure_fn():
        opt.zero_grad()
        loss = loss_of(L, params)
        if extra_loss is not None:
            loss = loss + extra_loss(L, params)
        loss.backward()
        return loss

    for _ in range(steps):
        if closure:
            opt.step(closure_fn)
        else:
            closure_fn()
            opt.step()
    return [p.detach().clone() for p in params], opt


def trained(name, steps=5, **kwargs):
    return lambda L: train(L, name, kwargs, steps=steps)[0]


def optimizer_module(L):
    return importlib.import_module(L.__name__ + ".optim.optimizer")


# --- trained parameters: rarely used optimizers and options, float64, rtol 1e-10 ------------------

TRAIN_CASES = {
    # implementation flags on the CPU: the values must not change
    "sgd_fused": trained("SGD", lr=0.1, momentum=0.9, fused=True),
    "sgd_foreach_true": trained("SGD", lr=0.1, momentum=0.9, nesterov=True, foreach=True),
    "sgd_foreach_false_differentiable_false": trained("SGD", lr=0.1, momentum=0.5, dampening=0.3, foreach=False, differentiable=False),
    "adam_fused": trained("Adam", lr=0.05, fused=True),
    "adam_fused_amsgrad_maximize_wd": trained("Adam", lr=0.05, fused=True, amsgrad=True, maximize=True, weight_decay=0.1),
    "adam_foreach": trained("Adam", lr=0.05, foreach=True, betas=(0.8, 0.95)),
    "adam_decoupled_weight_decay": trained("Adam", lr=0.05, weight_decay=0.2, decoupled_weight_decay=True),
    "adamw_fused": trained("AdamW", lr=0.05, fused=True, weight_decay=0.3),
    "adamw_foreach_amsgrad": trained("AdamW", lr=0.05, foreach=True, amsgrad=True),
    "adagrad_fused": trained("Adagrad", lr=0.1, fused=True),
    "adagrad_fused_options": trained("Adagrad", lr=0.1, fused=True, lr_decay=0.05, initial_accumulator_value=0.3, weight_decay=0.1),
    "adagrad_lr_decay_initial_accumulator": trained("Adagrad", lr=0.2, lr_decay=0.1, initial_accumulator_value=0.5, eps=1e-6),
    "adagrad_foreach_maximize": trained("Adagrad", lr=0.1, foreach=True, maximize=True),
    "adamw_fused_maximize_amsgrad": trained("AdamW", lr=0.05, fused=True, maximize=True, amsgrad=True),
    "sgd_fused_nesterov_weight_decay_maximize": trained("SGD", lr=0.05, fused=True, momentum=0.5, nesterov=True, weight_decay=0.1, maximize=True),
    "adagrad_fused_maximize": trained("Adagrad", lr=0.05, fused=True, maximize=True),
    "adam_decoupled_maximize_amsgrad": trained("Adam", lr=0.05, decoupled_weight_decay=True, weight_decay=0.1, maximize=True, amsgrad=True),
    # float64 tensor hyperparameters, with and without fused
    "adam_fused_float64_tensor_lr": lambda L: train(L, "Adam", dict(lr=L.tensor(0.05, dtype=L.float64), fused=True))[0],
    "sgd_fused_float64_tensor_lr": lambda L: train(L, "SGD", dict(lr=L.tensor(0.05, dtype=L.float64), fused=True, momentum=0.5))[0],
    "adagrad_fused_float64_tensor_lr": lambda L: train(L, "Adagrad", dict(lr=L.tensor(0.05, dtype=L.float64), fused=True, lr_decay=0.1))[0],
    "adamw_float64_tensor_betas": lambda L: train(L, "AdamW", dict(lr=0.05, betas=(L.tensor(0.8, dtype=L.float64), L.tensor(0.9, dtype=L.float64))))[0],
    "sgd_fused_float32_tensor_lr": lambda L: train(L, "SGD", dict(lr=L.tensor(0.05), fused=True, momentum=0.9))[0],
    "adam_float32_tensor_lr_not_fused": lambda L: train(L, "Adam", dict(lr=L.tensor(0.05)))[0],
    # maximize on every optimizer
    "sgd_maximize": trained("SGD", lr=0.01, maximize=True),
    "adam_maximize": trained("Adam", lr=0.05, maximize=True),
    "adamw_maximize": trained("AdamW", lr=0.05, maximize=True),
    "adadelta_maximize": trained("Adadelta", lr=1.0, maximize=True, weight_decay=0.1),
    "adamax_maximize": trained("Adamax", lr=0.05, maximize=True, weight_decay=0.1),
    "nadam_maximize": trained("NAdam", lr=0.05, maximize=True),
    "radam_maximize": trained("RAdam", steps=8, lr=0.05, betas=(0.9, 0.9), maximize=True),
    "rmsprop_maximize": trained("RMSprop", lr=0.01, maximize=True, momentum=0.3),
    "rprop_maximize": trained("Rprop", lr=0.05, maximize=True),
    "asgd_maximize": trained("ASGD", lr=0.05, maximize=True),
    "adafactor_maximize": trained("Adafactor", lr=0.05, maximize=True),
    # Rprop
    "rprop_etas_step_sizes": trained("Rprop", lr=0.3, etas=(0.3, 1.5), step_sizes=(0.05, 0.4)),
    "rprop_foreach": trained("Rprop", lr=0.2, foreach=True, etas=(0.4, 1.1)),
    "rprop_lr_below_min_step_size": trained("Rprop", lr=0.01, step_sizes=(0.1, 1.0)),
    "rprop_list_etas_and_step_sizes": trained("Rprop", lr=0.2, etas=[0.6, 1.4], step_sizes=[0.01, 0.3]),
    # ASGD
    "asgd_t0_lambd_alpha": trained("ASGD", lr=0.05, lambd=0.01, alpha=0.5, t0=2),
    "asgd_weight_decay_t0_zero": trained("ASGD", lr=0.05, t0=0, weight_decay=0.1),
    "asgd_positional_foreach_maximize": lambda L: train(L, "ASGD", None, groups=lambda params: L.optim.ASGD(
        params, 0.05, 1e-3, 0.6, 3, 0.1, None, True).param_groups)[0],
    # NAdam / RAdam
    "nadam_momentum_decay": trained("NAdam", lr=0.05, momentum_decay=0.1, betas=(0.8, 0.9)),
    "nadam_decoupled_weight_decay": trained("NAdam", lr=0.05, weight_decay=0.2, decoupled_weight_decay=True),
    "nadam_l2_weight_decay_foreach": trained("NAdam", lr=0.05, weight_decay=0.2, foreach=True),
    "radam_both_branches": trained("RAdam", steps=8, lr=0.05, betas=(0.9, 0.9)),
    "radam_decoupled_weight_decay": trained("RAdam", steps=8, lr=0.05, betas=(0.8, 0.9), weight_decay=0.2, decoupled_weight_decay=True),
    "radam_l2_weight_decay": trained("RAdam", steps=8, lr=0.05, betas=(0.8, 0.9), weight_decay=0.2),
    # Adamax / Adadelta / RMSprop
    "adamax_betas_eps": trained("Adamax", lr=0.1, betas=(0.5, 0.8), eps=1e-3),
    "adamax_foreach": trained("Adamax", lr=0.1, foreach=True, weight_decay=0.05),
    "adadelta_rho_eps_lr": trained("Adadelta", lr=0.5, rho=0.5, eps=1e-3),
    "adadelta_foreach": trained("Adadelta", lr=1.0, foreach=True, weight_decay=0.1),
    "rmsprop_centered": trained("RMSprop", lr=0.01, centered=True, alpha=0.8),
    "rmsprop_momentum": trained("RMSprop", lr=0.01, momentum=0.9, eps=1e-4),
    "rmsprop_centered_momentum_wd_foreach": trained("RMSprop", lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, foreach=True),
    # Adafactor
    "adafactor_defaults": trained("Adafactor"),
    "adafactor_beta2_decay_d": trained("Adafactor", lr=0.1, beta2_decay=-0.3, d=1.5),
    "adafactor_eps_pair": trained("Adafactor", lr=0.1, eps=(1e-20, 1e-2)),
    "adafactor_weight_decay": trained("Adafactor", lr=0.1, weight_decay=0.2),
    "adafactor_lr_above_relative_step": trained("Adafactor", lr=2.0),
    "adafactor_foreach": trained("Adafactor", lr=0.1, foreach=True),
    "adafactor_positional": lambda L: train(L, "Adafactor", None, groups=lambda params: L.optim.Adafactor(
        params, 0.1, -0.5, (None, 1e-2), 2.0, 0.05).param_groups)[0],
}


@pytest.mark.parametrize("run", list(TRAIN_CASES.values()), ids=list(TRAIN_CASES))
def test_trained_parameters_match(run):
    same_in_both(run, RTOL, ATOL)


def test_asgd_foreach_matches_to_float32_rounding():
    # PyTorch's foreach ASGD computes eta from the float32 step tensor (float32 arithmetic), its
    # single-tensor ASGD in Python floats: the two differ by ~2e-8 relative in PyTorch itself.
    same_in_both(trained("ASGD", lr=0.05, t0=0, weight_decay=0.1, foreach=True), 1e-6, 1e-8)


FUSED_FLOAT32_HYPERPARAMETER_CASES = {
    "adam_lr": lambda L: train(L, "Adam", dict(lr=L.tensor(0.05), fused=True))[0],
    "adamw_lr": lambda L: train(L, "AdamW", dict(lr=L.tensor(0.05), fused=True))[0],
    "adagrad_lr": lambda L: train(L, "Adagrad", dict(lr=L.tensor(0.05), fused=True, lr_decay=0.1))[0],
    "adam_betas": lambda L: train(L, "Adam", dict(lr=0.05, betas=(L.tensor(0.8), L.tensor(0.9)), fused=True))[0],
}


@pytest.mark.parametrize("run", list(FUSED_FLOAT32_HYPERPARAMETER_CASES.values()), ids=list(FUSED_FLOAT32_HYPERPARAMETER_CASES))
def test_fused_with_float32_tensor_hyperparameters_matches(run):
    same_in_both(run, RTOL, ATOL)


def test_adafactor_3d_and_0d_parameters_match():
    def run(L):
        params = [L.nn.Parameter(L.tensor(T3, dtype=L.float64)), L.nn.Parameter(L.tensor(0.7, dtype=L.float64))]
        opt = L.optim.Adafactor(params, lr=0.1)
        for _ in range(5):
            opt.zero_grad()
            ((params[0] ** 3).sum() + params[0].sum() * params[1] + params[1] ** 2).backward()
            opt.step()
        return params, [entries(opt.state[p]) for p in params]
    same_in_both(run, RTOL, ATOL)


def test_asgd_ax_eta_mu_state():
    def run(L):
        _, opt = train(L, "ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=2))
        return [entries(s) for s in opt.state_dict()["state"].values()]
    same_in_both(run, RTOL, ATOL)


def test_rprop_with_zero_gradient_coordinates_and_sign_flips():
    def run(L):
        p = L.nn.Parameter(L.tensor([0.0, 1.0, -2.0, 3.0], dtype=L.float64))
        opt = L.optim.Rprop([p], lr=0.8, etas=(0.25, 1.5), step_sizes=(1e-3, 2.0))
        target = L.tensor([0.5, 1.0, -1.0, 0.0], dtype=L.float64)
        mask = L.tensor([1.0, 0.0, 1.0, 1.0], dtype=L.float64)
        for _ in range(6):
            opt.zero_grad()
            (((p - target) ** 2) * mask).sum().backward()
            opt.step()
        return p, entries(opt.state[p])
    same_in_both(run, RTOL, ATOL)


def test_tensor_lr_changed_in_place_is_used_by_the_next_steps():
    def run(L):
        out = []
        for name in ["Adam", "SGD", "Adagrad", "NAdam"]:
            params = make_params(L)
            _, opt = train(L, name, dict(lr=L.tensor(0.05, dtype=L.float64)), steps=2, params=params)
            opt.param_groups[0]["lr"].fill_(0.01)
            for _ in range(2):
                opt.zero_grad()
                loss_of(L, params).backward()
                opt.step()
            out.append(params)
        return out
    same_in_both(run, RTOL, ATOL)


def test_rprop_prev_and_step_size_state():
    def run(L):
        _, opt = train(L, "Rprop", dict(lr=0.3, etas=(0.3, 1.5), step_sizes=(0.05, 0.4)), steps=6)
        return [entries(s) for s in opt.state_dict()["state"].values()]
    same_in_both(run, RTOL, ATOL)


# --- parameter groups with different options, tensor lr, params without grad ---------------------

def two_groups(first, second):
    return lambda params: [dict(params=[params[0]], **first), dict(params=[params[1]], **second)]


GROUP_CASES = {
    "sgd_groups": ("SGD", dict(lr=0.1), two_groups(dict(momentum=0.9, nesterov=True), dict(lr=0.3, weight_decay=0.1, maximize=True))),
    "adam_groups": ("Adam", dict(lr=0.05), two_groups(dict(amsgrad=True), dict(betas=(0.5, 0.6), weight_decay=0.1))),
    "rmsprop_groups": ("RMSprop", dict(lr=0.01), two_groups(dict(centered=True), dict(momentum=0.5, alpha=0.5))),
    "asgd_groups": ("ASGD", dict(lr=0.05), two_groups(dict(t0=1), dict(lambd=0.1, alpha=0.9))),
    "adagrad_groups": ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.4), two_groups(dict(lr_decay=0.5), dict(eps=1e-3, maximize=True))),
    "rprop_groups": ("Rprop", dict(lr=0.1), two_groups(dict(etas=(0.2, 1.9)), dict(step_sizes=(0.01, 0.05)))),
    "nadam_groups": ("NAdam", dict(lr=0.05), two_groups(dict(momentum_decay=0.2), dict(weight_decay=0.3, decoupled_weight_decay=True))),
    "adafactor_groups": ("Adafactor", dict(lr=0.1), two_groups(dict(d=3.0), dict(beta2_decay=-0.5, maximize=True))),
    "adam_fused_and_plain_groups": ("Adam", dict(lr=0.05), two_groups(dict(fused=True), dict(foreach=False))),
}


@pytest.mark.parametrize("case", list(GROUP_CASES.values()), ids=list(GROUP_CASES))
def test_param_groups_with_different_options(case):
    name, kwargs, groups = case

    def run(L):
        params, opt = train(L, name, kwargs, groups=groups)
        return params, [entries({k: v for k, v in g.items() if k != "params"}) for g in opt.param_groups]
    same_in_both(run, RTOL, ATOL)


def test_adagrad_group_initial_accumulator_value_is_ignored_as_in_torch():
    def run(L):
        params = make_params(L)
        _, opt = train(L, "Adagrad", dict(lr=0.1), groups=two_groups({}, dict(initial_accumulator_value=1.0)), steps=1,
                       params=params)
        return params, [opt.state[p]["sum"] for p in params], opt.param_groups[1]["initial_accumulator_value"]
    same_in_both(run, RTOL, ATOL)


def test_adagrad_param_added_later_gets_state_and_trains():
    def run(L):
        w, b = make_params(L)
        opt = L.optim.Adagrad([w], lr=0.1, initial_accumulator_value=0.2)
        opt.add_param_group({"params": [b], "lr": 0.3})
        before = sorted(len(opt.state[p]) for p in (w,))
        for _ in range(3):
            opt.zero_grad()
            loss_of(L, [w, b]).backward()
            opt.step()
        return before, [w, b], [entries(opt.state[p]) for p in (w, b)]
    same_in_both(run, RTOL, ATOL)


def test_param_group_option_types_are_kept():
    def run(L):
        out = []
        for name, kwargs in [("Adam", dict(betas=[0.8, 0.9])), ("Rprop", dict(etas=[0.4, 1.3], step_sizes=[1e-3, 1.0])),
                             ("Adafactor", dict(eps=[None, 1e-3])), ("Adafactor", {}), ("NAdam", dict(betas=(0.8, 0.9))),
                             ("SGD", dict(lr=1, momentum=0, weight_decay=0))]:
            group = getattr(L.optim, name)(make_params(L), **kwargs).param_groups[0]
            out.append([name, [[key, type(group[key]).__name__] for key in sorted(group)]])
        return out
    same_in_both(run)


SHAPES = {"0d": (), "size1": (1,), "empty": (0,), "empty_2d": (0, 3), "1x1": (1, 1)}


@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_rare_optimizers_on_0d_size1_and_empty_params(shape):
    def run(L):
        out = []
        for name in ["Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "RMSprop", "Rprop", "ASGD", "Adafactor"]:
            p = L.nn.Parameter(L.full(shape, 0.7, dtype=L.float64))
            opt = getattr(L.optim, name)([p], lr=0.1)

            def three_steps():
                for _ in range(3):
                    opt.zero_grad()
                    ((p ** 2).sum() + p.sum() * 0.3).backward()
                    opt.step()
                return p.detach().clone(), entries(opt.state[p])
            out.append([name, outcome(three_steps)])
        return out
    same_in_both(run, RTOL, ATOL)


@pytest.mark.parametrize("name", ["Adam", "SGD", "NAdam", "Adafactor", "Rprop", "ASGD"])
def test_float16_params_keep_dtype(name):
    def run(L):
        p = L.nn.Parameter(L.tensor([0.7, -1.2, 2.0], dtype=L.float16))
        opt = getattr(L.optim, name)([p], lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            (p ** 2).sum().backward()
            opt.step()
        return p, entries(opt.state[p])
    same_in_both(run, 1e-3, 1e-3)


TENSOR_LR_CASES = {
    "sgd": ("SGD", dict(momentum=0.9)),
    "adam": ("Adam", {}),
    "adamw_amsgrad": ("AdamW", dict(amsgrad=True)),
    "adagrad": ("Adagrad", dict(lr_decay=0.1)),
    "rmsprop": ("RMSprop", dict(centered=True)),
    "nadam": ("NAdam", {}),
    "radam": ("RAdam", {}),
    "adamax": ("Adamax", {}),
    "adadelta": ("Adadelta", {}),
    "asgd": ("ASGD", dict(t0=2)),
    "rprop": ("Rprop", {}),
    "adafactor": ("Adafactor", {}),
}


@pytest.mark.parametrize("case", list(TENSOR_LR_CASES.values()), ids=list(TENSOR_LR_CASES))
def test_float64_tensor_lr_trains_like_float_lr(case):
    name, kwargs = case

    def run(L):
        with_tensor, opt = train(L, name, dict(lr=L.tensor(0.05, dtype=L.float64), **kwargs))
        return with_tensor, type(opt.param_groups[0]["lr"]).__name__
    same_in_both(run, RTOL, ATOL)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
                                  "RMSprop", "Rprop", "ASGD", "Adafactor"])
def test_step_with_a_param_whose_grad_is_none(name):
    def run(L):
        w, b = make_params(L)
        unused = L.nn.Parameter(L.tensor([1.0, -2.0], dtype=L.float64))
        opt = getattr(L.optim, name)([w, unused, b], lr=0.05, weight_decay=0.1) if name not in ("Rprop",) else \
            getattr(L.optim, name)([w, unused, b], lr=0.05)
        for _ in range(3):
            opt.zero_grad()
            loss_of(L, [w, b]).backward()
            opt.step()
        sd = opt.state_dict()
        return [w, unused, b], unused.grad is None, sorted(sd["state"]), [sorted(s) for s in sd["state"].values()]
    same_in_both(run, RTOL, ATOL)


def test_grad_set_to_none_halfway_skips_that_param():
    def run(L):
        params = make_params(L)
        opt = L.optim.Adam(params, lr=0.05)
        for index in range(4):
            opt.zero_grad()
            loss_of(L, params).backward()
            if index >= 2:
                params[1].grad = None
            opt.step()
        return params, [opt.state[p]["step"] for p in params]
    same_in_both(run, RTOL, ATOL)


# --- state_dict()["state"]: keys and tensor dtypes ------------------------------------------------

STATE_CASES = {
    "sgd_momentum": ("SGD", dict(lr=0.1, momentum=0.9)),
    "sgd_fused_momentum": ("SGD", dict(lr=0.1, momentum=0.9, fused=True)),
    "adam": ("Adam", dict(lr=0.05)),
    "adam_fused_amsgrad": ("Adam", dict(lr=0.05, fused=True, amsgrad=True)),
    "adamw_amsgrad": ("AdamW", dict(lr=0.05, amsgrad=True)),
    "adagrad": ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.2)),
    "adagrad_fused": ("Adagrad", dict(lr=0.1, fused=True)),
    "adadelta": ("Adadelta", dict(lr=1.0)),
    "adamax": ("Adamax", dict(lr=0.05)),
    "nadam": ("NAdam", dict(lr=0.05)),
    "radam": ("RAdam", dict(lr=0.05)),
    "rmsprop_centered_momentum": ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    "rprop": ("Rprop", dict(lr=0.05)),
    "asgd": ("ASGD", dict(lr=0.05, t0=2)),
    "adafactor": ("Adafactor", dict(lr=0.05)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(STATE_CASES.values()), ids=list(STATE_CASES))
def test_state_dict_state_keys_values_and_dtypes(case, dtype):
    name, kwargs = case

    def run(L):
        params = make_params(L, getattr(L, dtype))
        _, opt = train(L, name, kwargs, params=params, steps=3)
        return [[index, entries(values)] for index, values in sorted(opt.state_dict()["state"].items())]
    same_in_both(run, 1e-6 if dtype == "float32" else RTOL, 1e-7 if dtype == "float32" else ATOL)


def test_lbfgs_state_dict_keys_types_and_values():
    def run(L):
        params = make_params(L)
        _, opt = train(L, "LBFGS", dict(lr=0.5, max_iter=4, history_size=3), steps=2, closure=True)
        state = opt.state_dict()["state"][0]
        return [[key, type(state[key]).__name__] for key in sorted(state)], state["func_evals"], state["n_iter"], \
            state["d"], L.tensor(state["t"], dtype=L.float64), state["old_dirs"], state["old_stps"], state["ro"], \
            state["H_diag"], L.tensor(state["prev_loss"], dtype=L.float64), state["prev_flat_grad"]
    same_in_both(run, 1e-8, 1e-10)


def test_load_state_dict_casts_float32_state_to_float64_params():
    def run(L):
        params32 = make_params(L, L.float32)
        _, opt32 = train(L, "ASGD", dict(lr=0.05, t0=1), params=params32, steps=3)
        params64 = make_params(L)
        opt64 = L.optim.ASGD(params64, lr=0.05, t0=1)
        opt64.load_state_dict(copy.deepcopy(opt32.state_dict()))
        return [entries(opt64.state[p]) for p in params64]
    same_in_both(run, 1e-6, 1e-7)


def lbfgs_loaded_into_float64(L):
    params32 = make_params(L, L.float32)
    _, opt32 = train(L, "LBFGS", dict(lr=0.5, max_iter=3), params=params32, steps=1, closure=True)
    params64 = make_params(L)
    opt64 = L.optim.LBFGS(params64, lr=0.5, max_iter=3)
    opt64.load_state_dict(copy.deepcopy(opt32.state_dict()))
    return opt64.state[params64[0]]


def test_load_state_dict_casts_lbfgs_tensors_to_param_dtype():
    same_in_both(lambda L: [str(lbfgs_loaded_into_float64(L)[key].dtype).split(".")[-1]
                            for key in ("d", "H_diag", "prev_flat_grad")])


def test_load_state_dict_casts_lbfgs_history_lists_to_param_dtype():
    same_in_both(lambda L: [[str(v.dtype).split(".")[-1] for v in lbfgs_loaded_into_float64(L)[key]]
                            for key in ("old_dirs", "old_stps", "ro")])


def test_load_state_dict_makes_step_float32_for_fused_groups():
    def run(L):
        params = make_params(L)
        _, opt = train(L, "Adam", dict(lr=0.05, fused=True), params=params, steps=2)
        sd = copy.deepcopy(opt.state_dict())
        for values in sd["state"].values():
            values["step"] = values["step"].double()
        fused = L.optim.Adam(params, lr=0.05, fused=True)
        fused.load_state_dict(sd)
        return [fused.state[p]["step"] for p in params]
    same_in_both(run)


def test_load_state_dict_keeps_float64_step_for_plain_groups():
    def run(L):
        params = make_params(L)
        _, opt = train(L, "Adam", dict(lr=0.05), params=params, steps=2)
        sd = copy.deepcopy(opt.state_dict())
        for values in sd["state"].values():
            values["step"] = values["step"].double()
        plain_opt = L.optim.Adam(params, lr=0.05)
        plain_opt.load_state_dict(sd)
        return [plain_opt.state[p]["step"] for p in params]
    same_in_both(run)


def test_load_state_dict_then_train_continues_for_rare_optimizers():
    def run(L):
        out = []
        for name, kwargs in [("Rprop", dict(lr=0.1)), ("NAdam", dict(lr=0.05)), ("RMSprop", dict(lr=0.01, centered=True)),
                             ("Adafactor", dict(lr=0.05)), ("Adagrad", dict(lr=0.1, lr_decay=0.1))]:
            params, opt = train(L, name, kwargs, steps=2)
            sd = copy.deepcopy(opt.state_dict())
            params2 = [L.nn.Parameter(p.clone()) for p in params]
            opt2 = getattr(L.optim, name)(params2, **kwargs)
            opt2.load_state_dict(sd)
            for _ in range(3):
                opt2.zero_grad()
                loss_of(L, params2).backward()
                opt2.step()
            out.append(params2)
        return out
    same_in_both(run, RTOL, ATOL)


def test_asgd_load_state_dict_then_train_continues():
    def run(L):
        params, opt = train(L, "ASGD", dict(lr=0.05, t0=1), steps=2)
        sd = copy.deepcopy(opt.state_dict())
        params2 = [L.nn.Parameter(p.clone()) for p in params]
        opt2 = L.optim.ASGD(params2, lr=0.05, t0=1)
        opt2.load_state_dict(sd)
        for _ in range(3):
            opt2.zero_grad()
            loss_of(L, params2).backward()
            opt2.step()
        return params2, [opt2.state[p]["eta"] for p in params2]
    same_in_both(run, RTOL, ATOL)


@pytest.mark.parametrize("name", ["Adam", "Adagrad", "RMSprop", "Rprop", "ASGD", "Adafactor"])
def test_load_state_dict_with_an_int_step_from_old_checkpoints(name):
    def run(L):
        params = make_params(L)
        _, opt = train(L, name, dict(lr=0.05), steps=2, params=params)
        sd = copy.deepcopy(opt.state_dict())
        for values in sd["state"].values():
            values["step"] = int(values["step"])
        opt2 = getattr(L.optim, name)(params, lr=0.05)
        opt2.load_state_dict(sd)
        loaded = [opt2.state[p]["step"] for p in params]
        opt2.zero_grad()
        loss_of(L, params).backward()
        opt2.step()
        return loaded, params, [opt2.state[p]["step"] for p in params]
    same_in_both(run, RTOL, ATOL)


def test_state_dict_keeps_non_parameter_state_keys():
    def run(L):
        params, opt = train(L, "SGD", dict(lr=0.1, momentum=0.5), steps=1)
        opt.state["note"] = {"epoch": 3}
        sd = opt.state_dict()
        return sorted(map(str, sd["state"])), sd["state"]["note"]["epoch"]
    same_in_both(run)


def test_load_state_dict_keeps_unknown_state_keys():
    def run(L):
        params, opt = train(L, "SGD", dict(lr=0.1, momentum=0.5), steps=1)
        sd = copy.deepcopy(opt.state_dict())
        sd["state"]["note"] = {"epoch": 3}
        opt.load_state_dict(sd)
        return opt.state["note"]["epoch"], len(opt.state)
    same_in_both(run)


# --- step hooks -----------------------------------------------------------------------------------

def test_step_pre_hook_gets_optimizer_args_and_kwargs():
    def run(L):
        params = make_params(L)
        opt = L.optim.SGD(params, lr=0.1)
        calls = []

        def hook(o, args, kwargs):
            calls.append((o is opt, type(args).__name__, len(args), args[0] is opt, sorted(kwargs), type(kwargs).__name__))

        opt.register_step_pre_hook(hook)
        closure = lambda: loss_of(L, params)  # noqa: E731
        opt.step()
        opt.step(closure)
        opt.step(closure=closure)
        return calls
    same_in_both(run)


def test_step_post_hook_sees_the_updated_parameters():
    def run(L):
        params = make_params(L)
        opt = L.optim.SGD(params, lr=0.1)
        seen = []
        opt.register_step_pre_hook(lambda o, a, k: seen.append(params[1].detach().clone()))
        opt.register_step_post_hook(lambda o, a, k: seen.append(params[1].detach().clone()))
        loss_of(L, params).backward()
        opt.step()
        return seen
    same_in_both(run, RTOL, ATOL)


def test_step_pre_hook_that_scales_the_gradients():
    def run(L):
        params = make_params(L)
        opt = L.optim.Adam(params, lr=0.05)

        def clip(o, args, kwargs):
            for group in o.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.grad.mul_(0.5).clamp_(-0.2, 0.2)
        opt.register_step_pre_hook(clip)
        for _ in range(5):
            opt.zero_grad()
            loss_of(L, params).backward()
            opt.step()
        return params
    same_in_both(run, RTOL, ATOL)


def test_step_pre_hook_replacing_args_and_kwargs():
    def run(L):
        params = make_params(L)
        opt = L.optim.SGD(params, lr=0.1)
        seen = []

        def closure():
            opt.zero_grad()
            loss = loss_of(L, params)
            loss.backward()
            return loss

        opt.register_step_pre_hook(lambda o, args, kwargs: ((args[0],), {"closure": closure}))
        opt.register_step_post_hook(lambda o, args, kwargs: seen.append((len(args), sorted(kwargs))))
        loss = opt.step()
        return loss, params, seen
    same_in_both(run, RTOL, ATOL)


@pytest.mark.parametrize("bad", ["list", "triple", "number"])
def test_step_pre_hook_with_a_bad_return_value_raises_as_torch(bad):
    value = {"list": lambda: [(), {}], "triple": lambda: ((), {}, None), "number": lambda: 1}[bad]

    def run(L):
        params = make_params(L)
        opt = L.optim.SGD(params, lr=0.1)
        opt.register_step_pre_hook(lambda o, args, kwargs: value())
        opt.step()
    raises_as_torch(run)


def test_step_hooks_remove_and_context_manager_and_double_remove():
    def run(L):
        params = make_params(L)
        opt = L.optim.SGD(params, lr=0.1)
        calls = []
        first = opt.register_step_pre_hook(lambda o, a, k: calls.append("first"))
        with opt.register_step_post_hook(lambda o, a, k: calls.append("scoped")):
            opt.step()
        opt.step()
        first.remove()
        first.remove()
        opt.step()
        return calls, type(first).__name__, len(opt._optimizer_step_pre_hooks), len(opt._optimizer_step_post_hooks)
    same_in_both(run)


def test_step_hooks_run_in_registration_order():
    def run(L):
        params = make_params(L)
        opt = L.optim.Adam(params, lr=0.1)
        calls = []
        for tag in "abc":
            opt.register_step_pre_hook(lambda o, a, k, tag=tag: calls.append("pre-" + tag))
            opt.register_step_post_hook(lambda o, a, k, tag=tag: calls.append("post-" + tag))
        opt.step()
        return calls
    same_in_both(run)


def test_step_hooks_on_lbfgs_and_on_a_custom_optimizer():
    def run(L):
        params = make_params(L)
        calls = []

        class Halving(L.optim.Optimizer):
            def __init__(self, params):
                super().__init__(params, dict(lr=0.5))

            def step(self, closure=None):
                calls.append("custom-step")
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is not None:
                            p.data.add_(p.grad, alpha=-group["lr"])

        custom = Halving(params)
        custom.register_step_pre_hook(lambda o, a, k: calls.append(("pre", type(o).__name__)))
        custom.register_step_post_hook(lambda o, a, k: calls.append(("post", type(o).__name__)))
        loss_of(L, params).backward()
        custom.step()
        lbfgs = L.optim.LBFGS(params, max_iter=2)
        lbfgs.register_step_pre_hook(lambda o, a, k: calls.append(("pre", type(o).__name__, len(a))))
        lbfgs.register_step_post_hook(lambda o, a, k: calls.append(("post", type(o).__name__)))

        def closure():
            lbfgs.zero_grad()
            loss = loss_of(L, params)
            loss.backward()
            return loss
        lbfgs.step(closure)
        return calls, params
    same_in_both(run, RTOL, ATOL)


def test_global_optimizer_step_hooks_order_and_remove():
    def run(L):
        module = optimizer_module(L)
        params = make_params(L)
        opt = L.optim.RMSprop(params, lr=0.1)
        calls = []
        handles = [
            module.register_optimizer_step_pre_hook(lambda o, a, k: calls.append(("global-pre", type(o).__name__))),
            module.register_optimizer_step_post_hook(lambda o, a, k: calls.append(("global-post", type(o).__name__))),
        ]
        try:
            opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
            opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
            loss_of(L, params).backward()
            opt.step()
            L.optim.Adamax(params).step()
        finally:
            for handle in handles:
                handle.remove()
        opt.step()
        return calls, type(handles[0]).__name__
    same_in_both(run)


def test_global_step_pre_hook_can_replace_arguments():
    def run(L):
        module = optimizer_module(L)
        params = make_params(L)
        opt = L.optim.SGD(params, lr=0.1)

        def closure():
            opt.zero_grad()
            loss = loss_of(L, params)
            loss.backward()
            return loss
        handle = module.register_optimizer_step_pre_hook(lambda o, args, kwargs: (args, {"closure": closure}))
        try:
            loss = opt.step()
        finally:
            handle.remove()
        return loss, params
    same_in_both(run, RTOL, ATOL)


# --- state-dict hooks -----------------------------------------------------------------------------

def test_state_dict_hooks_prepend_order_and_replacement():
    def run(L):
        params, opt = train(L, "Adam", dict(lr=0.05), steps=1)
        calls = []
        opt.register_state_dict_pre_hook(lambda o: calls.append("pre-a"))
        opt.register_state_dict_pre_hook(lambda o: calls.append("pre-b"), prepend=True)

        def add_key(o, sd):
            calls.append("post-add")
            sd["extra"] = 1

        def replace(o, sd):
            calls.append("post-replace")
            return {"state": {}, "param_groups": sd["param_groups"], "kept": sorted(sd)}
        opt.register_state_dict_post_hook(replace)
        opt.register_state_dict_post_hook(add_key, prepend=True)
        sd = opt.state_dict()
        return calls, sorted(sd), sd["kept"], len(sd["state"])
    same_in_both(run)


def test_state_dict_pre_hook_changes_are_saved():
    def run(L):
        params, opt = train(L, "SGD", dict(lr=0.1), steps=1)
        opt.register_state_dict_pre_hook(lambda o: o.param_groups[0].__setitem__("lr", 0.25))
        return opt.state_dict()["param_groups"][0]["lr"], opt.param_groups[0]["lr"]
    same_in_both(run)


def test_load_state_dict_pre_hook_gets_a_shallow_copy_and_may_replace_it():
    def run(L):
        params, opt = train(L, "SGD", dict(lr=0.1, momentum=0.9), steps=2)
        sd = copy.deepcopy(opt.state_dict())
        calls = []

        def look(o, state_dict):
            calls.append((state_dict is sd, sorted(state_dict)))
            state_dict["extra"] = 1

        def change_lr(o, state_dict):
            new = copy.deepcopy(state_dict)
            new["param_groups"][0]["lr"] = 0.7
            return new
        opt.register_load_state_dict_pre_hook(change_lr)
        opt.register_load_state_dict_pre_hook(look, prepend=True)
        opt.register_load_state_dict_post_hook(lambda o: calls.append(("post", o.param_groups[0]["lr"])))
        opt.load_state_dict(sd)
        return calls, sorted(sd), sd["param_groups"][0]["lr"], opt.param_groups[0]["lr"]
    same_in_both(run)


def test_load_state_dict_post_hooks_prepend_and_remove():
    def run(L):
        params, opt = train(L, "SGD", dict(lr=0.1), steps=1)
        calls = []
        opt.register_load_state_dict_post_hook(lambda o: calls.append("a"))
        handle = opt.register_load_state_dict_post_hook(lambda o: calls.append("b"), prepend=True)
        sd = opt.state_dict()
        opt.load_state_dict(sd)
        handle.remove()
        opt.load_state_dict(sd)
        return calls
    same_in_both(run)


def test_state_dict_hooks_are_not_deep_copied():
    def run(L):
        params, opt = train(L, "SGD", dict(lr=0.1), steps=1)
        opt.register_step_pre_hook(lambda o, a, k: None)
        opt.register_state_dict_pre_hook(lambda o: None)
        clone = copy.deepcopy(opt)
        return len(clone._optimizer_step_pre_hooks), len(clone._optimizer_state_dict_pre_hooks), len(opt._optimizer_step_pre_hooks)
    same_in_both(run)


# --- LBFGS ----------------------------------------------------------------------------------------

QA = [[4.0, 1.0, 0.5], [1.0, 3.0, -0.2], [0.5, -0.2, 2.0]]
QB = [1.0, -2.0, 0.5]


def lbfgs_quadratic(L, steps=3, start=(1.5, -0.5, 2.0), **kwargs):
    x = L.nn.Parameter(L.tensor(list(start), dtype=L.float64))
    A, b = L.tensor(QA, dtype=L.float64), L.tensor(QB, dtype=L.float64)
    opt = L.optim.LBFGS([x], **kwargs)
    losses = []

    def closure():
        opt.zero_grad()
        loss = 0.5 * x @ (A @ x) - b @ x + 0.1 * (x ** 4).sum()
        loss.backward()
        return loss
    for _ in range(steps):
        losses.append(opt.step(closure))
    state = opt.state[x]
    return x, losses, state["func_evals"], state["n_iter"]


def lbfgs_mlp(L, steps=3, **kwargs):
    w1 = L.nn.Parameter(L.tensor([[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]], dtype=L.float64))
    b1 = L.nn.Parameter(L.tensor([0.1, 0.0, -0.2], dtype=L.float64))
    w2 = L.nn.Parameter(L.tensor([[0.6, -0.8, 0.3]], dtype=L.float64))
    b2 = L.nn.Parameter(L.tensor([0.05], dtype=L.float64))
    params = [w1, b1, w2, b2]
    x = L.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [-1.0, 0.5], [0.3, -0.7]], dtype=L.float64)
    y = L.tensor([[1.0], [1.0], [0.0], [0.5], [-0.2]], dtype=L.float64)
    opt = L.optim.LBFGS(params, **kwargs)
    losses = []

    def closure():
        opt.zero_grad()
        out = L.tanh(x @ w1.t() + b1) @ w2.t() + b2
        loss = ((out - y) ** 2).mean()
        loss.backward()
        return loss
    for _ in range(steps):
        losses.append(opt.step(closure))
    state = opt.state[w1]
    return params, losses, state["func_evals"], state["n_iter"]


LBFGS_CASES = {
    "quadratic_defaults": lambda L: lbfgs_quadratic(L),
    "quadratic_lr_max_iter": lambda L: lbfgs_quadratic(L, lr=0.5, max_iter=4),
    "quadratic_history_size_1": lambda L: lbfgs_quadratic(L, lr=0.8, max_iter=6, history_size=1),
    "quadratic_max_eval": lambda L: lbfgs_quadratic(L, max_iter=10, max_eval=3),
    "quadratic_tolerance_grad": lambda L: lbfgs_quadratic(L, max_iter=50, tolerance_grad=1e-2),
    "quadratic_tolerance_change": lambda L: lbfgs_quadratic(L, max_iter=50, tolerance_change=1e-3),
    "quadratic_strong_wolfe": lambda L: lbfgs_quadratic(L, line_search_fn="strong_wolfe", max_iter=5),
    "quadratic_strong_wolfe_history_2": lambda L: lbfgs_quadratic(L, line_search_fn="strong_wolfe", history_size=2, max_iter=8, lr=0.7),
    "quadratic_strong_wolfe_max_eval": lambda L: lbfgs_quadratic(L, line_search_fn="strong_wolfe", max_iter=10, max_eval=6),
    "mlp_defaults": lambda L: lbfgs_mlp(L, max_iter=5),
    "mlp_history_size": lambda L: lbfgs_mlp(L, max_iter=8, history_size=2, lr=0.5),
    "mlp_strong_wolfe": lambda L: lbfgs_mlp(L, line_search_fn="strong_wolfe", max_iter=6),
    "mlp_strong_wolfe_tolerances": lambda L: lbfgs_mlp(L, line_search_fn="strong_wolfe", max_iter=20, tolerance_grad=1e-4,
                                                       tolerance_change=1e-6, history_size=3),
    "already_optimal": lambda L: lbfgs_quadratic(L, start=(0.0, 0.0, 0.0), tolerance_grad=10.0),
}


@pytest.mark.parametrize("run", list(LBFGS_CASES.values()), ids=list(LBFGS_CASES))
def test_lbfgs_matches(run):
    same_in_both(run, 1e-9, 1e-11)


def test_lbfgs_with_a_param_without_grad():
    def run(L):
        params = make_params(L)
        unused = L.nn.Parameter(L.tensor([3.0, 4.0], dtype=L.float64))
        opt = L.optim.LBFGS([params[0], unused, params[1]], max_iter=4)

        def closure():
            opt.zero_grad()
            loss = loss_of(L, params)
            loss.backward()
            return loss
        opt.step(closure)
        return params, unused, unused.grad is None
    same_in_both(run, 1e-9, 1e-11)


def test_lbfgs_closure_without_backward_returns_at_once():
    def run(L):
        params = make_params(L)
        opt = L.optim.LBFGS(params)
        loss = opt.step(lambda: loss_of(L, params))
        return loss, params, sorted(opt.state[params[0]])
    same_in_both(run, RTOL, ATOL)


def test_lbfgs_tensor_lr():
    same_in_both(lambda L: lbfgs_quadratic(L, lr=L.tensor(0.5, dtype=L.float64), max_iter=4), 1e-9, 1e-11)


# --- flags: differentiable, capturable, SparseAdam -----------------------------------------------

def test_differentiable_step_on_a_leaf_parameter_raises_as_torch():
    def run(L):
        w = L.nn.Parameter(L.tensor([1.0, 2.0], dtype=L.float64))
        opt = L.optim.SGD([w], lr=0.1, momentum=0.9, differentiable=True)
        (w ** 2).sum().backward()
        opt.step()
    raises_as_torch(run)


@bug("PyTorch's differentiable=True step records the update in the graph (d new_p / d grad = -lr); "
     "chainrule's step ignores the flag, so no gradient reaches the gradient tensor")
def test_differentiable_step_is_differentiable():
    def run(L):
        w0 = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
        g = L.tensor([0.5, -1.5], dtype=L.float64, requires_grad=True)
        p = w0.clone()
        p.grad = g
        opt = L.optim.SGD([p], lr=0.1, differentiable=True)
        opt.step()
        (p * L.tensor([1.0, 3.0], dtype=L.float64)).sum().backward()
        return p, w0.grad, g.grad
    same_in_both(run, RTOL, ATOL)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "NAdam", "RAdam", "Adamax", "Adadelta", "RMSprop", "Rprop", "ASGD"])
def test_capturable_on_cpu_raises_as_torch(name):
    def run(L):
        params = make_params(L)
        opt = getattr(L.optim, name)(params, capturable=True)
        loss_of(L, params).backward()
        opt.step()
    raises_as_torch(run)


def test_sparse_adam_exists_and_refuses_dense_gradients():
    def run(L):
        params = make_params(L)
        opt = L.optim.SparseAdam(params, lr=0.01, betas=(0.8, 0.9), maximize=True)
        loss_of(L, params).backward()
        return type(opt).__name__, entries({k: v for k, v in opt.defaults.items()}), outcome(opt.step)[0]
    same_in_both(run)


# --- bad input: PyTorch's exception type ----------------------------------------------------------

def construct(name, **kwargs):
    return lambda L: getattr(L.optim, name)(make_params(L), **kwargs)


RAISES_CASES = {
    "sgd_fused_and_foreach": construct("SGD", lr=0.1, fused=True, foreach=True),
    "sgd_fused_and_differentiable": construct("SGD", lr=0.1, fused=True, differentiable=True),
    "adam_fused_and_foreach": construct("Adam", fused=True, foreach=True),
    "adamw_fused_and_differentiable": construct("AdamW", fused=True, differentiable=True),
    "adagrad_fused_and_foreach": construct("Adagrad", fused=True, foreach=True),
    "rmsprop_fused_keyword": construct("RMSprop", fused=True),
    "lbfgs_maximize_keyword": construct("LBFGS", maximize=True),
    "adafactor_capturable_keyword": construct("Adafactor", capturable=True),
    "sgd_foreach_positional": lambda L: L.optim.SGD(make_params(L), 0.1, 0.9, 0, 0, False, False),
    "rprop_etas_minus_above_one": construct("Rprop", etas=(1.2, 1.5)),
    "rprop_etas_plus_below_one": construct("Rprop", etas=(0.5, 0.9)),
    "rprop_lr_negative": construct("Rprop", lr=-0.1),
    "asgd_lr_negative": construct("ASGD", lr=-0.1),
    "asgd_weight_decay_negative": construct("ASGD", weight_decay=-0.1),
    "adagrad_eps_negative": construct("Adagrad", eps=-1e-3),
    "adagrad_weight_decay_negative": construct("Adagrad", weight_decay=-0.1),
    "adadelta_rho_negative": construct("Adadelta", rho=-0.1),
    "adadelta_eps_negative": construct("Adadelta", eps=-1.0),
    "adadelta_lr_negative": construct("Adadelta", lr=-1.0),
    "adamax_eps_negative": construct("Adamax", eps=-1.0),
    "adamax_weight_decay_negative": construct("Adamax", weight_decay=-1.0),
    "rmsprop_eps_negative": construct("RMSprop", eps=-1.0),
    "rmsprop_weight_decay_negative": construct("RMSprop", weight_decay=-1.0),
    "nadam_betas_out_of_range": construct("NAdam", betas=(0.9, 1.0)),
    "nadam_weight_decay_negative": construct("NAdam", weight_decay=-0.1),
    "radam_betas_out_of_range": construct("RAdam", betas=(-0.1, 0.9)),
    "radam_weight_decay_negative": construct("RAdam", weight_decay=-0.1),
    "adafactor_beta2_decay_positive": construct("Adafactor", beta2_decay=0.5),
    "adafactor_eps1_negative": construct("Adafactor", eps=(-1e-3, 1e-3)),
    "adafactor_eps2_negative": construct("Adafactor", eps=(None, -1e-3)),
    "adafactor_d_below_one": construct("Adafactor", d=0.5),
    "adafactor_weight_decay_negative": construct("Adafactor", weight_decay=-0.1),
    "adafactor_lr_negative": construct("Adafactor", lr=-0.1),
    "adafactor_tensor_lr_two_elements": lambda L: L.optim.Adafactor(make_params(L), lr=L.tensor([0.1, 0.2])),
    "lbfgs_lr_negative": construct("LBFGS", lr=-1.0),
    "lbfgs_foreach_keyword": construct("LBFGS", foreach=True),
    "adamax_fused_keyword": construct("Adamax", fused=True),
    "nadam_fused_keyword": construct("NAdam", fused=True),
    "adafactor_foreach_positional": lambda L: L.optim.Adafactor(make_params(L), 0.01, -0.8, (None, 1e-3), 1.0, 0.0, True),
    "rprop_capturable_positional": lambda L: L.optim.Rprop(make_params(L), 0.01, (0.5, 1.2), (1e-6, 50), False),
    "adagrad_maximize_positional": lambda L: L.optim.Adagrad(make_params(L), 0.1, 0, 0, 0, 1e-10, None, True),
    "nadam_foreach_positional": lambda L: L.optim.NAdam(make_params(L), 0.01, (0.9, 0.999), 1e-8, 0, 4e-3, False, None),
    "adam_tensor_lr_foreach": lambda L: L.optim.Adam(make_params(L), lr=L.tensor(0.01), foreach=True),
}


@pytest.mark.parametrize("run", list(RAISES_CASES.values()), ids=list(RAISES_CASES))
def test_raises_as_torch(run):
    raises_as_torch(run)


def lbfgs_step(L, **kwargs):
    params = make_params(L)
    opt = L.optim.LBFGS(params, **kwargs)

    def closure():
        opt.zero_grad()
        loss = loss_of(L, params)
        loss.backward()
        return loss
    return opt.step(closure)


STEP_RAISES_CASES = {
    "lbfgs_without_closure": lambda L: L.optim.LBFGS(make_params(L)).step(),
    "lbfgs_unknown_line_search": lambda L: lbfgs_step(L, line_search_fn="armijo"),
    "load_state_dict_without_param_groups": lambda L: L.optim.Adam(make_params(L)).load_state_dict({"state": {}}),
    "load_state_dict_without_state": lambda L: L.optim.Adam(make_params(L)).load_state_dict(
        {"param_groups": L.optim.Adam(make_params(L)).state_dict()["param_groups"]}),
}


@pytest.mark.parametrize("run", list(STEP_RAISES_CASES.values()), ids=list(STEP_RAISES_CASES))
def test_step_and_load_raise_as_torch(run):
    raises_as_torch(run)


# --- warnings and defaults ------------------------------------------------------------------------

def warning_categories(run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return sorted({w.category.__name__ for w in caught})


def test_adafactor_and_rare_defaults_match():
    def run(L):
        out = []
        for name in ["Adafactor", "ASGD", "Rprop", "LBFGS", "NAdam", "RAdam", "Adagrad", "Adadelta", "Adamax", "RMSprop"]:
            opt = getattr(L.optim, name)(make_params(L))
            out.append([name, entries({k: (list(v) if isinstance(v, tuple) else v) for k, v in opt.defaults.items()})])
        return out
    same_in_both(run)


def test_lbfgs_max_eval_default_is_five_quarters_of_max_iter():
    same_in_both(lambda L: [L.optim.LBFGS(make_params(L), max_iter=n).defaults["max_eval"] for n in (1, 4, 7, 20)])


def test_no_warning_from_step_with_rare_flags():
    def run(L):
        def go():
            for name, kwargs in [("SGD", dict(fused=True)), ("Adam", dict(fused=True)), ("Adagrad", dict(fused=True)),
                                 ("ASGD", dict(foreach=True)), ("Rprop", dict(foreach=False))]:
                train(L, name, dict(lr=0.01, **kwargs), steps=1)
        return warning_categories(go)
    same_in_both(run)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_step_with_two_element_tensor_lr_in_group_raises_as_torch(name):
    def run(L):
        opt = getattr(L.optim, name)(make_params(L), lr=0.1)
        opt.param_groups[0]["lr"] = L.tensor([0.1, 0.2], dtype=L.float64)
        loss_of(L, opt.param_groups[0]["params"]).backward()
        opt.step()
    raises_as_torch(run)


def test_hook_handles_are_removable_handles():
    def run(L):
        opt = L.optim.SGD(make_params(L), lr=0.1)
        handles = [opt.register_step_pre_hook(lambda o, a, k: None), opt.register_step_post_hook(lambda o, a, k: None),
                   opt.register_state_dict_pre_hook(lambda o: None), opt.register_state_dict_post_hook(lambda o, sd: None),
                   opt.register_load_state_dict_pre_hook(lambda o, sd: None),
                   opt.register_load_state_dict_post_hook(lambda o: None)]
        kinds = [isinstance(h, L.utils.hooks.RemovableHandle) for h in handles]
        ids = [h.id for h in handles]
        for handle in handles:
            handle.remove()
        return kinds, ids == sorted(ids), len(set(ids)), [len(getattr(opt, name)) for name in (
            "_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
            "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
            "_optimizer_load_state_dict_post_hooks")]
    same_in_both(run)


def test_swap_in_optimizer_params_and_state():
    def run(L):
        w = L.nn.Parameter(L.tensor([1.0, 2.0], dtype=L.float64))
        opt = L.optim.SGD([w], lr=0.1, momentum=0.9)
        (w ** 2).sum().backward()
        opt.step()
        other = L.nn.Parameter(L.tensor([5.0, -1.0], dtype=L.float64))
        other.grad = L.tensor([1.0, 1.0], dtype=L.float64)
        sd = copy.deepcopy(opt.state_dict())
        with L.optim.swap_in_optimizer_params_and_state(opt, {"w": other}, sd):
            opt.step()
        return w, other, sd["state"][0]["momentum_buffer"], opt.state[w]["momentum_buffer"]
    same_in_both(run, RTOL, ATOL)
