"""The warnings PyTorch's schedulers give, and custom schedulers written against ``_LRScheduler``.

Each scenario runs on both libraries and records every warning: the same messages, of the same
category, in the same order.
"""
import math
import warnings

import pytest
import torch

import chainrule


def optimizer_for(lib):
    weight = lib.zeros(3, requires_grad=True)
    bias = lib.zeros(1, requires_grad=True)
    return lib.optim.SGD([{"params": [weight]}, {"params": [bias], "lr": 0.02}], lr=0.1, momentum=0.9)


def give_gradients(lib, optimizer):
    for group in optimizer.param_groups:
        for param in group["params"]:
            param.grad = lib.ones(param.shape)


def recorded(scenario):
    """``scenario(lib)``'s result and its warnings, ``[(category, message)]``, for both libraries."""
    results = []
    for lib in (chainrule, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = scenario(lib)
        results.append((value, [(warning.category, str(warning.message)) for warning in caught]))
    return results


def assert_same(scenario):
    (ours, our_warnings), (theirs, their_warnings) = recorded(scenario)
    assert our_warnings == their_warnings
    assert flat(ours) == pytest.approx(flat(theirs))
    return their_warnings


def flat(values):
    """Nested lists of numbers as one list of floats."""
    if isinstance(values, (list, tuple)):
        return [number for value in values for number in flat(value)]
    return [float(values)]


SCHEDULERS = {
    "StepLR": lambda lib, opt: lib.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
    "ExponentialLR": lambda lib, opt: lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9),
    "LambdaLR": lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (epoch + 1)),
    "CosineAnnealingLR": lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4),
    "LinearLR": lambda lib, opt: lib.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=3),
    "OneCycleLR": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=10),
    "CyclicLR": lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=2),
    "CosineAnnealingWarmRestarts": lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3),
    "PolynomialLR": lambda lib, opt: lib.optim.lr_scheduler.PolynomialLR(opt, total_iters=4),
    "SequentialLR": lambda lib, opt: lib.optim.lr_scheduler.SequentialLR(
        opt,
        [lib.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2), lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)],
        milestones=[2],
    ),
    "ChainedScheduler": lambda lib, opt: lib.optim.lr_scheduler.ChainedScheduler(
        [lib.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2), lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)]
    ),
    "SWALR": lambda lib, opt: lib.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=3),
}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_stepping_the_scheduler_before_the_optimizer_warns_like_torch(name):
    def scenario(lib):
        optimizer = optimizer_for(lib)
        scheduler = SCHEDULERS[name](lib, optimizer)
        for _ in range(3):
            scheduler.step()
        return scheduler.get_last_lr()

    assert_same(scenario)


@pytest.mark.parametrize("name", SCHEDULERS)
def test_the_usual_order_gives_no_warning(name):
    def scenario(lib):
        optimizer = optimizer_for(lib)
        scheduler = SCHEDULERS[name](lib, optimizer)
        for _ in range(4):
            give_gradients(lib, optimizer)
            optimizer.step()
            scheduler.step()
        return scheduler.get_last_lr()

    assert assert_same(scenario) == []


def test_the_step_order_warning_text_is_torch_s_and_comes_once():
    def scenario(lib):
        optimizer = optimizer_for(lib)
        scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=1)
        scheduler.step()
        scheduler.step()
        give_gradients(lib, optimizer)
        optimizer.step()
        scheduler.step()
        return scheduler.get_last_lr()

    their_warnings = assert_same(scenario)
    assert len(their_warnings) == 1 and their_warnings[0][0] is UserWarning
    assert their_warnings[0][1].startswith("Detected call of `lr_scheduler.step()` before `optimizer.step()`.")


def test_an_optimizer_step_made_before_the_scheduler_existed_does_not_count():
    def scenario(lib):
        optimizer = optimizer_for(lib)
        give_gradients(lib, optimizer)
        optimizer.step()
        scheduler = lib.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
        scheduler.step()
        return scheduler.get_last_lr()

    assert len(assert_same(scenario)) == 1


def test_a_second_scheduler_sees_the_steps_made_under_the_first():
    def scenario(lib):
        optimizer = optimizer_for(lib)
        first = lib.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
        give_gradients(lib, optimizer)
        optimizer.step()
        first.step()
        second = lib.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
        second.step()
        return second.get_last_lr()

    assert assert_same(scenario) == []


def test_replacing_optimizer_step_after_the_scheduler_warns_like_torch():
    def scenario(lib):
        optimizer = optimizer_for(lib)
        scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=1)
        original = optimizer.step
        optimizer.step = lambda closure=None: original(closure)
        give_gradients(lib, optimizer)
        optimizer.step()
        scheduler.step()
        return scheduler.get_last_lr()

    their_warnings = assert_same(scenario)
    assert len(their_warnings) == 1 and their_warnings[0][1].startswith("Seems like `optimizer.step()` has been overridden")


def test_a_step_replaced_before_the_scheduler_is_watched_like_torch():
    def scenario(lib):
        optimizer = optimizer_for(lib)
        calls = []
        original = optimizer.step

        def counted(self, closure=None):
            calls.append(1)
            return original(closure)

        optimizer.step = counted.__get__(optimizer)  # a bound method, as PyTorch's wrapper requires
        scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=1)
        give_gradients(lib, optimizer)
        optimizer.step()
        scheduler.step()
        return [*scheduler.get_last_lr(), len(calls)]

    assert assert_same(scenario) == []


@pytest.mark.parametrize("name", SCHEDULERS)
def test_get_lr_outside_step_warns_like_torch(name):
    def scenario(lib):
        optimizer = optimizer_for(lib)
        scheduler = SCHEDULERS[name](lib, optimizer)
        give_gradients(lib, optimizer)
        optimizer.step()
        scheduler.step()
        if not hasattr(scheduler, "_schedulers"):  # SequentialLR and ChainedScheduler have no get_lr of their own
            scheduler.get_lr()
        return scheduler.get_last_lr()

    their_warnings = assert_same(scenario)
    if name not in ("SequentialLR", "ChainedScheduler"):
        assert their_warnings == [(UserWarning, "To get the last learning rate computed by the scheduler, please use `get_last_lr()`.")]


class Warmup:
    """A linear warm-up in the old style: subclass ``_LRScheduler``, define ``get_lr``."""

    @staticmethod
    def make(lib, optimizer, warmup_steps=4, total_steps=10):
        class WarmupCosine(lib.optim.lr_scheduler._LRScheduler):
            def __init__(self, optimizer, warmup_steps, total_steps, last_epoch=-1):
                self.warmup_steps = warmup_steps
                self.total_steps = total_steps
                super(WarmupCosine, self).__init__(optimizer, last_epoch)

            def get_lr(self):
                if self.last_epoch < self.warmup_steps:
                    return [base_lr * (self.last_epoch + 1) / self.warmup_steps for base_lr in self.base_lrs]
                progress = (self.last_epoch - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps)
                return [base_lr * 0.5 * (1 + math.cos(math.pi * progress)) for base_lr in self.base_lrs]

        return WarmupCosine(optimizer, warmup_steps, total_steps)


def test_a_custom_lr_scheduler_subclass_runs_like_torch():
    def scenario(lib):
        optimizer = optimizer_for(lib)
        scheduler = Warmup.make(lib, optimizer)
        rates = [[group["lr"] for group in optimizer.param_groups]]
        for _ in range(12):
            give_gradients(lib, optimizer)
            optimizer.step()
            scheduler.step()
            rates.append(scheduler.get_last_lr())
        rates.append(scheduler.get_lr())  # its own get_lr: no warning in PyTorch either
        state = scheduler.state_dict()
        rates.append([state["last_epoch"], state["_step_count"], *state["base_lrs"]])
        return rates

    assert assert_same(scenario) == []


def test_lr_scheduler_alias_is_a_subclass_named_like_torch_s():
    alias = chainrule.optim.lr_scheduler._LRScheduler
    assert alias.__name__ == torch.optim.lr_scheduler._LRScheduler.__name__ == "_LRScheduler"
    assert issubclass(alias, chainrule.optim.lr_scheduler.LRScheduler)
    assert alias is not chainrule.optim.lr_scheduler.LRScheduler


def test_a_custom_scheduler_whose_get_lr_returns_too_few_rates_raises_like_torch():
    def scenario(lib):
        class Broken(lib.optim.lr_scheduler.LRScheduler):
            def get_lr(self):
                return [0.1]

        try:
            Broken(optimizer_for(lib))
        except Exception as error:  # noqa: BLE001 - the type is compared
            return type(error).__name__
        return None

    (ours, _), (theirs, _) = recorded(scenario)
    assert ours == theirs == "ValueError"
