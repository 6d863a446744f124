"""LBFGS against torch.optim.LBFGS: the same closure on the same starting point, step by step."""
import numpy as np
import pytest
import torch

import chainrule

OPTIONS = [
    dict(),
    dict(lr=0.5, max_iter=5, history_size=3),
    dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", max_iter=7, history_size=2, tolerance_change=1e-12),
    dict(lr=0.1, max_iter=4, max_eval=6, tolerance_grad=1e-3),
]


def rosenbrock_problem(lib, dtype):
    """A bent valley (Rosenbrock in 2-d pieces) and a small least-squares fit, on two parameters."""
    rng = np.random.default_rng(0)
    inputs = lib.tensor(rng.standard_normal((8, 3)))
    targets = lib.tensor(rng.standard_normal(8))
    valley = lib.tensor(np.array([-1.2, 1.0, -0.5, 0.8], dtype=dtype), requires_grad=True)
    weights = lib.tensor(rng.standard_normal(3).astype(dtype), requires_grad=True)

    def loss():
        first, second = valley[0::2], valley[1::2]
        bend = (10 * (second - first**2) ** 2 + (1 - first) ** 2).sum()
        return bend + ((inputs.to(weights.dtype) @ weights - targets.to(weights.dtype)) ** 2).mean()

    return [valley, weights], loss


def run(lib, options, steps, dtype=np.float64):
    params, loss = rosenbrock_problem(lib, dtype)
    optimizer = lib.optim.LBFGS(params, **options)
    calls = []

    def closure():
        optimizer.zero_grad()
        value = loss()
        value.backward()
        calls.append(float(value.detach()))
        return value

    returned = [float(optimizer.step(closure).detach()) for _ in range(steps)]
    return [param.detach().numpy().copy() for param in params], returned, calls, optimizer


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_matches_torch(options):
    ours, our_losses, our_calls, optimizer = run(chainrule, options, 4)
    theirs, their_losses, their_calls, their_optimizer = run(torch, options, 4)
    assert len(our_calls) == len(their_calls)
    np.testing.assert_allclose(our_calls, their_calls, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-9, atol=1e-12)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-8, atol=1e-10)
    our_state, their_state = optimizer.state_dict()["state"][0], their_optimizer.state_dict()["state"][0]
    assert list(our_state) == list(their_state)
    assert (our_state["func_evals"], our_state["n_iter"]) == (their_state["func_evals"], their_state["n_iter"])
    np.testing.assert_allclose(our_state["d"]._array, their_state["d"].numpy(), rtol=1e-7, atol=1e-9)
    assert len(our_state["old_dirs"]) == len(their_state["old_dirs"])


def test_float32_parameters_stay_float32_and_follow_torch():
    ours, our_losses, _, _ = run(chainrule, dict(line_search_fn="strong_wolfe"), 3, np.float32)
    theirs, their_losses, _, _ = run(torch, dict(line_search_fn="strong_wolfe"), 3, np.float32)
    assert ours[0].dtype == np.float32
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-4)


@pytest.mark.parametrize("options", OPTIONS[1:4], ids=str)
def test_state_dict_round_trip_continues_exactly(options, tmp_path):
    expected, expected_losses, _, _ = run(chainrule, options, 6)

    params, loss = rosenbrock_problem(chainrule, np.float64)
    optimizer = chainrule.optim.LBFGS(params, **options)

    def closure():
        optimizer.zero_grad()
        value = loss()
        value.backward()
        return value

    losses = [float(optimizer.step(closure).detach()) for _ in range(3)]
    chainrule.save({"params": params, "optimizer": optimizer.state_dict()}, tmp_path / "lbfgs.safetensors")
    checkpoint = chainrule.load(tmp_path / "lbfgs.safetensors")
    resumed_params, resumed_loss = rosenbrock_problem(chainrule, np.float64)
    for param, saved in zip(resumed_params, checkpoint["params"]):
        param._array[...] = saved._array
    resumed = chainrule.optim.LBFGS(resumed_params, **options)
    resumed.load_state_dict(checkpoint["optimizer"])

    def resumed_closure():
        resumed.zero_grad()
        value = resumed_loss()
        value.backward()
        return value

    losses += [float(resumed.step(resumed_closure).detach()) for _ in range(3)]
    assert losses == expected_losses
    for mine, reference in zip(resumed_params, expected):
        np.testing.assert_array_equal(mine._array, reference)


def test_bad_arguments_like_torch():
    weight = chainrule.tensor([1.0], requires_grad=True)
    other = chainrule.tensor([2.0], requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        chainrule.optim.LBFGS([weight], lr=-1)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        chainrule.optim.LBFGS([{"params": [weight]}, {"params": [other]}])
    optimizer = chainrule.optim.LBFGS([weight], line_search_fn="backtracking")

    def closure():
        optimizer.zero_grad()
        loss = (weight**2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        optimizer.step(closure)
