"""Learning rates and Adam's betas held in tensors, against torch.optim over many steps.

PyTorch computes the scalars of a step (``lr / (1 - beta1**t)``...) in the tensor's dtype when a
hyperparameter is a tensor, so a float32 tensor rounds them in float32: the results differ from a
float ``lr`` by float32 roundings, and chainrule must follow those, not the float ones.
"""
import numpy as np
import pytest
import torch

import chainrule
from tests.optim.test_optimizers import initial_arrays, make, train

STEPS = 40
TENSOR_LR_CASES = [
    ("SGD", dict(momentum=0.9, weight_decay=0.01)),
    ("SGD", dict(nesterov=True, momentum=0.5, maximize=True)),
    ("Adam", dict(weight_decay=0.01)),
    ("Adam", dict(amsgrad=True)),
    ("AdamW", dict()),
    ("AdamW", dict(weight_decay=0.1, amsgrad=True)),
    ("Adamax", dict(weight_decay=0.05)),
    ("NAdam", dict()),
    ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict()),
    ("RAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
    ("RMSprop", dict(momentum=0.5, centered=True)),
    ("Adagrad", dict(lr_decay=0.01)),
    ("Adadelta", dict()),
    ("ASGD", dict(t0=5, lambd=0.01)),
    ("Rprop", dict()),
    ("Adafactor", dict(weight_decay=0.05)),
]
BETAS_OPTIMIZERS = ["Adam", "AdamW", "NAdam", "RAdam", "Adamax"]
DTYPES = [np.float32, np.float64]


def case_id(case):
    return case[0] + "-" + "-".join(f"{key}={value}" for key, value in case[1].items())


def run(lib, name, options, dtype, steps=STEPS):
    params, optimizer = make(lib, name, options, initial_arrays(dtype=dtype))
    return train(lib, optimizer, params, steps), optimizer


def assert_same_training(name, our_options, their_options, dtype):
    (ours, _), (theirs, _) = run(chainrule, name, our_options, dtype), run(torch, name, their_options, dtype)
    for position, (mine, reference) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(mine, reference, rtol=1e-6, atol=1e-6, err_msg=f"{name}: parameter {position}")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda dtype: dtype.__name__)
@pytest.mark.parametrize("case", TENSOR_LR_CASES, ids=case_id)
def test_tensor_lr_trains_like_torch(case, dtype):
    name, options = case
    lr = 0.5 if name == "Adadelta" else 0.02
    assert_same_training(
        name, dict(options, lr=chainrule.tensor(lr)), dict(options, lr=torch.tensor(lr)), dtype
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda dtype: dtype.__name__)
@pytest.mark.parametrize("tensor_lr", [False, True], ids=["float-lr", "tensor-lr"])
@pytest.mark.parametrize("name", BETAS_OPTIMIZERS)
def test_tensor_betas_train_like_torch(name, tensor_lr, dtype):
    def options(lib):
        lr = lib.tensor(0.02) if tensor_lr else 0.02
        return dict(lr=lr, betas=(lib.tensor(0.8), lib.tensor(0.95)), weight_decay=0.05)

    assert_same_training(name, options(chainrule), options(torch), dtype)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "NAdam", "RAdam", "Adamax", "ASGD"])
def test_a_float64_tensor_lr_keeps_float32_arithmetic_like_torch(name):
    """A 0-d float64 tensor does not make PyTorch compute a float32 parameter's update in float64."""
    assert_same_training(
        name,
        dict(lr=chainrule.tensor(0.02, dtype=chainrule.float64), weight_decay=0.1),
        dict(lr=torch.tensor(0.02, dtype=torch.float64), weight_decay=0.1),
        np.float32,
    )


def test_tensor_lr_moves_radam_from_the_first_step():
    """The reported case: a tensor lr used to leave the parameter where it was."""
    results = []
    for lib in (chainrule, torch):
        weight = lib.tensor([1.0, -2.0], requires_grad=True)
        optimizer = lib.optim.RAdam([weight], lr=lib.tensor(0.05))
        for _ in range(3):
            optimizer.zero_grad()
            (weight * weight).sum().backward()
            optimizer.step()
        results.append(weight.detach().numpy())
    assert not np.allclose(results[0], [1.0, -2.0])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Adamax"])
def test_mixed_float_and_tensor_betas_are_accepted_where_torch_accepts_them(name):
    assert_same_training(
        name, dict(lr=0.01, betas=(chainrule.tensor(0.9), 0.99)), dict(lr=0.01, betas=(torch.tensor(0.9), 0.99)), np.float32
    )


def raised(make_optimizer):
    try:
        make_optimizer()
    except Exception as error:  # noqa: BLE001 - the type itself is compared
        return type(error), str(error)
    return None


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize(
    "betas",
    [
        lambda lib: (lib.tensor(0.9), 0.99),
        lambda lib: (0.9, lib.tensor(0.99)),
        lambda lib: (0, 0.99),  # an int is not a float to PyTorch's check
        lambda lib: (lib.tensor([0.9, 0.8]), lib.tensor(0.99)),
        lambda lib: (lib.tensor(0.9), lib.tensor([[0.99, 0.9]])),
    ],
    ids=["tensor-float", "float-tensor", "int-float", "two-element-beta1", "two-element-beta2"],
)
def test_bad_tensor_betas_raise_like_torch(name, betas):
    def attempt(lib):
        return raised(lambda: getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)], betas=betas(lib)))

    ours, theirs = attempt(chainrule), attempt(torch)
    assert theirs is not None and ours[0] == theirs[0]
    if theirs[0] is ValueError:  # a RuntimeError comes from bool() of a 2-element tensor, in its words
        assert ours[1] == theirs[1]


@pytest.mark.parametrize(
    "name", ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta", "ASGD", "Rprop", "Adafactor", "LBFGS"]
)
def test_tensor_lr_of_more_than_one_element_raises_like_torch(name):
    def attempt(lib):
        return raised(lambda: getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)], lr=lib.tensor([0.1, 0.2])))

    assert attempt(chainrule) == attempt(torch) == (ValueError, "Tensor lr must be 1-element")


def test_tensor_lr_with_foreach_raises_like_torch():
    for options in (dict(lr=0.01, foreach=True), dict(betas=(0.9, 0.99), foreach=True), dict(betas=(None, 0.99))):
        def attempt(lib):
            arguments = dict(options)
            if "lr" in arguments:
                arguments["lr"] = lib.tensor(0.01)
            else:
                arguments["betas"] = (lib.tensor(0.9), lib.tensor(0.99))
            return raised(lambda: lib.optim.Adam([lib.zeros(2, requires_grad=True)], **arguments))

        assert attempt(chainrule) == attempt(torch)


def test_one_element_betas_are_squeezed_and_lr_kept_like_torch():
    ours, theirs = (
        lib.optim.Adam([lib.zeros(2, requires_grad=True)], lr=lib.tensor([0.01]), betas=(lib.tensor([0.9]), lib.tensor([0.99])))
        for lib in (chainrule, torch)
    )
    for mine, reference in zip(ours.param_groups[0]["betas"], theirs.param_groups[0]["betas"]):
        assert mine.dim() == reference.dim() == 0
    assert ours.param_groups[0]["lr"].shape == tuple(theirs.param_groups[0]["lr"].shape) == (1,)


def test_a_scheduler_fills_a_tensor_lr_in_place_like_torch():
    def schedule(lib):
        params, optimizer = make(lib, "Adam", dict(lr=lib.tensor(0.05)))
        lr = optimizer.param_groups[0]["lr"]
        scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        rates = []
        for step in range(6):
            train(lib, optimizer, params, 1, start=step)
            scheduler.step()
            assert optimizer.param_groups[0]["lr"] is lr  # the same tensor, filled
            last = scheduler.get_last_lr()[0]
            assert isinstance(last, lib.Tensor) and last is not lr  # a copy
            rates.append(float(last))
        return rates, [param.detach().numpy() for param in params], float(scheduler.base_lrs[0])

    (our_rates, our_params, our_base), (their_rates, their_params, their_base) = schedule(chainrule), schedule(torch)
    assert our_rates == their_rates and our_base == their_base
    for mine, reference in zip(our_params, their_params):
        np.testing.assert_allclose(mine, reference, rtol=1e-6, atol=1e-7)


def test_muon_and_lbfgs_take_a_tensor_lr():
    """Same results as with the float lr (their own tests compare those with torch)."""
    from tests.optim.test_lbfgs import run as run_lbfgs
    from tests.optim.test_muon import train as train_muon

    for dtype in DTYPES:
        with_float = train_muon(chainrule, dict(lr=0.02, weight_decay=0.1), dtype)[0]
        with_tensor = train_muon(chainrule, dict(lr=chainrule.tensor(0.02, dtype=chainrule.float64), weight_decay=0.1), dtype)[0]
        for mine, reference in zip(with_tensor, with_float):
            np.testing.assert_allclose(mine, reference, rtol=1e-6, atol=1e-7)
        ours = run_lbfgs(chainrule, dict(lr=chainrule.tensor(0.5)), 3, dtype=dtype)[0]
        theirs = run_lbfgs(torch, dict(lr=torch.tensor(0.5)), 3, dtype=dtype)[0]
        for mine, reference in zip(ours, theirs):
            np.testing.assert_allclose(mine, reference, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.optim.Adam([lib.zeros(2, requires_grad=True)], betas=(lib.tensor(1.5), lib.tensor(0.9))),
        lambda lib: lib.optim.NAdam([lib.zeros(2, requires_grad=True)], lr=lib.tensor(-0.1)),
        lambda lib: lib.optim.Muon([lib.zeros(2, 2, requires_grad=True)], lr=lib.tensor(-0.1)),
        lambda lib: lib.optim.Muon([lib.zeros(2, 2, requires_grad=True)], lr=lib.tensor([0.1, 0.2])),
    ],
    ids=["beta-out-of-range", "negative-lr", "muon-negative-lr", "muon-two-element-lr"],
)
def test_bad_tensor_hyperparameters_are_reported_in_torch_s_words(make):
    ours, theirs = raised(lambda: make(chainrule)), raised(lambda: make(torch))
    assert theirs is not None and ours == theirs
