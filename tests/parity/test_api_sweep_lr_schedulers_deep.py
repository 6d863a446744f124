"""A deeper sweep of ``torch.optim.lr_scheduler`` against PyTorch (the oracle), beyond what
``test_api_sweep_optim.py`` checks:

- the lr, momentum and Adam ``betas`` sequences over 30-35 steps, compared to rtol 1e-12 with the
  Python types of the values (float / int / tensor), for argument forms that sweep leaves out:
  positional arguments, three parameter groups, unsorted and repeated milestones, growing gammas,
  ``total_iters=0``, ``T_max=1``, ``eta_min`` above the rate, ``CosineAnnealingWarmRestarts`` with
  ``T_mult`` 1 and 3, ``CyclicLR`` with per-group momentum lists, Adam / AdamW betas, a callable
  ``scale_fn`` object, an unknown ``mode`` with a ``scale_fn``, fractional step sizes,
  ``OneCycleLR`` with ``epochs * steps_per_epoch``, per-group momentum lists, three phases with a
  linear anneal, Adagrad without momentum, stepping to exactly ``total_steps``; ``LambdaLR`` with
  callable objects, tuples and integer factors; ``SequentialLR`` with a ``ChainedScheduler`` first
  (and, raising, after a milestone), a milestone at 0, a single scheduler, ``last_epoch=5``, the inner
  schedulers' ``last_epoch`` / ``get_last_lr()``; ``ChainedScheduler`` with a tuple and ``optimizer=``;
  two schedulers stepped on one optimizer; ``LRScheduler`` / ``_LRScheduler`` subclasses; integer
  rates; rates changed by hand mid-schedule; a parameter group added mid-schedule;
- tensor rates (float32 and float64): the tensor kept in the group and filled in place, the
  dtype of each rate, ``get_last_lr()`` copies that do not alias the group's rate; tensor gammas,
  tensor ``lr_lambda`` factors, tensor ``max_lr`` / ``base_lr``;
- the deprecated ``step(epoch)`` closed forms (epochs jumping back and forth, fractional epochs of
  ``CosineAnnealingWarmRestarts`` mixed with plain steps);
- resuming: ``load_state_dict`` mid-schedule into a new scheduler gives the same continuation, and
  the checkpoint pattern ``last_epoch=k`` after loading the optimizer's state dict, pickling and
  ``copy.deepcopy`` of a scheduler, loading a state dict with more saved schedulers / lambdas;
- the parameter groups' entries the schedulers add (``initial_lr``, ``max_lr``, ``min_lr``,
  ``max_momentum``, ``base_momentum``), ``initial_lr`` kept when already there;
- ``ReduceLROnPlateau``: NaN / inf / tensor metrics, negative metrics in ``max`` mode, ``best``,
  ``num_bad_epochs``, ``in_cooldown``, ``last_epoch`` with ``epoch=``, groups added later, tensor
  rates, bad metrics;
- the warnings PyTorch gives (``get_lr()`` outside ``step`` for every scheduler, the deprecated
  epoch argument, step order, an overridden ``optimizer.step``) and where it gives none;
- signatures (parameter names, kinds, defaults) of every public scheduler, the removed
  ``verbose`` argument, subclass relations, and the exception types for bad arguments.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, types or
exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences found: each
turns into an XPASS failure the day it is fixed, and the mark must go.
"""

import copy
import functools
import inspect
import math
import warnings

import pytest
import torch

import chainrule
from tests.parity.sweep import assert_same, bundle, outcome, plain, raises_as_torch, same_in_both

RTOL = 1e-12


# --- helpers --------------------------------------------------------------------------------------


def _check(actual, expected, rtol, where="result"):
    """``actual`` (chainrule) matches ``expected`` (PyTorch): the same Python types, floats to ``rtol``,
    tensors by dtype, shape and values."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, chainrule.Tensor), f"{where}: {actual!r} is not a tensor"
        assert_same(plain(actual), plain(expected), rtol=rtol, atol=0)
        return
    assert type(actual).__name__ == type(expected).__name__, f"{where}: {actual!r} vs PyTorch's {expected!r}"
    if isinstance(expected, dict):
        assert sorted(map(str, actual)) == sorted(map(str, expected)), f"{where}: keys {list(actual)} vs {list(expected)}"
        for key in expected:
            _check(actual[key], expected[key], rtol, f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), f"{where}: {actual!r} vs PyTorch's {expected!r}"
        for index, (a, e) in enumerate(zip(actual, expected)):
            _check(a, e, rtol, f"{where}[{index}]")
    elif isinstance(expected, float):
        assert (math.isnan(actual) and math.isnan(expected)) or math.isclose(actual, expected, rel_tol=rtol, abs_tol=1e-300), \
            f"{where}: {actual!r} vs PyTorch's {expected!r}"
    else:
        assert actual == expected, f"{where}: {actual!r} vs PyTorch's {expected!r}"


def same_values(run, rtol=RTOL):
    """``run(torch)`` and ``run(chainrule)`` give the same nested values and types (floats to ``rtol``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = run(torch)
        actual = run(chainrule)
    _check(actual, expected, rtol)


def _groups(L, lrs):
    return [{"params": [L.nn.Parameter(L.tensor([float(i + 1), -1.0], dtype=L.float64))], "lr": lr}
            for i, lr in enumerate(lrs)]


def _opt(L, name="SGD", lrs=(0.1, 0.05), **kwargs):
    lr = lrs[0]
    return getattr(L.optim, name)(_groups(L, lrs), lr=lr, **kwargs)


def _lrs(L):
    return L.optim.lr_scheduler


def _snap(opt, sched):
    return (list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups],
            [g.get("momentum") for g in opt.param_groups], [g.get("betas") for g in opt.param_groups],
            getattr(sched, "last_epoch", None))


def _trace(opt, sched, steps=30, each=None):
    """The rates (and momentums, betas, last_epoch) after construction and after each of ``steps`` steps."""
    out = [_snap(opt, sched)]
    for i in range(steps):
        opt.step()
        if each is not None:
            each(opt, i)
        sched.step()
        out.append(_snap(opt, sched))
    return out


def _seq(name, *args, opt=None, steps=30, each=None, **kwargs):
    """A case: the trace of scheduler ``name`` (these arguments) on a fresh optimizer (``opt`` kwargs)."""
    def run(L):
        o = _opt(L, **(opt or {}))
        return _trace(o, getattr(_lrs(L), name)(o, *args, **kwargs), steps, each)
    return run


class _Halving:
    """A callable object (saved in state dicts by its attributes)."""

    def __init__(self, base=0.5):
        self.base = base

    def __call__(self, x):
        return self.base ** x


def _set_lr_at(step, value):
    def each(opt, i):
        if i == step:
            opt.param_groups[0]["lr"] = value
    return each


def _custom_scheduler(L, old_name=False):
    """A scheduler written by a user: linear warm-up over 5 epochs (closed form), or a recursive halving."""
    base = _lrs(L)._LRScheduler if old_name else _lrs(L).LRScheduler

    class Warmup(base):
        def __init__(self, optimizer, warmup=5, last_epoch=-1):
            self.warmup = warmup
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            if old_name:
                if self.last_epoch == 0 or self.last_epoch % 4:
                    return [g["lr"] for g in self.optimizer.param_groups]
                return [g["lr"] * 0.5 for g in self.optimizer.param_groups]
            return [b * min(1.0, (self.last_epoch + 1) / self.warmup) for b in self.base_lrs]

    return Warmup


def _add_group_at(step):
    def each(opt, i):
        if i == step:
            lib = chainrule if isinstance(opt, chainrule.optim.Optimizer) else torch
            opt.add_param_group({"params": [lib.nn.Parameter(lib.tensor([3.0], dtype=lib.float64))], "lr": 0.3})
    return each


# --- lr / momentum / betas sequences --------------------------------------------------------------

SEQUENCES = {
    "StepLR_positional_three_groups": _seq("StepLR", 3, 0.5, opt=dict(lrs=(0.1, 0.05, 1.0))),
    "StepLR_step_size_1_growing": _seq("StepLR", step_size=1, gamma=1.05),
    "MultiStepLR_unsorted_repeated": _seq("MultiStepLR", [9, 2, 5, 5], 0.5),
    "MultiStepLR_tuple_past_end": _seq("MultiStepLR", milestones=(1, 40), gamma=0.1),
    "ConstantLR_default": _seq("ConstantLR"),
    "ConstantLR_total_iters_0": _seq("ConstantLR", factor=0.5, total_iters=0),
    "ConstantLR_factor_1": _seq("ConstantLR", 1.0, 3),
    "LinearLR_decay_positional": _seq("LinearLR", 1.0, 0.1, 7),
    "LinearLR_to_zero": _seq("LinearLR", start_factor=0.5, end_factor=0.0, total_iters=10),
    "LinearLR_total_iters_0": _seq("LinearLR", start_factor=0.5, total_iters=0),
    "ExponentialLR_growth": _seq("ExponentialLR", 1.1),
    "PolynomialLR_sqrt_long": _seq("PolynomialLR", total_iters=40, power=0.5),
    "PolynomialLR_positional_cubic": _seq("PolynomialLR", 8, 3.0),
    "CosineAnnealingLR_T7_five_periods": _seq("CosineAnnealingLR", 7, 0.001, steps=35),
    "CosineAnnealingLR_T1": _seq("CosineAnnealingLR", T_max=1),
    "CosineAnnealingLR_eta_min_above_lr": _seq("CosineAnnealingLR", T_max=5, eta_min=0.2),
    "CAWR_T_mult_1": _seq("CosineAnnealingWarmRestarts", 5),
    "CAWR_T_mult_3_eta_min": _seq("CosineAnnealingWarmRestarts", T_0=2, T_mult=3, eta_min=0.01),
    "CyclicLR_momentum_lists": _seq("CyclicLR", base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=3, step_size_down=5,
                                    base_momentum=[0.8, 0.7], max_momentum=[0.9, 0.95], opt=dict(momentum=0.9)),
    "CyclicLR_exp_range_adam_betas": _seq("CyclicLR", 0.001, 0.01, 4, mode="exp_range", gamma=0.9, opt=dict(name="Adam")),
    "CyclicLR_triangular2_adamw_betas": _seq("CyclicLR", 0.001, 0.01, 2, 3, "triangular2", opt=dict(name="AdamW")),
    "CyclicLR_scale_fn_object": _seq("CyclicLR", 0.01, 0.1, step_size_up=3, scale_fn=_Halving(0.7), scale_mode="cycle",
                                     opt=dict(momentum=0.5)),
    "CyclicLR_no_cycle_momentum": _seq("CyclicLR", 0.01, 0.1, step_size_up=4, cycle_momentum=False),
    "CyclicLR_unknown_mode_with_scale_fn": _seq("CyclicLR", 0.01, 0.1, step_size_up=3, mode="mine",
                                                scale_fn=lambda x: 1.0 / x, opt=dict(momentum=0.9)),
    "CyclicLR_fractional_step_size": _seq("CyclicLR", 0.01, 0.1, step_size_up=2.5, step_size_down=1.5, opt=dict(momentum=0.9)),
    "OneCycleLR_epochs_momentum_lists": _seq("OneCycleLR", max_lr=[0.5, 1.0], epochs=3, steps_per_epoch=10,
                                             base_momentum=[0.8, 0.85], max_momentum=[0.9, 0.99], opt=dict(momentum=0.9)),
    "OneCycleLR_three_phase_linear_adam": _seq("OneCycleLR", 0.3, 33, pct_start=0.2, anneal_strategy="linear",
                                               three_phase=True, opt=dict(name="Adam"), steps=33),
    "OneCycleLR_adagrad_no_momentum": _seq("OneCycleLR", 0.2, total_steps=30, cycle_momentum=False, opt=dict(name="Adagrad")),
    "OneCycleLR_to_exactly_total_steps": _seq("OneCycleLR", 1.0, total_steps=30, pct_start=0.5, opt=dict(momentum=0.9)),
    "OneCycleLR_pct_start_0": _seq("OneCycleLR", 0.5, 30, pct_start=0.0, opt=dict(momentum=0.9)),
    "OneCycleLR_pct_start_0_05": _seq("OneCycleLR", 0.5, 30, pct_start=0.05, opt=dict(momentum=0.9)),
    "OneCycleLR_total_steps_wins_over_epochs": _seq("OneCycleLR", 0.5, 30, epochs=2, steps_per_epoch=5, opt=dict(momentum=0.9)),
    "OneCycleLR_max_lr_tuple": _seq("OneCycleLR", (0.1, 0.2), 30, opt=dict(momentum=0.9)),
    "CyclicLR_step_size_down_0": _seq("CyclicLR", 0.01, 0.1, step_size_up=3, step_size_down=0, opt=dict(momentum=0.9)),
    "CyclicLR_exp_range_with_scale_fn": _seq("CyclicLR", 0.01, 0.1, step_size_up=3, mode="exp_range", gamma=0.5,
                                             scale_fn=_Halving(0.9), opt=dict(momentum=0.9)),
    "OneCycleLR_div_factors": _seq("OneCycleLR", [0.5, 1.0], 31, div_factor=5.0, final_div_factor=50.0, opt=dict(momentum=0.9)),
    "LambdaLR_callable_object": _seq("LambdaLR", _Halving(0.9)),
    "LambdaLR_tuple": _seq("LambdaLR", (lambda e: 1.0 / (1 + e), lambda e: 0.9 ** e)),
    "LambdaLR_integer_factor": _seq("LambdaLR", lambda e: e // 5),
    "MultiplicativeLR_list_epoch_dependent": _seq("MultiplicativeLR", [lambda e: 0.9 if e % 2 else 1.0, lambda e: 1.0 + 0.01 * e]),
    "ExponentialLR_int_lr": _seq("ExponentialLR", 0.5, opt=dict(lrs=(1, 2))),
    "StepLR_int_lr": _seq("StepLR", 4, opt=dict(lrs=(1, 3))),
    "ExponentialLR_lr_set_by_hand": _seq("ExponentialLR", 0.9, each=_set_lr_at(10, 0.5)),
    "CosineAnnealingLR_lr_set_by_hand": _seq("CosineAnnealingLR", 8, 0.01, each=_set_lr_at(5, 0.5)),
    "LambdaLR_lr_set_by_hand": _seq("LambdaLR", lambda e: 0.95 ** e, each=_set_lr_at(5, 0.5)),
    "StepLR_group_added": _seq("StepLR", 3, 0.5, each=_add_group_at(4)),
    "tensor_gamma_and_tensor_factor": bundle(
        lambda L: (lambda o: _trace(o, _lrs(L).LambdaLR(o, lambda e: L.tensor([0.5]) ** e), 6))(
            L.optim.SGD([L.nn.Parameter(L.tensor([1.0]))], lr=L.tensor(0.1))),
        lambda L: (lambda o: _trace(o, _lrs(L).OneCycleLR(o, L.tensor(0.5, dtype=L.float64), 10), 10))(_opt(L, momentum=0.9)),
        lambda L: (lambda o: _trace(o, _lrs(L).CyclicLR(o, L.tensor(0.01), L.tensor(0.1), 2), 6))(_opt(L, momentum=0.9)),
        _seq("ExponentialLR", gamma=0.9, steps=6, opt=dict(lrs=(0.1, 0.2))),
        lambda L: (lambda o: _trace(o, _lrs(L).ExponentialLR(o, gamma=L.tensor(0.9)), 6))(_opt(L)),
        lambda L: (lambda o: _trace(o, _lrs(L).LambdaLR(o, lambda e: L.tensor(0.5, dtype=L.float64) ** e), 6))(_opt(L)),
        lambda L: (lambda o: _trace(o, _lrs(L).MultiplicativeLR(o, lambda e: L.tensor(0.5)), 6))(_opt(L)),
    ),
}


def _sequential(L, kind):
    o = _opt(L)
    s = _lrs(L)
    if kind == "chained_first":
        inner = s.ChainedScheduler([s.ConstantLR(o, factor=0.5, total_iters=4), s.ExponentialLR(o, gamma=0.95)])
        sched = s.SequentialLR(o, [inner, s.LinearLR(o, start_factor=0.2, total_iters=6)], milestones=[8])
    elif kind == "constant_then_cawr":
        sched = s.SequentialLR(o, [s.ConstantLR(o, factor=0.1, total_iters=3),
                                   s.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2)], milestones=[3])
    elif kind == "linear_then_lambda":
        sched = s.SequentialLR(o, [s.LinearLR(o, start_factor=0.1, total_iters=4),
                                   s.LambdaLR(o, lambda e: 0.9 ** e)], milestones=[4])
    elif kind == "last_epoch_5":
        sched = s.SequentialLR(o, [s.ConstantLR(o), s.ExponentialLR(o, 0.9)], [3], last_epoch=5)
    elif kind == "inner_states":
        inner = [s.ConstantLR(o, factor=0.5, total_iters=2), s.StepLR(o, 2, 0.5), s.ExponentialLR(o, 0.9)]
        sched = s.SequentialLR(o, inner, [3, 7])
        out = [[(x.last_epoch, x.get_last_lr()) for x in inner]]
        for _ in range(12):
            o.step()
            sched.step()
            out.append([(x.last_epoch, x.get_last_lr()) for x in inner] + [sched.last_epoch, sched.get_last_lr()])
        return out
    elif kind == "milestone_zero":
        sched = s.SequentialLR(o, [s.ConstantLR(o, factor=0.1), s.StepLR(o, step_size=3, gamma=0.5)], milestones=[0])
    elif kind == "single":
        sched = s.SequentialLR(o, [s.ExponentialLR(o, gamma=0.9)], milestones=[])
    elif kind == "warmup_cosine":
        sched = s.SequentialLR(optimizer=o, schedulers=[s.LinearLR(o, start_factor=0.01, total_iters=5),
                                                         s.CosineAnnealingLR(o, T_max=25, eta_min=1e-4)], milestones=[5])
    elif kind == "multistep_then_poly":
        sched = s.SequentialLR(o, [s.MultiStepLR(o, [2, 4]), s.PolynomialLR(o, total_iters=10, power=2.0)], [6])
    elif kind == "chained_tuple_optimizer_kw":
        sched = s.ChainedScheduler((s.ConstantLR(o, factor=0.5, total_iters=3), s.ExponentialLR(o, gamma=0.95),
                                    s.MultiStepLR(o, [5, 12], gamma=0.5)), optimizer=o)
    elif kind == "chained_warmup_cosine":
        sched = s.ChainedScheduler([s.LinearLR(o, start_factor=0.1, total_iters=6), s.CosineAnnealingLR(o, T_max=10)])
    elif kind == "two_schedulers_stepped":
        first, second = s.StepLR(o, step_size=4, gamma=0.5), s.ExponentialLR(o, gamma=0.97)
        out = [_snap(o, second)]
        for _ in range(30):
            o.step()
            first.step()
            second.step()
            out.append(_snap(o, first) + _snap(o, second))
        return out
    elif kind == "custom_closed_form":
        sched = _custom_scheduler(L)(o, warmup=6)
    elif kind == "custom_old_name_recursive":
        sched = _custom_scheduler(L, old_name=True)(o)
    return _trace(o, sched, 30)


SEQUENCES.update({
    f"{kind}": functools.partial(_sequential, kind=kind)
    for kind in ("last_epoch_5", "inner_states", "chained_first", "constant_then_cawr", "linear_then_lambda", "milestone_zero", "single", "warmup_cosine", "multistep_then_poly",
                 "chained_tuple_optimizer_kw", "chained_warmup_cosine", "two_schedulers_stepped",
                 "custom_closed_form", "custom_old_name_recursive")
})


@pytest.mark.parametrize("name", list(SEQUENCES))
def test_lr_momentum_betas_sequence(name):
    same_values(SEQUENCES[name])


# --- tensor learning rates ------------------------------------------------------------------------

TENSOR_LR_SCHEDULERS = {
    "StepLR": lambda s, o: s.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, [2, 5], gamma=0.3),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=3),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.2, total_iters=4),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=6, power=2.0),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=4, eta_min=0.01),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda e: 1.0 / (e + 1)),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lambda e: 0.8),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=12, cycle_momentum=False),
    "CyclicLR": lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, cycle_momentum=False),
}


def _tensor_lr_trace(L, key, dtype):
    lr = L.tensor(0.1, dtype=getattr(L, dtype))
    o = L.optim.SGD([L.nn.Parameter(L.tensor([1.0, 2.0]))], lr=lr)
    held = o.param_groups[0]["lr"]
    sched = TENSOR_LR_SCHEDULERS[key](_lrs(L), o)
    out = []
    for _ in range(10):
        o.step()
        sched.step()
        last = sched.get_last_lr()[0]
        out.append((o.param_groups[0]["lr"], last, o.param_groups[0]["initial_lr"]))
    group_lr = o.param_groups[0]["lr"]
    return out, group_lr is held, last is group_lr, sched.base_lrs


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", list(TENSOR_LR_SCHEDULERS))
def test_tensor_lr_sequence_and_identity(key, dtype):
    same_values(lambda L: _tensor_lr_trace(L, key, dtype), rtol=1e-6 if dtype == "float32" else RTOL)


def test_tensor_lr_get_last_lr_is_a_copy():
    def run(L):
        o = L.optim.SGD([L.nn.Parameter(L.tensor([1.0]))], lr=L.tensor(0.1))
        sched = _lrs(L).ExponentialLR(o, gamma=0.5)
        o.step()
        sched.step()
        sched.get_last_lr()[0].fill_(7.0)
        sched.base_lrs[0].fill_(9.0)
        return o.param_groups[0]["lr"], o.param_groups[0]["initial_lr"]
    same_values(run)


def test_reduce_lr_on_plateau_tensor_lr_filled_in_place():
    def run(L):
        o = L.optim.SGD([L.nn.Parameter(L.tensor([1.0]))], lr=L.tensor(0.5, dtype=L.float64))
        held = o.param_groups[0]["lr"]
        sched = _lrs(L).ReduceLROnPlateau(o, patience=0, factor=0.5)
        out = []
        for m in (1.0, 2.0, 3.0, 0.5, 0.6):
            sched.step(m)
            out.append((o.param_groups[0]["lr"], sched.get_last_lr()[0]))
        return out, o.param_groups[0]["lr"] is held
    same_values(run)


# --- step(epoch): the deprecated closed forms -----------------------------------------------------

CLOSED_FORM = {
    "StepLR": lambda s, o: s.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR_unsorted": lambda s, o: s.MultiStepLR(o, [8, 2, 5, 5], gamma=0.5),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=4),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=6),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=7, power=1.5),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=6, eta_min=0.001),
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda e: 1.0 / (1 + e)),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lambda e: 0.9),
    "CyclicLR": lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="triangular2"),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, 0.5, total_steps=20),
}

_EPOCHS = [0, 3, 1, 7, 7, 12, 4, 15, 2, 9]


@pytest.mark.parametrize("key", list(CLOSED_FORM))
def test_step_with_epoch_argument_sequence(key):
    def run(L):
        o = _opt(L, momentum=0.9)
        sched = CLOSED_FORM[key](_lrs(L), o)
        out = []
        for epoch in _EPOCHS:
            o.step()
            sched.step(epoch)
            out.append(_snap(o, sched))
        sched.step()
        out.append(_snap(o, sched))
        return out
    same_values(run)


def test_cosine_warm_restarts_fractional_epochs_mixed_with_steps():
    def run(L):
        out = []
        for t_mult in (1, 2):
            o = _opt(L)
            sched = _lrs(L).CosineAnnealingWarmRestarts(o, T_0=3, T_mult=t_mult, eta_min=0.001)
            for epoch in [0.5, 1.25, 2.999, 3.0, None, None, 9.0, 8.5, None, 1.5, 21.0, 20.75, None, 45.5]:
                o.step()
                sched.step() if epoch is None else sched.step(epoch)
                out.append((sched.get_last_lr(), sched.T_cur, sched.T_i, sched.last_epoch))
        return out
    same_values(run)


def test_cosine_warm_restarts_batch_fractions():
    def run(L):
        o = _opt(L)
        sched = _lrs(L).CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2)
        out = []
        for epoch in range(8):
            for batch in range(4):
                o.step()
                sched.step(epoch + batch / 4)
                out.append((sched.get_last_lr()[1], sched.T_cur, sched.T_i, sched.last_epoch))
        return out
    same_values(run)


# --- resuming --------------------------------------------------------------------------------------

RESUMABLE = {
    "ExponentialLR": (dict(), lambda s, o: s.ExponentialLR(o, gamma=0.9)),
    "ConstantLR": (dict(), lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=9)),
    "LambdaLR_object": (dict(), lambda s, o: s.LambdaLR(o, _Halving(0.9))),
    "MultiplicativeLR": (dict(), lambda s, o: s.MultiplicativeLR(o, lambda e: 0.95)),
    "CosineAnnealingLR_T4": (dict(), lambda s, o: s.CosineAnnealingLR(o, T_max=4, eta_min=0.01)),
    "CAWR": (dict(), lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2)),
    "CyclicLR_exp_range_adam": (dict(name="Adam"), lambda s, o: s.CyclicLR(o, 0.001, 0.01, 3, mode="exp_range", gamma=0.9)),
    "CyclicLR_scale_fn_object": (dict(momentum=0.9), lambda s, o: s.CyclicLR(o, 0.01, 0.1, 3, scale_fn=_Halving(0.8))),
    "OneCycleLR_three_phase_adam": (dict(name="Adam"), lambda s, o: s.OneCycleLR(o, 0.5, 35, three_phase=True)),
    "PolynomialLR": (dict(), lambda s, o: s.PolynomialLR(o, total_iters=14, power=2.0)),
    "SequentialLR_three": (dict(), lambda s, o: s.SequentialLR(o, [s.ConstantLR(o, factor=0.5, total_iters=3),
                                                                    s.ExponentialLR(o, gamma=0.9),
                                                                    s.CosineAnnealingLR(o, T_max=5)], [4, 9])),
    "ChainedScheduler_three": (dict(), lambda s, o: s.ChainedScheduler([s.LinearLR(o, 0.2, total_iters=4),
                                                                        s.StepLR(o, 3, 0.5), s.ExponentialLR(o, 0.98)])),
}


@pytest.mark.parametrize("key", list(RESUMABLE))
def test_load_state_dict_mid_schedule_resumes_same_sequence(key):
    def run(L):
        opt_kwargs, make = RESUMABLE[key]
        o = _opt(L, **opt_kwargs)
        sched = make(_lrs(L), o)
        for _ in range(8):
            o.step()
            sched.step()
        sd = copy.deepcopy(sched.state_dict())
        o2 = _opt(L, **opt_kwargs)
        sched2 = make(_lrs(L), o2)
        o2.load_state_dict(copy.deepcopy(o.state_dict()))
        sched2.load_state_dict(sd)
        first, resumed = _trace(o, sched, 20), _trace(o2, sched2, 20)
        return first, resumed == first
    same_values(run)


LAST_EPOCH_RESUMABLE = {
    "StepLR": (dict(), lambda s, o, e: s.StepLR(o, step_size=3, gamma=0.5, last_epoch=e)),
    "MultiStepLR": (dict(), lambda s, o, e: s.MultiStepLR(o, [4, 9, 12], gamma=0.5, last_epoch=e)),
    "ExponentialLR": (dict(), lambda s, o, e: s.ExponentialLR(o, gamma=0.9, last_epoch=e)),
    "LinearLR": (dict(), lambda s, o, e: s.LinearLR(o, start_factor=0.2, total_iters=10, last_epoch=e)),
    "CosineAnnealingLR": (dict(), lambda s, o, e: s.CosineAnnealingLR(o, T_max=10, eta_min=0.01, last_epoch=e)),
    "LambdaLR": (dict(), lambda s, o, e: s.LambdaLR(o, lambda k: 0.9 ** k, last_epoch=e)),
    "CAWR": (dict(), lambda s, o, e: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, last_epoch=e)),
    "CyclicLR": (dict(momentum=0.9), lambda s, o, e: s.CyclicLR(o, 0.01, 0.1, step_size_up=4, last_epoch=e)),
    "OneCycleLR": (dict(momentum=0.9), lambda s, o, e: s.OneCycleLR(o, 0.5, total_steps=30, last_epoch=e)),
}


@pytest.mark.parametrize("key", list(LAST_EPOCH_RESUMABLE))
def test_last_epoch_constructor_after_loading_optimizer_state(key):
    def run(L):
        opt_kwargs, make = LAST_EPOCH_RESUMABLE[key]
        o = _opt(L, **opt_kwargs)
        sched = make(_lrs(L), o, -1)
        for _ in range(7):
            o.step()
            sched.step()
        o2 = _opt(L, **opt_kwargs)
        o2.load_state_dict(copy.deepcopy(o.state_dict()))
        sched2 = make(_lrs(L), o2, 6)
        return _trace(o, sched, 10), _trace(o2, sched2, 10)
    same_values(run)


def test_last_epoch_without_initial_lr_raises_key_error_for_each_scheduler():
    makers = [
        lambda s, o: s.ExponentialLR(o, 0.9, last_epoch=3),
        lambda s, o: s.CosineAnnealingLR(o, 5, last_epoch=0),
        lambda s, o: s.LambdaLR(o, lambda e: 1.0, last_epoch=2),
        lambda s, o: s.CosineAnnealingWarmRestarts(o, 3, last_epoch=1),
    ]
    for make in makers:
        raises_as_torch(lambda L: make(_lrs(L), _opt(L)))
        assert outcome(lambda: make(_lrs(torch), _opt(torch)))[1] is KeyError


def test_state_dict_is_a_snapshot_and_load_restores_callable_object_attributes():
    def run(L):
        o = _opt(L)
        fn = _Halving(0.9)
        sched = _lrs(L).LambdaLR(o, [fn, lambda e: 1.0])
        for _ in range(3):
            o.step()
            sched.step()
        sd = sched.state_dict()
        before = (sd["last_epoch"], list(sd["_last_lr"]), sd["lr_lambdas"])
        fn.base = 0.1
        for _ in range(2):
            o.step()
            sched.step()
        sched.load_state_dict(sd)
        return before, fn.base, sched.last_epoch, sorted(sd), sched.get_last_lr()
    same_values(run)


def test_pickle_and_deepcopy_of_a_scheduler_continue_the_schedule():
    import pickle

    def run(L):
        o = _opt(L)
        sched = _lrs(L).MultiStepLR(o, [2, 5, 6], 0.5)
        for _ in range(3):
            o.step()
            sched.step()
        by_pickle, by_copy = pickle.loads(pickle.dumps(sched)), copy.deepcopy(sched)
        return (_trace(by_pickle.optimizer, by_pickle, 5), _trace(by_copy.optimizer, by_copy, 5),
                [g["lr"] for g in o.param_groups], type(by_pickle.milestones).__name__)
    same_values(run)


def _load_longer_state(kind):
    def run(L):
        o, s = _opt(L), _lrs(L)
        if kind == "chained":
            saved = s.ChainedScheduler([s.ConstantLR(o), s.ExponentialLR(o, 0.9), s.StepLR(o, 2)]).state_dict()
            s.ChainedScheduler([s.ConstantLR(o), s.ExponentialLR(o, 0.9)]).load_state_dict(saved)
        elif kind == "sequential":
            saved = s.SequentialLR(o, [s.ConstantLR(o), s.ExponentialLR(o, 0.9), s.StepLR(o, 2)], [2, 4]).state_dict()
            s.SequentialLR(o, [s.ConstantLR(o), s.ExponentialLR(o, 0.9)], [2]).load_state_dict(saved)
        else:
            saved = s.LambdaLR(o, [_Halving(), _Halving()]).state_dict()
            s.LambdaLR(_opt(L, lrs=(0.1,)), [_Halving()]).load_state_dict(saved)
    return run


@pytest.mark.parametrize("kind", ["chained", "sequential", "lambda"])
def test_load_state_dict_with_more_saved_entries_raises_as_torch(kind):
    raises_as_torch(_load_longer_state(kind))


def test_reduce_lr_on_plateau_load_state_dict_into_other_mode():
    def run(L):
        o = _opt(L)
        sched = _lrs(L).ReduceLROnPlateau(o, mode="max", patience=0, threshold_mode="abs")
        for m in (1.0, 2.0, 1.5):
            sched.step(m)
        sd = sched.state_dict()
        o2 = _opt(L)
        sched2 = _lrs(L).ReduceLROnPlateau(o2)
        sched2.load_state_dict(sd)
        out = []
        for m in (2.5, 2.4, 2.4):
            sched2.step(m)
            out.append((sched2.best, sched2.num_bad_epochs, [g["lr"] for g in o2.param_groups]))
        return out, sched2.mode, sched2.mode_worse, sched2.threshold_mode
    same_values(run)


# --- parameter groups -----------------------------------------------------------------------------

def _group_entries(o):
    return [{k: v for k, v in g.items() if k != "params"} for g in o.param_groups]


GROUP_CASES = {
    "CyclicLR_sgd": lambda L: (lambda o: (_lrs(L).CyclicLR(o, [0.01, 0.02], 0.1, base_momentum=0.7), _group_entries(o))[1])(
        _opt(L, momentum=0.5)),
    "CyclicLR_adam": lambda L: (lambda o: (_lrs(L).CyclicLR(o, 0.01, 0.1, max_momentum=0.95), _group_entries(o))[1])(
        _opt(L, name="Adam", betas=(0.8, 0.99))),
    "OneCycleLR_sgd": lambda L: (lambda o: (_lrs(L).OneCycleLR(o, [0.5, 1.0], 10, div_factor=4.0), _group_entries(o))[1])(
        _opt(L, momentum=0.5)),
    "OneCycleLR_no_momentum": lambda L: (lambda o: (_lrs(L).OneCycleLR(o, 0.5, 10, cycle_momentum=False), _group_entries(o))[1])(
        _opt(L)),
    "initial_lr_kept": lambda L: (lambda o: (o.param_groups[0].__setitem__("initial_lr", 0.5),
                                             _lrs(L).ExponentialLR(o, 0.5).base_lrs, _group_entries(o))[1:])(_opt(L)),
    "OneCycleLR_overwrites_initial_lr": lambda L: (lambda o: (o.param_groups[0].__setitem__("initial_lr", 0.5),
                                                              _lrs(L).OneCycleLR(o, 1.0, 10).base_lrs, _group_entries(o))[1:])(
        _opt(L, momentum=0.9)),
    "second_scheduler_uses_initial_lr": lambda L: (lambda o: (_lrs(L).ConstantLR(o, factor=0.5),
                                                              _lrs(L).StepLR(o, 2).base_lrs, _group_entries(o))[1:])(_opt(L)),
}


@pytest.mark.parametrize("name", list(GROUP_CASES))
def test_param_group_entries_after_construction(name):
    same_values(GROUP_CASES[name])


# --- ReduceLROnPlateau ----------------------------------------------------------------------------

def _plateau(L, metrics, **kwargs):
    o = _opt(L)
    sched = _lrs(L).ReduceLROnPlateau(o, **kwargs)
    out = [(sched.get_last_lr(), sched.best, sched.last_epoch)]
    for m in metrics:
        sched.step(m(L) if callable(m) else m)
        out.append((sched.get_last_lr(), [g["lr"] for g in o.param_groups], sched.best, sched.num_bad_epochs,
                    sched.in_cooldown, sched.cooldown_counter, sched.last_epoch))
    return out


NAN, INF = float("nan"), float("inf")

PLATEAU_CASES = {
    "nan_metrics": lambda L: _plateau(L, [1.0, NAN, NAN, 0.5, NAN, NAN, NAN], patience=1),
    "inf_metrics": lambda L: _plateau(L, [INF, INF, 1.0, -INF, -INF, -INF], patience=1, factor=0.5),
    "tensor_metrics": lambda L: _plateau(L, [lambda L: L.tensor(1.0), lambda L: L.tensor([0.9], dtype=L.float64),
                                             lambda L: L.tensor(2, dtype=L.int64), lambda L: L.tensor(3.0)], patience=0),
    "int_and_bool_metrics": lambda L: _plateau(L, [3, 2, 2, True, False, False], patience=0, factor=0.5),
    "max_rel_negative_metrics": lambda L: _plateau(L, [-1.0, -0.99995, -0.5, -0.5, -0.50001, -0.4], mode="max",
                                                   threshold=0.1, patience=0, factor=0.5),
    "min_rel_negative_metrics": lambda L: _plateau(L, [-1.0, -1.05, -1.2, -1.25, -1.3], threshold=0.1, patience=0, factor=0.5),
    "cooldown_patience_0": lambda L: _plateau(L, [1.0] * 12, patience=0, cooldown=3, factor=0.5),
    "min_lr_tuple_eps": lambda L: _plateau(L, [1.0] * 14, patience=0, factor=0.3, min_lr=(0.001, 0.004), eps=1e-4),
    "threshold_zero_equal_is_bad": lambda L: _plateau(L, [1.0, 1.0, 1.0, 0.9, 0.9], patience=1, threshold=0.0),
    "positional": lambda L: (lambda o: (lambda s: [s.step(1.0) for _ in range(4)] and
                                        (s.mode, s.factor, s.patience, s.threshold, s.threshold_mode, s.cooldown,
                                         s.min_lrs, s.eps, [g["lr"] for g in o.param_groups]))(
        _lrs(L).ReduceLROnPlateau(o, "max", 0.5, 1, 0.01, "abs", 1, 0.001, 1e-6)))(_opt(L)),
}


@pytest.mark.parametrize("name", list(PLATEAU_CASES))
def test_reduce_lr_on_plateau_sequences(name):
    same_values(PLATEAU_CASES[name])


def test_reduce_lr_on_plateau_epoch_argument():
    def run(L):
        o = _opt(L)
        sched = _lrs(L).ReduceLROnPlateau(o, patience=0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sched.step(1.0, epoch=7)
            sched.step(1.0)
            sched.step(1.0, 3)
        return sched.last_epoch, [c.category.__name__ for c in caught], [g["lr"] for g in o.param_groups]
    same_values(run)


def test_reduce_lr_on_plateau_group_added_with_scalar_min_lr():
    def run(L):
        o = _opt(L)
        sched = _lrs(L).ReduceLROnPlateau(o, patience=0, min_lr=0.02)
        sched.step(1.0)
        o.add_param_group({"params": [L.nn.Parameter(L.tensor([3.0]))], "lr": 0.3})
        for _ in range(4):
            sched.step(1.0)
        return [g["lr"] for g in o.param_groups], sched.min_lrs, sched.get_last_lr()
    same_values(run)


def test_reduce_lr_on_plateau_group_added_with_list_min_lr_raises_as_torch():
    def run(L):
        o = _opt(L)
        sched = _lrs(L).ReduceLROnPlateau(o, patience=0, min_lr=[0.01, 0.02])
        sched.step(1.0)
        o.add_param_group({"params": [L.nn.Parameter(L.tensor([3.0]))], "lr": 0.3})
        sched.step(1.0)
    raises_as_torch(run)


@pytest.mark.parametrize("metric", ["text", "none", "two_elements", "list"])
def test_reduce_lr_on_plateau_bad_metric_raises_as_torch(metric):
    make = {"text": lambda L: "abc", "none": lambda L: None, "two_elements": lambda L: L.tensor([1.0, 2.0]),
            "list": lambda L: [1.0]}[metric]
    raises_as_torch(lambda L: _lrs(L).ReduceLROnPlateau(_opt(L)).step(make(L)))


def test_reduce_lr_on_plateau_state_dict_keys_and_values():
    def run(L):
        sched = _lrs(L).ReduceLROnPlateau(_opt(L), mode="max", min_lr=[0.01, 0.02], cooldown=2, patience=1)
        for m in (1.0, 0.5, 0.5, 0.5):
            sched.step(m)
        return sched.state_dict()
    same_values(run)


# --- warnings -------------------------------------------------------------------------------------

GET_LR_MAKERS = {
    "LambdaLR": (dict(), lambda s, o: s.LambdaLR(o, lambda e: 0.5 ** e)),
    "MultiplicativeLR": (dict(), lambda s, o: s.MultiplicativeLR(o, lambda e: 0.5)),
    "StepLR": (dict(), lambda s, o: s.StepLR(o, 1, 0.5)),
    "MultiStepLR": (dict(), lambda s, o: s.MultiStepLR(o, [1], 0.5)),
    "ConstantLR": (dict(), lambda s, o: s.ConstantLR(o, 0.5, 1)),
    "LinearLR": (dict(), lambda s, o: s.LinearLR(o, 0.5, total_iters=3)),
    "ExponentialLR": (dict(), lambda s, o: s.ExponentialLR(o, 0.5)),
    "PolynomialLR": (dict(), lambda s, o: s.PolynomialLR(o, 4, 2.0)),
    "CosineAnnealingLR": (dict(), lambda s, o: s.CosineAnnealingLR(o, 4)),
    "CosineAnnealingWarmRestarts": (dict(), lambda s, o: s.CosineAnnealingWarmRestarts(o, 3)),
    "CyclicLR": (dict(momentum=0.9), lambda s, o: s.CyclicLR(o, 0.01, 0.1, 2)),
    "OneCycleLR": (dict(momentum=0.9), lambda s, o: s.OneCycleLR(o, 0.1, 10)),
}


@pytest.mark.parametrize("key", list(GET_LR_MAKERS))
def test_get_lr_called_by_user_warns_and_returns_as_torch(key):
    def run(L):
        opt_kwargs, make = GET_LR_MAKERS[key]
        o = _opt(L, **opt_kwargs)
        sched = make(_lrs(L), o)
        o.step()
        sched.step()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = sched.get_lr()
        return values, [c.category.__name__ for c in caught], _snap(o, sched)
    same_values(run)


def _caught(run):
    """``run(L)`` in both libraries: the categories of the warnings it gives, and (PyTorch's wording's) key phrase."""
    def recorded(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run(L)
        phrases = ("before `optimizer.step()`", "overridden", "epoch parameter", "get_last_lr")
        return [(c.category.__name__, [p for p in phrases if p in str(c.message)]) for c in caught]
    return recorded


def _steps(L, make, order, opt_kwargs=None):
    o = _opt(L, **(opt_kwargs or {}))
    sched = make(_lrs(L), o)
    for what in order:
        if what == "o":
            o.step()
        elif what == "s":
            sched.step()
        elif what == "override":
            o.step = lambda *a, **k: None
        else:
            sched.step(what)


WARNING_CASES = {
    "construct_every_scheduler_silent": lambda L: [make(_lrs(L), _opt(L, **kw)) for kw, make in GET_LR_MAKERS.values()],
    "construct_plateau_sequential_chained_silent": lambda L: (lambda s, o: (
        s.ReduceLROnPlateau(o),
        s.SequentialLR(o, [s.ConstantLR(o), s.ExponentialLR(o, 0.9)], [2]),
        s.ChainedScheduler([s.ConstantLR(o), s.ExponentialLR(o, 0.9)])))(_lrs(L), _opt(L)),
    "cyclic_step_before_optimizer": lambda L: _steps(L, GET_LR_MAKERS["CyclicLR"][1], ["s", "o", "s"], dict(momentum=0.9)),
    "onecycle_step_before_optimizer": lambda L: _steps(L, GET_LR_MAKERS["OneCycleLR"][1], ["s", "s", "o"], dict(momentum=0.9)),
    "cawr_step_before_optimizer_silent": lambda L: _steps(L, GET_LR_MAKERS["CosineAnnealingWarmRestarts"][1], ["s", "o"]),
    "cawr_epoch_argument_silent": lambda L: _steps(L, GET_LR_MAKERS["CosineAnnealingWarmRestarts"][1], ["o", 1.5, 2]),
    "epoch_argument_each_time": lambda L: _steps(L, GET_LR_MAKERS["CosineAnnealingLR"][1], ["o", 2, 3, "s"]),
    "optimizer_step_overridden": lambda L: _steps(L, GET_LR_MAKERS["ExponentialLR"][1], ["override", "o", "s", "s"]),
    "second_step_without_optimizer_step_silent": lambda L: _steps(L, GET_LR_MAKERS["StepLR"][1], ["o", "s", "s", "s"]),
    "sequential_step_before_optimizer": lambda L: (lambda s, o: s.SequentialLR(
        o, [s.ConstantLR(o), s.ExponentialLR(o, 0.9)], [2]).step())(_lrs(L), _opt(L)),
    "chained_step_before_optimizer": lambda L: (lambda s, o: s.ChainedScheduler(
        [s.ConstantLR(o), s.ExponentialLR(o, 0.9)]).step())(_lrs(L), _opt(L)),
    "plateau_step_before_optimizer_silent": lambda L: _lrs(L).ReduceLROnPlateau(_opt(L)).step(1.0),
}


def _optimizer_stepped_before_scheduler(L):
    o = _opt(L)
    o.step()
    sched = _lrs(L).StepLR(o, 2)
    sched.step()


def _second_scheduler_after_step(L):
    o = _opt(L)
    first = _lrs(L).StepLR(o, 2)
    o.step()
    first.step()
    second = _lrs(L).ExponentialLR(o, 0.9)
    second.step()


WARNING_CASES["optimizer_stepped_before_scheduler_existed"] = _optimizer_stepped_before_scheduler
WARNING_CASES["second_scheduler_created_after_optimizer_step"] = _second_scheduler_after_step


@pytest.mark.parametrize("name", list(WARNING_CASES))
def test_warnings_given_as_torch(name):
    same_in_both(_caught(WARNING_CASES[name]))


# --- signatures, names, classes -------------------------------------------------------------------

PUBLIC = list(torch.optim.lr_scheduler.__all__)


def _signature(L, name):
    sig = inspect.signature(getattr(_lrs(L), name).__init__)
    return [(p.name, p.kind.name, repr(p.default)) for p in sig.parameters.values()]


@pytest.mark.parametrize("name", PUBLIC)
def test_constructor_signature_matches(name):
    same_in_both(lambda L: _signature(L, name))


def test_public_classes_and_subclass_relations():
    def run(L):
        s = _lrs(L)
        return [(name, issubclass(getattr(s, name), s.LRScheduler)) for name in PUBLIC] + [
            issubclass(s._LRScheduler, s.LRScheduler), s._LRScheduler.__name__, s.EPOCH_DEPRECATION_WARNING]
    same_in_both(run)


STEP_SIGNATURES = ["LRScheduler", "ReduceLROnPlateau", "CosineAnnealingWarmRestarts", "SequentialLR", "ChainedScheduler"]


@pytest.mark.parametrize("name", STEP_SIGNATURES)
def test_step_signature_matches(name):
    same_in_both(lambda L: [(p.name, repr(p.default)) for p in inspect.signature(getattr(_lrs(L), name).step).parameters.values()])


def test_sequential_lr_recursive_undo_method():
    def run(L):
        o = _opt(L)
        s = _lrs(L)
        inner = s.ChainedScheduler([s.ConstantLR(o), s.ExponentialLR(o, 0.9)])
        sched = s.SequentialLR(o, [s.StepLR(o, 2), inner], [3])
        sched.recursive_undo()
        return [x.last_epoch for x in [sched._schedulers[0], *inner._schedulers]], sched.last_epoch
    same_in_both(run)


@pytest.mark.parametrize("name", ["StepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau", "OneCycleLR"])
def test_removed_verbose_argument_raises_as_torch(name):
    args = {"StepLR": (2,), "ExponentialLR": (0.9,), "CosineAnnealingLR": (5,), "ReduceLROnPlateau": (),
            "OneCycleLR": (0.1, 10)}[name]
    raises_as_torch(lambda L: getattr(_lrs(L), name)(_opt(L, momentum=0.9), *args, verbose=True))


def test_base_scheduler_without_get_lr_raises_as_torch():
    raises_as_torch(lambda L: _lrs(L).LRScheduler(_opt(L)))


def test_scheduler_attributes_after_construction():
    def run(L):
        o = _opt(L)
        s = _lrs(L)
        out = []
        for sched in (s.StepLR(o, 2), s.CosineAnnealingWarmRestarts(o, 3), s.LinearLR(o)):
            out.append((sched.optimizer is o, sched.last_epoch, sched.base_lrs, type(sched.get_last_lr()).__name__,
                        sched._step_count))
        return out
    same_in_both(run)


# --- bad arguments --------------------------------------------------------------------------------

def _bad(name, *args, opt=None, **kwargs):
    return lambda L: getattr(_lrs(L), name)(_opt(L, **(opt or {})), *args, **kwargs)


def _seq_of(kind):
    def run(L):
        o, s = _opt(L), _lrs(L)
        if kind == "empty":
            return s.SequentialLR(o, [], [])
        if kind == "plateau":
            return s.SequentialLR(o, [s.ConstantLR(o), s.ReduceLROnPlateau(o)], [2])
        if kind == "no_optimizer":
            return s.SequentialLR(o, [s.ConstantLR(o), object()], [2])
        if kind == "sequential_get_lr":
            return s.SequentialLR(o, [s.ConstantLR(o), s.ExponentialLR(o, 0.9)], [2]).get_lr()
        if kind == "chained_get_lr":
            return s.ChainedScheduler([s.ConstantLR(o), s.ExponentialLR(o, 0.9)]).get_lr()
        if kind == "chained_base_lrs":
            return s.ChainedScheduler([s.ConstantLR(o), s.ExponentialLR(o, 0.9)]).base_lrs
        if kind == "chained_second":
            inner = s.ChainedScheduler([s.ConstantLR(o, factor=0.5, total_iters=4), s.ExponentialLR(o, gamma=0.95)])
            sched = s.SequentialLR(o, [s.LinearLR(o, start_factor=0.2, total_iters=6), inner], milestones=[6])
            return _trace(o, sched, 8)
        if kind == "chained_empty":
            return s.ChainedScheduler([])
        if kind == "chained_plateau":
            return s.ChainedScheduler([s.ConstantLR(o), s.ReduceLROnPlateau(o)])
        if kind == "chained_other_optimizer":
            return s.ChainedScheduler([s.ConstantLR(o), s.ExponentialLR(_opt(L), 0.9)])
        if kind == "chained_step_epoch":
            return s.ChainedScheduler([s.ConstantLR(o)]).step(3)
        if kind == "sequential_step_epoch":
            return s.SequentialLR(o, [s.ConstantLR(o), s.ExponentialLR(o, 0.9)], [2]).step(3)
    return run


def _steps_then(name, steps, *args, opt=None, epoch=None, **kwargs):
    def run(L):
        o = _opt(L, **(opt or {}))
        sched = getattr(_lrs(L), name)(o, *args, **kwargs)
        for _ in range(steps):
            o.step()
            sched.step()
        if isinstance(epoch, tuple):
            sched.step(*epoch)
        elif epoch is not None:
            sched.step(epoch)
    return run


def _lambda_group_added(L):
    o = _opt(L)
    sched = _lrs(L).LambdaLR(o, lambda e: 0.9)
    o.add_param_group({"params": [L.nn.Parameter(L.tensor([3.0]))], "lr": 0.3})
    o.step()
    sched.step()


ERROR_CASES = {
    "StepLR_missing_step_size": _bad("StepLR"),
    "StepLR_step_size_0_on_step": _steps_then("StepLR", 2, step_size=0),
    "MultiStepLR_int_milestones": _bad("MultiStepLR", 5),
    "ExponentialLR_missing_gamma": _bad("ExponentialLR"),
    "ConstantLR_factor_0_at_total_iters": _steps_then("ConstantLR", 4, factor=0.0, total_iters=3),
    "LinearLR_total_iters_0_epoch": _steps_then("LinearLR", 0, start_factor=0.5, total_iters=0, epoch=2),
    "CosineAnnealingLR_T_max_0": _steps_then("CosineAnnealingLR", 2, T_max=0),
    "CAWR_negative_T_0": _bad("CosineAnnealingWarmRestarts", -1),
    "CAWR_eta_min_str": _bad("CosineAnnealingWarmRestarts", 3, eta_min="0"),
    "CAWR_eta_min_none": _bad("CosineAnnealingWarmRestarts", 3, eta_min=None),
    "CAWR_negative_epoch": _steps_then("CosineAnnealingWarmRestarts", 1, 3, epoch=-1),
    "CyclicLR_max_lr_list_length": _bad("CyclicLR", 0.01, [0.1, 0.2, 0.3], opt=dict(momentum=0.9)),
    "CyclicLR_base_lr_list_length": _bad("CyclicLR", [0.01], 0.1, opt=dict(momentum=0.9)),
    "CyclicLR_base_momentum_list_length": _bad("CyclicLR", 0.01, 0.1, base_momentum=[0.8], opt=dict(momentum=0.9)),
    "CyclicLR_sgd_without_momentum_default": _bad("CyclicLR", 0.01, 0.1, opt=dict(name="Adagrad")),
    "CyclicLR_missing_max_lr": _bad("CyclicLR", 0.01),
    "OneCycleLR_pct_start_int": _bad("OneCycleLR", 0.1, 10, pct_start=1, opt=dict(momentum=0.9)),
    "OneCycleLR_total_steps_float": _bad("OneCycleLR", 0.1, 10.0, opt=dict(momentum=0.9)),
    "OneCycleLR_epochs_float": _bad("OneCycleLR", 0.1, epochs=2.0, steps_per_epoch=5, opt=dict(momentum=0.9)),
    "OneCycleLR_epochs_only": _bad("OneCycleLR", 0.1, epochs=2, opt=dict(momentum=0.9)),
    "OneCycleLR_base_momentum_list_length": _bad("OneCycleLR", 0.1, 10, base_momentum=[0.8, 0.8, 0.8], opt=dict(momentum=0.9)),
    "OneCycleLR_adagrad_cycle_momentum": _bad("OneCycleLR", 0.1, 10, opt=dict(name="Adagrad")),
    "OneCycleLR_pct_start_1_last_step": _steps_then("OneCycleLR", 10, 0.1, 10, pct_start=1.0, opt=dict(momentum=0.9)),
    "OneCycleLR_last_epoch_without_initial_lr": _bad("OneCycleLR", 0.1, 10, last_epoch=3, opt=dict(momentum=0.9)),
    "CyclicLR_last_epoch_without_initial_lr": _bad("CyclicLR", 0.01, 0.1, last_epoch=3, opt=dict(momentum=0.9)),
    "CAWR_T_mult_float_2": _bad("CosineAnnealingWarmRestarts", 2, 2.0),
    "step_two_arguments": _steps_then("StepLR", 0, 2, epoch=(3, 4)),
    "ReduceLROnPlateau_get_lr": lambda L: _lrs(L).ReduceLROnPlateau(_opt(L)).get_lr(),
    "ReduceLROnPlateau_step_without_metrics": lambda L: _lrs(L).ReduceLROnPlateau(_opt(L)).step(),
    "SequentialLR_get_lr": _seq_of("sequential_get_lr"),
    "ChainedScheduler_get_lr": _seq_of("chained_get_lr"),
    "ChainedScheduler_has_no_base_lrs": _seq_of("chained_base_lrs"),
    "OneCycleLR_one_step_past_total": _steps_then("OneCycleLR", 11, 0.1, 10, opt=dict(momentum=0.9)),
    "OneCycleLR_epoch_past_total": _steps_then("OneCycleLR", 1, 0.1, 10, opt=dict(momentum=0.9), epoch=11),
    "LambdaLR_not_callable_on_step": _steps_then("LambdaLR", 1, 0.5),
    "LambdaLR_group_added": _lambda_group_added,
    "MultiplicativeLR_group_added": _seq("MultiplicativeLR", lambda e: 0.9, each=_add_group_at(4)),
    "CosineAnnealingLR_group_added_at_restart": _seq("CosineAnnealingLR", 6, each=_add_group_at(4)),
    "SequentialLR_chained_after_milestone": _seq_of("chained_second"),
    "MultiplicativeLR_not_callable": _bad("MultiplicativeLR", 0.5),
    "MultiplicativeLR_list_wrong_length_not_callable": _bad("MultiplicativeLR", [1, 2, 3]),
    "MultiplicativeLR_list_wrong_length": _bad("MultiplicativeLR", [lambda e: 1.0]),
    "LambdaLR_not_an_optimizer": lambda L: _lrs(L).LambdaLR(object(), lambda e: 1.0),
    "CyclicLR_not_an_optimizer": lambda L: _lrs(L).CyclicLR(object(), 0.01, 0.1),
    "OneCycleLR_not_an_optimizer": lambda L: _lrs(L).OneCycleLR(object(), 0.1, 10),
    "ReduceLROnPlateau_not_an_optimizer": lambda L: _lrs(L).ReduceLROnPlateau(object()),
    "ReduceLROnPlateau_bad_factor_before_optimizer": lambda L: _lrs(L).ReduceLROnPlateau(object(), factor=2.0),
    "SequentialLR_empty": _seq_of("empty"),
    "SequentialLR_with_plateau": _seq_of("plateau"),
    "SequentialLR_without_optimizer_attribute": _seq_of("no_optimizer"),
    "SequentialLR_step_with_epoch": _seq_of("sequential_step_epoch"),
    "ChainedScheduler_empty": _seq_of("chained_empty"),
    "ChainedScheduler_with_plateau": _seq_of("chained_plateau"),
    "ChainedScheduler_other_optimizer": _seq_of("chained_other_optimizer"),
    "ChainedScheduler_step_with_epoch": _seq_of("chained_step_epoch"),
}


@pytest.mark.parametrize("run", list(ERROR_CASES.values()), ids=list(ERROR_CASES))
def test_bad_arguments_raise_as_torch(run):
    raises_as_torch(run)


# --- names users reach, state dicts, what loading restores ----------------------------------------

ALL_MAKERS = dict(GET_LR_MAKERS, **{
    "ReduceLROnPlateau": (dict(), lambda s, o: s.ReduceLROnPlateau(o, patience=0)),
    "SequentialLR": (dict(), lambda s, o: s.SequentialLR(o, [s.ConstantLR(o), s.LambdaLR(o, _Halving())], [2])),
    "ChainedScheduler": (dict(), lambda s, o: s.ChainedScheduler([s.ConstantLR(o), s.CosineAnnealingWarmRestarts(o, 2)])),
    "CyclicLR_scale_fn_object": (dict(momentum=0.9), lambda s, o: s.CyclicLR(o, 0.01, 0.1, 3, scale_fn=_Halving())),
    "OneCycleLR_three_phase": (dict(momentum=0.9), lambda s, o: s.OneCycleLR(o, 0.5, 20, three_phase=True)),
    "MultiStepLR_repeated": (dict(), lambda s, o: s.MultiStepLR(o, [3, 1, 3])),
    "CAWR_T_mult_2": (dict(), lambda s, o: s.CosineAnnealingWarmRestarts(o, 2, 2)),
})


def _stepped(L, key, steps=4):
    opt_kwargs, make = ALL_MAKERS[key]
    o = _opt(L, **opt_kwargs)
    sched = make(_lrs(L), o)
    for _ in range(steps):
        o.step()
        sched.step(1.0) if isinstance(sched, _lrs(L).ReduceLROnPlateau) else sched.step()
    return o, sched


@pytest.mark.parametrize("key", list(ALL_MAKERS))
def test_state_dict_contents_and_attributes_users_read(key):
    def run(L):
        o, sched = _stepped(L, key)
        names = ("base_lrs", "last_epoch", "_last_lr", "_step_count", "_milestones")
        return (sched.state_dict(), [(name, getattr(sched, name, "absent")) for name in names],
                sched.optimizer is o, sched.get_last_lr() is sched._last_lr, hasattr(sched, "_get_closed_form_lr"))
    same_values(run)


def test_custom_scheduler_has_no_closed_form_and_steps_to_an_epoch_with_get_lr():
    def run(L):
        o = _opt(L)
        sched = _custom_scheduler(L)(o, warmup=4)
        sched.step(2)
        return hasattr(sched, "_get_closed_form_lr"), sched.get_last_lr(), sched.last_epoch
    same_values(run)


def test_sequential_and_chained_step_under_their_own_names():
    def run(L):
        o, s = _opt(L), _lrs(L)
        sequential = s.SequentialLR(o, [s.ConstantLR(o, total_iters=2), s.ExponentialLR(o, 0.9)], [3])
        chained = s.ChainedScheduler([s.StepLR(o, 2, 0.5)])
        return ["step" in vars(type(x)) for x in (sequential, chained)], outcome(lambda: sequential.step(None))[0]
    same_values(run)


def test_load_state_dict_with_more_saved_plain_functions_or_fewer_schedulers():
    def run(L):
        o, s = _opt(L), _lrs(L)
        saved = s.LambdaLR(o, [lambda e: 1.0, lambda e: 1.0]).state_dict()
        saved["lr_lambdas"].append(None)  # a plain function: nothing to restore, so no error in PyTorch
        s.LambdaLR(_opt(L), [_Halving(), _Halving()]).load_state_dict(saved)
        short = s.ChainedScheduler([s.ConstantLR(o), s.ExponentialLR(o, 0.9)])
        for _ in range(3):
            o.step()
            short.step()
        o2 = _opt(L)
        longer = s.ChainedScheduler([s.ConstantLR(o2), s.ExponentialLR(o2, 0.9), s.StepLR(o2, 2)])
        longer.load_state_dict(short.state_dict())
        return [x.last_epoch for x in longer._schedulers], sorted(saved)
    same_values(run)


def test_multistep_load_state_dict_keeps_the_milestones_given():
    def run(L):
        sched = _lrs(L).MultiStepLR(_opt(L), [2, 4])
        state = sched.state_dict()
        state["milestones"] = {2: 1, 4: 1}
        sched.load_state_dict(state)
        return type(sched.milestones).__name__
    same_values(run)


def test_reduce_lr_on_plateau_reset_and_is_better():
    def run(L):
        sched = _lrs(L).ReduceLROnPlateau(_opt(L), patience=5, cooldown=2, threshold=0.1)
        for m in (1.0, 2.0, 3.0):
            sched.step(m)
        before = (sched.best, sched.num_bad_epochs)
        sched._reset()
        better = [sched._is_better(a, b) for a, b in ((0.85, 1.0), (0.95, 1.0), (-1.2, -1.0))]
        sched._init_is_better("max", 0.5, "abs")
        return before, sched.best, sched.num_bad_epochs, sched.cooldown_counter, better, \
            sched.mode_worse, sched._is_better(1.6, 1.0), hasattr(sched, "is_better")
    same_values(run)


def test_reduce_lr_on_plateau_load_state_dict_follows_the_loaded_mode():
    def run(L):
        o = _opt(L)
        sched = _lrs(L).ReduceLROnPlateau(o, patience=0)
        sched.load_state_dict({"mode": "max", "threshold_mode": "abs"})
        sched._reset()
        out = []
        for m in (1.0, 2.0, 1.5):
            sched.step(m)
            out.append((sched.best, [g["lr"] for g in o.param_groups]))
        return sched.mode_worse, out
    same_values(run)


@pytest.mark.parametrize("state", [{"mode": "maximum"}, {"threshold_mode": "relative"}])
def test_reduce_lr_on_plateau_load_state_dict_with_bad_mode_raises_as_torch(state):
    raises_as_torch(lambda L: _lrs(L).ReduceLROnPlateau(_opt(L)).load_state_dict(dict(state)))


def test_reduce_lr_on_plateau_subclass_reduce_lr_receives_the_epoch():
    def run(L):
        class Logged(_lrs(L).ReduceLROnPlateau):
            def _reduce_lr(self, epoch):
                self.reduced_at = getattr(self, "reduced_at", []) + [epoch]
                super()._reduce_lr(epoch)

        o = _opt(L)
        sched = Logged(o, patience=0, factor=0.5)
        for m in (1.0, 2.0, 3.0, 0.5, 0.6):
            sched.step(m)
        sched.step(0.7, epoch=10)
        return sched.reduced_at, [g["lr"] for g in o.param_groups]
    same_values(run)


def _tensor_arguments(L, kind):
    o = _opt(L, momentum=0.9)
    s = _lrs(L)
    f64 = dict(dtype=L.float64)
    if kind == "CyclicLR":
        base, top, momentum = L.tensor(0.01, **f64), L.tensor(0.1, **f64), L.tensor(0.8, **f64)
        sched = s.CyclicLR(o, base, top, 2, base_momentum=momentum)
        given, held = (base, top, momentum), (sched.base_lrs, sched.max_lrs, sched.base_momentums)
    else:
        top, momentum = L.tensor(0.5, **f64), [L.tensor(0.9, **f64), L.tensor(0.95, **f64)]
        sched = s.OneCycleLR(o, top, 10, max_momentum=momentum)
        given = (top, *momentum)
        held = ([g["max_lr"] for g in o.param_groups], [g["max_momentum"] for g in o.param_groups])
    for _ in range(3):
        o.step()
        sched.step()
    aliases = [[x is y for y in given] for values in held for x in values]
    shared = [values[0] is values[1] for values in held]
    return [float(x) for x in given], aliases, shared, _snap(o, sched)


@pytest.mark.parametrize("kind", ["CyclicLR", "OneCycleLR"])
def test_tensor_arguments_are_copied_for_each_group(kind):
    same_values(lambda L: _tensor_arguments(L, kind))


def test_one_cycle_annealing_functions_by_pytorchs_names():
    def run(L):
        s = _lrs(L)

        class Squared(s.OneCycleLR):
            @staticmethod
            def _annealing_cos(start, end, pct):
                return start + (end - start) * pct * pct

        o = _opt(L, momentum=0.9)
        sched = Squared(o, 0.5, 10)
        trace = _trace(o, sched, 6)
        sched._anneal_func_type = "cubic"
        return (s.OneCycleLR._annealing_cos(1.0, 0.0, 0.25), s.OneCycleLR._annealing_linear(1.0, 0.0, 0.25), trace,
                outcome(lambda: sched._anneal_func(1.0, 0.0, 0.5))[1].__name__)
    same_values(run)
