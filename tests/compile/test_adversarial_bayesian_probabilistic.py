"""chainrule.compile against eager execution on PROBABILISTIC DEEP LEARNING: Bayes-by-backprop layers
sampling their weights on every step (``mu + softplus(rho) * eps``, ``D.Normal(...).rsample()``, local
reparameterization), KL terms summed over layers with an annealed weight, MC dropout at inference
(``model.train()`` while evaluating, several stochastic passes averaged), heteroscedastic regression
(Gaussian NLL by hand, with ``nn.GaussianNLLLoss`` and with ``D.Normal.log_prob``), mixture density
networks (logsumexp by hand and ``D.MixtureSameFamily``), distributions' log_prob / entropy /
kl_divergence / rsample inside compiled steps, reparameterized Beta, Gamma and Dirichlet, deep
ensembles stepped in one compiled function, and temperature scaling with LBFGS or Adam.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, Python side effects and the random stream after each call. A compiled run may record
anew or fall back to eager with at most one warning.
"""
import math
import warnings

import numpy as np

import chainrule
import chainrule.distributions as D
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.random import default_generator
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def arr(t):
    return np.array(t.detach().numpy(), copy=True)


def snap(value):
    if isinstance(value, chainrule.Tensor):
        return ("tensor", str(value.dtype), arr(value))
    if isinstance(value, (list, tuple)):
        return tuple(snap(v) for v in value)
    if isinstance(value, dict):
        return {k: snap(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return np.asarray(value)
    if isinstance(value, nn.Module):
        return module_state(value)
    return value


def module_state(model):
    return {
        "modules": [(name, type(m).__name__, bool(m.training)) for name, m in model.named_modules()],
        "params": [(name, str(p.dtype), bool(p.requires_grad), arr(p), None if p.grad is None else arr(p.grad))
                   for name, p in model.named_parameters()],
        "buffers": [(name, str(b.dtype), arr(b)) for name, b in model.named_buffers()],
    }


def observe(objects):
    out = []
    for thing in objects:
        if isinstance(thing, optim.Optimizer):
            out.append([{k: snap(v) for k, v in s.items()} for s in thing.state.values()])
        else:
            out.append(snap(thing))
    return out


class Case:
    def __init__(self, step, observe, inputs, inner=False):
        self.step, self.observe, self.inputs = step, observe, inputs
        self.inner = inner    # True: the setup compiles what it wants through maybe_compile


MODE = {"compiled": False}


def maybe_compile(fn):
    return chainrule.compile(fn) if MODE["compiled"] else fn


def run(compiled, setup, calls):
    chainrule.manual_seed(0)
    MODE["compiled"] = compiled
    case = setup()
    function = chainrule.compile(case.step) if compiled and not case.inner else case.step
    history = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            args = case.inputs(i)
            try:
                history.append(("ok", snap(function(*args))))
            except Exception as error:  # compared: type and message
                history.append(("raised", type(error).__name__, str(error)))
            history.append(observe(case.observe()))
    history.append(("random", default_generator.state_bytes()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages


def same_as_eager(setup, calls=7):
    eager, eager_messages = run(False, setup, calls)
    compiled, messages = run(True, setup, calls)
    assert not eager_messages
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages
    return messages


SIZES = [16, 16, 16, 16, 16, 16, 7]   # an epoch of 6 full batches and a smaller last one


def regression_batches(dtype=np.float64, d=3, sizes=SIZES, extra=()):
    def inputs(i):
        g = np.random.default_rng(200 + i)
        n = sizes[i % len(sizes)]
        x = g.standard_normal((n, d)).astype(dtype)
        noise = (0.1 + 0.5 * np.abs(x[:, :1])) * g.standard_normal((n, 1))
        y = (np.sin(2 * x[:, :1]) + noise).astype(dtype)
        return (chainrule.tensor(x), chainrule.tensor(y)) + tuple(e[i % len(e)] for e in extra)
    return inputs


def class_batches(d=4, k=3, sizes=SIZES, extra=()):
    def inputs(i):
        g = np.random.default_rng(300 + i)
        n = sizes[i % len(sizes)]
        x = chainrule.tensor(g.standard_normal((n, d)).astype(np.float32))
        y = chainrule.tensor(g.integers(0, k, n))
        return (x, y) + tuple(e[i % len(e)] for e in extra)
    return inputs


# ----------------------------------------------------------------------------- Bayes by backprop
class BayesLinear(nn.Module):
    """Blundell et al.: a Gaussian posterior over each weight, sampled on every forward."""

    def __init__(self, n_in, n_out, prior_sigma=1.0):
        super().__init__()
        self.w_mu = nn.Parameter(chainrule.empty(n_out, n_in).uniform_(-0.2, 0.2))
        self.w_rho = nn.Parameter(chainrule.full((n_out, n_in), -5.0))
        self.b_mu = nn.Parameter(chainrule.zeros(n_out))
        self.b_rho = nn.Parameter(chainrule.full((n_out,), -5.0))
        self.prior_sigma = prior_sigma

    def forward(self, x):
        w_sigma = F.softplus(self.w_rho)
        b_sigma = F.softplus(self.b_rho)
        w = self.w_mu + w_sigma * chainrule.randn_like(w_sigma)
        b = self.b_mu + b_sigma * chainrule.randn_like(b_sigma)
        return F.linear(x, w, b)

    def kl(self):
        total = 0
        for mu, rho in ((self.w_mu, self.w_rho), (self.b_mu, self.b_rho)):
            sigma = F.softplus(rho)
            total = total + (math.log(self.prior_sigma) - chainrule.log(sigma)
                             + (sigma ** 2 + mu ** 2) / (2 * self.prior_sigma ** 2) - 0.5).sum()
        return total


class BayesMLP(nn.Module):
    def __init__(self, d=3, h=8, o=1):
        super().__init__()
        self.l1 = BayesLinear(d, h)
        self.l2 = BayesLinear(h, o)

    def forward(self, x):
        return self.l2(F.relu(self.l1(x)))

    def kl(self):
        return sum(m.kl() for m in self.modules() if isinstance(m, BayesLinear))


def test_bayes_by_backprop_elbo_with_kl_summed_over_layers_float32():
    def setup():
        model = BayesMLP()
        opt = optim.Adam(model.parameters(), lr=0.01)
        n_train = 100

        def step(x, y):
            opt.zero_grad()
            pred = model(x)
            nll = F.mse_loss(pred, y, reduction="sum") * n_train / x.shape[0]
            kl = model.kl()
            loss = (nll + kl) / n_train
            loss.backward()
            opt.step()
            return loss, nll, kl
        return Case(step, lambda: [model, opt], regression_batches(np.float32))

    same_as_eager(setup)


def test_bayes_by_backprop_kl_weight_annealed_as_python_float_argument():
    def setup():
        model = BayesMLP().double()
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y, beta):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y) + beta * model.kl() / 100
            loss.backward()
            opt.step()
            return loss
        betas = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0]
        return Case(step, lambda: [model, opt], regression_batches(extra=(betas,)))

    same_as_eager(setup)


def test_bayes_by_backprop_kl_weight_as_module_attribute_and_blundell_minibatch_weights():
    def setup():
        model = BayesMLP().double()
        model.kl_weight = 1.0
        opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        M = 7

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y) + model.kl_weight * model.kl() / 100
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            model.kl_weight = 2 ** (M - 1 - i) / (2 ** M - 1)   # Blundell's pi_i, set by the caller's loop
            return regression_batches()(i)
        return Case(step, lambda: [model, opt, model.kl_weight], inputs)

    same_as_eager(setup)


class NormalBayesLinear(nn.Module):
    """The same layer written with torch.distributions."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.w_mu = nn.Parameter(0.1 * chainrule.randn(n_out, n_in))
        self.w_rho = nn.Parameter(chainrule.full((n_out, n_in), -4.0))
        self.prior = D.Normal(chainrule.zeros(n_out, n_in), chainrule.ones(n_out, n_in))

    def posterior(self):
        return D.Normal(self.w_mu, F.softplus(self.w_rho))

    def forward(self, x):
        q = self.posterior()
        w = q.rsample()
        self.kl = D.kl_divergence(q, self.prior).sum()
        return x @ w.t()


def test_bayes_by_backprop_with_distributions_rsample_and_kl_divergence():
    def setup():
        l1, l2 = NormalBayesLinear(3, 8), NormalBayesLinear(8, 1)
        model = nn.Sequential(l1, nn.Tanh(), l2)
        opt = optim.Adam(model.parameters(), lr=0.02)

        def step(x, y):
            opt.zero_grad()
            pred = model(x)
            kl = sum(m.kl for m in model if isinstance(m, NormalBayesLinear))
            loss = F.mse_loss(pred, y) + kl / 200
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [model, opt, l1.kl, l2.kl], regression_batches(np.float32))

    same_as_eager(setup)


def test_bayes_by_backprop_monte_carlo_kl_with_scale_mixture_prior_and_several_samples():
    def setup():
        mu = nn.Parameter(0.1 * chainrule.randn(3, 1, dtype=chainrule.float64))
        rho = nn.Parameter(chainrule.full((3, 1), -3.0, dtype=chainrule.float64))
        opt = optim.Adam([mu, rho], lr=0.05)
        pi, s1, s2 = 0.5, 1.0, math.exp(-6)

        def log_prior(w):
            p1 = D.Normal(0.0, s1).log_prob(w) + math.log(pi)
            p2 = D.Normal(0.0, s2).log_prob(w) + math.log(1 - pi)
            return chainrule.logsumexp(chainrule.stack([p1, p2]), dim=0).sum()

        def step(x, y, n_samples):
            opt.zero_grad()
            q = D.Normal(mu, F.softplus(rho))
            loss = 0
            for _ in range(n_samples):
                w = q.rsample()
                loss = loss + (q.log_prob(w).sum() - log_prior(w)) / 100 + F.mse_loss(x @ w, y)
            loss = loss / n_samples
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [mu, rho, opt], regression_batches(extra=([1, 3, 3, 2, 1, 3, 2],)))

    same_as_eager(setup)


class LocalReparamLinear(nn.Module):
    """Kingma et al.: sample the pre-activations, not the weights."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.mu = nn.Parameter(0.3 * chainrule.randn(n_in, n_out, dtype=chainrule.float64))
        self.log_sigma2 = nn.Parameter(chainrule.full((n_in, n_out), -8.0, dtype=chainrule.float64))

    def forward(self, x):
        if not self.training:
            return x @ self.mu
        mean = x @ self.mu
        var = (x ** 2) @ self.log_sigma2.exp()
        return mean + var.sqrt() * chainrule.randn_like(mean)


def test_local_reparameterization_trick_with_train_and_eval_calls_interleaved():
    def setup():
        model = nn.Sequential(LocalReparamLinear(3, 6), nn.ReLU(), LocalReparamLinear(6, 1))
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y, train):
            model.train(train)
            if train:
                opt.zero_grad()
                loss = F.mse_loss(model(x), y)
                loss.backward()
                opt.step()
                return loss
            with chainrule.no_grad():
                return F.mse_loss(model(x), y)
        return Case(step, lambda: [model, opt], regression_batches(extra=([True, True, False, True, False, True, False],)))

    same_as_eager(setup)


def test_bayes_layer_uses_mean_weights_in_eval_mode_via_flag_on_module():
    class MaybeSample(BayesLinear):
        def forward(self, x):
            if self.training:
                return super().forward(x)
            return F.linear(x, self.w_mu, self.b_mu)

    def setup():
        model = nn.Sequential(MaybeSample(3, 8), nn.ELU(), MaybeSample(8, 1)).double()
        opt = optim.RMSprop(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y) + sum(m.kl() for m in model if isinstance(m, BayesLinear)) / 500
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            model.train(i % 3 != 2)
            return regression_batches()(i)
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- MC dropout
def mc_dropout_net(p=0.2, dtype=chainrule.float32):
    return nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Dropout(p), nn.Linear(16, 16), nn.ReLU(),
                         nn.Dropout(p), nn.Linear(16, 1)).to(dtype)


def test_mc_dropout_predictive_mean_and_variance_with_train_mode_in_evaluation():
    def setup():
        model = mc_dropout_net()

        def predict(x, y, T):
            model.train()                       # keep dropout on at test time
            with chainrule.no_grad():
                preds = chainrule.stack([model(x) for _ in range(T)])
            return preds.mean(0), preds.var(0), preds.std(0, unbiased=False)
        return Case(predict, lambda: [model], regression_batches(np.float32, extra=([10, 10, 5, 10, 20, 5, 10],)))

    same_as_eager(setup)


def test_mc_dropout_train_step_then_stochastic_evaluation_in_one_function():
    def setup():
        model = mc_dropout_net(0.3, chainrule.float64)
        opt = optim.Adam(model.parameters(), lr=0.005, weight_decay=1e-4)

        def step(x, y):
            model.train()
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                samples = chainrule.cat([model(x).unsqueeze(0) for _ in range(8)])
                mean = samples.mean(dim=0)
                epistemic = samples.var(dim=0)
                test_rmse = chainrule.sqrt(((mean - y) ** 2).mean())
            return loss, test_rmse, epistemic.mean()
        return Case(step, lambda: [model, opt], regression_batches())

    same_as_eager(setup)


def test_mc_dropout_functional_dropout_with_p_changed_between_calls():
    def setup():
        fc1, fc2 = nn.Linear(3, 12).double(), nn.Linear(12, 1).double()
        holder = nn.ModuleList([fc1, fc2])
        cfg = {"p": 0.1}

        def predict(x, y):
            with chainrule.no_grad():
                outs = []
                for _ in range(6):
                    h = F.dropout(F.relu(fc1(x)), p=cfg["p"], training=True)
                    outs.append(fc2(h))
                outs = chainrule.stack(outs, dim=0)
            nll = 0.5 * ((outs.mean(0) - y) ** 2 / (outs.var(0) + 1e-3) + chainrule.log(outs.var(0) + 1e-3))
            return outs.mean(0), nll.mean()
        def inputs(i):
            cfg["p"] = [0.1, 0.1, 0.5, 0.1, 0.0, 0.5, 0.25][i]
            return regression_batches()(i)
        return Case(predict, lambda: [holder, cfg["p"]], inputs)

    same_as_eager(setup)


def test_mc_dropout_classification_predictive_entropy_and_mutual_information():
    def setup():
        model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            model.train()
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                probs = chainrule.stack([F.softmax(model(x), dim=-1) for _ in range(5)])
                mean = probs.mean(0)
                pred_entropy = -(mean * chainrule.log(mean + 1e-12)).sum(-1)
                exp_entropy = -(probs * chainrule.log(probs + 1e-12)).sum(-1).mean(0)
                mi = pred_entropy - exp_entropy
                acc = (mean.argmax(-1) == y).float().mean()
            return loss, pred_entropy, mi, acc
        return Case(step, lambda: [model, opt], class_batches())

    same_as_eager(setup)


def test_concrete_dropout_learned_rate_with_relaxed_bernoulli_mask():
    class ConcreteDropout(nn.Module):
        def __init__(self, temperature=0.1):
            super().__init__()
            self.p_logit = nn.Parameter(chainrule.tensor([-2.0], dtype=chainrule.float64))
            self.temperature = temperature

        def forward(self, x):
            p = chainrule.sigmoid(self.p_logit)
            eps = 1e-7
            u = chainrule.rand_like(x)
            drop = chainrule.sigmoid((chainrule.log(p + eps) - chainrule.log(1 - p + eps)
                                      + chainrule.log(u + eps) - chainrule.log(1 - u + eps)) / self.temperature)
            self.reg = p * chainrule.log(p) + (1 - p) * chainrule.log(1 - p)
            return x * (1 - drop) / (1 - p)

    def setup():
        cd = ConcreteDropout()
        model = nn.Sequential(nn.Linear(3, 10), nn.ReLU(), cd, nn.Linear(10, 1)).double()
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y) + 1e-2 * cd.reg.sum()
            loss.backward()
            opt.step()
            return loss, chainrule.sigmoid(cd.p_logit).detach()
        def inputs(i):
            cd.temperature = [0.1, 0.1, 0.1, 0.2, 0.2, 0.1, 0.1][i]
            return regression_batches()(i)
        return Case(step, lambda: [model, opt, cd.reg], inputs)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- heteroscedastic regression
class MeanVarNet(nn.Module):
    def __init__(self, d=3, h=16):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(d, h), nn.Tanh(), nn.Linear(h, h), nn.Tanh())
        self.mean = nn.Linear(h, 1)
        self.log_var = nn.Linear(h, 1)

    def forward(self, x):
        h = self.body(x)
        return self.mean(h), self.log_var(h)


def test_heteroscedastic_gaussian_nll_by_hand_with_log_variance_head():
    def setup():
        model = MeanVarNet().double()
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            mu, log_var = model(x)
            nll = 0.5 * (log_var + (y - mu) ** 2 * chainrule.exp(-log_var) + math.log(2 * math.pi))
            loss = nll.mean()
            loss.backward()
            opt.step()
            return loss, log_var.exp().sqrt().mean()
        return Case(step, lambda: [model, opt], regression_batches())

    same_as_eager(setup)


def test_heteroscedastic_with_gaussian_nll_loss_module_full_and_eps_changed():
    def setup():
        model = MeanVarNet()
        crit = nn.GaussianNLLLoss(full=True)
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            mu, raw = model(x)
            var = F.softplus(raw) + 1e-6
            loss = crit(mu, y, var)
            loss.backward()
            opt.step()
            return loss
        def inputs(i):
            crit.eps = [1e-6, 1e-6, 1e-3, 1e-6, 0.5, 0.5, 1e-6][i]
            return regression_batches(np.float32)(i)
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup)


def test_gaussian_nll_loss_reductions_and_broadcast_variance_shapes():
    def setup():
        model = MeanVarNet().double()
        opt = optim.SGD(model.parameters(), lr=0.01)

        def step(x, y, reduction):
            opt.zero_grad()
            mu, log_var = model(x)
            # a variance with one fewer dimension (homoscedastic per row) is accepted by torch
            loss = F.gaussian_nll_loss(mu, y, log_var.exp().squeeze(-1), reduction=reduction)
            total = loss.mean() if reduction == "none" else loss
            total.backward()
            opt.step()
            return loss
        return Case(step, lambda: [model, opt], regression_batches(extra=(["mean", "sum", "none", "mean", "none", "sum", "mean"],)))

    same_as_eager(setup)


def test_gaussian_nll_loss_raises_for_negative_variance_in_a_later_batch():
    def setup():
        model = nn.Linear(3, 1).double()
        opt = optim.SGD(model.parameters(), lr=0.01)
        crit = nn.GaussianNLLLoss()

        def step(x, y, var):
            opt.zero_grad()
            loss = crit(model(x), y, var)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            x, y = regression_batches()(i)
            var = chainrule.full_like(y, 0.5)
            if i == 3:
                var[0, 0] = -1.0
            return x, y, var
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup)


def test_heteroscedastic_normal_log_prob_and_beta_nll_with_detached_variance():
    def setup():
        model = MeanVarNet()
        opt = optim.Adam(model.parameters(), lr=0.005)

        def step(x, y, beta):
            opt.zero_grad()
            mu, log_var = model(x)
            var = log_var.exp()
            dist = D.Normal(mu, var.sqrt())
            nll = -dist.log_prob(y)
            if beta > 0:
                nll = nll * var.detach() ** beta          # Seitzer et al. beta-NLL
            loss = nll.mean()
            loss.backward()
            opt.step()
            return loss, dist.entropy().mean(), dist.cdf(y).mean()
        return Case(step, lambda: [model, opt], regression_batches(np.float32, extra=([0.0, 0.5, 0.5, 1.0, 0.0, 0.5, 0.5],)))

    same_as_eager(setup)


def test_heteroscedastic_prediction_interval_coverage_with_icdf():
    def setup():
        model = MeanVarNet().double()

        def evaluate(x, y, level):
            model.eval()
            with chainrule.no_grad():
                mu, log_var = model(x)
                dist = D.Normal(mu, (0.5 * log_var).exp())
                lo = dist.icdf(chainrule.tensor((1 - level) / 2, dtype=chainrule.float64))
                hi = dist.icdf(chainrule.tensor((1 + level) / 2, dtype=chainrule.float64))
                covered = ((y >= lo) & (y <= hi)).double().mean()
                width = (hi - lo).mean()
            return covered, width
        return Case(evaluate, lambda: [model], regression_batches(extra=([0.9, 0.9, 0.5, 0.95, 0.9, 0.5, 0.68],)))

    same_as_eager(setup)


def test_multivariate_heteroscedastic_output_with_cholesky_scale_tril():
    class CholNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(3, 12)
            self.mean = nn.Linear(12, 2)
            self.tril = nn.Linear(12, 3)

        def forward(self, x):
            h = chainrule.tanh(self.body(x))
            a, b, c = self.tril(h).unbind(-1)
            L = chainrule.zeros(x.shape[0], 2, 2, dtype=x.dtype)
            L[:, 0, 0] = F.softplus(a) + 1e-3
            L[:, 1, 0] = b
            L[:, 1, 1] = F.softplus(c) + 1e-3
            return self.mean(h), L

    def setup():
        model = CholNet().double()
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            mu, L = model(x)
            target = chainrule.cat([y, 2 * y], dim=-1)
            dist = D.MultivariateNormal(mu, scale_tril=L)
            loss = -dist.log_prob(target).mean()
            loss.backward()
            opt.step()
            return loss, dist.entropy().mean()
        return Case(step, lambda: [model, opt], regression_batches())

    same_as_eager(setup)


# ----------------------------------------------------------------------------- mixture density networks
class MDN(nn.Module):
    def __init__(self, d=3, h=16, k=4):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(d, h), nn.Tanh())
        self.pi = nn.Linear(h, k)
        self.mu = nn.Linear(h, k)
        self.sigma = nn.Linear(h, k)

    def forward(self, x):
        h = self.body(x)
        return self.pi(h), self.mu(h), chainrule.exp(self.sigma(h)).clamp(min=1e-3)


def test_mdn_negative_log_likelihood_by_hand_with_logsumexp():
    def setup():
        model = MDN().double()
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            logits, mu, sigma = model(x)
            log_pi = F.log_softmax(logits, dim=-1)
            log_n = -0.5 * ((y - mu) / sigma) ** 2 - chainrule.log(sigma) - 0.5 * math.log(2 * math.pi)
            loss = -chainrule.logsumexp(log_pi + log_n, dim=-1).mean()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            return loss
        return Case(step, lambda: [model, opt], regression_batches())

    same_as_eager(setup)


def test_mdn_with_mixture_same_family_log_prob_and_mean_variance():
    def setup():
        model = MDN()
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            logits, mu, sigma = model(x)
            mix = D.MixtureSameFamily(D.Categorical(logits=logits), D.Normal(mu, sigma))
            loss = -mix.log_prob(y.squeeze(-1)).mean()
            loss.backward()
            opt.step()
            return loss, mix.mean, mix.variance
        return Case(step, lambda: [model, opt], regression_batches(np.float32))

    same_as_eager(setup)


def test_mdn_two_dimensional_components_with_independent_normal():
    class MDN2(nn.Module):
        def __init__(self, k=3):
            super().__init__()
            self.k = k
            self.body = nn.Linear(3, 16)
            self.head = nn.Linear(16, k * 5)

        def forward(self, x):
            out = self.head(chainrule.tanh(self.body(x)))
            logits, mu, log_s = out.split([self.k, 2 * self.k, 2 * self.k], dim=-1)
            mu = mu.view(-1, self.k, 2)
            scale = log_s.view(-1, self.k, 2).exp()
            comp = D.Independent(D.Normal(mu, scale), 1)
            return D.MixtureSameFamily(D.Categorical(logits=logits), comp)

    def setup():
        model = MDN2().double()
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            target = chainrule.cat([y, y.sin()], dim=1)
            loss = -model(x).log_prob(target).mean()
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [model, opt], regression_batches())

    same_as_eager(setup)


def test_mdn_sampling_predictions_after_training_step():
    def setup():
        model = MDN().double()
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y, n):
            opt.zero_grad()
            logits, mu, sigma = model(x)
            mix = D.MixtureSameFamily(D.Categorical(logits=logits), D.Normal(mu, sigma))
            loss = -mix.log_prob(y.squeeze(-1)).mean()
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                samples = mix.sample((n,))
                # sample by hand as the MDN tutorials do: pick a component, then draw from it
                k = D.Categorical(logits=logits).sample()
                picked = mu.gather(1, k.unsqueeze(1)) + sigma.gather(1, k.unsqueeze(1)) * chainrule.randn(x.shape[0], 1, dtype=x.dtype)
            return loss, samples.mean(0), picked
        return Case(step, lambda: [model, opt], regression_batches(extra=([5, 5, 10, 5, 1, 10, 5],)))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- distributions inside steps
def test_vae_style_normal_kl_divergence_and_rsample_with_sample_shape():
    def setup():
        enc = nn.Linear(3, 4).double()
        dec = nn.Linear(2, 3).double()
        model = nn.ModuleList([enc, dec])
        opt = optim.Adam(model.parameters(), lr=0.01)
        prior = D.Normal(chainrule.zeros(2, dtype=chainrule.float64), chainrule.ones(2, dtype=chainrule.float64))

        def step(x, y, k):
            opt.zero_grad()
            mu, log_sigma = enc(x).chunk(2, dim=-1)
            q = D.Normal(mu, log_sigma.exp())
            z = q.rsample((k,))                                 # k importance samples
            recon = D.Normal(dec(z), 1.0).log_prob(x).sum(-1).mean(0)
            kl = D.kl_divergence(q, prior).sum(-1)
            loss = (kl - recon).mean()
            loss.backward()
            opt.step()
            return loss, kl.mean()
        return Case(step, lambda: [model, opt], regression_batches(extra=([1, 1, 4, 1, 2, 4, 1],)))

    same_as_eager(setup)


def test_categorical_entropy_confidence_penalty_and_kl_to_uniform():
    def setup():
        model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        def step(x, y, weight):
            opt.zero_grad()
            logits = model(x)
            dist = D.Categorical(logits=logits)
            uniform = D.Categorical(probs=chainrule.full_like(logits, 1 / 3))
            nll = -dist.log_prob(y).mean()
            loss = nll - weight * dist.entropy().mean() + 0.01 * D.kl_divergence(dist, uniform).mean()
            loss.backward()
            opt.step()
            return loss, dist.probs.max(-1).values.mean()
        return Case(step, lambda: [model, opt], class_batches(extra=([0.1, 0.1, 0.0, 0.1, 0.2, 0.1, 0.0],)))

    same_as_eager(setup)


def test_normal_scale_validation_error_raised_on_a_later_call():
    def setup():
        lin = nn.Linear(3, 1).double()
        opt = optim.SGD(lin.parameters(), lr=0.01)

        def step(x, y, scale):
            opt.zero_grad()
            loss = -D.Normal(lin(x), scale).log_prob(y).mean()
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            x, y = regression_batches()(i)
            s = chainrule.full_like(y, 0.5 + 0.1 * i)
            if i == 4:
                s[1, 0] = 0.0
            return x, y, s
        return Case(step, lambda: [lin, opt], inputs)

    same_as_eager(setup)


def test_reparameterized_gamma_rsample_and_kl_between_gammas():
    def setup():
        log_a = nn.Parameter(chainrule.zeros(3, dtype=chainrule.float64))
        log_b = nn.Parameter(chainrule.zeros(3, dtype=chainrule.float64))
        opt = optim.Adam([log_a, log_b], lr=0.05)
        prior = D.Gamma(chainrule.full((3,), 2.0, dtype=chainrule.float64), chainrule.full((3,), 3.0, dtype=chainrule.float64))

        def step(x, y, n):
            opt.zero_grad()
            q = D.Gamma(log_a.exp(), log_b.exp())
            precision = q.rsample((n,))                          # (n, 3)
            ll = D.Normal(0.0, precision.mean(-1, keepdim=True).rsqrt()).log_prob(y.view(1, -1)).sum(-1).mean()
            loss = D.kl_divergence(q, prior).sum() - ll
            loss.backward()
            opt.step()
            return loss, q.mean, q.entropy(), q.log_prob(precision).mean()
        return Case(step, lambda: [log_a, log_b, opt], regression_batches(extra=([2, 2, 4, 2, 1, 4, 2],)))

    same_as_eager(setup)


def test_reparameterized_beta_rsample_elbo_for_a_coin_bias():
    def setup():
        raw = nn.Parameter(chainrule.tensor([0.0, 0.0]))
        opt = optim.Adam([raw], lr=0.05)
        prior = D.Beta(chainrule.tensor(2.0), chainrule.tensor(2.0))

        def step(heads, flips):
            opt.zero_grad()
            a, b = F.softplus(raw).unbind(0)
            q = D.Beta(a + 0.1, b + 0.1)
            theta = q.rsample((16,))
            ll = D.Binomial(flips, probs=theta).log_prob(heads).mean()
            elbo = ll - D.kl_divergence(q, prior)
            (-elbo).backward()
            opt.step()
            return elbo, q.mean, q.entropy()

        def inputs(i):
            flips = [10, 10, 20, 10, 5, 20, 3][i]
            return chainrule.tensor(float(int(0.7 * flips))), chainrule.tensor(float(flips))
        return Case(step, lambda: [raw, opt], inputs)

    same_as_eager(setup)


def test_dirichlet_prior_network_with_rsample_and_kl_divergence_between_dirichlets():
    def setup():
        model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)).double()
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            alpha = F.softplus(model(x.double())) + 1.0
            target = F.one_hot(y, 3).double() * 10 + 1.0
            q = D.Dirichlet(alpha)
            p = q.rsample()
            loss = D.kl_divergence(D.Dirichlet(target), q).mean() - 0.01 * chainrule.log(p.gather(1, y.unsqueeze(1))).mean()
            loss.backward()
            opt.step()
            return loss, q.entropy().mean(), q.mean
        return Case(step, lambda: [model, opt], class_batches())

    same_as_eager(setup)


def test_evidential_classification_loss_with_digamma_and_lgamma():
    def setup():
        model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
        opt = optim.Adam(model.parameters(), lr=0.01)

        def kl_to_flat(alpha):
            k = alpha.shape[1]
            S = alpha.sum(1, keepdim=True)
            first = chainrule.lgamma(S) - chainrule.lgamma(alpha).sum(1, keepdim=True) - math.lgamma(k)
            second = ((alpha - 1) * (chainrule.digamma(alpha) - chainrule.digamma(S))).sum(1, keepdim=True)
            return first + second

        def step(x, y, epoch):
            opt.zero_grad()
            evidence = F.relu(model(x))
            alpha = evidence + 1
            S = alpha.sum(1, keepdim=True)
            t = F.one_hot(y, 3).float()
            loss = (t * (chainrule.digamma(S) - chainrule.digamma(alpha))).sum(1, keepdim=True)
            anneal = min(1.0, epoch / 10)
            alpha_tilde = t + (1 - t) * alpha
            loss = (loss + anneal * kl_to_flat(alpha_tilde)).mean()
            loss.backward()
            opt.step()
            return loss, (3 / S).mean()
        return Case(step, lambda: [model, opt], class_batches(extra=([0, 0, 1, 1, 2, 2, 3],)))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- deep ensembles
def test_deep_ensemble_list_of_models_each_with_its_own_optimizer_in_one_step():
    def setup():
        members = [MeanVarNet().double() for _ in range(3)]
        opts = [optim.Adam(m.parameters(), lr=0.01) for m in members]

        def step(x, y):
            losses, mus, variances = [], [], []
            for model, opt in zip(members, opts):
                opt.zero_grad()
                mu, log_var = model(x)
                loss = F.gaussian_nll_loss(mu, y, log_var.exp())
                loss.backward()
                opt.step()
                losses.append(loss.detach())
                mus.append(mu.detach())
                variances.append(log_var.exp().detach())
            mu_star = chainrule.stack(mus).mean(0)
            var_star = (chainrule.stack(variances) + chainrule.stack(mus) ** 2).mean(0) - mu_star ** 2
            return chainrule.stack(losses), mu_star, var_star
        return Case(step, lambda: members + opts, regression_batches())

    same_as_eager(setup)


def test_deep_ensemble_modulelist_one_optimizer_bootstrap_batches_with_randint():
    def setup():
        ens = nn.ModuleList([nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)) for _ in range(4)])
        opt = optim.SGD(ens.parameters(), lr=0.1, momentum=0.9, nesterov=True)

        def step(x, y):
            opt.zero_grad()
            total = 0
            for member in ens:
                idx = chainrule.randint(0, x.shape[0], (x.shape[0],))
                total = total + F.cross_entropy(member(x[idx]), y[idx])
            total.backward()
            opt.step()
            with chainrule.no_grad():
                probs = chainrule.stack([F.softmax(m(x), -1) for m in ens]).mean(0)
                nll = F.nll_loss(probs.log(), y)
            return total / len(ens), nll
        return Case(step, lambda: [ens, opt], class_batches())

    same_as_eager(setup)


def test_ensemble_member_count_changed_between_calls_by_slice_attribute():
    def setup():
        ens = nn.ModuleList([MeanVarNet(h=8) for _ in range(4)])
        ens.active = 4
        opt = optim.Adam(ens.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            mus, vs = zip(*[m(x) for m in ens[: ens.active]])
            mu = chainrule.stack(mus)
            var = chainrule.stack(vs).exp()
            loss = F.gaussian_nll_loss(mu, y.expand_as(mu), var)
            loss.backward()
            opt.step()
            return loss, mu.mean(0), mu.var(0, unbiased=False) if len(mus) > 1 else chainrule.zeros_like(mus[0])

        def inputs(i):
            ens.active = [4, 4, 2, 4, 1, 2, 4][i]
            return regression_batches(np.float32)(i)
        return Case(step, lambda: [ens, opt], inputs)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- temperature scaling
def logits_batches(sizes=SIZES, k=4):
    def inputs(i):
        g = np.random.default_rng(400 + i)
        n = sizes[i % len(sizes)] * 4
        y = g.integers(0, k, n)
        logits = 3.0 * g.standard_normal((n, k))
        logits[np.arange(n), y] += 2.0
        return chainrule.tensor(logits.astype(np.float32)), chainrule.tensor(y)
    return inputs


def test_temperature_scaling_with_lbfgs_closure_on_one_parameter():
    def setup():
        temperature = nn.Parameter(chainrule.ones(1) * 1.5)
        opt = optim.LBFGS([temperature], lr=0.01, max_iter=20)
        crit = nn.CrossEntropyLoss()

        def calibrate(logits, labels):
            def closure():
                opt.zero_grad()
                loss = crit(logits / temperature, labels)
                loss.backward()
                return loss
            opt.step(closure)
            return crit(logits / temperature, labels).detach(), temperature.detach().clone()
        return Case(calibrate, lambda: [temperature, opt], logits_batches())

    same_as_eager(setup)


def test_temperature_scaling_with_adam_on_log_temperature_and_ece():
    def setup():
        log_t = nn.Parameter(chainrule.zeros(1))
        opt = optim.Adam([log_t], lr=0.05)

        def step(logits, labels, n_bins):
            opt.zero_grad()
            scaled = logits / log_t.exp()
            loss = F.cross_entropy(scaled, labels)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                probs = F.softmax(logits / log_t.exp(), dim=1)
                conf, pred = probs.max(1)
                acc = pred.eq(labels).float()
                edges = chainrule.linspace(0, 1, n_bins + 1)
                ece = chainrule.zeros(1)
                for lo, hi in zip(edges[:-1], edges[1:]):
                    in_bin = (conf > lo) & (conf <= hi)
                    w = in_bin.float().mean()
                    gap = ((conf - acc) * in_bin.float()).sum() / in_bin.float().sum().clamp(min=1)
                    ece = ece + w * gap.abs()
            return loss, ece
        bins = [10, 10, 15, 10, 5, 15, 10]
        return Case(step, lambda: [log_t, opt], lambda i: logits_batches()(i) + (bins[i],))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- compiled pieces, seeds, generators, other likelihoods
def test_temperature_scaling_lbfgs_with_the_closure_compiled_and_stepped_by_lbfgs():
    def setup():
        temperature = nn.Parameter(chainrule.ones(1) * 1.5)
        opt = optim.LBFGS([temperature], lr=0.05, max_iter=10, line_search_fn="strong_wolfe")

        @maybe_compile
        def nll(logits, labels):
            opt.zero_grad()
            loss = F.cross_entropy(logits / temperature, labels)
            loss.backward()
            return loss

        def calibrate(logits, labels):
            opt.step(lambda: nll(logits, labels))
            return temperature.detach().clone()
        return Case(calibrate, lambda: [temperature, opt], logits_batches(), inner=True)

    same_as_eager(setup)


def test_mc_dropout_with_a_compiled_module_called_several_times_per_prediction():
    def setup():
        model = mc_dropout_net(0.25)
        net = maybe_compile(model)
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            net.train()
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                preds = chainrule.stack([net(x) for _ in range(4)])
            net.eval()
            with chainrule.no_grad():
                det = net(x)
            return loss, preds.mean(0), preds.std(0), det
        return Case(step, lambda: [model, opt], regression_batches(np.float32), inner=True)

    same_as_eager(setup)


def test_mc_evaluation_reseeded_inside_the_step_for_reproducible_masks():
    def setup():
        model = BayesMLP().double()
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y, seed):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y) + model.kl() / 1000
            loss.backward()
            opt.step()
            chainrule.manual_seed(seed)          # the same weight samples for every evaluation
            with chainrule.no_grad():
                preds = chainrule.stack([model(x) for _ in range(3)])
            return loss, preds.mean(0)
        return Case(step, lambda: [model, opt], regression_batches(extra=([123, 123, 7, 123, 7, 7, 123],)))

    same_as_eager(setup)


def test_bayes_layer_noise_from_its_own_generator():
    class GenBayesLinear(BayesLinear):
        def __init__(self, *args, generator=None):
            super().__init__(*args)
            self.gen = generator

        def forward(self, x):
            sigma = F.softplus(self.w_rho)
            eps = chainrule.randn(sigma.shape, generator=self.gen, dtype=sigma.dtype)
            return F.linear(x, self.w_mu + sigma * eps, self.b_mu)

    def setup():
        gen = chainrule.Generator().manual_seed(42)
        model = nn.Sequential(GenBayesLinear(3, 8, generator=gen), nn.ReLU(), GenBayesLinear(8, 1, generator=gen))
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [model, opt, gen.get_state()], regression_batches(np.float32))

    same_as_eager(setup)


def test_robust_regression_student_t_likelihood_with_learned_degrees_of_freedom():
    def setup():
        model = MeanVarNet().double()
        raw_df = nn.Parameter(chainrule.tensor(1.0, dtype=chainrule.float64))
        opt = optim.Adam(list(model.parameters()) + [raw_df], lr=0.01)

        def step(x, y):
            opt.zero_grad()
            mu, log_scale = model(x)
            dist = D.StudentT(F.softplus(raw_df) + 1.0, mu, log_scale.exp())
            loss = -dist.log_prob(y).mean()
            loss.backward()
            opt.step()
            return loss, dist.entropy().mean()
        return Case(step, lambda: [model, raw_df, opt], regression_batches())

    same_as_eager(setup)


def test_gumbel_softmax_relaxed_categorical_rsample_with_temperature_annealed():
    def setup():
        model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y, tau):
            opt.zero_grad()
            logits = model(x)
            soft = D.RelaxedOneHotCategorical(chainrule.tensor(tau), logits=logits).rsample()
            hard = F.gumbel_softmax(logits, tau=tau, hard=True)
            prior = D.Categorical(logits=chainrule.zeros_like(logits))
            loss = -(soft * F.one_hot(y, 3)).sum(-1).mean() + 0.1 * D.kl_divergence(D.Categorical(logits=logits), prior).mean()
            loss = loss + 0.0 * hard.sum()
            loss.backward()
            opt.step()
            return loss, hard
        taus = [1.0, 1.0, 0.9, 0.8, 0.8, 0.5, 0.5]
        return Case(step, lambda: [model, opt], class_batches(extra=(taus,)))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- value checks on later calls
def test_bernoulli_log_prob_support_check_fails_for_smoothed_labels_in_a_later_call():
    def setup():
        model = nn.Linear(4, 1)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = -D.Bernoulli(logits=model(x).squeeze(-1)).log_prob(y).mean()
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            x, y = class_batches(k=2)(i)
            target = y.float()
            if i == 4:
                target = target * 0.9 + 0.05               # label smoothing: not in Bernoulli's support
            return x, target
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup)


def test_categorical_log_prob_with_an_out_of_range_label_in_a_later_call():
    def setup():
        model = nn.Linear(4, 3)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = -D.Categorical(logits=model(x)).log_prob(y).mean()
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            x, y = class_batches()(i)
            if i == 3:
                y = y.clone()
                y[2] = 3
            return x, y
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup)


def test_default_validate_args_switched_off_and_on_between_calls():
    def setup():
        model = nn.Linear(3, 1).double()
        opt = optim.SGD(model.parameters(), lr=0.01)

        def step(x, y, scale):
            opt.zero_grad()
            loss = -D.Normal(model(x), scale).log_prob(y).mean()
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            D.Distribution.set_default_validate_args(i not in (3, 4))
            x, y = regression_batches()(i)
            s = chainrule.full_like(y, 0.7)
            if i in (4, 5):
                s[0, 0] = -0.5                             # validation off at call 4, on at call 5
            return x, y, s
        return Case(step, lambda: [model, opt], inputs)

    try:
        same_as_eager(setup)
    finally:
        D.Distribution.set_default_validate_args(True)


def test_deep_ensemble_members_with_their_own_dropout_rates_and_eval_toggled_per_member():
    def setup():
        members = nn.ModuleList([mc_dropout_net(p, chainrule.float64) for p in (0.0, 0.1, 0.3)])
        opt = optim.Adam(members.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            preds = chainrule.stack([m(x) for m in members])
            loss = ((preds - y) ** 2).mean(dim=(1, 2)).sum()
            loss.backward()
            opt.step()
            return loss, preds.mean(0), preds.var(0)

        def inputs(i):
            for k, m in enumerate(members):
                m.train((i + k) % 3 != 0)
            return regression_batches()(i)
        return Case(step, lambda: [members, opt], inputs)

    same_as_eager(setup)
