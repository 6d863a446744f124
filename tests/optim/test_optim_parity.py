"""Optimizers and schedulers as training scripts use them, against torch.optim.

Both libraries start from the same explicit weights and follow the same loss, so their gradients
agree. Each test compares what a script can observe: the parameters, ``state_dict()`` (keys in
order, the type, dtype and shape of every entry), a checkpoint written by ``torch.save`` and read
back with ``chainrule.load``, the rates a schedule sets, and the errors and warnings.
"""
import collections
import copy
import warnings

import numpy as np
import pytest
import torch

import chainrule

WEIGHTS = [
    np.sin(np.arange(12) * 1.7).astype(np.float32).reshape(3, 4) * 0.8,
    np.sin(np.arange(4) * 1.7 + 1).astype(np.float32) * 0.8,
    np.float32(0.3) + np.zeros((), np.float32),
]
TARGETS = [np.cos(np.arange(weight.size) + 0.3).astype(np.float32).reshape(weight.shape) for weight in WEIGHTS]


def make_params(lib, dtype=np.float32):
    return [lib.tensor(weight.astype(dtype), requires_grad=True) for weight in WEIGHTS]


def loss_of(lib, params):
    """A quartic bowl around TARGETS: the gradients change from step to step."""
    total = 0
    for param, target in zip(params, TARGETS):
        difference = param * 1.3 - lib.tensor(target).to(param.dtype)
        total = total + (difference**4).sum() * 0.1 + (difference**2).sum()
    return total


def train_step(lib, optimizer, params, set_to_none=True):
    def closure():
        optimizer.zero_grad(set_to_none=set_to_none)
        loss = loss_of(lib, params)
        loss.backward()
        return loss

    if isinstance(optimizer, lib.optim.LBFGS):
        return optimizer.step(closure)
    closure()
    return optimizer.step()


def assert_same_structure(theirs, ours, path="state_dict"):
    """Same nested keys in the same order, same container types, same tensor dtypes and shapes,
    values equal to float32 rounding."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), path
        assert list(ours) == list(theirs), path
        for key in theirs:
            assert_same_structure(theirs[key], ours[key], f"{path}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), path
        for position, (their_item, our_item) in enumerate(zip(theirs, ours)):
            assert_same_structure(their_item, our_item, f"{path}[{position}]")
    elif isinstance(theirs, torch.Tensor):
        assert isinstance(ours, chainrule.Tensor), path
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], path
        assert tuple(ours.shape) == tuple(theirs.shape), path
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-6, err_msg=path)
    elif callable(theirs):
        assert callable(ours), path
    else:
        assert type(ours) is type(theirs), path
        assert ours == theirs or (ours != ours and theirs != theirs), path


def assert_same_params(theirs, ours):
    for their_param, our_param in zip(theirs, ours):
        np.testing.assert_allclose(our_param.detach().numpy(), their_param.detach().numpy(), rtol=1e-4, atol=1e-5)


def build(lib, name, options, layout, dtype=np.float32):
    params = make_params(lib, dtype)
    named = list(zip(["weight", "bias", "scale"], params))
    if layout == "named":
        given = named
    elif layout == "groups":
        given = [{"params": params[:1]}, {"params": params[1:], "lr": options.get("lr", 1.0) / 2}]
    elif layout == "named groups":
        given = [{"params": named[:1]}, {"params": named[1:], "lr": options.get("lr", 1.0) / 2}]
    else:
        given = params
    return params, getattr(lib.optim, name)(given, **options)


OPTIMIZERS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, foreach=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True, weight_decay=0.01, fused=True)),
    ("AdamW", dict(lr=0.01, foreach=False)),
    ("RAdam", dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.05, maximize=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9)),
    ("Rprop", dict(lr=0.02, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1))),
    ("ASGD", dict(lr=0.05, t0=5, lambd=0.01)),
    ("LBFGS", dict(lr=0.5, max_iter=4)),
]
LAYOUTS = ["list", "named", "groups", "named groups"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name, options", OPTIMIZERS, ids=lambda value: value if isinstance(value, str) else "")
def test_training_and_a_torch_checkpoint_resume_like_torch(name, options, layout, tmp_path):
    if name == "LBFGS" and "groups" in layout:
        pytest.skip("LBFGS takes one group")
    their_params, theirs = build(torch, name, options, layout)
    our_params, ours = build(chainrule, name, options, layout)
    assert_same_structure(theirs.state_dict(), ours.state_dict())
    for step in range(8):
        train_step(torch, theirs, their_params, set_to_none=step % 2 == 0)
        train_step(chainrule, ours, our_params, set_to_none=step % 2 == 0)
    assert_same_params(their_params, our_params)
    assert_same_structure(theirs.state_dict(), ours.state_dict())

    torch.save(theirs.state_dict(), tmp_path / "optimizer.pt")
    resumed_params, resumed = build(chainrule, name, options, layout)
    for resumed_param, their_param in zip(resumed_params, their_params):
        resumed_param.data = chainrule.tensor(their_param.detach().numpy().copy())
    resumed.load_state_dict(chainrule.load(tmp_path / "optimizer.pt"))
    assert_same_structure(theirs.state_dict(), resumed.state_dict())
    for _ in range(3):
        train_step(torch, theirs, their_params)
        train_step(chainrule, resumed, resumed_params)
    assert_same_params(their_params, resumed_params)
    assert_same_structure(theirs.state_dict(), resumed.state_dict())


def test_param_groups_are_all_named_or_all_unnamed_like_torch():
    for lib in (torch, chainrule):
        weight, bias = make_params(lib)[:2]
        with pytest.raises(ValueError, match="cannot add param group without names to the optimizer"):
            lib.optim.SGD([{"params": [("weight", weight)]}, {"params": [bias]}], lr=0.1)
        with pytest.raises(ValueError, match="cannot add param group with names to the optimizer"):
            lib.optim.SGD([{"params": [weight]}, {"params": [("bias", bias)]}], lr=0.1)
        with pytest.raises(ValueError, match="Some param names are missing"):
            lib.optim.SGD([("weight", weight), bias], lr=0.1)
        with pytest.raises(TypeError, match=r"param_group must be a dict, but got <class 'list'>"):
            lib.optim.SGD([weight], lr=0.1).add_param_group([bias])


def test_add_param_group_keeps_the_dict_given_like_torch():
    """PyTorch stores the dict itself: a script that changes it later changes the optimizer."""
    for lib in (torch, chainrule):
        weight, bias = make_params(lib)[:2]
        optimizer = lib.optim.Adam([weight], lr=0.1)
        group = {"params": bias, "lr": 0.5}
        optimizer.add_param_group(group)
        assert optimizer.param_groups[-1] is group
        assert isinstance(group["params"], list) and group["params"][0] is bias
        assert list(group) == list(torch.optim.Adam([{"params": [torch.zeros(1)], "lr": 0.5}]).param_groups[0])


def test_duplicate_parameters_in_a_group_warn_like_torch():
    for lib in (torch, chainrule):
        weight = make_params(lib)[0]
        with pytest.warns(UserWarning, match="optimizer contains a parameter group with duplicate parameters"):
            lib.optim.SGD([weight, weight], lr=0.1)


def test_a_non_leaf_that_retains_its_grad_can_be_optimized_like_torch():
    for lib in (torch, chainrule):
        leaf = make_params(lib)[1]
        inner = leaf * 2
        with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
            lib.optim.SGD([inner], lr=0.1)
        inner.retain_grad()
        optimizer = lib.optim.SGD([inner], lr=0.1)
        inner.sum().backward()
        optimizer.step()
        np.testing.assert_allclose(inner.detach().numpy(), WEIGHTS[1] * 2 - 0.1, rtol=1e-6)


def test_state_is_a_defaultdict_of_dicts_like_torch():
    for lib in (torch, chainrule):
        params = make_params(lib)
        optimizer = lib.optim.Adam(params, lr=0.1)
        assert type(optimizer.state) is collections.defaultdict
        assert optimizer.state[params[0]] == {} and len(optimizer.state) == 1
        train_step(lib, optimizer, params)
        assert list(optimizer.state[params[0]]) == ["step", "exp_avg", "exp_avg_sq"]
        assert repr(optimizer.state).startswith("defaultdict(<class 'dict'>, {tensor(")


def test_lbfgs_runs_only_its_closure_with_grad_mode_on_like_torch():
    """PyTorch's LBFGS.step runs under no_grad and turns on grad mode for the closure alone: the
    loss is read as a number (``float(loss)``) with grad mode off."""

    def grad_modes(lib):
        param = lib.tensor(np.array([1.0, -2.0], np.float32), requires_grad=True)
        optimizer = lib.optim.LBFGS([param], max_iter=3)
        modes = []

        class Loss:
            def __init__(self, value):
                self.value = value

            def __float__(self):
                modes.append(("float", lib.is_grad_enabled()))
                return float(self.value.detach())

        def closure():
            modes.append(("closure", lib.is_grad_enabled()))
            optimizer.zero_grad()
            loss = (param**2).sum()
            loss.backward()
            return Loss(loss)

        with lib.no_grad():
            optimizer.step(closure)
        return modes, param.detach().numpy()

    (their_modes, their_param), (our_modes, our_param) = grad_modes(torch), grad_modes(chainrule)
    assert our_modes == their_modes
    np.testing.assert_allclose(our_param, their_param, atol=1e-6)


def test_loading_keeps_the_names_and_copies_the_options_like_torch():
    def loaded_groups(lib):
        named = lib.optim.Adam(list(zip(["weight", "bias"], make_params(lib)[:2])), lr=lib.tensor(0.1))
        unnamed = lib.optim.Adam(make_params(lib)[:2], lr=lib.tensor(0.5))
        saved = unnamed.state_dict()
        named.load_state_dict(saved)
        saved["param_groups"][0]["lr"].fill_(9.0)  # the loaded lr is a copy, not the saved tensor
        return [{key: value for key, value in group.items() if key != "params"} for group in named.param_groups]

    assert_same_structure(loaded_groups(torch), loaded_groups(chainrule), "param_groups")


#: Each optimizer's numeric options, which an older checkpoint has too; every other option is a later one
NUMERIC_OPTIONS = {"lr", "betas", "eps", "weight_decay", "momentum_decay", "alpha", "lr_decay", "initial_accumulator_value",
                   "etas", "step_sizes", "lambd", "t0", "rho", "dampening", "momentum"}


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "NAdam", "RAdam", "Adagrad", "Rprop", "ASGD", "Adamax", "Adadelta"])
def test_a_checkpoint_without_the_later_options_loads_and_steps_like_torch(name):
    """A group saved before ``maximize``, ``foreach``, ``decoupled_weight_decay``... existed gets
    the values PyTorch's optimizer gives it (AdamW's decay stays decoupled), when loaded and when
    unpickled, and steps as PyTorch's does."""
    results = []
    for lib in (torch, chainrule):
        param = lib.ones(3, requires_grad=True)
        optimizer = getattr(lib.optim, name)([param], **({"momentum": 0.9} if name == "SGD" else {}))
        saved = optimizer.state_dict()
        group = saved["param_groups"][0]
        removed = [key for key in group if key != "params" and (key not in NUMERIC_OPTIONS or name == "RMSprop" and key == "momentum")]
        for key in removed:
            del group[key]
        optimizer.load_state_dict(saved)
        for _ in range(2):
            param.grad = lib.ones(3)
            optimizer.step()
        state = optimizer.__getstate__()
        del state["param_groups"][0]["maximize"]
        unpickled = type(optimizer).__new__(type(optimizer))
        unpickled.__setstate__(state)
        results.append((param.tolist(), {key: optimizer.param_groups[0][key] for key in removed}, unpickled.param_groups[0]["maximize"]))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-6)
    assert results[1][1:] == results[0][1:]


def test_pickling_keeps_what_torch_keeps(tmp_path):
    """Saving a whole optimizer keeps its defaults, state and groups; hooks (a lambda here, which
    pickle refuses) and a scheduler's watch on ``step`` are dropped, as PyTorch drops them."""
    for lib in (torch, chainrule):
        params = make_params(lib)
        optimizer = lib.optim.Adam(params, lr=0.1)
        optimizer.register_step_pre_hook(lambda *args: None)
        lib.optim.lr_scheduler.StepLR(optimizer, 1)
        train_step(lib, optimizer, params)
        assert list(optimizer.__getstate__()) == ["defaults", "state", "param_groups"]
        lib.save(optimizer, tmp_path / f"{lib.__name__}.pt")
        restored = lib.load(tmp_path / f"{lib.__name__}.pt", weights_only=False)
        assert not restored._optimizer_step_pre_hooks
        restored_params = restored.param_groups[0]["params"]
        train_step(lib, restored, restored_params)
        assert float(restored.state[restored_params[0]]["step"]) == 2.0


def test_a_copied_lbfgs_steps_like_torchs_original():
    their_params, theirs = build(torch, "LBFGS", dict(lr=0.5, max_iter=4), "list")
    _, original = build(chainrule, "LBFGS", dict(lr=0.5, max_iter=4), "list")
    ours = copy.deepcopy(original)
    our_params = ours.param_groups[0]["params"]
    for _ in range(3):
        train_step(torch, theirs, their_params)
        train_step(chainrule, ours, our_params)
    assert_same_params(their_params, our_params)


# ------------------------------------------------------------------------------ schedulers
def scheduler_cases():
    def lr_scheduler(lib):
        return lib.optim.lr_scheduler

    def decay(epoch):
        return 0.95**epoch

    return {
        "StepLR": ("SGD", lambda lib, opt: lr_scheduler(lib).StepLR(opt, step_size=3, gamma=0.5)),
        "MultiStepLR": ("SGD", lambda lib, opt: lr_scheduler(lib).MultiStepLR(opt, milestones=[2, 5, 5, 9], gamma=0.3)),
        "CosineAnnealingLR": ("SGD", lambda lib, opt: lr_scheduler(lib).CosineAnnealingLR(opt, T_max=7, eta_min=0.001)),
        "CosineAnnealingWarmRestarts": (
            "SGD",
            lambda lib, opt: lr_scheduler(lib).CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.01),
        ),
        "CyclicLR": (
            "Adam",
            lambda lib, opt: lr_scheduler(lib).CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3, base_momentum=0.8, max_momentum=0.95),
        ),
        "OneCycleLR": (
            "AdamW",
            lambda lib, opt: lr_scheduler(lib).OneCycleLR(opt, max_lr=[0.05, 0.03], total_steps=40, anneal_strategy="linear", three_phase=True),
        ),
        "LambdaLR": ("SGD", lambda lib, opt: lr_scheduler(lib).LambdaLR(opt, lr_lambda=decay)),
        "SequentialLR": (
            "SGD",
            lambda lib, opt: lr_scheduler(lib).SequentialLR(
                opt,
                [lr_scheduler(lib).LinearLR(opt, start_factor=0.1, total_iters=3), lr_scheduler(lib).ExponentialLR(opt, gamma=0.9)],
                milestones=[3],
            ),
        ),
        "ReduceLROnPlateau": (
            "SGD",
            lambda lib, opt: lr_scheduler(lib).ReduceLROnPlateau(
                opt, mode="max", factor=0.5, patience=0, threshold=0.05, threshold_mode="abs", cooldown=2, min_lr=[0.01, 0.02]
            ),
        ),
        "SWALR": ("SGD", lambda lib, opt: lib.optim.swa_utils.SWALR(opt, swa_lr=[0.05, 0.01], anneal_epochs=3, anneal_strategy="linear")),
    }


SCHEDULERS = scheduler_cases()
METRICS = [1.0, 0.9, 0.95, 0.95, 0.94, 0.96, 0.97, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.7] * 3


def scheduled(lib, name):
    optimizer_name, make_scheduler = SCHEDULERS[name]
    params = make_params(lib)
    options = {"momentum": 0.9} if optimizer_name == "SGD" else {}
    optimizer = getattr(lib.optim, optimizer_name)([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.1, **options)
    return params, optimizer, make_scheduler(lib, optimizer)


def epoch(lib, params, optimizer, scheduler, number):
    train_step(lib, optimizer, params)
    if isinstance(scheduler, lib.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(METRICS[number])
    else:
        scheduler.step()


def schedule_options(optimizer):
    keys = ("lr", "initial_lr", "momentum", "betas", "max_lr", "min_lr", "max_momentum", "base_momentum", "swa_lr")
    return [{key: group[key] for key in keys if key in group} for group in optimizer.param_groups]


def without_callables(state):
    return {key: value for key, value in state.items() if not callable(value)}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_schedule_state_dict_and_a_torch_checkpoint_resume_like_torch(name, tmp_path):
    their_params, their_optimizer, theirs = scheduled(torch, name)
    our_params, our_optimizer, ours = scheduled(chainrule, name)
    assert_same_structure(schedule_options(their_optimizer), schedule_options(our_optimizer))
    for number in range(20):
        epoch(torch, their_params, their_optimizer, theirs, number)
        epoch(chainrule, our_params, our_optimizer, ours, number)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-6)
        assert_same_structure(schedule_options(their_optimizer), schedule_options(our_optimizer))
    assert_same_structure(without_callables(theirs.state_dict()), without_callables(ours.state_dict()))

    torch.save(without_callables(theirs.state_dict()), tmp_path / "scheduler.pt")
    torch.save(their_optimizer.state_dict(), tmp_path / "optimizer.pt")
    resumed_params, resumed_optimizer, resumed = scheduled(chainrule, name)
    for resumed_param, their_param in zip(resumed_params, their_params):
        resumed_param.data = chainrule.tensor(their_param.detach().numpy().copy())
    resumed_optimizer.load_state_dict(chainrule.load(tmp_path / "optimizer.pt"))
    resumed.load_state_dict(chainrule.load(tmp_path / "scheduler.pt"))
    for number in range(20, 28):
        epoch(torch, their_params, their_optimizer, theirs, number)
        epoch(chainrule, resumed_params, resumed_optimizer, resumed, number)
        assert_same_structure(schedule_options(their_optimizer), schedule_options(resumed_optimizer))
    assert_same_params(their_params, resumed_params)


def test_reduce_on_plateau_state_dict_keys_in_torch_order():
    for lib in (torch, chainrule):
        optimizer = lib.optim.SGD(make_params(lib), lr=0.1)
        keys = list(lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer).state_dict())
        assert keys == [
            "factor", "default_min_lr", "min_lrs", "patience", "cooldown", "eps", "last_epoch", "_last_lr",
            "mode_worse", "mode", "threshold", "threshold_mode", "best", "cooldown_counter", "num_bad_epochs",
        ]  # fmt: skip


def test_warm_restarts_stepped_by_fractional_epochs_like_torch():
    def history(lib):
        params = make_params(lib)
        optimizer = lib.optim.SGD(params, lr=0.1)
        scheduler = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=2, eta_min=0.001)
        rates = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for number in range(5):
                for batch in range(4):
                    train_step(lib, optimizer, params)
                    scheduler.step(number + batch / 4)
                    rates.append((scheduler.get_last_lr()[0], scheduler.T_cur, scheduler.T_i, scheduler.last_epoch))
        return rates

    ours, theirs = history(chainrule), history(torch)
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):  # pytest.approx takes no nested sequences (pytest 9.2 refuses them)
        assert mine == pytest.approx(reference, rel=1e-6)


@pytest.mark.parametrize(
    "name, options",
    [("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.1}), ("Rprop", {"lr": 0.01}), ("Adam", {"lr": 0.1}),
     ("RMSprop", {"lr": 0.01}), ("SGD", {"lr": 0.1, "momentum": 0.9})],
)
def test_a_complex_parameter_steps_as_its_real_pairs_like_torch(name, options):
    """Each part of a complex parameter is a real parameter of its own: Adagrad's sums and Rprop's
    step sizes start at (v, v) for the two parts, as PyTorch's complex(v, v)."""
    results = []
    for lib in (torch, chainrule):
        param = lib.tensor([[1.0 + 2.0j, -0.5 + 0.3j]], requires_grad=True)
        optimizer = getattr(lib.optim, name)([param], **options)
        for grad in ([[0.5 - 1.0j, 2.0 + 0.25j]], [[0.4 - 1.5j, -2.0 + 0.25j]], [[0.5 - 1.0j, 2.0 + 0.25j]]):
            param.grad = lib.tensor(grad)
            optimizer.step()
        results.append(lib.view_as_real(param.detach()).numpy().copy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5)


@pytest.mark.parametrize("make", [
    lambda lib, param: lib.optim.Adafactor([param]).step(),
    lambda lib, param: lib.optim.Muon([param]).step(),
    lambda lib, param: lib.optim.SparseAdam([{"params": [lib.ones(2)]}, {"params": [lib.ones(2), param]}]),
], ids=["Adafactor", "Muon", "SparseAdam"])
def test_optimizers_that_take_no_complex_parameter_refuse_one_as_pytorchs(make):
    refusals = []
    for lib in (torch, chainrule):
        param = lib.ones(2, 3, dtype=lib.complex64, requires_grad=True)
        param.grad = lib.ones_like(param)
        with pytest.raises((RuntimeError, ValueError)) as raised:
            make(lib, param)
        refusals.append((raised.type, str(raised.value)))
    assert refusals[0] == refusals[1]
