"""chainrule.compile against eager execution on tiny score-based / diffusion models and normalizing
flows: DDPM training steps (linear and cosine beta schedules registered as buffers, ``extract`` by
gather, sinusoidal time embeddings, a conv UNet with GroupNorm and SiLU, EMA of the weights), the
DDPM sampling step with ``t`` as a tensor and as a Python int, classifier-free guidance (labels
dropped with ``torch.rand(B) < p`` and ``torch.where``), RealNVP affine couplings with masks as
buffers, planar flows, Normal / MultivariateNormal base log-probs, flow inverse sampling, energy
based models trained with Langevin dynamics (``autograd.grad`` and ``.backward()`` variants) and
score matching with ``create_graph=True``.

Each test runs one workflow from the same seeds eagerly
and compiled for several calls with changing values, and compares bit for bit what the calls return,
parameters, gradients, buffers, optimizer state and where the random stream stands after. A compiled
run may fall back to eager with at most one warning, never give a different result.
"""
import math
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.nn import functional as F
from chainrule import distributions as D
from tests.compile.bitwise import assert_identical

CALLS = 5
REASONS = {}  # test name -> eager_reason of each compiled function (for reporting)


def plain(value):
    if isinstance(value, torch.Tensor):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def state(modules):
    out = []
    for module in modules:
        for name, p in module.named_parameters():
            out.append((name, plain(p), None if p.grad is None else plain(p.grad), p.requires_grad))
        for name, b in module.named_buffers():
            out.append((name, plain(b)))
    return out


def optim_state(optimizers):
    return [[{k: plain(v) for k, v in sorted(s.items())} for s in opt.state.values()] for opt in optimizers]


def run(setup, compiled, calls=CALLS):
    torch.manual_seed(0)
    case = setup()
    steps = case["steps"] if "steps" in case else {"step": case["step"]}
    made = {name: (torch.compile(fn) if compiled else fn) for name, fn in steps.items()}
    if "wrap" in case:
        made = {name: case["wrap"](fn) for name, fn in made.items()}
    schedule = case.get("schedule", lambda i: ["step"])
    records = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            if "before" in case:
                case["before"](i)
            for name in schedule(i):
                try:
                    result = ("returned", plain(made[name](*case["args"](i))))
                except Exception as error:  # the same error, compiled or not
                    result = ("raised", type(error).__name__, str(error))
                records.append((name, result))
                if "feed" in case and result[0] == "returned":
                    case["feed"](made[name], i)
            records.append((state(case.get("modules", [])), optim_state(case.get("opts", [])),
                            plain(case.get("extra", lambda: [])()), plain(torch.rand(2))))
    fallbacks = [str(w.message) for w in caught if str(w.message).startswith("chainrule.compile")]
    reasons = {name: getattr(getattr(fn, "fn", fn), "eager_reason", None) for name, fn in made.items()} if compiled else {}
    return records, fallbacks, reasons


def check(setup, calls=CALLS, request=None):
    eager, eager_fallbacks, _ = run(setup, False, calls)
    assert not eager_fallbacks
    compiled, fallbacks, reasons = run(setup, True, calls)
    if request is not None:
        REASONS[request.node.name] = reasons
    assert len(fallbacks) <= 1, fallbacks
    assert_identical(compiled, eager, "compiled against eager")
    return reasons


@pytest.fixture(autouse=True)
def _report(request):
    yield
    if request.node.name in REASONS and any(REASONS[request.node.name].values()):
        print(f"\n{request.node.name}: {REASONS[request.node.name]}")


# ------------------------------------------------------------------------------- building blocks
def extract(a, t, x_shape):
    b = t.shape[0]
    out = a.gather(-1, t)
    return out.reshape(b, *((1,) * (len(x_shape) - 1)))


def sinusoidal(t, dim):
    half = dim // 2
    freqs = torch.exp(torch.arange(half) * -(math.log(10000) / (half - 1)))
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([args.sin(), args.cos()], dim=-1)


def cosine_betas(T, s=0.008):
    steps = T + 1
    x = torch.linspace(0, T, steps, dtype=torch.float64)
    ac = torch.cos(((x / T) + s) / (1 + s) * math.pi * 0.5) ** 2
    ac = ac / ac[0]
    betas = 1 - (ac[1:] / ac[:-1])
    return torch.clip(betas, 0.0001, 0.9999).float()


class Schedule(nn.Module):
    def __init__(self, T, kind="linear"):
        super().__init__()
        betas = torch.linspace(1e-4, 0.2, T) if kind == "linear" else cosine_betas(T)
        alphas = 1.0 - betas
        alphas_cumprod = torch.cumprod(alphas, 0)
        prev = F.pad(alphas_cumprod[:-1], (1, 0), value=1.0)
        self.T = T
        self.register_buffer("betas", betas)
        self.register_buffer("alphas_cumprod", alphas_cumprod)
        self.register_buffer("sqrt_ab", torch.sqrt(alphas_cumprod))
        self.register_buffer("sqrt_1mab", torch.sqrt(1.0 - alphas_cumprod))
        self.register_buffer("sqrt_recip_alphas", torch.sqrt(1.0 / alphas))
        self.register_buffer("posterior_var", betas * (1.0 - prev) / (1.0 - alphas_cumprod))


class MLPDenoiser(nn.Module):
    def __init__(self, d=4, emb=8, hidden=16, classes=0):
        super().__init__()
        self.emb = emb
        self.time = nn.Sequential(nn.Linear(emb, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.label = nn.Embedding(classes + 1, hidden) if classes else None
        self.inp = nn.Linear(d, hidden)
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, d))

    def forward(self, x, t, y=None):
        h = self.inp(x) + self.time(sinusoidal(t, self.emb))
        if self.label is not None:
            h = h + self.label(y)
        return self.out(h)


class Block(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm1 = nn.GroupNorm(2, cout)
        self.temb = nn.Linear(temb, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(2, cout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, e):
        h = F.silu(self.norm1(self.conv1(x)))
        h = h + self.temb(e)[:, :, None, None]
        h = F.silu(self.norm2(self.conv2(h)))
        return h + self.skip(x)


class TinyUNet(nn.Module):
    def __init__(self, c=1, base=4, emb=8):
        super().__init__()
        self.emb = emb
        self.time = nn.Sequential(nn.Linear(emb, 8), nn.SiLU(), nn.Linear(8, 8))
        self.down = Block(c, base, 8)
        self.pool = nn.AvgPool2d(2)
        self.mid = Block(base, base, 8)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.dec = Block(2 * base, base, 8)
        self.out = nn.Conv2d(base, c, 1)

    def forward(self, x, t):
        e = self.time(sinusoidal(t, self.emb))
        h1 = self.down(x, e)
        h2 = self.mid(self.pool(h1), e)
        h = self.dec(torch.cat([self.up(h2), h1], 1), e)
        return self.out(h)


# ------------------------------------------------------------------------------------ DDPM train
def ddpm_train_setup(net_kind, kind, ema_style):
    def setup():
        T = 12
        sched = Schedule(T, kind)
        net = TinyUNet() if net_kind == "unet" else MLPDenoiser()
        ema = TinyUNet() if net_kind == "unet" else MLPDenoiser()
        ema.load_state_dict(net.state_dict())
        ema.requires_grad_(False)
        opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-2)
        shape = (3, 1, 4, 4) if net_kind == "unet" else (5, 4)

        def step(x0, decay):
            B = x0.shape[0]
            t = torch.randint(0, T, (B,))
            noise = torch.randn_like(x0)
            x_t = extract(sched.sqrt_ab, t, x0.shape) * x0 + extract(sched.sqrt_1mab, t, x0.shape) * noise
            loss = F.mse_loss(net(x_t, t), noise)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            with torch.no_grad():
                for e, p in zip(ema.parameters(), net.parameters()):
                    if ema_style == "lerp":
                        e.lerp_(p, 1 - decay)
                    else:
                        e.mul_(decay).add_(p, alpha=1 - decay)
                for e, b in zip(ema.buffers(), net.buffers()):
                    e.copy_(b)
            return loss, t

        def args(i):
            size = shape if i < 3 else (2,) + shape[1:]
            return torch.randn(*size), 0.9 + 0.02 * i

        return dict(step=step, args=args,
                    modules=[net, ema, sched], opts=[opt])

    return setup


@pytest.mark.parametrize("net_kind,kind,ema_style", [("mlp", "linear", "lerp"), ("unet", "cosine", "mul_add")])
def test_ddpm_training_step_with_ema(request, net_kind, kind, ema_style):
    check(ddpm_train_setup(net_kind, kind, ema_style), request=request)


def test_ddpm_schedule_buffer_changed_in_place_between_calls(request):
    """The schedule buffer is rewritten in place (switching schedules) between calls: the compiled
    step must read the new values, not the recorded ones."""
    def setup():
        T = 10
        sched = Schedule(T, "linear")
        other = Schedule(T, "cosine")
        net = MLPDenoiser()
        opt = torch.optim.SGD(net.parameters(), lr=0.05)

        def before(i):
            src = other if i % 2 else Schedule(T, "linear")
            with torch.no_grad():
                sched.sqrt_ab.copy_(src.sqrt_ab)
                sched.sqrt_1mab.copy_(src.sqrt_1mab)

        def step(x0):
            t = torch.randint(0, T, (x0.shape[0],))
            noise = torch.randn_like(x0)
            x_t = sched.sqrt_ab[t][:, None] * x0 + sched.sqrt_1mab[t][:, None] * noise
            loss = F.mse_loss(net(x_t, t), noise)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, x_t

        return dict(step=step, before=before, args=lambda i: (torch.randn(4, 4),), modules=[net, sched])

    check(setup, request=request)


def test_ddpm_importance_sampled_timesteps_multinomial_and_loss_history(request):
    """Timesteps drawn with multinomial from a loss-history buffer that the step updates with
    index_put (scatter of per-sample losses): a data-dependent weighting across calls."""
    def setup():
        T = 8
        sched = Schedule(T, "cosine")
        net = MLPDenoiser()
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        hist = torch.ones(T)

        def step(x0):
            B = x0.shape[0]
            w = hist / hist.sum()
            t = torch.multinomial(w, B, replacement=True)
            noise = torch.randn_like(x0)
            x_t = extract(sched.sqrt_ab, t, x0.shape) * x0 + extract(sched.sqrt_1mab, t, x0.shape) * noise
            per = ((net(x_t, t) - noise) ** 2).mean(dim=1)
            loss = (per / (w[t] * T)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                hist.mul_(0.9).index_add_(0, t, 0.1 * per.detach())
            return loss, t

        return dict(step=step, args=lambda i: (torch.randn(6, 4),), modules=[net], opts=[opt],
                    extra=lambda: hist)

    check(setup, request=request)


# ------------------------------------------------------------------------------ DDPM sampling
def sampler_setup(t_form):
    def setup():
        T = 10
        sched = Schedule(T, "linear")
        net = MLPDenoiser()
        B = 3
        x = {"x": torch.randn(B, 4)}

        def p_sample(x_t, i):
            if t_form == "tensor":
                t = i
                last = bool((t == 0).all())
            else:
                t = torch.full((B,), i, dtype=torch.long)
                last = i == 0
            with torch.no_grad():
                eps = net(x_t, t)
                mean = extract(sched.sqrt_recip_alphas, t, x_t.shape) * (
                    x_t - extract(sched.betas, t, x_t.shape) / extract(sched.sqrt_1mab, t, x_t.shape) * eps)
                if last:
                    return mean
                noise = torch.randn_like(x_t)
                return mean + torch.sqrt(extract(sched.posterior_var, t, x_t.shape)) * noise

        def args(k):
            i = list(reversed(range(T)))[k]
            return (x["x"], torch.full((B,), i, dtype=torch.long) if t_form == "tensor" else i)

        def feed(fn, k):
            x["x"] = fn.last

        def step(x_t, i):
            return p_sample(x_t, i)

        class Keep:
            def __init__(self, fn):
                self.fn = fn

            def __call__(self, *a):
                self.last = self.fn(*a)
                return self.last

        return dict(step=step, args=args, modules=[net], feed=feed, wrap=Keep)

    return setup


@pytest.mark.parametrize("t_form", ["tensor", "int"])
def test_ddpm_sampling_loop_step_t_as_tensor_or_int(request, t_form):
    check(sampler_setup(t_form), calls=10, request=request)


def test_ddpm_sampling_whole_loop_compiled_with_python_T(request):
    """The whole reversed(range(T)) loop in one compiled call; T changes between calls."""
    def setup():
        sched = Schedule(6, "cosine")
        net = MLPDenoiser()

        @torch.no_grad()
        def sample(x, steps):
            for i in reversed(range(steps)):
                t = torch.full((x.shape[0],), i, dtype=torch.long)
                eps = net(x, t)
                x = extract(sched.sqrt_recip_alphas, t, x.shape) * (
                    x - extract(sched.betas, t, x.shape) / extract(sched.sqrt_1mab, t, x.shape) * eps)
                if i > 0:
                    x = x + extract(sched.posterior_var, t, x.shape).sqrt() * torch.randn_like(x)
            return x.clamp(-3, 3)

        return dict(step=sample, args=lambda i: (torch.randn(2, 4), [3, 6, 3, 5, 6][i]), modules=[net])

    check(setup, request=request)


# ------------------------------------------------------------------ classifier-free guidance
def test_cfg_training_label_dropout_with_where(request):
    def setup():
        T, K = 8, 3
        sched = Schedule(T, "linear")
        net = MLPDenoiser(classes=K)
        opt = torch.optim.Adam(net.parameters(), lr=5e-3)

        def step(x0, y, p_uncond):
            B = x0.shape[0]
            drop = torch.rand(B) < p_uncond
            y_in = torch.where(drop, torch.full_like(y, K), y)
            t = torch.randint(0, T, (B,))
            noise = torch.randn_like(x0)
            x_t = extract(sched.sqrt_ab, t, x0.shape) * x0 + extract(sched.sqrt_1mab, t, x0.shape) * noise
            loss = F.mse_loss(net(x_t, t, y_in), noise)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, y_in, drop.sum()

        return dict(step=step, args=lambda i: (torch.randn(6, 4), torch.randint(0, K, (6,)), 0.2 + 0.1 * (i % 2)),
                    modules=[net], opts=[opt])

    check(setup, request=request)


def test_cfg_guided_sampling_step_guidance_scale_tensor_and_batched_cond_uncond(request):
    def setup():
        T, K = 5, 3
        sched = Schedule(T, "cosine")
        net = MLPDenoiser(classes=K)

        @torch.no_grad()
        def guided(x, t, y, w):
            B = x.shape[0]
            xx = torch.cat([x, x])
            tt = torch.cat([t, t])
            yy = torch.cat([y, torch.full_like(y, K)])
            eps_c, eps_u = net(xx, tt, yy).chunk(2)
            eps = (1 + w) * eps_c - w * eps_u
            mean = extract(sched.sqrt_recip_alphas, t, x.shape) * (
                x - extract(sched.betas, t, x.shape) / extract(sched.sqrt_1mab, t, x.shape) * eps)
            nonzero = (t != 0).float().view(B, 1)
            return mean + nonzero * extract(sched.posterior_var, t, x.shape).sqrt() * torch.randn_like(x)

        def args(i):
            return (torch.randn(2, 4), torch.tensor([4 - i, max(3 - i, 0)]), torch.tensor([1, 2]),
                    torch.tensor(0.5 * i))

        return dict(step=guided, args=args, modules=[net])

    check(setup, request=request)


# --------------------------------------------------------------------------------- RealNVP
class Coupling(nn.Module):
    def __init__(self, d, mask):
        super().__init__()
        self.register_buffer("mask", mask)
        self.s = nn.Sequential(nn.Linear(d, 8), nn.LeakyReLU(0.1), nn.Linear(8, d))
        self.t = nn.Sequential(nn.Linear(d, 8), nn.LeakyReLU(0.1), nn.Linear(8, d))

    def forward(self, x):
        xm = x * self.mask
        s = torch.tanh(self.s(xm)) * (1 - self.mask)
        t = self.t(xm) * (1 - self.mask)
        y = x * self.mask + (1 - self.mask) * (x * torch.exp(s) + t)
        return y, ((1 - self.mask) * s).sum(dim=1)

    def inverse(self, y):
        ym = y * self.mask
        s = torch.tanh(self.s(ym)) * (1 - self.mask)
        t = self.t(ym) * (1 - self.mask)
        return ym + (1 - self.mask) * ((y - t) * torch.exp(-s))


class RealNVP(nn.Module):
    def __init__(self, d=4, n=3, base="normal"):
        super().__init__()
        masks = [torch.arange(d) % 2, (torch.arange(d) < d // 2).long()]
        self.layers = nn.ModuleList(
            [Coupling(d, (masks[k % 2] if k < 2 else 1 - masks[0]).float()) for k in range(n)])
        self.register_buffer("loc", torch.zeros(d))
        self.register_buffer("cov", torch.eye(d))
        self.base_kind = base

    def base(self):
        if self.base_kind == "normal":
            return D.Normal(self.loc, torch.ones_like(self.loc))
        return D.MultivariateNormal(self.loc, covariance_matrix=self.cov)

    def log_prob(self, x):
        logdet = torch.zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        lp = self.base().log_prob(x)
        if self.base_kind == "normal":
            lp = lp.sum(dim=1)
        return lp + logdet

    def inverse(self, z):
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def sample(self, n):
        z = self.base().sample((n,))
        return self.inverse(z)


@pytest.mark.parametrize("base", ["normal", "mvn"])
def test_realnvp_nll_training_and_inverse_sampling(request, base):
    def setup():
        flow = RealNVP(base=base)
        opt = torch.optim.Adam(flow.parameters(), lr=1e-2)

        def step(x, n):
            loss = -flow.log_prob(x).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                samples = flow.sample(n)
                z = x
                for layer in flow.layers:
                    z = layer(z)[0]
                recon = flow.inverse(z)
            return loss, samples, recon

        return dict(step=step, args=lambda i: (torch.randn(8, 4) * (1 + 0.3 * i) + 0.5, 2 + i % 3),
                    modules=[flow], opts=[opt])

    check(setup, request=request)


def test_realnvp_round_trip_and_mask_buffer_flipped_between_calls(request):
    """The mask buffer is flipped in place between calls; forward then inverse must round-trip and
    read the current mask."""
    def setup():
        flow = RealNVP(n=2)

        def before(i):
            if i % 2:
                with torch.no_grad():
                    for layer in flow.layers:
                        layer.mask.copy_(1 - layer.mask)

        def step(x):
            z, ld = x, torch.zeros(x.shape[0])
            for layer in flow.layers:
                z, d = layer(z)
                ld = ld + d
            back = flow.inverse(z)
            return z, ld, back, (back - x).abs().max()

        return dict(step=step, before=before, args=lambda i: (torch.randn(3, 4),), modules=[flow])

    check(setup, request=request)


def test_realnvp_checkerboard_conv_coupling_on_images(request):
    class ConvCoupling(nn.Module):
        def __init__(self, parity):
            super().__init__()
            ii, jj = torch.meshgrid(torch.arange(4), torch.arange(4), indexing="ij")
            self.register_buffer("mask", ((ii + jj) % 2 == parity).float().view(1, 1, 4, 4))
            self.net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.GroupNorm(2, 4), nn.SiLU(),
                                     nn.Conv2d(4, 2, 3, padding=1))
            self.scale = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            xm = x * self.mask
            s, t = self.net(xm).chunk(2, dim=1)
            s = self.scale * torch.tanh(s)
            y = x * self.mask + (1 - self.mask) * (x * torch.exp(s) + t)
            return y, ((1 - self.mask) * s).flatten(1).sum(dim=1)

    def setup():
        layers = nn.ModuleList([ConvCoupling(0), ConvCoupling(1)])
        opt = torch.optim.Adam(layers.parameters(), lr=1e-2)
        base = D.Normal(torch.tensor(0.0), torch.tensor(1.0))

        def step(x):
            z, logdet = x, 0
            for layer in layers:
                z, ld = layer(z)
                logdet = logdet + ld
            nll = -(base.log_prob(z).flatten(1).sum(1) + logdet).mean() / (math.log(2) * 16)
            opt.zero_grad()
            nll.backward()
            opt.step()
            return nll, z

        return dict(step=step, args=lambda i: (torch.rand(2, 1, 4, 4) - 0.5,), modules=[layers], opts=[opt])

    check(setup, request=request)


# ----------------------------------------------------------------------------- planar flow
class Planar(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.u = nn.Parameter(torch.randn(d) * 0.1)
        self.w = nn.Parameter(torch.randn(d) * 0.1)
        self.b = nn.Parameter(torch.zeros(1))

    def forward(self, z):
        wu = self.w @ self.u
        u_hat = self.u + (F.softplus(wu) - 1 - wu) * self.w / (self.w.norm() ** 2)
        lin = z @ self.w + self.b
        f = z + u_hat * torch.tanh(lin).unsqueeze(-1)
        psi = (1 - torch.tanh(lin) ** 2).unsqueeze(-1) * self.w
        logdet = torch.log((1 + psi @ u_hat).abs() + 1e-8)
        return f, logdet


def test_planar_flow_reverse_kl_to_unnormalized_target(request):
    def setup():
        d = 2
        flows = nn.ModuleList([Planar(d) for _ in range(4)])
        opt = torch.optim.RMSprop(flows.parameters(), lr=1e-2)
        base = D.MultivariateNormal(torch.zeros(d), torch.eye(d))

        def energy(z):
            return 0.5 * ((z.norm(dim=1) - 2) / 0.4) ** 2

        def step(n, beta):
            z0 = base.sample((n,))
            lq = base.log_prob(z0)
            z = z0
            for f in flows:
                z, ld = f(z)
                lq = lq - ld
            loss = (lq + beta * energy(z)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, z

        return dict(step=step, args=lambda i: (6, torch.tensor(min(1.0, 0.2 + 0.2 * i))),
                    modules=[flows], opts=[opt])

    check(setup, request=request)


# ---------------------------------------------------------------------------- energy models
def ebm_setup(variant):
    def setup():
        E = nn.Sequential(nn.Linear(2, 16), nn.SiLU(), nn.Linear(16, 1))
        opt = torch.optim.Adam(E.parameters(), lr=1e-3)
        buffer = {"x": torch.rand(8, 2) * 2 - 1}

        def langevin(x, n_steps, step_size):
            x = x.clone()
            for _ in range(n_steps):
                x.requires_grad_()
                if variant == "grad":
                    g, = torch.autograd.grad(E(x).sum(), x)
                else:
                    E(x).sum().backward()
                    g = x.grad
                x = (x.detach() - 0.5 * step_size * g + math.sqrt(step_size) * 0.01 * torch.randn_like(x)).clamp(-2, 2)
            return x.detach()

        def step(data, n_steps):
            idx = torch.randint(0, 8, (4,))
            init = torch.where(torch.rand(4, 1) < 0.05, torch.rand(4, 2) * 2 - 1, buffer["x"][idx])
            if variant == "backward":
                E.requires_grad_(False)
            neg = langevin(init, n_steps, 0.1)
            if variant == "backward":
                E.requires_grad_(True)
            buffer["x"][idx] = neg
            pos_e, neg_e = E(data), E(neg)
            loss = pos_e.mean() - neg_e.mean() + 0.1 * (pos_e ** 2 + neg_e ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, neg

        return dict(step=step, args=lambda i: (torch.randn(4, 2) * 0.5, [2, 3, 2, 3, 3][i]),
                    modules=[E], opts=[opt], extra=lambda: buffer["x"])

    return setup


@pytest.mark.parametrize("variant", ["grad", "backward"])
def test_ebm_langevin_training(request, variant):
    check(ebm_setup(variant), request=request)


# ---------------------------------------------------------------------------- score matching
def test_exact_score_matching_create_graph(request):
    def setup():
        score = nn.Sequential(nn.Linear(2, 12), nn.Softplus(), nn.Linear(12, 2))
        opt = torch.optim.Adam(score.parameters(), lr=1e-2)

        def step(x):
            x = x.requires_grad_()
            s = score(x)
            trace = 0
            for k in range(2):
                g, = torch.autograd.grad(s[:, k].sum(), x, create_graph=True)
                trace = trace + g[:, k]
            loss = (trace + 0.5 * (s ** 2).sum(1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, x.grad

        return dict(step=step, args=lambda i: (torch.randn(5, 2) * (1 + i),), modules=[score], opts=[opt])

    check(setup, request=request)


def test_sliced_score_matching_hutchinson(request):
    def setup():
        score = nn.Sequential(nn.Linear(2, 12), nn.Tanh(), nn.Linear(12, 2))
        opt = torch.optim.SGD(score.parameters(), lr=1e-2, momentum=0.9)

        def step(x):
            x = x.clone().requires_grad_(True)
            v = torch.randn_like(x)
            v = v / v.norm(dim=-1, keepdim=True)
            s = score(x)
            gv, = torch.autograd.grad((s * v).sum(), x, create_graph=True)
            loss = ((gv * v).sum(-1) + 0.5 * (s * v).sum(-1) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return dict(step=step, args=lambda i: (torch.randn(6, 2) + i,), modules=[score], opts=[opt])

    check(setup, request=request)


def test_denoising_score_matching_multiple_sigmas(request):
    def setup():
        sigmas = torch.exp(torch.linspace(math.log(1.0), math.log(0.05), 5))
        net = nn.Sequential(nn.Linear(3, 16), nn.SiLU(), nn.Linear(16, 2))
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)

        def step(x):
            labels = torch.randint(0, len(sigmas), (x.shape[0],))
            used = sigmas[labels].view(x.shape[0], *([1] * (x.dim() - 1)))
            noise = torch.randn_like(x) * used
            perturbed = x + noise
            target = -noise / used ** 2
            s = net(torch.cat([perturbed, used], 1)) / used
            loss = (0.5 * ((s - target) ** 2).sum(-1) * used.squeeze(-1) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, labels

        return dict(step=step, args=lambda i: (torch.randn(6, 2),), modules=[net], opts=[opt])

    check(setup, request=request)


# ------------------------------------------------------------------------ against real PyTorch
def test_deterministic_pieces_match_real_pytorch():
    real = pytest.importorskip("torch")
    T = 12
    for kind in ["linear", "cosine"]:
        ours = Schedule(T, kind)
        # same formulas in real torch
        if kind == "linear":
            betas = real.linspace(1e-4, 0.2, T)
        else:
            x = real.linspace(0, T, T + 1, dtype=real.float64)
            ac = real.cos(((x / T) + 0.008) / 1.008 * math.pi * 0.5) ** 2
            ac = ac / ac[0]
            betas = real.clip(1 - ac[1:] / ac[:-1], 0.0001, 0.9999).float()
        ab = real.cumprod(1 - betas, 0)
        np.testing.assert_allclose(plain(ours.alphas_cumprod), ab.numpy(), rtol=1e-6, atol=1e-7)
        tt = real.tensor([0, 5, 11])
        g = ab.gather(-1, tt).reshape(3, 1, 1, 1)
        np.testing.assert_allclose(plain(extract(ours.alphas_cumprod, torch.tensor([0, 5, 11]), (3, 1, 4, 4))),
                                   g.numpy(), rtol=1e-6)
    half = 4
    f_real = real.exp(real.arange(half) * -(math.log(10000) / (half - 1)))
    f_ours = torch.exp(torch.arange(half) * -(math.log(10000) / (half - 1)))
    assert f_ours.dtype == torch.float32 and f_real.dtype == real.float32
    np.testing.assert_allclose(plain(f_ours), f_real.numpy(), rtol=1e-6)
    # RealNVP coupling + MVN log_prob with copied weights, compiled
    torch.manual_seed(0)
    flow = RealNVP(base="mvn")
    x = np.random.RandomState(0).standard_normal((5, 4)).astype(np.float32)
    compiled = torch.compile(lambda v: flow.log_prob(v))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the MultivariateNormal base makes it fall back to eager
        outs = [plain(compiled(torch.tensor(x * k))) for k in (1.0, 2.0, 3.0)]
    rl = []
    for layer in flow.layers:
        ws = [real.tensor(plain(p)) for p in layer.parameters()]
        rl.append((real.tensor(plain(layer.mask)), ws))

    def real_log_prob(v):
        ld = real.zeros(v.shape[0])
        for mask, (s1w, s1b, s2w, s2b, t1w, t1b, t2w, t2b) in rl:
            vm = v * mask
            s = real.tanh(real.nn.functional.linear(real.nn.functional.leaky_relu(
                real.nn.functional.linear(vm, s1w, s1b), 0.1), s2w, s2b)) * (1 - mask)
            t = real.nn.functional.linear(real.nn.functional.leaky_relu(
                real.nn.functional.linear(vm, t1w, t1b), 0.1), t2w, t2b) * (1 - mask)
            v = v * mask + (1 - mask) * (v * real.exp(s) + t)
            ld = ld + ((1 - mask) * s).sum(dim=1)
        base = real.distributions.MultivariateNormal(real.zeros(4), covariance_matrix=real.eye(4))
        return base.log_prob(v) + ld

    for k, out in zip((1.0, 2.0, 3.0), outs):
        np.testing.assert_allclose(out, real_log_prob(real.tensor(x * k)).numpy(), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------- more DDPM / EBM variants
def test_ddpm_averaged_model_ema_and_compiled_module_forward(request):
    """net.compile() (only the forward compiled) inside a compiled training step, and the EMA kept
    by swa_utils.AveragedModel with get_ema_multi_avg_fn."""
    from chainrule.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    def setup():
        T = 8
        sched = Schedule(T, "cosine")
        net = MLPDenoiser()
        ema = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.8))
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        fwd = torch.compile(net)

        def step(x0):
            t = torch.randint(0, T, (x0.shape[0],))
            noise = torch.randn_like(x0)
            x_t = extract(sched.sqrt_ab, t, x0.shape) * x0 + extract(sched.sqrt_1mab, t, x0.shape) * noise
            loss = F.mse_loss(fwd(x_t, t), noise)
            opt.zero_grad()
            loss.backward()
            opt.step()
            ema.update_parameters(net)
            with torch.no_grad():
                ema_pred = ema(x_t, t)
            return loss, ema_pred

        return dict(step=step, args=lambda i: (torch.randn(4, 4),), modules=[net, ema], opts=[opt])

    check(setup, request=request)


def test_langevin_step_compiled_alone_grad_into_input_leaf(request):
    """One Langevin step compiled: the chain x is a leaf made outside and passed in, .backward()
    fills x.grad and the energy's parameter grads accumulate (never zeroed)."""
    def setup():
        E = nn.Sequential(nn.Linear(2, 8), nn.SiLU(), nn.Linear(8, 1))
        chain = {"x": (torch.rand(4, 2) * 2 - 1).requires_grad_()}

        def step(x, step_size):
            E(x).sum().backward()
            with torch.no_grad():
                new = x - 0.5 * step_size * x.grad + step_size ** 0.5 * torch.randn_like(x)
            return new, x.grad

        def args(i):
            return chain["x"], [0.1, 0.1, 0.05, 0.1, 0.05][i]

        def feed(fn, i):
            chain["x"] = fn.last[0].detach().clamp(-2, 2).requires_grad_()

        class Keep:
            def __init__(self, fn):
                self.fn = fn

            def __call__(self, *a):
                self.last = self.fn(*a)
                return self.last

        return dict(step=step, args=args, feed=feed, wrap=Keep, modules=[E], extra=lambda: chain["x"])

    check(setup, request=request)


def test_ddpm_sampling_step_reads_schedule_by_python_int_index(request):
    """Sampling step taking i as a Python int and indexing the schedule with it (sched.betas[i]) —
    scalar tensors broadcast, plus an in-place clamp_ of the result."""
    def setup():
        T = 5
        sched = Schedule(T, "linear")
        net = MLPDenoiser()

        @torch.no_grad()
        def p_sample(x, i):
            t = torch.full((x.shape[0],), i, dtype=torch.long)
            eps = net(x, t)
            mean = sched.sqrt_recip_alphas[i] * (x - sched.betas[i] / sched.sqrt_1mab[i] * eps)
            out = mean + (i > 0) * sched.posterior_var[i].sqrt() * torch.randn_like(x)
            return out.clamp_(-1.5, 1.5)

        return dict(step=p_sample, args=lambda k: (torch.randn(2, 4) * 2, T - 1 - k), modules=[net])

    check(setup, request=request)


def test_learned_noise_schedule_cumprod_backward_and_learned_null_label(request):
    """A learnable schedule (cumprod of 1 - sigmoid(logits)) gets gradients through gather, and a
    learned null-label embedding chosen by torch.where(torch.rand(B) < p) for CFG; p is a Python
    float changing between calls."""
    def setup():
        T, K = 6, 3
        logits = nn.Parameter(torch.linspace(-4, -1, T))
        null = nn.Parameter(torch.zeros(4))
        emb = nn.Embedding(K, 4)
        net = nn.Sequential(nn.Linear(8, 12), nn.SiLU(), nn.Linear(12, 4))
        holder = nn.ParameterList([logits, null])
        opt = torch.optim.Adam(list(net.parameters()) + list(emb.parameters()) + [logits, null], lr=1e-2)

        def step(x0, y, p):
            B = x0.shape[0]
            ab = torch.cumprod(1 - torch.sigmoid(logits), 0)
            t = torch.randint(0, T, (B,))
            drop = torch.rand(B) < p
            c = torch.where(drop[:, None], null.expand(B, -1), emb(y))
            noise = torch.randn_like(x0)
            x_t = extract(ab.sqrt(), t, x0.shape) * x0 + extract((1 - ab).sqrt(), t, x0.shape) * noise
            loss = F.mse_loss(net(torch.cat([x_t, c], 1)), noise)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, drop, logits.grad

        return dict(step=step, args=lambda i: (torch.randn(5, 4), torch.randint(0, K, (5,)), [0.5, 0.5, 0.9, 0.1, 0.5][i]),
                    modules=[net, emb, holder], opts=[opt])

    check(setup, request=request)


def test_flow_with_learned_mvn_base_scale_tril(request):
    """A one-coupling flow whose base is MultivariateNormal(loc, scale_tril=tril(L)) with learned
    loc and L: NLL training plus rsample from the base through the inverse."""
    def setup():
        layer = Coupling(2, torch.tensor([1.0, 0.0]))
        loc = nn.Parameter(torch.zeros(2))
        L = nn.Parameter(torch.eye(2))
        holder = nn.ParameterList([loc, L])
        opt = torch.optim.Adam(list(layer.parameters()) + [loc, L], lr=1e-2)

        def step(x):
            base = D.MultivariateNormal(loc, scale_tril=torch.tril(L))
            z, ld = layer(x)
            loss = -(base.log_prob(z) + ld).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                s = layer.inverse(base.rsample((3,)))
            return loss, s

        return dict(step=step, args=lambda i: (torch.randn(6, 2) * torch.tensor([1.0, 0.5]) + i,),
                    modules=[layer, holder], opts=[opt])

    check(setup, request=request)
