"""Muon against torch.optim.Muon: matrices only, its Newton-Schulz iteration in (emulated) bfloat16."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule.optim.muon import newton_schulz

SHAPES = [(4, 3), (3, 5), (6, 6), (16, 7)]
OPTIONS = [
    dict(),
    dict(lr=0.02, nesterov=False, weight_decay=0.0),
    dict(lr=0.01, momentum=0.3, adjust_lr_fn="match_rms_adamw"),
    dict(lr=0.01, ns_steps=3, ns_coefficients=(2.0, -1.5, 0.5), eps=1e-5, adjust_lr_fn="original"),
]


def train(lib, options, dtype, steps=30):
    rng = np.random.default_rng(0)
    params = [lib.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True) for shape in SHAPES]
    optimizer = lib.optim.Muon(params, **options)
    for step in range(steps):
        for position, param in enumerate(params):
            values = param.detach().numpy()
            noise = np.random.default_rng(100 * step + position).standard_normal(values.shape)
            param.grad = lib.tensor((np.tanh(values) + 0.3 * noise).astype(dtype))
        optimizer.step()
    return [param.detach().numpy() for param in params], optimizer


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_matches_torch(options, dtype):
    """Equal up to a few bfloat16 roundings that went the other way (NumPy and PyTorch sum a matrix
    product in different orders): each moves an entry by about lr * 2^-8."""
    ours, optimizer = train(chainrule, options, dtype)
    theirs, their_optimizer = train(torch, options, dtype)
    bfloat16_flip = options.get("lr", 1e-3) * 2.0**-8
    for mine, reference in zip(ours, theirs):
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine, reference, rtol=0, atol=4 * bfloat16_flip)
    for index, values in their_optimizer.state_dict()["state"].items():
        assert list(optimizer.state_dict()["state"][index]) == list(values)
        np.testing.assert_allclose(
            optimizer.state_dict()["state"][index]["momentum_buffer"]._array, values["momentum_buffer"].numpy(), rtol=1e-4, atol=1e-5
        )


@pytest.mark.parametrize("shape", [(5, 3), (3, 8), (32, 64), (64, 16)])
def test_newton_schulz_gives_torch_s_bfloat16_values(shape):
    from torch.optim._muon import _zeropower_via_newtonschulz

    matrix = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    ours = newton_schulz(matrix, (3.4445, -4.7750, 2.0315), 5, 1e-7)
    theirs = _zeropower_via_newtonschulz(torch.tensor(matrix), (3.4445, -4.7750, 2.0315), 5, 1e-7).float().numpy()
    np.testing.assert_array_equal(ours, theirs)
    singular_values = np.linalg.svd(ours, compute_uv=False)
    assert singular_values.min() > 0.5 and singular_values.max() < 1.3


def test_bad_arguments_like_torch():
    for lib in (chainrule, torch):
        matrix = [lib.zeros(2, 2, requires_grad=True)]
        with pytest.raises(ValueError, match="Learning rate should be >= 0 but is: -1"):
            lib.optim.Muon(matrix, lr=-1)
        with pytest.raises(ValueError, match="momentum should be >= 0 but is: -0.5"):
            lib.optim.Muon(matrix, momentum=-0.5)
        with pytest.raises(ValueError, match="weight decay should be >= 0 but is: -1"):
            lib.optim.Muon(matrix, weight_decay=-1)
        with pytest.raises(ValueError, match="Adjust learning rate function cube is not supported"):
            lib.optim.Muon(matrix, adjust_lr_fn="cube")
        with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
            lib.optim.Muon([lib.zeros(3, requires_grad=True)])
        optimizer = lib.optim.Muon(matrix, ns_steps=100)
        matrix[0].grad = lib.ones(2, 2)
        with pytest.raises(ValueError, match="Number of steps must be less than 100"):
            optimizer.step()


def test_state_dict_round_trip_continues_exactly(tmp_path):
    expected, _ = train(chainrule, dict(lr=0.02), np.float32, steps=20)
    params, optimizer = train(chainrule, dict(lr=0.02), np.float32, steps=10)
    chainrule.save(optimizer.state_dict(), tmp_path / "muon.safetensors")
    resumed = [chainrule.tensor(array, requires_grad=True) for array in params]
    continued = chainrule.optim.Muon(resumed, lr=0.5)
    continued.load_state_dict(chainrule.load(tmp_path / "muon.safetensors"))
    for step in range(10, 20):
        for position, param in enumerate(resumed):
            values = param.detach().numpy()
            noise = np.random.default_rng(100 * step + position).standard_normal(values.shape)
            param.grad = chainrule.tensor((np.tanh(values) + 0.3 * noise).astype(np.float32))
        continued.step()
    for mine, reference in zip(resumed, expected):
        np.testing.assert_array_equal(mine.detach().numpy(), reference)
