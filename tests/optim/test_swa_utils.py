"""torch.optim.swa_utils against torch: averaged weights, BatchNorm statistics, and SWALR's rates."""
import numpy as np
import pytest
import torch

import chainrule


def network(lib):
    """A small network with a BatchNorm (buffers) and a float64 layer, the same weights in both libraries."""
    rng = np.random.default_rng(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    with lib.no_grad():
        for param in model.parameters():
            param.copy_(lib.tensor(rng.standard_normal(tuple(param.shape)).astype(np.float32)))
    return model


AVERAGES = {
    "swa-default": lambda lib: dict(),
    "ema-multi": lambda lib: dict(multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.9)),
    "swa-multi": lambda lib: dict(multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn()),
    "ema-avg_fn": lambda lib: dict(avg_fn=lib.optim.swa_utils.get_ema_avg_fn(0.8)),
    "swa-avg_fn-buffers": lambda lib: dict(avg_fn=lib.optim.swa_utils.get_swa_avg_fn(), use_buffers=True),
    "ema-multi-buffers": lambda lib: dict(multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.5), use_buffers=True),
}


def averaged_training(lib, options):
    rng = np.random.default_rng(1)
    model = network(lib)
    averaged = lib.optim.swa_utils.AveragedModel(model, **options)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = lib.optim.swa_utils.SWALR(optimizer, swa_lr=0.02, anneal_epochs=3)
    inputs, targets = rng.standard_normal((12, 8, 3)), rng.standard_normal((12, 8, 2))
    for batch, target in zip(inputs, targets):
        optimizer.zero_grad()
        ((model(lib.tensor(batch, dtype=lib.float32)) - lib.tensor(target, dtype=lib.float32)) ** 2).mean().backward()
        optimizer.step()
        averaged.update_parameters(model)
        scheduler.step()
    loader = [(lib.tensor(batch, dtype=lib.float32), 0) for batch in inputs[:5]]
    lib.optim.swa_utils.update_bn(loader, averaged)
    return {name: value.detach().numpy().copy() for name, value in averaged.state_dict().items()}, averaged


@pytest.mark.parametrize("name", AVERAGES)
def test_averaged_model_matches_torch(name):
    ours, averaged = averaged_training(chainrule, AVERAGES[name](chainrule))
    theirs, _ = averaged_training(torch, AVERAGES[name](torch))
    assert list(ours) == list(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=2e-5, atol=1e-6, err_msg=key)
    assert int(averaged.n_averaged) == 12 and averaged.training


def test_update_bn_restores_mode_and_momentum_and_skips_models_without_batchnorm():
    model = network(chainrule)
    model.eval()
    chainrule.optim.swa_utils.update_bn([chainrule.randn(4, 3)], model)
    assert not model.training and model[1].momentum == 0.1
    chainrule.optim.swa_utils.update_bn([chainrule.randn(4, 3)], chainrule.nn.Linear(3, 1))


def test_averaged_model_forwards_to_its_copy():
    model = network(chainrule)
    averaged = chainrule.optim.swa_utils.AveragedModel(model)
    assert averaged.module is not model
    inputs = chainrule.randn(5, 3)
    model.eval()
    averaged.eval()
    np.testing.assert_array_equal(averaged(inputs).detach().numpy(), model(inputs).detach().numpy())


def test_bad_arguments_like_torch():
    for lib in (chainrule, torch):
        with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. Please provide a value in \[0,1\] range."):
            lib.optim.swa_utils.get_ema_multi_avg_fn(1.5)
        with pytest.raises(ValueError, match="Invalid decay value -0.1"):
            lib.optim.swa_utils.get_ema_avg_fn(-0.1)
        with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
            lib.optim.swa_utils.AveragedModel(
                lib.nn.Linear(1, 1),
                avg_fn=lib.optim.swa_utils.get_swa_avg_fn(),
                multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn(),
            )


def test_swalr_round_trips_its_state():
    optimizer = chainrule.optim.SGD([chainrule.tensor([1.0], requires_grad=True)], lr=0.5)
    scheduler = chainrule.optim.swa_utils.SWALR(optimizer, swa_lr=0.1, anneal_epochs=4, anneal_strategy="linear")
    scheduler.step()
    state = scheduler.state_dict()
    other = chainrule.optim.swa_utils.SWALR(
        chainrule.optim.SGD([chainrule.tensor([1.0], requires_grad=True)], lr=0.5), swa_lr=0.1, anneal_strategy="cos"
    )
    other.load_state_dict(state)
    assert other.anneal_func(0.5) == 0.5 and other.anneal_epochs == 4
