"""The distributions as course code uses them, with ``import chainrule as torch``: float32 by
default, a REINFORCE policy gradient with Categorical, a VAE's reparameterized Normal and its KL
to the prior, a diagonal Gaussian policy as Independent(Normal), and SAC's tanh-squashed Gaussian."""
import numpy as np
import torch

import chainrule


def test_numbers_give_float32_parameters_and_samples_as_in_pytorch():
    for lib in (chainrule, torch):
        normal = lib.distributions.Normal(0.0, 1.0)
        assert normal.loc.dtype == lib.float32 and normal.sample((3,)).dtype == lib.float32
        assert normal.sample().shape == () and lib.distributions.Bernoulli(0.5).sample().dtype == lib.float32
        assert lib.distributions.Categorical(logits=lib.zeros(4)).sample().dtype == lib.int64


def reinforce_gradient(lib, logits_values, actions, returns):
    logits = lib.tensor(logits_values, requires_grad=True)
    policy = lib.distributions.Categorical(logits=logits)
    loss = -(policy.log_prob(lib.tensor(actions)) * lib.tensor(returns)).sum() - 0.01 * policy.entropy().sum()
    loss.backward()
    return logits.grad.numpy()


def test_reinforce_policy_gradient_matches_pytorch():
    rng = np.random.default_rng(0)
    logits, returns = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    chainrule.manual_seed(0)
    actions = chainrule.distributions.Categorical(logits=chainrule.tensor(logits)).sample().numpy()
    np.testing.assert_allclose(reinforce_gradient(chainrule, logits, actions, returns), reinforce_gradient(torch, logits, actions, returns), rtol=1e-5, atol=1e-6)


def vae_terms(lib, mu_values, log_var_values, noise):
    mu, log_var = lib.tensor(mu_values, requires_grad=True), lib.tensor(log_var_values, requires_grad=True)
    posterior = lib.distributions.Normal(mu, (0.5 * log_var).exp())
    prior = lib.distributions.Normal(lib.zeros_like(mu), lib.ones_like(mu))
    z = mu + lib.tensor(noise) * posterior.stddev  # the reparameterization, with shared noise
    loss = lib.distributions.kl_divergence(posterior, prior).sum() + (z ** 2).sum() + posterior.log_prob(z).sum()
    loss.backward()
    return loss.item(), mu.grad.numpy(), log_var.grad.numpy()


def test_vae_loss_and_gradients_match_pytorch():
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((4, 2)).astype(np.float32) for _ in range(3)]
    for ours, theirs in zip(vae_terms(chainrule, *arrays), vae_terms(torch, *arrays)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_diagonal_gaussian_policy_log_prob_per_action_vector():
    for lib in (chainrule, torch):
        policy = lib.distributions.Independent(lib.distributions.Normal(lib.zeros(8, 2), lib.ones(2)), 1)
        action = policy.rsample()
        assert tuple(action.shape) == (8, 2) and tuple(policy.log_prob(action).shape) == (8,)
        assert tuple(policy.entropy().shape) == (8,)


def squashed_gaussian_step(lib, mean_values, log_std_values, pre_tanh):
    """SAC's tanh-squashed Gaussian policy: log π(a) of an action made by the cached TanhTransform,
    and its gradients, for the pre-tanh sample ``pre_tanh`` (given, so both libraries use the same)."""
    mean, log_std = lib.tensor(mean_values, requires_grad=True), lib.tensor(log_std_values, requires_grad=True)
    tanh = lib.distributions.transforms.TanhTransform(cache_size=1)
    policy = lib.distributions.TransformedDistribution(lib.distributions.Normal(mean, log_std.exp()), [tanh])
    x = lib.tensor(pre_tanh)
    action = tanh(x)
    log_prob = policy.log_prob(action).sum()
    log_prob.backward()
    return log_prob.item(), mean.grad.numpy(), log_std.grad.numpy()


def test_tanh_squashed_gaussian_policy_matches_pytorch_even_where_tanh_saturates():
    rng = np.random.default_rng(2)
    mean, log_std = rng.standard_normal(4), rng.standard_normal(4) * 0.3
    pre_tanh = np.array([0.3, -1.2, 12.0, -25.0])  # tanh is ±1 in float64 here: only the cached x gives a finite log_prob
    ours, theirs = squashed_gaussian_step(chainrule, mean, log_std, pre_tanh), squashed_gaussian_step(torch, mean, log_std, pre_tanh)
    assert np.isfinite(ours[0])
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-10)


def test_probs_asked_first_under_no_grad_still_carry_the_gradient_as_in_pytorch():
    """(an RL loop samples under no_grad, then takes entropy and mean from the same object:
    PyTorch's lazy_property computes with grad mode on)"""
    results = []
    for lib in (chainrule, torch):
        logits = lib.tensor([0.5, -0.3, 1.0], requires_grad=True)
        policy = lib.distributions.Categorical(logits=logits)
        coin = lib.distributions.Bernoulli(logits=logits)
        with lib.no_grad():
            policy.sample()
            coin.sample()
        (policy.entropy() + coin.mean.sum()).backward()
        results.append(logits.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_log_prob_gradient_at_a_zero_logit_is_pytorchs():
    """(zero-initialised logits: the derivative of ln(1 + eˣ) at 0 is σ(0) = 1/2)"""
    results = []
    for lib in (chainrule, torch):
        logits = lib.tensor([0.0, 1.0, -2.0], requires_grad=True)
        value = lib.tensor([0.0, 1.0, 1.0])
        total = lib.distributions.Bernoulli(logits=logits).log_prob(value).sum()
        total = total + lib.distributions.Binomial(5, logits=logits).log_prob(value * 2).sum()
        total = total + lib.distributions.Bernoulli(logits=logits).entropy().sum()
        total.backward()
        results.append(logits.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_log_prob_of_huge_logits_stays_finite_as_pytorchs():
    for lib in (chainrule, torch):
        for dtype, huge in (("float32", 1e38), ("float64", 1e308)):
            logits = lib.tensor([huge], dtype=getattr(lib, dtype), requires_grad=True)
            log_prob = lib.distributions.Bernoulli(logits=logits).log_prob(lib.ones(1, dtype=getattr(lib, dtype)))
            log_prob.sum().backward()
            assert log_prob.item() == 0.0 and logits.grad.item() == 0.0
