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
    "MultiplicativeLR": lambda lib, opt: lib.optim.lr_scheduler.MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.97),
    "ConstantLR": lambda lib, opt: lib.optim.lr_scheduler.ConstantLR(opt, factor=0.25, total_iters=6),
    "LinearLR": lambda lib, opt: lib.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, end_factor=0.9, total_iters=12),
    "PolynomialLR": lambda lib, opt: lib.optim.lr_scheduler.PolynomialLR(opt, total_iters=20, power=2.5),
    "CosineAnnealingWarmRestarts": lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2, eta_min=0.001),
    "CosineAnnealingWarmRestarts-T_mult-1": lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=7),
    "CyclicLR-triangular": lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=[0.1, 0.05], step_size_up=4),
    "CyclicLR-triangular2": lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(
        opt, base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5, mode="triangular2", base_momentum=0.7
    ),
    "CyclicLR-exp_range": lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(
        opt, base_lr=[0.01, 0.02], max_lr=0.2, step_size_up=5, mode="exp_range", gamma=0.95, cycle_momentum=False
    ),
    "CyclicLR-scale_fn": lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(
        opt, base_lr=0.01, max_lr=0.1, step_size_up=2, scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations"
    ),
    "OneCycleLR-cos": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=[0.5, 0.2], total_steps=EPOCHS),
    "OneCycleLR-linear-three-phase": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.3, epochs=5, steps_per_epoch=6, pct_start=0.25, anneal_strategy="linear", three_phase=True,
        base_momentum=0.8, max_momentum=0.9, div_factor=10.0, final_div_factor=100.0,
    ),
    "OneCycleLR-no-momentum": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.3, total_steps=40, cycle_momentum=False
    ),
    "SequentialLR": lambda lib, opt: lib.optim.lr_scheduler.SequentialLR(
        opt,
        [lib.optim.lr_scheduler.LinearLR(opt, start_factor=0.2, total_iters=4), lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)],
        milestones=[5],
    ),
    "SequentialLR-three": lambda lib, opt: lib.optim.lr_scheduler.SequentialLR(
        opt,
        [
            lib.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=3),
            lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8),
            lib.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
        ],
        milestones=[4, 14],
    ),
    "ChainedScheduler": lambda lib, opt: lib.optim.lr_scheduler.ChainedScheduler(
        [lib.optim.lr_scheduler.ConstantLR(opt, factor=0.3, total_iters=4), lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.92)]
    ),
    "SWALR-cos": lambda lib, opt: lib.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=7),
    "SWALR-linear": lambda lib, opt: lib.optim.swa_utils.SWALR(opt, swa_lr=[0.05, 0.001], anneal_epochs=5, anneal_strategy="linear"),
    "SWALR-no-annealing": lambda lib, opt: lib.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=0),
}


def momentum_history(lib, make_scheduler, optimizer_name):
    """The momentum (SGD) or beta1 (Adam) of each group at each epoch, which cyclic schedules move."""
    groups = [{"params": [lib.tensor([1.0], requires_grad=True)], "lr": lr} for lr in (0.1, 0.02)]
    optimizer = getattr(lib.optim, optimizer_name)(groups, **({"momentum": 0.9} if optimizer_name == "SGD" else {}))
    scheduler = make_scheduler(lib, optimizer)
    key = "momentum" if optimizer_name == "SGD" else "betas"
    history = []
    for _ in range(EPOCHS):
        history.append([group[key] if key == "momentum" else group[key][0] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return history


@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam"])
@pytest.mark.parametrize("name", [name for name in SCHEDULES if name.startswith(("CyclicLR", "OneCycleLR"))])
def test_cyclic_schedules_move_momentum_like_torch(name, optimizer_name):
    assert_same_rates(momentum_history(chainrule, SCHEDULES[name], optimizer_name), momentum_history(torch, SCHEDULES[name], optimizer_name))


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
    assert getattr(scheduler, "last_epoch", None) == getattr(their_scheduler, "last_epoch", None)
    if not name.startswith(("OneCycleLR", "CyclicLR")):  # these set the rates from their own arguments
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


CLOSED_FORMS = [
    "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "ConstantLR", "LinearLR", "PolynomialLR",
    "CosineAnnealingWarmRestarts", "CosineAnnealingWarmRestarts-T_mult-1",
]


@pytest.mark.parametrize("epoch", [3, 17, 40.5])
@pytest.mark.parametrize("name", CLOSED_FORMS)
def test_step_with_an_epoch_uses_the_closed_form_like_torch(name, epoch):
    def jump(lib):
        optimizer = optimizer_for(lib)
        scheduler = SCHEDULES[name](lib, optimizer)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scheduler.step(epoch)
            scheduler.step()
        return scheduler.get_last_lr(), [str(warning.message) for warning in caught]

    (ours, our_warnings), (theirs, their_warnings) = jump(chainrule), jump(torch)
    assert_same_rates(ours, theirs)
    assert our_warnings == their_warnings  # the step-order warning (no optimizer.step) and the epoch one


def test_cosine_annealing_resumed_with_last_epoch_follows_torch():
    def resume(lib):
        optimizer = optimizer_for(lib)
        for group in optimizer.param_groups:
            group["initial_lr"] = group["lr"]
        scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10, last_epoch=4)
        history = [scheduler.get_last_lr()]
        for _ in range(8):
            optimizer.step()
            scheduler.step()
            history.append(scheduler.get_last_lr())
        return history

    assert_same_rates(resume(chainrule), resume(torch))


def test_schedules_drive_a_real_optimizer_like_torch():
    """OneCycleLR moving Adam's rate and beta1 over training gives torch's weights."""

    def train(lib):
        rng = np.random.default_rng(0)
        inputs, targets = lib.tensor(rng.standard_normal((16, 3))), lib.tensor(rng.standard_normal((16, 1)))
        weight = lib.tensor(rng.standard_normal((3, 1)), requires_grad=True)
        optimizer = lib.optim.Adam([weight], lr=0.01)
        scheduler = lib.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=25, three_phase=True)
        for _ in range(25):
            optimizer.zero_grad()
            ((inputs @ weight - targets) ** 2).mean().backward()
            optimizer.step()
            scheduler.step()
        return weight.detach().numpy()

    np.testing.assert_allclose(train(chainrule), train(torch), rtol=1e-10)


def test_one_cycle_refuses_to_step_past_its_end():
    optimizer = optimizer_for(chainrule)
    scheduler = chainrule.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=2)
    scheduler.step()
    scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 3 times. The specified number of total steps is 2"):
        scheduler.step()


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


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda lib, opt: lib.optim.lr_scheduler.ConstantLR(opt, factor=1.5), ValueError, "between 0 and 1"),
        (lambda lib, opt: lib.optim.lr_scheduler.LinearLR(opt, start_factor=0), ValueError, "Starting multiplicative factor"),
        (lambda lib, opt: lib.optim.lr_scheduler.LinearLR(opt, end_factor=2), ValueError, "Ending multiplicative factor"),
        (lambda lib, opt: lib.optim.lr_scheduler.MultiplicativeLR(opt, lr_lambda=0.9), TypeError, "lr_lambda should be a function"),
        (lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0), ValueError, "positive integer T_0"),
        (lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=1.5), ValueError, "integer T_mult"),
        (lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(opt, 0.1, 1.0, mode="square"), ValueError, "mode is invalid and scale_fn is None"),
        (lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(opt, [0.1], 1.0), ValueError, "base_lr must have the same length"),
        (lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(lib.optim.Adagrad([lib.tensor([1.0], requires_grad=True)]), 0.1, 1.0), ValueError, "must support momentum or beta1"),
        (lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1), ValueError, "You must define either total_steps"),
        (lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=0), ValueError, "positive integer total_steps"),
        (lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=-1), ValueError, "positive integer steps_per_epoch"),
        (lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=9, pct_start=1), ValueError, "Expected float between 0 and 1 pct_start"),
        (lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=9, anneal_strategy="exp"), ValueError, "anneal_strategy must be one of"),
        (lambda lib, opt: lib.optim.lr_scheduler.SequentialLR(opt, [], milestones=[]), ValueError, "expects at least one scheduler"),
        (lambda lib, opt: lib.optim.lr_scheduler.SequentialLR(opt, [lib.optim.lr_scheduler.StepLR(opt, 2)], milestones=[3]), ValueError, "one more than the number of milestone"),
        (lambda lib, opt: lib.optim.lr_scheduler.SequentialLR(opt, [lib.optim.lr_scheduler.ReduceLROnPlateau(opt)], milestones=[]), ValueError, "does not support `ReduceLROnPlateau`"),
        (lambda lib, opt: lib.optim.lr_scheduler.ChainedScheduler([lib.optim.lr_scheduler.StepLR(opt, 2), lib.optim.lr_scheduler.StepLR(optimizer_for(lib), 2)]), ValueError, "expects all schedulers to belong to the same optimizer"),
        (lambda lib, opt: lib.optim.lr_scheduler.ChainedScheduler([object()], optimizer=opt), TypeError, "should have `optimizer` as its attribute"),
        (lambda lib, opt: lib.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_strategy="exp"), ValueError, "anneal_strategy must be one of"),
        (lambda lib, opt: lib.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=-1), ValueError, "anneal_epochs must be equal or greater than 0"),
    ],
)
def test_bad_arguments_raise_like_torch(make, error, message):
    for lib in (chainrule, torch):
        with pytest.raises(error, match=message):
            make(lib, optimizer_for(lib))


def test_bad_arguments():
    optimizer = optimizer_for(chainrule)
    plateau = chainrule.optim.lr_scheduler.ReduceLROnPlateau
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        plateau(optimizer, factor=1.5)
    with pytest.raises(ValueError, match="mode best is unknown"):
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


def test_reduce_on_plateau_warns_like_torch_when_given_an_epoch():
    for lib in (chainrule, torch):
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer_for(lib))
        with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
            scheduler.step(1.0, epoch=5)
        assert scheduler.last_epoch == 5


def test_one_cycle_loaded_from_an_older_state_dict_anneals_with_the_function_it_saved():
    """A OneCycleLR state dict from before ``_anneal_func_type`` holds ``anneal_func`` itself."""
    schedules = []
    for lib in (torch, chainrule):
        optimizer = lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
        scheduler = lib.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=25, final_div_factor=2, base_momentum=1, max_momentum=22, total_steps=10)
        delattr(scheduler, "_anneal_func_type")
        saved = scheduler.state_dict()
        saved["anneal_func"] = lib.optim.lr_scheduler.OneCycleLR._annealing_cos
        scheduler.load_state_dict(saved)
        steps = []
        for _ in range(4):
            optimizer.step()
            scheduler.step()
            steps.append((optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["momentum"]))
        schedules.append(steps)
    np.testing.assert_allclose(schedules[1], schedules[0], rtol=1e-12)
