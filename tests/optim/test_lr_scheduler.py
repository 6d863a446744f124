"""Every scheduler's learning rates against torch.optim.lr_scheduler, epoch by epoch."""
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule

EPOCHS = 30


def optimizer_for(lib, lrs=(0.1, 0.02)):
    groups = [{"params": [lib.tensor([1.0], requires_grad=True)], "lr": lr} for lr in lrs]
    return lib.optim.SGD(groups, lr=lrs[0], momentum=0.9)


SCHEDULES = {
    "StepLR": lambda lib, opt: lib.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5),
    "MultiStepLR": lambda lib, opt: lib.optim.lr_scheduler.MultiStepLR(opt, milestones=[3, 10, 10, 21], gamma=0.3),
    "ExponentialLR": lambda lib, opt: lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9),
    "CosineAnnealingLR": lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=12, eta_min=0.001),
    "LambdaLR": lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(opt, lr_lambda=lambda epoch: 1 / (1 + epoch) ** 0.5),
    "LambdaLR-per-group": lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(
        opt, lr_lambda=[lambda epoch: 0.95**epoch, lambda epoch: min(1.0, (epoch + 1) / 5)]
    ),
}


def assert_same_rates(ours, theirs):
    """Rates per epoch and group equal to ~1 ulp (the same formulas in double precision)."""
    np.testing.assert_allclose(np.array(ours, dtype=float), np.array(theirs, dtype=float), rtol=1e-12, atol=0)


def lr_history(lib, make_scheduler, epochs=EPOCHS):
    optimizer = optimizer_for(lib)
    scheduler = make_scheduler(lib, optimizer)
    history = [scheduler.get_last_lr()]
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
        history.append(scheduler.get_last_lr())
        assert [group["lr"] for group in optimizer.param_groups] == history[-1]
    return history, scheduler, optimizer


@pytest.mark.parametrize("name", SCHEDULES)
def test_learning_rates_match_torch(name):
    ours, scheduler, optimizer = lr_history(chainrule, SCHEDULES[name])
    theirs, their_scheduler, _ = lr_history(torch, SCHEDULES[name])
    assert_same_rates(ours, theirs)
    assert scheduler.last_epoch == their_scheduler.last_epoch == EPOCHS
    assert [group["initial_lr"] for group in optimizer.param_groups] == [0.1, 0.02]


def test_chained_schedulers_multiply_like_torch():
    def chain(lib):
        optimizer = optimizer_for(lib)
        schedulers = [
            lib.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.95),
            lib.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5),
        ]
        history = []
        for _ in range(EPOCHS):
            optimizer.step()
            for scheduler in schedulers:
                scheduler.step()
            history.append(schedulers[-1].get_last_lr())
        return history

    assert_same_rates(chain(chainrule), chain(torch))


def test_cosine_annealing_follows_its_closed_form_over_a_period():
    optimizer = optimizer_for(chainrule, lrs=(0.1,))
    scheduler = chainrule.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    for epoch in range(1, 11):
        optimizer.step()
        scheduler.step()
        assert scheduler.get_last_lr()[0] == pytest.approx(0.05 * (1 + math.cos(math.pi * epoch / 10)), abs=1e-12)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR"])
def test_step_with_an_epoch_uses_the_closed_form_like_torch(name):
    def jump(lib):
        optimizer = optimizer_for(lib)
        scheduler = SCHEDULES[name](lib, optimizer)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scheduler.step(17)
        return scheduler.get_last_lr()

    assert_same_rates(jump(chainrule), jump(torch))


@pytest.mark.parametrize("name", SCHEDULES)
def test_state_dict_round_trip_resumes_the_schedule(name, tmp_path):
    expected, _, _ = lr_history(chainrule, SCHEDULES[name], epochs=20)

    optimizer = optimizer_for(chainrule)
    scheduler = SCHEDULES[name](chainrule, optimizer)
    for _ in range(8):
        optimizer.step()
        scheduler.step()
    chainrule.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp_path / "state.npz")

    checkpoint = chainrule.load(tmp_path / "state.npz")
    resumed_optimizer = optimizer_for(chainrule)
    resumed = SCHEDULES[name](chainrule, resumed_optimizer)
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    resumed.load_state_dict(checkpoint["scheduler"])
    history = []
    for _ in range(12):
        resumed_optimizer.step()
        resumed.step()
        history.append(resumed.get_last_lr())
    assert_same_rates(history, expected[9:])


PLATEAU_OPTIONS = [
    dict(),
    dict(patience=2, factor=0.5),
    dict(mode="max", patience=1, threshold=0.05, cooldown=2),
    dict(patience=0, threshold_mode="abs", threshold=0.1, min_lr=[0.004, 0.005]),
    dict(patience=1, factor=0.2, min_lr=0.01, eps=1e-3),
]


@pytest.mark.parametrize("options", PLATEAU_OPTIONS, ids=str)
def test_reduce_on_plateau_matches_torch(options):
    metrics = [1.0, 0.9, 0.85, 0.86, 0.87, 0.849, 0.85, 0.9, 0.7, 0.71, 0.72, 0.73, 0.74, 0.6, 0.6, 0.6] * 2

    def run(lib):
        optimizer = optimizer_for(lib)
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **options)
        history = []
        for metric in metrics:
            optimizer.step()
            scheduler.step(metric)
            history.append(scheduler.get_last_lr())
        return history, scheduler

    ours, scheduler = run(chainrule)
    theirs, their_scheduler = run(torch)
    assert_same_rates(ours, theirs)
    assert (scheduler.best, scheduler.num_bad_epochs, scheduler.last_epoch) == (
        their_scheduler.best,
        their_scheduler.num_bad_epochs,
        their_scheduler.last_epoch,
    )


def test_reduce_on_plateau_accepts_a_tensor_metric_and_round_trips(tmp_path):
    optimizer = optimizer_for(chainrule)
    scheduler = chainrule.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=1)
    scheduler.step(chainrule.tensor(2.0))
    chainrule.save(scheduler.state_dict(), tmp_path / "plateau.npz")
    restored = chainrule.optim.lr_scheduler.ReduceLROnPlateau(optimizer_for(chainrule), patience=1)
    restored.load_state_dict(chainrule.load(tmp_path / "plateau.npz"))
    assert restored.best == 2.0 and restored.last_epoch == 1 and restored.mode_worse == math.inf


def test_bad_arguments():
    optimizer = optimizer_for(chainrule)
    plateau = chainrule.optim.lr_scheduler.ReduceLROnPlateau
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        plateau(optimizer, factor=1.5)
    with pytest.raises(ValueError, match="mode 'best' is unknown"):
        plateau(optimizer, mode="best")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 1"):
        plateau(optimizer, min_lr=[0.1])
    with pytest.raises(TypeError, match="is not an Optimizer"):
        chainrule.optim.lr_scheduler.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        chainrule.optim.lr_scheduler.LambdaLR(optimizer, [lambda epoch: 1.0])
    with pytest.raises(KeyError, match="initial_lr"):
        chainrule.optim.lr_scheduler.StepLR(optimizer_for(chainrule), step_size=1, last_epoch=3)


def test_lambda_state_dict_keeps_callable_objects_attributes():
    class Warmup:
        def __init__(self, epochs):
            self.epochs = epochs

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.epochs)

    scheduler = chainrule.optim.lr_scheduler.LambdaLR(optimizer_for(chainrule, lrs=(0.1,)), [Warmup(4)])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"epochs": 4}]
    other = chainrule.optim.lr_scheduler.LambdaLR(optimizer_for(chainrule, lrs=(0.1,)), [Warmup(10)])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].epochs == 4


def test_submodule_is_importable_like_torch():
    from chainrule.optim import lr_scheduler
    from chainrule.optim.lr_scheduler import LRScheduler

    assert lr_scheduler.StepLR.__mro__[1] is LRScheduler
