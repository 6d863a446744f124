"""Adversarial reinforcement-learning and generative-model training steps: REINFORCE, PPO, DQN,
actor-critic with squashed Gaussians, Beta/Dirichlet/Bernoulli/one-hot/relaxed policies, KL between
two model outputs, VAEs, GANs (alternating optimizers, requires_grad toggling, weight clipping,
gradient penalty) and diffusion noise schedules. Each scenario runs eagerly and compiled from the
same seed over several calls whose Python values change, and is compared bit for bit after every
call: the result (or the error), parameters, gradients, buffers, optimizer state and the random
stream (torch.rand(3) drawn after the call). Running eagerly from some call on with one warning is
allowed; anything else that differs is a bug.
"""
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule import distributions as D
from chainrule.nn import functional as F
from tests.compile.bitwise import assert_identical

CALLS = 6


def _plain(value):
    if isinstance(value, torch.Tensor):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _state(modules):
    out = []
    for module in modules:
        for name, p in module.named_parameters():
            out.append((name, _plain(p), None if p.grad is None else _plain(p.grad), p.requires_grad))
        for name, b in module.named_buffers():
            out.append((name, _plain(b)))
    return out


def _run(setup, compiled, calls=CALLS):
    torch.manual_seed(0)
    case = setup()
    step = torch.compile(case["step"]) if compiled else case["step"]
    modules = case.get("modules", [])
    extra = case.get("extra", lambda: [])
    records = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            try:
                result = ("returned", _plain(step(*case["args"](i))))
            except Exception as error:
                result = ("raised", type(error).__name__, str(error))
            records.append((result, _state(modules), _plain(extra()), _plain(torch.rand(3))))
    compile_warnings = [str(w.message) for w in caught if "compile" in str(w.message)]
    return records, compile_warnings


def check(setup, calls=CALLS):
    eager, _ = _run(setup, compiled=False, calls=calls)
    compiled, compile_warnings = _run(setup, compiled=True, calls=calls)
    assert len(compile_warnings) <= 1, compile_warnings
    for i, (mine, theirs) in enumerate(zip(compiled, eager)):
        assert_identical(mine, theirs, f"call {i}")
    return compile_warnings


def _optim_state(optimizer):
    return [
        {key: value for key, value in sorted(state.items())}
        for state in optimizer.state.values()
    ]


# ------------------------------------------------------------------------------------- REINFORCE
def _returns(rewards, gamma):
    out, running = [], 0.0
    for r in reversed(rewards):
        running = r + gamma * running
        out.append(running)
    return out[::-1]


def test_reinforce_rewards_as_python_list():
    def setup():
        policy = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
        opt = torch.optim.Adam(policy.parameters(), lr=1e-2)
        obs = torch.randn(5, 4)

        def step(obs, rewards, gamma, beta):
            opt.zero_grad()
            dist = D.Categorical(logits=policy(obs))
            actions = dist.sample()
            logp = dist.log_prob(actions)
            returns = torch.tensor(_returns(rewards, gamma))
            returns = (returns - returns.mean()) / (returns.std() + 1e-8)
            loss = -(logp * returns).sum() - beta * dist.entropy().mean()
            loss.backward()
            opt.step()
            return loss, actions

        def args(i):
            rewards = [float((i * 7 + k * 3) % 5) - 1.5 for k in range(5)]
            return obs, rewards, 0.99 - 0.01 * i, 0.01 / (i + 1)

        return dict(step=step, args=args, modules=[policy], extra=lambda: _optim_state(opt))

    check(setup)


def test_reinforce_returns_tensor_and_learned_baseline():
    def setup():
        policy = nn.Linear(4, 3)
        value = nn.Linear(4, 1)
        opt = torch.optim.SGD(list(policy.parameters()) + list(value.parameters()), lr=0.05, momentum=0.9)

        def step(obs, returns):
            opt.zero_grad()
            logits = policy(obs)
            dist = D.Categorical(logits=logits)
            a = dist.sample()
            baseline = value(obs).squeeze(-1)
            adv = returns - baseline.detach()
            loss = -(dist.log_prob(a) * adv).mean() + F.mse_loss(baseline, returns)
            loss.backward()
            opt.step()
            return loss.detach(), a, dist.probs

        def args(i):
            return torch.randn(6, 4), torch.randn(6) * (i + 1)

        return dict(step=step, args=args, modules=[policy, value])

    check(setup)


def test_reinforce_multinomial_with_replacement_and_returns_loop():
    def setup():
        policy = nn.Linear(3, 4)
        opt = torch.optim.RMSprop(policy.parameters(), lr=1e-2)

        def step(obs, rewards):
            opt.zero_grad()
            probs = F.softmax(policy(obs), dim=-1)
            actions = torch.multinomial(probs, 2, replacement=True)
            logp = torch.log(probs.gather(1, actions)).sum(1)
            g = torch.zeros(())
            rets = []
            for r in reversed(rewards.unbind(0)):
                g = r + 0.9 * g
                rets.append(g)
            rets = torch.stack(rets[::-1])
            loss = -(logp * rets).mean()
            loss.backward()
            opt.step()
            return loss, actions

        return dict(step=step, args=lambda i: (torch.randn(4, 3), torch.randn(4)), modules=[policy])

    check(setup)


# ------------------------------------------------------------------------------------------- PPO
def test_ppo_epochs_of_minibatches_with_randperm():
    def setup():
        actor = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))
        critic = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
        params = list(actor.parameters()) + list(critic.parameters())
        opt = torch.optim.Adam(params, lr=3e-4)
        obs = torch.randn(16, 4)
        actions = torch.randint(0, 3, (16,))
        old_logp = torch.randn(16) * 0.1 - 1.1

        def step(obs, actions, old_logp, adv, returns, clip, epochs):
            total = 0.0
            for _ in range(epochs):
                perm = torch.randperm(16)
                for start in range(0, 16, 8):
                    idx = perm[start:start + 8]
                    dist = D.Categorical(logits=actor(obs[idx]))
                    logp = dist.log_prob(actions[idx])
                    ratio = torch.exp(logp - old_logp[idx])
                    a = adv[idx]
                    surr = torch.min(ratio * a, torch.clamp(ratio, 1 - clip, 1 + clip) * a)
                    v = critic(obs[idx]).squeeze(-1)
                    loss = -surr.mean() + 0.5 * (returns[idx] - v).pow(2).mean() - 0.01 * dist.entropy().mean()
                    opt.zero_grad()
                    loss.backward()
                    nn.utils.clip_grad_norm_(params, 0.5)
                    opt.step()
                    total = total + loss.detach()
            return total

        def args(i):
            adv = torch.randn(16)
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            return obs, actions, old_logp, adv, torch.randn(16), 0.2 - 0.02 * i, 2 if i < 3 else 3

        return dict(step=step, args=args, modules=[actor, critic], extra=lambda: _optim_state(opt))

    check(setup)


def test_ppo_kl_between_old_and_new_policy_and_early_stop_value():
    def setup():
        actor = nn.Linear(4, 3)
        old_actor = nn.Linear(4, 3)
        old_actor.load_state_dict(actor.state_dict())
        opt = torch.optim.Adam(actor.parameters(), lr=1e-2)

        def step(obs):
            with torch.no_grad():
                old = D.Categorical(logits=old_actor(obs))
            new = D.Categorical(logits=actor(obs))
            kl = D.kl_divergence(old, new).mean()
            a = new.sample()
            loss = -(new.log_prob(a) * 0.5).mean() + 2.0 * kl
            opt.zero_grad()
            loss.backward()
            opt.step()
            return kl.detach(), a

        return dict(step=step, args=lambda i: (torch.randn(5, 4),), modules=[actor, old_actor])

    check(setup)


# ------------------------------------------------------------------------------------------- DQN
def test_dqn_replay_buffer_randint_polyak_huber_epsilon_greedy():
    def setup():
        q = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
        target = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
        target.load_state_dict(q.state_dict())
        for p in target.parameters():
            p.requires_grad_(False)
        opt = torch.optim.Adam(q.parameters(), lr=1e-3)
        N = 32
        buf_s = torch.randn(N, 4)
        buf_a = torch.randint(0, 2, (N,))
        buf_r = torch.randn(N)
        buf_s2 = torch.randn(N, 4)
        buf_d = (torch.rand(N) < 0.1).float()

        def step(state, eps, tau, gamma):
            # epsilon-greedy action for the current state
            with torch.no_grad():
                greedy = q(state).argmax(dim=-1)
                random_a = torch.randint(0, 2, greedy.shape)
                explore = torch.rand(greedy.shape) < eps
                action = torch.where(explore, random_a, greedy)
            idx = torch.randint(0, N, (8,))
            s, a, r, s2, d = buf_s[idx], buf_a[idx], buf_r[idx], buf_s2[idx], buf_d[idx]
            qsa = q(s).gather(1, a.unsqueeze(1)).squeeze(1)
            with torch.no_grad():
                next_a = q(s2).argmax(1, keepdim=True)  # double DQN
                next_q = target(s2).gather(1, next_a).squeeze(1)
                y = r + gamma * (1 - d) * next_q
            loss = F.smooth_l1_loss(qsa, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                for tp, p in zip(target.parameters(), q.parameters()):
                    tp.mul_(1 - tau).add_(tau * p)
            return loss, action

        def args(i):
            return torch.randn(3, 4), max(0.05, 1.0 - 0.3 * i), 0.005 * (i + 1), 0.99

        return dict(step=step, args=args, modules=[q, target])

    check(setup)


def test_dqn_huber_loss_module_max_targets_and_lerp_update():
    def setup():
        q = nn.Linear(4, 3)
        target = nn.Linear(4, 3)
        target.load_state_dict(q.state_dict())
        opt = torch.optim.SGD(q.parameters(), lr=0.1)
        crit = nn.HuberLoss(delta=0.5)
        buffer = torch.randn(20, 4)
        rewards = torch.randn(20)

        def step(tau):
            idx = torch.randint(0, 20, (6,))
            s = buffer[idx]
            a = torch.randint(0, 3, (6,))
            q_all = q(s)
            qsa = q_all[torch.arange(6), a]
            with torch.no_grad():
                y = rewards[idx] + 0.9 * target(s).max(dim=1).values
            loss = crit(qsa, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                for tp, p in zip(target.parameters(), q.parameters()):
                    tp.data.lerp_(p.data, tau)
            return loss, q_all.argmax(1)

        return dict(step=step, args=lambda i: (0.1 * (i + 1),), modules=[q, target])

    check(setup)


def test_dqn_hard_target_copy_every_k_calls_python_counter_argument():
    def setup():
        q = nn.Linear(4, 2)
        target = nn.Linear(4, 2)
        opt = torch.optim.SGD(q.parameters(), lr=0.1)

        def step(s, it):
            loss = (q(s).max(1).values - target(s).max(1).values.detach()).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if it % 2 == 0:
                target.load_state_dict(q.state_dict())
            return loss

        return dict(step=step, args=lambda i: (torch.randn(5, 4), i), modules=[q, target])

    check(setup)


# ---------------------------------------------------------------------------------- actor-critic
def test_sac_tanh_squashed_normal_with_log_prob_correction():
    def setup():
        actor = nn.Linear(3, 4)
        critic = nn.Linear(3 + 2, 1)
        a_opt = torch.optim.Adam(actor.parameters(), lr=1e-3)
        c_opt = torch.optim.Adam(critic.parameters(), lr=1e-3)
        log_alpha = torch.zeros(1, requires_grad=True)
        al_opt = torch.optim.Adam([log_alpha], lr=1e-2)

        def step(obs, target_entropy):
            mu, log_std = actor(obs).chunk(2, dim=-1)
            log_std = log_std.clamp(-5, 2)
            dist = D.Normal(mu, log_std.exp())
            u = dist.rsample()
            action = torch.tanh(u)
            logp = dist.log_prob(u).sum(-1) - torch.log(1 - action.pow(2) + 1e-6).sum(-1)
            qv = critic(torch.cat([obs, action], -1)).squeeze(-1)
            alpha = log_alpha.exp().detach()
            actor_loss = (alpha * logp - qv).mean()
            a_opt.zero_grad()
            actor_loss.backward()
            a_opt.step()
            alpha_loss = -(log_alpha * (logp.detach() + target_entropy)).mean()
            al_opt.zero_grad()
            alpha_loss.backward()
            al_opt.step()
            c_loss = (critic(torch.cat([obs, action.detach()], -1)).squeeze(-1) - 1.0).pow(2).mean()
            c_opt.zero_grad()
            c_loss.backward()
            c_opt.step()
            return actor_loss.detach(), alpha_loss.detach(), c_loss.detach(), action.detach()

        return dict(step=step, args=lambda i: (torch.randn(4, 3), -2.0 + 0.1 * i),
                    modules=[actor, critic], extra=lambda: [log_alpha, log_alpha.grad])

    check(setup)


def test_transformed_distribution_tanh_transform_log_prob():
    def setup():
        actor = nn.Linear(3, 4)
        opt = torch.optim.Adam(actor.parameters(), lr=1e-2)

        def step(obs):
            mu, log_std = actor(obs).chunk(2, dim=-1)
            base = D.Normal(mu, log_std.clamp(-4, 1).exp())
            dist = D.TransformedDistribution(base, [D.transforms.TanhTransform(cache_size=1)])
            a = dist.rsample()
            logp = dist.log_prob(a).sum(-1)
            loss = (logp + (a - 0.3).pow(2).sum(-1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, a

        return dict(step=step, args=lambda i: (torch.randn(4, 3),), modules=[actor])

    check(setup)


def test_a2c_independent_normal_and_fixed_sigma_python_float():
    def setup():
        actor = nn.Linear(3, 2)
        critic = nn.Linear(3, 1)
        opt = torch.optim.Adam(list(actor.parameters()) + list(critic.parameters()), lr=1e-2)

        def step(obs, ret, sigma):
            dist = D.Independent(D.Normal(actor(obs), sigma), 1)
            a = dist.sample()
            v = critic(obs).squeeze(-1)
            adv = (ret - v).detach()
            loss = -(dist.log_prob(a) * adv).mean() + F.mse_loss(v, ret) - 1e-3 * dist.entropy().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, a

        return dict(step=step, args=lambda i: (torch.randn(5, 3), torch.randn(5), 1.0 / (i + 1)),
                    modules=[actor, critic])

    check(setup)


@pytest.mark.parametrize("family", ["beta", "dirichlet"])
def test_beta_dirichlet_policy(family):
    def setup():
        net = nn.Linear(3, 2 if family == "beta" else 3)
        opt = torch.optim.SGD(net.parameters(), lr=0.05)

        def step(obs, adv):
            h = F.softplus(net(obs)) + 1.0
            if family == "beta":
                dist = D.Beta(h[:, 0], h[:, 1])
            else:
                dist = D.Dirichlet(h)
            a = dist.sample()
            loss = -(dist.log_prob(a) * adv).mean() - 0.01 * dist.entropy().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, a

        return dict(step=step, args=lambda i: (torch.randn(4, 3), torch.randn(4)), modules=[net])

    check(setup)


def test_beta_rsample_pathwise():
    def setup():
        net = nn.Linear(3, 2)
        opt = torch.optim.SGD(net.parameters(), lr=0.05)

        def step(obs):
            h = F.softplus(net(obs)) + 0.5
            a = D.Beta(h[:, 0], h[:, 1]).rsample()
            loss = (a - 0.7).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, a

        return dict(step=step, args=lambda i: (torch.randn(4, 3),), modules=[net])

    check(setup)


def test_bernoulli_policy_and_one_hot_categorical():
    def setup():
        net = nn.Linear(3, 5)
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)

        def step(obs, adv):
            out = net(obs)
            bern = D.Bernoulli(logits=out[:, :2])
            b = bern.sample()
            ohc = D.OneHotCategorical(logits=out[:, 2:])
            o = ohc.sample()
            loss = -((bern.log_prob(b).sum(-1) + ohc.log_prob(o)) * adv).mean() - 0.01 * (bern.entropy().sum(-1) + ohc.entropy()).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, b, o

        return dict(step=step, args=lambda i: (torch.randn(4, 3), torch.randn(4)), modules=[net])

    check(setup)


def test_gumbel_softmax_temperature_from_python_value():
    def setup():
        net = nn.Linear(3, 4)
        dec = nn.Linear(4, 3)
        opt = torch.optim.Adam(list(net.parameters()) + list(dec.parameters()), lr=1e-2)

        def step(x, temperature, hard):
            logits = net(x)
            z = D.RelaxedOneHotCategorical(torch.tensor(temperature), logits=logits).rsample()
            z2 = F.gumbel_softmax(logits, tau=temperature, hard=hard)
            loss = F.mse_loss(dec(z), x) + F.mse_loss(dec(z2), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, z, z2

        return dict(step=step, args=lambda i: (torch.randn(5, 3), max(0.5, 2.0 * 0.7 ** i), i % 2 == 1),
                    modules=[net, dec])

    check(setup)


def test_kl_divergence_between_two_model_outputs():
    def setup():
        a = nn.Linear(3, 4)
        b = nn.Linear(3, 4)
        opt = torch.optim.SGD(list(a.parameters()) + list(b.parameters()), lr=0.1)

        def step(x, w):
            pa, pb = a(x), b(x)
            n1 = D.Normal(pa[:, :2], F.softplus(pa[:, 2:]) + 1e-3)
            n2 = D.Normal(pb[:, :2], F.softplus(pb[:, 2:]) + 1e-3)
            c1 = D.Categorical(logits=pa)
            c2 = D.Categorical(logits=pb)
            loss = D.kl_divergence(n1, n2).sum(-1).mean() + w * D.kl_divergence(c1, c2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return dict(step=step, args=lambda i: (torch.randn(4, 3), 0.5 * i), modules=[a, b])

    check(setup)


# ------------------------------------------------------------------------------------------- VAE
def test_vae_reparameterization_bce_and_beta_annealing():
    def setup():
        enc = nn.Linear(6, 4)
        dec = nn.Sequential(nn.Linear(2, 6), nn.Sigmoid())
        opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)
        data = torch.rand(12, 6)

        def step(beta):
            x = data[torch.randint(0, 12, (4,))]
            mu, logvar = enc(x).chunk(2, -1)
            std = torch.exp(0.5 * logvar)
            z = mu + std * torch.randn_like(std)
            recon = dec(z)
            bce = F.binary_cross_entropy(recon, x, reduction="sum")
            kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss = (bce + beta * kld) / x.shape[0]
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, bce.detach(), kld.detach()

        return dict(step=step, args=lambda i: (min(1.0, 0.2 * i),), modules=[enc, dec])

    check(setup)


def test_vae_with_distribution_objects_and_bce_with_logits():
    def setup():
        enc = nn.Linear(6, 4)
        dec = nn.Linear(2, 6)
        opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)

        def step(x, beta):
            mu, logvar = enc(x).chunk(2, -1)
            q = D.Normal(mu, (0.5 * logvar).exp())
            z = q.rsample((2,))
            prior = D.Normal(torch.zeros_like(mu), torch.ones_like(mu))
            rec = F.binary_cross_entropy_with_logits(dec(z), x.expand(2, -1, -1), reduction="none").sum(-1).mean()
            kl = D.kl_divergence(q, prior).sum(-1).mean()
            loss = rec + beta * kl
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return dict(step=step, args=lambda i: ((torch.rand(3, 6) > 0.5).float(), 0.1 * i), modules=[enc, dec])

    check(setup)


# ------------------------------------------------------------------------------------------- GAN
def test_gan_alternating_requires_grad_toggle_two_optimizers():
    def setup():
        G = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 3))
        Dn = nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
        g_opt = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        d_opt = torch.optim.Adam(Dn.parameters(), lr=2e-4, betas=(0.5, 0.999))
        crit = nn.BCEWithLogitsLoss()

        def step(real, smooth):
            b = real.shape[0]
            z = torch.randn(b, 2)
            fake = G(z)
            for p in Dn.parameters():
                p.requires_grad = True
            d_opt.zero_grad()
            d_loss = crit(Dn(real), torch.full((b, 1), smooth)) + crit(Dn(fake.detach()), torch.zeros(b, 1))
            d_loss.backward()
            d_opt.step()
            for p in Dn.parameters():
                p.requires_grad = False
            g_opt.zero_grad()
            g_loss = crit(Dn(fake), torch.ones(b, 1))
            g_loss.backward()
            g_opt.step()
            for p in Dn.parameters():
                p.requires_grad = True
            return d_loss.detach(), g_loss.detach(), fake.detach()

        return dict(step=step, args=lambda i: (torch.randn(4, 3) + 1, 1.0 - 0.05 * i), modules=[G, Dn],
                    extra=lambda: _optim_state(g_opt) + _optim_state(d_opt))

    check(setup)


def test_wgan_weight_clipping_and_n_critic_from_python():
    def setup():
        G = nn.Linear(2, 3)
        C = nn.Linear(3, 1)
        g_opt = torch.optim.RMSprop(G.parameters(), lr=5e-3)
        c_opt = torch.optim.RMSprop(C.parameters(), lr=5e-3)

        def step(real, n_critic, clip):
            for _ in range(n_critic):
                fake = G(torch.randn(4, 2)).detach()
                c_loss = C(fake).mean() - C(real).mean()
                c_opt.zero_grad()
                c_loss.backward()
                c_opt.step()
                for p in C.parameters():
                    p.data.clamp_(-clip, clip)
            g_loss = -C(G(torch.randn(4, 2))).mean()
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            return c_loss.detach(), g_loss.detach()

        return dict(step=step, args=lambda i: (torch.randn(4, 3), 1 + i % 3, 0.05 + 0.01 * i), modules=[G, C])

    check(setup)


def test_wgan_gp_gradient_penalty_create_graph():
    def setup():
        G = nn.Linear(2, 3)
        C = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
        c_opt = torch.optim.Adam(C.parameters(), lr=1e-3)

        def step(real, lam):
            fake = G(torch.randn(4, 2)).detach()
            eps = torch.rand(4, 1)
            mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
            out = C(mix)
            (grad,) = torch.autograd.grad(out.sum(), mix, create_graph=True)
            gp = ((grad.norm(2, dim=1) - 1) ** 2).mean()
            loss = C(fake).mean() - C(real).mean() + lam * gp
            c_opt.zero_grad()
            loss.backward()
            c_opt.step()
            return loss.detach(), gp.detach()

        return dict(step=step, args=lambda i: (torch.randn(4, 3), 10.0 - i), modules=[G, C])

    check(setup)


def test_gan_fake_kept_on_object_between_calls_and_label_noise():
    class Holder:
        pass

    def setup():
        G = nn.Linear(2, 3)
        Dn = nn.Linear(3, 1)
        opt = torch.optim.SGD(list(G.parameters()) + list(Dn.parameters()), lr=0.05)
        holder = Holder()
        holder.last_fake = torch.zeros(4, 3)

        def step(real):
            fake = G(torch.randn(4, 2))
            labels = torch.ones(4, 1) - 0.1 * torch.rand(4, 1)
            d = F.binary_cross_entropy_with_logits(Dn(real), labels) + F.binary_cross_entropy_with_logits(
                Dn(holder.last_fake), torch.zeros(4, 1))
            g = F.binary_cross_entropy_with_logits(Dn(fake), torch.ones(4, 1))
            opt.zero_grad()
            (d + g).backward()
            opt.step()
            holder.last_fake = fake.detach()
            return d.detach(), g.detach()

        return dict(step=step, args=lambda i: (torch.randn(4, 3),), modules=[G, Dn], extra=lambda: holder.last_fake)

    check(setup)


# ------------------------------------------------------------------------------------- diffusion
def test_diffusion_noise_schedule_indexing_with_randint():
    def setup():
        T = 50
        betas = torch.linspace(1e-4, 0.02, T)
        alphas = 1 - betas
        alpha_bar = torch.cumprod(alphas, 0)
        net = nn.Sequential(nn.Linear(4 + 1, 16), nn.SiLU(), nn.Linear(16, 4))
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.01)
        data = torch.randn(32, 4)

        def step(batch_size):
            x0 = data[torch.randint(0, 32, (batch_size,))]
            t = torch.randint(0, T, (batch_size,))
            ab = alpha_bar[t].unsqueeze(-1)
            noise = torch.randn_like(x0)
            xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
            pred = net(torch.cat([xt, t.float().unsqueeze(-1) / T], -1))
            loss = F.mse_loss(pred, noise)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, t

        return dict(step=step, args=lambda i: (4 if i < 3 else 6,), modules=[net])

    check(setup)


def test_diffusion_schedule_as_registered_buffer_gather_and_ema():
    class Diff(nn.Module):
        def __init__(self):
            super().__init__()
            betas = torch.linspace(1e-4, 0.02, 20)
            self.register_buffer("alpha_bar", torch.cumprod(1 - betas, 0))
            self.net = nn.Linear(5, 4)

        def forward(self, x0):
            t = torch.randint(0, 20, (x0.shape[0],))
            ab = self.alpha_bar.gather(0, t).view(-1, 1)
            eps = torch.randn(x0.shape)
            xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
            return F.mse_loss(self.net(torch.cat([xt, ab], 1)), eps)

    def setup():
        model = Diff()
        ema = Diff()
        ema.load_state_dict(model.state_dict())
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step(x0, decay):
            loss = model(x0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                for e, p in zip(ema.parameters(), model.parameters()):
                    e.copy_(decay * e + (1 - decay) * p)
            return loss

        return dict(step=step, args=lambda i: (torch.randn(3, 4), 0.9 + 0.01 * i), modules=[model, ema])

    check(setup)


# ------------------------------------------------------------------------------------ errors too
def test_categorical_invalid_probs_in_later_call_raises_same_error():
    def setup():
        policy = nn.Linear(3, 3)

        def step(obs, scale):
            probs = F.softmax(policy(obs), -1) * scale
            dist = D.Categorical(probs=probs, validate_args=True)
            return dist.log_prob(dist.sample())

        return dict(step=step, args=lambda i: (torch.randn(2, 3), 1.0 if i < 3 else -1.0), modules=[policy])

    check(setup)


def test_normal_negative_scale_from_tensor_argument_raises_same_error():
    def setup():
        net = nn.Linear(3, 2)

        def step(obs, scale):
            dist = D.Normal(net(obs), scale)
            return dist.rsample().sum()

        def args(i):
            return torch.randn(2, 3), torch.full((2, 2), 1.0 if i != 3 else -1.0)

        return dict(step=step, args=args, modules=[net])

    check(setup)


# ------------------------------------------------------------------------------ harder variants
def test_epsilon_float_decaying_past_the_recording_limit():
    def setup():
        q = nn.Linear(3, 2)
        opt = torch.optim.SGD(q.parameters(), lr=0.1)

        def step(s, eps):
            with torch.no_grad():
                qa = q(s)
                explore = torch.rand(s.shape[0]) < eps
                a = torch.where(explore, torch.randint(0, 2, (s.shape[0],)), qa.argmax(1))
            loss = q(s).gather(1, a[:, None]).pow(2).mean() * (1 - eps)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, a

        return dict(step=step, args=lambda i: (torch.randn(4, 3), 0.95 ** i), modules=[q])

    check(setup, calls=12)


def test_rewards_python_list_of_floats_scaled_per_step_past_limit():
    def setup():
        policy = nn.Linear(3, 3)
        opt = torch.optim.Adam(policy.parameters(), lr=1e-2)

        def step(obs, rewards):
            dist = D.Categorical(logits=policy(obs))
            a = dist.sample()
            logp = dist.log_prob(a)
            ret = _returns(rewards, 0.9)
            loss = sum(-logp[k] * ret[k] for k in range(len(ret))) / len(ret)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, a

        return dict(step=step, args=lambda i: (torch.randn(4, 3), [0.5 * i, -1.0, 0.25 * (i % 3), 1.0]),
                    modules=[policy])

    check(setup, calls=11)


def test_prioritized_replay_multinomial_and_in_place_priority_update():
    def setup():
        q = nn.Linear(4, 2)
        opt = torch.optim.Adam(q.parameters(), lr=1e-2)
        N = 16
        states = torch.randn(N, 4)
        acts = torch.randint(0, 2, (N,))
        rews = torch.randn(N)
        prio = torch.ones(N)

        def step(alpha, beta):
            p = prio.pow(alpha)
            p = p / p.sum()
            idx = torch.multinomial(p, 6, replacement=False)
            w = (N * p[idx]).pow(-beta)
            w = w / w.max()
            qsa = q(states[idx]).gather(1, acts[idx, None]).squeeze(1)
            td = rews[idx] - qsa
            loss = (w * F.huber_loss(qsa, rews[idx], reduction="none")).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            prio[idx] = td.abs().detach() + 1e-3
            return loss, idx

        return dict(step=step, args=lambda i: (0.6, 0.4 + 0.1 * i), modules=[q], extra=lambda: prio)

    check(setup)


def test_replay_buffer_written_in_place_with_tensor_pointer():
    def setup():
        q = nn.Linear(3, 2)
        opt = torch.optim.SGD(q.parameters(), lr=0.1)
        buf = torch.zeros(8, 3)
        ptr = torch.zeros((), dtype=torch.int64)

        def step(obs):
            buf.index_copy_(0, (ptr % 8).view(1), obs.view(1, 3))
            ptr.add_(1)
            idx = torch.randint(0, 8, (4,))
            loss = q(buf[idx]).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return dict(step=step, args=lambda i: (torch.randn(3),), modules=[q], extra=lambda: [buf, ptr])

    check(setup, calls=10)


def test_gae_python_loop_over_tensor_elements_with_dones():
    def setup():
        actor = nn.Linear(3, 2)
        critic = nn.Linear(3, 1)
        opt = torch.optim.Adam(list(actor.parameters()) + list(critic.parameters()), lr=1e-2)

        def step(obs, rewards, dones, lam):
            values = critic(obs).squeeze(-1)
            v = values.detach()
            adv = torch.zeros_like(rewards)
            last = torch.zeros(())
            for t in reversed(range(rewards.shape[0] - 1)):
                delta = rewards[t] + 0.99 * v[t + 1] * (1 - dones[t]) - v[t]
                last = delta + 0.99 * lam * (1 - dones[t]) * last
                adv[t] = last
            dist = D.Categorical(logits=actor(obs))
            a = dist.sample()
            loss = -(dist.log_prob(a) * adv).mean() + (values - (adv + v)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, adv

        def args(i):
            return torch.randn(6, 3), torch.randn(6), (torch.rand(6) < 0.3).float(), 0.95 - 0.01 * i

        return dict(step=step, args=args, modules=[actor, critic])

    check(setup)


def test_masked_categorical_with_minus_inf_logits_entropy():
    def setup():
        policy = nn.Linear(3, 4)
        opt = torch.optim.SGD(policy.parameters(), lr=0.1)

        def step(obs, mask):
            logits = policy(obs).masked_fill(~mask, float("-inf"))
            dist = D.Categorical(logits=logits)
            a = dist.sample()
            ent = dist.entropy()
            loss = -(dist.log_prob(a)).mean() - 0.1 * ent.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, a, ent, dist.probs

        def args(i):
            mask = torch.rand(3, 4) < 0.6
            mask[:, i % 4] = True
            return torch.randn(3, 4 - 1), mask

        return dict(step=step, args=args, modules=[policy])

    check(setup)


def test_gan_discriminator_and_generator_steps_compiled_separately():
    def setup():
        G = nn.Linear(2, 3)
        Dn = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
        g_opt = torch.optim.Adam(G.parameters(), lr=1e-2)
        d_opt = torch.optim.Adam(Dn.parameters(), lr=1e-2)

        def d_step(real):
            fake = G(torch.randn(real.shape[0], 2)).detach()
            loss = F.softplus(-Dn(real)).mean() + F.softplus(Dn(fake)).mean()
            d_opt.zero_grad()
            loss.backward()
            d_opt.step()
            return loss

        def g_step(n):
            Dn.requires_grad_(False)
            loss = F.softplus(-Dn(G(torch.randn(n, 2)))).mean()
            g_opt.zero_grad()
            loss.backward()
            g_opt.step()
            Dn.requires_grad_(True)
            return loss

        return dict(d_step=d_step, g_step=g_step, args=lambda i: (torch.randn(4, 3), 3 + i % 2), modules=[G, Dn])

    def run(compiled):
        torch.manual_seed(0)
        case = setup()
        d = torch.compile(case["d_step"]) if compiled else case["d_step"]
        g = torch.compile(case["g_step"]) if compiled else case["g_step"]
        out = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(CALLS):
                real, n = case["args"](i)
                out.append((_plain(d(real)), _plain(g(n)), _state(case["modules"]), _plain(torch.rand(3))))
        return out, [str(w.message) for w in caught if "compile" in str(w.message)]

    eager, _ = run(False)
    compiled, caught = run(True)
    assert len(caught) <= 2, caught
    assert_identical(compiled, eager)


def test_diffusion_reverse_sampling_loop_no_grad():
    def setup():
        T = 8
        betas = torch.linspace(1e-3, 0.05, T)
        alphas = 1 - betas
        alpha_bar = torch.cumprod(alphas, 0)
        net = nn.Linear(3, 2)
        opt = torch.optim.SGD(net.parameters(), lr=0.01)

        def step(x0, steps):
            t = torch.randint(0, T, (x0.shape[0],))
            noise = torch.randn_like(x0)
            ab = alpha_bar[t][:, None]
            xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
            loss = F.mse_loss(net(torch.cat([xt, (t[:, None].float() / T)], 1)), noise)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                x = torch.randn(2, 2)
                for k in reversed(range(steps)):
                    tt = torch.full((2, 1), k / T)
                    eps = net(torch.cat([x, tt], 1))
                    x = (x - betas[k] / (1 - alpha_bar[k]).sqrt() * eps) / alphas[k].sqrt()
                    if k > 0:
                        x = x + betas[k].sqrt() * torch.randn_like(x)
            return loss, x

        return dict(step=step, args=lambda i: (torch.randn(4, 2), 3 + i % 3), modules=[net])

    check(setup)


def test_kl_divergence_families_between_model_outputs():
    def setup():
        net = nn.Linear(3, 12)
        opt = torch.optim.SGD(net.parameters(), lr=0.05)

        def step(x):
            h = net(x)
            a, b = F.softplus(h[:, :6]) + 0.5, F.softplus(h[:, 6:]) + 0.5
            kl = (D.kl_divergence(D.Beta(a[:, 0], a[:, 1]), D.Beta(b[:, 0], b[:, 1]))
                  + D.kl_divergence(D.Dirichlet(a[:, 2:5]), D.Dirichlet(b[:, 2:5]))
                  + D.kl_divergence(D.Bernoulli(logits=h[:, 5]), D.Bernoulli(logits=h[:, 11]))
                  + D.kl_divergence(D.OneHotCategorical(logits=h[:, :3]), D.OneHotCategorical(logits=h[:, 6:9]))
                  + D.kl_divergence(D.Independent(D.Normal(h[:, :2], a[:, :2]), 1),
                                    D.Independent(D.Normal(h[:, 6:8], b[:, :2]), 1)))
            loss = kl.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, kl

        return dict(step=step, args=lambda i: (torch.randn(4, 3),), modules=[net])

    check(setup)


def test_gumbel_hard_straight_through_and_relaxed_bernoulli_python_temperature():
    def setup():
        net = nn.Linear(3, 4)
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)

        def step(x, temp):
            logits = net(x)
            y = F.gumbel_softmax(logits, tau=temp, hard=True)
            rb = D.RelaxedBernoulli(temperature=torch.tensor([temp]), logits=logits[:, :1]).rsample()
            loss = (y * torch.arange(4.0)).sum(1).mean() + rb.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, y, rb

        return dict(step=step, args=lambda i: (torch.randn(5, 3), 1.0 * 0.8 ** i), modules=[net])

    check(setup)


def test_vae_sample_shape_from_python_and_iwae_logsumexp():
    def setup():
        enc = nn.Linear(4, 4)
        dec = nn.Linear(2, 4)
        opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-2)

        def step(x, k):
            mu, logstd = enc(x).chunk(2, -1)
            q = D.Normal(mu, logstd.exp())
            z = q.rsample((k,))
            prior = D.Normal(0.0, 1.0)
            lik = D.Normal(dec(z), 1.0)
            logw = lik.log_prob(x).sum(-1) + prior.log_prob(z).sum(-1) - q.log_prob(z).sum(-1)
            loss = -(torch.logsumexp(logw, 0) - np.log(k)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return dict(step=step, args=lambda i: (torch.randn(3, 4), 1 + i % 3), modules=[enc, dec])

    check(setup)


def test_explicit_generator_env_noise_and_manual_seed_inside_step():
    def setup():
        policy = nn.Linear(3, 2)
        opt = torch.optim.SGD(policy.parameters(), lr=0.1)
        gen = torch.Generator().manual_seed(123)

        def step(obs, seed):
            env_noise = torch.randn(obs.shape, generator=gen)
            torch.manual_seed(seed)
            dist = D.Normal(policy(obs + env_noise), 0.3)
            a = dist.sample()
            loss = -(dist.log_prob(a).sum(-1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, a

        return dict(step=step, args=lambda i: (torch.randn(2, 3), 7 if i % 2 else 11), modules=[policy],
                    extra=lambda: [gen.state_bytes()])

    check(setup)


def test_explicit_generator_for_environment_noise():
    def setup():
        policy = nn.Linear(3, 2)
        opt = torch.optim.SGD(policy.parameters(), lr=0.1)
        gen = torch.Generator().manual_seed(123)

        def step(obs, sigma):
            obs = obs + torch.randn(obs.shape, generator=gen)
            dist = D.Normal(policy(obs), sigma)
            a = dist.sample()
            loss = -(dist.log_prob(a).sum(-1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, a

        return dict(step=step, args=lambda i: (torch.randn(2, 3), 0.5 / (i + 1)), modules=[policy],
                    extra=lambda: [gen.state_bytes()])

    check(setup)


# ------------------------------------------------------------------ state changed between calls
def _between_run(setup, compiled, calls=CALLS):
    """Like _run, with ``between(i, case)`` run before each call (outside the step)."""
    torch.manual_seed(0)
    case = setup()
    step = torch.compile(case["step"]) if compiled else case["step"]
    records = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            case.get("between", lambda i, c: None)(i, case)
            try:
                result = ("returned", _plain(step(*case["args"](i))))
            except Exception as error:
                result = ("raised", type(error).__name__, str(error))
            records.append((result, _state(case["modules"]()), _plain(case.get("extra", lambda: [])()),
                            _plain(torch.rand(3))))
    return records, [str(w.message) for w in caught if "compile" in str(w.message)]


def check_between(setup, calls=CALLS):
    eager, _ = _between_run(setup, False, calls)
    compiled, caught = _between_run(setup, True, calls)
    assert len(caught) <= 1, caught
    for i, (mine, theirs) in enumerate(zip(compiled, eager)):
        assert_identical(mine, theirs, f"call {i}")
    return caught


def test_dqn_target_network_rebound_by_deepcopy_every_two_calls():
    import copy

    def setup():
        box = {}
        q = nn.Linear(3, 2)
        box["target"] = copy.deepcopy(q)
        opt = torch.optim.SGD(q.parameters(), lr=0.1)
        holder = type("H", (), {})()
        holder.target = box["target"]

        def step(s, r):
            with torch.no_grad():
                y = r + 0.9 * holder.target(s).max(1).values
            loss = F.smooth_l1_loss(q(s).max(1).values, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        def between(i, case):
            if i % 2 == 0 and i:
                holder.target = copy.deepcopy(q)

        return dict(step=step, args=lambda i: (torch.randn(4, 3), torch.randn(4)), between=between,
                    modules=lambda: [q, holder.target])

    check_between(setup)


def test_dqn_target_network_global_name_rebound():
    import copy

    def setup():
        q = nn.Linear(3, 2)
        g = {"target": copy.deepcopy(q), "q": q, "opt": torch.optim.SGD(q.parameters(), lr=0.1),
             "F": F, "torch": torch}
        exec(
            "def step(s, r):\n"
            "    with torch.no_grad():\n"
            "        y = r + 0.9 * target(s).max(1).values\n"
            "    loss = F.mse_loss(q(s).max(1).values, y)\n"
            "    opt.zero_grad()\n"
            "    loss.backward()\n"
            "    opt.step()\n"
            "    return loss\n", g)

        def between(i, case):
            if i in (2, 4):
                g["target"] = copy.deepcopy(q)

        return dict(step=g["step"], args=lambda i: (torch.randn(4, 3), torch.randn(4)), between=between,
                    modules=lambda: [q, g["target"]])

    check_between(setup)


def test_optimizer_rebound_and_state_reset_between_calls():
    def setup():
        net = nn.Linear(3, 1)
        holder = type("H", (), {})()
        holder.opt = torch.optim.Adam(net.parameters(), lr=1e-2)

        def step(x):
            loss = net(x).pow(2).mean()
            holder.opt.zero_grad()
            loss.backward()
            holder.opt.step()
            return loss

        def between(i, case):
            if i == 3:
                holder.opt = torch.optim.Adam(net.parameters(), lr=1e-2)

        return dict(step=step, args=lambda i: (torch.randn(4, 3),), between=between, modules=lambda: [net],
                    extra=lambda: _optim_state(holder.opt))

    check_between(setup)


def test_diffusion_schedule_buffer_rebound_between_calls():
    class Diff(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("alpha_bar", torch.cumprod(1 - torch.linspace(1e-4, 0.02, 10), 0))
            self.net = nn.Linear(3, 2)

        def forward(self, x0):
            t = torch.randint(0, 10, (x0.shape[0],))
            ab = self.alpha_bar[t][:, None]
            e = torch.randn_like(x0)
            return F.mse_loss(self.net(torch.cat([ab.sqrt() * x0 + (1 - ab).sqrt() * e, ab], 1)), e)

    def setup():
        m = Diff()
        opt = torch.optim.SGD(m.parameters(), lr=0.1)

        def step(x0):
            loss = m(x0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        def between(i, case):
            if i == 2:
                m.alpha_bar = torch.cumprod(1 - torch.linspace(1e-3, 0.2, 10), 0)
            if i == 4:
                m.alpha_bar.mul_(0.5)

        return dict(step=step, args=lambda i: (torch.randn(3, 2),), between=between, modules=lambda: [m])

    check_between(setup)


def test_gan_discriminator_frozen_outside_step_between_calls():
    def setup():
        G = nn.Linear(2, 3)
        Dn = nn.Linear(3, 1)
        opt = torch.optim.SGD(list(G.parameters()) + list(Dn.parameters()), lr=0.1)

        def step(real):
            fake = G(torch.randn(4, 2))
            loss = F.softplus(-Dn(fake)).mean() + F.softplus(Dn(real)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        def between(i, case):
            if i == 2:
                Dn.requires_grad_(False)
            if i == 4:
                Dn.weight.requires_grad_(True)

        return dict(step=step, args=lambda i: (torch.randn(4, 3),), between=between, modules=lambda: [G, Dn])

    check_between(setup)


def test_module_temperature_and_clip_attributes_changed_between_calls():
    class Policy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 4)
            self.temperature = 1.0
            self.clip = 0.2

        def forward(self, x):
            return self.fc(x) / self.temperature

    def setup():
        pi = Policy()
        opt = torch.optim.Adam(pi.parameters(), lr=1e-2)

        def step(obs, adv, old_logp):
            dist = D.Categorical(logits=pi(obs))
            a = dist.sample()
            ratio = (dist.log_prob(a) - old_logp).exp()
            loss = -torch.min(ratio * adv, ratio.clamp(1 - pi.clip, 1 + pi.clip) * adv).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        def between(i, case):
            pi.temperature = 1.0 / (1 + i)
            if i == 3:
                pi.clip = 0.1

        return dict(step=step, args=lambda i: (torch.randn(4, 3), torch.randn(4), torch.randn(4) - 1),
                    between=between, modules=lambda: [pi])

    check_between(setup)


@pytest.mark.parametrize("order", ["on_then_off", "off_then_on"])
def test_distribution_default_validation_toggled_between_calls(order):
    def setup():
        net = nn.Linear(3, 2)

        def step(obs, scale):
            dist = D.Normal(net(obs), scale)
            return dist.log_prob(torch.zeros(2, 2)).sum()

        first = order == "on_then_off"

        def between(i, case):
            D.Distribution.set_default_validate_args(first if i < 3 else not first)

        return dict(step=step, args=lambda i: (torch.randn(2, 3), torch.full((2, 2), 1.0 if i < 3 else -1.0)),
                    between=between, modules=lambda: [net])

    try:
        check_between(setup)
    finally:
        D.Distribution.set_default_validate_args(True)


def test_batch_as_dict_and_distribution_argument():
    def setup():
        actor = nn.Linear(3, 2)
        opt = torch.optim.Adam(actor.parameters(), lr=1e-2)

        def step(batch, prior):
            dist = D.Normal(actor(batch["obs"]), 0.5)
            a = dist.rsample()
            loss = D.kl_divergence(dist, prior).sum(-1).mean() - (a * batch["adv"][:, None]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, a

        def args(i):
            return ({"obs": torch.randn(4, 3), "adv": torch.randn(4)},
                    D.Normal(torch.full((4, 2), 0.1 * i), torch.full((4, 2), 1.0 + i)))

        return dict(step=step, args=args, modules=lambda: [actor])

    check_between(setup)


def test_episode_list_of_tensors_of_varying_length():
    def setup():
        policy = nn.Linear(3, 2)
        opt = torch.optim.SGD(policy.parameters(), lr=0.1)

        def step(episodes):
            loss = 0
            for obs, ret in episodes:
                d = D.Categorical(logits=policy(obs))
                loss = loss - (d.log_prob(d.sample()) * ret).sum()
            loss = loss / len(episodes)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        def args(i):
            return ([(torch.randn(2 + (i + k) % 3, 3), torch.randn(2 + (i + k) % 3)) for k in range(1 + i % 2)],)

        return dict(step=step, args=args, modules=lambda: [policy])

    check_between(setup)


# ------------------------------------------------------------------------------ more generative
def test_mixture_density_network_log_prob_and_sample():
    def setup():
        net = nn.Linear(2, 9)
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)

        def step(x, y, n):
            h = net(x)
            mix = D.Categorical(logits=h[:, :3])
            comp = D.Normal(h[:, 3:6], F.softplus(h[:, 6:]) + 1e-2)
            gmm = D.MixtureSameFamily(mix, comp)
            loss = -gmm.log_prob(y).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, gmm.sample((n,))

        return dict(step=step, args=lambda i: (torch.randn(4, 2), torch.randn(4), 1 + i % 2), modules=[net])

    check(setup)


def test_multivariate_normal_scale_tril_from_model_rsample():
    def setup():
        net = nn.Linear(3, 2 + 3)
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)

        def step(x):
            h = net(x)
            mu = h[:, :2]
            L = torch.zeros(x.shape[0], 2, 2)
            L[:, 0, 0] = F.softplus(h[:, 2]) + 0.1
            L[:, 1, 1] = F.softplus(h[:, 3]) + 0.1
            L[:, 1, 0] = h[:, 4]
            d = D.MultivariateNormal(mu, scale_tril=L)
            z = d.rsample()
            loss = (z ** 2).sum(-1).mean() - 0.1 * d.entropy().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, z

        return dict(step=step, args=lambda i: (torch.randn(4, 3),), modules=[net])

    check(setup)


def test_affine_flow_transformed_distribution_log_prob():
    class Flow(nn.Module):
        def __init__(self):
            super().__init__()
            self.loc = nn.Parameter(torch.zeros(2))
            self.log_scale = nn.Parameter(torch.zeros(2))

        def dist(self):
            base = D.Independent(D.Normal(torch.zeros(2), torch.ones(2)), 1)
            t = D.transforms.ComposeTransform([
                D.transforms.AffineTransform(self.loc, self.log_scale.exp()),
                D.transforms.TanhTransform()])
            return D.TransformedDistribution(base, [t])

    def setup():
        flow = Flow()
        opt = torch.optim.Adam(flow.parameters(), lr=1e-2)

        def step(y, n):
            d = flow.dist()
            loss = -d.log_prob(y).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, d.rsample((n,)).detach()

        return dict(step=step, args=lambda i: (torch.rand(5, 2) * 1.8 - 0.9, 2 + i % 2), modules=[flow])

    check(setup)


def test_gan_spectral_norm_and_batchnorm_discriminator():
    def setup():
        G = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3))
        Dn = nn.Sequential(nn.utils.spectral_norm(nn.Linear(3, 4)), nn.LeakyReLU(0.2),
                           nn.utils.spectral_norm(nn.Linear(4, 1)))
        g_opt = torch.optim.Adam(G.parameters(), lr=1e-2)
        d_opt = torch.optim.Adam(Dn.parameters(), lr=1e-2)

        def step(real):
            fake = G(torch.randn(4, 2))
            d_loss = F.relu(1 - Dn(real)).mean() + F.relu(1 + Dn(fake.detach())).mean()
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            g_loss = -Dn(fake).mean()
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            G.eval()
            with torch.no_grad():
                sample = G(torch.randn(2, 2))
            G.train()
            return d_loss.detach(), g_loss.detach(), sample

        return dict(step=step, args=lambda i: (torch.randn(4, 3),), modules=[G, Dn])

    check(setup)


def test_gan_parametrizations_spectral_norm():
    def setup():
        Dn = nn.utils.parametrizations.spectral_norm(nn.Linear(3, 1))
        G = nn.Linear(2, 3)
        opt = torch.optim.SGD(list(Dn.parameters()) + list(G.parameters()), lr=0.05)

        def step(real):
            loss = F.softplus(-Dn(real)).mean() + F.softplus(Dn(G(torch.randn(3, 2)))).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return dict(step=step, args=lambda i: (torch.randn(3, 3),), modules=[Dn, G])

    check(setup)


def test_polyak_through_state_dict_comprehension_and_load_state_dict():
    def setup():
        q = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
        target = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
        target.load_state_dict(q.state_dict())
        opt = torch.optim.SGD(q.parameters(), lr=0.1)

        def step(s, tau):
            with torch.no_grad():
                y = target(s).max(1).values
            loss = F.mse_loss(q(s).max(1).values, y + 1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tsd = target.state_dict()
            new = {k: (tau * v + (1 - tau) * tsd[k]) if v.is_floating_point() else v
                   for k, v in q.state_dict().items()}
            target.load_state_dict(new)
            return loss

        return dict(step=step, args=lambda i: (torch.randn(5, 3), 0.1 + 0.05 * i), modules=[q, target])

    check(setup)


def test_evolution_strategies_vector_to_parameters():
    def setup():
        policy = nn.Linear(3, 2)
        for p in policy.parameters():
            p.requires_grad_(False)
        theta = nn.utils.parameters_to_vector(policy.parameters()).clone()
        obs = torch.randn(6, 3)

        def step(sigma, lr, pop):
            noise = torch.randn(pop, theta.numel())
            fitness = []
            for k in range(pop):
                nn.utils.vector_to_parameters(theta + sigma * noise[k], policy.parameters())
                fitness.append(-(policy(obs) - 1).pow(2).mean())
            f = torch.stack(fitness)
            f = (f - f.mean()) / (f.std() + 1e-8)
            theta.add_(lr / (pop * sigma) * (noise.t() @ f))
            nn.utils.vector_to_parameters(theta, policy.parameters())
            return f

        return dict(step=step, args=lambda i: (0.1, 0.05, 4 if i < 3 else 5), modules=[policy],
                    extra=lambda: theta)

    check(setup)


def test_replay_buffer_growing_size_python_int_for_randint():
    def setup():
        q = nn.Linear(3, 2)
        opt = torch.optim.SGD(q.parameters(), lr=0.1)
        buf = torch.randn(10, 3)

        def step(size):
            idx = torch.randint(0, size, (3,))
            loss = q(buf[idx]).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, idx

        return dict(step=step, args=lambda i: (min(10, 2 + 2 * i),), modules=[q])

    check(setup)


def test_old_actions_out_of_range_in_later_call_raises_same_error():
    def setup():
        policy = nn.Linear(3, 3)
        opt = torch.optim.SGD(policy.parameters(), lr=0.1)

        def step(obs, actions):
            logp = F.log_softmax(policy(obs), -1).gather(1, actions[:, None]).squeeze(1)
            loss = -logp.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return dict(step=step, args=lambda i: (torch.randn(4, 3), torch.tensor([0, 1, 2, 3 if i == 4 else 1])),
                    modules=[policy])

    check(setup)


def test_categorical_log_prob_of_out_of_support_action_raises_same_error():
    def setup():
        policy = nn.Linear(3, 3)

        def step(obs, actions):
            return D.Categorical(logits=policy(obs)).log_prob(actions)

        return dict(step=step, args=lambda i: (torch.randn(4, 3), torch.tensor([0, 1, 2, 3 if i >= 3 else 1])),
                    modules=[policy])

    check(setup)


# ------------------------------------------------------- hyperparameters changed between calls
def _refill(store, first, new):
    """Reset ``store`` to ``first`` on call 0 (each run starts afresh), then add ``new``."""
    def change(i):
        if i == 0:
            store.clear()
            store.extend(first)
        store.extend(new(i))
    return change


def _ppo_setup(read_coef, change):
    """A PPO-style update whose entropy coefficient ``read_coef()`` reads from a caller's
    hyperparameter store that ``change(i)`` anneals between calls (outside the step)."""
    def setup():
        pi = nn.Linear(3, 3)
        opt = torch.optim.SGD(pi.parameters(), lr=0.1)

        def step(obs, adv):
            dist = D.Categorical(logits=pi(obs))
            a = dist.sample()
            loss = -(dist.log_prob(a) * adv).mean() - read_coef() * dist.entropy().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return dict(step=step, args=lambda i: (torch.randn(4, 3), torch.randn(4)),
                    between=lambda i, case: change(i), modules=lambda: [pi])
    return setup


def test_small_hyperparameter_dict_annealed_between_calls():
    hp = {"gamma": 0.99, "lam": 0.95, "clip": 0.2, "ent_coef": 0.01}
    check_between(_ppo_setup(lambda: hp["ent_coef"], lambda i: hp.__setitem__("ent_coef", 0.01 * (i + 1))))


def test_large_hyperparameter_dict_annealed_between_calls():
    hp = {f"unused_{k}": float(k) for k in range(16)}
    hp.update(gamma=0.99, lam=0.95, clip=0.2, ent_coef=0.01)
    check_between(_ppo_setup(lambda: hp["ent_coef"], lambda i: hp.__setitem__("ent_coef", 0.01 * (i + 1))))


class _PPOConfig:
    ent_coef = 0.01


def test_class_attribute_named_in_code_annealed_between_calls():
    check_between(_ppo_setup(lambda: _PPOConfig.ent_coef,
                             lambda i: setattr(_PPOConfig, "ent_coef", 0.01 * (i + 1))))


class _PPOConfigByName:
    ent_coef = 0.01


def test_class_attribute_read_by_getattr_annealed_between_calls():
    key = "ent_" + "coef"
    check_between(_ppo_setup(lambda: getattr(_PPOConfigByName, key),
                             lambda i: setattr(_PPOConfigByName, key, 0.01 * (i + 1))))


class _Holder:
    pass


def test_object_attribute_read_through_its_dict_annealed_between_calls():
    holder = _Holder()
    holder.ent_coef = 0.01
    check_between(_ppo_setup(lambda: vars(holder)["ent_coef"],
                             lambda i: setattr(holder, "ent_coef", 0.01 * (i + 1))))


def _diffusion_setup(schedule, read, change):
    def setup():
        net = nn.Linear(2, 2)
        opt = torch.optim.SGD(net.parameters(), lr=0.1)

        def step(x0, t):
            ab = read(schedule, t)
            noise = torch.randn_like(x0)
            loss = F.mse_loss(net(ab ** 0.5 * x0 + (1 - ab) ** 0.5 * noise), noise)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return dict(step=step, args=lambda i: (torch.randn(3, 2), 7), between=lambda i, case: change(schedule, i),
                    modules=lambda: [net])
    return setup


def _rescale(schedule, i):
    schedule[7] = 0.5 + 0.05 * i  # the schedule recomputed in place (e.g. a new noise schedule) between calls


def test_small_numpy_noise_schedule_changed_in_place_between_calls():
    check_between(_diffusion_setup(np.linspace(0.99, 0.01, 1000), lambda s, t: float(s[t]), _rescale))


def test_large_numpy_noise_schedule_changed_in_place_between_calls():
    check_between(_diffusion_setup(np.linspace(0.99, 0.01, 4000), lambda s, t: float(s[t]), _rescale))


def test_large_python_list_noise_schedule_changed_in_place_between_calls():
    check_between(_diffusion_setup([0.99 - 0.98 * k / 3999 for k in range(4000)], lambda s, t: s[t], _rescale))


# ------------------------------------------------------------- deques filled between calls
def test_reinforce_baseline_from_list_of_recent_returns():
    recent = [0.0]
    check_between(_ppo_setup(lambda: sum(recent[-100:]) / len(recent[-100:]),
                             _refill(recent, [0.0], lambda i: [float(i) - 1.5])))


def test_reinforce_baseline_from_deque_of_recent_returns():
    import collections
    recent = collections.deque([0.0], maxlen=100)
    check_between(_ppo_setup(lambda: sum(recent) / len(recent), _refill(recent, [0.0], lambda i: [float(i) - 1.5])))


def test_per_beta_annealed_from_len_of_deque_replay_buffer():
    import collections
    replay = collections.deque(maxlen=1000)
    replay.append((0, 1))
    check_between(_ppo_setup(lambda: min(1.0, 0.4 + len(replay) / 20),
                             _refill(replay, [(0, 1)], lambda i: [(i, k) for k in range(3)])))


# ------------------------------------------------------------------------- value-level corners
def test_tabular_q_learning_with_tensor_indices_in_place_update():
    def setup():
        Q = torch.zeros(5, 2)

        def step(s, a, r, s2, alpha, eps):
            target = r + 0.9 * Q[s2].max(1).values
            Q[s, a] += alpha * (target - Q[s, a])
            greedy = Q[s2].argmax(1)
            explore = torch.rand(1) < eps
            return torch.where(explore, torch.randint(0, 2, (1,)), greedy)

        def args(i):
            return (torch.full((1,), i % 5), torch.full((1,), i % 2), torch.full((1,), float(i) - 2),
                    torch.full((1,), (i + 1) % 5), 0.5, 0.3)

        return dict(step=step, args=args, extra=lambda: Q)

    check(setup, calls=8)


def test_advantage_argument_normalized_in_place_and_reused():
    def setup():
        pi = nn.Linear(3, 2)
        opt = torch.optim.SGD(pi.parameters(), lr=0.1)
        adv = torch.randn(4)
        obs = torch.randn(4, 3)

        def step(obs, adv):
            adv.sub_(adv.mean()).div_(adv.std() + 1e-8)
            d = D.Categorical(logits=pi(obs))
            loss = -(d.log_prob(d.sample()) * adv).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            adv.mul_(1.5)
            return loss

        return dict(step=step, args=lambda i: (obs, adv), modules=[pi], extra=lambda: adv)

    check(setup)


def test_categorical_probs_with_exact_zeros_entropy_and_log_prob():
    def setup():
        pi = nn.Linear(3, 4)
        opt = torch.optim.SGD(pi.parameters(), lr=0.1)

        def step(obs):
            p = F.relu(pi(obs)) + F.pad(torch.full((1,), 1e-3), (3, 0))
            d = D.Categorical(probs=p)
            a = d.sample()
            ent = d.entropy()
            loss = -(d.log_prob(a)).mean() - 0.1 * ent.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, a, ent, d.logits

        return dict(step=step, args=lambda i: (torch.randn(5, 3),), modules=[pi])

    check(setup)


def test_clip_grad_norm_error_if_nonfinite_in_later_call():
    def setup():
        pi = nn.Linear(3, 2)
        opt = torch.optim.Adam(pi.parameters(), lr=1e-2)

        def step(obs, scale):
            d = D.Normal(pi(obs), 1.0)
            loss = -(d.log_prob(d.sample()) * scale).sum()
            opt.zero_grad()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(pi.parameters(), 1.0, error_if_nonfinite=True)
            opt.step()
            return loss, norm

        def args(i):
            return torch.randn(3, 3), torch.full((3, 2), float("inf") if i == 3 else 1.0)

        return dict(step=step, args=args, modules=[pi], extra=lambda: _optim_state(opt))

    check(setup)


def test_nan_reward_propagates_through_adam_the_same():
    def setup():
        critic = nn.Linear(3, 1)
        opt = torch.optim.Adam(critic.parameters(), lr=1e-2)

        def step(obs, r):
            loss = F.smooth_l1_loss(critic(obs).squeeze(-1), r)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, torch.nan_to_num(critic.weight.detach(), nan=-7.0)

        def args(i):
            r = torch.randn(4)
            if i == 2:
                r[1] = float("nan")
            return torch.randn(4, 3), r

        return dict(step=step, args=args, modules=[critic], extra=lambda: _optim_state(opt))

    check(setup)


def test_log_prob_gradient_hook_inside_step_and_one_hot_actions():
    def setup():
        pi = nn.Linear(3, 4)
        opt = torch.optim.SGD(pi.parameters(), lr=0.1)

        def step(obs, scale):
            logits = pi(obs)
            logits.register_hook(lambda g: g.clamp(-scale, scale))
            a = torch.multinomial(F.softmax(logits, -1), 1).squeeze(1)
            logp = (F.log_softmax(logits, -1) * F.one_hot(a, 4)).sum(-1)
            loss = -logp.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, a

        return dict(step=step, args=lambda i: (torch.randn(4, 3), 0.1 * (i + 1)), modules=[pi])

    check(setup)


def test_n_step_returns_with_unfold_and_discount_kernel():
    def setup():
        critic = nn.Linear(3, 1)
        opt = torch.optim.SGD(critic.parameters(), lr=0.05)

        def step(obs, rewards, n, gamma):
            kernel = gamma ** torch.arange(n, dtype=torch.float32)
            windows = F.pad(rewards, (0, n - 1)).unfold(0, n, 1)
            returns = (windows * kernel).sum(-1)
            loss = F.mse_loss(critic(obs).squeeze(-1), returns)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, returns

        return dict(step=step, args=lambda i: (torch.randn(6, 3), torch.randn(6), 2 + i % 2, 0.9),
                    modules=[critic])

    check(setup)


# ------------------------------------------------------------- compiled modules, eager steps
def test_actor_critic_with_compiled_modules_and_eager_step():
    def setup():
        actor = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
        critic = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
        opt = torch.optim.Adam(list(actor.parameters()) + list(critic.parameters()), lr=1e-2)
        return actor, critic, opt

    def run(compiled):
        torch.manual_seed(0)
        actor, critic, opt = setup()
        if compiled:
            actor.compile()
            critic.compile()
        out = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(CALLS):
                obs, next_obs, r = torch.randn(4, 3), torch.randn(4, 3), torch.randn(4)
                d = D.Categorical(logits=actor(obs))
                a = d.sample()
                v = critic(obs).squeeze(-1)
                with torch.no_grad():
                    v2 = critic(next_obs).squeeze(-1)
                adv = r + 0.9 * v2 - v
                loss = -(d.log_prob(a) * adv.detach()).mean() + adv.pow(2).mean() - 0.01 * d.entropy().mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                out.append((_plain(loss), _plain(a), _state([actor, critic]), _plain(torch.rand(3))))
        return out, [str(w.message) for w in caught if "compile" in str(w.message)]

    eager, _ = run(False)
    compiled, caught = run(True)
    assert len(caught) <= 2, caught
    assert_identical(compiled, eager)


def test_vae_dynamic_binarization_with_bernoulli_and_dropout_decoder():
    def setup():
        enc = nn.Sequential(nn.Linear(6, 8), nn.Dropout(0.2), nn.Linear(8, 4))
        dec = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.2), nn.Linear(8, 6))
        opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-2)

        def step(x_gray, beta):
            enc.train(); dec.train()
            x = torch.bernoulli(x_gray)
            mu, logvar = enc(x).chunk(2, -1)
            z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
            rec = F.binary_cross_entropy_with_logits(dec(z), x, reduction="sum") / x.shape[0]
            kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(-1).mean()
            loss = rec + beta * kl
            opt.zero_grad()
            loss.backward()
            opt.step()
            enc.eval(); dec.eval()
            with torch.no_grad():
                sample = torch.sigmoid(dec(torch.randn(2, 2)))
            return loss, sample

        return dict(step=step, args=lambda i: (torch.rand(4, 6), min(1.0, 0.25 * i)), modules=[enc, dec])

    check(setup)


def test_conditional_gan_embedding_labels_from_randint():
    def setup():
        emb = nn.Embedding(3, 2)
        G = nn.Linear(4, 3)
        Dn = nn.Linear(3 + 2, 1)
        g_opt = torch.optim.Adam(list(G.parameters()) + list(emb.parameters()), lr=1e-2)
        d_opt = torch.optim.Adam(Dn.parameters(), lr=1e-2)

        def step(real, real_y):
            y = torch.randint(0, 3, (real.shape[0],))
            fake = G(torch.cat([torch.randn(real.shape[0], 2), emb(y)], 1))
            d_real = Dn(torch.cat([real, emb(real_y).detach()], 1))
            d_fake = Dn(torch.cat([fake.detach(), emb(y).detach()], 1))
            d_loss = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)) + \
                F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            out = Dn(torch.cat([fake, emb(y)], 1))
            g_loss = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            return d_loss.detach(), g_loss.detach(), y

        return dict(step=step, args=lambda i: (torch.randn(4, 3), torch.randint(0, 3, (4,))),
                    modules=[emb, G, Dn])

    check(setup)
